//! OTLP/JSON traces (`ExportTraceServiceRequest`) to the protobuf types,
//! with the JSON rules and helpers of [`super::json`]: hex trace and span
//! ids, 64-bit integers as strings or numbers, lowerCamelCase or protobuf
//! names, errors that name their path. Enums (`kind`, `status.code`) come
//! as numbers, as the OTLP specification asks, or by their protobuf names
//! (`SPAN_KIND_SERVER`), which protobuf JSON parsers accept.

use super::json::{
    field, hex_bytes, int, join, key_values, list, object, resource, scope, string, R,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link, SpanKind};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use serde_json::Value;

/// Parses an OTLP/JSON `ExportTraceServiceRequest`.
pub fn parse_request(body: &[u8]) -> R<ExportTraceServiceRequest> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let o = object(&v, "request")?;
    Ok(ExportTraceServiceRequest {
        resource_spans: list(o, "resourceSpans", "resource_spans", "", resource_spans)?,
    })
}

fn resource_spans(v: &Value, path: &str) -> R<ResourceSpans> {
    let o = object(v, path)?;
    Ok(ResourceSpans {
        resource: resource(o, path)?,
        scope_spans: list(o, "scopeSpans", "scope_spans", path, scope_spans)?,
        schema_url: string(o, "schemaUrl", "schema_url", path)?,
    })
}

fn scope_spans(v: &Value, path: &str) -> R<ScopeSpans> {
    let o = object(v, path)?;
    Ok(ScopeSpans {
        scope: scope(o, path)?,
        spans: list(o, "spans", "spans", path, span)?,
        schema_url: string(o, "schemaUrl", "schema_url", path)?,
    })
}

/// An enum field given as a number or by name.
fn enumeration(
    o: &super::json::Obj,
    camel: &str,
    snake: &str,
    prefix: &str,
    by_name: impl Fn(&str) -> Option<i32>,
) -> R<i32> {
    match field(o, camel, snake) {
        Some(Value::String(s)) if s.parse::<i32>().is_err() => {
            by_name(s).ok_or_else(|| format!("{}: unknown enum value {s:?}", join(prefix, camel)))
        }
        _ => int(o, camel, snake, prefix),
    }
}

fn span(v: &Value, path: &str) -> R<Span> {
    let o = object(v, path)?;
    let status = match field(o, "status", "status") {
        None => None,
        Some(s) => {
            let p = join(path, "status");
            let so = object(s, &p)?;
            Some(Status {
                message: string(so, "message", "message", &p)?,
                code: enumeration(so, "code", "code", &p, |n| {
                    StatusCode::from_str_name(n).map(|c| c as i32)
                })?,
            })
        }
    };
    Ok(Span {
        trace_id: hex_bytes(o, "traceId", "trace_id", path)?,
        span_id: hex_bytes(o, "spanId", "span_id", path)?,
        trace_state: string(o, "traceState", "trace_state", path)?,
        parent_span_id: hex_bytes(o, "parentSpanId", "parent_span_id", path)?,
        flags: int(o, "flags", "flags", path)?,
        name: string(o, "name", "name", path)?,
        kind: enumeration(o, "kind", "kind", path, |n| {
            SpanKind::from_str_name(n).map(|k| k as i32)
        })?,
        start_time_unix_nano: int(o, "startTimeUnixNano", "start_time_unix_nano", path)?,
        end_time_unix_nano: int(o, "endTimeUnixNano", "end_time_unix_nano", path)?,
        attributes: key_values(o, "attributes", path)?,
        dropped_attributes_count: int(
            o,
            "droppedAttributesCount",
            "dropped_attributes_count",
            path,
        )?,
        events: list(o, "events", "events", path, event)?,
        dropped_events_count: int(o, "droppedEventsCount", "dropped_events_count", path)?,
        links: list(o, "links", "links", path, link)?,
        dropped_links_count: int(o, "droppedLinksCount", "dropped_links_count", path)?,
        status,
    })
}

fn event(v: &Value, path: &str) -> R<Event> {
    let o = object(v, path)?;
    Ok(Event {
        time_unix_nano: int(o, "timeUnixNano", "time_unix_nano", path)?,
        name: string(o, "name", "name", path)?,
        attributes: key_values(o, "attributes", path)?,
        dropped_attributes_count: int(
            o,
            "droppedAttributesCount",
            "dropped_attributes_count",
            path,
        )?,
    })
}

fn link(v: &Value, path: &str) -> R<Link> {
    let o = object(v, path)?;
    Ok(Link {
        trace_id: hex_bytes(o, "traceId", "trace_id", path)?,
        span_id: hex_bytes(o, "spanId", "span_id", path)?,
        trace_state: string(o, "traceState", "trace_state", path)?,
        attributes: key_values(o, "attributes", path)?,
        dropped_attributes_count: int(
            o,
            "droppedAttributesCount",
            "dropped_attributes_count",
            path,
        )?,
        flags: int(o, "flags", "flags", path)?,
    })
}
