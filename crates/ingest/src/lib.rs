//! Getting data into Sightline.
//!
//! - [`exposition`]: the Prometheus text format 0.0.4 and OpenMetrics 1.0
//!   parser ([`exposition::Parser`]), shared by scraping and `sightline import`.
//! - [`remote_write`]: decoding Prometheus remote_write requests and appending
//!   them through a [`sightline_core::Appender`]; [`remote_metadata`] keeps
//!   the metric metadata senders send along.
//! - [`config`]: the Prometheus configuration file (`global`, `scrape_configs`,
//!   ...) read in Prometheus's own format.
//! - [`relabel`]: `relabel_configs` / `metric_relabel_configs` with every action.
//! - [`discovery`]: static and file-based service discovery.
//! - [`scrape`]: scrape pools, scrape loops, staleness, target health.
//! - [`otlp`]: the OpenTelemetry metrics receiver (OTLP/HTTP bodies, the
//!   mapping to Prometheus series, delta to cumulative).
//! - [`loki`]: Loki's push API (`/loki/api/v1/push`): protobuf and JSON
//!   bodies, Loki's validation and messages, appended through a
//!   [`sightline_core::logs::LogAppender`].
//! - [`syslog`]: a syslog listener (RFC 5424 and 3164, TCP and UDP)
//!   configured as Promtail's `syslog` scrape config.
//! - [`otlp::logs`]: OTLP logs to Loki streams.
//! - [`otlp::traces`], [`zipkin`], [`jaeger`]: spans in OTLP, Zipkin v2
//!   (JSON, proto3) and Jaeger Thrift to the core span model, written
//!   through a [`sightline_core::traces::TraceAppender`]
//!   ([`otlp::traces_write`]).
//! - [`tail`]: file tailing as Promtail does it (its config, positions,
//!   rotation, pipeline stages), for `serve` and `sightline agent`.
//! - [`alert_sender`]: rule alerts to Alertmanagers (API v2), with
//!   `alert_relabel_configs` and the Alertmanagers' own discovery.
//!
//! Ingest never names a concrete store: it writes through
//! [`sightline_core::MetricAppender`] (metrics) and
//! [`sightline_core::logs::LogAppender`] (logs).

pub mod alert_sender;
pub mod config;
pub mod discovery;
mod error;
pub mod exposition;
pub mod jaeger;
pub mod loki;
pub mod native_histogram;
pub mod otlp;
pub mod relabel;
pub mod remote_metadata;
pub mod remote_write;
pub mod scrape;
pub mod syslog;
pub mod tail;
pub mod tracegen;
pub mod zipkin;

pub use error::{Error, Result};
