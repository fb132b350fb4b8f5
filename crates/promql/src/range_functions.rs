//! Functions over range vectors: rate and friends, `*_over_time`,
//! regression, smoothing. Each runs over `(t - range, t]` windows of samples
//! read once for the whole query (see [`crate::eval::range::RangeInput`]).

use crate::aggregations::{go_g, kahan_inc};
use crate::error::{Error, Result};
use crate::eval::{windows, Evaluator, Row, Steps, Val, ABSENT};
use crate::functions::{absent_labels, quantile};
use promql_parser::parser::Expr;
use sightline_core::Sample;

pub(crate) fn is_range_function(name: &str) -> bool {
    matches!(
        name,
        "rate"
            | "irate"
            | "increase"
            | "delta"
            | "idelta"
            | "deriv"
            | "predict_linear"
            | "changes"
            | "resets"
            | "avg_over_time"
            | "min_over_time"
            | "max_over_time"
            | "sum_over_time"
            | "count_over_time"
            | "stddev_over_time"
            | "stdvar_over_time"
            | "last_over_time"
            | "first_over_time"
            | "quantile_over_time"
            | "mad_over_time"
            | "present_over_time"
            | "absent_over_time"
            | "double_exponential_smoothing"
            | "ts_of_min_over_time"
            | "ts_of_max_over_time"
            | "ts_of_last_over_time"
            | "ts_of_first_over_time"
    )
}

/// Least-squares fit of the samples; returns (slope per second, intercept at `t0`).
pub(crate) fn linear_regression(samples: &[Sample], t0: i64) -> (f64, f64) {
    let (mut n, mut sx, mut cx, mut sy, mut cy, mut sxy, mut cxy, mut sx2, mut cx2) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let init = samples[0].v;
    let mut const_y = true;
    for (i, s) in samples.iter().enumerate() {
        if const_y && i > 0 && s.v != init {
            const_y = false;
        }
        n += 1.0;
        let x = (s.t - t0) as f64 / 1000.0;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(s.v, sy, cy);
        (sxy, cxy) = kahan_inc(x * s.v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    if const_y {
        if init.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    (slope, sy / n - slope * sx / n)
}

/// The factor that extrapolates a difference between samples at `first_t`
/// and `last_t` (`n` samples) to the window `(start, end]`, divided by the
/// window's seconds for a rate. `zero_share` (counters) is the first
/// sample's value over the increase, which bounds the extrapolation to the
/// left at the counter's zero point.
pub(crate) fn extrapolation_factor(
    first_t: i64,
    last_t: i64,
    n: usize,
    start: i64,
    end: i64,
    zero_share: Option<f64>,
    rate: bool,
) -> f64 {
    let mut to_start = (first_t - start) as f64 / 1000.0;
    let mut to_end = (end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let avg_gap = sampled / (n - 1) as f64;
    // A sample close enough to a boundary (within 110% of the average gap)
    // means the series covers the range up to it; otherwise assume it
    // starts or ends half a gap beyond the first or last sample.
    let threshold = avg_gap * 1.1;
    if to_start >= threshold {
        to_start = avg_gap / 2.0;
    }
    if let Some(share) = zero_share {
        let to_zero = sampled * share;
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg_gap / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if rate {
        factor /= (end - start) as f64 / 1000.0;
    }
    factor
}

/// Prometheus's extrapolated rate/increase/delta over `(start, end]`.
pub(crate) fn extrapolated_rate(
    w: &[Sample],
    start: i64,
    end: i64,
    counter: bool,
    rate: bool,
) -> Option<f64> {
    if w.len() < 2 {
        return None;
    }
    let (first, last) = (w[0], w[w.len() - 1]);
    let mut result = last.v - first.v;
    if counter {
        let mut prev = 0.0;
        for s in w {
            if s.v < prev {
                result += prev;
            }
            prev = s.v;
        }
    }
    // A counter cannot go below zero: the first sample's share of the
    // increase bounds how far back it may be extrapolated.
    let zero_share = (counter && result > 0.0 && first.v >= 0.0).then(|| first.v / result);
    let factor = extrapolation_factor(first.t, last.t, w.len(), start, end, zero_share, rate);
    Some(result * factor)
}

fn instant_delta(w: &[Sample], rate: bool) -> Option<f64> {
    if w.len() < 2 {
        return None;
    }
    let (prev, last) = (w[w.len() - 2], w[w.len() - 1]);
    let mut v = if rate && last.v < prev.v {
        last.v
    } else {
        last.v - prev.v
    };
    let dt = last.t - prev.t;
    if dt == 0 {
        return None;
    }
    if rate {
        v /= dt as f64 / 1000.0;
    }
    Some(v)
}

fn mean(w: &[Sample]) -> f64 {
    let (mut sum, mut c, mut m) = (w[0].v, 0.0, 0.0);
    let mut incremental = false;
    for (i, s) in w.iter().enumerate().skip(1) {
        let count = (i + 1) as f64;
        if !incremental {
            let (ns, nc) = kahan_inc(s.v, sum, c);
            if !ns.is_infinite() {
                (sum, c) = (ns, nc);
                continue;
            }
            incremental = true;
            m = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (m, c) = kahan_inc(s.v / count, q * m, q * c);
    }
    if incremental {
        m + c
    } else {
        let n = w.len() as f64;
        sum / n + c / n
    }
}

fn variance(w: &[Sample]) -> f64 {
    let (mut count, mut m, mut cm, mut aux, mut ca) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for s in w {
        count += 1.0;
        let delta = s.v - (m + cm);
        (m, cm) = kahan_inc(delta / count, m, cm);
        (aux, ca) = kahan_inc(delta * (s.v - (m + cm)), aux, ca);
    }
    (aux + ca) / count
}

fn smoothing(w: &[Sample], sf: f64, tf: f64) -> Option<f64> {
    if w.len() < 2 {
        return None;
    }
    let (mut s0, mut s1) = (0.0, w[0].v);
    let mut b = w[1].v - w[0].v;
    for (i, s) in w.iter().enumerate().skip(1) {
        let x = sf * s.v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        s0 = s1;
        s1 = x + (1.0 - sf) * (s1 + b);
    }
    Some(s1)
}

/// One window of a float range function; `pi` indexes the per-step
/// parameters, `te` is the window end and `step_t` the step's own time.
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn float_window(
    name: &str,
    w: &[Sample],
    te: i64,
    range: i64,
    step_t: i64,
    pi: usize,
    p1: &[f64],
    p2: &[f64],
    scratch: &mut Vec<f64>,
    bad_q: &mut Vec<f64>,
) -> Option<f64> {
    match name {
        "rate" => extrapolated_rate(w, te - range, te, true, true),
        "increase" => extrapolated_rate(w, te - range, te, true, false),
        "delta" => extrapolated_rate(w, te - range, te, false, false),
        "irate" => instant_delta(w, true),
        "idelta" => instant_delta(w, false),
        "deriv" => (w.len() >= 2).then(|| linear_regression(w, w[0].t).0),
        "predict_linear" => (w.len() >= 2).then(|| {
            let (slope, icpt) = linear_regression(w, step_t);
            icpt + slope * p1[pi]
        }),
        "changes" => Some(
            w.windows(2)
                .filter(|p| !(p[0].v == p[1].v || (p[0].v.is_nan() && p[1].v.is_nan())))
                .count() as f64,
        ),
        "resets" => Some(w.windows(2).filter(|p| p[1].v < p[0].v).count() as f64),
        "avg_over_time" => Some(mean(w)),
        "sum_over_time" => {
            let (mut sum, mut c) = (0.0, 0.0);
            for x in w {
                (sum, c) = kahan_inc(x.v, sum, c);
            }
            Some(if sum.is_infinite() { sum } else { sum + c })
        }
        "count_over_time" => Some(w.len() as f64),
        "min_over_time" | "max_over_time" => {
            let max = name == "max_over_time";
            let mut m = w[0].v;
            for x in &w[1..] {
                if (max && x.v > m) || (!max && x.v < m) || m.is_nan() {
                    m = x.v;
                }
            }
            Some(m)
        }
        "ts_of_min_over_time" | "ts_of_max_over_time" => {
            let max = name == "ts_of_max_over_time";
            let (mut m, mut t) = (w[0].v, w[0].t);
            for x in &w[1..] {
                if (max && x.v >= m) || (!max && x.v <= m) || m.is_nan() {
                    m = x.v;
                    t = x.t;
                }
            }
            Some(t as f64 / 1000.0)
        }
        "stddev_over_time" => Some(variance(w).sqrt()),
        "stdvar_over_time" => Some(variance(w)),
        "last_over_time" => Some(w[w.len() - 1].v),
        "first_over_time" => Some(w[0].v),
        "ts_of_last_over_time" => Some(w[w.len() - 1].t as f64 / 1000.0),
        "ts_of_first_over_time" => Some(w[0].t as f64 / 1000.0),
        "present_over_time" => Some(1.0),
        "quantile_over_time" => {
            if p1[pi].is_nan() || !(0.0..=1.0).contains(&p1[pi]) {
                bad_q.push(p1[pi]);
            }
            scratch.clear();
            scratch.extend(w.iter().map(|x| x.v));
            Some(quantile(p1[pi], scratch))
        }
        "mad_over_time" if w.iter().any(|x| x.v.is_nan()) => Some(f64::NAN),
        "mad_over_time" => {
            scratch.clear();
            scratch.extend(w.iter().map(|x| x.v));
            let med = quantile(0.5, scratch);
            for x in scratch.iter_mut() {
                *x = (*x - med).abs();
            }
            Some(quantile(0.5, scratch))
        }
        "double_exponential_smoothing" => smoothing(w, p1[pi], p2[pi]),
        _ => None,
    }
}

impl<'a> Evaluator<'a> {
    pub fn eval_range_function(&mut self, name: &str, args: &[&Expr], s: &Steps) -> Result<Val> {
        let n = s.n;
        let marg = if name == "quantile_over_time" { 1 } else { 0 };
        let mut p1 = Vec::new();
        let mut p2 = Vec::new();
        match name {
            "quantile_over_time" => p1 = self.eval_scalar(args[0], s)?,
            "predict_linear" => p1 = self.eval_scalar(args[1], s)?,
            "double_exponential_smoothing" => {
                p1 = self.eval_scalar(args[1], s)?;
                p2 = self.eval_scalar(args[2], s)?;
            }
            _ => {}
        }
        let mut input = self.range_source(args[marg], s)?;
        // `@` pins every step to one window; parameters may still vary per
        // step, so the pinned window is evaluated at each step.
        let pinned = input.times.len() != n;
        if pinned {
            input.times = vec![input.times[0]; n];
        }

        if name == "double_exponential_smoothing" {
            for (&sf, &tf) in p1.iter().zip(&p2) {
                if !(sf > 0.0 && sf < 1.0) {
                    return Err(Error::exec(format!(
                        "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
                    )));
                }
                if !(tf > 0.0 && tf < 1.0) {
                    return Err(Error::exec(format!(
                        "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
                    )));
                }
            }
        }

        if name == "absent_over_time" {
            self.materialize(&mut input)?;
            let mut vals = vec![1.0; input.times.len()];
            input.for_each_window(|_, i, w| {
                if !w.is_empty() {
                    vals[i] = ABSENT;
                }
            });
            for r in &input.series {
                crate::eval::windows(&input.times, input.range, &r.hists, |i, w| {
                    if !w.is_empty() {
                        vals[i] = ABSENT;
                    }
                });
            }

            let vs = match args[0] {
                Expr::MatrixSelector(ms) => Some(&ms.vs),
                // A subquery's result has no selector labels to offer.
                _ => None,
            };
            if vals.iter().all(|v| v.to_bits() == ABSENT.to_bits()) {
                return Ok(Val::Vector(Vec::new()));
            }
            return Ok(Val::Vector(vec![Row {
                labels: absent_labels(vs),
                drop_name: false,
                vals,
                hists: None,
            }]));
        }

        let keep_name = matches!(name, "last_over_time" | "first_over_time");
        let range = input.range;
        let mut scratch: Vec<f64> = Vec::new();
        let mut bad_q: Vec<f64> = Vec::new();
        let times = std::mem::take(&mut input.times);
        let mut out: Vec<Row> = Vec::new();
        // Series by series: only one series' samples are held at a time.
        let mut seen = 0usize;
        input.for_each_series(|labels, drop_name, samples, hists| {
            seen += 1;
            if seen & 1023 == 0 {
                self.check_deadline()?;
            }
            if !hists.is_empty() {
                let row = self.hist_range_series(
                    name,
                    crate::hist_range::Series {
                        labels,
                        drop_name: drop_name || !keep_name,
                        floats: samples,
                        hists,
                    },
                    crate::hist_range::Params {
                        times: &times,
                        range,
                        steps: s,
                        p1: &p1,
                        p2: &p2,
                        arg: args[marg],
                    },
                    &mut scratch,
                    &mut bad_q,
                )?;
                out.extend(row);
                return Ok(());
            }
            self.add_samples(samples.len())?;
            let mut vals: Vec<f64> = Vec::new();
            windows(&times, range, samples, |i, w| {
                if w.is_empty() {
                    return;
                }
                let te = times[i];
                // predict_linear anchors at the step's own time even under `@`, as
                // Prometheus treats it as not step-invariant.
                let step_t = s.t(i);
                let pi = i;
                let v = float_window(
                    name,
                    w,
                    te,
                    range,
                    step_t,
                    pi,
                    &p1,
                    &p2,
                    &mut scratch,
                    &mut bad_q,
                );
                if let Some(v) = v {
                    if vals.is_empty() {
                        vals = vec![ABSENT; n];
                    }
                    vals[i] = v;
                }
            });
            self.samples -= samples.len();
            if !vals.is_empty() {
                out.push(Row {
                    labels,
                    drop_name: drop_name || !keep_name,
                    vals,
                    hists: None,
                });
            }
            Ok(())
        })?;
        if matches!(name, "rate" | "increase") {
            // As Prometheus: for every series rate/increase produced a value
            // for, a name without a counter suffix earns an info (unless a
            // `__type__` label says what the metric is).
            let mut suspects: Vec<String> = out
                .iter()
                .filter(|r| r.labels.get("__type__").is_none())
                .filter_map(|r| r.labels.metric_name())
                .filter(|m| {
                    !["_total", "_sum", "_count", "_bucket"]
                        .iter()
                        .any(|x| m.ends_with(x))
                })
                .map(str::to_owned)
                .collect();
            suspects.dedup();
            for m in suspects {
                let pos = self.pos(&args[marg].to_string()).replace("(1:1)", "");
                let pos = if pos.is_empty() { self.pos(&m) } else { pos };
                self.info(format!(
                    "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {m:?} {pos}"
                ));
            }
        }
        for q in bad_q {
            let pos = self.pos(&args[0].to_string());
            self.warn(format!(
                "quantile value should be between 0 and 1, got {} {pos}",
                go_g(q)
            ));
        }
        out.retain(|r| r.any());
        Ok(Val::Vector(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: i64, v: f64) -> Sample {
        Sample::new(t, v)
    }

    #[test]
    fn rate_extrapolates_to_the_window_edges_when_samples_are_regular() {
        // Samples every 15 s covering the whole 60 s window except 15 s at
        // the start: extrapolation reaches both edges.
        let w = [
            s(15_000, 1.0),
            s(30_000, 2.0),
            s(45_000, 3.0),
            s(60_000, 4.0),
        ];
        let inc = extrapolated_rate(&w, 0, 60_000, true, false).unwrap();
        assert!((inc - 4.0).abs() < 1e-9, "{inc}");
        let rate = extrapolated_rate(&w, 0, 60_000, true, true).unwrap();
        assert!((rate - 4.0 / 60.0).abs() < 1e-12);
    }

    #[test]
    fn rate_does_not_extrapolate_a_counter_below_zero() {
        // Starting at 0 right after the window start: the zero point caps
        // the extrapolation to the left.
        let w = [s(30_000, 0.0), s(45_000, 10.0), s(60_000, 20.0)];
        let inc = extrapolated_rate(&w, 0, 60_000, true, false).unwrap();
        assert!((inc - 20.0).abs() < 1e-9, "{inc}");
    }

    #[test]
    fn rate_handles_counter_resets_and_needs_two_samples() {
        let w = [s(0, 5.0), s(10_000, 10.0), s(20_000, 2.0)];
        // 5 -> 10 (+5), reset to 2 (+2): 7 over 20 s. Both window edges are
        // within 1.1 average gaps, so it extrapolates to the full 30 s.
        let inc = extrapolated_rate(&w, -1, 29_999, true, false).unwrap();
        assert!((inc - 10.5).abs() < 1e-9, "{inc}");
        assert_eq!(extrapolated_rate(&w[..1], 0, 60_000, true, true), None);
    }

    #[test]
    fn rate_of_a_non_counter_name_earns_an_info_with_position() {
        use crate::{Engine, EngineOptions};
        use sightline_core::{Labels, MemStore};
        let st = MemStore::new();
        for k in 0..5 {
            st.add(
                Labels::from_pairs([("__name__", "foo")]),
                k * 15_000,
                k as f64,
            );
            st.add(
                Labels::from_pairs([("__name__", "foo_total")]),
                k * 15_000,
                k as f64,
            );
        }
        let e = Engine::new(EngineOptions::default());
        let r = e.instant_query(&st, "rate(foo[1m])", 60_000).unwrap();
        assert_eq!(
            r.infos,
            vec![
                r#"PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "foo" (1:6)"#
            ]
        );
        assert!(r.warnings.is_empty());
        let r = e.instant_query(&st, "rate(foo_total[1m])", 60_000).unwrap();
        assert!(r.infos.is_empty());
    }

    #[test]
    fn regression_of_a_line_is_exact() {
        let w: Vec<Sample> = (0..5).map(|k| s(k * 1000, 3.0 + 2.0 * k as f64)).collect();
        let (slope, icpt) = linear_regression(&w, 0);
        assert!((slope - 2.0).abs() < 1e-12 && (icpt - 3.0).abs() < 1e-12);
    }
}
