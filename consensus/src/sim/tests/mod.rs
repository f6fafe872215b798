//! This crate's simulation: the cluster of [`Sim`] running an append-only
//! register list ([`Register`]), 3 or 5 founding voters, and membership
//! changes (add learner, promote, remove, joint promote + remove, possibly
//! of the leader) in half of the seeds.
//!
//! `CAIRN_SIM_SEEDS=<n>` runs seeds `0..n` (default [`DEFAULT_SEEDS`];
//! `CAIRN_SIM_FIRST_SEED=<k>` starts at `k`), split over [`SHARDS`] tests;
//! `CAIRN_SIM_SEED=<seed>` replays one seed. A failure names its seed and
//! the command that replays it.

mod register;

use std::sync::Arc;

use store::KvStore;

use super::{Params, Report, Rng, Seeds, Sim, Workload};
use crate::{LogIndex, RequestId};
use register::Register;

/// Seeds run by a plain `cargo test -p consensus` (see ARCHITECTURE.md
/// for the measured time).
const DEFAULT_SEEDS: u64 = 3000;
const SHARDS: u64 = 8;

const SEEDS: Seeds = Seeds {
    name: "simulation",
    env: "CAIRN_SIM",
    default_seeds: DEFAULT_SEEDS,
    shards: SHARDS,
    replay: "cargo test -p consensus --lib sim::tests",
};

/// Proposals are unique payloads: the request id, then random padding.
/// Applying one records it at its index and answers the index.
#[derive(Debug, Default)]
struct Registers;

impl Workload for Registers {
    type Machine = Register;
    /// The payload acknowledged at an index.
    type Ack = Vec<u8>;
    type ReadMark = ();

    const NAME: &'static str = "simulation";
    const RNG_SALT: u64 = 0x5eed_cafe_f00d_d00d;

    fn params(&mut self, rng: &mut Rng) -> Params {
        let membership = rng.chance(500);
        let initial_voters = if membership || rng.chance(600) { 3 } else { 5 };
        let calm = rng.chance(150);
        Params {
            initial_voters,
            spares: if membership { 2 } else { 0 },
            membership,
            drop_pm: if calm { 0 } else { rng.range(0, 200) },
            dup_pm: if calm { 0 } else { rng.range(0, 60) },
            delay_max: rng.range(1, 6),
            crash_pm: if calm { 0 } else { rng.range(0, 30) },
            down_max: 60,
            flush_fail_pm: if calm { 0 } else { rng.range(0, 3) },
            partition_pm: if calm { 0 } else { rng.range(0, 20) },
            tick_skip_pm: rng.range(0, 100),
            checkpoint_interval: rng.range(3, 60),
            client_pm: rng.range(50, 400),
            retry_pm: rng.range(0, 1000),
            read_pm: rng.range(0, 80),
            membership_pm: rng.range(10, 60),
            safety_steps: rng.range(300, 800),
            converge_ticks_max: 400,
        }
    }

    fn founding(&mut self, _store: Arc<dyn KvStore>) -> Result<Register, String> {
        Ok(Register::default())
    }

    fn reopen(&mut self, _store: Arc<dyn KvStore>) -> Result<Register, String> {
        Ok(Register::default())
    }

    fn payload(&mut self, rng: &mut Rng, _t: u64, _client: usize, id: RequestId) -> Vec<u8> {
        let mut p = Vec::with_capacity(32);
        p.extend_from_slice(&id.node.0.to_le_bytes());
        p.extend_from_slice(&id.seq.to_le_bytes());
        let pad = rng.below(24) as usize;
        p.extend((0..pad).map(|_| rng.next_u64() as u8));
        p
    }

    fn applied(
        &mut self,
        _client: usize,
        _id: RequestId,
        index: LogIndex,
        payload: &[u8],
        result: &[u8],
        reg: &Register,
    ) -> Result<Option<Vec<u8>>, String> {
        if !result.starts_with(&index.0.to_le_bytes()) {
            return Err(format!("result {result:?} is not its index"));
        }
        if reg.at(index.0) != Some(payload) {
            return Err("not there on the answering node".into());
        }
        Ok(Some(payload.to_vec()))
    }

    fn present(&self, reg: &Register, index: u64, payload: &Vec<u8>) -> Result<bool, String> {
        Ok(reg.at(index) == Some(payload.as_slice()))
    }

    /// A request id is applied at most once.
    fn check_state(&self, reg: &Register, _applied: u64) -> Result<(), String> {
        match reg.duplicate() {
            Some((a, b)) => Err(format!("applied one payload twice, at {a} and {b}")),
            None => Ok(()),
        }
    }

    fn read_mark(&self) {}
}

fn run(seed: u64) -> Report {
    Sim::new(seed, Registers).run()
}

#[test]
fn sim_shard_0() {
    SEEDS.run_shard(0, run);
}
#[test]
fn sim_shard_1() {
    SEEDS.run_shard(1, run);
}
#[test]
fn sim_shard_2() {
    SEEDS.run_shard(2, run);
}
#[test]
fn sim_shard_3() {
    SEEDS.run_shard(3, run);
}
#[test]
fn sim_shard_4() {
    SEEDS.run_shard(4, run);
}
#[test]
fn sim_shard_5() {
    SEEDS.run_shard(5, run);
}
#[test]
fn sim_shard_6() {
    SEEDS.run_shard(6, run);
}
#[test]
fn sim_shard_7() {
    SEEDS.run_shard(7, run);
}

/// Replay depends on it: the same seed gives the same run, step by step.
#[test]
fn same_seed_same_run() {
    for seed in [3, 11] {
        let a = run(seed);
        let b = run(seed);
        assert_eq!(a.trace, b.trace, "seed {seed} is not deterministic");
        assert!(a.acked > 0, "seed {seed} acknowledged nothing");
    }
}

/// Seeds that change membership do it; seeds compact and send checkpoints.
#[test]
fn seeds_exercise_membership_and_checkpoints() {
    let mut total = Report::default();
    for seed in 0..16 {
        total.add(&run(seed));
    }
    assert!(total.membership_changes > 0 && total.checkpoint_sends > 0, "{total}");
}
