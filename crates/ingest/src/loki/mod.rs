//! Loki's push API without HTTP: the API crate hands over a body and its
//! headers, and this module decodes it, validates it as Loki's distributor
//! does, and appends the good streams through a
//! [`sightline_core::logs::LogAppender`].
//!
//! - [`decode`]: `Content-Encoding` (gzip, deflate), snappy-compressed
//!   protobuf (`logproto.PushRequest`) and both JSON forms (`values` of
//!   Loki's v1 API, `entries` of the legacy `/api/prom/push`).
//! - [`selector`]: the stream's label text (`{app="api"}`) parsed.
//! - [`validate`]: Loki's distributor checks ([`PushLimits`]) with Loki's
//!   message texts.
//! - [`push`]: one push from body to answer ([`push_body`], [`PushOutcome`]).
//! - [`telemetry`]: counters of every log receiver ([`LogIngestCounters`]).
//!
//! docs/logs-ingest.md describes the endpoint for users.

pub mod decode;
pub mod push;
pub mod selector;
pub mod telemetry;
pub mod validate;

#[cfg(test)]
mod tests;

pub use decode::{decode_body, RawStream};
pub use push::{push_body, push_streams, PushOutcome};
pub use telemetry::{LogIngestCounters, Protocol};
pub use validate::PushLimits;
