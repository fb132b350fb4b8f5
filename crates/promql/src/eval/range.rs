//! Range-vector arguments: matrix selectors and subqueries prepared for
//! windowed evaluation, and the window walk shared by float and histogram
//! samples.

use super::{Evaluator, MatRow, Steps};
use crate::error::{Error, Result};
use promql_parser::parser::Expr;
use sightline_core::histogram::CounterResetHint;
use sightline_core::{is_stale_nan, FloatHistogram, HistogramSample, Labels, Sample};

/// A range-vector argument prepared for windowing: every sample any step
/// needs, read once, plus the evaluation time of each step.
pub(crate) struct RangeInput {
    pub series: Vec<MatRow>,
    /// Selected but not yet read (matrix selectors): consumers that go
    /// series by series read one at a time, so memory holds one series'
    /// samples rather than all of them.
    pub lazy: Vec<sightline_core::Series>,
    pub range: i64,
    /// See [`Evaluator::stats_hints`].
    pub stats_hints: bool,
    /// Window end per output step (after `@` and `offset`); a single entry
    /// when `@` makes every step identical.
    pub times: Vec<i64>,
}

impl RangeInput {
    /// Calls `f(row, step, window)` for every step; windows are `(t-range, t]`.
    /// Only for materialized inputs (see [`Evaluator::range_input`]).
    pub fn for_each_window(&self, mut f: impl FnMut(usize, usize, &[Sample])) {
        for (ri, row) in self.series.iter().enumerate() {
            windows(&self.times, self.range, &row.samples, |i, w| f(ri, i, w));
        }
    }

    /// Hands every series to `f` with its float and histogram samples
    /// (staleness markers dropped), reading lazily selected ones one at a
    /// time.
    pub fn for_each_series(
        self,
        mut f: impl FnMut(Labels, bool, &[Sample], &[HistogramSample]) -> Result<()>,
    ) -> Result<()> {
        for r in self.series {
            f(r.labels, r.drop_name, &r.samples, &r.hists)?;
        }
        let mut buf: Vec<Sample> = Vec::new();
        for ser in self.lazy {
            buf.clear();
            buf.extend(ser.samples.filter(|x| !is_stale_nan(x.v)));
            let hs = read_hists(ser.histograms, self.stats_hints);
            if !buf.is_empty() || !hs.is_empty() {
                f(ser.labels, false, &buf, &hs)?;
            }
        }
        Ok(())
    }
}

/// A series' histogram samples without staleness markers; with
/// `stats_hints`, detected resets get the `CounterReset` hint (see
/// [`Evaluator::stats_hints`]).
pub(crate) fn read_hists(
    h: Option<sightline_core::HistogramIter>,
    stats_hints: bool,
) -> Vec<HistogramSample> {
    let mut out: Vec<HistogramSample> = match h {
        Some(it) => it.filter(|x| !x.h.is_stale()).collect(),
        None => return Vec::new(),
    };
    if stats_hints {
        for i in 1..out.len() {
            let (before, after) = out.split_at_mut(i);
            mark_reset(&mut after[0].h, &before[i - 1].h);
        }
    }
    out
}

/// Gives `cur` the `CounterReset` hint when its hint is unknown and it is
/// a reset from `prev`.
pub(crate) fn mark_reset(cur: &mut FloatHistogram, prev: &FloatHistogram) {
    use sightline_core::histogram::CounterResetHint;
    if cur.counter_reset_hint == CounterResetHint::Unknown && cur.detect_reset(prev) {
        cur.counter_reset_hint = CounterResetHint::CounterReset;
    }
}

/// A sample kind with a timestamp, so one window walk serves floats and
/// histograms.
pub(crate) trait Timed {
    /// Milliseconds since the epoch.
    fn time(&self) -> i64;
}

impl Timed for Sample {
    fn time(&self) -> i64 {
        self.t
    }
}

impl Timed for HistogramSample {
    fn time(&self) -> i64 {
        self.t
    }
}

/// Calls `f(step, window)` for each evaluation time, windows being
/// `(t - range, t]` of time-sorted `samples`.
pub(crate) fn windows<'s, T: Timed>(
    times: &[i64],
    range: i64,
    samples: &'s [T],
    mut f: impl FnMut(usize, &'s [T]),
) {
    let (mut lo, mut hi) = (0usize, 0usize);
    for (i, &t) in times.iter().enumerate() {
        while hi < samples.len() && samples[hi].time() <= t {
            hi += 1;
        }
        while lo < hi && samples[lo].time() <= t - range {
            lo += 1;
        }
        f(i, &samples[lo.min(hi)..hi]);
    }
}

impl<'a> Evaluator<'a> {
    /// Prepares a matrix selector or subquery for windowed evaluation, with
    /// every sample read into memory.
    pub fn range_input(&mut self, e: &Expr, s: &Steps) -> Result<RangeInput> {
        let mut input = self.range_source(e, s)?;
        self.materialize(&mut input)?;
        Ok(input)
    }

    /// Reads lazily selected series of `input` into memory.
    pub fn materialize(&mut self, input: &mut RangeInput) -> Result<()> {
        let mut count = 0;
        for ser in std::mem::take(&mut input.lazy) {
            let samples: Vec<Sample> = ser.samples.filter(|x| !is_stale_nan(x.v)).collect();
            let hists = read_hists(ser.histograms, self.stats_hints);
            if samples.is_empty() && hists.is_empty() {
                continue;
            }
            count += samples.len() + hists.len();
            input.series.push(MatRow {
                labels: ser.labels,
                drop_name: false,
                samples,
                hists,
            });
        }
        self.check_reads()?;
        self.add_samples(count)
    }

    /// Prepares a matrix selector (selected, not yet read) or a subquery
    /// (evaluated) for windowed evaluation.
    pub fn range_source(&mut self, e: &Expr, s: &Steps) -> Result<RangeInput> {
        match e {
            Expr::Paren(p) => self.range_source(&p.expr, s),
            Expr::MatrixSelector(ms) => {
                let range = ms.range.as_millis() as i64;
                let times = self.selector_times(&ms.vs.at, &ms.vs.offset, s);
                let mint = times[0] - range + 1;
                let maxt = *times.last().unwrap_or(&times[0]);
                let lazy = self.select(&ms.vs, mint, maxt)?;
                Ok(RangeInput {
                    series: Vec::new(),
                    lazy,
                    range,
                    stats_hints: self.stats_hints,
                    times,
                })
            }
            Expr::Subquery(sq) => {
                let range = sq.range.as_millis() as i64;
                let times = self.selector_times(&sq.at, &sq.offset, s);
                let step = sq
                    .step
                    .map(|d| d.as_millis() as i64)
                    .filter(|&d| d > 0)
                    .unwrap_or(self.subquery_step);
                let base = times[0] - range;
                let start = base.div_euclid(step) * step + step;
                let end = *times.last().unwrap_or(&times[0]);
                let n = if end >= start {
                    ((end - start) / step) as usize + 1
                } else {
                    0
                };
                if n > self.max_samples {
                    // Every inner step would hold at least one sample.
                    return Err(Error::TooManySamples("query execution"));
                }
                let mut series = if n > 0 {
                    let inner = Steps { start, step, n };
                    // Prometheus reads subqueries without its stats iterator.
                    let stats = std::mem::replace(&mut self.stats_hints, false);
                    let r = self.eval_sparse(&sq.expr, &inner, "subquery");
                    self.stats_hints = stats;
                    r?
                } else {
                    Vec::new()
                };
                // A subquery's points are not consecutive samples: what the
                // store knew about resets between samples says nothing
                // about resets between points (a point may skip the reset
                // sample, or repeat it), so resets are detected afresh.
                for r in &mut series {
                    for h in &mut r.hists {
                        if matches!(
                            h.h.counter_reset_hint,
                            CounterResetHint::NotCounterReset | CounterResetHint::CounterReset
                        ) {
                            h.h.counter_reset_hint = CounterResetHint::Unknown;
                        }
                    }
                }
                Ok(RangeInput {
                    series,
                    lazy: Vec::new(),
                    range,
                    stats_hints: false,
                    times,
                })
            }
            _ => Err(Error::exec(
                "expected range vector argument (a matrix selector or subquery)",
            )),
        }
    }
}
