//! Jaeger Thrift to the core span model (issue 16). Bodies are written by
//! the small binary-protocol writer below, field ids and types from
//! `jaeger.thrift`; expected values follow the Collector's jaeger receiver
//! mapping (see [`super::map`]), by hand.

use super::thrift::*;
use super::*;
use sightline_core::traces::{AnyValue, SpanId, SpanKind, StatusCode, TraceId};

/// Thrift binary protocol, just enough to write a `Batch`.
#[derive(Default)]
pub struct W(pub Vec<u8>);

impl W {
    pub fn field(&mut self, t: u8, id: i16) -> &mut Self {
        self.0.push(t);
        self.0.extend_from_slice(&id.to_be_bytes());
        self
    }
    pub fn stop(&mut self) -> &mut Self {
        self.0.push(T_STOP);
        self
    }
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.i32(s.len() as i32);
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    pub fn list(&mut self, t: u8, n: i32) -> &mut Self {
        self.0.push(t);
        self.i32(n)
    }
    pub fn tag_str(&mut self, k: &str, v: &str) -> &mut Self {
        self.field(T_STRING, 1).str(k);
        self.field(T_I32, 2).i32(0);
        self.field(T_STRING, 3).str(v).stop()
    }
    pub fn tag_long(&mut self, k: &str, v: i64) -> &mut Self {
        self.field(T_STRING, 1).str(k);
        self.field(T_I32, 2).i32(3);
        self.field(T_I64, 6).i64(v).stop()
    }
    pub fn tag_bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.field(T_STRING, 1).str(k);
        self.field(T_I32, 2).i32(2);
        self.field(T_BOOL, 5);
        self.0.push(u8::from(v));
        self.stop()
    }
    pub fn tag_double(&mut self, k: &str, v: f64) -> &mut Self {
        self.field(T_STRING, 1).str(k);
        self.field(T_I32, 2).i32(1);
        self.field(T_DOUBLE, 4).i64(v.to_bits() as i64).stop()
    }
}

/// A batch of service `api` (tags `hostname`, `jaeger.version`) with a
/// root server span 1 and its child 2 (parent by reference only), which
/// has a log, an error tag and a FOLLOWS_FROM link to another trace.
pub fn batch() -> Vec<u8> {
    let mut w = W::default();
    w.field(T_STRUCT, 1);
    w.field(T_STRING, 1).str("api");
    w.field(T_LIST, 2).list(T_STRUCT, 2);
    w.tag_str("hostname", "h1")
        .tag_str("jaeger.version", "Python-4.8");
    w.stop();
    w.field(T_LIST, 2).list(T_STRUCT, 2);
    // span 1
    w.field(T_I64, 1).i64(0x1122);
    w.field(T_I64, 2).i64(0x7f);
    w.field(T_I64, 3).i64(1);
    w.field(T_I64, 4).i64(0);
    w.field(T_STRING, 5).str("GET /star");
    w.field(T_I32, 7).i32(1);
    w.field(T_I64, 8).i64(1_700_000_000_000_000);
    w.field(T_I64, 9).i64(1500);
    w.field(T_LIST, 10).list(T_STRUCT, 3);
    w.tag_str("span.kind", "server")
        .tag_long("http.status_code", 500)
        .tag_double("ratio", 0.5);
    w.field(T_BOOL, 12);
    w.0.push(0);
    w.stop();
    // span 2
    w.field(T_I64, 1).i64(0x1122);
    w.field(T_I64, 2).i64(0x7f);
    w.field(T_I64, 3).i64(2);
    w.field(T_I64, 4).i64(0);
    w.field(T_STRING, 5).str("query");
    w.field(T_LIST, 6).list(T_STRUCT, 2);
    w.field(T_I32, 1).i32(0);
    w.field(T_I64, 2).i64(0x1122);
    w.field(T_I64, 3).i64(0x7f);
    w.field(T_I64, 4).i64(1).stop();
    w.field(T_I32, 1).i32(1);
    w.field(T_I64, 2).i64(9);
    w.field(T_I64, 3).i64(0);
    w.field(T_I64, 4).i64(7).stop();
    w.field(T_I64, 8).i64(1_700_000_000_000_100);
    w.field(T_I64, 9).i64(200);
    w.field(T_LIST, 10).list(T_STRUCT, 3);
    w.tag_str("span.kind", "client")
        .tag_bool("error", true)
        .tag_str("otel.scope.name", "sqlalchemy");
    w.field(T_LIST, 11).list(T_STRUCT, 1);
    w.field(T_I64, 1).i64(1_700_000_000_000_150);
    w.field(T_LIST, 2).list(T_STRUCT, 2);
    w.tag_str("event", "retry").tag_long("attempt", 2);
    w.stop();
    w.stop();
    // an unknown field, skipped
    w.field(T_MAP, 99);
    w.0.extend_from_slice(&[T_STRING, T_I32]);
    w.i32(1).str("k").i32(5);
    w.field(T_I64, 3).i64(42);
    w.stop();
    w.0
}

#[test]
fn a_batch_maps_as_the_collector_maps_it() {
    let spans = decode(&batch(), None).unwrap();
    assert_eq!(spans.len(), 2);
    let (a, b) = (&spans[0], &spans[1]);
    let tid = TraceId::from_halves(0x7f, 0x1122);
    assert_eq!(a.trace_id, tid);
    assert_eq!(a.trace_id.to_string(), "000000000000007f0000000000001122");
    assert_eq!(a.span_id, SpanId::from_u64(1));
    assert!(a.is_root());
    assert_eq!(a.name, "GET /star");
    assert_eq!(a.kind, SpanKind::Server);
    assert_eq!(a.start_ns, 1_700_000_000_000_000_000);
    assert_eq!(a.duration_ns(), 1_500_000);
    assert_eq!(
        a.attributes,
        vec![
            ("http.status_code".to_string(), AnyValue::Int(500)),
            ("ratio".to_string(), AnyValue::Float(0.5)),
        ]
    );
    assert_eq!(a.status_code, StatusCode::Unset);
    assert_eq!(
        a.resource.attributes,
        vec![
            ("service.name".to_string(), AnyValue::Str("api".into())),
            ("hostname".to_string(), AnyValue::Str("h1".into())),
            (
                "jaeger.version".to_string(),
                AnyValue::Str("Python-4.8".into())
            ),
        ]
    );
    assert!(std::sync::Arc::ptr_eq(&a.resource, &b.resource));
    // The CHILD_OF reference is the parent, the other a link.
    assert_eq!(b.parent_span_id, Some(SpanId::from_u64(1)));
    assert_eq!(b.links.len(), 1);
    assert_eq!(b.links[0].trace_id, TraceId::from_halves(0, 9));
    assert_eq!(b.links[0].span_id, SpanId::from_u64(7));
    assert_eq!(
        b.links[0].attributes,
        vec![(
            "opentracing.ref_type".to_string(),
            AnyValue::Str("follows_from".into())
        )]
    );
    assert_eq!(b.kind, SpanKind::Client);
    assert_eq!(b.status_code, StatusCode::Error);
    assert!(b.attributes.is_empty(), "{:?}", b.attributes);
    assert_eq!(b.scope.name, "sqlalchemy");
    assert_eq!(b.events.len(), 1);
    assert_eq!(b.events[0].name, "retry");
    assert_eq!(b.events[0].time_ns, 1_700_000_000_000_150_000);
    assert_eq!(
        b.events[0].attributes,
        vec![("attempt".to_string(), AnyValue::Int(2))]
    );
}

/// issue 16: a body cut anywhere is refused with the offset and the field.
#[test]
fn truncated_bodies_name_offset_and_field() {
    let full = batch();
    for cut in 0..full.len() {
        let e = decode(&full[..cut], None).unwrap_err();
        assert!(matches!(e, crate::Error::Traces(_)), "{e}");
        let e = e.to_string();
        assert!(
            e.starts_with("decoding jaeger.thrift Batch: offset "),
            "cut at {cut}: {e}"
        );
    }
    let e = decode(&full[..40], None).unwrap_err().to_string();
    assert!(e.contains("Batch.process.tags[0]"), "{e}");
}

#[test]
fn wrong_types_and_bad_values_are_refused() {
    // operationName as an i32.
    let mut w = W::default();
    w.field(T_STRUCT, 1).field(T_STRING, 1).str("s").stop();
    w.field(T_LIST, 2).list(T_STRUCT, 1);
    w.field(T_I32, 5).i32(3).stop().stop();
    let e = decode(&w.0, None).unwrap_err().to_string();
    assert!(
        e.contains("Batch.spans[0].operationName: Thrift type 8, want 11"),
        "{e}"
    );
    // A zero span id.
    let mut w = W::default();
    w.field(T_STRUCT, 1).field(T_STRING, 1).str("s").stop();
    w.field(T_LIST, 2).list(T_STRUCT, 1);
    w.field(T_I64, 1).i64(5).stop().stop();
    let e = decode(&w.0, None).unwrap_err().to_string();
    assert_eq!(
        e,
        "jaeger.thrift Batch: spans[0].spanId: zero, which is invalid"
    );
    // A list claiming more elements than the body holds.
    let mut w = W::default();
    w.field(T_STRUCT, 1).field(T_STRING, 1).str("s").stop();
    w.field(T_LIST, 2).list(T_STRUCT, 1_000_000_000);
    let e = decode(&w.0, None).unwrap_err().to_string();
    assert!(
        e.contains("Batch.spans: list of 1000000000 elements in 0 bytes"),
        "{e}"
    );
    // No process.
    let mut w = W::default();
    w.field(T_LIST, 2).list(T_STRUCT, 0).stop();
    let e = decode(&w.0, None).unwrap_err().to_string();
    assert!(e.contains("Batch.process: missing"), "{e}");
    // Trailing bytes.
    let mut body = batch();
    body.push(0);
    let e = decode(&body, None).unwrap_err().to_string();
    assert!(e.contains("bytes after the end of the Batch struct"), "{e}");
    // Unknown tag type.
    let mut w = W::default();
    w.field(T_STRUCT, 1).field(T_STRING, 1).str("s");
    w.field(T_LIST, 2).list(T_STRUCT, 1);
    w.field(T_STRING, 1)
        .str("k")
        .field(T_I32, 2)
        .i32(9)
        .stop()
        .stop();
    w.field(T_LIST, 2).list(T_STRUCT, 0).stop();
    let e = decode(&w.0, None).unwrap_err().to_string();
    assert!(
        e.contains("Batch.process.tags[0] \"k\": unknown vType 9"),
        "{e}"
    );
    // Deep nesting in a skipped field.
    let mut w = W::default();
    for _ in 0..100 {
        w.field(T_STRUCT, 50);
    }
    let e = decode(&w.0, None).unwrap_err().to_string();
    assert!(e.contains("nested too deep"), "{e}");
}

#[test]
fn content_type() {
    assert!(check_content_type(Some("application/x-thrift")).is_ok());
    assert!(check_content_type(Some("application/vnd.apache.thrift.binary")).is_ok());
    assert!(matches!(
        check_content_type(Some("application/json")),
        Err(crate::Error::UnsupportedMediaType(_))
    ));
}
