//! The [`StateMachine`] trait, the proposal envelope carried in log
//! entries, and the replicated state the node applies entries to: the
//! application's state machine plus the table that applies each request id
//! at most once.

use std::collections::BTreeMap;

use crate::codec::{bad, fnv1a, DecodeError, Reader, Writer, FNV_OFFSET};
use crate::ids::{LogIndex, NodeId, RequestId};

/// The application's deterministic state machine.
///
/// `apply` must be a pure function of (state, index, data): no clock, no
/// randomness, no `HashMap` iteration order (the proposer stamps times and
/// ids into `data`). Every node applies the same entries in the same order
/// and must reach the same state.
pub trait StateMachine: Send + 'static {
    /// Apply one committed command; the result goes back to the proposer.
    fn apply(&mut self, index: LogIndex, data: &[u8]) -> Vec<u8>;

    /// The whole state as bytes (log compaction). Deterministic: equal
    /// states give equal bytes. Should start with a format version.
    fn checkpoint(&self) -> Vec<u8>;

    /// Replace the whole state with one that `checkpoint` produced (possibly
    /// on another node). An error is fatal to the node.
    fn restore(&mut self, bytes: &[u8]) -> Result<(), String>;

    /// A digest of the state, compared between nodes by tests. The default
    /// hashes `checkpoint()`; a large state machine should keep one
    /// incrementally.
    fn state_digest(&self) -> u64 {
        fnv1a(FNV_OFFSET, &self.checkpoint())
    }
}

/// How many applied request ids (with their results) the replicated state
/// remembers per proposing node. A retry whose id is older than all of them
/// is not applied (its outcome stays unknown). Part of the replicated
/// semantics: it must be the same on every node, hence a constant.
pub const DEDUP_WINDOW_PER_NODE: usize = 256;

/// Version byte of a proposal entry's data.
const ENTRY_VERSION: u8 = 1;
const ENTRY_KIND_PROPOSAL: u8 = 1;
/// Version byte of the replicated state's checkpoint.
const CHECKPOINT_VERSION: u8 = 1;

/// What a normal log entry carries: a caller's request id and its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The request id the proposer waits on.
    pub request_id: RequestId,
    /// The command for the state machine.
    pub payload: Vec<u8>,
}

impl Proposal {
    /// `version | kind | node | seq | payload`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(18 + self.payload.len());
        w.u8(ENTRY_VERSION)
            .u8(ENTRY_KIND_PROPOSAL)
            .u64(self.request_id.node.0)
            .u64(self.request_id.seq)
            .raw(&self.payload);
        w.finish()
    }

    /// Decode what [`Proposal::encode`] wrote.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(b, "proposal entry");
        if r.u8()? != ENTRY_VERSION {
            return Err(bad("proposal entry", "unknown version"));
        }
        if r.u8()? != ENTRY_KIND_PROPOSAL {
            return Err(bad("proposal entry", "unknown kind"));
        }
        let node = NodeId(r.u64()?);
        let seq = r.u64()?;
        Ok(Proposal { request_id: RequestId { node, seq }, payload: r.rest().to_vec() })
    }
}

/// Encode a request id alone (a conf change's context).
pub(crate) fn encode_request_id(id: RequestId) -> Vec<u8> {
    let mut w = Writer::with_capacity(17);
    w.u8(ENTRY_VERSION).u64(id.node.0).u64(id.seq);
    w.finish()
}

pub(crate) fn decode_request_id(b: &[u8]) -> Result<RequestId, DecodeError> {
    let mut r = Reader::new(b, "request id");
    if r.u8()? != ENTRY_VERSION {
        return Err(bad("request id", "unknown version"));
    }
    let id = RequestId { node: NodeId(r.u64()?), seq: r.u64()? };
    r.expect_end()?;
    Ok(id)
}

/// What applying a proposal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Applied {
    /// Applied now, or earlier (a retry): the index it was applied at and
    /// the state machine's result then.
    Done { index: LogIndex, result: Vec<u8> },
    /// Not applied: the id is older than the dedup window, so whether it
    /// was applied long ago cannot be told.
    TooOld,
}

/// Per proposing node: the recently applied sequence numbers and results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Session {
    applied: BTreeMap<u64, (LogIndex, Vec<u8>)>,
}

/// The replicated state: the dedup table and the application's state
/// machine, checkpointed together so both survive compaction and are
/// identical on every node that applied the same prefix.
#[derive(Debug)]
pub(crate) struct Replicated<S> {
    sessions: BTreeMap<NodeId, Session>,
    /// A hash chain over every applied proposal and its outcome: equal on
    /// two nodes at the same applied index unless they diverged.
    chain: u64,
    pub(crate) sm: S,
}

impl<S: StateMachine> Replicated<S> {
    pub(crate) fn new(sm: S) -> Self {
        Replicated { sessions: BTreeMap::new(), chain: FNV_OFFSET, sm }
    }

    /// Apply `p` at `index` unless its request id was applied already
    /// (return the earlier result) or is too old to tell.
    pub(crate) fn apply(&mut self, index: LogIndex, p: &Proposal) -> Applied {
        let id = p.request_id;
        let session = self.sessions.entry(id.node).or_default();
        let outcome = if let Some((at, result)) = session.applied.get(&id.seq) {
            Applied::Done { index: *at, result: result.clone() }
        } else if session.applied.len() >= DEDUP_WINDOW_PER_NODE
            && session.applied.first_key_value().is_some_and(|(min, _)| id.seq < *min)
        {
            Applied::TooOld
        } else {
            let result = self.sm.apply(index, &p.payload);
            session.applied.insert(id.seq, (index, result.clone()));
            while session.applied.len() > DEDUP_WINDOW_PER_NODE {
                session.applied.pop_first();
            }
            Applied::Done { index, result }
        };
        let mut h = fnv1a(self.chain, &index.0.to_le_bytes());
        h = fnv1a(h, &id.node.0.to_le_bytes());
        h = fnv1a(h, &id.seq.to_le_bytes());
        match &outcome {
            Applied::Done { index: at, result } => {
                h = fnv1a(h, &at.0.to_le_bytes());
                h = fnv1a(h, result);
            }
            Applied::TooOld => h = fnv1a(h, b"too old"),
        }
        self.chain = h;
        outcome
    }

    /// The earlier outcome of `id`, if it is in the window.
    pub(crate) fn lookup(&self, id: RequestId) -> Option<(LogIndex, Vec<u8>)> {
        self.sessions.get(&id.node)?.applied.get(&id.seq).cloned()
    }

    /// `version | chain | sessions | state machine bytes`.
    pub(crate) fn checkpoint(&self) -> Vec<u8> {
        let sm = self.sm.checkpoint();
        let mut w = Writer::with_capacity(64 + sm.len());
        w.u8(CHECKPOINT_VERSION).u64(self.chain).u32(self.sessions.len() as u32);
        for (node, s) in &self.sessions {
            w.u64(node.0).u32(s.applied.len() as u32);
            for (seq, (index, result)) in &s.applied {
                w.u64(*seq).u64(index.0).bytes(result);
            }
        }
        w.raw(&sm);
        w.finish()
    }

    pub(crate) fn restore(&mut self, bytes: &[u8]) -> Result<(), String> {
        let mut r = Reader::new(bytes, "replicated state checkpoint");
        let parse = |r: &mut Reader<'_>| -> Result<_, DecodeError> {
            if r.u8()? != CHECKPOINT_VERSION {
                return Err(bad("replicated state checkpoint", "unknown version"));
            }
            let chain = r.u64()?;
            let mut sessions = BTreeMap::new();
            for _ in 0..r.count(12)? {
                let node = NodeId(r.u64()?);
                let mut s = Session::default();
                for _ in 0..r.count(20)? {
                    let seq = r.u64()?;
                    let index = LogIndex(r.u64()?);
                    s.applied.insert(seq, (index, r.bytes()?.to_vec()));
                }
                sessions.insert(node, s);
            }
            Ok((chain, sessions))
        };
        let (chain, sessions) = parse(&mut r).map_err(|e| e.to_string())?;
        self.sm.restore(r.rest())?;
        self.chain = chain;
        self.sessions = sessions;
        Ok(())
    }

    /// The chain and the state machine's digest, mixed.
    pub(crate) fn digest(&self) -> u64 {
        fnv1a(self.chain, &self.sm.state_digest().to_le_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Counter(u64);
    impl StateMachine for Counter {
        fn apply(&mut self, _i: LogIndex, d: &[u8]) -> Vec<u8> {
            self.0 += d.len() as u64;
            self.0.to_le_bytes().to_vec()
        }
        fn checkpoint(&self) -> Vec<u8> {
            self.0.to_le_bytes().to_vec()
        }
        fn restore(&mut self, b: &[u8]) -> Result<(), String> {
            let a: [u8; 8] = b.try_into().map_err(|_| "length".to_string())?;
            self.0 = u64::from_le_bytes(a);
            Ok(())
        }
    }

    fn p(node: u64, seq: u64) -> Proposal {
        Proposal { request_id: RequestId { node: NodeId(node), seq }, payload: vec![1, 2] }
    }

    #[test]
    fn a_request_id_is_applied_once_and_retries_get_the_first_result() {
        let mut r = Replicated::new(Counter::default());
        let first = r.apply(LogIndex(5), &p(1, 7));
        let again = r.apply(LogIndex(9), &p(1, 7));
        assert_eq!(first, again);
        assert_eq!(r.sm.0, 2);
        // Out of order within the window is fine.
        r.apply(LogIndex(10), &p(1, 3));
        assert_eq!(r.sm.0, 4);
    }

    #[test]
    fn ids_older_than_the_window_are_never_applied() {
        let mut r = Replicated::new(Counter::default());
        for seq in 100..100 + DEDUP_WINDOW_PER_NODE as u64 + 10 {
            r.apply(LogIndex(seq), &p(2, seq));
        }
        let before = r.sm.0;
        assert_eq!(r.apply(LogIndex(1000), &p(2, 100)), Applied::TooOld);
        assert_eq!(r.apply(LogIndex(1001), &p(2, 5)), Applied::TooOld);
        assert_eq!(r.sm.0, before);
    }

    #[test]
    fn checkpoint_round_trips_and_keeps_dedup() {
        let mut r = Replicated::new(Counter::default());
        r.apply(LogIndex(1), &p(1, 1));
        r.apply(LogIndex(2), &p(3, 9));
        let bytes = r.checkpoint();
        let mut s = Replicated::new(Counter::default());
        s.restore(&bytes).expect("restore");
        assert_eq!(s.digest(), r.digest());
        assert_eq!(s.checkpoint(), bytes);
        assert!(matches!(s.apply(LogIndex(3), &p(3, 9)), Applied::Done { index: LogIndex(2), .. }));
        assert_eq!(s.sm.0, 4);
        for cut in 0..bytes.len() {
            assert!(Replicated::new(Counter::default()).restore(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn proposal_envelope_round_trips() {
        let x = p(4, 11);
        assert_eq!(Proposal::decode(&x.encode()), Ok(x));
        assert!(Proposal::decode(&[9, 1]).is_err());
        let id = RequestId { node: NodeId(3), seq: 8 };
        assert_eq!(decode_request_id(&encode_request_id(id)), Ok(id));
    }
}
