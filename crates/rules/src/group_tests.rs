//! Tests of group evaluation: recording results and staleness, the alert
//! state machine and its series, sending, restoring `for` state, and the
//! manager's reload and API snapshots.

use crate::file::parse_rule_file;
use crate::{AlertState, ManagerOptions, RuleBody, RuleContext, RuleGroup, RuleManager};
use sightline_core::{
    is_stale_nan, Labels, Matcher, MemStore, MetricAppender, MetricQuerier, Sample,
};
use sightline_promql::Engine;
use std::sync::Arc;

const M: i64 = 60_000;

fn ctx(store: &MemStore) -> RuleContext {
    RuleContext {
        querier: Arc::new(store.clone()) as Arc<dyn MetricQuerier>,
        appender: Arc::new(store.clone()) as Arc<dyn MetricAppender>,
        engine: Engine::default(),
        external_labels: Labels::empty(),
        external_url: "http://prom:9090".into(),
        logs: None,
    }
}

fn group(yaml: &str) -> RuleGroup {
    let f = parse_rule_file("t.yml", yaml).unwrap();
    RuleGroup::new(&f.groups[0], M, 0)
}

fn samples(store: &MemStore, name: &str) -> Vec<(Labels, Vec<Sample>)> {
    store
        .select(
            &sightline_core::QueryContext::new(),
            i64::MIN,
            i64::MAX,
            &[Matcher::equal("__name__", name)],
        )
        .unwrap()
        .into_vec()
        .unwrap()
        .into_iter()
        .map(|s| (s.labels, s.samples.collect()))
        .collect()
}

#[test]
fn recording_rule_writes_results_and_stale_markers() {
    let store = MemStore::new();
    let a = Labels::from_pairs([("__name__", "x"), ("i", "a")]);
    let b = Labels::from_pairs([("__name__", "x"), ("i", "b")]);
    store.add(a.clone(), 0, 1.0);
    store.add(b.clone(), 0, 2.0);
    store.add(b.clone(), M, sightline_core::STALE_NAN);
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - record: y\n    expr: x * 10\n    labels: {src: rule}\n",
    );
    let c = ctx(&store);
    g.eval(&c, 0, M);
    g.eval(&c, M, M);
    let got = samples(&store, "y");
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].0,
        Labels::from_pairs([("__name__", "y"), ("i", "a"), ("src", "rule")])
    );
    assert_eq!(got[0].1, vec![Sample::new(0, 10.0), Sample::new(M, 10.0)]);
    // i="b" went stale in the input, so its recording gets a stale marker.
    assert_eq!(got[1].1.len(), 2);
    assert!(is_stale_nan(got[1].1[1].v));
    assert_eq!(g.rules[0].health, crate::Health::Ok);
}

#[test]
fn recording_limit_is_an_error() {
    let store = MemStore::new();
    for i in 0..3 {
        store.add(
            Labels::from_pairs([("__name__", "x"), ("i", &i.to_string())]),
            0,
            1.0,
        );
    }
    let mut g = group("groups:\n- name: g\n  limit: 2\n  rules:\n  - record: y\n    expr: x\n");
    g.eval(&ctx(&store), 0, M);
    assert_eq!(
        g.rules[0].last_error.as_deref(),
        Some("exceeded limit of 2 with 3 series")
    );
    assert!(samples(&store, "y").is_empty());
}

#[test]
fn alert_lifecycle_series_and_sending() {
    let store = MemStore::new();
    let up = Labels::from_pairs([("__name__", "up"), ("job", "j")]);
    // Down from 0m to 4m, back up at 5m.
    for m in 0..5 {
        store.add(up.clone(), m * M, 0.0);
    }
    store.add(up.clone(), 5 * M, 1.0);
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 2m\n    annotations: {s: 'v={{ $value }}'}\n",
    );
    g.set_restored();
    let c = ctx(&store);
    let mut sent = Vec::new();
    for m in 0..=5 {
        sent.push(g.eval(&c, m * M, M));
    }
    // Pending at 0m and 1m, firing from 2m: sent at 2m (first time), not
    // at 3m (resend delay 1m not yet passed: 2m + 1m is not before 3m),
    // again at 4m; resolved at 5m and sent once more.
    assert!(sent[0].is_empty() && sent[1].is_empty());
    assert_eq!(sent[2].len(), 1);
    assert_eq!(sent[2][0].starts_at, 2 * M);
    assert_eq!(sent[2][0].ends_at, 2 * M + 4 * M);
    assert_eq!(
        sent[2][0].generator_url,
        "http://prom:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
    );
    assert_eq!(sent[2][0].annotations["s"], "v=0");
    assert!(sent[3].is_empty());
    assert_eq!(sent[4].len(), 1);
    assert_eq!(sent[5].len(), 1);
    assert_eq!(sent[5][0].ends_at, 5 * M);

    let alerts = samples(&store, "ALERTS");
    let pending = &alerts
        .iter()
        .find(|(l, _)| l.get("alertstate") == Some("pending"))
        .unwrap()
        .1;
    assert_eq!(pending.iter().filter(|s| !is_stale_nan(s.v)).count(), 2);
    // The pending series goes stale when the alert starts firing.
    assert!(is_stale_nan(pending[2].v) && pending[2].t == 2 * M);
    let firing = &alerts
        .iter()
        .find(|(l, _)| l.get("alertstate") == Some("firing"))
        .unwrap()
        .1;
    assert_eq!(
        firing.last().map(|s| (s.t, is_stale_nan(s.v))),
        Some((5 * M, true))
    );
    let for_state = samples(&store, "ALERTS_FOR_STATE");
    assert_eq!(
        for_state[0].0,
        Labels::from_pairs([
            ("__name__", "ALERTS_FOR_STATE"),
            ("alertname", "Down"),
            ("job", "j")
        ])
    );
    assert!(for_state[0]
        .1
        .iter()
        .filter(|s| !is_stale_nan(s.v))
        .all(|s| s.v == 0.0));

    // Resolved alerts stay 15m for sending, then go.
    let RuleBody::Alerting(a) = &g.rules[0].body else {
        panic!()
    };
    assert_eq!(a.active.len(), 1);
    assert!(a.active_alerts().is_empty());
    for m in 6..=21 {
        g.eval(&c, m * M, M);
    }
    let RuleBody::Alerting(a) = &g.rules[0].body else {
        panic!()
    };
    assert!(a.active.is_empty());
}

#[test]
fn alert_limit_drops_all_alerts() {
    let store = MemStore::new();
    for i in 0..3 {
        store.add(
            Labels::from_pairs([("__name__", "up"), ("i", &i.to_string())]),
            0,
            0.0,
        );
    }
    let mut g =
        group("groups:\n- name: g\n  limit: 2\n  rules:\n  - alert: A\n    expr: up == 0\n");
    g.eval(&ctx(&store), 0, M);
    assert_eq!(
        g.rules[0].last_error.as_deref(),
        Some("exceeded limit of 2 with 3 alerts")
    );
    let RuleBody::Alerting(a) = &g.rules[0].body else {
        panic!()
    };
    assert!(a.active.is_empty());
}

fn restore_case(for_: &str, active_since: i64, down_at: i64, restart: i64) -> i64 {
    let store = MemStore::new();
    let up = Labels::from_pairs([("__name__", "up"), ("job", "j")]);
    store.add(up.clone(), restart, 0.0);
    let fs = Labels::from_pairs([
        ("__name__", "ALERTS_FOR_STATE"),
        ("alertname", "Down"),
        ("job", "j"),
    ]);
    store.add(fs.clone(), down_at - M, (active_since / 1000) as f64);
    store.add(fs, down_at, (active_since / 1000) as f64);
    let mut g = group(&format!(
        "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: {for_}\n"
    ));
    let c = ctx(&store);
    g.eval(&c, restart, M);
    // No ALERTS before the state is restored.
    assert!(samples(&store, "ALERTS").is_empty());
    g.restore_for_state(&c, restart, 10 * M, 60 * M);
    let RuleBody::Alerting(a) = &g.rules[0].body else {
        panic!()
    };
    assert!(a.restored);
    a.active.values().next().unwrap().active_at
}

#[test]
fn for_state_is_restored_as_prometheus_does() {
    // Pending 10m of 30m when we went down at 10m; back at 20m: the 10m
    // outage shifts activeAt from 0m to 10m.
    assert_eq!(restore_case("30m", 0, 10 * M, 20 * M), 10 * M);
    // 5m left (< 10m grace period): activeAt = restart + grace - for.
    assert_eq!(restore_case("15m", 0, 10 * M, 20 * M), 15 * M);
    // Was already firing: activeAt is the stored one.
    assert_eq!(restore_case("15m", 0, 20 * M, 25 * M), 0);
    // for shorter than the grace period: not restored, starts anew.
    assert_eq!(restore_case("5m", 0, 2 * M, 3 * M), 3 * M);
}

#[test]
fn manager_reload_keeps_state_and_snapshots_serialise() {
    let store = MemStore::new();
    store.add(
        Labels::from_pairs([("__name__", "up"), ("job", "j")]),
        0,
        0.0,
    );
    let dir = std::env::temp_dir().join(format!("sightline-rules-mgr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.rules.yml"),
        "groups:\n- name: g\n  interval: 30s\n  rules:\n  - alert: Down\n    expr: up == 0\n    labels: {severity: page}\n  - record: r\n    expr: up\n",
    )
    .unwrap();
    let m = RuleManager::new(ManagerOptions::new(ctx(&store)));
    m.load(&["*.rules.yml".into()], &dir).unwrap();
    let g = m.groups().pop().unwrap();
    m.eval_group_at(&g, 0);
    m.eval_group_at(&g, 30_000);
    m.load(&["*.rules.yml".into()], &dir).unwrap();
    let g = m.groups().pop().unwrap();
    {
        let g = g.lock().unwrap();
        let RuleBody::Alerting(a) = &g.rules[0].body else {
            panic!()
        };
        assert_eq!(a.state(), AlertState::Firing);
        assert_eq!(g.interval_ms, 30_000);
    }
    let rules = serde_json::to_value(m.rules_snapshot()).unwrap();
    let grp = &rules["groups"][0];
    assert_eq!(grp["name"], "g");
    assert_eq!(grp["interval"], 30.0);
    assert_eq!(grp["rules"][0]["type"], "alerting");
    assert_eq!(grp["rules"][0]["state"], "firing");
    assert_eq!(grp["rules"][0]["health"], "ok");
    assert_eq!(grp["rules"][0]["alerts"][0]["value"], "0e+00");
    assert_eq!(
        grp["rules"][0]["alerts"][0]["activeAt"],
        "1970-01-01T00:00:00Z"
    );
    assert_eq!(grp["rules"][1]["type"], "recording");
    assert!(grp["rules"][1].get("labels").is_none());
    let alerts = serde_json::to_value(m.alerts_snapshot()).unwrap();
    assert_eq!(alerts["alerts"][0]["labels"]["severity"], "page");
    assert_eq!(alerts["alerts"][0]["state"], "firing");
    // Removing the file marks the group's series stale.
    std::fs::remove_file(dir.join("a.rules.yml")).unwrap();
    m.load(&["*.rules.yml".into()], &dir).unwrap();
    assert!(m.groups().is_empty());
    let r = samples(&store, "r");
    assert!(is_stale_nan(r[0].1.last().unwrap().v));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_loop_stops_on_cancel() {
    let store = MemStore::new();
    let m = Arc::new(RuleManager::new(ManagerOptions::new(ctx(&store))));
    let f = parse_rule_file(
        "t.yml",
        "groups:\n- name: g\n  interval: 1s\n  rules:\n  - record: one\n    expr: vector(1)\n",
    )
    .unwrap();
    m.set_files(&[f]);
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (m2, c2) = (m.clone(), cancel.clone());
    let h = std::thread::spawn(move || m2.run(&c2));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while samples(&store, "one").is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    h.join().unwrap();
    assert!(!samples(&store, "one").is_empty());
}

#[test]
fn recording_rule_over_histograms_records_histograms() {
    // issue 12: a rule such as `sum by (job) (h)` over native histograms
    // records native histograms, as Prometheus does (they were dropped).
    use sightline_core::histogram::Span;
    use sightline_core::FloatHistogram;
    let store = MemStore::new();
    let h = |count: f64, b: [f64; 2]| FloatHistogram {
        schema: 0,
        count,
        sum: count * 1.5,
        positive_spans: vec![Span {
            offset: 1,
            length: 2,
        }],
        positive_buckets: b.to_vec(),
        ..FloatHistogram::default()
    };
    for (i, (c, b)) in [(3.0, [1.0, 2.0]), (5.0, [4.0, 1.0])]
        .into_iter()
        .enumerate()
    {
        let l = Labels::from_pairs([("__name__", "h"), ("i", ["a", "b"][i]), ("job", "j")]);
        store.add_histogram(l, 0, h(c, b));
    }
    let mut g =
        group("groups:\n- name: g\n  rules:\n  - record: job:h:sum\n    expr: sum by (job) (h)\n");
    g.eval(&ctx(&store), 0, M);
    assert_eq!(
        g.rules[0].health,
        crate::Health::Ok,
        "{:?}",
        g.rules[0].last_error
    );
    let got = store
        .select(
            &sightline_core::QueryContext::new(),
            i64::MIN,
            i64::MAX,
            &[Matcher::equal("__name__", "job:h:sum")],
        )
        .unwrap()
        .into_vec()
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].labels,
        Labels::from_pairs([("__name__", "job:h:sum"), ("job", "j")])
    );
    let hs: Vec<_> = got
        .into_iter()
        .next()
        .unwrap()
        .histograms
        .unwrap()
        .collect();
    assert_eq!(hs.len(), 1);
    // By hand: counts 3 + 5, sums 4.5 + 7.5, buckets [1+4, 2+1].
    assert_eq!((hs[0].t, hs[0].h.count, hs[0].h.sum), (0, 8.0, 12.0));
    assert_eq!(hs[0].h.positive_buckets, vec![5.0, 3.0]);
}
