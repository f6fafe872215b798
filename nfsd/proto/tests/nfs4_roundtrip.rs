//! NFSv4 codec tests: `decode(encode(x)) == x` for COMPOUND requests and
//! replies made of arbitrary operations and for `Fattr` with random
//! attribute subsets; hostile input never panics nor over-allocates; and a
//! few byte vectors written by hand from the RFC XDR (RFC 8881 §16.2,
//! §18.46, §18.7, RFC 7530 §15.2).

use nfs_proto::nfs4::attr::*;
use nfs_proto::nfs4::*;
use nfs_proto::rpc::AuthSys;
use nfs_proto::xdr::{from_bytes, to_bytes};
use nfs_proto::{Decoder, XdrDecode, XdrEncode, XdrError};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use std::fmt::Debug;

fn round_trip<T>(x: &T)
where
    T: for<'a> XdrDecode<'a> + XdrEncode + PartialEq + Debug,
{
    let bytes = to_bytes(x);
    assert_eq!(bytes.len() % 4, 0, "XDR encodings are 4-byte aligned");
    let back: T = from_bytes(&bytes).unwrap_or_else(|e| panic!("decode {x:?}: {e}"));
    assert_eq!(&back, x);
}

// ------------------------------------------------------------ strategies

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}
fn name() -> impl Strategy<Value = Vec<u8>> {
    bytes(40)
}
fn fh() -> impl Strategy<Value = NfsFh4> {
    bytes(128).prop_map(NfsFh4)
}
fn stateid() -> impl Strategy<Value = Stateid4> {
    (any::<u32>(), any::<[u8; 12]>()).prop_map(|(seqid, other)| Stateid4 { seqid, other })
}
fn bitmap() -> impl Strategy<Value = Bitmap4> {
    vec(any::<u32>(), 0..=3).prop_map(Bitmap4)
}
fn fattr4() -> impl Strategy<Value = Fattr4> {
    (bitmap(), bytes(64)).prop_map(|(attrmask, mut attr_vals)| {
        attr_vals.truncate(attr_vals.len() / 4 * 4);
        Fattr4 { attrmask, attr_vals }
    })
}
fn time() -> impl Strategy<Value = Nfstime4> {
    (any::<i64>(), any::<u32>()).prop_map(|(seconds, nseconds)| Nfstime4 { seconds, nseconds })
}
fn cinfo() -> impl Strategy<Value = ChangeInfo4> {
    (any::<bool>(), any::<u64>(), any::<u64>()).prop_map(|(atomic, before, after)| ChangeInfo4 {
        atomic,
        before,
        after,
    })
}
fn owner() -> impl Strategy<Value = StateOwner4> {
    (any::<u64>(), bytes(64)).prop_map(|(clientid, owner)| StateOwner4 { clientid, owner })
}
fn locktype() -> impl Strategy<Value = NfsLockType4> {
    select(NfsLockType4::ALL)
}
fn stable() -> impl Strategy<Value = StableHow4> {
    select(StableHow4::ALL)
}
fn stat_err() -> impl Strategy<Value = Nfsstat4> {
    select(&Nfsstat4::ALL[1..])
}
fn ace() -> impl Strategy<Value = Nfsace4> {
    (any::<u32>(), any::<u32>(), any::<u32>(), bytes(20))
        .prop_map(|(type_, flag, access_mask, who)| Nfsace4 { type_, flag, access_mask, who })
}
fn netaddr() -> impl Strategy<Value = Netaddr4> {
    (bytes(8), bytes(30)).prop_map(|(na_r_netid, na_r_addr)| Netaddr4 { na_r_netid, na_r_addr })
}
fn impl_id() -> impl Strategy<Value = NfsImplId4> {
    (bytes(20), bytes(20), time()).prop_map(|(nii_domain, nii_name, nii_date)| NfsImplId4 {
        nii_domain,
        nii_name,
        nii_date,
    })
}
fn sp_ops() -> impl Strategy<Value = StateProtectOps4> {
    (bitmap(), bitmap()).prop_map(|(spo_must_enforce, spo_must_allow)| StateProtectOps4 {
        spo_must_enforce,
        spo_must_allow,
    })
}
fn channel_attrs() -> impl Strategy<Value = ChannelAttrs4> {
    (any::<[u32; 6]>(), any::<Option<u32>>()).prop_map(|(a, ca_rdma_ird)| ChannelAttrs4 {
        ca_headerpadsize: a[0],
        ca_maxrequestsize: a[1],
        ca_maxresponsesize: a[2],
        ca_maxresponsesize_cached: a[3],
        ca_maxoperations: a[4],
        ca_maxrequests: a[5],
        ca_rdma_ird,
    })
}
fn cb_sec() -> impl Strategy<Value = CallbackSecParms4> {
    prop_oneof![
        Just(CallbackSecParms4::AuthNone),
        (any::<u32>(), bytes(16), any::<u32>(), any::<u32>(), vec(any::<u32>(), 0..=16)).prop_map(
            |(stamp, machinename, uid, gid, gids)| CallbackSecParms4::AuthSys(AuthSys {
                stamp,
                machinename,
                uid,
                gid,
                gids
            })
        ),
        (select(RpcGssSvc::ALL), bytes(16), bytes(16)).prop_map(|(gcbp_service, a, b)| {
            CallbackSecParms4::RpcsecGss(GssCbHandles4 {
                gcbp_service,
                gcbp_handle_from_server: a,
                gcbp_handle_from_client: b,
            })
        }),
    ]
}
fn createhow() -> impl Strategy<Value = Createhow4> {
    prop_oneof![
        fattr4().prop_map(Createhow4::Unchecked),
        fattr4().prop_map(Createhow4::Guarded),
        any::<[u8; 8]>().prop_map(Createhow4::Exclusive),
        (any::<[u8; 8]>(), fattr4()).prop_map(|(cva_verf, cva_attrs)| {
            Createhow4::Exclusive41(Creatverfattr { cva_verf, cva_attrs })
        }),
    ]
}
fn claim() -> impl Strategy<Value = OpenClaim4> {
    prop_oneof![
        name().prop_map(OpenClaim4::Null),
        select(OpenDelegationType4::ALL).prop_map(OpenClaim4::Previous),
        (stateid(), name()).prop_map(|(delegate_stateid, file)| {
            OpenClaim4::DelegateCur(OpenClaimDelegateCur4 { delegate_stateid, file })
        }),
        name().prop_map(OpenClaim4::DelegatePrev),
        Just(OpenClaim4::Fh),
        stateid().prop_map(OpenClaim4::DelegCurFh),
        Just(OpenClaim4::DelegPrevFh),
    ]
}
fn createtype() -> impl Strategy<Value = Createtype4> {
    let spec =
        any::<(u32, u32)>().prop_map(|(specdata1, specdata2)| Specdata4 { specdata1, specdata2 });
    prop_oneof![
        bytes(100).prop_map(Createtype4::Lnk),
        spec.clone().prop_map(Createtype4::Blk),
        spec.prop_map(Createtype4::Chr),
        Just(Createtype4::Sock),
        Just(Createtype4::Fifo),
        Just(Createtype4::Dir),
        select(&[NfsFtype4::Reg, NfsFtype4::Attrdir, NfsFtype4::Namedattr][..])
            .prop_map(Createtype4::Other),
    ]
}
fn locker() -> impl Strategy<Value = Locker4> {
    prop_oneof![
        (any::<u32>(), stateid(), any::<u32>(), owner()).prop_map(
            |(open_seqid, open_stateid, lock_seqid, lock_owner)| Locker4::OpenOwner(
                OpenToLockOwner4 { open_seqid, open_stateid, lock_seqid, lock_owner }
            )
        ),
        (stateid(), any::<u32>()).prop_map(|(lock_stateid, lock_seqid)| Locker4::LockOwner(
            ExistLockOwner4 { lock_stateid, lock_seqid }
        )),
    ]
}
fn state_protect_a() -> impl Strategy<Value = StateProtect4A> {
    prop_oneof![
        Just(StateProtect4A::None),
        sp_ops().prop_map(StateProtect4A::MachCred),
        (sp_ops(), vec(bytes(9), 0..3), vec(bytes(9), 0..3), any::<u32>(), any::<u32>()).prop_map(
            |(ssp_ops, ssp_hash_algs, ssp_encr_algs, ssp_window, ssp_num_gss_handles)| {
                StateProtect4A::Ssv(SsvSpParms4 {
                    ssp_ops,
                    ssp_hash_algs,
                    ssp_encr_algs,
                    ssp_window,
                    ssp_num_gss_handles,
                })
            }
        ),
    ]
}
fn state_protect_r() -> impl Strategy<Value = StateProtect4R> {
    prop_oneof![
        Just(StateProtect4R::None),
        sp_ops().prop_map(StateProtect4R::MachCred),
        (sp_ops(), any::<[u32; 4]>(), vec(bytes(9), 0..3)).prop_map(|(spi_ops, a, spi_handles)| {
            StateProtect4R::Ssv(SsvProtInfo4 {
                spi_ops,
                spi_hash_alg: a[0],
                spi_encr_alg: a[1],
                spi_ssv_len: a[2],
                spi_window: a[3],
                spi_handles,
            })
        }),
    ]
}
fn delegation() -> impl Strategy<Value = OpenDelegation4> {
    prop_oneof![
        Just(OpenDelegation4::None),
        (stateid(), any::<bool>(), ace()).prop_map(|(stateid, recall, permissions)| {
            OpenDelegation4::Read(OpenReadDelegation4 { stateid, recall, permissions })
        }),
        (stateid(), any::<bool>(), any::<u64>(), ace()).prop_map(
            |(stateid, recall, l, permissions)| {
                OpenDelegation4::Write(OpenWriteDelegation4 {
                    stateid,
                    recall,
                    space_limit: if l % 2 == 0 {
                        NfsSpaceLimit4::Size(l)
                    } else {
                        NfsSpaceLimit4::Blocks(NfsModifiedLimit4 {
                            num_blocks: l as u32,
                            bytes_per_block: (l >> 32) as u32,
                        })
                    },
                    permissions,
                })
            }
        ),
        any::<bool>().prop_map(|b| OpenDelegation4::NoneExt(OpenNoneDelegation4::Contention(b))),
        any::<bool>().prop_map(|b| OpenDelegation4::NoneExt(OpenNoneDelegation4::Resource(b))),
        select(
            WhyNoDelegation4::ALL
                .iter()
                .copied()
                .filter(|w| !matches!(w, WhyNoDelegation4::Contention | WhyNoDelegation4::Resource))
                .collect::<Vec<_>>()
        )
        .prop_map(|w| OpenDelegation4::NoneExt(OpenNoneDelegation4::Other(w))),
    ]
}
fn secinfo() -> impl Strategy<Value = Secinfo4> {
    prop_oneof![
        any::<u32>().prop_filter("not RPCSEC_GSS", |f| *f != 6).prop_map(Secinfo4::Flavor),
        (bytes(11), any::<u32>(), select(RpcGssSvc::ALL)).prop_map(|(oid, qop, service)| {
            Secinfo4::RpcsecGss(RpcsecGssInfo { oid, qop, service })
        }),
    ]
}
fn entry() -> impl Strategy<Value = Entry4> {
    (any::<u64>(), name(), fattr4()).prop_map(|(cookie, name, attrs)| Entry4 {
        cookie,
        name,
        attrs,
    })
}
/// Opnums no operation has (for `ArgOp::Illegal`).
fn undefined_opnum() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..3, 76u32..10044, Just(10044u32), 10045u32..]
}
fn not_supported_op() -> impl Strategy<Value = Opnum4> {
    select(Opnum4::ALL.iter().copied().filter(|o| o.is_not_supported()).collect::<Vec<_>>())
}

fn arg_op() -> BoxedStrategy<ArgOp> {
    let a = prop_oneof![
        any::<u32>().prop_map(|access| ArgOp::Access(AccessArgs { access })),
        (any::<u32>(), stateid())
            .prop_map(|(seqid, open_stateid)| ArgOp::Close(CloseArgs { seqid, open_stateid })),
        (any::<u64>(), any::<u32>())
            .prop_map(|(offset, count)| ArgOp::Commit(CommitArgs { offset, count })),
        (createtype(), name(), fattr4()).prop_map(|(objtype, objname, createattrs)| {
            ArgOp::Create(CreateArgs { objtype, objname, createattrs })
        }),
        any::<u64>().prop_map(|clientid| ArgOp::Delegpurge(DelegpurgeArgs { clientid })),
        stateid().prop_map(|deleg_stateid| ArgOp::Delegreturn(DelegreturnArgs { deleg_stateid })),
        bitmap().prop_map(|attr_request| ArgOp::Getattr(GetattrArgs { attr_request })),
        name().prop_map(|newname| ArgOp::Link(LinkArgs { newname })),
        (locktype(), any::<bool>(), any::<u64>(), any::<u64>(), locker()).prop_map(
            |(locktype, reclaim, offset, length, locker)| {
                ArgOp::Lock(LockArgs { locktype, reclaim, offset, length, locker })
            }
        ),
        (locktype(), any::<u64>(), any::<u64>(), owner()).prop_map(
            |(locktype, offset, length, owner)| {
                ArgOp::Lockt(LocktArgs { locktype, offset, length, owner })
            }
        ),
        (locktype(), any::<u32>(), stateid(), any::<u64>(), any::<u64>()).prop_map(
            |(locktype, seqid, lock_stateid, offset, length)| {
                ArgOp::Locku(LockuArgs { locktype, seqid, lock_stateid, offset, length })
            }
        ),
        name().prop_map(|objname| ArgOp::Lookup(LookupArgs { objname })),
        fattr4().prop_map(|obj_attributes| ArgOp::Nverify(NverifyArgs { obj_attributes })),
        (
            any::<(u32, u32, u32)>(),
            owner(),
            prop_oneof![Just(Openflag4::NoCreate), createhow().prop_map(Openflag4::Create)],
            claim()
        )
            .prop_map(|((seqid, share_access, share_deny), owner, openhow, claim)| {
                ArgOp::Open(OpenArgs { seqid, share_access, share_deny, owner, openhow, claim })
            }),
    ];
    let b = prop_oneof![
        (stateid(), any::<u32>()).prop_map(|(open_stateid, seqid)| {
            ArgOp::OpenConfirm(OpenConfirmArgs { open_stateid, seqid })
        }),
        (stateid(), any::<(u32, u32, u32)>()).prop_map(|(open_stateid, (seqid, a, d))| {
            ArgOp::OpenDowngrade(OpenDowngradeArgs {
                open_stateid,
                seqid,
                share_access: a,
                share_deny: d,
            })
        }),
        fh().prop_map(|object| ArgOp::Putfh(PutfhArgs { object })),
        (stateid(), any::<u64>(), any::<u32>())
            .prop_map(|(stateid, offset, count)| ArgOp::Read(ReadArgs { stateid, offset, count })),
        (any::<u64>(), any::<[u8; 8]>(), any::<u32>(), any::<u32>(), bitmap()).prop_map(
            |(cookie, cookieverf, dircount, maxcount, attr_request)| {
                ArgOp::Readdir(ReaddirArgs { cookie, cookieverf, dircount, maxcount, attr_request })
            }
        ),
        name().prop_map(|target| ArgOp::Remove(RemoveArgs { target })),
        (name(), name())
            .prop_map(|(oldname, newname)| ArgOp::Rename(RenameArgs { oldname, newname })),
        any::<u64>().prop_map(|clientid| ArgOp::Renew(RenewArgs { clientid })),
        name().prop_map(|name| ArgOp::Secinfo(SecinfoArgs { name })),
        (stateid(), fattr4()).prop_map(|(stateid, obj_attributes)| {
            ArgOp::Setattr(SetattrArgs { stateid, obj_attributes })
        }),
        (any::<[u8; 8]>(), bytes(64), any::<u32>(), netaddr(), any::<u32>()).prop_map(
            |(verifier, id, cb_program, cb_location, callback_ident)| {
                ArgOp::Setclientid(SetclientidArgs {
                    client: NfsClientId4 { verifier, id },
                    callback: CbClient4 { cb_program, cb_location },
                    callback_ident,
                })
            }
        ),
        (any::<u64>(), any::<[u8; 8]>()).prop_map(|(clientid, setclientid_confirm)| {
            ArgOp::SetclientidConfirm(SetclientidConfirmArgs { clientid, setclientid_confirm })
        }),
        fattr4().prop_map(|obj_attributes| ArgOp::Verify(VerifyArgs { obj_attributes })),
        (stateid(), any::<u64>(), stable(), bytes(300)).prop_map(
            |(stateid, offset, stable, data)| {
                ArgOp::Write(WriteArgs { stateid, offset, stable, data })
            }
        ),
        owner().prop_map(|lock_owner| ArgOp::ReleaseLockowner(ReleaseLockownerArgs { lock_owner })),
    ];
    let c = prop_oneof![
        (any::<u32>(), vec(cb_sec(), 0..3)).prop_map(|(bca_cb_program, bca_sec_parms)| {
            ArgOp::BackchannelCtl(BackchannelCtlArgs { bca_cb_program, bca_sec_parms })
        }),
        (any::<[u8; 16]>(), select(ChannelDirFromClient4::ALL), any::<bool>()).prop_map(
            |(bctsa_sessid, bctsa_dir, bctsa_use_conn_in_rdma_mode)| {
                ArgOp::BindConnToSession(BindConnToSessionArgs {
                    bctsa_sessid,
                    bctsa_dir,
                    bctsa_use_conn_in_rdma_mode,
                })
            }
        ),
        (
            any::<[u8; 8]>(),
            bytes(64),
            any::<u32>(),
            state_protect_a(),
            proptest::option::of(impl_id())
        )
            .prop_map(
                |(co_verifier, co_ownerid, eia_flags, eia_state_protect, eia_client_impl_id)| {
                    ArgOp::ExchangeId(ExchangeIdArgs {
                        eia_clientowner: ClientOwner4 { co_verifier, co_ownerid },
                        eia_flags,
                        eia_state_protect,
                        eia_client_impl_id,
                    })
                }
            ),
        (any::<(u64, u32, u32, u32)>(), channel_attrs(), channel_attrs(), vec(cb_sec(), 0..3))
            .prop_map(|((csa_clientid, csa_sequence, csa_flags, csa_cb_program), f, b, p)| {
                ArgOp::CreateSession(CreateSessionArgs {
                    csa_clientid,
                    csa_sequence,
                    csa_flags,
                    csa_fore_chan_attrs: f,
                    csa_back_chan_attrs: b,
                    csa_cb_program,
                    csa_sec_parms: p,
                })
            }),
        any::<[u8; 16]>()
            .prop_map(|dsa_sessionid| ArgOp::DestroySession(DestroySessionArgs { dsa_sessionid })),
        stateid().prop_map(|fsa_stateid| ArgOp::FreeStateid(FreeStateidArgs { fsa_stateid })),
        select(SecinfoStyle4::ALL).prop_map(ArgOp::SecinfoNoName),
        (any::<[u8; 16]>(), any::<(u32, u32, u32)>(), any::<bool>()).prop_map(
            |(sa_sessionid, (sa_sequenceid, sa_slotid, sa_highest_slotid), sa_cachethis)| {
                ArgOp::Sequence(SequenceArgs {
                    sa_sessionid,
                    sa_sequenceid,
                    sa_slotid,
                    sa_highest_slotid,
                    sa_cachethis,
                })
            }
        ),
        vec(stateid(), 0..4)
            .prop_map(|ts_stateids| ArgOp::TestStateid(TestStateidArgs { ts_stateids })),
        any::<u64>()
            .prop_map(|dca_clientid| ArgOp::DestroyClientid(DestroyClientidArgs { dca_clientid })),
        any::<bool>()
            .prop_map(|rca_one_fs| ArgOp::ReclaimComplete(ReclaimCompleteArgs { rca_one_fs })),
        select(vec![
            ArgOp::Getfh,
            ArgOp::Lookupp,
            ArgOp::Putpubfh,
            ArgOp::Putrootfh,
            ArgOp::Readlink,
            ArgOp::Restorefh,
            ArgOp::Savefh,
        ]),
        not_supported_op().prop_map(ArgOp::NotSupported),
        undefined_opnum().prop_map(ArgOp::Illegal),
    ];
    prop_oneof![3 => a, 3 => b, 3 => c].boxed()
}

fn res<T: Debug + Clone>(ok: impl Strategy<Value = T>) -> impl Strategy<Value = NfsRes4<T>> {
    prop_oneof![ok.prop_map(NfsRes4::Ok), stat_err().prop_map(NfsRes4::Err)]
}
fn status() -> impl Strategy<Value = Nfsstat4> {
    select(Nfsstat4::ALL)
}
fn denied() -> impl Strategy<Value = LockDenied4> {
    (any::<u64>(), any::<u64>(), locktype(), owner()).prop_map(
        |(offset, length, locktype, owner)| LockDenied4 { offset, length, locktype, owner },
    )
}

fn res_op() -> BoxedStrategy<ResOp> {
    let a = prop_oneof![
        res(any::<(u32, u32)>().prop_map(|(supported, access)| AccessResOk { supported, access }))
            .prop_map(ResOp::Access),
        res(stateid()).prop_map(ResOp::Close),
        res(any::<[u8; 8]>().prop_map(|writeverf| CommitResOk { writeverf }))
            .prop_map(ResOp::Commit),
        res((cinfo(), bitmap()).prop_map(|(cinfo, attrset)| CreateResOk { cinfo, attrset }))
            .prop_map(ResOp::Create),
        status().prop_map(ResOp::Delegpurge),
        status().prop_map(ResOp::Delegreturn),
        res(fattr4().prop_map(|obj_attributes| GetattrResOk { obj_attributes }))
            .prop_map(ResOp::Getattr),
        res(fh().prop_map(|object| GetfhResOk { object })).prop_map(ResOp::Getfh),
        res(cinfo().prop_map(|cinfo| LinkResOk { cinfo })).prop_map(ResOp::Link),
        prop_oneof![
            stateid().prop_map(|lock_stateid| LockRes::Ok(LockResOk { lock_stateid })),
            denied().prop_map(LockRes::Denied),
            stat_err()
                .prop_filter("arm with body", |s| *s != Nfsstat4::Denied)
                .prop_map(LockRes::Err),
        ]
        .prop_map(ResOp::Lock),
        prop_oneof![
            Just(LocktRes::Ok),
            denied().prop_map(LocktRes::Denied),
            stat_err()
                .prop_filter("arm with body", |s| *s != Nfsstat4::Denied)
                .prop_map(LocktRes::Err),
        ]
        .prop_map(ResOp::Lockt),
        res(stateid()).prop_map(ResOp::Locku),
        status().prop_map(ResOp::Lookup),
        status().prop_map(ResOp::Lookupp),
        status().prop_map(ResOp::Nverify),
        res((stateid(), cinfo(), any::<u32>(), bitmap(), delegation()).prop_map(
            |(stateid, cinfo, rflags, attrset, delegation)| OpenResOk {
                stateid,
                cinfo,
                rflags,
                attrset,
                delegation
            }
        ))
        .prop_map(ResOp::Open),
    ];
    let b = prop_oneof![
        res(stateid().prop_map(|open_stateid| OpenConfirmResOk { open_stateid }))
            .prop_map(ResOp::OpenConfirm),
        res(stateid().prop_map(|open_stateid| OpenDowngradeResOk { open_stateid }))
            .prop_map(ResOp::OpenDowngrade),
        status().prop_map(ResOp::Putfh),
        status().prop_map(ResOp::Putpubfh),
        status().prop_map(ResOp::Putrootfh),
        res((any::<bool>(), bytes(300)).prop_map(|(eof, data)| ReadResOk { eof, data }))
            .prop_map(ResOp::Read),
        res((any::<[u8; 8]>(), vec(entry(), 0..4), any::<bool>())
            .prop_map(|(cookieverf, entries, eof)| { ReaddirResOk { cookieverf, entries, eof } }))
        .prop_map(ResOp::Readdir),
        res(bytes(100).prop_map(|link| ReadlinkResOk { link })).prop_map(ResOp::Readlink),
        res(cinfo().prop_map(|cinfo| RemoveResOk { cinfo })).prop_map(ResOp::Remove),
        res((cinfo(), cinfo())
            .prop_map(|(source_cinfo, target_cinfo)| RenameResOk { source_cinfo, target_cinfo }))
        .prop_map(ResOp::Rename),
        status().prop_map(ResOp::Renew),
        status().prop_map(ResOp::Restorefh),
        status().prop_map(ResOp::Savefh),
        res(vec(secinfo(), 0..4).prop_map(SecinfoResOk)).prop_map(ResOp::Secinfo),
        (status(), bitmap())
            .prop_map(|(status, attrsset)| ResOp::Setattr(SetattrRes { status, attrsset })),
        prop_oneof![
            (any::<u64>(), any::<[u8; 8]>()).prop_map(|(clientid, setclientid_confirm)| {
                SetclientidRes::Ok(SetclientidResOk { clientid, setclientid_confirm })
            }),
            netaddr().prop_map(SetclientidRes::ClidInuse),
            stat_err()
                .prop_filter("arm with body", |s| *s != Nfsstat4::ClidInuse)
                .prop_map(SetclientidRes::Err),
        ]
        .prop_map(ResOp::Setclientid),
    ];
    let c = prop_oneof![
        status().prop_map(ResOp::SetclientidConfirm),
        status().prop_map(ResOp::Verify),
        res((any::<u32>(), stable(), any::<[u8; 8]>()).prop_map(
            |(count, committed, writeverf)| { WriteResOk { count, committed, writeverf } }
        ))
        .prop_map(ResOp::Write),
        status().prop_map(ResOp::ReleaseLockowner),
        status().prop_map(ResOp::BackchannelCtl),
        res((any::<[u8; 16]>(), select(ChannelDirFromServer4::ALL), any::<bool>()).prop_map(
            |(bctsr_sessid, bctsr_dir, bctsr_use_conn_in_rdma_mode)| BindConnToSessionResOk {
                bctsr_sessid,
                bctsr_dir,
                bctsr_use_conn_in_rdma_mode
            }
        ))
        .prop_map(ResOp::BindConnToSession),
        res((
            any::<(u64, u32, u32, u64)>(),
            state_protect_r(),
            bytes(64),
            bytes(64),
            proptest::option::of(impl_id())
        )
            .prop_map(
                |(
                    (eir_clientid, eir_sequenceid, eir_flags, so_minor_id),
                    sp,
                    major,
                    scope,
                    iid,
                )| {
                    ExchangeIdResOk {
                        eir_clientid,
                        eir_sequenceid,
                        eir_flags,
                        eir_state_protect: sp,
                        eir_server_owner: ServerOwner4 { so_minor_id, so_major_id: major },
                        eir_server_scope: scope,
                        eir_server_impl_id: iid,
                    }
                }
            ))
        .prop_map(ResOp::ExchangeId),
        res((any::<[u8; 16]>(), any::<(u32, u32)>(), channel_attrs(), channel_attrs()).prop_map(
            |(csr_sessionid, (csr_sequence, csr_flags), f, b)| CreateSessionResOk {
                csr_sessionid,
                csr_sequence,
                csr_flags,
                csr_fore_chan_attrs: f,
                csr_back_chan_attrs: b,
            }
        ))
        .prop_map(ResOp::CreateSession),
        status().prop_map(ResOp::DestroySession),
        status().prop_map(ResOp::FreeStateid),
        res(vec(secinfo(), 0..4).prop_map(SecinfoResOk)).prop_map(ResOp::SecinfoNoName),
        res((any::<[u8; 16]>(), any::<[u32; 5]>()).prop_map(|(sr_sessionid, a)| SequenceResOk {
            sr_sessionid,
            sr_sequenceid: a[0],
            sr_slotid: a[1],
            sr_highest_slotid: a[2],
            sr_target_highest_slotid: a[3],
            sr_status_flags: a[4],
        }))
        .prop_map(ResOp::Sequence),
        res(vec(status(), 0..4).prop_map(|tsr_status_codes| TestStateidResOk { tsr_status_codes }))
            .prop_map(ResOp::TestStateid),
        status().prop_map(ResOp::DestroyClientid),
        status().prop_map(ResOp::ReclaimComplete),
        (not_supported_op(), stat_err())
            .prop_filter("no body", |(_, s)| !matches!(
                s,
                Nfsstat4::Toosmall | Nfsstat4::Layouttrylater | Nfsstat4::OffloadNoReqs
            ))
            .prop_map(|(op, s)| ResOp::NotSupported(op, s)),
        stat_err().prop_map(ResOp::Illegal),
    ];
    prop_oneof![a, b, c].boxed()
}

/// A `Fattr` with a random subset of its fields, values derived from seeds.
fn fattr() -> impl Strategy<Value = Fattr> {
    (any::<u64>(), vec(any::<u64>(), 64), bytes(40), vec(ace(), 0..3), vec(bytes(8), 0..3))
        .prop_map(|(present, s, b, acl, comps)| {
            let mut f = Fattr::default();
            let mut i = 0usize;
            macro_rules! put {
                ($field:ident, $v:expr) => {
                    if present & (1 << i) != 0 {
                        f.$field = Some($v);
                    }
                    i += 1;
                };
            }
            let t = |k: usize| Nfstime4 { seconds: s[k] as i64, nseconds: (s[k] >> 7) as u32 };
            let w = |k: usize| Bitmap4(vec![s[k] as u32, (s[k] >> 32) as u32]);
            put!(supported_attrs, w(0));
            put!(ftype, NfsFtype4::ALL[(s[1] % 9) as usize]);
            put!(fh_expire_type, s[2] as u32);
            put!(change, s[3]);
            put!(size, s[4]);
            put!(link_support, s[5] % 2 == 0);
            put!(symlink_support, s[6] % 2 == 0);
            put!(named_attr, s[7] % 2 == 0);
            put!(fsid, Fsid4 { major: s[8], minor: s[9] });
            put!(unique_handles, s[10] % 2 == 0);
            put!(lease_time, s[11] as u32);
            put!(rdattr_error, Nfsstat4::ALL[(s[12] % Nfsstat4::ALL.len() as u64) as usize]);
            put!(acl, acl.clone());
            put!(aclsupport, s[13] as u32);
            put!(cansettime, s[14] % 2 == 0);
            put!(case_insensitive, s[15] % 2 == 0);
            put!(case_preserving, s[16] % 2 == 0);
            put!(chown_restricted, s[17] % 2 == 0);
            put!(filehandle, NfsFh4(b.clone()));
            put!(fileid, s[18]);
            put!(files_avail, s[19]);
            put!(files_free, s[20]);
            put!(files_total, s[21]);
            put!(
                fs_locations,
                FsLocations4 {
                    fs_root: comps.clone(),
                    locations: vec![FsLocation4 {
                        server: vec![b.clone()],
                        rootpath: comps.clone()
                    }],
                }
            );
            put!(homogeneous, s[22] % 2 == 0);
            put!(maxfilesize, s[23]);
            put!(maxlink, s[24] as u32);
            put!(maxname, s[25] as u32);
            put!(maxread, s[26]);
            put!(maxwrite, s[27]);
            put!(mode, s[28] as u32);
            put!(no_trunc, s[29] % 2 == 0);
            put!(numlinks, s[30] as u32);
            put!(owner, b.clone());
            put!(owner_group, b[b.len() / 2..].to_vec());
            put!(rawdev, Specdata4 { specdata1: s[31] as u32, specdata2: (s[31] >> 32) as u32 });
            put!(space_avail, s[32]);
            put!(space_free, s[33]);
            put!(space_total, s[34]);
            put!(space_used, s[35]);
            put!(time_access, t(36));
            put!(
                time_access_set,
                if s[37] % 2 == 0 { Settime4::ServerTime } else { Settime4::ClientTime(t(37)) }
            );
            put!(time_create, t(38));
            put!(time_delta, t(39));
            put!(time_metadata, t(40));
            put!(time_modify, t(41));
            put!(
                time_modify_set,
                if s[42] % 2 == 0 { Settime4::ServerTime } else { Settime4::ClientTime(t(42)) }
            );
            put!(mounted_on_fileid, s[43]);
            put!(fs_layout_types, vec![s[44] as u32; (s[44] % 3) as usize]);
            put!(
                mode_set_masked,
                ModeMasked4 { mm_value_to_set: s[45] as u32, mm_mask_bits: (s[45] >> 32) as u32 }
            );
            put!(suppattr_exclcreat, w(46));
            put!(fs_charset_cap, s[47] as u32);
            put!(xattr_support, s[47] % 2 == 0);
            assert_eq!(i, Fattr::KNOWN_ATTRS.len(), "every field is generated");
            f
        })
}

// ------------------------------------------------------------ round trips

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// COMPOUND4args of arbitrary operations round-trip, and decoding them
    /// one operation at a time (as the server does) gives the same ops.
    #[test]
    fn compound_args(tag in bytes(40), minorversion in 0u32..3, ops in vec(arg_op(), 0..8)) {
        let c = CompoundArgs { tag, minorversion, argarray: ops };
        round_trip(&c);
        let bytes = to_bytes(&c);
        let mut d = Decoder::new(&bytes);
        let h = CompoundHeader::decode(&mut d).expect("header");
        prop_assert_eq!((&h.tag, h.minorversion, h.numops as usize), (&c.tag, minorversion, c.argarray.len()));
        for want in &c.argarray {
            prop_assert_eq!(&ArgOp::decode(&mut d).expect("op"), want);
        }
        prop_assert!(d.is_empty());
    }

    #[test]
    fn compound_res(tag in bytes(40), st in status(), ops in vec(res_op(), 0..8)) {
        let r = CompoundRes { status: st, tag, resarray: ops };
        round_trip(&r);
        for op in &r.resarray {
            round_trip(op);
            // `from_status` rebuilds a result with the same opnum and status.
            if !matches!(op, ResOp::Setattr(_)) && op.status() != Nfsstat4::Ok
                && op.status() != Nfsstat4::Denied && op.status() != Nfsstat4::ClidInuse {
                let again = ResOp::from_status(op.opnum(), op.status());
                prop_assert_eq!((again.opnum(), again.status()), (op.opnum(), op.status()));
            }
        }
    }

    /// `Fattr` → `fattr4` → `Fattr` is the identity, and answering a
    /// request yields exactly the requested attributes that are present.
    #[test]
    fn fattr_round_trip(f in fattr(), req in vec(any::<u32>(), 0..=3)) {
        let all = f.to_fattr4();
        prop_assert_eq!(&all.attrmask, &f.mask());
        prop_assert_eq!(Fattr::decode_fattr4(&all), Ok(f.clone()));
        round_trip(&all);

        let req = Bitmap4(req);
        let part = f.encode_fattr4(&req);
        let want: Vec<u32> = req.iter().filter(|n| f.mask().get(*n)).collect();
        prop_assert_eq!(part.attrmask.iter().collect::<Vec<_>>(), want);
        let back = Fattr::decode_fattr4(&part).expect("decodes");
        prop_assert_eq!(back.mask(), part.attrmask.clone());
        prop_assert_eq!(back.to_fattr4(), part);
    }

    /// The READDIR size accounting matches the encoding byte for byte.
    #[test]
    fn readdir_sizes(v in any::<[u8; 8]>(), es in vec(entry(), 0..6), eof in any::<bool>()) {
        let ok = ReaddirResOk { cookieverf: v, entries: es, eof };
        let sum: usize = ok.entries.iter().map(Entry4::encoded_len).sum();
        let r: ReaddirRes = NfsRes4::Ok(ok.clone());
        prop_assert_eq!(to_bytes(&r).len(), READDIR4_RES_OK_FIXED_LEN + sum);
        prop_assert_eq!(to_bytes(&ok).len(), ok.encoded_len());
        for e in &ok.entries {
            prop_assert_eq!(e.dircount_len(), 8 + nfs_proto::xdr::opaque_len(e.name.len()));
            prop_assert_eq!(e.encoded_len(), entry4_encoded_len(e.name.len(), &e.attrs));
        }
    }
}

// ------------------------------------------------------------ hostile input

/// Decode a request the way the server does; never panics.
fn serve_like(b: &[u8]) {
    let mut d = Decoder::new(b);
    let Ok(h) = CompoundHeader::decode(&mut d) else { return };
    assert!(h.numops as usize <= b.len() / 4, "numops bounded by the input");
    for _ in 0..h.numops {
        let start = d.position();
        match ArgOp::decode_for_minor(&mut d, h.minorversion) {
            Ok(ArgOp::NotSupported(_)) | Ok(ArgOp::Illegal(_)) => return,
            Ok(op) => {
                // What decodes re-encodes to the bytes it came from (XDR
                // encodings are canonical).
                assert_eq!(to_bytes(&op), &b[start..d.position()]);
                if let ArgOp::Setattr(a) = &op {
                    let _ = Fattr::decode_fattr4(&a.obj_attributes);
                }
            }
            Err(e) => {
                if let Some(r) = e.result() {
                    assert_eq!(r.status(), Nfsstat4::Badxdr);
                }
                return;
            }
        }
    }
}

fn decode_replies(b: &[u8]) {
    let _ = from_bytes::<CompoundRes>(b);
    let mut d = Decoder::new(b);
    while !d.is_empty() {
        if ResOp::decode(&mut d).is_err() {
            break;
        }
    }
}

fn words(w: &[u32]) -> Vec<u8> {
    w.iter().flat_map(|x| x.to_be_bytes()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(b in bytes(512)) {
        serve_like(&b);
        decode_replies(&b);
    }

    /// Small words hit union arms, opnums and `value_follows = TRUE`.
    #[test]
    fn random_words_never_panic(
        w in vec(prop_oneof![0u32..80, any::<u32>(), Just(u32::MAX), Just(10044u32)], 0..160),
        minor in 0u32..3,
    ) {
        let body = words(&w);
        decode_replies(&body);
        // Behind a valid header announcing as many ops as could fit.
        let mut req = words(&[0, minor, (body.len() / 4) as u32]);
        req.extend_from_slice(&body);
        serve_like(&req);
    }

    #[test]
    fn random_fattr4_never_panics(mask in vec(prop_oneof![0u32..0x10, any::<u32>()], 0..=3), w in vec(prop_oneof![0u32..3, any::<u32>()], 0..64)) {
        let f = Fattr4 { attrmask: Bitmap4(mask), attr_vals: words(&w) };
        match Fattr::decode_fattr4(&f) {
            // What decodes re-encodes to the same bytes: the encodings are canonical.
            Ok(a) => {
                let again = a.encode_fattr4(&f.attrmask);
                prop_assert_eq!(again.attrmask.iter().collect::<Vec<_>>(), f.attrmask.iter().collect::<Vec<_>>());
                prop_assert_eq!(again.attr_vals, f.attr_vals);
            }
            Err(e) => prop_assert!(matches!(e.status(), Nfsstat4::Badxdr | Nfsstat4::Attrnotsupp)),
        }
    }
}

// ------------------------------------------------------------ hand-made vectors

/// SEQUENCE, PUTROOTFH, GETATTR(type, size, mode) as a 4.1 client sends
/// them, written from RFC 8881 §16.2, §18.46 and §18.7.
#[rustfmt::skip]
const SEQ_PUTROOTFH_GETATTR: &[u8] = &[
    0, 0, 0, 4, b't', b'a', b'g', b'1', // tag "tag1"
    0, 0, 0, 1,                         // minorversion 1
    0, 0, 0, 3,                         // 3 operations
    0, 0, 0, 53,                        // OP_SEQUENCE
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, // sa_sessionid
      0, 0, 0, 7,                       //   sa_sequenceid
      0, 0, 0, 0,                       //   sa_slotid
      0, 0, 0, 9,                       //   sa_highest_slotid
      0, 0, 0, 0,                       //   sa_cachethis FALSE
    0, 0, 0, 24,                        // OP_PUTROOTFH (void)
    0, 0, 0, 9,                         // OP_GETATTR
      0, 0, 0, 2,                       //   attr_request: 2 words
      0, 0, 0, 0x12,                    //   bits 1 (type) and 4 (size)
      0, 0, 0, 0x02,                    //   bit 33 (mode)
];

#[test]
fn known_vector_sequence_putrootfh_getattr() {
    let mut d = Decoder::new(SEQ_PUTROOTFH_GETATTR);
    let h = CompoundHeader::decode(&mut d).expect("header");
    assert_eq!(h, CompoundHeader { tag: b"tag1".to_vec(), minorversion: 1, numops: 3 });
    let seq = SequenceArgs {
        sa_sessionid: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
        sa_sequenceid: 7,
        sa_slotid: 0,
        sa_highest_slotid: 9,
        sa_cachethis: false,
    };
    assert_eq!(ArgOp::decode_for_minor(&mut d, 1), Ok(ArgOp::Sequence(seq)));
    assert_eq!(ArgOp::decode_for_minor(&mut d, 1), Ok(ArgOp::Putrootfh));
    let req = Bitmap4::from_bits(&[FATTR4_TYPE, FATTR4_SIZE, FATTR4_MODE]);
    assert_eq!(
        ArgOp::decode_for_minor(&mut d, 1),
        Ok(ArgOp::Getattr(GetattrArgs { attr_request: req.clone() }))
    );
    assert!(d.is_empty());

    // And the client side encodes the same bytes.
    let args = CompoundArgs {
        tag: b"tag1".to_vec(),
        minorversion: 1,
        argarray: vec![
            ArgOp::Sequence(seq),
            ArgOp::Putrootfh,
            ArgOp::Getattr(GetattrArgs { attr_request: req.clone() }),
        ],
    };
    assert_eq!(to_bytes(&args), SEQ_PUTROOTFH_GETATTR);

    // The reply to GETATTR: type NF4DIR, size 4096, mode 0755.
    let attrs = Fattr {
        ftype: Some(NfsFtype4::Dir),
        size: Some(4096),
        mode: Some(0o755),
        fileid: Some(1),
        ..Fattr::default()
    };
    let res =
        ResOp::Getattr(NfsRes4::Ok(GetattrResOk { obj_attributes: attrs.encode_fattr4(&req) }));
    #[rustfmt::skip]
    let want: &[u8] = &[
        0, 0, 0, 9,                 // OP_GETATTR
        0, 0, 0, 0,                 // NFS4_OK
        0, 0, 0, 2, 0, 0, 0, 0x12, 0, 0, 0, 0x02, // attrmask (fileid not asked)
        0, 0, 0, 16,                // attr_vals length
        0, 0, 0, 2,                 //   type NF4DIR
        0, 0, 0, 0, 0, 0, 0x10, 0,  //   size 4096
        0, 0, 0x01, 0xed,           //   mode 0755
    ];
    assert_eq!(to_bytes(&res), want);
}

#[test]
fn unknown_opnum_is_illegal_and_answered_with_op_illegal() {
    // RFC 8881 §16.2.3, RFC 7530 §15.2: an undefined opnum gets an ILLEGAL4res,
    // opnum OP_ILLEGAL, status NFS4ERR_OP_ILLEGAL; its body is not read.
    let b = words(&[77, 0xdead_beef]);
    let mut d = Decoder::new(&b);
    assert_eq!(ArgOp::decode(&mut d), Ok(ArgOp::Illegal(77)));
    assert_eq!(d.position(), 4);
    assert_eq!(
        to_bytes(&ResOp::Illegal(Nfsstat4::OpIllegal)),
        words(&[10044, Nfsstat4::OpIllegal as u32])
    );
    assert_eq!(ResOp::from_status(77, Nfsstat4::OpIllegal), ResOp::Illegal(Nfsstat4::OpIllegal));
    // OP_ILLEGAL itself, and a 4.1 operation in a 4.0 COMPOUND (RFC 7530
    // §15.2: opnums outside the minor version are illegal).
    assert_eq!(ArgOp::decode(&mut Decoder::new(&words(&[10044]))), Ok(ArgOp::Illegal(10044)));
    assert_eq!(
        ArgOp::decode_for_minor(&mut Decoder::new(&words(&[53])), 0),
        Ok(ArgOp::Illegal(53))
    );
    assert_eq!(
        ArgOp::decode_for_minor(&mut Decoder::new(&words(&[60])), 1),
        Ok(ArgOp::Illegal(60))
    );
    assert_eq!(
        ArgOp::decode_for_minor(&mut Decoder::new(&words(&[60])), 2),
        Ok(ArgOp::NotSupported(Opnum4::Copy))
    );
}

#[test]
fn not_supported_ops_are_not_read() {
    // LAYOUTGET with a body the decoder never looks at; the result is the
    // opnum and the status.
    let b = words(&[50, 1, 2, 3]);
    let mut d = Decoder::new(&b);
    assert_eq!(ArgOp::decode(&mut d), Ok(ArgOp::NotSupported(Opnum4::Layoutget)));
    assert_eq!(d.position(), 4);
    let r = ResOp::NotSupported(Opnum4::Layoutget, Nfsstat4::Notsupp);
    assert_eq!(to_bytes(&r), words(&[50, 10004]));
    assert_eq!(ResOp::from_status(50, Nfsstat4::Notsupp), r);
    // A success result of such an op cannot be decoded without its types.
    assert!(from_bytes::<ResOp>(&words(&[50, 0])).is_err());
    // OPENATTR's result is a bare status, so even NFS4_OK decodes.
    assert_eq!(
        from_bytes::<ResOp>(&words(&[19, 0])),
        Ok(ResOp::NotSupported(Opnum4::Openattr, Nfsstat4::Ok))
    );
}

#[test]
fn malformed_op_reports_its_opnum_for_badxdr() {
    // PUTFH with a 129-byte handle (NFS4_FHSIZE is 128), after a good SAVEFH.
    let b = words(&[32, 22, 129]);
    let mut d = Decoder::new(&b);
    assert_eq!(ArgOp::decode(&mut d), Ok(ArgOp::Savefh));
    let e = ArgOp::decode(&mut d).expect_err("handle too long");
    assert_eq!(e, OpDecodeError { opnum: Some(22), err: XdrError::TooLong { len: 129, max: 128 } });
    assert_eq!(e.result(), Some(ResOp::Putfh(Nfsstat4::Badxdr)));
    assert_eq!(to_bytes(&ResOp::Putfh(Nfsstat4::Badxdr)), words(&[22, 10036]));
    // No opnum at all: nothing to answer but the COMPOUND status.
    let e = ArgOp::decode(&mut Decoder::new(&[0, 0])).expect_err("truncated");
    assert_eq!((e.opnum, e.result()), (None, None));
    // A bad enum inside a known op: LOCK with locktype 9.
    let e = ArgOp::decode(&mut Decoder::new(&words(&[12, 9]))).expect_err("bad locktype");
    assert_eq!(e.opnum, Some(12));
    assert_eq!(e.result().map(|r| to_bytes(&r)), Some(words(&[12, 10036])));
}

#[test]
fn header_reads_minorversion_and_bounds_numops() {
    // RFC 8881 §16.2.3: the server needs the minor version before any op.
    let b = words(&[0, 7, 0]);
    let h = from_bytes::<CompoundHeader>(&b).expect("header");
    assert_eq!(h, CompoundHeader { tag: vec![], minorversion: 7, numops: 0 });
    // 0xFFFFFFFF operations in 8 bytes: rejected before anything is allocated.
    let b = words(&[0, 0, u32::MAX, 24, 24]);
    assert_eq!(CompoundHeader::decode(&mut Decoder::new(&b)), Err(XdrError::Truncated));
    // Two ops announced, two opnums present: fine.
    let b = words(&[0, 0, 2, 24, 10]);
    assert_eq!(CompoundHeader::decode(&mut Decoder::new(&b)).map(|h| h.numops), Ok(2));
    // A 0xFFFFFFFF-byte tag.
    let b = words(&[u32::MAX]);
    assert_eq!(
        CompoundHeader::decode(&mut Decoder::new(&b)),
        Err(XdrError::TooLong { len: u32::MAX, max: TAG_DECODE_MAX_BYTES })
    );
}

#[test]
fn hostile_lengths_fail_without_allocation() {
    let ff = u32::MAX;
    // WRITE data, TEST_STATEID count, bitmap words, attr_vals, READDIR entry name.
    let cases: &[(&[u32], XdrError)] = &[
        (&[38, 0, 0, 0, 0, 0, 0, 2, ff], XdrError::TooLong { len: ff, max: DATA_DECODE_MAX_BYTES }),
        (&[55, ff], XdrError::TooLong { len: ff, max: ARRAY_DECODE_MAX }),
        (&[55, 1000], XdrError::Truncated),
        (&[9, ff], XdrError::TooLong { len: ff, max: BITMAP4_DECODE_MAX_WORDS }),
        (&[37, 0, ff], XdrError::TooLong { len: ff, max: ATTRLIST_DECODE_MAX_BYTES }),
        (&[15, 1025], XdrError::TooLong { len: 1025, max: NAME_DECODE_MAX_BYTES }),
    ];
    for (w, want) in cases {
        let e = ArgOp::decode(&mut Decoder::new(&words(w))).expect_err("hostile");
        assert_eq!(&e.err, want, "{w:?}");
    }
    let r = words(&[26, 0, 0, 0, 1, 0, 0, ff]);
    assert_eq!(
        from_bytes::<ResOp>(&r),
        Err(XdrError::TooLong { len: ff, max: NAME_DECODE_MAX_BYTES })
    );
}

#[test]
fn names_up_to_1024_decode_so_the_server_can_say_nametoolong() {
    let ok = ArgOp::Lookup(LookupArgs { objname: vec![b'a'; 1024] });
    let b = to_bytes(&ok);
    assert_eq!(ArgOp::decode(&mut Decoder::new(&b)), Ok(ok));
}

#[test]
fn status_unions_with_error_bodies() {
    // LOCK4res on NFS4ERR_DENIED carries LOCK4denied (RFC 8881 §18.10.2).
    let den = LockDenied4 {
        offset: 1,
        length: 2,
        locktype: NfsLockType4::Write,
        owner: StateOwner4 { clientid: 3, owner: b"o".to_vec() },
    };
    let r = ResOp::Lock(LockRes::Denied(den));
    #[rustfmt::skip]
    let want = [
        words(&[12, 10010, 0, 1, 0, 2, 2, 0, 3, 1]),
        vec![b'o', 0, 0, 0],
    ].concat();
    assert_eq!(to_bytes(&r), want);
    assert_eq!(r.status(), Nfsstat4::Denied);
    // SETCLIENTID4res on NFS4ERR_CLID_INUSE carries clientaddr4.
    let r = ResOp::Setclientid(SetclientidRes::ClidInuse(Netaddr4 {
        na_r_netid: b"tcp".to_vec(),
        na_r_addr: b"1.2.3.4.8.1".to_vec(),
    }));
    round_trip(&r);
    assert_eq!(r.status(), Nfsstat4::ClidInuse);
    // SETATTR4res always carries attrsset.
    assert_eq!(to_bytes(&ResOp::from_status(34, Nfsstat4::Perm)), words(&[34, 1, 0]));
    // OPEN_DELEGATE_NONE_EXT / WND4_NOT_WANTED (RFC 8881 §18.16.3).
    let d = OpenDelegation4::NoneExt(OpenNoneDelegation4::Other(WhyNoDelegation4::NotWanted));
    assert_eq!(to_bytes(&d), words(&[3, 0]));
    assert_eq!(to_bytes(&OpenDelegation4::None), words(&[0]));
}

#[test]
fn bitmap_helpers() {
    let mut b = Bitmap4::new();
    assert!(b.is_empty());
    b.set(33);
    b.set(1);
    assert_eq!(b.0, vec![2, 2]);
    assert!(b.get(33) && b.get(1) && !b.get(0) && !b.get(200));
    assert_eq!(b.iter().collect::<Vec<_>>(), vec![1, 33]);
    let c = Bitmap4::from_bits(&[1, 4]);
    assert_eq!(b.intersection(&c), Bitmap4::from_bits(&[1]));
    assert_eq!(b.difference(&c), Bitmap4::from_bits(&[33]));
    assert!(Bitmap4::from_bits(&[1]).is_subset(&b) && !c.is_subset(&b));
    b.clear(33);
    assert_eq!(b.0, vec![2, 0]);
    assert_eq!(b.iter().collect::<Vec<_>>(), vec![1]);
    // A decoded bitmap keeps its trailing zero words: encoding is the identity.
    round_trip(&Bitmap4(vec![0, 0, 0]));
}

#[test]
fn special_stateids_and_opnum_tables() {
    // RFC 8881 §8.2.3.
    assert_eq!(to_bytes(&Stateid4::ANONYMOUS), vec![0; 16]);
    assert_eq!(to_bytes(&Stateid4::READ_BYPASS), vec![0xff; 16]);
    assert_eq!(to_bytes(&Stateid4::CURRENT)[..4], [0, 0, 0, 1]);
    let defined: Vec<u32> = Opnum4::ALL.iter().map(|o| *o as u32).collect();
    assert_eq!(defined, (3..=75).chain([10044]).collect::<Vec<_>>());
    let notsupp: Vec<u32> =
        Opnum4::ALL.iter().filter(|o| o.is_not_supported()).map(|o| *o as u32).collect();
    assert_eq!(
        notsupp,
        [19, 46, 47, 48, 49, 50, 51, 54, 56].into_iter().chain(59..=71).collect::<Vec<_>>(),
        "xattr operations (72-75, RFC 8276) are implemented"
    );
    assert_eq!(
        (Opnum4::ReleaseLockowner.minor_version(), Opnum4::BackchannelCtl.minor_version()),
        (0, 1)
    );
    assert_eq!((Opnum4::ReclaimComplete.minor_version(), Opnum4::Allocate.minor_version()), (1, 2));
}
