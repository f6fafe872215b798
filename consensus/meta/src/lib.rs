//! `meta`: the namespace as a deterministic, replicated state machine.
//!
//! Owns inodes and directory entries, stored epoch-keyed in a
//! [`store::KvStore`] (DESIGN.md §3, key layout in `keys`). Every change
//! is a [`Command`] applied by [`Meta::apply`]; reads go straight to the
//! store. [`ReplicatedMeta`] makes it the [`consensus::StateMachine`] of a
//! Raft group: a proposer encodes the command ([`Command::encode`]),
//! proposes the bytes through `consensus`, and decodes what the replica
//! that applied it answered ([`decode_outcome`]); every replica applies the
//! same entries in log order. On a single node the caller applies commands
//! directly with [`Meta::apply`], one at a time. See `ARCHITECTURE.md`.
//!
//! Must not: read a clock, draw randomness, iterate a `HashMap`, or do any
//! I/O but through the store, in `apply` (DESIGN.md §4). The proposer stamps
//! times, generations and credentials into the command; inode numbers are
//! allocated inside `apply` from the `next_ino` scalar. So replaying the
//! same commands on the same state gives byte-identical stores.
//!
//! Invariants (checked by tests):
//! - identical logs give byte-identical key spaces and equal digests, and a
//!   checkpoint restored anywhere gives the same key space;
//! - an operation's error is an outcome, the same on every replica; only a
//!   failing store is fatal;
//! - inode ids come from the `next_ino` scalar and are never reused;
//! - a directory entry and its cookie-index twin are written and removed in
//!   the same batch; a cookie is never reused within a directory, so READDIR
//!   resumes correctly however the directory changed;
//! - `nlink` of a directory is 2 + its subdirectories, `entries` its entry count;
//! - every mutation is one atomic [`store::WriteBatch`], which in replicated
//!   mode also records the applied log index;
//! - bytes from the log, a peer or the disk never panic: they decode or fail.

mod codec;
mod keys;
mod locks;
mod record;
mod replicated;
mod wire;

pub use codec::DecodeError;
pub use keys::{is_meta_key, newest_at_or_below};
pub use locks::{
    conflict as lock_conflict, LockHolder, LockKind, LockOwner, RangeLock, LOCK_OWNER_BYTES_MAX,
};
pub use record::{InodeRecord, FIRST_COOKIE};
pub use replicated::{MetaReader, ReplicatedMeta, CHECKPOINT_FORMAT_VERSION};
pub use wire::{
    decode_outcome, encode_outcome, COMMAND_FORMAT_VERSION, COMMAND_SIZE_BYTES_MAX,
    ERROR_TEXT_BYTES_MAX, INVALID_UNKNOWN, OUTCOME_FORMAT_VERSION, OUTCOME_SIZE_BYTES_MAX,
};

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use fsapi::access::{self, W, X};
use fsapi::{
    Attr, Credentials, Epoch, FileType, FsError, FsResult, Generation, InodeId, SetAttr, SetTime,
    SpecialKind, Timestamp, WccAttr, XattrSet,
};
use parking_lot::Mutex;
use store::{KvStore, StoreError, WriteBatch};

use record::{CookieValue, DirentValue};

/// Format version of the metadata store, written at creation.
const FORMAT_VERSION: u64 = 1;
/// Most hard links one inode may have.
pub const LINK_COUNT_MAX: u32 = 65_000;
/// Files up to this size keep their data in the inode record, so that
/// creating and writing a small file costs metadata writes only.
pub const INLINE_DATA_MAX_BYTES: u64 = 4096;
/// Default chunk size of new regular files.
pub const CHUNK_SIZE_DEFAULT_BYTES: u32 = 4 << 20;

/// Errors of the metadata layer itself (the store failed or holds garbage).
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("corrupt metadata: {0}")]
    Corrupt(&'static str),
}

impl From<MetaError> for FsError {
    fn from(e: MetaError) -> Self {
        tracing::error!(error = %e, "metadata store failure");
        FsError::Io(e.to_string())
    }
}

/// What a new object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewKind {
    Regular,
    Directory,
    Symlink(Vec<u8>),
    Special(SpecialKind),
}

/// How CREATE treats an existing name (RFC 1813 §3.3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateMode {
    Unchecked,
    Guarded,
    Exclusive([u8; 8]),
}

/// A change to the namespace, with everything the proposer stamped in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Create {
        parent: InodeId,
        name: Vec<u8>,
        kind: NewKind,
        mode: CreateMode,
        attrs: SetAttr,
        cred: Credentials,
        now: Timestamp,
        generation: Generation,
        chunk_size: u32,
        /// Copies of each chunk of a regular file, fixed at creation and
        /// recorded in its inode (the cluster places its chunks by it);
        /// 0 = the cluster's default.
        replicas: u8,
    },
    Remove {
        parent: InodeId,
        name: Vec<u8>,
        directory: bool,
        cred: Credentials,
        now: Timestamp,
        /// An inode a client holds open: if this removes its last name, it
        /// becomes an orphan instead of being freed (RFC 7530 §9.9: a
        /// removed file stays readable through its open state).
        keep: Option<InodeId>,
    },
    Rename {
        from: InodeId,
        from_name: Vec<u8>,
        to: InodeId,
        to_name: Vec<u8>,
        cred: Credentials,
        now: Timestamp,
        /// As for `Remove`, for a target the rename replaces.
        keep: Option<InodeId>,
    },
    /// Set an extended attribute (RFC 8276 §8.4.2).
    SetXattr {
        ino: InodeId,
        name: Vec<u8>,
        value: Vec<u8>,
        how: XattrSet,
        cred: Credentials,
        now: Timestamp,
    },
    /// Remove an extended attribute (RFC 8276 §8.4.4).
    RemoveXattr {
        ino: InodeId,
        name: Vec<u8>,
        cred: Credentials,
        now: Timestamp,
    },
    /// The last holder of an orphan let go: free it. A no-op for an inode
    /// that is not an orphan (it was linked again, or is already freed).
    ReleaseOrphan {
        ino: InodeId,
    },
    Link {
        file: InodeId,
        dir: InodeId,
        name: Vec<u8>,
        cred: Credentials,
        now: Timestamp,
    },
    SetAttr {
        ino: InodeId,
        set: SetAttr,
        guard_ctime: Option<Timestamp>,
        cred: Credentials,
        now: Timestamp,
    },
    /// Size and mtime after data writes (the data went to the chunk
    /// store): `writes` writes, the last at `now`, ending at most at `end`.
    AfterWrite {
        ino: InodeId,
        end: u64,
        writes: u64,
        cred: Credentials,
        now: Timestamp,
    },
    /// A write into a file whose data is inline; the whole write must end
    /// at or below [`INLINE_DATA_MAX_BYTES`].
    WriteInline {
        ino: InodeId,
        offset: u64,
        data: Vec<u8>,
        cred: Credentials,
        now: Timestamp,
    },
    /// The file's inline data has been copied (durably) into chunk files:
    /// from now on its data lives there.
    MakeChunked {
        ino: InodeId,
    },
    /// Replace the cluster map (placement, membership) with `map`, an
    /// opaque serialized map of version `version`, if the stored map is of
    /// version `expected` (0: none yet) and `version > expected`; otherwise
    /// an error outcome, the same on every replica (compare-and-set, so
    /// concurrent proposers cannot lose each other's change). `meta` does
    /// not read the bytes: `layout` defines them, `nfsd` encodes them.
    SetClusterMap {
        expected: u64,
        version: u64,
        map: Vec<u8>,
    },
    /// Take a byte-range lock for a client of some node (cluster-wide
    /// NFSv4 locks): granted (the owner's ranges replaced and merged,
    /// POSIX) or denied with the conflicting lock in
    /// [`Applied::lock_denied`], changing nothing. STALE for a missing inode.
    Lock {
        ino: InodeId,
        lock: RangeLock,
    },
    /// Release `start..=end` of `owner` on `ino` (splitting ranges);
    /// releasing what is not held is fine, also on a missing inode.
    Unlock {
        ino: InodeId,
        owner: LockOwner,
        start: u64,
        end: u64,
    },
    /// Release every lock `holder` holds, on every inode.
    UnlockAll {
        holder: LockHolder,
    },
}

/// The effects of an applied command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// Before/after of each changed directory (or file, for SETATTR and
    /// writes), in the order the command names them.
    pub changed: Vec<(InodeId, Option<WccAttr>, Attr)>,
    /// The object created, linked, or found (exclusive create retry).
    pub object: Option<(InodeId, Attr)>,
    /// Inodes whose last link went: their data can be dropped.
    pub freed: Vec<InodeId>,
    /// A regular file whose size was set: (inode, new size, chunk size).
    pub truncated: Option<(InodeId, u64, u32)>,
    /// [`Command::Lock`] was denied: the lock of another owner in the way.
    pub lock_denied: Option<RangeLock>,
}

/// One directory entry as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedEntry {
    pub name: Vec<u8>,
    pub cookie: u64,
    pub child: InodeId,
}

/// The namespace state machine over a store.
pub struct Meta {
    store: Arc<dyn KvStore>,
    /// The live epoch (atomic so that a checkpoint restore can reload it
    /// while readers share the `Meta`).
    epoch: AtomicU64,
    /// Serialises `apply`, as a Raft log will.
    apply_lock: Mutex<()>,
}

impl Meta {
    /// Open the namespace in `store`, creating the root directory (owned by
    /// root, mode `root_mode`) when the store is new.
    pub fn open(
        store: Arc<dyn KvStore>,
        root_mode: u32,
        now: Timestamp,
    ) -> Result<Self, MetaError> {
        let format = store.get(&keys::scalar("format"))?;
        let epoch = match format {
            Some(v) => {
                if read_u64(&v)? != FORMAT_VERSION {
                    return Err(MetaError::Corrupt("unknown metadata format version"));
                }
                Epoch(read_u64(&store.get(&keys::scalar("epoch"))?.unwrap_or_default())?)
            }
            None => {
                let epoch = Epoch(1);
                let root = InodeRecord {
                    ftype: FileType::Directory,
                    mode: root_mode & 0o7777,
                    nlink: 2,
                    uid: 0,
                    gid: 0,
                    size: 0,
                    rdev: (0, 0),
                    generation: Generation(1),
                    atime: now,
                    mtime: now,
                    ctime: now,
                    change: 1,
                    chunk_size: 0,
                    replicas: 0,
                    parent: InodeId::ROOT,
                    next_cookie: FIRST_COOKIE,
                    entries: 0,
                    create_verifier: None,
                    target: Vec::new(),
                    chunked: false,
                    inline: Vec::new(),
                };
                let mut b = WriteBatch::default();
                b.put(keys::scalar("format"), FORMAT_VERSION.to_le_bytes().to_vec());
                b.put(keys::scalar("epoch"), epoch.0.to_le_bytes().to_vec());
                b.put(keys::scalar("next_ino"), 2u64.to_le_bytes().to_vec());
                b.put(keys::versioned(&keys::inode_prefix(InodeId::ROOT), epoch), root.encode());
                store.apply(b)?;
                store.flush()?;
                epoch
            }
        };
        Ok(Meta { store, epoch: AtomicU64::new(epoch.0), apply_lock: Mutex::new(()) })
    }

    /// Read the format and the epoch again after the store's content was
    /// replaced (a checkpoint restore, with the apply lock held).
    pub(crate) fn reload(&self) -> Result<(), MetaError> {
        let format = self.store.get(&keys::scalar("format"))?;
        if read_u64(&format.unwrap_or_default())? != FORMAT_VERSION {
            return Err(MetaError::Corrupt("unknown metadata format version"));
        }
        let epoch = read_u64(&self.store.get(&keys::scalar("epoch"))?.unwrap_or_default())?;
        self.epoch.store(epoch, Ordering::Release);
        Ok(())
    }

    /// Serialises changes of the whole store with `apply`.
    pub(crate) fn lock_apply(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.apply_lock.lock()
    }

    /// The live epoch.
    pub fn epoch(&self) -> Epoch {
        Epoch(self.epoch.load(Ordering::Acquire))
    }

    /// Extended attribute `name` of `ino` in the live tree.
    pub fn getxattr(&self, ino: InodeId, name: &[u8]) -> Result<Option<Vec<u8>>, MetaError> {
        read_xattr(&*self.store, ino, name, self.epoch())
    }

    /// Names of the extended attributes of `ino` (at most `limit`), in
    /// name order.
    pub fn xattr_names(&self, ino: InodeId, limit: usize) -> Result<Vec<Vec<u8>>, MetaError> {
        let prefix = keys::xattr_inode_prefix(ino);
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let batch = self.store.scan_prefix(&prefix, after.as_deref(), 1024)?;
            let n = batch.len();
            for (k, v) in &batch {
                // key: prefix name \0 epoch(8)
                if k.len() < prefix.len() + 9 {
                    continue;
                }
                let name = &k[prefix.len()..k.len() - 9];
                let epoch = read_u64_be(&k[k.len() - 8..]);
                if epoch > self.epoch().0 {
                    continue;
                }
                // versions of one name are adjacent, oldest first: the last wins
                if out.last().map(|l| l.as_slice()) == Some(name) {
                    if v.is_empty() {
                        out.pop();
                    }
                } else if !v.is_empty() {
                    out.push(name.to_vec());
                }
            }
            if n < 1024 || out.len() >= limit {
                break;
            }
            after = batch.last().map(|(k, _)| k.clone());
        }
        out.truncate(limit);
        Ok(out)
    }

    /// The cluster map: its version and its bytes, `None` before the first.
    pub fn cluster_map(&self) -> Result<Option<(u64, Vec<u8>)>, MetaError> {
        let Some(v) = self.store.get(&keys::scalar(keys::CLUSTER_MAP))? else { return Ok(None) };
        if v.len() < 8 {
            return Err(MetaError::Corrupt("cluster map"));
        }
        let (version, map) = v.split_at(8);
        Ok(Some((read_u64(version)?, map.to_vec())))
    }

    /// The byte-range locks held on `ino` (cluster-wide NFSv4 locks).
    pub fn locks(&self, ino: InodeId) -> Result<Vec<RangeLock>, MetaError> {
        locks::of_inode(&*self.store, ino)
    }

    /// Every byte-range lock, with its inode, in key order.
    pub fn lock_table(&self) -> Result<Vec<(InodeId, RangeLock)>, MetaError> {
        locks::all(&*self.store)
    }

    /// Inodes whose last name was removed while they were held open
    /// (at most `limit`).
    pub fn orphans(&self, limit: usize) -> Result<Vec<InodeId>, MetaError> {
        let mut out = Vec::new();
        for kv in self.store.scan_prefix(&[keys::ORPHAN], None, limit)? {
            let k = &kv.0;
            if k.len() == 9 {
                let mut b = [0u8; 8];
                b.copy_from_slice(&k[1..9]);
                out.push(InodeId(u64::from_be_bytes(b)));
            }
        }
        Ok(out)
    }

    /// The live record of `ino`, or `None` when it does not exist.
    pub fn inode(&self, ino: InodeId) -> Result<Option<InodeRecord>, MetaError> {
        read_inode(&*self.store, ino, self.epoch())
    }

    /// Look `name` up in directory `dir` (live tree). `.` and `..` included.
    pub fn lookup(&self, dir: InodeId, name: &[u8]) -> Result<Option<InodeId>, MetaError> {
        if name == b"." {
            return Ok(Some(dir));
        }
        if name == b".." {
            return Ok(self.inode(dir)?.map(|r| r.parent));
        }
        Ok(read_dirent(&*self.store, dir, name, self.epoch())?.map(|d| d.child))
    }

    /// Up to `limit` entries of `dir` with cookies greater than `after`, in
    /// cookie order, and whether the listing is complete.
    pub fn list(
        &self,
        dir: InodeId,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<ListedEntry>, bool), MetaError> {
        let dir_prefix = keys::cookie_dir_prefix(dir);
        let mut end = dir_prefix.clone();
        end.extend_from_slice(&[0xff; 17]);
        let mut start = Bound::Included(keys::cookie_prefix(dir, after.saturating_add(1)));
        let mut out = Vec::new();
        // Versions of one cookie are adjacent, oldest first: keep the newest
        // one at or below the live epoch.
        let mut pending: Option<(u64, Vec<u8>)> = None;
        let page = limit.saturating_mul(2).clamp(16, 4096);
        loop {
            let rows = self.store.scan(start, Bound::Included(end.clone()), false, page)?;
            let done = rows.len() < page;
            let last_key = rows.last().map(|(k, _)| k.clone());
            for (k, v) in rows {
                if k.len() != dir_prefix.len() + 16 {
                    return Err(MetaError::Corrupt("cookie key length"));
                }
                let cookie = read_u64_be(&k[dir_prefix.len()..dir_prefix.len() + 8]);
                if keys::epoch_of(&k)? > self.epoch() {
                    continue;
                }
                if let Some((c, val)) = pending.take() {
                    if c != cookie {
                        push_listed(&mut out, c, &val)?;
                        if out.len() >= limit {
                            return Ok((out, false));
                        }
                    }
                }
                pending = Some((cookie, v));
            }
            match last_key {
                Some(k) if !done => start = Bound::Excluded(k),
                _ => break,
            }
        }
        if let Some((c, val)) = pending {
            push_listed(&mut out, c, &val)?;
        }
        Ok((out, true))
    }

    /// Apply one command. Errors are the operation's (permission, existence,
    /// ...) and leave the store unchanged.
    pub fn apply(&self, cmd: Command) -> FsResult<Applied> {
        self.apply_at(cmd, None)
    }

    /// Apply one command; with `index`, also record it as the applied log
    /// index, in the same write batch as the command's changes — or alone
    /// when the command fails, since a failed command is applied too (its
    /// outcome is the error, the same on every replica).
    pub(crate) fn apply_at(&self, cmd: Command, index: Option<u64>) -> FsResult<Applied> {
        let _serial = self.apply_lock.lock();
        let result = self.apply_locked(cmd, index);
        if let (Err(_), Some(i)) = (&result, index) {
            self.note_applied_locked(i)?;
        }
        result
    }

    /// Record `index` as applied, changing nothing else (an entry that is
    /// not a command this version understands).
    pub(crate) fn note_applied(&self, index: u64) -> Result<(), MetaError> {
        let _serial = self.apply_lock.lock();
        self.note_applied_locked(index)
    }

    fn note_applied_locked(&self, index: u64) -> Result<(), MetaError> {
        let mut b = WriteBatch::default();
        b.put(keys::scalar(keys::APPLIED_INDEX), index.to_le_bytes().to_vec());
        self.store.apply(b)?;
        Ok(())
    }

    fn apply_locked(&self, cmd: Command, index: Option<u64>) -> FsResult<Applied> {
        let mut txn = Txn::new(&*self.store, self.epoch());
        txn.applied_index = index;
        let mut applied = Applied::default();
        match cmd {
            Command::Create {
                parent,
                name,
                kind,
                mode,
                attrs,
                cred,
                now,
                generation,
                chunk_size,
                replicas,
            } => create(
                &mut txn,
                &mut applied,
                parent,
                &name,
                kind,
                mode,
                attrs,
                &cred,
                now,
                generation,
                chunk_size,
                replicas,
            )?,
            Command::Remove { parent, name, directory, cred, now, keep } => {
                remove(&mut txn, parent, &name, directory, &cred, now, keep)?
            }
            Command::Rename { from, from_name, to, to_name, cred, now, keep } => {
                rename(&mut txn, from, &from_name, to, &to_name, &cred, now, keep)?
            }
            Command::SetXattr { ino, name, value, how, cred, now } => {
                let mut rec = txn.inode(ino)?;
                let attr = rec.to_attr(ino);
                access::require(&attr, &cred, access::W)?;
                fsapi::validate_name(&name)?;
                if value.len() > fsapi::XATTR_VALUE_MAX_BYTES {
                    return Err(FsError::XattrTooBig);
                }
                let exists = txn.xattr(ino, &name)?.is_some();
                match (how, exists) {
                    (XattrSet::Create, true) => return Err(FsError::Exists),
                    (XattrSet::Replace, false) => return Err(FsError::NoXattr),
                    _ => {}
                }
                if !exists
                    && self.xattr_names(ino, fsapi::XATTRS_PER_FILE_MAX + 1)?.len()
                        >= fsapi::XATTRS_PER_FILE_MAX
                {
                    return Err(FsError::NoSpace);
                }
                let before = WccAttr::from(&attr);
                txn.set_xattr(ino, &name, Some(value));
                rec.ctime = now;
                rec.change += 1;
                txn.put_inode(ino, rec);
                txn.changed(ino, Some(before));
            }
            Command::RemoveXattr { ino, name, cred, now } => {
                let mut rec = txn.inode(ino)?;
                let attr = rec.to_attr(ino);
                access::require(&attr, &cred, access::W)?;
                fsapi::validate_name(&name)?;
                if txn.xattr(ino, &name)?.is_none() {
                    return Err(FsError::NoXattr);
                }
                let before = WccAttr::from(&attr);
                txn.set_xattr(ino, &name, None);
                rec.ctime = now;
                rec.change += 1;
                txn.put_inode(ino, rec);
                txn.changed(ino, Some(before));
            }
            Command::ReleaseOrphan { ino } => {
                if txn.is_orphan(ino)? {
                    txn.set_orphan(ino, false);
                    if txn.inode(ino).map(|r| r.nlink == 0).unwrap_or(false) {
                        txn.free_inode(ino);
                    }
                }
            }
            Command::Link { file, dir, name, cred, now } => {
                link(&mut txn, &mut applied, file, dir, &name, &cred, now)?
            }
            Command::SetAttr { ino, set, guard_ctime, cred, now } => {
                set_attr(&mut txn, &mut applied, ino, &set, guard_ctime, &cred, now)?
            }
            Command::WriteInline { ino, offset, data, cred, now } => {
                let mut rec = txn.inode(ino)?;
                let end = offset.checked_add(data.len() as u64).ok_or(FsError::FileTooLarge)?;
                if rec.ftype != FileType::Regular || rec.chunked || end > INLINE_DATA_MAX_BYTES {
                    return Err(FsError::ServerFault(
                        "inline write to a file that is not inline".into(),
                    ));
                }
                let before = WccAttr::from(&rec.to_attr(ino));
                let (offset, end) = (offset as usize, end as usize);
                if rec.inline.len() < end {
                    rec.inline.resize(end, 0);
                }
                rec.inline[offset..end].copy_from_slice(&data);
                rec.size = rec.size.max(end as u64);
                rec.mode = access::mode_after_write(&rec.to_attr(ino), &cred);
                rec.mtime = now;
                rec.ctime = now;
                rec.change += 1;
                txn.put_inode(ino, rec);
                txn.changed(ino, Some(before));
            }
            Command::SetClusterMap { expected, version, map } => {
                let current = self.cluster_map()?.map_or(0, |(v, _)| v);
                if current != expected || version <= expected {
                    return Err(FsError::ServerFault(format!(
                        "cluster map is at version {current}: cannot move from {expected} to {version}"
                    )));
                }
                let mut v = version.to_le_bytes().to_vec();
                v.extend_from_slice(&map);
                txn.cluster_map = Some(v);
            }
            Command::MakeChunked { ino } => {
                let mut rec = txn.inode(ino)?;
                rec.chunked = true;
                rec.inline = Vec::new();
                txn.put_inode(ino, rec);
            }
            Command::Lock { ino, lock } => {
                txn.inode(ino)?;
                locks::check(&lock.owner, lock.start, lock.end)?;
                let held = locks::of_inode(&*self.store, ino)?;
                applied.lock_denied = locks::acquire(&mut txn.locks, ino, held, &lock);
            }
            Command::Unlock { ino, owner, start, end } => {
                locks::check(&owner, start, end)?;
                let held = locks::of_inode(&*self.store, ino)?;
                locks::release(&mut txn.locks, ino, held, &owner, start, end);
            }
            Command::UnlockAll { holder } => {
                let table = locks::all(&*self.store)?;
                locks::release_all(&mut txn.locks, table, &holder);
            }
            Command::AfterWrite { ino, end, writes, cred, now } => {
                let mut rec = txn.inode(ino)?;
                let before = WccAttr::from(&rec.to_attr(ino));
                rec.size = rec.size.max(end);
                rec.mode = access::mode_after_write(&rec.to_attr(ino), &cred);
                rec.mtime = now;
                rec.ctime = now;
                rec.change += writes.max(1);
                txn.put_inode(ino, rec);
                txn.changed(ino, Some(before));
            }
        }
        txn.commit(&mut applied)?;
        Ok(applied)
    }
}

/// Format byte of a stored extended attribute value (an empty stored value
/// is a tombstone, so a zero-length attribute still has this byte).
const XATTR_VALUE_V1: u8 = 1;

fn read_xattr(
    store: &dyn KvStore,
    ino: InodeId,
    name: &[u8],
    epoch: Epoch,
) -> Result<Option<Vec<u8>>, MetaError> {
    match newest_at_or_below(store, &keys::xattr_prefix(ino, name), epoch)? {
        Some((_, v)) if !v.is_empty() => {
            if v[0] != XATTR_VALUE_V1 {
                return Err(MetaError::Corrupt("extended attribute format"));
            }
            Ok(Some(v[1..].to_vec()))
        }
        _ => Ok(None),
    }
}

fn push_listed(out: &mut Vec<ListedEntry>, cookie: u64, val: &[u8]) -> Result<(), MetaError> {
    if !val.is_empty() {
        let c = CookieValue::decode(val)?;
        out.push(ListedEntry { name: c.name, cookie, child: c.child });
    }
    Ok(())
}

fn read_u64(b: &[u8]) -> Result<u64, MetaError> {
    let a: [u8; 8] = b.try_into().map_err(|_| MetaError::Corrupt("scalar length"))?;
    Ok(u64::from_le_bytes(a))
}

fn read_u64_be(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

fn read_inode(
    store: &dyn KvStore,
    ino: InodeId,
    epoch: Epoch,
) -> Result<Option<InodeRecord>, MetaError> {
    match newest_at_or_below(store, &keys::inode_prefix(ino), epoch)? {
        Some((_, v)) if !v.is_empty() => Ok(Some(InodeRecord::decode(&v)?)),
        _ => Ok(None),
    }
}

fn read_dirent(
    store: &dyn KvStore,
    dir: InodeId,
    name: &[u8],
    epoch: Epoch,
) -> Result<Option<DirentValue>, MetaError> {
    match newest_at_or_below(store, &keys::dirent_prefix(dir, name), epoch)? {
        Some((_, v)) if !v.is_empty() => Ok(Some(DirentValue::decode(&v)?)),
        _ => Ok(None),
    }
}

/// A value before the command and now (`None`: absent).
type BeforeAfter<T> = (Option<T>, Option<T>);

/// A command's working set: records read once, changed in memory, written
/// as one batch at the end.
struct Txn<'a> {
    store: &'a dyn KvStore,
    epoch: Epoch,
    /// ino → (record before the command, record now; `None` = freed).
    inodes: BTreeMap<InodeId, (Option<InodeRecord>, Option<InodeRecord>)>,
    /// (dir, name) → entry now (`None` = removed), with the entry before.
    dirents: BTreeMap<(InodeId, Vec<u8>), BeforeAfter<DirentValue>>,
    changed: Vec<(InodeId, Option<WccAttr>)>,
    next_ino: Option<u64>,
    /// ino → is an orphan now (only inodes whose state was looked at).
    orphans: BTreeMap<InodeId, (bool, bool)>,
    /// (ino, name) → extended attribute value now (`None` = removed).
    xattrs: BTreeMap<(InodeId, Vec<u8>), BeforeAfter<Vec<u8>>>,
    /// The Raft log index being applied, recorded in the same batch.
    applied_index: Option<u64>,
    /// The new cluster map scalar (version, then the map's bytes).
    cluster_map: Option<Vec<u8>>,
    /// Lock records written (`None`: deleted), see `locks`.
    locks: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'a> Txn<'a> {
    fn new(store: &'a dyn KvStore, epoch: Epoch) -> Self {
        Txn {
            store,
            epoch,
            inodes: BTreeMap::new(),
            dirents: BTreeMap::new(),
            changed: Vec::new(),
            next_ino: None,
            orphans: BTreeMap::new(),
            xattrs: BTreeMap::new(),
            applied_index: None,
            cluster_map: None,
            locks: BTreeMap::new(),
        }
    }

    fn xattr(&mut self, ino: InodeId, name: &[u8]) -> FsResult<Option<Vec<u8>>> {
        let key = (ino, name.to_vec());
        if let Some((_, now)) = self.xattrs.get(&key) {
            return Ok(now.clone());
        }
        let v = read_xattr(self.store, ino, name, self.epoch)?;
        self.xattrs.insert(key, (v.clone(), v.clone()));
        Ok(v)
    }

    fn set_xattr(&mut self, ino: InodeId, name: &[u8], value: Option<Vec<u8>>) {
        let key = (ino, name.to_vec());
        self.xattrs.entry(key).or_insert((None, None)).1 = value;
    }

    fn is_orphan(&mut self, ino: InodeId) -> FsResult<bool> {
        if let Some((_, now)) = self.orphans.get(&ino) {
            return Ok(*now);
        }
        let o = self.store.get(&keys::orphan(ino)).map_err(MetaError::from)?.is_some();
        self.orphans.insert(ino, (o, o));
        Ok(o)
    }

    fn set_orphan(&mut self, ino: InodeId, orphan: bool) {
        let before = match self.orphans.get(&ino) {
            Some((b, _)) => *b,
            None => self.store.get(&keys::orphan(ino)).ok().flatten().is_some(),
        };
        self.orphans.insert(ino, (before, orphan));
    }

    /// The current record of `ino`; a missing inode is stale from the
    /// caller's point of view (its handle outlived it).
    fn inode(&mut self, ino: InodeId) -> FsResult<InodeRecord> {
        if let Some((_, now)) = self.inodes.get(&ino) {
            return now.clone().ok_or(FsError::Stale);
        }
        let rec = read_inode(self.store, ino, self.epoch)?;
        self.inodes.insert(ino, (rec.clone(), rec.clone()));
        rec.ok_or(FsError::Stale)
    }

    fn dir(&mut self, ino: InodeId) -> FsResult<InodeRecord> {
        let rec = self.inode(ino)?;
        if rec.ftype != FileType::Directory {
            return Err(FsError::NotDir);
        }
        Ok(rec)
    }

    fn put_inode(&mut self, ino: InodeId, rec: InodeRecord) {
        self.inodes.entry(ino).or_insert((None, None)).1 = Some(rec);
    }

    fn free_inode(&mut self, ino: InodeId) {
        self.inodes.entry(ino).or_insert((None, None)).1 = None;
    }

    fn dirent(&mut self, dir: InodeId, name: &[u8]) -> FsResult<Option<DirentValue>> {
        let key = (dir, name.to_vec());
        if let Some((_, now)) = self.dirents.get(&key) {
            return Ok(*now);
        }
        let d = read_dirent(self.store, dir, name, self.epoch)?;
        self.dirents.insert(key, (d, d));
        Ok(d)
    }

    fn set_dirent(&mut self, dir: InodeId, name: &[u8], value: Option<DirentValue>) {
        let key = (dir, name.to_vec());
        self.dirents.entry(key).or_insert((None, None)).1 = value;
    }

    fn allocate_ino(&mut self) -> FsResult<InodeId> {
        let next = match self.next_ino {
            Some(n) => n,
            None => {
                let v = self.store.get(&keys::scalar("next_ino")).map_err(MetaError::from)?;
                read_u64(&v.unwrap_or_default())?
            }
        };
        self.next_ino = Some(next + 1);
        Ok(InodeId(next))
    }

    /// Record that `ino` changed, with its state before (for wcc data).
    fn changed(&mut self, ino: InodeId, before: Option<WccAttr>) {
        if !self.changed.iter().any(|(i, _)| *i == ino) {
            self.changed.push((ino, before));
        }
    }

    /// Write a versioned value: in place when the newest version is of this
    /// epoch, else a new version (DESIGN.md §3 copy-on-write of metadata).
    /// A removal leaves a tombstone only when an older version exists.
    fn write_versioned(
        &self,
        b: &mut WriteBatch,
        prefix: &[u8],
        value: Option<Vec<u8>>,
    ) -> Result<(), MetaError> {
        let key = keys::versioned(prefix, self.epoch);
        match value {
            Some(v) => {
                b.put(key, v);
            }
            None => {
                if keys::has_older_version(self.store, prefix, self.epoch)? {
                    b.put(key, Vec::new());
                } else {
                    b.delete(key);
                }
            }
        }
        Ok(())
    }

    fn commit(self, applied: &mut Applied) -> FsResult<()> {
        let mut b = WriteBatch::default();
        for ((dir, name), (before, now)) in &self.dirents {
            if before == now {
                continue;
            }
            // The cookie twin: removed under the old cookie, added under the new.
            if let Some(old) = before {
                if now.map(|n| n.cookie) != Some(old.cookie) {
                    self.write_versioned(&mut b, &keys::cookie_prefix(*dir, old.cookie), None)?;
                }
            }
            if let Some(new) = now {
                let cv = CookieValue { child: new.child, name: name.clone() };
                self.write_versioned(
                    &mut b,
                    &keys::cookie_prefix(*dir, new.cookie),
                    Some(cv.encode()),
                )?;
            }
            self.write_versioned(
                &mut b,
                &keys::dirent_prefix(*dir, name),
                now.map(|d| d.encode()),
            )?;
        }
        for (ino, (before, now)) in &self.inodes {
            if before == now {
                continue;
            }
            if now.is_none() {
                applied.freed.push(*ino);
                // its extended attributes go with it (epochs are not sealed by
                // snapshots yet, so no older version must survive)
                let prefix = keys::xattr_inode_prefix(*ino);
                for (k, _) in self
                    .store
                    .scan_prefix(&prefix, None, fsapi::XATTRS_PER_FILE_MAX * 4)
                    .map_err(MetaError::from)?
                {
                    b.delete(k);
                }
                // and so do its byte-range locks
                for k in locks::keys_of_inode(self.store, *ino)? {
                    b.delete(k);
                }
            }
            self.write_versioned(
                &mut b,
                &keys::inode_prefix(*ino),
                now.as_ref().map(|r| r.encode()),
            )?;
        }
        if let Some(n) = self.next_ino {
            b.put(keys::scalar("next_ino"), n.to_le_bytes().to_vec());
        }
        if let Some(m) = &self.cluster_map {
            b.put(keys::scalar(keys::CLUSTER_MAP), m.clone());
        }
        if let Some(i) = self.applied_index {
            b.put(keys::scalar(keys::APPLIED_INDEX), i.to_le_bytes().to_vec());
        }
        for ((ino, name), (before, now)) in &self.xattrs {
            if before == now {
                continue;
            }
            let value = now.as_ref().map(|v| {
                let mut b = Vec::with_capacity(v.len() + 1);
                b.push(XATTR_VALUE_V1);
                b.extend_from_slice(v);
                b
            });
            self.write_versioned(&mut b, &keys::xattr_prefix(*ino, name), value)?;
        }
        for (ino, (before, now)) in &self.orphans {
            match (before, now) {
                (false, true) => {
                    b.put(keys::orphan(*ino), Vec::new());
                }
                (true, false) => {
                    b.delete(keys::orphan(*ino));
                }
                _ => {}
            }
        }
        for (k, v) in &self.locks {
            match v {
                Some(v) => b.put(k.clone(), v.clone()),
                None => b.delete(k.clone()),
            };
        }
        for (ino, before) in &self.changed {
            if let Some((_, Some(rec))) = self.inodes.get(ino) {
                applied.changed.push((*ino, *before, rec.to_attr(*ino)));
            }
        }
        if !b.is_empty() {
            self.store.apply(b).map_err(MetaError::from)?;
        }
        Ok(())
    }
}

/// Set a regular file's size: inline data is cut in place, chunked data is
/// cut by the data plane (reported in `applied.truncated`).
fn set_size(rec: &mut InodeRecord, ino: InodeId, size: u64, applied: &mut Applied) {
    rec.size = size;
    if rec.chunked {
        applied.truncated = Some((ino, size, rec.chunk_size));
    } else if (rec.inline.len() as u64) > size {
        rec.inline.truncate(size as usize);
    }
}

fn touch_dir(rec: &mut InodeRecord, now: Timestamp) {
    rec.mtime = now;
    rec.ctime = now;
    rec.change += 1;
}

#[allow(clippy::too_many_arguments)]
fn create(
    txn: &mut Txn<'_>,
    applied: &mut Applied,
    parent: InodeId,
    name: &[u8],
    kind: NewKind,
    mode: CreateMode,
    attrs: SetAttr,
    cred: &Credentials,
    now: Timestamp,
    generation: Generation,
    chunk_size: u32,
    replicas: u8,
) -> FsResult<()> {
    let dir = txn.dir(parent)?;
    fsapi::validate_name(name)?;
    let dir_attr = dir.to_attr(parent);
    access::require(&dir_attr, cred, X)?;
    if let Some(existing) = txn.dirent(parent, name)? {
        let mut rec = txn.inode(existing.child)?;
        let is_file = rec.ftype == FileType::Regular && kind == NewKind::Regular;
        match mode {
            CreateMode::Exclusive(verf) if is_file && rec.create_verifier == Some(verf) => {
                applied.object = Some((existing.child, rec.to_attr(existing.child)));
                return Ok(());
            }
            CreateMode::Unchecked if is_file => {
                // RFC 1813 §3.3.8: UNCHECKED on an existing file applies
                // only the size (truncation) among the attributes.
                if let Some(size) = attrs.size {
                    let attr = rec.to_attr(existing.child);
                    access::require(&attr, cred, W).or_else(|e| {
                        if cred.uid == rec.uid {
                            Ok(())
                        } else {
                            Err(e)
                        }
                    })?;
                    if size != rec.size {
                        set_size(&mut rec, existing.child, size, applied);
                        rec.mtime = now;
                        rec.ctime = now;
                        rec.change += 1;
                        rec.mode = access::mode_after_write(&attr, cred);
                        txn.put_inode(existing.child, rec.clone());
                    }
                }
                applied.object = Some((existing.child, rec.to_attr(existing.child)));
                txn.changed(parent, None);
                return Ok(());
            }
            _ => return Err(FsError::Exists),
        }
    }
    fsapi::validate_new_name(name)?;
    access::require_dir_write(&dir_attr, cred)?;
    if let NewKind::Symlink(target) = &kind {
        if target.len() > fsapi::SYMLINK_TARGET_MAX_BYTES {
            return Err(FsError::NameTooLong);
        }
    }
    let before = WccAttr::from(&dir_attr);
    let ino = txn.allocate_ino()?;
    let (ftype, default_mode, rdev) = match &kind {
        NewKind::Regular => (FileType::Regular, 0o644, (0, 0)),
        NewKind::Directory => (FileType::Directory, 0o755, (0, 0)),
        NewKind::Symlink(_) => (FileType::Symlink, 0o777, (0, 0)),
        NewKind::Special(s) => {
            let rdev = match *s {
                SpecialKind::CharDevice(a, b) | SpecialKind::BlockDevice(a, b) => (a, b),
                _ => (0, 0),
            };
            (s.file_type(), 0o644, rdev)
        }
    };
    let mut perm = attrs.mode.unwrap_or(default_mode) & 0o7777;
    let gid = if cred.uid == 0 { attrs.gid } else { None }
        .unwrap_or_else(|| access::new_object_gid(&dir_attr, cred));
    let uid = if cred.uid == 0 { attrs.uid } else { None }.unwrap_or(cred.uid);
    if ftype == FileType::Directory && dir.mode & 0o2000 != 0 {
        perm |= 0o2000; // setgid directories propagate (BSD group semantics)
    }
    if ftype == FileType::Symlink {
        perm = 0o777;
    }
    let time = |t: SetTime| match t {
        SetTime::ClientTime(t) => t,
        _ => now,
    };
    let is_dir = ftype == FileType::Directory;
    let rec = InodeRecord {
        ftype,
        mode: perm,
        nlink: if is_dir { 2 } else { 1 },
        uid,
        gid,
        size: 0,
        rdev,
        generation,
        atime: time(attrs.atime),
        mtime: time(attrs.mtime),
        ctime: now,
        change: 1,
        chunk_size: if ftype == FileType::Regular { chunk_size } else { 0 },
        replicas: if ftype == FileType::Regular { replicas } else { 0 },
        parent,
        next_cookie: FIRST_COOKIE,
        entries: 0,
        create_verifier: match mode {
            CreateMode::Exclusive(v) => Some(v),
            _ => None,
        },
        target: match kind {
            NewKind::Symlink(t) => t,
            _ => Vec::new(),
        },
        chunked: false,
        inline: Vec::new(),
    };
    add_entry(txn, parent, dir, name, ino, is_dir, now)?;
    applied.object = Some((ino, rec.to_attr(ino)));
    txn.put_inode(ino, rec);
    txn.changed(parent, Some(before));
    Ok(())
}

/// Add `name` → `child` to directory `dir_ino`, whose current record is
/// `dir`, under a fresh cookie; a subdirectory adds a link to the parent.
fn add_entry(
    txn: &mut Txn<'_>,
    dir_ino: InodeId,
    mut dir: InodeRecord,
    name: &[u8],
    child: InodeId,
    child_is_dir: bool,
    now: Timestamp,
) -> FsResult<()> {
    if child_is_dir {
        if dir.nlink >= LINK_COUNT_MAX {
            return Err(FsError::TooManyLinks);
        }
        dir.nlink += 1;
    }
    let cookie = dir.next_cookie;
    dir.next_cookie += 1;
    dir.entries += 1;
    touch_dir(&mut dir, now);
    txn.put_inode(dir_ino, dir);
    txn.set_dirent(dir_ino, name, Some(DirentValue { child, cookie }));
    Ok(())
}

/// Unlink `name` from `dir` (the entry must exist); drops the child's link
/// count and frees it when that reaches zero.
fn unlink_entry(
    txn: &mut Txn<'_>,
    dir_ino: InodeId,
    name: &[u8],
    child: InodeId,
    now: Timestamp,
    keep: Option<InodeId>,
) -> FsResult<()> {
    let mut rec = txn.inode(child)?;
    let mut dir = txn.inode(dir_ino)?;
    dir.entries = dir.entries.saturating_sub(1);
    if rec.ftype == FileType::Directory {
        dir.nlink = dir.nlink.saturating_sub(1);
        rec.nlink = 0;
    } else {
        rec.nlink = rec.nlink.saturating_sub(1);
    }
    touch_dir(&mut dir, now);
    txn.put_inode(dir_ino, dir);
    txn.set_dirent(dir_ino, name, None);
    if rec.nlink == 0 && keep == Some(child) && rec.ftype != FileType::Directory {
        rec.ctime = now;
        rec.change += 1;
        txn.put_inode(child, rec);
        txn.set_orphan(child, true);
    } else if rec.nlink == 0 {
        txn.free_inode(child);
    } else {
        rec.ctime = now;
        rec.change += 1;
        txn.put_inode(child, rec);
    }
    Ok(())
}

fn remove(
    txn: &mut Txn<'_>,
    parent: InodeId,
    name: &[u8],
    directory: bool,
    cred: &Credentials,
    now: Timestamp,
    keep: Option<InodeId>,
) -> FsResult<()> {
    let dir = txn.dir(parent)?;
    fsapi::validate_name(name)?;
    if name == b"." {
        return Err(FsError::Invalid("cannot remove '.'"));
    }
    if name == b".." {
        return Err(FsError::NotEmpty);
    }
    let dir_attr = dir.to_attr(parent);
    access::require_dir_write(&dir_attr, cred)?;
    let entry = txn.dirent(parent, name)?.ok_or(FsError::NotFound)?;
    let child = txn.inode(entry.child)?;
    match (directory, child.ftype == FileType::Directory) {
        (true, false) => return Err(FsError::NotDir),
        (false, true) => return Err(FsError::IsDir),
        (true, true) if child.entries > 0 => return Err(FsError::NotEmpty),
        _ => {}
    }
    access::check_sticky(&dir_attr, &child.to_attr(entry.child), cred)?;
    let before = WccAttr::from(&dir_attr);
    unlink_entry(txn, parent, name, entry.child, now, keep)?;
    txn.changed(parent, Some(before));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn rename(
    txn: &mut Txn<'_>,
    from: InodeId,
    from_name: &[u8],
    to: InodeId,
    to_name: &[u8],
    cred: &Credentials,
    now: Timestamp,
    keep: Option<InodeId>,
) -> FsResult<()> {
    let from_dir = txn.dir(from)?;
    let to_dir = txn.dir(to)?;
    fsapi::validate_name(from_name)?;
    fsapi::validate_name(to_name)?;
    for n in [from_name, to_name] {
        if n == b"." || n == b".." {
            return Err(FsError::Invalid("cannot rename '.' or '..'"));
        }
    }
    let from_attr = from_dir.to_attr(from);
    let to_attr = to_dir.to_attr(to);
    access::require_dir_write(&from_attr, cred)?;
    access::require_dir_write(&to_attr, cred)?;
    let src = txn.dirent(from, from_name)?.ok_or(FsError::NotFound)?;
    let src_rec = txn.inode(src.child)?;
    access::check_sticky(&from_attr, &src_rec.to_attr(src.child), cred)?;
    let src_is_dir = src_rec.ftype == FileType::Directory;
    let (before_from, before_to) = (WccAttr::from(&from_attr), WccAttr::from(&to_attr));
    if let Some(dst) = txn.dirent(to, to_name)? {
        if dst.child == src.child {
            // POSIX: renaming a name onto another link of the same file does nothing.
            txn.changed(from, Some(before_from));
            txn.changed(to, Some(before_to));
            return Ok(());
        }
        let dst_rec = txn.inode(dst.child)?;
        access::check_sticky(&to_attr, &dst_rec.to_attr(dst.child), cred)?;
        match (src_is_dir, dst_rec.ftype == FileType::Directory) {
            (true, false) => return Err(FsError::NotDir),
            (false, true) => return Err(FsError::IsDir),
            (true, true) if dst_rec.entries > 0 => return Err(FsError::NotEmpty),
            _ => {}
        }
    }
    if src_is_dir && from != to {
        // A directory may not move below itself (EINVAL).
        let mut at = to;
        for _ in 0..4096 {
            if at == src.child {
                return Err(FsError::Invalid("cannot move a directory below itself"));
            }
            if at == InodeId::ROOT {
                break;
            }
            at = txn.inode(at)?.parent;
        }
    }
    if let Some(dst) = txn.dirent(to, to_name)? {
        unlink_entry(txn, to, to_name, dst.child, now, keep)?;
    }
    // Take the source name away and give the target a fresh cookie.
    let mut fdir = txn.inode(from)?;
    fdir.entries = fdir.entries.saturating_sub(1);
    if src_is_dir {
        fdir.nlink = fdir.nlink.saturating_sub(1);
    }
    touch_dir(&mut fdir, now);
    txn.put_inode(from, fdir);
    txn.set_dirent(from, from_name, None);
    let tdir = txn.inode(to)?;
    add_entry(txn, to, tdir, to_name, src.child, src_is_dir, now)?;
    let mut moved = txn.inode(src.child)?;
    moved.parent = if src_is_dir { to } else { moved.parent };
    moved.ctime = now;
    moved.change += 1;
    txn.put_inode(src.child, moved);
    txn.changed(from, Some(before_from));
    txn.changed(to, Some(before_to));
    Ok(())
}

fn link(
    txn: &mut Txn<'_>,
    applied: &mut Applied,
    file: InodeId,
    dir_ino: InodeId,
    name: &[u8],
    cred: &Credentials,
    now: Timestamp,
) -> FsResult<()> {
    let mut rec = txn.inode(file)?;
    let dir = txn.dir(dir_ino)?;
    fsapi::validate_new_name(name)?;
    if rec.ftype == FileType::Directory {
        return Err(FsError::IsDir);
    }
    if rec.nlink == 0 {
        // an orphan (removed while open) cannot get a name again
        return Err(FsError::Stale);
    }
    let dir_attr = dir.to_attr(dir_ino);
    access::require_dir_write(&dir_attr, cred)?;
    if txn.dirent(dir_ino, name)?.is_some() {
        return Err(FsError::Exists);
    }
    if rec.nlink >= LINK_COUNT_MAX {
        return Err(FsError::TooManyLinks);
    }
    let before = WccAttr::from(&dir_attr);
    rec.nlink += 1;
    rec.ctime = now;
    rec.change += 1;
    add_entry(txn, dir_ino, dir, name, file, false, now)?;
    applied.object = Some((file, rec.to_attr(file)));
    txn.put_inode(file, rec);
    txn.changed(dir_ino, Some(before));
    Ok(())
}

fn set_attr(
    txn: &mut Txn<'_>,
    applied: &mut Applied,
    ino: InodeId,
    set: &SetAttr,
    guard_ctime: Option<Timestamp>,
    cred: &Credentials,
    now: Timestamp,
) -> FsResult<()> {
    let mut rec = txn.inode(ino)?;
    let attr = rec.to_attr(ino);
    if let Some(g) = guard_ctime {
        if g != rec.ctime {
            return Err(FsError::NotSync);
        }
    }
    // The owner may truncate a file it cannot write (knfsd's owner
    // override): `open(O_CREAT|O_TRUNC, 0444)` then write must work over NFS.
    let size_by_owner = set.size.is_some() && cred.uid == rec.uid && rec.ftype == FileType::Regular;
    let check = if size_by_owner { SetAttr { size: None, ..set.clone() } } else { set.clone() };
    let new_mode = access::check_setattr(&attr, cred, &check)?;
    if set.size.is_some() && rec.ftype != FileType::Regular {
        return Err(if rec.ftype == FileType::Directory {
            FsError::IsDir
        } else {
            FsError::Invalid("size")
        });
    }
    let before = WccAttr::from(&attr);
    if let Some(m) = new_mode {
        rec.mode = m;
    }
    if let Some(u) = set.uid {
        rec.uid = u;
    }
    if let Some(g) = set.gid {
        rec.gid = g;
    }
    if let Some(size) = set.size {
        if size > fsapi::FILE_SIZE_MAX_BYTES {
            return Err(FsError::FileTooLarge);
        }
        set_size(&mut rec, ino, size, applied);
        if set.mtime == SetTime::DontChange {
            rec.mtime = now;
        }
        if new_mode.is_none() {
            rec.mode = access::mode_after_write(&rec.to_attr(ino), cred);
        }
    }
    match set.atime {
        SetTime::DontChange => {}
        SetTime::ServerTime => rec.atime = now,
        SetTime::ClientTime(t) => rec.atime = t,
    }
    match set.mtime {
        SetTime::DontChange => {}
        SetTime::ServerTime => rec.mtime = now,
        SetTime::ClientTime(t) => rec.mtime = t,
    }
    rec.ctime = now;
    rec.change += 1;
    rec.create_verifier = None;
    txn.put_inode(ino, rec);
    txn.changed(ino, Some(before));
    Ok(())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod replicated_tests;
