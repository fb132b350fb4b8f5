//! `POST /api/v2/spans`, Zipkin's span intake: a JSON array of v2 spans
//! (`application/json`, the default) or a proto3 `ListOfSpans`
//! (`application/x-protobuf`), gzip or not, decoded by
//! `sightline_ingest::zipkin` and written through the same
//! [`TracesState`] as OTLP.
//!
//! Answers as Zipkin's server does: 202 with an empty body when the spans
//! were taken, 400 with a plain-text message naming the span and field when
//! the body does not decode (nothing kept: a batch is all or nothing), 415
//! for another media type or encoding. Beyond Zipkin, because the store has
//! limits: 429 (with `Retry-After`) when it refused everything for a rate
//! limit, 503 when it is not ready, 400 when it refused every span for
//! good, 500 when it failed; when only some spans were refused the answer
//! is still 202, its body saying which.

use crate::otlp::traces::TracesState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sightline_ingest::otlp::traces_write::{TraceOutcome, TraceProtocol};
use sightline_ingest::zipkin::{self, ZipkinFormat};
use sightline_ingest::Error;

/// The span intake route; merge into the main router.
pub fn ingest_router(state: TracesState) -> Router {
    Router::new()
        .route("/api/v2/spans", post(spans))
        .layer(DefaultBodyLimit::max(crate::otlp::MAX_BODY_BYTES))
        .with_state(state)
}

/// A plain-text answer.
pub(crate) fn text(status: u16, msg: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, msg).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The answer to a write, for the Zipkin and Jaeger intakes (both 202).
pub(crate) fn accepted_or_not(out: TraceOutcome) -> Response {
    match out.status {
        200 if out.accepted == 0 && out.rejected > 0 => text(400, out.message),
        200 => text(202, out.message),
        s => {
            let retryable = out.retryable();
            let mut r = text(s, out.message);
            if retryable {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            }
            r
        }
    }
}

/// Decode errors as answers: 415 or 400.
pub(crate) fn refused(e: Error) -> Response {
    match e {
        Error::UnsupportedMediaType(m) => text(415, m),
        e => text(400, e.to_string()),
    }
}

async fn spans(State(s): State<TracesState>, headers: HeaderMap, body: Bytes) -> Response {
    let h = |n: header::HeaderName| headers.get(n).and_then(|v| v.to_str().ok());
    let unreadable = || s.counters.record_unreadable(TraceProtocol::Zipkin);
    let format = match ZipkinFormat::from_content_type(h(header::CONTENT_TYPE)) {
        Ok(f) => f,
        Err(e) => {
            unreadable();
            return refused(e);
        }
    };
    let tenant = match crate::tenant::tenant_checked(&headers) {
        Ok(t) => t,
        Err(e) => {
            unreadable();
            return text(400, e);
        }
    };
    let encoding = h(header::CONTENT_ENCODING).map(str::to_owned);
    let decoded =
        tokio::task::spawn_blocking(move || zipkin::decode(&body, format, encoding.as_deref()))
            .await;
    let spans = match decoded {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            unreadable();
            return refused(e);
        }
        Err(e) => {
            unreadable();
            return text(500, format!("Zipkin decode task failed: {e}"));
        }
    };
    accepted_or_not(
        s.write(TraceProtocol::Zipkin, spans, 0, String::new(), tenant)
            .await,
    )
}
