//! `/metrics`: the process's metrics in the Prometheus text format 0.0.4.
//!
//! The NFS front end's counters ([`nfs_server::Metrics`]) plus what only
//! the node knows: build, start time, cluster membership, Raft progress
//! (only when the backend runs consensus: a standalone node exports no
//! Raft series rather than zeros), and the space of the data file system.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use super::backend::{AdminBackend, ClusterStatus, Health};

/// `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Values fixed for the life of the process.
pub struct ProcessInfo {
    pub version: &'static str,
    /// Seconds since the Unix epoch when the process started.
    pub start_time_seconds: f64,
}

impl ProcessInfo {
    /// This build, started now.
    pub fn now() -> Self {
        let start = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        ProcessInfo { version: env!("CARGO_PKG_VERSION"), start_time_seconds: start.as_secs_f64() }
    }
}

/// Render every metric of the process into `out`.
pub async fn render<B: AdminBackend>(
    out: &mut String,
    info: &ProcessInfo,
    backend: &B,
    nfs: &nfs_server::Metrics,
) {
    header(out, "cairn_build_info", "gauge", "Always 1; the labels name the build.");
    let _ = writeln!(out, "cairn_build_info{{version=\"{}\"}} 1", escape(info.version));
    header(
        out,
        "cairn_process_start_time_seconds",
        "gauge",
        "Start time of the process since the Unix epoch.",
    );
    let _ = writeln!(out, "cairn_process_start_time_seconds {}", info.start_time_seconds);
    if let Ok(status) = backend.status().await {
        cluster(out, &status);
    }
    if let Some(c) = backend.raft_counters() {
        header(out, "cairn_raft_proposals_total", "counter", "Commands this node proposed.");
        let _ = writeln!(out, "cairn_raft_proposals_total {}", c.proposals_total);
        header(
            out,
            "cairn_chunks_repaired_total",
            "counter",
            "Chunk copies made by repair after membership changes.",
        );
        let _ = writeln!(out, "cairn_chunks_repaired_total {}", c.chunks_repaired_total);
        let k = &c.chunks;
        for (name, help, v) in [
            (
                "cairn_chunk_writes_total",
                "Chunk pieces written for this node's clients, each on its whole write set.",
                k.writes_total,
            ),
            ("cairn_chunk_write_bytes_total", "Bytes of those pieces.", k.write_bytes_total),
            (
                "cairn_chunk_peer_writes_total",
                "Chunk writes applied here for a peer, as primary or replica.",
                k.peer_writes_total,
            ),
            (
                "cairn_chunk_write_retries_total",
                "Chunk writes tried again after a placement failed.",
                k.write_retries_total,
            ),
            ("cairn_chunk_read_bytes_total", "Bytes of chunk pieces read.", k.read_bytes_total),
            (
                "cairn_chunk_read_failovers_total",
                "Chunk copies that could not serve a read (checksum error, node down).",
                k.read_failovers_total,
            ),
        ] {
            unlabelled(out, "counter", name, help, v);
        }
        header(
            out,
            "cairn_chunk_reads_total",
            "counter",
            "Chunk pieces read for this node's clients, by where the copy was.",
        );
        let _ =
            writeln!(out, "cairn_chunk_reads_total{{source=\"local\"}} {}", k.reads_local_total);
        let _ =
            writeln!(out, "cairn_chunk_reads_total{{source=\"remote\"}} {}", k.reads_remote_total);
    }
    if let Some(s) = backend.storage().await {
        for (name, help, v) in [
            (
                "cairn_storage_capacity_bytes",
                "Size of the file system holding the data directory.",
                s.capacity_bytes,
            ),
            ("cairn_storage_free_bytes", "Free bytes on that file system.", s.free_bytes),
            (
                "cairn_storage_available_bytes",
                "Free bytes on that file system usable without privileges.",
                s.available_bytes,
            ),
        ] {
            unlabelled(out, "gauge", name, help, v);
        }
    }
    nfs.render(out);
}

/// One series without labels, with its header.
fn unlabelled(out: &mut String, kind: &str, name: &str, help: &str, v: u64) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {v}");
}

/// Membership gauges, and the Raft gauges when the node runs consensus.
fn cluster(out: &mut String, s: &ClusterStatus) {
    header(out, "cairn_cluster_nodes", "gauge", "Members of the cluster (1 when standalone).");
    let _ = writeln!(out, "cairn_cluster_nodes {}", s.members.len());
    header(
        out,
        "cairn_cluster_nodes_healthy",
        "gauge",
        "Members this node sees as serving normally.",
    );
    let healthy = s.members.iter().filter(|m| m.health == Health::Ok).count();
    let _ = writeln!(out, "cairn_cluster_nodes_healthy {healthy}");
    for (name, help, value) in [
        ("cairn_raft_term", "Current Raft term.", s.term),
        ("cairn_raft_commit_index", "Highest Raft log index known committed.", s.commit_index),
        (
            "cairn_raft_applied_index",
            "Highest Raft log index applied to this node's state machine.",
            s.applied_index,
        ),
        ("cairn_cluster_map_version", "Version of the cluster map in use.", s.map_version),
    ] {
        if let Some(v) = value {
            header(out, name, "gauge", help);
            let _ = writeln!(out, "{name} {v}");
        }
    }
    if let Some(node) = s.node_id {
        header(out, "cairn_raft_is_leader", "gauge", "1 when this node is the Raft leader.");
        let _ = writeln!(out, "cairn_raft_is_leader {}", u8::from(s.leader == Some(node)));
    }
}

/// `# HELP` and `# TYPE` lines of one metric family.
fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped (format 0.0.4).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::backend::{Member, Role};

    fn status(raft: bool) -> ClusterStatus {
        ClusterStatus {
            cluster_id: "00000000000000ab".into(),
            node_id: raft.then_some(2),
            role: if raft { Role::Follower } else { Role::Standalone },
            health: Health::Ok,
            version: "0.1.0".into(),
            leader: raft.then_some(1),
            term: raft.then_some(7),
            commit_index: raft.then_some(42),
            applied_index: raft.then_some(41),
            map_version: raft.then_some(3),
            members: vec![Member {
                node_id: raft.then_some(2),
                nfs_address: "127.0.0.1:2049".into(),
                admin_address: None,
                role: Role::Standalone,
                health: Health::Ok,
                version: Some("0.1.0".into()),
                this_node: true,
            }],
        }
    }

    #[test]
    fn standalone_exports_no_raft_series() {
        let mut out = String::new();
        cluster(&mut out, &status(false));
        assert!(out.contains("cairn_cluster_nodes 1\n"), "{out}");
        assert!(!out.contains("cairn_raft"), "{out}");
        let mut out = String::new();
        cluster(&mut out, &status(true));
        for line in [
            "cairn_raft_term 7",
            "cairn_raft_commit_index 42",
            "cairn_raft_applied_index 41",
            "cairn_raft_is_leader 0",
        ] {
            assert!(out.contains(line), "{line} missing:\n{out}");
        }
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
