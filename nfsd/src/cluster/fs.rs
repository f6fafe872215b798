//! [`ClusterNodeFs`]: [`fsapi::ClusterFs`] of one cluster member.
//!
//! Metadata: every change is a [`meta::Command`] proposed through the Raft
//! driver; the node that took the call answers after its own apply (the
//! driver answers by request id; "outcome unknown" is retried with the same
//! id, which the dedup table makes safe). Reads go to this node's
//! [`MetaReader`]; GETATTR, the first READDIR of a directory and a LOOKUP
//! that misses first wait for a ReadIndex point, which gives close-to-open
//! consistency across nodes (DESIGN.md §4). The proposer stamps times and
//! generations. The namespace operations themselves (checks, commands, wcc
//! data) are `crate::ops`, shared with `LocalFs`; this file is the
//! `ops::Backend` of a member: proposals, catch-up, and the data path.
//!
//! Data: chunk `(ino, k)` lives on `layout::place_live(map, key, R)`; a
//! WRITE goes to the first of them (the primary), which writes its copy and
//! forwards to the others under a per-chunk lock, so every replica applies
//! the writes of a chunk in the same order. See `replica.rs` for the wire.

use super::range_lock::{RangeGuard, RangeLocks};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chunks::{ChunkError, ChunkStore};
use consensus::{DriverError, DriverHandle, ProposalOutcome, UnknownReason};
use fsapi::{FileType, FsError, FsResult, InodeId, WriteVerifier};
use layout::ChunkKey;
use meta::{Applied, Command, InodeRecord, MetaReader, ReplicatedMeta};

use super::replica::{Handler, Peers, Request, Response, Status};
use crate::local::{blocking, chunk_error, PendingWrites};
use crate::ops::{self, Backend, Holds};

/// How long a metadata change may wait for a quorum before the client is
/// told to retry (NFS3ERR_JUKEBOX).
pub const PROPOSE_DEADLINE: Duration = Duration::from_secs(30);
/// How long a read waits for a ReadIndex point before reading what this
/// node has (a node cut off from the quorum keeps serving reads).
pub const READ_INDEX_WAIT: Duration = Duration::from_secs(2);
/// Attempts of a write with a fresh placement after a replica failed.
const WRITE_ATTEMPTS_MAX: usize = 4;
const LOCK_STRIPES: usize = 256;

/// See [`crate::admin::ChunkCounters`].
#[derive(Default)]
struct DataCounters {
    writes: AtomicU64,
    write_bytes: AtomicU64,
    peer_writes: AtomicU64,
    write_retries: AtomicU64,
    reads_local: AtomicU64,
    reads_remote: AtomicU64,
    read_bytes: AtomicU64,
    read_failovers: AtomicU64,
}

fn bump(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}
/// Bytes per request when copying a chunk from a peer.
const COPY_PIECE_BYTES: u64 = 1 << 20;

/// The file system of one cluster member.
pub struct ClusterNodeFs {
    me: u64,
    reader: MetaReader,
    raft: DriverHandle<ReplicatedMeta>,
    chunks: Arc<ChunkStore>,
    peers: Arc<Peers>,
    /// The cluster map this node places chunks with: the newest version
    /// applied from the Raft log ([`Self::refresh_map`]).
    map: parking_lot::RwLock<Arc<super::ClusterState>>,
    /// The map before the current one, until the repair after the change
    /// finished: chunks are read from where it placed them first.
    previous: parking_lot::RwLock<Option<Arc<super::ClusterState>>>,
    /// Chunk copies made by repair (metric).
    repaired: AtomicU64,
    /// The data plane's other counters (metrics).
    counters: DataCounters,
    /// Chunk copies of a file whose inode records none, and of a new file
    /// outside every export with its own count.
    replicas: usize,
    /// `replicas` of `[[export]]` tables (export path, count).
    export_replicas: Vec<(String, usize)>,
    /// Drawn at every start; peers see it in every answer, and the write
    /// verifier is derived from all of them.
    boot: u64,
    /// This node's chunk copies may be behind (it was down): not read from
    /// until the start-up copy from the peers is done.
    syncing: AtomicBool,
    pending: PendingWrites,
    held: Holds,
    /// Per chunk (striped): the primary's write order, and the start-up copy.
    /// Write order per chunk: byte ranges held while a write is applied
    /// and forwarded (see `range_lock`).
    ranges: RangeLocks,
    /// Per inode (striped): inline writes and the move to chunk files.
    inline_locks: Box<[tokio::sync::Mutex<()>]>,
    proposals: AtomicU64,
}

impl ClusterNodeFs {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        me: u64,
        reader: MetaReader,
        raft: DriverHandle<ReplicatedMeta>,
        chunks: Arc<ChunkStore>,
        peers: Arc<Peers>,
        map: super::ClusterState,
        replicas: usize,
        export_replicas: Vec<(String, usize)>,
    ) -> Self {
        let stripes = || (0..LOCK_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect();
        ClusterNodeFs {
            me,
            reader,
            raft,
            chunks,
            peers,
            map: parking_lot::RwLock::new(Arc::new(map)),
            previous: parking_lot::RwLock::new(None),
            repaired: AtomicU64::new(0),
            counters: DataCounters::default(),
            replicas: replicas.max(1),
            export_replicas,
            boot: rand::random::<u64>() | 1,
            syncing: AtomicBool::new(true),
            pending: PendingWrites::default(),
            held: Holds::default(),
            ranges: RangeLocks::default(),
            inline_locks: stripes(),
            proposals: AtomicU64::new(0),
        }
    }

    /// The cluster map in use (the newest this node has applied).
    pub fn cluster(&self) -> Arc<super::ClusterState> {
        self.map.read().clone()
    }

    /// Take up the newest cluster map this node has applied, if it is newer
    /// than the one in use; connect to the members it names. Returns the
    /// map in use.
    pub fn refresh_map(&self) -> Arc<super::ClusterState> {
        let current = self.cluster();
        match self.reader.cluster_map() {
            Ok(Some((v, bytes))) if v > current.map.version().0 => {
                match super::ClusterState::decode(&bytes) {
                    Ok(next) => {
                        tracing::info!(
                            from = current.map.version().0,
                            to = v,
                            "cluster map changed"
                        );
                        self.peers.set_members(&next.replica_addrs());
                        let next = Arc::new(next);
                        // A joining node's first map has no predecessor
                        // (version 0 placed nothing): its start-up copy
                        // fills its chunks before it reads them locally.
                        *self.previous.write() = (current.map.version().0 > 0).then_some(current);
                        *self.map.write() = next.clone();
                        next
                    }
                    Err(e) => {
                        tracing::warn!(version = v, error = %e, "cluster map does not decode");
                        current
                    }
                }
            }
            _ => current,
        }
    }

    /// Chunk copies made by repair since the start.
    pub fn chunks_repaired(&self) -> u64 {
        self.repaired.load(Ordering::Relaxed)
    }

    /// The data plane's counters since the start.
    pub fn chunk_counters(&self) -> crate::admin::ChunkCounters {
        let c = &self.counters;
        let v = |a: &AtomicU64| a.load(Ordering::Relaxed);
        crate::admin::ChunkCounters {
            writes_total: v(&c.writes),
            write_bytes_total: v(&c.write_bytes),
            peer_writes_total: v(&c.peer_writes),
            write_retries_total: v(&c.write_retries),
            reads_local_total: v(&c.reads_local),
            reads_remote_total: v(&c.reads_remote),
            read_bytes_total: v(&c.read_bytes),
            read_failovers_total: v(&c.read_failovers),
        }
    }

    /// Chunk copies of a file without its own count (at most the eligible
    /// members).
    pub fn replicas(&self) -> usize {
        self.replicas
    }

    /// Chunk copies of the file `rec`: what its inode recorded at
    /// creation, else this node's default.
    fn replicas_in(&self, rec: &InodeRecord) -> usize {
        match rec.replicas {
            0 => self.replicas,
            r => r as usize,
        }
    }

    /// Chunk copies of inode `ino` (see [`Self::replicas_in`]).
    fn replicas_of(&self, ino: u64) -> usize {
        match self.reader.inode(InodeId(ino)) {
            Ok(Some(rec)) => self.replicas_in(&rec),
            _ => self.replicas,
        }
    }

    /// Chunk copies of a file created in `dir`, recorded in its inode:
    /// the `replicas` of the export whose root is the nearest ancestor
    /// of `dir` (`dir` included), else this node's default. Computed by
    /// the proposer from the namespace at the time; every node then
    /// places the file's chunks by the recorded count.
    fn replicas_for_new(&self, dir: InodeId) -> u8 {
        let clamp = |r: usize| r.clamp(1, u8::MAX as usize) as u8;
        if self.export_replicas.is_empty() {
            return clamp(self.replicas);
        }
        let mut roots = Vec::new();
        for (path, r) in &self.export_replicas {
            let mut ino = Some(InodeId::ROOT);
            for part in path.split('/').filter(|p| !p.is_empty()) {
                ino = ino.and_then(|d| self.reader.lookup(d, part.as_bytes()).ok().flatten());
            }
            if let Some(ino) = ino {
                roots.push((ino, *r));
            }
        }
        let mut d = dir;
        for _ in 0..4096 {
            if let Some((_, r)) = roots.iter().find(|(root, _)| *root == d) {
                return clamp(*r);
            }
            match self.reader.inode(d) {
                Ok(Some(rec)) if rec.ftype == FileType::Directory && rec.parent != d => {
                    d = rec.parent
                }
                _ => break,
            }
        }
        clamp(self.replicas)
    }

    /// The Raft driver of this node.
    /// This node's id and the incarnation drawn at its start (its boot
    /// id): the node part of the owner of its clients' byte-range locks.
    pub fn incarnation(&self) -> (u64, u64) {
        (self.me, self.boot)
    }

    pub fn raft(&self) -> &DriverHandle<ReplicatedMeta> {
        &self.raft
    }

    /// Commands this node proposed.
    pub fn proposals_total(&self) -> u64 {
        self.proposals.load(Ordering::Relaxed)
    }

    /// True while the start-up copy of chunk data runs.
    pub fn is_syncing(&self) -> bool {
        self.syncing.load(Ordering::Relaxed)
    }

    /// The replica connections.
    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    // ------------------------------------------------------------ metadata

    /// Propose `cmd` and wait for this node's own apply of it.
    pub async fn propose(&self, cmd: Command) -> FsResult<Applied> {
        let deadline = Instant::now() + PROPOSE_DEADLINE;
        let bytes = cmd.encode();
        let retry = |what: &str| -> FsResult<()> {
            if Instant::now() > deadline {
                tracing::warn!(waited = ?PROPOSE_DEADLINE, "metadata change not applied: {what}");
                return Err(FsError::Jukebox);
            }
            Ok(())
        };
        let id = loop {
            match self.raft.next_request_id().await {
                Ok(id) => break id,
                Err(DriverError::Busy) => retry("raft loop busy")?,
                Err(e) => return Err(FsError::ServerFault(format!("raft: {e}"))),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        self.proposals.fetch_add(1, Ordering::Relaxed);
        loop {
            match self.raft.propose(id, bytes.clone()).await {
                Ok(ProposalOutcome::Applied { result, .. }) => {
                    return meta::decode_outcome(&result).map_err(|e| {
                        FsError::ServerFault(format!("undecodable metadata outcome: {e}"))
                    })?;
                }
                Ok(ProposalOutcome::OutcomeUnknown(UnknownReason::TooOld)) => {
                    return Err(FsError::Io("metadata change: outcome unknown".into()));
                }
                Ok(ProposalOutcome::OutcomeUnknown(why)) => retry(&format!("{why:?}"))?,
                Ok(ProposalOutcome::Rejected(why)) => return Err(FsError::ServerFault(why)),
                Err(DriverError::Stopped) => {
                    return Err(FsError::ServerFault("the raft loop stopped".into()))
                }
                Err(e) => retry(&e.to_string())?,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A change went through: drop data of freed inodes and cut truncated
    /// files on every node.
    async fn after_apply(&self, applied: &Applied) {
        if let Some((ino, size, chunk_size)) = applied.truncated {
            let req = Request::Truncate { ino: ino.0, size, chunk_size: chunk_size as u64 };
            self.everywhere(req).await;
        }
        for ino in &applied.freed {
            self.everywhere(Request::RemoveInode { ino: ino.0 }).await;
        }
    }

    /// Propose every file's coalesced size/mtime.
    pub async fn apply_all_pending(&self) {
        ops::apply_all_pending(self).await
    }

    // ---------------------------------------------------------------- data

    /// Hold `[off, off + len)` of a chunk (widened to checksum blocks).
    async fn hold_range(&self, ino: u64, chunk: u64, off: u32, len: usize) -> RangeGuard<'_> {
        let start = off as u64;
        self.ranges.lock(ino, chunk, start, start + len as u64, chunks::BLOCK_SIZE_BYTES).await
    }

    fn key(ino: u64, chunk: u64) -> ChunkKey {
        ChunkKey::new(InodeId(ino), chunk)
    }

    /// The write set of a chunk: R nodes, skipping those that are down.
    fn write_set(&self, ino: u64, chunk: u64) -> Vec<u64> {
        let r = self.replicas_of(ino);
        layout::place_live(&self.cluster().map, Self::key(ino, chunk), r, |n| {
            self.peers.is_live(n.0)
        })
        .into_iter()
        .map(|n| n.0)
        .collect()
    }

    /// Nodes to read a chunk from, best first: its placement, then the
    /// rest in rendezvous order (where writes went while a replica was down).
    ///
    /// While a repair after a map change runs, the nodes the previous map
    /// placed the chunk on come first (a node new to the placement may not
    /// hold its copy yet).
    fn read_order(&self, ino: u64, chunk: u64) -> Vec<u64> {
        let key = Self::key(ino, chunk);
        let order: Vec<u64> =
            layout::candidates(&self.cluster().map, key).into_iter().map(|n| n.0).collect();
        let Some(prev) = self.previous.read().clone() else { return order };
        let held: Vec<u64> =
            layout::place(&prev.map, key, self.replicas_of(ino)).into_iter().map(|n| n.0).collect();
        let mut out: Vec<u64> = held.iter().copied().filter(|n| order.contains(n)).collect();
        let rest: Vec<u64> = order.iter().copied().filter(|n| !out.contains(n)).collect();
        out.extend(rest);
        out
    }

    /// True when this node's own copy of the chunk can be read: it is
    /// placed here, and (during a repair) was already placed here before.
    fn holds(&self, ino: u64, chunk: u64) -> bool {
        let key = Self::key(ino, chunk);
        let me = layout::NodeId(self.me);
        let r = self.replicas_of(ino);
        if !layout::place(&self.cluster().map, key, r).contains(&me) {
            return false;
        }
        match self.previous.read().clone() {
            None => true,
            Some(prev) => layout::place(&prev.map, key, r).contains(&me),
        }
    }

    /// True when this node has a file for the chunk: a peer asked for a
    /// chunk this node never received (it was down, or is new to the
    /// placement) answers [`Status::Absent`] rather than zeros.
    fn has_chunk(&self, ino: u64, chunk: u64) -> bool {
        self.chunks.has_chunk(InodeId(ino), chunk)
    }

    /// True while the repair after a map change has yet to copy this chunk
    /// here (the new map places it here, the previous one did not): this
    /// node's copy may be missing or partial, and a peer must not read it.
    fn copy_pending(&self, ino: u64, chunk: u64) -> bool {
        let Some(prev) = self.previous.read().clone() else { return false };
        let key = Self::key(ino, chunk);
        let me = layout::NodeId(self.me);
        let r = self.replicas_of(ino);
        layout::place(&self.cluster().map, key, r).contains(&me)
            && !layout::place(&prev.map, key, r).contains(&me)
    }

    /// Write on this node's copy (and make it durable when `sync`).
    async fn write_local(
        &self,
        ino: u64,
        chunk: u64,
        off: u32,
        data: Vec<u8>,
        sync: bool,
    ) -> Result<(), ChunkError> {
        let chunks = self.chunks.clone();
        let r = tokio::task::spawn_blocking(move || {
            chunks.write(InodeId(ino), chunk, off, &data)?;
            if sync {
                chunks.sync_inode(InodeId(ino))?;
            }
            Ok(())
        })
        .await;
        r.unwrap_or_else(|e| {
            Err(ChunkError::Io {
                path: Default::default(),
                source: std::io::Error::other(e.to_string()),
            })
        })
    }

    /// As the primary: write here, then on `others`, in this chunk's order.
    async fn primary_write(
        &self,
        ino: u64,
        chunk: u64,
        off: u32,
        data: Vec<u8>,
        sync: bool,
        others: Vec<u64>,
    ) -> Response {
        let _order = self.hold_range(ino, chunk, off, data.len()).await;
        let forward = Request::Write {
            ino,
            chunk,
            offset: off,
            sync,
            forward: Vec::new(),
            data: data.clone(),
        };
        if let Err(e) = self.write_local(ino, chunk, off, data, sync).await {
            return self.error_response(&e);
        }
        let mut acks = vec![(self.me, self.boot)];
        let mut tasks = Vec::new();
        for n in others {
            let peers = self.peers.clone();
            let req = forward.clone();
            tasks.push((n, tokio::spawn(async move { peers.call(n, &req).await })));
        }
        for (n, t) in tasks {
            match t.await {
                Ok(Ok(r)) if r.status == Status::Ok => acks.push((n, r.boot)),
                Ok(Ok(r)) => {
                    let text = String::from_utf8_lossy(&r.data).to_string();
                    return Response::error(
                        Status::ReplicaFailed,
                        self.boot,
                        self.is_syncing(),
                        format!("replica {n}: {text}"),
                    );
                }
                Ok(Err(e)) => {
                    return Response::error(
                        Status::ReplicaFailed,
                        self.boot,
                        self.is_syncing(),
                        format!("replica {n}: {e}"),
                    );
                }
                Err(e) => {
                    return Response::error(
                        Status::ReplicaFailed,
                        self.boot,
                        self.is_syncing(),
                        e.to_string(),
                    );
                }
            }
        }
        Response {
            status: Status::Ok,
            boot: self.boot,
            syncing: self.is_syncing(),
            acks,
            data: Vec::new(),
        }
    }

    fn error_response(&self, e: &ChunkError) -> Response {
        let status = match e {
            ChunkError::NoSpace => Status::NoSpace,
            ChunkError::Checksum { .. } => Status::Checksum,
            _ => Status::Io,
        };
        Response::error(status, self.boot, self.is_syncing(), e.to_string())
    }

    /// Write one chunk's piece on its whole write set.
    async fn replicate(
        &self,
        ino: u64,
        chunk: u64,
        off: u32,
        data: &[u8],
        sync: bool,
    ) -> FsResult<()> {
        let mut last = String::new();
        for attempt in 0..WRITE_ATTEMPTS_MAX {
            if attempt > 0 {
                bump(&self.counters.write_retries, 1);
                tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
            }
            let set = self.write_set(ino, chunk);
            let Some((&primary, others)) = set.split_first() else {
                return Err(FsError::Jukebox);
            };
            let resp = if primary == self.me {
                self.primary_write(ino, chunk, off, data.to_vec(), sync, others.to_vec()).await
            } else {
                let req = Request::Write {
                    ino,
                    chunk,
                    offset: off,
                    sync,
                    forward: others.to_vec(),
                    data: data.to_vec(),
                };
                match self.peers.call(primary, &req).await {
                    Ok(r) => r,
                    Err(e) => {
                        last = format!("primary {primary}: {e}");
                        continue;
                    }
                }
            };
            match resp.status {
                Status::Ok => {
                    bump(&self.counters.writes, 1);
                    bump(&self.counters.write_bytes, data.len() as u64);
                    return Ok(());
                }
                Status::NoSpace => return Err(FsError::NoSpace),
                _ => last = String::from_utf8_lossy(&resp.data).to_string(),
            }
        }
        tracing::warn!(ino, chunk, error = %last, "write failed on every placement tried");
        Err(FsError::Jukebox)
    }

    /// Read one chunk's piece: from this node's copy when it holds one,
    /// else (or on a checksum error, or a dead node) from the others.
    async fn read_piece(&self, ino: u64, chunk: u64, off: u32, len: u32) -> FsResult<Vec<u8>> {
        let order = self.read_order(ino, chunk);
        let mut tried_local = false;
        if self.holds(ino, chunk) && !self.is_syncing() && self.has_chunk(ino, chunk) {
            tried_local = true;
            match self.read_local(ino, chunk, off, len).await {
                Ok(d) => {
                    bump(&self.counters.reads_local, 1);
                    bump(&self.counters.read_bytes, d.len() as u64);
                    return Ok(d);
                }
                Err(e) => {
                    bump(&self.counters.read_failovers, 1);
                    tracing::warn!(ino, chunk, error = %e, "local copy unreadable, reading a replica")
                }
            }
        }
        // Up-to-date live peers first; then anyone alive, this node last.
        let (mut asked, mut absent) = (0usize, 0usize);
        for relaxed in [false, true] {
            for &n in &order {
                if n == self.me {
                    continue;
                }
                let st = self.peers.state(n);
                if !self.peers.is_live(n) || (!relaxed && st.syncing) {
                    continue;
                }
                let req = Request::Read { ino, chunk, offset: off, len };
                asked += 1;
                match self.peers.call(n, &req).await {
                    Ok(r) if r.status == Status::Ok && r.data.len() == len as usize => {
                        bump(&self.counters.reads_remote, 1);
                        bump(&self.counters.read_bytes, r.data.len() as u64);
                        return Ok(r.data);
                    }
                    Ok(r) if r.status == Status::Absent => absent += 1,
                    Ok(r) => {
                        bump(&self.counters.read_failovers, 1);
                        tracing::warn!(ino, chunk, node = n, status = ?r.status, "replica could not serve a read")
                    }
                    Err(e) => {
                        bump(&self.counters.read_failovers, 1);
                        tracing::warn!(ino, chunk, node = n, error = %e, "replica unreachable for a read")
                    }
                }
            }
        }
        // Every node that answered has no file for it: a hole (zeros), or
        // only this node's copy is left.
        if !tried_local && absent == asked {
            return self.read_local(ino, chunk, off, len).await.map_err(chunk_error);
        }
        Err(FsError::Io(format!("no replica could serve chunk {chunk} of inode {ino}")))
    }

    async fn read_local(
        &self,
        ino: u64,
        chunk: u64,
        off: u32,
        len: u32,
    ) -> Result<Vec<u8>, ChunkError> {
        let chunks = self.chunks.clone();
        match tokio::task::spawn_blocking(move || chunks.read(InodeId(ino), chunk, off, len)).await
        {
            Ok(r) => r,
            Err(e) => Err(ChunkError::Io {
                path: Default::default(),
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }

    /// Send `req` to every node, this one included; failures are logged
    /// (repair of a node that missed it is not built yet).
    async fn everywhere(&self, req: Request) {
        let resp = self.handle_local(req.clone()).await;
        if resp.status != Status::Ok {
            tracing::warn!(req = ?req, "local chunk operation failed");
        }
        for n in self.peers.ids() {
            if !self.peers.is_live(n) {
                continue;
            }
            if let Err(e) = self.peers.call(n, &req).await {
                tracing::warn!(node = n, error = %e, "replica missed a chunk operation");
            }
        }
    }

    /// Make every write of `ino` durable on every live node.
    async fn sync_everywhere(&self, ino: InodeId) -> FsResult<()> {
        let req = Request::SyncInode { ino: ino.0 };
        let resp = self.handle_local(req.clone()).await;
        if resp.status != Status::Ok {
            return Err(FsError::Io(String::from_utf8_lossy(&resp.data).to_string()));
        }
        for n in self.peers.ids() {
            if !self.peers.is_live(n) {
                continue;
            }
            match self.peers.call(n, &req).await {
                Ok(r) if r.status == Status::Ok => {}
                Ok(r) => return Err(FsError::Io(String::from_utf8_lossy(&r.data).to_string())),
                // It went down: the verifier changes when it comes back.
                Err(e) => tracing::warn!(node = n, error = %e, "replica down during COMMIT"),
            }
        }
        Ok(())
    }

    async fn handle_local(&self, req: Request) -> Response {
        let chunks = self.chunks.clone();
        let r = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ChunkError> {
            match req {
                Request::SyncInode { ino } => chunks.sync_inode(InodeId(ino)).map(|_| Vec::new()),
                Request::Truncate { ino, size, chunk_size } => {
                    chunks.truncate(InodeId(ino), size, chunk_size).map(|_| Vec::new())
                }
                Request::RemoveInode { ino } => {
                    chunks.remove_inode(InodeId(ino)).map(|_| Vec::new())
                }
                Request::Read { ino, chunk, offset, len } => {
                    chunks.read(InodeId(ino), chunk, offset, len)
                }
                _ => Ok(Vec::new()),
            }
        })
        .await;
        match r {
            Ok(Ok(data)) => Response {
                status: Status::Ok,
                boot: self.boot,
                syncing: self.is_syncing(),
                acks: Vec::new(),
                data,
            },
            Ok(Err(e)) => self.error_response(&e),
            Err(e) => Response::error(Status::Io, self.boot, self.is_syncing(), e.to_string()),
        }
    }

    // ------------------------------------------------------ start-up copy

    /// Bring this node's chunk copies up to date from its peers (it may
    /// have missed writes while it was down), then serve reads from them.
    /// Waits first until this node has caught up with the Raft log.
    pub async fn resync(self: Arc<Self>) {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(120);
        loop {
            match self.raft.status().await {
                Ok(st) if st.leader.is_some() && st.applied >= st.commit => break,
                Err(_) => return,
                _ => {}
            }
            if Instant::now() > deadline {
                tracing::warn!("resync: no leader or not caught up; copying what is known");
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Listed before catching up: data of an inode whose create this
        // node has not applied yet must not be taken for garbage.
        let chunks = self.chunks.clone();
        let local_inodes = tokio::task::spawn_blocking(move || chunks.inodes()).await;
        self.catch_up().await;
        // Size changes coalesced on other nodes land within this interval.
        tokio::time::sleep(crate::local::PENDING_APPLY_INTERVAL + Duration::from_millis(200)).await;
        self.catch_up().await;
        let files = self.chunked_files();
        let mut copied = 0u64;
        for (ino, rec) in &files {
            copied += self.resync_file(*ino, rec).await;
        }
        // Data of inodes that no longer exist (removed while this node was down).
        if let Ok(Ok(inos)) = local_inodes {
            for ino in inos {
                if matches!(self.reader.inode(ino), Ok(None)) {
                    let _ = self.handle_local(Request::RemoveInode { ino: ino.0 }).await;
                }
            }
        }
        self.syncing.store(false, Ordering::Relaxed);
        tracing::info!(
            files = files.len(),
            chunks = copied,
            took = ?started.elapsed(),
            "chunk copies are up to date"
        );
    }

    /// Every chunked regular file of the namespace (as this node has
    /// applied it), each once however many names it has, by inode.
    fn chunked_files(&self) -> Vec<(InodeId, InodeRecord)> {
        let mut files = Vec::new();
        let mut dirs = vec![InodeId::ROOT];
        while let Some(dir) = dirs.pop() {
            let mut cookie = 2;
            while let Ok((entries, eof)) = self.reader.list(dir, cookie, 1024) {
                for e in &entries {
                    cookie = e.cookie;
                    let Ok(Some(rec)) = self.reader.inode(e.child) else { continue };
                    match rec.ftype {
                        FileType::Directory => dirs.push(e.child),
                        FileType::Regular if rec.chunked => files.push((e.child, rec)),
                        _ => {}
                    }
                }
                if eof || entries.is_empty() {
                    break;
                }
            }
        }
        files.sort_by_key(|(i, _)| *i);
        files.dedup_by_key(|(i, _)| *i);
        files
    }

    /// After a map change: copy to this node every chunk the new map
    /// places here and the previous one did not, from the nodes the
    /// previous map placed it on, then forget the previous map. Until
    /// then [`Self::holds`] is false for those chunks, so reads of them go
    /// to the previous holders; the copy runs under the chunk's
    /// write-order lock, so a write that arrives meanwhile lands after it.
    /// Each node pulls its own new copies: when its repair is done, every
    /// chunk it holds is complete. Progress is logged; copies are counted
    /// in [`Self::chunks_repaired`].
    pub async fn repair(self: Arc<Self>) {
        let Some(prev) = self.previous.read().clone() else { return };
        let now = self.cluster();
        let started = Instant::now();
        tracing::info!(
            from = prev.map.version().0,
            to = now.map.version().0,
            "repair: re-placing chunks"
        );
        let files = self.chunked_files();
        let me = layout::NodeId(self.me);
        let (mut copies, mut failed) = (0u64, 0u64);
        for (i, (ino, rec)) in files.iter().enumerate() {
            let chunk_size = rec.chunk_size as u64;
            for chunk in 0..rec.size.div_ceil(chunk_size) {
                let key = Self::key(ino.0, chunk);
                let old = layout::place(&prev.map, key, self.replicas_in(rec));
                let new = layout::place(&now.map, key, self.replicas_in(rec));
                if !new.contains(&me) || old.contains(&me) {
                    continue;
                }
                let sources: Vec<u64> = old.iter().map(|n| n.0).collect();
                let len = chunk_size.min(rec.size - chunk * chunk_size);
                match self.pull_chunk(ino.0, chunk, len, &sources).await {
                    Ok(()) => {
                        copies += 1;
                        self.repaired.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        failed += 1;
                        tracing::warn!(ino = ino.0, chunk, error = %e, "repair: copy failed");
                    }
                }
            }
            if (i + 1) % 100 == 0 {
                tracing::info!(files = i + 1, of = files.len(), copies, "repair: progress");
            }
        }
        if self.cluster().map.version() == now.map.version() && failed == 0 {
            *self.previous.write() = None;
        }
        tracing::info!(files = files.len(), copies, failed, took = ?started.elapsed(), "repair: done");
    }

    /// Copy `len` bytes of a chunk from the first of `sources` that serves
    /// them into this node's copy, in pieces, under the chunk's
    /// write-order lock, durably.
    async fn pull_chunk(
        &self,
        ino: u64,
        chunk: u64,
        len: u64,
        sources: &[u64],
    ) -> Result<(), String> {
        let _order = self.ranges.lock_chunk(ino, chunk).await;
        let mut off = 0u64;
        while off < len {
            let n = COPY_PIECE_BYTES.min(len - off);
            let req = Request::Read { ino, chunk, offset: off as u32, len: n as u32 };
            let mut data = None;
            let mut last = String::from("no live source");
            let (mut asked, mut absent) = (0, 0);
            for &src in sources {
                if src == self.me || !self.peers.is_live(src) {
                    continue;
                }
                asked += 1;
                match self.peers.call(src, &req).await {
                    Ok(r) if r.status == Status::Ok && r.data.len() == n as usize => {
                        data = Some(r.data);
                        break;
                    }
                    Ok(r) if r.status == Status::Absent => absent += 1,
                    Ok(r) => last = format!("node {src}: {}", String::from_utf8_lossy(&r.data)),
                    Err(e) => last = format!("node {src}: {e}"),
                }
            }
            if data.is_none() && asked > 0 && absent == asked {
                // No source has a file for it: a hole, nothing to copy.
                return Ok(());
            }
            let data = data.ok_or(last)?;
            self.write_local(ino, chunk, off as u32, data, off + n >= len)
                .await
                .map_err(|e| e.to_string())?;
            off += n;
        }
        Ok(())
    }

    async fn resync_file(&self, ino: InodeId, rec: &InodeRecord) -> u64 {
        let chunk_size = rec.chunk_size as u64;
        let mut copied = 0;
        for chunk in 0..rec.size.div_ceil(chunk_size) {
            let key = Self::key(ino.0, chunk);
            let placed = layout::place(&self.cluster().map, key, self.replicas_in(rec));
            if !placed.iter().any(|n| n.0 == self.me) {
                continue;
            }
            let len = chunk_size.min(rec.size - chunk * chunk_size);
            let _order = self.ranges.lock_chunk(ino.0, chunk).await;
            let mut off = 0;
            let mut ok = true;
            while off < len && ok {
                let n = COPY_PIECE_BYTES.min(len - off);
                ok = false;
                for peer in self.read_order(ino.0, chunk) {
                    if peer == self.me
                        || !self.peers.is_live(peer)
                        || self.peers.state(peer).syncing
                    {
                        continue;
                    }
                    let req =
                        Request::Read { ino: ino.0, chunk, offset: off as u32, len: n as u32 };
                    if let Ok(r) = self.peers.call(peer, &req).await {
                        if r.status == Status::Ok && r.data.len() == n as usize {
                            ok = self
                                .write_local(ino.0, chunk, off as u32, r.data, false)
                                .await
                                .is_ok();
                            break;
                        }
                    }
                }
                off += n;
            }
            if ok {
                copied += 1;
            }
        }
        // No truncation to the recorded size here: writes may be extending
        // the file right now (their size is proposed after the data).
        let _ = self.handle_local(Request::SyncInode { ino: ino.0 }).await;
        copied
    }
}

impl Handler for ClusterNodeFs {
    async fn handle(&self, _from: u64, req: Request) -> Response {
        match req {
            Request::Ping => Response {
                status: Status::Ok,
                boot: self.boot,
                syncing: self.is_syncing(),
                acks: Vec::new(),
                data: Vec::new(),
            },
            Request::Write { ino, chunk, offset, sync, forward, data } => {
                bump(&self.counters.peer_writes, 1);
                if forward.is_empty() {
                    let _order = self.hold_range(ino, chunk, offset, data.len()).await;
                    match self.write_local(ino, chunk, offset, data, sync).await {
                        Ok(()) => Response {
                            status: Status::Ok,
                            boot: self.boot,
                            syncing: self.is_syncing(),
                            acks: vec![(self.me, self.boot)],
                            data: Vec::new(),
                        },
                        Err(e) => self.error_response(&e),
                    }
                } else {
                    self.primary_write(ino, chunk, offset, data, sync, forward).await
                }
            }
            Request::Read { ino, chunk, .. } if self.copy_pending(ino, chunk) => Response::error(
                Status::Io,
                self.boot,
                self.is_syncing(),
                "this node's copy of the chunk is not made yet (repair)".to_string(),
            ),
            Request::Read { ino, chunk, .. } if !self.has_chunk(ino, chunk) => Response::error(
                Status::Absent,
                self.boot,
                self.is_syncing(),
                "no copy of the chunk here".to_string(),
            ),
            other => self.handle_local(other).await,
        }
    }
}

ops::impl_cluster_fs!(ClusterNodeFs);

impl Backend for ClusterNodeFs {
    type Ns = MetaReader;
    /// Inline data goes through Raft: replicated with the metadata,
    /// durable on a quorum once applied (so FILE_SYNC at once).
    const INLINE_WRITES_DURABLE: bool = true;

    fn ns(&self) -> &MetaReader {
        &self.reader
    }

    async fn apply(&self, cmd: Command) -> FsResult<Applied> {
        let applied = self.propose(cmd).await?;
        self.after_apply(&applied).await;
        Ok(applied)
    }

    async fn apply_write(&self, cmd: Command, _sync: bool) -> FsResult<Applied> {
        self.propose(cmd).await
    }

    /// Wait (bounded) until this node has applied everything committed
    /// before now (ReadIndex), so local reads see other nodes' changes.
    async fn catch_up(&self) -> bool {
        let _ = tokio::time::timeout(READ_INDEX_WAIT, self.raft.read(|_| ())).await;
        true
    }

    fn check_space(&self, _need: u64) -> FsResult<()> {
        Ok(())
    }

    fn pending(&self) -> &PendingWrites {
        &self.pending
    }

    fn held(&self) -> &Holds {
        &self.held
    }

    /// Allocation is spread over the replicas: report the size.
    fn used_bytes(&self, _ino: InodeId, size: u64) -> u64 {
        size
    }

    fn replicas_for_new(&self, dir: InodeId) -> u8 {
        ClusterNodeFs::replicas_for_new(self, dir)
    }

    /// NFSv4 byte-range locks conflict across the cluster: they are
    /// records in the namespace's lock table, owned by this incarnation.
    fn lock_node(&self) -> Option<(u64, u64)> {
        Some((self.me, self.boot))
    }

    fn inline_lock(&self, ino: InodeId) -> &tokio::sync::Mutex<()> {
        &self.inline_locks[ino.0 as usize % LOCK_STRIPES]
    }

    /// Move an inline file's data into chunk files on its replicas,
    /// durably, before the record says so.
    async fn make_chunked(&self, ino: InodeId, rec: &InodeRecord) -> FsResult<()> {
        if !rec.inline.is_empty() {
            self.replicate(ino.0, 0, 0, &rec.inline, true).await?;
        }
        self.propose(Command::MakeChunked { ino }).await?;
        Ok(())
    }

    async fn read_chunks(
        &self,
        ino: InodeId,
        rec: &InodeRecord,
        offset: u64,
        n: u64,
    ) -> FsResult<Vec<u8>> {
        let chunk_size = rec.chunk_size as u64;
        let mut data = Vec::with_capacity(n as usize);
        let mut pos = offset;
        while pos < offset + n {
            let (k, in_chunk) = (pos / chunk_size, pos % chunk_size);
            let len = (chunk_size - in_chunk).min(offset + n - pos);
            data.extend_from_slice(&self.read_piece(ino.0, k, in_chunk as u32, len as u32).await?);
            pos += len;
        }
        Ok(data)
    }

    async fn write_chunks(
        &self,
        ino: InodeId,
        rec: &InodeRecord,
        offset: u64,
        data: Vec<u8>,
        sync: bool,
    ) -> FsResult<()> {
        let (len, chunk_size) = (data.len() as u64, rec.chunk_size as u64);
        let mut pos = 0u64;
        while pos < len {
            let abs = offset + pos;
            let (k, in_chunk) = (abs / chunk_size, abs % chunk_size);
            let n = (chunk_size - in_chunk).min(len - pos);
            self.replicate(
                ino.0,
                k,
                in_chunk as u32,
                &data[pos as usize..(pos + n) as usize],
                sync,
            )
            .await?;
            pos += n;
        }
        Ok(())
    }

    async fn commit_file(&self, ino: InodeId) -> FsResult<()> {
        self.sync_everywhere(ino).await?;
        ops::apply_pending(self, ino).await
    }

    fn chunk_store(&self) -> &ChunkStore {
        &self.chunks
    }

    /// Derived from the boot id of every member: it changes when any
    /// replica restarted (and may have lost unstable writes).
    fn verifier(&self) -> WriteVerifier {
        let mut h = blake3::Hasher::new();
        h.update(&self.me.to_le_bytes());
        h.update(&self.boot.to_le_bytes());
        for (n, b) in self.peers.boots() {
            h.update(&n.to_le_bytes());
            h.update(&b.to_le_bytes());
        }
        let mut v = [0u8; 8];
        v.copy_from_slice(&h.finalize().as_bytes()[..8]);
        WriteVerifier(v)
    }

    async fn stop(&self) -> FsResult<()> {
        self.apply_all_pending().await;
        let chunks = self.chunks.clone();
        blocking(move || chunks.sync_all()).await
    }
}
