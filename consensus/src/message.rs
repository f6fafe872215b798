//! What nodes send each other: raft-rs messages and forwarded proposals,
//! with a versioned encoding.

use protobuf::Message as _;
use raft::eraftpb::Message;

use crate::codec::{bad, DecodeError, Reader, Writer};
use crate::ids::{NodeId, RequestId};

/// Version byte that starts every encoded [`PeerMessage`].
pub const PEER_MESSAGE_VERSION: u8 = 1;
const TAG_RAFT: u8 = 1;
const TAG_FORWARD: u8 = 2;

/// One message between peers.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerMessage {
    /// A raft-rs message (votes, appends, heartbeats, checkpoints, ...).
    Raft(Box<Message>),
    /// A follower hands its caller's proposal to the leader. The leader
    /// proposes it; the follower answers its caller when it applies the
    /// request id itself.
    Forward {
        /// The caller's request id.
        request_id: RequestId,
        /// The command.
        payload: Vec<u8>,
    },
}

impl PeerMessage {
    /// `version | tag | body` (the raft body is protobuf).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            PeerMessage::Raft(m) => {
                let body = m.write_to_bytes().unwrap_or_default();
                let mut w = Writer::with_capacity(2 + body.len());
                w.u8(PEER_MESSAGE_VERSION).u8(TAG_RAFT).raw(&body);
                w.finish()
            }
            PeerMessage::Forward { request_id, payload } => {
                let mut w = Writer::with_capacity(18 + payload.len());
                w.u8(PEER_MESSAGE_VERSION)
                    .u8(TAG_FORWARD)
                    .u64(request_id.node.0)
                    .u64(request_id.seq)
                    .raw(payload);
                w.finish()
            }
        }
    }

    /// Decode what [`PeerMessage::encode`] wrote; never panics.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(b, "peer message");
        if r.u8()? != PEER_MESSAGE_VERSION {
            return Err(bad("peer message", "unknown version"));
        }
        match r.u8()? {
            TAG_RAFT => {
                let m = Message::parse_from_bytes(r.rest())
                    .map_err(|_| bad("peer message", "bad raft message"))?;
                Ok(PeerMessage::Raft(Box::new(m)))
            }
            TAG_FORWARD => {
                let node = NodeId(r.u64()?);
                let seq = r.u64()?;
                Ok(PeerMessage::Forward {
                    request_id: RequestId { node, seq },
                    payload: r.rest().to_vec(),
                })
            }
            _ => Err(bad("peer message", "unknown tag")),
        }
    }

    /// True for a raft message carrying a checkpoint (raft's MsgSnapshot):
    /// transports report its delivery with `Node::report_checkpoint_sent`.
    pub fn is_checkpoint(&self) -> bool {
        matches!(self, PeerMessage::Raft(m) if m.get_msg_type() == raft::eraftpb::MessageType::MsgSnapshot)
    }
}

/// A message to send, and to whom.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    /// The peer.
    pub to: NodeId,
    /// The message.
    pub message: PeerMessage,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let mut m = Message::default();
        m.set_msg_type(raft::eraftpb::MessageType::MsgHeartbeat);
        m.to = 2;
        m.from = 1;
        m.term = 5;
        for pm in [
            PeerMessage::Raft(Box::new(m)),
            PeerMessage::Forward {
                request_id: RequestId { node: NodeId(3), seq: 44 },
                payload: b"hi".to_vec(),
            },
        ] {
            assert_eq!(PeerMessage::decode(&pm.encode()), Ok(pm));
        }
        for junk in [&[][..], &[1], &[2, 1], &[1, 9, 0], &[1, 2, 0, 0]] {
            assert!(PeerMessage::decode(junk).is_err());
        }
    }
}
