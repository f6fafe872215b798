//! Errors at the crate boundary, in two tiers: the operation's own error
//! ([`ProposeError`], [`ReadError`], [`ConfChangeError`]: the caller may
//! retry or go elsewhere) and [`Error`], which is fatal to the node (its
//! storage or state machine is broken; the owner stops the node).

use crate::codec::DecodeError;
use crate::ids::NodeId;

/// A fatal error: the node stops (every later call returns
/// [`Error::Stopped`]). Logged once, where the node stops.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The key-value store failed.
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    /// Bytes read back from the store are not what this crate wrote.
    #[error("corrupt raft log: {0}")]
    Corrupt(String),
    /// The raft log was written in another format version.
    #[error("raft log format version {found} is not the supported version {expected}")]
    Version {
        /// The version found in the store.
        found: u32,
        /// The version this build reads and writes.
        expected: u32,
    },
    /// raft-rs refused an operation that must not fail.
    #[error("raft: {0}")]
    Raft(#[from] raft::Error),
    /// The state machine could not restore a checkpoint.
    #[error("state machine: {0}")]
    StateMachine(String),
    /// The store already holds a raft log (bootstrap on a used store).
    #[error("the store already holds an initialized raft log")]
    AlreadyInitialized,
    /// An invalid configuration.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The node hit a fatal error earlier and no longer runs.
    #[error("the node stopped after a fatal error")]
    Stopped,
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Corrupt(e.to_string())
    }
}

/// Why a proposal was not accepted. Nothing was proposed; the caller may
/// retry (with the same request id) later or at another node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProposeError {
    /// No leader is known (an election is running, or this node is cut off).
    #[error("no leader is known")]
    NoLeader,
    /// Too many proposals of this node are waiting (`pending_proposals_max`).
    #[error("too many pending proposals")]
    TooManyPending,
    /// The payload exceeds `proposal_size_bytes_max`.
    #[error("proposal of {size_bytes} bytes is larger than the limit")]
    TooLarge {
        /// The payload's size.
        size_bytes: usize,
    },
    /// A proposal with this request id is already waiting here.
    #[error("a proposal with this request id is already pending")]
    AlreadyPending,
    /// raft-rs dropped the proposal (leadership transfer, uncommitted-size
    /// limit).
    #[error("raft dropped the proposal")]
    Dropped,
    /// The node stopped after a fatal error.
    #[error("the node stopped")]
    Stopped,
}

/// Why a ReadIndex request was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// A read with this context is already pending.
    #[error("a read with this context is already pending")]
    AlreadyPending,
    /// Too many reads are waiting (`pending_reads_max`).
    #[error("too many pending reads")]
    TooManyPending,
    /// The node stopped after a fatal error.
    #[error("the node stopped")]
    Stopped,
}

/// Why a membership change was not proposed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfChangeError {
    /// Only the leader proposes membership changes.
    #[error("not the leader (leader: {leader:?})")]
    NotLeader {
        /// The leader, when known.
        leader: Option<NodeId>,
    },
    /// A proposal with this request id is already waiting here.
    #[error("a proposal with this request id is already pending")]
    AlreadyPending,
    /// raft-rs refused the change (for example another change is pending).
    #[error("raft refused the change: {0}")]
    Refused(String),
    /// The node stopped after a fatal error.
    #[error("the node stopped")]
    Stopped,
}
