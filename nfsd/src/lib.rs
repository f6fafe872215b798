//! nfsd
