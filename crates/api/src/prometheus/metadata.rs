//! `/api/v1/metadata` and `/api/v1/query_exemplars`.
//!
//! Sightline keeps no metric metadata (HELP/TYPE/UNIT) and no exemplars
//! yet, so both answer with what Prometheus answers when it has none:
//! `{}` and `[]`. The parameters are still checked as Prometheus checks
//! them, so a client's mistakes show up here as they would there.

use super::params::{parse_time, Form, MAX_TIME_MS, MIN_TIME_MS};
use super::{api_error, api_success};
use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sightline_core::ErrorKind;

/// `GET /api/v1/metadata?metric=&limit=&limit_per_metric=`.
pub(super) async fn metadata(RawQuery(raw): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::new(raw.as_deref(), &headers, &body);
    for name in ["limit", "limit_per_metric"] {
        let v = form.value(name);
        if !v.is_empty() && v.parse::<i64>().is_err() {
            return api_error(ErrorKind::BadData, &format!("{name} must be a number"));
        }
    }
    api_success(json!({}))
}

/// `GET|POST /api/v1/query_exemplars?query=&start=&end=`: `[]` for a query
/// with selectors; 204 without a body for one without, as Prometheus.
pub(super) async fn query_exemplars(
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::new(raw.as_deref(), &headers, &body);
    let time = |name: &str, default: i64| -> Result<i64, String> {
        match form.value(name) {
            "" => Ok(default),
            v => parse_time(v).map_err(|e| {
                super::params::invalid_param(name, format!("Invalid time value for '{name}': {e}"))
            }),
        }
    };
    let (start, end) = match (time("start", MIN_TIME_MS), time("end", MAX_TIME_MS)) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(m), _) | (_, Err(m)) => return api_error(ErrorKind::BadData, &m),
    };
    if end < start {
        return api_error(
            ErrorKind::BadData,
            "end timestamp must not be before start timestamp",
        );
    }
    let expr = match sightline_promql::parse(form.value("query")) {
        Ok(e) => e,
        Err(e) => return api_error(ErrorKind::BadData, &e.to_string()),
    };
    if has_selector(&expr) {
        api_success(json!([]))
    } else {
        axum::http::StatusCode::NO_CONTENT.into_response()
    }
}

fn has_selector(e: &promql_parser::parser::Expr) -> bool {
    use promql_parser::parser::Expr as E;
    match e {
        E::VectorSelector(_) | E::MatrixSelector(_) => true,
        E::Aggregate(a) => has_selector(&a.expr) || a.param.as_deref().is_some_and(has_selector),
        E::Unary(u) => has_selector(&u.expr),
        E::Binary(b) => has_selector(&b.lhs) || has_selector(&b.rhs),
        E::Paren(p) => has_selector(&p.expr),
        E::Subquery(s) => has_selector(&s.expr),
        E::Call(c) => c.args.args.iter().any(|a| has_selector(a)),
        _ => false,
    }
}
