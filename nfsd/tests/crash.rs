//! Crash safety of the real binary: a write-heavy workload over the wire,
//! `kill -9` at a random moment, restart on the same data directory, and
//! check that everything acknowledged as durable survived.
//!
//! The model records only what the server acknowledged: namespace changes
//! (CREATE, MKDIR, RENAME, REMOVE, RMDIR) are durable when their reply
//! came; data bytes are durable when their FILE_SYNC WRITE or a later
//! COMMIT was answered. Bytes written UNSTABLE and not committed may read
//! back old or new, but a READ must never fail. The one call in flight at
//! the kill may or may not have happened.
//!
//! Replay a failure with `CAIRN_CRASH_SEED=<seed>` (printed by the test):
//! the seed fixes the sequence of calls and the kill delays (which call
//! the kill lands in still depends on timing). Bytes of lost writes must
//! not reappear beyond the durable end of file (`CAIRN_CRASH_STRICT=0` relaxes that).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use nfs_proto::nfs3::*;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

const ROUNDS: usize = 12;
const FILE_SPAN_BYTES: usize = 128 * 1024;
const WRITE_MAX_BYTES: usize = 32 * 1024;
const ENTRIES_MAX: usize = 250;

/// Only "/": the tree holds nothing but what the workload made.
const EXPORTS: &str = r#"
[[export]]
path = "/"
clients = ["127.0.0.0/8"]
squash = "none"
insecure = true
"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    File(u64),
}

#[derive(Debug, Clone, Default)]
struct FileData {
    /// Bytes known durable (holes are zeros).
    durable: Vec<u8>,
    /// What the file holds by the acknowledged writes (for COMMIT).
    latest: Vec<u8>,
    /// Values an uncommitted write may have left at a byte.
    alts: HashMap<usize, Vec<u8>>,
    /// Largest end of any write sent.
    max_end: usize,
    /// Bytes of uncommitted writes that a crash cut off beyond the end of
    /// file. They must not reappear when the file is extended again
    /// (see `lost_unstable_write_does_not_reappear_in_a_later_hole`); only
    /// CAIRN_CRASH_STRICT=0 tolerates them.
    ghosts: HashMap<usize, Vec<u8>>,
}

#[derive(Debug, Clone, Default)]
struct Model {
    /// Path ("" is the root, "/a/b" below it) to kind.
    ns: BTreeMap<String, Kind>,
    files: HashMap<u64, FileData>,
    next_id: u64,
    next_name: u64,
}

impl Model {
    fn dirs(&self) -> Vec<String> {
        let mut v = vec![String::new()];
        v.extend(self.ns.iter().filter(|(_, k)| **k == Kind::Dir).map(|(p, _)| p.clone()));
        v
    }

    fn files(&self) -> Vec<(String, u64)> {
        self.ns
            .iter()
            .filter_map(|(p, k)| match k {
                Kind::File(id) => Some((p.clone(), *id)),
                Kind::Dir => None,
            })
            .collect()
    }

    fn is_empty_dir(&self, p: &str) -> bool {
        let prefix = format!("{p}/");
        !self.ns.keys().any(|k| k.starts_with(&prefix))
    }

    fn kinds(&self) -> BTreeMap<String, bool> {
        self.ns.iter().map(|(p, k)| (p.clone(), *k == Kind::Dir)).collect()
    }

    /// Rename `from` (and its subtree) to `to`, replacing a file at `to`.
    fn rename(&mut self, from: &str, to: &str) {
        self.ns.remove(to);
        let prefix = format!("{from}/");
        let moved: Vec<(String, Kind)> = self
            .ns
            .iter()
            .filter(|(p, _)| p.as_str() == from || p.starts_with(&prefix))
            .map(|(p, k)| (p.clone(), *k))
            .collect();
        for (p, k) in moved {
            self.ns.remove(&p);
            self.ns.insert(format!("{to}{}", &p[from.len()..]), k);
        }
    }
}

fn split(path: &str) -> (&str, &str) {
    let i = path.rfind('/').expect("a path below the root");
    (&path[..i], &path[i + 1..])
}

/// The connection died: the server was killed.
fn dead(e: io::Error) -> io::Error {
    e
}

struct Workload<'a> {
    c: Client,
    root: NfsFh3,
    handles: HashMap<String, NfsFh3>,
    m: &'a mut Model,
    rng: &'a mut StdRng,
    /// The model if the call in flight at the kill did happen.
    uncertain: Option<Model>,
    ops: usize,
}

impl Workload<'_> {
    fn call<A: nfs_proto::xdr::XdrEncode, R: for<'b> nfs_proto::xdr::XdrDecode<'b>>(
        &mut self,
        p: Proc3,
        args: &A,
    ) -> io::Result<R> {
        self.c.try_call(PROGRAM, VERSION, p as u32, args).map_err(dead)
    }

    fn handle(&mut self, path: &str) -> io::Result<NfsFh3> {
        if path.is_empty() {
            return Ok(self.root.clone());
        }
        if let Some(h) = self.handles.get(path) {
            return Ok(h.clone());
        }
        let (parent, name) = split(path);
        let dir = self.handle(parent)?;
        let r: LookupRes =
            self.call(Proc3::Lookup, &LookupArgs { what: dirop(&dir, name.as_bytes()) })?;
        match r {
            NfsRes::Ok(r) => {
                self.handles.insert(path.to_string(), r.object.clone());
                Ok(r.object)
            }
            NfsRes::Err(s, _) => panic!("LOOKUP {path} during the workload: {s:?}"),
        }
    }

    fn new_name(&mut self) -> String {
        self.m.next_name += 1;
        format!("n{}", self.m.next_name)
    }

    /// Run one namespace call: `after` is the model if it succeeds.
    fn ns_call<A: nfs_proto::xdr::XdrEncode>(
        &mut self,
        p: Proc3,
        args: &A,
        after: Model,
        what: &str,
    ) -> io::Result<Option<NfsFh3>> {
        self.uncertain = Some(after.clone());
        let (st, fh) = match p {
            Proc3::Create | Proc3::Mkdir => {
                let r: CreateRes = self.call(p, args)?;
                match r {
                    NfsRes::Ok(ok) => (Nfsstat3::Ok, ok.obj.0),
                    NfsRes::Err(s, _) => (s, None),
                }
            }
            Proc3::Remove | Proc3::Rmdir => {
                let r: RemoveRes = self.call(p, args)?;
                (r.status(), None)
            }
            Proc3::Rename => {
                let r: RenameRes = self.call(p, args)?;
                (r.status(), None)
            }
            _ => unreachable!(),
        };
        self.uncertain = None;
        assert_eq!(st, Nfsstat3::Ok, "{what} failed during the workload");
        *self.m = after;
        Ok(fh)
    }

    fn step(&mut self) -> io::Result<()> {
        self.ops += 1;
        let dirs = self.m.dirs();
        let files = self.m.files();
        let full = self.m.ns.len() >= ENTRIES_MAX;
        let roll = self.rng.gen_range(0..100);
        if files.is_empty() || (roll < 14 && !full) {
            // CREATE
            let dir = dirs[self.rng.gen_range(0..dirs.len())].clone();
            let name = self.new_name();
            let path = format!("{dir}/{name}");
            let mut after = self.m.clone();
            after.next_id += 1;
            let id = after.next_id;
            after.ns.insert(path.clone(), Kind::File(id));
            after.files.insert(id, FileData::default());
            let dh = self.handle(&dir)?;
            let args = CreateArgs {
                where_: dirop(&dh, name.as_bytes()),
                how: CreateHow3::Guarded(mode(0o644)),
            };
            if let Some(fh) =
                self.ns_call(Proc3::Create, &args, after, &format!("CREATE {path}"))?
            {
                self.handles.insert(path, fh);
            }
            return Ok(());
        }
        if roll < 22 && !full {
            let dir = dirs[self.rng.gen_range(0..dirs.len())].clone();
            let name = self.new_name();
            let path = format!("{dir}/{name}");
            let mut after = self.m.clone();
            after.ns.insert(path.clone(), Kind::Dir);
            let dh = self.handle(&dir)?;
            let args = MkdirArgs { where_: dirop(&dh, name.as_bytes()), attributes: mode(0o755) };
            self.ns_call(Proc3::Mkdir, &args, after, &format!("MKDIR {path}"))?;
            return Ok(());
        }
        if roll < 32 {
            // RENAME a file or directory, sometimes over an existing file.
            let all: Vec<String> = self.m.ns.keys().cloned().collect();
            let from = all[self.rng.gen_range(0..all.len())].clone();
            let is_dir = self.m.ns[&from] == Kind::Dir;
            let to = if !is_dir && files.len() > 1 && self.rng.gen_bool(0.3) {
                let t = files[self.rng.gen_range(0..files.len())].0.clone();
                if t == from {
                    return Ok(());
                }
                t
            } else {
                let targets: Vec<&String> = dirs
                    .iter()
                    .filter(|d| !(is_dir && (**d == from || d.starts_with(&format!("{from}/")))))
                    .collect();
                let d = targets[self.rng.gen_range(0..targets.len())].clone();
                format!("{d}/{}", self.new_name())
            };
            let mut after = self.m.clone();
            after.rename(&from, &to);
            let (fd, fname) = split(&from);
            let (td, tname) = split(&to);
            let (fdh, tdh) = (self.handle(fd)?, self.handle(td)?);
            let args = RenameArgs {
                from: dirop(&fdh, fname.as_bytes()),
                to: dirop(&tdh, tname.as_bytes()),
            };
            self.ns_call(Proc3::Rename, &args, after, &format!("RENAME {from} -> {to}"))?;
            self.handles.clear();
            return Ok(());
        }
        if roll < 40 || full {
            // REMOVE a file, or RMDIR an empty directory.
            let empty_dirs: Vec<String> =
                dirs.iter().filter(|d| !d.is_empty() && self.m.is_empty_dir(d)).cloned().collect();
            let (path, p) = if !empty_dirs.is_empty() && self.rng.gen_bool(0.3) {
                (empty_dirs[self.rng.gen_range(0..empty_dirs.len())].clone(), Proc3::Rmdir)
            } else {
                (files[self.rng.gen_range(0..files.len())].0.clone(), Proc3::Remove)
            };
            let mut after = self.m.clone();
            after.ns.remove(&path);
            let (d, name) = split(&path);
            let dh = self.handle(d)?;
            let args = RemoveArgs { object: dirop(&dh, name.as_bytes()) };
            self.ns_call(p, &args, after, &format!("{p:?} {path}"))?;
            self.handles.remove(&path);
            return Ok(());
        }
        let (path, id) = files[self.rng.gen_range(0..files.len())].clone();
        let fh = self.handle(&path)?;
        if roll < 50 {
            // COMMIT
            let r: CommitRes =
                self.call(Proc3::Commit, &CommitArgs { file: fh, offset: 0, count: 0 })?;
            assert_eq!(r.status(), Nfsstat3::Ok, "COMMIT {path}");
            let f = self.m.files.get_mut(&id).expect("file data");
            f.durable = f.latest.clone();
            f.alts.clear();
            return Ok(());
        }
        // WRITE, UNSTABLE or FILE_SYNC.
        let off = self.rng.gen_range(0..FILE_SPAN_BYTES);
        let len = self.rng.gen_range(1..=WRITE_MAX_BYTES);
        let mut data = vec![0u8; len];
        self.rng.fill_bytes(&mut data);
        let stable = if self.rng.gen_bool(0.3) { StableHow::FileSync } else { StableHow::Unstable };
        {
            let f = self.m.files.get_mut(&id).expect("file data");
            for (i, b) in data.iter().enumerate() {
                f.alts.entry(off + i).or_default().push(*b);
            }
            f.max_end = f.max_end.max(off + len);
        }
        let r: WriteRes = self.call(Proc3::Write, &write_args(&fh, off as u64, &data, stable))?;
        match r {
            NfsRes::Ok(ok) => {
                assert_eq!(ok.count as usize, len, "short WRITE");
                let f = self.m.files.get_mut(&id).expect("file data");
                if f.latest.len() < off + len {
                    f.latest.resize(off + len, 0);
                }
                f.latest[off..off + len].copy_from_slice(&data);
                if ok.committed != StableHow::Unstable {
                    if f.durable.len() < off + len {
                        f.durable.resize(off + len, 0);
                    }
                    f.durable[off..off + len].copy_from_slice(&data);
                    for i in off..off + len {
                        f.alts.remove(&i);
                    }
                }
            }
            NfsRes::Err(s, _) => panic!("WRITE {path}: {s:?}"),
        }
        Ok(())
    }
}

/// Walk the whole tree: every directory listable, every entry resolvable.
/// Returns path -> (is_dir, handle).
fn walk(c: &mut Client, root: &NfsFh3) -> BTreeMap<String, (bool, NfsFh3)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![(String::new(), root.clone())];
    while let Some((path, dir)) = todo.pop() {
        let entries = c.list(&dir, 2048);
        // READDIRPLUS must work too and agree on the names.
        let mut plus = Vec::new();
        let (mut cookie, mut verf) = (0, [0u8; 8]);
        loop {
            match c.readdirplus(&dir, cookie, verf, 4096, 32768) {
                NfsRes::Ok(r) => {
                    for e in &r.entries {
                        assert!(e.name_attributes.0.is_some(), "READDIRPLUS {path}: no attributes");
                        plus.push(e.name.clone());
                    }
                    if r.eof {
                        break;
                    }
                    cookie = r.entries.last().expect("entries").cookie;
                    verf = r.cookieverf;
                }
                NfsRes::Err(s, _) => panic!("READDIRPLUS {path:?}: {s:?}"),
            }
        }
        let mut names: Vec<Vec<u8>> = entries.iter().map(|(n, _)| n.clone()).collect();
        names.sort();
        plus.sort();
        assert_eq!(names, plus, "READDIR and READDIRPLUS of {path:?} disagree");
        for (name, fileid) in entries {
            if name == b"." || name == b".." {
                continue;
            }
            let p = format!("{path}/{}", String::from_utf8_lossy(&name));
            let (fh, a) = match c.lookup(&dir, &name) {
                NfsRes::Ok(r) => (r.object, r.obj_attributes.0.expect("attrs")),
                NfsRes::Err(s, _) => panic!("listed entry {p} does not LOOKUP: {s:?}"),
            };
            assert_eq!(a.fileid, fileid, "{p}: READDIR fileid differs from LOOKUP");
            match c.getattr(&fh) {
                NfsRes::Ok(g) => assert_eq!(g.obj_attributes.fileid, fileid, "{p}"),
                NfsRes::Err(s, _) => {
                    panic!("GETATTR {p} (entry pointing to a missing inode?): {s:?}")
                }
            }
            let is_dir = a.ftype == Ftype3::Dir;
            assert!(is_dir || a.ftype == Ftype3::Reg, "{p}: unexpected type {:?}", a.ftype);
            if is_dir {
                todo.push((p.clone(), fh.clone()));
            }
            assert!(out.insert(p.clone(), (is_dir, fh)).is_none(), "{p} listed twice");
        }
    }
    out
}

/// Bytes of lost writes beyond the durable end of file must not come back
/// (fixed by the recovery pass after an unclean stop); strict unless
/// CAIRN_CRASH_STRICT=0.
fn strict() -> bool {
    std::env::var("CAIRN_CRASH_STRICT").map_or(true, |v| v != "0")
}

fn check_file(path: &str, f: &FileData, got: &[u8], seed: u64) {
    assert!(
        got.len() >= f.durable.len(),
        "seed {seed}: {path}: size {} < durable size {}",
        got.len(),
        f.durable.len()
    );
    assert!(
        got.len() <= f.max_end.max(f.durable.len()),
        "seed {seed}: {path}: size {} beyond anything written ({})",
        got.len(),
        f.max_end
    );
    for (i, b) in got.iter().enumerate() {
        let base = f.durable.get(i).copied().unwrap_or(0);
        let ghost = !strict() && f.ghosts.get(&i).is_some_and(|a| a.contains(b));
        if *b != base && !ghost && !f.alts.get(&i).is_some_and(|a| a.contains(b)) {
            panic!(
                "seed {seed}: {path}: byte {i} is {b:#04x}; durable {base:#04x}, uncommitted {:?}",
                f.alts.get(&i)
            );
        }
    }
}

/// After a restart: the tree matches the model (allowing the one call in
/// flight either way), every file reads back what was made durable.
fn verify(s: &Server, m: &mut Model, uncertain: Option<Model>, seed: u64, round: usize) {
    let mut c = s.client();
    let root = c.mount("/");
    let tree = walk(&mut c, &root);
    let actual: BTreeMap<String, bool> = tree.iter().map(|(p, (d, _))| (p.clone(), *d)).collect();
    if actual != m.kinds() {
        match uncertain {
            Some(u) if actual == u.kinds() => *m = u,
            u => {
                let want = m.kinds();
                let missing: Vec<_> = want.keys().filter(|k| !actual.contains_key(*k)).collect();
                let extra: Vec<_> = actual.keys().filter(|k| !want.contains_key(*k)).collect();
                panic!(
                    "seed {seed} round {round}: tree after restart differs from the acknowledged state\n\
                     missing: {missing:?}\nextra: {extra:?}\nin-flight call would give: {:?}",
                    u.map(|u| u.kinds())
                );
            }
        }
    }
    let files: Vec<(String, u64)> = m.files();
    for (path, id) in files {
        let fh = &tree[&path].1;
        let mut got = Vec::new();
        loop {
            match c.read(fh, got.len() as u64, 1 << 20) {
                NfsRes::Ok(r) => {
                    got.extend_from_slice(&r.data);
                    if r.eof || r.data.is_empty() {
                        break;
                    }
                }
                NfsRes::Err(st, _) => panic!("seed {seed} round {round}: READ {path}: {st:?}"),
            }
        }
        assert_eq!(c.attr(fh).size as usize, got.len(), "seed {seed}: {path}: size vs data read");
        let f = m.files.get_mut(&id).expect("file data");
        check_file(&path, f, &got, seed);
        // What the restarted server holds is the new baseline; uncommitted
        // bytes cut off beyond the new end of file become ghosts.
        let mut ghosts = std::mem::take(&mut f.ghosts);
        for (i, vals) in f.alts.drain() {
            if i >= got.len() {
                ghosts.entry(i).or_default().extend(vals);
            }
        }
        *f = FileData {
            durable: got.clone(),
            max_end: got.len(),
            latest: got,
            alts: HashMap::new(),
            ghosts,
        };
    }
}

#[test]
fn kill_9_during_writes_loses_nothing_acknowledged() {
    let seed: u64 = std::env::var("CAIRN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash test seed {seed} (replay with CAIRN_CRASH_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut s = Server::start_with(EXPORTS);
    let mut m = Model::default();
    let started = Instant::now();
    for round in 0..ROUNDS {
        let c = s.client();
        let mut w = Workload {
            c,
            root: NfsFh3::default(),
            handles: HashMap::new(),
            m: &mut m,
            rng: &mut rng,
            uncertain: None,
            ops: 0,
        };
        w.root = w.c.mount("/");
        let delay = Duration::from_millis(w.rng.gen_range(50..=500));
        let pid = s.pid();
        let killer = std::thread::spawn(move || {
            std::thread::sleep(delay);
            let st = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            assert!(st.is_ok_and(|s| s.success()), "kill -9 {pid}");
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let err = loop {
            if let Err(e) = w.step() {
                break e;
            }
            assert!(Instant::now() < deadline, "seed {seed}: the server was not killed");
        };
        let (ops, uncertain) = (w.ops, w.uncertain.take());
        drop(w);
        killer.join().expect("killer thread");
        s.reap();
        eprintln!(
            "round {round}: killed after {delay:?}, {ops} calls ({err}); {} entries",
            m.ns.len()
        );
        s.start_again();
        verify(&s, &mut m, uncertain, seed, round);
    }
    eprintln!("{ROUNDS} rounds in {:?}", started.elapsed());
    // A clean stop at the end; the log must have no errors (checked on drop).
}

/// An UNSTABLE write whose size update is lost in a crash leaves its bytes
/// in the chunk files beyond the (restored) end of file; when the file is
/// later extended, the hole must read as zeros, not as those bytes.
#[test]

fn lost_unstable_write_does_not_reappear_in_a_later_hole() {
    let mut s = Server::start_with(EXPORTS);
    let mut c = s.client();
    let root = c.mount("/");
    let f = c.create_file(&root, b"f", 0o644);
    match c.write(&f, 0, &[0xAA; 4096], StableHow::Unstable) {
        NfsRes::Ok(r) => assert_eq!(r.committed, StableHow::Unstable),
        NfsRes::Err(st, _) => panic!("WRITE {st:?}"),
    }
    s.kill9();
    s.start_again();
    let mut c = s.client();
    let size = c.attr(&f).size;
    // Either outcome of the uncommitted write is fine...
    assert!(size == 0 || size == 4096, "size {size}");
    if size == 4096 {
        eprintln!("the unstable write survived; nothing to check");
        return;
    }
    // ...but once the server said the file is empty, extending it must
    // leave a hole of zeros.
    c.write_ok(&f, 8192, b"z");
    let data = c.read_all(&f);
    assert_eq!(data.len(), 8193);
    let stale = data[..8192].iter().filter(|b| **b != 0).count();
    assert_eq!(stale, 0, "{stale} bytes of the hole are not zero (first: {:#x})", data[0]);
}
