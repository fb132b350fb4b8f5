//! `histogram_quantile` over native histograms, ours against Prometheus
//! 2.42 on the same data (issue 12: "at most 1/2 of the query time"). Run
//! by `bench/nhist_quantile.sh`, which says how to read the output.
//!
//! The data: `--series` request-latency histograms (schema 3; the
//! simulation of `common/nhist_sim.rs`, 20-40 populated buckets once the
//! tail has filled in), one sample every `--interval` ms for `--hours`
//! hours ending about a minute ago, labelled with 10 `job`s. The default
//! 3.25 h makes both heads span more than 1.5 block ranges, so both cut
//! the oldest aligned two hours (or what of them holds data) into a block
//! and keep the rest in the head: the queries over the last hour read the
//! head, the "(block)" ones read the block.
//!
//! Both servers get the same bytes: every round of samples is one remote
//! write 1.0 request (snappy protobuf) posted to Prometheus
//! (`--enable-feature=native-histograms --web.enable-remote-write-receiver`)
//! and to `sightline serve`. Before timing anything it checks that both
//! hold the same series and sample totals, and that every query's result
//! agrees (same series and timestamps, values within 1e-9 relative);
//! a query whose results differ is marked DIFFERS and its ratio is not to
//! be trusted.
//!
//! Timing: each query is sent `--repeat` times to each peer, alternating,
//! and the median wall time of the HTTP request (sending to having read the
//! whole JSON body) is printed with the ratio ours / Prometheus's.

#[path = "common/nhist_sim.rs"]
mod nhist_sim;

use nhist_sim::{Rng, Sim};
use prost::Message;
use serde_json::Value;
use sightline_proto::prometheus::{Label, TimeSeries, WriteRequest};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const METRIC: &str = "http_request_duration_seconds";
const JOBS: usize = 10;

fn labels(i: usize) -> Vec<Label> {
    let l = |n: &str, v: String| Label {
        name: n.into(),
        value: v,
    };
    vec![
        l("__name__", METRIC.into()),
        l("handler", format!("/api/v{}/h{}", i % 3, i % 50)),
        l(
            "instance",
            format!("10.{}.{}.{}:8080", i / 62500, i / 250 % 250, i % 250),
        ),
        l("job", format!("job{}", i % JOBS)),
    ]
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Peer {
    name: &'static str,
    url: String,
    child: Child,
}

impl Drop for Peer {
    fn drop(&mut self) {
        // SIGTERM so both flush cleanly (kept data can be reused).
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_ready(http: &reqwest::blocking::Client, p: &mut Peer) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if let Ok(Some(st)) = p.child.try_wait() {
            panic!("{} exited early: {st}", p.name);
        }
        if http
            .get(format!("{}/-/ready", p.url))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        assert!(Instant::now() < deadline, "{} not ready", p.name);
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn start(work: &Path, sightline: &Path, max_samples: u64) -> (Peer, Peer) {
    let cfg = work.join("config.yml");
    std::fs::write(&cfg, "scrape_configs: []\n").unwrap();
    let (pp, op, gp) = (free_port(), free_port(), free_port());
    let prom = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            work.join("prom").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{pp}"))
        .arg("--storage.tsdb.retention.time=10y")
        .arg(format!("--query.max-samples={max_samples}"))
        .arg("--query.timeout=30m")
        .arg("--enable-feature=native-histograms")
        .arg("--web.enable-remote-write-receiver")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(work.join("prometheus.log")).unwrap())
        .spawn()
        .expect("start prometheus (Debian's 2.42)");
    let prom = Peer {
        name: "prometheus",
        url: format!("http://127.0.0.1:{pp}"),
        child: prom,
    };
    let ours = Command::new(sightline)
        .arg("serve")
        .arg("--config")
        .arg(&cfg)
        .arg("--data-dir")
        .arg(work.join("ours"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{op}"))
        .arg("--retention.time=10y")
        .arg(format!("--query.max-samples={max_samples}"))
        .arg("--query.timeout=30m")
        .arg(format!("--otlp.grpc.listen=127.0.0.1:{gp}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(work.join("sightline.log")).unwrap())
        .spawn()
        .expect("start sightline");
    let ours = Peer {
        name: "sightline",
        url: format!("http://127.0.0.1:{op}"),
        child: ours,
    };
    (prom, ours)
}

/// Generates the rounds one at a time and posts each to both peers.
fn load(
    http: &reqwest::blocking::Client,
    peers: &[&Peer],
    series: usize,
    t0: i64,
    steps: usize,
    interval: i64,
) {
    let mut rng = Rng(0x5151_7a7a_1234_9876);
    let mut sims: Vec<Sim> = (0..series).map(|_| Sim::new(&mut rng, steps)).collect();
    let names: Vec<Vec<Label>> = (0..series).map(labels).collect();
    let mut spent = vec![Duration::ZERO; peers.len()];
    let started = Instant::now();
    for i in 0..steps {
        let t = t0 + i as i64 * interval + (rng.next() % 4) as i64;
        let timeseries = sims
            .iter_mut()
            .zip(&names)
            .map(|(sim, l)| TimeSeries {
                labels: l.clone(),
                histograms: vec![sim.step(&mut rng, i, t, interval as f64 / 1000.0)],
                ..Default::default()
            })
            .collect();
        let req = WriteRequest {
            timeseries,
            ..Default::default()
        };
        let body = snap::raw::Encoder::new()
            .compress_vec(&req.encode_to_vec())
            .unwrap();
        for (p, s) in peers.iter().zip(spent.iter_mut()) {
            let t = Instant::now();
            let r = http
                .post(format!("{}/api/v1/write", p.url))
                .header("Content-Type", "application/x-protobuf")
                .header("Content-Encoding", "snappy")
                .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                .body(body.clone())
                .send()
                .unwrap();
            let st = r.status();
            assert!(
                st.is_success(),
                "{}: {st} {}",
                p.name,
                r.text().unwrap_or_default()
            );
            *s += t.elapsed();
        }
        if i % 100 == 99 {
            eprintln!(
                "  {}/{steps} rounds written ({:.0?})",
                i + 1,
                started.elapsed()
            );
        }
    }
    for (p, s) in peers.iter().zip(&spent) {
        eprintln!("  {} took {s:.1?} to accept the remote writes", p.name);
    }
}

/// Time ranges of the blocks (directories with a meta.json) under `dir`.
fn blocks(dir: &Path) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let Ok(text) = std::fs::read_to_string(e.path().join("meta.json")) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if let (Some(a), Some(b)) = (v["minTime"].as_i64(), v["maxTime"].as_i64()) {
            out.push((a, b));
        }
    }
    out.sort();
    out
}

/// One query: `None` step is an instant query at `end`.
struct Query {
    label: String,
    expr: String,
    /// The histograms `expr` takes the quantile of, compared exactly.
    inner: String,
    start: f64,
    end: f64,
    step: Option<f64>,
}

fn run(http: &reqwest::blocking::Client, p: &Peer, q: &Query) -> (Duration, Vec<u8>) {
    let mut form: Vec<(&str, String)> = vec![("query", q.expr.clone())];
    let path = match q.step {
        Some(step) => {
            form.push(("start", format!("{:.3}", q.start)));
            form.push(("end", format!("{:.3}", q.end)));
            form.push(("step", format!("{step}")));
            "query_range"
        }
        None => {
            form.push(("time", format!("{:.3}", q.end)));
            "query"
        }
    };
    let t = Instant::now();
    let r = http
        .post(format!("{}/api/v1/{path}", p.url))
        .form(&form)
        .send()
        .unwrap();
    let st = r.status();
    let body = r.bytes().unwrap().to_vec();
    let el = t.elapsed();
    assert!(
        st.is_success(),
        "{} {}: {st} {}",
        p.name,
        q.label,
        String::from_utf8_lossy(&body[..body.len().min(300)])
    );
    (el, body)
}

/// One point of a result: a float as `[v]`; a histogram as `[count, sum,
/// then lower, upper, count of every non-empty bucket]`.
type Point = (f64, Vec<f64>);

/// Result as series key -> points.
fn points(body: &[u8]) -> BTreeMap<String, Vec<Point>> {
    let v: Value = serde_json::from_slice(body).expect("JSON");
    let num = |x: &Value| -> f64 {
        match x.as_str().unwrap_or("NaN") {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            s => s.parse().unwrap_or(f64::NAN),
        }
    };
    let float = |p: &Value| (p[0].as_f64().unwrap(), vec![num(&p[1])]);
    let hist = |p: &Value| {
        let h = &p[1];
        let mut v = vec![num(&h["count"]), num(&h["sum"])];
        for b in h["buckets"].as_array().into_iter().flatten() {
            let c = num(&b[3]);
            if c != 0.0 {
                v.extend([num(&b[1]), num(&b[2]), c]);
            }
        }
        (p[0].as_f64().unwrap(), v)
    };
    let mut out = BTreeMap::new();
    for s in v["data"]["result"].as_array().into_iter().flatten() {
        let mut pts: Vec<Point> = Vec::new();
        for (key, f) in [
            ("value", &float as &dyn Fn(&Value) -> Point),
            ("histogram", &hist),
        ] {
            if !s[key].is_null() {
                pts.push(f(&s[key]));
            }
        }
        for (key, f) in [
            ("values", &float as &dyn Fn(&Value) -> Point),
            ("histograms", &hist),
        ] {
            pts.extend(s[key].as_array().into_iter().flatten().map(f));
        }
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        out.insert(s["metric"].to_string(), pts);
    }
    out
}

/// How close two values must be.
#[derive(Clone, Copy)]
enum Tolerance {
    /// 1e-9 relative (summation order).
    Exact,
    /// Within one schema 3 bucket (a factor 2^(1/8)): `histogram_quantile`
    /// interpolates linearly in 2.42 and exponentially in 3.x, on purpose.
    SameBucket,
}

fn close(a: f64, b: f64, tol: Tolerance) -> bool {
    if a == b || (a.is_nan() && b.is_nan()) {
        return true;
    }
    match tol {
        Tolerance::Exact => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-12,
        Tolerance::SameBucket => {
            a.signum() == b.signum() && (a.abs().log2() - b.abs().log2()).abs() <= 0.125 + 1e-9
        }
    }
}

/// `None` when both results hold the same series and points; otherwise
/// what differs first.
fn differs(a: &[u8], b: &[u8], tol: Tolerance) -> Option<String> {
    let (a, b) = (points(a), points(b));
    if a.len() != b.len() {
        return Some(format!("{} series against {}", a.len(), b.len()));
    }
    for (k, va) in &a {
        let Some(vb) = b.get(k) else {
            return Some(format!("series {k} missing from sightline"));
        };
        if va.len() != vb.len() {
            return Some(format!("{k}: {} points against {}", va.len(), vb.len()));
        }
        for (x, y) in va.iter().zip(vb) {
            let same = x.0 == y.0
                && x.1.len() == y.1.len()
                && x.1.iter().zip(&y.1).all(|(p, q)| close(*p, *q, tol));
            if !same {
                return Some(format!("{k} at {}: {:?} against {:?}", x.0, x.1, y.1));
            }
        }
    }
    None
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut series = 10_000usize;
    let mut interval = 15_000i64;
    let mut hours = 3.25f64;
    let mut repeat = 3usize;
    let mut work: Option<PathBuf> = None;
    let mut reuse = false;
    let mut only = String::new();
    let mut sightline =
        PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
            .join("release/sightline");
    for a in std::env::args().skip(1) {
        if let Some(v) = a.strip_prefix("--series=") {
            series = v.parse().expect("--series=N");
        } else if let Some(v) = a.strip_prefix("--interval=") {
            interval = v.parse().expect("--interval=MS");
        } else if let Some(v) = a.strip_prefix("--hours=") {
            hours = v.parse().expect("--hours=H");
        } else if let Some(v) = a.strip_prefix("--repeat=") {
            repeat = v.parse().expect("--repeat=N");
        } else if let Some(v) = a.strip_prefix("--work=") {
            work = Some(PathBuf::from(v));
        } else if let Some(v) = a.strip_prefix("--sightline=") {
            sightline = PathBuf::from(v);
        } else if let Some(v) = a.strip_prefix("--only=") {
            only = v.to_owned();
        } else if a == "--reuse" {
            reuse = true;
        }
    }
    let keep = work.is_some();
    let work = work.unwrap_or_else(|| std::env::temp_dir().join("sightline-nhist-quantile"));
    let meta = work.join("end_ms");
    let reuse = reuse && meta.exists();
    if !reuse {
        let _ = std::fs::remove_dir_all(&work);
    }
    std::fs::create_dir_all(&work).unwrap();
    // reqwest is built without a TLS provider of its own.
    sightline_config::tls::install_default_provider();
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(1800))
        .build()
        .unwrap();
    let (mut prom, mut ours) = start(&work, &sightline, 500_000_000);
    wait_ready(&http, &mut prom);
    wait_ready(&http, &mut ours);

    let end_ms = if reuse {
        eprintln!("reusing the data in {}", work.display());
        std::fs::read_to_string(&meta)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    } else {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let steps = (hours * 3_600_000.0 / interval as f64) as usize;
        // From an aligned 2h boundary, so the block both cut is those 2h.
        let t0 = (now - 60_000 - steps as i64 * interval).div_euclid(7_200_000) * 7_200_000;
        eprintln!(
            "{series} series x {steps} samples at {}s ({hours}h), 10 jobs",
            interval / 1000
        );
        load(&http, &[&prom, &ours], series, t0, steps, interval);
        let end = t0 + (steps as i64 - 1) * interval;
        std::fs::write(&meta, end.to_string()).unwrap();
        end
    };
    // Both cut the head on a timer (Prometheus every minute).
    let deadline = Instant::now() + Duration::from_secs(300);
    while hours > 3.0
        && (blocks(&work.join("prom")).is_empty() || blocks(&work.join("ours")).is_empty())
    {
        assert!(Instant::now() < deadline, "no block cut after 5 min");
        std::thread::sleep(Duration::from_secs(2));
    }
    std::thread::sleep(Duration::from_secs(3));
    let pb = blocks(&work.join("prom"));
    let ob = blocks(&work.join("ours"));
    eprintln!(
        "blocks (ms from the last sample): prometheus {:?}, sightline {:?}",
        pb.iter()
            .map(|b| (b.0 - end_ms, b.1 - end_ms))
            .collect::<Vec<_>>(),
        ob.iter()
            .map(|b| (b.0 - end_ms, b.1 - end_ms))
            .collect::<Vec<_>>()
    );

    let end = (end_ms / 1000) as f64;
    let m = METRIC;
    let inst = |label: &str, expr: String| Query {
        label: label.into(),
        inner: expr.clone(),
        expr,
        start: end,
        end,
        step: None,
    };
    // The histograms of all 10k series over 61 steps would be ~100 MB of
    // JSON: the per-series range queries compare those of one handler (200
    // series) and every quantile.
    let range = |label: &str, (expr, inner): (String, String), end: f64| Query {
        label: label.into(),
        expr,
        inner: inner.replace(
            &format!("rate({m}[5m])"),
            &format!("rate({m}{{handler=\"/api/v0/h0\"}}[5m])"),
        ),
        start: end - 3600.0,
        end,
        step: Some(60.0),
    };
    // The oldest hour of data lies in the block when there is one.
    let old_end = pb
        .first()
        .map_or(end, |b| (b.0 / 1000) as f64 + 3900.0)
        .min(end);
    let q = |q: f64, inner: String| (format!("histogram_quantile({q}, {inner})"), inner);
    let per_series = q(0.9, format!("rate({m}[5m])"));
    let by_job = q(0.99, format!("sum by (job) (rate({m}[5m]))"));
    let inst_q = |label: &str, (expr, inner): (String, String)| Query {
        inner,
        ..inst(label, expr)
    };
    // Checks that both hold the same data before any timing.
    let checks = [
        inst("count", format!("count({m})")),
        inst("histogram_count", format!("sum(histogram_count({m}))")),
        inst(
            "histogram_sum",
            format!("sum by (job) (histogram_sum({m}))"),
        ),
        inst("count_over_time", format!("sum(count_over_time({m}[4h]))")),
        inst(
            "histogram_count (block)",
            format!("sum(histogram_count({m} @ {old_end}))"),
        ),
    ];
    for q in &checks {
        let (_, a) = run(&http, &prom, q);
        let (_, b) = run(&http, &ours, q);
        let v = points(&a);
        let shown: Vec<f64> = v.values().take(2).map(|p| p[0].1[0]).collect();
        match differs(&a, &b, Tolerance::Exact) {
            None => eprintln!("check {:<24} agree: {shown:?}", q.label),
            Some(d) => panic!("check {}: the peers hold different data: {d}", q.label),
        }
    }
    let queries = [
        inst_q("q0.9 per series, instant", per_series.clone()),
        inst_q("q0.99 by job, instant", by_job.clone()),
        range("q0.9 per series, 1h @60s", per_series.clone(), end),
        range("q0.99 by job, 1h @60s", by_job.clone(), end),
        range("q0.9 per series, 1h @60s (block)", per_series, old_end),
        range("q0.99 by job, 1h @60s (block)", by_job, old_end),
    ];
    println!(
        "\n{series} native histogram series, {}s interval; median of {repeat} runs",
        interval / 1000
    );
    println!(
        "{:<36} {:>11} {:>11} {:>6}  agree",
        "query", "prometheus", "sightline", "ratio"
    );
    for q in queries.iter().filter(|q| q.label.contains(&only)) {
        // The histograms agree exactly, the quantiles within a bucket.
        let inner = Query {
            label: q.label.clone(),
            expr: q.inner.clone(),
            inner: String::new(),
            ..*q
        };
        let (_, a) = run(&http, &prom, &inner);
        let (_, b) = run(&http, &ours, &inner);
        let agree_inner = differs(&a, &b, Tolerance::Exact);
        let (_, a) = run(&http, &prom, q);
        let (_, b) = run(&http, &ours, q);
        let agree = match (agree_inner, differs(&a, &b, Tolerance::SameBucket)) {
            (None, None) => format!("yes ({} series)", points(&a).len()),
            (Some(d), _) => format!("DIFFERS (histograms): {d}"),
            (None, Some(d)) => format!("DIFFERS (quantiles): {d}"),
        };
        let (mut tp, mut to) = (Vec::new(), Vec::new());
        for _ in 0..repeat {
            tp.push(run(&http, &prom, q).0);
            to.push(run(&http, &ours, q).0);
        }
        let (mp, mo) = (median(tp), median(to));
        println!(
            "{:<36} {:>9.1}ms {:>9.1}ms {:>6.2}  {agree}",
            q.label,
            mp.as_secs_f64() * 1000.0,
            mo.as_secs_f64() * 1000.0,
            mo.as_secs_f64() / mp.as_secs_f64()
        );
    }
    println!("\nratio = sightline / prometheus (issue 12 asks at most 0.5)");
    drop(prom);
    drop(ours);
    if !keep {
        let _ = std::fs::remove_dir_all(&work);
    }
}
