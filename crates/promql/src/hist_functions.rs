//! Functions of native histograms: `histogram_count`, `histogram_sum`,
//! `histogram_avg`, `histogram_stddev`, `histogram_stdvar`, and the native
//! half of `histogram_quantile` and `histogram_fraction` (the classic half
//! over `le` buckets is in [`crate::functions`]).

use crate::aggregations::kahan_inc;
use crate::eval::{Evaluator, Row, ABSENT};
use promql_parser::parser::Expr;
use sightline_core::histogram::{present_indexes, Bucket, Span};
use sightline_core::FloatHistogram;

/// Prometheus's `HistogramStdDev`/`HistogramStdVar`: each bucket stands for
/// its geometric mean (arithmetic mean for custom buckets, 0 for the zero
/// bucket), weighted by its count.
fn variance(h: &FloatHistogram) -> f64 {
    let mean = h.sum / h.count;
    let (mut var, mut c) = (0.0, 0.0);
    for b in h.all_buckets() {
        if b.count == 0.0 {
            continue;
        }
        let v = if h.uses_custom_buckets() {
            (b.upper + b.lower) / 2.0
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            0.0
        } else {
            let g = (b.upper * b.lower).sqrt();
            if b.upper < 0.0 {
                -g
            } else {
                g
            }
        };
        let d = v - mean;
        (var, c) = kahan_inc(b.count * d * d, var, c);
    }
    (var + c) / h.count
}

/// What `histogram_quantile` found about NaN observations.
#[derive(Clone, Copy, PartialEq)]
enum NanNote {
    None,
    ResultNan,
    Skewed,
}

/// Prometheus's `HistogramQuantile` over a native histogram: walk the
/// buckets (from the top for q >= 0.5) to the rank, interpolate linearly
/// in custom and zero buckets, exponentially in exponential ones.
fn quantile(q: f64, h: &FloatHistogram) -> (f64, NanNote) {
    if q < 0.0 {
        return (f64::NEG_INFINITY, NanNote::None);
    }
    if q > 1.0 {
        return (f64::INFINITY, NanNote::None);
    }
    if h.count == 0.0 || q.is_nan() {
        return (f64::NAN, NanNote::None);
    }
    let nan_obs = h.sum.is_nan();
    let forward = nan_obs || q < 0.5;
    let mut rank = if forward {
        q * h.count
    } else {
        (1.0 - q) * h.count
    };
    // The walk of `h.all_buckets()` (reversed from the top for q >= 0.5)
    // over counts only: bounds are computed for the chosen bucket alone.
    let (nn, pn) = (
        side_len(&h.negative_spans, &h.negative_buckets),
        side_len(&h.positive_spans, &h.positive_buckets),
    );
    let zero = (!h.uses_custom_buckets() && (h.zero_threshold != 0.0 || h.zero_count != 0.0))
        .then_some(Slot::Zero);
    let mut count = 0.0;
    let mut chosen = None;
    let mut visit = |s: Slot| {
        let c = match s {
            Slot::Neg(k) => h.negative_buckets[k],
            Slot::Zero => h.zero_count,
            Slot::Pos(k) => h.positive_buckets[k],
        };
        if c == 0.0 {
            return false;
        }
        count += c;
        chosen = Some(s);
        count >= rank
    };
    if forward {
        let order = (0..nn)
            .rev()
            .map(Slot::Neg)
            .chain(zero)
            .chain((0..pn).map(Slot::Pos));
        for s in order {
            if visit(s) {
                break;
            }
        }
    } else {
        let order = (0..pn)
            .rev()
            .map(Slot::Pos)
            .chain(zero)
            .chain((0..nn).map(Slot::Neg));
        for s in order {
            if visit(s) {
                break;
            }
        }
    }
    let Some(mut b) = chosen.map(|s| slot_bucket(h, s)) else {
        // Every observation was NaN.
        let note = if nan_obs {
            NanNote::ResultNan
        } else {
            NanNote::None
        };
        return (f64::NAN, note);
    };
    if !h.uses_custom_buckets() && b.lower < 0.0 && b.upper > 0.0 {
        if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
            b.lower = 0.0;
        } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
            b.upper = 0.0;
        }
    } else if h.uses_custom_buckets() {
        if b.lower == f64::NEG_INFINITY {
            if b.upper <= 0.0 {
                return (b.upper, NanNote::None);
            }
            b.lower = 0.0;
        } else if b.upper == f64::INFINITY {
            return (b.lower, NanNote::None);
        }
    }
    if count > h.count {
        count = h.count;
    }
    if count < rank {
        // The rank lies among the NaN observations.
        return (f64::NAN, NanNote::ResultNan);
    }
    let note = if nan_obs {
        NanNote::Skewed
    } else {
        NanNote::None
    };
    if forward {
        rank -= count - b.count;
    } else {
        rank = count - rank;
    }
    let fraction = rank / b.count;
    if h.uses_custom_buckets() || (b.lower <= 0.0 && b.upper >= 0.0) {
        return (b.lower + (b.upper - b.lower) * fraction, note);
    }
    let (ll, lu) = (b.lower.abs().log2(), b.upper.abs().log2());
    if b.lower > 0.0 {
        return ((ll + (lu - ll) * fraction).exp2(), note);
    }
    (-(lu + (ll - lu) * (1.0 - fraction)).exp2(), note)
}

/// A bucket of a histogram by position: the `k`th negative or positive
/// count, or the zero bucket.
#[derive(Clone, Copy)]
enum Slot {
    Neg(usize),
    Zero,
    Pos(usize),
}

/// How many buckets of a side [`FloatHistogram::all_buckets`] yields (the
/// spans' indexes zipped with the counts).
fn side_len(spans: &[Span], counts: &[f64]) -> usize {
    let covered: usize = spans.iter().map(|s| s.length as usize).sum();
    covered.min(counts.len())
}

/// The bucket at `s`, with its bounds, as [`FloatHistogram::all_buckets`]
/// gives it.
fn slot_bucket(h: &FloatHistogram, s: Slot) -> Bucket {
    let index_of = |spans: &[Span], k: usize| present_indexes(spans).nth(k).unwrap_or(0);
    match s {
        Slot::Zero => Bucket {
            lower: -h.zero_threshold,
            upper: h.zero_threshold,
            lower_inclusive: true,
            upper_inclusive: true,
            count: h.zero_count,
            index: 0,
        },
        Slot::Pos(k) => {
            let index = index_of(&h.positive_spans, k);
            let (lower, upper) = h.bucket_bounds(index);
            Bucket {
                lower,
                upper,
                lower_inclusive: false,
                upper_inclusive: true,
                count: h.positive_buckets[k],
                index,
            }
        }
        Slot::Neg(k) => {
            let index = index_of(&h.negative_spans, k);
            let (lower, upper) = h.bucket_bounds(index);
            Bucket {
                lower: -upper,
                upper: -lower,
                lower_inclusive: true,
                upper_inclusive: false,
                count: h.negative_buckets[k],
                index,
            }
        }
    }
}

/// Prometheus's `HistogramFraction`: the share of observations between
/// `lower` and `upper`, interpolating within the buckets that hold them.
fn fraction(lower: f64, upper: f64, h: &FloatHistogram) -> f64 {
    if h.count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    for mut b in h.all_buckets() {
        let mut zero = false;
        if !h.uses_custom_buckets() && b.lower <= 0.0 && b.upper >= 0.0 {
            zero = true;
            if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
                b.lower = 0.0;
            } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
                b.upper = 0.0;
            }
        }
        if h.uses_custom_buckets() && b.lower == f64::NEG_INFINITY && b.upper > 0.0 {
            b.lower = 0.0;
        }
        let linear = h.uses_custom_buckets() || zero;
        let interpolate = |v: f64| {
            // An infinitely wide bucket is not interpolated: its
            // observations sit at its infinite end.
            if b.lower == f64::NEG_INFINITY {
                return rank + b.count;
            }
            if b.upper == f64::INFINITY {
                return rank;
            }
            if linear {
                rank + b.count * (v - b.lower) / (b.upper - b.lower)
            } else {
                let (ll, lu, lv) = (b.lower.abs().log2(), b.upper.abs().log2(), v.abs().log2());
                let f = if v > 0.0 {
                    (lv - ll) / (lu - ll)
                } else {
                    1.0 - (lv - lu) / (ll - lu)
                };
                rank + b.count * f
            }
        };
        if !lower_set && b.lower >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && b.lower >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && b.lower < lower && b.upper > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && b.lower < upper && b.upper > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank += b.count;
    }
    // A bound past every bucket ranks after all bucketed observations:
    // NaN observations (counted, in no bucket) are in no fraction.
    if !lower_set {
        lower_rank = rank;
    }
    if !upper_set {
        upper_rank = rank;
    }
    lower_rank = lower_rank.min(h.count);
    upper_rank = upper_rank.min(h.count);
    (upper_rank - lower_rank) / h.count
}

impl<'a> Evaluator<'a> {
    /// `histogram_count` and friends: one float per histogram cell; float
    /// cells give nothing.
    pub(crate) fn hist_property(&mut self, name: &str, rows: Vec<Row>) -> Vec<Row> {
        let mut out = Vec::new();
        for r in rows {
            let Some(cells) = &r.hists else { continue };
            let vals: Vec<f64> = cells
                .iter()
                .map(|c| match c {
                    None => ABSENT,
                    Some(h) => match name {
                        "histogram_count" => h.count,
                        "histogram_sum" => h.sum,
                        "histogram_avg" => h.sum / h.count,
                        "histogram_stddev" => variance(h).sqrt(),
                        _ => variance(h),
                    },
                })
                .collect();
            out.push(Row::floats(r.labels, true, vals));
        }
        out
    }

    /// The native half of `histogram_quantile` (`q` per step) or
    /// `histogram_fraction` (`lower`/`upper` per step): one row per input
    /// row holding histograms.
    pub(crate) fn native_quantiles(
        &mut self,
        q: Option<&[f64]>,
        bounds: Option<(&[f64], &[f64])>,
        rows: &[Row],
        varg: &Expr,
    ) -> Vec<Row> {
        let mut out = Vec::new();
        let (mut nan_result, mut skewed, mut nan_fraction) = (Vec::new(), Vec::new(), Vec::new());
        for r in rows {
            let Some(cells) = &r.hists else { continue };
            let metric = r.labels.metric_name().unwrap_or("").to_owned();
            let vals: Vec<f64> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| match c {
                    None => ABSENT,
                    Some(h) => match (q, bounds) {
                        (Some(q), _) => {
                            let (v, note) = quantile(q[i], h);
                            match note {
                                NanNote::ResultNan => nan_result.push(metric.clone()),
                                NanNote::Skewed => skewed.push(metric.clone()),
                                NanNote::None => {}
                            }
                            v
                        }
                        (None, Some((lo, hi))) => {
                            if h.sum.is_nan() {
                                nan_fraction.push(metric.clone());
                            }
                            fraction(lo[i], hi[i], h)
                        }
                        _ => ABSENT,
                    },
                })
                .collect();
            out.push(Row::floats(r.labels.clone(), true, vals));
        }
        let pos = self.pos(&varg.to_string());
        for m in nan_result {
            self.info(format!("input to histogram_quantile has NaN observations, result is NaN for metric name {m:?} {pos}"));
        }
        for m in skewed {
            self.info(format!("input to histogram_quantile has NaN observations, result is skewed higher for metric name {m:?} {pos}"));
        }
        for m in nan_fraction {
            self.info(format!("input to histogram_fraction has NaN observations, which are excluded from all fractions for metric name {m:?} {pos}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::histogram::Span;

    fn h() -> FloatHistogram {
        // schema 0, buckets (0.5,1]:1, (1,2]:2, (2,4]:1; sum 5, count 4.
        FloatHistogram {
            count: 4.0,
            sum: 5.0,
            positive_spans: vec![Span {
                offset: 0,
                length: 3,
            }],
            positive_buckets: vec![1.0, 2.0, 1.0],
            ..Default::default()
        }
    }

    #[test]
    fn quantiles_interpolate_exponentially() {
        // The median, rank 2 of 4, is half way through (1,2] (one
        // observation below, two in it): sqrt(2) on a log scale.
        assert!((quantile(0.5, &h()).0 - 2f64.sqrt()).abs() < 1e-12);
        // q=0.25: rank 1, the top of the first bucket.
        assert_eq!(quantile(0.25, &h()).0, 1.0);
        // q=0.375, rank 1.5: a quarter into (1,2]: 2^0.25.
        assert!((quantile(0.375, &h()).0 - 2f64.powf(0.25)).abs() < 1e-12);
        assert_eq!(quantile(1.5, &h()).0, f64::INFINITY);
    }

    #[test]
    fn fractions_add_up() {
        assert_eq!(fraction(0.0, 1.0, &h()), 0.25);
        assert_eq!(fraction(1.0, 4.0, &h()), 0.75);
        assert_eq!(fraction(f64::NEG_INFINITY, f64::INFINITY, &h()), 1.0);
    }

    #[test]
    fn infinitely_wide_custom_buckets_are_not_interpolated() {
        // issue 12: (-Inf,-3]:10, (-3,-2]:2, (-2,+Inf]:88. A bound inside
        // an infinite bucket counts that bucket wholly on its far side.
        let nhcb = FloatHistogram {
            schema: sightline_core::histogram::CUSTOM_BUCKETS_SCHEMA,
            count: 100.0,
            custom_values: vec![-3.0, -2.0],
            positive_spans: vec![Span {
                offset: 0,
                length: 3,
            }],
            positive_buckets: vec![10.0, 2.0, 88.0],
            ..Default::default()
        };
        assert_eq!(fraction(-4.0, -2.0, &nhcb), 0.02);
        assert_eq!(fraction(-3.0, 5.0, &nhcb), 0.02);
    }
}
