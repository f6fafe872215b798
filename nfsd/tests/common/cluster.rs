//! A cluster of real `cairn` processes on 127.0.0.1 for the cluster tests
//! (`cluster.rs`, `cluster_membership.rs`): founding members started from
//! one generated cluster secret, more members configured to join later, the
//! admin API as JSON, and the NFSv3 helpers those tests share.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Client;
use nfs_proto::nfs3::*;

/// One export of `/` open to loopback clients, no squashing.
pub const EXPORT_ROOT: &str =
    "[[export]]\npath = \"/\"\nclients = [\"127.0.0.0/8\"]\nsquash = \"none\"\ninsecure = true\n";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

pub struct Node {
    pub id: u64,
    pub nfs: SocketAddr,
    pub admin: SocketAddr,
    pub config: PathBuf,
    pub data: PathBuf,
    pub log: PathBuf,
    pub child: Option<Child>,
}

pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub nodes: Vec<Node>,
}

impl Cluster {
    /// `founders` nodes started, `extra` more configured (each listing every
    /// member) but not started; `exports` is the `[[export]]` TOML.
    pub fn start(founders: u64, extra: u64, exports: &str) -> Cluster {
        let dir = tempfile::Builder::new().prefix("cairn-membership-").tempdir().expect("tempdir");
        let secret = dir.path().join("cluster-secret");
        let key: [u8; 32] = rand::random();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let text = format!(
            "cairn-cluster-v1\n{:016x}\n1700000000.000000000\n{hex}\n",
            rand::random::<u64>() | 1
        );
        std::fs::write(&secret, text).expect("secret");
        let n = founders + extra;
        let ports: Vec<[u16; 4]> =
            (0..n).map(|_| [free_port(), free_port(), free_port(), free_port()]).collect();
        let member = |i: usize| {
            let p = ports[i];
            format!(
                "\n[[cluster.member]]\nid = {}\nraft = \"127.0.0.1:{}\"\nreplica = \"127.0.0.1:{}\"\nnfs = \"127.0.0.1:{}\"\nadmin = \"127.0.0.1:{}\"\n",
                i + 1, p[1], p[2], p[0], p[3]
            )
        };
        let founding: String = (0..founders as usize).map(member).collect();
        let mut nodes = Vec::new();
        for (i, p) in ports.iter().enumerate() {
            let id = i as u64 + 1;
            let members = if id <= founders {
                founding.clone()
            } else {
                // A joining node lists the members it contacts and itself.
                let mut m = founding.clone();
                m.push_str(&member(i));
                m
            };
            let data = dir.path().join(format!("node-{id}"));
            let config = dir.path().join(format!("node-{id}.toml"));
            let text = format!(
                "[server]\ndata_dir = {:?}\nlisten = \"127.0.0.1:{}\"\nportmap_port_111 = false\n\n[admin]\nlisten = \"127.0.0.1:{}\"\n\n[cluster]\nnode_id = {id}\nsecret_file = {:?}\ntick_ms = 50\n{members}\n{exports}",
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
        for i in 0..founders as usize {
            c.spawn(i, None);
        }
        for i in 0..founders as usize {
            c.wait_listening(i);
        }
        c
    }

    /// Start node `i`; with `join`, `--join URL` (the node uses the
    /// cluster's admin token, derived from the secret: none is given).
    pub fn spawn(&mut self, i: usize, join: Option<String>) {
        let node = &mut self.nodes[i];
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(&node.log).expect("log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
        cmd.arg("serve")
            .arg("--config")
            .arg(&node.config)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .env_remove("CAIRN_CONFIG")
            .env_remove("CAIRN_DATA_DIR")
            .env_remove("CAIRN_ADMIN_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(url) = join {
            cmd.arg("--join").arg(url);
        }
        node.child = Some(cmd.spawn().expect("spawn cairn"));
    }

    pub fn wait_listening(&mut self, i: usize) {
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

    /// Wait until node `i`'s process exits by itself, and check it exited
    /// with status 0.
    pub fn wait_exited(&mut self, i: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let exited = self.nodes[i].child.as_mut().expect("running").try_wait();
            if let Ok(Some(st)) = exited {
                assert!(st.success(), "node {} exits cleanly: {st}\n{}", i + 1, self.logs());
                break;
            }
            assert!(Instant::now() < deadline, "node {} still runs:\n{}", i + 1, self.logs());
            std::thread::sleep(Duration::from_millis(100));
        }
        self.nodes[i].child = None;
    }

    /// Run the `cairn` binary with `args` (no admin settings from the
    /// environment); returns (success, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(args)
            .env_remove("CAIRN_ADMIN_TOKEN")
            .env_remove("CAIRN_ADMIN_URL")
            .env_remove("CAIRN_CONFIG")
            .env_remove("CAIRN_DATA_DIR")
            .output()
            .expect("run cairn");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    /// The members' ids in node `i`'s /v1/cluster.
    pub fn member_ids(&self, i: usize) -> Vec<u64> {
        let st = self.status(i).unwrap_or_default();
        let m = st["members"].as_array().map(|m| m.as_slice()).unwrap_or_default();
        m.iter().filter_map(|m| m["node_id"].as_u64()).collect()
    }

    pub fn kill9(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn logs(&self) -> String {
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

    pub fn token(&self, i: usize) -> String {
        std::fs::read_to_string(self.nodes[i].data.join("admin-token"))
            .expect("admin token")
            .trim()
            .to_string()
    }

    /// `method path` at node `i`'s admin API: (status, JSON body).
    pub fn admin(&self, i: usize, method: &str, path: &str) -> Option<(u16, serde_json::Value)> {
        let node = &self.nodes[i];
        let token = std::fs::read_to_string(node.data.join("admin-token")).ok()?;
        let mut s = TcpStream::connect_timeout(&node.admin, Duration::from_secs(1)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(40))).ok()?;
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            token.trim()
        );
        s.write_all(req.as_bytes()).ok()?;
        let mut resp = String::new();
        s.read_to_string(&mut resp).ok()?;
        let status = resp.split(' ').nth(1)?.parse().ok()?;
        let body = resp.split_once("\r\n\r\n")?.1;
        Some((status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null)))
    }

    /// GET /v1/cluster of node `i`.
    pub fn status(&self, i: usize) -> Option<serde_json::Value> {
        match self.admin(i, "GET", "/v1/cluster")? {
            (200, v) => Some(v),
            _ => None,
        }
    }

    pub fn wait_leader(&self, among: &[usize], timeout: Duration) -> Option<u64> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let seen: Vec<Option<u64>> =
                among.iter().map(|i| self.status(*i).and_then(|s| s["leader"].as_u64())).collect();
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

    /// Wait until `ok` holds for node `i`'s /v1/cluster.
    pub fn wait_status(
        &self,
        i: usize,
        timeout: Duration,
        what: &str,
        ok: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let st = self.status(i);
            if let Some(s) = st.as_ref().filter(|s| ok(s)) {
                return s.clone();
            }
            assert!(Instant::now() < deadline, "{what} (node {}): {st:?}\n{}", i + 1, self.logs());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `cairn_chunks_repaired_total` of node `i`.
    pub fn repaired(&self, i: usize) -> u64 {
        self.metric(i, "cairn_chunks_repaired_total ")
    }

    /// The value of the `/metrics` series of node `i` whose line starts
    /// with `series` (name, labels and the space), 0 when absent.
    pub fn metric(&self, i: usize, series: &str) -> u64 {
        let mut s = match TcpStream::connect_timeout(&self.nodes[i].admin, Duration::from_secs(1)) {
            Ok(s) => s,
            Err(_) => return 0,
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        text.lines().find_map(|l| l.strip_prefix(series)?.trim().parse().ok()).unwrap_or(0)
    }

    pub fn problems(&self) -> Vec<String> {
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

pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    (0..len).map(|i| (seed.wrapping_mul(31).wrapping_add(i as u64 * 7) % 251) as u8).collect()
}

/// Write `data` UNSTABLE in 1 MiB calls, then COMMIT with the same verifier.
pub fn write_and_commit(c: &mut Client, fh: &NfsFh3, data: &[u8]) {
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

pub fn lookup_path(c: &mut Client, root: &NfsFh3, path: &[&str]) -> NfsFh3 {
    let mut fh = root.clone();
    for p in path {
        fh = c.lookup_ok(&fh, p.as_bytes()).0;
    }
    fh
}
