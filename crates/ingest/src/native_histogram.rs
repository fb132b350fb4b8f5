//! Native histograms from the wire: remote write's `prometheus.Histogram`
//! (1.0 and 2.0 share it) converted to core's [`FloatHistogram`].
//!
//! Integer histograms (the `count_int` variant, or no count at all) carry
//! bucket counts as deltas, each relative to the previous bucket; they are
//! checked as Prometheus 2.42's `tsdb.ValidateHistogram` checks them, in
//! its order and with its messages (negative side's spans, positive side's
//! spans, then each side's counts, then the total), before the deltas
//! become absolute counts. Float histograms (`count_float`, which 2.42's
//! receiver does not take apart; newer Prometheus does) and custom-bucket
//! histograms (schema -53) are checked by [`FloatHistogram::validate`].
//! A histogram whose sum has the staleness NaN's bits is a staleness
//! marker and is not checked.

use sightline_core::histogram::{absolute_from_deltas, CounterResetHint, Span};
use sightline_core::{FloatHistogram, STALE_NAN_BITS};
use sightline_proto::prometheus::{histogram, BucketSpan, Histogram};

/// Converts and checks one wire histogram. The error is Prometheus's text.
pub fn from_remote_write(h: &Histogram) -> Result<FloatHistogram, String> {
    if h.sum.to_bits() == STALE_NAN_BITS {
        return Ok(FloatHistogram {
            counter_reset_hint: hint(h.reset_hint),
            ..FloatHistogram::stale_marker()
        });
    }
    let spans = |s: &[BucketSpan]| -> Vec<Span> {
        s.iter()
            .map(|s| Span {
                offset: s.offset,
                length: s.length,
            })
            .collect()
    };
    let (positive_spans, negative_spans) = (spans(&h.positive_spans), spans(&h.negative_spans));
    let float = matches!(h.count, Some(histogram::Count::CountFloat(_)));
    let fh = if float {
        FloatHistogram {
            counter_reset_hint: hint(h.reset_hint),
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: match h.zero_count {
                Some(histogram::ZeroCount::ZeroCountFloat(v)) => v,
                Some(histogram::ZeroCount::ZeroCountInt(v)) => v as f64,
                None => 0.0,
            },
            count: match h.count {
                Some(histogram::Count::CountFloat(v)) => v,
                _ => 0.0,
            },
            sum: h.sum,
            positive_buckets: h.positive_counts.clone(),
            negative_buckets: h.negative_counts.clone(),
            positive_spans,
            negative_spans,
            custom_values: h.custom_values.clone(),
        }
    } else {
        check_spans("negative", &negative_spans, h.negative_deltas.len())?;
        check_spans("positive", &positive_spans, h.positive_deltas.len())?;
        let neg = check_deltas("negative", &h.negative_deltas)?;
        let pos = check_deltas("positive", &h.positive_deltas)?;
        let count = match h.count {
            Some(histogram::Count::CountInt(v)) => v,
            _ => 0,
        };
        if neg + pos > count {
            return Err(format!(
                "{} observations found in buckets, but the Count field is {count}: histogram's observation count should be at least the number of observations found in the buckets",
                neg + pos
            ));
        }
        FloatHistogram {
            counter_reset_hint: hint(h.reset_hint),
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: match h.zero_count {
                Some(histogram::ZeroCount::ZeroCountInt(v)) => v as f64,
                Some(histogram::ZeroCount::ZeroCountFloat(v)) => v,
                None => 0.0,
            },
            count: count as f64,
            sum: h.sum,
            positive_buckets: absolute_from_deltas(&h.positive_deltas),
            negative_buckets: absolute_from_deltas(&h.negative_deltas),
            positive_spans,
            negative_spans,
            custom_values: h.custom_values.clone(),
        }
    };
    fh.validate().map_err(|e| e.message().to_string())?;
    Ok(fh)
}

fn hint(v: i32) -> CounterResetHint {
    match histogram::ResetHint::try_from(v) {
        Ok(histogram::ResetHint::Yes) => CounterResetHint::CounterReset,
        Ok(histogram::ResetHint::No) => CounterResetHint::NotCounterReset,
        Ok(histogram::ResetHint::Gauge) => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}

/// 2.42's `checkHistogramSpans`, with the side prefixed as its caller wraps it.
fn check_spans(side: &str, spans: &[Span], buckets: usize) -> Result<(), String> {
    let mut need = 0u64;
    for (n, s) in spans.iter().enumerate() {
        if n > 0 && s.offset < 0 {
            return Err(format!(
                "{side} side: span number {} with offset {}: histogram has a span whose offset is negative",
                n + 1,
                s.offset
            ));
        }
        need += u64::from(s.length);
    }
    if need != buckets as u64 {
        return Err(format!(
            "{side} side: spans need {need} buckets, have {buckets} buckets: histogram spans specify different number of buckets than provided"
        ));
    }
    Ok(())
}

/// 2.42's `checkHistogramBuckets`: every absolute count non-negative;
/// returns their total.
fn check_deltas(side: &str, deltas: &[i64]) -> Result<u64, String> {
    let (mut last, mut total) = (0i64, 0u64);
    for (i, d) in deltas.iter().enumerate() {
        let c = last.wrapping_add(*d);
        if c < 0 {
            return Err(format!(
                "{side} side: bucket number {} has observation count of {c}: histogram has a bucket whose observation count is negative",
                i + 1
            ));
        }
        last = c;
        total = total.wrapping_add(c as u64);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(offset: i32, length: u32) -> BucketSpan {
        BucketSpan { offset, length }
    }

    fn int(count: u64, pos: Vec<i64>, spans: Vec<BucketSpan>) -> Histogram {
        Histogram {
            count: Some(histogram::Count::CountInt(count)),
            zero_count: Some(histogram::ZeroCount::ZeroCountInt(1)),
            sum: 10.5,
            schema: 1,
            zero_threshold: 0.001,
            positive_spans: spans,
            positive_deltas: pos,
            timestamp: 1000,
            ..Default::default()
        }
    }

    #[test]
    fn integer_deltas_become_absolute_counts() {
        let h =
            from_remote_write(&int(9, vec![2, 1, -3, 4], vec![span(-1, 2), span(2, 2)])).unwrap();
        assert_eq!(h.positive_buckets, vec![2.0, 3.0, 0.0, 4.0]);
        assert_eq!(h.count, 9.0);
        assert_eq!(h.zero_count, 1.0);
        assert_eq!(h.schema, 1);
        assert_eq!(
            h.positive_spans[1],
            Span {
                offset: 2,
                length: 2
            }
        );
    }

    #[test]
    fn invalid_integer_histograms_get_prometheus_messages() {
        let e = from_remote_write(&int(9, vec![2, 1], vec![span(0, 3)])).unwrap_err();
        assert_eq!(e, "positive side: spans need 3 buckets, have 2 buckets: histogram spans specify different number of buckets than provided");
        let e = from_remote_write(&int(9, vec![2, -3], vec![span(0, 2)])).unwrap_err();
        assert_eq!(e, "positive side: bucket number 2 has observation count of -1: histogram has a bucket whose observation count is negative");
        let e = from_remote_write(&int(9, vec![2, 1], vec![span(0, 1), span(-2, 1)])).unwrap_err();
        assert!(
            e.starts_with("positive side: span number 2 with offset -2"),
            "{e}"
        );
        let e = from_remote_write(&int(4, vec![2, 1], vec![span(0, 2)])).unwrap_err();
        assert_eq!(e, "5 observations found in buckets, but the Count field is 4: histogram's observation count should be at least the number of observations found in the buckets");
    }

    #[test]
    fn float_custom_bucket_and_stale_histograms() {
        let f = Histogram {
            count: Some(histogram::Count::CountFloat(2.5)),
            sum: 1.0,
            schema: -53,
            custom_values: vec![0.5, 1.0],
            positive_spans: vec![span(0, 3)],
            positive_counts: vec![1.0, 0.5, 1.0],
            reset_hint: histogram::ResetHint::Gauge as i32,
            ..Default::default()
        };
        let h = from_remote_write(&f).unwrap();
        assert_eq!(h.positive_buckets, vec![1.0, 0.5, 1.0]);
        assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
        let bad = Histogram {
            custom_values: vec![1.0, 0.5],
            ..f
        };
        assert!(from_remote_write(&bad)
            .unwrap_err()
            .contains("strictly increasing"));
        let stale = Histogram {
            sum: sightline_core::STALE_NAN,
            positive_deltas: vec![5],
            ..Default::default()
        };
        assert!(from_remote_write(&stale).unwrap().is_stale());
    }
}
