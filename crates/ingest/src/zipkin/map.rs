//! Zipkin v2 spans onto the OpenTelemetry model, as the OpenTelemetry
//! Collector's zipkin receiver maps them:
//!
//! - `localEndpoint.serviceName` is the resource's `service.name`
//!   (`unknown_service` when absent); spans of one service in a batch
//!   share one resource.
//! - `kind` CLIENT/SERVER/PRODUCER/CONSUMER is the span kind; without one,
//!   a `span.kind` tag of `internal` makes it INTERNAL, else UNSPECIFIED.
//! - `timestamp` and `duration` (µs) give the start and end.
//! - The local endpoint's address and port are `net.host.ip`/
//!   `net.host.port`; the remote endpoint's are `net.peer.ip`/
//!   `net.peer.port`, and its service `peer.service`.
//! - Tags are string attributes, except: `otel.status_code` and
//!   `otel.status_description` (the status), `error` (status ERROR, its
//!   value the message when not `true`), `otel.scope.name`/`version` and
//!   the older `otel.library.name`/`version` (the instrumentation scope).
//! - Annotations are events at their time, named by their value. A value
//!   that is a JSON object with one key holding an object (how the
//!   OpenTelemetry SDKs' Zipkin exporters write an event with attributes:
//!   `{"name":{"k":"v"}}`) becomes that event with its attributes.

use super::{Endpoint, ZipkinKind, ZipkinSpan};
use sightline_core::traces::{
    AnyValue, Attributes, Resource, Scope, Span, SpanEvent, SpanKind, StatusCode,
};
use std::collections::HashMap;
use std::sync::Arc;

/// The tags Zipkin and Jaeger carry that are fields of an OTLP span, taken
/// out of the attributes.
#[derive(Debug, Default, PartialEq)]
pub struct SpecialTags {
    pub status_code: StatusCode,
    pub status_message: String,
    pub scope_name: String,
    pub scope_version: String,
    /// The `span.kind` tag, lowercase.
    pub kind: Option<String>,
    /// `w3c.tracestate` (Jaeger).
    pub trace_state: String,
}

/// Takes the status, scope, kind and trace-state tags out of `attrs`.
/// `error_value_is_message`: Zipkin's `error` tag holds the error text;
/// Jaeger's is a boolean.
pub fn take_special_tags(attrs: &mut Attributes, error_value_is_message: bool) -> SpecialTags {
    let mut t = SpecialTags::default();
    let mut otel_status = None;
    let mut error = None;
    attrs.retain(|(k, v)| {
        let text = || v.to_text();
        match k.as_str() {
            "otel.status_code" => otel_status = Some(text().to_ascii_uppercase()),
            "otel.status_description" => t.status_message = text(),
            "error" => error = Some(v.clone()),
            "otel.scope.name" | "otel.library.name" => t.scope_name = text(),
            "otel.scope.version" | "otel.library.version" => t.scope_version = text(),
            "span.kind" => t.kind = Some(text().to_ascii_lowercase()),
            "w3c.tracestate" => t.trace_state = text(),
            _ => return true,
        }
        false
    });
    match otel_status.as_deref() {
        Some("ERROR") => t.status_code = StatusCode::Error,
        Some("OK") => t.status_code = StatusCode::Ok,
        _ => {}
    }
    if let Some(e) = error {
        let is_false = matches!(&e, AnyValue::Bool(false))
            || e.as_str().is_some_and(|s| s.eq_ignore_ascii_case("false"));
        if !is_false {
            t.status_code = StatusCode::Error;
            let text = e.to_text();
            if error_value_is_message
                && t.status_message.is_empty()
                && !text.is_empty()
                && !text.eq_ignore_ascii_case("true")
            {
                t.status_message = text;
            }
        }
    }
    t
}

fn endpoint_attrs(e: &Endpoint, ip: &str, port: &str, out: &mut Attributes) {
    if !e.ipv4.is_empty() {
        out.push((ip.into(), AnyValue::Str(e.ipv4.clone())));
    } else if !e.ipv6.is_empty() {
        out.push((ip.into(), AnyValue::Str(e.ipv6.clone())));
    }
    if e.port != 0 {
        out.push((port.into(), AnyValue::Int(i64::from(e.port))));
    }
}

/// An event from an annotation value (see the module docs).
fn event(time_us: u64, value: String) -> SpanEvent {
    let time_ns = (time_us as i64).saturating_mul(1000);
    if value.starts_with('{') {
        if let Ok(serde_json::Value::Object(o)) = serde_json::from_str(&value) {
            if o.len() == 1 {
                let (name, v) = o.into_iter().next().expect("one key");
                if let serde_json::Value::Object(a) = v {
                    return SpanEvent {
                        time_ns,
                        name,
                        attributes: a.into_iter().map(|(k, v)| (k, json_value(v))).collect(),
                        dropped_attributes_count: 0,
                    };
                }
            }
        }
    }
    SpanEvent {
        time_ns,
        name: value,
        ..SpanEvent::default()
    }
}

fn json_value(v: serde_json::Value) -> AnyValue {
    use serde_json::Value;
    match v {
        Value::String(s) => AnyValue::Str(s),
        Value::Bool(b) => AnyValue::Bool(b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => AnyValue::Int(i),
            None => AnyValue::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::Array(a) => AnyValue::Array(a.into_iter().map(json_value).collect()),
        Value::Object(o) => AnyValue::Map(o.into_iter().map(|(k, v)| (k, json_value(v))).collect()),
        Value::Null => AnyValue::Str(String::new()),
    }
}

/// Interns resources and scopes so the spans of one batch share them.
#[derive(Default)]
pub struct Interner {
    resources: HashMap<String, Arc<Resource>>,
    scopes: HashMap<(String, String), Arc<Scope>>,
}

impl Interner {
    pub fn service(&mut self, name: &str) -> Arc<Resource> {
        let name = if name.is_empty() {
            "unknown_service"
        } else {
            name
        };
        self.resources
            .entry(name.to_owned())
            .or_insert_with(|| {
                Arc::new(Resource {
                    attributes: vec![("service.name".into(), AnyValue::Str(name.to_owned()))],
                    dropped_attributes_count: 0,
                })
            })
            .clone()
    }

    pub fn scope(&mut self, name: String, version: String) -> Arc<Scope> {
        self.scopes
            .entry((name, version))
            .or_insert_with_key(|(n, v)| {
                Arc::new(Scope {
                    name: n.clone(),
                    version: v.clone(),
                    attributes: Vec::new(),
                })
            })
            .clone()
    }
}

/// A span kind from Zipkin's, or from a `span.kind` tag.
pub fn kind(k: Option<ZipkinKind>, tag: Option<&str>) -> SpanKind {
    match k {
        Some(ZipkinKind::Client) => SpanKind::Client,
        Some(ZipkinKind::Server) => SpanKind::Server,
        Some(ZipkinKind::Producer) => SpanKind::Producer,
        Some(ZipkinKind::Consumer) => SpanKind::Consumer,
        None => match tag {
            Some("internal") => SpanKind::Internal,
            _ => SpanKind::Unspecified,
        },
    }
}

/// Maps a batch.
pub fn to_spans(spans: Vec<ZipkinSpan>) -> Vec<Span> {
    let mut interner = Interner::default();
    spans
        .into_iter()
        .map(|z| {
            let mut attributes: Attributes = z
                .tags
                .into_iter()
                .map(|(k, v)| (k, AnyValue::Str(v)))
                .collect();
            let special = take_special_tags(&mut attributes, true);
            let service = z
                .local_endpoint
                .as_ref()
                .map_or("", |e| e.service_name.as_str());
            let resource = interner.service(service);
            if let Some(e) = &z.local_endpoint {
                endpoint_attrs(e, "net.host.ip", "net.host.port", &mut attributes);
            }
            if let Some(e) = &z.remote_endpoint {
                if !e.service_name.is_empty() {
                    attributes.push(("peer.service".into(), AnyValue::Str(e.service_name.clone())));
                }
                endpoint_attrs(e, "net.peer.ip", "net.peer.port", &mut attributes);
            }
            let start_ns = (z.timestamp_us as i64).saturating_mul(1000);
            Span {
                trace_id: z.trace_id,
                span_id: z.id,
                parent_span_id: z.parent_id,
                trace_state: special.trace_state,
                name: z.name,
                kind: kind(z.kind, special.kind.as_deref()),
                start_ns,
                end_ns: start_ns.saturating_add((z.duration_us as i64).saturating_mul(1000)),
                attributes,
                events: z
                    .annotations
                    .into_iter()
                    .map(|(t, v)| event(t, v))
                    .collect(),
                status_code: special.status_code,
                status_message: special.status_message,
                resource,
                scope: interner.scope(special.scope_name, special.scope_version),
                ..Span::default()
            }
        })
        .collect()
}
