//! [`RaftLog`]: raft-rs's [`raft::Storage`] over a [`store::KvStore`].
//!
//! Owns, under one key prefix: the format version, the `HardState`, the log
//! entries after the last checkpoint, the last checkpoint (its metadata —
//! index, term, `ConfState` — and its bytes, in pieces), and the node's
//! incarnation counter.
//!
//! Invariants:
//! - the stored entries are exactly `checkpoint.index + 1 ..= last_index`,
//!   contiguous (checked at open; a gap is corruption);
//! - every change raft asks for in one `Ready` (checkpoint install, appended
//!   and truncated entries, `HardState`) is ONE [`WriteBatch`], flushed when
//!   the `Ready` says `must_sync`, so a crash keeps all of it or none;
//! - compaction writes the new checkpoint and deletes the entries it covers
//!   in one flushed batch;
//! - bytes from the store never cause a panic: a decode failure is
//!   [`Error::Corrupt`] at open, or `StorageError::Other` through the
//!   `Storage` trait (raft-rs then stops the node).
//!
//! The `ConfState` is persisted only with a checkpoint: after a restart the
//! node replays the committed entries after the checkpoint, conf changes
//! included, so the membership raft sees always matches the applied index.

use std::cell::Cell;
use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::Arc;

use protobuf::Message as _;
use raft::eraftpb::{ConfState, Entry, HardState, Snapshot, SnapshotMetadata};
use raft::{GetEntriesContext, RaftState, StorageError};
use store::{KvStore, WriteBatch};

use crate::codec::{fnv1a, Reader, Writer, FNV_OFFSET};
use crate::error::Error;

/// Version of the raft log's key layout and record formats.
pub const LOG_FORMAT_VERSION: u32 = 1;
/// A checkpoint's bytes are stored in pieces of at most this size.
pub const CHECKPOINT_PIECE_BYTES: usize = 1 << 20;
/// Version byte of the hard-state and checkpoint-metadata records.
const RECORD_VERSION: u8 = 1;
/// Entries read from the store per scan when loading the log at open.
const OPEN_SCAN_PAGE_ENTRIES: usize = 1024;

const K_FORMAT: &[u8] = b"fmt";
const K_HARD_STATE: &[u8] = b"hs";
const K_CHECKPOINT: &[u8] = b"ck";
const K_CHECKPOINT_PIECE: &[u8] = b"cd";
const K_ENTRY: &[u8] = b"e";
const K_INCARNATION: &[u8] = b"inc";

/// The last checkpoint (Raft §7 "snapshot"; Cairn says checkpoint, to keep
/// the word snapshot for the filesystem's `.snap`).
#[derive(Debug, Clone, Default)]
struct CheckpointMeta {
    index: u64,
    term: u64,
    conf_state: ConfState,
    size_bytes: u64,
    pieces: u32,
    /// FNV-1a of the checkpoint bytes, checked when they are read back.
    digest: u64,
}

/// What raft-rs knows about one stored entry, kept in memory so `term()`
/// needs no store read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EntryInfo {
    term: u64,
    /// FNV-1a of the entry's type, data and context.
    fingerprint: u64,
}

/// The raft log over a [`KvStore`]. See the module documentation.
pub struct RaftLog {
    store: Arc<dyn KvStore>,
    prefix: Vec<u8>,
    hard_state: HardState,
    checkpoint: CheckpointMeta,
    /// Entries `checkpoint.index + 1 ..`, in order.
    entries: VecDeque<EntryInfo>,
    /// Set when raft asked for a checkpoint this log cannot give (too old,
    /// or taken before the peer was added); the node then takes a new one.
    checkpoint_wanted: Cell<bool>,
}

impl std::fmt::Debug for RaftLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaftLog")
            .field("checkpoint_index", &self.checkpoint.index)
            .field("first_index", &self.first())
            .field("last_index", &self.last())
            .field("hard_state", &self.hard_state)
            .finish()
    }
}

fn entry_fingerprint(e: &Entry) -> u64 {
    let mut h = fnv1a(FNV_OFFSET, &[e.get_entry_type() as u8]);
    h = fnv1a(h, &(e.data.len() as u64).to_le_bytes());
    h = fnv1a(h, &e.data);
    fnv1a(h, &e.context)
}

fn other(msg: String) -> raft::Error {
    tracing::error!(error = %msg, "raft log read failed");
    raft::Error::Store(StorageError::Other(msg.into()))
}

fn encode_conf_state(cs: &ConfState) -> Vec<u8> {
    // Writing a message made of plain fields cannot fail.
    cs.write_to_bytes().unwrap_or_default()
}

impl RaftLog {
    /// Open the raft log kept in `store` under `prefix`, creating an empty,
    /// uninitialized one (no configuration: the node waits to be sent a
    /// checkpoint or entries by a leader) when there is none.
    pub fn open(store: Arc<dyn KvStore>, prefix: &[u8]) -> Result<Self, Error> {
        let mut log = RaftLog {
            store,
            prefix: prefix.to_vec(),
            hard_state: HardState::default(),
            checkpoint: CheckpointMeta::default(),
            entries: VecDeque::new(),
            checkpoint_wanted: Cell::new(false),
        };
        match log.store.get(&log.key(K_FORMAT))? {
            None => {
                if !log.store.scan_prefix(&log.prefix, None, 1)?.is_empty() {
                    return Err(Error::Corrupt("raft log keys without a format version".into()));
                }
                let mut b = WriteBatch::new();
                b.put(log.key(K_FORMAT), LOG_FORMAT_VERSION.to_le_bytes().to_vec());
                log.store.apply(b)?;
                log.store.flush()?;
            }
            Some(v) => {
                let found = Reader::new(&v, "raft log format version").u32()?;
                if found != LOG_FORMAT_VERSION {
                    return Err(Error::Version { found, expected: LOG_FORMAT_VERSION });
                }
            }
        }
        if let Some(v) = log.store.get(&log.key(K_HARD_STATE))? {
            log.hard_state = decode_hard_state(&v)?;
        }
        if let Some(v) = log.store.get(&log.key(K_CHECKPOINT))? {
            log.checkpoint = decode_checkpoint_meta(&v)?;
        }
        log.load_entries()?;
        Ok(log)
    }

    /// Write the first configuration of a new cluster: a checkpoint at index
    /// 1, term 1 holding `state` (the state machine's initial checkpoint
    /// bytes), with `voters` as the members. Every founding member is
    /// bootstrapped with the same arguments; nodes added later start empty
    /// and receive a checkpoint from the leader. Starting the log at 1, not
    /// 0, is what makes a new node always catch up through a checkpoint
    /// that carries the membership, never through a log that lacks it.
    pub fn bootstrap(&mut self, voters: &[u64], state: &[u8]) -> Result<(), Error> {
        if self.checkpoint.index != 0 || !self.entries.is_empty() || self.hard_state.term != 0 {
            return Err(Error::AlreadyInitialized);
        }
        if voters.is_empty() || voters.contains(&0) {
            return Err(Error::Config("bootstrap needs voters, none of them 0".into()));
        }
        let mut cs = ConfState::default();
        cs.set_voters(voters.to_vec());
        let mut b = WriteBatch::new();
        self.stage_checkpoint(&mut b, 1, 1, cs, state);
        let hs = HardState { term: 1, commit: 1, ..Default::default() };
        self.stage_hard_state(&mut b, &hs);
        self.write(b, true)
    }

    fn key(&self, tag: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + tag.len() + 8);
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(tag);
        k
    }

    fn entry_key(&self, index: u64) -> Vec<u8> {
        let mut k = self.key(K_ENTRY);
        k.extend_from_slice(&index.to_be_bytes());
        k
    }

    fn piece_key(&self, piece: u32) -> Vec<u8> {
        let mut k = self.key(K_CHECKPOINT_PIECE);
        k.extend_from_slice(&piece.to_be_bytes());
        k
    }

    fn load_entries(&mut self) -> Result<(), Error> {
        let entry_prefix = self.key(K_ENTRY);
        let mut after: Option<Vec<u8>> = None;
        let mut expect = self.checkpoint.index + 1;
        let mut last_term = self.checkpoint.term;
        loop {
            let rows =
                self.store.scan_prefix(&entry_prefix, after.as_deref(), OPEN_SCAN_PAGE_ENTRIES)?;
            let done = rows.len() < OPEN_SCAN_PAGE_ENTRIES;
            for (k, v) in &rows {
                let e = self.decode_entry(k, v).map_err(Error::Corrupt)?;
                if e.index != expect {
                    return Err(Error::Corrupt(format!(
                        "entry {} where {} was expected (checkpoint at {})",
                        e.index, expect, self.checkpoint.index
                    )));
                }
                if e.term < last_term {
                    return Err(Error::Corrupt(format!("entry {} has a lower term", e.index)));
                }
                last_term = e.term;
                expect += 1;
                self.entries
                    .push_back(EntryInfo { term: e.term, fingerprint: entry_fingerprint(&e) });
            }
            after = rows.last().map(|(k, _)| k.clone());
            if done {
                break;
            }
        }
        Ok(())
    }

    fn decode_entry(&self, key: &[u8], value: &[u8]) -> Result<Entry, String> {
        let e = Entry::parse_from_bytes(value).map_err(|e| format!("entry: {e}"))?;
        let want = self.entry_key(e.index);
        if key != want.as_slice() {
            return Err(format!("entry {} stored under another key", e.index));
        }
        Ok(e)
    }

    fn first(&self) -> u64 {
        self.checkpoint.index + 1
    }

    fn last(&self) -> u64 {
        self.checkpoint.index + self.entries.len() as u64
    }

    /// The index of the last checkpoint (0: none).
    pub fn checkpoint_index(&self) -> u64 {
        self.checkpoint.index
    }

    /// The membership recorded with the last checkpoint.
    pub fn checkpoint_conf_state(&self) -> &ConfState {
        &self.checkpoint.conf_state
    }

    /// True when raft asked for a checkpoint newer than the stored one.
    pub(crate) fn checkpoint_wanted(&self) -> bool {
        self.checkpoint_wanted.get()
    }

    /// The term and fingerprint of the stored entry at `index`, if stored.
    pub fn fingerprint(&self, index: u64) -> Option<(u64, u64)> {
        let i = index.checked_sub(self.first())?;
        self.entries.get(usize::try_from(i).ok()?).map(|e| (e.term, e.fingerprint))
    }

    /// The persisted hard state (term, vote, commit).
    pub fn hard_state(&self) -> &HardState {
        &self.hard_state
    }

    /// The checkpoint bytes, read back and verified.
    pub fn checkpoint_data(&self) -> Result<Vec<u8>, Error> {
        let ck = &self.checkpoint;
        let mut data = Vec::with_capacity(usize::try_from(ck.size_bytes).unwrap_or(0));
        for piece in 0..ck.pieces {
            let v = self
                .store
                .get(&self.piece_key(piece))?
                .ok_or_else(|| Error::Corrupt(format!("checkpoint piece {piece} missing")))?;
            data.extend_from_slice(&v);
        }
        if data.len() as u64 != ck.size_bytes || fnv1a(FNV_OFFSET, &data) != ck.digest {
            return Err(Error::Corrupt("checkpoint bytes do not match their digest".into()));
        }
        Ok(data)
    }

    /// Increment and persist the incarnation counter; returns the new value.
    /// Request ids embed it so that they stay unique across restarts.
    pub(crate) fn next_incarnation(&mut self) -> Result<u64, Error> {
        let key = self.key(K_INCARNATION);
        let cur = match self.store.get(&key)? {
            Some(v) => Reader::new(&v, "incarnation").u64()?,
            None => 0,
        };
        let next = cur + 1;
        let mut b = WriteBatch::new();
        b.put(key, next.to_le_bytes().to_vec());
        self.write(b, true)?;
        Ok(next)
    }

    // ----- staging: the node gathers one Ready's changes in one batch -----

    /// Replace everything with the checkpoint raft received from a leader.
    pub(crate) fn stage_install(&mut self, b: &mut WriteBatch, snap: &Snapshot) {
        let meta = snap.get_metadata();
        for i in self.first()..=self.last() {
            b.delete(self.entry_key(i));
        }
        self.entries.clear();
        self.stage_checkpoint(b, meta.index, meta.term, meta.get_conf_state().clone(), &snap.data);
        let mut hs = self.hard_state.clone();
        hs.term = hs.term.max(meta.term);
        hs.commit = hs.commit.max(meta.index);
        self.stage_hard_state(b, &hs);
        self.checkpoint_wanted.set(false);
    }

    /// Append `ents`, replacing any stored entries at and after the first.
    pub(crate) fn stage_append(&mut self, b: &mut WriteBatch, ents: &[Entry]) -> Result<(), Error> {
        let Some(first_new) = ents.first().map(|e| e.index) else { return Ok(()) };
        if first_new < self.first() || first_new > self.last() + 1 {
            return Err(Error::Corrupt(format!(
                "append at {first_new} outside {}..={}",
                self.first(),
                self.last() + 1
            )));
        }
        let old_last = self.last();
        let keep = (first_new - self.first()) as usize;
        self.entries.truncate(keep);
        for (n, e) in ents.iter().enumerate() {
            if e.index != first_new + n as u64 {
                return Err(Error::Corrupt("appended entries are not contiguous".into()));
            }
            let bytes = e.write_to_bytes().map_err(|e| Error::Corrupt(e.to_string()))?;
            b.put(self.entry_key(e.index), bytes);
            self.entries.push_back(EntryInfo { term: e.term, fingerprint: entry_fingerprint(e) });
        }
        for i in self.last() + 1..=old_last {
            b.delete(self.entry_key(i));
        }
        Ok(())
    }

    /// Record `hs` (term, vote, commit).
    pub(crate) fn stage_hard_state(&mut self, b: &mut WriteBatch, hs: &HardState) {
        let mut w = Writer::with_capacity(25);
        w.u8(RECORD_VERSION).u64(hs.term).u64(hs.vote).u64(hs.commit);
        b.put(self.key(K_HARD_STATE), w.finish());
        self.hard_state = hs.clone();
    }

    fn stage_checkpoint(
        &mut self,
        b: &mut WriteBatch,
        index: u64,
        term: u64,
        conf_state: ConfState,
        data: &[u8],
    ) {
        let pieces = data.chunks(CHECKPOINT_PIECE_BYTES).count() as u32;
        for (n, piece) in data.chunks(CHECKPOINT_PIECE_BYTES).enumerate() {
            b.put(self.piece_key(n as u32), piece.to_vec());
        }
        for n in pieces..self.checkpoint.pieces {
            b.delete(self.piece_key(n));
        }
        let meta = CheckpointMeta {
            index,
            term,
            conf_state,
            size_bytes: data.len() as u64,
            pieces,
            digest: fnv1a(FNV_OFFSET, data),
        };
        b.put(self.key(K_CHECKPOINT), encode_checkpoint_meta(&meta));
        self.checkpoint = meta;
    }

    /// Apply a staged batch; flush it when raft requires persistence.
    pub(crate) fn write(&mut self, b: WriteBatch, sync: bool) -> Result<(), Error> {
        if !b.is_empty() {
            self.store.apply(b)?;
        }
        if sync {
            self.store.flush()?;
        }
        Ok(())
    }

    /// Compaction: store a checkpoint of the state at `index` (which the
    /// node has applied) and drop the entries it covers, in one flushed
    /// batch.
    pub(crate) fn compact(
        &mut self,
        index: u64,
        conf_state: ConfState,
        data: &[u8],
    ) -> Result<(), Error> {
        if index <= self.checkpoint.index || index > self.last() {
            return Err(Error::Corrupt(format!(
                "checkpoint at {index} outside {}..={}",
                self.first(),
                self.last()
            )));
        }
        let term = self.entries[(index - self.first()) as usize].term;
        let mut b = WriteBatch::new();
        for i in self.first()..=index {
            b.delete(self.entry_key(i));
        }
        let drop = (index - self.first() + 1) as usize;
        self.entries.drain(..drop);
        self.stage_checkpoint(&mut b, index, term, conf_state, data);
        if self.hard_state.commit < index {
            let mut hs = self.hard_state.clone();
            hs.commit = index;
            self.stage_hard_state(&mut b, &hs);
        }
        self.checkpoint_wanted.set(false);
        self.write(b, true)
    }
}

fn decode_hard_state(v: &[u8]) -> Result<HardState, Error> {
    let mut r = Reader::new(v, "hard state");
    if r.u8()? != RECORD_VERSION {
        return Err(Error::Corrupt("hard state record version".into()));
    }
    let hs = HardState { term: r.u64()?, vote: r.u64()?, commit: r.u64()?, ..Default::default() };
    r.expect_end()?;
    Ok(hs)
}

fn encode_checkpoint_meta(m: &CheckpointMeta) -> Vec<u8> {
    let mut w = Writer::with_capacity(64);
    w.u8(RECORD_VERSION)
        .u64(m.index)
        .u64(m.term)
        .bytes(&encode_conf_state(&m.conf_state))
        .u64(m.size_bytes)
        .u32(m.pieces)
        .u64(m.digest);
    w.finish()
}

fn decode_checkpoint_meta(v: &[u8]) -> Result<CheckpointMeta, Error> {
    let mut r = Reader::new(v, "checkpoint metadata");
    if r.u8()? != RECORD_VERSION {
        return Err(Error::Corrupt("checkpoint record version".into()));
    }
    let index = r.u64()?;
    let term = r.u64()?;
    let cs = ConfState::parse_from_bytes(r.bytes()?)
        .map_err(|e| Error::Corrupt(format!("checkpoint conf state: {e}")))?;
    let m = CheckpointMeta {
        index,
        term,
        conf_state: cs,
        size_bytes: r.u64()?,
        pieces: r.u32()?,
        digest: r.u64()?,
    };
    r.expect_end()?;
    if m.size_bytes.div_ceil(CHECKPOINT_PIECE_BYTES as u64) != u64::from(m.pieces) {
        return Err(Error::Corrupt("checkpoint piece count".into()));
    }
    Ok(m)
}

fn conf_state_has(cs: &ConfState, id: u64) -> bool {
    cs.voters.contains(&id)
        || cs.learners.contains(&id)
        || cs.voters_outgoing.contains(&id)
        || cs.learners_next.contains(&id)
}

impl raft::Storage for RaftLog {
    fn initial_state(&self) -> raft::Result<RaftState> {
        let mut hs = self.hard_state.clone();
        // The checkpoint's index is committed, and its term was seen, even
        // when the batch that raised them in the hard state was not flushed.
        hs.commit = hs.commit.max(self.checkpoint.index).min(self.last());
        hs.term = hs.term.max(self.checkpoint.term);
        Ok(RaftState::new(hs, self.checkpoint.conf_state.clone()))
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        _context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        let max_size = max_size.into();
        if low < self.first() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if high > self.last() + 1 || low > high {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        if low == high {
            return Ok(Vec::new());
        }
        let rows = self
            .store
            .scan(
                Bound::Included(self.entry_key(low)),
                Bound::Excluded(self.entry_key(high)),
                false,
                (high - low) as usize,
            )
            .map_err(|e| other(format!("reading entries {low}..{high}: {e}")))?;
        if rows.len() as u64 != high - low {
            return Err(other(format!("entries {low}..{high}: {} found", rows.len())));
        }
        let mut out = Vec::with_capacity(rows.len());
        let mut size = 0u64;
        for (n, (k, v)) in rows.iter().enumerate() {
            let e = self.decode_entry(k, v).map_err(other)?;
            if e.index != low + n as u64 {
                return Err(other(format!(
                    "entry {} where {} was expected",
                    e.index,
                    low + n as u64
                )));
            }
            size += u64::from(protobuf::Message::compute_size(&e));
            if let Some(max) = max_size {
                if !out.is_empty() && size > max {
                    break;
                }
            }
            out.push(e);
        }
        Ok(out)
    }

    fn term(&self, idx: u64) -> raft::Result<u64> {
        if idx == self.checkpoint.index {
            return Ok(self.checkpoint.term);
        }
        if idx < self.first() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if idx > self.last() {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        Ok(self.entries[(idx - self.first()) as usize].term)
    }

    fn first_index(&self) -> raft::Result<u64> {
        Ok(self.first())
    }

    fn last_index(&self) -> raft::Result<u64> {
        Ok(self.last())
    }

    fn snapshot(&self, request_index: u64, to: u64) -> raft::Result<Snapshot> {
        let ck = &self.checkpoint;
        if ck.index == 0 || ck.index < request_index || !conf_state_has(&ck.conf_state, to) {
            // Too old, or taken before `to` joined (raft-rs drops a
            // checkpoint whose membership lacks the receiver): ask the node
            // for a new one; raft retries on a later heartbeat response.
            self.checkpoint_wanted.set(true);
            return Err(raft::Error::Store(StorageError::SnapshotTemporarilyUnavailable));
        }
        let data = self.checkpoint_data().map_err(|e| other(e.to_string()))?;
        let mut meta = SnapshotMetadata { index: ck.index, term: ck.term, ..Default::default() };
        meta.set_conf_state(ck.conf_state.clone());
        let mut snap = Snapshot { data: data.into(), ..Default::default() };
        snap.set_metadata(meta);
        Ok(snap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::Storage;
    use store::MemStore;

    fn entry(index: u64, term: u64, data: &[u8]) -> Entry {
        Entry { index, term, data: data.to_vec().into(), ..Default::default() }
    }

    fn open(store: &Arc<MemStore>) -> RaftLog {
        let s: Arc<dyn KvStore> = store.clone();
        RaftLog::open(s, b"raft/").expect("open")
    }

    #[test]
    fn append_truncate_compact_and_reopen() {
        let mem = Arc::new(MemStore::new());
        let mut log = open(&mem);
        log.bootstrap(&[1, 2, 3], b"init").expect("bootstrap");
        assert_eq!((log.first_index().ok(), log.last_index().ok()), (Some(2), Some(1)));
        let mut b = WriteBatch::new();
        let ents: Vec<Entry> = (2..=6).map(|i| entry(i, 1, &[i as u8])).collect();
        log.stage_append(&mut b, &ents).expect("append");
        log.write(b, true).expect("write");
        // A new leader overwrites 4.. with a shorter tail of term 2.
        let mut b = WriteBatch::new();
        log.stage_append(&mut b, &[entry(4, 2, b"x")]).expect("append");
        log.write(b, true).expect("write");
        assert_eq!(log.last_index().ok(), Some(4));
        assert_eq!(log.term(4).ok(), Some(2));
        let got = log.entries(2, 5, None, GetEntriesContext::empty(false)).expect("entries");
        assert_eq!(got.iter().map(|e| e.index).collect::<Vec<_>>(), vec![2, 3, 4]);
        log.compact(3, log.checkpoint_conf_state().clone(), b"state@3").expect("compact");
        let log = open(&mem);
        assert_eq!((log.first_index().ok(), log.last_index().ok()), (Some(4), Some(4)));
        assert_eq!(log.term(3).ok(), Some(1));
        assert_eq!(log.checkpoint_data().expect("data"), b"state@3".to_vec());
        assert!(log.entries(2, 4, None, GetEntriesContext::empty(false)).is_err());
        let snap = log.snapshot(0, 2).expect("snapshot");
        assert_eq!(snap.get_metadata().index, 3);
        // Node 9 is not a member: the checkpoint is refused and one wanted.
        assert!(log.snapshot(0, 9).is_err());
        assert!(log.checkpoint_wanted());
    }

    #[test]
    fn big_checkpoint_is_stored_in_pieces() {
        let mem = Arc::new(MemStore::new());
        let mut log = open(&mem);
        let data: Vec<u8> = (0..CHECKPOINT_PIECE_BYTES * 2 + 17).map(|i| i as u8).collect();
        log.bootstrap(&[1], &data).expect("bootstrap");
        let log = open(&mem);
        assert_eq!(log.checkpoint_data().expect("data"), data);
    }

    #[test]
    fn corrupt_bytes_are_errors_not_panics() {
        let mem = Arc::new(MemStore::new());
        let mut log = open(&mem);
        log.bootstrap(&[1], b"s").expect("bootstrap");
        let mut b = WriteBatch::new();
        log.stage_append(&mut b, &[entry(2, 1, b"a"), entry(3, 1, b"b")]).expect("append");
        log.write(b, true).expect("write");
        for (key, val) in [
            (log.key(K_HARD_STATE), vec![1u8, 2]),
            (log.key(K_CHECKPOINT), vec![9u8; 3]),
            (log.entry_key(3), vec![0xff; 5]),
            (log.key(K_FORMAT), 7u32.to_le_bytes().to_vec()),
        ] {
            let copy = Arc::new(MemStore::new());
            for (k, v) in
                mem.scan(Bound::Unbounded, Bound::Unbounded, false, usize::MAX).expect("s")
            {
                let mut b = WriteBatch::new();
                b.put(k, v);
                copy.apply(b).expect("apply");
            }
            let mut b = WriteBatch::new();
            b.put(key, val);
            copy.apply(b).expect("apply");
            let s: Arc<dyn KvStore> = copy;
            assert!(RaftLog::open(s, b"raft/").is_err());
        }
        // A missing entry in the middle is a gap, hence corruption.
        let mut b = WriteBatch::new();
        b.delete(log.entry_key(2));
        mem.apply(b).expect("apply");
        let s: Arc<dyn KvStore> = mem;
        assert!(RaftLog::open(s, b"raft/").is_err());
    }
}
