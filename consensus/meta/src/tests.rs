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
    ]
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
