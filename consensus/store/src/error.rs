//! The store's error type.

/// What a [`crate::KvStore`] operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The operating system failed a read, write or sync.
    #[error("store I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Bytes on disk are not what the store wrote.
    #[error("store corrupt: {0}")]
    Corrupt(String),
    /// The store was written in a format this build does not read
    /// (`found: None`: a non-empty store without a version key).
    #[error("store format version {found:?} is not the supported version {expected}")]
    Version {
        /// The version found on disk.
        found: Option<u32>,
        /// The version this build reads and writes.
        expected: u32,
    },
    /// Any other failure of the engine behind the trait.
    #[error("store engine error: {0}")]
    Engine(String),
}
