//! Byte-range locks per chunk, for the write order of the data plane.
//!
//! A chunk's primary applies a write locally and forwards it to the other
//! replicas while holding the written range: two writes that overlap are
//! applied in the same order on every replica, while writes to disjoint
//! ranges of one chunk (a sequential stream with many writes in flight) go
//! on side by side. Ranges are widened to whole checksum blocks, since two
//! writes into one block share its checksum slot. A repair copying a chunk
//! takes the whole chunk.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use tokio::sync::Notify;

/// The ranges held, per `(inode, chunk)`.
#[derive(Default)]
pub struct RangeLocks {
    held: Mutex<HashMap<(u64, u64), Vec<Held>>>,
    released: Notify,
    next_id: AtomicU64,
}

#[derive(Clone, Copy)]
struct Held {
    id: u64,
    start: u64,
    end: u64,
}

/// A held range; released on drop.
pub struct RangeGuard<'a> {
    locks: &'a RangeLocks,
    key: (u64, u64),
    id: u64,
}

impl RangeLocks {
    /// Hold `[start, end)` of chunk `chunk` of `ino`, widened to multiples of
    /// `block` (> 0), once no overlapping range is held.
    pub async fn lock(
        &self,
        ino: u64,
        chunk: u64,
        start: u64,
        end: u64,
        block: u64,
    ) -> RangeGuard<'_> {
        let block = block.max(1);
        let start = start / block * block;
        let end = end.max(start + 1).div_ceil(block).saturating_mul(block);
        let key = (ino, chunk);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        loop {
            // Registered before the check, so a release between the check
            // and the wait is not missed.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            {
                let mut held = self.held.lock();
                let ranges = held.entry(key).or_default();
                if !ranges.iter().any(|h| h.start < end && start < h.end) {
                    ranges.push(Held { id, start, end });
                    return RangeGuard { locks: self, key, id };
                }
            }
            released.await;
        }
    }

    /// The whole chunk.
    pub async fn lock_chunk(&self, ino: u64, chunk: u64) -> RangeGuard<'_> {
        self.lock(ino, chunk, 0, u64::MAX, 1).await
    }

    #[cfg(test)]
    fn held_count(&self) -> usize {
        self.held.lock().values().map(Vec::len).sum()
    }
}

impl Drop for RangeGuard<'_> {
    fn drop(&mut self) {
        {
            let mut held = self.locks.held.lock();
            if let Some(ranges) = held.get_mut(&self.key) {
                ranges.retain(|h| h.id != self.id);
                if ranges.is_empty() {
                    held.remove(&self.key);
                }
            }
        }
        self.locks.released.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    async fn blocked<F: std::future::Future>(f: F) -> bool {
        tokio::time::timeout(Duration::from_millis(50), f).await.is_err()
    }

    #[tokio::test]
    async fn disjoint_ranges_go_together_overlapping_wait() {
        let l = RangeLocks::default();
        let a = l.lock(1, 0, 0, 1 << 20, 4096).await;
        // disjoint: granted at once; another chunk or inode: too
        let b = l.lock(1, 0, 1 << 20, 2 << 20, 4096).await;
        let _c = l.lock(1, 1, 0, 1 << 20, 4096).await;
        let _d = l.lock(2, 0, 0, 1 << 20, 4096).await;
        // overlapping a: waits; the same 4 KiB block as the end of b: waits
        assert!(blocked(l.lock(1, 0, 100, 200, 4096)).await);
        assert!(blocked(l.lock(1, 0, (2 << 20) - 1, (2 << 20) + 10, 1)).await);
        assert!(!blocked(l.lock(1, 0, (2 << 20) + 4096, (2 << 20) + 4200, 4096)).await);
        // the whole chunk waits for every range of it
        assert!(blocked(l.lock_chunk(1, 0)).await);
        drop(a);
        assert!(!blocked(l.lock(1, 0, 100, 200, 4096)).await);
        assert!(blocked(l.lock_chunk(1, 0)).await);
        drop(b);
        assert!(!blocked(l.lock_chunk(1, 0)).await);
    }

    #[tokio::test]
    async fn a_waiter_wakes_when_the_range_is_released_and_nothing_leaks() {
        let l = Arc::new(RangeLocks::default());
        let g = l.lock(7, 3, 0, 10, 4096).await;
        let l2 = l.clone();
        let waiter = tokio::spawn(async move {
            let _g = l2.lock(7, 3, 5, 6, 4096).await;
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "an overlapping range was granted while held");
        drop(g);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiter was not woken")
            .expect("waiter");
        assert_eq!(l.held_count(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn overlapping_holders_never_run_together() {
        let l = Arc::new(RangeLocks::default());
        // which 4 KiB blocks are held right now; a holder finding one of its
        // blocks taken is a broken lock
        let busy = Arc::new(Mutex::new(vec![false; 16]));
        let mut tasks = Vec::new();
        for i in 0..200u64 {
            let (l, busy) = (l.clone(), busy.clone());
            tasks.push(tokio::spawn(async move {
                let start = (i * 7919) % 40_000;
                let end = start + 1 + (i * 104_729) % 9000;
                let _g = l.lock(1, 0, start, end, 4096).await;
                let blocks = (start / 4096) as usize..end.div_ceil(4096) as usize;
                for b in blocks.clone() {
                    let mut busy = busy.lock();
                    assert!(!busy[b], "block {b} held twice");
                    busy[b] = true;
                }
                tokio::task::yield_now().await;
                for b in blocks {
                    busy.lock()[b] = false;
                }
            }));
        }
        for t in tasks {
            t.await.expect("a holder found its range held by another");
        }
        assert_eq!(l.held_count(), 0);
    }
}
