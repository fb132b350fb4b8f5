//! Issue 3: PromQL through the Prometheus HTTP API, proven against the
//! real Prometheus 2.42. One OpenMetrics file is loaded into both systems
//! (`promtool tsdb create-blocks-from openmetrics` and `sightline import
//! openmetrics`), both servers start, and a few hundred instant and range
//! queries covering every PromQL function and operator 2.42 has (plus
//! error cases) go to both. Expected values are whatever Prometheus
//! answers in the same run. Where Prometheus 2.42 and Sightline (which
//! follows 3.x) differ on purpose, the query is listed in
//! [`KNOWN_DIFFERENCES`] with the reason.

mod common;
mod promql_peers;

use promql_peers::{compare, instant, range, secs, setup, Outcome, Run};
use std::time::Instant;

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
    "rate(http_requests_total[5m] offset 1h)",
];

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
        // NaN and infinities through functions, operators, aggregations.
        "-odd_values",
        "odd_values > 0",
        "odd_values == bool odd_values",
        "odd_values + on(kind) odd_values",
        "sort(odd_values)",
        "sort_desc(odd_values)",
        "topk(2, odd_values)",
        "bottomk(2, odd_values)",
        "quantile(0.5, odd_values)",
        "stddev(odd_values)",
        "count_values(\"v\", odd_values)",
        "max_over_time(odd_values[5m])",
        "stddev_over_time(odd_values[5m])",
        "changes(odd_values[10m])",
        "clamp(odd_values, -1, 1)",
        "round(odd_values)",
        "scalar(odd_values{kind=\"nan\"})",
        "timestamp(vector(1))",
        "absent(odd_values{kind=~\"no.*\"})",
        "label_join(odd_values, \"k2\", \"\", \"kind\")",
        "histogram_quantile(0.5, odd_values)",
        "deriv(http_requests_total[20m])",
        "predict_linear(http_requests_total[20m], 300)",
        "irate(queue_depth[1m])",
        "idelta(http_requests_total[1m])",
        "delta(http_requests_total[10m])",
        "resets(queue_depth[30m])",
        "sum(http_requests_total) by (instance) / ignoring(instance) group_left sum(http_requests_total)",
        "max by (instance) (http_requests_total) and on(instance) (build_info == 1)",
        "count_over_time(http_requests_total{instance=\"i3\"}[30m])",
        "last_over_time(http_requests_total{instance=\"i3\"}[1h])",
        "absent_over_time(http_requests_total{instance=\"i3\"}[10m])",
        "present_over_time(http_requests_total{instance=\"i3\"}[10m])",
        "sum without (instance) (rate(http_requests_total[5m]))",
        "avg_over_time(queue_depth{queue=\"c\"}[30m])",
        "queue_depth{queue=\"c\"} offset 10m",
        "rate(http_requests_total[5m] offset 1h)",
        "vector(1) + on() group_left queue_depth",
        "queue_depth + on() group_left vector(1)",
        "group(queue_depth) by (queue)",
        "1 / 0",
        "0 / 0",
        "-1 / 0",
        "2 % 0",
        "-0",
        "1e300 * 1e300",
        "0.1 + 0.2",
        "sum(queue_depth) / 3",
        // Modifiers combined with functions and subqueries.
        "sum_over_time(queue_depth[10m:1m] @ end() offset 5m)",
        "rate(http_requests_total[5m] @ start() offset -10m)",
        "max_over_time(deriv(node_temperature_celsius[5m])[15m:30s] offset 2m)",
        "timestamp(queue_depth @ start())",
        "time() - timestamp(queue_depth)",
        "label_replace(queue_depth, \"all\", \"$0-$1\", \"queue\", \"(.)\")",
        "label_replace(queue_depth, \"x\", \"${1}z\", \"queue\", \"(.)\")",
        "count_values(\"le\", request_duration_seconds_bucket{instance=\"i1\"})",
        "sum by (le) (request_duration_seconds_bucket) / ignoring(le) group_left sum(request_duration_seconds_count)",
        "quantile(0, queue_depth) + quantile(1, queue_depth)",
        "quantile(-0.5, queue_depth)",
        "topk(0, queue_depth)",
        "topk(1e10, queue_depth)",
        "bottomk(-1, queue_depth)",
        "stdvar(queue_depth) - stddev(queue_depth)^2",
        "avg(queue_depth) * count(queue_depth) - sum(queue_depth)",
        "predict_linear(node_temperature_celsius[10m] offset 5m, -300)",
        "clamp_min(queue_depth, NaN)",
        "clamp(queue_depth, NaN, 10)",
        "round(queue_depth / 7, 0.25)",
        "vector(NaN) > 1",
        "vector(1) and on() vector(2)",
        "absent(queue_depth{queue=\"zz\", other=~\"a|b\"})",
        "changes(node_temperature_celsius[1h]) unless changes(queue_depth[1h])",
        "scalar(time()) - time()",
        "days_in_month(vector(1706745600))",
        "day_of_week(vector(-86400))",
        "month(vector(4102444800))",
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
