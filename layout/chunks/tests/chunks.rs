//! Behaviour of the chunk store: round trips against a model, sparseness,
//! corruption detection, the two-slot crash protocol, truncate, remove.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chunks::{
    block_checksum, ChunkError, ChunkStore, ChunkStoreOptions, BLOCK_SIZE_BYTES,
    CHUNK_SIZE_DEFAULT_BYTES, SIDECAR_HEADER_BYTES,
};
use fsapi::InodeId;
use proptest::prelude::*;

const BS: usize = BLOCK_SIZE_BYTES as usize;
const INO: InodeId = InodeId(7);

fn open(dir: &Path) -> ChunkStore {
    ChunkStore::open(dir, ChunkStoreOptions::default()).expect("open")
}

fn dat(dir: &Path, ino: InodeId, chunk: u64) -> PathBuf {
    dir.join(format!("{:016x}/{chunk:08x}.dat", ino.0))
}

fn sum(dir: &Path, ino: InodeId, chunk: u64) -> PathBuf {
    dir.join(format!("{:016x}/{chunk:08x}.sum", ino.0))
}

fn entry(dir: &Path, ino: InodeId, chunk: u64, block: u64) -> (u64, u64) {
    let raw = fs::read(sum(dir, ino, chunk)).expect("read sum");
    let at = (SIDECAR_HEADER_BYTES + 16 * block) as usize;
    let word = |i: usize| u64::from_le_bytes(raw[i..i + 8].try_into().expect("8 bytes"));
    (word(at), word(at + 8))
}

fn set_entry(dir: &Path, ino: InodeId, chunk: u64, block: u64, cur: u64, prev: u64) {
    let f = fs::OpenOptions::new().write(true).open(sum(dir, ino, chunk)).expect("open sum");
    let mut raw = cur.to_le_bytes().to_vec();
    raw.extend_from_slice(&prev.to_le_bytes());
    f.write_all_at(&raw, SIDECAR_HEADER_BYTES + 16 * block).expect("write entry");
}

fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| seed.wrapping_add((i * 31 % 251) as u8) | 1).collect()
}

/// Goal: a fresh store reads zeros everywhere; writes read back exactly.
#[test]
fn write_read_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    assert_eq!(s.read(INO, 0, 100, 10).expect("read"), vec![0; 10]);
    let data = pattern(3, 3 * BS + 123);
    s.write(INO, 0, 1000, &data).expect("write");
    assert_eq!(s.read(INO, 0, 1000, data.len() as u32).expect("read"), data);
    assert_eq!(s.read(INO, 0, 0, 1000).expect("read"), vec![0; 1000]);
    // Past the end of the file: zeros.
    assert_eq!(s.read(INO, 0, 100 * BS as u32, 10).expect("read"), vec![0; 10]);
    s.sync_inode(INO).expect("sync");
    s.sync_all().expect("sync all");
    drop(s);
    let s = open(dir.path());
    assert_eq!(s.read(INO, 0, 1000, data.len() as u32).expect("read after reopen"), data);
}

/// A chunk never written reads as zeros but is not had; a written one is,
/// until its inode is removed.
#[test]
fn has_chunk_tells_a_copy_from_a_hole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    assert!(!s.has_chunk(INO, 0));
    s.write(INO, 1, 0, &pattern(2, 100)).expect("write");
    assert!(s.has_chunk(INO, 1));
    assert!(!s.has_chunk(INO, 0), "another chunk of the same inode");
    s.remove_inode(INO).expect("remove");
    assert!(!s.has_chunk(INO, 1));
}

/// Goal: sparse files stay sparse: a write at 0 and one just below 4 GiB
/// create two chunks only, and everything between reads as zeros.
#[test]
fn sparse_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    let cs = CHUNK_SIZE_DEFAULT_BYTES;
    let far = (4u64 << 30) - BS as u64;
    let (far_chunk, far_off) = (far / cs, (far % cs) as u32);
    s.write(INO, 0, 0, &pattern(1, BS)).expect("write");
    s.write(INO, far_chunk, far_off, &pattern(2, BS)).expect("write far");
    assert_eq!(s.read(INO, far_chunk, far_off, BS as u32).expect("read"), pattern(2, BS));
    assert_eq!(s.read(INO, 1, 0, BS as u32).expect("read"), vec![0; BS]);
    assert_eq!(s.read(INO, far_chunk / 2, 12345, 100).expect("read"), vec![0; 100]);
    assert_eq!(s.read(INO, far_chunk, 0, BS as u32).expect("read"), vec![0; BS]);
    let files = fs::read_dir(dir.path().join(format!("{:016x}", INO.0))).expect("ls").count();
    assert_eq!(files, 4, "two chunks, each a data file and a sidecar");
    assert!(s.used_bytes(INO).expect("used") < 1 << 20, "sparse data file");
}

/// Goal: a flipped byte is detected for its block only, as a Checksum error.
#[test]
fn flipped_byte_is_a_checksum_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    let data = pattern(9, 4 * BS);
    s.write(INO, 3, 0, &data).expect("write");
    let f =
        fs::OpenOptions::new().read(true).write(true).open(dat(dir.path(), INO, 3)).expect("dat");
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, 2 * BS as u64 + 17).expect("read byte");
    f.write_all_at(&[b[0] ^ 0x40], 2 * BS as u64 + 17).expect("flip");
    match s.read(INO, 3, 2 * BS as u32, 10) {
        Err(ChunkError::Checksum { ino, chunk: 3, block: 2 }) => assert_eq!(ino, INO),
        other => panic!("expected a checksum error, got {other:?}"),
    }
    assert!(matches!(s.read(INO, 3, 0, 4 * BS as u32), Err(ChunkError::Checksum { .. })));
    assert_eq!(s.read(INO, 3, 0, 2 * BS as u32).expect("block 0-1"), data[..2 * BS]);
    assert_eq!(s.read(INO, 3, 3 * BS as u32, BS as u32).expect("block 3"), data[3 * BS..]);
    // A partial write into the damaged block cannot merge: error.
    assert!(matches!(s.write(INO, 3, 2 * BS as u32, &[1, 2, 3]), Err(ChunkError::Checksum { .. })));
    // A whole-block write repairs it.
    s.write(INO, 3, 2 * BS as u32, &pattern(4, BS)).expect("repair");
    assert_eq!(s.read(INO, 3, 2 * BS as u32, BS as u32).expect("repaired"), pattern(4, BS));
}

/// Goal: kill -9 between the sidecar write (step 1) and the data write
/// (step 2) leaves the old data readable, without error; the next writes,
/// whole or partial, work from it.
#[test]
fn kill_between_sidecar_and_data_returns_old_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = pattern(5, 2 * BS);
    {
        let s = open(dir.path());
        s.write(INO, 0, 0, &old).expect("write");
    }
    let h_old = block_checksum(&old[BS..]);
    assert_eq!(entry(dir.path(), INO, 0, 1), (h_old, h_old), "settled after a write");
    // What step 1 of an overwrite of block 1 leaves when the process dies.
    let new = pattern(6, BS);
    set_entry(dir.path(), INO, 0, 1, block_checksum(&new), h_old);
    let s = open(dir.path());
    assert_eq!(s.read(INO, 0, 0, 2 * BS as u32).expect("read"), old);
    // A whole-block write must find out that the block holds `old`.
    let newer = pattern(7, BS);
    s.write(INO, 0, BS as u32, &newer).expect("write");
    assert_eq!(entry(dir.path(), INO, 0, 1), (block_checksum(&newer), block_checksum(&newer)));
    assert_eq!(s.read(INO, 0, BS as u32, BS as u32).expect("read"), newer);

    // The same interruption on a block never written before (a hole).
    set_entry(dir.path(), INO, 0, 5, block_checksum(&new), block_checksum(&[0u8; BS]));
    assert_eq!(s.read(INO, 0, 5 * BS as u32, BS as u32).expect("hole"), vec![0; BS]);
    // A partial write over the interrupted block merges into zeros.
    s.write(INO, 0, 5 * BS as u32 + 10, &[9, 9]).expect("partial");
    let mut expect = vec![0u8; BS];
    expect[10..12].copy_from_slice(&[9, 9]);
    assert_eq!(s.read(INO, 0, 5 * BS as u32, BS as u32).expect("read"), expect);
}

/// Goal: kill -9 after the data write but before the entry settles (step 3)
/// returns the new data; the next whole-block overwrite resolves the slot.
#[test]
fn kill_before_settle_returns_new_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    let (a, b) = (pattern(1, BS), pattern(2, BS));
    s.write(INO, 0, 0, &b).expect("write");
    set_entry(dir.path(), INO, 0, 0, block_checksum(&b), block_checksum(&a));
    assert_eq!(s.read(INO, 0, 0, BS as u32).expect("read"), b);
    let c = pattern(3, BS);
    s.write(INO, 0, 0, &c).expect("write");
    assert_eq!(s.read(INO, 0, 0, BS as u32).expect("read"), c);
}

/// Goal: truncate down zeroes the cut tail (visible after extending again),
/// removes chunks past the end, and truncate up reads zeros.
#[test]
fn truncate_down_and_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    let cs = 64 * 1024u64;
    for chunk in 0..3 {
        s.write(INO, chunk, 0, &pattern(chunk as u8, cs as usize)).expect("write");
    }
    // Cut inside block 2 of chunk 1.
    let new_size = cs + 2 * BS as u64 + 100;
    s.truncate(INO, new_size, cs).expect("truncate");
    assert!(!dat(dir.path(), INO, 2).exists() && !sum(dir.path(), INO, 2).exists());
    assert_eq!(fs::metadata(dat(dir.path(), INO, 1)).expect("dat").len(), 2 * BS as u64 + 100);
    assert_eq!(s.read(INO, 0, 0, cs as u32).expect("chunk 0"), pattern(0, cs as usize));
    let one = pattern(1, cs as usize);
    assert_eq!(s.read(INO, 1, 0, 2 * BS as u32 + 100).expect("kept"), one[..2 * BS + 100]);
    // Truncate up: everything past the old end reads as zeros.
    s.truncate(INO, 3 * cs, cs).expect("extend");
    let tail =
        s.read(INO, 1, 2 * BS as u32 + 100, (cs as u32) - 2 * BS as u32 - 100).expect("tail");
    assert!(tail.iter().all(|&b| b == 0));
    assert_eq!(s.read(INO, 2, 0, cs as u32).expect("chunk 2"), vec![0; cs as usize]);
    // A write after the cut, then a cut at a block boundary.
    s.write(INO, 1, 5 * BS as u32, &pattern(8, BS)).expect("write");
    s.truncate(INO, cs + BS as u64, cs).expect("truncate at block");
    s.truncate(INO, 2 * cs, cs).expect("extend");
    let mut expect = one[..BS].to_vec();
    expect.resize(cs as usize, 0);
    assert_eq!(s.read(INO, 1, 0, cs as u32).expect("chunk 1"), expect);
    // To zero: no chunk left.
    s.truncate(INO, 0, cs).expect("truncate to 0");
    assert!(!dat(dir.path(), INO, 0).exists());
    assert_eq!(s.read(INO, 0, 0, 10).expect("read"), vec![0; 10]);
    s.sync_all().expect("sync");
}

/// Goal: remove_inode deletes every chunk; other inodes are untouched.
#[test]
fn remove_inode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path());
    s.write(INO, 0, 0, b"gone").expect("write");
    s.write(INO, 9, 0, b"gone").expect("write");
    s.write(InodeId(8), 0, 0, b"kept").expect("write");
    s.remove_inode(INO).expect("remove");
    assert!(!dir.path().join(format!("{:016x}", INO.0)).exists());
    assert_eq!(s.read(INO, 0, 0, 4).expect("read"), vec![0; 4]);
    assert_eq!(s.used_bytes(INO).expect("used"), 0);
    assert_eq!(s.read(InodeId(8), 0, 0, 4).expect("read"), b"kept");
    s.remove_inode(INO).expect("removing twice is fine");
    s.sync_all().expect("sync");
    let stats = s.fs_stats().expect("statvfs");
    assert!(stats.total_bytes > 0 && stats.avail_bytes <= stats.total_bytes);
}

/// Goal: a garbage, truncated or foreign sidecar is an error, never a panic.
#[test]
fn garbage_sidecar_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s = open(dir.path());
        s.write(INO, 0, 0, &pattern(1, 2 * BS)).expect("write");
        s.write(INO, 1, 0, &pattern(1, 2 * BS)).expect("write");
        s.write(INO, 2, 0, &pattern(1, 2 * BS)).expect("write");
    }
    fs::write(sum(dir.path(), INO, 0), b"this is not a sidecar at all, not at all").expect("w");
    fs::write(sum(dir.path(), INO, 1), b"CAIRN").expect("w");
    // Right magic and version, wrong block size.
    let mut header = b"CAIRNSUM".to_vec();
    header.extend_from_slice(&1u32.to_le_bytes());
    header.extend_from_slice(&8192u32.to_le_bytes());
    fs::write(sum(dir.path(), INO, 2), &header).expect("w");
    let s = open(dir.path());
    for chunk in 0..3 {
        match s.read(INO, chunk, 0, 10) {
            Err(ChunkError::Sidecar { reason, .. }) => assert!(!reason.is_empty()),
            other => panic!("chunk {chunk}: expected a sidecar error, got {other:?}"),
        }
        assert!(s.write(INO, chunk, 0, &[1]).is_err());
    }
    assert!(format!("{}", s.read(INO, 2, 0, 1).expect_err("err")).contains("block size 8192"));
    // A sidecar cut inside an entry.
    let s2 = ChunkStore::open(&dir.path().join("b"), ChunkStoreOptions::default()).expect("open");
    s2.write(INO, 0, 0, &pattern(1, 2 * BS)).expect("write");
    drop(s2);
    let p = sum(&dir.path().join("b"), INO, 0);
    let f = fs::OpenOptions::new().write(true).open(&p).expect("sum");
    f.set_len(SIDECAR_HEADER_BYTES + 16 + 5).expect("cut");
    let s2 = ChunkStore::open(&dir.path().join("b"), ChunkStoreOptions::default()).expect("open");
    assert!(matches!(s2.read(INO, 0, BS as u32, 10), Err(ChunkError::Sidecar { .. })));
    assert_eq!(s2.read(INO, 0, 0, 10).expect("block 0 intact"), pattern(1, 10));
}

/// Goal: two threads writing disjoint 1 KiB pieces of one block concurrently
/// both land (the read-modify-write is serialised by the chunk lock).
#[test]
fn concurrent_partial_writes_to_one_block() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Arc::new(open(dir.path()));
    for round in 0..50u8 {
        let threads: Vec<_> = (0..2u8)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    let piece = vec![round.wrapping_mul(2).wrapping_add(t) | 1; 1024];
                    s.write(INO, 0, u32::from(t) * 1024 + 512, &piece).expect("write");
                })
            })
            .collect();
        for t in threads {
            t.join().expect("join");
        }
        let got = s.read(INO, 0, 0, BS as u32).expect("read");
        for t in 0..2u8 {
            let at = usize::from(t) * 1024 + 512;
            assert!(got[at..at + 1024]
                .iter()
                .all(|&b| b == round.wrapping_mul(2).wrapping_add(t) | 1));
        }
    }
}

/// Goal: a tiny open-file cache still gives correct results (eviction works).
#[test]
fn small_file_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = ChunkStoreOptions { open_files_max: 2, ..ChunkStoreOptions::default() };
    let s = ChunkStore::open(dir.path(), opts).expect("open");
    for chunk in 0..10u64 {
        s.write(INO, chunk, 0, &[chunk as u8 + 1; 10]).expect("write");
    }
    for chunk in 0..10u64 {
        assert_eq!(s.read(INO, chunk, 0, 10).expect("read"), vec![chunk as u8 + 1; 10]);
    }
    s.sync_inode(INO).expect("sync");
}

#[derive(Debug, Clone)]
enum Op {
    Write { chunk: u64, off: u32, len: u32, seed: u8 },
    Read { chunk: u64, off: u32, len: u32 },
    Truncate { size: u64 },
    Reopen,
}

const MODEL_CHUNK: u64 = 16 * 1024;

fn op() -> impl Strategy<Value = Op> {
    let range = (0u64..3, 0u32..MODEL_CHUNK as u32).prop_flat_map(|(c, off)| {
        (Just(c), Just(off), 1u32..=(MODEL_CHUNK as u32 - off).min(9000))
    });
    prop_oneof![
        6 => (range.clone(), any::<u8>())
            .prop_map(|((chunk, off, len), seed)| Op::Write { chunk, off, len, seed }),
        4 => range.prop_map(|(chunk, off, len)| Op::Read { chunk, off, len }),
        1 => (0u64..3 * MODEL_CHUNK).prop_map(|size| Op::Truncate { size }),
        1 => Just(Op::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Goal: random writes, reads, truncates and reopens within a few chunks
    /// agree with a plain byte-vector model of the file.
    #[test]
    fn matches_model(ops in prop::collection::vec(op(), 1..30)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = open(dir.path());
        let mut model: HashMap<u64, u8> = HashMap::new(); // file offset -> byte
        for op in ops {
            match op {
                Op::Write { chunk, off, len, seed } => {
                    let data = pattern(seed, len as usize);
                    s.write(INO, chunk, off, &data).expect("write");
                    let base = chunk * MODEL_CHUNK + u64::from(off);
                    for (i, b) in data.iter().enumerate() {
                        model.insert(base + i as u64, *b);
                    }
                }
                Op::Read { chunk, off, len } => {
                    let got = s.read(INO, chunk, off, len).expect("read");
                    let base = chunk * MODEL_CHUNK + u64::from(off);
                    let want: Vec<u8> = (0..u64::from(len))
                        .map(|i| model.get(&(base + i)).copied().unwrap_or(0))
                        .collect();
                    prop_assert_eq!(got, want);
                }
                Op::Truncate { size: new } => {
                    s.truncate(INO, new, MODEL_CHUNK).expect("truncate");
                    model.retain(|k, _| *k < new);
                }
                Op::Reopen => {
                    s.sync_all().expect("sync");
                    drop(s);
                    s = open(dir.path());
                }
            }
        }
    }
}
