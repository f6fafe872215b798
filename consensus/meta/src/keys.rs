//! Key layout of the metadata store (DESIGN.md §3), and the versioning rule.
//!
//! Every key ends with the big-endian epoch it was written in, so the
//! versions of one record sort together, oldest first:
//!
//! | key                                   | value                    |
//! |---------------------------------------|--------------------------|
//! | `i` ino `/` epoch                     | [`InodeRecord`] or tombstone |
//! | `d` parent name `\0` epoch            | [`DirentValue`] or tombstone |
//! | `c` parent cookie epoch               | [`CookieValue`] or tombstone |
//! | `s` name                              | state machine scalars: `format`, `epoch`, `next_ino`, `applied` (the last applied Raft log index, replicated mode) |
//! | `o` ino                               | empty: an orphan (no name left, kept while open) |
//! | `x` ino name `\0` epoch               | 1, value: an extended attribute, or tombstone |
//! | `l` ino owner start                   | a byte-range lock (layout in `locks`), not versioned |
//!
//! Names never contain NUL (checked before any write), so `name \0` is a
//! prefix no other name shares. Reading the live tree takes the newest
//! version; reading snapshot `s` takes the newest version with epoch ≤ `s`
//! ([`newest_at_or_below`]).
//!
//! [`InodeRecord`]: crate::record::InodeRecord
//! [`DirentValue`]: crate::record::DirentValue
//! [`CookieValue`]: crate::record::CookieValue

use std::ops::Bound;

use fsapi::{Epoch, InodeId};
use store::KvStore;

use crate::MetaError;

pub(crate) const INODE: u8 = b'i';
pub(crate) const DIRENT: u8 = b'd';
pub(crate) const COOKIE: u8 = b'c';
pub(crate) const SCALAR: u8 = b's';
pub(crate) const ORPHAN: u8 = b'o';
pub(crate) const XATTR: u8 = b'x';

/// The first byte of every key of the metadata key space, ascending. Other
/// users of a shared store (the Raft log under `raft/`) must use keys that
/// start with another byte: checkpoints, restores and digests cover exactly
/// these keys.
pub(crate) const TAGS: [u8; 7] = [COOKIE, DIRENT, INODE, crate::locks::LOCK, ORPHAN, SCALAR, XATTR];

/// The scalar that holds the last applied Raft log index.
pub(crate) const APPLIED_INDEX: &str = "applied";
/// The scalar that holds the cluster map: version (u64 LE), then the map's
/// bytes (`Command::SetClusterMap`).
pub(crate) const CLUSTER_MAP: &str = "cluster_map";

/// True when `key` belongs to the metadata key space: its first byte is
/// one of the tags of the key layout above (`c d i l o s x`).
pub fn is_meta_key(key: &[u8]) -> bool {
    key.first().is_some_and(|t| TAGS.contains(t))
}

/// `x` ino — the prefix of every extended attribute of one inode.
pub(crate) fn xattr_inode_prefix(ino: InodeId) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(XATTR);
    k.extend_from_slice(&ino.0.to_be_bytes());
    k
}

/// `x` ino name `\0` — the prefix of every version of one extended attribute.
pub(crate) fn xattr_prefix(ino: InodeId, name: &[u8]) -> Vec<u8> {
    let mut k = xattr_inode_prefix(ino);
    k.extend_from_slice(name);
    k.push(0);
    k
}

/// `o` ino — an inode whose last name was removed while a client held it
/// open: kept until [`crate::Command::ReleaseOrphan`].
pub(crate) fn orphan(ino: InodeId) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(ORPHAN);
    k.extend_from_slice(&ino.0.to_be_bytes());
    k
}

/// `i` ino — the prefix of every version of one inode.
pub(crate) fn inode_prefix(ino: InodeId) -> Vec<u8> {
    let mut k = Vec::with_capacity(17);
    k.push(INODE);
    k.extend_from_slice(&ino.0.to_be_bytes());
    k
}

/// `d` parent name `\0` — the prefix of every version of one entry.
pub(crate) fn dirent_prefix(parent: InodeId, name: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(18 + name.len() + 8);
    k.push(DIRENT);
    k.extend_from_slice(&parent.0.to_be_bytes());
    k.extend_from_slice(name);
    k.push(0);
    k
}

/// `c` parent — the prefix of a directory's cookie index.
pub(crate) fn cookie_dir_prefix(parent: InodeId) -> Vec<u8> {
    let mut k = Vec::with_capacity(25);
    k.push(COOKIE);
    k.extend_from_slice(&parent.0.to_be_bytes());
    k
}

/// `c` parent cookie — the prefix of every version of one cookie.
pub(crate) fn cookie_prefix(parent: InodeId, cookie: u64) -> Vec<u8> {
    let mut k = cookie_dir_prefix(parent);
    k.extend_from_slice(&cookie.to_be_bytes());
    k
}

/// `s` name.
pub(crate) fn scalar(name: &str) -> Vec<u8> {
    let mut k = vec![SCALAR];
    k.extend_from_slice(name.as_bytes());
    k
}

/// `prefix` followed by the epoch: the key of one version.
pub(crate) fn versioned(prefix: &[u8], epoch: Epoch) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 8);
    k.extend_from_slice(prefix);
    k.extend_from_slice(&epoch.0.to_be_bytes());
    k
}

/// The epoch at the end of a versioned key.
pub(crate) fn epoch_of(key: &[u8]) -> Result<Epoch, MetaError> {
    let tail = key.len().checked_sub(8).ok_or(MetaError::Corrupt("short versioned key"))?;
    let mut b = [0u8; 8];
    b.copy_from_slice(&key[tail..]);
    Ok(Epoch(u64::from_be_bytes(b)))
}

/// The newest version of the record whose versions share `prefix` (exactly
/// `prefix` + 8 epoch bytes) with an epoch at or below `epoch`: the rule by
/// which the live tree (epoch = current) and every snapshot (epoch = its id)
/// see the store. Returns the version's epoch and value; a tombstone is
/// returned as a value like any other and interpreted by the caller.
pub fn newest_at_or_below(
    store: &dyn KvStore,
    prefix: &[u8],
    epoch: Epoch,
) -> Result<Option<(Epoch, Vec<u8>)>, MetaError> {
    let start = versioned(prefix, Epoch(0));
    let end = versioned(prefix, epoch);
    let found = store.scan(Bound::Included(start), Bound::Included(end), true, 1)?;
    match found.into_iter().next() {
        Some((k, v)) => Ok(Some((epoch_of(&k)?, v))),
        None => Ok(None),
    }
}

/// True when a version older than `epoch` exists (a snapshot may see it, so
/// a delete in `epoch` must leave a tombstone rather than remove the key).
pub(crate) fn has_older_version(
    store: &dyn KvStore,
    prefix: &[u8],
    epoch: Epoch,
) -> Result<bool, MetaError> {
    if epoch.0 == 0 {
        return Ok(false);
    }
    Ok(newest_at_or_below(store, prefix, Epoch(epoch.0 - 1))?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::{MemStore, WriteBatch};

    fn put(s: &MemStore, prefix: &[u8], epoch: u64, v: &[u8]) {
        let mut b = WriteBatch::default();
        b.put(versioned(prefix, Epoch(epoch)), v.to_vec());
        s.apply(b).expect("apply");
    }

    /// DESIGN.md §3: reading snapshot `s` takes the newest version with
    /// epoch ≤ `s`; the live tree takes the newest.
    #[test]
    fn newest_version_at_or_below_epoch() {
        let s = MemStore::default();
        let p = inode_prefix(InodeId(7));
        put(&s, &p, 2, b"two");
        put(&s, &p, 5, b"five");
        put(&s, &p, 9, b"nine");
        // Neighbours that share a byte prefix must not leak in.
        put(&s, &inode_prefix(InodeId(6)), 4, b"other-below");
        put(&s, &inode_prefix(InodeId(8)), 3, b"other-above");

        let at = |e: u64| newest_at_or_below(&s, &p, Epoch(e)).expect("read");
        assert_eq!(at(1), None, "nothing existed before epoch 2");
        assert_eq!(at(2), Some((Epoch(2), b"two".to_vec())));
        assert_eq!(at(4), Some((Epoch(2), b"two".to_vec())));
        assert_eq!(at(5), Some((Epoch(5), b"five".to_vec())));
        assert_eq!(at(8), Some((Epoch(5), b"five".to_vec())));
        assert_eq!(at(u64::MAX), Some((Epoch(9), b"nine".to_vec())));
        assert!(has_older_version(&s, &p, Epoch(5)).expect("read"));
        assert!(!has_older_version(&s, &p, Epoch(2)).expect("read"));
    }

    #[test]
    fn dirent_prefixes_do_not_collide() {
        // "a" must not see versions of "a\x01" or "ab".
        let s = MemStore::default();
        put(&s, &dirent_prefix(InodeId(1), b"ab"), 1, b"ab");
        put(&s, &dirent_prefix(InodeId(1), b"a\x01"), 1, b"a1");
        let p = dirent_prefix(InodeId(1), b"a");
        assert_eq!(newest_at_or_below(&s, &p, Epoch(u64::MAX)).expect("read"), None);
    }
}
