//! ONC RPC version 2 (RFC 5531): call and reply headers, AUTH_NONE and
//! AUTH_SYS, reply builders for the server, a call encoder and reply decoder
//! for the test client, and TCP record marking (§11).
//!
//! ```text
//! struct rpc_msg {
//!    unsigned int xid;
//!    union switch (msg_type mtype) {
//!    case CALL:
//!       call_body cbody;
//!    case REPLY:
//!       reply_body rbody;
//!    } body;
//! };
//! ```

use crate::xdr::{xdr_enum, Decoder, Encoder, XdrDecode, XdrEncode, XdrError};
use thiserror::Error;

/// The only RPC protocol version (RFC 5531 §9: `rpcvers` MUST be 2).
pub const RPC_VERSION: u32 = 2;

/// `enum msg_type { CALL = 0, REPLY = 1 };`
pub const MSG_CALL: u32 = 0;
/// See [`MSG_CALL`].
pub const MSG_REPLY: u32 = 1;

/// `enum reply_stat { MSG_ACCEPTED = 0, MSG_DENIED = 1 };`
pub const MSG_ACCEPTED: u32 = 0;
/// See [`MSG_ACCEPTED`].
pub const MSG_DENIED: u32 = 1;

/// ```text
/// enum accept_stat {
///    SUCCESS       = 0, /* RPC executed successfully       */
///    PROG_UNAVAIL  = 1, /* remote hasn't exported program  */
///    PROG_MISMATCH = 2, /* remote can't support version #  */
///    PROC_UNAVAIL  = 3, /* program can't support procedure */
///    GARBAGE_ARGS  = 4, /* procedure can't decode params   */
///    SYSTEM_ERR    = 5  /* e.g. memory allocation failure  */
/// };
/// ```
pub mod accept_stat {
    /// RPC executed successfully.
    pub const SUCCESS: u32 = 0;
    /// Remote hasn't exported the program.
    pub const PROG_UNAVAIL: u32 = 1;
    /// Remote can't support the version.
    pub const PROG_MISMATCH: u32 = 2;
    /// Program can't support the procedure.
    pub const PROC_UNAVAIL: u32 = 3;
    /// Procedure can't decode its arguments.
    pub const GARBAGE_ARGS: u32 = 4;
    /// E.g. memory allocation failure.
    pub const SYSTEM_ERR: u32 = 5;
}

/// ```text
/// enum reject_stat {
///    RPC_MISMATCH = 0, /* RPC version number != 2          */
///    AUTH_ERROR = 1    /* remote can't authenticate caller */
/// };
/// ```
pub mod reject_stat {
    /// RPC version number != 2.
    pub const RPC_MISMATCH: u32 = 0;
    /// Remote can't authenticate the caller.
    pub const AUTH_ERROR: u32 = 1;
}

/// `AUTH_NONE` flavor (RFC 5531 §8.1; also called AUTH_NULL).
pub const AUTH_NONE: u32 = 0;
/// `AUTH_SYS` flavor (RFC 5531 Appendix A; also called AUTH_UNIX).
pub const AUTH_SYS: u32 = 1;
/// `AUTH_SHORT` flavor.
pub const AUTH_SHORT: u32 = 2;
/// `AUTH_DH` flavor.
pub const AUTH_DH: u32 = 3;
/// `RPCSEC_GSS` flavor (RFC 2203).
pub const RPCSEC_GSS: u32 = 6;

/// Maximum size of an `opaque_auth` body (RFC 5531 §8.2: `opaque body<400>`).
pub const MAX_AUTH_BYTES: u32 = 400;
/// Maximum length of the AUTH_SYS machine name (`string machinename<255>`).
pub const AUTH_SYS_MACHINENAME_MAX_BYTES: u32 = 255;
/// Maximum number of AUTH_SYS supplementary groups (`unsigned int gids<16>`).
pub const AUTH_SYS_GIDS_MAX: u32 = 16;

xdr_enum! {
    /// ```text
    /// enum auth_stat {
    ///    AUTH_OK           = 0,  /* success                        */
    ///    AUTH_BADCRED      = 1,  /* bad credential (seal broken)   */
    ///    AUTH_REJECTEDCRED = 2,  /* client must begin new session  */
    ///    AUTH_BADVERF      = 3,  /* bad verifier (seal broken)     */
    ///    AUTH_REJECTEDVERF = 4,  /* verifier expired or replayed   */
    ///    AUTH_TOOWEAK      = 5,  /* rejected for security reasons  */
    ///    AUTH_INVALIDRESP  = 6,  /* bogus response verifier        */
    ///    AUTH_FAILED       = 7,  /* reason unknown                 */
    ///    AUTH_KERB_GENERIC = 8,  /* kerberos generic error */
    ///    AUTH_TIMEEXPIRE = 9,    /* time of credential expired */
    ///    AUTH_TKT_FILE = 10,     /* problem with ticket file */
    ///    AUTH_DECODE = 11,       /* can't decode authenticator */
    ///    AUTH_NET_ADDR = 12,     /* wrong net address in ticket */
    ///    RPCSEC_GSS_CREDPROBLEM = 13, /* no credentials for user */
    ///    RPCSEC_GSS_CTXPROBLEM = 14   /* problem with context */
    /// };
    /// ```
    pub enum AuthStat as "auth_stat" {
        /// Success.
        Ok = 0,
        /// Bad credential (seal broken).
        BadCred = 1,
        /// Client must begin new session.
        RejectedCred = 2,
        /// Bad verifier (seal broken).
        BadVerf = 3,
        /// Verifier expired or replayed.
        RejectedVerf = 4,
        /// Rejected for security reasons.
        TooWeak = 5,
        /// Bogus response verifier.
        InvalidResp = 6,
        /// Reason unknown.
        Failed = 7,
        /// Kerberos generic error.
        KerbGeneric = 8,
        /// Time of credential expired.
        TimeExpire = 9,
        /// Problem with ticket file.
        TktFile = 10,
        /// Can't decode authenticator.
        Decode = 11,
        /// Wrong net address in ticket.
        NetAddr = 12,
        /// No credentials for user.
        RpcsecGssCredProblem = 13,
        /// Problem with context.
        RpcsecGssCtxProblem = 14,
    }
}

/// ```text
/// struct opaque_auth {
///    auth_flavor flavor;
///    opaque body<400>;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpaqueAuth {
    /// `auth_flavor` ([`AUTH_NONE`], [`AUTH_SYS`], ...). Kept as a raw u32:
    /// an unknown flavor is not a decode error but an `AUTH_BADCRED` /
    /// `AUTH_REJECTEDCRED` decision for the server.
    pub flavor: u32,
    /// At most [`MAX_AUTH_BYTES`].
    pub body: Vec<u8>,
}

impl OpaqueAuth {
    /// `AUTH_NONE` with an empty body (the verifier of every reply).
    pub fn none() -> Self {
        OpaqueAuth { flavor: AUTH_NONE, body: Vec::new() }
    }

    /// The AUTH_SYS credential `sys`, encoded into a body.
    pub fn sys(sys: &AuthSys) -> Self {
        OpaqueAuth { flavor: AUTH_SYS, body: crate::xdr::to_bytes(sys) }
    }
}

impl<'a> XdrDecode<'a> for OpaqueAuth {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        let flavor = d.u32()?;
        let body = d.opaque(MAX_AUTH_BYTES)?.to_vec();
        Ok(OpaqueAuth { flavor, body })
    }
}

impl XdrEncode for OpaqueAuth {
    fn encode(&self, e: &mut Encoder) {
        e.put_u32(self.flavor);
        e.put_opaque(&self.body);
    }
}

/// ```text
/// struct authsys_parms {
///    unsigned int stamp;
///    string machinename<255>;
///    unsigned int uid;
///    unsigned int gid;
///    unsigned int gids<16>;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthSys {
    /// Arbitrary id generated by the caller.
    pub stamp: u32,
    /// Caller's host name, at most 255 bytes, not validated as UTF-8.
    pub machinename: Vec<u8>,
    /// Effective user id.
    pub uid: u32,
    /// Effective group id.
    pub gid: u32,
    /// Supplementary groups, at most [`AUTH_SYS_GIDS_MAX`].
    pub gids: Vec<u32>,
}

impl AuthSys {
    /// Decode an AUTH_SYS credential from an `opaque_auth` body; the body
    /// must hold exactly one `authsys_parms`.
    pub fn from_body(body: &[u8]) -> Result<Self, XdrError> {
        crate::xdr::from_bytes(body)
    }
}

impl<'a> XdrDecode<'a> for AuthSys {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        let stamp = d.u32()?;
        let machinename = d.string(AUTH_SYS_MACHINENAME_MAX_BYTES)?.to_vec();
        let uid = d.u32()?;
        let gid = d.u32()?;
        let gids = crate::xdr::decode_array(d, AUTH_SYS_GIDS_MAX)?;
        Ok(AuthSys { stamp, machinename, uid, gid, gids })
    }
}

impl XdrEncode for AuthSys {
    fn encode(&self, e: &mut Encoder) {
        e.put_u32(self.stamp);
        e.put_string(&self.machinename);
        e.put_u32(self.uid);
        e.put_u32(self.gid);
        crate::xdr::encode_array(e, &self.gids);
    }
}

/// The header of an RPC call, up to and including the verifier; the
/// procedure's arguments follow in the same record.
///
/// ```text
/// struct call_body {
///    unsigned int rpcvers;       /* must be equal to two (2) */
///    unsigned int prog;
///    unsigned int vers;
///    unsigned int proc;
///    opaque_auth cred;
///    opaque_auth verf;
///    /* procedure-specific parameters start here */
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallHeader {
    /// Transaction id, echoed in the reply.
    pub xid: u32,
    /// Always [`RPC_VERSION`] after a successful [`CallHeader::decode`]; the
    /// encoder writes whatever is here (so tests can send other versions).
    pub rpcvers: u32,
    /// Program number.
    pub prog: u32,
    /// Program version.
    pub vers: u32,
    /// Procedure number.
    pub proc_: u32,
    /// Credential.
    pub cred: OpaqueAuth,
    /// Verifier.
    pub verf: OpaqueAuth,
}

/// Why the start of a record is not a usable RPC call. The variants tell the
/// server what to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallError {
    /// Not even the xid and message type could be read: drop the record (or
    /// close the connection).
    #[error("RPC header unreadable: {0}")]
    Unreadable(XdrError),
    /// `msg_type` is not CALL (a REPLY or garbage): not an RPC call, ignore
    /// it or close the connection; never reply.
    #[error("RPC message {xid:#x} has msg_type {msg_type}, not CALL")]
    NotACall {
        /// The message's xid.
        xid: u32,
        /// The message type found.
        msg_type: u32,
    },
    /// `rpcvers != 2`: reply MSG_DENIED / RPC_MISMATCH (low 2, high 2), see
    /// [`rpc_mismatch`]. Nothing after `rpcvers` was read.
    #[error("RPC call {xid:#x} has rpcvers {rpcvers}")]
    RpcMismatch {
        /// The call's xid.
        xid: u32,
        /// The version found.
        rpcvers: u32,
    },
    /// The rest of the header (prog, vers, proc, cred, verf) is malformed:
    /// e.g. reply [`auth_error`] with [`AuthStat::BadCred`], or
    /// [`garbage_args`].
    #[error("RPC call {xid:#x} header malformed: {err}")]
    Malformed {
        /// The call's xid.
        xid: u32,
        /// What was wrong.
        err: XdrError,
    },
}

impl CallError {
    /// The xid, if it could be read.
    pub fn xid(&self) -> Option<u32> {
        match self {
            CallError::Unreadable(_) => None,
            CallError::NotACall { xid, .. }
            | CallError::RpcMismatch { xid, .. }
            | CallError::Malformed { xid, .. } => Some(*xid),
        }
    }
}

impl CallHeader {
    /// Decode the call header at the start of a record (after the record
    /// mark); on success `d` is positioned at the procedure's arguments.
    pub fn decode(d: &mut Decoder<'_>) -> Result<CallHeader, CallError> {
        let xid = d.u32().map_err(CallError::Unreadable)?;
        let msg_type = d.u32().map_err(CallError::Unreadable)?;
        if msg_type != MSG_CALL {
            return Err(CallError::NotACall { xid, msg_type });
        }
        let rpcvers = d.u32().map_err(|err| CallError::Malformed { xid, err })?;
        if rpcvers != RPC_VERSION {
            return Err(CallError::RpcMismatch { xid, rpcvers });
        }
        let rest = |d: &mut Decoder<'_>| -> Result<CallHeader, XdrError> {
            Ok(CallHeader {
                xid,
                rpcvers,
                prog: d.u32()?,
                vers: d.u32()?,
                proc_: d.u32()?,
                cred: OpaqueAuth::decode(d)?,
                verf: OpaqueAuth::decode(d)?,
            })
        };
        rest(d).map_err(|err| CallError::Malformed { xid, err })
    }
}

impl XdrEncode for CallHeader {
    fn encode(&self, e: &mut Encoder) {
        e.put_u32(self.xid);
        e.put_u32(MSG_CALL);
        e.put_u32(self.rpcvers);
        e.put_u32(self.prog);
        e.put_u32(self.vers);
        e.put_u32(self.proc_);
        self.cred.encode(e);
        self.verf.encode(e);
    }
}

/// Client side: an encoder holding a complete call header (rpcvers 2); the
/// caller appends the procedure's arguments.
pub fn encode_call(
    xid: u32,
    prog: u32,
    vers: u32,
    proc_: u32,
    cred: &OpaqueAuth,
    verf: &OpaqueAuth,
) -> Encoder {
    let mut e = Encoder::new();
    CallHeader {
        xid,
        rpcvers: RPC_VERSION,
        prog,
        vers,
        proc_,
        cred: cred.clone(),
        verf: verf.clone(),
    }
    .encode(&mut e);
    e
}

/// The header of an RPC reply. Accepted replies carry an AUTH_NONE verifier
/// when encoded (the verifier is skipped, bounded, when decoded).
///
/// ```text
/// union reply_body switch (reply_stat stat) {
/// case MSG_ACCEPTED:
///    accepted_reply areply;
/// case MSG_DENIED:
///    rejected_reply rreply;
/// } reply;
///
/// struct accepted_reply {
///    opaque_auth verf;
///    union switch (accept_stat stat) {
///    case SUCCESS:
///       opaque results[0];
///       /* procedure-specific results start here */
///    case PROG_MISMATCH:
///       struct {
///          unsigned int low;
///          unsigned int high;
///       } mismatch_info;
///    default:
///       /* Void.  Cases include PROG_UNAVAIL, PROC_UNAVAIL,
///          GARBAGE_ARGS, and SYSTEM_ERR. */
///       void;
///    } reply_data;
/// };
///
/// union rejected_reply switch (reject_stat stat) {
/// case RPC_MISMATCH:
///    struct {
///       unsigned int low;
///       unsigned int high;
///    } mismatch_info;
/// case AUTH_ERROR:
///    auth_stat stat;
/// };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyHeader {
    /// MSG_ACCEPTED / SUCCESS; the procedure's results follow.
    Success {
        /// Transaction id.
        xid: u32,
    },
    /// MSG_ACCEPTED / PROG_UNAVAIL.
    ProgUnavail {
        /// Transaction id.
        xid: u32,
    },
    /// MSG_ACCEPTED / PROG_MISMATCH.
    ProgMismatch {
        /// Transaction id.
        xid: u32,
        /// Lowest version supported.
        low: u32,
        /// Highest version supported.
        high: u32,
    },
    /// MSG_ACCEPTED / PROC_UNAVAIL.
    ProcUnavail {
        /// Transaction id.
        xid: u32,
    },
    /// MSG_ACCEPTED / GARBAGE_ARGS.
    GarbageArgs {
        /// Transaction id.
        xid: u32,
    },
    /// MSG_ACCEPTED / SYSTEM_ERR.
    SystemErr {
        /// Transaction id.
        xid: u32,
    },
    /// MSG_DENIED / RPC_MISMATCH.
    RpcMismatch {
        /// Transaction id.
        xid: u32,
        /// Lowest RPC version supported.
        low: u32,
        /// Highest RPC version supported.
        high: u32,
    },
    /// MSG_DENIED / AUTH_ERROR.
    AuthError {
        /// Transaction id.
        xid: u32,
        /// Why authentication failed.
        stat: AuthStat,
    },
}

impl ReplyHeader {
    /// The transaction id.
    pub fn xid(&self) -> u32 {
        match *self {
            ReplyHeader::Success { xid }
            | ReplyHeader::ProgUnavail { xid }
            | ReplyHeader::ProgMismatch { xid, .. }
            | ReplyHeader::ProcUnavail { xid }
            | ReplyHeader::GarbageArgs { xid }
            | ReplyHeader::SystemErr { xid }
            | ReplyHeader::RpcMismatch { xid, .. }
            | ReplyHeader::AuthError { xid, .. } => xid,
        }
    }
}

impl XdrEncode for ReplyHeader {
    fn encode(&self, e: &mut Encoder) {
        e.put_u32(self.xid());
        e.put_u32(MSG_REPLY);
        let accepted = |e: &mut Encoder, stat: u32| {
            e.put_u32(MSG_ACCEPTED);
            OpaqueAuth::none().encode(e);
            e.put_u32(stat);
        };
        match *self {
            ReplyHeader::Success { .. } => accepted(e, accept_stat::SUCCESS),
            ReplyHeader::ProgUnavail { .. } => accepted(e, accept_stat::PROG_UNAVAIL),
            ReplyHeader::ProgMismatch { low, high, .. } => {
                accepted(e, accept_stat::PROG_MISMATCH);
                e.put_u32(low);
                e.put_u32(high);
            }
            ReplyHeader::ProcUnavail { .. } => accepted(e, accept_stat::PROC_UNAVAIL),
            ReplyHeader::GarbageArgs { .. } => accepted(e, accept_stat::GARBAGE_ARGS),
            ReplyHeader::SystemErr { .. } => accepted(e, accept_stat::SYSTEM_ERR),
            ReplyHeader::RpcMismatch { low, high, .. } => {
                e.put_u32(MSG_DENIED);
                e.put_u32(reject_stat::RPC_MISMATCH);
                e.put_u32(low);
                e.put_u32(high);
            }
            ReplyHeader::AuthError { stat, .. } => {
                e.put_u32(MSG_DENIED);
                e.put_u32(reject_stat::AUTH_ERROR);
                stat.encode(e);
            }
        }
    }
}

impl<'a> XdrDecode<'a> for ReplyHeader {
    /// Decode a reply header; on `Success` the decoder is left at the
    /// procedure's results. A `msg_type` other than REPLY is a
    /// [`XdrError::BadEnum`].
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        let xid = d.u32()?;
        let msg_type = d.u32()?;
        if msg_type != MSG_REPLY {
            return Err(XdrError::BadEnum { name: "msg_type (expected REPLY)", value: msg_type });
        }
        match d.u32()? {
            MSG_ACCEPTED => {
                let _verf = OpaqueAuth::decode(d)?;
                match d.u32()? {
                    accept_stat::SUCCESS => Ok(ReplyHeader::Success { xid }),
                    accept_stat::PROG_UNAVAIL => Ok(ReplyHeader::ProgUnavail { xid }),
                    accept_stat::PROG_MISMATCH => {
                        Ok(ReplyHeader::ProgMismatch { xid, low: d.u32()?, high: d.u32()? })
                    }
                    accept_stat::PROC_UNAVAIL => Ok(ReplyHeader::ProcUnavail { xid }),
                    accept_stat::GARBAGE_ARGS => Ok(ReplyHeader::GarbageArgs { xid }),
                    accept_stat::SYSTEM_ERR => Ok(ReplyHeader::SystemErr { xid }),
                    value => Err(XdrError::BadEnum { name: "accept_stat", value }),
                }
            }
            MSG_DENIED => match d.u32()? {
                reject_stat::RPC_MISMATCH => {
                    Ok(ReplyHeader::RpcMismatch { xid, low: d.u32()?, high: d.u32()? })
                }
                reject_stat::AUTH_ERROR => {
                    Ok(ReplyHeader::AuthError { xid, stat: AuthStat::decode(d)? })
                }
                value => Err(XdrError::BadEnum { name: "reject_stat", value }),
            },
            value => Err(XdrError::BadEnum { name: "reply_stat", value }),
        }
    }
}

/// Client side: decode the reply header at the start of `d` (after the
/// record mark), leaving `d` at the procedure's results.
pub fn decode_reply(d: &mut Decoder<'_>) -> Result<ReplyHeader, XdrError> {
    ReplyHeader::decode(d)
}

/// Client side: decode the reply header of a whole record `buf`; returns it
/// with a decoder positioned at the procedure's results.
pub fn decode_reply_bytes(buf: &[u8]) -> Result<(ReplyHeader, Decoder<'_>), XdrError> {
    let mut d = Decoder::new(buf);
    let h = ReplyHeader::decode(&mut d)?;
    Ok((h, d))
}

fn reply(h: ReplyHeader) -> Encoder {
    let mut e = Encoder::new();
    h.encode(&mut e);
    e
}

/// MSG_ACCEPTED / SUCCESS header; append the procedure's results.
pub fn accepted_success(xid: u32) -> Encoder {
    reply(ReplyHeader::Success { xid })
}
/// Complete MSG_ACCEPTED / PROG_UNAVAIL reply.
pub fn prog_unavail(xid: u32) -> Encoder {
    reply(ReplyHeader::ProgUnavail { xid })
}
/// Complete MSG_ACCEPTED / PROG_MISMATCH reply with the supported versions.
pub fn prog_mismatch(xid: u32, low: u32, high: u32) -> Encoder {
    reply(ReplyHeader::ProgMismatch { xid, low, high })
}
/// Complete MSG_ACCEPTED / PROC_UNAVAIL reply.
pub fn proc_unavail(xid: u32) -> Encoder {
    reply(ReplyHeader::ProcUnavail { xid })
}
/// Complete MSG_ACCEPTED / GARBAGE_ARGS reply.
pub fn garbage_args(xid: u32) -> Encoder {
    reply(ReplyHeader::GarbageArgs { xid })
}
/// Complete MSG_ACCEPTED / SYSTEM_ERR reply.
pub fn system_err(xid: u32) -> Encoder {
    reply(ReplyHeader::SystemErr { xid })
}
/// Complete MSG_DENIED / RPC_MISMATCH reply (for us always `low = high = 2`).
pub fn rpc_mismatch(xid: u32, low: u32, high: u32) -> Encoder {
    reply(ReplyHeader::RpcMismatch { xid, low, high })
}
/// Complete MSG_DENIED / AUTH_ERROR reply.
pub fn auth_error(xid: u32, stat: AuthStat) -> Encoder {
    reply(ReplyHeader::AuthError { xid, stat })
}

/// Size of a record mark on the wire.
pub const RECORD_MARK_LEN: usize = 4;
/// Bit of a record mark that flags the last fragment of a record (RFC 5531 §11).
pub const LAST_FRAGMENT_BIT: u32 = 0x8000_0000;
/// Largest fragment length a record mark can express.
pub const FRAGMENT_LEN_MAX: u32 = 0x7FFF_FFFF;

/// Split a record mark (RFC 5531 §11) into (last fragment?, fragment length).
/// The length is the transport's to bound before reading the fragment.
pub fn parse_fragment_header(h: u32) -> (bool, u32) {
    (h & LAST_FRAGMENT_BIT != 0, h & FRAGMENT_LEN_MAX)
}

/// The record mark for a fragment of `len` bytes. Panics if `len` exceeds
/// [`FRAGMENT_LEN_MAX`] (a programming error: split such replies).
pub fn fragment_header(last: bool, len: u32) -> u32 {
    assert!(len <= FRAGMENT_LEN_MAX, "RPC fragment too long: {len}");
    if last {
        len | LAST_FRAGMENT_BIT
    } else {
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_header_round_trip() {
        assert_eq!(parse_fragment_header(fragment_header(true, 28)), (true, 28));
        assert_eq!(parse_fragment_header(fragment_header(false, 5)), (false, 5));
        assert_eq!(fragment_header(true, 0x10), 0x8000_0010);
    }

    #[test]
    fn record_marked_reply_with_reserved_mark() {
        // RFC 5531 §11: one fragment, last bit set, length excludes the mark.
        let mut e = Encoder::new();
        let mark = e.reserve_u32();
        ReplyHeader::Success { xid: 5 }.encode(&mut e);
        e.put_u32(0); // NFS3_OK of a NULL-like body
        let len = (e.len() - RECORD_MARK_LEN) as u32;
        e.patch_u32(mark, fragment_header(true, len));
        let b = e.into_inner();
        let (last, n) = parse_fragment_header(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        assert!(last);
        assert_eq!(n as usize, b.len() - RECORD_MARK_LEN);
        let (h, rest) = decode_reply_bytes(&b[RECORD_MARK_LEN..]).expect("valid reply");
        assert_eq!((h, rest.remaining()), (ReplyHeader::Success { xid: 5 }, 4));
    }

    #[test]
    fn not_a_call_and_rpc_mismatch_are_distinguished() {
        // RFC 5531 §9: a REPLY where a CALL is expected is no call at all.
        let b = [0, 0, 0, 7, 0, 0, 0, 1];
        assert_eq!(
            CallHeader::decode(&mut Decoder::new(&b)),
            Err(CallError::NotACall { xid: 7, msg_type: 1 })
        );
        let b = [0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 3];
        assert_eq!(
            CallHeader::decode(&mut Decoder::new(&b)),
            Err(CallError::RpcMismatch { xid: 7, rpcvers: 3 })
        );
        assert!(matches!(
            CallHeader::decode(&mut Decoder::new(&b[..5])),
            Err(CallError::Unreadable(XdrError::Truncated))
        ));
    }

    #[test]
    fn auth_sys_with_17_gids_is_rejected() {
        // RFC 5531 Appendix A: gids<16>.
        let mut sys = AuthSys { gids: (0..16).collect(), ..AuthSys::default() };
        assert!(AuthSys::from_body(&crate::xdr::to_bytes(&sys)).is_ok());
        sys.gids.push(16);
        assert_eq!(
            AuthSys::from_body(&crate::xdr::to_bytes(&sys)),
            Err(XdrError::TooLong { len: 17, max: 16 })
        );
    }

    #[test]
    fn auth_body_over_400_is_rejected() {
        let a = OpaqueAuth { flavor: AUTH_SYS, body: vec![0; 404] };
        assert_eq!(
            crate::xdr::from_bytes::<OpaqueAuth>(&crate::xdr::to_bytes(&a)),
            Err(XdrError::TooLong { len: 404, max: 400 })
        );
    }

    #[test]
    fn reply_builders_decode_back() {
        let cases = [
            (accepted_success(1), ReplyHeader::Success { xid: 1 }),
            (prog_unavail(2), ReplyHeader::ProgUnavail { xid: 2 }),
            (prog_mismatch(3, 3, 3), ReplyHeader::ProgMismatch { xid: 3, low: 3, high: 3 }),
            (proc_unavail(4), ReplyHeader::ProcUnavail { xid: 4 }),
            (garbage_args(5), ReplyHeader::GarbageArgs { xid: 5 }),
            (system_err(6), ReplyHeader::SystemErr { xid: 6 }),
            (rpc_mismatch(7, 2, 2), ReplyHeader::RpcMismatch { xid: 7, low: 2, high: 2 }),
            (
                auth_error(8, AuthStat::TooWeak),
                ReplyHeader::AuthError { xid: 8, stat: AuthStat::TooWeak },
            ),
        ];
        for (enc, want) in cases {
            let bytes = enc.into_inner();
            let (h, rest) = decode_reply_bytes(&bytes).expect("valid reply");
            assert_eq!((h, rest.remaining()), (want, 0));
            let mut d = Decoder::new(&bytes);
            assert_eq!(decode_reply(&mut d), Ok(want));
            assert!(d.is_empty());
        }
        // Byte-exact SUCCESS header: xid, REPLY, MSG_ACCEPTED, AUTH_NONE verf
        // (flavor 0, length 0), SUCCESS.
        assert_eq!(
            accepted_success(0x0102_0304).into_inner(),
            [1, 2, 3, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }
}
