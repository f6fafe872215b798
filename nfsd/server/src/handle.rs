//! File handles (DESIGN.md §6): the same on every node and across restarts,
//! and unforgeable.
//!
//! Layout, 52 bytes (RFC 1813 allows up to 64):
//!
//! ```text
//! 0      1        2         4            12            20      28           36    52
//! | ver  | export | reserved | cluster id | snapshot id | inode | generation | MAC |
//! ```
//!
//! All integers big-endian. The MAC is the first 16 bytes of BLAKE3 keyed
//! with the installation's secret over bytes 0..36, so a client cannot
//! make up a handle to a file it was never given, nor move a handle to
//! another export (whose rules may be laxer).

use fsapi::{FileRef, Generation, InodeId, SnapshotId};

/// Handle format version.
const HANDLE_V1: u8 = 1;
/// Encoded length of a handle.
pub const HANDLE_LEN_BYTES: usize = 52;
const MAC_OFFSET: usize = 36;

/// Why a handle was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// Not a handle this server could have issued (wrong length, version or MAC).
    #[error("bad file handle")]
    Bad,
    /// Issued for another cluster (e.g. a data directory was replaced).
    #[error("handle of another cluster")]
    Stale,
}

/// Turns [`FileRef`]s into opaque handles and back.
#[derive(Clone)]
pub struct HandleCodec {
    key: [u8; 32],
    cluster_id: u64,
}

impl std::fmt::Debug for HandleCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandleCodec").field("cluster_id", &self.cluster_id).finish_non_exhaustive()
    }
}

impl HandleCodec {
    /// A codec keyed by the installation's secret.
    pub fn new(key: [u8; 32], cluster_id: u64) -> Self {
        HandleCodec { key, cluster_id }
    }

    /// The handle of `file` reached through export number `export`.
    pub fn encode(&self, export: u8, file: FileRef) -> Vec<u8> {
        let mut h = Vec::with_capacity(HANDLE_LEN_BYTES);
        h.push(HANDLE_V1);
        h.push(export);
        h.extend_from_slice(&[0, 0]);
        h.extend_from_slice(&self.cluster_id.to_be_bytes());
        h.extend_from_slice(&file.snapshot.0.to_be_bytes());
        h.extend_from_slice(&file.ino.0.to_be_bytes());
        h.extend_from_slice(&file.generation.0.to_be_bytes());
        let mac = self.mac(&h);
        h.extend_from_slice(&mac);
        h
    }

    /// The export number and file a handle names.
    pub fn decode(&self, h: &[u8]) -> Result<(u8, FileRef), HandleError> {
        if h.len() != HANDLE_LEN_BYTES || h[0] != HANDLE_V1 {
            return Err(HandleError::Bad);
        }
        let mac = self.mac(&h[..MAC_OFFSET]);
        if !constant_time_eq(&mac, &h[MAC_OFFSET..]) {
            return Err(HandleError::Bad);
        }
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[at..at + 8]);
            u64::from_be_bytes(b)
        };
        if word(4) != self.cluster_id {
            return Err(HandleError::Stale);
        }
        let file = FileRef {
            snapshot: SnapshotId(word(12)),
            ino: InodeId(word(20)),
            generation: Generation(word(28)),
        };
        Ok((h[1], file))
    }

    fn mac(&self, data: &[u8]) -> [u8; 16] {
        let full = blake3::keyed_hash(&self.key, data);
        let mut out = [0u8; 16];
        out.copy_from_slice(&full.as_bytes()[..16]);
        out
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> FileRef {
        FileRef { snapshot: SnapshotId(0), ino: InodeId(42), generation: Generation(7) }
    }

    #[test]
    fn round_trip() {
        let c = HandleCodec::new([9; 32], 77);
        let h = c.encode(3, file());
        assert_eq!(h.len(), HANDLE_LEN_BYTES);
        assert_eq!(c.decode(&h), Ok((3, file())));
    }

    /// A flipped bit anywhere (inode, export, MAC...) makes the handle bad.
    #[test]
    fn every_altered_byte_is_refused() {
        let c = HandleCodec::new([9; 32], 77);
        let h = c.encode(0, file());
        for i in 0..h.len() {
            let mut bad = h.clone();
            bad[i] ^= 0x01;
            assert_eq!(c.decode(&bad), Err(HandleError::Bad), "byte {i}");
        }
        assert_eq!(c.decode(&h[..40]), Err(HandleError::Bad));
        assert_eq!(c.decode(&[]), Err(HandleError::Bad));
    }

    #[test]
    fn another_key_or_cluster_is_refused() {
        let h = HandleCodec::new([9; 32], 77).encode(0, file());
        assert_eq!(HandleCodec::new([8; 32], 77).decode(&h), Err(HandleError::Bad));
        assert_eq!(HandleCodec::new([9; 32], 78).decode(&h), Err(HandleError::Stale));
    }
}
