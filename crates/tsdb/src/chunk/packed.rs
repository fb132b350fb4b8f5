//! The byte-aligned block chunk encoding (encoding 2).
//!
//! Layout (see `docs/format/chunks.md`): uvarint count; timestamps (the
//! first as a varint, the step, then each timestamp's distance from a grid
//! of that step, bit-packed); one mode byte; then the values in the mode's
//! representation.
//!
//! Scrapes run on a ticker, so their timestamps sit on a grid plus a few ms
//! of jitter. Delta-of-delta turns jitter `j` into `jᵢ - 2jᵢ₋₁ + jᵢ₋₂`,
//! four times the variance; the distance from the grid is `jᵢ - j₀`, which
//! costs about 1.5 bits less per sample once zstd has entropy-coded it. A
//! distance of half a step or more (a missed scrape, an irregular series)
//! moves the grid to that sample.
//!
//! Values:
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
/// Like [`MODE_INT_DELTA`] but the deltas after the first value are
/// written without zig-zag: counters only go up, and halving the magnitudes
/// keeps more deltas in one varint byte.
const MODE_INT_DELTA_UNSIGNED: u8 = 3;
const MAX_SCALE: u32 = 4;
const POW10: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10000.0];
/// Integers must stay exactly representable.
const MAX_INT: f64 = 9_007_199_254_740_992.0;

/// Appends the encoding of `samples` (time-ordered) to `out`.
pub(crate) fn encode(samples: &[Sample], out: &mut Vec<u8>) {
    put_uvarint(out, samples.len() as u64);
    if let Some(first) = samples.first() {
        put_varint(out, first.t);
    }
    if samples.len() > 1 {
        let step = median_step(samples);
        put_varint(out, step);
        let thr = grid_threshold(step);
        let mut g = samples[0].t;
        let mut rs = Vec::with_capacity(samples.len() - 1);
        for s in &samples[1..] {
            g = g.wrapping_add(step);
            let r = s.t.wrapping_sub(g);
            rs.push(r);
            if r.unsigned_abs() >= thr {
                g = s.t;
            }
        }
        pack_residuals(&rs, out);
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
        let rising = !dod && ints.windows(2).all(|w| w[1] >= w[0]);
        let mode = match (dod, rising) {
            (true, _) => MODE_INT_DOD,
            (false, true) => MODE_INT_DELTA_UNSIGNED,
            (false, false) => MODE_INT_DELTA,
        };
        out.push(mode | ((scale as u8) << 4));
        let (mut pd, mut pv) = (0i64, 0i64);
        for (i, v) in ints.iter().enumerate() {
            let d = v.wrapping_sub(pv);
            if rising && i > 0 {
                put_uvarint(out, d as u64);
            } else {
                put_varint(out, if dod && i > 1 { d.wrapping_sub(pd) } else { d });
            }
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

/// Writes grid distances as fixed-width codes: `lo`, the width `w`, then one
/// `w`-bit code per distance (`r - lo`, or all ones for "see the exception
/// list"), then the exceptions as varints. Jitter of a few ms takes 3 bits
/// a sample this way, close to its entropy; as varint bytes mixed with value
/// bytes, zstd's byte-oriented coder spent over 4.
fn pack_residuals(rs: &[i64], out: &mut Vec<u8>) {
    let mut sorted = rs.to_vec();
    sorted.sort_unstable();
    let n = rs.len() as u64;
    // w = 0: every distance equals lo.
    let (mut best_w, mut best_lo, mut best_cost) = (0u32, sorted[0], u64::MAX);
    if sorted[0] == sorted[sorted.len() - 1] {
        best_cost = 0;
    }
    for w in 1..=16u32 {
        let k = (1i128 << w) - 1; // values lo..lo+k-1 fit; code k escapes
        let (mut j, mut most, mut lo) = (0usize, 0usize, sorted[0]);
        for i in 0..sorted.len() {
            j = j.max(i);
            while j < sorted.len() && i128::from(sorted[j]) - i128::from(sorted[i]) < k {
                j += 1;
            }
            if j - i > most {
                most = j - i;
                lo = sorted[i];
            }
        }
        let cost = n * u64::from(w) + (n - most as u64) * 24;
        if cost < best_cost {
            (best_w, best_lo, best_cost) = (w, lo, cost);
        }
    }
    put_varint(out, best_lo);
    out.push(best_w as u8);
    if best_w == 0 {
        return;
    }
    let esc = (1u64 << best_w) - 1;
    let mut exceptions = Vec::new();
    let (mut acc, mut bits) = (0u64, 0u32);
    for &r in rs {
        let d = (i128::from(r) - i128::from(best_lo)) as u128;
        let code = if d < u128::from(esc) {
            d as u64
        } else {
            exceptions.push(r);
            esc
        };
        acc = (acc << best_w) | code;
        bits += best_w;
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1u64 << bits) - 1;
    }
    if bits > 0 {
        out.push((acc << (8 - bits)) as u8);
    }
    for r in exceptions {
        put_varint(out, r);
    }
}

/// Reads what [`pack_residuals`] wrote for `count` distances.
fn unpack_residuals(r: &mut Reader<'_>, count: usize) -> Option<Vec<i64>> {
    let lo = r.varint()?;
    let w = u32::from(r.u8()?);
    if w > 16 {
        return None;
    }
    if w == 0 {
        return Some(vec![lo; count]);
    }
    let packed = r.take((count * w as usize).div_ceil(8))?;
    let esc = (1u64 << w) - 1;
    let mut out = Vec::with_capacity(count);
    let (mut acc, mut bits, mut pos) = (0u64, 0u32, 0usize);
    let mut escaped = Vec::new();
    for i in 0..count {
        while bits < w {
            acc = (acc << 8) | u64::from(packed[pos]);
            pos += 1;
            bits += 8;
        }
        bits -= w;
        let code = (acc >> bits) & esc;
        acc &= (1u64 << bits) - 1;
        if code == esc {
            escaped.push(i);
            out.push(0);
        } else {
            out.push(lo.wrapping_add(code as i64));
        }
    }
    for i in escaped {
        out[i] = r.varint()?;
    }
    Some(out)
}

/// The median distance between neighbouring timestamps.
fn median_step(samples: &[Sample]) -> i64 {
    let mut d: Vec<i64> = samples
        .windows(2)
        .map(|w| w[1].t.wrapping_sub(w[0].t))
        .collect();
    let mid = d.len() / 2;
    *d.select_nth_unstable(mid).1
}

/// A distance from the grid at least this large re-anchors the grid.
fn grid_threshold(step: i64) -> u64 {
    (step.unsigned_abs() / 2).max(1)
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

/// Decodes a chunk, appending its samples to `out`. `None` means the
/// bytes are damaged.
pub(crate) fn decode_into(data: &[u8], out: &mut Vec<Sample>) -> Option<()> {
    decode_range_into(data, i64::MIN, i64::MAX, out)
}

/// Like [`decode_into`] but appends only the samples with `mint <= t <=
/// maxt`. Timestamps come first in the chunk, so the range is found before
/// any value is read; values before it are stepped over (their deltas
/// still add up) without being stored, and reading stops after it. A query
/// over the last minutes of a two-hour block chunk reads a few samples of
/// ~120; storing all of them was most of its decoding time.
///
/// Damage after the range goes unnoticed here; pages carry checksums, so
/// bytes that decode this far were written as they read.
pub(crate) fn decode_range_into(
    data: &[u8],
    mint: i64,
    maxt: i64,
    out: &mut Vec<Sample>,
) -> Option<()> {
    let mut r = Reader::new(data);
    let n = usize::try_from(r.uvarint()?).ok()?;
    if n > data.len() * 8 {
        return None;
    }
    let mut ts: Vec<i64> = Vec::with_capacity(n);
    if n > 0 {
        let t0 = r.varint()?;
        ts.push(t0);
        if n > 1 {
            let step = r.varint()?;
            let thr = grid_threshold(step);
            let rs = unpack_residuals(&mut r, n - 1)?;
            let mut g = t0;
            for x in rs {
                g = g.wrapping_add(step);
                let t = g.wrapping_add(x);
                if x.unsigned_abs() >= thr {
                    g = t;
                }
                ts.push(t);
            }
        }
    }
    let mode = r.u8()?;
    // Chunks are time-ordered, so the range is one run of indexes.
    let lo = ts.partition_point(|&t| t < mint);
    let hi = ts.partition_point(|&t| t <= maxt).max(lo);
    out.reserve(hi - lo);
    match mode & 0x0f {
        MODE_INT_DELTA | MODE_INT_DOD | MODE_INT_DELTA_UNSIGNED => {
            let scale = u32::from(mode >> 4);
            if scale > MAX_SCALE {
                return None;
            }
            let p = POW10[scale as usize];
            let dod = mode & 0x0f == MODE_INT_DOD;
            let unsigned = mode & 0x0f == MODE_INT_DELTA_UNSIGNED;
            let (mut v, mut d) = (0i64, 0i64);
            for (i, &t) in ts[..hi].iter().enumerate() {
                let x = if unsigned && i > 0 {
                    r.uvarint()? as i64
                } else {
                    r.varint()?
                };
                d = if dod && i > 1 { d.wrapping_add(x) } else { x };
                v = v.wrapping_add(d);
                if i >= lo {
                    // x / 1.0 is x: whole numbers (counters) skip the division.
                    let f = if scale == 0 { v as f64 } else { v as f64 / p };
                    out.push(Sample::new(t, f));
                }
            }
        }
        MODE_FLOAT => {
            let mut prev = 0u64;
            for (i, &t) in ts[..hi].iter().enumerate() {
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
                if i >= lo {
                    out.push(Sample::new(t, f64::from_bits(prev)));
                }
            }
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::fixtures::{
        assert_bit_exact, awkward_timestamp_series, special_value_series, SPECIAL_VALUES,
    };

    fn round_trip(samples: &[Sample]) -> usize {
        let mut buf = Vec::new();
        encode(samples, &mut buf);
        let mut got = Vec::new();
        decode_into(&buf, &mut got).unwrap();
        assert_bit_exact(&got, samples);
        buf.len()
    }

    #[test]
    fn special_values_and_timestamps() {
        round_trip(&special_value_series());
        for s in awkward_timestamp_series() {
            round_trip(&s);
        }
        // Unlike the head's encodings, this one takes timestamps that go
        // back, and up to half the i64 range apart.
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
            .zip(SPECIAL_VALUES)
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
    fn gaps_and_irregular_timestamps() {
        let mut ts = vec![
            0i64, 15_001, 29_998, 45_003, 120_000, 135_002, 135_003, 135_004, 400_000,
        ];
        ts.extend((0..50).map(|i| 400_000 + i * i * 37 + 1));
        let s: Vec<Sample> = ts.iter().map(|t| Sample::new(*t, 1.0)).collect();
        round_trip(&s);
        let neg: Vec<Sample> = [-100i64, -50, -49, 10, 1_000_000]
            .iter()
            .map(|t| Sample::new(*t, 2.0))
            .collect();
        round_trip(&neg);
    }

    #[test]
    fn range_decoding_keeps_exactly_the_samples_in_range() {
        let counters: Vec<Sample> = (0..120)
            .map(|i| Sample::new(60_000 * i + (i * 7) % 13, (i * 3) as f64))
            .collect();
        let decimals: Vec<Sample> = (0..50)
            .map(|i| Sample::new(1000 * i, f64::from(i as u32) * 0.25 - 3.0))
            .collect();
        let floats: Vec<Sample> = (0..50)
            .map(|i| Sample::new(1000 * i, (i as f64).sqrt()))
            .collect();
        let dod: Vec<Sample> = (0..50)
            .map(|i| Sample::new(1000 * i, (i * i) as f64))
            .collect();
        for samples in [&counters, &decimals, &floats, &dod, &Vec::new()] {
            let mut buf = Vec::new();
            encode(samples, &mut buf);
            let last = samples.last().map_or(0, |s| s.t);
            for (mint, maxt) in [
                (i64::MIN, i64::MAX),
                (last - 300_000, last),
                (0, 0),
                (1, 999),
                (5_000, 20_500),
                (last + 1, i64::MAX),
                (10, 5),
            ] {
                let mut got = vec![Sample::new(-1, 9.0)];
                decode_range_into(&buf, mint, maxt, &mut got).unwrap();
                let want: Vec<(i64, u64)> = std::iter::once((-1, 9f64.to_bits()))
                    .chain(
                        samples
                            .iter()
                            .filter(|s| s.t >= mint && s.t <= maxt)
                            .map(|s| (s.t, s.v.to_bits())),
                    )
                    .collect();
                let got: Vec<(i64, u64)> = got.iter().map(|s| (s.t, s.v.to_bits())).collect();
                assert_eq!(got, want, "[{mint}, {maxt}]");
            }
        }
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
