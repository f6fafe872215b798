//! Tests of the replicated formats and of [`ReplicatedMeta`]: encodings
//! round-trip and never panic on bad bytes; identical logs give identical
//! key spaces and digests; a checkpoint restored into another store gives
//! the same state and the same answers.

use std::panic::{catch_unwind, AssertUnwindSafe};

use consensus::{LogIndex, StateMachine};
use fsapi::{
    Attr, Credentials, FileType, FsError, Generation, InodeId, SetAttr, SetTime, SpecialKind,
    Timestamp, WccAttr, XattrSet,
};
use proptest::prelude::*;
use store::{KvStore, MemStore, WriteBatch};

use crate::tests::{check_invariants, command, dump, op, T0};
use crate::wire::known_invalid_texts;
use crate::*;

// ---------------------------------------------------------------- generators

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn ts() -> impl Strategy<Value = Timestamp> {
    (any::<i64>(), any::<u32>()).prop_map(|(seconds, nanos)| Timestamp { seconds, nanos })
}

fn cred() -> impl Strategy<Value = Credentials> {
    (any::<u32>(), any::<u32>(), proptest::collection::vec(any::<u32>(), 0..20))
        .prop_map(|(uid, gid, groups)| Credentials { uid, gid, groups })
}

fn set_time() -> impl Strategy<Value = SetTime> {
    prop_oneof![
        Just(SetTime::DontChange),
        Just(SetTime::ServerTime),
        ts().prop_map(SetTime::ClientTime)
    ]
}

fn set_attr() -> impl Strategy<Value = SetAttr> {
    use proptest::option::of;
    (of(any::<u32>()), of(any::<u32>()), of(any::<u32>()), of(any::<u64>()), set_time(), set_time())
        .prop_map(|(mode, uid, gid, size, atime, mtime)| SetAttr {
            mode,
            uid,
            gid,
            size,
            atime,
            mtime,
        })
}

fn kind() -> impl Strategy<Value = NewKind> {
    prop_oneof![
        Just(NewKind::Regular),
        Just(NewKind::Directory),
        bytes(300).prop_map(NewKind::Symlink),
        Just(NewKind::Special(SpecialKind::Fifo)),
        Just(NewKind::Special(SpecialKind::Socket)),
        (any::<u32>(), any::<u32>())
            .prop_map(|(a, b)| NewKind::Special(SpecialKind::CharDevice(a, b))),
        (any::<u32>(), any::<u32>())
            .prop_map(|(a, b)| NewKind::Special(SpecialKind::BlockDevice(a, b))),
    ]
}

fn create_mode() -> impl Strategy<Value = CreateMode> {
    prop_oneof![
        Just(CreateMode::Unchecked),
        Just(CreateMode::Guarded),
        any::<[u8; 8]>().prop_map(CreateMode::Exclusive)
    ]
}

fn ino() -> impl Strategy<Value = InodeId> {
    any::<u64>().prop_map(InodeId)
}

/// Any command, with any field values (valid or not for `apply`).
pub(crate) fn any_command() -> impl Strategy<Value = Command> {
    let how = prop_oneof![Just(XattrSet::Either), Just(XattrSet::Create), Just(XattrSet::Replace)];
    prop_oneof![
        (
            (ino(), bytes(300), kind(), create_mode()),
            (set_attr(), cred(), ts(), any::<u64>(), (any::<u32>(), any::<u8>()))
        )
            .prop_map(
                |((parent, name, kind, mode), (attrs, cred, now, g, (chunk_size, replicas)))| {
                    Command::Create {
                        parent,
                        name,
                        kind,
                        mode,
                        attrs,
                        cred,
                        now,
                        generation: Generation(g),
                        chunk_size,
                        replicas,
                    }
                }
            ),
        (ino(), bytes(300), any::<bool>(), cred(), ts(), proptest::option::of(ino())).prop_map(
            |(parent, name, directory, cred, now, keep)| Command::Remove {
                parent,
                name,
                directory,
                cred,
                now,
                keep
            }
        ),
        (ino(), bytes(64), ino(), bytes(64), cred(), ts(), proptest::option::of(ino())).prop_map(
            |(from, from_name, to, to_name, cred, now, keep)| Command::Rename {
                from,
                from_name,
                to,
                to_name,
                cred,
                now,
                keep
            }
        ),
        (ino(), bytes(64), bytes(2000), how, cred(), ts()).prop_map(
            |(ino, name, value, how, cred, now)| Command::SetXattr {
                ino,
                name,
                value,
                how,
                cred,
                now
            }
        ),
        (ino(), bytes(64), cred(), ts()).prop_map(|(ino, name, cred, now)| Command::RemoveXattr {
            ino,
            name,
            cred,
            now
        }),
        ino().prop_map(|ino| Command::ReleaseOrphan { ino }),
        (ino(), ino(), bytes(64), cred(), ts())
            .prop_map(|(file, dir, name, cred, now)| Command::Link { file, dir, name, cred, now }),
        (ino(), set_attr(), proptest::option::of(ts()), cred(), ts()).prop_map(
            |(ino, set, guard_ctime, cred, now)| Command::SetAttr {
                ino,
                set,
                guard_ctime,
                cred,
                now
            }
        ),
        (ino(), any::<u64>(), any::<u64>(), cred(), ts()).prop_map(
            |(ino, end, writes, cred, now)| Command::AfterWrite { ino, end, writes, cred, now }
        ),
        (ino(), any::<u64>(), bytes(5000), cred(), ts()).prop_map(
            |(ino, offset, data, cred, now)| Command::WriteInline { ino, offset, data, cred, now }
        ),
        ino().prop_map(|ino| Command::MakeChunked { ino }),
        (any::<u64>(), any::<u64>(), bytes(300)).prop_map(|(expected, version, map)| {
            Command::SetClusterMap { expected, version, map }
        }),
        (ino(), range_lock()).prop_map(|(ino, lock)| Command::Lock { ino, lock }),
        (ino(), lock_owner(), any::<u64>(), any::<u64>())
            .prop_map(|(ino, owner, start, end)| Command::Unlock { ino, owner, start, end }),
        lock_holder().prop_map(|holder| Command::UnlockAll { holder }),
    ]
}

fn lock_owner() -> impl Strategy<Value = LockOwner> {
    (any::<u64>(), any::<u64>(), any::<u64>(), bytes(40)).prop_map(
        |(node, incarnation, client, owner)| LockOwner { node, incarnation, client, owner },
    )
}

fn range_lock() -> impl Strategy<Value = RangeLock> {
    (lock_owner(), any::<u64>(), any::<u64>(), any::<bool>()).prop_map(|(owner, start, end, w)| {
        RangeLock { owner, start, end, kind: if w { LockKind::Write } else { LockKind::Read } }
    })
}

fn lock_holder() -> impl Strategy<Value = LockHolder> {
    prop_oneof![
        lock_owner().prop_map(LockHolder::Owner),
        (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(node, incarnation, client)| {
            LockHolder::Client { node, incarnation, client }
        }),
        (any::<u64>(), any::<u64>())
            .prop_map(|(node, incarnation)| LockHolder::Incarnation { node, incarnation }),
        (any::<u64>(), any::<u64>())
            .prop_map(|(node, keep)| LockHolder::OtherIncarnations { node, keep }),
    ]
}

/// The version byte each command is written with: the lock commands are
/// of the newest version, the others of the one before.
fn version_of(c: &Command) -> u8 {
    match c {
        Command::Lock { .. } | Command::Unlock { .. } | Command::UnlockAll { .. } => {
            COMMAND_FORMAT_VERSION
        }
        _ => COMMAND_FORMAT_VERSION - 1,
    }
}

fn attr() -> impl Strategy<Value = Attr> {
    let ftype = prop_oneof![
        Just(FileType::Regular),
        Just(FileType::Directory),
        Just(FileType::BlockDevice),
        Just(FileType::CharDevice),
        Just(FileType::Symlink),
        Just(FileType::Socket),
        Just(FileType::Fifo),
    ];
    (
        (ftype, any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>(), any::<u64>(), any::<u64>()),
        ((any::<u32>(), any::<u32>()), ino(), any::<u64>(), ts(), ts(), ts(), any::<u64>()),
    )
        .prop_map(
            |(
                (ftype, mode, nlink, uid, gid, size, used),
                (rdev, ino, g, atime, mtime, ctime, change),
            )| Attr {
                ftype,
                mode,
                nlink,
                uid,
                gid,
                size,
                used,
                rdev,
                ino,
                generation: Generation(g),
                atime,
                mtime,
                ctime,
                change,
            },
        )
}

fn fs_error() -> impl Strategy<Value = FsError> {
    let simple = vec![
        FsError::NotPermitted,
        FsError::NotFound,
        FsError::AccessDenied,
        FsError::Exists,
        FsError::CrossDevice,
        FsError::NotDir,
        FsError::IsDir,
        FsError::FileTooLarge,
        FsError::NoSpace,
        FsError::ReadOnly,
        FsError::TooManyLinks,
        FsError::NameTooLong,
        FsError::NotEmpty,
        FsError::Stale,
        FsError::BadHandle,
        FsError::BadCookie,
        FsError::NotSync,
        FsError::NotSupported,
        FsError::BadType,
        FsError::Jukebox,
        FsError::NoXattr,
        FsError::XattrTooBig,
    ];
    prop_oneof![
        proptest::sample::select(simple),
        proptest::sample::select(known_invalid_texts().to_vec()).prop_map(FsError::Invalid),
        "\\PC{0,60}".prop_map(FsError::Io),
        "\\PC{0,60}".prop_map(FsError::ServerFault),
    ]
}

fn outcome() -> impl Strategy<Value = FsResult<Applied>> {
    let wcc =
        (any::<u64>(), ts(), ts()).prop_map(|(size, mtime, ctime)| WccAttr { size, mtime, ctime });
    let changed = proptest::collection::vec((ino(), proptest::option::of(wcc), attr()), 0..4);
    let applied = (
        changed,
        proptest::option::of((ino(), attr())),
        proptest::collection::vec(ino(), 0..4),
        proptest::option::of((ino(), any::<u64>(), any::<u32>())),
        proptest::option::of(range_lock()),
    )
        .prop_map(|(changed, object, freed, truncated, lock_denied)| Applied {
            changed,
            object,
            freed,
            truncated,
            lock_denied,
        });
    prop_oneof![applied.prop_map(Ok), fs_error().prop_map(Err)]
}

// ---------------------------------------------------------------- encodings

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A command survives the log: decode(encode(c)) = c, and no strict
    /// prefix of the bytes decodes.
    #[test]
    fn commands_round_trip(c in any_command()) {
        let b = c.encode();
        prop_assert_eq!(b[0], version_of(&c));
        prop_assert_eq!(Command::decode(&b), Ok(c));
        for cut in 0..b.len() {
            prop_assert!(Command::decode(&b[..cut]).is_err(), "prefix of {} bytes decoded", cut);
        }
    }

    /// Random bytes never panic; whatever decodes is canonical (encodes back
    /// to the same bytes), so two replicas cannot read one entry two ways.
    #[test]
    fn random_bytes_never_panic(
        head in proptest::sample::select(vec![vec![], vec![1u8], vec![1u8, 1], vec![1, 2], vec![1, 3], vec![1, 4], vec![1, 8], vec![1, 10], vec![2]]),
        tail in bytes(400),
    ) {
        let mut b = head;
        b.extend(tail);
        if let Ok(c) = Command::decode(&b) {
            prop_assert_eq!(c.encode(), b.clone());
        }
        if let Ok(o) = decode_outcome(&b) {
            prop_assert_eq!(decode_outcome(&encode_outcome(&o)), Ok(o));
        }
    }

    /// Valid encodings with one byte changed: decode or fail, never panic.
    #[test]
    fn corrupted_commands_never_panic(c in any_command(), at in any::<usize>(), x in 1u8..=255) {
        let mut b = c.encode();
        let i = at % b.len();
        b[i] ^= x;
        if let Ok(d) = Command::decode(&b) {
            prop_assert_eq!(d.encode(), b);
        }
    }

    /// What a replica answers survives the trip back to the proposer.
    #[test]
    fn outcomes_round_trip(o in outcome()) {
        let b = encode_outcome(&o);
        let denied = matches!(&o, Ok(a) if a.lock_denied.is_some());
        prop_assert_eq!(b[0], if denied { OUTCOME_FORMAT_VERSION } else { OUTCOME_FORMAT_VERSION - 1 });
        prop_assert_eq!(decode_outcome(&b), Ok(o));
        for cut in 0..b.len() {
            prop_assert!(decode_outcome(&b[..cut]).is_err());
        }
        let mut bad = b.clone();
        bad.push(0);
        prop_assert!(decode_outcome(&bad).is_err(), "trailing bytes");
    }
}

#[test]
fn limits_and_versions_are_checked() {
    let c = Command::ReleaseOrphan { ino: InodeId(9) };
    let mut b = c.encode();
    assert_eq!(
        b[0],
        COMMAND_FORMAT_VERSION - 1,
        "a command older than the locks keeps its version"
    );
    b[0] = COMMAND_FORMAT_VERSION + 1;
    assert!(Command::decode(&b).is_err(), "unknown version");
    b[0] = COMMAND_FORMAT_VERSION - 2;
    assert!(Command::decode(&b).is_err(), "an older version");
    b[0] = COMMAND_FORMAT_VERSION;
    assert!(Command::decode(&b).is_err(), "an old command with the lock version");
    let holder = LockHolder::Incarnation { node: 1, incarnation: 2 };
    let mut l = Command::UnlockAll { holder }.encode();
    l[0] = COMMAND_FORMAT_VERSION - 1;
    assert!(Command::decode(&l).is_err(), "a lock command with the version before locks");
    // An outcome of version 2 must carry a denial; an error is version 1.
    let mut o = encode_outcome(&Ok(Applied::default()));
    o[0] = OUTCOME_FORMAT_VERSION;
    assert!(decode_outcome(&o).is_err());
    let mut o = encode_outcome(&Err(FsError::Stale));
    o[0] = OUTCOME_FORMAT_VERSION;
    assert!(decode_outcome(&o).is_err());
    assert!(Command::decode(&vec![1u8; COMMAND_SIZE_BYTES_MAX + 1]).is_err(), "over the limit");
    // A length prefix far past the end is refused without allocating it.
    let mut huge = vec![COMMAND_FORMAT_VERSION - 1, 7];
    huge.extend_from_slice(&1u64.to_le_bytes());
    huge.extend_from_slice(&2u64.to_le_bytes());
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(Command::decode(&huge).is_err());
    // An error text is cut to the limit at a character boundary.
    let long = FsError::ServerFault("é".repeat(ERROR_TEXT_BYTES_MAX));
    match decode_outcome(&encode_outcome(&Err(long))) {
        Ok(Err(FsError::ServerFault(t))) => {
            assert!(t.len() <= ERROR_TEXT_BYTES_MAX && t.len() >= ERROR_TEXT_BYTES_MAX - 1)
        }
        other => panic!("unexpected {other:?}"),
    }
    // An `Invalid` text this version does not know decodes to a generic one.
    let unknown = encode_outcome(&Err(FsError::Invalid("from a newer replica")));
    assert_eq!(decode_outcome(&unknown), Ok(Err(FsError::Invalid(INVALID_UNKNOWN))));
}

// ---------------------------------------------------------------- replicas

fn replica() -> (ReplicatedMeta, Arc<MemStore>) {
    let s = Arc::new(MemStore::default());
    let r = ReplicatedMeta::open(s.clone(), 0o777, T0).expect("open");
    (r, s)
}

fn meta_pairs(s: &MemStore) -> Vec<(Vec<u8>, Vec<u8>)> {
    dump(s).into_iter().filter(|(k, _)| is_meta_key(k)).collect()
}

/// Every answer a reader can give about the tree, from the root down:
/// listings (with cookies), lookups, inode records, extended attributes,
/// orphans.
fn answers(r: &MetaReader) -> Vec<String> {
    let mut out =
        vec![format!("epoch {:?} orphans {:?}", r.epoch(), r.orphans(1000).expect("orphans"))];
    let mut stack = vec![InodeId::ROOT];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(d) = stack.pop() {
        if !seen.insert(d) {
            continue;
        }
        let (list, eof) = r.list(d, 0, 100_000).expect("list");
        out.push(format!("dir {d:?} {:?} eof {eof}", r.inode(d).expect("inode")));
        for e in list {
            let found = r.lookup(d, &e.name).expect("lookup");
            let rec = r.inode(e.child).expect("inode");
            let xattrs = r.xattr_names(e.child, 100).expect("xattrs");
            let values: Vec<_> =
                xattrs.iter().map(|n| r.getxattr(e.child, n).expect("getxattr")).collect();
            out.push(format!("{e:?} -> {found:?} {rec:?} {xattrs:?} {values:?}"));
            if rec.is_some_and(|x| x.ftype == FileType::Directory) {
                stack.push(e.child);
            }
        }
    }
    for o in r.orphans(1000).expect("orphans") {
        out.push(format!("orphan {o:?} {:?}", r.inode(o).expect("inode")));
    }
    for (ino, l) in r.lock_table().expect("locks") {
        out.push(format!("lock {ino:?} {l:?} {:?}", r.locks(ino).expect("locks of an inode")));
    }
    out
}

fn xxh3(b: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Raft §5.4.3 (state machine safety) rests on this: replicas that
    /// apply the same log reach byte-identical key spaces and equal
    /// digests, and answer every entry alike. The outcome is also what a
    /// plain `Meta::apply` of the command gives.
    #[test]
    fn identical_logs_give_identical_state(ops in proptest::collection::vec(op(), 1..80)) {
        let (mut a, sa) = replica();
        let (mut b, sb) = replica();
        let plain = Meta::open(Arc::new(MemStore::default()), 0o777, T0).expect("open");
        for (t, o) in ops.iter().enumerate() {
            let index = LogIndex(t as u64 + 2);
            let c = command(&a.reader().meta, o, t as u64);
            let entry = c.encode();
            let ra = a.apply(index, &entry);
            let rb = b.apply(index, &entry);
            prop_assert_eq!(&ra, &rb);
            prop_assert_eq!(decode_outcome(&ra), Ok(plain.apply(c)));
            prop_assert_eq!(a.applied_index().expect("index"), index);
            check_invariants(&a.reader().meta);
        }
        prop_assert_eq!(meta_pairs(&sa), meta_pairs(&sb));
        prop_assert_eq!(a.state_digest(), b.state_digest());
        prop_assert_eq!(a.state_digest(), xxh3(&a.checkpoint()));
        prop_assert_eq!(a.checkpoint(), b.checkpoint());
    }

    /// A checkpoint restored into another store (one with other content,
    /// and a Raft log beside it) gives the same key space, digest and
    /// answers, and both keep agreeing as entries are applied after it.
    #[test]
    fn checkpoint_restore_gives_the_same_state(
        before in proptest::collection::vec(op(), 1..60),
        stale in proptest::collection::vec(op(), 0..20),
        after in proptest::collection::vec(op(), 0..20),
    ) {
        let (mut a, sa) = replica();
        for (t, o) in before.iter().enumerate() {
            let c = command(&a.reader().meta, o, t as u64);
            a.apply(LogIndex(t as u64 + 2), &c.encode());
        }
        let ck = a.checkpoint();
        let has_locks = !a.reader().lock_table().expect("locks").is_empty();
        prop_assert_eq!(ck[0], if has_locks { CHECKPOINT_FORMAT_VERSION } else { 1 });

        let s = Arc::new(MemStore::default());
        let mut b = ReplicatedMeta::open(s.clone(), 0o700, Timestamp { seconds: 5, nanos: 0 })
            .expect("open");
        for (t, o) in stale.iter().enumerate() {
            let c = command(&b.reader().meta, o, 1000 + t as u64);
            b.apply(LogIndex(t as u64 + 2), &c.encode());
        }
        let mut raft = WriteBatch::new();
        raft.put(b"raft/hs".to_vec(), b"not metadata".to_vec());
        s.apply(raft).expect("apply");

        b.restore(&ck).expect("restore");
        prop_assert_eq!(meta_pairs(&s), meta_pairs(&sa));
        prop_assert_eq!(b.state_digest(), a.state_digest());
        prop_assert_eq!(b.checkpoint(), ck);
        prop_assert_eq!(answers(b.reader()), answers(a.reader()));
        prop_assert_eq!(b.applied_index().expect("index"), a.applied_index().expect("index"));
        prop_assert_eq!(s.get(b"raft/hs").expect("get"), Some(b"not metadata".to_vec()));

        for (t, o) in after.iter().enumerate() {
            let index = LogIndex(before.len() as u64 + 2 + t as u64);
            let c = command(&a.reader().meta, o, 500 + t as u64);
            prop_assert_eq!(a.apply(index, &c.encode()), b.apply(index, &c.encode()));
        }
        prop_assert_eq!(b.state_digest(), a.state_digest());
        prop_assert_eq!(answers(b.reader()), answers(a.reader()));
    }
}

fn mkfile(r: &mut ReplicatedMeta, index: u64, name: &str) -> Vec<u8> {
    let c = Command::Create {
        parent: InodeId::ROOT,
        name: name.as_bytes().to_vec(),
        kind: NewKind::Regular,
        mode: CreateMode::Guarded,
        attrs: SetAttr::default(),
        cred: Credentials::root(),
        now: T0,
        generation: Generation(index),
        chunk_size: CHUNK_SIZE_DEFAULT_BYTES,
        replicas: 0,
    };
    r.apply(LogIndex(index), &c.encode())
}

/// A checkpoint is version 1 without lock records and version 2 with some;
/// either under the other version is refused, and a version-2 checkpoint
/// restores the lock table.
#[test]
fn checkpoints_with_locks_are_version_2() {
    let (mut a, _) = replica();
    mkfile(&mut a, 2, "f");
    let plain = a.checkpoint();
    assert_eq!(plain[0], 1);
    let owner = LockOwner { node: 1, incarnation: 2, client: 3, owner: b"o".to_vec() };
    let lock = RangeLock { owner, start: 0, end: 9, kind: LockKind::Write };
    let ino = a.reader().lookup(InodeId::ROOT, b"f").expect("lookup").expect("f");
    let out = a.apply(LogIndex(3), &Command::Lock { ino, lock: lock.clone() }.encode());
    assert_eq!(decode_outcome(&out), Ok(Ok(Applied::default())));
    let ck = a.checkpoint();
    assert_eq!(ck[0], CHECKPOINT_FORMAT_VERSION);
    let (mut b, _) = replica();
    let mut v1 = ck.clone();
    v1[0] = 1;
    assert!(b.restore(&v1).is_err(), "lock records in a version 1 checkpoint");
    let mut v2 = plain.clone();
    v2[0] = CHECKPOINT_FORMAT_VERSION;
    assert!(b.restore(&v2).is_err(), "a version 2 checkpoint without lock records");
    b.restore(&ck).expect("restore");
    assert_eq!(b.reader().locks(ino).expect("locks"), vec![lock]);
    assert_eq!(b.state_digest(), a.state_digest());
}

/// A checkpoint that is cut, reordered, from elsewhere or of another
/// version is refused and leaves the store as it was.
#[test]
fn bad_checkpoints_are_refused_and_change_nothing() {
    let (mut a, _) = replica();
    for i in 0..5 {
        mkfile(&mut a, 2 + i, &format!("f{i}"));
    }
    let ck = a.checkpoint();
    let (mut b, sb) = replica();
    mkfile(&mut b, 2, "other");
    let before = dump(&sb);
    for cut in 0..ck.len() {
        assert!(b.restore(&ck[..cut]).is_err(), "prefix of {cut} bytes restored");
    }
    let mut v = ck.clone();
    v[0] = 9;
    assert!(b.restore(&v).is_err(), "unknown version");
    let mut trailing = ck.clone();
    trailing.push(0);
    assert!(b.restore(&trailing).is_err(), "trailing bytes");
    // A key outside the metadata key space.
    let mut w = crate::codec::Writer::default();
    w.u8(1).u8(1).bytes(b"raft/x").bytes(b"v").u8(0).u64(1);
    assert!(b.restore(&w.finish()).is_err());
    // Keys out of order.
    let mut w = crate::codec::Writer::default();
    w.u8(1);
    w.u8(1).bytes(b"sformat").bytes(&1u64.to_le_bytes());
    w.u8(1).bytes(b"i\x00").bytes(b"");
    w.u8(0).u64(2);
    assert!(b.restore(&w.finish()).is_err());
    // No format scalar.
    let mut w = crate::codec::Writer::default();
    w.u8(1).u8(0).u64(0);
    assert!(b.restore(&w.finish()).is_err());
    assert_eq!(dump(&sb), before, "refused restores changed the store");
    b.restore(&ck).expect("the real one restores");
    assert_eq!(b.state_digest(), a.state_digest());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random or corrupted checkpoints: an error or a valid state, no panic.
    #[test]
    fn random_checkpoints_never_panic(tail in bytes(300), at in any::<usize>(), x in 1u8..=255) {
        let (mut r, _) = replica();
        let mut b = vec![CHECKPOINT_FORMAT_VERSION];
        b.extend(tail);
        let _ = r.restore(&b);
        let (mut a, _) = replica();
        mkfile(&mut a, 2, "f");
        let mut ck = a.checkpoint();
        let i = at % ck.len();
        ck[i] ^= x;
        let _ = r.restore(&ck);
    }
}

/// An operation's error and an entry no replica can decode are outcomes:
/// the index is recorded, nothing else changes, on every replica alike.
#[test]
fn errors_and_undecodable_entries_are_outcomes() {
    let (mut a, sa) = replica();
    let (mut b, sb) = replica();
    mkfile(&mut a, 2, "f");
    mkfile(&mut b, 2, "f");
    let again = mkfile(&mut a, 3, "f");
    assert_eq!(mkfile(&mut b, 3, "f"), again);
    assert_eq!(decode_outcome(&again), Ok(Err(FsError::Exists)));
    assert_eq!(a.applied_index().expect("index"), LogIndex(3));
    for (i, junk) in [vec![], vec![9, 9, 9], vec![COMMAND_FORMAT_VERSION, 99]].iter().enumerate() {
        let index = LogIndex(4 + i as u64);
        let ra = a.apply(index, junk);
        assert_eq!(ra, b.apply(index, junk));
        assert!(matches!(decode_outcome(&ra), Ok(Err(FsError::ServerFault(_)))), "{ra:?}");
        assert_eq!(a.applied_index().expect("index"), index);
    }
    assert_eq!(meta_pairs(&sa), meta_pairs(&sb));
    assert_eq!(a.reader().lookup(InodeId::ROOT, b"f").expect("lookup"), Some(InodeId(2)));
}

/// A store that fails once armed.
struct Failing {
    mem: MemStore,
    armed: std::sync::atomic::AtomicBool,
}

impl KvStore for Failing {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, store::StoreError> {
        if self.armed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(store::StoreError::Io(std::io::Error::other("disk on fire")));
        }
        self.mem.get(key)
    }
    fn scan(
        &self,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<store::KeyValue>, store::StoreError> {
        if self.armed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(store::StoreError::Io(std::io::Error::other("disk on fire")));
        }
        self.mem.scan(start, end, reverse, limit)
    }
    fn apply(&self, batch: WriteBatch) -> Result<(), store::StoreError> {
        self.mem.apply(batch)
    }
    fn flush(&self) -> Result<(), store::StoreError> {
        self.mem.flush()
    }
    fn approximate_size_bytes(&self) -> Result<u64, store::StoreError> {
        self.mem.approximate_size_bytes()
    }
}

/// A failing store is not an outcome (the replica would differ from the
/// others): apply stops the replica. A reader's failure on another thread
/// does not count against the apply.
#[test]
fn a_failing_store_is_fatal_to_the_apply() {
    let s = Arc::new(Failing { mem: MemStore::default(), armed: false.into() });
    let mut r = ReplicatedMeta::open(s.clone(), 0o777, T0).expect("open");
    mkfile(&mut r, 2, "f");
    s.armed.store(true, std::sync::atomic::Ordering::SeqCst);
    let reader = r.reader().clone();
    std::thread::spawn(move || assert!(reader.inode(InodeId::ROOT).is_err()))
        .join()
        .expect("reader thread");
    let died = catch_unwind(AssertUnwindSafe(|| mkfile(&mut r, 3, "g")));
    assert!(died.is_err(), "apply over a failing store must not answer");
    s.armed.store(false, std::sync::atomic::Ordering::SeqCst);
    // After a failure in another thread only, apply goes on.
    let reader = r.reader().clone();
    s.armed.store(true, std::sync::atomic::Ordering::SeqCst);
    std::thread::spawn(move || assert!(reader.inode(InodeId::ROOT).is_err()))
        .join()
        .expect("reader thread");
    s.armed.store(false, std::sync::atomic::Ordering::SeqCst);
    let ok = mkfile(&mut r, 4, "h");
    assert!(matches!(decode_outcome(&ok), Ok(Ok(_))));
}
