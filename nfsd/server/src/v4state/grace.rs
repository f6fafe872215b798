//! The grace period and the durable client records behind it (RFC 7530
//! §9.6.2, RFC 8881 §8.4.2 and §8.4.3).
//!
//! After a restart only clients that held state at the previous instance
//! may reclaim it, and nobody may take new locking state until they had
//! their chance. Which clients those are must survive the restart: a
//! [`ClientRecords`] store keeps one record (the client's owner name) per
//! client that may reclaim.
//!
//! When a client is recorded: 4.0 when it first holds confirmed open state
//! (OPEN_CONFIRM, or a reclaim OPEN, which needs no confirmation), 4.1 at
//! its global RECLAIM_COMPLETE (RFC 8881 §8.4.3: recording earlier would
//! let a client that never finished reclaiming after one restart reclaim
//! after the next, over locks granted to others meanwhile). A record is
//! forgotten when its client is destroyed or expires, and at the end of a
//! grace period for previous clients that did not come back.
//!
//! Invariant: the set of previous clients is fixed at start; grace, once
//! over, never comes back (a new grace needs a new instance).

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Durable records of the clients that may reclaim after a restart.
///
/// `record` and `forget` must be durable when they return (the file
/// implementation fsyncs); they run under the state manager's lock, once
/// per client lifetime.
pub trait ClientRecords: Send {
    /// The owner names recorded by earlier instances (read once, at start).
    fn load(&self) -> Vec<Vec<u8>>;
    /// Remember `owner` (idempotent).
    fn record(&mut self, owner: &[u8]) -> io::Result<()>;
    /// Forget `owner` (idempotent).
    fn forget(&mut self, owner: &[u8]) -> io::Result<()>;
}

/// In-memory records, for tests: clone it to "restart" over the same
/// records.
#[derive(Debug, Clone, Default)]
pub struct MemClientRecords {
    inner: std::sync::Arc<parking_lot::Mutex<BTreeSet<Vec<u8>>>>,
}

impl MemClientRecords {
    /// Empty records.
    pub fn new() -> Self {
        Self::default()
    }

    /// What is recorded now.
    pub fn snapshot(&self) -> BTreeSet<Vec<u8>> {
        self.inner.lock().clone()
    }
}

impl ClientRecords for MemClientRecords {
    fn load(&self) -> Vec<Vec<u8>> {
        self.inner.lock().iter().cloned().collect()
    }

    fn record(&mut self, owner: &[u8]) -> io::Result<()> {
        self.inner.lock().insert(owner.to_vec());
        Ok(())
    }

    fn forget(&mut self, owner: &[u8]) -> io::Result<()> {
        self.inner.lock().remove(owner);
        Ok(())
    }
}

/// First line of the records file: format name and version.
const FILE_HEADER_V1: &str = "cairn-nfs4-client-records 1";
/// Longest owner name accepted from the file (RFC 7530 NFS4_OPAQUE_LIMIT).
const OWNER_LEN_MAX_BYTES: usize = 1024;

/// Records in one text file: a header line, then one hex-encoded owner
/// name per line. Every change rewrites the file through a temporary file,
/// fsync and rename, then fsyncs the directory.
#[derive(Debug)]
pub struct FileClientRecords {
    path: PathBuf,
    loaded: Vec<Vec<u8>>,
    current: BTreeSet<Vec<u8>>,
}

impl FileClientRecords {
    /// Open (or start) the records at `path`. A missing file is empty
    /// records; a file with another header or a malformed line is an
    /// error rather than a silently empty grace period.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let mut current = BTreeSet::new();
        let mut lines = text.lines();
        match lines.next() {
            None => {}
            Some(h) if h == FILE_HEADER_V1 => {
                for line in lines.filter(|l| !l.is_empty()) {
                    current.insert(hex_decode(line).ok_or_else(|| {
                        io::Error::new(io::ErrorKind::InvalidData, "malformed client record")
                    })?);
                }
            }
            Some(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "unknown client records format",
                ))
            }
        }
        Ok(FileClientRecords { path, loaded: current.iter().cloned().collect(), current })
    }

    fn persist(&self) -> io::Result<()> {
        let mut text = String::with_capacity(64 + self.current.len() * 64);
        text.push_str(FILE_HEADER_V1);
        text.push('\n');
        for owner in &self.current {
            text.push_str(&hex_encode(owner));
            text.push('\n');
        }
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

impl ClientRecords for FileClientRecords {
    fn load(&self) -> Vec<Vec<u8>> {
        self.loaded.clone()
    }

    fn record(&mut self, owner: &[u8]) -> io::Result<()> {
        if self.current.insert(owner.to_vec()) {
            self.persist()?;
        }
        Ok(())
    }

    fn forget(&mut self, owner: &[u8]) -> io::Result<()> {
        if self.current.remove(owner) {
            self.persist()?;
        }
        Ok(())
    }
}

fn hex_encode(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(DIGITS[usize::from(x >> 4)]));
        s.push(char::from(DIGITS[usize::from(x & 15)]));
    }
    s
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() / 2 > OWNER_LEN_MAX_BYTES {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    s.as_bytes().chunks(2).map(|p| Some(nib(p[0])? << 4 | nib(p[1])?)).collect()
}

/// How long after the grace period's nominal end the last reclaim keeps
/// it open (Linux does the same): a client still busy reclaiming is not
/// cut off mid-way, up to twice the grace period in total.
const GRACE_RECLAIM_EXTENSION: Duration = Duration::from_secs(1);

/// Grace-period bookkeeping.
#[derive(Debug)]
pub(crate) struct Grace {
    /// Owner names recorded by the previous instance.
    pub previous: HashSet<Vec<u8>>,
    /// Previous clients that re-recorded in this instance.
    pub recorded_again: HashSet<Vec<u8>>,
    /// Previous 4.1 clients that sent RECLAIM_COMPLETE.
    pub completed: HashSet<Vec<u8>>,
    start: Instant,
    period: Duration,
    active: bool,
    last_reclaim: Option<Instant>,
}

impl Grace {
    pub fn new(previous: Vec<Vec<u8>>, enabled: bool, period: Duration, now: Instant) -> Self {
        let previous: HashSet<Vec<u8>> = previous.into_iter().collect();
        Grace {
            active: enabled && !previous.is_empty(),
            previous,
            recorded_again: HashSet::new(),
            completed: HashSet::new(),
            start: now,
            period,
            last_reclaim: None,
        }
    }

    /// Whether the grace period still runs at `now`; `false` once it has
    /// ended, forever. The caller runs [`Grace::end`] when this flips.
    pub fn still_running(&self, now: Instant) -> bool {
        if !self.active {
            return false;
        }
        let since = now.saturating_duration_since(self.start);
        if since < self.period {
            return true;
        }
        match self.last_reclaim {
            Some(t) => {
                since < self.period.saturating_mul(2)
                    && now.saturating_duration_since(t) < GRACE_RECLAIM_EXTENSION
            }
            None => false,
        }
    }

    pub fn is_active(&self) -> bool {
        self.active
    }

    /// End the grace period; returns the previous clients to forget (those
    /// that did not re-record).
    pub fn end(&mut self) -> Vec<Vec<u8>> {
        self.active = false;
        self.previous.iter().filter(|o| !self.recorded_again.contains(*o)).cloned().collect()
    }

    pub fn note_reclaim(&mut self, now: Instant) {
        self.last_reclaim = Some(now);
    }

    /// Whether every previous client sent RECLAIM_COMPLETE (RFC 8881
    /// §8.4.2.1: the grace period may then end early).
    pub fn all_completed(&self) -> bool {
        self.previous.iter().all(|o| self.completed.contains(o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file store round-trips, survives a reopen, and refuses a file
    /// of an unknown format instead of starting with no grace.
    #[test]
    fn file_records_persist_and_reload() {
        let dir = std::env::temp_dir().join(format!("cairn-v4state-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("clients");
        let _ = fs::remove_file(&path);
        {
            let mut r = FileClientRecords::open(&path).expect("open");
            assert!(r.load().is_empty());
            r.record(b"alpha").expect("record");
            r.record(&[0, 255, 7]).expect("record");
            r.record(b"gone").expect("record");
            r.forget(b"gone").expect("forget");
        }
        let r = FileClientRecords::open(&path).expect("reopen");
        let mut got = r.load();
        got.sort();
        assert_eq!(got, vec![vec![0, 255, 7], b"alpha".to_vec()]);
        fs::write(&path, "something else\n").expect("write");
        assert!(FileClientRecords::open(&path).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
