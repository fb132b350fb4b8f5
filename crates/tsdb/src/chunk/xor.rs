//! Gorilla-style chunks (Pelkonen et al., VLDB 2015), with our own bucket
//! sizes tuned for scrape jitter of a few milliseconds.
//!
//! Layout (bits, most significant first; see `docs/format/chunks.md`):
//! 2 bytes sample count (big endian), then the first timestamp as a zig-zag
//! varint in 8-bit groups and the first value as 64 raw bits, then the
//! second timestamp as a zig-zag varint delta, then delta-of-deltas in
//! prefix buckets; every value after the first is XOR'd with its predecessor.

use sightline_core::Sample;

/// `(prefix, prefix bits, payload bits)` for delta-of-delta buckets; the last
/// bucket (`1111`) carries 64 raw bits.
const DOD_BUCKETS: [(u64, u32, u32); 3] = [(0b10, 2, 7), (0b110, 3, 12), (0b1110, 4, 20)];

/// Writes bits most-significant first. Only tests write XOR chunks now (the
/// head uses encoding 3); readers remain for WAL checkpoints written before.
#[cfg(test)]
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    pub(crate) buf: Vec<u8>,
    /// Unused low bits of the last byte.
    free: u8,
}

#[cfg(test)]
impl BitWriter {
    /// Pushes a byte, growing the buffer by a quarter at a time rather than
    /// doubling: head chunks live for hours, and doubling leaves up to half
    /// of every open chunk's buffer unused.
    #[inline]
    fn push(&mut self, b: u8) {
        if self.buf.len() == self.buf.capacity() {
            self.buf.reserve_exact(self.buf.len() / 4 + 16);
        }
        self.buf.push(b);
    }

    #[inline]
    pub(crate) fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.push(0);
            self.free = 8;
        }
        self.free -= 1;
        if bit {
            let last = self.buf.len() - 1;
            self.buf[last] |= 1 << self.free;
        }
    }

    /// Writes the low `n` bits of `v` (`n <= 64`): first into the partial
    /// last byte, then whole bytes, then a new partial byte.
    #[inline]
    pub(crate) fn write_bits(&mut self, v: u64, mut n: u32) {
        if n == 0 {
            return;
        }
        let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        if self.free > 0 {
            let free = u32::from(self.free);
            let last = self.buf.len() - 1;
            if n <= free {
                self.buf[last] |= (v << (free - n)) as u8;
                self.free -= n as u8;
                return;
            }
            self.buf[last] |= (v >> (n - free)) as u8;
            n -= free;
            self.free = 0;
        }
        while n >= 8 {
            n -= 8;
            self.push((v >> n) as u8);
        }
        if n > 0 {
            self.push((v << (8 - n)) as u8);
            self.free = (8 - n) as u8;
        }
    }

    fn write_uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.write_bits((v & 0x7f) | 0x80, 8);
            v >>= 7;
        }
        self.write_bits(v, 8);
    }
}

/// Reads bits most-significant first.
#[derive(Clone)]
pub(crate) struct BitReader<B> {
    buf: B,
    pos: usize,
}

impl<B: AsRef<[u8]>> BitReader<B> {
    fn new(buf: B, byte_pos: usize) -> Self {
        BitReader {
            buf,
            pos: byte_pos * 8,
        }
    }

    #[inline]
    fn read_bit(&mut self) -> Option<bool> {
        let b = *self.buf.as_ref().get(self.pos / 8)?;
        let bit = (b >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Some(bit == 1)
    }

    /// Reads `n` bits, most significant first. Where 8 bytes remain, one
    /// big-endian word load replaces the byte-by-byte loop.
    #[inline]
    fn read_bits(&mut self, n: u32) -> Option<u64> {
        if n == 0 {
            return Some(0);
        }
        if n <= 56 {
            let at = self.pos / 8;
            if let Some(w) = self.buf.as_ref().get(at..at + 8) {
                let word = u64::from_be_bytes(w.try_into().expect("8 bytes"));
                // The offset is at most 7 and n at most 56: no bit is lost.
                let v = (word << (self.pos % 8)) >> (64 - n);
                self.pos += n as usize;
                return Some(v);
            }
        }
        self.read_bits_slow(n)
    }

    fn read_bits_slow(&mut self, mut n: u32) -> Option<u64> {
        let buf = self.buf.as_ref();
        let mut v = 0u64;
        while n > 0 {
            let byte = *buf.get(self.pos / 8)?;
            let off = (self.pos % 8) as u32;
            let avail = 8 - off;
            let take = n.min(avail);
            let bits = (u64::from(byte) >> (avail - take)) & ((1u64 << take) - 1);
            v = if take == 64 { bits } else { (v << take) | bits };
            self.pos += take as usize;
            n -= take;
        }
        Some(v)
    }

    fn read_uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.read_bits(8)?;
            if shift > 63 {
                return None;
            }
            v |= (b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
            shift += 7;
        }
    }
}

/// Appends samples to a growing chunk. Callers guarantee strictly increasing
/// timestamps. Test-only, like [`BitWriter`].
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct XorAppender {
    w: BitWriter,
    n: u16,
    t: i64,
    delta: i64,
    v: u64,
    /// `u8::MAX` until a value window has been written.
    leading: u8,
    trailing: u8,
}

#[cfg(test)]
impl Default for XorAppender {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
impl XorAppender {
    pub(crate) fn new() -> Self {
        XorAppender {
            w: BitWriter {
                // Room for the first ten or so samples without a
                // reallocation (measured: 32 bytes cost more RSS per series
                // than 64 through early regrowth); `BitWriter::push` then
                // grows the buffer by quarters.
                buf: {
                    let mut b = Vec::with_capacity(64);
                    b.extend_from_slice(&[0, 0]);
                    b
                },
                free: 0,
            },
            n: 0,
            t: 0,
            delta: 0,
            v: 0,
            leading: u8::MAX,
            trailing: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.n)
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.w.buf
    }

    /// The finished chunk, trimmed to size.
    #[cfg(test)]
    pub(crate) fn into_bytes(self) -> Box<[u8]> {
        self.w.buf.into_boxed_slice()
    }

    pub(crate) fn append(&mut self, t: i64, v: f64) {
        let bits = v.to_bits();
        match self.n {
            0 => {
                self.w.write_uvarint(crate::encoding::zigzag(t));
                self.w.write_bits(bits, 64);
            }
            1 => {
                let delta = t.wrapping_sub(self.t);
                self.w.write_uvarint(crate::encoding::zigzag(delta));
                self.write_value(bits);
                self.delta = delta;
            }
            _ => {
                let delta = t.wrapping_sub(self.t);
                let dod = delta.wrapping_sub(self.delta);
                self.write_dod(dod);
                self.write_value(bits);
                self.delta = delta;
            }
        }
        self.t = t;
        self.v = bits;
        self.n += 1;
        let n = self.n.to_be_bytes();
        self.w.buf[0] = n[0];
        self.w.buf[1] = n[1];
    }

    #[inline]
    fn write_dod(&mut self, dod: i64) {
        if dod == 0 {
            self.w.write_bit(false);
            return;
        }
        for (prefix, pbits, nbits) in DOD_BUCKETS {
            let lo = -(1i64 << (nbits - 1)) + 1;
            let hi = 1i64 << (nbits - 1);
            if (lo..=hi).contains(&dod) {
                let payload = (dod as u64) & ((1u64 << nbits) - 1);
                self.w
                    .write_bits((prefix << nbits) | payload, pbits + nbits);
                return;
            }
        }
        self.w.write_bits(0b1111, 4);
        self.w.write_bits(dod as u64, 64);
    }

    #[inline]
    fn write_value(&mut self, bits: u64) {
        let x = bits ^ self.v;
        if x == 0 {
            self.w.write_bit(false);
            return;
        }
        let lz = x.leading_zeros().min(63) as u8;
        let tz = x.trailing_zeros() as u8;
        if self.leading != u8::MAX && lz >= self.leading && tz >= self.trailing {
            let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
            if sig <= 62 {
                // One call for control bits and payload.
                self.w
                    .write_bits((0b10 << sig) | (x >> self.trailing), sig + 2);
            } else {
                self.w.write_bits(0b10, 2);
                self.w.write_bits(x >> self.trailing, sig);
            }
        } else {
            self.leading = lz;
            self.trailing = tz;
            let sig = 64 - u32::from(lz) - u32::from(tz);
            // A significant-bit count of 64 is stored as 0 in 6 bits.
            let header = (0b11 << 12) | (u64::from(lz) << 6) | (u64::from(sig) & 0x3f);
            self.w.write_bits(header, 14);
            self.w.write_bits(x >> tz, sig);
        }
    }
}

/// Iterates the samples of an encoded XOR chunk. Owns or borrows its bytes.
#[derive(Clone)]
pub(crate) struct XorIter<B> {
    r: BitReader<B>,
    n: u16,
    i: u16,
    t: i64,
    delta: i64,
    v: u64,
    leading: u32,
    trailing: u32,
    failed: bool,
}

impl<B: AsRef<[u8]>> XorIter<B> {
    /// `None` when the header is missing.
    pub(crate) fn new(buf: B) -> Option<Self> {
        let b = buf.as_ref();
        if b.len() < 2 {
            return None;
        }
        let n = u16::from_be_bytes([b[0], b[1]]);
        Some(XorIter {
            r: BitReader::new(buf, 2),
            n,
            i: 0,
            t: 0,
            delta: 0,
            v: 0,
            leading: 0,
            trailing: 0,
            failed: false,
        })
    }

    /// Samples left according to the header (fewer if the bytes run out).
    pub(crate) fn len_hint(&self) -> usize {
        usize::from(self.n.saturating_sub(self.i))
    }

    /// True when iteration stopped early because the bytes ran out.
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    fn next_inner(&mut self) -> Option<Sample> {
        match self.i {
            0 => {
                self.t = crate::encoding::unzigzag(self.r.read_uvarint()?);
                self.v = self.r.read_bits(64)?;
            }
            1 => {
                self.delta = crate::encoding::unzigzag(self.r.read_uvarint()?);
                self.t = self.t.wrapping_add(self.delta);
                self.read_value()?;
            }
            _ => {
                let dod = self.read_dod()?;
                self.delta = self.delta.wrapping_add(dod);
                self.t = self.t.wrapping_add(self.delta);
                self.read_value()?;
            }
        }
        self.i += 1;
        Some(Sample::new(self.t, f64::from_bits(self.v)))
    }

    fn read_dod(&mut self) -> Option<i64> {
        let mut prefix_len = 0;
        while prefix_len < 4 && self.r.read_bit()? {
            prefix_len += 1;
        }
        let nbits = match prefix_len {
            0 => return Some(0),
            1..=3 => DOD_BUCKETS[prefix_len - 1].2,
            _ => return Some(self.r.read_bits(64)? as i64),
        };
        let raw = self.r.read_bits(nbits)? as i64;
        Some(if raw > 1i64 << (nbits - 1) {
            raw - (1i64 << nbits)
        } else {
            raw
        })
    }

    fn read_value(&mut self) -> Option<()> {
        if !self.r.read_bit()? {
            return Some(());
        }
        if self.r.read_bit()? {
            self.leading = self.r.read_bits(6)? as u32;
            let mut sig = self.r.read_bits(6)? as u32;
            if sig == 0 {
                sig = 64;
            }
            self.trailing = 64u32.checked_sub(self.leading + sig)?;
        }
        let sig = 64 - self.leading - self.trailing;
        let x = self.r.read_bits(sig)?;
        self.v ^= x << self.trailing;
        Some(())
    }
}

impl<B: AsRef<[u8]>> Iterator for XorIter<B> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        if self.i >= self.n || self.failed {
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
mod tests {
    use super::*;
    use crate::chunk::fixtures::{
        assert_bit_exact, awkward_timestamp_series, special_value_series,
    };

    pub(crate) fn round_trip(samples: &[Sample]) {
        let mut a = XorAppender::new();
        for s in samples {
            a.append(s.t, s.v);
        }
        assert_eq!(a.len(), samples.len());
        let bytes = a.into_bytes();
        let mut it = XorIter::new(&bytes[..]).unwrap();
        let got: Vec<Sample> = it.by_ref().collect();
        assert!(!it.failed());
        assert_bit_exact(&got, samples);
    }

    #[test]
    fn special_values_round_trip_bit_exact() {
        round_trip(&special_value_series());
    }

    #[test]
    fn timestamp_jumps_and_negative_deltas() {
        for s in awkward_timestamp_series() {
            round_trip(&s);
        }
    }

    #[test]
    fn jittered_scrapes_are_small() {
        let mut a = XorAppender::new();
        let mut x = 7u64;
        for i in 0..120i64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let jitter = (x >> 60) as i64 - 8;
            a.append(i * 15_000 + jitter, (i * 3) as f64);
        }
        // 9 bits of timestamp plus a short XOR per sample.
        assert!(a.bytes().len() < 120 * 4, "{} bytes", a.bytes().len());
    }

    #[test]
    fn truncated_chunk_reports_failure() {
        let mut a = XorAppender::new();
        for i in 0..10 {
            a.append(i * 1000, i as f64 * 1.5);
        }
        let b = a.into_bytes();
        let mut it = XorIter::new(&b[..b.len() - 3]).unwrap();
        let n = it.by_ref().count();
        assert!(n < 10);
        assert!(it.failed());
    }
}
