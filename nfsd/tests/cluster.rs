//! Three real `cairn` processes in cluster mode on 127.0.0.1 (random
//! ports): the namespace agreed through Raft, file data replicated
//! (DESIGN.md §2–§4). Checked over the wire with the NFSv3 client of
//! `common`: what one node writes the others list and read byte for byte;
//! `kill -9` of the Raft leader during a create-and-write loop elects a new
//! leader, loses no acknowledged create and no COMMITted byte, and the
//! killed node catches up after its restart. Every wait is bounded.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Client;
use nfs_proto::nfs3::*;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

struct Node {
    id: u64,
    nfs: SocketAddr,
    admin: SocketAddr,
    config: PathBuf,
    data: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

struct Cluster {
    dir: tempfile::TempDir,
    nodes: Vec<Node>,
}

impl Cluster {
    fn start(n: u64) -> Cluster {
        let dir = tempfile::Builder::new().prefix("cairn-cluster-").tempdir().expect("tempdir");
        let secret = dir.path().join("cluster-secret");
        let key: [u8; 32] = rand::random();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let text = format!(
            "cairn-cluster-v1\n{:016x}\n1700000000.000000000\n{hex}\n",
            rand::random::<u64>() | 1
        );
        std::fs::write(&secret, text).expect("secret");
        let ports: Vec<[u16; 4]> =
            (0..n).map(|_| [free_port(), free_port(), free_port(), free_port()]).collect();
        let mut members = String::new();
        for (i, p) in ports.iter().enumerate() {
            members.push_str(&format!(
                "\n[[cluster.member]]\nid = {}\nraft = \"127.0.0.1:{}\"\nreplica = \"127.0.0.1:{}\"\nnfs = \"127.0.0.1:{}\"\n",
                i + 1, p[1], p[2], p[0]
            ));
        }
        let mut nodes = Vec::new();
        for (i, p) in ports.iter().enumerate() {
            let id = i as u64 + 1;
            let data = dir.path().join(format!("node-{id}"));
            let config = dir.path().join(format!("node-{id}.toml"));
            let text = format!(
                "[server]\ndata_dir = {:?}\nlisten = \"127.0.0.1:{}\"\nportmap_port_111 = false\n\n[admin]\nlisten = \"127.0.0.1:{}\"\n\n[cluster]\nnode_id = {id}\nsecret_file = {:?}\ntick_ms = 50\n{members}\n[[export]]\npath = \"/\"\nclients = [\"127.0.0.0/8\"]\nsquash = \"none\"\ninsecure = true\n",
                data.display().to_string(), p[0], p[3], secret.display().to_string()
            );
            std::fs::write(&config, text).expect("config");
            nodes.push(Node {
                id,
                nfs: SocketAddr::from(([127, 0, 0, 1], p[0])),
                admin: SocketAddr::from(([127, 0, 0, 1], p[3])),
                log: dir.path().join(format!("node-{id}.log")),
                config,
                data,
                child: None,
            });
        }
        let mut c = Cluster { dir, nodes };
        for i in 0..c.nodes.len() {
            c.spawn(i);
        }
        for i in 0..c.nodes.len() {
            c.wait_listening(i);
        }
        c
    }

    fn spawn(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(&node.log).expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("serve")
            .arg("--config")
            .arg(&node.config)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .env_remove("CAIRN_CONFIG")
            .env_remove("CAIRN_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn cairn");
        node.child = Some(child);
    }

    fn wait_listening(&mut self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let id = self.nodes[i].id;
            if let Some(Ok(Some(st))) = self.nodes[i].child.as_mut().map(|c| c.try_wait()) {
                panic!("node {id} exited at start ({st}):\n{}", self.logs());
            }
            if TcpStream::connect(self.nodes[i].nfs).is_ok() {
                return;
            }
            assert!(Instant::now() < deadline, "node {id} did not listen:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill9(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            let text = std::fs::read_to_string(&n.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!(
                "--- node {} ---\n{}\n",
                n.id,
                lines[lines.len().saturating_sub(40)..].join("\n")
            ));
        }
        out
    }

    /// GET /v1/cluster of node `i`, as JSON.
    fn status(&self, i: usize) -> Option<serde_json::Value> {
        let node = &self.nodes[i];
        let token = std::fs::read_to_string(node.data.join("admin-token")).ok()?;
        let mut s = TcpStream::connect_timeout(&node.admin, Duration::from_secs(1)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
        use std::io::{Read, Write};
        let req = format!(
            "GET /v1/cluster HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            token.trim()
        );
        s.write_all(req.as_bytes()).ok()?;
        let mut resp = String::new();
        s.read_to_string(&mut resp).ok()?;
        let body = resp.split_once("\r\n\r\n")?.1;
        serde_json::from_str(body).ok()
    }

    /// The leader as node `i` sees it.
    fn leader_seen_by(&self, i: usize) -> Option<u64> {
        self.status(i)?.get("leader")?.as_u64()
    }

    fn wait_leader(&self, among: &[usize], timeout: Duration) -> Option<u64> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let seen: Vec<Option<u64>> = among.iter().map(|i| self.leader_seen_by(*i)).collect();
            if let Some(Some(l)) = seen.first() {
                if seen.iter().all(|s| *s == Some(*l))
                    && among.iter().any(|i| self.nodes[*i].id == *l)
                {
                    return Some(*l);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for n in &self.nodes {
            let text = std::fs::read_to_string(&n.log).unwrap_or_default();
            out.extend(
                text.lines()
                    .filter(|l| l.contains(" ERROR ") || l.contains("panicked"))
                    .map(|l| format!("node {}: {l}", n.id)),
            );
        }
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(c) = &n.child {
                let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
            }
        }
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let deadline = Instant::now() + Duration::from_secs(20);
                while Instant::now() < deadline && matches!(c.try_wait(), Ok(None)) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        if std::thread::panicking() {
            eprintln!("{}\n(logs in {})", self.logs(), self.dir.path().display());
        }
    }
}

fn pattern(seed: u64, len: usize) -> Vec<u8> {
    (0..len).map(|i| (seed.wrapping_mul(31).wrapping_add(i as u64 * 7) % 251) as u8).collect()
}

fn lookup_path(c: &mut Client, root: &NfsFh3, path: &[&str]) -> NfsFh3 {
    let mut fh = root.clone();
    for p in path {
        fh = c.lookup_ok(&fh, p.as_bytes()).0;
    }
    fh
}

/// Write `data` UNSTABLE in 1 MiB calls, then COMMIT; the verifier must
/// not change between them (no replica restarted).
fn write_and_commit(c: &mut Client, fh: &NfsFh3, data: &[u8]) {
    let mut verf = None;
    for (k, piece) in data.chunks(1 << 20).enumerate() {
        match c.write(fh, (k << 20) as u64, piece, StableHow::Unstable) {
            NfsRes::Ok(r) => {
                assert_eq!(r.count as usize, piece.len());
                assert!(verf.iter().all(|v| *v == r.verf), "verifier changed between writes");
                verf = Some(r.verf);
            }
            NfsRes::Err(s, _) => panic!("WRITE: {s:?}"),
        }
    }
    match c.commit(fh, 0, 0) {
        NfsRes::Ok(r) => assert!(verf.iter().all(|v| *v == r.verf), "verifier changed at COMMIT"),
        NfsRes::Err(s, _) => panic!("COMMIT: {s:?}"),
    }
}

/// DESIGN.md §2–§4: files created and written through node 1 (inline,
/// one chunk, several chunks) are listed and read byte-identical through
/// nodes 2 and 3 (close-to-open: LOOKUP/GETATTR/READDIR wait for a
/// ReadIndex point), and their sizes agree everywhere.
/// The tests of this file start three or four server processes each: run them one at a
/// time, so a 2-core machine is not asked to run eight Raft nodes at once.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn three_nodes_share_the_namespace_and_the_data() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cl = Cluster::start(3);
    let leader = cl.wait_leader(&[0, 1, 2], Duration::from_secs(60));
    assert!(leader.is_some(), "no leader:\n{}", cl.logs());
    let mut c1 = Client::connect(cl.nodes[0].nfs);
    let root = c1.mount("/");
    let dir = c1.mkdir_ok(&root, b"d", 0o755);
    let files: Vec<(String, Vec<u8>)> = [(100usize, 1u64), (10_000, 2), (5 << 20, 3), (0, 4)]
        .iter()
        .map(|(len, seed)| (format!("f{seed}"), pattern(*seed, *len)))
        .collect();
    for (name, data) in &files {
        let fh = c1.create_file(&dir, name.as_bytes(), 0o644);
        if data.len() <= 4096 {
            if !data.is_empty() {
                c1.write_ok(&fh, 0, data);
            }
        } else {
            write_and_commit(&mut c1, &fh, data);
        }
    }
    for i in [1usize, 2] {
        let mut c = Client::connect(cl.nodes[i].nfs);
        let root_i = c.mount("/");
        assert_eq!(root_i, root, "file handles are the same on every node (DESIGN.md §6)");
        let d = lookup_path(&mut c, &root_i, &["d"]);
        let mut names: Vec<String> = c
            .list(&d, 4096)
            .into_iter()
            .map(|(n, _)| String::from_utf8_lossy(&n).to_string())
            .collect();
        names.retain(|n| n != "." && n != "..");
        names.sort();
        let mut want: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        want.sort();
        assert_eq!(names, want, "listing through node {}", i + 1);
        for (name, data) in &files {
            let (fh, attr) = c.lookup_ok(&d, name.as_bytes());
            assert_eq!(attr.size, data.len() as u64, "size of {name} through node {}", i + 1);
            let got = c.read_all(&fh);
            assert!(
                got == *data,
                "{name} differs through node {} ({} vs {} bytes)",
                i + 1,
                got.len(),
                data.len()
            );
        }
    }
    assert!(cl.problems().is_empty(), "errors in the logs: {:?}", cl.problems());
}

/// Raft §5.2, DESIGN.md §4: `kill -9` of the leader while a client creates
/// and writes files through it: the survivors elect a new leader within a
/// few seconds, the loop goes on through a surviving node, every create
/// and every COMMITted byte acknowledged before or after the kill is there
/// (through both survivors), and the killed node, restarted, serves the
/// same namespace and data.
#[test]
fn leader_kill9_during_create_and_write_loses_nothing_acknowledged() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut cl = Cluster::start(3);
    let leader = cl.wait_leader(&[0, 1, 2], Duration::from_secs(60)).expect("a leader");
    let li = (leader - 1) as usize;
    let pid = cl.nodes[li].child.as_ref().expect("running").id();
    let mut target = li;
    let mut c = Client::connect(cl.nodes[target].nfs);
    let root = c.mount("/");
    let mut acked: Vec<(String, Vec<u8>)> = Vec::new();
    let started = Instant::now();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        Instant::now()
    });
    let mut killed_at = None;
    let mut first_ok_after_kill = None;
    let mut i = 0u64;
    let mut after_kill = 0;
    while after_kill < 30 && started.elapsed() < Duration::from_secs(90) {
        let name = format!("k{i}");
        let data = pattern(i + 100, if matches!(i % 3, 0) { 300 } else { 70_000 });
        let attempt = (|| -> std::io::Result<()> {
            let how = CreateHow3::Unchecked(Sattr3 { mode: Some(0o644), ..Default::default() });
            let r: CreateRes = c.try_call(
                PROGRAM,
                VERSION,
                Proc3::Create as u32,
                &CreateArgs { where_: common::dirop(&root, name.as_bytes()), how },
            )?;
            let fh = match r {
                NfsRes::Ok(r) => r.obj.0.expect("handle"),
                NfsRes::Err(s, _) => return Err(std::io::Error::other(format!("CREATE {s:?}"))),
            };
            let w: WriteRes = c.try_call(
                PROGRAM,
                VERSION,
                Proc3::Write as u32,
                &common::write_args(&fh, 0, &data, StableHow::Unstable),
            )?;
            let verf = match w {
                NfsRes::Ok(r) => r.verf,
                NfsRes::Err(s, _) => return Err(std::io::Error::other(format!("WRITE {s:?}"))),
            };
            let r: CommitRes = c.try_call(
                PROGRAM,
                VERSION,
                Proc3::Commit as u32,
                &CommitArgs { file: fh, offset: 0, count: 0 },
            )?;
            match r {
                NfsRes::Ok(r) if r.verf == verf => Ok(()),
                NfsRes::Ok(_) => Err(std::io::Error::other("verifier changed: write again")),
                NfsRes::Err(s, _) => Err(std::io::Error::other(format!("COMMIT {s:?}"))),
            }
        })();
        match attempt {
            Ok(()) => {
                if killer.is_finished() {
                    after_kill += 1;
                    if first_ok_after_kill.is_none() {
                        first_ok_after_kill = Some(Instant::now());
                    }
                }
                acked.push((name, data));
                i += 1;
            }
            Err(e) => {
                // The node died (or answered JUKEBOX): go on through a survivor.
                if killed_at.is_none() {
                    killed_at = Some(Instant::now());
                }
                eprintln!("k{i} through node {}: {e}; switching node", target + 1);
                target = (target + 1) % 3;
                if target == li {
                    target = (target + 1) % 3;
                }
                std::thread::sleep(Duration::from_millis(100));
                if let Ok(nc) = Client::try_connect(cl.nodes[target].nfs) {
                    c = nc;
                }
            }
        }
    }
    let killed = killer.join().expect("killer");
    cl.kill9(li); // reap
    let survivors: Vec<usize> = (0..3).filter(|x| *x != li).collect();
    let new_leader = cl.wait_leader(&survivors, Duration::from_secs(10));
    assert!(
        new_leader.is_some_and(|l| l != leader),
        "no new leader among survivors:\n{}",
        cl.logs()
    );
    assert!(
        after_kill >= 30,
        "the loop did not go on after the kill: {after_kill} acknowledged:\n{}",
        cl.logs()
    );
    assert!(killed_at.is_some(), "the loop never saw the leader die");
    if let Some(t) = first_ok_after_kill {
        eprintln!(
            "measured: leader {leader} killed; first acknowledged create+write+COMMIT after the kill {:?} later; new leader {:?}; {} files acknowledged",
            t.saturating_duration_since(killed),
            new_leader,
            acked.len()
        );
    }
    let check = |cl: &Cluster, i: usize| {
        let mut c = Client::connect(cl.nodes[i].nfs);
        let root = c.mount("/");
        for (name, data) in &acked {
            let (fh, _) = c.lookup_ok(&root, name.as_bytes());
            let got = c.read_all(&fh);
            assert!(
                got == *data,
                "{name} differs through node {} ({} vs {} bytes)",
                i + 1,
                got.len(),
                data.len()
            );
        }
    };
    for i in &survivors {
        check(&cl, *i);
    }
    // The killed node comes back and catches up (Raft log, chunk copies).
    cl.spawn(li);
    cl.wait_listening(li);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = cl.status(li);
        let ok = st.as_ref().is_some_and(|s| s["health"] == "ok" && s["leader"].as_u64().is_some());
        if ok {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "restarted node did not catch up: {st:?}\n{}",
            cl.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    check(&cl, li);
}
