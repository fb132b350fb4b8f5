//! Evaluating LogQL over a [`LogQuerier`]: log queries give streams of
//! lines (merged across stores' streams by time, in the asked direction,
//! `limit` lines in all), metric queries give samples at each step of the
//! range (range aggregations over the lines, then vector aggregations,
//! binary operators, `label_replace`, `vector`), as Loki answers them.

mod collect;
mod logs;
mod metric;
mod ops;

use crate::ast::{Expr, LogExpr, Stage};
use crate::exec::{LabelSet, Pipeline};
use sightline_core::logs::{LogHints, LogQuerier};
use std::time::Instant;

pub use metric::window_contains;

/// What a query is evaluated over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Nanoseconds, inclusive.
    pub start_ns: i64,
    /// Nanoseconds. Log queries read `[start, end)`, as Loki's
    /// `query_range` does; metric queries evaluate at `start, start+step,
    /// ..., <= end`.
    pub end_ns: i64,
    /// Nanoseconds between evaluation steps (metric queries); an instant
    /// query has `start == end`.
    pub step_ns: i64,
    /// Newest lines first (Loki's default, `direction=backward`).
    pub backward: bool,
    /// Most lines a log query returns, across all streams.
    pub limit: usize,
}

/// The most series a metric query may answer with before it is refused
/// (Loki's `max_query_series` default).
pub const MAX_SERIES: usize = 500;

/// A line of an answer: (nanoseconds, line, structured metadata).
pub type Line = (i64, String, Vec<(String, String)>);

/// One stream of a log query's answer: its labels after the pipeline and
/// its lines in the asked order.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamResult {
    pub labels: LabelSet,
    pub entries: Vec<Line>,
}

/// One series of a metric query's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesResult {
    pub labels: LabelSet,
    /// (nanoseconds, value)
    pub points: Vec<(i64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    Streams(Vec<StreamResult>),
    /// An instant query's samples, at `Params::end_ns`.
    Vector(Vec<SeriesResult>),
    Matrix(Vec<SeriesResult>),
    Scalar(i64, f64),
}

/// What the evaluation read, for the answers' `stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    pub lines_scanned: u64,
    pub bytes_scanned: u64,
    pub lines_returned: u64,
    pub exec_seconds: f64,
}

/// An evaluation error: the query was valid but could not be answered
/// (Loki answers these with 400 or 422 and the message).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error("{0}")]
    Query(String),
    #[error("{0}")]
    Storage(String),
    #[error("maximum of series ({MAX_SERIES}) reached for a single query")]
    TooManySeries,
}

impl From<sightline_core::Error> for EvalError {
    fn from(e: sightline_core::Error) -> Self {
        EvalError::Storage(e.to_string())
    }
}

/// Evaluates `expr` for `tenant`. `instant` asks for one sample per series
/// at `params.end_ns` (`/query`); log queries cannot be instant.
pub fn evaluate(
    querier: &dyn LogQuerier,
    tenant: &str,
    expr: &Expr,
    params: &Params,
    instant: bool,
) -> Result<(QueryResult, Stats), EvalError> {
    let began = Instant::now();
    let mut stats = Stats::default();
    let result = match expr {
        Expr::Log(log) => {
            if instant {
                return Err(EvalError::Query(
                    "log queries are not supported as an instant query type, please change your query to a range query type".into(),
                ));
            }
            QueryResult::Streams(logs::select_lines(
                querier, tenant, log, params, &mut stats,
            )?)
        }
        Expr::Metric(m) => {
            let p = if instant {
                Params {
                    start_ns: params.end_ns,
                    step_ns: 1,
                    ..*params
                }
            } else {
                *params
            };
            let mut ev = metric::Evaluator::new(querier, tenant, &p, &mut stats);
            let v = ev.eval(m)?;
            let r = metric::into_result(v, &p, instant, m);
            if let QueryResult::Vector(s) | QueryResult::Matrix(s) = &r {
                if s.len() > MAX_SERIES {
                    return Err(EvalError::TooManySeries);
                }
            }
            r
        }
    };
    stats.exec_seconds = began.elapsed().as_secs_f64();
    Ok((result, stats))
}

/// The hints a log expression's leading `|=` filters give the store.
pub(crate) fn hints_for(log: &LogExpr, backward: bool, limit: Option<usize>) -> LogHints {
    let mut required = Vec::new();
    // Whether the hinted `|=` filters are the whole pipeline: only then
    // does every line the store hands over reach the answer, so only then
    // may the store stop at `limit` lines per stream (issue 15: with a
    // later filter, the newest `limit` lines of a stream may all fail it
    // while older ones pass).
    let mut all_hinted = true;
    for s in &log.stages {
        match s {
            Stage::Line(f) => {
                match crate::exec::LineMatcher::new(f)
                    .ok()
                    .and_then(|m| m.required_any)
                {
                    Some(r) => required.push(r),
                    None => all_hinted = false,
                }
            }
            _ => {
                all_hinted = false;
                break;
            }
        }
    }
    LogHints {
        required,
        backward,
        limit: limit.filter(|_| all_hinted),
    }
}

pub(crate) fn pipeline(log: &LogExpr) -> Result<Pipeline, EvalError> {
    Pipeline::new(&log.stages).map_err(EvalError::Query)
}

pub(crate) fn to_set(l: &sightline_core::Labels) -> LabelSet {
    l.iter()
        .map(|x| (x.name.to_string(), x.value.to_string()))
        .collect()
}

#[cfg(test)]
mod tests;
