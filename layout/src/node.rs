//! Nodes as the cluster map describes them: id, address, failure domain,
//! capacity weight and life-cycle state.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A node of the cluster.
///
/// Allocated by the cluster (the metadata state machine hands out
/// [`ClusterMap::next_node_id`](crate::ClusterMap::next_node_id) when a node
/// joins); never chosen by the joining node and never reused, so a chunk
/// placed on node `n` in an old map version still means the same machine.
/// The number is also the input to placement hashing: renumbering a node
/// moves its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u64);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {}", self.0)
    }
}

/// A label for a set of nodes that may fail together (a rack, a host, a
/// power feed). Placement puts the replicas of a chunk in distinct failure
/// domains while it can ([`crate::place`]).
///
/// Only equality matters; the text is compared byte for byte (no case
/// folding). An empty label is rejected by [`crate::ClusterMap::add_node`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FailureDomain(String);

impl FailureDomain {
    /// A domain with label `label`.
    pub fn new(label: impl Into<String>) -> Self {
        FailureDomain(label.into())
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FailureDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a node is in its life in the cluster. Liveness (up, down,
/// unreachable) is *not* part of the map: it changes too fast to go through
/// Raft and is the write path's business ([`crate::place_live`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NodeState {
    /// Takes new data in proportion to its weight (none if the weight is 0).
    Active,
    /// Takes no new data; the rebalancer moves its chunks to their new homes.
    /// Still serves reads of the data it holds.
    Draining,
    /// Has left the cluster. Kept as a tombstone so its id is never reused;
    /// takes no data and cannot come back (a returning machine joins with a
    /// new id).
    Removed,
}

/// One node as the cluster map records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The node's id; equal to its key in the map.
    pub id: NodeId,
    /// Where peers reach the node (NFS and replica traffic), as text, e.g.
    /// `host:port`. Not parsed here.
    pub addr: String,
    /// The failure domain the node belongs to.
    pub domain: FailureDomain,
    /// Capacity weight: the node's share of new data is proportional to it.
    /// 0 = takes no new data (like [`NodeState::Draining`]).
    pub weight: u32,
    /// Life-cycle state.
    pub state: NodeState,
}

impl NodeInfo {
    /// An [`NodeState::Active`] node.
    pub fn new(id: NodeId, addr: impl Into<String>, domain: FailureDomain, weight: u32) -> Self {
        NodeInfo { id, addr: addr.into(), domain, weight, state: NodeState::Active }
    }

    /// True when placement may choose this node for new data: active and
    /// with a positive weight.
    pub fn is_eligible(&self) -> bool {
        self.state == NodeState::Active && self.weight > 0
    }
}
