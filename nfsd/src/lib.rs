//! `nfsd`: Cairn's node. Implements [`fsapi::ClusterFs`] over the crates
//! below it (today the single-node [`local::LocalFs`]: `meta` over `store`,
//! data in `chunks`), reads the configuration and runs `cairn serve`.
//!
//! The only crate that depends on `nfs-server`, and the only one that knows
//! every layer; nothing depends on it.

pub mod admin;
pub mod cluster;
pub mod config;
pub mod local;
mod ops;
pub mod serve;
