//! Issue 12: native histograms in PromQL, proven against Debian's
//! Prometheus 2.42 started with `--enable-feature=native-histograms`.
//!
//! The same histogram series go to both: to Prometheus through remote
//! write 1.0 (its receiver takes native histograms with the feature on),
//! to our engine through an in-process [`MemStore`] (remote-write ingest
//! of histograms is another branch's work; once it lands, this test can
//! write to a running `sightline serve` instead). Then every query of
//! [`QUERIES`] (the functions and operators 2.42 supports on native
//! histograms) runs on both, at evaluation times off the sample grid, and
//! the results must agree: labels, float values, and histograms (count,
//! sum, and every non-empty bucket's boundary rule, bounds and count, as
//! Prometheus's API writes them). Where 2.42 and Sightline's 3.x
//! semantics differ on purpose, the query is listed in
//! [`KNOWN_DIFFERENCES`] with the reason.

mod common;

use prost::Message;
use serde_json::Value as Json;
use sightline_core::histogram::{absolute_from_deltas, CounterResetHint, Span};
use sightline_core::{FloatHistogram, Labels, MemStore};
use sightline_promql::{Engine, EngineOptions, Value};
use sightline_proto::prometheus::{
    histogram, BucketSpan, Histogram, Label, TimeSeries, WriteRequest,
};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Expressions run on both sides, each as an instant query at several times.
const QUERIES: &[&str] = &[
    "nh_requests",
    "nh_gauge",
    "histogram_count(nh_requests)",
    "histogram_sum(nh_requests)",
    "histogram_count(rate(nh_requests[1m]))",
    "histogram_sum(rate(nh_requests[2m]))",
    "histogram_quantile(0.9, nh_requests)",
    "histogram_quantile(0.5, nh_requests)",
    "histogram_quantile(0.1, nh_gauge)",
    "histogram_quantile(0.99, rate(nh_requests[2m]))",
    "histogram_fraction(0, 4, nh_requests)",
    "histogram_fraction(-1, 1, nh_gauge)",
    "rate(nh_requests[2m])",
    "increase(nh_requests[5m])",
    "sum(nh_requests)",
    "sum by (job) (rate(nh_requests[2m]))",
    "count(nh_requests)",
    "nh_requests * 2",
    "2 * nh_requests",
    "nh_requests / 4",
    "nh_requests + nh_requests",
    "nh_requests - nh_requests offset 1m",
    "count_over_time(nh_requests[5m])",
    "last_over_time(nh_requests[5m])",
    "timestamp(nh_requests)",
    "absent(nh_requests)",
    "nh_requests and nh_gauge",
];

const QUANTILE: &str = "Prometheus 3.0 interpolates exponentially (on a log scale) inside exponential buckets; 2.42 interpolated linearly";
const SCALE: &str = "2.42 does not apply * and / to native histograms (it returns them unchanged); 3.x scales every count and the sum";

/// Queries where 2.42 and Sightline (3.x semantics) differ on purpose.
/// A listed query is still run; it only may not agree.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    ("histogram_quantile(0.9, nh_requests)", QUANTILE),
    ("histogram_quantile(0.5, nh_requests)", QUANTILE),
    ("histogram_quantile(0.1, nh_gauge)", QUANTILE),
    ("histogram_quantile(0.99, rate(nh_requests[2m]))", QUANTILE),
    ("nh_requests * 2", SCALE),
    ("2 * nh_requests", SCALE),
    ("nh_requests / 4", SCALE),
    (
        "last_over_time(nh_requests[5m])",
        "2.42's last_over_time reads floats only (its answer is the float 0); 3.x returns the last histogram",
    ),
    (
        "nh_requests - nh_requests offset 1m",
        "2.42 does not subtract native histograms (its answer is the float 0); 3.x gives the histogram of the differences",
    ),
];

/// A value in the shape both sides are compared in.
#[derive(Debug, Clone)]
enum Norm {
    F(f64),
    /// count, sum, buckets `(rule, lower, upper, count)` without empty ones.
    H(f64, f64, Vec<(u64, f64, f64, f64)>),
}

type Result_ = Vec<(BTreeMap<String, String>, Norm)>;

fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-3)
}

fn same(a: &Norm, b: &Norm) -> bool {
    match (a, b) {
        (Norm::F(x), Norm::F(y)) => close(*x, *y),
        (Norm::H(c1, s1, b1), Norm::H(c2, s2, b2)) => {
            close(*c1, *c2)
                && close(*s1, *s2)
                && b1.len() == b2.len()
                && b1.iter().zip(b2).all(|(x, y)| {
                    x.0 == y.0 && close(x.1, y.1) && close(x.2, y.2) && close(x.3, y.3)
                })
        }
        _ => false,
    }
}

fn num(v: &Json) -> f64 {
    match v.as_str().unwrap_or_default() {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        s => s.parse().unwrap_or(f64::NAN),
    }
}

fn norm_json(h: &Json) -> Norm {
    let buckets = h["buckets"]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|x| {
                    (
                        x[0].as_u64().unwrap_or(9),
                        num(&x[1]),
                        num(&x[2]),
                        num(&x[3]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Norm::H(num(&h["count"]), num(&h["sum"]), buckets)
}

fn norm_ours(h: &FloatHistogram) -> Norm {
    let buckets = h
        .all_buckets()
        .into_iter()
        .filter(|b| b.count != 0.0)
        .map(|b| {
            let rule = match (b.lower_inclusive, b.upper_inclusive) {
                (false, true) => 0,
                (true, false) => 1,
                (false, false) => 2,
                (true, true) => 3,
            };
            (rule, b.lower, b.upper, b.count)
        })
        .collect();
    Norm::H(h.count, h.sum, buckets)
}

fn prometheus_result(url: &str, q: &str, t_ms: i64) -> std::result::Result<Result_, String> {
    let r = common::http()
        .get(format!("{url}/api/v1/query"))
        .query(&[
            ("query", q),
            ("time", &format!("{}.{:03}", t_ms / 1000, t_ms % 1000)),
        ])
        .send()
        .map_err(|e| e.to_string())?;
    let v: Json =
        serde_json::from_str(&r.text().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    if v["status"] != "success" {
        return Err(v["error"].as_str().unwrap_or_default().to_owned());
    }
    let data = &v["data"];
    let mut out = Vec::new();
    for s in data["result"].as_array().cloned().unwrap_or_default() {
        let labels: BTreeMap<String, String> = s["metric"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let val = if s.get("histogram").is_some() {
            norm_json(&s["histogram"][1])
        } else {
            Norm::F(num(&s["value"][1]))
        };
        out.push((labels, val));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn our_result(store: &MemStore, q: &str, t_ms: i64) -> std::result::Result<Result_, String> {
    let engine = Engine::new(EngineOptions::default());
    let r = engine
        .instant_query(store, q, t_ms)
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    match r.value {
        Value::Vector(v) => {
            for s in v {
                let labels = s
                    .labels
                    .iter()
                    .map(|l| (l.name.clone(), l.value.clone()))
                    .collect();
                let val = match &s.h {
                    Some(h) => norm_ours(h),
                    None => Norm::F(s.v),
                };
                out.push((labels, val));
            }
        }
        Value::Scalar(_, v) => out.push((BTreeMap::new(), Norm::F(v))),
        other => return Err(format!("unexpected {}", other.type_name())),
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// One integer histogram sample on the wire and as we store it.
struct Point {
    wire: Histogram,
    ours: FloatHistogram,
}

fn point(t: i64, k: i64, schema: i32, gauge: bool) -> Point {
    // Positive buckets -1..=2, negative 0..=1, zero bucket; counts grow with
    // k (a counter), or wave (a gauge).
    let grow = |base: i64, step: i64| {
        if gauge {
            base + (k % 5) * step
        } else {
            base + k * step
        }
    };
    let pos = vec![grow(1, 1), grow(2, 2), grow(0, 1), grow(1, 3)];
    let neg = vec![grow(1, 1), grow(0, 2)];
    let zero = grow(2, 1);
    let count: i64 = pos.iter().sum::<i64>() + neg.iter().sum::<i64>() + zero;
    let sum = grow(10, 7) as f64 * 0.5;
    let deltas = |v: &[i64]| -> Vec<i64> {
        let mut prev = 0;
        v.iter()
            .map(|&x| {
                let d = x - prev;
                prev = x;
                d
            })
            .collect()
    };
    let pspans = vec![BucketSpan {
        offset: -1,
        length: 4,
    }];
    let nspans = vec![BucketSpan {
        offset: 0,
        length: 2,
    }];
    let hint = if gauge {
        histogram::ResetHint::Gauge
    } else {
        histogram::ResetHint::Unknown
    };
    let wire = Histogram {
        count: Some(histogram::Count::CountInt(count as u64)),
        sum,
        schema,
        zero_threshold: 0.001,
        zero_count: Some(histogram::ZeroCount::ZeroCountInt(zero as u64)),
        negative_spans: nspans,
        negative_deltas: deltas(&neg),
        positive_spans: pspans,
        positive_deltas: deltas(&pos),
        reset_hint: hint as i32,
        timestamp: t,
        ..Default::default()
    };
    let ours = FloatHistogram {
        counter_reset_hint: if gauge {
            CounterResetHint::Gauge
        } else {
            CounterResetHint::Unknown
        },
        schema,
        zero_threshold: 0.001,
        zero_count: zero as f64,
        count: count as f64,
        sum,
        positive_spans: vec![Span {
            offset: -1,
            length: 4,
        }],
        negative_spans: vec![Span {
            offset: 0,
            length: 2,
        }],
        positive_buckets: absolute_from_deltas(&deltas(&pos)),
        negative_buckets: absolute_from_deltas(&deltas(&neg)),
        custom_values: Vec::new(),
    };
    Point { wire, ours }
}

#[test]
fn native_histograms_agree_with_prometheus_2_42() {
    let Some(prometheus) = common::peer("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15s\n").unwrap();
    let port = common::free_port();
    let log = dir.path().join("prometheus.log");
    let mut child = Command::new(&prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("prom").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--enable-feature=native-histograms")
        .arg("--web.enable-remote-write-receiver")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start prometheus");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while common::http()
        .get(format!("{url}/-/ready"))
        .send()
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        assert!(
            Instant::now() < deadline,
            "prometheus not ready: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // 10 minutes of samples every 15 s ending a minute ago, on whole seconds.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let end = now / 1000 * 1000 - 60_000;
    let start = end - 600_000;
    let store = MemStore::new();
    let mut series = Vec::new();
    for (name, job, schema, gauge, reset_at) in [
        ("nh_requests", "a", 0, false, Some(25)),
        ("nh_requests", "b", 1, false, None),
        ("nh_gauge", "a", 0, true, None),
    ] {
        let labels = Labels::from_pairs([("__name__", name), ("job", job)]);
        let mut hs = Vec::new();
        for k in 0..=40i64 {
            let t = start + k * 15_000;
            // A counter reset: counts start over.
            let kk = match reset_at {
                Some(r) if k >= r => k - r,
                _ => k,
            };
            let p = point(t, kk, schema, gauge);
            store.add_histogram(labels.clone(), t, p.ours);
            hs.push(p.wire);
        }
        series.push(TimeSeries {
            labels: labels
                .iter()
                .map(|l| Label {
                    name: l.name.clone(),
                    value: l.value.clone(),
                })
                .collect(),
            histograms: hs,
            ..Default::default()
        });
    }
    let body = WriteRequest {
        timeseries: series,
        ..Default::default()
    }
    .encode_to_vec();
    let compressed = snap::raw::Encoder::new().compress_vec(&body).unwrap();
    let r = common::http()
        .post(format!("{url}/api/v1/write"))
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(compressed)
        .send()
        .expect("remote write");
    assert!(
        r.status().is_success(),
        "remote write: {} {}",
        r.status(),
        r.text().unwrap_or_default()
    );

    let mut failures = Vec::new();
    let mut agreed = 0;
    for q in QUERIES {
        for t in [start + 180_007, start + 390_007, end - 7] {
            let prom = prometheus_result(&url, q, t);
            let ours = our_result(&store, q, t);
            let ok = match (&prom, &ours) {
                (Ok(p), Ok(o)) => {
                    p.len() == o.len()
                        && p.iter().zip(o).all(|(a, b)| a.0 == b.0 && same(&a.1, &b.1))
                }
                (Err(_), Err(_)) => true,
                _ => false,
            };
            if ok {
                agreed += 1;
            } else if !KNOWN_DIFFERENCES.iter().any(|k| k.0 == *q) {
                failures.push(format!(
                    "{q} @ {t}:\n  prometheus {prom:?}\n  sightline  {ours:?}"
                ));
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    println!("{agreed} of {} evaluations agree", QUERIES.len() * 3);
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
