//! Zipkin v2 to the core span model (issue 16). Expected values follow the
//! Collector's zipkin receiver mapping (see [`super::map`]), by hand.

use super::proto::{ListOfSpans, PAnnotation, PEndpoint, PSpan};
use super::*;
use prost::Message;
use sightline_core::traces::{AnyValue, SpanKind, StatusCode};

const BODY: &str = r#"[
 {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","name":"get /api","kind":"SERVER",
  "timestamp":1700000000000000,"duration":207000,
  "localEndpoint":{"serviceName":"frontend","ipv4":"192.168.99.1","port":8080},
  "remoteEndpoint":{"ipv6":"::1","port":51000},
  "annotations":[{"timestamp":1700000000000100,"value":"ws"},
                 {"timestamp":1700000000000200,"value":"{\"exception\":{\"exception.type\":\"E\",\"n\":3}}"}],
  "tags":{"http.method":"GET","error":"timeout","otel.scope.name":"flask","otel.scope.version":"2"},
  "debug":true,"shared":true},
 {"traceId":"0af7651916cd43dd5af7183fb1d4cf5f","parentId":"6b221d5bc9e6496c","id":"0000000000000002",
  "name":"select","kind":"CLIENT","timestamp":1700000000000050,"duration":10,
  "localEndpoint":{"serviceName":"frontend"},
  "remoteEndpoint":{"serviceName":"db","ipv4":"10.0.0.2","port":5432},
  "tags":{"otel.status_code":"OK"}},
 {"traceId":"5af7183fb1d4cf5f","id":"0000000000000003","tags":{"span.kind":"internal"}}
]"#;

#[test]
fn json_fields_map_as_the_collector_maps_them() {
    let spans = decode(BODY.as_bytes(), ZipkinFormat::Json, None).unwrap();
    let s = &spans[0];
    assert_eq!(s.trace_id.to_string(), "00000000000000005af7183fb1d4cf5f");
    assert_eq!(s.span_id.to_string(), "6b221d5bc9e6496c");
    assert!(s.is_root());
    assert_eq!(s.name, "get /api");
    assert_eq!(s.kind, SpanKind::Server);
    assert_eq!(s.start_ns, 1_700_000_000_000_000_000);
    assert_eq!(s.duration_ns(), 207_000_000);
    assert_eq!(s.service_name(), "frontend");
    assert_eq!(
        (s.status_code, s.status_message.as_str()),
        (StatusCode::Error, "timeout")
    );
    assert_eq!(
        (s.scope.name.as_str(), s.scope.version.as_str()),
        ("flask", "2")
    );
    assert_eq!(
        s.attributes,
        vec![
            ("http.method".to_string(), AnyValue::Str("GET".into())),
            (
                "net.host.ip".to_string(),
                AnyValue::Str("192.168.99.1".into())
            ),
            ("net.host.port".to_string(), AnyValue::Int(8080)),
            ("net.peer.ip".to_string(), AnyValue::Str("::1".into())),
            ("net.peer.port".to_string(), AnyValue::Int(51000)),
        ]
    );
    assert_eq!(s.events.len(), 2);
    assert_eq!(
        (s.events[0].name.as_str(), s.events[0].time_ns),
        ("ws", 1_700_000_000_000_100_000)
    );
    assert_eq!(s.events[1].name, "exception");
    assert_eq!(
        s.events[1].attributes,
        vec![
            ("exception.type".to_string(), AnyValue::Str("E".into())),
            ("n".to_string(), AnyValue::Int(3)),
        ]
    );
    let c = &spans[1];
    assert_eq!(c.trace_id.to_string(), "0af7651916cd43dd5af7183fb1d4cf5f");
    assert_eq!(c.parent_span_id, Some(s.span_id));
    assert_eq!(c.kind, SpanKind::Client);
    assert_eq!(c.duration_ns(), 10_000);
    assert_eq!(c.status_code, StatusCode::Ok);
    assert!(std::sync::Arc::ptr_eq(&c.resource, &s.resource));
    assert_eq!(
        c.attributes,
        vec![
            ("peer.service".to_string(), AnyValue::Str("db".into())),
            ("net.peer.ip".to_string(), AnyValue::Str("10.0.0.2".into())),
            ("net.peer.port".to_string(), AnyValue::Int(5432)),
        ]
    );
    let i = &spans[2];
    assert_eq!(i.kind, SpanKind::Internal);
    assert_eq!(i.service_name(), "unknown_service");
    assert!(i.attributes.is_empty());
}

/// issue 16: every bad field is named with its span.
#[test]
fn json_errors_name_span_and_field() {
    for (body, want) in [
        (r#"{}"#, "expected a JSON array of spans, got an object"),
        (r#"[{"id":"0000000000000001"}]"#, "[0].traceId: missing"),
        (
            r#"[{"traceId":"abc","id":"0000000000000001"}]"#,
            "[0].traceId: \"abc\" is 3 hex digits, want 16 or 32",
        ),
        (
            r#"[{"traceId":"000000000000000g","id":"0000000000000001"}]"#,
            "[0].traceId: invalid trace id",
        ),
        (
            r#"[{"traceId":"0000000000000001","id":"01"}]"#,
            "[0].id: \"01\" is 2 hex digits, want 16",
        ),
        (
            r#"[{"traceId":"0000000000000001","id":"0000000000000000"}]"#,
            "[0].id: all zeros",
        ),
        (
            r#"[{"traceId":"0000000000000000","id":"0000000000000001"}]"#,
            "[0].traceId: all zeros",
        ),
        (
            r#"[{"traceId":"0000000000000001","id":"0000000000000001","kind":"LOCAL"}]"#,
            "[0].kind: \"LOCAL\" is not CLIENT",
        ),
        (
            r#"[{"traceId":"0000000000000001","id":"0000000000000001","timestamp":"now"}]"#,
            "[0].timestamp: expected a number of microseconds, got a string",
        ),
        (
            r#"[{"traceId":"0000000000000001","id":"0000000000000001","timestamp":-1}]"#,
            "[0].timestamp: expected a non-negative integer",
        ),
        (
            r#"[{"traceId":"0000000000000001","id":"0000000000000001","tags":{"a":[1]}}]"#,
            "[0].tags.a: expected a string, got an array",
        ),
        (
            r#"[{"traceId":"0000000000000001","id":"0000000000000001","localEndpoint":{"port":70000}}]"#,
            "[0].localEndpoint.port: 70000 is not a port number",
        ),
        (
            r#"[{"traceId":"0000000000000001","id":"0000000000000001","annotations":[{"timestamp":1,"value":2}]}]"#,
            "[0].annotations[0].value: expected a string, got a number",
        ),
        ("[", "invalid JSON"),
    ] {
        let e = decode(body.as_bytes(), ZipkinFormat::Json, None).unwrap_err();
        assert!(matches!(e, Error::Traces(_)), "{e}");
        let e = e.to_string();
        assert!(e.starts_with("decoding Zipkin v2 spans: "), "{e}");
        assert!(e.contains(want), "{body}: {e}");
    }
}

#[test]
fn content_types_and_encodings() {
    assert_eq!(
        ZipkinFormat::from_content_type(None).unwrap(),
        ZipkinFormat::Json
    );
    assert_eq!(
        ZipkinFormat::from_content_type(Some("application/json; charset=utf-8")).unwrap(),
        ZipkinFormat::Json
    );
    assert_eq!(
        ZipkinFormat::from_content_type(Some("application/x-protobuf")).unwrap(),
        ZipkinFormat::Protobuf
    );
    assert!(matches!(
        ZipkinFormat::from_content_type(Some("application/x-thrift")),
        Err(Error::UnsupportedMediaType(_))
    ));
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, BODY.as_bytes()).unwrap();
    let gz = e.finish().unwrap();
    assert_eq!(
        decode(&gz, ZipkinFormat::Json, Some("gzip")).unwrap().len(),
        3
    );
    assert!(matches!(
        decode(&gz, ZipkinFormat::Json, Some("deflate")),
        Err(Error::UnsupportedMediaType(_))
    ));
}

fn pspan() -> PSpan {
    PSpan {
        trace_id: vec![0x5a; 16],
        parent_id: vec![0, 0, 0, 0, 0, 0, 0, 1],
        id: vec![0, 0, 0, 0, 0, 0, 0, 2],
        kind: 3,
        name: "send".into(),
        timestamp: 1_700_000_000_000_000,
        duration: 5,
        local_endpoint: Some(PEndpoint {
            service_name: "queue".into(),
            ipv4: vec![10, 0, 0, 1],
            ipv6: vec![],
            port: 9000,
        }),
        remote_endpoint: Some(PEndpoint {
            service_name: String::new(),
            ipv4: vec![],
            ipv6: {
                let mut v = vec![0; 16];
                v[15] = 1;
                v
            },
            port: 0,
        }),
        annotations: vec![PAnnotation {
            timestamp: 1_700_000_000_000_002,
            value: "flushed".into(),
        }],
        tags: [("error".to_string(), "true".to_string())]
            .into_iter()
            .collect(),
        debug: false,
        shared: false,
    }
}

#[test]
fn proto3_fields_map_as_json_does() {
    let body = ListOfSpans {
        spans: vec![pspan()],
    }
    .encode_to_vec();
    let spans = decode(&body, ZipkinFormat::Protobuf, None).unwrap();
    let s = &spans[0];
    assert_eq!(s.trace_id.to_string(), "5a".repeat(16));
    assert_eq!(s.parent_span_id.unwrap().to_string(), "0000000000000001");
    assert_eq!(s.span_id.to_string(), "0000000000000002");
    assert_eq!(s.kind, SpanKind::Producer);
    assert_eq!(s.duration_ns(), 5000);
    assert_eq!(s.service_name(), "queue");
    // `error: true` sets the status and leaves no message.
    assert_eq!(
        (s.status_code, s.status_message.as_str()),
        (StatusCode::Error, "")
    );
    assert_eq!(
        s.attributes,
        vec![
            ("net.host.ip".to_string(), AnyValue::Str("10.0.0.1".into())),
            ("net.host.port".to_string(), AnyValue::Int(9000)),
            ("net.peer.ip".to_string(), AnyValue::Str("::1".into())),
        ]
    );
    assert_eq!(s.events[0].name, "flushed");
    // 8-byte trace ids are the low half.
    let mut short = pspan();
    short.trace_id = vec![1; 8];
    let body = ListOfSpans { spans: vec![short] }.encode_to_vec();
    let s = &decode(&body, ZipkinFormat::Protobuf, None).unwrap()[0];
    assert_eq!(s.trace_id.high(), 0);
}

#[test]
fn proto3_errors_name_span_and_field() {
    let mut bad = vec![];
    for f in [
        |s: &mut PSpan| s.trace_id = vec![1; 3],
        |s: &mut PSpan| s.id = vec![1; 4],
        |s: &mut PSpan| s.kind = 9,
        |s: &mut PSpan| s.local_endpoint.as_mut().unwrap().ipv4 = vec![1, 2],
    ] {
        let mut s = pspan();
        f(&mut s);
        let body = ListOfSpans {
            spans: vec![pspan(), s],
        }
        .encode_to_vec();
        bad.push(
            decode(&body, ZipkinFormat::Protobuf, None)
                .unwrap_err()
                .to_string(),
        );
    }
    assert!(
        bad[0].contains("spans[1].trace_id: 3 bytes, want 8 or 16"),
        "{}",
        bad[0]
    );
    assert!(
        bad[1].contains("spans[1].id: invalid span id: 4 bytes, want 8"),
        "{}",
        bad[1]
    );
    assert!(
        bad[2].contains("spans[1].kind: unknown kind 9"),
        "{}",
        bad[2]
    );
    assert!(
        bad[3].contains("spans[1].local_endpoint.ipv4: 2 bytes, want 4"),
        "{}",
        bad[3]
    );
    let e = decode(b"\x0a\xff", ZipkinFormat::Protobuf, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("decoding zipkin.proto3.ListOfSpans protobuf"),
        "{e}"
    );
}

#[test]
fn special_tags_come_out() {
    let mut a = vec![
        (
            "otel.status_code".to_string(),
            AnyValue::Str("error".into()),
        ),
        (
            "otel.status_description".to_string(),
            AnyValue::Str("bad".into()),
        ),
        ("error".to_string(), AnyValue::Str("other".into())),
        ("otel.library.name".to_string(), AnyValue::Str("lib".into())),
        ("keep".to_string(), AnyValue::Int(1)),
    ];
    let t = map::take_special_tags(&mut a, true);
    assert_eq!(a, vec![("keep".to_string(), AnyValue::Int(1))]);
    assert_eq!(
        (t.status_code, t.status_message.as_str()),
        (StatusCode::Error, "bad")
    );
    assert_eq!(t.scope_name, "lib");
    let mut a = vec![("error".to_string(), AnyValue::Bool(false))];
    let t = map::take_special_tags(&mut a, false);
    assert_eq!(t.status_code, StatusCode::Unset);
}
