//! Properties of placement (DESIGN.md §3 "Placement"): distinct nodes,
//! determinism, failure-domain spread, balance, minimal movement.
//!
//! The balance and movement tests print their measured figures (run with
//! `--nocapture`); `layout/ARCHITECTURE.md` quotes them.

mod common;

use common::*;
use fsapi::InodeId;
use layout::{candidates, place, place_live, ChunkKey, ClusterMap, NodeId, NodeState};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use xxhash_rust::xxh3::xxh3_64;

const KEYS_BALANCE: u64 = 100_000;

fn eligible(map: &ClusterMap) -> BTreeSet<NodeId> {
    map.eligible().map(|n| n.id).collect()
}

fn domains_of(map: &ClusterMap, ids: &[NodeId]) -> BTreeSet<String> {
    ids.iter()
        .map(|id| map.node(*id).expect("placed node is in the map").domain.to_string())
        .collect()
}

fn eligible_domains(map: &ClusterMap) -> usize {
    map.eligible().map(|n| n.domain.clone()).collect::<BTreeSet<_>>().len()
}

/// Replica and primary counts per node over `keys`.
fn tally(
    map: &ClusterMap,
    keys: impl Iterator<Item = ChunkKey>,
    replicas: usize,
) -> (BTreeMap<NodeId, u64>, BTreeMap<NodeId, u64>) {
    let (mut primaries, mut all) = (BTreeMap::new(), BTreeMap::new());
    for key in keys {
        let p = place(map, key, replicas);
        *primaries.entry(p[0]).or_insert(0) += 1;
        for id in p {
            *all.entry(id).or_insert(0) += 1;
        }
    }
    (primaries, all)
}

/// The largest |observed / expected - 1| over the nodes, `expected[id]` a share in (0, 1].
fn worst_deviation(
    counts: &BTreeMap<NodeId, u64>,
    total: u64,
    expected: &BTreeMap<NodeId, f64>,
) -> f64 {
    expected
        .iter()
        .map(|(id, share)| {
            let got = counts.get(id).copied().unwrap_or(0) as f64;
            (got / (share * total as f64) - 1.0).abs()
        })
        .fold(0.0, f64::max)
}

/// The naive model of placement, in floating point: score each eligible
/// node `-ln(u) / weight` with `u = (xxh3(ino, chunk, node) + 1) / 2^64`,
/// sort ascending (ties by id), take the best node of each domain, then the
/// rest, truncate to R. `None` when two scores are too close for f64 to
/// order them the same way as exact arithmetic.
fn naive_place(map: &ClusterMap, key: ChunkKey, replicas: usize) -> Option<Vec<NodeId>> {
    let mut scored: Vec<(f64, NodeId, String)> = map
        .eligible()
        .map(|n| {
            let mut bytes = Vec::with_capacity(24);
            bytes.extend_from_slice(&key.ino.0.to_le_bytes());
            bytes.extend_from_slice(&key.chunk.to_le_bytes());
            bytes.extend_from_slice(&n.id.0.to_le_bytes());
            let u = (xxh3_64(&bytes) as f64 + 1.0) / 2f64.powi(64);
            (-u.ln() / f64::from(n.weight), n.id, n.domain.to_string())
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    if scored.windows(2).any(|p| (p[1].0 - p[0].0) <= 1e-9 * p[1].0.max(1e-12)) {
        return None;
    }
    let mut out = Vec::new();
    let mut used = BTreeSet::new();
    for (_, id, domain) in &scored {
        if used.insert(domain.clone()) {
            out.push(*id);
        }
    }
    for (_, id, _) in &scored {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    out.truncate(replicas);
    Some(out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    /// A placement holds min(R, eligible) distinct, eligible nodes; it is a
    /// prefix of `candidates`, which lists every eligible node once.
    #[test]
    fn distinct_eligible_and_prefix(nodes in arb_nodes(), key in arb_key(), replicas in 0usize..16) {
        let map = map_of(nodes);
        let ok = eligible(&map);
        let p = place(&map, key, replicas);
        prop_assert_eq!(p.len(), replicas.min(ok.len()));
        let set: BTreeSet<NodeId> = p.iter().copied().collect();
        prop_assert_eq!(set.len(), p.len(), "no duplicates");
        prop_assert!(set.is_subset(&ok), "only eligible nodes");
        let all = candidates(&map, key);
        prop_assert_eq!(&all[..p.len()], &p[..]);
        prop_assert_eq!(all.iter().copied().collect::<BTreeSet<_>>(), ok);
    }

    /// The integer implementation agrees with the naive float model
    /// (garage's `check_against_naive` habit).
    #[test]
    fn agrees_with_naive_model(nodes in arb_nodes(), key in arb_key(), replicas in 0usize..8) {
        let map = map_of(nodes);
        if let Some(want) = naive_place(&map, key, replicas) {
            prop_assert_eq!(place(&map, key, replicas), want);
        }
    }

    /// Same inputs, same output; the order in which nodes joined does not
    /// matter (only the resulting map does).
    #[test]
    fn deterministic_and_order_insensitive(
        nodes in arb_nodes(),
        key in arb_key(),
        replicas in 0usize..8,
        seed in any::<u64>(),
    ) {
        let map = map_of(nodes.clone());
        let mut reordered = nodes;
        // Deterministic permutation from the seed (rotation plus reversal).
        let n = reordered.len().max(1);
        reordered.rotate_left((seed as usize) % n);
        if seed & 1 == 1 {
            reordered.reverse();
        }
        let other = map_of(reordered);
        prop_assert_eq!(&map, &other);
        prop_assert_eq!(place(&map, key, replicas), place(&map, key, replicas));
        prop_assert_eq!(place(&map, key, replicas), place(&other, key, replicas));
    }

    /// Failure domains: a placement uses min(R, domains with an eligible node)
    /// distinct domains; in particular R distinct domains when R ≤ domains.
    #[test]
    fn spreads_over_domains(nodes in arb_nodes(), key in arb_key(), replicas in 0usize..8) {
        let map = map_of(nodes);
        let p = place(&map, key, replicas);
        prop_assert_eq!(domains_of(&map, &p).len(), replicas.min(eligible_domains(&map)).min(p.len()));
        // The first min(R, domains) entries are the ones in distinct domains.
        let spread = replicas.min(eligible_domains(&map));
        prop_assert_eq!(domains_of(&map, &p[..spread]).len(), spread);
    }

    /// Adding a node moves data only onto it: per chunk, the new set gains at
    /// most the new node and loses at most one old node; the primary is
    /// either unchanged or the new node (no chunk moves between old nodes).
    #[test]
    fn adding_a_node_moves_only_to_it(
        nodes in arb_nodes(),
        new in arb_node(),
        replicas in 1usize..5,
        keys in proptest::collection::vec(arb_key(), 32),
    ) {
        let map = map_of(nodes);
        let mut new = new;
        new.id = NodeId(1000);
        let grown = map.add_node(new).expect("fresh id");
        for key in keys {
            let before: BTreeSet<_> = place(&map, key, replicas).into_iter().collect();
            let after: BTreeSet<_> = place(&grown, key, replicas).into_iter().collect();
            let gained: Vec<_> = after.difference(&before).copied().collect();
            let lost: Vec<_> = before.difference(&after).collect();
            prop_assert!(gained.iter().all(|id| *id == NodeId(1000)), "gained {:?}", gained);
            prop_assert!(lost.len() <= 1, "lost {:?}", lost);
            let (p0, p1) = (place(&map, key, 1), place(&grown, key, 1));
            prop_assert!(p1 == p0 || p1 == [NodeId(1000)]);
        }
    }

    /// Removing a node (or it leaving the eligible set: draining, weight 0,
    /// down) changes only the chunks that had it, and those lose exactly it
    /// and gain at most one node. `place_live` with the node down equals
    /// `place` on the map without it.
    #[test]
    fn removing_a_node_moves_only_its_chunks(
        nodes in arb_nodes(),
        pick in any::<prop::sample::Index>(),
        replicas in 1usize..5,
        keys in proptest::collection::vec(arb_key(), 32),
    ) {
        let map = map_of(nodes);
        let ids = eligible(&map);
        prop_assume!(!ids.is_empty());
        let gone = *pick.get(&ids.iter().copied().collect::<Vec<_>>());
        let removed = map.remove_node(gone).expect("known node");
        let drained = map.set_state(gone, NodeState::Draining).expect("known node");
        let zero = map.set_weight(gone, 0).expect("known node");
        for key in keys {
            let before = place(&map, key, replicas);
            let after = place(&removed, key, replicas);
            prop_assert_eq!(&after, &place(&drained, key, replicas));
            prop_assert_eq!(&after, &place(&zero, key, replicas));
            prop_assert_eq!(&after, &place_live(&map, key, replicas, |id| id != gone));
            if !before.contains(&gone) {
                prop_assert_eq!(&after, &before, "chunk without the node stays put");
            } else {
                let b: BTreeSet<_> = before.iter().copied().collect();
                let a: BTreeSet<_> = after.iter().copied().collect();
                prop_assert_eq!(b.difference(&a).copied().collect::<Vec<_>>(), vec![gone]);
                prop_assert!(a.difference(&b).count() <= 1);
            }
        }
    }
}

/// Equal weights, one node per domain, R = 3, 100k chunks: each node's share
/// of primaries and of all replicas is within ±5% of 1/N (resp. R/N).
#[test]
fn balance_equal_weights() {
    for count in [5u64, 10, 16] {
        let map = flat(count);
        let (primaries, all) = tally(&map, keys(KEYS_BALANCE), 3);
        let expected: BTreeMap<NodeId, f64> =
            eligible(&map).into_iter().map(|id| (id, 1.0 / count as f64)).collect();
        let dp = worst_deviation(&primaries, KEYS_BALANCE, &expected);
        let da = worst_deviation(&all, 3 * KEYS_BALANCE, &expected);
        eprintln!("equal weights, {count} nodes, R=3: worst primary deviation {:.2}%, worst replica deviation {:.2}%", dp * 100.0, da * 100.0);
        assert!(dp < 0.05 && da < 0.05, "{count} nodes: primaries {dp:.4}, replicas {da:.4}");
    }
}

/// Unequal weights (1,1,2,2,3,3,4,4): primaries are proportional to weight
/// within ±5%. Replicas cannot be exactly proportional when R > 1 (a node
/// holds at most one copy of a chunk, so heavy nodes saturate); their
/// deviation is printed, and bounded loosely.
#[test]
fn balance_unequal_weights() {
    let weights = [1u32, 1, 2, 2, 3, 3, 4, 4];
    let map = map_of(
        weights.iter().enumerate().map(|(i, w)| node(i as u64 + 1, &format!("host{i}"), *w)),
    );
    let total: f64 = weights.iter().map(|w| f64::from(*w)).sum();
    let expected: BTreeMap<NodeId, f64> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| (NodeId(i as u64 + 1), f64::from(*w) / total))
        .collect();
    for replicas in [1usize, 2, 3] {
        let (primaries, all) = tally(&map, keys(KEYS_BALANCE), replicas);
        let dp = worst_deviation(&primaries, KEYS_BALANCE, &expected);
        let da = worst_deviation(&all, replicas as u64 * KEYS_BALANCE, &expected);
        eprintln!("weights {weights:?}, R={replicas}: worst primary deviation {:.2}%, worst replica deviation {:.2}%", dp * 100.0, da * 100.0);
        assert!(dp < 0.05, "primaries {dp:.4}");
        if replicas == 1 {
            assert!(da < 0.05);
        } else {
            assert!(da < 0.5, "replicas {da:.4}");
        }
    }
}

/// Three racks of four equal nodes, R = 3: every chunk has one copy per
/// rack, so every node holds 1/4 of its rack's copies (±5%), and primaries
/// are 1/12 each (±5%).
#[test]
fn balance_with_domains() {
    let map = map_of(
        (0..12u64).map(|i| node(i + 1, ["rack-a", "rack-b", "rack-c"][(i % 3) as usize], 1)),
    );
    let expected: BTreeMap<NodeId, f64> =
        eligible(&map).into_iter().map(|id| (id, 1.0 / 12.0)).collect();
    let mut per_rack_ok = true;
    for key in keys(10_000) {
        per_rack_ok &= domains_of(&map, &place(&map, key, 3)).len() == 3;
    }
    assert!(per_rack_ok, "every chunk in three racks");
    let (primaries, all) = tally(&map, keys(KEYS_BALANCE), 3);
    let dp = worst_deviation(&primaries, KEYS_BALANCE, &expected);
    let da = worst_deviation(&all, 3 * KEYS_BALANCE, &expected);
    eprintln!(
        "3 racks x 4 nodes, R=3: worst primary deviation {:.2}%, worst replica deviation {:.2}%",
        dp * 100.0,
        da * 100.0
    );
    assert!(dp < 0.05 && da < 0.05, "primaries {dp:.4}, replicas {da:.4}");
}

/// Replica slots (chunk, node) that differ between two maps, out of all.
fn moved_slots(old: &ClusterMap, new: &ClusterMap, replicas: usize, count: u64) -> (u64, u64) {
    let mut moved = 0;
    for key in keys(count) {
        let a: BTreeSet<_> = place(old, key, replicas).into_iter().collect();
        let b: BTreeSet<_> = place(new, key, replicas).into_iter().collect();
        moved += b.difference(&a).count() as u64;
    }
    (moved, replicas as u64 * count)
}

/// Adding one node to N moves about 1/(N+1) of the replica slots, all onto
/// the new node (±10% of that fraction); removing one moves exactly the
/// slots it held (about R/N of the chunks, one slot each).
#[test]
fn movement_on_add_and_remove() {
    for count in [4u64, 10] {
        let map = flat(count);
        let grown = map.add_node(node(count + 1, "host-new", 1)).expect("add");
        for replicas in [1usize, 3] {
            let (moved, slots) = moved_slots(&map, &grown, replicas, KEYS_BALANCE);
            let frac = moved as f64 / slots as f64;
            let ideal = 1.0 / (count + 1) as f64;
            eprintln!(
                "add 1 to {count} nodes, R={replicas}: {:.2}% of slots moved (ideal {:.2}%)",
                frac * 100.0,
                ideal * 100.0
            );
            assert!((frac / ideal - 1.0).abs() < 0.1, "moved {frac:.4}, ideal {ideal:.4}");

            let shrunk = map.remove_node(NodeId(1)).expect("remove");
            let (moved, slots) = moved_slots(&map, &shrunk, replicas, KEYS_BALANCE);
            let held: u64 = keys(KEYS_BALANCE)
                .filter(|k| place(&map, *k, replicas).contains(&NodeId(1)))
                .count() as u64;
            eprintln!(
                "remove 1 of {count} nodes, R={replicas}: {:.2}% of slots moved (the node held {:.2}%)",
                moved as f64 / slots as f64 * 100.0,
                held as f64 / slots as f64 * 100.0
            );
            assert_eq!(moved, held);
        }
    }
}

/// Three racks of four nodes, R = 3: a fifth node in rack-a takes 1/5 of
/// rack-a's copies (one slot in 15 of all), and nothing else moves.
#[test]
fn movement_with_domains() {
    let map = map_of(
        (0..12u64).map(|i| node(i + 1, ["rack-a", "rack-b", "rack-c"][(i % 3) as usize], 1)),
    );
    let grown = map.add_node(node(13, "rack-a", 1)).expect("add");
    let (moved, slots) = moved_slots(&map, &grown, 3, KEYS_BALANCE);
    let frac = moved as f64 / slots as f64;
    let ideal = 1.0 / 15.0;
    eprintln!(
        "add a 5th node to one of 3 racks of 4, R=3: {:.2}% of slots moved (ideal {:.2}%)",
        frac * 100.0,
        ideal * 100.0
    );
    assert!((frac / ideal - 1.0).abs() < 0.1, "moved {frac:.4}, ideal {ideal:.4}");
}

/// Changing one node's weight moves data only to or from that node
/// (shown for a doubling: chunks move onto it, never between the others).
#[test]
fn weight_change_moves_only_to_that_node() {
    let map = flat(8);
    let heavier = map.set_weight(NodeId(3), 2).expect("weight");
    for key in keys(20_000) {
        let a = place(&map, key, 1);
        let b = place(&heavier, key, 1);
        assert!(a == b || b == [NodeId(3)], "{key:?}: {a:?} -> {b:?}");
    }
}

/// Pins the hash and score: placements of a fixed map. If this fails the
/// placement function changed and every deployed chunk would move; that
/// needs a new map format and a migration, not a new expected value.
#[test]
fn golden_placements() {
    let map = map_of((1..=6u64).map(|id| node(id, ["a", "b", "c"][(id % 3) as usize], id as u32)));
    let got: Vec<Vec<u64>> = [(1u64, 0u64), (1, 1), (2, 0), (42, 7), (u64::MAX, u64::MAX)]
        .into_iter()
        .map(|(i, c)| {
            place(&map, ChunkKey::new(InodeId(i), c), 3).into_iter().map(|n| n.0).collect()
        })
        .collect();
    assert_eq!(got, GOLDEN);
}

const GOLDEN: [[u64; 3]; 5] = [[3, 4, 5], [3, 2, 4], [5, 3, 1], [3, 2, 1], [4, 6, 5]];
