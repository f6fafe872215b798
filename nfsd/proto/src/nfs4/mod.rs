//! NFS version 4.0, 4.1 and 4.2 (RFC 7530/7531, RFC 8881/5662, RFC 7862/7863),
//! program 100003 version 4: the COMPOUND procedure, the arguments and
//! results of every operation, and the attribute codec.
//!
//! Layout:
//! - the common types (`nfsstat4`, `bitmap4`, `stateid4`, `fattr4`, the
//!   OPEN/LOCK unions, the session types of 4.1…) and the decode bounds are
//!   defined here and in `types`;
//! - each operation's `XXX4args` and `XXX4res` in `ops`, named after the
//!   operation in nfs3 style: `OPEN4args` is [`OpenArgs`], `OPEN4resok`
//!   [`OpenResOk`], `OPEN4res` [`OpenRes`];
//! - COMPOUND in `compound`: [`CompoundHeader`] and [`ArgOp::decode`] decode
//!   a request one operation at a time, so the server can execute the
//!   operations before a malformed one and answer that one with
//!   `NFS4ERR_BADXDR` ([`OpDecodeError`]); [`ResOp`] and [`CompoundRes`] are
//!   the reply;
//! - attributes in [`attr`]: the `FATTR4_*` numbers and [`attr::Fattr`],
//!   which turns a `fattr4` into typed values and back.
//!
//! Operations the server answers `NFS4ERR_NOTSUPP` without looking at their
//! arguments (OPENATTR, the directory-delegation, pNFS and SSV operations,
//! WANT_DELEGATION and every 4.2 operation) decode as
//! [`ArgOp::NotSupported`] without their body: COMPOUND stops at the first
//! failing operation (RFC 8881 §16.2.3), so the body never
//! matters.
//!
//! Results with a body only on `NFS4_OK` are [`NfsRes4<T>`]; results that
//! are a bare `nfsstat4` are [`Nfsstat4`]; the few unions with a body on an
//! error (LOCK and LOCKT on `NFS4ERR_DENIED`, SETCLIENTID on
//! `NFS4ERR_CLID_INUSE`) and SETATTR (always `attrsset`) have their own types.
//!
//! Decode bounds: where the RFC gives a limit (file handles
//! [`NFS4_FHSIZE`], client and owner ids [`NFS4_OPAQUE_LIMIT`]) it is
//! enforced; elsewhere a looser `*_DECODE_MAX*` bound keeps memory
//! proportional to the input, and limits whose violation has its own status
//! (a name over [`NAME_MAX_BYTES`] → `NFS4ERR_NAMETOOLONG`, a non-UTF-8 name
//! → `NFS4ERR_INVAL`) are left to the server. Strings (`utf8str_*`,
//! `component4`, `linktext4`, the COMPOUND tag) are `Vec<u8>`, never checked
//! for UTF-8 here.

pub mod attr;
mod compound;
mod ops;
mod types;

pub use compound::*;
pub use ops::*;
pub use types::*;

/// `NFS4_PROGRAM`.
pub const PROGRAM: u32 = 100003;
/// `NFS_V4`.
pub const VERSION: u32 = 4;
/// `NFSPROC4_NULL`.
pub const PROC_NULL: u32 = 0;
/// `NFSPROC4_COMPOUND`.
pub const PROC_COMPOUND: u32 = 1;
/// The minor versions Cairn serves (RFC 7530, RFC 8881, RFC 7862).
pub const MINOR_VERSIONS: &[u32] = &[0, 1, 2];
/// The highest minor version served; a COMPOUND with a higher one is
/// answered `NFS4ERR_MINOR_VERS_MISMATCH`.
pub const MINOR_VERSION_MAX: u32 = 2;

/// `const NFS4_FHSIZE = 128;` — maximum bytes in a file handle.
pub const NFS4_FHSIZE: u32 = 128;
/// `const NFS4_VERIFIER_SIZE = 8;`
pub const NFS4_VERIFIER_SIZE: usize = 8;
/// `const NFS4_OTHER_SIZE = 12;` — bytes of `stateid4.other`.
pub const NFS4_OTHER_SIZE: usize = 12;
/// `const NFS4_OPAQUE_LIMIT = 1024;` — bound of client ids, state owners,
/// server owner and scope.
pub const NFS4_OPAQUE_LIMIT: u32 = 1024;
/// `const NFS4_SESSIONID_SIZE = 16;`
pub const NFS4_SESSIONID_SIZE: usize = 16;
/// `const NFS4_UINT64_MAX` — e.g. a lock `length` meaning "to end of file".
pub const NFS4_UINT64_MAX: u64 = u64::MAX;

/// The name length the server should enforce (→ `NFS4ERR_NAMETOOLONG`).
pub const NAME_MAX_BYTES: u32 = 255;
/// Decode bound on `component4` (file names); names between
/// [`NAME_MAX_BYTES`] and this decode, so the server can answer
/// `NFS4ERR_NAMETOOLONG`.
pub const NAME_DECODE_MAX_BYTES: u32 = 1024;
/// Decode bound on `linktext4` (symlink targets).
pub const LINKTEXT_DECODE_MAX_BYTES: u32 = 4096;
/// Decode bound on the COMPOUND `tag` (`utf8str_cs`, unbounded in the RFC).
pub const TAG_DECODE_MAX_BYTES: u32 = 1024;
/// Decode bound on the other small strings and opaques the RFC leaves
/// unbounded: `utf8str_*` (owner, owner_group, ACE `who`, implementation
/// ids), `netaddr4` parts, `sec_oid4`, GSS handles.
pub const OPAQUE_DECODE_MAX_BYTES: u32 = 1024;
/// Decode bound on READ result and WRITE argument data: 16 MiB. The server
/// advertises a smaller `maxread`/`maxwrite` and enforces it itself.
pub const DATA_DECODE_MAX_BYTES: u32 = 16 * 1024 * 1024;
/// Decode bound on `attrlist4` (the packed values of a `fattr4`).
pub const ATTRLIST_DECODE_MAX_BYTES: u32 = 1024 * 1024;
/// Decode bound on the words of a `bitmap4`: 64 words, attributes and
/// operations 0..=2047 (the highest defined is below 96, but a client may
/// ask for unknown attributes, which GETATTR ignores, RFC 7530 §5.4).
pub const BITMAP4_DECODE_MAX_WORDS: u32 = 64;
/// Decode bound on the small arrays the RFC leaves unbounded: TEST_STATEID
/// stateids, SECINFO flavors, callback security parameters, ACEs, pathname
/// components, `fs_locations`, SSV algorithms and handles, layout types.
pub const ARRAY_DECODE_MAX: u32 = 1024;
/// Decode bound on the number of READDIR entries in a reply.
pub const DIR_ENTRIES_DECODE_MAX: u32 = 1 << 20;

/// ACCESS4_READ: read data or read a directory.
pub const ACCESS4_READ: u32 = 0x0000_0001;
/// ACCESS4_LOOKUP: look up a name in a directory.
pub const ACCESS4_LOOKUP: u32 = 0x0000_0002;
/// ACCESS4_MODIFY: rewrite existing file data or modify directory entries.
pub const ACCESS4_MODIFY: u32 = 0x0000_0004;
/// ACCESS4_EXTEND: write new data or add directory entries.
pub const ACCESS4_EXTEND: u32 = 0x0000_0008;
/// ACCESS4_DELETE: delete an existing directory entry.
pub const ACCESS4_DELETE: u32 = 0x0000_0010;
/// ACCESS4_EXECUTE: execute a file (no meaning for a directory).
pub const ACCESS4_EXECUTE: u32 = 0x0000_0020;
/// ACCESS4_XAREAD (RFC 8276 §8.6): read extended attributes.
pub const ACCESS4_XAREAD: u32 = 0x0000_0040;
/// ACCESS4_XAWRITE (RFC 8276 §8.6): set or remove extended attributes.
pub const ACCESS4_XAWRITE: u32 = 0x0000_0080;
/// ACCESS4_XALIST (RFC 8276 §8.6): list extended attributes.
pub const ACCESS4_XALIST: u32 = 0x0000_0100;

/// `OPEN4_SHARE_ACCESS_READ`.
pub const OPEN4_SHARE_ACCESS_READ: u32 = 0x0000_0001;
/// `OPEN4_SHARE_ACCESS_WRITE`.
pub const OPEN4_SHARE_ACCESS_WRITE: u32 = 0x0000_0002;
/// `OPEN4_SHARE_ACCESS_BOTH`.
pub const OPEN4_SHARE_ACCESS_BOTH: u32 = 0x0000_0003;
/// `OPEN4_SHARE_DENY_NONE`.
pub const OPEN4_SHARE_DENY_NONE: u32 = 0x0000_0000;
/// `OPEN4_SHARE_DENY_READ`.
pub const OPEN4_SHARE_DENY_READ: u32 = 0x0000_0001;
/// `OPEN4_SHARE_DENY_WRITE`.
pub const OPEN4_SHARE_DENY_WRITE: u32 = 0x0000_0002;
/// `OPEN4_SHARE_DENY_BOTH`.
pub const OPEN4_SHARE_DENY_BOTH: u32 = 0x0000_0003;
/// `OPEN4_SHARE_ACCESS_WANT_DELEG_MASK` (4.1): the delegation-want bits of
/// `share_access`.
pub const OPEN4_SHARE_ACCESS_WANT_DELEG_MASK: u32 = 0xFF00;
/// `OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE`.
pub const OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE: u32 = 0x0000;
/// `OPEN4_SHARE_ACCESS_WANT_READ_DELEG`.
pub const OPEN4_SHARE_ACCESS_WANT_READ_DELEG: u32 = 0x0100;
/// `OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG`.
pub const OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG: u32 = 0x0200;
/// `OPEN4_SHARE_ACCESS_WANT_ANY_DELEG`.
pub const OPEN4_SHARE_ACCESS_WANT_ANY_DELEG: u32 = 0x0300;
/// `OPEN4_SHARE_ACCESS_WANT_NO_DELEG`.
pub const OPEN4_SHARE_ACCESS_WANT_NO_DELEG: u32 = 0x0400;
/// `OPEN4_SHARE_ACCESS_WANT_CANCEL`.
pub const OPEN4_SHARE_ACCESS_WANT_CANCEL: u32 = 0x0500;
/// `OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL`.
pub const OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL: u32 = 0x1_0000;
/// `OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED`.
pub const OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED: u32 = 0x2_0000;

/// `OPEN4_RESULT_CONFIRM` (4.0): the client must OPEN_CONFIRM.
pub const OPEN4_RESULT_CONFIRM: u32 = 0x0000_0002;
/// `OPEN4_RESULT_LOCKTYPE_POSIX`: POSIX byte-range lock semantics.
pub const OPEN4_RESULT_LOCKTYPE_POSIX: u32 = 0x0000_0004;
/// `OPEN4_RESULT_PRESERVE_UNLINKED` (4.1): the file survives REMOVE while open.
pub const OPEN4_RESULT_PRESERVE_UNLINKED: u32 = 0x0000_0008;
/// `OPEN4_RESULT_MAY_NOTIFY_LOCK` (4.1).
pub const OPEN4_RESULT_MAY_NOTIFY_LOCK: u32 = 0x0000_0020;

/// `FH4_PERSISTENT`: file handles never expire (`fh_expire_type`).
pub const FH4_PERSISTENT: u32 = 0x0000_0000;
/// `FH4_NOEXPIRE_WITH_OPEN`.
pub const FH4_NOEXPIRE_WITH_OPEN: u32 = 0x0000_0001;
/// `FH4_VOLATILE_ANY`.
pub const FH4_VOLATILE_ANY: u32 = 0x0000_0002;
/// `FH4_VOL_MIGRATION`.
pub const FH4_VOL_MIGRATION: u32 = 0x0000_0004;
/// `FH4_VOL_RENAME`.
pub const FH4_VOL_RENAME: u32 = 0x0000_0008;

/// `EXCHGID4_FLAG_SUPP_MOVED_REFER`.
pub const EXCHGID4_FLAG_SUPP_MOVED_REFER: u32 = 0x0000_0001;
/// `EXCHGID4_FLAG_SUPP_MOVED_MIGR`.
pub const EXCHGID4_FLAG_SUPP_MOVED_MIGR: u32 = 0x0000_0002;
/// `EXCHGID4_FLAG_SUPP_FENCE_OPS` (new in RFC 8881).
pub const EXCHGID4_FLAG_SUPP_FENCE_OPS: u32 = 0x0000_0004;
/// `EXCHGID4_FLAG_BIND_PRINC_STATEID`.
pub const EXCHGID4_FLAG_BIND_PRINC_STATEID: u32 = 0x0000_0100;
/// `EXCHGID4_FLAG_USE_NON_PNFS`.
pub const EXCHGID4_FLAG_USE_NON_PNFS: u32 = 0x0001_0000;
/// `EXCHGID4_FLAG_USE_PNFS_MDS`.
pub const EXCHGID4_FLAG_USE_PNFS_MDS: u32 = 0x0002_0000;
/// `EXCHGID4_FLAG_USE_PNFS_DS`.
pub const EXCHGID4_FLAG_USE_PNFS_DS: u32 = 0x0004_0000;
/// `EXCHGID4_FLAG_MASK_PNFS`.
pub const EXCHGID4_FLAG_MASK_PNFS: u32 = 0x0007_0000;
/// `EXCHGID4_FLAG_UPD_CONFIRMED_REC_A`.
pub const EXCHGID4_FLAG_UPD_CONFIRMED_REC_A: u32 = 0x4000_0000;
/// `EXCHGID4_FLAG_CONFIRMED_R`.
pub const EXCHGID4_FLAG_CONFIRMED_R: u32 = 0x8000_0000;

/// `CREATE_SESSION4_FLAG_PERSIST`.
pub const CREATE_SESSION4_FLAG_PERSIST: u32 = 0x0000_0001;
/// `CREATE_SESSION4_FLAG_CONN_BACK_CHAN`.
pub const CREATE_SESSION4_FLAG_CONN_BACK_CHAN: u32 = 0x0000_0002;
/// `CREATE_SESSION4_FLAG_CONN_RDMA`.
pub const CREATE_SESSION4_FLAG_CONN_RDMA: u32 = 0x0000_0004;

/// `SEQ4_STATUS_CB_PATH_DOWN`.
pub const SEQ4_STATUS_CB_PATH_DOWN: u32 = 0x0000_0001;
/// `SEQ4_STATUS_CB_GSS_CONTEXTS_EXPIRING`.
pub const SEQ4_STATUS_CB_GSS_CONTEXTS_EXPIRING: u32 = 0x0000_0002;
/// `SEQ4_STATUS_CB_GSS_CONTEXTS_EXPIRED`.
pub const SEQ4_STATUS_CB_GSS_CONTEXTS_EXPIRED: u32 = 0x0000_0004;
/// `SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED`.
pub const SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED: u32 = 0x0000_0008;
/// `SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED`.
pub const SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED: u32 = 0x0000_0010;
/// `SEQ4_STATUS_ADMIN_STATE_REVOKED`.
pub const SEQ4_STATUS_ADMIN_STATE_REVOKED: u32 = 0x0000_0020;
/// `SEQ4_STATUS_RECALLABLE_STATE_REVOKED`.
pub const SEQ4_STATUS_RECALLABLE_STATE_REVOKED: u32 = 0x0000_0040;
/// `SEQ4_STATUS_LEASE_MOVED`.
pub const SEQ4_STATUS_LEASE_MOVED: u32 = 0x0000_0080;
/// `SEQ4_STATUS_RESTART_RECLAIM_NEEDED`.
pub const SEQ4_STATUS_RESTART_RECLAIM_NEEDED: u32 = 0x0000_0100;
/// `SEQ4_STATUS_CB_PATH_DOWN_SESSION`.
pub const SEQ4_STATUS_CB_PATH_DOWN_SESSION: u32 = 0x0000_0200;
/// `SEQ4_STATUS_BACKCHANNEL_FAULT`.
pub const SEQ4_STATUS_BACKCHANNEL_FAULT: u32 = 0x0000_0400;
/// `SEQ4_STATUS_DEVID_CHANGED`.
pub const SEQ4_STATUS_DEVID_CHANGED: u32 = 0x0000_0800;
/// `SEQ4_STATUS_DEVID_DELETED`.
pub const SEQ4_STATUS_DEVID_DELETED: u32 = 0x0000_1000;
