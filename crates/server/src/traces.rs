//! Traces in `serve`: the `traces:` section of sightline.yml (read at
//! start; docs/traces-ingest.md), the [`TracesSubsystem`] holding the
//! span store behind its two seams, and the span intakes mounted on the
//! HTTP port (OTLP `/v1/traces`, Zipkin `/api/v2/spans`, Jaeger
//! `/api/traces`) and the OTLP gRPC port (`TraceService/Export`).

use serde::Deserialize;
use sightline_api::otlp::traces::TracesState;
use sightline_core::lifecycle::StartContext;
use sightline_core::traces::{MemTraceStore, TraceAppender, TraceQuerier};
use sightline_ingest::otlp::traces_write::{SpanLimits, TraceIngestCounters};
use std::sync::Arc;

/// The `traces:` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracesConfig {
    /// What the receivers let through per span (the OpenTelemetry SDK's
    /// span limits, applied at the receiver).
    #[serde(default)]
    pub limits: SpanLimits,
}

/// The running trace subsystem.
pub struct TracesSubsystem {
    pub appender: Arc<dyn TraceAppender>,
    /// What the read APIs and TraceQL will read through.
    // Unread until the read APIs land (the lead's, at merge).
    #[allow(dead_code)]
    pub querier: Arc<dyn TraceQuerier>,
    pub counters: Arc<TraceIngestCounters>,
    pub limits: SpanLimits,
}

/// Opens the span store.
///
/// The trace store does not exist on this branch yet: spans are kept in
/// memory. At merge the lead replaces this body with
/// `sightline_tracestore::TraceStore` opened under `<data-dir>/traces`
/// (and its `traces.store` section); nothing else here changes.
fn open_trace_store(
    _cfg: &TracesConfig,
    _ctx: &StartContext,
) -> anyhow::Result<(Arc<dyn TraceAppender>, Arc<dyn TraceQuerier>)> {
    let store = Arc::new(MemTraceStore::new());
    Ok((store.clone(), store))
}

impl TracesSubsystem {
    /// Opens the store and registers the receivers' counters.
    pub fn start(cfg: &TracesConfig, ctx: &StartContext) -> anyhow::Result<TracesSubsystem> {
        let (appender, querier) = open_trace_store(cfg, ctx)?;
        let counters = Arc::new(TraceIngestCounters::default());
        ctx.telemetry.register(counters.clone());
        Ok(TracesSubsystem {
            appender,
            querier,
            counters,
            limits: cfg.limits.clone(),
        })
    }

    /// The span intakes' state (HTTP and gRPC).
    pub fn state(&self) -> TracesState {
        TracesState::new(
            self.appender.clone(),
            self.limits.clone(),
            self.counters.clone(),
        )
    }

    /// OTLP/HTTP traces, Zipkin's and Jaeger's span intakes.
    pub fn routes(&self) -> axum::Router {
        let s = self.state();
        axum::Router::new()
            .merge(sightline_api::otlp::traces::traces_router(s.clone()))
            .merge(sightline_api::zipkin::ingest::ingest_router(s.clone()))
            .merge(sightline_api::jaeger::ingest::ingest_router(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// issue 16: the section reads the SDK's names, defaults the rest, and
    /// refuses a key it does not know, naming it.
    #[test]
    fn the_traces_section() {
        let c: TracesConfig = sightline_config::yaml::from_str(
            "limits:\n  max_attribute_value_length: 100\n",
            "sightline.yml",
        )
        .unwrap();
        assert_eq!(c.limits.max_attribute_value_length, 100);
        assert_eq!(c.limits.max_attributes_per_span, 128);
        assert_eq!(TracesConfig::default().limits, SpanLimits::default());
        let e = sightline_config::yaml::from_str::<TracesConfig>(
            "limits:\n  max_attributes: 3\n",
            "sightline.yml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("max_attributes"), "{e}");
    }
}
