//! [`SledStore`]: the on-disk [`KvStore`], over sled 0.34.

use std::ops::Bound;
use std::path::Path;
use std::time::Duration;

use crate::{range_is_empty, BatchOp, KeyValue, KvStore, StoreError, WriteBatch};

const LOCK_WAIT_MAX: Duration = Duration::from_secs(10);
const LOCK_WAIT_STEP: Duration = Duration::from_millis(20);
/// The on-disk format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The tree that holds only the format version, so that user keys in the
/// default tree have the whole key space (no reserved key to filter out of
/// scans). All user data lives in the default tree: a sled batch is atomic
/// within one tree.
const FORMAT_TREE: &[u8] = b"__cairn_store_format";
const VERSION_KEY: &[u8] = b"version";

/// Options of [`SledStore::open_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SledStoreOptions {
    /// Size of sled's page cache, in bytes.
    pub cache_capacity_bytes: u64,
}

impl Default for SledStoreOptions {
    fn default() -> Self {
        Self { cache_capacity_bytes: 256 * 1024 * 1024 }
    }
}

/// A [`KvStore`] in one sled database directory, using its default tree.
///
/// Durability: sled 0.34 persists on [`KvStore::flush`] (and on its own
/// periodic flush, which the crash model treats as "maybe"). Batches go
/// through `Tree::apply_batch`, which sled applies atomically, also across a
/// crash.
#[derive(Debug, Clone)]
pub struct SledStore {
    db: sled::Db,
}

impl SledStore {
    /// Open (or create) the store at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, SledStoreOptions::default())
    }

    /// Open (or create) the store at `path`. A new store gets
    /// [`FORMAT_VERSION`], durably, before this returns; an existing one must
    /// carry exactly that version, else [`StoreError::Version`].
    pub fn open_with(path: impl AsRef<Path>, opts: SledStoreOptions) -> Result<Self, StoreError> {
        let config = sled::Config::new()
            .path(path.as_ref())
            .cache_capacity(opts.cache_capacity_bytes)
            // No background flusher: `flush` is the one durability point of
            // the trait.
            .flush_every_ms(None);
        // sled's own threads can hold the directory's file lock for a moment
        // after the last handle in this process is dropped: an immediate
        // reopen (a restart in tests) waits for it, boundedly.
        let mut waited = Duration::ZERO;
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && waited < LOCK_WAIT_MAX =>
                {
                    std::thread::sleep(LOCK_WAIT_STEP);
                    waited += LOCK_WAIT_STEP;
                }
                Err(e) => return Err(from_sled(e)),
            }
        };
        let format = db.open_tree(FORMAT_TREE).map_err(from_sled)?;
        match format.get(VERSION_KEY).map_err(from_sled)? {
            Some(raw) => {
                let bytes: [u8; 4] = raw.as_ref().try_into().map_err(|_| {
                    StoreError::Corrupt(format!("format version is {} bytes, not 4", raw.len()))
                })?;
                let found = u32::from_be_bytes(bytes);
                if found != FORMAT_VERSION {
                    return Err(StoreError::Version {
                        found: Some(found),
                        expected: FORMAT_VERSION,
                    });
                }
            }
            None => {
                // Created just now, or by something that is not this crate.
                if !db.is_empty() {
                    return Err(StoreError::Version { found: None, expected: FORMAT_VERSION });
                }
                format.insert(VERSION_KEY, &FORMAT_VERSION.to_be_bytes()[..]).map_err(from_sled)?;
                db.flush().map_err(from_sled)?;
            }
        }
        Ok(Self { db })
    }
}

fn from_sled(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) => StoreError::Io(io),
        sled::Error::Corruption { at, .. } => {
            StoreError::Corrupt(format!("sled found corruption at {at:?}"))
        }
        other => StoreError::Engine(other.to_string()),
    }
}

impl KvStore for SledStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get(key).map_err(from_sled)?.map(|v| v.to_vec()))
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
        let iter = self.db.range::<Vec<u8>, _>((start, end));
        let to_pair = |r: sled::Result<(sled::IVec, sled::IVec)>| {
            r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(from_sled)
        };
        if reverse {
            iter.rev().take(limit).map(to_pair).collect()
        } else {
            iter.take(limit).map(to_pair).collect()
        }
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // sled's Batch keeps the last write per key, matching our rule.
        let mut b = sled::Batch::default();
        for op in batch.into_ops() {
            match op {
                BatchOp::Put(k, v) => b.insert(k, v),
                BatchOp::Delete(k) => b.remove(k),
            }
        }
        self.db.apply_batch(b).map_err(from_sled)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(from_sled)
    }

    fn approximate_size_bytes(&self) -> Result<u64, StoreError> {
        self.db.size_on_disk().map_err(from_sled)
    }
}
