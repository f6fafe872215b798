//! Hand-written binary encodings: a writer, a reader that never panics on
//! bad input, and a small non-cryptographic digest.
//!
//! All integers are little-endian except where a key needs big-endian to
//! sort (the raft log's entry keys, in `log`).

/// Bytes that do not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {what}: {why}")]
pub struct DecodeError {
    /// What was being decoded.
    pub what: &'static str,
    /// What was wrong with it.
    pub why: &'static str,
}

pub(crate) fn bad(what: &'static str, why: &'static str) -> DecodeError {
    DecodeError { what, why }
}

/// Appends fixed-width integers and length-prefixed byte strings.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Writer { buf: Vec::with_capacity(n) }
    }
    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// A u32 length, then the bytes.
    pub(crate) fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.buf.extend_from_slice(v);
        self
    }
    /// The bytes, without a length (the rest of a record).
    pub(crate) fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }
    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads what [`Writer`] wrote; every read checks the remaining length.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, what }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(bad(self.what, "truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    /// Exactly `N` bytes.
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }
    pub(crate) fn expect_end(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(bad(self.what, "trailing bytes"))
        }
    }
    /// A count that must be plausible for the bytes left (each item at least
    /// `min_item_bytes`), so a corrupt count cannot make us allocate wildly.
    pub(crate) fn count(&mut self, min_item_bytes: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_item_bytes.max(1)) > self.buf.len() {
            return Err(bad(self.what, "count larger than the bytes left"));
        }
        Ok(n)
    }
}

/// FNV-1a over `bytes`, continuing from `state` (start with [`FNV_OFFSET`]).
/// Used for digests compared between nodes in tests and for entry
/// fingerprints; not for anything an adversary controls.
pub(crate) fn fnv1a(mut state: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        state ^= u64::from(*b);
        state = state.wrapping_mul(0x0000_0100_0000_01b3);
    }
    state
}

/// The FNV-1a 64-bit offset basis.
pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// A small deterministic generator (SplitMix64), so that the node's
/// election timeouts follow from its configured seed (simulation replay).
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform-enough in `[0, n)`; `n == 0` gives 0.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_never_panics_on_truncation() {
        let mut w = Writer::default();
        w.u8(1).u32(7).u64(9).bytes(b"abc");
        let full = w.finish();
        for cut in 0..full.len() {
            let mut r = Reader::new(&full[..cut], "t");
            let res = (|| -> Result<(), DecodeError> {
                r.u8()?;
                r.u32()?;
                r.u64()?;
                r.bytes()?;
                Ok(())
            })();
            assert!(res.is_err(), "cut {cut}");
        }
        assert!(Reader::new(&full[..3], "t").array::<4>().is_err());
        assert_eq!(Reader::new(&full, "t").array::<2>(), Ok([1, 7]));
        let mut r = Reader::new(&full, "t");
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u32(), Ok(7));
        assert_eq!(r.u64(), Ok(9));
        assert_eq!(r.bytes(), Ok(&b"abc"[..]));
        assert!(r.expect_end().is_ok());
    }

    #[test]
    fn count_is_bounded_by_remaining_bytes() {
        let mut w = Writer::default();
        w.u32(u32::MAX);
        let b = w.finish();
        assert!(Reader::new(&b, "t").count(1).is_err());
    }
}
