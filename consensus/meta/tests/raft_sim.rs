//! A deterministic simulation of a three-node Raft group whose state
//! machine is [`ReplicatedMeta`] (STYLE.md "Testing": TigerBeetle's VOPR).
//!
//! It runs on the consensus crate's simulated cluster (`consensus::sim`,
//! the `sim` feature): one `u64` seed draws the faults and every choice; a
//! `MemStore` per node holds both the Raft log and the metadata and loses
//! unflushed batches on a crash; the network drops, duplicates, delays and
//! reorders messages and partitions the nodes; flushes fail; checkpoints are
//! frequent, so followers install them (`restore`) and restarts restore
//! from them. The cluster checks, after every step, one leader per term,
//! log matching, the same digest (the dedup table and [`ReplicatedMeta`]'s
//! xxh3 over its key space; Raft §5.4.3) at the same applied index, and
//! that a ReadIndex read's node applied past every acknowledged index.
//!
//! This workload: clients propose two kinds of commands: namespace changes
//! over a work directory (creates, renames, removes, links, attributes,
//! extended attributes, inline writes), and *tracked* commands:
//! `AfterWrite` with `writes = 1` on a per-client counter file, which adds
//! exactly 1 to the file's `change` each time it is applied, so
//! applications can be counted. Checked on top:
//! - every answer decodes; a tracked command's answer names a `change`
//!   value no other request got (no application is shared);
//! - an acknowledged tracked command is in the state of every node that
//!   applied past its index;
//! - a ReadIndex read sees every tracked command acknowledged before it;
//! - the store's recorded applied index never passes the node's.
//!
//! Then the liveness phase heals everything, proposes every tracked
//! command whose outcome is unknown again with the same request id, and
//! requires: one leader, all nodes applied to the same index with the same
//! digest and the same key space, a new command at every node applied, and
//! each counter's `change` equal to 1 + the number of distinct tracked
//! requests, with values 2..=change handed out exactly once: every
//! acknowledged command applied exactly once.
//!
//! `CAIRN_META_SIM_SEEDS=<n>` runs seeds `0..n` (default [`DEFAULT_SEEDS`];
//! `CAIRN_META_SIM_FIRST_SEED=<k>` starts at `k`);
//! `CAIRN_META_SIM_SEED=<seed>` replays one; a failure prints its seed and
//! the command that replays it.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;

use consensus::sim::{Params, Report, Rng, Seeds, Sim, SimStore, Workload};
use consensus::{LogIndex, Node, RequestId, StateMachine, UnknownReason};
use fsapi::{
    Credentials, FsError, Generation, InodeId, SetAttr, SetTime, SpecialKind, Timestamp, XattrSet,
};
use meta::{decode_outcome, is_meta_key, Command, CreateMode, NewKind, ReplicatedMeta};
use store::{KeyValue, KvStore};

/// Seeds run by a plain `cargo test -p meta` (see ARCHITECTURE.md for the
/// measured time).
const DEFAULT_SEEDS: u64 = 1000;
const SHARDS: u64 = 4;
const NODES: usize = 3;
const T0: Timestamp = Timestamp { seconds: 1_700_000_000, nanos: 0 };
/// Counter files `counter0..2` are inodes 2..=4; the work directory is 5.
const COUNTER_FIRST_INO: u64 = 2;
const WORK_INO: u64 = 5;
/// New request ids per client at most: below the dedup window (256), so a
/// retry of any id is answered, never `TooOld`.
const REQUESTS_PER_CLIENT_MAX: u64 = 200;

const SEEDS: Seeds = Seeds {
    name: "meta simulation",
    env: "CAIRN_META_SIM",
    default_seeds: DEFAULT_SEEDS,
    shards: SHARDS,
    replay: "cargo test -p meta --test raft_sim",
};

fn counter_ino(c: usize) -> InodeId {
    InodeId(COUNTER_FIRST_INO + c as u64)
}

/// The `change` of client `c`'s counter file in `sm`.
fn counter(sm: &ReplicatedMeta, c: usize) -> Result<u64, String> {
    match sm.reader().inode(counter_ino(c)) {
        Ok(Some(rec)) => Ok(rec.change),
        other => Err(format!("counter {c}: {other:?}")),
    }
}

/// The founding state, byte-identical on every founding member: the root,
/// one counter file per client and the work directory.
fn initial_state(store: Arc<dyn KvStore>) -> Result<ReplicatedMeta, String> {
    let mut r = ReplicatedMeta::open(store, 0o777, T0).map_err(|e| e.to_string())?;
    let mut create = |name: String, kind: NewKind| -> Result<InodeId, String> {
        let c = Command::Create {
            parent: InodeId::ROOT,
            name: name.into_bytes(),
            kind,
            mode: CreateMode::Guarded,
            attrs: SetAttr::default(),
            cred: Credentials::root(),
            now: T0,
            generation: Generation(1),
            chunk_size: 1 << 20,
            replicas: 0,
        };
        let out = decode_outcome(&r.apply(LogIndex(1), &c.encode())).map_err(|e| e.to_string())?;
        let applied = out.map_err(|e| format!("create {e:?}"))?;
        applied.object.map(|o| o.0).ok_or_else(|| "create made no object".to_string())
    };
    for c in 0..NODES {
        if create(format!("counter{c}"), NewKind::Regular)? != counter_ino(c) {
            return Err(format!("counter{c} is not inode {:?}", counter_ino(c)));
        }
    }
    if create("work".into(), NewKind::Directory)? != InodeId(WORK_INO) {
        return Err(format!("work is not inode {WORK_INO}"));
    }
    Ok(r)
}

/// A namespace change inside the work directory (inodes from 5 up:
/// never the root or a counter file), valid or not.
fn random_command(rng: &mut Rng, t: u64) -> Command {
    let now = Timestamp { seconds: T0.seconds + t as i64, nanos: t as u32 };
    let cred = Credentials::root();
    let ino = |rng: &mut Rng| InodeId(WORK_INO + rng.below(20));
    let name = |rng: &mut Rng| format!("n{}", rng.below(6)).into_bytes();
    match rng.below(10) {
        0..=2 => {
            let kind = match rng.below(5) {
                0 | 1 => NewKind::Regular,
                2 | 3 => NewKind::Directory,
                _ if rng.chance(500) => NewKind::Symlink(b"../x".to_vec()),
                _ => NewKind::Special(SpecialKind::Fifo),
            };
            Command::Create {
                parent: ino(&mut *rng),
                name: name(&mut *rng),
                kind,
                mode: CreateMode::Guarded,
                attrs: SetAttr::default(),
                cred,
                now,
                generation: Generation(t),
                chunk_size: 1 << 20,
                replicas: 0,
            }
        }
        3 => Command::Remove {
            parent: ino(&mut *rng),
            name: name(&mut *rng),
            directory: rng.chance(300),
            cred,
            now,
            keep: None,
        },
        4 => Command::Rename {
            from: ino(&mut *rng),
            from_name: name(&mut *rng),
            to: ino(&mut *rng),
            to_name: name(&mut *rng),
            cred,
            now,
            keep: None,
        },
        5 => Command::Link {
            file: ino(&mut *rng),
            dir: ino(&mut *rng),
            name: name(&mut *rng),
            cred,
            now,
        },
        6 => Command::SetAttr {
            ino: ino(&mut *rng),
            set: SetAttr {
                mode: Some(rng.below(0o1000) as u32),
                mtime: SetTime::ClientTime(now),
                ..SetAttr::default()
            },
            guard_ctime: None,
            cred,
            now,
        },
        7 => Command::SetXattr {
            ino: ino(&mut *rng),
            name: format!("user.a{}", rng.below(3)).into_bytes(),
            value: vec![t as u8; rng.below(40) as usize],
            how: XattrSet::Either,
            cred,
            now,
        },
        8 => Command::WriteInline {
            ino: ino(&mut *rng),
            offset: rng.below(4000),
            data: vec![t as u8; rng.below(90) as usize],
            cred,
            now,
        },
        _ => Command::RemoveXattr {
            ino: ino(&mut *rng),
            name: format!("user.a{}", rng.below(3)).into_bytes(),
            cred,
            now,
        },
    }
}

/// One client's tracked request ids and payloads, with the counter value
/// the application answered once known.
type Tracked = BTreeMap<RequestId, (Vec<u8>, Option<u64>)>;

/// The meta workload's own bookkeeping.
#[derive(Default)]
struct MetaLoad {
    tracked_pm: u64,
    /// Per client.
    tracked: [Tracked; NODES],
    tracked_proposed: u64,
    /// (client, counter value) → the request that got it.
    values: BTreeMap<(usize, u64), RequestId>,
    /// Highest acknowledged counter value per client.
    acked_max: [u64; NODES],
}

impl Workload for MetaLoad {
    type Machine = ReplicatedMeta;
    /// An acknowledged tracked command: (client, counter value).
    type Ack = (usize, u64);
    /// Every client's highest acknowledged counter value.
    type ReadMark = [u64; NODES];

    const NAME: &'static str = "meta simulation";
    const RNG_SALT: u64 = 0x6d65_7461_5f73_696d;

    fn params(&mut self, rng: &mut Rng) -> Params {
        let calm = rng.chance(100);
        let mut p = Params {
            initial_voters: NODES,
            spares: 0,
            membership: false,
            drop_pm: if calm { 0 } else { rng.range(0, 200) },
            dup_pm: if calm { 0 } else { rng.range(0, 60) },
            delay_max: rng.range(1, 6),
            crash_pm: if calm { 0 } else { rng.range(0, 30) },
            down_max: 40,
            flush_fail_pm: if calm { 0 } else { rng.range(0, 3) },
            partition_pm: if calm { 0 } else { rng.range(0, 20) },
            tick_skip_pm: rng.range(0, 100),
            checkpoint_interval: rng.range(3, 40),
            client_pm: rng.range(50, 300),
            retry_pm: 0,
            read_pm: 0,
            membership_pm: 0,
            safety_steps: 0,
            converge_ticks_max: 800,
        };
        self.tracked_pm = rng.range(200, 800);
        p.retry_pm = rng.range(300, 1000);
        p.read_pm = rng.range(0, 60);
        p.safety_steps = rng.range(200, 500);
        p
    }

    fn founding(&mut self, store: Arc<dyn KvStore>) -> Result<ReplicatedMeta, String> {
        initial_state(store)
    }

    /// A `ReplicatedMeta` over whatever the store holds, which `Node::open`
    /// replaces with the last checkpoint.
    fn reopen(&mut self, store: Arc<dyn KvStore>) -> Result<ReplicatedMeta, String> {
        ReplicatedMeta::open(store, 0o777, T0).map_err(|e| e.to_string())
    }

    fn may_propose(&self, _client: usize, next_seq: u64) -> bool {
        next_seq < REQUESTS_PER_CLIENT_MAX
    }

    fn payload(&mut self, rng: &mut Rng, t: u64, client: usize, id: RequestId) -> Vec<u8> {
        if rng.chance(self.tracked_pm) {
            let now = Timestamp { seconds: T0.seconds + t as i64, nanos: 0 };
            let cmd = Command::AfterWrite {
                ino: counter_ino(client),
                end: t,
                writes: 1,
                cred: Credentials::root(),
                now,
            };
            self.tracked[client].insert(id, (cmd.encode(), None));
            self.tracked_proposed += 1;
            cmd.encode()
        } else {
            random_command(rng, t).encode()
        }
    }

    fn applied(
        &mut self,
        client: usize,
        id: RequestId,
        _index: LogIndex,
        _payload: &[u8],
        result: &[u8],
        sm: &ReplicatedMeta,
    ) -> Result<Option<(usize, u64)>, String> {
        let answer = decode_outcome(result).map_err(|e| format!("undecodable answer: {e}"))?;
        if let Err(FsError::ServerFault(why)) = &answer {
            if why.starts_with("command not understood") {
                return Err(why.to_string());
            }
        }
        if !self.tracked[client].contains_key(&id) {
            return Ok(None);
        }
        let value = match &answer {
            Ok(a) if a.changed.first().is_some_and(|c| c.0 == counter_ino(client)) => {
                a.changed[0].2.change
            }
            other => return Err(format!("tracked, answered {other:?}")),
        };
        if let Some(prev) = self.values.insert((client, value), id) {
            if prev != id {
                return Err(format!("{prev} got the same application {value}"));
            }
        }
        if let Some((_, v)) = self.tracked[client].get_mut(&id) {
            if v.is_some_and(|v| v != value) {
                return Err("answered twice, differently".into());
            }
            *v = Some(value);
        }
        self.acked_max[client] = self.acked_max[client].max(value);
        // The answering node applied it: its state has it.
        if counter(sm, client)? < value {
            return Err("not in the answering node's state".into());
        }
        Ok(Some((client, value)))
    }

    fn unknown(&mut self, _id: RequestId, why: UnknownReason) -> Result<(), String> {
        if why == UnknownReason::TooOld {
            return Err("too old for the dedup window".into());
        }
        Ok(())
    }

    fn present(
        &self,
        sm: &ReplicatedMeta,
        _index: u64,
        ack: &(usize, u64),
    ) -> Result<bool, String> {
        Ok(counter(sm, ack.0)? >= ack.1)
    }

    fn check_state(&self, sm: &ReplicatedMeta, applied: u64) -> Result<(), String> {
        let recorded = sm.applied_index();
        if !recorded.as_ref().is_ok_and(|r| r.0 <= applied) {
            return Err(format!("recorded applied index {recorded:?}"));
        }
        Ok(())
    }

    fn read_mark(&self) -> [u64; NODES] {
        self.acked_max
    }

    fn check_read(&self, sm: &ReplicatedMeta, min: &[u64; NODES]) -> Result<(), String> {
        for (c, m) in min.iter().enumerate() {
            if counter(sm, c)? < *m {
                return Err(format!("misses counter {c} = {m}"));
            }
        }
        Ok(())
    }

    fn unresolved(&self) -> Vec<(usize, RequestId, Vec<u8>)> {
        let mut out = Vec::new();
        for (i, t) in self.tracked.iter().enumerate() {
            for (id, (payload, v)) in t {
                if v.is_none() {
                    out.push((i, *id, payload.clone()));
                }
            }
        }
        out
    }

    fn check_end(&self, members: &[(&SimStore, &Node<ReplicatedMeta>)]) -> Result<(), String> {
        if members.len() != NODES {
            return Err(format!("{} members at the end, not {NODES}", members.len()));
        }
        // Same key space everywhere (same applied index and digest are
        // checked already).
        let mut spaces = BTreeSet::new();
        for (store, _) in members {
            let all = store.mem().scan(Bound::Unbounded, Bound::Unbounded, false, usize::MAX);
            let all = all.map_err(|e| format!("scan: {e}"))?;
            spaces
                .insert(all.into_iter().filter(|(k, _)| is_meta_key(k)).collect::<Vec<KeyValue>>());
        }
        if spaces.len() != 1 {
            return Err("key spaces differ at the same applied index".into());
        }
        // Exactly once: counter c went up by one per tracked request of
        // client c, and each value 2..=change was answered to one request.
        for c in 0..NODES {
            let n = self.tracked[c].len() as u64;
            for (_, node) in members {
                let change = counter(node.state_machine(), c)?;
                if change != 1 + n {
                    return Err(format!(
                        "counter {c} on {} is {change} after {n} tracked requests",
                        node.id()
                    ));
                }
            }
            let got: BTreeSet<u64> =
                self.values.range((c, 0)..=(c, u64::MAX)).map(|((_, v), _)| *v).collect();
            let want: BTreeSet<u64> = (2..=1 + n).collect();
            if got != want {
                return Err(format!("counter {c}: answered values {got:?}, want 2..={}", 1 + n));
            }
        }
        Ok(())
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![("tracked proposed", self.tracked_proposed)]
    }
}

fn run(seed: u64) -> Report {
    Sim::new(seed, MetaLoad::default()).run()
}

#[test]
fn meta_sim_shard_0() {
    SEEDS.run_shard(0, run);
}
#[test]
fn meta_sim_shard_1() {
    SEEDS.run_shard(1, run);
}
#[test]
fn meta_sim_shard_2() {
    SEEDS.run_shard(2, run);
}
#[test]
fn meta_sim_shard_3() {
    SEEDS.run_shard(3, run);
}

/// Replay depends on it: the same seed gives the same run.
#[test]
fn same_seed_same_run() {
    let a = run(7);
    let b = run(7);
    assert_eq!(a.trace, b.trace, "seed 7 is not deterministic");
    assert!(a.acked > 0 && a.checkpoints > 0, "seed 7 did too little: {a:?}");
}
