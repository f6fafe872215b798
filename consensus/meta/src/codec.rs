//! The byte-level reader and writer behind every replicated format of this
//! crate (commands, outcomes, checkpoints). Integers are little-endian and
//! fixed-width; byte strings carry a `u32` length. The reader checks every
//! length against the bytes left, so bad input is a [`DecodeError`], never a
//! panic or a huge allocation.

use fsapi::Timestamp;

/// Bytes that do not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {what}: {why}")]
pub struct DecodeError {
    /// What was being decoded.
    pub what: &'static str,
    /// What was wrong with it.
    pub why: &'static str,
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
    pub(crate) fn flag(&mut self, v: bool) -> &mut Self {
        self.u8(u8::from(v))
    }
    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub(crate) fn array8(&mut self, v: &[u8; 8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }
    pub(crate) fn time(&mut self, t: Timestamp) -> &mut Self {
        self.u64(t.seconds as u64).u32(t.nanos)
    }
    /// A `u32` length, then the bytes. Callers keep byte strings far below
    /// 4 GiB (every format has a much smaller overall limit); a longer one
    /// is cut, which the overall limit then refuses at decode.
    pub(crate) fn bytes(&mut self, v: &[u8]) -> &mut Self {
        let n = u32::try_from(v.len()).unwrap_or(u32::MAX);
        self.u32(n);
        self.buf.extend_from_slice(&v[..n as usize]);
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
    pub(crate) fn bad(&self, why: &'static str) -> DecodeError {
        DecodeError { what: self.what, why }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(self.bad("truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    /// A boolean written by [`Writer::flag`]: 0 or 1, nothing else.
    pub(crate) fn flag(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.bad("flag is neither 0 nor 1")),
        }
    }
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array8()?))
    }
    pub(crate) fn array8(&mut self) -> Result<[u8; 8], DecodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(a)
    }
    pub(crate) fn time(&mut self) -> Result<Timestamp, DecodeError> {
        let seconds = self.u64()? as i64;
        Ok(Timestamp { seconds, nanos: self.u32()? })
    }
    /// A length-prefixed byte string of at most `max` bytes.
    pub(crate) fn bytes(&mut self, max: usize) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(self.bad("byte string over its limit"));
        }
        self.take(n)
    }
    /// A count that must be plausible for the bytes left (each item at least
    /// `min_item_bytes`), so a corrupt count cannot make us allocate wildly.
    pub(crate) fn count(&mut self, min_item_bytes: usize) -> Result<usize, DecodeError> {
        let n = self.u64()?;
        let n = usize::try_from(n).map_err(|_| self.bad("count too large"))?;
        if n.saturating_mul(min_item_bytes.max(1)) > self.buf.len() {
            return Err(self.bad("count larger than the bytes left"));
        }
        Ok(n)
    }
    pub(crate) fn expect_end(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(self.bad("trailing bytes"))
        }
    }
}
