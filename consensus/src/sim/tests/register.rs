//! The simulation's state machine: an append-only register list. Applying
//! a payload records it at its log index and returns the index, so the
//! harness can check that every acknowledged proposal is where its answer
//! said, on every node, and that no payload was applied twice.

use std::collections::BTreeMap;

use crate::{LogIndex, StateMachine};

const VERSION: u8 = 1;

#[derive(Debug, Default)]
pub struct Register {
    entries: BTreeMap<u64, Vec<u8>>,
    seen: BTreeMap<Vec<u8>, u64>,
    /// The first payload applied twice, as (first index, second index).
    duplicate: Option<(u64, u64)>,
    /// A hash chain over (index, payload): the state digest.
    digest: u64,
}

fn mix(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn take_u64(b: &[u8], at: &mut usize) -> Result<u64, String> {
    let s = b.get(*at..*at + 8).ok_or("truncated")?;
    *at += 8;
    Ok(u64::from_le_bytes(s.try_into().map_err(|_| "truncated")?))
}

impl Register {
    pub fn at(&self, index: u64) -> Option<&[u8]> {
        self.entries.get(&index).map(Vec::as_slice)
    }

    pub fn duplicate(&self) -> Option<(u64, u64)> {
        self.duplicate
    }
}

impl StateMachine for Register {
    fn apply(&mut self, index: LogIndex, data: &[u8]) -> Vec<u8> {
        if let Some(prev) = self.seen.insert(data.to_vec(), index.0) {
            self.duplicate.get_or_insert((prev, index.0));
        }
        self.entries.insert(index.0, data.to_vec());
        self.digest = mix(mix(self.digest, &index.0.to_le_bytes()), data);
        index.0.to_le_bytes().to_vec()
    }

    fn checkpoint(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        out.extend_from_slice(&self.digest.to_le_bytes());
        out.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        for (i, p) in &self.entries {
            out.extend_from_slice(&i.to_le_bytes());
            out.extend_from_slice(&(p.len() as u64).to_le_bytes());
            out.extend_from_slice(p);
        }
        out
    }

    fn restore(&mut self, b: &[u8]) -> Result<(), String> {
        if b.first() != Some(&VERSION) {
            return Err("register checkpoint version".into());
        }
        let mut at = 1;
        let digest = take_u64(b, &mut at)?;
        let n = take_u64(b, &mut at)?;
        let mut fresh = Register { digest, ..Register::default() };
        for _ in 0..n {
            let i = take_u64(b, &mut at)?;
            let len = take_u64(b, &mut at)? as usize;
            let p = b.get(at..at + len).ok_or("truncated")?.to_vec();
            at += len;
            if let Some(prev) = fresh.seen.insert(p.clone(), i) {
                fresh.duplicate.get_or_insert((prev, i));
            }
            fresh.entries.insert(i, p);
        }
        if at != b.len() {
            return Err("trailing bytes".into());
        }
        *self = fresh;
        Ok(())
    }

    fn state_digest(&self) -> u64 {
        self.digest
    }
}
