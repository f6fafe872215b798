//! Cluster mode: several `cairn` processes agree on the namespace through
//! Raft (`consensus`, `meta::ReplicatedMeta`) and replicate file data node
//! to node (`replica`), each serving NFS (DESIGN.md §2–§4).
//!
//! - [`ClusterNodeFs`] (`fs.rs`): `fsapi::ClusterFs` of one member.
//! - `replica.rs`: the replica service, its own TCP port per node,
//!   authenticated with a key derived from the cluster secret.
//! - this file: the cluster secret file, start-up of a member
//!   ([`start`]), the admin backend ([`ClusterAdmin`]), `cairn cluster init`
//!   and `cairn demo`.
//!
//! Membership (DESIGN.md §3–§4): the cluster map (placement map and each
//! member's addresses, [`ClusterState`]) lives in Raft
//! (`meta::Command::SetClusterMap`, compare-and-set on its version).
//! - Adding (`POST /v1/nodes` at any member, forwarded to the leader
//!   ([`ClusterAdmin`]); `cairn serve --join URL` sends
//!   it for the starting node): the map with the node first, then the node
//!   as a Raft learner; it starts with an empty log and an empty map
//!   (version 0), takes the map from the leader's checkpoint, copies the
//!   chunks placed on it (start-up copy) and is promoted to voter once
//!   its replica service answers and the copy is done.
//! - Removing (`DELETE /v1/nodes/{id}` at any member, forwarded to the
//!   leader; a leader that must go hands leadership over first): the map
//!   without the node first, while it is still a voter, so it applies that
//!   map and exits; then out of the Raft configuration.
//! - Repair after a map change: each member copies the chunks the new map
//!   places on it and the previous one did not, from their previous
//!   holders (pull); until its copy is made, its reads of such a chunk go
//!   to the previous holders and it refuses peer reads of it. Then it
//!   forgets the previous map.
//!
//! Replication factor per file: the inode records the count at creation
//! (`meta::Command::Create { replicas }`, `InodeRecord::replicas`). The
//! proposer picks the `replicas` of the nearest `[[export]]` that sets one
//! and whose root is the new file's directory or one of its ancestors
//! (following the directories' parent links), else `[cluster] replicas`.
//! Every node places the file's chunks with the recorded count, whatever
//! its own configuration says and wherever the file is renamed later; a
//! record with 0 (none recorded) uses the node's `[cluster] replicas`.
//! Placement uses at most the member count (so the default is
//! min(3, members)).
//!
//! Keys: the secret file holds one 32-byte secret; the Raft transport key,
//! the replica key, the file-handle MAC key and the admin API token are
//! derived from it with BLAKE3's `derive_key` under distinct contexts, so
//! no key serves two uses (and the token reveals none of the others).

mod fs;
mod locks;
mod range_lock;
pub mod replica;

pub use fs::ClusterNodeFs;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use consensus::{DriverConfig, Node, NodeId, RaftDriver, Transport, TransportConfig};
use fsapi::Timestamp;
use meta::ReplicatedMeta;
use store::KvStore;

use crate::admin::{
    AdminBackend, AdminError, ClusterStatus, ExportInfo, Health, Member, NewNode, NodeChange,
    RaftCounters, Role, StorageStats,
};
use crate::config::{ClusterSection, Config};

/// First line of the cluster secret file.
const SECRET_FILE_V1: &str = "cairn-cluster-v1";
const RAFT_LOG_PREFIX: &[u8] = b"raft/";

/// What `cairn cluster init` creates and every member reads.
#[derive(Clone)]
pub struct ClusterSecret {
    pub cluster_id: u64,
    /// The root directory's times: the founders' initial states must be
    /// byte-identical, so this comes from the file, not each node's clock.
    pub created: Timestamp,
    pub secret: [u8; 32],
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex32(s: &str) -> anyhow::Result<[u8; 32]> {
    anyhow::ensure!(s.len() == 64, "bad key length");
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)?;
    }
    Ok(out)
}

impl ClusterSecret {
    /// A new cluster.
    pub fn generate() -> Self {
        ClusterSecret {
            cluster_id: rand::random::<u64>() | 1,
            created: crate::local::now(),
            secret: rand::random(),
        }
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        use crate::admin::auth::write_private;
        let text = format!(
            "{SECRET_FILE_V1}\n{:016x}\n{}.{:09}\n{}\n",
            self.cluster_id,
            self.created.seconds,
            self.created.nanos,
            hex(&self.secret)
        );
        write_private(path, &text)
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the cluster secret file {}", path.display()))?;
        let parse = || -> anyhow::Result<Self> {
            let mut l = text.lines();
            anyhow::ensure!(l.next() == Some(SECRET_FILE_V1), "unknown format");
            let cluster_id = u64::from_str_radix(l.next().unwrap_or_default(), 16)?;
            let (s, n) = l.next().unwrap_or_default().split_once('.').context("created time")?;
            let created = Timestamp { seconds: s.parse()?, nanos: n.parse()? };
            let secret = unhex32(l.next().unwrap_or_default())?;
            Ok(ClusterSecret { cluster_id, created, secret })
        };
        parse().with_context(|| format!("{} is not a cluster secret file", path.display()))
    }

    fn derive(&self, context: &str) -> [u8; 32] {
        blake3::derive_key(context, &self.secret)
    }
    /// Key of the Raft peer transport.
    pub fn raft_key(&self) -> [u8; 32] {
        self.derive("cairn cluster v1 raft transport")
    }
    /// Key of the replica service.
    pub fn replica_key(&self) -> [u8; 32] {
        self.derive("cairn cluster v1 replica service")
    }
    /// MAC key of file handles (the same on every node, DESIGN.md §6).
    pub fn handle_key(&self) -> [u8; 32] {
        self.derive("cairn cluster v1 file handles")
    }
    /// The admin API's bearer token, the same on every member: one token
    /// for the operator, and the one members use to forward admin requests
    /// to the leader (and `serve --join` to ask to be added).
    pub fn admin_token(&self) -> crate::admin::auth::Token {
        crate::admin::auth::Token::of_key(&self.derive("cairn cluster v1 admin api token"))
    }
}

/// A started cluster member.
pub struct Running {
    pub fs: Arc<ClusterNodeFs>,
    pub secret: ClusterSecret,
    net: Arc<RaftNet>,
    raft_thread: Option<std::thread::JoinHandle<()>>,
    stop_replica: tokio::sync::watch::Sender<bool>,
    /// Membership requests this node's admin API is answering; a node that
    /// learns it was removed answers them before it exits.
    in_flight: Arc<AtomicUsize>,
}

impl Running {
    /// Stop the replica service, the Raft loop and the transport.
    pub async fn stop(mut self) {
        let _ = self.stop_replica.send(true);
        self.fs.raft().stop();
        self.net.transport().shutdown();
        if let Some(t) = self.raft_thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

/// Where a member listens, as the replicated cluster state records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemberAddrs {
    /// Raft peer transport.
    pub raft: SocketAddr,
    /// Replica service (chunk data).
    pub replica: SocketAddr,
    /// NFS, when known (for status).
    pub nfs: Option<String>,
    /// Admin API, when known (for status).
    pub admin: Option<String>,
}

/// Format version of [`ClusterState`]'s encoding.
const CLUSTER_STATE_FORMAT: u32 = 1;

/// The cluster map as kept in Raft (`meta::Command::SetClusterMap`): the
/// placement map and where each member listens. Its version is the map's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClusterState {
    /// Always [`CLUSTER_STATE_FORMAT`]; first, so a reader can refuse a newer one.
    pub format: u32,
    pub map: layout::ClusterMap,
    pub members: BTreeMap<u64, MemberAddrs>,
}

impl ClusterState {
    /// The founding state of `members`: one failure domain per node.
    pub fn founding(members: &[crate::config::MemberSection]) -> anyhow::Result<Self> {
        let mut st = ClusterState {
            format: CLUSTER_STATE_FORMAT,
            map: layout::ClusterMap::new(),
            members: BTreeMap::new(),
        };
        for m in members {
            let addrs = MemberAddrs {
                raft: m.raft,
                replica: m.replica,
                nfs: m.nfs.clone(),
                admin: m.admin.clone(),
            };
            st = st.with_node(m.id, addrs, &format!("node-{}", m.id), 1)?;
        }
        Ok(st)
    }

    /// Deterministic bytes (JSON of ordered maps).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(b: &[u8]) -> anyhow::Result<Self> {
        let st: ClusterState = serde_json::from_slice(b)?;
        anyhow::ensure!(
            st.format == CLUSTER_STATE_FORMAT,
            "unknown cluster state format {}",
            st.format
        );
        Ok(st)
    }

    /// The state with node `id` added (version + 1).
    pub fn with_node(
        &self,
        id: u64,
        addrs: MemberAddrs,
        domain: &str,
        weight: u32,
    ) -> anyhow::Result<Self> {
        let info = layout::NodeInfo::new(
            layout::NodeId(id),
            addrs.replica.to_string(),
            layout::FailureDomain::new(domain),
            weight,
        );
        let map = self.map.add_node(info).context("cluster map")?;
        let mut members = self.members.clone();
        members.insert(id, addrs);
        Ok(ClusterState { format: CLUSTER_STATE_FORMAT, map, members })
    }

    /// The state with node `id` removed (a tombstone in the map; version + 1).
    pub fn without_node(&self, id: u64) -> anyhow::Result<Self> {
        let map = self.map.remove_node(layout::NodeId(id)).context("cluster map")?;
        let mut members = self.members.clone();
        members.remove(&id);
        Ok(ClusterState { format: CLUSTER_STATE_FORMAT, map, members })
    }

    /// True when `id` is a member (not removed).
    pub fn is_member(&self, id: u64) -> bool {
        self.members.contains_key(&id)
    }

    pub fn replica_addrs(&self) -> BTreeMap<u64, SocketAddr> {
        self.members.iter().map(|(id, m)| (*id, m.replica)).collect()
    }

    pub fn raft_addrs(&self) -> BTreeMap<NodeId, SocketAddr> {
        self.members.iter().map(|(id, m)| (NodeId(*id), m.raft)).collect()
    }
}

/// The Raft transport, restarted with a new peer list when the cluster map
/// names other members (the transport's peers are fixed at its start).
struct RaftNet {
    me: u64,
    key: [u8; 32],
    listen: SocketAddr,
    handle: consensus::DriverHandle<ReplicatedMeta>,
    current: parking_lot::Mutex<(Transport, BTreeMap<NodeId, SocketAddr>)>,
}

impl RaftNet {
    fn transport(&self) -> Transport {
        self.current.lock().0.clone()
    }

    async fn set_peers(&self, peers: BTreeMap<NodeId, SocketAddr>) {
        if self.current.lock().1 == peers {
            return;
        }
        let old = self.transport();
        old.shutdown();
        // The old accept task drops its listener when it sees the shutdown.
        let mut listener = None;
        for _ in 0..100 {
            match tokio::net::TcpListener::bind(self.listen).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        let Some(listener) = listener else {
            tracing::error!(listen = %self.listen, "cannot listen for Raft peers again");
            return;
        };
        let tcfg = TransportConfig::new(NodeId(self.me), self.key, peers.clone());
        match Transport::start(tcfg, listener, Arc::new(self.handle.clone())) {
            Ok(t) => {
                tracing::info!(peers = ?peers.keys().map(|p| p.0).collect::<Vec<_>>(), "Raft peers changed");
                *self.current.lock() = (t, peers);
            }
            Err(e) => tracing::error!(error = %e, "cannot restart the Raft transport"),
        }
    }
}

/// Start this node's part of the cluster: open (or found) its Raft log and
/// metadata replica in `data_dir/meta`, its chunk files in
/// `data_dir/chunks`, the Raft transport and the replica service.
///
/// The cluster map comes from the replicated state: the founders put the
/// map of `[[cluster.member]]` into the founding checkpoint; a node that
/// joins later (`join`) starts with an empty log and learns everything,
/// the map included, from the checkpoint the leader sends it.
pub async fn start(
    cfg: &Config,
    section: &ClusterSection,
    root_mode: u32,
) -> anyhow::Result<Running> {
    let data_dir = &cfg.server.data_dir;
    let secret = ClusterSecret::read(&section.secret_file)?;
    let me = section.node_id;
    let Some(mine) = section.members.iter().find(|m| m.id == me) else {
        bail!("cluster.node_id {me} is not one of the [[cluster.member]] entries");
    };
    if me == 0 || section.members.iter().any(|m| m.id == 0) {
        bail!("node id 0 is reserved");
    }
    let store: Arc<dyn KvStore> = Arc::new(store::SledStore::open(data_dir.join("meta"))?);
    let founding = ClusterState::founding(&section.members)?;
    if !section.join {
        let founders: Vec<NodeId> = section.members.iter().map(|m| NodeId(m.id)).collect();
        // The founding state is built apart (every founder alike) and only
        // its checkpoint is written: an initialized log is left alone.
        let initial =
            ReplicatedMeta::open(Arc::new(store::MemStore::new()), root_mode, secret.created)?;
        initial.install_founding_cluster_map(founding.map.version().0, &founding.encode())?;
        match Node::bootstrap(store.clone(), RAFT_LOG_PREFIX, &founders, initial) {
            Ok(()) => tracing::info!(members = founders.len(), "founded the cluster's Raft log"),
            Err(consensus::Error::AlreadyInitialized) => {}
            Err(e) => return Err(e).context("cannot found the Raft log"),
        }
    }
    let sm = ReplicatedMeta::open(store.clone(), root_mode, secret.created)?;
    let reader = sm.reader().clone();
    let mut ncfg = consensus::Config::new(NodeId(me));
    ncfg.log_prefix = RAFT_LOG_PREFIX.to_vec();
    let node = Node::open(ncfg, store, sm).context("cannot open the Raft log")?;
    let dcfg = DriverConfig {
        tick_interval: Duration::from_millis(section.tick_ms.clamp(10, 1000)),
        input_queue_len: 4096,
    };
    let (handle, inbox) = RaftDriver::channel::<ReplicatedMeta>(&dcfg);
    let raft_listener = tokio::net::TcpListener::bind(mine.raft)
        .await
        .with_context(|| format!("cannot listen for Raft peers on {}", mine.raft))?;
    // What this node knows now: the applied map, else the configuration's.
    // A joining node that has applied nothing yet knows only where the
    // members listen: its map stays empty (version 0) until the leader's
    // checkpoint brings the real one, which then replaces it whatever its
    // version (the founding map of a joiner's configuration is not the
    // cluster's and must not shadow it).
    let known = match reader.cluster_map() {
        Ok(Some((_, b))) => ClusterState::decode(&b).unwrap_or(founding),
        _ if section.join => ClusterState {
            format: CLUSTER_STATE_FORMAT,
            map: layout::ClusterMap::new(),
            members: founding.members.clone(),
        },
        _ => founding,
    };
    let mut raft_peers = known.raft_addrs();
    for m in &section.members {
        raft_peers.entry(NodeId(m.id)).or_insert(m.raft);
    }
    let tcfg = TransportConfig::new(NodeId(me), secret.raft_key(), raft_peers.clone());
    let transport = Transport::start(tcfg, raft_listener, Arc::new(handle.clone()))?;
    let net = Arc::new(RaftNet {
        me,
        key: secret.raft_key(),
        listen: mine.raft,
        handle: handle.clone(),
        current: parking_lot::Mutex::new((transport, raft_peers)),
    });
    let sink_net = net.clone();
    let raft_thread = inbox.spawn(
        node,
        Box::new(move |ob| {
            let _ = sink_net.transport().send(ob);
        }),
    )?;

    let chunks = Arc::new(chunks::ChunkStore::open(&data_dir.join("chunks"), Default::default())?);
    let mut replica_addrs = known.replica_addrs();
    for m in &section.members {
        replica_addrs.entry(m.id).or_insert(m.replica);
    }
    let peers = Arc::new(replica::Peers::new(me, secret.replica_key(), &replica_addrs));
    let replicas = section.replicas.max(1);
    let mut export_replicas = Vec::new();
    for e in &cfg.exports {
        if let Some(r) = e.replicas {
            if !(1..=255).contains(&r) {
                bail!("export {}: replicas must be 1 to 255, not {r}", e.path);
            }
            export_replicas.push((e.path.clone(), r));
        }
    }
    let fs = Arc::new(ClusterNodeFs::new(
        me,
        reader,
        handle,
        chunks,
        peers.clone(),
        known,
        replicas,
        export_replicas,
    ));
    let replica_listener = tokio::net::TcpListener::bind(mine.replica)
        .await
        .with_context(|| format!("cannot listen for replica traffic on {}", mine.replica))?;
    let (stop_replica, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(replica::serve(replica_listener, secret.replica_key(), me, fs.clone(), stop_rx));
    start_background(&fs);
    locks::start(&fs, cfg.nfs4.lease()?);
    let in_flight = Arc::new(AtomicUsize::new(0));
    start_map_watch(&fs, &net, section.join, in_flight.clone());
    // Learn the peers' boot ids before the first write verifier goes out.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::Instant::now() < deadline && !peers.ids().iter().all(|n| peers.is_live(*n)) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::spawn(fs.clone().resync());
    Ok(Running { fs, secret, net, raft_thread: Some(raft_thread), stop_replica, in_flight })
}

/// `cairn serve --join URL`: ask the admin API at `url` to add this node
/// (in the background, retried for a while: the leader may be changing).
pub fn ask_to_join(
    url: String,
    token: crate::admin::auth::Token,
    section: &ClusterSection,
    nfs: SocketAddr,
    admin: SocketAddr,
) {
    let Some(mine) = section.members.iter().find(|m| m.id == section.node_id).cloned() else {
        return;
    };
    let node = NewNode {
        id: mine.id,
        raft_address: mine.raft,
        replica_address: mine.replica,
        nfs_address: Some(mine.nfs.clone().unwrap_or_else(|| nfs.to_string())),
        admin_address: Some(mine.admin.clone().unwrap_or_else(|| admin.to_string())),
        failure_domain: None,
        weight: None,
    };
    tokio::task::spawn_blocking(move || {
        // $CAIRN_ADMIN_TOKEN, when set, overrides the cluster's token.
        let mut opts = crate::admin::cli::ConnectOptions {
            admin: Some(url),
            token: Some(token),
            ..Default::default()
        };
        for attempt in 0..20 {
            match crate::admin::cli::node_add(&opts, &node) {
                Ok(()) => return,
                Err(e) => tracing::warn!(attempt, error = %format!("{e:#}"), "asking to join"),
            }
            // The node asked may not be the leader (any longer): ask the
            // leader it names next time.
            if let Ok(Some(leader)) = crate::admin::cli::leader_admin_url(&opts) {
                if opts.admin.as_deref() != Some(leader.as_str()) {
                    tracing::info!(url = %leader, "asking the leader to join");
                    opts.admin = Some(leader);
                }
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        tracing::error!("could not join the cluster: add this node with `cairn node add`");
    });
}

/// Follow the applied cluster map: take up new versions (placement, replica
/// peers, Raft peers), repair chunk copies after a member left, and stop
/// this process once the map says this node was removed (after answering
/// the membership requests in flight here, within a bound: the removal of
/// the node asked is answered by that node).
fn start_map_watch(
    fs: &Arc<ClusterNodeFs>,
    net: &Arc<RaftNet>,
    joining: bool,
    in_flight: Arc<AtomicUsize>,
) {
    let weak = Arc::downgrade(fs);
    let net = net.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let mut seen = 0u64;
        let mut was_member = !joining;
        loop {
            tick.tick().await;
            let Some(fs) = weak.upgrade() else { return };
            let st = fs.refresh_map();
            let v = st.map.version().0;
            if v == seen {
                continue;
            }
            let mut peers = st.raft_addrs();
            peers.remove(&NodeId(net.me));
            net.set_peers(peers).await;
            let member = st.is_member(net.me);
            if was_member && !member {
                tracing::warn!(
                    map_version = v,
                    "this node was removed from the cluster: it stops serving"
                );
                let deadline = tokio::time::Instant::now() + FORWARD_TIMEOUT;
                while in_flight.load(Ordering::Acquire) > 0
                    && tokio::time::Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                std::process::exit(0);
            }
            was_member |= member;
            if seen != 0 {
                tokio::spawn(fs.clone().repair());
            }
            seen = v;
        }
    });
}

/// Ping the peers (liveness and boot ids) and propose coalesced size/mtime
/// changes, for as long as the file system is alive.
fn start_background(fs: &Arc<ClusterNodeFs>) {
    let weak = Arc::downgrade(fs);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            let Some(fs) = weak.upgrade() else { return };
            for n in fs.peers().ids() {
                let fs = fs.clone();
                tokio::spawn(async move {
                    let _ = fs.peers().call(n, &replica::Request::Ping).await;
                });
            }
        }
    });
    let weak = Arc::downgrade(fs);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(crate::local::PENDING_APPLY_INTERVAL);
        loop {
            tick.tick().await;
            let Some(fs) = weak.upgrade() else { return };
            fs.apply_all_pending().await;
        }
    });
}

// ----------------------------------------------------------------- admin

/// Most times a membership request is forwarded from member to member
/// towards the leader (a bound against two members that each believe the
/// other leads, during an election).
const FORWARD_HOPS_MAX: u8 = 3;
/// Deadline of a forwarded membership request's answer.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(75);
/// How long a leader that must leave waits for another voter to lead.
const TRANSFER_WAIT: Duration = Duration::from_secs(10);

/// [`AdminBackend`] of a cluster member: Raft status from the driver.
///
/// Membership changes are proposed by the leader (raft-rs takes
/// configuration changes there only). Any member takes the request: one
/// that does not lead forwards it, as it came, to the leader's admin API
/// with the cluster's admin token (the same on every member) and returns
/// the leader's answer. Forwarding the whole request rather than its
/// proposals through Raft keeps every check and both steps (map, then
/// Raft configuration) in one place, on the node that can take both. A
/// leader asked to remove itself hands leadership to another voter first
/// ([`consensus::DriverHandle::transfer_leadership`]), waits to be a
/// follower, and forwards the request to the new leader like any follower.
pub struct ClusterAdmin {
    fs: Arc<ClusterNodeFs>,
    cluster_id: u64,
    me: u64,
    nfs_address: SocketAddr,
    admin_address: Option<SocketAddr>,
    exports: Vec<ExportInfo>,
    /// `replicas` of each export (same order), `[cluster] replicas` when
    /// no export sets one; capped by the member count when answering.
    export_replicas: Vec<usize>,
    token: crate::admin::auth::Token,
    /// How often to ask again for a leadership transfer (raft-rs drops one
    /// that has not finished within an election timeout).
    transfer_retry: Duration,
    /// One Raft tick (a leader heartbeat goes out every tick).
    tick: Duration,
    in_flight: Arc<AtomicUsize>,
}

/// Counts a membership request in [`Running::in_flight`] while it lives.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(c: &Arc<AtomicUsize>) -> Self {
        c.fetch_add(1, Ordering::AcqRel);
        InFlight(c.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The replication factor of each of `exports` as the proposer picks it
/// for a new file (`fs.rs`): the export's own `replicas`, else that of the
/// nearest export whose path encloses it, else `default`.
fn export_replication(exports: &[crate::config::ExportSection], default: usize) -> Vec<usize> {
    let encloses = |outer: &str, inner: &str| {
        let outer = outer.trim_end_matches('/');
        inner == outer || inner.strip_prefix(outer).is_some_and(|rest| rest.starts_with('/'))
    };
    exports
        .iter()
        .map(|e| {
            exports
                .iter()
                .filter(|o| o.replicas.is_some() && encloses(&o.path, &e.path))
                .max_by_key(|o| o.path.trim_end_matches('/').len())
                .and_then(|o| o.replicas)
                .unwrap_or(default)
        })
        .collect()
}

impl ClusterAdmin {
    pub fn new(
        running: &Running,
        cfg: &Config,
        section: &ClusterSection,
        nfs_address: SocketAddr,
        admin_address: Option<SocketAddr>,
        exports: &[nfs_server::Export],
    ) -> Self {
        let replication = export_replication(&cfg.exports, section.replicas.max(1));
        let export_replicas = exports
            .iter()
            .map(|e| {
                let i = cfg.exports.iter().position(|c| c.path == e.rules.path);
                i.map_or(section.replicas.max(1), |i| replication[i])
            })
            .collect();
        ClusterAdmin {
            fs: running.fs.clone(),
            cluster_id: running.secret.cluster_id,
            me: section.node_id,
            nfs_address,
            admin_address,
            exports: exports.iter().map(|e| ExportInfo::from(&e.rules)).collect(),
            export_replicas,
            token: running.secret.admin_token(),
            // Two election timeouts (10 ticks each, `consensus::Config`).
            transfer_retry: Duration::from_millis(20 * section.tick_ms.clamp(10, 1000)),
            tick: Duration::from_millis(section.tick_ms.clamp(10, 1000)),
            in_flight: running.in_flight.clone(),
        }
    }
}

fn role_of(r: consensus::Role) -> Role {
    match r {
        consensus::Role::Leader => Role::Leader,
        consensus::Role::Follower => Role::Follower,
        _ => Role::Candidate,
    }
}

impl AdminBackend for ClusterAdmin {
    async fn status(&self) -> Result<ClusterStatus, AdminError> {
        let st =
            self.fs.raft().status().await.map_err(|e| AdminError::Unavailable(e.to_string()))?;
        let version = env!("CARGO_PKG_VERSION").to_string();
        let peers = self.fs.peers();
        let cluster = self.fs.refresh_map();
        let mut members = Vec::new();
        let mut down = 0;
        for (id, addrs) in &cluster.members {
            let m = crate::config::MemberSection {
                id: *id,
                raft: addrs.raft,
                replica: addrs.replica,
                nfs: addrs.nfs.clone(),
                admin: addrs.admin.clone(),
            };
            let this = m.id == self.me;
            let live = this || peers.is_live(m.id);
            if !live {
                down += 1;
            }
            let role = if this {
                role_of(st.role)
            } else if st.leader == Some(NodeId(m.id)) {
                Role::Leader
            } else if st.learners.contains(&NodeId(m.id)) {
                Role::Learner
            } else {
                Role::Follower
            };
            members.push(Member {
                node_id: Some(m.id),
                nfs_address: if this {
                    self.nfs_address.to_string()
                } else {
                    m.nfs.clone().unwrap_or_default()
                },
                admin_address: if this {
                    self.admin_address.map(|a| a.to_string())
                } else {
                    m.admin.clone()
                },
                role,
                health: if live { Health::Ok } else { Health::Down },
                version: this.then(|| version.clone()),
                this_node: this,
            });
        }
        let health = if st.leader.is_none() {
            Health::Down
        } else if down > 0 || self.fs.is_syncing() {
            Health::Degraded
        } else {
            Health::Ok
        };
        Ok(ClusterStatus {
            cluster_id: format!("{:016x}", self.cluster_id),
            node_id: Some(self.me),
            role: role_of(st.role),
            health,
            version,
            leader: st.leader.map(|l| l.0),
            term: Some(st.term),
            commit_index: Some(st.commit.0),
            applied_index: Some(st.applied.0),
            map_version: Some(cluster.map.version().0),
            members,
        })
    }

    async fn exports(&self) -> Result<Vec<ExportInfo>, AdminError> {
        let members = self.fs.refresh_map().members.len().max(1);
        let mut out = self.exports.clone();
        for (e, r) in out.iter_mut().zip(&self.export_replicas) {
            e.replicas = u32::try_from((*r).min(members)).ok();
        }
        Ok(out)
    }

    async fn storage(&self) -> Option<StorageStats> {
        use fsapi::ClusterFs;
        let (s, _) = self.fs.fsstat(self.fs.root()).await.ok()?;
        Some(StorageStats {
            capacity_bytes: s.total_bytes,
            free_bytes: s.free_bytes,
            available_bytes: s.avail_bytes,
        })
    }

    fn raft_counters(&self) -> Option<RaftCounters> {
        Some(RaftCounters {
            proposals_total: self.fs.proposals_total(),
            chunks_repaired_total: self.fs.chunks_repaired(),
            chunks: self.fs.chunk_counters(),
        })
    }

    async fn add_node(&self, node: NewNode, hops: u8) -> Result<NodeChange, AdminError> {
        let _counted = InFlight::new(&self.in_flight);
        let id = node.id;
        if id == 0 {
            return Err(AdminError::Invalid("node id 0 is reserved".into()));
        }
        let st = self.raft_status().await?;
        if st.role != consensus::Role::Leader {
            let body =
                serde_json::to_vec(&node).map_err(|e| AdminError::Internal(e.to_string()))?;
            return self.forward(&st, "POST", "/v1/nodes".into(), Some(body), hops).await;
        }
        let cur = self.fs.refresh_map();
        if cur.map.node(layout::NodeId(id)).is_some() {
            return Err(AdminError::Invalid(format!("node id {id} is or was in use")));
        }
        let addrs = MemberAddrs {
            raft: node.raft_address,
            replica: node.replica_address,
            nfs: node.nfs_address,
            admin: node.admin_address,
        };
        let domain = node.failure_domain.unwrap_or_else(|| format!("node-{id}"));
        let next = cur
            .with_node(id, addrs, &domain, node.weight.unwrap_or(1))
            .map_err(|e| AdminError::Invalid(format!("{e:#}")))?;
        // The map first: every member then connects to the new node.
        let version = self.set_map(&cur, &next).await?;
        self.conf_change(consensus::add_learner(NodeId(id))).await?;
        tracing::info!(node = id, map_version = version, "added a learner");
        // Promote once it has caught up (its replica service answers and
        // its start-up copy is done), within a bound.
        let fs = self.fs.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
            while tokio::time::Instant::now() < deadline {
                let st = fs.peers().state(id);
                if fs.peers().is_live(id) && !st.syncing {
                    match conf_change(&fs, consensus::promote_voter(NodeId(id))).await {
                        Ok(()) => {
                            tracing::info!(node = id, "promoted to voter");
                            return;
                        }
                        Err(e) => {
                            tracing::info!(node = id, error = %e, "promotion not yet possible")
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            tracing::warn!(node = id, "the new node did not catch up: it stays a learner");
        });
        Ok(NodeChange { node_id: id, map_version: version })
    }

    async fn remove_node(&self, id: u64, hops: u8) -> Result<NodeChange, AdminError> {
        let _counted = InFlight::new(&self.in_flight);
        let cur = self.fs.refresh_map();
        let mut st = self.raft_status().await?;
        let in_raft = st.voters.contains(&NodeId(id)) || st.learners.contains(&NodeId(id));
        if !cur.is_member(id) && !in_raft {
            return Err(AdminError::NotFound(format!("node {id} is not a member")));
        }
        if st.voters == [NodeId(id)] {
            return Err(AdminError::Conflict(format!(
                "node {id} is the last voter: removing it would leave no cluster"
            )));
        }
        if id == self.me && st.role == consensus::Role::Leader {
            st = self.hand_over_leadership().await?;
        }
        if st.role != consensus::Role::Leader {
            return self.forward(&st, "DELETE", format!("/v1/nodes/{id}"), None, hops).await;
        }
        // The map first, while the node is still a voter: it applies the
        // map without itself and stops serving (a node already out of the
        // Raft configuration would never learn that it was removed). Then
        // out of Raft; a map change already made is not undone when that
        // fails: asking again finishes it.
        let version = if cur.is_member(id) {
            let next = cur.without_node(id).map_err(|e| AdminError::Invalid(format!("{e:#}")))?;
            self.set_map(&cur, &next).await?
        } else {
            cur.map.version().0
        };
        if in_raft {
            self.wait_holds_map(id).await?;
            self.conf_change(consensus::remove_node(NodeId(id))).await?;
        }
        tracing::info!(node = id, map_version = version, "removed a node");
        Ok(NodeChange { node_id: id, map_version: version })
    }
}

impl ClusterAdmin {
    async fn raft_status(&self) -> Result<consensus::Status, AdminError> {
        self.fs.raft().status().await.map_err(|e| AdminError::Unavailable(e.to_string()))
    }

    /// This leader hands leadership to another voter and waits (bounded)
    /// until it follows a new leader; returns its status then. Nothing has
    /// changed when this fails.
    async fn hand_over_leadership(&self) -> Result<consensus::Status, AdminError> {
        let deadline = tokio::time::Instant::now() + TRANSFER_WAIT;
        let mut next_ask = tokio::time::Instant::now();
        loop {
            let st = self.raft_status().await?;
            if st.role != consensus::Role::Leader {
                if st.leader.is_some_and(|l| l.0 != self.me) {
                    return Ok(st);
                }
            } else if tokio::time::Instant::now() >= next_ask {
                next_ask = tokio::time::Instant::now() + self.transfer_retry;
                match self.fs.raft().transfer_leadership(vec![NodeId(self.me)]).await {
                    Ok(to) => tracing::info!(to = to.0, "handing leadership over before leaving"),
                    Err(consensus::DriverError::ConfChange(
                        consensus::ConfChangeError::Refused(why),
                    )) => {
                        return Err(AdminError::Conflict(format!(
                            "node {} leads and cannot hand leadership over: {why}",
                            self.me
                        )))
                    }
                    Err(e) => tracing::info!(error = %e, "leadership transfer not started"),
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(AdminError::Unavailable(format!(
                    "node {} still leads after {} s: no other voter took over (is a majority up?); nothing was changed, retry",
                    self.me,
                    TRANSFER_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Send a membership request to the leader's admin API (this node does
    /// not lead) and return its answer as this node's.
    async fn forward(
        &self,
        st: &consensus::Status,
        method: &'static str,
        path: String,
        body: Option<Vec<u8>>,
        hops: u8,
    ) -> Result<NodeChange, AdminError> {
        let Some(leader) = st.leader.map(|l| l.0).filter(|l| *l != self.me) else {
            return Err(AdminError::Unavailable(
                "no leader is known now (an election is running?); retry".into(),
            ));
        };
        if hops >= FORWARD_HOPS_MAX {
            return Err(AdminError::Unavailable(format!(
                "forwarded {hops} times without reaching the leader; retry"
            )));
        }
        let addr = self.fs.refresh_map().members.get(&leader).and_then(|m| m.admin.clone());
        let Some(addr) = addr else {
            return Err(AdminError::Unavailable(format!(
                "the leader, node {leader}, has no admin address in the cluster map: ask it directly"
            )));
        };
        let endpoint = crate::admin::client::Endpoint::parse(&addr)
            .map_err(|e| AdminError::Internal(format!("node {leader}'s admin address: {e:#}")))?;
        let token = self.token.clone();
        tracing::info!(leader, method, path, "forwarding a membership request to the leader");
        let answer = tokio::task::spawn_blocking(move || {
            let hops = [(crate::admin::FORWARD_HOPS_HEADER, (hops + 1).to_string())];
            crate::admin::client::request_with(
                &endpoint,
                method,
                &path,
                Some(&token),
                body.as_deref(),
                &hops,
                FORWARD_TIMEOUT,
            )
        })
        .await
        .map_err(|e| AdminError::Internal(e.to_string()))?
        .map_err(|e| AdminError::Unavailable(format!("the leader, node {leader}: {e:#}")))?;
        let why = || format!("the leader, node {leader}: {}", answer.error_message());
        match answer.status {
            200 => serde_json::from_slice(&answer.body)
                .map_err(|e| AdminError::Internal(format!("{}: {e}", why()))),
            400 => Err(AdminError::Invalid(why())),
            404 => Err(AdminError::NotFound(why())),
            409 => Err(AdminError::Conflict(why())),
            503 => Err(AdminError::Unavailable(why())),
            s => Err(AdminError::Internal(format!("{} (HTTP {s})", why()))),
        }
    }

    /// Propose `next` over `cur` (compare-and-set on the version).
    /// Before node `id` leaves the Raft configuration: wait (at most 10 s)
    /// until it holds the entry of the map without itself, plus a few
    /// heartbeats that tell it the entry is committed. Once out of the
    /// configuration the leader sends it nothing more, and a node that
    /// lagged behind would never learn that it was removed and would go
    /// on serving an old namespace. A node that is down is not waited for.
    async fn wait_holds_map(&self, id: u64) -> Result<(), AdminError> {
        let target = self.raft_status().await?.applied;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.fs.peers().is_live(id) && tokio::time::Instant::now() < deadline {
            let st = self.raft_status().await?;
            if st.role != consensus::Role::Leader {
                break;
            }
            if st.matched.iter().any(|(n, m)| *n == NodeId(id) && *m >= target) {
                tokio::time::sleep(3 * self.tick).await;
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if self.fs.peers().is_live(id) {
            tracing::warn!(node = id, "removing a node that may not hold the map without itself");
        }
        Ok(())
    }

    async fn set_map(&self, cur: &ClusterState, next: &ClusterState) -> Result<u64, AdminError> {
        let version = next.map.version().0;
        let cmd = meta::Command::SetClusterMap {
            expected: cur.map.version().0,
            version,
            map: next.encode(),
        };
        self.fs.propose(cmd).await.map_err(|e| AdminError::Unavailable(e.to_string()))?;
        self.fs.refresh_map();
        Ok(version)
    }

    async fn conf_change(&self, cc: consensus::eraftpb::ConfChangeV2) -> Result<(), AdminError> {
        conf_change(&self.fs, cc).await.map_err(AdminError::Unavailable)
    }
}

/// Propose a membership change and wait for it (bounded).
async fn conf_change(
    fs: &ClusterNodeFs,
    cc: consensus::eraftpb::ConfChangeV2,
) -> Result<(), String> {
    let id = fs.raft().next_request_id().await.map_err(|e| e.to_string())?;
    let fut = fs.raft().change_membership(id, cc);
    match tokio::time::timeout(Duration::from_secs(30), fut).await {
        Ok(Ok(consensus::ProposalOutcome::Applied { .. })) => Ok(()),
        Ok(Ok(other)) => Err(format!("membership change: {other:?}")),
        Ok(Err(e)) => Err(format!("membership change: {e}")),
        Err(_) => Err("membership change: no answer within 30 s".into()),
    }
}

// ------------------------------------------------------ init and demo

/// Where one member listens.
#[derive(Debug, Clone)]
pub struct MemberPorts {
    pub id: u64,
    pub nfs: SocketAddr,
    pub raft: SocketAddr,
    pub replica: SocketAddr,
    pub admin: SocketAddr,
}

/// The configuration file of member `me` of `members`.
pub fn member_config(
    me: &MemberPorts,
    members: &[MemberPorts],
    data_dir: &Path,
    secret_file: &Path,
) -> String {
    // Members forward membership requests to the leader's admin API, so on
    // separate hosts it must listen on the member's address.
    let remote = if me.admin.ip().is_loopback() {
        ""
    } else {
        "# plain HTTP behind the cluster's admin token: keep this address on the\n\
         # cluster's private network (members forward requests to the leader's API)\n\
         allow_remote = true\n"
    };
    let mut t = format!(
        "[server]\ndata_dir = {:?}\nlisten = \"{}\"\nportmap_port_111 = false\n\n[admin]\nlisten = \"{}\"\n{remote}\n[cluster]\nnode_id = {}\nsecret_file = {:?}\n",
        data_dir.display().to_string(),
        me.nfs,
        me.admin,
        me.id,
        secret_file.display().to_string(),
    );
    for m in members {
        t.push_str(&format!(
            "\n[[cluster.member]]\nid = {}\nraft = \"{}\"\nreplica = \"{}\"\nnfs = \"{}\"\nadmin = \"{}\"\n",
            m.id, m.raft, m.replica, m.nfs, m.admin
        ));
    }
    t
}

/// `cairn cluster init`: a new cluster id and secret in `dir/cluster-secret`,
/// the cluster's admin token in `dir/admin-token` (both mode 0600), and one
/// configuration per founding member (`dir/node-<id>.toml`), for `hosts`
/// (one per member, ports `base_port` + 0..4 on each).
pub fn init(dir: &Path, hosts: &[String], base_port: u16) -> anyhow::Result<Vec<PathBuf>> {
    if hosts.is_empty() {
        bail!("name at least one member host");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let secret_file = dir.join("cluster-secret");
    if secret_file.exists() {
        bail!("{} exists already: this would found a second cluster", secret_file.display());
    }
    let same_host = hosts.iter().all(|h| h == &hosts[0]);
    let mut members = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        let base = if same_host { base_port + 10 * i as u16 } else { base_port };
        let at = |p: u16| -> anyhow::Result<SocketAddr> {
            format!("{h}:{p}")
                .parse()
                .with_context(|| format!("member host '{h}' is not an IP address"))
        };
        members.push(MemberPorts {
            id: i as u64 + 1,
            nfs: at(base)?,
            raft: at(base + 1)?,
            replica: at(base + 2)?,
            admin: at(base + 3)?,
        });
    }
    let secret_file = std::path::absolute(&secret_file)?;
    let secret = ClusterSecret::generate();
    secret.write(&secret_file)?;
    let token_file = secret.admin_token().install(dir)?;
    let mut out = vec![secret_file.clone(), token_file];
    for m in &members {
        let data = std::path::absolute(dir.join(format!("node-{}", m.id)))?;
        let path = dir.join(format!("node-{}.toml", m.id));
        let mut text = member_config(m, &members, &data, &secret_file);
        text.push_str(
            "\n[[export]]\npath = \"/\"\nclients = [\"*\"]\nsquash = \"root\"\ninsecure = true\n",
        );
        std::fs::write(&path, text)?;
        out.push(path);
    }
    Ok(out)
}

/// `cairn demo`: found a 3-node cluster on 127.0.0.1 under `dir`, start the
/// three members as child processes, print how to mount each, and stop
/// them all on Ctrl-C or SIGTERM.
pub fn demo(dir: &Path, base_port: u16) -> anyhow::Result<()> {
    let hosts = vec!["127.0.0.1".to_string(); 3];
    let fresh = !dir.join("cluster-secret").exists();
    if fresh {
        init(dir, &hosts, base_port)?;
    }
    // A demo folder made before the token was derived has no token file.
    let token_file =
        ClusterSecret::read(&dir.join("cluster-secret"))?.admin_token().install(dir)?;
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for id in 1..=3u64 {
        let config = dir.join(format!("node-{id}.toml"));
        let log = std::fs::File::create(dir.join(format!("node-{id}.log")))?;
        let child = std::process::Command::new(&exe)
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start node {id}"))?;
        children.push(child);
    }
    let cfg = |id: u64| Config::load(Some(&dir.join(format!("node-{id}.toml"))));
    eprintln!(
        "\nCairn demo cluster ({}) in {}:",
        if fresh { "new" } else { "existing" },
        dir.display()
    );
    for id in 1..=3u64 {
        let c = cfg(id)?;
        let p = c.server.listen.port();
        eprintln!(
            "  node {id}: NFS on 127.0.0.1:{p}, admin API on http://{}, log {}/node-{id}.log",
            c.admin.listen,
            dir.display()
        );
        eprintln!(
            "    mount -t nfs -o vers=3,proto=tcp,port={p},mountport={p} 127.0.0.1:/ /mnt/n{id}"
        );
        eprintln!("    mount -t nfs -o vers=4.1,port={p} 127.0.0.1:/ /mnt/n{id}");
    }
    eprintln!("  admin token (the same for every node): {}", token_file.display());
    eprintln!(
        "  cairn cluster status --admin http://{} --token-file {}",
        cfg(1)?.admin.listen,
        token_file.display()
    );
    eprintln!("Stop with Ctrl-C.\n");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        anyhow::Ok(())
    })?;
    eprintln!("stopping the three nodes");
    for c in &children {
        let _ = std::process::Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
    }
    for mut c in children {
        let _ = c.wait();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_hands_the_operator_the_token_every_member_derives() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let hosts = vec!["127.0.0.1".to_string(); 2];
        let files = init(dir.path(), &hosts, 30000).expect("init");
        let token_file = dir.path().join(crate::admin::auth::TOKEN_FILE);
        assert!(files.contains(&token_file), "{files:?}");
        let mode = std::fs::metadata(&token_file).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let secret = ClusterSecret::read(&dir.path().join("cluster-secret")).expect("secret");
        let derived = secret.admin_token();
        let written = crate::admin::auth::Token::read(&token_file).expect("token");
        assert!(written.matches(derived.expose()));
        let keys = [secret.raft_key(), secret.replica_key(), secret.handle_key()];
        assert!(keys
            .iter()
            .all(|k| crate::admin::auth::Token::of_key(k).expose() != derived.expose()));
        let other = ClusterSecret::generate().admin_token();
        assert!(!other.matches(derived.expose()), "another cluster, another token");
    }

    #[test]
    fn init_writes_configurations_that_load_on_one_host_and_on_several() {
        for hosts in [vec!["127.0.0.1"; 3], vec!["10.0.0.1", "10.0.0.2", "10.0.0.3"]] {
            let dir = tempfile::tempdir().expect("tempdir");
            let hosts: Vec<String> = hosts.into_iter().map(String::from).collect();
            init(dir.path(), &hosts, 30000).expect("init");
            for i in 1..=3 {
                let path = dir.path().join(format!("node-{i}.toml"));
                let c = Config::load(Some(&path))
                    .unwrap_or_else(|e| panic!("{} does not load: {e:#}", path.display()));
                assert_eq!(c.admin.allow_remote, !c.admin.listen.ip().is_loopback(), "{hosts:?}");
            }
        }
    }

    #[test]
    fn an_export_inherits_the_replicas_of_the_nearest_enclosing_export() {
        let export = |path: &str, replicas: Option<usize>| crate::config::ExportSection {
            path: path.into(),
            replicas,
            ..Config::default_config().expect("defaults").exports.remove(0)
        };
        let exports = [
            export("/", None),
            export("/a", Some(1)),
            export("/a/b", None),
            export("/a/b/c", Some(4)),
            export("/ab", None),
        ];
        assert_eq!(export_replication(&exports, 3), [3, 1, 1, 4, 3]);
    }
}
