//! Tests of the state manager, one file per area, on a fake clock. Each
//! test states what it checks and the clause (and, where one exists, the
//! pynfs test code) it follows.

mod client;
mod lease;
mod lock;
mod open;
mod session;

use std::time::{Duration, Instant};

use super::*;

/// The lease of the tests.
pub(super) const LEASE: Duration = Duration::from_secs(10);

pub(super) fn file(n: u64) -> FileKey {
    FileKey { ino: n, generation: 1 }
}

pub(super) fn sys(uid: u32) -> Principal {
    Principal::Sys { uid }
}

pub(super) fn attrs(slots: u32) -> ChannelAttrs {
    ChannelAttrs {
        header_pad_bytes: 0,
        max_request_bytes: 8192,
        max_response_bytes: 8192,
        max_response_cached_bytes: 8192,
        max_ops: 128,
        max_requests: slots,
    }
}

pub(super) fn config(boot: u32) -> StateConfig {
    let mut cfg = StateConfig::new(boot);
    cfg.lease = LEASE;
    cfg
}

/// A manager on a fake clock.
pub(super) struct H {
    pub m: StateManager,
    pub now: Instant,
    pub recs: MemClientRecords,
    pub conn: ConnId,
    /// Sequence ids used by [`H::ping`], per session.
    pub pings: std::collections::BTreeMap<SessionId, u32>,
}

impl H {
    /// A fresh server with no earlier clients (so no grace period).
    pub fn new() -> H {
        H::with(config(100), MemClientRecords::new())
    }

    pub fn with(cfg: StateConfig, recs: MemClientRecords) -> H {
        let now = Instant::now();
        H {
            m: StateManager::new(cfg, Box::new(recs.clone()), now),
            now,
            recs,
            conn: ConnId(1),
            pings: Default::default(),
        }
    }

    /// A restart: a new instance over the same records, the clock moved on.
    pub fn restart(&self, boot: u32) -> H {
        let now = self.now + Duration::from_secs(1);
        H {
            m: StateManager::new(config(boot), Box::new(self.recs.clone()), now),
            now,
            recs: self.recs.clone(),
            conn: ConnId(1),
            pings: Default::default(),
        }
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
    }

    /// SETCLIENTID + SETCLIENTID_CONFIRM with principal uid 0.
    pub fn client40(&mut self, name: &[u8]) -> ClientId {
        self.client40_as(name, [1; 8], &sys(0))
    }

    pub fn client40_as(&mut self, name: &[u8], verf: [u8; 8], p: &Principal) -> ClientId {
        let ok = self.m.setclientid(name, verf, p, self.now).expect("setclientid");
        self.m.setclientid_confirm(ok.client, ok.confirm, p, self.now).expect("confirm");
        self.m.check_invariants();
        ok.client
    }

    /// EXCHANGE_ID + CREATE_SESSION (+ RECLAIM_COMPLETE).
    pub fn client41(&mut self, name: &[u8]) -> (ClientId, SessionId) {
        let (c, s) = self.client41_no_rc(name);
        self.m.reclaim_complete(c, false, self.now).expect("reclaim_complete");
        (c, s)
    }

    pub fn client41_no_rc(&mut self, name: &[u8]) -> (ClientId, SessionId) {
        let args =
            ExchangeIdArgs { owner: name.to_vec(), verifier: [1; 8], flags: 0, principal: sys(0) };
        let ok = self.m.exchange_id(&args, self.now).expect("exchange_id");
        let cs = CreateSessionArgs {
            client: ok.client,
            sequence: ok.sequence,
            flags: 0,
            fore: attrs(8),
            back: attrs(1),
        };
        let s = self.m.create_session(&cs, &sys(0), self.conn, self.now).expect("create_session");
        self.m.check_invariants();
        (ok.client, s.session)
    }

    /// Run a 4.0 OPEN-owner request; `None` when it was answered from the
    /// replay cache. The "encoded reply" is the Debug text of the result.
    pub fn with_owner<T: std::fmt::Debug>(
        &mut self,
        caller: Caller,
        client: ClientId,
        owner: &[u8],
        seqid: u32,
        f: impl FnOnce(&mut StateManager, &SeqTicket, Instant) -> Result<T, StateError>,
    ) -> Result<Result<T, StateError>, Vec<u8>> {
        let now = self.now;
        let t = match self.m.open_owner_begin(caller, client, owner, seqid, now) {
            Ok(Sequenced::Execute(t)) => t,
            Ok(Sequenced::Replay(r)) => return Err(r.as_ref().clone()),
            Err(e) => return Ok(Err(e)),
        };
        let r = f(&mut self.m, &t, now);
        let advance = r.as_ref().err().is_none_or(|e| e.advances_seqid());
        self.m.seqid_finish(t, advance, format!("{r:?}").into_bytes());
        self.m.check_invariants();
        Ok(r)
    }

    /// Run a request sequenced by the owner of `sid`.
    pub fn with_sid<T: std::fmt::Debug>(
        &mut self,
        caller: Caller,
        sid: StateId,
        seqid: u32,
        f: impl FnOnce(&mut StateManager, &SeqTicket, Instant) -> Result<T, StateError>,
    ) -> Result<Result<T, StateError>, Vec<u8>> {
        let now = self.now;
        let t = match self.m.stateid_begin(caller, &sid, seqid, now) {
            Ok(Sequenced::Execute(t)) => t,
            Ok(Sequenced::Replay(r)) => return Err(r.as_ref().clone()),
            Err(e) => return Ok(Err(e)),
        };
        let r = f(&mut self.m, &t, now);
        let advance = r.as_ref().err().is_none_or(|e| e.advances_seqid());
        self.m.seqid_finish(t, advance, format!("{r:?}").into_bytes());
        self.m.check_invariants();
        Ok(r)
    }

    /// OPEN (CLAIM_NULL) without replay expected.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        &mut self,
        caller: Caller,
        client: ClientId,
        owner: &[u8],
        seqid: u32,
        f: FileKey,
        access: u32,
        deny: u32,
    ) -> Result<OpenOk, StateError> {
        let args = OpenArgs { access, deny, claim: OpenClaim::Null };
        self.with_owner(caller, client, owner, seqid, |m, t, now| m.open(t, &args, f, now))
            .expect("not a replay")
    }

    /// 4.1 OPEN.
    pub fn open41(
        &mut self,
        client: ClientId,
        owner: &[u8],
        f: FileKey,
        access: u32,
        deny: u32,
    ) -> Result<OpenOk, StateError> {
        self.open(Caller::v41(client), client, owner, 0, f, access, deny)
    }

    /// 4.0 OPEN with `seqid`, confirmed with `seqid + 1` when needed;
    /// returns the usable stateid.
    pub fn open40(
        &mut self,
        client: ClientId,
        owner: &[u8],
        seqid: u32,
        f: FileKey,
        access: u32,
        deny: u32,
    ) -> Result<StateId, StateError> {
        let ok = self.open(Caller::v40(), client, owner, seqid, f, access, deny)?;
        if !ok.confirm_required {
            return Ok(ok.stateid);
        }
        let sid = ok.stateid;
        self.with_sid(Caller::v40(), sid, seqid + 1, |m, t, now| m.open_confirm(t, &sid, f, now))
            .expect("not a replay")
    }

    /// CLOSE.
    pub fn close(
        &mut self,
        caller: Caller,
        sid: StateId,
        seqid: u32,
        f: FileKey,
    ) -> Result<CloseOk, StateError> {
        self.with_sid(caller, sid, seqid, |m, t, now| m.close(t, &sid, f, now))
            .expect("not a replay")
    }

    /// LOCK with a new lock-owner through `open` (sequenced by the open
    /// owner with `open_seqid`).
    #[allow(clippy::too_many_arguments)]
    pub fn lock_new(
        &mut self,
        caller: Caller,
        open: StateId,
        open_seqid: u32,
        lock_owner: &[u8],
        f: FileKey,
        ty: LockType,
        offset: u64,
        length: u64,
    ) -> Result<StateId, StateError> {
        let client = ClientId::new(self.m.boot_instance(), open.decode().1);
        let args = new_owner_lock(f, ty, open, client, lock_owner, offset, length);
        self.with_sid(caller, open, open_seqid, |m, t, now| m.lock(t, &args, now))
            .expect("not a replay")
    }

    /// LOCK by an existing lock-owner.
    #[allow(clippy::too_many_arguments)]
    pub fn lock_more(
        &mut self,
        caller: Caller,
        lock: StateId,
        lock_seqid: u32,
        f: FileKey,
        ty: LockType,
        blocking: bool,
        offset: u64,
        length: u64,
    ) -> Result<StateId, StateError> {
        let args = LockArgs {
            file: f,
            lock_type: ty,
            blocking,
            reclaim: false,
            offset,
            length,
            locker: Locker::Existing { lock_stateid: lock },
        };
        self.with_sid(caller, lock, lock_seqid, |m, t, now| m.lock(t, &args, now))
            .expect("not a replay")
    }

    /// LOCKU.
    pub fn unlock(
        &mut self,
        caller: Caller,
        lock: StateId,
        seqid: u32,
        f: FileKey,
        offset: u64,
        length: u64,
    ) -> Result<StateId, StateError> {
        self.with_sid(caller, lock, seqid, |m, t, now| m.locku(t, &lock, f, offset, length, now))
            .expect("not a replay")
    }

    /// A solo SEQUENCE on the session's last slot (the 4.1 way to renew).
    pub fn ping(&mut self, session: SessionId) {
        let seq = self.pings.entry(session).or_insert(0);
        *seq += 1;
        let seq = *seq;
        match self.seq(session, 7, seq, false) {
            Ok(SequenceOutcome::Execute(ok)) => self.m.sequence_done(ok.ticket, None),
            other => panic!("ping: {other:?}"),
        }
    }

    /// A SEQUENCE + done on `slot` with `seq`.
    pub fn seq(
        &mut self,
        session: SessionId,
        slot: u32,
        seq: u32,
        cache: bool,
    ) -> Result<SequenceOutcome, StateError> {
        let args = SequenceArgs {
            session,
            sequence: seq,
            slot,
            highest_slot: slot,
            cache_this: cache,
            ops: 1,
            request_bytes: 100,
            reply_min_bytes: 64,
            args_hash: 0,
        };
        self.m.sequence(&args, self.conn, self.now)
    }
}

/// LOCK arguments for a lock-owner new to the server (open_to_lock_owner4).
pub(crate) fn new_owner_lock(
    f: FileKey,
    ty: LockType,
    open: StateId,
    client: ClientId,
    owner: &[u8],
    offset: u64,
    length: u64,
) -> LockArgs {
    LockArgs {
        file: f,
        lock_type: ty,
        blocking: false,
        reclaim: false,
        offset,
        length,
        locker: Locker::New {
            open_stateid: open,
            lock_owner_client: client,
            lock_owner: owner.to_vec(),
            lock_seqid: 0,
        },
    }
}
