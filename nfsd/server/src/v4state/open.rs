//! Opens and share reservations: OPEN, OPEN_CONFIRM, OPEN_DOWNGRADE and
//! CLOSE (RFC 7530 §9.9, §16.16-§16.19, §16.2; RFC 8881 §9.7, §18.16,
//! §18.18, §18.2).
//!
//! One open stateid per (open-owner, file); a further OPEN of the file by
//! the owner upgrades it (access and deny bits are or-ed, the seqid is
//! bumped). Conflicts are checked the way the Linux server does, which is
//! what pynfs expects: the requested access against the deny bits of
//! every open of the file, the requested deny against the access bits of
//! every open, the owner's own included (OPEN25, OPEN30); an upgrade to an
//! access mode the owner already OPENed with skips the access half.

use std::time::Instant;

use super::seqid::{OwnerKind, SeqTicket};
use super::types::{FileKey, MinorVersion, ShareAccess, ShareDeny, StateError, StateId};
use super::{next_seqid, OpenOwner, OpenState, SeqState, State, StateManager};

/// What an OPEN claims (RFC 8881 §18.16.3, open_claim4). The handler maps
/// CLAIM_NULL and CLAIM_FH to `Null` and CLAIM_PREVIOUS to `Previous`;
/// no delegations are granted, so the delegation claims have nothing to
/// name and are the handler's to refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenClaim {
    /// A new open: refused during the grace period.
    Null,
    /// A reclaim after a server restart: only during the grace period.
    Previous,
}

/// The share part of an OPEN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenArgs {
    /// `share_access` as sent (4.1 want and signal bits included).
    pub access: u32,
    /// `share_deny` as sent.
    pub deny: u32,
    /// The claim.
    pub claim: OpenClaim,
}

/// A granted OPEN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOk {
    /// The open stateid (seqid 1 when new, bumped on upgrade).
    pub stateid: StateId,
    /// 4.0: OPEN4_RESULT_CONFIRM, the owner must send OPEN_CONFIRM.
    pub confirm_required: bool,
    /// The access now held by the owner on the file.
    pub access: ShareAccess,
    /// The deny now held.
    pub deny: ShareDeny,
    /// The 4.1 want/signal bits of the request, for `open_none_delegation4`.
    pub want: u32,
}

/// A successful CLOSE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseOk {
    /// The stateid to return: 4.0 the closed stateid with its seqid
    /// bumped (RFC 7530 §16.2.4), 4.1 the invalid special stateid (RFC
    /// 8881 §18.2.4).
    pub stateid: StateId,
    /// Nobody holds the file open any more.
    pub last_close: bool,
    /// Byte ranges released with the open (see [`StateManager::close`]).
    pub locks_released: usize,
}

fn parse(
    args: &OpenArgs,
    minor: MinorVersion,
) -> Result<(ShareAccess, ShareDeny, u32), StateError> {
    let (access, want) = ShareAccess::from_wire(args.access, minor)?;
    let deny = ShareDeny::from_wire(args.deny)?;
    Ok((access, deny, want))
}

fn mode_bit(mode: u32) -> u8 {
    1u8 << (mode & 3)
}

impl StateManager {
    /// Check an OPEN before the handler touches the file system: share
    /// bits (NFS4ERR_INVAL) and the grace rules (GRACE, NO_GRACE,
    /// RECLAIM_BAD; RFC 7530 §9.6.2, RFC 8881 §18.51.3). Optional —
    /// [`StateManager::open`] checks again — but it keeps a refused
    /// OPEN(CREATE) from creating the file.
    pub fn open_check(
        &mut self,
        ticket: &SeqTicket,
        args: &OpenArgs,
        now: Instant,
    ) -> Result<(), StateError> {
        parse(args, ticket.caller.minor)?;
        let c = self.live_client(ticket.client, ticket.caller.minor, now)?;
        self.check_grace(c, args.claim == OpenClaim::Previous, now)
    }

    /// OPEN `file` for the ticket's owner after the handler looked it up
    /// or created it.
    ///
    /// Errors: INVAL, GRACE, NO_GRACE, RECLAIM_BAD, SHARE_DENIED (an open
    /// of a client past its lease is revoked instead), RESOURCE/DELAY,
    /// STALE_CLIENTID, EXPIRED.
    pub fn open(
        &mut self,
        ticket: &SeqTicket,
        args: &OpenArgs,
        file: FileKey,
        now: Instant,
    ) -> Result<OpenOk, StateError> {
        let minor = ticket.caller.minor;
        let (access, deny, want) = parse(args, minor)?;
        let c = self.live_client(ticket.client, ticket.caller.minor, now)?;
        let reclaim = args.claim == OpenClaim::Previous;
        self.check_grace(c, reclaim, now)?;
        self.ensure_open_owner(c, &ticket.owner, minor, now)?;
        let existing = self
            .clients
            .get(&c)
            .and_then(|cl| cl.open_owners.get(&ticket.owner))
            .and_then(|oo| oo.opens.get(&file).copied());
        let skip_access =
            existing.is_some_and(|s| match self.clients.get(&c).and_then(|cl| cl.states.get(&s)) {
                Some(State::Open(o)) => o.access_used & mode_bit(access.bits()) != 0,
                _ => false,
            });
        self.share_check(c, file, access, deny, skip_access, now)?;
        let states_max = self.cfg.limits.states_per_client_max;
        let boot = self.boot;
        let Some(cl) = self.clients.get_mut(&c) else { return Err(StateError::StaleClientid) };
        let s = match existing {
            Some(s) => {
                let Some(State::Open(o)) = cl.states.get_mut(&s) else {
                    return Err(StateError::ServerFault);
                };
                o.access |= access.bits() as u8;
                o.deny |= deny.bits() as u8;
                o.access_used |= mode_bit(access.bits());
                o.deny_used |= mode_bit(deny.bits());
                o.seqid = next_seqid(o.seqid);
                s
            }
            None => {
                if cl.states.len() >= states_max {
                    return Err(Self::resource(minor));
                }
                let s = cl.next_state;
                cl.next_state = cl.next_state.wrapping_add(1).max(1);
                cl.states.insert(
                    s,
                    State::Open(OpenState {
                        owner: ticket.owner.clone(),
                        file,
                        seqid: 1,
                        access: access.bits() as u8,
                        deny: deny.bits() as u8,
                        access_used: mode_bit(access.bits()),
                        deny_used: mode_bit(deny.bits()),
                        locks: Default::default(),
                    }),
                );
                if let Some(oo) = cl.open_owners.get_mut(&ticket.owner) {
                    oo.opens.insert(file, s);
                }
                self.files.entry(file).or_default().opens.insert((c, s));
                s
            }
        };
        let Some(cl) = self.clients.get_mut(&c) else { return Err(StateError::StaleClientid) };
        let Some(State::Open(o)) = cl.states.get(&s) else { return Err(StateError::ServerFault) };
        let (seqid, acc, den) = (o.seqid, o.access, o.deny);
        let mut confirm_required = false;
        if let Some(oo) = cl.open_owners.get_mut(&ticket.owner) {
            // RFC 7530 §16.16.5: a reclaim needs no OPEN_CONFIRM.
            if reclaim {
                oo.confirmed = true;
            }
            confirm_required = minor == MinorVersion::V0 && !oo.confirmed;
        }
        if !confirm_required && minor == MinorVersion::V0 {
            self.record_client(c);
        }
        Ok(OpenOk {
            stateid: StateId::encode(boot, c, s, seqid),
            confirm_required,
            access: ShareAccess::from_bits_unchecked(acc),
            deny: ShareDeny::from_bits_unchecked(den),
            want,
        })
    }

    /// The open-owner of an OPEN normally exists since `open_owner_begin`;
    /// it may have been forgotten meanwhile (client replaced, idle owner
    /// reaped): make it again.
    fn ensure_open_owner(
        &mut self,
        c: u32,
        owner: &[u8],
        minor: MinorVersion,
        now: Instant,
    ) -> Result<(), StateError> {
        let owners_max = self.cfg.limits.owners_per_client_max;
        let Some(cl) = self.clients.get_mut(&c) else { return Err(StateError::StaleClientid) };
        if cl.open_owners.contains_key(owner) {
            return Ok(());
        }
        if cl.owner_count() >= owners_max {
            return Err(Self::resource(minor));
        }
        cl.open_owners.insert(
            owner.to_vec(),
            OpenOwner {
                seq: SeqState::default(),
                confirmed: minor == MinorVersion::V1,
                opens: Default::default(),
                closed: None,
                last_used: now,
            },
        );
        Ok(())
    }

    /// Share reservation check of an OPEN by client `c` (see the module
    /// documentation). Opens of other clients past their lease that stand
    /// in the way are revoked (their client expires).
    fn share_check(
        &mut self,
        c: u32,
        file: FileKey,
        access: ShareAccess,
        deny: ShareDeny,
        skip_access: bool,
        now: Instant,
    ) -> Result<(), StateError> {
        let (a, d) = (access.bits() as u8, deny.bits() as u8);
        loop {
            let Some(f) = self.files.get(&file) else { return Ok(()) };
            let mut holder = None;
            for (oc, os) in &f.opens {
                let Some(State::Open(o)) = self.clients.get(oc).and_then(|cl| cl.states.get(os))
                else {
                    continue;
                };
                if (!skip_access && a & o.deny != 0) || d & o.access != 0 {
                    holder = Some(*oc);
                    break;
                }
            }
            match holder {
                None => return Ok(()),
                Some(oc)
                    if oc != c
                        && self.clients.get(&oc).is_some_and(|cl| self.lease_over(cl, now)) =>
                {
                    self.remove_client(oc, true);
                }
                Some(_) => return Err(StateError::ShareDenied),
            }
        }
    }

    /// OPEN_CONFIRM (4.0, RFC 7530 §16.18): confirm the ticket's new
    /// open-owner. An owner confirmed already is NFS4ERR_BAD_STATEID
    /// (pynfs OPCF1). The handler refuses it in 4.1 (NOTSUPP).
    pub fn open_confirm(
        &mut self,
        ticket: &SeqTicket,
        stateid: &StateId,
        file: FileKey,
        now: Instant,
    ) -> Result<StateId, StateError> {
        let (c, s) = self.resolve(ticket.caller, stateid, now)?;
        let cl = self.clients.get_mut(&c).ok_or(StateError::BadStateid)?;
        let Some(State::Open(o)) = cl.states.get_mut(&s) else {
            return Err(StateError::BadStateid);
        };
        if o.owner != ticket.owner || ticket.kind != OwnerKind::Open {
            return Err(StateError::BadStateid);
        }
        super::stateid::check_generation(o.seqid, stateid.seqid, ticket.caller.minor)?;
        if o.file != file {
            return Err(StateError::BadStateid);
        }
        let Some(oo) = cl.open_owners.get_mut(&o.owner) else { return Err(StateError::BadStateid) };
        if oo.confirmed {
            return Err(StateError::BadStateid);
        }
        oo.confirmed = true;
        o.seqid = next_seqid(o.seqid);
        let sid = StateId::encode(self.boot, c, s, o.seqid);
        self.record_client(c);
        Ok(sid)
    }

    /// OPEN_DOWNGRADE (RFC 7530 §16.19, RFC 8881 §18.18): reduce the open
    /// to `access`/`deny`, each a mode the owner OPENed with since the
    /// last downgrade and a subset of what it holds; anything else is
    /// NFS4ERR_INVAL. 4.1 want bits are ignored.
    pub fn open_downgrade(
        &mut self,
        ticket: &SeqTicket,
        stateid: &StateId,
        file: FileKey,
        access: u32,
        deny: u32,
        now: Instant,
    ) -> Result<StateId, StateError> {
        let (c, s) = self.resolve(ticket.caller, stateid, now)?;
        self.valid_open(ticket.caller, c, s, stateid, file, Some(&ticket.owner))?;
        let (access, _) = ShareAccess::from_wire(access, ticket.caller.minor)?;
        let deny = ShareDeny::from_wire(deny)?;
        let (a, d) = (access.bits() as u8, deny.bits() as u8);
        let cl = self.clients.get_mut(&c).ok_or(StateError::BadStateid)?;
        let Some(State::Open(o)) = cl.states.get_mut(&s) else {
            return Err(StateError::BadStateid);
        };
        if a & !o.access != 0
            || d & !o.deny != 0
            || o.access_used & mode_bit(u32::from(a)) == 0
            || o.deny_used & mode_bit(u32::from(d)) == 0
        {
            return Err(StateError::Inval);
        }
        o.access = a;
        o.deny = d;
        // Modes that no longer fit what is held cannot be downgraded to.
        o.access_used = (1..=3u8)
            .filter(|m| m & !a == 0 && o.access_used & (1 << m) != 0)
            .fold(0, |acc, m| acc | 1 << m);
        o.deny_used = (0..=3u8)
            .filter(|m| m & !d == 0 && o.deny_used & (1 << m) != 0)
            .fold(0, |acc, m| acc | 1 << m);
        o.seqid = next_seqid(o.seqid);
        Ok(StateId::encode(self.boot, c, s, o.seqid))
    }

    /// CLOSE (RFC 7530 §16.2, RFC 8881 §18.2).
    ///
    /// Byte-range locks taken through this open are released with it: RFC
    /// 7530 §16.2.4 lets the server either do that or refuse with
    /// NFS4ERR_LOCKS_HELD, and pynfs (LOCKHELD) prefers the release, as
    /// the Linux server does. In 4.0 a marker keeps the stateid's owner
    /// findable so a retransmitted CLOSE gets its cached reply.
    pub fn close(
        &mut self,
        ticket: &SeqTicket,
        stateid: &StateId,
        file: FileKey,
        now: Instant,
    ) -> Result<CloseOk, StateError> {
        let (c, s) = self.resolve(ticket.caller, stateid, now)?;
        self.valid_open(ticket.caller, c, s, stateid, file, Some(&ticket.owner))?;
        let v0 = ticket.caller.minor == MinorVersion::V0;
        let locks_released = self.ranges_of_open(c, s);
        let last_close = self.release_open(c, s, v0);
        let boot = self.boot;
        let Some(cl) = self.clients.get_mut(&c) else { return Err(StateError::BadStateid) };
        let stateid = if v0 {
            match cl.states.get(&s) {
                Some(State::Closed { seqid, .. }) => StateId::encode(boot, c, s, *seqid),
                _ => StateId::INVALID,
            }
        } else {
            // No replay cache to keep in 4.1: an owner without opens goes.
            if cl.open_owners.get(&ticket.owner).is_some_and(|oo| oo.opens.is_empty()) {
                cl.open_owners.remove(&ticket.owner);
            }
            StateId::INVALID
        };
        Ok(CloseOk { stateid, last_close, locks_released })
    }

    /// Byte ranges held through open `s` of client `c`.
    fn ranges_of_open(&self, c: u32, s: u32) -> usize {
        let Some(cl) = self.clients.get(&c) else { return 0 };
        let Some(State::Open(o)) = cl.states.get(&s) else { return 0 };
        let Some(f) = self.files.get(&o.file) else { return 0 };
        o.locks
            .iter()
            .filter_map(|l| match cl.states.get(l) {
                Some(State::Lock(ls)) => Some(ls),
                _ => None,
            })
            .map(|ls| f.locks.iter().filter(|r| r.client == c && *r.owner == *ls.owner).count())
            .sum()
    }
}
