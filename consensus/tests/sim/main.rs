//! Deterministic simulation of a Cairn Raft cluster (STYLE.md "Testing":
//! TigerBeetle's VOPR, FoundationDB's simulation).
//!
//! `CAIRN_SIM_SEEDS=<n>` runs seeds `0..n` (default [`DEFAULT_SEEDS`];
//! `CAIRN_SIM_FIRST_SEED=<k>` starts at `k`), split over [`SHARDS`] tests so
//! they run in parallel;
//! `CAIRN_SIM_SEED=<seed>` replays one seed. A failure names its seed and
//! the command that replays it.

mod harness;
mod register;

use std::panic::{catch_unwind, AssertUnwindSafe};

use harness::{Report, Sim};

/// Seeds run by a plain `cargo test -p consensus` (see ARCHITECTURE.md
/// for the measured time).
const DEFAULT_SEEDS: u64 = 3000;
const SHARDS: u64 = 8;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={v} is not a number"),
    }
}

fn run_seed(seed: u64) -> Report {
    match catch_unwind(AssertUnwindSafe(|| Sim::new(seed).run())) {
        Ok(r) => r,
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!(
                "simulation seed {seed} failed: {msg}\nreplay: CAIRN_SIM_SEED={seed} cargo test -p consensus --test sim"
            );
        }
    }
}

fn run_shard(shard: u64) {
    let seeds: Vec<u64> = match env_u64("CAIRN_SIM_SEED") {
        Some(s) if shard == 0 => vec![s],
        Some(_) => Vec::new(),
        None => {
            let n = env_u64("CAIRN_SIM_SEEDS").unwrap_or(DEFAULT_SEEDS);
            let first = env_u64("CAIRN_SIM_FIRST_SEED").unwrap_or(0);
            (first..first.saturating_add(n)).filter(|s| s % SHARDS == shard).collect()
        }
    };
    let mut total = Report::default();
    for seed in &seeds {
        let r = run_seed(*seed);
        total.acked += r.acked;
        total.crashes += r.crashes;
        total.checkpoints += r.checkpoints;
        total.installs_seen += r.installs_seen;
        total.membership_changes += r.membership_changes;
        total.reads_ready += r.reads_ready;
        total.unknown_outcomes += r.unknown_outcomes;
    }
    eprintln!(
        "shard {shard}: {} seeds, {} acked, {} crashes, {} checkpoints, {} checkpoint sends, {} membership changes, {} reads, {} unknown outcomes",
        seeds.len(),
        total.acked,
        total.crashes,
        total.checkpoints,
        total.installs_seen,
        total.membership_changes,
        total.reads_ready,
        total.unknown_outcomes
    );
}

#[test]
fn sim_shard_0() {
    run_shard(0);
}
#[test]
fn sim_shard_1() {
    run_shard(1);
}
#[test]
fn sim_shard_2() {
    run_shard(2);
}
#[test]
fn sim_shard_3() {
    run_shard(3);
}
#[test]
fn sim_shard_4() {
    run_shard(4);
}
#[test]
fn sim_shard_5() {
    run_shard(5);
}
#[test]
fn sim_shard_6() {
    run_shard(6);
}
#[test]
fn sim_shard_7() {
    run_shard(7);
}

/// Replay depends on it: the same seed gives the same run, step by step.
#[test]
fn same_seed_same_run() {
    for seed in [3, 11] {
        let a = Sim::new(seed).run();
        let b = Sim::new(seed).run();
        assert_eq!(a.trace, b.trace, "seed {seed} is not deterministic");
        assert!(a.acked > 0, "seed {seed} acknowledged nothing");
    }
}
