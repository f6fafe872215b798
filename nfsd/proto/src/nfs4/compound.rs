//! COMPOUND (RFC 8881 §16.2, RFC 7530 §15.2): the request header, each
//! operation's arguments ([`ArgOp`]), each operation's result ([`ResOp`])
//! and the reply ([`CompoundRes`]).
//!
//! The server decodes a request incrementally: [`CompoundHeader::decode`],
//! then [`ArgOp::decode_for_minor`] once per operation, executing each
//! before decoding the next. An operation that fails to decode is reported
//! as an [`OpDecodeError`] carrying its opnum, so the server can answer it
//! with `NFS4ERR_BADXDR` ([`OpDecodeError::result`]) after the results of
//! the operations before it. Operations answered `NFS4ERR_NOTSUPP` decode as
//! [`ArgOp::NotSupported`] *without their body*, and undefined opnums as
//! [`ArgOp::Illegal`]: both fail the COMPOUND, which stops there, so the
//! unread body never matters.

use super::ops::*;
use super::types::{tag4, Nfsstat4, Opnum4, SecinfoStyle4};
use super::MINOR_VERSION_MAX;
use crate::xdr::{decode_array, encode_array, Decoder, Encoder, XdrDecode, XdrEncode, XdrError};
use thiserror::Error;

/// What every result type can do for [`ResOp`]: report its status, and be
/// built from a failure status.
trait OpResult {
    fn status(&self) -> Nfsstat4;
    fn from_status(status: Nfsstat4) -> Self;
}

impl<T> OpResult for super::types::NfsRes4<T> {
    fn status(&self) -> Nfsstat4 {
        super::types::NfsRes4::status(self)
    }
    fn from_status(status: Nfsstat4) -> Self {
        super::types::NfsRes4::Err(status)
    }
}
impl OpResult for Nfsstat4 {
    fn status(&self) -> Nfsstat4 {
        *self
    }
    fn from_status(status: Nfsstat4) -> Self {
        status
    }
}
impl OpResult for LockRes {
    fn status(&self) -> Nfsstat4 {
        LockRes::status(self)
    }
    fn from_status(status: Nfsstat4) -> Self {
        LockRes::Err(status)
    }
}
impl OpResult for LocktRes {
    fn status(&self) -> Nfsstat4 {
        LocktRes::status(self)
    }
    fn from_status(status: Nfsstat4) -> Self {
        match status {
            Nfsstat4::Ok => LocktRes::Ok,
            s => LocktRes::Err(s),
        }
    }
}
impl OpResult for SetclientidRes {
    fn status(&self) -> Nfsstat4 {
        SetclientidRes::status(self)
    }
    fn from_status(status: Nfsstat4) -> Self {
        SetclientidRes::Err(status)
    }
}
impl OpResult for SetattrRes {
    fn status(&self) -> Nfsstat4 {
        self.status
    }
    fn from_status(status: Nfsstat4) -> Self {
        SetattrRes { status, attrsset: super::types::Bitmap4::new() }
    }
}

/// The result body of an operation decoded as [`ArgOp::NotSupported`]
/// follows its status when the status is `NFS4_OK` (except for the results
/// that are a bare status) or one of the few error arms with a body; such a
/// result cannot be decoded without the operation's types.
fn not_supported_res_has_body(op: Opnum4, status: Nfsstat4) -> bool {
    let status_only = matches!(
        op,
        Opnum4::Openattr
            | Opnum4::Allocate
            | Opnum4::Deallocate
            | Opnum4::Layouterror
            | Opnum4::Layoutstats
            | Opnum4::OffloadCancel
            | Opnum4::Clone
    );
    match status {
        Nfsstat4::Ok => !status_only,
        Nfsstat4::Toosmall => op == Opnum4::Getdeviceinfo,
        Nfsstat4::Layouttrylater => op == Opnum4::Layoutget,
        Nfsstat4::OffloadNoReqs => op == Opnum4::Copy,
        _ => false,
    }
}

macro_rules! compound_ops {
    (
        args { $( $av:ident($at:ty) ),* $(,)? }
        void { $( $uv:ident ),* $(,)? }
        res { $( $rv:ident($rt:ty) ),* $(,)? }
    ) => {
        /// One operation of a COMPOUND request: `nfs_argop4`, the opnum then
        /// the operation's arguments. Variants are named after [`Opnum4`].
        ///
        /// ```text
        /// union nfs_argop4 switch (nfs_opnum4 argop) {
        ///  case OP_ACCESS:        ACCESS4args opaccess;
        ///  case OP_CLOSE:         CLOSE4args opclose;
        ///  ...
        ///  case OP_GETFH:         void;
        ///  ...
        ///  case OP_ILLEGAL:       void;
        /// };
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum ArgOp {
            $(
                #[doc = concat!("`OP_", stringify!($av), "` (see [`Opnum4::", stringify!($av), "`]).")]
                $av($at),
            )*
            $(
                #[doc = concat!("`OP_", stringify!($uv), "`: no arguments.")]
                $uv,
            )*
            /// An operation the server answers `NFS4ERR_NOTSUPP`
            /// ([`Opnum4::is_not_supported`]); its arguments were not read.
            /// Encodes as the opnum alone.
            NotSupported(Opnum4),
            /// `OP_ILLEGAL`, an undefined opnum, or an opnum beyond the
            /// COMPOUND's minor version: the server answers
            /// `ResOp::Illegal(NFS4ERR_OP_ILLEGAL)`. Holds the opnum
            /// received (never one of 3..=75 when built by a decoder for
            /// minor version 2); encodes as that opnum alone.
            Illegal(u32),
        }

        impl ArgOp {
            /// The opnum on the wire.
            pub fn opnum(&self) -> u32 {
                match self {
                    $( ArgOp::$av(_) => Opnum4::$av as u32, )*
                    $( ArgOp::$uv => Opnum4::$uv as u32, )*
                    ArgOp::NotSupported(op) => *op as u32,
                    ArgOp::Illegal(n) => *n,
                }
            }

            fn decode_body(op: Opnum4, d: &mut Decoder<'_>) -> Result<ArgOp, XdrError> {
                Ok(match op {
                    $( Opnum4::$av => ArgOp::$av(<$at>::decode(d)?), )*
                    $( Opnum4::$uv => ArgOp::$uv, )*
                    // `decode_for_minor` handles these before calling.
                    other => ArgOp::NotSupported(other),
                })
            }
        }

        impl XdrEncode for ArgOp {
            fn encode(&self, e: &mut Encoder) {
                e.put_u32(self.opnum());
                match self {
                    $( ArgOp::$av(a) => a.encode(e), )*
                    $( ArgOp::$uv => {} )*
                    ArgOp::NotSupported(_) | ArgOp::Illegal(_) => {}
                }
            }
        }

        /// One operation's result in a COMPOUND reply: `nfs_resop4`, the
        /// opnum then the operation's result (its status first). Variants
        /// are named after [`Opnum4`]; operations whose result is a bare
        /// `nfsstat4` hold an [`Nfsstat4`].
        ///
        /// ```text
        /// union nfs_resop4 switch (nfs_opnum4 resop) {
        ///  case OP_ACCESS:        ACCESS4res opaccess;
        ///  case OP_CLOSE:         CLOSE4res opclose;
        ///  ...
        ///  case OP_ILLEGAL:       ILLEGAL4res opillegal;
        /// };
        ///
        /// struct ILLEGAL4res {
        ///         nfsstat4        status;
        /// };
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum ResOp {
            $(
                #[doc = concat!("`OP_", stringify!($rv), "` (see [`Opnum4::", stringify!($rv), "`]).")]
                $rv($rt),
            )*
            /// The result of an [`ArgOp::NotSupported`] operation: its
            /// opnum and a status without a body (in practice
            /// `NFS4ERR_NOTSUPP`, or `NFS4ERR_BADXDR`…; never `NFS4_OK`).
            NotSupported(Opnum4, Nfsstat4),
            /// `ILLEGAL4res`: encodes as opnum `OP_ILLEGAL` (10044) and the
            /// status (`NFS4ERR_OP_ILLEGAL`), whatever opnum was received.
            Illegal(Nfsstat4),
        }

        impl ResOp {
            /// The opnum this result encodes (`OP_ILLEGAL` for
            /// [`ResOp::Illegal`]).
            pub fn opnum(&self) -> u32 {
                match self {
                    $( ResOp::$rv(_) => Opnum4::$rv as u32, )*
                    ResOp::NotSupported(op, _) => *op as u32,
                    ResOp::Illegal(_) => Opnum4::Illegal as u32,
                }
            }

            /// The operation's status: the COMPOUND's status is that of its
            /// last result, and processing stops at the first one that is
            /// not `NFS4_OK`.
            pub fn status(&self) -> Nfsstat4 {
                match self {
                    $( ResOp::$rv(r) => OpResult::status(r), )*
                    ResOp::NotSupported(_, s) | ResOp::Illegal(s) => *s,
                }
            }

            /// The result of operation `opnum` failing with `status`: the
            /// status with no body (SETATTR: an empty `attrsset`).
            /// An opnum that is not an operation gives [`ResOp::Illegal`].
            ///
            /// `status` must be an error whose result arm is `void`: not
            /// `NFS4_OK` (except for the operations whose result is a bare
            /// status, and LOCKT), not `NFS4ERR_DENIED` for LOCK/LOCKT, not
            /// `NFS4ERR_CLID_INUSE` for SETCLIENTID — those need their body.
            pub fn from_status(opnum: u32, status: Nfsstat4) -> ResOp {
                let op = match Opnum4::from_u32(opnum) {
                    Some(Opnum4::Illegal) | None => return ResOp::Illegal(status),
                    Some(op) => op,
                };
                match op {
                    $( Opnum4::$rv => ResOp::$rv(OpResult::from_status(status)), )*
                    other => ResOp::NotSupported(other, status),
                }
            }
        }

        impl<'a> XdrDecode<'a> for ResOp {
            fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
                let op = Opnum4::decode(d)?;
                Ok(match op {
                    $( Opnum4::$rv => ResOp::$rv(<$rt>::decode(d)?), )*
                    Opnum4::Illegal => ResOp::Illegal(Nfsstat4::decode(d)?),
                    other => {
                        let status = Nfsstat4::decode(d)?;
                        if not_supported_res_has_body(other, status) {
                            return Err(XdrError::BadEnum {
                                name: "nfsstat4 (result body of an unsupported operation)",
                                value: status as u32,
                            });
                        }
                        ResOp::NotSupported(other, status)
                    }
                })
            }
        }

        impl XdrEncode for ResOp {
            fn encode(&self, e: &mut Encoder) {
                e.put_u32(self.opnum());
                match self {
                    $( ResOp::$rv(r) => r.encode(e), )*
                    ResOp::NotSupported(_, s) | ResOp::Illegal(s) => s.encode(e),
                }
            }
        }
    };
}

compound_ops! {
    args {
        Access(AccessArgs),
        Close(CloseArgs),
        Commit(CommitArgs),
        Create(CreateArgs),
        Delegpurge(DelegpurgeArgs),
        Delegreturn(DelegreturnArgs),
        Getattr(GetattrArgs),
        Link(LinkArgs),
        Lock(LockArgs),
        Lockt(LocktArgs),
        Locku(LockuArgs),
        Lookup(LookupArgs),
        Nverify(NverifyArgs),
        Open(OpenArgs),
        OpenConfirm(OpenConfirmArgs),
        OpenDowngrade(OpenDowngradeArgs),
        Putfh(PutfhArgs),
        Read(ReadArgs),
        Readdir(ReaddirArgs),
        Remove(RemoveArgs),
        Rename(RenameArgs),
        Renew(RenewArgs),
        Secinfo(SecinfoArgs),
        Setattr(SetattrArgs),
        Setclientid(SetclientidArgs),
        SetclientidConfirm(SetclientidConfirmArgs),
        Verify(VerifyArgs),
        Write(WriteArgs),
        ReleaseLockowner(ReleaseLockownerArgs),
        BackchannelCtl(BackchannelCtlArgs),
        BindConnToSession(BindConnToSessionArgs),
        ExchangeId(ExchangeIdArgs),
        CreateSession(CreateSessionArgs),
        DestroySession(DestroySessionArgs),
        FreeStateid(FreeStateidArgs),
        SecinfoNoName(SecinfoStyle4),
        Sequence(SequenceArgs),
        TestStateid(TestStateidArgs),
        DestroyClientid(DestroyClientidArgs),
        ReclaimComplete(ReclaimCompleteArgs),
        Getxattr(GetxattrArgs),
        Setxattr(SetxattrArgs),
        Listxattrs(ListxattrsArgs),
        Removexattr(RemovexattrArgs),
    }
    void { Getfh, Lookupp, Putpubfh, Putrootfh, Readlink, Restorefh, Savefh }
    res {
        Access(AccessRes),
        Close(CloseRes),
        Commit(CommitRes),
        Create(CreateRes),
        Delegpurge(DelegpurgeRes),
        Delegreturn(DelegreturnRes),
        Getattr(GetattrRes),
        Getfh(GetfhRes),
        Link(LinkRes),
        Lock(LockRes),
        Lockt(LocktRes),
        Locku(LockuRes),
        Lookup(LookupRes),
        Lookupp(LookuppRes),
        Nverify(NverifyRes),
        Open(OpenRes),
        OpenConfirm(OpenConfirmRes),
        OpenDowngrade(OpenDowngradeRes),
        Putfh(PutfhRes),
        Putpubfh(PutpubfhRes),
        Putrootfh(PutrootfhRes),
        Read(ReadRes),
        Readdir(ReaddirRes),
        Readlink(ReadlinkRes),
        Remove(RemoveRes),
        Rename(RenameRes),
        Renew(RenewRes),
        Restorefh(RestorefhRes),
        Savefh(SavefhRes),
        Secinfo(SecinfoRes),
        Setattr(SetattrRes),
        Setclientid(SetclientidRes),
        SetclientidConfirm(SetclientidConfirmRes),
        Verify(VerifyRes),
        Write(WriteRes),
        ReleaseLockowner(ReleaseLockownerRes),
        BackchannelCtl(BackchannelCtlRes),
        BindConnToSession(BindConnToSessionRes),
        ExchangeId(ExchangeIdRes),
        CreateSession(CreateSessionRes),
        DestroySession(DestroySessionRes),
        FreeStateid(FreeStateidRes),
        SecinfoNoName(SecinfoNoNameRes),
        Sequence(SequenceRes),
        TestStateid(TestStateidRes),
        DestroyClientid(DestroyClientidRes),
        ReclaimComplete(ReclaimCompleteRes),
        Getxattr(GetxattrRes),
        Setxattr(SetxattrRes),
        Listxattrs(ListxattrsRes),
        Removexattr(RemovexattrRes),
    }
}

/// An operation of a COMPOUND request that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("COMPOUND operation {opnum:?}: {err}")]
pub struct OpDecodeError {
    /// The opnum, if it could be read (it is always a defined operation
    /// of the COMPOUND's minor version: other opnums decode as
    /// [`ArgOp::Illegal`]).
    pub opnum: Option<u32>,
    /// What was wrong.
    pub err: XdrError,
}

impl OpDecodeError {
    /// The result to answer the operation with: `NFS4ERR_BADXDR`
    /// (RFC 8881 §15.1). `None` when not even the opnum was there, i.e.
    /// the request holds fewer operations than its header announced: the
    /// server then ends the reply with the results so far and status
    /// `NFS4ERR_BADXDR`.
    pub fn result(&self) -> Option<ResOp> {
        self.opnum.map(|n| ResOp::from_status(n, Nfsstat4::Badxdr))
    }
}

impl ArgOp {
    /// Decode one operation, any minor version: every opnum 3..=75 is an
    /// operation. See [`ArgOp::decode_for_minor`].
    pub fn decode(d: &mut Decoder<'_>) -> Result<ArgOp, OpDecodeError> {
        Self::decode_for_minor(d, MINOR_VERSION_MAX)
    }

    /// Decode one operation of a COMPOUND of minor version `minorversion`.
    ///
    /// - an opnum that is undefined, `OP_ILLEGAL`, or defined only in a
    ///   later minor version (40+ in 4.0, 59+ in 4.1) is
    ///   [`ArgOp::Illegal`], body unread (RFC 7530 §15.2, RFC 8881
    ///   §16.2.3);
    /// - an [`Opnum4::is_not_supported`] operation is
    ///   [`ArgOp::NotSupported`], body unread;
    /// - any other is decoded in full, or is an [`OpDecodeError`] with the
    ///   opnum.
    ///
    /// After `Illegal`, `NotSupported` or an error the decoder is not
    /// positioned at the next operation: the server must stop there (the
    /// COMPOUND stops at its first failing operation anyway).
    pub fn decode_for_minor(
        d: &mut Decoder<'_>,
        minorversion: u32,
    ) -> Result<ArgOp, OpDecodeError> {
        let opnum = d.u32().map_err(|err| OpDecodeError { opnum: None, err })?;
        let op = match Opnum4::from_u32(opnum) {
            Some(Opnum4::Illegal) | None => return Ok(ArgOp::Illegal(opnum)),
            Some(op) if op.minor_version() > minorversion => return Ok(ArgOp::Illegal(opnum)),
            Some(op) if op.is_not_supported() => return Ok(ArgOp::NotSupported(op)),
            Some(op) => op,
        };
        Self::decode_body(op, d).map_err(|err| OpDecodeError { opnum: Some(opnum), err })
    }
}

/// The fixed part of `COMPOUND4args`, before the operations.
///
/// ```text
/// struct COMPOUND4args {
///         utf8str_cs      tag;
///         uint32_t        minorversion;
///         nfs_argop4      argarray<>;
/// };
/// ```
/// `numops` is the `argarray` count. Decoding checks it against the input
/// left (each operation takes at least its 4-byte opnum, so `numops * 4`
/// bytes must remain: else [`XdrError::Truncated`]); the server enforces its
/// own operation limit (`NFS4ERR_TOO_MANY_OPS`, `NFS4ERR_RESOURCE`). `tag`
/// is ≤ [`TAG_DECODE_MAX_BYTES`](super::TAG_DECODE_MAX_BYTES) bytes, not
/// checked for UTF-8 (the server answers `NFS4ERR_INVAL`); the reply echoes
/// it. The minor version is not checked either (the server answers
/// `NFS4ERR_MINOR_VERS_MISMATCH` with an empty result array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundHeader {
    /// Client's tag, echoed in the reply.
    pub tag: Vec<u8>,
    /// Minor version.
    pub minorversion: u32,
    /// Number of operations that follow.
    pub numops: u32,
}

impl<'a> XdrDecode<'a> for CompoundHeader {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        let tag = tag4::decode(d)?;
        let minorversion = d.u32()?;
        let numops = d.array_len(u32::MAX)? as u32;
        Ok(CompoundHeader { tag, minorversion, numops })
    }
}
impl XdrEncode for CompoundHeader {
    fn encode(&self, e: &mut Encoder) {
        e.put_opaque(&self.tag);
        e.put_u32(self.minorversion);
        e.put_u32(self.numops);
    }
}

/// `COMPOUND4args` as a whole, for clients and tests; the server decodes a
/// [`CompoundHeader`] and then one [`ArgOp`] at a time instead.
///
/// Decoding uses [`ArgOp::decode`] (every operation of 4.2), whatever the
/// minor version, and fails at the first operation that does not decode.
/// `NotSupported` and `Illegal` encode as their opnum alone and decode
/// without reading further, so `decode(encode(x)) == x` holds as long as
/// every `Illegal` holds an undefined opnum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundArgs {
    /// Client's tag.
    pub tag: Vec<u8>,
    /// Minor version.
    pub minorversion: u32,
    /// The operations.
    pub argarray: Vec<ArgOp>,
}

impl<'a> XdrDecode<'a> for CompoundArgs {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        let h = CompoundHeader::decode(d)?;
        // Bounded by the input: `array_len` checked numops * 4 <= remaining.
        let mut argarray = Vec::with_capacity(h.numops as usize);
        for _ in 0..h.numops {
            argarray.push(ArgOp::decode(d).map_err(|e| e.err)?);
        }
        Ok(CompoundArgs { tag: h.tag, minorversion: h.minorversion, argarray })
    }
}
impl XdrEncode for CompoundArgs {
    fn encode(&self, e: &mut Encoder) {
        e.put_opaque(&self.tag);
        e.put_u32(self.minorversion);
        encode_array(e, &self.argarray);
    }
}

/// ```text
/// struct COMPOUND4res {
///         nfsstat4        status;
///         utf8str_cs      tag;
///         nfs_resop4      resarray<>;
/// };
/// ```
/// `status` is the status of the last result (`NFS4_OK` if all succeeded,
/// RFC 8881 §16.2.3); `resarray` holds the results up to and including the
/// first failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundRes {
    /// Status of the last operation executed.
    pub status: Nfsstat4,
    /// The request's tag.
    pub tag: Vec<u8>,
    /// The results.
    pub resarray: Vec<ResOp>,
}

impl<'a> XdrDecode<'a> for CompoundRes {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        let status = Nfsstat4::decode(d)?;
        let tag = tag4::decode(d)?;
        // Every result is at least an opnum and a status; `array_len`
        // bounds the count by the input.
        let resarray = decode_array(d, u32::MAX)?;
        Ok(CompoundRes { status, tag, resarray })
    }
}
impl XdrEncode for CompoundRes {
    fn encode(&self, e: &mut Encoder) {
        self.status.encode(e);
        e.put_opaque(&self.tag);
        encode_array(e, &self.resarray);
    }
}
