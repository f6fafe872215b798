//! nfs-server
