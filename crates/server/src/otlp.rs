//! Wiring of the OTLP metrics receiver: the HTTP routes (on the main
//! listener) and the gRPC service on `--otlp.grpc.listen`.
//!
//! The gRPC port defaults to 127.0.0.1:4317, OTLP's own. When the default
//! port is taken (another collector, or a second Sightline on the machine)
//! the server logs an error and runs without gRPC; an address given on
//! the command line that cannot be bound refuses the start. `0` or an
//! empty value turns gRPC off.

use anyhow::Context;
use sightline_api::otlp::{OtlpCounters, OtlpState};
use sightline_core::telemetry::TelemetryRegistry;
use sightline_core::MetricAppender;
use sightline_ingest::otlp::{OtlpConfig, Receiver};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The default gRPC address.
pub const DEFAULT_GRPC_LISTEN: &str = "127.0.0.1:4317";

/// The receiver's state, its counters registered in `registry`.
pub fn state(
    config: &OtlpConfig,
    lookback_ms: i64,
    store: Arc<dyn MetricAppender>,
    registry: &TelemetryRegistry,
    tenancy: &sightline_api::tenant::Tenancy,
) -> OtlpState {
    let counters = Arc::new(OtlpCounters::default());
    registry.register(counters.clone());
    OtlpState {
        receiver: Arc::new(Receiver::new(config.clone(), lookback_ms)),
        store,
        counters,
        tenancy: tenancy.clone(),
    }
}

/// Binds and spawns the gRPC server; `None` when it is off (or the
/// default port is taken). The port takes the HTTP port's TLS and
/// credentials (issue 18) and refuses pushes at the memory limit.
pub async fn spawn_grpc(
    flag: Option<&str>,
    state: OtlpState,
    logs: Option<sightline_api::otlp::logs::OtlpLogsState>,
    traces: Option<sightline_api::otlp::traces::TracesState>,
    cancel: CancellationToken,
    gate: Arc<sightline_auth::Gate>,
    memory: Arc<sightline_core::memory::MemoryGovernor>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let (addr, explicit) = match flag.map(str::trim) {
        None => (DEFAULT_GRPC_LISTEN, false),
        Some("" | "0") => return Ok(None),
        Some(a) => (a, true),
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) if !explicit => {
            tracing::error!(addr, error = %e, "OTLP gRPC receiver not started: the default port is not free (set --otlp.grpc.listen)");
            return Ok(None);
        }
        Err(e) => return Err(e).with_context(|| format!("OTLP gRPC: listening on {addr}")),
    };
    tracing::info!(addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "OTLP gRPC receiver listening");
    let mut app = sightline_api::otlp::grpc::routes(state, logs, traces).layer(
        axum::middleware::from_fn_with_state(memory, crate::memory::refuse_grpc_at_limit),
    );
    if gate.is_locked() {
        app = sightline_auth::gate::wrap_grpc(app, gate.clone());
    }
    let web = gate.web().clone();
    Ok(Some(tokio::spawn(async move {
        if let Err(e) =
            sightline_auth::listen::serve(listener, app, web, cancel.cancelled_owned()).await
        {
            tracing::error!(error = %e, "OTLP gRPC receiver stopped");
        }
    })))
}
