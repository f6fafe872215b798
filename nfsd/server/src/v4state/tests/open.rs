//! OPEN, OPEN_CONFIRM, OPEN_DOWNGRADE, CLOSE, share reservations, 4.0
//! seqids and replay, stateid checks for I/O, TEST_STATEID, FREE_STATEID.

use super::*;

const O1: &[u8] = b"owner1";
const O2: &[u8] = b"owner2";

fn v40() -> Caller {
    Caller::v40()
}

// ----- opens and share reservations, RFC 7530 §9.9 -----

/// A new open stateid has seqid 1, an upgrade by the same owner bumps it
/// and merges the bits (RFC 8881 §8.2.2, pynfs 4.1 OPEN1, OPEN2).
#[test]
fn open_upgrade_bumps_seqid() {
    let mut h = H::new();
    let (c, _) = h.client41(b"a");
    let a = h.open41(c, O1, file(1), 2, 0).expect("open write");
    assert_eq!(a.stateid.seqid, 1);
    assert!(!a.confirm_required);
    let b = h.open41(c, O1, file(1), 1, 0).expect("open read");
    assert_eq!(b.stateid.seqid, 2);
    assert_eq!(b.stateid.other, a.stateid.other);
    assert_eq!(b.access, ShareAccess::BOTH);
}

/// Deny conflicts between owners: access vs deny and deny vs access are
/// SHARE_DENIED (OPEN18, OPEN21, OPEN26, COUR3); same deny twice is fine
/// (COUR4).
#[test]
fn share_conflicts_between_owners() {
    let mut h = H::new();
    let (c1, _) = h.client41(b"a");
    let (c2, _) = h.client41(b"b");
    h.open41(c1, O1, file(1), 3, 2).expect("both, deny write");
    assert_eq!(h.open41(c2, O2, file(1), 2, 0), Err(StateError::ShareDenied));
    assert_eq!(
        h.open41(c1, O2, file(1), 2, 0),
        Err(StateError::ShareDenied),
        "same client, other owner"
    );
    assert!(h.open41(c2, O2, file(1), 1, 0).is_ok(), "reading is not denied");
    assert_eq!(
        h.open41(c2, b"o3", file(1), 1, 1),
        Err(StateError::ShareDenied),
        "deny read vs readers"
    );
    h.open41(c1, b"w1", file(2), 2, 1).expect("write, deny read");
    assert!(h.open41(c2, b"w2", file(2), 2, 1).is_ok(), "same deny mode twice");
    assert!(h.m.is_open(file(2)));
    assert_eq!(h.m.open_files(), vec![file(1), file(2)]);
}

/// The owner's own deny counts against its new access (OPEN25), and a
/// repeated OPEN with deny BOTH after reopening is denied (OPEN30), as the
/// Linux server does; an upgrade to an access mode already used skips the
/// access check.
#[test]
fn share_own_deny_counts() {
    let mut h = H::new();
    let (c, _) = h.client41(b"a");
    h.open41(c, O1, file(1), 3, 2).expect("both, deny write");
    assert_eq!(h.open41(c, O1, file(1), 2, 0), Err(StateError::ShareDenied));
    assert!(h.open41(c, O1, file(1), 3, 0).is_ok(), "BOTH was used: no access check");
    h.open41(c, O1, file(2), 1, 3).expect("read, deny both");
    assert_eq!(h.open41(c, O1, file(2), 1, 3), Err(StateError::ShareDenied));
}

/// Share bits: access 0, access > 3, deny > 3 and unknown 4.1 want bits
/// are INVAL; known want bits are accepted and reported (RFC 8881
/// §18.16.3); 4.0 has no want bits.
#[test]
fn share_bits_validation() {
    let mut h = H::new();
    let (c, _) = h.client41(b"a");
    for (a, d) in [(0, 0), (4, 0), (1, 4), (0x0600 | 1, 0), (0x4_0000 | 1, 0)] {
        assert_eq!(h.open41(c, O1, file(1), a, d), Err(StateError::Inval), "{a:#x}/{d}");
    }
    let ok = h.open41(c, O1, file(1), 0x0400 | 0x1_0000 | 1, 0).expect("want no deleg + signal");
    assert_eq!(ok.want, 0x0400 | 0x1_0000);
    let c4 = h.client40(b"b");
    assert_eq!(h.open40(c4, O1, 1, file(2), 0x0100 | 1, 0), Err(StateError::Inval));
}

/// CLOSE reports the last close of a file, and the front end learns it
/// once through take_closed_files.
#[test]
fn close_reports_last_close() {
    let mut h = H::new();
    let (c, _) = h.client41(b"a");
    let a = h.open41(c, O1, file(1), 1, 0).expect("open");
    let b = h.open41(c, O2, file(1), 1, 0).expect("open");
    let r = h.close(Caller::v41(c), a.stateid, 0, file(1)).expect("close");
    assert!(!r.last_close);
    assert_eq!(r.stateid, StateId::INVALID);
    let r = h.close(Caller::v41(c), b.stateid, 0, file(1)).expect("close");
    assert!(r.last_close);
    assert!(!h.m.is_open(file(1)));
    assert_eq!(h.m.take_closed_files(), vec![file(1)]);
    assert!(h.m.take_closed_files().is_empty());
}

/// OPEN_DOWNGRADE: to a mode never opened with is INVAL (OPDG2, OPDG3),
/// to a used one is fine (OPDG1); the up/down sequence of OPDG10 works;
/// a downgrade makes earlier stateids OLD (LOCK9b).
#[test]
fn open_downgrade_rules() {
    let mut h = H::new();
    let (c, _) = h.client41(b"a");
    let caller = Caller::v41(c);
    let both = h.open41(c, O1, file(1), 3, 0).expect("open both");
    let r = h.with_sid(caller, both.stateid, 0, |m, t, now| {
        m.open_downgrade(t, &both.stateid, file(1), 1, 0, now)
    });
    assert_eq!(r, Ok(Err(StateError::Inval)));
    let mut sid = h.open41(c, O1, file(2), 1, 0).expect("read").stateid;
    for (access, down) in [(2, 1), (2, 1), (2, 2), (1, 0)] {
        sid = h.open41(c, O1, file(2), access, 0).expect("open").stateid;
        if down == 0 {
            break;
        }
        let s = sid;
        let new = h
            .with_sid(caller, s, 0, |m, t, now| m.open_downgrade(t, &s, file(2), down, 0, now))
            .expect("no replay")
            .expect("downgrade");
        assert_eq!(new.seqid, s.seqid + 1);
        let old = StateId { seqid: s.seqid, ..s };
        assert_eq!(
            h.m.check_io(caller, &old, file(2), IoKind::Read, h.now),
            Err(StateError::OldStateid)
        );
        sid = new;
    }
    assert!(h.close(caller, sid, 0, file(2)).is_ok());
}

// ----- 4.0 owners, seqids, replay: RFC 7530 §9.1.7, §9.1.9, §16.18 -----

/// A new 4.0 owner must confirm: its stateid (seqid 1) is unusable until
/// OPEN_CONFIRM (seqid 2), after which the first is OLD (RD11); a second
/// OPEN_CONFIRM is BAD_STATEID (OPCF1).
#[test]
fn open_confirm_flow() {
    let mut h = H::new();
    let c = h.client40(b"a");
    let ok = h.open(v40(), c, O1, 1, file(1), 3, 0).expect("open");
    assert!(ok.confirm_required);
    assert_eq!(
        h.m.check_io(v40(), &ok.stateid, file(1), IoKind::Read, h.now),
        Err(StateError::BadStateid)
    );
    let sid = ok.stateid;
    let confirmed = h
        .with_sid(v40(), sid, 2, |m, t, now| m.open_confirm(t, &sid, file(1), now))
        .expect("no replay")
        .expect("confirm");
    assert_eq!(confirmed.seqid, 2);
    assert_eq!(
        h.m.check_io(v40(), &sid, file(1), IoKind::Read, h.now),
        Err(StateError::OldStateid)
    );
    assert!(h.m.check_io(v40(), &confirmed, file(1), IoKind::Write, h.now).is_ok());
    let again =
        h.with_sid(v40(), confirmed, 3, |m, t, now| m.open_confirm(t, &confirmed, file(1), now));
    assert_eq!(again, Ok(Err(StateError::BadStateid)));
    // A later OPEN by the confirmed owner needs no confirmation.
    // BAD_STATEID did not consume seqid 3.
    let ok = h.open(v40(), c, O1, 3, file(2), 1, 0).expect("open 2");
    assert!(!ok.confirm_required);
}

/// Seqids: the next one executes, the last one replays the cached reply
/// byte for byte (CLOSE10, OPEN30), any other is BAD_SEQID (OPEN31,
/// CLOSE3) and does not advance; BAD_SEQID replays as BAD_SEQID (RPLY11).
#[test]
fn seqid_replay_and_bad() {
    let mut h = H::new();
    let c = h.client40(b"a");
    let sid = h.open40(c, O1, 10, file(1), 3, 0).expect("open"); // seqids 10, 11
    assert_eq!(h.close(v40(), sid, 50, file(1)), Err(StateError::BadSeqid));
    let first =
        h.with_sid(v40(), sid, 12, |m, t, now| m.close(t, &sid, file(1), now)).expect("executes");
    assert!(first.is_ok());
    let replay = h.with_sid(v40(), sid, 12, |m, t, now| m.close(t, &sid, file(1), now));
    assert_eq!(replay, Err(format!("{first:?}").into_bytes()));
    let open = h.with_owner(v40(), c, O1, 12, |_, _, _| Ok::<(), StateError>(()));
    assert_eq!(
        open,
        Err(format!("{first:?}").into_bytes()),
        "the owner's last reply, whatever the op"
    );
    assert_eq!(h.open(v40(), c, O1, 14, file(2), 1, 0), Err(StateError::BadSeqid));
    assert!(h.open(v40(), c, O1, 13, file(2), 1, 0).is_ok());
}

/// Errors other than the RFC 7530 §9.1.7 exceptions consume the seqid
/// (e.g. SHARE_DENIED, or a handler's NOENT), and their reply is cached.
#[test]
fn seqid_advances_on_most_errors() {
    let mut h = H::new();
    let c = h.client40(b"a");
    h.open40(c, O1, 1, file(1), 3, 3).expect("deny both");
    h.open40(c, O2, 1, file(2), 1, 0).expect("other file");
    assert_eq!(h.open(v40(), c, O2, 3, file(1), 1, 0), Err(StateError::ShareDenied));
    assert!(h.with_owner(v40(), c, O2, 3, |_, _, _| Ok::<(), StateError>(())).is_err(), "replayed");
    assert!(h.open(v40(), c, O2, 4, file(2), 1, 0).is_ok());
    assert!(!StateError::BadStateid.advances_seqid());
    assert!(StateError::Denied(LockDenied {
        offset: 0,
        length: 1,
        lock_type: LockType::Read,
        owner: LockOwnerId { client: c, owner: vec![] }
    })
    .advances_seqid());
}

/// A retransmission arriving while the original executes waits (DELAY)
/// rather than executing twice.
#[test]
fn seqid_in_progress_is_delay() {
    let mut h = H::new();
    let c = h.client40(b"a");
    h.open40(c, O1, 1, file(1), 3, 0).expect("open");
    let t = match h.m.open_owner_begin(v40(), c, O1, 3, h.now) {
        Ok(Sequenced::Execute(t)) => t,
        other => panic!("{other:?}"),
    };
    assert!(matches!(h.m.open_owner_begin(v40(), c, O1, 3, h.now), Err(StateError::Delay)));
    h.m.seqid_finish(t, true, b"r".to_vec());
    assert!(matches!(h.m.open_owner_begin(v40(), c, O1, 3, h.now), Ok(Sequenced::Replay(_))));
}

/// An OPEN for an unconfirmed owner that is not a retransmission replaces
/// the owner (RFC 7530 §16.18.5): its unconfirmed open goes.
#[test]
fn unconfirmed_owner_is_replaced() {
    let mut h = H::new();
    let c = h.client40(b"a");
    let first = h.open(v40(), c, O1, 1, file(1), 3, 3).expect("open");
    assert!(first.confirm_required);
    let second = h.open(v40(), c, O1, 7, file(2), 1, 0).expect("open again");
    assert!(second.confirm_required);
    assert!(!h.m.is_open(file(1)));
}

/// CLOSE of a special or unknown stateid is BAD_STATEID (CLOSE4), of
/// another instance's STALE_STATEID (CLOSE6), an old one OLD_STATEID
/// (CLOSE5), another file's BAD_STATEID (SATT3d).
#[test]
fn stateid_errors() {
    let mut h = H::new();
    let c = h.client40(b"a");
    let sid = h.open40(c, O1, 1, file(1), 3, 0).expect("open");
    assert!(matches!(
        h.m.stateid_begin(v40(), &StateId::ANONYMOUS, 3, h.now),
        Err(StateError::BadStateid)
    ));
    let mut stale = sid;
    stale.other[0..4].copy_from_slice(&[0, 0, 0, 1]);
    assert!(matches!(h.m.stateid_begin(v40(), &stale, 3, h.now), Err(StateError::StaleStateid)));
    let mut bad = sid;
    bad.other[8..12].copy_from_slice(&[0, 0, 0, 0]);
    assert!(matches!(h.m.stateid_begin(v40(), &bad, 3, h.now), Err(StateError::BadStateid)));
    let old = StateId { seqid: 1, ..sid };
    // OLD_STATEID is not among the RFC 7530 §9.1.7 exceptions: seqid 3 is used.
    assert_eq!(h.close(v40(), old, 3, file(1)), Err(StateError::OldStateid));
    let newer = StateId { seqid: 9, ..sid };
    assert_eq!(
        h.m.check_io(v40(), &newer, file(1), IoKind::Read, h.now),
        Err(StateError::BadStateid)
    );
    assert_eq!(
        h.m.check_io(v40(), &sid, file(2), IoKind::Read, h.now),
        Err(StateError::BadStateid)
    );
    assert_eq!(h.close(v40(), sid, 4, file(2)), Err(StateError::BadStateid));
    // BAD_STATEID did not consume seqid 4.
    assert!(h.close(v40(), sid, 4, file(1)).is_ok());
}

/// In 4.1 seqid 0 means the current seqid (RFC 8881 §8.2.2; pynfs OPEN8,
/// OPEN30), and another client's stateid is BAD_STATEID (§8.2.4).
#[test]
fn v41_seqid_zero_and_other_client() {
    let mut h = H::new();
    let (c1, _) = h.client41(b"a");
    let (c2, _) = h.client41(b"b");
    let ok = h.open41(c1, O1, file(1), 3, 0).expect("open");
    let zero = StateId { seqid: 0, ..ok.stateid };
    assert!(h.m.check_io(Caller::v41(c1), &zero, file(1), IoKind::Write, h.now).is_ok());
    assert_eq!(
        h.m.check_io(Caller::v41(c2), &zero, file(1), IoKind::Write, h.now),
        Err(StateError::BadStateid)
    );
    assert_eq!(
        h.m.check_io(v40(), &zero, file(1), IoKind::Write, h.now),
        Err(StateError::OldStateid)
    );
    assert!(h.close(Caller::v41(c1), zero, 0, file(1)).is_ok());
    assert!(StateId::CURRENT.is_current());
    assert_eq!(
        h.m.check_io(Caller::v41(c1), &StateId::CURRENT, file(1), IoKind::Read, h.now),
        Err(StateError::BadStateid),
        "the handler resolves the current stateid"
    );
}

// ----- I/O checks, RFC 7530 §9.1.4.3, RFC 8881 §8.2.3 -----

/// WRITE or a size change with a read-only open is OPENMODE (WRT8); READ
/// with a write-only open is allowed (OPEN23b); lock stateids use their
/// open's mode.
#[test]
fn io_open_mode() {
    let mut h = H::new();
    let (c, _) = h.client41(b"a");
    let caller = Caller::v41(c);
    let r = h.open41(c, O1, file(1), 1, 0).expect("read only").stateid;
    let w = h.open41(c, O2, file(2), 2, 0).expect("write only").stateid;
    assert_eq!(h.m.check_io(caller, &r, file(1), IoKind::Write, h.now), Err(StateError::OpenMode));
    assert_eq!(
        h.m.check_io(caller, &r, file(1), IoKind::SetSize, h.now),
        Err(StateError::OpenMode)
    );
    assert!(h.m.check_io(caller, &r, file(1), IoKind::SetAttr, h.now).is_ok());
    assert_eq!(
        h.m.check_io(caller, &w, file(2), IoKind::Read, h.now),
        Ok(IoGrant::State { client: c })
    );
    let l = h.lock_new(caller, r, 0, b"lo", file(1), LockType::Read, 0, 10).expect("lock");
    assert_eq!(h.m.check_io(caller, &l, file(1), IoKind::Write, h.now), Err(StateError::OpenMode));
    assert!(h.m.check_io(caller, &l, file(1), IoKind::Read, h.now).is_ok());
}

/// Anonymous READ/WRITE against any open's deny (the caller's own
/// client's included) is LOCKED (OPEN23, OPEN27, WRT9); READ bypass reads
/// regardless but writes as anonymous (RFC 8881 §8.2.3); other special
/// values are BAD_STATEID.
#[test]
fn io_special_stateids() {
    let mut h = H::new();
    let (c, _) = h.client41(b"a");
    h.open41(c, O1, file(1), 3, 1).expect("deny read");
    h.open41(c, O2, file(2), 3, 2).expect("deny write");
    let any = Caller::v41(c);
    let anon = StateId::ANONYMOUS;
    let bypass = StateId::READ_BYPASS;
    assert_eq!(h.m.check_io(any, &anon, file(1), IoKind::Read, h.now), Err(StateError::Locked));
    assert_eq!(h.m.check_io(any, &anon, file(1), IoKind::Write, h.now), Ok(IoGrant::Anonymous));
    assert_eq!(h.m.check_io(any, &anon, file(2), IoKind::Write, h.now), Err(StateError::Locked));
    assert_eq!(h.m.check_io(any, &anon, file(2), IoKind::SetSize, h.now), Err(StateError::Locked));
    assert_eq!(h.m.check_io(any, &bypass, file(1), IoKind::Read, h.now), Ok(IoGrant::Bypass));
    assert_eq!(h.m.check_io(any, &bypass, file(2), IoKind::Write, h.now), Err(StateError::Locked));
    assert_eq!(h.m.check_io(any, &anon, file(3), IoKind::Write, h.now), Ok(IoGrant::Anonymous));
    let reserved = StateId { seqid: 5, other: [0; 12] };
    assert_eq!(
        h.m.check_io(any, &reserved, file(3), IoKind::Read, h.now),
        Err(StateError::BadStateid)
    );
    assert_eq!(reserved.special(), Some(SpecialStateId::Reserved));
}

// ----- TEST_STATEID and FREE_STATEID, RFC 8881 §18.48, §18.38 -----

/// TEST_STATEID answers per stateid; FREE_STATEID frees a lock stateid
/// without locks, refuses one with locks and open stateids (LOCKS_HELD).
#[test]
fn test_and_free_stateid() {
    let mut h = H::new();
    let (c, _) = h.client41(b"a");
    let caller = Caller::v41(c);
    let o = h.open41(c, O1, file(1), 3, 0).expect("open").stateid;
    let l = h.lock_new(caller, o, 0, b"lo", file(1), LockType::Write, 0, 10).expect("lock");
    let mut stale = o;
    stale.other[0] ^= 0x55;
    let old = StateId { seqid: 0, ..o };
    let r = h.m.test_stateids(
        caller,
        &[o, l, stale, StateId::ANONYMOUS, old, StateId { seqid: 7, ..l }],
        h.now,
    );
    assert_eq!(
        r,
        vec![
            Ok(()),
            Ok(()),
            Err(StateError::StaleStateid),
            Err(StateError::BadStateid),
            Ok(()),
            Err(StateError::BadStateid)
        ]
    );
    assert_eq!(h.m.free_stateid(caller, &o, h.now), Err(StateError::LocksHeld));
    assert_eq!(h.m.free_stateid(caller, &l, h.now), Err(StateError::LocksHeld));
    let l2 = h.unlock(caller, l, 0, file(1), 0, 10).expect("unlock");
    assert_eq!(h.m.free_stateid(caller, &l2, h.now), Ok(()));
    assert_eq!(h.m.test_stateids(caller, &[l2], h.now), vec![Err(StateError::BadStateid)]);
    h.m.check_invariants();
}
