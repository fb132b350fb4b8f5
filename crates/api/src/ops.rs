//! Operations endpoints: health, readiness, reload, self-telemetry.

use crate::ApiState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::atomic::Ordering;

/// Routes of the operations family.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(ready).head(ready))
        .route("/-/reload", post(reload).put(reload))
        .route("/metrics", get(metrics))
}

async fn healthy() -> &'static str {
    "Sightline is Healthy.\n"
}

async fn ready(State(state): State<ApiState>) -> Response {
    if state.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "Sightline is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response()
    }
}

/// As Prometheus: 200 with an empty body, or 500 with the reason; the
/// running configuration stays in force when the new one is refused.
async fn reload(State(state): State<ApiState>) -> Response {
    match state.reloader.clone().reload().await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<ApiState>) -> Response {
    let mut body = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut body, &state.registry) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding metrics: {e}\n"),
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
