//! The generator's series against values counted by hand (issue 16).

use super::*;
use sightline_core::traces::{Resource, SpanId, SpanKind, StatusCode, TraceId};
use sightline_core::{AppendStats, Appender, SeriesRef};
use std::sync::{Arc, Mutex as StdMutex};

/// Records what was appended: (labels as text, t, v) and exemplars.
#[derive(Clone, Default)]
struct Recorder {
    samples: Arc<StdMutex<Vec<(String, i64, f64)>>>,
    exemplars: Arc<StdMutex<Vec<(String, String, f64)>>>,
}

struct RecAppender(Recorder, Vec<(String, i64, f64)>);

impl MetricAppender for Recorder {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(RecAppender(self.clone(), Vec::new()))
    }
}

impl Appender for RecAppender {
    fn append(
        &mut self,
        _: SeriesRef,
        l: &Labels,
        t: i64,
        v: f64,
    ) -> sightline_core::Result<SeriesRef> {
        self.1.push((l.to_string(), t, v));
        Ok(1)
    }
    fn append_exemplar(
        &mut self,
        _: SeriesRef,
        l: &Labels,
        e: &Exemplar,
    ) -> sightline_core::Result<()> {
        self.0
            .exemplars
            .lock()
            .unwrap()
            .push((l.to_string(), e.labels.to_string(), e.value));
        Ok(())
    }
    fn commit(self: Box<Self>) -> sightline_core::Result<AppendStats> {
        self.0.samples.lock().unwrap().extend(self.1);
        Ok(AppendStats::default())
    }
    fn rollback(self: Box<Self>) {}
}

impl Recorder {
    /// The value of the series printed as `labels` at `t`.
    fn at(&self, labels: &str, t: i64) -> Option<f64> {
        self.samples
            .lock()
            .unwrap()
            .iter()
            .find(|(l, tt, _)| l == labels && *tt == t)
            .map(|x| x.2)
    }
    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .samples
            .lock()
            .unwrap()
            .iter()
            .map(|(l, _, _)| l.split('{').next().unwrap().to_owned())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

fn span(trace: u64, id: u64, parent: Option<u64>, svc: &str, kind: SpanKind, ms: i64) -> Span {
    Span {
        trace_id: TraceId::from_halves(0, trace),
        span_id: SpanId::from_u64(id),
        parent_span_id: parent.map(SpanId::from_u64),
        name: "GET /".into(),
        kind,
        start_ns: 1_000_000_000,
        end_ns: 1_000_000_000 + ms * 1_000_000,
        resource: Arc::new(Resource {
            attributes: vec![("service.name".into(), AnyValue::Str(svc.into()))],
            dropped_attributes_count: 0,
        }),
        ..Default::default()
    }
}

const NOW: i64 = 1_700_000_000_000;

#[test]
fn span_metrics_count_calls_and_latency_buckets() {
    let mut cfg = GeneratorConfig {
        processors: vec!["span-metrics".into()],
        ..Default::default()
    };
    cfg.span_metrics.dimensions = vec!["http.method".into()];
    let g = MetricsGenerator::new(cfg);
    let mut a = span(1, 1, None, "api", SpanKind::Server, 3);
    a.attributes = vec![("http.method".into(), AnyValue::Str("GET".into()))];
    let mut b = span(2, 2, None, "api", SpanKind::Server, 10);
    b.attributes = a.attributes.clone();
    let mut c = span(3, 3, None, "api", SpanKind::Server, 5);
    c.status_code = StatusCode::Error;
    g.observe("fake", &[a, b], NOW);
    g.observe("fake", &[c], NOW);
    let rec = Recorder::default();
    g.collect(&rec, NOW + 15_000).unwrap();
    let t = NOW + 15_000;
    let base = |name: &str, extra: &str| {
        // Labels print sorted by name.
        let mut pairs = vec![
            ("__name__".to_string(), name.to_string()),
            ("http_method".into(), "GET".into()),
            ("service".into(), "api".into()),
            ("span_kind".into(), "SPAN_KIND_SERVER".into()),
            ("span_name".into(), "GET /".into()),
            ("status_code".into(), "STATUS_CODE_UNSET".into()),
        ];
        if !extra.is_empty() {
            pairs.push(("le".into(), extra.into()));
        }
        Labels::from_pairs(pairs).to_string()
    };
    assert_eq!(
        rec.at(&base("traces_spanmetrics_calls_total", ""), t),
        Some(2.0)
    );
    assert_eq!(
        rec.at(&base("traces_spanmetrics_calls_total", ""), t - 1),
        Some(0.0),
        "the zero before a new counter"
    );
    // 3 ms and 10 ms: buckets 0.002 0.004 0.008 0.016 ... cumulative.
    for (le, want) in [
        ("0.002", 0.0),
        ("0.004", 1.0),
        ("0.008", 1.0),
        ("0.016", 2.0),
        ("4.096", 2.0),
        ("+Inf", 2.0),
    ] {
        assert_eq!(
            rec.at(&base("traces_spanmetrics_latency_bucket", le), t),
            Some(want),
            "le={le}"
        );
    }
    let sum = rec
        .at(&base("traces_spanmetrics_latency_sum", ""), t)
        .unwrap();
    assert!((sum - 0.013).abs() < 1e-12, "{sum}");
    assert_eq!(
        rec.at(&base("traces_spanmetrics_latency_count", ""), t),
        Some(2.0)
    );
    // The error span is its own series, without the dimension it lacks.
    let err = Labels::from_pairs([
        ("__name__", "traces_spanmetrics_calls_total"),
        ("service", "api"),
        ("span_kind", "SPAN_KIND_SERVER"),
        ("span_name", "GET /"),
        ("status_code", "STATUS_CODE_ERROR"),
    ]);
    assert_eq!(rec.at(&err.to_string(), t), Some(1.0));
    // Exemplars carry the newest trace id.
    let ex = rec.exemplars.lock().unwrap().clone();
    let calls_ex: Vec<_> = ex
        .iter()
        .filter(|(l, _, _)| *l == base("traces_spanmetrics_calls_total", ""))
        .collect();
    assert_eq!(calls_ex.len(), 1);
    assert_eq!(
        calls_ex[0].1,
        r#"{traceID="00000000000000000000000000000002"}"#
    );
    // The 10 ms exemplar sits on the 0.016 bucket.
    assert!(ex
        .iter()
        .any(|(l, _, v)| *l == base("traces_spanmetrics_latency_bucket", "0.016") && *v == 0.01));
    // A second collection: no zero, same totals.
    g.collect(&rec, t + 15_000).unwrap();
    assert_eq!(
        rec.at(&base("traces_spanmetrics_calls_total", ""), t + 15_000),
        Some(2.0)
    );
    assert_eq!(
        rec.at(&base("traces_spanmetrics_calls_total", ""), t + 14_999),
        None
    );
    assert!(!rec
        .names()
        .iter()
        .any(|n| n.starts_with("traces_service_graph")));
}

fn edge(name: &str, client: &str, server: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![("__name__", name), ("client", client), ("server", server)];
    pairs.extend_from_slice(extra);
    Labels::from_pairs(pairs).to_string()
}

#[test]
fn service_graph_pairs_across_batches_and_expires_to_peers() {
    let g = MetricsGenerator::new(GeneratorConfig {
        processors: vec!["service-graphs".into()],
        ..Default::default()
    });
    // frontend (root server, 100 ms) -> frontend client (80 ms) ->
    // api server (70 ms, error), the two halves in separate batches.
    let root = span(1, 1, None, "frontend", SpanKind::Server, 100);
    let call = span(1, 2, Some(1), "frontend", SpanKind::Client, 80);
    let mut handler = span(1, 3, Some(2), "api", SpanKind::Server, 70);
    handler.status_code = StatusCode::Error;
    // api calls a database that reports nothing, and an unknown caller's
    // server span never finds its client.
    let mut db = span(1, 4, Some(3), "api", SpanKind::Client, 450);
    db.attributes = vec![
        ("db.system".into(), AnyValue::Str("postgresql".into())),
        ("db.name".into(), AnyValue::Str("orders".into())),
    ];
    let orphan = span(9, 5, Some(77), "worker", SpanKind::Server, 1);
    g.observe("fake", &[root, call], NOW);
    g.observe("fake", &[handler, db, orphan], NOW + 1000);
    let rec = Recorder::default();
    let t1 = NOW + 2000;
    g.collect(&rec, t1).unwrap();
    let fa = |n: &str| edge(n, "frontend", "api", &[]);
    assert_eq!(
        rec.at(&fa("traces_service_graph_request_total"), t1),
        Some(1.0)
    );
    assert_eq!(
        rec.at(&fa("traces_service_graph_request_failed_total"), t1),
        Some(1.0)
    );
    let b = |n: &str, le: &str| edge(n, "frontend", "api", &[("le", le)]);
    assert_eq!(
        rec.at(
            &b("traces_service_graph_request_server_seconds_bucket", "0.1"),
            t1
        ),
        Some(1.0),
        "70 ms"
    );
    assert_eq!(
        rec.at(
            &b("traces_service_graph_request_client_seconds_bucket", "0.1"),
            t1
        ),
        Some(1.0),
        "80 ms"
    );
    let us = |n: &str| edge(n, "user", "frontend", &[]);
    assert_eq!(
        rec.at(&us("traces_service_graph_request_total"), t1),
        Some(1.0)
    );
    assert_eq!(
        rec.at(&us("traces_service_graph_request_failed_total"), t1),
        Some(0.0)
    );
    // Still waiting: no api -> db edge yet.
    assert!(!rec
        .samples
        .lock()
        .unwrap()
        .iter()
        .any(|(l, _, _)| l.contains("server=\"orders\"")));

    let t2 = NOW + 12_000;
    g.collect(&rec, t2).unwrap();
    let db_edge = |n: &str, extra: &[(&str, &str)]| {
        let mut e = vec![("connection_type", "database")];
        e.extend_from_slice(extra);
        edge(n, "api", "orders", &e)
    };
    // db.name comes before db.system in the default peer attributes.
    assert_eq!(
        rec.at(&db_edge("traces_service_graph_request_total", &[]), t2),
        Some(1.0)
    );
    assert_eq!(
        rec.at(
            &db_edge(
                "traces_service_graph_request_client_seconds_bucket",
                &[("le", "0.4")]
            ),
            t2
        ),
        Some(0.0)
    );
    assert_eq!(
        rec.at(
            &db_edge(
                "traces_service_graph_request_client_seconds_bucket",
                &[("le", "0.8")]
            ),
            t2
        ),
        Some(1.0)
    );
    let unpaired = Labels::from_pairs([
        ("__name__", "traces_service_graph_unpaired_spans_total"),
        ("server", "worker"),
    ]);
    assert_eq!(rec.at(&unpaired.to_string(), t2), Some(1.0));
    // Exemplar of the frontend -> api edge: its trace.
    let ex = rec.exemplars.lock().unwrap().clone();
    assert!(ex
        .iter()
        .any(|(l, e, _)| *l == fa("traces_service_graph_request_total")
            && e.contains("0000000000000001")));
}

#[test]
fn max_items_drops_and_counts() {
    let mut cfg = GeneratorConfig {
        processors: vec!["service-graphs".into()],
        ..Default::default()
    };
    cfg.service_graphs.max_items = 1;
    let g = MetricsGenerator::new(cfg);
    g.observe(
        "t1",
        &[
            span(1, 1, None, "a", SpanKind::Client, 1),
            span(2, 2, None, "a", SpanKind::Client, 1),
        ],
        NOW,
    );
    let rec = Recorder::default();
    g.collect(&rec, NOW + 1).unwrap();
    let dropped = Labels::from_pairs([
        ("__name__", "traces_service_graph_dropped_spans_total"),
        ("tenant", "t1"),
    ]);
    assert_eq!(
        rec.at(&dropped.to_string(), NOW + 1),
        Some(1.0),
        "a tenant other than the default is labelled"
    );
}

#[test]
fn config_is_checked() {
    let bad: GeneratorConfig =
        sightline_config::yaml::from_str("processors: [span-metrics, local-blocks]", "t.yml")
            .unwrap();
    assert!(bad.validate().unwrap_err().contains("local-blocks"));
    let bad: GeneratorConfig =
        sightline_config::yaml::from_str("span_metrics: {histogram_buckets: [1, 0.5]}", "t.yml")
            .unwrap();
    assert!(bad.validate().unwrap_err().contains("increasing"));
    assert!(sightline_config::yaml::from_str::<GeneratorConfig>(
        "span_metrics: {dimension: [a]}",
        "t.yml"
    )
    .is_err());
    let ok: GeneratorConfig = sightline_config::yaml::from_str(
        "collection_interval: 30s\nservice_graphs: {wait: 5s}",
        "t.yml",
    )
    .unwrap();
    assert_eq!(ok.collection_interval.as_millis(), 30_000);
    assert_eq!(ok.service_graphs.wait.as_millis(), 5_000);
    assert!(ok.validate().is_ok());
}
