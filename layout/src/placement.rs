//! Which nodes hold chunk `k` of inode `i`: weighted rendezvous hashing
//! (highest random weight) spread over failure domains.
//!
//! Every node computes the same answer from the same map: the score is
//! integer arithmetic only (xxh3, a fixed-point logarithm, exact cross
//! multiplication), so no float rounding or libm difference between machines
//! can reorder two nodes. See `layout/ARCHITECTURE.md`.

use crate::map::ClusterMap;
use crate::node::{FailureDomain, NodeId, NodeInfo};
use fsapi::InodeId;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use xxhash_rust::xxh3::xxh3_64;

/// Chunk `chunk` of inode `ino`: the unit of placement (DESIGN.md §3).
/// All versions (epochs) of a chunk live on the same nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChunkKey {
    /// The file.
    pub ino: InodeId,
    /// The chunk's index in the file ([`crate::ChunkGeometry::locate`]).
    pub chunk: u64,
}

impl ChunkKey {
    /// Chunk `chunk` of `ino`.
    pub fn new(ino: InodeId, chunk: u64) -> Self {
        ChunkKey { ino, chunk }
    }
}

/// The replica set for new data of `key`: up to `replicas` distinct nodes,
/// first = primary (the node that orders writes to the chunk).
///
/// Only eligible nodes are chosen ([`NodeInfo::is_eligible`]: `Active`,
/// weight > 0). The list has `min(replicas, eligible nodes)` entries, so
/// `replicas == 0` or a map without eligible nodes gives an empty list; the
/// caller decides whether fewer than it asked for is acceptable.
///
/// Failure domains: the first `min(replicas, domains)` nodes are in distinct
/// domains; domains are reused only when `replicas` exceeds the number of
/// domains that have an eligible node.
///
/// Always a prefix of [`candidates`]`(map, key)`.
pub fn place(map: &ClusterMap, key: ChunkKey, replicas: usize) -> Vec<NodeId> {
    spread(ranked(map, key, |_| true), replicas)
}

/// Every eligible node in preference order for `key`: [`place`] is the
/// first `replicas` of this list. The read path tries them in this order;
/// a node past the replica set holds the chunk only while repair has not yet
/// moved it home.
pub fn candidates(map: &ClusterMap, key: ChunkKey) -> Vec<NodeId> {
    spread(ranked(map, key, |_| true), usize::MAX)
}

/// The replica set while some nodes are down: [`place`] computed as if the
/// nodes for which `is_live` is false were not eligible. This is where the
/// write path sends data with a replica down (DESIGN.md §4: "the write goes
/// to the next node in rendezvous order"), so acknowledged data keeps
/// `replicas` copies and the domain rule holds over the live nodes; repair
/// moves the copies to [`place`] when the node is back.
///
/// Removing a node from the live set changes only the placements that
/// contained it, and those lose exactly that node and gain one other.
pub fn place_live(
    map: &ClusterMap,
    key: ChunkKey,
    replicas: usize,
    is_live: impl Fn(NodeId) -> bool,
) -> Vec<NodeId> {
    spread(ranked(map, key, |n| is_live(n.id)), replicas)
}

/// Fraction bits of the fixed-point `-log2(u)`.
const SCORE_FRAC_BITS: u32 = 48;

/// The eligible nodes that pass `keep`, best first.
///
/// Each node draws `u = (xxh3(key, node) + 1) / 2^64` in (0, 1]; its
/// distance is `-ln(u) / weight`, an exponential variable with rate
/// `weight`, and the node with the smallest distance wins with probability
/// `weight / Σ weight` (the weighted rendezvous of Schindelhauer and
/// Schomaker). `-log2` is used instead of `-ln`: a constant factor, the same
/// order. Ties (equal distances) go to the lower id.
fn ranked<'m>(
    map: &'m ClusterMap,
    key: ChunkKey,
    keep: impl Fn(&NodeInfo) -> bool,
) -> Vec<Ranked<'m>> {
    let mut nodes: Vec<Ranked<'m>> = map
        .eligible()
        .filter(|n| keep(n))
        .map(|n| Ranked {
            id: n.id,
            domain: &n.domain,
            weight: u128::from(n.weight),
            distance: u128::from(neg_log2_unit(node_hash(key, n.id))),
        })
        .collect();
    nodes.sort_unstable_by(Ranked::cmp_best_first);
    nodes
}

struct Ranked<'m> {
    id: NodeId,
    domain: &'m FailureDomain,
    /// > 0: only eligible nodes are ranked.
    weight: u128,
    /// `-log2(u)` in fixed point, < 2^55.
    distance: u128,
}

impl Ranked<'_> {
    /// `a.distance / a.weight` against `b.distance / b.weight`, compared
    /// exactly by cross multiplication (< 2^55 * 2^32, no overflow), then id.
    fn cmp_best_first(a: &Self, b: &Self) -> Ordering {
        (a.distance * b.weight).cmp(&(b.distance * a.weight)).then(a.id.cmp(&b.id))
    }
}

/// The domain rule over a best-first list: the best node of each distinct
/// domain, in order, then the remaining nodes in order; at most `replicas`.
fn spread(ranked: Vec<Ranked<'_>>, replicas: usize) -> Vec<NodeId> {
    let want = replicas.min(ranked.len());
    let mut out = Vec::with_capacity(want);
    let mut taken = vec![false; ranked.len()];
    let mut domains: BTreeSet<&FailureDomain> = BTreeSet::new();
    for (i, n) in ranked.iter().enumerate() {
        if out.len() == want {
            break;
        }
        if domains.insert(n.domain) {
            taken[i] = true;
            out.push(n.id);
        }
    }
    for (i, n) in ranked.iter().enumerate() {
        if out.len() == want {
            break;
        }
        if !taken[i] {
            out.push(n.id);
        }
    }
    out
}

/// The hash of (chunk, node). Part of the persistent contract: the byte
/// layout (inode, chunk, node; each u64 little endian) and xxh3-64 decide
/// where every chunk lives, so changing either moves all data.
fn node_hash(key: ChunkKey, node: NodeId) -> u64 {
    let mut buf = [0u8; 24];
    buf[..8].copy_from_slice(&key.ino.0.to_le_bytes());
    buf[8..16].copy_from_slice(&key.chunk.to_le_bytes());
    buf[16..].copy_from_slice(&node.0.to_le_bytes());
    xxh3_64(&buf)
}

/// `-log2(u)` for `u = (h + 1) / 2^64` in (0, 1], in fixed point with
/// [`SCORE_FRAC_BITS`] fraction bits: 0 for `h = u64::MAX`, `64 << 48` for
/// `h = 0`. Integer only, hence the same on every machine.
///
/// `log2(x) = n + log2(m)` with `n = floor(log2 x)` and `m = x / 2^n` in
/// [1, 2); the fraction bits of `log2(m)` come one by one from squaring `m`
/// (each squaring doubles the logarithm; a result ≥ 2 means the next bit is 1).
fn neg_log2_unit(h: u64) -> u64 {
    const MANT_BITS: u32 = 63; // m in [2^63, 2^64) stands for [1, 2)
    let x = u128::from(h) + 1; // 1 ..= 2^64
    let n = 127 - x.leading_zeros(); // 0 ..= 64
    let mut m = if n <= MANT_BITS { x << (MANT_BITS - n) } else { x >> (n - MANT_BITS) };
    let mut frac: u64 = 0;
    for _ in 0..SCORE_FRAC_BITS {
        m = (m * m) >> MANT_BITS; // m < 2^64, so m * m < 2^128
        frac <<= 1;
        if m >= 2 << MANT_BITS {
            m >>= 1;
            frac |= 1;
        }
    }
    let log2_x = (u64::from(n) << SCORE_FRAC_BITS) | frac;
    (64u64 << SCORE_FRAC_BITS) - log2_x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed-point logarithm matches f64 to well within one part in 2^40
    /// at the ends and in between.
    #[test]
    fn neg_log2_matches_float() {
        assert_eq!(neg_log2_unit(u64::MAX), 0);
        assert_eq!(neg_log2_unit(0), 64 << SCORE_FRAC_BITS);
        assert_eq!(neg_log2_unit((1 << 63) - 1), 1 << SCORE_FRAC_BITS);
        let scale = (1u64 << SCORE_FRAC_BITS) as f64;
        for h in [1u64, 12345, 1 << 40, 0x9e37_79b9_7f4a_7c15, u64::MAX - 1_000_000, u64::MAX / 3] {
            let u = (h as f64 + 1.0) / 2f64.powi(64);
            let want = -u.log2();
            let got = neg_log2_unit(h) as f64 / scale;
            assert!((got - want).abs() < 1e-9, "h={h}: {got} vs {want}");
        }
    }
}
