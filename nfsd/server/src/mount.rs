//! MOUNT v3 (RFC 1813 Appendix I), served on the NFS port.

use fsapi::ClusterFs;
use nfs_proto::mount::{
    DirPath, ExportNode, Exports, MntRes, MountBody, MountList, MountProc3, MountStat3, Name,
};
use nfs_proto::nfs3::NfsFh3;
use nfs_proto::rpc;
use nfs_proto::xdr::{from_bytes, Encoder, XdrEncode};

use crate::{Call, RpcFail, Server};

/// Paths compare without trailing slashes: `/data/` mounts `/data`.
fn normalize(p: &[u8]) -> String {
    let s = String::from_utf8_lossy(p);
    let t = s.trim_end_matches('/');
    if t.is_empty() {
        "/".to_string()
    } else {
        t.to_string()
    }
}

/// True when `dir` is `export` or lies below it, by whole components.
fn is_below(dir: &str, export: &str) -> bool {
    export == "/"
        || dir == export
        || dir.strip_prefix(export).is_some_and(|rest| rest.starts_with('/'))
}

impl<F: ClusterFs> Server<F> {
    /// MNT: the longest export containing `want`, then the rest of the path
    /// walked with the caller's (squashed) credentials, so any directory
    /// below an export can be mounted, as with knfsd.
    async fn mnt(&self, c: &Call<'_>, want: &str) -> MntRes {
        let best = self
            .exports
            .iter()
            .enumerate()
            .filter(|(_, x)| is_below(want, &x.rules.path))
            .max_by_key(|(_, x)| x.rules.path.len());
        let Some((i, x)) = best else {
            tracing::info!(client = %c.peer, path = %want, "MNT of a path that is not exported");
            return MntRes::Err(MountStat3::Noent);
        };
        if !x.rules.admits(c.peer) {
            tracing::warn!(client = %c.peer, path = %want, "MNT refused by the export's client rules");
            return MntRes::Err(MountStat3::Acces);
        }
        let cred = x.rules.map_credentials(c.auth.map(|a| (a.uid, a.gid, a.gids.as_slice())));
        let rest = if x.rules.path == "/" { want } else { &want[x.rules.path.len()..] };
        let mut at = x.root;
        for part in rest.split('/').filter(|p| !p.is_empty()) {
            if part == "." || part == ".." {
                return MntRes::Err(MountStat3::Inval);
            }
            match self.fs.lookup(&cred, at, part.as_bytes()).await {
                Ok((f, attr)) if attr.ftype == fsapi::FileType::Directory => at = f,
                Ok(_) => return MntRes::Err(MountStat3::Notdir),
                Err(fsapi::FsError::NotFound) => return MntRes::Err(MountStat3::Noent),
                Err(fsapi::FsError::AccessDenied) => return MntRes::Err(MountStat3::Acces),
                Err(fsapi::FsError::NameTooLong) => return MntRes::Err(MountStat3::Nametoolong),
                Err(e) => {
                    tracing::warn!(client = %c.peer, path = %want, error = %e, "MNT failed");
                    return MntRes::Err(MountStat3::Serverfault);
                }
            }
        }
        MntRes::Ok {
            fhandle: NfsFh3(self.handles.encode(i as u8, at)),
            auth_flavors: vec![rpc::AUTH_SYS],
        }
    }

    pub(crate) async fn mount(
        &self,
        c: &Call<'_>,
        proc_: u32,
        args: &[u8],
    ) -> Result<Encoder, RpcFail> {
        let Some(p) = MountProc3::from_u32(proc_) else { return Err(RpcFail::ProcUnavail) };
        let mut e = rpc::accepted_success(c.xid);
        let host = c
            .auth
            .map(|a| String::from_utf8_lossy(&a.machinename).into_owned())
            .unwrap_or_else(|| c.peer.ip().to_string());
        match p {
            MountProc3::Null => {}
            MountProc3::Mnt => {
                let path: DirPath = from_bytes(args).map_err(|_| RpcFail::GarbageArgs)?;
                if c.auth.is_none() {
                    return Err(RpcFail::TooWeak);
                }
                let want = normalize(&path.0);
                let res = self.mnt(c, &want).await;
                if matches!(res, MntRes::Ok { .. }) {
                    tracing::info!(client = %c.peer, path = %want, "mounted");
                    self.mounts.lock().insert((host, want));
                }
                res.encode(&mut e);
            }
            MountProc3::Dump => {
                let list = self
                    .mounts
                    .lock()
                    .iter()
                    .map(|(h, p)| MountBody {
                        hostname: Name(h.as_bytes().to_vec()),
                        directory: DirPath(p.as_bytes().to_vec()),
                    })
                    .collect();
                MountList(list).encode(&mut e);
            }
            MountProc3::Umnt => {
                let path: DirPath = from_bytes(args).map_err(|_| RpcFail::GarbageArgs)?;
                self.mounts.lock().remove(&(host, normalize(&path.0)));
            }
            MountProc3::Umntall => {
                self.mounts.lock().retain(|(h, _)| *h != host);
            }
            MountProc3::Export => {
                let nodes = self
                    .exports
                    .iter()
                    .map(|x| ExportNode {
                        dir: DirPath(x.rules.path.as_bytes().to_vec()),
                        groups: x
                            .rules
                            .clients
                            .iter()
                            .map(|c| Name(c.to_string().into_bytes()))
                            .collect(),
                    })
                    .collect();
                Exports(nodes).encode(&mut e);
            }
        }
        Ok(e)
    }
}
