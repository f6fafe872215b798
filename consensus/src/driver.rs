//! [`RaftDriver`]: the one thread that owns a [`Node`] and runs its loop
//! with real time: a bounded input channel (peer messages, callers'
//! requests), a tick every `tick_interval`, `process_ready` after each
//! batch of inputs, and the [`Output`](crate::Output) carried out (messages
//! to the transport, answers to the waiting callers, checkpoints).
//!
//! Callers hold a [`DriverHandle`] (async, cheap to clone). Nothing blocks
//! the caller's runtime: inputs are queued with `try_send` (a full queue
//! answers [`DriverError::Busy`]) and answers come back on oneshot channels.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::eraftpb::ConfChangeV2;
use crate::error::{ConfChangeError, ProposeError, ReadError};
use crate::ids::{LogIndex, NodeId, RequestId};
use crate::message::{Outbound, PeerMessage};
use crate::node::{Node, ProposalOutcome, ReadOutcome, Status};
use crate::state_machine::StateMachine;
use crate::transport::TransportEvents;

/// Most inputs handled between two `process_ready` calls.
const INPUT_BATCH_MAX: usize = 256;

/// The driver's settings.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// Real time per [`Node::tick`].
    pub tick_interval: Duration,
    /// Capacity of the input channel.
    pub input_queue_len: usize,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig { tick_interval: Duration::from_millis(100), input_queue_len: 4096 }
    }
}

/// Why a driver request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The input queue is full: retry later.
    #[error("the raft loop is busy")]
    Busy,
    /// The driver thread stopped.
    #[error("the raft loop stopped")]
    Stopped,
    /// The proposal was refused.
    #[error(transparent)]
    Propose(#[from] ProposeError),
    /// The read was refused.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The membership change was refused.
    #[error(transparent)]
    ConfChange(#[from] ConfChangeError),
    /// The ReadIndex request got no answer (no leader, leader change).
    #[error("no linearizable read point could be obtained")]
    ReadFailed,
}

type Query<S> = Box<dyn FnOnce(&S) + Send>;
type ProposeReply = oneshot::Sender<Result<ProposalOutcome, DriverError>>;
type ReadReply = oneshot::Sender<Result<(), DriverError>>;

enum Input<S> {
    Peer(NodeId, PeerMessage),
    Unreachable(NodeId),
    CheckpointSent(NodeId, bool),
    Propose(RequestId, Vec<u8>, ProposeReply),
    ConfChange(RequestId, ConfChangeV2, ProposeReply),
    Read(Query<S>, ReadReply),
    NextRequestId(oneshot::Sender<Result<RequestId, DriverError>>),
    TransferLeadership(Vec<NodeId>, oneshot::Sender<Result<NodeId, DriverError>>),
    Status(oneshot::Sender<Status>),
    Stop,
}

/// A handle to a running driver.
pub struct DriverHandle<S> {
    tx: SyncSender<Input<S>>,
}

impl<S> Clone for DriverHandle<S> {
    fn clone(&self) -> Self {
        DriverHandle { tx: self.tx.clone() }
    }
}

impl<S> std::fmt::Debug for DriverHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DriverHandle")
    }
}

impl<S: StateMachine> DriverHandle<S> {
    fn submit(&self, input: Input<S>) -> Result<(), DriverError> {
        self.tx.try_send(input).map_err(|e| match e {
            TrySendError::Full(_) => DriverError::Busy,
            TrySendError::Disconnected(_) => DriverError::Stopped,
        })
    }

    /// A fresh request id of this node.
    pub async fn next_request_id(&self) -> Result<RequestId, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.submit(Input::NextRequestId(tx))?;
        rx.await.map_err(|_| DriverError::Stopped)?
    }

    /// Propose `payload` and wait for its outcome. After
    /// `OutcomeUnknown`, proposing again with the same id is safe.
    pub async fn propose(
        &self,
        id: RequestId,
        payload: Vec<u8>,
    ) -> Result<ProposalOutcome, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.submit(Input::Propose(id, payload, tx))?;
        rx.await.map_err(|_| DriverError::Stopped)?
    }

    /// Propose a membership change (at the leader) and wait for it.
    pub async fn change_membership(
        &self,
        id: RequestId,
        cc: ConfChangeV2,
    ) -> Result<ProposalOutcome, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.submit(Input::ConfChange(id, cc, tx))?;
        rx.await.map_err(|_| DriverError::Stopped)?
    }

    /// A linearizable read: wait for a ReadIndex point, then run `f` on the
    /// local state machine once it has applied that far.
    pub async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&S) -> R + Send + 'static,
    ) -> Result<R, DriverError> {
        let (rtx, rrx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let query: Query<S> = Box::new(move |s: &S| {
            let _ = rtx.send(f(s));
        });
        self.submit(Input::Read(query, done_tx))?;
        done_rx.await.map_err(|_| DriverError::Stopped)??;
        rrx.await.map_err(|_| DriverError::Stopped)
    }

    /// At the leader: hand leadership to the voter with the highest match
    /// index that is not in `except` ([`Node::transfer_candidate`],
    /// [`Node::transfer_leadership`]). Answers the chosen voter once the
    /// transfer started; the caller watches [`DriverHandle::status`] for
    /// the outcome (raft-rs abandons a transfer after an election timeout).
    pub async fn transfer_leadership(&self, except: Vec<NodeId>) -> Result<NodeId, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.submit(Input::TransferLeadership(except, tx))?;
        rx.await.map_err(|_| DriverError::Stopped)?
    }

    /// The node's status.
    pub async fn status(&self) -> Result<Status, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.submit(Input::Status(tx))?;
        rx.await.map_err(|_| DriverError::Stopped)
    }

    /// Ask the driver thread to stop (pending callers get `Stopped`).
    pub fn stop(&self) {
        // A full queue still sees the disconnect when the handles drop.
        let _ = self.tx.try_send(Input::Stop);
    }
}

impl<S: StateMachine> TransportEvents for DriverHandle<S> {
    fn received(&self, from: NodeId, msg: PeerMessage) {
        // A full queue drops the message; raft retransmits.
        let _ = self.submit(Input::Peer(from, msg));
    }
    fn unreachable(&self, peer: NodeId) {
        let _ = self.submit(Input::Unreachable(peer));
    }
    fn checkpoint_sent(&self, peer: NodeId, delivered: bool) {
        let _ = self.submit(Input::CheckpointSent(peer, delivered));
    }
}

/// Builds and starts the driver thread.
#[derive(Debug)]
pub struct RaftDriver;

/// Where the driver sends outbound messages (the transport).
pub type OutboundSink = Box<dyn FnMut(Outbound) + Send>;

impl RaftDriver {
    /// Create the input channel first, so the transport can be given the
    /// handle before the node starts.
    pub fn channel<S: StateMachine>(cfg: &DriverConfig) -> (DriverHandle<S>, DriverInbox<S>) {
        let (tx, rx) = mpsc::sync_channel(cfg.input_queue_len.max(1));
        (DriverHandle { tx }, DriverInbox { rx, cfg: cfg.clone() })
    }
}

/// The receiving end of a driver's channel, before the thread starts.
pub struct DriverInbox<S> {
    rx: mpsc::Receiver<Input<S>>,
    cfg: DriverConfig,
}

impl<S> std::fmt::Debug for DriverInbox<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverInbox").field("cfg", &self.cfg).finish()
    }
}

struct Loop<S: StateMachine> {
    node: Node<S>,
    send: OutboundSink,
    proposals: BTreeMap<RequestId, ProposeReply>,
    reads: BTreeMap<Vec<u8>, (Query<S>, ReadReply)>,
    read_seq: Arc<AtomicU64>,
}

impl<S: StateMachine> DriverInbox<S> {
    /// Run `node` on a new thread named `raft-<id>`.
    pub fn spawn(self, node: Node<S>, send: OutboundSink) -> std::io::Result<JoinHandle<()>> {
        let name = format!("raft-{}", node.id().0);
        std::thread::Builder::new().name(name).spawn(move || {
            let mut l = Loop {
                node,
                send,
                proposals: BTreeMap::new(),
                reads: BTreeMap::new(),
                read_seq: Arc::new(AtomicU64::new(0)),
            };
            l.run(self.rx, self.cfg.tick_interval);
        })
    }
}

impl<S: StateMachine> Loop<S> {
    fn run(&mut self, rx: mpsc::Receiver<Input<S>>, tick: Duration) {
        let mut next_tick = Instant::now() + tick;
        loop {
            let wait = next_tick.saturating_duration_since(Instant::now());
            let mut stop = false;
            match rx.recv_timeout(wait) {
                Ok(input) => stop |= self.handle(input),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => stop = true,
            }
            for _ in 1..INPUT_BATCH_MAX {
                match rx.try_recv() {
                    Ok(input) => stop |= self.handle(input),
                    Err(_) => break,
                }
            }
            let now = Instant::now();
            if now >= next_tick {
                self.node.tick();
                next_tick += tick;
                if next_tick < now {
                    // Fell far behind (a stall): do not tick in a burst.
                    next_tick = now + tick;
                }
            }
            if stop || !self.process() {
                break;
            }
        }
        for (_, reply) in std::mem::take(&mut self.proposals) {
            let _ = reply.send(Err(DriverError::Stopped));
        }
        for (_, (_, reply)) in std::mem::take(&mut self.reads) {
            let _ = reply.send(Err(DriverError::Stopped));
        }
    }

    /// Returns true to stop.
    fn handle(&mut self, input: Input<S>) -> bool {
        match input {
            Input::Peer(from, msg) => {
                if self.node.step(from, msg).is_err() {
                    return true;
                }
            }
            Input::Unreachable(peer) => self.node.report_unreachable(peer),
            Input::CheckpointSent(peer, ok) => self.node.report_checkpoint_sent(peer, ok),
            Input::Propose(id, payload, reply) => match self.node.propose(id, payload) {
                Ok(()) => {
                    if let Some(old) = self.proposals.insert(id, reply) {
                        let _ = old.send(Err(DriverError::Propose(ProposeError::AlreadyPending)));
                    }
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
            },
            Input::ConfChange(id, cc, reply) => match self.node.propose_conf_change(id, cc) {
                Ok(()) => {
                    self.proposals.insert(id, reply);
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
            },
            Input::Read(query, reply) => {
                let ctx = self.read_seq.fetch_add(1, Ordering::Relaxed).to_le_bytes().to_vec();
                match self.node.read_index(ctx.clone()) {
                    Ok(()) => {
                        self.reads.insert(ctx, (query, reply));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e.into()));
                    }
                }
            }
            Input::NextRequestId(reply) => {
                let _ = reply.send(self.node.next_request_id().map_err(|_| DriverError::Stopped));
            }
            Input::TransferLeadership(except, reply) => {
                let answer = match self.node.transfer_candidate(&except) {
                    Some(to) => self.node.transfer_leadership(to).map(|()| to),
                    None if self.node.role() != crate::node::Role::Leader => {
                        let leader = self.node.status().leader;
                        Err(ConfChangeError::NotLeader { leader })
                    }
                    None => {
                        Err(ConfChangeError::Refused("no other voter to hand leadership to".into()))
                    }
                };
                let _ = reply.send(answer.map_err(DriverError::from));
            }
            Input::Status(reply) => {
                let _ = reply.send(self.node.status());
            }
            Input::Stop => return true,
        }
        false
    }

    /// Returns false when the node stopped.
    fn process(&mut self) -> bool {
        let out = match self.node.process_ready() {
            Ok(out) => out,
            Err(_) => return false,
        };
        for ob in out.messages {
            (self.send)(ob);
        }
        for (id, outcome) in out.proposals {
            if let Some(reply) = self.proposals.remove(&id) {
                let _ = reply.send(Ok(outcome));
            }
        }
        for (ctx, outcome) in out.reads {
            if let Some((query, reply)) = self.reads.remove(&ctx) {
                match outcome {
                    ReadOutcome::Ready { index: LogIndex(_) } => {
                        query(self.node.state_machine());
                        let _ = reply.send(Ok(()));
                    }
                    ReadOutcome::Failed => {
                        let _ = reply.send(Err(DriverError::ReadFailed));
                    }
                }
            }
        }
        if out.checkpoint_due && self.node.take_checkpoint().is_err() {
            return false;
        }
        true
    }
}
