//! The NFSv4.0/4.1 state manager.
//!
//! Owns: client IDs (SETCLIENTID/SETCLIENTID_CONFIRM, EXCHANGE_ID), 4.1
//! sessions with their slot tables and connection bindings, open- and
//! lock-owners with the 4.0 seqid replay cache, stateids, share
//! reservations, byte-range locks, leases and the grace period with its
//! durable client records.
//!
//! Must not: do I/O other than through [`ClientRecords`], decode or encode
//! XDR, read the clock (every call that needs time takes `now`), block, or
//! panic on anything a client sent. It is one plain struct: the front end
//! keeps it behind one `parking_lot::Mutex` and never holds that lock
//! across an `.await`.
//!
//! How a COMPOUND handler uses it:
//! - 4.0 seqid-ordered operations (OPEN, OPEN_CONFIRM, OPEN_DOWNGRADE,
//!   CLOSE, LOCK, LOCKU) run in three steps: [`StateManager::open_owner_begin`]
//!   or [`StateManager::stateid_begin`] check the owner's seqid and may answer
//!   with the cached reply (RFC 7530 §9.1.9); the operation method
//!   ([`StateManager::open`], [`StateManager::close`], ...) changes state;
//!   [`StateManager::seqid_finish`] stores the encoded reply. 4.1 uses the
//!   same calls: seqids are ignored and nothing is cached (the slot
//!   table is the replay cache, RFC 8881 §2.10.6).
//! - 4.1 COMPOUNDs start with [`StateManager::sequence`] and end with
//!   [`StateManager::sequence_done`].
//!
//! Invariants (checked by `check_invariants` in the tests after every
//! step):
//! - a file's open set, the owners' open maps and the clients' open
//!   states name each other exactly;
//! - every byte range held by a lock-owner on a file belongs to a lock
//!   stateid of that owner for that file, and a lock stateid belongs to an
//!   open stateid of the same client;
//! - the ranges of one owner on one file never overlap;
//! - a stateid's `other` encodes this instance, its client and its state
//!   number, so stateids of earlier instances are STALE, never BAD;
//! - iteration is over ordered maps only: results never depend on hash
//!   order.

#![warn(missing_docs)]

mod client;
mod grace;
mod lock;
mod open;
mod seqid;
mod session;
mod stateid;
mod types;

#[cfg(test)]
mod tests;

pub use client::{
    ExchangeIdArgs, ExchangeIdOk, SetClientIdOk, EXCHGID4_FLAG_BIND_PRINC_STATEID,
    EXCHGID4_FLAG_CONFIRMED_R, EXCHGID4_FLAG_SUPP_MOVED_MIGR, EXCHGID4_FLAG_SUPP_MOVED_REFER,
    EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, EXCHGID4_FLAG_USE_NON_PNFS, EXCHGID4_FLAG_USE_PNFS_DS,
    EXCHGID4_FLAG_USE_PNFS_MDS,
};
pub use grace::{ClientRecords, FileClientRecords, MemClientRecords};
pub(crate) use lock::range_end;
pub use lock::{LockArgs, LockPlan, LockRelease, Locker};
pub use open::{CloseOk, OpenArgs, OpenClaim, OpenOk};
pub use seqid::{SeqTicket, Sequenced};
pub use session::{
    ChannelAttrs, ConnId, CreateSessionArgs, CreateSessionOk, SequenceArgs, SequenceOk,
    SequenceOutcome, SlotTicket, CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
    CREATE_SESSION4_FLAG_CONN_RDMA, CREATE_SESSION4_FLAG_PERSIST,
    SEQ4_STATUS_RESTART_RECLAIM_NEEDED,
};
pub use stateid::{IoGrant, IoKind};
pub use types::{
    Caller, ClientId, FileKey, LockDenied, LockOwnerId, LockType, MinorVersion, Principal,
    SessionId, ShareAccess, ShareDeny, SpecialStateId, StateError, StateId, SHARE_ACCESS_WANT_MASK,
};

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use grace::Grace;
use session::Session;

/// Limits on everything the manager keeps. Exceeding one is
/// NFS4ERR_RESOURCE for 4.0 and NFS4ERR_DELAY for 4.1 (which has no
/// RESOURCE, RFC 8881 §15.1.1.5), except where noted.
#[derive(Debug, Clone)]
pub struct StateLimits {
    /// Client records, confirmed and unconfirmed.
    pub clients_max: usize,
    /// Sessions of one client.
    pub sessions_per_client_max: usize,
    /// Connections bound to one session; the oldest binding is dropped.
    pub conns_per_session_max: usize,
    /// Fore-channel slots of a session (`ca_maxrequests` is clamped).
    pub slots_per_session_max: u32,
    /// Open- plus lock-owners of one client.
    pub owners_per_client_max: usize,
    /// Stateids of one client.
    pub states_per_client_max: usize,
    /// Byte ranges locked on one file, all owners together.
    pub locks_per_file_max: usize,
    /// Remembered waiters of blocking locks on one file (beyond it,
    /// waiters are simply not remembered).
    pub blocked_locks_per_file_max: usize,
    /// A 4.0 owner's cached reply; a longer reply is not cached (a replay
    /// of it then gets NFS4ERR_BAD_SEQID).
    pub owner_reply_bytes_max: usize,
    /// Clients remembered as expired (answering NFS4ERR_EXPIRED rather
    /// than STALE_CLIENTID / BAD_STATEID); the oldest is forgotten.
    pub expired_clients_kept_max: usize,
    /// Files whose last open was released, kept until
    /// [`StateManager::take_closed_files`]; beyond it the oldest are
    /// dropped.
    pub closed_files_kept_max: usize,
    /// Session channel limits.
    pub channel: ChannelLimits,
}

/// The server's side of CREATE_SESSION channel negotiation (RFC 8881
/// §18.36.3).
#[derive(Debug, Clone)]
pub struct ChannelLimits {
    /// Largest COMPOUND request accepted.
    pub request_bytes_max: u32,
    /// Largest COMPOUND reply sent.
    pub response_bytes_max: u32,
    /// Largest reply kept in a slot's replay cache.
    pub response_cached_bytes_max: u32,
    /// Most operations in one COMPOUND.
    pub ops_max: u32,
    /// Fore channel: a smaller `ca_maxrequestsize` is NFS4ERR_TOOSMALL.
    pub request_bytes_min: u32,
    /// Fore channel: a smaller `ca_maxresponsesize` is NFS4ERR_TOOSMALL.
    pub response_bytes_min: u32,
    /// Back channel: a smaller `ca_maxrequestsize` is NFS4ERR_TOOSMALL.
    pub back_request_bytes_min: u32,
    /// Back channel: a smaller `ca_maxresponsesize` is NFS4ERR_TOOSMALL.
    pub back_response_bytes_min: u32,
    /// Back channel: fewer operations (CB_SEQUENCE plus one) is
    /// NFS4ERR_TOOSMALL.
    pub back_ops_min: u32,
}

impl Default for StateLimits {
    fn default() -> Self {
        StateLimits {
            clients_max: 16_384,
            sessions_per_client_max: 16,
            conns_per_session_max: 16,
            slots_per_session_max: 64,
            owners_per_client_max: 4096,
            states_per_client_max: 16_384,
            locks_per_file_max: 4096,
            blocked_locks_per_file_max: 64,
            owner_reply_bytes_max: 2048,
            expired_clients_kept_max: 4096,
            closed_files_kept_max: 65_536,
            channel: ChannelLimits::default(),
        }
    }
}

impl Default for ChannelLimits {
    fn default() -> Self {
        ChannelLimits {
            request_bytes_max: 1024 * 1024 + 64 * 1024,
            response_bytes_max: 1024 * 1024 + 64 * 1024,
            response_cached_bytes_max: 8 * 1024,
            ops_max: 128,
            request_bytes_min: 96,
            response_bytes_min: 96,
            back_request_bytes_min: 96,
            back_response_bytes_min: 64,
            back_ops_min: 2,
        }
    }
}

/// Configuration of a [`StateManager`].
#[derive(Debug, Clone)]
pub struct StateConfig {
    /// This server instance, carried in client IDs, session IDs and
    /// stateids; must differ between restarts (e.g. the start time in
    /// seconds). 0, 1 and `u32::MAX` are avoided (they collide with
    /// special or deliberately stale stateids) by mapping them to 2.
    pub boot_instance: u32,
    /// The lease (RFC 7530 §9.5, the `lease_time` attribute).
    pub lease: Duration,
    /// Whether to run a grace period after start when earlier instances
    /// recorded clients (off: reclaims always get NFS4ERR_NO_GRACE).
    pub grace: bool,
    /// Length of the grace period; `None`: one lease (RFC 8881 §8.4.2.1
    /// asks for at least a lease).
    pub grace_period: Option<Duration>,
    /// How long past its lease a silent client keeps its state while
    /// nobody conflicts with it (a "courteous" server). Zero: state goes
    /// when the lease does.
    pub courtesy: Duration,
    /// Limits.
    pub limits: StateLimits,
}

impl StateConfig {
    /// Defaults: 90 s lease, a grace period of one lease, no courtesy.
    pub fn new(boot_instance: u32) -> Self {
        StateConfig {
            boot_instance,
            lease: Duration::from_secs(90),
            grace: true,
            grace_period: None,
            courtesy: Duration::ZERO,
            limits: StateLimits::default(),
        }
    }
}

/// What [`StateManager::reap`] released.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReapReport {
    /// Confirmed clients whose lease expired; their opens, locks and
    /// sessions are gone.
    pub expired_clients: Vec<ClientId>,
    /// Unconfirmed client records dropped after a lease unconfirmed.
    pub unconfirmed_dropped: usize,
    /// Idle 4.0 owners forgotten (no state, unused for a lease).
    pub owners_dropped: usize,
    /// Whether the grace period ended in this call.
    pub grace_ended: bool,
}

/// 4.0 owner seqid bookkeeping (RFC 7530 §9.1.7).
#[derive(Debug, Default)]
pub(crate) struct SeqState {
    /// The seqid of the last request that advanced it; `None` for an
    /// owner that has not completed a request yet.
    pub last: Option<u32>,
    /// The encoded result of that request.
    pub reply: Option<Arc<Vec<u8>>>,
    /// A request being executed: its seqid and start.
    pub in_progress: Option<(u32, Instant)>,
}

#[derive(Debug)]
pub(crate) struct OpenOwner {
    pub seq: SeqState,
    /// 4.0: confirmed by OPEN_CONFIRM (4.1 owners are born confirmed).
    pub confirmed: bool,
    pub opens: BTreeMap<FileKey, u32>,
    /// The last CLOSE's marker state, kept so its replay can be answered.
    pub closed: Option<u32>,
    pub last_used: Instant,
}

#[derive(Debug)]
pub(crate) struct LockOwner {
    pub seq: SeqState,
    /// One lock stateid per file.
    pub states: BTreeMap<FileKey, u32>,
    pub last_used: Instant,
}

#[derive(Debug)]
pub(crate) struct OpenState {
    pub owner: Vec<u8>,
    pub file: FileKey,
    pub seqid: u32,
    pub access: u8,
    pub deny: u8,
    /// Bit `1 << mode` for every access mode OPENed (or downgraded to)
    /// since, for OPEN_DOWNGRADE's subset rule (RFC 7530 §16.19.4).
    pub access_used: u8,
    /// Same for deny modes.
    pub deny_used: u8,
    /// Lock stateids opened through this open.
    pub locks: BTreeSet<u32>,
}

#[derive(Debug)]
pub(crate) struct LockState {
    pub owner: Vec<u8>,
    pub file: FileKey,
    pub seqid: u32,
    /// The open stateid it was created from.
    pub open: u32,
}

#[derive(Debug)]
pub(crate) enum State {
    Open(OpenState),
    Lock(LockState),
    /// A closed 4.0 open stateid, kept only to find its owner when the
    /// CLOSE is replayed; any other use is NFS4ERR_BAD_STATEID.
    Closed {
        owner: Vec<u8>,
        seqid: u32,
    },
}

#[derive(Debug)]
pub(crate) struct Client {
    pub counter: u32,
    /// `nfs_client_id4.id` / `co_ownerid`.
    pub name: Vec<u8>,
    pub verifier: [u8; 8],
    pub principal: Principal,
    pub minor: MinorVersion,
    pub confirmed: bool,
    /// 4.0: the SETCLIENTID_CONFIRM verifier.
    pub confirm: [u8; 8],
    /// 4.0: a SETCLIENTID of the confirmed incarnation (same verifier)
    /// waiting for its SETCLIENTID_CONFIRM: (verifier, principal).
    pub pending_confirm: Option<([u8; 8], Principal)>,
    /// Start of the current lease (or, unconfirmed, of the record).
    pub renewed: Instant,
    /// Recorded in the durable client records.
    pub recorded: bool,
    /// 4.1: sent a global RECLAIM_COMPLETE.
    pub reclaim_complete: bool,
    /// 4.1: the last CREATE_SESSION sequence id (RFC 8881 §18.36.4).
    pub cs_seqid: u32,
    /// 4.1: the reply to that CREATE_SESSION, for its replay.
    pub cs_reply: Option<Result<CreateSessionOk, StateError>>,
    pub sessions: BTreeSet<SessionId>,
    pub open_owners: BTreeMap<Vec<u8>, OpenOwner>,
    pub lock_owners: BTreeMap<Vec<u8>, LockOwner>,
    pub states: BTreeMap<u32, State>,
    pub next_state: u32,
}

impl Client {
    /// Whether the client holds opens or locks.
    pub fn has_open_state(&self) -> bool {
        self.states.values().any(|s| !matches!(s, State::Closed { .. }))
    }

    pub fn owner_count(&self) -> usize {
        self.open_owners.len() + self.lock_owners.len()
    }
}

/// One byte range held by a lock-owner; `end` is inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockRange {
    pub client: u32,
    pub owner: Arc<[u8]>,
    pub start: u64,
    pub end: u64,
    pub ty: LockType,
}

/// A lock-owner that was denied a blocking lock and may come back for it.
#[derive(Debug, Clone)]
pub(crate) struct Blocked {
    pub client: u32,
    pub owner: Arc<[u8]>,
    pub start: u64,
    pub end: u64,
    pub ty: LockType,
    /// When it first waited: older waiters go first.
    pub since: Instant,
    /// Forgotten unless it asks again before this.
    pub until: Instant,
}

#[derive(Debug, Default)]
pub(crate) struct FileState {
    /// (client counter, state number) of every open.
    pub opens: BTreeSet<(u32, u32)>,
    pub locks: Vec<LockRange>,
    pub blocked: Vec<Blocked>,
}

impl FileState {
    fn is_empty(&self) -> bool {
        self.opens.is_empty() && self.locks.is_empty() && self.blocked.is_empty()
    }
}

/// The state manager. See the module documentation.
pub struct StateManager {
    cfg: StateConfig,
    boot: u32,
    clients: BTreeMap<u32, Client>,
    next_client: u32,
    confirmed_by_name: BTreeMap<Vec<u8>, u32>,
    unconfirmed_by_name: BTreeMap<Vec<u8>, u32>,
    /// Client counters that expired, oldest first.
    expired: VecDeque<u32>,
    expired_set: BTreeSet<u32>,
    sessions: BTreeMap<SessionId, Session>,
    next_session: u32,
    next_verifier: u32,
    files: BTreeMap<FileKey, FileState>,
    closed_files: BTreeSet<FileKey>,
    /// Locks released since [`StateManager::take_released_locks`], oldest first.
    released_locks: VecDeque<LockRelease>,
    grace: Grace,
    records: Box<dyn ClientRecords>,
}

impl std::fmt::Debug for StateManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateManager")
            .field("boot", &self.boot)
            .field("clients", &self.clients.len())
            .field("sessions", &self.sessions.len())
            .field("files", &self.files.len())
            .finish_non_exhaustive()
    }
}

impl StateManager {
    /// A manager for a server instance starting at `now`, with the client
    /// records of earlier instances in `records`.
    pub fn new(cfg: StateConfig, records: Box<dyn ClientRecords>, now: Instant) -> Self {
        let boot = match cfg.boot_instance {
            0 | 1 | u32::MAX => 2,
            b => b,
        };
        let period = cfg.grace_period.unwrap_or(cfg.lease);
        let grace = Grace::new(records.load(), cfg.grace, period, now);
        StateManager {
            cfg,
            boot,
            clients: BTreeMap::new(),
            next_client: 1,
            confirmed_by_name: BTreeMap::new(),
            unconfirmed_by_name: BTreeMap::new(),
            expired: VecDeque::new(),
            expired_set: BTreeSet::new(),
            sessions: BTreeMap::new(),
            next_session: 1,
            next_verifier: 1,
            files: BTreeMap::new(),
            closed_files: BTreeSet::new(),
            released_locks: VecDeque::new(),
            grace,
            records,
        }
    }

    /// The lease time (for the `lease_time` attribute).
    pub fn lease(&self) -> Duration {
        self.cfg.lease
    }

    /// The boot instance actually in use.
    pub fn boot_instance(&self) -> u32 {
        self.boot
    }

    /// Whether the grace period runs at `now` (handlers also refuse
    /// REMOVE/RENAME of reclaimable files with it, RFC 7530 §9.6.2).
    pub fn in_grace(&mut self, now: Instant) -> bool {
        if self.grace.still_running(now) {
            return true;
        }
        if self.grace.is_active() {
            self.end_grace();
        }
        false
    }

    /// Whether anybody holds `file` open.
    pub fn is_open(&self, file: FileKey) -> bool {
        self.files.get(&file).is_some_and(|f| !f.opens.is_empty())
    }

    /// Every file somebody holds open, in key order.
    pub fn open_files(&self) -> Vec<FileKey> {
        self.files.iter().filter(|(_, f)| !f.opens.is_empty()).map(|(k, _)| *k).collect()
    }

    /// Files whose last open was released since the previous call, by
    /// CLOSE, expiry, client replacement or destruction: the front end
    /// deletes those that were removed while open.
    pub fn take_closed_files(&mut self) -> Vec<FileKey> {
        let out: Vec<FileKey> = std::mem::take(&mut self.closed_files).into_iter().collect();
        out.into_iter().filter(|f| !self.is_open(*f)).collect()
    }

    /// Byte-range locks released since the previous call (LOCKU, CLOSE,
    /// RELEASE_LOCKOWNER, expired or replaced clients), oldest first: a
    /// front end whose locks a cluster arbitrates releases them there too.
    pub fn take_released_locks(&mut self) -> Vec<LockRelease> {
        self.released_locks.drain(..).collect()
    }

    /// Put back releases that could not be passed on (at the front: they
    /// are older than anything released since).
    pub fn return_released_locks(&mut self, back: Vec<LockRelease>) {
        for r in back.into_iter().rev() {
            self.released_locks.push_front(r);
        }
        self.bound_released_locks();
    }

    pub(crate) fn note_released(&mut self, r: LockRelease) {
        self.released_locks.push_back(r);
        self.bound_released_locks();
    }

    fn bound_released_locks(&mut self) {
        while self.released_locks.len() > self.cfg.limits.closed_files_kept_max {
            self.released_locks.pop_front();
            tracing::warn!("too many lock releases not passed on: the oldest is forgotten");
        }
    }

    /// Release the state of clients whose lease (plus courtesy) ran out,
    /// drop unconfirmed records older than a lease and idle 4.0 owners, and
    /// end the grace period when due. Call it about once a second.
    pub fn reap(&mut self, now: Instant) -> ReapReport {
        let mut report = ReapReport::default();
        let was = self.grace.is_active();
        if !self.in_grace(now) && was {
            report.grace_ended = true;
        }
        let counters: Vec<u32> = self.clients.keys().copied().collect();
        for c in counters {
            let Some(cl) = self.clients.get(&c) else { continue };
            if !cl.confirmed {
                if now.saturating_duration_since(cl.renewed) >= self.cfg.lease {
                    self.remove_client(c, false);
                    report.unconfirmed_dropped += 1;
                }
                continue;
            }
            if self.reapable(cl, now) {
                let id = ClientId::new(self.boot, c);
                self.remove_client(c, true);
                report.expired_clients.push(id);
                continue;
            }
            report.owners_dropped += self.drop_idle_owners(c, now);
        }
        report
    }

    // ----- internal helpers shared by the operation modules -----

    pub(crate) fn resource(minor: MinorVersion) -> StateError {
        match minor {
            MinorVersion::V0 => StateError::Resource,
            MinorVersion::V1 => StateError::Delay,
        }
    }

    pub(crate) fn client_id(&self, counter: u32) -> ClientId {
        ClientId::new(self.boot, counter)
    }

    /// Lease over (the client may still be kept as a courtesy).
    pub(crate) fn lease_over(&self, c: &Client, now: Instant) -> bool {
        now.saturating_duration_since(c.renewed) >= self.cfg.lease
    }

    /// Lease and courtesy over: the client's state goes when next looked at.
    pub(crate) fn reapable(&self, c: &Client, now: Instant) -> bool {
        now.saturating_duration_since(c.renewed) >= self.cfg.lease.saturating_add(self.cfg.courtesy)
    }

    /// The confirmed, live client `id` of minor version `minor` for an
    /// operation naming it, its lease renewed (RFC 7530 §9.5: any
    /// operation with a client ID or stateid renews). A client ID of the
    /// other minor version is STALE_CLIENTID, as Linux answers.
    pub(crate) fn live_client(
        &mut self,
        id: ClientId,
        minor: MinorVersion,
        now: Instant,
    ) -> Result<u32, StateError> {
        if id.boot() != self.boot {
            return Err(StateError::StaleClientid);
        }
        let c = id.counter();
        if self.expired_set.contains(&c) {
            return Err(StateError::Expired);
        }
        let Some(cl) = self.clients.get(&c) else { return Err(StateError::StaleClientid) };
        if !cl.confirmed || cl.minor != minor {
            return Err(StateError::StaleClientid);
        }
        if self.reapable(cl, now) {
            self.remove_client(c, true);
            return Err(StateError::Expired);
        }
        if let Some(cl) = self.clients.get_mut(&c) {
            cl.renewed = now;
        }
        Ok(c)
    }

    /// Remove client `c` with all its state and sessions. `expired`: keep
    /// remembering it so its stateids and RENEW answer NFS4ERR_EXPIRED.
    pub(crate) fn remove_client(&mut self, c: u32, expired: bool) {
        let Some(mut cl) = self.clients.remove(&c) else { return };
        for sid in std::mem::take(&mut cl.sessions) {
            self.sessions.remove(&sid);
        }
        let states: Vec<u32> = cl.states.keys().copied().collect();
        // Put the client back while its state is torn down so the
        // helpers find it, then take it out for good.
        self.clients.insert(c, cl);
        let queued = self.released_locks.len();
        for s in states {
            self.release_state(c, s);
        }
        if self.released_locks.len() > queued {
            // one release of the whole client instead of one per lock-owner
            self.released_locks.truncate(queued);
            let id = self.client_id(c);
            self.note_released(LockRelease::Client(id));
        }
        self.drop_blocked_of_client(c);
        let Some(cl) = self.clients.remove(&c) else { return };
        if self.confirmed_by_name.get(&cl.name) == Some(&c) {
            self.confirmed_by_name.remove(&cl.name);
        }
        if self.unconfirmed_by_name.get(&cl.name) == Some(&c) {
            self.unconfirmed_by_name.remove(&cl.name);
        }
        if cl.recorded {
            if let Err(e) = self.records.forget(&cl.name) {
                tracing::warn!(error = %e, "could not forget a client record");
            }
        }
        if expired && cl.confirmed {
            self.expired.push_back(c);
            self.expired_set.insert(c);
            while self.expired.len() > self.cfg.limits.expired_clients_kept_max {
                if let Some(old) = self.expired.pop_front() {
                    self.expired_set.remove(&old);
                }
            }
        }
    }

    /// Release any state (open with its locks, lock, closed marker).
    pub(crate) fn release_state(&mut self, c: u32, s: u32) {
        let kind = match self.clients.get(&c).and_then(|cl| cl.states.get(&s)) {
            Some(State::Open(_)) => 0,
            Some(State::Lock(_)) => 1,
            Some(State::Closed { .. }) => 2,
            None => return,
        };
        match kind {
            0 => {
                self.release_open(c, s, false);
            }
            1 => self.release_lock_state(c, s),
            _ => {
                if let Some(cl) = self.clients.get_mut(&c) {
                    if let Some(State::Closed { owner, .. }) = cl.states.remove(&s) {
                        if let Some(oo) = cl.open_owners.get_mut(&owner) {
                            if oo.closed == Some(s) {
                                oo.closed = None;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Release open state `s` of client `c` and the locks taken through it.
    /// With `keep_marker`, a [`State::Closed`] marker with the next seqid
    /// takes its place (4.0 CLOSE replay). Returns whether it was the last
    /// open of the file.
    pub(crate) fn release_open(&mut self, c: u32, s: u32, keep_marker: bool) -> bool {
        let Some(cl) = self.clients.get_mut(&c) else { return false };
        let Some(State::Open(o)) = cl.states.remove(&s) else { return false };
        let locks: Vec<u32> = o.locks.iter().copied().collect();
        if let Some(oo) = cl.open_owners.get_mut(&o.owner) {
            oo.opens.remove(&o.file);
        }
        if keep_marker {
            let seqid = next_seqid(o.seqid);
            cl.states.insert(s, State::Closed { owner: o.owner.clone(), seqid });
            let old = cl.open_owners.get_mut(&o.owner).and_then(|oo| oo.closed.replace(s));
            if let Some(old) = old {
                if old != s {
                    cl.states.remove(&old);
                }
            }
        }
        for l in locks {
            self.release_lock_state(c, l);
        }
        let mut last = false;
        if let Some(f) = self.files.get_mut(&o.file) {
            f.opens.remove(&(c, s));
            if f.opens.is_empty() {
                last = true;
                self.closed_files.insert(o.file);
                while self.closed_files.len() > self.cfg.limits.closed_files_kept_max {
                    self.closed_files.pop_first();
                }
            }
            if f.is_empty() {
                self.files.remove(&o.file);
            }
        }
        last
    }

    /// Release lock state `s` of client `c` with all its ranges.
    pub(crate) fn release_lock_state(&mut self, c: u32, s: u32) {
        let Some(cl) = self.clients.get_mut(&c) else { return };
        let Some(State::Lock(l)) = cl.states.remove(&s) else { return };
        if let Some(lo) = cl.lock_owners.get_mut(&l.owner) {
            lo.states.remove(&l.file);
        }
        if let Some(State::Open(o)) = cl.states.get_mut(&l.open) {
            o.locks.remove(&s);
        }
        let held = self
            .files
            .get(&l.file)
            .is_some_and(|f| f.locks.iter().any(|r| r.client == c && *r.owner == *l.owner));
        if held {
            let client = self.client_id(c);
            let owner = l.owner.clone();
            self.note_released(LockRelease::Range {
                file: l.file,
                client,
                owner,
                start: 0,
                end: u64::MAX,
            });
        }
        if let Some(f) = self.files.get_mut(&l.file) {
            f.locks.retain(|r| !(r.client == c && *r.owner == *l.owner));
            f.blocked.retain(|b| !(b.client == c && *b.owner == *l.owner));
            if f.is_empty() {
                self.files.remove(&l.file);
            }
        }
    }

    fn drop_blocked_of_client(&mut self, c: u32) {
        let keys: Vec<FileKey> = self
            .files
            .iter()
            .filter(|(_, f)| f.blocked.iter().any(|b| b.client == c))
            .map(|(k, _)| *k)
            .collect();
        for k in keys {
            if let Some(f) = self.files.get_mut(&k) {
                f.blocked.retain(|b| b.client != c);
                if f.is_empty() {
                    self.files.remove(&k);
                }
            }
        }
    }

    /// Forget 4.0 owners without state unused for a lease (RFC 7530 §9.1.8
    /// lets the server drop them; a client then starts them afresh).
    fn drop_idle_owners(&mut self, c: u32, now: Instant) -> usize {
        let lease = self.cfg.lease;
        let Some(cl) = self.clients.get_mut(&c) else { return 0 };
        let idle = |last: Instant| now.saturating_duration_since(last) >= lease;
        let open_idle: Vec<Vec<u8>> = cl
            .open_owners
            .iter()
            .filter(|(_, o)| o.opens.is_empty() && o.seq.in_progress.is_none() && idle(o.last_used))
            .map(|(k, _)| k.clone())
            .collect();
        let lock_idle: Vec<Vec<u8>> = cl
            .lock_owners
            .iter()
            .filter(|(_, o)| {
                o.states.is_empty() && o.seq.in_progress.is_none() && idle(o.last_used)
            })
            .map(|(k, _)| k.clone())
            .collect();
        let n = open_idle.len() + lock_idle.len();
        for k in open_idle {
            if let Some(o) = cl.open_owners.remove(&k) {
                if let Some(m) = o.closed {
                    cl.states.remove(&m);
                }
            }
        }
        for k in lock_idle {
            cl.lock_owners.remove(&k);
        }
        n
    }

    /// Record client `c` durably (once).
    pub(crate) fn record_client(&mut self, c: u32) {
        let Some(cl) = self.clients.get_mut(&c) else { return };
        if cl.recorded {
            return;
        }
        cl.recorded = true;
        let name = cl.name.clone();
        if let Err(e) = self.records.record(&name) {
            // The client keeps working; it only cannot reclaim after the
            // next restart.
            tracing::warn!(error = %e, "could not record a client");
        }
        if self.grace.previous.contains(&name) {
            self.grace.recorded_again.insert(name);
        }
    }

    pub(crate) fn end_grace(&mut self) {
        for owner in self.grace.end() {
            if let Err(e) = self.records.forget(&owner) {
                tracing::warn!(error = %e, "could not forget a client record");
            }
        }
    }

    /// Check the grace rules for a locking operation (OPEN, LOCK) of
    /// client `c`: reclaims only in grace, by previous clients, before
    /// their RECLAIM_COMPLETE; everything else only out of grace and, in
    /// 4.1, after RECLAIM_COMPLETE (RFC 8881 §18.51.3).
    pub(crate) fn check_grace(
        &mut self,
        c: u32,
        reclaim: bool,
        now: Instant,
    ) -> Result<(), StateError> {
        let in_grace = self.in_grace(now);
        let Some(cl) = self.clients.get(&c) else { return Err(StateError::StaleClientid) };
        if reclaim {
            if !in_grace || (cl.minor == MinorVersion::V1 && cl.reclaim_complete) {
                return Err(StateError::NoGrace);
            }
            if !self.grace.previous.contains(&cl.name) {
                return Err(StateError::ReclaimBad);
            }
            self.grace.note_reclaim(now);
            Ok(())
        } else if in_grace || (cl.minor == MinorVersion::V1 && !cl.reclaim_complete) {
            Err(StateError::Grace)
        } else {
            Ok(())
        }
    }

    /// A fresh 8-byte verifier (SETCLIENTID_CONFIRM), unique in this
    /// instance and never all zeros.
    pub(crate) fn fresh_verifier(&mut self) -> [u8; 8] {
        let n = self.next_verifier;
        self.next_verifier = self.next_verifier.wrapping_add(1).max(1);
        let mut v = [0u8; 8];
        v[0..4].copy_from_slice(&self.boot.to_be_bytes());
        v[4..8].copy_from_slice(&n.to_be_bytes());
        v
    }

    /// Check the cross-references listed in the module documentation.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        for (k, f) in &self.files {
            for (c, s) in &f.opens {
                let cl = self.clients.get(c).expect("open of a missing client");
                match cl.states.get(s) {
                    Some(State::Open(o)) => {
                        assert_eq!(o.file, *k, "open indexed under another file");
                        assert_eq!(
                            cl.open_owners.get(&o.owner).and_then(|oo| oo.opens.get(k)),
                            Some(s)
                        );
                    }
                    other => panic!("file open {s} is {other:?}"),
                }
            }
            for (i, r) in f.locks.iter().enumerate() {
                assert!(r.start <= r.end);
                let cl = self.clients.get(&r.client).expect("lock of a missing client");
                let lo = cl.lock_owners.get(&*r.owner).expect("lock of a missing owner");
                let s = lo.states.get(k).expect("range without lock stateid");
                assert!(matches!(cl.states.get(s), Some(State::Lock(_))));
                for r2 in &f.locks[i + 1..] {
                    if r2.client == r.client && r2.owner == r.owner {
                        assert!(r2.end < r.start || r.end < r2.start, "one owner's ranges overlap");
                    }
                }
            }
        }
        for (c, cl) in &self.clients {
            for (s, st) in &cl.states {
                match st {
                    State::Open(o) => {
                        assert!(self
                            .files
                            .get(&o.file)
                            .is_some_and(|f| f.opens.contains(&(*c, *s))));
                        for l in &o.locks {
                            assert!(
                                matches!(cl.states.get(l), Some(State::Lock(ls)) if ls.open == *s)
                            );
                        }
                    }
                    State::Lock(l) => {
                        assert!(
                            matches!(cl.states.get(&l.open), Some(State::Open(o)) if o.locks.contains(s))
                        );
                        assert_eq!(
                            cl.lock_owners.get(&l.owner).and_then(|lo| lo.states.get(&l.file)),
                            Some(s)
                        );
                    }
                    State::Closed { .. } => {}
                }
            }
            for sid in &cl.sessions {
                assert_eq!(self.sessions.get(sid).map(|s| s.client), Some(*c));
            }
        }
        for s in self.sessions.values() {
            assert!(self.clients.get(&s.client).is_some_and(|c| c.confirmed));
        }
    }
}

/// The next stateid seqid: wraps past `u32::MAX` to 1, since 0 means
/// "current" in 4.1 (RFC 8881 §8.2.2).
pub(crate) fn next_seqid(s: u32) -> u32 {
    if s == u32::MAX {
        1
    } else {
        s + 1
    }
}
