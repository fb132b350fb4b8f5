//! Tempo's HTTP API over a [`TraceQuerier`]: what Grafana's Tempo data
//! source and `tempo-cli` call. Trace by id (`/api/traces/{id}`,
//! `/api/v2/traces/{id}`) in OTLP protobuf or Tempo's JSON ([`otlp_out`]);
//! tag names and values (v1 and the scoped v2 forms); TraceQL search and
//! metrics ([`search`]); `/api/echo` and `/api/status/buildinfo`. Times are Unix seconds (`start`, `end`); errors
//! are plain text with Tempo's status codes.

// Parameter parsers return the 400 answer itself: built once per request,
// its size in a `Result` costs nothing that matters here.
#![allow(clippy::result_large_err)]

pub mod grpc;
pub mod otlp_out;
pub mod search;

use crate::tenant::tenant;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sightline_core::traces::{
    AnyValue, SpanKind, StatusCode as SpanStatus, TagScope, TraceId, TraceQuerier,
};
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Clone)]
pub struct TempoState {
    pub querier: Arc<dyn TraceQuerier>,
}

/// The version `/api/status/buildinfo` reports: the Tempo release whose
/// API this one follows (Grafana picks its calls by it).
pub const TEMPO_API_VERSION: &str = "2.7.0";

/// Most tag values one answer holds.
const MAX_TAG_VALUES: usize = 10_000;

/// TraceQL's intrinsics, as `/api/v2/search/tags` lists them.
pub const INTRINSICS: &[&str] = &[
    "duration",
    "event:name",
    "event:timeSinceStart",
    "instrumentation:name",
    "instrumentation:version",
    "kind",
    "link:spanID",
    "link:traceID",
    "name",
    "rootName",
    "rootServiceName",
    "span:duration",
    "span:id",
    "span:kind",
    "span:name",
    "span:parentID",
    "span:status",
    "span:statusMessage",
    "status",
    "statusMessage",
    "trace:duration",
    "trace:id",
    "trace:rootName",
    "trace:rootService",
    "traceDuration",
];

/// Tempo's `/api/search`, alone: it shares its path with Grafana's
/// dashboard search, so the server routes by [`search::is_trace_search`].
pub fn search_route(querier: Arc<dyn TraceQuerier>) -> Router {
    Router::new()
        .route("/api/search", get(search::search))
        .with_state(TempoState { querier })
}

/// Tempo's routes but `/api/search` ([`search_route`]).
pub fn query_routes(querier: Arc<dyn TraceQuerier>) -> Router {
    Router::new()
        .route("/api/traces/{id}", get(trace_v1))
        .route("/api/v2/traces/{id}", get(trace_v2))
        .route("/api/search/tags", get(tags_v1))
        .route("/api/v2/search/tags", get(tags_v2))
        .route("/api/search/tag/{name}/values", get(tag_values_v1))
        .route("/api/v2/search/tag/{name}/values", get(tag_values_v2))
        .route("/api/metrics/query_range", get(search::query_range))
        .route("/api/metrics/query", get(search::query_instant))
        .route("/api/echo", get(|| async { "echo" }))
        .route("/api/status/buildinfo", get(buildinfo))
        .with_state(TempoState { querier })
}

pub(crate) fn error(status: StatusCode, msg: impl std::fmt::Display) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{msg}\n"),
    )
        .into_response()
}

pub(crate) fn bad(msg: impl std::fmt::Display) -> Response {
    error(StatusCode::BAD_REQUEST, msg)
}

pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub fn new(raw: Option<String>) -> Params {
        Params(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(a, v)| a == k && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
    /// Unix seconds, as nanoseconds.
    pub fn seconds(&self, k: &str) -> Result<Option<i64>, Response> {
        self.get(k)
            .map(|v| {
                v.parse::<i64>()
                    .map(|s| s.saturating_mul(1_000_000_000))
                    .map_err(|_| bad(format!("invalid {k}: {v:?} is not Unix seconds")))
            })
            .transpose()
    }
    /// `[start, end]` in nanoseconds; all time when neither is given.
    pub fn range(&self) -> Result<(i64, i64), Response> {
        let start = self.seconds("start")?.unwrap_or(i64::MIN);
        let end = self.seconds("end")?.unwrap_or(i64::MAX);
        if start > end {
            return Err(bad("invalid start: start must not be after end"));
        }
        Ok((start, end))
    }
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> sightline_core::Result<T> + Send + 'static,
) -> Result<T, Response> {
    crate::trace_common::off_workers(f)
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e))
}

fn wants_protobuf(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/protobuf"))
}

async fn fetch(
    st: TempoState,
    h: &HeaderMap,
    id: &str,
    q: Option<String>,
) -> Result<Vec<sightline_core::traces::Span>, Response> {
    let tid = TraceId::parse_hex(id).map_err(|e| bad(format!("invalid trace id: {e}")))?;
    let p = Params::new(q);
    let range = match (p.seconds("start")?, p.seconds("end")?) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    let t = tenant(h);
    let spans = blocking(move || st.querier.trace(&t, tid, range)).await?;
    if spans.is_empty() {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("trace not found: {tid}"),
        ));
    }
    Ok(spans)
}

fn protobuf(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/protobuf")], body).into_response()
}

async fn trace_v1(
    State(st): State<TempoState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    match fetch(st, &h, &id, q).await {
        Err(e) => e,
        Ok(spans) if wants_protobuf(&h) => protobuf(otlp_out::trace_proto(&spans)),
        Ok(spans) => {
            Json(json!({"batches": otlp_out::resource_spans_json(&spans)})).into_response()
        }
    }
}

async fn trace_v2(
    State(st): State<TempoState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    match fetch(st, &h, &id, q).await {
        Err(e) => e,
        Ok(spans) if wants_protobuf(&h) => protobuf(otlp_out::trace_by_id_response_proto(&spans)),
        Ok(spans) => Json(json!({
            "trace": {"resourceSpans": otlp_out::resource_spans_json(&spans)},
        }))
        .into_response(),
    }
}

fn scope_name(s: TagScope) -> &'static str {
    match s {
        TagScope::Resource => "resource",
        TagScope::Span => "span",
        TagScope::Event => "event",
        TagScope::Link => "link",
        TagScope::Instrumentation => "instrumentation",
        TagScope::Any => "",
    }
}

const SCOPES: [TagScope; 5] = [
    TagScope::Resource,
    TagScope::Span,
    TagScope::Event,
    TagScope::Link,
    TagScope::Instrumentation,
];

/// `/api/search/tags`: every attribute name of spans and resources.
async fn tags_v1(State(st): State<TempoState>, h: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let (start, end) = match Params::new(q).range() {
        Ok(r) => r,
        Err(e) => return e,
    };
    let t = tenant(&h);
    match blocking(move || {
        let mut names = BTreeSet::new();
        for scope in [TagScope::Span, TagScope::Resource] {
            names.extend(
                st.querier
                    .tag_names(&t, scope, start, end, MAX_TAG_VALUES)?,
            );
        }
        Ok(names)
    })
    .await
    {
        Ok(names) => Json(json!({"tagNames": names})).into_response(),
        Err(e) => e,
    }
}

/// `/api/v2/search/tags?scope=`: names by scope, with the intrinsics.
async fn tags_v2(State(st): State<TempoState>, h: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let p = Params::new(q);
    let (start, end) = match p.range() {
        Ok(r) => r,
        Err(e) => return e,
    };
    let want = p.get("scope").unwrap_or("all").to_owned();
    let scopes: Vec<TagScope> = match want.as_str() {
        "all" | "intrinsic" => SCOPES.to_vec(),
        s => match SCOPES.iter().find(|x| scope_name(**x) == s) {
            Some(x) => vec![*x],
            None => {
                return bad(format!(
                    "invalid scope {s:?}: want resource, span, event, link, instrumentation, intrinsic or all"
                ))
            }
        },
    };
    let t = tenant(&h);
    let intrinsic_only = want == "intrinsic";
    match blocking(move || {
        let mut out = Vec::new();
        if !intrinsic_only {
            for scope in scopes {
                let tags = st
                    .querier
                    .tag_names(&t, scope, start, end, MAX_TAG_VALUES)?;
                if !tags.is_empty() {
                    out.push(json!({"name": scope_name(scope), "tags": tags}));
                }
            }
        }
        if want == "all" || intrinsic_only {
            out.push(json!({"name": "intrinsic", "tags": INTRINSICS}));
        }
        Ok(out)
    })
    .await
    {
        Ok(scopes) => Json(json!({"scopes": scopes})).into_response(),
        Err(e) => e,
    }
}

/// A tag of the v2 values endpoint: `resource.x`, `span.x`, `.x`, an
/// intrinsic.
enum Tag {
    Attr(TagScope, String),
    Intrinsic(&'static str),
}

fn parse_tag(name: &str) -> Result<Tag, String> {
    for scope in SCOPES {
        if let Some(rest) = name
            .strip_prefix(scope_name(scope))
            .and_then(|r| r.strip_prefix('.'))
        {
            return Ok(Tag::Attr(scope, rest.to_owned()));
        }
    }
    if let Some(rest) = name.strip_prefix('.') {
        return Ok(Tag::Attr(TagScope::Any, rest.to_owned()));
    }
    let canonical = match name {
        "name" | "span:name" => "name",
        "status" | "span:status" => "status",
        "kind" | "span:kind" => "kind",
        "rootServiceName" | "trace:rootService" => "rootServiceName",
        "rootName" | "trace:rootName" => "rootName",
        _ => {
            return Err(format!(
                "invalid tag {name:?}: want a scoped attribute (resource.x, span.x, .x) or one of the intrinsics name, status, kind, rootServiceName, rootName"
            ))
        }
    };
    Ok(Tag::Intrinsic(canonical))
}

fn typed(v: &AnyValue) -> Option<Value> {
    let ty = match v {
        AnyValue::Str(_) => "string",
        AnyValue::Int(_) => "int",
        AnyValue::Float(_) => "float",
        AnyValue::Bool(_) => "bool",
        _ => return None,
    };
    Some(json!({"type": ty, "value": v.to_text()}))
}

/// The values of an intrinsic, as (type, value).
fn intrinsic_values(
    q: &dyn TraceQuerier,
    t: &str,
    which: &str,
    start: i64,
    end: i64,
) -> sightline_core::Result<Vec<(String, &'static str)>> {
    Ok(match which {
        "status" => [SpanStatus::Error, SpanStatus::Ok, SpanStatus::Unset]
            .iter()
            .map(|s| (s.name().to_owned(), "keyword"))
            .collect(),
        "kind" => [
            SpanKind::Client,
            SpanKind::Consumer,
            SpanKind::Internal,
            SpanKind::Producer,
            SpanKind::Server,
            SpanKind::Unspecified,
        ]
        .iter()
        .map(|k| (k.name().to_owned(), "keyword"))
        .collect(),
        "rootServiceName" => q
            .services(t, start, end)?
            .into_iter()
            .map(|s| (s, "string"))
            .collect(),
        // Span names; `rootName` offers every name, roots among them.
        _ => q
            .operations(t, None, start, end)?
            .into_iter()
            .map(|(n, _)| n)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|n| (n, "string"))
            .collect(),
    })
}

async fn tag_values_v1(
    State(st): State<TempoState>,
    h: HeaderMap,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (start, end) = match Params::new(q).range() {
        Ok(r) => r,
        Err(e) => return e,
    };
    let t = tenant(&h);
    match blocking(move || {
        st.querier
            .tag_values(&t, TagScope::Any, &name, start, end, MAX_TAG_VALUES)
    })
    .await
    {
        Ok(vals) => {
            let set: BTreeSet<String> = vals.iter().map(AnyValue::to_text).collect();
            Json(json!({"tagValues": set, "metrics": {}})).into_response()
        }
        Err(e) => e,
    }
}

async fn tag_values_v2(
    State(st): State<TempoState>,
    h: HeaderMap,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (start, end) = match Params::new(q).range() {
        Ok(r) => r,
        Err(e) => return e,
    };
    let tag = match parse_tag(&name) {
        Ok(t) => t,
        Err(e) => return bad(e),
    };
    let t = tenant(&h);
    match blocking(move || {
        Ok(match tag {
            Tag::Attr(scope, key) => st
                .querier
                .tag_values(&t, scope, &key, start, end, MAX_TAG_VALUES)?
                .iter()
                .filter_map(typed)
                .collect::<Vec<Value>>(),
            Tag::Intrinsic(which) => intrinsic_values(st.querier.as_ref(), &t, which, start, end)?
                .into_iter()
                .map(|(v, ty)| json!({"type": ty, "value": v}))
                .collect(),
        })
    })
    .await
    {
        Ok(vals) => Json(json!({"tagValues": vals, "metrics": {}})).into_response(),
        Err(e) => e,
    }
}

async fn buildinfo() -> Response {
    Json(json!({
        "version": TEMPO_API_VERSION,
        "revision": env!("CARGO_PKG_VERSION"),
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
    }))
    .into_response()
}

#[cfg(test)]
mod tests;
