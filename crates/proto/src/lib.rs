//! Wire types only: Prometheus remote_write and exposition messages as hand-written
//! `prost::Message` structs (the published crates pin old prost versions).
//!
//! - [`prometheus`]: remote write 1.0, package `prometheus` (`WriteRequest`,
//!   `TimeSeries`, `Label`, `Sample`, `Exemplar`, `Histogram`,
//!   `MetricMetadata`), content type `application/x-protobuf`.
//! - [`write_v2`]: remote write 2.0, package `io.prometheus.write.v2`
//!   (`Request` with its symbols table), content type
//!   `application/x-protobuf;proto=io.prometheus.write.v2.Request`.
//! - [`client_model`]: the protobuf exposition format (`package
//!   io.prometheus.client`, `MetricFamily`) that targets serve to scrapers
//!   asking for native histograms.
//!
//! - [`loki`]: Loki's push request (`package logproto`, `PushRequest`),
//!   content type `application/x-protobuf`, snappy-compressed.
//!
//! Field numbers and types follow upstream `prompb/types.proto`,
//! `prompb/remote.proto` and `prompb/io/prometheus/write/v2/types.proto`;
//! the tests pin them with bytes built by hand.

pub mod client_model;
pub mod loki;
pub mod prometheus;
pub mod write_v2;

pub use prost::Message;
