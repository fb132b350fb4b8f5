//! The head's chunk encoding (encoding 3): byte-aligned varints, with each
//! value stored as an integer delta at a decimal scale whenever it is
//! exactly `i / 10^s`.
//!
//! Why not Gorilla's XOR for the head: exporters print decimals
//! (`123.456`, `0.25`, `17`), and two neighbouring decimals share few
//! mantissa bits, so XOR spends 6-8 bytes on most changed values. The same
//! values as integers at their decimal scale differ by a few thousand,
//! which is two or three varint bytes. Open chunks are most of the head's
//! memory at short scrape intervals, so this is most of its memory too.
//!
//! Layout (`docs/format/chunks.md`, encoding 3):
//!
//! - 2 bytes: sample count, big endian (written when the bytes are taken,
//!   not on every append: that would touch the buffer's first cache line
//!   as well as its last);
//! - the first timestamp as a zig-zag varint;
//! - per sample, a head byte `dod << 2 | kind`: `dod` is the timestamp's
//!   delta-of-delta in 6 bits two's complement (`-32` means a zig-zag varint
//!   with the real one follows; the first sample writes 0 and the second's
//!   previous delta is 0), `kind` says how the value is stored:
//!   - 0: same bits as the previous value; nothing follows;
//!   - 1 / 2: `i / 10^scale` where `i` is the reference integer plus (1) or
//!     minus (2) the uvarint that follows; `i` becomes the reference;
//!   - 3: a uvarint `c` follows. Odd: the scale becomes `c >> 1` and a
//!     zig-zag varint with the new reference integer follows. Even: a float:
//!     with `x = bits XOR previous bits` (0 before the first value),
//!     `c >> 1` is `8 * leading zero bytes + trailing zero bytes` of `x`,
//!     and the bytes between follow, most significant first.
//!
//! The scale starts at 0 and only grows within a chunk, so counters that
//! print `12.3` and then `12.34` do not flip between scales. With scrape
//! jitter under 32 ms the timestamp costs no byte beyond the head byte, so a
//! counter rising by a few thousandths of its scale costs three bytes.

use crate::encoding::{unzigzag, zigzag};
use sightline_core::Sample;

/// Largest decimal scale tried: `10^6` keeps microsecond-resolution
/// durations (`0.000123`) exact while integers stay below 2^53.
const MAX_SCALE: u8 = 6;
const POW10: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];
/// Integers at or above this are not all exact in an f64.
const MAX_INT: f64 = 9_007_199_254_740_992.0;
/// The longest a sample can be: the head byte, a 10-byte delta-of-delta, and
/// a 1-byte scale change with a 10-byte reference integer.
const MAX_SAMPLE_LEN: usize = 22;
const KIND_SAME: u8 = 0;
const KIND_UP: u8 = 1;
const KIND_DOWN: u8 = 2;
const KIND_OTHER: u8 = 3;
/// The 6-bit delta-of-delta that means "a varint follows".
const DOD_ESCAPE: u8 = 0x20;

/// `v` as an integer at `scale`, if `i / 10^scale` gives back `v`'s exact
/// bits (so `-0.0`, NaNs and infinities never qualify).
///
/// Rounds with integer conversions rather than `f64::round`/`trunc`: on the
/// baseline x86-64 target (no SSE4.1) those are calls into libm, and this
/// runs for every appended sample.
#[inline]
fn to_scaled(v: f64, scale: u8) -> Option<i64> {
    if scale == 0 {
        // No division needed: an integral value below 2^53 is exact.
        // `x.abs() < MAX_INT` is false for NaN too.
        let small = v.abs() < MAX_INT;
        if !small || v.to_bits() == (-0.0f64).to_bits() {
            return None;
        }
        let i = v as i64;
        return (i as f64 == v).then_some(i);
    }
    let p = POW10[usize::from(scale)];
    let i = round_exact(v * p)?;
    ((i as f64 / p).to_bits() == v.to_bits()).then_some(i)
}

/// `x` rounded to the nearest integer, halves away from zero (as
/// `f64::round`), or `None` when `x` is NaN or not below 2^53 in magnitude.
/// Below 2^53 `x - trunc(x)` is exact, so the comparison with one half is.
#[inline]
fn round_exact(x: f64) -> Option<i64> {
    // False for NaN too.
    let small = x.abs() < MAX_INT;
    if !small {
        return None;
    }
    let t = x as i64;
    let frac = x - t as f64;
    Some(t + i64::from(frac >= 0.5) - i64::from(frac <= -0.5))
}

/// False when `v` is certainly not `i / 10^s` for any `s <= MAX_SCALE`:
/// then `v * 10^6` is far from an integer. Only a filter (the exact test
/// is [`to_scaled`]); it spares floats such as `1/3` seven divisions.
#[inline]
fn may_be_decimal(v: f64) -> bool {
    let x = v * POW10[usize::from(MAX_SCALE)];
    match round_exact(x) {
        // A true decimal lands within a few ulps of an integer.
        Some(r) => (x - r as f64).abs() <= x.abs() * 1e-12 + 1e-6,
        // Every finite float this large is an integer already; NaN and
        // infinities are no decimals.
        None => x.is_finite(),
    }
}

#[inline]
fn from_scaled(i: i64, scale: u8) -> f64 {
    i as f64 / POW10[usize::from(scale)]
}

/// A sample's bytes, built on the stack so the chunk grows by exactly what
/// it needs.
struct Scratch {
    buf: [u8; MAX_SAMPLE_LEN],
    len: usize,
}

impl Scratch {
    #[inline]
    fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf[self.len] = (v as u8) | 0x80;
            self.len += 1;
            v >>= 7;
        }
        self.buf[self.len] = v as u8;
        self.len += 1;
    }
}

/// Appends samples to a growing chunk.
///
/// Field order is deliberate (`repr(C)`): in the head this sits 8 bytes
/// into a series' first cache line, and what the append check reads (the
/// buffer, whose capacity doubles as the open chunk's `Option` tag, the
/// last timestamp and value) must fall inside that line; `delta` spills into
/// the second, which only the append itself writes.
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct ScaledAppender {
    buf: Vec<u8>,
    n: u16,
    scale: u8,
    t: i64,
    /// Bits of the previous value.
    v: u64,
    /// Reference integer of the value codes.
    i: i64,
    delta: i64,
}

impl Default for ScaledAppender {
    fn default() -> Self {
        Self::new()
    }
}

impl ScaledAppender {
    pub(crate) fn new() -> Self {
        // Room for the first dozen or so samples; the buffer then grows by
        // quarters (see `append`).
        let mut buf = Vec::with_capacity(48);
        buf.extend_from_slice(&[0, 0]);
        ScaledAppender {
            buf,
            n: 0,
            t: 0,
            delta: 0,
            v: 0,
            i: 0,
            scale: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.n)
    }

    /// Last appended timestamp (meaningless when empty).
    pub(crate) fn last_t(&self) -> i64 {
        self.t
    }

    /// Bits of the last appended value (meaningless when empty).
    pub(crate) fn last_bits(&self) -> u64 {
        self.v
    }

    /// The first timestamp, read back from the bytes (callers that need it
    /// rarely do not pay 8 bytes per open chunk to keep it).
    pub(crate) fn first_t(&self) -> Option<i64> {
        if self.n == 0 {
            return None;
        }
        let mut r = crate::encoding::Reader::at(&self.buf, 2);
        r.varint()
    }

    /// The chunk's bytes, count included, as a copy: for readers while
    /// appends go on.
    pub(crate) fn snapshot(&self) -> Vec<u8> {
        let mut out = self.buf.clone();
        out[..2].copy_from_slice(&self.n.to_be_bytes());
        out
    }

    /// The chunk's bytes, count included, when no more samples will come.
    pub(crate) fn finish(&mut self) -> &[u8] {
        self.buf[..2].copy_from_slice(&self.n.to_be_bytes());
        &self.buf
    }

    /// Heap bytes held, for memory accounting.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Appends a sample. Callers keep timestamps strictly increasing and
    /// cut chunks long before the 16-bit count could overflow.
    pub(crate) fn append(&mut self, t: i64, v: f64) {
        debug_assert!(self.n < u16::MAX);
        let bits = v.to_bits();
        let mut s = Scratch {
            buf: [0; MAX_SAMPLE_LEN],
            len: 1,
        };
        let mut dod6 = 0u8;
        if self.n == 0 {
            // The first timestamp goes before the head byte.
            s.len = 0;
            s.uvarint(zigzag(t));
            s.len += 1;
        } else {
            // Wrapping, as the reader: any pair of timestamps round-trips.
            let delta = t.wrapping_sub(self.t);
            let dod = delta.wrapping_sub(self.delta);
            if (-31..=31).contains(&dod) {
                dod6 = (dod as u8) & 0x3f;
            } else {
                dod6 = DOD_ESCAPE;
                s.uvarint(zigzag(dod));
            }
            self.delta = delta;
        }
        let head_at = if self.n == 0 { s.len - 1 } else { 0 };
        let kind = if self.n > 0 && bits == self.v {
            KIND_SAME
        } else {
            self.put_value(&mut s, v, bits)
        };
        s.buf[head_at] = dod6 << 2 | kind;
        // Grow by a quarter rather than doubling: head chunks live for
        // hours, and doubling leaves up to half of each open chunk unused.
        if self.buf.capacity() - self.buf.len() < s.len {
            self.buf.reserve_exact(self.buf.len() / 4 + s.len);
        }
        // Byte by byte: a sample is two or three bytes, and a slice copy of
        // a length unknown at compile time is a call to memmove, which was
        // 5 % of the append benchmark.
        for &b in &s.buf[..s.len] {
            self.buf.push(b);
        }
        self.t = t;
        self.v = bits;
        self.n += 1;
    }

    /// Writes the value's payload and returns its kind.
    #[inline]
    fn put_value(&mut self, s: &mut Scratch, v: f64, bits: u64) -> u8 {
        if let Some(i) = to_scaled(v, self.scale) {
            let d = i - self.i;
            self.i = i;
            s.uvarint(d.unsigned_abs());
            return if d >= 0 { KIND_UP } else { KIND_DOWN };
        }
        let tries = if may_be_decimal(v) {
            self.scale + 1
        } else {
            MAX_SCALE + 1
        };
        for scale in tries..=MAX_SCALE {
            if let Some(i) = to_scaled(v, scale) {
                s.uvarint(u64::from(scale) << 1 | 1);
                s.uvarint(zigzag(i));
                self.scale = scale;
                self.i = i;
                return KIND_OTHER;
            }
        }
        // `x` is never 0 here: a value equal to the previous one is
        // `KIND_SAME`, and 0.0 as the first value is an integer; so at most
        // 7 leading and 7 trailing bytes are zero.
        let x = bits ^ self.v;
        let lead = x.leading_zeros() / 8;
        let trail = x.trailing_zeros() / 8;
        s.uvarint(u64::from(lead * 8 + trail) << 1);
        let bytes = x.to_be_bytes();
        let mid = &bytes[lead as usize..8 - trail as usize];
        s.buf[s.len..s.len + mid.len()].copy_from_slice(mid);
        s.len += mid.len();
        KIND_OTHER
    }
}

/// Iterates the samples of an encoding-3 chunk. Owns or borrows its bytes.
#[derive(Clone)]
pub(crate) struct ScaledIter<B> {
    buf: B,
    pos: usize,
    n: u16,
    i_sample: u16,
    t: i64,
    delta: i64,
    v: u64,
    i: i64,
    scale: u8,
    failed: bool,
}

impl<B: AsRef<[u8]>> ScaledIter<B> {
    /// `None` when the header is missing.
    pub(crate) fn new(buf: B) -> Option<Self> {
        let b = buf.as_ref();
        if b.len() < 2 {
            return None;
        }
        let n = u16::from_be_bytes([b[0], b[1]]);
        Some(ScaledIter {
            buf,
            pos: 2,
            n,
            i_sample: 0,
            t: 0,
            delta: 0,
            v: 0,
            i: 0,
            scale: 0,
            failed: false,
        })
    }

    /// Samples left according to the header (fewer if the bytes run out).
    pub(crate) fn len_hint(&self) -> usize {
        usize::from(self.n.saturating_sub(self.i_sample))
    }

    /// True when iteration stopped early because the bytes were damaged.
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    #[inline]
    fn uvarint(&mut self) -> Option<u64> {
        crate::encoding::read_uvarint(self.buf.as_ref(), &mut self.pos)
    }

    #[inline]
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.as_ref().get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    #[inline]
    fn read_value(&mut self, kind: u8) -> Option<()> {
        match kind {
            KIND_SAME => return Some(()),
            KIND_UP => self.i = self.i.wrapping_add(self.uvarint()? as i64),
            KIND_DOWN => self.i = self.i.wrapping_sub(self.uvarint()? as i64),
            _ => {
                let c = self.uvarint()?;
                if c & 1 == 1 {
                    self.scale = u8::try_from(c >> 1).ok().filter(|s| *s <= MAX_SCALE)?;
                    self.i = unzigzag(self.uvarint()?);
                } else {
                    let control = c >> 1;
                    if control >= 64 {
                        return None;
                    }
                    let (lead, trail) = ((control / 8) as usize, (control % 8) as usize);
                    if lead + trail > 7 {
                        return None;
                    }
                    let mid = self
                        .buf
                        .as_ref()
                        .get(self.pos..self.pos + 8 - lead - trail)?;
                    let mut bytes = [0u8; 8];
                    bytes[lead..8 - trail].copy_from_slice(mid);
                    self.pos += mid.len();
                    self.v ^= u64::from_be_bytes(bytes);
                    return Some(());
                }
            }
        }
        self.v = from_scaled(self.i, self.scale).to_bits();
        Some(())
    }

    fn next_inner(&mut self) -> Option<Sample> {
        let head = if self.i_sample == 0 {
            self.t = unzigzag(self.uvarint()?);
            self.byte()?
        } else {
            let head = self.byte()?;
            let dod6 = head >> 2;
            let dod = if dod6 == DOD_ESCAPE {
                unzigzag(self.uvarint()?)
            } else {
                // Sign-extend the 6-bit field.
                i64::from(((dod6 << 2) as i8) >> 2)
            };
            self.delta = self.delta.wrapping_add(dod);
            self.t = self.t.wrapping_add(self.delta);
            head
        };
        self.read_value(head & 3)?;
        self.i_sample += 1;
        Some(Sample::new(self.t, f64::from_bits(self.v)))
    }
}

impl<B: AsRef<[u8]>> Iterator for ScaledIter<B> {
    type Item = Sample;

    #[inline]
    fn next(&mut self) -> Option<Sample> {
        if self.i_sample >= self.n || self.failed {
            return None;
        }
        let s = self.next_inner();
        if s.is_none() {
            self.failed = true;
        }
        s
    }
}

#[cfg(test)]
mod tests;
