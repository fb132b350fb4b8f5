//! The OTLP/gRPC metrics service
//! (`opentelemetry.proto.collector.metrics.v1.MetricsService/Export`) and
//! logs service (`opentelemetry.proto.collector.logs.v1.LogsService/Export`)
//! and traces service
//! (`opentelemetry.proto.collector.trace.v1.TraceService/Export`), tenant
//! from the `x-scope-orgid` metadata, served by tonic on their own
//! listener, gzip accepted and sent.
//!
//! Status codes as the OTLP specification asks: `OK` with
//! `partial_success` when points were refused, `UNAVAILABLE` (retryable)
//! when the store refuses for load, `RESOURCE_EXHAUSTED` over a limit,
//! `INTERNAL` otherwise. Malformed messages are refused by tonic with
//! `INTERNAL` before they reach us, as with every tonic server.

use super::logs::OtlpLogsState;
use super::traces::TracesState;
use super::OtlpState;
use crate::tenant::{Tenancy, TenantError};
use sightline_ingest::otlp::proto::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use sightline_ingest::otlp::proto::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use sightline_ingest::otlp::proto::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use sightline_ingest::otlp::proto::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use sightline_ingest::otlp::proto::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use sightline_ingest::otlp::proto::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use sightline_ingest::otlp::traces_write::TraceProtocol;
use std::future::Future;
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

/// The largest decoded message accepted.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

struct Service(OtlpState);

#[tonic::async_trait]
impl MetricsService for Service {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let tenant = self
            .0
            .tenancy
            .grpc_tenant(request.metadata())
            .map_err(TenantError::into_status)?;
        let state = self.0.scoped(tenant.as_ref());
        let req: crate::otlp::Request = request.into_inner().into();
        if let Err(m) = state.admit(tenant.as_ref(), &req) {
            self.0.counters.request(true);
            return Err(Status::resource_exhausted(m));
        }
        let out = match state.write(req).await {
            Ok(o) => o,
            Err(e) => {
                self.0.counters.request(true);
                return Err(Status::internal(e));
            }
        };
        let status = out.http_status();
        self.0.counters.request(status != 200);
        if let Some(e) = &out.decode_error {
            // Not reached: tonic decoded the attributes already.
            return Err(Status::invalid_argument(e.to_string()));
        }
        if let Some(e) = &out.store_error {
            let msg = e.to_string();
            return Err(match status {
                503 => Status::unavailable(msg),
                429 => Status::resource_exhausted(msg),
                _ => Status::internal(msg),
            });
        }
        let message = out.error_message();
        let partial_success = (out.rejected_points > 0 || !message.is_empty()).then_some(
            ExportMetricsPartialSuccess {
                rejected_data_points: out.rejected_points as i64,
                error_message: message,
            },
        );
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success,
        }))
    }
}

struct Logs(OtlpLogsState, Tenancy);

#[tonic::async_trait]
impl LogsService for Logs {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let tenant = metadata_tenant(&self.1, &request).map_err(TenantError::into_status)?;
        let out = self.0.write(request.into_inner(), tenant).await;
        match out.status {
            200 => Ok(Response::new(ExportLogsServiceResponse {
                partial_success: (out.rejected > 0 || !out.message.is_empty()).then_some(
                    ExportLogsPartialSuccess {
                        rejected_log_records: out.rejected as i64,
                        error_message: out.message,
                    },
                ),
            })),
            503 => Err(Status::unavailable(out.message)),
            429 => Err(Status::resource_exhausted(out.message)),
            _ => Err(Status::internal(out.message)),
        }
    }
}

/// The tenant of a gRPC request: its `x-scope-orgid` metadata, checked
/// as Loki checks the header; with multi-tenancy on, required.
fn metadata_tenant<T>(tenancy: &Tenancy, request: &Request<T>) -> Result<String, TenantError> {
    match tenancy.grpc_tenant(request.metadata())? {
        Some(t) => Ok(t.0),
        None => crate::tenant::tenant_of_metadata(request.metadata()).map_err(TenantError::Invalid),
    }
}

struct Traces(TracesState, Tenancy);

#[tonic::async_trait]
impl TraceService for Traces {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let tenant = match metadata_tenant(&self.1, &request) {
            Ok(t) => t,
            Err(e) => {
                self.0.counters.record_unreadable(TraceProtocol::Otlp);
                return Err(e.into_status());
            }
        };
        let req = request.into_inner();
        let c = tokio::task::spawn_blocking(move || sightline_ingest::otlp::traces::to_spans(req))
            .await
            .map_err(|e| Status::internal(format!("OTLP decode task failed: {e}")))?;
        let out = self
            .0
            .write(TraceProtocol::Otlp, c.spans, c.invalid, c.message, tenant)
            .await;
        match out.status {
            200 => Ok(Response::new(ExportTraceServiceResponse {
                partial_success: (out.rejected > 0 || !out.message.is_empty()).then_some(
                    ExportTracePartialSuccess {
                        rejected_spans: out.rejected as i64,
                        error_message: out.message,
                    },
                ),
            })),
            503 => Err(Status::unavailable(out.message)),
            429 => Err(Status::resource_exhausted(out.message)),
            _ => Err(Status::internal(out.message)),
        }
    }
}

/// Serves the gRPC metrics service on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: OtlpState,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), String> {
    serve_with_logs(listener, state, None, shutdown).await
}

/// Serves the gRPC metrics service, and the logs service when `logs` is
/// given, on `listener` until `shutdown` resolves.
pub async fn serve_with_logs(
    listener: tokio::net::TcpListener,
    state: OtlpState,
    logs: Option<OtlpLogsState>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), String> {
    serve_with_traces(listener, state, logs, None, shutdown).await
}

/// The same services as [`serve_with_traces`] as a router, for a caller
/// that serves it itself (over TLS, behind authentication: issue 18).
pub fn routes(
    state: OtlpState,
    logs: Option<OtlpLogsState>,
    traces: Option<TracesState>,
) -> axum::Router {
    let tenancy = state.tenancy.clone();
    let mut routes = tonic::service::Routes::new(
        MetricsServiceServer::new(Service(state))
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
    );
    if let Some(l) = logs {
        routes = routes.add_service(
            LogsServiceServer::new(Logs(l, tenancy.clone()))
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        );
    }
    if let Some(t) = traces {
        routes = routes.add_service(
            TraceServiceServer::new(Traces(t, tenancy))
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        );
    }
    routes.prepare().into_axum_router()
}

/// Serves the gRPC metrics service, and the logs and traces services when
/// given, on `listener` until `shutdown` resolves.
pub async fn serve_with_traces(
    listener: tokio::net::TcpListener,
    state: OtlpState,
    logs: Option<OtlpLogsState>,
    traces: Option<TracesState>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), String> {
    let tenancy = state.tenancy.clone();
    let svc = MetricsServiceServer::new(Service(state))
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let logs = logs.map(|l| {
        LogsServiceServer::new(Logs(l, tenancy.clone()))
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
    });
    let traces = traces.map(|t| {
        TraceServiceServer::new(Traces(t, tenancy.clone()))
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
    });
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tonic::transport::Server::builder()
        .add_service(svc)
        .add_optional_service(logs)
        .add_optional_service(traces)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .map_err(|e| format!("OTLP gRPC server: {e}"))
}
