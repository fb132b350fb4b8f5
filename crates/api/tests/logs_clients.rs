//! Real log clients against the push and OTLP logs routes (issue 15),
//! served on a socket by an axum server in the test with a `MemLogStore`
//! behind: python-logging-loki (JSON, both API versions), a protobuf push
//! made with requests + protobuf + python-snappy, and the OpenTelemetry
//! Python SDK's OTLP log exporters over HTTP and gRPC. Expected lines,
//! labels and metadata are written by hand from what each script sends.
//!
//! Needs `pip install python-logging-loki python-snappy requests protobuf
//! opentelemetry-sdk opentelemetry-exporter-otlp-proto-http
//! opentelemetry-exporter-otlp-proto-grpc`; a missing one is a skip, and a
//! failure under CI=true.

use sightline_api::loki::push::push_routes;
use sightline_api::otlp::logs::{logs_router, OtlpLogsState};
use sightline_api::otlp::{OtlpCounters, OtlpState};
use sightline_core::logs::{LogEntry, LogHints, LogQuerier, MemLogStore};
use sightline_core::{Labels, Matcher, MemStore};
use sightline_ingest::loki::PushLimits;
use sightline_ingest::otlp::{OtlpConfig, Receiver};
use std::process::Command;
use std::sync::Arc;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/logs_clients");

/// Whether Python can import `modules`; a skip otherwise.
fn python_has(modules: &str, install: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        sightline_testkit::skip(&format!(
            "Python modules {modules} are missing (pip install {install}; .ci/run installs them)"
        ));
    }
    ok
}

/// Runs a script off the async workers (the server runs on them); its stdout.
async fn run(script: &str, args: Vec<String>) -> String {
    let path = format!("{DIR}/{script}");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(&path)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Served {
    store: Arc<MemLogStore>,
    url: String,
    grpc: String,
}

async fn serve() -> Served {
    let store = Arc::new(MemLogStore::new());
    let app =
        push_routes(store.clone(), PushLimits::default(), Default::default()).merge(logs_router(
            OtlpLogsState::new(store.clone(), PushLimits::default(), Default::default()),
        ));
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", http.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(http, app).await.unwrap() });
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let grpc_url = format!("http://{}", grpc.local_addr().unwrap());
    let metrics = OtlpState {
        receiver: Arc::new(Receiver::new(OtlpConfig::default(), 300_000)),
        store: Arc::new(MemStore::new()),
        counters: Arc::new(OtlpCounters::default()),
        tenancy: Default::default(),
    };
    let logs = OtlpLogsState::new(store.clone(), PushLimits::default(), Default::default());
    tokio::spawn(sightline_api::otlp::grpc::serve_with_logs(
        grpc,
        metrics,
        Some(logs),
        std::future::pending(),
    ));
    Served {
        store,
        url,
        grpc: grpc_url,
    }
}

/// Every stream matching `m` for `tenant`, with its lines.
fn select(store: &MemLogStore, tenant: &str, m: &[Matcher]) -> Vec<(Labels, Vec<LogEntry>)> {
    store
        .select(tenant, m, 0, i64::MAX, &LogHints::default())
        .unwrap()
        .into_iter()
        .map(|s| (s.labels, s.entries.map(|e| e.unwrap()).collect()))
        .collect()
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_logging_loki_pushes_json() {
    if !python_has("logging_loki", "python-logging-loki") {
        return;
    }
    let s = serve().await;
    run("loki_logging.py", vec![s.url.clone()]).await;
    for api in ["v1", "v0"] {
        let got = select(&s.store, "fake", &[Matcher::equal("api", api)]);
        let mut seen: Vec<(String, String)> = got
            .iter()
            .flat_map(|(l, e)| e.iter().map(move |e| (l.to_string(), e.line.clone())))
            .collect();
        seen.sort();
        // The handler's labels: its tags, `severity` (the level's name) and
        // `logger`; `extra={"tags": ...}` adds labels to that line.
        assert_eq!(
            seen,
            [
                (
                    format!("{{api=\"{api}\", application=\"shop\", logger=\"checkout-{api}\", reason=\"cvc\", severity=\"warning\"}}"),
                    "card declined".to_owned()
                ),
                (
                    format!("{{api=\"{api}\", application=\"shop\", logger=\"checkout-{api}\", severity=\"info\"}}"),
                    "order placed".to_owned()
                ),
            ],
            "{api}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_push_with_snappy() {
    if !python_has(
        "requests, snappy, google.protobuf",
        "requests python-snappy protobuf",
    ) {
        return;
    }
    let s = serve().await;
    let now = now_ns();
    let out = run("loki_protobuf.py", vec![s.url.clone(), now.to_string()]).await;
    let answers: Vec<(u16, String)> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers[0], (204, String::new()));
    let many: Vec<String> = (0..16).map(|i| format!("l{i:02}=\"v\"")).collect();
    assert_eq!(
        answers[1],
        (
            400,
            format!(
                "entry for stream '{{{}}}' has 16 label names; limit 15\n",
                many.join(", ")
            )
        )
    );
    let got = select(&s.store, "fake", &[Matcher::equal("job", "proto")]);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].0,
        Labels::from_pairs([("env", "prod"), ("job", "proto")])
    );
    assert_eq!(
        got[0].1,
        [
            LogEntry {
                ts_ns: now,
                line: "first line".into(),
                metadata: vec![("trace_id".into(), "0af7651916cd43dd8448eb211c80319c".into())],
            },
            LogEntry {
                ts_ns: now + 1,
                line: "second line".into(),
                metadata: vec![],
            },
        ]
    );
    // The second push: the valid stream of tenant team-a was written.
    let got = select(&s.store, "team-a", &[Matcher::equal("job", "proto")]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1[0].line, "kept");
}

fn meta<'a>(e: &'a LogEntry, name: &str) -> Option<&'a str> {
    e.metadata
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentelemetry_sdk_exports_over_http_and_grpc() {
    if !python_has(
        "opentelemetry.sdk._logs, opentelemetry.exporter.otlp.proto.http._log_exporter, opentelemetry.exporter.otlp.proto.grpc._log_exporter",
        "opentelemetry-sdk opentelemetry-exporter-otlp-proto-http opentelemetry-exporter-otlp-proto-grpc",
    ) {
        return;
    }
    let s = serve().await;
    for (protocol, endpoint) in [
        ("http", format!("{}/v1/logs", s.url)),
        ("grpc", s.grpc.clone()),
    ] {
        let service = format!("shop-{protocol}");
        let out = run(
            "otlp_logs.py",
            vec![protocol.into(), endpoint, service.clone()],
        )
        .await;
        let ids: Vec<&str> = out.split_whitespace().collect();
        let got = select(
            &s.store,
            "fake",
            &[Matcher::equal("service_name", &service)],
        );
        assert_eq!(got.len(), 1, "{protocol}: {got:?}");
        // service.name, service.instance.id and deployment.environment
        // are index labels; host.name is not.
        assert_eq!(
            got[0].0,
            Labels::from_pairs([
                ("deployment_environment", "test"),
                ("service_instance_id", "inst-1"),
                ("service_name", service.as_str())
            ]),
            "{protocol}"
        );
        let mut lines = got[0].1.clone();
        lines.sort_by(|a, b| a.line.cmp(&b.line));
        assert_eq!(
            lines.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(),
            ["order placed", "payment failed"],
            "{protocol}"
        );
        let warn = &lines[1];
        // logging.WARNING is OTel severity 13 (WARN); INFO is 9.
        assert_eq!(meta(warn, "severity_number"), Some("13"), "{protocol}");
        assert_eq!(meta(warn, "detected_level"), Some("warn"));
        assert_eq!(meta(warn, "order_id"), Some("o-1"));
        assert_eq!(meta(warn, "host_name"), Some("h1"));
        assert_eq!(meta(warn, "scope_name"), Some("shop.checkout"));
        assert_eq!(meta(warn, "trace_id"), Some(ids[0]), "{protocol}");
        assert_eq!(meta(warn, "span_id"), Some(ids[1]), "{protocol}");
        assert_eq!(meta(&lines[0], "severity_number"), Some("9"));
        assert_eq!(meta(&lines[0], "trace_id"), None);
    }
}
