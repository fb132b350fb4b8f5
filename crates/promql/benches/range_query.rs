//! Range-query timing over many series in a [`MemStore`]: the shape of the
//! Prometheus baseline in ARCHITECTURE.md (2 minutes at a 1 s step).
//! Run with `cargo bench -p sightline-promql --bench range_query`;
//! `SERIES=10000` changes the series count, `QUERY=rate` picks queries.

use sightline_core::{Labels, MemStore};
use sightline_promql::{Engine, EngineOptions};
use std::time::Instant;

fn main() {
    let n: usize = std::env::var("SERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let store = MemStore::new();
    // 15 s scrape interval over 10 minutes.
    for i in 0..n {
        let l = Labels::from_pairs([
            ("__name__", "http_requests_total".to_string()),
            ("job", format!("job{}", i % 10)),
            ("instance", format!("host{i}")),
        ]);
        for k in 0..40 {
            store.add(l.clone(), k * 15_000, (k * (i as i64 % 7 + 1)) as f64);
        }
    }
    let engine = Engine::new(EngineOptions::default());
    // What the store alone costs, to tell engine time from MemStore time.
    let t = Instant::now();
    let m = [sightline_core::Matcher::equal(
        "__name__",
        "http_requests_total",
    )];
    let ctx = sightline_core::QueryContext::new();
    let sel = sightline_core::MetricQuerier::select(&store, &ctx, 180_001, 600_000, &m)
        .and_then(|s| s.into_vec())
        .expect("select");
    let count: usize = sel.into_iter().map(|s| s.samples.count()).sum();
    println!(
        "{n} series: MemStore select of {count} samples took {:?}",
        t.elapsed()
    );
    let (start, end) = (480_000, 600_000);
    for q in [
        "http_requests_total",
        "rate(http_requests_total[1m])",
        "sum by (job) (rate(http_requests_total[1m]))",
        "http_requests_total * 2 > 10",
        "http_requests_total / on(instance, job) http_requests_total",
    ] {
        // QUERY=substring runs only the matching queries.
        if std::env::var("QUERY").is_ok_and(|f| !q.contains(f.as_str())) {
            continue;
        }
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let r = engine
                .range_query(&store, q, start, end, 1000)
                .expect("query");
            times.push(t.elapsed());
            std::hint::black_box(r);
        }
        times.sort();
        println!(
            "{n} series, {q}: median {:?} (min {:?})",
            times[2], times[0]
        );
    }
}
