//! What the admin API asks of a node: [`AdminBackend`], and the JSON
//! documents it answers with.
//!
//! The documents are shaped for the Raft cluster already: fields that only a
//! cluster knows (leader, term, indexes, map version, per-member roles) are
//! present on a standalone node too, as `null`, so clients written today
//! keep working when the cluster arrives.

use std::future::Future;

use nfs_server::{ExportRules, Squash};
use serde::{Deserialize, Serialize};

/// The node behind the admin API. `serve.rs` implements it for a single
/// node ([`super::StandaloneNode`]); the Raft cluster implements it over its
/// consensus status, with the membership changes (`add_node`,
/// `remove_node`; a standalone node refuses them).
pub trait AdminBackend: Send + Sync + 'static {
    /// The cluster as this node sees it (`GET /v1/cluster`).
    fn status(&self) -> impl Future<Output = Result<ClusterStatus, AdminError>> + Send;

    /// The exports, in the order their numbers appear in file handles
    /// (`GET /v1/exports`).
    fn exports(&self) -> impl Future<Output = Result<Vec<ExportInfo>, AdminError>> + Send;

    /// Space of the file system holding this node's data (for `/metrics`);
    /// `None` when it cannot be read right now.
    fn storage(&self) -> impl Future<Output = Option<StorageStats>> + Send;

    /// Counters of the consensus layer (for `/metrics`); `None` on a node
    /// that runs no consensus.
    fn raft_counters(&self) -> Option<RaftCounters> {
        None
    }

    /// Add a node to the cluster (`POST /v1/nodes`): into the cluster map
    /// and into Raft as a learner, promoted to voter once it caught up.
    /// `hops`: how many members forwarded this request already (a member
    /// that does not lead forwards it to the leader, a bounded number of
    /// times).
    fn add_node(
        &self,
        node: NewNode,
        hops: u8,
    ) -> impl Future<Output = Result<NodeChange, AdminError>> + Send {
        let _ = (node, hops);
        async { Err(AdminError::Invalid("a standalone node has no membership".into())) }
    }

    /// Remove a node from the cluster (`DELETE /v1/nodes/{id}`): any
    /// member, the leader and the node asked included; `hops` as for
    /// [`AdminBackend::add_node`].
    fn remove_node(
        &self,
        id: u64,
        hops: u8,
    ) -> impl Future<Output = Result<NodeChange, AdminError>> + Send {
        let _ = (id, hops);
        async { Err(AdminError::Invalid("a standalone node has no membership".into())) }
    }
}

/// `POST /v1/nodes`: the node to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNode {
    /// Its Raft id: new, never used in this cluster (not 0).
    pub id: u64,
    /// Its Raft peer transport address.
    pub raft_address: std::net::SocketAddr,
    /// Its replica service address.
    pub replica_address: std::net::SocketAddr,
    /// Where it serves NFS.
    pub nfs_address: Option<String>,
    /// Where it serves the admin API.
    #[serde(default)]
    pub admin_address: Option<String>,
    /// Failure domain label (default `node-<id>`).
    #[serde(default)]
    pub failure_domain: Option<String>,
    /// Capacity weight (default 1).
    #[serde(default)]
    pub weight: Option<u32>,
}

/// The answer to a membership change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeChange {
    pub node_id: u64,
    /// Version of the cluster map with the change.
    pub map_version: u64,
}

/// Why the backend could not answer. Mapped to HTTP statuses in one place
/// (`routes.rs`).
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The named object does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request is not valid (400).
    #[error("{0}")]
    Invalid(String),
    /// The request is valid but the cluster's state refuses it, e.g.
    /// removing the last voter (409).
    #[error("{0}")]
    Conflict(String),
    /// The answer needs a cluster quorum or a leader that cannot be
    /// reached now (503); the request may be retried.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else (500).
    #[error("{0}")]
    Internal(String),
}

/// `GET /v1/cluster`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// The cluster id, 16 hexadecimal digits (a string: JSON numbers lose
    /// precision above 2^53).
    pub cluster_id: String,
    /// This node's Raft id; `null` on a standalone node, which has none.
    pub node_id: Option<u64>,
    /// This node's role.
    pub role: Role,
    /// The cluster's health as this node sees it.
    pub health: Health,
    /// Version of the answering node.
    pub version: String,
    /// Raft id of the current leader, `null` when standalone or unknown.
    pub leader: Option<u64>,
    /// Current Raft term (Raft §5.1), `null` when standalone.
    pub term: Option<u64>,
    /// Highest Raft log index known committed (Raft §5.3), `null` when
    /// standalone.
    pub commit_index: Option<u64>,
    /// Highest Raft log index applied to this node's state machine, `null`
    /// when standalone.
    pub applied_index: Option<u64>,
    /// Version of the cluster map used for data placement, `null` when
    /// standalone.
    pub map_version: Option<u64>,
    /// Every member, this node included.
    pub members: Vec<Member>,
}

/// One node of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Raft id; `null` on a standalone node.
    pub node_id: Option<u64>,
    /// Where the node serves NFS (`host:port`).
    pub nfs_address: String,
    /// Where the node serves the admin API, when known.
    pub admin_address: Option<String>,
    pub role: Role,
    pub health: Health,
    /// The member's version, when known.
    pub version: Option<String>,
    /// True for the node that answered.
    pub this_node: bool,
}

/// A node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A single node without consensus.
    Standalone,
    /// Raft roles (Raft §5.1; learners receive the log without voting).
    Leader,
    Follower,
    Candidate,
    Learner,
}

/// Health of a node or of the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Serving normally.
    Ok,
    /// Serving, with reduced redundancy (a member down, data being repaired).
    Degraded,
    /// Not serving (no quorum, member unreachable).
    Down,
    /// Not known to the answering node.
    Unknown,
}

impl Role {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Standalone => "standalone",
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Candidate => "candidate",
            Role::Learner => "learner",
        }
    }
}

impl Health {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Degraded => "degraded",
            Health::Down => "down",
            Health::Unknown => "unknown",
        }
    }
}

/// `GET /v1/exports`: one export's rules, as in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportInfo {
    pub path: String,
    /// Allowed clients: addresses, CIDR ranges, or `*`.
    pub clients: Vec<String>,
    /// `rw` or `ro`.
    pub access: String,
    /// `root`, `all` or `none`.
    pub squash: String,
    pub anonuid: u32,
    pub anongid: u32,
    pub insecure: bool,
    pub devices: bool,
    /// Copies kept of each chunk of a file created in this export now
    /// (cluster mode): the export's `replicas`, else the nearest enclosing
    /// export's, else `[cluster] replicas`, at most the member count.
    /// `null` on a standalone node.
    pub replicas: Option<u32>,
}

impl From<&ExportRules> for ExportInfo {
    fn from(r: &ExportRules) -> Self {
        ExportInfo {
            path: r.path.clone(),
            clients: r.clients.iter().map(|c| c.to_string()).collect(),
            access: if r.read_only { "ro" } else { "rw" }.into(),
            squash: match r.squash {
                Squash::Root => "root",
                Squash::All => "all",
                Squash::None => "none",
            }
            .into(),
            anonuid: r.anon_uid,
            anongid: r.anon_gid,
            insecure: r.insecure,
            devices: r.allow_devices,
            replicas: None,
        }
    }
}

/// Space of the file system holding the data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageStats {
    pub capacity_bytes: u64,
    pub free_bytes: u64,
    /// Free bytes usable by unprivileged processes.
    pub available_bytes: u64,
}

/// Counters of the consensus layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RaftCounters {
    /// Commands this node proposed.
    pub proposals_total: u64,
    /// Chunk copies made by repair after membership changes.
    pub chunks_repaired_total: u64,
    /// The data plane's counters.
    pub chunks: ChunkCounters,
}

/// Counters of the data plane (chunk pieces read and written) since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkCounters {
    /// Pieces written for this node's NFS clients, each on its whole write set.
    pub writes_total: u64,
    /// Their bytes (counted once, not once per replica).
    pub write_bytes_total: u64,
    /// Writes this node applied for a peer, as a chunk's primary or replica.
    pub peer_writes_total: u64,
    /// Write attempts that failed on a placement and were tried again.
    pub write_retries_total: u64,
    /// Pieces read for this node's clients from its own copy.
    pub reads_local_total: u64,
    /// Pieces read for this node's clients from a peer's copy.
    pub reads_remote_total: u64,
    /// Their bytes.
    pub read_bytes_total: u64,
    /// Copies that could not serve a read (checksum error, node down): the
    /// next copy was asked.
    pub read_failovers_total: u64,
}

/// A standalone node's status, for the tests of the CLI table and of the
/// OpenAPI document.
#[cfg(test)]
pub(crate) fn sample_status() -> ClusterStatus {
    ClusterStatus {
        cluster_id: "00000000000000ab".into(),
        node_id: None,
        role: Role::Standalone,
        health: Health::Ok,
        version: "0.1.0".into(),
        leader: None,
        term: None,
        commit_index: None,
        applied_index: None,
        map_version: None,
        members: vec![Member {
            node_id: None,
            nfs_address: "127.0.0.1:2049".into(),
            admin_address: Some("127.0.0.1:9049".into()),
            role: Role::Standalone,
            health: Health::Ok,
            version: Some("0.1.0".into()),
            this_node: true,
        }],
    }
}
