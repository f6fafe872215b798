//! The last few cluster map versions, so that during a rebalance a reader
//! can find a chunk where an older map put it.

use crate::error::MapError;
use crate::map::{ClusterMap, MapVersion};
use crate::node::{NodeId, NodeState};
use crate::placement::{place, ChunkKey};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Format version of a serialized [`MapHistory`]; the first field written.
pub const MAP_HISTORY_FORMAT: u32 = 1;
/// How many map versions a history keeps unless told otherwise.
pub const MAP_HISTORY_LEN_DEFAULT: usize = 8;

/// The newest few [`ClusterMap`]s, oldest first, versions strictly
/// increasing. Never empty: the newest map is the current one.
///
/// A map change moves data lazily (the rebalancer copies chunks to their new
/// homes in the background), so until it is done a chunk may still sit
/// where an older version put it. The rebalancer calls
/// [`MapHistory::retire_before`] once every chunk has reached its home in a
/// version; the history also drops the oldest map when it would exceed its
/// length limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MapHistoryWire", into = "MapHistoryWire")]
pub struct MapHistory {
    maps: VecDeque<ClusterMap>,
    len_max: usize,
}

impl MapHistory {
    /// A history holding `current` only, keeping up to
    /// [`MAP_HISTORY_LEN_DEFAULT`] versions.
    pub fn new(current: ClusterMap) -> Self {
        Self::with_len_max(current, MAP_HISTORY_LEN_DEFAULT)
    }

    /// A history holding `current` only, keeping up to `len_max` versions
    /// (at least 1).
    pub fn with_len_max(current: ClusterMap, len_max: usize) -> Self {
        MapHistory { maps: VecDeque::from([current]), len_max: len_max.max(1) }
    }

    /// The newest map.
    pub fn current(&self) -> &ClusterMap {
        // Invariant: never empty (constructors and decoding put one in,
        // nothing takes the last one out).
        self.maps.back().expect("a map history is never empty")
    }

    /// The map of version `version`, if still kept.
    pub fn get(&self, version: MapVersion) -> Option<&ClusterMap> {
        self.maps.iter().find(|m| m.version() == version)
    }

    /// The kept maps, oldest first.
    pub fn maps(&self) -> impl DoubleEndedIterator<Item = &ClusterMap> {
        self.maps.iter()
    }

    /// Make `map` the current map, dropping the oldest when over the limit.
    ///
    /// # Errors
    /// [`MapError::StaleVersion`] unless `map` is newer than the current map
    /// (versions may be skipped: a node that missed some learns the newest).
    pub fn push(&mut self, map: ClusterMap) -> Result<(), MapError> {
        let current = self.current().version();
        if map.version() <= current {
            return Err(MapError::StaleVersion { current, new: map.version() });
        }
        self.maps.push_back(map);
        while self.maps.len() > self.len_max {
            self.maps.pop_front();
        }
        Ok(())
    }

    /// Forget the maps older than `version` (the current map always stays).
    pub fn retire_before(&mut self, version: MapVersion) {
        while self.maps.len() > 1 && self.maps.front().is_some_and(|m| m.version() < version) {
            self.maps.pop_front();
        }
    }

    /// Where map `version` places `key` ([`place`] in that map).
    ///
    /// # Errors
    /// [`MapError::UnknownVersion`] if the history does not hold `version`.
    pub fn place_in(
        &self,
        version: MapVersion,
        key: ChunkKey,
        replicas: usize,
    ) -> Result<Vec<NodeId>, MapError> {
        let map = self.get(version).ok_or(MapError::UnknownVersion(version))?;
        Ok(place(map, key, replicas))
    }

    /// Every node that may hold `key` while data moves: the current
    /// placement, then each older map's placement, newest first, without
    /// repeats. Nodes that the current map marks `Removed` are left out
    /// (they have left the cluster). The read path tries them in order and
    /// skips the ones it cannot reach.
    pub fn locations(&self, key: ChunkKey, replicas: usize) -> Vec<NodeId> {
        let current = self.current();
        let mut out: Vec<NodeId> = Vec::new();
        for map in self.maps.iter().rev() {
            for id in place(map, key, replicas) {
                let gone = !matches!(current.node(id), Some(n) if n.state != NodeState::Removed);
                if !gone && !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        out
    }
}

/// The serialized form of a [`MapHistory`]: format first, then the limit,
/// then the maps oldest first (each with its own format field).
#[derive(Serialize, Deserialize)]
struct MapHistoryWire {
    format: u32,
    len_max: usize,
    maps: Vec<ClusterMap>,
}

impl From<MapHistory> for MapHistoryWire {
    fn from(h: MapHistory) -> Self {
        MapHistoryWire { format: MAP_HISTORY_FORMAT, len_max: h.len_max, maps: h.maps.into() }
    }
}

impl TryFrom<MapHistoryWire> for MapHistory {
    type Error = MapError;

    fn try_from(w: MapHistoryWire) -> Result<Self, MapError> {
        if w.format != MAP_HISTORY_FORMAT {
            return Err(MapError::FormatVersion { found: w.format, expected: MAP_HISTORY_FORMAT });
        }
        if w.maps.is_empty() {
            return Err(MapError::MalformedHistory("no maps"));
        }
        if w.len_max == 0 || w.maps.len() > w.len_max {
            return Err(MapError::MalformedHistory("more maps than its limit"));
        }
        if w.maps.windows(2).any(|p| p[0].version() >= p[1].version()) {
            return Err(MapError::MalformedHistory("versions not increasing"));
        }
        Ok(MapHistory { maps: w.maps.into(), len_max: w.len_max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{FailureDomain, NodeInfo};
    use fsapi::InodeId;

    fn map_with(ids: &[u64]) -> ClusterMap {
        let mut m = ClusterMap::new();
        for &id in ids {
            let info = NodeInfo::new(
                NodeId(id),
                format!("n{id}"),
                FailureDomain::new(format!("d{id}")),
                1,
            );
            m = m.add_node(info).expect("add");
        }
        m
    }

    /// push keeps versions increasing and the length bounded; place_in
    /// answers for kept versions only; retire_before keeps the current map.
    #[test]
    fn push_limit_and_lookup() {
        let m = map_with(&[1, 2, 3]);
        let mut h = MapHistory::with_len_max(m.clone(), 2);
        assert!(matches!(h.push(m.clone()), Err(MapError::StaleVersion { .. })));
        let m2 =
            m.add_node(NodeInfo::new(NodeId(4), "n4", FailureDomain::new("d4"), 1)).expect("add");
        let m3 = m2.set_weight(NodeId(1), 0).expect("weight");
        h.push(m2.clone()).expect("push");
        h.push(m3.clone()).expect("push");
        assert_eq!(h.maps().map(|m| m.version()).collect::<Vec<_>>(), [m2.version(), m3.version()]);
        let key = ChunkKey::new(InodeId(7), 0);
        assert_eq!(h.place_in(m2.version(), key, 2), Ok(place(&m2, key, 2)));
        assert_eq!(h.place_in(m.version(), key, 2), Err(MapError::UnknownVersion(m.version())));
        h.retire_before(MapVersion(u64::MAX));
        assert_eq!(h.current(), &m3);
        assert_eq!(h.maps().count(), 1);
    }

    /// locations lists the current placement first, then older ones, once each.
    #[test]
    fn locations_newest_first() {
        let m = map_with(&[1, 2, 3, 4, 5]);
        let mut h = MapHistory::new(m.clone());
        // Take a node out of every placement it had: its chunks move.
        let key = (0..)
            .map(|c| ChunkKey::new(InodeId(1), c))
            .find(|k| place(&m, *k, 2).contains(&NodeId(3)))
            .expect("some chunk lives on node 3");
        let m2 = m.set_state(NodeId(3), NodeState::Draining).expect("drain");
        h.push(m2.clone()).expect("push");
        let now = place(&m2, key, 2);
        let locs = h.locations(key, 2);
        assert_eq!(&locs[..2], &now[..]);
        assert!(locs.contains(&NodeId(3)), "the draining node still has it");
        assert_eq!(locs.len(), 3);
        // Once removed, the node is no longer a location.
        h.push(m2.remove_node(NodeId(3)).expect("remove")).expect("push");
        assert!(!h.locations(key, 2).contains(&NodeId(3)));
    }
}
