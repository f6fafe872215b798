//! Stripe geometry: how a file's bytes are cut into chunks and checksum
//! blocks, and which chunks a byte range touches.

use crate::error::GeometryError;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Default chunk size: 4 MiB (DESIGN.md §3).
pub const CHUNK_SIZE_DEFAULT_BYTES: u64 = 4 * 1024 * 1024;
/// Default checksum block size: 64 KiB (DESIGN.md §3).
pub const BLOCK_SIZE_DEFAULT_BYTES: u64 = 64 * 1024;
/// Largest chunk size: offsets within a chunk must fit in a `u32` for the
/// chunk store.
pub const CHUNK_SIZE_MAX_BYTES: u64 = 1 << 32;

/// How a file is cut: chunks of `chunk_size_bytes`, each checksummed in
/// blocks of `block_size_bytes`. Set per file at creation and never changed
/// for that file (a change would re-address all its data).
///
/// Invariants (checked by [`ChunkGeometry::new`] and when decoding): both
/// sizes are positive, the chunk size is a multiple of the block size and at
/// most [`CHUNK_SIZE_MAX_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "GeometryWire", into = "GeometryWire")]
pub struct ChunkGeometry {
    chunk_size_bytes: u64,
    block_size_bytes: u64,
}

impl Default for ChunkGeometry {
    /// 4 MiB chunks of 64 KiB blocks.
    fn default() -> Self {
        ChunkGeometry {
            chunk_size_bytes: CHUNK_SIZE_DEFAULT_BYTES,
            block_size_bytes: BLOCK_SIZE_DEFAULT_BYTES,
        }
    }
}

impl ChunkGeometry {
    /// A geometry of `chunk_size_bytes` chunks checksummed in
    /// `block_size_bytes` blocks.
    ///
    /// # Errors
    /// [`GeometryError::Invalid`] unless `0 < block ≤ chunk ≤`
    /// [`CHUNK_SIZE_MAX_BYTES`] and `chunk % block == 0`.
    pub fn new(chunk_size_bytes: u64, block_size_bytes: u64) -> Result<Self, GeometryError> {
        let ok = block_size_bytes > 0
            && chunk_size_bytes > 0
            && chunk_size_bytes <= CHUNK_SIZE_MAX_BYTES
            && chunk_size_bytes % block_size_bytes == 0;
        if !ok {
            return Err(GeometryError::Invalid { chunk_size_bytes, block_size_bytes });
        }
        Ok(ChunkGeometry { chunk_size_bytes, block_size_bytes })
    }

    /// The chunk size in bytes.
    pub fn chunk_size_bytes(&self) -> u64 {
        self.chunk_size_bytes
    }

    /// The checksum block size in bytes.
    pub fn block_size_bytes(&self) -> u64 {
        self.block_size_bytes
    }

    /// The chunk holding file byte `offset`, and the offset within it.
    pub fn locate(&self, offset: u64) -> (u64, u64) {
        (offset / self.chunk_size_bytes, offset % self.chunk_size_bytes)
    }

    /// The file offset where chunk `chunk` starts, or `None` past `u64::MAX`.
    pub fn chunk_start(&self, chunk: u64) -> Option<u64> {
        chunk.checked_mul(self.chunk_size_bytes)
    }

    /// How many chunks a file of `file_size_bytes` has (the last may be
    /// partial); 0 for an empty file.
    pub fn chunk_count(&self, file_size_bytes: u64) -> u64 {
        file_size_bytes.div_ceil(self.chunk_size_bytes)
    }

    /// The checksum blocks (indices within the chunk) that the in-chunk byte
    /// range `range` touches; empty for an empty range. A write must
    /// read-modify-write the first and last of them when it does not cover
    /// them whole.
    pub fn blocks(&self, range: Range<u64>) -> Range<u64> {
        if range.start >= range.end {
            return 0..0;
        }
        range.start / self.block_size_bytes..range.end.div_ceil(self.block_size_bytes)
    }

    /// The pieces of the file byte range `offset .. offset + len`, one per
    /// chunk touched, in file order. A zero `len` gives no pieces.
    ///
    /// # Errors
    /// [`GeometryError::RangeOverflow`] when `offset + len` passes `u64::MAX`
    /// (the byte at `u64::MAX` itself is never addressable).
    pub fn split(&self, offset: u64, len: usize) -> Result<ChunkSpans, GeometryError> {
        let len = len as u64; // usize is at most 64 bits on every supported target
        if offset.checked_add(len).is_none() {
            return Err(GeometryError::RangeOverflow { offset, len });
        }
        Ok(ChunkSpans {
            chunk_size_bytes: self.chunk_size_bytes,
            offset,
            remaining: len,
            in_buf: 0,
        })
    }
}

/// One chunk's piece of a byte range ([`ChunkGeometry::split`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkSpan {
    /// The chunk's index in the file.
    pub chunk: u64,
    /// The bytes within the chunk; non-empty, `end ≤ chunk size`.
    pub in_chunk: Range<u64>,
    /// The same bytes within the request's buffer.
    pub in_buf: Range<usize>,
}

/// Iterator over the [`ChunkSpan`]s of a byte range, from [`ChunkGeometry::split`].
#[derive(Debug, Clone)]
pub struct ChunkSpans {
    chunk_size_bytes: u64,
    /// File offset of the next piece.
    offset: u64,
    /// Bytes not yet yielded; `offset + remaining ≤ u64::MAX`.
    remaining: u64,
    /// Buffer offset of the next piece.
    in_buf: usize,
}

impl Iterator for ChunkSpans {
    type Item = ChunkSpan;

    fn next(&mut self) -> Option<ChunkSpan> {
        if self.remaining == 0 {
            return None;
        }
        let chunk = self.offset / self.chunk_size_bytes;
        let start = self.offset % self.chunk_size_bytes;
        let n = (self.chunk_size_bytes - start).min(self.remaining);
        let buf_start = self.in_buf;
        // n ≤ remaining ≤ the request's usize length.
        self.in_buf += n as usize;
        self.remaining -= n;
        // offset + n ≤ the range's end ≤ u64::MAX (checked in split).
        self.offset += n;
        Some(ChunkSpan { chunk, in_chunk: start..start + n, in_buf: buf_start..self.in_buf })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.remaining == 0 {
            return (0, Some(0));
        }
        let first = self.offset / self.chunk_size_bytes;
        let last = (self.offset + (self.remaining - 1)) / self.chunk_size_bytes;
        let n = usize::try_from(last - first + 1).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

impl ExactSizeIterator for ChunkSpans {}

impl std::iter::FusedIterator for ChunkSpans {}

#[derive(Serialize, Deserialize)]
struct GeometryWire {
    chunk_size_bytes: u64,
    block_size_bytes: u64,
}

impl From<ChunkGeometry> for GeometryWire {
    fn from(g: ChunkGeometry) -> Self {
        GeometryWire { chunk_size_bytes: g.chunk_size_bytes, block_size_bytes: g.block_size_bytes }
    }
}

impl TryFrom<GeometryWire> for ChunkGeometry {
    type Error = GeometryError;

    fn try_from(w: GeometryWire) -> Result<Self, GeometryError> {
        ChunkGeometry::new(w.chunk_size_bytes, w.block_size_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Invalid geometries are refused; the default is 4 MiB / 64 KiB.
    #[test]
    fn validation() {
        assert!(ChunkGeometry::new(0, 0).is_err());
        assert!(ChunkGeometry::new(4096, 0).is_err());
        assert!(ChunkGeometry::new(0, 4096).is_err());
        assert!(ChunkGeometry::new(6000, 4096).is_err());
        assert!(ChunkGeometry::new(CHUNK_SIZE_MAX_BYTES * 2, 4096).is_err());
        assert!(ChunkGeometry::new(CHUNK_SIZE_MAX_BYTES, 4096).is_ok());
        let d = ChunkGeometry::default();
        assert_eq!((d.chunk_size_bytes(), d.block_size_bytes()), (4 << 20, 64 << 10));
    }

    /// A write straddling two chunks; block indices; chunk counts.
    #[test]
    fn examples() {
        let g = ChunkGeometry::new(1024, 256).expect("geometry");
        let spans: Vec<_> = g.split(1000, 100).expect("split").collect();
        assert_eq!(
            spans,
            [
                ChunkSpan { chunk: 0, in_chunk: 1000..1024, in_buf: 0..24 },
                ChunkSpan { chunk: 1, in_chunk: 0..76, in_buf: 24..100 },
            ]
        );
        assert_eq!(g.split(5, 0).expect("split").count(), 0);
        assert_eq!(g.locate(2048), (2, 0));
        assert_eq!(g.blocks(0..1), 0..1);
        assert_eq!(g.blocks(255..257), 0..2);
        assert_eq!(g.blocks(256..512), 1..2);
        assert_eq!(g.blocks(7..7), 0..0);
        assert_eq!(g.chunk_count(0), 0);
        assert_eq!(g.chunk_count(1024), 1);
        assert_eq!(g.chunk_count(1025), 2);
        assert_eq!(g.chunk_start(u64::MAX), None);
    }

    /// Ranges ending exactly at u64::MAX work; one byte more is refused.
    #[test]
    fn end_of_address_space() {
        let g = ChunkGeometry::default();
        let spans: Vec<_> = g.split(u64::MAX - 10, 10).expect("split").collect();
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].in_chunk.end, g.chunk_size_bytes() - 1);
        assert!(matches!(g.split(u64::MAX - 10, 11), Err(GeometryError::RangeOverflow { .. })));
    }
}
