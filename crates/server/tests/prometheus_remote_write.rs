//! Issue 2: Debian's real Prometheus remote_writes into Sightline and its
//! samples arrive intact: the same series, timestamps and values as
//! Prometheus itself stored.
//!
//! Prometheus scrapes itself every second (a few hundred realistic series:
//! counters, gauges, histograms, summaries) and sends everything to
//! Sightline. After a while we read back a window of raw samples from
//! Prometheus's own API (`{__name__=~".+"}[..]`, which returns stored
//! samples unmodified) and compare with what Sightline stored, bit for bit.

mod common;

use common::{get_text, peer, Server};
use sightline_core::{is_stale_nan, Labels, MatchOp, Matcher, MetricQuerier};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

type SeriesMap = BTreeMap<Labels, Vec<(i64, u64)>>;

/// Raw samples in `[from, to]` (ms) of every series Prometheus holds.
fn prometheus_samples(url: &str, from: i64, to: i64) -> SeriesMap {
    let range_s = ((to - from) as f64 / 1000.0).ceil() as i64;
    let q = format!(
        "{url}/api/v1/query?query=%7B__name__%3D~%22.%2B%22%7D%5B{range_s}s%5D&time={}",
        to as f64 / 1000.0
    );
    let body: serde_json::Value = serde_json::from_str(&get_text(&q)).unwrap();
    assert_eq!(body["status"], "success", "{body}");
    let mut out = SeriesMap::new();
    for s in body["data"]["result"].as_array().unwrap() {
        let labels = Labels::from_pairs(
            s["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())),
        );
        let points: Vec<(i64, u64)> = s["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
                let v: f64 = p[1].as_str().unwrap().parse().unwrap();
                (t, canonical_bits(v))
            })
            .filter(|(t, _)| *t >= from && *t <= to)
            .collect();
        if !points.is_empty() {
            out.insert(labels, points);
        }
    }
    out
}

/// NaNs compare by "is NaN" (JSON carries no payload); others by bits.
fn canonical_bits(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

#[test]
fn samples_from_real_prometheus_remote_write_arrive_intact() {
    let Some(prometheus) = peer("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // No scrape jobs: without a config Sightline scrapes itself, and those
    // series would (rightly) be in its store but not in Prometheus's.
    let quiet = dir.path().join("sightline.yml");
    std::fs::write(&quiet, "scrape_configs: []\n").unwrap();
    let sightline = Server::start(
        &dir.path().join("sightline"),
        &["--config", quiet.to_str().unwrap()],
    );
    let sightline_url = sightline.url();
    let (prom, prom_url) = common::start_prometheus_with(
        &prometheus,
        dir.path(),
        |prom_port| {
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{prom_port}']\n\
                 remote_write:\n  - url: {sightline_url}/api/v1/write\n    queue_config:\n      batch_send_deadline: 500ms\n      min_backoff: 50ms\n"
            )
        },
        &[],
    );

    // Compare a window that starts after remote write is surely running
    // and ends well before "now", so everything in it has been sent.
    let from = now_ms() + 2_000;
    std::thread::sleep(Duration::from_secs(12));
    let to = now_ms() - 3_000;
    std::thread::sleep(Duration::from_secs(4));
    let want = prometheus_samples(&prom_url, from, to);
    drop(prom);
    sightline.stop();

    let db = sightline_tsdb::Db::open(
        &dir.path().join("sightline"),
        sightline_tsdb::Options::default(),
    )
    .unwrap();
    let mut got = SeriesMap::new();
    for s in db
        .select(
            &sightline_core::QueryContext::new(),
            from,
            to,
            &[Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()],
        )
        .unwrap()
        .into_vec()
        .unwrap()
    {
        // Prometheus's API leaves staleness markers out of range vectors;
        // they are stored (and were sent) all the same.
        let points: Vec<(i64, u64)> = s
            .samples
            .filter(|x| !is_stale_nan(x.v))
            .map(|x| (x.t, canonical_bits(x.v)))
            .collect();
        if !points.is_empty() {
            got.insert(s.labels, points);
        }
    }
    db.close().unwrap();

    let total: usize = want.values().map(Vec::len).sum();
    assert!(
        want.len() > 100 && total > 1000,
        "too little data to compare: {} series, {total} samples",
        want.len()
    );
    let missing: Vec<_> = want
        .keys()
        .filter(|l| !got.contains_key(*l))
        .take(5)
        .collect();
    let extra: Vec<_> = got
        .keys()
        .filter(|l| !want.contains_key(*l))
        .take(5)
        .collect();
    assert!(
        missing.is_empty(),
        "series Prometheus stored but Sightline lacks: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "series Sightline has that Prometheus does not: {extra:?}"
    );
    for (labels, points) in &want {
        assert_eq!(&got[labels], points, "samples differ for {labels}");
    }
    eprintln!("{} series, {total} samples identical in both", want.len());
}
