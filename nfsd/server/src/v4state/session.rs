//! 4.1 sessions: CREATE_SESSION, SEQUENCE with the slot table,
//! DESTROY_SESSION and BIND_CONN_TO_SESSION (RFC 8881 §2.10, §18.36,
//! §18.46, §18.37, §18.34).
//!
//! The slot table is the replay cache (exactly-once semantics, RFC 8881
//! §2.10.6): a request whose sequence id is the slot's plus one is new; one
//! equal to the slot's is a retry and gets the cached COMPOUND reply (or
//! NFS4ERR_RETRY_UNCACHED_REP when the client did not ask to cache it);
//! anything else is NFS4ERR_SEQ_MISORDERED. A slot is busy from
//! [`StateManager::sequence`] until [`StateManager::sequence_done`] or
//! [`StateManager::sequence_abort`]; a retry meanwhile gets NFS4ERR_DELAY.
//!
//! The client's CREATE_SESSION sequence (RFC 8881 §18.36.4) works the same
//! way with one slot per client, its reply cached as a typed value.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use super::types::{ClientId, MinorVersion, Principal, SessionId, StateError};
use super::StateManager;

/// A transport connection, as the transport names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// channel_attrs4 (RFC 8881 §18.36.3); the RDMA IRD is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelAttrs {
    /// ca_headerpadsize.
    pub header_pad_bytes: u32,
    /// ca_maxrequestsize.
    pub max_request_bytes: u32,
    /// ca_maxresponsesize.
    pub max_response_bytes: u32,
    /// ca_maxresponsesize_cached.
    pub max_response_cached_bytes: u32,
    /// ca_maxoperations.
    pub max_ops: u32,
    /// ca_maxrequests: the number of slots.
    pub max_requests: u32,
}

/// CREATE_SESSION4args without the callback parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateSessionArgs {
    /// csa_clientid.
    pub client: ClientId,
    /// csa_sequence.
    pub sequence: u32,
    /// csa_flags.
    pub flags: u32,
    /// csa_fore_chan_attrs.
    pub fore: ChannelAttrs,
    /// csa_back_chan_attrs.
    pub back: ChannelAttrs,
}

/// CREATE_SESSION4resok.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateSessionOk {
    /// csr_sessionid.
    pub session: SessionId,
    /// csr_sequence (equals csa_sequence).
    pub sequence: u32,
    /// csr_flags: CONN_BACK_CHAN as asked; PERSIST and CONN_RDMA never.
    pub flags: u32,
    /// The negotiated fore channel.
    pub fore: ChannelAttrs,
    /// The negotiated back channel.
    pub back: ChannelAttrs,
}

/// CREATE_SESSION4_FLAG_PERSIST.
pub const CREATE_SESSION4_FLAG_PERSIST: u32 = 0x1;
/// CREATE_SESSION4_FLAG_CONN_BACK_CHAN.
pub const CREATE_SESSION4_FLAG_CONN_BACK_CHAN: u32 = 0x2;
/// CREATE_SESSION4_FLAG_CONN_RDMA.
pub const CREATE_SESSION4_FLAG_CONN_RDMA: u32 = 0x4;
/// SEQ4_STATUS_RESTART_RECLAIM_NEEDED.
pub const SEQ4_STATUS_RESTART_RECLAIM_NEEDED: u32 = 0x100;

/// SEQUENCE4args plus what the handler knows about the COMPOUND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceArgs {
    /// sa_sessionid.
    pub session: SessionId,
    /// sa_sequenceid.
    pub sequence: u32,
    /// sa_slotid.
    pub slot: u32,
    /// sa_highest_slotid.
    pub highest_slot: u32,
    /// sa_cachethis.
    pub cache_this: bool,
    /// Operations in the COMPOUND (SEQUENCE included).
    pub ops: u32,
    /// Size of the COMPOUND request.
    pub request_bytes: u32,
    /// Size of the smallest possible reply (COMPOUND header plus
    /// SEQUENCE's result): below it even SEQUENCE cannot answer.
    pub reply_min_bytes: u32,
    /// A hash of the COMPOUND's operations (not the tag), to tell a
    /// false retry (RFC 8881 §2.10.6.1.3); 0 disables the check.
    pub args_hash: u64,
}

/// The slot a COMPOUND runs in: hand it back to
/// [`StateManager::sequence_done`] or [`StateManager::sequence_abort`].
#[derive(Debug)]
pub struct SlotTicket {
    session: SessionId,
    slot: u32,
    sequence: u32,
    cache_this: bool,
}

impl SlotTicket {
    /// The session.
    pub fn session(&self) -> SessionId {
        self.session
    }
}

/// A new request admitted by SEQUENCE.
#[derive(Debug)]
pub struct SequenceOk {
    /// The session's client.
    pub client: ClientId,
    /// The slot, to release when the COMPOUND is done.
    pub ticket: SlotTicket,
    /// sr_highest_slotid.
    pub highest_slot: u32,
    /// sr_target_highest_slotid.
    pub target_highest_slot: u32,
    /// sr_status_flags.
    pub status_flags: u32,
    /// The largest reply allowed: the cached limit when caching was asked
    /// for (larger: NFS4ERR_REP_TOO_BIG_TO_CACHE), else the response limit
    /// (NFS4ERR_REP_TOO_BIG).
    pub reply_max_bytes: u32,
}

/// What SEQUENCE decided.
#[derive(Debug)]
pub enum SequenceOutcome {
    /// Execute the COMPOUND.
    Execute(SequenceOk),
    /// A retry: send this cached COMPOUND reply again.
    Replay(Arc<Vec<u8>>),
}

#[derive(Debug)]
enum SlotReply {
    None,
    Uncached,
    Cached(Arc<Vec<u8>>),
}

#[derive(Debug)]
struct Slot {
    seqid: u32,
    /// The sequence id of the request executing in it.
    in_use: Option<u32>,
    reply: SlotReply,
    args_hash: u64,
}

#[derive(Debug)]
pub(crate) struct Session {
    pub client: u32,
    fore: ChannelAttrs,
    slots: Vec<Slot>,
    conns: VecDeque<ConnId>,
}

impl Session {
    fn bind(&mut self, conn: ConnId, max: usize) {
        if self.conns.contains(&conn) {
            return;
        }
        self.conns.push_back(conn);
        while self.conns.len() > max.max(1) {
            self.conns.pop_front();
        }
    }
}

impl StateManager {
    /// Negotiate the channels (RFC 8881 §18.36.3): TOOSMALL below the
    /// minima, everything else clamped to the server's limits.
    fn negotiate(
        &self,
        fore: &ChannelAttrs,
        back: &ChannelAttrs,
    ) -> Result<(ChannelAttrs, ChannelAttrs), StateError> {
        let l = &self.cfg.limits.channel;
        if fore.max_request_bytes < l.request_bytes_min
            || fore.max_response_bytes < l.response_bytes_min
        {
            return Err(StateError::TooSmall);
        }
        if back.max_request_bytes < l.back_request_bytes_min
            || back.max_response_bytes < l.back_response_bytes_min
            || back.max_ops < l.back_ops_min
        {
            return Err(StateError::TooSmall);
        }
        let fore = ChannelAttrs {
            header_pad_bytes: 0,
            max_request_bytes: fore.max_request_bytes.min(l.request_bytes_max),
            max_response_bytes: fore.max_response_bytes.min(l.response_bytes_max),
            max_response_cached_bytes: fore
                .max_response_cached_bytes
                .min(l.response_cached_bytes_max),
            max_ops: fore.max_ops.min(l.ops_max),
            max_requests: fore.max_requests.clamp(1, self.cfg.limits.slots_per_session_max.max(1)),
        };
        let back = ChannelAttrs {
            header_pad_bytes: 0,
            max_request_bytes: back.max_request_bytes,
            max_response_bytes: back.max_response_bytes,
            max_response_cached_bytes: 0,
            max_ops: back.max_ops,
            max_requests: 1,
        };
        Ok((fore, back))
    }

    /// CREATE_SESSION (RFC 8881 §18.36), arrived on `conn` (which it
    /// binds). Confirms an unconfirmed client, replacing a confirmed one
    /// of the same owner (EXCHANGE_ID case 5).
    ///
    /// Errors: INVAL (flags), TOOSMALL, STALE_CLIENTID, CLID_INUSE (an
    /// unconfirmed client and another principal), SEQ_MISORDERED, DELAY
    /// (session limit). A retry (csa_sequence equal to the last) gets the
    /// cached result.
    pub fn create_session(
        &mut self,
        args: &CreateSessionArgs,
        principal: &Principal,
        conn: ConnId,
        now: Instant,
    ) -> Result<CreateSessionOk, StateError> {
        let mask = CREATE_SESSION4_FLAG_PERSIST
            | CREATE_SESSION4_FLAG_CONN_BACK_CHAN
            | CREATE_SESSION4_FLAG_CONN_RDMA;
        if args.flags & !mask != 0 {
            return Err(StateError::Inval);
        }
        let (fore, back) = self.negotiate(&args.fore, &args.back)?;
        if args.client.boot() != self.boot {
            return Err(StateError::StaleClientid);
        }
        let c = args.client.counter();
        let lease = self.cfg.lease;
        let Some(cl) = self.clients.get(&c) else { return Err(StateError::StaleClientid) };
        if cl.minor != MinorVersion::V1 {
            return Err(StateError::StaleClientid);
        }
        if cl.confirmed {
            if self.reapable(cl, now) {
                self.remove_client(c, true);
                return Err(StateError::StaleClientid);
            }
            if args.sequence == cl.cs_seqid {
                return cl.cs_reply.clone().unwrap_or(Err(StateError::SeqMisordered));
            }
            if args.sequence != cl.cs_seqid.wrapping_add(1) {
                return Err(StateError::SeqMisordered);
            }
        } else {
            if now.saturating_duration_since(cl.renewed) >= lease {
                self.remove_client(c, false);
                return Err(StateError::StaleClientid);
            }
            if cl.principal != *principal {
                return Err(StateError::ClidInuse);
            }
            // A "retry" of a CREATE_SESSION that never happened.
            if args.sequence != cl.cs_seqid.wrapping_add(1) {
                return Err(StateError::SeqMisordered);
            }
        }
        if cl.sessions.len() >= self.cfg.limits.sessions_per_client_max {
            return Err(StateError::Delay);
        }
        if !cl.confirmed {
            let name = cl.name.clone();
            if let Some(old) = self.confirmed_by_name.get(&name).copied() {
                if old != c {
                    self.remove_client(old, true);
                }
            }
            self.unconfirmed_by_name.remove(&name);
            self.confirmed_by_name.insert(name, c);
        }
        let n = self.next_session;
        self.next_session = self.next_session.wrapping_add(1).max(1);
        let mut id = [0u8; 16];
        id[0..4].copy_from_slice(&self.boot.to_be_bytes());
        id[4..8].copy_from_slice(&c.to_be_bytes());
        id[8..12].copy_from_slice(&n.to_be_bytes());
        let session = SessionId(id);
        let slots = (0..fore.max_requests)
            .map(|_| Slot { seqid: 0, in_use: None, reply: SlotReply::None, args_hash: 0 })
            .collect();
        self.sessions
            .insert(session, Session { client: c, fore, slots, conns: VecDeque::from([conn]) });
        let ok = CreateSessionOk {
            session,
            sequence: args.sequence,
            flags: args.flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
            fore,
            back,
        };
        if let Some(cl) = self.clients.get_mut(&c) {
            cl.confirmed = true;
            cl.renewed = now;
            cl.sessions.insert(session);
            cl.cs_seqid = args.sequence;
            cl.cs_reply = Some(Ok(ok.clone()));
        }
        Ok(ok)
    }

    /// SEQUENCE (RFC 8881 §18.46), arrived on `conn` (which it binds:
    /// SP4_NONE, pynfs SEQ4). Renews the lease.
    ///
    /// Order of checks: session (BADSESSION, also for a client whose lease
    /// ran out), TOO_MANY_OPS, REQ_TOO_BIG, slot (BADSLOT), sequence id
    /// (replay, SEQ_MISORDERED, DELAY, RETRY_UNCACHED_REP, SEQ_FALSE_RETRY),
    /// then REP_TOO_BIG(_TO_CACHE) against `reply_min_bytes`. Only a new
    /// request occupies the slot.
    pub fn sequence(
        &mut self,
        args: &SequenceArgs,
        conn: ConnId,
        now: Instant,
    ) -> Result<SequenceOutcome, StateError> {
        let Some(sess) = self.sessions.get(&args.session) else {
            return Err(StateError::BadSession);
        };
        let c = sess.client;
        match self.clients.get(&c) {
            Some(cl) if self.reapable(cl, now) => {
                self.remove_client(c, true);
                return Err(StateError::BadSession);
            }
            Some(_) => {}
            None => return Err(StateError::BadSession),
        }
        let conns_max = self.cfg.limits.conns_per_session_max;
        let Some(sess) = self.sessions.get_mut(&args.session) else {
            return Err(StateError::BadSession);
        };
        if args.ops > sess.fore.max_ops {
            return Err(StateError::TooManyOps);
        }
        if args.request_bytes > sess.fore.max_request_bytes {
            return Err(StateError::ReqTooBig);
        }
        let nslots = sess.slots.len() as u32;
        let Some(slot) = sess.slots.get_mut(args.slot as usize) else {
            return Err(StateError::BadSlot);
        };
        if let Some(pending) = slot.in_use {
            return Err(if args.sequence == pending {
                StateError::Delay
            } else {
                StateError::SeqMisordered
            });
        }
        if args.sequence == slot.seqid {
            let reply = match &slot.reply {
                SlotReply::None => return Err(StateError::SeqMisordered),
                _ if args.args_hash != 0
                    && slot.args_hash != 0
                    && args.args_hash != slot.args_hash =>
                {
                    return Err(StateError::SeqFalseRetry)
                }
                SlotReply::Uncached => return Err(StateError::RetryUncachedRep),
                SlotReply::Cached(r) => r.clone(),
            };
            sess.bind(conn, conns_max);
            if let Some(cl) = self.clients.get_mut(&c) {
                cl.renewed = now;
            }
            return Ok(SequenceOutcome::Replay(reply));
        }
        if args.sequence != slot.seqid.wrapping_add(1) {
            return Err(StateError::SeqMisordered);
        }
        let reply_max_bytes = if args.cache_this {
            if sess.fore.max_response_cached_bytes < args.reply_min_bytes {
                return Err(StateError::RepTooBigToCache);
            }
            sess.fore.max_response_cached_bytes
        } else {
            sess.fore.max_response_bytes
        };
        if sess.fore.max_response_bytes < args.reply_min_bytes {
            return Err(StateError::RepTooBig);
        }
        slot.in_use = Some(args.sequence);
        slot.args_hash = args.args_hash;
        sess.bind(conn, conns_max);
        let client = self.client_id(c);
        let in_grace = self.in_grace(now);
        let mut status_flags = 0;
        if let Some(cl) = self.clients.get_mut(&c) {
            cl.renewed = now;
            // RFC 8881 §18.46.3: set until the client's RECLAIM_COMPLETE
            // while it has state of the previous instance to reclaim.
            if in_grace && !cl.reclaim_complete && self.grace.previous.contains(&cl.name) {
                status_flags |= SEQ4_STATUS_RESTART_RECLAIM_NEEDED;
            }
        }
        Ok(SequenceOutcome::Execute(SequenceOk {
            client,
            ticket: SlotTicket {
                session: args.session,
                slot: args.slot,
                sequence: args.sequence,
                cache_this: args.cache_this,
            },
            highest_slot: nslots - 1,
            target_highest_slot: nslots - 1,
            status_flags,
            reply_max_bytes,
        }))
    }

    /// The COMPOUND of `ticket` is answered with `reply` (the whole
    /// encoded COMPOUND reply): the slot advances and keeps the reply when
    /// the client asked for caching and it fits the negotiated cached
    /// size; otherwise a retry gets NFS4ERR_RETRY_UNCACHED_REP. Harmless if
    /// the session is gone meanwhile.
    pub fn sequence_done(&mut self, ticket: SlotTicket, reply: Option<Vec<u8>>) {
        let Some(sess) = self.sessions.get_mut(&ticket.session) else { return };
        let cached_max = sess.fore.max_response_cached_bytes as usize;
        let Some(slot) = sess.slots.get_mut(ticket.slot as usize) else { return };
        if slot.in_use != Some(ticket.sequence) {
            return;
        }
        slot.in_use = None;
        slot.seqid = ticket.sequence;
        slot.reply = match reply {
            Some(r) if ticket.cache_this && r.len() <= cached_max => SlotReply::Cached(Arc::new(r)),
            _ => SlotReply::Uncached,
        };
    }

    /// Free the slot of `ticket` without advancing it: the COMPOUND was
    /// not executed (its SEQUENCE failed after all).
    pub fn sequence_abort(&mut self, ticket: SlotTicket) {
        let Some(sess) = self.sessions.get_mut(&ticket.session) else { return };
        if let Some(slot) = sess.slots.get_mut(ticket.slot as usize) {
            if slot.in_use == Some(ticket.sequence) {
                slot.in_use = None;
            }
        }
    }

    /// DESTROY_SESSION (RFC 8881 §18.37) received on `conn`; `current` is
    /// the slot of the COMPOUND's own SEQUENCE, if it has one.
    ///
    /// Errors: BADSESSION; CONN_NOT_BOUND_TO_SESSION when `conn` is not
    /// bound to it (pynfs DSESS9001); DELAY while another request runs in
    /// it.
    pub fn destroy_session(
        &mut self,
        session: SessionId,
        conn: ConnId,
        current: Option<&SlotTicket>,
        now: Instant,
    ) -> Result<(), StateError> {
        let Some(sess) = self.sessions.get(&session) else { return Err(StateError::BadSession) };
        if !sess.conns.contains(&conn) {
            return Err(StateError::ConnNotBoundToSession);
        }
        let own = current.filter(|t| t.session == session).map(|t| t.slot);
        let busy =
            sess.slots.iter().enumerate().any(|(i, s)| s.in_use.is_some() && Some(i as u32) != own);
        if busy {
            return Err(StateError::Delay);
        }
        let c = sess.client;
        self.sessions.remove(&session);
        if let Some(cl) = self.clients.get_mut(&c) {
            cl.sessions.remove(&session);
            cl.renewed = now;
        }
        Ok(())
    }

    /// BIND_CONN_TO_SESSION (RFC 8881 §18.34): bind `conn` to the session
    /// (the fore channel; there is no back channel to bind). Returns the
    /// session's client.
    pub fn bind_conn_to_session(
        &mut self,
        session: SessionId,
        conn: ConnId,
        now: Instant,
    ) -> Result<ClientId, StateError> {
        let conns_max = self.cfg.limits.conns_per_session_max;
        let Some(sess) = self.sessions.get_mut(&session) else {
            return Err(StateError::BadSession);
        };
        sess.bind(conn, conns_max);
        let c = sess.client;
        if let Some(cl) = self.clients.get_mut(&c) {
            cl.renewed = now;
        }
        Ok(self.client_id(c))
    }

    /// The transport closed `conn`: unbind it everywhere.
    pub fn connection_closed(&mut self, conn: ConnId) {
        for s in self.sessions.values_mut() {
            s.conns.retain(|c| *c != conn);
        }
    }

    /// The negotiated fore channel of a session (for the handler's size
    /// checks).
    pub fn session_fore_channel(&self, session: SessionId) -> Option<ChannelAttrs> {
        self.sessions.get(&session).map(|s| s.fore)
    }
}
