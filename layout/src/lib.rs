//! `layout`: Cairn's pure placement. Given the versioned cluster map, it
//! answers which nodes hold chunk `k` of inode `i` (DESIGN.md §3), and how a
//! file's bytes are cut into chunks and checksum blocks.
//!
//! Owns:
//! - the [`ClusterMap`]: nodes ([`NodeInfo`]: id, address, failure domain,
//!   capacity weight, state) under a [`MapVersion`]; every change is a pure
//!   function returning the next version. The map itself is kept in Raft by
//!   `meta`; this crate only defines it and its serialized form;
//! - the [`MapHistory`] of the last few versions, so a chunk can be found
//!   where an older map put it while the rebalancer moves data;
//! - placement: [`place`], [`candidates`], [`place_live`]: weighted
//!   rendezvous hashing with xxh3, spread over failure domains;
//! - the stripe geometry: [`ChunkGeometry`] and [`ChunkGeometry::split`].
//!
//! Must not: do I/O, read a clock, draw random numbers, depend on `tokio`,
//! `sled` or any crate but `fsapi`, or let `HashMap` iteration order into a
//! result. It knows nothing of liveness (the write path passes it in), of
//! replication protocols or of chunk files (`chunks`).
//!
//! Invariants:
//! - placement is a pure function of (map, chunk key, replica count): every
//!   node computes the same list, on any machine (integer arithmetic only);
//! - a placement holds `min(replicas, eligible nodes)` distinct nodes, in
//!   `min(replicas, domains)` distinct failure domains, and is a prefix of
//!   [`candidates`];
//! - node ids are never reused; map versions only grow;
//! - every serialized format starts with its format version
//!   ([`CLUSTER_MAP_FORMAT`], [`MAP_HISTORY_FORMAT`]).
//!
//! See `layout/ARCHITECTURE.md` for the algorithm and the measured balance.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod geometry;
mod history;
mod map;
mod node;
mod placement;

pub use error::{GeometryError, MapError};
pub use geometry::{
    ChunkGeometry, ChunkSpan, ChunkSpans, BLOCK_SIZE_DEFAULT_BYTES, CHUNK_SIZE_DEFAULT_BYTES,
    CHUNK_SIZE_MAX_BYTES,
};
pub use history::{MapHistory, MAP_HISTORY_FORMAT, MAP_HISTORY_LEN_DEFAULT};
pub use map::{
    ClusterMap, MapVersion, ADDR_MAX_BYTES, CLUSTER_MAP_FORMAT, DOMAIN_LABEL_MAX_BYTES,
    NODE_COUNT_MAX,
};
pub use node::{FailureDomain, NodeId, NodeInfo, NodeState};
pub use placement::{candidates, place, place_live, ChunkKey};
