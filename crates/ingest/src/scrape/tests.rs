//! Scrape loops against a local HTTP server, storing into `MemStore`.

use super::*;
use crate::config::load_str;
use sightline_core::{is_stale_nan, MatchOp, Matcher, MemStore, MetricQuerier, Sample};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct Resp {
    status: u16,
    body: Vec<u8>,
    content_type: String,
    gzip: bool,
}

/// A tiny HTTP/1.1 server answering every request with the current `Resp`
/// and recording request heads.
struct TestServer {
    addr: SocketAddr,
    resp: Arc<Mutex<Resp>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl TestServer {
    async fn start(body: &str) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let resp = Arc::new(Mutex::new(Resp {
            status: 200,
            body: body.as_bytes().to_vec(),
            content_type: "text/plain; version=0.0.4".into(),
            gzip: false,
        }));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (r, q) = (resp.clone(), requests.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (r, q) = (r.clone(), q.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    q.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf).into_owned());
                    let resp = r.lock().unwrap().clone();
                    let body = if resp.gzip {
                        use std::io::Write;
                        let mut e =
                            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                        e.write_all(&resp.body).unwrap();
                        e.finish().unwrap()
                    } else {
                        resp.body.clone()
                    };
                    let mut head = format!(
                        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                        resp.status,
                        resp.content_type,
                        body.len()
                    );
                    if resp.gzip {
                        head.push_str("Content-Encoding: gzip\r\n");
                    }
                    head.push_str("\r\n");
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(&body).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        TestServer {
            addr,
            resp,
            requests,
        }
    }

    fn set_body(&self, body: &str) {
        self.resp.lock().unwrap().body = body.as_bytes().to_vec();
    }

    fn target(&self) -> String {
        self.addr.to_string()
    }
}

fn job_config(extra: &str, targets: &[String]) -> crate::config::PrometheusConfig {
    let list = targets
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        "scrape_configs:\n  - job_name: test\n    scrape_interval: 100ms\n    scrape_timeout: 80ms\n    static_configs: [{{targets: [{list}]}}]\n{extra}"
    );
    load_str(&text, "test.yml").unwrap()
}

struct Running {
    store: MemStore,
    manager: ScrapeManager,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<crate::Result<()>>,
}

impl Running {
    fn start(config: crate::config::PrometheusConfig) -> Running {
        let store = MemStore::new();
        let manager = ScrapeManager::with_file_poll(
            Arc::new(store.clone()),
            config,
            Duration::from_millis(50),
        );
        let shutdown = CancellationToken::new();
        let (m, s) = (manager.clone(), shutdown.clone());
        let task = tokio::spawn(async move { m.run(s).await });
        Running {
            store,
            manager,
            shutdown,
            task,
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("manager stops within 5s")
            .unwrap()
            .unwrap();
    }

    fn samples(&self, name: &str, extra: &[(&str, &str)]) -> Vec<Sample> {
        let mut m = vec![Matcher::new(MatchOp::Equal, "__name__", name).unwrap()];
        for (k, v) in extra {
            m.push(Matcher::new(MatchOp::Equal, *k, *v).unwrap());
        }
        self.store
            .select(&sightline_core::QueryContext::new(), i64::MIN, i64::MAX, &m)
            .unwrap()
            .into_vec()
            .unwrap()
            .into_iter()
            .flat_map(|s| s.samples)
            .collect()
    }

    fn last(&self, name: &str) -> Option<f64> {
        self.samples(name, &[]).last().map(|s| s.v)
    }

    /// Waits until `cond` holds, polling every 20ms for at most 5s.
    async fn wait_for(&self, what: &str, mut cond: impl FnMut(&Running) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !cond(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn target(&self) -> ActiveTarget {
        self.manager
            .targets(TargetState::Any, None)
            .active_targets
            .into_iter()
            .next()
            .expect("one active target")
    }
}

#[tokio::test]
async fn samples_are_stored_with_target_labels_and_a_report() {
    let srv = TestServer::start("# TYPE m counter\nm{code=\"200\"} 7\nm{code=\"500\"} 1\n").await;
    let r = Running::start(job_config("", &[srv.target()]));
    r.wait_for("up", |r| r.last("up") == Some(1.0)).await;
    let inst = srv.target();
    let labels = [
        ("code", "200"),
        ("instance", inst.as_str()),
        ("job", "test"),
    ];
    assert_eq!(r.samples("m", &labels).last().map(|s| s.v), Some(7.0));
    assert_eq!(r.last("scrape_samples_scraped"), Some(2.0));
    assert_eq!(r.last("scrape_samples_post_metric_relabeling"), Some(2.0));
    assert!(r.last("scrape_duration_seconds").unwrap() > 0.0);
    assert_eq!(r.samples("scrape_series_added", &[])[0].v, 2.0);
    // Every sample of one scrape shares the scrape's timestamp.
    let up_t = r.samples("up", &[]).first().unwrap().t;
    assert!(r
        .samples("m", &[("code", "200")])
        .iter()
        .any(|s| s.t == up_t));

    let req = srv.requests.lock().unwrap()[0].to_ascii_lowercase();
    assert!(req.starts_with("get /metrics http/1.1"), "{req}");
    assert!(
        req.contains("accept: application/vnd.google.protobuf;proto=io.prometheus.client.metricfamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,"),
        "{req}"
    );
    assert!(
        req.contains("x-prometheus-scrape-timeout-seconds: 0.08"),
        "{req}"
    );
    assert!(req.contains("user-agent: sightline/"), "{req}");
    assert!(req.contains("accept-encoding: gzip"), "{req}");

    let t = r.target();
    assert_eq!(t.health, "up");
    assert_eq!(t.last_error, "");
    assert_eq!(t.scrape_pool, "test");
    assert_eq!(t.scrape_url, format!("http://{inst}/metrics"));
    assert_eq!(t.scrape_interval, "100ms");
    assert_eq!(t.scrape_timeout, "80ms");
    assert!(t.last_scrape.ends_with('Z') && !t.last_scrape.starts_with("0001"));
    assert_eq!(
        t.labels.get("instance").map(String::as_str),
        Some(inst.as_str())
    );
    assert_eq!(
        t.discovered_labels.get("__address__").map(String::as_str),
        Some(inst.as_str())
    );
    let mut report = sightline_core::telemetry::Report::default();
    sightline_core::telemetry::Telemetry::report(&*r.manager.metrics(), &mut report);
    assert_eq!(report.value("sightline_scrape_pools"), Some(1.0));
    r.stop().await;
}

#[tokio::test]
async fn malformed_body_stores_nothing_and_reports_the_line() {
    let srv = TestServer::start("good 1\nbad{ 2\nalso_good 3\n").await;
    let r = Running::start(job_config("", &[srv.target()]));
    r.wait_for("up", |r| r.last("up").is_some()).await;
    assert_eq!(r.last("up"), Some(0.0));
    assert!(r.samples("good", &[]).is_empty());
    assert!(r.samples("also_good", &[]).is_empty());
    let t = r.target();
    assert_eq!(t.health, "down");
    assert!(t.last_error.contains("line 2"), "{}", t.last_error);
    r.stop().await;
}

#[tokio::test]
async fn disappearing_series_and_failed_scrapes_get_staleness_markers() {
    let srv = TestServer::start("a 1\nb 2\n").await;
    let r = Running::start(job_config("", &[srv.target()]));
    r.wait_for("b", |r| !r.samples("b", &[]).is_empty()).await;
    srv.set_body("a 1\n");
    r.wait_for("b stale", |r| {
        r.samples("b", &[])
            .last()
            .is_some_and(|s| is_stale_nan(s.v))
    })
    .await;
    assert!(!is_stale_nan(r.last("a").unwrap()));
    // A failed scrape marks everything of the last good one stale.
    srv.resp.lock().unwrap().status = 500;
    r.wait_for("a stale", |r| r.last("a").is_some_and(is_stale_nan))
        .await;
    let t = r.target();
    assert!(
        t.last_error.contains("server returned HTTP status 500"),
        "{}",
        t.last_error
    );
    assert_eq!(r.last("up"), Some(0.0));
    r.stop().await;
}

#[tokio::test]
async fn removed_jobs_get_staleness_markers_and_unchanged_jobs_keep_running() {
    let a = TestServer::start("from_a 1\n").await;
    let b = TestServer::start("from_b 1\n").await;
    let two = |extra_job: bool| {
        let mut text = format!(
            "scrape_configs:\n  - job_name: keep\n    scrape_interval: 100ms\n    scrape_timeout: 80ms\n    static_configs: [{{targets: ['{}']}}]\n",
            a.target()
        );
        if extra_job {
            text.push_str(&format!(
                "  - job_name: gone\n    scrape_interval: 100ms\n    scrape_timeout: 80ms\n    static_configs: [{{targets: ['{}']}}]\n",
                b.target()
            ));
        }
        load_str(&text, "t.yml").unwrap()
    };
    let r = Running::start(two(true));
    r.wait_for("both", |r| {
        r.last("from_a").is_some() && r.last("from_b").is_some()
    })
    .await;
    assert_eq!(r.manager.scrape_pools(), ["gone", "keep"]);
    r.manager.apply_config(two(false)).unwrap();
    assert_eq!(r.manager.scrape_pools(), ["keep"]);
    // The unchanged job kept its loop: its health was not reset.
    let t = r.target();
    assert_eq!(t.scrape_pool, "keep");
    assert_eq!(t.health, "up");
    r.wait_for("from_b stale", |r| {
        r.last("from_b").is_some_and(is_stale_nan)
    })
    .await;
    let up_b = r.samples("up", &[("job", "gone")]);
    assert!(is_stale_nan(up_b.last().unwrap().v));
    assert!(!is_stale_nan(r.last("from_a").unwrap()));
    r.stop().await;
}

#[tokio::test]
async fn sample_limit_fails_the_whole_scrape() {
    let srv = TestServer::start("a 1\nb 2\nc 3\n").await;
    let r = Running::start(job_config("    sample_limit: 2\n", &[srv.target()]));
    r.wait_for("up", |r| r.last("up").is_some()).await;
    assert_eq!(r.last("up"), Some(0.0));
    assert!(r.samples("a", &[]).is_empty());
    assert_eq!(r.last("scrape_samples_scraped"), Some(3.0));
    assert_eq!(r.target().last_error, "sample limit exceeded");
    r.stop().await;
}

#[tokio::test]
async fn label_limits_fail_the_scrape() {
    let srv = TestServer::start("m{a=\"1\",b=\"2\"} 1\n").await;
    let r = Running::start(job_config("    label_limit: 3\n", &[srv.target()]));
    r.wait_for("up", |r| r.last("up").is_some()).await;
    assert_eq!(r.last("up"), Some(0.0));
    assert!(r.target().last_error.starts_with(
        "label_limit exceeded (metric: m{a=\"1\",b=\"2\"}, number of labels: 5, limit: 3)"
    ));
    r.stop().await;
}

#[tokio::test]
async fn honor_labels_decides_who_wins_a_clash() {
    let srv = TestServer::start("m{job=\"pushed\"} 1\n").await;
    let r = Running::start(job_config("", &[srv.target()]));
    r.wait_for("m", |r| r.last("m").is_some()).await;
    assert!(!r
        .samples("m", &[("job", "test"), ("exported_job", "pushed")])
        .is_empty());
    r.stop().await;

    let r = Running::start(job_config("    honor_labels: true\n", &[srv.target()]));
    r.wait_for("m", |r| r.last("m").is_some()).await;
    assert!(!r.samples("m", &[("job", "pushed")]).is_empty());
    assert!(r.samples("m", &[("exported_job", "pushed")]).is_empty());
    r.stop().await;
}

#[tokio::test]
async fn gzip_bodies_are_decoded_and_limited() {
    let srv = TestServer::start("zipped 42\n").await;
    srv.resp.lock().unwrap().gzip = true;
    let r = Running::start(job_config("", &[srv.target()]));
    r.wait_for("zipped", |r| r.last("zipped").is_some()).await;
    assert_eq!(r.last("zipped"), Some(42.0));
    r.stop().await;

    let r = Running::start(job_config("    body_size_limit: 5B\n", &[srv.target()]));
    r.wait_for("up", |r| r.last("up").is_some()).await;
    assert_eq!(r.last("up"), Some(0.0));
    assert!(r.target().last_error.contains("body size limit exceeded"));
    r.stop().await;
}

#[tokio::test]
async fn metric_relabeling_and_explicit_timestamps() {
    let srv = TestServer::start("keep_me 1\ndrop_me 2\nold 3 1000\n").await;
    let r = Running::start(job_config(
        "    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: drop_.*\n        action: drop\n",
        &[srv.target()],
    ));
    r.wait_for("up", |r| r.last("up") == Some(1.0)).await;
    assert!(r.last("keep_me").is_some());
    assert!(r.samples("drop_me", &[]).is_empty());
    assert_eq!(r.samples("old", &[])[0].t, 1000);
    assert_eq!(r.last("scrape_samples_scraped"), Some(3.0));
    assert_eq!(r.last("scrape_samples_post_metric_relabeling"), Some(2.0));
    r.stop().await;
}

#[tokio::test]
async fn file_sd_targets_come_and_go_and_dropped_targets_are_listed() {
    let srv = TestServer::start("via_file 1\n").await;
    let dir = std::env::temp_dir().join(format!("sightline-scrape-fsd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("t.json");
    std::fs::write(
        &file,
        format!(r#"[{{"targets": ["{}"], "labels": {{"team": "a"}}}}, {{"targets": ["skip:1"], "labels": {{"skip": "yes"}}}}]"#, srv.target()),
    )
    .unwrap();
    let text = format!(
        "scrape_configs:\n  - job_name: f\n    scrape_interval: 100ms\n    scrape_timeout: 80ms\n    file_sd_configs: [{{files: ['{}']}}]\n    relabel_configs:\n      - source_labels: [skip]\n        regex: 'yes'\n        action: drop\n",
        dir.join("*.json").display()
    );
    let r = Running::start(load_str(&text, "t.yml").unwrap());
    r.wait_for("via_file", |r| r.last("via_file").is_some())
        .await;
    assert!(!r.samples("via_file", &[("team", "a")]).is_empty());
    let snap = r.manager.targets(TargetState::Any, None);
    assert_eq!(snap.active_targets.len(), 1);
    assert_eq!(snap.dropped_targets.len(), 1);
    let d = &snap.dropped_targets[0].discovered_labels;
    assert_eq!(d.get("__address__").map(String::as_str), Some("skip:1"));
    assert!(d.get("__meta_filepath").is_some());
    assert!(r
        .manager
        .targets(TargetState::Dropped, None)
        .active_targets
        .is_empty());
    assert!(r
        .manager
        .targets(TargetState::Any, Some("other"))
        .active_targets
        .is_empty());

    std::fs::write(&file, "[]").unwrap();
    r.wait_for("no targets", |r| {
        r.manager
            .targets(TargetState::Active, None)
            .active_targets
            .is_empty()
    })
    .await;
    r.wait_for("via_file stale", |r| {
        r.last("via_file").is_some_and(is_stale_nan)
    })
    .await;
    r.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn target_limit_fails_every_target() {
    let a = TestServer::start("x 1\n").await;
    let b = TestServer::start("x 1\n").await;
    let r = Running::start(job_config(
        "    target_limit: 1\n",
        &[a.target(), b.target()],
    ));
    r.wait_for("up", |r| r.samples("up", &[]).len() >= 2).await;
    assert!(r.samples("x", &[]).is_empty());
    let snap = r.manager.targets(TargetState::Active, None);
    assert_eq!(snap.active_targets.len(), 2);
    for t in snap.active_targets {
        assert_eq!(
            t.last_error,
            "target_limit exceeded (number of targets: 2, limit: 1)"
        );
    }
    r.stop().await;
}

#[tokio::test]
async fn unreachable_targets_are_down() {
    // Bind and drop to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = Running::start(job_config("", &[format!("127.0.0.1:{port}")]));
    r.wait_for("up", |r| r.last("up").is_some()).await;
    assert_eq!(r.last("up"), Some(0.0));
    let t = r.target();
    assert_eq!(t.health, "down");
    // Issue 12: worded as Prometheus (Go's net/http) words it.
    assert_eq!(
        t.last_error,
        format!("Get \"http://127.0.0.1:{port}/metrics\": dial tcp 127.0.0.1:{port}: connect: connection refused")
    );
    r.stop().await;
}

#[tokio::test]
async fn a_changed_job_hands_its_series_to_the_new_loop() {
    let srv = TestServer::start("a 1\nb 2\n").await;
    let r = Running::start(job_config("", &[srv.target()]));
    r.wait_for("b", |r| r.last("b").is_some()).await;
    // A reload that changes the interval restarts the loop; the series the
    // old loop wrote must still go stale when they disappear.
    let text = format!(
        "scrape_configs:\n  - job_name: test\n    scrape_interval: 150ms\n    scrape_timeout: 80ms\n    static_configs: [{{targets: ['{}']}}]\n",
        srv.target()
    );
    r.manager
        .apply_config(load_str(&text, "t.yml").unwrap())
        .unwrap();
    srv.set_body("a 1\n");
    r.wait_for("b stale", |r| r.last("b").is_some_and(is_stale_nan))
        .await;
    assert_eq!(r.target().scrape_interval, "150ms");
    assert!(!is_stale_nan(r.last("a").unwrap()));
    r.stop().await;
}

#[tokio::test]
async fn a_job_whose_client_cannot_be_built_is_skipped() {
    let srv = TestServer::start("ok 1\n").await;
    let text = format!(
        "scrape_configs:\n  - job_name: broken\n    scheme: https\n    tls_config: {{ca_file: /nonexistent/ca.pem}}\n    static_configs: [{{targets: ['x:1']}}]\n  - job_name: test\n    scrape_interval: 100ms\n    scrape_timeout: 80ms\n    static_configs: [{{targets: ['{}']}}]\n",
        srv.target()
    );
    let cfg = load_str(&text, "t.yml").unwrap();
    let r = Running::start(cfg.clone());
    r.wait_for("ok", |r| r.last("ok").is_some()).await;
    assert_eq!(r.manager.scrape_pools(), ["test"]);
    let e = r.manager.apply_config(cfg).unwrap_err().to_string();
    assert!(
        e.contains("job \"broken\"") && e.contains("/nonexistent/ca.pem"),
        "{e}"
    );
    assert_eq!(r.manager.scrape_pools(), ["test"]);
    r.stop().await;
}

#[tokio::test]
async fn openmetrics_bodies_are_parsed_by_content_type() {
    let srv = TestServer::start(
        "# TYPE req counter\nreq_total{code=\"200\"} 5 # {trace_id=\"abc\"} 1.0\n# EOF\n",
    )
    .await;
    srv.resp.lock().unwrap().content_type =
        "application/openmetrics-text; version=1.0.0; charset=utf-8".into();
    let r = Running::start(job_config("", &[srv.target()]));
    r.wait_for("req_total", |r| r.last("req_total").is_some())
        .await;
    assert_eq!(r.last("req_total"), Some(5.0));
    r.stop().await;

    // OpenMetrics requires "# EOF": without it the scrape fails whole.
    srv.set_body("# TYPE req counter\nreq_total 5\n");
    let r = Running::start(job_config("", &[srv.target()]));
    r.wait_for("up", |r| r.last("up").is_some()).await;
    assert_eq!(r.last("up"), Some(0.0));
    assert!(r.samples("req_total", &[]).is_empty());
    assert!(!r.target().last_error.is_empty());
    r.stop().await;
}

/// An https server with the test certificate (valid for `scrape.test` only,
/// signed by testdata/tls/ca.pem), answering every request with `body`.
async fn start_tls_server(body: &'static str) -> SocketAddr {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    sightline_config::tls::install_default_provider();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/scrape/testdata/tls/");
    let certs = CertificateDer::pem_file_iter(format!("{dir}server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(format!("{dir}server.key")).unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

fn tls_job(addr: SocketAddr, tls: &str) -> crate::config::PrometheusConfig {
    let ca = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/scrape/testdata/tls/ca.pem"
    );
    let text = format!(
        "scrape_configs:\n  - job_name: test\n    scheme: https\n    scrape_interval: 100ms\n    scrape_timeout: 80ms\n    tls_config: {{ca_file: '{ca}', {tls}}}\n    static_configs: [{{targets: ['{addr}']}}]\n"
    );
    load_str(&text, "t.yml").unwrap()
}

#[tokio::test]
async fn https_targets_are_verified_against_server_name() {
    let addr = start_tls_server("secure 1\n").await;
    // The certificate names scrape.test, not 127.0.0.1: refused by default.
    let r = Running::start(tls_job(addr, "min_version: TLS12"));
    r.wait_for("up", |r| r.last("up").is_some()).await;
    assert_eq!(r.last("up"), Some(0.0));
    let e = r.target().last_error;
    assert!(e.to_ascii_lowercase().contains("certificate"), "{e}");
    r.stop().await;

    let r = Running::start(tls_job(addr, "server_name: scrape.test"));
    r.wait_for("secure", |r| r.last("secure").is_some()).await;
    assert_eq!(r.last("up"), Some(1.0));
    r.stop().await;

    // A wrong name is refused even with the right CA.
    let r = Running::start(tls_job(addr, "server_name: other.test"));
    r.wait_for("up", |r| r.last("up").is_some()).await;
    assert_eq!(r.last("up"), Some(0.0));
    r.stop().await;

    for opts in [
        "insecure_skip_verify: true",
        "insecure_skip_verify: true, server_name: x.test",
    ] {
        let r = Running::start(tls_job(addr, opts));
        r.wait_for("secure", |r| r.last("secure").is_some()).await;
        r.stop().await;
    }
}

#[tokio::test]
async fn metadata_of_the_last_scrape_is_served() {
    let srv = TestServer::start(
        "# HELP req_total Requests.\n# TYPE req_total counter\nreq_total 1\n# TYPE temp gauge\ntemp 20\nbare 1\n",
    )
    .await;
    let r = Running::start(job_config("", &[srv.target()]));
    r.wait_for("metadata", |r| {
        !r.manager.metadata(None, None, None, None).is_empty()
    })
    .await;
    let m = r.manager.metadata(None, None, None, None);
    assert_eq!(m.len(), 2);
    assert_eq!(
        m["req_total"],
        [MetricMetadata {
            kind: "counter",
            help: "Requests.".into(),
            unit: String::new()
        }]
    );
    assert_eq!(m["temp"][0].kind, "gauge");
    assert_eq!(r.manager.metadata(Some("temp"), None, None, None).len(), 1);
    assert_eq!(r.manager.metadata(None, Some(1), None, None).len(), 1);

    let job = [Matcher::new(MatchOp::Equal, "job", "test").unwrap()];
    let tm = r.manager.targets_metadata(&job, None, None);
    assert_eq!(tm.len(), 2);
    let v = serde_json::to_value(&tm[0]).unwrap();
    assert_eq!(v["metric"], "req_total");
    assert_eq!(v["type"], "counter");
    assert_eq!(v["target"]["job"], "test");
    let one = r.manager.targets_metadata(&job, Some("temp"), None);
    assert!(serde_json::to_value(&one[0])
        .unwrap()
        .get("metric")
        .is_none());
    let other = [Matcher::new(MatchOp::Equal, "job", "other").unwrap()];
    assert!(r.manager.targets_metadata(&other, None, None).is_empty());

    // A changed exposition updates the metadata; a family it no longer
    // mentions stays for ten scrapes, as in Prometheus (issue 12).
    srv.set_body("# TYPE temp counter\ntemp 21\n");
    r.wait_for("new metadata", |r| {
        r.manager.metadata(Some("temp"), None, None, None)["temp"][0].kind == "counter"
    })
    .await;
    assert!(r
        .manager
        .metadata(None, None, None, None)
        .contains_key("req_total"));
    assert!(r.manager.metadata(None, Some(0), None, None).is_empty());
    r.stop().await;
}

#[tokio::test]
async fn explicit_timestamps_are_ignored_without_honor_timestamps() {
    let srv = TestServer::start("old 3 1000\n").await;
    let r = Running::start(job_config("    honor_timestamps: false\n", &[srv.target()]));
    r.wait_for("old", |r| r.last("old").is_some()).await;
    let up_t = r.samples("up", &[])[0].t;
    assert_eq!(r.samples("old", &[])[0].t, up_t);
    r.stop().await;
}

#[tokio::test]
async fn plain_bodies_over_the_size_limit_fail() {
    let srv = TestServer::start("a_rather_long_metric_name 1\n").await;
    let r = Running::start(job_config("    body_size_limit: 10B\n", &[srv.target()]));
    r.wait_for("up", |r| r.last("up").is_some()).await;
    assert_eq!(r.last("up"), Some(0.0));
    assert_eq!(
        r.target().last_error,
        "body size limit exceeded (limit: 10 bytes)"
    );
    let exceeded = &r.manager.metrics().body_size_limit_exceeded;
    assert!(exceeded.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    r.stop().await;
}
