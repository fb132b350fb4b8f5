//! OTLP logs to Loki streams (issue 15); expected values follow Loki 3's
//! documented mapping, written by hand.

use super::*;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use sightline_core::logs::{LogHints, LogQuerier, MemLogStore};
use sightline_core::Matcher;

const NOW: i64 = 1_700_000_000_000_000_000;

fn s(v: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(v.into())),
    })
}

fn kv(k: &str, v: Option<AnyValue>) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: v,
    }
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn request() -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", s("checkout")),
                    kv("k8s.namespace.name", s("shop")),
                    kv("host.name", s("node-1")),
                ],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "app.logger".into(),
                    version: "1.2".into(),
                    ..Default::default()
                }),
                log_records: vec![
                    LogRecord {
                        time_unix_nano: 1_700_000_000_000_000_001,
                        observed_time_unix_nano: 1_700_000_000_000_000_002,
                        severity_number: 17,
                        severity_text: "ERROR".into(),
                        body: s("payment failed"),
                        attributes: vec![
                            kv(
                                "http.status",
                                Some(AnyValue {
                                    value: Some(any_value::Value::IntValue(502)),
                                }),
                            ),
                            kv(
                                "user",
                                Some(AnyValue {
                                    value: Some(any_value::Value::KvlistValue(KeyValueList {
                                        values: vec![kv("id", s("u7"))],
                                    })),
                                }),
                            ),
                        ],
                        trace_id: vec![0xab; 16],
                        span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
                        ..Default::default()
                    },
                    LogRecord {
                        observed_time_unix_nano: 1_700_000_000_000_000_003,
                        body: Some(AnyValue {
                            value: Some(any_value::Value::KvlistValue(KeyValueList {
                                values: vec![kv("msg", s("hi"))],
                            })),
                        }),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn resource_attributes_become_labels_and_the_rest_metadata() {
    let got = to_streams(&request(), NOW);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].labels,
        StreamLabels::Pairs(pairs(&[
            ("k8s_namespace_name", "shop"),
            ("service_name", "checkout")
        ]))
    );
    let e = &got[0].entries;
    assert_eq!(e[0].ts_ns, 1_700_000_000_000_000_001);
    assert_eq!(e[0].line, "payment failed");
    assert_eq!(
        e[0].metadata,
        pairs(&[
            ("http_status", "502"),
            ("user_id", "u7"),
            ("observed_timestamp", "1700000000000000002"),
            ("severity_number", "17"),
            ("severity_text", "ERROR"),
            ("trace_id", "abababababababababababababababab"),
            ("span_id", "0102030405060708"),
            ("host_name", "node-1"),
            ("scope_name", "app.logger"),
            ("scope_version", "1.2"),
            ("detected_level", "error"),
        ])
    );
    // No time: the observed time; a map body: JSON.
    assert_eq!(e[1].ts_ns, 1_700_000_000_000_000_003);
    assert_eq!(e[1].line, r#"{"msg":"hi"}"#);
    assert_eq!(
        e[1].metadata,
        pairs(&[
            ("host_name", "node-1"),
            ("scope_name", "app.logger"),
            ("scope_version", "1.2"),
        ])
    );
}

#[test]
fn service_name_is_discovered_or_unknown() {
    let mut req = request();
    let attrs = &mut req.resource_logs[0].resource.as_mut().unwrap().attributes;
    attrs.retain(|a| a.key != "service.name");
    attrs.push(kv("k8s.container.name", s("web")));
    let got = to_streams(&req, NOW);
    assert_eq!(
        got[0].labels,
        StreamLabels::Pairs(pairs(&[
            ("k8s_container_name", "web"),
            ("k8s_namespace_name", "shop"),
            ("service_name", "web"),
        ]))
    );
    req.resource_logs[0].resource = None;
    let got = to_streams(&req, NOW);
    assert_eq!(
        got[0].labels,
        StreamLabels::Pairs(pairs(&[("service_name", "unknown_service")]))
    );
}

#[test]
fn json_body_decodes_like_protobuf() {
    let body = br#"{"resourceLogs":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"checkout"}},
        {"key":"k8s.namespace.name","value":{"stringValue":"shop"}},
        {"key":"host.name","value":{"stringValue":"node-1"}}]},
      "scopeLogs":[{"scope":{"name":"app.logger","version":"1.2"},"logRecords":[
        {"timeUnixNano":"1700000000000000001","observedTimeUnixNano":1700000000000000002,
         "severityNumber":17,"severityText":"ERROR","body":{"stringValue":"payment failed"},
         "attributes":[{"key":"http.status","value":{"intValue":"502"}},
                       {"key":"user","value":{"kvlistValue":{"values":[{"key":"id","value":{"stringValue":"u7"}}]}}}],
         "traceId":"abababababababababababababababab","spanId":"0102030405060708"},
        {"observedTimeUnixNano":"1700000000000000003","body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"hi"}}]}}}]}]}]}"#;
    let req = decode(body, Format::Json, None).unwrap();
    assert_eq!(req, request());
    let proto = req.encode_to_vec();
    assert_eq!(decode(&proto, Format::Protobuf, None).unwrap(), request());
    let e = decode(
        br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz"}]}]}]}"#,
        Format::Json,
        None,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "decoding OTLP/JSON logs request: resourceLogs[0].scopeLogs[0].logRecords[0].traceId: expected a hex string, got \"xyz\""
    );
    let e = decode(b"\x0a\xff", Format::Protobuf, None).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "decoding opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest protobuf: "
        ),
        "{e}"
    );
    assert!(matches!(
        decode(b"", Format::Json, Some("zstd")).unwrap_err(),
        Error::UnsupportedMediaType(_)
    ));
}

#[test]
fn write_reports_partial_success() {
    let store = MemLogStore::new();
    let mut req = request();
    // A line a day in the future: refused by validation, the others kept.
    req.resource_logs[0].scope_logs[0].log_records[1].observed_time_unix_nano =
        (NOW + 86_400_000_000_000) as u64;
    let counters = LogIngestCounters::default();
    let out = write(&req, "t", &PushLimits::default(), NOW, &store, &counters);
    assert_eq!((out.status, out.rejected, out.accepted), (200, 1, 1));
    assert_eq!(
        out.message,
        "entry for stream '{k8s_namespace_name=\"shop\", service_name=\"checkout\"}' has timestamp too new: 2023-11-15 22:13:20 +0000 UTC"
    );
    let got = store
        .select(
            "t",
            &[Matcher::equal("service_name", "checkout")],
            0,
            i64::MAX,
            &LogHints::default(),
        )
        .unwrap();
    assert_eq!(got.len(), 1);
    let lines: Vec<String> = got
        .into_iter()
        .next()
        .unwrap()
        .entries
        .map(|e| e.unwrap().line)
        .collect();
    assert_eq!(lines, ["payment failed"]);
    assert_eq!(encode_response(Format::Json, 0, ""), b"{}");
    assert_eq!(
        String::from_utf8(encode_response(Format::Json, 1, "x")).unwrap(),
        r#"{"partialSuccess":{"errorMessage":"x","rejectedLogRecords":"1"}}"#
    );
}
