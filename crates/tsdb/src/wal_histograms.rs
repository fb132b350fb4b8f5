//! The WAL record of native histogram samples (type
//! [`crate::wal::REC_HISTOGRAMS`]), kept apart from `wal.rs` so that the
//! float path's records stay as they are. `docs/format/wal.md` describes
//! the bytes.
//!
//! Like a samples record: the first series ref and timestamp absolute, then
//! per sample the ref and timestamp as deltas against them, followed by the
//! histogram. Whole counts (integer histograms, the common case) are
//! written as uvarints, other counts as 8-byte floats.

// The two counter-reset hint bits are the chunk header's, as in Prometheus.
use crate::chunk::histogram::{hint_bits, hint_of, put_spans, read_spans};
use crate::encoding::{put_uvarint, put_varint, Reader};
use sightline_core::FloatHistogram;

const INTEGER: u8 = 4;

fn put_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_bits().to_le_bytes());
}

fn put_count(out: &mut Vec<u8>, integer: bool, v: f64) {
    if integer {
        put_uvarint(out, v as u64);
    } else {
        put_f64(out, v);
    }
}

fn read_count(r: &mut Reader<'_>, integer: bool) -> Option<f64> {
    if integer {
        r.uvarint().map(|v| v as f64)
    } else {
        r.u64_le().map(f64::from_bits)
    }
}

/// Appends one histogram's bytes.
fn put_histogram(out: &mut Vec<u8>, h: &FloatHistogram) {
    let integer = h.has_integer_counts();
    out.push(hint_bits(h.counter_reset_hint) | if integer { INTEGER } else { 0 });
    put_varint(out, i64::from(h.schema));
    put_f64(out, h.zero_threshold);
    put_count(out, integer, h.zero_count);
    put_count(out, integer, h.count);
    put_f64(out, h.sum);
    put_spans(out, &h.positive_spans);
    put_spans(out, &h.negative_spans);
    for v in h.positive_buckets.iter().chain(&h.negative_buckets) {
        put_count(out, integer, *v);
    }
    put_uvarint(out, h.custom_values.len() as u64);
    for v in &h.custom_values {
        put_f64(out, *v);
    }
}

fn read_histogram(r: &mut Reader<'_>) -> Option<FloatHistogram> {
    let flags = r.u8()?;
    let integer = flags & INTEGER != 0;
    let schema = i32::try_from(r.varint()?).ok()?;
    let zero_threshold = f64::from_bits(r.u64_le()?);
    let zero_count = read_count(r, integer)?;
    let count = read_count(r, integer)?;
    let sum = f64::from_bits(r.u64_le()?);
    let positive_spans = read_spans(r)?;
    let negative_spans = read_spans(r)?;
    let n = |spans: &[sightline_core::histogram::Span]| -> Option<usize> {
        let n: u64 = spans.iter().map(|s| u64::from(s.length)).sum();
        (n <= r.remaining() as u64).then_some(n as usize)
    };
    let (np, nn) = (n(&positive_spans)?, n(&negative_spans)?);
    let positive_buckets = (0..np)
        .map(|_| read_count(r, integer))
        .collect::<Option<Vec<f64>>>()?;
    let negative_buckets = (0..nn)
        .map(|_| read_count(r, integer))
        .collect::<Option<Vec<f64>>>()?;
    let nc = usize::try_from(r.uvarint()?).ok()?;
    if nc > r.remaining() / 8 {
        return None;
    }
    let custom_values = (0..nc)
        .map(|_| r.u64_le().map(f64::from_bits))
        .collect::<Option<Vec<f64>>>()?;
    Some(FloatHistogram {
        counter_reset_hint: hint_of(flags),
        schema,
        zero_threshold,
        zero_count,
        count,
        sum,
        positive_spans,
        negative_spans,
        positive_buckets,
        negative_buckets,
        custom_values,
    })
}

/// Appends a histogram samples record to `out` (nothing for no samples).
pub(crate) fn encode(
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    samples: &[(u64, i64, FloatHistogram)],
) {
    scratch.clear();
    let Some(&(r0, t0, _)) = samples.first() else {
        return;
    };
    put_uvarint(scratch, r0);
    put_varint(scratch, t0);
    for (r, t, h) in samples {
        put_varint(scratch, (*r as i64).wrapping_sub(r0 as i64));
        put_varint(scratch, t.wrapping_sub(t0));
        put_histogram(scratch, h);
    }
    crate::wal::frame(out, crate::wal::REC_HISTOGRAMS, scratch);
}

/// Decodes a histogram samples record's body.
pub(crate) fn decode(body: &[u8]) -> Option<Vec<(u64, i64, FloatHistogram)>> {
    let mut r = Reader::new(body);
    let r0 = r.uvarint()?;
    let t0 = r.varint()?;
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let dr = r.varint()?;
        let dt = r.varint()?;
        let h = read_histogram(&mut r)?;
        out.push(((r0 as i64).wrapping_add(dr) as u64, t0.wrapping_add(dt), h));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::histogram::CounterResetHint;
    use sightline_core::histogram::Span;

    #[test]
    fn histogram_records_round_trip() {
        let int = FloatHistogram {
            counter_reset_hint: CounterResetHint::CounterReset,
            schema: 3,
            zero_threshold: 1e-128,
            zero_count: 2.0,
            count: 12.0,
            sum: 3.25,
            positive_spans: vec![
                Span {
                    offset: -3,
                    length: 2,
                },
                Span {
                    offset: 4,
                    length: 1,
                },
            ],
            positive_buckets: vec![1.0, 5.0, 2.0],
            negative_spans: vec![Span {
                offset: 0,
                length: 1,
            }],
            negative_buckets: vec![2.0],
            ..Default::default()
        };
        let float = FloatHistogram {
            count: 1.5,
            schema: -53,
            custom_values: vec![0.5, 1.0],
            zero_threshold: 0.0,
            zero_count: 0.0,
            negative_spans: vec![],
            negative_buckets: vec![],
            positive_spans: vec![Span {
                offset: 0,
                length: 3,
            }],
            positive_buckets: vec![0.5, 0.25, 0.75],
            ..int.clone()
        };
        let stale = FloatHistogram::stale_marker();
        let list = vec![(7, 1000, int), (9, 990, float), (7, 2000, stale)];
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        encode(&mut out, &mut scratch, &list);
        // 9 header bytes (type, length, crc), then the body.
        assert_eq!(out[0], crate::wal::REC_HISTOGRAMS);
        let got = decode(&out[9..]).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], list[0]);
        assert_eq!(got[1], list[1]);
        assert!(got[2].2.is_stale());
        assert!(decode(&out[9..out.len() - 3]).is_none());
    }
}
