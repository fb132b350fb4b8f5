//! Issue 18, part 5: torn and corrupted files are set aside and reported,
//! never fatal at startup.
//!
//! One server writes every kind of file its stores read at startup (TSDB
//! WAL segments and blocks, log and trace store WAL segments and blocks,
//! silences and notification log), then stops. For each file kind a copy of
//! that directory has one such file damaged (bytes flipped in the middle,
//! or cut short), and a server started on the copy must come up, set the
//! file aside as `<name>.corrupted` (docs/format/corrupted.md), say so in
//! its log, count it on `/metrics`, and answer queries. Chunk and data
//! files are checked when a query reads them (reading every block at start
//! would cost as much as the data), so each case reads all data once first.

mod common;
#[path = "common/faults.rs"]
mod faults;

use common::{eventually, http, Server};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The flags of every server here: small blocks and fast maintenance in
/// every store, so that a few seconds of ingest leave blocks behind.
fn args(dir: &Path, hook: u16) -> Vec<String> {
    let config = dir.join("sightline.yml");
    std::fs::write(
        &config,
        "logs:\n  store:\n    flush_wal_size: 16KB\n    maintenance_interval: 100ms\n\
         traces:\n  store:\n    max_block_bytes: 16KB\n    maintenance_interval: 100ms\n    \
         ingestion_rate_bytes: 0\n",
    )
    .unwrap();
    let am = dir.join("alertmanager.yml");
    std::fs::write(
        &am,
        format!(
            "route:\n  receiver: hook\n  group_wait: 10ms\nreceivers:\n  - name: hook\n    \
             webhook_configs:\n      - url: http://127.0.0.1:{hook}/\n"
        ),
    )
    .unwrap();
    [
        "--config",
        config.to_str().unwrap(),
        "--alertmanager.config.file",
        am.to_str().unwrap(),
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

fn post(url: &str, ctype: &str, body: Vec<u8>) {
    let mut req = http().post(url).header("Content-Type", ctype);
    if ctype.contains("protobuf") {
        req = req
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0");
    }
    let r = req.body(body).send().unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
}

/// A block directory (a 26-character ULID holding `meta.json`) under `dir`.
fn block(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().len() == 26 && p.join("meta.json").exists())
}

/// The biggest WAL segment (8 digits) under `dir`.
fn segment(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit())
        })
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .filter(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) > 0)
}

/// Writes data into every store until each has left blocks, then stops
/// the server. Returns the data directory.
fn seed(dir: &Path, hook: u16) -> PathBuf {
    use prost::Message;
    use sightline_proto::prometheus::{Label, Sample, TimeSeries, WriteRequest};
    let data = dir.join("seed");
    let server = Server::start(
        &data,
        &args(dir, hook)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let u = server.url();
    let now_ms = faults::now_ns() / 1_000_000;
    // Metrics: 20 s of samples, 10 blocks' worth at 2 s blocks.
    let metrics = |u: &str, t: i64, step: i64| {
        let req = WriteRequest {
            timeseries: (0..5)
                .map(|s| TimeSeries {
                    labels: vec![
                        Label {
                            name: "__name__".into(),
                            value: "seeded".into(),
                        },
                        Label {
                            name: "s".into(),
                            value: s.to_string(),
                        },
                    ],
                    samples: vec![Sample {
                        timestamp: t,
                        value: (s * 1000 + step) as f64,
                    }],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let body = snap::raw::Encoder::new()
            .compress_vec(&req.encode_to_vec())
            .unwrap();
        post(&format!("{u}/api/v1/write"), "application/x-protobuf", body);
    };
    for step in 0..200i64 {
        metrics(&u, now_ms - 20_000 + step * 100, step);
    }
    // Logs and traces: past their 16KB block thresholds a few times.
    let now = faults::now_ns();
    for i in 0..60i64 {
        let values: Vec<_> = (0..20)
            .map(|j| {
                serde_json::json!([
                    (now - 60_000_000_000 + i * 1_000_000 + j).to_string(),
                    format!("seed line {i} {j} {}", "x".repeat(60))
                ])
            })
            .collect();
        let body = serde_json::json!({"streams": [{"stream": {"job": "seed"}, "values": values}]});
        post(
            &format!("{u}/loki/api/v1/push"),
            "application/json",
            serde_json::to_vec(&body).unwrap(),
        );
        let spans: Vec<_> = (0..10)
            .map(|k| {
                serde_json::json!({
                    "traceId": format!("{:032x}", i + 1), "spanId": format!("{:016x}", k + 1),
                    "name": format!("seed-{i}-{k}-{}", "y".repeat(40)), "kind": 2,
                    "startTimeUnixNano": (now - 60_000_000_000 + i * 1_000_000).to_string(),
                    "endTimeUnixNano": (now - 59_000_000_000 + i * 1_000_000).to_string(),
                })
            })
            .collect();
        let body = serde_json::json!({"resourceSpans": [{"resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "seed"}}]},
            "scopeSpans": [{"spans": spans}]}]});
        post(
            &format!("{u}/v1/traces"),
            "application/json",
            serde_json::to_vec(&body).unwrap(),
        );
    }
    // Alertmanager: silences and a notification log entry.
    for i in 0..5 {
        let body = serde_json::json!({
            "matchers": [{"name": "seed", "value": i.to_string(), "isRegex": false, "isEqual": true}],
            "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
            "createdBy": "seed", "comment": "seed"});
        post(
            &format!("{u}/api/v2/silences"),
            "application/json",
            serde_json::to_vec(&body).unwrap(),
        );
    }
    // A dashboard, stored as data/dashboards/general/seeddash.json.
    let body = serde_json::json!({"dashboard": {"uid": "seeddash", "title": "Seed",
        "schemaVersion": 39, "panels": []}, "folderUid": "", "overwrite": true});
    post(
        &format!("{u}/api/dashboards/db"),
        "application/json",
        serde_json::to_vec(&body).unwrap(),
    );
    let alerts = serde_json::json!([{"labels": {"alertname": "Seed"}}]);
    post(
        &format!("{u}/api/v2/alerts"),
        "application/json",
        serde_json::to_vec(&alerts).unwrap(),
    );
    let am = data.join("alertmanager");
    let ready = eventually(Duration::from_secs(30), || {
        (block(&data).is_some()
            && block(&data.join("logs")).is_some()
            && block(&data.join("traces")).is_some()
            && std::fs::metadata(am.join("nflog.jsonl")).is_ok_and(|m| m.len() > 0))
        .then_some(())
    });
    assert!(
        ready.is_some(),
        "no blocks or nflog after 30 s; log:\n{}",
        server.log()
    );
    // More after the blocks, so that every WAL holds records, then a
    // crash (a clean stop may flush the heads and leave the WALs empty),
    // from a server with the default (large) flush and block sizes, so no
    // flush empties a WAL before the kill.
    server.kill9();
    let am = dir.join("alertmanager.yml");
    let server = Server::start(
        &data,
        &[
            "--alertmanager.config.file",
            am.to_str().unwrap(),
            "--otlp.grpc.listen",
            "0",
        ],
    );
    let u = server.url();
    let now = faults::now_ns();
    for step in 0..20 {
        metrics(&u, now / 1_000_000 + step, 1000 + step);
    }
    let values: Vec<_> = (0..20)
        .map(|j| serde_json::json!([(now + j).to_string(), format!("the last lines {j}")]))
        .collect();
    let body = serde_json::json!({"streams": [{"stream": {"job": "seed"}, "values": values}]});
    post(
        &format!("{u}/loki/api/v1/push"),
        "application/json",
        serde_json::to_vec(&body).unwrap(),
    );
    let body = serde_json::json!({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "seed"}}]},
        "scopeSpans": [{"spans": [{"traceId": format!("{:032x}", 999), "spanId": format!("{:016x}", 1),
            "name": "last", "kind": 2, "startTimeUnixNano": now.to_string(),
            "endTimeUnixNano": (now + 1000).to_string()}]}]}]});
    post(
        &format!("{u}/v1/traces"),
        "application/json",
        serde_json::to_vec(&body).unwrap(),
    );
    server.kill9();
    data
}

/// A copy of `seed` at `to` (cp -a: sparse files stay sparse).
fn copy(seed: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(seed)
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success());
}

enum Damage {
    /// Flip a run of bytes in the middle.
    Flip,
    /// Cut the file to a third of its length.
    Truncate,
}

fn damage(path: &Path, how: &Damage) {
    let mut b = std::fs::read(path).unwrap();
    match how {
        Damage::Flip => {
            let (mid, n) = (b.len() / 2, b.len());
            for x in &mut b[mid..(mid + 16).min(n)] {
                *x ^= 0xa5;
            }
        }
        Damage::Truncate => b.truncate(b.len() / 3),
    }
    std::fs::write(path, b).unwrap();
}

/// The value of the unlabeled sample `name` on `/metrics`.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} not on /metrics"))
        .trim()
        .parse()
        .unwrap()
}

struct Case {
    what: &'static str,
    /// The file or directory to damage, found in the copy.
    target: fn(&Path) -> Option<PathBuf>,
    /// The file inside `target` to damage (for block directories).
    file: Option<&'static str>,
    how: Damage,
    /// Where the set-aside copy appears, from the target's path.
    aside: fn(&Path) -> PathBuf,
    /// The counter on `/metrics` that must count it (None: the log only).
    counter: Option<&'static str>,
}

fn suffixed(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".corrupted");
    PathBuf::from(s)
}

fn run(cases: &[Case]) {
    let dir = tempfile::tempdir().unwrap();
    // A webhook receiver answering 200 to anything, so the notification
    // log gets an entry.
    let hook = common::serve_metrics(String::new);
    let seed = seed(dir.path(), hook);
    let args = args(dir.path(), hook);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for (i, c) in cases.iter().enumerate() {
        let data = dir.path().join(format!("case{i}"));
        copy(&seed, &data);
        let target = (c.target)(&data).unwrap_or_else(|| panic!("{}: nothing to damage", c.what));
        let file = match c.file {
            Some(f) => target.join(f),
            None => target.clone(),
        };
        damage(&file, &c.how);
        // Server::start panics when the server exits instead of answering.
        let server = Server::start(&data, &args);
        // Read everything once: chunk files are checked when read (as
        // Prometheus does), not at start, which would read every block.
        let http = http();
        let reads = [
            "/api/v1/query?query=count_over_time(seeded[1h])".to_owned(),
            format!(
                "/loki/api/v1/query_range?query={}&limit=5000&start={}",
                faults::urlencode("{job=\"seed\"}"),
                faults::now_ns() - 3_600_000_000_000
            ),
        ]
        .into_iter()
        .chain((1..=60).map(|i| format!("/api/traces/{i:032x}")));
        for q in reads {
            let _ = http.get(format!("{}{q}", server.url())).send();
        }
        let text = common::get_text(&format!("{}/metrics", server.url()));
        let n = c.counter.map_or(1.0, |name| metric(&text, name));
        let aside = (c.aside)(&target);
        let log = server.log();
        assert!(n >= 1.0, "{}: {:?} is {n}; log:\n{log}", c.what, c.counter);
        assert!(
            aside.exists(),
            "{}: {} not set aside as {}; log:\n{log}",
            c.what,
            target.display(),
            aside.display()
        );
        let name = target.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            log.contains(&name),
            "{}: the log does not name {name}:\n{log}",
            c.what
        );
        // The rest is served.
        for q in [
            "/api/v1/query?query=count(seeded)",
            "/loki/api/v1/labels",
            "/api/search/tags",
            "/api/v2/silences",
            "/api/search?type=dash-db",
        ] {
            let r = http.get(format!("{}{q}", server.url())).send().unwrap();
            assert!(r.status().is_success(), "{}: {q}: {}", c.what, r.status());
        }
        eprintln!(
            "{}: set aside as {}, {:?} = {n}",
            c.what,
            aside.display(),
            c.counter
        );
        server.stop();
        let _ = std::fs::remove_dir_all(&data);
    }
}

#[test]
fn issue_18_damaged_files_of_every_store_are_set_aside_at_start() {
    run(&[
        Case {
            what: "metrics WAL segment",
            target: |d| segment(&d.join("wal")),
            file: None,
            how: Damage::Flip,
            aside: suffixed,
            counter: Some("sightline_tsdb_wal_corruptions_total"),
        },
        Case {
            what: "metrics block index",
            target: block,
            file: Some("index"),
            how: Damage::Flip,
            aside: suffixed,
            counter: Some("sightline_tsdb_corrupted_blocks"),
        },
        Case {
            what: "metrics block meta.json",
            target: block,
            file: Some("meta.json"),
            how: Damage::Truncate,
            aside: suffixed,
            counter: Some("sightline_tsdb_corrupted_blocks"),
        },
        Case {
            what: "metrics block chunks",
            target: block,
            file: Some("chunks/000001"),
            how: Damage::Truncate,
            aside: suffixed,
            counter: Some("sightline_tsdb_corrupted_blocks"),
        },
        Case {
            what: "logs WAL segment",
            target: |d| segment(&d.join("logs/wal")),
            file: None,
            how: Damage::Flip,
            aside: suffixed,
            counter: Some("sightline_logstore_wal_corruptions_total"),
        },
        Case {
            what: "logs block index",
            target: |d| block(&d.join("logs")),
            file: Some("index"),
            how: Damage::Flip,
            aside: suffixed,
            counter: Some("sightline_logstore_blocks_corrupted_total"),
        },
        Case {
            what: "logs block chunks",
            target: |d| block(&d.join("logs")),
            file: Some("chunks"),
            how: Damage::Truncate,
            aside: suffixed,
            counter: Some("sightline_logstore_blocks_corrupted_total"),
        },
        Case {
            what: "logs block meta.json",
            target: |d| block(&d.join("logs")),
            file: Some("meta.json"),
            how: Damage::Truncate,
            aside: suffixed,
            counter: Some("sightline_logstore_blocks_corrupted_total"),
        },
        Case {
            what: "traces WAL segment",
            target: |d| segment(&d.join("traces/wal")),
            file: None,
            how: Damage::Flip,
            aside: suffixed,
            counter: Some("sightline_tracestore_wal_corruptions_total"),
        },
        Case {
            what: "traces block index",
            target: |d| block(&d.join("traces")),
            file: Some("index"),
            how: Damage::Flip,
            aside: suffixed,
            counter: Some("sightline_tracestore_blocks_corrupted_total"),
        },
        Case {
            what: "traces block data",
            target: |d| block(&d.join("traces")),
            file: Some("data"),
            how: Damage::Truncate,
            aside: suffixed,
            counter: Some("sightline_tracestore_blocks_corrupted_total"),
        },
        Case {
            what: "traces block meta.json",
            target: |d| block(&d.join("traces")),
            file: Some("meta.json"),
            how: Damage::Truncate,
            aside: suffixed,
            counter: Some("sightline_tracestore_blocks_corrupted_total"),
        },
        Case {
            what: "silences snapshot",
            target: |d| Some(d.join("alertmanager/silences.json")),
            file: None,
            how: Damage::Truncate,
            aside: suffixed,
            counter: Some("sightline_alertmanager_state_files_corrupted_total"),
        },
        Case {
            what: "notification log",
            target: |d| Some(d.join("alertmanager/nflog.jsonl")),
            file: None,
            how: Damage::Flip,
            aside: suffixed,
            counter: Some("sightline_alertmanager_state_files_corrupted_total"),
        },
        Case {
            what: "dashboard",
            target: |d| Some(d.join("dashboards/general/seeddash.json")),
            file: None,
            how: Damage::Truncate,
            aside: suffixed,
            counter: None,
        },
    ]);
}
