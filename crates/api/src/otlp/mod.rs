//! The OTLP metrics receiver's endpoints: `POST /v1/metrics` (OTLP/HTTP's
//! path) and `POST /api/v1/otlp/v1/metrics` (Prometheus's), and the gRPC
//! `MetricsService/Export` ([`grpc`]) on a port of its own. The logs
//! endpoints (`/v1/logs`, gRPC `LogsService/Export`) are in [`logs`], the
//! traces endpoints (`/v1/traces`, gRPC `TraceService/Export`) in
//! [`traces`].
//!
//! Decoding, the mapping to series and the transaction live in
//! `sightline_ingest::otlp`; this module is the HTTP shell. Answers follow
//! the OTLP specification: 200 with an `ExportMetricsServiceResponse` (a
//! `partial_success` when points were refused), 400 with a
//! `google.rpc.Status` for a body that cannot be read, 415 for another
//! media type or encoding, 503/429 (retryable) when the store refuses for
//! load, 500 when it fails.

pub mod grpc;
pub mod logs;
pub mod traces;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sightline_core::telemetry::{Report, Telemetry};
use sightline_core::MetricAppender;
use sightline_ingest::otlp::http::{self as otlp_http, Format};
use sightline_ingest::otlp::wire::Request;
use sightline_ingest::otlp::{Outcome, Receiver};
use sightline_ingest::Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The largest (compressed) body the HTTP endpoint reads.
pub const MAX_BODY_BYTES: usize = 64 << 20;

/// What the OTLP endpoints need. Cheap to clone.
#[derive(Clone)]
pub struct OtlpState {
    /// The receiver: configuration and delta state.
    pub receiver: Arc<Receiver>,
    /// Where samples go.
    pub store: Arc<dyn MetricAppender>,
    /// Counters for `/metrics`.
    pub counters: Arc<OtlpCounters>,
    /// Multi-tenancy and limits (HTTP reads the tenant from the router's
    /// layer; gRPC, which has no such layer, from here).
    pub tenancy: crate::tenant::Tenancy,
}

impl OtlpState {
    /// This state writing as `tenant` (with multi-tenancy on) or as the
    /// default tenant, within the tenant's series limit.
    pub fn scoped(&self, tenant: Option<&crate::tenant::Tenant>) -> OtlpState {
        let mut s = self.clone();
        let limits = self.tenancy.limits.clone();
        s.store = match tenant {
            Some(t) if self.tenancy.enabled => {
                Arc::new(crate::tenant::TenantAppendable::new(s.store, t, limits))
            }
            _ => {
                crate::tenant::scoped::limit_series(s.store, crate::tenant::DEFAULT_TENANT, &limits)
            }
        };
        s
    }

    /// The tenant's ingestion rate (Mimir's `ingestion_rate`, which counts
    /// OTLP's translated samples as remote write's): `Err` with Mimir's
    /// message when `req` would pass it, and nothing of it is written.
    pub fn admit(
        &self,
        tenant: Option<&crate::tenant::Tenant>,
        req: &Request,
    ) -> Result<(), String> {
        let id = match tenant {
            Some(t) if self.tenancy.enabled => t.0.as_str(),
            _ => crate::tenant::DEFAULT_TENANT,
        };
        self.tenancy.limits.allow_samples(id, req.sample_count())
    }

    /// Decodes nothing: translates and appends a decoded request, off the
    /// async workers (appending writes the WAL), counting it. A request
    /// whose attributes do not decode is not counted here (it is a
    /// malformed body, see [`Outcome::decode_error`]).
    pub async fn write(&self, req: Request) -> Result<Outcome, String> {
        let (receiver, store) = (self.receiver.clone(), self.store.clone());
        let out = tokio::task::spawn_blocking(move || receiver.write_request(&req, store.as_ref()))
            .await
            .map_err(|e| format!("OTLP write task failed: {e}"))?;
        if out.decode_error.is_none() {
            self.counters.record(&out, &self.receiver);
        }
        Ok(out)
    }
}

/// Counters of the receiver (HTTP and gRPC together).
#[derive(Debug, Default)]
pub struct OtlpCounters {
    requests: AtomicU64,
    requests_failed: AtomicU64,
    points: AtomicU64,
    points_rejected: AtomicU64,
    samples_written: AtomicU64,
    exemplars_written: AtomicU64,
    delta_streams: AtomicU64,
}

impl OtlpCounters {
    fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    fn record(&self, out: &Outcome, receiver: &Receiver) {
        Self::add(&self.points, out.points);
        Self::add(&self.points_rejected, out.rejected_points);
        if out.store_error.is_none() {
            Self::add(&self.samples_written, out.samples_appended);
            Self::add(&self.exemplars_written, out.exemplars_appended);
        }
        self.delta_streams
            .store(receiver.delta_streams() as u64, Ordering::Relaxed);
    }

    /// Counts a request, and a failed one.
    pub fn request(&self, failed: bool) {
        Self::add(&self.requests, 1);
        if failed {
            Self::add(&self.requests_failed, 1);
        }
    }
}

impl Telemetry for OtlpCounters {
    fn report(&self, out: &mut Report) {
        let rows: [(&str, &str, &AtomicU64); 6] = [
            (
                "sightline_otlp_requests",
                "OTLP metrics export requests received (HTTP and gRPC).",
                &self.requests,
            ),
            (
                "sightline_otlp_requests_failed",
                "OTLP metrics export requests answered with an error.",
                &self.requests_failed,
            ),
            (
                "sightline_otlp_data_points",
                "OTLP data points received.",
                &self.points,
            ),
            (
                "sightline_otlp_data_points_rejected",
                "OTLP data points refused (reported as partial success).",
                &self.points_rejected,
            ),
            (
                "sightline_otlp_samples_written",
                "Samples written from OTLP data points.",
                &self.samples_written,
            ),
            (
                "sightline_otlp_exemplars_written",
                "Exemplars written from OTLP data points.",
                &self.exemplars_written,
            ),
        ];
        for (name, help, c) in rows {
            out.counter(name, help, c.load(Ordering::Relaxed) as f64);
        }
        out.gauge(
            "sightline_otlp_delta_streams",
            "Delta series whose running totals are kept for conversion to cumulative.",
            self.delta_streams.load(Ordering::Relaxed) as f64,
        );
    }
}

/// The OTLP/HTTP routes, with their own state; merge into the main router.
pub fn router(state: OtlpState) -> Router {
    Router::new()
        .route("/v1/metrics", post(export))
        .route("/api/v1/otlp/v1/metrics", post(export))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

fn reply(format: Format, status: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    r
}

async fn export(
    State(s): State<OtlpState>,
    crate::tenant::TenantOf(tenant): crate::tenant::TenantOf,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let s = s.scoped(tenant.as_ref().map(|(t, _)| t));
    let h = |n: header::HeaderName| headers.get(n).and_then(|v| v.to_str().ok());
    let format = match Format::from_content_type(h(header::CONTENT_TYPE)) {
        Ok(f) => f,
        Err(e) => {
            s.counters.request(true);
            return reply(
                Format::Json,
                415,
                otlp_http::encode_status(Format::Json, 415, &e.to_string()),
            );
        }
    };
    let encoding = h(header::CONTENT_ENCODING).map(str::to_owned);
    let decoded =
        tokio::task::spawn_blocking(move || otlp_http::decode(body, format, encoding.as_deref()))
            .await;
    let bad_request = |s: &OtlpState, e: Error| {
        s.counters.request(true);
        let status = match e {
            Error::UnsupportedMediaType(_) => 415,
            _ => 400,
        };
        reply(
            format,
            status,
            otlp_http::encode_status(format, status, &e.to_string()),
        )
    };
    let req = match decoded {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return bad_request(&s, e),
        Err(e) => {
            s.counters.request(true);
            return reply(
                format,
                500,
                otlp_http::encode_status(format, 500, &format!("OTLP decode task failed: {e}")),
            );
        }
    };
    if let Err(m) = s.admit(tenant.as_ref().map(|(t, _)| t), &req) {
        // As remote write: 429, retried later by the exporter, nothing written.
        s.counters.request(true);
        return reply(format, 429, otlp_http::encode_status(format, 429, &m));
    }
    let out = match s.write(req).await {
        Ok(o) => o,
        Err(e) => {
            s.counters.request(true);
            return reply(format, 500, otlp_http::encode_status(format, 500, &e));
        }
    };
    if let Some(e) = &out.decode_error {
        return bad_request(&s, otlp_http::protobuf_error(e));
    }
    let status = out.http_status();
    s.counters.request(status != 200);
    match &out.store_error {
        Some(e) => {
            let mut r = reply(
                format,
                status,
                otlp_http::encode_status(format, status, &e.to_string()),
            );
            if status == 503 || status == 429 {
                // The OTLP specification lets the server suggest a delay.
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            r
        }
        None => reply(
            format,
            200,
            otlp_http::encode_response(format, out.rejected_points, &out.error_message()),
        ),
    }
}

#[cfg(test)]
mod tests;
