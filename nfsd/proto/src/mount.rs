//! MOUNT version 3 (RFC 1813 Appendix I), program 100005.
//!
//! ```text
//! program MOUNT_PROGRAM {
//!    version MOUNT_V3 {
//!       void      MOUNTPROC3_NULL(void)    = 0;
//!       mountres3 MOUNTPROC3_MNT(dirpath)  = 1;
//!       mountlist MOUNTPROC3_DUMP(void)    = 2;
//!       void      MOUNTPROC3_UMNT(dirpath) = 3;
//!       void      MOUNTPROC3_UMNTALL(void) = 4;
//!       exports   MOUNTPROC3_EXPORT(void)  = 5;
//!    } = 3;
//! } = 100005;
//! ```

use crate::nfs3::NfsFh3;
use crate::xdr::{
    decode_array, decode_list, encode_array, encode_list, xdr_enum, xdr_struct, Decoder, Encoder,
    XdrDecode, XdrEncode, XdrError,
};

/// `MOUNT_PROGRAM`.
pub const PROGRAM: u32 = 100005;
/// `MOUNT_V3`.
pub const VERSION: u32 = 3;

/// `const MNTPATHLEN = 1024;  /* Maximum bytes in a path name */`
pub const MNTPATHLEN: u32 = 1024;
/// `const MNTNAMLEN  = 255;   /* Maximum bytes in a name */`
pub const MNTNAMLEN: u32 = 255;
/// `const FHSIZE3    = 64;    /* Maximum bytes in a V3 file handle */`
pub const FHSIZE3: u32 = 64;
/// Decode bound on the auth flavors of a MNT reply (the RFC gives none).
pub const AUTH_FLAVORS_MAX: u32 = 64;
/// Decode bound on entries of DUMP / EXPORT lists and on export groups.
pub const LIST_ENTRIES_MAX: u32 = 65536;

xdr_enum! {
    /// MOUNT v3 procedure numbers.
    pub enum MountProc3 as "mountproc3" {
        /// `MOUNTPROC3_NULL`.
        Null = 0,
        /// `MOUNTPROC3_MNT`.
        Mnt = 1,
        /// `MOUNTPROC3_DUMP`.
        Dump = 2,
        /// `MOUNTPROC3_UMNT`.
        Umnt = 3,
        /// `MOUNTPROC3_UMNTALL`.
        Umntall = 4,
        /// `MOUNTPROC3_EXPORT`.
        Export = 5,
    }
}

xdr_enum! {
    /// ```text
    /// enum mountstat3 {
    ///    MNT3_OK = 0,                 /* no error */
    ///    MNT3ERR_PERM = 1,            /* Not owner */
    ///    MNT3ERR_NOENT = 2,           /* No such file or directory */
    ///    MNT3ERR_IO = 5,              /* I/O error */
    ///    MNT3ERR_ACCES = 13,          /* Permission denied */
    ///    MNT3ERR_NOTDIR = 20,         /* Not a directory */
    ///    MNT3ERR_INVAL = 22,          /* Invalid argument */
    ///    MNT3ERR_NAMETOOLONG = 63,    /* Filename too long */
    ///    MNT3ERR_NOTSUPP = 10004,     /* Operation not supported */
    ///    MNT3ERR_SERVERFAULT = 10006  /* A failure on the server */
    /// };
    /// ```
    pub enum MountStat3 as "mountstat3" {
        /// No error.
        Ok = 0,
        /// Not owner.
        Perm = 1,
        /// No such file or directory.
        Noent = 2,
        /// I/O error.
        Io = 5,
        /// Permission denied.
        Acces = 13,
        /// Not a directory.
        Notdir = 20,
        /// Invalid argument.
        Inval = 22,
        /// Filename too long.
        Nametoolong = 63,
        /// Operation not supported.
        Notsupp = 10004,
        /// A failure on the server.
        Serverfault = 10006,
    }
}

/// `typedef string dirpath<MNTPATHLEN>;` — the argument of MNT and UMNT.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirPath(pub Vec<u8>);

impl<'a> XdrDecode<'a> for DirPath {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(DirPath(d.string(MNTPATHLEN)?.to_vec()))
    }
}
impl XdrEncode for DirPath {
    fn encode(&self, e: &mut Encoder) {
        e.put_string(&self.0)
    }
}

/// `typedef string name<MNTNAMLEN>;`
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name(pub Vec<u8>);

impl<'a> XdrDecode<'a> for Name {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(Name(d.string(MNTNAMLEN)?.to_vec()))
    }
}
impl XdrEncode for Name {
    fn encode(&self, e: &mut Encoder) {
        e.put_string(&self.0)
    }
}

/// The result of MNT. `fhandle3` is [`NfsFh3`] (`opaque fhandle3<FHSIZE3>`).
///
/// ```text
/// struct mountres3_ok {
///    fhandle3   fhandle;
///    int        auth_flavors<>;
/// };
///
/// union mountres3 switch (mountstat3 fhs_status) {
/// case MNT3_OK:
///    mountres3_ok  mountinfo;
/// default:
///    void;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MntRes {
    /// `MNT3_OK`.
    Ok {
        /// The root handle of the export.
        fhandle: NfsFh3,
        /// Accepted RPC auth flavors, most preferred first (at most
        /// [`AUTH_FLAVORS_MAX`] on decode).
        auth_flavors: Vec<u32>,
    },
    /// Any other status. `Err(MountStat3::Ok)` must not be built: it would
    /// encode as a success without a body.
    Err(MountStat3),
}

impl<'a> XdrDecode<'a> for MntRes {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match MountStat3::decode(d)? {
            MountStat3::Ok => Ok(MntRes::Ok {
                fhandle: NfsFh3::decode(d)?,
                auth_flavors: decode_array(d, AUTH_FLAVORS_MAX)?,
            }),
            s => Ok(MntRes::Err(s)),
        }
    }
}

impl XdrEncode for MntRes {
    fn encode(&self, e: &mut Encoder) {
        match self {
            MntRes::Ok { fhandle, auth_flavors } => {
                MountStat3::Ok.encode(e);
                fhandle.encode(e);
                encode_array(e, auth_flavors);
            }
            MntRes::Err(s) => s.encode(e),
        }
    }
}

xdr_struct! {
    /// One entry of the DUMP result.
    ///
    /// ```text
    /// typedef struct mountbody *mountlist;
    /// struct mountbody {
    ///    name       ml_hostname;
    ///    dirpath    ml_directory;
    ///    mountlist  ml_next;
    /// };
    /// ```
    pub struct MountBody {
        /// Client host name.
        pub hostname: Name,
        /// Mounted directory.
        pub directory: DirPath,
    }
}

/// The DUMP result (`mountlist`, an optional-data linked list).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MountList(pub Vec<MountBody>);

impl<'a> XdrDecode<'a> for MountList {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(MountList(decode_list(d, LIST_ENTRIES_MAX)?))
    }
}
impl XdrEncode for MountList {
    fn encode(&self, e: &mut Encoder) {
        encode_list(e, &self.0)
    }
}

/// One export (`groups` is the list of hosts/netgroups allowed to mount it;
/// empty means everyone).
///
/// ```text
/// typedef struct groupnode *groups;
/// struct groupnode {
///    name     gr_name;
///    groups   gr_next;
/// };
///
/// typedef struct exportnode *exports;
/// struct exportnode {
///    dirpath  ex_dir;
///    groups   ex_groups;
///    exports  ex_next;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportNode {
    /// Exported directory.
    pub dir: DirPath,
    /// Groups allowed to mount it.
    pub groups: Vec<Name>,
}

impl<'a> XdrDecode<'a> for ExportNode {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(ExportNode { dir: DirPath::decode(d)?, groups: decode_list(d, LIST_ENTRIES_MAX)? })
    }
}
impl XdrEncode for ExportNode {
    fn encode(&self, e: &mut Encoder) {
        self.dir.encode(e);
        encode_list(e, &self.groups);
    }
}

/// The EXPORT result (`exports`, an optional-data linked list).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Exports(pub Vec<ExportNode>);

impl<'a> XdrDecode<'a> for Exports {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(Exports(decode_list(d, LIST_ENTRIES_MAX)?))
    }
}
impl XdrEncode for Exports {
    fn encode(&self, e: &mut Encoder) {
        encode_list(e, &self.0)
    }
}
