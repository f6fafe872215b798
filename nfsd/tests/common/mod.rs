//! Shared harness of the `nfsd` integration tests.
//!
//! - [`Server`]: runs the real `cairn` binary on 127.0.0.1 at a free port,
//!   with a temporary data directory and a generated configuration; stderr
//!   goes to a log file that is checked for ERROR lines and panics when the
//!   server is dropped. Restart (SIGTERM) and `kill -9` on the same data dir.
//! - [`Client`]: a blocking, wire-level NFSv3 / MOUNT client over TCP built
//!   on `nfs_proto` (record marking, AUTH_SYS / AUTH_NONE).

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nfs_proto::mount::{self, DirPath, MntRes};
use nfs_proto::nfs3::*;
use nfs_proto::rpc::{self, AuthSys, OpaqueAuth, ReplyHeader};
use nfs_proto::xdr::{Decoder, XdrDecode, XdrEncode};

// ------------------------------------------------------------------ server

/// The exports every test server has unless a test gives its own.
pub const DEFAULT_EXPORTS: &str = r#"
[[export]]
path = "/"
clients = ["127.0.0.0/8"]
squash = "none"
insecure = true

[[export]]
path = "/squash"
squash = "root"
insecure = true

[[export]]
path = "/ro"
access = "ro"
squash = "none"
insecure = true

[[export]]
path = "/secure"
squash = "none"
insecure = false

[[export]]
path = "/only10"
clients = ["10.0.0.0/8"]
squash = "none"
insecure = true
"#;

/// A running (or stopped) `cairn serve` process on its own data directory.
pub struct Server {
    child: Option<Child>,
    port: u16,
    /// Port of the admin API (`[admin] listen`), unless the test's own
    /// configuration has an `[admin]` table.
    admin_port: u16,
    dir: tempfile::TempDir,
    config: PathBuf,
    log: PathBuf,
    /// Set when the test expects ERROR lines in the log.
    pub allow_errors: bool,
    starts: u32,
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

impl Server {
    /// Start a server with [`DEFAULT_EXPORTS`].
    pub fn start() -> Server {
        Self::start_with(DEFAULT_EXPORTS)
    }

    /// Start a server with the given `[[export]]` tables (TOML).
    pub fn start_with(exports_toml: &str) -> Server {
        Self::start_with_config("", exports_toml)
    }

    /// Start with extra TOML sections (e.g. `[limits]`) and exports.
    pub fn start_with_config(extra_toml: &str, exports_toml: &str) -> Server {
        let dir = tempfile::Builder::new().prefix("cairn-test-").tempdir().expect("tempdir");
        let log = dir.path().join("server.log");
        let config = dir.path().join("cairn.toml");
        let mut s = Server {
            child: None,
            port: 0,
            admin_port: 0,
            config: config.clone(),
            log,
            allow_errors: false,
            starts: 0,
            dir,
        };
        let mut last_err = String::new();
        for _ in 0..10 {
            s.port = free_port();
            s.admin_port = free_port();
            let admin = if extra_toml.contains("[admin]") {
                String::new()
            } else {
                format!("[admin]\nlisten = \"127.0.0.1:{}\"\n", s.admin_port)
            };
            let text = format!(
                "[server]\ndata_dir = {:?}\nlisten = \"127.0.0.1:{}\"\nportmap_port_111 = false\nlog = \"info\"\n\n{admin}{extra_toml}\n{exports_toml}\n",
                s.data_dir().display().to_string(),
                s.port,
            );
            std::fs::write(&config, text).expect("write config");
            match s.spawn() {
                Ok(()) => return s,
                Err(e) => last_err = e,
            }
        }
        s.allow_errors = true;
        panic!("could not start cairn: {last_err}");
    }

    fn spawn(&mut self) -> Result<(), String> {
        assert!(self.child.is_none(), "server already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open log");
        self.starts += 1;
        let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("serve")
            .arg("--config")
            .arg(&self.config)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .env_remove("CAIRN_CONFIG")
            .env_remove("CAIRN_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn cairn");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("cairn exited at start ({status}); log:\n{}", self.log_text()));
            }
            if TcpStream::connect(self.addr()).is_ok() {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("cairn did not listen within 30 s; log:\n{}", self.log_text()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The address of the admin API (bound before the NFS port, so it is
    /// ready when the server is).
    pub fn admin_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.admin_port))
    }

    /// The configuration file the server runs with.
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// The process id of the running server.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything the server(s) wrote to stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A new client connected to the server (AUTH_SYS root).
    pub fn client(&self) -> Client {
        Client::connect(self.addr())
    }

    /// SIGTERM, wait up to 20 s, then SIGKILL. Returns whether it exited by itself.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return true };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return false;
                }
            }
        }
    }

    /// `kill -9` the server and reap it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Reap a server that was killed from elsewhere (e.g. another thread
    /// ran `kill -9 <pid>`); waits until it is gone.
    pub fn reap(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }

    /// Start again on the same data directory and port (after `stop`/`kill9`).
    pub fn start_again(&mut self) {
        if let Err(e) = self.spawn() {
            panic!("restart failed: {e}");
        }
    }

    /// Stop cleanly (SIGTERM) and start again on the same data directory.
    pub fn restart(&mut self) {
        assert!(self.stop(), "server did not stop cleanly; log:\n{}", self.log_text());
        self.start_again();
    }

    /// ERROR lines and panics in the log.
    pub fn log_problems(&self) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|l| l.contains(" ERROR ") || l.starts_with("ERROR") || l.contains("panicked"))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let clean = self.stop();
        if std::thread::panicking() {
            eprintln!("--- cairn log ({}) ---\n{}", self.log.display(), tail(&self.log_text(), 60));
            return;
        }
        if !self.allow_errors {
            let problems = self.log_problems();
            assert!(
                problems.is_empty(),
                "server log has errors:\n{}\n--- full log ---\n{}",
                problems.join("\n"),
                tail(&self.log_text(), 100)
            );
            assert!(
                clean,
                "server did not exit cleanly on SIGTERM:\n{}",
                tail(&self.log_text(), 60)
            );
        }
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// ------------------------------------------------------------------ client

/// A decoded reply: the RPC header and the bytes after it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub header: ReplyHeader,
    /// The procedure's results (empty unless `header` is Success).
    pub body: Vec<u8>,
    /// The whole record as received.
    pub raw: Vec<u8>,
}

/// A blocking wire-level ONC RPC client over TCP.
pub struct Client {
    pub stream: TcpStream,
    next_xid: u32,
    pub cred: OpaqueAuth,
    pub verf: OpaqueAuth,
}

pub fn auth_sys(uid: u32, gid: u32, gids: &[u32]) -> OpaqueAuth {
    OpaqueAuth::sys(&AuthSys {
        stamp: 1,
        machinename: b"cairn-test".to_vec(),
        uid,
        gid,
        gids: gids.to_vec(),
    })
}

/// Write one record as a single fragment.
pub fn write_record(w: &mut impl Write, rec: &[u8]) -> io::Result<()> {
    let mut buf = rpc::fragment_header(true, rec.len() as u32).to_be_bytes().to_vec();
    buf.extend_from_slice(rec);
    w.write_all(&buf)
}

/// Read one record (all fragments).
pub fn read_record(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut rec = Vec::new();
    loop {
        let mut h = [0u8; 4];
        r.read_exact(&mut h)?;
        let (last, len) = rpc::parse_fragment_header(u32::from_be_bytes(h));
        if rec.len() + len as usize > 64 << 20 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "reply record too large"));
        }
        let start = rec.len();
        rec.resize(start + len as usize, 0);
        r.read_exact(&mut rec[start..])?;
        if last {
            return Ok(rec);
        }
    }
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl Client {
    /// Connect with AUTH_SYS uid 0 gid 0.
    pub fn connect(addr: SocketAddr) -> Client {
        Self::try_connect(addr).expect("connect to cairn")
    }

    pub fn try_connect(addr: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream,
            next_xid: rand::random::<u32>() & 0x7fff_ffff,
            cred: auth_sys(0, 0, &[]),
            verf: OpaqueAuth::none(),
        })
    }

    /// Use AUTH_SYS with these ids from now on.
    pub fn auth(&mut self, uid: u32, gid: u32, gids: &[u32]) -> &mut Self {
        self.cred = auth_sys(uid, gid, gids);
        self
    }

    /// Use AUTH_NONE from now on.
    pub fn auth_none(&mut self) -> &mut Self {
        self.cred = OpaqueAuth::none();
        self
    }

    /// A fresh transaction id.
    pub fn xid(&mut self) -> u32 {
        self.next_xid = self.next_xid.wrapping_add(1);
        self.next_xid
    }

    /// The bytes of a complete call record (without record mark).
    pub fn call_bytes(&self, xid: u32, prog: u32, vers: u32, proc_: u32, args: &[u8]) -> Vec<u8> {
        let mut e = rpc::encode_call(xid, prog, vers, proc_, &self.cred, &self.verf);
        e.put_raw(args);
        e.into_inner()
    }

    pub fn send_record(&mut self, rec: &[u8]) -> io::Result<()> {
        write_record(&mut self.stream, rec)
    }

    pub fn recv_record(&mut self) -> io::Result<Vec<u8>> {
        read_record(&mut self.stream)
    }

    /// Receive and decode one reply.
    pub fn recv_reply(&mut self) -> io::Result<Reply> {
        let raw = self.recv_record()?;
        let (header, d) = rpc::decode_reply_bytes(&raw).map_err(|e| bad(format!("reply: {e}")))?;
        let body = d.rest().to_vec();
        Ok(Reply { header, body, raw })
    }

    /// One call with raw argument bytes; waits for the reply with its xid.
    pub fn call_raw(&mut self, prog: u32, vers: u32, proc_: u32, args: &[u8]) -> io::Result<Reply> {
        let xid = self.xid();
        self.call_raw_xid(xid, prog, vers, proc_, args)
    }

    pub fn call_raw_xid(
        &mut self,
        xid: u32,
        prog: u32,
        vers: u32,
        proc_: u32,
        args: &[u8],
    ) -> io::Result<Reply> {
        let rec = self.call_bytes(xid, prog, vers, proc_, args);
        self.send_record(&rec)?;
        let r = self.recv_reply()?;
        if r.header.xid() != xid {
            return Err(bad(format!("reply xid {:#x}, expected {xid:#x}", r.header.xid())));
        }
        Ok(r)
    }

    /// A typed call; an error when the transport fails, the reply is not
    /// SUCCESS, or the results do not decode completely.
    pub fn try_call<A, R>(&mut self, prog: u32, vers: u32, proc_: u32, args: &A) -> io::Result<R>
    where
        A: XdrEncode,
        R: for<'a> XdrDecode<'a>,
    {
        let args = nfs_proto::xdr::to_bytes(args);
        let r = self.call_raw(prog, vers, proc_, &args)?;
        if !matches!(r.header, ReplyHeader::Success { .. }) {
            return Err(bad(format!("RPC {prog}.{vers}.{proc_} not accepted: {:?}", r.header)));
        }
        let mut d = Decoder::new(&r.body);
        let v =
            R::decode(&mut d).map_err(|e| bad(format!("results of {prog}.{vers}.{proc_}: {e}")))?;
        if !d.is_empty() {
            return Err(bad(format!("{} trailing bytes in results", d.remaining())));
        }
        Ok(v)
    }

    /// An NFSv3 call that must succeed at the RPC level.
    pub fn nfs<A, R>(&mut self, p: Proc3, args: &A) -> R
    where
        A: XdrEncode,
        R: for<'a> XdrDecode<'a>,
    {
        self.try_call(PROGRAM, VERSION, p as u32, args)
            .unwrap_or_else(|e| panic!("NFSv3 {p:?}: {e}"))
    }

    // ------------------------------------------------------------- MOUNT

    pub fn mnt(&mut self, path: &str) -> MntRes {
        self.try_call(mount::PROGRAM, mount::VERSION, 1, &DirPath(path.as_bytes().to_vec()))
            .expect("MNT")
    }

    /// The root handle of an export; panics unless MNT succeeds.
    pub fn mount(&mut self, path: &str) -> NfsFh3 {
        match self.mnt(path) {
            MntRes::Ok { fhandle, .. } => fhandle,
            MntRes::Err(s) => panic!("MNT {path}: {s:?}"),
        }
    }

    // ------------------------------------------------------------- NFSv3

    pub fn null(&mut self) -> io::Result<()> {
        self.try_call(PROGRAM, VERSION, 0, &())
    }

    pub fn getattr(&mut self, fh: &NfsFh3) -> GetattrRes {
        self.nfs(Proc3::Getattr, &GetattrArgs { object: fh.clone() })
    }

    pub fn setattr(&mut self, fh: &NfsFh3, s: Sattr3, guard: Option<Nfstime3>) -> SetattrRes {
        self.nfs(Proc3::Setattr, &SetattrArgs { object: fh.clone(), new_attributes: s, guard })
    }

    pub fn lookup(&mut self, dir: &NfsFh3, name: &[u8]) -> LookupRes {
        self.nfs(Proc3::Lookup, &LookupArgs { what: dirop(dir, name) })
    }

    pub fn access(&mut self, fh: &NfsFh3, access: u32) -> AccessRes {
        self.nfs(Proc3::Access, &AccessArgs { object: fh.clone(), access })
    }

    pub fn readlink(&mut self, fh: &NfsFh3) -> ReadlinkRes {
        self.nfs(Proc3::Readlink, &ReadlinkArgs { symlink: fh.clone() })
    }

    pub fn read(&mut self, fh: &NfsFh3, offset: u64, count: u32) -> ReadRes {
        self.nfs(Proc3::Read, &ReadArgs { file: fh.clone(), offset, count })
    }

    pub fn write(&mut self, fh: &NfsFh3, offset: u64, data: &[u8], stable: StableHow) -> WriteRes {
        self.nfs(Proc3::Write, &write_args(fh, offset, data, stable))
    }

    pub fn commit(&mut self, fh: &NfsFh3, offset: u64, count: u32) -> CommitRes {
        self.nfs(Proc3::Commit, &CommitArgs { file: fh.clone(), offset, count })
    }

    pub fn create(&mut self, dir: &NfsFh3, name: &[u8], how: CreateHow3) -> CreateRes {
        self.nfs(Proc3::Create, &CreateArgs { where_: dirop(dir, name), how })
    }

    pub fn mkdir(&mut self, dir: &NfsFh3, name: &[u8], attributes: Sattr3) -> MkdirRes {
        self.nfs(Proc3::Mkdir, &MkdirArgs { where_: dirop(dir, name), attributes })
    }

    pub fn symlink(&mut self, dir: &NfsFh3, name: &[u8], target: &[u8]) -> SymlinkRes {
        self.nfs(
            Proc3::Symlink,
            &SymlinkArgs {
                where_: dirop(dir, name),
                symlink: SymlinkData3 {
                    symlink_attributes: Sattr3::default(),
                    symlink_data: target.to_vec(),
                },
            },
        )
    }

    pub fn mknod(&mut self, dir: &NfsFh3, name: &[u8], what: MknodData3) -> MknodRes {
        self.nfs(Proc3::Mknod, &MknodArgs { where_: dirop(dir, name), what })
    }

    pub fn remove(&mut self, dir: &NfsFh3, name: &[u8]) -> RemoveRes {
        self.nfs(Proc3::Remove, &RemoveArgs { object: dirop(dir, name) })
    }

    pub fn rmdir(&mut self, dir: &NfsFh3, name: &[u8]) -> RmdirRes {
        self.nfs(Proc3::Rmdir, &RmdirArgs { object: dirop(dir, name) })
    }

    pub fn rename(&mut self, from: &NfsFh3, fname: &[u8], to: &NfsFh3, tname: &[u8]) -> RenameRes {
        self.nfs(Proc3::Rename, &RenameArgs { from: dirop(from, fname), to: dirop(to, tname) })
    }

    pub fn link(&mut self, file: &NfsFh3, dir: &NfsFh3, name: &[u8]) -> LinkRes {
        self.nfs(Proc3::Link, &LinkArgs { file: file.clone(), link: dirop(dir, name) })
    }

    pub fn readdir(
        &mut self,
        dir: &NfsFh3,
        cookie: u64,
        verf: Cookieverf3,
        count: u32,
    ) -> ReaddirRes {
        self.nfs(Proc3::Readdir, &ReaddirArgs { dir: dir.clone(), cookie, cookieverf: verf, count })
    }

    pub fn readdirplus(
        &mut self,
        dir: &NfsFh3,
        cookie: u64,
        verf: Cookieverf3,
        dircount: u32,
        maxcount: u32,
    ) -> ReaddirplusRes {
        self.nfs(
            Proc3::Readdirplus,
            &ReaddirplusArgs { dir: dir.clone(), cookie, cookieverf: verf, dircount, maxcount },
        )
    }

    pub fn fsstat(&mut self, fh: &NfsFh3) -> FsstatRes {
        self.nfs(Proc3::Fsstat, &FsstatArgs { fsroot: fh.clone() })
    }

    pub fn fsinfo(&mut self, fh: &NfsFh3) -> FsinfoRes {
        self.nfs(Proc3::Fsinfo, &FsinfoArgs { fsroot: fh.clone() })
    }

    pub fn pathconf(&mut self, fh: &NfsFh3) -> PathconfRes {
        self.nfs(Proc3::Pathconf, &PathconfArgs { object: fh.clone() })
    }

    // ------------------------------------------------------------- conveniences

    /// LOOKUP that must succeed: (handle, attributes).
    pub fn lookup_ok(&mut self, dir: &NfsFh3, name: &[u8]) -> (NfsFh3, Fattr3) {
        match self.lookup(dir, name) {
            NfsRes::Ok(r) => (r.object, r.obj_attributes.0.expect("LOOKUP attributes")),
            NfsRes::Err(s, _) => panic!("LOOKUP {:?}: {s:?}", String::from_utf8_lossy(name)),
        }
    }

    /// GETATTR that must succeed.
    pub fn attr(&mut self, fh: &NfsFh3) -> Fattr3 {
        match self.getattr(fh) {
            NfsRes::Ok(r) => r.obj_attributes,
            NfsRes::Err(s, _) => panic!("GETATTR: {s:?}"),
        }
    }

    /// GUARDED CREATE with `mode` that must succeed.
    pub fn create_file(&mut self, dir: &NfsFh3, name: &[u8], mode: u32) -> NfsFh3 {
        let how = CreateHow3::Guarded(Sattr3 { mode: Some(mode), ..Default::default() });
        created(self.create(dir, name, how), name)
    }

    /// MKDIR with `mode` that must succeed.
    pub fn mkdir_ok(&mut self, dir: &NfsFh3, name: &[u8], mode: u32) -> NfsFh3 {
        created(self.mkdir(dir, name, Sattr3 { mode: Some(mode), ..Default::default() }), name)
    }

    /// A FILE_SYNC write that must succeed.
    pub fn write_ok(&mut self, fh: &NfsFh3, offset: u64, data: &[u8]) {
        match self.write(fh, offset, data, StableHow::FileSync) {
            NfsRes::Ok(r) => assert_eq!(r.count as usize, data.len(), "short write"),
            NfsRes::Err(s, _) => panic!("WRITE: {s:?}"),
        }
    }

    /// Read the whole file (in 1 MiB calls) until EOF.
    pub fn read_all(&mut self, fh: &NfsFh3) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            match self.read(fh, out.len() as u64, 1 << 20) {
                NfsRes::Ok(r) => {
                    out.extend_from_slice(&r.data);
                    if r.eof {
                        return out;
                    }
                    assert!(!r.data.is_empty(), "READ returned no data without eof");
                }
                NfsRes::Err(s, _) => panic!("READ: {s:?}"),
            }
        }
    }

    /// All names of a directory through READDIR with `count`.
    /// Send many calls pipelined (in batches of `batch` without waiting)
    /// and return the replies in call order (matched by xid).
    pub fn pipeline(&mut self, calls: &[(u32, u32, u32, Vec<u8>)], batch: usize) -> Vec<Reply> {
        let mut out = Vec::with_capacity(calls.len());
        for chunk in calls.chunks(batch.max(1)) {
            let mut xids = Vec::new();
            let mut buf = Vec::new();
            for (prog, vers, proc_, args) in chunk {
                let xid = self.xid();
                xids.push(xid);
                let rec = self.call_bytes(xid, *prog, *vers, *proc_, args);
                write_record(&mut buf, &rec).expect("buffer");
            }
            self.stream.write_all(&buf).expect("send pipelined calls");
            let mut got = std::collections::HashMap::new();
            while got.len() < xids.len() {
                let r = self.recv_reply().expect("pipelined reply");
                assert!(xids.contains(&r.header.xid()), "reply with unknown xid");
                assert!(got.insert(r.header.xid(), r).is_none(), "two replies for one xid");
            }
            out.extend(xids.iter().map(|x| got.remove(x).expect("reply")));
        }
        out
    }

    pub fn list(&mut self, dir: &NfsFh3, count: u32) -> Vec<(Vec<u8>, u64)> {
        let (mut cookie, mut verf, mut out) = (0, [0u8; 8], Vec::new());
        loop {
            match self.readdir(dir, cookie, verf, count) {
                NfsRes::Ok(r) => {
                    for e in &r.entries {
                        out.push((e.name.clone(), e.fileid));
                    }
                    if r.eof {
                        return out;
                    }
                    cookie = r.entries.last().expect("entries or eof").cookie;
                    verf = r.cookieverf;
                }
                NfsRes::Err(s, _) => panic!("READDIR: {s:?}"),
            }
        }
    }
}

pub fn dirop(dir: &NfsFh3, name: &[u8]) -> DirOpArgs3 {
    DirOpArgs3 { dir: dir.clone(), name: name.to_vec() }
}

pub fn write_args(fh: &NfsFh3, offset: u64, data: &[u8], stable: StableHow) -> WriteArgs {
    WriteArgs { file: fh.clone(), offset, count: data.len() as u32, stable, data: data.to_vec() }
}

/// The handle of a successful CREATE/MKDIR/SYMLINK/MKNOD.
pub fn created(r: CreateRes, name: &[u8]) -> NfsFh3 {
    match r {
        NfsRes::Ok(r) => r.obj.0.expect("created object handle"),
        NfsRes::Err(s, _) => panic!("creating {:?}: {s:?}", String::from_utf8_lossy(name)),
    }
}

/// Decode the results of a successful reply.
pub fn results<R: for<'a> XdrDecode<'a>>(r: &Reply) -> R {
    assert!(matches!(r.header, ReplyHeader::Success { .. }), "not SUCCESS: {:?}", r.header);
    nfs_proto::xdr::from_bytes(&r.body).expect("results decode")
}

/// The installation secret and cluster id of a server's data directory.
pub fn identity(data_dir: &Path) -> ([u8; 32], u64) {
    let text = std::fs::read_to_string(data_dir.join("identity")).expect("identity file");
    let mut lines = text.lines().skip(1);
    let cluster = u64::from_str_radix(lines.next().expect("cluster id"), 16).expect("hex");
    let hex = lines.next().expect("key");
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    }
    (key, cluster)
}

/// Re-issue `fh` under export number `export`, with a valid MAC (what the
/// server itself would hand out through that export).
pub fn reexport_handle(data_dir: &Path, fh: &NfsFh3, export: u8) -> NfsFh3 {
    let (key, _) = identity(data_dir);
    let mut h = fh.0.clone();
    assert_eq!(h.len(), 52, "handle layout");
    h[1] = export;
    let mac = blake3::keyed_hash(&key, &h[..36]);
    h[36..].copy_from_slice(&mac.as_bytes()[..16]);
    NfsFh3(h)
}

pub fn mode(m: u32) -> Sattr3 {
    Sattr3 { mode: Some(m), ..Default::default() }
}

pub mod cluster;
pub mod nfs4;
