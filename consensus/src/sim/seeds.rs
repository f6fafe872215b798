//! The seed loop: which seeds a test runs (from the environment), a failing
//! seed named with the command that replays it, and a summary per shard.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::Report;

/// How a simulation's seeds are chosen and replayed. With `env` = `X`:
/// `X_SEEDS=<n>` runs seeds `k..k+n` (default [`Seeds::default_seeds`];
/// `X_FIRST_SEED=<k>`, default 0), split over [`Seeds::shards`] tests so
/// they run in parallel; `X_SEED=<seed>` replays one seed (in shard 0).
#[derive(Debug, Clone, Copy)]
pub struct Seeds {
    /// Names the simulation in messages.
    pub name: &'static str,
    /// Prefix of the environment variables.
    pub env: &'static str,
    /// Seeds run when `X_SEEDS` is not set.
    pub default_seeds: u64,
    /// Tests the seeds are split over (seed modulo shards).
    pub shards: u64,
    /// The command that runs the simulation's tests, printed after
    /// `X_SEED=<seed>` when a seed fails.
    pub replay: &'static str,
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={v} is not a number"),
    }
}

impl Seeds {
    /// The seeds shard `shard` runs.
    pub fn of_shard(&self, shard: u64) -> Vec<u64> {
        match env_u64(&format!("{}_SEED", self.env)) {
            Some(s) if shard == 0 => vec![s],
            Some(_) => Vec::new(),
            None => {
                let n = env_u64(&format!("{}_SEEDS", self.env)).unwrap_or(self.default_seeds);
                let first = env_u64(&format!("{}_FIRST_SEED", self.env)).unwrap_or(0);
                (first..first.saturating_add(n)).filter(|s| s % self.shards == shard).collect()
            }
        }
    }

    /// Runs one seed; a panic becomes a panic naming the seed and the
    /// command that replays it.
    pub fn run_seed(&self, seed: u64, run: impl FnOnce(u64) -> Report) -> Report {
        match catch_unwind(AssertUnwindSafe(|| run(seed))) {
            Ok(r) => r,
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!(
                    "{} seed {seed} failed: {msg}\nreplay: {}_SEED={seed} {}",
                    self.name, self.env, self.replay
                );
            }
        }
    }

    /// Runs shard `shard`'s seeds and prints their summed report.
    pub fn run_shard(&self, shard: u64, run: impl Fn(u64) -> Report) {
        let seeds = self.of_shard(shard);
        let mut total = Report::default();
        for seed in &seeds {
            total.add(&self.run_seed(*seed, &run));
        }
        eprintln!("{} shard {shard}: {} seeds, {total}", self.name, seeds.len());
    }
}
