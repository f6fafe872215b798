//! `consensus`: Cairn's Raft.
//!
//! Owns the only use of `raft` (raft-rs) in the workspace: the raft log over
//! the [`store::KvStore`] trait ([`RaftLog`]), the sans-I/O peer ([`Node`]:
//! the Ready loop, proposals tracked by request id, forwarding from
//! followers to the leader, ReadIndex, membership changes, log compaction
//! by checkpoints), the peer message encoding ([`PeerMessage`]), and the
//! I/O around the core: the authenticated TCP [`Transport`] and the
//! [`RaftDriver`] thread that runs a node with real time.
//!
//! Must not: do I/O in the core (`Node`, `RaftLog` through the store only),
//! read a clock there, or draw randomness except from the configured seed —
//! the owner drives time with [`Node::tick`] and moves messages, which is
//! what lets one seed replay a whole simulated cluster (module `sim`, built for
//! this crate's tests and with the `sim` feature). The
//! state machine applied by the nodes is the application's
//! ([`StateMachine`]); `meta` provides Cairn's.
//!
//! Invariants (checked by the simulation after every step):
//! - at most one leader per term; logs match (same index and term, same
//!   entry); nodes at the same applied index have the same state;
//! - a request id is applied at most once (a dedup table inside the
//!   replicated state, so it is the same on every node and survives
//!   checkpoints); a proposal acknowledged to its caller is in the state of
//!   every node that applied past it;
//! - every change of one Ready is one write batch, flushed before anything
//!   that depends on it is sent or applied;
//! - bytes from disk or network never panic: they decode or fail.
//!
//! Words: a raft-rs "snapshot" is a *checkpoint* here (log compaction); the
//! word snapshot belongs to the filesystem's `.snap` (DESIGN.md §7).
//!
//! See `ARCHITECTURE.md` next to this crate.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod checkpoint_stream;
mod codec;
mod driver;
mod error;
mod ids;
mod log;
mod logging;
mod message;
mod node;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
mod state_machine;
mod transport;

pub use codec::DecodeError;
pub use driver::{DriverConfig, DriverError, DriverHandle, DriverInbox, OutboundSink, RaftDriver};
pub use error::{ConfChangeError, Error, ProposeError, ReadError};
pub use ids::{LogIndex, NodeId, RequestId};
pub use log::{RaftLog, CHECKPOINT_PIECE_BYTES, LOG_FORMAT_VERSION};
pub use logging::{raft_logger, TracingDrain};
pub use message::{Outbound, PeerMessage, PEER_MESSAGE_VERSION};
pub use node::{
    add_learner, joint, promote_voter, remove_node, Config, Node, Output, ProposalOutcome,
    ReadOutcome, Role, Status, UnknownReason,
};
pub use state_machine::{Proposal, StateMachine, DEDUP_WINDOW_PER_NODE};
pub use transport::{SendError, Transport, TransportConfig, TransportEvents, TRANSPORT_VERSION};

/// raft-rs's protobuf types that appear in this crate's API
/// (`ConfChangeV2` for membership changes).
pub use raft::eraftpb;
