//! The crate's error types: one for cluster maps and their history, one for
//! stripe geometry.

use crate::map::MapVersion;
use crate::node::{NodeId, NodeState};

/// Why a cluster map operation, a decoded map or a history lookup was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// `add_node` with an id the map already holds (tombstones included:
    /// ids are never reused).
    #[error("{0} is already in the map")]
    DuplicateNode(NodeId),
    /// The operation names a node the map does not hold.
    #[error("{0} is not in the map")]
    UnknownNode(NodeId),
    /// The node is [`NodeState::Removed`]; a removed node cannot change.
    #[error("{0} was removed from the cluster")]
    NodeRemoved(NodeId),
    /// A node's failure domain label is empty.
    #[error("{0}: empty failure domain label")]
    EmptyDomain(NodeId),
    /// A node's failure domain label is longer than [`crate::DOMAIN_LABEL_MAX_BYTES`].
    #[error("{id}: failure domain label of {len} bytes, at most {max} allowed")]
    DomainTooLong {
        /// The node.
        id: NodeId,
        /// The label's length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A node's address is empty.
    #[error("{0}: empty address")]
    EmptyAddress(NodeId),
    /// A node's address is longer than [`crate::ADDR_MAX_BYTES`].
    #[error("{id}: address of {len} bytes, at most {max} allowed")]
    AddressTooLong {
        /// The node.
        id: NodeId,
        /// The address's length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A node cannot join in this state (a new node is never `Removed`).
    #[error("{id} cannot join in state {state:?}")]
    InvalidState {
        /// The node.
        id: NodeId,
        /// The refused state.
        state: NodeState,
    },
    /// The map already holds [`crate::NODE_COUNT_MAX`] entries (tombstones included).
    #[error("the map already holds {max} nodes")]
    TooManyNodes {
        /// The limit.
        max: usize,
    },
    /// The map version would pass `u64::MAX`.
    #[error("map version overflow")]
    VersionOverflow,
    /// A decoded map or history starts with a format this build does not read.
    #[error("format version {found} is not supported (expected {expected})")]
    FormatVersion {
        /// The version found.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// [`crate::MapHistory::push`] of a map that is not newer than the current one.
    #[error("map {new} is not newer than the current {current}")]
    StaleVersion {
        /// The history's newest version.
        current: MapVersion,
        /// The refused version.
        new: MapVersion,
    },
    /// The history does not (or no longer) hold this version.
    #[error("map {0} is not in the history")]
    UnknownVersion(MapVersion),
    /// A decoded history is empty or out of order.
    #[error("malformed map history: {0}")]
    MalformedHistory(&'static str),
}

/// Why a stripe geometry or a byte range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeometryError {
    /// The chunk size is 0, above [`crate::CHUNK_SIZE_MAX_BYTES`], or not a
    /// multiple of the block size; or the block size is 0.
    #[error("invalid geometry: chunk size {chunk_size_bytes} bytes, block size {block_size_bytes} bytes")]
    Invalid {
        /// The refused chunk size.
        chunk_size_bytes: u64,
        /// The refused block size.
        block_size_bytes: u64,
    },
    /// `offset + len` passes `u64::MAX`.
    #[error("byte range at {offset} of {len} bytes passes the end of the address space")]
    RangeOverflow {
        /// Start of the range.
        offset: u64,
        /// Length of the range.
        len: u64,
    },
}
