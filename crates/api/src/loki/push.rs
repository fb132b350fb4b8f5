//! Loki's push endpoints: `POST /loki/api/v1/push` and the legacy
//! `POST /api/prom/push`, over a [`LogAppender`].
//!
//! Decoding, validation and the mapping of the store's refusals to Loki's
//! codes and messages live in `sightline_ingest::loki`; this is the HTTP
//! shell: the tenant from `X-Scope-OrgID` (Loki's `fake` when absent), the
//! work off the async workers (appending writes the WAL), and the answer:
//! 204 with no body, or the status with Loki's messages as plain text.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sightline_core::logs::LogAppender;
use sightline_ingest::loki::{push_body, LogIngestCounters, Protocol, PushLimits};
use std::sync::Arc;

/// The largest (compressed) body read.
pub const MAX_BODY_BYTES: usize = 64 << 20;

#[derive(Clone)]
struct PushState {
    appender: Arc<dyn LogAppender>,
    limits: Arc<PushLimits>,
    counters: Arc<LogIngestCounters>,
}

/// The push routes, counting in `counters` (register it on `/metrics`);
/// merge into the main router.
pub fn push_routes(
    appender: Arc<dyn LogAppender>,
    limits: PushLimits,
    counters: Arc<LogIngestCounters>,
) -> Router {
    Router::new()
        .route("/loki/api/v1/push", post(push))
        .route("/api/prom/push", post(push))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(PushState {
            appender,
            limits: Arc::new(limits),
            counters,
        })
}

use crate::tenant::tenant_checked as tenant;

fn text(status: u16, msg: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, format!("{msg}\n")).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn push(State(s): State<PushState>, headers: HeaderMap, body: Bytes) -> Response {
    let tenant = match tenant(&headers) {
        Ok(t) => t,
        Err(e) => {
            s.counters.record_unreadable(Protocol::Loki);
            return text(400, &e);
        }
    };
    let h = |n: header::HeaderName| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (ct, ce) = (h(header::CONTENT_TYPE), h(header::CONTENT_ENCODING));
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    let counters = s.counters.clone();
    let out = tokio::task::spawn_blocking(move || {
        push_body(
            &body,
            ct.as_deref(),
            ce.as_deref(),
            &tenant,
            &s.limits,
            now_ns,
            s.appender.as_ref(),
        )
    })
    .await;
    if let Ok(o) = &out {
        counters.record(Protocol::Loki, o);
    }
    match out {
        Ok(o) if o.status == 204 => StatusCode::NO_CONTENT.into_response(),
        Ok(o) => text(o.status, &o.message),
        Err(e) => text(500, &format!("push task failed: {e}")),
    }
}

#[cfg(test)]
#[path = "push_tests.rs"]
mod tests;
