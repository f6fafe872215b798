//! `nfs-proto`: the wire types of Cairn's NFS front end and their XDR codec.
//!
//! Owns: XDR (RFC 4506) primitives ([`xdr`]), ONC RPC v2 message headers,
//! AUTH_NONE/AUTH_SYS credentials and record marking (RFC 5531, [`rpc`]),
//! PORTMAP v2 (RFC 1833, [`portmap`]), MOUNT v3 (RFC 1813 Appendix I,
//! [`mount`]), NFSv3 (RFC 1813, [`nfs3`]) and NFSv4.0/4.1/4.2 (RFC 7530,
//! RFC 8881, RFC 7862, [`nfs4`]: COMPOUND decoded one operation at a time,
//! every operation's arguments and results, the `fattr4` attribute codec):
//! every argument and result type of every procedure, with both
//! [`XdrDecode`] and [`XdrEncode`] so that the server (decode args, encode
//! results) and the wire-level test client (encode args, decode results)
//! share one definition.
//!
//! Must not: do I/O, use tokio or a clock, depend on any other workspace
//! crate, or know what a handle or a status *means* — that is the server's.
//!
//! Invariants:
//! - Decoding never panics and never over-allocates, whatever the bytes: every
//!   length is checked against the protocol maximum and against the remaining
//!   input before anything is allocated; a length of `0xFFFF_FFFF` is
//!   [`XdrError::TooLong`] or [`XdrError::Truncated`], never a 4 GiB `Vec`.
//! - `decode(encode(x)) == x` for every type (property-tested).
//! - Owned data: every decoded type owns its variable-length data
//!   (`Vec<u8>`), copied out of the input — including WRITE's data and READ's
//!   reply data. One convention everywhere, no lifetimes on message types; a
//!   copy of at most `nfs3::WRITE_SIZE_MAX_BYTES` per request is cheap next to
//!   the network and replica traffic it causes. The [`XdrDecode`] lifetime
//!   only ties a decoder to its input.
//! - Limits are enforced at decode time only where the RFC gives one (file
//!   handles, auth bodies, paths) or where the input would otherwise be
//!   unbounded; limits whose violation has its own status (e.g. a file name
//!   over 255 bytes → `NFS3ERR_NAMETOOLONG`) are left to the server, with a
//!   looser decode bound (see the `*_DECODE_MAX_BYTES` constants).
//! - NFSv4 operations the server answers `NFS4ERR_NOTSUPP` or
//!   `NFS4ERR_OP_ILLEGAL` are recognised by opnum and their arguments left
//!   unread: COMPOUND stops at them, so nothing after them is decoded.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod xdr;

pub mod mount;
pub mod nfs3;
pub mod nfs4;
pub mod portmap;
pub mod rpc;

pub use xdr::{Decoder, Encoder, XdrDecode, XdrEncode, XdrError};
