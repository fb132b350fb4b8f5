//! The Zipkin span receiver, without HTTP: `POST /api/v2/spans` bodies in
//! Zipkin's v2 JSON ([`json`]) or proto3 `ListOfSpans` ([`proto`]), gzip or
//! not, to [`Span`]s of the core (OpenTelemetry) model as the
//! OpenTelemetry Collector's zipkin receiver maps them ([`map`]).
//!
//! A batch is all or nothing, as Zipkin's own collector reads it: one span
//! that does not decode (a bad id, a field of the wrong type) refuses the
//! request with a message naming the span and the field.

pub mod json;
pub mod map;
pub mod proto;

use crate::otlp::traces::inflate;
use crate::{Error, Result};
use sightline_core::traces::Span;
use sightline_core::traces::{SpanId, TraceId};

/// The body's encoding, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZipkinFormat {
    /// `application/json` (the default when no type is given, as Zipkin
    /// assumes).
    Json,
    /// `application/x-protobuf`: a proto3 `zipkin.proto3.ListOfSpans`.
    Protobuf,
}

impl ZipkinFormat {
    /// The format a `Content-Type` names; 415 for another.
    pub fn from_content_type(ct: Option<&str>) -> Result<ZipkinFormat> {
        let media = ct
            .and_then(|c| c.split(';').next())
            .map(str::trim)
            .unwrap_or("");
        if media.is_empty() || media.eq_ignore_ascii_case("application/json") {
            Ok(ZipkinFormat::Json)
        } else if media.eq_ignore_ascii_case("application/x-protobuf")
            || media.eq_ignore_ascii_case("application/protobuf")
        {
            Ok(ZipkinFormat::Protobuf)
        } else {
            Err(Error::UnsupportedMediaType(format!(
                "unsupported Content-Type {media:?}: Zipkin v2 spans are \"application/json\" or \"application/x-protobuf\""
            )))
        }
    }
}

/// A Zipkin v2 span as both encodings carry it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZipkinSpan {
    pub trace_id: TraceId,
    pub id: SpanId,
    pub parent_id: Option<SpanId>,
    pub name: String,
    pub kind: Option<ZipkinKind>,
    /// Microseconds since the epoch; 0 when absent.
    pub timestamp_us: u64,
    pub duration_us: u64,
    pub local_endpoint: Option<Endpoint>,
    pub remote_endpoint: Option<Endpoint>,
    /// (microseconds since the epoch, value).
    pub annotations: Vec<(u64, String)>,
    pub tags: Vec<(String, String)>,
    pub debug: bool,
    pub shared: bool,
}

/// Zipkin's span kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZipkinKind {
    Client,
    Server,
    Producer,
    Consumer,
}

/// A node of the service graph.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Endpoint {
    pub service_name: String,
    /// Dotted quad, or empty.
    pub ipv4: String,
    /// Textual IPv6, or empty.
    pub ipv6: String,
    /// 0 when absent.
    pub port: u16,
}

/// Decodes a `POST /api/v2/spans` body into core spans. Errors: 415
/// ([`Error::UnsupportedMediaType`]) for another encoding, 400
/// ([`Error::Traces`]) for a body that does not decode.
pub fn decode(
    body: &[u8],
    format: ZipkinFormat,
    content_encoding: Option<&str>,
) -> Result<Vec<Span>> {
    let body = inflate(body, content_encoding)?;
    let spans = match format {
        ZipkinFormat::Json => json::parse(&body),
        ZipkinFormat::Protobuf => proto::parse(&body),
    }
    .map_err(|e| Error::Traces(format!("decoding Zipkin v2 spans: {e}")))?;
    Ok(map::to_spans(spans))
}

#[cfg(test)]
mod tests;
