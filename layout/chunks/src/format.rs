//! The on-disk format of a chunk's checksum sidecar (`.sum`).
//!
//! ```text
//! header (16 bytes): magic "CAIRNSUM" | format version u32 LE | block size u32 LE
//! entry  (16 bytes each, entry b for block b): cur u64 LE | prev u64 LE
//! ```
//! An entry past the end of the file reads as `(0, 0)`: never written, the
//! block must be zeros.

use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64;

use crate::ChunkError;

/// The checksummed unit, in bytes. Recorded in every sidecar header.
pub const BLOCK_SIZE_BYTES: u64 = 4096;
/// Size of the sidecar header, in bytes.
pub const SIDECAR_HEADER_BYTES: u64 = 16;
/// Size of one sidecar entry, in bytes.
pub const SIDECAR_ENTRY_BYTES: u64 = 16;
/// The sidecar format version this build writes and reads.
pub const SIDECAR_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"CAIRNSUM";

/// The checksum of one block as stored in a sidecar: xxh3-64 of the block's
/// `BLOCK_SIZE_BYTES` bytes (bytes past the end of the data file count as
/// zeros), with 0 mapped to 1 so that 0 can mean "no checksum".
pub fn block_checksum(block: &[u8]) -> u64 {
    debug_assert_eq!(block.len() as u64, BLOCK_SIZE_BYTES);
    match xxh3_64(block) {
        0 => 1,
        h => h,
    }
}

/// One block's pair of acceptable checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Entry {
    /// The checksum of the block's newest content.
    pub cur: u64,
    /// The checksum of the content it replaced, or 0.
    pub prev: u64,
}

impl Entry {
    pub const NEVER_WRITTEN: Entry = Entry { cur: 0, prev: 0 };

    /// An entry whose content is known: no write in flight.
    pub fn settled(h: u64) -> Entry {
        Entry { cur: h, prev: h }
    }

    /// The checksum `block` matches under this entry, or `None`.
    pub fn matches(self, block: &[u8]) -> Option<u64> {
        if self == Entry::NEVER_WRITTEN {
            return block.iter().all(|&b| b == 0).then(zero_block_checksum);
        }
        let h = block_checksum(block);
        (h == self.cur || (self.prev != 0 && h == self.prev)).then_some(h)
    }

    /// The checksum of the data on disk, when the entry alone tells it: a
    /// settled entry, or a never-written one (zeros).
    pub fn known_content(self) -> Option<u64> {
        if self == Entry::NEVER_WRITTEN {
            Some(zero_block_checksum())
        } else if self.cur == self.prev {
            Some(self.cur)
        } else {
            None
        }
    }

    pub fn encode(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.cur.to_le_bytes());
        out.extend_from_slice(&self.prev.to_le_bytes());
    }

    fn decode(raw: &[u8]) -> Entry {
        let mut cur = [0u8; 8];
        let mut prev = [0u8; 8];
        cur.copy_from_slice(&raw[..8]);
        prev.copy_from_slice(&raw[8..16]);
        Entry { cur: u64::from_le_bytes(cur), prev: u64::from_le_bytes(prev) }
    }
}

pub(crate) fn zero_block_checksum() -> u64 {
    block_checksum(&[0u8; BLOCK_SIZE_BYTES as usize])
}

pub(crate) fn header() -> [u8; SIDECAR_HEADER_BYTES as usize] {
    let mut h = [0u8; SIDECAR_HEADER_BYTES as usize];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&SIDECAR_VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&(BLOCK_SIZE_BYTES as u32).to_le_bytes());
    h
}

/// Check a sidecar header read from disk.
pub(crate) fn check_header(path: &Path, raw: &[u8]) -> Result<(), ChunkError> {
    let bad = |reason: String| ChunkError::Sidecar { path: path.to_path_buf(), reason };
    if raw.len() < SIDECAR_HEADER_BYTES as usize {
        return Err(bad(format!("header is {} bytes, not 16", raw.len())));
    }
    if &raw[..8] != MAGIC {
        return Err(bad("not a Cairn checksum sidecar (bad magic)".into()));
    }
    let word = |i: usize| u32::from_le_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
    let version = word(8);
    if version != SIDECAR_VERSION {
        return Err(bad(format!("format version {version}, this build reads {SIDECAR_VERSION}")));
    }
    let block = word(12);
    if u64::from(block) != BLOCK_SIZE_BYTES {
        return Err(bad(format!("block size {block}, this build uses {BLOCK_SIZE_BYTES}")));
    }
    Ok(())
}

/// Decode `count` entries from `raw`, of which `len` bytes were read (the
/// rest lies past the end of the file: never written).
/// `path` is called only to name the sidecar in an error.
pub(crate) fn decode_entries(
    path: impl FnOnce() -> PathBuf,
    raw: &[u8],
    len: usize,
    count: usize,
) -> Result<Vec<Entry>, ChunkError> {
    if len % SIDECAR_ENTRY_BYTES as usize != 0 {
        return Err(ChunkError::Sidecar { path: path(), reason: "ends inside an entry".into() });
    }
    let present = len / SIDECAR_ENTRY_BYTES as usize;
    Ok((0..count)
        .map(|i| {
            if i < present {
                Entry::decode(&raw[i * 16..i * 16 + 16])
            } else {
                Entry::NEVER_WRITTEN
            }
        })
        .collect())
}
