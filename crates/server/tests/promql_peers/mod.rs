//! Shared by the `promql_*` tests: one OpenMetrics file loaded into the
//! real Prometheus 2.42 and into Sightline, both servers started, and the
//! helpers that send the same query to both and compare the answers.
#![allow(dead_code)]

use crate::common;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A peer process killed on drop.
pub struct Peer {
    child: Child,
    pub url: String,
    log: PathBuf,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn wait_ready(url: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = common::http();
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{url} exited early with {status}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if let Ok(r) = client.get(format!("{url}/-/ready")).send() {
            if r.status().is_success() {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{url} not ready after 60s");
}

/// xorshift64: deterministic, dependency-free noise.
pub struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() % 1_000_000) as f64 / 1_000_000.0
    }
}

/// The data window, in milliseconds.
#[derive(Clone, Copy)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

pub const SCRAPE_MS: i64 = 15_000;

/// A sample time near `base`, jittered by up to ±1.5 s and never on a
/// whole second or at .007 s, the offset of every evaluation time below:
/// so a sample never sits exactly on a range boundary, where 2.42's closed
/// windows and 3.x's left-open ones would disagree.
pub fn jitter(base: i64, rng: &mut Rng) -> i64 {
    let mut t = base + (rng.next() % 3_000) as i64 - 1_500;
    while matches!(t.rem_euclid(1000), 0 | 7) {
        t += 3;
    }
    t
}

pub fn om_ts(t: i64) -> String {
    format!("{}.{:03}", t.div_euclid(1000), t.rem_euclid(1000))
}

pub fn om_val(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

/// Three hours of data: counters with resets, gauges, a classic
/// histogram, info-style series, timestamps as values, NaN and ±Inf,
/// and churn (series that start late, stop early, or pause).
pub fn openmetrics_file(w: Window) -> String {
    let mut s = String::new();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let n = (w.end - w.start) / SCRAPE_MS;
    // Which scrape indexes a series of `instance` exists at.
    let alive = |instance: &str, i: i64| match instance {
        "i3" => (n / 3..n * 5 / 6).contains(&i),
        _ => true,
    };

    writeln!(s, "# TYPE http_requests counter").unwrap();
    for inst in ["i1", "i2", "i3"] {
        for method in ["get", "post"] {
            for code in ["200", "500"] {
                let mut v = 0.0f64;
                let rate = if code == "200" { 20.0 } else { 2.0 };
                for i in 0..n {
                    if !alive(inst, i) {
                        continue;
                    }
                    // A restart of i2 two thirds in resets its counters.
                    if inst == "i2" && i == n * 2 / 3 {
                        v = (rng.next() % 5) as f64;
                    } else {
                        v += (rng.unit() * rate * 15.0).floor();
                    }
                    writeln!(
                        s,
                        "http_requests_total{{code=\"{code}\",instance=\"{inst}\",job=\"api\",method=\"{method}\"}} {} {}",
                        om_val(v),
                        om_ts(jitter(w.start + i * SCRAPE_MS, &mut rng))
                    )
                    .unwrap();
                }
            }
        }
    }

    writeln!(s, "# TYPE node_temperature_celsius gauge").unwrap();
    for inst in ["i1", "i2", "i3"] {
        for zone in ["cpu", "disk"] {
            for i in 0..n {
                if !alive(inst, i) {
                    continue;
                }
                let v = 40.0 * ((i as f64) / 37.0).sin() + 5.0 * rng.unit()
                    - if zone == "disk" { 30.0 } else { 0.0 };
                writeln!(
                    s,
                    "node_temperature_celsius{{instance=\"{inst}\",zone=\"{zone}\"}} {} {}",
                    om_val((v * 1000.0).round() / 1000.0),
                    om_ts(jitter(w.start + i * SCRAPE_MS, &mut rng))
                )
                .unwrap();
            }
        }
    }

    writeln!(s, "# TYPE request_duration_seconds histogram").unwrap();
    let bounds = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"];
    for inst in ["i1", "i2"] {
        let mut acc = [0.0f64; 7];
        let mut sum = 0.0f64;
        let mut rows: Vec<Vec<String>> = vec![Vec::new(); bounds.len() + 2];
        for i in 0..n {
            let t = om_ts(jitter(w.start + i * SCRAPE_MS, &mut rng));
            let mut c = 0.0;
            for (k, b) in bounds.iter().enumerate() {
                c += (rng.next() % 6) as f64;
                acc[k] += c;
                if k > 0 && acc[k] < acc[k - 1] {
                    acc[k] = acc[k - 1];
                }
                rows[k].push(format!(
                    "request_duration_seconds_bucket{{instance=\"{inst}\",le=\"{b}\"}} {} {t}",
                    acc[k]
                ));
            }
            sum += c * 0.37;
            rows[bounds.len()].push(format!(
                "request_duration_seconds_sum{{instance=\"{inst}\"}} {} {t}",
                om_val((sum * 1000.0).round() / 1000.0)
            ));
            rows[bounds.len() + 1].push(format!(
                "request_duration_seconds_count{{instance=\"{inst}\"}} {} {t}",
                acc[bounds.len() - 1]
            ));
        }
        for r in rows.into_iter().flatten() {
            writeln!(s, "{r}").unwrap();
        }
    }

    writeln!(s, "# TYPE queue_depth gauge").unwrap();
    for q in ["a", "b", "c"] {
        for i in 0..n {
            // Queue c pauses for 20 minutes: longer than the lookback.
            if q == "c" && (n / 2..n / 2 + 80).contains(&i) {
                continue;
            }
            let v = (rng.next() % 50) as f64;
            writeln!(
                s,
                "queue_depth{{queue=\"{q}\"}} {v} {}",
                om_ts(jitter(w.start + i * SCRAPE_MS, &mut rng))
            )
            .unwrap();
        }
    }

    writeln!(s, "# TYPE build_info gauge").unwrap();
    for (inst, version) in [("i1", "1.2.0"), ("i2", "1.3.0"), ("i3", "1.3.0")] {
        for i in 0..n {
            if !alive(inst, i) {
                continue;
            }
            writeln!(
                s,
                "build_info{{instance=\"{inst}\",version=\"{version}\"}} 1 {}",
                om_ts(jitter(w.start + i * SCRAPE_MS, &mut rng))
            )
            .unwrap();
        }
    }

    writeln!(s, "# TYPE last_success_timestamp_seconds gauge").unwrap();
    for job in ["backup", "report"] {
        let mut last = (w.start / 1000 - 86_400 * 40) as f64;
        for i in 0..n {
            if rng.next().is_multiple_of(40) {
                last = ((w.start + i * SCRAPE_MS) / 1000) as f64 + 0.25;
            }
            writeln!(
                s,
                "last_success_timestamp_seconds{{job=\"{job}\"}} {} {}",
                om_val(last),
                om_ts(jitter(w.start + i * SCRAPE_MS, &mut rng))
            )
            .unwrap();
        }
    }

    writeln!(s, "# TYPE odd_values gauge").unwrap();
    for (kind, v) in [
        ("nan", f64::NAN),
        ("pos_inf", f64::INFINITY),
        ("neg_inf", f64::NEG_INFINITY),
        ("tiny", 1.5e-9),
        ("huge", 2.5e22),
    ] {
        for i in 0..n {
            writeln!(
                s,
                "odd_values{{kind=\"{kind}\"}} {} {}",
                om_val(v),
                om_ts(jitter(w.start + i * SCRAPE_MS, &mut rng))
            )
            .unwrap();
        }
    }
    s.push_str("# EOF\n");
    s
}

/// Result series: labels and (timestamp, value as printed) points.
pub type SeriesPoints = Vec<(BTreeMap<String, String>, Vec<(f64, String)>)>;
/// One way of running a query against a server URL.
pub type Run<'a> = (&'static str, Box<dyn Fn(&str) -> Outcome + 'a>);

/// What one server answered, normalized for comparison.
#[derive(Debug)]
pub enum Outcome {
    Ok {
        result_type: String,
        /// Series by labels: points as (timestamp, value string).
        series: SeriesPoints,
        raw: String,
    },
    Err {
        error_type: String,
        status: u16,
        message: String,
    },
}

pub fn labels_of(v: &Json) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

pub fn point(p: &Json) -> (f64, String) {
    (
        p[0].as_f64().expect("timestamp"),
        p[1].as_str().expect("value string").to_owned(),
    )
}

pub fn outcome(resp: reqwest::blocking::Response) -> Outcome {
    let status = resp.status().as_u16();
    let raw = resp.text().expect("response body");
    let v: Json = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("bad JSON {e}: {raw}"));
    if v["status"] != "success" {
        return Outcome::Err {
            error_type: v["errorType"].as_str().unwrap_or_default().to_owned(),
            status,
            message: v["error"].as_str().unwrap_or_default().to_owned(),
        };
    }
    let data = &v["data"];
    let result_type = data["resultType"].as_str().unwrap_or_default().to_owned();
    let series = match result_type.as_str() {
        "scalar" | "string" => vec![(BTreeMap::new(), vec![point(&data["result"])])],
        "vector" => data["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (labels_of(&s["metric"]), vec![point(&s["value"])]))
            .collect(),
        "matrix" => data["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    labels_of(&s["metric"]),
                    s["values"].as_array().unwrap().iter().map(point).collect(),
                )
            })
            .collect(),
        other => panic!("unknown resultType {other:?}: {raw}"),
    };
    Outcome::Ok {
        result_type,
        series,
        raw,
    }
}

pub fn parse_value(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        s => s
            .parse()
            .unwrap_or_else(|_| panic!("bad sample value {s:?}")),
    }
}

/// Equal within 1e-9 relative (with a 1e-12 absolute floor for results
/// that cancel to about zero); NaN equals NaN.
pub fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-3)
}

/// Compares two outcomes; `Err` says how they differ. `ordered`: the
/// order of a vector result matters (sort functions).
pub fn compare(prom: &Outcome, ours: &Outcome, ordered: bool) -> Result<(), String> {
    match (prom, ours) {
        (
            Outcome::Err {
                error_type: a,
                status: sa,
                ..
            },
            Outcome::Err {
                error_type: b,
                status: sb,
                ..
            },
        ) => {
            if a == b && sa == sb {
                Ok(())
            } else {
                Err(format!(
                    "error types differ: prometheus {a} ({sa}), ours {b} ({sb})"
                ))
            }
        }
        (
            Outcome::Err {
                error_type,
                message,
                ..
            },
            Outcome::Ok { .. },
        ) => Err(format!(
            "prometheus failed ({error_type}: {message}), ours succeeded"
        )),
        (
            Outcome::Ok { .. },
            Outcome::Err {
                error_type,
                message,
                ..
            },
        ) => Err(format!(
            "ours failed ({error_type}: {message}), prometheus succeeded"
        )),
        (
            Outcome::Ok {
                result_type: ta,
                series: a,
                ..
            },
            Outcome::Ok {
                result_type: tb,
                series: b,
                ..
            },
        ) => {
            if ta != tb {
                return Err(format!("resultType: prometheus {ta}, ours {tb}"));
            }
            let (mut a, mut b) = (a.clone(), b.clone());
            if !ordered {
                a.sort_by(|x, y| x.0.cmp(&y.0));
                b.sort_by(|x, y| x.0.cmp(&y.0));
            }
            let la: Vec<_> = a.iter().map(|s| &s.0).collect();
            let lb: Vec<_> = b.iter().map(|s| &s.0).collect();
            if la != lb {
                return Err(format!(
                    "label sets differ:\n  prometheus {la:?}\n  ours       {lb:?}"
                ));
            }
            for ((l, pa), (_, pb)) in a.iter().zip(&b) {
                if pa.len() != pb.len() {
                    return Err(format!(
                        "{l:?}: prometheus has {} points, ours {}",
                        pa.len(),
                        pb.len()
                    ));
                }
                for ((t1, v1), (t2, v2)) in pa.iter().zip(pb) {
                    if t1 != t2 {
                        return Err(format!("{l:?}: timestamps differ: {t1} vs {t2}"));
                    }
                    if ta == "string" {
                        if v1 != v2 {
                            return Err(format!("string: prometheus {v1:?}, ours {v2:?}"));
                        }
                        continue;
                    }
                    let (x, y) = (parse_value(v1), parse_value(v2));
                    if !close(x, y) {
                        return Err(format!("{l:?} at {t1}: prometheus {v1}, ours {v2}"));
                    }
                    // Bit-equal values must also be printed alike.
                    if x.to_bits() == y.to_bits() && v1 != v2 {
                        return Err(format!(
                            "{l:?} at {t1}: value printed {v1:?} by prometheus, {v2:?} by us"
                        ));
                    }
                }
            }
            Ok(())
        }
    }
}

pub struct Setup {
    pub _dir: tempfile::TempDir,
    pub prom: Peer,
    pub ours: common::Server,
    pub promtool: PathBuf,
    pub window: Window,
}

pub fn setup() -> Option<Setup> {
    let prometheus = common::peer("prometheus")?;
    let promtool = common::peer("promtool")?;
    let dir = tempfile::tempdir().unwrap();
    // Recent data, so Prometheus's retention keeps the blocks; evaluation
    // times end well before now, so nothing depends on the wall clock.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let end = now_ms / 3_600_000 * 3_600_000 - 3_600_000;
    let window = Window {
        start: end - 3 * 3_600_000,
        end,
    };
    let file = dir.path().join("data.om");
    std::fs::write(&file, openmetrics_file(window)).unwrap();

    let prom_data = dir.path().join("prom");
    common::promtool_create_blocks(&promtool, &file, &prom_data);
    let ours_data = dir.path().join("ours");
    common::sightline_import(&file, &ours_data);

    // No scrape jobs on either side: the stores hold exactly the file.
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15s\n").unwrap();
    let port = common::free_port();
    let log = dir.path().join("prometheus.log");
    let child = Command::new(&prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", prom_data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--storage.tsdb.retention.time=10y")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start prometheus");
    let mut prom = Peer {
        child,
        url: format!("http://127.0.0.1:{port}"),
        log,
    };
    wait_ready(&prom.url, &mut prom.child, &prom.log);
    let ours = common::Server::start(&ours_data, &["--config", config.to_str().unwrap()]);
    Some(Setup {
        _dir: dir,
        prom,
        ours,
        promtool,
        window,
    })
}

pub fn secs(t_ms: i64) -> String {
    format!("{}.{:03}", t_ms.div_euclid(1000), t_ms.rem_euclid(1000))
}

pub fn instant(url: &str, q: &str, t_ms: i64) -> Outcome {
    let r = common::http()
        .get(format!("{url}/api/v1/query"))
        .query(&[("query", q), ("time", &secs(t_ms))])
        .send()
        .unwrap_or_else(|e| panic!("{url} query {q}: {e}"));
    outcome(r)
}

/// Range queries go as form-encoded POST, as Grafana sends them.
pub fn range(url: &str, q: &str, start: i64, end: i64, step: &str) -> Outcome {
    let r = common::http()
        .post(format!("{url}/api/v1/query_range"))
        .form(&[
            ("query", q),
            ("start", &secs(start)),
            ("end", &secs(end)),
            ("step", step),
        ])
        .send()
        .unwrap_or_else(|e| panic!("{url} query_range {q}: {e}"));
    outcome(r)
}
