//! Every NFSv3 procedure over real TCP against the `cairn` binary, with the
//! error cases RFC 1813 defines and the export rules (squash, ro, client
//! allowlist, secure ports).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use nfs_proto::mount::{MntRes, MountStat3};
use nfs_proto::nfs3::*;

fn status<T, F>(r: &NfsRes<T, F>) -> Nfsstat3 {
    r.status()
}

/// A 0777 scratch directory under the root of "/".
fn scratch(c: &mut Client, root: &NfsFh3, name: &str) -> NfsFh3 {
    let d = c.mkdir_ok(root, name.as_bytes(), 0o777);
    // The mode is applied as given (no umask on the server).
    assert_eq!(c.attr(&d).mode & 0o7777, 0o777);
    d
}

#[test]
fn null_fsstat_fsinfo_pathconf() {
    let s = Server::start();
    let mut c = s.client();
    c.null().expect("NULL");
    let root = c.mount("/");
    let a = c.attr(&root);
    assert_eq!(a.ftype, Ftype3::Dir);
    match c.fsstat(&root) {
        NfsRes::Ok(r) => {
            assert!(r.tbytes > 0 && r.fbytes <= r.tbytes && r.abytes <= r.fbytes, "{r:?}")
        }
        NfsRes::Err(s, _) => panic!("FSSTAT {s:?}"),
    }
    match c.fsinfo(&root) {
        NfsRes::Ok(r) => {
            assert_eq!((r.rtmax, r.wtmax), (1 << 20, 1 << 20));
            assert!(r.rtpref <= r.rtmax && r.wtpref <= r.wtmax && r.dtpref > 0);
            assert!(r.obj_attributes.0.is_some());
        }
        NfsRes::Err(s, _) => panic!("FSINFO {s:?}"),
    }
    match c.pathconf(&root) {
        NfsRes::Ok(r) => {
            assert_eq!(r.name_max, 255);
            assert!(r.no_trunc);
        }
        NfsRes::Err(s, _) => panic!("PATHCONF {s:?}"),
    }
}

#[test]
fn getattr_setattr_and_guard() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let f = c.create_file(&root, b"f", 0o644);
    let a = c.attr(&f);
    assert_eq!((a.ftype, a.mode, a.size, a.uid, a.nlink), (Ftype3::Reg, 0o644, 0, 0, 1));

    let r =
        c.setattr(&f, Sattr3 { mode: Some(0o600), size: Some(1000), ..Default::default() }, None);
    assert_eq!(status(&r), Nfsstat3::Ok);
    let b = c.attr(&f);
    assert_eq!((b.mode, b.size), (0o600, 1000));

    // Guard with a ctime that is not the object's: NOT_SYNC, nothing changed.
    let wrong = Nfstime3 { seconds: b.ctime.seconds.wrapping_sub(1000), nseconds: 7 };
    let r = c.setattr(&f, mode(0o640), Some(wrong));
    assert_eq!(status(&r), Nfsstat3::NotSync);
    assert_eq!(c.attr(&f).mode, 0o600);
    // Guard with the right ctime: applied.
    let r = c.setattr(&f, mode(0o640), Some(b.ctime));
    assert_eq!(status(&r), Nfsstat3::Ok);
    assert_eq!(c.attr(&f).mode, 0o640);

    // Times set to client time.
    let t = Nfstime3 { seconds: 1_000_000_000, nseconds: 5 };
    let r = c.setattr(
        &f,
        Sattr3 {
            atime: SetTime::ClientTime(t),
            mtime: SetTime::ClientTime(t),
            ..Default::default()
        },
        None,
    );
    assert_eq!(status(&r), Nfsstat3::Ok);
    let a = c.attr(&f);
    assert_eq!((a.atime, a.mtime), (t, t));
}

#[test]
fn lookup_dot_dotdot_and_missing() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let root_id = c.attr(&root).fileid;
    let d = c.mkdir_ok(&root, b"d", 0o755);
    let d_id = c.attr(&d).fileid;
    let (_, a) = c.lookup_ok(&d, b".");
    assert_eq!(a.fileid, d_id);
    let (up, a) = c.lookup_ok(&d, b"..");
    assert_eq!(a.fileid, root_id);
    assert_eq!(c.attr(&up).fileid, root_id);
    let r = c.lookup(&d, b"missing");
    assert_eq!(status(&r), Nfsstat3::Noent);
    if let NfsRes::Err(_, fail) = &r {
        assert!(fail.dir_attributes.0.is_some(), "post-op dir attributes on NOENT");
    }
    let f = c.create_file(&d, b"file", 0o644);
    assert_eq!(status(&c.lookup(&f, b"x")), Nfsstat3::Notdir);
    let (g, a) = c.lookup_ok(&d, b"file");
    assert_eq!(a.fileid, c.attr(&f).fileid);
    assert_eq!(g, f, "the same object gets the same handle");
}

/// LOOKUP ".." at the root of an export must not leave the export (knfsd
/// answers with the export root itself): otherwise a client allowed only a
/// subtree reaches the whole namespace.
#[test]
fn lookup_dotdot_at_export_root_stays_in_export() {
    let s = Server::start();
    let mut c = s.client();
    let sub = c.mount("/ro");
    let sub_id = c.attr(&sub).fileid;
    let (up, a) = c.lookup_ok(&sub, b"..");
    assert_eq!(a.fileid, sub_id, "LOOKUP .. from the root of /ro left the export");
    assert_eq!(c.attr(&up).fileid, sub_id);
    // READDIR and READDIRPLUS show ".." of the export root as the root itself.
    let names = c.list(&sub, 4096);
    let dotdot = names.iter().find(|(n, _)| n == b"..").expect("..");
    assert_eq!(dotdot.1, sub_id);
    match c.readdirplus(&sub, 0, [0; 8], 4096, 65536) {
        NfsRes::Ok(r) => {
            let e = r.entries.iter().find(|e| e.name == b"..").expect("..");
            assert_eq!(e.fileid, sub_id);
            let h = e.name_handle.0.clone().expect("handle");
            assert_eq!(c.attr(&h).fileid, sub_id);
        }
        NfsRes::Err(s, _) => panic!("READDIRPLUS {s:?}"),
    }
}

#[test]
fn access_owner_and_other() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let d = scratch(&mut c, &root, "acc");
    c.auth(1000, 1000, &[]);
    let f = c.create_file(&d, b"private", 0o600);
    assert_eq!(c.attr(&f).uid, 1000);
    let all = ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_EXECUTE;
    match c.access(&f, all) {
        NfsRes::Ok(r) => {
            assert_eq!(r.access & (ACCESS3_READ | ACCESS3_MODIFY), ACCESS3_READ | ACCESS3_MODIFY)
        }
        NfsRes::Err(s, _) => panic!("ACCESS {s:?}"),
    }
    c.auth(1001, 1001, &[]);
    match c.access(&f, all) {
        NfsRes::Ok(r) => {
            assert_eq!(r.access & ACCESS3_READ, 0, "uid 1001 may not read a 0600 file of 1000");
            assert_eq!(r.access & ACCESS3_MODIFY, 0);
            assert!(r.obj_attributes.0.is_some());
        }
        NfsRes::Err(s, _) => panic!("ACCESS {s:?}"),
    }
    // And the server enforces it.
    assert_eq!(status(&c.read(&f, 0, 10)), Nfsstat3::Acces);
    assert_eq!(status(&c.write(&f, 0, b"x", StableHow::FileSync)), Nfsstat3::Acces);
}

#[test]
fn symlink_and_readlink() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let l = created(c.symlink(&root, b"link", b"some/where/else"), b"link");
    let a = c.attr(&l);
    assert_eq!((a.ftype, a.size), (Ftype3::Lnk, 15));
    match c.readlink(&l) {
        NfsRes::Ok(r) => assert_eq!(r.data, b"some/where/else"),
        NfsRes::Err(s, _) => panic!("READLINK {s:?}"),
    }
    let f = c.create_file(&root, b"plain", 0o644);
    assert_eq!(status(&c.readlink(&f)), Nfsstat3::Inval);
    assert_eq!(status(&c.symlink(&root, b"link", b"x")), Nfsstat3::Exist);
}

#[test]
fn read_eof_flags() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let f = c.create_file(&root, b"ten", 0o644);
    c.write_ok(&f, 0, b"0123456789");
    let r = |c: &mut Client, off, n| match c.read(&f, off, n) {
        NfsRes::Ok(r) => {
            assert_eq!(r.count as usize, r.data.len());
            (r.data, r.eof)
        }
        NfsRes::Err(s, _) => panic!("READ {s:?}"),
    };
    assert_eq!(r(&mut c, 0, 5), (b"01234".to_vec(), false));
    assert_eq!(r(&mut c, 5, 5), (b"56789".to_vec(), true));
    assert_eq!(r(&mut c, 3, 100), (b"3456789".to_vec(), true));
    assert_eq!(r(&mut c, 10, 10), (Vec::new(), true));
    assert_eq!(r(&mut c, 1000, 10), (Vec::new(), true));
    let d = c.mkdir_ok(&root, b"dir", 0o755);
    assert_eq!(status(&c.read(&d, 0, 10)), Nfsstat3::Isdir);
}

#[test]
fn write_unstable_commit_and_file_sync() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let f = c.create_file(&root, b"w", 0o644);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let verf = match c.write(&f, 0, &data, StableHow::Unstable) {
        NfsRes::Ok(r) => {
            assert_eq!(r.count as usize, data.len());
            assert!(r.file_wcc.after.0.is_some());
            r.verf
        }
        NfsRes::Err(s, _) => panic!("WRITE {s:?}"),
    };
    match c.write(&f, data.len() as u64, b"tail", StableHow::Unstable) {
        NfsRes::Ok(r) => assert_eq!(r.verf, verf, "verifier is stable while the server runs"),
        NfsRes::Err(s, _) => panic!("WRITE {s:?}"),
    }
    match c.commit(&f, 0, 0) {
        NfsRes::Ok(r) => assert_eq!(r.verf, verf, "COMMIT verifier equals the WRITE verifier"),
        NfsRes::Err(s, _) => panic!("COMMIT {s:?}"),
    }
    match c.write(&f, 10, b"SYNC", StableHow::FileSync) {
        NfsRes::Ok(r) => {
            assert_eq!(r.committed, StableHow::FileSync);
            assert_eq!(r.verf, verf);
        }
        NfsRes::Err(s, _) => panic!("WRITE {s:?}"),
    }
    let mut want = data.clone();
    want.extend_from_slice(b"tail");
    want[10..14].copy_from_slice(b"SYNC");
    assert_eq!(c.read_all(&f), want);
    assert_eq!(c.attr(&f).size, want.len() as u64);
    // A restart changes the verifier (unstable data may have been lost).
    let mut s = s;
    s.restart();
    let mut c = s.client();
    match c.commit(&f, 0, 0) {
        NfsRes::Ok(r) => assert_ne!(r.verf, verf, "verifier must change across restarts"),
        NfsRes::Err(s, _) => panic!("COMMIT {s:?}"),
    }
    assert_eq!(c.read_all(&f), want);
    // WRITE with count larger than the data: INVAL (RFC 1813 §3.3.7).
    let mut args = write_args(&f, 0, b"abc", StableHow::FileSync);
    args.count = 10;
    let r: WriteRes = c.nfs(Proc3::Write, &args);
    assert_eq!(status(&r), Nfsstat3::Inval);
}

#[test]
fn create_unchecked_guarded_exclusive() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let un = CreateHow3::Unchecked(mode(0o644));
    let a = created(c.create(&root, b"u", un.clone()), b"u");
    c.write_ok(&a, 0, b"data");
    let b = created(c.create(&root, b"u", un), b"u");
    assert_eq!(c.attr(&a).fileid, c.attr(&b).fileid, "UNCHECKED over an existing file");

    let g = CreateHow3::Guarded(mode(0o644));
    created(c.create(&root, b"g", g.clone()), b"g");
    assert_eq!(status(&c.create(&root, b"g", g)), Nfsstat3::Exist);

    let v1 = *b"verf0001";
    let e1 = created(c.create(&root, b"x", CreateHow3::Exclusive(v1)), b"x");
    let id = c.attr(&e1).fileid;
    // A retransmission (same verifier) succeeds with the same file...
    let e2 = created(c.create(&root, b"x", CreateHow3::Exclusive(v1)), b"x");
    assert_eq!(c.attr(&e2).fileid, id);
    // ...another verifier is another creator: EXIST.
    assert_eq!(
        status(&c.create(&root, b"x", CreateHow3::Exclusive(*b"verf0002"))),
        Nfsstat3::Exist
    );
    // Exclusive over a file made by GUARDED: EXIST.
    assert_eq!(status(&c.create(&root, b"g", CreateHow3::Exclusive(v1))), Nfsstat3::Exist);
    // The client then sets the real attributes with SETATTR.
    assert_eq!(status(&c.setattr(&e1, mode(0o640), None)), Nfsstat3::Ok);
    assert_eq!(c.attr(&e1).mode, 0o640);
}

#[test]
fn mkdir_and_mknod_kinds() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let d = c.mkdir_ok(&root, b"dir", 0o750);
    let a = c.attr(&d);
    assert_eq!((a.ftype, a.mode), (Ftype3::Dir, 0o750));
    assert_eq!(status(&c.mkdir(&root, b"dir", mode(0o755))), Nfsstat3::Exist);

    let fifo = created(c.mknod(&d, b"fifo", MknodData3::Fifo(mode(0o644))), b"fifo");
    assert_eq!(c.attr(&fifo).ftype, Ftype3::Fifo);
    let sock = created(c.mknod(&d, b"sock", MknodData3::Sock(mode(0o644))), b"sock");
    assert_eq!(c.attr(&sock).ftype, Ftype3::Sock);
    let dev =
        DeviceData3 { dev_attributes: mode(0o644), spec: Specdata3 { specdata1: 1, specdata2: 3 } };
    assert_eq!(status(&c.mknod(&d, b"chr", MknodData3::Chr(dev.clone()))), Nfsstat3::Perm);
    assert_eq!(status(&c.mknod(&d, b"blk", MknodData3::Blk(dev))), Nfsstat3::Perm);
    assert_eq!(status(&c.mknod(&d, b"reg", MknodData3::Other(Ftype3::Reg))), Nfsstat3::Badtype);
    assert_eq!(status(&c.mknod(&d, b"dir2", MknodData3::Other(Ftype3::Dir))), Nfsstat3::Badtype);
    assert_eq!(status(&c.lookup(&d, b"chr")), Nfsstat3::Noent);
    assert_eq!(status(&c.lookup(&d, b"reg")), Nfsstat3::Noent);
    // READ and WRITE of a FIFO are refused, not served from nowhere.
    assert_ne!(status(&c.read(&fifo, 0, 10)), Nfsstat3::Ok);
}

#[test]
fn remove_and_rmdir() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let d = c.mkdir_ok(&root, b"d", 0o755);
    let f = c.create_file(&d, b"f", 0o644);
    assert_eq!(status(&c.rmdir(&root, b"d")), Nfsstat3::Notempty);
    assert_eq!(status(&c.remove(&root, b"d")), Nfsstat3::Isdir);
    assert_eq!(status(&c.rmdir(&d, b"f")), Nfsstat3::Notdir);
    match c.remove(&d, b"f") {
        NfsRes::Ok(r) => assert!(r.dir_wcc.after.0.is_some()),
        NfsRes::Err(s, _) => panic!("REMOVE {s:?}"),
    }
    assert_eq!(status(&c.lookup(&d, b"f")), Nfsstat3::Noent);
    assert_eq!(status(&c.getattr(&f)), Nfsstat3::Stale);
    assert_eq!(status(&c.remove(&d, b"f")), Nfsstat3::Noent);
    assert_eq!(status(&c.rmdir(&root, b"d")), Nfsstat3::Ok);
    assert_eq!(status(&c.lookup(&root, b"d")), Nfsstat3::Noent);
    assert_eq!(status(&c.rmdir(&root, b".")), Nfsstat3::Inval);
}

#[test]
fn rename_cases() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    // Over an existing file: the target is replaced by the source.
    let a = c.create_file(&root, b"a", 0o644);
    c.write_ok(&a, 0, b"AAAA");
    let b = c.create_file(&root, b"b", 0o644);
    let a_id = c.attr(&a).fileid;
    assert_eq!(status(&c.rename(&root, b"a", &root, b"b")), Nfsstat3::Ok);
    assert_eq!(status(&c.lookup(&root, b"a")), Nfsstat3::Noent);
    let (nb, attr) = c.lookup_ok(&root, b"b");
    assert_eq!(attr.fileid, a_id);
    assert_eq!(c.read_all(&nb), b"AAAA");
    assert_eq!(status(&c.getattr(&b)), Nfsstat3::Stale, "the replaced file is gone");

    // Directory over an empty directory.
    let d1 = c.mkdir_ok(&root, b"d1", 0o755);
    c.create_file(&d1, b"inside", 0o644);
    c.mkdir_ok(&root, b"d2", 0o755);
    assert_eq!(status(&c.rename(&root, b"d1", &root, b"d2")), Nfsstat3::Ok);
    let (d2, _) = c.lookup_ok(&root, b"d2");
    c.lookup_ok(&d2, b"inside");
    let (_, dd) = c.lookup_ok(&d2, b"..");
    assert_eq!(dd.fileid, c.attr(&root).fileid);

    // Directory over a non-empty directory, file over directory, dir over file.
    let d3 = c.mkdir_ok(&root, b"d3", 0o755);
    c.create_file(&d3, b"x", 0o644);
    c.mkdir_ok(&root, b"d4", 0o755);
    assert!(matches!(
        status(&c.rename(&root, b"d4", &root, b"d3")),
        Nfsstat3::Notempty | Nfsstat3::Exist
    ));
    assert_eq!(status(&c.rename(&root, b"b", &root, b"d4")), Nfsstat3::Isdir);
    assert_eq!(status(&c.rename(&root, b"d4", &root, b"b")), Nfsstat3::Notdir);

    // A directory into its own subdirectory.
    let sub = c.mkdir_ok(&d2, b"sub", 0o755);
    assert_eq!(status(&c.rename(&root, b"d2", &sub, b"loop")), Nfsstat3::Inval);
    assert_eq!(status(&c.rename(&root, b"d2", &d2, b"self")), Nfsstat3::Inval);
    c.lookup_ok(&root, b"d2");

    // Across directories, and a missing source.
    assert_eq!(status(&c.rename(&root, b"b", &sub, b"moved")), Nfsstat3::Ok);
    c.lookup_ok(&sub, b"moved");
    assert_eq!(status(&c.rename(&root, b"nothere", &root, b"z")), Nfsstat3::Noent);
    // Renaming a file onto itself changes nothing.
    assert_eq!(status(&c.rename(&sub, b"moved", &sub, b"moved")), Nfsstat3::Ok);
    c.lookup_ok(&sub, b"moved");
}

#[test]
fn link_counts() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let f = c.create_file(&root, b"orig", 0o644);
    c.write_ok(&f, 0, b"shared");
    let d = c.mkdir_ok(&root, b"d", 0o755);
    match c.link(&f, &d, b"alias") {
        NfsRes::Ok(r) => assert_eq!(r.file_attributes.0.expect("attrs").nlink, 2),
        NfsRes::Err(s, _) => panic!("LINK {s:?}"),
    }
    let (h, a) = c.lookup_ok(&d, b"alias");
    assert_eq!((a.fileid, a.nlink), (c.attr(&f).fileid, 2));
    assert_eq!(c.read_all(&h), b"shared");
    assert_eq!(status(&c.link(&f, &d, b"alias")), Nfsstat3::Exist);
    assert!(matches!(
        status(&c.link(&d, &root, b"dirlink")),
        Nfsstat3::Isdir | Nfsstat3::Perm | Nfsstat3::Inval
    ));
    assert_eq!(status(&c.remove(&root, b"orig")), Nfsstat3::Ok);
    assert_eq!(c.attr(&h).nlink, 1);
    assert_eq!(c.read_all(&h), b"shared");
}

fn create_many(c: &mut Client, dir: &NfsFh3, names: &[String]) {
    let calls: Vec<_> = names
        .iter()
        .map(|n| {
            let args = CreateArgs {
                where_: dirop(dir, n.as_bytes()),
                how: CreateHow3::Guarded(mode(0o644)),
            };
            (PROGRAM, VERSION, Proc3::Create as u32, nfs_proto::xdr::to_bytes(&args))
        })
        .collect();
    for r in c.pipeline(&calls, 64) {
        let res: CreateRes = results(&r);
        assert_eq!(res.status(), Nfsstat3::Ok);
    }
}

fn remove_many(c: &mut Client, dir: &NfsFh3, names: &[String]) {
    let calls: Vec<_> = names
        .iter()
        .map(|n| {
            let args = RemoveArgs { object: dirop(dir, n.as_bytes()) };
            (PROGRAM, VERSION, Proc3::Remove as u32, nfs_proto::xdr::to_bytes(&args))
        })
        .collect();
    for r in c.pipeline(&calls, 64) {
        let res: RemoveRes = results(&r);
        assert_eq!(res.status(), Nfsstat3::Ok);
    }
}

/// A listed entry: (name, fileid, cookie).
type Listed = (Vec<u8>, u64, u64);

/// One page of READDIR or READDIRPLUS: entries, eof, verifier.
fn page(
    c: &mut Client,
    dir: &NfsFh3,
    plus: bool,
    cookie: u64,
    verf: Cookieverf3,
) -> (Vec<Listed>, bool, Cookieverf3) {
    if plus {
        match c.readdirplus(dir, cookie, verf, 600, 3000) {
            NfsRes::Ok(r) => {
                let mut out = Vec::new();
                for e in r.entries {
                    let a = e.name_attributes.0.expect("READDIRPLUS attributes");
                    assert_eq!(a.fileid, e.fileid);
                    assert!(e.name_handle.0.is_some(), "READDIRPLUS handle");
                    out.push((e.name, e.fileid, e.cookie));
                }
                (out, r.eof, r.cookieverf)
            }
            NfsRes::Err(s, _) => panic!("READDIRPLUS {s:?}"),
        }
    } else {
        match c.readdir(dir, cookie, verf, 1024) {
            NfsRes::Ok(r) => (
                r.entries.into_iter().map(|e| (e.name, e.fileid, e.cookie)).collect(),
                r.eof,
                r.cookieverf,
            ),
            NfsRes::Err(s, _) => panic!("READDIR {s:?}"),
        }
    }
}

fn paging(plus: bool) {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let dir = c.mkdir_ok(&root, b"big", 0o755);
    let names: Vec<String> =
        (0..3000).map(|i| format!("entry-{i:05}-{}", "x".repeat(i % 17))).collect();
    create_many(&mut c, &dir, &names);

    // A quiet listing: every name exactly once, plus "." and "..".
    let (mut cookie, mut verf) = (0, [0u8; 8]);
    let mut seen: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    let mut pages = 0;
    loop {
        let (entries, eof, v) = page(&mut c, &dir, plus, cookie, verf);
        pages += 1;
        for (n, _, _) in &entries {
            *seen.entry(n.clone()).or_default() += 1;
        }
        if eof {
            break;
        }
        assert!(!entries.is_empty(), "a page without entries and without eof");
        cookie = entries.last().expect("entry").2;
        verf = v;
        assert!(pages < 10_000, "listing does not end");
    }
    assert!(pages > 20, "small count must page ({pages} pages)");
    assert_eq!(seen.get(&b"."[..]), Some(&1));
    assert_eq!(seen.get(&b".."[..]), Some(&1));
    for n in &names {
        assert_eq!(
            seen.get(n.as_bytes()),
            Some(&1),
            "{n} listed {:?} times",
            seen.get(n.as_bytes())
        );
    }
    assert_eq!(seen.len(), names.len() + 2, "no names beyond the ones created");

    // A listing with changes between pages: entries present throughout
    // appear exactly once; nothing appears twice.
    let (mut cookie, mut verf) = (0, [0u8; 8]);
    let mut seen: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    let mut touched: BTreeSet<String> = BTreeSet::new();
    let mut round = 0;
    let mut next_new = 0;
    loop {
        let (entries, eof, v) = page(&mut c, &dir, plus, cookie, verf);
        for (n, _, _) in &entries {
            *seen.entry(n.clone()).or_default() += 1;
        }
        if eof {
            break;
        }
        cookie = entries.last().expect("entry").2;
        verf = v;
        round += 1;
        if round % 3 == 0 {
            // Remove two names (one probably seen, one probably not) and add two.
            let gone: Vec<String> = [(round * 37) % 3000, (round * 101 + 1500) % 3000]
                .iter()
                .map(|&i| names[i].clone())
                .filter(|n| !touched.contains(n))
                .collect();
            for n in &gone {
                touched.insert(n.clone());
            }
            remove_many(&mut c, &dir, &gone);
            let added: Vec<String> = (0..2)
                .map(|_| {
                    next_new += 1;
                    format!("new-{next_new}")
                })
                .collect();
            create_many(&mut c, &dir, &added);
        }
    }
    for (n, k) in &seen {
        assert_eq!(*k, 1, "{:?} listed {k} times", String::from_utf8_lossy(n));
    }
    for n in names.iter().filter(|n| !touched.contains(*n)) {
        assert!(seen.contains_key(n.as_bytes()), "{n} (untouched) missing from the listing");
    }
    assert!(!touched.is_empty());
}

#[test]
fn readdir_paging_3000_entries() {
    paging(false);
}

#[test]
fn readdirplus_paging_3000_entries() {
    paging(true);
}

#[test]
fn readdir_too_small_and_bad_cookie() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let d = c.mkdir_ok(&root, b"d", 0o755);
    c.create_file(&d, b"f", 0o644);
    // count too small for even one entry.
    assert_eq!(status(&c.readdir(&d, 0, [0; 8], 10)), Nfsstat3::Toosmall);
    let f = c.create_file(&root, b"plain", 0o644);
    assert_eq!(status(&c.readdir(&f, 0, [0; 8], 4096)), Nfsstat3::Notdir);
    assert_eq!(c.list(&d, 4096).len(), 3);
}

#[test]
fn name_rules() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let long = vec![b'n'; 256];
    assert_eq!(
        status(&c.create(&root, &long, CreateHow3::Guarded(mode(0o644)))),
        Nfsstat3::Nametoolong
    );
    assert_eq!(status(&c.mkdir(&root, &long, mode(0o755))), Nfsstat3::Nametoolong);
    assert_eq!(status(&c.lookup(&root, &long)), Nfsstat3::Nametoolong);
    let ok = vec![b'n'; 255];
    c.create_file(&root, &ok, 0o644);
    c.lookup_ok(&root, &ok);

    for bad in [&b"a/b"[..], b"/", b"x\0y", b""] {
        let st = status(&c.create(&root, bad, CreateHow3::Guarded(mode(0o644))));
        assert!(
            matches!(st, Nfsstat3::Inval | Nfsstat3::Acces | Nfsstat3::Perm | Nfsstat3::Noent),
            "CREATE {bad:?}: {st:?}"
        );
        assert_ne!(status(&c.lookup(&root, bad)), Nfsstat3::Ok, "LOOKUP {bad:?}");
    }
    for dot in [&b"."[..], b".."] {
        let st = status(&c.create(&root, dot, CreateHow3::Guarded(mode(0o644))));
        assert!(matches!(st, Nfsstat3::Exist | Nfsstat3::Inval), "CREATE {dot:?}: {st:?}");
        let st = status(&c.create(&root, dot, CreateHow3::Unchecked(mode(0o644))));
        assert!(
            matches!(st, Nfsstat3::Exist | Nfsstat3::Inval | Nfsstat3::Isdir),
            "CREATE unchecked {dot:?}: {st:?}"
        );
        let st = status(&c.mkdir(&root, dot, mode(0o755)));
        assert!(matches!(st, Nfsstat3::Exist | Nfsstat3::Inval), "MKDIR {dot:?}: {st:?}");
        let st = status(&c.symlink(&root, dot, b"t"));
        assert!(matches!(st, Nfsstat3::Exist | Nfsstat3::Inval), "SYMLINK {dot:?}: {st:?}");
    }
}

#[test]
fn read_only_export() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let (rodir, _) = c.lookup_ok(&root, b"ro");
    let f = c.create_file(&rodir, b"file", 0o666);
    c.write_ok(&f, 0, b"hello");

    let ro = c.mount("/ro");
    let (rf, _) = c.lookup_ok(&ro, b"file");
    assert_eq!(c.read_all(&rf), b"hello");
    assert_eq!(status(&c.write(&rf, 0, b"x", StableHow::FileSync)), Nfsstat3::Rofs);
    assert_eq!(status(&c.create(&ro, b"new", CreateHow3::Guarded(mode(0o644)))), Nfsstat3::Rofs);
    assert_eq!(status(&c.mkdir(&ro, b"newd", mode(0o755))), Nfsstat3::Rofs);
    assert_eq!(status(&c.setattr(&rf, mode(0o600), None)), Nfsstat3::Rofs);
    assert_eq!(status(&c.remove(&ro, b"file")), Nfsstat3::Rofs);
    assert_eq!(status(&c.rename(&ro, b"file", &ro, b"other")), Nfsstat3::Rofs);
    assert_eq!(status(&c.symlink(&ro, b"l", b"t")), Nfsstat3::Rofs);
    assert_eq!(status(&c.link(&rf, &ro, b"l")), Nfsstat3::Rofs);
    match c.access(&rf, ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND) {
        NfsRes::Ok(r) => assert_eq!(r.access, ACCESS3_READ, "no MODIFY/EXTEND through a ro export"),
        NfsRes::Err(s, _) => panic!("ACCESS {s:?}"),
    }
    assert_eq!(c.attr(&rf).mode, 0o666);
}

#[test]
fn forged_and_stale_handles() {
    let mut s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let f = c.create_file(&root, b"f", 0o644);
    for i in 0..f.0.len() {
        let mut bad = f.clone();
        bad.0[i] ^= 0x01;
        assert_eq!(status(&c.getattr(&bad)), Nfsstat3::Badhandle, "byte {i} flipped");
    }
    let mut short = f.clone();
    short.0.truncate(20);
    assert_eq!(status(&c.getattr(&short)), Nfsstat3::Badhandle);
    assert_eq!(status(&c.getattr(&NfsFh3(Vec::new()))), Nfsstat3::Badhandle);
    let mut bad_dir = root.clone();
    bad_dir.0[30] ^= 0x80;
    assert_eq!(status(&c.lookup(&bad_dir, b"f")), Nfsstat3::Badhandle);
    assert_eq!(
        status(&c.create(&bad_dir, b"g", CreateHow3::Guarded(mode(0o644)))),
        Nfsstat3::Badhandle
    );

    let gone = c.create_file(&root, b"gone", 0o644);
    let keep = c.create_file(&root, b"keep", 0o644);
    c.write_ok(&keep, 0, b"kept");
    assert_eq!(status(&c.remove(&root, b"gone")), Nfsstat3::Ok);
    assert_eq!(status(&c.getattr(&gone)), Nfsstat3::Stale);
    assert_eq!(status(&c.read(&gone, 0, 1)), Nfsstat3::Stale);
    assert_eq!(status(&c.write(&gone, 0, b"x", StableHow::FileSync)), Nfsstat3::Stale);
    // A new file must not revive the old handle.
    c.create_file(&root, b"gone", 0o644);
    assert_eq!(status(&c.getattr(&gone)), Nfsstat3::Stale);

    s.restart();
    let mut c = s.client();
    assert_eq!(status(&c.getattr(&gone)), Nfsstat3::Stale, "STALE after restart");
    assert_eq!(c.read_all(&keep), b"kept", "handles survive a restart");
    assert_eq!(c.attr(&root).ftype, Ftype3::Dir);
    assert_eq!(c.mount("/"), root, "the root handle is the same after a restart");
}

#[test]
fn root_squash_and_no_squash() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    // Root on "/" (squash none) creates root-owned files.
    let f = c.create_file(&root, b"rootfile", 0o644);
    let a = c.attr(&f);
    assert_eq!((a.uid, a.gid), (0, 0));
    // Open /squash's directory for everyone, through "/".
    let (sq_dir, _) = c.lookup_ok(&root, b"squash");
    assert_eq!(status(&c.setattr(&sq_dir, mode(0o777), None)), Nfsstat3::Ok);

    let sq = c.mount("/squash");
    let g = c.create_file(&sq, b"squashed", 0o644);
    let a = c.attr(&g);
    assert_eq!((a.uid, a.gid), (65534, 65534), "root is squashed on /squash");
    let d = c.mkdir_ok(&sq, b"dir", 0o755);
    assert_eq!(c.attr(&d).uid, 65534);
    // Squashed root cannot chown, nor read a root-only file.
    assert_eq!(
        status(&c.setattr(&g, Sattr3 { uid: Some(0), ..Default::default() }, None)),
        Nfsstat3::Perm
    );
    let secret = c.create_file(&sq_dir, b"secret", 0o600); // via "/" as real root
    assert_eq!(c.attr(&secret).uid, 0);
    let (sec_sq, _) = c.lookup_ok(&sq, b"secret");
    assert_eq!(status(&c.read(&sec_sq, 0, 10)), Nfsstat3::Acces);
    // A normal user is not squashed there.
    c.auth(1000, 1000, &[]);
    let u = c.create_file(&sq, b"user", 0o644);
    assert_eq!(c.attr(&u).uid, 1000);
}

#[test]
fn permissions_and_setuid_clearing() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let d = scratch(&mut c, &root, "perm");
    c.auth(1000, 1000, &[]);
    let private = c.create_file(&d, b"private", 0o600);
    c.write_ok(&private, 0, b"secret");
    let suid = c.create_file(&d, b"suid", 0o644);
    assert_eq!(status(&c.setattr(&suid, mode(0o4777), None)), Nfsstat3::Ok);
    assert_eq!(c.attr(&suid).mode, 0o4777);

    c.auth(1001, 1001, &[]);
    assert_eq!(status(&c.read(&private, 0, 100)), Nfsstat3::Acces);
    assert_eq!(status(&c.setattr(&private, mode(0o666), None)), Nfsstat3::Perm);
    match c.write(&suid, 0, b"overwrite", StableHow::FileSync) {
        NfsRes::Ok(_) => {}
        NfsRes::Err(s, _) => panic!("WRITE to a 04777 file by another user: {s:?}"),
    }
    let m = c.attr(&suid).mode;
    assert_eq!(m & 0o4000, 0, "setuid must be cleared by a non-owner's write (mode {m:o})");
    assert_eq!(m & 0o777, 0o777);
    // Supplementary groups count.
    c.auth(0, 0, &[]);
    let grp = c.create_file(&d, b"grp", 0o640);
    assert_eq!(
        status(&c.setattr(&grp, Sattr3 { gid: Some(500), ..Default::default() }, None)),
        Nfsstat3::Ok
    );
    c.write_ok(&grp, 0, b"group data");
    c.auth(1002, 1002, &[500]);
    assert_eq!(c.read_all(&grp), b"group data");
    c.auth(1002, 1002, &[]);
    assert_eq!(status(&c.read(&grp, 0, 10)), Nfsstat3::Acces);
}

#[test]
fn sticky_directory() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let tmp = c.mkdir_ok(&root, b"tmp", 0o777);
    assert_eq!(status(&c.setattr(&tmp, mode(0o1777), None)), Nfsstat3::Ok);
    assert_eq!(c.attr(&tmp).mode, 0o1777);
    c.auth(1000, 1000, &[]);
    c.create_file(&tmp, b"mine", 0o666);
    c.auth(1001, 1001, &[]);
    for st in [status(&c.remove(&tmp, b"mine")), status(&c.rename(&tmp, b"mine", &tmp, b"stolen"))]
    {
        assert!(matches!(st, Nfsstat3::Acces | Nfsstat3::Perm), "{st:?}");
    }
    c.create_file(&tmp, b"theirs", 0o666);
    assert_eq!(status(&c.remove(&tmp, b"theirs")), Nfsstat3::Ok);
    c.auth(1000, 1000, &[]);
    assert_eq!(status(&c.remove(&tmp, b"mine")), Nfsstat3::Ok);
}

#[test]
fn client_allowlist_and_secure_port() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(c.mnt("/only10"), MntRes::Err(MountStat3::Acces));
    assert_eq!(
        c.mnt("/secure"),
        MntRes::Err(MountStat3::Acces),
        "source port >= 1024 on a secure export"
    );
    assert_eq!(c.mnt("/nonexistent"), MntRes::Err(MountStat3::Noent));
    assert!(matches!(c.mnt("/squash/"), MntRes::Ok { .. }), "trailing slash");

    // A handle issued under /only10 (export number 4), used from 127.0.0.1.
    let root = c.mount("/");
    let (only, _) = c.lookup_ok(&root, b"only10");
    let h = reexport_handle(&s.data_dir(), &only, 4);
    assert_eq!(status(&c.getattr(&h)), Nfsstat3::Acces);
    assert_eq!(status(&c.create(&h, b"x", CreateHow3::Guarded(mode(0o644)))), Nfsstat3::Acces);
    // The same for /secure (export number 3) from an unprivileged port.
    let (sec, _) = c.lookup_ok(&root, b"secure");
    let h = reexport_handle(&s.data_dir(), &sec, 3);
    assert_eq!(status(&c.getattr(&h)), Nfsstat3::Acces);
    // Re-issued under "/" it is fine (the forging helper is right).
    let h = reexport_handle(&s.data_dir(), &sec, 0);
    assert_eq!(c.attr(&h).ftype, Ftype3::Dir);
}

/// DESIGN.md §4: size and mtime of UNSTABLE writes are coalesced in memory.
/// The node that took the writes answers with them at once; a truncate is
/// not undone when the coalesced values are applied later; COMMIT makes the
/// size durable (it survives kill -9).
#[test]
fn coalesced_size_and_mtime_of_unstable_writes() {
    let mut s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let f = c.create_file(&root, b"coalesced", 0o644);
    let chunk = vec![7u8; 64 * 1024];
    let mtime0 = c.attr(&f).mtime;
    std::thread::sleep(std::time::Duration::from_millis(20));
    for i in 0..4u64 {
        match c.write(&f, i * chunk.len() as u64, &chunk, StableHow::Unstable) {
            NfsRes::Ok(r) => {
                let after = r.file_wcc.after.0.expect("post-op attributes");
                assert_eq!(
                    after.size,
                    (i + 1) * chunk.len() as u64,
                    "WRITE's wcc shows the new size"
                );
            }
            NfsRes::Err(s, _) => panic!("WRITE {s:?}"),
        }
    }
    let a = c.attr(&f);
    assert_eq!(a.size, 4 * chunk.len() as u64, "GETATTR sees the coalesced size at once");
    assert!(a.mtime > mtime0, "GETATTR sees the coalesced mtime");
    assert_eq!(c.read_all(&f).len(), 4 * chunk.len(), "READ honours the coalesced size");
    // Truncate, then let the background apply run: the size must stay 0.
    let zero = Sattr3 { size: Some(0), ..Sattr3::default() };
    assert!(matches!(c.setattr(&f, zero, None), NfsRes::Ok(_)));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(c.attr(&f).size, 0, "a truncate is not undone by writes applied later");
    // Write again and COMMIT: the size survives a crash.
    assert!(matches!(c.write(&f, 0, &chunk, StableHow::Unstable), NfsRes::Ok(_)));
    assert!(matches!(c.commit(&f, 0, 0), NfsRes::Ok(_)));
    s.kill9();
    s.start_again();
    let mut c = s.client();
    assert_eq!(c.attr(&f).size, chunk.len() as u64, "size after COMMIT is durable");
    assert_eq!(c.read_all(&f), chunk);
}
