//! The OTLP/HTTP endpoint through `Router::oneshot` (issue 12).

use super::*;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use prost::Message;
use sightline_core::{Labels, Matcher, MemStore, MetricQuerier};
use sightline_ingest::otlp::proto::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use sightline_ingest::otlp::proto::metrics::v1::{
    metric::Data, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use sightline_ingest::otlp::OtlpConfig;
use std::io::Write;
use tower::ServiceExt;

fn setup() -> (Router, MemStore) {
    let store = MemStore::new();
    let state = OtlpState {
        receiver: Arc::new(Receiver::new(OtlpConfig::default(), 300_000)),
        store: Arc::new(store.clone()),
        counters: Arc::new(OtlpCounters::default()),
        tenancy: Default::default(),
    };
    (router(state), store)
}

fn gauge_request(name: &str, t_ms: u64, v: f64) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: name.into(),
                    data: Some(Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint {
                            time_unix_nano: t_ms * 1_000_000,
                            value: Some(number_data_point::Value::AsDouble(v)),
                            ..Default::default()
                        }],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

async fn post(
    app: &Router,
    path: &str,
    ct: &str,
    ce: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, String, Vec<u8>) {
    let mut b = Request::post(path).header("content-type", ct);
    if let Some(ce) = ce {
        b = b.header("content-encoding", ce);
    }
    let resp = app
        .clone()
        .oneshot(b.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, ct, body)
}

fn values(store: &MemStore, name: &str) -> Vec<(i64, f64)> {
    let m = [Matcher::equal("__name__", name)];
    store
        .select(&sightline_core::QueryContext::new(), i64::MIN, i64::MAX, &m)
        .unwrap()
        .into_vec()
        .unwrap()
        .into_iter()
        .flat_map(|s| s.samples.map(|x| (x.t, x.v)).collect::<Vec<_>>())
        .collect()
}

#[tokio::test]
async fn protobuf_gzip_and_json_on_both_paths() {
    let (app, store) = setup();
    let body = gauge_request("a.b", 1000, 1.5).encode_to_vec();
    let (st, ct, resp) = post(&app, "/v1/metrics", "application/x-protobuf", None, body).await;
    assert_eq!(
        (st, ct.as_str()),
        (StatusCode::OK, "application/x-protobuf")
    );
    let r = ExportMetricsServiceResponse::decode(&resp[..]).unwrap();
    assert_eq!(r.partial_success, None);

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&gauge_request("a.b", 2000, 2.5).encode_to_vec())
        .unwrap();
    let (st, _, _) = post(
        &app,
        "/api/v1/otlp/v1/metrics",
        "application/x-protobuf",
        Some("gzip"),
        gz.finish().unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    let json = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"a.b",
        "gauge":{"dataPoints":[{"timeUnixNano":"3000000000","asInt":"7"}]}}]}]}]}"#;
    let (st, ct, resp) = post(&app, "/v1/metrics", "application/json", None, json.to_vec()).await;
    assert_eq!(
        (st, ct.as_str(), &resp[..]),
        (StatusCode::OK, "application/json", &b"{}"[..])
    );
    assert_eq!(
        values(&store, "a_b"),
        [(1000, 1.5), (2000, 2.5), (3000, 7.0)]
    );
}

/// issue 12: malformed bodies are refused with a Status naming the
/// problem, and nothing is stored.
#[tokio::test]
async fn malformed_bodies_store_nothing() {
    let (app, store) = setup();
    let (st, ct, resp) = post(
        &app,
        "/v1/metrics",
        "application/x-protobuf",
        None,
        b"\x0a\xff".to_vec(),
    )
    .await;
    assert_eq!(
        (st, ct.as_str()),
        (StatusCode::BAD_REQUEST, "application/x-protobuf")
    );
    let s = otlp_http::Status::decode(&resp[..]).unwrap();
    assert_eq!(s.code, 3);
    assert!(s.message.starts_with("decoding opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest protobuf"), "{}", s.message);

    let bad = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
        {"name":"ok","gauge":{"dataPoints":[{"timeUnixNano":"1","asDouble":1}]}},
        {"name":"bad","gauge":{"dataPoints":[{"timeUnixNano":"x"}]}}]}]}]}"#;
    let (st, _, resp) = post(&app, "/v1/metrics", "application/json", None, bad.to_vec()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let j: serde_json::Value = serde_json::from_slice(&resp).unwrap();
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("metrics[1].gauge.dataPoints[0].timeUnixNano: expected an integer"),
        "{j}"
    );

    let (st, _, _) = post(&app, "/v1/metrics", "text/plain", None, b"x".to_vec()).await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (st, _, _) = post(
        &app,
        "/v1/metrics",
        "application/json",
        Some("zstd"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(store.series_count(), 0);
}

#[tokio::test]
async fn refused_points_are_a_partial_success() {
    let (app, store) = setup();
    let mut req = gauge_request("ok", 1000, 1.0);
    req.resource_metrics[0].scope_metrics[0]
        .metrics
        .push(Metric {
            name: "...".into(),
            data: gauge_request("x", 1000, 1.0).resource_metrics[0].scope_metrics[0].metrics[0]
                .data
                .clone(),
            ..Default::default()
        });
    let (st, _, resp) = post(&app, "/v1/metrics", "application/json", None, json_of(&req)).await;
    assert_eq!(st, StatusCode::OK);
    let j: serde_json::Value = serde_json::from_slice(&resp).unwrap();
    assert_eq!(j["partialSuccess"]["rejectedDataPoints"], "1");
    assert!(j["partialSuccess"]["errorMessage"]
        .as_str()
        .unwrap()
        .contains("metric name \"...\""));
    assert_eq!(values(&store, "ok"), [(1000, 1.0)]);
    let _ = Labels::empty();
}

/// The JSON of a gauge-only request, written by hand.
fn json_of(req: &ExportMetricsServiceRequest) -> Vec<u8> {
    let metrics: Vec<serde_json::Value> = req.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .map(|m| {
            let Some(Data::Gauge(g)) = &m.data else {
                unreachable!()
            };
            let p = &g.data_points[0];
            let Some(number_data_point::Value::AsDouble(v)) = p.value else {
                unreachable!()
            };
            serde_json::json!({"name": m.name, "gauge": {"dataPoints": [
                {"timeUnixNano": p.time_unix_nano.to_string(), "asDouble": v}]}})
        })
        .collect();
    serde_json::json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": metrics}]}]})
        .to_string()
        .into_bytes()
}
