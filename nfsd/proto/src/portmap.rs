//! PORTMAP version 2 (RFC 1833 §3), program 100000.
//!
//! ```text
//! program PMAP_PROG {
//!    version PMAP_VERS {
//!       void      PMAPPROC_NULL(void)         = 0;
//!       bool      PMAPPROC_SET(mapping)       = 1;
//!       bool      PMAPPROC_UNSET(mapping)     = 2;
//!       unsigned int PMAPPROC_GETPORT(mapping) = 3;
//!       pmaplist  PMAPPROC_DUMP(void)         = 4;
//!       call_result PMAPPROC_CALLIT(call_args) = 5;
//!    } = 2;
//! } = 100000;
//! ```

use crate::xdr::{
    decode_list, encode_list, xdr_enum, xdr_struct, Decoder, Encoder, XdrDecode, XdrEncode,
    XdrError,
};

/// `PMAP_PROG`.
pub const PROGRAM: u32 = 100000;
/// `PMAP_VERS`.
pub const VERSION: u32 = 2;

/// `IPPROTO_TCP`: protocol number for TCP.
pub const IPPROTO_TCP: u32 = 6;
/// `IPPROTO_UDP`: protocol number for UDP.
pub const IPPROTO_UDP: u32 = 17;

/// Decode bound on the number of mappings in a DUMP reply (client side).
pub const DUMP_ENTRIES_MAX: u32 = 65536;
/// Decode bound on CALLIT's opaque arguments and results.
pub const CALLIT_ARGS_MAX_BYTES: u32 = 65536;

xdr_enum! {
    /// PORTMAP v2 procedure numbers.
    pub enum PmapProc as "pmapproc" {
        /// `PMAPPROC_NULL`.
        Null = 0,
        /// `PMAPPROC_SET`.
        Set = 1,
        /// `PMAPPROC_UNSET`.
        Unset = 2,
        /// `PMAPPROC_GETPORT`.
        Getport = 3,
        /// `PMAPPROC_DUMP`.
        Dump = 4,
        /// `PMAPPROC_CALLIT`.
        Callit = 5,
    }
}

xdr_struct! {
    /// Args of SET, UNSET and GETPORT (GETPORT ignores `port`).
    ///
    /// ```text
    /// struct mapping {
    ///    unsigned int prog;
    ///    unsigned int vers;
    ///    unsigned int prot;
    ///    unsigned int port;
    /// };
    /// ```
    pub struct Mapping {
        /// Program number.
        pub prog: u32,
        /// Program version.
        pub vers: u32,
        /// [`IPPROTO_TCP`] or [`IPPROTO_UDP`].
        pub prot: u32,
        /// Port number.
        pub port: u32,
    }
}

/// The DUMP result: a linked list of mappings.
///
/// ```text
/// struct pmaplist {
///    mapping map;
///    pmaplist *next;
/// };
/// ```
/// (The result is `pmaplist *`: a `value_follows` bool before each mapping.)
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DumpRes(pub Vec<Mapping>);

impl<'a> XdrDecode<'a> for DumpRes {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(DumpRes(decode_list(d, DUMP_ENTRIES_MAX)?))
    }
}

impl XdrEncode for DumpRes {
    fn encode(&self, e: &mut Encoder) {
        encode_list(e, &self.0);
    }
}

mod callit_args {
    use crate::xdr::{Decoder, Encoder, XdrError};
    pub fn decode(d: &mut Decoder<'_>) -> Result<Vec<u8>, XdrError> {
        Ok(d.opaque(super::CALLIT_ARGS_MAX_BYTES)?.to_vec())
    }
    pub fn encode(e: &mut Encoder, v: &[u8]) {
        e.put_opaque(v)
    }
}

xdr_struct! {
    /// ```text
    /// struct call_args {
    ///    unsigned int prog;
    ///    unsigned int vers;
    ///    unsigned int proc;
    ///    opaque args<>;
    /// };
    /// ```
    pub struct CallArgs {
        /// Program number.
        pub prog: u32,
        /// Program version.
        pub vers: u32,
        /// Procedure number.
        pub proc_: u32,
        /// Encoded arguments (at most [`CALLIT_ARGS_MAX_BYTES`] on decode).
        pub args: Vec<u8> [callit_args],
    }
}

xdr_struct! {
    /// ```text
    /// struct call_result {
    ///    unsigned int port;
    ///    opaque res<>;
    /// };
    /// ```
    pub struct CallResult {
        /// Port of the called program.
        pub port: u32,
        /// Encoded results (at most [`CALLIT_ARGS_MAX_BYTES`] on decode).
        pub res: Vec<u8> [callit_args],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::{from_bytes, to_bytes};

    #[test]
    fn dump_list_is_linked() {
        let m = Mapping { prog: PROGRAM, vers: VERSION, prot: IPPROTO_TCP, port: 111 };
        let b = to_bytes(&DumpRes(vec![m.clone()]));
        assert_eq!(
            b,
            [0, 0, 0, 1, 0, 1, 0x86, 0xa0, 0, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0, 111, 0, 0, 0, 0]
        );
        assert_eq!(from_bytes::<DumpRes>(&b), Ok(DumpRes(vec![m])));
        assert_eq!(from_bytes::<DumpRes>(&[0, 0, 0, 0]), Ok(DumpRes(vec![])));
    }
}
