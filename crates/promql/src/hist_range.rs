//! Range functions over series that hold native histograms: rate and
//! friends, `*_over_time`, `changes` and `resets`, with the annotations
//! Prometheus emits when floats and histograms mix in one window.
//!
//! Only series with histogram samples come here; float series keep the
//! float-only path in [`crate::range_functions`].

use crate::error::Result;
use crate::eval::{windows, Evaluator, Hist, Row, Steps, ABSENT};
use crate::hist_aggregations::HistAcc;
use crate::range_functions::{extrapolation_factor, float_window};
use promql_parser::parser::Expr;
use sightline_core::histogram::{CounterResetHint, Incompatible};
use sightline_core::{FloatHistogram, HistogramSample, Labels, Sample};
use std::sync::Arc;

/// One selected series.
pub(crate) struct Series<'s> {
    pub labels: Labels,
    pub drop_name: bool,
    pub floats: &'s [Sample],
    pub hists: &'s [HistogramSample],
}

/// What every window of a call shares.
pub(crate) struct Params<'p> {
    pub times: &'p [i64],
    pub range: i64,
    pub steps: &'p Steps,
    pub p1: &'p [f64],
    pub p2: &'p [f64],
    pub arg: &'p Expr,
}

enum Out {
    F(f64),
    H(FloatHistogram),
}

/// Annotations collected while computing windows, emitted once.
#[derive(Default)]
pub(crate) struct Notes {
    pub mixed: bool,
    pub mixed_schemas: bool,
    pub not_counter: bool,
    pub not_gauge: bool,
    pub reconciled: Option<&'static str>,
    /// Histograms said "reset" and "no reset" in one sum.
    pub hint_conflict: bool,
}

impl Notes {
    /// Emits the collected annotations for `metric`, positioned at `arg`.
    pub fn emit(&self, ev: &mut Evaluator, metric: &str, arg: &str) {
        let pos = ev.pos(arg);
        if self.mixed {
            ev.warn(format!(
                "encountered a mix of histograms and floats for metric name {metric:?} {pos}"
            ));
        }
        if self.mixed_schemas {
            ev.warn(format!("vector contains a mix of histograms with exponential and custom buckets schemas for metric name {metric:?} {pos}"));
        }
        if self.not_counter {
            ev.warn(format!(
                "this native histogram metric is not a counter: {metric:?} {pos}"
            ));
        }
        if self.not_gauge {
            ev.warn(format!(
                "this native histogram metric is not a gauge: {metric:?} {pos}"
            ));
        }
        if self.hint_conflict {
            ev.warn(format!(
                "conflicting counter resets during histogram aggregation {pos}"
            ));
        }
        if let Some(op) = self.reconciled {
            ev.info(format!(
                "mismatched custom buckets were reconciled during {op} {pos}"
            ));
        }
    }

    /// Records the outcome of adding or subtracting histograms; false when
    /// they could not be combined.
    pub fn note(
        &mut self,
        r: std::result::Result<sightline_core::histogram::Combined, Incompatible>,
        op: &'static str,
    ) -> bool {
        match r {
            Ok(c) => {
                if c.reconciled {
                    self.reconciled = Some(op);
                }
                true
            }
            Err(Incompatible::MixedSchemas) => {
                self.mixed_schemas = true;
                false
            }
        }
    }
}

/// `rate`/`increase`/`delta` of histogram samples (Prometheus's
/// `histogramRate` plus extrapolation).
fn hist_rate(
    w: &[HistogramSample],
    start: i64,
    end: i64,
    counter: bool,
    rate: bool,
    notes: &mut Notes,
) -> Option<FloatHistogram> {
    if w.len() < 2 {
        return None;
    }
    let first = &w[0].h;
    let last = &w[w.len() - 1].h;
    let is_gauge = |h: &FloatHistogram| h.counter_reset_hint == CounterResetHint::Gauge;
    if counter && w.iter().any(|x| is_gauge(&x.h)) {
        notes.not_counter = true;
    }
    if !counter && (!is_gauge(first) || !is_gauge(last)) {
        notes.not_gauge = true;
    }
    // After a reset between the first two samples the first one only
    // counts as zero, so its layout (even exponential against custom
    // buckets) does not matter.
    let zeroed;
    let base = if counter && w[1].h.detect_reset(first) {
        zeroed = w[1].h.empty_like();
        &zeroed
    } else {
        first
    };
    let custom = base.uses_custom_buckets();
    // The samples between first and last only matter to a counter.
    let inner = if counter { &w[1..w.len() - 1] } else { &[] };
    if last.uses_custom_buckets() != custom
        || inner.iter().any(|x| x.h.uses_custom_buckets() != custom)
    {
        notes.mixed_schemas = true;
        return None;
    }
    let min_schema = inner
        .iter()
        .map(|x| x.h.schema)
        .fold(last.schema.min(base.schema), i32::min);
    let mut h = last.clone();
    h.reduce_resolution(min_schema);
    if !notes.note(h.sub(base), "subtraction") {
        return None;
    }
    if counter {
        // The second sample is no reset from `base`: either it was none
        // from the first, or `base` is the zero it restarted from.
        let mut prev = &w[1].h;
        for x in &w[2..] {
            if x.h.detect_reset(prev) && !notes.note(h.add(prev), "addition") {
                return None;
            }
            prev = &x.h;
        }
    }
    h.counter_reset_hint = CounterResetHint::Gauge;
    h.compact(0);
    let zero_share =
        (counter && h.count > 0.0 && first.count >= 0.0).then(|| first.count / h.count);
    let factor = extrapolation_factor(
        w[0].t,
        w[w.len() - 1].t,
        w.len(),
        start,
        end,
        zero_share,
        rate,
    );
    h.scale(factor);
    Some(h)
}

/// `irate`/`idelta` of the last two histogram samples.
fn hist_instant(w: &[HistogramSample], rate: bool, notes: &mut Notes) -> Option<FloatHistogram> {
    if w.len() < 2 {
        return None;
    }
    let (prev, last) = (&w[w.len() - 2], &w[w.len() - 1]);
    let dt = last.t - prev.t;
    if dt == 0 {
        return None;
    }
    if !rate
        && (prev.h.counter_reset_hint != CounterResetHint::Gauge
            || last.h.counter_reset_hint != CounterResetHint::Gauge)
    {
        notes.not_gauge = true;
    }
    if rate
        && (prev.h.counter_reset_hint == CounterResetHint::Gauge
            || last.h.counter_reset_hint == CounterResetHint::Gauge)
    {
        notes.not_counter = true;
    }
    let mut h = last.h.clone();
    // irate after a reset is the new value itself, even when the layouts
    // could not be subtracted (exponential and custom buckets).
    let reset = rate && last.h.detect_reset(&prev.h);
    if !reset {
        let combined = h.sub(&prev.h);
        if !notes.note(combined, "subtraction") {
            return None;
        }
    }
    h.counter_reset_hint = CounterResetHint::Gauge;
    if rate {
        h.div(dt as f64 / 1000.0);
    }
    h.compact(0);
    Some(h)
}

/// Compensated sum or mean (`mean`) of histograms, for `sum_over_time`
/// and `avg_over_time`; the hint of the sum is merged as
/// [`FloatHistogram::add`] merges it.
fn hist_sum(w: &[HistogramSample], mean: bool, notes: &mut Notes) -> Option<FloatHistogram> {
    let mut acc = HistAcc::new(&w[0].h);
    for x in &w[1..] {
        if !notes.note(acc.add(&x.h, mean), "aggregation") {
            return None;
        }
    }
    if conflicting_hints(w.iter().map(|x| &x.h)) {
        notes.hint_conflict = true;
    }
    let mut h = if mean { acc.mean() } else { acc.sum() };
    h.compact(0);
    Some(h)
}

/// True when some histograms say "counter reset" and others "no counter
/// reset": their sum's meaning is unclear, which Prometheus warns about.
pub(crate) fn conflicting_hints<'h>(hs: impl Iterator<Item = &'h FloatHistogram>) -> bool {
    let (mut reset, mut not_reset) = (false, false);
    for h in hs {
        match h.counter_reset_hint {
            CounterResetHint::CounterReset => reset = true,
            CounterResetHint::NotCounterReset => not_reset = true,
            _ => {}
        }
    }
    reset && not_reset
}

/// Merges floats and histograms of a window in time order, as `(t, float
/// or histogram)`.
fn merged<'w>(f: &'w [Sample], h: &'w [HistogramSample]) -> Vec<(i64, Result2<'w>)> {
    let mut out: Vec<(i64, Result2)> = f.iter().map(|s| (s.t, Result2::F(s.v))).collect();
    out.extend(h.iter().map(|s| (s.t, Result2::H(&s.h))));
    out.sort_by_key(|x| x.0);
    out
}

#[derive(Clone, Copy)]
enum Result2<'w> {
    F(f64),
    H(&'w FloatHistogram),
}

impl<'a> Evaluator<'a> {
    /// Evaluates range function `name` over one series that holds
    /// histograms; `None` when no step has a value.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn hist_range_series(
        &mut self,
        name: &str,
        ser: Series,
        p: Params,
        scratch: &mut Vec<f64>,
        bad_q: &mut Vec<f64>,
    ) -> Result<Option<Row>> {
        let n = p.steps.n;
        let mut fw: Vec<&[Sample]> = vec![&[]; p.times.len()];
        let mut hw: Vec<&[HistogramSample]> = vec![&[]; p.times.len()];
        windows(p.times, p.range, ser.floats, |i, w| fw[i] = w);
        windows(p.times, p.range, ser.hists, |i, w| hw[i] = w);
        let mut notes = Notes::default();
        let mut row = Row::floats(ser.labels, ser.drop_name, vec![ABSENT; n]);
        let mut ignored_mixed = false;
        for i in 0..p.times.len() {
            let (f, h) = (fw[i], hw[i]);
            if f.is_empty() && h.is_empty() {
                continue;
            }
            let te = p.times[i];
            let start = te - p.range;
            // Float-only windows are evaluated as in a float series.
            let floats = |w: &[Sample], scratch: &mut Vec<f64>, bad_q: &mut Vec<f64>| {
                float_window(
                    name,
                    w,
                    te,
                    p.range,
                    p.steps.t(i),
                    i,
                    p.p1,
                    p.p2,
                    scratch,
                    bad_q,
                )
                .map(Out::F)
            };
            let out: Option<Out> = match name {
                "rate" | "increase" | "delta" if !f.is_empty() && !h.is_empty() => {
                    notes.mixed = true;
                    None
                }
                "rate" | "increase" | "delta" if h.is_empty() => floats(f, scratch, bad_q),
                "rate" | "increase" | "delta" => {
                    hist_rate(h, start, te, name != "delta", name == "rate", &mut notes).map(Out::H)
                }
                "irate" | "idelta" => {
                    // The last two samples decide, whatever their kinds.
                    let m = merged(f, h);
                    match m.as_slice() {
                        [.., (_, Result2::H(_)), (_, Result2::H(_))] => hist_instant(
                            &h[h.len().saturating_sub(2)..],
                            name == "irate",
                            &mut notes,
                        )
                        .map(Out::H),
                        [.., (_, Result2::F(_)), (_, Result2::F(_))] => {
                            floats(&f[f.len() - 2..], scratch, bad_q)
                        }
                        [_, _, ..] => {
                            notes.mixed = true;
                            None
                        }
                        _ => None,
                    }
                }
                "sum_over_time" | "avg_over_time" if !f.is_empty() && !h.is_empty() => {
                    notes.mixed = true;
                    None
                }
                "sum_over_time" | "avg_over_time" if h.is_empty() => floats(f, scratch, bad_q),
                "sum_over_time" | "avg_over_time" => {
                    hist_sum(h, name == "avg_over_time", &mut notes).map(Out::H)
                }
                "count_over_time" => Some(Out::F((f.len() + h.len()) as f64)),
                "present_over_time" => Some(Out::F(1.0)),
                "last_over_time"
                | "first_over_time"
                | "ts_of_last_over_time"
                | "ts_of_first_over_time" => {
                    let last = name.contains("last");
                    let m = merged(f, h);
                    let (t, v) = if last { m[m.len() - 1] } else { m[0] };
                    Some(if name.starts_with("ts_of") {
                        Out::F(t as f64 / 1000.0)
                    } else {
                        match v {
                            Result2::F(x) => Out::F(x),
                            Result2::H(x) => Out::H(x.clone()),
                        }
                    })
                }
                "changes" | "resets" => {
                    let m = merged(f, h);
                    let count = m
                        .windows(2)
                        .filter(|p| match (p[0].1, p[1].1) {
                            (Result2::F(a), Result2::F(b)) => {
                                if name == "changes" {
                                    !(a == b || (a.is_nan() && b.is_nan()))
                                } else {
                                    b < a
                                }
                            }
                            (Result2::H(a), Result2::H(b)) => {
                                if name == "changes" {
                                    !a.equals(b)
                                } else {
                                    b.detect_reset(a)
                                }
                            }
                            _ => true,
                        })
                        .count();
                    Some(Out::F(count as f64))
                }
                // The other functions read floats only and ignore histograms.
                _ => {
                    if !f.is_empty() && !h.is_empty() {
                        ignored_mixed = true;
                    }
                    if f.is_empty() {
                        None
                    } else {
                        floats(f, scratch, bad_q)
                    }
                }
            };
            match out {
                Some(Out::F(v)) => row.vals[i] = v,
                Some(Out::H(h)) => row.set_hist(i, Arc::new(h) as Hist),
                None => {}
            }
        }
        let metric = row.labels.metric_name().unwrap_or("").to_owned();
        let arg = p.arg.to_string();
        notes.emit(self, &metric, &arg);
        if ignored_mixed {
            let pos = self.pos(&arg);
            self.info(format!("ignored histograms in a range containing both floats and histograms for metric name {metric:?} {pos}"));
        }
        if p.times.len() != n {
            // `@` pinned every step to one window.
            let v = row.vals[0];
            row.vals = vec![v; n];
            if let Some(h) = row.hists.take() {
                row.hists = Some(vec![h[0].clone(); n]);
            }
        }
        Ok(row.any().then_some(row))
    }
}
