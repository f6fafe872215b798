//! Leases (RFC 7530 §9.5, §9.6.3; RFC 8881 §8.3), reaping, courtesy,
//! restarts and the grace period (RFC 7530 §9.6.2; RFC 8881 §8.4.2,
//! §8.4.3, §18.51).

use super::*;

const O1: &[u8] = b"owner1";

fn v40() -> Caller {
    Caller::v40()
}

fn reclaim40(
    h: &mut H,
    c: ClientId,
    owner: &[u8],
    seqid: u32,
    f: FileKey,
) -> Result<OpenOk, StateError> {
    let args = OpenArgs { access: 3, deny: 0, claim: OpenClaim::Previous };
    h.with_owner(v40(), c, owner, seqid, |m, t, now| m.open(t, &args, f, now)).expect("no replay")
}

fn reclaim41(h: &mut H, c: ClientId, owner: &[u8], f: FileKey) -> Result<OpenOk, StateError> {
    let args = OpenArgs { access: 3, deny: 0, claim: OpenClaim::Previous };
    h.with_owner(Caller::v41(c), c, owner, 0, |m, t, now| m.open(t, &args, f, now))
        .expect("no replay")
}

// ----- leases -----

/// A client silent for a lease loses its open to a conflicting OPEN of
/// another client (LOCK13, COUR3); afterwards its CLOSE and RENEW are
/// EXPIRED (CLOSE8, RENEW3), and the file's last close is reported.
#[test]
fn expired_client_loses_to_conflict() {
    let mut h = H::new();
    let c1 = h.client40(b"one");
    let sid = h.open40(c1, O1, 1, file(1), 3, 3).expect("open deny both");
    h.advance(LEASE);
    let c2 = h.client40(b"two");
    h.open40(c2, O1, 1, file(1), 1, 0).expect("conflicting open wins");
    assert_eq!(h.close(v40(), sid, 3, file(1)), Err(StateError::Expired));
    assert_eq!(h.m.renew(c1, h.now), Err(StateError::Expired));
    h.m.check_invariants();
}

/// Locks of a client past its lease yield to a conflicting LOCK (LOCK13,
/// COUR2); its later LOCKU is EXPIRED (LKU10).
#[test]
fn expired_client_loses_locks() {
    let mut h = H::new();
    let (a, _) = h.client41(b"a");
    let (b, sb) = h.client41(b"b");
    let oa = h.open41(a, b"oa", file(1), 3, 0).expect("open").stateid;
    let ob = h.open41(b, b"ob", file(1), 3, 0).expect("open").stateid;
    let la = h
        .lock_new(Caller::v41(a), oa, 0, b"la", file(1), LockType::Write, 0, u64::MAX)
        .expect("lock");
    for i in 1..=3 {
        h.advance(LEASE / 2);
        match h.seq(sb, 0, i, false) {
            Ok(SequenceOutcome::Execute(ok)) => h.m.sequence_done(ok.ticket, None),
            other => panic!("{other:?}"),
        }
    }
    assert!(h.lock_new(Caller::v41(b), ob, 0, b"lb", file(1), LockType::Read, 0, 1).is_ok());
    assert_eq!(h.unlock(v40(), la, 1, file(1), 0, 1), Err(StateError::Expired));
}

/// reap releases clients past their lease with their opens, locks and
/// sessions, drops unconfirmed records, and reports them; remembered
/// expired clients answer EXPIRED until forgotten, then STALE_CLIENTID /
/// BAD_STATEID.
#[test]
fn reap_releases_and_forgets() {
    let mut cfg = config(100);
    cfg.limits.expired_clients_kept_max = 1;
    let mut h = H::with(cfg, MemClientRecords::new());
    let c1 = h.client40(b"one");
    let sid = h.open40(c1, O1, 1, file(1), 3, 0).expect("open");
    let (c2, s2) = h.client41(b"two");
    h.open41(c2, O1, file(2), 1, 0).expect("open");
    h.m.setclientid(b"three", [1; 8], &sys(0), h.now).expect("unconfirmed");
    h.advance(LEASE / 2);
    assert_eq!(h.m.reap(h.now), ReapReport::default());
    h.advance(LEASE / 2);
    let r = h.m.reap(h.now);
    assert_eq!(r.expired_clients, vec![c1, c2]);
    assert_eq!(r.unconfirmed_dropped, 1);
    assert!(h.m.open_files().is_empty());
    assert_eq!(h.m.take_closed_files(), vec![file(1), file(2)]);
    assert!(matches!(h.seq(s2, 0, 1, false), Err(StateError::BadSession)));
    // Only the last expired client is remembered.
    assert_eq!(h.m.renew(c1, h.now), Err(StateError::StaleClientid));
    assert_eq!(
        h.m.check_io(v40(), &sid, file(1), IoKind::Read, h.now),
        Err(StateError::BadStateid)
    );
    h.m.check_invariants();
}

/// Using a stateid renews the lease (RFC 7530 §9.5): a client that only
/// READs never expires.
#[test]
fn stateid_use_renews() {
    let mut h = H::new();
    let c = h.client40(b"one");
    let sid = h.open40(c, O1, 1, file(1), 3, 0).expect("open");
    for _ in 0..6 {
        h.advance(LEASE / 2);
        assert!(h.m.check_io(v40(), &sid, file(1), IoKind::Read, h.now).is_ok());
        assert!(h.m.reap(h.now).expired_clients.is_empty());
    }
}

/// With courtesy, a client past its lease keeps its state until somebody
/// conflicts (COUR1: its own later use just works) or the courtesy runs
/// out.
#[test]
fn courtesy_keeps_state_until_conflict() {
    let mut cfg = config(100);
    cfg.courtesy = LEASE * 10;
    let mut h = H::with(cfg, MemClientRecords::new());
    let (a, _) = h.client41(b"a");
    let oa = h.open41(a, O1, file(1), 3, 2).expect("open deny write").stateid;
    h.advance(LEASE * 2);
    assert!(h.m.reap(h.now).expired_clients.is_empty());
    assert!(h.m.check_io(Caller::v41(a), &oa, file(1), IoKind::Write, h.now).is_ok(), "revived");
    h.advance(LEASE * 2);
    let (b, _) = h.client41(b"b");
    assert!(h.open41(b, O1, file(1), 2, 0).is_ok(), "conflict revokes the courtesy client");
    assert_eq!(
        h.m.check_io(Caller::v41(a), &oa, file(1), IoKind::Write, h.now),
        Err(StateError::Expired)
    );
    h.advance(LEASE * 11);
    assert_eq!(h.m.reap(h.now).expired_clients, vec![b]);
}

/// A 4.0 owner without state unused for a lease is forgotten; the client
/// then starts it afresh with any seqid (RFC 7530 §9.1.8).
#[test]
fn idle_owner_forgotten() {
    let mut h = H::new();
    let c = h.client40(b"one");
    let sid = h.open40(c, O1, 1, file(1), 3, 0).expect("open");
    h.close(v40(), sid, 3, file(1)).expect("close");
    h.advance(LEASE / 2);
    h.m.renew(c, h.now).expect("renew");
    h.advance(LEASE / 2);
    h.m.renew(c, h.now).expect("renew");
    assert_eq!(h.m.reap(h.now).owners_dropped, 1);
    assert!(h.open40(c, O1, 77, file(1), 1, 0).is_ok());
}

// ----- restarts and grace -----

/// A fresh server without earlier clients is not in grace: new opens
/// work, reclaims are NO_GRACE (OPEN16).
#[test]
fn no_grace_without_previous_clients() {
    let mut h = H::new();
    assert!(!h.m.in_grace(h.now));
    let c = h.client40(b"one");
    assert_eq!(reclaim40(&mut h, c, O1, 1, file(1)), Err(StateError::NoGrace));
    assert!(h.open40(c, O1, 2, file(1), 3, 0).is_ok());
}

/// After a restart (new boot instance, same records) every old ID is
/// stale, not bad: client IDs STALE_CLIENTID (REBT1, RENEW after reboot),
/// stateids STALE_STATEID, sessions BADSESSION.
#[test]
fn restart_makes_ids_stale() {
    let mut h = H::new();
    let c = h.client40(b"one");
    let sid = h.open40(c, O1, 1, file(1), 3, 0).expect("open");
    let (c41, s41) = h.client41(b"two");
    let mut h = h.restart(200);
    assert_eq!(h.m.renew(c, h.now), Err(StateError::StaleClientid));
    assert_eq!(
        h.m.check_io(v40(), &sid, file(1), IoKind::Read, h.now),
        Err(StateError::StaleStateid)
    );
    assert!(matches!(h.m.stateid_begin(v40(), &sid, 3, h.now), Err(StateError::StaleStateid)));
    assert!(matches!(h.seq(s41, 0, 1, false), Err(StateError::BadSession)));
    let cs =
        CreateSessionArgs { client: c41, sequence: 2, flags: 0, fore: attrs(8), back: attrs(1) };
    assert_eq!(h.m.create_session(&cs, &sys(0), h.conn, h.now), Err(StateError::StaleClientid));
    assert!(matches!(h.m.open_owner_begin(v40(), c, O1, 3, h.now), Err(StateError::StaleClientid)));
}

/// 4.0 grace (RFC 7530 §9.6.2): a recorded client re-establishes and
/// reclaims (REBT1); new opens are GRACE and still consume the seqid
/// (REBT11); an unrecorded client's reclaim is RECLAIM_BAD (REBT2); after
/// the grace period reclaims are NO_GRACE (REBT3) and new opens work.
#[test]
fn grace_v40() {
    let mut h = H::new();
    let c = h.client40(b"one");
    h.open40(c, O1, 1, file(1), 3, 0).expect("open");
    h.client40(b"never-opened");
    assert_eq!(h.recs.snapshot().len(), 1, "recorded at its first confirmed open");
    let mut h = h.restart(200);
    assert!(h.m.in_grace(h.now));
    let c = h.client40(b"one");
    let r = reclaim40(&mut h, c, O1, 1, file(1)).expect("reclaim");
    assert!(!r.confirm_required, "a reclaim needs no OPEN_CONFIRM");
    assert_eq!(h.open(v40(), c, O1, 2, file(2), 3, 0), Err(StateError::Grace));
    assert!(
        h.with_owner(v40(), c, O1, 2, |_, _, _| Ok::<(), StateError>(())).is_err(),
        "GRACE was cached"
    );
    let other = h.client40(b"stranger");
    assert_eq!(reclaim40(&mut h, other, O1, 1, file(3)), Err(StateError::ReclaimBad));
    for _ in 0..2 {
        h.advance(LEASE / 2 + Duration::from_secs(1));
        h.m.renew(c, h.now).expect("renew");
    }
    assert!(!h.m.in_grace(h.now));
    assert_eq!(reclaim40(&mut h, c, O1, 3, file(4)), Err(StateError::NoGrace));
    assert!(h.open(v40(), c, O1, 4, file(2), 3, 0).is_ok());
}

/// 4.1 grace (RFC 8881 §8.4.2, §18.51.3): reclaims before RECLAIM_COMPLETE
/// only, SEQUENCE flags RESTART_RECLAIM_NEEDED meanwhile, a second
/// RECLAIM_COMPLETE is COMPLETE_ALREADY, a reclaim after it NO_GRACE
/// (RECC2, REBT4a); when every previous client has completed, grace
/// ends early (REBT2a).
#[test]
fn grace_v41_early_end() {
    let mut h = H::new();
    let (a, _) = h.client41(b"a");
    h.open41(a, O1, file(1), 3, 0).expect("open");
    h.client41(b"b");
    assert_eq!(h.recs.snapshot().len(), 2, "recorded at RECLAIM_COMPLETE");
    let mut h = h.restart(200);
    let (a, sa) = h.client41_no_rc(b"a");
    match h.seq(sa, 0, 1, false) {
        Ok(SequenceOutcome::Execute(ok)) => {
            assert_eq!(ok.status_flags, SEQ4_STATUS_RESTART_RECLAIM_NEEDED);
            h.m.sequence_done(ok.ticket, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.open41(a, O1, file(9), 3, 0), Err(StateError::Grace));
    reclaim41(&mut h, a, O1, file(1)).expect("reclaim");
    h.m.reclaim_complete(a, true, h.now).expect("one_fs is ignored");
    h.m.reclaim_complete(a, false, h.now).expect("complete");
    assert_eq!(h.m.reclaim_complete(a, false, h.now), Err(StateError::CompleteAlready));
    assert_eq!(reclaim41(&mut h, a, O1, file(2)), Err(StateError::NoGrace));
    assert_eq!(h.open41(a, O1, file(9), 3, 0), Err(StateError::Grace), "b has not come back");
    assert!(h.m.in_grace(h.now));
    let (b, _) = h.client41_no_rc(b"b");
    h.m.reclaim_complete(b, false, h.now).expect("complete");
    assert!(!h.m.in_grace(h.now), "grace ended early");
    assert!(h.open41(a, O1, file(9), 3, 0).is_ok());
}

/// A new 4.1 client must send RECLAIM_COMPLETE before taking new state,
/// grace period or not (RECC3, RFC 8881 §18.51.3).
#[test]
fn open_before_reclaim_complete_is_grace() {
    let mut h = H::new();
    let (a, _) = h.client41_no_rc(b"a");
    assert_eq!(h.open41(a, O1, file(1), 3, 0), Err(StateError::Grace));
    h.m.reclaim_complete(a, false, h.now).expect("complete");
    assert!(h.open41(a, O1, file(1), 3, 0).is_ok());
}

/// Records: a destroyed or expired client is forgotten; previous clients
/// that do not come back are forgotten when grace ends (REBT5, REBT6
/// edge conditions), but a second restart during grace keeps them
/// (REBT3a).
#[test]
fn records_lifecycle() {
    let mut h = H::new();
    for name in [&b"a"[..], b"b", b"c"] {
        let (c, s) = h.client41(name);
        if name == b"c" {
            h.m.destroy_session(s, h.conn, None, h.now).expect("destroy session");
            h.m.destroy_clientid(c, h.now).expect("destroy client");
        }
    }
    assert_eq!(h.recs.snapshot(), [b"a".to_vec(), b"b".to_vec()].into_iter().collect());
    let h = h.restart(200);
    let mut h = h.restart(300);
    assert!(h.m.in_grace(h.now));
    let (a, sa) = h.client41_no_rc(b"a");
    h.m.reclaim_complete(a, false, h.now).expect("complete");
    h.advance(LEASE / 2 + Duration::from_secs(1));
    h.ping(sa);
    h.advance(LEASE / 2 + Duration::from_secs(1));
    assert!(h.m.reap(h.now).grace_ended);
    assert_eq!(h.recs.snapshot(), [b"a".to_vec()].into_iter().collect(), "b did not come back");
    h.advance(LEASE);
    assert_eq!(h.m.reap(h.now).expired_clients, vec![a]);
    assert!(h.recs.snapshot().is_empty(), "an expired client is forgotten");
}

/// A client still reclaiming keeps the grace period open past its nominal
/// end, up to twice its length (pynfs 4.1 REBT5).
#[test]
fn grace_extends_while_reclaiming() {
    let mut h = H::new();
    let (a, _) = h.client41(b"a");
    for i in 0..20u64 {
        h.open41(a, O1, file(i), 3, 0).expect("open");
    }
    let mut h = h.restart(200);
    h.advance(LEASE - Duration::from_secs(1));
    let (a, _) = h.client41_no_rc(b"a");
    for i in 0..20u64 {
        reclaim41(&mut h, a, O1, file(i)).unwrap_or_else(|e| panic!("reclaim {i}: {e:?}"));
        h.advance(Duration::from_millis(250));
    }
    assert!(h.m.in_grace(h.now));
    h.advance(Duration::from_secs(2));
    assert!(!h.m.in_grace(h.now));
}

/// LOCK reclaims follow the same rules (RFC 7530 §16.10.5): reclaim in
/// grace is fine, a new LOCK is GRACE, LOCKT too (as Linux).
#[test]
fn lock_reclaim_in_grace() {
    let mut h = H::new();
    let c = h.client40(b"one");
    h.open40(c, O1, 1, file(1), 3, 0).expect("open");
    let mut h = h.restart(200);
    let c = h.client40(b"one");
    let o = reclaim40(&mut h, c, O1, 1, file(1)).expect("reclaim").stateid;
    let mut args = LockArgs {
        file: file(1),
        lock_type: LockType::Write,
        blocking: false,
        reclaim: false,
        offset: 0,
        length: 10,
        locker: Locker::New {
            open_stateid: o,
            lock_owner_client: c,
            lock_owner: b"l".to_vec(),
            lock_seqid: 0,
        },
    };
    let r = h.with_sid(v40(), o, 2, |m, t, now| m.lock(t, &args, now));
    assert_eq!(r, Ok(Err(StateError::Grace)));
    args.reclaim = true;
    let r = h.with_sid(v40(), o, 3, |m, t, now| m.lock(t, &args, now));
    assert!(matches!(r, Ok(Ok(_))));
    assert_eq!(
        h.m.lockt(v40(), c, b"x", file(1), LockType::Read, 0, 1, h.now),
        Err(StateError::Grace)
    );
}
