//! Helpers shared by the integration tests.

#![allow(dead_code)] // each test binary uses a different part

use fsapi::InodeId;
use layout::{ChunkKey, ClusterMap, FailureDomain, NodeId, NodeInfo, NodeState};
use proptest::prelude::*;

/// A node with id `id` in domain `domain` of weight `weight`.
pub fn node(id: u64, domain: &str, weight: u32) -> NodeInfo {
    NodeInfo::new(NodeId(id), format!("node{id}:2049"), FailureDomain::new(domain), weight)
}

/// The map holding `nodes`, added in the given order.
pub fn map_of(nodes: impl IntoIterator<Item = NodeInfo>) -> ClusterMap {
    nodes.into_iter().fold(ClusterMap::new(), |m, n| m.add_node(n).expect("valid node"))
}

/// `count` nodes, ids 1..=count, each in its own domain, weight 1.
pub fn flat(count: u64) -> ClusterMap {
    map_of((1..=count).map(|id| node(id, &format!("host{id}"), 1)))
}

/// `count` chunk keys spread over a few files, the way a real namespace
/// looks (many chunks per inode, consecutive chunk indices).
pub fn keys(count: u64) -> impl Iterator<Item = ChunkKey> {
    (0..count).map(|i| ChunkKey::new(InodeId(1000 + i / 64), i % 64))
}

/// A random node description: id, domain (from a small pool so domains are
/// shared), weight (0 possible), state (mostly active).
pub fn arb_node() -> impl Strategy<Value = NodeInfo> {
    (
        0u64..64,
        0usize..4,
        prop_oneof![1 => Just(0u32), 6 => 1u32..8, 1 => Just(u32::MAX)],
        prop_oneof![6 => Just(NodeState::Active), 1 => Just(NodeState::Draining)],
    )
        .prop_map(|(id, d, weight, state)| {
            let mut n = node(id, ["rack-a", "rack-b", "rack-c", "rack-d"][d], weight);
            n.state = state;
            n
        })
}

/// 0..=12 nodes with distinct ids, in random order.
pub fn arb_nodes() -> impl Strategy<Value = Vec<NodeInfo>> {
    proptest::collection::btree_map(0u64..64, arb_node(), 0..=12)
        .prop_map(|m| {
            m.into_iter()
                .map(|(id, mut n)| {
                    n.id = NodeId(id);
                    n
                })
                .collect::<Vec<_>>()
        })
        .prop_shuffle()
}

/// A random chunk key, including extreme values.
pub fn arb_key() -> impl Strategy<Value = ChunkKey> {
    (any::<u64>(), prop_oneof![0u64..1000, any::<u64>()])
        .prop_map(|(i, c)| ChunkKey::new(InodeId(i), c))
}
