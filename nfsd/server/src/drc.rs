//! The duplicate request cache (DRC).
//!
//! A client that loses a reply (connection reset, timeout) resends the call
//! with the same xid. Executing a non-idempotent call twice gives wrong
//! answers — a retried REMOVE would say NOENT, a retried exclusive CREATE
//! EXIST — so the first reply of such calls is kept and sent again
//! (RFC 1813 §4.2, "Duplicate request cache"). A retransmission that
//! arrives while the original still runs is dropped: the original's reply
//! will answer it.
//!
//! The key is the client address (without port: a client reconnecting
//! comes from a new port), xid, program, version, procedure and a hash of
//! the arguments, so an xid reused for different arguments is not confused
//! with a retransmission. Bounded by `entries_max` and an age limit.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Identifies one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DrcKey {
    pub client: IpAddr,
    pub xid: u32,
    pub prog: u32,
    pub vers: u32,
    pub proc_: u32,
    pub args_hash: u64,
}

/// What the cache knows of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrcLookup {
    /// First time seen: execute it (the cache now marks it in progress).
    New,
    /// The original is still executing: drop this copy.
    InProgress,
    /// Already answered: send this reply again.
    Done(Arc<Vec<u8>>),
}

enum State {
    InProgress,
    Done(Arc<Vec<u8>>),
}

/// A bounded duplicate request cache.
pub struct Drc {
    inner: Mutex<Inner>,
    entries_max: usize,
    age_max: Duration,
}

struct Inner {
    map: HashMap<DrcKey, State>,
    order: VecDeque<(DrcKey, Instant)>,
}

impl Drc {
    /// A cache of at most `entries_max` calls, each kept at most `age_max`.
    pub fn new(entries_max: usize, age_max: Duration) -> Self {
        Drc {
            inner: Mutex::new(Inner { map: HashMap::new(), order: VecDeque::new() }),
            entries_max,
            age_max,
        }
    }

    /// Look a call up, marking it in progress when new.
    pub fn begin(&self, key: DrcKey) -> DrcLookup {
        let mut g = self.inner.lock();
        let now = Instant::now();
        // Evict by age and by size, oldest first.
        while let Some((k, t)) = g.order.front().copied() {
            if g.order.len() <= self.entries_max && now.duration_since(t) <= self.age_max {
                break;
            }
            g.order.pop_front();
            // An entry leaves the map with its place in `order`, in progress
            // or not: every map entry has exactly one place, so none leaks.
            // (A call evicted while running just loses its protection.)
            g.map.remove(&k);
        }
        match g.map.get(&key) {
            Some(State::InProgress) => DrcLookup::InProgress,
            Some(State::Done(r)) => DrcLookup::Done(r.clone()),
            None => {
                g.map.insert(key, State::InProgress);
                g.order.push_back((key, now));
                DrcLookup::New
            }
        }
    }

    /// Record the reply of a call begun with [`Drc::begin`] (unless it was
    /// evicted meanwhile).
    pub fn finish(&self, key: DrcKey, reply: Arc<Vec<u8>>) {
        if let Some(state) = self.inner.lock().map.get_mut(&key) {
            *state = State::Done(reply);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(xid: u32) -> DrcKey {
        DrcKey {
            client: "127.0.0.1".parse().expect("ip"),
            xid,
            prog: 100003,
            vers: 3,
            proc_: 12,
            args_hash: 9,
        }
    }

    #[test]
    fn retransmission_gets_the_first_reply() {
        let d = Drc::new(10, Duration::from_secs(60));
        assert_eq!(d.begin(key(1)), DrcLookup::New);
        assert_eq!(d.begin(key(1)), DrcLookup::InProgress);
        d.finish(key(1), Arc::new(vec![1, 2, 3]));
        assert_eq!(d.begin(key(1)), DrcLookup::Done(Arc::new(vec![1, 2, 3])));
        // Same xid, other arguments: a new call.
        assert_eq!(d.begin(DrcKey { args_hash: 10, ..key(1) }), DrcLookup::New);
    }

    #[test]
    fn bounded() {
        let d = Drc::new(4, Duration::from_secs(60));
        for x in 0..100 {
            assert_eq!(d.begin(key(x)), DrcLookup::New);
            d.finish(key(x), Arc::new(vec![]));
        }
        assert!(d.inner.lock().map.len() <= 5);
        assert_eq!(d.begin(key(0)), DrcLookup::New, "old entries were evicted");
    }

    /// A call still running when it is evicted must not stay in the map
    /// for ever once it finishes.
    #[test]
    fn calls_evicted_while_running_do_not_leak() {
        let d = Drc::new(4, Duration::from_secs(60));
        for x in 0..100 {
            assert_eq!(d.begin(key(x)), DrcLookup::New);
        }
        for x in 0..100 {
            d.finish(key(x), Arc::new(vec![]));
        }
        let g = d.inner.lock();
        assert!(g.map.len() <= 5, "map holds {} entries", g.map.len());
        assert_eq!(g.map.len(), g.order.len(), "every entry has a place in the eviction order");
    }
}
