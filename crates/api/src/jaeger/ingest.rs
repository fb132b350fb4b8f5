//! `POST /api/traces`, the Jaeger collector's span intake for Jaeger
//! clients: a `jaeger.thrift` `Batch` in Thrift's binary protocol
//! (`application/x-thrift`), decoded by `sightline_ingest::jaeger` and
//! written through the same [`TracesState`] as OTLP.
//!
//! Answers as Jaeger's collector does: 202 with an empty body when taken,
//! 400 with a plain-text message (the byte offset and field) when the body
//! does not decode, 415 for another media type. Store refusals as for
//! Zipkin (see `crate::zipkin::ingest`).

use crate::otlp::traces::TracesState;
use crate::zipkin::ingest::{accepted_or_not, refused, text};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use sightline_ingest::jaeger;
use sightline_ingest::otlp::traces_write::TraceProtocol;

/// The span intake route; merge into the main router.
pub fn ingest_router(state: TracesState) -> Router {
    Router::new()
        .route("/api/traces", post(traces))
        .layer(DefaultBodyLimit::max(crate::otlp::MAX_BODY_BYTES))
        .with_state(state)
}

async fn traces(State(s): State<TracesState>, headers: HeaderMap, body: Bytes) -> Response {
    let h = |n: header::HeaderName| headers.get(n).and_then(|v| v.to_str().ok());
    let unreadable = || s.counters.record_unreadable(TraceProtocol::Jaeger);
    if let Err(e) = jaeger::check_content_type(h(header::CONTENT_TYPE)) {
        unreadable();
        return refused(e);
    }
    let tenant = match crate::tenant::tenant_checked(&headers) {
        Ok(t) => t,
        Err(e) => {
            unreadable();
            return text(400, e);
        }
    };
    let encoding = h(header::CONTENT_ENCODING).map(str::to_owned);
    let decoded =
        tokio::task::spawn_blocking(move || jaeger::decode(&body, encoding.as_deref())).await;
    let spans = match decoded {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            unreadable();
            return refused(e);
        }
        Err(e) => {
            unreadable();
            return text(500, format!("Jaeger decode task failed: {e}"));
        }
    };
    accepted_or_not(
        s.write(TraceProtocol::Jaeger, spans, 0, String::new(), tenant)
            .await,
    )
}
