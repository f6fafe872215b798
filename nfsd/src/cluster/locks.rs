//! Upkeep of the cluster-wide byte-range lock table (`meta`'s lock
//! records, taken by NFSv4 LOCK through any node): the locks of nodes that
//! are gone.
//!
//! - At start a node releases everything of its earlier incarnations
//!   (their clients' state died with them), retrying until the command is
//!   applied.
//! - The leader releases the locks of a node that no peer ping has reached
//!   for longer than the NFSv4 lease, as a single server's clients lose
//!   theirs when their lease runs out; and the locks of a live node's
//!   other incarnations (a restart whose own release did not get through).
//!   A node that comes back within the lease keeps its locks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use consensus::NodeId;
use meta::{Command, LockHolder};
use tokio::time::Instant;

use super::fs::ClusterNodeFs;
use crate::ops::Backend;

/// How often the leader looks for locks of dead nodes.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Start the upkeep tasks (for as long as the file system lives).
pub(super) fn start(fs: &Arc<ClusterNodeFs>, lease: Duration) {
    let weak = Arc::downgrade(fs);
    tokio::spawn(async move {
        loop {
            let Some(fs) = weak.upgrade() else { return };
            let (node, keep) = fs.incarnation();
            let cmd = Command::UnlockAll { holder: LockHolder::OtherIncarnations { node, keep } };
            match fs.propose(cmd).await {
                Ok(_) => return,
                Err(e) => {
                    tracing::info!(error = %e, "locks of earlier incarnations not released yet")
                }
            }
            drop(fs);
            tokio::time::sleep(SWEEP_INTERVAL).await;
        }
    });
    let weak = Arc::downgrade(fs);
    tokio::spawn(async move {
        let mut down_since: BTreeMap<u64, Instant> = BTreeMap::new();
        let mut tick = tokio::time::interval(SWEEP_INTERVAL);
        loop {
            tick.tick().await;
            let Some(fs) = weak.upgrade() else { return };
            sweep(&fs, lease, &mut down_since).await;
        }
    });
}

/// One look at the lock table by the leader.
async fn sweep(fs: &ClusterNodeFs, lease: Duration, down_since: &mut BTreeMap<u64, Instant>) {
    let (me, _) = fs.incarnation();
    let leads = fs.raft().status().await.is_ok_and(|st| st.leader == Some(NodeId(me)));
    if !leads {
        // a new leader starts counting afresh
        down_since.clear();
        return;
    }
    // what the leader's own replica applied (a lock applied a moment ago
    // is not a dead node's)
    let holders: BTreeSet<(u64, u64)> = match Backend::ns(fs).lock_table() {
        Ok(table) => table.iter().map(|(_, l)| (l.owner.node, l.owner.incarnation)).collect(),
        Err(_) => return,
    };
    let now = Instant::now();
    let boots: BTreeMap<u64, u64> = fs.peers().boots().into_iter().collect();
    down_since.retain(|n, _| holders.iter().any(|(h, _)| h == n));
    for (node, incarnation) in holders {
        if node == me {
            continue;
        }
        let gone = if fs.peers().is_live(node) {
            down_since.remove(&node);
            // a live node that restarted: its earlier lives' locks
            boots.get(&node).is_some_and(|b| *b != 0 && *b != incarnation)
        } else {
            let since = *down_since.entry(node).or_insert(now);
            now.duration_since(since) >= lease
        };
        if gone {
            let cmd = Command::UnlockAll { holder: LockHolder::Incarnation { node, incarnation } };
            match fs.propose(cmd).await {
                Ok(_) => tracing::info!(
                    node,
                    "released the byte-range locks of a node gone longer than a lease"
                ),
                Err(e) => tracing::warn!(node, error = %e, "could not release a gone node's locks"),
            }
        }
    }
}
