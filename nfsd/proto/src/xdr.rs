//! XDR (RFC 4506): a bounds-checked [`Decoder`] over a borrowed byte slice,
//! an [`Encoder`] over a `Vec<u8>`, and the [`XdrDecode`] / [`XdrEncode`]
//! traits every wire type implements.
//!
//! Every read checks the remaining input first; every variable-length item
//! checks its length against the caller's protocol maximum *and* against the
//! remaining input before anything is allocated, so a length field of
//! `0xFFFF_FFFF` is an error, never a 4 GiB allocation.

use thiserror::Error;

/// Why a byte sequence is not a valid XDR encoding of the expected type.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum XdrError {
    /// The input ended before the item did.
    #[error("XDR input truncated")]
    Truncated,
    /// A length field exceeds the protocol's maximum for that item.
    #[error("XDR length {len} exceeds maximum {max}")]
    TooLong {
        /// The length announced on the wire.
        len: u32,
        /// The largest length this item allows.
        max: u32,
    },
    /// A boolean other than 0 or 1 (RFC 4506 §4.4).
    #[error("XDR bool must be 0 or 1, got {0}")]
    BadBool(u32),
    /// A value that is not a member of the enumeration (RFC 4506 §4.3).
    #[error("bad value {value} for XDR enum {name}")]
    BadEnum {
        /// The RFC name of the enumeration.
        name: &'static str,
        /// The value found on the wire.
        value: u32,
    },
    /// Non-zero padding bytes after opaque data (RFC 4506 §4.9, §4.10).
    #[error("non-zero XDR padding")]
    BadPadding,
    /// Bytes left over after a value that must fill the whole input.
    #[error("{0} trailing bytes after XDR value")]
    TrailingBytes(usize),
}

/// Number of zero bytes that pad `len` bytes of opaque data to a multiple of 4.
#[inline]
pub const fn padding(len: usize) -> usize {
    (4 - (len % 4)) % 4
}

/// Encoded size of variable-length opaque data of `len` bytes: the length
/// word, the data and its padding.
#[inline]
pub const fn opaque_len(len: usize) -> usize {
    4 + len + padding(len)
}

/// A cursor over XDR-encoded input. Never panics, never allocates.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// A decoder positioned at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Decoder { buf, pos: 0 }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The unconsumed input (does not consume it).
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// True when all input has been consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Error unless all input has been consumed.
    pub fn finish(&self) -> Result<(), XdrError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(XdrError::TrailingBytes(n)),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], XdrError> {
        if n > self.remaining() {
            return Err(XdrError::Truncated);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn take4(&mut self) -> Result<[u8; 4], XdrError> {
        let s = self.take(4)?;
        Ok([s[0], s[1], s[2], s[3]])
    }

    fn take8(&mut self) -> Result<[u8; 8], XdrError> {
        let s = self.take(8)?;
        Ok([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
    }

    fn skip_padding(&mut self, len: usize) -> Result<(), XdrError> {
        let pad = self.take(padding(len))?;
        if pad.iter().any(|&b| b != 0) {
            return Err(XdrError::BadPadding);
        }
        Ok(())
    }

    /// `unsigned int` (RFC 4506 §4.2).
    pub fn u32(&mut self) -> Result<u32, XdrError> {
        Ok(u32::from_be_bytes(self.take4()?))
    }

    /// `int` (RFC 4506 §4.1).
    pub fn i32(&mut self) -> Result<i32, XdrError> {
        Ok(i32::from_be_bytes(self.take4()?))
    }

    /// `unsigned hyper` (RFC 4506 §4.5).
    pub fn u64(&mut self) -> Result<u64, XdrError> {
        Ok(u64::from_be_bytes(self.take8()?))
    }

    /// `hyper` (RFC 4506 §4.5).
    pub fn i64(&mut self) -> Result<i64, XdrError> {
        Ok(i64::from_be_bytes(self.take8()?))
    }

    /// `bool` (RFC 4506 §4.4): only 0 and 1 are valid.
    pub fn bool(&mut self) -> Result<bool, XdrError> {
        match self.u32()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(XdrError::BadBool(v)),
        }
    }

    /// `opaque[n]` (RFC 4506 §4.9): `n` bytes plus padding; returns the `n`
    /// bytes without the padding.
    pub fn opaque_fixed(&mut self, n: usize) -> Result<&'a [u8], XdrError> {
        // Check data and padding together so that nothing is consumed on error.
        match n.checked_add(padding(n)) {
            Some(t) if t <= self.remaining() => {}
            _ => return Err(XdrError::Truncated),
        }
        let data = self.take(n)?;
        self.skip_padding(n)?;
        Ok(data)
    }

    /// `opaque<max_len>` (RFC 4506 §4.10): a length, the bytes, padding.
    /// The length is checked against `max_len` (→ [`XdrError::TooLong`]) and
    /// against the remaining input including padding (→ [`XdrError::Truncated`]).
    pub fn opaque(&mut self, max_len: u32) -> Result<&'a [u8], XdrError> {
        let len = self.u32()?;
        if len > max_len {
            return Err(XdrError::TooLong { len, max: max_len });
        }
        self.opaque_fixed(len as usize)
    }

    /// `string<max_len>` (RFC 4506 §4.11): as [`Decoder::opaque`]; the bytes
    /// are not checked for UTF-8 or anything else.
    pub fn string(&mut self, max_len: u32) -> Result<&'a [u8], XdrError> {
        self.opaque(max_len)
    }

    /// The element count of a variable-length array `T<max>` (RFC 4506
    /// §4.13). Checks `len <= max`, and `len * 4 <= remaining` because every
    /// array element this crate decodes encodes to at least 4 bytes, so a
    /// `Vec::with_capacity(len)` after this call is bounded by the input size.
    pub fn array_len(&mut self, max: u32) -> Result<usize, XdrError> {
        let len = self.u32()?;
        if len > max {
            return Err(XdrError::TooLong { len, max });
        }
        let len = len as usize;
        if len.saturating_mul(4) > self.remaining() {
            return Err(XdrError::Truncated);
        }
        Ok(len)
    }
}

/// Builds an XDR encoding in a `Vec<u8>`. Encoding is infallible.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoder {
    buf: Vec<u8>,
}

/// A u32 slot reserved by [`Encoder::reserve_u32`], to be filled in by
/// [`Encoder::patch_u32`] (for lengths and record marks known only later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Reserved(usize);

impl Reserved {
    /// Offset of the slot in the encoder's buffer.
    pub fn offset(self) -> usize {
        self.0
    }
}

impl Encoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Encoder { buf: Vec::new() }
    }

    /// An empty encoder with room for `cap` bytes.
    pub fn with_capacity(cap: usize) -> Self {
        Encoder { buf: Vec::with_capacity(cap) }
    }

    /// The encoded bytes.
    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }

    /// The encoded bytes so far.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// Number of bytes encoded so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True if nothing has been encoded.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// `unsigned int`.
    pub fn put_u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `int`.
    pub fn put_i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `unsigned hyper`.
    pub fn put_u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `hyper`.
    pub fn put_i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `bool`: 0 or 1.
    pub fn put_bool(&mut self, v: bool) {
        self.put_u32(u32::from(v));
    }

    /// `opaque[n]`: the bytes and zero padding, no length.
    pub fn put_opaque_fixed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(&[0u8; 3][..padding(data.len())]);
    }

    /// `opaque<>`: length, bytes, zero padding.
    ///
    /// Panics if `data` is 4 GiB or longer (a programming error: no protocol
    /// item of this crate can be that large).
    pub fn put_opaque(&mut self, data: &[u8]) {
        let len = u32::try_from(data.len());
        assert!(len.is_ok(), "XDR opaque longer than u32::MAX");
        self.put_u32(len.unwrap_or(u32::MAX));
        self.put_opaque_fixed(data);
    }

    /// `string<>`: as [`Encoder::put_opaque`].
    pub fn put_string(&mut self, s: &[u8]) {
        self.put_opaque(s);
    }

    /// The element count of a variable-length array.
    pub fn put_array_len(&mut self, len: usize) {
        let len = u32::try_from(len);
        assert!(len.is_ok(), "XDR array longer than u32::MAX");
        self.put_u32(len.unwrap_or(u32::MAX));
    }

    /// Append raw, already encoded bytes (must be a multiple of 4 long to
    /// keep the stream aligned).
    pub fn put_raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Reserve a u32 (written as 0) to be filled in later with
    /// [`Encoder::patch_u32`].
    pub fn reserve_u32(&mut self) -> Reserved {
        let at = self.buf.len();
        self.put_u32(0);
        Reserved(at)
    }

    /// Fill in a slot reserved on this encoder. Panics if `slot` came from
    /// another, shorter encoder (a programming error).
    pub fn patch_u32(&mut self, slot: Reserved, v: u32) {
        let at = slot.0;
        assert!(at + 4 <= self.buf.len(), "Reserved slot from another encoder");
        self.buf[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }
}

/// A type that can be read from XDR. Owned types implement it for every
/// `'a`; the lifetime lets borrowed views exist, though every type of this
/// crate copies its variable-length data out (see the crate header).
pub trait XdrDecode<'a>: Sized {
    /// Decode one value, consuming exactly its encoding.
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError>;
}

/// A type that can be written as XDR.
pub trait XdrEncode {
    /// Append this value's encoding.
    fn encode(&self, e: &mut Encoder);
}

/// Decode a `T` that must fill all of `buf` (trailing bytes are an error).
pub fn from_bytes<'a, T: XdrDecode<'a>>(buf: &'a [u8]) -> Result<T, XdrError> {
    let mut d = Decoder::new(buf);
    let v = T::decode(&mut d)?;
    d.finish()?;
    Ok(v)
}

/// Encode `v` into a fresh buffer.
pub fn to_bytes<T: XdrEncode + ?Sized>(v: &T) -> Vec<u8> {
    let mut e = Encoder::new();
    v.encode(&mut e);
    e.into_inner()
}

/// Encoded size of `v` in bytes (encodes it; use the `encoded_len` helpers
/// of the READDIR entry types on hot paths).
pub fn encoded_len<T: XdrEncode + ?Sized>(v: &T) -> usize {
    to_bytes(v).len()
}

impl<'a> XdrDecode<'a> for u32 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        d.u32()
    }
}
impl XdrEncode for u32 {
    fn encode(&self, e: &mut Encoder) {
        e.put_u32(*self)
    }
}
impl<'a> XdrDecode<'a> for i32 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        d.i32()
    }
}
impl XdrEncode for i32 {
    fn encode(&self, e: &mut Encoder) {
        e.put_i32(*self)
    }
}
impl<'a> XdrDecode<'a> for u64 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        d.u64()
    }
}
impl XdrEncode for u64 {
    fn encode(&self, e: &mut Encoder) {
        e.put_u64(*self)
    }
}
impl<'a> XdrDecode<'a> for i64 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        d.i64()
    }
}
impl XdrEncode for i64 {
    fn encode(&self, e: &mut Encoder) {
        e.put_i64(*self)
    }
}
impl<'a> XdrDecode<'a> for bool {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        d.bool()
    }
}
impl XdrEncode for bool {
    fn encode(&self, e: &mut Encoder) {
        e.put_bool(*self)
    }
}

/// `void`.
impl<'a> XdrDecode<'a> for () {
    fn decode(_d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(())
    }
}
impl XdrEncode for () {
    fn encode(&self, _e: &mut Encoder) {}
}

/// `opaque[N]`, e.g. `cookieverf3`, `createverf3`, `writeverf3`.
impl<'a, const N: usize> XdrDecode<'a> for [u8; N] {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        let s = d.opaque_fixed(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }
}
impl<const N: usize> XdrEncode for [u8; N] {
    fn encode(&self, e: &mut Encoder) {
        e.put_opaque_fixed(self)
    }
}

/// XDR optional data `T *x` (RFC 4506 §4.19), which has the same encoding as
/// `union switch (bool follows) { case TRUE: T x; case FALSE: void; }` —
/// `post_op_attr`, `pre_op_attr`, `post_op_fh3`, `set_mode3`, `sattrguard3`…
impl<'a, T: XdrDecode<'a>> XdrDecode<'a> for Option<T> {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        if d.bool()? {
            Ok(Some(T::decode(d)?))
        } else {
            Ok(None)
        }
    }
}
impl<T: XdrEncode> XdrEncode for Option<T> {
    fn encode(&self, e: &mut Encoder) {
        match self {
            Some(v) => {
                e.put_bool(true);
                v.encode(e);
            }
            None => e.put_bool(false),
        }
    }
}

/// Decode an XDR optional-data linked list (`struct entry { ...; entry
/// *nextentry; }`, RFC 4506 §4.19): a `value_follows` bool before each
/// element and a final FALSE. The vector grows one decoded element at a time,
/// so memory stays proportional to the input consumed; `max` bounds the count.
pub fn decode_list<'a, T: XdrDecode<'a>>(
    d: &mut Decoder<'a>,
    max: u32,
) -> Result<Vec<T>, XdrError> {
    let mut out = Vec::new();
    while d.bool()? {
        if out.len() >= max as usize {
            return Err(XdrError::TooLong { len: max.saturating_add(1), max });
        }
        out.push(T::decode(d)?);
    }
    Ok(out)
}

/// Encode an XDR optional-data linked list (see [`decode_list`]).
pub fn encode_list<T: XdrEncode>(e: &mut Encoder, items: &[T]) {
    for it in items {
        e.put_bool(true);
        it.encode(e);
    }
    e.put_bool(false);
}

/// Decode a counted array `T<max>` (RFC 4506 §4.13).
pub fn decode_array<'a, T: XdrDecode<'a>>(
    d: &mut Decoder<'a>,
    max: u32,
) -> Result<Vec<T>, XdrError> {
    let n = d.array_len(max)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(T::decode(d)?);
    }
    Ok(out)
}

/// Encode a counted array `T<>`.
pub fn encode_array<T: XdrEncode>(e: &mut Encoder, items: &[T]) {
    e.put_array_len(items.len());
    for it in items {
        it.encode(e);
    }
}

/// Declare a struct whose XDR encoding is its fields in order, with
/// `XdrDecode` and `XdrEncode`. A field may name a codec module
/// (`name: Vec<u8> [codec_mod]`) whose `decode`/`encode` functions are used
/// instead of the field type's own impls (for bounded opaque data).
macro_rules! xdr_struct {
    (
        $(#[$m:meta])*
        pub struct $name:ident {
            $( $(#[$fm:meta])* pub $f:ident : $t:ty $([$codec:ident])? ),* $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$fm])* pub $f: $t, )*
        }
        impl<'a> $crate::xdr::XdrDecode<'a> for $name {
            #[allow(unused_variables)]
            fn decode(
                d: &mut $crate::xdr::Decoder<'a>,
            ) -> Result<Self, $crate::xdr::XdrError> {
                Ok($name { $( $f: xdr_struct!(@dec d, $t $(, $codec)?), )* })
            }
        }
        impl $crate::xdr::XdrEncode for $name {
            #[allow(unused_variables)]
            fn encode(&self, e: &mut $crate::xdr::Encoder) {
                $( xdr_struct!(@enc e, &self.$f $(, $codec)?); )*
            }
        }
    };
    (@dec $d:ident, $t:ty) => { <$t as $crate::xdr::XdrDecode>::decode($d)? };
    (@dec $d:ident, $t:ty, $codec:ident) => { $codec::decode($d)? };
    (@enc $e:ident, $v:expr) => { $crate::xdr::XdrEncode::encode($v, $e) };
    (@enc $e:ident, $v:expr, $codec:ident) => { $codec::encode($e, $v) };
}

/// Declare a C-like enum with explicit `u32` discriminants, `from_u32`, and
/// XDR codecs (an unknown value decodes to [`XdrError::BadEnum`]).
macro_rules! xdr_enum {
    (
        $(#[$m:meta])*
        pub enum $name:ident as $rfc:literal {
            $( $(#[$vm:meta])* $v:ident = $n:expr ),* $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum $name {
            $( $(#[$vm])* $v = $n, )*
        }
        impl $name {
            /// Every member, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            /// The member with wire value `v`, if any.
            pub fn from_u32(v: u32) -> Option<Self> {
                match v {
                    $( x if x == $n => Some($name::$v), )*
                    _ => None,
                }
            }
        }
        impl<'a> $crate::xdr::XdrDecode<'a> for $name {
            fn decode(
                d: &mut $crate::xdr::Decoder<'a>,
            ) -> Result<Self, $crate::xdr::XdrError> {
                let value = d.u32()?;
                $name::from_u32(value)
                    .ok_or($crate::xdr::XdrError::BadEnum { name: $rfc, value })
            }
        }
        impl $crate::xdr::XdrEncode for $name {
            fn encode(&self, e: &mut $crate::xdr::Encoder) {
                e.put_u32(*self as u32)
            }
        }
    };
}

pub(crate) use {xdr_enum, xdr_struct};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_length_is_too_long_without_allocation() {
        let mut d = Decoder::new(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
        assert_eq!(d.opaque(1024), Err(XdrError::TooLong { len: u32::MAX, max: 1024 }));
        let mut d = Decoder::new(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(d.opaque(u32::MAX), Err(XdrError::Truncated));
        let mut d = Decoder::new(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(d.array_len(16), Err(XdrError::TooLong { len: u32::MAX, max: 16 }));
        let mut d = Decoder::new(&[0, 0, 0, 8, 0, 0, 0, 1]);
        assert_eq!(d.array_len(16), Err(XdrError::Truncated));
    }

    #[test]
    fn padding_must_be_present_and_zero() {
        // RFC 4506 §4.10: 3 bytes of data, 1 byte of zero padding.
        let ok = [0, 0, 0, 3, b'a', b'b', b'c', 0];
        assert_eq!(Decoder::new(&ok).opaque(8), Ok(&b"abc"[..]));
        let bad = [0, 0, 0, 3, b'a', b'b', b'c', 7];
        assert_eq!(Decoder::new(&bad).opaque(8), Err(XdrError::BadPadding));
        assert_eq!(Decoder::new(&ok[..7]).opaque(8), Err(XdrError::Truncated));
    }

    #[test]
    fn bool_only_zero_or_one() {
        assert_eq!(Decoder::new(&[0, 0, 0, 2]).bool(), Err(XdrError::BadBool(2)));
        assert_eq!(Decoder::new(&[0, 0, 0, 1]).bool(), Ok(true));
    }

    #[test]
    fn reserve_and_patch() {
        let mut e = Encoder::new();
        let slot = e.reserve_u32();
        e.put_opaque(b"hello");
        let n = (e.len() - 4) as u32;
        e.patch_u32(slot, n);
        assert_eq!(
            e.into_inner(),
            vec![0, 0, 0, 12, 0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o', 0, 0, 0]
        );
    }

    #[test]
    fn fixed_width_round_trip() {
        let mut e = Encoder::new();
        e.put_i32(-2);
        e.put_u64(u64::MAX - 1);
        e.put_i64(-3);
        let b = e.into_inner();
        let mut d = Decoder::new(&b);
        assert_eq!(d.i32(), Ok(-2));
        assert_eq!(d.u64(), Ok(u64::MAX - 1));
        assert_eq!(d.i64(), Ok(-3));
        assert!(d.is_empty());
        assert_eq!(d.u32(), Err(XdrError::Truncated));
    }
}
