//! The Jaeger span receiver, without HTTP: the body of `POST /api/traces`
//! (`application/x-thrift`, as Jaeger clients send it to the collector) is
//! one `jaeger.thrift` `Batch` in Thrift's binary protocol, read by the
//! hand-written reader of [`thrift`] ([`batch`] knows the IDL), then mapped
//! onto the core (OpenTelemetry) model as the OpenTelemetry Collector's
//! jaeger receiver maps it ([`map`]).
//!
//! A batch is all or nothing: a body that does not decode, or a span with
//! a zero trace or span id, refuses the request with a message naming the
//! byte offset or the span and field.

pub mod batch;
pub mod map;
pub mod thrift;

use crate::otlp::traces::inflate;
use crate::{Error, Result};
use sightline_core::traces::Span;

/// Checks a `Content-Type` for Jaeger's Thrift body (415 otherwise).
pub fn check_content_type(ct: Option<&str>) -> Result<()> {
    let media = ct
        .and_then(|c| c.split(';').next())
        .map(str::trim)
        .unwrap_or("");
    if media.eq_ignore_ascii_case("application/x-thrift")
        || media.eq_ignore_ascii_case("application/vnd.apache.thrift.binary")
    {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType(format!(
            "unsupported Content-Type {media:?}: Jaeger spans are \"application/x-thrift\" (a jaeger.thrift Batch in Thrift's binary protocol)"
        )))
    }
}

/// Decodes a `POST /api/traces` body into core spans. Errors: 415 for
/// another encoding, 400 ([`Error::Traces`]) for a body that does not
/// decode.
pub fn decode(body: &[u8], content_encoding: Option<&str>) -> Result<Vec<Span>> {
    let body = inflate(body, content_encoding)?;
    let b = batch::parse(&body)
        .map_err(|e| Error::Traces(format!("decoding jaeger.thrift Batch: {e}")))?;
    map::to_spans(b).map_err(|e| Error::Traces(format!("jaeger.thrift Batch: {e}")))
}

#[cfg(test)]
mod tests;
