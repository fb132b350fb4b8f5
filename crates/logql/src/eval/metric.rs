//! Metric queries, evaluated at every step of the range at once: each node
//! gives its series with one optional value per step.

use super::{hints_for, pipeline, EvalError, Params, QueryResult, SeriesResult, Stats, MAX_SERIES};
use crate::ast::{Grouping, LogExpr, MetricExpr, RangeOp, VectorOp};
use crate::exec::LabelSet;
use sightline_core::logs::LogQuerier;

/// A node's value: series with one optional value per step, or a scalar.
pub(super) enum Value {
    Series(Vec<Steps>),
    Scalar(f64),
}

pub(super) struct Steps {
    pub labels: LabelSet,
    pub values: Vec<Option<f64>>,
}

pub(super) struct Evaluator<'a> {
    querier: &'a dyn LogQuerier,
    tenant: &'a str,
    p: &'a Params,
    stats: &'a mut Stats,
    /// Step times, nanoseconds.
    pub steps: Vec<i64>,
}

/// Whether a sample at `ts` falls in the window of the step at `t`:
/// `(t - range, t]`, as Loki's range vectors.
pub fn window_contains(t: i64, range: i64, ts: i64) -> bool {
    ts > t - range && ts <= t
}

impl<'a> Evaluator<'a> {
    pub fn new(
        querier: &'a dyn LogQuerier,
        tenant: &'a str,
        p: &'a Params,
        stats: &'a mut Stats,
    ) -> Self {
        let mut steps = Vec::new();
        let mut t = p.start_ns;
        let step = p.step_ns.max(1);
        while t <= p.end_ns {
            steps.push(t);
            t += step;
        }
        Evaluator {
            querier,
            tenant,
            p,
            stats,
            steps,
        }
    }

    pub fn eval(&mut self, e: &MetricExpr) -> Result<Value, EvalError> {
        Ok(match e {
            MetricExpr::Number(n) => Value::Scalar(*n),
            MetricExpr::Vector1(n) => Value::Series(vec![Steps {
                labels: LabelSet::new(),
                values: vec![Some(*n); self.steps.len()],
            }]),
            MetricExpr::Range {
                op,
                param,
                log,
                range,
                offset,
                grouping,
                ..
            } => Value::Series(self.range(*op, *param, log, *range, *offset, grouping.as_ref())?),
            MetricExpr::Vector {
                op,
                param,
                grouping,
                expr,
                ..
            } => {
                // `sum by (g) (rate(...[r]))` and the other range
                // aggregations that are sums of their samples: summing the
                // samples of a group at each step equals summing the
                // group's series, so the lines are grouped while they are
                // read, and a parser's labels (every JSON field) never make
                // a series per line that the sum would throw away.
                if let (
                    VectorOp::Sum,
                    Some(g),
                    MetricExpr::Range {
                        op: rop,
                        param: rparam,
                        log,
                        range,
                        offset,
                        grouping: None,
                        ..
                    },
                ) = (op, grouping.as_ref(), expr.as_ref())
                {
                    if rop.is_sum_of_samples() {
                        let grouped = self.range(*rop, *rparam, log, *range, *offset, Some(g))?;
                        return Ok(Value::Series(super::ops::aggregate(
                            *op,
                            *param,
                            Some(g),
                            grouped,
                            self.steps.len(),
                        )?));
                    }
                }
                let inner = match self.eval(expr)? {
                    Value::Series(s) => s,
                    Value::Scalar(_) => {
                        return Err(EvalError::Query(
                            "vector aggregations apply to vectors, not to scalars".into(),
                        ))
                    }
                };
                Value::Series(super::ops::aggregate(
                    *op,
                    *param,
                    grouping.as_ref(),
                    inner,
                    self.steps.len(),
                )?)
            }
            MetricExpr::Binary {
                op,
                lhs,
                rhs,
                return_bool,
                matching,
                ..
            } => {
                let l = self.eval(lhs)?;
                let r = self.eval(rhs)?;
                super::ops::binary(*op, l, r, *return_bool, matching, self.steps.len())?
            }
            MetricExpr::LabelReplace {
                expr,
                dst,
                replacement,
                src,
                regex,
                ..
            } => match self.eval(expr)? {
                Value::Scalar(_) => {
                    return Err(EvalError::Query("label_replace applies to vectors".into()))
                }
                Value::Series(s) => {
                    Value::Series(super::ops::label_replace(s, dst, replacement, src, regex)?)
                }
            },
        })
    }

    /// A range aggregation: the lines of `[first step - range - offset,
    /// last step - offset]` through the pipeline as samples, grouped into
    /// series, each aggregated over its window at every step.
    fn range(
        &mut self,
        op: RangeOp,
        param: Option<f64>,
        log: &LogExpr,
        range: i64,
        offset: i64,
        grouping: Option<&Grouping>,
    ) -> Result<Vec<Steps>, EvalError> {
        // Grouped `by` a few labels, the parsers extract only those.
        let pipe = match grouping {
            Some(g) if !g.without => {
                crate::exec::Pipeline::with_needed_labels(&log.stages, &g.labels)
                    .map_err(EvalError::Query)?
            }
            _ => pipeline(log)?,
        };
        let first = self.steps.first().copied().unwrap_or(self.p.start_ns);
        let last = self.steps.last().copied().unwrap_or(self.p.end_ns);
        let (from, to) = (first - offset - range + 1, last - offset);
        let hints = hints_for(log, false, None);
        let read = super::collect::Read {
            querier: self.querier,
            tenant: self.tenant,
            log,
            pipe: &pipe,
            hints: &hints,
            grouping,
            bytes: matches!(op, RangeOp::BytesRate | RangeOp::BytesOverTime),
        };
        let (groups, any_stream) = read.samples(from, to, self.stats)?;
        let mut by_series = groups.series;
        // In label order, as the series were when a map held them.
        by_series.sort_by(|a, b| a.0.cmp(&b.0));
        if op == RangeOp::AbsentOverTime {
            return Ok(self.absent(log, &by_series, range, offset, any_stream));
        }
        // Loki limits the series of the answer (checked in `evaluate`), not
        // those a range aggregation makes before `sum by` folds them (issue
        // 15: `sum by (level) (count_over_time(...))` over lines with a
        // trace_id each was refused). This bound only keeps memory in check.
        if by_series.len() > MAX_SERIES * 100 {
            return Err(EvalError::TooManySeries);
        }
        let mut out = Vec::with_capacity(by_series.len());
        for (labels, mut samples) in by_series {
            samples.sort_by_key(|x| x.0);
            let mut values = Vec::with_capacity(self.steps.len());
            let (mut lo, mut hi) = (0usize, 0usize);
            for &t in &self.steps {
                let end = t - offset;
                let start = end - range;
                while hi < samples.len() && samples[hi].0 <= end {
                    hi += 1;
                }
                while lo < hi && samples[lo].0 <= start {
                    lo += 1;
                }
                values.push(aggregate_window(op, param, &samples[lo..hi], range));
            }
            if values.iter().any(Option::is_some) {
                out.push(Steps { labels, values });
            }
        }
        Ok(out)
    }

    /// `absent_over_time`: 1 at steps whose window holds no line, labelled
    /// with the selector's equality matchers.
    fn absent(
        &self,
        log: &LogExpr,
        series: &[(LabelSet, Vec<(i64, f64)>)],
        range: i64,
        offset: i64,
        _any: bool,
    ) -> Vec<Steps> {
        let all: Vec<i64> = series.iter().flat_map(|s| &s.1).map(|x| x.0).collect();
        let values: Vec<Option<f64>> = self
            .steps
            .iter()
            .map(|&t| {
                let end = t - offset;
                let present = all.iter().any(|&ts| window_contains(end, range, ts));
                (!present).then_some(1.0)
            })
            .collect();
        if values.iter().all(Option::is_none) {
            return Vec::new();
        }
        let labels = log
            .matchers
            .iter()
            .filter(|m| m.op == sightline_core::MatchOp::Equal)
            .map(|m| (m.name.clone(), m.value.clone()))
            .collect();
        vec![Steps { labels, values }]
    }
}

pub(super) fn group_labels(l: &LabelSet, g: &Grouping) -> LabelSet {
    l.iter()
        .filter(|(k, _)| g.labels.iter().any(|x| x == *k) != g.without)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn aggregate_window(op: RangeOp, param: Option<f64>, w: &[(i64, f64)], range: i64) -> Option<f64> {
    if w.is_empty() {
        return None;
    }
    let secs = range as f64 / 1e9;
    let n = w.len() as f64;
    let sum = || w.iter().map(|x| x.1).sum::<f64>();
    Some(match op {
        // A line counts 1; an unwrapped sample its value.
        RangeOp::Rate => sum() / secs,
        RangeOp::CountOverTime => n,
        RangeOp::BytesRate => sum() / secs,
        RangeOp::BytesOverTime | RangeOp::SumOverTime => sum(),
        RangeOp::AvgOverTime => sum() / n,
        RangeOp::MinOverTime => w.iter().map(|x| x.1).fold(f64::INFINITY, f64::min),
        RangeOp::MaxOverTime => w.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max),
        RangeOp::StdvarOverTime | RangeOp::StddevOverTime => {
            let mean = sum() / n;
            let var = w.iter().map(|x| (x.1 - mean).powi(2)).sum::<f64>() / n;
            if op == RangeOp::StddevOverTime {
                var.sqrt()
            } else {
                var
            }
        }
        RangeOp::QuantileOverTime => {
            let mut vs: Vec<f64> = w.iter().map(|x| x.1).collect();
            vs.sort_by(f64::total_cmp);
            quantile(param.unwrap_or(0.5), &vs)
        }
        RangeOp::FirstOverTime => w[0].1,
        RangeOp::LastOverTime => w[w.len() - 1].1,
        RangeOp::RateCounter => counter_rate(w, range),
        RangeOp::AbsentOverTime => return None,
    })
}

/// φ-quantile of sorted values, interpolated as Prometheus's
/// `quantile_over_time`.
pub(super) fn quantile(q: f64, sorted: &[f64]) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let rank = q * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let w = rank - lo as f64;
    sorted[lo] * (1.0 - w) + sorted[hi] * w
}

/// `rate_counter` as Loki computes it (pkg/logql/range_vector.go,
/// `extrapolatedRate`): Prometheus's extrapolation of a counter's
/// increase, except that the window is taken to end at the last sample
/// and to start `range` before the first one, with the range subtracted
/// in milliseconds from nanosecond timestamps and every span divided by
/// 1000; fewer than two samples give 0. The arithmetic is odd but it is
/// what Loki answers, and the reference test of issue 15 holds us to it.
fn counter_rate(w: &[(i64, f64)], range_ns: i64) -> f64 {
    if w.len() < 2 {
        return 0.0;
    }
    let (t0, v0) = w[0];
    let (tn, vn) = w[w.len() - 1];
    let mut increase = vn - v0;
    let mut last = 0.0;
    for &(_, v) in w {
        if v < last {
            increase += last;
        }
        last = v;
    }
    let range_ms = range_ns / 1_000_000;
    let mut to_start = range_ms as f64 / 1000.0;
    let to_end = 0.0;
    let sampled = (tn - t0) as f64 / 1000.0;
    let avg = sampled / (w.len() - 1) as f64;
    if increase > 0.0 && v0 >= 0.0 {
        let to_zero = sampled * (v0 / increase);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = avg * 1.1;
    let mut span = sampled;
    span += if to_start < threshold {
        to_start
    } else {
        avg / 2.0
    };
    span += if to_end < threshold {
        to_end
    } else {
        avg / 2.0
    };
    increase * (span / sampled) / (range_ns as f64 / 1e9)
}

/// The answer in Loki's shape: a matrix for range queries, a vector (the
/// last step) for instant ones; `sort`/`sort_desc` order an instant answer.
pub(super) fn into_result(v: Value, p: &Params, instant: bool, expr: &MetricExpr) -> QueryResult {
    match v {
        Value::Scalar(x) => QueryResult::Scalar(p.end_ns, x),
        Value::Series(series) => {
            let steps: Vec<i64> = {
                let mut s = Vec::new();
                let mut t = p.start_ns;
                while t <= p.end_ns {
                    s.push(t);
                    t += p.step_ns.max(1);
                }
                s
            };
            let mut out: Vec<SeriesResult> = series
                .into_iter()
                .map(|s| SeriesResult {
                    labels: s.labels,
                    points: s
                        .values
                        .iter()
                        .zip(&steps)
                        .filter_map(|(v, t)| v.map(|v| (*t, v)))
                        .collect(),
                })
                .filter(|s| !s.points.is_empty())
                .collect();
            if instant {
                if let MetricExpr::Vector {
                    op: op @ (VectorOp::Sort | VectorOp::SortDesc),
                    ..
                } = expr
                {
                    let desc = *op == VectorOp::SortDesc;
                    out.sort_by(|a, b| {
                        let (x, y) = (a.points[0].1, b.points[0].1);
                        if desc {
                            y.total_cmp(&x)
                        } else {
                            x.total_cmp(&y)
                        }
                    });
                }
                QueryResult::Vector(out)
            } else {
                QueryResult::Matrix(out)
            }
        }
    }
}
