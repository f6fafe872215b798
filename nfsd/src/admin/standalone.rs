//! [`AdminBackend`] of a single node without consensus.

use std::net::SocketAddr;
use std::sync::Arc;

use fsapi::ClusterFs;
use nfs_server::Export;

use super::backend::{
    AdminBackend, AdminError, ClusterStatus, ExportInfo, Health, Member, Role, StorageStats,
};

/// A node that is its own cluster: role `standalone`, one member, no Raft
/// fields.
pub struct StandaloneNode<F> {
    fs: Arc<F>,
    cluster_id: u64,
    nfs_address: SocketAddr,
    admin_address: Option<SocketAddr>,
    exports: Vec<ExportInfo>,
}

impl<F: ClusterFs> StandaloneNode<F> {
    /// The node serving `exports` from `fs` on `nfs_address`.
    pub fn new(
        fs: Arc<F>,
        cluster_id: u64,
        nfs_address: SocketAddr,
        admin_address: Option<SocketAddr>,
        exports: &[Export],
    ) -> Self {
        let exports = exports.iter().map(|e| ExportInfo::from(&e.rules)).collect();
        StandaloneNode { fs, cluster_id, nfs_address, admin_address, exports }
    }
}

impl<F: ClusterFs> AdminBackend for StandaloneNode<F> {
    async fn status(&self) -> Result<ClusterStatus, AdminError> {
        let version = env!("CARGO_PKG_VERSION").to_string();
        Ok(ClusterStatus {
            cluster_id: format!("{:016x}", self.cluster_id),
            node_id: None,
            role: Role::Standalone,
            health: Health::Ok,
            version: version.clone(),
            leader: None,
            term: None,
            commit_index: None,
            applied_index: None,
            map_version: None,
            members: vec![Member {
                node_id: None,
                nfs_address: self.nfs_address.to_string(),
                admin_address: self.admin_address.map(|a| a.to_string()),
                role: Role::Standalone,
                health: Health::Ok,
                version: Some(version),
                this_node: true,
            }],
        })
    }

    async fn exports(&self) -> Result<Vec<ExportInfo>, AdminError> {
        Ok(self.exports.clone())
    }

    async fn storage(&self) -> Option<StorageStats> {
        let (s, _) = self.fs.fsstat(self.fs.root()).await.ok()?;
        Some(StorageStats {
            capacity_bytes: s.total_bytes,
            free_bytes: s.free_bytes,
            available_bytes: s.avail_bytes,
        })
    }
}
