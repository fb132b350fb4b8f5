//! Issue 16, item 6: Grafana's Tempo, Jaeger and Zipkin data sources work
//! against `sightline serve`. Each call Grafana 11/12 makes to them (listed
//! in docs/grafana.md, "Tempo, Jaeger and Zipkin data sources") is made as
//! Grafana makes it, against a real server holding one trace sent over
//! OTLP/HTTP JSON, and the answer is checked field for field against the
//! shape the original documents, with values written by hand from the
//! trace below. No Tempo, Jaeger or Zipkin runs here (no Debian package),
//! so the answers are checked against their documented shapes.

mod common;
mod grafana;

use common::{eventually, http, Server};
use grafana::{call, post_json, USER_AGENT};
use opentelemetry_proto::tonic::trace::v1::TracesData;
use prost::Message;
use serde_json::{json, Value};
use std::time::Duration;

const TRACE: &str = "7a3f00000000000000000000000000c1";

/// The trace: `shop` GET /cart (server, 50 ms) -> `shop` SELECT (client,
/// peer.service db, error, 20 ms), starting `t0` nanoseconds.
fn otlp(t0: i64) -> Value {
    let at = |ms: i64| (t0 + ms * 1_000_000).to_string();
    json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
        "scopeSpans": [{"scope": {"name": "grafana-test"}, "spans": [
            {"traceId": TRACE, "spanId": "00000000000000a1", "name": "GET /cart", "kind": 2,
             "startTimeUnixNano": at(0), "endTimeUnixNano": at(50),
             "attributes": [{"key": "http.status_code", "value": {"intValue": "200"}}]},
            {"traceId": TRACE, "spanId": "00000000000000a2", "parentSpanId": "00000000000000a1",
             "name": "SELECT", "kind": 3, "startTimeUnixNano": at(10), "endTimeUnixNano": at(30),
             "status": {"code": 2, "message": "timeout"},
             "attributes": [{"key": "peer.service", "value": {"stringValue": "db"}}]},
        ]}],
    }]})
}

#[test]
fn issue_16_grafana_tempo_jaeger_zipkin_calls() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--otlp.grpc.listen", "0"]);
    let base = server.url();
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let t0 = (now_s - 120) * 1_000_000_000;
    let (st, _) = post_json(&base, "/v1/traces", &otlp(t0));
    assert_eq!(st, 200, "{}", server.log());
    let (start, end) = ((now_s - 600).to_string(), (now_s + 60).to_string());
    let range = [("start", start.as_str()), ("end", end.as_str())];

    // Tempo: "Save & test" and feature detection.
    let r = http()
        .get(format!("{base}/api/echo"))
        .header("User-Agent", USER_AGENT)
        .send()
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().unwrap()),
        (200, "echo".to_string())
    );
    let (st, v) = call(&base, "GET", "/api/status/buildinfo", &[], None);
    assert_eq!(st, 200);
    assert!(v["version"].as_str().unwrap().starts_with("2."), "{v}");

    // Tempo: the search editor's tags and values.
    let (_, v) = call(
        &base,
        "GET",
        "/api/v2/search/tags",
        &[&range[..], &[("scope", "resource")]].concat(),
        None,
    );
    assert_eq!(
        v["scopes"],
        json!([{"name": "resource", "tags": ["service.name"]}])
    );
    let (_, v) = call(
        &base,
        "GET",
        "/api/v2/search/tag/resource.service.name/values",
        &range,
        None,
    );
    assert_eq!(v["tagValues"], json!([{"type": "string", "value": "shop"}]));
    let (_, v) = call(&base, "GET", "/api/v2/search/tag/name/values", &range, None);
    assert_eq!(
        v["tagValues"],
        json!([{"type": "string", "value": "GET /cart"}, {"type": "string", "value": "SELECT"}])
    );
    let (_, v) = call(&base, "GET", "/api/search/tags", &[], None);
    assert_eq!(
        v["tagNames"],
        json!(["http.status_code", "peer.service", "service.name"])
    );

    // Tempo: TraceQL search, as the query editor sends it.
    let q = [
        &range[..],
        &[
            (
                "q",
                r#"{ resource.service.name = "shop" && status = error }"#,
            ),
            ("limit", "20"),
            ("spss", "3"),
        ],
    ]
    .concat();
    let (st, v) = call(&base, "GET", "/api/search", &q, None);
    assert_eq!(st, 200, "{v}");
    let t = &v["traces"][0];
    assert_eq!(t["traceID"], TRACE);
    assert_eq!(t["rootServiceName"], "shop");
    assert_eq!(t["rootTraceName"], "GET /cart");
    assert_eq!(t["durationMs"], 50);
    assert_eq!(t["startTimeUnixNano"], t0.to_string());
    assert_eq!(t["spanSets"][0]["matched"], 1);
    assert_eq!(t["spanSets"][0]["spans"][0]["spanID"], "00000000000000a2");
    assert_eq!(t["spanSets"][0]["spans"][0]["durationNanos"], "20000000");
    // Grafana's dashboard search on the same path still answers.
    let (st, v) = call(
        &base,
        "GET",
        "/api/search",
        &[("query", ""), ("type", "dash-db")],
        None,
    );
    assert_eq!(st, 200);
    assert!(v.is_array(), "the dashboard search: {v}");

    // Tempo: trace by id, v2, protobuf (Grafana 11+).
    let r = http()
        .get(format!("{base}/api/v2/traces/{TRACE}"))
        .header("User-Agent", USER_AGENT)
        .header("Accept", "application/protobuf")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.bytes().unwrap();
    // TraceByIDResponse { Trace trace = 1 }: field 1, then the Trace
    // message, wire-identical to TracesData.
    assert_eq!(body[0], 0x0a);
    let mut i = 1;
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let b = body[i];
        len |= ((b & 0x7f) as usize) << shift;
        shift += 7;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
    }
    let td = TracesData::decode(&body[i..i + len]).unwrap();
    let spans: Vec<_> = td
        .resource_spans
        .iter()
        .flat_map(|r| r.scope_spans.iter().flat_map(|s| s.spans.iter()))
        .collect();
    assert_eq!(spans.len(), 2);
    let select = spans.iter().find(|s| s.name == "SELECT").unwrap();
    assert_eq!(select.parent_span_id, vec![0, 0, 0, 0, 0, 0, 0, 0xa1]);
    assert_eq!(select.status.as_ref().unwrap().code, 2);
    assert_eq!(
        select.end_time_unix_nano - select.start_time_unix_nano,
        20_000_000
    );

    // Tempo: TraceQL metrics (the metrics query editor).
    let step_q = [
        &range[..],
        &[
            ("q", "{ } | rate() by (span.peer.service)"),
            ("step", "60s"),
        ],
    ]
    .concat();
    let (st, v) = call(&base, "GET", "/api/metrics/query_range", &step_q, None);
    assert_eq!(st, 200, "{v}");
    let total: f64 = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["samples"].as_array().unwrap().iter())
        .map(|p| p["value"].as_f64().unwrap() * 60.0)
        .sum();
    assert!(
        (total - 2.0).abs() < 1e-9,
        "two spans at a per-second rate over 60 s steps: {v}"
    );

    // Jaeger data source (URL http://host:port/jaeger).
    let (_, v) = call(&base, "GET", "/jaeger/api/services", &[], None);
    assert_eq!(v["data"], json!(["shop"]));
    let (_, v) = call(
        &base,
        "GET",
        "/jaeger/api/services/shop/operations",
        &[],
        None,
    );
    assert_eq!(v["data"], json!(["GET /cart", "SELECT"]));
    let us = |s: i64| (s * 1_000_000).to_string();
    let (s_us, e_us) = (us(now_s - 600), us(now_s + 60));
    let (_, v) = call(
        &base,
        "GET",
        "/jaeger/api/traces",
        &[
            ("service", "shop"),
            ("operation", "SELECT"),
            ("start", &s_us),
            ("end", &e_us),
            ("limit", "20"),
            ("tags", r#"{"error":"true"}"#),
        ],
        None,
    );
    assert_eq!(v["data"][0]["traceID"], TRACE, "{v}");
    let (_, v) = call(
        &base,
        "GET",
        &format!("/jaeger/api/traces/{TRACE}"),
        &[],
        None,
    );
    let spans = v["data"][0]["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(
        spans[1]["references"],
        json!([{"refType": "CHILD_OF", "traceID": TRACE, "spanID": "00000000000000a1"}])
    );
    assert_eq!(spans[1]["duration"], 20_000);
    assert_eq!(v["data"][0]["processes"]["p1"]["serviceName"], "shop");
    let (_, v) = call(
        &base,
        "GET",
        "/jaeger/api/dependencies",
        &[
            ("endTs", &((now_s + 60) * 1000).to_string()),
            ("lookback", "3600000"),
        ],
        None,
    );
    assert_eq!(
        v["data"],
        json!([{"parent": "shop", "child": "db", "callCount": 1}])
    );

    // Zipkin data source.
    let (_, v) = call(&base, "GET", "/api/v2/services", &[], None);
    assert_eq!(v, json!(["shop"]));
    let (_, v) = call(
        &base,
        "GET",
        "/api/v2/spans",
        &[("serviceName", "shop")],
        None,
    );
    assert_eq!(v, json!(["get /cart", "select"]));
    let end_ms = ((now_s + 60) * 1000).to_string();
    let (_, v) = call(
        &base,
        "GET",
        "/api/v2/traces",
        &[
            ("serviceName", "shop"),
            ("annotationQuery", "error"),
            ("endTs", &end_ms),
            ("lookback", "3600000"),
            ("limit", "10"),
        ],
        None,
    );
    assert_eq!(v[0][0]["traceId"], TRACE, "{v}");
    let (_, v) = call(&base, "GET", &format!("/api/v2/trace/{TRACE}"), &[], None);
    assert_eq!(v[1]["remoteEndpoint"], json!({"serviceName": "db"}));
    assert_eq!(v[1]["tags"]["error"], "timeout");

    // Span metrics appear once the generator has collected (15 s).
    let q = format!("{base}/api/v1/query?query=traces_service_graph_request_failed_total");
    let got = eventually(Duration::from_secs(40), || {
        let v: Value = http().get(&q).send().ok()?.json().ok()?;
        let r = v["data"]["result"].as_array()?.clone();
        (!r.is_empty()).then_some(r)
    })
    .unwrap_or_else(|| panic!("no service graph series: {}", server.log()));
    assert_eq!(got[0]["metric"]["client"], "shop");
    assert_eq!(got[0]["metric"]["server"], "db");
    assert_eq!(got[0]["value"][1], "1");
    server.stop();
}

/// Grafana's Tempo data source with "Streaming" on for search: gRPC
/// `tempopb.StreamingQuerier/Search` over HTTP/2 without TLS on the HTTP
/// port, the tenant in `x-scope-orgid`. The request and answer messages
/// carry the field numbers of Tempo's `tempo.proto`.
#[test]
fn issue_16_grafana_tempo_streaming_search() {
    use sightline_api::tempo::grpc::{SearchRequest, SearchResponse, SEARCH_PATH};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--otlp.grpc.listen", "0"]);
    let base = server.url();
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let t0 = (now_s - 120) * 1_000_000_000;
    let (st, _) = post_json(&base, "/v1/traces", &otlp(t0));
    assert_eq!(st, 200, "{}", server.log());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let search = |req: SearchRequest, tenant: Option<&'static str>| {
        let base = base.clone();
        rt.block_on(async move {
            let channel = tonic::transport::Endpoint::from_shared(base)
                .unwrap()
                .connect()
                .await
                .expect("an HTTP/2 connection to the HTTP port");
            let mut grpc = tonic::client::Grpc::new(channel);
            grpc.ready().await.unwrap();
            let mut r = tonic::Request::new(req);
            if let Some(t) = tenant {
                r.metadata_mut().insert("x-scope-orgid", t.parse().unwrap());
            }
            let codec = tonic::codec::ProstCodec::<SearchRequest, SearchResponse>::default();
            let path = tonic::codegen::http::uri::PathAndQuery::from_static(SEARCH_PATH);
            // The status as (code, message): small enough to return.
            let err = |s: tonic::Status| (s.code(), s.message().to_owned());
            let mut stream = grpc
                .server_streaming(r, path, codec)
                .await
                .map_err(err)?
                .into_inner();
            let mut msgs = Vec::new();
            while let Some(m) = stream.message().await.map_err(err)? {
                msgs.push(m);
            }
            Ok(msgs)
        })
    };
    let req = SearchRequest {
        query: r#"{ resource.service.name = "shop" && status = error }"#.into(),
        start: (now_s - 600) as u32,
        end: (now_s + 60) as u32,
        limit: 20,
        spans_per_span_set: 3,
        ..Default::default()
    };
    let msgs = search(req.clone(), None).expect("the search streams");
    assert_eq!(msgs.len(), 1, "one message holding every trace");
    let t = &msgs[0].traces[0];
    assert_eq!(msgs[0].traces.len(), 1);
    assert_eq!(t.trace_id, TRACE);
    assert_eq!(t.root_service_name, "shop");
    assert_eq!(t.root_trace_name, "GET /cart");
    assert_eq!(t.duration_ms, 50);
    assert_eq!(t.start_time_unix_nano, t0 as u64);
    let set = &t.span_sets[0];
    assert_eq!(set.matched, 1);
    assert_eq!(set.spans[0].span_id, "00000000000000a2");
    assert_eq!(set.spans[0].name, "SELECT");
    assert_eq!(set.spans[0].duration_nanos, 20_000_000);
    assert_eq!(
        t.span_set.as_ref(),
        Some(set),
        "the deprecated first spanset"
    );
    assert_eq!(msgs[0].metrics.as_ref().unwrap().inspected_traces, 1);

    // The older tag form, with a duration bound in milliseconds.
    let mut tags = req.clone();
    tags.query.clear();
    tags.tags.insert("peer.service".into(), "db".into());
    tags.min_duration_ms = 15;
    let msgs = search(tags.clone(), None).unwrap();
    assert_eq!(msgs[0].traces.len(), 1);
    tags.min_duration_ms = 25;
    assert!(search(tags, None).unwrap()[0].traces.is_empty());

    // Another tenant sees nothing; a bad query is INVALID_ARGUMENT naming
    // the problem; the plain HTTP API still answers on the same port.
    assert!(search(req.clone(), Some("other")).unwrap()[0]
        .traces
        .is_empty());
    let mut bad = req.clone();
    bad.query = "{ .a = }".into();
    let (code, msg) = search(bad, None).unwrap_err();
    assert_eq!(code, tonic::Code::InvalidArgument, "{msg}");
    assert!(!msg.is_empty());
    let r = http().get(format!("{base}/api/echo")).send().unwrap();
    assert_eq!(r.text().unwrap(), "echo");
    // Serving gRPC adds no catch-all: an unknown path is still a 404.
    let r = http().get(format!("{base}/no/such/path")).send().unwrap();
    assert_eq!(r.status().as_u16(), 404);
}
