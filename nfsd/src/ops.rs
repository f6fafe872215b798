//! What the two back ends, [`crate::local::LocalFs`] and
//! [`crate::cluster::ClusterNodeFs`], share of the namespace operations:
//! the checks and the reads of the namespace.

use fsapi::access::{self, R, W, X};
use fsapi::{
    AccessMask, Attr, CreateHow, Credentials, FileRef, FileType, FsError, FsResult, InodeId,
    ReadDirReply, ReadReply, SetAttr, SnapshotId, SpecialKind,
};
use meta::{CreateMode, InodeRecord, Meta};

use crate::local::READ_SIZE_MAX_BYTES;

/// Read access to the namespace: the local [`Meta`], or a replica's
/// [`meta::MetaReader`] in the cluster.
pub(crate) trait Namespace {
    fn inode(&self, ino: InodeId) -> Result<Option<InodeRecord>, meta::MetaError>;
    fn lookup(&self, dir: InodeId, name: &[u8]) -> Result<Option<InodeId>, meta::MetaError>;
    fn list(
        &self,
        dir: InodeId,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<meta::ListedEntry>, bool), meta::MetaError>;
}

impl Namespace for Meta {
    fn inode(&self, ino: InodeId) -> Result<Option<InodeRecord>, meta::MetaError> {
        Meta::inode(self, ino)
    }
    fn lookup(&self, dir: InodeId, name: &[u8]) -> Result<Option<InodeId>, meta::MetaError> {
        Meta::lookup(self, dir, name)
    }
    fn list(
        &self,
        dir: InodeId,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<meta::ListedEntry>, bool), meta::MetaError> {
        Meta::list(self, dir, after, limit)
    }
}

impl Namespace for meta::MetaReader {
    fn inode(&self, ino: InodeId) -> Result<Option<InodeRecord>, meta::MetaError> {
        meta::MetaReader::inode(self, ino)
    }
    fn lookup(&self, dir: InodeId, name: &[u8]) -> Result<Option<InodeId>, meta::MetaError> {
        meta::MetaReader::lookup(self, dir, name)
    }
    fn list(
        &self,
        dir: InodeId,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<meta::ListedEntry>, bool), meta::MetaError> {
        meta::MetaReader::list(self, dir, after, limit)
    }
}

/// The live record of `file`: stale when the inode is gone or the
/// generation differs (the handle outlived the object).
pub(crate) fn live_record(ns: &impl Namespace, file: FileRef) -> FsResult<InodeRecord> {
    if file.snapshot != SnapshotId::LIVE {
        return Err(FsError::Stale);
    }
    match ns.inode(file.ino)? {
        Some(r) if r.generation == file.generation => Ok(r),
        _ => Err(FsError::Stale),
    }
}

/// LOOKUP of `name` in `dir`: the child's id and record.
pub(crate) fn lookup_child(
    ns: &impl Namespace,
    cred: &Credentials,
    dir: FileRef,
    name: &[u8],
) -> FsResult<(InodeId, InodeRecord)> {
    let rec = live_record(ns, dir)?;
    if rec.ftype != FileType::Directory {
        return Err(FsError::NotDir);
    }
    fsapi::validate_name(name)?;
    access::require(&rec.to_attr(dir.ino), cred, X)?;
    let ino = ns.lookup(dir.ino, name)?.ok_or(FsError::NotFound)?;
    let child = ns.inode(ino)?.ok_or(FsError::NotFound)?;
    Ok((ino, child))
}

/// ACCESS: what `cred` may do to `attr`'s object.
pub(crate) fn granted_access(attr: &Attr, cred: &Credentials, wanted: AccessMask) -> AccessMask {
    let mut granted = access::access_mask(attr, cred, wanted);
    // The owner may read and write its regular files whatever the mode
    // says (knfsd's owner override; see `read` and `write`).
    if attr.ftype == FileType::Regular && cred.uid == attr.uid {
        granted.0 |= wanted.0 & (AccessMask::READ | AccessMask::MODIFY | AccessMask::EXTEND);
    }
    granted
}

/// How a READ goes on after its checks.
pub(crate) enum ReadStart {
    /// Answered already (past the end, or inline data).
    Done(ReadReply),
    /// Read this many bytes from the chunk files.
    Chunked(u64, Attr),
}

/// READ's checks (type, permission), the reads answered without chunk
/// data, and the byte count otherwise. `attr` is the file's attributes as
/// the node returns them (pending writes merged).
pub(crate) fn read_start(
    rec: &InodeRecord,
    attr: Attr,
    cred: &Credentials,
    offset: u64,
    count: u32,
) -> FsResult<ReadStart> {
    match rec.ftype {
        FileType::Regular => {}
        FileType::Directory => return Err(FsError::IsDir),
        _ => return Err(FsError::Invalid("read of a special file")),
    }
    // Owner override, and read-if-exec so mode 0711 programs run (knfsd).
    if cred.uid != attr.uid && !access::may(&attr, cred, R) && !access::may(&attr, cred, X) {
        return Err(FsError::AccessDenied);
    }
    let size = attr.size;
    if offset >= size {
        return Ok(ReadStart::Done(ReadReply { data: Vec::new(), eof: true, attr }));
    }
    let n = (count.min(READ_SIZE_MAX_BYTES) as u64).min(size - offset);
    if !rec.chunked {
        let mut data = vec![0u8; n as usize];
        let inline = &rec.inline;
        if (offset as usize) < inline.len() {
            let end = inline.len().min((offset + n) as usize);
            data[..end - offset as usize].copy_from_slice(&inline[offset as usize..end]);
        }
        return Ok(ReadStart::Done(ReadReply { eof: offset + n >= size, data, attr }));
    }
    Ok(ReadStart::Chunked(n, attr))
}

/// WRITE's checks (type, permission, size limit); the end of the write.
pub(crate) fn check_write(
    rec: &InodeRecord,
    ino: InodeId,
    cred: &Credentials,
    offset: u64,
    len: u64,
) -> FsResult<u64> {
    match rec.ftype {
        FileType::Regular => {}
        FileType::Directory => return Err(FsError::IsDir),
        _ => return Err(FsError::Invalid("write to a special file")),
    }
    let attr = rec.to_attr(ino);
    if cred.uid != attr.uid {
        access::require(&attr, cred, W)?;
    }
    offset
        .checked_add(len)
        .filter(|e| *e <= fsapi::FILE_SIZE_MAX_BYTES)
        .ok_or(FsError::FileTooLarge)
}

/// READDIR / READDIRPLUS of `dir` (record `rec`) from `cookie`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn readdir_in(
    ns: &impl Namespace,
    attr_of: impl Fn(InodeId, &InodeRecord) -> Attr,
    cred: &Credentials,
    dir: FileRef,
    rec: &InodeRecord,
    cookie: u64,
    max_entries: usize,
    with_attrs: bool,
) -> FsResult<ReadDirReply> {
    if rec.ftype != FileType::Directory {
        return Err(FsError::NotDir);
    }
    let dir_attr = attr_of(dir.ino, rec);
    access::require(&dir_attr, cred, R)?;
    if cookie >= rec.next_cookie && cookie > 2 {
        return Err(FsError::BadCookie);
    }
    let file_ref = |ino: InodeId, attr: &Attr| FileRef {
        snapshot: SnapshotId::LIVE,
        ino,
        generation: attr.generation,
    };
    let mut entries = Vec::new();
    // `.` and `..` take cookies 1 and 2, as a local file system lists them.
    let dots: [(&[u8], u64, InodeId); 2] = [(b".", 1, dir.ino), (b"..", 2, rec.parent)];
    for (name, c, ino) in dots {
        if cookie < c && entries.len() < max_entries {
            if let Some(r) = ns.inode(ino)? {
                let attr = attr_of(ino, &r);
                entries.push(fsapi::DirEntry {
                    name: name.to_vec(),
                    cookie: c,
                    file: file_ref(ino, &attr),
                    attr: with_attrs.then_some(attr),
                });
            }
        }
    }
    let room = max_entries.saturating_sub(entries.len());
    let (listed, eof) =
        if room == 0 { (Vec::new(), false) } else { ns.list(dir.ino, cookie.max(2), room)? };
    for e in listed {
        let Some(r) = ns.inode(e.child)? else { continue };
        let attr = attr_of(e.child, &r);
        entries.push(fsapi::DirEntry {
            name: e.name,
            cookie: e.cookie,
            file: file_ref(e.child, &attr),
            attr: with_attrs.then_some(attr),
        });
    }
    Ok(ReadDirReply { entries, eof, dir_attr, verifier: rec.generation.0.to_be_bytes() })
}

/// CREATE's `how` as the metadata command's mode and attributes.
pub(crate) fn create_mode(how: CreateHow) -> (CreateMode, SetAttr) {
    match how {
        CreateHow::Unchecked(a) => (CreateMode::Unchecked, a),
        CreateHow::Guarded(a) => (CreateMode::Guarded, a),
        CreateHow::Exclusive(v) => (CreateMode::Exclusive(v), SetAttr::default()),
    }
}

/// MKNOD of a block or character device needs root (the export's
/// `devices` rule is the front end's).
pub(crate) fn check_mknod(cred: &Credentials, kind: SpecialKind) -> FsResult<()> {
    if matches!(kind, SpecialKind::CharDevice(..) | SpecialKind::BlockDevice(..)) && cred.uid != 0 {
        return Err(FsError::NotPermitted);
    }
    Ok(())
}
