//! Issue 18, part 5: the metrics store (TSDB) under `kill -9`.
//!
//! Three clients push remote_write requests as fast as the server answers;
//! the server is killed at a random point, 20 times on the same directory,
//! with 2 s blocks and maintenance every 200 ms so that runs die while the
//! head is cut into blocks and blocks are compacted, not only mid-append.
//! After each restart every acknowledged sample must come back through
//! `/api/v1/query` with its exact value.

mod common;
#[path = "common/faults.rs"]
mod faults;

use faults::{Ack, Store};
use prost::Message;
use sightline_proto::prometheus::{Label, Sample, TimeSeries, WriteRequest};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

const SERIES: usize = 10;

struct Metrics;

/// One acknowledged request: client, timestamp (ms); its series and values
/// follow from those.
#[derive(Clone, Debug)]
struct Rec(usize, i64);

fn value(c: usize, s: usize, t: i64) -> f64 {
    (c * 1_000_003 + s * 7919) as f64 + (t % 100_000_000) as f64 * 0.25
}

impl Store for Metrics {
    type Rec = Rec;

    fn name(&self) -> &'static str {
        "metrics"
    }

    fn args(&self, _dir: &Path) -> Vec<String> {
        [
            "--storage.tsdb.min-block-duration",
            "2s",
            "--storage.tsdb.maintenance-interval",
            "200ms",
            "--otlp.grpc.listen",
            "0",
        ]
        .map(String::from)
        .to_vec()
    }

    fn write(
        &self,
        http: &reqwest::blocking::Client,
        url: &str,
        c: usize,
        state: &mut u64,
    ) -> Ack<Rec> {
        // Timestamps follow the clock (so the head's window moves on as
        // blocks are cut) and grow by at least 1 ms per request.
        let t = (faults::now_ns() / 1_000_000).max(*state as i64 + 1);
        *state = t as u64;
        let req = WriteRequest {
            timeseries: (0..SERIES)
                .map(|s| TimeSeries {
                    labels: vec![
                        Label {
                            name: "__name__".into(),
                            value: "fault_total".into(),
                        },
                        Label {
                            name: "client".into(),
                            value: c.to_string(),
                        },
                        Label {
                            name: "series".into(),
                            value: s.to_string(),
                        },
                    ],
                    samples: vec![Sample {
                        timestamp: t,
                        value: value(c, s, t),
                    }],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let body = snap::raw::Encoder::new()
            .compress_vec(&req.encode_to_vec())
            .unwrap();
        match http
            .post(format!("{url}/api/v1/write"))
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(body)
            .send()
        {
            Ok(r) if r.status().is_success() => Ack::Yes(Rec(c, t)),
            Ok(r) => Ack::Refused(format!(
                "{}: {}",
                r.status(),
                r.text().unwrap_or_default().trim()
            )),
            Err(_) => Ack::Gone,
        }
    }

    fn verify(&self, url: &str, acked: &[Rec]) -> Result<(), String> {
        let Some(max_t) = acked.iter().map(|r| r.1).max() else {
            return Ok(());
        };
        // A range selector returns the raw samples: every one of the last
        // day, evaluated just after the newest acknowledged one.
        let q = format!(
            "{url}/api/v1/query?query={}&time={}",
            faults::urlencode("fault_total[1d]"),
            (max_t + 1) as f64 / 1000.0
        );
        let v: serde_json::Value = common::http()
            .get(q)
            .send()
            .and_then(|r| r.json())
            .map_err(|e| format!("query: {e}"))?;
        let mut stored: HashMap<(usize, usize), BTreeMap<i64, String>> = HashMap::new();
        for s in v["data"]["result"]
            .as_array()
            .ok_or_else(|| format!("no result: {v}"))?
        {
            let m = &s["metric"];
            let key = (
                m["client"].as_str().unwrap().parse().unwrap(),
                m["series"].as_str().unwrap().parse().unwrap(),
            );
            let samples = stored.entry(key).or_default();
            for p in s["values"].as_array().unwrap() {
                let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
                samples.insert(t, p[1].as_str().unwrap().to_owned());
            }
        }
        let mut bad = Vec::new();
        for Rec(c, t) in acked {
            for s in 0..SERIES {
                let want = value(*c, s, *t);
                match stored.get(&(*c, s)).and_then(|m| m.get(t)) {
                    None => bad.push(format!("client {c} series {s} @ {t} missing")),
                    Some(got) if got.parse::<f64>().map(f64::to_bits) != Ok(want.to_bits()) => {
                        bad.push(format!("client {c} series {s} @ {t}: {got} != {want}"))
                    }
                    Some(_) => {}
                }
            }
        }
        faults::problems("acknowledged samples lost or wrong", &bad)
    }
}

/// It found a TSDB bug: a client's samples just behind the others', committed
/// while the head was cut into 2 s blocks, were answered 2xx and then lost
/// with the head's old range (about one run in 20). `Db::cut_head` now raises
/// the floor before collecting the block, and a commit below it is refused.
#[test]
fn issue_18_metrics_survive_kill_9_during_ingest_and_compaction() {
    faults::kill9_runs(&Metrics, faults::runs(20));
}

#[test]
fn issue_18_metrics_full_disk_refuses_writes_and_recovers() {
    faults::full_disk(&Metrics, 256 << 10);
}

/// The harness itself can fail: a store whose check finds one sample
/// missing (one the server never saw) makes the run fail.
struct Lossy;

impl Store for Lossy {
    type Rec = Rec;
    fn name(&self) -> &'static str {
        "metrics (lossy check)"
    }
    fn args(&self, dir: &Path) -> Vec<String> {
        Metrics.args(dir)
    }
    fn write(
        &self,
        http: &reqwest::blocking::Client,
        url: &str,
        c: usize,
        state: &mut u64,
    ) -> Ack<Rec> {
        Metrics.write(http, url, c, state)
    }
    fn verify(&self, url: &str, acked: &[Rec]) -> Result<(), String> {
        let mut more = acked.to_vec();
        more.push(Rec(7, 1));
        Metrics.verify(url, &more)
    }
}

#[test]
#[should_panic(expected = "acknowledged writes lost after kill -9")]
fn issue_18_the_crash_harness_fails_when_a_write_is_missing() {
    faults::kill9_runs(&Lossy, 1);
}
