//! The single-node backend: [`fsapi::ClusterFs`] over the metadata state
//! machine (`meta`, in sled through `store`) and local chunk files (`chunks`).
//!
//! Durability (RFC 1813 §3.3.7, §4.8): every namespace change is flushed to
//! the metadata store before its reply, through a group-commit thread that
//! covers all changes waiting at once with one flush. Data written UNSTABLE
//! goes to the chunk files' page cache and is fsynced by COMMIT; FILE_SYNC
//! and DATA_SYNC writes are fsynced before the reply. The write verifier is
//! drawn at start, so a restart (which may lose unstable data) changes it.
//!
//! The namespace operations (checks, commands, wcc data) are `crate::ops`,
//! shared with the cluster back end; this file is the `ops::Backend` of a
//! single node: local apply with group commit, and the data path.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use std::time::{SystemTime, UNIX_EPOCH};

use chunks::{ChunkError, ChunkStore};
use fsapi::{
    Attr, ClusterFs, Credentials, FileRef, FileType, FsError, FsResult, Generation, InodeId,
    SetAttr, Timestamp, WriteVerifier,
};
use meta::{Applied, Command, InodeRecord, Meta};
use store::KvStore;
use tokio::sync::oneshot;

use crate::ops::{self, Holds};

/// Largest READ the backend serves in one call.
pub const READ_SIZE_MAX_BYTES: u32 = 1 << 20;

/// The single-node file system.
pub struct LocalFs {
    meta: Arc<Meta>,
    chunks: Arc<ChunkStore>,
    flusher: Flusher,
    verifier: WriteVerifier,
    /// Present while the node is stopped cleanly; removed at start.
    clean_marker: PathBuf,
    /// Bytes allocated per file, which costs a stat of every chunk file to
    /// learn: refreshed at most every `USED_CACHE_TTL` per file, so READ and
    /// WRITE replies on large files do not pay it each time.
    used_cache: parking_lot::Mutex<HashMap<InodeId, (u64, Instant)>>,
    /// Serialise the writes of one inline file and its move to chunk
    /// files (striped by inode).
    inline_locks: Box<[tokio::sync::Mutex<()>]>,
    /// Size and mtime of UNSTABLE writes not yet applied to the metadata
    /// store (DESIGN.md §4): applied at COMMIT, FILE_SYNC, SETATTR, shutdown
    /// and every `PENDING_APPLY_INTERVAL`; merged into every attribute this
    /// node returns meanwhile.
    pending: PendingWrites,
    /// Free space last seen on the data file system, and when.
    space: parking_lot::Mutex<(Instant, u64)>,
    /// Space kept free for metadata: data writes and creates answer NOSPC
    /// below it, so removing files to free space always works.
    reserve_bytes: u64,
    /// Files held open by NFSv4 clients, with their hold counts: removing
    /// their last name makes them orphans, freed at the last release.
    held: Holds,
}

/// How long a free-space reading is trusted.
const SPACE_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// Data writes to one file not yet applied to its inode record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingWrite {
    pub(crate) end: u64,
    pub(crate) mtime: Timestamp,
    pub(crate) writes: u64,
}

/// Size and mtime of UNSTABLE writes per file, coalesced until they are
/// applied to the inode record (DESIGN.md §4). Shared by the single-node
/// and the cluster backends.
#[derive(Default)]
pub(crate) struct PendingWrites(parking_lot::Mutex<HashMap<InodeId, PendingWrite>>);

impl PendingWrites {
    /// Record a write ending at `end` at time `at`.
    pub(crate) fn note(&self, ino: InodeId, end: u64, at: Timestamp) {
        let mut pending = self.0.lock();
        let p = pending.entry(ino).or_insert(PendingWrite { end, mtime: at, writes: 0 });
        p.end = p.end.max(end);
        p.mtime = p.mtime.max(at);
        p.writes += 1;
    }

    /// Take the coalesced writes of `ino`, to apply them.
    pub(crate) fn take(&self, ino: InodeId) -> Option<PendingWrite> {
        self.0.lock().remove(&ino)
    }

    /// Every file with coalesced writes.
    pub(crate) fn inodes(&self) -> Vec<InodeId> {
        self.0.lock().keys().copied().collect()
    }

    /// Merge the coalesced writes into attributes about to be returned.
    pub(crate) fn merge(&self, a: &mut Attr) {
        if let Some(p) = self.0.lock().get(&a.ino) {
            a.size = a.size.max(p.end);
            a.mtime = a.mtime.max(p.mtime);
            a.ctime = a.ctime.max(p.mtime);
            a.change += p.writes;
        }
    }

    /// The command that applies `p` to `ino`. Writers of files with
    /// setuid/setgid bits are never coalesced, so the superuser's
    /// credentials clear nothing here.
    pub(crate) fn command(ino: InodeId, p: PendingWrite) -> Command {
        Command::AfterWrite {
            ino,
            end: p.end,
            writes: p.writes,
            cred: Credentials::root(),
            now: p.mtime,
        }
    }
}

/// How often coalesced size/mtime changes are applied to the store.
pub const PENDING_APPLY_INTERVAL: Duration = Duration::from_secs(1);

const INLINE_LOCK_STRIPES: usize = 64;

const USED_CACHE_TTL: Duration = Duration::from_secs(1);
const USED_CACHE_ENTRIES_MAX: usize = 65_536;

/// Name of the file that marks a clean shutdown in the data directory.
const CLEAN_SHUTDOWN_MARKER: &str = "clean-shutdown";

impl LocalFs {
    /// Open (or create) the file system under `data_dir`.
    pub fn open(data_dir: &Path, root_mode: u32) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        // A new data directory has nothing to recover.
        let fresh = !data_dir.join("meta").exists();
        let store: Arc<dyn KvStore> = Arc::new(store::SledStore::open(data_dir.join("meta"))?);
        let meta = Arc::new(Meta::open(store.clone(), root_mode, now())?);
        let chunks = Arc::new(ChunkStore::open(&data_dir.join("chunks"), Default::default())?);
        let marker = data_dir.join(CLEAN_SHUTDOWN_MARKER);
        let clean = fresh || marker.exists();
        let total = chunks.fs_stats().map(|s| s.total_bytes).unwrap_or(0);
        let reserve_bytes = (total / 100).clamp(8 << 20, 1 << 30);
        let fs = LocalFs {
            meta,
            chunks,
            flusher: Flusher::start(store),
            verifier: new_verifier(),
            clean_marker: marker.clone(),
            used_cache: parking_lot::Mutex::new(HashMap::new()),
            inline_locks: (0..INLINE_LOCK_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            pending: PendingWrites::default(),
            space: parking_lot::Mutex::new((Instant::now() - SPACE_CHECK_INTERVAL * 2, 0)),
            reserve_bytes,
            held: Holds::default(),
        };
        if clean {
            // From now on a crash must be recognised as one.
            if marker.exists() {
                std::fs::remove_file(&marker)?;
            }
            std::fs::File::open(data_dir)?.sync_all()?;
        } else {
            fs.recover()?;
        }
        // Nothing is held open across a restart: free the orphans left by
        // the previous run (files removed while open).
        loop {
            let orphans = fs.meta.orphans(1024)?;
            if orphans.is_empty() {
                break;
            }
            tracing::info!(files = orphans.len(), "freeing files that were removed while open");
            for ino in orphans {
                let applied = fs.meta.apply(Command::ReleaseOrphan { ino })?;
                for ino in applied.freed {
                    fs.chunks.remove_inode(ino)?;
                }
            }
        }
        Ok(fs)
    }

    /// After an unclean stop: the chunk files may hold data of UNSTABLE
    /// writes whose size change was lost with the unflushed metadata, or of
    /// inodes whose removal did not finish. Cut every file's data back to
    /// its durable size (so a later extension reads zeros, not lost bytes)
    /// and drop data of inodes that no longer exist.
    fn recover(&self) -> anyhow::Result<()> {
        let inos = self.chunks.inodes()?;
        tracing::info!(files = inos.len(), "unclean shutdown: checking file data against metadata");
        for ino in inos {
            match self.meta.inode(ino)? {
                Some(rec) if rec.ftype == FileType::Regular && rec.chunked => {
                    self.chunks.truncate(ino, rec.size, rec.chunk_size as u64)?;
                }
                _ => {
                    // Deleted, or still inline (a move to chunk files that
                    // did not become durable).
                    tracing::info!(ino = ino.0, "removing chunk data no inode uses");
                    self.chunks.remove_inode(ino)?;
                }
            }
        }
        self.chunks.sync_all()?;
        Ok(())
    }

    /// Resolve `path` from the root, creating missing directories as root
    /// with mode 0755. Used at start for the export paths.
    pub async fn ensure_path(&self, path: &str) -> FsResult<FileRef> {
        ensure_path(self, path).await
    }

    /// Apply coalesced size/mtime changes every `PENDING_APPLY_INTERVAL`,
    /// for as long as the file system is alive.
    pub fn start_background(self: &Arc<Self>) {
        let fs = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PENDING_APPLY_INTERVAL);
            loop {
                tick.tick().await;
                let Some(fs) = fs.upgrade() else { return };
                fs.apply_all_pending().await;
            }
        });
    }

    /// Apply every file's coalesced writes (not flushed).
    pub async fn apply_all_pending(&self) {
        ops::apply_all_pending(self).await
    }
}

ops::impl_cluster_fs!(LocalFs);

impl ops::Backend for LocalFs {
    type Ns = Meta;
    /// Inline data is flushed like any other metadata: only when asked.
    const INLINE_WRITES_DURABLE: bool = false;

    fn ns(&self) -> &Meta {
        &self.meta
    }

    /// Apply a command, drop data of freed inodes, make it durable.
    async fn apply(&self, cmd: Command) -> FsResult<Applied> {
        let applied = self.meta.apply(cmd)?;
        if let Some((ino, size, chunk_size)) = applied.truncated {
            let chunks = self.chunks.clone();
            blocking(move || chunks.truncate(ino, size, chunk_size as u64)).await?;
        }
        self.flusher.flush().await?;
        for ino in &applied.freed {
            let chunks = self.chunks.clone();
            let ino = *ino;
            tokio::task::spawn_blocking(move || {
                if let Err(e) = chunks.remove_inode(ino) {
                    tracing::warn!(ino = ino.0, error = %e, "could not remove data of a deleted inode");
                }
            });
        }
        Ok(applied)
    }

    async fn apply_write(&self, cmd: Command, sync: bool) -> FsResult<Applied> {
        let applied = self.meta.apply(cmd)?;
        if sync {
            self.flusher.flush().await?;
        }
        Ok(applied)
    }

    async fn catch_up(&self) -> bool {
        false
    }

    /// NOSPC when writing `need` more bytes would eat into the space kept
    /// for metadata (a full disk must still let clients remove files).
    fn check_space(&self, need: u64) -> FsResult<()> {
        let avail = {
            let mut space = self.space.lock();
            if space.0.elapsed() >= SPACE_CHECK_INTERVAL {
                let avail = self.chunks.fs_stats().map(|s| s.avail_bytes).map_err(chunk_error)?;
                *space = (Instant::now(), avail);
            }
            // Writes admitted since the reading count against it, so a burst
            // between two readings cannot run past the reserve.
            let avail = space.1;
            space.1 = avail.saturating_sub(need);
            avail
        };
        if avail < self.reserve_bytes.saturating_add(need) {
            tracing::warn!(
                avail_bytes = avail,
                reserve_bytes = self.reserve_bytes,
                "data file system is full"
            );
            return Err(FsError::NoSpace);
        }
        Ok(())
    }

    fn pending(&self) -> &PendingWrites {
        &self.pending
    }

    fn held(&self) -> &Holds {
        &self.held
    }

    /// Allocated bytes of a regular file, from the cache when fresh.
    fn used_bytes(&self, ino: InodeId, size: u64) -> u64 {
        let now = Instant::now();
        if let Some((used, at)) = self.used_cache.lock().get(&ino) {
            if now.duration_since(*at) < USED_CACHE_TTL {
                return *used;
            }
        }
        let used = self.chunks.used_bytes(ino).unwrap_or(size);
        let mut cache = self.used_cache.lock();
        if cache.len() >= USED_CACHE_ENTRIES_MAX {
            cache.clear();
        }
        cache.insert(ino, (used, now));
        used
    }

    fn replicas_for_new(&self, _dir: InodeId) -> u8 {
        0
    }

    fn inline_lock(&self, ino: InodeId) -> &tokio::sync::Mutex<()> {
        &self.inline_locks[ino.0 as usize % INLINE_LOCK_STRIPES]
    }

    /// Copy the inline bytes to chunk files and fsync them before the
    /// record says so (a crash in between leaves the inline data in force
    /// and the copy is removed by recovery).
    async fn make_chunked(&self, ino: InodeId, rec: &InodeRecord) -> FsResult<()> {
        let chunks = self.chunks.clone();
        let data = rec.inline.clone();
        blocking(move || {
            if !data.is_empty() {
                chunks.write(ino, 0, 0, &data)?;
            }
            chunks.sync_inode(ino)
        })
        .await?;
        self.meta.apply(Command::MakeChunked { ino })?;
        Ok(())
    }

    async fn read_chunks(
        &self,
        ino: InodeId,
        rec: &InodeRecord,
        offset: u64,
        n: u64,
    ) -> FsResult<Vec<u8>> {
        let chunks = self.chunks.clone();
        let chunk_size = rec.chunk_size as u64;
        blocking(move || {
            let in_chunk = offset % chunk_size;
            if in_chunk + n <= chunk_size {
                // Within one chunk (the common case): no copy.
                return chunks.read(ino, offset / chunk_size, in_chunk as u32, n as u32);
            }
            let mut out = Vec::with_capacity(n as usize);
            let mut pos = offset;
            while pos < offset + n {
                let k = pos / chunk_size;
                let in_chunk = pos % chunk_size;
                let len = (chunk_size - in_chunk).min(offset + n - pos);
                out.extend_from_slice(&chunks.read(ino, k, in_chunk as u32, len as u32)?);
                pos += len;
            }
            Ok(out)
        })
        .await
    }

    async fn write_chunks(
        &self,
        ino: InodeId,
        rec: &InodeRecord,
        offset: u64,
        data: Vec<u8>,
        sync: bool,
    ) -> FsResult<()> {
        let chunks = self.chunks.clone();
        let (len, chunk_size) = (data.len() as u64, rec.chunk_size as u64);
        blocking(move || {
            let mut pos = 0u64;
            while pos < len {
                let abs = offset + pos;
                let k = abs / chunk_size;
                let in_chunk = abs % chunk_size;
                let n = (chunk_size - in_chunk).min(len - pos);
                chunks.write(ino, k, in_chunk as u32, &data[pos as usize..(pos + n) as usize])?;
                pos += n;
            }
            if sync {
                chunks.sync_inode(ino)?;
            }
            Ok(())
        })
        .await
    }

    async fn commit_file(&self, ino: InodeId) -> FsResult<()> {
        ops::apply_pending(self, ino).await?;
        let chunks = self.chunks.clone();
        // Data and metadata fsyncs run side by side: on a journaling file
        // system they can share one journal commit.
        let (data, meta) =
            tokio::join!(blocking(move || chunks.sync_inode(ino)), self.flusher.flush());
        data?;
        meta
    }

    fn chunk_store(&self) -> &ChunkStore {
        &self.chunks
    }

    fn verifier(&self) -> WriteVerifier {
        self.verifier
    }

    async fn stop(&self) -> FsResult<()> {
        self.apply_all_pending().await;
        let chunks = self.chunks.clone();
        blocking(move || chunks.sync_all()).await?;
        self.flusher.flush().await?;
        let marker = self.clean_marker.clone();
        let written = std::fs::write(&marker, b"cairn clean shutdown\n")
            .and_then(|_| std::fs::File::open(&marker)?.sync_all())
            .and_then(|_| match marker.parent() {
                Some(dir) => std::fs::File::open(dir)?.sync_all(),
                None => Ok(()),
            });
        written.map_err(|e| FsError::Io(format!("cannot mark the clean shutdown: {e}")))
    }
}

/// Resolve `path` from the root of `fs`, creating missing directories as
/// root with mode 0755 (the export paths, at start). A directory another
/// node created meanwhile is looked up again.
pub(crate) async fn ensure_path<F: ClusterFs>(fs: &F, path: &str) -> FsResult<FileRef> {
    let mut at = fs.root();
    let root = Credentials::root();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        at = match fs.lookup(&root, at, part.as_bytes()).await {
            Ok((f, _)) => f,
            Err(FsError::NotFound) => {
                let attrs = SetAttr { mode: Some(0o755), ..Default::default() };
                match fs.mkdir(&root, at, part.as_bytes(), attrs).await {
                    Ok(r) => r.value.0,
                    Err(FsError::Exists) => fs.lookup(&root, at, part.as_bytes()).await?.0,
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
    }
    Ok(at)
}

pub(crate) fn chunk_error(e: ChunkError) -> FsError {
    match e {
        ChunkError::NoSpace => FsError::NoSpace,
        other => FsError::Io(other.to_string()),
    }
}

/// Run blocking chunk work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ChunkError> + Send + 'static,
) -> FsResult<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(chunk_error),
        Err(e) => Err(FsError::ServerFault(format!("blocking task failed: {e}"))),
    }
}

pub(crate) fn now() -> Timestamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp { seconds: d.as_secs() as i64, nanos: d.subsec_nanos() }
}

pub(crate) fn generation_from(t: Timestamp) -> Generation {
    Generation(((t.seconds as u64) << 30) ^ t.nanos as u64)
}

pub(crate) fn new_verifier() -> WriteVerifier {
    let t = now();
    let mut v = [0u8; 8];
    let x = (t.seconds as u64).wrapping_mul(1_000_000_007)
        ^ ((t.nanos as u64) << 20)
        ^ std::process::id() as u64
        ^ rand::random::<u64>();
    v.copy_from_slice(&x.to_be_bytes());
    WriteVerifier(v)
}

type FlushWaiter = oneshot::Sender<Result<(), String>>;

/// Group commit: one thread flushes the metadata store for every change
/// waiting when it starts, so concurrent requests share one fsync.
struct Flusher {
    tx: mpsc::Sender<FlushWaiter>,
}

impl Flusher {
    fn start(store: Arc<dyn KvStore>) -> Self {
        let (tx, rx) = mpsc::channel::<FlushWaiter>();
        let spawned = std::thread::Builder::new().name("meta-flush".into()).spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut waiters = vec![first];
                while let Ok(w) = rx.try_recv() {
                    waiters.push(w);
                }
                let r = store.flush().map_err(|e| e.to_string());
                if let Err(e) = &r {
                    tracing::error!(error = %e, "metadata flush failed");
                }
                for w in waiters {
                    let _ = w.send(r.clone());
                }
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the metadata flush thread");
        }
        Flusher { tx }
    }

    async fn flush(&self) -> FsResult<()> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(tx)
            .map_err(|_| FsError::ServerFault("metadata flush thread is gone".into()))?;
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(FsError::Io(e)),
            Err(_) => Err(FsError::ServerFault("metadata flush thread is gone".into())),
        }
    }
}
