//! Append throughput, shaped like `promtool tsdb bench write`: the first
//! `--metrics` label sets of a JSON-lines file, `--scrapes` scrapes 30 s
//! apart, appended in groups of 100 scrapes by one job per 1000 series,
//! each scrape one transaction, series refs cached after the first append,
//! values counting up by 1000. Maintenance (head cuts, compaction) is off,
//! as promtool's benchmark disables compaction ("Compactions disabled").
//!
//! `cargo bench -p sightline-tsdb --bench write -- --metrics=20000 --scrapes=3000 --out=/tmp/x FILE`
//! prints `samples/sec: N` like promtool. It never asserts on time.
//!
//! promtool runs each job as a goroutine, and Go runs goroutines on
//! GOMAXPROCS threads (one per core). This runs the jobs on one worker
//! thread per core likewise (`--threads=N` to change it; `--threads=0`
//! starts one OS thread per job, which on 2 cores costs ~20 % in context
//! switches and cache refills between the jobs' series).
//!
//! It allocates through mimalloc, as `sightline serve` does: this measures
//! the store as shipped (promtool measures Prometheus's with Go's allocator).

use sightline_core::{Labels, MetricAppender};
use sightline_tsdb::{Db, Options};
use std::path::PathBuf;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TIME_DELTA: i64 = 30_000;

fn main() {
    let mut metrics = 10_000usize;
    let mut scrapes = 3_000usize;
    // Like GOMAXPROCS: one worker per core unless told otherwise; 0 means
    // one thread per 1000-series job.
    let mut threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut out = std::env::temp_dir().join("sightline-bench-write");
    // Prometheus's own label set file, beside the repository (as the
    // upstream suite is); another path may be given as the argument.
    let mut file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/peer-tests/promql/tsdb-testdata/20kseries.json");
    for a in std::env::args().skip(1) {
        if let Some(v) = a.strip_prefix("--metrics=") {
            metrics = v.parse().expect("--metrics=N");
        } else if let Some(v) = a.strip_prefix("--scrapes=") {
            scrapes = v.parse().expect("--scrapes=N");
        } else if let Some(v) = a.strip_prefix("--threads=") {
            threads = v.parse().expect("--threads=N");
        } else if let Some(v) = a.strip_prefix("--out=") {
            out = PathBuf::from(v);
        } else if !a.starts_with("--") {
            file = PathBuf::from(a);
        }
    }
    let t0 = Instant::now();
    let text = std::fs::read_to_string(&file).expect("reading the series file");
    let labels: Vec<Labels> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(metrics)
        .map(|l| {
            let m: std::collections::BTreeMap<String, String> =
                serde_json::from_str(l).expect("a JSON object per line");
            Labels::from_pairs(m)
        })
        .collect();
    println!(
        ">> read {} label sets in {:?}; worker threads: {threads} (0: one per job)",
        labels.len(),
        t0.elapsed(),
    );
    let _ = std::fs::remove_dir_all(&out);
    let opts = Options {
        maintenance_interval_ms: 0,
        ..Options::default()
    };
    let db = Db::open(&out, opts).expect("opening the database");

    let start = Instant::now();
    let mut total = 0u64;
    let mut refs: Vec<u64> = vec![0; labels.len()];
    let mut values: Vec<i64> = vec![123_456_789; labels.len()];
    let mut i = 0;
    while i < scrapes {
        let n = 100.min(scrapes - i);
        let base = TIME_DELTA * i as i64;
        // One job per 1000 series, as promtool starts one goroutine per
        // 1000 series; the jobs run on `threads` workers as goroutines run
        // on GOMAXPROCS threads.
        let jobs: Vec<_> = labels
            .chunks(1000)
            .zip(refs.chunks_mut(1000))
            .zip(values.chunks_mut(1000))
            .map(std::sync::Mutex::new)
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let workers = if threads == 0 { jobs.len() } else { threads };
        total += std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let (db, jobs, next) = (&db, &jobs, &next);
                    s.spawn(move || {
                        let mut total = 0u64;
                        loop {
                            let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(job) = jobs.get(j) else { break };
                            let mut job = job.lock().expect("job");
                            let ((batch, refs), values) = &mut *job;
                            let mut ts = base;
                            for _ in 0..n {
                                let mut app = db.appender();
                                ts += TIME_DELTA;
                                for ((l, r), v) in
                                    batch.iter().zip(refs.iter_mut()).zip(values.iter_mut())
                                {
                                    *v += 1000;
                                    *r = app.append(*r, l, ts, *v as f64).expect("append");
                                    total += 1;
                                }
                                app.commit().expect("commit");
                            }
                        }
                        total
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("worker"))
                .sum::<u64>()
        });
        i += 100;
    }
    let took = start.elapsed();
    println!(">> ingestion completed in {took:?}");
    println!(" > total samples: {total}");
    println!(" > samples/sec: {:.0}", total as f64 / took.as_secs_f64());
    let t1 = Instant::now();
    db.close().expect("close");
    let s = db.stats();
    println!(
        ">> closed in {:?}; head series {}, blocks {}, head cuts {}, wal fsyncs {}",
        t1.elapsed(),
        s.head_series,
        s.blocks_loaded,
        s.head_truncations_total,
        s.wal_fsyncs_total
    );
}
