//! The evaluator core: the step grid, intermediate values, selectors and
//! subqueries. Operators, aggregations and functions live in sibling modules.
//!
//! Every expression is evaluated once for all steps of a query: an instant
//! vector becomes one [`Row`] per series with a dense value per step, so that
//! labels are computed once per series rather than once per step, and a
//! selector reads its series once over the whole query range.

use crate::error::{Error, Result};
use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{AtModifier, Expr, Offset, VectorSelector};
use sightline_core::histogram::CounterResetHint;
use sightline_core::{
    is_stale_nan, FloatHistogram, HistogramSample, Labels, MatchOp, Matcher, MetricQuerier, Sample,
    METRIC_NAME,
};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Most steps evaluated densely at once; see [`Evaluator::eval_sparse`].
pub(crate) const CHUNK_STEPS: usize = 256;

/// Marks "no value at this step" in a [`Row`]. It is a NaN payload that no
/// arithmetic produces (results of arithmetic on NaN are quiet NaNs), and rows
/// never do arithmetic on an absent cell, so it cannot be confused with data.
pub(crate) const ABSENT: f64 = f64::from_bits(0x7ff0_0000_0bad_0001);

/// True when the cell holds a value.
#[inline]
pub(crate) fn present(v: f64) -> bool {
    v.to_bits() != ABSENT.to_bits()
}

/// The evaluation timestamps of one (sub)query: `start + i * step`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Steps {
    pub start: i64,
    pub step: i64,
    pub n: usize,
}

impl Steps {
    #[inline]
    pub fn t(&self, i: usize) -> i64 {
        self.start + self.step * i as i64
    }
}

/// A native histogram value in a [`Row`] cell, shared between the steps
/// that see the same sample.
pub(crate) type Hist = Arc<FloatHistogram>;

/// One series of an instant vector over all steps.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub labels: Labels,
    /// Delayed `__name__` removal: the name is dropped when the result is
    /// returned, unless a later function (label_replace) sets it again.
    pub drop_name: bool,
    pub vals: Vec<f64>,
    /// Native histogram cells, one per step, or `None` when the series has
    /// no histogram at any step (float series pay nothing). Where a cell
    /// holds a histogram, `vals` holds [`ABSENT`], so float-only code
    /// skips it as Prometheus's float functions skip histograms.
    pub hists: Option<Vec<Option<Hist>>>,
}

impl Row {
    /// A float-only row.
    pub fn floats(labels: Labels, drop_name: bool, vals: Vec<f64>) -> Row {
        Row {
            labels,
            drop_name,
            vals,
            hists: None,
        }
    }

    /// The histogram at step `i`, if any.
    #[inline]
    pub fn hist(&self, i: usize) -> Option<&Hist> {
        self.hists.as_ref().and_then(|h| h[i].as_ref())
    }

    /// True when step `i` holds a float or a histogram.
    #[inline]
    pub fn has(&self, i: usize) -> bool {
        present(self.vals[i]) || self.hist(i).is_some()
    }

    /// True when some step holds a float or a histogram.
    pub fn any(&self) -> bool {
        self.vals.iter().any(|v| present(*v))
            || self
                .hists
                .as_ref()
                .is_some_and(|h| h.iter().any(|x| x.is_some()))
    }

    /// Stores a histogram at step `i` (the float cell becomes absent).
    pub fn set_hist(&mut self, i: usize, h: Hist) {
        let n = self.vals.len();
        self.vals[i] = ABSENT;
        self.hists.get_or_insert_with(|| vec![None; n])[i] = Some(h);
    }
}

/// One series of a range vector.
#[derive(Debug, Clone)]
pub(crate) struct MatRow {
    pub labels: Labels,
    pub drop_name: bool,
    pub samples: Vec<Sample>,
    /// Native histogram samples, time-sorted; empty for float series.
    pub hists: Vec<HistogramSample>,
}

/// An intermediate value over all steps.
#[derive(Debug)]
pub(crate) enum Val {
    Scalar(Vec<f64>),
    Str(String),
    Vector(Vec<Row>),
    Matrix(Vec<MatRow>),
}

impl Val {
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Scalar(_) => "scalar",
            Val::Str(_) => "string",
            Val::Vector(_) => "instant vector",
            Val::Matrix(_) => "range vector",
        }
    }
}

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

/// Walks an expression tree over a store.
pub(crate) struct Evaluator<'a> {
    pub q: &'a dyn MetricQuerier,
    pub lookback: i64,
    pub max_samples: usize,
    pub subquery_step: i64,
    pub query: &'a str,
    pub qstart: i64,
    pub qend: i64,
    /// The query's step in ms (0 for instant queries), for `step()`.
    pub qstep: i64,
    /// Keep names marked for removal until the end of the query (Prometheus's
    /// `promql-delayed-name-removal`), or drop them at once.
    pub delayed_name_removal: bool,
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,

    pub range_query: bool,
    pub deadline: Option<Instant>,
    pub samples: usize,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
    /// Reading for `histogram_count`/`histogram_sum`: Prometheus then reads
    /// through its `HistogramStatsIterator`, which marks detected counter
    /// resets with the `CounterReset` hint (and so can provoke the
    /// "conflicting counter resets" warning); other reads leave them
    /// `Unknown`.
    pub stats_hints: bool,
}

impl<'a> Evaluator<'a> {
    pub fn warn(&mut self, msg: String) {
        let m = format!("PromQL warning: {msg}");
        if !self.warnings.contains(&m) {
            self.warnings.push(m);
        }
    }

    pub fn info(&mut self, msg: String) {
        let m = format!("PromQL info: {msg}");
        if !self.infos.contains(&m) {
            self.infos.push(m);
        }
    }

    /// `(line:col)` of the first occurrence of `needle` in the query; the
    /// parser keeps no positions, so annotations locate their node by text.
    pub fn pos(&self, needle: &str) -> String {
        let off = if needle.is_empty() {
            0
        } else {
            self.query.find(needle).unwrap_or(0)
        };
        let before = &self.query[..off];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("({line}:{col})")
    }

    pub fn check_deadline(&self) -> Result<()> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
        {
            return Err(Error::Canceled("query execution"));
        }
        if let Some(d) = self.deadline {
            if Instant::now() >= d {
                return Err(Error::Timeout("query execution"));
            }
        }
        Ok(())
    }

    /// Accounts `n` more samples held in memory.
    pub fn add_samples(&mut self, n: usize) -> Result<()> {
        self.samples += n;
        if self.samples > self.max_samples {
            return Err(Error::TooManySamples("query execution"));
        }
        Ok(())
    }

    pub fn eval(&mut self, e: &Expr, s: &Steps) -> Result<Val> {
        let v = self.eval_node(e, s)?;
        match v {
            Val::Vector(rows) if !self.delayed_name_removal => {
                Ok(Val::Vector(drop_names_now(rows)?))
            }
            v => Ok(v),
        }
    }

    fn eval_node(&mut self, e: &Expr, s: &Steps) -> Result<Val> {
        self.check_deadline()?;
        match e {
            Expr::NumberLiteral(n) => Ok(Val::Scalar(vec![n.val; s.n])),
            Expr::StringLiteral(st) => Ok(Val::Str(st.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, s),
            Expr::Unary(u) => match self.eval(&u.expr, s)? {
                Val::Scalar(mut v) => {
                    v.iter_mut().for_each(|x| *x = -*x);
                    Ok(Val::Scalar(v))
                }
                Val::Vector(mut rows) => {
                    for r in &mut rows {
                        r.drop_name = true;
                        for x in r.vals.iter_mut().filter(|x| present(**x)) {
                            *x = -*x;
                        }
                        for h in r.hists.iter_mut().flatten().flatten() {
                            // A negated histogram is a gauge, as in Prometheus.
                            let h = Arc::make_mut(h);
                            h.scale(-1.0);
                            h.counter_reset_hint = sightline_core::histogram::CounterResetHint::Gauge;
                        }
                    }
                    Ok(Val::Vector(rows))
                }
                other => Err(Error::exec(format!(
                    "unary expression only allowed on expressions of type scalar or instant vector, got {}",
                    other.type_name()
                ))),
            },
            Expr::Binary(b) => self.eval_binary(b, s),
            Expr::Aggregate(a) => self.eval_aggregate(a, s),
            Expr::Call(c) => self.eval_call(c, s),
            Expr::VectorSelector(vs) => Ok(Val::Vector(self.select_vector(vs, s, false)?)),
            Expr::MatrixSelector(_) | Expr::Subquery(_) => {
                if s.n != 1 {
                    return Err(Error::exec(
                        "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector",
                    ));
                }
                let input = self.range_input(e, s)?;
                let mut out = Vec::new();
                for r in &input.series {
                    let mut samples = Vec::new();
                    let mut hists = Vec::new();
                    windows(&input.times, input.range, &r.samples, |_, w| {
                        samples = w.to_vec()
                    });
                    windows(&input.times, input.range, &r.hists, |_, w| {
                        hists = w.to_vec()
                    });
                    if !samples.is_empty() || !hists.is_empty() {
                        out.push(MatRow {
                            labels: r.labels.clone(),
                            drop_name: r.drop_name,
                            samples,
                            hists,
                        });
                    }
                }
                Ok(Val::Matrix(out))
            }
            Expr::Extension(_) => Err(Error::exec("extension expressions are not supported")),
        }
    }

    /// Evaluates an expression that must be a scalar (function and aggregation parameters).
    pub fn eval_scalar(&mut self, e: &Expr, s: &Steps) -> Result<Vec<f64>> {
        match self.eval(e, s)? {
            Val::Scalar(v) => Ok(v),
            other => Err(Error::exec(format!(
                "expected scalar argument, got {}",
                other.type_name()
            ))),
        }
    }

    pub fn eval_vector(&mut self, e: &Expr, s: &Steps) -> Result<Vec<Row>> {
        match self.eval(e, s)? {
            Val::Vector(v) => Ok(v),
            other => Err(Error::exec(format!(
                "expected instant vector argument, got {}",
                other.type_name()
            ))),
        }
    }

    pub fn eval_string(&mut self, e: &Expr, s: &Steps) -> Result<String> {
        match self.eval(e, s)? {
            Val::Str(v) => Ok(v),
            other => Err(Error::exec(format!(
                "expected string argument, got {}",
                other.type_name()
            ))),
        }
    }

    fn at_ms(&self, at: &AtModifier) -> i64 {
        match at {
            AtModifier::Start => self.qstart,
            AtModifier::End => self.qend,
            AtModifier::At(t) => system_time_ms(*t),
        }
    }

    /// The per-step timestamps a selector reads at; one entry when `@` pins them.
    pub fn selector_times(
        &self,
        at: &Option<AtModifier>,
        offset: &Option<Offset>,
        s: &Steps,
    ) -> Vec<i64> {
        let off = match offset {
            Some(Offset::Pos(d)) => d.as_millis() as i64,
            Some(Offset::Neg(d)) => -(d.as_millis() as i64),
            None => 0,
        };
        match at {
            Some(a) => vec![self.at_ms(a) - off],
            None => (0..s.n).map(|i| s.t(i) - off).collect(),
        }
    }

    /// Selects the series of `vs` with samples in `[mint, maxt]`, sorted by labels.
    pub fn select(
        &mut self,
        vs: &VectorSelector,
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<sightline_core::Series>> {
        let alternatives = selector_matchers(vs)?;
        if alternatives.len() == 1 {
            return Ok(self.q.select(mint, maxt, &alternatives[0])?);
        }
        let mut all = std::collections::BTreeMap::new();
        for m in &alternatives {
            for s in self.q.select(mint, maxt, m)? {
                all.entry(s.labels.clone()).or_insert(s);
            }
        }
        Ok(all.into_values().collect())
    }

    /// Evaluates an instant-vector selector at every step with the lookback
    /// window `(t - lookback, t]`. With `want_ts` the values are the sample
    /// timestamps in seconds (for `timestamp()`).
    pub fn select_vector(
        &mut self,
        vs: &VectorSelector,
        s: &Steps,
        want_ts: bool,
    ) -> Result<Vec<Row>> {
        let times = self.selector_times(&vs.at, &vs.offset, s);
        let broadcast = times.len() != s.n;
        let mint = times[0] - self.lookback + 1;
        let maxt = *times.last().unwrap_or(&times[0]);
        let series = self.select(vs, mint, maxt)?;
        let mut rows = Vec::with_capacity(series.len());
        let mut count = 0usize;
        for (k, ser) in series.into_iter().enumerate() {
            if k % 1024 == 0 {
                self.check_deadline()?;
            }
            let mut vals = vec![ABSENT; times.len()];
            let mut it = ser.samples.peekable();
            let mut last: Option<Sample> = None;
            let mut any = false;
            let mut hcells: Option<Vec<Option<Hist>>> = None;
            match ser.histograms {
                None => {
                    for (i, &t) in times.iter().enumerate() {
                        while let Some(p) = it.peek() {
                            if p.t <= t {
                                last = it.next();
                            } else {
                                break;
                            }
                        }
                        if let Some(l) = last {
                            if l.t > t - self.lookback && !is_stale_nan(l.v) {
                                vals[i] = if want_ts { l.t as f64 / 1000.0 } else { l.v };
                                any = true;
                                count += 1;
                            }
                        }
                    }
                }
                Some(hs) => {
                    // The newest sample, float or histogram, wins at each step.
                    let mut hit = hs.peekable();
                    let mut last_h: Option<(i64, Hist)> = None;
                    let mut cells = vec![None; times.len()];
                    for (i, &t) in times.iter().enumerate() {
                        while let Some(p) = it.peek() {
                            if p.t <= t {
                                last = it.next();
                            } else {
                                break;
                            }
                        }
                        while let Some(p) = hit.peek() {
                            if p.t <= t {
                                let Some(mut x) = hit.next() else { break };
                                if self.stats_hints {
                                    if let Some((_, prev)) = &last_h {
                                        mark_reset(&mut x.h, prev);
                                    }
                                }
                                last_h = Some((x.t, Arc::new(x.h)));
                            } else {
                                break;
                            }
                        }
                        let ft = last.map_or(i64::MIN, |l| l.t);
                        let ht = last_h.as_ref().map_or(i64::MIN, |h| h.0);
                        if ht > ft {
                            let (ht, h) = last_h.as_ref().expect("ht is set");
                            if *ht > t - self.lookback && !h.is_stale() {
                                if want_ts {
                                    vals[i] = *ht as f64 / 1000.0;
                                } else {
                                    cells[i] = Some(h.clone());
                                }
                                any = true;
                                count += h.positive_buckets.len() + h.negative_buckets.len() + 1;
                            }
                        } else if let Some(l) = last {
                            if l.t > t - self.lookback && !is_stale_nan(l.v) {
                                vals[i] = if want_ts { l.t as f64 / 1000.0 } else { l.v };
                                any = true;
                                count += 1;
                            }
                        }
                    }
                    if cells.iter().any(|c| c.is_some()) {
                        hcells = Some(cells);
                    }
                }
            }
            if !any {
                continue;
            }
            if broadcast {
                vals = vec![vals[0]; s.n];
                hcells = hcells.map(|c| vec![c[0].clone(); s.n]);
            }
            rows.push(Row {
                labels: ser.labels,
                drop_name: false,
                vals,
                hists: hcells,
            });
            // Checked per series so that a huge query stops before it has
            // allocated everything.
            self.add_samples(std::mem::take(&mut count))?;
        }
        Ok(rows)
    }

    /// Evaluates `e` at every step into sparse series (present points only).
    /// Long step grids go in chunks of [`CHUNK_STEPS`], so the dense per-step
    /// rows of only one chunk exist at a time: a long range over short-lived
    /// series costs memory for the points it returns, not for series × steps.
    pub fn eval_sparse(&mut self, e: &Expr, s: &Steps, what: &str) -> Result<Vec<MatRow>> {
        let mut out: Vec<MatRow> = Vec::new();
        let mut index: foldhash::HashMap<(Labels, bool), usize> = foldhash::HashMap::default();
        let chunked = s.n > CHUNK_STEPS;
        let base = self.samples;
        let mut points = 0usize;
        let mut done = 0;
        while done < s.n {
            let n = CHUNK_STEPS.min(s.n - done);
            let chunk = Steps {
                start: s.t(done),
                step: s.step,
                n,
            };
            let rows = match self.eval(e, &chunk)? {
                Val::Vector(rows) => rows,
                Val::Scalar(v) => vec![Row::floats(Labels::empty(), false, v)],
                other => {
                    return Err(Error::exec(format!(
                        "invalid expression type {:?} for {what}, must be Scalar or instant Vector",
                        other.type_name()
                    )))
                }
            };
            for r in rows {
                let samples: Vec<Sample> = r
                    .vals
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| present(**v))
                    .map(|(i, v)| Sample::new(chunk.t(i), *v))
                    .collect();
                let hists: Vec<HistogramSample> = match &r.hists {
                    None => Vec::new(),
                    Some(c) => c
                        .iter()
                        .enumerate()
                        .filter_map(|(i, h)| {
                            h.as_ref().map(|h| HistogramSample {
                                t: chunk.t(i),
                                h: (**h).clone(),
                            })
                        })
                        .collect(),
                };
                if samples.is_empty() && hists.is_empty() {
                    continue;
                }
                points += samples.len() + hists.len();
                if !chunked {
                    out.push(MatRow {
                        labels: r.labels,
                        drop_name: r.drop_name,
                        samples,
                        hists,
                    });
                    continue;
                }
                match index.get(&(r.labels.clone(), r.drop_name)) {
                    Some(&k) => {
                        out[k].samples.extend(samples);
                        out[k].hists.extend(hists);
                    }
                    None => {
                        index.insert((r.labels.clone(), r.drop_name), out.len());
                        out.push(MatRow {
                            labels: r.labels,
                            drop_name: r.drop_name,
                            samples,
                            hists,
                        });
                    }
                }
            }
            // The chunk's rows are gone; what stays held is the points.
            self.samples = base;
            self.add_samples(points)?;
            done += n;
        }
        Ok(out)
    }

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

pub(crate) fn system_time_ms(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// Core matchers for a selector: one list per `or` alternative.
pub fn selector_matchers(vs: &VectorSelector) -> Result<Vec<Vec<Matcher>>> {
    let convert = |list: &[promql_parser::label::Matcher]| -> Result<Vec<Matcher>> {
        let mut out = Vec::with_capacity(list.len() + 1);
        if let Some(n) = &vs.name {
            out.push(Matcher::equal(METRIC_NAME, n.clone()));
        }
        for m in list {
            let op = match m.op {
                PMatchOp::Equal => MatchOp::Equal,
                PMatchOp::NotEqual => MatchOp::NotEqual,
                PMatchOp::Re(_) => MatchOp::Regex,
                PMatchOp::NotRe(_) => MatchOp::NotRegex,
            };
            out.push(Matcher::new(op, m.name.clone(), m.value.clone())?);
        }
        Ok(out)
    };
    if vs.matchers.or_matchers.is_empty() {
        Ok(vec![convert(&vs.matchers.matchers)?])
    } else {
        vs.matchers
            .or_matchers
            .iter()
            .map(|alt| convert(alt))
            .collect()
    }
}

/// The labels with `__name__` removed.
/// Without delayed name removal, names go as soon as an operation drops
/// them, and series that become equal at a step are an error, as in
/// Prometheus's default mode.
fn drop_names_now(mut rows: Vec<Row>) -> Result<Vec<Row>> {
    if !rows.iter().any(|r| r.drop_name) {
        return Ok(rows);
    }
    for r in &mut rows {
        if r.drop_name {
            r.labels = without_name(std::mem::take(&mut r.labels));
            r.drop_name = false;
        }
    }
    // Rows with equal labels are compared in their order, each with the
    // previous one; hashing finds them without sorting every row.
    let mut last: foldhash::HashMap<&Labels, usize> =
        foldhash::HashMap::with_capacity_and_hasher(rows.len(), Default::default());
    for (i, r) in rows.iter().enumerate() {
        if let Some(prev) = last.insert(&r.labels, i) {
            if rows[prev]
                .vals
                .iter()
                .zip(&r.vals)
                .any(|(x, y)| present(*x) && present(*y))
            {
                return Err(Error::exec(
                    "vector cannot contain metrics with the same labelset",
                ));
            }
        }
    }
    Ok(rows)
}

/// The labels with `__name__` removed, and with it the metric's type and
/// unit (`__type__`, `__unit__`), which describe the name.
/// Takes the labels by value so that no copy is made.
pub(crate) fn without_name(l: Labels) -> Labels {
    let describes_name = |n: &str| n == METRIC_NAME || n == "__type__" || n == "__unit__";
    if !l.iter().any(|x| describes_name(&x.name)) {
        return l;
    }
    let mut v = l.into_vec();
    v.retain(|x| !describes_name(&x.name));
    // Removing entries keeps the rest sorted and unique.
    Labels::from_sorted(v)
}

/// Labels as Go's `labels.Labels.String()` prints them, `__name__` inside the
/// braces, as Prometheus's error messages show them.
pub(crate) fn go_labels(l: &Labels) -> String {
    let items: Vec<String> = l
        .iter()
        .map(|x| format!("{}={:?}", x.name, x.value))
        .collect();
    format!("{{{}}}", items.join(", "))
}

#[cfg(test)]
mod tests {
    use crate::{Engine, EngineOptions, Value};
    use sightline_core::{ErrorKind, Labels, MemStore, STALE_NAN};

    fn points(v: Value) -> Vec<(i64, f64)> {
        let Value::Matrix(m) = v else {
            panic!("not a matrix")
        };
        m.into_iter()
            .flat_map(|s| s.points)
            .map(|p| (p.t, p.v))
            .collect()
    }

    #[test]
    fn staleness_marker_ends_the_lookback_at_once() {
        let s = MemStore::new();
        let l = Labels::from_pairs([("__name__", "m")]);
        s.add(l.clone(), 0, 1.0);
        s.add(l.clone(), 60_000, 2.0);
        s.add(l, 120_000, STALE_NAN);
        let e = Engine::new(EngineOptions::default());
        let got = points(e.range_query(&s, "m", 0, 240_000, 60_000).unwrap().value);
        assert_eq!(got, vec![(0, 1.0), (60_000, 2.0)]);
    }

    #[test]
    fn lookback_is_left_open_and_five_minutes() {
        let s = MemStore::new();
        s.add(Labels::from_pairs([("__name__", "m")]), 0, 1.0);
        let e = Engine::new(EngineOptions::default());
        let got = points(e.range_query(&s, "m", 0, 300_000, 100_000).unwrap().value);
        // At t = 300 s the sample at 0 is exactly 5 m old: outside (t-5m, t].
        assert_eq!(got, vec![(0, 1.0), (100_000, 1.0), (200_000, 1.0)]);
    }

    #[test]
    fn range_windows_are_left_open() {
        let s = MemStore::new();
        let l = Labels::from_pairs([("__name__", "m")]);
        for k in 0..=4 {
            s.add(l.clone(), k * 15_000, 1.0);
        }
        let e = Engine::new(EngineOptions::default());
        let r = e
            .instant_query(&s, "count_over_time(m[1m])", 60_000)
            .unwrap();
        let Value::Vector(v) = r.value else { panic!() };
        assert_eq!(v[0].v, 4.0);
    }

    #[test]
    fn max_samples_is_a_limit_error_with_prometheus_text() {
        let s = MemStore::new();
        let l = Labels::from_pairs([("__name__", "m")]);
        for k in 0..100 {
            s.add(l.clone(), k * 1000, 1.0);
        }
        let e = Engine::new(EngineOptions {
            max_samples: 10,
            ..EngineOptions::default()
        });
        let err = e.instant_query(&s, "m[100s]", 100_000).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
        assert_eq!(
            err.to_string(),
            "query processing would load too many samples into memory in query execution"
        );
    }

    #[test]
    fn name_removal_is_delayed_only_when_asked() {
        let s = MemStore::new();
        let l = Labels::from_pairs([("__name__", "m_total"), ("j", "a")]);
        for k in 0..10 {
            s.add(l.clone(), k * 15_000, k as f64);
        }
        let q = r#"label_replace(rate(m_total[1m]), "x", "$1", "__name__", "(.+)")"#;
        let x_of = |delayed: bool| {
            let e = Engine::new(EngineOptions {
                delayed_name_removal: delayed,
                ..EngineOptions::default()
            });
            let Value::Vector(v) = e.instant_query(&s, q, 120_000).unwrap().value else {
                panic!()
            };
            assert!(v[0].labels.metric_name().is_none());
            v[0].labels.get("x").map(str::to_owned)
        };
        assert_eq!(x_of(true).as_deref(), Some("m_total"));
        assert_eq!(x_of(false), None);
    }

    #[test]
    fn long_ranges_are_evaluated_in_chunks_and_stitched() {
        let s = MemStore::new();
        // A series that lives for 100 of 1000 steps, and one that lives throughout.
        for k in 0..1000 {
            s.add(
                Labels::from_pairs([("__name__", "all")]),
                k * 1000,
                k as f64,
            );
            if (400..500).contains(&k) {
                s.add(Labels::from_pairs([("__name__", "brief")]), k * 1000, 1.0);
            }
        }
        let e = Engine::new(EngineOptions::default());
        let r = e.range_query(&s, "all", 0, 999_000, 1000).unwrap();
        let Value::Matrix(m) = r.value else { panic!() };
        let all = &m[0];
        assert_eq!(all.points.len(), 1000);
        assert!(all
            .points
            .iter()
            .enumerate()
            .all(|(k, p)| p.t == k as i64 * 1000 && p.v == k as f64));
        let r = e
            .range_query(&s, "brief * 0 + 7", 0, 999_000, 1000)
            .unwrap();
        let Value::Matrix(m) = r.value else { panic!() };
        assert_eq!(m.len(), 1);
        let brief = &m[0];
        assert!(brief.labels.is_empty() && brief.points.iter().all(|p| p.v == 7.0));
        // Lookback keeps the last sample visible for 5 minutes after it.
        assert_eq!(brief.points.first().map(|p| p.t), Some(400_000));
        assert_eq!(brief.points.len(), 100 + 299);
        // A subquery over many inner steps stitches its chunks too.
        let r = e
            .instant_query(&s, "count_over_time(all[999s:1s])", 999_000)
            .unwrap();
        let Value::Vector(v) = r.value else { panic!() };
        assert_eq!(v[0].v, 999.0);
    }

    #[test]
    fn a_query_past_its_deadline_times_out() {
        let s = MemStore::new();
        s.add(Labels::from_pairs([("__name__", "m")]), 0, 1.0);
        let e = Engine::new(EngineOptions {
            timeout: Some(std::time::Duration::ZERO),
            ..EngineOptions::default()
        });
        let err = e.instant_query(&s, "sum(m)", 0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
    }

    #[test]
    fn a_canceled_query_stops() {
        let s = MemStore::new();
        s.add(Labels::from_pairs([("__name__", "m")]), 0, 1.0);
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let e = Engine::new(EngineOptions {
            cancel: Some(flag),
            ..EngineOptions::default()
        });
        let err = e.instant_query(&s, "sum(m)", 0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Canceled);
        assert_eq!(err.to_string(), "query was canceled in query execution");
    }

    #[test]
    fn parse_errors_are_bad_data() {
        let e = Engine::new(EngineOptions::default());
        let err = e.instant_query(&MemStore::new(), "sum(", 0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadData);
        let err = e
            .instant_query(&MemStore::new(), "rate(x[5m]))", 0)
            .unwrap_err();
        // Prometheus places an extra `)` just past it (Prometheus 2.42
        // answers the same).
        assert_eq!(
            err.to_string(),
            "1:13: parse error: unexpected right parenthesis ')'"
        );
    }
}
