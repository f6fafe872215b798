//! 4.0 owner seqids and the per-owner replay cache (RFC 7530 §9.1.7,
//! §9.1.9).
//!
//! Every open- and lock-owner numbers its seqid-ordered requests (OPEN,
//! OPEN_CONFIRM, OPEN_DOWNGRADE, CLOSE, LOCK, LOCKU). A request with the
//! next seqid is executed; one with the last seqid is a retransmission
//! and gets the last reply again, byte for byte; anything else is
//! NFS4ERR_BAD_SEQID. A request still executing when its retransmission
//! arrives makes the copy wait (NFS4ERR_DELAY).
//!
//! In 4.1 the slot table gives exactly-once semantics and these seqids
//! are ignored (RFC 8881 §8.13): the same calls work, without caching.

use std::sync::Arc;
use std::time::Instant;

use super::types::{Caller, ClientId, MinorVersion, StateError, StateId};
use super::{OpenOwner, SeqState, State, StateManager};

/// Longest owner name (RFC 7530 NFS4_OPAQUE_LIMIT).
pub(crate) const OWNER_LEN_MAX_BYTES: usize = 1024;

/// Which kind of owner a ticket sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OwnerKind {
    Open,
    Lock,
}

/// Permission to execute one seqid-ordered request. Hand it to the
/// operation method, then to [`StateManager::seqid_finish`] with the
/// encoded result, whatever happened in between.
#[derive(Debug)]
pub struct SeqTicket {
    pub(crate) client: ClientId,
    pub(crate) kind: OwnerKind,
    pub(crate) owner: Vec<u8>,
    pub(crate) seqid: u32,
    pub(crate) caller: Caller,
}

impl SeqTicket {
    /// The client of the owner.
    pub fn client(&self) -> ClientId {
        self.client
    }

    /// The owner's name.
    pub fn owner(&self) -> &[u8] {
        &self.owner
    }
}

/// What to do with a seqid-ordered request.
#[derive(Debug)]
pub enum Sequenced {
    /// Execute it.
    Execute(SeqTicket),
    /// A retransmission: send this encoded result of the original again.
    Replay(Arc<Vec<u8>>),
}

enum SeqCheck {
    Next,
    Replay(Arc<Vec<u8>>),
    Bad,
}

fn check(seq: &SeqState, seqid: u32) -> SeqCheck {
    match seq.last {
        None => SeqCheck::Next,
        Some(last) if seqid == last.wrapping_add(1) => SeqCheck::Next,
        Some(last) if seqid == last => match &seq.reply {
            Some(r) => SeqCheck::Replay(r.clone()),
            None => SeqCheck::Bad,
        },
        Some(_) => SeqCheck::Bad,
    }
}

impl StateManager {
    /// Begin an OPEN by open-owner `owner` of `client` (4.1: the
    /// session's client; the open_owner4 client ID is ignored, RFC 8881
    /// §18.16.3).
    ///
    /// Errors: STALE_CLIENTID (unknown, unconfirmed, earlier instance),
    /// EXPIRED, BAD_SEQID, DELAY (the same request is still executing),
    /// RESOURCE (owner limit), INVAL (owner name too long). None of them
    /// consumes the seqid.
    pub fn open_owner_begin(
        &mut self,
        caller: Caller,
        client: ClientId,
        owner: &[u8],
        seqid: u32,
        now: Instant,
    ) -> Result<Sequenced, StateError> {
        if owner.len() > OWNER_LEN_MAX_BYTES {
            return Err(StateError::Inval);
        }
        let client = caller.session_client.unwrap_or(client);
        let c = self.live_client(client, caller.minor, now)?;
        let lease = self.cfg.lease;
        let owners_max = self.cfg.limits.owners_per_client_max;
        let Some(cl) = self.clients.get_mut(&c) else { return Err(StateError::StaleClientid) };
        let ticket =
            SeqTicket { client, kind: OwnerKind::Open, owner: owner.to_vec(), seqid, caller };
        let v0 = caller.minor == MinorVersion::V0;
        let replace = match cl.open_owners.get_mut(owner) {
            Some(oo) if !v0 => {
                oo.last_used = now;
                return Ok(Sequenced::Execute(ticket));
            }
            Some(oo) => {
                if let Some((p, t)) = oo.seq.in_progress {
                    if now.saturating_duration_since(t) < lease {
                        return Err(if p == seqid {
                            StateError::Delay
                        } else {
                            StateError::BadSeqid
                        });
                    }
                }
                match check(&oo.seq, seqid) {
                    SeqCheck::Replay(r) => return Ok(Sequenced::Replay(r)),
                    SeqCheck::Next if oo.confirmed => {
                        oo.seq.in_progress = Some((seqid, now));
                        oo.last_used = now;
                        return Ok(Sequenced::Execute(ticket));
                    }
                    // RFC 7530 §16.18.5: an OPEN for an unconfirmed owner
                    // means the client gave up on it: start afresh.
                    _ if !oo.confirmed => true,
                    _ => return Err(StateError::BadSeqid),
                }
            }
            None => false,
        };
        if replace {
            self.drop_open_owner(c, owner);
        }
        let Some(cl) = self.clients.get_mut(&c) else { return Err(StateError::StaleClientid) };
        if cl.owner_count() >= owners_max {
            return Err(Self::resource(caller.minor));
        }
        cl.open_owners.insert(
            owner.to_vec(),
            OpenOwner {
                seq: SeqState { last: None, reply: None, in_progress: v0.then_some((seqid, now)) },
                confirmed: !v0,
                opens: Default::default(),
                closed: None,
                last_used: now,
            },
        );
        Ok(Sequenced::Execute(ticket))
    }

    /// Begin a seqid-ordered request that names its owner by a stateid:
    /// CLOSE, OPEN_CONFIRM, OPEN_DOWNGRADE (open stateid), LOCKU and LOCK
    /// with an existing lock-owner (lock stateid, lock seqid), LOCK with a
    /// new lock-owner (open stateid, open seqid).
    ///
    /// Only `other` is checked here (STALE_STATEID, BAD_STATEID, EXPIRED):
    /// a retransmission carries the stateid as it was before the original
    /// bumped it. The operation method checks the rest.
    pub fn stateid_begin(
        &mut self,
        caller: Caller,
        stateid: &StateId,
        seqid: u32,
        now: Instant,
    ) -> Result<Sequenced, StateError> {
        if stateid.special().is_some() {
            return Err(StateError::BadStateid);
        }
        let (c, s) = self.resolve(caller, stateid, now)?;
        let client = self.client_id(c);
        let lease = self.cfg.lease;
        let Some(cl) = self.clients.get_mut(&c) else { return Err(StateError::BadStateid) };
        let (kind, owner) = match cl.states.get(&s) {
            Some(State::Open(o)) => (OwnerKind::Open, o.owner.clone()),
            Some(State::Closed { owner, .. }) => (OwnerKind::Open, owner.clone()),
            Some(State::Lock(l)) => (OwnerKind::Lock, l.owner.clone()),
            None => return Err(StateError::BadStateid),
        };
        let seq = match kind {
            OwnerKind::Open => cl.open_owners.get_mut(&owner).map(|o| {
                o.last_used = now;
                &mut o.seq
            }),
            OwnerKind::Lock => cl.lock_owners.get_mut(&owner).map(|o| {
                o.last_used = now;
                &mut o.seq
            }),
        };
        let Some(seq) = seq else { return Err(StateError::BadStateid) };
        let ticket = SeqTicket { client, kind, owner, seqid, caller };
        if caller.minor == MinorVersion::V1 {
            return Ok(Sequenced::Execute(ticket));
        }
        if let Some((p, t)) = seq.in_progress {
            if now.saturating_duration_since(t) < lease {
                return Err(if p == seqid { StateError::Delay } else { StateError::BadSeqid });
            }
        }
        match check(seq, seqid) {
            SeqCheck::Next => {
                seq.in_progress = Some((seqid, now));
                Ok(Sequenced::Execute(ticket))
            }
            SeqCheck::Replay(r) => Ok(Sequenced::Replay(r)),
            SeqCheck::Bad => Err(StateError::BadSeqid),
        }
    }

    /// End a seqid-ordered request: `advance` (see
    /// [`StateError::advances_seqid`]; handler errors other than
    /// NOFILEHANDLE, BADXDR, RESOURCE and MOVED advance too) consumes the
    /// seqid and keeps `reply`, the encoded operation result, for
    /// retransmissions. A no-op in 4.1.
    pub fn seqid_finish(&mut self, ticket: SeqTicket, advance: bool, reply: Vec<u8>) {
        if ticket.caller.minor == MinorVersion::V1 {
            return;
        }
        let reply_max = self.cfg.limits.owner_reply_bytes_max;
        let Some(cl) = self.clients.get_mut(&ticket.client.counter()) else { return };
        if ticket.client.boot() != self.boot {
            return;
        }
        let seq = match ticket.kind {
            OwnerKind::Open => cl.open_owners.get_mut(&ticket.owner).map(|o| &mut o.seq),
            OwnerKind::Lock => cl.lock_owners.get_mut(&ticket.owner).map(|o| &mut o.seq),
        };
        let Some(seq) = seq else { return };
        if seq.in_progress.is_some_and(|(p, _)| p == ticket.seqid) {
            seq.in_progress = None;
        }
        if advance {
            seq.last = Some(ticket.seqid);
            seq.reply = (reply.len() <= reply_max).then(|| Arc::new(reply));
        }
    }

    /// Drop open-owner `owner` of client `c` with all its opens.
    pub(crate) fn drop_open_owner(&mut self, c: u32, owner: &[u8]) {
        let Some(cl) = self.clients.get(&c) else { return };
        let Some(oo) = cl.open_owners.get(owner) else { return };
        let states: Vec<u32> = oo.opens.values().copied().chain(oo.closed).collect();
        for s in states {
            self.release_state(c, s);
        }
        if let Some(cl) = self.clients.get_mut(&c) {
            cl.open_owners.remove(owner);
        }
    }
}
