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
use sightline_core::{
    is_stale_nan, FloatHistogram, HistogramSample, Labels, MatchOp, Matcher, MetricQuerier,
    QueryContext, Sample, METRIC_NAME,
};
use std::sync::Arc;
use std::time::SystemTime;

pub(crate) mod range;
pub(crate) use range::{mark_reset, windows};

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
    /// The query's context: its deadline and cancellation (checked here
    /// and by the store), and the store's read limits.
    pub ctx: QueryContext,

    pub range_query: bool,
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

    /// Fails when the query's context says stop: deadline, cancellation,
    /// or a store limit hit while reading.
    pub fn check_deadline(&self) -> Result<()> {
        Ok(self.ctx.check()?)
    }

    /// Fails when the store stopped a read for the context. A store's
    /// sample iterators cannot fail, they end early; whoever drained one
    /// asks here whether it was complete.
    pub fn check_reads(&self) -> Result<()> {
        Ok(self.ctx.check_stopped()?)
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
        // Series are collected (their samples stay lazy): the evaluator
        // walks them step by step, several selectors at once.
        if alternatives.len() == 1 {
            return Ok(self
                .q
                .select(&self.ctx, mint, maxt, &alternatives[0])?
                .into_vec()?);
        }
        let mut all = std::collections::BTreeMap::new();
        for m in &alternatives {
            for s in self.q.select(&self.ctx, mint, maxt, m)? {
                let s = s?;
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
        self.check_reads()?;
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
mod tests;
