//! [`MemStore`]: the in-memory twin, with a crash model.

use std::collections::BTreeMap;
use std::ops::Bound;

use parking_lot::Mutex;

use crate::{range_is_empty, BatchOp, KeyValue, KvStore, StoreError, WriteBatch};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// An in-memory [`KvStore`] with the same semantics as [`crate::SledStore`]
/// and a crash model for simulation tests: [`MemStore::crash`] forgets every
/// batch applied since the last [`KvStore::flush`], whole batches only.
#[derive(Debug, Default)]
pub struct MemStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// What readers see: `durable` plus every unflushed batch.
    live: Map,
    /// What survives a crash.
    durable: Map,
    /// Batches applied since the last flush, oldest first.
    unflushed: Vec<Vec<BatchOp>>,
}

fn apply_ops(map: &mut Map, ops: &[BatchOp]) {
    for op in ops {
        match op {
            BatchOp::Put(k, v) => {
                map.insert(k.clone(), v.clone());
            }
            BatchOp::Delete(k) => {
                map.remove(k);
            }
        }
    }
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Simulate a crash: every batch applied since the last flush is lost.
    pub fn crash(&self) {
        self.crash_keeping(0);
    }

    /// Simulate a crash after which the first `keep` unflushed batches
    /// happened to reach the disk anyway (an engine may persist some
    /// unflushed writes; it never persists a later batch without the earlier
    /// ones, nor part of one). `keep` beyond the count keeps them all.
    pub fn crash_keeping(&self, keep: usize) {
        let mut inner = self.inner.lock();
        let unflushed = std::mem::take(&mut inner.unflushed);
        for ops in unflushed.iter().take(keep) {
            apply_ops(&mut inner.durable, ops);
        }
        inner.live = inner.durable.clone();
    }

    /// The number of batches a crash would lose now.
    pub fn unflushed_batches(&self) -> usize {
        self.inner.lock().unflushed.len()
    }
}

impl KvStore for MemStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.inner.lock().live.get(key).cloned())
    }

    fn scan(
        &self,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        if limit == 0 || range_is_empty(&start, &end) {
            return Ok(Vec::new());
        }
        let inner = self.inner.lock();
        let range = inner.live.range::<Vec<u8>, _>((start, end));
        let clone = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
        Ok(if reverse {
            range.rev().take(limit).map(clone).collect()
        } else {
            range.take(limit).map(clone).collect()
        })
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let ops = batch.into_ops();
        let mut inner = self.inner.lock();
        apply_ops(&mut inner.live, &ops);
        inner.unflushed.push(ops);
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        let mut inner = self.inner.lock();
        let unflushed = std::mem::take(&mut inner.unflushed);
        for ops in &unflushed {
            apply_ops(&mut inner.durable, ops);
        }
        Ok(())
    }

    fn approximate_size_bytes(&self) -> Result<u64, StoreError> {
        let inner = self.inner.lock();
        Ok(inner.live.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum())
    }
}
