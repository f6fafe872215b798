//! What nodes send each other: raft-rs messages and forwarded proposals,
//! with a versioned encoding, and the pieces a large checkpoint travels in.
//!
//! Every encoding is `version u8 | tag u8 | body`, integers little-endian:
//! - tag 1, raft message: protobuf;
//! - tag 2, forwarded proposal: `node u64 | seq u64 | payload`;
//! - tag 3, checkpoint piece: `term u64 | index u64 | total u64 |
//!   offset u64 | bytes`; term and index are the checkpoint's (its raft
//!   snapshot metadata), total its data length, offset where `bytes` go;
//! - tag 4, streamed checkpoint: `term u64 | index u64 | total u64 |
//!   digest [32] | protobuf`: raft's MsgSnapshot with its data removed
//!   (sent in the pieces before it); the digest is BLAKE3 of the data.

use protobuf::Message as _;
use raft::eraftpb::{Message, MessageType};

use crate::codec::{bad, DecodeError, Reader, Writer};
use crate::ids::{NodeId, RequestId};

/// Version byte that starts every encoded [`PeerMessage`] and piece.
pub const PEER_MESSAGE_VERSION: u8 = 2;
const TAG_RAFT: u8 = 1;
const TAG_FORWARD: u8 = 2;
const TAG_PIECE: u8 = 3;
const TAG_STREAMED: u8 = 4;
/// Bytes of an encoded piece before its data.
pub(crate) const PIECE_HEADER_BYTES: usize = 2 + 4 * 8;

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
        match Frame::decode(b)? {
            Frame::Message(m) => Ok(m),
            Frame::Piece { .. } | Frame::Streamed { .. } => {
                Err(bad("peer message", "a checkpoint piece, not a message"))
            }
        }
    }

    /// True for a raft message carrying a checkpoint (raft's MsgSnapshot):
    /// transports report its delivery with `Node::report_checkpoint_sent`.
    pub fn is_checkpoint(&self) -> bool {
        matches!(self, PeerMessage::Raft(m) if m.get_msg_type() == MessageType::MsgSnapshot)
    }
}

/// A checkpoint as the pieces name it: its raft snapshot's term and index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CheckpointId {
    pub(crate) term: u64,
    pub(crate) index: u64,
}

impl CheckpointId {
    /// The checkpoint a MsgSnapshot carries.
    pub(crate) fn of(m: &Message) -> Self {
        let md = m.get_snapshot().get_metadata();
        CheckpointId { term: md.term, index: md.index }
    }
}

/// What one transport frame carries (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Frame<'a> {
    /// A whole message.
    Message(PeerMessage),
    /// `bytes` of checkpoint `id`'s data, at `offset` of `total`.
    Piece { id: CheckpointId, total: u64, offset: u64, bytes: &'a [u8] },
    /// The MsgSnapshot whose data the pieces before it carried.
    Streamed { id: CheckpointId, total: u64, digest: [u8; 32], message: Box<Message> },
}

impl Frame<'_> {
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            Frame::Message(m) => m.encode(),
            Frame::Piece { id, total, offset, bytes } => {
                let mut w = Writer::with_capacity(PIECE_HEADER_BYTES + bytes.len());
                w.u8(PEER_MESSAGE_VERSION).u8(TAG_PIECE);
                w.u64(id.term).u64(id.index).u64(*total).u64(*offset).raw(bytes);
                w.finish()
            }
            Frame::Streamed { id, total, digest, message } => {
                let body = message.write_to_bytes().unwrap_or_default();
                let mut w = Writer::with_capacity(2 + 3 * 8 + digest.len() + body.len());
                w.u8(PEER_MESSAGE_VERSION).u8(TAG_STREAMED);
                w.u64(id.term).u64(id.index).u64(*total).raw(digest).raw(&body);
                w.finish()
            }
        }
    }

    /// Decode what [`Frame::encode`] wrote; never panics. A piece borrows
    /// its bytes from `b`.
    pub(crate) fn decode(b: &[u8]) -> Result<Frame<'_>, DecodeError> {
        let mut r = Reader::new(b, "peer message");
        if r.u8()? != PEER_MESSAGE_VERSION {
            return Err(bad("peer message", "unknown version"));
        }
        match r.u8()? {
            TAG_RAFT => Ok(Frame::Message(PeerMessage::Raft(raft_message(r.rest())?))),
            TAG_FORWARD => {
                let node = NodeId(r.u64()?);
                let seq = r.u64()?;
                Ok(Frame::Message(PeerMessage::Forward {
                    request_id: RequestId { node, seq },
                    payload: r.rest().to_vec(),
                }))
            }
            TAG_PIECE => {
                let id = CheckpointId { term: r.u64()?, index: r.u64()? };
                let (total, offset) = (r.u64()?, r.u64()?);
                Ok(Frame::Piece { id, total, offset, bytes: r.rest() })
            }
            TAG_STREAMED => {
                let id = CheckpointId { term: r.u64()?, index: r.u64()? };
                let total = r.u64()?;
                let digest = r.array()?;
                Ok(Frame::Streamed { id, total, digest, message: raft_message(r.rest())? })
            }
            _ => Err(bad("peer message", "unknown tag")),
        }
    }
}

fn raft_message(b: &[u8]) -> Result<Box<Message>, DecodeError> {
    Message::parse_from_bytes(b).map(Box::new).map_err(|_| bad("peer message", "bad raft message"))
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
        for junk in [&[][..], &[2], &[1, 1], &[2, 9, 0], &[2, 2, 0, 0], &[2, 3, 0], &[2, 4, 0]] {
            assert!(PeerMessage::decode(junk).is_err());
            assert!(Frame::decode(junk).is_err());
        }
    }

    #[test]
    fn pieces_round_trip_and_are_not_messages() {
        let id = CheckpointId { term: 3, index: 40 };
        let piece = Frame::Piece { id, total: 9, offset: 4, bytes: b"abcde" };
        let enc = piece.encode();
        assert_eq!(enc.len(), PIECE_HEADER_BYTES + 5);
        assert_eq!(Frame::decode(&enc), Ok(piece));
        assert!(PeerMessage::decode(&enc).is_err());
        let mut m = Message::default();
        m.set_msg_type(MessageType::MsgSnapshot);
        m.mut_snapshot().mut_metadata().index = 40;
        let streamed = Frame::Streamed { id, total: 9, digest: [7; 32], message: Box::new(m) };
        let enc = streamed.encode();
        assert_eq!(Frame::decode(&enc), Ok(streamed));
        assert!(PeerMessage::decode(&enc).is_err());
        for cut in 0..2 + 3 * 8 + 32 {
            assert!(Frame::decode(&enc[..cut]).is_err(), "cut {cut}");
        }
    }
}
