//! POSIX byte-range lock arithmetic within one lock-owner (RFC 7530 §9.2,
//! fcntl(2)): a new range replaces whatever the owner held there (splitting
//! ranges, changing their type) and merges with adjacent or overlapping
//! ranges of the same type; an unlock splits. Ranges are inclusive,
//! `end == u64::MAX` runs to the end of the file. Shared by the NFSv4 state
//! manager (locks of one server) and the cluster's lock table.

/// One range of one owner.
pub trait OwnedRange: Clone {
    /// `(start, end)`, inclusive.
    fn range(&self) -> (u64, u64);
    /// The same lock over `start..=end`.
    fn with_range(&self, start: u64, end: u64) -> Self;
    /// Same lock type (read/write): such neighbours merge.
    fn same_kind(&self, other: &Self) -> bool;
}

/// Whether `a_start..=a_end` and `b_start..=b_end` share a byte.
pub fn ranges_overlap(a_start: u64, a_end: u64, b_start: u64, b_end: u64) -> bool {
    a_start <= b_end && b_start <= a_end
}

/// One owner's ranges without `start..=end` (split where needed).
pub fn carve<R: OwnedRange>(mine: Vec<R>, start: u64, end: u64) -> Vec<R> {
    let mut out = Vec::with_capacity(mine.len() + 1);
    for r in mine {
        let (s, e) = r.range();
        if !ranges_overlap(s, e, start, end) {
            out.push(r);
            continue;
        }
        if s < start {
            out.push(r.with_range(s, start - 1));
        }
        if e > end {
            out.push(r.with_range(end + 1, e));
        }
    }
    out
}

/// One owner's ranges after it takes `new`: what it held there is
/// replaced, then adjacent or overlapping ranges of one kind merge.
/// Sorted by start.
pub fn take<R: OwnedRange>(mine: Vec<R>, new: R) -> Vec<R> {
    let (start, end) = new.range();
    let mut mine = carve(mine, start, end);
    mine.push(new);
    mine.sort_by_key(|r| r.range().0);
    let mut merged: Vec<R> = Vec::with_capacity(mine.len());
    for r in mine {
        if let Some(last) = merged.last_mut() {
            let (ls, le) = last.range();
            let (s, e) = r.range();
            if last.same_kind(&r) && le != u64::MAX && le + 1 >= s {
                *last = last.with_range(ls, le.max(e));
                continue;
            }
        }
        merged.push(r);
    }
    merged
}

/// A byte-range lock operation the front end asks the back end to
/// arbitrate across the nodes of a cluster ([`crate::ClusterFs::cluster_lock`]).
/// The front end has checked it against its own state first; owners are
/// the NFSv4 client ID and lock-owner name (the back end adds which node
/// and node incarnation they belong to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterLockOp {
    /// Take `start..=end` (or only test whether it could be taken).
    Acquire {
        file: crate::FileRef,
        client: u64,
        owner: Vec<u8>,
        start: u64,
        end: u64,
        write: bool,
        test: bool,
    },
    /// Release `start..=end` of an owner.
    Release { file: crate::FileRef, client: u64, owner: Vec<u8>, start: u64, end: u64 },
    /// Release everything of an owner, on every file.
    ReleaseOwner { client: u64, owner: Vec<u8> },
    /// Release everything of a client.
    ReleaseClient { client: u64 },
}

/// The answer to a [`ClusterLockOp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterLockAnswer {
    /// Granted (or released).
    Granted,
    /// Another owner, maybe of another node, holds a conflicting lock.
    Denied(ClusterLockHolder),
}

/// The lock in the way of an [`ClusterLockOp::Acquire`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterLockHolder {
    /// Its NFSv4 client ID (on the node that holds it).
    pub client: u64,
    pub owner: Vec<u8>,
    pub start: u64,
    pub end: u64,
    pub write: bool,
}
