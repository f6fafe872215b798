//! `nfs-server`: the NFS front end.
//!
//! Owns the TCP transport with record marking, RPC dispatch by program and
//! procedure, credentials and export rules, the file-handle codec, the
//! duplicate request cache, and one handler per NFSv3 / MOUNT / PORTMAP
//! procedure. Handlers decode typed arguments (`nfs-proto`), call
//! [`fsapi::ClusterFs`], and encode typed results.
//!
//! Must not: know how the file system stores anything (no store, no Raft,
//! no chunks), or trust any byte a client sends: every handle is MAC-checked,
//! every length bounded, every export rule applied on every call.
//!
//! One TCP port serves NFS, MOUNT and PORTMAP, so `mount -o
//! port=N,mountport=N` works on any port.

mod convert;
mod drc;
mod export;
mod handle;
mod metrics;
mod mount;
mod nfs3;
pub mod nfs4;
mod portmap;
mod transport;
pub mod v4state;

pub use drc::{Drc, DrcKey, DrcLookup};
pub use export::{Cidr, Export, ExportRules, Squash};
pub use handle::{HandleCodec, HandleError, HANDLE_LEN_BYTES};
pub use metrics::{CallTimer, ConnectionGuard, Metrics, Program};
pub use nfs4::{IdMapper, OwnerFormat, V4Config};
pub use transport::{serve, Limits};

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use fsapi::ClusterFs;
use nfs_proto::rpc::{self, AuthStat, AuthSys, CallError, CallHeader};
use nfs_proto::xdr::{Decoder, Encoder};
use parking_lot::Mutex;

/// Everything the front end needs besides the file system.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Exports, in the order their numbers appear in handles: append new
    /// exports at the end so existing handles stay valid.
    pub exports: Vec<Export>,
    /// Key of the handle MAC (a per-installation secret).
    pub handle_key: [u8; 32],
    pub cluster_id: u64,
    /// The port NFS, MOUNT and PORTMAP are served on (PORTMAP GETPORT's answer).
    pub port: u16,
    pub limits: Limits,
    /// Entries kept in the duplicate request cache.
    pub drc_entries_max: usize,
    /// NFSv4 leases, grace and id mapping.
    pub v4: V4Config,
}

/// Why a call got no regular reply body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RpcFail {
    ProcUnavail,
    GarbageArgs,
    TooWeak,
}

/// The front end: dispatches records to handlers.
pub struct Server<F> {
    fs: Arc<F>,
    exports: Vec<Export>,
    handles: HandleCodec,
    drc: Drc,
    limits: Limits,
    port: u16,
    fsid: u64,
    /// (client host, path) of MNT calls, for MOUNT DUMP.
    mounts: Mutex<BTreeSet<(String, String)>>,
    /// Counters and latencies, recorded in [`Server::dispatch`].
    metrics: Arc<Metrics>,
    /// NFSv4 state, pseudo file system and id mapping.
    v4: nfs4::V4,
}

impl<F: ClusterFs> Server<F> {
    /// A front end for `fs` with `config`.
    pub fn new(fs: Arc<F>, config: ServerConfig) -> Self {
        let v4 = nfs4::V4::new(&config.exports, config.v4, config.cluster_id);
        Server {
            fs,
            v4,
            handles: HandleCodec::new(config.handle_key, config.cluster_id),
            exports: config.exports,
            drc: Drc::new(config.drc_entries_max, Duration::from_secs(600)),
            limits: config.limits,
            port: config.port,
            fsid: config.cluster_id,
            mounts: Mutex::new(BTreeSet::new()),
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// The file system served.
    pub fn fs(&self) -> &Arc<F> {
        &self.fs
    }

    /// The front end's counters and latencies.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Handle one RPC record; `None` when nothing is to be sent back (not a
    /// call, or a retransmission of a call still running).
    pub async fn dispatch(&self, peer: SocketAddr, record: Vec<u8>) -> Option<Vec<u8>> {
        let timer = self.metrics.call_started(&record);
        let reply = self.dispatch_call(peer, record).await;
        self.metrics.call_finished(timer, reply.as_deref());
        reply
    }

    async fn dispatch_call(&self, peer: SocketAddr, record: Vec<u8>) -> Option<Vec<u8>> {
        let mut d = Decoder::new(&record);
        let call = match CallHeader::decode(&mut d) {
            Ok(c) => c,
            Err(CallError::RpcMismatch { xid, .. }) => {
                return Some(
                    rpc::rpc_mismatch(xid, rpc::RPC_VERSION, rpc::RPC_VERSION).into_inner(),
                )
            }
            Err(CallError::Malformed { xid, err }) => {
                tracing::debug!(%peer, error = %err, "malformed RPC header");
                return Some(rpc::auth_error(xid, AuthStat::BadCred).into_inner());
            }
            Err(e) => {
                tracing::debug!(%peer, error = %e, "not an RPC call; ignored");
                return None;
            }
        };
        let span = tracing::Span::current();
        span.record("xid", call.xid);
        span.record("proc", format!("{}.{}.{}", call.prog, call.vers, call.proc_));
        let auth = match call.cred.flavor {
            rpc::AUTH_NONE => None,
            rpc::AUTH_SYS => match AuthSys::from_body(&call.cred.body) {
                Ok(a) => Some(a),
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "bad AUTH_SYS credential");
                    return Some(rpc::auth_error(call.xid, AuthStat::BadCred).into_inner());
                }
            },
            other => {
                tracing::debug!(%peer, flavor = other, "unsupported auth flavor");
                return Some(rpc::auth_error(call.xid, AuthStat::BadCred).into_inner());
            }
        };
        let args = d.rest();
        tracing::debug!(flavor = call.cred.flavor, args_bytes = args.len(), "call");
        let ctx = Call { peer, xid: call.xid, auth: auth.as_ref() };
        let reply = match (call.prog, call.vers) {
            (nfs_proto::nfs3::PROGRAM, nfs_proto::nfs3::VERSION) => {
                return self.with_drc(&ctx, &call, args).await;
            }
            (nfs_proto::nfs4::PROGRAM, nfs_proto::nfs4::VERSION) => {
                return self.with_drc(&ctx, &call, args).await;
            }
            (nfs_proto::nfs3::PROGRAM, _) => {
                let (lo, hi) = (nfs_proto::nfs3::VERSION, nfs_proto::nfs4::VERSION);
                return Some(rpc::prog_mismatch(call.xid, lo, hi).into_inner());
            }
            (nfs_proto::mount::PROGRAM, nfs_proto::mount::VERSION) => {
                self.mount(&ctx, call.proc_, args).await
            }
            (nfs_proto::mount::PROGRAM, _) => {
                let v = nfs_proto::mount::VERSION;
                return Some(rpc::prog_mismatch(call.xid, v, v).into_inner());
            }
            (nfs_proto::portmap::PROGRAM, nfs_proto::portmap::VERSION) => {
                self.portmap(&ctx, call.proc_, args)
            }
            (nfs_proto::portmap::PROGRAM, _) => {
                let v = nfs_proto::portmap::VERSION;
                return Some(rpc::prog_mismatch(call.xid, v, v).into_inner());
            }
            // NFSACL (100227) and anything else: the Linux client carries on.
            _ => return Some(rpc::prog_unavail(call.xid).into_inner()),
        };
        Some(finish(call.xid, reply))
    }

    /// NFSv3 and NFSv4 through the duplicate request cache: NFSv3's
    /// non-idempotent procedures and NFSv4.0 COMPOUNDs.
    async fn with_drc(&self, ctx: &Call<'_>, call: &CallHeader, args: &[u8]) -> Option<Vec<u8>> {
        let v4 = call.vers == nfs_proto::nfs4::VERSION;
        // NFSv4.0 COMPOUNDs go through the cache too (RFC 7530 §3.1.1:
        // seqids cover only open and lock state); 4.1 has its slot cache.
        let cached = if v4 {
            call.proc_ == nfs_proto::nfs4::PROC_COMPOUND && nfs4::minor_version_of(args) == Some(0)
        } else {
            nfs3::is_non_idempotent(call.proc_)
        };
        let run = |ctx, args| async move {
            if v4 {
                self.nfs4(ctx, call.proc_, args).await
            } else {
                self.nfs3(ctx, call.proc_, args).await
            }
        };
        if !cached {
            return Some(finish(call.xid, run(ctx, args).await));
        }
        let key = DrcKey {
            client: ctx.peer.ip(),
            xid: call.xid,
            prog: call.prog,
            vers: call.vers,
            proc_: call.proc_,
            args_hash: xxhash_rust::xxh3::xxh3_64(args),
        };
        match self.drc.begin(key) {
            DrcLookup::New => {
                let reply = finish(call.xid, run(ctx, args).await);
                self.drc.finish(key, Arc::new(reply.clone()));
                Some(reply)
            }
            DrcLookup::InProgress => {
                tracing::debug!("retransmission of a call in progress; dropped");
                None
            }
            DrcLookup::Done(r) => {
                tracing::debug!("retransmission answered from the duplicate request cache");
                Some(r.as_ref().clone())
            }
        }
    }
}

/// The caller of one RPC.
pub(crate) struct Call<'a> {
    pub peer: SocketAddr,
    pub xid: u32,
    pub auth: Option<&'a AuthSys>,
}

/// Wrap a handler's outcome into a complete reply message.
fn finish(xid: u32, r: Result<Encoder, RpcFail>) -> Vec<u8> {
    match r {
        Ok(e) => e.into_inner(),
        Err(RpcFail::ProcUnavail) => rpc::proc_unavail(xid).into_inner(),
        Err(RpcFail::GarbageArgs) => rpc::garbage_args(xid).into_inner(),
        Err(RpcFail::TooWeak) => rpc::auth_error(xid, AuthStat::TooWeak).into_inner(),
    }
}
