//! Jaeger's query API over a [`TraceQuerier`]: what Jaeger's own UI and
//! Grafana's Jaeger data source call (`/api/services`,
//! `/api/services/{service}/operations`, `/api/operations`, `/api/traces`,
//! `/api/traces/{id}`, `/api/dependencies`). Answers use jaeger-query's
//! envelope `{data, total, limit, offset, errors}` and its JSON span model
//! ([`model`]); times are microseconds, as Jaeger's.
//!
//! The routes live under [`BASE_PATH`] (`/jaeger`, as jaeger-query's
//! `--query.base-path` would put them): Tempo's `/api/traces/{id}` answers
//! at the root of the same port with another body, so Jaeger clients point
//! at `http://host:port/jaeger`.
//!
//! - [`ingest`]: the collector's span intake (`POST /api/traces`, Thrift over
//!   HTTP from Jaeger clients), at the root path as Jaeger's collector serves it.

// Parameter parsers return the 400 answer itself: built once per request,
// its size in a `Result` costs nothing that matters here.
#![allow(clippy::result_large_err)]

pub mod ingest;
pub mod model;

use crate::tenant::tenant;
use crate::trace_common::dependencies;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sightline_core::duration::parse_go;
use sightline_core::traces::{Span, SpanPredicate, TraceHints, TraceId, TraceQuerier};
use std::sync::Arc;

/// What the query routes read.
#[derive(Clone)]
pub struct JaegerState {
    pub querier: Arc<dyn TraceQuerier>,
}

/// The traces a search returns when the request names no `limit`.
pub const DEFAULT_LIMIT: usize = 100;
/// The range a search covers when the request names no `start`.
const DEFAULT_LOOKBACK_NS: i64 = 3600 * 1_000_000_000;

/// Where the query API is mounted.
pub const BASE_PATH: &str = "/jaeger";

/// Jaeger's query routes, under [`BASE_PATH`].
pub fn query_routes(querier: Arc<dyn TraceQuerier>) -> Router {
    let api = Router::new()
        .route("/api/services", get(services))
        .route(
            "/api/services/{service}/operations",
            get(service_operations),
        )
        .route("/api/operations", get(operations))
        .route("/api/traces", get(find_traces))
        .route("/api/traces/{id}", get(trace_by_id))
        .route("/api/dependencies", get(deps))
        .with_state(JaegerState { querier });
    Router::new().nest(BASE_PATH, api)
}

/// jaeger-query's envelope around `data`.
fn envelope(data: Value, total: usize) -> Response {
    Json(json!({"data": data, "total": total, "limit": 0, "offset": 0, "errors": Value::Null}))
        .into_response()
}

/// jaeger-query's error envelope.
fn error(status: StatusCode, msg: impl std::fmt::Display) -> Response {
    (
        status,
        Json(json!({
            "data": Value::Null, "total": 0, "limit": 0, "offset": 0,
            "errors": [{"code": status.as_u16(), "msg": msg.to_string()}],
        })),
    )
        .into_response()
}

fn params(raw: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter()
        .find(|(a, v)| a == k && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

fn micros(p: &[(String, String)], k: &str) -> Result<Option<i64>, Response> {
    param(p, k)
        .map(|v| {
            v.parse::<i64>().map(|us| us.saturating_mul(1000)).map_err(|_| {
                error(
                    StatusCode::BAD_REQUEST,
                    format!("unable to parse param '{k}': {v:?} is not microseconds since the epoch"),
                )
            })
        })
        .transpose()
}

/// `[start, end]` in nanoseconds from `start`/`end` (µs) and `lookback`.
fn range(p: &[(String, String)]) -> Result<(i64, i64), Response> {
    let end = micros(p, "end")?.unwrap_or_else(crate::loki::now_ns);
    let start = match micros(p, "start")? {
        Some(s) => s,
        None => {
            let back = match param(p, "lookback").filter(|v| *v != "custom") {
                Some(v) => parse_go(v).map_err(|e| {
                    error(
                        StatusCode::BAD_REQUEST,
                        format!("unable to parse param 'lookback': {e}"),
                    )
                })?,
                None => DEFAULT_LOOKBACK_NS,
            };
            end - back
        }
    };
    Ok((start, end))
}

/// Runs a store call off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> sightline_core::Result<T> + Send + 'static,
) -> Result<T, Response> {
    crate::trace_common::off_workers(f)
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e))
}

async fn services(State(st): State<JaegerState>, h: HeaderMap) -> Response {
    let t = tenant(&h);
    match blocking(move || st.querier.services(&t, i64::MIN, i64::MAX)).await {
        Ok(s) => {
            let n = s.len();
            envelope(json!(s), n)
        }
        Err(e) => e,
    }
}

async fn service_operations(
    State(st): State<JaegerState>,
    h: HeaderMap,
    Path(service): Path<String>,
) -> Response {
    let t = tenant(&h);
    match blocking(move || {
        st.querier
            .operations(&t, Some(&service), i64::MIN, i64::MAX)
    })
    .await
    {
        Ok(ops) => {
            let mut names: Vec<String> = ops.into_iter().map(|(n, _)| n).collect();
            names.dedup();
            let n = names.len();
            envelope(json!(names), n)
        }
        Err(e) => e,
    }
}

/// `/api/operations?service=&spanKind=`: `[{name, spanKind}]`.
async fn operations(
    State(st): State<JaegerState>,
    h: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = params(q);
    let Some(service) = param(&p, "service").map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "parameter 'service' is required");
    };
    let kind = param(&p, "spanKind").map(str::to_owned);
    let t = tenant(&h);
    match blocking(move || {
        st.querier
            .operations(&t, Some(&service), i64::MIN, i64::MAX)
    })
    .await
    {
        Ok(ops) => {
            let data: Vec<Value> = ops
                .into_iter()
                .filter(|(_, k)| kind.as_deref().is_none_or(|want| want == k.name()))
                .map(|(n, k)| {
                    let kind = match k {
                        sightline_core::traces::SpanKind::Unspecified => "",
                        k => k.name(),
                    };
                    json!({"name": n, "spanKind": kind})
                })
                .collect();
            let n = data.len();
            envelope(json!(data), n)
        }
        Err(e) => e,
    }
}

/// What a trace search asks of one span (all on the same span, as
/// Jaeger's span stores match).
struct SpanQuery {
    service: String,
    operation: Option<String>,
    tags: Vec<(String, String)>,
    min_ns: Option<i64>,
    max_ns: Option<i64>,
    start: i64,
    end: i64,
}

impl SpanQuery {
    fn matches(&self, s: &Span) -> bool {
        s.service_name() == self.service
            && self.operation.as_deref().is_none_or(|o| s.name == o)
            && s.start_ns >= self.start
            && s.start_ns <= self.end
            && self.min_ns.is_none_or(|m| s.duration_ns() >= m)
            && self.max_ns.is_none_or(|m| s.duration_ns() <= m)
            && self.tags.iter().all(|(k, v)| model::tag_matches(s, k, v))
    }
}

fn duration_param(p: &[(String, String)], k: &str) -> Result<Option<i64>, Response> {
    param(p, k)
        .map(|v| {
            parse_go(v).map_err(|e| {
                error(
                    StatusCode::BAD_REQUEST,
                    format!("unable to parse param '{k}': {e}"),
                )
            })
        })
        .transpose()
}

/// Tags from `tags={"k":"v"}` (JSON, as Jaeger's UI sends them) and
/// `tag=k:v` (repeatable).
fn tag_params(p: &[(String, String)]) -> Result<Vec<(String, String)>, Response> {
    let mut tags = Vec::new();
    for (k, v) in p {
        match k.as_str() {
            "tags" if !v.is_empty() => {
                let m: serde_json::Map<String, Value> = serde_json::from_str(v).map_err(|e| {
                    error(
                        StatusCode::BAD_REQUEST,
                        format!("malformed 'tags' parameter, expecting JSON object: {e}"),
                    )
                })?;
                for (k, v) in m {
                    let v = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    tags.push((k, v));
                }
            }
            "tag" => {
                let Some((a, b)) = v.split_once(':') else {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        format!("malformed 'tag' parameter, expecting key:value, received: {v}"),
                    ));
                };
                tags.push((a.to_owned(), b.to_owned()));
            }
            _ => {}
        }
    }
    Ok(tags)
}

fn parse_id(v: &str) -> Result<TraceId, Response> {
    TraceId::parse_hex(v).map_err(|e| error(StatusCode::BAD_REQUEST, e))
}

async fn find_traces(
    State(st): State<JaegerState>,
    h: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = params(q);
    let t = tenant(&h);
    // `traceID=` (repeatable) asks for those traces, as Jaeger's UI does
    // to compare traces.
    let ids: Vec<&str> = p
        .iter()
        .filter(|(k, v)| k == "traceID" && !v.is_empty())
        .map(|(_, v)| v.as_str())
        .collect();
    if !ids.is_empty() {
        let ids: Vec<TraceId> = match ids.into_iter().map(parse_id).collect() {
            Ok(v) => v,
            Err(e) => return e,
        };
        let out = blocking(move || {
            let mut out = Vec::new();
            for id in ids {
                let spans = st.querier.trace(&t, id, None)?;
                if !spans.is_empty() {
                    out.push(model::trace_json(&spans));
                }
            }
            Ok(out)
        })
        .await;
        return match out {
            Ok(v) => {
                let n = v.len();
                envelope(json!(v), n)
            }
            Err(e) => e,
        };
    }
    let Some(service) = param(&p, "service").map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "parameter 'service' is required");
    };
    let built = (|| {
        let (start, end) = range(&p)?;
        let limit = match param(&p, "limit") {
            None => DEFAULT_LIMIT,
            Some(v) => v.parse::<usize>().map_err(|_| {
                error(
                    StatusCode::BAD_REQUEST,
                    format!("unable to parse param 'limit': {v:?}"),
                )
            })?,
        };
        let q = SpanQuery {
            service,
            operation: param(&p, "operation").map(str::to_owned),
            tags: tag_params(&p)?,
            min_ns: duration_param(&p, "minDuration")?,
            max_ns: duration_param(&p, "maxDuration")?,
            start,
            end,
        };
        if let (Some(a), Some(b)) = (q.min_ns, q.max_ns) {
            if a > b {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "'maxDuration' should be greater than 'minDuration'",
                ));
            }
        }
        Ok((q, limit))
    })();
    let (q, limit) = match built {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut hints = TraceHints::range(q.start, q.end);
    hints
        .required
        .push(SpanPredicate::ServiceName(q.service.clone()));
    if let Some(op) = &q.operation {
        hints.required.push(SpanPredicate::SpanName(op.clone()));
    }
    if let Some(m) = q.min_ns {
        hints.required.push(SpanPredicate::MinDuration(m));
    }
    if let Some(m) = q.max_ns {
        hints.required.push(SpanPredicate::MaxDuration(m));
    }
    let found = blocking(move || {
        let mut out = Vec::new();
        if limit > 0 {
            st.querier.scan(&t, &hints, &mut |spans| {
                if spans.iter().any(|s| q.matches(s)) {
                    out.push(model::trace_json(&spans));
                }
                out.len() < limit
            })?;
        }
        Ok(out)
    })
    .await;
    match found {
        Ok(v) => {
            let n = v.len();
            envelope(json!(v), n)
        }
        Err(e) => e,
    }
}

async fn trace_by_id(
    State(st): State<JaegerState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let p = params(q);
    let range = match (micros(&p, "start"), micros(&p, "end")) {
        (Ok(Some(a)), Ok(Some(b))) => Some((a, b)),
        (Err(e), _) | (_, Err(e)) => return e,
        _ => None,
    };
    let t = tenant(&h);
    match blocking(move || st.querier.trace(&t, id, range)).await {
        Ok(spans) if spans.is_empty() => error(StatusCode::NOT_FOUND, "trace not found"),
        Ok(spans) => envelope(json!([model::trace_json(&spans)]), 1),
        Err(e) => e,
    }
}

/// `/api/dependencies?endTs=&lookback=` (milliseconds): calls between
/// services over the traces in the window.
async fn deps(State(st): State<JaegerState>, h: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let p = params(q);
    let ms = |k: &str, default: i64| -> Result<i64, Response> {
        param(&p, k).map_or(Ok(default), |v| {
            v.parse::<i64>().map_err(|_| {
                error(
                    StatusCode::BAD_REQUEST,
                    format!("unable to parse param '{k}': {v:?}"),
                )
            })
        })
    };
    let end_ms = match ms("endTs", crate::loki::now_ns() / 1_000_000) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let lookback_ms = match ms("lookback", 24 * 3600 * 1000) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let t = tenant(&h);
    let hints = TraceHints::range((end_ms - lookback_ms) * 1_000_000, end_ms * 1_000_000);
    let links = blocking(move || {
        let mut traces = Vec::new();
        st.querier.scan(&t, &hints, &mut |spans| {
            traces.push(spans);
            true
        })?;
        Ok(dependencies(traces.iter().map(Vec::as_slice)))
    })
    .await;
    match links {
        Ok(links) => {
            let data: Vec<Value> = links
                .iter()
                .map(|l| json!({"parent": l.parent, "child": l.child, "callCount": l.calls}))
                .collect();
            let n = data.len();
            envelope(json!(data), n)
        }
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests;
