//! NFSv4.0, 4.1 and 4.2 (RFC 7530, RFC 8881, RFC 7862) on the NFS program,
//! version 4: NULL and COMPOUND.
//!
//! A COMPOUND is decoded one operation at a time ([`ArgOp::decode_for_minor`])
//! and each operation runs before the next is decoded, so the results of
//! the operations before a malformed one are returned, and that one answers
//! NFS4ERR_BADXDR. The first failing operation ends the COMPOUND
//! (RFC 7530 §15.2, RFC 8881 §16.2.3).
//!
//! Each operation has its own handler: file operations in [`fileops`],
//! client, session, open and lock state in [`stateops`]. State itself lives
//! in [`crate::v4state`]; file handles are the v3 ones (the same MACed
//! codec, so a handle is valid over either version), with export number 255
//! for the pseudo directories of [`pseudo`].
//!
//! Must not: hold a lock across an `.await`, trust a byte of the request,
//! or let an export rule apply differently from NFSv3.

mod attrs;
mod fileops;
pub mod idmap;
mod pseudo;
mod stateops;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fsapi::{ClusterFs, Credentials, FileRef, FsError, Generation, InodeId, SnapshotId};
use nfs_proto::nfs4::{ArgOp, CompoundHeader, CompoundRes, NfsFh4, Nfsstat4, ResOp, Stateid4};
use nfs_proto::rpc;
use nfs_proto::xdr::{Decoder, Encoder, XdrDecode, XdrEncode};
use parking_lot::Mutex;

use crate::export::Export;
use crate::v4state::{self, StateManager};
use crate::{Call, RpcFail, Server};

pub use idmap::{IdMapper, OwnerFormat};
pub(crate) use pseudo::{Junction, PseudoFs};

/// Export number that marks a pseudo directory in a handle (exports are
/// numbered 0..=254).
const PSEUDO_EXPORT: u8 = 255;

/// Operations in one NFSv4.0 COMPOUND (4.1 negotiates its own limit per
/// session); beyond it NFS4ERR_RESOURCE.
pub const COMPOUND_OPS_MAX: u32 = 128;

/// NFSv4 settings.
#[derive(Debug, Clone)]
pub struct V4Config {
    /// Lease of clients (RFC 7530 §9.5), also the grace period's length.
    pub lease: Duration,
    /// Run a grace period after a restart when clients of the previous run
    /// are on record.
    pub grace: bool,
    /// Owner strings.
    pub idmap: IdMapper,
    /// Where client records are kept across restarts (for reclaim in the
    /// grace period); `None`: in memory only.
    pub client_records: Option<std::path::PathBuf>,
}

impl Default for V4Config {
    fn default() -> Self {
        V4Config {
            lease: Duration::from_secs(90),
            grace: true,
            idmap: IdMapper::numeric(),
            client_records: None,
        }
    }
}

/// NFSv4 front-end state shared by all connections.
pub(crate) struct V4 {
    pub pseudo: PseudoFs,
    pub idmap: IdMapper,
    pub lease: Duration,
    pub state: Mutex<StateManager>,
    /// Serialises this server's byte-range lock traffic to the cluster
    /// ([`fsapi::ClusterFs::cluster_lock`]): queued releases go out before
    /// the next acquire, in order.
    pub cluster_locks: tokio::sync::Mutex<()>,
    /// Server instance, for the write verifier and server_owner.
    pub server_owner: Vec<u8>,
    pub server_scope: Vec<u8>,
}

impl V4 {
    pub(crate) fn new(exports: &[Export], cfg: V4Config, cluster_id: u64) -> Self {
        let paths: Vec<String> = exports.iter().map(|e| e.rules.path.clone()).collect();
        let boot = boot_instance();
        let records: Box<dyn v4state::ClientRecords> = match &cfg.client_records {
            Some(p) => match v4state::FileClientRecords::open(p) {
                Ok(r) => Box::new(r),
                Err(e) => {
                    tracing::error!(path = %p.display(), error = %e, "cannot open the NFSv4 client records; reclaim after a restart will not work");
                    Box::new(v4state::MemClientRecords::default())
                }
            },
            None => Box::new(v4state::MemClientRecords::default()),
        };
        let mut sc = v4state::StateConfig::new(boot);
        sc.lease = cfg.lease;
        sc.grace = cfg.grace;
        let state = StateManager::new(sc, records, Instant::now());
        V4 {
            pseudo: PseudoFs::new(&paths),
            idmap: cfg.idmap,
            lease: cfg.lease,
            state: Mutex::new(state),
            cluster_locks: tokio::sync::Mutex::new(()),
            server_owner: format!("cairn-{cluster_id:016x}").into_bytes(),
            server_scope: format!("cairn-{cluster_id:016x}").into_bytes(),
        }
    }
}

/// The minor version of a COMPOUND's arguments, without decoding the rest.
pub(crate) fn minor_version_of(args: &[u8]) -> Option<u32> {
    let mut d = Decoder::new(args);
    d.opaque(nfs_proto::nfs4::TAG_DECODE_MAX_BYTES).ok()?;
    d.u32().ok()
}

/// A boot instance number: differs between runs of the server (seconds
/// since the epoch, mixed with the process id).
fn boot_instance() -> u32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (secs as u32) ^ (std::process::id().rotate_left(20))
}

/// What the current (or saved) filehandle names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fh {
    /// A pseudo directory (RFC 7530 §7.3).
    Pseudo(u32),
    /// A file of export number `export`.
    File { export: u8, file: FileRef },
}

/// The state of one COMPOUND as it runs (RFC 8881 §16.2.3).
pub(crate) struct Cx<'c, 'a> {
    pub call: &'c Call<'a>,
    pub minor: u32,
    pub cur: Option<Fh>,
    pub saved: Option<Fh>,
    /// 4.1 current and saved stateid (RFC 8881 §16.2.3.1.2).
    pub cur_stateid: Option<Stateid4>,
    pub saved_stateid: Option<Stateid4>,
    /// 4.1: the session and slot of this COMPOUND's SEQUENCE.
    pub session: Option<stateops::SeqInfo>,
    pub now: Instant,
    /// Size of the COMPOUND request, and a hash of its operations (for
    /// SEQUENCE's false-retry check).
    pub request_bytes: u32,
    pub args_hash: u64,
}

impl<F: ClusterFs> Server<F> {
    /// The NFS program, version 4.
    pub(crate) async fn nfs4(
        &self,
        c: &Call<'_>,
        proc_: u32,
        args: &[u8],
    ) -> Result<Encoder, RpcFail> {
        match proc_ {
            nfs_proto::nfs4::PROC_NULL => Ok(rpc::accepted_success(c.xid)),
            nfs_proto::nfs4::PROC_COMPOUND => {
                if c.auth.is_none() {
                    // RFC 7530 §3.2.1: AUTH_NONE carries no identity; only AUTH_SYS here.
                    return Err(RpcFail::TooWeak);
                }
                self.compound(c, args).await
            }
            _ => Err(RpcFail::ProcUnavail),
        }
    }

    async fn compound(&self, c: &Call<'_>, args: &[u8]) -> Result<Encoder, RpcFail> {
        let mut d = Decoder::new(args);
        let hdr = CompoundHeader::decode(&mut d).map_err(|e| {
            tracing::debug!(error = %e, "undecodable COMPOUND header");
            RpcFail::GarbageArgs
        })?;
        let reply = |status: Nfsstat4, resarray: Vec<ResOp>| CompoundRes {
            status,
            tag: hdr.tag.clone(),
            resarray,
        };
        if hdr.minorversion > nfs_proto::nfs4::MINOR_VERSION_MAX {
            return Ok(encode_reply(c.xid, &reply(Nfsstat4::MinorVersMismatch, Vec::new())));
        }
        if std::str::from_utf8(&hdr.tag).is_err() {
            // RFC 7530 §15.2: a tag that is not UTF-8 may be refused
            return Ok(encode_reply(c.xid, &reply(Nfsstat4::Inval, Vec::new())));
        }
        let mut cx = Cx {
            call: c,
            minor: hdr.minorversion,
            cur: None,
            saved: None,
            cur_stateid: None,
            saved_stateid: None,
            session: None,
            now: Instant::now(),
            request_bytes: args.len() as u32,
            args_hash: xxhash_rust::xxh3::xxh3_64(d.rest()),
        };
        let mut results: Vec<ResOp> = Vec::with_capacity(hdr.numops.min(64) as usize);
        let mut status = Nfsstat4::Ok;
        if hdr.minorversion == 0 && hdr.numops > COMPOUND_OPS_MAX {
            // RFC 7530 §15.2: more operations than the server can handle
            return Ok(encode_reply(c.xid, &reply(Nfsstat4::Resource, Vec::new())));
        }
        for i in 0..hdr.numops {
            let op = match ArgOp::decode_for_minor(&mut d, hdr.minorversion) {
                Ok(op) => op,
                Err(e) => {
                    tracing::debug!(error = %e.err, "undecodable COMPOUND operation");
                    status = Nfsstat4::Badxdr;
                    if let Some(r) = e.result() {
                        results.push(r);
                    }
                    break;
                }
            };
            let r = self.op4(&mut cx, i, hdr.numops, op).await;
            let r = match r {
                Dispatch::Res(r) => *r,
                Dispatch::Replay(bytes) => {
                    // 4.1 SEQUENCE of a retransmission: the cached reply, as it was
                    return Ok(replay_reply(c.xid, bytes));
                }
            };
            status = r.status();
            results.push(r);
            if status != Nfsstat4::Ok {
                break;
            }
        }
        let res = reply(status, results);
        let body = nfs_proto::xdr::to_bytes(&res);
        if let Some(seq) = cx.session.take() {
            // RFC 8881 §2.10.6.1.3: remember the reply in the slot for replays
            let body = self.finish_sequence(seq, body, &res);
            let mut e = rpc::accepted_success(c.xid);
            e.put_raw(&body);
            return Ok(e);
        }
        let mut e = rpc::accepted_success(c.xid);
        e.put_raw(&body);
        Ok(e)
    }

    /// Run one operation.
    async fn op4(&self, cx: &mut Cx<'_, '_>, index: u32, numops: u32, op: ArgOp) -> Dispatch {
        let opnum = op.opnum();
        // RFC 8881 §2.10.6.2 / §18.46.3: in 4.1 every COMPOUND starts with
        // SEQUENCE, except a lone session-management operation.
        if cx.minor >= 1 {
            let session_free = matches!(
                op,
                ArgOp::ExchangeId(_)
                    | ArgOp::CreateSession(_)
                    | ArgOp::DestroySession(_)
                    | ArgOp::BindConnToSession(_)
                    | ArgOp::DestroyClientid(_)
            );
            if index == 0 {
                if !matches!(op, ArgOp::Sequence(_)) && !matches!(op, ArgOp::Illegal(_)) {
                    if !session_free {
                        return Dispatch::Res(Box::new(ResOp::from_status(
                            opnum,
                            Nfsstat4::OpNotInSession,
                        )));
                    }
                    if numops > 1 {
                        return Dispatch::Res(Box::new(ResOp::from_status(
                            opnum,
                            Nfsstat4::NotOnlyOp,
                        )));
                    }
                }
            } else if matches!(op, ArgOp::Sequence(_)) {
                return Dispatch::Res(Box::new(ResOp::from_status(opnum, Nfsstat4::SequencePos)));
            }
            // RFC 8881 §17: operations of 4.0 that 4.1 removed
            if matches!(
                op,
                ArgOp::Setclientid(_)
                    | ArgOp::SetclientidConfirm(_)
                    | ArgOp::Renew(_)
                    | ArgOp::OpenConfirm(_)
                    | ArgOp::ReleaseLockowner(_)
            ) {
                return Dispatch::Res(Box::new(ResOp::from_status(opnum, Nfsstat4::Notsupp)));
            }
        }
        let r = match op {
            ArgOp::Illegal(_) => ResOp::Illegal(Nfsstat4::OpIllegal),
            ArgOp::NotSupported(op) => ResOp::NotSupported(op, Nfsstat4::Notsupp),
            ArgOp::Sequence(a) => return self.op_sequence(cx, a, numops).await,
            other => match self.state_op(cx, other).await {
                Ok(r) => r,
                Err(op) => self.file_op(cx, op).await,
            },
        };
        Dispatch::Res(Box::new(r))
    }

    /// The handle of `fh` as sent to clients.
    pub(crate) fn fh_encode(&self, fh: Fh) -> NfsFh4 {
        match fh {
            Fh::Pseudo(id) => NfsFh4(self.handles.encode(
                PSEUDO_EXPORT,
                FileRef {
                    snapshot: SnapshotId::LIVE,
                    ino: InodeId(id as u64),
                    generation: Generation(0),
                },
            )),
            Fh::File { export, file } => NfsFh4(self.handles.encode(export, file)),
        }
    }

    /// PUTFH: check the MAC and the export's client rules.
    pub(crate) fn fh_decode(&self, c: &Call<'_>, fh: &NfsFh4) -> Result<Fh, Nfsstat4> {
        if fh.0.is_empty() || fh.0.len() > nfs_proto::nfs4::NFS4_FHSIZE as usize {
            return Err(Nfsstat4::Badhandle);
        }
        let (export, file) = self.handles.decode(&fh.0).map_err(|e| match e {
            crate::HandleError::Bad => {
                tracing::info!(client = %c.peer, "bad NFSv4 file handle");
                Nfsstat4::Badhandle
            }
            crate::HandleError::Stale => Nfsstat4::Stale,
        })?;
        if export == PSEUDO_EXPORT {
            let id = u32::try_from(file.ino.0).map_err(|_| Nfsstat4::Badhandle)?;
            if !self.v4.pseudo.exists(id) {
                return Err(Nfsstat4::Stale);
            }
            return Ok(Fh::Pseudo(id));
        }
        let e = self.exports.get(export as usize).ok_or(Nfsstat4::Stale)?;
        if !e.rules.admits(c.peer) {
            tracing::warn!(client = %c.peer, export = %e.rules.path, "NFSv4 request refused by the export's client rules");
            return Err(Nfsstat4::Access);
        }
        Ok(Fh::File { export, file })
    }

    /// The handle for a junction of the pseudo file system.
    pub(crate) fn junction_fh(&self, j: Junction) -> Fh {
        match j {
            Junction::Pseudo(id) => Fh::Pseudo(id),
            Junction::Export(n) => Fh::File { export: n, file: self.exports[n as usize].root },
        }
    }

    /// The caller's identity inside `export`, after squashing.
    pub(crate) fn cred(&self, c: &Call<'_>, export: u8) -> Credentials {
        let auth = c.auth.map(|a| (a.uid, a.gid, a.gids.as_slice()));
        match self.exports.get(export as usize) {
            Some(e) => e.rules.map_credentials(auth),
            None => Credentials { uid: 65534, gid: 65534, groups: Vec::new() },
        }
    }

    /// Once a second: release the state of clients whose lease ran out,
    /// and let the file system free files whose last open went with it.
    pub async fn run_v4_housekeeping(&self) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            self.v4.state.lock().reap(Instant::now());
            self.release_closed().await;
        }
    }

    /// The export of `export`, if it exists.
    pub(crate) fn export(&self, export: u8) -> Option<&Export> {
        self.exports.get(export as usize)
    }
}

/// How an operation's dispatch ended.
pub(crate) enum Dispatch {
    Res(Box<ResOp>),
    /// A 4.1 retransmission: send these cached COMPOUND reply bytes.
    Replay(Arc<Vec<u8>>),
}

fn encode_reply(xid: u32, res: &CompoundRes) -> Encoder {
    let mut e = rpc::accepted_success(xid);
    res.encode(&mut e);
    e
}

fn replay_reply(xid: u32, body: Arc<Vec<u8>>) -> Encoder {
    let mut e = rpc::accepted_success(xid);
    e.put_raw(&body);
    e
}

/// RFC 7530 §13 / RFC 8881 §15: each [`FsError`]'s nfsstat4.
pub(crate) fn status4(e: &FsError) -> Nfsstat4 {
    match e {
        FsError::NotPermitted => Nfsstat4::Perm,
        FsError::NotFound => Nfsstat4::Noent,
        FsError::Io(_) => Nfsstat4::Io,
        FsError::AccessDenied => Nfsstat4::Access,
        FsError::Exists => Nfsstat4::Exist,
        FsError::CrossDevice => Nfsstat4::Xdev,
        FsError::NotDir => Nfsstat4::Notdir,
        FsError::IsDir => Nfsstat4::Isdir,
        FsError::Invalid(_) => Nfsstat4::Inval,
        FsError::FileTooLarge => Nfsstat4::Fbig,
        FsError::NoSpace => Nfsstat4::Nospc,
        FsError::ReadOnly => Nfsstat4::Rofs,
        FsError::TooManyLinks => Nfsstat4::Mlink,
        FsError::NameTooLong => Nfsstat4::Nametoolong,
        FsError::NotEmpty => Nfsstat4::Notempty,
        FsError::Stale => Nfsstat4::Stale,
        FsError::BadHandle => Nfsstat4::Badhandle,
        FsError::BadCookie => Nfsstat4::BadCookie,
        FsError::NotSync => Nfsstat4::Inval,
        FsError::NotSupported => Nfsstat4::Notsupp,
        FsError::BadType => Nfsstat4::Badtype,
        FsError::Jukebox => Nfsstat4::Delay,
        FsError::ServerFault(_) => Nfsstat4::Serverfault,
        FsError::NoXattr => Nfsstat4::Noxattr,
        FsError::XattrTooBig => Nfsstat4::Xattr2big,
    }
}
