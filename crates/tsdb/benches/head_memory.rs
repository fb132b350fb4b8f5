//! Head memory: RSS per active series.
//!
//! Creates `--series=N` (1,000,000 by default) node-exporter-like series
//! (`__name__` from 200 names, `instance` from 5,000 hosts, `job`, `shard`),
//! appends `--scrapes=S` (10) scrapes 15 s apart in transactions of 1000
//! series, and prints the process's RSS growth per series. Maintenance is off,
//! so everything stays in the head; every series has an open chunk.
//! Never asserts on time or size.

use sightline_core::{Labels, MetricAppender};
use sightline_tsdb::{Db, Options};
use std::path::PathBuf;
use std::time::Instant;

fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn labels(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", format!("node_metric_{}_total", i % 200)),
        (
            "instance",
            format!("host-{:05}.example.internal:9100", (i / 200) % 5000),
        ),
        ("job", "node".to_string()),
        ("shard", (i % 7).to_string()),
    ])
}

fn main() {
    let mut n = 1_000_000usize;
    let mut scrapes = 10usize;
    let mut out = std::env::temp_dir().join("sightline-bench-head-memory");
    for a in std::env::args().skip(1) {
        if let Some(v) = a.strip_prefix("--series=") {
            n = v.parse().expect("--series=N");
        } else if let Some(v) = a.strip_prefix("--scrapes=") {
            scrapes = v.parse().expect("--scrapes=N");
        } else if let Some(v) = a.strip_prefix("--out=") {
            out = PathBuf::from(v);
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    let opts = Options {
        maintenance_interval_ms: 0,
        ..Options::default()
    };
    let db = Db::open(&out, opts).expect("open");
    // The caller's ref cache is ours to pay for, not the head's: measure it
    // separately and subtract.
    let mut refs = vec![0u64; n];
    let base = rss_bytes();
    let t0 = Instant::now();
    let start_ts = 1_700_000_000_000i64;
    for s in 0..scrapes {
        let ts = start_ts + s as i64 * 15_000 + (s as i64 * 7) % 5;
        for lo in (0..n).step_by(1000) {
            let mut app = db.appender();
            for (i, r) in refs.iter_mut().enumerate().skip(lo).take(1000) {
                let l = if *r == 0 { labels(i) } else { Labels::empty() };
                *r = app
                    .append(*r, &l, ts, (i as f64) * 1.5 + s as f64)
                    .expect("append");
            }
            app.commit().expect("commit");
        }
    }
    let took = t0.elapsed();
    let rss = rss_bytes();
    let st = db.stats();
    let (heap, symbols) = db.head_heap_estimate();
    println!("series: {n}, scrapes: {scrapes}, appended in {took:?}");
    println!(
        "head series: {}, head chunks: {}, symbols: {symbols}",
        st.head_series, st.head_chunks
    );
    println!("rss before: {} MiB, after: {} MiB", base >> 20, rss >> 20);
    println!(
        "rss growth per series: {:.0} bytes",
        (rss - base) as f64 / n as f64
    );
    println!(
        "series data heap estimate per series: {:.0} bytes",
        heap as f64 / n as f64
    );
    db.close().expect("close");
}
