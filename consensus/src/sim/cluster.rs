//! The simulated cluster. Each step is one tick of simulated time: inject
//! faults, restart nodes whose downtime ended, deliver the messages due,
//! tick every node, let the clients propose / retry / read, change
//! membership, process every node's Ready, then check the invariants. After
//! the safety phase the liveness phase heals everything and requires
//! convergence and progress within a bounded number of ticks.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use store::{KeyValue, KvStore, MemStore, StoreError, WriteBatch};

use crate::{
    add_learner, joint, promote_voter, remove_node, Config, LogIndex, Node, NodeId, Outbound,
    PeerMessage, ProposalOutcome, ReadOutcome, RequestId, Role, StateMachine, UnknownReason,
};

/// SplitMix64: the simulation's only source of choices.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`; `salt` keeps two simulations' streams apart.
    pub fn new(seed: u64, salt: u64) -> Self {
        Rng(seed ^ salt)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (0 if `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
    /// A number in `lo..=hi_inclusive`.
    pub fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        lo + self.below(hi_inclusive - lo + 1)
    }
    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// A [`MemStore`] whose next flush can be made to fail: the node hits a
/// fatal store error after writing but before the write is durable, which
/// the simulation turns into a crash (the unflushed batch may be lost).
#[derive(Debug, Default)]
pub struct SimStore {
    mem: MemStore,
    fail_next_flush: AtomicBool,
}

impl SimStore {
    /// The store underneath (to compare stored key spaces).
    pub fn mem(&self) -> &MemStore {
        &self.mem
    }
}

impl KvStore for SimStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.mem.get(key)
    }
    fn scan(
        &self,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        self.mem.scan(start, end, reverse, limit)
    }
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.mem.apply(batch)
    }
    fn flush(&self) -> Result<(), StoreError> {
        if self.fail_next_flush.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Io(std::io::Error::other("injected flush failure")));
        }
        self.mem.flush()
    }
    fn approximate_size_bytes(&self) -> Result<u64, StoreError> {
        self.mem.approximate_size_bytes()
    }
}

/// What one seed simulates (drawn by [`Workload::params`]). Rates are per
/// mille per step (faults, clients) or per message (network).
#[derive(Debug, Clone)]
pub struct Params {
    /// Founding voters.
    pub initial_voters: usize,
    /// Nodes started later, as learners (membership changes only).
    pub spares: usize,
    /// Whether the leader's membership changes (add learner, promote,
    /// remove, joint promote + remove) run.
    pub membership: bool,
    /// Messages dropped.
    pub drop_pm: u64,
    /// Messages delivered twice.
    pub dup_pm: u64,
    /// A message arrives 1..=`delay_max` ticks after it was sent.
    pub delay_max: u64,
    /// A random node crashes.
    pub crash_pm: u64,
    /// A crashed node is down 3..=`down_max` ticks.
    pub down_max: u64,
    /// A random node's next flush fails.
    pub flush_fail_pm: u64,
    /// The network is split in two random sides (or healed).
    pub partition_pm: u64,
    /// A node misses a tick.
    pub tick_skip_pm: u64,
    /// `Config::checkpoint_interval_entries`.
    pub checkpoint_interval: u64,
    /// A client proposes a new request.
    pub client_pm: u64,
    /// An unknown outcome or a refused proposal is retried later.
    pub retry_pm: u64,
    /// A client issues a ReadIndex read.
    pub read_pm: u64,
    /// The leader starts a membership change.
    pub membership_pm: u64,
    /// Steps of the safety phase.
    pub safety_steps: u64,
    /// Calm ticks the liveness phase allows to converge: one leader, every
    /// member caught up, every [`Workload::unresolved`] request answered.
    pub converge_ticks_max: u64,
}

/// The outcome of one run (or, added up, of many).
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// A digest of every node's state after every step (replay check).
    pub trace: u64,
    /// `Applied` answers.
    pub acked: u64,
    /// Crashes (injected, or after a fatal store error).
    pub crashes: u64,
    /// Checkpoints taken.
    pub checkpoints: u64,
    /// Checkpoints sent to a follower.
    pub checkpoint_sends: u64,
    /// Membership changes applied.
    pub membership_changes: u64,
    /// ReadIndex reads answered `Ready`.
    pub reads_ready: u64,
    /// `OutcomeUnknown` answers.
    pub unknown_outcomes: u64,
    /// The workload's own counters ([`Workload::counters`]).
    pub counters: Vec<(&'static str, u64)>,
}

impl Report {
    /// Adds `other`'s counts to these (not the trace).
    pub fn add(&mut self, other: &Report) {
        self.acked += other.acked;
        self.crashes += other.crashes;
        self.checkpoints += other.checkpoints;
        self.checkpoint_sends += other.checkpoint_sends;
        self.membership_changes += other.membership_changes;
        self.reads_ready += other.reads_ready;
        self.unknown_outcomes += other.unknown_outcomes;
        for (name, n) in &other.counters {
            match self.counters.iter_mut().find(|(k, _)| k == name) {
                Some((_, v)) => *v += n,
                None => self.counters.push((name, *n)),
            }
        }
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} acked, {} crashes, {} checkpoints, {} checkpoint sends, {} membership changes, {} reads, {} unknown outcomes",
            self.acked,
            self.crashes,
            self.checkpoints,
            self.checkpoint_sends,
            self.membership_changes,
            self.reads_ready,
            self.unknown_outcomes
        )?;
        for (name, n) in &self.counters {
            write!(f, ", {n} {name}")?;
        }
        Ok(())
    }
}

/// What a simulation replicates and what it checks beyond Raft's own
/// invariants. Every hook that returns `Err` fails the run with that text.
/// Client `i` is the client of node `i` (node id `i + 1`).
pub trait Workload {
    /// The replicated state machine.
    type Machine: StateMachine;
    /// What an acknowledged request left in the state: looked for in every
    /// node that applies past its index.
    type Ack: Clone + PartialEq + std::fmt::Debug;
    /// What a ReadIndex read must see, noted when the read is issued.
    type ReadMark;

    /// Names the simulation in failure messages.
    const NAME: &'static str;
    /// Salt of the seed's [`Rng`].
    const RNG_SALT: u64;

    /// Draws the seed's parameters (the first draws of the seed's `Rng`).
    fn params(&mut self, rng: &mut Rng) -> Params;
    /// A founding member's initial state machine over its store;
    /// byte-identical on every founding member.
    fn founding(&mut self, store: Arc<dyn KvStore>) -> Result<Self::Machine, String>;
    /// The state machine a (re)started node opens over its store;
    /// `Node::open` then restores it from the last checkpoint.
    fn reopen(&mut self, store: Arc<dyn KvStore>) -> Result<Self::Machine, String>;
    /// Whether client `client`, which used `next_seq` request ids, may send a
    /// new request.
    fn may_propose(&self, client: usize, next_seq: u64) -> bool {
        let _ = (client, next_seq);
        true
    }
    /// The payload of a new request `id` of client `client` at tick `t`.
    fn payload(&mut self, rng: &mut Rng, t: u64, client: usize, id: RequestId) -> Vec<u8>;
    /// Node `client` answered `Applied { index, result }` to its request
    /// `id`; `sm` is that node's state machine. `Some(ack)`: an effect to
    /// look for in every state that applied past `index`.
    fn applied(
        &mut self,
        client: usize,
        id: RequestId,
        index: LogIndex,
        payload: &[u8],
        result: &[u8],
        sm: &Self::Machine,
    ) -> Result<Option<Self::Ack>, String>;
    /// Request `id` got `OutcomeUnknown(why)`.
    fn unknown(&mut self, id: RequestId, why: UnknownReason) -> Result<(), String> {
        let _ = (id, why);
        Ok(())
    }
    /// Whether `ack` (acknowledged at `index`) is in `sm`.
    fn present(&self, sm: &Self::Machine, index: u64, ack: &Self::Ack) -> Result<bool, String>;
    /// Checks a node's state machine whenever its applied index moved.
    fn check_state(&self, sm: &Self::Machine, applied: u64) -> Result<(), String> {
        let _ = (sm, applied);
        Ok(())
    }
    /// Noted when a ReadIndex read is issued.
    fn read_mark(&self) -> Self::ReadMark;
    /// A read issued with `mark` was answered `Ready` by a node whose state
    /// machine is `sm`.
    fn check_read(&self, sm: &Self::Machine, mark: &Self::ReadMark) -> Result<(), String> {
        let _ = (sm, mark);
        Ok(())
    }
    /// Requests the liveness phase proposes again, with their ids, until
    /// answered: (client, id, payload).
    fn unresolved(&self) -> Vec<(usize, RequestId, Vec<u8>)> {
        Vec::new()
    }
    /// The last check, once every member applied the same log to the same
    /// state: each member's store and node.
    fn check_end(&self, members: &[(&SimStore, &Node<Self::Machine>)]) -> Result<(), String> {
        let _ = members;
        Ok(())
    }
    /// Counters added to the [`Report`].
    fn counters(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

struct SimNode<S: StateMachine> {
    id: NodeId,
    store: Arc<SimStore>,
    node: Option<Node<S>>,
    down_until: Option<u64>,
    /// Never restarted again (removed from the cluster).
    stopped: bool,
    /// Acknowledgements were checked up to this applied index.
    acks_checked: u64,
    digest_at: Option<u64>,
}

#[derive(Default)]
struct Client {
    next_seq: u64,
    pending: BTreeMap<RequestId, Vec<u8>>,
    retry: Vec<(RequestId, Vec<u8>)>,
}

struct Packet {
    from: usize,
    to: usize,
    bytes: Vec<u8>,
    checkpoint: bool,
}

/// One seed's simulated cluster running `W`'s state machine.
pub struct Sim<W: Workload> {
    seed: u64,
    p: Params,
    rng: Rng,
    w: W,
    t: u64,
    calm: bool,
    nodes: Vec<SimNode<W::Machine>>,
    net: BTreeMap<(u64, u64), Packet>,
    net_seq: u64,
    partition: Option<Vec<u8>>,
    clients: Vec<Client>,
    /// Acknowledged requests' effects by log index.
    acks: BTreeMap<u64, W::Ack>,
    /// Highest index of an `Applied` answer.
    max_ack: u64,
    /// Request ids answered `Applied`.
    acked_ids: BTreeSet<RequestId>,
    digests: BTreeMap<u64, u64>,
    leaders: BTreeMap<u64, NodeId>,
    reads: BTreeMap<Vec<u8>, (usize, u64, W::ReadMark)>,
    read_seq: u64,
    spares: Vec<usize>,
    member_op: Option<(usize, RequestId)>,
    report: Report,
}

fn idx(id: NodeId) -> usize {
    (id.0 - 1) as usize
}

impl<W: Workload> Sim<W> {
    /// The cluster of `seed`: parameters drawn, founding members
    /// bootstrapped and started.
    pub fn new(seed: u64, mut w: W) -> Self {
        let mut rng = Rng::new(seed, W::RNG_SALT);
        let p = w.params(&mut rng);
        let total = p.initial_voters + p.spares;
        let voters: Vec<NodeId> = (1..=p.initial_voters as u64).map(NodeId).collect();
        let mut sim = Sim {
            seed,
            rng,
            w,
            t: 0,
            calm: false,
            nodes: Vec::new(),
            net: BTreeMap::new(),
            net_seq: 0,
            partition: None,
            clients: (0..total).map(|_| Client::default()).collect(),
            acks: BTreeMap::new(),
            max_ack: 0,
            acked_ids: BTreeSet::new(),
            digests: BTreeMap::new(),
            leaders: BTreeMap::new(),
            reads: BTreeMap::new(),
            read_seq: 0,
            spares: (p.initial_voters..total).collect(),
            member_op: None,
            report: Report::default(),
            p,
        };
        for i in 0..total {
            let store = Arc::new(SimStore::default());
            if i < sim.p.initial_voters {
                let s: Arc<dyn KvStore> = store.clone();
                let initial = match sim.w.founding(s.clone()) {
                    Ok(sm) => sm,
                    Err(e) => sim.fail(&format!("founding state: {e}")),
                };
                if let Err(e) = Node::bootstrap(s, b"raft/", &voters, initial) {
                    sim.fail(&format!("bootstrap: {e}"));
                }
            }
            sim.nodes.push(SimNode {
                id: NodeId(i as u64 + 1),
                store,
                node: None,
                down_until: None,
                stopped: false,
                acks_checked: 0,
                digest_at: None,
            });
            if i < sim.p.initial_voters {
                sim.start(i);
            }
        }
        sim
    }

    /// Runs the safety phase, then the liveness phase; panics with the
    /// seed, the parameters and every node's status on a violation.
    pub fn run(self) -> Report {
        self.run_with_workload().0
    }

    /// [`Sim::run`], also handing back the workload.
    pub fn run_with_workload(mut self) -> (Report, W) {
        for _ in 0..self.p.safety_steps {
            self.step(true, true);
        }
        self.liveness();
        self.report.counters = self.w.counters();
        (self.report, self.w)
    }

    fn fail(&self, msg: &str) -> ! {
        let mut s = String::new();
        let _ = writeln!(s, "{} invariant violated at tick {}: {msg}", W::NAME, self.t);
        let _ = writeln!(s, "params: {:?}", self.p);
        for n in &self.nodes {
            match &n.node {
                Some(node) => {
                    let _ = writeln!(s, "  {:?}", node.status());
                }
                None => {
                    let _ = writeln!(s, "  {} down (stopped: {})", n.id, n.stopped);
                }
            }
        }
        panic!("{s}seed {}", self.seed);
    }

    fn config(&self, i: usize) -> Config {
        let mut c = Config::new(self.nodes[i].id);
        c.election_tick = 10;
        c.heartbeat_tick = 2;
        c.checkpoint_interval_entries = self.p.checkpoint_interval;
        c.proposal_timeout_ticks = 80;
        c.forward_retry_ticks = 8;
        c.read_timeout_ticks = 40;
        c.checkpoint_send_timeout_ticks = 30;
        c.rng_seed = self.seed.wrapping_mul(31).wrapping_add(i as u64);
        c
    }

    /// Opens node `i` from its store, as a restarted process would.
    fn start(&mut self, i: usize) {
        let store: Arc<dyn KvStore> = self.nodes[i].store.clone();
        let sm = match self.w.reopen(store.clone()) {
            Ok(sm) => sm,
            Err(e) => self.fail(&format!("node {} state machine failed to open: {e}", i + 1)),
        };
        match Node::open(self.config(i), store, sm) {
            Ok(n) => {
                let sn = &mut self.nodes[i];
                sn.node = Some(n);
                sn.down_until = None;
                sn.acks_checked = 0;
                sn.digest_at = None;
            }
            Err(e) => self.fail(&format!("node {} failed to open: {e}", i + 1)),
        }
    }

    /// The node loses its process: unflushed writes may be lost (some of
    /// the oldest may have reached the disk anyway).
    fn crash(&mut self, i: usize) {
        let sn = &mut self.nodes[i];
        if sn.node.take().is_none() {
            return;
        }
        let unflushed = sn.store.mem.unflushed_batches() as u64;
        let keep = self.rng.below(unflushed + 1) as usize;
        sn.store.mem.crash_keeping(keep);
        sn.store.fail_next_flush.store(false, Ordering::SeqCst);
        let down = self.rng.range(3, self.p.down_max);
        self.nodes[i].down_until = Some(self.t + down);
        self.report.crashes += 1;
        let lost: Vec<_> = std::mem::take(&mut self.clients[i].pending).into_iter().collect();
        for (id, payload) in lost {
            if self.rng.chance(self.p.retry_pm) {
                self.clients[i].retry.push((id, payload));
            }
        }
        self.reads.retain(|_, (n, _, _)| *n != i);
        if matches!(self.member_op, Some((n, _)) if n == i) {
            self.member_op = None;
        }
    }

    fn up(&self, i: usize) -> bool {
        self.nodes[i].node.is_some()
    }

    fn partitioned(&self, a: usize, b: usize) -> bool {
        self.partition.as_ref().is_some_and(|sides| sides[a] != sides[b])
    }

    fn inject_faults(&mut self) {
        let n = self.nodes.len();
        if self.rng.chance(self.p.crash_pm) {
            let i = self.rng.below(n as u64) as usize;
            self.crash(i);
        }
        if self.rng.chance(self.p.flush_fail_pm) {
            let i = self.rng.below(n as u64) as usize;
            if self.up(i) {
                self.nodes[i].store.fail_next_flush.store(true, Ordering::SeqCst);
            }
        }
        if self.rng.chance(self.p.partition_pm) {
            if self.partition.is_some() && self.rng.chance(600) {
                self.partition = None;
            } else {
                let sides = (0..n).map(|_| self.rng.below(2) as u8).collect();
                self.partition = Some(sides);
            }
        }
    }

    fn restart_due(&mut self) {
        for i in 0..self.nodes.len() {
            let sn = &self.nodes[i];
            if !sn.stopped && sn.node.is_none() && sn.down_until.is_some_and(|t| t <= self.t) {
                self.start(i);
            }
        }
    }

    fn send(&mut self, from: usize, ob: Outbound) {
        let to = idx(ob.to);
        if to >= self.nodes.len() || to == from {
            self.fail(&format!("message from {} to unknown {}", from + 1, ob.to));
        }
        let checkpoint = ob.message.is_checkpoint();
        if checkpoint {
            self.report.checkpoint_sends += 1;
        }
        let bytes = ob.message.encode();
        if !self.calm && self.rng.chance(self.p.drop_pm) {
            return;
        }
        let copies = if !self.calm && self.rng.chance(self.p.dup_pm) { 2 } else { 1 };
        for _ in 0..copies {
            let delay = if self.calm { 1 } else { self.rng.range(1, self.p.delay_max) };
            self.net_seq += 1;
            let pkt = Packet { from, to, bytes: bytes.clone(), checkpoint };
            self.net.insert((self.t + delay, self.net_seq), pkt);
        }
    }

    fn deliver(&mut self) {
        while let Some(entry) = self.net.first_entry() {
            if entry.key().0 > self.t {
                break;
            }
            let pkt = entry.remove();
            let reachable = self.up(pkt.to) && !self.partitioned(pkt.from, pkt.to);
            if !reachable {
                if let Some(sender) = self.nodes[pkt.from].node.as_mut() {
                    let to = NodeId(pkt.to as u64 + 1);
                    if pkt.checkpoint {
                        sender.report_checkpoint_sent(to, false);
                    } else if self.rng.chance(100) {
                        sender.report_unreachable(to);
                    }
                }
                continue;
            }
            let msg = match PeerMessage::decode(&pkt.bytes) {
                Ok(m) => m,
                Err(e) => self.fail(&format!("undecodable message: {e}")),
            };
            let from_id = NodeId(pkt.from as u64 + 1);
            let res = self.nodes[pkt.to].node.as_mut().map(|n| n.step(from_id, msg));
            if let Some(Err(_)) = res {
                self.crash(pkt.to);
            }
            if pkt.checkpoint {
                if let Some(sender) = self.nodes[pkt.from].node.as_mut() {
                    sender.report_checkpoint_sent(NodeId(pkt.to as u64 + 1), true);
                }
            }
        }
    }

    fn new_request(&mut self, i: usize) -> (RequestId, Vec<u8>) {
        self.clients[i].next_seq += 1;
        let id = RequestId { node: NodeId(i as u64 + 1), seq: self.clients[i].next_seq };
        let payload = self.w.payload(&mut self.rng, self.t, i, id);
        (id, payload)
    }

    fn client_actions(&mut self, new_requests: bool) {
        for i in 0..self.nodes.len() {
            if !self.up(i) {
                continue;
            }
            if new_requests && !self.clients[i].retry.is_empty() && self.rng.chance(200) {
                let (id, payload) = self.clients[i].retry.remove(0);
                self.propose(i, id, payload);
            }
            if new_requests
                && self.clients[i].pending.len() < 4
                && self.w.may_propose(i, self.clients[i].next_seq)
                && self.rng.chance(self.p.client_pm)
            {
                let (id, payload) = self.new_request(i);
                self.propose(i, id, payload);
            }
            if new_requests && self.rng.chance(self.p.read_pm) {
                self.read_seq += 1;
                let ctx = self.read_seq.to_le_bytes().to_vec();
                let min = self.max_ack;
                if let Some(n) = self.nodes[i].node.as_mut() {
                    if n.read_index(ctx.clone()).is_ok() {
                        self.reads.insert(ctx, (i, min, self.w.read_mark()));
                    }
                }
            }
        }
    }

    fn propose(&mut self, i: usize, id: RequestId, payload: Vec<u8>) {
        let Some(n) = self.nodes[i].node.as_mut() else { return };
        match n.propose(id, payload.clone()) {
            Ok(()) => {
                self.clients[i].pending.insert(id, payload);
            }
            Err(_) => {
                if self.rng.chance(self.p.retry_pm) {
                    self.clients[i].retry.push((id, payload));
                }
            }
        }
    }

    fn leader(&self) -> Option<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].node.as_ref().is_some_and(|n| n.role() == Role::Leader))
            .max_by_key(|i| self.nodes[*i].node.as_ref().map(|n| n.term()))
    }

    fn membership_actions(&mut self) {
        if !self.p.membership || self.member_op.is_some() || !self.rng.chance(self.p.membership_pm)
        {
            return;
        }
        let Some(l) = self.leader() else { return };
        let Some(st) = self.nodes[l].node.as_ref().map(|n| n.status()) else { return };
        let mut started = None;
        let cc = if let Some(learner) = st.learners.first().copied() {
            if st.voters.len() >= 3 && self.rng.chance(300) {
                let victim = st.voters[self.rng.below(st.voters.len() as u64) as usize];
                joint(&[promote_voter(learner), remove_node(victim)])
            } else {
                promote_voter(learner)
            }
        } else if !self.spares.is_empty() && st.voters.len() < 5 {
            let s = self.spares.remove(0);
            if self.nodes[s].node.is_none() {
                self.start(s);
            }
            started = Some(s);
            add_learner(self.nodes[s].id)
        } else if st.voters.len() > 3 {
            let victim = st.voters[self.rng.below(st.voters.len() as u64) as usize];
            remove_node(victim)
        } else {
            return;
        };
        self.clients[l].next_seq += 1;
        let id = RequestId { node: NodeId(l as u64 + 1), seq: self.clients[l].next_seq };
        let res = self.nodes[l].node.as_mut().map(|n| n.propose_conf_change(id, cc));
        match res {
            Some(Ok(())) => self.member_op = Some((l, id)),
            _ => {
                if let Some(s) = started {
                    self.spares.insert(0, s);
                }
            }
        }
    }

    fn process_all(&mut self) {
        for i in 0..self.nodes.len() {
            let Some(n) = self.nodes[i].node.as_mut() else { continue };
            let out = match n.process_ready() {
                Ok(out) => out,
                Err(_) => {
                    // A fatal error (an injected flush failure): the process
                    // dies before sending anything of this Ready.
                    self.crash(i);
                    continue;
                }
            };
            if out.checkpoint_due {
                match self.nodes[i].node.as_mut().map(|n| n.take_checkpoint()) {
                    Some(Ok(Some(_))) => self.report.checkpoints += 1,
                    Some(Ok(None)) | None => {}
                    Some(Err(_)) => {
                        self.crash(i);
                        continue;
                    }
                }
            }
            for ob in out.messages {
                self.send(i, ob);
            }
            for (id, outcome) in out.proposals {
                self.on_outcome(i, id, outcome);
            }
            for (ctx, outcome) in out.reads {
                self.on_read(i, ctx, outcome);
            }
            if self.nodes[i].node.as_ref().is_some_and(|n| n.is_removed()) {
                self.nodes[i].node = None;
                self.nodes[i].stopped = true;
                self.clients[i].pending.clear();
                self.clients[i].retry.clear();
                self.reads.retain(|_, (n, _, _)| *n != i);
            }
        }
    }

    fn on_outcome(&mut self, i: usize, id: RequestId, outcome: ProposalOutcome) {
        if self.member_op.is_some_and(|(n, m)| n == i && m == id) {
            self.member_op = None;
            if matches!(outcome, ProposalOutcome::Applied { .. }) {
                self.report.membership_changes += 1;
            }
            return;
        }
        let Some(payload) = self.clients[i].pending.remove(&id) else {
            self.fail(&format!("node {} answered {id}, which it was not asked", i + 1));
        };
        match outcome {
            ProposalOutcome::Applied { index, result } => {
                let Some(n) = self.nodes[i].node.as_ref() else {
                    self.fail(&format!("node {} answered {id} while down", i + 1));
                };
                let ack = match self.w.applied(i, id, index, &payload, &result, n.state_machine()) {
                    Ok(ack) => ack,
                    Err(e) => self.fail(&format!("{id} acknowledged at {index}: {e}")),
                };
                if let Some(ack) = ack {
                    if let Some(prev) = self.acks.insert(index.0, ack.clone()) {
                        if prev != ack {
                            self.fail(&format!(
                                "two acknowledged requests at {index}: {prev:?} and {ack:?}"
                            ));
                        }
                    }
                }
                self.acked_ids.insert(id);
                self.max_ack = self.max_ack.max(index.0);
                self.report.acked += 1;
            }
            ProposalOutcome::OutcomeUnknown(why) => {
                self.report.unknown_outcomes += 1;
                if let Err(e) = self.w.unknown(id, why) {
                    self.fail(&format!("{id}: {e}"));
                }
                if self.rng.chance(self.p.retry_pm) {
                    self.clients[i].retry.push((id, payload));
                }
            }
            ProposalOutcome::Rejected(why) => {
                self.fail(&format!("{id} rejected: {why}"));
            }
        }
    }

    fn on_read(&mut self, i: usize, ctx: Vec<u8>, outcome: ReadOutcome) {
        let Some((n, min, mark)) = self.reads.remove(&ctx) else {
            self.fail("answer to a read nobody asked");
        };
        if n != i {
            self.fail("read answered by another node");
        }
        if let ReadOutcome::Ready { index } = outcome {
            let Some(node) = self.nodes[i].node.as_ref() else {
                self.fail(&format!("node {} answered a read while down", i + 1));
            };
            let applied = node.applied().0;
            if index.0 < min || applied < index.0 {
                self.fail(&format!(
                    "ReadIndex {index} on node {} (applied {applied}) misses acknowledged index {min}",
                    i + 1
                ));
            }
            if let Err(e) = self.w.check_read(node.state_machine(), &mark) {
                self.fail(&format!("ReadIndex {index} on node {}: {e}", i + 1));
            }
            self.report.reads_ready += 1;
        }
    }

    fn check(&mut self) {
        let mut trace = self.report.trace;
        for i in 0..self.nodes.len() {
            let Some(n) = self.nodes[i].node.as_ref() else {
                trace = trace.rotate_left(5) ^ 0xdead;
                continue;
            };
            let (term, role, applied) = (n.term(), n.role(), n.applied().0);
            trace = (trace.rotate_left(7) ^ term ^ (applied << 20) ^ (role as u64) << 60)
                .wrapping_mul(0x100_0000_01b3);
            // Election safety (Raft §5.2).
            if role == Role::Leader {
                let first = *self.leaders.entry(term).or_insert(n.id());
                if first != n.id() {
                    self.fail(&format!("two leaders in term {term}: {first} and {}", n.id()));
                }
            }
            if self.nodes[i].digest_at == Some(applied) {
                continue;
            }
            let sm = n.state_machine();
            if let Err(e) = self.w.check_state(sm, applied) {
                self.fail(&format!("node {} (applied {applied}): {e}", i + 1));
            }
            // State machine safety (Raft §5.4.3): same applied index, same state.
            let d = n.state_digest();
            trace ^= d;
            let known = *self.digests.entry(applied).or_insert(d);
            if known != d {
                self.fail(&format!("node {} diverged at applied index {applied}", i + 1));
            }
            // Acknowledged requests are in every state that applied past them.
            let from = self.nodes[i].acks_checked;
            if applied < from {
                self.fail(&format!(
                    "node {} applied index went back to {applied} from {from}",
                    i + 1
                ));
            }
            let due = if applied > from {
                self.acks.range(from + 1..=applied)
            } else {
                self.acks.range(0..0)
            };
            for (at, ack) in due {
                match self.w.present(sm, *at, ack) {
                    Ok(true) => {}
                    Ok(false) => self.fail(&format!(
                        "acknowledged entry {at} missing on node {} (applied {applied})",
                        i + 1
                    )),
                    Err(e) => self.fail(&format!("node {} (applied {applied}): {e}", i + 1)),
                }
            }
            self.nodes[i].digest_at = Some(applied);
            self.nodes[i].acks_checked = applied;
        }
        self.report.trace = trace;
        self.check_log_matching();
    }

    /// Log matching (Raft §5.3): entries with the same index and term are
    /// the same entry, and so are all entries before them.
    fn check_log_matching(&self) {
        let up: Vec<&Node<W::Machine>> =
            self.nodes.iter().filter_map(|n| n.node.as_ref()).collect();
        for a in 0..up.len() {
            for b in a + 1..up.len() {
                let (fa, la) = up[a].log_bounds();
                let (fb, lb) = up[b].log_bounds();
                let lo = fa.0.max(fb.0);
                let hi = la.0.min(lb.0);
                let mut matched = false;
                let mut i = hi;
                while i >= lo && i > 0 {
                    let x = up[a].log_fingerprint(LogIndex(i));
                    let y = up[b].log_fingerprint(LogIndex(i));
                    let (Some(x), Some(y)) = (x, y) else {
                        self.fail(&format!("stored log has a hole at {i}"));
                    };
                    if x.0 == y.0 {
                        matched = true;
                    }
                    if matched && x != y {
                        self.fail(&format!(
                            "logs of {} and {} differ at {i} below a matching entry",
                            up[a].id(),
                            up[b].id()
                        ));
                    }
                    i -= 1;
                }
            }
        }
    }

    fn step(&mut self, faults: bool, new_requests: bool) {
        self.t += 1;
        if faults {
            self.inject_faults();
        }
        self.restart_due();
        self.deliver();
        for i in 0..self.nodes.len() {
            let skip = faults && self.rng.chance(self.p.tick_skip_pm);
            if let Some(n) = self.nodes[i].node.as_mut() {
                if !skip {
                    n.tick();
                }
            }
        }
        self.client_actions(new_requests);
        if faults {
            self.membership_actions();
        }
        self.process_all();
        self.check();
    }

    /// Members of the current configuration, per the leader.
    fn members(&self, l: usize) -> BTreeSet<usize> {
        let st = self.nodes[l].node.as_ref().map(|n| n.status());
        st.map(|s| s.voters.iter().chain(&s.learners).map(|id| idx(*id)).collect())
            .unwrap_or_default()
    }

    /// True when there is one leader, every member is up, follows it, and
    /// has applied everything in its log.
    fn converged(&self) -> Option<usize> {
        let l = self.leader()?;
        let leader = self.nodes[l].node.as_ref()?;
        let (_, last) = leader.log_bounds();
        if leader.status().joint {
            return None;
        }
        for m in self.members(l) {
            let n = self.nodes.get(m)?.node.as_ref()?;
            let st = n.status();
            if st.leader != Some(leader.id()) || st.term != leader.term() {
                return None;
            }
            if n.applied() != last || n.log_bounds().1 != last {
                return None;
            }
        }
        Some(l)
    }

    fn liveness(&mut self) {
        self.calm = true;
        self.partition = None;
        for i in 0..self.nodes.len() {
            if !self.nodes[i].stopped && self.nodes[i].node.is_none() {
                self.nodes[i].down_until = Some(self.t);
            }
        }
        const COMMIT_TICKS_MAX: u64 = 120;
        // Converge: one leader, all members caught up. The workload's
        // unresolved requests are proposed again with their ids until
        // answered: applied once, either earlier (the dedup table answers)
        // or now.
        let start = self.t;
        let l = loop {
            if self.t - start > self.p.converge_ticks_max {
                self.fail(&format!(
                    "no convergence within {} calm ticks ({} requests unresolved)",
                    self.p.converge_ticks_max,
                    self.w.unresolved().len()
                ));
            }
            for (i, id, payload) in self.w.unresolved() {
                if !self.clients[i].pending.contains_key(&id) {
                    let ok = self.nodes[i]
                        .node
                        .as_mut()
                        .is_some_and(|n| n.propose(id, payload.clone()).is_ok());
                    if ok {
                        self.clients[i].pending.insert(id, payload);
                    }
                }
            }
            self.step(false, false);
            self.clients.iter_mut().for_each(|c| c.retry.clear());
            if self.w.unresolved().is_empty() {
                if let Some(l) = self.converged() {
                    break l;
                }
            }
        };
        // Nodes outside the configuration play no part any more.
        let members = self.members(l);
        for i in 0..self.nodes.len() {
            if !members.contains(&i) && self.nodes[i].node.is_some() {
                self.nodes[i].node = None;
                self.nodes[i].stopped = true;
                self.clients[i].pending.clear();
            }
        }
        // Progress: a new request at every member commits, everywhere.
        let mut waiting = BTreeMap::new();
        for &m in &members {
            self.clients[m].retry.clear();
            let (id, payload) = self.new_request(m);
            waiting.insert(id, (m, payload));
        }
        let start = self.t;
        let mut issued = BTreeSet::new();
        loop {
            if self.t - start > COMMIT_TICKS_MAX {
                self.fail(&format!(
                    "{} of {} liveness proposals not applied within {COMMIT_TICKS_MAX} calm ticks",
                    waiting.keys().filter(|id| !self.acked_ids.contains(id)).count(),
                    waiting.len()
                ));
            }
            for (id, (m, payload)) in &waiting {
                let pending = self.clients[*m].pending.contains_key(id);
                if !pending && !issued.contains(id) {
                    let ok = self.nodes[*m]
                        .node
                        .as_mut()
                        .is_some_and(|n| n.propose(*id, payload.clone()).is_ok());
                    if ok {
                        self.clients[*m].pending.insert(*id, payload.clone());
                        issued.insert(*id);
                    }
                }
            }
            self.step(false, false);
            // Unknown outcomes (a leader change) are proposed again.
            for (id, (m, _)) in &waiting {
                if !self.clients[*m].pending.contains_key(id) && !self.acked_ids.contains(id) {
                    issued.remove(id);
                }
            }
            self.clients.iter_mut().for_each(|c| c.retry.clear());
            if waiting.keys().all(|id| self.acked_ids.contains(id)) && self.converged().is_some() {
                break;
            }
        }
        // Every member applied the same log to the same state.
        let up: Vec<(&SimStore, &Node<W::Machine>)> = members
            .iter()
            .filter_map(|m| self.nodes[*m].node.as_ref().map(|n| (&*self.nodes[*m].store, n)))
            .collect();
        let digests: BTreeSet<(u64, u64)> =
            up.iter().map(|(_, n)| (n.applied().0, n.state_digest())).collect();
        if digests.len() != 1 {
            self.fail(&format!("members did not converge: {digests:?}"));
        }
        if let Err(e) = self.w.check_end(&up) {
            self.fail(&e);
        }
    }
}
