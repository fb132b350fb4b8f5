//! What the routes need from the rest of Sightline.

use sightline_core::telemetry::TelemetryRegistry;
use sightline_core::{Matcher, MetricAppender, MetricQuerier};
use sightline_ingest::scrape::{MetricMetadata, TargetMetadata};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Shared state of every route. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    /// Where remote_write samples go.
    pub appendable: Arc<dyn MetricAppender>,
    /// Where queries read from.
    pub querier: Arc<dyn MetricQuerier>,
    /// Rule groups and alerts (`/api/v1/rules`, `/api/v1/alerts`).
    pub rules: Arc<dyn RulesSource>,
    /// Scrape target health.
    pub targets: Arc<dyn TargetsSource>,
    /// Metric metadata (`/api/v1/metadata`, `/api/v1/targets/metadata`).
    pub metadata: Arc<dyn MetadataSource>,
    /// Re-reads the configuration (`POST /-/reload`).
    pub reloader: Arc<dyn Reloader>,
    /// Self-telemetry served on `/metrics`: every subsystem's report.
    pub registry: Arc<TelemetryRegistry>,
    /// Set once the store has replayed its WAL and the server accepts work.
    pub ready: Arc<AtomicBool>,
    /// Counters of the remote_write receiver.
    pub remote_write: Arc<crate::prometheus::RemoteWriteCounters>,
    /// The PromQL engine and its limits, behind `/api/v1/query*`.
    pub promql: Arc<crate::prometheus::QueryEngine>,
    /// What `/api/v1/status/*` reports about the running server.
    pub status: Arc<dyn StatusSource>,
}

/// Numbers about the head block for `/api/v1/status/tsdb`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadStats {
    /// Series in the head.
    pub num_series: u64,
    /// Chunks in the head.
    pub chunk_count: u64,
    /// Oldest sample time in the head (ms).
    pub min_time: i64,
    /// Newest sample time in the head (ms).
    pub max_time: i64,
}

/// The running server as `/api/v1/status/*` describes it.
pub trait StatusSource: Send + Sync {
    /// The configuration in force, as YAML (`/status/config`).
    fn config_yaml(&self) -> String;
    /// Command-line flags by name, values as strings (`/status/flags`).
    fn flags(&self) -> std::collections::BTreeMap<String, String>;
    /// The `data` object of `/status/runtimeinfo`.
    fn runtime_info(&self) -> serde_json::Value;
    /// Head block numbers for `/status/tsdb`.
    fn head_stats(&self) -> HeadStats;
}

/// Scrape target health, already shaped as Prometheus's `/api/v1/targets`
/// `data` object (`activeTargets`, `droppedTargets`).
pub trait TargetsSource: Send + Sync {
    /// `state` is Prometheus's filter: `active`, `dropped`, or `any`.
    fn targets(&self, state: &str) -> serde_json::Value;
}

/// Metric metadata (HELP, TYPE, UNIT) from scrape targets and remote write.
pub trait MetadataSource: Send + Sync {
    /// `/api/v1/metadata` data: distinct entries per family, optionally of
    /// one `metric`; `limit` caps the families, `limit_per_metric` the
    /// entries of each (`None`: no cap).
    fn metadata(
        &self,
        metric: Option<&str>,
        limit: Option<usize>,
        limit_per_metric: Option<usize>,
    ) -> BTreeMap<String, Vec<MetricMetadata>>;

    /// `/api/v1/targets/metadata` data: entries of targets whose labels
    /// match `match_target`, optionally of one `metric`; `limit` is checked
    /// before each target.
    fn targets_metadata(
        &self,
        match_target: &[Matcher],
        metric: Option<&str>,
        limit: Option<usize>,
    ) -> Vec<TargetMetadata>;

    /// Keeps the metadata a remote write request carried.
    fn record_remote_write(&self, items: Vec<(String, MetricMetadata)>);
}

/// No metadata at all (tests, servers that scrape nothing).
#[derive(Debug, Default)]
pub struct NoMetadata;

impl MetadataSource for NoMetadata {
    fn metadata(
        &self,
        _: Option<&str>,
        _: Option<usize>,
        _: Option<usize>,
    ) -> BTreeMap<String, Vec<MetricMetadata>> {
        BTreeMap::new()
    }
    fn targets_metadata(
        &self,
        _: &[Matcher],
        _: Option<&str>,
        _: Option<usize>,
    ) -> Vec<TargetMetadata> {
        Vec::new()
    }
    fn record_remote_write(&self, _: Vec<(String, MetricMetadata)>) {}
}

/// A boxed future, so traits stay object safe.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Re-reads and applies the configuration; on failure the running
/// configuration stays in force and the message says what was wrong.
pub trait Reloader: Send + Sync {
    /// Reloads; `Err` carries file, line and field of the problem.
    fn reload(self: Arc<Self>) -> BoxFuture<Result<(), String>>;
}

/// Rule groups and active alerts, already shaped as the `data` objects of
/// Prometheus's `/api/v1/rules` (`{"groups":[...]}`) and `/api/v1/alerts`
/// (`{"alerts":[...]}`).
pub trait RulesSource: Send + Sync {
    /// `/api/v1/rules` data.
    fn rules(&self) -> serde_json::Value;
    /// `/api/v1/alerts` data.
    fn alerts(&self) -> serde_json::Value;
}
