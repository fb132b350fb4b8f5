//! TraceQL metrics over a trace store, answered as Tempo's
//! `/api/metrics/query_range`: one series per `by()` value (and per
//! quantile or histogram bucket), one point per step. Each span counts in
//! the step holding its start time.

use crate::ast::*;
use crate::error::{Error, Result};
use crate::eval::{eval_trace, field_value, TraceView};
use crate::search::SearchQuery;
use crate::value::Value;
use sightline_core::traces::TraceQuerier;
use std::collections::BTreeMap;

/// One series of a metrics answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Tempo's names: the `by()` fields as written (`resource.service.name`),
    /// `p` for a quantile, `__bucket` for a histogram bucket; `__name__`
    /// (the function) when there is no `by()`.
    pub labels: Vec<(String, Static)>,
    /// (milliseconds since the epoch of the step's start, value).
    pub samples: Vec<(i64, f64)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsResult {
    pub series: Vec<Series>,
    pub inspected_traces: u64,
    pub inspected_spans: u64,
}

type Labels = Vec<(String, Static)>;
type SeriesKey = Vec<(String, SortKey)>;

/// What one series accumulates per step.
#[derive(Default, Clone)]
struct Acc {
    count: u64,
    values: Vec<f64>,
}

/// Runs the metrics query `query` over `[start_ns, end_ns]` in steps of
/// `step_ns`, with Tempo's intervals: the range is aligned to the step
/// (start down, end up, one more step before the start), each point is
/// stamped with the end of its interval, and a span counts in the interval
/// `(t - step, t]` holding its start time.
pub fn query_range(
    querier: &dyn TraceQuerier,
    tenant: &str,
    query: &str,
    start_ns: i64,
    end_ns: i64,
    step_ns: i64,
) -> Result<MetricsResult> {
    let q = crate::parse(query)?;
    let Some(m) = &q.metrics else {
        return Err(Error::Invalid(
            "not a metrics query: end it with | rate(), | count_over_time(), | quantile_over_time(...), ...".into(),
        ));
    };
    if step_ns <= 0 {
        return Err(Error::Invalid(format!(
            "step must be positive, got {step_ns}ns"
        )));
    }
    if end_ns <= start_ns {
        return Err(Error::Invalid("end must be greater than start".into()));
    }
    // Points at first, first + step, ..., last; an instant query
    // (`end - start == step`, Tempo's /api/metrics/query) has one point, at
    // `end`, for the spans started in [start, end].
    let instant = end_ns - start_ns == step_ns;
    let (first, last) = if instant {
        (end_ns, end_ns)
    } else {
        let up = if end_ns.rem_euclid(step_ns) == 0 {
            0
        } else {
            step_ns
        };
        (
            start_ns.div_euclid(step_ns) * step_ns,
            end_ns.div_euclid(step_ns) * step_ns + up,
        )
    };
    let points = ((last - first) / step_ns) as usize + 1;
    if points > 11_000 {
        return Err(Error::Invalid(format!(
            "too many points ({points}): raise the step or shorten the range (at most 11000)"
        )));
    }
    // The point a span starting at `ts` counts in.
    let point_of = |ts: i64| -> Option<usize> {
        if instant {
            return (start_ns..=end_ns).contains(&ts).then_some(0);
        }
        if ts <= first - step_ns || ts > last {
            None
        } else if ts <= first {
            Some(0)
        } else {
            Some(((ts - first + step_ns - 1) / step_ns) as usize)
        }
    };
    let hints = SearchQuery::hints_of(&q.pipeline, first - step_ns + 1, last);
    let field = match &m.func {
        MetricsFunc::Rate | MetricsFunc::CountOverTime => None,
        MetricsFunc::MinOverTime(f)
        | MetricsFunc::MaxOverTime(f)
        | MetricsFunc::AvgOverTime(f)
        | MetricsFunc::SumOverTime(f)
        | MetricsFunc::QuantileOverTime(f, _)
        | MetricsFunc::HistogramOverTime(f) => Some(f),
    };
    let histogram = matches!(m.func, MetricsFunc::HistogramOverTime(_));
    // Tempo names an ungrouped series after its function (`{__name__="rate"}`);
    // histograms and quantiles carry their bucket or `p` label instead.
    let named = m.by.is_empty()
        && !matches!(
            m.func,
            MetricsFunc::HistogramOverTime(_) | MetricsFunc::QuantileOverTime(..)
        );
    let mut out = MetricsResult::default();
    let mut acc: BTreeMap<SeriesKey, (Labels, Vec<Acc>)> = BTreeMap::new();
    querier.scan(tenant, &hints, &mut |spans| {
        out.inspected_traces += 1;
        out.inspected_spans += spans.len() as u64;
        let view = TraceView::new(&spans);
        let sets = eval_trace(&q.pipeline, &view);
        let mut seen = vec![false; spans.len()];
        for s in &sets {
            for &i in &s.spans {
                let i = i as usize;
                if std::mem::replace(&mut seen[i], true) {
                    continue;
                }
                let Some(point) = point_of(spans[i].start_ns) else {
                    continue;
                };
                let (value, is_duration) = match field {
                    Some(f) => match number(field_value(f, &view, i)) {
                        Some((v, d)) => (Some(v), d),
                        None => continue,
                    },
                    None => (None, false),
                };
                let mut labels: Labels = Vec::new();
                if named {
                    labels.push(("__name__".into(), Static::Str(m.func.name().into())));
                }
                // Nil values are left out, unless all are (then the first
                // label stays, nil), as Tempo labels its series.
                for f in &m.by {
                    let v = field_value(f, &view, i).to_static();
                    if v != Static::Nil {
                        labels.push((f.to_string(), v));
                    }
                }
                if labels.is_empty() {
                    if let Some(f) = m.by.first() {
                        labels.push((f.to_string(), Static::Nil));
                    }
                }
                if histogram {
                    let v = value.unwrap_or(0.0);
                    let b = if is_duration {
                        duration_bucket(v)
                    } else {
                        bucket(v)
                    };
                    labels.push(("__bucket".into(), Static::Float(b)));
                }
                let key = labels
                    .iter()
                    .map(|(k, v)| (k.clone(), SortKey::of(v)))
                    .collect();
                let e = acc
                    .entry(key)
                    .or_insert_with(|| (labels, vec![Acc::default(); points]));
                let a = &mut e.1[point];
                a.count += 1;
                if let Some(v) = value {
                    a.values.push(v);
                }
            }
        }
        true
    })?;
    let secs = step_ns as f64 / 1e9;
    let ts = |i: usize| (first + i as i64 * step_ns).div_euclid(1_000_000);
    for (_, (labels, steps)) in acc {
        let dense = |f: &dyn Fn(&Acc) -> f64| -> Vec<(i64, f64)> {
            steps
                .iter()
                .enumerate()
                .map(|(i, a)| (ts(i), f(a)))
                .collect()
        };
        let sparse = |f: &dyn Fn(&[f64]) -> f64| -> Vec<(i64, f64)> {
            steps
                .iter()
                .enumerate()
                .filter(|(_, a)| !a.values.is_empty())
                .map(|(i, a)| (ts(i), f(&a.values)))
                .collect()
        };
        match &m.func {
            MetricsFunc::Rate => out.series.push(Series {
                labels,
                samples: dense(&|a| a.count as f64 / secs),
            }),
            MetricsFunc::CountOverTime | MetricsFunc::HistogramOverTime(_) => {
                out.series.push(Series {
                    labels,
                    samples: dense(&|a| a.count as f64),
                })
            }
            MetricsFunc::MinOverTime(_) => out.series.push(Series {
                labels,
                samples: sparse(&|v| v.iter().copied().fold(f64::INFINITY, f64::min)),
            }),
            MetricsFunc::MaxOverTime(_) => out.series.push(Series {
                labels,
                samples: sparse(&|v| v.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
            }),
            MetricsFunc::SumOverTime(_) => out.series.push(Series {
                labels,
                samples: sparse(&|v| v.iter().sum()),
            }),
            MetricsFunc::AvgOverTime(_) => out.series.push(Series {
                labels,
                samples: sparse(&|v| v.iter().sum::<f64>() / v.len() as f64),
            }),
            MetricsFunc::QuantileOverTime(_, qs) => {
                for &q in qs {
                    let mut l = labels.clone();
                    l.push(("p".into(), Static::Float(q)));
                    out.series.push(Series {
                        labels: l,
                        samples: sparse(&|v| quantile(v, q)),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// A field's value as a metric, and whether it was a duration: numbers
/// as they are, durations in seconds (as Tempo reports them); anything
/// else is skipped.
fn number(v: Value<'_>) -> Option<(f64, bool)> {
    match v {
        Value::Duration(d) => Some((d as f64 / 1e9, true)),
        Value::Int(i) => Some((i as f64, false)),
        Value::Float(f) => Some((f, false)),
        _ => None,
    }
}

/// The histogram bucket of a number: the least power of two not below
/// it, as Tempo's log2 buckets; 0 for values not above zero.
pub fn bucket(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 0.0;
    }
    2f64.powi(v.log2().ceil() as i32)
}

/// The histogram bucket of a duration given in seconds: the power of two
/// is taken in nanoseconds, as Tempo takes it, and reported in seconds
/// (280ms -> 2^29ns = 0.536870912).
pub fn duration_bucket(secs: f64) -> f64 {
    let ns = (secs * 1e9).round();
    if ns < 1.0 {
        return 0.0;
    }
    bucket(ns) / 1e9
}

/// The `q` quantile of `v` computed exactly: linear interpolation between
/// the closest ranks (`numpy.quantile`'s default).
pub fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = q * (s.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    s[lo] + (s[hi] - s[lo]) * (rank - lo as f64)
}

/// Orders label values in a series key (floats by their bits' order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Nil,
    Int(i64),
    Float(u64),
    Str(String),
}

impl SortKey {
    fn of(v: &Static) -> SortKey {
        match v {
            Static::Nil => SortKey::Nil,
            Static::Int(i) | Static::Duration(i) => SortKey::Int(*i),
            Static::Float(f) => {
                let b = f.to_bits();
                SortKey::Float(if *f < 0.0 { !b } else { b | (1 << 63) })
            }
            Static::Bool(b) => SortKey::Int(*b as i64),
            Static::Status(s) => SortKey::Str(s.name().into()),
            Static::Kind(k) => SortKey::Str(k.name().into()),
            Static::Str(s) => SortKey::Str(s.clone()),
        }
    }
}
