//! Issue 3: the Prometheus HTTP query API, proven against the real
//! Prometheus 2.42. One OpenMetrics file is loaded into both systems
//! (`promtool tsdb create-blocks-from openmetrics` and `sightline import
//! openmetrics`), both servers start, and the same requests go to both:
//! a few hundred instant and range queries covering every PromQL function
//! and operator 2.42 has (plus error cases), the metadata endpoints with
//! the parameter shapes Grafana sends, and `promtool query ...`, whose
//! output must be the same against either server.
//!
//! Expected values are whatever Prometheus answers in the same run.
//! Where Prometheus 2.42 and Sightline (which follows 3.x) differ on
//! purpose, the query is listed in [`KNOWN_DIFFERENCES`] with the reason.

mod common;

use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Queries where Prometheus 2.42 and Sightline's 3.x semantics differ on
/// purpose, with the reason. A listed query that agrees anyway is
/// reported (the entry may be stale) but is not a failure.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "holt_winters(node_temperature_celsius[10m], 0.5, 0.5)",
        "2.42's holt_winters is double_exponential_smoothing in 3.x (experimental there)",
    ),
    (
        "double_exponential_smoothing(node_temperature_celsius[10m], 0.5, 0.5)",
        "3.x name of holt_winters; 2.42 does not know it (parse error)",
    ),
    (
        "sort_by_label(node_temperature_celsius, \"zone\")",
        "sort_by_label is a 3.x function; 2.42 does not know it",
    ),
    (
        "limitk(2, http_requests_total)",
        "limitk is a 3.x aggregation; 2.42 does not know it",
    ),
    (
        "mad_over_time(node_temperature_celsius[10m])",
        "mad_over_time is a 3.x function; 2.42 does not know it",
    ),
    (
        "node_temperature_celsius atan2 10",
        "2.42 keeps __name__ on atan2 (missing from its list of arithmetic operators); 3.x drops it as for + - * / % ^",
    ),
    (
        "label_replace(queue_depth, \"1bad\", \"x\", \"queue\", \".*\")",
        "3.x accepts any UTF-8 label name; 2.42 refuses names outside [a-zA-Z_][a-zA-Z0-9_]*",
    ),
];

/// Why rate-family results differ for counters that begin inside the
/// window (our churning series `i3`, evaluated around its start).
const EXTRAPOLATION: &str = "3.x limits extrapolation towards the window start to half a scrape interval before clamping at the counter's zero point; 2.42 clamps first, so counters that begin inside the window (churn) extrapolate differently";

/// Queries whose only differences come from [`EXTRAPOLATION`]; their
/// other evaluations must agree.
const EXTRAPOLATION_QUERIES: &[&str] = &[
    "rate(http_requests_total[10m] offset 3m)",
    "increase(http_requests_total[15m])",
    "rate(http_requests_total[5m])[10m:1m]",
];

/// A peer process killed on drop.
struct Peer {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_ready(url: &str, child: &mut Child, log: &Path) {
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
struct Rng(u64);

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
struct Window {
    start: i64,
    end: i64,
}

const SCRAPE_MS: i64 = 15_000;

/// A sample time near `base`, jittered by up to ±1.5 s and never on a
/// whole second or at .007 s, the offset of every evaluation time below:
/// so a sample never sits exactly on a range boundary, where 2.42's closed
/// windows and 3.x's left-open ones would disagree.
fn jitter(base: i64, rng: &mut Rng) -> i64 {
    let mut t = base + (rng.next() % 3_000) as i64 - 1_500;
    while matches!(t.rem_euclid(1000), 0 | 7) {
        t += 3;
    }
    t
}

fn om_ts(t: i64) -> String {
    format!("{}.{:03}", t.div_euclid(1000), t.rem_euclid(1000))
}

fn om_val(v: f64) -> String {
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
fn openmetrics_file(w: Window) -> String {
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

/// Every expression of the suite. Each runs as an instant and as a range
/// query.
fn expressions(at_s: &str) -> Vec<String> {
    let mut q: Vec<String> = [
        // Selectors and modifiers.
        "http_requests_total",
        "http_requests_total{code=\"500\"}",
        "http_requests_total{code!=\"500\",method=~\"g.*\"}",
        "http_requests_total{instance!~\"i[12]\"}",
        "{__name__=~\"queue_.*|build_info\"}",
        "{__name__=\"queue_depth\", queue=\"\"}",
        "queue_depth",
        "queue_depth offset 5m",
        "queue_depth offset -5m",
        "queue_depth @ start()",
        "queue_depth @ end()",
        "rate(http_requests_total[5m] @ end())",
        "http_requests_total[5m]",
        "queue_depth[3m] offset 10m",
        "odd_values",
        "nonexistent_metric",
        // Literals.
        "1",
        "-2.5",
        "1e-7",
        "2.5e22",
        "Inf",
        "-Inf",
        "NaN",
        "\"a string\"",
        "1 + 2 * 3 - 4 / 2 % 3 ^ 2",
        "2 ^ 3 ^ 2",
        "-(1 + 2)",
        "1 == bool 1",
        "1 > bool 2",
        "(1 + 2) atan2 3",
        // Arithmetic on vectors.
        "queue_depth * 2",
        "2 - queue_depth",
        "-queue_depth",
        "queue_depth / 0",
        "queue_depth % 7",
        "queue_depth ^ 0.5",
        "node_temperature_celsius atan2 10",
        "http_requests_total / on(instance, method, code) http_requests_total",
        "http_requests_total{code=\"500\"} / ignoring(code) http_requests_total{code=\"200\"}",
        "sum by (instance) (http_requests_total) / on(instance) group_left build_info",
        "build_info * on(instance) group_right(version) sum by (instance) (http_requests_total)",
        "http_requests_total * on(instance) group_left(version) build_info",
        "node_temperature_celsius + on(instance) group_left(version) build_info",
        // Comparisons, with and without bool.
        "queue_depth > 25",
        "queue_depth >= 25",
        "queue_depth < 10",
        "queue_depth <= 10",
        "queue_depth == 20",
        "queue_depth != 20",
        "queue_depth > bool 25",
        "node_temperature_celsius > on(instance) group_left node_temperature_celsius{zone=\"disk\"}",
        "queue_depth > 10 < 40",
        "10 < queue_depth",
        // Set operators.
        "queue_depth and queue_depth > 20",
        "queue_depth or node_temperature_celsius",
        "queue_depth unless queue_depth > 20",
        "http_requests_total and on(instance) build_info{version=\"1.3.0\"}",
        "http_requests_total unless ignoring(code) http_requests_total{code=\"500\"}",
        "node_temperature_celsius or on(instance) build_info",
        // Aggregations.
        "sum(http_requests_total)",
        "sum by (instance) (http_requests_total)",
        "sum without (code, method) (http_requests_total)",
        "sum by (job, instance) (rate(http_requests_total[5m]))",
        "avg(node_temperature_celsius)",
        "avg by (zone) (node_temperature_celsius)",
        "min by (zone) (node_temperature_celsius)",
        "max without (zone) (node_temperature_celsius)",
        "count(http_requests_total)",
        "count by (code) (http_requests_total)",
        "group by (instance) (http_requests_total)",
        "stddev(node_temperature_celsius)",
        "stdvar by (zone) (node_temperature_celsius)",
        "topk(3, queue_depth)",
        "topk by (zone) (1, node_temperature_celsius)",
        "bottomk(2, http_requests_total)",
        "topk(scalar(count(queue_depth)) - 1, queue_depth)",
        "quantile(0.9, node_temperature_celsius)",
        "quantile by (zone) (0.5, node_temperature_celsius)",
        "quantile(1.5, queue_depth)",
        "count_values(\"depth\", queue_depth)",
        "count_values by (queue) (\"value\", queue_depth)",
        "sum(odd_values)",
        "max(odd_values)",
        "min(odd_values)",
        "avg(odd_values{kind=~\"tiny|huge\"})",
        "sum by (kind) (odd_values)",
        // Rate family.
        "rate(http_requests_total[5m])",
        "rate(http_requests_total[1m])",
        "rate(http_requests_total[10m] offset 3m)",
        "irate(http_requests_total[5m])",
        "increase(http_requests_total[15m])",
        "increase(http_requests_total{instance=\"i2\"}[1h])",
        "delta(node_temperature_celsius[10m])",
        "idelta(node_temperature_celsius[5m])",
        "deriv(node_temperature_celsius[10m])",
        "predict_linear(node_temperature_celsius[15m], 600)",
        "predict_linear(queue_depth[10m], 3600)",
        "resets(http_requests_total[1h])",
        "changes(queue_depth[10m])",
        "changes(build_info[1h])",
        // *_over_time.
        "avg_over_time(node_temperature_celsius[10m])",
        "min_over_time(node_temperature_celsius[10m])",
        "max_over_time(node_temperature_celsius[10m])",
        "sum_over_time(queue_depth[5m])",
        "count_over_time(queue_depth[7m])",
        "quantile_over_time(0.75, node_temperature_celsius[15m])",
        "quantile_over_time(0, queue_depth[5m])",
        "stddev_over_time(node_temperature_celsius[10m])",
        "stdvar_over_time(queue_depth[10m])",
        "last_over_time(queue_depth[10m])",
        "present_over_time(queue_depth[2m])",
        "absent_over_time(queue_depth{queue=\"c\"}[5m])",
        "absent_over_time(nonexistent_metric[5m])",
        "avg_over_time(odd_values[5m])",
        "sum_over_time(odd_values{kind=\"tiny\"}[5m])",
        // Histograms.
        "histogram_quantile(0.9, rate(request_duration_seconds_bucket[5m]))",
        "histogram_quantile(0.5, sum by (le) (rate(request_duration_seconds_bucket[10m])))",
        "histogram_quantile(0.99, sum by (instance, le) (increase(request_duration_seconds_bucket[15m])))",
        "histogram_quantile(0, rate(request_duration_seconds_bucket[5m]))",
        "histogram_quantile(1, rate(request_duration_seconds_bucket[5m]))",
        "histogram_quantile(1.5, rate(request_duration_seconds_bucket[5m]))",
        "histogram_quantile(0.5, request_duration_seconds_bucket)",
        "rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])",
        // Labels.
        "label_replace(queue_depth, \"q\", \"queue-$1\", \"queue\", \"(.*)\")",
        "label_replace(queue_depth, \"queue\", \"x\", \"queue\", \"b\")",
        "label_replace(queue_depth, \"new\", \"$2\", \"queue\", \"(a)|(b)\")",
        "label_replace(http_requests_total, \"instance\", \"\", \"instance\", \".*\")",
        "label_join(node_temperature_celsius, \"id\", \"/\", \"instance\", \"zone\")",
        "label_join(queue_depth, \"queue\", \"-\", \"queue\", \"queue\")",
        // absent, scalar, vector.
        "absent(nonexistent_metric)",
        "absent(nonexistent_metric{job=\"x\", instance=~\"y\"})",
        "absent(queue_depth)",
        "absent(sum(nonexistent_metric))",
        "scalar(sum(queue_depth))",
        "scalar(queue_depth)",
        "vector(1)",
        "vector(time())",
        "sum(queue_depth) + scalar(count(queue_depth))",
        // Math.
        "abs(node_temperature_celsius)",
        "ceil(node_temperature_celsius)",
        "floor(node_temperature_celsius)",
        "round(node_temperature_celsius)",
        "round(node_temperature_celsius, 5)",
        "round(node_temperature_celsius, 0.1)",
        "sqrt(queue_depth)",
        "exp(queue_depth / 10)",
        "ln(queue_depth)",
        "log2(queue_depth)",
        "log10(queue_depth)",
        "sgn(node_temperature_celsius)",
        "clamp(node_temperature_celsius, -10, 10)",
        "clamp(node_temperature_celsius, 10, -10)",
        "clamp_min(node_temperature_celsius, 0)",
        "clamp_max(node_temperature_celsius, 0)",
        "sin(queue_depth)",
        "cos(queue_depth)",
        "tan(queue_depth)",
        "asin(clamp(node_temperature_celsius / 50, -1, 1))",
        "acos(clamp(node_temperature_celsius / 50, -1, 1))",
        "atan(node_temperature_celsius)",
        "sinh(queue_depth / 10)",
        "cosh(queue_depth / 10)",
        "tanh(node_temperature_celsius)",
        "asinh(node_temperature_celsius)",
        "acosh(queue_depth + 1)",
        "atanh(clamp(node_temperature_celsius / 50, -0.99, 0.99))",
        "deg(node_temperature_celsius)",
        "rad(node_temperature_celsius)",
        "pi()",
        "abs(odd_values)",
        // Time and date.
        "time()",
        "timestamp(queue_depth)",
        "timestamp(queue_depth offset 2m)",
        "queue_depth - queue_depth offset 1m",
        "time() - last_success_timestamp_seconds",
        "minute()",
        "hour()",
        "day_of_month()",
        "day_of_week()",
        "day_of_year()",
        "days_in_month()",
        "month()",
        "year()",
        "year(last_success_timestamp_seconds)",
        "month(last_success_timestamp_seconds)",
        "day_of_month(last_success_timestamp_seconds)",
        "day_of_week(last_success_timestamp_seconds)",
        "day_of_year(last_success_timestamp_seconds)",
        "days_in_month(last_success_timestamp_seconds)",
        "hour(last_success_timestamp_seconds)",
        "minute(last_success_timestamp_seconds)",
        // Sorting (order compared).
        "sort(queue_depth)",
        "sort_desc(queue_depth)",
        "sort(sum by (instance) (rate(http_requests_total[5m])))",
        "sort_desc(node_temperature_celsius)",
        // Subqueries.
        "max_over_time(rate(http_requests_total[5m])[30m:1m])",
        "avg_over_time(queue_depth[10m:])",
        "min_over_time(sum(queue_depth)[20m:2m])",
        "rate(http_requests_total[5m])[10m:1m]",
        "deriv(avg_over_time(node_temperature_celsius[5m])[20m:1m])",
        "max_over_time(queue_depth[15m:1m] offset 5m)",
        "quantile_over_time(0.9, rate(http_requests_total[2m])[30m:30s])",
        "sum_over_time(vector(1)[10m:1m])",
        // Nested and mixed.
        "sum(rate(http_requests_total{code=\"500\"}[5m])) / sum(rate(http_requests_total[5m]))",
        "topk(2, sum by (instance) (rate(http_requests_total[5m])))",
        "bottomk(1, avg by (zone) (node_temperature_celsius))",
        "count(count by (version) (build_info))",
        "sum by (zone) (abs(delta(node_temperature_celsius[10m])))",
        "avg(irate(http_requests_total[5m])) by (method)",
        "max(changes(queue_depth[15m])) without (queue)",
        "(queue_depth > 10) * on(queue) group_left queue_depth",
        "sgn(rate(http_requests_total[5m])) == bool 1",
        "sum(http_requests_total) by (code) > bool 1000",
        "1 - avg(rate(http_requests_total{code=\"500\"}[5m])) by (instance)",
        // Errors (both must fail alike).
        "sum(",
        "rate(http_requests_total)",
        "foo{",
        "http_requests_total[5m] + 1",
        "sum by (instance) (http_requests_total) * on(code) http_requests_total",
        "http_requests_total * on(instance) build_info",
        "label_replace(queue_depth, \"queue\", \"same\", \"\", \"\")",
        "label_replace(queue_depth, \"1bad\", \"x\", \"queue\", \".*\")",
        "label_replace(queue_depth, \"q\", \"x\", \"queue\", \"(\")",
        "unknown_function(queue_depth)",
        "queue_depth{queue=~\"(\"}",
        "{queue=~\".*\"}",
        "topk(\"a\", queue_depth)",
        "rate(queue_depth[5m:1m:1m])",
        "1 and 1",
        "\"a\" + 1",
        "quantile_over_time(0.5, queue_depth)",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    q.push(format!("queue_depth @ {at_s}"));
    q.push(format!("rate(http_requests_total[5m] @ {at_s})"));
    q.push(format!(
        "sum_over_time(queue_depth[10m] @ {at_s} offset 1m)"
    ));
    for (name, _) in KNOWN_DIFFERENCES {
        if !q.iter().any(|x| x == name) {
            q.push((*name).to_owned());
        }
    }
    q
}

/// Result series: labels and (timestamp, value as printed) points.
type SeriesPoints = Vec<(BTreeMap<String, String>, Vec<(f64, String)>)>;
/// One way of running a query against a server URL.
type Run<'a> = (&'static str, Box<dyn Fn(&str) -> Outcome + 'a>);

/// What one server answered, normalized for comparison.
#[derive(Debug)]
enum Outcome {
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

fn labels_of(v: &Json) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn point(p: &Json) -> (f64, String) {
    (
        p[0].as_f64().expect("timestamp"),
        p[1].as_str().expect("value string").to_owned(),
    )
}

fn outcome(resp: reqwest::blocking::Response) -> Outcome {
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

fn parse_value(s: &str) -> f64 {
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
fn close(a: f64, b: f64) -> bool {
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
fn compare(prom: &Outcome, ours: &Outcome, ordered: bool) -> Result<(), String> {
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

struct Setup {
    _dir: tempfile::TempDir,
    prom: Peer,
    ours: common::Server,
    promtool: PathBuf,
    window: Window,
}

fn setup() -> Option<Setup> {
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
    let out = Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(&prom_data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool create-blocks-from: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours_data = dir.path().join("ours");
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["import", "openmetrics"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&ours_data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sightline import: {}",
        String::from_utf8_lossy(&out.stderr)
    );

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

fn secs(t_ms: i64) -> String {
    format!("{}.{:03}", t_ms.div_euclid(1000), t_ms.rem_euclid(1000))
}

fn instant(url: &str, q: &str, t_ms: i64) -> Outcome {
    let r = common::http()
        .get(format!("{url}/api/v1/query"))
        .query(&[("query", q), ("time", &secs(t_ms))])
        .send()
        .unwrap_or_else(|e| panic!("{url} query {q}: {e}"));
    outcome(r)
}

/// Range queries go as form-encoded POST, as Grafana sends them.
fn range(url: &str, q: &str, start: i64, end: i64, step: &str) -> Outcome {
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

#[test]
fn promql_queries_match_prometheus_2_42() {
    let Some(s) = setup() else {
        return;
    };
    let started = Instant::now();
    let w = s.window;
    // Evaluation times sit at .007 s; samples never do (see `jitter`).
    let t_instant = w.end - 20 * 60_000 + 7;
    let t_churn = w.start + 70 * 60_000 + 7;
    // Range windows (up to 1h) stay inside the data, so only the churning
    // series start inside one.
    let (r_start, r_end) = (w.start + 65 * 60_000 + 7, w.end - 5 * 60_000 + 7);
    let at_s = secs(w.start + 100 * 60_000 + 7);

    let mut total = 0;
    let mut equal = 0;
    let mut known = Vec::new();
    let mut stale_known = Vec::new();
    let mut failures = Vec::new();
    let mut byte_identical = 0;
    for q in expressions(&at_s) {
        let ordered = q.starts_with("sort");
        let known_reason = KNOWN_DIFFERENCES
            .iter()
            .find(|(k, _)| *k == q)
            .map(|(_, r)| *r)
            .or_else(|| {
                EXTRAPOLATION_QUERIES
                    .contains(&q.as_str())
                    .then_some(EXTRAPOLATION)
            });
        let runs: [Run; 3] = [
            ("instant", Box::new(|u: &str| instant(u, &q, t_instant))),
            ("instant@churn", Box::new(|u: &str| instant(u, &q, t_churn))),
            (
                "range",
                Box::new(|u: &str| range(u, &q, r_start, r_end, "60")),
            ),
        ];
        for (mode, run) in &runs {
            total += 1;
            let (p, o) = (run(&s.prom.url), run(&s.ours.url()));
            if let (Outcome::Ok { raw: rp, .. }, Outcome::Ok { raw: ro, .. }) = (&p, &o) {
                if rp == ro {
                    byte_identical += 1;
                }
            }
            match (compare(&p, &o, ordered), known_reason) {
                (Ok(()), None) => equal += 1,
                (Ok(()), Some(_)) => {
                    equal += 1;
                    stale_known.push(format!("{mode} {q}"));
                }
                (Err(_), Some(reason)) => known.push(format!("{mode} {q}: {reason}")),
                (Err(e), None) => failures.push(format!("{mode} {q:?}: {e}")),
            }
        }
    }
    println!(
        "promql differential: {total} queries, {equal} equal ({byte_identical} byte-identical responses), {} known differences, {} unexplained, in {:?}",
        known.len(),
        failures.len(),
        started.elapsed()
    );
    for k in &known {
        println!("  known difference: {k}");
    }
    for k in &stale_known {
        println!("  listed as a known difference but agreed: {k}");
    }
    for f in &failures {
        println!("  MISMATCH {f}");
    }
    assert!(total >= 300, "the suite should run at least 300 queries");
    assert!(
        failures.is_empty(),
        "{} unexplained mismatches with Prometheus (see above)",
        failures.len()
    );
}

/// One request: method, path, parameters (query string for GET, form
/// body for POST).
struct Req {
    post: bool,
    path: &'static str,
    params: Vec<(&'static str, String)>,
}

fn get(path: &'static str, params: Vec<(&'static str, String)>) -> Req {
    Req {
        post: false,
        path,
        params,
    }
}

fn post(path: &'static str, params: Vec<(&'static str, String)>) -> Req {
    Req {
        post: true,
        path,
        params,
    }
}

/// Status code and parsed body (`Null` for an empty one).
fn send(url: &str, r: &Req) -> (u16, Json) {
    let c = common::http();
    let b = if r.post {
        c.post(format!("{url}{}", r.path)).form(&r.params)
    } else {
        c.get(format!("{url}{}", r.path)).query(&r.params)
    };
    let resp = b.send().unwrap_or_else(|e| panic!("{url}{}: {e}", r.path));
    let status = resp.status().as_u16();
    let text = resp.text().unwrap_or_default();
    if text.is_empty() {
        return (status, Json::Null);
    }
    let body =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: bad JSON {e}: {text}", r.path));
    (status, body)
}

/// The requests Grafana's Prometheus data source sends (health check,
/// panels, the query editor's metric and label browsers, exemplars,
/// version detection, the query formatter), plus parameter errors whose
/// messages must be Prometheus's own. Status and `data` (or `errorType`
/// and `error`) must be equal on both servers.
#[test]
fn metadata_endpoints_and_grafana_requests_match_prometheus() {
    let Some(s) = setup() else {
        return;
    };
    let w = s.window;
    // Grafana sends whole unix seconds.
    let (from, to) = ((w.start / 1000).to_string(), (w.end / 1000).to_string());
    let last_hour = ((w.end / 1000) - 3600).to_string();
    let p = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    };
    let equal_data = vec![
        // "Save & test" runs 1+1 as an instant query.
        post("/api/v1/query", p(&[("query", "1+1"), ("time", &to)])),
        get("/api/v1/labels", vec![]),
        get("/api/v1/labels", p(&[("start", &from), ("end", &to)])),
        post(
            "/api/v1/labels",
            p(&[
                ("match[]", "http_requests_total"),
                ("start", &from),
                ("end", &to),
            ]),
        ),
        get(
            "/api/v1/label/__name__/values",
            p(&[("start", &from), ("end", &to)]),
        ),
        get(
            "/api/v1/label/instance/values",
            p(&[
                ("match[]", "http_requests_total{job=\"api\"}"),
                ("start", &from),
                ("end", &to),
            ]),
        ),
        get(
            "/api/v1/label/le/values",
            p(&[("match[]", "request_duration_seconds_bucket")]),
        ),
        get(
            "/api/v1/label/instance/values",
            p(&[
                ("match[]", "build_info"),
                ("match[]", "queue_depth"),
                ("start", &last_hour),
                ("end", &to),
            ]),
        ),
        get("/api/v1/label/nosuchlabel/values", vec![]),
        get(
            "/api/v1/series",
            p(&[
                ("match[]", "request_duration_seconds_bucket{instance=\"i1\"}"),
                ("start", &from),
                ("end", &to),
            ]),
        ),
        post(
            "/api/v1/series",
            p(&[
                ("match[]", "queue_depth"),
                ("match[]", "{__name__=~\"build_.*\", version!=\"1.2.0\"}"),
                ("start", &from),
                ("end", &to),
            ]),
        ),
        get("/api/v1/series", p(&[("match[]", "nonexistent_metric")])),
        get("/api/v1/metadata", vec![]),
        get(
            "/api/v1/metadata",
            p(&[("metric", "http_requests_total"), ("limit", "1")]),
        ),
        post(
            "/api/v1/query_exemplars",
            p(&[
                ("query", "histogram_quantile(0.9, rate(request_duration_seconds_bucket[5m]))"),
                ("start", &from),
                ("end", &to),
            ]),
        ),
        get("/api/v1/query_exemplars", p(&[("query", "1")])),
        get(
            "/api/v1/format_query",
            p(&[(
                "query",
                "sum(rate(http_requests_total{job=\"api\"}[5m]))by(instance)/on(instance)group_left sum by(instance)(rate(http_requests_total[5m]))",
            )]),
        ),
        get("/api/v1/format_query", p(&[("query", "foo offset 5m + bar @ 100")])),
        // Parameter errors: same errorType and message.
        get("/api/v1/series", vec![]),
        get("/api/v1/series", p(&[("match[]", "{job=~\".*\"}")])),
        get("/api/v1/label/1bad/values", vec![]),
        get("/api/v1/query", p(&[("query", "1"), ("time", "yesterday")])),
        get("/api/v1/query", p(&[("query", "1"), ("timeout", "soon")])),
        get(
            "/api/v1/query_range",
            p(&[("query", "1"), ("start", "20"), ("end", "10"), ("step", "1")]),
        ),
        get(
            "/api/v1/query_range",
            p(&[("query", "1"), ("start", "0"), ("end", "10"), ("step", "0")]),
        ),
        get(
            "/api/v1/query_range",
            p(&[("query", "1"), ("start", "0"), ("end", "11001"), ("step", "1")]),
        ),
        get(
            "/api/v1/query_range",
            p(&[("query", "1"), ("start", "x"), ("end", "10"), ("step", "1")]),
        ),
        get(
            "/api/v1/query_range",
            p(&[("query", "1"), ("start", "0"), ("end", "10"), ("step", "-5s")]),
        ),
        get(
            "/api/v1/query_range",
            p(&[
                ("query", "1"),
                ("start", "2023-11-14T22:13:20Z"),
                ("end", "2023-11-14T22:13:20.5Z"),
                ("step", "250ms"),
            ]),
        ),
    ];
    // PromQL errors: 2.42 prints them bare where 3.x (and we) prefix
    // `invalid parameter "query": `, so only status and errorType compare.
    let same_error_type = vec![
        get(
            "/api/v1/query_range",
            p(&[
                ("query", "queue_depth[5m]"),
                ("start", "0"),
                ("end", "10"),
                ("step", "1"),
            ]),
        ),
        get(
            "/api/v1/query_range",
            p(&[
                ("query", "\"str\""),
                ("start", "0"),
                ("end", "10"),
                ("step", "1"),
            ]),
        ),
        post("/api/v1/query", p(&[("query", "sum(")])),
        post("/api/v1/query", vec![]),
        get(
            "/api/v1/query_range",
            p(&[
                ("query", "rate(x)"),
                ("start", "0"),
                ("end", "10"),
                ("step", "1"),
            ]),
        ),
    ];
    let mut failures = Vec::new();
    for r in &equal_data {
        let (ps, pb) = send(&s.prom.url, r);
        let (os, ob) = send(&s.ours.url(), r);
        let same = ps == os
            && pb.get("status") == ob.get("status")
            && pb.get("data") == ob.get("data")
            && pb.get("errorType") == ob.get("errorType")
            && pb.get("error") == ob.get("error");
        if !same {
            failures.push(format!(
                "{} {} {:?}:\n  prometheus {ps} {pb}\n  ours       {os} {ob}",
                if r.post { "POST" } else { "GET" },
                r.path,
                r.params
            ));
        }
    }

    for r in &same_error_type {
        let (ps, pb) = send(&s.prom.url, r);
        let (os, ob) = send(&s.ours.url(), r);
        if ps != os || pb.get("errorType") != ob.get("errorType") {
            failures.push(format!(
                "{} {:?}:\n  prometheus {ps} {pb}\n  ours       {os} {ob}",
                r.path, r.params
            ));
        }
    }

    // Panels: range queries as Grafana shapes them (integer seconds, step
    // in seconds, POST), compared like the PromQL suite.
    let panels = [
        "sum by (instance) (rate(http_requests_total[1m0s]))",
        "histogram_quantile(0.95, sum by (le) (rate(request_duration_seconds_bucket[2m])))",
        "topk(5, sum by (instance, code) (increase(http_requests_total[5m])))",
    ];
    for q in panels {
        let r = post(
            "/api/v1/query_range",
            p(&[
                ("query", q),
                ("start", &last_hour),
                ("end", &to),
                ("step", "15"),
            ]),
        );
        let run = |url: &str| {
            let c = common::http();
            outcome(
                c.post(format!("{url}{}", r.path))
                    .form(&r.params)
                    .send()
                    .unwrap(),
            )
        };
        if let Err(e) = compare(&run(&s.prom.url), &run(&s.ours.url()), false) {
            failures.push(format!("panel {q}: {e}"));
        }
    }

    // Shapes that cannot be equal (versions, paths, clocks), checked for
    // what clients read from them.
    for path in [
        "/api/v1/status/buildinfo",
        "/api/v1/status/runtimeinfo",
        "/api/v1/status/flags",
        "/api/v1/status/config",
        "/api/v1/status/tsdb",
    ] {
        let (ps, pb) = send(&s.prom.url, &get(path, vec![]));
        let (os, ob) = send(&s.ours.url(), &get(path, vec![]));
        assert_eq!((ps, os), (200, 200), "{path}: {pb} / {ob}");
        assert_eq!(ob["status"], "success", "{path}: {ob}");
        for key in [
            "version",
            "startTime",
            "storageRetention",
            "yaml",
            "headStats",
        ] {
            if pb["data"].get(key).is_some() {
                assert!(ob["data"].get(key).is_some(), "{path}: no {key}: {ob}");
            }
        }
    }
    let (_, ob) = send(&s.ours.url(), &get("/api/v1/status/buildinfo", vec![]));
    let version = ob["data"]["version"].as_str().unwrap_or_default();
    assert!(
        version
            .split('.')
            .filter_map(|x| x.parse::<u32>().ok())
            .count()
            == 3,
        "Grafana parses buildinfo's version as semver: {version:?}"
    );
    let (_, ob) = send(&s.ours.url(), &get("/api/v1/status/flags", vec![]));
    assert_eq!(ob["data"]["query.max-concurrency"], "20", "{ob}");

    for f in &failures {
        println!("MISMATCH {f}");
    }
    assert!(
        failures.is_empty(),
        "{} endpoint responses differ from Prometheus's (see above)",
        failures.len()
    );
}

/// `promtool query` prints the same against both servers. Queries avoid
/// sums of fractional values: the last digit of a float sum depends on
/// the order of its terms, which PromQL leaves open.
#[test]
fn promtool_query_prints_the_same_for_both_servers() {
    let Some(s) = setup() else {
        return;
    };
    let w = s.window;
    let t = secs(w.end - 20 * 60_000 + 7);
    let (start, end) = (
        secs(w.start + 65 * 60_000 + 7),
        secs(w.end - 5 * 60_000 + 7),
    );
    let cases: Vec<Vec<String>> = [
        vec!["instant", "{url}", "queue_depth", "--time", &t],
        vec![
            "instant",
            "{url}",
            "sort_desc(rate(http_requests_total[5m]))",
            "--time",
            &t,
        ],
        vec!["instant", "{url}", "scalar(sum(queue_depth))", "--time", &t],
        vec!["instant", "{url}", "\"hello\"", "--time", &t],
        vec!["instant", "{url}", "odd_values", "--time", &t],
        vec![
            "instant",
            "-o",
            "json",
            "{url}",
            "sort(node_temperature_celsius)",
            "--time",
            &t,
        ],
        vec!["instant", "{url}", "sum(", "--time", &t],
        vec![
            "instant",
            "{url}",
            "http_requests_total * on(instance) build_info",
            "--time",
            &t,
        ],
        vec![
            "range",
            "{url}",
            "max by (zone) (node_temperature_celsius)",
            "--start",
            &start,
            "--end",
            &end,
            "--step",
            "5m",
        ],
        vec![
            "range",
            "-o",
            "json",
            "{url}",
            "rate(http_requests_total{code=\"500\"}[5m])",
            "--start",
            &start,
            "--end",
            &end,
            "--step",
            "10m",
        ],
        vec![
            "series",
            "{url}",
            "--match",
            "queue_depth",
            "--match",
            "build_info{version=\"1.3.0\"}",
        ],
        vec![
            "series",
            "{url}",
            "--match",
            "request_duration_seconds_count",
            "--start",
            &start,
            "--end",
            &end,
        ],
        vec!["labels", "{url}", "instance"],
        vec!["labels", "{url}", "__name__"],
        vec![
            "labels",
            "{url}",
            "le",
            "--match",
            "request_duration_seconds_bucket",
        ],
    ]
    .iter()
    .map(|c| c.iter().map(|x| x.to_string()).collect())
    .collect();
    let run = |args: &[String], url: &str| {
        let out = Command::new(&s.promtool)
            .arg("query")
            .args(args.iter().map(|a| a.replace("{url}", url)))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let mut failures = Vec::new();
    for args in &cases {
        let (pc, pout) = run(args, &s.prom.url);
        let (oc, oout) = run(args, &s.ours.url());
        if pc != oc || pout != oout {
            failures.push(format!(
                "promtool query {args:?}:\n--- prometheus (exit {pc:?})\n{pout}\n--- ours (exit {oc:?})\n{oout}"
            ));
        }
    }
    println!(
        "promtool query: {} commands, {} differ",
        cases.len(),
        failures.len()
    );
    for f in &failures {
        println!("MISMATCH {f}");
    }
    assert!(
        failures.is_empty(),
        "promtool prints differently (see above)"
    );
}
