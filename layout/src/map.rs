//! The versioned cluster map: which nodes exist, where they sit, how much
//! data each should take. Every change is a pure function returning the next
//! version; the map itself is kept in Raft by the metadata state machine.

use crate::error::MapError;
use crate::node::{NodeId, NodeInfo, NodeState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Format version of a serialized [`ClusterMap`]; the first field written.
pub const CLUSTER_MAP_FORMAT: u32 = 1;
/// Most entries a map holds, tombstones ([`NodeState::Removed`]) included.
pub const NODE_COUNT_MAX: usize = 4096;
/// Longest failure domain label, in bytes.
pub const DOMAIN_LABEL_MAX_BYTES: usize = 255;
/// Longest node address, in bytes.
pub const ADDR_MAX_BYTES: usize = 255;

/// The version of a [`ClusterMap`]. Grows by one with every change, so two
/// maps with the same version are the same map (they come from the same
/// Raft log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MapVersion(pub u64);

impl fmt::Display for MapVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// The cluster map: a version and the nodes, ordered by id.
///
/// Invariants (kept by every operation and checked when decoding):
/// - each entry's key equals its [`NodeInfo::id`];
/// - every node has a non-empty domain and address within the limits;
/// - at most [`NODE_COUNT_MAX`] entries;
/// - a [`NodeState::Removed`] node never changes again and its id is never
///   reused.
///
/// Operations do not change `self`: they return the next map, version + 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ClusterMapWire", into = "ClusterMapWire")]
pub struct ClusterMap {
    version: MapVersion,
    nodes: BTreeMap<NodeId, NodeInfo>,
}

impl Default for ClusterMap {
    fn default() -> Self {
        Self::new()
    }
}

impl ClusterMap {
    /// The empty map, version 0.
    pub fn new() -> Self {
        ClusterMap { version: MapVersion(0), nodes: BTreeMap::new() }
    }

    /// This map's version.
    pub fn version(&self) -> MapVersion {
        self.version
    }

    /// All entries, tombstones included, ordered by id.
    pub fn nodes(&self) -> &BTreeMap<NodeId, NodeInfo> {
        &self.nodes
    }

    /// The entry for `id`.
    pub fn node(&self, id: NodeId) -> Option<&NodeInfo> {
        self.nodes.get(&id)
    }

    /// The nodes placement may choose for new data ([`NodeInfo::is_eligible`]),
    /// ordered by id.
    pub fn eligible(&self) -> impl Iterator<Item = &NodeInfo> {
        self.nodes.values().filter(|n| n.is_eligible())
    }

    /// The id the cluster should give the next node to join: one past the
    /// highest id ever used (tombstones count, so ids are never reused).
    pub fn next_node_id(&self) -> NodeId {
        // `NODE_COUNT_MAX` entries cannot reach u64::MAX by counting, but an id
        // may have been chosen high by hand: saturate and let add_node refuse.
        NodeId(self.nodes.keys().next_back().map_or(1, |id| id.0.saturating_add(1)))
    }

    /// The map with `info` added, version + 1.
    ///
    /// # Errors
    /// [`MapError::DuplicateNode`] if the id is taken (even by a removed node),
    /// [`MapError::InvalidState`] for a `Removed` newcomer, the validation
    /// errors of the address and domain, [`MapError::TooManyNodes`].
    pub fn add_node(&self, info: NodeInfo) -> Result<ClusterMap, MapError> {
        if self.nodes.contains_key(&info.id) {
            return Err(MapError::DuplicateNode(info.id));
        }
        if info.state == NodeState::Removed {
            return Err(MapError::InvalidState { id: info.id, state: info.state });
        }
        if self.nodes.len() >= NODE_COUNT_MAX {
            return Err(MapError::TooManyNodes { max: NODE_COUNT_MAX });
        }
        validate_node(&info)?;
        let mut next = self.bumped()?;
        next.nodes.insert(info.id, info);
        Ok(next)
    }

    /// The map with `id` marked [`NodeState::Removed`] (a tombstone), version + 1.
    /// Its chunks are placed elsewhere from this version on; the rebalancer
    /// copies them from the surviving replicas (or from the node, if it is
    /// still up, through [`crate::MapHistory`]).
    ///
    /// # Errors
    /// [`MapError::UnknownNode`], [`MapError::NodeRemoved`].
    pub fn remove_node(&self, id: NodeId) -> Result<ClusterMap, MapError> {
        self.set_state(id, NodeState::Removed)
    }

    /// The map with `id`'s capacity weight set to `weight`, version + 1.
    ///
    /// # Errors
    /// [`MapError::UnknownNode`], [`MapError::NodeRemoved`].
    pub fn set_weight(&self, id: NodeId, weight: u32) -> Result<ClusterMap, MapError> {
        self.change(id, |n| n.weight = weight)
    }

    /// The map with `id` in `state`, version + 1. `Removed` is final.
    ///
    /// # Errors
    /// [`MapError::UnknownNode`], [`MapError::NodeRemoved`].
    pub fn set_state(&self, id: NodeId, state: NodeState) -> Result<ClusterMap, MapError> {
        self.change(id, |n| n.state = state)
    }

    /// The map with `id`'s address set to `addr`, version + 1. Placement
    /// does not depend on addresses, so this moves no data.
    ///
    /// # Errors
    /// [`MapError::UnknownNode`], [`MapError::NodeRemoved`], the address
    /// validation errors.
    pub fn set_addr(&self, id: NodeId, addr: impl Into<String>) -> Result<ClusterMap, MapError> {
        let addr = addr.into();
        let next = self.change(id, |n| n.addr = addr)?;
        validate_node(&next.nodes[&id])?;
        Ok(next)
    }

    fn change(&self, id: NodeId, f: impl FnOnce(&mut NodeInfo)) -> Result<ClusterMap, MapError> {
        match self.nodes.get(&id) {
            None => return Err(MapError::UnknownNode(id)),
            Some(n) if n.state == NodeState::Removed => return Err(MapError::NodeRemoved(id)),
            Some(_) => {}
        }
        let mut next = self.bumped()?;
        if let Some(n) = next.nodes.get_mut(&id) {
            f(n);
        }
        Ok(next)
    }

    fn bumped(&self) -> Result<ClusterMap, MapError> {
        let version = self.version.0.checked_add(1).ok_or(MapError::VersionOverflow)?;
        Ok(ClusterMap { version: MapVersion(version), nodes: self.nodes.clone() })
    }
}

fn validate_node(n: &NodeInfo) -> Result<(), MapError> {
    let domain = n.domain.as_str().len();
    if domain == 0 {
        return Err(MapError::EmptyDomain(n.id));
    }
    if domain > DOMAIN_LABEL_MAX_BYTES {
        return Err(MapError::DomainTooLong { id: n.id, len: domain, max: DOMAIN_LABEL_MAX_BYTES });
    }
    if n.addr.is_empty() {
        return Err(MapError::EmptyAddress(n.id));
    }
    if n.addr.len() > ADDR_MAX_BYTES {
        return Err(MapError::AddressTooLong { id: n.id, len: n.addr.len(), max: ADDR_MAX_BYTES });
    }
    Ok(())
}

/// The serialized form of a [`ClusterMap`]: the format version first, then
/// the map version, then the nodes in id order. A later format must keep
/// `format` as its first field so an old reader can name what it refuses.
#[derive(Serialize, Deserialize)]
struct ClusterMapWire {
    format: u32,
    version: MapVersion,
    nodes: Vec<NodeInfo>,
}

impl From<ClusterMap> for ClusterMapWire {
    fn from(map: ClusterMap) -> Self {
        ClusterMapWire {
            format: CLUSTER_MAP_FORMAT,
            version: map.version,
            nodes: map.nodes.into_values().collect(),
        }
    }
}

impl TryFrom<ClusterMapWire> for ClusterMap {
    type Error = MapError;

    fn try_from(wire: ClusterMapWire) -> Result<Self, MapError> {
        if wire.format != CLUSTER_MAP_FORMAT {
            return Err(MapError::FormatVersion {
                found: wire.format,
                expected: CLUSTER_MAP_FORMAT,
            });
        }
        if wire.nodes.len() > NODE_COUNT_MAX {
            return Err(MapError::TooManyNodes { max: NODE_COUNT_MAX });
        }
        let mut nodes = BTreeMap::new();
        for n in wire.nodes {
            validate_node(&n)?;
            let id = n.id;
            if nodes.insert(id, n).is_some() {
                return Err(MapError::DuplicateNode(id));
            }
        }
        Ok(ClusterMap { version: wire.version, nodes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::FailureDomain;

    fn node(id: u64) -> NodeInfo {
        NodeInfo::new(NodeId(id), format!("n{id}:2049"), FailureDomain::new("rack-a"), 1)
    }

    /// Each successful operation yields version + 1 and leaves the input alone.
    #[test]
    fn operations_bump_the_version() {
        let m0 = ClusterMap::new();
        let m1 = m0.add_node(node(1)).expect("add");
        let m2 = m1.set_weight(NodeId(1), 5).expect("weight");
        let m3 = m2.set_state(NodeId(1), NodeState::Draining).expect("state");
        let m4 = m3.set_addr(NodeId(1), "x:1").expect("addr");
        let m5 = m4.remove_node(NodeId(1)).expect("remove");
        let versions: Vec<u64> =
            [&m0, &m1, &m2, &m3, &m4, &m5].iter().map(|m| m.version().0).collect();
        assert_eq!(versions, [0, 1, 2, 3, 4, 5]);
        assert!(m0.nodes().is_empty());
        assert_eq!(m1.node(NodeId(1)).map(|n| n.weight), Some(1));
        assert_eq!(m5.node(NodeId(1)).map(|n| n.state), Some(NodeState::Removed));
    }

    /// The validation errors, one by one; a removed id is never reused.
    #[test]
    fn validation_errors() {
        let m = ClusterMap::new().add_node(node(1)).expect("add");
        assert_eq!(m.add_node(node(1)), Err(MapError::DuplicateNode(NodeId(1))));
        assert_eq!(m.set_weight(NodeId(2), 1), Err(MapError::UnknownNode(NodeId(2))));
        let mut empty = node(2);
        empty.domain = FailureDomain::new("");
        assert_eq!(m.add_node(empty), Err(MapError::EmptyDomain(NodeId(2))));
        let mut long = node(2);
        long.domain = FailureDomain::new("d".repeat(DOMAIN_LABEL_MAX_BYTES + 1));
        assert!(matches!(m.add_node(long), Err(MapError::DomainTooLong { .. })));
        let mut no_addr = node(2);
        no_addr.addr.clear();
        assert_eq!(m.add_node(no_addr), Err(MapError::EmptyAddress(NodeId(2))));
        assert!(matches!(m.set_addr(NodeId(1), ""), Err(MapError::EmptyAddress(_))));
        let mut removed = node(2);
        removed.state = NodeState::Removed;
        assert!(matches!(m.add_node(removed), Err(MapError::InvalidState { .. })));

        let gone = m.remove_node(NodeId(1)).expect("remove");
        assert_eq!(gone.add_node(node(1)), Err(MapError::DuplicateNode(NodeId(1))));
        assert_eq!(
            gone.set_state(NodeId(1), NodeState::Active),
            Err(MapError::NodeRemoved(NodeId(1)))
        );
        assert_eq!(gone.remove_node(NodeId(1)), Err(MapError::NodeRemoved(NodeId(1))));
        assert_eq!(gone.next_node_id(), NodeId(2));
    }

    /// The map refuses to grow past NODE_COUNT_MAX entries.
    #[test]
    fn node_count_is_limited() {
        // Built directly: adding 4096 nodes one by one clones the map 4096 times.
        let nodes = (0..NODE_COUNT_MAX as u64).map(|id| (NodeId(id), node(id))).collect();
        let m = ClusterMap { version: MapVersion(1), nodes };
        assert_eq!(m.add_node(node(u64::MAX)), Err(MapError::TooManyNodes { max: NODE_COUNT_MAX }));
    }

    /// The version counter does not wrap.
    #[test]
    fn version_does_not_wrap() {
        let m = ClusterMap { version: MapVersion(u64::MAX), nodes: BTreeMap::new() };
        assert_eq!(m.add_node(node(1)), Err(MapError::VersionOverflow));
    }
}
