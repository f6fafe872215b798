//! NFSv4 client, session, open and lock operations (RFC 7530 §16, RFC 8881
//! §18) over [`crate::v4state::StateManager`]: decode what the state
//! manager needs, call it under its lock (never across an `.await`), touch
//! the file system outside the lock, and encode the result.

use fsapi::ranges::{ClusterLockAnswer, ClusterLockHolder, ClusterLockOp};
use fsapi::{ClusterFs, CreateHow, FileRef, FileType, FsError};
use nfs_proto::nfs4::*;
use nfs_proto::xdr::to_bytes;

use super::attrs;
use super::fileops::check_name;
use super::{status4, Cx, Dispatch, Fh};
use crate::v4state::{
    self as vs, Caller, ClientId, ConnId, FileKey, IoKind, LockType, Principal, SeqTicket,
    Sequenced, SessionId, StateError, StateId,
};
use crate::Server;

/// The SEQUENCE of the running 4.1 COMPOUND: its slot, handed back when
/// the COMPOUND's reply is known.
pub(crate) struct SeqInfo {
    pub ticket: vs::SlotTicket,
    pub client: ClientId,
    pub reply_max_bytes: u32,
    pub cache_this: bool,
}

/// EXCHGID4_FLAG_USE_NON_PNFS (RFC 8881 §18.35).
const EXCHGID4_FLAG_USE_NON_PNFS: u32 = 0x0001_0000;
/// OPEN4_RESULT_CONFIRM and OPEN4_RESULT_LOCKTYPE_POSIX (RFC 7530 §16.16).
const OPEN4_RESULT_CONFIRM: u32 = 0x2;
const OPEN4_RESULT_LOCKTYPE_POSIX: u32 = 0x4;

/// Each [`StateError`]'s nfsstat4.
pub(crate) fn st_err(e: &StateError) -> Nfsstat4 {
    use StateError as E;
    match e {
        E::BadStateid => Nfsstat4::BadStateid,
        E::OldStateid => Nfsstat4::OldStateid,
        E::StaleStateid => Nfsstat4::StaleStateid,
        E::Expired => Nfsstat4::Expired,
        E::StaleClientid => Nfsstat4::StaleClientid,
        E::ClidInuse => Nfsstat4::ClidInuse,
        E::BadSeqid => Nfsstat4::BadSeqid,
        E::ShareDenied => Nfsstat4::ShareDenied,
        E::Denied(_) => Nfsstat4::Denied,
        E::LocksHeld => Nfsstat4::LocksHeld,
        E::Locked => Nfsstat4::Locked,
        E::Grace => Nfsstat4::Grace,
        E::NoGrace => Nfsstat4::NoGrace,
        E::ReclaimBad => Nfsstat4::ReclaimBad,
        E::ReclaimConflict => Nfsstat4::ReclaimConflict,
        E::BadSession => Nfsstat4::Badsession,
        E::BadSlot => Nfsstat4::Badslot,
        E::SeqMisordered => Nfsstat4::SeqMisordered,
        E::SeqFalseRetry => Nfsstat4::SeqFalseRetry,
        E::RetryUncachedRep => Nfsstat4::RetryUncachedRep,
        E::ConnNotBoundToSession => Nfsstat4::ConnNotBoundToSession,
        E::ClientidBusy => Nfsstat4::ClientidBusy,
        E::CompleteAlready => Nfsstat4::CompleteAlready,
        E::WrongCred => Nfsstat4::WrongCred,
        E::Inval => Nfsstat4::Inval,
        E::BadRange => Nfsstat4::BadRange,
        E::LockRange => Nfsstat4::LockRange,
        E::OpenMode => Nfsstat4::Openmode,
        E::Resource => Nfsstat4::Resource,
        E::Delay => Nfsstat4::Delay,
        E::TooManyOps => Nfsstat4::TooManyOps,
        E::ReqTooBig => Nfsstat4::ReqTooBig,
        E::RepTooBig => Nfsstat4::RepTooBig,
        E::RepTooBigToCache => Nfsstat4::RepTooBigToCache,
        E::TooSmall => Nfsstat4::Toosmall,
        E::NoEnt => Nfsstat4::Noent,
        E::NotSame => Nfsstat4::NotSame,
        E::Perm => Nfsstat4::Perm,
        E::ServerFault => Nfsstat4::Serverfault,
    }
}

fn sid_in(s: &Stateid4) -> StateId {
    StateId { seqid: s.seqid, other: s.other }
}

fn sid_out(s: StateId) -> Stateid4 {
    Stateid4 { seqid: s.seqid, other: s.other }
}

fn key(f: FileRef) -> FileKey {
    FileKey { ino: f.ino.0, generation: f.generation.0 }
}

fn principal(cx: &Cx<'_, '_>) -> Principal {
    match cx.call.auth {
        Some(a) => Principal::Sys { uid: a.uid },
        None => Principal::None,
    }
}

fn conn(cx: &Cx<'_, '_>) -> ConnId {
    // the transport's peer address names the connection
    let p = cx.call.peer;
    let ip = match p.ip() {
        std::net::IpAddr::V4(v) => u32::from(v) as u64,
        std::net::IpAddr::V6(v) => (u128::from(v) as u64) ^ ((u128::from(v) >> 64) as u64),
    };
    ConnId((ip << 16) ^ p.port() as u64)
}

fn lock_denied(d: &vs::LockDenied) -> LockDenied4 {
    LockDenied4 {
        offset: d.offset,
        length: d.length,
        locktype: match d.lock_type {
            LockType::Read => NfsLockType4::Read,
            LockType::Write => NfsLockType4::Write,
        },
        owner: StateOwner4 { clientid: d.owner.client.0, owner: d.owner.owner.clone() },
    }
}

impl<F: ClusterFs> Server<F> {
    fn caller(&self, cx: &Cx<'_, '_>) -> Caller {
        match (&cx.session, cx.minor) {
            (Some(s), m) if m >= 1 => Caller::v41(s.client),
            _ => Caller::v40(),
        }
    }

    /// The 4.1 current stateid stands for the stateid a previous operation
    /// of the COMPOUND set (RFC 8881 §16.2.3.1.2).
    fn resolve_sid(&self, cx: &Cx<'_, '_>, s: &Stateid4) -> Result<StateId, Nfsstat4> {
        let sid = sid_in(s);
        if cx.minor >= 1 && sid.is_current() {
            return cx.cur_stateid.map(|c| sid_in(&c)).ok_or(Nfsstat4::BadStateid);
        }
        Ok(sid)
    }

    /// Client/session/open/lock operations; a file operation is handed back.
    pub(crate) async fn state_op(&self, cx: &mut Cx<'_, '_>, op: ArgOp) -> Result<ResOp, ArgOp> {
        Ok(match op {
            ArgOp::Setclientid(a) => ResOp::Setclientid(self.setclientid(cx, a)),
            ArgOp::SetclientidConfirm(a) => {
                let r = self.v4.state.lock().setclientid_confirm(
                    ClientId(a.clientid),
                    a.setclientid_confirm,
                    &principal(cx),
                    cx.now,
                );
                ResOp::SetclientidConfirm(r.err().map_or(Nfsstat4::Ok, |e| st_err(&e)))
            }
            ArgOp::Renew(a) => {
                let r = self.v4.state.lock().renew(ClientId(a.clientid), cx.now);
                ResOp::Renew(r.err().map_or(Nfsstat4::Ok, |e| st_err(&e)))
            }
            ArgOp::ExchangeId(a) => ResOp::ExchangeId(self.exchange_id(cx, a).into()),
            ArgOp::CreateSession(a) => ResOp::CreateSession(self.create_session(cx, a).into()),
            ArgOp::DestroySession(a) => {
                let cur = cx.session.as_ref().map(|s| &s.ticket);
                let r = self.v4.state.lock().destroy_session(
                    SessionId(a.dsa_sessionid),
                    conn(cx),
                    cur,
                    cx.now,
                );
                ResOp::DestroySession(r.err().map_or(Nfsstat4::Ok, |e| st_err(&e)))
            }
            ArgOp::DestroyClientid(a) => {
                let r = self.v4.state.lock().destroy_clientid(ClientId(a.dca_clientid), cx.now);
                ResOp::DestroyClientid(r.err().map_or(Nfsstat4::Ok, |e| st_err(&e)))
            }
            ArgOp::BindConnToSession(a) => {
                let r = self.v4.state.lock().bind_conn_to_session(
                    SessionId(a.bctsa_sessid),
                    conn(cx),
                    cx.now,
                );
                ResOp::BindConnToSession(
                    r.map(|_| BindConnToSessionResOk {
                        bctsr_sessid: a.bctsa_sessid,
                        bctsr_dir: ChannelDirFromServer4::Fore,
                        bctsr_use_conn_in_rdma_mode: false,
                    })
                    .map_err(|e| st_err(&e))
                    .into(),
                )
            }
            ArgOp::BackchannelCtl(_) => ResOp::BackchannelCtl(Nfsstat4::Ok),
            ArgOp::ReclaimComplete(a) => {
                let r = match &cx.session {
                    Some(s) => {
                        let c = s.client;
                        if !a.rca_one_fs || cx.cur.is_some() {
                            self.v4.state.lock().reclaim_complete(c, a.rca_one_fs, cx.now)
                        } else {
                            Err(StateError::Inval)
                        }
                    }
                    None => Err(StateError::BadSession),
                };
                ResOp::ReclaimComplete(r.err().map_or(Nfsstat4::Ok, |e| st_err(&e)))
            }
            ArgOp::FreeStateid(a) => {
                let r = self.resolve_sid(cx, &a.fsa_stateid).and_then(|sid| {
                    let caller = self.caller(cx);
                    self.v4.state.lock().free_stateid(caller, &sid, cx.now).map_err(|e| st_err(&e))
                });
                ResOp::FreeStateid(r.err().unwrap_or(Nfsstat4::Ok))
            }
            ArgOp::TestStateid(a) => {
                let caller = self.caller(cx);
                let sids: Vec<StateId> = a.ts_stateids.iter().map(sid_in).collect();
                let codes = self
                    .v4
                    .state
                    .lock()
                    .test_stateids(caller, &sids, cx.now)
                    .into_iter()
                    .map(|r| r.err().map_or(Nfsstat4::Ok, |e| st_err(&e)))
                    .collect();
                ResOp::TestStateid(NfsRes4::Ok(TestStateidResOk { tsr_status_codes: codes }))
            }
            // no delegations are ever granted (RFC 7530 §16.7, §16.8)
            ArgOp::Delegpurge(_) => ResOp::Delegpurge(Nfsstat4::Notsupp),
            ArgOp::Delegreturn(a) => ResOp::Delegreturn(match self.cur(cx) {
                Err(s) => s,
                Ok(_) => {
                    let sid = sid_in(&a.deleg_stateid);
                    if sid.special().is_some() {
                        Nfsstat4::BadStateid
                    } else {
                        // a real stateid of ours that is not a delegation
                        let caller = self.caller(cx);
                        match self.v4.state.lock().test_stateids(caller, &[sid], cx.now).pop() {
                            Some(Err(StateError::StaleStateid)) => Nfsstat4::StaleStateid,
                            Some(Err(StateError::Expired)) => Nfsstat4::Expired,
                            _ => Nfsstat4::BadStateid,
                        }
                    }
                }
            }),
            ArgOp::Open(a) => self.open(cx, a).await,
            ArgOp::OpenConfirm(a) => self.open_confirm(cx, a),
            ArgOp::OpenDowngrade(a) => self.open_downgrade(cx, a),
            ArgOp::Close(a) => self.close(cx, a).await,
            ArgOp::Lock(a) => self.lock(cx, a).await,
            ArgOp::Lockt(a) => ResOp::Lockt(self.lockt(cx, a).await),
            ArgOp::Locku(a) => self.locku(cx, a).await,
            ArgOp::ReleaseLockowner(a) => {
                let r = self.v4.state.lock().release_lockowner(
                    ClientId(a.lock_owner.clientid),
                    &a.lock_owner.owner,
                    cx.now,
                );
                self.pass_on_lock_releases().await;
                ResOp::ReleaseLockowner(r.err().map_or(Nfsstat4::Ok, |e| st_err(&e)))
            }
            other => return Err(other),
        })
    }

    fn setclientid(&self, cx: &Cx<'_, '_>, a: SetclientidArgs) -> SetclientidRes {
        let r = self.v4.state.lock().setclientid(
            &a.client.id,
            a.client.verifier,
            &principal(cx),
            cx.now,
        );
        match r {
            Ok(ok) => SetclientidRes::Ok(SetclientidResOk {
                clientid: ok.client.0,
                setclientid_confirm: ok.confirm,
            }),
            Err(StateError::ClidInuse) => SetclientidRes::ClidInuse(a.callback.cb_location.clone()),
            Err(e) => SetclientidRes::Err(st_err(&e)),
        }
    }

    fn exchange_id(&self, cx: &Cx<'_, '_>, a: ExchangeIdArgs) -> Result<ExchangeIdResOk, Nfsstat4> {
        if !matches!(a.eia_state_protect, StateProtect4A::None) {
            // SP4_MACH_CRED and SP4_SSV are not offered (RFC 8881 §18.35.4)
            return Err(Nfsstat4::Inval);
        }
        let args = vs::ExchangeIdArgs {
            owner: a.eia_clientowner.co_ownerid,
            verifier: a.eia_clientowner.co_verifier,
            flags: a.eia_flags,
            principal: principal(cx),
        };
        let ok = self.v4.state.lock().exchange_id(&args, cx.now).map_err(|e| st_err(&e))?;
        Ok(ExchangeIdResOk {
            eir_clientid: ok.client.0,
            eir_sequenceid: ok.sequence,
            eir_flags: ok.flags | EXCHGID4_FLAG_USE_NON_PNFS,
            eir_state_protect: StateProtect4R::None,
            eir_server_owner: ServerOwner4 {
                so_minor_id: 0,
                so_major_id: self.v4.server_owner.clone(),
            },
            eir_server_scope: self.v4.server_scope.clone(),
            eir_server_impl_id: Some(NfsImplId4 {
                nii_domain: b"cairn.dev".to_vec(),
                nii_name: format!("Cairn {}", env!("CARGO_PKG_VERSION")).into_bytes(),
                nii_date: Nfstime4 { seconds: 0, nseconds: 0 },
            }),
        })
    }

    fn create_session(
        &self,
        cx: &Cx<'_, '_>,
        a: CreateSessionArgs,
    ) -> Result<CreateSessionResOk, Nfsstat4> {
        let ch = |c: &ChannelAttrs4| vs::ChannelAttrs {
            header_pad_bytes: c.ca_headerpadsize,
            max_request_bytes: c.ca_maxrequestsize,
            max_response_bytes: c.ca_maxresponsesize,
            max_response_cached_bytes: c.ca_maxresponsesize_cached,
            max_ops: c.ca_maxoperations,
            max_requests: c.ca_maxrequests,
        };
        let out = |c: &vs::ChannelAttrs| ChannelAttrs4 {
            ca_headerpadsize: c.header_pad_bytes,
            ca_maxrequestsize: c.max_request_bytes,
            ca_maxresponsesize: c.max_response_bytes,
            ca_maxresponsesize_cached: c.max_response_cached_bytes,
            ca_maxoperations: c.max_ops,
            ca_maxrequests: c.max_requests,
            ca_rdma_ird: None,
        };
        let args = vs::CreateSessionArgs {
            client: ClientId(a.csa_clientid),
            sequence: a.csa_sequence,
            flags: a.csa_flags,
            fore: ch(&a.csa_fore_chan_attrs),
            back: ch(&a.csa_back_chan_attrs),
        };
        let ok = self
            .v4
            .state
            .lock()
            .create_session(&args, &principal(cx), conn(cx), cx.now)
            .map_err(|e| st_err(&e))?;
        Ok(CreateSessionResOk {
            csr_sessionid: ok.session.0,
            csr_sequence: ok.sequence,
            csr_flags: ok.flags,
            csr_fore_chan_attrs: out(&ok.fore),
            csr_back_chan_attrs: out(&ok.back),
        })
    }

    /// SEQUENCE (RFC 8881 §18.46): admits the COMPOUND into its slot, or
    /// answers a retransmission with the cached reply.
    pub(crate) async fn op_sequence(
        &self,
        cx: &mut Cx<'_, '_>,
        a: SequenceArgs,
        numops: u32,
    ) -> Dispatch {
        let args = vs::SequenceArgs {
            session: SessionId(a.sa_sessionid),
            sequence: a.sa_sequenceid,
            slot: a.sa_slotid,
            highest_slot: a.sa_highest_slotid,
            cache_this: a.sa_cachethis,
            ops: numops,
            request_bytes: cx.request_bytes,
            // COMPOUND header with an empty tag plus SEQUENCE's result
            reply_min_bytes: 12 + 4 + 4 + 16 + 20,
            args_hash: cx.args_hash,
        };
        let r = self.v4.state.lock().sequence(&args, conn(cx), cx.now);
        match r {
            Ok(vs::SequenceOutcome::Replay(bytes)) => Dispatch::Replay(bytes),
            Ok(vs::SequenceOutcome::Execute(ok)) => {
                let res = SequenceResOk {
                    sr_sessionid: a.sa_sessionid,
                    sr_sequenceid: a.sa_sequenceid,
                    sr_slotid: a.sa_slotid,
                    sr_highest_slotid: ok.highest_slot,
                    sr_target_highest_slotid: ok.target_highest_slot,
                    sr_status_flags: ok.status_flags,
                };
                cx.session = Some(SeqInfo {
                    ticket: ok.ticket,
                    client: ok.client,
                    reply_max_bytes: ok.reply_max_bytes,
                    cache_this: a.sa_cachethis,
                });
                Dispatch::Res(Box::new(ResOp::Sequence(NfsRes4::Ok(res))))
            }
            Err(e) => Dispatch::Res(Box::new(ResOp::Sequence(NfsRes4::Err(st_err(&e))))),
        }
    }

    /// Store the reply of a COMPOUND that began with SEQUENCE in its slot;
    /// a reply over the session's limit becomes REP_TOO_BIG(_TO_CACHE) at
    /// the operation that made it so (RFC 8881 §2.10.6.4).
    pub(crate) fn finish_sequence(
        &self,
        seq: SeqInfo,
        body: Vec<u8>,
        res: &CompoundRes,
    ) -> Vec<u8> {
        let body = if body.len() > seq.reply_max_bytes as usize && res.resarray.len() > 1 {
            let mut res = res.clone();
            // keep SEQUENCE, fail the last operation
            let last = res.resarray.len() - 1;
            let op = res.resarray[last].opnum();
            let status =
                if seq.cache_this { Nfsstat4::RepTooBigToCache } else { Nfsstat4::RepTooBig };
            res.resarray[last] = ResOp::from_status(op, status);
            res.status = status;
            to_bytes(&res)
        } else {
            body
        };
        self.v4.state.lock().sequence_done(seq.ticket, Some(body.clone()));
        body
    }

    /// The stateid of a READ, WRITE or SETATTR may be used on `file`.
    pub(crate) fn check_io(
        &self,
        cx: &Cx<'_, '_>,
        stateid: &Stateid4,
        file: FileRef,
        write: bool,
    ) -> Result<(), Nfsstat4> {
        self.check_io_kind(cx, stateid, file, if write { IoKind::Write } else { IoKind::Read })
    }

    pub(crate) fn check_io_kind(
        &self,
        cx: &Cx<'_, '_>,
        stateid: &Stateid4,
        file: FileRef,
        kind: IoKind,
    ) -> Result<(), Nfsstat4> {
        let sid = self.resolve_sid(cx, stateid)?;
        let caller = self.caller(cx);
        self.v4
            .state
            .lock()
            .check_io(caller, &sid, key(file), kind, cx.now)
            .map(|_| ())
            .map_err(|e| st_err(&e))
    }

    /// Begin a seqid-ordered operation of an open-owner; `Err` is the
    /// operation's result (a replay or an error).
    fn begin_owner(
        &self,
        cx: &Cx<'_, '_>,
        client: u64,
        owner: &[u8],
        seqid: u32,
    ) -> Result<SeqTicket, Result<Vec<u8>, Nfsstat4>> {
        let caller = self.caller(cx);
        let client = match &cx.session {
            Some(s) if cx.minor >= 1 => s.client,
            _ => ClientId(client),
        };
        match self.v4.state.lock().open_owner_begin(caller, client, owner, seqid, cx.now) {
            Ok(Sequenced::Execute(t)) => Ok(t),
            Ok(Sequenced::Replay(bytes)) => Err(Ok(bytes.as_ref().clone())),
            Err(e) => Err(Err(st_err(&e))),
        }
    }

    fn begin_stateid(
        &self,
        cx: &Cx<'_, '_>,
        sid: &StateId,
        seqid: u32,
    ) -> Result<SeqTicket, Result<Vec<u8>, Nfsstat4>> {
        let caller = self.caller(cx);
        match self.v4.state.lock().stateid_begin(caller, sid, seqid, cx.now) {
            Ok(Sequenced::Execute(t)) => Ok(t),
            Ok(Sequenced::Replay(bytes)) => Err(Ok(bytes.as_ref().clone())),
            Err(e) => Err(Err(st_err(&e))),
        }
    }

    /// End a seqid-ordered operation: remember its result for replays.
    fn finish(&self, t: SeqTicket, r: ResOp, err: Option<&StateError>) -> ResOp {
        let advance = match err {
            None => r.status() == Nfsstat4::Ok || advances(r.status()),
            Some(e) => e.advances_seqid(),
        };
        self.v4.state.lock().seqid_finish(t, advance, to_bytes(&r));
        r
    }

    /// OPEN (RFC 7530 §16.16, RFC 8881 §18.16).
    async fn open(&self, cx: &mut Cx<'_, '_>, a: OpenArgs) -> ResOp {
        let fail = |s| ResOp::Open(NfsRes4::Err(s));
        // the current filehandle: the directory (CLAIM_NULL), or the file
        let fh = match self.cur(cx) {
            Ok(f) => f,
            Err(s) => return fail(s),
        };
        let claim = match &a.claim {
            OpenClaim4::Null(_) | OpenClaim4::Fh => vs::OpenClaim::Null,
            OpenClaim4::Previous(_) => vs::OpenClaim::Previous,
            // no delegations were granted, so none can be claimed
            OpenClaim4::DelegateCur(_) | OpenClaim4::DelegCurFh(_) => {
                return fail(Nfsstat4::BadStateid)
            }
            OpenClaim4::DelegatePrev(_) | OpenClaim4::DelegPrevFh => {
                return fail(Nfsstat4::ReclaimBad)
            }
        };
        if cx.minor == 0 && matches!(a.claim, OpenClaim4::Fh) {
            return fail(Nfsstat4::Inval);
        }
        let t = match self.begin_owner(cx, a.owner.clientid, &a.owner.owner, a.seqid) {
            Ok(t) => t,
            Err(Ok(bytes)) => return replayed(bytes, Opnum4::Open),
            Err(Err(s)) => return fail(s),
        };
        let sargs = vs::OpenArgs { access: a.share_access, deny: a.share_deny, claim };
        let check = self.v4.state.lock().open_check(&t, &sargs, cx.now);
        if let Err(e) = check {
            return self.finish(t, fail(st_err(&e)), Some(&e));
        }
        let r = self.open_file(cx, &a, fh).await;
        let (export, file, cinfo, attrset) = match r {
            Ok(v) => v,
            Err(s) => return self.finish(t, fail(s), None),
        };
        let result = self.v4.state.lock().open(&t, &sargs, key(file), cx.now);
        match result {
            Ok(ok) => {
                if ok.stateid.seqid == 1 {
                    // a new open (not an upgrade of this owner's): CLOSE releases it
                    self.fs.hold(file);
                }
                let mut rflags = OPEN4_RESULT_LOCKTYPE_POSIX;
                if ok.confirm_required {
                    rflags |= OPEN4_RESULT_CONFIRM;
                }
                // RFC 8881 §18.16.3: a 4.1 client that said what it wants
                // hears why it gets no delegation
                let delegation = match ok.want & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK {
                    0 => OpenDelegation4::None,
                    _ if cx.minor == 0 => OpenDelegation4::None,
                    0x0400 => OpenDelegation4::NoneExt(OpenNoneDelegation4::Other(
                        WhyNoDelegation4::NotWanted,
                    )),
                    0x0500 => OpenDelegation4::NoneExt(OpenNoneDelegation4::Other(
                        WhyNoDelegation4::Cancelled,
                    )),
                    _ => OpenDelegation4::NoneExt(OpenNoneDelegation4::Resource(false)),
                };
                cx.cur = Some(Fh::File { export, file });
                let stateid = sid_out(ok.stateid);
                cx.cur_stateid = Some(stateid);
                let r = ResOp::Open(NfsRes4::Ok(OpenResOk {
                    stateid,
                    cinfo,
                    rflags,
                    attrset,
                    delegation,
                }));
                self.finish(t, r, None)
            }
            Err(e) => self.finish(t, fail(st_err(&e)), Some(&e)),
        }
    }

    /// Find or create the file an OPEN names; checks type and permission.
    async fn open_file(
        &self,
        cx: &Cx<'_, '_>,
        a: &OpenArgs,
        fh: Fh,
    ) -> Result<(u8, FileRef, ChangeInfo4, Bitmap4), Nfsstat4> {
        let (export, cur) = match fh {
            Fh::File { export, file } => (export, file),
            Fh::Pseudo(_) => {
                return Err(match (&a.claim, &a.openhow) {
                    (_, Openflag4::Create(_)) => Nfsstat4::Rofs,
                    (OpenClaim4::Null(_), _) => Nfsstat4::Noent,
                    _ => Nfsstat4::Isdir,
                })
            }
        };
        let cred = self.cred(cx.call, export);
        let e = self.export(export).ok_or(Nfsstat4::Stale)?;
        let wants_write = a.share_access & OPEN4_SHARE_ACCESS_WRITE != 0;
        let cattr = self.fs.getattr(cur).await.map_err(|e| status4(&e))?;
        let (file, attr, cinfo, attrset, created) = match &a.claim {
            OpenClaim4::Null(name) => {
                match cattr.ftype {
                    FileType::Directory => {}
                    FileType::Symlink => return Err(Nfsstat4::Symlink),
                    _ => return Err(Nfsstat4::Notdir),
                }
                check_name(name).map_err(|s| {
                    if s == Nfsstat4::Badname && cx.minor == 0 {
                        Nfsstat4::Inval
                    } else {
                        s
                    }
                })?;
                let before = cattr.change;
                match &a.openhow {
                    Openflag4::NoCreate => {
                        let (f, at) =
                            self.fs.lookup(&cred, cur, name).await.map_err(|e| status4(&e))?;
                        (
                            f,
                            at,
                            ChangeInfo4 { atomic: false, before, after: before },
                            Bitmap4::new(),
                            false,
                        )
                    }
                    Openflag4::Create(how) => {
                        if e.rules.read_only {
                            return Err(Nfsstat4::Rofs);
                        }
                        let (fhow, mask, post) = match how {
                            Createhow4::Unchecked(f) | Createhow4::Guarded(f) => {
                                let (set, mask) = attrs::to_setattr(f, &self.v4.idmap)?;
                                let guarded = matches!(how, Createhow4::Guarded(_));
                                // a size asked of a new file is set after creating it
                                let post = set.size.map(|size| fsapi::SetAttr {
                                    size: Some(size),
                                    ..Default::default()
                                });
                                (
                                    if guarded {
                                        CreateHow::Guarded(set)
                                    } else {
                                        CreateHow::Unchecked(set)
                                    },
                                    mask,
                                    post,
                                )
                            }
                            Createhow4::Exclusive(v) => {
                                (CreateHow::Exclusive(*v), Bitmap4::new(), None)
                            }
                            Createhow4::Exclusive41(cva) => {
                                if cx.minor == 0 {
                                    return Err(Nfsstat4::Inval);
                                }
                                let (set, mask) =
                                    attrs::to_setattr(&cva.cva_attrs, &self.v4.idmap)?;
                                let allowed = Bitmap4::from_bits(attrs::SUPPATTR_EXCLCREAT);
                                if !mask.is_subset(&allowed) {
                                    return Err(Nfsstat4::Inval);
                                }
                                (CreateHow::Exclusive(cva.cva_verf), mask, Some(set))
                            }
                        };
                        let existed = self.fs.lookup(&cred, cur, name).await.ok();
                        // RFC 7530 §16.16.5: UNCHECKED4 on an existing file opens it;
                        // its attributes are ignored but for a size of 0 (truncate)
                        let fhow = match (fhow, &existed) {
                            (CreateHow::Unchecked(set), Some(_)) => {
                                CreateHow::Unchecked(fsapi::SetAttr {
                                    size: set.size.filter(|s| *s == 0),
                                    ..Default::default()
                                })
                            }
                            (how, _) => how,
                        };
                        let r =
                            self.fs.create(&cred, cur, name, fhow).await.map_err(|e| match e {
                                FsError::IsDir => Nfsstat4::Isdir,
                                e => status4(&e),
                            })?;
                        let (f, mut at) = r.value;
                        let created = existed.is_none();
                        if let (Some(set), true) = (post, created) {
                            if !set.is_empty() {
                                if let Ok(w) = self.fs.setattr(&cred, f, set, None).await {
                                    let _ = w;
                                    at = self.fs.getattr(f).await.map_err(|e| status4(&e))?;
                                }
                            }
                        }
                        let after = match &r.wcc.after {
                            Some(d) => d.change,
                            None => self.fs.getattr(cur).await.map(|a| a.change).unwrap_or(before),
                        };
                        (
                            f,
                            at,
                            ChangeInfo4 { atomic: false, before, after },
                            if created { mask } else { Bitmap4::new() },
                            created,
                        )
                    }
                }
            }
            OpenClaim4::Previous(_) | OpenClaim4::Fh => {
                if let Openflag4::Create(_) = a.openhow {
                    if matches!(a.claim, OpenClaim4::Fh) {
                        return Err(Nfsstat4::Inval);
                    }
                }
                (
                    cur,
                    cattr.clone(),
                    ChangeInfo4 { atomic: false, before: 0, after: 0 },
                    Bitmap4::new(),
                    false,
                )
            }
            _ => return Err(Nfsstat4::Inval),
        };
        match attr.ftype {
            FileType::Regular => {}
            FileType::Directory => return Err(Nfsstat4::Isdir),
            FileType::Symlink => return Err(Nfsstat4::Symlink),
            // RFC 8881 §18.16.3 WRONG_TYPE; 4.0 servers answer SYMLINK (as pynfs expects)
            _ => return Err(if cx.minor >= 1 { Nfsstat4::WrongType } else { Nfsstat4::Symlink }),
        }
        if wants_write && e.rules.read_only {
            return Err(Nfsstat4::Rofs);
        }
        if !created {
            // RFC 7530 §16.16.5: the caller needs read or write permission for
            // the access it asks (the owner may always open its own file,
            // as with READ/WRITE)
            let mut want = 0u32;
            if a.share_access & OPEN4_SHARE_ACCESS_READ != 0 {
                want |= ACCESS4_READ;
            }
            if wants_write {
                want |= ACCESS4_MODIFY;
            }
            let (allowed, _) = self
                .fs
                .access(&cred, file, fsapi::AccessMask(want))
                .await
                .map_err(|e| status4(&e))?;
            if allowed.0 & want != want && attr.uid != cred.uid {
                return Err(Nfsstat4::Access);
            }
        }
        // OPEN with a size of 0 truncates (UNCHECKED on an existing file)
        Ok((export, file, cinfo, attrset))
    }

    fn open_confirm(&self, cx: &mut Cx<'_, '_>, a: OpenConfirmArgs) -> ResOp {
        // the current stateid is not a thing in 4.0, the only version with OPEN_CONFIRM
        let (file, sid, t) =
            match self.begin_on_file(cx, &a.open_stateid, a.seqid, Opnum4::OpenConfirm, false) {
                Ok(v) => v,
                Err(r) => return *r,
            };
        let r = self.v4.state.lock().open_confirm(&t, &sid, key(file), cx.now);
        self.end_with_stateid(cx, t, r, Opnum4::OpenConfirm, |s| {
            ResOp::OpenConfirm(NfsRes4::Ok(OpenConfirmResOk { open_stateid: s }))
        })
    }

    fn open_downgrade(&self, cx: &mut Cx<'_, '_>, a: OpenDowngradeArgs) -> ResOp {
        let (file, sid, t) =
            match self.begin_on_file(cx, &a.open_stateid, a.seqid, Opnum4::OpenDowngrade, true) {
                Ok(v) => v,
                Err(r) => return *r,
            };
        let r = self.v4.state.lock().open_downgrade(
            &t,
            &sid,
            key(file),
            a.share_access,
            a.share_deny,
            cx.now,
        );
        self.end_with_stateid(cx, t, r, Opnum4::OpenDowngrade, |s| {
            ResOp::OpenDowngrade(NfsRes4::Ok(OpenDowngradeResOk { open_stateid: s }))
        })
    }

    async fn close(&self, cx: &mut Cx<'_, '_>, a: CloseArgs) -> ResOp {
        let (file, sid, t) =
            match self.begin_on_file(cx, &a.open_stateid, a.seqid, Opnum4::Close, true) {
                Ok(v) => v,
                Err(r) => return *r,
            };
        let r = self.v4.state.lock().close(&t, &sid, key(file), cx.now).map(|ok| ok.stateid);
        let res = self.end_with_stateid(cx, t, r, Opnum4::Close, |s| ResOp::Close(NfsRes4::Ok(s)));
        self.release_closed().await;
        res
    }

    /// Let the file system free files whose last open went away (CLOSE,
    /// expired clients), so a file removed while open is freed now.
    pub(crate) async fn release_closed(&self) {
        self.pass_on_lock_releases().await;
        let closed = self.v4.state.lock().take_closed_files();
        for k in closed {
            self.fs.release(file_ref(k)).await;
        }
    }

    async fn lock(&self, cx: &mut Cx<'_, '_>, a: LockArgs) -> ResOp {
        let fail = |s| ResOp::Lock(LockRes::Err(s));
        let file = match self.cur_file(cx, Nfsstat4::Isdir) {
            Ok((_, f)) => f,
            Err(s) => return fail(s),
        };
        match self.fs.getattr(file).await {
            Ok(at) if at.ftype == FileType::Regular => {}
            Ok(at) if at.ftype == FileType::Directory => return fail(Nfsstat4::Isdir),
            Ok(_) => return fail(Nfsstat4::Inval),
            Err(e) => return fail(status4(&e)),
        }
        let (lock_type, blocking) = match LockType::from_wire(a.locktype as u32) {
            Ok(v) => v,
            Err(e) => return fail(st_err(&e)),
        };
        let (t, locker) = match &a.locker {
            Locker4::OpenOwner(o) => {
                let sid = match self.resolve_sid(cx, &o.open_stateid) {
                    Ok(s) => s,
                    Err(s) => return fail(s),
                };
                let t = match self.begin_stateid(cx, &sid, o.open_seqid) {
                    Ok(t) => t,
                    Err(Ok(bytes)) => return replayed(bytes, Opnum4::Lock),
                    Err(Err(s)) => return fail(s),
                };
                (
                    t,
                    vs::Locker::New {
                        open_stateid: sid,
                        lock_owner_client: ClientId(o.lock_owner.clientid),
                        lock_owner: o.lock_owner.owner.clone(),
                        lock_seqid: o.lock_seqid,
                    },
                )
            }
            Locker4::LockOwner(l) => {
                let sid = match self.resolve_sid(cx, &l.lock_stateid) {
                    Ok(s) => s,
                    Err(s) => return fail(s),
                };
                let t = match self.begin_stateid(cx, &sid, l.lock_seqid) {
                    Ok(t) => t,
                    Err(Ok(bytes)) => return replayed(bytes, Opnum4::Lock),
                    Err(Err(s)) => return fail(s),
                };
                (t, vs::Locker::Existing { lock_stateid: sid })
            }
        };
        let args = vs::LockArgs {
            file: key(file),
            lock_type,
            blocking,
            reclaim: a.reclaim,
            offset: a.offset,
            length: a.length,
            locker,
        };
        let checked = self.v4.state.lock().lock_check(&t, &args, cx.now);
        let r = match checked {
            Ok(plan) => match self.lock_in_cluster(&args, file, &plan, &t, cx.now).await {
                Ok(r) => r,
                Err(e) => return self.finish(t, fail(status4(&e)), None),
            },
            Err(e) => Err(e),
        };
        match r {
            Ok(s) => {
                let s = sid_out(s);
                cx.cur_stateid = Some(s);
                self.finish(t, ResOp::Lock(LockRes::Ok(LockResOk { lock_stateid: s })), None)
            }
            Err(StateError::Denied(d)) => {
                let e = StateError::Denied(d.clone());
                self.finish(t, ResOp::Lock(LockRes::Denied(lock_denied(&d))), Some(&e))
            }
            Err(e) => self.finish(t, fail(st_err(&e)), Some(&e)),
        }
    }

    /// LOCK after the local checks passed: the cluster arbitrates against
    /// the other nodes' clients, then the local state commits. When the
    /// commit fails after the cluster granted (or the cluster's answer is
    /// unknown), the cluster is set back to what this owner holds here. The
    /// outer error is the cluster's (unreachable, ...), the inner result
    /// LOCK's.
    async fn lock_in_cluster(
        &self,
        args: &vs::LockArgs,
        file: FileRef,
        plan: &vs::LockPlan,
        t: &SeqTicket,
        now: std::time::Instant,
    ) -> Result<Result<StateId, StateError>, FsError> {
        let _serial = self.v4.cluster_locks.lock().await;
        self.pass_on_locked().await?;
        let end = match vs::range_end(args.offset, args.length) {
            Ok(e) => e,
            Err(e) => return Ok(Err(e)),
        };
        let acquire = |start, end, write| ClusterLockOp::Acquire {
            file,
            client: plan.client.0,
            owner: plan.owner.clone(),
            start,
            end,
            write,
            test: false,
        };
        let write = args.lock_type == LockType::Write;
        let r = match self.fs.cluster_lock(acquire(args.offset, end, write)).await {
            Ok(ClusterLockAnswer::Denied(h)) => {
                return Ok(Err(StateError::Denied(cluster_denied(h))))
            }
            Ok(ClusterLockAnswer::Granted) => Ok(self.v4.state.lock().lock(t, args, now)),
            // perhaps applied all the same (an unknown outcome)
            Err(e) => Err(e),
        };
        if !matches!(r, Ok(Ok(_))) {
            let release = ClusterLockOp::Release {
                file,
                client: plan.client.0,
                owner: plan.owner.clone(),
                start: args.offset,
                end,
            };
            let held = self.v4.state.lock().owner_locks(plan.client, &plan.owner, key(file));
            let mut back = vec![release];
            for (s, e, ty) in held {
                if s <= end && args.offset <= e {
                    back.push(acquire(s.max(args.offset), e.min(end), ty == LockType::Write));
                }
            }
            for op in back {
                if let Err(e) = self.fs.cluster_lock(op).await {
                    tracing::warn!(error = %e, "could not set a cluster lock back after a failed LOCK");
                }
            }
        }
        r
    }

    /// Pass the locks this server released on to the cluster, in order.
    pub(crate) async fn pass_on_lock_releases(&self) {
        let _serial = self.v4.cluster_locks.lock().await;
        if let Err(e) = self.pass_on_locked().await {
            tracing::warn!(error = %e, "lock releases not passed on to the cluster yet");
        }
    }

    /// [`Self::pass_on_lock_releases`] with `cluster_locks` held; what
    /// failed goes back to the queue (retried by the next one).
    async fn pass_on_locked(&self) -> Result<(), FsError> {
        let mut todo = self.v4.state.lock().take_released_locks().into_iter();
        while let Some(r) = todo.next() {
            let op = match &r {
                vs::LockRelease::Range { file, client, owner, start, end } => {
                    ClusterLockOp::Release {
                        file: file_ref(*file),
                        client: client.0,
                        owner: owner.clone(),
                        start: *start,
                        end: *end,
                    }
                }
                vs::LockRelease::Owner { client, owner } => {
                    ClusterLockOp::ReleaseOwner { client: client.0, owner: owner.clone() }
                }
                vs::LockRelease::Client(c) => ClusterLockOp::ReleaseClient { client: c.0 },
            };
            if let Err(e) = self.fs.cluster_lock(op).await {
                if matches!(e, FsError::Invalid(_) | FsError::Stale | FsError::NotFound) {
                    // refused for good: retrying cannot help
                    tracing::warn!(error = %e, release = ?r, "the cluster refused a lock release");
                    continue;
                }
                let mut back = vec![r];
                back.extend(todo);
                self.v4.state.lock().return_released_locks(back);
                return Err(e);
            }
        }
        Ok(())
    }

    async fn lockt(&self, cx: &Cx<'_, '_>, a: LocktArgs) -> LocktRes {
        let file = match self.cur_file(cx, Nfsstat4::Isdir) {
            Ok((_, f)) => f,
            Err(s) => return LocktRes::Err(s),
        };
        match self.fs.getattr(file).await {
            Ok(at) if at.ftype == FileType::Regular => {}
            Ok(at) if at.ftype == FileType::Directory => return LocktRes::Err(Nfsstat4::Isdir),
            Ok(_) => return LocktRes::Err(Nfsstat4::Inval),
            Err(e) => return LocktRes::Err(status4(&e)),
        }
        let (lock_type, _) = match LockType::from_wire(a.locktype as u32) {
            Ok(v) => v,
            Err(e) => return LocktRes::Err(st_err(&e)),
        };
        let caller = self.caller(cx);
        let client = caller.session_client.unwrap_or(ClientId(a.owner.clientid));
        let r = self.v4.state.lock().lockt(
            caller,
            client,
            &a.owner.owner,
            key(file),
            lock_type,
            a.offset,
            a.length,
            cx.now,
        );
        let r = match r {
            Ok(()) => {
                // releases not passed on yet must not show as conflicts
                self.pass_on_lock_releases().await;
                let test = ClusterLockOp::Acquire {
                    file,
                    client: client.0,
                    owner: a.owner.owner.clone(),
                    start: a.offset,
                    end: vs::range_end(a.offset, a.length).unwrap_or(u64::MAX),
                    write: lock_type == LockType::Write,
                    test: true,
                };
                match self.fs.cluster_lock(test).await {
                    Ok(ClusterLockAnswer::Granted) => Ok(()),
                    Ok(ClusterLockAnswer::Denied(h)) => Err(StateError::Denied(cluster_denied(h))),
                    Err(e) => return LocktRes::Err(status4(&e)),
                }
            }
            Err(e) => Err(e),
        };
        match r {
            Ok(()) => LocktRes::Ok,
            Err(StateError::Denied(d)) => LocktRes::Denied(lock_denied(&d)),
            Err(e) => LocktRes::Err(st_err(&e)),
        }
    }

    async fn locku(&self, cx: &mut Cx<'_, '_>, a: LockuArgs) -> ResOp {
        if let Err(e) = LockType::from_wire(a.locktype as u32) {
            return ResOp::Locku(NfsRes4::Err(st_err(&e)));
        }
        let (file, sid, t) =
            match self.begin_on_file(cx, &a.lock_stateid, a.seqid, Opnum4::Locku, true) {
                Ok(v) => v,
                Err(r) => return *r,
            };
        let r = self.v4.state.lock().locku(&t, &sid, key(file), a.offset, a.length, cx.now);
        let res = self.end_with_stateid(cx, t, r, Opnum4::Locku, |s| ResOp::Locku(NfsRes4::Ok(s)));
        self.pass_on_lock_releases().await;
        res
    }

    /// The start of CLOSE, OPEN_CONFIRM, OPEN_DOWNGRADE and LOCKU: the current
    /// file, the stateid (the 4.1 current stateid resolved when `resolve`)
    /// and the owner's turn in its seqid order; or the operation's result
    /// at once (an error, or the 4.0 replay of its last reply).
    fn begin_on_file(
        &self,
        cx: &Cx<'_, '_>,
        stateid: &Stateid4,
        seqid: u32,
        op: Opnum4,
        resolve: bool,
    ) -> Result<(FileRef, StateId, SeqTicket), Box<ResOp>> {
        let fail = |s| Box::new(ResOp::from_status(op as u32, s));
        let (_, file) = self.cur_file(cx, Nfsstat4::Isdir).map_err(fail)?;
        let sid =
            if resolve { self.resolve_sid(cx, stateid).map_err(fail)? } else { sid_in(stateid) };
        match self.begin_stateid(cx, &sid, seqid) {
            Ok(t) => Ok((file, sid, t)),
            Err(Ok(bytes)) => Err(Box::new(replayed(bytes, op))),
            Err(Err(s)) => Err(fail(s)),
        }
    }

    /// The end of an operation whose result is a stateid: it becomes the
    /// COMPOUND's current stateid, and the reply is remembered for replays.
    fn end_with_stateid(
        &self,
        cx: &mut Cx<'_, '_>,
        t: SeqTicket,
        r: Result<StateId, StateError>,
        op: Opnum4,
        ok: impl FnOnce(Stateid4) -> ResOp,
    ) -> ResOp {
        match r {
            Ok(s) => {
                let s = sid_out(s);
                cx.cur_stateid = Some(s);
                self.finish(t, ok(s), None)
            }
            Err(e) => self.finish(t, ResOp::from_status(op as u32, st_err(&e)), Some(&e)),
        }
    }
}

/// The live file of a state manager's file key.
fn file_ref(k: FileKey) -> FileRef {
    FileRef {
        snapshot: fsapi::SnapshotId::LIVE,
        ino: fsapi::InodeId(k.ino),
        generation: fsapi::Generation(k.generation),
    }
}

/// LOCK4denied for a lock the cluster says is in the way.
fn cluster_denied(h: ClusterLockHolder) -> vs::LockDenied {
    vs::LockDenied {
        offset: h.start,
        length: if h.end == u64::MAX {
            u64::MAX
        } else {
            h.end.saturating_sub(h.start).saturating_add(1)
        },
        lock_type: if h.write { LockType::Write } else { LockType::Read },
        owner: vs::LockOwnerId { client: ClientId(h.client), owner: h.owner },
    }
}

/// RFC 7530 §9.1.7: the seqid advances on success and on every error
/// except these (which mean the request was not processed in order).
fn advances(s: Nfsstat4) -> bool {
    !matches!(
        s,
        Nfsstat4::StaleClientid
            | Nfsstat4::StaleStateid
            | Nfsstat4::BadStateid
            | Nfsstat4::BadSeqid
            | Nfsstat4::Badxdr
            | Nfsstat4::Resource
            | Nfsstat4::Nofilehandle
            | Nfsstat4::MinorVersMismatch
    )
}

/// A 4.0 replay: the cached encoded result of the operation.
fn replayed(bytes: Vec<u8>, op: Opnum4) -> ResOp {
    let mut d = nfs_proto::xdr::Decoder::new(&bytes);
    match <ResOp as nfs_proto::xdr::XdrDecode>::decode(&mut d) {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!(?op, "cached NFSv4.0 reply does not decode");
            ResOp::from_status(op as u32, Nfsstat4::Serverfault)
        }
    }
}
