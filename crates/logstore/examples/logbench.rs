//! The log store's side of the `bench/logstore_*.py` comparisons: ingests a
//! generated corpus into a store and runs searches, printing one JSON
//! object per command so the scripts can put our figures beside the
//! peer's.
//!
//! A corpus is a directory of `<job>__<service>.log` files, one stream per
//! file, each line `<ts_ns> <text>`.
//!
//! ```text
//! logbench ingest <corpus_dir> <store_dir>   append everything, flush, compact, report MB/s and bytes on disk
//! logbench search <store_dir> <job> <needle> [--no-hints] [--repeat N]
//! ```
//!
//! `LOGBENCH_NO_FILTERS=1` turns the token filters off (every chunk is
//! read: a full scan); `LOGBENCH_LEVEL` sets the zstd level.

use sightline_core::duration::Duration;
use sightline_core::logs::{LogAppender, LogEntry, LogHints, LogQuerier, LogStream};
use sightline_core::{Labels, Matcher};
use sightline_logstore::{LogStore, LogStoreOptions};
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

fn opts() -> LogStoreOptions {
    LogStoreOptions {
        token_filters: std::env::var_os("LOGBENCH_NO_FILTERS").is_none(),
        // Generated corpora carry old timestamps and push faster than
        // Loki's default per-stream limits allow: measure the engine.
        reject_old_samples_max_age: Duration::from_secs(0),
        per_stream_rate_limit: 0,
        retention_time: Duration::from_secs(0),
        compression_level: std::env::var("LOGBENCH_LEVEL")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3),
        ..LogStoreOptions::default()
    }
}

fn dir_size(p: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
        let m = e.metadata().unwrap();
        n += if m.is_dir() {
            dir_size(&e.path())
        } else {
            m.len()
        };
    }
    n
}

fn load(corpus: &Path) -> Vec<(Labels, Vec<LogEntry>)> {
    let mut files: Vec<_> = std::fs::read_dir(corpus)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            let (job, service) = stem.split_once("__").unwrap_or((&stem, ""));
            let labels = Labels::from_pairs([("job", job), ("service", service)]);
            let text = std::fs::read_to_string(&p).unwrap();
            let entries = text
                .lines()
                .map(|l| {
                    let (ts, line) = l.split_once(' ').unwrap();
                    LogEntry {
                        ts_ns: ts.parse().unwrap(),
                        line: line.to_owned(),
                        metadata: vec![],
                    }
                })
                .collect();
            (labels, entries)
        })
        .collect()
}

fn ingest(corpus: &Path, store: &Path) {
    let streams = load(corpus);
    let raw: u64 = streams
        .iter()
        .flat_map(|s| s.1.iter())
        .map(|e| e.line.len() as u64)
        .sum();
    let lines: usize = streams.iter().map(|s| s.1.len()).sum();
    // Pushes as Promtail sends them: batches of up to 1 MB, a slice of
    // every stream's lines per push.
    let mut pushes: Vec<Vec<LogStream>> = Vec::new();
    let mut cursors: Vec<std::vec::IntoIter<LogEntry>> =
        streams.iter().map(|s| s.1.clone().into_iter()).collect();
    loop {
        let mut push = Vec::new();
        for (i, c) in cursors.iter_mut().enumerate() {
            let mut entries = Vec::new();
            let mut bytes = 0;
            for e in c.by_ref() {
                bytes += e.line.len();
                entries.push(e);
                if bytes >= (1 << 20) / streams.len().max(1) {
                    break;
                }
            }
            if !entries.is_empty() {
                push.push(LogStream {
                    labels: streams[i].0.clone(),
                    entries,
                });
            }
        }
        if push.is_empty() {
            break;
        }
        pushes.push(push);
    }
    drop(streams);
    let s = LogStore::open(store, opts()).unwrap();
    let t0 = Instant::now();
    let c0 = cpu_secs();
    let mut accepted = 0;
    // The server's maintenance flushes each time the WAL passes
    // `flush_wal_size`; appending this fast, the bench does it itself.
    let flush_every = opts().flush_wal_size;
    let mut since_flush = 0u64;
    for p in pushes {
        let r = s.append("fake", p).unwrap();
        accepted += r.accepted;
        since_flush += r.accepted_bytes as u64;
        if since_flush >= flush_every {
            s.flush().unwrap();
            since_flush = 0;
        }
    }
    let append_secs = t0.elapsed().as_secs_f64();
    let append_cpu = cpu_secs() - c0;
    let t1 = Instant::now();
    s.flush().unwrap();
    let flush_secs = t1.elapsed().as_secs_f64();
    // At rest: what the maintenance thread's compaction leaves of the
    // blocks the flushes made (every 32MB of WAL by default).
    let flushed_bytes = dir_size(store);
    let (t2, c2) = (Instant::now(), cpu_secs());
    while s.compact().unwrap() {}
    let (compact_secs, compact_cpu) = (t2.elapsed().as_secs_f64(), cpu_secs() - c2);
    drop(s);
    println!(
        "{{\"lines\": {lines}, \"accepted\": {accepted}, \"raw_bytes\": {raw}, \"append_secs\": {append_secs:.4}, \"append_cpu_secs\": {append_cpu:.3}, \"flush_secs\": {flush_secs:.4}, \"flushed_bytes\": {flushed_bytes}, \"compact_secs\": {compact_secs:.4}, \"compact_cpu_secs\": {compact_cpu:.3}, \"store_bytes\": {}}}",
        dir_size(store)
    );
}

/// CPU seconds this process used (user + system), from /proc.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |x| x.1);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn search(store: &Path, job: &str, needle: &str, hints_on: bool, repeat: usize) {
    let s = LogStore::open_without_maintenance(store, opts()).unwrap();
    let m = [Matcher::equal("job", job)];
    let hints = LogHints {
        required: if hints_on {
            vec![vec![needle.to_owned()]]
        } else {
            vec![]
        },
        ..LogHints::default()
    };
    let stats = s.stats("fake", &m, i64::MIN, i64::MAX).unwrap();
    let mut times = Vec::new();
    let mut matches = 0;
    let skipped0 = s.counters().chunks_skipped.load(Relaxed);
    let read0 = s.counters().chunks_read.load(Relaxed);
    for _ in 0..repeat.max(1) {
        let t0 = Instant::now();
        matches = 0;
        for series in s.select("fake", &m, i64::MIN, i64::MAX, &hints).unwrap() {
            for e in series.entries {
                if e.unwrap().line.contains(needle) {
                    matches += 1;
                }
            }
        }
        times.push(t0.elapsed().as_secs_f64());
    }
    let n = repeat.max(1) as u64;
    println!(
        "{{\"matches\": {matches}, \"first_secs\": {:.4}, \"best_secs\": {:.4}, \"raw_bytes\": {}, \"chunks\": {}, \"chunks_skipped_per_run\": {}, \"chunks_read_per_run\": {}}}",
        times[0],
        times.iter().cloned().fold(f64::MAX, f64::min),
        stats.bytes,
        stats.chunks,
        (s.counters().chunks_skipped.load(Relaxed) - skipped0) / n,
        (s.counters().chunks_read.load(Relaxed) - read0) / n,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("ingest") if args.len() == 4 => ingest(Path::new(&args[2]), Path::new(&args[3])),
        Some("search") if args.len() >= 5 => {
            let hints = !args.iter().any(|a| a == "--no-hints");
            let repeat = args
                .iter()
                .position(|a| a == "--repeat")
                .and_then(|i| args.get(i + 1))
                .map_or(1, |v| v.parse().unwrap());
            search(Path::new(&args[2]), &args[3], &args[4], hints, repeat)
        }
        _ => {
            eprintln!("usage: logbench ingest <corpus_dir> <store_dir> | search <store_dir> <job> <needle> [--no-hints] [--repeat N]");
            std::process::exit(2);
        }
    }
}
