//! The live shop, started on free ports with a fake OTLP receiver.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use tokio_util::sync::CancellationToken;

use super::*;

#[derive(Default)]
struct Received {
    traces: Vec<ExportTraceServiceRequest>,
    logs: Vec<ExportLogsServiceRequest>,
}

/// A fake OTLP/HTTP receiver: decodes and keeps what it gets.
async fn fake_otlp(cancel: CancellationToken) -> (String, Arc<Mutex<Received>>) {
    let got = Arc::new(Mutex::new(Received::default()));
    let (g1, g2) = (got.clone(), got.clone());
    let app = Router::new()
        .route(
            "/v1/traces",
            post(move |b: Bytes| async move {
                g1.lock()
                    .unwrap()
                    .traces
                    .push(ExportTraceServiceRequest::decode(b).unwrap());
            }),
        )
        .route(
            "/v1/logs",
            post(move |b: Bytes| async move {
                g2.lock()
                    .unwrap()
                    .logs
                    .push(ExportLogsServiceRequest::decode(b).unwrap());
            }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(l, app)
            .with_graceful_shutdown(cancel.cancelled_owned())
            .await
            .unwrap();
    });
    (format!("http://{addr}"), got)
}

struct Shop {
    handle: ShopHandle,
    cancel: CancellationToken,
    got: Arc<Mutex<Received>>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Shop {
    async fn start(rps: f64) -> Shop {
        let cancel = CancellationToken::new();
        // The receiver outlives the shop, to get what the shutdown flushes.
        let (otlp, got) = fake_otlp(CancellationToken::new()).await;
        let dir = tempfile::tempdir().unwrap();
        let cfg = ShopConfig {
            control_port: 0,
            service_ports: [0; 4],
            otlp_endpoint: otlp,
            log_dir: dir.path().to_owned(),
            requests_per_second: rps,
            fault_schedule: false,
            seed: 7,
            ..ShopConfig::default()
        };
        let handle = start(cfg, cancel.clone()).await.unwrap();
        Shop {
            handle,
            cancel,
            got,
            dir,
            http: reqwest::Client::new(),
        }
    }

    fn addr(&self, service: &str) -> SocketAddr {
        self.handle.services()[service_index(service).unwrap()].addr
    }

    async fn get(&self, service: &str, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("http://{}{path}", self.addr(service)))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn checkout(&self) -> u16 {
        let r = self
            .http
            .post(format!("http://{}/checkout", self.addr("frontend")))
            .send()
            .await
            .unwrap();
        r.status().as_u16()
    }

    /// Cancels and waits, which flushes the exporters.
    async fn stop(self) -> (Arc<Mutex<Received>>, tempfile::TempDir) {
        self.cancel.cancel();
        tokio::time::timeout(Duration::from_secs(20), self.handle.stopped())
            .await
            .expect("the shop stops");
        (self.got, self.dir)
    }
}

/// The families of a text exposition with their types.
fn families(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| {
            let mut w = l.split(' ');
            (
                w.next().unwrap().to_owned(),
                w.next().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The value of the sample `name{labels}` (labels as written, in order).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .split(' ')
            .next()?
            .parse()
            .ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_answers_metrics_and_healthz() {
    let shop = Shop::start(0.0).await;
    assert_eq!(shop.checkout().await, 200);
    assert_eq!(shop.get("frontend", "/").await.0, 200);
    // An error, so that the frontend shows http_errors (families without
    // samples are left out, as prometheus-client does).
    shop.handle
        .faults()
        .set("frontend", Fault::Errors { ratio: 1.0 })
        .unwrap();
    assert_eq!(shop.get("frontend", "/").await.0, 500);
    shop.handle.faults().set("frontend", Fault::None).unwrap();
    for s in SERVICES {
        assert_eq!(
            shop.get(s, "/healthz").await,
            (200, "ok\n".to_owned()),
            "{s}"
        );
        let (status, text) = shop.get(s, "/metrics").await;
        assert_eq!(status, 200);
        let fams = families(&text);
        for (name, kind) in [
            ("http_requests", "counter"),
            ("http_request_duration_seconds", "histogram"),
            ("process_cpu_seconds", "counter"),
            ("process_resident_memory_bytes", "gauge"),
        ] {
            assert!(
                fams.contains(&(name.to_owned(), kind.to_owned())),
                "{s} lacks {name} {kind}:\n{text}"
            );
        }
        assert!(text.ends_with("# EOF\n"), "{s}");
    }
    let (_, text) = shop.get("frontend", "/metrics").await;
    assert!(families(&text).contains(&("http_errors".into(), "counter".into())));
    assert_eq!(
        sample(&text, r#"http_errors_total{method="GET",route="/"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"http_requests_total{method="POST",route="/checkout",status="200"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"http_request_duration_seconds_count{method="GET",route="/"}"#
        ),
        Some(2.0),
        "{text}"
    );
    // The bucket bounds as the history writes them (issue 17: backfilled and
    // live series must be the same series).
    assert!(
        text.contains(r#"{le="1.0",method="GET",route="/"}"#)
            && text.contains(r#"{le="0.005",method="GET",route="/"}"#),
        "{text}"
    );
    let (_, db) = shop.get("db", "/metrics").await;
    assert_eq!(
        sample(
            &db,
            r#"http_requests_total{method="POST",route="/query",status="200"}"#
        ),
        Some(2.0),
        "{db}"
    );
    shop.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_is_one_trace_across_four_services() {
    let shop = Shop::start(0.0).await;
    assert_eq!(shop.checkout().await, 200);
    // An error forces a log line (successes are sampled) to check its ids.
    shop.handle
        .faults()
        .set("payments", Fault::Errors { ratio: 1.0 })
        .unwrap();
    assert_eq!(shop.checkout().await, 502);
    let (got, dir) = shop.stop().await;
    let got = got.lock().unwrap();
    let mut spans = Vec::new();
    for req in &got.traces {
        for rs in &req.resource_spans {
            let svc = rs
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|a| a.key == "service.name"))
                .and_then(|a| a.value.as_ref())
                .map(|v| format!("{:?}", v.value))
                .unwrap_or_default();
            for ss in &rs.scope_spans {
                for s in &ss.spans {
                    spans.push((svc.clone(), s.clone()));
                }
            }
        }
    }
    // The first checkout: the trace whose root is the frontend's server span
    // with status 200.
    let roots: Vec<_> = spans
        .iter()
        .filter(|(_, s)| s.parent_span_id.is_empty())
        .collect();
    assert_eq!(roots.len(), 2, "two checkouts, two roots");
    let ok_trace = roots
        .iter()
        .find(|(_, s)| s.status.as_ref().is_none_or(|st| st.code != 2))
        .map(|(_, s)| s.trace_id.clone())
        .unwrap();
    let trace: Vec<_> = spans
        .iter()
        .filter(|(_, s)| s.trace_id == ok_trace)
        .collect();
    for svc in SERVICES {
        assert!(
            trace.iter().any(|(n, _)| n.contains(svc)),
            "no {svc} span in {trace:#?}"
        );
    }
    // frontend server + client, checkout server + 3 clients, payments, db x2.
    assert_eq!(trace.len(), 9, "{trace:#?}");
    for (_, s) in &trace {
        if !s.parent_span_id.is_empty() {
            assert!(
                trace.iter().any(|(_, p)| p.span_id == s.parent_span_id),
                "orphan span {}",
                s.name
            );
        }
    }
    let db_spans = trace
        .iter()
        .filter(|(n, s)| n.contains("db") && s.kind == 2)
        .count();
    assert_eq!(db_spans, 2);
    // The failed checkout's error spans, and its logs carry the trace ids.
    let err_trace = roots
        .iter()
        .find(|(_, s)| s.trace_id != ok_trace)
        .unwrap()
        .1
        .trace_id
        .clone();
    let errored = spans
        .iter()
        .filter(|(_, s)| {
            s.trace_id == err_trace && s.status.as_ref().is_some_and(|st| st.code == 2)
        })
        .count();
    assert!(
        errored >= 3,
        "payments, checkout's client and server, frontend: {errored}"
    );
    let log_ids: Vec<Vec<u8>> = got
        .logs
        .iter()
        .flat_map(|r| &r.resource_logs)
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .filter(|l| l.severity_text == "ERROR")
        .map(|l| l.trace_id.clone())
        .collect();
    assert!(
        log_ids.len() >= 3 && log_ids.iter().all(|t| *t == err_trace),
        "{log_ids:?}"
    );
    let hex: String = err_trace.iter().map(|b| format!("{b:02x}")).collect();
    let file = std::fs::read_to_string(dir.path().join("payments.log")).unwrap();
    let line: serde_json::Value = serde_json::from_str(file.lines().last().unwrap()).unwrap();
    for k in [
        "ts",
        "level",
        "service",
        "msg",
        "route",
        "status",
        "duration_ms",
        "trace_id",
        "span_id",
    ] {
        assert!(line.get(k).is_some(), "no {k} in {line}");
    }
    assert_eq!(line["trace_id"], hex.as_str());
    assert_eq!(line["status"], 500);
    assert_eq!(line["level"], "error");
    assert_eq!(line["service"], "payments");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_change_what_the_services_answer() {
    let shop = Shop::start(0.0).await;
    let faults = shop.handle.faults();
    faults
        .set("checkout", "errors 30%".parse().unwrap())
        .unwrap();
    const N: usize = 300;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..N {
        let (http, url) = (
            shop.http.clone(),
            format!("http://{}/orders", shop.addr("checkout")),
        );
        set.spawn(async move { http.post(url).send().await.unwrap().status().as_u16() });
    }
    let mut errors = 0;
    while let Some(s) = set.join_next().await {
        let s = s.unwrap();
        // Payments declines 2% of cards (402); its own rare failures are 502 here.
        assert!([200, 402, 500, 502].contains(&s), "{s}");
        errors += usize::from(s == 500);
    }
    let ratio = errors as f64 / N as f64;
    assert!((0.2..=0.4).contains(&ratio), "error ratio {ratio}");
    let (_, text) = shop.get("checkout", "/metrics").await;
    assert_eq!(
        sample(&text, r#"http_errors_total{method="POST",route="/orders"}"#),
        Some(
            errors as f64 + {
                sample(
                    &text,
                    r#"http_requests_total{method="POST",route="/orders",status="502"}"#,
                )
                .unwrap_or(0.0)
            }
        )
    );

    faults.set("db", Fault::Down).unwrap();
    assert_eq!(shop.get("db", "/healthz").await.0, 503);
    assert_eq!(shop.get("db", "/metrics").await.0, 503);
    assert_eq!(shop.get("frontend", "/products").await.0, 502);
    faults.set("db", Fault::None).unwrap();
    assert_eq!(shop.get("db", "/healthz").await.0, 200);
    assert_eq!(shop.get("frontend", "/products").await.0, 200);

    faults
        .set("payments", "slow 400ms".parse().unwrap())
        .unwrap();
    faults.set("checkout", Fault::None).unwrap();
    let t = std::time::Instant::now();
    let s = shop.checkout().await;
    assert!(
        t.elapsed() >= Duration::from_millis(400) && [200, 402].contains(&s),
        "{s} in {:?}",
        t.elapsed()
    );
    shop.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_server() {
    let shop = Shop::start(0.0).await;
    let base = format!("http://{}", shop.handle.control_addr());
    let http = &shop.http;
    let v: serde_json::Value = http
        .get(format!("{base}/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v,
        serde_json::json!({"frontend":"none","checkout":"none","payments":"none","db":"none"})
    );

    let r = http
        .put(format!("{base}/faults/checkout"))
        .body("errors 30%")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["checkout"], serde_json::json!({"errors":{"ratio":0.3}}));
    assert_eq!(
        shop.handle.faults().get()[1],
        ("checkout".to_owned(), Fault::Errors { ratio: 0.3 })
    );

    for (path, body, needle) in [
        ("/faults/cart", "down", "unknown service \"cart\""),
        ("/faults/db", "explode", "bad fault \"explode\""),
        ("/faults/db", "errors 150%", "between 0% and 100%"),
    ] {
        let r = http
            .put(format!("{base}{path}"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{path} {body}");
        let text = r.text().await.unwrap();
        assert!(text.contains(needle), "{text}");
    }
    assert_eq!(
        shop.handle.faults().get()[3].1,
        Fault::None,
        "bad input harms nothing"
    );

    let payload = |status: &str, name: &str| {
        serde_json::json!({
            "version": "4", "groupKey": "{}:{alertname=\"x\"}", "status": status, "receiver": "demo",
            "groupLabels": {"alertname": name}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://127.0.0.1:9090", "truncatedAlerts": 0,
            "alerts": [{"status": status, "labels": {"alertname": name, "job": "checkout"},
                "annotations": {"summary": "too many errors"}, "startsAt": "2026-12-07T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "abc"}]
        })
    };
    for (s, n) in [
        ("firing", "HighErrorRate"),
        ("resolved", "HighErrorRate"),
        ("firing", "ServiceDown"),
    ] {
        let r = http
            .post(format!("{base}/webhook"))
            .json(&payload(s, n))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let list: Vec<serde_json::Value> = http
        .get(format!("{base}/webhook"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(
        list[0]["groupLabels"]["alertname"], "ServiceDown",
        "newest first"
    );
    assert_eq!(list[1]["status"], "resolved");
    for bad in ["{", r#"{"version":"4"}"#, r#"{"version":"3","alerts":[]}"#] {
        let r = http
            .post(format!("{base}/webhook"))
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    let log = std::fs::read_to_string(shop.dir.path().join("alerts.log")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["msg"], "[FIRING] HighErrorRate: too many errors");
    assert_eq!(lines[1]["level"], "info");

    let page = http
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "frontend",
        "checkout",
        "payments",
        "db",
        "errors 30%",
        "ServiceDown",
    ] {
        assert!(page.contains(needle), "{needle} not in the page");
    }
    shop.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_generator_drives_the_frontend() {
    let shop = Shop::start(50.0).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, text) = shop.get("frontend", "/metrics").await;
    let total: f64 = text
        .lines()
        .filter(|l| l.starts_with("http_requests_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(
        (30.0..=100.0).contains(&total),
        "{total} requests in 1.5 s at 50/s:\n{text}"
    );
    shop.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_fails_start_with_the_address() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = ShopConfig {
        control_port: 0,
        service_ports: [0, 0, port, 0],
        log_dir: dir.path().to_owned(),
        requests_per_second: 0.0,
        ..ShopConfig::default()
    };
    let err = start(cfg, CancellationToken::new())
        .await
        .err()
        .expect("the port is taken");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}
