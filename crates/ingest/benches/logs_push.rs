//! Loki push decode throughput (issue 15: "at least 100 MB/s of raw log
//! lines per core through the push API"): MB of raw line text per
//! CPU-second through the whole push path short of the store: snappy,
//! protobuf (or JSON), the stream selector parsed, Loki's validation, and
//! the streams handed to an appender that keeps nothing. The store's own
//! cost (WAL, chunks) is measured by `bench/logs_push.py` against a
//! running server.
//!
//! `cargo bench -p sightline-ingest --bench logs_push`. A plain harness:
//! the number that matters is a rate, computed from this thread's CPU
//! time (`/proc/thread-self/schedstat`) where available, else wall time.

use prost::Message;
use sightline_core::logs::{LogAppendReport, LogAppender, LogStream};
use sightline_ingest::loki::{push_body, PushLimits};
use sightline_proto::loki::{EntryAdapter, PushRequest, StreamAdapter, Timestamp};
use std::hint::black_box;
use std::time::{Duration, Instant};

const STREAMS: usize = 100;
const LINES_PER_STREAM: usize = 1000;
const NOW: i64 = 1_700_000_000_000_000_000;

/// Counts what it is given, keeps nothing.
struct Discard;

impl LogAppender for Discard {
    fn append(&self, _t: &str, streams: Vec<LogStream>) -> sightline_core::Result<LogAppendReport> {
        let mut r = LogAppendReport::default();
        for s in &streams {
            r.accepted += s.entries.len();
            r.accepted_bytes += s.entries.iter().map(|e| e.line.len()).sum::<usize>();
        }
        black_box(streams);
        Ok(r)
    }
}

/// A mixed line: JSON, logfmt or an access log, as a busy service writes.
fn line(i: usize) -> String {
    match i % 3 {
        0 => format!(
            r#"{{"ts":"2023-11-14T22:13:{:02}.{:03}Z","level":"info","msg":"request served","method":"GET","path":"/api/v1/items/{}","status":200,"duration_ms":{},"trace_id":"{:032x}"}}"#,
            i % 60,
            i % 1000,
            i % 97,
            i % 250,
            i * 7919
        ),
        1 => format!(
            "ts=2023-11-14T22:13:{:02}Z level=warn caller=cache.go:{} msg=\"cache miss\" key=user:{} shard={} latency={}us",
            i % 60,
            i % 400,
            i * 13,
            i % 16,
            i % 900
        ),
        _ => format!(
            "10.0.{}.{} - - [14/Nov/2023:22:13:{:02} +0000] \"POST /checkout/{} HTTP/1.1\" {} {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"",
            i % 256,
            (i * 7) % 256,
            i % 60,
            i % 31,
            200 + (i % 4) * 100,
            512 + i % 4096
        ),
    }
}

fn request() -> (PushRequest, usize) {
    let mut raw = 0;
    let streams = (0..STREAMS)
        .map(|s| StreamAdapter {
            labels: format!(
                r#"{{job="shop/checkout", namespace="prod", pod="checkout-7d9f8c-{s:05}", container="app"}}"#
            ),
            entries: (0..LINES_PER_STREAM)
                .map(|i| {
                    let l = line(s * LINES_PER_STREAM + i);
                    raw += l.len();
                    let ts = NOW + (i as i64) * 1_000_000;
                    EntryAdapter {
                        timestamp: Some(Timestamp {
                            seconds: ts / 1_000_000_000,
                            nanos: (ts % 1_000_000_000) as i32,
                        }),
                        line: l,
                        structured_metadata: vec![],
                    }
                })
                .collect(),
            hash: 0,
        })
        .collect();
    (PushRequest { streams }, raw)
}

fn json_body(req: &PushRequest) -> Vec<u8> {
    let streams: Vec<serde_json::Value> = req
        .streams
        .iter()
        .map(|s| {
            let pairs = sightline_ingest::loki::selector::parse(&s.labels).unwrap();
            let stream: serde_json::Map<String, serde_json::Value> = pairs
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            let values: Vec<serde_json::Value> = s
                .entries
                .iter()
                .map(|e| {
                    let t = e.timestamp.unwrap();
                    serde_json::json!([
                        (t.seconds * 1_000_000_000 + i64::from(t.nanos)).to_string(),
                        e.line
                    ])
                })
                .collect();
            serde_json::json!({"stream": stream, "values": values})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "streams": streams })).unwrap()
}

fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn main() {
    let (req, raw) = request();
    let proto = snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap();
    let json = json_body(&req);
    let limits = PushLimits::default();
    for (name, body, ct) in [
        ("protobuf+snappy", &proto, "application/x-protobuf"),
        ("json", &json, "application/json"),
    ] {
        let run = || {
            let out = push_body(body, Some(ct), None, "fake", &limits, NOW, &Discard);
            assert_eq!(out.status, 204, "{}", out.message);
            black_box(out.report.accepted)
        };
        assert_eq!(run(), STREAMS * LINES_PER_STREAM);
        let wall = Instant::now();
        let cpu0 = thread_cpu_ns();
        let mut rounds = 0u32;
        while wall.elapsed() < Duration::from_secs(3) {
            run();
            rounds += 1;
        }
        let (secs, clock) = match (cpu0, thread_cpu_ns()) {
            (Some(a), Some(z)) => ((z - a) as f64 / 1e9 / f64::from(rounds), "cpu"),
            _ => (wall.elapsed().as_secs_f64() / f64::from(rounds), "wall"),
        };
        println!(
            "{name}: {} lines, {:.2} MB raw lines, {:.2} MB body: {:.2} ms {clock} per push, {:.0} MB/s of raw lines per core, {:.2} M lines/s",
            STREAMS * LINES_PER_STREAM,
            raw as f64 / 1e6,
            body.len() as f64 / 1e6,
            secs * 1e3,
            raw as f64 / 1e6 / secs,
            (STREAMS * LINES_PER_STREAM) as f64 / 1e6 / secs
        );
    }
}
