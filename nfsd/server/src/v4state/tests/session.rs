//! CREATE_SESSION (RFC 8881 §18.36), SEQUENCE and the slot table
//! (§2.10.6, §18.46), DESTROY_SESSION (§18.37), BIND_CONN_TO_SESSION.

use super::*;

fn eid(h: &mut H, owner: &[u8], p: u32) -> ExchangeIdOk {
    let args =
        ExchangeIdArgs { owner: owner.to_vec(), verifier: [1; 8], flags: 0, principal: sys(p) };
    h.m.exchange_id(&args, h.now).expect("exchange_id")
}

fn cs(h: &mut H, client: ClientId, seq: u32, p: u32) -> Result<CreateSessionOk, StateError> {
    let args =
        CreateSessionArgs { client, sequence: seq, flags: 0, fore: attrs(8), back: attrs(1) };
    h.m.create_session(&args, &sys(p), h.conn, h.now)
}

fn execute(r: Result<SequenceOutcome, StateError>) -> SequenceOk {
    match r {
        Ok(SequenceOutcome::Execute(ok)) => ok,
        other => panic!("expected a new request, got {other:?}"),
    }
}

// ----- CREATE_SESSION, RFC 8881 §18.36.4 -----

/// The first CREATE_SESSION of an unconfirmed client uses eir_sequenceid
/// and confirms it; csr_sequence echoes csa_sequence (CSESS1, CSESS24).
#[test]
fn create_session_confirms() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 0);
    let s = cs(&mut h, ok.client, ok.sequence, 0).expect("cs");
    assert_eq!(s.sequence, ok.sequence);
    assert!(matches!(h.seq(s.session, 0, 1, false), Ok(SequenceOutcome::Execute(_))));
}

/// An unconfirmed client with csa_sequence one below eir_sequenceid: a
/// "replay" of nothing, SEQ_MISORDERED (CSESS4).
#[test]
fn create_session_contrived_replay() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 0);
    assert_eq!(
        cs(&mut h, ok.client, ok.sequence.wrapping_sub(1), 0),
        Err(StateError::SeqMisordered)
    );
}

/// A retry (same csa_sequence) of a successful CREATE_SESSION returns the
/// cached result, with or without a SEQUENCE around it (CSESS5, 5a, 5b).
#[test]
fn create_session_replay_is_cached() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 0);
    let first = cs(&mut h, ok.client, ok.sequence, 0).expect("cs");
    let again = cs(&mut h, ok.client, ok.sequence, 0).expect("replay");
    assert_eq!(first, again);
    let second = cs(&mut h, ok.client, ok.sequence + 1, 0).expect("cs 2");
    assert_ne!(second.session, first.session);
    assert_eq!(cs(&mut h, ok.client, ok.sequence + 1, 0), Ok(second));
}

/// Too large or too small a csa_sequence is SEQ_MISORDERED (CSESS7, 8).
#[test]
fn create_session_misordered() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 0);
    cs(&mut h, ok.client, ok.sequence, 0).expect("cs");
    assert_eq!(cs(&mut h, ok.client, ok.sequence + 2, 0), Err(StateError::SeqMisordered));
    assert_eq!(cs(&mut h, ok.client, ok.sequence - 1, 0), Err(StateError::SeqMisordered));
}

/// Another principal than EXCHANGE_ID's before confirmation is
/// CLID_INUSE, again on retry (CSESS9, CSESS6); after confirmation it is
/// fine (CSESS10).
#[test]
fn create_session_principal() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 0);
    assert_eq!(cs(&mut h, ok.client, ok.sequence, 1), Err(StateError::ClidInuse));
    assert_eq!(cs(&mut h, ok.client, ok.sequence, 1), Err(StateError::ClidInuse));
    let s = cs(&mut h, ok.client, ok.sequence, 0).expect("cs");
    assert!(cs(&mut h, ok.client, s.sequence + 1, 1).is_ok());
}

/// Unknown client ID: STALE_CLIENTID (CSESS3); undefined flags: INVAL
/// (CSESS15).
#[test]
fn create_session_unknown_and_flags() {
    let mut h = H::new();
    assert_eq!(cs(&mut h, ClientId(0x1234_5678_9abc), 1, 0), Err(StateError::StaleClientid));
    let ok = eid(&mut h, b"a", 0);
    let args = CreateSessionArgs {
        client: ok.client,
        sequence: 1,
        flags: 0xf,
        fore: attrs(8),
        back: attrs(1),
    };
    assert_eq!(h.m.create_session(&args, &sys(0), h.conn, h.now), Err(StateError::Inval));
    let args = CreateSessionArgs { flags: 0x7, ..args };
    let s = h.m.create_session(&args, &sys(0), h.conn, h.now).expect("all known flags");
    assert_eq!(s.flags, CREATE_SESSION4_FLAG_CONN_BACK_CHAN, "no persistence, no RDMA");
}

/// Channel attributes: too small request/response sizes or back-channel
/// ops are TOOSMALL without consuming the sequence (CSESS25, 28, 29);
/// slots and sizes are clamped to the server's limits (CSESS22); no
/// minimum on the cached size (CSESS27).
#[test]
fn create_session_channel_attrs() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 0);
    let base = CreateSessionArgs {
        client: ok.client,
        sequence: 1,
        flags: 0,
        fore: attrs(8),
        back: attrs(1),
    };
    let tiny_resp = ChannelAttrs { max_response_bytes: 0, ..attrs(8) };
    let tiny_req = ChannelAttrs { max_request_bytes: 20, ..attrs(8) };
    let tiny_back = ChannelAttrs { max_request_bytes: 10, max_ops: 1, ..attrs(1) };
    for a in [
        CreateSessionArgs { fore: tiny_resp, ..base.clone() },
        CreateSessionArgs { fore: tiny_req, ..base.clone() },
        CreateSessionArgs { back: tiny_back, ..base.clone() },
    ] {
        assert_eq!(h.m.create_session(&a, &sys(0), h.conn, h.now), Err(StateError::TooSmall));
    }
    let huge = ChannelAttrs {
        max_requests: 2049,
        max_request_bytes: u32::MAX,
        max_ops: 100_000,
        ..attrs(0)
    };
    let a = CreateSessionArgs { fore: huge, ..base.clone() };
    let s = h.m.create_session(&a, &sys(0), h.conn, h.now).expect("cs");
    let l = StateLimits::default();
    assert_eq!(s.fore.max_requests, l.slots_per_session_max);
    assert_eq!(s.fore.max_request_bytes, l.channel.request_bytes_max);
    assert_eq!(s.fore.max_ops, l.channel.ops_max);
    assert_eq!(s.back.max_response_cached_bytes, 0);
    let small_cache = ChannelAttrs { max_response_cached_bytes: 10, ..attrs(8) };
    let a = CreateSessionArgs { sequence: 2, fore: small_cache, ..base };
    let s = h.m.create_session(&a, &sys(0), h.conn, h.now).expect("cs");
    assert_eq!(s.fore.max_response_cached_bytes, 10);
    // SEQUENCE asking to cache can then not even cache itself (CSESS27).
    assert!(matches!(h.seq(s.session, 0, 1, true), Err(StateError::RepTooBigToCache)));
    assert!(matches!(h.seq(s.session, 0, 1, false), Ok(SequenceOutcome::Execute(_))));
}

/// An unconfirmed client not confirmed within a lease is STALE_CLIENTID
/// (EID9).
#[test]
fn create_session_after_lease_is_stale() {
    let mut h = H::new();
    let ok = eid(&mut h, b"a", 0);
    h.advance(LEASE + Duration::from_secs(1));
    assert_eq!(cs(&mut h, ok.client, ok.sequence, 0), Err(StateError::StaleClientid));
}

/// The sessions-per-client limit answers DELAY (4.1 has no RESOURCE).
#[test]
fn create_session_limit() {
    let mut cfg = config(100);
    cfg.limits.sessions_per_client_max = 2;
    let mut h = H::with(cfg, MemClientRecords::new());
    let ok = eid(&mut h, b"a", 0);
    cs(&mut h, ok.client, 1, 0).expect("1");
    cs(&mut h, ok.client, 2, 0).expect("2");
    assert_eq!(cs(&mut h, ok.client, 3, 0), Err(StateError::Delay));
}

// ----- SEQUENCE, RFC 8881 §2.10.6 and §18.46.3 -----

/// A new request (slot seqid + 1) executes; a retry with cache_this gets
/// the cached reply byte for byte (SEQ9a-f); the next one executes.
#[test]
fn sequence_new_and_replay() {
    let mut h = H::new();
    let (c, s) = h.client41(b"a");
    let ok = execute(h.seq(s, 0, 1, true));
    assert_eq!(ok.client, c);
    assert_eq!((ok.highest_slot, ok.target_highest_slot), (7, 7));
    h.m.sequence_done(ok.ticket, Some(b"reply one".to_vec()));
    match h.seq(s, 0, 1, true) {
        Ok(SequenceOutcome::Replay(r)) => assert_eq!(r.as_slice(), b"reply one"),
        other => panic!("{other:?}"),
    }
    let ok = execute(h.seq(s, 0, 2, true));
    h.m.sequence_done(ok.ticket, Some(b"reply two".to_vec()));
}

/// A retry of a request the client did not ask to cache gets
/// RETRY_UNCACHED_REP (SEQ10b); so does one whose reply was too big to
/// cache.
#[test]
fn sequence_uncached_retry() {
    let mut h = H::new();
    let (_, s) = h.client41(b"a");
    let ok = execute(h.seq(s, 0, 1, false));
    h.m.sequence_done(ok.ticket, Some(b"x".to_vec()));
    assert!(matches!(h.seq(s, 0, 1, false), Err(StateError::RetryUncachedRep)));
    let ok = execute(h.seq(s, 0, 2, true));
    h.m.sequence_done(ok.ticket, Some(vec![0; 100_000]));
    assert!(matches!(h.seq(s, 0, 2, true), Err(StateError::RetryUncachedRep)));
}

/// Sequence ids two or more ahead, or behind, are SEQ_MISORDERED; a
/// never-used slot has nothing to replay (SEQ13).
#[test]
fn sequence_misordered() {
    let mut h = H::new();
    let (_, s) = h.client41(b"a");
    let ok = execute(h.seq(s, 2, 1, true));
    h.m.sequence_done(ok.ticket, Some(vec![1]));
    assert!(matches!(h.seq(s, 2, 3, true), Err(StateError::SeqMisordered)));
    assert!(matches!(h.seq(s, 2, 0, true), Err(StateError::SeqMisordered)));
    assert!(matches!(h.seq(s, 3, 0, true), Err(StateError::SeqMisordered)));
}

/// A slot beyond the table is BADSLOT (SEQ8); an unknown session
/// BADSESSION (SEQ5).
#[test]
fn sequence_badslot_badsession() {
    let mut h = H::new();
    let (_, s) = h.client41(b"a");
    assert!(matches!(h.seq(s, 8, 1, true), Err(StateError::BadSlot)));
    assert!(matches!(h.seq(SessionId([9; 16]), 0, 1, true), Err(StateError::BadSession)));
}

/// While a request runs in a slot its retry gets DELAY and another
/// sequence id SEQ_MISORDERED; an aborted request leaves the slot as it
/// was (RFC 8881 §2.10.6.2).
#[test]
fn sequence_in_progress_and_abort() {
    let mut h = H::new();
    let (_, s) = h.client41(b"a");
    let ok = execute(h.seq(s, 0, 1, true));
    assert!(matches!(h.seq(s, 0, 1, true), Err(StateError::Delay)));
    assert!(matches!(h.seq(s, 0, 2, true), Err(StateError::SeqMisordered)));
    h.m.sequence_abort(ok.ticket);
    let ok = execute(h.seq(s, 0, 1, true));
    h.m.sequence_done(ok.ticket, Some(vec![]));
}

/// A retry whose operations differ from the original's is
/// SEQ_FALSE_RETRY (RFC 8881 §2.10.6.1.3).
#[test]
fn sequence_false_retry() {
    let mut h = H::new();
    let (_, s) = h.client41(b"a");
    let mut args = SequenceArgs {
        session: s,
        sequence: 1,
        slot: 0,
        highest_slot: 0,
        cache_this: true,
        ops: 2,
        request_bytes: 100,
        reply_min_bytes: 64,
        args_hash: 42,
    };
    let ok = execute(h.m.sequence(&args, h.conn, h.now));
    h.m.sequence_done(ok.ticket, Some(vec![1]));
    args.args_hash = 43;
    assert!(matches!(h.m.sequence(&args, h.conn, h.now), Err(StateError::SeqFalseRetry)));
    args.args_hash = 42;
    assert!(matches!(h.m.sequence(&args, h.conn, h.now), Ok(SequenceOutcome::Replay(_))));
}

/// More operations than negotiated is TOO_MANY_OPS, a bigger request
/// REQ_TOO_BIG, and neither consumes the slot (SEQ7, SEQ6).
#[test]
fn sequence_size_limits() {
    let mut h = H::new();
    let (_, s) = h.client41(b"a");
    let fore = h.m.session_fore_channel(s).expect("fore");
    let mut args = SequenceArgs {
        session: s,
        sequence: 1,
        slot: 0,
        highest_slot: 0,
        cache_this: false,
        ops: fore.max_ops + 1,
        request_bytes: 100,
        reply_min_bytes: 64,
        args_hash: 0,
    };
    assert!(matches!(h.m.sequence(&args, h.conn, h.now), Err(StateError::TooManyOps)));
    args.ops = fore.max_ops;
    args.request_bytes = fore.max_request_bytes + 1;
    assert!(matches!(h.m.sequence(&args, h.conn, h.now), Err(StateError::ReqTooBig)));
    args.request_bytes = 100;
    assert!(matches!(h.m.sequence(&args, h.conn, h.now), Ok(SequenceOutcome::Execute(_))));
}

/// SEQUENCE renews the lease: a client that keeps sending SEQUENCE never
/// expires, one that stops loses its sessions (RFC 8881 §8.3).
#[test]
fn sequence_renews_lease() {
    let mut h = H::new();
    let (_, s) = h.client41(b"a");
    for i in 1..=5 {
        h.advance(LEASE / 2);
        let ok = execute(h.seq(s, 0, i, false));
        h.m.sequence_done(ok.ticket, None);
    }
    h.advance(LEASE);
    assert!(matches!(h.seq(s, 0, 6, false), Err(StateError::BadSession)));
    h.m.check_invariants();
}

/// DESTROY_SESSION: later SEQUENCEs are BADSESSION (DSESS1); on an
/// unbound connection it is CONN_NOT_BOUND_TO_SESSION until a SEQUENCE
/// or BIND_CONN_TO_SESSION binds it (DSESS9001, SEQ4); with another
/// request running in the session, DELAY.
#[test]
fn destroy_session_and_binding() {
    let mut h = H::new();
    let (_, s) = h.client41(b"a");
    let rogue = ConnId(77);
    assert_eq!(h.m.destroy_session(s, rogue, None, h.now), Err(StateError::ConnNotBoundToSession));
    let args = SequenceArgs {
        session: s,
        sequence: 1,
        slot: 1,
        highest_slot: 1,
        cache_this: false,
        ops: 2,
        request_bytes: 100,
        reply_min_bytes: 64,
        args_hash: 0,
    };
    let ok = execute(h.m.sequence(&args, rogue, h.now));
    let busy = execute(h.seq(s, 0, 1, false));
    assert_eq!(h.m.destroy_session(s, rogue, Some(&ok.ticket), h.now), Err(StateError::Delay));
    h.m.sequence_done(busy.ticket, None);
    assert_eq!(h.m.destroy_session(s, rogue, Some(&ok.ticket), h.now), Ok(()));
    h.m.sequence_done(ok.ticket, None); // harmless after the destruction
    assert!(matches!(h.seq(s, 0, 2, false), Err(StateError::BadSession)));
    assert_eq!(h.m.bind_conn_to_session(s, rogue, h.now), Err(StateError::BadSession));
    h.m.check_invariants();
}

/// BIND_CONN_TO_SESSION binds; a closed connection is unbound again.
#[test]
fn bind_and_close_connection() {
    let mut h = H::new();
    let (c, s) = h.client41(b"a");
    let other = ConnId(5);
    assert_eq!(h.m.bind_conn_to_session(s, other, h.now), Ok(c));
    h.m.connection_closed(other);
    assert_eq!(h.m.destroy_session(s, other, None, h.now), Err(StateError::ConnNotBoundToSession));
    assert_eq!(h.m.destroy_session(s, h.conn, None, h.now), Ok(()));
}
