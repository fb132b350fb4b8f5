//! Zipkin's v2 read API over a [`TraceQuerier`]: what Zipkin's UI and
//! Grafana's Zipkin data source call (`/api/v2/services`, `/spans`,
//! `/remoteServices`, `/traces`, `/trace/{id}`, `/traceMany`,
//! `/dependencies`, `/autocompleteKeys`, `/autocompleteValues`). Spans in
//! Zipkin's v2 JSON ([`model`]); durations in microseconds, `endTs` and
//! `lookback` in milliseconds, errors as plain text, as Zipkin's server
//! answers.
//!
//! - [`ingest`]: the span intake (`POST /api/v2/spans`, JSON and proto3).

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
use sightline_core::traces::{Span, SpanPredicate, TagScope, TraceHints, TraceId, TraceQuerier};
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Clone)]
pub struct ZipkinState {
    pub querier: Arc<dyn TraceQuerier>,
}

/// Zipkin's default `limit` and `lookback` (a day).
const DEFAULT_LIMIT: usize = 10;
const DEFAULT_LOOKBACK_MS: i64 = 86_400_000;

/// Zipkin's read routes.
pub fn query_routes(querier: Arc<dyn TraceQuerier>) -> Router {
    Router::new()
        .route("/api/v2/services", get(services))
        .route("/api/v2/spans", get(span_names))
        .route("/api/v2/remoteServices", get(remote_services))
        .route("/api/v2/traces", get(traces))
        .route("/api/v2/trace/{id}", get(trace))
        .route("/api/v2/traceMany", get(trace_many))
        .route("/api/v2/dependencies", get(deps))
        .route("/api/v2/autocompleteKeys", get(autocomplete_keys))
        .route("/api/v2/autocompleteValues", get(autocomplete_values))
        .with_state(ZipkinState { querier })
}

fn bad(msg: impl std::fmt::Display) -> Response {
    (StatusCode::BAD_REQUEST, format!("{msg}")).into_response()
}

struct Params(Vec<(String, String)>);

impl Params {
    fn new(raw: Option<String>) -> Params {
        Params(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(a, v)| a == k && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
    fn int(&self, k: &str) -> Result<Option<i64>, Response> {
        self.get(k)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| bad(format!("{k} should be an integer, was {v:?}")))
            })
            .transpose()
    }
    /// `[endTs - lookback, endTs]` in nanoseconds.
    fn window(&self) -> Result<(i64, i64), Response> {
        let end_ms = self
            .int("endTs")?
            .unwrap_or_else(|| crate::loki::now_ns() / 1_000_000);
        let back = self.int("lookback")?.unwrap_or(DEFAULT_LOOKBACK_MS);
        if end_ms <= 0 {
            return Err(bad("endTs should be positive, in epoch milliseconds"));
        }
        if back <= 0 {
            return Err(bad("lookback should be positive, in milliseconds"));
        }
        Ok(((end_ms - back) * 1_000_000, end_ms * 1_000_000))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> sightline_core::Result<T> + Send + 'static,
) -> Result<T, Response> {
    crate::trace_common::off_workers(f)
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e).into_response())
}

fn json_or<T: serde::Serialize>(r: Result<T, Response>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => e,
    }
}

async fn services(State(st): State<ZipkinState>, h: HeaderMap) -> Response {
    let t = tenant(&h);
    json_or(
        blocking(move || {
            let s: BTreeSet<String> = st
                .querier
                .services(&t, i64::MIN, i64::MAX)?
                .into_iter()
                .map(|s| s.to_lowercase())
                .collect();
            Ok(s)
        })
        .await,
    )
}

fn service_param(p: &Params) -> Result<String, Response> {
    p.get("serviceName")
        .map(str::to_lowercase)
        .ok_or_else(|| bad("serviceName is required"))
}

async fn span_names(
    State(st): State<ZipkinState>,
    h: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q);
    let service = match service_param(&p) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let t = tenant(&h);
    json_or(
        blocking(move || {
            // The store keeps service names as sent; Zipkin's are lowercase.
            let mut names = BTreeSet::new();
            for svc in st.querier.services(&t, i64::MIN, i64::MAX)? {
                if svc.to_lowercase() == service {
                    for (n, _) in st.querier.operations(&t, Some(&svc), i64::MIN, i64::MAX)? {
                        names.insert(n.to_lowercase());
                    }
                }
            }
            Ok(names)
        })
        .await,
    )
}

async fn remote_services(
    State(st): State<ZipkinState>,
    h: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q);
    let service = match service_param(&p) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let (start, end) = match p.window() {
        Ok(w) => w,
        Err(e) => return e,
    };
    let t = tenant(&h);
    let mut hints = TraceHints::range(start, end);
    hints.required.push(SpanPredicate::AttrExists {
        scope: TagScope::Span,
        key: "peer.service".into(),
    });
    json_or(
        blocking(move || {
            let mut out = BTreeSet::new();
            st.querier.scan(&t, &hints, &mut |spans| {
                for s in spans.iter().filter(|s| model::service(s) == service) {
                    out.extend(model::remote_service(s));
                }
                true
            })?;
            Ok(out)
        })
        .await,
    )
}

/// One term of `annotationQuery`: `key=value` (a tag) or `value` (an
/// annotation value or a tag key).
enum Term {
    Tag(String, String),
    Bare(String),
}

/// What `/api/v2/traces` asks of a trace: each condition met by some span
/// of the service (all spans when no service is named), as Zipkin's
/// `QueryRequest` tests a trace.
struct TraceQuery {
    service: Option<String>,
    span_name: Option<String>,
    remote: Option<String>,
    terms: Vec<Term>,
    min_us: Option<i64>,
    max_us: Option<i64>,
}

impl TraceQuery {
    fn parse(p: &Params) -> Result<TraceQuery, Response> {
        let terms = p
            .get("annotationQuery")
            .map(|q| {
                q.split(" and ")
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| match t.split_once('=') {
                        Some((k, v)) => Term::Tag(k.to_owned(), v.to_owned()),
                        None => Term::Bare(t.to_owned()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let q = TraceQuery {
            service: p.get("serviceName").map(str::to_lowercase),
            span_name: p
                .get("spanName")
                .filter(|n| *n != "all")
                .map(str::to_lowercase),
            remote: p.get("remoteServiceName").map(str::to_lowercase),
            terms,
            min_us: p.int("minDuration")?,
            max_us: p.int("maxDuration")?,
        };
        if q.max_us.is_some() && q.min_us.is_none() {
            return Err(bad("minDuration is required when specifying maxDuration"));
        }
        if let (Some(a), Some(b)) = (q.min_us, q.max_us) {
            if a > b {
                return Err(bad("maxDuration should be >= minDuration"));
            }
        }
        Ok(q)
    }

    fn test(&self, spans: &[Span]) -> bool {
        let local: Vec<&Span> = spans
            .iter()
            .filter(|s| {
                self.service
                    .as_ref()
                    .is_none_or(|w| model::service(s) == *w)
            })
            .collect();
        if local.is_empty() {
            return false;
        }
        let named = |s: &&&Span| {
            self.span_name
                .as_ref()
                .is_none_or(|n| s.name.to_lowercase() == *n)
        };
        let dur_ok = |s: &&&Span| {
            let d = s.duration_ns() / 1000;
            self.min_us.is_none_or(|m| d >= m) && self.max_us.is_none_or(|m| d <= m)
        };
        local.iter().any(|s| named(&s) && dur_ok(&s))
            && self.remote.as_ref().is_none_or(|r| {
                local
                    .iter()
                    .any(|s| model::remote_service(s).as_ref() == Some(r))
            })
            && self.terms.iter().all(|t| {
                local.iter().any(|s| match t {
                    Term::Tag(k, v) => model::tags(s).get(k).and_then(Value::as_str) == Some(v),
                    Term::Bare(v) => {
                        model::annotations(s).iter().any(|a| a == v)
                            || model::tags(s).contains_key(v)
                    }
                })
            })
    }
}

async fn traces(State(st): State<ZipkinState>, h: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let p = Params::new(q);
    let built = (|| {
        let window = p.window()?;
        let limit = match p.int("limit")? {
            None => DEFAULT_LIMIT,
            Some(n) if n > 0 => n as usize,
            Some(_) => return Err(bad("limit should be positive")),
        };
        Ok((window, limit, TraceQuery::parse(&p)?))
    })();
    let ((start, end), limit, tq) = match built {
        Ok(v) => v,
        Err(e) => return e,
    };
    // Service and span names are pushed down only when the store's may
    // differ from Zipkin's lowercase forms: not at all, so the hints hold
    // the range and durations.
    let mut hints = TraceHints::range(start, end);
    if let Some(m) = tq.min_us {
        hints.required.push(SpanPredicate::MinDuration(m * 1000));
    }
    let t = tenant(&h);
    json_or(
        blocking(move || {
            let mut out = Vec::new();
            st.querier.scan(&t, &hints, &mut |spans| {
                if tq.test(&spans) {
                    out.push(model::trace_json(&spans));
                }
                out.len() < limit
            })?;
            Ok(out)
        })
        .await,
    )
}

fn parse_id(v: &str) -> Result<TraceId, Response> {
    TraceId::parse_hex(v).map_err(bad)
}

async fn trace(State(st): State<ZipkinState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    let tid = match parse_id(&id) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let t = tenant(&h);
    match blocking(move || st.querier.trace(&t, tid, None)).await {
        Ok(spans) if spans.is_empty() => (
            StatusCode::NOT_FOUND,
            format!("{} not found", id.to_lowercase()),
        )
            .into_response(),
        Ok(spans) => Json(model::trace_json(&spans)).into_response(),
        Err(e) => e,
    }
}

async fn trace_many(
    State(st): State<ZipkinState>,
    h: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q);
    let Some(raw) = p.get("traceIds") else {
        return bad("traceIds parameter is empty");
    };
    let ids: Vec<TraceId> = match raw.split(',').map(|s| parse_id(s.trim())).collect() {
        Ok(v) => v,
        Err(e) => return e,
    };
    let t = tenant(&h);
    json_or(
        blocking(move || {
            let mut out = Vec::new();
            for id in ids {
                let spans = st.querier.trace(&t, id, None)?;
                if !spans.is_empty() {
                    out.push(model::trace_json(&spans));
                }
            }
            Ok(out)
        })
        .await,
    )
}

async fn deps(State(st): State<ZipkinState>, h: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let p = Params::new(q);
    if p.get("endTs").is_none() {
        return bad("endTs parameter is required");
    }
    let (start, end) = match p.window() {
        Ok(w) => w,
        Err(e) => return e,
    };
    let t = tenant(&h);
    json_or(
        blocking(move || {
            let mut traces = Vec::new();
            st.querier
                .scan(&t, &TraceHints::range(start, end), &mut |spans| {
                    traces.push(spans);
                    true
                })?;
            let links: Vec<Value> = dependencies(traces.iter().map(Vec::as_slice))
                .into_iter()
                .map(|l| {
                    let mut v = json!({
                        "parent": l.parent.to_lowercase(),
                        "child": l.child.to_lowercase(),
                        "callCount": l.calls,
                    });
                    if l.errors > 0 {
                        v["errorCount"] = json!(l.errors);
                    }
                    v
                })
                .collect();
            Ok(links)
        })
        .await,
    )
}

/// The span tag keys seen in the last day, for the UI's annotation query
/// completion (Zipkin lists configured keys; every key is offered here).
async fn autocomplete_keys(State(st): State<ZipkinState>, h: HeaderMap) -> Response {
    let t = tenant(&h);
    let end = crate::loki::now_ns();
    json_or(
        blocking(move || {
            st.querier.tag_names(
                &t,
                TagScope::Span,
                end - DEFAULT_LOOKBACK_MS * 1_000_000,
                end,
                1000,
            )
        })
        .await,
    )
}

async fn autocomplete_values(
    State(st): State<ZipkinState>,
    h: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q);
    let Some(key) = p.get("key").map(str::to_owned) else {
        return bad("key is required");
    };
    let t = tenant(&h);
    let end = crate::loki::now_ns();
    json_or(
        blocking(move || {
            let vals = st.querier.tag_values(
                &t,
                TagScope::Span,
                &key,
                end - DEFAULT_LOOKBACK_MS * 1_000_000,
                end,
                1000,
            )?;
            let set: BTreeSet<String> = vals.iter().map(|v| v.to_text()).collect();
            Ok(set)
        })
        .await,
    )
}

#[cfg(test)]
mod tests;
