//! NFSv4 client, session, open and lock operations (RFC 7530 §16, RFC 8881
//! §18) over [`crate::v4state::StateManager`].

use std::sync::Arc;

use fsapi::{ClusterFs, FileRef};
use nfs_proto::nfs4::*;

use super::{Cx, Dispatch};
use crate::Server;

/// The SEQUENCE of the running 4.1 COMPOUND: where its reply is cached.
pub(crate) struct SeqInfo {
    pub sessionid: Sessionid4,
    pub slot: u32,
    pub cache_this: bool,
}

impl<F: ClusterFs> Server<F> {
    /// Client/session/open/lock operations; `None` for file operations.
    pub(crate) async fn state_op(&self, cx: &mut Cx<'_, '_>, op: ArgOp) -> Option<ResOp> {
        let _ = (cx, op);
        None
    }

    /// SEQUENCE (RFC 8881 §18.46).
    pub(crate) async fn op_sequence(&self, cx: &mut Cx<'_, '_>, a: SequenceArgs, numops: u32) -> Dispatch {
        let _ = (cx, a, numops);
        Dispatch::Res(ResOp::Sequence(NfsRes4::Err(Nfsstat4::Badsession)))
    }

    /// Store the reply of a COMPOUND that began with SEQUENCE in its slot.
    pub(crate) fn finish_sequence(&self, seq: &SeqInfo, body: Vec<u8>, res: &CompoundRes) -> Vec<u8> {
        let _ = (seq, res);
        let _: Option<Arc<Vec<u8>>> = None;
        body
    }

    /// The stateid of a READ, WRITE or SETATTR(size) may be used on `file`.
    pub(crate) fn check_io(&self, cx: &Cx<'_, '_>, stateid: &Stateid4, file: FileRef, write: bool) -> Result<(), Nfsstat4> {
        let _ = (cx, stateid, file, write);
        Ok(())
    }
}
