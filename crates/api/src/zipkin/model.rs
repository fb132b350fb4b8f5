//! Spans in Zipkin's v2 JSON model, mapped from OpenTelemetry's as the
//! OpenTelemetry Zipkin exporters map them: the resource's `service.name`
//! is the local endpoint, `peer.service` and the peer address attributes
//! the remote one; kind `SERVER`/`CLIENT`/`PRODUCER`/`CONSUMER` (none for
//! internal); events become annotations; attributes, resource attributes
//! and status become string tags (`otel.status_code`, `error`). Names are
//! lowercased, as Zipkin's server lowercases span and service names.

use serde_json::{json, Map, Value};
use sightline_core::traces::{attr, AnyValue, Span, SpanKind, StatusCode};

use crate::trace_common::short_trace_id;

/// Zipkin's kind name, when the kind has one.
pub fn kind_name(k: SpanKind) -> Option<&'static str> {
    match k {
        SpanKind::Server => Some("SERVER"),
        SpanKind::Client => Some("CLIENT"),
        SpanKind::Producer => Some("PRODUCER"),
        SpanKind::Consumer => Some("CONSUMER"),
        SpanKind::Internal | SpanKind::Unspecified => None,
    }
}

/// The local service name, lowercased.
pub fn service(s: &Span) -> String {
    s.service_name().to_lowercase()
}

/// The remote service (`peer.service`), lowercased.
pub fn remote_service(s: &Span) -> Option<String> {
    attr(&s.attributes, "peer.service")
        .and_then(AnyValue::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_lowercase)
}

fn remote_endpoint(s: &Span) -> Option<Value> {
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| attr(&s.attributes, k).map(AnyValue::to_text))
    };
    let mut ep = Map::new();
    if let Some(name) = remote_service(s) {
        ep.insert("serviceName".into(), json!(name));
    }
    if let Some(ip) = text(&["net.sock.peer.addr", "net.peer.ip", "network.peer.address"]) {
        match ip.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(_)) => {
                ep.insert("ipv4".into(), json!(ip));
            }
            Ok(std::net::IpAddr::V6(_)) => {
                ep.insert("ipv6".into(), json!(ip));
            }
            Err(_) => {}
        }
    }
    if let Some(port) = text(&["net.peer.port", "server.port", "network.peer.port"])
        .and_then(|p| p.parse::<u16>().ok())
    {
        ep.insert("port".into(), json!(port));
    }
    (!ep.is_empty()).then_some(Value::Object(ep))
}

/// The text of an event as an annotation: its name, or with attributes
/// `{"<name>":{<attributes>}}` as the OpenTelemetry Zipkin exporters write.
fn annotation_value(name: &str, attrs: &sightline_core::traces::Attributes) -> String {
    if attrs.is_empty() {
        return name.to_owned();
    }
    AnyValue::Map(vec![(name.to_owned(), AnyValue::Map(attrs.clone()))]).to_text()
}

/// One span in Zipkin's v2 JSON.
pub fn span_json(s: &Span) -> Value {
    let mut o = Map::new();
    o.insert("traceId".into(), json!(short_trace_id(&s.trace_id)));
    if let Some(p) = s.parent_span_id {
        o.insert("parentId".into(), json!(p.to_string()));
    }
    o.insert("id".into(), json!(s.span_id.to_string()));
    if let Some(k) = kind_name(s.kind) {
        o.insert("kind".into(), json!(k));
    }
    if !s.name.is_empty() {
        o.insert("name".into(), json!(s.name.to_lowercase()));
    }
    o.insert("timestamp".into(), json!(s.start_ns / 1000));
    let dur = s.duration_ns() / 1000;
    if dur > 0 {
        o.insert("duration".into(), json!(dur));
    }
    let svc = service(s);
    if !svc.is_empty() {
        o.insert("localEndpoint".into(), json!({"serviceName": svc}));
    }
    if let Some(ep) = remote_endpoint(s) {
        o.insert("remoteEndpoint".into(), ep);
    }
    if !s.events.is_empty() {
        let anns: Vec<Value> = s
            .events
            .iter()
            .map(|e| json!({"timestamp": e.time_ns / 1000, "value": annotation_value(&e.name, &e.attributes)}))
            .collect();
        o.insert("annotations".into(), json!(anns));
    }
    let mut tags = Map::new();
    for (k, v) in s
        .resource
        .attributes
        .iter()
        .filter(|(k, _)| k != "service.name")
    {
        tags.insert(k.clone(), json!(v.to_text()));
    }
    for (k, v) in &s.attributes {
        tags.insert(k.clone(), json!(v.to_text()));
    }
    if !s.scope.name.is_empty() {
        tags.insert("otel.scope.name".into(), json!(s.scope.name));
        if !s.scope.version.is_empty() {
            tags.insert("otel.scope.version".into(), json!(s.scope.version));
        }
    }
    match s.status_code {
        StatusCode::Unset => {}
        StatusCode::Ok => {
            tags.insert("otel.status_code".into(), json!("OK"));
        }
        StatusCode::Error => {
            tags.insert("otel.status_code".into(), json!("ERROR"));
            tags.insert("error".into(), json!(s.status_message));
        }
    }
    if !tags.is_empty() {
        o.insert("tags".into(), Value::Object(tags));
    }
    Value::Object(o)
}

/// A trace as Zipkin returns it: its spans by start time.
pub fn trace_json(spans: &[Span]) -> Value {
    let mut order: Vec<&Span> = spans.iter().collect();
    order.sort_by_key(|s| (s.start_ns, s.span_id));
    Value::Array(order.into_iter().map(span_json).collect())
}

/// The tags of a span as Zipkin's query compares them.
pub fn tags(s: &Span) -> Map<String, Value> {
    match span_json(s).get_mut("tags").map(Value::take) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The annotation values of a span.
pub fn annotations(s: &Span) -> Vec<String> {
    s.events
        .iter()
        .map(|e| annotation_value(&e.name, &e.attributes))
        .collect()
}
