//! Property tests of the codec: `decode(encode(x)) == x` for every args and
//! result type (RFC 4506 encodings are canonical), decoding arbitrary bytes
//! never panics, and the hostile-length cases fail without allocating.

use nfs_proto::mount::{
    self, DirPath, ExportNode, Exports, MntRes, MountBody, MountList, MountStat3,
};
use nfs_proto::nfs3::*;
use nfs_proto::portmap::{self, CallArgs, CallResult, DumpRes, Mapping};
use nfs_proto::rpc::{self, AuthSys, CallError, CallHeader, OpaqueAuth, ReplyHeader};
use nfs_proto::xdr::{from_bytes, to_bytes};
use nfs_proto::{Decoder, XdrDecode, XdrEncode, XdrError};
use proptest::collection::vec;
use proptest::prelude::*;
use std::fmt::Debug;

fn round_trip<T>(x: &T)
where
    T: for<'a> XdrDecode<'a> + XdrEncode + PartialEq + Debug,
{
    let bytes = to_bytes(x);
    assert_eq!(bytes.len() % 4, 0, "XDR encodings are 4-byte aligned");
    let back: T = from_bytes(&bytes).unwrap_or_else(|e| panic!("decode {x:?}: {e}"));
    assert_eq!(&back, x);
    // Every strict prefix is truncated input.
    if !bytes.is_empty() {
        let cut = bytes.len() / 2;
        let mut d = Decoder::new(&bytes[..cut]);
        assert!(T::decode(&mut d).is_err());
    }
}

// ------------------------------------------------------------ strategies

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}
fn fh() -> impl Strategy<Value = NfsFh3> {
    bytes(64).prop_map(NfsFh3)
}
fn name() -> impl Strategy<Value = Vec<u8>> {
    bytes(300)
}
fn ftype() -> impl Strategy<Value = Ftype3> {
    proptest::sample::select(Ftype3::ALL)
}
fn stat_err() -> impl Strategy<Value = Nfsstat3> {
    proptest::sample::select(&Nfsstat3::ALL[1..])
}
fn stable() -> impl Strategy<Value = StableHow> {
    proptest::sample::select(StableHow::ALL)
}
fn time() -> impl Strategy<Value = Nfstime3> {
    (any::<u32>(), any::<u32>()).prop_map(|(seconds, nseconds)| Nfstime3 { seconds, nseconds })
}
fn spec() -> impl Strategy<Value = Specdata3> {
    (any::<u32>(), any::<u32>())
        .prop_map(|(specdata1, specdata2)| Specdata3 { specdata1, specdata2 })
}
fn fattr() -> impl Strategy<Value = Fattr3> {
    (
        (ftype(), any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()),
        (any::<u64>(), any::<u64>(), spec(), any::<u64>(), any::<u64>()),
        (time(), time(), time()),
    )
        .prop_map(
            |(
                (ftype, mode, nlink, uid, gid),
                (size, used, rdev, fsid, fileid),
                (atime, mtime, ctime),
            )| Fattr3 {
                ftype,
                mode,
                nlink,
                uid,
                gid,
                size,
                used,
                rdev,
                fsid,
                fileid,
                atime,
                mtime,
                ctime,
            },
        )
}
fn post_op_attr() -> impl Strategy<Value = PostOpAttr> {
    proptest::option::of(fattr()).prop_map(PostOpAttr)
}
fn wcc_attr() -> impl Strategy<Value = WccAttr> {
    (any::<u64>(), time(), time()).prop_map(|(size, mtime, ctime)| WccAttr { size, mtime, ctime })
}
fn wcc() -> impl Strategy<Value = WccData> {
    (proptest::option::of(wcc_attr()), post_op_attr())
        .prop_map(|(b, after)| WccData { before: PreOpAttr(b), after })
}
fn post_op_fh() -> impl Strategy<Value = PostOpFh3> {
    proptest::option::of(fh()).prop_map(PostOpFh3)
}
fn set_time() -> impl Strategy<Value = SetTime> {
    prop_oneof![
        Just(SetTime::DontChange),
        Just(SetTime::ServerTime),
        time().prop_map(SetTime::ClientTime)
    ]
}
fn sattr() -> impl Strategy<Value = Sattr3> {
    (
        any::<Option<u32>>(),
        any::<Option<u32>>(),
        any::<Option<u32>>(),
        any::<Option<u64>>(),
        set_time(),
        set_time(),
    )
        .prop_map(|(mode, uid, gid, size, atime, mtime)| Sattr3 {
            mode,
            uid,
            gid,
            size,
            atime,
            mtime,
        })
}
fn diropargs() -> impl Strategy<Value = DirOpArgs3> {
    (fh(), name()).prop_map(|(dir, name)| DirOpArgs3 { dir, name })
}
fn verf() -> impl Strategy<Value = [u8; 8]> {
    any::<[u8; 8]>()
}
fn res<T: Debug + Clone, F: Debug + Clone>(
    ok: impl Strategy<Value = T>,
    fail: impl Strategy<Value = F>,
) -> impl Strategy<Value = NfsRes<T, F>> {
    prop_oneof![ok.prop_map(NfsRes::Ok), (stat_err(), fail).prop_map(|(s, f)| NfsRes::Err(s, f))]
}
fn create_ok() -> impl Strategy<Value = CreateResOk> {
    (post_op_fh(), post_op_attr(), wcc()).prop_map(|(obj, obj_attributes, dir_wcc)| CreateResOk {
        obj,
        obj_attributes,
        dir_wcc,
    })
}
fn create_fail() -> impl Strategy<Value = CreateResFail> {
    wcc().prop_map(|dir_wcc| CreateResFail { dir_wcc })
}
fn obj_attr_fail() -> impl Strategy<Value = ObjAttrFail> {
    post_op_attr().prop_map(|obj_attributes| ObjAttrFail { obj_attributes })
}
fn entry() -> impl Strategy<Value = Entry3> {
    (any::<u64>(), name(), any::<u64>()).prop_map(|(fileid, name, cookie)| Entry3 {
        fileid,
        name,
        cookie,
    })
}
fn entryplus() -> impl Strategy<Value = Entryplus3> {
    (any::<u64>(), name(), any::<u64>(), post_op_attr(), post_op_fh()).prop_map(
        |(fileid, name, cookie, name_attributes, name_handle)| Entryplus3 {
            fileid,
            name,
            cookie,
            name_attributes,
            name_handle,
        },
    )
}
fn auth() -> impl Strategy<Value = OpaqueAuth> {
    (any::<u32>(), bytes(400)).prop_map(|(flavor, body)| OpaqueAuth { flavor, body })
}

// ------------------------------------------------------------ round trips

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn basic_types(f in fattr(), s in sattr(), w in wcc(), p in post_op_fh(), d in diropargs()) {
        round_trip(&f);
        prop_assert_eq!(to_bytes(&f).len(), FATTR3_LEN);
        round_trip(&s);
        round_trip(&w);
        round_trip(&p);
        prop_assert_eq!(to_bytes(&p).len(), p.encoded_len());
        round_trip(&d);
    }

    #[test]
    fn args_simple(
        o in fh(), s in sattr(), g in proptest::option::of(time()), dop in diropargs(),
        a in any::<u32>(), off in any::<u64>(), c in any::<u32>(),
    ) {
        round_trip(&GetattrArgs { object: o.clone() });
        round_trip(&SetattrArgs { object: o.clone(), new_attributes: s.clone(), guard: g });
        round_trip(&LookupArgs { what: dop.clone() });
        round_trip(&AccessArgs { object: o.clone(), access: a });
        round_trip(&ReadlinkArgs { symlink: o.clone() });
        round_trip(&ReadArgs { file: o.clone(), offset: off, count: c });
        round_trip(&RemoveArgs { object: dop.clone() });
        round_trip(&RmdirArgs { object: dop.clone() });
        round_trip(&FsstatArgs { fsroot: o.clone() });
        round_trip(&FsinfoArgs { fsroot: o.clone() });
        round_trip(&PathconfArgs { object: o.clone() });
        round_trip(&CommitArgs { file: o.clone(), offset: off, count: c });
        round_trip(&MkdirArgs { where_: dop.clone(), attributes: s });
        round_trip(&RenameArgs { from: dop.clone(), to: DirOpArgs3 { dir: o.clone(), name: b"x".to_vec() } });
        round_trip(&LinkArgs { file: o, link: dop });
    }

    #[test]
    fn args_unions(
        dop in diropargs(), s in sattr(), v in verf(), sp in spec(), t in ftype(),
        target in bytes(600), data in bytes(3000), st in stable(),
        o in fh(), off in any::<u64>(), c in any::<u32>(), c2 in any::<u32>(),
    ) {
        for how in [CreateHow3::Unchecked(s.clone()), CreateHow3::Guarded(s.clone()), CreateHow3::Exclusive(v)] {
            round_trip(&CreateArgs { where_: dop.clone(), how });
        }
        let dev = DeviceData3 { dev_attributes: s.clone(), spec: sp };
        let other = match t {
            Ftype3::Reg | Ftype3::Dir | Ftype3::Lnk => t,
            _ => Ftype3::Reg,
        };
        for what in [
            MknodData3::Chr(dev.clone()), MknodData3::Blk(dev), MknodData3::Sock(s.clone()),
            MknodData3::Fifo(s.clone()), MknodData3::Other(other),
        ] {
            round_trip(&MknodArgs { where_: dop.clone(), what });
        }
        round_trip(&SymlinkArgs {
            where_: dop,
            symlink: SymlinkData3 { symlink_attributes: s, symlink_data: target },
        });
        round_trip(&WriteArgs { file: o.clone(), offset: off, count: c, stable: st, data });
        round_trip(&ReaddirArgs { dir: o.clone(), cookie: off, cookieverf: v, count: c });
        round_trip(&ReaddirplusArgs { dir: o, cookie: off, cookieverf: v, dircount: c, maxcount: c2 });
    }

    #[test]
    fn results_attr(
        r1 in res(fattr().prop_map(|obj_attributes| GetattrResOk { obj_attributes }), Just(())),
        r2 in res(wcc().prop_map(|obj_wcc| SetattrResOk { obj_wcc }), wcc().prop_map(|obj_wcc| SetattrResFail { obj_wcc })),
        r3 in res(
            (fh(), post_op_attr(), post_op_attr()).prop_map(|(object, obj_attributes, dir_attributes)| LookupResOk { object, obj_attributes, dir_attributes }),
            post_op_attr().prop_map(|dir_attributes| LookupResFail { dir_attributes }),
        ),
        r4 in res(
            (post_op_attr(), any::<u32>()).prop_map(|(obj_attributes, access)| AccessResOk { obj_attributes, access }),
            post_op_attr().prop_map(|obj_attributes| AccessResFail { obj_attributes }),
        ),
        r5 in res(
            (post_op_attr(), bytes(600)).prop_map(|(symlink_attributes, data)| ReadlinkResOk { symlink_attributes, data }),
            post_op_attr().prop_map(|symlink_attributes| ReadlinkResFail { symlink_attributes }),
        ),
    ) {
        round_trip(&r1);
        round_trip(&r2);
        round_trip(&r3);
        round_trip(&r4);
        round_trip(&r5);
    }

    #[test]
    fn results_data(
        r1 in res(
            (post_op_attr(), any::<bool>(), bytes(3000)).prop_map(|(file_attributes, eof, data)| ReadResOk { file_attributes, count: data.len() as u32, eof, data }),
            post_op_attr().prop_map(|file_attributes| ReadResFail { file_attributes }),
        ),
        r2 in res(
            (wcc(), any::<u32>(), stable(), verf()).prop_map(|(file_wcc, count, committed, verf)| WriteResOk { file_wcc, count, committed, verf }),
            wcc().prop_map(|file_wcc| WriteResFail { file_wcc }),
        ),
        r3 in res(create_ok(), create_fail()),
        r4 in res(wcc().prop_map(|dir_wcc| DirWcc { dir_wcc }), wcc().prop_map(|dir_wcc| DirWcc { dir_wcc })),
        r5 in res(
            (wcc(), wcc()).prop_map(|(fromdir_wcc, todir_wcc)| RenameWcc { fromdir_wcc, todir_wcc }),
            (wcc(), wcc()).prop_map(|(fromdir_wcc, todir_wcc)| RenameWcc { fromdir_wcc, todir_wcc }),
        ),
        r6 in res(
            (post_op_attr(), wcc()).prop_map(|(file_attributes, linkdir_wcc)| LinkWcc { file_attributes, linkdir_wcc }),
            (post_op_attr(), wcc()).prop_map(|(file_attributes, linkdir_wcc)| LinkWcc { file_attributes, linkdir_wcc }),
        ),
        r7 in res(
            (wcc(), verf()).prop_map(|(file_wcc, verf)| CommitResOk { file_wcc, verf }),
            wcc().prop_map(|file_wcc| CommitResFail { file_wcc }),
        ),
    ) {
        round_trip(&r1);
        if let NfsRes::Ok(ok) = &r1 {
            if ok.file_attributes.0.is_some() {
                prop_assert_eq!(to_bytes(&r1).len(), READ3_RES_OK_FIXED_LEN + nfs_proto::xdr::opaque_len(ok.data.len()) - 4);
            }
        }
        round_trip(&r2);
        round_trip(&r3);
        let mkdir: MkdirRes = r3.clone();
        round_trip(&mkdir);
        round_trip(&r4);
        round_trip(&r5);
        round_trip(&r6);
        round_trip(&r7);
    }

    #[test]
    fn results_dir(
        attrs in post_op_attr(), v in verf(), eof in any::<bool>(),
        es in vec(entry(), 0..8), eps in vec(entryplus(), 0..6), st in stat_err(),
    ) {
        let ok = ReaddirResOk { dir_attributes: attrs.clone(), cookieverf: v, entries: es, eof };
        let sum: usize = ok.entries.iter().map(Entry3::encoded_len).sum();
        let r: ReaddirRes = NfsRes::Ok(ok);
        let len = to_bytes(&r).len();
        prop_assert_eq!(len, READDIR3_RES_OK_FIXED_LEN - POST_OP_ATTR_LEN_MAX + attrs.encoded_len() + sum);
        round_trip(&r);
        round_trip(&ReaddirRes::Err(st, ReaddirResFail { dir_attributes: attrs.clone() }));

        let okp = ReaddirplusResOk { dir_attributes: attrs.clone(), cookieverf: v, entries: eps, eof };
        let sum: usize = okp.entries.iter().map(Entryplus3::encoded_len).sum();
        let r: ReaddirplusRes = NfsRes::Ok(okp);
        let len = to_bytes(&r).len();
        prop_assert_eq!(len, READDIR3_RES_OK_FIXED_LEN - POST_OP_ATTR_LEN_MAX + attrs.encoded_len() + sum);
        round_trip(&r);
        round_trip(&ReaddirplusRes::Err(st, ReaddirplusResFail { dir_attributes: attrs }));
    }

    #[test]
    fn results_fs(
        attrs in post_op_attr(), n in vec(any::<u64>(), 7), u in vec(any::<u32>(), 8),
        t in time(), b in any::<[bool; 4]>(), f in obj_attr_fail(), st in stat_err(),
    ) {
        let fsstat: FsstatRes = NfsRes::Ok(FsstatResOk {
            obj_attributes: attrs.clone(), tbytes: n[0], fbytes: n[1], abytes: n[2],
            tfiles: n[3], ffiles: n[4], afiles: n[5], invarsec: u[0],
        });
        round_trip(&fsstat);
        let fsinfo: FsinfoRes = NfsRes::Ok(FsinfoResOk {
            obj_attributes: attrs.clone(), rtmax: u[0], rtpref: u[1], rtmult: u[2], wtmax: u[3],
            wtpref: u[4], wtmult: u[5], dtpref: u[6], maxfilesize: n[6], time_delta: t,
            properties: u[7],
        });
        round_trip(&fsinfo);
        let pathconf: PathconfRes = NfsRes::Ok(PathconfResOk {
            obj_attributes: attrs, linkmax: u[0], name_max: u[1], no_trunc: b[0],
            chown_restricted: b[1], case_insensitive: b[2], case_preserving: b[3],
        });
        round_trip(&pathconf);
        round_trip(&FsstatRes::Err(st, f.clone()));
        round_trip(&FsinfoRes::Err(st, f.clone()));
        round_trip(&PathconfRes::Err(st, f));
    }

    #[test]
    fn rpc_and_side_programs(
        xid in any::<u32>(), prog in any::<u32>(), vers in any::<u32>(), proc_ in any::<u32>(),
        cred in auth(), verf in auth(),
        machinename in bytes(255), uid in any::<u32>(), gid in any::<u32>(), gids in vec(any::<u32>(), 0..=16),
        maps in vec(any::<[u32; 4]>(), 0..5), args in bytes(100),
        paths in vec((bytes(255), bytes(1024)), 0..4), groups in vec(bytes(255), 0..4),
        f in fh(), flavors in vec(any::<u32>(), 0..5),
    ) {
        let h = CallHeader { xid, rpcvers: 2, prog, vers, proc_, cred: cred.clone(), verf: verf.clone() };
        let bytes = rpc::encode_call(xid, prog, vers, proc_, &cred, &verf).into_inner();
        prop_assert_eq!(&bytes, &to_bytes(&h));
        let mut d = Decoder::new(&bytes);
        prop_assert_eq!(CallHeader::decode(&mut d), Ok(h));
        prop_assert!(d.is_empty());

        let sys = AuthSys { stamp: xid, machinename, uid, gid, gids };
        round_trip(&sys);
        prop_assert_eq!(AuthSys::from_body(&OpaqueAuth::sys(&sys).body), Ok(sys));

        for r in [
            ReplyHeader::Success { xid }, ReplyHeader::ProgMismatch { xid, low: vers, high: prog },
            ReplyHeader::AuthError { xid, stat: rpc::AuthStat::RejectedCred },
        ] {
            round_trip(&r);
        }

        let maps: Vec<Mapping> = maps.into_iter().map(|[prog, vers, prot, port]| Mapping { prog, vers, prot, port }).collect();
        round_trip(&DumpRes(maps.clone()));
        if let Some(m) = maps.first() {
            round_trip(m);
        }
        round_trip(&CallArgs { prog, vers, proc_, args: args.clone() });
        round_trip(&CallResult { port: prog, res: args });

        round_trip(&MountList(paths.iter().map(|(h, d)| MountBody {
            hostname: mount::Name(h.clone()), directory: DirPath(d.clone()),
        }).collect()));
        round_trip(&Exports(paths.iter().map(|(_, d)| ExportNode {
            dir: DirPath(d.clone()), groups: groups.iter().cloned().map(mount::Name).collect(),
        }).collect()));
        round_trip(&DirPath(groups.concat()));
        round_trip(&MntRes::Ok { fhandle: f, auth_flavors: flavors });
        round_trip(&MntRes::Err(MountStat3::Acces));
    }
}

// ------------------------------------------------------------ hostile input

fn decode_all_args(b: &[u8]) {
    macro_rules! try_all {
        ($($t:ty),*) => {$(
            let mut d = Decoder::new(b);
            let _ = <$t>::decode(&mut d);
            assert!(d.position() <= b.len());
        )*};
    }
    try_all!(
        GetattrArgs,
        SetattrArgs,
        LookupArgs,
        AccessArgs,
        ReadlinkArgs,
        ReadArgs,
        WriteArgs,
        CreateArgs,
        MkdirArgs,
        SymlinkArgs,
        MknodArgs,
        RemoveArgs,
        RmdirArgs,
        RenameArgs,
        LinkArgs,
        ReaddirArgs,
        ReaddirplusArgs,
        FsstatArgs,
        FsinfoArgs,
        PathconfArgs,
        CommitArgs,
        GetattrRes,
        SetattrRes,
        LookupRes,
        AccessRes,
        ReadlinkRes,
        ReadRes,
        WriteRes,
        CreateRes,
        RemoveRes,
        RenameRes,
        LinkRes,
        ReaddirRes,
        ReaddirplusRes,
        FsstatRes,
        FsinfoRes,
        PathconfRes,
        CommitRes,
        AuthSys,
        OpaqueAuth,
        ReplyHeader,
        DirPath,
        MntRes,
        MountList,
        Exports,
        Mapping,
        DumpRes,
        CallArgs,
        CallResult
    );
    let mut d = Decoder::new(b);
    if CallHeader::decode(&mut d).is_ok() {
        decode_all_args(d.rest());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(b in bytes(512)) {
        decode_all_args(&b);
    }

    /// Random words drawn from small values hit more union arms and
    /// `value_follows = TRUE` paths than uniform bytes do.
    #[test]
    fn random_small_words_never_panic(words in vec(prop_oneof![0u32..4, any::<u32>(), Just(u32::MAX)], 0..128)) {
        let b: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
        decode_all_args(&b);
        // And behind a valid call header.
        let mut call = rpc::encode_call(1, PROGRAM, VERSION, 7, &OpaqueAuth::none(), &OpaqueAuth::none()).into_inner();
        call.extend_from_slice(&b);
        decode_all_args(&call);
    }
}

#[test]
fn truncated_input_is_truncated() {
    let w = WriteArgs {
        file: NfsFh3(vec![1; 32]),
        offset: 4096,
        count: 5,
        stable: StableHow::FileSync,
        data: b"hello".to_vec(),
    };
    let b = to_bytes(&w);
    for cut in 0..b.len() {
        assert_eq!(from_bytes::<WriteArgs>(&b[..cut]), Err(XdrError::Truncated), "cut at {cut}");
    }
    assert_eq!(from_bytes::<WriteArgs>(&b), Ok(w));
}

#[test]
fn length_ffffffff_is_too_long_without_allocation() {
    // A WRITE whose data length is 0xFFFFFFFF: must fail before allocating.
    let mut b = to_bytes(&NfsFh3(vec![0; 8]));
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // offset
    b.extend_from_slice(&[0, 0, 0, 5]); // count
    b.extend_from_slice(&[0, 0, 0, 2]); // FILE_SYNC
    b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    assert_eq!(
        from_bytes::<WriteArgs>(&b),
        Err(XdrError::TooLong { len: u32::MAX, max: WRITE_SIZE_MAX_BYTES })
    );
    // Same for a file handle, a file name, an auth body, a gid array.
    let ff = [0xff, 0xff, 0xff, 0xff];
    assert_eq!(
        from_bytes::<GetattrArgs>(&ff),
        Err(XdrError::TooLong { len: u32::MAX, max: NFS3_FHSIZE })
    );
    let mut b = to_bytes(&NfsFh3(vec![]));
    b.extend_from_slice(&ff);
    assert_eq!(
        from_bytes::<LookupArgs>(&b),
        Err(XdrError::TooLong { len: u32::MAX, max: FILENAME_DECODE_MAX_BYTES })
    );
    let b = [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(
        from_bytes::<OpaqueAuth>(&b),
        Err(XdrError::TooLong { len: u32::MAX, max: rpc::MAX_AUTH_BYTES })
    );
}

#[test]
fn file_names_up_to_1024_decode_so_the_server_can_say_nametoolong() {
    // RFC 1813 §3.3.3: the server answers NFS3ERR_NAMETOOLONG, which needs the
    // name decoded first.
    let ok = LookupArgs { what: DirOpArgs3 { dir: NfsFh3(vec![7]), name: vec![b'a'; 1024] } };
    assert_eq!(from_bytes::<LookupArgs>(&to_bytes(&ok)), Ok(ok.clone()));
    let mut long = ok;
    long.what.name.push(b'a');
    assert_eq!(
        from_bytes::<LookupArgs>(&to_bytes(&long)),
        Err(XdrError::TooLong { len: 1025, max: FILENAME_DECODE_MAX_BYTES })
    );
}

#[test]
fn auth_sys_with_17_gids_is_rejected() {
    // RFC 5531 Appendix A: `unsigned int gids<16>`.
    let sys = AuthSys { gids: (0..17).collect(), ..AuthSys::default() };
    let cred = OpaqueAuth::sys(&sys);
    assert_eq!(AuthSys::from_body(&cred.body), Err(XdrError::TooLong { len: 17, max: 16 }));
}

#[test]
fn mknod_of_regular_file_decodes_to_other() {
    // RFC 1813 §3.3.11: NF3REG/NF3DIR/NF3LNK are valid XDR (default: void),
    // the server answers NFS3ERR_BADTYPE.
    let mut b = to_bytes(&DirOpArgs3 { dir: NfsFh3(vec![1, 2]), name: b"n".to_vec() });
    b.extend_from_slice(&[0, 0, 0, 1]);
    let a: MknodArgs = from_bytes(&b).expect("valid XDR");
    assert_eq!(a.what, MknodData3::Other(Ftype3::Reg));
    b.extend_from_slice(&[0, 0, 0, 1]);
    assert_eq!(from_bytes::<MknodArgs>(&b), Err(XdrError::TrailingBytes(4)));
}

/// A byte-exact RPC call of NFSPROC3_GETATTR, written by hand from
/// RFC 5531 §9 (call body), Appendix A (authsys_parms) and RFC 1813 §3.3.1.
#[test]
fn known_vector_getattr_call() {
    #[rustfmt::skip]
    let wire: &[u8] = &[
        0x12, 0x34, 0x56, 0x78, // xid
        0, 0, 0, 0,             // msg_type CALL
        0, 0, 0, 2,             // rpcvers 2
        0, 1, 0x86, 0xa3,       // prog 100003
        0, 0, 0, 3,             // vers 3
        0, 0, 0, 1,             // proc GETATTR
        0, 0, 0, 1,             // cred flavor AUTH_SYS
        0, 0, 0, 32,            // cred body length
          0, 0, 0, 0x2a,        //   stamp 42
          0, 0, 0, 5,           //   machinename length 5
          b'h', b'o', b's', b't', b'1', 0, 0, 0, // "host1" + 3 bytes padding
          0, 0, 0x03, 0xe8,     //   uid 1000
          0, 0, 0x03, 0xe8,     //   gid 1000
          0, 0, 0, 1,           //   gids count 1
          0, 0, 0, 10,          //   gid 10
        0, 0, 0, 0,             // verf flavor AUTH_NONE
        0, 0, 0, 0,             // verf body length 0
        0, 0, 0, 6,             // GETATTR3args.object length 6
        0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0, 0, // handle + 2 bytes padding
    ];
    let sys =
        AuthSys { stamp: 42, machinename: b"host1".to_vec(), uid: 1000, gid: 1000, gids: vec![10] };
    let mut e = rpc::encode_call(
        0x1234_5678,
        PROGRAM,
        VERSION,
        Proc3::Getattr as u32,
        &OpaqueAuth::sys(&sys),
        &OpaqueAuth::none(),
    );
    let args = GetattrArgs { object: NfsFh3(vec![0xde, 0xad, 0xbe, 0xef, 1, 2]) };
    args.encode(&mut e);
    assert_eq!(e.as_slice(), wire);

    let mut d = Decoder::new(wire);
    let h = CallHeader::decode(&mut d).expect("valid call");
    assert_eq!((h.xid, h.prog, h.vers, h.proc_), (0x1234_5678, 100003, 3, 1));
    assert_eq!(Proc3::from_u32(h.proc_), Some(Proc3::Getattr));
    assert_eq!(h.cred.flavor, rpc::AUTH_SYS);
    assert_eq!(AuthSys::from_body(&h.cred.body), Ok(sys));
    assert_eq!(h.verf, OpaqueAuth::none());
    assert_eq!(GetattrArgs::decode(&mut d), Ok(args));
    assert!(d.is_empty());
}

#[test]
fn call_header_errors_carry_what_the_server_needs() {
    let mut bytes =
        rpc::encode_call(9, PROGRAM, VERSION, 0, &OpaqueAuth::none(), &OpaqueAuth::none())
            .into_inner();
    bytes[8..12].copy_from_slice(&3u32.to_be_bytes());
    let e = CallHeader::decode(&mut Decoder::new(&bytes)).expect_err("rpcvers 3");
    assert_eq!(e, CallError::RpcMismatch { xid: 9, rpcvers: 3 });
    assert_eq!(e.xid(), Some(9));
    let reply = rpc::rpc_mismatch(9, 2, 2).into_inner();
    assert_eq!(
        rpc::decode_reply(&mut Decoder::new(&reply)),
        Ok(ReplyHeader::RpcMismatch { xid: 9, low: 2, high: 2 })
    );
    // Truncated cred: the xid is known, the header is malformed.
    let bytes = rpc::encode_call(9, PROGRAM, VERSION, 0, &OpaqueAuth::none(), &OpaqueAuth::none())
        .into_inner();
    assert!(matches!(
        CallHeader::decode(&mut Decoder::new(&bytes[..30])),
        Err(CallError::Malformed { xid: 9, err: XdrError::Truncated })
    ));
    let _ = portmap::PROGRAM;
}
