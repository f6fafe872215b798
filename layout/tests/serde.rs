//! Serialized forms (STYLE.md: every persisted format starts with a
//! version): round trips, the format field first, and decoding refuses
//! what the constructors would refuse.

mod common;

use common::*;
use layout::{
    ChunkGeometry, ClusterMap, MapError, MapHistory, NodeId, NodeState, CLUSTER_MAP_FORMAT,
};
use proptest::prelude::*;

/// A map reached through a random sequence of operations (so versions,
/// weights, states and tombstones vary).
fn arb_map() -> impl Strategy<Value = ClusterMap> {
    (arb_nodes(), proptest::collection::vec((0u64..64, 0u8..4, 0u32..10), 0..8)).prop_map(
        |(nodes, ops)| {
            let mut map = map_of(nodes);
            for (id, op, w) in ops {
                let id = NodeId(id);
                let next = match op {
                    0 => map.set_weight(id, w),
                    1 => map.set_state(id, NodeState::Draining),
                    2 => map.remove_node(id),
                    _ => map.set_addr(id, format!("10.0.0.{w}:2049")),
                };
                map = next.unwrap_or(map);
            }
            map
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    /// A ClusterMap survives a JSON round trip unchanged, and its encoding
    /// starts with the format version.
    #[test]
    fn cluster_map_round_trip(map in arb_map()) {
        let text = serde_json::to_string(&map).expect("encode");
        let prefix = format!("{{\"format\":{CLUSTER_MAP_FORMAT},");
        prop_assert!(text.starts_with(&prefix), "{}", text);
        let back: ClusterMap = serde_json::from_str(&text).expect("decode");
        prop_assert_eq!(back, map);
    }

    /// A MapHistory survives a JSON round trip unchanged.
    #[test]
    fn map_history_round_trip(maps in proptest::collection::vec(arb_map(), 1..4)) {
        let mut history = MapHistory::with_len_max(ClusterMap::new(), 3);
        for map in maps {
            let _ = history.push(map); // stale versions are refused; fine
        }
        let text = serde_json::to_string(&history).expect("encode");
        prop_assert!(text.starts_with("{\"format\":1,"), "{}", text);
        let back: MapHistory = serde_json::from_str(&text).expect("decode");
        prop_assert_eq!(back, history);
    }
}

/// Decoding refuses an unknown format version, a duplicate node, an empty
/// failure domain, and an invalid geometry.
#[test]
fn decoding_validates() {
    let map = flat(2);
    let text = serde_json::to_string(&map).expect("encode");

    let future = text.replacen("\"format\":1", "\"format\":2", 1);
    let err = serde_json::from_str::<ClusterMap>(&future).expect_err("format 2");
    assert!(
        err.to_string().contains(&MapError::FormatVersion { found: 2, expected: 1 }.to_string()),
        "{err}"
    );

    let dup = text.replacen("\"id\":2", "\"id\":1", 1);
    assert!(serde_json::from_str::<ClusterMap>(&dup).is_err(), "duplicate id");

    let empty = text.replacen("\"host1\"", "\"\"", 1);
    let err = serde_json::from_str::<ClusterMap>(&empty).expect_err("empty domain");
    assert!(err.to_string().contains("empty failure domain"), "{err}");

    let geo = ChunkGeometry::default();
    let text = serde_json::to_string(&geo).expect("encode");
    assert_eq!(serde_json::from_str::<ChunkGeometry>(&text).expect("decode"), geo);
    assert!(serde_json::from_str::<ChunkGeometry>(
        r#"{"chunk_size_bytes":1000,"block_size_bytes":300}"#
    )
    .is_err());

    let history = r#"{"format":1,"len_max":2,"maps":[]}"#;
    assert!(serde_json::from_str::<MapHistory>(history).is_err(), "empty history");
}
