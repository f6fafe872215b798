//! NFSv4.0 and 4.1 over real TCP against the `cairn` binary, at the wire
//! level (COMPOUND built from `nfs_proto::nfs4`, see `common/nfs4.rs`):
//! COMPOUND structure errors, client ids and sessions, the pseudo root and
//! the export rules, opens, share reservations and byte-range locks, files
//! removed while open, READDIR paging, and garbage input.
//!
//! Each test states what a user or an administrator relies on and the RFC
//! clause that says so (RFC 7530 for 4.0, RFC 8881 for 4.1).

mod common;

use std::io::ErrorKind;

use common::nfs4::*;
use common::*;
use nfs_proto::nfs3::{Ftype3, NfsFh3, Nfsstat3};
use nfs_proto::nfs4::attr::*;
use nfs_proto::nfs4::*;
use nfs_proto::rpc::ReplyHeader;
use nfs_proto::xdr::Encoder;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The attributes the tests look at.
const BASIC: &[u32] = &[FATTR4_TYPE, FATTR4_CHANGE, FATTR4_FILEID, FATTR4_MODE, FATTR4_OWNER];

fn owner_of(r: &CompoundRes) -> (String, String) {
    let a = attrs_ok(r);
    let s = |v: Option<Vec<u8>>| String::from_utf8(v.expect("owner attribute")).expect("UTF-8");
    (s(a.owner), s(a.owner_group))
}

/// Make the directory `name` under "/" mode 0777 through NFSv3 in export
/// "/" (no squashing there), so that squashed users may create in it.
fn open_up_dir(s: &Server, name: &str) {
    let mut c3 = s.client();
    let root = c3.mount("/");
    let (d, _) = c3.lookup_ok(&root, name.as_bytes());
    assert_eq!(c3.setattr(&d, mode(0o777), None).status(), Nfsstat3::Ok);
}

// ------------------------------------------------------------------ 1. COMPOUND structure

/// Goal: a client probing the server gets an answer to NULL, and a COMPOUND
/// of a minor version the server does not serve is refused as a whole so the
/// client can fall back. RFC 7530 §15.1 (NULL: no arguments, no results);
/// RFC 8881 §16.2.3 and RFC 7530 §13.1.3.2: NFS4ERR_MINOR_VERS_MISMATCH with
/// the tag echoed and a zero-length result array.
#[test]
fn null_and_minor_version_mismatch() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    let r = c.null().expect("NULL");
    assert!(matches!(r.header, ReplyHeader::Success { .. }), "NULL: {:?}", r.header);
    assert!(r.body.is_empty(), "NULL has no results: {:02x?}", r.body);

    c.tag = b"minor-3".to_vec();
    let r = c.compound(3, &[ArgOp::Putrootfh, getattr(&[FATTR4_TYPE])]);
    assert_eq!(r.status, Nfsstat4::MinorVersMismatch, "{}", describe(&r));
    assert_eq!(r.tag, b"minor-3", "the tag is echoed");
    assert!(r.resarray.is_empty(), "no results with MINOR_VERS_MISMATCH: {}", describe(&r));

    // The minor versions served still work on the same connection.
    let r = c.c40_ok(&[ArgOp::Putrootfh, getattr(&[FATTR4_TYPE])]);
    assert_eq!(attrs_ok(&r).ftype, Some(NfsFtype4::Dir));
}

/// Goal: an operation number the server does not know ends the COMPOUND
/// with an ILLEGAL result after the results of the operations before it,
/// which did run. RFC 7530 §15.2 and §13.1.3.3, RFC 8881 §16.2.3 and §18.52:
/// the result carries opnum OP_ILLEGAL (10044) and NFS4ERR_OP_ILLEGAL,
/// whatever the opnum sent; nothing after it runs.
#[test]
fn unknown_opnum_is_op_illegal_after_earlier_results() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    for bad in [9999u32, 2, 0, 10044] {
        let r =
            c.c40(&[ArgOp::Putrootfh, ArgOp::Getfh, ArgOp::Illegal(bad), getattr(&[FATTR4_TYPE])]);
        assert_eq!(r.status, Nfsstat4::OpIllegal, "opnum {bad}: {}", describe(&r));
        assert_eq!(r.resarray.len(), 3, "opnum {bad}: stops at the illegal op: {}", describe(&r));
        assert_eq!(r.resarray[0], ResOp::Putrootfh(Nfsstat4::Ok));
        assert!(matches!(r.resarray[1], ResOp::Getfh(NfsRes4::Ok(_))), "{}", describe(&r));
        assert_eq!(r.resarray[2], ResOp::Illegal(Nfsstat4::OpIllegal));
        assert_eq!(r.resarray[2].opnum(), 10044, "encoded as OP_ILLEGAL");
    }
}

/// Goal: an operation whose arguments are cut short or malformed is answered
/// NFS4ERR_BADXDR after the results of the operations before it, and the
/// connection stays usable. RFC 7530 §13.1.1.1 (BADXDR "includes situations
/// in which the request ends before all the arguments have been seen" and
/// enum values that are not valid); RFC 8881 §16.2.3 (results up to the
/// failing operation). RFC 7530 also allows an RPC-level GARBAGE_ARGS for a
/// pre-parsing server; Cairn decodes operation by operation (nfs_proto
/// `ArgOp::decode_for_minor`) and this test holds it to that.
#[test]
fn truncated_or_malformed_operation_is_badxdr() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());

    // GETATTR announcing a two-word bitmap, with only one word sent.
    let two_words = Bitmap4::from_bits(&[FATTR4_TYPE, FATTR4_MODE]);
    assert_eq!(two_words.0.len(), 2);
    let mut args =
        c.args(0, &[ArgOp::Putrootfh, ArgOp::Getattr(GetattrArgs { attr_request: two_words })]);
    args.truncate(args.len() - 4);
    let r = decode_compound(&c.call_raw(&args).expect("COMPOUND"));
    assert_eq!(r.status, Nfsstat4::Badxdr, "{}", describe(&r));
    assert_eq!(
        r.resarray,
        vec![ResOp::Putrootfh(Nfsstat4::Ok), ResOp::Getattr(NfsRes4::Err(Nfsstat4::Badxdr))],
    );

    // CREATE whose createtype4 is not an nfs_ftype4 value (99).
    let prefix = c.args(0, &[ArgOp::Putrootfh]).len();
    let mut args = c.args(0, &[ArgOp::Putrootfh, mkdir("never", 0o755)]);
    args[prefix + 4..prefix + 8].copy_from_slice(&99u32.to_be_bytes());
    let r = decode_compound(&c.call_raw(&args).expect("COMPOUND"));
    assert_eq!(r.status, Nfsstat4::Badxdr, "{}", describe(&r));
    assert_eq!(
        r.resarray,
        vec![ResOp::Putrootfh(Nfsstat4::Ok), ResOp::Create(NfsRes4::Err(Nfsstat4::Badxdr))],
    );

    // A COMPOUND announcing more operations than it holds.
    let mut args = c.args(0, &[ArgOp::Putrootfh, ArgOp::Getfh]);
    let numops_at = prefix - 8;
    args[numops_at..numops_at + 4].copy_from_slice(&3u32.to_be_bytes());
    args.extend_from_slice(&[0, 0, 0]); // not even a whole opnum
    let r = c.call_raw(&args).expect("COMPOUND");
    if matches!(r.header, ReplyHeader::Success { .. }) {
        let r = decode_compound(&r);
        assert_eq!(r.status, Nfsstat4::Badxdr, "{}", describe(&r));
    } else {
        assert!(matches!(r.header, ReplyHeader::GarbageArgs { .. }), "{:?}", r.header);
    }

    c.c40_ok(&[ArgOp::Putrootfh, ArgOp::Getfh]);
}

/// Goal: a 4.1 COMPOUND that does not start with SEQUENCE (and is not one
/// of the session-free operations alone) is refused at its first operation.
/// RFC 8881 §2.10.6 and §18.46.3: NFS4ERR_OP_NOT_IN_SESSION.
#[test]
fn v41_compound_without_sequence_is_op_not_in_session() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    let r = c.compound(1, &[ArgOp::Putrootfh, getattr(&[FATTR4_TYPE])]);
    assert_eq!(r.status, Nfsstat4::OpNotInSession, "{}", describe(&r));
    assert_eq!(r.resarray, vec![ResOp::Putrootfh(Nfsstat4::OpNotInSession)]);
}

// ------------------------------------------------------------------ 2. 4.1 sessions

/// Goal: a 4.1 client can establish itself and read the root's attributes,
/// which are those NFSv3 shows for the same directory. RFC 8881 §18.35
/// (EXCHANGE_ID), §18.36 (CREATE_SESSION: `csr_sequence` echoes
/// `csa_sequence`), §18.46 (SEQUENCE), §18.51 (RECLAIM_COMPLETE; a second
/// one is NFS4ERR_COMPLETE_ALREADY), §5.6 and §5.9 (attributes, numeric
/// owner strings).
#[test]
fn v41_session_setup_and_root_attributes() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    let r = c.exchange_id(b"cairn-test-session-setup");
    let eid = match &r.resarray[..] {
        [ResOp::ExchangeId(NfsRes4::Ok(ok))] => ok.clone(),
        _ => panic!("EXCHANGE_ID: {}", describe(&r)),
    };
    let r = c.create_session(eid.eir_clientid, eid.eir_sequenceid);
    let cs = match &r.resarray[..] {
        [ResOp::CreateSession(NfsRes4::Ok(ok))] => ok.clone(),
        _ => panic!("CREATE_SESSION: {}", describe(&r)),
    };
    assert_eq!(cs.csr_sequence, eid.eir_sequenceid, "csr_sequence echoes csa_sequence");
    assert!(cs.csr_fore_chan_attrs.ca_maxrequests >= 1, "{:?}", cs.csr_fore_chan_attrs);
    c.clientid = eid.eir_clientid;
    c.session = Some(Session { id: cs.csr_sessionid, seqid: 0 });

    let r = c.seq(vec![ArgOp::ReclaimComplete(ReclaimCompleteArgs { rca_one_fs: false })]);
    ok(&r, "RECLAIM_COMPLETE");
    match &r.resarray[0] {
        ResOp::Sequence(NfsRes4::Ok(sr)) => {
            assert_eq!(sr.sr_sessionid, cs.csr_sessionid);
            assert_eq!((sr.sr_sequenceid, sr.sr_slotid), (1, 0));
        }
        other => panic!("SEQUENCE: {other:?}"),
    }
    let r = c.seq(vec![ArgOp::ReclaimComplete(ReclaimCompleteArgs { rca_one_fs: false })]);
    assert_eq!(r.status, Nfsstat4::CompleteAlready, "{}", describe(&r));

    let r = c.seq_ok(vec![ArgOp::Putrootfh, getattr(BASIC)]);
    let a = attrs_ok(&r);
    let mut c3 = s.client();
    let root3 = c3.mount("/");
    let a3 = c3.attr(&root3);
    assert_eq!(a3.ftype, Ftype3::Dir);
    assert_eq!(a.ftype, Some(NfsFtype4::Dir));
    assert_eq!(a.fileid, Some(a3.fileid), "fileid as NFSv3 shows it");
    assert_eq!(a.mode, Some(a3.mode & 0o7777), "mode as NFSv3 shows it");
    assert_eq!(a.owner, Some(a3.uid.to_string().into_bytes()), "numeric owner");
    assert!(a.change.is_some(), "change is a REQUIRED attribute");
}

/// Goal: a retransmitted request (same session, slot and sequence id) is not
/// executed again: with `sa_cachethis` the server answers with the reply it
/// cached, byte for byte, whether the retry comes with the same xid, a new
/// xid or over a new connection. RFC 8881 §2.10.6.1 (slot replay
/// detection), §2.10.6.1.3 (cached replies), §2.10.6.2 (retry over another
/// connection; SP4_NONE binds it on SEQUENCE, §2.10.3.1).
#[test]
fn v41_slot_replay_returns_cached_reply() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    c.session41(b"cairn-test-replay");
    // A non-idempotent request: executing it twice would answer NFS4ERR_EXIST.
    let sa = c.next_sequence(true);
    let args = c.args(
        1,
        &[
            ArgOp::Sequence(sa),
            ArgOp::Putrootfh,
            mkdir("made-once", 0o755),
            getattr(&[FATTR4_FILEID]),
        ],
    );
    let xid = c.rpc.xid();
    let first = c.rpc.call_raw_xid(xid, PROGRAM, VERSION, PROC_COMPOUND, &args).expect("COMPOUND");
    let r1 = decode_compound(&first);
    ok(&r1, "SEQUENCE+PUTROOTFH+CREATE+GETATTR");
    c.advance_if_sequenced(&r1);

    let again = c.rpc.call_raw_xid(xid, PROGRAM, VERSION, PROC_COMPOUND, &args).expect("retry");
    assert_eq!(
        again.body,
        first.body,
        "same xid: the cached reply, not {}",
        describe(&decode_compound(&again))
    );
    let retry = c.call_raw(&args).expect("retry");
    assert_eq!(
        retry.body,
        first.body,
        "new xid: the cached reply, not {}",
        describe(&decode_compound(&retry))
    );
    let mut other = V4Client::connect(s.addr());
    let retry = other.call_raw(&args).expect("retry on a new connection");
    assert_eq!(
        retry.body,
        first.body,
        "new connection: the cached reply, not {}",
        describe(&decode_compound(&retry))
    );

    // The slot moves on normally, and the directory was made once.
    let r = c.seq_ok(vec![ArgOp::Putrootfh, lookup("made-once"), getattr(&[FATTR4_FILEID])]);
    assert_eq!(attrs_ok(&r).fileid, attrs_ok(&r1).fileid);
}

/// Goal: a SEQUENCE whose sequence id is neither the slot's last one
/// (replay) nor the next one is refused without running anything, and does
/// not disturb the slot; a slot beyond the table and a SEQUENCE that is not
/// first are refused too. RFC 8881 §2.10.6.1 and §18.46.3:
/// NFS4ERR_SEQ_MISORDERED, NFS4ERR_BADSLOT, NFS4ERR_SEQUENCE_POS.
#[test]
fn v41_sequence_misordered_badslot_and_position() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    c.session41(b"cairn-test-misordered");
    c.seq_ok(vec![ArgOp::Putrootfh]);

    let mut sa = c.next_sequence(false);
    sa.sa_sequenceid += 1; // one ahead of the next expected
    let r = c.compound(1, &[ArgOp::Sequence(sa), ArgOp::Putrootfh, mkdir("skipped", 0o755)]);
    assert_eq!(r.status, Nfsstat4::SeqMisordered, "{}", describe(&r));
    assert_eq!(r.resarray.len(), 1, "nothing after a failed SEQUENCE runs: {}", describe(&r));

    let mut sa = c.next_sequence(false);
    sa.sa_sequenceid -= 2; // older than the last one
    let r = c.compound(1, &[ArgOp::Sequence(sa), ArgOp::Putrootfh]);
    assert_eq!(r.status, Nfsstat4::SeqMisordered, "{}", describe(&r));

    let mut sa = c.next_sequence(false);
    sa.sa_slotid = 1000;
    sa.sa_highest_slotid = 1000;
    let r = c.compound(1, &[ArgOp::Sequence(sa), ArgOp::Putrootfh]);
    assert_eq!(r.status, Nfsstat4::Badslot, "{}", describe(&r));

    // The slot was not moved by any of that.
    let r = c.seq(vec![ArgOp::Putrootfh, lookup("skipped")]);
    assert_eq!(
        r.status,
        Nfsstat4::Noent,
        "the misordered CREATE must not have run: {}",
        describe(&r)
    );

    let inner = c.next_sequence(false);
    let r = c.seq(vec![ArgOp::Putrootfh, ArgOp::Sequence(inner)]);
    assert_eq!(r.status, Nfsstat4::SequencePos, "{}", describe(&r));
    assert_eq!(r.resarray.len(), 3, "{}", describe(&r));
}

/// Goal: once a session is destroyed nothing can use it. RFC 8881 §18.37
/// (DESTROY_SESSION, allowed alone without SEQUENCE) and §18.46.3: a
/// SEQUENCE naming an unknown session is NFS4ERR_BADSESSION.
#[test]
fn v41_destroy_session_then_badsession() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    c.session41(b"cairn-test-destroy");
    let id = c.sessionid();
    let r = c.compound(1, &[ArgOp::DestroySession(DestroySessionArgs { dsa_sessionid: id })]);
    ok(&r, "DESTROY_SESSION");
    let r = c.compound(1, &[ArgOp::Sequence(c.next_sequence(false)), ArgOp::Putrootfh]);
    assert_eq!(r.status, Nfsstat4::Badsession, "{}", describe(&r));
    assert_eq!(r.resarray.len(), 1, "{}", describe(&r));
    // A session id that never existed, likewise.
    let mut sa = c.next_sequence(false);
    sa.sa_sessionid = [0x5a; 16];
    let r = c.compound(1, &[ArgOp::Sequence(sa), ArgOp::Putrootfh]);
    assert_eq!(r.status, Nfsstat4::Badsession, "{}", describe(&r));
}

// ------------------------------------------------------------------ 3. pseudo root and exports

/// Goal: from PUTROOTFH, LOOKUP "squash" lands in the /squash export (the
/// same directory NFSv3 mounts), and root squashing applies there to NFSv4
/// exactly as to NFSv3: root's new objects belong to 65534, a normal user's
/// to that user, and root's outside the export to root. RFC 7530 §7.3/§7.7
/// and RFC 8881 §7.3/§7.7 (pseudo file system, crossing into exports),
/// RFC 7530 §16.4.4 (CREATE leaves the new object as current filehandle),
/// RFC 7530 §5.9 (owner strings; Cairn writes numeric ones).
#[test]
fn lookup_into_squash_export_squashes_root() {
    let s = Server::start();
    open_up_dir(&s, "squash");
    let mut c3 = s.client();
    let sq3 = c3.mount("/squash");
    let sq_id = c3.attr(&sq3).fileid;

    let mut c = V4Client::connect(s.addr());
    let r = c.c40_ok(&[ArgOp::Putrootfh, lookup("squash"), getattr(&[FATTR4_FILEID])]);
    assert_eq!(attrs_ok(&r).fileid, Some(sq_id), "LOOKUP squash is the /squash export's root");

    let r = c.c40_ok(&[
        ArgOp::Putrootfh,
        lookup("squash"),
        mkdir("by-root", 0o755),
        getattr(&[FATTR4_OWNER, FATTR4_OWNER_GROUP]),
    ]);
    assert_eq!(owner_of(&r), ("65534".into(), "65534".into()), "root is squashed on /squash");

    let r = c.c40_ok(&[
        ArgOp::Putrootfh,
        mkdir("root-owned", 0o755),
        getattr(&[FATTR4_OWNER, FATTR4_OWNER_GROUP]),
    ]);
    assert_eq!(owner_of(&r), ("0".into(), "0".into()), "no squashing on /");

    c.auth(1000, 1000);
    let r = c.c40_ok(&[
        ArgOp::Putrootfh,
        lookup("squash"),
        mkdir("by-user", 0o755),
        getattr(&[FATTR4_OWNER, FATTR4_OWNER_GROUP]),
    ]);
    assert_eq!(owner_of(&r), ("1000".into(), "1000".into()), "a normal user is not squashed");
    // NFSv3 sees the same owners.
    let (d, _) = c3.lookup_ok(&sq3, b"by-root");
    assert_eq!(c3.attr(&d).uid, 65534);
}

/// Goal: a regular file created with OPEN by root in /squash belongs to
/// 65534, as with NFSv3 CREATE. RFC 8881 §18.16 (OPEN with UNCHECKED4
/// create), Cairn's export rules (squash = "root").
#[test]
fn v41_open_create_in_squash_export_is_owned_by_nobody() {
    let s = Server::start();
    open_up_dir(&s, "squash");
    let mut c = V4Client::connect(s.addr());
    c.session41(b"cairn-test-squash-open");
    let o = owner(c.clientid, "sq");
    let mut ops = path_ops(&["squash"]);
    ops.push(ArgOp::Open(open_create(
        0,
        o,
        "file",
        OPEN4_SHARE_ACCESS_BOTH,
        OPEN4_SHARE_DENY_NONE,
        0o644,
    )));
    ops.push(getattr(&[FATTR4_TYPE, FATTR4_OWNER, FATTR4_OWNER_GROUP]));
    ops.push(ArgOp::Getfh);
    let r = c.seq_ok(ops);
    assert_eq!(attrs_ok(&r).ftype, Some(NfsFtype4::Reg));
    assert_eq!(owner_of(&r), ("65534".into(), "65534".into()), "root is squashed on /squash");
    let sid = open_ok(&r).stateid;
    c.seq_ok(vec![putfh(&getfh_ok(&r)), close(0, sid)]);
}

/// Goal: nothing can be created through the read-only export /ro, and
/// nothing is. RFC 7530 §13.1.4.13 and §16.4 (CREATE), §16.26 (REMOVE):
/// NFS4ERR_ROFS.
#[test]
fn ro_export_refuses_create_and_remove() {
    let s = Server::start();
    let mut c3 = s.client();
    let root3 = c3.mount("/");
    let (ro3, _) = c3.lookup_ok(&root3, b"ro");
    c3.create_file(&ro3, b"file", 0o644);

    let mut c = V4Client::connect(s.addr());
    let r = c.c40(&[ArgOp::Putrootfh, lookup("ro"), mkdir("newdir", 0o755)]);
    assert_eq!(r.status, Nfsstat4::Rofs, "{}", describe(&r));
    assert_eq!(r.resarray.len(), 3, "{}", describe(&r));
    let r = c.c40(&[ArgOp::Putrootfh, lookup("ro"), remove("file")]);
    assert_eq!(r.status, Nfsstat4::Rofs, "{}", describe(&r));
    assert_eq!(c3.lookup(&ro3, b"newdir").status(), Nfsstat3::Noent);
    c3.lookup_ok(&ro3, b"file");
}

/// Goal: OPEN with create through /ro is refused and creates nothing.
/// RFC 8881 §18.16 (OPEN), RFC 7530 §16.16 and §13.1.4.13: NFS4ERR_ROFS.
#[test]
fn v41_ro_export_refuses_open_create() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    c.session41(b"cairn-test-ro-open");
    let mut ops = path_ops(&["ro"]);
    ops.push(ArgOp::Open(open_create(
        0,
        owner(c.clientid, "ro"),
        "new",
        OPEN4_SHARE_ACCESS_BOTH,
        OPEN4_SHARE_DENY_NONE,
        0o644,
    )));
    let r = c.seq(ops);
    assert_eq!(r.status, Nfsstat4::Rofs, "{}", describe(&r));
    let r = c.seq(vec![ArgOp::Putrootfh, lookup("ro"), lookup("new")]);
    assert_eq!(r.status, Nfsstat4::Noent, "{}", describe(&r));
}

/// Goal: a client whose address is outside an export's allowlist cannot use
/// that export, even holding a genuine handle of it (Cairn's export rules,
/// as NFSv3 answers NFS3ERR_ACCES). The harness connects from 127.0.0.1
/// only (std's TcpStream cannot bind a source address before connecting),
/// so the test uses the /only10 export (clients 10.0.0.0/8) with a
/// correctly MACed handle of it, issued as the server would to an allowed
/// client. The RFC does not pin the status (RFC 7530 §13.1.6 / RFC 8881
/// §15.1.6 security errors, §13.1.2.7 STALE "access to it has been
/// revoked"); any of ACCESS, PERM, WRONGSEC, STALE is a refusal, and no
/// later operation may run.
#[test]
fn export_allowlist_refuses_other_clients() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    let r = c.c40_ok(&[ArgOp::Putrootfh, lookup("only10"), ArgOp::Getfh]);
    let fh = getfh_ok(&r);
    let forged = reexport_handle(&s.data_dir(), &NfsFh3(fh.0.clone()), 4);
    let h = NfsFh4(forged.0);
    let refused = [Nfsstat4::Access, Nfsstat4::Perm, Nfsstat4::Wrongsec, Nfsstat4::Stale];
    for ops in [
        vec![putfh(&h), getattr(&[FATTR4_TYPE])],
        vec![putfh(&h), mkdir("intruder", 0o755)],
        vec![
            putfh(&h),
            ArgOp::Readdir(ReaddirArgs {
                cookie: 0,
                cookieverf: [0; 8],
                dircount: 4096,
                maxcount: 4096,
                attr_request: Bitmap4::new(),
            }),
        ],
    ] {
        let r = c.c40(&ops);
        assert!(refused.contains(&r.status), "{}: {}", names(&ops), describe(&r));
    }
    // The same handle re-issued under "/" works: the forging is right.
    let h = NfsFh4(reexport_handle(&s.data_dir(), &NfsFh3(fh.0.clone()), 0).0);
    let r = c.c40_ok(&[putfh(&h), getattr(&[FATTR4_TYPE])]);
    assert_eq!(attrs_ok(&r).ftype, Some(NfsFtype4::Dir));
}

/// Goal: a handle that the server did not issue is refused at PUTFH,
/// whichever byte was changed. RFC 7530 §13.1.2.1 and §16.20 (PUTFH),
/// RFC 8881 §18.19: NFS4ERR_BADHANDLE; a handle longer than NFS4_FHSIZE
/// (128) does not match the XDR (`nfs_fh4<NFS4_FHSIZE>`): NFS4ERR_BADXDR.
#[test]
fn forged_handle_is_badhandle() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    let r = c.c40_ok(&[ArgOp::Putrootfh, mkdir("d", 0o755), ArgOp::Getfh]);
    let fh = getfh_ok(&r);
    for i in 0..fh.0.len() {
        let mut bad = fh.clone();
        bad.0[i] ^= 0x01;
        let r = c.c40(&[putfh(&bad), getattr(&[FATTR4_TYPE])]);
        assert_eq!(r.status, Nfsstat4::Badhandle, "byte {i} flipped: {}", describe(&r));
        assert_eq!(r.resarray, vec![ResOp::Putfh(Nfsstat4::Badhandle)], "byte {i}");
    }
    let mut rng = StdRng::seed_from_u64(7);
    for len in [0usize, 1, 20, fh.0.len(), 128] {
        let bad = NfsFh4((0..len).map(|_| rng.gen()).collect());
        let r = c.c40(&[putfh(&bad), getattr(&[FATTR4_TYPE])]);
        assert_eq!(r.status, Nfsstat4::Badhandle, "random {len}-byte handle: {}", describe(&r));
    }
    let r = c.c40(&[putfh(&NfsFh4(vec![1; 129])), getattr(&[FATTR4_TYPE])]);
    assert_eq!(r.status, Nfsstat4::Badxdr, "129-byte handle: {}", describe(&r));
    // The genuine handle still works.
    let r = c.c40_ok(&[putfh(&fh), getattr(&[FATTR4_TYPE])]);
    assert_eq!(attrs_ok(&r).ftype, Some(NfsFtype4::Dir));
}

// ------------------------------------------------------------------ 4. files with state (4.1)

/// Goal: the basic life of a file under 4.1: OPEN creating it, WRITE and
/// READ with the open stateid, the size seen by GETATTR, CLOSE, and a closed
/// stateid no longer usable. RFC 8881 §18.16 (OPEN, CLAIM_NULL, UNCHECKED4),
/// §18.32 (WRITE: FILE_SYNC asked, FILE_SYNC committed), §18.22 (READ,
/// eof), §18.2 (CLOSE), §8.2.4 and §15.1.5.2: a stateid whose state is gone
/// is NFS4ERR_BAD_STATEID (NFS4ERR_OLD_STATEID accepted for a server that
/// keeps the closed stateid with a newer seqid).
#[test]
fn v41_open_write_read_close() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    c.session41(b"cairn-test-rw");
    let (o, fh) = c.open41(
        &[],
        open_create(
            0,
            owner(c.clientid, "rw"),
            "data",
            OPEN4_SHARE_ACCESS_BOTH,
            OPEN4_SHARE_DENY_NONE,
            0o644,
        ),
    );
    let sid = o.stateid;
    let data = b"hello over NFSv4.1";
    let r = c.seq_ok(vec![putfh(&fh), write(sid, 0, data)]);
    let w = write_ok(&r);
    assert_eq!(w.count as usize, data.len(), "short write");
    assert_eq!(w.committed, StableHow4::FileSync, "FILE_SYNC asked, FILE_SYNC committed");

    let r = c.seq_ok(vec![putfh(&fh), read(sid, 0, 4096), getattr(&[FATTR4_SIZE, FATTR4_TYPE])]);
    let rd = read_ok(&r);
    assert_eq!(rd.data, data);
    assert!(rd.eof, "read to the end: eof");
    let a = attrs_ok(&r);
    assert_eq!((a.ftype, a.size), (Some(NfsFtype4::Reg), Some(data.len() as u64)));

    c.seq_ok(vec![putfh(&fh), close(0, sid)]);
    let r = c.seq(vec![putfh(&fh), read(sid, 0, 10)]);
    assert!(
        matches!(r.status, Nfsstat4::BadStateid | Nfsstat4::OldStateid),
        "READ with a closed stateid: {}",
        describe(&r)
    );
    assert!(matches!(last(&r), ResOp::Read(_)), "{}", describe(&r));
}

/// Goal: a share reservation denying writes keeps other open owners from
/// opening the file for writing (not for reading), until it is closed.
/// RFC 8881 §9.7 (share reservations) and §18.16.3, RFC 7530 §9.9:
/// NFS4ERR_SHARE_DENIED.
#[test]
fn v41_share_deny_write_blocks_other_owner() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    c.session41(b"cairn-test-share");
    let cid = c.clientid;
    let (a, fh) = c.open41(
        &[],
        open_create(
            0,
            owner(cid, "share-a"),
            "shared",
            OPEN4_SHARE_ACCESS_READ,
            OPEN4_SHARE_DENY_WRITE,
            0o666,
        ),
    );
    let mut ops = path_ops(&[]);
    ops.push(ArgOp::Open(open_existing(
        0,
        owner(cid, "share-b"),
        "shared",
        OPEN4_SHARE_ACCESS_WRITE,
        0,
    )));
    let r = c.seq(ops.clone());
    assert_eq!(r.status, Nfsstat4::ShareDenied, "{}", describe(&r));

    // Reading is not denied.
    let (b, _) = c
        .open41(&[], open_existing(0, owner(cid, "share-b"), "shared", OPEN4_SHARE_ACCESS_READ, 0));
    c.seq_ok(vec![putfh(&fh), close(0, b.stateid)]);

    c.seq_ok(vec![putfh(&fh), close(0, a.stateid)]);
    let r = c.seq_ok(ops);
    c.seq_ok(vec![putfh(&fh), close(0, open_ok(&r).stateid)]);
}

/// Goal: byte-range locks exclude each other across lock owners, and the
/// refusal names the holder and its range; LOCKT reports the same; after
/// LOCKU the other owner gets the lock. RFC 8881 §18.10 (LOCK,
/// NFS4ERR_DENIED with LOCK4denied), §18.11 (LOCKT), §18.12 (LOCKU),
/// RFC 8881 §9.2 / RFC 7530 §9.2 (lock ranges).
#[test]
fn v41_byte_range_lock_conflict() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    c.session41(b"cairn-test-lock");
    let cid = c.clientid;
    let both = OPEN4_SHARE_ACCESS_BOTH;
    let (oa, fh) = c.open41(&[], open_create(0, owner(cid, "open-a"), "locked", both, 0, 0o666));
    let (ob, _) = c.open41(&[], open_existing(0, owner(cid, "open-b"), "locked", both, 0));
    let write_lt = NfsLockType4::Write;

    let r =
        c.seq_ok(vec![putfh(&fh), lock_new(write_lt, 0, 100, oa.stateid, owner(cid, "lock-a"))]);
    let la = pick(&r, "LOCK", |o| match o {
        ResOp::Lock(LockRes::Ok(ok)) => Some(ok.lock_stateid),
        _ => None,
    });

    let holder = |d: &LockDenied4| {
        assert_eq!((d.offset, d.length), (0, 100), "the holder's range: {d:?}");
        assert_eq!(d.locktype, NfsLockType4::Write, "{d:?}");
        assert_eq!(d.owner, owner(cid, "lock-a"), "{d:?}");
    };
    let r = c.seq(vec![putfh(&fh), lock_new(write_lt, 50, 100, ob.stateid, owner(cid, "lock-b"))]);
    match last(&r) {
        ResOp::Lock(LockRes::Denied(d)) => holder(d),
        _ => panic!("conflicting LOCK: {}", describe(&r)),
    }
    let r = c.seq(vec![putfh(&fh), lockt(write_lt, 50, 100, owner(cid, "lock-b"))]);
    match last(&r) {
        ResOp::Lockt(LocktRes::Denied(d)) => holder(d),
        _ => panic!("LOCKT: {}", describe(&r)),
    }
    // Past A's range there is no conflict.
    c.seq_ok(vec![putfh(&fh), lockt(write_lt, 100, 100, owner(cid, "lock-b"))]);

    c.seq_ok(vec![putfh(&fh), locku(write_lt, la, 0, 100)]);
    c.seq_ok(vec![putfh(&fh), lockt(write_lt, 50, 100, owner(cid, "lock-b"))]);
    c.seq_ok(vec![putfh(&fh), lock_new(write_lt, 50, 100, ob.stateid, owner(cid, "lock-b"))]);
}

// ------------------------------------------------------------------ 5. 4.0 client id and opens

/// Goal: a 4.0 client's whole cycle: SETCLIENTID and its confirmation, OPEN
/// of a new file by a new open owner (which must be confirmed), a replayed
/// OPEN answered from the owner's cached reply, OPEN_CONFIRM, WRITE, READ,
/// RENEW, CLOSE. RFC 7530 §16.33/§16.34 (SETCLIENTID, _CONFIRM), §9.1.11
/// and §16.16 (OPEN4_RESULT_CONFIRM for a new open owner), §9.1.8 (a
/// request with the owner's last seqid gets the cached reply), §16.18
/// (OPEN_CONFIRM, seqid + 1, same stateid `other`), §16.28 (RENEW; an
/// unknown client id is NFS4ERR_STALE_CLIENTID).
#[test]
fn v40_setclientid_open_confirm_io_close_renew() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    let cid = c.setclientid(b"cairn-test-v40");
    let open =
        open_create(0, owner(cid, "v40-owner"), "v40file", OPEN4_SHARE_ACCESS_BOTH, 0, 0o644);
    let ops = [ArgOp::Putrootfh, ArgOp::Open(open), ArgOp::Getfh];
    let r1 = c.c40_ok(&ops);
    let o1 = open_ok(&r1);
    let fh = getfh_ok(&r1);
    assert_ne!(o1.rflags & OPEN4_RESULT_CONFIRM, 0, "a new open owner must confirm: {o1:?}");

    let r2 = c.c40_ok(&ops);
    assert_eq!(open_ok(&r2), o1, "a replayed OPEN (same seqid) gets the same reply");

    let r = c.c40_ok(&[
        putfh(&fh),
        ArgOp::OpenConfirm(OpenConfirmArgs { open_stateid: o1.stateid, seqid: 1 }),
    ]);
    let sid = pick(&r, "OPEN_CONFIRM", |o| match o {
        ResOp::OpenConfirm(NfsRes4::Ok(ok)) => Some(ok.open_stateid),
        _ => None,
    });
    assert_eq!(sid.other, o1.stateid.other, "OPEN_CONFIRM keeps the open's stateid");

    let data = b"hello over NFSv4.0";
    let r = c.c40_ok(&[putfh(&fh), write(sid, 0, data)]);
    assert_eq!(write_ok(&r).count as usize, data.len());
    let r = c.c40_ok(&[putfh(&fh), read(sid, 0, 4096)]);
    let rd = read_ok(&r);
    assert_eq!((rd.data.as_slice(), rd.eof), (&data[..], true));

    c.c40_ok(&[ArgOp::Renew(RenewArgs { clientid: cid })]);
    c.c40_ok(&[putfh(&fh), close(2, sid)]);
    let r = c.c40(&[ArgOp::Renew(RenewArgs { clientid: cid ^ 0x5a5a_0000_5a5a })]);
    assert_eq!(r.status, Nfsstat4::StaleClientid, "{}", describe(&r));
}

/// Goal: a replayed 4.0 OPEN is answered, not executed again, so it does
/// not leave a second open behind: after REMOVE, the one CLOSE releases the
/// file. RFC 7530 §9.1.8 (replay of the owner's last seqid gets the cached
/// reply), §16.2 (CLOSE), §13.1.2.7 (STALE once the object no longer
/// exists).
#[test]
fn v40_replayed_open_holds_one_open() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    let cid = c.setclientid(b"cairn-test-v40-replay");
    let open = open_create(0, owner(cid, "replayer"), "once", OPEN4_SHARE_ACCESS_BOTH, 0, 0o644);
    let ops = [ArgOp::Putrootfh, ArgOp::Open(open), ArgOp::Getfh];
    let r = c.c40_ok(&ops);
    let o = open_ok(&r);
    let fh = getfh_ok(&r);
    assert_eq!(open_ok(&c.c40_ok(&ops)), o, "replayed OPEN");
    let mut sid = o.stateid;
    let mut seqid = 1;
    if o.rflags & OPEN4_RESULT_CONFIRM != 0 {
        let r = c.c40_ok(&[
            putfh(&fh),
            ArgOp::OpenConfirm(OpenConfirmArgs { open_stateid: sid, seqid }),
        ]);
        sid = pick(&r, "OPEN_CONFIRM", |o| match o {
            ResOp::OpenConfirm(NfsRes4::Ok(ok)) => Some(ok.open_stateid),
            _ => None,
        });
        seqid += 1;
    }
    c.c40_ok(&[ArgOp::Putrootfh, remove("once")]);
    c.c40_ok(&[putfh(&fh), close(seqid, sid)]);
    let r = c.c40(&[putfh(&fh), getattr(&[FATTR4_TYPE])]);
    assert_eq!(r.status, Nfsstat4::Stale, "gone after the CLOSE: {}", describe(&r));
}

// ------------------------------------------------------------------ 6. removed while open

/// Goal: a file removed (by another client) while open stays readable
/// through its open stateid until CLOSE, while its name is gone at once;
/// after CLOSE the file is gone. RFC 8881 §18.16.3
/// (OPEN4_RESULT_PRESERVE_UNLINKED; Cairn preserves), §18.25 (REMOVE), POSIX
/// last-close semantics; after the last close the handle is stale (RFC 8881
/// §15.1.2.7, RFC 7530 §13.1.2.7: "the file system object ... no longer
/// exists"). While unlinked, `numlinks` is 0.
#[test]
fn v41_removed_while_open_stays_readable_until_close() {
    let s = Server::start();
    let mut c1 = V4Client::connect(s.addr());
    c1.session41(b"cairn-test-holder");
    let mut c2 = V4Client::connect(s.addr());
    c2.session41(b"cairn-test-remover");

    let (o, fh) = c1.open41(
        &[],
        open_create(0, owner(c1.clientid, "holder"), "victim", OPEN4_SHARE_ACCESS_BOTH, 0, 0o644),
    );
    let sid = o.stateid;
    c1.seq_ok(vec![putfh(&fh), write(sid, 0, b"still here")]);

    c2.seq_ok(vec![ArgOp::Putrootfh, remove("victim")]);
    let r = c2.seq(vec![ArgOp::Putrootfh, lookup("victim")]);
    assert_eq!(r.status, Nfsstat4::Noent, "the name is gone at once: {}", describe(&r));

    let r =
        c1.seq_ok(vec![putfh(&fh), read(sid, 0, 100), getattr(&[FATTR4_NUMLINKS, FATTR4_SIZE])]);
    assert_eq!(read_ok(&r).data, b"still here");
    let a = attrs_ok(&r);
    assert_eq!(a.size, Some(10));
    if let Some(n) = a.numlinks {
        assert_eq!(n, 0, "an unlinked file has no links");
    }

    c1.seq_ok(vec![putfh(&fh), close(0, sid)]);
    let r = c1.seq(vec![putfh(&fh), getattr(&[FATTR4_TYPE])]);
    assert_eq!(r.status, Nfsstat4::Stale, "gone after the last CLOSE: {}", describe(&r));
}

/// Goal: an open owner opening the same file twice (an upgrade, as a
/// process opening a file it already has open) holds one open, so after
/// REMOVE a single CLOSE releases the file. RFC 8881 §9.9 and §18.16.3
/// (an OPEN by an owner that has the file open upgrades that open: same
/// stateid `other`, newer seqid), §18.2 (CLOSE ends the open), §15.1.2.7
/// (STALE once the object no longer exists).
#[test]
fn v41_open_upgrade_then_remove_then_one_close_frees_file() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    c.session41(b"cairn-test-upgrade");
    let o = owner(c.clientid, "upgrader");
    let (a, fh) =
        c.open41(&[], open_create(0, o.clone(), "twice", OPEN4_SHARE_ACCESS_READ, 0, 0o644));
    let (b, fh2) = c.open41(&[], open_existing(0, o, "twice", OPEN4_SHARE_ACCESS_WRITE, 0));
    assert_eq!(fh2, fh);
    assert_eq!(b.stateid.other, a.stateid.other, "the same owner's second OPEN upgrades the first");
    assert!(b.stateid.seqid > a.stateid.seqid, "{:?} after {:?}", b.stateid, a.stateid);
    c.seq_ok(vec![putfh(&fh), write(b.stateid, 0, b"upgraded")]);

    c.seq_ok(vec![ArgOp::Putrootfh, remove("twice")]);
    c.seq_ok(vec![putfh(&fh), close(0, b.stateid)]);
    let r = c.seq(vec![putfh(&fh), getattr(&[FATTR4_TYPE])]);
    assert_eq!(r.status, Nfsstat4::Stale, "gone after the open's CLOSE: {}", describe(&r));
}

// ------------------------------------------------------------------ 7. READDIR

/// Goal: listing a big directory in small pieces, following cookies until
/// eof, yields every name exactly once and never "." or "..", with each
/// reply within the client's maxcount. RFC 7530 §16.24 (READDIR: cookies,
/// cookieverf, maxcount bounds READDIR4resok, "." and ".." are not
/// returned), RFC 8881 §18.23.
#[test]
fn readdir_300_entries_in_small_pieces() {
    let s = Server::start();
    let mut c3 = s.client();
    let root3 = c3.mount("/");
    let big = c3.mkdir_ok(&root3, b"big", 0o755);
    let want: std::collections::BTreeSet<String> =
        (0..300).map(|i| format!("entry-{i:03}")).collect();
    for n in &want {
        c3.create_file(&big, n.as_bytes(), 0o644);
    }

    let mut c = V4Client::connect(s.addr());
    let maxcount = 512;
    let (mut cookie, mut verf) = (0u64, [0u8; 8]);
    let mut seen: Vec<String> = Vec::new();
    let mut calls = 0;
    loop {
        calls += 1;
        assert!(calls <= 1000, "READDIR does not reach eof");
        let r = c.c40_ok(&[
            ArgOp::Putrootfh,
            lookup("big"),
            readdir(cookie, verf, maxcount, &[FATTR4_TYPE, FATTR4_FILEID]),
        ]);
        let rd = readdir_ok(&r);
        assert!(
            rd.encoded_len() <= maxcount as usize,
            "reply of {} bytes over maxcount {maxcount}",
            rd.encoded_len()
        );
        for e in &rd.entries {
            let name = String::from_utf8(e.name.clone()).expect("UTF-8 name");
            let a = Fattr::decode_fattr4(&e.attrs).expect("entry attributes");
            assert_eq!(a.ftype, Some(NfsFtype4::Reg), "{name}");
            assert!(a.fileid.is_some(), "{name}");
            seen.push(name);
        }
        if rd.eof {
            break;
        }
        assert!(!rd.entries.is_empty(), "no entries and no eof");
        cookie = rd.entries.last().expect("entries").cookie;
        verf = rd.cookieverf;
    }
    assert!(calls > 1, "maxcount {maxcount} should need several calls for 300 entries");
    assert!(!seen.iter().any(|n| n == "." || n == ".."), "READDIR returned . or ..");
    let unique: std::collections::BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a name came twice");
    assert_eq!(unique, want);
}

// ------------------------------------------------------------------ 8. garbage

/// Valid COMPOUND bodies to mutate.
fn seeds(c: &V4Client, fh: &NfsFh4) -> Vec<Vec<u8>> {
    let o = owner(1, "fuzz");
    let sid = Stateid4 { seqid: 1, other: [3; 12] };
    let seq = SequenceArgs {
        sa_sessionid: [9; 16],
        sa_sequenceid: 1,
        sa_slotid: 0,
        sa_highest_slotid: 0,
        sa_cachethis: true,
    };
    vec![
        c.args(0, &[ArgOp::Putrootfh, lookup("x"), getattr(BASIC), ArgOp::Getfh]),
        c.args(0, &[ArgOp::Putrootfh, readdir(0, [0; 8], 4096, BASIC)]),
        c.args(0, &[ArgOp::Putrootfh, mkdir("fuzzdir", 0o755)]),
        c.args(
            0,
            &[
                ArgOp::Putrootfh,
                ArgOp::Open(open_create(0, o.clone(), "fz", 3, 0, 0o644)),
                ArgOp::Getfh,
            ],
        ),
        c.args(
            0,
            &[putfh(fh), write(Stateid4::ANONYMOUS, 0, b"fuzz"), read(Stateid4::ANONYMOUS, 0, 8)],
        ),
        c.args(
            0,
            &[putfh(fh), lock_new(NfsLockType4::Write, 0, 10, sid, o.clone()), close(0, sid)],
        ),
        c.args(0, &[setclientid_op(b"fuzz", [1; 8])]),
        c.args(1, &[exchange_id_op(b"fuzz", [1; 8])]),
        c.args(1, &[create_session_op(1, 1)]),
        c.args(1, &[ArgOp::Sequence(seq), ArgOp::Putrootfh, getattr(BASIC)]),
    ]
}

fn garbage(rng: &mut StdRng, i: usize, seeds: &[Vec<u8>]) -> Vec<u8> {
    match i % 4 {
        // Random bytes.
        0 => {
            let n = rng.gen_range(0..600);
            (0..n).map(|_| rng.gen()).collect()
        }
        // A COMPOUND header, then operation numbers from the defined range
        // followed by random words.
        1 => {
            let mut e = Encoder::new();
            let tag: Vec<u8> = (0..rng.gen_range(0..8)).map(|_| rng.gen()).collect();
            e.put_opaque(&tag);
            e.put_u32(rng.gen_range(0..3));
            let n = rng.gen_range(0..10);
            e.put_u32(n);
            for _ in 0..n {
                e.put_u32(rng.gen_range(0..80));
                for _ in 0..rng.gen_range(0..12) {
                    let w = if rng.gen_bool(0.5) { rng.gen_range(0..300) } else { rng.gen() };
                    e.put_u32(w);
                }
            }
            e.into_inner()
        }
        // A valid COMPOUND with some bytes changed, perhaps cut short.
        _ => {
            let mut b = seeds[rng.gen_range(0..seeds.len())].clone();
            for _ in 0..rng.gen_range(1..6) {
                let at = rng.gen_range(0..b.len());
                b[at] = rng.gen();
            }
            if rng.gen_bool(0.3) {
                b.truncate(rng.gen_range(0..b.len()));
            }
            b
        }
    }
}

/// Goal: no request body can take the server down or wedge a connection:
/// 200 seeded random COMPOUND bodies after a valid RPC call header each get
/// an RPC reply (any accept status, with this call's xid) or a closed
/// connection, and afterwards the server still answers NULL and a COMPOUND.
/// RFC 5531 §9 (GARBAGE_ARGS) and RFC 7530 §13.1.1.1 / RFC 8881 §16.2.3
/// (malformed operations: NFS4ERR_BADXDR).
#[test]
fn random_compound_bodies_never_kill_the_server() {
    let s = Server::start();
    let mut c = V4Client::connect(s.addr());
    let r = c.c40_ok(&[ArgOp::Putrootfh, mkdir("target", 0o777), ArgOp::Getfh]);
    let seeds = seeds(&c, &getfh_ok(&r));
    let mut rng = StdRng::seed_from_u64(0x4e46_5334);
    let (mut replies, mut drops) = (0, 0);
    for i in 0..200 {
        let body = garbage(&mut rng, i, &seeds);
        match c.call_raw(&body) {
            Ok(_) => replies += 1,
            Err(e) => {
                assert!(
                    !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
                    "iteration {i}: no reply and the connection left open: {e}"
                );
                assert_ne!(e.kind(), ErrorKind::InvalidData, "iteration {i}: bad reply: {e}");
                drops += 1;
                c = V4Client::connect(s.addr());
            }
        }
    }
    eprintln!("{replies} replies, {drops} dropped connections");
    let mut c = V4Client::connect(s.addr());
    c.null().expect("NULL after garbage");
    let r = c.c40_ok(&[ArgOp::Putrootfh, getattr(&[FATTR4_TYPE])]);
    assert_eq!(attrs_ok(&r).ftype, Some(NfsFtype4::Dir));
}
