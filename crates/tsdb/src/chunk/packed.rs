//! The byte-aligned block chunk encoding (encoding 2).
//!
//! Layout (see `docs/format/chunks.md`): uvarint count; timestamps as zig-zag
//! varints (first value, first delta, then delta-of-deltas); one mode byte;
//! then the values in the mode's representation:
//!
//! - integer modes: when every value is `i / 10^scale` for an integer `i`
//!   below 2^53 (checked bit-exactly), the integers are written as zig-zag
//!   varint deltas (mode 0) or delta-of-deltas (mode 1), whichever is
//!   smaller. Counters and most gauges land here.
//! - float mode (2): the first value as 8 bytes little endian, then for each
//!   value the XOR with its predecessor as a control byte
//!   `(leading zero bytes << 4) | trailing zero bytes` plus the middle bytes.

use crate::encoding::{put_uvarint, put_varint, uvarint_len, zigzag, Reader};
use sightline_core::Sample;

const MODE_INT_DELTA: u8 = 0;
const MODE_INT_DOD: u8 = 1;
const MODE_FLOAT: u8 = 2;
const MAX_SCALE: u32 = 4;
const POW10: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10000.0];
/// Integers must stay exactly representable.
const MAX_INT: f64 = 9_007_199_254_740_992.0;

/// Appends the encoding of `samples` (time-ordered) to `out`.
pub(crate) fn encode(samples: &[Sample], out: &mut Vec<u8>) {
    put_uvarint(out, samples.len() as u64);
    let mut prev_t = 0i64;
    let mut prev_d = 0i64;
    for (i, s) in samples.iter().enumerate() {
        match i {
            0 => put_varint(out, s.t),
            1 => {
                prev_d = s.t.wrapping_sub(prev_t);
                put_varint(out, prev_d);
            }
            _ => {
                let d = s.t.wrapping_sub(prev_t);
                put_varint(out, d.wrapping_sub(prev_d));
                prev_d = d;
            }
        }
        prev_t = s.t;
    }
    if let Some((scale, ints)) = as_scaled_ints(samples) {
        let (mut delta_len, mut dod_len) = (0usize, 0usize);
        let (mut pd, mut pv) = (0i64, 0i64);
        for (i, v) in ints.iter().enumerate() {
            let d = v.wrapping_sub(pv);
            delta_len += uvarint_len(zigzag(d));
            dod_len += uvarint_len(zigzag(if i <= 1 { d } else { d.wrapping_sub(pd) }));
            pd = d;
            pv = *v;
        }
        let dod = dod_len < delta_len;
        out.push((if dod { MODE_INT_DOD } else { MODE_INT_DELTA }) | ((scale as u8) << 4));
        let (mut pd, mut pv) = (0i64, 0i64);
        for (i, v) in ints.iter().enumerate() {
            let d = v.wrapping_sub(pv);
            put_varint(out, if dod && i > 1 { d.wrapping_sub(pd) } else { d });
            pd = d;
            pv = *v;
        }
        return;
    }
    out.push(MODE_FLOAT);
    let mut prev = 0u64;
    for (i, s) in samples.iter().enumerate() {
        let bits = s.v.to_bits();
        if i == 0 {
            out.extend_from_slice(&bits.to_le_bytes());
        } else {
            let x = bits ^ prev;
            if x == 0 {
                out.push(0x80);
            } else {
                let lz = x.leading_zeros() / 8;
                let tz = x.trailing_zeros() / 8;
                out.push(((lz << 4) | tz) as u8);
                let be = x.to_be_bytes();
                out.extend_from_slice(&be[lz as usize..(8 - tz) as usize]);
            }
        }
        prev = bits;
    }
}

/// The smallest decimal scale at which every value is an exact integer.
fn as_scaled_ints(samples: &[Sample]) -> Option<(u32, Vec<i64>)> {
    'scale: for scale in 0..=MAX_SCALE {
        let p = POW10[scale as usize];
        let mut ints = Vec::with_capacity(samples.len());
        for s in samples {
            let i = (s.v * p).round();
            // Compare what decoding will produce (`-0.0` becomes `0.0`, say).
            if !i.is_finite()
                || i.abs() >= MAX_INT
                || ((i as i64) as f64 / p).to_bits() != s.v.to_bits()
            {
                continue 'scale;
            }
            ints.push(i as i64);
        }
        return Some((scale, ints));
    }
    None
}

/// Appends the decoded samples to `out`; `None` when the bytes are damaged.
pub(crate) fn decode_into(data: &[u8], out: &mut Vec<Sample>) -> Option<()> {
    let mut r = Reader::new(data);
    let n = usize::try_from(r.uvarint()?).ok()?;
    if n > data.len() * 8 {
        return None;
    }
    let start = out.len();
    out.reserve(n);
    let (mut t, mut d) = (0i64, 0i64);
    for i in 0..n {
        let x = r.varint()?;
        match i {
            0 => t = x,
            1 => {
                d = x;
                t = t.wrapping_add(d);
            }
            _ => {
                d = d.wrapping_add(x);
                t = t.wrapping_add(d);
            }
        }
        out.push(Sample::new(t, 0.0));
    }
    let mode = r.u8()?;
    let samples = &mut out[start..];
    match mode & 0x0f {
        MODE_INT_DELTA | MODE_INT_DOD => {
            let scale = u32::from(mode >> 4);
            if scale > MAX_SCALE {
                return None;
            }
            let p = POW10[scale as usize];
            let dod = mode & 0x0f == MODE_INT_DOD;
            let (mut v, mut d) = (0i64, 0i64);
            for (i, s) in samples.iter_mut().enumerate() {
                let x = r.varint()?;
                d = if dod && i > 1 { d.wrapping_add(x) } else { x };
                v = v.wrapping_add(d);
                s.v = v as f64 / p;
            }
        }
        MODE_FLOAT => {
            let mut prev = 0u64;
            for (i, s) in samples.iter_mut().enumerate() {
                if i == 0 {
                    prev = r.u64_le()?;
                } else {
                    let c = r.u8()?;
                    if c != 0x80 {
                        let lz = usize::from(c >> 4);
                        let tz = usize::from(c & 0x0f);
                        if lz + tz >= 8 {
                            return None;
                        }
                        let mid = r.take(8 - lz - tz)?;
                        let mut be = [0u8; 8];
                        be[lz..8 - tz].copy_from_slice(mid);
                        prev ^= u64::from_be_bytes(be);
                    }
                }
                s.v = f64::from_bits(prev);
            }
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::STALE_NAN;

    fn round_trip(samples: &[Sample]) -> usize {
        let mut buf = Vec::new();
        encode(samples, &mut buf);
        let mut got = Vec::new();
        decode_into(&buf, &mut got).unwrap();
        assert_eq!(got.len(), samples.len());
        for (g, w) in got.iter().zip(samples) {
            assert_eq!(g.t, w.t);
            assert_eq!(
                g.v.to_bits(),
                w.v.to_bits(),
                "at t={}: {} vs {}",
                w.t,
                g.v,
                w.v
            );
        }
        buf.len()
    }

    #[test]
    fn special_values_and_timestamps() {
        let vals = [
            0.0,
            -0.0,
            f64::NAN,
            STALE_NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            1e300,
            -3.5,
            STALE_NAN,
        ];
        let ts = [
            i64::MIN / 2,
            -10,
            0,
            7,
            8,
            1_000_000,
            999,
            1_000_001,
            i64::MAX / 2,
            i64::MAX / 2 + 1,
        ];
        let s: Vec<Sample> = ts
            .iter()
            .zip(vals)
            .map(|(t, v)| Sample::new(*t, v))
            .collect();
        round_trip(&s);
        assert_eq!(round_trip(&[]), 2);
        round_trip(&[Sample::new(5, 1.0)]);
    }

    #[test]
    fn integers_and_decimals_use_int_modes() {
        let counter: Vec<Sample> = (0..100)
            .map(|i| Sample::new(i * 15_000, (i * 17 + (i % 3)) as f64))
            .collect();
        let n = round_trip(&counter);
        assert!(n < 100 * 3, "{n}");
        let decimals: Vec<Sample> = (0..100)
            .map(|i| Sample::new(i * 15_000, ((i * 37 % 100) as f64) / 100.0))
            .collect();
        let mut buf = Vec::new();
        encode(&decimals, &mut buf);
        round_trip(&decimals);
        // mode byte sits after the timestamps; scale 2 int mode.
        assert!(buf.len() < 100 * 4);
        let negatives: Vec<Sample> = (0..50)
            .map(|i| Sample::new(i, -(i as f64) * 0.25))
            .collect();
        round_trip(&negatives);
        let big: Vec<Sample> = (0..5).map(|i| Sample::new(i, 9.0e15 + i as f64)).collect();
        round_trip(&big);
    }

    #[test]
    fn damaged_input_is_rejected() {
        let s: Vec<Sample> = (0..20)
            .map(|i| Sample::new(i, i as f64 * 0.1234567))
            .collect();
        let mut buf = Vec::new();
        encode(&s, &mut buf);
        let mut out = Vec::new();
        assert!(decode_into(&buf[..buf.len() - 2], &mut out).is_none());
    }
}
