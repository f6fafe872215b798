//! NFSv3 (RFC 1813): one handler per procedure.
//!
//! Each handler: decode the typed arguments (GARBAGE_ARGS if they do not
//! decode), resolve and check every handle against its export, map the
//! caller's credentials through the export, call [`ClusterFs`], encode the
//! typed result. Errors carry what post-op attributes are known.

use fsapi::{
    AccessMask, Attr, ClusterFs, CreateHow, Credentials, FileRef, FsResult, SnapshotId, SpecialKind,
};
use nfs_proto::nfs3::*;
use nfs_proto::rpc;
use nfs_proto::xdr::{from_bytes, Encoder, XdrDecode, XdrEncode};

use crate::convert::{self, fattr3, post_op, status, wcc_after, wcc_data};
use crate::export::Export;
use crate::{Call, RpcFail, Server};

/// Largest READ and WRITE (FSINFO rtmax/wtmax).
pub const IO_SIZE_MAX_BYTES: u32 = 1 << 20;
/// Preferred READDIR size (FSINFO dtpref).
pub const READDIR_SIZE_PREF_BYTES: u32 = 64 * 1024;
/// Largest READDIR/READDIRPLUS reply we build, whatever the client asks.
pub const READDIR_SIZE_MAX_BYTES: u32 = 1 << 20;

/// Procedures whose retransmission must not execute twice (RFC 1813 §4.2);
/// their replies go to the duplicate request cache.
pub fn is_non_idempotent(proc_: u32) -> bool {
    matches!(
        Proc3::from_u32(proc_),
        Some(
            Proc3::Setattr
                | Proc3::Create
                | Proc3::Mkdir
                | Proc3::Symlink
                | Proc3::Mknod
                | Proc3::Remove
                | Proc3::Rmdir
                | Proc3::Rename
                | Proc3::Link
        )
    )
}

fn no_wcc() -> WccData {
    WccData { before: PreOpAttr(None), after: PostOpAttr(None) }
}

/// A resolved handle: the export it was issued under and the object.
struct Target<'e> {
    export: &'e Export,
    export_index: u8,
    file: FileRef,
}

fn decode<'a, T: XdrDecode<'a>>(args: &'a [u8]) -> Result<T, RpcFail> {
    from_bytes(args).map_err(|e| {
        tracing::debug!(error = %e, "undecodable NFSv3 arguments");
        RpcFail::GarbageArgs
    })
}

impl<F: ClusterFs> Server<F> {
    /// Check a handle's MAC and export, and that the caller may use the export.
    fn resolve(&self, c: &Call<'_>, fh: &NfsFh3) -> Result<Target<'_>, Nfsstat3> {
        let (idx, file) = self.handles.decode(&fh.0).map_err(|e| match e {
            crate::HandleError::Bad => {
                tracing::info!(client = %c.peer, "bad file handle");
                Nfsstat3::Badhandle
            }
            crate::HandleError::Stale => Nfsstat3::Stale,
        })?;
        let export = self.exports.get(idx as usize).ok_or(Nfsstat3::Stale)?;
        if !export.rules.admits(c.peer) {
            tracing::warn!(client = %c.peer, export = %export.rules.path, "request refused by the export's client rules");
            return Err(Nfsstat3::Acces);
        }
        Ok(Target { export, export_index: idx, file })
    }

    fn creds(&self, c: &Call<'_>, t: &Target<'_>) -> Credentials {
        t.export.rules.map_credentials(c.auth.map(|a| (a.uid, a.gid, a.gids.as_slice())))
    }

    /// [`Server::resolve`] a handle whose object is to change: refused
    /// through read-only exports and inside snapshots.
    fn resolve_writable(&self, c: &Call<'_>, fh: &NfsFh3) -> Result<Target<'_>, Nfsstat3> {
        let t = self.resolve(c, fh)?;
        if t.export.rules.read_only || t.file.snapshot != SnapshotId::LIVE {
            return Err(Nfsstat3::Rofs);
        }
        Ok(t)
    }

    fn fh(&self, t: &Target<'_>, file: FileRef) -> NfsFh3 {
        NfsFh3(self.handles.encode(t.export_index, file))
    }

    async fn attr_of(&self, file: FileRef) -> Option<Attr> {
        self.fs.getattr(file).await.ok()
    }

    async fn post(&self, file: FileRef) -> PostOpAttr {
        post_op(self.attr_of(file).await.as_ref(), self.fsid)
    }

    pub(crate) async fn nfs3(
        &self,
        c: &Call<'_>,
        proc_: u32,
        args: &[u8],
    ) -> Result<Encoder, RpcFail> {
        let Some(p) = Proc3::from_u32(proc_) else { return Err(RpcFail::ProcUnavail) };
        if p != Proc3::Null && c.auth.is_none() {
            return Err(RpcFail::TooWeak);
        }
        let mut e = rpc::accepted_success(c.xid);
        match p {
            Proc3::Null => {}
            Proc3::Getattr => self.getattr(c, decode(args)?).await.encode(&mut e),
            Proc3::Setattr => self.setattr(c, decode(args)?).await.encode(&mut e),
            Proc3::Lookup => self.lookup(c, decode(args)?).await.encode(&mut e),
            Proc3::Access => self.access(c, decode(args)?).await.encode(&mut e),
            Proc3::Readlink => self.readlink(c, decode(args)?).await.encode(&mut e),
            Proc3::Read => self.read(c, decode(args)?).await.encode(&mut e),
            Proc3::Write => self.write(c, decode(args)?).await.encode(&mut e),
            Proc3::Create => self.create(c, decode(args)?).await.encode(&mut e),
            Proc3::Mkdir => self.mkdir(c, decode(args)?).await.encode(&mut e),
            Proc3::Symlink => self.symlink(c, decode(args)?).await.encode(&mut e),
            Proc3::Mknod => self.mknod(c, decode(args)?).await.encode(&mut e),
            Proc3::Remove => {
                let a: RemoveArgs = decode(args)?;
                self.remove(c, a.object, false).await.encode(&mut e)
            }
            Proc3::Rmdir => {
                let a: RmdirArgs = decode(args)?;
                self.remove(c, a.object, true).await.encode(&mut e)
            }
            Proc3::Rename => self.rename(c, decode(args)?).await.encode(&mut e),
            Proc3::Link => self.link(c, decode(args)?).await.encode(&mut e),
            Proc3::Readdir => self.readdir(c, decode(args)?).await.encode(&mut e),
            Proc3::Readdirplus => self.readdirplus(c, decode(args)?).await.encode(&mut e),
            Proc3::Fsstat => self.fsstat(c, decode(args)?).await.encode(&mut e),
            Proc3::Fsinfo => self.fsinfo(c, decode(args)?).await.encode(&mut e),
            Proc3::Pathconf => self.pathconf(c, decode(args)?).await.encode(&mut e),
            Proc3::Commit => self.commit(c, decode(args)?).await.encode(&mut e),
        }
        Ok(e)
    }

    async fn getattr(&self, c: &Call<'_>, a: GetattrArgs) -> GetattrRes {
        let t = match self.resolve(c, &a.object) {
            Ok(t) => t,
            Err(s) => return NfsRes::Err(s, ()),
        };
        match self.fs.getattr(t.file).await {
            Ok(attr) => NfsRes::Ok(GetattrResOk { obj_attributes: fattr3(&attr, self.fsid) }),
            Err(err) => NfsRes::Err(status(&err), ()),
        }
    }

    async fn setattr(&self, c: &Call<'_>, a: SetattrArgs) -> SetattrRes {
        let fail = |s, w| NfsRes::Err(s, SetattrResFail { obj_wcc: w });
        let t = match self.resolve_writable(c, &a.object) {
            Ok(t) => t,
            Err(s) => return fail(s, no_wcc()),
        };
        let cred = self.creds(c, &t);
        let guard = a.guard.map(convert::time_from3);
        match self.fs.setattr(&cred, t.file, convert::set_attr(&a.new_attributes), guard).await {
            Ok(r) => NfsRes::Ok(SetattrResOk { obj_wcc: wcc_data(&r.wcc, self.fsid) }),
            Err(err) => {
                fail(status(&err), wcc_after(self.attr_of(t.file).await.as_ref(), self.fsid))
            }
        }
    }

    async fn lookup(&self, c: &Call<'_>, a: LookupArgs) -> LookupRes {
        let t = match self.resolve(c, &a.what.dir) {
            Ok(t) => t,
            Err(s) => return NfsRes::Err(s, LookupResFail { dir_attributes: PostOpAttr(None) }),
        };
        let cred = self.creds(c, &t);
        // `..` of an export's root is the root itself: a client must not
        // climb out of the subtree it was given (as knfsd does).
        let name: &[u8] =
            if a.what.name == b".." && t.file == t.export.root { b"." } else { &a.what.name };
        match self.fs.lookup(&cred, t.file, name).await {
            Ok((file, attr)) => NfsRes::Ok(LookupResOk {
                object: self.fh(&t, file),
                obj_attributes: post_op(Some(&attr), self.fsid),
                dir_attributes: self.post(t.file).await,
            }),
            Err(err) => {
                NfsRes::Err(status(&err), LookupResFail { dir_attributes: self.post(t.file).await })
            }
        }
    }

    async fn access(&self, c: &Call<'_>, a: AccessArgs) -> AccessRes {
        let t = match self.resolve(c, &a.object) {
            Ok(t) => t,
            Err(s) => return NfsRes::Err(s, AccessResFail { obj_attributes: PostOpAttr(None) }),
        };
        let cred = self.creds(c, &t);
        match self.fs.access(&cred, t.file, AccessMask(a.access)).await {
            Ok((mut granted, attr)) => {
                if t.export.rules.read_only || t.file.snapshot != SnapshotId::LIVE {
                    granted.0 &= !(AccessMask::MODIFY | AccessMask::EXTEND | AccessMask::DELETE);
                }
                NfsRes::Ok(AccessResOk {
                    obj_attributes: post_op(Some(&attr), self.fsid),
                    access: granted.0,
                })
            }
            Err(err) => {
                NfsRes::Err(status(&err), AccessResFail { obj_attributes: self.post(t.file).await })
            }
        }
    }

    async fn readlink(&self, c: &Call<'_>, a: ReadlinkArgs) -> ReadlinkRes {
        let t = match self.resolve(c, &a.symlink) {
            Ok(t) => t,
            Err(s) => {
                return NfsRes::Err(s, ReadlinkResFail { symlink_attributes: PostOpAttr(None) })
            }
        };
        let cred = self.creds(c, &t);
        match self.fs.readlink(&cred, t.file).await {
            Ok((data, attr)) => NfsRes::Ok(ReadlinkResOk {
                symlink_attributes: post_op(Some(&attr), self.fsid),
                data,
            }),
            Err(err) => NfsRes::Err(
                status(&err),
                ReadlinkResFail { symlink_attributes: self.post(t.file).await },
            ),
        }
    }

    async fn read(&self, c: &Call<'_>, a: ReadArgs) -> ReadRes {
        let t = match self.resolve(c, &a.file) {
            Ok(t) => t,
            Err(s) => return NfsRes::Err(s, ReadResFail { file_attributes: PostOpAttr(None) }),
        };
        let cred = self.creds(c, &t);
        match self.fs.read(&cred, t.file, a.offset, a.count.min(IO_SIZE_MAX_BYTES)).await {
            Ok(r) => NfsRes::Ok(ReadResOk {
                file_attributes: post_op(Some(&r.attr), self.fsid),
                count: r.data.len() as u32,
                eof: r.eof,
                data: r.data,
            }),
            Err(err) => {
                NfsRes::Err(status(&err), ReadResFail { file_attributes: self.post(t.file).await })
            }
        }
    }

    async fn write(&self, c: &Call<'_>, a: WriteArgs) -> WriteRes {
        let fail = |s, w| NfsRes::Err(s, WriteResFail { file_wcc: w });
        let t = match self.resolve_writable(c, &a.file) {
            Ok(t) => t,
            Err(s) => return fail(s, no_wcc()),
        };
        // RFC 1813 §3.3.7: `count` bytes of `data`; more data than count is
        // ignored, less is an error.
        let mut data = a.data;
        if (a.count as usize) > data.len() || a.count > IO_SIZE_MAX_BYTES {
            return fail(
                Nfsstat3::Inval,
                wcc_after(self.attr_of(t.file).await.as_ref(), self.fsid),
            );
        }
        data.truncate(a.count as usize);
        let cred = self.creds(c, &t);
        match self.fs.write(&cred, t.file, a.offset, data, convert::stability(a.stable)).await {
            Ok(r) => NfsRes::Ok(WriteResOk {
                file_wcc: wcc_data(&r.wcc, self.fsid),
                count: r.value.count,
                committed: convert::stable_how(r.value.committed),
                verf: r.value.verifier.0,
            }),
            Err(err) => {
                fail(status(&err), wcc_after(self.attr_of(t.file).await.as_ref(), self.fsid))
            }
        }
    }

    /// The common tail of CREATE, MKDIR, SYMLINK and MKNOD.
    async fn created(
        &self,
        t: &Target<'_>,
        r: FsResult<fsapi::WccReply<(FileRef, Attr)>>,
    ) -> CreateRes {
        match r {
            Ok(r) => NfsRes::Ok(CreateResOk {
                obj: PostOpFh3(Some(self.fh(t, r.value.0))),
                obj_attributes: post_op(Some(&r.value.1), self.fsid),
                dir_wcc: wcc_data(&r.wcc, self.fsid),
            }),
            Err(err) => NfsRes::Err(
                status(&err),
                CreateResFail {
                    dir_wcc: wcc_after(self.attr_of(t.file).await.as_ref(), self.fsid),
                },
            ),
        }
    }

    /// Resolve the directory of a creating call and check it is writable.
    fn create_target(&self, c: &Call<'_>, dir: &NfsFh3) -> Result<Target<'_>, Box<CreateRes>> {
        self.resolve_writable(c, dir)
            .map_err(|s| Box::new(NfsRes::Err(s, CreateResFail { dir_wcc: no_wcc() })))
    }

    async fn create(&self, c: &Call<'_>, a: CreateArgs) -> CreateRes {
        let t = match self.create_target(c, &a.where_.dir) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let how = match &a.how {
            CreateHow3::Unchecked(s) => CreateHow::Unchecked(convert::set_attr(s)),
            CreateHow3::Guarded(s) => CreateHow::Guarded(convert::set_attr(s)),
            CreateHow3::Exclusive(v) => CreateHow::Exclusive(*v),
        };
        let cred = self.creds(c, &t);
        let r = self.fs.create(&cred, t.file, &a.where_.name, how).await;
        self.created(&t, r).await
    }

    async fn mkdir(&self, c: &Call<'_>, a: MkdirArgs) -> MkdirRes {
        let t = match self.create_target(c, &a.where_.dir) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let cred = self.creds(c, &t);
        let r =
            self.fs.mkdir(&cred, t.file, &a.where_.name, convert::set_attr(&a.attributes)).await;
        self.created(&t, r).await
    }

    async fn symlink(&self, c: &Call<'_>, a: SymlinkArgs) -> SymlinkRes {
        let t = match self.create_target(c, &a.where_.dir) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let cred = self.creds(c, &t);
        let attrs = convert::set_attr(&a.symlink.symlink_attributes);
        let r =
            self.fs.symlink(&cred, t.file, &a.where_.name, &a.symlink.symlink_data, attrs).await;
        self.created(&t, r).await
    }

    async fn mknod(&self, c: &Call<'_>, a: MknodArgs) -> MknodRes {
        let t = match self.create_target(c, &a.where_.dir) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let (kind, attrs) = match &a.what {
            MknodData3::Fifo(s) => (SpecialKind::Fifo, s),
            MknodData3::Sock(s) => (SpecialKind::Socket, s),
            MknodData3::Chr(d) | MknodData3::Blk(d) => {
                if !t.export.rules.allow_devices {
                    return NfsRes::Err(
                        Nfsstat3::Perm,
                        CreateResFail {
                            dir_wcc: wcc_after(self.attr_of(t.file).await.as_ref(), self.fsid),
                        },
                    );
                }
                let (maj, min) = (d.spec.specdata1, d.spec.specdata2);
                let kind = if matches!(a.what, MknodData3::Chr(_)) {
                    SpecialKind::CharDevice(maj, min)
                } else {
                    SpecialKind::BlockDevice(maj, min)
                };
                (kind, &d.dev_attributes)
            }
            // RFC 1813 §3.3.11: regular files, directories and links are not MKNOD's.
            MknodData3::Other(_) => {
                return NfsRes::Err(Nfsstat3::Badtype, CreateResFail { dir_wcc: no_wcc() })
            }
        };
        let cred = self.creds(c, &t);
        let r = self.fs.mknod(&cred, t.file, &a.where_.name, kind, convert::set_attr(attrs)).await;
        self.created(&t, r).await
    }

    async fn remove(&self, c: &Call<'_>, what: DirOpArgs3, directory: bool) -> RemoveRes {
        let t = match self.resolve_writable(c, &what.dir) {
            Ok(t) => t,
            Err(s) => return NfsRes::Err(s, DirWcc { dir_wcc: no_wcc() }),
        };
        let cred = self.creds(c, &t);
        let r = if directory {
            self.fs.rmdir(&cred, t.file, &what.name).await
        } else {
            self.fs.remove(&cred, t.file, &what.name).await
        };
        match r {
            Ok(r) => NfsRes::Ok(DirWcc { dir_wcc: wcc_data(&r.wcc, self.fsid) }),
            Err(err) => NfsRes::Err(
                status(&err),
                DirWcc { dir_wcc: wcc_after(self.attr_of(t.file).await.as_ref(), self.fsid) },
            ),
        }
    }

    async fn rename(&self, c: &Call<'_>, a: RenameArgs) -> RenameRes {
        // Both directories change.
        let targets = self
            .resolve_writable(c, &a.from.dir)
            .and_then(|f| self.resolve_writable(c, &a.to.dir).map(|t| (f, t)));
        let (from, to) = match targets {
            Ok(x) => x,
            Err(s) => {
                return NfsRes::Err(s, RenameWcc { fromdir_wcc: no_wcc(), todir_wcc: no_wcc() })
            }
        };
        if from.export_index != to.export_index {
            return NfsRes::Err(
                Nfsstat3::Xdev,
                RenameWcc { fromdir_wcc: no_wcc(), todir_wcc: no_wcc() },
            );
        }
        let cred = self.creds(c, &from);
        match self.fs.rename(&cred, from.file, &a.from.name, to.file, &a.to.name).await {
            Ok(r) => NfsRes::Ok(RenameWcc {
                fromdir_wcc: wcc_data(&r.from_dir, self.fsid),
                todir_wcc: wcc_data(&r.to_dir, self.fsid),
            }),
            Err(err) => NfsRes::Err(
                status(&err),
                RenameWcc {
                    fromdir_wcc: wcc_after(self.attr_of(from.file).await.as_ref(), self.fsid),
                    todir_wcc: wcc_after(self.attr_of(to.file).await.as_ref(), self.fsid),
                },
            ),
        }
    }

    async fn link(&self, c: &Call<'_>, a: LinkArgs) -> LinkRes {
        let targets = self
            .resolve(c, &a.file)
            .and_then(|f| self.resolve_writable(c, &a.link.dir).map(|d| (f, d)));
        let (file, dir) = match targets {
            Ok(x) => x,
            Err(s) => {
                return NfsRes::Err(
                    s,
                    LinkWcc { file_attributes: PostOpAttr(None), linkdir_wcc: no_wcc() },
                )
            }
        };
        if file.export_index != dir.export_index {
            return NfsRes::Err(
                Nfsstat3::Xdev,
                LinkWcc { file_attributes: PostOpAttr(None), linkdir_wcc: no_wcc() },
            );
        }
        let cred = self.creds(c, &dir);
        match self.fs.link(&cred, file.file, dir.file, &a.link.name).await {
            Ok(r) => NfsRes::Ok(LinkWcc {
                file_attributes: post_op(Some(&r.value), self.fsid),
                linkdir_wcc: wcc_data(&r.wcc, self.fsid),
            }),
            Err(err) => NfsRes::Err(
                status(&err),
                LinkWcc {
                    file_attributes: self.post(file.file).await,
                    linkdir_wcc: wcc_after(self.attr_of(dir.file).await.as_ref(), self.fsid),
                },
            ),
        }
    }

    async fn readdir(&self, c: &Call<'_>, a: ReaddirArgs) -> ReaddirRes {
        let t = match self.resolve(c, &a.dir) {
            Ok(t) => t,
            Err(s) => return NfsRes::Err(s, ReaddirResFail { dir_attributes: PostOpAttr(None) }),
        };
        let cred = self.creds(c, &t);
        let budget = (a.count.min(READDIR_SIZE_MAX_BYTES) as usize)
            .saturating_sub(READDIR3_RES_OK_FIXED_LEN);
        // Smallest entry: value_follows + fileid + 4-byte name + cookie.
        let max_entries = (budget / 24).clamp(1, 8192);
        let r = match self.fs.readdir(&cred, t.file, a.cookie, max_entries, false).await {
            Ok(r) => r,
            Err(err) => {
                return NfsRes::Err(
                    status(&err),
                    ReaddirResFail { dir_attributes: self.post(t.file).await },
                )
            }
        };
        let mut used = 0;
        let mut entries = Vec::new();
        for de in &r.entries {
            let at_root = de.name == b".." && t.file == t.export.root;
            let fileid = if at_root { t.file.ino.0 } else { de.file.ino.0 };
            let e = Entry3 { fileid, name: de.name.clone(), cookie: de.cookie };
            if used + e.encoded_len() > budget {
                break;
            }
            used += e.encoded_len();
            entries.push(e);
        }
        let eof = r.eof && entries.len() == r.entries.len();
        if entries.is_empty() && !eof {
            return NfsRes::Err(
                Nfsstat3::Toosmall,
                ReaddirResFail { dir_attributes: post_op(Some(&r.dir_attr), self.fsid) },
            );
        }
        NfsRes::Ok(ReaddirResOk {
            dir_attributes: post_op(Some(&r.dir_attr), self.fsid),
            cookieverf: r.verifier,
            entries,
            eof,
        })
    }

    async fn readdirplus(&self, c: &Call<'_>, a: ReaddirplusArgs) -> ReaddirplusRes {
        let t = match self.resolve(c, &a.dir) {
            Ok(t) => t,
            Err(s) => {
                return NfsRes::Err(s, ReaddirplusResFail { dir_attributes: PostOpAttr(None) })
            }
        };
        let cred = self.creds(c, &t);
        let budget = (a.maxcount.min(READDIR_SIZE_MAX_BYTES) as usize)
            .saturating_sub(READDIR3_RES_OK_FIXED_LEN);
        let dir_budget = a.dircount as usize;
        // An entry with attributes and handle is about 8 + 8 + name + 88 + 4 + 4 + 52 bytes.
        let max_entries = (budget / 170).clamp(1, 4096).min((dir_budget / 24).max(1));
        let r = match self.fs.readdir(&cred, t.file, a.cookie, max_entries, true).await {
            Ok(r) => r,
            Err(err) => {
                return NfsRes::Err(
                    status(&err),
                    ReaddirplusResFail { dir_attributes: self.post(t.file).await },
                )
            }
        };
        let (mut used, mut dir_used) = (0, 0);
        let mut entries = Vec::new();
        let root_attr = r.entries.iter().find(|d| d.name == b".").and_then(|d| d.attr.clone());
        for de in &r.entries {
            // `..` of an export's root names the root itself (see LOOKUP).
            let (file, attr) = if de.name == b".." && t.file == t.export.root {
                (t.file, root_attr.as_ref().or(de.attr.as_ref()))
            } else {
                (de.file, de.attr.as_ref())
            };
            let e = Entryplus3 {
                fileid: file.ino.0,
                name: de.name.clone(),
                cookie: de.cookie,
                name_attributes: post_op(attr, self.fsid),
                name_handle: PostOpFh3(Some(self.fh(&t, file))),
            };
            if used + e.encoded_len() > budget
                || (dir_budget > 0 && dir_used + e.dircount_len() > dir_budget)
            {
                break;
            }
            used += e.encoded_len();
            dir_used += e.dircount_len();
            entries.push(e);
        }
        let eof = r.eof && entries.len() == r.entries.len();
        if entries.is_empty() && !eof {
            return NfsRes::Err(
                Nfsstat3::Toosmall,
                ReaddirplusResFail { dir_attributes: post_op(Some(&r.dir_attr), self.fsid) },
            );
        }
        NfsRes::Ok(ReaddirplusResOk {
            dir_attributes: post_op(Some(&r.dir_attr), self.fsid),
            cookieverf: r.verifier,
            entries,
            eof,
        })
    }

    async fn fsstat(&self, c: &Call<'_>, a: FsstatArgs) -> FsstatRes {
        let t = match self.resolve(c, &a.fsroot) {
            Ok(t) => t,
            Err(s) => return NfsRes::Err(s, ObjAttrFail { obj_attributes: PostOpAttr(None) }),
        };
        match self.fs.fsstat(t.file).await {
            Ok((s, attr)) => NfsRes::Ok(FsstatResOk {
                obj_attributes: post_op(Some(&attr), self.fsid),
                tbytes: s.total_bytes,
                fbytes: s.free_bytes,
                abytes: s.avail_bytes,
                tfiles: s.total_files,
                ffiles: s.free_files,
                afiles: s.avail_files,
                invarsec: 0,
            }),
            Err(err) => {
                NfsRes::Err(status(&err), ObjAttrFail { obj_attributes: self.post(t.file).await })
            }
        }
    }

    async fn fsinfo(&self, c: &Call<'_>, a: FsinfoArgs) -> FsinfoRes {
        let t = match self.resolve(c, &a.fsroot) {
            Ok(t) => t,
            Err(s) => return NfsRes::Err(s, ObjAttrFail { obj_attributes: PostOpAttr(None) }),
        };
        match self.fs.getattr(t.file).await {
            Ok(attr) => NfsRes::Ok(FsinfoResOk {
                obj_attributes: post_op(Some(&attr), self.fsid),
                rtmax: IO_SIZE_MAX_BYTES,
                rtpref: IO_SIZE_MAX_BYTES,
                rtmult: 4096,
                wtmax: IO_SIZE_MAX_BYTES,
                wtpref: IO_SIZE_MAX_BYTES,
                wtmult: 4096,
                dtpref: READDIR_SIZE_PREF_BYTES,
                maxfilesize: fsapi::FILE_SIZE_MAX_BYTES,
                time_delta: Nfstime3 { seconds: 0, nseconds: 1 },
                properties: FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME,
            }),
            Err(err) => NfsRes::Err(status(&err), ObjAttrFail { obj_attributes: PostOpAttr(None) }),
        }
    }

    async fn pathconf(&self, c: &Call<'_>, a: PathconfArgs) -> PathconfRes {
        let t = match self.resolve(c, &a.object) {
            Ok(t) => t,
            Err(s) => return NfsRes::Err(s, ObjAttrFail { obj_attributes: PostOpAttr(None) }),
        };
        match self.fs.getattr(t.file).await {
            Ok(attr) => NfsRes::Ok(PathconfResOk {
                obj_attributes: post_op(Some(&attr), self.fsid),
                linkmax: 65_000,
                name_max: fsapi::NAME_MAX_BYTES as u32,
                no_trunc: true,
                chown_restricted: true,
                case_insensitive: false,
                case_preserving: true,
            }),
            Err(err) => NfsRes::Err(status(&err), ObjAttrFail { obj_attributes: PostOpAttr(None) }),
        }
    }

    async fn commit(&self, c: &Call<'_>, a: CommitArgs) -> CommitRes {
        let t = match self.resolve(c, &a.file) {
            Ok(t) => t,
            Err(s) => return NfsRes::Err(s, CommitResFail { file_wcc: no_wcc() }),
        };
        let cred = self.creds(c, &t);
        match self.fs.commit(&cred, t.file, a.offset, a.count).await {
            Ok(r) => {
                NfsRes::Ok(CommitResOk { file_wcc: wcc_data(&r.wcc, self.fsid), verf: r.value.0 })
            }
            Err(err) => NfsRes::Err(
                status(&err),
                CommitResFail {
                    file_wcc: wcc_after(self.attr_of(t.file).await.as_ref(), self.fsid),
                },
            ),
        }
    }
}
