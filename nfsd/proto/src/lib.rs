//! nfs-proto
