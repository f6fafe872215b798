//! The protocol-neutral error of every [`crate::ClusterFs`] call.

/// Result of a file system call.
pub type FsResult<T> = Result<T, FsError>;

/// Why a file system call failed. Mapped to `nfsstat3`/`nfsstat4` in one
/// place in the front end; the variants follow POSIX errno meanings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsError {
    /// EPERM: not the owner, or not privileged for this operation.
    #[error("operation not permitted")]
    NotPermitted,
    /// ENOENT.
    #[error("no such file or directory")]
    NotFound,
    /// EIO: the stored data failed its checksum or the disk failed.
    #[error("I/O error: {0}")]
    Io(String),
    /// EACCES: permission bits deny the caller.
    #[error("permission denied")]
    AccessDenied,
    /// EEXIST.
    #[error("file exists")]
    Exists,
    /// EXDEV: the objects are in different file systems or snapshots.
    #[error("cross-device link")]
    CrossDevice,
    /// ENOTDIR.
    #[error("not a directory")]
    NotDir,
    /// EISDIR.
    #[error("is a directory")]
    IsDir,
    /// EINVAL, with what was wrong.
    #[error("invalid argument: {0}")]
    Invalid(&'static str),
    /// EFBIG.
    #[error("file too large")]
    FileTooLarge,
    /// ENOSPC.
    #[error("no space left on device")]
    NoSpace,
    /// EROFS: a read-only export or a snapshot.
    #[error("read-only file system")]
    ReadOnly,
    /// EMLINK.
    #[error("too many links")]
    TooManyLinks,
    /// ENAMETOOLONG.
    #[error("name too long")]
    NameTooLong,
    /// ENOTEMPTY.
    #[error("directory not empty")]
    NotEmpty,
    /// ESTALE: the object the handle named no longer exists.
    #[error("stale file handle")]
    Stale,
    /// The handle is not one this server issued.
    #[error("bad file handle")]
    BadHandle,
    /// A READDIR cookie that names no position.
    #[error("bad readdir cookie")]
    BadCookie,
    /// The guarded SETATTR's ctime did not match (RFC 1813 NFS3ERR_NOT_SYNC).
    #[error("guard ctime mismatch")]
    NotSync,
    /// The operation is not supported for this object or export.
    #[error("not supported")]
    NotSupported,
    /// The wrong type of object for the operation (e.g. READLINK of a file).
    #[error("bad object type")]
    BadType,
    /// Temporarily unable to serve; the client should retry later.
    #[error("try again later")]
    Jukebox,
    /// A fault in the server; logged where it happens.
    #[error("server fault: {0}")]
    ServerFault(String),
    /// ENODATA: no extended attribute of that name.
    #[error("no such extended attribute")]
    NoXattr,
    /// E2BIG: an extended attribute's name or value is over the limit.
    #[error("extended attribute too big")]
    XattrTooBig,
}
