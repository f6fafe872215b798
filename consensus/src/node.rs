//! [`Node`]: one Raft peer, sans-I/O. The owner feeds it time ([`Node::tick`]),
//! peer messages ([`Node::step`]) and callers' requests, then calls
//! [`Node::process_ready`] and carries out the returned [`Output`]: send the
//! messages, answer the callers, take a checkpoint when due.
//!
//! The Ready order (raft-rs `lib.rs`, "Processing the Ready State"):
//! 1. take the messages raft may send before persisting (a leader's
//!    appends, Raft thesis §10.2.1);
//! 2. persist, as ONE write batch, the received checkpoint (raft's
//!    snapshot), the new entries (truncating any conflicting tail) and the
//!    hard state; flush when `must_sync`;
//! 3. restore the state machine from that checkpoint, if any;
//! 4. apply the committed entries (they were persisted by an earlier Ready);
//! 5. take the messages that had to wait for persistence (votes, append
//!    responses);
//! 6. note the ReadIndex states;
//! 7. `advance`, then the LightReady: record the new commit index (no
//!    flush needed), take its messages, apply its committed entries;
//!    `advance_apply`.
//!
//! All messages are returned together in [`Output::messages`], so they are
//! sent after the persistence point, which is always allowed.

use std::collections::BTreeMap;
use std::sync::Arc;

use protobuf::Message as _;
use raft::eraftpb::{
    ConfChange, ConfChangeSingle, ConfChangeType, ConfChangeV2, ConfState, Entry, EntryType,
    Snapshot,
};
use raft::{RawNode, ReadOnlyOption, SnapshotStatus, StateRole};
use store::{KvStore, WriteBatch};

use crate::codec::SplitMix64;
use crate::error::{ConfChangeError, Error, ProposeError, ReadError};
use crate::ids::{LogIndex, NodeId, RequestId};
use crate::log::RaftLog;
use crate::message::{Outbound, PeerMessage};
use crate::state_machine::{
    decode_request_id, encode_request_id, Applied, Proposal, Replicated, StateMachine,
};

/// A node's settings. Times are in ticks; the owner decides how long a tick
/// is (the driver uses 100 ms).
#[derive(Debug, Clone)]
pub struct Config {
    /// This node's id (not 0).
    pub id: NodeId,
    /// Ticks without hearing from a leader before a follower campaigns;
    /// the actual timeout is drawn in `[election_tick, 2 * election_tick)`.
    pub election_tick: usize,
    /// Ticks between a leader's heartbeats.
    pub heartbeat_tick: usize,
    /// Most entry bytes in one append message.
    pub append_size_bytes_max: u64,
    /// Most append messages in flight to one follower.
    pub inflight_appends_max: usize,
    /// Most bytes of uncommitted entries a leader accepts.
    pub uncommitted_size_bytes_max: u64,
    /// Most committed entry bytes handed out by one Ready.
    pub committed_per_ready_bytes_max: u64,
    /// Take a checkpoint and compact the log every this many applied entries.
    pub checkpoint_interval_entries: u64,
    /// Checkpoints larger than this are not taken (the log is then not
    /// compacted, and an error is logged). A checkpoint is held in memory
    /// whole; the transport sends it to a follower in pieces, and accepts
    /// up to its own `TransportConfig::checkpoint_size_bytes_max`: keep the
    /// two equal.
    pub checkpoint_size_bytes_max: usize,
    /// Most proposals of this node's callers waiting at once.
    pub pending_proposals_max: usize,
    /// Most ReadIndex requests waiting at once.
    pub pending_reads_max: usize,
    /// Largest proposal payload.
    pub proposal_size_bytes_max: usize,
    /// A proposal not applied after this many ticks answers "outcome unknown".
    pub proposal_timeout_ticks: u64,
    /// A forwarded proposal is sent to the leader again after this many ticks.
    pub forward_retry_ticks: u64,
    /// A ReadIndex request not answered after this many ticks fails.
    pub read_timeout_ticks: u64,
    /// A leader whose checkpoint to a follower is unacknowledged for this
    /// many ticks reports it failed, so raft sends it again. The count runs
    /// while the transport streams it: a shorter time than a large
    /// checkpoint's transfer queues needless new sends (they expire in the
    /// queue; the first one still arrives).
    pub checkpoint_send_timeout_ticks: u64,
    /// Seed of the node's election-timeout draws.
    pub rng_seed: u64,
    /// The key prefix of the raft log in the store.
    pub log_prefix: Vec<u8>,
}

impl Config {
    /// Defaults for node `id`.
    pub fn new(id: NodeId) -> Self {
        Config {
            id,
            election_tick: 10,
            heartbeat_tick: 2,
            append_size_bytes_max: 1 << 20,
            inflight_appends_max: 256,
            uncommitted_size_bytes_max: 64 << 20,
            committed_per_ready_bytes_max: 16 << 20,
            checkpoint_interval_entries: 10_000,
            checkpoint_size_bytes_max: 1 << 30,
            pending_proposals_max: 256,
            pending_reads_max: 1024,
            proposal_size_bytes_max: 1 << 20,
            proposal_timeout_ticks: 100,
            forward_retry_ticks: 10,
            read_timeout_ticks: 50,
            checkpoint_send_timeout_ticks: 50,
            rng_seed: id.0,
            log_prefix: b"raft/".to_vec(),
        }
    }

    fn validate(&self) -> Result<(), Error> {
        if self.id.0 == 0 {
            return Err(Error::Config("node id 0 is reserved".into()));
        }
        if self.heartbeat_tick == 0 || self.election_tick <= self.heartbeat_tick {
            return Err(Error::Config("need 0 < heartbeat_tick < election_tick".into()));
        }
        if self.checkpoint_interval_entries == 0 {
            return Err(Error::Config("checkpoint_interval_entries must be > 0".into()));
        }
        if self.pending_proposals_max > crate::DEDUP_WINDOW_PER_NODE {
            return Err(Error::Config(
                "pending_proposals_max above the dedup window would make retries unsafe to answer"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// A node's role (Raft §5.2, plus the pre-vote phase of thesis §9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Follows a leader (or waits for one).
    Follower,
    /// Asking whether it could win an election, without raising the term.
    PreCandidate,
    /// Campaigning.
    Candidate,
    /// The leader of its term.
    Leader,
}

impl From<StateRole> for Role {
    fn from(s: StateRole) -> Self {
        match s {
            StateRole::Follower => Role::Follower,
            StateRole::PreCandidate => Role::PreCandidate,
            StateRole::Candidate => Role::Candidate,
            StateRole::Leader => Role::Leader,
        }
    }
}

/// A snapshot of the node's Raft state, for monitoring and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// This node.
    pub id: NodeId,
    /// Current term.
    pub term: u64,
    /// Current role.
    pub role: Role,
    /// The leader this node knows of.
    pub leader: Option<NodeId>,
    /// Highest index known committed.
    pub commit: LogIndex,
    /// Highest index applied to the state machine.
    pub applied: LogIndex,
    /// First entry still in the log (after the checkpoint).
    pub first_index: LogIndex,
    /// Last entry in the log.
    pub last_index: LogIndex,
    /// Index of the last checkpoint.
    pub checkpoint_index: LogIndex,
    /// Voters of the applied configuration (both halves when joint), sorted.
    pub voters: Vec<NodeId>,
    /// Learners of the applied configuration, sorted.
    pub learners: Vec<NodeId>,
    /// True while the configuration is joint (Raft thesis §4.3).
    pub joint: bool,
    /// True once this node applied its own removal.
    pub removed: bool,
    /// On the leader: the highest log index known replicated on each
    /// member (itself included); empty on other nodes.
    pub matched: Vec<(NodeId, LogIndex)>,
}

/// Why the outcome of a proposal is unknown. The entry may or may not be
/// applied (now or later); retrying with the same request id is safe and
/// answers with the first result if it was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownReason {
    /// A new term started since it was proposed or forwarded.
    LeaderChanged,
    /// The log index it was given now holds another entry.
    EntryOverwritten,
    /// Not applied within `proposal_timeout_ticks`.
    TimedOut,
    /// The request id is older than the dedup window.
    TooOld,
    /// A checkpoint covering it was installed and does not record it.
    CheckpointInstalled,
    /// This node was removed from the cluster.
    NodeRemoved,
}

/// How a proposal ended, for the caller waiting on its request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProposalOutcome {
    /// Applied (by this node) at `index`; `result` is what the state
    /// machine returned. A retry of an applied request id returns the first
    /// application's index and result.
    Applied {
        /// Where it was applied.
        index: LogIndex,
        /// The state machine's answer.
        result: Vec<u8>,
    },
    /// See [`UnknownReason`].
    OutcomeUnknown(UnknownReason),
    /// Definitely not applied (a membership change raft or the state of the
    /// configuration refused).
    Rejected(String),
}

/// How a ReadIndex request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This node has applied everything committed when the read was
    /// confirmed by a quorum: reading the local state now is linearizable.
    Ready {
        /// The read index.
        index: LogIndex,
    },
    /// No answer (no leader, leader changed, timeout): retry.
    Failed,
}

/// What the owner must do after [`Node::process_ready`].
#[derive(Debug, Default)]
pub struct Output {
    /// Messages to send, in order.
    pub messages: Vec<Outbound>,
    /// Answers for this node's callers, by request id.
    pub proposals: Vec<(RequestId, ProposalOutcome)>,
    /// Answers to ReadIndex requests, by context.
    pub reads: Vec<(Vec<u8>, ReadOutcome)>,
    /// True when [`Node::take_checkpoint`] should be called.
    pub checkpoint_due: bool,
}

#[derive(Debug)]
enum Route {
    /// Proposed here, as leader, at this index.
    Local { index: u64 },
    /// A membership change proposed here, as leader, at this index.
    ConfChange { index: u64 },
    /// Forwarded to the leader.
    Forwarded { payload: Vec<u8>, next_retry: u64 },
}

#[derive(Debug)]
struct PendingProposal {
    term: u64,
    deadline: u64,
    route: Route,
}

#[derive(Debug)]
struct PendingRead {
    term: u64,
    deadline: u64,
    index: Option<u64>,
}

/// One Raft peer over a [`RaftLog`] and a [`StateMachine`]. See the module
/// documentation.
pub struct Node<S: StateMachine> {
    id: NodeId,
    cfg: Config,
    raw: RawNode<RaftLog>,
    state: Replicated<S>,
    applied: u64,
    now: u64,
    rng: SplitMix64,
    seen_term: u64,
    seen_role: StateRole,
    set_timeout: usize,
    pending: BTreeMap<RequestId, PendingProposal>,
    local_by_index: BTreeMap<u64, RequestId>,
    reads: BTreeMap<Vec<u8>, PendingRead>,
    /// Ticks each follower has been waiting for a checkpoint.
    checkpoint_sends: BTreeMap<u64, u64>,
    /// Applied index at the last checkpoint taken or skipped.
    last_checkpoint_attempt: u64,
    incarnation: u64,
    seq_in_incarnation: u64,
    removed: bool,
    failed: bool,
    out: Output,
}

impl<S: StateMachine> std::fmt::Debug for Node<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("status", &self.status()).finish()
    }
}

fn role_of(cs: &ConfState, id: u64) -> bool {
    cs.voters.contains(&id)
        || cs.learners.contains(&id)
        || cs.voters_outgoing.contains(&id)
        || cs.learners_next.contains(&id)
}

impl<S: StateMachine> Node<S> {
    /// Write the founding configuration of a new cluster into `store` (run
    /// on each founding member with the same `voters`, each with a fresh
    /// `initial` state machine). Nodes added later are not bootstrapped.
    pub fn bootstrap(
        store: Arc<dyn KvStore>,
        log_prefix: &[u8],
        voters: &[NodeId],
        initial: S,
    ) -> Result<(), Error> {
        let mut log = RaftLog::open(store, log_prefix)?;
        let ids: Vec<u64> = voters.iter().map(|v| v.0).collect();
        log.bootstrap(&ids, &Replicated::new(initial).checkpoint())
    }

    /// Open the node kept in `store`: load the raft log, restore `sm` (a
    /// fresh state machine) from the last checkpoint; the committed entries
    /// after it are applied again by the first [`Node::process_ready`].
    pub fn open(cfg: Config, store: Arc<dyn KvStore>, sm: S) -> Result<Self, Error> {
        cfg.validate()?;
        let mut log = RaftLog::open(store, &cfg.log_prefix)?;
        let incarnation = log.next_incarnation()?;
        let mut state = Replicated::new(sm);
        let checkpoint_index = log.checkpoint_index();
        if checkpoint_index > 0 {
            let data = log.checkpoint_data()?;
            state.restore(&data).map_err(Error::StateMachine)?;
        }
        let raft_cfg = raft::Config {
            id: cfg.id.0,
            election_tick: cfg.election_tick,
            heartbeat_tick: cfg.heartbeat_tick,
            applied: checkpoint_index,
            max_size_per_msg: cfg.append_size_bytes_max,
            max_inflight_msgs: cfg.inflight_appends_max,
            check_quorum: true,
            pre_vote: true,
            read_only_option: ReadOnlyOption::Safe,
            max_uncommitted_size: cfg.uncommitted_size_bytes_max,
            max_committed_size_per_ready: cfg.committed_per_ready_bytes_max,
            ..Default::default()
        };
        let raw = RawNode::new(&raft_cfg, log, &crate::logging::raft_logger())?;
        let mut node = Node {
            id: cfg.id,
            rng: SplitMix64::new(cfg.rng_seed ^ cfg.id.0.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            seen_term: raw.raft.term,
            seen_role: raw.raft.state,
            cfg,
            raw,
            state,
            applied: checkpoint_index,
            now: 0,
            set_timeout: 0,
            pending: BTreeMap::new(),
            local_by_index: BTreeMap::new(),
            reads: BTreeMap::new(),
            checkpoint_sends: BTreeMap::new(),
            last_checkpoint_attempt: checkpoint_index,
            incarnation,
            seq_in_incarnation: 0,
            removed: false,
            failed: false,
            out: Output::default(),
        };
        node.draw_election_timeout();
        Ok(node)
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The current Raft state.
    pub fn status(&self) -> Status {
        let r = &self.raw.raft;
        let cs = r.prs().conf().to_conf_state();
        let mut voters: Vec<NodeId> =
            cs.voters.iter().chain(&cs.voters_outgoing).map(|v| NodeId(*v)).collect();
        voters.sort();
        voters.dedup();
        let mut learners: Vec<NodeId> =
            cs.learners.iter().chain(&cs.learners_next).map(|v| NodeId(*v)).collect();
        learners.sort();
        learners.dedup();
        let log = self.raw.store();
        Status {
            id: self.id,
            term: r.term,
            role: r.state.into(),
            leader: (r.leader_id != 0).then_some(NodeId(r.leader_id)),
            commit: LogIndex(r.raft_log.committed),
            applied: LogIndex(self.applied),
            first_index: LogIndex(log.checkpoint_index() + 1),
            last_index: LogIndex(r.raft_log.last_index()),
            checkpoint_index: LogIndex(log.checkpoint_index()),
            voters,
            learners,
            joint: !cs.voters_outgoing.is_empty(),
            removed: self.removed,
            matched: if r.state == StateRole::Leader {
                r.prs().iter().map(|(id, pr)| (NodeId(*id), LogIndex(pr.matched))).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Current term (cheaper than [`Node::status`]).
    pub fn term(&self) -> u64 {
        self.raw.raft.term
    }

    /// Current role (cheaper than [`Node::status`]).
    pub fn role(&self) -> Role {
        self.raw.raft.state.into()
    }

    /// Highest applied index (cheaper than [`Node::status`]).
    pub fn applied(&self) -> LogIndex {
        LogIndex(self.applied)
    }

    /// First and last index of the persisted log.
    pub fn log_bounds(&self) -> (LogIndex, LogIndex) {
        let log = self.raw.store();
        let last = raft::Storage::last_index(log).unwrap_or(0);
        (LogIndex(log.checkpoint_index() + 1), LogIndex(last))
    }

    /// True once this node applied its own removal from the cluster.
    pub fn is_removed(&self) -> bool {
        self.removed
    }

    /// The state machine (read-only: it changes only by applying entries).
    pub fn state_machine(&self) -> &S {
        &self.state.sm
    }

    /// A digest of the replicated state (the dedup table's hash chain and
    /// the state machine's digest); equal on nodes at the same applied index.
    pub fn state_digest(&self) -> u64 {
        self.state.digest()
    }

    /// Term and fingerprint of the persisted entry at `index`, if stored
    /// (for log-matching checks).
    pub fn log_fingerprint(&self, index: LogIndex) -> Option<(u64, u64)> {
        self.raw.store().fingerprint(index.0)
    }

    /// A request id never used before by this node, across restarts: the
    /// incarnation (bumped and flushed at every open) and a counter.
    pub fn next_request_id(&mut self) -> Result<RequestId, Error> {
        self.check_alive()?;
        if self.seq_in_incarnation >= u64::from(u32::MAX) {
            self.incarnation = self.raw.mut_store().next_incarnation().inspect_err(|_| {
                self.failed = true;
            })?;
            self.seq_in_incarnation = 0;
        }
        self.seq_in_incarnation += 1;
        Ok(RequestId { node: self.id, seq: (self.incarnation << 32) | self.seq_in_incarnation })
    }

    fn check_alive(&self) -> Result<(), Error> {
        if self.failed {
            Err(Error::Stopped)
        } else {
            Ok(())
        }
    }

    /// Advance the logical clock by one tick.
    pub fn tick(&mut self) {
        if self.failed {
            return;
        }
        self.now += 1;
        self.raw.tick();
        let now = self.now;
        let expired: Vec<RequestId> =
            self.pending.iter().filter(|(_, p)| p.deadline <= now).map(|(id, _)| *id).collect();
        for id in expired {
            self.resolve(id, ProposalOutcome::OutcomeUnknown(UnknownReason::TimedOut));
        }
        let leader = self.raw.raft.leader_id;
        let retry = self.cfg.forward_retry_ticks.max(1);
        for (id, p) in self.pending.iter_mut() {
            if let Route::Forwarded { payload, next_retry } = &mut p.route {
                if *next_retry <= now && leader != 0 && leader != self.id.0 {
                    *next_retry = now + retry;
                    self.out.messages.push(Outbound {
                        to: NodeId(leader),
                        message: PeerMessage::Forward { request_id: *id, payload: payload.clone() },
                    });
                }
            }
        }
        let expired: Vec<Vec<u8>> =
            self.reads.iter().filter(|(_, r)| r.deadline <= now).map(|(c, _)| c.clone()).collect();
        for ctx in expired {
            self.reads.remove(&ctx);
            self.out.reads.push((ctx, ReadOutcome::Failed));
        }
        self.watch_checkpoint_sends();
        self.leave_joint_if_stuck();
        self.observe();
    }

    /// raft-rs leaves a joint configuration automatically only when the
    /// leader that applies the entering entry is still leading; a later
    /// leader proposes the leaving change itself (Raft thesis §4.3).
    fn leave_joint_if_stuck(&mut self) {
        if self.raw.raft.state != StateRole::Leader || self.raw.raft.has_pending_conf() {
            return;
        }
        if self.raw.raft.prs().conf().to_conf_state().voters_outgoing.is_empty() {
            return;
        }
        match self.raw.propose_conf_change(Vec::new(), ConfChangeV2::default()) {
            Ok(()) => tracing::info!(node = %self.id, "proposed leaving the joint configuration"),
            Err(e) => {
                tracing::debug!(node = %self.id, error = %e, "could not propose leaving joint")
            }
        }
    }

    /// A leader whose checkpoint message was lost would wait for it
    /// forever; after `checkpoint_send_timeout_ticks` report it failed.
    fn watch_checkpoint_sends(&mut self) {
        if self.raw.raft.state != StateRole::Leader {
            self.checkpoint_sends.clear();
            return;
        }
        let waiting: Vec<u64> = self
            .raw
            .raft
            .prs()
            .iter()
            .filter(|(_, pr)| pr.state == raft::ProgressState::Snapshot)
            .map(|(id, _)| *id)
            .collect();
        self.checkpoint_sends.retain(|id, _| waiting.contains(id));
        for id in waiting {
            let t = self.checkpoint_sends.entry(id).or_insert(0);
            *t += 1;
            if *t >= self.cfg.checkpoint_send_timeout_ticks {
                self.checkpoint_sends.remove(&id);
                self.raw.report_snapshot(id, SnapshotStatus::Failure);
            }
        }
    }

    /// Handle a message from peer `from` (as authenticated by the transport).
    pub fn step(&mut self, from: NodeId, msg: PeerMessage) -> Result<(), Error> {
        self.check_alive()?;
        match msg {
            PeerMessage::Raft(m) => {
                if m.from != from.0 || m.to != self.id.0 {
                    tracing::debug!(node = %self.id, %from, "dropping misaddressed raft message");
                    return Ok(());
                }
                match self.raw.step(*m) {
                    Ok(()) => {}
                    Err(raft::Error::Store(e @ raft::StorageError::Other(_))) => {
                        self.failed = true;
                        tracing::error!(node = %self.id, error = %e, "raft log failed; node stops");
                        return Err(Error::Raft(raft::Error::Store(e)));
                    }
                    Err(e) => {
                        tracing::debug!(node = %self.id, error = %e, "raft ignored a message")
                    }
                }
            }
            PeerMessage::Forward { request_id, payload } => {
                if self.raw.raft.state == StateRole::Leader {
                    let data = Proposal { request_id, payload }.encode();
                    if let Err(e) = self.raw.propose(Vec::new(), data) {
                        tracing::debug!(node = %self.id, %request_id, error = %e, "forwarded proposal dropped");
                    }
                }
            }
        }
        self.observe();
        Ok(())
    }

    /// Propose `payload` under `request_id`. The answer arrives in a later
    /// [`Output::proposals`]: when this node applies that request id, or
    /// "outcome unknown" (see [`UnknownReason`]).
    pub fn propose(&mut self, request_id: RequestId, payload: Vec<u8>) -> Result<(), ProposeError> {
        if self.failed {
            return Err(ProposeError::Stopped);
        }
        if payload.len() > self.cfg.proposal_size_bytes_max {
            return Err(ProposeError::TooLarge { size_bytes: payload.len() });
        }
        if self.pending.contains_key(&request_id) {
            return Err(ProposeError::AlreadyPending);
        }
        if self.pending.len() >= self.cfg.pending_proposals_max {
            return Err(ProposeError::TooManyPending);
        }
        let term = self.raw.raft.term;
        let deadline = self.now + self.cfg.proposal_timeout_ticks;
        let leader = self.raw.raft.leader_id;
        let route = if self.raw.raft.state == StateRole::Leader {
            let data = Proposal { request_id, payload }.encode();
            self.raw.propose(Vec::new(), data).map_err(|_| ProposeError::Dropped)?;
            let index = self.raw.raft.raft_log.last_index();
            self.local_by_index.insert(index, request_id);
            Route::Local { index }
        } else if leader != 0 && leader != self.id.0 && !self.removed {
            self.out.messages.push(Outbound {
                to: NodeId(leader),
                message: PeerMessage::Forward { request_id, payload: payload.clone() },
            });
            Route::Forwarded { payload, next_retry: self.now + self.cfg.forward_retry_ticks }
        } else {
            return Err(ProposeError::NoLeader);
        };
        self.pending.insert(request_id, PendingProposal { term, deadline, route });
        self.observe();
        Ok(())
    }

    /// Ask for a linearizable read point (Raft thesis §6.4, ReadIndex).
    /// `ctx` identifies the request; the answer arrives in a later
    /// [`Output::reads`].
    pub fn read_index(&mut self, ctx: Vec<u8>) -> Result<(), ReadError> {
        if self.failed {
            return Err(ReadError::Stopped);
        }
        if self.reads.contains_key(&ctx) {
            return Err(ReadError::AlreadyPending);
        }
        if self.reads.len() >= self.cfg.pending_reads_max {
            return Err(ReadError::TooManyPending);
        }
        self.raw.read_index(ctx.clone());
        let read = PendingRead {
            term: self.raw.raft.term,
            deadline: self.now + self.cfg.read_timeout_ticks,
            index: None,
        };
        self.reads.insert(ctx, read);
        self.observe();
        Ok(())
    }

    /// Propose a membership change (leader only; one at a time). Use
    /// [`add_learner`], [`promote_voter`], [`remove_node`] or a joint change
    /// of several. The answer arrives by `request_id` like a proposal's.
    pub fn propose_conf_change(
        &mut self,
        request_id: RequestId,
        cc: ConfChangeV2,
    ) -> Result<(), ConfChangeError> {
        if self.failed {
            return Err(ConfChangeError::Stopped);
        }
        if self.raw.raft.state != StateRole::Leader {
            let l = self.raw.raft.leader_id;
            return Err(ConfChangeError::NotLeader { leader: (l != 0).then_some(NodeId(l)) });
        }
        if self.pending.contains_key(&request_id) {
            return Err(ConfChangeError::AlreadyPending);
        }
        if self.raw.raft.has_pending_conf() {
            return Err(ConfChangeError::Refused("another membership change is pending".into()));
        }
        self.raw
            .propose_conf_change(encode_request_id(request_id), cc)
            .map_err(|e| ConfChangeError::Refused(e.to_string()))?;
        let index = self.raw.raft.raft_log.last_index();
        self.local_by_index.insert(index, request_id);
        let p = PendingProposal {
            term: self.raw.raft.term,
            deadline: self.now + self.cfg.proposal_timeout_ticks,
            route: Route::ConfChange { index },
        };
        self.pending.insert(request_id, p);
        self.observe();
        Ok(())
    }

    /// The voter best placed to take over leadership from this leader:
    /// the one with the highest match index (the least to catch up before
    /// raft sends it `MsgTimeoutNow`), not this node and not in `except`
    /// (e.g. a node about to be removed); ties go to the lowest id.
    /// `None` when this node does not lead or no other voter is left.
    pub fn transfer_candidate(&self, except: &[NodeId]) -> Option<NodeId> {
        let r = &self.raw.raft;
        if r.state != StateRole::Leader {
            return None;
        }
        let cs = r.prs().conf().to_conf_state();
        cs.voters
            .iter()
            .filter(|v| **v != self.id.0 && !except.contains(&NodeId(**v)))
            .filter_map(|v| r.prs().get(*v).map(|pr| (pr.matched, *v)))
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
            .map(|(_, v)| NodeId(v))
    }

    /// Hand leadership to voter `to` (Raft thesis §3.10, raft-rs
    /// `transfer_leader`): the leader brings `to`'s log up to date, then
    /// tells it to campaign at once. Proposals are dropped while the
    /// transfer runs; raft-rs abandons it after an election timeout, so
    /// the owner checks the role afterwards and may ask again.
    pub fn transfer_leadership(&mut self, to: NodeId) -> Result<(), ConfChangeError> {
        if self.failed {
            return Err(ConfChangeError::Stopped);
        }
        if self.raw.raft.state != StateRole::Leader {
            let l = self.raw.raft.leader_id;
            return Err(ConfChangeError::NotLeader { leader: (l != 0).then_some(NodeId(l)) });
        }
        if to == self.id {
            return Err(ConfChangeError::Refused("this node leads already".into()));
        }
        let cs = self.raw.raft.prs().conf().to_conf_state();
        if !cs.voters.contains(&to.0) {
            return Err(ConfChangeError::Refused(format!("{to} is not a voter")));
        }
        tracing::info!(node = %self.id, to = %to, term = self.raw.raft.term, "transferring leadership");
        self.raw.transfer_leader(to.0);
        self.observe();
        Ok(())
    }

    /// Start an election now (tests, or a planned leadership move).
    pub fn campaign(&mut self) -> Result<(), Error> {
        self.check_alive()?;
        self.raw.campaign()?;
        self.observe();
        Ok(())
    }

    /// The transport could not reach `to`.
    pub fn report_unreachable(&mut self, to: NodeId) {
        if !self.failed {
            self.raw.report_unreachable(to.0);
        }
    }

    /// The transport delivered (or failed to deliver) a checkpoint to `to`.
    pub fn report_checkpoint_sent(&mut self, to: NodeId, delivered: bool) {
        if !self.failed {
            let s = if delivered { SnapshotStatus::Finish } else { SnapshotStatus::Failure };
            self.raw.report_snapshot(to.0, s);
        }
    }

    /// Handle everything raft has ready (see the module documentation for
    /// the order) and return what the owner must do. A returned error is
    /// fatal: the node stops.
    pub fn process_ready(&mut self) -> Result<Output, Error> {
        self.check_alive()?;
        if let Err(e) = self.handle_readies() {
            self.failed = true;
            tracing::error!(node = %self.id, error = %e, "fatal error in the raft loop; node stops");
            return Err(e);
        }
        self.observe();
        let applied = self.applied;
        let ck = self.raw.store().checkpoint_index();
        self.out.checkpoint_due = applied > ck
            && (applied >= self.last_checkpoint_attempt + self.cfg.checkpoint_interval_entries
                || self.raw.store().checkpoint_wanted());
        Ok(std::mem::take(&mut self.out))
    }

    fn handle_readies(&mut self) -> Result<(), Error> {
        while self.raw.has_ready() {
            let mut rd = self.raw.ready();
            self.emit(rd.take_messages());
            let snapshot = (!rd.snapshot().is_empty()).then(|| rd.snapshot().clone());
            let mut batch = WriteBatch::new();
            let log = self.raw.mut_store();
            if let Some(s) = &snapshot {
                log.stage_install(&mut batch, s);
            }
            log.stage_append(&mut batch, rd.entries())?;
            if let Some(hs) = rd.hs() {
                log.stage_hard_state(&mut batch, hs);
            }
            log.write(batch, rd.must_sync())?;
            if let Some(s) = snapshot {
                self.install(&s)?;
            }
            self.apply(rd.take_committed_entries())?;
            self.emit(rd.take_persisted_messages());
            for rs in rd.take_read_states() {
                if let Some(r) = self.reads.get_mut(rs.request_ctx.as_slice()) {
                    r.index = Some(rs.index);
                }
            }
            let mut light = self.raw.advance(rd);
            if light.commit_index().is_some() {
                let hs = self.raw.raft.hard_state();
                let log = self.raw.mut_store();
                let mut batch = WriteBatch::new();
                log.stage_hard_state(&mut batch, &hs);
                log.write(batch, false)?;
            }
            self.emit(light.take_messages());
            self.apply(light.take_committed_entries())?;
            self.raw.advance_apply();
            self.answer_reads();
        }
        Ok(())
    }

    fn emit(&mut self, msgs: Vec<raft::eraftpb::Message>) {
        for m in msgs {
            self.out
                .messages
                .push(Outbound { to: NodeId(m.to), message: PeerMessage::Raft(Box::new(m)) });
        }
    }

    /// The state machine takes the checkpoint raft received.
    fn install(&mut self, snap: &Snapshot) -> Result<(), Error> {
        let index = snap.get_metadata().index;
        self.state.restore(&snap.data).map_err(Error::StateMachine)?;
        self.applied = index;
        self.last_checkpoint_attempt = index;
        let cs = snap.get_metadata().get_conf_state();
        if !role_of(cs, self.id.0) {
            self.removed = true;
        }
        let ids: Vec<RequestId> = self.pending.keys().copied().collect();
        for id in ids {
            if let Some((at, result)) = self.state.lookup(id) {
                self.resolve(id, ProposalOutcome::Applied { index: at, result });
                continue;
            }
            let covered = match self.pending.get(&id).map(|p| &p.route) {
                Some(Route::Local { index: i }) | Some(Route::ConfChange { index: i }) => {
                    *i <= index
                }
                _ => false,
            };
            if covered {
                self.resolve(
                    id,
                    ProposalOutcome::OutcomeUnknown(UnknownReason::CheckpointInstalled),
                );
            }
        }
        self.local_by_index = self.local_by_index.split_off(&(index + 1));
        tracing::info!(node = %self.id, index, "installed a checkpoint from the leader");
        Ok(())
    }

    fn apply(&mut self, entries: Vec<Entry>) -> Result<(), Error> {
        for e in entries {
            let index = e.index;
            if index <= self.applied {
                continue;
            }
            let mine = self.local_by_index.remove(&index);
            let mut resolved: Option<RequestId> = None;
            match e.get_entry_type() {
                EntryType::EntryNormal if e.data.is_empty() => {}
                EntryType::EntryNormal => match Proposal::decode(&e.data) {
                    Ok(p) => {
                        let outcome = match self.state.apply(LogIndex(index), &p) {
                            Applied::Done { index, result } => {
                                ProposalOutcome::Applied { index, result }
                            }
                            Applied::TooOld => {
                                ProposalOutcome::OutcomeUnknown(UnknownReason::TooOld)
                            }
                        };
                        if self.pending.contains_key(&p.request_id) {
                            self.resolve(p.request_id, outcome);
                        }
                        resolved = Some(p.request_id);
                    }
                    // Every node sees the same bytes, so skipping is
                    // deterministic; it can only be a bug or a newer writer.
                    Err(err) => {
                        tracing::error!(node = %self.id, index, error = %err, "skipping an undecodable entry")
                    }
                },
                EntryType::EntryConfChange | EntryType::EntryConfChangeV2 => {
                    let id = self.apply_conf_change(&e)?;
                    resolved = id;
                }
            }
            self.applied = index;
            if let Some(mine) = mine {
                if resolved != Some(mine) && self.pending.contains_key(&mine) {
                    let outcome = match self.pending.get(&mine).map(|p| &p.route) {
                        Some(Route::ConfChange { .. }) => {
                            ProposalOutcome::Rejected("raft refused the membership change".into())
                        }
                        _ => ProposalOutcome::OutcomeUnknown(UnknownReason::EntryOverwritten),
                    };
                    self.resolve(mine, outcome);
                }
            }
        }
        Ok(())
    }

    /// Apply a committed membership change; returns its request id.
    fn apply_conf_change(&mut self, e: &Entry) -> Result<Option<RequestId>, Error> {
        let index = e.index;
        let id = if e.context.is_empty() { None } else { decode_request_id(&e.context).ok() };
        let applied = if e.get_entry_type() == EntryType::EntryConfChange {
            ConfChange::parse_from_bytes(&e.data)
                .map_err(|err| err.to_string())
                .and_then(|cc| self.raw.apply_conf_change(&cc).map_err(|err| err.to_string()))
        } else {
            ConfChangeV2::parse_from_bytes(&e.data)
                .map_err(|err| err.to_string())
                .and_then(|cc| self.raw.apply_conf_change(&cc).map_err(|err| err.to_string()))
        };
        let outcome = match applied {
            Ok(cs) => {
                tracing::info!(node = %self.id, index, voters = ?cs.voters, learners = ?cs.learners, "membership changed");
                let voter =
                    cs.voters.contains(&self.id.0) || cs.voters_outgoing.contains(&self.id.0);
                if !voter && self.raw.raft.state == StateRole::Leader {
                    // raft-rs keeps a removed or demoted leader leading (an
                    // "untested branch" there) and then panics persisting
                    // its next entries: step down now, before `advance`.
                    // What it queued as leader is valid for its term; send it.
                    let term = self.raw.raft.term;
                    self.raw.raft.become_follower(term, raft::INVALID_ID);
                    let msgs = std::mem::take(&mut self.raw.raft.msgs);
                    self.emit(msgs);
                    tracing::info!(node = %self.id, term, "left the voters while leading; stepped down");
                }
                if !role_of(&cs, self.id.0) && !self.removed {
                    self.removed = true;
                    tracing::info!(node = %self.id, "this node was removed from the cluster");
                }
                ProposalOutcome::Applied { index: LogIndex(index), result: Vec::new() }
            }
            Err(err) => {
                // Deterministic: every node refuses the same change.
                tracing::warn!(node = %self.id, index, error = %err, "membership change refused");
                ProposalOutcome::Rejected(err)
            }
        };
        if let Some(id) = id {
            if self.pending.contains_key(&id) {
                self.resolve(id, outcome);
            }
        }
        if self.removed {
            let ids: Vec<RequestId> = self.pending.keys().copied().collect();
            for id in ids {
                self.resolve(id, ProposalOutcome::OutcomeUnknown(UnknownReason::NodeRemoved));
            }
        }
        Ok(id)
    }

    fn resolve(&mut self, id: RequestId, outcome: ProposalOutcome) {
        if let Some(p) = self.pending.remove(&id) {
            if let Route::Local { index } | Route::ConfChange { index } = p.route {
                if self.local_by_index.get(&index) == Some(&id) {
                    self.local_by_index.remove(&index);
                }
            }
            self.out.proposals.push((id, outcome));
        }
    }

    fn answer_reads(&mut self) {
        let applied = self.applied;
        let ready: Vec<(Vec<u8>, u64)> = self
            .reads
            .iter()
            .filter_map(|(c, r)| r.index.filter(|i| *i <= applied).map(|i| (c.clone(), i)))
            .collect();
        for (ctx, index) in ready {
            self.reads.remove(&ctx);
            self.out.reads.push((ctx, ReadOutcome::Ready { index: LogIndex(index) }));
        }
    }

    /// After every call into raft: a new term or role redraws the election
    /// timeout from the node's own seed (raft-rs draws from the thread RNG,
    /// which would make simulations unrepeatable), and a new term answers
    /// the proposals and reads of older terms.
    fn observe(&mut self) {
        let (term, role) = (self.raw.raft.term, self.raw.raft.state);
        if term != self.seen_term
            || role != self.seen_role
            || self.raw.raft.randomized_election_timeout() != self.set_timeout
        {
            self.draw_election_timeout();
        }
        if term > self.seen_term {
            let old: Vec<RequestId> =
                self.pending.iter().filter(|(_, p)| p.term < term).map(|(id, _)| *id).collect();
            for id in old {
                self.resolve(id, ProposalOutcome::OutcomeUnknown(UnknownReason::LeaderChanged));
            }
            let old: Vec<Vec<u8>> = self
                .reads
                .iter()
                .filter(|(_, r)| r.term < term && r.index.is_none())
                .map(|(c, _)| c.clone())
                .collect();
            for ctx in old {
                self.reads.remove(&ctx);
                self.out.reads.push((ctx, ReadOutcome::Failed));
            }
        }
        self.seen_term = term;
        self.seen_role = role;
    }

    fn draw_election_timeout(&mut self) {
        let min = self.cfg.election_tick;
        let t = min + self.rng.below(min as u64) as usize;
        self.raw.raft.set_randomized_election_timeout(t);
        self.set_timeout = t;
    }

    /// Take a checkpoint of the replicated state at the applied index and
    /// compact the log up to it. Returns the checkpoint's index, or `None`
    /// when there is nothing new or the checkpoint is over the size limit.
    pub fn take_checkpoint(&mut self) -> Result<Option<LogIndex>, Error> {
        self.check_alive()?;
        let index = self.applied;
        if index <= self.raw.store().checkpoint_index() {
            return Ok(None);
        }
        self.last_checkpoint_attempt = index;
        let data = self.state.checkpoint();
        if data.len() > self.cfg.checkpoint_size_bytes_max {
            tracing::error!(
                node = %self.id,
                size_bytes = data.len(),
                limit_bytes = self.cfg.checkpoint_size_bytes_max,
                "checkpoint over the size limit; the log is not compacted"
            );
            return Ok(None);
        }
        let cs = self.raw.raft.prs().conf().to_conf_state();
        if let Err(e) = self.raw.mut_store().compact(index, cs, &data) {
            self.failed = true;
            tracing::error!(node = %self.id, error = %e, "checkpoint failed; node stops");
            return Err(e);
        }
        tracing::debug!(node = %self.id, index, size_bytes = data.len(), "checkpoint taken, log compacted");
        Ok(Some(LogIndex(index)))
    }
}

/// A change that adds `id` as a learner (it receives the log, does not vote).
pub fn add_learner(id: NodeId) -> ConfChangeV2 {
    single(ConfChangeType::AddLearnerNode, id)
}

/// A change that makes `id` a voter (adds it, or promotes a learner).
pub fn promote_voter(id: NodeId) -> ConfChangeV2 {
    single(ConfChangeType::AddNode, id)
}

/// A change that removes `id`.
pub fn remove_node(id: NodeId) -> ConfChangeV2 {
    single(ConfChangeType::RemoveNode, id)
}

/// Several changes at once: raft goes through a joint configuration
/// (Raft thesis §4.3) and leaves it automatically.
pub fn joint(changes: &[ConfChangeV2]) -> ConfChangeV2 {
    let mut cc = ConfChangeV2::default();
    for c in changes {
        for s in c.get_changes() {
            cc.mut_changes().push(s.clone());
        }
    }
    cc
}

fn single(t: ConfChangeType, id: NodeId) -> ConfChangeV2 {
    let mut s = ConfChangeSingle::default();
    s.set_change_type(t);
    s.node_id = id.0;
    let mut cc = ConfChangeV2::default();
    cc.mut_changes().push(s);
    cc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the entries it applies.
    #[derive(Default)]
    struct Count(u64);

    impl StateMachine for Count {
        fn apply(&mut self, _index: LogIndex, _data: &[u8]) -> Vec<u8> {
            self.0 += 1;
            Vec::new()
        }
        fn checkpoint(&self) -> Vec<u8> {
            self.0.to_le_bytes().to_vec()
        }
        fn restore(&mut self, bytes: &[u8]) -> Result<(), String> {
            self.0 = u64::from_le_bytes(bytes.try_into().map_err(|_| "length")?);
            Ok(())
        }
    }

    fn three() -> Vec<Node<Count>> {
        let ids: Vec<NodeId> = (1..=3).map(NodeId).collect();
        ids.iter()
            .map(|id| {
                let store: Arc<dyn KvStore> = Arc::new(store::MemStore::new());
                Node::bootstrap(store.clone(), b"raft/", &ids, Count::default()).expect("boot");
                Node::open(Config::new(*id), store, Count::default()).expect("open")
            })
            .collect()
    }

    /// Deliver every message until none is left (no ticks: no elections
    /// but the ones asked for).
    fn settle(nodes: &mut [Node<Count>]) {
        for _ in 0..100 {
            let mut sent = Vec::new();
            for n in nodes.iter_mut() {
                let from = n.id();
                let out = n.process_ready().expect("ready");
                sent.extend(out.messages.into_iter().map(|ob| (from, ob)));
            }
            if sent.is_empty() {
                return;
            }
            for (from, ob) in sent {
                let to = (ob.to.0 - 1) as usize;
                nodes[to].step(from, ob.message).expect("step");
            }
        }
        panic!("messages still flowing after 100 rounds");
    }

    #[test]
    fn leadership_moves_to_the_voter_not_excluded() {
        let mut nodes = three();
        nodes[0].campaign().expect("campaign");
        settle(&mut nodes);
        assert_eq!(nodes[0].role(), Role::Leader);
        let term = nodes[0].term();
        assert_eq!(nodes[0].transfer_candidate(&[]), Some(NodeId(2)), "lowest id on a tie");
        assert_eq!(nodes[1].transfer_candidate(&[]), None, "only a leader transfers");
        let to = nodes[0].transfer_candidate(&[NodeId(2)]).expect("a candidate");
        assert_eq!(to, NodeId(3));
        nodes[0].transfer_leadership(to).expect("transfer");
        settle(&mut nodes);
        assert_eq!(nodes[2].role(), Role::Leader, "{:?}", nodes[2].status());
        assert_eq!(nodes[0].role(), Role::Follower);
        assert!(nodes[0].term() > term);
        assert_eq!(nodes[0].status().leader, Some(NodeId(3)));
        // Refusals: not the leader, to itself, to a non-voter.
        assert!(matches!(
            nodes[0].transfer_leadership(NodeId(2)),
            Err(ConfChangeError::NotLeader { leader: Some(NodeId(3)) })
        ));
        assert!(nodes[2].transfer_leadership(NodeId(3)).is_err());
        assert!(nodes[2].transfer_leadership(NodeId(9)).is_err());
        assert_eq!(nodes[2].transfer_candidate(&[NodeId(1), NodeId(2)]), None);
    }
}
