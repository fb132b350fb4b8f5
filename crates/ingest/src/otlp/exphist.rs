//! OTLP exponential histograms to Prometheus native histograms.
//!
//! An exponential histogram at scale `s` has buckets of base
//! `2^(2^-s)`; OTLP's bucket `i` holds `(base^i, base^(i+1)]`, Prometheus's
//! bucket `i` holds `(base^(i-1), base^i]`, so an OTLP index becomes the
//! Prometheus index `i + 1` and the scale becomes the schema. As in
//! Prometheus's receiver: scales above 8 are reduced to 8 by merging
//! buckets, scales below -4 cannot be stored (the point is refused), a
//! point without recorded value becomes a stale marker, and runs of up to
//! two empty buckets stay inside a span rather than opening a new one.

use opentelemetry_proto::tonic::metrics::v1::{
    exponential_histogram_data_point::Buckets, ExponentialHistogramDataPoint,
};

/// The largest schema Prometheus stores.
pub const MAX_SCHEMA: i32 = 8;
/// The smallest schema Prometheus stores.
pub const MIN_SCHEMA: i32 = -4;
/// The zero bucket width used when a point states none.
pub const DEFAULT_ZERO_THRESHOLD: f64 = 1e-128;

/// One sign's buckets: the OTLP index of the first, and their counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpBuckets {
    /// OTLP index of `counts[0]`.
    pub offset: i32,
    /// Counts of consecutive buckets.
    pub counts: Vec<u64>,
}

impl ExpBuckets {
    fn from_proto(b: Option<&Buckets>) -> Self {
        b.map(|b| ExpBuckets {
            offset: b.offset,
            counts: b.bucket_counts.clone(),
        })
        .unwrap_or_default()
    }

    /// Merges buckets `2^by` at a time (scale reduced by `by`).
    pub fn downscale(&mut self, by: u32) {
        if by == 0 || self.counts.is_empty() {
            return;
        }
        let first = self.offset >> by;
        let last = (self.offset + self.counts.len() as i32 - 1) >> by;
        let mut out = vec![0u64; (last - first + 1) as usize];
        for (k, c) in self.counts.iter().enumerate() {
            let i = (self.offset + k as i32) >> by;
            out[(i - first) as usize] += c;
        }
        self.offset = first;
        self.counts = out;
    }

    /// Adds `other` (same scale) bucket by bucket.
    pub fn add(&mut self, other: &ExpBuckets) {
        if other.counts.is_empty() {
            return;
        }
        if self.counts.is_empty() {
            *self = other.clone();
            return;
        }
        let first = self.offset.min(other.offset);
        let end =
            (self.offset + self.counts.len() as i32).max(other.offset + other.counts.len() as i32);
        let mut out = vec![0u64; (end - first) as usize];
        for src in [&*self, other] {
            for (k, c) in src.counts.iter().enumerate() {
                out[(src.offset - first) as usize + k] += c;
            }
        }
        self.offset = first;
        self.counts = out;
    }
}

/// An exponential histogram point, owned, so that delta points can be
/// summed into it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpPoint {
    /// The OTLP scale.
    pub scale: i32,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// All observations.
    pub count: u64,
    /// Sum of observations, when recorded.
    pub sum: Option<f64>,
    /// Buckets above zero.
    pub positive: ExpBuckets,
    /// Buckets below zero (by absolute value).
    pub negative: ExpBuckets,
}

impl ExpPoint {
    /// The point's histogram.
    pub fn from_proto(p: &ExponentialHistogramDataPoint) -> Self {
        ExpPoint {
            scale: p.scale,
            zero_count: p.zero_count,
            zero_threshold: p.zero_threshold,
            count: p.count,
            sum: p.sum,
            positive: ExpBuckets::from_proto(p.positive.as_ref()),
            negative: ExpBuckets::from_proto(p.negative.as_ref()),
        }
    }

    fn downscale_to(&mut self, scale: i32) {
        if scale < self.scale {
            let by = (self.scale - scale) as u32;
            self.positive.downscale(by);
            self.negative.downscale(by);
            self.scale = scale;
        }
    }

    /// Adds a delta point: both go to the smaller scale first.
    pub fn add(&mut self, other: &ExpPoint) {
        let mut other = other.clone();
        let scale = self.scale.min(other.scale);
        self.downscale_to(scale);
        other.downscale_to(scale);
        self.positive.add(&other.positive);
        self.negative.add(&other.negative);
        self.zero_count += other.zero_count;
        self.zero_threshold = self.zero_threshold.max(other.zero_threshold);
        self.count += other.count;
        self.sum = match (self.sum, other.sum) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
    }
}

/// A run of consecutive Prometheus buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Gap to the previous span's end (for the first span: the index of
    /// its first bucket).
    pub offset: i32,
    /// Buckets in the span.
    pub length: u32,
}

/// A native histogram sample as Prometheus stores it (integer counts,
/// buckets given as spans and absolute counts in span order).
#[derive(Debug, Clone, PartialEq)]
pub struct NativeHistogram {
    /// The schema (-4..=8).
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// All observations.
    pub count: u64,
    /// Sum of observations (the staleness marker for a stale point).
    pub sum: f64,
    /// Positive bucket spans.
    pub positive_spans: Vec<Span>,
    /// Positive bucket counts, absolute.
    pub positive_buckets: Vec<u64>,
    /// Negative bucket spans.
    pub negative_spans: Vec<Span>,
    /// Negative bucket counts, absolute.
    pub negative_buckets: Vec<u64>,
}

impl NativeHistogram {
    /// The histogram as the store takes it: absolute float counts. OTLP
    /// says nothing about resets, so the hint is unknown and the store
    /// detects them, as Prometheus's OTLP receiver leaves it.
    pub fn into_float(self) -> sightline_core::FloatHistogram {
        let spans = |v: Vec<Span>| {
            v.into_iter()
                .map(|s| sightline_core::histogram::Span {
                    offset: s.offset,
                    length: s.length,
                })
                .collect()
        };
        let counts = |v: Vec<u64>| v.into_iter().map(|c| c as f64).collect();
        sightline_core::FloatHistogram {
            counter_reset_hint: sightline_core::histogram::CounterResetHint::Unknown,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count: self.zero_count as f64,
            count: self.count as f64,
            sum: self.sum,
            positive_spans: spans(self.positive_spans),
            negative_spans: spans(self.negative_spans),
            positive_buckets: counts(self.positive_buckets),
            negative_buckets: counts(self.negative_buckets),
            custom_values: Vec::new(),
        }
    }
}

/// Why an exponential histogram cannot be stored.
pub fn check_scale(scale: i32) -> Result<(), String> {
    if scale < MIN_SCHEMA {
        return Err(format!(
            "cannot convert exponential to native histogram: scale must be >= {MIN_SCHEMA}, was {scale}"
        ));
    }
    Ok(())
}

/// Converts a (cumulative) exponential histogram; `stale` for a point
/// flagged as having no recorded value.
pub fn to_native(p: &ExpPoint, stale: bool) -> Result<NativeHistogram, String> {
    check_scale(p.scale)?;
    let mut p = p.clone();
    p.downscale_to(MAX_SCHEMA);
    let (positive_spans, positive_buckets) = layout(&p.positive);
    let (negative_spans, negative_buckets) = layout(&p.negative);
    let sum = if stale {
        sightline_core::STALE_NAN
    } else {
        p.sum.unwrap_or(0.0)
    };
    Ok(NativeHistogram {
        schema: p.scale,
        zero_threshold: if p.zero_threshold > 0.0 {
            p.zero_threshold
        } else {
            DEFAULT_ZERO_THRESHOLD
        },
        zero_count: p.zero_count,
        count: p.count,
        sum,
        positive_spans,
        positive_buckets,
        negative_spans,
        negative_buckets,
    })
}

/// Spans and counts for one sign: leading and trailing empty buckets
/// dropped, gaps of more than two empty buckets start a new span.
fn layout(b: &ExpBuckets) -> (Vec<Span>, Vec<u64>) {
    let mut spans: Vec<Span> = Vec::new();
    let mut counts = Vec::new();
    // Prometheus index of the bucket after the last one emitted.
    let mut next = 0i32;
    let mut zeros = 0i32;
    for (k, &c) in b.counts.iter().enumerate() {
        let idx = b.offset + k as i32 + 1;
        if c == 0 {
            zeros += 1;
            continue;
        }
        match spans.last_mut() {
            Some(s) if zeros <= 2 => {
                counts.extend(std::iter::repeat_n(0, zeros as usize));
                s.length += zeros as u32 + 1;
            }
            Some(_) => spans.push(Span {
                offset: idx - next,
                length: 1,
            }),
            None => spans.push(Span {
                offset: idx,
                length: 1,
            }),
        }
        counts.push(c);
        next = idx + 1;
        zeros = 0;
    }
    (spans, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(offset: i32, counts: &[u64]) -> ExpBuckets {
        ExpBuckets {
            offset,
            counts: counts.to_vec(),
        }
    }

    #[test]
    fn indexes_shift_by_one_and_gaps_split_spans() {
        let p = ExpPoint {
            scale: 0,
            zero_count: 1,
            count: 9,
            sum: Some(20.0),
            positive: b(-1, &[0, 2, 0, 0, 3, 0, 0, 0, 1, 0]),
            negative: b(2, &[2]),
            ..Default::default()
        };
        let h = to_native(&p, false).unwrap();
        // OTLP index 0 (first non-zero) is Prometheus index 1; indexes 3
        // and 7 follow, two zeros stay inline, three zeros split.
        assert_eq!(
            h.positive_spans,
            [
                Span {
                    offset: 1,
                    length: 4
                },
                Span {
                    offset: 3,
                    length: 1
                }
            ]
        );
        assert_eq!(h.positive_buckets, [2, 0, 0, 3, 1]);
        assert_eq!(
            h.negative_spans,
            [Span {
                offset: 3,
                length: 1
            }]
        );
        assert_eq!((h.schema, h.count, h.zero_count, h.sum), (0, 9, 1, 20.0));
        assert_eq!(h.zero_threshold, DEFAULT_ZERO_THRESHOLD);
    }

    #[test]
    fn scales_above_8_are_merged_and_below_minus_4_refused() {
        // Scale 10 to 8 merges 4 buckets: OTLP indexes 4..=7 -> 1, 8 -> 2.
        let p = ExpPoint {
            scale: 10,
            count: 5,
            positive: b(4, &[1, 1, 1, 1, 1]),
            ..Default::default()
        };
        let h = to_native(&p, false).unwrap();
        assert_eq!(h.schema, 8);
        assert_eq!(
            h.positive_spans,
            [Span {
                offset: 2,
                length: 2
            }]
        );
        assert_eq!(h.positive_buckets, [4, 1]);
        // Negative indexes round down: -1 >> 1 = -1, -2 >> 1 = -1, -3 >> 1 = -2.
        let mut n = b(-3, &[1, 1, 1]);
        n.downscale(1);
        assert_eq!(n, b(-2, &[1, 2]));
        assert!(to_native(
            &ExpPoint {
                scale: -5,
                ..Default::default()
            },
            false
        )
        .unwrap_err()
        .contains("scale must be >= -4, was -5"));
    }

    #[test]
    fn delta_points_add_at_the_smaller_scale() {
        let mut a = ExpPoint {
            scale: 1,
            count: 2,
            sum: Some(3.0),
            positive: b(0, &[1, 1]),
            ..Default::default()
        };
        a.add(&ExpPoint {
            scale: 0,
            count: 1,
            zero_count: 1,
            sum: Some(1.0),
            positive: b(2, &[0]),
            ..Default::default()
        });
        assert_eq!(a.scale, 0);
        assert_eq!(a.positive, b(0, &[2, 0, 0]));
        assert_eq!((a.count, a.zero_count, a.sum), (3, 1, Some(4.0)));
    }

    #[test]
    fn stale_points_carry_the_marker() {
        let h = to_native(&ExpPoint::default(), true).unwrap();
        assert!(sightline_core::is_stale_nan(h.sum));
    }
}
