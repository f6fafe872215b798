//! Byte-range locks: LOCK, LOCKT, LOCKU, RELEASE_LOCKOWNER (RFC 7530
//! §9.2-§9.4, §16.10-§16.12, §16.37; RFC 8881 §18.10-§18.12).
//!
//! Within one lock-owner POSIX semantics: a new range replaces whatever
//! the owner held there (splitting ranges, changing types atomically) and
//! merges with adjacent or overlapping ranges of the same type; LOCKU
//! splits. Between owners, READ is compatible with READ and everything
//! else conflicts; NFS4ERR_DENIED reports one conflicting lock.
//!
//! The server never blocks. A denied READW_LT/WRITEW_LT waiter is
//! remembered for a lease, and until it comes back (or gives up) newer
//! requests that would take what it waits for are denied too, so polling
//! waiters are served in order (RFC 7530 §9.4: "fairness").

use std::sync::Arc;
use std::time::Instant;

use fsapi::ranges::{self, ranges_overlap as overlaps, OwnedRange};

use super::seqid::{OwnerKind, SeqTicket};
use super::stateid::check_generation;
use super::types::{
    Caller, ClientId, FileKey, LockDenied, LockOwnerId, LockType, MinorVersion, StateError, StateId,
};
use super::{next_seqid, Blocked, LockOwner, LockRange, LockState, SeqState, State, StateManager};

/// Who asks for the lock (locker4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locker {
    /// open_to_lock_owner4: first lock of `lock_owner` on the file,
    /// through `open_stateid`. Sequenced by the open-owner (the ticket
    /// comes from [`StateManager::stateid_begin`] with `open_stateid` and
    /// the open seqid).
    New {
        /// The open stateid.
        open_stateid: StateId,
        /// 4.0: `lock_owner4.clientid`, which must be the open's client
        /// (ignored in 4.1).
        lock_owner_client: ClientId,
        /// The lock-owner's name.
        lock_owner: Vec<u8>,
        /// 4.0: the lock-owner's first seqid (or, for an owner that
        /// exists already, its next one).
        lock_seqid: u32,
    },
    /// exist_lock_owner4: the owner's lock stateid for the file,
    /// sequenced by the lock-owner.
    Existing {
        /// The lock stateid.
        lock_stateid: StateId,
    },
}

/// A LOCK request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockArgs {
    /// The current filehandle's file.
    pub file: FileKey,
    /// READ or WRITE.
    pub lock_type: LockType,
    /// READW_LT/WRITEW_LT: the client will poll.
    pub blocking: bool,
    /// A reclaim after a server restart.
    pub reclaim: bool,
    /// Start of the range.
    pub offset: u64,
    /// Its length; `u64::MAX` means to the end of the file.
    pub length: u64,
    /// Who locks.
    pub locker: Locker,
}

/// The inclusive end of (offset, length): length 0 and ranges past 2^64
/// are NFS4ERR_INVAL (RFC 7530 §16.10.4); all-ones length runs to the end.
pub(crate) fn range_end(offset: u64, length: u64) -> Result<u64, StateError> {
    if length == 0 {
        return Err(StateError::Inval);
    }
    if length == u64::MAX {
        return Ok(u64::MAX);
    }
    let past = offset.checked_add(length).ok_or(StateError::Inval)?;
    Ok(past - 1)
}

impl OwnedRange for LockRange {
    fn range(&self) -> (u64, u64) {
        (self.start, self.end)
    }
    fn with_range(&self, start: u64, end: u64) -> Self {
        LockRange { start, end, ..self.clone() }
    }
    fn same_kind(&self, other: &Self) -> bool {
        self.ty == other.ty
    }
}

fn conflicts(a: LockType, b: LockType) -> bool {
    a == LockType::Write || b == LockType::Write
}

fn same_owner(r_client: u32, r_owner: &[u8], client: u32, owner: &[u8]) -> bool {
    r_client == client && r_owner == owner
}

/// A lock of another owner that conflicts with (start..=end, ty).
pub(crate) fn find_conflict<'a>(
    locks: &'a [LockRange],
    client: u32,
    owner: &[u8],
    start: u64,
    end: u64,
    ty: LockType,
) -> Option<&'a LockRange> {
    locks.iter().find(|r| {
        !same_owner(r.client, &r.owner, client, owner)
            && overlaps(r.start, r.end, start, end)
            && conflicts(r.ty, ty)
    })
}

/// Remove start..=end from the owner's ranges, splitting where needed.
pub(crate) fn carve(locks: &mut Vec<LockRange>, client: u32, owner: &[u8], start: u64, end: u64) {
    let (mine, mut rest): (Vec<LockRange>, Vec<LockRange>) =
        locks.drain(..).partition(|r| same_owner(r.client, &r.owner, client, owner));
    rest.extend(ranges::carve(mine, start, end));
    *locks = rest;
}

/// Give the owner start..=end of type `ty` (POSIX: replaces what it held
/// there, merges with same-type neighbours).
pub(crate) fn apply(
    locks: &mut Vec<LockRange>,
    client: u32,
    owner: &Arc<[u8]>,
    start: u64,
    end: u64,
    ty: LockType,
) {
    let (mine, mut rest): (Vec<LockRange>, Vec<LockRange>) =
        locks.drain(..).partition(|r| same_owner(r.client, &r.owner, client, owner));
    rest.extend(ranges::take(mine, LockRange { client, owner: owner.clone(), start, end, ty }));
    *locks = rest;
}

fn denied(
    boot: u32,
    r_client: u32,
    r_owner: &[u8],
    start: u64,
    end: u64,
    ty: LockType,
) -> StateError {
    StateError::Denied(LockDenied {
        offset: start,
        length: if end == u64::MAX { u64::MAX } else { end - start + 1 },
        lock_type: ty,
        owner: LockOwnerId { client: ClientId::new(boot, r_client), owner: r_owner.to_vec() },
    })
}

/// Who takes a lock that passed [`StateManager::lock_check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockPlan {
    /// The lock-owner's client.
    pub client: ClientId,
    /// The lock-owner's name.
    pub owner: Vec<u8>,
}

/// Locks this server released (LOCKU, CLOSE, expiry, ...), for a cluster
/// that arbitrates locks across servers to release too
/// ([`StateManager::take_released_locks`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockRelease {
    /// `start..=end` of one owner on one file.
    Range {
        /// The file.
        file: FileKey,
        /// The owner's client.
        client: ClientId,
        /// The owner's name.
        owner: Vec<u8>,
        /// First byte.
        start: u64,
        /// Last byte (`u64::MAX`: to the end of the file).
        end: u64,
    },
    /// Everything of one owner.
    Owner {
        /// The owner's client.
        client: ClientId,
        /// The owner's name.
        owner: Vec<u8>,
    },
    /// Everything of one client.
    Client(ClientId),
}

/// What stands in the way of a lock request.
enum Obstacle {
    /// A lock of a client past its lease: revoke it and look again.
    Expired(u32),
    Denied(StateError),
}

impl StateManager {
    /// The first obstacle to (client `c`, `owner`) taking start..=end:
    /// a conflicting lock, or (for non-reclaims) an older waiter.
    #[allow(clippy::too_many_arguments)]
    fn obstacle(
        &self,
        c: u32,
        owner: &[u8],
        file: FileKey,
        start: u64,
        end: u64,
        ty: LockType,
        waiters: bool,
        now: Instant,
    ) -> Option<Obstacle> {
        let f = self.files.get(&file)?;
        if let Some(r) = find_conflict(&f.locks, c, owner, start, end, ty) {
            if r.client != c
                && self.clients.get(&r.client).is_some_and(|cl| self.lease_over(cl, now))
            {
                return Some(Obstacle::Expired(r.client));
            }
            return Some(Obstacle::Denied(denied(
                self.boot, r.client, &r.owner, r.start, r.end, r.ty,
            )));
        }
        if !waiters {
            return None;
        }
        let mine =
            f.blocked.iter().find(|b| same_owner(b.client, &b.owner, c, owner)).map(|b| b.since);
        let ahead = f.blocked.iter().find(|b| {
            !same_owner(b.client, &b.owner, c, owner)
                && b.until > now
                && overlaps(b.start, b.end, start, end)
                && conflicts(b.ty, ty)
                && mine.is_none_or(|m| b.since < m)
        })?;
        Some(Obstacle::Denied(denied(
            self.boot,
            ahead.client,
            &ahead.owner,
            ahead.start,
            ahead.end,
            ahead.ty,
        )))
    }

    /// Resolve obstacles of expired clients; the remaining one, if any.
    #[allow(clippy::too_many_arguments)]
    fn lock_obstacle(
        &mut self,
        c: u32,
        owner: &[u8],
        file: FileKey,
        start: u64,
        end: u64,
        ty: LockType,
        waiters: bool,
        now: Instant,
    ) -> Option<StateError> {
        loop {
            match self.obstacle(c, owner, file, start, end, ty, waiters, now)? {
                // RFC 7530 §9.6.3: state of a client past its lease may
                // be revoked when it is in somebody's way.
                Obstacle::Expired(oc) => self.remove_client(oc, true),
                Obstacle::Denied(e) => return Some(e),
            }
        }
    }

    /// LOCK. `ticket` comes from [`StateManager::stateid_begin`] with the
    /// open stateid and open seqid (new lock-owner) or the lock stateid
    /// and lock seqid (existing one).
    ///
    /// Errors: INVAL (range), BAD_STATEID/OLD_STATEID (stateids, a lock-owner
    /// client ID of another client), STALE_CLIENTID, BAD_SEQID (4.0 seqid of
    /// an existing lock-owner), GRACE/NO_GRACE/RECLAIM_BAD, OPENMODE (a
    /// WRITE lock without write access or READ without read access, as
    /// Linux), DENIED, RESOURCE/DELAY (limits).
    pub fn lock(
        &mut self,
        ticket: &SeqTicket,
        args: &LockArgs,
        now: Instant,
    ) -> Result<StateId, StateError> {
        self.lock_inner(ticket, args, now, true)?.1.ok_or(StateError::ServerFault)
    }

    /// Every check of [`StateManager::lock`] (the same errors, a denied
    /// waiter remembered alike) without taking the lock: who would take
    /// it, for the cluster to arbitrate before [`StateManager::lock`]
    /// commits it. The 4.0 seqid of a known lock-owner is noted as LOCK
    /// would.
    pub fn lock_check(
        &mut self,
        ticket: &SeqTicket,
        args: &LockArgs,
        now: Instant,
    ) -> Result<LockPlan, StateError> {
        Ok(self.lock_inner(ticket, args, now, false)?.0)
    }

    fn lock_inner(
        &mut self,
        ticket: &SeqTicket,
        args: &LockArgs,
        now: Instant,
        commit: bool,
    ) -> Result<(LockPlan, Option<StateId>), StateError> {
        let caller = ticket.caller;
        let minor = caller.minor;
        let v0 = minor == MinorVersion::V0;
        let end = range_end(args.offset, args.length)?;
        let start = args.offset;
        // Which lock stateid (existing or to be made) and through which open.
        let (c, owner, existing_state, open_s) = match &args.locker {
            Locker::New { open_stateid, lock_owner_client, lock_owner, lock_seqid } => {
                let (c, s) = self.resolve(caller, open_stateid, now)?;
                self.valid_open(caller, c, s, open_stateid, args.file, None)?;
                if ticket.kind != OwnerKind::Open || !self.open_owned_by(c, s, &ticket.owner) {
                    return Err(StateError::BadStateid);
                }
                if v0 && *lock_owner_client != self.client_id(c) {
                    return Err(if lock_owner_client.boot() != self.boot {
                        StateError::StaleClientid
                    } else {
                        StateError::BadStateid
                    });
                }
                if lock_owner.len() > super::seqid::OWNER_LEN_MAX_BYTES {
                    return Err(StateError::Inval);
                }
                let cl = self.clients.get(&c).ok_or(StateError::BadStateid)?;
                let existing = match cl.lock_owners.get(lock_owner) {
                    Some(lo) => {
                        // An existing owner continues its own sequence.
                        if v0 && lo.seq.last.is_some_and(|l| *lock_seqid != l.wrapping_add(1)) {
                            return Err(StateError::BadSeqid);
                        }
                        lo.states.get(&args.file).copied()
                    }
                    None => None,
                };
                (c, lock_owner.clone(), existing, s)
            }
            Locker::Existing { lock_stateid } => {
                let (c, s) = self.resolve(caller, lock_stateid, now)?;
                let cl = self.clients.get(&c).ok_or(StateError::BadStateid)?;
                let Some(State::Lock(l)) = cl.states.get(&s) else {
                    return Err(StateError::BadStateid);
                };
                if ticket.kind != OwnerKind::Lock || l.owner != ticket.owner {
                    return Err(StateError::BadStateid);
                }
                check_generation(l.seqid, lock_stateid.seqid, minor)?;
                if l.file != args.file {
                    return Err(StateError::BadStateid);
                }
                (c, l.owner.clone(), Some(s), l.open)
            }
        };
        self.check_grace(c, args.reclaim, now)?;
        let access = match self.clients.get(&c).and_then(|cl| cl.states.get(&open_s)) {
            Some(State::Open(o)) => o.access,
            _ => return Err(StateError::BadStateid),
        };
        let needed = match args.lock_type {
            LockType::Read => 1,
            LockType::Write => 2,
        };
        if access & needed == 0 {
            return Err(StateError::OpenMode);
        }
        if let Locker::New { lock_seqid, .. } = &args.locker {
            if v0 {
                if let Some(lo) =
                    self.clients.get_mut(&c).and_then(|cl| cl.lock_owners.get_mut(&owner))
                {
                    lo.seq.last = Some(*lock_seqid);
                    lo.seq.reply = None;
                }
            }
        }
        if let Some(e) =
            self.lock_obstacle(c, &owner, args.file, start, end, args.lock_type, !args.reclaim, now)
        {
            if args.blocking && !args.reclaim {
                self.remember_waiter(c, &owner, args.file, start, end, args.lock_type, now);
            }
            return Err(e);
        }
        let plan = LockPlan { client: self.client_id(c), owner: owner.clone() };
        if !commit {
            let mut next = self.files.get(&args.file).map(|f| f.locks.clone()).unwrap_or_default();
            apply(&mut next, c, &Arc::from(owner.as_slice()), start, end, args.lock_type);
            if next.len() > self.cfg.limits.locks_per_file_max {
                return Err(Self::resource(minor));
            }
            return Ok((plan, None));
        }
        // Make the lock-owner and lock stateid if needed.
        let s = match existing_state {
            Some(s) => s,
            None => {
                let Locker::New { lock_seqid, .. } = &args.locker else {
                    return Err(StateError::BadStateid);
                };
                self.new_lock_state(c, &owner, args.file, open_s, *lock_seqid, minor, now)?
            }
        };
        let locks_max = self.cfg.limits.locks_per_file_max;
        let owner_arc: Arc<[u8]> = Arc::from(owner.as_slice());
        let f = self.files.entry(args.file).or_default();
        let mut next = f.locks.clone();
        apply(&mut next, c, &owner_arc, start, end, args.lock_type);
        if next.len() > locks_max {
            if existing_state.is_none() {
                self.release_lock_state(c, s);
                self.drop_lock_owner_if_idle(c, &owner);
            }
            return Err(Self::resource(minor));
        }
        f.locks = next;
        f.blocked.retain(|b| !same_owner(b.client, &b.owner, c, &owner) && b.until > now);
        if args.reclaim {
            self.grace.note_reclaim(now);
        }
        let boot = self.boot;
        let cl = self.clients.get_mut(&c).ok_or(StateError::BadStateid)?;
        if let Some(lo) = cl.lock_owners.get_mut(&owner) {
            lo.last_used = now;
        }
        let Some(State::Lock(l)) = cl.states.get_mut(&s) else {
            return Err(StateError::ServerFault);
        };
        l.seqid = if existing_state.is_some() { next_seqid(l.seqid) } else { 1 };
        Ok((plan, Some(StateId::encode(boot, c, s, l.seqid))))
    }

    /// The ranges `client`'s `owner` holds on `file`: (start, end, type).
    pub fn owner_locks(
        &self,
        client: ClientId,
        owner: &[u8],
        file: FileKey,
    ) -> Vec<(u64, u64, LockType)> {
        if client.boot() != self.boot {
            return Vec::new();
        }
        let c = client.counter();
        self.files.get(&file).map_or_else(Vec::new, |f| {
            f.locks
                .iter()
                .filter(|r| same_owner(r.client, &r.owner, c, owner))
                .map(|r| (r.start, r.end, r.ty))
                .collect()
        })
    }

    fn open_owned_by(&self, c: u32, s: u32, owner: &[u8]) -> bool {
        matches!(self.clients.get(&c).and_then(|cl| cl.states.get(&s)), Some(State::Open(o)) if o.owner == owner)
    }

    #[allow(clippy::too_many_arguments)]
    fn new_lock_state(
        &mut self,
        c: u32,
        owner: &[u8],
        file: FileKey,
        open_s: u32,
        lock_seqid: u32,
        minor: MinorVersion,
        now: Instant,
    ) -> Result<u32, StateError> {
        let owners_max = self.cfg.limits.owners_per_client_max;
        let states_max = self.cfg.limits.states_per_client_max;
        let cl = self.clients.get_mut(&c).ok_or(StateError::BadStateid)?;
        if !cl.lock_owners.contains_key(owner) {
            if cl.owner_count() >= owners_max {
                return Err(Self::resource(minor));
            }
            cl.lock_owners.insert(
                owner.to_vec(),
                LockOwner {
                    seq: SeqState {
                        last: (minor == MinorVersion::V0).then_some(lock_seqid),
                        reply: None,
                        in_progress: None,
                    },
                    states: Default::default(),
                    last_used: now,
                },
            );
        }
        if cl.states.len() >= states_max {
            self.drop_lock_owner_if_idle(c, owner);
            return Err(Self::resource(minor));
        }
        let s = cl.next_state;
        cl.next_state = cl.next_state.wrapping_add(1).max(1);
        cl.states.insert(
            s,
            State::Lock(LockState { owner: owner.to_vec(), file, seqid: 0, open: open_s }),
        );
        if let Some(State::Open(o)) = cl.states.get_mut(&open_s) {
            o.locks.insert(s);
        }
        if let Some(lo) = cl.lock_owners.get_mut(owner) {
            lo.states.insert(file, s);
        }
        Ok(s)
    }

    fn drop_lock_owner_if_idle(&mut self, c: u32, owner: &[u8]) {
        if let Some(cl) = self.clients.get_mut(&c) {
            if cl.lock_owners.get(owner).is_some_and(|lo| lo.states.is_empty()) {
                cl.lock_owners.remove(owner);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn remember_waiter(
        &mut self,
        c: u32,
        owner: &[u8],
        file: FileKey,
        start: u64,
        end: u64,
        ty: LockType,
        now: Instant,
    ) {
        let until = now.checked_add(self.cfg.lease).unwrap_or(now);
        let max = self.cfg.limits.blocked_locks_per_file_max;
        let f = self.files.entry(file).or_default();
        f.blocked.retain(|b| b.until > now);
        if let Some(b) = f.blocked.iter_mut().find(|b| same_owner(b.client, &b.owner, c, owner)) {
            b.until = until;
            b.start = start;
            b.end = end;
            b.ty = ty;
        } else if f.blocked.len() < max {
            f.blocked.push(Blocked {
                client: c,
                owner: Arc::from(owner),
                start,
                end,
                ty,
                since: now,
                until,
            });
        }
    }

    /// LOCKT (RFC 7530 §16.11): would (client, owner) get the lock? No
    /// state changes. The owner's own locks never conflict (pynfs
    /// LKTOVER). Refused in the grace period (NFS4ERR_GRACE), as Linux.
    #[allow(clippy::too_many_arguments)]
    pub fn lockt(
        &mut self,
        caller: Caller,
        client: ClientId,
        owner: &[u8],
        file: FileKey,
        lock_type: LockType,
        offset: u64,
        length: u64,
        now: Instant,
    ) -> Result<(), StateError> {
        let end = range_end(offset, length)?;
        let c = self.live_client(caller.session_client.unwrap_or(client), caller.minor, now)?;
        if self.in_grace(now) {
            return Err(StateError::Grace);
        }
        match self.lock_obstacle(c, owner, file, offset, end, lock_type, false, now) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// LOCKU (RFC 7530 §16.12): release offset/length of the ticket's
    /// lock-owner on the file (unlocking what is not locked is fine,
    /// ranges split as needed). The lock type is not checked.
    #[allow(clippy::too_many_arguments)]
    pub fn locku(
        &mut self,
        ticket: &SeqTicket,
        stateid: &StateId,
        file: FileKey,
        offset: u64,
        length: u64,
        now: Instant,
    ) -> Result<StateId, StateError> {
        let end = range_end(offset, length)?;
        let (c, s) = self.resolve(ticket.caller, stateid, now)?;
        let boot = self.boot;
        let cl = self.clients.get_mut(&c).ok_or(StateError::BadStateid)?;
        let Some(State::Lock(l)) = cl.states.get_mut(&s) else {
            return Err(StateError::BadStateid);
        };
        if ticket.kind != OwnerKind::Lock || l.owner != ticket.owner {
            return Err(StateError::BadStateid);
        }
        check_generation(l.seqid, stateid.seqid, ticket.caller.minor)?;
        if l.file != file {
            return Err(StateError::BadStateid);
        }
        l.seqid = next_seqid(l.seqid);
        let sid = StateId::encode(boot, c, s, l.seqid);
        let owner = l.owner.clone();
        if let Some(lo) = cl.lock_owners.get_mut(&owner) {
            lo.last_used = now;
        }
        if let Some(f) = self.files.get_mut(&file) {
            carve(&mut f.locks, c, &owner, offset, end);
        }
        let client = self.client_id(c);
        self.note_released(LockRelease::Range { file, client, owner, start: offset, end });
        Ok(sid)
    }

    /// RELEASE_LOCKOWNER (4.0, RFC 7530 §16.37): forget a lock-owner
    /// without locks (NFS4ERR_LOCKS_HELD while it holds any). An unknown
    /// owner is fine.
    pub fn release_lockowner(
        &mut self,
        client: ClientId,
        owner: &[u8],
        now: Instant,
    ) -> Result<(), StateError> {
        let c = self.live_client(client, MinorVersion::V0, now)?;
        let Some(cl) = self.clients.get(&c) else { return Err(StateError::StaleClientid) };
        let Some(lo) = cl.lock_owners.get(owner) else { return Ok(()) };
        let held = lo.states.keys().any(|file| {
            self.files
                .get(file)
                .is_some_and(|f| f.locks.iter().any(|r| same_owner(r.client, &r.owner, c, owner)))
        });
        if held {
            return Err(StateError::LocksHeld);
        }
        let states: Vec<u32> = lo.states.values().copied().collect();
        if !states.is_empty() {
            let client = self.client_id(c);
            self.note_released(LockRelease::Owner { client, owner: owner.to_vec() });
        }
        for s in states {
            self.release_lock_state(c, s);
        }
        if let Some(cl) = self.clients.get_mut(&c) {
            cl.lock_owners.remove(owner);
        }
        Ok(())
    }
}
