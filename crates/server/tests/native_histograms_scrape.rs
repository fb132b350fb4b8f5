//! Issue 12: the protobuf scrape format, against Debian's Prometheus 2.42
//! with `--enable-feature=native-histograms` scraping the same target.
//!
//! The target serves one fixed body in the delimited protobuf format (built
//! here with our own prost structs) to whoever asks for it: a counter, a
//! summary, a classic histogram and a native histogram. Both scrapers must
//! send the same `Accept` header, and store the same series: the floats
//! compared by value, the native histogram by what Prometheus's
//! `histogram_count`/`histogram_sum` say against what we stored.

mod common;

use common::{free_port, peer, Server};
use sightline_core::{MatchOp, Matcher, MetricQuerier};
use sightline_testkit::protobuf::{
    classic_histogram, counter, delimited, family, histogram, span, summary, Histogram, MetricType,
};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn body() -> Vec<u8> {
    delimited(&[
        family(
            "pb_requests_total",
            "Requests.",
            MetricType::Counter,
            counter(&[("code", "200")], 1027.0),
        ),
        family(
            "pb_rpc_seconds",
            "",
            MetricType::Summary,
            summary(9, 2.5, &[(0.5, 0.25)]),
        ),
        family(
            "pb_classic_seconds",
            "",
            MetricType::Histogram,
            histogram(&[], classic_histogram(6, 3.0, &[(0.5, 2), (1.0, 5)])),
        ),
        family(
            "pb_latency_seconds",
            "",
            MetricType::Histogram,
            histogram(
                &[],
                Histogram {
                    sample_count: 14,
                    sample_sum: 6.75,
                    schema: 2,
                    zero_threshold: 0.001,
                    zero_count: 1,
                    positive_span: vec![span(-3, 2), span(1, 2)],
                    positive_delta: vec![2, 3, -4, 1],
                    negative_span: vec![span(0, 1)],
                    negative_delta: vec![2],
                    ..Default::default()
                },
            ),
        ),
    ])
}

/// Serves `body()` as protobuf and records each request's User-Agent and
/// Accept headers.
fn serve(accepts: Arc<Mutex<BTreeMap<String, String>>>) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).to_string();
            let get = |h: &str| {
                head.lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.trim()
                            .eq_ignore_ascii_case(h)
                            .then(|| v.trim().to_owned())
                    })
                    .unwrap_or_default()
            };
            let agent = get("user-agent")
                .split('/')
                .next()
                .unwrap_or("")
                .to_lowercase();
            accepts.lock().unwrap().insert(agent, get("accept"));
            let b = body();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                b.len()
            );
            let _ = s.write_all(&b);
        }
    });
    port
}

fn prom_value(url: &str, q: &str) -> Option<f64> {
    let enc: String = q
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    // Not `get_text`: Prometheus may not listen yet.
    let text = common::http()
        .get(format!("{url}/api/v1/query?query={enc}"))
        .send()
        .ok()?
        .text()
        .ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

#[test]
fn protobuf_scrapes_match_prometheus_2_42() {
    let Some(prometheus) = peer("prometheus") else {
        return;
    };
    let accepts = Arc::new(Mutex::new(BTreeMap::new()));
    let target = serve(accepts.clone());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("scrape.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: pb\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("sightline");
    let ours = Server::start(&data, &["--config", cfg.to_str().unwrap()]);
    let port = free_port();
    let mut prom = Command::new(prometheus)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("prom").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--enable-feature=native-histograms")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let url = format!("http://127.0.0.1:{port}");
    let scraped = common::eventually(Duration::from_secs(60), || {
        prom_value(&url, "histogram_count(pb_latency_seconds)")
    });
    std::thread::sleep(Duration::from_secs(3));
    let want: Vec<(&str, Option<f64>)> = [
        "pb_requests_total{code=\"200\"}",
        "pb_rpc_seconds_count",
        "pb_rpc_seconds_sum",
        "pb_rpc_seconds{quantile=\"0.5\"}",
        "pb_classic_seconds_count",
        "pb_classic_seconds_bucket{le=\"1.0\"}",
        "pb_classic_seconds_bucket{le=\"+Inf\"}",
        "histogram_count(pb_latency_seconds)",
        "histogram_sum(pb_latency_seconds)",
    ]
    .into_iter()
    .map(|q| (q, prom_value(&url, q)))
    .collect();
    let _ = prom.kill();
    let _ = prom.wait();
    ours.stop();
    assert!(scraped.is_some(), "prometheus stored no native histogram");
    let accepts = accepts.lock().unwrap().clone();
    assert_eq!(
        accepts.get("sightline"),
        accepts.get("prometheus"),
        "Accept headers differ: {accepts:?}"
    );

    let db = sightline_tsdb::Db::open(&data, sightline_tsdb::Options::default()).unwrap();
    let all = db
        .select(
            &sightline_core::QueryContext::new(),
            i64::MIN,
            i64::MAX,
            &[Matcher::new(MatchOp::Regex, "__name__", "pb_.*").unwrap()],
        )
        .unwrap()
        .into_vec()
        .unwrap();
    let mut floats: BTreeMap<String, f64> = BTreeMap::new();
    let mut hist = None;
    for s in all {
        let mut b = s.labels.to_builder();
        b.del("instance").del("job");
        let key = b.build().to_string();
        if let Some(v) = s.samples.filter(|x| !x.v.is_nan()).last() {
            floats.insert(key.clone(), v.v);
        }
        if let Some(h) = s
            .histograms
            .and_then(|h| h.filter(|x| !x.h.is_stale()).last())
        {
            hist = Some(h.h);
        }
    }
    db.close().unwrap();
    let hist = hist.expect("a stored native histogram");
    for (q, v) in want {
        let v = v.unwrap_or_else(|| panic!("prometheus has no {q}"));
        let got = match q {
            "histogram_count(pb_latency_seconds)" => hist.count,
            "histogram_sum(pb_latency_seconds)" => hist.sum,
            _ => *floats
                .get(q)
                .unwrap_or_else(|| panic!("we have no {q}: {floats:?}")),
        };
        assert_eq!(got, v, "{q}");
    }
    // By hand: buckets 2, 5, 1, 2 at indexes -3, -2, 0, 1; zero 1; negative 2.
    let pos: Vec<(i32, f64)> = hist
        .positive_buckets()
        .map(|b| (b.index, b.count))
        .collect();
    assert_eq!(pos, vec![(-3, 2.0), (-2, 5.0), (0, 1.0), (1, 2.0)]);
    assert_eq!((hist.zero_count, hist.count), (1.0, 14.0));
}
