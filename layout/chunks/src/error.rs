//! The chunk store's error type.

use std::io;
use std::path::PathBuf;

use fsapi::InodeId;

/// What a [`crate::ChunkStore`] operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    /// The file system holding the chunks is full (ENOSPC, or EDQUOT).
    #[error("no space left for chunk data")]
    NoSpace,
    /// Any other failure of the operating system.
    #[error("chunk I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory the failed call was about.
        path: PathBuf,
        /// The error the OS gave.
        source: io::Error,
    },
    /// A block's data matches neither checksum of its sidecar entry: the
    /// bytes on disk are not what was written (bit rot, a torn write after a
    /// power loss, outside damage). The block must be repaired from a replica.
    #[error("checksum mismatch in inode {} chunk {chunk} block {block}", ino.0)]
    Checksum {
        /// The file.
        ino: InodeId,
        /// The chunk of the file.
        chunk: u64,
        /// The block of the chunk.
        block: u64,
    },
    /// A checksum sidecar is not in a format this build reads (bad magic,
    /// version or block size, or a truncated entry).
    #[error("bad checksum sidecar {}: {reason}", path.display())]
    Sidecar {
        /// The `.sum` file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl ChunkError {
    /// Classify an OS error: a full device is [`ChunkError::NoSpace`].
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        match source.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) => ChunkError::NoSpace,
            _ => ChunkError::Io { path: path.into(), source },
        }
    }
}
