//! `consensus`: Cairn's Raft (skeleton; being built).
pub use raft;
