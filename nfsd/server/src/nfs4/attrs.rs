//! NFSv4 attributes (RFC 7530 §5, RFC 8881 §5): which ones Cairn supports,
//! building them from [`Attr`], and turning a client's `fattr4` into a
//! [`SetAttr`].

use fsapi::{Attr, FileType, FsStat, SetAttr, SetTime, Timestamp};
use nfs_proto::nfs4::attr::{self as a, Fattr};
use nfs_proto::nfs4::{
    Bitmap4, Fattr4, Fsid4, NfsFh4, NfsFtype4, Nfsstat4, Nfstime4, Settime4, Specdata4,
};

use super::idmap::IdMapper;

/// Attributes GETATTR can return (RFC 7530 §5.5 mandatory ones and the
/// recommended ones the Linux client asks for).
pub(crate) const SUPPORTED: &[u32] = &[
    a::FATTR4_SUPPORTED_ATTRS,
    a::FATTR4_TYPE,
    a::FATTR4_FH_EXPIRE_TYPE,
    a::FATTR4_CHANGE,
    a::FATTR4_SIZE,
    a::FATTR4_LINK_SUPPORT,
    a::FATTR4_SYMLINK_SUPPORT,
    a::FATTR4_NAMED_ATTR,
    a::FATTR4_FSID,
    a::FATTR4_UNIQUE_HANDLES,
    a::FATTR4_LEASE_TIME,
    a::FATTR4_RDATTR_ERROR,
    a::FATTR4_CANSETTIME,
    a::FATTR4_CASE_INSENSITIVE,
    a::FATTR4_CASE_PRESERVING,
    a::FATTR4_CHOWN_RESTRICTED,
    a::FATTR4_FILEHANDLE,
    a::FATTR4_FILEID,
    a::FATTR4_FILES_AVAIL,
    a::FATTR4_FILES_FREE,
    a::FATTR4_FILES_TOTAL,
    a::FATTR4_FS_LOCATIONS,
    a::FATTR4_HOMOGENEOUS,
    a::FATTR4_MAXFILESIZE,
    a::FATTR4_MAXLINK,
    a::FATTR4_MAXNAME,
    a::FATTR4_MAXREAD,
    a::FATTR4_MAXWRITE,
    a::FATTR4_MODE,
    a::FATTR4_NO_TRUNC,
    a::FATTR4_NUMLINKS,
    a::FATTR4_OWNER,
    a::FATTR4_OWNER_GROUP,
    a::FATTR4_RAWDEV,
    a::FATTR4_SPACE_AVAIL,
    a::FATTR4_SPACE_FREE,
    a::FATTR4_SPACE_TOTAL,
    a::FATTR4_SPACE_USED,
    a::FATTR4_TIME_ACCESS,
    a::FATTR4_TIME_ACCESS_SET,
    a::FATTR4_TIME_DELTA,
    a::FATTR4_TIME_METADATA,
    a::FATTR4_TIME_MODIFY,
    a::FATTR4_TIME_MODIFY_SET,
    a::FATTR4_MOUNTED_ON_FILEID,
];

/// 4.1 only: the attributes an EXCLUSIVE4_1 create may set (RFC 8881 §5.8.1.14).
pub(crate) const SUPPATTR_EXCLCREAT: &[u32] = &[
    a::FATTR4_SIZE,
    a::FATTR4_MODE,
    a::FATTR4_OWNER,
    a::FATTR4_OWNER_GROUP,
    a::FATTR4_TIME_ACCESS_SET,
    a::FATTR4_TIME_MODIFY_SET,
];

/// Attributes SETATTR, CREATE and OPEN may set.
pub(crate) const SETTABLE: &[u32] = &[
    a::FATTR4_SIZE,
    a::FATTR4_MODE,
    a::FATTR4_OWNER,
    a::FATTR4_OWNER_GROUP,
    a::FATTR4_TIME_ACCESS_SET,
    a::FATTR4_TIME_MODIFY_SET,
];

/// The supported set for a minor version.
pub(crate) fn supported(minor: u32) -> Bitmap4 {
    let mut b = Bitmap4::from_bits(SUPPORTED);
    if minor >= 1 {
        b.set(a::FATTR4_SUPPATTR_EXCLCREAT);
    }
    if minor >= 2 {
        b.set(a::FATTR4_XATTR_SUPPORT);
    }
    b
}

/// Largest link count (maxlink; the metadata store's limit).
pub(crate) const LINK_COUNT_MAX: u32 = 65_000;

/// Largest file size (maxfilesize).
pub(crate) const FILE_SIZE_MAX_BYTES: u64 = i64::MAX as u64;
/// Largest READ and WRITE (maxread, maxwrite).
pub(crate) const IO_SIZE_MAX_BYTES: u32 = 1 << 20;

pub(crate) fn time4(t: Timestamp) -> Nfstime4 {
    Nfstime4 { seconds: t.seconds, nseconds: t.nanos }
}

pub(crate) fn ftype4(t: FileType) -> NfsFtype4 {
    match t {
        FileType::Regular => NfsFtype4::Reg,
        FileType::Directory => NfsFtype4::Dir,
        FileType::BlockDevice => NfsFtype4::Blk,
        FileType::CharDevice => NfsFtype4::Chr,
        FileType::Symlink => NfsFtype4::Lnk,
        FileType::Socket => NfsFtype4::Sock,
        FileType::Fifo => NfsFtype4::Fifo,
    }
}

/// What the attribute builder needs besides the object's [`Attr`].
pub(crate) struct AttrCtx<'a> {
    pub minor: u32,
    pub fsid: Fsid4,
    pub lease_secs: u32,
    pub fh: NfsFh4,
    pub idmap: &'a IdMapper,
    /// File-system statistics, when one of the space/files attributes is asked.
    pub fsstat: Option<FsStat>,
    /// For fs_locations: the export path the object lies in.
    pub export_path: &'a str,
}

/// True when `req` names an attribute that needs FSSTAT.
pub(crate) fn needs_fsstat(req: &Bitmap4) -> bool {
    [
        a::FATTR4_FILES_AVAIL,
        a::FATTR4_FILES_FREE,
        a::FATTR4_FILES_TOTAL,
        a::FATTR4_SPACE_AVAIL,
        a::FATTR4_SPACE_FREE,
        a::FATTR4_SPACE_TOTAL,
    ]
    .iter()
    .any(|&n| req.get(n))
}

/// Every supported attribute of an object, encoded for the bits of `req`
/// (unsupported bits are left out of the returned mask, RFC 7530 §5.4).
pub(crate) fn build(attr: &Attr, cx: &AttrCtx<'_>, req: &Bitmap4) -> Fattr4 {
    let mut f = Fattr {
        supported_attrs: Some(supported(cx.minor)),
        ftype: Some(ftype4(attr.ftype)),
        // handles are persistent (RFC 7530 §4.2.1)
        fh_expire_type: Some(0),
        change: Some(attr.change),
        size: Some(attr.size),
        link_support: Some(true),
        symlink_support: Some(true),
        named_attr: Some(false),
        fsid: Some(cx.fsid),
        unique_handles: Some(true),
        lease_time: Some(cx.lease_secs),
        rdattr_error: Some(Nfsstat4::Ok),
        cansettime: Some(true),
        case_insensitive: Some(false),
        case_preserving: Some(true),
        chown_restricted: Some(true),
        filehandle: Some(cx.fh.clone()),
        fileid: Some(attr.ino.0),
        homogeneous: Some(true),
        maxfilesize: Some(FILE_SIZE_MAX_BYTES),
        maxlink: Some(LINK_COUNT_MAX),
        maxname: Some(fsapi::NAME_MAX_BYTES as u32),
        maxread: Some(IO_SIZE_MAX_BYTES as u64),
        maxwrite: Some(IO_SIZE_MAX_BYTES as u64),
        mode: Some(attr.mode & 0o7777),
        no_trunc: Some(true),
        numlinks: Some(attr.nlink),
        owner: Some(cx.idmap.user_to_wire(attr.uid)),
        owner_group: Some(cx.idmap.group_to_wire(attr.gid)),
        rawdev: Some(Specdata4 { specdata1: attr.rdev.0, specdata2: attr.rdev.1 }),
        space_used: Some(attr.used),
        time_access: Some(time4(attr.atime)),
        time_delta: Some(Nfstime4 { seconds: 0, nseconds: 1 }),
        time_metadata: Some(time4(attr.ctime)),
        time_modify: Some(time4(attr.mtime)),
        mounted_on_fileid: Some(attr.ino.0),
        ..Fattr::default()
    };
    if cx.minor >= 1 {
        f.suppattr_exclcreat = Some(Bitmap4::from_bits(SUPPATTR_EXCLCREAT));
    }
    if cx.minor >= 2 {
        // RFC 8276 §8.1: user extended attributes on every object
        f.xattr_support = Some(true);
    }
    if let Some(s) = &cx.fsstat {
        f.files_avail = Some(s.avail_files);
        f.files_free = Some(s.free_files);
        f.files_total = Some(s.total_files);
        f.space_avail = Some(s.avail_bytes);
        f.space_free = Some(s.free_bytes);
        f.space_total = Some(s.total_bytes);
    }
    if req.get(a::FATTR4_FS_LOCATIONS) {
        // RFC 7530 §8: this file system has not moved; its root and no replicas
        let root =
            cx.export_path.split('/').filter(|c| !c.is_empty()).map(|c| c.as_bytes().to_vec());
        f.fs_locations = Some(a::FsLocations4 { fs_root: root.collect(), locations: Vec::new() });
    }
    f.encode_fattr4(req)
}

/// Why a client's attributes cannot be set.
pub(crate) type AttrResult<T> = Result<T, Nfsstat4>;

/// A client's `fattr4` for SETATTR, CREATE or OPEN as a [`SetAttr`]
/// (RFC 7530 §5.4: unsupported attributes → ATTRNOTSUPP, read-only ones
/// → INVAL, bad owners → BADOWNER). Returns the mask of what will be set.
pub(crate) fn to_setattr(f: &Fattr4, idmap: &IdMapper) -> AttrResult<(SetAttr, Bitmap4)> {
    let settable = Bitmap4::from_bits(SETTABLE);
    for n in f.attrmask.iter() {
        if !settable.get(n) {
            if a::is_read_only(n) && supported(2).get(n) {
                return Err(Nfsstat4::Inval);
            }
            return Err(Nfsstat4::Attrnotsupp);
        }
    }
    let v = Fattr::decode_fattr4(f).map_err(|e| e.status())?;
    let mut s = SetAttr { size: v.size, ..SetAttr::default() };
    if let Some(m) = v.mode {
        if m & !0o7777 != 0 {
            return Err(Nfsstat4::Inval);
        }
        s.mode = Some(m);
    }
    if v.owner.as_ref().is_some_and(|o| o.is_empty())
        || v.owner_group.as_ref().is_some_and(|g| g.is_empty())
    {
        // RFC 7530 §5.9: an empty owner string is not a valid value
        return Err(Nfsstat4::Inval);
    }
    if let Some(o) = &v.owner {
        s.uid = Some(idmap.user_from_wire(o).map_err(|_| Nfsstat4::Badowner)?);
    }
    if let Some(g) = &v.owner_group {
        s.gid = Some(idmap.group_from_wire(g).map_err(|_| Nfsstat4::Badowner)?);
    }
    s.atime = settime(v.time_access_set)?;
    s.mtime = settime(v.time_modify_set)?;
    Ok((s, f.attrmask.clone()))
}

fn settime(t: Option<Settime4>) -> AttrResult<SetTime> {
    Ok(match t {
        None => SetTime::DontChange,
        Some(Settime4::ServerTime) => SetTime::ServerTime,
        Some(Settime4::ClientTime(t)) => {
            if t.nseconds >= 1_000_000_000 {
                return Err(Nfsstat4::Inval);
            }
            SetTime::ClientTime(Timestamp { seconds: t.seconds, nanos: t.nseconds })
        }
    })
}

/// Compare the attributes a client sent (VERIFY/NVERIFY) with the object's:
/// `Ok(true)` when all are equal (RFC 7530 §16.35).
pub(crate) fn same(sent: &Fattr4, ours: &Fattr4) -> AttrResult<bool> {
    for n in sent.attrmask.iter() {
        if !supported(2).get(n) {
            return Err(Nfsstat4::Attrnotsupp);
        }
        if n == a::FATTR4_RDATTR_ERROR || a::first_write_only(&Bitmap4::from_bits(&[n])).is_some() {
            return Err(Nfsstat4::Inval);
        }
    }
    Fattr::decode_fattr4(sent).map_err(|e| e.status())?;
    Ok(sent.attrmask == ours.attrmask && sent.attr_vals == ours.attr_vals)
}
