//! Loki's HTTP API, query side, over a [`LogQuerier`]: what Grafana's Loki
//! data source, Logs Drilldown and `logcli` call. Answers are shaped field
//! for field as Loki's (docs/logs.md lists each endpoint); errors are plain
//! text with Loki's status codes, as Loki answers them.
//!
//! - [`query`]: `/loki/api/v1/query`, `/loki/api/v1/query_range`,
//!   `/loki/api/v1/format_query`;
//! - [`meta`]: `labels`, `label/{name}/values`, `series`, `index/stats`,
//!   `index/volume`, `index/volume_range`, `detected_labels`,
//!   `detected_fields`, `patterns`;
//! - [`tail`]: `/loki/api/v1/tail`, live lines over a websocket;
//! - [`ruler`]: the ruler API over the log rule groups
//!   (`/loki/api/v1/rules`, `/prometheus/api/v1/rules|alerts`), with its
//!   own router ([`ruler::ruler_routes`]);
//! - [`push`]: the push endpoints (`/loki/api/v1/push`, `/api/prom/push`)
//!   with their own router ([`push::push_routes`]).
//!
//! The tenant is the `X-Scope-OrgID` header (Loki's `fake` without it).

mod meta;
pub mod push;
mod query;
pub mod ruler;
mod tail;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sightline_core::logs::LogQuerier;
use std::sync::Arc;

/// What the query routes read.
#[derive(Clone)]
pub struct LokiState {
    pub querier: Arc<dyn LogQuerier>,
}

/// The query side of Loki's API (push is [`push::push_routes`]).
pub fn query_routes(querier: Arc<dyn LogQuerier>) -> Router {
    let state = LokiState { querier };
    Router::new()
        .route(
            "/loki/api/v1/query",
            get(query::instant).post(query::instant),
        )
        .route(
            "/loki/api/v1/query_range",
            get(query::range).post(query::range),
        )
        .route(
            "/loki/api/v1/format_query",
            get(query::format).post(query::format),
        )
        .route("/loki/api/v1/labels", get(meta::labels).post(meta::labels))
        .route("/loki/api/v1/label", get(meta::labels))
        .route("/loki/api/v1/label/{name}/values", get(meta::label_values))
        .route("/loki/api/v1/series", get(meta::series).post(meta::series))
        .route(
            "/loki/api/v1/index/stats",
            get(meta::stats).post(meta::stats),
        )
        .route(
            "/loki/api/v1/index/volume",
            get(meta::volume).post(meta::volume),
        )
        .route(
            "/loki/api/v1/index/volume_range",
            get(meta::volume_range).post(meta::volume_range),
        )
        .route("/loki/api/v1/detected_labels", get(meta::detected_labels))
        .route("/loki/api/v1/detected_fields", get(meta::detected_fields))
        .route("/loki/api/v1/patterns", get(meta::patterns))
        .route("/loki/api/v1/tail", get(tail::tail))
        .route("/loki/api/v1/status/buildinfo", get(buildinfo))
        .route("/ready", get(ready))
        .with_state(state)
}

async fn ready() -> &'static str {
    "ready\n"
}

async fn buildinfo() -> Response {
    axum::Json(serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "revision": "",
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
    }))
    .into_response()
}

pub(crate) use crate::tenant::tenant;

/// A plain-text error, as Loki answers them.
pub(crate) fn error(status: StatusCode, msg: impl std::fmt::Display) -> Response {
    (
        status,
        [("Content-Type", "text/plain; charset=utf-8")],
        format!("{msg}\n"),
    )
        .into_response()
}

pub(crate) fn bad(msg: impl std::fmt::Display) -> Response {
    error(StatusCode::BAD_REQUEST, msg)
}

/// The request's parameters: the URL's query, then a form body.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub fn new(raw: Option<&str>, body: &[u8]) -> Params {
        let mut v: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        v.extend(form_urlencoded::parse(body).into_owned());
        Params(v)
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, b)| b.as_str())
            .filter(|s| !s.is_empty())
    }
    pub fn all(&self, k: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(a, _)| a == k)
            .map(|(_, b)| b.as_str())
            .collect()
    }
}

pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// A time as Loki reads it: nanoseconds (or seconds when 10 digits or
/// fewer), float seconds, or RFC 3339.
pub(crate) fn parse_time(v: &str) -> Result<i64, String> {
    let bad = || {
        format!(
            "could not parse {v:?} as a timestamp: use Unix seconds or nanoseconds, or RFC 3339"
        )
    };
    if v.contains('.') {
        if let Ok(f) = v.parse::<f64>() {
            let s = f.trunc();
            let ns = ((f - s) * 1000.0).round() / 1000.0;
            return Ok(s as i64 * 1_000_000_000 + (ns * 1e9) as i64);
        }
    }
    match v.parse::<i64>() {
        Ok(n) if v.trim_start_matches('-').len() <= 10 => Ok(n * 1_000_000_000),
        Ok(n) => Ok(n),
        Err(_) => sightline_core::time::parse_rfc3339(v)
            .map(|t| t.timestamp_nanos_opt().unwrap_or(i64::MAX))
            .map_err(|_| bad()),
    }
}

/// A duration as Loki reads `step`, `since`, `delay_for`: a Prometheus
/// duration or float seconds; nanoseconds.
pub(crate) fn parse_duration(v: &str) -> Result<i64, String> {
    if let Ok(f) = v.parse::<f64>() {
        return Ok((f * 1e9) as i64);
    }
    sightline_logql::lexer::parse_duration(v)
        .ok_or_else(|| format!("invalid duration {v:?}: use e.g. 30s, 5m or float seconds"))
}

/// `start`/`end` (or `since`) of a request, with Loki's defaults: the
/// last hour.
pub(crate) fn range(p: &Params) -> Result<(i64, i64), String> {
    let end = match p.get("end") {
        Some(v) => parse_time(v)?,
        None => now_ns(),
    };
    let start = match (p.get("start"), p.get("since")) {
        (Some(v), _) => parse_time(v)?,
        (None, Some(s)) => end - parse_duration(s)?,
        (None, None) => end - 3_600_000_000_000,
    };
    if end < start {
        return Err("end timestamp must not be before or equal to start time".into());
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests;
