//! Cluster-wide byte-range locks (NFSv4 LOCK/LOCKU across nodes): lock
//! records keyed by inode, and the pure logic of the lock commands.
//!
//! A record is one range of one owner on one inode:
//!
//! ```text
//! key   = `l` ino(8 BE) node(8 BE) incarnation(8 BE) client(8 BE) owner_len(4 BE) owner start(8 BE)
//! value = version(1) end(8 LE) kind(1)      kind: 1 read, 2 write; end inclusive
//! ```
//!
//! So the locks of one inode are one prefix, ordered by owner then start.
//! Within an owner POSIX semantics (as the front end's own state manager):
//! a new range replaces what the owner held there and merges with adjacent
//! or overlapping ranges of the same kind; a release splits. Between
//! owners, read is compatible with read and everything else conflicts.
//! Releasing everything of an owner, a client, a node incarnation or a
//! node's other incarnations scans the whole table (it holds what the
//! nodes' clients hold, a few records per open file).

use std::collections::BTreeMap;

use fsapi::ranges::{carve, ranges_overlap, take, OwnedRange};
use fsapi::{FsError, FsResult, InodeId};
use store::KvStore;

use crate::codec::{DecodeError, Reader, Writer};
use crate::MetaError;

/// Longest lock-owner name (the NFSv4 opaque limit).
pub const LOCK_OWNER_BYTES_MAX: usize = 1024;

const RECORD_V1: u8 = 1;
const SCAN_PAGE: usize = 1024;

/// Who holds a lock: the node that took the request (its id and the
/// incarnation drawn at its start), the NFSv4 client ID there, and the
/// lock-owner's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LockOwner {
    pub node: u64,
    pub incarnation: u64,
    pub client: u64,
    pub owner: Vec<u8>,
}

/// Read (shared) or write (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockKind {
    Read,
    Write,
}

/// One range `start..=end` (`end` = `u64::MAX`: to the end of the file)
/// of one owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeLock {
    pub owner: LockOwner,
    pub start: u64,
    pub end: u64,
    pub kind: LockKind,
}

/// Whose locks a [`crate::Command::UnlockAll`] releases (on every inode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockHolder {
    /// One lock-owner.
    Owner(LockOwner),
    /// Every owner of one client of one node incarnation.
    Client { node: u64, incarnation: u64, client: u64 },
    /// Everything of one node incarnation.
    Incarnation { node: u64, incarnation: u64 },
    /// Everything of `node` but incarnation `keep` (a node at start: its
    /// earlier lives' clients are gone).
    OtherIncarnations { node: u64, keep: u64 },
}

impl LockHolder {
    fn holds(&self, o: &LockOwner) -> bool {
        match self {
            LockHolder::Owner(x) => x == o,
            LockHolder::Client { node, incarnation, client } => {
                o.node == *node && o.incarnation == *incarnation && o.client == *client
            }
            LockHolder::Incarnation { node, incarnation } => {
                o.node == *node && o.incarnation == *incarnation
            }
            LockHolder::OtherIncarnations { node, keep } => {
                o.node == *node && o.incarnation != *keep
            }
        }
    }
}

pub(crate) fn kind_code(k: LockKind) -> u8 {
    match k {
        LockKind::Read => 1,
        LockKind::Write => 2,
    }
}

pub(crate) fn kind_from(code: u8) -> Option<LockKind> {
    match code {
        1 => Some(LockKind::Read),
        2 => Some(LockKind::Write),
        _ => None,
    }
}

pub(crate) fn put_owner(w: &mut Writer, o: &LockOwner) {
    w.u64(o.node).u64(o.incarnation).u64(o.client).bytes(&o.owner);
}

pub(crate) fn get_owner(r: &mut Reader<'_>) -> Result<LockOwner, DecodeError> {
    Ok(LockOwner {
        node: r.u64()?,
        incarnation: r.u64()?,
        client: r.u64()?,
        owner: r.bytes(LOCK_OWNER_BYTES_MAX)?.to_vec(),
    })
}

pub(crate) fn put_lock(w: &mut Writer, l: &RangeLock) {
    put_owner(w, &l.owner);
    w.u64(l.start).u64(l.end).u8(kind_code(l.kind));
}

pub(crate) fn get_lock(r: &mut Reader<'_>) -> Result<RangeLock, DecodeError> {
    let owner = get_owner(r)?;
    let start = r.u64()?;
    let end = r.u64()?;
    let kind = kind_from(r.u8()?).ok_or_else(|| r.bad("unknown lock kind"))?;
    Ok(RangeLock { owner, start, end, kind })
}

// ----------------------------------------------------------------- keys

pub(crate) const LOCK: u8 = b'l';

fn inode_prefix(ino: InodeId) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(LOCK);
    k.extend_from_slice(&ino.0.to_be_bytes());
    k
}

fn key(ino: InodeId, o: &LockOwner, start: u64) -> Vec<u8> {
    let mut k = inode_prefix(ino);
    k.extend_from_slice(&o.node.to_be_bytes());
    k.extend_from_slice(&o.incarnation.to_be_bytes());
    k.extend_from_slice(&o.client.to_be_bytes());
    k.extend_from_slice(&(o.owner.len() as u32).to_be_bytes());
    k.extend_from_slice(&o.owner);
    k.extend_from_slice(&start.to_be_bytes());
    k
}

fn be64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

/// Decode one stored record (key and value) into its inode and lock.
fn parse(k: &[u8], v: &[u8]) -> Result<(InodeId, RangeLock), MetaError> {
    const BAD: MetaError = MetaError::Corrupt("lock record");
    if k.len() < 1 + 8 * 4 + 4 + 8 || k[0] != LOCK {
        return Err(BAD);
    }
    let ino = InodeId(be64(&k[1..]));
    let node = be64(&k[9..]);
    let incarnation = be64(&k[17..]);
    let client = be64(&k[25..]);
    let n = u32::from_be_bytes([k[33], k[34], k[35], k[36]]) as usize;
    if k.len() != 37 + n + 8 {
        return Err(BAD);
    }
    let owner = k[37..37 + n].to_vec();
    let start = be64(&k[37 + n..]);
    if v.len() != 10 || v[0] != RECORD_V1 {
        return Err(BAD);
    }
    let mut e = [0u8; 8];
    e.copy_from_slice(&v[1..9]);
    let end = u64::from_le_bytes(e);
    let kind = kind_from(v[9]).ok_or(BAD)?;
    Ok((ino, RangeLock { owner: LockOwner { node, incarnation, client, owner }, start, end, kind }))
}

fn value(l: &RangeLock) -> Vec<u8> {
    let mut v = Vec::with_capacity(10);
    v.push(RECORD_V1);
    v.extend_from_slice(&l.end.to_le_bytes());
    v.push(kind_code(l.kind));
    v
}

/// Every record under `prefix`, in key order.
fn scan(store: &dyn KvStore, prefix: &[u8]) -> Result<Vec<(InodeId, RangeLock)>, MetaError> {
    let mut out = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = store.scan_prefix(prefix, after.as_deref(), SCAN_PAGE)?;
        for (k, v) in &page {
            out.push(parse(k, v)?);
        }
        if page.len() < SCAN_PAGE {
            return Ok(out);
        }
        after = page.last().map(|(k, _)| k.clone());
    }
}

/// The locks held on `ino`, in key order.
pub(crate) fn of_inode(store: &dyn KvStore, ino: InodeId) -> Result<Vec<RangeLock>, MetaError> {
    Ok(scan(store, &inode_prefix(ino))?.into_iter().map(|(_, l)| l).collect())
}

/// Every lock of the table with its inode, in key order.
pub(crate) fn all(store: &dyn KvStore) -> Result<Vec<(InodeId, RangeLock)>, MetaError> {
    scan(store, &[LOCK])
}

/// The keys of every lock of `ino` (when it is freed).
pub(crate) fn keys_of_inode(store: &dyn KvStore, ino: InodeId) -> Result<Vec<Vec<u8>>, MetaError> {
    let mut out = Vec::new();
    let prefix = inode_prefix(ino);
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = store.scan_prefix(&prefix, after.as_deref(), SCAN_PAGE)?;
        out.extend(page.iter().map(|(k, _)| k.clone()));
        if page.len() < SCAN_PAGE {
            return Ok(out);
        }
        after = page.last().map(|(k, _)| k.clone());
    }
}

// ---------------------------------------------------------------- logic

impl OwnedRange for RangeLock {
    fn range(&self) -> (u64, u64) {
        (self.start, self.end)
    }
    fn with_range(&self, start: u64, end: u64) -> Self {
        RangeLock { start, end, ..self.clone() }
    }
    fn same_kind(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

/// The first lock of another owner in the way of `want`.
pub fn conflict<'a>(locks: &'a [RangeLock], want: &RangeLock) -> Option<&'a RangeLock> {
    locks.iter().find(|l| {
        l.owner != want.owner
            && ranges_overlap(l.start, l.end, want.start, want.end)
            && (l.kind == LockKind::Write || want.kind == LockKind::Write)
    })
}

/// Check a range: `start <= end`, and the owner name within bounds.
pub(crate) fn check(owner: &LockOwner, start: u64, end: u64) -> FsResult<()> {
    if start > end {
        return Err(FsError::Invalid("lock range"));
    }
    if owner.owner.len() > LOCK_OWNER_BYTES_MAX {
        return Err(FsError::Invalid("lock owner"));
    }
    Ok(())
}

/// Writes (key → value, `None` = delete) that replace `owner`'s records on
/// `ino` (`before`) with `after`.
fn rewrite(
    writes: &mut BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    ino: InodeId,
    before: &[RangeLock],
    after: &[RangeLock],
) {
    for b in before {
        if !after.iter().any(|a| a.start == b.start) {
            writes.insert(key(ino, &b.owner, b.start), None);
        }
    }
    for a in after {
        if !before.contains(a) {
            writes.insert(key(ino, &a.owner, a.start), Some(value(a)));
        }
    }
}

/// Acquire `want` on `ino` (whose locks are `locks`): the conflicting lock,
/// or the writes that grant it.
pub(crate) fn acquire(
    writes: &mut BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    ino: InodeId,
    locks: Vec<RangeLock>,
    want: &RangeLock,
) -> Option<RangeLock> {
    if let Some(c) = conflict(&locks, want) {
        return Some(c.clone());
    }
    let mine: Vec<RangeLock> = locks.into_iter().filter(|l| l.owner == want.owner).collect();
    let after = take(mine.clone(), want.clone());
    rewrite(writes, ino, &mine, &after);
    None
}

/// Release `start..=end` of `owner` on `ino`.
pub(crate) fn release(
    writes: &mut BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    ino: InodeId,
    locks: Vec<RangeLock>,
    owner: &LockOwner,
    start: u64,
    end: u64,
) {
    let mine: Vec<RangeLock> = locks.into_iter().filter(|l| l.owner == *owner).collect();
    let after = carve(mine.clone(), start, end);
    rewrite(writes, ino, &mine, &after);
}

/// Release everything `holder` holds, anywhere.
pub(crate) fn release_all(
    writes: &mut BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    table: Vec<(InodeId, RangeLock)>,
    holder: &LockHolder,
) {
    for (ino, l) in table {
        if holder.holds(&l.owner) {
            writes.insert(key(ino, &l.owner, l.start), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(client: u64, name: &[u8]) -> LockOwner {
        LockOwner { node: 1, incarnation: 7, client, owner: name.to_vec() }
    }

    #[test]
    fn records_round_trip_and_bad_ones_are_errors() {
        let l =
            RangeLock { owner: own(3, b"o\0x"), start: 5, end: u64::MAX, kind: LockKind::Write };
        let k = key(InodeId(9), &l.owner, l.start);
        assert_eq!(parse(&k, &value(&l)).ok(), Some((InodeId(9), l.clone())));
        for cut in 0..k.len() {
            assert!(parse(&k[..cut], &value(&l)).is_err());
        }
        let mut v = value(&l);
        v[9] = 3;
        assert!(parse(&k, &v).is_err());
        assert!(parse(&k, &[]).is_err());
    }
}
