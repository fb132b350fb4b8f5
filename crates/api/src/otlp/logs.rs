//! The OTLP logs endpoints: `POST /v1/logs` (OTLP/HTTP's path) and
//! `POST /otlp/v1/logs` (Loki's), and the gRPC `LogsService/Export`
//! beside the metrics service ([`super::grpc::serve_with_logs`]).
//!
//! The mapping to Loki streams lives in `sightline_ingest::otlp::logs`.
//! The tenant is `X-Scope-OrgID` (header or gRPC metadata), `fake` when
//! absent. Answers as for metrics: 200 with an `ExportLogsServiceResponse`
//! (with `partial_success` when records were refused), 400 with a
//! `google.rpc.Status` for a body that cannot be read, 415 for another
//! media type or encoding, 429/503 (retryable) when the store refuses for
//! load, 500 when it fails.

use super::reply;
use crate::tenant::tenant_checked as tenant;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use sightline_core::logs::LogAppender;
use sightline_ingest::loki::{LogIngestCounters, Protocol, PushLimits};
use sightline_ingest::otlp::http::{self as otlp_http, Format};
use sightline_ingest::otlp::logs::{self as otlp_logs, LogsOutcome};
use sightline_ingest::otlp::proto::collector::logs::v1::ExportLogsServiceRequest;
use sightline_ingest::Error;
use std::sync::Arc;

/// What the OTLP logs endpoints need. Cheap to clone.
#[derive(Clone)]
pub struct OtlpLogsState {
    /// Where lines go.
    pub appender: Arc<dyn LogAppender>,
    /// The distributor's limits (shared with Loki push).
    pub limits: Arc<PushLimits>,
    /// Counters (shared with Loki push and syslog).
    pub counters: Arc<LogIngestCounters>,
}

impl OtlpLogsState {
    /// State over `appender` with `limits`, counting in `counters`.
    pub fn new(
        appender: Arc<dyn LogAppender>,
        limits: PushLimits,
        counters: Arc<LogIngestCounters>,
    ) -> Self {
        OtlpLogsState {
            appender,
            limits: Arc::new(limits),
            counters,
        }
    }

    /// Maps and appends a decoded request, off the async workers.
    pub async fn write(&self, req: ExportLogsServiceRequest, tenant: String) -> LogsOutcome {
        let s = self.clone();
        let now_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        tokio::task::spawn_blocking(move || {
            otlp_logs::write(
                &req,
                &tenant,
                &s.limits,
                now_ns,
                s.appender.as_ref(),
                &s.counters,
            )
        })
        .await
        .unwrap_or_else(|e| LogsOutcome {
            status: 500,
            message: format!("OTLP logs write task failed: {e}"),
            ..LogsOutcome::default()
        })
    }
}

/// The OTLP/HTTP logs routes; merge into the main router.
pub fn logs_router(state: OtlpLogsState) -> Router {
    Router::new()
        .route("/v1/logs", post(export))
        .route("/otlp/v1/logs", post(export))
        .layer(DefaultBodyLimit::max(super::MAX_BODY_BYTES))
        .with_state(state)
}

async fn export(State(s): State<OtlpLogsState>, headers: HeaderMap, body: Bytes) -> Response {
    let h = |n: header::HeaderName| headers.get(n).and_then(|v| v.to_str().ok());
    let format = match Format::from_content_type(h(header::CONTENT_TYPE)) {
        Ok(f) => f,
        Err(e) => {
            s.counters.record_unreadable(Protocol::Otlp);
            return reply(
                Format::Json,
                415,
                otlp_http::encode_status(Format::Json, 415, &e.to_string()),
            );
        }
    };
    let unreadable = || s.counters.record_unreadable(Protocol::Otlp);
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
    let decoded =
        tokio::task::spawn_blocking(move || otlp_logs::decode(&body, format, encoding.as_deref()))
            .await;
    let req = match decoded {
        Ok(Ok(r)) => r,
        Ok(Err(e @ Error::UnsupportedMediaType(_))) => {
            unreadable();
            return fail(415, &e.to_string());
        }
        Ok(Err(e)) => {
            unreadable();
            return fail(400, &e.to_string());
        }
        Err(e) => return fail(500, &format!("OTLP decode task failed: {e}")),
    };
    let out = s.write(req, tenant).await;
    if out.status != 200 {
        let mut r = fail(out.status, &out.message);
        if out.status == 503 || out.status == 429 {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        return r;
    }
    reply(
        format,
        200,
        otlp_logs::encode_response(format, out.rejected, &out.message),
    )
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
