//! The trace store's bench driver, run by bench/tracestore_*.py (not a
//! test): loads spans written by bench/tracegen.py and prints one JSON
//! line of figures.
//!
//! - `load JSONL DIR [ROUNDS]`: appends the file's spans ROUNDS times
//!   (round r gets trace ids with r xored into their top byte and times r file
//!   spans later) in batches of 500 on one thread, timing `append` alone;
//!   then cuts the head, compacts and prints bytes on disk per span.
//! - `byid DIR JSONL ROUNDS N`: opens the store and looks up N random
//!   trace ids of it; prints latency percentiles.
//! - `steady JSONL DIR RATE SECONDS`: appends RATE spans/s in ten batches
//!   a second with the maintenance thread running, and prints this
//!   process's RSS (median and peak, sampled each second).

use serde_json::Value;
use sightline_core::traces::{
    AnyValue, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, StatusCode, TraceAppender,
    TraceId, TraceQuerier,
};
use sightline_tracestore::{TraceStore, TraceStoreOptions};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn attrs(v: &Value) -> Vec<(String, AnyValue)> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let a = match v {
                        Value::String(s) => AnyValue::Str(s.clone()),
                        Value::Bool(b) => AnyValue::Bool(*b),
                        Value::Number(n) if n.is_i64() => AnyValue::Int(n.as_i64().unwrap_or(0)),
                        Value::Number(n) => AnyValue::Float(n.as_f64().unwrap_or(0.0)),
                        other => AnyValue::Str(other.to_string()),
                    };
                    (k.clone(), a)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Turns JSON lines into spans, sharing resources and scopes as an SDK's
/// batches do.
#[derive(Default)]
struct Conv {
    res: HashMap<String, Arc<Resource>>,
    scopes: HashMap<String, Arc<Scope>>,
}

impl Conv {
    fn span(&mut self, line: &str, round: u64, shift: i64) -> Span {
        let v: Value = serde_json::from_str(line).expect("a JSON span");
        let s = |k: &str| v[k].as_str().unwrap_or("").to_owned();
        let i = |k: &str| v[k].as_i64().unwrap_or(0);
        let tid = TraceId::parse_hex(&s("trace_id")).expect("trace id");
        let trace_id = TraceId::from_halves(tid.high() ^ (round << 56), tid.low());
        let rkey = v["resource"].to_string();
        let resource = self
            .res
            .entry(rkey)
            .or_insert_with(|| {
                Arc::new(Resource {
                    attributes: attrs(&v["resource"]),
                    dropped_attributes_count: 0,
                })
            })
            .clone();
        let skey = format!("{}\n{}", s("scope_name"), s("scope_version"));
        let scope = self
            .scopes
            .entry(skey)
            .or_insert_with(|| {
                Arc::new(Scope {
                    name: s("scope_name"),
                    version: s("scope_version"),
                    attributes: vec![],
                })
            })
            .clone();
        let parent = s("parent_span_id");
        let mut events = Vec::new();
        if let (Some(t), Some(n), Some(a)) = (
            v["event_times"].as_array(),
            v["event_names"].as_array(),
            v["event_attrs"].as_array(),
        ) {
            for ((t, n), a) in t.iter().zip(n).zip(a) {
                events.push(SpanEvent {
                    time_ns: t.as_i64().unwrap_or(0) + shift,
                    name: n.as_str().unwrap_or("").to_owned(),
                    attributes: attrs(a),
                    dropped_attributes_count: 0,
                });
            }
        }
        Span {
            trace_id,
            span_id: SpanId::parse_hex(&s("span_id")).expect("span id"),
            parent_span_id: (!parent.is_empty())
                .then(|| SpanId::parse_hex(&parent).expect("parent id")),
            name: s("name"),
            kind: SpanKind::from_i32(i("kind") as i32),
            start_ns: i("start_ns") + shift,
            end_ns: i("end_ns") + shift,
            attributes: attrs(&v["attributes"]),
            events,
            status_code: StatusCode::from_i32(i("status_code") as i32),
            status_message: s("status_message"),
            resource,
            scope,
            ..Default::default()
        }
    }
}

fn opts() -> TraceStoreOptions {
    TraceStoreOptions {
        ingestion_rate_bytes: 0,
        retention_time: sightline_core::duration::Duration::from_secs(0),
        ..TraceStoreOptions::default()
    }
}

/// The file's time span, so that round r lands after round r-1.
fn file_span_ns(path: &str) -> (i64, i64, u64) {
    let f = BufReader::new(std::fs::File::open(path).expect("open spans"));
    let (mut lo, mut hi, mut n) = (i64::MAX, i64::MIN, 0);
    for l in f.lines() {
        let v: Value = serde_json::from_str(&l.expect("line")).expect("json");
        lo = lo.min(v["start_ns"].as_i64().unwrap_or(0));
        hi = hi.max(v["end_ns"].as_i64().unwrap_or(0));
        n += 1;
    }
    (lo, hi, n)
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// CPU time this thread has run, in ns (the first field of
/// /proc/thread-self/schedstat): an append rate on a shared machine.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn load(path: &str, dir: &Path, rounds: u64) {
    let (lo, hi, _) = file_span_ns(path);
    let width = hi - lo + 1_000_000_000;
    let store = TraceStore::open_without_maintenance(dir, opts()).expect("open store");
    let mut conv = Conv::default();
    let mut append = Duration::ZERO;
    let mut append_cpu_ns = 0u64;
    let mut spans_total = 0u64;
    for r in 0..rounds {
        let shift = (r as i64 - rounds as i64 + 1) * width;
        let f = BufReader::new(std::fs::File::open(path).expect("open spans"));
        let mut lines = f.lines();
        loop {
            let chunk: Vec<Span> = lines
                .by_ref()
                .take(50_000)
                .map(|l| conv.span(&l.expect("line"), r, shift))
                .collect();
            if chunk.is_empty() {
                break;
            }
            let mut it = chunk.into_iter().peekable();
            while it.peek().is_some() {
                let batch: Vec<Span> = it.by_ref().take(500).collect();
                let n = batch.len();
                let (t, c) = (Instant::now(), thread_cpu_ns());
                let rep = store.append("bench", batch).expect("append");
                append += t.elapsed();
                append_cpu_ns += thread_cpu_ns() - c;
                assert_eq!(rep.accepted, n, "{:?}", rep.refused);
                spans_total += n as u64;
                // The maintenance thread's job, done inline so that the
                // timing above is the append's alone.
                if spans_total % 20_000 < 500 {
                    store.maintain().expect("maintain");
                }
            }
        }
    }
    let t = Instant::now();
    store.flush().expect("flush");
    while store.compact_all().expect("compact") {}
    let settle = t.elapsed();
    let bytes = store.disk_bytes();
    println!(
        "{}",
        serde_json::json!({
            "spans": spans_total,
            "append_seconds": append.as_secs_f64(),
            "spans_per_second": spans_total as f64 / append.as_secs_f64(),
            "append_cpu_seconds": append_cpu_ns as f64 / 1e9,
            "spans_per_cpu_second": spans_total as f64 * 1e9 / append_cpu_ns.max(1) as f64,
            "store_bytes": bytes,
            "bytes_per_span": bytes as f64 / spans_total as f64,
            "blocks": store.block_count(),
            "final_flush_compact_seconds": settle.as_secs_f64(),
        })
    );
}

fn byid(dir: &Path, path: &str, rounds: u64, n: usize) {
    let mut ids = Vec::new();
    let f = BufReader::new(std::fs::File::open(path).expect("open spans"));
    for l in f.lines() {
        let l = l.expect("line");
        let at = l.find("\"trace_id\":\"").expect("trace id") + 12;
        ids.push(TraceId::parse_hex(&l[at..at + 32]).expect("hex"));
    }
    ids.dedup();
    let t = Instant::now();
    let store = TraceStore::open_without_maintenance(dir, opts()).expect("open store");
    let open_s = t.elapsed().as_secs_f64();
    let mut rng = 0x9e3779b97f4a7c15u64;
    let mut lat = Vec::with_capacity(n);
    let mut spans = 0;
    for _ in 0..n {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let id = ids[(rng % ids.len() as u64) as usize];
        let r = (rng >> 32) % rounds;
        let id = TraceId::from_halves(id.high() ^ (r << 56), id.low());
        let t = Instant::now();
        let got = store.trace("bench", id, None).expect("trace");
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!got.is_empty(), "trace {id} not found");
        spans += got.len();
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    println!(
        "{}",
        serde_json::json!({
            "lookups": n, "blocks": store.block_count(), "open_seconds": open_s,
            "spans_per_trace": spans as f64 / n as f64,
            "p50_ms": p(0.5), "p90_ms": p(0.9), "p99_ms": p(0.99), "max_ms": lat[lat.len() - 1],
        })
    );
}

fn steady(path: &str, dir: &Path, rate: u64, seconds: u64) {
    let (lo, _, _) = file_span_ns(path);
    let store = TraceStore::open(dir, opts()).expect("open store");
    let shift = sightline_core::time::now_ms() * 1_000_000 - lo;
    let mut conv = Conv::default();
    let f = BufReader::new(std::fs::File::open(path).expect("open spans"));
    let mut lines = f.lines();
    let per_tick = (rate / 10) as usize;
    let start = Instant::now();
    let mut samples = Vec::new();
    let mut sent = 0u64;
    let mut round = 0u64;
    for tick in 0..seconds * 10 {
        let mut batch: Vec<Span> = Vec::with_capacity(per_tick);
        while batch.len() < per_tick {
            match lines.next() {
                Some(l) => batch.push(conv.span(&l.expect("line"), round, shift)),
                None => {
                    round += 1;
                    lines = BufReader::new(std::fs::File::open(path).expect("open")).lines();
                }
            }
        }
        sent += batch.len() as u64;
        store.append("bench", batch).expect("append");
        if tick % 10 == 9 {
            samples.push(rss_bytes());
        }
        let due = start + Duration::from_millis(100 * (tick + 1));
        if let Some(w) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(w);
        }
    }
    let behind = start.elapsed().as_secs_f64() - seconds as f64;
    let mut s = samples.clone();
    s.sort_unstable();
    println!(
        "{}",
        serde_json::json!({
            "spans": sent, "seconds": seconds, "rate": rate,
            "seconds_behind_schedule": behind,
            "rss_median_bytes": s[s.len() / 2], "rss_max_bytes": s[s.len() - 1],
            "rss_samples_mb": samples.iter().map(|b| b / (1 << 20)).collect::<Vec<_>>(),
            "blocks": store.block_count(),
        })
    );
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let usage = "usage: tracebench load JSONL DIR [ROUNDS] | byid DIR JSONL ROUNDS N | steady JSONL DIR RATE SECONDS";
    match a.get(1).map(String::as_str) {
        Some("load") if a.len() >= 4 => load(
            &a[2],
            Path::new(&a[3]),
            a.get(4).map_or(1, |r| r.parse().expect("rounds")),
        ),
        Some("byid") if a.len() == 6 => byid(
            Path::new(&a[2]),
            &a[3],
            a[4].parse().expect("rounds"),
            a[5].parse().expect("n"),
        ),
        Some("steady") if a.len() == 6 => steady(
            &a[2],
            Path::new(&a[3]),
            a[4].parse().expect("rate"),
            a[5].parse().expect("seconds"),
        ),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
