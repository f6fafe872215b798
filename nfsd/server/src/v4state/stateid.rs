//! Stateid checks (RFC 7530 §9.1.4, RFC 8881 §8.2): for READ, WRITE and
//! SETATTR, TEST_STATEID and FREE_STATEID, and the shared lookup every
//! state-changing operation starts with.
//!
//! Order of the checks, as RFC 8881 §8.2.4 lists them: special stateids;
//! `other` of an earlier instance (STALE_STATEID); of an expired client
//! (EXPIRED); unknown, or another client's in 4.1 (BAD_STATEID); seqid
//! newer than the state's (BAD_STATEID) or older (OLD_STATEID), 0 meaning
//! "current" in 4.1; the state's file against the current filehandle
//! (BAD_STATEID); finally the open mode.

use std::time::Instant;

use super::types::{Caller, ClientId, FileKey, MinorVersion, SpecialStateId, StateError, StateId};
use super::{State, StateManager};

/// What an I/O operation wants to do with a stateid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoKind {
    /// READ.
    Read,
    /// WRITE.
    Write,
    /// SETATTR changing the size (needs write access, RFC 7530 §16.32.4).
    SetSize,
    /// SETATTR of other attributes: the stateid only has to be valid.
    SetAttr,
}

/// Why an I/O operation may proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoGrant {
    /// With the anonymous stateid (or READ bypass outside READ): no share
    /// reservation denies it.
    Anonymous,
    /// READ with the READ-bypass stateid: allowed regardless of deny modes.
    Bypass,
    /// With an open or lock stateid of `client`.
    State {
        /// The stateid's client.
        client: ClientId,
    },
}

/// Compare a stateid's seqid with the state's (RFC 8881 §8.2.2).
pub(crate) fn check_generation(
    current: u32,
    given: u32,
    minor: MinorVersion,
) -> Result<(), StateError> {
    if given == current || (minor == MinorVersion::V1 && given == 0) {
        return Ok(());
    }
    if (given.wrapping_sub(current) as i32) > 0 {
        Err(StateError::BadStateid)
    } else {
        Err(StateError::OldStateid)
    }
}

impl StateManager {
    /// Find the state a non-special stateid names: (client counter, state
    /// number). Renews the client's lease.
    pub(crate) fn resolve(
        &mut self,
        caller: Caller,
        stateid: &StateId,
        now: Instant,
    ) -> Result<(u32, u32), StateError> {
        if stateid.special().is_some() {
            return Err(StateError::BadStateid);
        }
        let (boot, c, s) = stateid.decode();
        if boot != self.boot {
            return Err(StateError::StaleStateid);
        }
        if let Some(sc) = caller.session_client {
            if sc != self.client_id(c) {
                return Err(StateError::BadStateid);
            }
        }
        if self.expired_set.contains(&c) {
            return Err(StateError::Expired);
        }
        let Some(cl) = self.clients.get(&c) else { return Err(StateError::BadStateid) };
        if !cl.confirmed {
            return Err(StateError::BadStateid);
        }
        if self.reapable(cl, now) {
            self.remove_client(c, true);
            return Err(StateError::Expired);
        }
        let Some(cl) = self.clients.get_mut(&c) else { return Err(StateError::BadStateid) };
        cl.renewed = now;
        if !cl.states.contains_key(&s) {
            return Err(StateError::BadStateid);
        }
        Ok((c, s))
    }

    /// Check an open stateid for an operation on `file`: open state (not
    /// closed, not a lock), current seqid, same file, and in 4.0 a
    /// confirmed owner (RFC 7530 §16.18.5). With `owner`, the state must
    /// also belong to it.
    pub(crate) fn valid_open(
        &self,
        caller: Caller,
        c: u32,
        s: u32,
        stateid: &StateId,
        file: FileKey,
        owner: Option<&[u8]>,
    ) -> Result<(), StateError> {
        let cl = self.clients.get(&c).ok_or(StateError::BadStateid)?;
        let Some(State::Open(o)) = cl.states.get(&s) else { return Err(StateError::BadStateid) };
        if owner.is_some_and(|w| w != o.owner.as_slice()) {
            return Err(StateError::BadStateid);
        }
        check_generation(o.seqid, stateid.seqid, caller.minor)?;
        if o.file != file {
            return Err(StateError::BadStateid);
        }
        if caller.minor == MinorVersion::V0
            && !cl.open_owners.get(&o.owner).is_some_and(|oo| oo.confirmed)
        {
            return Err(StateError::BadStateid);
        }
        Ok(())
    }

    /// Check the stateid of a READ, WRITE or SETATTR on `file`.
    ///
    /// Special stateids: anonymous (and READ bypass except for READ) is
    /// NFS4ERR_LOCKED when any open of the file denies the access (RFC 7530
    /// §9.1.4.3, §9.9); READ bypass for READ always passes. A WRITE or size
    /// change needs an open with write access (NFS4ERR_OPENMODE); a READ
    /// passes with a write-only open, as the Linux server allows and pynfs
    /// OPEN23b prefers (RFC 7530 §9.1.4.3 allows either).
    pub fn check_io(
        &mut self,
        caller: Caller,
        stateid: &StateId,
        file: FileKey,
        kind: IoKind,
        now: Instant,
    ) -> Result<IoGrant, StateError> {
        match stateid.special() {
            Some(SpecialStateId::Anonymous) => return self.anonymous_io(file, kind, now),
            Some(SpecialStateId::ReadBypass) if kind == IoKind::Read => return Ok(IoGrant::Bypass),
            // RFC 8881 §8.2.3: outside READ the bypass stateid is anonymous.
            Some(SpecialStateId::ReadBypass) => return self.anonymous_io(file, kind, now),
            Some(_) => return Err(StateError::BadStateid),
            None => {}
        }
        let (c, s) = self.resolve(caller, stateid, now)?;
        let cl = self.clients.get(&c).ok_or(StateError::BadStateid)?;
        let open = match cl.states.get(&s) {
            Some(State::Open(_)) => {
                self.valid_open(caller, c, s, stateid, file, None)?;
                s
            }
            Some(State::Lock(l)) => {
                check_generation(l.seqid, stateid.seqid, caller.minor)?;
                if l.file != file {
                    return Err(StateError::BadStateid);
                }
                l.open
            }
            _ => return Err(StateError::BadStateid),
        };
        let Some(State::Open(o)) = cl.states.get(&open) else { return Err(StateError::BadStateid) };
        let writes = o.access & 2 != 0;
        if matches!(kind, IoKind::Write | IoKind::SetSize) && !writes {
            return Err(StateError::OpenMode);
        }
        Ok(IoGrant::State { client: self.client_id(c) })
    }

    fn anonymous_io(
        &mut self,
        file: FileKey,
        kind: IoKind,
        now: Instant,
    ) -> Result<IoGrant, StateError> {
        let denied_bit = match kind {
            IoKind::Read => 1,
            IoKind::Write | IoKind::SetSize => 2,
            IoKind::SetAttr => return Ok(IoGrant::Anonymous),
        };
        loop {
            let Some(f) = self.files.get(&file) else { return Ok(IoGrant::Anonymous) };
            let mut holder = None;
            for (c, s) in &f.opens {
                let deny = match self.clients.get(c).and_then(|cl| cl.states.get(s)) {
                    Some(State::Open(o)) => o.deny,
                    _ => 0,
                };
                if deny & denied_bit != 0 {
                    holder = Some(*c);
                    break;
                }
            }
            match holder {
                None => return Ok(IoGrant::Anonymous),
                Some(c) if self.clients.get(&c).is_some_and(|cl| self.lease_over(cl, now)) => {
                    // A client past its lease loses to anybody it is in
                    // the way of (RFC 7530 §9.6.3 lets the server revoke).
                    self.remove_client(c, true);
                }
                Some(_) => return Err(StateError::Locked),
            }
        }
    }

    /// TEST_STATEID (RFC 8881 §18.48): the status of each stateid for the
    /// session's client, in order. Special stateids are BAD_STATEID.
    pub fn test_stateids(
        &mut self,
        caller: Caller,
        stateids: &[StateId],
        now: Instant,
    ) -> Vec<Result<(), StateError>> {
        stateids
            .iter()
            .map(|sid| {
                let (c, s) = self.resolve(caller, sid, now)?;
                match self.clients.get(&c).and_then(|cl| cl.states.get(&s)) {
                    Some(State::Open(o)) => check_generation(o.seqid, sid.seqid, caller.minor),
                    Some(State::Lock(l)) => check_generation(l.seqid, sid.seqid, caller.minor),
                    _ => Err(StateError::BadStateid),
                }
            })
            .collect()
    }

    /// FREE_STATEID (RFC 8881 §18.38): free a lock stateid that holds no
    /// locks. A lock stateid with locks, and an open stateid (which only
    /// CLOSE frees), are NFS4ERR_LOCKS_HELD. The seqid is not checked, as
    /// in Linux: only `other` names what is freed.
    pub fn free_stateid(
        &mut self,
        caller: Caller,
        stateid: &StateId,
        now: Instant,
    ) -> Result<(), StateError> {
        let (c, s) = self.resolve(caller, stateid, now)?;
        let cl = self.clients.get(&c).ok_or(StateError::BadStateid)?;
        match cl.states.get(&s) {
            Some(State::Open(_)) => Err(StateError::LocksHeld),
            Some(State::Lock(l)) => {
                let held = self
                    .files
                    .get(&l.file)
                    .is_some_and(|f| f.locks.iter().any(|r| r.client == c && *r.owner == *l.owner));
                if held {
                    return Err(StateError::LocksHeld);
                }
                let owner = l.owner.clone();
                self.release_lock_state(c, s);
                if let Some(cl) = self.clients.get_mut(&c) {
                    if cl.lock_owners.get(&owner).is_some_and(|lo| lo.states.is_empty()) {
                        cl.lock_owners.remove(&owner);
                    }
                }
                Ok(())
            }
            _ => Err(StateError::BadStateid),
        }
    }
}
