//! Scraping: pools, loops, staleness and target health.
//!
//! - [`ScrapeManager`] runs one scrape pool per job of a
//!   [`crate::config::PrometheusConfig`] under a cancellation token, applies
//!   reloads ([`ScrapeManager::apply_config`]) and answers
//!   `/api/v1/targets` ([`ScrapeManager::targets`] -> [`TargetsSnapshot`]).
//! - Each pool follows its job's discovery and runs one loop per target.
//!   A loop scrapes at a per-target offset within the interval, parses the
//!   body with [`crate::exposition::Parser`] and appends everything of one
//!   scrape in one appender transaction, rolled back entirely when the body
//!   is malformed or a limit is exceeded. It then writes `up`,
//!   `scrape_duration_seconds`, `scrape_samples_scraped`,
//!   `scrape_samples_post_metric_relabeling` and `scrape_series_added`.
//! - Series that disappear get staleness markers on the next scrape; all
//!   series of a failed scrape's predecessor, and of a target or job that
//!   goes away, get them too, as in Prometheus.
//! - A per-target cache keyed by the raw series text keeps steady-state
//!   scrapes free of label parsing, relabeling and allocation.
//! - [`ScrapeManager::metadata`] / [`ScrapeManager::targets_metadata`]
//!   serve `/api/v1/metadata` and `/api/v1/targets/metadata` from the
//!   `# TYPE` / `# HELP` / `# UNIT` lines each target's scrapes gave, kept
//!   per target as Prometheus's scrape cache keeps them (`metadata`).
//! - [`LocalTarget`] appends an exposition produced in-process (probe
//!   results) through the same path, so it is stored as a scrape would be.
//! - [`ScrapeMetrics`] are the self-metrics the server exports.

mod api;
mod append;
mod cache;
mod http;
mod local;
mod manager;
mod metadata;
mod metrics;
mod pool;
mod scrape_loop;
mod target;
#[cfg(test)]
mod tests;
mod tls;

pub use api::{
    rfc3339_nanos, ActiveTarget, DroppedTarget, TargetMetadata, TargetState, TargetsSnapshot,
};
pub use http::{HttpClient, SCRAPE_USER_AGENT};
pub use local::{LocalAppend, LocalTarget};
pub use manager::{PreparedConfig, ScrapeManager};
pub use metadata::MetricMetadata;
pub use metrics::ScrapeMetrics;
pub use target::{populate_labels, targets_from_groups, Health, Populated, Target};
