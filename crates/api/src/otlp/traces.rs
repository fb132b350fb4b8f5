//! The OTLP traces endpoints: `POST /v1/traces` (OTLP/HTTP, protobuf or
//! JSON, gzip) and the gRPC `TraceService/Export` beside the metrics and
//! logs services ([`super::grpc::serve_with_traces`]). [`TracesState`] is
//! also what the Zipkin and Jaeger span endpoints write through
//! (`crate::zipkin`, `crate::jaeger`).
//!
//! Decoding and the mapping live in `sightline_ingest::otlp::traces`. The
//! tenant is `X-Scope-OrgID` (header or gRPC metadata), `fake` when
//! absent, checked as Loki checks it. Answers as the OTLP specification
//! asks: 200 with an `ExportTraceServiceResponse`, with `partial_success`
//! when spans were dropped (invalid ids, the store's permanent refusals);
//! 429 with `Retry-After` when the store refused everything for a rate
//! limit (retryable); 503 when it is not ready; 400 with a
//! `google.rpc.Status` for a body that cannot be read; 415 for another
//! media type or encoding; 500 when the store fails.

use super::reply;
use crate::tenant::tenant_checked as tenant;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use sightline_core::traces::{Span, TraceAppender};
use sightline_ingest::otlp::http::{self as otlp_http, Format};
use sightline_ingest::otlp::traces as otlp_traces;
use sightline_ingest::otlp::traces_write::{
    write_spans, SpanLimits, TraceIngestCounters, TraceOutcome, TraceProtocol,
};
use sightline_ingest::Error;
use std::sync::Arc;

/// What the span endpoints (OTLP, Zipkin, Jaeger) need. Cheap to clone.
#[derive(Clone)]
pub struct TracesState {
    /// Where spans go.
    pub appender: Arc<dyn TraceAppender>,
    /// The receiver's limits (`traces.limits`).
    pub limits: Arc<SpanLimits>,
    /// Counters, by protocol.
    pub counters: Arc<TraceIngestCounters>,
    /// Per-tenant limits (`ingestion_rate_spans`), when set.
    pub tenant_limits: Option<Arc<crate::tenant::TenantLimits>>,
}

impl TracesState {
    pub fn new(
        appender: Arc<dyn TraceAppender>,
        limits: SpanLimits,
        counters: Arc<TraceIngestCounters>,
    ) -> Self {
        TracesState {
            appender,
            limits: Arc::new(limits),
            counters,
            tenant_limits: None,
        }
    }

    /// Limits and appends decoded spans off the async workers (the store
    /// writes its WAL), counting the request.
    pub async fn write(
        &self,
        protocol: TraceProtocol,
        spans: Vec<Span>,
        invalid: usize,
        invalid_message: String,
        tenant: String,
    ) -> TraceOutcome {
        if let Some(l) = &self.tenant_limits {
            if let Err(message) = l.allow_spans(&tenant, spans.len() as u64) {
                let out = TraceOutcome {
                    status: 429,
                    message,
                    ..TraceOutcome::default()
                };
                self.counters.record(protocol, &out);
                return out;
            }
        }
        let s = self.clone();
        let out = tokio::task::spawn_blocking(move || {
            write_spans(
                spans,
                invalid,
                &invalid_message,
                &tenant,
                &s.limits,
                s.appender.as_ref(),
            )
        })
        .await
        .unwrap_or_else(|e| TraceOutcome {
            status: 500,
            message: format!("span write task failed: {e}"),
            ..TraceOutcome::default()
        });
        self.counters.record(protocol, &out);
        out
    }
}

/// The OTLP/HTTP traces route; merge into the main router.
pub fn traces_router(state: TracesState) -> Router {
    Router::new()
        .route("/v1/traces", post(export))
        .layer(DefaultBodyLimit::max(super::MAX_BODY_BYTES))
        .with_state(state)
}

async fn export(State(s): State<TracesState>, headers: HeaderMap, body: Bytes) -> Response {
    let h = |n: header::HeaderName| headers.get(n).and_then(|v| v.to_str().ok());
    let unreadable = || s.counters.record_unreadable(TraceProtocol::Otlp);
    let format = match Format::from_content_type(h(header::CONTENT_TYPE)) {
        Ok(f) => f,
        Err(e) => {
            unreadable();
            return reply(
                Format::Json,
                415,
                otlp_http::encode_status(Format::Json, 415, &e.to_string()),
            );
        }
    };
    let fail = |status: u16, msg: &str| {
        reply(
            format,
            status,
            otlp_http::encode_status(format, status, msg),
        )
    };
    let tenant = match tenant(&headers) {
        Ok(t) => t,
        Err(e) => {
            unreadable();
            return fail(400, &e);
        }
    };
    let encoding = h(header::CONTENT_ENCODING).map(str::to_owned);
    let decoded = tokio::task::spawn_blocking(move || {
        otlp_traces::decode(&body, format, encoding.as_deref()).map(otlp_traces::to_spans)
    })
    .await;
    let c = match decoded {
        Ok(Ok(c)) => c,
        Ok(Err(e @ Error::UnsupportedMediaType(_))) => {
            unreadable();
            return fail(415, &e.to_string());
        }
        Ok(Err(e)) => {
            unreadable();
            return fail(400, &e.to_string());
        }
        Err(e) => {
            unreadable();
            return fail(500, &format!("OTLP decode task failed: {e}"));
        }
    };
    let out = s
        .write(TraceProtocol::Otlp, c.spans, c.invalid, c.message, tenant)
        .await;
    if out.status != 200 {
        let mut r = fail(out.status, &out.message);
        if out.retryable() {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        return r;
    }
    reply(
        format,
        200,
        otlp_traces::encode_response(format, out.rejected as u64, &out.message),
    )
}

#[cfg(test)]
#[path = "traces_tests.rs"]
mod tests;
