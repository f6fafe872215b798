//! Client IDs: 4.0 SETCLIENTID / SETCLIENTID_CONFIRM / RENEW (RFC 7530
//! §16.33, §16.34, §16.29), 4.1 EXCHANGE_ID / DESTROY_CLIENTID /
//! RECLAIM_COMPLETE (RFC 8881 §18.35, §18.50, §18.51).
//!
//! A client is known by its owner name (`nfs_client_id4.id`,
//! `co_ownerid`). Per name there is at most one confirmed and one
//! unconfirmed record. A new record gets a new client ID; the confirmed
//! record it replaces (client restart: another verifier) goes, with all its
//! state, only when the new one is confirmed, and is remembered as expired
//! so its stateids answer NFS4ERR_EXPIRED (pynfs CID1).
//!
//! Principal changes follow the Linux server, which pynfs checks: a
//! different principal may take over a name whose confirmed record holds
//! no state (opens, locks, sessions), and gets NFS4ERR_CLID_INUSE while it
//! does.

use std::time::Instant;

use super::types::{ClientId, MinorVersion, Principal, StateError};
use super::{Client, StateManager};

/// EXCHGID4_FLAG_SUPP_MOVED_REFER.
pub const EXCHGID4_FLAG_SUPP_MOVED_REFER: u32 = 0x0000_0001;
/// EXCHGID4_FLAG_SUPP_MOVED_MIGR.
pub const EXCHGID4_FLAG_SUPP_MOVED_MIGR: u32 = 0x0000_0002;
/// EXCHGID4_FLAG_BIND_PRINC_STATEID.
pub const EXCHGID4_FLAG_BIND_PRINC_STATEID: u32 = 0x0000_0100;
/// EXCHGID4_FLAG_USE_NON_PNFS.
pub const EXCHGID4_FLAG_USE_NON_PNFS: u32 = 0x0001_0000;
/// EXCHGID4_FLAG_USE_PNFS_MDS.
pub const EXCHGID4_FLAG_USE_PNFS_MDS: u32 = 0x0002_0000;
/// EXCHGID4_FLAG_USE_PNFS_DS.
pub const EXCHGID4_FLAG_USE_PNFS_DS: u32 = 0x0004_0000;
/// EXCHGID4_FLAG_UPD_CONFIRMED_REC_A.
pub const EXCHGID4_FLAG_UPD_CONFIRMED_REC_A: u32 = 0x4000_0000;
/// EXCHGID4_FLAG_CONFIRMED_R.
pub const EXCHGID4_FLAG_CONFIRMED_R: u32 = 0x8000_0000;
/// The flags a client may send (RFC 8881 §18.35.3: others are INVAL,
/// CONFIRMED_R included; pynfs EID4, EID7).
const EXCHGID4_FLAG_MASK_A: u32 = EXCHGID4_FLAG_SUPP_MOVED_REFER
    | EXCHGID4_FLAG_SUPP_MOVED_MIGR
    | EXCHGID4_FLAG_BIND_PRINC_STATEID
    | EXCHGID4_FLAG_USE_NON_PNFS
    | EXCHGID4_FLAG_USE_PNFS_MDS
    | EXCHGID4_FLAG_USE_PNFS_DS
    | EXCHGID4_FLAG_UPD_CONFIRMED_REC_A;
/// Longest client owner name (NFS4_OPAQUE_LIMIT).
const CLIENT_NAME_MAX_BYTES: usize = 1024;

/// SETCLIENTID4resok.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetClientIdOk {
    /// The client ID.
    pub client: ClientId,
    /// The verifier SETCLIENTID_CONFIRM must present.
    pub confirm: [u8; 8],
}

/// EXCHANGE_ID4args, the parts the state manager needs (state protection
/// other than SP4_NONE is the handler's to refuse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeIdArgs {
    /// co_ownerid.
    pub owner: Vec<u8>,
    /// co_verifier.
    pub verifier: [u8; 8],
    /// eia_flags.
    pub flags: u32,
    /// The caller's principal.
    pub principal: Principal,
}

/// EXCHANGE_ID4resok, the parts the state manager decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeIdOk {
    /// eir_clientid.
    pub client: ClientId,
    /// eir_sequenceid: the csa_sequence of the next CREATE_SESSION.
    pub sequence: u32,
    /// eir_flags: USE_NON_PNFS, plus CONFIRMED_R for a confirmed record.
    pub flags: u32,
}

impl StateManager {
    fn new_client_record(
        &mut self,
        name: &[u8],
        verifier: [u8; 8],
        principal: &Principal,
        minor: MinorVersion,
        now: Instant,
    ) -> Result<u32, StateError> {
        if self.clients.len() >= self.cfg.limits.clients_max {
            return Err(Self::resource(minor));
        }
        let c = self.next_client;
        self.next_client = self.next_client.wrapping_add(1).max(1);
        let confirm = self.fresh_verifier();
        self.clients.insert(
            c,
            Client {
                counter: c,
                name: name.to_vec(),
                verifier,
                principal: principal.clone(),
                minor,
                confirmed: false,
                confirm,
                pending_confirm: None,
                renewed: now,
                recorded: false,
                reclaim_complete: false,
                cs_seqid: 0,
                cs_reply: None,
                sessions: Default::default(),
                open_owners: Default::default(),
                lock_owners: Default::default(),
                states: Default::default(),
                next_state: 1,
            },
        );
        self.unconfirmed_by_name.insert(name.to_vec(), c);
        Ok(c)
    }

    /// The confirmed record of `name`, after dropping it if its lease and
    /// courtesy ran out.
    fn confirmed_named(&mut self, name: &[u8], now: Instant) -> Option<u32> {
        let c = *self.confirmed_by_name.get(name)?;
        let cl = self.clients.get(&c)?;
        if self.reapable(cl, now) {
            self.remove_client(c, true);
            return None;
        }
        Some(c)
    }

    fn has_state(&self, c: u32) -> bool {
        self.clients.get(&c).is_some_and(|cl| cl.has_open_state() || !cl.sessions.is_empty())
    }

    /// SETCLIENTID (RFC 7530 §16.33.5). The callback is not kept (no
    /// delegations are granted, so the server never calls back).
    pub fn setclientid(
        &mut self,
        name: &[u8],
        verifier: [u8; 8],
        principal: &Principal,
        now: Instant,
    ) -> Result<SetClientIdOk, StateError> {
        if name.len() > CLIENT_NAME_MAX_BYTES {
            return Err(StateError::Inval);
        }
        let conf = self.confirmed_named(name, now);
        if let Some(cc) = conf {
            if self.has_state(cc) {
                let cl = self.clients.get(&cc).ok_or(StateError::ServerFault)?;
                if cl.minor == MinorVersion::V1 || cl.principal != *principal {
                    return Err(StateError::ClidInuse);
                }
            }
        }
        if let Some(u) = self.unconfirmed_by_name.get(name).copied() {
            self.remove_client(u, false);
        }
        if let Some(cc) = conf {
            let confirm = self.fresh_verifier();
            if let Some(cl) = self.clients.get_mut(&cc) {
                if cl.verifier == verifier && cl.minor == MinorVersion::V0 {
                    // Same incarnation: a callback update, confirmed under
                    // the same client ID with a new verifier (pynfs CID4a).
                    cl.pending_confirm = Some((confirm, principal.clone()));
                    return Ok(SetClientIdOk { client: self.client_id(cc), confirm });
                }
            }
        }
        let c = self.new_client_record(name, verifier, principal, MinorVersion::V0, now)?;
        let confirm = self.clients.get(&c).map(|cl| cl.confirm).ok_or(StateError::ServerFault)?;
        Ok(SetClientIdOk { client: self.client_id(c), confirm })
    }

    /// SETCLIENTID_CONFIRM (RFC 7530 §16.34.4). Confirming a new
    /// incarnation removes the old one of the same name with its state
    /// (its stateids then answer NFS4ERR_EXPIRED). Confirming an already
    /// confirmed record again with its verifier is a harmless retry.
    pub fn setclientid_confirm(
        &mut self,
        client: ClientId,
        confirm: [u8; 8],
        principal: &Principal,
        now: Instant,
    ) -> Result<(), StateError> {
        if client.boot() != self.boot {
            return Err(StateError::StaleClientid);
        }
        let c = client.counter();
        let lease = self.cfg.lease;
        let Some(cl) = self.clients.get_mut(&c) else { return Err(StateError::StaleClientid) };
        if cl.minor != MinorVersion::V0 {
            return Err(StateError::StaleClientid);
        }
        if cl.confirmed {
            if let Some((pc, pp)) = &cl.pending_confirm {
                if *pc == confirm {
                    if pp != principal {
                        return Err(StateError::ClidInuse);
                    }
                    cl.pending_confirm = None;
                    cl.renewed = now;
                    return Ok(());
                }
            }
            if cl.confirm == confirm {
                if cl.principal != *principal {
                    return Err(StateError::ClidInuse);
                }
                cl.renewed = now;
                return Ok(());
            }
            return Err(StateError::StaleClientid);
        }
        if now.saturating_duration_since(cl.renewed) >= lease {
            self.remove_client(c, false);
            return Err(StateError::StaleClientid);
        }
        if cl.principal != *principal {
            return Err(StateError::ClidInuse);
        }
        if cl.confirm != confirm {
            return Err(StateError::StaleClientid);
        }
        let name = cl.name.clone();
        if let Some(old) = self.confirmed_by_name.get(&name).copied() {
            if old != c {
                let in_use = self.has_state(old)
                    && self.clients.get(&old).is_some_and(|o| o.principal != *principal);
                if in_use {
                    return Err(StateError::ClidInuse);
                }
                self.remove_client(old, true);
            }
        }
        self.unconfirmed_by_name.remove(&name);
        self.confirmed_by_name.insert(name, c);
        if let Some(cl) = self.clients.get_mut(&c) {
            cl.confirmed = true;
            cl.renewed = now;
        }
        Ok(())
    }

    /// RENEW (RFC 7530 §16.29). STALE_CLIENTID for unknown, unconfirmed or
    /// earlier-instance IDs, EXPIRED for a client whose lease ran out.
    pub fn renew(&mut self, client: ClientId, now: Instant) -> Result<(), StateError> {
        self.live_client(client, MinorVersion::V0, now).map(|_| ())
    }

    /// EXCHANGE_ID (RFC 8881 §18.35.5), with the case numbers of its table.
    pub fn exchange_id(
        &mut self,
        args: &ExchangeIdArgs,
        now: Instant,
    ) -> Result<ExchangeIdOk, StateError> {
        if args.flags & !EXCHGID4_FLAG_MASK_A != 0 {
            return Err(StateError::Inval);
        }
        if args.owner.len() > CLIENT_NAME_MAX_BYTES {
            return Err(StateError::Inval);
        }
        let update = args.flags & EXCHGID4_FLAG_UPD_CONFIRMED_REC_A != 0;
        let boot = self.boot;
        let confirmed = |c: &Client| ExchangeIdOk {
            client: ClientId::new(boot, c.counter),
            sequence: c.cs_seqid.wrapping_add(1),
            flags: EXCHGID4_FLAG_USE_NON_PNFS | EXCHGID4_FLAG_CONFIRMED_R,
        };
        if let Some(cc) = self.confirmed_named(&args.owner, now) {
            let has_state = self.has_state(cc);
            let cl = self.clients.get(&cc).ok_or(StateError::ServerFault)?;
            let same_princ = cl.principal == args.principal;
            let same_verf = cl.verifier == args.verifier;
            if update {
                if cl.minor != MinorVersion::V1 {
                    return Err(StateError::Inval);
                }
                if !same_princ {
                    return Err(StateError::Perm); // case 9
                }
                if !same_verf {
                    return Err(StateError::NotSame); // case 8
                }
                // Case 6: nothing the server keeps can be updated.
                return Ok(confirmed(cl));
            }
            if cl.minor == MinorVersion::V1 && !same_princ {
                // Case 3: the name changes hands unless it holds state.
                if has_state {
                    return Err(StateError::ClidInuse);
                }
                self.remove_client(cc, false);
            } else if cl.minor == MinorVersion::V1 && same_verf {
                // Case 2: the same incarnation asks again.
                return Ok(confirmed(cl));
            }
            // Case 5 (client restart, or a 4.0 record of the name): a new
            // unconfirmed record; the old one goes at CREATE_SESSION.
        } else if update {
            return Err(StateError::NoEnt); // case 7
        }
        // Case 4 replaces an unconfirmed record; case 1 is a new name.
        if let Some(u) = self.unconfirmed_by_name.get(&args.owner).copied() {
            self.remove_client(u, false);
        }
        let c = self.new_client_record(
            &args.owner,
            args.verifier,
            &args.principal,
            MinorVersion::V1,
            now,
        )?;
        Ok(ExchangeIdOk {
            client: self.client_id(c),
            sequence: 1,
            flags: EXCHGID4_FLAG_USE_NON_PNFS,
        })
    }

    /// DESTROY_CLIENTID (RFC 8881 §18.50): CLIENTID_BUSY while the client
    /// has sessions or state, STALE_CLIENTID when unknown.
    pub fn destroy_clientid(&mut self, client: ClientId, now: Instant) -> Result<(), StateError> {
        if client.boot() != self.boot {
            return Err(StateError::StaleClientid);
        }
        let c = client.counter();
        let Some(cl) = self.clients.get(&c) else { return Err(StateError::StaleClientid) };
        if cl.confirmed && self.reapable(cl, now) {
            self.remove_client(c, true);
            return Err(StateError::StaleClientid);
        }
        if self.has_state(c) {
            return Err(StateError::ClientidBusy);
        }
        self.remove_client(c, false);
        Ok(())
    }

    /// RECLAIM_COMPLETE (RFC 8881 §18.51) of the session's client.
    /// `one_fs` (rca_one_fs) is accepted and ignored, as Linux does; the
    /// global one records the client, lets it take new state, and ends the
    /// grace period early once every previous client has sent it.
    pub fn reclaim_complete(
        &mut self,
        client: ClientId,
        one_fs: bool,
        now: Instant,
    ) -> Result<(), StateError> {
        let c = self.live_client(client, MinorVersion::V1, now)?;
        if one_fs {
            return Ok(());
        }
        let Some(cl) = self.clients.get_mut(&c) else { return Err(StateError::StaleClientid) };
        if cl.reclaim_complete {
            return Err(StateError::CompleteAlready);
        }
        cl.reclaim_complete = true;
        let name = cl.name.clone();
        self.record_client(c);
        if self.grace.previous.contains(&name) {
            self.grace.completed.insert(name);
            if self.grace.is_active() && self.grace.all_completed() {
                self.end_grace();
            }
        }
        Ok(())
    }
}
