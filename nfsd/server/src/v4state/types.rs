//! Identifiers, share and lock bits, and the error type of the v4 state
//! manager. Own types, independent of the wire types in `nfs-proto`: the
//! COMPOUND handlers convert at the boundary.

use std::fmt;

/// A client ID (RFC 7530 §9.1.1, RFC 8881 §2.4): the server instance
/// ("boot verifier") in the upper 32 bits and a per-instance counter in the
/// lower 32, so an ID handed out by an earlier instance is recognisably
/// stale (NFS4ERR_STALE_CLIENTID) rather than unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub u64);

impl ClientId {
    pub(crate) fn new(boot: u32, counter: u32) -> Self {
        ClientId((u64::from(boot) << 32) | u64::from(counter))
    }

    pub(crate) fn boot(self) -> u32 {
        (self.0 >> 32) as u32
    }

    pub(crate) fn counter(self) -> u32 {
        self.0 as u32
    }
}

/// A 4.1 session ID (RFC 8881 §2.10.3): boot instance, client counter and
/// session counter, big-endian, then four zero bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub [u8; 16]);

/// A stateid (RFC 7530 §9.1.4, RFC 8881 §8.2).
///
/// `other` is laid out as boot instance, client counter, state counter
/// (each 4 bytes, big-endian): the first word tells a stateid of an earlier
/// server instance (STALE_STATEID) from a forged one (BAD_STATEID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateId {
    /// Bumped on every change of the state it names; 0 means "the current
    /// seqid" in 4.1 (RFC 8881 §8.2.2).
    pub seqid: u32,
    /// Names the state.
    pub other: [u8; 12],
}

/// The special stateids of RFC 8881 §8.2.3 (the first two also RFC 7530
/// §9.1.4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialStateId {
    /// All zeros: "anonymous", I/O without an open.
    Anonymous,
    /// All ones: READ may bypass share-deny checks; for WRITE and SETATTR
    /// it is treated as anonymous.
    ReadBypass,
    /// seqid 1, other zero (4.1): the COMPOUND's current stateid, resolved
    /// by the handler before it reaches the state manager.
    Current,
    /// seqid all ones, other zero (4.1): "invalid", returned by CLOSE.
    Invalid,
    /// Any other value with an all-zero or all-ones `other`: reserved, so
    /// NFS4ERR_BAD_STATEID wherever it is used.
    Reserved,
}

impl StateId {
    /// The anonymous stateid.
    pub const ANONYMOUS: StateId = StateId { seqid: 0, other: [0; 12] };
    /// The READ bypass stateid.
    pub const READ_BYPASS: StateId = StateId { seqid: u32::MAX, other: [0xff; 12] };
    /// The 4.1 current stateid (RFC 8881 §16.2.3.1.2).
    pub const CURRENT: StateId = StateId { seqid: 1, other: [0; 12] };
    /// The 4.1 invalid stateid, the result of CLOSE (RFC 8881 §18.2.4).
    pub const INVALID: StateId = StateId { seqid: u32::MAX, other: [0; 12] };

    /// Which special stateid this is, if any.
    pub fn special(&self) -> Option<SpecialStateId> {
        if self.other == [0; 12] {
            Some(match self.seqid {
                0 => SpecialStateId::Anonymous,
                1 => SpecialStateId::Current,
                u32::MAX => SpecialStateId::Invalid,
                _ => SpecialStateId::Reserved,
            })
        } else if self.other == [0xff; 12] {
            Some(if self.seqid == u32::MAX {
                SpecialStateId::ReadBypass
            } else {
                SpecialStateId::Reserved
            })
        } else {
            None
        }
    }

    /// Whether this is the 4.1 current stateid, which the handler replaces
    /// with the COMPOUND's saved one (RFC 8881 §16.2.3.1.2) before calling
    /// the state manager.
    pub fn is_current(&self) -> bool {
        *self == StateId::CURRENT
    }

    pub(crate) fn encode(boot: u32, client: u32, state: u32, seqid: u32) -> StateId {
        let mut other = [0u8; 12];
        other[0..4].copy_from_slice(&boot.to_be_bytes());
        other[4..8].copy_from_slice(&client.to_be_bytes());
        other[8..12].copy_from_slice(&state.to_be_bytes());
        StateId { seqid, other }
    }

    /// (boot, client counter, state counter).
    pub(crate) fn decode(&self) -> (u32, u32, u32) {
        let w = |i: usize| {
            u32::from_be_bytes([
                self.other[i],
                self.other[i + 1],
                self.other[i + 2],
                self.other[i + 3],
            ])
        };
        (w(0), w(4), w(8))
    }
}

/// A file, as the state manager knows it: inode number and generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileKey {
    /// Inode number.
    pub ino: u64,
    /// Inode generation (distinguishes reuse of a number).
    pub generation: u64,
}

/// Who sent a request, for the client-ID principal checks of RFC 7530
/// §16.33.5 and RFC 8881 §18.35.5.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// AUTH_NONE.
    None,
    /// AUTH_SYS, identified by its uid.
    Sys {
        /// The credential's uid.
        uid: u32,
    },
    /// A named principal (RPCSEC_GSS).
    Name(Vec<u8>),
}

/// The minor version of the COMPOUND (4.2 behaves as 4.1 here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MinorVersion {
    /// NFSv4.0 (RFC 7530): client IDs by SETCLIENTID, owner seqids.
    V0,
    /// NFSv4.1 and later (RFC 8881): sessions, seqids ignored.
    V1,
}

/// The context of a state-using operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// Minor version of the COMPOUND.
    pub minor: MinorVersion,
    /// 4.1: the client of the COMPOUND's session. Stateids of other clients
    /// are NFS4ERR_BAD_STATEID for it (RFC 8881 §8.2.4).
    pub session_client: Option<ClientId>,
}

impl Caller {
    /// A 4.0 COMPOUND.
    pub fn v40() -> Self {
        Caller { minor: MinorVersion::V0, session_client: None }
    }

    /// A 4.1 COMPOUND on a session of `client`.
    pub fn v41(client: ClientId) -> Self {
        Caller { minor: MinorVersion::V1, session_client: Some(client) }
    }
}

/// OPEN4_SHARE_ACCESS_* (RFC 7530 §16.16, RFC 8881 §18.16): READ, WRITE or
/// BOTH.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShareAccess(u8);

/// OPEN4_SHARE_DENY_*: NONE, READ, WRITE or BOTH.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShareDeny(u8);

/// The 4.1 want bits OPEN4_SHARE_ACCESS_WANT_* (mask 0xff00) and the
/// signal bits (0x10000, 0x20000): no delegations are handed out, so the
/// handler only needs them to fill in `ond_why`.
pub const SHARE_ACCESS_WANT_MASK: u32 = 0xff00;
const SHARE_ACCESS_WANT_MAX: u32 = 0x0500; // OPEN4_SHARE_ACCESS_WANT_CANCEL
const SHARE_ACCESS_SIGNAL_MASK: u32 = 0x0003_0000;

impl ShareAccess {
    /// Read access.
    pub const READ: ShareAccess = ShareAccess(1);
    /// Write access.
    pub const WRITE: ShareAccess = ShareAccess(2);
    /// Read and write access.
    pub const BOTH: ShareAccess = ShareAccess(3);

    /// Parse `share_access`; returns the access and the 4.1 want/signal
    /// bits. Zero access, unknown bits and (4.0) any want bit are
    /// NFS4ERR_INVAL (RFC 8881 §18.16.3).
    pub fn from_wire(v: u32, minor: MinorVersion) -> Result<(ShareAccess, u32), StateError> {
        let access = v & 0xff;
        let extra = v & !0xff;
        if !(1..=3).contains(&access) {
            return Err(StateError::Inval);
        }
        match minor {
            MinorVersion::V0 if extra != 0 => Err(StateError::Inval),
            MinorVersion::V0 => Ok((ShareAccess(access as u8), 0)),
            MinorVersion::V1 => {
                if extra & !(SHARE_ACCESS_WANT_MASK | SHARE_ACCESS_SIGNAL_MASK) != 0
                    || extra & SHARE_ACCESS_WANT_MASK > SHARE_ACCESS_WANT_MAX
                {
                    return Err(StateError::Inval);
                }
                Ok((ShareAccess(access as u8), extra))
            }
        }
    }

    /// The wire value (1, 2 or 3).
    pub fn bits(self) -> u32 {
        u32::from(self.0)
    }

    /// Whether read access is included.
    pub fn reads(self) -> bool {
        self.0 & 1 != 0
    }

    /// Whether write access is included.
    pub fn writes(self) -> bool {
        self.0 & 2 != 0
    }

    pub(crate) fn from_bits_unchecked(b: u8) -> ShareAccess {
        ShareAccess(b & 3)
    }
}

impl ShareDeny {
    /// Deny nothing.
    pub const NONE: ShareDeny = ShareDeny(0);
    /// Deny reads by others.
    pub const READ: ShareDeny = ShareDeny(1);
    /// Deny writes by others.
    pub const WRITE: ShareDeny = ShareDeny(2);
    /// Deny both.
    pub const BOTH: ShareDeny = ShareDeny(3);

    /// Parse `share_deny`; anything but 0..=3 is NFS4ERR_INVAL.
    pub fn from_wire(v: u32) -> Result<ShareDeny, StateError> {
        if v > 3 {
            return Err(StateError::Inval);
        }
        Ok(ShareDeny(v as u8))
    }

    /// The wire value (0..=3).
    pub fn bits(self) -> u32 {
        u32::from(self.0)
    }

    pub(crate) fn from_bits_unchecked(b: u8) -> ShareDeny {
        ShareDeny(b & 3)
    }
}

/// A byte-range lock type (RFC 7530 §16.10). The blocking variants
/// READW_LT/WRITEW_LT are parsed into the same two types plus a flag: the
/// server never blocks, it only remembers the waiter for fairness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockType {
    /// READ_LT: shared.
    Read,
    /// WRITE_LT: exclusive.
    Write,
}

impl LockType {
    /// Parse nfs_lock_type4: (type, blocking). Unknown values are
    /// NFS4ERR_INVAL.
    pub fn from_wire(v: u32) -> Result<(LockType, bool), StateError> {
        match v {
            1 => Ok((LockType::Read, false)),
            2 => Ok((LockType::Write, false)),
            3 => Ok((LockType::Read, true)),
            4 => Ok((LockType::Write, true)),
            _ => Err(StateError::Inval),
        }
    }

    /// READ_LT (1) or WRITE_LT (2).
    pub fn to_wire(self) -> u32 {
        match self {
            LockType::Read => 1,
            LockType::Write => 2,
        }
    }
}

/// A lock-owner as LOCK4denied reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LockOwnerId {
    /// The owner's client.
    pub client: ClientId,
    /// The owner's opaque name.
    pub owner: Vec<u8>,
}

/// The conflicting lock of a NFS4ERR_DENIED (LOCK4denied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockDenied {
    /// Start of the conflicting range.
    pub offset: u64,
    /// Its length; `u64::MAX` means "to the end of the file".
    pub length: u64,
    /// Its type.
    pub lock_type: LockType,
    /// Its owner.
    pub owner: LockOwnerId,
}

/// Why a state operation failed. Each variant is one nfsstat4
/// ([`StateError::name`]); the COMPOUND handlers map names to numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// NFS4ERR_BAD_STATEID.
    #[error("bad stateid")]
    BadStateid,
    /// NFS4ERR_OLD_STATEID.
    #[error("old stateid")]
    OldStateid,
    /// NFS4ERR_STALE_STATEID.
    #[error("stateid of an earlier server instance")]
    StaleStateid,
    /// NFS4ERR_EXPIRED.
    #[error("lease expired")]
    Expired,
    /// NFS4ERR_STALE_CLIENTID.
    #[error("unknown or stale client id")]
    StaleClientid,
    /// NFS4ERR_CLID_INUSE.
    #[error("client id in use by another principal")]
    ClidInuse,
    /// NFS4ERR_BAD_SEQID.
    #[error("bad seqid")]
    BadSeqid,
    /// NFS4ERR_SHARE_DENIED.
    #[error("share reservation conflict")]
    ShareDenied,
    /// NFS4ERR_DENIED, with one conflicting lock.
    #[error("lock conflict")]
    Denied(LockDenied),
    /// NFS4ERR_LOCKS_HELD.
    #[error("locks held")]
    LocksHeld,
    /// NFS4ERR_LOCKED: I/O with a special stateid against a share deny.
    #[error("locked")]
    Locked,
    /// NFS4ERR_GRACE.
    #[error("in grace period")]
    Grace,
    /// NFS4ERR_NO_GRACE.
    #[error("not in grace period")]
    NoGrace,
    /// NFS4ERR_RECLAIM_BAD.
    #[error("nothing to reclaim")]
    ReclaimBad,
    /// NFS4ERR_RECLAIM_CONFLICT.
    #[error("reclaim conflict")]
    ReclaimConflict,
    /// NFS4ERR_BADSESSION.
    #[error("unknown session")]
    BadSession,
    /// NFS4ERR_BADSLOT.
    #[error("slot out of range")]
    BadSlot,
    /// NFS4ERR_SEQ_MISORDERED.
    #[error("sequence id misordered")]
    SeqMisordered,
    /// NFS4ERR_SEQ_FALSE_RETRY.
    #[error("retry differs from the original request")]
    SeqFalseRetry,
    /// NFS4ERR_RETRY_UNCACHED_REP.
    #[error("reply was not cached")]
    RetryUncachedRep,
    /// NFS4ERR_CONN_NOT_BOUND_TO_SESSION.
    #[error("connection not bound to the session")]
    ConnNotBoundToSession,
    /// NFS4ERR_CLIENTID_BUSY.
    #[error("client id has sessions or state")]
    ClientidBusy,
    /// NFS4ERR_COMPLETE_ALREADY.
    #[error("reclaim already complete")]
    CompleteAlready,
    /// NFS4ERR_WRONG_CRED.
    #[error("wrong credential")]
    WrongCred,
    /// NFS4ERR_INVAL.
    #[error("invalid argument")]
    Inval,
    /// NFS4ERR_BAD_RANGE.
    #[error("bad lock range")]
    BadRange,
    /// NFS4ERR_LOCK_RANGE.
    #[error("lock range not supported")]
    LockRange,
    /// NFS4ERR_OPENMODE.
    #[error("operation not allowed by the open mode")]
    OpenMode,
    /// NFS4ERR_RESOURCE (4.0 only; 4.1 gets [`StateError::Delay`]).
    #[error("out of resources")]
    Resource,
    /// NFS4ERR_DELAY.
    #[error("try again later")]
    Delay,
    /// NFS4ERR_TOO_MANY_OPS.
    #[error("too many operations")]
    TooManyOps,
    /// NFS4ERR_REQ_TOO_BIG.
    #[error("request too big")]
    ReqTooBig,
    /// NFS4ERR_REP_TOO_BIG.
    #[error("reply too big")]
    RepTooBig,
    /// NFS4ERR_REP_TOO_BIG_TO_CACHE.
    #[error("reply too big to cache")]
    RepTooBigToCache,
    /// NFS4ERR_TOOSMALL.
    #[error("channel attributes too small")]
    TooSmall,
    /// NFS4ERR_NOENT (EXCHANGE_ID update of a missing record).
    #[error("no such client record")]
    NoEnt,
    /// NFS4ERR_NOT_SAME (EXCHANGE_ID update with another verifier).
    #[error("verifier differs")]
    NotSame,
    /// NFS4ERR_PERM (EXCHANGE_ID update by another principal).
    #[error("not permitted")]
    Perm,
    /// NFS4ERR_SERVERFAULT.
    #[error("server fault")]
    ServerFault,
}

impl StateError {
    /// The nfsstat4 name, e.g. `"NFS4ERR_BAD_STATEID"`.
    pub fn name(&self) -> &'static str {
        match self {
            StateError::BadStateid => "NFS4ERR_BAD_STATEID",
            StateError::OldStateid => "NFS4ERR_OLD_STATEID",
            StateError::StaleStateid => "NFS4ERR_STALE_STATEID",
            StateError::Expired => "NFS4ERR_EXPIRED",
            StateError::StaleClientid => "NFS4ERR_STALE_CLIENTID",
            StateError::ClidInuse => "NFS4ERR_CLID_INUSE",
            StateError::BadSeqid => "NFS4ERR_BAD_SEQID",
            StateError::ShareDenied => "NFS4ERR_SHARE_DENIED",
            StateError::Denied(_) => "NFS4ERR_DENIED",
            StateError::LocksHeld => "NFS4ERR_LOCKS_HELD",
            StateError::Locked => "NFS4ERR_LOCKED",
            StateError::Grace => "NFS4ERR_GRACE",
            StateError::NoGrace => "NFS4ERR_NO_GRACE",
            StateError::ReclaimBad => "NFS4ERR_RECLAIM_BAD",
            StateError::ReclaimConflict => "NFS4ERR_RECLAIM_CONFLICT",
            StateError::BadSession => "NFS4ERR_BADSESSION",
            StateError::BadSlot => "NFS4ERR_BADSLOT",
            StateError::SeqMisordered => "NFS4ERR_SEQ_MISORDERED",
            StateError::SeqFalseRetry => "NFS4ERR_SEQ_FALSE_RETRY",
            StateError::RetryUncachedRep => "NFS4ERR_RETRY_UNCACHED_REP",
            StateError::ConnNotBoundToSession => "NFS4ERR_CONN_NOT_BOUND_TO_SESSION",
            StateError::ClientidBusy => "NFS4ERR_CLIENTID_BUSY",
            StateError::CompleteAlready => "NFS4ERR_COMPLETE_ALREADY",
            StateError::WrongCred => "NFS4ERR_WRONG_CRED",
            StateError::Inval => "NFS4ERR_INVAL",
            StateError::BadRange => "NFS4ERR_BAD_RANGE",
            StateError::LockRange => "NFS4ERR_LOCK_RANGE",
            StateError::OpenMode => "NFS4ERR_OPENMODE",
            StateError::Resource => "NFS4ERR_RESOURCE",
            StateError::Delay => "NFS4ERR_DELAY",
            StateError::TooManyOps => "NFS4ERR_TOO_MANY_OPS",
            StateError::ReqTooBig => "NFS4ERR_REQ_TOO_BIG",
            StateError::RepTooBig => "NFS4ERR_REP_TOO_BIG",
            StateError::RepTooBigToCache => "NFS4ERR_REP_TOO_BIG_TO_CACHE",
            StateError::TooSmall => "NFS4ERR_TOOSMALL",
            StateError::NoEnt => "NFS4ERR_NOENT",
            StateError::NotSame => "NFS4ERR_NOT_SAME",
            StateError::Perm => "NFS4ERR_PERM",
            StateError::ServerFault => "NFS4ERR_SERVERFAULT",
        }
    }

    /// Whether a 4.0 seqid-ordered operation that failed with this error
    /// still consumes its seqid (RFC 7530 §9.1.7: all errors do except
    /// STALE_CLIENTID, STALE_STATEID, BAD_STATEID, BAD_SEQID, BADXDR,
    /// RESOURCE, NOFILEHANDLE and MOVED; the last three are the handler's).
    pub fn advances_seqid(&self) -> bool {
        !matches!(
            self,
            StateError::StaleClientid
                | StateError::StaleStateid
                | StateError::BadStateid
                | StateError::BadSeqid
                | StateError::Resource
        )
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}
