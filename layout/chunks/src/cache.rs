//! A bounded, least-recently-used cache of open chunk files, so that a READ
//! or WRITE does not open and close two files each time.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::sync::Arc;

use fsapi::InodeId;

/// The open data and sidecar files of one chunk.
#[derive(Debug)]
pub(crate) struct ChunkFiles {
    pub dat: File,
    pub sum: File,
}

type Key = (InodeId, u64);

#[derive(Debug)]
pub(crate) struct FileCache {
    /// Most chunks held open (each holds two descriptors).
    capacity: usize,
    tick: u64,
    map: HashMap<Key, (Arc<ChunkFiles>, u64)>,
    by_use: BTreeMap<u64, Key>,
}

impl FileCache {
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), tick: 0, map: HashMap::new(), by_use: BTreeMap::new() }
    }

    pub fn get(&mut self, key: Key) -> Option<Arc<ChunkFiles>> {
        self.tick += 1;
        let tick = self.tick;
        let (files, used) = self.map.get_mut(&key)?;
        self.by_use.remove(used);
        *used = tick;
        self.by_use.insert(tick, key);
        Some(files.clone())
    }

    pub fn insert(&mut self, key: Key, files: Arc<ChunkFiles>) {
        self.remove(key);
        self.tick += 1;
        self.map.insert(key, (files, self.tick));
        self.by_use.insert(self.tick, key);
        while self.map.len() > self.capacity {
            let Some((_, oldest)) = self.by_use.pop_first() else { break };
            // Closed when the last user drops its Arc.
            self.map.remove(&oldest);
        }
    }

    pub fn remove(&mut self, key: Key) {
        if let Some((_, used)) = self.map.remove(&key) {
            self.by_use.remove(&used);
        }
    }

    pub fn remove_inode(&mut self, ino: InodeId) {
        let keys: Vec<Key> = self.map.keys().filter(|k| k.0 == ino).copied().collect();
        for k in keys {
            self.remove(k);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Arc<ChunkFiles> {
        let f = || tempfile::tempfile().expect("tempfile");
        Arc::new(ChunkFiles { dat: f(), sum: f() })
    }

    /// Goal: the cache never holds more than its capacity and evicts the
    /// least recently used chunk.
    #[test]
    fn evicts_least_recently_used() {
        let mut c = FileCache::new(2);
        c.insert((InodeId(1), 0), files());
        c.insert((InodeId(1), 1), files());
        assert!(c.get((InodeId(1), 0)).is_some());
        c.insert((InodeId(1), 2), files());
        assert_eq!(c.len(), 2);
        assert!(c.get((InodeId(1), 1)).is_none(), "chunk 1 was least recently used");
        assert!(c.get((InodeId(1), 0)).is_some());
        c.remove_inode(InodeId(1));
        assert_eq!(c.len(), 0);
    }
}
