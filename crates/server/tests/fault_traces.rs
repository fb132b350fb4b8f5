//! Issue 18, part 5: the trace store under `kill -9`.
//!
//! Three clients send traces as fast as the server answers, alternating
//! OTLP/HTTP JSON and Zipkin v2; the server is killed at a random point,
//! 20 times on the same directory. The head is cut into a block at 128KB
//! and blocks under 256KB are merged, with maintenance every 100 ms, so
//! runs die during block cuts and compactions too. After each restart
//! every acknowledged trace must come back whole through Tempo's
//! `/api/traces/{id}`: each of its spans, by its unique name. The last
//! start checks the last run's traces and 5,000 earlier ones at random
//! (all ~90,000, one request each, would take a minute).

mod common;
#[path = "common/faults.rs"]
mod faults;

use faults::{Ack, Store};
use std::path::Path;

/// Spans per trace.
const SPANS: u64 = 3;

struct Traces;

/// One acknowledged trace: client, start (ns), which doubles as its id.
#[derive(Clone, Debug)]
struct Rec(usize, i64);

fn trace_id(c: usize, t: i64) -> String {
    format!("{:016x}{:016x}", c as u64 + 1, t as u64)
}

fn span_name(c: usize, t: i64, k: u64) -> String {
    format!("fault-{c}-{t}-{k}")
}

fn otlp(c: usize, t: i64) -> serde_json::Value {
    let spans: Vec<_> = (0..SPANS)
        .map(|k| {
            let mut s = serde_json::json!({
                "traceId": trace_id(c, t),
                "spanId": format!("{:016x}", k + 1),
                "name": span_name(c, t, k),
                "kind": 2,
                "startTimeUnixNano": (t + k as i64 * 1000).to_string(),
                "endTimeUnixNano": (t + 5_000_000).to_string(),
                "attributes": [{"key": "fault.k", "value": {"intValue": k.to_string()}}],
            });
            if k > 0 {
                s["parentSpanId"] = serde_json::json!(format!("{:016x}", 1));
            }
            s
        })
        .collect();
    serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": format!("fault-{c}")}}]},
        "scopeSpans": [{"scope": {"name": "fault"}, "spans": spans}],
    }]})
}

fn zipkin(c: usize, t: i64) -> serde_json::Value {
    let spans: Vec<_> = (0..SPANS)
        .map(|k| {
            let mut s = serde_json::json!({
                "traceId": trace_id(c, t),
                "id": format!("{:016x}", k + 1),
                "name": span_name(c, t, k),
                "kind": "SERVER",
                "timestamp": t / 1000 + k as i64,
                "duration": 5000,
                "localEndpoint": {"serviceName": format!("fault-{c}")},
                "tags": {"fault.k": k.to_string()},
            });
            if k > 0 {
                s["parentId"] = serde_json::json!(format!("{:016x}", 1));
            }
            s
        })
        .collect();
    serde_json::json!(spans)
}

impl Store for Traces {
    type Rec = Rec;

    fn name(&self) -> &'static str {
        "traces"
    }

    fn args(&self, dir: &Path) -> Vec<String> {
        let config = dir.join("sightline.yml");
        std::fs::write(
            &config,
            "traces:\n  store:\n    max_block_bytes: 128KB\n    compact_block_size: 256KB\n    \
             maintenance_interval: 100ms\n    wal_sync_interval: 100ms\n    \
             wal_segment_size: 128KB\n    ingestion_rate_bytes: 0\n",
        )
        .unwrap();
        vec![
            "--config".into(),
            config.display().to_string(),
            "--otlp.grpc.listen".into(),
            "0".into(),
        ]
    }

    fn write(
        &self,
        http: &reqwest::blocking::Client,
        url: &str,
        c: usize,
        state: &mut u64,
    ) -> Ack<Rec> {
        // Zipkin timestamps are µs: keep starts on whole µs.
        let t = (faults::now_ns() / 1000 * 1000).max(*state as i64 + 1000);
        *state = t as u64;
        let (path, body) = if (t / 1000) % 2 == 0 {
            ("/v1/traces", otlp(c, t))
        } else {
            ("/api/v2/spans", zipkin(c, t))
        };
        faults::post(
            http,
            &format!("{url}{path}"),
            "application/json",
            serde_json::to_vec(&body).unwrap(),
            || Rec(c, t),
        )
    }

    fn final_sample(&self) -> Option<usize> {
        Some(5000)
    }

    fn verify(&self, url: &str, acked: &[Rec]) -> Result<(), String> {
        let bad = std::sync::Mutex::new(Vec::new());
        let chunk = acked.len().div_ceil(4).max(1);
        std::thread::scope(|s| {
            for part in acked.chunks(chunk) {
                let bad = &bad;
                s.spawn(move || {
                    let http = common::http();
                    for Rec(c, t) in part {
                        let id = trace_id(*c, *t);
                        let body = http
                            .get(format!("{url}/api/traces/{id}"))
                            .header("Accept", "application/json")
                            .send()
                            .and_then(|r| r.text())
                            .unwrap_or_default();
                        let missing: Vec<u64> = (0..SPANS)
                            .filter(|k| !body.contains(&format!("\"{}\"", span_name(*c, *t, *k))))
                            .collect();
                        if !missing.is_empty() {
                            bad.lock()
                                .unwrap()
                                .push(format!("trace {id}: spans {missing:?} missing"));
                        }
                    }
                });
            }
        });
        faults::problems(
            "acknowledged traces lost or incomplete",
            &bad.into_inner().unwrap(),
        )
    }
}

#[test]
fn issue_18_traces_survive_kill_9_during_ingest_cuts_and_compaction() {
    faults::kill9_runs(&Traces, faults::runs(20));
}

#[test]
fn issue_18_traces_full_disk_refuses_writes_and_recovers() {
    faults::full_disk(&Traces, 256 << 10);
}
