//! Properties of the stripe geometry (DESIGN.md §3 "Chunks"): a byte range
//! is split into per-chunk pieces that cover it exactly, in order, without
//! overlap, also next to `u64::MAX`.

use layout::{ChunkGeometry, GeometryError};
use proptest::prelude::*;

/// A valid geometry: block sizes from 512 B to 1 MiB (not only powers of
/// two), chunks of 1..=64 blocks.
fn arb_geometry() -> impl Strategy<Value = ChunkGeometry> {
    (prop_oneof![Just(4096u64), Just(65536), 512u64..(1 << 20)], 1u64..=64)
        .prop_map(|(block, n)| ChunkGeometry::new(block * n, block).expect("valid geometry"))
}

/// Offsets anywhere, with extra weight on the ends of the address space.
fn arb_offset() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), (0u64..1 << 24), (0u64..1 << 24).prop_map(|d| u64::MAX - d),]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// The pieces cover `offset .. offset + len` exactly: contiguous in the
    /// buffer from 0 to len, each piece at the right file offset, inside its
    /// chunk, non-empty, chunk indices consecutive, only the first piece
    /// starting and only the last ending inside a chunk. A range passing
    /// `u64::MAX` is refused rather than wrapped.
    #[test]
    fn split_covers_range_exactly(geo in arb_geometry(), offset in arb_offset(), len in 0usize..(1 << 26)) {
        let cs = geo.chunk_size_bytes();
        let Some(end) = offset.checked_add(len as u64) else {
            prop_assert!(matches!(geo.split(offset, len), Err(GeometryError::RangeOverflow { .. })), "refused");
            return Ok(());
        };
        let spans = geo.split(offset, len).expect("in range");
        let hint = spans.len();
        let spans: Vec<_> = spans.collect();
        prop_assert_eq!(hint, spans.len(), "exact size hint");
        let mut buf_pos = 0usize;
        for (i, s) in spans.iter().enumerate() {
            prop_assert!(s.in_chunk.start < s.in_chunk.end && s.in_chunk.end <= cs);
            prop_assert_eq!(s.in_buf.start, buf_pos);
            prop_assert_eq!(s.in_buf.len() as u64, s.in_chunk.end - s.in_chunk.start);
            let file_pos = u128::from(s.chunk) * u128::from(cs) + u128::from(s.in_chunk.start);
            prop_assert_eq!(file_pos, u128::from(offset) + s.in_buf.start as u128);
            prop_assert_eq!(geo.locate(offset + s.in_buf.start as u64), (s.chunk, s.in_chunk.start));
            if i > 0 {
                prop_assert_eq!(s.chunk, spans[i - 1].chunk + 1);
                prop_assert_eq!(s.in_chunk.start, 0);
            }
            if i + 1 < spans.len() {
                prop_assert_eq!(s.in_chunk.end, cs);
            }
            buf_pos = s.in_buf.end;
        }
        prop_assert_eq!(buf_pos, len);
        if len > 0 {
            prop_assert_eq!(spans[0].chunk, offset / cs);
            prop_assert_eq!(spans[spans.len() - 1].chunk, (end - 1) / cs);
        }
    }

    /// `blocks` names exactly the blocks overlapping an in-chunk range.
    #[test]
    fn blocks_overlap_exactly(geo in arb_geometry(), a in any::<u64>(), b in any::<u64>()) {
        let cs = geo.chunk_size_bytes();
        let bs = geo.block_size_bytes();
        let (start, end) = (a % (cs + 1), b % (cs + 1));
        let blocks = geo.blocks(start..end);
        if start >= end {
            prop_assert!(blocks.is_empty());
        } else {
            prop_assert!(blocks.start * bs <= start && start < (blocks.start + 1) * bs);
            prop_assert!((blocks.end - 1) * bs < end && end <= blocks.end * bs);
            prop_assert!(blocks.end <= cs / bs);
        }
    }

    /// `chunk_count` of a file size counts the chunks holding its bytes.
    #[test]
    fn chunk_count_matches_locate(geo in arb_geometry(), size in arb_offset()) {
        let count = geo.chunk_count(size);
        if size == 0 {
            prop_assert_eq!(count, 0);
        } else {
            prop_assert_eq!(count, geo.locate(size - 1).0 + 1);
        }
    }
}
