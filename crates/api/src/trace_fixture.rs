//! A hand-built trace for the read APIs' tests: three services, an error,
//! an event, a link, a late span; every value chosen so the expected
//! answers can be written by hand.

use sightline_core::traces::{
    AnyValue, MemTraceStore, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, SpanLink,
    StatusCode, TraceAppender, TraceId,
};
use std::sync::Arc;

/// 2026-01-01T00:00:00Z in nanoseconds.
pub const T0: i64 = 1_767_225_600_000_000_000;
pub const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

fn res(service: &str, extra: &[(&str, AnyValue)]) -> Arc<Resource> {
    let mut attributes = vec![("service.name".to_string(), AnyValue::Str(service.into()))];
    attributes.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    Arc::new(Resource {
        attributes,
        dropped_attributes_count: 0,
    })
}

fn s(id: u64, parent: Option<u64>, name: &str, kind: SpanKind, start_ms: i64, dur_ms: i64) -> Span {
    Span {
        trace_id: TraceId::parse_hex(TRACE).unwrap(),
        span_id: SpanId::from_u64(id),
        parent_span_id: parent.map(SpanId::from_u64),
        name: name.into(),
        kind,
        start_ns: T0 + start_ms * 1_000_000,
        end_ns: T0 + (start_ms + dur_ms) * 1_000_000,
        ..Default::default()
    }
}

/// The trace: `frontend` GET /checkout (server, 100 ms) -> `frontend`
/// POST /api/orders (client) -> `api` POST /api/orders (server, error,
/// with an exception event) -> `api` INSERT (client, peer.service db).
/// Returns (first batch, late span: `api` audit, internal, linked).
pub fn trace() -> (Vec<Span>, Span) {
    let fe = res("frontend", &[("host.name", AnyValue::Str("fe-1".into()))]);
    let api = res("api", &[("k8s.pod.uid", AnyValue::Int(7))]);
    let scope = Arc::new(Scope {
        name: "io.opentelemetry.flask".into(),
        version: "0.42".into(),
        attributes: vec![],
    });
    let mut root = s(1, None, "GET /checkout", SpanKind::Server, 0, 100);
    root.resource = fe.clone();
    root.scope = scope;
    root.attributes = vec![
        ("http.method".into(), AnyValue::Str("GET".into())),
        ("http.status_code".into(), AnyValue::Int(500)),
    ];
    let mut call = s(2, Some(1), "POST /api/orders", SpanKind::Client, 10, 80);
    call.resource = fe;
    let mut handler = s(3, Some(2), "POST /api/orders", SpanKind::Server, 15, 70);
    handler.resource = api.clone();
    handler.status_code = StatusCode::Error;
    handler.status_message = "order rejected".into();
    handler.attributes = vec![("ratio".into(), AnyValue::Float(0.25))];
    handler.events = vec![SpanEvent {
        time_ns: T0 + 50_000_000,
        name: "exception".into(),
        attributes: vec![(
            "exception.message".into(),
            AnyValue::Str("out of stock".into()),
        )],
        dropped_attributes_count: 0,
    }];
    let mut insert = s(4, Some(3), "INSERT", SpanKind::Client, 20, 30);
    insert.resource = api.clone();
    insert.attributes = vec![
        ("peer.service".into(), AnyValue::Str("db".into())),
        ("db.ok".into(), AnyValue::Bool(false)),
    ];
    let mut late = s(5, Some(3), "audit", SpanKind::Internal, 90, 5);
    late.resource = api;
    late.links = vec![SpanLink {
        trace_id: TraceId::from_halves(0, 0xabc),
        span_id: SpanId::from_u64(0xdef),
        ..Default::default()
    }];
    (vec![root, call, handler, insert], late)
}

/// A store holding the trace (the late span appended in a second batch)
/// and a second, one-span trace `...0002` of service `batch` at T0+1h.
pub fn store() -> Arc<MemTraceStore> {
    let st = Arc::new(MemTraceStore::new());
    let (first, late) = trace();
    st.append("fake", first).unwrap();
    st.append("fake", vec![late]).unwrap();
    let mut other = s(9, None, "nightly", SpanKind::Internal, 3_600_000, 1000);
    other.trace_id = TraceId::from_halves(0, 2);
    other.resource = res("batch", &[]);
    st.append("fake", vec![other]).unwrap();
    st
}
