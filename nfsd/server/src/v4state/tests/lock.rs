//! LOCK, LOCKT, LOCKU, RELEASE_LOCKOWNER (RFC 7530 §16.10-§16.12,
//! §16.37), POSIX merge/split within an owner, fairness for blocking
//! waiters, and a randomized comparison against a naive per-byte model.

use super::*;

const MAX: u64 = u64::MAX;

fn v40() -> Caller {
    Caller::v40()
}

fn denied(r: Result<StateId, StateError>) -> LockDenied {
    match r {
        Err(StateError::Denied(d)) => d,
        other => panic!("expected DENIED, got {other:?}"),
    }
}

/// Two 4.1 clients, each with an open of file 1 for reading and writing.
fn two_opens(h: &mut H) -> ((ClientId, StateId), (ClientId, StateId)) {
    let (a, _) = h.client41(b"a");
    let (b, _) = h.client41(b"b");
    let oa = h.open41(a, b"oa", file(1), 3, 0).expect("open a").stateid;
    let ob = h.open41(b, b"ob", file(1), 3, 0).expect("open b").stateid;
    ((a, oa), (b, ob))
}

/// READ is compatible with READ, WRITE with nothing; DENIED names one
/// conflicting lock with its range, type and owner; a to-EOF range
/// reports length all-ones (RFC 7530 §16.10.5; LOCK14-17).
#[test]
fn conflicts_between_owners() {
    let mut h = H::new();
    let ((a, oa), (b, ob)) = two_opens(&mut h);
    h.lock_new(Caller::v41(a), oa, 0, b"la", file(1), LockType::Read, 0, 100).expect("read a");
    h.lock_new(Caller::v41(b), ob, 0, b"lb", file(1), LockType::Read, 50, 100).expect("read b");
    let d = denied(h.lock_new(Caller::v41(a), oa, 0, b"la2", file(1), LockType::Write, 120, 10));
    assert_eq!((d.offset, d.length, d.lock_type), (50, 100, LockType::Read));
    assert_eq!(d.owner, LockOwnerId { client: b, owner: b"lb".to_vec() });
    let lw = h
        .lock_new(Caller::v41(a), oa, 0, b"lw", file(1), LockType::Write, 1000, MAX)
        .expect("write to EOF");
    assert_eq!(lw.seqid, 1);
    let d = denied(h.lock_new(Caller::v41(b), ob, 0, b"lr", file(1), LockType::Read, 5000, 1));
    assert_eq!((d.offset, d.length, d.lock_type), (1000, MAX, LockType::Write));
    h.m.check_invariants();
}

/// Another owner of the same client conflicts too (LOCK14).
#[test]
fn same_client_other_owner_conflicts() {
    let mut h = H::new();
    let (a, _) = h.client41(b"a");
    let o1 = h.open41(a, b"o1", file(1), 3, 0).expect("open").stateid;
    let o2 = h.open41(a, b"o2", file(1), 1, 0).expect("open").stateid;
    h.lock_new(Caller::v41(a), o1, 0, b"l1", file(1), LockType::Write, 0, MAX).expect("lock");
    denied(h.lock_new(Caller::v41(a), o2, 0, b"l2", file(1), LockType::Read, 0, 1));
}

/// Overlapping locks of one owner merge (LOCKMRG: 25+75 and 50+75 give
/// 25+100); a type change in the middle splits (LOCKCHGD, LOCKCHGU).
#[test]
fn merge_and_split_within_owner() {
    let mut h = H::new();
    let ((a, oa), (b, _)) = two_opens(&mut h);
    let ca = Caller::v41(a);
    let l = h.lock_new(ca, oa, 0, b"la", file(1), LockType::Write, 25, 75).expect("lock");
    let l = h.lock_more(ca, l, 0, file(1), LockType::Write, false, 50, 75).expect("relock");
    assert_eq!(l.seqid, 2);
    let d = h.m.lockt(Caller::v41(b), b, b"t", file(1), LockType::Read, 0, MAX, h.now);
    let d = denied(d.map(|_| StateId::ANONYMOUS));
    assert_eq!((d.offset, d.length), (25, 100));
    // Downgrade the middle to READ: WRITE 25..49, READ 50..74, WRITE 75..124.
    h.lock_more(ca, l, 0, file(1), LockType::Read, false, 50, 25).expect("downgrade");
    assert!(h.m.lockt(Caller::v41(b), b, b"t", file(1), LockType::Read, 50, 25, h.now).is_ok());
    let d = denied(
        h.m.lockt(Caller::v41(b), b, b"t", file(1), LockType::Write, 60, 1, h.now)
            .map(|_| StateId::ANONYMOUS),
    );
    assert_eq!((d.offset, d.length, d.lock_type), (50, 25, LockType::Read));
    h.m.check_invariants();
}

/// Length 0 and offset+length past 2^64 are INVAL for LOCK, LOCKT and
/// LOCKU (LOCK5, LOCK6, LKT6, LKT7, LKU3, LKU4); a 48-bit range is fine
/// (LOCKRNG).
#[test]
fn range_validation() {
    let mut h = H::new();
    let ((a, oa), _) = two_opens(&mut h);
    let ca = Caller::v41(a);
    assert_eq!(
        h.lock_new(ca, oa, 0, b"l", file(1), LockType::Write, 25, 0),
        Err(StateError::Inval)
    );
    assert_eq!(
        h.lock_new(ca, oa, 0, b"l", file(1), LockType::Write, 100, MAX - 1),
        Err(StateError::Inval)
    );
    assert_eq!(
        h.m.lockt(ca, a, b"t", file(1), LockType::Write, 75, 0, h.now),
        Err(StateError::Inval)
    );
    assert_eq!(
        h.m.lockt(ca, a, b"t", file(1), LockType::Write, 100, MAX - 1, h.now),
        Err(StateError::Inval)
    );
    let l =
        h.lock_new(ca, oa, 0, b"l", file(1), LockType::Write, 0, 0xffff_ffff_ffff).expect("48-bit");
    assert_eq!(h.unlock(ca, l, 0, file(1), 1, 0), Err(StateError::Inval));
    assert_eq!(h.unlock(ca, l, 0, file(1), 100, MAX - 1), Err(StateError::Inval));
    assert!(
        h.lock_new(ca, oa, 0, b"m", file(1), LockType::Write, MAX - 1, 1).is_ok(),
        "the last byte"
    );
}

/// LOCKT: own locks never conflict (LKTOVER), unlocked parts are fine
/// (LKT3), locked ones DENIED (LKT4); client ID 0 is STALE_CLIENTID (LKT9).
#[test]
fn lockt_rules() {
    let mut h = H::new();
    let c = h.client40(b"a");
    let o = h.open40(c, b"o", 1, file(1), 3, 0).expect("open");
    h.lock_new(v40(), o, 3, b"lo", file(1), LockType::Write, 100, 50).expect("lock");
    assert!(h.m.lockt(v40(), c, b"lo", file(1), LockType::Write, 75, 50, h.now).is_ok());
    assert!(h.m.lockt(v40(), c, b"x", file(1), LockType::Write, 0, 50, h.now).is_ok());
    assert!(matches!(
        h.m.lockt(v40(), c, b"x", file(1), LockType::Read, 125, 50, h.now),
        Err(StateError::Denied(_))
    ));
    assert_eq!(
        h.m.lockt(v40(), ClientId(0), b"x", file(1), LockType::Read, 0, 1, h.now),
        Err(StateError::StaleClientid)
    );
}

/// LOCKU inside a range splits it (LKUSPLIT), over an unlocked area is
/// fine (LKUNONE), overlapping trims (LKUOVER).
#[test]
fn locku_splits() {
    let mut h = H::new();
    let ((a, oa), (b, _)) = two_opens(&mut h);
    let ca = Caller::v41(a);
    let l = h.lock_new(ca, oa, 0, b"la", file(1), LockType::Write, 100, 100).expect("lock");
    let l = h.unlock(ca, l, 0, file(1), 125, 50).expect("split");
    let l = h.unlock(ca, l, 0, file(1), 0, 50).expect("nothing there");
    let cb = Caller::v41(b);
    assert!(h.m.lockt(cb, b, b"t", file(1), LockType::Write, 125, 50, h.now).is_ok());
    assert!(h.m.lockt(cb, b, b"t", file(1), LockType::Write, 100, 25, h.now).is_err());
    assert!(h.m.lockt(cb, b, b"t", file(1), LockType::Write, 175, 25, h.now).is_err());
    h.unlock(ca, l, 0, file(1), 50, 100).expect("overlap");
    assert!(h.m.lockt(cb, b, b"t", file(1), LockType::Write, 0, 175, h.now).is_ok());
    h.m.check_invariants();
}

/// 4.0 lock seqids (RFC 7530 §9.1.7): a wrong lock seqid (LOCK8a, LKU6,
/// LKU6b) or open seqid (LOCK8b) is BAD_SEQID; an old lock stateid is
/// OLD_STATEID (LOCK9a, LKU7); a retransmitted LOCK gets its reply again
/// (RPLY5).
#[test]
fn lock_seqids_v40() {
    let mut h = H::new();
    let c = h.client40(b"a");
    let o = h.open40(c, b"o", 1, file(1), 3, 0).expect("open"); // open seqids 1, 2
    let bad_open = h.lock_new(v40(), o, 50, b"lo", file(1), LockType::Write, 0, 25);
    assert_eq!(bad_open, Err(StateError::BadSeqid));
    let l1 = h.lock_new(v40(), o, 3, b"lo", file(1), LockType::Write, 0, 25).expect("lock"); // lock seqid 0
    assert_eq!(
        h.lock_more(v40(), l1, 2, file(1), LockType::Write, false, 50, 25),
        Err(StateError::BadSeqid)
    );
    let l2 = h.lock_more(v40(), l1, 1, file(1), LockType::Write, false, 50, 25).expect("relock");
    assert_eq!(
        h.lock_more(v40(), l1, 2, file(1), LockType::Write, false, 100, 25),
        Err(StateError::OldStateid)
    );
    // Retransmission of seqid 2 (which answered OLD_STATEID).
    let args = LockArgs {
        file: file(1),
        lock_type: LockType::Write,
        blocking: false,
        reclaim: false,
        offset: 100,
        length: 25,
        locker: Locker::Existing { lock_stateid: l1 },
    };
    let replay = h.with_sid(v40(), l1, 2, |m, t, now| m.lock(t, &args, now));
    assert_eq!(
        replay,
        Err(format!("{:?}", Err::<StateId, _>(StateError::OldStateid)).into_bytes())
    );
    assert_eq!(h.unlock(v40(), l2, 0, file(1), 0, MAX), Err(StateError::BadSeqid));
    let l3 = h.unlock(v40(), l2, 3, file(1), 0, MAX).expect("unlock");
    assert_eq!(h.unlock(v40(), l2, 4, file(1), 0, MAX), Err(StateError::OldStateid));
    assert_eq!(l3.seqid, 3);
}

/// A lock-owner name of another client in open_to_lock_owner is refused
/// (LOCK10: client ID 0 is STALE_CLIENTID).
#[test]
fn lock_owner_client_must_match() {
    let mut h = H::new();
    let c = h.client40(b"a");
    let o = h.open40(c, b"o", 1, file(1), 3, 0).expect("open");
    let args = new_owner_lock(file(1), LockType::Write, o, ClientId(0), b"l", 0, 1);
    let r = h.with_sid(v40(), o, 3, |m, t, now| m.lock(t, &args, now));
    assert_eq!(r, Ok(Err(StateError::StaleClientid)));
}

/// A WRITE lock through a read-only open is OPENMODE (LOCK4, as Linux).
#[test]
fn write_lock_needs_write_access() {
    let mut h = H::new();
    let (a, _) = h.client41(b"a");
    let o = h.open41(a, b"o", file(1), 1, 0).expect("open").stateid;
    assert_eq!(
        h.lock_new(Caller::v41(a), o, 0, b"l", file(1), LockType::Write, 0, 1),
        Err(StateError::OpenMode)
    );
    assert!(h.lock_new(Caller::v41(a), o, 0, b"l", file(1), LockType::Read, 0, 1).is_ok());
}

/// CLOSE releases the locks taken through the open (LOCKHELD: pynfs
/// prefers this to LOCKS_HELD), and its lock stateids go with it.
#[test]
fn close_releases_locks() {
    let mut h = H::new();
    let ((a, oa), (b, _)) = two_opens(&mut h);
    let ca = Caller::v41(a);
    let l = h.lock_new(ca, oa, 0, b"la", file(1), LockType::Write, 0, MAX).expect("lock");
    let r = h.close(ca, oa, 0, file(1)).expect("close");
    assert_eq!(r.locks_released, 1);
    assert!(h.m.lockt(Caller::v41(b), b, b"t", file(1), LockType::Write, 0, MAX, h.now).is_ok());
    assert_eq!(h.m.test_stateids(ca, &[l], h.now), vec![Err(StateError::BadStateid)]);
    h.m.check_invariants();
}

/// RELEASE_LOCKOWNER: LOCKS_HELD while it holds locks (RLOWN3), then
/// fine (RLOWN1); an unknown owner is fine.
#[test]
fn release_lockowner() {
    let mut h = H::new();
    let c = h.client40(b"a");
    let o = h.open40(c, b"o", 1, file(1), 3, 0).expect("open");
    let l = h.lock_new(v40(), o, 3, b"lo", file(1), LockType::Write, 0, 10).expect("lock");
    assert_eq!(h.m.release_lockowner(c, b"lo", h.now), Err(StateError::LocksHeld));
    h.unlock(v40(), l, 1, file(1), 0, 10).expect("unlock");
    assert_eq!(h.m.release_lockowner(c, b"lo", h.now), Ok(()));
    assert_eq!(h.m.release_lockowner(c, b"nobody", h.now), Ok(()));
    assert_eq!(h.m.release_lockowner(ClientId(0), b"lo", h.now), Err(StateError::StaleClientid));
    h.m.check_invariants();
}

/// A denied new lock-owner leaves nothing behind: the same
/// open_to_lock_owner with lock seqid 0 can be retried (LOCK21).
#[test]
fn denied_new_owner_can_retry() {
    let mut h = H::new();
    let c = h.client40(b"a");
    let o1 = h.open40(c, b"o1", 1, file(1), 3, 0).expect("open");
    let o2 = h.open40(c, b"o2", 1, file(1), 3, 0).expect("open");
    let l1 = h.lock_new(v40(), o1, 3, b"l1", file(1), LockType::Write, 0, MAX).expect("lock");
    denied(h.lock_new(v40(), o2, 3, b"l2", file(1), LockType::Write, 0, MAX));
    h.unlock(v40(), l1, 1, file(1), 0, MAX).expect("unlock");
    assert!(h.lock_new(v40(), o2, 4, b"l2", file(1), LockType::Write, 0, MAX).is_ok());
}

/// Fairness (RFC 7530 §9.4): a waiter denied a WRITEW lock keeps its turn
/// against newer requests while it polls (LOCK18, LOCK19, LOCK21), and
/// loses it when it stops polling for a lease (LOCK20).
#[test]
fn blocking_waiters_keep_their_turn() {
    let mut h = H::new();
    let (a, _) = h.client41(b"a");
    let ca = Caller::v41(a);
    let o: Vec<StateId> =
        (0..3u8).map(|i| h.open41(a, &[b'o', i], file(1), 3, 0).expect("open").stateid).collect();
    let l0 = h.lock_new(ca, o[0], 0, b"l0", file(1), LockType::Write, 0, MAX).expect("lock");
    let wait = |h: &mut H, i: usize| {
        let args = LockArgs {
            file: file(1),
            lock_type: LockType::Write,
            blocking: true,
            reclaim: false,
            offset: 0,
            length: MAX,
            locker: Locker::New {
                open_stateid: o[i],
                lock_owner_client: a,
                lock_owner: format!("l{i}").into_bytes(),
                lock_seqid: 0,
            },
        };
        h.with_sid(ca, o[i], 0, |m, t, now| m.lock(t, &args, now)).expect("no replay")
    };
    assert!(wait(&mut h, 1).is_err(), "owner 1 waits");
    h.advance(LEASE / 2);
    assert!(wait(&mut h, 2).is_err(), "owner 2 waits behind");
    assert!(wait(&mut h, 1).is_err(), "owner 1 polls");
    h.unlock(ca, l0, 0, file(1), 0, MAX).expect("unlock");
    let d = denied(wait(&mut h, 2));
    assert_eq!(d.owner.owner, b"l1".to_vec(), "owner 2 is told who is ahead");
    let l1 = wait(&mut h, 1).expect("owner 1's turn");
    h.unlock(ca, l1, 0, file(1), 0, MAX).expect("unlock");
    assert!(wait(&mut h, 2).is_ok(), "then owner 2");
    // LOCK20: a waiter that stops asking loses its turn after a lease.
    let mut h = H::new();
    let (a, sa) = h.client41(b"a");
    let ca = Caller::v41(a);
    let o1 = h.open41(a, b"o1", file(1), 3, 0).expect("open").stateid;
    let o2 = h.open41(a, b"o2", file(1), 3, 0).expect("open").stateid;
    let o3 = h.open41(a, b"o3", file(1), 3, 0).expect("open").stateid;
    let l = h.lock_new(ca, o1, 0, b"l1", file(1), LockType::Write, 0, MAX).expect("lock");
    let args = LockArgs {
        file: file(1),
        lock_type: LockType::Write,
        blocking: true,
        reclaim: false,
        offset: 0,
        length: MAX,
        locker: Locker::New {
            open_stateid: o2,
            lock_owner_client: a,
            lock_owner: b"l2".to_vec(),
            lock_seqid: 0,
        },
    };
    assert!(h.with_sid(ca, o2, 0, |m, t, now| m.lock(t, &args, now)).expect("no replay").is_err());
    for _ in 0..3 {
        h.advance(LEASE / 2);
        h.ping(sa);
    }
    h.unlock(ca, l, 0, file(1), 0, MAX).expect("unlock");
    assert!(h.lock_new(ca, o3, 0, b"l3", file(1), LockType::Write, 0, MAX).is_ok());
}

/// The per-file lock limit answers RESOURCE (4.0) and leaves no lock
/// stateid behind.
#[test]
fn locks_per_file_limit() {
    let mut cfg = config(100);
    cfg.limits.locks_per_file_max = 3;
    let mut h = H::with(cfg, MemClientRecords::new());
    let c = h.client40(b"a");
    let o = h.open40(c, b"o", 1, file(1), 3, 0).expect("open");
    let mut l = h.lock_new(v40(), o, 3, b"lo", file(1), LockType::Write, 0, 1).expect("1");
    l = h.lock_more(v40(), l, 1, file(1), LockType::Write, false, 10, 1).expect("2");
    l = h.lock_more(v40(), l, 2, file(1), LockType::Write, false, 20, 1).expect("3");
    assert_eq!(
        h.lock_more(v40(), l, 3, file(1), LockType::Write, false, 30, 1),
        Err(StateError::Resource)
    );
    assert!(
        h.lock_more(v40(), l, 3, file(1), LockType::Write, false, 2, 8).is_ok(),
        "merging stays within"
    );
    let o2 = h.open40(c, b"o2", 1, file(1), 3, 0).expect("open");
    assert_eq!(
        h.lock_new(v40(), o2, 3, b"lo2", file(1), LockType::Read, 40, 1),
        Err(StateError::Resource)
    );
    h.m.check_invariants();
}

// ----- randomized: the manager against a byte-array model -----

/// A small deterministic generator (xorshift64*), so a failure names
/// its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Offsets the model tracks; every range starts below it, and "to EOF"
/// ranges cover the rest of it.
const SPAN: usize = 40;

/// Each owner's lock on each byte of 0..SPAN.
type Model = Vec<[Option<LockType>; SPAN]>;

fn model_range(offset: u64, length: u64) -> std::ops::Range<usize> {
    let end = if length == MAX { SPAN } else { (offset + length) as usize };
    offset as usize..end.min(SPAN)
}

fn model_conflict(m: &Model, me: usize, r: std::ops::Range<usize>, ty: LockType) -> bool {
    m.iter().enumerate().any(|(o, cells)| {
        o != me
            && cells[r.clone()]
                .iter()
                .any(|c| c.is_some_and(|t| t == LockType::Write || ty == LockType::Write))
    })
}

/// Random LOCK/LOCKU/LOCKT by three owners (two clients) on one file
/// agree with a per-byte model: success exactly when the model sees no
/// conflict, DENIED naming a really conflicting owner, and afterwards the
/// same bytes locked with the same types; one owner's ranges never
/// overlap and same-type neighbours are merged (RFC 7530 §9.2).
#[test]
fn random_locks_match_byte_model() {
    for seed in 1..=40u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut h = H::new();
        let ((a, oa), (b, ob)) = two_opens(&mut h);
        let owners: [(ClientId, StateId, &[u8]); 3] = [(a, oa, b"x"), (a, oa, b"y"), (b, ob, b"z")];
        let mut lock_sid: [Option<StateId>; 3] = [None; 3];
        let mut model: Model = vec![[None; SPAN]; 3];
        for step in 0..200 {
            let o = rng.below(3) as usize;
            let (client, open, name) = owners[o];
            let caller = Caller::v41(client);
            let offset = rng.below(SPAN as u64 - 1);
            let length =
                if rng.below(6) == 0 { MAX } else { 1 + rng.below(SPAN as u64 - offset - 1) };
            let ty = if rng.below(2) == 0 { LockType::Read } else { LockType::Write };
            let range = model_range(offset, length);
            let ctx = format!("seed {seed} step {step}: owner {o} {ty:?} {offset}+{length}");
            match rng.below(3) {
                0 | 1 => {
                    let r = match lock_sid[o] {
                        None => h.lock_new(caller, open, 0, name, file(1), ty, offset, length),
                        Some(l) => h.lock_more(caller, l, 0, file(1), ty, false, offset, length),
                    };
                    let conflict = model_conflict(&model, o, range.clone(), ty);
                    match r {
                        Ok(sid) => {
                            assert!(!conflict, "{ctx}: granted over a conflict");
                            lock_sid[o] = Some(sid);
                            for cell in &mut model[o][range] {
                                *cell = Some(ty);
                            }
                        }
                        Err(StateError::Denied(d)) => {
                            assert!(conflict, "{ctx}: denied without conflict");
                            let holder = owners.iter().position(|(c, _, n)| {
                                *c == d.owner.client && *n == d.owner.owner.as_slice()
                            });
                            let holder = holder.expect("a known owner");
                            let theirs = model_range(d.offset, d.length);
                            let overlap = range.start.max(theirs.start)..range.end.min(theirs.end);
                            assert!(
                                model[holder][overlap].iter().any(|c| {
                                    c.is_some_and(|t| t == LockType::Write || ty == LockType::Write)
                                }),
                                "{ctx}: reported lock does not conflict"
                            );
                        }
                        Err(e) => panic!("{ctx}: {e:?}"),
                    }
                }
                _ => {
                    if let Some(l) = lock_sid[o] {
                        let sid = h.unlock(caller, l, 0, file(1), offset, length).expect("unlock");
                        lock_sid[o] = Some(sid);
                        for cell in &mut model[o][range] {
                            *cell = None;
                        }
                    }
                    let r = h.m.lockt(caller, client, name, file(1), ty, offset, length, h.now);
                    let range = model_range(offset, length);
                    assert_eq!(r.is_ok(), !model_conflict(&model, o, range, ty), "{ctx}: LOCKT");
                }
            }
            h.m.check_invariants();
            // The manager's ranges, replayed into bytes, are the model.
            let mut got: Model = vec![[None; SPAN]; 3];
            let fs = h.m.files.get(&file(1));
            for r in fs.map(|f| f.locks.as_slice()).unwrap_or(&[]) {
                let o = owners
                    .iter()
                    .position(|(c, _, n)| c.counter() == r.client && *n == &*r.owner)
                    .expect("known owner");
                for cell in &mut got[o]
                    [model_range(r.start, if r.end == MAX { MAX } else { r.end - r.start + 1 })]
                {
                    *cell = Some(r.ty);
                }
                // Merged: no same-type neighbour of the same owner.
                for r2 in fs.map(|f| f.locks.as_slice()).unwrap_or(&[]) {
                    if r2.client == r.client && r2.owner == r.owner && r2.ty == r.ty && r.end != MAX
                    {
                        assert_ne!(r.end + 1, r2.start, "{ctx}: unmerged neighbours");
                    }
                }
            }
            assert_eq!(got, model, "{ctx}: lock state differs from the model");
        }
    }
}

/// What a cluster front end relies on: `lock_check` answers as LOCK would
/// (who locks, or DENIED) and takes nothing; every release is queued for
/// the cluster: LOCKU its range, CLOSE the owner's whole file, an expired
/// client as one release of the client.
#[test]
fn lock_check_takes_nothing_and_releases_are_queued() {
    let mut h = H::new();
    let ((a, oa), (b, ob)) = two_opens(&mut h);
    let args = new_owner_lock(file(1), LockType::Write, oa, a, b"la", 0, 100);
    let check = |h: &mut H| {
        h.with_sid(Caller::v41(a), oa, 0, |m, t, now| m.lock_check(t, &args, now))
            .expect("not a replay")
    };
    assert_eq!(check(&mut h), Ok(LockPlan { client: a, owner: b"la".to_vec() }));
    let lb = h.lock_new(Caller::v41(b), ob, 0, b"lb", file(1), LockType::Write, 50, 100);
    let lb = lb.expect("nothing was taken by the check");
    let d = denied(check(&mut h).map(|_| StateId::ANONYMOUS));
    assert_eq!((d.offset, d.length), (50, 100));
    assert!(h.m.take_released_locks().is_empty());

    h.unlock(Caller::v41(b), lb, 0, file(1), 60, 10).expect("locku");
    let range = |start, end| LockRelease::Range {
        file: file(1),
        client: b,
        owner: b"lb".to_vec(),
        start,
        end,
    };
    assert_eq!(h.m.take_released_locks(), vec![range(60, 69)]);
    h.close(Caller::v41(b), ob, 0, file(1)).expect("close");
    assert_eq!(h.m.take_released_locks(), vec![range(0, MAX)]);

    h.lock_new(Caller::v41(a), oa, 0, b"la", file(1), LockType::Write, 0, 10).expect("lock");
    h.advance(Duration::from_secs(3600));
    h.m.reap(h.now);
    let released = h.m.take_released_locks();
    assert!(released.contains(&LockRelease::Client(a)), "{released:?}");
    assert!(!released.iter().any(|r| matches!(r, LockRelease::Range { .. })), "{released:?}");
}
