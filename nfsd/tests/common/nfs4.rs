//! A blocking, wire-level NFSv4 client for the integration tests, built on
//! the RPC [`Client`] and the `nfs_proto::nfs4` types: COMPOUND (program
//! 100003, version 4, procedure 1) with AUTH_SYS, 4.0 client ids
//! (SETCLIENTID), 4.1 client ids and sessions (EXCHANGE_ID,
//! CREATE_SESSION, SEQUENCE on slot 0), and builders for the operations and
//! accessors for their results.
//!
//! Nothing here decides what a server should answer: the helpers send what
//! they are told and hand back the decoded `COMPOUND4res`; the tests assert.

use std::io;
use std::net::SocketAddr;

use nfs_proto::nfs4::attr::Fattr;
use nfs_proto::nfs4::*;
use nfs_proto::rpc::ReplyHeader;
use nfs_proto::xdr::to_bytes;

use super::{Client, Reply};

/// The callback program number the test clients announce (never called:
/// no back channel is bound).
pub const CB_PROGRAM: u32 = 0x4000_0000;

/// The 4.1 session of a [`V4Client`]: one fore-channel slot (0).
#[derive(Debug, Clone)]
pub struct Session {
    pub id: Sessionid4,
    /// The sequence id last used successfully on slot 0 (0: never used, so
    /// the first SEQUENCE sends 1, RFC 8881 §2.10.6.1).
    pub seqid: u32,
}

/// An NFSv4 client over one TCP connection.
pub struct V4Client {
    pub rpc: Client,
    /// Tag sent with every COMPOUND (echoed by the server).
    pub tag: Vec<u8>,
    /// 4.0 (SETCLIENTID) or 4.1 (EXCHANGE_ID) client id, once known.
    pub clientid: Clientid4,
    /// The 4.1 session, once created.
    pub session: Option<Session>,
}

impl V4Client {
    /// Connect with AUTH_SYS uid 0 gid 0.
    pub fn connect(addr: SocketAddr) -> V4Client {
        V4Client::new(Client::connect(addr))
    }

    pub fn new(rpc: Client) -> V4Client {
        V4Client { rpc, tag: b"cairn-test".to_vec(), clientid: 0, session: None }
    }

    /// Use AUTH_SYS with these ids from now on.
    pub fn auth(&mut self, uid: u32, gid: u32) -> &mut Self {
        self.rpc.auth(uid, gid, &[]);
        self
    }

    /// NFSPROC4_NULL.
    pub fn null(&mut self) -> io::Result<Reply> {
        self.rpc.call_raw(PROGRAM, VERSION, PROC_NULL, &[])
    }

    /// The encoded `COMPOUND4args` of `ops`.
    pub fn args(&self, minor: u32, ops: &[ArgOp]) -> Vec<u8> {
        to_bytes(&CompoundArgs {
            tag: self.tag.clone(),
            minorversion: minor,
            argarray: ops.to_vec(),
        })
    }

    /// One COMPOUND call with raw argument bytes.
    pub fn call_raw(&mut self, args: &[u8]) -> io::Result<Reply> {
        self.rpc.call_raw(PROGRAM, VERSION, PROC_COMPOUND, args)
    }

    /// One COMPOUND that must be accepted at the RPC level and decode.
    pub fn compound(&mut self, minor: u32, ops: &[ArgOp]) -> CompoundRes {
        let args = self.args(minor, ops);
        let r = self.call_raw(&args).unwrap_or_else(|e| panic!("COMPOUND {}: {e}", names(ops)));
        decode_compound(&r)
    }

    /// A 4.0 COMPOUND.
    pub fn c40(&mut self, ops: &[ArgOp]) -> CompoundRes {
        self.compound(0, ops)
    }

    /// A 4.0 COMPOUND whose every operation must succeed.
    pub fn c40_ok(&mut self, ops: &[ArgOp]) -> CompoundRes {
        let r = self.c40(ops);
        ok(&r, &names(ops));
        r
    }

    // ------------------------------------------------------------- 4.0 client id

    /// SETCLIENTID + SETCLIENTID_CONFIRM (RFC 7530 §16.33, §16.34); the
    /// confirmed client id is kept in `self.clientid`.
    pub fn setclientid(&mut self, id: &[u8]) -> Clientid4 {
        let r = self.c40(&[setclientid_op(id, [7; 8])]);
        let ok_ = match r.resarray.first() {
            Some(ResOp::Setclientid(SetclientidRes::Ok(ok))) => *ok,
            _ => panic!("SETCLIENTID: {}", describe(&r)),
        };
        self.c40_ok(&[ArgOp::SetclientidConfirm(SetclientidConfirmArgs {
            clientid: ok_.clientid,
            setclientid_confirm: ok_.setclientid_confirm,
        })]);
        self.clientid = ok_.clientid;
        ok_.clientid
    }

    // ------------------------------------------------------------- 4.1 session

    /// EXCHANGE_ID alone (RFC 8881 §18.35); the result.
    pub fn exchange_id(&mut self, owner: &[u8]) -> CompoundRes {
        self.compound(1, &[exchange_id_op(owner, [3; 8])])
    }

    /// CREATE_SESSION alone (RFC 8881 §18.36) for `clientid` with
    /// `sequence` (EXCHANGE_ID's `eir_sequenceid`).
    pub fn create_session(&mut self, clientid: Clientid4, sequence: u32) -> CompoundRes {
        self.compound(1, &[create_session_op(clientid, sequence)])
    }

    /// EXCHANGE_ID + CREATE_SESSION that must succeed; the session is kept
    /// and used by [`V4Client::seq`].
    pub fn open_session(&mut self, owner: &[u8]) {
        let r = self.exchange_id(owner);
        let eid = match r.resarray.first() {
            Some(ResOp::ExchangeId(NfsRes4::Ok(ok))) => ok.clone(),
            _ => panic!("EXCHANGE_ID: {}", describe(&r)),
        };
        let r = self.create_session(eid.eir_clientid, eid.eir_sequenceid);
        let cs = match r.resarray.first() {
            Some(ResOp::CreateSession(NfsRes4::Ok(ok))) => ok.clone(),
            _ => panic!("CREATE_SESSION: {}", describe(&r)),
        };
        self.clientid = eid.eir_clientid;
        self.session = Some(Session { id: cs.csr_sessionid, seqid: 0 });
    }

    /// [`V4Client::open_session`] then RECLAIM_COMPLETE (RFC 8881 §18.51),
    /// as a client does before its first non-reclaim OPEN.
    pub fn session41(&mut self, owner: &[u8]) {
        self.open_session(owner);
        self.seq_ok(vec![ArgOp::ReclaimComplete(ReclaimCompleteArgs { rca_one_fs: false })]);
    }

    /// The session id (panics without a session).
    pub fn sessionid(&self) -> Sessionid4 {
        self.session.as_ref().expect("a 4.1 session").id
    }

    /// The SEQUENCE that the next COMPOUND on slot 0 sends.
    pub fn next_sequence(&self, cachethis: bool) -> SequenceArgs {
        let s = self.session.as_ref().expect("a 4.1 session");
        SequenceArgs {
            sa_sessionid: s.id,
            sa_sequenceid: s.seqid.wrapping_add(1),
            sa_slotid: 0,
            sa_highest_slotid: 0,
            sa_cachethis: cachethis,
        }
    }

    /// Note that the SEQUENCE of `res` (sent with the next sequence id)
    /// succeeded, so the slot moved on.
    pub fn advance_if_sequenced(&mut self, res: &CompoundRes) {
        if matches!(res.resarray.first(), Some(ResOp::Sequence(NfsRes4::Ok(_)))) {
            let s = self.session.as_mut().expect("a 4.1 session");
            s.seqid = s.seqid.wrapping_add(1);
        }
    }

    /// A 4.1 COMPOUND: SEQUENCE (slot 0, next sequence id, cachethis
    /// `cachethis`) then `ops`.
    pub fn seq_with(&mut self, cachethis: bool, ops: Vec<ArgOp>) -> CompoundRes {
        let mut all = vec![ArgOp::Sequence(self.next_sequence(cachethis))];
        all.extend(ops);
        let r = self.compound(1, &all);
        self.advance_if_sequenced(&r);
        r
    }

    /// A 4.1 COMPOUND after SEQUENCE (cachethis false).
    pub fn seq(&mut self, ops: Vec<ArgOp>) -> CompoundRes {
        self.seq_with(false, ops)
    }

    /// A 4.1 COMPOUND whose every operation must succeed.
    pub fn seq_ok(&mut self, ops: Vec<ArgOp>) -> CompoundRes {
        let what = names(&ops);
        let r = self.seq(ops);
        ok(&r, &format!("SEQUENCE {what}"));
        r
    }

    // ------------------------------------------------------------- conveniences

    /// 4.1: OPEN in the directory reached by `dir` (PUTROOTFH, LOOKUPs),
    /// then GETFH; must succeed. Returns the OPEN result and the handle.
    pub fn open41(&mut self, dir: &[&str], open: OpenArgs) -> (OpenResOk, NfsFh4) {
        let mut ops = path_ops(dir);
        ops.push(ArgOp::Open(open));
        ops.push(ArgOp::Getfh);
        let r = self.seq_ok(ops);
        (open_ok(&r), getfh_ok(&r))
    }
}

// ------------------------------------------------------------------ reply decoding

/// Decode a COMPOUND reply: accepted, `COMPOUND4res`, nothing left over.
pub fn decode_compound(r: &Reply) -> CompoundRes {
    assert!(
        matches!(r.header, ReplyHeader::Success { .. }),
        "COMPOUND not accepted at the RPC level: {:?}",
        r.header
    );
    nfs_proto::xdr::from_bytes(&r.body)
        .unwrap_or_else(|e| panic!("COMPOUND4res does not decode ({e}): {:02x?}", r.body))
}

/// A one-line account of a COMPOUND reply: status and per-operation results.
pub fn describe(r: &CompoundRes) -> String {
    let ops: Vec<String> =
        r.resarray.iter().map(|o| format!("{}={:?}", op_name(o.opnum()), o.status())).collect();
    format!("status {:?} [{}]", r.status, ops.join(", "))
}

/// Panic unless every operation of `r` succeeded.
pub fn ok(r: &CompoundRes, what: &str) {
    assert!(
        r.status == Nfsstat4::Ok && r.resarray.iter().all(|o| o.status() == Nfsstat4::Ok),
        "{what}: {}",
        describe(r)
    );
}

fn op_name(n: u32) -> String {
    match Opnum4::from_u32(n) {
        Some(op) => format!("{op:?}").to_uppercase(),
        None => format!("op{n}"),
    }
}

/// The names of `ops`, for messages.
pub fn names(ops: &[ArgOp]) -> String {
    ops.iter().map(|o| op_name(o.opnum())).collect::<Vec<_>>().join("+")
}

/// The first result `f` picks out; panics (with the reply) if none.
pub fn pick<T>(r: &CompoundRes, what: &str, f: impl Fn(&ResOp) -> Option<T>) -> T {
    r.resarray.iter().find_map(f).unwrap_or_else(|| panic!("no successful {what}: {}", describe(r)))
}

/// The attributes of the last successful GETATTR.
pub fn attrs_ok(r: &CompoundRes) -> Fattr {
    let f = r
        .resarray
        .iter()
        .rev()
        .find_map(|o| match o {
            ResOp::Getattr(NfsRes4::Ok(ok)) => Some(ok.obj_attributes.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no successful GETATTR: {}", describe(r)));
    Fattr::decode_fattr4(&f).unwrap_or_else(|e| panic!("GETATTR fattr4: {e:?}"))
}

/// The handle of the last successful GETFH.
pub fn getfh_ok(r: &CompoundRes) -> NfsFh4 {
    r.resarray
        .iter()
        .rev()
        .find_map(|o| match o {
            ResOp::Getfh(NfsRes4::Ok(ok)) => Some(ok.object.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no successful GETFH: {}", describe(r)))
}

pub fn open_ok(r: &CompoundRes) -> OpenResOk {
    pick(r, "OPEN", |o| match o {
        ResOp::Open(NfsRes4::Ok(ok)) => Some(ok.clone()),
        _ => None,
    })
}

pub fn read_ok(r: &CompoundRes) -> ReadResOk {
    pick(r, "READ", |o| match o {
        ResOp::Read(NfsRes4::Ok(ok)) => Some(ok.clone()),
        _ => None,
    })
}

pub fn write_ok(r: &CompoundRes) -> WriteResOk {
    pick(r, "WRITE", |o| match o {
        ResOp::Write(NfsRes4::Ok(ok)) => Some(*ok),
        _ => None,
    })
}

pub fn readdir_ok(r: &CompoundRes) -> ReaddirResOk {
    pick(r, "READDIR", |o| match o {
        ResOp::Readdir(NfsRes4::Ok(ok)) => Some(ok.clone()),
        _ => None,
    })
}

/// The result of the last operation (the failing one when the COMPOUND failed).
pub fn last(r: &CompoundRes) -> &ResOp {
    r.resarray.last().unwrap_or_else(|| panic!("no results: {}", describe(r)))
}

// ------------------------------------------------------------------ operation builders

/// PUTROOTFH then one LOOKUP per component.
pub fn path_ops(path: &[&str]) -> Vec<ArgOp> {
    let mut ops = vec![ArgOp::Putrootfh];
    ops.extend(path.iter().map(|c| lookup(c)));
    ops
}

pub fn lookup(name: &str) -> ArgOp {
    ArgOp::Lookup(LookupArgs { objname: name.as_bytes().to_vec() })
}

pub fn putfh(fh: &NfsFh4) -> ArgOp {
    ArgOp::Putfh(PutfhArgs { object: fh.clone() })
}

pub fn getattr(bits: &[u32]) -> ArgOp {
    ArgOp::Getattr(GetattrArgs { attr_request: Bitmap4::from_bits(bits) })
}

pub fn remove(name: &str) -> ArgOp {
    ArgOp::Remove(RemoveArgs { target: name.as_bytes().to_vec() })
}

pub fn read(stateid: Stateid4, offset: u64, count: u32) -> ArgOp {
    ArgOp::Read(ReadArgs { stateid, offset, count })
}

pub fn write(stateid: Stateid4, offset: u64, data: &[u8]) -> ArgOp {
    ArgOp::Write(WriteArgs { stateid, offset, stable: StableHow4::FileSync, data: data.to_vec() })
}

pub fn close(seqid: u32, open_stateid: Stateid4) -> ArgOp {
    ArgOp::Close(CloseArgs { seqid, open_stateid })
}

/// CREATE of a directory with `mode`.
pub fn mkdir(name: &str, mode: u32) -> ArgOp {
    ArgOp::Create(CreateArgs {
        objtype: Createtype4::Dir,
        objname: name.as_bytes().to_vec(),
        createattrs: Fattr { mode: Some(mode), ..Fattr::default() }.to_fattr4(),
    })
}

pub fn owner(clientid: Clientid4, name: &str) -> StateOwner4 {
    StateOwner4 { clientid, owner: name.as_bytes().to_vec() }
}

/// OPEN, CLAIM_NULL `name`, creating it UNCHECKED4 with `mode` if absent.
pub fn open_create(
    seqid: u32,
    owner: StateOwner4,
    name: &str,
    access: u32,
    deny: u32,
    mode: u32,
) -> OpenArgs {
    OpenArgs {
        seqid,
        share_access: access,
        share_deny: deny,
        owner,
        openhow: Openflag4::Create(Createhow4::Unchecked(
            Fattr { mode: Some(mode), ..Fattr::default() }.to_fattr4(),
        )),
        claim: OpenClaim4::Null(name.as_bytes().to_vec()),
    }
}

/// OPEN, CLAIM_NULL `name`, no create.
pub fn open_existing(
    seqid: u32,
    owner: StateOwner4,
    name: &str,
    access: u32,
    deny: u32,
) -> OpenArgs {
    OpenArgs {
        seqid,
        share_access: access,
        share_deny: deny,
        owner,
        openhow: Openflag4::NoCreate,
        claim: OpenClaim4::Null(name.as_bytes().to_vec()),
    }
}

/// LOCK for a lock owner new to the server (`open_to_lock_owner4`).
pub fn lock_new(
    locktype: NfsLockType4,
    offset: u64,
    length: u64,
    open_stateid: Stateid4,
    lock_owner: StateOwner4,
) -> ArgOp {
    ArgOp::Lock(LockArgs {
        locktype,
        reclaim: false,
        offset,
        length,
        locker: Locker4::OpenOwner(OpenToLockOwner4 {
            open_seqid: 0,
            open_stateid,
            lock_seqid: 0,
            lock_owner,
        }),
    })
}

pub fn lockt(locktype: NfsLockType4, offset: u64, length: u64, owner: StateOwner4) -> ArgOp {
    ArgOp::Lockt(LocktArgs { locktype, offset, length, owner })
}

pub fn locku(locktype: NfsLockType4, lock_stateid: Stateid4, offset: u64, length: u64) -> ArgOp {
    ArgOp::Locku(LockuArgs { locktype, seqid: 0, lock_stateid, offset, length })
}

pub fn readdir(cookie: u64, cookieverf: Verifier4, maxcount: u32, bits: &[u32]) -> ArgOp {
    ArgOp::Readdir(ReaddirArgs {
        cookie,
        cookieverf,
        dircount: maxcount,
        maxcount,
        attr_request: Bitmap4::from_bits(bits),
    })
}

pub fn setclientid_op(id: &[u8], verifier: Verifier4) -> ArgOp {
    ArgOp::Setclientid(SetclientidArgs {
        client: NfsClientId4 { verifier, id: id.to_vec() },
        callback: CbClient4 {
            cb_program: CB_PROGRAM,
            cb_location: Netaddr4 {
                na_r_netid: b"tcp".to_vec(),
                na_r_addr: b"127.0.0.1.0.0".to_vec(),
            },
        },
        callback_ident: 1,
    })
}

pub fn exchange_id_op(owner: &[u8], verifier: Verifier4) -> ArgOp {
    ArgOp::ExchangeId(ExchangeIdArgs {
        eia_clientowner: ClientOwner4 { co_verifier: verifier, co_ownerid: owner.to_vec() },
        eia_flags: 0,
        eia_state_protect: StateProtect4A::None,
        eia_client_impl_id: None,
    })
}

pub fn create_session_op(clientid: Clientid4, sequence: u32) -> ArgOp {
    ArgOp::CreateSession(CreateSessionArgs {
        csa_clientid: clientid,
        csa_sequence: sequence,
        csa_flags: 0,
        csa_fore_chan_attrs: ChannelAttrs4 {
            ca_headerpadsize: 0,
            ca_maxrequestsize: (1 << 20) + 4096,
            ca_maxresponsesize: (1 << 20) + 4096,
            ca_maxresponsesize_cached: 64 * 1024,
            ca_maxoperations: 32,
            ca_maxrequests: 8,
            ca_rdma_ird: None,
        },
        csa_back_chan_attrs: ChannelAttrs4 {
            ca_headerpadsize: 0,
            ca_maxrequestsize: 4096,
            ca_maxresponsesize: 4096,
            ca_maxresponsesize_cached: 0,
            ca_maxoperations: 2,
            ca_maxrequests: 1,
            ca_rdma_ird: None,
        },
        csa_cb_program: CB_PROGRAM,
        csa_sec_parms: vec![CallbackSecParms4::AuthNone],
    })
}
