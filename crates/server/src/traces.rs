//! Traces in `serve`: the `traces:` section of sightline.yml (read at
//! start; docs/traces-ingest.md, docs/traces-store.md, docs/traces.md), the
//! [`TracesSubsystem`] holding the trace store under `<data-dir>/traces`
//! behind its two seams, the span intakes on the HTTP port (OTLP
//! `/v1/traces`, Zipkin `/api/v2/spans`, Jaeger `/api/traces`) and the OTLP
//! gRPC port (`TraceService/Export`), the read APIs (Tempo's at the root,
//! Jaeger's under `/jaeger`, Zipkin's `/api/v2/...`), and the metrics
//! generator writing span metrics and the service graph into the TSDB.

use axum::extract::{RawQuery, Request};
use serde::Deserialize;
use sightline_api::otlp::traces::TracesState;
use sightline_core::lifecycle::{Running, StartContext, Task};
use sightline_core::traces::{Span, SpanRefusal, TraceAppendReport, TraceAppender, TraceQuerier};
use sightline_core::MetricAppender;
use sightline_ingest::otlp::traces_write::{SpanLimits, TraceIngestCounters};
use sightline_ingest::tracegen::{GeneratorConfig, MetricsGenerator};
use sightline_tracestore::{TraceStore, TraceStoreOptions};
use std::sync::Arc;
use tower::ServiceExt;

/// The `traces:` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracesConfig {
    /// What the receivers let through per span (the OpenTelemetry SDK's
    /// span limits, applied at the receiver).
    #[serde(default)]
    pub limits: SpanLimits,
    /// The store: retention, limits, WAL and block settings.
    #[serde(default)]
    pub store: TraceStoreOptions,
    /// Span metrics and the service graph (docs/traces.md).
    #[serde(default)]
    pub metrics_generator: GeneratorConfig,
}

/// The running trace subsystem.
pub struct TracesSubsystem {
    /// The store, counting what it accepts into the generator.
    pub appender: Arc<dyn TraceAppender>,
    pub querier: Arc<dyn TraceQuerier>,
    pub counters: Arc<TraceIngestCounters>,
    pub limits: SpanLimits,
    /// Per-tenant limits (spans/s), set once the tenancy is known.
    pub tenant_limits: Option<Arc<sightline_api::tenant::TenantLimits>>,
}

/// Appends to the store, then hands what it accepted to the generator.
/// Spans of a trace the store refused are left out; when a refusal names
/// no trace (a rate limit, spans too old) the push is not counted at all:
/// the client sends it again and it is counted when accepted.
struct GeneratingAppender {
    store: Arc<TraceStore>,
    generator: Arc<MetricsGenerator>,
}

impl TraceAppender for GeneratingAppender {
    fn append(&self, tenant: &str, spans: Vec<Span>) -> sightline_core::Result<TraceAppendReport> {
        // The generator needs the spans after the store took them: keep a
        // copy only of what it reads.
        let copy = spans.clone();
        let report = self.store.append(tenant, spans)?;
        if report.accepted == 0 {
            return Ok(report);
        }
        let mut refused_traces = Vec::new();
        let mut refused_spans = Vec::new();
        for r in &report.refused {
            match r {
                SpanRefusal::TraceTooLarge { trace_id, .. } => refused_traces.push(*trace_id),
                SpanRefusal::SpanTooLarge {
                    span_id, trace_id, ..
                } => refused_spans.push((*trace_id, *span_id)),
                _ => return Ok(report),
            }
        }
        let kept: Vec<Span> = if refused_traces.is_empty() && refused_spans.is_empty() {
            copy
        } else {
            copy.into_iter()
                .filter(|s| {
                    !refused_traces.contains(&s.trace_id)
                        && !refused_spans.contains(&(s.trace_id, s.span_id))
                })
                .collect()
        };
        self.generator
            .observe(tenant, &kept, sightline_core::time::now_ms());
        Ok(report)
    }
}

impl TracesSubsystem {
    /// Opens the store (replaying its WAL), registers its telemetry and
    /// starts the generator's collection.
    pub fn start(
        cfg: &TracesConfig,
        ctx: &StartContext,
        metrics: Arc<dyn MetricAppender>,
    ) -> anyhow::Result<(TracesSubsystem, Vec<Box<dyn Running>>)> {
        cfg.metrics_generator
            .validate()
            .map_err(|e| anyhow::anyhow!("traces.{e}"))?;
        let dir = ctx.data_dir.join("traces");
        tracing::info!(dir = %dir.display(), "opening the trace store (replaying its WAL)");
        let store =
            Arc::new(TraceStore::open(&dir, cfg.store.clone()).map_err(|e| {
                anyhow::anyhow!("opening the trace store in {}: {e}", dir.display())
            })?);
        ctx.telemetry.register(store.clone());
        let weak = Arc::downgrade(&store);
        ctx.memory.on_pressure("traces", move || {
            if let Some(Err(e)) = weak.upgrade().map(|s| s.flush()) {
                tracing::warn!(error = %e, "trace store: flush under memory pressure failed");
            }
        });
        let counters = Arc::new(TraceIngestCounters::default());
        ctx.telemetry.register(counters.clone());
        let mut running: Vec<Box<dyn Running>> = Vec::new();
        let appender: Arc<dyn TraceAppender> = if cfg.metrics_generator.processors.is_empty() {
            store.clone()
        } else {
            let generator = Arc::new(MetricsGenerator::new(cfg.metrics_generator.clone()));
            let (g, cancel) = (generator.clone(), ctx.cancel.clone());
            let every = cfg
                .metrics_generator
                .collection_interval
                .std()
                .max(std::time::Duration::from_secs(1));
            running.push(Box::new(Task::spawn("metrics generator", async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                loop {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tick.tick() => {}
                    }
                    let (g, m) = (g.clone(), metrics.clone());
                    match tokio::task::spawn_blocking(move || {
                        g.collect(m.as_ref(), sightline_core::time::now_ms())
                    })
                    .await
                    {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::warn!(error = %e, "span metrics not written"),
                        Err(e) => tracing::error!(error = %e, "span metrics collection failed"),
                    }
                }
            })));
            Arc::new(GeneratingAppender {
                store: store.clone(),
                generator,
            })
        };
        Ok((
            TracesSubsystem {
                querier: store,
                appender,
                counters,
                limits: cfg.limits.clone(),
                tenant_limits: None,
            },
            running,
        ))
    }

    /// The span intakes' state (HTTP and gRPC).
    pub fn state(&self) -> TracesState {
        let mut s = TracesState::new(
            self.appender.clone(),
            self.limits.clone(),
            self.counters.clone(),
        );
        s.tenant_limits = self.tenant_limits.clone();
        s
    }

    /// The span intakes (OTLP/HTTP, Zipkin, Jaeger) and the read APIs
    /// (Tempo, Jaeger under `/jaeger`, Zipkin) but `/api/search`, which is
    /// [`search_route`]'s.
    pub fn routes(&self) -> axum::Router {
        let s = self.state();
        axum::Router::new()
            .merge(sightline_api::otlp::traces::traces_router(s.clone()))
            .merge(sightline_api::zipkin::ingest::ingest_router(s.clone()))
            .merge(sightline_api::jaeger::ingest::ingest_router(s))
            .merge(sightline_api::tempo::query_routes(self.querier.clone()))
            .merge(sightline_api::tempo::grpc::streaming_routes(
                self.querier.clone(),
            ))
            .merge(sightline_api::jaeger::query_routes(self.querier.clone()))
            .merge(sightline_api::zipkin::query_routes(self.querier.clone()))
    }

    /// `GET /api/search`: Tempo's trace search when the request carries its
    /// parameters (`q`, `tags`, `start`, ...), else Grafana's dashboard
    /// search, which `dashboards` serves on the same path.
    pub fn search_route(&self, dashboards: axum::Router) -> axum::Router {
        let tempo = sightline_api::tempo::search_route(self.querier.clone());
        axum::Router::new().route(
            "/api/search",
            axum::routing::get(move |RawQuery(q): RawQuery, req: Request| {
                let (tempo, dashboards) = (tempo.clone(), dashboards.clone());
                async move {
                    let target = if sightline_api::tempo::search::is_trace_search(q.as_deref()) {
                        tempo
                    } else {
                        dashboards
                    };
                    match target.oneshot(req).await {
                        Ok(r) => r,
                        Err(e) => match e {},
                    }
                }
            }),
        )
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
