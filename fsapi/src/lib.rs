//! `fsapi`: the one contract between the NFS front end and the cluster.
//!
//! Owns the [`ClusterFs`] trait, the id newtypes, attributes, credentials and
//! the protocol-neutral error type. Everything above (the NFSv3 and NFSv4
//! handlers) speaks only this vocabulary; everything below (metadata, chunks,
//! later Raft) implements it.
//!
//! Must not: depend on any crate of the workspace, do I/O, read a clock, or
//! know about XDR or Raft. It is pure vocabulary plus pure helper rules
//! (permission checks, name validation) that every backend must apply alike.
//!
//! Invariants:
//! - every call carries the caller's [`Credentials`] *after* export squashing;
//!   the backend enforces permissions with [`access::may`] and friends.
//! - [`FsError`] is protocol neutral; it is mapped to `nfsstat3`/`nfsstat4`
//!   in exactly one place in the front end.

#![forbid(unsafe_code)]

pub mod access;
mod error;
pub mod ranges;
mod types;

pub use error::{FsError, FsResult};
pub use types::*;

use std::future::Future;

/// The file system the NFS front end serves. Handle based: every object is
/// named by a [`FileRef`], which the front end turns into an opaque, MACed
/// file handle.
///
/// All methods take the caller's credentials and check permissions
/// themselves (RFC 1813 §4.4: the server enforces access, the client's
/// ACCESS answer is advisory).
pub trait ClusterFs: Send + Sync + 'static {
    /// The root directory of the namespace.
    fn root(&self) -> FileRef;

    /// Attributes of `file` (GETATTR). No permission needed.
    fn getattr(&self, file: FileRef) -> impl Future<Output = FsResult<Attr>> + Send;

    /// Change attributes (SETATTR). `guard_ctime`: RFC 1813 §3.3.2 sattrguard3,
    /// fail with [`FsError::NotSync`] when the object's ctime differs.
    fn setattr(
        &self,
        cred: &Credentials,
        file: FileRef,
        set: SetAttr,
        guard_ctime: Option<Timestamp>,
    ) -> impl Future<Output = FsResult<WccReply<()>>> + Send;

    /// Look `name` up in `dir` (LOOKUP). Needs search (x) on `dir`.
    /// `.` and `..` are resolved here too.
    fn lookup(
        &self,
        cred: &Credentials,
        dir: FileRef,
        name: &[u8],
    ) -> impl Future<Output = FsResult<(FileRef, Attr)>> + Send;

    /// What `cred` may do with `file`, out of `wanted` (ACCESS, RFC 1813 §3.3.4).
    fn access(
        &self,
        cred: &Credentials,
        file: FileRef,
        wanted: AccessMask,
    ) -> impl Future<Output = FsResult<(AccessMask, Attr)>> + Send;

    /// The target of a symbolic link (READLINK).
    fn readlink(
        &self,
        cred: &Credentials,
        file: FileRef,
    ) -> impl Future<Output = FsResult<(Vec<u8>, Attr)>> + Send;

    /// Read up to `count` bytes at `offset` (READ). Returns the data, whether
    /// the end of file was reached, and post-op attributes.
    fn read(
        &self,
        cred: &Credentials,
        file: FileRef,
        offset: u64,
        count: u32,
    ) -> impl Future<Output = FsResult<ReadReply>> + Send;

    /// Write `data` at `offset` (WRITE) with the requested stability.
    /// Takes the buffer by value so the backend can hand it to another
    /// thread or node without a copy.
    fn write(
        &self,
        cred: &Credentials,
        file: FileRef,
        offset: u64,
        data: Vec<u8>,
        stable: Stability,
    ) -> impl Future<Output = FsResult<WccReply<WriteReply>>> + Send;

    /// Make everything written to `file` durable (COMMIT). `offset`/`count`
    /// may be used to narrow the range; committing more is always allowed.
    fn commit(
        &self,
        cred: &Credentials,
        file: FileRef,
        offset: u64,
        count: u32,
    ) -> impl Future<Output = FsResult<WccReply<WriteVerifier>>> + Send;

    /// Create a regular file (CREATE).
    fn create(
        &self,
        cred: &Credentials,
        dir: FileRef,
        name: &[u8],
        how: CreateHow,
    ) -> impl Future<Output = FsResult<WccReply<(FileRef, Attr)>>> + Send;

    /// Create a directory (MKDIR).
    fn mkdir(
        &self,
        cred: &Credentials,
        dir: FileRef,
        name: &[u8],
        attrs: SetAttr,
    ) -> impl Future<Output = FsResult<WccReply<(FileRef, Attr)>>> + Send;

    /// Create a symbolic link (SYMLINK).
    fn symlink(
        &self,
        cred: &Credentials,
        dir: FileRef,
        name: &[u8],
        target: &[u8],
        attrs: SetAttr,
    ) -> impl Future<Output = FsResult<WccReply<(FileRef, Attr)>>> + Send;

    /// Create a special file (MKNOD): FIFO, socket, character or block device.
    fn mknod(
        &self,
        cred: &Credentials,
        dir: FileRef,
        name: &[u8],
        kind: SpecialKind,
        attrs: SetAttr,
    ) -> impl Future<Output = FsResult<WccReply<(FileRef, Attr)>>> + Send;

    /// Remove a non-directory (REMOVE).
    fn remove(
        &self,
        cred: &Credentials,
        dir: FileRef,
        name: &[u8],
    ) -> impl Future<Output = FsResult<WccReply<()>>> + Send;

    /// Remove an empty directory (RMDIR).
    fn rmdir(
        &self,
        cred: &Credentials,
        dir: FileRef,
        name: &[u8],
    ) -> impl Future<Output = FsResult<WccReply<()>>> + Send;

    /// Rename (RENAME). Returns the wcc data of both directories.
    fn rename(
        &self,
        cred: &Credentials,
        from_dir: FileRef,
        from_name: &[u8],
        to_dir: FileRef,
        to_name: &[u8],
    ) -> impl Future<Output = FsResult<RenameReply>> + Send;

    /// Make `name` in `dir` a new hard link to `file` (LINK).
    fn link(
        &self,
        cred: &Credentials,
        file: FileRef,
        dir: FileRef,
        name: &[u8],
    ) -> impl Future<Output = FsResult<WccReply<Attr>>> + Send;

    /// List `dir` from `cookie` (READDIR / READDIRPLUS). Cookies are stable
    /// across changes of the directory: an entry keeps its cookie for its
    /// whole life, so a listing interrupted by changes neither skips nor
    /// repeats entries that were present throughout.
    fn readdir(
        &self,
        cred: &Credentials,
        dir: FileRef,
        cookie: u64,
        max_entries: usize,
        with_attrs: bool,
    ) -> impl Future<Output = FsResult<ReadDirReply>> + Send;

    /// File system statistics (FSSTAT).
    fn fsstat(&self, file: FileRef) -> impl Future<Output = FsResult<(FsStat, Attr)>> + Send;

    /// The verifier that changes whenever unstable writes may have been lost.
    fn write_verifier(&self) -> WriteVerifier;

    /// Make every acknowledged change durable and stop accepting work.
    fn shutdown(&self) -> impl Future<Output = FsResult<()>> + Send;

    /// The value of extended attribute `name` (GETXATTR, RFC 8276 §8.4.1).
    /// Needs read permission.
    fn getxattr(
        &self,
        cred: &Credentials,
        file: FileRef,
        name: &[u8],
    ) -> impl Future<Output = FsResult<Vec<u8>>> + Send;

    /// Set extended attribute `name` (SETXATTR, RFC 8276 §8.4.2). Needs
    /// write permission; returns the attributes after.
    fn setxattr(
        &self,
        cred: &Credentials,
        file: FileRef,
        name: &[u8],
        value: Vec<u8>,
        how: XattrSet,
    ) -> impl Future<Output = FsResult<WccReply<()>>> + Send;

    /// Remove extended attribute `name` (REMOVEXATTR, RFC 8276 §8.4.4).
    fn removexattr(
        &self,
        cred: &Credentials,
        file: FileRef,
        name: &[u8],
    ) -> impl Future<Output = FsResult<WccReply<()>>> + Send;

    /// Names of the extended attributes of `file`, in name order
    /// (LISTXATTRS, RFC 8276 §8.4.3). Needs read permission.
    fn listxattrs(
        &self,
        cred: &Credentials,
        file: FileRef,
    ) -> impl Future<Output = FsResult<Vec<Vec<u8>>>> + Send;

    /// A client opened `file` (NFSv4 OPEN): until the matching
    /// [`ClusterFs::release`], removing its last name leaves it readable and
    /// writable through its handle (RFC 7530 §9.9: the server keeps a file
    /// that is open; NFSv3 clients silly-rename instead). Holds count.
    fn hold(&self, file: FileRef);

    /// The end of one [`ClusterFs::hold`] (CLOSE, or the client's state
    /// expired): when it was the last and the file has no name left, the
    /// file is freed now.
    fn release(&self, file: FileRef) -> impl Future<Output = ()> + Send;

    /// Arbitrate an NFSv4 byte-range lock operation across the nodes of a
    /// cluster (the lock state of one node's clients lives in its front
    /// end, which asks this after its own checks pass and before it
    /// commits, and after it released locks). The default grants
    /// everything: on a single server the front end's state is the whole
    /// truth.
    fn cluster_lock(
        &self,
        op: ranges::ClusterLockOp,
    ) -> impl Future<Output = FsResult<ranges::ClusterLockAnswer>> + Send {
        let _ = op;
        std::future::ready(Ok(ranges::ClusterLockAnswer::Granted))
    }
}
