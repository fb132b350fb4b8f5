//! `GET /api/v1/notifications`: every notification attempt (receiver,
//! integration, group key, alerts, outcome, error, time), newest first,
//! kept 30 days by default.
//!
//! Parameters, all optional: `receiver` (exact), `group_key` (substring),
//! `alertname`, `since` and `until` (RFC 3339 or Unix seconds), `limit`.
//! The answer uses the Prometheus envelope (`{"status":"success","data":[...]}`)
//! as Sightline's other `/api/v1` endpoints do.

use super::{error, pairs};
use crate::prometheus::api_success;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use sightline_alertmanager::history::HistoryFilter;
use sightline_alertmanager::manager::Alertmanager;
use sightline_core::time::{self, UtcTime};
use std::sync::Arc;

fn parse_time(key: &str, v: &str) -> Result<UtcTime, String> {
    if let Ok(t) = time::parse_rfc3339(v) {
        return Ok(t);
    }
    v.parse::<f64>()
        .ok()
        .and_then(|s| time::from_ms((s * 1000.0) as i64))
        .ok_or_else(|| {
            format!("invalid parameter {key:?}: cannot parse {v:?} to a valid timestamp")
        })
}

pub(super) async fn notifications(
    State(am): State<Arc<Alertmanager>>,
    RawQuery(q): RawQuery,
) -> Response {
    let mut f = HistoryFilter::default();
    for (k, v) in pairs(q) {
        match k.as_str() {
            "receiver" => f.receiver = Some(v),
            "group_key" => f.group_key = Some(v),
            "alertname" => f.alertname = Some(v),
            "since" => match parse_time(&k, &v) {
                Ok(t) => f.since = Some(t),
                Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
            },
            "until" => match parse_time(&k, &v) {
                Ok(t) => f.until = Some(t),
                Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
            },
            "limit" => match v.parse() {
                Ok(n) => f.limit = Some(n),
                Err(_) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        &format!("invalid parameter \"limit\": {v:?} is not a count"),
                    )
                }
            },
            _ => {}
        }
    }
    match serde_json::to_value(am.history(&f)) {
        Ok(v) => api_success(v),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}
