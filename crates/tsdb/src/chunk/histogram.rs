//! Native histogram chunks (encodings 4 and 5).
//!
//! One chunk holds a run of histogram samples of one series that share a
//! *layout family*: the same schema, zero threshold and custom bounds. The
//! bucket layout (the spans) is written once, in the header, as the union
//! of every sample's spans; a sample that lacks a bucket of the union reads
//! back with a zero count there (a bucket that appears later in a counter
//! was zero before, so nothing is lost that PromQL could see). This is what
//! Prometheus's appender achieves by re-encoding a chunk when new buckets
//! appear; here the union is computed when the chunk is encoded, because
//! the head keeps its open histogram chunk decoded.
//!
//! - Encoding 4 ([`ENC_HISTOGRAM`]): every count is a whole number (scrapes
//!   and remote write of integer histograms, the common case). Count, zero
//!   count and each bucket are written per sample as zig-zag varints: the
//!   first value, then deltas, or (a header bit) delta-of-deltas from the
//!   third sample on, whichever the encoder finds cheaper for the chunk.
//!   Observations arriving at random make a bucket's increments Poisson
//!   distributed, and those cost fewer bits as deltas than as the
//!   difference of two increments; steady synthetic rates favour
//!   delta-of-deltas.
//! - Encoding 5 ([`ENC_FLOAT_HISTOGRAM`]): counts as floats, each XOR'd with
//!   the same bucket's previous value (a control byte and the changed middle
//!   bytes, as the block float encoding).
//!
//! In both, timestamps are delta-of-delta varints and the sum is XOR'd with
//! the previous sum. The body is column-major (every timestamp, then each
//! column's values over the chunk, then every sum): a bucket's values sit
//! together, which the block's zstd pass compresses better. Only the first sample's counter-reset hint is stored
//! (in the header); later samples of a chunk read back as `NotCounterReset`,
//! or `Gauge` in a gauge chunk, so a detected or announced reset always
//! starts a new chunk ([`continues`]). Staleness markers fit any chunk:
//! they repeat the previous counts (all deltas zero) and carry the stale
//! sum. `docs/format/chunks.md` describes the bytes.

use crate::encoding::{put_uvarint, put_varint, Reader};
use sightline_core::histogram::{present_indexes, CounterResetHint, Span};
use sightline_core::{FloatHistogram, HistogramSample, STALE_NAN_BITS};

/// Integer-count histograms.
pub(crate) const ENC_HISTOGRAM: u8 = 4;
/// Float-count histograms.
pub(crate) const ENC_FLOAT_HISTOGRAM: u8 = 5;

pub(crate) fn hint_bits(h: CounterResetHint) -> u8 {
    match h {
        CounterResetHint::Unknown => 0,
        CounterResetHint::CounterReset => 1,
        CounterResetHint::NotCounterReset => 2,
        CounterResetHint::Gauge => 3,
    }
}

pub(crate) fn hint_of(bits: u8) -> CounterResetHint {
    match bits & 3 {
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}

/// Same schema, zero threshold and custom bounds: may share a chunk.
fn same_family(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    a.schema == b.schema
        && a.zero_threshold.to_bits() == b.zero_threshold.to_bits()
        && a.custom_values.len() == b.custom_values.len()
        && a.custom_values
            .iter()
            .zip(&b.custom_values)
            .all(|(x, y)| x.to_bits() == y.to_bits())
}

/// True when `cur` cannot continue the counter `prev` (same family): a
/// count or a bucket went down, or a bucket with observations vanished.
pub(crate) fn detect_reset(prev: &FloatHistogram, cur: &FloatHistogram) -> bool {
    if cur.count < prev.count || cur.zero_count < prev.zero_count {
        return true;
    }
    side_reset(
        &prev.positive_spans,
        &prev.positive_buckets,
        &cur.positive_spans,
        &cur.positive_buckets,
    ) || side_reset(
        &prev.negative_spans,
        &prev.negative_buckets,
        &cur.negative_spans,
        &cur.negative_buckets,
    )
}

fn side_reset(ps: &[Span], pb: &[f64], cs: &[Span], cb: &[f64]) -> bool {
    let mut cur = present_indexes(cs).zip(cb.iter().copied()).peekable();
    for (i, pv) in present_indexes(ps).zip(pb.iter().copied()) {
        while cur.peek().is_some_and(|(ci, _)| *ci < i) {
            cur.next();
        }
        match cur.peek() {
            Some(&(ci, cv)) if ci == i => {
                if cv < pv {
                    return true;
                }
            }
            _ => {
                if pv > 0.0 {
                    return true;
                }
            }
        }
    }
    false
}

/// Whether `cur` may be appended to the chunk holding `chunk` (whose first
/// sample carries the chunk's hint), and with which hint it is stored:
/// `Ok(hint)` to continue, `Err(hint)` to start a new chunk whose header
/// carries `hint`. Staleness markers always continue.
pub(crate) fn continues(
    chunk: &[HistogramSample],
    cur: &FloatHistogram,
) -> Result<CounterResetHint, CounterResetHint> {
    let gauge = cur.counter_reset_hint == CounterResetHint::Gauge;
    let Some(first) = chunk.first() else {
        return Err(cur.counter_reset_hint);
    };
    let chunk_gauge = first.h.counter_reset_hint == CounterResetHint::Gauge;
    let in_chunk = if chunk_gauge {
        CounterResetHint::Gauge
    } else {
        CounterResetHint::NotCounterReset
    };
    if cur.is_stale() {
        return Ok(in_chunk);
    }
    let Some(prev) = chunk.iter().rev().find(|s| !s.h.is_stale()) else {
        // Only staleness markers so far: this one leads a new chunk.
        return Err(cur.counter_reset_hint);
    };
    if gauge != chunk_gauge {
        return Err(cur.counter_reset_hint);
    }
    if !same_family(&prev.h, cur) {
        return Err(if gauge {
            CounterResetHint::Gauge
        } else {
            match cur.counter_reset_hint {
                CounterResetHint::NotCounterReset => CounterResetHint::Unknown,
                h => h,
            }
        });
    }
    if gauge {
        return Ok(CounterResetHint::Gauge);
    }
    if cur.counter_reset_hint == CounterResetHint::CounterReset || detect_reset(&prev.h, cur) {
        return Err(CounterResetHint::CounterReset);
    }
    Ok(CounterResetHint::NotCounterReset)
}

/// Hint to store for a sample that starts a chunk only because the previous
/// one was full or ended at a block boundary: it continues the counter.
pub(crate) fn continued_hint(cur: &FloatHistogram) -> CounterResetHint {
    match cur.counter_reset_hint {
        CounterResetHint::Gauge => CounterResetHint::Gauge,
        _ => CounterResetHint::NotCounterReset,
    }
}

/// Splits time-ordered samples (hints as [`continues`] left them) into
/// chunks of at most `max` samples, cut where [`continues`] says; calls `f`
/// with each run.
pub(crate) fn split_runs(
    samples: &[HistogramSample],
    max: usize,
    mut f: impl FnMut(&[HistogramSample]),
) {
    let mut start = 0;
    for i in 1..samples.len() {
        if i - start >= max || continues(&samples[start..i], &samples[i].h).is_err() {
            f(&samples[start..i]);
            start = i;
        }
    }
    if start < samples.len() {
        f(&samples[start..]);
    }
}

/// Sorted union of the present indexes of one side of every sample.
fn union_indexes<'a>(sides: impl Iterator<Item = &'a [Span]>) -> Vec<i32> {
    let mut out: Vec<i32> = Vec::new();
    let mut last: Option<&[Span]> = None;
    for spans in sides {
        if last == Some(spans) {
            continue;
        }
        last = Some(spans);
        let idx: Vec<i32> = present_indexes(spans).collect();
        if out.is_empty() {
            out = idx;
            continue;
        }
        if idx.iter().all(|i| out.binary_search(i).is_ok()) {
            continue;
        }
        out.extend(idx);
        out.sort_unstable();
        out.dedup();
    }
    out
}

fn spans_of(indexes: &[i32]) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut next = 0i32;
    for &i in indexes {
        match out.last_mut() {
            Some(s) if i == next => s.length += 1,
            Some(_) => {
                out.push(Span {
                    offset: i - next,
                    length: 1,
                });
            }
            None => out.push(Span {
                offset: i,
                length: 1,
            }),
        }
        next = i + 1;
    }
    out
}

/// `buckets` (over `spans`) spread onto the union `indexes`, zeros where
/// the sample has no bucket.
fn spread(indexes: &[i32], spans: &[Span], buckets: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.resize(indexes.len(), 0.0);
    let mut j = 0;
    for (i, v) in present_indexes(spans).zip(buckets) {
        while j < indexes.len() && indexes[j] < i {
            j += 1;
        }
        if j < indexes.len() && indexes[j] == i {
            out[j] = *v;
        }
    }
}

/// Writes `x = cur ^ prev` as a control byte (0 for no change, else
/// `1 + leading zero bytes * 8 + trailing zero bytes`) and the middle bytes.
fn put_xor(out: &mut Vec<u8>, cur: u64, prev: u64) {
    let x = cur ^ prev;
    if x == 0 {
        out.push(0);
        return;
    }
    let lz = x.leading_zeros() / 8;
    let tz = x.trailing_zeros() / 8;
    out.push((1 + lz * 8 + tz) as u8);
    let n = 8 - lz - tz;
    let mid = x >> (tz * 8);
    for k in (0..n).rev() {
        out.push((mid >> (k * 8)) as u8);
    }
}

fn read_xor(r: &mut Reader<'_>, prev: u64) -> Option<u64> {
    let c = r.u8()?;
    if c == 0 {
        return Some(prev);
    }
    let (lz, tz) = (u32::from(c - 1) / 8, u32::from(c - 1) % 8);
    if lz + tz > 7 {
        return None;
    }
    let mut mid = 0u64;
    for &b in r.take((8 - lz - tz) as usize)? {
        mid = (mid << 8) | u64::from(b);
    }
    Some(prev ^ (mid << (tz * 8)))
}

/// Delta (or delta-of-delta) state of one integer column.
#[derive(Clone, Copy, Default)]
struct Col {
    prev: i64,
    delta: i64,
}

impl Col {
    /// The number written for value `v` of sample `i`.
    fn next(&mut self, i: usize, v: i64, dod: bool) -> i64 {
        let d = v.wrapping_sub(self.prev);
        let x = match i {
            0 => v,
            1 => d,
            _ if dod => d.wrapping_sub(self.delta),
            _ => d,
        };
        self.delta = d;
        self.prev = v;
        x
    }

    fn get(&mut self, r: &mut Reader<'_>, i: usize, dod: bool) -> Option<i64> {
        let x = r.varint()?;
        let v = match i {
            0 => x,
            _ if i >= 2 && dod => self.prev.wrapping_add(self.delta.wrapping_add(x)),
            _ => self.prev.wrapping_add(x),
        };
        self.delta = v.wrapping_sub(self.prev);
        self.prev = v;
        Some(v)
    }
}

/// Bits of entropy-coder work a written number costs, roughly: what zstd
/// pays for it once the page is compressed.
fn cost(x: i64) -> u64 {
    u64::from(64 - crate::encoding::zigzag(x).leading_zeros())
}

pub(crate) fn put_spans(out: &mut Vec<u8>, spans: &[Span]) {
    put_uvarint(out, spans.len() as u64);
    for s in spans {
        put_varint(out, i64::from(s.offset));
        put_uvarint(out, u64::from(s.length));
    }
}

pub(crate) fn read_spans(r: &mut Reader<'_>) -> Option<Vec<Span>> {
    let n = usize::try_from(r.uvarint()?).ok()?;
    if n > r.remaining() {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(Span {
            offset: i32::try_from(r.varint()?).ok()?,
            length: u32::try_from(r.uvarint()?).ok()?,
        });
    }
    Some(out)
}

/// Appends the encoding of `samples` (one run: time-ordered, one layout
/// family, as [`split_runs`] cuts them) to `out`; returns the encoding.
pub(crate) fn encode(samples: &[HistogramSample], out: &mut Vec<u8>) -> u8 {
    let live = || samples.iter().filter(|s| !s.h.is_stale());
    let integer = live().all(|s| s.h.has_integer_counts());
    let layout = live()
        .next()
        .map_or_else(FloatHistogram::default, |s| s.h.clone());
    let pos = union_indexes(live().map(|s| s.h.positive_spans.as_slice()));
    let neg = union_indexes(live().map(|s| s.h.negative_spans.as_slice()));
    put_uvarint(out, samples.len() as u64);
    let hint = samples
        .first()
        .map_or(CounterResetHint::Unknown, |s| s.h.counter_reset_hint);
    let flags_at = out.len();
    out.push(hint_bits(hint));
    put_varint(out, i64::from(layout.schema));
    out.extend_from_slice(&layout.zero_threshold.to_bits().to_le_bytes());
    put_spans(out, &spans_of(&pos));
    put_spans(out, &spans_of(&neg));
    put_uvarint(out, layout.custom_values.len() as u64);
    for v in &layout.custom_values {
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    let ncols = 2 + pos.len() + neg.len();
    // Every sample's columns (count, zero count, buckets), staleness
    // markers repeating the previous sample's.
    let mut cols = vec![0f64; ncols * samples.len()];
    let (mut pb, mut nb) = (Vec::new(), Vec::new());
    for (i, s) in samples.iter().enumerate() {
        let (done, row) = cols.split_at_mut(i * ncols);
        let row = &mut row[..ncols];
        if s.h.is_stale() {
            if i > 0 {
                row.copy_from_slice(&done[(i - 1) * ncols..]);
            }
            continue;
        }
        spread(&pos, &s.h.positive_spans, &s.h.positive_buckets, &mut pb);
        spread(&neg, &s.h.negative_spans, &s.h.negative_buckets, &mut nb);
        row[0] = s.h.count;
        row[1] = s.h.zero_count;
        row[2..2 + pos.len()].copy_from_slice(&pb);
        row[2 + pos.len()..].copy_from_slice(&nb);
    }
    // Integer counts: deltas or delta-of-deltas, whichever costs less for
    // this chunk. Counts of observations that arrive at random (Poisson)
    // are cheaper as deltas; steady synthetic rates as delta-of-deltas.
    let dod = integer && {
        let (mut c_delta, mut c_dod) = (0u64, 0u64);
        let (mut a, mut b) = (vec![Col::default(); ncols], vec![Col::default(); ncols]);
        for (i, row) in cols.chunks_exact(ncols).enumerate() {
            for (k, v) in row.iter().enumerate() {
                c_delta += cost(a[k].next(i, *v as i64, false));
                c_dod += cost(b[k].next(i, *v as i64, true));
            }
        }
        c_dod < c_delta
    };
    out[flags_at] |= u8::from(dod) << 2;
    // Column by column: a bucket's values over the chunk sit together, so
    // the block's zstd pass sees runs of similar small numbers.
    let mut t = Col::default();
    for (i, s) in samples.iter().enumerate() {
        put_varint(out, t.next(i, s.t, true));
    }
    for k in 0..ncols {
        let mut state = Col::default();
        let mut prev = 0u64;
        for i in 0..samples.len() {
            let v = cols[i * ncols + k];
            if integer {
                put_varint(out, state.next(i, v as i64, dod));
            } else {
                put_xor(out, v.to_bits(), prev);
                prev = v.to_bits();
            }
        }
    }
    let mut prev_sum = 0u64;
    for s in samples {
        let sum = s.h.sum.to_bits();
        put_xor(out, sum, prev_sum);
        prev_sum = sum;
    }
    if integer {
        ENC_HISTOGRAM
    } else {
        ENC_FLOAT_HISTOGRAM
    }
}

/// Decodes a histogram chunk, appending its samples to `out`. `None` means
/// the bytes are damaged (what decoded before is still appended).
pub(crate) fn decode_into(encoding: u8, data: &[u8], out: &mut Vec<HistogramSample>) -> Option<()> {
    let integer = match encoding {
        ENC_HISTOGRAM => true,
        ENC_FLOAT_HISTOGRAM => false,
        _ => return None,
    };
    let mut r = Reader::new(data);
    let n = usize::try_from(r.uvarint()?).ok()?;
    if n > data.len() {
        return None;
    }
    let flags = r.u8()?;
    let first_hint = hint_of(flags);
    let dod = flags & 4 != 0;
    let schema = i32::try_from(r.varint()?).ok()?;
    let zero_threshold = f64::from_bits(r.u64_le()?);
    let pos_spans = read_spans(&mut r)?;
    let neg_spans = read_spans(&mut r)?;
    let ncustom = usize::try_from(r.uvarint()?).ok()?;
    if ncustom > r.remaining() / 8 {
        return None;
    }
    let custom_values: Vec<f64> = (0..ncustom)
        .map(|_| r.u64_le().map(f64::from_bits))
        .collect::<Option<_>>()?;
    let npos: u64 = pos_spans.iter().map(|s| u64::from(s.length)).sum();
    let nneg: u64 = neg_spans.iter().map(|s| u64::from(s.length)).sum();
    if npos + nneg > data.len() as u64 {
        return None;
    }
    let (npos, nneg) = (npos as usize, nneg as usize);
    let ncols = 2 + npos + nneg;
    let later_hint = if first_hint == CounterResetHint::Gauge {
        CounterResetHint::Gauge
    } else {
        CounterResetHint::NotCounterReset
    };
    let mut t = Col::default();
    let ts: Vec<i64> = (0..n)
        .map(|i| t.get(&mut r, i, true))
        .collect::<Option<_>>()?;
    // Column-major, as written. Every value takes at least a byte, which
    // bounds what damaged bytes can make us allocate.
    if ncols.checked_mul(n)? > data.len() {
        return None;
    }
    let mut vals = vec![0f64; ncols * n];
    for k in 0..ncols {
        let mut state = Col::default();
        let mut prev = 0u64;
        for i in 0..n {
            vals[i * ncols + k] = if integer {
                state.get(&mut r, i, dod)? as f64
            } else {
                prev = read_xor(&mut r, prev)?;
                f64::from_bits(prev)
            };
        }
    }
    let mut sum = 0u64;
    out.reserve(n);
    for (i, &ts) in ts.iter().enumerate() {
        sum = read_xor(&mut r, sum)?;
        let vals = &vals[i * ncols..(i + 1) * ncols];
        let hint = if i == 0 { first_hint } else { later_hint };
        let h = if sum == STALE_NAN_BITS {
            FloatHistogram {
                counter_reset_hint: hint,
                ..FloatHistogram::stale_marker()
            }
        } else {
            FloatHistogram {
                counter_reset_hint: hint,
                schema,
                zero_threshold,
                zero_count: vals[1],
                count: vals[0],
                sum: f64::from_bits(sum),
                positive_spans: pos_spans.clone(),
                negative_spans: neg_spans.clone(),
                positive_buckets: vals[2..2 + npos].to_vec(),
                negative_buckets: vals[2 + npos..].to_vec(),
                custom_values: custom_values.clone(),
            }
        };
        out.push(HistogramSample { t: ts, h });
    }
    Some(())
}

/// Encodes the head's open chunk or a run for a block and returns
/// `(encoding, bytes)`.
pub(crate) fn encode_vec(samples: &[HistogramSample]) -> (u8, Vec<u8>) {
    let mut out = Vec::new();
    let enc = encode(samples, &mut out);
    (enc, out)
}

#[cfg(test)]
#[path = "histogram_tests.rs"]
pub(crate) mod tests;
