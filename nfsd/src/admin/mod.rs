//! The admin REST API and the Prometheus endpoint of a node, and the client
//! side used by the CLI.
//!
//! HTTP/1.1 (axum) on its own task in the node's runtime, on `[admin]
//! listen` (127.0.0.1:9049 by default; any other than a loopback address
//! only with `[admin] allow_remote = true`). Routes (`routes::ROUTES`):
//! `/healthz`, `/metrics`, `/v1/cluster`, `/v1/exports`, `/v1/openapi.json`.
//! Every route but `/healthz` and (by default) `/metrics` needs
//! `Authorization: Bearer <token>`, the token being `data_dir/admin-token`
//! ([`auth`]): random on a standalone node, derived from the cluster secret
//! on a cluster member (the same on every member).
//!
//! The API asks the node through [`AdminBackend`]: [`StandaloneNode`] for a
//! single node today, the Raft cluster later. It never touches the NFS
//! front end except to read its [`nfs_server::Metrics`].
//!
//! Must not: print or log the token; answer anything but `/healthz` (and
//! `/metrics` when so configured) without it.

pub mod auth;
mod backend;
pub mod cli;
pub mod client;
mod metrics;
mod routes;
mod standalone;

pub use backend::{
    AdminBackend, AdminError, ChunkCounters, ClusterStatus, ExportInfo, Health, Member, NewNode,
    NodeChange, RaftCounters, Role, StorageStats,
};
pub use routes::{Access, Route, FORWARD_HOPS_HEADER, OPENAPI_JSON, ROUTES};
pub use standalone::StandaloneNode;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::AdminSection;
use auth::Token;

/// How long stopping waits for admin requests in flight.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The admin API's socket, bound, and its token, before the node is ready
/// to answer: binding first makes a busy port fail the start early.
pub struct AdminListener {
    listener: TcpListener,
    addr: SocketAddr,
    token: Token,
    token_path: PathBuf,
    metrics_require_token: bool,
}

impl AdminListener {
    /// Bind `[admin] listen` and set up the token in `data_dir`: the
    /// cluster's `token` written there, or without one (a standalone node)
    /// the token found there or a new random one. `None` when the admin API
    /// is disabled.
    pub async fn bind(
        cfg: &AdminSection,
        data_dir: &Path,
        token: Option<Token>,
    ) -> anyhow::Result<Option<Self>> {
        if !cfg.enabled {
            return Ok(None);
        }
        let listen = cfg.checked_listen()?;
        let (token, token_path) = match token {
            Some(t) => {
                let path = t.install(data_dir)?;
                (t, path)
            }
            None => Token::load_or_create(data_dir)?,
        };
        let listener = TcpListener::bind(listen).await.with_context(|| {
            format!("cannot listen on {listen} for the admin API (set [admin] listen, or enabled = false)")
        })?;
        let addr = listener.local_addr()?;
        Ok(Some(AdminListener {
            listener,
            addr,
            token,
            token_path,
            metrics_require_token: cfg.metrics_require_token,
        }))
    }

    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serve `backend` and `nfs_metrics` on a task of the current runtime
    /// until `stop` turns true.
    pub fn serve<B: AdminBackend>(
        self,
        backend: B,
        nfs_metrics: Arc<nfs_server::Metrics>,
        mut stop: watch::Receiver<bool>,
    ) -> AdminServer {
        let state = Arc::new(routes::AppState {
            backend: Arc::new(backend),
            nfs_metrics,
            token: self.token,
            metrics_require_token: self.metrics_require_token,
            info: metrics::ProcessInfo::now(),
        });
        let app = routes::router(state);
        let addr = self.addr;
        let task = tokio::spawn(async move {
            let stopped = async move {
                while !*stop.borrow_and_update() {
                    if stop.changed().await.is_err() {
                        return;
                    }
                }
            };
            if let Err(e) = axum::serve(self.listener, app).with_graceful_shutdown(stopped).await {
                tracing::error!(%addr, error = %e, "the admin API stopped");
            }
        });
        AdminServer { addr, token_path: self.token_path, task }
    }
}

/// The running admin API.
pub struct AdminServer {
    addr: SocketAddr,
    token_path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl AdminServer {
    /// The address served.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// One line for the start-up message: where, and where the token is
    /// (never the token).
    pub fn describe(&self) -> String {
        format!(
            "Admin API and /metrics on http://{} (bearer token in {}; try `cairn cluster status`).",
            self.addr,
            self.token_path.display()
        )
    }

    /// Wait (bounded) for the server to finish after the stop signal.
    pub async fn stopped(self) {
        let abort = self.task.abort_handle();
        if tokio::time::timeout(STOP_GRACE, self.task).await.is_err() {
            tracing::warn!("admin requests still running at shutdown; cancelled");
            abort.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A node in a Raft cluster, as the cluster's backend will describe it.
    struct FakeClusterNode;

    impl AdminBackend for FakeClusterNode {
        async fn status(&self) -> Result<ClusterStatus, AdminError> {
            Ok(ClusterStatus {
                cluster_id: "00000000000000ab".into(),
                node_id: Some(1),
                role: Role::Leader,
                health: Health::Degraded,
                version: "0.1.0".into(),
                leader: Some(1),
                term: Some(3),
                commit_index: Some(10),
                applied_index: Some(9),
                map_version: Some(2),
                members: vec![],
            })
        }
        async fn exports(&self) -> Result<Vec<ExportInfo>, AdminError> {
            Err(AdminError::Unavailable("no quorum".into()))
        }
        async fn storage(&self) -> Option<StorageStats> {
            None
        }
        fn raft_counters(&self) -> Option<RaftCounters> {
            Some(RaftCounters {
                proposals_total: 5,
                chunks_repaired_total: 0,
                chunks: ChunkCounters { reads_remote_total: 7, ..Default::default() },
            })
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn metrics_token_setting_raft_series_and_clean_stop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = AdminSection {
            listen: "127.0.0.1:0".parse().expect("addr"),
            metrics_require_token: true,
            ..AdminSection::default()
        };
        let l = AdminListener::bind(&cfg, dir.path(), None).await.expect("bind").expect("enabled");
        let (token, _) = Token::load_or_create(dir.path()).expect("the same token");
        let (stop_tx, stop_rx) = watch::channel(false);
        let server = l.serve(FakeClusterNode, Arc::new(nfs_server::Metrics::new()), stop_rx);
        let endpoint = client::Endpoint::of_listen(server.local_addr());
        let answers = tokio::task::spawn_blocking(move || {
            let get = |path: &str, t: Option<&Token>| {
                let r = client::get(&endpoint, path, t).expect("GET");
                (r.status, r.text())
            };
            [
                get("/metrics", None),
                get("/metrics", Some(&token)),
                get("/healthz", None),
                get("/v1/exports", Some(&token)),
            ]
        })
        .await
        .expect("client");
        assert_eq!(answers[0].0, 401, "metrics_require_token = true");
        assert_eq!(answers[1].0, 200);
        for line in [
            "cairn_raft_term 3",
            "cairn_raft_commit_index 10",
            "cairn_raft_applied_index 9",
            "cairn_raft_is_leader 1",
            "cairn_raft_proposals_total 5",
            "cairn_cluster_map_version 2",
            "cairn_chunk_reads_total{source=\"remote\"} 7",
            "cairn_chunk_reads_total{source=\"local\"} 0",
        ] {
            assert!(answers[1].1.contains(line), "{line} missing:\n{}", answers[1].1);
        }
        assert_eq!(answers[2].0, 200, "/healthz never needs the token");
        assert_eq!(answers[3].0, 503, "{}", answers[3].1);
        assert!(answers[3].1.contains("\"code\":\"unavailable\""), "{}", answers[3].1);
        stop_tx.send(true).expect("stop");
        tokio::time::timeout(Duration::from_secs(10), server.stopped()).await.expect("stops");
    }

    #[tokio::test]
    async fn a_remote_listen_address_needs_allow_remote() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg =
            AdminSection { listen: "0.0.0.0:0".parse().expect("addr"), ..AdminSection::default() };
        let e = AdminListener::bind(&cfg, dir.path(), None).await.err().expect("refused");
        assert!(e.to_string().contains("allow_remote"), "{e}");
        let off = AdminSection { enabled: false, ..cfg };
        assert!(AdminListener::bind(&off, dir.path(), None).await.expect("disabled").is_none());
    }
}
