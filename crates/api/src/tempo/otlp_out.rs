//! A trace's spans back out as OTLP, as Tempo returns a trace by id: the
//! protobuf `Trace { repeated ResourceSpans = 1 }` (what Grafana's Tempo
//! data source asks for with `Accept: application/protobuf`), wrapped in
//! `TraceByIDResponse { Trace trace = 1 }` for `/api/v2/`; and the JSON
//! Tempo prints (its `jsonpb` rendering of the same message: ids in base64,
//! enums by name, 64-bit numbers as strings, empty fields left out).

use base64::Engine;
use opentelemetry_proto::tonic::common::v1 as pc;
use opentelemetry_proto::tonic::resource::v1::Resource as PResource;
use opentelemetry_proto::tonic::trace::v1 as pt;
use prost::Message;
use serde_json::{json, Map, Value};
use sightline_core::traces::{AnyValue, Attributes, Resource, Scope, Span};
use std::sync::Arc;

/// The spans of one instrumentation scope.
type ScopeGroup<'a> = (Arc<Scope>, Vec<&'a Span>);

/// The spans grouped by resource, then scope (each group in first-seen
/// order; spans by start time).
fn groups(spans: &[Span]) -> Vec<(Arc<Resource>, Vec<ScopeGroup<'_>>)> {
    let mut order: Vec<&Span> = spans.iter().collect();
    order.sort_by_key(|s| (s.start_ns, s.span_id));
    let mut out: Vec<(Arc<Resource>, Vec<ScopeGroup<'_>>)> = Vec::new();
    for s in order {
        let ri = match out
            .iter()
            .position(|(r, _)| Arc::ptr_eq(r, &s.resource) || **r == *s.resource)
        {
            Some(i) => i,
            None => {
                out.push((s.resource.clone(), Vec::new()));
                out.len() - 1
            }
        };
        let scopes = &mut out[ri].1;
        match scopes
            .iter()
            .position(|(sc, _)| Arc::ptr_eq(sc, &s.scope) || **sc == *s.scope)
        {
            Some(i) => scopes[i].1.push(s),
            None => scopes.push((s.scope.clone(), vec![s])),
        }
    }
    out
}

fn pvalue(v: &AnyValue) -> pc::AnyValue {
    use pc::any_value::Value as V;
    let value = match v {
        AnyValue::Str(s) => V::StringValue(s.clone()),
        AnyValue::Int(i) => V::IntValue(*i),
        AnyValue::Float(f) => V::DoubleValue(*f),
        AnyValue::Bool(b) => V::BoolValue(*b),
        AnyValue::Bytes(b) => V::BytesValue(b.clone()),
        AnyValue::Array(a) => V::ArrayValue(pc::ArrayValue {
            values: a.iter().map(pvalue).collect(),
        }),
        AnyValue::Map(m) => V::KvlistValue(pc::KeyValueList { values: pattrs(m) }),
    };
    pc::AnyValue { value: Some(value) }
}

fn pattrs(a: &Attributes) -> Vec<pc::KeyValue> {
    a.iter()
        .map(|(k, v)| pc::KeyValue {
            key: k.clone(),
            value: Some(pvalue(v)),
        })
        .collect()
}

fn pspan(s: &Span) -> pt::Span {
    pt::Span {
        trace_id: s.trace_id.0.to_vec(),
        span_id: s.span_id.0.to_vec(),
        trace_state: s.trace_state.clone(),
        parent_span_id: s.parent_span_id.map(|p| p.0.to_vec()).unwrap_or_default(),
        flags: 0,
        name: s.name.clone(),
        kind: s.kind as i32,
        start_time_unix_nano: s.start_ns.max(0) as u64,
        end_time_unix_nano: s.end_ns.max(0) as u64,
        attributes: pattrs(&s.attributes),
        dropped_attributes_count: s.dropped_attributes_count,
        events: s
            .events
            .iter()
            .map(|e| pt::span::Event {
                time_unix_nano: e.time_ns.max(0) as u64,
                name: e.name.clone(),
                attributes: pattrs(&e.attributes),
                dropped_attributes_count: e.dropped_attributes_count,
            })
            .collect(),
        dropped_events_count: s.dropped_events_count,
        links: s
            .links
            .iter()
            .map(|l| pt::span::Link {
                trace_id: l.trace_id.0.to_vec(),
                span_id: l.span_id.0.to_vec(),
                trace_state: l.trace_state.clone(),
                attributes: pattrs(&l.attributes),
                dropped_attributes_count: l.dropped_attributes_count,
                flags: 0,
            })
            .collect(),
        dropped_links_count: s.dropped_links_count,
        status: Some(pt::Status {
            message: s.status_message.clone(),
            code: s.status_code as i32,
        }),
    }
}

/// The spans as OTLP `ResourceSpans`.
pub fn resource_spans(spans: &[Span]) -> Vec<pt::ResourceSpans> {
    groups(spans)
        .into_iter()
        .map(|(r, scopes)| pt::ResourceSpans {
            resource: Some(PResource {
                attributes: pattrs(&r.attributes),
                dropped_attributes_count: r.dropped_attributes_count,
                entity_refs: Vec::new(),
            }),
            scope_spans: scopes
                .into_iter()
                .map(|(sc, spans)| pt::ScopeSpans {
                    scope: Some(pc::InstrumentationScope {
                        name: sc.name.clone(),
                        version: sc.version.clone(),
                        attributes: pattrs(&sc.attributes),
                        dropped_attributes_count: 0,
                    }),
                    spans: spans.into_iter().map(pspan).collect(),
                    schema_url: String::new(),
                })
                .collect(),
            schema_url: String::new(),
        })
        .collect()
}

/// Tempo's `Trace` message in protobuf (field 1: the resource spans;
/// wire-identical to OTLP's `TracesData`).
pub fn trace_proto(spans: &[Span]) -> Vec<u8> {
    pt::TracesData {
        resource_spans: resource_spans(spans),
    }
    .encode_to_vec()
}

/// Tempo's `TraceByIDResponse { Trace trace = 1; }` in protobuf.
pub fn trace_by_id_response_proto(spans: &[Span]) -> Vec<u8> {
    let inner = trace_proto(spans);
    let mut out = Vec::with_capacity(inner.len() + 6);
    prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, &mut out);
    prost::encoding::encode_varint(inner.len() as u64, &mut out);
    out.extend_from_slice(&inner);
    out
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// An attribute value in OTLP's JSON as jsonpb writes it.
fn json_value(v: &AnyValue) -> Value {
    match v {
        AnyValue::Str(s) => json!({"stringValue": s}),
        AnyValue::Int(i) => json!({"intValue": i.to_string()}),
        AnyValue::Float(f) if f.is_finite() => json!({"doubleValue": f}),
        AnyValue::Float(f) => {
            json!({"doubleValue": if f.is_nan() { "NaN" } else if *f > 0.0 { "Infinity" } else { "-Infinity" }})
        }
        AnyValue::Bool(b) => json!({"boolValue": b}),
        AnyValue::Bytes(b) => json!({"bytesValue": b64(b)}),
        AnyValue::Array(a) => {
            json!({"arrayValue": {"values": a.iter().map(json_value).collect::<Vec<_>>()}})
        }
        AnyValue::Map(m) => json!({"kvlistValue": {"values": json_attrs(m)}}),
    }
}

pub fn json_attrs(a: &Attributes) -> Vec<Value> {
    a.iter()
        .map(|(k, v)| json!({"key": k, "value": json_value(v)}))
        .collect()
}

fn put(o: &mut Map<String, Value>, k: &str, v: Value) {
    let empty = match &v {
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Number(n) => n.as_u64() == Some(0),
        Value::Null => true,
        _ => false,
    };
    if !empty {
        o.insert(k.to_owned(), v);
    }
}

fn json_span(s: &Span) -> Value {
    let mut o = Map::new();
    put(&mut o, "traceId", json!(b64(&s.trace_id.0)));
    put(&mut o, "spanId", json!(b64(&s.span_id.0)));
    put(&mut o, "traceState", json!(s.trace_state));
    if let Some(p) = s.parent_span_id {
        put(&mut o, "parentSpanId", json!(b64(&p.0)));
    }
    put(&mut o, "name", json!(s.name));
    if s.kind as i32 != 0 {
        put(&mut o, "kind", json!(s.kind.otlp_name()));
    }
    put(&mut o, "startTimeUnixNano", json!(s.start_ns.to_string()));
    put(&mut o, "endTimeUnixNano", json!(s.end_ns.to_string()));
    put(&mut o, "attributes", json!(json_attrs(&s.attributes)));
    put(
        &mut o,
        "droppedAttributesCount",
        json!(s.dropped_attributes_count),
    );
    let events: Vec<Value> = s
        .events
        .iter()
        .map(|e| {
            let mut m = Map::new();
            put(&mut m, "timeUnixNano", json!(e.time_ns.to_string()));
            put(&mut m, "name", json!(e.name));
            put(&mut m, "attributes", json!(json_attrs(&e.attributes)));
            put(
                &mut m,
                "droppedAttributesCount",
                json!(e.dropped_attributes_count),
            );
            Value::Object(m)
        })
        .collect();
    put(&mut o, "events", json!(events));
    put(&mut o, "droppedEventsCount", json!(s.dropped_events_count));
    let links: Vec<Value> = s
        .links
        .iter()
        .map(|l| {
            let mut m = Map::new();
            put(&mut m, "traceId", json!(b64(&l.trace_id.0)));
            put(&mut m, "spanId", json!(b64(&l.span_id.0)));
            put(&mut m, "traceState", json!(l.trace_state));
            put(&mut m, "attributes", json!(json_attrs(&l.attributes)));
            put(
                &mut m,
                "droppedAttributesCount",
                json!(l.dropped_attributes_count),
            );
            Value::Object(m)
        })
        .collect();
    put(&mut o, "links", json!(links));
    put(&mut o, "droppedLinksCount", json!(s.dropped_links_count));
    let mut status = Map::new();
    put(&mut status, "message", json!(s.status_message));
    if s.status_code as i32 != 0 {
        put(&mut status, "code", json!(s.status_code.otlp_name()));
    }
    o.insert("status".into(), Value::Object(status));
    Value::Object(o)
}

/// The resource spans in Tempo's JSON.
pub fn resource_spans_json(spans: &[Span]) -> Vec<Value> {
    groups(spans)
        .into_iter()
        .map(|(r, scopes)| {
            let mut res = Map::new();
            put(&mut res, "attributes", json!(json_attrs(&r.attributes)));
            put(
                &mut res,
                "droppedAttributesCount",
                json!(r.dropped_attributes_count),
            );
            let scopes: Vec<Value> = scopes
                .into_iter()
                .map(|(sc, spans)| {
                    let mut scope = Map::new();
                    put(&mut scope, "name", json!(sc.name));
                    put(&mut scope, "version", json!(sc.version));
                    put(&mut scope, "attributes", json!(json_attrs(&sc.attributes)));
                    json!({
                        "scope": Value::Object(scope),
                        "spans": spans.into_iter().map(json_span).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({"resource": Value::Object(res), "scopeSpans": scopes})
        })
        .collect()
}
