//! The OpenTelemetry traces receiver: OTLP `ExportTraceServiceRequest`s
//! (HTTP bodies in protobuf or JSON, or gRPC messages) to [`Span`]s of the
//! core model, which is OTLP's own, so the mapping is one to one: ids as
//! bytes, times in nanoseconds, typed attributes, one shared
//! [`Resource`]/[`Scope`] per `ResourceSpans`/`ScopeSpans`.
//!
//! A span whose trace id is not 16 bytes (or all zeros) or whose span id
//! is not 8 bytes (or all zeros), or whose parent span id is neither empty
//! nor 8 bytes, is invalid: it is dropped and reported in
//! `partial_success` (the spec's "rejected" data), the rest of the request
//! is kept. [`super::traces_write`] applies limits and appends.

use super::http::{gunzip, Format};
use crate::{Error, Result};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue as PValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1 as pt;
use prost::Message;
use sightline_core::traces::{
    AnyValue, Attributes, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, SpanLink, StatusCode,
    TraceId,
};
use std::borrow::Cow;
use std::sync::Arc;

/// Undoes `Content-Encoding` (gzip, identity or none); another encoding
/// is 415. Shared with the Zipkin and Jaeger receivers.
pub fn inflate<'a>(body: &'a [u8], content_encoding: Option<&str>) -> Result<Cow<'a, [u8]>> {
    match content_encoding.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Cow::Borrowed(body)),
        Some(e) if e.eq_ignore_ascii_case("identity") => Ok(Cow::Borrowed(body)),
        Some(e) if e.eq_ignore_ascii_case("gzip") => Ok(Cow::Owned(gunzip(body)?)),
        Some(e) => Err(Error::UnsupportedMediaType(format!(
            "unsupported Content-Encoding {e:?}: bodies are gzip-compressed or not compressed"
        ))),
    }
}

/// Decodes an OTLP/HTTP traces body. Errors: 415
/// ([`Error::UnsupportedMediaType`]) for another encoding, 400
/// ([`Error::Otlp`]) for a body that does not decode.
pub fn decode(
    body: &[u8],
    format: Format,
    content_encoding: Option<&str>,
) -> Result<ExportTraceServiceRequest> {
    let body = inflate(body, content_encoding)?;
    match format {
        Format::Protobuf => ExportTraceServiceRequest::decode(&body[..]).map_err(|e| {
            Error::Otlp(format!(
                "decoding opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest protobuf: {e}"
            ))
        }),
        Format::Json => super::traces_json::parse_request(&body)
            .map_err(|e| Error::Otlp(format!("decoding OTLP/JSON traces request: {e}"))),
    }
}

/// Spans out of a request, and those left out.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Converted {
    pub spans: Vec<Span>,
    /// Invalid spans dropped.
    pub invalid: usize,
    /// Why the first invalid span was, with its path.
    pub message: String,
}

/// An OTLP value in the core model (an unset value is an empty string,
/// as the Collector reads it).
pub fn value(v: Option<PValue>) -> AnyValue {
    use any_value::Value;
    match v.and_then(|v| v.value) {
        None => AnyValue::Str(String::new()),
        Some(Value::StringValue(s)) => AnyValue::Str(s),
        Some(Value::BoolValue(b)) => AnyValue::Bool(b),
        Some(Value::IntValue(i)) => AnyValue::Int(i),
        Some(Value::DoubleValue(d)) => AnyValue::Float(d),
        Some(Value::BytesValue(b)) => AnyValue::Bytes(b),
        Some(Value::ArrayValue(a)) => {
            AnyValue::Array(a.values.into_iter().map(|v| value(Some(v))).collect())
        }
        Some(Value::KvlistValue(m)) => AnyValue::Map(attributes(m.values)),
    }
}

/// OTLP key-values in the core model.
pub fn attributes(kvs: Vec<KeyValue>) -> Attributes {
    kvs.into_iter()
        .map(|kv| (kv.key, value(kv.value)))
        .collect()
}

fn nanos(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

fn ids(
    trace_id: &[u8],
    span_id: &[u8],
    parent: &[u8],
) -> std::result::Result<(TraceId, SpanId, Option<SpanId>), String> {
    if trace_id.len() != 16 {
        return Err(format!("traceId: {} bytes, want 16", trace_id.len()));
    }
    let t = TraceId::from_slice(trace_id).map_err(|e| format!("traceId: {e}"))?;
    if t.is_zero() {
        return Err("traceId: all zeros, which is invalid".into());
    }
    let s = SpanId::from_slice(span_id).map_err(|e| format!("spanId: {e}"))?;
    if s.is_zero() {
        return Err("spanId: all zeros, which is invalid".into());
    }
    let p = if parent.is_empty() {
        None
    } else {
        Some(SpanId::from_slice(parent).map_err(|e| format!("parentSpanId: {e}"))?)
            .filter(|p| !p.is_zero())
    };
    Ok((t, s, p))
}

fn span(
    s: pt::Span,
    resource: &Arc<Resource>,
    scope: &Arc<Scope>,
) -> std::result::Result<Span, String> {
    let (trace_id, span_id, parent_span_id) = ids(&s.trace_id, &s.span_id, &s.parent_span_id)?;
    let mut links = Vec::with_capacity(s.links.len());
    for (i, l) in s.links.into_iter().enumerate() {
        let (t, sp, _) =
            ids(&l.trace_id, &l.span_id, &[]).map_err(|e| format!("links[{i}].{e}"))?;
        links.push(SpanLink {
            trace_id: t,
            span_id: sp,
            trace_state: l.trace_state,
            attributes: attributes(l.attributes),
            dropped_attributes_count: l.dropped_attributes_count,
        });
    }
    let (status_code, status_message) = match s.status {
        Some(st) => (StatusCode::from_i32(st.code), st.message),
        None => (StatusCode::Unset, String::new()),
    };
    Ok(Span {
        trace_id,
        span_id,
        parent_span_id,
        trace_state: s.trace_state,
        name: s.name,
        kind: SpanKind::from_i32(s.kind),
        start_ns: nanos(s.start_time_unix_nano),
        end_ns: nanos(s.end_time_unix_nano),
        attributes: attributes(s.attributes),
        dropped_attributes_count: s.dropped_attributes_count,
        events: s
            .events
            .into_iter()
            .map(|e| SpanEvent {
                time_ns: nanos(e.time_unix_nano),
                name: e.name,
                attributes: attributes(e.attributes),
                dropped_attributes_count: e.dropped_attributes_count,
            })
            .collect(),
        dropped_events_count: s.dropped_events_count,
        links,
        dropped_links_count: s.dropped_links_count,
        status_code,
        status_message,
        resource: resource.clone(),
        scope: scope.clone(),
    })
}

/// The request's spans in the core model; invalid spans are left out and
/// counted.
pub fn to_spans(req: ExportTraceServiceRequest) -> Converted {
    let mut out = Converted {
        spans: Vec::with_capacity(
            req.resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum(),
        ),
        ..Converted::default()
    };
    for (ri, rs) in req.resource_spans.into_iter().enumerate() {
        let resource = Arc::new(match rs.resource {
            Some(r) => Resource {
                attributes: attributes(r.attributes),
                dropped_attributes_count: r.dropped_attributes_count,
            },
            None => Resource::default(),
        });
        for (si, ss) in rs.scope_spans.into_iter().enumerate() {
            let scope = Arc::new(match ss.scope {
                Some(s) => Scope {
                    name: s.name,
                    version: s.version,
                    attributes: attributes(s.attributes),
                },
                None => Scope::default(),
            });
            for (i, s) in ss.spans.into_iter().enumerate() {
                match span(s, &resource, &scope) {
                    Ok(s) => out.spans.push(s),
                    Err(e) => {
                        if out.invalid == 0 {
                            out.message = format!(
                                "resourceSpans[{ri}].scopeSpans[{si}].spans[{i}].{e} (span dropped)"
                            );
                        }
                        out.invalid += 1;
                    }
                }
            }
        }
    }
    if out.invalid > 1 {
        out.message = format!(
            "{} invalid spans dropped; the first: {}",
            out.invalid, out.message
        );
    }
    out
}

/// The success body, with `partial_success` when spans were refused.
pub fn encode_response(format: Format, rejected: u64, message: &str) -> Vec<u8> {
    let partial = (rejected > 0 || !message.is_empty()).then(|| ExportTracePartialSuccess {
        rejected_spans: rejected as i64,
        error_message: message.to_owned(),
    });
    match format {
        Format::Protobuf => ExportTraceServiceResponse {
            partial_success: partial,
        }
        .encode_to_vec(),
        Format::Json => match partial {
            None => b"{}".to_vec(),
            // int64 is a string in protobuf's JSON mapping.
            Some(p) => serde_json::json!({"partialSuccess": {
                "rejectedSpans": p.rejected_spans.to_string(),
                "errorMessage": p.error_message,
            }})
            .to_string()
            .into_bytes(),
        },
    }
}

#[cfg(test)]
#[path = "traces_tests.rs"]
mod tests;
