//! NFSv4 operations on files and directories (RFC 7530 §16, RFC 8881 §18):
//! one handler each. They use the current filehandle of the COMPOUND,
//! check the export's rules exactly as NFSv3 does, and call [`ClusterFs`].

use fsapi::{
    AccessMask, Attr, ClusterFs, Credentials, FileRef, FileType, FsError, SpecialKind, Stability,
};
use nfs_proto::nfs4::attr as fa;
use nfs_proto::nfs4::*;

use super::attrs::{self, AttrCtx};
use super::{status4, Cx, Fh, Junction};
use crate::Server;

/// Result of a step inside a handler.
type R<T> = Result<T, Nfsstat4>;

/// READDIR cookie verifier: cookies are stable for a directory's lifetime
/// (never reused), so one constant serves (RFC 7530 §16.24.4).
const COOKIE_VERIFIER: [u8; 8] = *b"cairn\0v1";

/// Directory entries asked of the file system per READDIR batch.
const READDIR_BATCH_ENTRIES: usize = 256;
/// Largest READDIR reply built, whatever `maxcount` says.
const READDIR_REPLY_MAX_BYTES: usize = 1 << 20;

fn fs_err(e: FsError) -> Nfsstat4 {
    status4(&e)
}

/// RFC 7530 §12.7 / RFC 8881 §14.5: a component name for LOOKUP, CREATE,
/// OPEN, REMOVE, RENAME, LINK.
pub(crate) fn check_name(name: &[u8]) -> R<()> {
    if name.is_empty() {
        return Err(Nfsstat4::Inval);
    }
    if name.len() > fsapi::NAME_MAX_BYTES {
        return Err(Nfsstat4::Nametoolong);
    }
    if std::str::from_utf8(name).is_err() {
        return Err(Nfsstat4::Inval);
    }
    if name == b"." || name == b".." {
        return Err(Nfsstat4::Badname);
    }
    if name.contains(&b'/') || name.contains(&0) {
        return Err(Nfsstat4::Badchar);
    }
    Ok(())
}

impl<F: ClusterFs> Server<F> {
    /// The current filehandle or NOFILEHANDLE.
    pub(crate) fn cur(&self, cx: &Cx<'_, '_>) -> R<Fh> {
        cx.cur.ok_or(Nfsstat4::Nofilehandle)
    }

    /// The current filehandle as a file (pseudo directories answer `pseudo`).
    pub(crate) fn cur_file(&self, cx: &Cx<'_, '_>, pseudo: Nfsstat4) -> R<(u8, FileRef)> {
        match self.cur(cx)? {
            Fh::File { export, file } => Ok((export, file)),
            Fh::Pseudo(_) => Err(pseudo),
        }
    }

    /// The current filehandle, for an operation that changes something:
    /// ROFS on a read-only export or a pseudo directory.
    pub(crate) fn cur_writable(&self, cx: &Cx<'_, '_>) -> R<(u8, FileRef, Credentials)> {
        let (export, file) = self.cur_file(cx, Nfsstat4::Rofs)?;
        let e = self.export(export).ok_or(Nfsstat4::Stale)?;
        if e.rules.read_only || file.snapshot != fsapi::SnapshotId::LIVE {
            return Err(Nfsstat4::Rofs);
        }
        Ok((export, file, self.cred(cx.call, export)))
    }

    /// Attributes of the current object (synthesised for pseudo directories).
    pub(crate) async fn attr4(&self, fh: Fh) -> R<Attr> {
        match fh {
            Fh::File { file, .. } => self.fs.getattr(file).await.map_err(fs_err),
            Fh::Pseudo(id) => Ok(self.pseudo_attr(id)),
        }
    }

    /// The export a file reached from export `from` belongs to: the
    /// export whose root it is, when that lies below `from` and admits the
    /// client (the deepest export wins, see `pseudo.rs`); else `from`.
    fn export_of(&self, cx: &Cx<'_, '_>, from: u8, file: FileRef) -> u8 {
        self.exports
            .iter()
            .enumerate()
            .map(|(n, e)| (n as u8, e))
            .filter(|(n, e)| {
                e.root == file
                    && *n != from
                    && self.v4.pseudo.crosses_into(from, *n)
                    && e.rules.admits(cx.call.peer)
            })
            .map(|(n, _)| n)
            .last()
            .unwrap_or(from)
    }

    fn pseudo_attr(&self, id: u32) -> Attr {
        let t = fsapi::Timestamp { seconds: 0, nanos: 0 };
        Attr {
            ftype: FileType::Directory,
            mode: 0o555,
            nlink: 2 + self.v4.pseudo.entries(id).len() as u32,
            uid: 0,
            gid: 0,
            size: 4096,
            used: 4096,
            rdev: (0, 0),
            // far from the inode numbers of the file system
            ino: fsapi::InodeId(u64::MAX - id as u64),
            generation: fsapi::Generation(0),
            atime: t,
            mtime: t,
            ctime: t,
            change: 1,
        }
    }

    /// The fattr4 of `fh` for the bits of `req`.
    pub(crate) async fn fattr_of(
        &self,
        cx: &Cx<'_, '_>,
        fh: Fh,
        attr: &Attr,
        req: &Bitmap4,
    ) -> R<Fattr4> {
        let (fsid, export_path, file) = match fh {
            Fh::File { export, file } => (
                Fsid4 { major: self.fsid, minor: 0 },
                self.export(export).map(|e| e.rules.path.as_str()).unwrap_or("/"),
                Some(file),
            ),
            Fh::Pseudo(id) => (Fsid4 { major: 0, minor: 1 }, self.v4.pseudo.path(id), None),
        };
        let fsstat = match (file, attrs::needs_fsstat(req)) {
            (Some(f), true) => Some(self.fs.fsstat(f).await.map_err(fs_err)?.0),
            (None, true) => Some(fsapi::FsStat {
                total_bytes: 0,
                free_bytes: 0,
                avail_bytes: 0,
                total_files: 0,
                free_files: 0,
                avail_files: 0,
            }),
            _ => None,
        };
        let ctx = AttrCtx {
            minor: cx.minor,
            fsid,
            lease_secs: self.v4.lease.as_secs() as u32,
            fh: self.fh_encode(fh),
            idmap: &self.v4.idmap,
            fsstat,
            export_path,
        };
        Ok(attrs::build(attr, &ctx, req))
    }

    /// Dispatch a file operation (anything that is not client/session/open/lock state).
    pub(crate) async fn file_op(&self, cx: &mut Cx<'_, '_>, op: ArgOp) -> ResOp {
        match op {
            ArgOp::Putfh(a) => ResOp::Putfh(st(self.v4_putfh(cx, a))),
            ArgOp::Putrootfh => {
                cx.cur = Some(self.junction_fh(self.v4.pseudo.root()));
                cx.cur_stateid = None;
                ResOp::Putrootfh(Nfsstat4::Ok)
            }
            ArgOp::Putpubfh => {
                cx.cur = Some(self.junction_fh(self.v4.pseudo.root()));
                cx.cur_stateid = None;
                ResOp::Putpubfh(Nfsstat4::Ok)
            }
            ArgOp::Getfh => ResOp::Getfh(
                self.cur(cx).map(|fh| GetfhResOk { object: self.fh_encode(fh) }).into(),
            ),
            ArgOp::Savefh => ResOp::Savefh(match cx.cur {
                Some(fh) => {
                    cx.saved = Some(fh);
                    cx.saved_stateid = cx.cur_stateid;
                    Nfsstat4::Ok
                }
                None => Nfsstat4::Nofilehandle,
            }),
            ArgOp::Restorefh => ResOp::Restorefh(match cx.saved {
                Some(fh) => {
                    cx.cur = Some(fh);
                    cx.cur_stateid = cx.saved_stateid;
                    Nfsstat4::Ok
                }
                None => Nfsstat4::Restorefh,
            }),
            ArgOp::Lookup(a) => ResOp::Lookup(st(self.v4_lookup(cx, &a.objname).await)),
            ArgOp::Lookupp => ResOp::Lookupp(st(self.v4_lookupp(cx).await)),
            ArgOp::Getattr(a) => ResOp::Getattr(self.v4_getattr(cx, &a.attr_request).await.into()),
            ArgOp::Verify(a) => {
                ResOp::Verify(st(self.v4_verify(cx, &a.obj_attributes, true).await))
            }
            ArgOp::Nverify(a) => {
                ResOp::Nverify(st(self.v4_verify(cx, &a.obj_attributes, false).await))
            }
            ArgOp::Access(a) => ResOp::Access(self.v4_access(cx, a.access).await.into()),
            ArgOp::Readlink => ResOp::Readlink(self.v4_readlink(cx).await.into()),
            ArgOp::Readdir(a) => ResOp::Readdir(self.v4_readdir(cx, a).await.into()),
            ArgOp::Create(a) => ResOp::Create(self.v4_create(cx, a).await.into()),
            ArgOp::Remove(a) => ResOp::Remove(self.v4_remove(cx, &a.target).await.into()),
            ArgOp::Rename(a) => {
                ResOp::Rename(self.v4_rename(cx, &a.oldname, &a.newname).await.into())
            }
            ArgOp::Link(a) => ResOp::Link(self.v4_link(cx, &a.newname).await.into()),
            ArgOp::Setattr(a) => ResOp::Setattr(self.v4_setattr(cx, a).await),
            ArgOp::Commit(a) => ResOp::Commit(self.v4_commit(cx, a).await.into()),
            ArgOp::Secinfo(a) => ResOp::Secinfo(self.v4_secinfo(cx, Some(&a.name)).await.into()),
            ArgOp::SecinfoNoName(style) => {
                ResOp::SecinfoNoName(self.v4_secinfo_no_name(cx, style).await.into())
            }
            ArgOp::Read(a) => ResOp::Read(self.v4_read(cx, a).await.into()),
            ArgOp::Write(a) => ResOp::Write(self.v4_write(cx, a).await.into()),
            ArgOp::Getxattr(a) => ResOp::Getxattr(self.v4_getxattr(cx, &a.gxa_name).await.into()),
            ArgOp::Setxattr(a) => ResOp::Setxattr(self.v4_setxattr(cx, a).await.into()),
            ArgOp::Listxattrs(a) => ResOp::Listxattrs(self.v4_listxattrs(cx, a).await.into()),
            ArgOp::Removexattr(a) => {
                ResOp::Removexattr(self.v4_removexattr(cx, &a.rxa_name).await.into())
            }
            other => {
                tracing::error!(op = other.opnum(), "NFSv4 operation without a handler");
                ResOp::from_status(other.opnum(), Nfsstat4::Serverfault)
            }
        }
    }

    fn v4_putfh(&self, cx: &mut Cx<'_, '_>, a: PutfhArgs) -> R<()> {
        let fh = self.fh_decode(cx.call, &a.object)?;
        cx.cur = Some(fh);
        cx.cur_stateid = None;
        Ok(())
    }

    /// LOOKUP (RFC 7530 §16.15): crosses into an export whose root it reaches.
    async fn v4_lookup(&self, cx: &mut Cx<'_, '_>, name: &[u8]) -> R<()> {
        let fh = self.cur(cx)?;
        let attr = self.attr4(fh).await?;
        match attr.ftype {
            FileType::Directory => {}
            FileType::Symlink => return Err(Nfsstat4::Symlink),
            _ => return Err(Nfsstat4::Notdir),
        }
        check_name(name)?;
        let next = match fh {
            Fh::Pseudo(id) => match self.v4.pseudo.lookup(id, name) {
                Some(j) => self.junction_fh(j),
                None => return Err(Nfsstat4::Noent),
            },
            Fh::File { export, file } => {
                let cred = self.cred(cx.call, export);
                let (child, _) = self.fs.lookup(&cred, file, name).await.map_err(fs_err)?;
                Fh::File { export: self.export_of(cx, export, child), file: child }
            }
        };
        cx.cur = Some(next);
        cx.cur_stateid = None;
        Ok(())
    }

    /// LOOKUPP (RFC 7530 §16.16): the parent, leaving an export at its root.
    async fn v4_lookupp(&self, cx: &mut Cx<'_, '_>) -> R<()> {
        let fh = self.cur(cx)?;
        let attr = self.attr4(fh).await?;
        match attr.ftype {
            FileType::Directory => {}
            FileType::Symlink => return Err(Nfsstat4::Symlink),
            _ => return Err(Nfsstat4::Notdir),
        }
        let next = match fh {
            Fh::Pseudo(id) => match self.v4.pseudo.parent(id) {
                Some(p) => Fh::Pseudo(p),
                None => return Err(Nfsstat4::Noent),
            },
            Fh::File { export, file } => {
                let e = self.export(export).ok_or(Nfsstat4::Stale)?;
                if file == e.root {
                    match self.v4.pseudo.above_export(export) {
                        None => return Err(Nfsstat4::Noent),
                        Some(Junction::Pseudo(p)) => Fh::Pseudo(p),
                        Some(Junction::Export(up)) => {
                            let cred = self.cred(cx.call, up);
                            let (parent, _) =
                                self.fs.lookup(&cred, file, b"..").await.map_err(fs_err)?;
                            Fh::File { export: up, file: parent }
                        }
                    }
                } else {
                    let cred = self.cred(cx.call, export);
                    let (parent, _) = self.fs.lookup(&cred, file, b"..").await.map_err(fs_err)?;
                    Fh::File { export, file: parent }
                }
            }
        };
        cx.cur = Some(next);
        cx.cur_stateid = None;
        Ok(())
    }

    async fn v4_getattr(&self, cx: &Cx<'_, '_>, req: &Bitmap4) -> R<GetattrResOk> {
        let fh = self.cur(cx)?;
        if fa::first_write_only(req).is_some() {
            return Err(Nfsstat4::Inval);
        }
        let attr = self.attr4(fh).await?;
        Ok(GetattrResOk { obj_attributes: self.fattr_of(cx, fh, &attr, req).await? })
    }

    /// VERIFY (RFC 7530 §16.35) with `equal`, NVERIFY (§16.17) without.
    async fn v4_verify(&self, cx: &Cx<'_, '_>, sent: &Fattr4, equal: bool) -> R<()> {
        let fh = self.cur(cx)?;
        let attr = self.attr4(fh).await?;
        let ours = self.fattr_of(cx, fh, &attr, &sent.attrmask).await?;
        match (attrs::same(sent, &ours)?, equal) {
            (true, true) | (false, false) => Ok(()),
            (false, true) => Err(Nfsstat4::NotSame),
            (true, false) => Err(Nfsstat4::Same),
        }
    }

    /// ACCESS (RFC 7530 §16.1): the v3 rules, the v4 bit layout is the same.
    async fn v4_access(&self, cx: &Cx<'_, '_>, wanted: u32) -> R<AccessResOk> {
        let fh = self.cur(cx)?;
        let base = ACCESS4_READ
            | ACCESS4_LOOKUP
            | ACCESS4_MODIFY
            | ACCESS4_EXTEND
            | ACCESS4_DELETE
            | ACCESS4_EXECUTE;
        // RFC 8276 §8.6: 4.2 clients of a server with xattr_support ask for these too
        let xattr =
            if cx.minor >= 2 { ACCESS4_XAREAD | ACCESS4_XAWRITE | ACCESS4_XALIST } else { 0 };
        let all = base | xattr;
        if wanted & !all != 0 {
            return Err(Nfsstat4::Inval);
        }
        // RFC 7530 §16.1: LOOKUP and DELETE mean something for directories
        // only, EXECUTE for everything else
        let attr = self.attr4(fh).await?;
        let meaningful = if attr.ftype == FileType::Directory {
            all & !ACCESS4_EXECUTE
        } else {
            all & !(ACCESS4_LOOKUP | ACCESS4_DELETE)
        };
        let supported = wanted & meaningful;
        let allowed = match fh {
            Fh::Pseudo(_) => {
                wanted
                    & (ACCESS4_READ
                        | ACCESS4_LOOKUP
                        | ACCESS4_EXECUTE
                        | ACCESS4_XAREAD
                        | ACCESS4_XALIST)
            }
            Fh::File { export, file } => {
                let cred = self.cred(cx.call, export);
                // xattrs need what the data needs: read to read or list, write to change
                let ask = (wanted & base) | ACCESS4_READ | ACCESS4_MODIFY;
                let (mask, _) =
                    self.fs.access(&cred, file, AccessMask(ask)).await.map_err(fs_err)?;
                let mut m = mask.0 & wanted & base;
                if mask.0 & ACCESS4_READ != 0 {
                    m |= wanted & (ACCESS4_XAREAD | ACCESS4_XALIST);
                }
                if mask.0 & ACCESS4_MODIFY != 0 {
                    m |= wanted & ACCESS4_XAWRITE;
                }
                let e = self.export(export).ok_or(Nfsstat4::Stale)?;
                if e.rules.read_only {
                    m &= !(ACCESS4_MODIFY | ACCESS4_EXTEND | ACCESS4_DELETE | ACCESS4_XAWRITE);
                }
                m
            }
        };
        Ok(AccessResOk { supported, access: allowed & supported })
    }

    async fn v4_readlink(&self, cx: &Cx<'_, '_>) -> R<ReadlinkResOk> {
        let (export, file) = self.cur_file(cx, Nfsstat4::Inval)?;
        let attr = self.fs.getattr(file).await.map_err(fs_err)?;
        if attr.ftype != FileType::Symlink {
            return Err(Nfsstat4::Inval);
        }
        let cred = self.cred(cx.call, export);
        let (link, _) = self.fs.readlink(&cred, file).await.map_err(fs_err)?;
        Ok(ReadlinkResOk { link })
    }

    /// READDIR (RFC 7530 §16.24): no "." or ".."; cookies 1 and 2 are
    /// reserved; stops at `dircount`/`maxcount`; TOOSMALL when not even one
    /// entry fits.
    async fn v4_readdir(&self, cx: &Cx<'_, '_>, a: ReaddirArgs) -> R<ReaddirResOk> {
        let fh = self.cur(cx)?;
        let dattr = self.attr4(fh).await?;
        if dattr.ftype != FileType::Directory {
            return Err(Nfsstat4::Notdir);
        }
        if fa::first_write_only(&a.attr_request).is_some() {
            return Err(Nfsstat4::Inval);
        }
        if a.cookie == 1 || a.cookie == 2 {
            return Err(Nfsstat4::BadCookie);
        }
        if a.cookie != 0 && a.cookieverf != COOKIE_VERIFIER {
            return Err(Nfsstat4::NotSame);
        }
        let maxcount = (a.maxcount as usize).min(READDIR_REPLY_MAX_BYTES);
        // READDIR4resok without entries: verifier, end of list, eof
        let fixed = 8 + 4 + 4;
        if maxcount < fixed {
            return Err(Nfsstat4::Toosmall);
        }
        let dircount = if a.dircount == 0 { usize::MAX } else { a.dircount as usize };
        let mut out = ReaddirResOk { cookieverf: COOKIE_VERIFIER, entries: Vec::new(), eof: false };
        let mut used = fixed;
        let mut dir_used = 0usize;
        match fh {
            Fh::Pseudo(id) => {
                let all = self.v4.pseudo.entries(id);
                // pseudo directories: cookie = index + 3
                let start = if a.cookie == 0 { 0 } else { (a.cookie - 2) as usize };
                let mut eof = true;
                for (i, (name, j)) in all.iter().enumerate().skip(start) {
                    let cfh = self.junction_fh(*j);
                    let attr = self.attr4(cfh).await?;
                    let attrs = self.fattr_of(cx, cfh, &attr, &a.attr_request).await?;
                    let e = Entry4 { cookie: i as u64 + 3, name: name.clone(), attrs };
                    if used + e.encoded_len() > maxcount || dir_used + e.dircount_len() > dircount {
                        eof = false;
                        break;
                    }
                    used += e.encoded_len();
                    dir_used += e.dircount_len();
                    out.entries.push(e);
                }
                if out.entries.is_empty() && !eof {
                    return Err(Nfsstat4::Toosmall);
                }
                out.eof = eof;
                return Ok(out);
            }
            Fh::File { export, file } => {
                let cred = self.cred(cx.call, export);
                let mut cookie = a.cookie;
                'batches: loop {
                    let batch = self
                        .fs
                        .readdir(&cred, file, cookie, READDIR_BATCH_ENTRIES, true)
                        .await
                        .map_err(fs_err)?;
                    let n = batch.entries.len();
                    for ent in batch.entries {
                        cookie = ent.cookie;
                        if ent.name == b"." || ent.name == b".." {
                            continue;
                        }
                        let cfh = Fh::File {
                            export: self.export_of(cx, export, ent.file),
                            file: ent.file,
                        };
                        let attrs = match ent.attr {
                            Some(at) => self.fattr_of(cx, cfh, &at, &a.attr_request).await?,
                            None => match self.fs.getattr(ent.file).await {
                                Ok(at) => self.fattr_of(cx, cfh, &at, &a.attr_request).await?,
                                Err(e) if a.attr_request.get(fa::FATTR4_RDATTR_ERROR) => {
                                    // RFC 7530 §16.24.4: report the error in the entry
                                    let f = fa::Fattr {
                                        rdattr_error: Some(status4(&e)),
                                        ..Default::default()
                                    };
                                    f.encode_fattr4(&a.attr_request)
                                }
                                Err(FsError::Stale | FsError::NotFound) => continue, // removed meanwhile
                                Err(e) => return Err(status4(&e)),
                            },
                        };
                        let e = Entry4 { cookie: ent.cookie, name: ent.name, attrs };
                        if used + e.encoded_len() > maxcount
                            || dir_used + e.dircount_len() > dircount
                        {
                            if out.entries.is_empty() {
                                return Err(Nfsstat4::Toosmall);
                            }
                            break 'batches;
                        }
                        used += e.encoded_len();
                        dir_used += e.dircount_len();
                        out.entries.push(e);
                    }
                    if batch.eof || n == 0 {
                        out.eof = true;
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Change info of a directory around a change: `before` read just
    /// before it, so not atomic (RFC 7530 §3.3.5 `change_info4`).
    async fn v4_dir_change(&self, dir: FileRef) -> u64 {
        self.fs.getattr(dir).await.map(|a| a.change).unwrap_or(0)
    }

    async fn v4_cinfo(&self, dir: FileRef, before: u64, after: Option<&Attr>) -> ChangeInfo4 {
        let after = match after {
            Some(a) => a.change,
            None => self.v4_dir_change(dir).await,
        };
        ChangeInfo4 { atomic: false, before, after }
    }

    /// The current filehandle must be a directory (NOTDIR otherwise).
    async fn v4_require_dir(&self, file: FileRef) -> R<Attr> {
        let a = self.fs.getattr(file).await.map_err(fs_err)?;
        if a.ftype != FileType::Directory {
            return Err(Nfsstat4::Notdir);
        }
        Ok(a)
    }

    /// CREATE (RFC 7530 §16.4): directories, symlinks, devices, FIFOs and
    /// sockets (regular files are OPEN's).
    async fn v4_create(&self, cx: &mut Cx<'_, '_>, a: CreateArgs) -> R<CreateResOk> {
        let fh = self.cur(cx)?;
        if let Fh::Pseudo(_) = fh {
            return Err(Nfsstat4::Rofs);
        }
        let (export, dir) = self.cur_file(cx, Nfsstat4::Rofs)?;
        let dattr = self.v4_require_dir(dir).await?;
        let (_, _, cred) = self.cur_writable(cx)?;
        if let Createtype4::Other(_) = a.objtype {
            return Err(Nfsstat4::Badtype);
        }
        check_name(&a.objname)?;
        let (set, mask) = attrs::to_setattr(&a.createattrs, &self.v4.idmap)?;
        if set.size.is_some() {
            return Err(Nfsstat4::Inval);
        }
        let before = dattr.change;
        let e = self.export(export).ok_or(Nfsstat4::Stale)?;
        let r = match a.objtype {
            Createtype4::Dir => self.fs.mkdir(&cred, dir, &a.objname, set).await,
            Createtype4::Lnk(target) => {
                if target.is_empty() {
                    return Err(Nfsstat4::Inval);
                }
                self.fs.symlink(&cred, dir, &a.objname, &target, set).await
            }
            Createtype4::Fifo => {
                self.fs.mknod(&cred, dir, &a.objname, SpecialKind::Fifo, set).await
            }
            Createtype4::Sock => {
                self.fs.mknod(&cred, dir, &a.objname, SpecialKind::Socket, set).await
            }
            Createtype4::Blk(d) | Createtype4::Chr(d) => {
                if !e.rules.allow_devices {
                    return Err(Nfsstat4::Perm);
                }
                let kind = if matches!(a.objtype, Createtype4::Blk(_)) {
                    SpecialKind::BlockDevice(d.specdata1, d.specdata2)
                } else {
                    SpecialKind::CharDevice(d.specdata1, d.specdata2)
                };
                self.fs.mknod(&cred, dir, &a.objname, kind, set).await
            }
            Createtype4::Other(_) => return Err(Nfsstat4::Badtype),
        }
        .map_err(fs_err)?;
        let cinfo = self.v4_cinfo(dir, before, r.wcc.after.as_ref()).await;
        cx.cur = Some(Fh::File { export, file: r.value.0 });
        cx.cur_stateid = None;
        Ok(CreateResOk { cinfo, attrset: mask })
    }

    async fn v4_remove(&self, cx: &Cx<'_, '_>, name: &[u8]) -> R<RemoveResOk> {
        let (_, dir, cred) = self.cur_writable(cx)?;
        let dattr = self.v4_require_dir(dir).await?;
        check_name(name)?;
        // REMOVE removes files and directories alike (RFC 7530 §16.25)
        let (_, cattr) = self.fs.lookup(&cred, dir, name).await.map_err(fs_err)?;
        let r = if cattr.ftype == FileType::Directory {
            self.fs.rmdir(&cred, dir, name).await
        } else {
            self.fs.remove(&cred, dir, name).await
        }
        .map_err(fs_err)?;
        Ok(RemoveResOk { cinfo: self.v4_cinfo(dir, dattr.change, r.wcc.after.as_ref()).await })
    }

    /// RENAME (RFC 7530 §16.26): from the saved to the current directory.
    async fn v4_rename(&self, cx: &Cx<'_, '_>, old: &[u8], new: &[u8]) -> R<RenameResOk> {
        let saved = cx.saved.ok_or(Nfsstat4::Nofilehandle)?;
        let (to_export, to_dir, cred) = self.cur_writable(cx)?;
        let (from_export, from_dir) = match saved {
            Fh::File { export, file } => (export, file),
            Fh::Pseudo(_) => return Err(Nfsstat4::Rofs),
        };
        let fattr = self.v4_require_dir(from_dir).await?;
        let tattr = self.v4_require_dir(to_dir).await?;
        if from_export != to_export {
            return Err(Nfsstat4::Xdev);
        }
        check_name(old)?;
        check_name(new)?;
        let r = self.fs.rename(&cred, from_dir, old, to_dir, new).await.map_err(fs_err)?;
        Ok(RenameResOk {
            source_cinfo: self.v4_cinfo(from_dir, fattr.change, r.from_dir.after.as_ref()).await,
            target_cinfo: self.v4_cinfo(to_dir, tattr.change, r.to_dir.after.as_ref()).await,
        })
    }

    /// LINK (RFC 7530 §16.9): the saved filehandle gets a name in the current directory.
    async fn v4_link(&self, cx: &Cx<'_, '_>, name: &[u8]) -> R<LinkResOk> {
        let saved = cx.saved.ok_or(Nfsstat4::Nofilehandle)?;
        let (to_export, dir, cred) = self.cur_writable(cx)?;
        let (from_export, file) = match saved {
            Fh::File { export, file } => (export, file),
            Fh::Pseudo(_) => return Err(Nfsstat4::Isdir),
        };
        let dattr = self.v4_require_dir(dir).await?;
        let sattr = self.fs.getattr(file).await.map_err(fs_err)?;
        if sattr.ftype == FileType::Directory {
            return Err(Nfsstat4::Isdir);
        }
        if from_export != to_export {
            return Err(Nfsstat4::Xdev);
        }
        check_name(name)?;
        let r = self.fs.link(&cred, file, dir, name).await.map_err(fs_err)?;
        Ok(LinkResOk { cinfo: self.v4_cinfo(dir, dattr.change, r.wcc.after.as_ref()).await })
    }

    /// SETATTR (RFC 7530 §16.32); a size change needs a stateid allowing writes.
    async fn v4_setattr(&self, cx: &Cx<'_, '_>, a: SetattrArgs) -> SetattrRes {
        let fail = |status| SetattrRes { status, attrsset: Bitmap4::new() };
        let (_, file, cred) = match self.cur_writable(cx) {
            Ok(v) => v,
            Err(s) => return fail(s),
        };
        let (set, mask) = match attrs::to_setattr(&a.obj_attributes, &self.v4.idmap) {
            Ok(v) => v,
            Err(s) => return fail(s),
        };
        let attr = match self.fs.getattr(file).await {
            Ok(a) => a,
            Err(e) => return fail(status4(&e)),
        };
        if set.size.is_some() {
            match attr.ftype {
                FileType::Regular => {}
                FileType::Directory => return fail(Nfsstat4::Isdir),
                _ => return fail(Nfsstat4::Inval),
            }
            if let Err(s) =
                self.check_io_kind(cx, &a.stateid, file, crate::v4state::IoKind::SetSize)
            {
                return fail(s);
            }
        }
        match self.fs.setattr(&cred, file, set, None).await {
            Ok(_) => SetattrRes { status: Nfsstat4::Ok, attrsset: mask },
            Err(e) => fail(status4(&e)),
        }
    }

    async fn v4_commit(&self, cx: &Cx<'_, '_>, a: CommitArgs) -> R<CommitResOk> {
        let (export, file) = self.cur_file(cx, Nfsstat4::Isdir)?;
        let attr = self.fs.getattr(file).await.map_err(fs_err)?;
        match attr.ftype {
            FileType::Regular => {}
            FileType::Directory => return Err(Nfsstat4::Isdir),
            FileType::Symlink => return Err(Nfsstat4::Symlink),
            _ => return Err(Nfsstat4::Inval),
        }
        if a.offset.checked_add(a.count as u64).is_none() {
            return Err(Nfsstat4::Inval);
        }
        let cred = self.cred(cx.call, export);
        let r = self.fs.commit(&cred, file, a.offset, a.count).await.map_err(fs_err)?;
        Ok(CommitResOk { writeverf: r.value.0 })
    }

    /// SECINFO (RFC 7530 §16.31): AUTH_SYS only; consumes the current filehandle.
    async fn v4_secinfo(&self, cx: &mut Cx<'_, '_>, name: Option<&Vec<u8>>) -> R<SecinfoResOk> {
        let fh = self.cur(cx)?;
        let attr = self.attr4(fh).await?;
        if attr.ftype != FileType::Directory {
            return Err(Nfsstat4::Notdir);
        }
        if let Some(name) = name {
            check_name(name)?;
            match fh {
                Fh::Pseudo(id) => {
                    self.v4.pseudo.lookup(id, name).ok_or(Nfsstat4::Noent)?;
                }
                Fh::File { export, file } => {
                    let cred = self.cred(cx.call, export);
                    self.fs.lookup(&cred, file, name).await.map_err(fs_err)?;
                }
            }
        }
        if cx.minor >= 1 {
            // RFC 8881 §2.6.3.1.1.8: SECINFO consumes the current filehandle
            cx.cur = None;
        }
        Ok(SecinfoResOk(vec![Secinfo4::Flavor(nfs_proto::rpc::AUTH_SYS)]))
    }

    async fn v4_secinfo_no_name(
        &self,
        cx: &mut Cx<'_, '_>,
        style: SecinfoStyle4,
    ) -> R<SecinfoResOk> {
        let fh = self.cur(cx)?;
        if style == SecinfoStyle4::Parent {
            let attr = self.attr4(fh).await?;
            if attr.ftype != FileType::Directory {
                return Err(Nfsstat4::Notdir);
            }
            self.v4_lookupp(cx).await?;
        }
        cx.cur = None;
        Ok(SecinfoResOk(vec![Secinfo4::Flavor(nfs_proto::rpc::AUTH_SYS)]))
    }

    /// ISDIR or INVAL when `file` is not a regular file (READ, WRITE).
    async fn not_regular(&self, file: FileRef) -> Option<Nfsstat4> {
        match self.fs.getattr(file).await {
            Ok(a) if a.ftype == FileType::Regular => None,
            Ok(a) if a.ftype == FileType::Directory => Some(Nfsstat4::Isdir),
            Ok(_) => Some(Nfsstat4::Inval),
            Err(e) => Some(status4(&e)),
        }
    }

    /// READ (RFC 7530 §16.23).
    async fn v4_read(&self, cx: &Cx<'_, '_>, a: ReadArgs) -> R<ReadResOk> {
        let (export, file) = self.cur_file(cx, Nfsstat4::Isdir)?;
        // the file system refuses READ of anything but a regular file
        // (ISDIR, INVAL); only a refused stateid needs the type, to answer
        // as if the type had been checked first
        if let Err(s) = self.check_io(cx, &a.stateid, file, false) {
            return Err(self.not_regular(file).await.unwrap_or(s));
        }
        let cred = self.cred(cx.call, export);
        let count = a.count.min(attrs::IO_SIZE_MAX_BYTES);
        let r = self.fs.read(&cred, file, a.offset, count).await.map_err(fs_err)?;
        Ok(ReadResOk { eof: r.eof, data: r.data })
    }

    /// WRITE (RFC 7530 §16.36).
    async fn v4_write(&self, cx: &Cx<'_, '_>, a: WriteArgs) -> R<WriteResOk> {
        let (_, file, cred) = self.cur_writable(cx)?;
        // as for READ: the file system checks the type of a real write
        if let Err(s) = self.check_io(cx, &a.stateid, file, true) {
            return Err(self.not_regular(file).await.unwrap_or(s));
        }
        if a.data.len() > attrs::IO_SIZE_MAX_BYTES as usize {
            return Err(Nfsstat4::Inval);
        }
        if a.offset
            .checked_add(a.data.len() as u64)
            .is_none_or(|end| end > attrs::FILE_SIZE_MAX_BYTES)
        {
            return Err(Nfsstat4::Fbig);
        }
        if a.data.is_empty() {
            if let Some(s) = self.not_regular(file).await {
                return Err(s);
            }
            // RFC 7530 §16.36.4: a zero-length WRITE changes nothing (not even mtime)
            return Ok(WriteResOk {
                count: 0,
                committed: StableHow4::FileSync,
                writeverf: self.fs.write_verifier().0,
            });
        }
        let stable = match a.stable {
            StableHow4::Unstable => Stability::Unstable,
            StableHow4::DataSync => Stability::DataSync,
            StableHow4::FileSync => Stability::FileSync,
        };
        let r = self.fs.write(&cred, file, a.offset, a.data, stable).await.map_err(fs_err)?;
        Ok(WriteResOk {
            count: r.value.count,
            committed: match r.value.committed {
                Stability::Unstable => StableHow4::Unstable,
                Stability::DataSync => StableHow4::DataSync,
                Stability::FileSync => StableHow4::FileSync,
            },
            writeverf: r.value.verifier.0,
        })
    }
}

impl<F: ClusterFs> Server<F> {
    /// GETXATTR (RFC 8276 §8.4.1).
    async fn v4_getxattr(&self, cx: &Cx<'_, '_>, name: &[u8]) -> R<GetxattrResOk> {
        let (export, file) = self.cur_file(cx, Nfsstat4::Noxattr)?;
        fsapi::validate_name(name).map_err(fs_err)?;
        let cred = self.cred(cx.call, export);
        let v = self.fs.getxattr(&cred, file, name).await.map_err(fs_err)?;
        Ok(GetxattrResOk { gxr_value: v })
    }

    /// SETXATTR (RFC 8276 §8.4.2).
    async fn v4_setxattr(&self, cx: &Cx<'_, '_>, a: SetxattrArgs) -> R<XattrChangeResOk> {
        let (_, file, cred) = self.cur_writable(cx)?;
        fsapi::validate_name(&a.sxa_key).map_err(fs_err)?;
        let how = match a.sxa_option {
            SETXATTR4_EITHER => fsapi::XattrSet::Either,
            SETXATTR4_CREATE => fsapi::XattrSet::Create,
            SETXATTR4_REPLACE => fsapi::XattrSet::Replace,
            _ => return Err(Nfsstat4::Inval),
        };
        let before = self.fs.getattr(file).await.map_err(fs_err)?.change;
        let r =
            self.fs.setxattr(&cred, file, &a.sxa_key, a.sxa_value, how).await.map_err(fs_err)?;
        Ok(XattrChangeResOk { info: self.v4_cinfo(file, before, r.wcc.after.as_ref()).await })
    }

    /// REMOVEXATTR (RFC 8276 §8.4.4).
    async fn v4_removexattr(&self, cx: &Cx<'_, '_>, name: &[u8]) -> R<XattrChangeResOk> {
        let (_, file, cred) = self.cur_writable(cx)?;
        fsapi::validate_name(name).map_err(fs_err)?;
        let before = self.fs.getattr(file).await.map_err(fs_err)?.change;
        let r = self.fs.removexattr(&cred, file, name).await.map_err(fs_err)?;
        Ok(XattrChangeResOk { info: self.v4_cinfo(file, before, r.wcc.after.as_ref()).await })
    }

    /// LISTXATTRS (RFC 8276 §8.4.3): the cookie is the index of the next name.
    async fn v4_listxattrs(&self, cx: &Cx<'_, '_>, a: ListxattrsArgs) -> R<ListxattrsResOk> {
        let (export, file) = match self.cur(cx)? {
            Fh::File { export, file } => (export, file),
            Fh::Pseudo(_) => {
                return Ok(ListxattrsResOk { lxr_cookie: 0, lxr_names: Vec::new(), lxr_eof: true })
            }
        };
        let cred = self.cred(cx.call, export);
        let names = self.fs.listxattrs(&cred, file).await.map_err(fs_err)?;
        let start = usize::try_from(a.lxa_cookie).map_err(|_| Nfsstat4::BadCookie)?;
        if start > names.len() {
            return Err(Nfsstat4::BadCookie);
        }
        // cookie, array length, eof
        let mut used = 8 + 4 + 4;
        let max = a.lxa_maxcount as usize;
        if max < used {
            return Err(Nfsstat4::Toosmall);
        }
        let mut out = Vec::new();
        for n in &names[start..] {
            let len = nfs_proto::xdr::opaque_len(n.len());
            if used + len > max {
                break;
            }
            used += len;
            out.push(n.clone());
        }
        let next = start + out.len();
        if out.is_empty() && next < names.len() {
            return Err(Nfsstat4::Toosmall);
        }
        Ok(ListxattrsResOk {
            lxr_cookie: next as u64,
            lxr_eof: next == names.len(),
            lxr_names: out,
        })
    }
}

/// A status-only result from a step.
fn st(r: R<()>) -> Nfsstat4 {
    match r {
        Ok(()) => Nfsstat4::Ok,
        Err(s) => s,
    }
}
