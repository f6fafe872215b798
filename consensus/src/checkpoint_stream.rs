//! A checkpoint (raft's MsgSnapshot) in pieces: [`CheckpointStream`] cuts
//! one into frame bodies, [`Reassembler`] puts the frames of one connection
//! back together. No I/O, so both are tested without sockets.
//!
//! A stream is: pieces of one checkpoint at offsets `0, p, 2p, ...` up to
//! its total length, then the message without its data (`Frame::Streamed`,
//! with the BLAKE3 digest of the data); nothing else in between. The
//! reassembler refuses anything else (another checkpoint, a gap or overlap,
//! bytes past the total, a total over its limit, a trailer without pieces
//! or before the last piece, a wrong digest, a message mid-stream) and drops
//! what it had: it never hands over part of a checkpoint.

use raft::eraftpb::{Message, MessageType};

use crate::message::{CheckpointId, Frame, PeerMessage};

/// Cuts a MsgSnapshot into frame bodies: its data in pieces of at most
/// `piece_bytes`, then the message without its data.
pub(crate) struct CheckpointStream {
    id: CheckpointId,
    data: bytes::Bytes,
    message: Option<Box<Message>>,
    piece_bytes: usize,
    offset: usize,
    hasher: blake3::Hasher,
}

impl CheckpointStream {
    pub(crate) fn new(mut message: Box<Message>, piece_bytes: usize) -> Self {
        let data = message.mut_snapshot().take_data();
        CheckpointStream {
            id: CheckpointId::of(&message),
            data,
            message: Some(message),
            piece_bytes: piece_bytes.max(1),
            offset: 0,
            hasher: blake3::Hasher::new(),
        }
    }

    /// Length of the checkpoint's data.
    pub(crate) fn total(&self) -> usize {
        self.data.len()
    }
}

impl Iterator for CheckpointStream {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let total = self.data.len() as u64;
        if let Some(bytes) = self.data.get(self.offset..).filter(|b| !b.is_empty()) {
            let bytes = bytes.get(..self.piece_bytes).unwrap_or(bytes);
            self.hasher.update(bytes);
            let piece = Frame::Piece { id: self.id, total, offset: self.offset as u64, bytes };
            self.offset += bytes.len();
            return Some(piece.encode());
        }
        let message = self.message.take()?;
        let digest = *self.hasher.finalize().as_bytes();
        Some(Frame::Streamed { id: self.id, total, digest, message }.encode())
    }
}

/// Why a stream was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StreamError {
    /// The checkpoint is larger than the receiver accepts.
    #[error("checkpoint of {0} bytes is over the limit")]
    TooLarge(u64),
    /// The frames do not form one checkpoint.
    #[error("bad checkpoint stream: {0}")]
    Malformed(&'static str),
}

struct Partial {
    id: CheckpointId,
    total: u64,
    data: Vec<u8>,
    hasher: blake3::Hasher,
}

/// Puts one connection's frames back into messages, holding at most one
/// partial checkpoint of at most `max_bytes`.
pub(crate) struct Reassembler {
    max_bytes: u64,
    partial: Option<Partial>,
}

impl Reassembler {
    pub(crate) fn new(max_bytes: usize) -> Self {
        Reassembler { max_bytes: max_bytes as u64, partial: None }
    }

    /// True between a stream's first piece and its trailer.
    pub(crate) fn in_progress(&self) -> bool {
        self.partial.is_some()
    }

    /// Take the next frame; returns the message it completes, if any. On an
    /// error the partial checkpoint is dropped (the caller closes the
    /// connection).
    pub(crate) fn push(&mut self, frame: Frame<'_>) -> Result<Option<PeerMessage>, StreamError> {
        let r = self.step(frame);
        if r.is_err() {
            self.partial = None;
        }
        r
    }

    fn step(&mut self, frame: Frame<'_>) -> Result<Option<PeerMessage>, StreamError> {
        let malformed = |why| Err(StreamError::Malformed(why));
        match frame {
            Frame::Message(m) if self.partial.is_none() => Ok(Some(m)),
            Frame::Message(_) => malformed("a message inside a checkpoint stream"),
            Frame::Piece { id, total, offset, bytes } => {
                if bytes.is_empty() {
                    return malformed("empty piece");
                }
                if self.partial.is_none() {
                    if total > self.max_bytes {
                        return Err(StreamError::TooLarge(total));
                    }
                    let mut data = Vec::new();
                    let n = usize::try_from(total).map_err(|_| StreamError::TooLarge(total))?;
                    data.try_reserve_exact(n).map_err(|_| StreamError::TooLarge(total))?;
                    let hasher = blake3::Hasher::new();
                    self.partial = Some(Partial { id, total, data, hasher });
                }
                let Some(p) = self.partial.as_mut() else {
                    return malformed("no stream");
                };
                if p.id != id || p.total != total {
                    return malformed("a piece of another checkpoint");
                }
                if offset != p.data.len() as u64 {
                    return malformed("piece out of order");
                }
                if bytes.len() as u64 > total - offset {
                    return malformed("piece past the checkpoint's end");
                }
                p.data.extend_from_slice(bytes);
                p.hasher.update(bytes);
                Ok(None)
            }
            Frame::Streamed { id, total, digest, mut message } => {
                let Some(p) = self.partial.take() else {
                    return malformed("a streamed checkpoint without pieces");
                };
                if p.id != id || p.total != total {
                    return malformed("the trailer of another checkpoint");
                }
                if p.data.len() as u64 != total {
                    return malformed("trailer before the last piece");
                }
                if p.hasher.finalize() != blake3::Hash::from(digest) {
                    return malformed("checkpoint digest mismatch");
                }
                if message.get_msg_type() != MessageType::MsgSnapshot
                    || CheckpointId::of(&message) != id
                    || !message.get_snapshot().get_data().is_empty()
                {
                    return malformed("the trailer is not that checkpoint's message");
                }
                message.mut_snapshot().set_data(p.data.into());
                Ok(Some(PeerMessage::Raft(message)))
            }
        }
    }
}

/// A MsgSnapshot from 1 to 2 with `len` bytes of pseudo-random data (no
/// two pieces alike, so a reordering shows).
#[cfg(test)]
pub(crate) fn test_checkpoint(term: u64, index: u64, len: usize) -> Box<Message> {
    let mut m = Message::default();
    m.set_msg_type(MessageType::MsgSnapshot);
    m.from = 1;
    m.to = 2;
    m.term = term;
    let s = m.mut_snapshot();
    s.mut_metadata().term = term;
    s.mut_metadata().index = index;
    s.mut_metadata().mut_conf_state().voters = vec![1, 2, 3];
    let mut rng = crate::codec::SplitMix64::new(index);
    let mut data: Vec<u8> = Vec::with_capacity(len + 8);
    while data.len() < len {
        data.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    data.truncate(len);
    s.set_data(data.into());
    Box::new(m)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::codec::Writer;
    use crate::ids::{NodeId, RequestId};
    use crate::message::PEER_MESSAGE_VERSION;

    fn frames(m: &Message, piece: usize) -> Vec<Vec<u8>> {
        CheckpointStream::new(Box::new(m.clone()), piece).collect()
    }

    /// Push encoded frames; the first error, or what was handed over.
    fn push_all(r: &mut Reassembler, fs: &[Vec<u8>]) -> Result<Vec<PeerMessage>, StreamError> {
        let mut out = Vec::new();
        for f in fs {
            let frame = Frame::decode(f).map_err(|e| StreamError::Malformed(e.why))?;
            out.extend(r.push(frame)?);
        }
        Ok(out)
    }

    fn piece(id: CheckpointId, total: u64, offset: u64, bytes: &[u8]) -> Vec<u8> {
        Frame::Piece { id, total, offset, bytes }.encode()
    }

    #[test]
    fn round_trip_in_pieces() {
        for (len, piece) in [(10, 3), (9, 3), (1, 1), (5000, 1024), (4, 100)] {
            let m = test_checkpoint(2, 30, len);
            let fs = frames(&m, piece);
            assert_eq!(fs.len(), len.div_ceil(piece) + 1, "len {len} piece {piece}");
            let mut r = Reassembler::new(len);
            assert_eq!(push_all(&mut r, &fs), Ok(vec![PeerMessage::Raft(m)]));
            assert!(!r.in_progress());
        }
    }

    type Outcome = Result<Vec<PeerMessage>, StreamError>;

    fn malformed(why: &'static str) -> Outcome {
        Err(StreamError::Malformed(why))
    }

    #[test]
    fn malformed_sequences_are_refused_and_dropped() {
        let m = test_checkpoint(2, 30, 10);
        let id = CheckpointId::of(&m);
        let fs = frames(&m, 4); // pieces at 0, 4, 8, then the trailer
        let other = frames(&test_checkpoint(2, 31, 10), 4);
        let hb = PeerMessage::Raft(Box::default()).encode();
        let cases: Vec<(Vec<Vec<u8>>, Outcome)> = vec![
            (vec![fs[1].clone()], malformed("piece out of order")),
            (vec![fs[0].clone(), fs[2].clone()], malformed("piece out of order")),
            (vec![fs[0].clone(), fs[0].clone()], malformed("piece out of order")),
            (vec![fs[0].clone(), other[1].clone()], malformed("a piece of another checkpoint")),
            (
                vec![fs[0].clone(), piece(id, 11, 4, b"abcd")],
                malformed("a piece of another checkpoint"),
            ),
            (
                vec![fs[0].clone(), piece(id, 10, 4, b"abcdefg")],
                malformed("piece past the checkpoint's end"),
            ),
            (vec![piece(id, 10, 0, b"")], malformed("empty piece")),
            (vec![fs[3].clone()], malformed("a streamed checkpoint without pieces")),
            (
                vec![fs[0].clone(), fs[1].clone(), fs[3].clone()],
                malformed("trailer before the last piece"),
            ),
            (
                vec![fs[0].clone(), fs[1].clone(), fs[2].clone(), other[3].clone()],
                malformed("the trailer of another checkpoint"),
            ),
            (vec![fs[0].clone(), hb.clone()], malformed("a message inside a checkpoint stream")),
            (vec![piece(id, 11, 0, b"x")], Err(StreamError::TooLarge(11))),
            (vec![piece(id, u64::MAX, 0, b"x")], Err(StreamError::TooLarge(u64::MAX))),
        ];
        for (n, (seq, want)) in cases.into_iter().enumerate() {
            let mut r = Reassembler::new(10);
            assert_eq!(push_all(&mut r, &seq), want, "case {n}");
            assert!(!r.in_progress(), "case {n}: the partial checkpoint must be dropped");
            // The same reassembler takes a good stream, and messages, after.
            assert_eq!(push_all(&mut r, &fs), Ok(vec![PeerMessage::Raft(m.clone())]), "case {n}");
            assert_eq!(
                push_all(&mut r, std::slice::from_ref(&hb)).map(|v| v.len()),
                Ok(1),
                "case {n}"
            );
        }
    }

    #[test]
    fn trailer_must_match_the_pieces() {
        let m = test_checkpoint(2, 30, 10);
        let id = CheckpointId::of(&m);
        let fs = frames(&m, 4);
        let head = &fs[..3];
        let mut bare = m.clone();
        bare.mut_snapshot().clear_data();
        let trailer = |digest: [u8; 32], msg: Box<Message>| {
            Frame::Streamed { id, total: 10, digest, message: msg }.encode()
        };
        let good = *blake3::hash(m.get_snapshot().get_data()).as_bytes();
        assert_eq!(&trailer(good, bare.clone()), &fs[3], "the sender's trailer");
        let mut heartbeat = bare.clone();
        heartbeat.set_msg_type(MessageType::MsgHeartbeat);
        let mut moved = bare.clone();
        moved.mut_snapshot().mut_metadata().index = 31;
        let mut with_data = bare.clone();
        with_data.mut_snapshot().set_data(vec![1].into());
        for (n, t) in [
            trailer([0; 32], bare.clone()),
            trailer(good, heartbeat),
            trailer(good, moved),
            trailer(good, with_data),
        ]
        .into_iter()
        .enumerate()
        {
            let mut r = Reassembler::new(10);
            let mut seq = head.to_vec();
            seq.push(t);
            assert!(push_all(&mut r, &seq).is_err(), "case {n}");
            assert!(!r.in_progress());
        }
    }

    #[test]
    fn crafted_piece_headers_do_not_panic() {
        let id = CheckpointId { term: 1, index: 1 };
        let mut r = Reassembler::new(1 << 20);
        assert!(push_all(&mut r, &[piece(id, 100, u64::MAX, b"x")]).is_err());
        assert!(push_all(&mut r, &[piece(id, 5, 0, b"abc"), piece(id, 5, 3, b"abc")]).is_err());
        let mut w = Writer::default();
        w.u8(PEER_MESSAGE_VERSION).u8(3).u64(1).u64(1).u64(u64::MAX);
        assert!(Frame::decode(&w.finish()).is_err(), "a piece without its offset");
        let fwd = PeerMessage::Forward {
            request_id: RequestId { node: NodeId(1), seq: 1 },
            payload: vec![1],
        };
        assert_eq!(push_all(&mut r, &[fwd.encode()]), Ok(vec![fwd]));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_bytes_never_panic(
            tag in 0u8..6,
            body in proptest::collection::vec(any::<u8>(), 0..120),
        ) {
            let mut b = vec![PEER_MESSAGE_VERSION, tag];
            b.extend_from_slice(&body);
            for bytes in [&b[..], &body[..]] {
                if let Ok(frame) = Frame::decode(bytes) {
                    let _ = Reassembler::new(64).push(frame);
                }
            }
        }

        #[test]
        fn random_piece_sequences_never_panic_nor_hand_over_partial_data(
            steps in proptest::collection::vec(
                (0u8..3, 0u64..3, 0u64..80, 0u64..80, proptest::collection::vec(any::<u8>(), 0..40)),
                0..12,
            ),
        ) {
            let mut r = Reassembler::new(64);
            for (kind, index, total, offset, bytes) in steps {
                let id = CheckpointId { term: 1, index };
                let frame = match kind {
                    0 => Frame::Piece { id, total, offset, bytes: &bytes },
                    1 => {
                        let mut m = test_checkpoint(1, index, 0);
                        m.mut_snapshot().clear_data();
                        let digest = *blake3::hash(&bytes).as_bytes();
                        Frame::Streamed { id, total, digest, message: m }
                    }
                    _ => Frame::Message(PeerMessage::Raft(Box::default())),
                };
                if let Ok(Some(PeerMessage::Raft(m))) = r.push(frame) {
                    if m.get_msg_type() == MessageType::MsgSnapshot {
                        prop_assert_eq!(m.get_snapshot().get_data().len() as u64, total);
                        prop_assert!(total <= 64);
                    }
                }
            }
        }

        #[test]
        fn any_piece_size_round_trips(len in 1usize..3000, piece in 1usize..700) {
            let m = test_checkpoint(4, 9, len);
            let mut r = Reassembler::new(len);
            prop_assert_eq!(push_all(&mut r, &frames(&m, piece)), Ok(vec![PeerMessage::Raft(m)]));
        }
    }
}
