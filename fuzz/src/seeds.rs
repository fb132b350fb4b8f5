//! Binary seeds made by the real encoders (remote_write 1 and 2, Loki
//! push, OTLP protobuf, the protobuf scrape format): the fuzzer starts from
//! valid messages instead of rediscovering the wire format. Text seeds come
//! from the repository's fixtures (`fuzz/seeds.sh`); store seeds from
//! [`crate::stores::seeds`].

use sightline_proto::Message;

/// `(target, file name, bytes)` of every generated seed; the first byte is
/// the target's selector where it has one (see each target's docs).
pub fn wire() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let mut out = vec![
        (
            "remote_write",
            "v1",
            with_selector(0, &rw1().encode_to_vec()),
        ),
        (
            "remote_write",
            "v2",
            with_selector(1, &rw2().encode_to_vec()),
        ),
        (
            "loki_push",
            "proto",
            with_selector(1, &loki().encode_to_vec()),
        ),
        ("loki_push", "json", with_selector(0, LOKI_JSON.as_bytes())),
        (
            "otlp_metrics",
            "json",
            with_selector(1, OTLP_METRICS.as_bytes()),
        ),
    ];
    if let Ok(r) = sightline_ingest::otlp::json::parse_request(OTLP_METRICS.as_bytes()) {
        out.push((
            "otlp_metrics",
            "proto",
            with_selector(0, &r.encode_to_vec()),
        ));
    }
    out.push(("otlp_logs", "json", with_selector(1, OTLP_LOGS.as_bytes())));
    if let Ok(r) = sightline_ingest::otlp::logs_json::parse_request(OTLP_LOGS.as_bytes()) {
        out.push(("otlp_logs", "proto", with_selector(0, &r.encode_to_vec())));
    }
    out.push((
        "otlp_traces",
        "json",
        with_selector(1, OTLP_TRACES.as_bytes()),
    ));
    if let Ok(r) = sightline_ingest::otlp::traces_json::parse_request(OTLP_TRACES.as_bytes()) {
        out.push(("otlp_traces", "proto", with_selector(0, &r.encode_to_vec())));
    }
    out.push(("zipkin", "v2", with_selector(0, ZIPKIN_V2.as_bytes())));
    out.push(("exposition_protobuf", "families", scrape_protobuf()));
    out
}

fn with_selector(sel: u8, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(body.len() + 1);
    v.push(sel);
    v.extend_from_slice(body);
    v
}

fn rw1() -> sightline_proto::prometheus::WriteRequest {
    use sightline_proto::prometheus::*;
    let label = |n: &str, v: &str| Label {
        name: n.into(),
        value: v.into(),
    };
    WriteRequest {
        timeseries: vec![
            TimeSeries {
                labels: vec![
                    label("__name__", "http_requests_total"),
                    label("job", "api"),
                ],
                samples: vec![
                    Sample {
                        value: 1.0,
                        timestamp: 1_700_000_000_000,
                    },
                    Sample {
                        value: 2.5,
                        timestamp: 1_700_000_015_000,
                    },
                ],
                exemplars: vec![Exemplar {
                    labels: vec![label("trace_id", "abc")],
                    value: 1.0,
                    timestamp: 1_700_000_000_000,
                }],
                ..Default::default()
            },
            TimeSeries {
                labels: vec![label("__name__", "latency_seconds"), label("job", "api")],
                histograms: vec![Histogram {
                    count: Some(histogram::Count::CountInt(4)),
                    sum: 1.5,
                    schema: 0,
                    zero_threshold: 1e-128,
                    zero_count: Some(histogram::ZeroCount::ZeroCountInt(1)),
                    positive_spans: vec![BucketSpan {
                        offset: 0,
                        length: 2,
                    }],
                    positive_deltas: vec![2, -1],
                    timestamp: 1_700_000_000_000,
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
        metadata: vec![MetricMetadata {
            r#type: 1,
            metric_family_name: "http_requests_total".into(),
            help: "Requests.".into(),
            unit: String::new(),
        }],
    }
}

fn rw2() -> sightline_proto::write_v2::Request {
    use sightline_proto::write_v2::*;
    Request {
        symbols: ["", "__name__", "up", "job", "api", "Up.", "trace_id", "abc"]
            .map(String::from)
            .to_vec(),
        timeseries: vec![TimeSeries {
            labels_refs: vec![1, 2, 3, 4],
            samples: vec![Sample {
                value: 1.0,
                timestamp: 1_700_000_000_000,
            }],
            exemplars: vec![Exemplar {
                labels_refs: vec![6, 7],
                value: 1.0,
                timestamp: 1_700_000_000_000,
            }],
            metadata: Some(Metadata {
                r#type: 2,
                help_ref: 5,
                unit_ref: 0,
            }),
            ..Default::default()
        }],
    }
}

fn loki() -> sightline_proto::loki::PushRequest {
    use sightline_proto::loki::*;
    PushRequest {
        streams: vec![StreamAdapter {
            labels: r#"{app="api", env="prod"}"#.into(),
            entries: vec![EntryAdapter {
                timestamp: Some(Timestamp {
                    seconds: 1_700_000_000,
                    nanos: 5,
                }),
                line: "level=error msg=boom".into(),
                structured_metadata: vec![LabelPairAdapter {
                    name: "trace_id".into(),
                    value: "abc".into(),
                }],
            }],
            hash: 0,
        }],
    }
}

fn scrape_protobuf() -> Vec<u8> {
    use sightline_testkit::protobuf::*;
    sightline_testkit::protobuf::delimited(&[
        family(
            "http_requests_total",
            "Requests.",
            MetricType::Counter,
            counter(&[("code", "200")], 7.0),
        ),
        family(
            "rpc_seconds",
            "RPC latency.",
            MetricType::Summary,
            summary(3, 1.5, &[(0.5, 0.2), (0.99, 0.9)]),
        ),
        family(
            "req_seconds",
            "Latency.",
            MetricType::Histogram,
            histogram(
                &[("job", "api")],
                classic_histogram(4, 2.0, &[(0.1, 1), (1.0, 3)]),
            ),
        ),
    ])
}

const LOKI_JSON: &str = r#"{"streams":[{"stream":{"app":"api","env":"prod"},"values":[["1700000000000000000","level=info msg=hi"],["1700000001000000000","json line",{"trace_id":"abc"}]]}]}"#;

const OTLP_METRICS: &str = r#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},"scopeMetrics":[{"scope":{"name":"s"},"metrics":[{"name":"requests","unit":"1","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{"attributes":[{"key":"code","value":{"intValue":"200"}}],"timeUnixNano":"1700000000000000000","asInt":"5"}]}},{"name":"temp","gauge":{"dataPoints":[{"timeUnixNano":"1700000000000000000","asDouble":21.5}]}},{"name":"lat","unit":"s","histogram":{"aggregationTemporality":1,"dataPoints":[{"timeUnixNano":"1700000000000000000","count":"3","sum":1.5,"bucketCounts":["1","2"],"explicitBounds":[0.5]}]}},{"name":"exp","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"1700000000000000000","count":"2","scale":1,"zeroCount":"0","positive":{"offset":0,"bucketCounts":["1","1"]}}]}}]}]}]}"#;

const OTLP_LOGS: &str = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},"scopeLogs":[{"scope":{"name":"s"},"logRecords":[{"timeUnixNano":"1700000000000000000","severityNumber":17,"severityText":"ERROR","body":{"stringValue":"boom"},"attributes":[{"key":"user","value":{"intValue":"7"}}],"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]}"#;

const OTLP_TRACES: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},"scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"","name":"GET /","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000100000000","attributes":[{"key":"http.method","value":{"stringValue":"GET"}}],"events":[{"timeUnixNano":"1700000000050000000","name":"e"}],"status":{"code":2,"message":"bad"}}]}]}]}"#;

const ZIPKIN_V2: &str = r#"[{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","name":"get /api","timestamp":1700000000000000,"duration":20000,"kind":"SERVER","localEndpoint":{"serviceName":"frontend","ipv4":"10.0.0.1","port":80},"remoteEndpoint":{"serviceName":"client"},"annotations":[{"timestamp":1700000000001000,"value":"ws"}],"tags":{"http.method":"GET","error":"true"}}]"#;
