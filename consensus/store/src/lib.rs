//! `store`: Cairn's narrow, ordered key-value store.
//!
//! Owns the [`KvStore`] trait that the Raft log and the metadata state
//! machine persist through, its one on-disk implementation [`SledStore`], and
//! [`MemStore`], an in-memory twin with a crash model for deterministic
//! simulation tests.
//!
//! Must not: depend on any crate of the workspace, or let `sled` leak through
//! its API. This is the only crate that names `sled` (DESIGN.md §1), so
//! replacing the engine touches this crate alone.
//!
//! Invariants, shared by every implementation (and checked by the same test
//! suite run against each):
//! - keys are ordered by their bytes (lexicographic, shorter prefix first);
//! - [`KvStore::apply`] is atomic: after any crash either every put and delete
//!   of a [`WriteBatch`] is visible or none is; within a batch the last
//!   operation on a key wins;
//! - [`KvStore::flush`] is the durability point: every batch applied before it
//!   was called survives a crash once it returns. Batches applied after the
//!   last flush may be lost, newest first, batch by batch, never partly;
//! - every persisted format starts with a version: [`SledStore`] writes
//!   [`FORMAT_VERSION`] at creation and refuses to open any other;
//! - bytes read from disk never cause a panic, only a [`StoreError`].

#![forbid(unsafe_code)]

mod error;
mod mem;
mod sled_store;

pub use error::StoreError;
pub use mem::MemStore;
pub use sled_store::{SledStore, SledStoreOptions, FORMAT_VERSION};

use std::ops::Bound;

/// One key and its value, as returned by scans.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// An ordered key-value store with atomic batches and an explicit durability
/// point. Blocking: async callers run it on blocking threads.
pub trait KvStore: Send + Sync + 'static {
    /// The value of `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Up to `limit` pairs with keys between `start` and `end`, in key order
    /// (descending when `reverse`, so `limit` then keeps the largest keys).
    /// An empty or inverted range yields nothing; `limit == 0` yields nothing.
    fn scan(
        &self,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError>;

    /// Apply every put and delete of `batch`, atomically (also across a crash).
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError>;

    /// Make every batch applied before this call durable.
    fn flush(&self) -> Result<(), StoreError>;

    /// An estimate of the space the store takes, in bytes.
    fn approximate_size_bytes(&self) -> Result<u64, StoreError>;

    /// Up to `limit` pairs whose key starts with `prefix`, ascending, strictly
    /// after `after` when given (a cursor for paging: pass the last key seen).
    fn scan_prefix(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        let start = match after {
            Some(a) if a >= prefix => Bound::Excluded(a.to_vec()),
            _ => Bound::Included(prefix.to_vec()),
        };
        let mut out = self.scan(start, prefix_upper_bound(prefix), false, limit)?;
        // Redundant with the bounds; kept as a cheap guard on the invariant.
        out.retain(|(k, _)| k.starts_with(prefix));
        Ok(out)
    }
}

/// The exclusive upper bound of the keys that start with `prefix`: the
/// prefix with its last non-0xFF byte incremented and what follows dropped,
/// or unbounded when there is none (an empty or all-0xFF prefix).
pub fn prefix_upper_bound(prefix: &[u8]) -> Bound<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Bound::Excluded(end);
        }
    }
    Bound::Unbounded
}

/// True when no key can lie between `start` and `end`. Both implementations
/// check this first: `BTreeMap::range` panics on such ranges.
pub(crate) fn range_is_empty(start: &Bound<Vec<u8>>, end: &Bound<Vec<u8>>) -> bool {
    match (start, end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e))
        | (Bound::Excluded(s), Bound::Excluded(e)) => s >= e,
        _ => false,
    }
}

/// One operation of a [`WriteBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOp {
    /// Set `key` to `value`.
    Put(Vec<u8>, Vec<u8>),
    /// Remove `key` (no error when absent).
    Delete(Vec<u8>),
}

/// Puts and deletes applied together by [`KvStore::apply`], in order: the
/// last operation on a key wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<BatchOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set `key` to `value`.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(BatchOp::Put(key.into(), value.into()));
        self
    }

    /// Remove `key`.
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(BatchOp::Delete(key.into()));
        self
    }

    /// True when the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// The operations, in the order they were added.
    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    pub(crate) fn into_ops(self) -> Vec<BatchOp> {
        self.ops
    }
}
