//! Sightline's HTTP surface.
//!
//! [`router`] builds one axum [`Router`] from an [`ApiState`]: the
//! subsystems it serves are reached through small traits held as
//! `Arc<dyn Trait>` ([`TargetsSource`], [`MetadataSource`], [`Reloader`], [`StatusSource`]) and the core storage
//! traits, so every route can be tested with `Router::oneshot` and no socket.
//!
//! Modules, one per API family:
//! - [`prometheus`]: the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`,
//!   `/api/v1/series`, `/api/v1/labels`, `/api/v1/status/*`, `/api/v1/write`,
//!   `/api/v1/targets`, ...), with PromQL run by [`prometheus::QueryEngine`].
//! - [`alertmanager`]: Alertmanager's API v2 over the built-in Alertmanager,
//!   and the notification history.
//! - [`loki`]: Loki's HTTP API, query side (LogQL over the log store).
//! - [`native`]: Sightline's own endpoints (`/api/v1/slos`).
//! - [`otlp`]: the OpenTelemetry metrics receiver (`/v1/metrics`, gRPC
//!   `MetricsService/Export`), with a router and state of its own.
//! - [`loki`]: Loki's API; for now the push endpoints
//!   ([`loki::push::push_routes`]).
//! - [`otlp::traces`], [`zipkin`], [`jaeger`]: the span intakes
//!   (`/v1/traces` and gRPC `TraceService/Export`, `/api/v2/spans`,
//!   `/api/traces`), writing through a `TraceAppender`.
//! - [`events`]: the event intake, Segment's HTTP tracking API
//!   (`/v1/track`, `/v1/batch`, ...) and `/v1/events`, with its own router.
//! - [`tenant`]: the tenant of a request (`X-Scope-OrgID`), multi-tenancy
//!   and per-tenant limits.
//! - [`ops`]: operations endpoints (`/-/healthy`, `/-/ready`, `/-/reload`, `/metrics`).
//! - [`web`]: small server-rendered pages (`/`, `/graph`, `/alerts`) that the
//!   links in alerts and notifications lead to, until the web UI arrives.

pub mod alertmanager;
pub mod analytics;
pub mod events;
pub mod incidents;
pub mod jaeger;
pub mod loki;
pub mod native;
pub mod ops;
pub mod otlp;
pub mod prometheus;
mod state;
pub mod tempo;
pub mod tenant;
mod trace_common;
#[cfg(test)]
mod trace_fixture;
pub mod web;
pub mod zipkin;

pub use state::{
    ApiState, BoxFuture, HeadStats, MetadataSource, NoMetadata, Reloader, RulesSource,
    StatusSource, TargetsSource,
};

use axum::Router;

/// The whole HTTP API over `state`.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .merge(prometheus::routes())
        .merge(ops::routes())
        .merge(web::routes())
        .with_state(state)
}
