//! NFS version 3 (RFC 1813), program 100003: every basic type and the
//! arguments and results of all 22 procedures.
//!
//! Results are [`NfsRes<Ok, Fail>`]: the `nfsstat3` status, then the `Ok`
//! body for `NFS3_OK` or the `Fail` body for any other status — exactly the
//! RFC's `union XXX3res switch (nfsstat3 status)`.
//!
//! Decode bounds: file handles ≤ [`NFS3_FHSIZE`]; file names ≤
//! [`FILENAME_DECODE_MAX_BYTES`] (not 255: the server must be able to answer
//! `NFS3ERR_NAMETOOLONG`, so it checks [`NAME_MAX_BYTES`] itself); symlink
//! targets ≤ [`PATH_DECODE_MAX_BYTES`]; WRITE and READ data ≤
//! [`WRITE_SIZE_MAX_BYTES`]. WRITE's `count` is not checked against the data
//! length here (RFC 1813 §3.3.7 leaves that to the server).

use crate::xdr::{
    decode_list, encode_list, opaque_len, xdr_enum, xdr_struct, Decoder, Encoder, XdrDecode,
    XdrEncode, XdrError,
};

/// `NFS_PROGRAM`.
pub const PROGRAM: u32 = 100003;
/// `NFS_V3`.
pub const VERSION: u32 = 3;
/// The NFSACL side protocol; Cairn does not serve it and answers
/// PROG_UNAVAIL (Linux clients probe it).
pub const NFSACL_PROGRAM: u32 = 100227;

/// `const NFS3_FHSIZE = 64;` — maximum bytes in a file handle.
pub const NFS3_FHSIZE: u32 = 64;
/// `const NFS3_COOKIEVERFSIZE = 8;`
pub const NFS3_COOKIEVERFSIZE: usize = 8;
/// `const NFS3_CREATEVERFSIZE = 8;`
pub const NFS3_CREATEVERFSIZE: usize = 8;
/// `const NFS3_WRITEVERFSIZE = 8;`
pub const NFS3_WRITEVERFSIZE: usize = 8;

/// The name length the server should enforce (→ `NFS3ERR_NAMETOOLONG`).
pub const NAME_MAX_BYTES: u32 = 255;
/// Decode bound on `filename3`; longer names are a decode error
/// (GARBAGE_ARGS), names between [`NAME_MAX_BYTES`] and this decode fine.
pub const FILENAME_DECODE_MAX_BYTES: u32 = 1024;
/// Decode bound on `nfspath3` (symlink targets).
pub const PATH_DECODE_MAX_BYTES: u32 = 4096;
/// Decode bound on WRITE args data and READ result data: 16 MiB. The server
/// advertises a smaller `wtmax`/`rtmax` and enforces it itself.
pub const WRITE_SIZE_MAX_BYTES: u32 = 16 * 1024 * 1024;
/// Decode bound on the number of READDIR / READDIRPLUS entries in a reply.
pub const DIR_ENTRIES_DECODE_MAX: u32 = 1 << 20;

/// `typedef opaque cookieverf3[NFS3_COOKIEVERFSIZE];`
pub type Cookieverf3 = [u8; NFS3_COOKIEVERFSIZE];
/// `typedef opaque createverf3[NFS3_CREATEVERFSIZE];`
pub type Createverf3 = [u8; NFS3_CREATEVERFSIZE];
/// `typedef opaque writeverf3[NFS3_WRITEVERFSIZE];`
pub type Writeverf3 = [u8; NFS3_WRITEVERFSIZE];

/// ACCESS3_READ: read data from file or read a directory.
pub const ACCESS3_READ: u32 = 0x0001;
/// ACCESS3_LOOKUP: look up a name in a directory.
pub const ACCESS3_LOOKUP: u32 = 0x0002;
/// ACCESS3_MODIFY: rewrite existing file data or modify directory entries.
pub const ACCESS3_MODIFY: u32 = 0x0004;
/// ACCESS3_EXTEND: write new data or add directory entries.
pub const ACCESS3_EXTEND: u32 = 0x0008;
/// ACCESS3_DELETE: delete an existing directory entry.
pub const ACCESS3_DELETE: u32 = 0x0010;
/// ACCESS3_EXECUTE: execute file (no meaning for a directory).
pub const ACCESS3_EXECUTE: u32 = 0x0020;

/// FSF3_LINK: the file system supports hard links.
pub const FSF3_LINK: u32 = 0x0001;
/// FSF3_SYMLINK: the file system supports symbolic links.
pub const FSF3_SYMLINK: u32 = 0x0002;
/// FSF3_HOMOGENEOUS: PATHCONF is the same for all files.
pub const FSF3_HOMOGENEOUS: u32 = 0x0008;
/// FSF3_CANSETTIME: the server can set times via SETATTR.
pub const FSF3_CANSETTIME: u32 = 0x0010;

/// Encoded size of `fattr3`.
pub const FATTR3_LEN: usize = 84;
/// Encoded size of a `post_op_attr` carrying attributes.
pub const POST_OP_ATTR_LEN_MAX: usize = 4 + FATTR3_LEN;
/// Encoded size of `nfsstat3`, `post_op_attr` (with attributes),
/// `cookieverf3`, the final `value_follows = FALSE` and `eof` of a READDIR or
/// READDIRPLUS success reply: what is left of the client's `count` /
/// `maxcount` for entries is that minus this (and minus the RPC header).
pub const READDIR3_RES_OK_FIXED_LEN: usize = 4 + POST_OP_ATTR_LEN_MAX + 8 + 4 + 4;
/// Encoded size of a READ success reply without the data bytes and padding:
/// status, `post_op_attr` (with attributes), count, eof, data length.
pub const READ3_RES_OK_FIXED_LEN: usize = 4 + POST_OP_ATTR_LEN_MAX + 4 + 4 + 4;

xdr_enum! {
    /// NFSv3 procedure numbers (RFC 1813 §3.3).
    pub enum Proc3 as "nfsproc3" {
        /// `NFSPROC3_NULL`.
        Null = 0,
        /// `NFSPROC3_GETATTR`.
        Getattr = 1,
        /// `NFSPROC3_SETATTR`.
        Setattr = 2,
        /// `NFSPROC3_LOOKUP`.
        Lookup = 3,
        /// `NFSPROC3_ACCESS`.
        Access = 4,
        /// `NFSPROC3_READLINK`.
        Readlink = 5,
        /// `NFSPROC3_READ`.
        Read = 6,
        /// `NFSPROC3_WRITE`.
        Write = 7,
        /// `NFSPROC3_CREATE`.
        Create = 8,
        /// `NFSPROC3_MKDIR`.
        Mkdir = 9,
        /// `NFSPROC3_SYMLINK`.
        Symlink = 10,
        /// `NFSPROC3_MKNOD`.
        Mknod = 11,
        /// `NFSPROC3_REMOVE`.
        Remove = 12,
        /// `NFSPROC3_RMDIR`.
        Rmdir = 13,
        /// `NFSPROC3_RENAME`.
        Rename = 14,
        /// `NFSPROC3_LINK`.
        Link = 15,
        /// `NFSPROC3_READDIR`.
        Readdir = 16,
        /// `NFSPROC3_READDIRPLUS`.
        Readdirplus = 17,
        /// `NFSPROC3_FSSTAT`.
        Fsstat = 18,
        /// `NFSPROC3_FSINFO`.
        Fsinfo = 19,
        /// `NFSPROC3_PATHCONF`.
        Pathconf = 20,
        /// `NFSPROC3_COMMIT`.
        Commit = 21,
    }
}

xdr_enum! {
    /// RFC 1813 §2.6.
    ///
    /// ```text
    /// enum nfsstat3 {
    ///    NFS3_OK             = 0,
    ///    NFS3ERR_PERM        = 1,
    ///    NFS3ERR_NOENT       = 2,
    ///    NFS3ERR_IO          = 5,
    ///    NFS3ERR_NXIO        = 6,
    ///    NFS3ERR_ACCES       = 13,
    ///    NFS3ERR_EXIST       = 17,
    ///    NFS3ERR_XDEV        = 18,
    ///    NFS3ERR_NODEV       = 19,
    ///    NFS3ERR_NOTDIR      = 20,
    ///    NFS3ERR_ISDIR       = 21,
    ///    NFS3ERR_INVAL       = 22,
    ///    NFS3ERR_FBIG        = 27,
    ///    NFS3ERR_NOSPC       = 28,
    ///    NFS3ERR_ROFS        = 30,
    ///    NFS3ERR_MLINK       = 31,
    ///    NFS3ERR_NAMETOOLONG = 63,
    ///    NFS3ERR_NOTEMPTY    = 66,
    ///    NFS3ERR_DQUOT       = 69,
    ///    NFS3ERR_STALE       = 70,
    ///    NFS3ERR_REMOTE      = 71,
    ///    NFS3ERR_BADHANDLE   = 10001,
    ///    NFS3ERR_NOT_SYNC    = 10002,
    ///    NFS3ERR_BAD_COOKIE  = 10003,
    ///    NFS3ERR_NOTSUPP     = 10004,
    ///    NFS3ERR_TOOSMALL    = 10005,
    ///    NFS3ERR_SERVERFAULT = 10006,
    ///    NFS3ERR_BADTYPE     = 10007,
    ///    NFS3ERR_JUKEBOX     = 10008
    /// };
    /// ```
    pub enum Nfsstat3 as "nfsstat3" {
        /// `NFS3_OK`.
        Ok = 0,
        /// `NFS3ERR_PERM`: not owner.
        Perm = 1,
        /// `NFS3ERR_NOENT`: no such file or directory.
        Noent = 2,
        /// `NFS3ERR_IO`: hard I/O error.
        Io = 5,
        /// `NFS3ERR_NXIO`: no such device or address.
        Nxio = 6,
        /// `NFS3ERR_ACCES`: permission denied.
        Acces = 13,
        /// `NFS3ERR_EXIST`: file exists.
        Exist = 17,
        /// `NFS3ERR_XDEV`: cross-device link.
        Xdev = 18,
        /// `NFS3ERR_NODEV`: no such device.
        Nodev = 19,
        /// `NFS3ERR_NOTDIR`: not a directory.
        Notdir = 20,
        /// `NFS3ERR_ISDIR`: is a directory.
        Isdir = 21,
        /// `NFS3ERR_INVAL`: invalid argument.
        Inval = 22,
        /// `NFS3ERR_FBIG`: file too large.
        Fbig = 27,
        /// `NFS3ERR_NOSPC`: no space left on device.
        Nospc = 28,
        /// `NFS3ERR_ROFS`: read-only file system.
        Rofs = 30,
        /// `NFS3ERR_MLINK`: too many hard links.
        Mlink = 31,
        /// `NFS3ERR_NAMETOOLONG`: name too long.
        Nametoolong = 63,
        /// `NFS3ERR_NOTEMPTY`: directory not empty.
        Notempty = 66,
        /// `NFS3ERR_DQUOT`: quota exceeded.
        Dquot = 69,
        /// `NFS3ERR_STALE`: stale file handle.
        Stale = 70,
        /// `NFS3ERR_REMOTE`: too many levels of remote in path.
        Remote = 71,
        /// `NFS3ERR_BADHANDLE`: illegal file handle.
        Badhandle = 10001,
        /// `NFS3ERR_NOT_SYNC`: SETATTR guard mismatch.
        NotSync = 10002,
        /// `NFS3ERR_BAD_COOKIE`: READDIR cookie is stale.
        BadCookie = 10003,
        /// `NFS3ERR_NOTSUPP`: operation not supported.
        Notsupp = 10004,
        /// `NFS3ERR_TOOSMALL`: buffer or request too small.
        Toosmall = 10005,
        /// `NFS3ERR_SERVERFAULT`: server error not mapping to the above.
        Serverfault = 10006,
        /// `NFS3ERR_BADTYPE`: type not supported by the server.
        Badtype = 10007,
        /// `NFS3ERR_JUKEBOX`: try again later.
        Jukebox = 10008,
    }
}

xdr_enum! {
    /// ```text
    /// enum ftype3 {
    ///    NF3REG    = 1,
    ///    NF3DIR    = 2,
    ///    NF3BLK    = 3,
    ///    NF3CHR    = 4,
    ///    NF3LNK    = 5,
    ///    NF3SOCK   = 6,
    ///    NF3FIFO   = 7
    /// };
    /// ```
    pub enum Ftype3 as "ftype3" {
        /// Regular file.
        Reg = 1,
        /// Directory.
        Dir = 2,
        /// Block special device.
        Blk = 3,
        /// Character special device.
        Chr = 4,
        /// Symbolic link.
        Lnk = 5,
        /// Socket.
        Sock = 6,
        /// Named pipe.
        Fifo = 7,
    }
}

xdr_enum! {
    /// ```text
    /// enum stable_how {
    ///    UNSTABLE  = 0,
    ///    DATA_SYNC = 1,
    ///    FILE_SYNC = 2
    /// };
    /// ```
    pub enum StableHow as "stable_how" {
        /// May be cached until COMMIT.
        Unstable = 0,
        /// Data (and metadata to retrieve it) on stable storage.
        DataSync = 1,
        /// Data and all metadata on stable storage.
        FileSync = 2,
    }
}

xdr_struct! {
    /// ```text
    /// struct specdata3 {
    ///    uint32     specdata1;
    ///    uint32     specdata2;
    /// };
    /// ```
    #[derive(Copy, Default, Hash, PartialOrd, Ord)]
    pub struct Specdata3 {
        /// Major device number.
        pub specdata1: u32,
        /// Minor device number.
        pub specdata2: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct nfstime3 {
    ///    uint32   seconds;
    ///    uint32   nseconds;
    /// };
    /// ```
    #[derive(Copy, Default, Hash, PartialOrd, Ord)]
    pub struct Nfstime3 {
        /// Seconds since the epoch.
        pub seconds: u32,
        /// Nanoseconds.
        pub nseconds: u32,
    }
}

/// ```text
/// struct nfs_fh3 {
///    opaque       data<NFS3_FHSIZE>;
/// };
/// ```
/// At most [`NFS3_FHSIZE`] bytes (a longer one is a decode error; the server
/// answers GARBAGE_ARGS or NFS3ERR_BADHANDLE as it sees fit).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NfsFh3(pub Vec<u8>);

impl<'a> XdrDecode<'a> for NfsFh3 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(NfsFh3(d.opaque(NFS3_FHSIZE)?.to_vec()))
    }
}
impl XdrEncode for NfsFh3 {
    fn encode(&self, e: &mut Encoder) {
        e.put_opaque(&self.0)
    }
}

/// Codec of `filename3` (`typedef string filename3<>;`) as `Vec<u8>`,
/// bounded by [`FILENAME_DECODE_MAX_BYTES`].
pub mod filename3 {
    use crate::xdr::{Decoder, Encoder, XdrError};
    /// Decode a file name.
    pub fn decode(d: &mut Decoder<'_>) -> Result<Vec<u8>, XdrError> {
        Ok(d.string(super::FILENAME_DECODE_MAX_BYTES)?.to_vec())
    }
    /// Encode a file name.
    pub fn encode(e: &mut Encoder, v: &[u8]) {
        e.put_string(v)
    }
}

/// Codec of `nfspath3` (`typedef string nfspath3<>;`) as `Vec<u8>`, bounded
/// by [`PATH_DECODE_MAX_BYTES`].
pub mod nfspath3 {
    use crate::xdr::{Decoder, Encoder, XdrError};
    /// Decode a path.
    pub fn decode(d: &mut Decoder<'_>) -> Result<Vec<u8>, XdrError> {
        Ok(d.string(super::PATH_DECODE_MAX_BYTES)?.to_vec())
    }
    /// Encode a path.
    pub fn encode(e: &mut Encoder, v: &[u8]) {
        e.put_string(v)
    }
}

/// Codec of READ/WRITE `opaque data<>` as `Vec<u8>`, bounded by
/// [`WRITE_SIZE_MAX_BYTES`].
pub mod data3 {
    use crate::xdr::{Decoder, Encoder, XdrError};
    /// Decode file data.
    pub fn decode(d: &mut Decoder<'_>) -> Result<Vec<u8>, XdrError> {
        Ok(d.opaque(super::WRITE_SIZE_MAX_BYTES)?.to_vec())
    }
    /// Encode file data.
    pub fn encode(e: &mut Encoder, v: &[u8]) {
        e.put_opaque(v)
    }
}

xdr_struct! {
    /// ```text
    /// struct fattr3 {
    ///    ftype3     type;
    ///    mode3      mode;
    ///    uint32     nlink;
    ///    uid3       uid;
    ///    gid3       gid;
    ///    size3      size;
    ///    size3      used;
    ///    specdata3  rdev;
    ///    uint64     fsid;
    ///    fileid3    fileid;
    ///    nfstime3   atime;
    ///    nfstime3   mtime;
    ///    nfstime3   ctime;
    /// };
    /// ```
    /// Encodes to [`FATTR3_LEN`] bytes.
    pub struct Fattr3 {
        /// `type` (renamed: a Rust keyword).
        pub ftype: Ftype3,
        /// Protection mode bits.
        pub mode: u32,
        /// Number of hard links.
        pub nlink: u32,
        /// Owner.
        pub uid: u32,
        /// Group.
        pub gid: u32,
        /// Size in bytes.
        pub size: u64,
        /// Disk space used in bytes.
        pub used: u64,
        /// Device numbers (NF3BLK, NF3CHR).
        pub rdev: Specdata3,
        /// File system id.
        pub fsid: u64,
        /// File id (inode number).
        pub fileid: u64,
        /// Last access.
        pub atime: Nfstime3,
        /// Last data modification.
        pub mtime: Nfstime3,
        /// Last attribute change.
        pub ctime: Nfstime3,
    }
}

/// ```text
/// union post_op_attr switch (bool attributes_follow) {
/// case TRUE:
///    fattr3   attributes;
/// case FALSE:
///    void;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PostOpAttr(pub Option<Fattr3>);

xdr_struct! {
    /// ```text
    /// struct wcc_attr {
    ///    size3       size;
    ///    nfstime3    mtime;
    ///    nfstime3    ctime;
    /// };
    /// ```
    pub struct WccAttr {
        /// Size before the operation.
        pub size: u64,
        /// Modification time before the operation.
        pub mtime: Nfstime3,
        /// Change time before the operation.
        pub ctime: Nfstime3,
    }
}

/// ```text
/// union pre_op_attr switch (bool attributes_follow) {
/// case TRUE:
///    wcc_attr  attributes;
/// case FALSE:
///    void;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreOpAttr(pub Option<WccAttr>);

/// ```text
/// union post_op_fh3 switch (bool handle_follows) {
/// case TRUE:
///    nfs_fh3  handle;
/// case FALSE:
///    void;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PostOpFh3(pub Option<NfsFh3>);

macro_rules! optional_newtype {
    ($($name:ident($inner:ty)),*) => {$(
        impl<'a> XdrDecode<'a> for $name {
            fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
                Ok($name(Option::<$inner>::decode(d)?))
            }
        }
        impl XdrEncode for $name {
            fn encode(&self, e: &mut Encoder) {
                self.0.encode(e)
            }
        }
    )*};
}
optional_newtype!(PostOpAttr(Fattr3), PreOpAttr(WccAttr), PostOpFh3(NfsFh3));

impl PostOpAttr {
    /// Encoded size: 4, plus [`FATTR3_LEN`] with attributes.
    pub fn encoded_len(&self) -> usize {
        if self.0.is_some() {
            POST_OP_ATTR_LEN_MAX
        } else {
            4
        }
    }
}

impl PostOpFh3 {
    /// Encoded size: 4, plus the handle's `opaque<>` size.
    pub fn encoded_len(&self) -> usize {
        4 + self.0.as_ref().map_or(0, |fh| opaque_len(fh.0.len()))
    }
}

xdr_struct! {
    /// ```text
    /// struct wcc_data {
    ///    pre_op_attr    before;
    ///    post_op_attr   after;
    /// };
    /// ```
    pub struct WccData {
        /// Attributes before the operation (weak cache consistency).
        pub before: PreOpAttr,
        /// Attributes after the operation.
        pub after: PostOpAttr,
    }
}

/// How SETATTR (and CREATE etc.) sets a time.
///
/// ```text
/// enum time_how {
///    DONT_CHANGE        = 0,
///    SET_TO_SERVER_TIME = 1,
///    SET_TO_CLIENT_TIME = 2
/// };
///
/// union set_atime switch (time_how set_it) {
/// case SET_TO_CLIENT_TIME:
///    nfstime3  atime;
/// default:
///    void;
/// };
/// ```
/// (`set_mtime` is the same.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetTime {
    /// `DONT_CHANGE`.
    #[default]
    DontChange,
    /// `SET_TO_SERVER_TIME`.
    ServerTime,
    /// `SET_TO_CLIENT_TIME`.
    ClientTime(Nfstime3),
}

impl<'a> XdrDecode<'a> for SetTime {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match d.u32()? {
            0 => Ok(SetTime::DontChange),
            1 => Ok(SetTime::ServerTime),
            2 => Ok(SetTime::ClientTime(Nfstime3::decode(d)?)),
            value => Err(XdrError::BadEnum { name: "time_how", value }),
        }
    }
}
impl XdrEncode for SetTime {
    fn encode(&self, e: &mut Encoder) {
        match self {
            SetTime::DontChange => e.put_u32(0),
            SetTime::ServerTime => e.put_u32(1),
            SetTime::ClientTime(t) => {
                e.put_u32(2);
                t.encode(e);
            }
        }
    }
}

xdr_struct! {
    /// Settable attributes; each `set_xxx` union is an XDR bool then the
    /// value, encoded as `Option`.
    ///
    /// ```text
    /// union set_mode3 switch (bool set_it) {
    /// case TRUE:
    ///    mode3    mode;
    /// default:
    ///    void;
    /// };
    /// /* set_uid3, set_gid3 (uid3/gid3), set_size3 (size3) alike */
    ///
    /// struct sattr3 {
    ///    set_mode3   mode;
    ///    set_uid3    uid;
    ///    set_gid3    gid;
    ///    set_size3   size;
    ///    set_atime   atime;
    ///    set_mtime   mtime;
    /// };
    /// ```
    #[derive(Default)]
    pub struct Sattr3 {
        /// New mode, if set.
        pub mode: Option<u32>,
        /// New owner, if set.
        pub uid: Option<u32>,
        /// New group, if set.
        pub gid: Option<u32>,
        /// New size, if set.
        pub size: Option<u64>,
        /// New access time.
        pub atime: SetTime,
        /// New modification time.
        pub mtime: SetTime,
    }
}

xdr_struct! {
    /// ```text
    /// struct diropargs3 {
    ///    nfs_fh3     dir;
    ///    filename3   name;
    /// };
    /// ```
    pub struct DirOpArgs3 {
        /// The directory.
        pub dir: NfsFh3,
        /// The name in it: bytes, ≤ [`FILENAME_DECODE_MAX_BYTES`] on decode;
        /// the server checks [`NAME_MAX_BYTES`], `.`/`..`, NUL and `/`.
        pub name: Vec<u8> [filename3],
    }
}

/// ```text
/// enum createmode3 {
///    UNCHECKED = 0,
///    GUARDED   = 1,
///    EXCLUSIVE = 2
/// };
///
/// union createhow3 switch (createmode3 mode) {
/// case UNCHECKED:
/// case GUARDED:
///    sattr3       obj_attributes;
/// case EXCLUSIVE:
///    createverf3  verf;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateHow3 {
    /// Create or truncate silently.
    Unchecked(Sattr3),
    /// Fail with NFS3ERR_EXIST if the name exists.
    Guarded(Sattr3),
    /// Exclusive create keyed by the verifier (RFC 1813 §3.3.8).
    Exclusive(Createverf3),
}

impl<'a> XdrDecode<'a> for CreateHow3 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match d.u32()? {
            0 => Ok(CreateHow3::Unchecked(Sattr3::decode(d)?)),
            1 => Ok(CreateHow3::Guarded(Sattr3::decode(d)?)),
            2 => Ok(CreateHow3::Exclusive(Createverf3::decode(d)?)),
            value => Err(XdrError::BadEnum { name: "createmode3", value }),
        }
    }
}
impl XdrEncode for CreateHow3 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            CreateHow3::Unchecked(s) => {
                e.put_u32(0);
                s.encode(e);
            }
            CreateHow3::Guarded(s) => {
                e.put_u32(1);
                s.encode(e);
            }
            CreateHow3::Exclusive(v) => {
                e.put_u32(2);
                v.encode(e);
            }
        }
    }
}

xdr_struct! {
    /// ```text
    /// struct devicedata3 {
    ///    sattr3     dev_attributes;
    ///    specdata3  spec;
    /// };
    /// ```
    pub struct DeviceData3 {
        /// Initial attributes.
        pub dev_attributes: Sattr3,
        /// Major/minor numbers.
        pub spec: Specdata3,
    }
}

/// ```text
/// union mknoddata3 switch (ftype3 type) {
/// case NF3CHR:
/// case NF3BLK:
///    devicedata3  device;
/// case NF3SOCK:
/// case NF3FIFO:
///    sattr3       pipe_attributes;
/// default:
///    void;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MknodData3 {
    /// Character device.
    Chr(DeviceData3),
    /// Block device.
    Blk(DeviceData3),
    /// Socket.
    Sock(Sattr3),
    /// FIFO.
    Fifo(Sattr3),
    /// NF3REG, NF3DIR or NF3LNK: valid XDR, but the server must answer
    /// NFS3ERR_BADTYPE (RFC 1813 §3.3.11). Never holds the four types above.
    Other(Ftype3),
}

impl<'a> XdrDecode<'a> for MknodData3 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(match Ftype3::decode(d)? {
            Ftype3::Chr => MknodData3::Chr(DeviceData3::decode(d)?),
            Ftype3::Blk => MknodData3::Blk(DeviceData3::decode(d)?),
            Ftype3::Sock => MknodData3::Sock(Sattr3::decode(d)?),
            Ftype3::Fifo => MknodData3::Fifo(Sattr3::decode(d)?),
            t => MknodData3::Other(t),
        })
    }
}
impl XdrEncode for MknodData3 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            MknodData3::Chr(dd) => {
                Ftype3::Chr.encode(e);
                dd.encode(e);
            }
            MknodData3::Blk(dd) => {
                Ftype3::Blk.encode(e);
                dd.encode(e);
            }
            MknodData3::Sock(s) => {
                Ftype3::Sock.encode(e);
                s.encode(e);
            }
            MknodData3::Fifo(s) => {
                Ftype3::Fifo.encode(e);
                s.encode(e);
            }
            MknodData3::Other(t) => t.encode(e),
        }
    }
}

/// The result of any procedure: `union XXX3res switch (nfsstat3 status) {
/// case NFS3_OK: XXX3resok resok; default: XXX3resfail resfail; };`
///
/// `Err(Nfsstat3::Ok, _)` must not be built: it would encode a success
/// status followed by the failure body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NfsRes<T, F> {
    /// `NFS3_OK` and the success body.
    Ok(T),
    /// Any other status and the failure body.
    Err(Nfsstat3, F),
}

impl<T, F> NfsRes<T, F> {
    /// The status this result encodes.
    pub fn status(&self) -> Nfsstat3 {
        match self {
            NfsRes::Ok(_) => Nfsstat3::Ok,
            NfsRes::Err(s, _) => *s,
        }
    }
}

impl<'a, T: XdrDecode<'a>, F: XdrDecode<'a>> XdrDecode<'a> for NfsRes<T, F> {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match Nfsstat3::decode(d)? {
            Nfsstat3::Ok => Ok(NfsRes::Ok(T::decode(d)?)),
            s => Ok(NfsRes::Err(s, F::decode(d)?)),
        }
    }
}
impl<T: XdrEncode, F: XdrEncode> XdrEncode for NfsRes<T, F> {
    fn encode(&self, e: &mut Encoder) {
        match self {
            NfsRes::Ok(t) => {
                Nfsstat3::Ok.encode(e);
                t.encode(e);
            }
            NfsRes::Err(s, f) => {
                s.encode(e);
                f.encode(e);
            }
        }
    }
}

// ---------------------------------------------------------------- GETATTR

xdr_struct! {
    /// ```text
    /// struct GETATTR3args {
    ///    nfs_fh3  object;
    /// };
    /// ```
    pub struct GetattrArgs {
        /// The object.
        pub object: NfsFh3,
    }
}

xdr_struct! {
    /// ```text
    /// struct GETATTR3resok {
    ///    fattr3   obj_attributes;
    /// };
    /// ```
    /// (`GETATTR3res` has a `void` failure body: `()`.)
    pub struct GetattrResOk {
        /// The attributes.
        pub obj_attributes: Fattr3,
    }
}

/// `GETATTR3res`.
pub type GetattrRes = NfsRes<GetattrResOk, ()>;

// ---------------------------------------------------------------- SETATTR

xdr_struct! {
    /// ```text
    /// union sattrguard3 switch (bool check) {
    /// case TRUE:
    ///    nfstime3  obj_ctime;
    /// case FALSE:
    ///    void;
    /// };
    ///
    /// struct SETATTR3args {
    ///    nfs_fh3      object;
    ///    sattr3       new_attributes;
    ///    sattrguard3  guard;
    /// };
    /// ```
    pub struct SetattrArgs {
        /// The object.
        pub object: NfsFh3,
        /// What to change.
        pub new_attributes: Sattr3,
        /// If set, fail with NFS3ERR_NOT_SYNC unless ctime equals it.
        pub guard: Option<Nfstime3>,
    }
}

xdr_struct! {
    /// ```text
    /// struct SETATTR3resok {
    ///    wcc_data  obj_wcc;
    /// };
    /// ```
    pub struct SetattrResOk {
        /// Weak cache consistency data of the object.
        pub obj_wcc: WccData,
    }
}

xdr_struct! {
    /// ```text
    /// struct SETATTR3resfail {
    ///    wcc_data  obj_wcc;
    /// };
    /// ```
    pub struct SetattrResFail {
        /// Weak cache consistency data of the object.
        pub obj_wcc: WccData,
    }
}

/// `SETATTR3res`.
pub type SetattrRes = NfsRes<SetattrResOk, SetattrResFail>;

// ---------------------------------------------------------------- LOOKUP

xdr_struct! {
    /// ```text
    /// struct LOOKUP3args {
    ///    diropargs3  what;
    /// };
    /// ```
    pub struct LookupArgs {
        /// Directory and name.
        pub what: DirOpArgs3,
    }
}

xdr_struct! {
    /// ```text
    /// struct LOOKUP3resok {
    ///    nfs_fh3      object;
    ///    post_op_attr obj_attributes;
    ///    post_op_attr dir_attributes;
    /// };
    /// ```
    pub struct LookupResOk {
        /// Handle of the object found.
        pub object: NfsFh3,
        /// Its attributes.
        pub obj_attributes: PostOpAttr,
        /// The directory's attributes.
        pub dir_attributes: PostOpAttr,
    }
}

xdr_struct! {
    /// ```text
    /// struct LOOKUP3resfail {
    ///    post_op_attr dir_attributes;
    /// };
    /// ```
    pub struct LookupResFail {
        /// The directory's attributes.
        pub dir_attributes: PostOpAttr,
    }
}

/// `LOOKUP3res`.
pub type LookupRes = NfsRes<LookupResOk, LookupResFail>;

// ---------------------------------------------------------------- ACCESS

xdr_struct! {
    /// ```text
    /// struct ACCESS3args {
    ///    nfs_fh3  object;
    ///    uint32   access;
    /// };
    /// ```
    pub struct AccessArgs {
        /// The object.
        pub object: NfsFh3,
        /// `ACCESS3_*` bits asked for.
        pub access: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct ACCESS3resok {
    ///    post_op_attr   obj_attributes;
    ///    uint32         access;
    /// };
    /// ```
    pub struct AccessResOk {
        /// The object's attributes.
        pub obj_attributes: PostOpAttr,
        /// `ACCESS3_*` bits granted (a subset of those asked for).
        pub access: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct ACCESS3resfail {
    ///    post_op_attr   obj_attributes;
    /// };
    /// ```
    pub struct AccessResFail {
        /// The object's attributes.
        pub obj_attributes: PostOpAttr,
    }
}

/// `ACCESS3res`.
pub type AccessRes = NfsRes<AccessResOk, AccessResFail>;

// ---------------------------------------------------------------- READLINK

xdr_struct! {
    /// ```text
    /// struct READLINK3args {
    ///    nfs_fh3  symlink;
    /// };
    /// ```
    pub struct ReadlinkArgs {
        /// The symbolic link.
        pub symlink: NfsFh3,
    }
}

xdr_struct! {
    /// ```text
    /// struct READLINK3resok {
    ///    post_op_attr   symlink_attributes;
    ///    nfspath3       data;
    /// };
    /// ```
    pub struct ReadlinkResOk {
        /// The link's attributes.
        pub symlink_attributes: PostOpAttr,
        /// The link's target.
        pub data: Vec<u8> [nfspath3],
    }
}

xdr_struct! {
    /// ```text
    /// struct READLINK3resfail {
    ///    post_op_attr   symlink_attributes;
    /// };
    /// ```
    pub struct ReadlinkResFail {
        /// The link's attributes.
        pub symlink_attributes: PostOpAttr,
    }
}

/// `READLINK3res`.
pub type ReadlinkRes = NfsRes<ReadlinkResOk, ReadlinkResFail>;

// ---------------------------------------------------------------- READ

xdr_struct! {
    /// ```text
    /// struct READ3args {
    ///    nfs_fh3  file;
    ///    offset3  offset;
    ///    count3   count;
    /// };
    /// ```
    pub struct ReadArgs {
        /// The file.
        pub file: NfsFh3,
        /// Byte offset.
        pub offset: u64,
        /// Bytes asked for (the server bounds it by its `rtmax`).
        pub count: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct READ3resok {
    ///    post_op_attr   file_attributes;
    ///    count3         count;
    ///    bool           eof;
    ///    opaque         data<>;
    /// };
    /// ```
    /// Encodes to [`READ3_RES_OK_FIXED_LEN`] (with attributes) plus the
    /// data and its padding.
    pub struct ReadResOk {
        /// The file's attributes.
        pub file_attributes: PostOpAttr,
        /// Bytes read (equals `data.len()`).
        pub count: u32,
        /// End of file reached.
        pub eof: bool,
        /// The bytes (≤ [`WRITE_SIZE_MAX_BYTES`] on decode).
        pub data: Vec<u8> [data3],
    }
}

xdr_struct! {
    /// ```text
    /// struct READ3resfail {
    ///    post_op_attr   file_attributes;
    /// };
    /// ```
    pub struct ReadResFail {
        /// The file's attributes.
        pub file_attributes: PostOpAttr,
    }
}

/// `READ3res`.
pub type ReadRes = NfsRes<ReadResOk, ReadResFail>;

// ---------------------------------------------------------------- WRITE

xdr_struct! {
    /// ```text
    /// struct WRITE3args {
    ///    nfs_fh3     file;
    ///    offset3     offset;
    ///    count3      count;
    ///    stable_how  stable;
    ///    opaque      data<>;
    /// };
    /// ```
    /// `data` is owned (copied out of the request) and bounded by
    /// [`WRITE_SIZE_MAX_BYTES`] on decode; `count` is not checked against
    /// `data.len()` — the server must (RFC 1813 §3.3.7).
    pub struct WriteArgs {
        /// The file.
        pub file: NfsFh3,
        /// Byte offset.
        pub offset: u64,
        /// Bytes to write.
        pub count: u32,
        /// Durability asked for.
        pub stable: StableHow,
        /// The bytes.
        pub data: Vec<u8> [data3],
    }
}

xdr_struct! {
    /// ```text
    /// struct WRITE3resok {
    ///    wcc_data    file_wcc;
    ///    count3      count;
    ///    stable_how  committed;
    ///    writeverf3  verf;
    /// };
    /// ```
    pub struct WriteResOk {
        /// Weak cache consistency data of the file.
        pub file_wcc: WccData,
        /// Bytes written.
        pub count: u32,
        /// Durability achieved (≥ the one asked for).
        pub committed: StableHow,
        /// Write verifier (changes when uncommitted data may have been lost).
        pub verf: Writeverf3,
    }
}

xdr_struct! {
    /// ```text
    /// struct WRITE3resfail {
    ///    wcc_data    file_wcc;
    /// };
    /// ```
    pub struct WriteResFail {
        /// Weak cache consistency data of the file.
        pub file_wcc: WccData,
    }
}

/// `WRITE3res`.
pub type WriteRes = NfsRes<WriteResOk, WriteResFail>;

// ---------------------------------------------------------------- CREATE

xdr_struct! {
    /// ```text
    /// struct CREATE3args {
    ///    diropargs3   where;
    ///    createhow3   how;
    /// };
    /// ```
    pub struct CreateArgs {
        /// `where` (a Rust keyword): directory and name.
        pub where_: DirOpArgs3,
        /// How to create.
        pub how: CreateHow3,
    }
}

xdr_struct! {
    /// Success body of CREATE, MKDIR, SYMLINK and MKNOD (identical in RFC 1813).
    ///
    /// ```text
    /// struct CREATE3resok {
    ///    post_op_fh3   obj;
    ///    post_op_attr  obj_attributes;
    ///    wcc_data      dir_wcc;
    /// };
    /// ```
    pub struct CreateResOk {
        /// Handle of the new object.
        pub obj: PostOpFh3,
        /// Its attributes.
        pub obj_attributes: PostOpAttr,
        /// Weak cache consistency data of the directory.
        pub dir_wcc: WccData,
    }
}

xdr_struct! {
    /// Failure body of CREATE, MKDIR, SYMLINK and MKNOD.
    ///
    /// ```text
    /// struct CREATE3resfail {
    ///    wcc_data      dir_wcc;
    /// };
    /// ```
    pub struct CreateResFail {
        /// Weak cache consistency data of the directory.
        pub dir_wcc: WccData,
    }
}

/// `CREATE3res`.
pub type CreateRes = NfsRes<CreateResOk, CreateResFail>;

// ---------------------------------------------------------------- MKDIR

xdr_struct! {
    /// ```text
    /// struct MKDIR3args {
    ///    diropargs3   where;
    ///    sattr3       attributes;
    /// };
    /// ```
    pub struct MkdirArgs {
        /// `where`: directory and name.
        pub where_: DirOpArgs3,
        /// Initial attributes.
        pub attributes: Sattr3,
    }
}

/// `MKDIR3resok` (same fields as [`CreateResOk`]).
pub type MkdirResOk = CreateResOk;
/// `MKDIR3resfail` (same fields as [`CreateResFail`]).
pub type MkdirResFail = CreateResFail;
/// `MKDIR3res`.
pub type MkdirRes = NfsRes<MkdirResOk, MkdirResFail>;

// ---------------------------------------------------------------- SYMLINK

xdr_struct! {
    /// ```text
    /// struct symlinkdata3 {
    ///    sattr3    symlink_attributes;
    ///    nfspath3  symlink_data;
    /// };
    /// ```
    pub struct SymlinkData3 {
        /// Initial attributes.
        pub symlink_attributes: Sattr3,
        /// Target (≤ [`PATH_DECODE_MAX_BYTES`] on decode).
        pub symlink_data: Vec<u8> [nfspath3],
    }
}

xdr_struct! {
    /// ```text
    /// struct SYMLINK3args {
    ///    diropargs3    where;
    ///    symlinkdata3  symlink;
    /// };
    /// ```
    pub struct SymlinkArgs {
        /// `where`: directory and name.
        pub where_: DirOpArgs3,
        /// Attributes and target.
        pub symlink: SymlinkData3,
    }
}

/// `SYMLINK3resok` (same fields as [`CreateResOk`]).
pub type SymlinkResOk = CreateResOk;
/// `SYMLINK3resfail` (same fields as [`CreateResFail`]).
pub type SymlinkResFail = CreateResFail;
/// `SYMLINK3res`.
pub type SymlinkRes = NfsRes<SymlinkResOk, SymlinkResFail>;

// ---------------------------------------------------------------- MKNOD

xdr_struct! {
    /// ```text
    /// struct MKNOD3args {
    ///    diropargs3   where;
    ///    mknoddata3   what;
    /// };
    /// ```
    pub struct MknodArgs {
        /// `where`: directory and name.
        pub where_: DirOpArgs3,
        /// Type and attributes of the node.
        pub what: MknodData3,
    }
}

/// `MKNOD3resok` (same fields as [`CreateResOk`]).
pub type MknodResOk = CreateResOk;
/// `MKNOD3resfail` (same fields as [`CreateResFail`]).
pub type MknodResFail = CreateResFail;
/// `MKNOD3res`.
pub type MknodRes = NfsRes<MknodResOk, MknodResFail>;

// ---------------------------------------------------------------- REMOVE / RMDIR

xdr_struct! {
    /// ```text
    /// struct REMOVE3args {
    ///    diropargs3  object;
    /// };
    /// ```
    pub struct RemoveArgs {
        /// Directory and name.
        pub object: DirOpArgs3,
    }
}

xdr_struct! {
    /// ```text
    /// struct RMDIR3args {
    ///    diropargs3  object;
    /// };
    /// ```
    pub struct RmdirArgs {
        /// Directory and name.
        pub object: DirOpArgs3,
    }
}

xdr_struct! {
    /// Success and failure body of REMOVE and RMDIR.
    ///
    /// ```text
    /// struct REMOVE3resok {
    ///    wcc_data    dir_wcc;
    /// };
    /// struct REMOVE3resfail {
    ///    wcc_data    dir_wcc;
    /// };
    /// ```
    /// (`RMDIR3resok` and `RMDIR3resfail` are the same.)
    pub struct DirWcc {
        /// Weak cache consistency data of the directory.
        pub dir_wcc: WccData,
    }
}

/// `REMOVE3resok`.
pub type RemoveResOk = DirWcc;
/// `REMOVE3resfail`.
pub type RemoveResFail = DirWcc;
/// `REMOVE3res`.
pub type RemoveRes = NfsRes<RemoveResOk, RemoveResFail>;
/// `RMDIR3resok`.
pub type RmdirResOk = DirWcc;
/// `RMDIR3resfail`.
pub type RmdirResFail = DirWcc;
/// `RMDIR3res`.
pub type RmdirRes = NfsRes<RmdirResOk, RmdirResFail>;

// ---------------------------------------------------------------- RENAME

xdr_struct! {
    /// ```text
    /// struct RENAME3args {
    ///    diropargs3   from;
    ///    diropargs3   to;
    /// };
    /// ```
    pub struct RenameArgs {
        /// Source directory and name.
        pub from: DirOpArgs3,
        /// Target directory and name.
        pub to: DirOpArgs3,
    }
}

xdr_struct! {
    /// Success and failure body of RENAME.
    ///
    /// ```text
    /// struct RENAME3resok {
    ///    wcc_data     fromdir_wcc;
    ///    wcc_data     todir_wcc;
    /// };
    /// ```
    /// (`RENAME3resfail` is the same.)
    pub struct RenameWcc {
        /// Weak cache consistency data of the source directory.
        pub fromdir_wcc: WccData,
        /// Weak cache consistency data of the target directory.
        pub todir_wcc: WccData,
    }
}

/// `RENAME3resok`.
pub type RenameResOk = RenameWcc;
/// `RENAME3resfail`.
pub type RenameResFail = RenameWcc;
/// `RENAME3res`.
pub type RenameRes = NfsRes<RenameResOk, RenameResFail>;

// ---------------------------------------------------------------- LINK

xdr_struct! {
    /// ```text
    /// struct LINK3args {
    ///    nfs_fh3     file;
    ///    diropargs3  link;
    /// };
    /// ```
    pub struct LinkArgs {
        /// The existing file.
        pub file: NfsFh3,
        /// Directory and name of the new link.
        pub link: DirOpArgs3,
    }
}

xdr_struct! {
    /// Success and failure body of LINK.
    ///
    /// ```text
    /// struct LINK3resok {
    ///    post_op_attr   file_attributes;
    ///    wcc_data       linkdir_wcc;
    /// };
    /// ```
    /// (`LINK3resfail` is the same.)
    pub struct LinkWcc {
        /// The file's attributes.
        pub file_attributes: PostOpAttr,
        /// Weak cache consistency data of the link's directory.
        pub linkdir_wcc: WccData,
    }
}

/// `LINK3resok`.
pub type LinkResOk = LinkWcc;
/// `LINK3resfail`.
pub type LinkResFail = LinkWcc;
/// `LINK3res`.
pub type LinkRes = NfsRes<LinkResOk, LinkResFail>;

// ---------------------------------------------------------------- READDIR

xdr_struct! {
    /// ```text
    /// struct READDIR3args {
    ///    nfs_fh3      dir;
    ///    cookie3      cookie;
    ///    cookieverf3  cookieverf;
    ///    count3       count;
    /// };
    /// ```
    pub struct ReaddirArgs {
        /// The directory.
        pub dir: NfsFh3,
        /// Where to resume (0: from the start).
        pub cookie: u64,
        /// Verifier returned with `cookie`.
        pub cookieverf: Cookieverf3,
        /// Maximum size of the whole READDIR3resok in bytes.
        pub count: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct entry3 {
    ///    fileid3      fileid;
    ///    filename3    name;
    ///    cookie3      cookie;
    ///    entry3       *nextentry;
    /// };
    /// ```
    pub struct Entry3 {
        /// File id.
        pub fileid: u64,
        /// Name.
        pub name: Vec<u8> [filename3],
        /// Cookie to resume after this entry.
        pub cookie: u64,
    }
}

impl Entry3 {
    /// Encoded size of this entry in a READDIR reply, including its
    /// `value_follows` word.
    pub fn encoded_len(&self) -> usize {
        4 + 8 + opaque_len(self.name.len()) + 8
    }
}

/// ```text
/// struct dirlist3 {
///    entry3       *entries;
///    bool         eof;
/// };
///
/// struct READDIR3resok {
///    post_op_attr dir_attributes;
///    cookieverf3  cookieverf;
///    dirlist3     reply;
/// };
/// ```
/// Encodes to [`READDIR3_RES_OK_FIXED_LEN`] − 4 (status) + Σ
/// [`Entry3::encoded_len`] when `dir_attributes` is present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaddirResOk {
    /// The directory's attributes.
    pub dir_attributes: PostOpAttr,
    /// Verifier for the cookies.
    pub cookieverf: Cookieverf3,
    /// `reply.entries`.
    pub entries: Vec<Entry3>,
    /// `reply.eof`.
    pub eof: bool,
}

impl<'a> XdrDecode<'a> for ReaddirResOk {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(ReaddirResOk {
            dir_attributes: PostOpAttr::decode(d)?,
            cookieverf: Cookieverf3::decode(d)?,
            entries: decode_list(d, DIR_ENTRIES_DECODE_MAX)?,
            eof: d.bool()?,
        })
    }
}
impl XdrEncode for ReaddirResOk {
    fn encode(&self, e: &mut Encoder) {
        self.dir_attributes.encode(e);
        self.cookieverf.encode(e);
        encode_list(e, &self.entries);
        e.put_bool(self.eof);
    }
}

xdr_struct! {
    /// ```text
    /// struct READDIR3resfail {
    ///    post_op_attr dir_attributes;
    /// };
    /// ```
    pub struct ReaddirResFail {
        /// The directory's attributes.
        pub dir_attributes: PostOpAttr,
    }
}

/// `READDIR3res`.
pub type ReaddirRes = NfsRes<ReaddirResOk, ReaddirResFail>;

// ---------------------------------------------------------------- READDIRPLUS

xdr_struct! {
    /// ```text
    /// struct READDIRPLUS3args {
    ///    nfs_fh3      dir;
    ///    cookie3      cookie;
    ///    cookieverf3  cookieverf;
    ///    count3       dircount;
    ///    count3       maxcount;
    /// };
    /// ```
    pub struct ReaddirplusArgs {
        /// The directory.
        pub dir: NfsFh3,
        /// Where to resume (0: from the start).
        pub cookie: u64,
        /// Verifier returned with `cookie`.
        pub cookieverf: Cookieverf3,
        /// Maximum bytes of directory information (fileid, name, cookie).
        pub dircount: u32,
        /// Maximum size of the whole READDIRPLUS3resok in bytes.
        pub maxcount: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct entryplus3 {
    ///    fileid3      fileid;
    ///    filename3    name;
    ///    cookie3      cookie;
    ///    post_op_attr name_attributes;
    ///    post_op_fh3  name_handle;
    ///    entryplus3   *nextentry;
    /// };
    /// ```
    pub struct Entryplus3 {
        /// File id.
        pub fileid: u64,
        /// Name.
        pub name: Vec<u8> [filename3],
        /// Cookie to resume after this entry.
        pub cookie: u64,
        /// The entry's attributes.
        pub name_attributes: PostOpAttr,
        /// The entry's handle.
        pub name_handle: PostOpFh3,
    }
}

impl Entryplus3 {
    /// Encoded size of this entry in a READDIRPLUS reply, including its
    /// `value_follows` word: what counts against `maxcount`.
    pub fn encoded_len(&self) -> usize {
        4 + 8
            + opaque_len(self.name.len())
            + 8
            + self.name_attributes.encoded_len()
            + self.name_handle.encoded_len()
    }

    /// The directory-information part (fileid, name, cookie, and the
    /// `value_follows` word) that counts against `dircount` (RFC 1813
    /// §3.3.17); equals the [`Entry3::encoded_len`] of the same name.
    pub fn dircount_len(&self) -> usize {
        4 + 8 + opaque_len(self.name.len()) + 8
    }
}

/// ```text
/// struct dirlistplus3 {
///    entryplus3   *entries;
///    bool         eof;
/// };
///
/// struct READDIRPLUS3resok {
///    post_op_attr dir_attributes;
///    cookieverf3  cookieverf;
///    dirlistplus3 reply;
/// };
/// ```
/// Encodes to [`READDIR3_RES_OK_FIXED_LEN`] − 4 (status) + Σ
/// [`Entryplus3::encoded_len`] when `dir_attributes` is present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaddirplusResOk {
    /// The directory's attributes.
    pub dir_attributes: PostOpAttr,
    /// Verifier for the cookies.
    pub cookieverf: Cookieverf3,
    /// `reply.entries`.
    pub entries: Vec<Entryplus3>,
    /// `reply.eof`.
    pub eof: bool,
}

impl<'a> XdrDecode<'a> for ReaddirplusResOk {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(ReaddirplusResOk {
            dir_attributes: PostOpAttr::decode(d)?,
            cookieverf: Cookieverf3::decode(d)?,
            entries: decode_list(d, DIR_ENTRIES_DECODE_MAX)?,
            eof: d.bool()?,
        })
    }
}
impl XdrEncode for ReaddirplusResOk {
    fn encode(&self, e: &mut Encoder) {
        self.dir_attributes.encode(e);
        self.cookieverf.encode(e);
        encode_list(e, &self.entries);
        e.put_bool(self.eof);
    }
}

xdr_struct! {
    /// ```text
    /// struct READDIRPLUS3resfail {
    ///    post_op_attr dir_attributes;
    /// };
    /// ```
    pub struct ReaddirplusResFail {
        /// The directory's attributes.
        pub dir_attributes: PostOpAttr,
    }
}

/// `READDIRPLUS3res`.
pub type ReaddirplusRes = NfsRes<ReaddirplusResOk, ReaddirplusResFail>;

// ---------------------------------------------------------------- FSSTAT / FSINFO / PATHCONF

xdr_struct! {
    /// ```text
    /// struct FSSTAT3args {
    ///    nfs_fh3   fsroot;
    /// };
    /// ```
    pub struct FsstatArgs {
        /// Any handle in the file system.
        pub fsroot: NfsFh3,
    }
}

xdr_struct! {
    /// ```text
    /// struct FSSTAT3resok {
    ///    post_op_attr obj_attributes;
    ///    size3        tbytes;
    ///    size3        fbytes;
    ///    size3        abytes;
    ///    size3        tfiles;
    ///    size3        ffiles;
    ///    size3        afiles;
    ///    uint32       invarsec;
    /// };
    /// ```
    pub struct FsstatResOk {
        /// The object's attributes.
        pub obj_attributes: PostOpAttr,
        /// Total bytes.
        pub tbytes: u64,
        /// Free bytes.
        pub fbytes: u64,
        /// Free bytes available to the caller.
        pub abytes: u64,
        /// Total file slots.
        pub tfiles: u64,
        /// Free file slots.
        pub ffiles: u64,
        /// Free file slots available to the caller.
        pub afiles: u64,
        /// Seconds for which the values will not change.
        pub invarsec: u32,
    }
}

xdr_struct! {
    /// Failure body of FSSTAT, FSINFO and PATHCONF.
    ///
    /// ```text
    /// struct FSSTAT3resfail {
    ///    post_op_attr obj_attributes;
    /// };
    /// ```
    /// (`FSINFO3resfail` and `PATHCONF3resfail` are the same.)
    pub struct ObjAttrFail {
        /// The object's attributes.
        pub obj_attributes: PostOpAttr,
    }
}

/// `FSSTAT3resfail`.
pub type FsstatResFail = ObjAttrFail;
/// `FSSTAT3res`.
pub type FsstatRes = NfsRes<FsstatResOk, FsstatResFail>;

xdr_struct! {
    /// ```text
    /// struct FSINFO3args {
    ///    nfs_fh3   fsroot;
    /// };
    /// ```
    pub struct FsinfoArgs {
        /// The root handle of the file system.
        pub fsroot: NfsFh3,
    }
}

xdr_struct! {
    /// ```text
    /// struct FSINFO3resok {
    ///    post_op_attr obj_attributes;
    ///    uint32       rtmax;
    ///    uint32       rtpref;
    ///    uint32       rtmult;
    ///    uint32       wtmax;
    ///    uint32       wtpref;
    ///    uint32       wtmult;
    ///    uint32       dtpref;
    ///    size3        maxfilesize;
    ///    nfstime3     time_delta;
    ///    uint32       properties;
    /// };
    /// ```
    pub struct FsinfoResOk {
        /// The object's attributes.
        pub obj_attributes: PostOpAttr,
        /// Maximum READ size.
        pub rtmax: u32,
        /// Preferred READ size.
        pub rtpref: u32,
        /// Suggested READ multiple.
        pub rtmult: u32,
        /// Maximum WRITE size.
        pub wtmax: u32,
        /// Preferred WRITE size.
        pub wtpref: u32,
        /// Suggested WRITE multiple.
        pub wtmult: u32,
        /// Preferred READDIR size.
        pub dtpref: u32,
        /// Maximum file size.
        pub maxfilesize: u64,
        /// Server time granularity.
        pub time_delta: Nfstime3,
        /// `FSF3_*` bits.
        pub properties: u32,
    }
}

/// `FSINFO3resfail`.
pub type FsinfoResFail = ObjAttrFail;
/// `FSINFO3res`.
pub type FsinfoRes = NfsRes<FsinfoResOk, FsinfoResFail>;

xdr_struct! {
    /// ```text
    /// struct PATHCONF3args {
    ///    nfs_fh3   object;
    /// };
    /// ```
    pub struct PathconfArgs {
        /// The object.
        pub object: NfsFh3,
    }
}

xdr_struct! {
    /// ```text
    /// struct PATHCONF3resok {
    ///    post_op_attr obj_attributes;
    ///    uint32       linkmax;
    ///    uint32       name_max;
    ///    bool         no_trunc;
    ///    bool         chown_restricted;
    ///    bool         case_insensitive;
    ///    bool         case_preserving;
    /// };
    /// ```
    pub struct PathconfResOk {
        /// The object's attributes.
        pub obj_attributes: PostOpAttr,
        /// Maximum number of hard links.
        pub linkmax: u32,
        /// Maximum name length.
        pub name_max: u32,
        /// Long names are rejected rather than truncated.
        pub no_trunc: bool,
        /// Only root may change the owner.
        pub chown_restricted: bool,
        /// Names are case insensitive.
        pub case_insensitive: bool,
        /// Case is preserved.
        pub case_preserving: bool,
    }
}

/// `PATHCONF3resfail`.
pub type PathconfResFail = ObjAttrFail;
/// `PATHCONF3res`.
pub type PathconfRes = NfsRes<PathconfResOk, PathconfResFail>;

// ---------------------------------------------------------------- COMMIT

xdr_struct! {
    /// ```text
    /// struct COMMIT3args {
    ///    nfs_fh3    file;
    ///    offset3    offset;
    ///    count3     count;
    /// };
    /// ```
    pub struct CommitArgs {
        /// The file.
        pub file: NfsFh3,
        /// Start of the range (0 with count 0: the whole file).
        pub offset: u64,
        /// Length of the range (0: to the end).
        pub count: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct COMMIT3resok {
    ///    wcc_data   file_wcc;
    ///    writeverf3 verf;
    /// };
    /// ```
    pub struct CommitResOk {
        /// Weak cache consistency data of the file.
        pub file_wcc: WccData,
        /// Write verifier.
        pub verf: Writeverf3,
    }
}

xdr_struct! {
    /// ```text
    /// struct COMMIT3resfail {
    ///    wcc_data   file_wcc;
    /// };
    /// ```
    pub struct CommitResFail {
        /// Weak cache consistency data of the file.
        pub file_wcc: WccData,
    }
}

/// `COMMIT3res`.
pub type CommitRes = NfsRes<CommitResOk, CommitResFail>;
