//! NFSv4 byte-range locks across the nodes of a cluster (three real
//! `cairn` processes, a 5-second lease): a lock taken through one node
//! conflicts with a LOCK or LOCKT through another, LOCKU releases it
//! there, and the locks of a node killed with `kill -9` go to the other
//! nodes' clients after about a lease, as on a single server whose
//! clients' leases ran out. Every wait is bounded.

mod common;

use std::time::{Duration, Instant};

use common::cluster::{Cluster, EXPORT_ROOT};
use common::nfs4::*;
use nfs_proto::nfs4::*;

const LEASE_SECS: u64 = 5;

/// A 4.1 client of node `i` with the file `name` open for reading and
/// writing: the client, its open stateid and the file's handle.
fn client_with_open(cl: &Cluster, i: usize, id: &str, name: &str) -> (V4Client, Stateid4, NfsFh4) {
    let mut c = V4Client::connect(cl.nodes[i].nfs);
    c.session41(id.as_bytes());
    let open = open_create(0, owner(c.clientid, "open"), name, OPEN4_SHARE_ACCESS_BOTH, 0, 0o666);
    let (ok, fh) = c.open41(&[], open);
    (c, ok.stateid, fh)
}

/// LOCK (write) of `offset`/`length` by a lock-owner new to the server.
fn lock(c: &mut V4Client, fh: &NfsFh4, open: Stateid4, who: &str, offset: u64) -> CompoundRes {
    let o = owner(c.clientid, who);
    c.seq(vec![putfh(fh), lock_new(NfsLockType4::Write, offset, 100, open, o)])
}

fn lock_stateid(r: &CompoundRes) -> Stateid4 {
    pick(r, "LOCK", |o| match o {
        ResOp::Lock(LockRes::Ok(ok)) => Some(ok.lock_stateid),
        _ => None,
    })
}

/// RFC 8881 §18.10/§18.11 across nodes: client A (node 1) holds bytes
/// 0-99; client B (node 2) is denied LOCK and LOCKT on 50-149 with A's
/// range, type and owner; after A's LOCKU B gets it. Then A locks again
/// and node 1 is killed: B is still denied at first and gets the lock once
/// the dead node's locks are released, about a lease later (RFC 8881
/// §8.3: a client's locks last as long as its lease).
#[test]
fn locks_conflict_across_nodes_and_a_dead_nodes_locks_go_after_a_lease() {
    let config = format!("[nfs4]\nlease_secs = {LEASE_SECS}\n\n{EXPORT_ROOT}");
    let mut cl = Cluster::start(3, 0, &config);
    cl.wait_leader(&[0, 1, 2], Duration::from_secs(60)).expect("a leader");
    let (mut a, a_open, fh) = client_with_open(&cl, 0, "client-a", "db");
    let (mut b, b_open, fh_b) = client_with_open(&cl, 1, "client-b", "db");
    assert_eq!(fh, fh_b, "both nodes hand out the same handle");
    let a_id = a.clientid;

    let la = lock_stateid(&{
        let r = lock(&mut a, &fh, a_open, "lock-a", 0);
        ok(&r, "A's LOCK through node 1");
        r
    });
    let holder = |d: &LockDenied4| {
        assert_eq!((d.offset, d.length, d.locktype), (0, 100, NfsLockType4::Write), "{d:?}");
        assert_eq!(d.owner, owner(a_id, "lock-a"), "A's lock-owner: {d:?}");
    };
    let r = lock(&mut b, &fh, b_open, "lock-b", 50);
    match last(&r) {
        ResOp::Lock(LockRes::Denied(d)) => holder(d),
        _ => panic!("B's LOCK through node 2 while A holds the range: {}", describe(&r)),
    }
    let r = b.seq(vec![putfh(&fh), lockt(NfsLockType4::Write, 50, 100, owner(b.clientid, "x"))]);
    match last(&r) {
        ResOp::Lockt(LocktRes::Denied(d)) => holder(d),
        _ => panic!("B's LOCKT through node 2: {}", describe(&r)),
    }
    // Past A's range nothing is in the way.
    b.seq_ok(vec![putfh(&fh), lockt(NfsLockType4::Write, 100, 100, owner(b.clientid, "x"))]);

    a.seq_ok(vec![putfh(&fh), locku(NfsLockType4::Write, la, 0, 100)]);
    let r = lock(&mut b, &fh, b_open, "lock-b", 50);
    ok(&r, "B's LOCK after A's LOCKU");
    b.seq_ok(vec![putfh(&fh), locku(NfsLockType4::Write, lock_stateid(&r), 50, 100)]);

    ok(&lock(&mut a, &fh, a_open, "lock-a", 0), "A's second LOCK");
    cl.kill9(0);
    let killed = Instant::now();
    let deadline = killed + Duration::from_secs(LEASE_SECS * 8);
    let mut denied_first = false;
    let granted_after = loop {
        assert!(Instant::now() < deadline, "B never got the dead node's range:\n{}", cl.logs());
        let r = lock(&mut b, &fh, b_open, "lock-b2", 50);
        match last(&r) {
            ResOp::Lock(LockRes::Ok(_)) => break killed.elapsed(),
            ResOp::Lock(LockRes::Denied(d)) => {
                holder(d);
                denied_first = true;
            }
            // an election after the kill
            ResOp::Lock(LockRes::Err(Nfsstat4::Delay)) => {}
            _ => panic!("B's LOCK after node 1 died: {}", describe(&r)),
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    eprintln!("B got the dead node's range {granted_after:?} after the kill");
    assert!(denied_first, "the dead node's lock still held at first");
    assert!(
        granted_after >= Duration::from_secs(LEASE_SECS - 1),
        "granted {granted_after:?} after the kill, before a lease ran out"
    );
    let problems = cl.problems();
    assert!(problems.is_empty(), "{problems:?}");
}
