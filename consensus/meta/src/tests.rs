use std::collections::BTreeSet;
use std::ops::Bound;

use super::*;
use proptest::prelude::*;
use store::MemStore;

pub(crate) const T0: Timestamp = Timestamp { seconds: 1_700_000_000, nanos: 0 };

fn meta() -> (Meta, Arc<MemStore>) {
    let s = Arc::new(MemStore::default());
    let m = Meta::open(s.clone(), 0o777, T0).expect("open");
    (m, s)
}

fn root() -> Credentials {
    Credentials::root()
}

fn user(uid: u32) -> Credentials {
    Credentials { uid, gid: uid, groups: vec![] }
}

fn mk(
    m: &Meta,
    parent: InodeId,
    name: &str,
    kind: NewKind,
    cred: &Credentials,
) -> FsResult<InodeId> {
    let a = m.apply(Command::Create {
        parent,
        name: name.as_bytes().to_vec(),
        kind,
        mode: CreateMode::Guarded,
        attrs: SetAttr::default(),
        cred: cred.clone(),
        now: T0,
        generation: Generation(7),
        chunk_size: CHUNK_SIZE_DEFAULT_BYTES,
        replicas: 0,
    })?;
    Ok(a.object.expect("created").0)
}

fn names(m: &Meta, dir: InodeId) -> BTreeSet<String> {
    let (l, eof) = m.list(dir, 0, 1_000_000).expect("list");
    assert!(eof);
    l.into_iter().map(|e| String::from_utf8(e.name).expect("utf8")).collect()
}

#[test]
fn a_regular_file_records_its_replica_count() {
    let (m, _) = meta();
    let create = |name: &str, kind: NewKind| {
        m.apply(Command::Create {
            parent: InodeId::ROOT,
            name: name.as_bytes().to_vec(),
            kind,
            mode: CreateMode::Guarded,
            attrs: SetAttr::default(),
            cred: root(),
            now: T0,
            generation: Generation(7),
            chunk_size: CHUNK_SIZE_DEFAULT_BYTES,
            replicas: 2,
        })
        .expect("create")
        .object
        .expect("created")
        .0
    };
    let f = create("f", NewKind::Regular);
    let d = create("d", NewKind::Directory);
    assert_eq!(m.inode(f).expect("read").expect("f").replicas, 2);
    assert_eq!(m.inode(d).expect("read").expect("d").replicas, 0, "only regular files");
}

#[test]
fn create_lookup_remove_and_link_counts() {
    let (m, _) = meta();
    let d = mk(&m, InodeId::ROOT, "d", NewKind::Directory, &root()).expect("mkdir");
    let f = mk(&m, d, "f", NewKind::Regular, &root()).expect("create");
    assert_eq!(m.lookup(d, b"f").expect("lookup"), Some(f));
    assert_eq!(m.lookup(d, b"..").expect("lookup"), Some(InodeId::ROOT));
    assert_eq!(m.inode(InodeId::ROOT).expect("read").expect("root").nlink, 3);
    assert_eq!(mk(&m, d, "f", NewKind::Regular, &root()), Err(FsError::Exists));
    // Hard link, then unlink one name: the other stays with nlink 1.
    m.apply(Command::Link {
        file: f,
        dir: InodeId::ROOT,
        name: b"g".to_vec(),
        cred: root(),
        now: T0,
    })
    .expect("link");
    assert_eq!(m.inode(f).expect("read").expect("f").nlink, 2);
    let rm = |dir, name: &str, directory| {
        m.apply(Command::Remove {
            parent: dir,
            name: name.as_bytes().to_vec(),
            directory,
            cred: root(),
            now: T0,
            keep: None,
        })
    };
    assert_eq!(rm(InodeId::ROOT, "d", true).map(|_| ()), Err(FsError::NotEmpty));
    let a = rm(d, "f", false).expect("remove");
    assert!(a.freed.is_empty());
    assert_eq!(m.inode(f).expect("read").expect("f").nlink, 1);
    let a = rm(InodeId::ROOT, "g", false).expect("remove");
    assert_eq!(a.freed, vec![f]);
    assert_eq!(m.inode(f).expect("read"), None);
    rm(InodeId::ROOT, "d", true).expect("rmdir");
    assert_eq!(m.inode(InodeId::ROOT).expect("read").expect("root").nlink, 2);
    assert!(names(&m, InodeId::ROOT).is_empty());
}

#[test]
fn rename_rules() {
    let (m, _) = meta();
    let a = mk(&m, InodeId::ROOT, "a", NewKind::Directory, &root()).expect("mkdir");
    let b = mk(&m, a, "b", NewKind::Directory, &root()).expect("mkdir");
    mk(&m, InodeId::ROOT, "x", NewKind::Regular, &root()).expect("create");
    let y = mk(&m, InodeId::ROOT, "y", NewKind::Regular, &root()).expect("create");
    let ren = |f, fname: &str, t, tname: &str| {
        m.apply(Command::Rename {
            from: f,
            from_name: fname.as_bytes().to_vec(),
            to: t,
            to_name: tname.as_bytes().to_vec(),
            cred: root(),
            now: T0,
            keep: None,
        })
    };
    // A directory cannot move below itself.
    assert!(matches!(ren(InodeId::ROOT, "a", b, "loop"), Err(FsError::Invalid(_))));
    // File over directory and directory over file are refused.
    assert_eq!(ren(InodeId::ROOT, "x", InodeId::ROOT, "a").map(|_| ()), Err(FsError::IsDir));
    assert_eq!(ren(a, "b", InodeId::ROOT, "x").map(|_| ()), Err(FsError::NotDir));
    // Rename over an existing file replaces it and frees the old one.
    let r = ren(InodeId::ROOT, "x", InodeId::ROOT, "y").expect("rename");
    assert_eq!(r.freed, vec![y]);
    assert_eq!(names(&m, InodeId::ROOT), ["a", "y"].iter().map(|s| s.to_string()).collect());
    // Moving a directory updates `..` and both parents' link counts.
    ren(a, "b", InodeId::ROOT, "b2").expect("rename dir");
    assert_eq!(m.lookup(b, b"..").expect("lookup"), Some(InodeId::ROOT));
    assert_eq!(m.inode(a).expect("read").expect("a").nlink, 2);
    assert_eq!(m.inode(InodeId::ROOT).expect("read").expect("root").nlink, 4);
}

#[test]
fn permissions_are_enforced_at_apply() {
    let (m, _) = meta();
    let d = mk(&m, InodeId::ROOT, "priv", NewKind::Directory, &root()).expect("mkdir");
    m.apply(Command::SetAttr {
        ino: d,
        set: SetAttr { mode: Some(0o755), ..Default::default() },
        guard_ctime: None,
        cred: root(),
        now: T0,
    })
    .expect("chmod");
    assert_eq!(mk(&m, d, "f", NewKind::Regular, &user(1000)), Err(FsError::AccessDenied));
    let t = mk(&m, InodeId::ROOT, "tmp", NewKind::Directory, &root()).expect("mkdir");
    m.apply(Command::SetAttr {
        ino: t,
        set: SetAttr { mode: Some(0o1777), ..Default::default() },
        guard_ctime: None,
        cred: root(),
        now: T0,
    })
    .expect("chmod");
    mk(&m, t, "mine", NewKind::Regular, &user(1000)).expect("create");
    let r = m.apply(Command::Remove {
        parent: t,
        name: b"mine".to_vec(),
        directory: false,
        cred: user(1001),
        now: T0,
        keep: None,
    });
    assert_eq!(r.map(|_| ()), Err(FsError::NotPermitted), "sticky directory");
}

/// READDIR cookies survive changes of the directory: entries present during
/// the whole listing are returned exactly once (RFC 1813 §3.3.16).
#[test]
fn cookies_are_stable_while_the_directory_changes() {
    let (m, _) = meta();
    for i in 0..300 {
        mk(&m, InodeId::ROOT, &format!("f{i:04}"), NewKind::Regular, &root()).expect("create");
    }
    let mut seen = Vec::new();
    let mut cookie = 0;
    let mut round = 0;
    loop {
        let (page, eof) = m.list(InodeId::ROOT, cookie, 25).expect("list");
        for e in &page {
            seen.push(String::from_utf8(e.name.clone()).expect("utf8"));
            cookie = e.cookie;
        }
        // Between pages: remove some not-yet-listed even entries, add new ones.
        round += 1;
        let victim = format!("f{:04}", 298 - round * 2);
        let _ = m.apply(Command::Remove {
            parent: InodeId::ROOT,
            name: victim.into_bytes(),
            directory: false,
            cred: root(),
            now: T0,
            keep: None,
        });
        mk(&m, InodeId::ROOT, &format!("new{round}"), NewKind::Regular, &root()).expect("create");
        if eof {
            break;
        }
    }
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no entry listed twice");
    for i in (1..300).step_by(2) {
        assert!(
            unique.contains(&format!("f{i:04}")),
            "odd entries were never removed: f{i:04} missing"
        );
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Create(u8, u8),
    Mkdir(u8, u8),
    Remove(u8, u8),
    Rmdir(u8, u8),
    Rename(u8, u8, u8, u8),
    Link(u8, u8, u8),
    Write(u8, u32),
    Inline(u8, u16, u8),
    /// Symlink (even) or FIFO (odd) in a directory.
    Special(u8, u8, u8),
    /// chmod / truncate of an inode.
    SetAttr(u8, u16, Option<u32>),
    SetXattr(u8, u8, u8),
    RemoveXattr(u8, u8),
    /// Remove while a client holds the file open (it becomes an orphan).
    RemoveHeld(u8, u8),
    Release(u8),
    MakeChunked(u8),
    /// Byte-range lock: file, owner, start, length, write.
    Lock(u8, u8, u8, u8, bool),
    /// Release: file, owner, start, length.
    Unlock(u8, u8, u8, u8),
    /// Release everything of: 0 an owner, 1 a client, 2 an incarnation,
    /// 3 a node's other incarnations.
    UnlockAll(u8, u8),
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..4, 0u8..6).prop_map(|(d, n)| Op::Create(d, n)),
        (0u8..4, 0u8..6).prop_map(|(d, n)| Op::Mkdir(d, n)),
        (0u8..4, 0u8..6).prop_map(|(d, n)| Op::Remove(d, n)),
        (0u8..4, 0u8..6).prop_map(|(d, n)| Op::Rmdir(d, n)),
        (0u8..4, 0u8..6, 0u8..4, 0u8..6).prop_map(|(a, b, c, d)| Op::Rename(a, b, c, d)),
        (0u8..4, 0u8..4, 0u8..6).prop_map(|(a, b, c)| Op::Link(a, b, c)),
        (0u8..8, 0u32..100_000).prop_map(|(f, e)| Op::Write(f, e)),
        (0u8..8, 0u16..4096, 0u8..200).prop_map(|(f, o, n)| Op::Inline(f, o, n)),
        (0u8..4, 0u8..6, any::<u8>()).prop_map(|(d, n, k)| Op::Special(d, n, k)),
        (0u8..8, 0u16..0o7777, proptest::option::of(0u32..10_000))
            .prop_map(|(f, m, s)| Op::SetAttr(f, m, s)),
        (0u8..8, 0u8..3, 0u8..40).prop_map(|(f, n, l)| Op::SetXattr(f, n, l)),
        (0u8..8, 0u8..3).prop_map(|(f, n)| Op::RemoveXattr(f, n)),
        (0u8..4, 0u8..6).prop_map(|(d, n)| Op::RemoveHeld(d, n)),
        (0u8..8).prop_map(Op::Release),
        (0u8..8).prop_map(Op::MakeChunked),
        (0u8..8, 0u8..16, 0u8..32, 1u8..16, any::<bool>())
            .prop_map(|(f, o, s, l, w)| Op::Lock(f, o, s, l, w)),
        (0u8..8, 0u8..16, 0u8..32, 1u8..16).prop_map(|(f, o, s, l)| Op::Unlock(f, o, s, l)),
        (0u8..4, 0u8..16).prop_map(|(k, o)| Op::UnlockAll(k, o)),
    ]
}

/// One of 16 lock owners: 2 nodes × 2 incarnations × 2 clients × 2 names.
pub(crate) fn lock_owner(i: u8) -> LockOwner {
    LockOwner {
        node: 1 + u64::from(i & 1),
        incarnation: 1 + u64::from((i >> 1) & 1),
        client: 1 + u64::from((i >> 2) & 1),
        owner: vec![b'o', (i >> 3) & 1],
    }
}

pub(crate) fn lock_holder(k: u8, i: u8) -> LockHolder {
    let o = lock_owner(i);
    match k % 4 {
        0 => LockHolder::Owner(o),
        1 => LockHolder::Client { node: o.node, incarnation: o.incarnation, client: o.client },
        2 => LockHolder::Incarnation { node: o.node, incarnation: o.incarnation },
        _ => LockHolder::OtherIncarnations { node: o.node, keep: o.incarnation },
    }
}

/// Turn abstract ops into commands against whatever inodes exist, so that
/// many ops apply and some fail; the same ops give the same commands.
pub(crate) fn command(m: &Meta, op: &Op, t: u64) -> Command {
    let dirs: Vec<InodeId> = {
        let mut v = vec![InodeId::ROOT];
        let (l, _) = m.list(InodeId::ROOT, 0, 1000).expect("list");
        for e in l {
            if m.inode(e.child).expect("read").is_some_and(|r| r.ftype == FileType::Directory) {
                v.push(e.child);
            }
        }
        v
    };
    let dir = |i: u8| dirs[i as usize % dirs.len()];
    let name = |n: u8| format!("n{n}").into_bytes();
    let now = Timestamp { seconds: 1_700_000_000 + t as i64, nanos: 0 };
    let cred = root();
    match *op {
        Op::Create(d, n) | Op::Mkdir(d, n) => Command::Create {
            parent: dir(d),
            name: name(n),
            kind: if matches!(op, Op::Mkdir(..)) { NewKind::Directory } else { NewKind::Regular },
            mode: CreateMode::Guarded,
            attrs: SetAttr::default(),
            cred,
            now,
            generation: Generation(t),
            chunk_size: CHUNK_SIZE_DEFAULT_BYTES,
            replicas: 0,
        },
        Op::Remove(d, n) | Op::Rmdir(d, n) => Command::Remove {
            parent: dir(d),
            name: name(n),
            directory: matches!(op, Op::Rmdir(..)),
            cred,
            now,
            keep: None,
        },
        Op::Rename(a, b, c, d) => Command::Rename {
            from: dir(a),
            from_name: name(b),
            to: dir(c),
            to_name: name(d),
            cred,
            now,
            keep: None,
        },
        Op::Link(a, b, n) => {
            let file = m.lookup(dir(a), &name(n)).expect("lookup").unwrap_or(InodeId(999));
            Command::Link { file, dir: dir(b), name: name(n.wrapping_add(1) % 6), cred, now }
        }
        Op::Write(f, end) => Command::AfterWrite {
            ino: InodeId(2 + f as u64),
            end: end as u64,
            writes: 1,
            cred,
            now,
        },
        Op::Inline(f, offset, n) => Command::WriteInline {
            ino: InodeId(2 + f as u64),
            offset: offset as u64,
            data: vec![n; n as usize],
            cred,
            now,
        },
        Op::Special(d, n, k) => Command::Create {
            parent: dir(d),
            name: name(n),
            kind: if k % 2 == 0 {
                NewKind::Symlink(format!("target-{k}").into_bytes())
            } else {
                NewKind::Special(SpecialKind::Fifo)
            },
            mode: CreateMode::Guarded,
            attrs: SetAttr::default(),
            cred,
            now,
            generation: Generation(t),
            chunk_size: CHUNK_SIZE_DEFAULT_BYTES,
            replicas: 0,
        },
        Op::SetAttr(f, mode, size) => Command::SetAttr {
            ino: InodeId(2 + f as u64),
            set: SetAttr {
                mode: Some(u32::from(mode)),
                size: size.map(u64::from),
                ..SetAttr::default()
            },
            guard_ctime: None,
            cred,
            now,
        },
        Op::SetXattr(f, n, len) => Command::SetXattr {
            ino: InodeId(2 + f as u64),
            name: format!("user.x{n}").into_bytes(),
            value: vec![len; len as usize],
            how: XattrSet::Either,
            cred,
            now,
        },
        Op::RemoveXattr(f, n) => Command::RemoveXattr {
            ino: InodeId(2 + f as u64),
            name: format!("user.x{n}").into_bytes(),
            cred,
            now,
        },
        Op::RemoveHeld(d, n) => Command::Remove {
            parent: dir(d),
            name: name(n),
            directory: false,
            cred,
            now,
            keep: m.lookup(dir(d), &name(n)).expect("lookup"),
        },
        Op::Release(f) => Command::ReleaseOrphan { ino: InodeId(2 + f as u64) },
        Op::MakeChunked(f) => Command::MakeChunked { ino: InodeId(2 + f as u64) },
        Op::Lock(f, o, start, len, write) => Command::Lock {
            ino: InodeId(2 + f as u64),
            lock: RangeLock {
                owner: lock_owner(o),
                start: u64::from(start),
                end: u64::from(start) + u64::from(len) - 1,
                kind: if write { LockKind::Write } else { LockKind::Read },
            },
        },
        Op::Unlock(f, o, start, len) => Command::Unlock {
            ino: InodeId(2 + f as u64),
            owner: lock_owner(o),
            start: u64::from(start),
            end: u64::from(start) + u64::from(len) - 1,
        },
        Op::UnlockAll(k, o) => Command::UnlockAll { holder: lock_holder(k, o) },
    }
}

pub(crate) fn dump(s: &MemStore) -> Vec<(Vec<u8>, Vec<u8>)> {
    s.scan(Bound::Unbounded, Bound::Unbounded, false, usize::MAX).expect("scan")
}

/// Walk the tree and check the counting invariants.
pub(crate) fn check_invariants(m: &Meta) {
    let mut stack = vec![InodeId::ROOT];
    while let Some(d) = stack.pop() {
        let rec = m.inode(d).expect("read").expect("dir exists");
        let (l, _) = m.list(d, 0, usize::MAX).expect("list");
        assert_eq!(rec.entries, l.len() as u64, "entry count of {d:?}");
        let mut subdirs = 0;
        for e in l {
            let c = m.inode(e.child).expect("read").expect("entry points to a live inode");
            assert_eq!(m.lookup(d, &e.name).expect("lookup"), Some(e.child), "both indexes agree");
            if c.ftype == FileType::Directory {
                subdirs += 1;
                assert_eq!(c.parent, d);
                stack.push(e.child);
            }
        }
        assert_eq!(rec.nlink, 2 + subdirs, "nlink of {d:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Identical command sequences give byte-identical stores, and the
    /// counting invariants hold after every command.
    #[test]
    fn apply_is_deterministic(ops in proptest::collection::vec(op(), 1..60)) {
        let (m1, s1) = meta();
        let (m2, s2) = meta();
        for (t, o) in ops.iter().enumerate() {
            let c = command(&m1, o, t as u64);
            let r1 = m1.apply(c.clone());
            let r2 = m2.apply(c);
            prop_assert_eq!(r1, r2);
            check_invariants(&m1);
        }
        prop_assert_eq!(dump(&s1), dump(&s2));
    }
}

/// RFC 7530 §9.9 / DESIGN.md: a file removed while a client holds it open
/// keeps its record (nlink 0, listed as an orphan, no name) until the last
/// holder releases it; rename over a held file does the same; an orphan
/// cannot be linked again; releasing something that is not an orphan is a
/// no-op.
#[test]
fn removed_while_held_lives_until_released() {
    let (m, _) = meta();
    let f = mk(&m, InodeId::ROOT, "f", NewKind::Regular, &root()).expect("create");
    let a = m
        .apply(Command::Remove {
            parent: InodeId::ROOT,
            name: b"f".to_vec(),
            directory: false,
            cred: root(),
            now: T0,
            keep: Some(f),
        })
        .expect("remove");
    assert!(a.freed.is_empty(), "a held file is not freed");
    assert_eq!(m.lookup(InodeId::ROOT, b"f").expect("lookup"), None);
    assert_eq!(m.inode(f).expect("read").expect("orphan").nlink, 0);
    assert_eq!(m.orphans(10).expect("orphans"), vec![f]);
    let relink = m.apply(Command::Link {
        file: f,
        dir: InodeId::ROOT,
        name: b"again".to_vec(),
        cred: root(),
        now: T0,
    });
    assert_eq!(relink.map(|_| ()), Err(FsError::Stale));
    let a = m.apply(Command::ReleaseOrphan { ino: f }).expect("release");
    assert_eq!(a.freed, vec![f]);
    assert_eq!(m.inode(f).expect("read"), None);
    assert!(m.orphans(10).expect("orphans").is_empty());
    let a = m.apply(Command::ReleaseOrphan { ino: f }).expect("release again");
    assert!(a.freed.is_empty());

    // rename over a held target
    let g = mk(&m, InodeId::ROOT, "g", NewKind::Regular, &root()).expect("create g");
    let h = mk(&m, InodeId::ROOT, "h", NewKind::Regular, &root()).expect("create h");
    let a = m
        .apply(Command::Rename {
            from: InodeId::ROOT,
            from_name: b"h".to_vec(),
            to: InodeId::ROOT,
            to_name: b"g".to_vec(),
            cred: root(),
            now: T0,
            keep: Some(g),
        })
        .expect("rename");
    assert!(a.freed.is_empty());
    assert_eq!(m.lookup(InodeId::ROOT, b"g").expect("lookup"), Some(h));
    assert_eq!(m.orphans(10).expect("orphans"), vec![g]);
    // a held file that still has a name is not an orphan
    let k = mk(&m, InodeId::ROOT, "k", NewKind::Regular, &root()).expect("create k");
    m.apply(Command::Link {
        file: k,
        dir: InodeId::ROOT,
        name: b"k2".to_vec(),
        cred: root(),
        now: T0,
    })
    .expect("link");
    let a = m
        .apply(Command::Remove {
            parent: InodeId::ROOT,
            name: b"k".to_vec(),
            directory: false,
            cred: root(),
            now: T0,
            keep: Some(k),
        })
        .expect("remove k");
    assert!(a.freed.is_empty());
    assert_eq!(m.orphans(10).expect("orphans"), vec![g]);
}

/// The cluster map is a compare-and-set scalar: a change names the version
/// it replaces, so two proposers racing cannot both win, and the outcome is
/// the same on every replica.
#[test]
fn cluster_map_changes_are_compare_and_set() {
    let (m, _) = meta();
    assert_eq!(m.cluster_map().expect("read"), None);
    let set = |expected, version, map: &[u8]| {
        m.apply(Command::SetClusterMap { expected, version, map: map.to_vec() })
    };
    assert!(set(0, 1, b"one").is_ok());
    assert_eq!(m.cluster_map().expect("read"), Some((1, b"one".to_vec())));
    assert!(set(0, 2, b"lost race").is_err(), "stale expected version");
    assert!(set(1, 1, b"same version").is_err(), "versions only grow");
    assert!(set(1, 2, b"two").is_ok());
    assert_eq!(m.cluster_map().expect("read"), Some((2, b"two".to_vec())));
}

// ------------------------------------------------------------ byte-range locks

fn mklock(m: &Meta, ino: InodeId, o: u8, start: u64, end: u64, kind: LockKind) -> Applied {
    let lock = RangeLock { owner: lock_owner(o), start, end, kind };
    m.apply(Command::Lock { ino, lock }).expect("lock command applies")
}

fn ranges(m: &Meta, ino: InodeId) -> Vec<(u8, u64, u64, LockKind)> {
    m.locks(ino)
        .expect("locks")
        .into_iter()
        .map(|l| {
            let o = (0..16).find(|i| lock_owner(*i) == l.owner).expect("a test owner");
            (o, l.start, l.end, l.kind)
        })
        .collect()
}

fn lock_file(m: &Meta, name: &str) -> InodeId {
    let n = name.as_bytes()[0];
    m.apply(command(m, &Op::Create(0, n), 0)).expect("create").object.expect("object").0
}

#[test]
fn locks_conflict_between_owners_and_a_denial_changes_nothing() {
    use LockKind::{Read, Write};
    let (m, s) = meta();
    let f = lock_file(&m, "f");
    assert_eq!(mklock(&m, f, 0, 0, 99, Write).lock_denied, None);
    let before = dump(&s);
    // another owner of the same client, node and incarnation conflicts
    let d = mklock(&m, f, 8, 50, 50, Read).lock_denied.expect("denied");
    assert_eq!((d.owner, d.start, d.end, d.kind), (lock_owner(0), 0, 99, Write));
    assert_eq!(mklock(&m, f, 1, 99, u64::MAX, Write).lock_denied.map(|d| d.start), Some(0));
    assert_eq!(dump(&s), before, "a denied lock writes nothing");
    // disjoint ranges and shared reads do not conflict
    assert_eq!(mklock(&m, f, 1, 100, u64::MAX, Read).lock_denied, None);
    assert_eq!(mklock(&m, f, 2, 200, 300, Read).lock_denied, None);
    assert!(mklock(&m, f, 2, 150, 150, Write).lock_denied.is_some());
    // another inode is independent; a missing one is stale
    let g = lock_file(&m, "g");
    assert_eq!(mklock(&m, g, 5, 0, u64::MAX, Write).lock_denied, None);
    let lock = RangeLock { owner: lock_owner(0), start: 0, end: 0, kind: Write };
    assert_eq!(m.apply(Command::Lock { ino: InodeId(999), lock }), Err(FsError::Stale));
    let lock = RangeLock { owner: lock_owner(0), start: 5, end: 4, kind: Write };
    assert_eq!(m.apply(Command::Lock { ino: f, lock }), Err(FsError::Invalid("lock range")));
}

#[test]
fn an_owner_splits_merges_and_changes_its_ranges_posix_style() {
    use LockKind::{Read, Write};
    let (m, _s) = meta();
    let f = lock_file(&m, "f");
    mklock(&m, f, 3, 0, 9, Write);
    mklock(&m, f, 3, 10, 19, Write);
    assert_eq!(ranges(&m, f), vec![(3, 0, 19, Write)], "adjacent ranges merge");
    mklock(&m, f, 3, 5, 7, Read);
    assert_eq!(ranges(&m, f), vec![(3, 0, 4, Write), (3, 5, 7, Read), (3, 8, 19, Write)]);
    let unlock = |start, end| {
        m.apply(Command::Unlock { ino: f, owner: lock_owner(3), start, end }).expect("unlock")
    };
    unlock(2, 12);
    assert_eq!(ranges(&m, f), vec![(3, 0, 1, Write), (3, 13, 19, Write)]);
    mklock(&m, f, 3, 2, u64::MAX, Write);
    assert_eq!(ranges(&m, f), vec![(3, 0, u64::MAX, Write)]);
    unlock(100, u64::MAX);
    assert_eq!(ranges(&m, f), vec![(3, 0, 99, Write)]);
    // another owner's unlock releases nothing of this one
    m.apply(Command::Unlock { ino: f, owner: lock_owner(4), start: 0, end: u64::MAX })
        .expect("unlock");
    assert_eq!(ranges(&m, f), vec![(3, 0, 99, Write)]);
}

#[test]
fn release_by_owner_client_incarnation_and_other_incarnations() {
    use LockKind::Write;
    let (m, _s) = meta();
    let f = lock_file(&m, "f");
    let g = lock_file(&m, "g");
    for o in 0..16u8 {
        mklock(&m, f, o, u64::from(o) * 10, u64::from(o) * 10 + 5, Write);
        mklock(&m, g, o, u64::from(o) * 10, u64::from(o) * 10 + 5, Write);
    }
    let owners = |m: &Meta| -> BTreeSet<u8> {
        ranges(m, f).iter().chain(ranges(m, g).iter()).map(|r| r.0).collect()
    };
    let all = |k, o| m.apply(Command::UnlockAll { holder: lock_holder(k, o) }).expect("unlock");
    all(0, 15); // owner 15 only
    assert!(!owners(&m).contains(&15) && owners(&m).len() == 15);
    all(1, 0); // node 1, incarnation 1, client 1: owners 0 and 8
    assert!(!owners(&m).contains(&0) && !owners(&m).contains(&8));
    all(2, 1); // node 2, incarnation 1: owners 1, 5, 9, 13
    assert_eq!(owners(&m), [2, 3, 4, 6, 7, 10, 11, 12, 14].into_iter().collect());
    all(3, 2); // node 1 but incarnation 2: drops node 1 incarnation 1 (4, 12)
    assert_eq!(owners(&m), [2, 3, 6, 7, 10, 11, 14].into_iter().collect());
    assert_eq!(ranges(&m, f), ranges(&m, g));
}

#[test]
fn locks_of_a_freed_inode_go_with_it_but_an_orphan_keeps_them() {
    let (m, s) = meta();
    let f = lock_file(&m, "f");
    let g = lock_file(&m, "g");
    mklock(&m, f, 0, 0, 9, LockKind::Write);
    mklock(&m, g, 0, 0, 9, LockKind::Write);
    let rm = |name: &str, keep| Command::Remove {
        parent: InodeId::ROOT,
        name: format!("n{}", name.as_bytes()[0]).into_bytes(),
        directory: false,
        cred: root(),
        now: T0,
        keep,
    };
    m.apply(rm("f", None)).expect("remove");
    assert!(m.locks(f).expect("locks").is_empty());
    m.apply(rm("g", Some(g))).expect("remove held");
    assert_eq!(m.locks(g).expect("locks").len(), 1, "an open orphan keeps its locks");
    m.apply(Command::ReleaseOrphan { ino: g }).expect("release");
    assert!(m.locks(g).expect("locks").is_empty());
    assert!(dump(&s).iter().all(|(k, _)| k[0] != b'l'), "no lock record left");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The lock table against a model that records who holds each byte:
    /// the same grants and denials, the same bytes held, and every owner's
    /// ranges disjoint and merged (no two adjacent ranges of one kind).
    #[test]
    fn locks_follow_a_byte_model(ops in proptest::collection::vec(
        prop_oneof![
            (0u8..2, 0u8..6, 0u8..32, 1u8..12, any::<bool>())
                .prop_map(|(f, o, s, l, w)| Op::Lock(f, o, s, l, w)),
            (0u8..2, 0u8..6, 0u8..32, 1u8..12).prop_map(|(f, o, s, l)| Op::Unlock(f, o, s, l)),
            (0u8..4, 0u8..6).prop_map(|(k, o)| Op::UnlockAll(k, o)),
        ],
        1..80,
    )) {
        let (m, _s) = meta();
        let files = [lock_file(&m, "a"), lock_file(&m, "b")];
        // model[file][byte] = owner → write
        let mut model = vec![vec![std::collections::BTreeMap::<u8, bool>::new(); 48]; 2];
        for op in &ops {
            let c = command(&m, op, 0);
            let c = match c {
                Command::Lock { lock, .. } => Command::Lock { ino: files[op_file(op)], lock },
                Command::Unlock { owner, start, end, .. } => {
                    Command::Unlock { ino: files[op_file(op)], owner, start, end }
                }
                other => other,
            };
            let applied = m.apply(c).expect("lock commands apply");
            match *op {
                Op::Lock(f, o, s, l, w) => {
                    let bytes = usize::from(s)..usize::from(s) + usize::from(l);
                    let f = usize::from(f);
                    let blocked = bytes.clone().any(|b| {
                        model[f][b].iter().any(|(other, ow)| *other != o && (w || *ow))
                    });
                    prop_assert_eq!(applied.lock_denied.is_some(), blocked);
                    if !blocked {
                        for byte in &mut model[f][bytes] {
                            byte.insert(o, w);
                        }
                    }
                }
                Op::Unlock(f, o, s, l) => {
                    let bytes = usize::from(s)..usize::from(s) + usize::from(l);
                    for byte in &mut model[usize::from(f)][bytes] {
                        byte.remove(&o);
                    }
                }
                Op::UnlockAll(k, o) => {
                    let holder = lock_holder(k, o);
                    for file in model.iter_mut() {
                        for byte in file.iter_mut() {
                            byte.retain(|x, _| !holder_holds(&holder, *x));
                        }
                    }
                }
                _ => unreachable!(),
            }
        }
        for (fi, f) in files.iter().enumerate() {
            let mut got = vec![std::collections::BTreeMap::<u8, bool>::new(); 48];
            let mut per_owner: std::collections::BTreeMap<u8, Vec<(u64, u64, LockKind)>> =
                Default::default();
            for (o, start, end, kind) in ranges(&m, *f) {
                prop_assert!(end < 48);
                for b in start..=end {
                    got[b as usize].insert(o, kind == LockKind::Write);
                }
                per_owner.entry(o).or_default().push((start, end, kind));
            }
            prop_assert_eq!(&got, &model[fi]);
            for rs in per_owner.values() {
                for w in rs.windows(2) {
                    prop_assert!(w[0].1 < w[1].0, "sorted and disjoint");
                    prop_assert!(w[0].1 + 1 < w[1].0 || w[0].2 != w[1].2, "merged");
                }
            }
        }
    }
}

fn op_file(op: &Op) -> usize {
    match op {
        Op::Lock(f, ..) | Op::Unlock(f, ..) => usize::from(*f),
        _ => 0,
    }
}

fn holder_holds(h: &LockHolder, i: u8) -> bool {
    let o = lock_owner(i);
    match h {
        LockHolder::Owner(x) => *x == o,
        LockHolder::Client { node, incarnation, client } => {
            (o.node, o.incarnation, o.client) == (*node, *incarnation, *client)
        }
        LockHolder::Incarnation { node, incarnation } => {
            (o.node, o.incarnation) == (*node, *incarnation)
        }
        LockHolder::OtherIncarnations { node, keep } => o.node == *node && o.incarnation != *keep,
    }
}
