//! Bytes per native histogram sample after compaction, ours against
//! Prometheus 2.42 on the same data (issue 12). Run by
//! `bench/nhist_bytes_per_sample.sh`, which says how to read the output.
//!
//! The data: `--series` request-latency histograms (schema 3, as client
//! libraries default to), scraped every `--interval` ms for two hours from
//! an aligned 2h boundary. Each series has its own request rate (1-40/s)
//! and latency distribution (log-normal, median 5-200 ms), which drifts
//! slowly; every observation lands in its bucket, so buckets appear as the
//! tail fills in and counts grow by Poisson-like increments; a few series
//! restart (counter reset) once. One more sample per series 4 h after the start makes
//! both heads span more than 1.5 block ranges, so both cut the two hours
//! into one level-1 block, which is what is measured.
//!
//! Prometheus gets the samples by remote write (one request per scrape
//! round, in time order; `--enable-feature=native-histograms
//! --web.enable-remote-write-receiver`), and cuts its block on its own
//! minute timer. Sightline gets the same wire histograms, converted by the
//! remote write receiver's code, through the TSDB appender, then one
//! maintenance round.
//!
//! It never asserts on anything: it prints figures.

#[path = "common/nhist_sim.rs"]
mod nhist_sim;

use nhist_sim::{Rng, Sim};
use prost::Message;
use sightline_core::{Labels, MetricAppender};
use sightline_proto::prometheus::{Label, TimeSeries, WriteRequest};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TWO_HOURS: i64 = 2 * 3600 * 1000;

fn labels(i: usize) -> Vec<Label> {
    let l = |n: &str, v: String| Label {
        name: n.into(),
        value: v,
    };
    vec![
        l("__name__", "http_request_duration_seconds".into()),
        l("handler", format!("/api/v{}/h{}", i % 3, i % 50)),
        l("instance", format!("10.0.{}.{}:8080", i / 250, i % 250)),
        l("job", "api".into()),
    ]
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            n += dir_bytes(&p);
        } else if let Ok(m) = p.metadata() {
            n += m.len();
        }
    }
    n
}

/// `(bytes, samples)` of the blocks under `dir` that start in the two
/// hours from `mint` (Prometheus starts a block cut from the head at the
/// head's first sample, not at the aligned boundary).
fn blocks_at(dir: &Path, mint: i64, samples_key: &str) -> Option<(u64, u64)> {
    let mut out = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let meta = e.path().join("meta.json");
        let Ok(text) = std::fs::read_to_string(&meta) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let lo = v["minTime"].as_i64()?;
        if lo < mint || lo >= mint + TWO_HOURS {
            continue;
        }
        let n = v["stats"][samples_key].as_u64()?;
        let (b, s) = out.unwrap_or((0, 0));
        out = Some((b + dir_bytes(&e.path()), s + n));
    }
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn main() {
    let mut series = 1000usize;
    let mut interval = 15_000i64;
    let mut work = std::env::temp_dir().join("sightline-nhist-bench");
    for a in std::env::args().skip(1) {
        if let Some(v) = a.strip_prefix("--series=") {
            series = v.parse().expect("--series=N");
        } else if let Some(v) = a.strip_prefix("--interval=") {
            interval = v.parse().expect("--interval=MS");
        } else if let Some(v) = a.strip_prefix("--work=") {
            work = PathBuf::from(v);
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let t0 = (now - 8 * 3600 * 1000).div_euclid(TWO_HOURS) * TWO_HOURS;
    let steps = (TWO_HOURS / interval) as usize;
    let mut rng = Rng(0x5151_7a7a_1234_9876);
    let mut sims: Vec<Sim> = (0..series).map(|_| Sim::new(&mut rng, steps)).collect();
    // Every round of scrapes as one remote write request, plus the lone
    // sample 3 h later that makes both heads cut the two hours.
    let mut rounds: Vec<WriteRequest> = Vec::with_capacity(steps + 1);
    for i in 0..=steps {
        let last = i == steps;
        let t = if last {
            t0 + 2 * TWO_HOURS
        } else {
            t0 + i as i64 * interval + (rng.next() % 4) as i64
        };
        let timeseries = sims
            .iter_mut()
            .enumerate()
            .map(|(s, sim)| TimeSeries {
                labels: labels(s),
                histograms: vec![sim.step(&mut rng, i, t, interval as f64 / 1000.0)],
                ..Default::default()
            })
            .collect();
        rounds.push(WriteRequest {
            timeseries,
            ..Default::default()
        });
    }
    let total = (steps * series) as u64;
    eprintln!("{series} series x {steps} samples ({total} in the measured 2h block)");

    // Ours: the receiver's conversion, the TSDB appender, one maintenance.
    let ours_dir = work.join("ours");
    let db = sightline_tsdb::Db::open(
        &ours_dir,
        sightline_tsdb::Options {
            maintenance_interval_ms: 0,
            retention_time_ms: 0,
            ..Default::default()
        },
    )
    .unwrap();
    let started = Instant::now();
    let mut refs = vec![0u64; series];
    for req in &rounds {
        let mut app = db.appender();
        for (s, ts) in req.timeseries.iter().enumerate() {
            let l = Labels::from_pairs(ts.labels.iter().map(|l| (l.name.clone(), l.value.clone())));
            for h in &ts.histograms {
                let fh = sightline_ingest::native_histogram::from_remote_write(h).unwrap();
                refs[s] = app.append_histogram(refs[s], &l, h.timestamp, &fh).unwrap();
            }
        }
        app.commit().unwrap();
    }
    db.run_maintenance_once().unwrap();
    let ours_append = started.elapsed();
    db.close().unwrap();
    drop(db);
    let (ob, on) = blocks_at(&ours_dir, t0, "numSamples").expect("our 2h block");

    // Prometheus: remote write, then wait for its block.
    let port = free_port();
    let prom_dir = work.join("prom");
    std::fs::create_dir_all(&prom_dir).unwrap();
    let cfg = work.join("prometheus.yml");
    std::fs::write(&cfg, "scrape_configs: []\n").unwrap();
    let mut prom = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", prom_dir.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--enable-feature=native-histograms")
        .arg("--web.enable-remote-write-receiver")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(work.join("prometheus.log")).unwrap())
        .spawn()
        .expect("start prometheus (Debian's 2.42)");
    // reqwest is built without a TLS provider of its own.
    sightline_config::tls::install_default_provider();
    let http = reqwest::blocking::Client::new();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while http
        .get(format!("{url}/-/ready"))
        .send()
        .map_or(true, |r| !r.status().is_success())
    {
        assert!(Instant::now() < deadline, "prometheus not ready");
        std::thread::sleep(Duration::from_millis(200));
    }
    let started = Instant::now();
    for req in &rounds {
        let body = snap::raw::Encoder::new()
            .compress_vec(&req.encode_to_vec())
            .unwrap();
        let r = http
            .post(format!("{url}/api/v1/write"))
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(body)
            .send()
            .unwrap();
        assert!(
            r.status().is_success(),
            "prometheus: {}",
            r.text().unwrap_or_default()
        );
    }
    let prom_append = started.elapsed();
    // Its head compaction runs on a one-minute timer.
    let deadline = Instant::now() + Duration::from_secs(240);
    let (pb, pn) = loop {
        if let Some(x) = blocks_at(&prom_dir, t0, "numSamples") {
            // Wait for the block to be complete (meta.json is written last).
            std::thread::sleep(Duration::from_secs(2));
            break blocks_at(&prom_dir, t0, "numSamples").unwrap_or(x);
        }
        assert!(Instant::now() < deadline, "prometheus cut no block");
        std::thread::sleep(Duration::from_secs(2));
    };
    let _ = prom.kill();
    let _ = prom.wait();
    let _ = std::fs::remove_dir_all(&work);

    let (o, p) = (ob as f64 / on as f64, pb as f64 / pn as f64);
    println!("samples: ours {on}, prometheus {pn} (generated {total})");
    println!("append: ours {ours_append:.1?} (library), prometheus {prom_append:.1?} (remote write over HTTP)");
    println!("prometheus 2.42 (2h block): {p:.3} bytes/sample ({pb} bytes)");
    println!("sightline (2h block):       {o:.3} bytes/sample ({ob} bytes)");
    println!("ratio sightline/prometheus: {:.2}", o / p);
}
