//! [`ReplicatedMeta`]: the namespace as the state machine of a Raft group
//! ([`consensus::StateMachine`]), and [`MetaReader`], the read side other
//! threads keep while the Raft loop owns the state machine.
//!
//! What a replica stores: the metadata key space (keys starting with one
//! of `keys::TAGS`) in its [`KvStore`], which may be shared with the Raft
//! log (`raft/...`). Applying an entry writes the command's changes and the
//! entry's index (scalar `applied`) as one atomic batch, so the store always
//! holds the state after some prefix of the applied commands, never half a
//! command, and says which. The store is never flushed here: the Raft log
//! is the durable truth, and `consensus::Node::open` restores the state
//! machine from the last checkpoint (one atomic batch replacing the key
//! space) and applies the committed entries after it again, so whatever the
//! crash left in the store is replaced.
//!
//! Checkpoint (log compaction), versioned, every pair of the key space in
//! key order, then a terminator and the pair count:
//!
//! ```text
//! checkpoint = version(1) { 1 key(u32 len, bytes) value(u32 len, bytes) }* 0 count(u64)
//! ```
//!
//! Version 2 when the key space holds byte-range lock records, else 1.
//!
//! `state_digest` is xxh3-64 over exactly those bytes, streamed.
//!
//! Failures: an operation's error (not found, permission, ...) is a result
//! like any other; a failing store (I/O) is fatal. The `StateMachine` trait
//! gives `apply` and `checkpoint` no error path, and answering with a state
//! that differs from the other replicas (or a bad checkpoint that the log is
//! then compacted to) would be worse than stopping, so the replica panics
//! there: the Raft thread dies before anything that depends on the failed
//! write is persisted or sent, and a restart restores from the checkpoint.

use std::cell::RefCell;
use std::ops::Bound;
use std::sync::Arc;

use consensus::{LogIndex, StateMachine};
use fsapi::{Epoch, InodeId, Timestamp};
use store::{KeyValue, KvStore, StoreError, WriteBatch};
use xxhash_rust::xxh3::Xxh3Default;

use crate::codec::{DecodeError, Reader, Writer};
use crate::keys::{self, is_meta_key};
use crate::wire::{encode_outcome, not_understood};
use crate::{Command, InodeRecord, ListedEntry, Meta, MetaError};

/// Version byte of a [`ReplicatedMeta`] checkpoint: the newest this
/// replica writes and reads. Version 2 may hold byte-range lock records
/// (`l` keys); a checkpoint without any is still written as version 1, so
/// replicas that do not know locks refuse only checkpoints that have some.
pub const CHECKPOINT_FORMAT_VERSION: u8 = 2;
/// The checkpoint version before lock records.
const CHECKPOINT_FORMAT_VERSION_BASE: u8 = 1;

/// Pairs read per store scan while dumping or replacing the key space.
const SCAN_PAGE_PAIRS: usize = 1024;

/// The metadata state machine of one replica. Build it with
/// [`ReplicatedMeta::open`] and hand it to `consensus::Node::open` (or
/// `Node::bootstrap` for the founding state).
pub struct ReplicatedMeta {
    reader: MetaReader,
    store: Arc<Watched>,
}

impl std::fmt::Debug for ReplicatedMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicatedMeta").field("epoch", &self.reader.epoch()).finish()
    }
}

impl ReplicatedMeta {
    /// The replica kept in `store`; a store without metadata gets a root
    /// directory (mode `root_mode`, times `created`).
    ///
    /// The founding members of a cluster bootstrap from this state, so they
    /// must all pass the same `root_mode` and `created` (from the cluster's
    /// configuration, not each node's clock): their states must be
    /// byte-identical. A node that joins later, or restarts, has its state
    /// replaced by a checkpoint before it applies anything.
    ///
    /// `store` may also hold the Raft log, under a prefix whose first byte
    /// is not a metadata key's (the default `raft/` is fine; see
    /// [`crate::is_meta_key`]).
    pub fn open(
        store: Arc<dyn KvStore>,
        root_mode: u32,
        created: Timestamp,
    ) -> Result<Self, MetaError> {
        let store = Arc::new(Watched { inner: store });
        let shared: Arc<dyn KvStore> = store.clone();
        let meta = Meta::open(shared, root_mode, created)?;
        Ok(ReplicatedMeta { reader: MetaReader { meta: Arc::new(meta) }, store })
    }

    /// The read side, cheap to clone and to share with other threads.
    /// Reads through it are local: linearizable only after a ReadIndex
    /// (`consensus::DriverHandle::read`), and a read of several store calls
    /// (a long listing) may straddle an applied entry.
    pub fn reader(&self) -> &MetaReader {
        &self.reader
    }

    /// The log index of the last command applied to this store (0 before
    /// the first). Entries that carry no command (a leader's empty entry,
    /// membership changes, retries answered from the dedup table) do not
    /// move it.
    pub fn applied_index(&self) -> Result<LogIndex, MetaError> {
        match self.store.get(&keys::scalar(keys::APPLIED_INDEX))? {
            None => Ok(LogIndex(0)),
            Some(v) => {
                let a: [u8; 8] =
                    v.as_slice().try_into().map_err(|_| MetaError::Corrupt("applied index"))?;
                Ok(LogIndex(u64::from_le_bytes(a)))
            }
        }
    }

    /// Write the founding cluster map (`version`, `map`) into this state,
    /// outside the log: only for the initial state handed to
    /// `consensus::Node::bootstrap`, which every founder builds alike (so
    /// the map is part of the founding checkpoint). Later changes are
    /// [`Command::SetClusterMap`] entries.
    pub fn install_founding_cluster_map(&self, version: u64, map: &[u8]) -> Result<(), MetaError> {
        let mut v = version.to_le_bytes().to_vec();
        v.extend_from_slice(map);
        let mut b = WriteBatch::new();
        b.put(keys::scalar(keys::CLUSTER_MAP), v);
        self.store.apply(b)?;
        Ok(())
    }

    /// Stream the checkpoint encoding of the key space into `sink`.
    fn emit_checkpoint(&self, sink: &mut dyn FnMut(&[u8])) -> Result<(), StoreError> {
        let has_locks = !self.store.scan_prefix(&[crate::locks::LOCK], None, 1)?.is_empty();
        sink(&[if has_locks { CHECKPOINT_FORMAT_VERSION } else { CHECKPOINT_FORMAT_VERSION_BASE }]);
        let mut count: u64 = 0;
        for_each_pair(&*self.store, |k, v| {
            let mut w = Writer::with_capacity(9 + k.len() + v.len());
            w.u8(1).bytes(k).bytes(v);
            sink(&w.finish());
            count += 1;
        })?;
        let mut w = Writer::with_capacity(9);
        w.u8(0).u64(count);
        sink(&w.finish());
        Ok(())
    }
}

/// A store failure inside `apply`, `checkpoint` or `state_digest`: see the
/// module docs.
fn fatal(during: &str, why: &dyn std::fmt::Display) -> ! {
    tracing::error!(error = %why, "metadata store failed while {during}; this replica stops");
    panic!(
        "metadata store failed while {during}: {why}; this replica stops (a restart restores it from its checkpoint)"
    );
}

impl StateMachine for ReplicatedMeta {
    /// Decode and apply the command; return its encoded outcome
    /// ([`crate::decode_outcome`]). An operation's error is an outcome: the
    /// entry's index is recorded all the same.
    fn apply(&mut self, index: LogIndex, data: &[u8]) -> Vec<u8> {
        let meta = &self.reader.meta;
        take_store_failure();
        let outcome = match Command::decode(data) {
            Ok(cmd) => meta.apply_at(cmd, Some(index.0)),
            Err(e) => {
                tracing::error!(%index, error = %e, "skipping an entry this replica cannot decode");
                // A store failure here is noted and caught just below.
                let _ = meta.note_applied(index.0);
                Err(not_understood(&e))
            }
        };
        if let Some(why) = take_store_failure() {
            fatal(&format!("applying entry {index}"), &why);
        }
        encode_outcome(&outcome)
    }

    fn checkpoint(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Err(e) = self.emit_checkpoint(&mut |b| out.extend_from_slice(b)) {
            fatal("taking a checkpoint", &e);
        }
        out
    }

    /// Replace the whole key space with the checkpoint's, as one batch.
    fn restore(&mut self, bytes: &[u8]) -> Result<(), String> {
        let pairs = parse_checkpoint(bytes).map_err(|e| e.to_string())?;
        let meta = &self.reader.meta;
        let _serial = meta.lock_apply();
        let mut batch = WriteBatch::new();
        let mut next = pairs.iter().map(|(k, _)| k).peekable();
        for_each_pair(&*self.store, |k, _| {
            // Both sides ascend: delete what the checkpoint lacks.
            while next.peek().is_some_and(|n| n.as_slice() < k) {
                next.next();
            }
            if next.peek().map(|n| n.as_slice()) != Some(k) {
                batch.delete(k.to_vec());
            }
        })
        .map_err(|e| format!("metadata store: {e}"))?;
        for (k, v) in pairs {
            batch.put(k, v);
        }
        self.store.apply(batch).map_err(|e| format!("metadata store: {e}"))?;
        meta.reload().map_err(|e| format!("restored metadata: {e}"))?;
        Ok(())
    }

    /// xxh3-64 over the checkpoint bytes (streamed, not built).
    fn state_digest(&self) -> u64 {
        let mut h = Xxh3Default::new();
        if let Err(e) = self.emit_checkpoint(&mut |b| h.update(b)) {
            fatal("hashing the state", &e);
        }
        h.digest()
    }
}

/// Decode a checkpoint: strictly ascending keys of the metadata key space,
/// a matching count, nothing after it, and a format scalar.
fn parse_checkpoint(bytes: &[u8]) -> Result<Vec<KeyValue>, DecodeError> {
    let mut r = Reader::new(bytes, "metadata checkpoint");
    let version = r.u8()?;
    if !(CHECKPOINT_FORMAT_VERSION_BASE..=CHECKPOINT_FORMAT_VERSION).contains(&version) {
        return Err(r.bad("unknown version"));
    }
    let mut pairs: Vec<KeyValue> = Vec::new();
    let mut has_locks = false;
    while r.flag()? {
        let k = r.bytes(bytes.len())?;
        let v = r.bytes(bytes.len())?;
        if !is_meta_key(k) {
            return Err(r.bad("key outside the metadata key space"));
        }
        has_locks |= k[0] == crate::locks::LOCK;
        if pairs.last().is_some_and(|(last, _)| last.as_slice() >= k) {
            return Err(r.bad("keys not in ascending order"));
        }
        pairs.push((k.to_vec(), v.to_vec()));
    }
    if r.u64()? != pairs.len() as u64 {
        return Err(r.bad("pair count does not match"));
    }
    // canonical: the lowest version that holds these pairs
    if has_locks != (version == CHECKPOINT_FORMAT_VERSION) {
        return Err(r.bad("version does not match the lock records"));
    }
    r.expect_end()?;
    let format = keys::scalar("format");
    if !pairs.iter().any(|(k, _)| *k == format) {
        return Err(r.bad("no format version"));
    }
    Ok(pairs)
}

/// Call `f` on every pair of the metadata key space, in key order.
fn for_each_pair(store: &dyn KvStore, mut f: impl FnMut(&[u8], &[u8])) -> Result<(), StoreError> {
    for tag in keys::TAGS {
        let mut after: Option<Vec<u8>> = None;
        loop {
            let page = store.scan_prefix(&[tag], after.as_deref(), SCAN_PAGE_PAIRS)?;
            for (k, v) in &page {
                f(k, v);
            }
            if page.len() < SCAN_PAGE_PAIRS {
                break;
            }
            after = page.last().map(|(k, _)| k.clone());
        }
    }
    Ok(())
}

/// Read access to a replica's namespace, shared with other threads (see
/// [`ReplicatedMeta::reader`]). It cannot change anything: changes are
/// commands proposed through Raft.
#[derive(Clone)]
pub struct MetaReader {
    pub(crate) meta: Arc<Meta>,
}

impl std::fmt::Debug for MetaReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaReader").field("epoch", &self.epoch()).finish()
    }
}

impl MetaReader {
    /// The live epoch.
    pub fn epoch(&self) -> Epoch {
        self.meta.epoch()
    }

    /// See [`Meta::inode`].
    pub fn inode(&self, ino: InodeId) -> Result<Option<InodeRecord>, MetaError> {
        self.meta.inode(ino)
    }

    /// See [`Meta::lookup`].
    pub fn lookup(&self, dir: InodeId, name: &[u8]) -> Result<Option<InodeId>, MetaError> {
        self.meta.lookup(dir, name)
    }

    /// See [`Meta::list`].
    pub fn list(
        &self,
        dir: InodeId,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<ListedEntry>, bool), MetaError> {
        self.meta.list(dir, after, limit)
    }

    /// See [`Meta::getxattr`].
    pub fn getxattr(&self, ino: InodeId, name: &[u8]) -> Result<Option<Vec<u8>>, MetaError> {
        self.meta.getxattr(ino, name)
    }

    /// See [`Meta::xattr_names`].
    pub fn xattr_names(&self, ino: InodeId, limit: usize) -> Result<Vec<Vec<u8>>, MetaError> {
        self.meta.xattr_names(ino, limit)
    }

    /// See [`Meta::locks`].
    pub fn locks(&self, ino: InodeId) -> Result<Vec<crate::RangeLock>, MetaError> {
        self.meta.locks(ino)
    }

    /// See [`Meta::lock_table`].
    pub fn lock_table(&self) -> Result<Vec<(InodeId, crate::RangeLock)>, MetaError> {
        self.meta.lock_table()
    }

    /// See [`Meta::cluster_map`].
    pub fn cluster_map(&self) -> Result<Option<(u64, Vec<u8>)>, MetaError> {
        self.meta.cluster_map()
    }

    /// See [`Meta::orphans`].
    pub fn orphans(&self, limit: usize) -> Result<Vec<InodeId>, MetaError> {
        self.meta.orphans(limit)
    }
}

thread_local! {
    /// The first store error seen by this thread since the last
    /// [`take_store_failure`]. Per thread, so that a reader's failure on
    /// another thread is not taken for a failure of the apply.
    static STORE_FAILURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Take (and clear) this thread's noted store failure.
fn take_store_failure() -> Option<String> {
    STORE_FAILURE.with(|f| f.borrow_mut().take())
}

/// The replica's store, noting every failed call: `Meta` converts store
/// errors into `FsError::Io` (and swallows one in `set_orphan`), which alone
/// would not tell a failing disk (fatal) from a record that does not decode
/// (the same on every replica, so an outcome).
struct Watched {
    inner: Arc<dyn KvStore>,
}

impl Watched {
    fn note<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(e) = &r {
            STORE_FAILURE.with(|f| {
                f.borrow_mut().get_or_insert_with(|| e.to_string());
            });
        }
        r
    }
}

impl KvStore for Watched {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.note(self.inner.get(key))
    }
    fn scan(
        &self,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        self.note(self.inner.scan(start, end, reverse, limit))
    }
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.note(self.inner.apply(batch))
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.note(self.inner.flush())
    }
    fn approximate_size_bytes(&self) -> Result<u64, StoreError> {
        self.note(self.inner.approximate_size_bytes())
    }
    fn scan_prefix(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        self.note(self.inner.scan_prefix(prefix, after, limit))
    }
}
