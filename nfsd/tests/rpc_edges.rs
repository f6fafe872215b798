//! RPC-level edges over real TCP: program/version/procedure dispatch
//! errors, authentication, record marking, size limits, pipelining, the
//! duplicate request cache, and garbage input.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;
use nfs_proto::nfs3::*;
use nfs_proto::rpc::{self, AuthStat, CallHeader, OpaqueAuth, ReplyHeader};
use nfs_proto::xdr::{to_bytes, Encoder, XdrEncode};
use rand::{Rng, RngCore, SeedableRng};

fn getattr_args(fh: &NfsFh3) -> Vec<u8> {
    to_bytes(&GetattrArgs { object: fh.clone() })
}

#[test]
fn dispatch_errors() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");

    let r = c.call_raw(123_456, 1, 0, &[]).expect("call");
    assert!(matches!(r.header, ReplyHeader::ProgUnavail { .. }), "{:?}", r.header);
    let r = c.call_raw(nfs_proto::nfs3::NFSACL_PROGRAM, 3, 0, &[]).expect("call");
    assert!(matches!(r.header, ReplyHeader::ProgUnavail { .. }), "NFSACL: {:?}", r.header);
    for v in [2, 5, 1] {
        let r = c.call_raw(PROGRAM, v, 0, &[]).expect("call");
        assert!(
            matches!(r.header, ReplyHeader::ProgMismatch { low: 3, high: 4, .. }),
            "NFS v{v}: {:?}",
            r.header
        );
    }
    let r = c.call_raw(nfs_proto::mount::PROGRAM, 1, 0, &[]).expect("call");
    assert!(
        matches!(r.header, ReplyHeader::ProgMismatch { low: 3, high: 3, .. }),
        "{:?}",
        r.header
    );
    let r = c.call_raw(PROGRAM, VERSION, 99, &[]).expect("call");
    assert!(matches!(r.header, ReplyHeader::ProcUnavail { .. }), "{:?}", r.header);
    let r = c.call_raw(PROGRAM, VERSION, 22, &[]).expect("call");
    assert!(matches!(r.header, ReplyHeader::ProcUnavail { .. }), "{:?}", r.header);
    let r = c.call_raw(nfs_proto::mount::PROGRAM, 3, 77, &[]).expect("call");
    assert!(matches!(r.header, ReplyHeader::ProcUnavail { .. }), "{:?}", r.header);

    // Truncated GETATTR arguments.
    let args = getattr_args(&root);
    for cut in [0, 3, 4, 10, args.len() - 1] {
        let r = c.call_raw(PROGRAM, VERSION, Proc3::Getattr as u32, &args[..cut]).expect("call");
        assert!(matches!(r.header, ReplyHeader::GarbageArgs { .. }), "cut {cut}: {:?}", r.header);
    }
    // A bad enum inside arguments (stable_how 7) and a too-long handle.
    let mut w = to_bytes(&write_args(&root, 0, b"x", StableHow::Unstable));
    let at = 4 + 52 + 8 + 4;
    w[at..at + 4].copy_from_slice(&7u32.to_be_bytes());
    let r = c.call_raw(PROGRAM, VERSION, Proc3::Write as u32, &w).expect("call");
    assert!(matches!(r.header, ReplyHeader::GarbageArgs { .. }), "{:?}", r.header);
    let r = c
        .call_raw(PROGRAM, VERSION, Proc3::Getattr as u32, &getattr_args(&NfsFh3(vec![1; 64])))
        .expect("call");
    assert!(
        matches!(r.header, ReplyHeader::Success { .. }),
        "64-byte handle decodes: {:?}",
        r.header
    );
    let mut long = Encoder::new();
    long.put_opaque(&[1u8; 65]);
    let r = c.call_raw(PROGRAM, VERSION, Proc3::Getattr as u32, long.as_slice()).expect("call");
    assert!(matches!(r.header, ReplyHeader::GarbageArgs { .. }), "65-byte handle: {:?}", r.header);

    // The connection still works after all of that.
    c.null().expect("NULL");
    assert_eq!(c.attr(&root).ftype, Ftype3::Dir);
}

#[test]
fn rpc_version_mismatch() {
    let s = Server::start();
    let mut c = s.client();
    let mut e = Encoder::new();
    CallHeader {
        xid: 0x1234,
        rpcvers: 3,
        prog: PROGRAM,
        vers: VERSION,
        proc_: 0,
        cred: OpaqueAuth::none(),
        verf: OpaqueAuth::none(),
    }
    .encode(&mut e);
    c.send_record(e.as_slice()).expect("send");
    let r = c.recv_reply().expect("reply");
    assert_eq!(r.header, ReplyHeader::RpcMismatch { xid: 0x1234, low: 2, high: 2 });
    c.null().expect("NULL afterwards");
}

#[test]
fn authentication() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    c.auth_none();
    // NULL needs no credentials.
    let r = c.call_raw(PROGRAM, VERSION, 0, &[]).expect("call");
    assert!(matches!(r.header, ReplyHeader::Success { .. }), "{:?}", r.header);
    let r =
        c.call_raw(PROGRAM, VERSION, Proc3::Getattr as u32, &getattr_args(&root)).expect("call");
    assert!(
        matches!(r.header, ReplyHeader::AuthError { stat: AuthStat::TooWeak, .. }),
        "AUTH_NONE GETATTR: {:?}",
        r.header
    );
    let r = c
        .call_raw(
            nfs_proto::mount::PROGRAM,
            3,
            1,
            &to_bytes(&nfs_proto::mount::DirPath(b"/".to_vec())),
        )
        .expect("call");
    assert!(
        matches!(r.header, ReplyHeader::AuthError { stat: AuthStat::TooWeak, .. }),
        "AUTH_NONE MNT: {:?}",
        r.header
    );

    for flavor in [rpc::AUTH_SHORT, rpc::AUTH_DH, rpc::RPCSEC_GSS, 12345] {
        c.cred = OpaqueAuth { flavor, body: vec![0; 8] };
        let r = c
            .call_raw(PROGRAM, VERSION, Proc3::Getattr as u32, &getattr_args(&root))
            .expect("call");
        assert!(
            matches!(r.header, ReplyHeader::AuthError { .. }),
            "flavor {flavor}: {:?}",
            r.header
        );
    }
    // An AUTH_SYS body that does not decode: AUTH_ERROR (BADCRED).
    c.cred = OpaqueAuth { flavor: rpc::AUTH_SYS, body: vec![0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff] };
    let r =
        c.call_raw(PROGRAM, VERSION, Proc3::Getattr as u32, &getattr_args(&root)).expect("call");
    assert!(matches!(r.header, ReplyHeader::AuthError { .. }), "bad AUTH_SYS: {:?}", r.header);
    // 16 supplementary groups are fine.
    c.auth(1000, 1000, &(1..=16).collect::<Vec<_>>());
    assert_eq!(c.attr(&root).ftype, Ftype3::Dir);
}

#[test]
fn one_byte_fragments() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    for (proc_, args) in [(0u32, Vec::new()), (Proc3::Getattr as u32, getattr_args(&root))] {
        let xid = c.xid();
        let rec = c.call_bytes(xid, PROGRAM, VERSION, proc_, &args);
        let mut wire = Vec::new();
        for (i, b) in rec.iter().enumerate() {
            let last = i + 1 == rec.len();
            wire.extend_from_slice(&rpc::fragment_header(last, 1).to_be_bytes());
            wire.push(*b);
        }
        // Some empty fragments in front, too.
        let mut all = rpc::fragment_header(false, 0).to_be_bytes().to_vec();
        all.extend_from_slice(&wire);
        for piece in all.chunks(7) {
            c.stream.write_all(piece).expect("send");
        }
        let r = c.recv_reply().expect("reply");
        assert_eq!(r.header, ReplyHeader::Success { xid });
        if proc_ != 0 {
            let res: GetattrRes = results(&r);
            assert_eq!(res.status(), Nfsstat3::Ok);
        }
    }
}

#[test]
fn oversized_record_closes_only_that_connection() {
    let s = Server::start();
    let mut other = s.client();
    other.null().expect("NULL");
    let mut c = s.client();
    // Claims 512 MiB; the server must not try to buffer it.
    c.stream.write_all(&rpc::fragment_header(true, 512 << 20).to_be_bytes()).expect("send");
    let _ = c.stream.write_all(&[0u8; 4096]);
    c.stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut buf = [0u8; 16];
    match c.stream.read(&mut buf) {
        Ok(0) => {}
        Err(e)
            if e.kind() != std::io::ErrorKind::WouldBlock
                && e.kind() != std::io::ErrorKind::TimedOut => {}
        other => panic!("connection not closed after an oversized record: {other:?}"),
    }
    // Two fragments that together exceed the limit (1 MiB + 64 KiB).
    let mut c = s.client();
    let big = vec![0u8; 700 * 1024];
    let mut wire = rpc::fragment_header(false, big.len() as u32).to_be_bytes().to_vec();
    wire.extend_from_slice(&big);
    wire.extend_from_slice(&rpc::fragment_header(true, big.len() as u32).to_be_bytes());
    wire.extend_from_slice(&big);
    let _ = c.stream.write_all(&wire);
    match c.stream.read(&mut buf) {
        Ok(0) => {}
        Err(e)
            if e.kind() != std::io::ErrorKind::WouldBlock
                && e.kind() != std::io::ErrorKind::TimedOut => {}
        other => panic!("connection not closed after an oversized record: {other:?}"),
    }
    // Other and new connections are served.
    other.null().expect("existing connection still served");
    let mut n = s.client();
    n.null().expect("new connection served");
    let root = n.mount("/");
    // A 1 MiB WRITE (the largest) fits in the limit.
    let f = n.create_file(&root, b"big", 0o644);
    let data = vec![0x5a; 1 << 20];
    n.write_ok(&f, 0, &data);
    assert_eq!(n.read_all(&f), data);
}

#[test]
fn pipelined_calls_all_answered() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let f = c.create_file(&root, b"f", 0o644);
    c.write_ok(&f, 0, &[7u8; 5000]);
    let mut calls = Vec::new();
    for i in 0..64u32 {
        let (p, args) = match i % 5 {
            0 => (Proc3::Null, Vec::new()),
            1 => (Proc3::Getattr, getattr_args(&f)),
            2 => (Proc3::Lookup, to_bytes(&LookupArgs { what: dirop(&root, b"f") })),
            3 => {
                (Proc3::Read, to_bytes(&ReadArgs { file: f.clone(), offset: i as u64, count: 100 }))
            }
            _ => (
                Proc3::Write,
                to_bytes(&write_args(
                    &f,
                    10_000 + i as u64 * 10,
                    &[i as u8; 10],
                    StableHow::Unstable,
                )),
            ),
        };
        calls.push((PROGRAM, VERSION, p as u32, args));
    }
    // All 64 go out in one write before any reply is read.
    let replies = c.pipeline(&calls, 64);
    assert_eq!(replies.len(), 64);
    for (i, r) in replies.iter().enumerate() {
        match i % 5 {
            0 => assert!(r.body.is_empty()),
            1 => assert_eq!(results::<GetattrRes>(r).status(), Nfsstat3::Ok),
            2 => assert_eq!(results::<LookupRes>(r).status(), Nfsstat3::Ok),
            3 => match results::<ReadRes>(r) {
                NfsRes::Ok(rr) => assert_eq!(rr.data, vec![7u8; 100]),
                NfsRes::Err(s, _) => panic!("READ {s:?}"),
            },
            _ => assert_eq!(results::<WriteRes>(r).status(), Nfsstat3::Ok),
        }
    }
    let all = c.read_all(&f);
    for i in (4..64u32).step_by(5) {
        let at = 10_000 + i as usize * 10;
        assert_eq!(&all[at..at + 10], &[i as u8; 10]);
    }
}

#[test]
fn duplicate_request_cache_replays_remove() {
    let s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    c.create_file(&root, b"victim", 0o644);
    let args = to_bytes(&RemoveArgs { object: dirop(&root, b"victim") });
    let xid = 0x4242_0001;
    let rec = c.call_bytes(xid, PROGRAM, VERSION, Proc3::Remove as u32, &args);
    c.send_record(&rec).expect("send");
    let first = c.recv_reply().expect("reply");
    assert_eq!(results::<RemoveRes>(&first).status(), Nfsstat3::Ok);
    drop(c);

    // The retransmission on a new connection (as after a reconnect).
    let mut c2 = s.client();
    c2.send_record(&rec).expect("send");
    let second = c2.recv_reply().expect("reply");
    assert_eq!(second.raw, first.raw, "a retransmitted REMOVE gets the cached reply");
    assert_eq!(results::<RemoveRes>(&second).status(), Nfsstat3::Ok);

    // A new call (another xid) really executes: NOENT.
    let r = c2.call_raw(PROGRAM, VERSION, Proc3::Remove as u32, &args).expect("call");
    assert_eq!(results::<RemoveRes>(&r).status(), Nfsstat3::Noent);
    // Same xid but other arguments is a different call, not a replay.
    c2.create_file(&root, b"other", 0o644);
    let args2 = to_bytes(&RemoveArgs { object: dirop(&root, b"other") });
    let r = c2.call_raw_xid(xid, PROGRAM, VERSION, Proc3::Remove as u32, &args2).expect("call");
    assert_eq!(results::<RemoveRes>(&r).status(), Nfsstat3::Ok);
    assert_eq!(c2.lookup(&root, b"other").status(), Nfsstat3::Noent);
}

#[test]
fn garbage_never_crashes_the_server() {
    let seed: u64 =
        std::env::var("CAIRN_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0xC0FFEE);
    eprintln!("garbage seed {seed} (set CAIRN_FUZZ_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut s = Server::start();
    let mut c = s.client();
    let root = c.mount("/");
    let f = c.create_file(&root, b"f", 0o644);
    let pid = s.pid();

    // 1. Raw random bytes, sometimes behind a plausible record mark.
    for _ in 0..150 {
        let Ok(mut t) = TcpStream::connect(s.addr()) else { panic!("server stopped accepting") };
        t.set_read_timeout(Some(Duration::from_millis(50))).expect("timeout");
        let len = rng.gen_range(0..4096);
        let mut junk = vec![0u8; len];
        rng.fill_bytes(&mut junk);
        let mut wire = Vec::new();
        match rng.gen_range(0..3) {
            0 => wire = junk,
            1 => {
                wire.extend_from_slice(&rpc::fragment_header(true, len as u32).to_be_bytes());
                wire.extend_from_slice(&junk);
            }
            _ => {
                // A call header of a random program/procedure, random args.
                let xid = rng.gen();
                let prog =
                    [PROGRAM, nfs_proto::mount::PROGRAM, nfs_proto::portmap::PROGRAM, rng.gen()]
                        [rng.gen_range(0..4)];
                let rec = c.call_bytes(xid, prog, rng.gen_range(1..5), rng.gen_range(0..25), &junk);
                wire.extend_from_slice(&rpc::fragment_header(true, rec.len() as u32).to_be_bytes());
                wire.extend_from_slice(&rec);
            }
        }
        let _ = t.write_all(&wire);
        let mut sink = [0u8; 4096];
        let _ = t.read(&mut sink);
    }

    // 2. Valid headers, mutated arguments of every NFS procedure: each
    //    must get a reply (GARBAGE_ARGS or an NFS status).
    let valid: Vec<(Proc3, Vec<u8>)> = vec![
        (Proc3::Getattr, getattr_args(&f)),
        (
            Proc3::Setattr,
            to_bytes(&SetattrArgs { object: f.clone(), new_attributes: mode(0o644), guard: None }),
        ),
        (Proc3::Lookup, to_bytes(&LookupArgs { what: dirop(&root, b"f") })),
        (Proc3::Access, to_bytes(&AccessArgs { object: f.clone(), access: 0x3f })),
        (Proc3::Read, to_bytes(&ReadArgs { file: f.clone(), offset: 0, count: 100 })),
        (Proc3::Write, to_bytes(&write_args(&f, 0, b"hello", StableHow::Unstable))),
        (
            Proc3::Create,
            to_bytes(&CreateArgs {
                where_: dirop(&root, b"fz"),
                how: CreateHow3::Guarded(mode(0o644)),
            }),
        ),
        (
            Proc3::Mkdir,
            to_bytes(&MkdirArgs { where_: dirop(&root, b"dz"), attributes: mode(0o755) }),
        ),
        (
            Proc3::Readdir,
            to_bytes(&ReaddirArgs {
                dir: root.clone(),
                cookie: 0,
                cookieverf: [0; 8],
                count: 4096,
            }),
        ),
        (
            Proc3::Readdirplus,
            to_bytes(&ReaddirplusArgs {
                dir: root.clone(),
                cookie: 0,
                cookieverf: [0; 8],
                dircount: 4096,
                maxcount: 8192,
            }),
        ),
        (
            Proc3::Rename,
            to_bytes(&RenameArgs { from: dirop(&root, b"nope"), to: dirop(&root, b"nope2") }),
        ),
        (Proc3::Commit, to_bytes(&CommitArgs { file: f.clone(), offset: 0, count: 0 })),
    ];
    for _ in 0..400 {
        let (p, args) = &valid[rng.gen_range(0..valid.len())];
        let mut a = args.clone();
        match rng.gen_range(0..3) {
            0 => {
                let n = rng.gen_range(1..4);
                for _ in 0..n {
                    let i = rng.gen_range(0..a.len());
                    a[i] = rng.gen();
                }
            }
            1 => a.truncate(rng.gen_range(0..a.len())),
            _ => {
                // Only mutate outside the handle's MAC-checked bytes: lengths and enums.
                let i = rng.gen_range(0..a.len() / 4) * 4;
                a[i..i + 4].copy_from_slice(&rng.gen::<u32>().to_be_bytes());
            }
        }
        let r = c
            .call_raw(PROGRAM, VERSION, *p as u32, &a)
            .unwrap_or_else(|e| panic!("{p:?} with mutated args: no reply: {e}"));
        assert!(
            matches!(r.header, ReplyHeader::Success { .. } | ReplyHeader::GarbageArgs { .. }),
            "{p:?}: {:?}",
            r.header
        );
    }

    // Still alive, still the same process, still serving.
    let mut c = s.client();
    c.null().expect("NULL after garbage");
    assert_eq!(c.attr(&root).ftype, Ftype3::Dir);
    assert_eq!(s.pid(), pid);
    assert!(s.log_problems().is_empty(), "{:?}", s.log_problems());
    s.restart();
    s.client().null().expect("NULL after restart");
}
