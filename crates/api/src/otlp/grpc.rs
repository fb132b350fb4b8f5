//! The OTLP/gRPC metrics service
//! (`opentelemetry.proto.collector.metrics.v1.MetricsService/Export`),
//! served by tonic on its own listener, gzip accepted and sent.
//!
//! Status codes as the OTLP specification asks: `OK` with
//! `partial_success` when points were refused, `UNAVAILABLE` (retryable)
//! when the store refuses for load, `RESOURCE_EXHAUSTED` over a limit,
//! `INTERNAL` otherwise. Malformed messages are refused by tonic with
//! `INTERNAL` before they reach us, as with every tonic server.

use super::OtlpState;
use sightline_ingest::otlp::proto::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use sightline_ingest::otlp::proto::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
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
        let out = match self.0.write(request.into_inner().into()).await {
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

/// Serves the gRPC service on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: OtlpState,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), String> {
    let svc = MetricsServiceServer::new(Service(state))
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tonic::transport::Server::builder()
        .add_service(svc)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .map_err(|e| format!("OTLP gRPC server: {e}"))
}
