//! Membership changes of a running cluster, with real `cairn` processes on
//! 127.0.0.1 (random ports) and the NFSv3 wire client of `common`
//! (DESIGN.md §3 placement, §4 membership through Raft).
//!
//! - A 4th node joins (`cairn serve --join URL`) while a reader loops over
//!   20 COMMITted files through node 1; the map grows to 4 members and the
//!   new node serves every file byte-identical. Then an original node is
//!   removed (`DELETE /v1/nodes/{id}` at the leader): the map drops it and
//!   its process exits. The reader never sees wrong bytes and no error
//!   lasts longer than a bounded retry window. After the removal, `kill -9`
//!   of one more original node leaves every file readable through the
//!   survivors (R = 3 copies on 3 nodes).
//! - Per-export replication factor: `replicas = 1` and `replicas = 3`
//!   exports on 3 nodes keep 1 and 3 copies of a file's chunk on disk, and
//!   `GET /v1/exports` says so.
//! - The leader removes itself (`cairn node remove <leader>` asked of the
//!   leader): it hands leadership over, the new leader removes it, it
//!   exits; the two survivors serve every file written before and take new
//!   writes. Every member has the same admin token file.
//! - `cairn node add` and `cairn node remove` as processes: exit status,
//!   the change in `GET /v1/cluster`, and the API's refusals printed.
//!
//! Every wait is bounded.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::cluster::{pattern, write_and_commit, Cluster, EXPORT_ROOT};
use common::Client;
use nfs_proto::nfs3::*;

/// How long the reader may see errors on one file before the test fails.
const RETRY_WINDOW: Duration = Duration::from_secs(10);

/// The whole file, or why not (transport error or NFS status).
fn try_read_all(c: &mut Client, fh: &NfsFh3) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let args = ReadArgs { file: fh.clone(), offset: out.len() as u64, count: 1 << 20 };
        let r: ReadRes =
            c.try_call(PROGRAM, VERSION, Proc3::Read as u32, &args).map_err(|e| e.to_string())?;
        match r {
            NfsRes::Ok(r) => {
                out.extend_from_slice(&r.data);
                if r.eof {
                    return Ok(out);
                }
                if r.data.is_empty() {
                    return Err("READ returned no data without eof".into());
                }
            }
            NfsRes::Err(s, _) => return Err(format!("READ {s:?}")),
        }
    }
}

/// What the background reader saw.
#[derive(Default, Debug)]
struct ReaderReport {
    reads: u64,
    errors: u64,
    /// Longest run of errors on one file.
    longest_error_run: Duration,
    wrong: Vec<String>,
    gave_up: Option<String>,
}

/// Read `files` through `addr` in a loop until `stop`; a read that fails is
/// retried (new connection) for at most [`RETRY_WINDOW`].
fn reader(
    addr: SocketAddr,
    files: Arc<Vec<(String, NfsFh3, Vec<u8>)>>,
    stop: Arc<AtomicBool>,
) -> ReaderReport {
    let mut rep = ReaderReport::default();
    let mut c = Client::connect(addr);
    'outer: while !stop.load(Ordering::Relaxed) {
        for (name, fh, want) in files.iter() {
            let first_error = Instant::now();
            let mut failing = false;
            loop {
                match try_read_all(&mut c, fh) {
                    Ok(got) => {
                        rep.reads += 1;
                        if got != *want {
                            rep.wrong.push(format!(
                                "{name}: {} bytes read, {} expected, first difference at {:?}",
                                got.len(),
                                want.len(),
                                got.iter().zip(want.iter()).position(|(a, b)| a != b)
                            ));
                        }
                        if failing {
                            rep.longest_error_run =
                                rep.longest_error_run.max(first_error.elapsed());
                        }
                        break;
                    }
                    Err(e) => {
                        rep.errors += 1;
                        failing = true;
                        if first_error.elapsed() > RETRY_WINDOW {
                            rep.gave_up = Some(format!("{name}: {e}"));
                            break 'outer;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                        if let Ok(nc) = Client::try_connect(addr) {
                            c = nc;
                        }
                    }
                }
            }
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
    }
    rep
}

fn check_all(c: &mut Client, files: &[(String, NfsFh3, Vec<u8>)], through: &str) {
    for (name, fh, want) in files {
        let got = try_read_all(c, fh).unwrap_or_else(|e| panic!("{name} through {through}: {e}"));
        assert!(
            got == *want,
            "{name} differs through {through} ({} vs {} bytes)",
            got.len(),
            want.len()
        );
    }
}

/// The tests of this file start three or four server processes each: run them one at a
/// time, so a 2-core machine is not asked to run eight Raft nodes at once.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// DESIGN.md §3–§4: a node joins and another leaves a running cluster
/// while a client reads; every file stays readable byte-identical, the new
/// node serves them all, and after the removal any single kill leaves R
/// copies enough to read everything.
#[test]
fn join_then_remove_while_reading_keeps_every_byte() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let mut cl = Cluster::start(3, 1, EXPORT_ROOT);
    let leader = cl.wait_leader(&[0, 1, 2], Duration::from_secs(60)).expect("a leader");
    let v0 = cl.status(0).expect("status")["map_version"].as_u64().expect("map_version");

    // 20 files of 64 KiB to 2 MiB, written and COMMITted through node 1.
    let mut c1 = Client::connect(cl.nodes[0].nfs);
    let root = c1.mount("/");
    let dir = c1.mkdir_ok(&root, b"m", 0o755);
    let mut files = Vec::new();
    for k in 0..20u64 {
        let len = (64 << 10) + (k as usize * ((2 << 20) - (64 << 10)) / 19);
        let data = pattern(k + 1, len);
        let name = format!("f{k:02}");
        let fh = c1.create_file(&dir, name.as_bytes(), 0o644);
        write_and_commit(&mut c1, &fh, &data);
        files.push((name, fh, data));
    }
    let files = Arc::new(files);
    let stop = Arc::new(AtomicBool::new(false));
    let reading = {
        let (files, stop, addr) = (files.clone(), stop.clone(), cl.nodes[0].nfs);
        std::thread::spawn(move || reader(addr, files, stop))
    };

    // Node 4 joins through the leader's admin API.
    let li = (leader - 1) as usize;
    let url = format!("http://{}", cl.nodes[li].admin);
    cl.spawn(3, Some(url));
    cl.wait_listening(3);
    let grown = cl.wait_status(li, Duration::from_secs(40), "node 4 becomes a voter", |s| {
        let m = s["members"].as_array().map(|m| m.as_slice()).unwrap_or_default();
        m.len() == 4
            && s["map_version"].as_u64() > Some(v0)
            && m.iter().any(|m| m["node_id"] == 4 && m["role"] == "follower" && m["health"] == "ok")
    });
    let v1 = grown["map_version"].as_u64().expect("map_version");
    cl.wait_status(3, Duration::from_secs(40), "node 4 caught up", |s| {
        s["health"] == "ok" && s["map_version"].as_u64() == Some(v1)
    });
    let mut c4 = Client::connect(cl.nodes[3].nfs);
    assert_eq!(c4.mount("/"), root, "the same handles on the new node");
    check_all(&mut c4, &files, "node 4 (joined)");
    eprintln!("measured: node 4 joined and served every file after {:?}", started.elapsed());

    // Remove an original node other than node 1 (the reader's) and the leader.
    let leader = cl.wait_leader(&[0, 1, 2, 3], Duration::from_secs(30)).expect("a leader");
    let li = (leader - 1) as usize;
    let victim = if leader == 3 { 1 } else { 2 };
    let (code, body) = cl
        .admin(li, "DELETE", &format!("/v1/nodes/{}", victim + 1))
        .expect("DELETE /v1/nodes/{id}");
    assert_eq!(code, 200, "DELETE: {body}\n{}", cl.logs());
    assert_eq!(body["node_id"], victim as u64 + 1);
    let shrunk = cl.wait_status(li, Duration::from_secs(20), "the map drops the node", |s| {
        let m = s["members"].as_array().map(|m| m.as_slice()).unwrap_or_default();
        m.len() == 3
            && !m.iter().any(|m| m["node_id"] == victim as u64 + 1)
            && s["map_version"].as_u64() > Some(v1)
    });
    cl.wait_exited(victim, Duration::from_secs(20));
    // Repair after the removal: every survivor serves every file.
    let v2 = shrunk["map_version"].as_u64().expect("map_version");
    let survivors: Vec<usize> = [0usize, 1, 2, 3].into_iter().filter(|i| *i != victim).collect();
    for &i in &survivors {
        cl.wait_status(i, Duration::from_secs(20), "survivor took up the map", |s| {
            s["map_version"].as_u64() == Some(v2)
        });
    }
    // Node 4 copies the chunks it newly holds (3 copies on 3 nodes).
    let deadline = Instant::now() + Duration::from_secs(20);
    while cl.repaired(3) == 0 {
        assert!(Instant::now() < deadline, "node 4 repaired nothing:\n{}", cl.logs());
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    let rep = reading.join().expect("reader");
    eprintln!("measured: reader {rep:?}");
    assert!(rep.wrong.is_empty(), "wrong bytes: {:?}", rep.wrong);
    assert!(rep.gave_up.is_none(), "reader gave up: {rep:?}\n{}", cl.logs());
    assert!(rep.reads >= files.len() as u64, "the reader read: {rep:?}");

    // Every file still has a copy on 2 of the 3 nodes: kill one more original.
    let kill = if victim == 1 { 2 } else { 1 };
    cl.kill9(kill);
    for &i in survivors.iter().filter(|i| **i != kill) {
        let mut c = Client::connect(cl.nodes[i].nfs);
        check_all(&mut c, &files, &format!("node {} after kill -9 of node {}", i + 1, kill + 1));
    }
    let all_logs: String =
        cl.nodes.iter().map(|n| std::fs::read_to_string(&n.log).unwrap_or_default()).collect();
    assert!(all_logs.contains("promoted to voter"), "node 4 became a voter");
    assert!(all_logs.contains("removed a node"), "the leader removed the node");
    assert!(all_logs.contains("this node was removed from the cluster"), "node 3 saw it");
    let problems = cl.problems();
    assert!(problems.is_empty(), "errors in the logs: {problems:?}");
    eprintln!("measured: whole test {:?}", started.elapsed());
}

/// Chunk files of inode `ino` under node `i`'s data directory.
fn chunk_files(cl: &Cluster, i: usize, ino: u64) -> usize {
    let dir = cl.nodes[i].data.join("chunks").join(format!("{ino:016x}"));
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".dat"))
                .count()
        })
        .unwrap_or(0)
}

/// `replicas = N` of an `[[export]]`: a file created under an export with
/// `replicas = 1` has its chunk on one node, one under `replicas = 3` on
/// all three, whichever node took the writes.
#[test]
fn per_export_replication_factor() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let exports = "[[export]]\npath = \"/one\"\nclients = [\"127.0.0.0/8\"]\nsquash = \"none\"\ninsecure = true\nreplicas = 1\n\n[[export]]\npath = \"/three\"\nclients = [\"127.0.0.0/8\"]\nsquash = \"none\"\ninsecure = true\nreplicas = 3\n";
    let cl = Cluster::start(3, 0, exports);
    cl.wait_leader(&[0, 1, 2], Duration::from_secs(60)).expect("a leader");
    let (code, listed) = cl.admin(2, "GET", "/v1/exports").expect("GET /v1/exports");
    assert_eq!(code, 200, "{listed}");
    let replicas: Vec<(String, u64)> = listed["exports"]
        .as_array()
        .expect("exports")
        .iter()
        .map(|e| {
            (e["path"].as_str().unwrap_or("?").to_string(), e["replicas"].as_u64().unwrap_or(0))
        })
        .collect();
    assert_eq!(replicas, [("/one".to_string(), 1), ("/three".to_string(), 3)], "{listed}");
    for (export, want) in [("/one", 1usize), ("/three", 3)] {
        for through in [0usize, 1] {
            let mut c = Client::connect(cl.nodes[through].nfs);
            let root = c.mount(export);
            let name = format!("f{through}");
            let fh = c.create_file(&root, name.as_bytes(), 0o644);
            let data = pattern(7 + through as u64, 300 << 10);
            write_and_commit(&mut c, &fh, &data);
            let ino = c.attr(&fh).fileid;
            let copies: Vec<usize> = (0..3).map(|i| chunk_files(&cl, i, ino)).collect();
            assert_eq!(
                copies.iter().filter(|n| **n > 0).count(),
                want,
                "{export}/{name} (inode {ino}) chunk files per node: {copies:?}"
            );
            for i in 0..3 {
                let mut c = Client::connect(cl.nodes[i].nfs);
                let root = c.mount(export);
                let (fh, _) = c.lookup_ok(&root, name.as_bytes());
                let got = c.read_all(&fh);
                assert!(
                    got == data,
                    "{export}/{name} (inode {ino}, copies {copies:?}) through node {}: {} bytes, first difference at {:?}",
                    i + 1,
                    got.len(),
                    got.iter().zip(data.iter()).position(|(a, b)| a != b)
                );
            }
        }
    }
    let problems = cl.problems();
    assert!(problems.is_empty(), "errors in the logs: {problems:?}");
}

/// The node to remove is the leader and is the node asked, through the
/// CLI: it hands leadership to another voter, which removes it; the
/// process exits, the two survivors agree on a leader, serve every file
/// written before byte-identical and take new writes. Then a follower
/// asked to remove itself does so.
#[test]
fn the_leader_removes_itself_through_the_cli() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let mut cl = Cluster::start(3, 0, EXPORT_ROOT);
    let leader = cl.wait_leader(&[0, 1, 2], Duration::from_secs(60)).expect("a leader");
    let li = (leader - 1) as usize;
    // One admin token for the whole cluster, private to the server's user.
    let token = cl.token(0);
    assert!(token.len() == 64 && (1..3).all(|i| cl.token(i) == token), "one token");
    for n in &cl.nodes {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(n.data.join("admin-token")).expect("token").permissions();
        assert_eq!(mode.mode() & 0o777, 0o600, "node {}", n.id);
    }

    // Files written through the leader and through a follower.
    let mut files = Vec::new();
    let mut root = None;
    for (k, through) in [li, (li + 1) % 3].into_iter().enumerate() {
        let mut c = Client::connect(cl.nodes[through].nfs);
        let r = c.mount("/");
        for j in 0..3u64 {
            let data = pattern(100 + 10 * k as u64 + j, (96 << 10) * (j as usize + 1));
            let name = format!("n{}-{j}", through + 1);
            let fh = c.create_file(&r, name.as_bytes(), 0o644);
            write_and_commit(&mut c, &fh, &data);
            files.push((name, fh, data));
        }
        root = Some(r);
    }
    let root = root.expect("mounted");

    let admin = format!("http://{}", cl.nodes[li].admin);
    let data_dir = cl.nodes[li].data.display().to_string();
    let id = leader.to_string();
    let (ok, stdout, stderr) =
        cl.cli(&["node", "remove", &id, "--admin", &admin, "--data-dir", &data_dir]);
    assert!(ok, "cairn node remove {leader}: {stdout}{stderr}\n{}", cl.logs());
    assert!(stdout.contains(&format!("node {leader} removed")), "{stdout}");
    cl.wait_exited(li, Duration::from_secs(20));

    let survivors: Vec<usize> = (0..3).filter(|i| *i != li).collect();
    let new_leader =
        cl.wait_leader(&survivors, Duration::from_secs(30)).expect("the survivors agree");
    assert_ne!(new_leader, leader);
    for &i in &survivors {
        cl.wait_status(i, Duration::from_secs(20), "two members left", |s| {
            let m = s["members"].as_array().map(|m| m.len());
            m == Some(2) && s["health"] == "ok"
        });
        assert!(!cl.member_ids(i).contains(&leader));
    }
    for &i in &survivors {
        let mut c = Client::connect(cl.nodes[i].nfs);
        assert_eq!(c.mount("/"), root);
        check_all(&mut c, &files, &format!("node {} after the leader left", i + 1));
    }
    // New writes through each survivor, read back through the other.
    for (k, &i) in survivors.iter().enumerate() {
        let mut c = Client::connect(cl.nodes[i].nfs);
        let data = pattern(200 + k as u64, 300 << 10);
        let name = format!("after-{}", i + 1);
        let fh = c.create_file(&root, name.as_bytes(), 0o644);
        write_and_commit(&mut c, &fh, &data);
        let other = survivors[1 - k];
        let mut c = Client::connect(cl.nodes[other].nfs);
        let (fh, _) = c.lookup_ok(&root, name.as_bytes());
        assert!(c.read_all(&fh) == data, "{name} through node {}", other + 1);
    }
    let logs = std::fs::read_to_string(&cl.nodes[li].log).unwrap_or_default();
    assert!(logs.contains("handing leadership over before leaving"), "{}", cl.logs());

    // A follower asked to remove itself forwards to the leader, answers,
    // then exits; the last member serves everything.
    let fi = *survivors.iter().find(|i| cl.nodes[**i].id != new_leader).expect("a follower");
    let (code, body) = cl.admin(fi, "DELETE", &format!("/v1/nodes/{}", fi + 1)).expect("DELETE");
    assert_eq!(code, 200, "{body}\n{}", cl.logs());
    cl.wait_exited(fi, Duration::from_secs(20));
    let last = (new_leader - 1) as usize;
    assert_eq!(cl.member_ids(last), [new_leader]);
    let mut c = Client::connect(cl.nodes[last].nfs);
    check_all(&mut c, &files, "the last member");
    let problems = cl.problems();
    assert!(problems.is_empty(), "errors in the logs: {problems:?}");
    eprintln!("measured: whole test {:?}", started.elapsed());
}

/// `cairn node add` and `cairn node remove` as a user runs them against a
/// one-node cluster: the change shows in `GET /v1/cluster`, and what the
/// API refuses (the last voter, an unknown node, an id used before) makes
/// the command fail with the reason.
#[test]
fn cli_adds_and_removes_a_node() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cl = Cluster::start(1, 0, EXPORT_ROOT);
    cl.wait_leader(&[0], Duration::from_secs(60)).expect("a leader");
    let v0 = cl.status(0).expect("status")["map_version"].as_u64().expect("map_version");
    let exported = |cl: &Cluster| {
        let (code, v) = cl.admin(0, "GET", "/v1/exports").expect("GET /v1/exports");
        assert_eq!(code, 200, "{v}");
        v["exports"][0]["replicas"].as_u64()
    };
    assert_eq!(exported(&cl), Some(1), "one member: one copy");
    let admin = format!("http://{}", cl.nodes[0].admin);
    let data = cl.nodes[0].data.display().to_string();
    let conn = ["--admin", admin.as_str(), "--data-dir", data.as_str()];
    let port = |p: u16| format!("127.0.0.1:{p}");
    let (raft, replica, nfs) =
        (port(common::cluster::free_port()), port(common::cluster::free_port()), port(1));
    let add: Vec<&str> = ["node", "add", "--id", "2", "--raft", &raft, "--replica", &replica]
        .into_iter()
        .chain(["--nfs", &nfs, "--admin-address", "127.0.0.1:2"])
        .chain(conn)
        .collect();
    let (ok, stdout, stderr) = cl.cli(&add);
    assert!(ok, "node add: {stdout}{stderr}\n{}", cl.logs());
    assert!(stdout.contains("node 2 added"), "{stdout}");
    let st = cl.wait_status(0, Duration::from_secs(10), "node 2 listed", |s| {
        s["members"].as_array().is_some_and(|m| m.len() == 2)
    });
    let two = st["members"].as_array().and_then(|m| m.iter().find(|m| m["node_id"] == 2));
    let two = two.expect("node 2");
    assert_eq!(
        (two["role"].as_str(), two["nfs_address"].as_str(), two["admin_address"].as_str()),
        (Some("learner"), Some(nfs.as_str()), Some("127.0.0.1:2"))
    );
    assert!(st["map_version"].as_u64() > Some(v0));
    assert_eq!(exported(&cl), Some(2), "two members: two copies");

    let remove = |id: &str| {
        let args: Vec<&str> = ["node", "remove", id].into_iter().chain(conn).collect();
        cl.cli(&args)
    };
    let (ok, _, stderr) = remove("1");
    assert!(!ok, "removing the last voter must fail");
    assert!(stderr.contains("409") && stderr.contains("node 1 is the last voter"), "{stderr}");
    let (ok, _, stderr) = remove("9");
    assert!(!ok && stderr.contains("404") && stderr.contains("node 9 is not a member"), "{stderr}");

    let (ok, stdout, stderr) = remove("2");
    assert!(ok, "node remove 2: {stdout}{stderr}\n{}", cl.logs());
    assert!(stdout.contains("node 2 removed"), "{stdout}");
    assert_eq!(cl.member_ids(0), [1]);
    let (ok, _, stderr) = cl.cli(&add);
    assert!(!ok && stderr.contains("node id 2 is or was in use"), "{stderr}");
    let problems = cl.problems();
    assert!(problems.is_empty(), "errors in the logs: {problems:?}");
}
