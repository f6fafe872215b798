//! PORTMAP v2 (RFC 1833 §3), answering for the programs of this server:
//! NFS, MOUNT and PORTMAP itself, all on one TCP port.

use fsapi::ClusterFs;
use nfs_proto::portmap::{DumpRes, Mapping, PmapProc, IPPROTO_TCP};
use nfs_proto::rpc;
use nfs_proto::xdr::{from_bytes, Encoder};

use crate::{Call, RpcFail, Server};

impl<F: ClusterFs> Server<F> {
    fn mappings(&self) -> Vec<Mapping> {
        let port = self.port as u32;
        [
            (nfs_proto::portmap::PROGRAM, 2),
            (nfs_proto::mount::PROGRAM, 3),
            (nfs_proto::nfs3::PROGRAM, 3),
        ]
        .into_iter()
        .map(|(prog, vers)| Mapping { prog, vers, prot: IPPROTO_TCP, port })
        .collect()
    }

    pub(crate) fn portmap(
        &self,
        c: &Call<'_>,
        proc_: u32,
        args: &[u8],
    ) -> Result<Encoder, RpcFail> {
        let Some(p) = PmapProc::from_u32(proc_) else { return Err(RpcFail::ProcUnavail) };
        let mut e = rpc::accepted_success(c.xid);
        match p {
            PmapProc::Null => {}
            PmapProc::Getport => {
                let m: Mapping = from_bytes(args).map_err(|_| RpcFail::GarbageArgs)?;
                let port = self
                    .mappings()
                    .iter()
                    .find(|x| x.prog == m.prog && x.vers == m.vers && x.prot == m.prot)
                    .map_or(0, |x| x.port);
                e.put_u32(port);
            }
            // Registration is for the host's own services: refused.
            PmapProc::Set | PmapProc::Unset => e.put_bool(false),
            PmapProc::Dump => {
                use nfs_proto::xdr::XdrEncode;
                DumpRes(self.mappings()).encode(&mut e);
            }
            // CALLIT forwards calls to other programs: not offered.
            PmapProc::Callit => return Err(RpcFail::ProcUnavail),
        }
        Ok(e)
    }
}
