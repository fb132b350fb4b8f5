//! Tests of the evaluator core: lookback, windows, limits, chunking,
//! deadlines and cancellation.

use crate::{Engine, EngineOptions, Value};
use sightline_core::{
    ErrorKind, Labels, Matcher, MemStore, MetricQuerier, QueryContext, SeriesSet, STALE_NAN,
};

fn points(v: Value) -> Vec<(i64, f64)> {
    let Value::Matrix(m) = v else {
        panic!("not a matrix")
    };
    m.into_iter()
        .flat_map(|s| s.points)
        .map(|p| (p.t, p.v))
        .collect()
}

#[test]
fn staleness_marker_ends_the_lookback_at_once() {
    let s = MemStore::new();
    let l = Labels::from_pairs([("__name__", "m")]);
    s.add(l.clone(), 0, 1.0);
    s.add(l.clone(), 60_000, 2.0);
    s.add(l, 120_000, STALE_NAN);
    let e = Engine::new(EngineOptions::default());
    let got = points(e.range_query(&s, "m", 0, 240_000, 60_000).unwrap().value);
    assert_eq!(got, vec![(0, 1.0), (60_000, 2.0)]);
}

#[test]
fn lookback_is_left_open_and_five_minutes() {
    let s = MemStore::new();
    s.add(Labels::from_pairs([("__name__", "m")]), 0, 1.0);
    let e = Engine::new(EngineOptions::default());
    let got = points(e.range_query(&s, "m", 0, 300_000, 100_000).unwrap().value);
    // At t = 300 s the sample at 0 is exactly 5 m old: outside (t-5m, t].
    assert_eq!(got, vec![(0, 1.0), (100_000, 1.0), (200_000, 1.0)]);
}

#[test]
fn range_windows_are_left_open() {
    let s = MemStore::new();
    let l = Labels::from_pairs([("__name__", "m")]);
    for k in 0..=4 {
        s.add(l.clone(), k * 15_000, 1.0);
    }
    let e = Engine::new(EngineOptions::default());
    let r = e
        .instant_query(&s, "count_over_time(m[1m])", 60_000)
        .unwrap();
    let Value::Vector(v) = r.value else { panic!() };
    assert_eq!(v[0].v, 4.0);
}

#[test]
fn max_samples_is_a_limit_error_with_prometheus_text() {
    let s = MemStore::new();
    let l = Labels::from_pairs([("__name__", "m")]);
    for k in 0..100 {
        s.add(l.clone(), k * 1000, 1.0);
    }
    let e = Engine::new(EngineOptions {
        max_samples: 10,
        ..EngineOptions::default()
    });
    let err = e.instant_query(&s, "m[100s]", 100_000).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
}

#[test]
fn name_removal_is_delayed_only_when_asked() {
    let s = MemStore::new();
    let l = Labels::from_pairs([("__name__", "m_total"), ("j", "a")]);
    for k in 0..10 {
        s.add(l.clone(), k * 15_000, k as f64);
    }
    let q = r#"label_replace(rate(m_total[1m]), "x", "$1", "__name__", "(.+)")"#;
    let x_of = |delayed: bool| {
        let e = Engine::new(EngineOptions {
            delayed_name_removal: delayed,
            ..EngineOptions::default()
        });
        let Value::Vector(v) = e.instant_query(&s, q, 120_000).unwrap().value else {
            panic!()
        };
        assert!(v[0].labels.metric_name().is_none());
        v[0].labels.get("x").map(str::to_owned)
    };
    assert_eq!(x_of(true).as_deref(), Some("m_total"));
    assert_eq!(x_of(false), None);
}

#[test]
fn long_ranges_are_evaluated_in_chunks_and_stitched() {
    let s = MemStore::new();
    // A series that lives for 100 of 1000 steps, and one that lives throughout.
    for k in 0..1000 {
        s.add(
            Labels::from_pairs([("__name__", "all")]),
            k * 1000,
            k as f64,
        );
        if (400..500).contains(&k) {
            s.add(Labels::from_pairs([("__name__", "brief")]), k * 1000, 1.0);
        }
    }
    let e = Engine::new(EngineOptions::default());
    let r = e.range_query(&s, "all", 0, 999_000, 1000).unwrap();
    let Value::Matrix(m) = r.value else { panic!() };
    let all = &m[0];
    assert_eq!(all.points.len(), 1000);
    assert!(all
        .points
        .iter()
        .enumerate()
        .all(|(k, p)| p.t == k as i64 * 1000 && p.v == k as f64));
    let r = e
        .range_query(&s, "brief * 0 + 7", 0, 999_000, 1000)
        .unwrap();
    let Value::Matrix(m) = r.value else { panic!() };
    assert_eq!(m.len(), 1);
    let brief = &m[0];
    assert!(brief.labels.is_empty() && brief.points.iter().all(|p| p.v == 7.0));
    // Lookback keeps the last sample visible for 5 minutes after it.
    assert_eq!(brief.points.first().map(|p| p.t), Some(400_000));
    assert_eq!(brief.points.len(), 100 + 299);
    // A subquery over many inner steps stitches its chunks too.
    let r = e
        .instant_query(&s, "count_over_time(all[999s:1s])", 999_000)
        .unwrap();
    let Value::Vector(v) = r.value else { panic!() };
    assert_eq!(v[0].v, 999.0);
}

#[test]
fn a_query_past_its_deadline_times_out() {
    let s = MemStore::new();
    s.add(Labels::from_pairs([("__name__", "m")]), 0, 1.0);
    let e = Engine::new(EngineOptions {
        timeout: Some(std::time::Duration::ZERO),
        ..EngineOptions::default()
    });
    let err = e.instant_query(&s, "sum(m)", 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[test]
fn a_canceled_query_stops() {
    let s = MemStore::new();
    s.add(Labels::from_pairs([("__name__", "m")]), 0, 1.0);
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let e = Engine::new(EngineOptions {
        cancel: Some(flag),
        ..EngineOptions::default()
    });
    let err = e.instant_query(&s, "sum(m)", 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Canceled);
    assert_eq!(err.to_string(), "query was canceled in query execution");
}

#[test]
fn parse_errors_are_bad_data() {
    let e = Engine::new(EngineOptions::default());
    let err = e.instant_query(&MemStore::new(), "sum(", 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
    let err = e
        .instant_query(&MemStore::new(), "rate(x[5m]))", 0)
        .unwrap_err();
    // Prometheus places an extra `)` just past it (Prometheus 2.42
    // answers the same).
    assert_eq!(
        err.to_string(),
        "1:13: parse error: unexpected right parenthesis ')'"
    );
}

/// A store that counts the series a query pulls from it and runs `at(n)`
/// when it hands out the n-th, to stop a query part way (issue 13).
struct Counting {
    inner: MemStore,
    read: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    at: fn(usize, &QueryContext),
}

impl MetricQuerier for Counting {
    fn select(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        m: &[Matcher],
    ) -> sightline_core::Result<SeriesSet> {
        let (read, at, c) = (self.read.clone(), self.at, ctx.clone());
        let set = self.inner.select(ctx, mint, maxt, m)?;
        Ok(SeriesSet::new(
            ctx,
            set.inspect(move |_| {
                let n = read.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                at(n, &c);
            }),
        ))
    }

    fn label_names(
        &self,
        ctx: &QueryContext,
        a: i64,
        b: i64,
        m: &[Matcher],
    ) -> sightline_core::Result<Vec<String>> {
        self.inner.label_names(ctx, a, b, m)
    }

    fn label_values(
        &self,
        ctx: &QueryContext,
        n: &str,
        a: i64,
        b: i64,
        m: &[Matcher],
    ) -> sightline_core::Result<Vec<String>> {
        self.inner.label_values(ctx, n, a, b, m)
    }
}

const MANY: usize = 5000;

fn many(at: fn(usize, &QueryContext)) -> Counting {
    let inner = MemStore::new();
    for i in 0..MANY {
        inner.add(
            Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]),
            0,
            1.0,
        );
    }
    Counting {
        inner,
        read: Default::default(),
        at,
    }
}

fn reads(s: &Counting) -> usize {
    s.read.load(std::sync::atomic::Ordering::Relaxed)
}

#[test]
fn a_cancel_during_the_read_stops_before_the_last_series() {
    let s = many(|n, ctx| {
        if n == 100 {
            ctx.cancel();
        }
    });
    let e = Engine::new(EngineOptions::default());
    let ctx = QueryContext::new();
    let err = e.instant_query_in(&ctx, &s, "sum(m)", 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Canceled);
    assert_eq!(err.to_string(), "query was canceled in query execution");
    assert!(reads(&s) <= 101, "read {} of {MANY} series", reads(&s));
}

#[test]
fn a_deadline_passing_during_the_read_stops_before_the_last_series() {
    // The store is slow at its 100th series: the deadline passes there.
    let s = many(|n, _| {
        if n == 100 {
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    });
    let e = Engine::new(EngineOptions::default());
    let ctx = QueryContext::new().with_timeout(std::time::Duration::from_millis(200));
    let err = e.instant_query_in(&ctx, &s, "sum(m)", 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.to_string(), "query timed out in query execution");
    // Checked before every series, the clock every 64.
    assert!(reads(&s) <= 200, "read {} of {MANY} series", reads(&s));
}

#[test]
fn a_store_sample_limit_fails_the_query_with_prometheus_text() {
    let s = many(|_, _| {});
    let e = Engine::new(EngineOptions::default());
    let ctx = QueryContext::new().with_limits(sightline_core::QueryLimits {
        max_samples: 1000,
        max_bytes: 0,
    });
    let err = e.instant_query_in(&ctx, &s, "sum(m)", 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    assert!(reads(&s) <= 1001, "read {} of {MANY} series", reads(&s));
    // Without the limit the same query answers.
    let ok = e.instant_query(&s, "sum(m)", 0).unwrap();
    let Value::Vector(v) = ok.value else { panic!() };
    assert_eq!(v[0].v, MANY as f64);
}
