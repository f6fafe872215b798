//! Deterministic simulation of a Cairn Raft cluster (STYLE.md "Testing":
//! TigerBeetle's VOPR, FoundationDB's simulation), generic over the
//! replicated [`StateMachine`](crate::StateMachine).
//!
//! Compiled only for this crate's own tests and with the `sim` feature (off
//! by default; `meta` enables it in its dev-dependencies), so production
//! builds do not contain it.
//!
//! One `u64` seed draws the parameters and every later choice; nothing else
//! varies, so a seed replays exactly. [`Sim`] owns the simulated clock, the
//! network (drop, duplicate, delay/reorder, partitions), the crash model
//! (each node's [`SimStore`] loses unflushed batches, flushes can fail),
//! the clients (propose, retry unknown outcomes with the same request id,
//! ReadIndex reads), membership changes, the invariant checks after every
//! step and the liveness phase. A [`Workload`] supplies the state machine,
//! the payloads and what an acknowledged payload must leave in the state.
//! [`Seeds`] runs seeds split over parallel tests and prints how to replay
//! a failing one.

mod cluster;
mod seeds;

pub use cluster::{Params, Report, Rng, Sim, SimStore, Workload};
pub use seeds::Seeds;

#[cfg(test)]
mod tests;
