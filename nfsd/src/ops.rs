//! The namespace operations of both back ends, written once.
//!
//! [`crate::local::LocalFs`] (one node: commands applied to the local
//! metadata store) and [`crate::cluster::ClusterNodeFs`] (commands proposed
//! through Raft, answered after this node's own apply) check permissions,
//! build [`meta::Command`]s and answer with wcc data alike; they differ in
//! how a command is applied, where the namespace is read, whether a node
//! may lag behind the others, and in the data path. [`Backend`] is that
//! difference; the functions here are the rest, and [`impl_cluster_fs`]
//! makes a [`Backend`] a [`fsapi::ClusterFs`].

use std::collections::HashMap;
use std::future::Future;

use fsapi::access::{self, R, W, X};
use fsapi::ranges::{ClusterLockAnswer, ClusterLockHolder, ClusterLockOp};
use fsapi::{
    AccessMask, Attr, CreateHow, Credentials, FileRef, FileType, FsError, FsResult, FsStat,
    Generation, InodeId, ReadDirReply, ReadReply, RenameReply, SetAttr, SnapshotId, SpecialKind,
    Stability, Timestamp, Wcc, WccAttr, WccReply, WriteReply, WriteVerifier,
};
use meta::{Applied, Command, CreateMode, InodeRecord, Meta, NewKind};

use crate::local::{chunk_error, generation_from, now, PendingWrites, READ_SIZE_MAX_BYTES};

/// What one back end does its own way; everything else is in this module.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Where this node reads the namespace.
    type Ns: Namespace + Sync;
    /// A WRITE kept inline (in the inode record) is durable once applied,
    /// whatever stability the client asked for.
    const INLINE_WRITES_DURABLE: bool;

    fn ns(&self) -> &Self::Ns;

    /// Apply a namespace change, durably, and act on its effects on file
    /// data (truncated files, freed inodes).
    fn apply(&self, cmd: Command) -> impl Future<Output = FsResult<Applied>> + Send;

    /// Apply the metadata of a data write (inline data, size and mtime):
    /// durable before it returns when `sync`.
    fn apply_write(
        &self,
        cmd: Command,
        sync: bool,
    ) -> impl Future<Output = FsResult<Applied>> + Send;

    /// Wait (bounded) until this node has applied what other nodes
    /// changed. False when there is nothing to wait for (a single node).
    fn catch_up(&self) -> impl Future<Output = bool> + Send;

    /// NOSPC when `need` more bytes must not be taken (creates ask for 0).
    fn check_space(&self, need: u64) -> FsResult<()>;

    /// Size and mtime of UNSTABLE writes not applied yet.
    fn pending(&self) -> &PendingWrites;

    /// Files held open by NFSv4 clients.
    fn held(&self) -> &Holds;

    /// Bytes allocated to a regular file of `size` bytes.
    fn used_bytes(&self, ino: InodeId, size: u64) -> u64;

    /// Chunk copies to record in the inode of a file created in `dir`
    /// (0: the node's default).
    fn replicas_for_new(&self, dir: InodeId) -> u8;

    /// Serialises the inline writes of `ino` and its move to chunk files.
    fn inline_lock(&self, ino: InodeId) -> &tokio::sync::Mutex<()>;

    /// Move an inline file's data into chunk files, durably, before the
    /// record says so.
    fn make_chunked(
        &self,
        ino: InodeId,
        rec: &InodeRecord,
    ) -> impl Future<Output = FsResult<()>> + Send;

    /// Read `n` bytes at `offset` of a chunked file.
    fn read_chunks(
        &self,
        ino: InodeId,
        rec: &InodeRecord,
        offset: u64,
        n: u64,
    ) -> impl Future<Output = FsResult<Vec<u8>>> + Send;

    /// Write `data` at `offset` of a chunked file (durably when `sync`).
    fn write_chunks(
        &self,
        ino: InodeId,
        rec: &InodeRecord,
        offset: u64,
        data: Vec<u8>,
        sync: bool,
    ) -> impl Future<Output = FsResult<()>> + Send;

    /// COMMIT: make the data written to `ino` and its coalesced size and
    /// mtime durable.
    fn commit_file(&self, ino: InodeId) -> impl Future<Output = FsResult<()>> + Send;

    /// This node's chunk files.
    fn chunk_store(&self) -> &chunks::ChunkStore;

    /// The write verifier ([`fsapi::ClusterFs::write_verifier`]).
    fn verifier(&self) -> WriteVerifier;

    /// [`fsapi::ClusterFs::shutdown`].
    fn stop(&self) -> impl Future<Output = FsResult<()>> + Send;

    /// (node id, incarnation) when byte-range locks are shared with other
    /// nodes through the namespace's lock table; `None` on a single server.
    fn lock_node(&self) -> Option<(u64, u64)> {
        None
    }
}

/// Implement [`fsapi::ClusterFs`] for a [`Backend`]: each method is the
/// function of the same name in this module.
macro_rules! impl_cluster_fs {
    ($t:ty) => {
        const _: () = {
            use fsapi::{
                AccessMask, Attr, ClusterFs, CreateHow, Credentials, FileRef, FsResult, FsStat,
                ReadDirReply, ReadReply, RenameReply, SetAttr, SpecialKind, Stability, Timestamp,
                WccReply, WriteReply, WriteVerifier, XattrSet,
            };
            use $crate::ops::{self, Backend};

            impl ClusterFs for $t {
                fn root(&self) -> FileRef {
                    ops::root()
                }

                fn write_verifier(&self) -> WriteVerifier {
                    Backend::verifier(self)
                }

                fn hold(&self, file: FileRef) {
                    Backend::held(self).hold(file.ino);
                }

                async fn shutdown(&self) -> FsResult<()> {
                    Backend::stop(self).await
                }

                $crate::ops::delegate_to_ops! {
                    getattr(file: FileRef) -> FsResult<Attr>;
                    setattr(cred: &Credentials, file: FileRef, set: SetAttr,
                        guard_ctime: Option<Timestamp>) -> FsResult<WccReply<()>>;
                    lookup(cred: &Credentials, dir: FileRef, name: &[u8])
                        -> FsResult<(FileRef, Attr)>;
                    access(cred: &Credentials, file: FileRef, wanted: AccessMask)
                        -> FsResult<(AccessMask, Attr)>;
                    readlink(cred: &Credentials, file: FileRef) -> FsResult<(Vec<u8>, Attr)>;
                    read(cred: &Credentials, file: FileRef, offset: u64, count: u32)
                        -> FsResult<ReadReply>;
                    write(cred: &Credentials, file: FileRef, offset: u64, data: Vec<u8>,
                        stable: Stability) -> FsResult<WccReply<WriteReply>>;
                    commit(cred: &Credentials, file: FileRef, offset: u64, count: u32)
                        -> FsResult<WccReply<WriteVerifier>>;
                    create(cred: &Credentials, dir: FileRef, name: &[u8], how: CreateHow)
                        -> FsResult<WccReply<(FileRef, Attr)>>;
                    mkdir(cred: &Credentials, dir: FileRef, name: &[u8], attrs: SetAttr)
                        -> FsResult<WccReply<(FileRef, Attr)>>;
                    symlink(cred: &Credentials, dir: FileRef, name: &[u8], target: &[u8],
                        attrs: SetAttr) -> FsResult<WccReply<(FileRef, Attr)>>;
                    mknod(cred: &Credentials, dir: FileRef, name: &[u8], kind: SpecialKind,
                        attrs: SetAttr) -> FsResult<WccReply<(FileRef, Attr)>>;
                    remove(cred: &Credentials, dir: FileRef, name: &[u8])
                        -> FsResult<WccReply<()>>;
                    rmdir(cred: &Credentials, dir: FileRef, name: &[u8]) -> FsResult<WccReply<()>>;
                    rename(cred: &Credentials, from_dir: FileRef, from_name: &[u8],
                        to_dir: FileRef, to_name: &[u8]) -> FsResult<RenameReply>;
                    link(cred: &Credentials, file: FileRef, dir: FileRef, name: &[u8])
                        -> FsResult<WccReply<Attr>>;
                    readdir(cred: &Credentials, dir: FileRef, cookie: u64, max_entries: usize,
                        with_attrs: bool) -> FsResult<ReadDirReply>;
                    fsstat(file: FileRef) -> FsResult<(FsStat, Attr)>;
                    getxattr(cred: &Credentials, file: FileRef, name: &[u8]) -> FsResult<Vec<u8>>;
                    setxattr(cred: &Credentials, file: FileRef, name: &[u8], value: Vec<u8>,
                        how: XattrSet) -> FsResult<WccReply<()>>;
                    removexattr(cred: &Credentials, file: FileRef, name: &[u8])
                        -> FsResult<WccReply<()>>;
                    listxattrs(cred: &Credentials, file: FileRef) -> FsResult<Vec<Vec<u8>>>;
                    release(file: FileRef) -> ();
                    cluster_lock(op: fsapi::ranges::ClusterLockOp)
                        -> FsResult<fsapi::ranges::ClusterLockAnswer>;
                }
            }
        };
    };
}
pub(crate) use impl_cluster_fs;

/// `name(args) -> ret;`: an async method that calls
/// `ops::name(self, args)` (for [`impl_cluster_fs`]).
macro_rules! delegate_to_ops {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(async fn $name(&self, $($arg: $ty),*) -> $ret {
            $crate::ops::$name(self, $($arg),*).await
        })*
    };
}
pub(crate) use delegate_to_ops;

/// Files held open by NFSv4 clients, with their hold counts: removing
/// their last name makes them orphans, freed at the last release.
#[derive(Default)]
pub(crate) struct Holds(parking_lot::Mutex<HashMap<InodeId, u32>>);

impl Holds {
    pub(crate) fn hold(&self, ino: InodeId) {
        *self.0.lock().entry(ino).or_insert(0) += 1;
    }

    /// Drop one hold of `ino`; true when it was the last.
    fn release(&self, ino: InodeId) -> bool {
        let mut held = self.0.lock();
        match held.get_mut(&ino) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                held.remove(&ino);
                true
            }
            None => false,
        }
    }

    /// The inode that `name` in `dir` names, when a client holds it open
    /// (so a removal must keep it).
    fn child(&self, ns: &impl Namespace, dir: FileRef, name: &[u8]) -> Option<InodeId> {
        if self.0.lock().is_empty() {
            return None;
        }
        let child = ns.lookup(dir.ino, name).ok().flatten()?;
        self.0.lock().contains_key(&child).then_some(child)
    }
}

// ------------------------------------------------------------- helpers

/// The live record of `file` as this node knows it.
fn record<B: Backend>(b: &B, file: FileRef) -> FsResult<InodeRecord> {
    live_record(b.ns(), file)
}

/// The record, after catching up when this node does not know it yet (a
/// handle another node just handed out).
async fn record_fresh<B: Backend>(b: &B, file: FileRef) -> FsResult<InodeRecord> {
    match record(b, file) {
        Err(FsError::Stale) => {
            if b.catch_up().await {
                record(b, file)
            } else {
                Err(FsError::Stale)
            }
        }
        r => r,
    }
}

/// The attributes this node returns for `a`: coalesced writes merged, the
/// allocation of files whose data is in chunk files filled in.
fn attr_of_attr<B: Backend>(b: &B, a: &Attr) -> Attr {
    let mut a = a.clone();
    b.pending().merge(&mut a);
    // Inline files report their inline bytes (filled in by `meta`).
    if a.ftype == FileType::Regular && a.used == 0 && a.size > 0 {
        a.used = b.used_bytes(a.ino, a.size);
    }
    a
}

fn attr_of<B: Backend>(b: &B, ino: InodeId, rec: &InodeRecord) -> Attr {
    attr_of_attr(b, &rec.to_attr(ino))
}

fn file_ref(ino: InodeId, attr: &Attr) -> FileRef {
    FileRef { snapshot: SnapshotId::LIVE, ino, generation: attr.generation }
}

/// The wcc data of `ino` after `applied`.
fn wcc<B: Backend>(b: &B, applied: &Applied, ino: InodeId) -> Wcc {
    match applied.changed.iter().find(|(i, _, _)| *i == ino) {
        Some((_, before, after)) => Wcc { before: *before, after: Some(attr_of_attr(b, after)) },
        None => Wcc {
            before: None,
            after: b.ns().inode(ino).ok().flatten().map(|r| attr_of(b, ino, &r)),
        },
    }
}

/// Apply a command that changes `object` and answer with its wcc.
async fn change<B: Backend>(b: &B, object: InodeId, cmd: Command) -> FsResult<WccReply<()>> {
    let applied = b.apply(cmd).await?;
    Ok(WccReply { value: (), wcc: wcc(b, &applied, object) })
}

/// Apply the coalesced writes of `ino` to its inode record (not durable
/// by itself on a single node).
pub(crate) async fn apply_pending<B: Backend>(b: &B, ino: InodeId) -> FsResult<()> {
    let Some(p) = b.pending().take(ino) else { return Ok(()) };
    match b.apply_write(PendingWrites::command(ino, p), false).await {
        Ok(_) | Err(FsError::Stale) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Apply every file's coalesced writes.
pub(crate) async fn apply_all_pending<B: Backend>(b: &B) {
    for ino in b.pending().inodes() {
        if let Err(e) = apply_pending(b, ino).await {
            tracing::warn!(ino = ino.0, error = %e, "could not apply size/mtime of writes");
        }
    }
}

/// WRITE's reply: `len` bytes written, FILE_SYNC when `sync`.
fn write_reply<B: Backend>(b: &B, len: u64, sync: bool, wcc: Wcc) -> WccReply<WriteReply> {
    let committed = if sync { Stability::FileSync } else { Stability::Unstable };
    WccReply { value: WriteReply { count: len as u32, committed, verifier: b.verifier() }, wcc }
}

// ---------------------------------------------------------- operations

pub(crate) fn root() -> FileRef {
    FileRef { snapshot: SnapshotId::LIVE, ino: InodeId::ROOT, generation: Generation(1) }
}

pub(crate) async fn getattr<B: Backend>(b: &B, file: FileRef) -> FsResult<Attr> {
    // Close-to-open: an open revalidates with GETATTR.
    b.catch_up().await;
    let rec = record(b, file)?;
    Ok(attr_of(b, file.ino, &rec))
}

pub(crate) async fn setattr<B: Backend>(
    b: &B,
    cred: &Credentials,
    file: FileRef,
    set: SetAttr,
    guard_ctime: Option<Timestamp>,
) -> FsResult<WccReply<()>> {
    record_fresh(b, file).await?;
    apply_pending(b, file.ino).await?;
    let cmd = Command::SetAttr { ino: file.ino, set, guard_ctime, cred: cred.clone(), now: now() };
    change(b, file.ino, cmd).await
}

pub(crate) async fn lookup<B: Backend>(
    b: &B,
    cred: &Credentials,
    dir: FileRef,
    name: &[u8],
) -> FsResult<(FileRef, Attr)> {
    let found = match lookup_child(b.ns(), cred, dir, name) {
        Err(e @ (FsError::NotFound | FsError::Stale)) => {
            if b.catch_up().await {
                lookup_child(b.ns(), cred, dir, name)
            } else {
                Err(e)
            }
        }
        r => r,
    };
    let (ino, child) = found?;
    let attr = attr_of(b, ino, &child);
    Ok((file_ref(ino, &attr), attr))
}

pub(crate) async fn access<B: Backend>(
    b: &B,
    cred: &Credentials,
    file: FileRef,
    wanted: AccessMask,
) -> FsResult<(AccessMask, Attr)> {
    let rec = record_fresh(b, file).await?;
    let attr = attr_of(b, file.ino, &rec);
    Ok((granted_access(&attr, cred, wanted), attr))
}

pub(crate) async fn readlink<B: Backend>(
    b: &B,
    _cred: &Credentials,
    file: FileRef,
) -> FsResult<(Vec<u8>, Attr)> {
    let rec = record_fresh(b, file).await?;
    if rec.ftype != FileType::Symlink {
        return Err(FsError::Invalid("not a symbolic link"));
    }
    let attr = attr_of(b, file.ino, &rec);
    Ok((rec.target, attr))
}

pub(crate) async fn read<B: Backend>(
    b: &B,
    cred: &Credentials,
    file: FileRef,
    offset: u64,
    count: u32,
) -> FsResult<ReadReply> {
    let rec = record_fresh(b, file).await?;
    let attr = attr_of(b, file.ino, &rec);
    let (n, attr) = match read_start(&rec, attr, cred, offset, count)? {
        ReadStart::Done(reply) => return Ok(reply),
        ReadStart::Chunked(n, attr) => (n, attr),
    };
    let data = b.read_chunks(file.ino, &rec, offset, n).await?;
    Ok(ReadReply { eof: offset + n >= attr.size, data, attr })
}

pub(crate) async fn write<B: Backend>(
    b: &B,
    cred: &Credentials,
    file: FileRef,
    offset: u64,
    data: Vec<u8>,
    stable: Stability,
) -> FsResult<WccReply<WriteReply>> {
    let mut rec = record_fresh(b, file).await?;
    let len = data.len() as u64;
    let end = check_write(&rec, file.ino, cred, offset, len)?;
    let sync = stable != Stability::Unstable;
    b.check_space(len)?;
    if !rec.chunked {
        let _serial = b.inline_lock(file.ino).lock().await;
        rec = record(b, file)?;
        if !rec.chunked {
            if end <= meta::INLINE_DATA_MAX_BYTES {
                let cmd = Command::WriteInline {
                    ino: file.ino,
                    offset,
                    data,
                    cred: cred.clone(),
                    now: now(),
                };
                let applied = b.apply_write(cmd, sync).await?;
                let stable = sync || B::INLINE_WRITES_DURABLE;
                return Ok(write_reply(b, len, stable, wcc(b, &applied, file.ino)));
            }
            b.make_chunked(file.ino, &rec).await?;
            rec = record(b, file)?;
        }
    }
    b.write_chunks(file.ino, &rec, offset, data, sync).await?;
    // Size and mtime of UNSTABLE writes are coalesced (DESIGN.md §4),
    // except where a write must clear setuid/setgid at once.
    let clears_mode = cred.uid != 0 && rec.mode & 0o6000 != 0;
    if !sync && !clears_mode {
        let before = attr_of(b, file.ino, &rec);
        b.pending().note(file.ino, end, now());
        let after = attr_of(b, file.ino, &rec);
        let wcc = Wcc { before: Some(WccAttr::from(&before)), after: Some(after) };
        return Ok(write_reply(b, len, false, wcc));
    }
    apply_pending(b, file.ino).await?;
    let cmd = Command::AfterWrite { ino: file.ino, end, writes: 1, cred: cred.clone(), now: now() };
    let applied = b.apply_write(cmd, sync).await?;
    Ok(write_reply(b, len, sync, wcc(b, &applied, file.ino)))
}

pub(crate) async fn commit<B: Backend>(
    b: &B,
    _cred: &Credentials,
    file: FileRef,
    _offset: u64,
    _count: u32,
) -> FsResult<WccReply<WriteVerifier>> {
    let rec = record_fresh(b, file).await?;
    let before = WccAttr::from(&attr_of(b, file.ino, &rec));
    b.commit_file(file.ino).await?;
    let rec = record(b, file)?;
    let after = attr_of(b, file.ino, &rec);
    Ok(WccReply { value: b.verifier(), wcc: Wcc { before: Some(before), after: Some(after) } })
}

/// CREATE, MKDIR, SYMLINK and MKNOD.
async fn make<B: Backend>(
    b: &B,
    cred: &Credentials,
    dir: FileRef,
    name: &[u8],
    kind: NewKind,
    mode: CreateMode,
    attrs: SetAttr,
) -> FsResult<WccReply<(FileRef, Attr)>> {
    record_fresh(b, dir).await?;
    b.check_space(0)?;
    if attrs.size.is_some() {
        // An UNCHECKED create may truncate an existing file: its
        // coalesced writes must land first, or they would re-extend it.
        if let Ok(Some(existing)) = b.ns().lookup(dir.ino, name) {
            apply_pending(b, existing).await?;
        }
    }
    let t = now();
    let applied = b
        .apply(Command::Create {
            parent: dir.ino,
            name: name.to_vec(),
            kind,
            mode,
            attrs,
            cred: cred.clone(),
            now: t,
            generation: generation_from(t),
            chunk_size: meta::CHUNK_SIZE_DEFAULT_BYTES,
            replicas: b.replicas_for_new(dir.ino),
        })
        .await?;
    let (ino, attr) = applied
        .object
        .clone()
        .ok_or_else(|| FsError::ServerFault("create returned no object".into()))?;
    let attr = attr_of_attr(b, &attr);
    Ok(WccReply { value: (file_ref(ino, &attr), attr), wcc: wcc(b, &applied, dir.ino) })
}

pub(crate) async fn create<B: Backend>(
    b: &B,
    cred: &Credentials,
    dir: FileRef,
    name: &[u8],
    how: CreateHow,
) -> FsResult<WccReply<(FileRef, Attr)>> {
    let (mode, attrs) = create_mode(how);
    make(b, cred, dir, name, NewKind::Regular, mode, attrs).await
}

pub(crate) async fn mkdir<B: Backend>(
    b: &B,
    cred: &Credentials,
    dir: FileRef,
    name: &[u8],
    attrs: SetAttr,
) -> FsResult<WccReply<(FileRef, Attr)>> {
    make(b, cred, dir, name, NewKind::Directory, CreateMode::Guarded, attrs).await
}

pub(crate) async fn symlink<B: Backend>(
    b: &B,
    cred: &Credentials,
    dir: FileRef,
    name: &[u8],
    target: &[u8],
    attrs: SetAttr,
) -> FsResult<WccReply<(FileRef, Attr)>> {
    let kind = NewKind::Symlink(target.to_vec());
    make(b, cred, dir, name, kind, CreateMode::Guarded, attrs).await
}

pub(crate) async fn mknod<B: Backend>(
    b: &B,
    cred: &Credentials,
    dir: FileRef,
    name: &[u8],
    kind: SpecialKind,
    attrs: SetAttr,
) -> FsResult<WccReply<(FileRef, Attr)>> {
    check_mknod(cred, kind)?;
    make(b, cred, dir, name, NewKind::Special(kind), CreateMode::Guarded, attrs).await
}

pub(crate) async fn remove<B: Backend>(
    b: &B,
    cred: &Credentials,
    dir: FileRef,
    name: &[u8],
) -> FsResult<WccReply<()>> {
    remove_entry(b, cred, dir, name, false).await
}

pub(crate) async fn rmdir<B: Backend>(
    b: &B,
    cred: &Credentials,
    dir: FileRef,
    name: &[u8],
) -> FsResult<WccReply<()>> {
    remove_entry(b, cred, dir, name, true).await
}

/// REMOVE, or RMDIR when `directory`.
async fn remove_entry<B: Backend>(
    b: &B,
    cred: &Credentials,
    dir: FileRef,
    name: &[u8],
    directory: bool,
) -> FsResult<WccReply<()>> {
    record_fresh(b, dir).await?;
    let keep = if directory { None } else { b.held().child(b.ns(), dir, name) };
    let cmd = Command::Remove {
        parent: dir.ino,
        name: name.to_vec(),
        directory,
        cred: cred.clone(),
        now: now(),
        keep,
    };
    change(b, dir.ino, cmd).await
}

pub(crate) async fn rename<B: Backend>(
    b: &B,
    cred: &Credentials,
    from_dir: FileRef,
    from_name: &[u8],
    to_dir: FileRef,
    to_name: &[u8],
) -> FsResult<RenameReply> {
    record_fresh(b, from_dir).await?;
    record_fresh(b, to_dir).await?;
    let keep = b.held().child(b.ns(), to_dir, to_name);
    let cmd = Command::Rename {
        from: from_dir.ino,
        from_name: from_name.to_vec(),
        to: to_dir.ino,
        to_name: to_name.to_vec(),
        cred: cred.clone(),
        now: now(),
        keep,
    };
    let applied = b.apply(cmd).await?;
    Ok(RenameReply {
        from_dir: wcc(b, &applied, from_dir.ino),
        to_dir: wcc(b, &applied, to_dir.ino),
    })
}

pub(crate) async fn link<B: Backend>(
    b: &B,
    cred: &Credentials,
    file: FileRef,
    dir: FileRef,
    name: &[u8],
) -> FsResult<WccReply<Attr>> {
    record_fresh(b, file).await?;
    record_fresh(b, dir).await?;
    let cmd = Command::Link {
        file: file.ino,
        dir: dir.ino,
        name: name.to_vec(),
        cred: cred.clone(),
        now: now(),
    };
    let applied = b.apply(cmd).await?;
    let attr = applied
        .object
        .as_ref()
        .map(|(_, a)| attr_of_attr(b, a))
        .ok_or_else(|| FsError::ServerFault("link returned no object".into()))?;
    Ok(WccReply { value: attr, wcc: wcc(b, &applied, dir.ino) })
}

pub(crate) async fn readdir<B: Backend>(
    b: &B,
    cred: &Credentials,
    dir: FileRef,
    cookie: u64,
    max_entries: usize,
    with_attrs: bool,
) -> FsResult<ReadDirReply> {
    if cookie == 0 {
        // Opening a directory: see entries other nodes made.
        b.catch_up().await;
    }
    let rec = record_fresh(b, dir).await?;
    let attr_of = |ino: InodeId, r: &InodeRecord| attr_of(b, ino, r);
    readdir_in(b.ns(), attr_of, cred, dir, &rec, cookie, max_entries, with_attrs)
}

pub(crate) async fn fsstat<B: Backend>(b: &B, file: FileRef) -> FsResult<(FsStat, Attr)> {
    let rec = record_fresh(b, file).await?;
    let s = b.chunk_store().fs_stats().map_err(chunk_error)?;
    let stat = FsStat {
        total_bytes: s.total_bytes,
        free_bytes: s.free_bytes,
        avail_bytes: s.avail_bytes,
        total_files: s.files_total,
        free_files: s.files_free,
        avail_files: s.files_free,
    };
    Ok((stat, attr_of(b, file.ino, &rec)))
}

pub(crate) async fn getxattr<B: Backend>(
    b: &B,
    cred: &Credentials,
    file: FileRef,
    name: &[u8],
) -> FsResult<Vec<u8>> {
    let rec = record_fresh(b, file).await?;
    access::require(&attr_of(b, file.ino, &rec), cred, R)?;
    b.ns().getxattr(file.ino, name)?.ok_or(FsError::NoXattr)
}

pub(crate) async fn setxattr<B: Backend>(
    b: &B,
    cred: &Credentials,
    file: FileRef,
    name: &[u8],
    value: Vec<u8>,
    how: fsapi::XattrSet,
) -> FsResult<WccReply<()>> {
    record_fresh(b, file).await?;
    let cmd = Command::SetXattr {
        ino: file.ino,
        name: name.to_vec(),
        value,
        how,
        cred: cred.clone(),
        now: now(),
    };
    change(b, file.ino, cmd).await
}

pub(crate) async fn removexattr<B: Backend>(
    b: &B,
    cred: &Credentials,
    file: FileRef,
    name: &[u8],
) -> FsResult<WccReply<()>> {
    record_fresh(b, file).await?;
    let cmd =
        Command::RemoveXattr { ino: file.ino, name: name.to_vec(), cred: cred.clone(), now: now() };
    change(b, file.ino, cmd).await
}

pub(crate) async fn listxattrs<B: Backend>(
    b: &B,
    cred: &Credentials,
    file: FileRef,
) -> FsResult<Vec<Vec<u8>>> {
    let rec = record_fresh(b, file).await?;
    access::require(&attr_of(b, file.ino, &rec), cred, R)?;
    Ok(b.ns().xattr_names(file.ino, fsapi::XATTRS_PER_FILE_MAX)?)
}

/// The last release of a file whose last name was removed frees it.
pub(crate) async fn release<B: Backend>(b: &B, file: FileRef) {
    if !b.held().release(file.ino) {
        return;
    }
    if let Ok(Some(rec)) = b.ns().inode(file.ino) {
        if rec.nlink == 0 {
            if let Err(e) = b.apply(Command::ReleaseOrphan { ino: file.ino }).await {
                tracing::warn!(ino = file.ino.0, error = %e, "could not free a removed file at its last close");
            }
        }
    }
}

/// [`fsapi::ClusterFs::cluster_lock`]: a back end whose locks other nodes
/// share ([`Backend::lock_node`]) keeps them in the namespace's lock table,
/// through commands (LOCKT reads it after catching up); otherwise the front
/// end's own state is the whole truth and everything is granted.
pub(crate) async fn cluster_lock<B: Backend>(
    b: &B,
    op: ClusterLockOp,
) -> FsResult<ClusterLockAnswer> {
    let Some((node, incarnation)) = b.lock_node() else {
        return Ok(ClusterLockAnswer::Granted);
    };
    let owner = |client, owner| meta::LockOwner { node, incarnation, client, owner };
    let cmd = match op {
        ClusterLockOp::Acquire { file, client, owner: o, start, end, write, test } => {
            let kind = if write { meta::LockKind::Write } else { meta::LockKind::Read };
            let lock = meta::RangeLock { owner: owner(client, o), start, end, kind };
            if test {
                b.catch_up().await;
                let held = b.ns().locks(file.ino)?;
                return Ok(lock_answer(meta::lock_conflict(&held, &lock)));
            }
            Command::Lock { ino: file.ino, lock }
        }
        ClusterLockOp::Release { file, client, owner: o, start, end } => {
            Command::Unlock { ino: file.ino, owner: owner(client, o), start, end }
        }
        ClusterLockOp::ReleaseOwner { client, owner: o } => {
            Command::UnlockAll { holder: meta::LockHolder::Owner(owner(client, o)) }
        }
        ClusterLockOp::ReleaseClient { client } => {
            Command::UnlockAll { holder: meta::LockHolder::Client { node, incarnation, client } }
        }
    };
    Ok(lock_answer(b.apply(cmd).await?.lock_denied.as_ref()))
}

fn lock_answer(denied: Option<&meta::RangeLock>) -> ClusterLockAnswer {
    match denied {
        None => ClusterLockAnswer::Granted,
        Some(l) => ClusterLockAnswer::Denied(ClusterLockHolder {
            client: l.owner.client,
            owner: l.owner.owner.clone(),
            start: l.start,
            end: l.end,
            write: l.kind == meta::LockKind::Write,
        }),
    }
}

// ---------------------------------------------------- shared checks

/// Read access to the namespace: the local [`Meta`], or a replica's
/// [`meta::MetaReader`] in the cluster.
pub(crate) trait Namespace {
    fn inode(&self, ino: InodeId) -> Result<Option<InodeRecord>, meta::MetaError>;
    fn lookup(&self, dir: InodeId, name: &[u8]) -> Result<Option<InodeId>, meta::MetaError>;
    fn list(
        &self,
        dir: InodeId,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<meta::ListedEntry>, bool), meta::MetaError>;
    fn getxattr(&self, ino: InodeId, name: &[u8]) -> Result<Option<Vec<u8>>, meta::MetaError>;
    fn xattr_names(&self, ino: InodeId, limit: usize) -> Result<Vec<Vec<u8>>, meta::MetaError>;
    fn locks(&self, ino: InodeId) -> Result<Vec<meta::RangeLock>, meta::MetaError>;
}

impl Namespace for Meta {
    fn inode(&self, ino: InodeId) -> Result<Option<InodeRecord>, meta::MetaError> {
        Meta::inode(self, ino)
    }
    fn lookup(&self, dir: InodeId, name: &[u8]) -> Result<Option<InodeId>, meta::MetaError> {
        Meta::lookup(self, dir, name)
    }
    fn list(
        &self,
        dir: InodeId,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<meta::ListedEntry>, bool), meta::MetaError> {
        Meta::list(self, dir, after, limit)
    }
    fn getxattr(&self, ino: InodeId, name: &[u8]) -> Result<Option<Vec<u8>>, meta::MetaError> {
        Meta::getxattr(self, ino, name)
    }
    fn xattr_names(&self, ino: InodeId, limit: usize) -> Result<Vec<Vec<u8>>, meta::MetaError> {
        Meta::xattr_names(self, ino, limit)
    }
    fn locks(&self, ino: InodeId) -> Result<Vec<meta::RangeLock>, meta::MetaError> {
        Meta::locks(self, ino)
    }
}

impl Namespace for meta::MetaReader {
    fn inode(&self, ino: InodeId) -> Result<Option<InodeRecord>, meta::MetaError> {
        meta::MetaReader::inode(self, ino)
    }
    fn lookup(&self, dir: InodeId, name: &[u8]) -> Result<Option<InodeId>, meta::MetaError> {
        meta::MetaReader::lookup(self, dir, name)
    }
    fn list(
        &self,
        dir: InodeId,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<meta::ListedEntry>, bool), meta::MetaError> {
        meta::MetaReader::list(self, dir, after, limit)
    }
    fn getxattr(&self, ino: InodeId, name: &[u8]) -> Result<Option<Vec<u8>>, meta::MetaError> {
        meta::MetaReader::getxattr(self, ino, name)
    }
    fn xattr_names(&self, ino: InodeId, limit: usize) -> Result<Vec<Vec<u8>>, meta::MetaError> {
        meta::MetaReader::xattr_names(self, ino, limit)
    }
    fn locks(&self, ino: InodeId) -> Result<Vec<meta::RangeLock>, meta::MetaError> {
        meta::MetaReader::locks(self, ino)
    }
}

/// The live record of `file`: stale when the inode is gone or the
/// generation differs (the handle outlived the object).
fn live_record(ns: &impl Namespace, file: FileRef) -> FsResult<InodeRecord> {
    if file.snapshot != SnapshotId::LIVE {
        return Err(FsError::Stale);
    }
    match ns.inode(file.ino)? {
        Some(r) if r.generation == file.generation => Ok(r),
        _ => Err(FsError::Stale),
    }
}

/// LOOKUP of `name` in `dir`: the child's id and record.
fn lookup_child(
    ns: &impl Namespace,
    cred: &Credentials,
    dir: FileRef,
    name: &[u8],
) -> FsResult<(InodeId, InodeRecord)> {
    let rec = live_record(ns, dir)?;
    if rec.ftype != FileType::Directory {
        return Err(FsError::NotDir);
    }
    fsapi::validate_name(name)?;
    access::require(&rec.to_attr(dir.ino), cred, X)?;
    let ino = ns.lookup(dir.ino, name)?.ok_or(FsError::NotFound)?;
    let child = ns.inode(ino)?.ok_or(FsError::NotFound)?;
    Ok((ino, child))
}

/// ACCESS: what `cred` may do to `attr`'s object.
fn granted_access(attr: &Attr, cred: &Credentials, wanted: AccessMask) -> AccessMask {
    let mut granted = access::access_mask(attr, cred, wanted);
    // The owner may read and write its regular files whatever the mode
    // says (knfsd's owner override; see `read` and `write`).
    if attr.ftype == FileType::Regular && cred.uid == attr.uid {
        granted.0 |= wanted.0 & (AccessMask::READ | AccessMask::MODIFY | AccessMask::EXTEND);
    }
    granted
}

/// How a READ goes on after its checks.
enum ReadStart {
    /// Answered already (past the end, or inline data).
    Done(ReadReply),
    /// Read this many bytes from the chunk files.
    Chunked(u64, Attr),
}

/// READ and WRITE are for regular files: IsDir for a directory, `special`
/// for anything else.
fn regular_file(rec: &InodeRecord, special: &'static str) -> FsResult<()> {
    match rec.ftype {
        FileType::Regular => Ok(()),
        FileType::Directory => Err(FsError::IsDir),
        _ => Err(FsError::Invalid(special)),
    }
}

/// READ's checks (type, permission), the reads answered without chunk
/// data, and the byte count otherwise. `attr` is the file's attributes as
/// the node returns them (pending writes merged).
fn read_start(
    rec: &InodeRecord,
    attr: Attr,
    cred: &Credentials,
    offset: u64,
    count: u32,
) -> FsResult<ReadStart> {
    regular_file(rec, "read of a special file")?;
    // Owner override, and read-if-exec so mode 0711 programs run (knfsd).
    if cred.uid != attr.uid && !access::may(&attr, cred, R) && !access::may(&attr, cred, X) {
        return Err(FsError::AccessDenied);
    }
    let size = attr.size;
    if offset >= size {
        return Ok(ReadStart::Done(ReadReply { data: Vec::new(), eof: true, attr }));
    }
    let n = (count.min(READ_SIZE_MAX_BYTES) as u64).min(size - offset);
    if !rec.chunked {
        let mut data = vec![0u8; n as usize];
        let inline = &rec.inline;
        if (offset as usize) < inline.len() {
            let end = inline.len().min((offset + n) as usize);
            data[..end - offset as usize].copy_from_slice(&inline[offset as usize..end]);
        }
        return Ok(ReadStart::Done(ReadReply { eof: offset + n >= size, data, attr }));
    }
    Ok(ReadStart::Chunked(n, attr))
}

/// WRITE's checks (type, permission, size limit); the end of the write.
fn check_write(
    rec: &InodeRecord,
    ino: InodeId,
    cred: &Credentials,
    offset: u64,
    len: u64,
) -> FsResult<u64> {
    regular_file(rec, "write to a special file")?;
    let attr = rec.to_attr(ino);
    if cred.uid != attr.uid {
        access::require(&attr, cred, W)?;
    }
    offset
        .checked_add(len)
        .filter(|e| *e <= fsapi::FILE_SIZE_MAX_BYTES)
        .ok_or(FsError::FileTooLarge)
}

/// READDIR / READDIRPLUS of `dir` (record `rec`) from `cookie`.
#[allow(clippy::too_many_arguments)]
fn readdir_in(
    ns: &impl Namespace,
    attr_of: impl Fn(InodeId, &InodeRecord) -> Attr,
    cred: &Credentials,
    dir: FileRef,
    rec: &InodeRecord,
    cookie: u64,
    max_entries: usize,
    with_attrs: bool,
) -> FsResult<ReadDirReply> {
    if rec.ftype != FileType::Directory {
        return Err(FsError::NotDir);
    }
    let dir_attr = attr_of(dir.ino, rec);
    access::require(&dir_attr, cred, R)?;
    if cookie >= rec.next_cookie && cookie > 2 {
        return Err(FsError::BadCookie);
    }
    let file_ref = |ino: InodeId, attr: &Attr| FileRef {
        snapshot: SnapshotId::LIVE,
        ino,
        generation: attr.generation,
    };
    let mut entries = Vec::new();
    // `.` and `..` take cookies 1 and 2, as a local file system lists them.
    let dots: [(&[u8], u64, InodeId); 2] = [(b".", 1, dir.ino), (b"..", 2, rec.parent)];
    for (name, c, ino) in dots {
        if cookie < c && entries.len() < max_entries {
            if let Some(r) = ns.inode(ino)? {
                let attr = attr_of(ino, &r);
                entries.push(fsapi::DirEntry {
                    name: name.to_vec(),
                    cookie: c,
                    file: file_ref(ino, &attr),
                    attr: with_attrs.then_some(attr),
                });
            }
        }
    }
    let room = max_entries.saturating_sub(entries.len());
    let (listed, eof) =
        if room == 0 { (Vec::new(), false) } else { ns.list(dir.ino, cookie.max(2), room)? };
    for e in listed {
        let Some(r) = ns.inode(e.child)? else { continue };
        let attr = attr_of(e.child, &r);
        entries.push(fsapi::DirEntry {
            name: e.name,
            cookie: e.cookie,
            file: file_ref(e.child, &attr),
            attr: with_attrs.then_some(attr),
        });
    }
    Ok(ReadDirReply { entries, eof, dir_attr, verifier: rec.generation.0.to_be_bytes() })
}

/// CREATE's `how` as the metadata command's mode and attributes.
fn create_mode(how: CreateHow) -> (CreateMode, SetAttr) {
    match how {
        CreateHow::Unchecked(a) => (CreateMode::Unchecked, a),
        CreateHow::Guarded(a) => (CreateMode::Guarded, a),
        CreateHow::Exclusive(v) => (CreateMode::Exclusive(v), SetAttr::default()),
    }
}

/// MKNOD of a block or character device needs root (the export's
/// `devices` rule is the front end's).
fn check_mknod(cred: &Credentials, kind: SpecialKind) -> FsResult<()> {
    if matches!(kind, SpecialKind::CharDevice(..) | SpecialKind::BlockDevice(..)) && cred.uid != 0 {
        return Err(FsError::NotPermitted);
    }
    Ok(())
}
