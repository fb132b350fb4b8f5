//! Spans in Jaeger's JSON model (what `jaeger-query` answers and its UI
//! reads), mapped from OpenTelemetry's as the OpenTelemetry Collector's
//! Jaeger translator maps them: the resource becomes the process (its
//! `service.name` the `serviceName`, the rest its tags), kind, status and
//! scope become `span.kind`, `otel.status_code`, `error`,
//! `otel.status_description` and `otel.scope.*` tags, events become logs
//! (an `event` field with the name), the parent becomes a `CHILD_OF`
//! reference and links `FOLLOWS_FROM` ones.

use crate::trace_common::short_trace_id;
use base64::Engine;
use serde_json::{json, Map, Value};
use sightline_core::traces::{AnyValue, Resource, Span, SpanKind, StatusCode};
use std::sync::Arc;

/// A Jaeger tag (`{key, type, value}`).
fn tag(key: &str, v: &AnyValue) -> Value {
    let (ty, value) = match v {
        AnyValue::Str(s) => ("string", json!(s)),
        AnyValue::Bool(b) => ("bool", json!(b)),
        AnyValue::Int(i) => ("int64", json!(i)),
        AnyValue::Float(f) if f.is_finite() => ("float64", json!(f)),
        AnyValue::Float(f) => ("string", json!(f.to_string())),
        AnyValue::Bytes(b) => (
            "binary",
            json!(base64::engine::general_purpose::STANDARD.encode(b)),
        ),
        AnyValue::Array(_) | AnyValue::Map(_) => ("string", json!(v.to_text())),
    };
    json!({"key": key, "type": ty, "value": value})
}

fn str_tag(key: &str, v: &str) -> Value {
    json!({"key": key, "type": "string", "value": v})
}

/// The tags of a span: its attributes, then what the model has no field for.
fn span_tags(s: &Span) -> Vec<Value> {
    let mut tags: Vec<Value> = s.attributes.iter().map(|(k, v)| tag(k, v)).collect();
    if !s.scope.name.is_empty() {
        tags.push(str_tag("otel.scope.name", &s.scope.name));
        if !s.scope.version.is_empty() {
            tags.push(str_tag("otel.scope.version", &s.scope.version));
        }
    }
    if s.kind != SpanKind::Unspecified {
        tags.push(str_tag("span.kind", s.kind.name()));
    }
    match s.status_code {
        StatusCode::Unset => {}
        StatusCode::Ok => tags.push(str_tag("otel.status_code", "OK")),
        StatusCode::Error => {
            tags.push(str_tag("otel.status_code", "ERROR"));
            tags.push(json!({"key": "error", "type": "bool", "value": true}));
        }
    }
    if !s.status_message.is_empty() {
        tags.push(str_tag("otel.status_description", &s.status_message));
    }
    if !s.trace_state.is_empty() {
        tags.push(str_tag("w3c.tracestate", &s.trace_state));
    }
    tags
}

/// One trace in Jaeger's JSON: `{traceID, spans, processes, warnings}`,
/// spans ordered by start time.
pub fn trace_json(spans: &[Span]) -> Value {
    let mut order: Vec<&Span> = spans.iter().collect();
    order.sort_by_key(|s| (s.start_ns, s.span_id));
    // One process per distinct resource, numbered as Jaeger numbers them.
    let mut processes: Vec<Arc<Resource>> = Vec::new();
    let mut out_spans = Vec::with_capacity(order.len());
    for s in &order {
        let pid = match processes
            .iter()
            .position(|r| Arc::ptr_eq(r, &s.resource) || **r == *s.resource)
        {
            Some(i) => i,
            None => {
                processes.push(s.resource.clone());
                processes.len() - 1
            }
        };
        let mut refs = Vec::new();
        if let Some(p) = s.parent_span_id {
            refs.push(json!({
                "refType": "CHILD_OF",
                "traceID": short_trace_id(&s.trace_id),
                "spanID": p.to_string(),
            }));
        }
        for l in &s.links {
            refs.push(json!({
                "refType": "FOLLOWS_FROM",
                "traceID": short_trace_id(&l.trace_id),
                "spanID": l.span_id.to_string(),
            }));
        }
        let logs: Vec<Value> = s
            .events
            .iter()
            .map(|e| {
                let mut fields = vec![str_tag("event", &e.name)];
                fields.extend(e.attributes.iter().map(|(k, v)| tag(k, v)));
                json!({"timestamp": e.time_ns / 1000, "fields": fields})
            })
            .collect();
        out_spans.push(json!({
            "traceID": short_trace_id(&s.trace_id),
            "spanID": s.span_id.to_string(),
            "flags": 1,
            "operationName": s.name,
            "references": refs,
            "startTime": s.start_ns / 1000,
            "duration": s.duration_ns() / 1000,
            "tags": span_tags(s),
            "logs": logs,
            "processID": format!("p{}", pid + 1),
            "warnings": Value::Null,
        }));
    }
    let mut procs = Map::new();
    for (i, r) in processes.iter().enumerate() {
        let tags: Vec<Value> = r
            .attributes
            .iter()
            .filter(|(k, _)| k != "service.name")
            .map(|(k, v)| tag(k, v))
            .collect();
        procs.insert(
            format!("p{}", i + 1),
            json!({"serviceName": r.service_name().unwrap_or(""), "tags": tags}),
        );
    }
    json!({
        "traceID": order.first().map(|s| short_trace_id(&s.trace_id)).unwrap_or_default(),
        "spans": out_spans,
        "processes": procs,
        "warnings": Value::Null,
    })
}

/// The value of a tag as Jaeger's search compares it: its text.
pub fn tag_matches(s: &Span, key: &str, want: &str) -> bool {
    let text_eq = |v: &AnyValue| v.to_text() == want;
    let synthesized = match key {
        "span.kind" => Some(s.kind != SpanKind::Unspecified && s.kind.name() == want),
        "error" => Some(s.status_code == StatusCode::Error && want == "true"),
        "otel.status_code" => Some(match s.status_code {
            StatusCode::Unset => false,
            StatusCode::Ok => want == "OK",
            StatusCode::Error => want == "ERROR",
        }),
        "otel.status_description" => Some(s.status_message == want),
        _ => None,
    };
    if synthesized == Some(true) {
        return true;
    }
    s.attributes.iter().any(|(k, v)| k == key && text_eq(v))
        || s.resource
            .attributes
            .iter()
            .any(|(k, v)| k == key && text_eq(v))
        || s.events.iter().any(|e| {
            (key == "event" && e.name == want)
                || e.attributes.iter().any(|(k, v)| k == key && text_eq(v))
        })
}
