//! The arguments and results of every operation the server implements:
//! RFC 7530 §16 / RFC 8881 §18 (3–39) and RFC 8881 §18 (40–58). The
//! operations answered `NFS4ERR_NOTSUPP` unread have no types here (see
//! [`Opnum4::is_not_supported`]).
//!
//! Operations without arguments (GETFH, LOOKUPP, PUTPUBFH, PUTROOTFH,
//! READLINK, RESTOREFH, SAVEFH) have no args type; results that are a bare
//! `nfsstat4` are aliases of [`Nfsstat4`].

#[cfg(doc)]
use super::types::Opnum4;
use super::types::{
    array, array1, component4, data4, linktext4, opaque_limit, Bitmap4, CallbackSecParms4,
    CbClient4, ChangeInfo4, ChannelAttrs4, ChannelDirFromClient4, ChannelDirFromServer4,
    ClientOwner4, Clientaddr4, Clientid4, Createtype4, Entry4, Fattr4, LockDenied4, LockOwner4,
    Locker4, NfsClientId4, NfsFh4, NfsImplId4, NfsLockType4, NfsRes4, Nfsstat4, OpenClaim4,
    OpenDelegation4, OpenOwner4, Openflag4, Secinfo4, ServerOwner4, Sessionid4, StableHow4,
    StateProtect4A, StateProtect4R, Stateid4, Verifier4,
};
use super::{ARRAY_DECODE_MAX, DIR_ENTRIES_DECODE_MAX};
use crate::xdr::{
    decode_array, decode_list, encode_array, encode_list, opaque_len, xdr_struct, Decoder, Encoder,
    XdrDecode, XdrEncode, XdrError,
};

// ---------------------------------------------------------------- ACCESS (3)

xdr_struct! {
    /// ```text
    /// struct ACCESS4args {
    ///         /* CURRENT_FH: object */
    ///         uint32_t        access;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct AccessArgs {
        /// `ACCESS4_*` bits asked for.
        pub access: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct ACCESS4resok {
    ///         uint32_t        supported;
    ///         uint32_t        access;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct AccessResOk {
        /// The bits of the request the server could check.
        pub supported: u32,
        /// The bits granted (a subset of `supported`).
        pub access: u32,
    }
}

/// `ACCESS4res`: `case NFS4_OK: ACCESS4resok resok4; default: void;`
pub type AccessRes = NfsRes4<AccessResOk>;

// ---------------------------------------------------------------- CLOSE (4)

xdr_struct! {
    /// ```text
    /// struct CLOSE4args {
    ///         /* CURRENT_FH: object */
    ///         seqid4          seqid;
    ///         stateid4        open_stateid;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct CloseArgs {
        /// Open-owner sequence id (4.0; ignored in 4.1).
        pub seqid: u32,
        /// The open to close.
        pub open_stateid: Stateid4,
    }
}

/// `CLOSE4res`: `case NFS4_OK: stateid4 open_stateid; default: void;`
pub type CloseRes = NfsRes4<Stateid4>;

// ---------------------------------------------------------------- COMMIT (5)

xdr_struct! {
    /// ```text
    /// struct COMMIT4args {
    ///         /* CURRENT_FH: file */
    ///         offset4         offset;
    ///         count4          count;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct CommitArgs {
        /// Start of the range.
        pub offset: u64,
        /// Length of the range (0: to the end of the file).
        pub count: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct COMMIT4resok {
    ///         verifier4       writeverf;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct CommitResOk {
        /// Write verifier.
        pub writeverf: Verifier4,
    }
}

/// `COMMIT4res`.
pub type CommitRes = NfsRes4<CommitResOk>;

// ---------------------------------------------------------------- CREATE (6)

xdr_struct! {
    /// ```text
    /// struct CREATE4args {
    ///         /* CURRENT_FH: directory for creation */
    ///         createtype4     objtype;
    ///         component4      objname;
    ///         fattr4          createattrs;
    /// };
    /// ```
    pub struct CreateArgs {
        /// Type (and symlink target or device numbers).
        pub objtype: Createtype4,
        /// Name in the current directory.
        pub objname: Vec<u8> [component4],
        /// Initial attributes.
        pub createattrs: Fattr4,
    }
}

xdr_struct! {
    /// ```text
    /// struct CREATE4resok {
    ///         change_info4    cinfo;
    ///         bitmap4         attrset;        /* attributes set */
    /// };
    /// ```
    pub struct CreateResOk {
        /// Directory change info.
        pub cinfo: ChangeInfo4,
        /// The `createattrs` that were set.
        pub attrset: Bitmap4,
    }
}

/// `CREATE4res` (on NFS4_OK the new object is the current file handle).
pub type CreateRes = NfsRes4<CreateResOk>;

// ---------------------------------------------------------------- DELEGPURGE (7), DELEGRETURN (8)

xdr_struct! {
    /// ```text
    /// struct DELEGPURGE4args {
    ///         clientid4       clientid;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct DelegpurgeArgs {
        /// The client whose reclaimable delegations to purge.
        pub clientid: Clientid4,
    }
}

/// `struct DELEGPURGE4res { nfsstat4 status; };`
pub type DelegpurgeRes = Nfsstat4;

xdr_struct! {
    /// ```text
    /// struct DELEGRETURN4args {
    ///         /* CURRENT_FH: delegated object */
    ///         stateid4        deleg_stateid;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct DelegreturnArgs {
        /// The delegation returned.
        pub deleg_stateid: Stateid4,
    }
}

/// `struct DELEGRETURN4res { nfsstat4 status; };`
pub type DelegreturnRes = Nfsstat4;

// ---------------------------------------------------------------- GETATTR (9), GETFH (10)

xdr_struct! {
    /// ```text
    /// struct GETATTR4args {
    ///         /* CURRENT_FH: object */
    ///         bitmap4         attr_request;
    /// };
    /// ```
    pub struct GetattrArgs {
        /// The attributes asked for.
        pub attr_request: Bitmap4,
    }
}

xdr_struct! {
    /// ```text
    /// struct GETATTR4resok {
    ///         fattr4          obj_attributes;
    /// };
    /// ```
    pub struct GetattrResOk {
        /// The asked-for attributes the server supports.
        pub obj_attributes: Fattr4,
    }
}

/// `GETATTR4res`.
pub type GetattrRes = NfsRes4<GetattrResOk>;

xdr_struct! {
    /// ```text
    /// struct GETFH4resok {
    ///         nfs_fh4         object;
    /// };
    /// ```
    /// (GETFH has no arguments.)
    pub struct GetfhResOk {
        /// The current file handle.
        pub object: NfsFh4,
    }
}

/// `GETFH4res`.
pub type GetfhRes = NfsRes4<GetfhResOk>;

// ---------------------------------------------------------------- LINK (11)

xdr_struct! {
    /// ```text
    /// struct LINK4args {
    ///         /* SAVED_FH: source object */
    ///         /* CURRENT_FH: target directory */
    ///         component4      newname;
    /// };
    /// ```
    pub struct LinkArgs {
        /// Name of the new link in the current directory.
        pub newname: Vec<u8> [component4],
    }
}

xdr_struct! {
    /// ```text
    /// struct LINK4resok {
    ///         change_info4    cinfo;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct LinkResOk {
        /// Target directory change info.
        pub cinfo: ChangeInfo4,
    }
}

/// `LINK4res`.
pub type LinkRes = NfsRes4<LinkResOk>;

// ---------------------------------------------------------------- LOCK (12), LOCKT (13), LOCKU (14)

xdr_struct! {
    /// ```text
    /// struct LOCK4args {
    ///         /* CURRENT_FH: file */
    ///         nfs_lock_type4  locktype;
    ///         bool            reclaim;
    ///         offset4         offset;
    ///         length4         length;
    ///         locker4         locker;
    /// };
    /// ```
    pub struct LockArgs {
        /// Lock type.
        pub locktype: NfsLockType4,
        /// Reclaim after a server restart.
        pub reclaim: bool,
        /// Start of the range.
        pub offset: u64,
        /// Length of the range (`NFS4_UINT64_MAX`: to the end).
        pub length: u64,
        /// New or existing lock owner.
        pub locker: Locker4,
    }
}

xdr_struct! {
    /// ```text
    /// struct LOCK4resok {
    ///         stateid4        lock_stateid;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct LockResOk {
        /// The lock owner's stateid.
        pub lock_stateid: Stateid4,
    }
}

/// ```text
/// union LOCK4res switch (nfsstat4 status) {
///  case NFS4_OK:
///          LOCK4resok     resok4;
///  case NFS4ERR_DENIED:
///          LOCK4denied    denied;
///  default:
///          void;
/// };
/// ```
/// `Err` must not hold `NFS4_OK` or `NFS4ERR_DENIED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockRes {
    /// `NFS4_OK`.
    Ok(LockResOk),
    /// `NFS4ERR_DENIED` and the conflicting lock.
    Denied(LockDenied4),
    /// Any other status.
    Err(Nfsstat4),
}

impl LockRes {
    /// The status this result encodes.
    pub fn status(&self) -> Nfsstat4 {
        match self {
            LockRes::Ok(_) => Nfsstat4::Ok,
            LockRes::Denied(_) => Nfsstat4::Denied,
            LockRes::Err(s) => *s,
        }
    }
}

impl<'a> XdrDecode<'a> for LockRes {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(match Nfsstat4::decode(d)? {
            Nfsstat4::Ok => LockRes::Ok(LockResOk::decode(d)?),
            Nfsstat4::Denied => LockRes::Denied(LockDenied4::decode(d)?),
            s => LockRes::Err(s),
        })
    }
}
impl XdrEncode for LockRes {
    fn encode(&self, e: &mut Encoder) {
        self.status().encode(e);
        match self {
            LockRes::Ok(ok) => ok.encode(e),
            LockRes::Denied(den) => den.encode(e),
            LockRes::Err(_) => {}
        }
    }
}

xdr_struct! {
    /// ```text
    /// struct LOCKT4args {
    ///         /* CURRENT_FH: file */
    ///         nfs_lock_type4  locktype;
    ///         offset4         offset;
    ///         length4         length;
    ///         lock_owner4     owner;
    /// };
    /// ```
    pub struct LocktArgs {
        /// Lock type to test.
        pub locktype: NfsLockType4,
        /// Start of the range.
        pub offset: u64,
        /// Length of the range.
        pub length: u64,
        /// The would-be owner.
        pub owner: LockOwner4,
    }
}

/// ```text
/// union LOCKT4res switch (nfsstat4 status) {
///  case NFS4ERR_DENIED:
///          LOCK4denied    denied;
///  case NFS4_OK:
///          void;
///  default:
///          void;
/// };
/// ```
/// `Err` must not hold `NFS4_OK` or `NFS4ERR_DENIED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocktRes {
    /// `NFS4_OK`: no conflict.
    Ok,
    /// `NFS4ERR_DENIED` and the conflicting lock.
    Denied(LockDenied4),
    /// Any other status.
    Err(Nfsstat4),
}

impl LocktRes {
    /// The status this result encodes.
    pub fn status(&self) -> Nfsstat4 {
        match self {
            LocktRes::Ok => Nfsstat4::Ok,
            LocktRes::Denied(_) => Nfsstat4::Denied,
            LocktRes::Err(s) => *s,
        }
    }
}

impl<'a> XdrDecode<'a> for LocktRes {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(match Nfsstat4::decode(d)? {
            Nfsstat4::Ok => LocktRes::Ok,
            Nfsstat4::Denied => LocktRes::Denied(LockDenied4::decode(d)?),
            s => LocktRes::Err(s),
        })
    }
}
impl XdrEncode for LocktRes {
    fn encode(&self, e: &mut Encoder) {
        self.status().encode(e);
        if let LocktRes::Denied(den) = self {
            den.encode(e);
        }
    }
}

xdr_struct! {
    /// ```text
    /// struct LOCKU4args {
    ///         /* CURRENT_FH: file */
    ///         nfs_lock_type4  locktype;
    ///         seqid4          seqid;
    ///         stateid4        lock_stateid;
    ///         offset4         offset;
    ///         length4         length;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct LockuArgs {
        /// Lock type.
        pub locktype: NfsLockType4,
        /// Lock-owner sequence id (4.0; ignored in 4.1).
        pub seqid: u32,
        /// The lock owner's stateid.
        pub lock_stateid: Stateid4,
        /// Start of the range.
        pub offset: u64,
        /// Length of the range.
        pub length: u64,
    }
}

/// `LOCKU4res`: `case NFS4_OK: stateid4 lock_stateid; default: void;`
pub type LockuRes = NfsRes4<Stateid4>;

// ---------------------------------------------------------------- LOOKUP (15), LOOKUPP (16), NVERIFY (17)

xdr_struct! {
    /// ```text
    /// struct LOOKUP4args {
    ///         /* CURRENT_FH: directory */
    ///         component4      objname;
    /// };
    /// ```
    pub struct LookupArgs {
        /// Name in the current directory (≤ [`NAME_DECODE_MAX_BYTES`](crate::nfs4::NAME_DECODE_MAX_BYTES)
        /// on decode; the server checks the length, UTF-8, `.`/`..`, NUL and `/`).
        pub objname: Vec<u8> [component4],
    }
}

/// `struct LOOKUP4res { nfsstat4 status; };`
pub type LookupRes = Nfsstat4;
/// `struct LOOKUPP4res { nfsstat4 status; };` (LOOKUPP has no arguments.)
pub type LookuppRes = Nfsstat4;

xdr_struct! {
    /// ```text
    /// struct NVERIFY4args {
    ///         /* CURRENT_FH: object */
    ///         fattr4          obj_attributes;
    /// };
    /// ```
    pub struct NverifyArgs {
        /// Attributes that must differ.
        pub obj_attributes: Fattr4,
    }
}

/// `struct NVERIFY4res { nfsstat4 status; };`
pub type NverifyRes = Nfsstat4;

// ---------------------------------------------------------------- OPEN (18)

xdr_struct! {
    /// ```text
    /// struct OPEN4args {
    ///         seqid4          seqid;
    ///         uint32_t        share_access;
    ///         uint32_t        share_deny;
    ///         open_owner4     owner;
    ///         openflag4       openhow;
    ///         open_claim4     claim;
    /// };
    /// ```
    pub struct OpenArgs {
        /// Open-owner sequence id (4.0; ignored in 4.1).
        pub seqid: u32,
        /// `OPEN4_SHARE_ACCESS_*` (and, in 4.1, `OPEN4_SHARE_ACCESS_WANT_*`).
        pub share_access: u32,
        /// `OPEN4_SHARE_DENY_*`.
        pub share_deny: u32,
        /// The open owner.
        pub owner: OpenOwner4,
        /// Create or not.
        pub openhow: Openflag4,
        /// What is opened.
        pub claim: OpenClaim4,
    }
}

xdr_struct! {
    /// ```text
    /// struct OPEN4resok {
    ///  stateid4       stateid;      /* Stateid for open */
    ///  change_info4   cinfo;        /* Directory Change Info */
    ///  uint32_t       rflags;       /* Result flags */
    ///  bitmap4        attrset;      /* attribute set for create*/
    ///  open_delegation4 delegation; /* Info on any open
    ///                                  delegation */
    /// };
    /// ```
    pub struct OpenResOk {
        /// The open's stateid.
        pub stateid: Stateid4,
        /// Directory change info.
        pub cinfo: ChangeInfo4,
        /// `OPEN4_RESULT_*`.
        pub rflags: u32,
        /// The create attributes that were set.
        pub attrset: Bitmap4,
        /// Delegation granted, or why not.
        pub delegation: OpenDelegation4,
    }
}

/// `OPEN4res` (on NFS4_OK the opened file is the current file handle).
pub type OpenRes = NfsRes4<OpenResOk>;

// ---------------------------------------------------------------- OPEN_CONFIRM (20), OPEN_DOWNGRADE (21)

xdr_struct! {
    /// ```text
    /// struct OPEN_CONFIRM4args {
    ///         /* CURRENT_FH: opened file */
    ///         stateid4        open_stateid;
    ///         seqid4          seqid;
    /// };
    /// ```
    /// (4.0 only.)
    #[derive(Copy)]
    pub struct OpenConfirmArgs {
        /// The open to confirm.
        pub open_stateid: Stateid4,
        /// Open-owner sequence id.
        pub seqid: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct OPEN_CONFIRM4resok {
    ///         stateid4        open_stateid;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct OpenConfirmResOk {
        /// The confirmed open's stateid.
        pub open_stateid: Stateid4,
    }
}

/// `OPEN_CONFIRM4res`.
pub type OpenConfirmRes = NfsRes4<OpenConfirmResOk>;

xdr_struct! {
    /// ```text
    /// struct OPEN_DOWNGRADE4args {
    ///         /* CURRENT_FH: opened file */
    ///         stateid4        open_stateid;
    ///         seqid4          seqid;
    ///         uint32_t        share_access;
    ///         uint32_t        share_deny;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct OpenDowngradeArgs {
        /// The open.
        pub open_stateid: Stateid4,
        /// Open-owner sequence id (4.0; ignored in 4.1).
        pub seqid: u32,
        /// New access.
        pub share_access: u32,
        /// New deny.
        pub share_deny: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct OPEN_DOWNGRADE4resok {
    ///         stateid4        open_stateid;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct OpenDowngradeResOk {
        /// The open's new stateid.
        pub open_stateid: Stateid4,
    }
}

/// `OPEN_DOWNGRADE4res`.
pub type OpenDowngradeRes = NfsRes4<OpenDowngradeResOk>;

// ---------------------------------------------------------------- PUTFH (22), PUTPUBFH (23), PUTROOTFH (24)

xdr_struct! {
    /// ```text
    /// struct PUTFH4args {
    ///         nfs_fh4         object;
    /// };
    /// ```
    pub struct PutfhArgs {
        /// The new current file handle.
        pub object: NfsFh4,
    }
}

/// `struct PUTFH4res { nfsstat4 status; };`
pub type PutfhRes = Nfsstat4;
/// `struct PUTPUBFH4res { nfsstat4 status; };` (no arguments)
pub type PutpubfhRes = Nfsstat4;
/// `struct PUTROOTFH4res { nfsstat4 status; };` (no arguments)
pub type PutrootfhRes = Nfsstat4;

// ---------------------------------------------------------------- READ (25)

xdr_struct! {
    /// ```text
    /// struct READ4args {
    ///         /* CURRENT_FH: file */
    ///         stateid4        stateid;
    ///         offset4         offset;
    ///         count4          count;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct ReadArgs {
        /// Open, lock, delegation or special stateid.
        pub stateid: Stateid4,
        /// Byte offset.
        pub offset: u64,
        /// Bytes asked for (the server bounds it by its `maxread`).
        pub count: u32,
    }
}

/// Encoded size of a READ success result without the data bytes and their
/// padding: status, `eof`, data length (add 4 for the `resop` opnum).
pub const READ4_RES_OK_FIXED_LEN: usize = 4 + 4 + 4;

xdr_struct! {
    /// ```text
    /// struct READ4resok {
    ///         bool            eof;
    ///         opaque          data<>;
    /// };
    /// ```
    /// Encodes to [`READ4_RES_OK_FIXED_LEN`] − 4 plus the data and its padding.
    pub struct ReadResOk {
        /// End of file reached.
        pub eof: bool,
        /// The bytes (≤ [`DATA_DECODE_MAX_BYTES`](crate::nfs4::DATA_DECODE_MAX_BYTES) on decode).
        pub data: Vec<u8> [data4],
    }
}

/// `READ4res`.
pub type ReadRes = NfsRes4<ReadResOk>;

// ---------------------------------------------------------------- READDIR (26)

xdr_struct! {
    /// ```text
    /// struct READDIR4args {
    ///         /* CURRENT_FH: directory */
    ///         nfs_cookie4     cookie;
    ///         verifier4       cookieverf;
    ///         count4          dircount;
    ///         count4          maxcount;
    ///         bitmap4         attr_request;
    /// };
    /// ```
    pub struct ReaddirArgs {
        /// Where to resume (0: from the start).
        pub cookie: u64,
        /// Verifier returned with `cookie`.
        pub cookieverf: Verifier4,
        /// Maximum bytes of directory information (cookies and names, see
        /// [`Entry4::dircount_len`]); 0 or a hint only.
        pub dircount: u32,
        /// Maximum size of the whole READDIR4resok in bytes.
        pub maxcount: u32,
        /// Attributes for each entry.
        pub attr_request: Bitmap4,
    }
}

/// Encoded size of a READDIR success result without its entries: status,
/// `cookieverf`, the final `value_follows = FALSE` and `eof` (add 4 for the
/// `resop` opnum). The result is this plus Σ [`Entry4::encoded_len`].
pub const READDIR4_RES_OK_FIXED_LEN: usize = 4 + 8 + 4 + 4;

/// ```text
/// struct dirlist4 {
///         entry4          *entries;
///         bool            eof;
/// };
///
/// struct READDIR4resok {
///         verifier4       cookieverf;
///         dirlist4        reply;
/// };
/// ```
/// Encodes to [`READDIR4_RES_OK_FIXED_LEN`] − 4 + Σ [`Entry4::encoded_len`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaddirResOk {
    /// Verifier for the cookies.
    pub cookieverf: Verifier4,
    /// `reply.entries`.
    pub entries: Vec<Entry4>,
    /// `reply.eof`.
    pub eof: bool,
}

impl ReaddirResOk {
    /// Encoded size (without the status).
    pub fn encoded_len(&self) -> usize {
        READDIR4_RES_OK_FIXED_LEN - 4 + self.entries.iter().map(Entry4::encoded_len).sum::<usize>()
    }
}

impl<'a> XdrDecode<'a> for ReaddirResOk {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(ReaddirResOk {
            cookieverf: Verifier4::decode(d)?,
            entries: decode_list(d, DIR_ENTRIES_DECODE_MAX)?,
            eof: d.bool()?,
        })
    }
}
impl XdrEncode for ReaddirResOk {
    fn encode(&self, e: &mut Encoder) {
        self.cookieverf.encode(e);
        encode_list(e, &self.entries);
        e.put_bool(self.eof);
    }
}

/// `READDIR4res`.
pub type ReaddirRes = NfsRes4<ReaddirResOk>;

// ---------------------------------------------------------------- READLINK (27)

xdr_struct! {
    /// ```text
    /// struct READLINK4resok {
    ///         linktext4       link;
    /// };
    /// ```
    /// (READLINK has no arguments.)
    pub struct ReadlinkResOk {
        /// The link's target.
        pub link: Vec<u8> [linktext4],
    }
}

/// `READLINK4res`.
pub type ReadlinkRes = NfsRes4<ReadlinkResOk>;

// ---------------------------------------------------------------- REMOVE (28), RENAME (29)

xdr_struct! {
    /// ```text
    /// struct REMOVE4args {
    ///         /* CURRENT_FH: directory */
    ///         component4      target;
    /// };
    /// ```
    pub struct RemoveArgs {
        /// Name in the current directory.
        pub target: Vec<u8> [component4],
    }
}

xdr_struct! {
    /// ```text
    /// struct REMOVE4resok {
    ///         change_info4    cinfo;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct RemoveResOk {
        /// Directory change info.
        pub cinfo: ChangeInfo4,
    }
}

/// `REMOVE4res`.
pub type RemoveRes = NfsRes4<RemoveResOk>;

xdr_struct! {
    /// ```text
    /// struct RENAME4args {
    ///         /* SAVED_FH: source directory */
    ///         component4      oldname;
    ///         /* CURRENT_FH: target directory */
    ///         component4      newname;
    /// };
    /// ```
    pub struct RenameArgs {
        /// Name in the saved directory.
        pub oldname: Vec<u8> [component4],
        /// Name in the current directory.
        pub newname: Vec<u8> [component4],
    }
}

xdr_struct! {
    /// ```text
    /// struct RENAME4resok {
    ///         change_info4    source_cinfo;
    ///         change_info4    target_cinfo;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct RenameResOk {
        /// Source directory change info.
        pub source_cinfo: ChangeInfo4,
        /// Target directory change info.
        pub target_cinfo: ChangeInfo4,
    }
}

/// `RENAME4res`.
pub type RenameRes = NfsRes4<RenameResOk>;

// ---------------------------------------------------------------- RENEW (30), RESTOREFH (31), SAVEFH (32)

xdr_struct! {
    /// ```text
    /// struct RENEW4args {
    ///         clientid4       clientid;
    /// };
    /// ```
    /// (4.0 only.)
    #[derive(Copy)]
    pub struct RenewArgs {
        /// The client whose lease to renew.
        pub clientid: Clientid4,
    }
}

/// `struct RENEW4res { nfsstat4 status; };`
pub type RenewRes = Nfsstat4;
/// `struct RESTOREFH4res { nfsstat4 status; };` (no arguments)
pub type RestorefhRes = Nfsstat4;
/// `struct SAVEFH4res { nfsstat4 status; };` (no arguments)
pub type SavefhRes = Nfsstat4;

// ---------------------------------------------------------------- SECINFO (33), SECINFO_NO_NAME (52)

xdr_struct! {
    /// ```text
    /// struct SECINFO4args {
    ///         /* CURRENT_FH: directory */
    ///         component4      name;
    /// };
    /// ```
    pub struct SecinfoArgs {
        /// Name in the current directory.
        pub name: Vec<u8> [component4],
    }
}

/// ```text
/// typedef secinfo4 SECINFO4resok<>;
/// ```
/// At most [`ARRAY_DECODE_MAX`] flavors on decode, in the server's order
/// of preference.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecinfoResOk(pub Vec<Secinfo4>);

impl<'a> XdrDecode<'a> for SecinfoResOk {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(SecinfoResOk(decode_array(d, ARRAY_DECODE_MAX)?))
    }
}
impl XdrEncode for SecinfoResOk {
    fn encode(&self, e: &mut Encoder) {
        encode_array(e, &self.0)
    }
}

/// `SECINFO4res` (on NFS4_OK the current file handle is consumed).
pub type SecinfoRes = NfsRes4<SecinfoResOk>;
/// `typedef SECINFO4res SECINFO_NO_NAME4res;` (its argument is
/// [`SecinfoStyle4`](super::SecinfoStyle4)).
pub type SecinfoNoNameRes = SecinfoRes;

// ---------------------------------------------------------------- SETATTR (34)

xdr_struct! {
    /// ```text
    /// struct SETATTR4args {
    ///         /* CURRENT_FH: target object */
    ///         stateid4        stateid;
    ///         fattr4          obj_attributes;
    /// };
    /// ```
    pub struct SetattrArgs {
        /// Stateid for a size change (anonymous otherwise).
        pub stateid: Stateid4,
        /// What to set.
        pub obj_attributes: Fattr4,
    }
}

xdr_struct! {
    /// ```text
    /// struct SETATTR4res {
    ///         nfsstat4        status;
    ///         bitmap4         attrsset;
    /// };
    /// ```
    /// `attrsset` is present whatever the status (empty on most errors).
    pub struct SetattrRes {
        /// Status.
        pub status: Nfsstat4,
        /// The attributes that were set.
        pub attrsset: Bitmap4,
    }
}

// ---------------------------------------------------------------- SETCLIENTID (35), SETCLIENTID_CONFIRM (36)

xdr_struct! {
    /// ```text
    /// struct SETCLIENTID4args {
    ///         nfs_client_id4  client;
    ///         cb_client4      callback;
    ///         uint32_t        callback_ident;
    /// };
    /// ```
    /// (4.0 only.)
    pub struct SetclientidArgs {
        /// Verifier and identity.
        pub client: NfsClientId4,
        /// Callback program and address.
        pub callback: CbClient4,
        /// Callback identifier.
        pub callback_ident: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct SETCLIENTID4resok {
    ///         clientid4       clientid;
    ///         verifier4       setclientid_confirm;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct SetclientidResOk {
        /// The client id.
        pub clientid: Clientid4,
        /// Verifier to echo in SETCLIENTID_CONFIRM.
        pub setclientid_confirm: Verifier4,
    }
}

/// ```text
/// union SETCLIENTID4res switch (nfsstat4 status) {
///  case NFS4_OK:
///          SETCLIENTID4resok      resok4;
///  case NFS4ERR_CLID_INUSE:
///          clientaddr4    client_using;
///  default:
///          void;
/// };
/// ```
/// `Err` must not hold `NFS4_OK` or `NFS4ERR_CLID_INUSE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetclientidRes {
    /// `NFS4_OK`.
    Ok(SetclientidResOk),
    /// `NFS4ERR_CLID_INUSE` and the address of the client using the id.
    ClidInuse(Clientaddr4),
    /// Any other status.
    Err(Nfsstat4),
}

impl SetclientidRes {
    /// The status this result encodes.
    pub fn status(&self) -> Nfsstat4 {
        match self {
            SetclientidRes::Ok(_) => Nfsstat4::Ok,
            SetclientidRes::ClidInuse(_) => Nfsstat4::ClidInuse,
            SetclientidRes::Err(s) => *s,
        }
    }
}

impl<'a> XdrDecode<'a> for SetclientidRes {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(match Nfsstat4::decode(d)? {
            Nfsstat4::Ok => SetclientidRes::Ok(SetclientidResOk::decode(d)?),
            Nfsstat4::ClidInuse => SetclientidRes::ClidInuse(Clientaddr4::decode(d)?),
            s => SetclientidRes::Err(s),
        })
    }
}
impl XdrEncode for SetclientidRes {
    fn encode(&self, e: &mut Encoder) {
        self.status().encode(e);
        match self {
            SetclientidRes::Ok(ok) => ok.encode(e),
            SetclientidRes::ClidInuse(a) => a.encode(e),
            SetclientidRes::Err(_) => {}
        }
    }
}

xdr_struct! {
    /// ```text
    /// struct SETCLIENTID_CONFIRM4args {
    ///         clientid4       clientid;
    ///         verifier4       setclientid_confirm;
    /// };
    /// ```
    /// (4.0 only.)
    #[derive(Copy)]
    pub struct SetclientidConfirmArgs {
        /// The client id.
        pub clientid: Clientid4,
        /// The verifier from SETCLIENTID.
        pub setclientid_confirm: Verifier4,
    }
}

/// `struct SETCLIENTID_CONFIRM4res { nfsstat4 status; };`
pub type SetclientidConfirmRes = Nfsstat4;

// ---------------------------------------------------------------- VERIFY (37), WRITE (38)

xdr_struct! {
    /// ```text
    /// struct VERIFY4args {
    ///         /* CURRENT_FH: object */
    ///         fattr4          obj_attributes;
    /// };
    /// ```
    pub struct VerifyArgs {
        /// Attributes that must match.
        pub obj_attributes: Fattr4,
    }
}

/// `struct VERIFY4res { nfsstat4 status; };`
pub type VerifyRes = Nfsstat4;

xdr_struct! {
    /// ```text
    /// struct WRITE4args {
    ///         /* CURRENT_FH: file */
    ///         stateid4        stateid;
    ///         offset4         offset;
    ///         stable_how4     stable;
    ///         opaque          data<>;
    /// };
    /// ```
    /// `data` is owned and bounded by
    /// [`DATA_DECODE_MAX_BYTES`](crate::nfs4::DATA_DECODE_MAX_BYTES) on decode.
    pub struct WriteArgs {
        /// Open, lock, delegation or special stateid.
        pub stateid: Stateid4,
        /// Byte offset.
        pub offset: u64,
        /// Durability asked for.
        pub stable: StableHow4,
        /// The bytes.
        pub data: Vec<u8> [data4],
    }
}

impl WriteArgs {
    /// Encoded size of WRITE arguments before the data bytes: stateid,
    /// offset, stable, data length.
    pub const FIXED_LEN: usize = 16 + 8 + 4 + 4;

    /// Encoded size.
    pub fn encoded_len(&self) -> usize {
        Self::FIXED_LEN - 4 + opaque_len(self.data.len())
    }
}

xdr_struct! {
    /// ```text
    /// struct WRITE4resok {
    ///         count4          count;
    ///         stable_how4     committed;
    ///         verifier4       writeverf;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct WriteResOk {
        /// Bytes written.
        pub count: u32,
        /// Durability achieved (≥ the one asked for).
        pub committed: StableHow4,
        /// Write verifier.
        pub writeverf: Verifier4,
    }
}

/// `WRITE4res`.
pub type WriteRes = NfsRes4<WriteResOk>;

// ---------------------------------------------------------------- RELEASE_LOCKOWNER (39)

xdr_struct! {
    /// ```text
    /// struct RELEASE_LOCKOWNER4args {
    ///         lock_owner4     lock_owner;
    /// };
    /// ```
    /// (4.0 only.)
    pub struct ReleaseLockownerArgs {
        /// The lock owner to forget.
        pub lock_owner: LockOwner4,
    }
}

/// `struct RELEASE_LOCKOWNER4res { nfsstat4 status; };`
pub type ReleaseLockownerRes = Nfsstat4;

// ---------------------------------------------------------------- BACKCHANNEL_CTL (40)

xdr_struct! {
    /// ```text
    /// struct BACKCHANNEL_CTL4args {
    ///         uint32_t                bca_cb_program;
    ///         callback_sec_parms4     bca_sec_parms<>;
    /// };
    /// ```
    pub struct BackchannelCtlArgs {
        /// Callback program number.
        pub bca_cb_program: u32,
        /// Acceptable callback security (≤ [`ARRAY_DECODE_MAX`]).
        pub bca_sec_parms: Vec<CallbackSecParms4> [array],
    }
}

/// `struct BACKCHANNEL_CTL4res { nfsstat4 bcr_status; };`
pub type BackchannelCtlRes = Nfsstat4;

// ---------------------------------------------------------------- BIND_CONN_TO_SESSION (41)

xdr_struct! {
    /// ```text
    /// struct BIND_CONN_TO_SESSION4args {
    ///  sessionid4     bctsa_sessid;
    ///  channel_dir_from_client4
    ///                 bctsa_dir;
    ///  bool           bctsa_use_conn_in_rdma_mode;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct BindConnToSessionArgs {
        /// The session.
        pub bctsa_sessid: Sessionid4,
        /// Channel(s) asked for.
        pub bctsa_dir: ChannelDirFromClient4,
        /// RDMA mode.
        pub bctsa_use_conn_in_rdma_mode: bool,
    }
}

xdr_struct! {
    /// ```text
    /// struct BIND_CONN_TO_SESSION4resok {
    ///  sessionid4     bctsr_sessid;
    ///  channel_dir_from_server4
    ///                 bctsr_dir;
    ///  bool           bctsr_use_conn_in_rdma_mode;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct BindConnToSessionResOk {
        /// The session.
        pub bctsr_sessid: Sessionid4,
        /// Channel(s) bound.
        pub bctsr_dir: ChannelDirFromServer4,
        /// RDMA mode.
        pub bctsr_use_conn_in_rdma_mode: bool,
    }
}

/// `BIND_CONN_TO_SESSION4res`.
pub type BindConnToSessionRes = NfsRes4<BindConnToSessionResOk>;

// ---------------------------------------------------------------- EXCHANGE_ID (42)

xdr_struct! {
    /// ```text
    /// struct EXCHANGE_ID4args {
    ///         client_owner4           eia_clientowner;
    ///         uint32_t                eia_flags;
    ///         state_protect4_a        eia_state_protect;
    ///         nfs_impl_id4            eia_client_impl_id<1>;
    /// };
    /// ```
    pub struct ExchangeIdArgs {
        /// Client owner.
        pub eia_clientowner: ClientOwner4,
        /// `EXCHGID4_FLAG_*`.
        pub eia_flags: u32,
        /// State protection asked for.
        pub eia_state_protect: StateProtect4A,
        /// Client implementation.
        pub eia_client_impl_id: Option<NfsImplId4> [array1],
    }
}

xdr_struct! {
    /// ```text
    /// struct EXCHANGE_ID4resok {
    ///  clientid4        eir_clientid;
    ///  sequenceid4      eir_sequenceid;
    ///  uint32_t         eir_flags;
    ///  state_protect4_r eir_state_protect;
    ///  server_owner4    eir_server_owner;
    ///  opaque           eir_server_scope<NFS4_OPAQUE_LIMIT>;
    ///  nfs_impl_id4     eir_server_impl_id<1>;
    /// };
    /// ```
    pub struct ExchangeIdResOk {
        /// The client id.
        pub eir_clientid: Clientid4,
        /// Sequence id for CREATE_SESSION.
        pub eir_sequenceid: u32,
        /// `EXCHGID4_FLAG_*`.
        pub eir_flags: u32,
        /// State protection granted.
        pub eir_state_protect: StateProtect4R,
        /// Server owner.
        pub eir_server_owner: ServerOwner4,
        /// Server scope.
        pub eir_server_scope: Vec<u8> [opaque_limit],
        /// Server implementation.
        pub eir_server_impl_id: Option<NfsImplId4> [array1],
    }
}

/// `EXCHANGE_ID4res`.
pub type ExchangeIdRes = NfsRes4<ExchangeIdResOk>;

// ---------------------------------------------------------------- CREATE_SESSION (43), DESTROY_SESSION (44)

xdr_struct! {
    /// ```text
    /// struct CREATE_SESSION4args {
    ///         clientid4               csa_clientid;
    ///         sequenceid4             csa_sequence;
    ///         uint32_t                csa_flags;
    ///         channel_attrs4          csa_fore_chan_attrs;
    ///         channel_attrs4          csa_back_chan_attrs;
    ///         uint32_t                csa_cb_program;
    ///         callback_sec_parms4     csa_sec_parms<>;
    /// };
    /// ```
    pub struct CreateSessionArgs {
        /// The client id.
        pub csa_clientid: Clientid4,
        /// Sequence id from EXCHANGE_ID.
        pub csa_sequence: u32,
        /// `CREATE_SESSION4_FLAG_*`.
        pub csa_flags: u32,
        /// Fore channel attributes asked for.
        pub csa_fore_chan_attrs: ChannelAttrs4,
        /// Back channel attributes asked for.
        pub csa_back_chan_attrs: ChannelAttrs4,
        /// Callback program number.
        pub csa_cb_program: u32,
        /// Acceptable callback security (≤ [`ARRAY_DECODE_MAX`]).
        pub csa_sec_parms: Vec<CallbackSecParms4> [array],
    }
}

xdr_struct! {
    /// ```text
    /// struct CREATE_SESSION4resok {
    ///         sessionid4              csr_sessionid;
    ///         sequenceid4             csr_sequence;
    ///         uint32_t                csr_flags;
    ///         channel_attrs4          csr_fore_chan_attrs;
    ///         channel_attrs4          csr_back_chan_attrs;
    /// };
    /// ```
    pub struct CreateSessionResOk {
        /// The new session.
        pub csr_sessionid: Sessionid4,
        /// Echo of `csa_sequence`.
        pub csr_sequence: u32,
        /// `CREATE_SESSION4_FLAG_*` granted.
        pub csr_flags: u32,
        /// Fore channel attributes granted.
        pub csr_fore_chan_attrs: ChannelAttrs4,
        /// Back channel attributes granted.
        pub csr_back_chan_attrs: ChannelAttrs4,
    }
}

/// `CREATE_SESSION4res`.
pub type CreateSessionRes = NfsRes4<CreateSessionResOk>;

xdr_struct! {
    /// ```text
    /// struct DESTROY_SESSION4args {
    ///         sessionid4      dsa_sessionid;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct DestroySessionArgs {
        /// The session.
        pub dsa_sessionid: Sessionid4,
    }
}

/// `struct DESTROY_SESSION4res { nfsstat4 dsr_status; };`
pub type DestroySessionRes = Nfsstat4;

// ---------------------------------------------------------------- FREE_STATEID (45)

xdr_struct! {
    /// ```text
    /// struct FREE_STATEID4args {
    ///         stateid4        fsa_stateid;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct FreeStateidArgs {
        /// The stateid to free.
        pub fsa_stateid: Stateid4,
    }
}

/// `struct FREE_STATEID4res { nfsstat4 fsr_status; };`
pub type FreeStateidRes = Nfsstat4;

// ---------------------------------------------------------------- SEQUENCE (53)

xdr_struct! {
    /// ```text
    /// struct SEQUENCE4args {
    ///         sessionid4     sa_sessionid;
    ///         sequenceid4    sa_sequenceid;
    ///         slotid4        sa_slotid;
    ///         slotid4        sa_highest_slotid;
    ///         bool           sa_cachethis;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct SequenceArgs {
        /// The session.
        pub sa_sessionid: Sessionid4,
        /// The slot's sequence id.
        pub sa_sequenceid: u32,
        /// The slot.
        pub sa_slotid: u32,
        /// Highest slot the client will use.
        pub sa_highest_slotid: u32,
        /// Cache the whole reply.
        pub sa_cachethis: bool,
    }
}

xdr_struct! {
    /// ```text
    /// struct SEQUENCE4resok {
    ///         sessionid4      sr_sessionid;
    ///         sequenceid4     sr_sequenceid;
    ///         slotid4         sr_slotid;
    ///         slotid4         sr_highest_slotid;
    ///         slotid4         sr_target_highest_slotid;
    ///         uint32_t        sr_status_flags;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct SequenceResOk {
        /// The session.
        pub sr_sessionid: Sessionid4,
        /// The slot's sequence id.
        pub sr_sequenceid: u32,
        /// The slot.
        pub sr_slotid: u32,
        /// Highest slot the server will accept.
        pub sr_highest_slotid: u32,
        /// Highest slot the server wants the client to use.
        pub sr_target_highest_slotid: u32,
        /// `SEQ4_STATUS_*`.
        pub sr_status_flags: u32,
    }
}

/// `SEQUENCE4res`.
pub type SequenceRes = NfsRes4<SequenceResOk>;

// ---------------------------------------------------------------- TEST_STATEID (55)

xdr_struct! {
    /// ```text
    /// struct TEST_STATEID4args {
    ///         stateid4        ts_stateids<>;
    /// };
    /// ```
    pub struct TestStateidArgs {
        /// Stateids to test (≤ [`ARRAY_DECODE_MAX`]).
        pub ts_stateids: Vec<Stateid4> [array],
    }
}

xdr_struct! {
    /// ```text
    /// struct TEST_STATEID4resok {
    ///         nfsstat4        tsr_status_codes<>;
    /// };
    /// ```
    pub struct TestStateidResOk {
        /// One status per stateid, in order.
        pub tsr_status_codes: Vec<Nfsstat4> [array],
    }
}

/// `TEST_STATEID4res`.
pub type TestStateidRes = NfsRes4<TestStateidResOk>;

// ---------------------------------------------------------------- DESTROY_CLIENTID (57), RECLAIM_COMPLETE (58)

xdr_struct! {
    /// ```text
    /// struct DESTROY_CLIENTID4args {
    ///         clientid4       dca_clientid;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct DestroyClientidArgs {
        /// The client id.
        pub dca_clientid: Clientid4,
    }
}

/// `struct DESTROY_CLIENTID4res { nfsstat4 dcr_status; };`
pub type DestroyClientidRes = Nfsstat4;

xdr_struct! {
    /// ```text
    /// struct RECLAIM_COMPLETE4args {
    ///         /*
    ///          * If rca_one_fs TRUE,
    ///          *
    ///          *    CURRENT_FH: object in
    ///          *    filesystem reclaim is
    ///          *    complete for.
    ///          */
    ///         bool            rca_one_fs;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct ReclaimCompleteArgs {
        /// Only the file system of the current file handle.
        pub rca_one_fs: bool,
    }
}

/// `struct RECLAIM_COMPLETE4res { nfsstat4 rcr_status; };`
pub type ReclaimCompleteRes = Nfsstat4;

// ---------------------------------------------------------------- xattrs (RFC 8276): GETXATTR (72) .. REMOVEXATTR (75)

/// SETXATTR4_EITHER: create or replace.
pub const SETXATTR4_EITHER: u32 = 0;
/// SETXATTR4_CREATE: the attribute must not exist.
pub const SETXATTR4_CREATE: u32 = 1;
/// SETXATTR4_REPLACE: the attribute must exist.
pub const SETXATTR4_REPLACE: u32 = 2;
/// Decode bound of an xattr value (Linux's XATTR_SIZE_MAX).
pub const XATTR_VALUE_DECODE_MAX_BYTES: u32 = 64 * 1024;

xdr_struct! {
    /// ```text
    /// struct GETXATTR4args { xattrkey4 gxa_name; };
    /// ```
    pub struct GetxattrArgs {
        /// The attribute's name (`component4`).
        pub gxa_name: Vec<u8> [component4],
    }
}

xdr_struct! {
    /// ```text
    /// union GETXATTR4res switch (nfsstat4 gxr_status) {
    ///  case NFS4_OK: xattrvalue4 gxr_value;
    /// };
    /// ```
    pub struct GetxattrResOk {
        /// The value.
        pub gxr_value: Vec<u8> [data4],
    }
}
/// GETXATTR4res.
pub type GetxattrRes = NfsRes4<GetxattrResOk>;

xdr_struct! {
    /// ```text
    /// struct SETXATTR4args {
    ///         setxattr_option4 sxa_option;
    ///         xattrkey4        sxa_key;
    ///         xattrvalue4      sxa_value;
    /// };
    /// ```
    pub struct SetxattrArgs {
        /// SETXATTR4_EITHER, _CREATE or _REPLACE (checked by the server).
        pub sxa_option: u32,
        /// The name.
        pub sxa_key: Vec<u8> [component4],
        /// The value.
        pub sxa_value: Vec<u8> [data4],
    }
}

xdr_struct! {
    /// `SETXATTR4resok` and `REMOVEXATTR4resok`: the change info of the file.
    #[derive(Copy)]
    pub struct XattrChangeResOk {
        /// Change attribute of the file before and after.
        pub info: ChangeInfo4,
    }
}
/// SETXATTR4res.
pub type SetxattrRes = NfsRes4<XattrChangeResOk>;
/// REMOVEXATTR4res.
pub type RemovexattrRes = NfsRes4<XattrChangeResOk>;

xdr_struct! {
    /// ```text
    /// struct LISTXATTRS4args { nfs_cookie4 lxa_cookie; count4 lxa_maxcount; };
    /// ```
    #[derive(Copy)]
    pub struct ListxattrsArgs {
        /// Where to resume (0: from the start).
        pub lxa_cookie: u64,
        /// Largest reply body.
        pub lxa_maxcount: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct LISTXATTRS4resok {
    ///         nfs_cookie4 lxr_cookie;
    ///         xattrkey4   lxr_names<>;
    ///         bool        lxr_eof;
    /// };
    /// ```
    pub struct ListxattrsResOk {
        /// Cookie to resume after the names returned.
        pub lxr_cookie: u64,
        /// Names.
        pub lxr_names: Vec<Vec<u8>> [name_list],
        /// No more names.
        pub lxr_eof: bool,
    }
}
/// LISTXATTRS4res.
pub type ListxattrsRes = NfsRes4<ListxattrsResOk>;

xdr_struct! {
    /// ```text
    /// struct REMOVEXATTR4args { xattrkey4 rxa_name; };
    /// ```
    pub struct RemovexattrArgs {
        /// The name.
        pub rxa_name: Vec<u8> [component4],
    }
}

/// A list of `component4` names (bounded).
#[allow(non_snake_case)]
pub mod name_list {
    use crate::xdr::{Decoder, Encoder, XdrError};
    /// Decode.
    pub fn decode(d: &mut Decoder<'_>) -> Result<Vec<Vec<u8>>, XdrError> {
        let n = d.array_len(super::super::ARRAY_DECODE_MAX * 64)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(d.opaque(super::super::NAME_DECODE_MAX_BYTES)?.to_vec());
        }
        Ok(out)
    }
    /// Encode.
    pub fn encode(e: &mut Encoder, v: &[Vec<u8>]) {
        e.put_array_len(v.len());
        for x in v {
            e.put_opaque(x);
        }
    }
}
