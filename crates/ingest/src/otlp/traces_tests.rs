//! OTLP traces to the core span model (issue 16). Expected values are the
//! request's own fields, written by hand.

use super::super::traces_write::{write_spans, SpanLimits, TraceIngestCounters, TraceProtocol};
use super::*;
use opentelemetry_proto::tonic::common::v1::{ArrayValue, InstrumentationScope};
use opentelemetry_proto::tonic::resource::v1::Resource as PResource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Status};
use sightline_core::traces::{
    MemTraceStore, SpanRefusal, TraceAppendReport, TraceAppender, TraceQuerier,
};
use std::io::Write;

const TID: [u8; 16] = [
    0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c,
];

fn sv(v: &str) -> Option<PValue> {
    Some(PValue {
        value: Some(any_value::Value::StringValue(v.into())),
    })
}

fn kv(k: &str, v: Option<PValue>) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: v,
    }
}

fn pspan(id: u8, parent: Option<u8>) -> pt::Span {
    pt::Span {
        trace_id: TID.to_vec(),
        span_id: vec![0, 0, 0, 0, 0, 0, 0, id],
        parent_span_id: parent.map_or(Vec::new(), |p| vec![0, 0, 0, 0, 0, 0, 0, p]),
        name: format!("op{id}"),
        kind: 2,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_000_250_000_000,
        ..Default::default()
    }
}

fn request(spans: Vec<pt::Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(PResource {
                attributes: vec![kv("service.name", sv("checkout"))],
                dropped_attributes_count: 1,
                entity_refs: Vec::new(),
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "lib".into(),
                    version: "1.2".into(),
                    attributes: vec![],
                    dropped_attributes_count: 0,
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[test]
fn every_field_maps_one_to_one() {
    let mut s = pspan(2, Some(1));
    s.trace_state = "k=v".into();
    s.attributes = vec![
        kv("http.route", sv("/cart")),
        kv(
            "n",
            Some(PValue {
                value: Some(any_value::Value::IntValue(-7)),
            }),
        ),
        kv(
            "a",
            Some(PValue {
                value: Some(any_value::Value::ArrayValue(ArrayValue {
                    values: vec![sv("x").unwrap()],
                })),
            }),
        ),
        kv("empty", None),
    ];
    s.dropped_attributes_count = 3;
    s.events = vec![span::Event {
        time_unix_nano: 1_700_000_000_100_000_000,
        name: "exception".into(),
        attributes: vec![kv("exception.type", sv("E"))],
        dropped_attributes_count: 2,
    }];
    s.dropped_events_count = 4;
    s.links = vec![span::Link {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        trace_state: "l=1".into(),
        attributes: vec![kv("why", sv("batch"))],
        dropped_attributes_count: 5,
        flags: 0,
    }];
    s.dropped_links_count = 6;
    s.status = Some(Status {
        message: "boom".into(),
        code: 2,
    });
    let c = to_spans(request(vec![s]));
    assert_eq!((c.invalid, c.message.as_str()), (0, ""));
    let got = &c.spans[0];
    assert_eq!(got.trace_id.to_string(), "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(got.span_id.to_string(), "0000000000000002");
    assert_eq!(got.parent_span_id, Some(SpanId::from_u64(1)));
    assert_eq!(got.trace_state, "k=v");
    assert_eq!(got.name, "op2");
    assert_eq!(got.kind, SpanKind::Server);
    assert_eq!(got.start_ns, 1_700_000_000_000_000_000);
    assert_eq!(got.duration_ns(), 250_000_000);
    assert_eq!(
        got.attributes,
        vec![
            ("http.route".to_string(), AnyValue::Str("/cart".into())),
            ("n".to_string(), AnyValue::Int(-7)),
            (
                "a".to_string(),
                AnyValue::Array(vec![AnyValue::Str("x".into())])
            ),
            ("empty".to_string(), AnyValue::Str(String::new())),
        ]
    );
    assert_eq!(got.dropped_attributes_count, 3);
    assert_eq!(got.events[0].name, "exception");
    assert_eq!(got.events[0].time_ns, 1_700_000_000_100_000_000);
    assert_eq!(got.events[0].dropped_attributes_count, 2);
    assert_eq!(got.dropped_events_count, 4);
    assert_eq!(got.links[0].trace_id, TraceId([1; 16]));
    assert_eq!(got.links[0].span_id, SpanId([2; 8]));
    assert_eq!(got.links[0].trace_state, "l=1");
    assert_eq!(got.links[0].dropped_attributes_count, 5);
    assert_eq!(got.dropped_links_count, 6);
    assert_eq!(got.status_code, StatusCode::Error);
    assert_eq!(got.status_message, "boom");
    assert_eq!(got.service_name(), "checkout");
    assert_eq!(got.resource.dropped_attributes_count, 1);
    assert_eq!(
        (got.scope.name.as_str(), got.scope.version.as_str()),
        ("lib", "1.2")
    );
}

#[test]
fn spans_of_one_resource_share_it() {
    let c = to_spans(request(vec![pspan(1, None), pspan(2, Some(1))]));
    assert!(Arc::ptr_eq(&c.spans[0].resource, &c.spans[1].resource));
    assert!(Arc::ptr_eq(&c.spans[0].scope, &c.spans[1].scope));
    assert!(c.spans[0].is_root());
}

/// issue 16: a span with a bad id is dropped and named; the rest is kept.
#[test]
fn invalid_ids_drop_the_span_and_say_where() {
    let mut short = pspan(2, None);
    short.trace_id = vec![1, 2, 3];
    let mut zero = pspan(3, None);
    zero.span_id = vec![0; 8];
    let mut bad_parent = pspan(4, None);
    bad_parent.parent_span_id = vec![1, 2];
    let mut bad_link = pspan(5, None);
    bad_link.links = vec![span::Link {
        trace_id: vec![1; 16],
        span_id: vec![1; 3],
        ..Default::default()
    }];
    let c = to_spans(request(vec![
        pspan(1, None),
        short,
        zero,
        bad_parent,
        bad_link,
    ]));
    assert_eq!(c.spans.len(), 1);
    assert_eq!(c.invalid, 4);
    assert_eq!(
        c.message,
        "4 invalid spans dropped; the first: resourceSpans[0].scopeSpans[0].spans[1].traceId: 3 bytes, want 16 (span dropped)"
    );
    let one = to_spans(request(vec![{
        let mut s = pspan(9, None);
        s.span_id = vec![0; 8];
        s
    }]));
    assert_eq!(
        one.message,
        "resourceSpans[0].scopeSpans[0].spans[0].spanId: all zeros, which is invalid (span dropped)"
    );
    let l = to_spans(request(vec![{
        let mut s = pspan(5, None);
        s.links = vec![span::Link {
            trace_id: vec![1; 16],
            span_id: vec![1; 3],
            ..Default::default()
        }];
        s
    }]));
    assert!(
        l.message
            .contains("spans[0].links[0].spanId: invalid span id: 3 bytes, want 8"),
        "{}",
        l.message
    );
}

#[test]
fn protobuf_and_gzip_bodies_decode() {
    let req = request(vec![pspan(1, None)]);
    let body = req.encode_to_vec();
    assert_eq!(decode(&body, Format::Protobuf, None).unwrap(), req);
    assert_eq!(
        decode(&gzip(&body), Format::Protobuf, Some("gzip")).unwrap(),
        req
    );
    let e = decode(b"\xff\xff", Format::Protobuf, None).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "decoding opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest protobuf"
        ),
        "{e}"
    );
    let e = decode(&body, Format::Protobuf, Some("br")).unwrap_err();
    assert!(matches!(e, Error::UnsupportedMediaType(_)), "{e}");
    let e = decode(b"not gzip", Format::Protobuf, Some("gzip")).unwrap_err();
    assert!(e.to_string().starts_with("decompressing gzip body"), "{e}");
}

#[test]
fn json_as_the_spec_maps_it() {
    let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
      "scopeSpans":[{"scope":{"name":"s"},"spans":[
        {"traceId":"0AF7651916CD43DD8448EB211C80319C","spanId":"b7ad6b7169203331","parentSpanId":"",
         "name":"GET","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":1700000000000001000,
         "attributes":[{"key":"n","value":{"intValue":"42"}}],
         "events":[{"timeUnixNano":"1700000000000000500","name":"e","attributes":[{"key":"b","value":{"boolValue":true}}]}],
         "links":[{"traceId":"0af7651916cd43dd8448eb211c80319d","spanId":"0000000000000001","attributes":[]}],
         "status":{"code":"STATUS_CODE_ERROR","message":"m"}},
        {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"0000000000000002","parentSpanId":"b7ad6b7169203331",
         "kind":3,"status":{"code":1},"droppedAttributesCount":2}
      ]}]}]}"#;
    let c = to_spans(decode(body, Format::Json, None).unwrap());
    assert_eq!(c.invalid, 0);
    let (a, b) = (&c.spans[0], &c.spans[1]);
    assert_eq!(a.trace_id.to_string(), "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(a.span_id.to_string(), "b7ad6b7169203331");
    assert_eq!(a.parent_span_id, None);
    assert_eq!(a.kind, SpanKind::Client);
    assert_eq!(a.duration_ns(), 1000);
    assert_eq!(a.attributes, vec![("n".to_string(), AnyValue::Int(42))]);
    assert_eq!(a.events[0].time_ns, 1_700_000_000_000_000_500);
    assert_eq!(
        a.events[0].attributes,
        vec![("b".to_string(), AnyValue::Bool(true))]
    );
    assert_eq!(a.links[0].span_id, SpanId::from_u64(1));
    assert_eq!(
        (a.status_code, a.status_message.as_str()),
        (StatusCode::Error, "m")
    );
    assert_eq!(a.service_name(), "api");
    assert_eq!(b.parent_span_id, Some(a.span_id));
    assert_eq!((b.kind, b.status_code), (SpanKind::Client, StatusCode::Ok));
    assert_eq!(b.dropped_attributes_count, 2);
}

/// issue 16: JSON errors name their path.
#[test]
fn json_errors_name_the_path() {
    for (body, want) in [
        (
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}"#,
            "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected a hex string, got \"xyz\"",
        ),
        (
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_NOPE"}]}]}]}"#,
            "resourceSpans[0].scopeSpans[0].spans[0].kind: unknown enum value \"SPAN_KIND_NOPE\"",
        ),
        (
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}"#,
            "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected an integer",
        ),
        (
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"status":{"code":"STATUS_CODE_MAYBE"}}]}]}]}"#,
            "resourceSpans[0].scopeSpans[0].spans[0].status.code: unknown enum value",
        ),
        (
            r#"{"resourceSpans":{}}"#,
            "resourceSpans: expected an array, got an object",
        ),
        ("[", "invalid JSON"),
    ] {
        let e = decode(body.as_bytes(), Format::Json, None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("decoding OTLP/JSON traces request: "), "{e}");
        assert!(e.contains(want), "{body}: {e}");
    }
}

#[test]
fn responses_carry_partial_success() {
    assert_eq!(encode_response(Format::Json, 0, ""), b"{}");
    let j: serde_json::Value =
        serde_json::from_slice(&encode_response(Format::Json, 3, "bad")).unwrap();
    assert_eq!(j["partialSuccess"]["rejectedSpans"], "3");
    assert_eq!(j["partialSuccess"]["errorMessage"], "bad");
    let p = ExportTraceServiceResponse::decode(&encode_response(Format::Protobuf, 3, "bad")[..])
        .unwrap();
    assert_eq!(p.partial_success.unwrap().rejected_spans, 3);
    assert!(
        ExportTraceServiceResponse::decode(&encode_response(Format::Protobuf, 0, "")[..])
            .unwrap()
            .partial_success
            .is_none()
    );
}

#[test]
fn limits_truncate_as_the_sdk_does() {
    let limits = SpanLimits {
        max_attributes_per_span: 2,
        max_attribute_value_length: 3,
        max_events_per_span: 1,
        max_links_per_span: 0,
        max_attributes_per_event: 1,
        max_attributes_per_link: 128,
    };
    let mut s = Span {
        attributes: vec![
            ("a".into(), AnyValue::Str("héllo".into())),
            (
                "b".into(),
                AnyValue::Array(vec![AnyValue::Str("abcd".into()), AnyValue::Int(12345)]),
            ),
            ("c".into(), AnyValue::Int(1)),
        ],
        dropped_attributes_count: 1,
        events: vec![
            SpanEvent {
                attributes: vec![
                    ("x".into(), AnyValue::Int(1)),
                    ("y".into(), AnyValue::Int(2)),
                ],
                ..Default::default()
            },
            SpanEvent::default(),
        ],
        links: vec![SpanLink::default(); 3],
        ..Default::default()
    };
    limits.apply(&mut s);
    assert_eq!(
        s.attributes,
        vec![
            ("a".to_string(), AnyValue::Str("hél".into())),
            (
                "b".to_string(),
                AnyValue::Array(vec![AnyValue::Str("abc".into()), AnyValue::Int(12345)])
            ),
        ]
    );
    assert_eq!(s.dropped_attributes_count, 2);
    assert_eq!((s.events.len(), s.dropped_events_count), (1, 1));
    assert_eq!(s.events[0].attributes.len(), 1);
    assert_eq!(s.events[0].dropped_attributes_count, 1);
    // 0 is no limit.
    assert_eq!((s.links.len(), s.dropped_links_count), (3, 0));
}

struct Refusing(Vec<SpanRefusal>, usize);

impl TraceAppender for Refusing {
    fn append(&self, _: &str, _: Vec<Span>) -> sightline_core::Result<TraceAppendReport> {
        Ok(TraceAppendReport {
            accepted: self.1,
            refused: self.0.clone(),
        })
    }
}

struct Failing(sightline_core::ErrorKind);

impl TraceAppender for Failing {
    fn append(&self, _: &str, _: Vec<Span>) -> sightline_core::Result<TraceAppendReport> {
        Err(sightline_core::Error::new(self.0, "disk on fire"))
    }
}

#[test]
fn outcomes_from_the_store() {
    let spans = to_spans(request(vec![pspan(1, None), pspan(2, Some(1))])).spans;
    let lim = SpanLimits::default();
    let store = MemTraceStore::new();
    let out = write_spans(spans.clone(), 0, "", "t1", &lim, &store);
    assert_eq!((out.status, out.accepted, out.rejected), (200, 2, 0));
    assert_eq!(store.trace("t1", TraceId(TID), None).unwrap().len(), 2);
    assert!(store.trace("fake", TraceId(TID), None).unwrap().is_empty());

    // A retryable refusal of everything: 429, send it all again.
    let rate = SpanRefusal::RateLimited {
        spans: 2,
        limit_bytes_per_s: 100,
    };
    let out = write_spans(
        spans.clone(),
        0,
        "",
        "t",
        &lim,
        &Refusing(vec![rate.clone()], 0),
    );
    assert_eq!((out.status, out.rejected), (429, 2));
    assert!(out.retryable());
    assert!(
        out.message.contains("ingestion rate limit (100 bytes/s)"),
        "{}",
        out.message
    );
    // Part kept: 200 with the rest rejected.
    let too_old = SpanRefusal::TooOld { spans: 1 };
    let out = write_spans(spans.clone(), 0, "", "t", &lim, &Refusing(vec![too_old], 1));
    assert_eq!((out.status, out.accepted, out.rejected), (200, 1, 1));
    assert!(out.message.contains("before the retention window"));
    // A permanent refusal of everything is a partial success, not retried.
    let big = SpanRefusal::TraceTooLarge {
        trace_id: TraceId(TID),
        spans: 2,
        limit: 10,
    };
    let out = write_spans(spans.clone(), 0, "", "t", &lim, &Refusing(vec![big], 0));
    assert_eq!((out.status, out.rejected), (200, 2));
    // Invalid spans count as rejected and keep their message first.
    let out = write_spans(
        spans.clone(),
        3,
        "bad ids",
        "t",
        &lim,
        &MemTraceStore::new(),
    );
    assert_eq!((out.status, out.accepted, out.rejected), (200, 2, 3));
    assert_eq!(out.message, "bad ids");
    // Store failures: 503 when it may pass, 500 otherwise.
    let out = write_spans(
        spans.clone(),
        0,
        "",
        "t",
        &lim,
        &Failing(sightline_core::ErrorKind::Unavailable),
    );
    assert_eq!(out.status, 503);
    let out = write_spans(
        spans,
        0,
        "",
        "t",
        &lim,
        &Failing(sightline_core::ErrorKind::Internal),
    );
    assert_eq!(out.status, 500);
    assert!(out.message.contains("disk on fire"));

    let c = TraceIngestCounters::default();
    c.record(TraceProtocol::Zipkin, &out);
    c.record(
        TraceProtocol::Otlp,
        &super::super::traces_write::TraceOutcome {
            status: 200,
            accepted: 5,
            rejected: 1,
            message: String::new(),
        },
    );
    assert_eq!(c.received(TraceProtocol::Otlp), 5);
    let mut r = sightline_core::telemetry::Report::default();
    sightline_core::telemetry::Telemetry::report(&c, &mut r);
    let f = r
        .families()
        .iter()
        .find(|f| f.name == "sightline_traces_received_spans")
        .unwrap();
    assert_eq!(f.points.len(), 3);
    assert_eq!(f.points[0].value, 5.0);
}
