//! The [`KvStore`] contract, run against both implementations, plus each
//! one's crash behaviour and a model comparison of the two.

use std::ops::Bound::{self, Excluded, Included, Unbounded};

use proptest::prelude::*;
use store::{KvStore, MemStore, SledStore, StoreError, WriteBatch};

fn kv(k: &[u8], v: &[u8]) -> (Vec<u8>, Vec<u8>) {
    (k.to_vec(), v.to_vec())
}

fn put_all(s: &dyn KvStore, pairs: &[(&[u8], &[u8])]) {
    let mut b = WriteBatch::new();
    for (k, v) in pairs {
        b.put(*k, *v);
    }
    s.apply(b).expect("apply");
}

fn all(s: &dyn KvStore) -> Vec<(Vec<u8>, Vec<u8>)> {
    s.scan(Unbounded, Unbounded, false, usize::MAX).expect("scan")
}

/// Goal: keys come back in byte order, whatever the insertion order.
fn ordering(s: &dyn KvStore) {
    put_all(s, &[(b"b", b"2"), (b"a\xff", b"4"), (b"a", b"1"), (b"", b"0"), (b"ab", b"3")]);
    assert_eq!(
        all(s),
        vec![kv(b"", b"0"), kv(b"a", b"1"), kv(b"ab", b"3"), kv(b"a\xff", b"4"), kv(b"b", b"2")]
    );
    assert_eq!(s.get(b"ab").expect("get"), Some(b"3".to_vec()));
    assert_eq!(s.get(b"zz").expect("get"), None);
}

/// Goal: every bound kind, empty and inverted ranges, limits.
fn ranges(s: &dyn KvStore) {
    let keys: Vec<Vec<u8>> = (0u8..10).map(|i| vec![b'k', i]).collect();
    let mut b = WriteBatch::new();
    for k in &keys {
        b.put(k.clone(), k.clone());
    }
    s.apply(b).expect("apply");
    let ks = |r: Vec<(Vec<u8>, Vec<u8>)>| r.into_iter().map(|(k, _)| k[1]).collect::<Vec<u8>>();
    let scan = |a: Bound<Vec<u8>>, e: Bound<Vec<u8>>, rev: bool, lim: usize| {
        ks(s.scan(a, e, rev, lim).expect("scan"))
    };
    assert_eq!(scan(Included(vec![b'k', 2]), Excluded(vec![b'k', 5]), false, 100), vec![2, 3, 4]);
    assert_eq!(scan(Excluded(vec![b'k', 2]), Included(vec![b'k', 5]), false, 100), vec![3, 4, 5]);
    assert_eq!(scan(Included(vec![b'k', 7]), Unbounded, false, 100), vec![7, 8, 9]);
    assert_eq!(scan(Unbounded, Excluded(vec![b'k', 2]), false, 100), vec![0, 1]);
    assert_eq!(scan(Unbounded, Unbounded, false, 3), vec![0, 1, 2]);
    assert_eq!(scan(Unbounded, Unbounded, false, 0), Vec::<u8>::new());
    // Reverse scans with a limit keep the largest keys, descending.
    assert_eq!(scan(Unbounded, Unbounded, true, 3), vec![9, 8, 7]);
    assert_eq!(scan(Included(vec![b'k', 2]), Excluded(vec![b'k', 6]), true, 2), vec![5, 4]);
    assert_eq!(scan(Excluded(vec![b'k', 2]), Included(vec![b'k', 6]), true, 100), vec![6, 5, 4, 3]);
    // Empty and inverted ranges yield nothing rather than panicking.
    assert!(scan(Excluded(vec![b'k', 3]), Excluded(vec![b'k', 3]), false, 9).is_empty());
    assert!(scan(Included(vec![b'k', 3]), Excluded(vec![b'k', 3]), true, 9).is_empty());
    assert!(scan(Included(vec![b'k', 5]), Included(vec![b'k', 3]), false, 9).is_empty());
    assert_eq!(scan(Included(vec![b'k', 3]), Included(vec![b'k', 3]), false, 9), vec![3]);
}

/// Goal: scan_prefix stays inside the prefix and pages with `after`.
fn prefixes(s: &dyn KvStore) {
    put_all(
        s,
        &[
            (b"a/1", b""),
            (b"a/2", b""),
            (b"a/3", b""),
            (b"a0", b""),
            (b"a.", b""),
            (b"\xff\xff", b""),
        ],
    );
    let keys = |r: Vec<(Vec<u8>, Vec<u8>)>| r.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(
        keys(s.scan_prefix(b"a/", None, 10).expect("scan")),
        vec![b"a/1".to_vec(), b"a/2".to_vec(), b"a/3".to_vec()]
    );
    assert_eq!(keys(s.scan_prefix(b"a/", None, 1).expect("scan")), vec![b"a/1".to_vec()]);
    assert_eq!(
        keys(s.scan_prefix(b"a/", Some(b"a/1"), 10).expect("scan")),
        vec![b"a/2".to_vec(), b"a/3".to_vec()]
    );
    assert!(s.scan_prefix(b"a/", Some(b"a/3"), 10).expect("scan").is_empty());
    // A cursor before the prefix starts at the prefix.
    assert_eq!(keys(s.scan_prefix(b"a/", Some(b"a"), 1).expect("scan")), vec![b"a/1".to_vec()]);
    assert_eq!(keys(s.scan_prefix(b"\xff", None, 10).expect("scan")), vec![b"\xff\xff".to_vec()]);
    assert_eq!(s.scan_prefix(b"", None, 100).expect("scan").len(), 6);
}

/// Goal: a batch's operations apply in order, last write per key wins.
fn batches(s: &dyn KvStore) {
    put_all(s, &[(b"x", b"old"), (b"y", b"keep")]);
    let mut b = WriteBatch::new();
    b.put(b"x".to_vec(), b"1".to_vec()).delete(b"x".to_vec()).put(b"z".to_vec(), b"1".to_vec());
    b.put(b"z".to_vec(), b"2".to_vec()).delete(b"nothing".to_vec());
    assert_eq!(b.len(), 5);
    assert!(!b.is_empty());
    s.apply(b).expect("apply");
    assert_eq!(all(s), vec![kv(b"y", b"keep"), kv(b"z", b"2")]);
    s.apply(WriteBatch::new()).expect("empty batch");
    assert_eq!(all(s).len(), 2);
}

/// Goal: overwrite replaces, delete removes, deleting twice is fine.
fn overwrite_delete(s: &dyn KvStore) {
    put_all(s, &[(b"k", b"v1")]);
    put_all(s, &[(b"k", b"v2")]);
    assert_eq!(s.get(b"k").expect("get"), Some(b"v2".to_vec()));
    let mut b = WriteBatch::new();
    b.delete(b"k".to_vec());
    s.apply(b.clone()).expect("apply");
    s.apply(b).expect("apply again");
    assert_eq!(s.get(b"k").expect("get"), None);
    assert!(all(s).is_empty());
    put_all(s, &[(b"k", b"")]);
    assert_eq!(s.get(b"k").expect("get"), Some(Vec::new()), "empty values are values");
    s.flush().expect("flush");
    assert!(s.approximate_size_bytes().is_ok());
}

macro_rules! contract_tests {
    ($modname:ident, $make:expr) => {
        mod $modname {
            use super::*;
            #[test]
            fn ordering() {
                let (s, _g) = $make;
                super::ordering(&s);
            }
            #[test]
            fn ranges() {
                let (s, _g) = $make;
                super::ranges(&s);
            }
            #[test]
            fn prefixes() {
                let (s, _g) = $make;
                super::prefixes(&s);
            }
            #[test]
            fn batches() {
                let (s, _g) = $make;
                super::batches(&s);
            }
            #[test]
            fn overwrite_delete() {
                let (s, _g) = $make;
                super::overwrite_delete(&s);
            }
        }
    };
}

fn sled_tmp() -> (SledStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    (SledStore::open(dir.path().join("db")).expect("open"), dir)
}

contract_tests!(on_mem, (MemStore::new(), ()));
contract_tests!(on_sled, sled_tmp());

/// Goal: the crash model loses exactly the batches applied since the last
/// flush, whole, and keeps the flushed ones.
#[test]
fn mem_crash_loses_unflushed_batches_only() {
    let s = MemStore::new();
    put_all(&s, &[(b"a", b"1"), (b"b", b"1")]);
    s.flush().expect("flush");
    put_all(&s, &[(b"a", b"2"), (b"c", b"2")]);
    let mut b = WriteBatch::new();
    b.delete(b"b".to_vec());
    s.apply(b).expect("apply");
    assert_eq!(s.unflushed_batches(), 2);
    assert_eq!(all(&s), vec![kv(b"a", b"2"), kv(b"c", b"2")]);
    s.crash();
    assert_eq!(all(&s), vec![kv(b"a", b"1"), kv(b"b", b"1")]);
    assert_eq!(s.unflushed_batches(), 0);
    // A second crash changes nothing: all of it is durable.
    s.crash();
    assert_eq!(all(&s), vec![kv(b"a", b"1"), kv(b"b", b"1")]);
}

/// Goal: a crash that persisted some unflushed batches keeps a prefix of
/// them, each whole.
#[test]
fn mem_crash_keeping_a_prefix() {
    let s = MemStore::new();
    put_all(&s, &[(b"a", b"1"), (b"b", b"1")]);
    put_all(&s, &[(b"a", b"2"), (b"b", b"2")]);
    put_all(&s, &[(b"a", b"3"), (b"b", b"3")]);
    s.crash_keeping(2);
    assert_eq!(all(&s), vec![kv(b"a", b"2"), kv(b"b", b"2")]);
}

/// Goal: flushed data survives closing and reopening the sled store.
#[test]
fn sled_reopen_keeps_flushed_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    {
        let s = SledStore::open(&path).expect("open");
        put_all(&s, &[(b"a", b"1"), (b"b", b"2")]);
        let mut b = WriteBatch::new();
        b.delete(b"a".to_vec());
        s.apply(b).expect("apply");
        s.flush().expect("flush");
    }
    let s = SledStore::open(&path).expect("reopen");
    assert_eq!(all(&s), vec![kv(b"b", b"2")]);
}

/// Goal: every persisted format starts with a version; a store written by
/// something else is refused, not misread.
#[test]
fn sled_refuses_unversioned_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    {
        let db = sled::open(&path).expect("raw sled");
        db.insert(b"foreign", b"data").expect("insert");
        db.flush().expect("flush");
    }
    match SledStore::open(&path) {
        Err(StoreError::Version { found: None, expected: 1 }) => {}
        other => panic!("expected a version error, got {other:?}"),
    }
}

/// Goal: a store of another format version is refused.
#[test]
fn sled_refuses_other_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    {
        let db = sled::open(&path).expect("raw sled");
        let t = db.open_tree(b"__cairn_store_format").expect("tree");
        t.insert(b"version", &99u32.to_be_bytes()[..]).expect("insert");
        t.insert(b"bad", b"x").expect("insert");
        db.flush().expect("flush");
    }
    match SledStore::open(&path) {
        Err(StoreError::Version { found: Some(99), expected: 1 }) => {}
        other => panic!("expected a version error, got {other:?}"),
    }
}

#[derive(Debug, Clone)]
enum Op {
    Batch(Vec<(bool, u8, u8)>),
    Get(u8),
    Scan(Option<u8>, Option<u8>, bool, bool, usize),
    Prefix(u8, Option<u8>, usize),
    Flush,
}

fn key(k: u8) -> Vec<u8> {
    // Two-byte keys from a small space so operations collide often; the
    // first byte makes prefixes meaningful.
    vec![k / 16, k % 16]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::collection::vec((any::<bool>(), 0u8..64, any::<u8>()), 0..6).prop_map(Op::Batch),
        2 => (0u8..64).prop_map(Op::Get),
        3 => (
            prop::option::of(0u8..64),
            prop::option::of(0u8..64),
            any::<bool>(),
            any::<bool>(),
            0usize..12
        )
            .prop_map(|(a, b, inc, rev, lim)| Op::Scan(a, b, inc, rev, lim)),
        1 => (0u8..4, prop::option::of(0u8..64), 0usize..8)
            .prop_map(|(p, a, l)| Op::Prefix(p, a, l)),
        1 => Just(Op::Flush),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Goal: MemStore is a faithful twin of SledStore (sled's model test,
    /// garage's check_against_naive): the same operations give the same
    /// answers, and reopening sled after a flush keeps everything.
    #[test]
    fn mem_matches_sled(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db");
        let mem = MemStore::new();
        {
            let sled = SledStore::open(&path).expect("open");
            for op in &ops {
                match op {
                    Op::Batch(items) => {
                        let mut b = WriteBatch::new();
                        for (put, k, v) in items {
                            if *put { b.put(key(*k), vec![*v]); } else { b.delete(key(*k)); }
                        }
                        mem.apply(b.clone()).expect("mem");
                        sled.apply(b).expect("sled");
                    }
                    Op::Get(k) => {
                        prop_assert_eq!(mem.get(&key(*k)).expect("mem"), sled.get(&key(*k)).expect("sled"));
                    }
                    Op::Scan(a, b, inc, rev, lim) => {
                        let lo = a.map_or(Unbounded, |a| if *inc { Included(key(a)) } else { Excluded(key(a)) });
                        let hi = b.map_or(Unbounded, |b| if *inc { Excluded(key(b)) } else { Included(key(b)) });
                        prop_assert_eq!(
                            mem.scan(lo.clone(), hi.clone(), *rev, *lim).expect("mem"),
                            sled.scan(lo, hi, *rev, *lim).expect("sled")
                        );
                    }
                    Op::Prefix(p, after, lim) => {
                        let after = after.map(key);
                        prop_assert_eq!(
                            mem.scan_prefix(&[*p], after.as_deref(), *lim).expect("mem"),
                            sled.scan_prefix(&[*p], after.as_deref(), *lim).expect("sled")
                        );
                    }
                    Op::Flush => {
                        mem.flush().expect("mem");
                        sled.flush().expect("sled");
                    }
                }
            }
            mem.flush().expect("mem");
            sled.flush().expect("sled");
        }
        let sled = SledStore::open(&path).expect("reopen");
        prop_assert_eq!(all(&mem), all(&sled));
    }
}
