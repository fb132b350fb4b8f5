//! OTLP metrics from the real OpenTelemetry Python SDK (issue 12): a
//! counter, an up-down counter, a gauge, a histogram and an exponential
//! histogram, exported with delta and with cumulative temporality over
//! OTLP/HTTP (gzip) and OTLP/gRPC (gzip) to a running `sightline serve`,
//! then read back through `/api/v1/query`.
//!
//! Expected names follow the OTel specification's Prometheus mapping as
//! Prometheus 3 applies it, worked out by hand: `shop.orders` with unit
//! `{orders}` is a monotonic sum, so `shop_orders_total` (the annotation
//! adds nothing); `shop.queue.size` (up-down) is a gauge `shop_queue_size`;
//! `shop.temperature` in `Cel` is `shop_temperature_celsius`;
//! `shop.request.duration` in `s` gives `shop_request_duration_seconds_*`.
//! Values are the script's two rounds added up (see export_metrics.py).
//!
//! Needs `pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http
//! opentelemetry-exporter-otlp-proto-grpc`; without them the test is skipped
//! with a message, and fails under CI=true.

mod common;

use common::{free_port, http, Server};
use std::process::Command;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/otlp_sdk/export_metrics.py"
);

fn sdk_available() -> bool {
    let ok = Command::new("python3")
        .args([
            "-c",
            "import opentelemetry.sdk.metrics, opentelemetry.exporter.otlp.proto.http.metric_exporter, opentelemetry.exporter.otlp.proto.grpc.metric_exporter",
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        sightline_testkit::skip("the OpenTelemetry Python SDK is not installed (pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http opentelemetry-exporter-otlp-proto-grpc; .ci/run installs it)");
    }
    ok
}

/// The instant query's result as (labels, value) pairs.
fn query(server: &Server, q: &str) -> Vec<(serde_json::Value, f64)> {
    let r: serde_json::Value = http()
        .get(format!("{}/api/v1/query", server.url()))
        .query(&[("query", q)])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(r["status"], "success", "{q}: {r}");
    r["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["metric"].clone(),
                s["value"][1].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

fn one(server: &Server, q: &str) -> f64 {
    let r = query(server, q);
    assert_eq!(r.len(), 1, "{q}: {r:?}\nlog:\n{}", server.log());
    r[0].1
}

#[test]
fn python_sdk_exports_over_http_and_grpc() {
    if !sdk_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let grpc_port = free_port();
    let server = Server::start(
        &dir.path().join("data"),
        &["--otlp.grpc.listen", &format!("127.0.0.1:{grpc_port}")],
    );
    let runs = [
        ("http", "cumulative", format!("{}/v1/metrics", server.url())),
        (
            "http",
            "delta",
            format!("{}/api/v1/otlp/v1/metrics", server.url()),
        ),
        (
            "grpc",
            "cumulative",
            format!("http://127.0.0.1:{grpc_port}"),
        ),
        ("grpc", "delta", format!("http://127.0.0.1:{grpc_port}")),
    ];
    for (protocol, temporality, endpoint) in &runs {
        let service = format!("shop-{protocol}-{temporality}");
        let out = Command::new("python3")
            .args([SCRIPT, protocol, temporality, endpoint, &service])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{service}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            server.log()
        );
    }
    for (protocol, temporality, _) in &runs {
        let job = format!("test/shop-{protocol}-{temporality}");
        let sel = format!("job=\"{job}\",instance=\"inst-1\"");
        let what = format!("{protocol}/{temporality}");
        // Counter: 3 + 4, with its attribute as a label.
        assert_eq!(
            one(
                &server,
                &format!("shop_orders_total{{{sel},method=\"card\"}}")
            ),
            7.0,
            "{what}"
        );
        // Up-down counter: 5 - 2, a gauge without _total.
        assert_eq!(
            one(&server, &format!("shop_queue_size{{{sel}}}")),
            3.0,
            "{what}"
        );
        assert_eq!(
            one(&server, &format!("shop_temperature_celsius{{{sel}}}")),
            22.5,
            "{what}"
        );
        // Histogram: 0.05 0.3 0.7 2.0 0.2 in buckets [0.1, 0.5, 1].
        let h = "shop_request_duration_seconds";
        assert_eq!(one(&server, &format!("{h}_count{{{sel}}}")), 5.0, "{what}");
        assert!(
            (one(&server, &format!("{h}_sum{{{sel}}}")) - 3.25).abs() < 1e-9,
            "{what}"
        );
        // Exponential histogram: 100 200 400 then 800 bytes, a native
        // histogram: 4 observations summing to 1500; 256 = 2^8 is a bucket
        // boundary at every scale >= 0, so exactly 2 of 4 lie below it.
        let x = "shop_payload_size_bytes";
        assert_eq!(
            one(&server, &format!("histogram_count({x}{{{sel}}})")),
            4.0,
            "{what}"
        );
        assert_eq!(
            one(&server, &format!("histogram_sum({x}{{{sel}}})")),
            1500.0,
            "{what}"
        );
        assert!(
            (one(
                &server,
                &format!("histogram_fraction(0, 256, {x}{{{sel}}})")
            ) - 0.5)
                .abs()
                < 1e-9,
            "{what}"
        );
        for (le, n) in [("0.1", 1.0), ("0.5", 3.0), ("1", 4.0), ("+Inf", 5.0)] {
            assert_eq!(
                one(&server, &format!("{h}_bucket{{{sel},le=\"{le}\"}}")),
                n,
                "{what} le={le}"
            );
        }
        // target_info: the resource's other attributes, service.* only as
        // job and instance.
        let info = query(&server, &format!("target_info{{{sel}}}"));
        assert_eq!(info.len(), 1, "{what}: {info:?}");
        let (labels, v) = &info[0];
        assert_eq!(*v, 1.0);
        assert_eq!(labels["deployment_environment"], "ci", "{labels}");
        assert_eq!(labels["telemetry_sdk_language"], "python", "{labels}");
        assert!(labels.get("service_name").is_none(), "{labels}");
    }
    // Every run's points reached the receiver.
    let metrics = common::get_text(&format!("{}/metrics", server.url()));
    let points: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sightline_otlp_data_points_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(points >= 4.0 * 2.0 * 5.0, "{metrics}");
    server.stop();
}
