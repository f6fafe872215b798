//! Between `fsapi` and NFSv3 wire types, and the one place where
//! [`FsError`] becomes `nfsstat3`.

use fsapi::{Attr, FileType, FsError, SetAttr, SetTime, Stability, Timestamp, Wcc, WccAttr};
use nfs_proto::nfs3::{
    self, Fattr3, Ftype3, Nfsstat3, Nfstime3, PostOpAttr, PreOpAttr, Sattr3, Specdata3, StableHow,
    WccData,
};

/// RFC 1813 §2.6: each error's nfsstat3.
pub fn status(e: &FsError) -> Nfsstat3 {
    match e {
        FsError::NotPermitted => Nfsstat3::Perm,
        FsError::NotFound => Nfsstat3::Noent,
        FsError::Io(_) => Nfsstat3::Io,
        FsError::AccessDenied => Nfsstat3::Acces,
        FsError::Exists => Nfsstat3::Exist,
        FsError::CrossDevice => Nfsstat3::Xdev,
        FsError::NotDir => Nfsstat3::Notdir,
        FsError::IsDir => Nfsstat3::Isdir,
        FsError::Invalid(_) => Nfsstat3::Inval,
        FsError::FileTooLarge => Nfsstat3::Fbig,
        FsError::NoSpace => Nfsstat3::Nospc,
        FsError::ReadOnly => Nfsstat3::Rofs,
        FsError::TooManyLinks => Nfsstat3::Mlink,
        FsError::NameTooLong => Nfsstat3::Nametoolong,
        FsError::NotEmpty => Nfsstat3::Notempty,
        FsError::Stale => Nfsstat3::Stale,
        FsError::BadHandle => Nfsstat3::Badhandle,
        FsError::BadCookie => Nfsstat3::BadCookie,
        FsError::NotSync => Nfsstat3::NotSync,
        FsError::NotSupported => Nfsstat3::Notsupp,
        FsError::BadType => Nfsstat3::Badtype,
        FsError::Jukebox => Nfsstat3::Jukebox,
        FsError::ServerFault(_) => Nfsstat3::Serverfault,
        FsError::NoXattr => Nfsstat3::Noent,
        FsError::XattrTooBig => Nfsstat3::Fbig,
    }
}

pub fn time3(t: Timestamp) -> Nfstime3 {
    // nfstime3 seconds are unsigned 32-bit: clamp times outside its range.
    Nfstime3 { seconds: t.seconds.clamp(0, u32::MAX as i64) as u32, nseconds: t.nanos }
}

pub fn time_from3(t: Nfstime3) -> Timestamp {
    Timestamp { seconds: t.seconds as i64, nanos: t.nseconds.min(999_999_999) }
}

pub fn ftype3(t: FileType) -> Ftype3 {
    match t {
        FileType::Regular => Ftype3::Reg,
        FileType::Directory => Ftype3::Dir,
        FileType::BlockDevice => Ftype3::Blk,
        FileType::CharDevice => Ftype3::Chr,
        FileType::Symlink => Ftype3::Lnk,
        FileType::Socket => Ftype3::Sock,
        FileType::Fifo => Ftype3::Fifo,
    }
}

pub fn fattr3(a: &Attr, fsid: u64) -> Fattr3 {
    Fattr3 {
        ftype: ftype3(a.ftype),
        mode: a.mode & 0o7777,
        nlink: a.nlink,
        uid: a.uid,
        gid: a.gid,
        size: a.size,
        used: a.used,
        rdev: Specdata3 { specdata1: a.rdev.0, specdata2: a.rdev.1 },
        fsid,
        fileid: a.ino.0,
        atime: time3(a.atime),
        mtime: time3(a.mtime),
        ctime: time3(a.ctime),
    }
}

pub fn post_op(a: Option<&Attr>, fsid: u64) -> PostOpAttr {
    PostOpAttr(a.map(|a| fattr3(a, fsid)))
}

pub fn wcc_attr3(w: &WccAttr) -> nfs3::WccAttr {
    nfs3::WccAttr { size: w.size, mtime: time3(w.mtime), ctime: time3(w.ctime) }
}

pub fn wcc_data(w: &Wcc, fsid: u64) -> WccData {
    WccData {
        before: PreOpAttr(w.before.as_ref().map(wcc_attr3)),
        after: post_op(w.after.as_ref(), fsid),
    }
}

/// Wcc data with only post-op attributes (after a failure).
pub fn wcc_after(a: Option<&Attr>, fsid: u64) -> WccData {
    WccData { before: PreOpAttr(None), after: post_op(a, fsid) }
}

pub fn set_attr(s: &Sattr3) -> SetAttr {
    let time = |t: &nfs3::SetTime| match t {
        nfs3::SetTime::DontChange => SetTime::DontChange,
        nfs3::SetTime::ServerTime => SetTime::ServerTime,
        nfs3::SetTime::ClientTime(t) => SetTime::ClientTime(time_from3(*t)),
    };
    SetAttr {
        mode: s.mode,
        uid: s.uid,
        gid: s.gid,
        size: s.size,
        atime: time(&s.atime),
        mtime: time(&s.mtime),
    }
}

pub fn stability(s: StableHow) -> Stability {
    match s {
        StableHow::Unstable => Stability::Unstable,
        StableHow::DataSync => Stability::DataSync,
        StableHow::FileSync => Stability::FileSync,
    }
}

pub fn stable_how(s: Stability) -> StableHow {
    match s {
        Stability::Unstable => StableHow::Unstable,
        Stability::DataSync => StableHow::DataSync,
        Stability::FileSync => StableHow::FileSync,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_outside_nfstime3_are_clamped() {
        assert_eq!(time3(Timestamp { seconds: -1, nanos: 5 }).seconds, 0);
        assert_eq!(time3(Timestamp { seconds: 1 << 40, nanos: 0 }).seconds, u32::MAX);
        assert_eq!(time_from3(Nfstime3 { seconds: 5, nseconds: 2_000_000_000 }).nanos, 999_999_999);
    }
}
