//! Native-histogram corners of Prometheus 3 that the upstream `.test`
//! suite pins down (issue 12), checked here without the suite's files.

use sightline_core::{FloatHistogram, Labels, MemStore};
use sightline_promql::promqltest::parse_histogram;
use sightline_promql::{Engine, EngineOptions, Value};

fn h(body: &str) -> FloatHistogram {
    parse_histogram(body).expect("histogram notation")
}

fn vector(s: &MemStore, q: &str, t: i64) -> (Vec<sightline_promql::InstantSample>, Vec<String>) {
    let e = Engine::new(EngineOptions::default());
    let r = e.instant_query(s, q, t).expect(q);
    let Value::Vector(v) = r.value else {
        panic!("{q}: not a vector")
    };
    (v, r.warnings)
}

#[test]
fn sort_leaves_histograms_out() {
    let s = MemStore::new();
    s.add(Labels::from_pairs([("__name__", "m"), ("i", "a")]), 0, 2.0);
    s.add(Labels::from_pairs([("__name__", "m"), ("i", "b")]), 0, 1.0);
    s.add_histogram(
        Labels::from_pairs([("__name__", "m"), ("i", "h")]),
        0,
        h("sum:1 count:1"),
    );
    for q in ["sort(m)", "sort_desc(m)"] {
        let (v, _) = vector(&s, q, 0);
        assert_eq!(v.len(), 2, "{q}");
        assert!(v.iter().all(|x| x.h.is_none()), "{q}");
    }
}

#[test]
fn irate_warns_when_either_sample_is_a_gauge() {
    let s = MemStore::new();
    let l = Labels::from_pairs([("__name__", "m")]);
    s.add_histogram(l.clone(), 0, h("sum:1 count:1 counter_reset_hint:gauge"));
    s.add_histogram(l, 60_000, h("sum:4 count:4"));
    let (v, warnings) = vector(&s, "irate(m[5m])", 60_000);
    assert_eq!(v[0].h.as_ref().map(|x| x.count), Some(0.05));
    assert!(
        warnings.iter().any(|w| w.contains("not a counter")),
        "{warnings:?}"
    );
}

#[test]
fn changed_custom_bounds_alone_are_no_counter_reset() {
    let s = MemStore::new();
    let l = Labels::from_pairs([("__name__", "m")]);
    s.add_histogram(
        l.clone(),
        0,
        h("schema:-53 sum:1 count:1 custom_values:[5] buckets:[1]"),
    );
    s.add_histogram(
        l.clone(),
        60_000,
        h("schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]"),
    );
    // Counts fall in the buckets both layouts share: a reset.
    s.add_histogram(
        l,
        120_000,
        h("schema:-53 sum:1 count:1 custom_values:[10] buckets:[0 1]"),
    );
    let (v, _) = vector(&s, "resets(m[90s])", 60_000);
    assert_eq!(v[0].v, 0.0);
    let (v, _) = vector(&s, "increase(m[90s])", 60_000);
    assert_eq!(v[0].h.as_ref().map(|x| x.count), Some(0.0));
    let (v, _) = vector(&s, "resets(m[5m])", 120_000);
    assert_eq!(v[0].v, 1.0);
}

#[test]
fn histogram_quantiles_reads_native_histograms() {
    let s = MemStore::new();
    s.add_histogram(
        Labels::from_pairs([("__name__", "m")]),
        0,
        h("schema:0 count:4 sum:4 buckets:[4]"),
    );
    let (mut v, _) = vector(&s, r#"histogram_quantiles(m, "q", 0.5, 1)"#, 0);
    v.sort_by(|a, b| a.labels.cmp(&b.labels));
    let got: Vec<(String, f64)> = v
        .iter()
        .map(|x| (x.labels.get("q").unwrap_or_default().to_string(), x.v))
        .collect();
    // One bucket (0.5, 1]: exponential interpolation puts the median at sqrt(0.5).
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, "0.5");
    assert!((got[0].1 - 0.5f64.sqrt()).abs() < 1e-12, "{got:?}");
    assert_eq!(got[1], ("1.0".to_string(), 1.0));
}

#[test]
fn a_reset_from_custom_to_exponential_buckets_is_no_schema_mix() {
    // After a reset the earlier sample counts as zero, so its layout
    // does not clash with the new one.
    let s = MemStore::new();
    let l = Labels::from_pairs([("__name__", "m")]);
    s.add_histogram(
        l.clone(),
        30_000,
        h("schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]"),
    );
    s.add_histogram(l, 60_000, h("schema:0 sum:5 count:4 buckets:[1 2 1]"));
    let (v, warnings) = vector(&s, "irate(m[1m])", 60_000);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(v[0].h.as_ref().map(|x| x.count), Some(4.0 / 30.0));
    // Extrapolated to where the count would have been zero: 7.5s before
    // the first sample, 37.5s of increase 4 over a 60s range.
    let (v, warnings) = vector(&s, "rate(m[1m])", 60_000);
    assert!(warnings.is_empty(), "{warnings:?}");
    let got = v[0].h.as_ref().map(|x| x.count).unwrap_or_default();
    assert!((got - 4.0 * 37.5 / 30.0 / 60.0).abs() < 1e-12, "{got}");
}

#[test]
fn a_subquery_repeating_a_reset_sample_counts_the_reset_once() {
    let s = MemStore::new();
    let l = Labels::from_pairs([("__name__", "m")]);
    s.add_histogram(l.clone(), 0, h("sum:10 count:10"));
    s.add_histogram(
        l.clone(),
        60_000,
        h("sum:2 count:2 counter_reset_hint:reset"),
    );
    s.add_histogram(l, 120_000, h("sum:4 count:4"));
    // Points every 15s repeat the reset sample four times; one reset:
    // 4 - 10 + 10 = 4 over points from 15s to 120s, extrapolated by 15s
    // to the range's start.
    let (v, _) = vector(&s, "increase(m[2m:15s])", 120_000);
    let got = v[0].h.as_ref().map(|x| x.count).unwrap_or_default();
    assert!((got - 4.0 * 120.0 / 105.0).abs() < 1e-9, "{got}");
}

#[test]
fn info_refuses_a_histogram_info_series() {
    let s = MemStore::new();
    s.add(
        Labels::from_pairs([("__name__", "m"), ("instance", "a"), ("job", "1")]),
        0,
        1.0,
    );
    s.add_histogram(
        Labels::from_pairs([("__name__", "h_info"), ("instance", "a"), ("job", "1")]),
        0,
        h("sum:1 count:1"),
    );
    let e = Engine::new(EngineOptions::default());
    let err = e
        .instant_query(&s, r#"info(m, {__name__="h_info"})"#, 0)
        .expect_err("a histogram info series is an error");
    assert!(
        err.to_string()
            .contains("this should be an info metric, with float samples"),
        "{err}"
    );
}
