//! Native histograms: the sample type every layer shares.
//!
//! A native histogram (Prometheus's "sparse" or exponential histogram) is one
//! sample holding a count, a sum and a sparse set of buckets:
//!
//! - Exponential schemas `-4..=8`: bucket `i` of the positive side covers
//!   `(base^(i-1), base^i]` with `base = 2^(2^-schema)`; negative buckets
//!   mirror it; observations with `|v| <= zero_threshold` land in the zero
//!   bucket.
//! - [`CUSTOM_BUCKETS_SCHEMA`] (`-53`, "NHCB"): classic buckets carried as one
//!   sample; `custom_values` are the upper bounds, bucket `i` covers
//!   `(custom_values[i-1], custom_values[i]]` and the last index past the
//!   bounds is `+Inf`. There are no negative or zero buckets.
//!
//! Buckets are stored sparsely: [`Span`]s say which indexes are present and
//! the bucket vectors hold one count per present index, in order. Counts are
//! absolute here (not delta encoded as on the wire); integer histograms from
//! the wire are converted with [`absolute_from_deltas`]. A store may still
//! encode integer-valued histograms compactly: whether a histogram holds
//! only whole counts is a property ([`FloatHistogram::has_integer_counts`]),
//! not a separate type, so engines see one kind of histogram.
//!
//! A histogram whose `sum` has the bits of [`crate::STALE_NAN`] is a
//! staleness marker, as in Prometheus.

use crate::{Error, ErrorKind, Result, STALE_NAN, STALE_NAN_BITS};

mod ops;

pub use ops::{kahan_inc, target_index, Combined, Incompatible};

/// The schema of histograms with custom bucket bounds (classic buckets
/// carried as one native histogram sample).
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;
/// The smallest exponential schema (largest buckets: base 2^16).
pub const MIN_EXPONENTIAL_SCHEMA: i32 = -4;
/// The largest exponential schema (smallest buckets: base 2^(1/256)).
pub const MAX_EXPONENTIAL_SCHEMA: i32 = 8;

/// A run of consecutive present buckets. The first span's `offset` is the
/// index of its first bucket; every later span's `offset` is the number of
/// absent buckets between the previous span's end and its start (may be 0,
/// never negative after the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    /// Gap before this span (absolute start index for the first span).
    pub offset: i32,
    /// Number of consecutive buckets.
    pub length: u32,
}

/// What the writer knew about a counter reset at this sample, carried so a
/// store and `rate` do not have to guess (Prometheus's `CounterResetHint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum CounterResetHint {
    /// Nothing known: compare with the previous sample.
    #[default]
    Unknown,
    /// This sample starts a new counter (the previous one was reset).
    CounterReset,
    /// This sample continues the previous one without a reset.
    NotCounterReset,
    /// A gauge histogram: counts go up and down, there are no resets.
    Gauge,
}

/// A native histogram with float counts, as PromQL sees every native
/// histogram. See the module docs for the bucket layout.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    /// Counter-reset knowledge of the writer.
    pub counter_reset_hint: CounterResetHint,
    /// `-4..=8`, or [`CUSTOM_BUCKETS_SCHEMA`].
    pub schema: i32,
    /// Width of the zero bucket: observations with `|v| <= zero_threshold`.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: f64,
    /// Total observations (may exceed the buckets' total when NaN was observed).
    pub count: f64,
    /// Sum of observations; [`STALE_NAN`] bits for a staleness marker.
    pub sum: f64,
    /// Present positive buckets.
    pub positive_spans: Vec<Span>,
    /// Present negative buckets (always empty for custom buckets).
    pub negative_spans: Vec<Span>,
    /// Absolute counts, one per index covered by `positive_spans`.
    pub positive_buckets: Vec<f64>,
    /// Absolute counts, one per index covered by `negative_spans`.
    pub negative_buckets: Vec<f64>,
    /// Upper bounds of custom buckets, strictly increasing, no `+Inf`
    /// (only for [`CUSTOM_BUCKETS_SCHEMA`]).
    pub custom_values: Vec<f64>,
}

/// One bucket with its bounds, as iterated by [`FloatHistogram::positive_buckets`]
/// and [`FloatHistogram::negative_buckets`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Whether `lower` belongs to the bucket (true only for negative buckets).
    pub lower_inclusive: bool,
    /// Whether `upper` belongs to the bucket (true for positive buckets).
    pub upper_inclusive: bool,
    /// The bucket's count.
    pub count: f64,
    /// The bucket's index in its schema.
    pub index: i32,
}

/// One native histogram sample of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSample {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The histogram.
    pub h: FloatHistogram,
}

impl FloatHistogram {
    /// A staleness marker: an empty histogram whose sum is [`STALE_NAN`].
    pub fn stale_marker() -> Self {
        FloatHistogram {
            sum: STALE_NAN,
            ..FloatHistogram::default()
        }
    }

    /// True when this sample marks the series stale.
    pub fn is_stale(&self) -> bool {
        self.sum.to_bits() == STALE_NAN_BITS
    }

    /// True for the custom-buckets schema (NHCB).
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }

    /// True when every count is a whole, non-negative number, so the
    /// histogram could have come from an integer (wire) histogram.
    pub fn has_integer_counts(&self) -> bool {
        let whole = |v: f64| v >= 0.0 && v.fract() == 0.0 && v <= (1u64 << 53) as f64;
        whole(self.count)
            && whole(self.zero_count)
            && self.positive_buckets.iter().all(|&v| whole(v))
            && self.negative_buckets.iter().all(|&v| whole(v))
    }

    /// Checks the invariants Prometheus's `Validate` checks: a known schema,
    /// spans that cover exactly as many indexes as there are counts, no
    /// negative span offsets after the first, non-negative counts, custom
    /// bounds strictly increasing and finite, and no negative or zero
    /// buckets with custom bounds. Errors name the offending part.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::new(ErrorKind::BadData, m));
        if self.uses_custom_buckets() {
            if !self.negative_spans.is_empty() || !self.negative_buckets.is_empty() {
                return bad("histogram with custom buckets must not have negative buckets".into());
            }
            if self.zero_count != 0.0 || self.zero_threshold != 0.0 {
                return bad("histogram with custom buckets must not have a zero bucket".into());
            }
            if let Some(w) = self.custom_values.windows(2).find(|w| {
                w[0].partial_cmp(&w[1]) != Some(std::cmp::Ordering::Less) || !w[0].is_finite()
            }) {
                return bad(format!(
                    "custom buckets: bounds must be finite and strictly increasing, found {} then {}",
                    w[0], w[1]
                ));
            }
            if self.custom_values.last().is_some_and(|v| !v.is_finite()) {
                return bad(
                    "custom buckets: the last bound must be finite (+Inf is implied)".into(),
                );
            }
        } else if !(MIN_EXPONENTIAL_SCHEMA..=MAX_EXPONENTIAL_SCHEMA).contains(&self.schema) {
            return bad(format!(
                "histogram has an invalid schema, which must be between {MIN_EXPONENTIAL_SCHEMA} and {MAX_EXPONENTIAL_SCHEMA} or {CUSTOM_BUCKETS_SCHEMA}, got schema {}",
                self.schema
            ));
        } else if !self.custom_values.is_empty() {
            return bad("histogram with exponential schema must not have custom bounds".into());
        }
        check_side("positive", &self.positive_spans, &self.positive_buckets)?;
        check_side("negative", &self.negative_spans, &self.negative_buckets)?;
        if self.uses_custom_buckets() {
            // The last present index may be one past the bounds (+Inf).
            if let Some(last) = last_index(&self.positive_spans) {
                if last > self.custom_values.len() as i64 || first_index(&self.positive_spans) < 0 {
                    return bad(format!(
                        "custom buckets: bucket index {last} is outside the {} bounds",
                        self.custom_values.len()
                    ));
                }
            }
        }
        if self.zero_count < 0.0 {
            return bad(format!(
                "histogram has a negative zero count {}",
                self.zero_count
            ));
        }
        Ok(())
    }

    /// Positive buckets with their bounds, in index order.
    pub fn positive_buckets(&self) -> impl Iterator<Item = Bucket> + '_ {
        present_indexes(&self.positive_spans)
            .zip(self.positive_buckets.iter())
            .map(move |(index, &count)| {
                let (lower, upper) = self.bucket_bounds(index);
                Bucket {
                    lower,
                    upper,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count,
                    index,
                }
            })
    }

    /// Negative buckets with their bounds, in index order (so from the
    /// bucket nearest zero outwards).
    pub fn negative_buckets(&self) -> impl Iterator<Item = Bucket> + '_ {
        present_indexes(&self.negative_spans)
            .zip(self.negative_buckets.iter())
            .map(move |(index, &count)| {
                let (lower, upper) = self.bucket_bounds(index);
                Bucket {
                    lower: -upper,
                    upper: -lower,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count,
                    index,
                }
            })
    }

    /// `(lower, upper)` of the positive bucket at `index` in this
    /// histogram's schema (custom bounds for NHCB).
    pub fn bucket_bounds(&self, index: i32) -> (f64, f64) {
        if self.uses_custom_buckets() {
            let cv = &self.custom_values;
            let i = index.max(0) as usize;
            let lower = if i == 0 {
                f64::NEG_INFINITY
            } else {
                cv.get(i - 1).copied().unwrap_or(f64::INFINITY)
            };
            let upper = cv.get(i).copied().unwrap_or(f64::INFINITY);
            (lower, upper)
        } else {
            (
                exponential_upper_bound(self.schema, index - 1),
                exponential_upper_bound(self.schema, index),
            )
        }
    }
}

/// Upper bound of the positive bucket `index` in exponential `schema`:
/// `2^(index * 2^-schema)`, computed so that every power of two is exact.
pub fn exponential_upper_bound(schema: i32, index: i32) -> f64 {
    if schema < 0 {
        // Each bucket spans 2^(2^-schema) powers of two.
        let exp = (index as i64) << (-schema) as u32;
        return pow2(exp);
    }
    let per_power = 1i64 << schema as u32;
    let index = index as i64;
    let whole = index.div_euclid(per_power);
    let frac = index.rem_euclid(per_power);
    if frac == 0 {
        return pow2(whole);
    }
    pow2(whole) * (frac as f64 / per_power as f64).exp2()
}

fn pow2(exp: i64) -> f64 {
    if exp > 1023 {
        f64::INFINITY
    } else if exp < -1074 {
        0.0
    } else {
        (exp as f64).exp2()
    }
}

/// Converts wire-format delta-encoded counts (each bucket relative to the
/// previous one) to absolute counts.
pub fn absolute_from_deltas(deltas: &[i64]) -> Vec<f64> {
    let mut acc = 0i64;
    deltas
        .iter()
        .map(|&d| {
            acc = acc.wrapping_add(d);
            acc as f64
        })
        .collect()
}

/// The bucket indexes the spans cover, in order.
pub fn present_indexes(spans: &[Span]) -> impl Iterator<Item = i32> + '_ {
    let mut next = 0i32;
    let mut first = true;
    spans.iter().flat_map(move |s| {
        let start = if first { s.offset } else { next + s.offset };
        first = false;
        next = start + s.length as i32;
        start..next
    })
}

fn first_index(spans: &[Span]) -> i64 {
    spans.first().map_or(0, |s| s.offset as i64)
}

fn last_index(spans: &[Span]) -> Option<i64> {
    let mut next: Option<i64> = None;
    for s in spans {
        let start = match next {
            None => s.offset as i64,
            Some(n) => n + s.offset as i64,
        };
        next = Some(start + s.length as i64);
    }
    next.map(|n| n - 1)
}

fn check_side(side: &str, spans: &[Span], buckets: &[f64]) -> Result<()> {
    let covered: u64 = spans.iter().map(|s| s.length as u64).sum();
    if covered != buckets.len() as u64 {
        return Err(Error::new(
            ErrorKind::BadData,
            format!(
                "histogram spans need and buckets have different lengths: {side} spans need {covered} buckets, have {} buckets",
                buckets.len()
            ),
        ));
    }
    if let Some((i, s)) = spans.iter().enumerate().skip(1).find(|(_, s)| s.offset < 0) {
        return Err(Error::new(
            ErrorKind::BadData,
            format!("histogram has a span whose offset is negative: {side} span number {} with offset {}", i + 1, s.offset),
        ));
    }
    if let Some(v) = buckets.iter().find(|v| v.is_nan() || **v < 0.0) {
        return Err(Error::new(
            ErrorKind::BadData,
            format!("histogram has a negative or NaN {side} bucket count {v}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(schema: i32) -> FloatHistogram {
        FloatHistogram {
            schema,
            count: 5.0,
            sum: 12.5,
            zero_threshold: 0.001,
            zero_count: 1.0,
            positive_spans: vec![
                Span {
                    offset: 0,
                    length: 2,
                },
                Span {
                    offset: 1,
                    length: 1,
                },
            ],
            positive_buckets: vec![1.0, 2.0, 1.0],
            ..Default::default()
        }
    }

    #[test]
    fn bounds_of_exponential_buckets() {
        // schema 0: base 2, bucket i is (2^(i-1), 2^i].
        assert_eq!(exponential_upper_bound(0, 0), 1.0);
        assert_eq!(exponential_upper_bound(0, 3), 8.0);
        assert_eq!(exponential_upper_bound(0, -2), 0.25);
        // schema 1: base sqrt(2).
        assert_eq!(exponential_upper_bound(1, 2), 2.0);
        assert!((exponential_upper_bound(1, 1) - std::f64::consts::SQRT_2).abs() < 1e-15);
        // schema -1: base 4; schema -4: base 65536.
        assert_eq!(exponential_upper_bound(-1, 1), 4.0);
        assert_eq!(exponential_upper_bound(-4, 1), 65536.0);
        assert_eq!(exponential_upper_bound(-4, 64), f64::INFINITY);
    }

    #[test]
    fn iterates_present_buckets_with_bounds() {
        let h = exp(0);
        let b: Vec<(f64, f64, f64)> = h
            .positive_buckets()
            .map(|b| (b.lower, b.upper, b.count))
            .collect();
        // Indexes 0, 1 and 3: (0.5,1], (1,2], (4,8].
        assert_eq!(b, vec![(0.5, 1.0, 1.0), (1.0, 2.0, 2.0), (4.0, 8.0, 1.0)]);
        assert!(h.validate().is_ok());
        assert!(h.has_integer_counts());
    }

    #[test]
    fn negative_buckets_mirror_positive_ones() {
        let h = FloatHistogram {
            negative_spans: vec![Span {
                offset: 1,
                length: 1,
            }],
            negative_buckets: vec![3.0],
            ..exp(0)
        };
        let b = h.negative_buckets().next().unwrap();
        assert_eq!((b.lower, b.upper), (-2.0, -1.0));
        assert!(b.lower_inclusive && !b.upper_inclusive);
    }

    #[test]
    fn custom_bucket_bounds_end_in_infinity() {
        let h = FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 6.0,
            sum: 3.0,
            custom_values: vec![0.1, 0.5, 1.0],
            positive_spans: vec![Span {
                offset: 0,
                length: 4,
            }],
            positive_buckets: vec![1.0, 2.0, 2.0, 1.0],
            ..Default::default()
        };
        let b: Vec<(f64, f64)> = h.positive_buckets().map(|b| (b.lower, b.upper)).collect();
        assert_eq!(
            b,
            vec![
                (f64::NEG_INFINITY, 0.1),
                (0.1, 0.5),
                (0.5, 1.0),
                (1.0, f64::INFINITY)
            ]
        );
        assert!(h.validate().is_ok());
        let past = FloatHistogram {
            positive_spans: vec![Span {
                offset: 0,
                length: 5,
            }],
            positive_buckets: vec![1.0; 5],
            ..h
        };
        assert!(past.validate().is_err());
    }

    #[test]
    fn validate_names_the_mismatch() {
        let h = FloatHistogram {
            positive_buckets: vec![1.0, 2.0],
            ..exp(0)
        };
        let e = h.validate().unwrap_err().to_string();
        assert!(e.contains("positive spans need 3 buckets, have 2"), "{e}");
        let e = FloatHistogram {
            schema: 9,
            ..exp(0)
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("invalid schema"), "{e}");
        let h = FloatHistogram {
            positive_spans: vec![
                Span {
                    offset: 0,
                    length: 1,
                },
                Span {
                    offset: -1,
                    length: 2,
                },
            ],
            ..exp(0)
        };
        assert!(h.validate().is_err());
    }

    #[test]
    fn deltas_become_absolute_counts() {
        assert_eq!(
            absolute_from_deltas(&[2, 1, -3, 4]),
            vec![2.0, 3.0, 0.0, 4.0]
        );
    }

    #[test]
    fn staleness_marker_is_recognised() {
        assert!(FloatHistogram::stale_marker().is_stale());
        assert!(!exp(0).is_stale());
        let f = FloatHistogram {
            count: 1.5,
            ..exp(0)
        };
        assert!(!f.has_integer_counts());
    }
}
