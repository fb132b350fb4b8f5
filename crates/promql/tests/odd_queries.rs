use sightline_core::{Labels, MemStore, STALE_NAN};
use sightline_promql::{Engine, EngineOptions};

/// Odd and hostile queries must come back as results or errors, never panics.

#[test]
fn odd_queries_never_panic() {
    let s = MemStore::new();
    for i in 0..5 {
        for k in 0..20i64 {
            let v = if k == 7 {
                STALE_NAN
            } else if k == 9 {
                f64::NAN
            } else {
                (k * i as i64) as f64
            };
            s.add(
                Labels::from_pairs([
                    ("__name__", "m".to_string()),
                    ("i", i.to_string()),
                    ("le", ["0.1", "1", "+Inf", "x", "5"][i].to_string()),
                ]),
                k * 15_000,
                v,
            );
        }
    }
    let e = Engine::new(EngineOptions::default());
    let qs = [
        "m[0s]",
        "rate(m[1ms])",
        "topk(1e300, m)",
        "topk(-1e300, m)",
        "bottomk(9223372036854775807, m)",
        "quantile(2, m)",
        "quantile(-1, m)",
        "limit_ratio(NaN, m)",
        "limitk(1e20, m)",
        "m[5m:0s]",
        "sum_over_time(m[5m:100ms])",
        "histogram_quantile(0.5, m)",
        "histogram_fraction(1, 0, m)",
        "histogram_quantiles(m, \"q\", 0.5)",
        "label_replace(m, \"a\", \"$1$2$x\", \"i\", \"(.*)\")",
        "label_join(m, \"a\", \"\", )",
        "count_values(\"\", m)",
        "count_values(\"__name__\", m)",
        "m @ 1e15",
        "m offset -1y",
        "m offset 100y",
        "round(m, 0)",
        "clamp(m, 5, 1)",
        "double_exponential_smoothing(m[5m], 0.5, 0.5)",
        "predict_linear(m[5m], 1e308)",
        "absent(nonexistent{a=~\"b\"})",
        "absent_over_time(m[1m:100ms])",
        "scalar(m)",
        "vector(scalar(m))",
        "sort_by_label(m, \"i\", \"le\")",
        "info(m)",
        "m / on() group_left m",
        "m and on() m",
        "m unless m",
        "year(m)",
        "days_in_month(vector(1e20))",
        "day_of_week(vector(-1e20))",
        "minute(vector(NaN))",
        "timestamp(m offset 1m)",
        "-(-m)",
        "m ^ m",
        "m % 0",
        "atan2(m, m)",
        "1 atan2 m",
        "max_over_time((m > 3)[10m:7s] offset 3s)",
        "rate(m[1m] @ end())",
        "stddev_over_time(m[1h])",
        "mad_over_time(m[1h])",
        "quantile_over_time(NaN, m[1h])",
        "ts_of_max_over_time(m[1h])",
        "changes(m[1h])",
        "resets(m[1h])",
        "irate(m[1h])",
        "idelta(m[1h])",
        "deriv(m[1h])",
        "sum by (nonexistent) (m)",
        "count without (i, le) (m)",
        "group(m) by (le)",
        "avg(m) * on() group_right avg(m)",
        "\"str\"",
        "1 > bool 2",
        "(1)[5m:1m]",
        "min_of(1, 2)",
        "step()",
        "range()",
    ];
    for q in qs {
        for (a, b, st) in [(0, 0, 0), (0, 600_000, 15_000), (-600_000, 600_000, 7_000)] {
            let r = if st == 0 {
                e.instant_query(&s, q, a)
            } else {
                e.range_query(&s, q, a, b, st)
            };
            if let Err(err) = r {
                // Errors are fine; they must still name what went wrong.
                assert!(!err.to_string().is_empty(), "{q}");
            }
        }
    }
}
