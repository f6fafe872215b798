//! `chunks`: the local part of Cairn's data plane: chunk files with a
//! checksum per block, crash safe without a journal.
//!
//! Owns the on-disk layout of file data on one node. A file (inode) is cut
//! into chunks of a size the caller chooses per file (default 4 MiB); chunk
//! `k` of inode `i` is a data file plus a checksum sidecar:
//!
//! ```text
//! {dir}/{ino:016x}/{chunk:08x}.dat   the chunk's bytes (sparse; past EOF = zeros)
//! {dir}/{ino:016x}/{chunk:08x}.sum   16-byte header (magic, version, block size),
//!                                    then per 4 KiB block one entry (cur, prev):
//!                                    two xxh3-64 checksums
//! ```
//!
//! Must not: know about placement, replication or Raft (the layers above
//! decide which node holds what and in which order writes apply), or split
//! writes across chunks (the caller does; crossing a chunk is a bug, asserted).
//!
//! # Crash safety without a journal (`layout/chunks/ARCHITECTURE.md`)
//!
//! Writing block `b`, old content `O`, new content `N`:
//! 1. the sidecar entry becomes `(h(N), h(O))`;
//! 2. the data is written;
//! 3. the entry settles to `(h(N), h(N))`.
//!
//! A read accepts data whose checksum is `cur` or `prev`; `(0, 0)` means
//! never written, the block must be zeros. If the process dies (`kill -9`;
//! the page cache survives) between 1 and 2, the block still holds `O` and
//! reads as `O`: that write never returned, so nothing acknowledged is lost.
//! Step 3 lets the next whole-block write know `h(O)` without reading the
//! block; a partial-block write reads, verifies and merges the old block
//! (read-modify-write) under a per-chunk lock, so writers to one chunk are
//! serialised and readers never see a half-updated pair. Truncation follows
//! the same order (entries, then the data file, then the sidecar length).
//!
//! Invariants:
//! - every byte returned by [`ChunkStore::read`] matched a checksum that was
//!   written for it; anything else is [`ChunkError::Checksum`], logged once
//!   at detection with the file and block;
//! - bytes read from disk never cause a panic (a garbage or truncated
//!   sidecar is [`ChunkError::Sidecar`]);
//! - every persisted format starts with a version: the sidecar header.
//!
//! `unsafe` is denied in the workspace; the one exception is the small
//! `statvfs` module (a single libc call, commented).

#![deny(unsafe_code)]

mod cache;
mod error;
mod format;
mod statvfs;
mod store;

pub use error::ChunkError;
pub use format::{
    block_checksum, BLOCK_SIZE_BYTES, SIDECAR_ENTRY_BYTES, SIDECAR_HEADER_BYTES, SIDECAR_VERSION,
};
pub use statvfs::FsSpace;
pub use store::{ChunkStore, ChunkStoreOptions};

/// The default chunk size of a file, in bytes (DESIGN.md §3).
pub const CHUNK_SIZE_DEFAULT_BYTES: u64 = 4 * 1024 * 1024;
