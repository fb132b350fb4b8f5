//! The query engine: options, instant and range queries, and turning the
//! evaluator's per-step rows into API values.

use crate::error::{Error, Result};
use crate::eval::{without_name, Evaluator, Steps, Val};
use crate::value::{InstantSample, QueryResult, RangeSeries, Value};
use sightline_core::{MetricQuerier, QueryContext};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Engine settings; the defaults are Prometheus's.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (default 5m).
    pub lookback_delta: Duration,
    /// Most samples a query may hold in memory (default 50,000,000).
    pub max_samples: usize,
    /// Longest a query may run; `None` for no limit (default 2m).
    pub timeout: Option<Duration>,
    /// Step of subqueries written without one, `x[5m:]` (default 1m, the
    /// global evaluation interval in Prometheus).
    pub default_subquery_step: Duration,
    /// Prometheus's `promql-delayed-name-removal` feature (default on, as
    /// the upstream test suite runs): functions and operators mark
    /// `__name__` for removal and it goes at the end of the query, so
    /// `label_replace` can still read or keep it. Off: names go at once.
    pub delayed_name_removal: bool,
    /// Set to true (from another thread) to stop a running query with
    /// [`Error::Canceled`], e.g. when the HTTP client went away. The engine
    /// checks it as often as its deadline.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta: Duration::from_secs(300),
            max_samples: 50_000_000,
            timeout: Some(Duration::from_secs(120)),
            default_subquery_step: Duration::from_secs(60),
            delayed_name_removal: true,
            cancel: None,
        }
    }
}

/// Most points a range query may return per series, as Prometheus allows.
const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// Evaluates PromQL over a [`MetricQuerier`]. Cheap to share: it holds only options.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// An engine with these options.
    pub fn new(opts: EngineOptions) -> Self {
        Engine { opts }
    }

    /// The engine's options.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// A query context from the options: the deadline `timeout` from now
    /// and the `cancel` flag; no read limits. The `*_query` methods use
    /// it; callers that own a context (with read limits, or shared with
    /// other work) pass theirs to the `*_in` methods instead.
    pub fn context(&self) -> QueryContext {
        let mut ctx = QueryContext::new();
        if let Some(t) = self.opts.timeout {
            ctx = ctx.with_timeout(t);
        }
        if let Some(c) = &self.opts.cancel {
            ctx = ctx.with_cancel_flag(c.clone());
        }
        ctx
    }

    /// Evaluates `query` at `time_ms`.
    pub fn instant_query(
        &self,
        q: &dyn MetricQuerier,
        query: &str,
        time_ms: i64,
    ) -> Result<QueryResult> {
        self.instant_query_in(&self.context(), q, query, time_ms)
    }

    /// [`Engine::instant_query`] under the caller's context: its deadline,
    /// cancellation and read limits replace the options' `timeout` and
    /// `cancel`; `max_samples` (samples held at once) still applies.
    pub fn instant_query_in(
        &self,
        ctx: &QueryContext,
        q: &dyn MetricQuerier,
        query: &str,
        time_ms: i64,
    ) -> Result<QueryResult> {
        let expr = parse(query)?;
        self.instant_expr_in(ctx, q, &expr, query, time_ms)
    }

    /// Evaluates an expression parsed with [`parse`] at `time_ms`; `query`
    /// is its text, for annotation positions. For callers that evaluate the
    /// same query again and again (rules), so they parse it once.
    pub fn instant_expr(
        &self,
        q: &dyn MetricQuerier,
        expr: &promql_parser::parser::Expr,
        query: &str,
        time_ms: i64,
    ) -> Result<QueryResult> {
        self.instant_expr_in(&self.context(), q, expr, query, time_ms)
    }

    /// [`Engine::instant_expr`] under the caller's context (see
    /// [`Engine::instant_query_in`]).
    pub fn instant_expr_in(
        &self,
        ctx: &QueryContext,
        q: &dyn MetricQuerier,
        expr: &promql_parser::parser::Expr,
        query: &str,
        time_ms: i64,
    ) -> Result<QueryResult> {
        let mut ev = self.evaluator(ctx, q, query, time_ms, time_ms, 0, false);
        let steps = Steps {
            start: time_ms,
            step: 0,
            n: 1,
        };
        let val = ev.eval(expr, &steps)?;
        ev.check_reads()?;
        let value = match val {
            Val::Scalar(v) => Value::Scalar(time_ms, v[0]),
            Val::Str(s) => Value::String(time_ms, s),
            Val::Vector(rows) => {
                let out: Vec<InstantSample> = rows
                    .into_iter()
                    .filter(|r| r.has(0))
                    .map(|r| InstantSample {
                        h: r.hist(0).map(|h| (**h).clone()),
                        v: if r.hist(0).is_some() { 0.0 } else { r.vals[0] },
                        labels: if r.drop_name {
                            without_name(r.labels)
                        } else {
                            r.labels
                        },
                        t: time_ms,
                    })
                    .collect();
                check_unique(out.iter().map(|x| &x.labels))?;
                Value::Vector(out)
            }
            Val::Matrix(rows) => {
                let mut out: Vec<RangeSeries> = rows
                    .into_iter()
                    .map(|r| RangeSeries {
                        labels: if r.drop_name {
                            without_name(r.labels)
                        } else {
                            r.labels
                        },
                        points: r.samples,
                        histograms: r.hists,
                    })
                    .collect();
                out.sort_by(|a, b| a.labels.cmp(&b.labels));
                check_unique(out.iter().map(|x| &x.labels))?;
                Value::Matrix(out)
            }
        };
        Ok(QueryResult {
            value,
            warnings: ev.warnings,
            infos: ev.infos,
        })
    }

    /// Evaluates `query` at every `step_ms` from `start_ms` to `end_ms` inclusive.
    pub fn range_query(
        &self,
        q: &dyn MetricQuerier,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult> {
        self.range_query_in(&self.context(), q, query, start_ms, end_ms, step_ms)
    }

    /// [`Engine::range_query`] under the caller's context (see
    /// [`Engine::instant_query_in`]).
    pub fn range_query_in(
        &self,
        ctx: &QueryContext,
        q: &dyn MetricQuerier,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult> {
        if step_ms <= 0 {
            return Err(Error::Parse(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(Error::Parse(
                "end timestamp must not be before start time".into(),
            ));
        }
        // As Prometheus's API: more than 11,000 steps is refused, exactly
        // 11,000 (11,001 points) is allowed.
        if (end_ms - start_ms) / step_ms > MAX_POINTS_PER_SERIES {
            return Err(Error::Parse(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
            ));
        }
        let expr = parse(query)?;
        let mut ev = self.evaluator(ctx, q, query, start_ms, end_ms, step_ms, true);
        let n = ((end_ms - start_ms) / step_ms) as usize + 1;
        let steps = Steps {
            start: start_ms,
            step: step_ms,
            n,
        };
        let rows = ev.eval_sparse(&expr, &steps, "range query")?;
        ev.check_reads()?;
        let mut finished: Vec<RangeSeries> = Vec::with_capacity(rows.len());
        for r in rows {
            let labels = if r.drop_name {
                without_name(r.labels)
            } else {
                r.labels
            };
            finished.push(RangeSeries {
                labels,
                points: r.samples,
                histograms: r.hists,
            });
        }
        // Sorting by labels puts series that became equal after dropping
        // their names next to each other; they merge unless they collide at
        // a step.
        finished.sort_by(|a, b| a.labels.cmp(&b.labels));
        let mut out: Vec<RangeSeries> = Vec::with_capacity(finished.len());
        for RangeSeries {
            labels,
            points,
            histograms,
        } in finished
        {
            match out
                .last()
                .filter(|l| l.labels == labels)
                .map(|_| out.len() - 1)
            {
                Some(k) => {
                    // Rows that became equal after dropping names merge
                    // unless they collide at a step.
                    let existing = std::mem::take(&mut out[k].points);
                    let mut merged = Vec::with_capacity(existing.len() + points.len());
                    let (mut a, mut b) = (
                        existing.into_iter().peekable(),
                        points.into_iter().peekable(),
                    );
                    loop {
                        let next = match (a.peek(), b.peek()) {
                            (Some(x), Some(y)) if x.t == y.t => {
                                return Err(Error::exec(
                                    "vector cannot contain metrics with the same labelset",
                                ))
                            }
                            (Some(x), Some(y)) => {
                                if x.t < y.t {
                                    a.next()
                                } else {
                                    b.next()
                                }
                            }
                            (Some(_), None) => a.next(),
                            (None, Some(_)) => b.next(),
                            (None, None) => break,
                        };
                        merged.extend(next);
                    }
                    out[k].points = merged;
                    if !histograms.is_empty() {
                        let hs = &mut out[k].histograms;
                        hs.extend(histograms);
                        hs.sort_by_key(|h| h.t);
                        if hs.windows(2).any(|w| w[0].t == w[1].t) {
                            return Err(Error::exec(
                                "vector cannot contain metrics with the same labelset",
                            ));
                        }
                    }
                }
                None => out.push(RangeSeries {
                    labels,
                    points,
                    histograms,
                }),
            }
        }
        Ok(QueryResult {
            value: Value::Matrix(out),
            warnings: ev.warnings,
            infos: ev.infos,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn evaluator<'a>(
        &'a self,
        ctx: &QueryContext,
        q: &'a dyn MetricQuerier,
        query: &'a str,
        start: i64,
        end: i64,
        step: i64,
        range: bool,
    ) -> Evaluator<'a> {
        Evaluator {
            q,
            lookback: self.opts.lookback_delta.as_millis() as i64,
            max_samples: self.opts.max_samples,
            subquery_step: (self.opts.default_subquery_step.as_millis() as i64).max(1),
            query,
            qstart: start,
            qend: end,
            qstep: step,
            delayed_name_removal: self.opts.delayed_name_removal,
            ctx: ctx.clone(),
            range_query: range,
            samples: 0,
            warnings: Vec::new(),
            infos: Vec::new(),
            stats_hints: false,
        }
    }
}

/// Fails when two results share a label set (after names were dropped),
/// as Prometheus does; sorts references, so nothing is copied.
fn check_unique<'a>(labels: impl Iterator<Item = &'a sightline_core::Labels>) -> Result<()> {
    let mut all: Vec<&sightline_core::Labels> = labels.collect();
    all.sort_unstable();
    if all.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::exec(
            "vector cannot contain metrics with the same labelset",
        ));
    }
    Ok(())
}

/// Parses a query; a refused query becomes a bad-data error with the
/// position and message Prometheus 3 gives ([`crate::parse_error`]).
pub fn parse(query: &str) -> Result<promql_parser::parser::Expr> {
    let q = normalize_hex_escapes(query);
    promql_parser::parser::parse(&q)
        .map_err(|e| Error::Parse(crate::parse_error::prometheus_message(query, &e)))
}

/// Rewrites `\xNN` escapes in string literals the way Go reads them: as
/// bytes. `promql-parser` reads each as a code point, so `"\xc3\xa9"` would
/// become two characters instead of `é`. Bytes that are not valid UTF-8
/// become U+FFFD, which label-name checks then reject, as Prometheus rejects
/// invalid UTF-8.
fn normalize_hex_escapes(query: &str) -> std::borrow::Cow<'_, str> {
    if !query.contains("\\x") {
        return std::borrow::Cow::Borrowed(query);
    }
    let b = query.as_bytes();
    let mut out = String::with_capacity(query.len());
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        match quote {
            None => {
                if c == b'"' || c == b'\'' {
                    quote = Some(c);
                }
                let ch = query[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
            Some(q) => {
                if c == b'\\' && i + 1 < b.len() && b[i + 1] == b'x' {
                    let mut bytes = Vec::new();
                    let mut j = i;
                    while j + 4 <= b.len() && b[j] == b'\\' && b[j + 1] == b'x' {
                        match std::str::from_utf8(&b[j + 2..j + 4])
                            .ok()
                            .and_then(|h| u8::from_str_radix(h, 16).ok())
                        {
                            Some(v) => bytes.push(v),
                            None => break,
                        }
                        j += 4;
                    }
                    if bytes.is_empty() || bytes.iter().all(|x| *x < 0x80) {
                        out.push_str(&query[i..i + 2]);
                        i += 2;
                        continue;
                    }
                    for ch in String::from_utf8_lossy(&bytes).chars() {
                        out.push_str(&format!("\\U{:08x}", ch as u32));
                    }
                    i = j;
                } else if c == b'\\' {
                    out.push_str(&query[i..(i + 2).min(b.len())]);
                    i += 2;
                } else {
                    if c == q {
                        quote = None;
                    }
                    let ch = query[i..].chars().next().unwrap_or(' ');
                    out.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::MemStore;

    /// Prometheus 2.42 answers `query_range?query=1&start=0&end=11000&step=1`
    /// with 11,001 points and refuses one step more (checked against the
    /// running 2.42 in the API's differential work).
    #[test]
    fn eleven_thousand_steps_are_allowed_and_one_more_is_not() {
        let e = Engine::new(EngineOptions::default());
        let store = MemStore::new();
        let ok = e.range_query(&store, "1", 0, 11_000_000, 1_000).unwrap();
        match ok.value {
            Value::Matrix(m) => assert_eq!(m[0].points.len(), 11_001),
            other => panic!("expected a matrix, got {other:?}"),
        }
        let err = e
            .range_query(&store, "1", 0, 11_001_000, 1_000)
            .unwrap_err();
        assert!(
            err.to_string().contains("exceeded maximum resolution"),
            "{err}"
        );
    }
}
