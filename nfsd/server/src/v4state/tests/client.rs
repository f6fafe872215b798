//! SETCLIENTID / SETCLIENTID_CONFIRM (RFC 7530 §16.33.5, §16.34.4),
//! RENEW, EXCHANGE_ID (RFC 8881 §18.35.5), DESTROY_CLIENTID.

use super::*;

const OWNER: &[u8] = b"owner";

// ----- SETCLIENTID, RFC 7530 §16.33.5 (records written {verifier, id,
// client ID, callback, confirm}) -----

/// No record of x: an unconfirmed {v, x, c, k, s} is made; it cannot be
/// used before SETCLIENTID_CONFIRM (pynfs CID6: STALE_CLIENTID).
#[test]
fn setclientid_new_name_is_unconfirmed() {
    let mut h = H::new();
    let ok = h.m.setclientid(b"x", [1; 8], &sys(0), h.now).expect("setclientid");
    assert_ne!(ok.confirm, [0; 8]);
    assert_eq!(h.m.renew(ok.client, h.now), Err(StateError::StaleClientid));
    let r = h.m.open_owner_begin(Caller::v40(), ok.client, OWNER, 1, h.now);
    assert!(matches!(r, Err(StateError::StaleClientid)));
}

/// Confirmed {v, x, c, l, s}, request {v, x, k}: a callback update under
/// the same client ID with a new confirm verifier t != s (pynfs CID4a);
/// the confirmed record and its state stay (CID1b).
#[test]
fn setclientid_same_verifier_is_callback_update() {
    let mut h = H::new();
    let first = h.m.setclientid(b"x", [1; 8], &sys(0), h.now).expect("sc");
    h.m.setclientid_confirm(first.client, first.confirm, &sys(0), h.now).expect("confirm");
    let sid = h.open40(first.client, OWNER, 1, file(1), 3, 0).expect("open");
    let upd = h.m.setclientid(b"x", [1; 8], &sys(0), h.now).expect("sc again");
    assert_eq!(upd.client, first.client);
    assert_ne!(upd.confirm, first.confirm);
    h.m.setclientid_confirm(upd.client, upd.confirm, &sys(0), h.now).expect("confirm update");
    assert!(h.close(Caller::v40(), sid, 3, file(1)).is_ok(), "state survives a callback update");
}

/// Confirmed {u, x, c, l, s}, request with v != u: unconfirmed {v, x, d,
/// k, t}, d != c, t != s (CID4b); confirming it is a client reboot whose
/// old state is purged and whose old stateids are EXPIRED (CID1).
#[test]
fn setclientid_new_verifier_replaces_on_confirm() {
    let mut h = H::new();
    let c1 = h.client40_as(b"x", [1; 8], &sys(0));
    let sid = h.open40(c1, OWNER, 1, file(1), 3, 2).expect("open");
    let ok = h.m.setclientid(b"x", [2; 8], &sys(0), h.now).expect("sc");
    assert_ne!(ok.client, c1);
    // Not confirmed yet: the old incarnation still works.
    assert!(h.m.renew(c1, h.now).is_ok());
    h.m.setclientid_confirm(ok.client, ok.confirm, &sys(0), h.now).expect("confirm");
    h.m.check_invariants();
    assert!(!h.m.is_open(file(1)));
    assert_eq!(h.m.take_closed_files(), vec![file(1)]);
    assert_eq!(h.close(Caller::v40(), sid, 3, file(1)), Err(StateError::Expired));
    assert_eq!(h.m.renew(c1, h.now), Err(StateError::Expired));
}

/// Confirmed {u, x, c, l, s} and unconfirmed {w, x, d, m, t}: a new
/// request replaces the unconfirmed record, whose confirm is then
/// STALE_CLIENTID (CID4c, CID4d); without a confirmed record likewise
/// (CID4e).
#[test]
fn setclientid_replaces_unconfirmed() {
    for with_confirmed in [true, false] {
        let mut h = H::new();
        let c = with_confirmed.then(|| h.client40_as(b"x", [1; 8], &sys(0)));
        let u = h.m.setclientid(b"x", [7; 8], &sys(0), h.now).expect("unconf");
        let t = h.m.setclientid(b"x", [7; 8], &sys(0), h.now).expect("again");
        assert_ne!(t.client, u.client);
        assert_ne!(t.confirm, u.confirm);
        if let Some(c) = c {
            assert_ne!(t.client, c);
        }
        assert_eq!(
            h.m.setclientid_confirm(u.client, u.confirm, &sys(0), h.now),
            Err(StateError::StaleClientid)
        );
        assert_eq!(h.m.setclientid_confirm(t.client, t.confirm, &sys(0), h.now), Ok(()));
    }
}

/// A different principal takes over a name whose confirmed record holds
/// no state (CID2) and is refused with CLID_INUSE while it holds an open
/// (CID2a).
#[test]
fn setclientid_principal_change() {
    let mut h = H::new();
    let c1 = h.client40_as(b"x", [1; 8], &sys(0));
    assert!(h.m.setclientid(b"x", [1; 8], &sys(1), h.now).is_ok(), "no state: OK");
    h.open40(c1, OWNER, 1, file(1), 3, 0).expect("open");
    assert_eq!(h.m.setclientid(b"x", [1; 8], &sys(1), h.now), Err(StateError::ClidInuse));
}

/// After a lost reply, the client reboots (new verifier) before
/// confirming: OK (CID3); the last record wins.
#[test]
fn setclientid_lost_reply_then_reboot() {
    let mut h = H::new();
    h.client40_as(b"x", [1; 8], &sys(0));
    h.m.setclientid(b"x", [1; 8], &sys(0), h.now).expect("update");
    let ok = h.m.setclientid(b"x", [9; 8], &sys(0), h.now).expect("reboot");
    assert_eq!(h.m.setclientid_confirm(ok.client, ok.confirm, &sys(0), h.now), Ok(()));
}

// ----- SETCLIENTID_CONFIRM, RFC 7530 §16.34.4 -----

/// Unknown client ID (0, another instance): STALE_CLIENTID (CIDCF1).
#[test]
fn confirm_unknown_is_stale() {
    let mut h = H::new();
    assert_eq!(
        h.m.setclientid_confirm(ClientId(0), [0; 8], &sys(0), h.now),
        Err(StateError::StaleClientid)
    );
    let other = ClientId::new(h.m.boot_instance(), 999);
    assert_eq!(
        h.m.setclientid_confirm(other, [0; 8], &sys(0), h.now),
        Err(StateError::StaleClientid)
    );
}

/// Confirming the confirmed record again (its own verifier) while a
/// callback update is pending does nothing and succeeds (CIDCF2); a wrong
/// verifier is STALE_CLIENTID.
#[test]
fn confirm_retry_of_confirmed() {
    let mut h = H::new();
    let ok = h.m.setclientid(b"x", [1; 8], &sys(0), h.now).expect("sc");
    h.m.setclientid_confirm(ok.client, ok.confirm, &sys(0), h.now).expect("confirm");
    h.m.setclientid(b"x", [1; 8], &sys(0), h.now).expect("update");
    assert_eq!(h.m.setclientid_confirm(ok.client, ok.confirm, &sys(0), h.now), Ok(()));
    assert_eq!(
        h.m.setclientid_confirm(ok.client, [9; 8], &sys(0), h.now),
        Err(StateError::StaleClientid)
    );
}

/// Confirming with another principal than the SETCLIENTID's is
/// CLID_INUSE (RFC 7530 §16.34.4).
#[test]
fn confirm_other_principal_is_inuse() {
    let mut h = H::new();
    let ok = h.m.setclientid(b"x", [1; 8], &sys(0), h.now).expect("sc");
    assert_eq!(
        h.m.setclientid_confirm(ok.client, ok.confirm, &sys(5), h.now),
        Err(StateError::ClidInuse)
    );
}

/// An unconfirmed record not confirmed within a lease is gone (RFC 7530
/// §16.33.5: "the server SHOULD remove it"; pynfs EID9 for 4.1).
#[test]
fn unconfirmed_record_expires() {
    let mut h = H::new();
    let ok = h.m.setclientid(b"x", [1; 8], &sys(0), h.now).expect("sc");
    h.advance(LEASE);
    assert_eq!(
        h.m.setclientid_confirm(ok.client, ok.confirm, &sys(0), h.now),
        Err(StateError::StaleClientid)
    );
}

/// RENEW: unknown/0 is STALE_CLIENTID (RENEW2), a live client renews.
#[test]
fn renew() {
    let mut h = H::new();
    assert_eq!(h.m.renew(ClientId(0), h.now), Err(StateError::StaleClientid));
    let c = h.client40(b"x");
    for _ in 0..5 {
        h.advance(LEASE / 2);
        assert_eq!(h.m.renew(c, h.now), Ok(()));
    }
}

// ----- EXCHANGE_ID, RFC 8881 §18.35.5 (case numbers of its table) -----

fn eid(h: &mut H, owner: &[u8], verf: u8, p: u32, flags: u32) -> Result<ExchangeIdOk, StateError> {
    let args =
        ExchangeIdArgs { owner: owner.to_vec(), verifier: [verf; 8], flags, principal: sys(p) };
    h.m.exchange_id(&args, h.now)
}

fn confirm41(h: &mut H, ok: &ExchangeIdOk, p: u32) -> Result<CreateSessionOk, StateError> {
    let cs = CreateSessionArgs {
        client: ok.client,
        sequence: ok.sequence,
        flags: 0,
        fore: attrs(4),
        back: attrs(1),
    };
    h.m.create_session(&cs, &sys(p), h.conn, h.now)
}

/// Case 1: a new owner gets an unconfirmed record, sequence 1, a USE_*
/// bit and no CONFIRMED_R (EID1).
#[test]
fn exchange_id_case1_new() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 1, 0, 0).expect("eid");
    assert_eq!(ok.sequence, 1);
    assert_eq!(ok.flags, EXCHGID4_FLAG_USE_NON_PNFS);
}

/// Undefined flag bits and CONFIRMED_R in the request are INVAL (EID4,
/// EID7).
#[test]
fn exchange_id_bad_flags() {
    let mut h = H::new();
    assert_eq!(eid(&mut h, b"a", 1, 0, 4), Err(StateError::Inval));
    assert_eq!(
        eid(&mut h, b"a", 1, 0, EXCHGID4_FLAG_CONFIRMED_R | EXCHGID4_FLAG_USE_NON_PNFS),
        Err(StateError::Inval)
    );
    assert!(eid(&mut h, b"a", 1, 0, EXCHGID4_FLAG_USE_PNFS_DS).is_ok());
}

/// Case 2: confirmed, same verifier and principal: the same client ID
/// with CONFIRMED_R and the next CREATE_SESSION sequence (EID5h).
#[test]
fn exchange_id_case2_same() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 1, 0, 0).expect("eid");
    confirm41(&mut h, &ok, 0).expect("cs");
    let again = eid(&mut h, b"a", 1, 0, 0).expect("again");
    assert_eq!(again.client, ok.client);
    assert_eq!(again.sequence, 2);
    assert_ne!(again.flags & EXCHGID4_FLAG_CONFIRMED_R, 0);
}

/// Case 3: another principal, no state: a new client ID and the old
/// record is gone at once (EID5e, EID5g); with state: CLID_INUSE.
#[test]
fn exchange_id_case3_collision() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 1, 0, 0).expect("eid");
    let s = confirm41(&mut h, &ok, 0).expect("cs");
    assert_eq!(eid(&mut h, b"a", 2, 1, 0), Err(StateError::ClidInuse), "a session is state");
    h.m.destroy_session(s.session, h.conn, None, h.now).expect("destroy");
    let other = eid(&mut h, b"a", 2, 1, 0).expect("takeover");
    assert_ne!(other.client, ok.client);
    let cs = CreateSessionArgs {
        client: ok.client,
        sequence: 2,
        flags: 0,
        fore: attrs(4),
        back: attrs(1),
    };
    assert_eq!(h.m.create_session(&cs, &sys(0), h.conn, h.now), Err(StateError::StaleClientid));
}

/// Case 4: an unconfirmed record is replaced whatever the verifier and
/// principal: always a new client ID (EID5a-d).
#[test]
fn exchange_id_case4_replace_unconfirmed() {
    for (verf, p) in [(2, 1), (2, 0), (1, 1), (1, 0)] {
        let mut h = H::new();
        let first = eid(&mut h, b"a", 1, 0, 0).expect("eid");
        let second = eid(&mut h, b"a", verf, p, 0).expect("again");
        assert_ne!(first.client, second.client);
        assert_eq!(confirm41(&mut h, &first, 0), Err(StateError::StaleClientid));
    }
}

/// Case 5: confirmed, new verifier: a new unconfirmed record; the old
/// sessions work until CREATE_SESSION confirms the new one, then are
/// BADSESSION (EID5f, EID5fb).
#[test]
fn exchange_id_case5_restart() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 1, 0, 0).expect("eid");
    let s1 = confirm41(&mut h, &ok, 0).expect("cs");
    let ok2 = eid(&mut h, b"a", 2, 0, 0).expect("restart");
    assert_ne!(ok2.client, ok.client);
    assert!(matches!(h.seq(s1.session, 0, 1, false), Ok(SequenceOutcome::Execute(_))));
    confirm41(&mut h, &ok2, 0).expect("cs2");
    h.m.check_invariants();
    assert!(matches!(h.seq(s1.session, 0, 2, false), Err(StateError::BadSession)));
}

/// Case 6: update of a confirmed record with the same verifier and
/// principal keeps the client ID (EID6h).
#[test]
fn exchange_id_case6_update() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 1, 0, 0).expect("eid");
    confirm41(&mut h, &ok, 0).expect("cs");
    let upd = eid(&mut h, b"a", 1, 0, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A).expect("update");
    assert_eq!(upd.client, ok.client);
    assert_ne!(upd.flags & EXCHGID4_FLAG_CONFIRMED_R, 0);
}

/// Case 7: update without a confirmed record is NOENT, unconfirmed or not
/// at all (EID6, EID6a-d).
#[test]
fn exchange_id_case7_update_missing() {
    let mut h = H::new();
    assert_eq!(eid(&mut h, b"a", 1, 0, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A), Err(StateError::NoEnt));
    eid(&mut h, b"a", 1, 0, 0).expect("unconfirmed");
    assert_eq!(eid(&mut h, b"a", 1, 0, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A), Err(StateError::NoEnt));
}

/// Cases 8 and 9: update with another verifier is NOT_SAME (EID6f), by
/// another principal PERM (EID6g, EID6e).
#[test]
fn exchange_id_case8_9_update_mismatch() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 1, 0, 0).expect("eid");
    confirm41(&mut h, &ok, 0).expect("cs");
    let upd = EXCHGID4_FLAG_UPD_CONFIRMED_REC_A;
    assert_eq!(eid(&mut h, b"a", 2, 0, upd), Err(StateError::NotSame));
    assert_eq!(eid(&mut h, b"a", 1, 1, upd), Err(StateError::Perm));
    assert_eq!(eid(&mut h, b"a", 2, 1, upd), Err(StateError::Perm));
}

/// DESTROY_CLIENTID (RFC 8881 §18.50.3): an unconfirmed client goes
/// (DESCID1), a second time is STALE_CLIENTID (DESCID8), 0 is
/// STALE_CLIENTID (DESCID3), a client with a session is CLIENTID_BUSY
/// (DESCID5/6).
#[test]
fn destroy_clientid() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 1, 0, 0).expect("eid");
    assert_eq!(h.m.destroy_clientid(ok.client, h.now), Ok(()));
    assert_eq!(h.m.destroy_clientid(ok.client, h.now), Err(StateError::StaleClientid));
    assert_eq!(h.m.destroy_clientid(ClientId(0), h.now), Err(StateError::StaleClientid));
    let (c, s) = h.client41(b"b");
    assert_eq!(h.m.destroy_clientid(c, h.now), Err(StateError::ClientidBusy));
    h.m.destroy_session(s, h.conn, None, h.now).expect("destroy session");
    assert_eq!(h.m.destroy_clientid(c, h.now), Ok(()));
    h.m.check_invariants();
}

/// A DESTROY_CLIENTID of a client holding opens is CLIENTID_BUSY even
/// without sessions (RFC 8881 §18.50.3).
#[test]
fn destroy_clientid_with_state_is_busy() {
    let mut h = H::new();
    let (c, s) = h.client41(b"b");
    h.open41(c, OWNER, file(1), 1, 0).expect("open");
    h.m.destroy_session(s, h.conn, None, h.now).expect("destroy session");
    assert_eq!(h.m.destroy_clientid(c, h.now), Err(StateError::ClientidBusy));
}

/// A client ID of the other minor version is STALE_CLIENTID: RENEW of a
/// 4.1 client, CREATE_SESSION of a 4.0 one (as Linux).
#[test]
fn minor_versions_do_not_mix() {
    let mut h = H::new();
    let (c41, _) = h.client41(b"a");
    let c40 = h.client40(b"b");
    assert_eq!(h.m.renew(c41, h.now), Err(StateError::StaleClientid));
    let cs =
        CreateSessionArgs { client: c40, sequence: 1, flags: 0, fore: attrs(4), back: attrs(1) };
    assert_eq!(h.m.create_session(&cs, &sys(0), h.conn, h.now), Err(StateError::StaleClientid));
    assert!(matches!(
        h.m.open_owner_begin(Caller::v40(), c41, OWNER, 1, h.now),
        Err(StateError::StaleClientid)
    ));
}
