//! Issue 2: acknowledged writes survive `kill -9`, and a torn WAL tail is
//! repaired, not fatal.
//!
//! Several client threads push remote_write requests as fast as the server
//! takes them and record every request answered 2xx. The server is killed
//! with SIGKILL in the middle of that, the newest WAL segment gets a torn
//! tail (half a record of garbage, as a crash mid-write leaves), and the
//! server is started again on the same directory. Every acknowledged
//! sample must then be in the store with its exact value.

mod common;

use common::Server;
use prost::Message;
use sightline_core::{Labels, Matcher, MetricQuerier};
use sightline_proto::prometheus::{Label, Sample, TimeSeries, WriteRequest};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SERIES_PER_REQUEST: usize = 50;
const SAMPLES_PER_SERIES: usize = 5;

/// One request: `SERIES_PER_REQUEST` series of client `c`, each with
/// `SAMPLES_PER_SERIES` samples starting at `t0`, values derived from
/// (client, series, t) so they can be checked without bookkeeping.
fn request(c: usize, t0: i64) -> WriteRequest {
    let timeseries = (0..SERIES_PER_REQUEST)
        .map(|s| TimeSeries {
            labels: vec![
                Label {
                    name: "__name__".into(),
                    value: "crash_test_total".into(),
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
            samples: (0..SAMPLES_PER_SERIES as i64)
                .map(|i| Sample {
                    timestamp: t0 + i,
                    value: value(c, s, t0 + i),
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    WriteRequest {
        timeseries,
        ..Default::default()
    }
}

fn value(c: usize, s: usize, t: i64) -> f64 {
    (c * 1_000_003 + s * 7919) as f64 + t as f64 * 0.25
}

fn post(client: &reqwest::blocking::Client, url: &str, req: &WriteRequest) -> Option<u16> {
    let body = snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .ok()?;
    client
        .post(url)
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "snappy")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body)
        .send()
        .ok()
        .map(|r| r.status().as_u16())
}

#[test]
fn acknowledged_remote_writes_survive_kill_9_and_a_torn_wal_tail() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &[]);
    let url = format!("{}/api/v1/write", server.url());

    // Start well inside the accepted window: now, in ms.
    let base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let stop = Arc::new(AtomicBool::new(false));
    // client -> highest t0 acknowledged; t0 grows by SAMPLES_PER_SERIES per request.
    let acked: Arc<Mutex<BTreeMap<usize, Vec<i64>>>> = Arc::default();
    let clients: Vec<_> = (0..3)
        .map(|c| {
            let (stop, acked, url) = (stop.clone(), acked.clone(), url.clone());
            std::thread::spawn(move || {
                let http = common::http();
                let mut t0 = base;
                while !stop.load(Ordering::Relaxed) {
                    match post(&http, &url, &request(c, t0)) {
                        Some(s) if (200..300).contains(&s) => {
                            acked.lock().unwrap().entry(c).or_default().push(t0);
                            t0 += SAMPLES_PER_SERIES as i64;
                        }
                        Some(s) => panic!("remote write answered {s} before the kill"),
                        None => break, // the server is gone
                    }
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(2500));
    server.kill9(); // mid-ingestion: the clients are still sending
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let total_requests: usize = acked.values().map(Vec::len).sum();
    assert!(
        total_requests > 10,
        "too few acknowledged requests ({total_requests}) to test anything"
    );

    // A crash mid-write leaves a partial record at the end of the newest
    // segment: append one.
    let wal = data.join("wal");
    let newest = std::fs::read_dir(&wal)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .max()
        .expect("a WAL segment");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&newest)
        .unwrap()
        .write_all(&[0x01, 0x00, 0x00, 0x40, 0xde, 0xad, 0xbe, 0xef, 0x13])
        .unwrap();

    // The server must come back up on the same directory...
    let server = Server::start(&data, &[]);
    let metrics = common::get_text(&format!("{}/metrics", server.url()));
    let corruptions: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sightline_tsdb_wal_corruptions_total "))
        .expect("wal corruption counter exported")
        .parse()
        .unwrap();
    assert!(
        corruptions >= 1.0,
        "the torn WAL tail went unnoticed:\n{}",
        server.log()
    );
    server.stop();

    // ...and every acknowledged sample must be there, exactly.
    let db = sightline_tsdb::Db::open(&data, sightline_tsdb::Options::default()).unwrap();
    let got = db
        .select(
            &sightline_core::QueryContext::new(),
            i64::MIN,
            i64::MAX,
            &[Matcher::equal("__name__", "crash_test_total")],
        )
        .unwrap()
        .into_vec()
        .unwrap();
    let mut stored: BTreeMap<Labels, BTreeMap<i64, f64>> = BTreeMap::new();
    for s in got {
        stored.insert(s.labels, s.samples.map(|x| (x.t, x.v)).collect());
    }
    let mut checked = 0usize;
    for (c, t0s) in &acked {
        for s in 0..SERIES_PER_REQUEST {
            let labels = Labels::from_pairs([
                ("__name__", "crash_test_total".to_string()),
                ("client", c.to_string()),
                ("series", s.to_string()),
            ]);
            let samples = stored
                .get(&labels)
                .unwrap_or_else(|| panic!("acknowledged series {labels} lost"));
            for t0 in t0s {
                for t in *t0..*t0 + SAMPLES_PER_SERIES as i64 {
                    let v = samples
                        .get(&t)
                        .unwrap_or_else(|| panic!("acknowledged sample {labels} @ {t} lost"));
                    assert_eq!(v.to_bits(), value(*c, s, t).to_bits(), "{labels} @ {t}");
                    checked += 1;
                }
            }
        }
    }
    eprintln!(
        "{checked} acknowledged samples from {total_requests} requests all present after kill -9"
    );
    db.close().unwrap();
    assert!(checked > 0);
}
