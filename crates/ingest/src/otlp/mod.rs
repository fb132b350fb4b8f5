//! The OpenTelemetry (OTLP) metrics and logs receivers, without HTTP or gRPC: the
//! API crate hands over bodies or decoded requests, and a [`Receiver`]
//! maps them to Prometheus series as Prometheus 3's OTLP receiver does and
//! appends them through a [`sightline_core::MetricAppender`].
//!
//! - [`config`]: the `otlp:` configuration section ([`OtlpConfig`]).
//! - [`names`]: metric, unit and label name translation.
//! - [`http`]: OTLP/HTTP bodies (protobuf, JSON, gzip) and answers.
//! - [`json`]: OTLP/JSON to the protobuf types.
//! - [`wire`]: the request as the receiver reads it, gauge and sum point
//!   attributes left encoded until needed.
//! - [`labels`]: attributes, resources and scopes to labels.
//! - [`translate`]: points to samples, histograms, exemplars, `target_info`.
//! - [`delta`]: delta temporality to cumulative.
//! - [`exphist`]: exponential histograms to native histograms.
//! - [`cache`]: series handles by point identity, so known series are
//!   appended without building labels.
//! - [`receiver`]: the [`Receiver`], one transaction per request.
//! - [`logs`]: OTLP logs to Loki streams, through the Loki push path;
//!   [`logs_json`] reads their OTLP/JSON.
//! - [`traces`]: OTLP traces to the core span model; [`traces_json`]
//!   reads their OTLP/JSON; [`traces_write`] holds what the OTLP, Zipkin
//!   and Jaeger span receivers share (limits, the append, counters).
//!
//! docs/otlp.md describes the mapping for users, and where it differs
//! from Prometheus.

pub mod cache;
pub mod config;
pub mod delta;
pub mod exphist;
pub mod http;
pub mod json;
pub mod labels;
pub mod logs;
pub mod logs_json;
pub mod names;
pub mod receiver;
pub mod traces;
pub mod traces_json;
pub mod traces_write;
pub mod translate;
pub mod wire;

#[cfg(test)]
mod tests;

pub use config::{OtlpConfig, TranslationStrategy};
/// The generated OTLP message types, for callers that decode themselves
/// (the gRPC service).
pub use opentelemetry_proto::tonic as proto;
pub use receiver::Receiver;
pub use translate::Outcome;
