//! `/api/v1/metadata`.
//!
//! Sightline keeps no metric metadata (HELP/TYPE/UNIT) yet, so it answers
//! with what Prometheus answers when it has none: `{}`. The parameters are
//! still checked as Prometheus checks them, so a client's mistakes show up
//! here as they would there.

use super::params::Form;
use super::{api_error, api_success};
use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::HeaderMap;
use axum::response::Response;
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
