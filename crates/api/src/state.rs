//! What the routes need from the rest of Sightline.

use prometheus_client::registry::Registry;
use sightline_core::{MetricAppender, MetricQuerier};
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
    /// Scrape target health.
    pub targets: Arc<dyn TargetsSource>,
    /// Re-reads the configuration (`POST /-/reload`).
    pub reloader: Arc<dyn Reloader>,
    /// Self-telemetry served on `/metrics`.
    pub registry: Arc<Registry>,
    /// Set once the store has replayed its WAL and the server accepts work.
    pub ready: Arc<AtomicBool>,
    /// Counters of the remote_write receiver.
    pub remote_write: Arc<crate::prometheus::RemoteWriteCounters>,
}

/// Scrape target health, already shaped as Prometheus's `/api/v1/targets`
/// `data` object (`activeTargets`, `droppedTargets`).
pub trait TargetsSource: Send + Sync {
    /// `state` is Prometheus's filter: `active`, `dropped`, or `any`.
    fn targets(&self, state: &str) -> serde_json::Value;
}

/// A boxed future, so traits stay object safe.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Re-reads and applies the configuration; on failure the running
/// configuration stays in force and the message says what was wrong.
pub trait Reloader: Send + Sync {
    /// Reloads; `Err` carries file, line and field of the problem.
    fn reload(self: Arc<Self>) -> BoxFuture<Result<(), String>>;
}
