//! Prometheus's JSON envelope.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sightline_core::ErrorKind;

/// `{"status":"success","data":data}` with HTTP 200.
pub fn api_success(data: serde_json::Value) -> Response {
    // Written by hand to keep Prometheus's field order (serde_json sorts).
    json_response(
        StatusCode::OK,
        format!("{{\"status\":\"success\",\"data\":{data}}}"),
    )
}

/// `{"status":"error","errorType":..,"error":..}` with the status that
/// Prometheus uses for `kind`.
pub fn api_error(kind: ErrorKind, message: &str) -> Response {
    // Prometheus's API answers a canceled query with 503, not the 499
    // that the generic mapping uses for other protocols.
    let code = match kind {
        ErrorKind::Canceled => 503,
        k => k.http_status(),
    };
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut body = String::from("{\"status\":\"error\",\"errorType\":\"");
    body.push_str(kind.prometheus_error_type());
    body.push_str("\",\"error\":");
    super::format::push_json_str(&mut body, message);
    body.push('}');
    json_response(status, body)
}

/// Runs `build` (store reads and JSON writing, which can take a while on big
/// stores) on the blocking pool and answers with the body it returns, or
/// with its error in Prometheus's envelope. `what` names the task if it
/// panics.
pub(super) async fn blocking_json(
    what: &str,
    build: impl FnOnce() -> sightline_core::Result<String> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(build).await {
        Ok(Ok(body)) => json_response(StatusCode::OK, body),
        Ok(Err(e)) => api_error(e.kind(), e.message()),
        Err(e) => api_error(ErrorKind::Internal, &format!("{what} task failed: {e}")),
    }
}

/// A body [`super::format::success_body`] built, with HTTP 200.
pub(super) fn success_response(body: String) -> Response {
    json_response(StatusCode::OK, body)
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
