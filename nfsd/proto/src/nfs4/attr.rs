//! NFSv4 attributes (RFC 8881 §5, RFC 7530 §5, RFC 7862 §12): the
//! `FATTR4_*` numbers, and [`Fattr`], the typed values of the attributes the
//! server may support, with the `fattr4` codec.
//!
//! A `fattr4` is a `bitmap4` and the XDR values of the attributes it names
//! packed in ascending attribute-number order (RFC 8881 §3.3). A value
//! can only be skipped by decoding it, so [`Fattr::decode_fattr4`] stops at
//! the first attribute it does not know ([`AttrError::Unsupported`]).
//!
//! What this module does not decide: which attributes the server supports
//! (it must check a SETATTR/VERIFY/OPEN mask against its own
//! `supported_attrs` first — [`Fattr`] knows more than any one server
//! supports), what an owner string means (`owner` and `owner_group` are
//! bytes; the server maps them to ids and answers `NFS4ERR_BADOWNER`), and
//! whether a time's `nseconds` is valid.

use super::types::{
    array, opaque_list, pathname4, utf8str, Bitmap4, Fattr4, Fsid4, NfsFh4, NfsFtype4, Nfsace4,
    Nfsstat4, Nfstime4, Settime4, Specdata4,
};
use crate::xdr::{xdr_struct, Decoder, Encoder, XdrDecode, XdrEncode, XdrError};
use thiserror::Error;

macro_rules! attr_numbers {
    ($( $name:ident = $n:literal, $rfc:literal; )*) => {
        $(
            #[doc = concat!("`const ", stringify!($name), " = ", stringify!($n), ";` (`", $rfc, "`)")]
            pub const $name: u32 = $n;
        )*
        /// Every attribute number defined by RFC 8881, RFC 7862, RFC 8275
        /// (`mode_umask`) and RFC 8276 (`xattr_support`), ascending, with its
        /// RFC name.
        pub const ATTR_NAMES: &[(u32, &str)] = &[$(($n, $rfc)),*];
    };
}

attr_numbers! {
    FATTR4_SUPPORTED_ATTRS = 0, "supported_attrs";
    FATTR4_TYPE = 1, "type";
    FATTR4_FH_EXPIRE_TYPE = 2, "fh_expire_type";
    FATTR4_CHANGE = 3, "change";
    FATTR4_SIZE = 4, "size";
    FATTR4_LINK_SUPPORT = 5, "link_support";
    FATTR4_SYMLINK_SUPPORT = 6, "symlink_support";
    FATTR4_NAMED_ATTR = 7, "named_attr";
    FATTR4_FSID = 8, "fsid";
    FATTR4_UNIQUE_HANDLES = 9, "unique_handles";
    FATTR4_LEASE_TIME = 10, "lease_time";
    FATTR4_RDATTR_ERROR = 11, "rdattr_error";
    FATTR4_ACL = 12, "acl";
    FATTR4_ACLSUPPORT = 13, "aclsupport";
    FATTR4_ARCHIVE = 14, "archive";
    FATTR4_CANSETTIME = 15, "cansettime";
    FATTR4_CASE_INSENSITIVE = 16, "case_insensitive";
    FATTR4_CASE_PRESERVING = 17, "case_preserving";
    FATTR4_CHOWN_RESTRICTED = 18, "chown_restricted";
    FATTR4_FILEHANDLE = 19, "filehandle";
    FATTR4_FILEID = 20, "fileid";
    FATTR4_FILES_AVAIL = 21, "files_avail";
    FATTR4_FILES_FREE = 22, "files_free";
    FATTR4_FILES_TOTAL = 23, "files_total";
    FATTR4_FS_LOCATIONS = 24, "fs_locations";
    FATTR4_HIDDEN = 25, "hidden";
    FATTR4_HOMOGENEOUS = 26, "homogeneous";
    FATTR4_MAXFILESIZE = 27, "maxfilesize";
    FATTR4_MAXLINK = 28, "maxlink";
    FATTR4_MAXNAME = 29, "maxname";
    FATTR4_MAXREAD = 30, "maxread";
    FATTR4_MAXWRITE = 31, "maxwrite";
    FATTR4_MIMETYPE = 32, "mimetype";
    FATTR4_MODE = 33, "mode";
    FATTR4_NO_TRUNC = 34, "no_trunc";
    FATTR4_NUMLINKS = 35, "numlinks";
    FATTR4_OWNER = 36, "owner";
    FATTR4_OWNER_GROUP = 37, "owner_group";
    FATTR4_QUOTA_AVAIL_HARD = 38, "quota_avail_hard";
    FATTR4_QUOTA_AVAIL_SOFT = 39, "quota_avail_soft";
    FATTR4_QUOTA_USED = 40, "quota_used";
    FATTR4_RAWDEV = 41, "rawdev";
    FATTR4_SPACE_AVAIL = 42, "space_avail";
    FATTR4_SPACE_FREE = 43, "space_free";
    FATTR4_SPACE_TOTAL = 44, "space_total";
    FATTR4_SPACE_USED = 45, "space_used";
    FATTR4_SYSTEM = 46, "system";
    FATTR4_TIME_ACCESS = 47, "time_access";
    FATTR4_TIME_ACCESS_SET = 48, "time_access_set";
    FATTR4_TIME_BACKUP = 49, "time_backup";
    FATTR4_TIME_CREATE = 50, "time_create";
    FATTR4_TIME_DELTA = 51, "time_delta";
    FATTR4_TIME_METADATA = 52, "time_metadata";
    FATTR4_TIME_MODIFY = 53, "time_modify";
    FATTR4_TIME_MODIFY_SET = 54, "time_modify_set";
    FATTR4_MOUNTED_ON_FILEID = 55, "mounted_on_fileid";
    FATTR4_DIR_NOTIF_DELAY = 56, "dir_notif_delay";
    FATTR4_DIRENT_NOTIF_DELAY = 57, "dirent_notif_delay";
    FATTR4_DACL = 58, "dacl";
    FATTR4_SACL = 59, "sacl";
    FATTR4_CHANGE_POLICY = 60, "change_policy";
    FATTR4_FS_STATUS = 61, "fs_status";
    FATTR4_FS_LAYOUT_TYPES = 62, "fs_layout_types";
    FATTR4_LAYOUT_HINT = 63, "layout_hint";
    FATTR4_LAYOUT_TYPES = 64, "layout_types";
    FATTR4_LAYOUT_BLKSIZE = 65, "layout_blksize";
    FATTR4_LAYOUT_ALIGNMENT = 66, "layout_alignment";
    FATTR4_FS_LOCATIONS_INFO = 67, "fs_locations_info";
    FATTR4_MDSTHRESHOLD = 68, "mdsthreshold";
    FATTR4_RETENTION_GET = 69, "retention_get";
    FATTR4_RETENTION_SET = 70, "retention_set";
    FATTR4_RETENTEVT_GET = 71, "retentevt_get";
    FATTR4_RETENTEVT_SET = 72, "retentevt_set";
    FATTR4_RETENTION_HOLD = 73, "retention_hold";
    FATTR4_MODE_SET_MASKED = 74, "mode_set_masked";
    FATTR4_SUPPATTR_EXCLCREAT = 75, "suppattr_exclcreat";
    FATTR4_FS_CHARSET_CAP = 76, "fs_charset_cap";
    FATTR4_CLONE_BLKSIZE = 77, "clone_blksize";
    FATTR4_SPACE_FREED = 78, "space_freed";
    FATTR4_CHANGE_ATTR_TYPE = 79, "change_attr_type";
    FATTR4_SEC_LABEL = 80, "sec_label";
    FATTR4_MODE_UMASK = 81, "mode_umask";
    FATTR4_XATTR_SUPPORT = 82, "xattr_support";
}

/// The REQUIRED attributes (RFC 8881 §5.6): 0–11, `filehandle` (19) and,
/// in 4.1, `suppattr_exclcreat` (75).
pub const REQUIRED_ATTRS: &[u32] = &[
    FATTR4_SUPPORTED_ATTRS,
    FATTR4_TYPE,
    FATTR4_FH_EXPIRE_TYPE,
    FATTR4_CHANGE,
    FATTR4_SIZE,
    FATTR4_LINK_SUPPORT,
    FATTR4_SYMLINK_SUPPORT,
    FATTR4_NAMED_ATTR,
    FATTR4_FSID,
    FATTR4_UNIQUE_HANDLES,
    FATTR4_LEASE_TIME,
    FATTR4_RDATTR_ERROR,
    FATTR4_FILEHANDLE,
    FATTR4_SUPPATTR_EXCLCREAT,
];

/// The attributes a client may set (the "W" and "R W" rows of RFC 8881
/// §5.6 and §5.7, `sec_label` of RFC 7862, `mode_umask` of RFC 8275).
/// Every other defined attribute is read-only: SETATTR naming one is
/// `NFS4ERR_INVAL` (RFC 8881 §18.30.3).
pub const WRITABLE_ATTRS: &[u32] = &[
    FATTR4_SIZE,
    FATTR4_ACL,
    FATTR4_ARCHIVE,
    FATTR4_HIDDEN,
    FATTR4_MIMETYPE,
    FATTR4_MODE,
    FATTR4_OWNER,
    FATTR4_OWNER_GROUP,
    FATTR4_SYSTEM,
    FATTR4_TIME_ACCESS_SET,
    FATTR4_TIME_BACKUP,
    FATTR4_TIME_CREATE,
    FATTR4_TIME_MODIFY_SET,
    FATTR4_DACL,
    FATTR4_SACL,
    FATTR4_LAYOUT_HINT,
    FATTR4_RETENTION_SET,
    FATTR4_RETENTEVT_SET,
    FATTR4_RETENTION_HOLD,
    FATTR4_MODE_SET_MASKED,
    FATTR4_SEC_LABEL,
    FATTR4_MODE_UMASK,
];

/// The attributes only a client may send, never the server return
/// (`time_access_set`, `time_modify_set`, `mode_set_masked`, `retention_set`,
/// `retentevt_set`, `layout_hint`, `mode_umask`): GETATTR and VERIFY naming
/// one are `NFS4ERR_INVAL`.
pub const WRITE_ONLY_ATTRS: &[u32] = &[
    FATTR4_TIME_ACCESS_SET,
    FATTR4_TIME_MODIFY_SET,
    FATTR4_LAYOUT_HINT,
    FATTR4_RETENTION_SET,
    FATTR4_RETENTEVT_SET,
    FATTR4_MODE_SET_MASKED,
    FATTR4_MODE_UMASK,
];

/// The RFC name of attribute `n`, if defined.
pub fn attr_name(n: u32) -> Option<&'static str> {
    ATTR_NAMES.iter().find(|(k, _)| *k == n).map(|(_, s)| *s)
}

/// True for a defined attribute a client may not set.
pub fn is_read_only(n: u32) -> bool {
    attr_name(n).is_some() && !WRITABLE_ATTRS.contains(&n)
}

/// The lowest read-only attribute named in `mask`, if any (SETATTR →
/// `NFS4ERR_INVAL`). Undefined attribute numbers are not read-only: they are
/// unsupported (`NFS4ERR_ATTRNOTSUPP`).
pub fn first_read_only(mask: &Bitmap4) -> Option<u32> {
    mask.iter().find(|&n| is_read_only(n))
}

/// The lowest write-only attribute named in `mask`, if any (GETATTR,
/// VERIFY, NVERIFY → `NFS4ERR_INVAL`).
pub fn first_write_only(mask: &Bitmap4) -> Option<u32> {
    mask.iter().find(|n| WRITE_ONLY_ATTRS.contains(n))
}

// ------------------------------------------------------------ attribute value constants

/// `ACL4_SUPPORT_ALLOW_ACL` (`aclsupport`).
pub const ACL4_SUPPORT_ALLOW_ACL: u32 = 0x0000_0001;
/// `ACL4_SUPPORT_DENY_ACL`.
pub const ACL4_SUPPORT_DENY_ACL: u32 = 0x0000_0002;
/// `ACL4_SUPPORT_AUDIT_ACL`.
pub const ACL4_SUPPORT_AUDIT_ACL: u32 = 0x0000_0004;
/// `ACL4_SUPPORT_ALARM_ACL`.
pub const ACL4_SUPPORT_ALARM_ACL: u32 = 0x0000_0008;

/// `ACE4_ACCESS_ALLOWED_ACE_TYPE`.
pub const ACE4_ACCESS_ALLOWED_ACE_TYPE: u32 = 0x0000_0000;
/// `ACE4_ACCESS_DENIED_ACE_TYPE`.
pub const ACE4_ACCESS_DENIED_ACE_TYPE: u32 = 0x0000_0001;
/// `ACE4_SYSTEM_AUDIT_ACE_TYPE`.
pub const ACE4_SYSTEM_AUDIT_ACE_TYPE: u32 = 0x0000_0002;
/// `ACE4_SYSTEM_ALARM_ACE_TYPE`.
pub const ACE4_SYSTEM_ALARM_ACE_TYPE: u32 = 0x0000_0003;

/// `ACE4_FILE_INHERIT_ACE`.
pub const ACE4_FILE_INHERIT_ACE: u32 = 0x0000_0001;
/// `ACE4_DIRECTORY_INHERIT_ACE`.
pub const ACE4_DIRECTORY_INHERIT_ACE: u32 = 0x0000_0002;
/// `ACE4_NO_PROPAGATE_INHERIT_ACE`.
pub const ACE4_NO_PROPAGATE_INHERIT_ACE: u32 = 0x0000_0004;
/// `ACE4_INHERIT_ONLY_ACE`.
pub const ACE4_INHERIT_ONLY_ACE: u32 = 0x0000_0008;
/// `ACE4_SUCCESSFUL_ACCESS_ACE_FLAG`.
pub const ACE4_SUCCESSFUL_ACCESS_ACE_FLAG: u32 = 0x0000_0010;
/// `ACE4_FAILED_ACCESS_ACE_FLAG`.
pub const ACE4_FAILED_ACCESS_ACE_FLAG: u32 = 0x0000_0020;
/// `ACE4_IDENTIFIER_GROUP`: `who` is a group.
pub const ACE4_IDENTIFIER_GROUP: u32 = 0x0000_0040;
/// `ACE4_INHERITED_ACE`.
pub const ACE4_INHERITED_ACE: u32 = 0x0000_0080;

/// `ACE4_READ_DATA` (= `ACE4_LIST_DIRECTORY`).
pub const ACE4_READ_DATA: u32 = 0x0000_0001;
/// `ACE4_LIST_DIRECTORY`.
pub const ACE4_LIST_DIRECTORY: u32 = 0x0000_0001;
/// `ACE4_WRITE_DATA` (= `ACE4_ADD_FILE`).
pub const ACE4_WRITE_DATA: u32 = 0x0000_0002;
/// `ACE4_ADD_FILE`.
pub const ACE4_ADD_FILE: u32 = 0x0000_0002;
/// `ACE4_APPEND_DATA` (= `ACE4_ADD_SUBDIRECTORY`).
pub const ACE4_APPEND_DATA: u32 = 0x0000_0004;
/// `ACE4_ADD_SUBDIRECTORY`.
pub const ACE4_ADD_SUBDIRECTORY: u32 = 0x0000_0004;
/// `ACE4_READ_NAMED_ATTRS`.
pub const ACE4_READ_NAMED_ATTRS: u32 = 0x0000_0008;
/// `ACE4_WRITE_NAMED_ATTRS`.
pub const ACE4_WRITE_NAMED_ATTRS: u32 = 0x0000_0010;
/// `ACE4_EXECUTE`.
pub const ACE4_EXECUTE: u32 = 0x0000_0020;
/// `ACE4_DELETE_CHILD`.
pub const ACE4_DELETE_CHILD: u32 = 0x0000_0040;
/// `ACE4_READ_ATTRIBUTES`.
pub const ACE4_READ_ATTRIBUTES: u32 = 0x0000_0080;
/// `ACE4_WRITE_ATTRIBUTES`.
pub const ACE4_WRITE_ATTRIBUTES: u32 = 0x0000_0100;
/// `ACE4_WRITE_RETENTION`.
pub const ACE4_WRITE_RETENTION: u32 = 0x0000_0200;
/// `ACE4_WRITE_RETENTION_HOLD`.
pub const ACE4_WRITE_RETENTION_HOLD: u32 = 0x0000_0400;
/// `ACE4_DELETE`.
pub const ACE4_DELETE: u32 = 0x0001_0000;
/// `ACE4_READ_ACL`.
pub const ACE4_READ_ACL: u32 = 0x0002_0000;
/// `ACE4_WRITE_ACL`.
pub const ACE4_WRITE_ACL: u32 = 0x0004_0000;
/// `ACE4_WRITE_OWNER`.
pub const ACE4_WRITE_OWNER: u32 = 0x0008_0000;
/// `ACE4_SYNCHRONIZE`.
pub const ACE4_SYNCHRONIZE: u32 = 0x0010_0000;
/// `ACE4_GENERIC_READ`.
pub const ACE4_GENERIC_READ: u32 = 0x0012_0081;
/// `ACE4_GENERIC_WRITE`.
pub const ACE4_GENERIC_WRITE: u32 = 0x0016_0106;
/// `ACE4_GENERIC_EXECUTE`.
pub const ACE4_GENERIC_EXECUTE: u32 = 0x0012_00A0;

/// `MODE4_SUID`: set user id on execution.
pub const MODE4_SUID: u32 = 0x800;
/// `MODE4_SGID`: set group id on execution.
pub const MODE4_SGID: u32 = 0x400;
/// `MODE4_SVTX`: sticky.
pub const MODE4_SVTX: u32 = 0x200;
/// `MODE4_RUSR`.
pub const MODE4_RUSR: u32 = 0x100;
/// `MODE4_WUSR`.
pub const MODE4_WUSR: u32 = 0x080;
/// `MODE4_XUSR`.
pub const MODE4_XUSR: u32 = 0x040;
/// `MODE4_RGRP`.
pub const MODE4_RGRP: u32 = 0x020;
/// `MODE4_WGRP`.
pub const MODE4_WGRP: u32 = 0x010;
/// `MODE4_XGRP`.
pub const MODE4_XGRP: u32 = 0x008;
/// `MODE4_ROTH`.
pub const MODE4_ROTH: u32 = 0x004;
/// `MODE4_WOTH`.
pub const MODE4_WOTH: u32 = 0x002;
/// `MODE4_XOTH`.
pub const MODE4_XOTH: u32 = 0x001;
/// All twelve mode bits; the server rejects others (`NFS4ERR_INVAL`).
pub const MODE4_ALL: u32 = 0xFFF;

/// `FSCHARSET_CAP4_CONTAINS_NON_UTF8` (`fs_charset_cap`).
pub const FSCHARSET_CAP4_CONTAINS_NON_UTF8: u32 = 0x1;
/// `FSCHARSET_CAP4_ALLOWS_ONLY_UTF8`.
pub const FSCHARSET_CAP4_ALLOWS_ONLY_UTF8: u32 = 0x2;

// ------------------------------------------------------------ attribute value types

xdr_struct! {
    /// ```text
    /// struct fs_location4 {
    ///         utf8str_cis     server<>;
    ///         pathname4       rootpath;
    /// };
    /// ```
    pub struct FsLocation4 {
        /// Server names or addresses.
        pub server: Vec<Vec<u8>> [opaque_list],
        /// Path of the file system on those servers.
        pub rootpath: Vec<Vec<u8>> [pathname4],
    }
}

xdr_struct! {
    /// ```text
    /// typedef component4      pathname4<>;
    ///
    /// struct fs_locations4 {
    ///         pathname4       fs_root;
    ///         fs_location4    locations<>;
    /// };
    /// ```
    pub struct FsLocations4 {
        /// Path of this file system on this server.
        pub fs_root: Vec<Vec<u8>> [pathname4],
        /// Where else it is.
        pub locations: Vec<FsLocation4> [array],
    }
}

xdr_struct! {
    /// ```text
    /// struct mode_masked4 {
    ///  mode4  mm_value_to_set; /* Values of bits
    ///                             to set or reset
    ///                             in mode. */
    ///  mode4  mm_mask_bits;    /* Mask of bits to
    ///                             set or reset
    ///                             in mode. */
    /// };
    /// ```
    #[derive(Copy, Default)]
    pub struct ModeMasked4 {
        /// New values of the masked bits.
        pub mm_value_to_set: u32,
        /// Which bits to change.
        pub mm_mask_bits: u32,
    }
}

// ------------------------------------------------------------ Fattr

/// Why a `fattr4` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AttrError {
    /// The mask names an attribute [`Fattr`] does not know: its value (and
    /// every later one) cannot be located → `NFS4ERR_ATTRNOTSUPP`.
    #[error("attribute {0} not supported")]
    Unsupported(u32),
    /// The value of attribute `attr` is not valid XDR → `NFS4ERR_BADXDR`.
    #[error("attribute {attr}: {err}")]
    BadXdr {
        /// The attribute whose value failed.
        attr: u32,
        /// What was wrong.
        err: XdrError,
    },
    /// Bytes left after the last value → `NFS4ERR_BADXDR`.
    #[error("{0} bytes after the attribute values")]
    TrailingBytes(usize),
}

impl AttrError {
    /// The status to answer (RFC 8881 §15.1).
    pub fn status(&self) -> Nfsstat4 {
        match self {
            AttrError::Unsupported(_) => Nfsstat4::Attrnotsupp,
            AttrError::BadXdr { .. } | AttrError::TrailingBytes(_) => Nfsstat4::Badxdr,
        }
    }
}

macro_rules! fattr {
    ( $( $(#[$m:meta])* $num:ident => $f:ident : $t:ty $([$codec:ident])? ),* $(,)? ) => {
        /// Typed values of the attributes Cairn may support, one `Option`
        /// per attribute (`None`: absent). Field names are the RFC's, but
        /// `type` is `ftype`.
        ///
        /// Building a reply: fill what the object has and call
        /// [`Fattr::encode_fattr4`] with the client's request; reading a
        /// request: [`Fattr::decode_fattr4`].
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct Fattr {
            $( $(#[$m])* pub $f: Option<$t>, )*
        }

        impl Fattr {
            /// The attribute numbers [`Fattr`] has a field for, ascending.
            pub const KNOWN_ATTRS: &'static [u32] = &[$($num),*];

            /// The attributes that are `Some`.
            pub fn mask(&self) -> Bitmap4 {
                let mut b = Bitmap4::new();
                $( if self.$f.is_some() { b.set($num); } )*
                b
            }

            /// Append attribute `n`'s value if it is known and `Some`.
            fn encode_one(&self, n: u32, e: &mut Encoder) -> bool {
                match n {
                    $( $num => match &self.$f {
                        Some(v) => {
                            fattr!(@enc e, v $(, $codec)?);
                            true
                        }
                        None => false,
                    }, )*
                    _ => false,
                }
            }

            /// Decode attribute `n`'s value into its field; `Ok(false)` if
            /// `n` is not known.
            fn decode_one(&mut self, n: u32, d: &mut Decoder<'_>) -> Result<bool, XdrError> {
                match n {
                    $( $num => self.$f = Some(fattr!(@dec d, $t $(, $codec)?)), )*
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }
    };
    (@enc $e:ident, $v:ident) => { XdrEncode::encode($v, $e) };
    (@enc $e:ident, $v:ident, $codec:ident) => { $codec::encode($e, $v) };
    (@dec $d:ident, $t:ty) => { <$t as XdrDecode>::decode($d)? };
    (@dec $d:ident, $t:ty, $codec:ident) => { $codec::decode($d)? };
}

fattr! {
    /// `supported_attrs` (0): `bitmap4`.
    FATTR4_SUPPORTED_ATTRS => supported_attrs: Bitmap4,
    /// `type` (1): `nfs_ftype4`.
    FATTR4_TYPE => ftype: NfsFtype4,
    /// `fh_expire_type` (2): `FH4_*` bits.
    FATTR4_FH_EXPIRE_TYPE => fh_expire_type: u32,
    /// `change` (3): `changeid4`.
    FATTR4_CHANGE => change: u64,
    /// `size` (4).
    FATTR4_SIZE => size: u64,
    /// `link_support` (5).
    FATTR4_LINK_SUPPORT => link_support: bool,
    /// `symlink_support` (6).
    FATTR4_SYMLINK_SUPPORT => symlink_support: bool,
    /// `named_attr` (7).
    FATTR4_NAMED_ATTR => named_attr: bool,
    /// `fsid` (8).
    FATTR4_FSID => fsid: Fsid4,
    /// `unique_handles` (9).
    FATTR4_UNIQUE_HANDLES => unique_handles: bool,
    /// `lease_time` (10): seconds.
    FATTR4_LEASE_TIME => lease_time: u32,
    /// `rdattr_error` (11): READDIR's per-entry status.
    FATTR4_RDATTR_ERROR => rdattr_error: Nfsstat4,
    /// `acl` (12): `nfsace4 fattr4_acl<>` (≤ [`ARRAY_DECODE_MAX`](crate::nfs4::ARRAY_DECODE_MAX) ACEs).
    FATTR4_ACL => acl: Vec<Nfsace4> [array],
    /// `aclsupport` (13): `ACL4_SUPPORT_*` bits.
    FATTR4_ACLSUPPORT => aclsupport: u32,
    /// `cansettime` (15).
    FATTR4_CANSETTIME => cansettime: bool,
    /// `case_insensitive` (16).
    FATTR4_CASE_INSENSITIVE => case_insensitive: bool,
    /// `case_preserving` (17).
    FATTR4_CASE_PRESERVING => case_preserving: bool,
    /// `chown_restricted` (18).
    FATTR4_CHOWN_RESTRICTED => chown_restricted: bool,
    /// `filehandle` (19).
    FATTR4_FILEHANDLE => filehandle: NfsFh4,
    /// `fileid` (20).
    FATTR4_FILEID => fileid: u64,
    /// `files_avail` (21).
    FATTR4_FILES_AVAIL => files_avail: u64,
    /// `files_free` (22).
    FATTR4_FILES_FREE => files_free: u64,
    /// `files_total` (23).
    FATTR4_FILES_TOTAL => files_total: u64,
    /// `fs_locations` (24).
    FATTR4_FS_LOCATIONS => fs_locations: FsLocations4,
    /// `homogeneous` (26).
    FATTR4_HOMOGENEOUS => homogeneous: bool,
    /// `maxfilesize` (27).
    FATTR4_MAXFILESIZE => maxfilesize: u64,
    /// `maxlink` (28).
    FATTR4_MAXLINK => maxlink: u32,
    /// `maxname` (29).
    FATTR4_MAXNAME => maxname: u32,
    /// `maxread` (30).
    FATTR4_MAXREAD => maxread: u64,
    /// `maxwrite` (31).
    FATTR4_MAXWRITE => maxwrite: u64,
    /// `mode` (33): `MODE4_*` bits.
    FATTR4_MODE => mode: u32,
    /// `no_trunc` (34).
    FATTR4_NO_TRUNC => no_trunc: bool,
    /// `numlinks` (35).
    FATTR4_NUMLINKS => numlinks: u32,
    /// `owner` (36): `utf8str_mixed`, not interpreted here.
    FATTR4_OWNER => owner: Vec<u8> [utf8str],
    /// `owner_group` (37): `utf8str_mixed`, not interpreted here.
    FATTR4_OWNER_GROUP => owner_group: Vec<u8> [utf8str],
    /// `rawdev` (41).
    FATTR4_RAWDEV => rawdev: Specdata4,
    /// `space_avail` (42).
    FATTR4_SPACE_AVAIL => space_avail: u64,
    /// `space_free` (43).
    FATTR4_SPACE_FREE => space_free: u64,
    /// `space_total` (44).
    FATTR4_SPACE_TOTAL => space_total: u64,
    /// `space_used` (45).
    FATTR4_SPACE_USED => space_used: u64,
    /// `time_access` (47).
    FATTR4_TIME_ACCESS => time_access: Nfstime4,
    /// `time_access_set` (48, write-only): `settime4`.
    FATTR4_TIME_ACCESS_SET => time_access_set: Settime4,
    /// `time_create` (50).
    FATTR4_TIME_CREATE => time_create: Nfstime4,
    /// `time_delta` (51).
    FATTR4_TIME_DELTA => time_delta: Nfstime4,
    /// `time_metadata` (52).
    FATTR4_TIME_METADATA => time_metadata: Nfstime4,
    /// `time_modify` (53).
    FATTR4_TIME_MODIFY => time_modify: Nfstime4,
    /// `time_modify_set` (54, write-only): `settime4`.
    FATTR4_TIME_MODIFY_SET => time_modify_set: Settime4,
    /// `mounted_on_fileid` (55).
    FATTR4_MOUNTED_ON_FILEID => mounted_on_fileid: u64,
    /// `fs_layout_types` (62): `layouttype4<>` as raw numbers (Cairn: empty).
    FATTR4_FS_LAYOUT_TYPES => fs_layout_types: Vec<u32> [array],
    /// `mode_set_masked` (74, write-only).
    FATTR4_MODE_SET_MASKED => mode_set_masked: ModeMasked4,
    /// `suppattr_exclcreat` (75): attributes settable by an
    /// `EXCLUSIVE4_1` create.
    FATTR4_SUPPATTR_EXCLCREAT => suppattr_exclcreat: Bitmap4,
    /// `fs_charset_cap` (76): `FSCHARSET_CAP4_*` bits.
    FATTR4_FS_CHARSET_CAP => fs_charset_cap: u32,
    /// `xattr_support` (82, RFC 8276 §8.1): the object supports xattrs.
    FATTR4_XATTR_SUPPORT => xattr_support: bool,
}

impl Fattr {
    /// The `fattr4` answering `requested`: the values of the requested
    /// attributes that are `Some`, in ascending attribute-number order, and
    /// a mask of exactly those (RFC 8881 §18.7.3: unsupported attributes are
    /// left out, not an error). Requested bits this type does not know are
    /// ignored.
    pub fn encode_fattr4(&self, requested: &Bitmap4) -> Fattr4 {
        let mut e = Encoder::new();
        let mut attrmask = Bitmap4::new();
        for n in requested.iter() {
            if self.encode_one(n, &mut e) {
                attrmask.set(n);
            }
        }
        Fattr4 { attrmask, attr_vals: e.into_inner() }
    }

    /// The `fattr4` of every attribute that is `Some` (for clients: SETATTR,
    /// CREATE and OPEN attributes).
    pub fn to_fattr4(&self) -> Fattr4 {
        self.encode_fattr4(&self.mask())
    }

    /// Read a `fattr4`: each attribute of the mask, in ascending order, must
    /// be known ([`AttrError::Unsupported`]) and valid
    /// ([`AttrError::BadXdr`]), and the values must fill `attr_vals`
    /// exactly ([`AttrError::TrailingBytes`]).
    pub fn decode_fattr4(f: &Fattr4) -> Result<Fattr, AttrError> {
        let mut d = Decoder::new(&f.attr_vals);
        let mut out = Fattr::default();
        for n in f.attrmask.iter() {
            match out.decode_one(n, &mut d) {
                Ok(true) => {}
                Ok(false) => return Err(AttrError::Unsupported(n)),
                Err(err) => return Err(AttrError::BadXdr { attr: n, err }),
            }
        }
        match d.remaining() {
            0 => Ok(out),
            n => Err(AttrError::TrailingBytes(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_packed_in_ascending_order_and_mask_is_what_was_written() {
        // RFC 8881 §3.3: attr_vals in ascending attribute-number order.
        let f = Fattr {
            size: Some(0x0102),
            mode: Some(0o644),
            owner: Some(b"ab".to_vec()),
            ..Fattr::default()
        };
        // Ask for owner, mode, size and fileid (absent): fileid is left out.
        let req = Bitmap4::from_bits(&[FATTR4_OWNER, FATTR4_FILEID, FATTR4_MODE, FATTR4_SIZE]);
        let out = f.encode_fattr4(&req);
        assert_eq!(out.attrmask, Bitmap4::from_bits(&[FATTR4_SIZE, FATTR4_MODE, FATTR4_OWNER]));
        assert_eq!(out.attrmask.0, vec![1 << 4, (1 << 1) | (1 << 4)]);
        #[rustfmt::skip]
        let want: &[u8] = &[
            0, 0, 0, 0, 0, 0, 1, 2,     // size (4)
            0, 0, 0x01, 0xa4,           // mode (33) 0o644
            0, 0, 0, 2, b'a', b'b', 0, 0, // owner (36)
        ];
        assert_eq!(out.attr_vals, want);
        assert_eq!(Fattr::decode_fattr4(&out), Ok(f));
    }

    #[test]
    fn unknown_bad_and_trailing_are_distinguished() {
        let mut f = Fattr { mode: Some(1), ..Fattr::default() }.to_fattr4();
        f.attrmask.set(FATTR4_ARCHIVE);
        // archive (14) comes before mode (33) and is not known.
        assert_eq!(Fattr::decode_fattr4(&f), Err(AttrError::Unsupported(FATTR4_ARCHIVE)));
        assert_eq!(AttrError::Unsupported(14).status(), Nfsstat4::Attrnotsupp);

        let mut f = Fattr { mode: Some(1), ..Fattr::default() }.to_fattr4();
        f.attr_vals.extend_from_slice(&[0; 4]);
        assert_eq!(Fattr::decode_fattr4(&f), Err(AttrError::TrailingBytes(4)));

        let f = Fattr4 {
            attrmask: Bitmap4::from_bits(&[FATTR4_LINK_SUPPORT]),
            attr_vals: vec![0, 0, 0, 2],
        };
        let e = Fattr::decode_fattr4(&f);
        assert_eq!(e, Err(AttrError::BadXdr { attr: 5, err: XdrError::BadBool(2) }));
        assert_eq!(e.map_err(|e| e.status()), Err(Nfsstat4::Badxdr));
    }

    #[test]
    fn categories() {
        for &n in WRITABLE_ATTRS.iter().chain(WRITE_ONLY_ATTRS).chain(REQUIRED_ATTRS) {
            assert!(attr_name(n).is_some(), "{n}");
        }
        for n in Fattr::KNOWN_ATTRS {
            assert!(attr_name(*n).is_some(), "{n}");
        }
        assert!(WRITE_ONLY_ATTRS.iter().all(|n| WRITABLE_ATTRS.contains(n)));
        assert!(is_read_only(FATTR4_TYPE) && !is_read_only(FATTR4_MODE) && !is_read_only(999));
        let mask = Bitmap4::from_bits(&[FATTR4_MODE, FATTR4_FILEID, FATTR4_SIZE]);
        assert_eq!(first_read_only(&mask), Some(FATTR4_FILEID));
        assert_eq!(first_write_only(&mask), None);
        assert_eq!(attr_name(FATTR4_SEC_LABEL), Some("sec_label"));
        assert!(ATTR_NAMES.windows(2).all(|w| w[0].0 + 1 == w[1].0));
    }
}
