//! Issue 18, part 5: the log store under `kill -9`.
//!
//! Three clients push lines through Loki's push API as fast as the server
//! answers; the server is killed at a random point, 20 times on the same
//! directory. The store flushes its head into blocks at 256KB of WAL, cuts
//! chunks at 16KB and merges blocks under 512KB, with maintenance every
//! 100 ms, so runs die during flushes and compactions too. After each
//! restart every acknowledged line must come back through
//! `/loki/api/v1/query_range` with its exact timestamp and text.

mod common;
#[path = "common/faults.rs"]
mod faults;

use faults::{Ack, Store};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Lines per push.
const LINES: i64 = 4;

struct Logs;

/// One acknowledged push: client, timestamp of its first line (ns; the
/// others follow 1 µs apart).
#[derive(Clone, Debug)]
struct Rec(usize, i64);

fn line(c: usize, t: i64, j: i64) -> String {
    format!(
        "level=info client={c} t={t} j={j} msg=\"fault test line {}\"",
        t ^ j
    )
}

impl Store for Logs {
    type Rec = Rec;

    fn name(&self) -> &'static str {
        "logs"
    }

    fn args(&self, dir: &Path) -> Vec<String> {
        let config = dir.join("sightline.yml");
        std::fs::write(
            &config,
            "logs:\n  store:\n    flush_wal_size: 256KB\n    chunk_target_size: 16KB\n    \
             compact_block_size: 512KB\n    maintenance_interval: 100ms\n    \
             wal_sync_interval: 100ms\n    wal_segment_size: 128KB\n",
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
        let t = faults::now_ns().max(*state as i64 + 1000 * LINES);
        *state = t as u64;
        let values: Vec<_> = (0..LINES)
            .map(|j| serde_json::json!([(t + j * 1000).to_string(), line(c, t, j)]))
            .collect();
        let body = serde_json::json!({"streams": [{
            "stream": {"job": "fault", "client": c.to_string()},
            "values": values,
        }]});
        faults::post(
            http,
            &format!("{url}/loki/api/v1/push"),
            "application/json",
            serde_json::to_vec(&body).unwrap(),
            || Rec(c, t),
        )
    }

    fn verify(&self, url: &str, acked: &[Rec]) -> Result<(), String> {
        let mut bad = Vec::new();
        for c in 0..faults::CLIENTS {
            let mine: Vec<i64> = acked.iter().filter(|r| r.0 == c).map(|r| r.1).collect();
            let (Some(&lo), Some(&hi)) = (mine.iter().min(), mine.iter().max()) else {
                continue;
            };
            let stored = read_stream(url, c, lo, hi + 1000 * LINES)?;
            for t in mine {
                for j in 0..LINES {
                    let ts = t + j * 1000;
                    match stored.get(&ts) {
                        None => bad.push(format!("client {c} line @ {ts} missing")),
                        Some(got) if !got.contains(&line(c, t, j)) => {
                            bad.push(format!("client {c} @ {ts}: {got:?}"))
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        faults::problems("acknowledged lines lost or wrong", &bad)
    }
}

/// Every line of client `c`'s stream in `[lo, hi)` (ns), page by page
/// (Loki answers at most 5000 lines a query).
fn read_stream(
    url: &str,
    c: usize,
    lo: i64,
    hi: i64,
) -> Result<HashMap<i64, HashSet<String>>, String> {
    let http = common::http();
    let mut out: HashMap<i64, HashSet<String>> = HashMap::new();
    let mut start = lo;
    loop {
        let q = format!(
            "{url}/loki/api/v1/query_range?query={}&start={start}&end={hi}&limit=5000&direction=forward",
            faults::urlencode(&format!("{{job=\"fault\", client=\"{c}\"}}"))
        );
        let v: serde_json::Value = http
            .get(&q)
            .send()
            .and_then(|r| r.json())
            .map_err(|e| format!("query_range: {e}"))?;
        let result = v["data"]["result"]
            .as_array()
            .ok_or_else(|| format!("query_range answered {v}"))?;
        let mut n = 0;
        let mut last = start;
        for s in result {
            for p in s["values"].as_array().unwrap() {
                let ts: i64 = p[0].as_str().unwrap().parse().unwrap();
                out.entry(ts)
                    .or_default()
                    .insert(p[1].as_str().unwrap().to_owned());
                last = last.max(ts);
                n += 1;
            }
        }
        if n < 5000 {
            return Ok(out);
        }
        // Lines of one timestamp never straddle pages here: each has its own.
        start = last + 1;
    }
}

#[test]
fn issue_18_logs_survive_kill_9_during_ingest_flush_and_compaction() {
    faults::kill9_runs(&Logs, faults::runs(20));
}

#[test]
fn issue_18_logs_full_disk_refuses_writes_and_recovers() {
    faults::full_disk(&Logs, 256 << 10);
}
