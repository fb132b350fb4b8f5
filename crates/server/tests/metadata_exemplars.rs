//! Issue 12: metric metadata and exemplars, compared with Prometheus 2.42.
//!
//! The same targets (text format with HELP/TYPE, untyped and HELP-only
//! families, summaries and histograms; OpenMetrics with UNIT, `_total`
//! counters, info, stateset, and exemplars with and without timestamps)
//! are scraped by Debian's Prometheus (`--enable-feature=exemplar-storage`)
//! and by Sightline; both receive the same remote write requests with
//! exemplars. Then `/api/v1/metadata`, `/api/v1/targets/metadata` and
//! `/api/v1/query_exemplars` are asked the same questions, bad parameters
//! included, and the answers compared after ordering what Prometheus orders
//! at random (it iterates Go maps there).
//!
//! A second test checks that exemplars acknowledged by remote write
//! survive `kill -9`.

mod common;

use common::{eventually, http, peer, Server};
use prost::Message;
use serde_json::Value;
use sightline_proto::prometheus::{Exemplar, Label, Sample, TimeSeries, WriteRequest};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

const TEXT: &str = "# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{code=\"200\"} 10
# HELP temp_celsius Temperature \\\\ with backslash\\nnewline.
# TYPE temp_celsius gauge
temp_celsius 21.5
# TYPE legacy untyped
legacy 1
# HELP help_only Only help.
help_only 3
no_meta 4
# HELP rpc_seconds RPC latency.
# TYPE rpc_seconds summary
rpc_seconds{quantile=\"0.5\"} 0.1
rpc_seconds_sum 1
rpc_seconds_count 10
# HELP req_seconds Request latency.
# TYPE req_seconds histogram
req_seconds_bucket{le=\"0.1\"} 1
req_seconds_bucket{le=\"+Inf\"} 2
req_seconds_sum 0.3
req_seconds_count 2
";

/// 130 characters of exemplar labels: refused by both.
fn long_trace() -> String {
    "x".repeat(122)
}

fn openmetrics() -> String {
    format!(
        "# TYPE http_requests counter
# HELP http_requests Requests served.
http_requests_total{{code=\"200\"}} 10 # {{trace_id=\"abc\"}} 1.0 1700000000.000
http_requests_created{{code=\"200\"}} 1700000000
# TYPE temp_celsius gauge
# UNIT temp_celsius celsius
# HELP temp_celsius Temperature.
temp_celsius 21.5
# TYPE lat_seconds histogram
# UNIT lat_seconds seconds
# HELP lat_seconds Latency.
lat_seconds_bucket{{le=\"0.1\"}} 1 # {{trace_id=\"t1\"}} 0.05 1700000000.5
lat_seconds_bucket{{le=\"1\"}} 2 # {{trace_id=\"{}\"}} 0.5 1700000001
lat_seconds_bucket{{le=\"+Inf\"}} 3 # {{trace_id=\"t2\",span_id=\"s\"}} 2.5
lat_seconds_sum 3.05
lat_seconds_count 3
# TYPE build info
build_info{{version=\"1\"}} 1
# TYPE st stateset
st{{st=\"a\"}} 1
# TYPE unk unknown
unk 1
# EOF
",
        long_trace()
    )
}

/// Serves `body` with `content_type` on a free port, forever.
fn serve(body: String, content_type: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

fn label(n: &str, v: &str) -> Label {
    Label {
        name: n.into(),
        value: v.into(),
    }
}

/// Remote write requests with exemplars starting at `t0` (ms): in order, a
/// duplicate, one older than the newest, one with labels over the limit,
/// and a newer one. `t0` is recent, or the samples would be out of bounds
/// once a scrape has written the present.
fn remote_writes(t0: i64) -> Vec<WriteRequest> {
    let series = |t: i64, v: f64, ex: Vec<Exemplar>| WriteRequest {
        timeseries: vec![TimeSeries {
            labels: vec![label("__name__", "rw_requests_total"), label("job", "rw")],
            samples: vec![Sample {
                value: v,
                timestamp: t,
            }],
            exemplars: ex,
            ..Default::default()
        }],
        ..Default::default()
    };
    let ex = |trace: &str, v: f64, t: i64| Exemplar {
        labels: vec![label("trace_id", trace)],
        value: v,
        timestamp: t,
    };
    vec![
        series(t0, 1.0, vec![ex("a", 1.0, t0)]),
        series(t0 + 1000, 2.0, vec![ex("a", 1.0, t0)]),
        series(t0 + 2000, 3.0, vec![ex("old", 3.0, t0 - 5000)]),
        series(t0 + 3000, 4.0, vec![ex(&long_trace(), 4.0, t0 + 3000)]),
        series(
            t0 + 4000,
            5.0,
            vec![ex("b", 5.0, t0 + 4000), ex("c", 5.5, t0 + 4001)],
        ),
    ]
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn post(url: &str, req: &WriteRequest) -> u16 {
    let body = snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap();
    http()
        .post(format!("{url}/api/v1/write"))
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "snappy")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body)
        .send()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Status and parsed body (`null` for an empty one).
fn get(url: &str) -> (u16, Value) {
    let r = http()
        .get(url)
        .send()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
    };
    (status, v)
}

fn sort_by_json(list: &mut [Value]) {
    list.sort_by_key(|v| v.to_string());
}

/// Orders what Prometheus leaves in map order: each family's entries in
/// `/metadata`, the entries of `/targets/metadata`; exemplar timestamps that
/// are scrape times (the two servers scrape at other instants) become null.
fn normalize(path: &str, v: &mut Value) {
    let Some(data) = v.get_mut("data") else {
        return;
    };
    if path.starts_with("/api/v1/metadata") {
        if let Some(m) = data.as_object_mut() {
            for list in m.values_mut() {
                sort_by_json(list.as_array_mut().unwrap());
            }
        }
    } else if path.starts_with("/api/v1/targets/metadata") {
        sort_by_json(data.as_array_mut().unwrap());
    } else if let Some(list) = data.as_array_mut() {
        for s in list {
            for e in s["exemplars"].as_array_mut().unwrap() {
                // The one scraped exemplar without a timestamp.
                if e["labels"]["trace_id"] == "t2" {
                    e["timestamp"] = Value::Null;
                }
            }
        }
    }
}

/// Both answers, normalized, with their statuses.
fn both(prom: &str, ours: &str, path: &str) -> ((u16, Value), (u16, Value)) {
    let (mut a, mut b) = (get(&format!("{prom}{path}")), get(&format!("{ours}{path}")));
    normalize(path, &mut a.1);
    normalize(path, &mut b.1);
    (a, b)
}

fn start_prometheus(
    dir: &std::path::Path,
    prometheus: &std::path::Path,
    cfg: &str,
) -> (common::Proc, String) {
    common::start_prometheus_with(
        prometheus,
        dir,
        |_| cfg.to_owned(),
        &[
            "--enable-feature=exemplar-storage",
            "--web.enable-remote-write-receiver",
        ],
    )
}

#[test]
fn metadata_and_exemplars_match_prometheus_2_42() {
    let Some(prometheus) = peer("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text_a = serve(TEXT.to_owned(), "text/plain; version=0.0.4");
    let text_b = serve(TEXT.to_owned(), "text/plain; version=0.0.4");
    let om = serve(
        openmetrics(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
    );
    let cfg = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
         scrape_configs:\n  - job_name: text\n    static_configs:\n      - targets: ['127.0.0.1:{text_a}', '127.0.0.1:{text_b}']\n\
         \x20 - job_name: om\n    static_configs:\n      - targets: ['127.0.0.1:{om}']\n"
    );
    let (prom_child, prom) = start_prometheus(dir.path(), &prometheus, &cfg);
    let ours_cfg = dir.path().join("sightline.yml");
    std::fs::write(&ours_cfg, &cfg).unwrap();
    let server = Server::start(
        &dir.path().join("sightline"),
        &["--config", ours_cfg.to_str().unwrap()],
    );
    let ours = server.url();
    let t0 = now_secs() * 1000 - 60_000;
    for req in remote_writes(t0) {
        assert_eq!(post(&prom, &req), 204, "prometheus refused a remote write");
        assert_eq!(post(&ours, &req), 204, "sightline refused a remote write");
    }
    // Several scrapes each, so that repeated exemplars had their chance
    // to be stored twice.
    for url in [&prom, &ours] {
        let scraped = eventually(Duration::from_secs(30), || {
            let (_, v) = get(&format!("{url}/api/v1/query?query=count_over_time(up[1m])"));
            let counts: Vec<f64> = v["data"]["result"]
                .as_array()?
                .iter()
                .filter_map(|r| r["value"][1].as_str()?.parse().ok())
                .collect();
            (counts.len() == 3 && counts.iter().all(|c| *c >= 3.0)).then_some(())
        });
        assert!(
            scraped.is_some(),
            "{url} did not scrape its targets 3 times"
        );
    }

    let cases = [
        "/api/v1/metadata",
        "/api/v1/metadata?metric=temp_celsius",
        "/api/v1/metadata?metric=http_requests_total",
        "/api/v1/metadata?metric=http_requests",
        "/api/v1/metadata?metric=nope",
        "/api/v1/metadata?limit=0",
        "/api/v1/metadata?limit=-1",
        "/api/v1/metadata?limit=abc",
        "/api/v1/metadata?limit=1.5",
        "/api/v1/metadata?metric=temp_celsius&limit=5",
        "/api/v1/targets/metadata",
        "/api/v1/targets/metadata?metric=temp_celsius",
        "/api/v1/targets/metadata?metric=nope",
        "/api/v1/targets/metadata?match_target=%7Bjob%3D%22om%22%7D",
        "/api/v1/targets/metadata?match_target=%7Bjob%3D~%22te.%2A%22%7D&metric=req_seconds",
        "/api/v1/targets/metadata?match_target=%7Bjob%3D%22zz%22%7D",
        "/api/v1/targets/metadata?match_target=%7B%7D",
        "/api/v1/targets/metadata?match_target=up",
        "/api/v1/targets/metadata?limit=0",
        "/api/v1/targets/metadata?limit=-5&metric=unk",
        "/api/v1/targets/metadata?limit=x1",
        "/api/v1/query_exemplars?query=lat_seconds_bucket",
        "/api/v1/query_exemplars?query=http_requests_total",
        "/api/v1/query_exemplars?query=sum(rate(lat_seconds_bucket%5B5m%5D))%2Bhttp_requests_total",
        "/api/v1/query_exemplars?query=lat_seconds_bucket%7Ble%3D%220.1%22%7D&start=1700000000&end=1700000000.4999",
        "/api/v1/query_exemplars?query=lat_seconds_bucket&start=1700000001",
        "/api/v1/query_exemplars?query=lat_seconds_bucket&end=1600000000",
        "/api/v1/query_exemplars?query=nope",
        "/api/v1/query_exemplars?query=1",
        "/api/v1/query_exemplars?query=rw_requests_total",
        "/api/v1/query_exemplars?query=lat_seconds_bucket&start=abc",
        "/api/v1/query_exemplars?query=lat_seconds_bucket&start=5&end=4",
    ];
    let ranged = format!(
        "/api/v1/query_exemplars?query=rw_requests_total&start={}&end={}",
        t0 / 1000 + 1,
        t0 / 1000 + 4
    );
    let mut failures = Vec::new();
    for path in cases.iter().copied().chain([ranged.as_str()]) {
        let ((ps, pv), (os, ov)) = both(&prom, &ours, path);
        if ps != os || pv != ov {
            failures.push(format!(
                "{path}\n  prometheus {ps}: {pv}\n  sightline  {os}: {ov}"
            ));
        }
    }

    // Where only the parser's wording may differ, or Prometheus picks at
    // random, compare what is defined.
    let ((ps, pv), (os, ov)) = both(
        &prom,
        &ours,
        "/api/v1/targets/metadata?match_target=%7Bjob%3Dom%7D",
    );
    assert_eq!((ps, &pv["errorType"]), (os, &ov["errorType"]));
    let prefix = "invalid parameter \"match_target\": ";
    assert!(ov["error"].as_str().unwrap().starts_with(prefix), "{ov}");
    let ((ps, pv), (os, ov)) = both(&prom, &ours, "/api/v1/query_exemplars?query=(");
    assert_eq!((ps, &pv["errorType"]), (os, &ov["errorType"]), "{ov}");
    // `limit` picks families in map order in Prometheus: compare the count.
    let ((_, pv), (_, ov)) = both(&prom, &ours, "/api/v1/metadata?limit=2");
    let (_, all) = get(&format!("{prom}/api/v1/metadata"));
    assert_eq!(ov["data"].as_object().unwrap().len(), 2);
    assert_eq!(pv["data"].as_object().unwrap().len(), 2);
    for (k, v) in ov["data"].as_object().unwrap() {
        let mut want = all["data"][k].clone();
        sort_by_json(want.as_array_mut().unwrap());
        assert_eq!(v, &want, "{k}");
    }
    // `limit` on targets/metadata is checked before each target: one whole
    // target's entries come back, in both.
    let ((_, pv), (_, ov)) = both(&prom, &ours, "/api/v1/targets/metadata?limit=1");
    for v in [&pv, &ov] {
        let list = v["data"].as_array().unwrap();
        assert!(list.len() > 1, "{v}");
        assert!(list.iter().all(|e| e["target"] == list[0]["target"]), "{v}");
    }

    drop(prom_child);
    server.stop();
    assert!(
        failures.is_empty(),
        "{} of {} answers differ from Prometheus:\n{}",
        failures.len(),
        cases.len() + 1,
        failures.join("\n")
    );
}

#[test]
fn acknowledged_exemplars_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = dir.path().join("sightline.yml");
    std::fs::write(&quiet, "scrape_configs: []\n").unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--config", quiet.to_str().unwrap()]);
    for req in remote_writes(now_secs() * 1000 - 60_000) {
        assert_eq!(post(&server.url(), &req), 204);
    }
    let path = "/api/v1/query_exemplars?query=rw_requests_total";
    let (_, before) = get(&format!("{}{path}", server.url()));
    let exemplars = before["data"][0]["exemplars"].as_array().unwrap().len();
    assert_eq!(exemplars, 3, "{before}");
    server.kill9();
    let server = Server::start(&data, &["--config", quiet.to_str().unwrap()]);
    let (_, after) = get(&format!("{}{path}", server.url()));
    assert_eq!(after, before, "issue 12: exemplars lost across kill -9");
    let metrics = common::get_text(&format!("{}/metrics", server.url()));
    assert!(
        metrics.contains("sightline_tsdb_exemplar_exemplars_in_storage 3"),
        "{metrics}"
    );
    server.stop();
}
