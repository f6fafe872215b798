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

impl<F: ClusterFs> Server<F> {
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
                let found = self
                    .exports
                    .iter()
                    .enumerate()
                    .find(|(_, x)| normalize(x.path.as_bytes()) == want);
                let res = match found {
                    None => {
                        tracing::info!(client = %c.peer, path = %want, "MNT of a path that is not exported");
                        MntRes::Err(MountStat3::Noent)
                    }
                    Some((_, x)) if !x.admits(c.peer) => {
                        tracing::warn!(client = %c.peer, path = %want, "MNT refused by the export's client rules");
                        MntRes::Err(MountStat3::Acces)
                    }
                    Some((i, x)) => {
                        tracing::info!(client = %c.peer, path = %want, "mounted");
                        self.mounts.lock().insert((host, want));
                        MntRes::Ok {
                            fhandle: NfsFh3(self.handles.encode(i as u8, x.root)),
                            auth_flavors: vec![rpc::AUTH_SYS],
                        }
                    }
                };
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
                        dir: DirPath(x.path.as_bytes().to_vec()),
                        groups: x
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
