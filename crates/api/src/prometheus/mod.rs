//! The Prometheus HTTP API (`/api/v1/...`), JSON shaped exactly as
//! Prometheus returns it: `{"status":"success","data":...}` or
//! `{"status":"error","errorType":...,"error":...}`.
//!
//! Modules, one per endpoint family:
//! - `query`: `/query`, `/query_range`, `/format_query`, run by [`QueryEngine`].
//! - `series`, `labels`: `/series`, `/labels`, `/label/<name>/values`.
//! - `metadata`: `/metadata` and `/targets/metadata`.
//! - `exemplars`: `/query_exemplars`.
//! - `status`: `/status/{buildinfo,runtimeinfo,flags,config,tsdb}`.
//! - `params`: Prometheus's parameter syntax (times, durations, `match[]`).
//! - `format`: Prometheus's JSON for values, timestamps and strings.
//! - `write`, `targets`: remote_write receiver and scrape targets.

mod exemplars;
mod format;
mod labels;
mod metadata;
mod params;
mod query;
mod response;
pub(crate) mod rules;
mod series;
mod status;
mod targets;
mod write;

pub(crate) use format::push_float;
pub(crate) use params::{parse_duration_ns, parse_time};
pub(crate) use query::evaluate_instant;
pub use query::QueryEngine;
pub use response::{api_error, api_success};
pub use status::PROMETHEUS_API_VERSION;
pub use write::RemoteWriteCounters;

use crate::ApiState;
use axum::routing::{get, post};
use axum::Router;

/// Routes of the Prometheus API family. Query and metadata endpoints take
/// GET and form-encoded POST alike, as Prometheus's do.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/query", get(query::instant).post(query::instant))
        .route("/api/v1/query_range", get(query::range).post(query::range))
        .route(
            "/api/v1/format_query",
            get(query::format).post(query::format),
        )
        .route("/api/v1/series", get(series::series).post(series::series))
        .route("/api/v1/labels", get(labels::names).post(labels::names))
        .route("/api/v1/label/{name}/values", get(labels::values))
        .route("/api/v1/metadata", get(metadata::metadata))
        .route("/api/v1/targets/metadata", get(metadata::targets_metadata))
        .route(
            "/api/v1/query_exemplars",
            get(exemplars::query_exemplars).post(exemplars::query_exemplars),
        )
        .route("/api/v1/status/buildinfo", get(status::buildinfo))
        .route("/api/v1/status/runtimeinfo", get(status::runtimeinfo))
        .route("/api/v1/status/flags", get(status::flags))
        .route("/api/v1/status/config", get(status::config))
        .route("/api/v1/status/tsdb", get(status::tsdb))
        .route("/api/v1/write", post(write::remote_write))
        .route("/api/v1/targets", get(targets::targets))
        .route("/api/v1/rules", get(rules::rules))
        .route("/api/v1/alerts", get(rules::alerts))
}
