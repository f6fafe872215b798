//! Id newtypes: a node, a position in the Raft log, a proposal's request id.

use std::fmt;

/// A Raft peer's id. Never 0 (raft-rs reserves 0 for "none").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u64);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A position in the Raft log (Raft §5.3: entries are identified by index
/// and term).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LogIndex(pub u64);

impl fmt::Display for LogIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The id of one proposal: the node whose caller issued it and a sequence
/// number that node never reuses (see `Node::next_request_id`).
///
/// The proposer matches applied entries to its waiting callers by this id,
/// never by position; the replicated state applies each id at most once, so
/// a caller may retry with the same id after an unknown outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId {
    /// The node whose caller proposed.
    pub node: NodeId,
    /// Unique among that node's request ids, across restarts.
    pub seq: u64,
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.node, self.seq)
    }
}
