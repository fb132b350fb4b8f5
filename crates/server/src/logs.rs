//! Logs in `serve`: the log store under `<data-dir>/logs`, Loki's query
//! and push APIs and OTLP logs on the HTTP port, OTLP logs on the gRPC
//! port, the syslog listeners and the file tailer, from the `logs:` section
//! of sightline.yml (read at start; docs/logs.md), and Loki's ruler API over
//! the log rule groups (`logs.rule_files`, evaluated by the rule manager;
//! docs/logs-rules.md).

use serde::Deserialize;
use sightline_core::lifecycle::{Running, StartContext, Task};
use sightline_ingest::loki::{LogIngestCounters, PushLimits};
use sightline_ingest::syslog::SyslogConfig;
use sightline_ingest::tail;
use sightline_logstore::{LogStore, LogStoreOptions};
use sightline_rules::QueryLang;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The `logs:` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsConfig {
    /// The store: retention, limits, WAL and chunk settings.
    #[serde(default)]
    pub store: LogStoreOptions,
    /// What a push may carry (Loki's `limits_config` names).
    #[serde(default)]
    pub limits: PushLimits,
    /// Syslog listeners, Promtail's `syslog` blocks.
    #[serde(default)]
    pub syslog: Vec<SyslogConfig>,
    /// Loki ruler rule files (globs, relative to this file's folder):
    /// Prometheus's rule file format with LogQL metric queries, evaluated
    /// over the log store, re-read on reload like `rule_files`
    /// (docs/logs-rules.md).
    #[serde(default)]
    pub rule_files: Vec<String>,
    /// Files to tail: Promtail's `scrape_configs` (docs/logs-tail.md).
    #[serde(default)]
    pub scrape_configs: Vec<tail::ScrapeConfig>,
    /// Tail offsets (default file: `<data-dir>/logs/positions.yaml`).
    #[serde(default)]
    pub positions: tail::PositionsConfig,
}

/// The running log subsystem.
pub struct Logs {
    pub store: Arc<LogStore>,
    pub counters: Arc<LogIngestCounters>,
    pub limits: PushLimits,
}

impl Logs {
    /// Opens the store (replaying its WAL), registers its telemetry and
    /// starts the syslog listeners.
    pub fn start(
        cfg: &LogsConfig,
        ctx: &StartContext,
    ) -> anyhow::Result<(Logs, Vec<Box<dyn Running>>)> {
        let dir = ctx.data_dir.join("logs");
        tracing::info!(dir = %dir.display(), "opening the log store (replaying its WAL)");
        let store = Arc::new(
            LogStore::open(&dir, cfg.store.clone())
                .map_err(|e| anyhow::anyhow!("opening the log store in {}: {e}", dir.display()))?,
        );
        ctx.telemetry.register(store.clone());
        let weak = Arc::downgrade(&store);
        ctx.memory.on_pressure("logs", move || {
            // Cutting the heads into blocks moves their lines from memory
            // to mapped files the kernel may drop.
            if let Some(Err(e)) = weak.upgrade().map(|s| s.flush()) {
                tracing::warn!(error = %e, "log store: flush under memory pressure failed");
            }
        });
        let counters = Arc::new(LogIngestCounters::default());
        ctx.telemetry.register(counters.clone());
        let mut running: Vec<Box<dyn Running>> = Vec::new();
        for s in &cfg.syslog {
            let (s, appender, counters, cancel) = (
                s.clone(),
                store.clone(),
                counters.clone(),
                ctx.cancel.clone(),
            );
            let addr = s.listen_address.clone();
            running.push(Box::new(Task::spawn("syslog", async move {
                if let Err(e) =
                    sightline_ingest::syslog::run_syslog(s, appender, counters, cancel).await
                {
                    tracing::error!(addr = %addr, error = %e, "syslog listener stopped");
                }
            })));
        }
        if !cfg.scrape_configs.is_empty() {
            let metrics = tail::TailMetrics::new();
            ctx.telemetry.register(metrics.clone());
            let sink = Arc::new(tail::AppenderSink {
                appender: store.clone(),
                limits: cfg.limits.clone(),
                metrics: metrics.clone(),
            });
            let default_positions = dir.join("positions.yaml");
            let task = tail::start(
                &cfg.scrape_configs,
                &cfg.positions,
                &default_positions,
                tail::TailOptions::default(),
                sink,
                metrics,
                ctx.cancel.clone(),
            )
            .map_err(|e| anyhow::anyhow!("logs.scrape_configs: {e}"))?;
            running.push(Box::new(Task::spawn("tail", task)));
        }
        Ok((
            Logs {
                store,
                counters,
                limits: cfg.limits.clone(),
            },
            running,
        ))
    }

    /// Loki's query and push APIs and OTLP/HTTP logs.
    pub fn routes(&self) -> axum::Router {
        axum::Router::new()
            .merge(sightline_api::loki::query_routes(self.store.clone()))
            .merge(sightline_api::loki::push::push_routes(
                self.store.clone(),
                self.limits.clone(),
                self.counters.clone(),
            ))
            .merge(sightline_api::otlp::logs::logs_router(self.otlp_state()))
    }

    /// The OTLP logs receiver's state (HTTP and gRPC).
    pub fn otlp_state(&self) -> sightline_api::otlp::logs::OtlpLogsState {
        sightline_api::otlp::logs::OtlpLogsState::new(
            self.store.clone(),
            self.limits.clone(),
            self.counters.clone(),
        )
    }
}

/// Loki's ruler API over the rule manager's LogQL groups.
pub fn ruler_routes(rules: Arc<sightline_rules::RuleManager>) -> axum::Router {
    sightline_api::loki::ruler::ruler_routes(Arc::new(LogRules(rules)))
}

struct LogRules(Arc<sightline_rules::RuleManager>);

impl sightline_api::loki::ruler::LogRulesSource for LogRules {
    fn rules(&self) -> serde_json::Value {
        let data = self.0.rules_snapshot_of(Some(QueryLang::LogQL));
        serde_json::to_value(data).unwrap_or(serde_json::Value::Null)
    }

    fn alerts(&self) -> serde_json::Value {
        let data = self.0.alerts_snapshot_of(Some(QueryLang::LogQL));
        serde_json::to_value(data).unwrap_or(serde_json::Value::Null)
    }

    fn namespaces(&self) -> BTreeMap<String, Vec<serde_json::Value>> {
        sightline_rules::ruler::ruler_namespaces(&self.0, QueryLang::LogQL)
            .into_iter()
            .map(|(ns, groups)| {
                let groups = groups
                    .iter()
                    .filter_map(|g| serde_json::to_value(g).ok())
                    .collect();
                (ns, groups)
            })
            .collect()
    }
}
