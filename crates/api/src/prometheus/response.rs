//! Prometheus's JSON envelope.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sightline_core::ErrorKind;

/// `{"status":"success","data":data}` with HTTP 200.
pub fn api_success(data: serde_json::Value) -> Response {
    json_response(StatusCode::OK, json!({"status": "success", "data": data}))
}

/// `{"status":"error","errorType":..,"error":..}` with the status that
/// Prometheus uses for `kind`.
pub fn api_error(kind: ErrorKind, message: &str) -> Response {
    let status =
        StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(
        status,
        json!({"status": "error", "errorType": kind.prometheus_error_type(), "error": message}),
    )
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
