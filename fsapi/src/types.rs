//! Id newtypes, attributes and the request/reply shapes of [`crate::ClusterFs`].

use crate::error::{FsError, FsResult};

/// Longest file name, in bytes (RFC 1813 PATHCONF `name_max`).
pub const NAME_MAX_BYTES: usize = 255;
/// Longest symbolic link target, in bytes.
pub const SYMLINK_TARGET_MAX_BYTES: usize = 4096;
/// Largest file size the backends accept (2^63 - 1, what `off_t` can name).
pub const FILE_SIZE_MAX_BYTES: u64 = i64::MAX as u64;

/// An inode number. Allocated by the metadata state machine, never reused
/// within a cluster (DESIGN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InodeId(pub u64);

impl InodeId {
    /// The root directory of the namespace.
    pub const ROOT: InodeId = InodeId(1);
}

/// A snapshot id; `SnapshotId::LIVE` (0) is the live, writable tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnapshotId(pub u64);

impl SnapshotId {
    /// The live tree.
    pub const LIVE: SnapshotId = SnapshotId(0);
}

/// An epoch of the namespace (DESIGN.md §3). Every metadata version is tagged
/// with the epoch it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Epoch(pub u64);

/// Distinguishes successive lives of an inode number; part of the handle so a
/// handle to a deleted object is recognised as stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Generation(pub u64);

/// The backend's name of one object, the payload of a file handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileRef {
    pub snapshot: SnapshotId,
    pub ino: InodeId,
    pub generation: Generation,
}

/// Object type (RFC 1813 `ftype3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    Regular,
    Directory,
    BlockDevice,
    CharDevice,
    Symlink,
    Socket,
    Fifo,
}

/// Seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanos: u32,
}

/// Attributes of an object (the union of what `fattr3` and `fattr4` need).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub ftype: FileType,
    /// Permission bits including setuid (0o4000), setgid (0o2000), sticky (0o1000).
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// Bytes of storage used.
    pub used: u64,
    /// Device numbers for block and character devices.
    pub rdev: (u32, u32),
    pub ino: InodeId,
    pub generation: Generation,
    pub atime: Timestamp,
    pub mtime: Timestamp,
    pub ctime: Timestamp,
    /// Moves on every change of the object (NFSv4 `change`).
    pub change: u64,
}

/// How to set a time (RFC 1813 `set_atime`/`set_mtime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetTime {
    #[default]
    DontChange,
    ServerTime,
    ClientTime(Timestamp),
}

/// Attributes to change (RFC 1813 `sattr3`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: SetTime,
    pub mtime: SetTime,
}

impl SetAttr {
    /// True when nothing is to change.
    pub fn is_empty(&self) -> bool {
        *self == SetAttr::default()
    }
}

/// The caller, after export squashing (AUTH_SYS: uid, gid, up to 16 groups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

impl Credentials {
    /// The superuser.
    pub fn root() -> Self {
        Credentials { uid: 0, gid: 0, groups: Vec::new() }
    }

    /// True when the caller is in group `gid` (primary or supplementary).
    pub fn in_group(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }
}

/// ACCESS bits (RFC 1813 §3.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccessMask(pub u32);

impl AccessMask {
    pub const READ: u32 = 0x0001;
    pub const LOOKUP: u32 = 0x0002;
    pub const MODIFY: u32 = 0x0004;
    pub const EXTEND: u32 = 0x0008;
    pub const DELETE: u32 = 0x0010;
    pub const EXECUTE: u32 = 0x0020;
    pub const ALL: u32 = 0x003f;
}

/// How durable a WRITE must be before its reply (RFC 1813 `stable_how`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stability {
    Unstable,
    DataSync,
    FileSync,
}

/// Changes whenever data acknowledged UNSTABLE may have been lost
/// (RFC 1813 §3.3.7 `writeverf3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WriteVerifier(pub [u8; 8]);

/// The state of an object before a change, for weak cache consistency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WccAttr {
    pub size: u64,
    pub mtime: Timestamp,
    pub ctime: Timestamp,
}

impl From<&Attr> for WccAttr {
    fn from(a: &Attr) -> Self {
        WccAttr { size: a.size, mtime: a.mtime, ctime: a.ctime }
    }
}

/// Before/after attributes of the object a change was made to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Wcc {
    pub before: Option<WccAttr>,
    pub after: Option<Attr>,
}

/// A reply together with the wcc data of the directory (or file) changed.
/// On error the front end still wants wcc data when it is known, so errors
/// travel as [`FsError`] and wcc is best effort on success only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WccReply<T> {
    pub value: T,
    pub wcc: Wcc,
}

/// What READ returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReply {
    pub data: Vec<u8>,
    pub eof: bool,
    pub attr: Attr,
}

/// What WRITE returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteReply {
    pub count: u32,
    pub committed: Stability,
    pub verifier: WriteVerifier,
}

/// How to create a regular file (RFC 1813 `createhow3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateHow {
    /// Create, or truncate per `attrs.size` if it exists.
    Unchecked(SetAttr),
    /// Fail with [`FsError::Exists`] if it exists.
    Guarded(SetAttr),
    /// Exclusive create: an existing file created with the same verifier is
    /// this call's retransmission and is returned as success.
    Exclusive([u8; 8]),
}

/// Special files for MKNOD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialKind {
    Fifo,
    Socket,
    CharDevice(u32, u32),
    BlockDevice(u32, u32),
}

impl SpecialKind {
    /// The object type this creates.
    pub fn file_type(self) -> FileType {
        match self {
            SpecialKind::Fifo => FileType::Fifo,
            SpecialKind::Socket => FileType::Socket,
            SpecialKind::CharDevice(..) => FileType::CharDevice,
            SpecialKind::BlockDevice(..) => FileType::BlockDevice,
        }
    }
}

/// RENAME's wcc data for both directories.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RenameReply {
    pub from_dir: Wcc,
    pub to_dir: Wcc,
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: Vec<u8>,
    pub cookie: u64,
    pub file: FileRef,
    /// Present when asked for (READDIRPLUS).
    pub attr: Option<Attr>,
}

/// A batch of directory entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadDirReply {
    pub entries: Vec<DirEntry>,
    pub eof: bool,
    pub dir_attr: Attr,
    /// Cookie verifier (RFC 1813 §3.3.16). Cookies stay valid across changes,
    /// so this only changes when the directory itself is replaced.
    pub verifier: [u8; 8],
}

/// File system statistics (RFC 1813 FSSTAT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsStat {
    pub total_bytes: u64,
    pub free_bytes: u64,
    pub avail_bytes: u64,
    pub total_files: u64,
    pub free_files: u64,
    pub avail_files: u64,
}

/// Check a name that is to be created or looked up as a component:
/// not empty, at most [`NAME_MAX_BYTES`], no `/` and no NUL
/// (RFC 1813 §3.3.8 / §2.5, RFC 7530 §12.7).
pub fn validate_name(name: &[u8]) -> FsResult<()> {
    if name.is_empty() {
        return Err(FsError::Invalid("empty name"));
    }
    if name.len() > NAME_MAX_BYTES {
        return Err(FsError::NameTooLong);
    }
    if name.iter().any(|&b| b == b'/' || b == 0) {
        return Err(FsError::Invalid("name contains '/' or NUL"));
    }
    Ok(())
}

/// Check a name that is to become a new directory entry: also refuses `.` and `..`.
pub fn validate_new_name(name: &[u8]) -> FsResult<()> {
    validate_name(name)?;
    if name == b"." || name == b".." {
        return Err(FsError::Exists);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rfc_limits() {
        assert!(validate_name(b"a").is_ok());
        assert!(validate_name(&[b'x'; 255]).is_ok());
        assert_eq!(validate_name(&[b'x'; 256]), Err(FsError::NameTooLong));
        assert!(matches!(validate_name(b"a/b"), Err(FsError::Invalid(_))));
        assert!(matches!(validate_name(b"a\0b"), Err(FsError::Invalid(_))));
        assert!(matches!(validate_name(b""), Err(FsError::Invalid(_))));
        assert_eq!(validate_new_name(b".."), Err(FsError::Exists));
    }
}

/// How SETXATTR treats an existing attribute (RFC 8276 §8.4.2, setxattr(2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XattrSet {
    /// Create or replace.
    Either,
    /// Fail with [`crate::FsError::Exists`] when it exists.
    Create,
    /// Fail with [`crate::FsError::NoXattr`] when it does not.
    Replace,
}

/// Longest extended attribute value (Linux's XATTR_SIZE_MAX).
pub const XATTR_VALUE_MAX_BYTES: usize = 64 * 1024;
/// Extended attributes on one object at most.
pub const XATTRS_PER_FILE_MAX: usize = 1024;
