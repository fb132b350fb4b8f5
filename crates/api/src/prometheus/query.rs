//! `/api/v1/query`, `/api/v1/query_range` and `/api/v1/format_query`.
//!
//! Parameters are checked in the order Prometheus checks them, so the
//! first error a client sees is the one Prometheus would report. Queries
//! run on tokio's blocking pool behind a semaphore of
//! `--query.max-concurrency` slots: evaluation is CPU-bound and would
//! otherwise stall the async workers that serve scrapes and writes.

use super::api_error;
use super::format::{write_query_body, PIECE};
use super::params::{invalid_param, now_ms, parse_duration_ns, parse_time, time_param, Form};
use crate::tenant::Scoped;
use crate::ApiState;
use axum::body::{Body, Bytes};
use axum::extract::RawQuery;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sightline_core::{ErrorKind, MetricQuerier};
use sightline_promql::{Engine, EngineOptions, QueryResult};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Most points a range query may return per series, as Prometheus allows.
const MAX_POINTS_PER_SERIES: i128 = 11_000;

/// The PromQL engine behind the query endpoints, with Prometheus's query
/// limits: `--query.timeout`, `--query.max-samples`,
/// `--query.lookback-delta` (all in [`EngineOptions`]) and
/// `--query.max-concurrency`.
#[derive(Debug)]
pub struct QueryEngine {
    opts: EngineOptions,
    gate: Arc<Semaphore>,
}

impl QueryEngine {
    /// An engine with `opts` that runs at most `max_concurrency` queries at
    /// once (at least one); the rest wait, and waiting counts against
    /// their timeout, as in Prometheus.
    pub fn new(opts: EngineOptions, max_concurrency: usize) -> Self {
        QueryEngine {
            opts,
            gate: Arc::new(Semaphore::new(max_concurrency.max(1))),
        }
    }

    /// The engine options in force.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// This engine with a tenant's query limits (`0`: none) where they
    /// are tighter, sharing its concurrency gate.
    pub fn tightened(&self, timeout: Option<Duration>, max_samples: usize) -> QueryEngine {
        let mut opts = self.opts.clone();
        if let Some(t) = timeout {
            opts.timeout = Some(opts.timeout.map_or(t, |o| o.min(t)));
        }
        if max_samples > 0 && (opts.max_samples == 0 || max_samples < opts.max_samples) {
            opts.max_samples = max_samples;
        }
        QueryEngine {
            opts,
            gate: self.gate.clone(),
        }
    }
}

impl Default for QueryEngine {
    /// Prometheus's defaults: 2m timeout, 50M samples, 5m lookback, 20 queries.
    fn default() -> Self {
        QueryEngine::new(EngineOptions::default(), 20)
    }
}

fn json_ok(body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// The `timeout` parameter, if given.
fn timeout_param(form: &Form) -> Result<Option<Duration>, String> {
    let s = form.value("timeout");
    if s.is_empty() {
        return Ok(None);
    }
    let ns = parse_duration_ns(s).map_err(|e| invalid_param("timeout", e))?;
    // A zero or negative timeout expires at once in Go's context.
    Ok(Some(Duration::from_nanos(ns.max(0) as u64)))
}

/// Maps an engine error as Prometheus's API does: parse errors (and bad
/// regular expressions, which Prometheus finds while parsing) are
/// `bad_data` naming the `query` parameter; the rest keep their kind.
fn engine_error(e: sightline_promql::Error) -> Response {
    let kind = e.kind();
    if kind == ErrorKind::BadData {
        return api_error(kind, &invalid_param("query", &e));
    }
    api_error(kind, &e.to_string())
}

/// Evaluates `expr` at `time_ms` under the same slots and timeout as
/// `/api/v1/query`, for callers that render the result themselves (the
/// web pages). Errors are worded as the API words them.
pub(crate) async fn evaluate_instant(
    state: &ApiState,
    expr: String,
    time_ms: i64,
) -> Result<QueryResult, String> {
    let svc = state.promql.clone();
    let started = Instant::now();
    let acquire = svc.gate.clone().acquire_owned();
    let permit = match svc.opts.timeout {
        Some(t) => tokio::time::timeout(t, acquire)
            .await
            .map_err(|_| "query timed out in query queue".to_owned())?,
        None => acquire.await,
    }
    .map_err(|_| "the query gate is closed".to_owned())?;
    let mut opts = svc.opts.clone();
    opts.timeout = opts.timeout.map(|t| t.saturating_sub(started.elapsed()));
    let querier = state.querier.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        Engine::new(opts).instant_query(querier.as_ref(), &expr, time_ms)
    })
    .await
    .map_err(|e| format!("query task failed: {e}"))?
    .map_err(|e| match e.kind() {
        ErrorKind::BadData => invalid_param("query", &e),
        _ => e.to_string(),
    })
}

/// Raises the engine's cancel flag when dropped.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Waits for a slot, then evaluates on the blocking pool with the smaller
/// of the server's and the request's timeouts, counting the wait.
async fn run<F>(state: ApiState, param_timeout: Option<Duration>, eval: F) -> Response
where
    F: FnOnce(&Engine, &dyn MetricQuerier) -> sightline_promql::Result<QueryResult>
        + Send
        + 'static,
{
    let started = Instant::now();
    let svc = state.promql.clone();
    let timeout = match (svc.opts.timeout, param_timeout) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let acquire = svc.gate.clone().acquire_owned();
    let permit = match timeout {
        Some(t) => match tokio::time::timeout(t, acquire).await {
            Ok(p) => p,
            Err(_) => return api_error(ErrorKind::Timeout, "query timed out in query queue"),
        },
        None => acquire.await,
    };
    let Ok(permit) = permit else {
        return api_error(ErrorKind::Internal, "the query gate is closed");
    };
    let mut opts = svc.opts.clone();
    opts.timeout = timeout.map(|t| t.saturating_sub(started.elapsed()));
    // A client that goes away drops this future; the guard then tells the
    // engine to stop, which frees the slot for the next query.
    let cancel = Arc::new(AtomicBool::new(false));
    opts.cancel = Some(cancel.clone());
    let _cancel_on_drop = CancelOnDrop(cancel);
    let querier = state.querier.clone();
    // The blocking task answers once with the result's fate: an error, the
    // whole body (small answers: sent with a length), or "streaming", after
    // which the body follows in pieces through `pieces_rx` while the task
    // is still encoding, so the client reads one piece while the next is
    // written, and a large matrix never sits in memory as JSON in full.
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<First>();
    let (pieces_tx, pieces_rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let engine = Engine::new(opts);
        let r = match eval(&engine, querier.as_ref()) {
            Ok(r) => r,
            Err(e) => {
                let _ = first_tx.send(First::Error(e));
                return;
            }
        };
        let mut first_tx = Some(first_tx);
        let mut pending: Option<Vec<u8>> = None;
        write_query_body(r, PIECE, &mut |piece| {
            if let Some(prev) = pending.take() {
                if let Some(tx) = first_tx.take() {
                    if tx.send(First::Streaming).is_err() {
                        return false;
                    }
                }
                if pieces_tx.blocking_send(Bytes::from(prev)).is_err() {
                    return false;
                }
            }
            pending = Some(piece);
            true
        });
        // The last piece: the whole body if it is the only one.
        if let Some(last) = pending {
            match first_tx.take() {
                Some(tx) => {
                    let _ = tx.send(First::Whole(last));
                }
                None => {
                    let _ = pieces_tx.blocking_send(Bytes::from(last));
                }
            }
        }
    });
    match first_rx.await {
        Ok(First::Whole(body)) => json_ok(body),
        Ok(First::Streaming) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            Body::new(Pieces(pieces_rx)),
        )
            .into_response(),
        Ok(First::Error(e)) => engine_error(e),
        // The task ended without a word: it panicked.
        Err(_) => match task.await {
            Err(e) => api_error(ErrorKind::Internal, &format!("query task failed: {e}")),
            Ok(()) => api_error(ErrorKind::Internal, "query task ended without a result"),
        },
    }
}

/// What the query task reports before any body is sent.
enum First {
    Error(sightline_promql::Error),
    Whole(Vec<u8>),
    Streaming,
}

/// A response body fed piece by piece by the query task; dropping it (the
/// client went away) makes the task's next send fail, which stops encoding.
struct Pieces(tokio::sync::mpsc::Receiver<Bytes>);

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|piece| piece.map(|b| Ok(http_body::Frame::data(b))))
    }
}

/// `GET|POST /api/v1/query`: `query`, `time` (default now), `timeout`.
pub(super) async fn instant(
    Scoped(state): Scoped,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::new(raw.as_deref(), &headers, &body);
    let t = match time_param(&form, "time", now_ms()) {
        Ok(t) => t,
        Err(m) => return api_error(ErrorKind::BadData, &m),
    };
    let timeout = match timeout_param(&form) {
        Ok(t) => t,
        Err(m) => return api_error(ErrorKind::BadData, &m),
    };
    let query = form.value("query").to_owned();
    run(state, timeout, move |engine, q| {
        engine.instant_query(q, &query, t)
    })
    .await
}

/// The checked parameters of a range query, in milliseconds.
#[derive(Debug, PartialEq)]
pub(crate) struct RangeParams {
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) step: i64,
}

/// Prometheus's checks, in its order, with its messages.
pub(crate) fn range_params(form: &Form) -> Result<RangeParams, String> {
    let start = parse_time(form.value("start")).map_err(|e| invalid_param("start", e))?;
    let end = parse_time(form.value("end")).map_err(|e| invalid_param("end", e))?;
    if end < start {
        return Err(invalid_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    let step_ns = parse_duration_ns(form.value("step")).map_err(|e| invalid_param("step", e))?;
    // The engine steps in whole milliseconds; a step that truncates to
    // zero would never advance.
    if step_ns <= 0 || step_ns < 1_000_000 {
        return Err(invalid_param(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    // Go divides durations in nanoseconds.
    if (end as i128 - start as i128) * 1_000_000 / step_ns as i128 > MAX_POINTS_PER_SERIES {
        return Err(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
                .into(),
        );
    }
    Ok(RangeParams {
        start,
        end,
        step: step_ns / 1_000_000,
    })
}

/// Prometheus refuses a range query over anything but an instant vector
/// or a scalar before evaluating it (`NewRangeQuery`), as bad data.
fn check_range_type(query: &str) -> Result<(), String> {
    use promql_parser::parser::value::ValueType;
    let expr = sightline_promql::parse(query).map_err(|e| invalid_param("query", e))?;
    let documented = match expr.value_type() {
        ValueType::Vector | ValueType::Scalar => return Ok(()),
        ValueType::Matrix => "range vector",
        ValueType::String => "string",
    };
    Err(invalid_param(
        "query",
        format!(
            "invalid expression type {documented:?} for range query, must be Scalar or instant Vector"
        ),
    ))
}

/// `GET|POST /api/v1/query_range`: `query`, `start`, `end`, `step`, `timeout`.
pub(super) async fn range(
    Scoped(state): Scoped,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::new(raw.as_deref(), &headers, &body);
    let p = match range_params(&form) {
        Ok(p) => p,
        Err(m) => return api_error(ErrorKind::BadData, &m),
    };
    let timeout = match timeout_param(&form) {
        Ok(t) => t,
        Err(m) => return api_error(ErrorKind::BadData, &m),
    };
    let query = form.value("query").to_owned();
    if let Err(m) = check_range_type(&query) {
        return api_error(ErrorKind::BadData, &m);
    }
    run(state, timeout, move |engine, q| {
        engine.range_query(q, &query, p.start, p.end, p.step)
    })
    .await
}

/// `GET|POST /api/v1/format_query`: the query pretty-printed by the
/// parser's printer (Prometheus's `Expr.Pretty(0)` layout: one line while
/// it fits in 100 characters, then one operand per indented line).
pub(super) async fn format(RawQuery(raw): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::new(raw.as_deref(), &headers, &body);
    match sightline_promql::parse(form.value("query")) {
        Ok(expr) => super::api_success(serde_json::Value::String(expr.prettify())),
        Err(e) => api_error(ErrorKind::BadData, &invalid_param("query", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(q: &str) -> Form {
        Form::new(Some(q), &HeaderMap::new(), &Bytes::new())
    }

    #[test]
    fn range_params_check_in_prometheus_order() {
        assert_eq!(
            range_params(&form("start=10&end=20&step=5")).unwrap(),
            RangeParams {
                start: 10_000,
                end: 20_000,
                step: 5_000
            }
        );
        assert_eq!(
            range_params(&form("end=20&step=5")).unwrap_err(),
            r#"invalid parameter "start": cannot parse "" to a valid timestamp"#
        );
        assert_eq!(
            range_params(&form("start=20&end=10&step=x")).unwrap_err(),
            r#"invalid parameter "end": end timestamp must not be before start time"#
        );
        assert_eq!(
            range_params(&form("start=10&end=20&step=0")).unwrap_err(),
            r#"invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer"#
        );
        assert_eq!(
            range_params(&form("start=0&end=11001&step=1")).unwrap_err(),
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
        );
        // Exactly 11,000 intervals (11,001 points) is still allowed.
        assert!(range_params(&form("start=0&end=11000&step=1")).is_ok());
        assert_eq!(
            range_params(&form("start=0&end=10&step=1m30s"))
                .unwrap()
                .step,
            90_000
        );
    }
}
