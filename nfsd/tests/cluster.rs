//! Three real `cairn` processes in cluster mode on 127.0.0.1 (random
//! ports): the namespace agreed through Raft, file data replicated
//! (DESIGN.md §2–§4). Checked over the wire with the NFSv3 client of
//! `common`: what one node writes the others list and read byte for byte;
//! `kill -9` of the Raft leader during a create-and-write loop elects a new
//! leader, loses no acknowledged create and no COMMITted byte, and the
//! killed node catches up after its restart. Every wait is bounded.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::cluster::{lookup_path, pattern, write_and_commit, Cluster, EXPORT_ROOT};
use common::Client;
use nfs_proto::nfs3::*;

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
    let cl = Cluster::start(3, 0, EXPORT_ROOT);
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
    // Healthy: the start-up resync is over, so each node reads its own copy
    // (checked through the metrics below).
    for i in 0..3 {
        cl.wait_status(i, Duration::from_secs(60), "healthy", |s| s["health"] == "ok");
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
    // The data plane's counters: node 1 wrote every chunked file (10,000 B
    // and 5 MiB; the others are inline); with R = 3 on 3 nodes every node
    // holds every chunk, so nodes 2 and 3 read their own copies.
    let chunked = (10_000 + (5 << 20)) as u64;
    assert!(cl.metric(0, "cairn_chunk_writes_total ") >= 3, "chunk writes on node 1");
    assert_eq!(cl.metric(0, "cairn_chunk_write_bytes_total "), chunked, "bytes written on node 1");
    for i in [1usize, 2] {
        assert!(
            cl.metric(i, "cairn_chunk_reads_total{source=\"local\"} ") > 0,
            "node {} read no local copy",
            i + 1
        );
        assert_eq!(
            cl.metric(i, "cairn_chunk_reads_total{source=\"remote\"} "),
            0,
            "node {} read a peer's copy though it holds one",
            i + 1
        );
        assert_eq!(cl.metric(i, "cairn_chunk_read_bytes_total "), chunked, "node {}", i + 1);
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
    let mut cl = Cluster::start(3, 0, EXPORT_ROOT);
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
    cl.spawn(li, None);
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
