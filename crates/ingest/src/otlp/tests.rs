//! Receiver tests (issue 12): expected series and values worked out by
//! hand from Prometheus 3's mapping rules, never copied from our output.

use super::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use super::proto::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use super::proto::metrics::v1::{
    exemplar, metric::Data, number_data_point, summary_data_point::ValueAtQuantile, Exemplar,
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use super::proto::resource::v1::Resource;
use super::*;
use sightline_core::{
    AppendStats, Appender, Error as CoreError, ErrorKind, Exemplar as CoreExemplar, Labels,
    MetricAppender, SeriesRef,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Fails with `Internal` at this timestamp (ms), `Unavailable` at the next.
const BROKEN_T: i64 = 999_000;

type Rows = BTreeMap<String, Vec<(i64, f64)>>;

/// Refuses samples not after the newest of their series, like the head.
#[derive(Clone, Default)]
struct Store {
    rows: Arc<Mutex<Rows>>,
    /// Series handles: index + 1 into this list of series.
    ids: Arc<Mutex<Vec<String>>>,
    exemplars: Arc<Mutex<Vec<(String, CoreExemplar)>>>,
}

struct App {
    store: Store,
    pending: Rows,
    exemplars: Vec<(String, CoreExemplar)>,
}

impl MetricAppender for Store {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(App {
            store: self.clone(),
            pending: Rows::new(),
            exemplars: Vec::new(),
        })
    }
}

impl Appender for App {
    fn append(
        &mut self,
        r: SeriesRef,
        l: &Labels,
        t: i64,
        v: f64,
    ) -> sightline_core::Result<SeriesRef> {
        if t == BROKEN_T {
            return Err(CoreError::new(ErrorKind::Internal, "disk on fire"));
        }
        if t == BROKEN_T + 1 {
            return Err(CoreError::new(ErrorKind::Unavailable, "head is full"));
        }
        let key = if l.is_empty() {
            let ids = self.store.ids.lock().unwrap();
            match ids.get(r as usize - 1) {
                Some(k) => k.clone(),
                None => return Err(CoreError::new(ErrorKind::NotFound, "no such series")),
            }
        } else {
            l.to_string()
        };
        let last = self
            .pending
            .get(&key)
            .and_then(|s| s.last().copied())
            .or_else(|| {
                let rows = self.store.rows.lock().unwrap();
                rows.get(&key).and_then(|s| s.last().copied())
            });
        if let Some((lt, lv)) = last {
            if t < lt {
                return Err(CoreError::new(ErrorKind::OutOfOrder, "out of order sample"));
            }
            if t == lt && lv.to_bits() != v.to_bits() {
                return Err(CoreError::new(
                    ErrorKind::DuplicateSample,
                    "duplicate sample for timestamp",
                ));
            }
        }
        self.pending.entry(key.clone()).or_default().push((t, v));
        let mut ids = self.store.ids.lock().unwrap();
        let id = match ids.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                ids.push(key);
                ids.len() - 1
            }
        };
        Ok(id as u64 + 1)
    }

    fn append_exemplar(
        &mut self,
        _: SeriesRef,
        l: &Labels,
        e: &CoreExemplar,
    ) -> sightline_core::Result<()> {
        self.exemplars.push((l.to_string(), e.clone()));
        Ok(())
    }

    fn commit(self: Box<Self>) -> sightline_core::Result<AppendStats> {
        let mut rows = self.store.rows.lock().unwrap();
        for (k, v) in self.pending {
            rows.entry(k).or_default().extend(v);
        }
        self.store.exemplars.lock().unwrap().extend(self.exemplars);
        Ok(AppendStats::default())
    }

    fn rollback(self: Box<Self>) {}
}

fn s(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
    }
}

const SEC: u64 = 1_000_000_000;

fn num(t_s: u64, start_s: u64, v: f64, attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        start_time_unix_nano: start_s * SEC,
        time_unix_nano: t_s * SEC,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    }
}

fn metric(name: &str, unit: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(data),
        ..Default::default()
    }
}

fn sum(points: Vec<NumberDataPoint>, monotonic: bool, temporality: i32) -> Data {
    Data::Sum(Sum {
        data_points: points,
        aggregation_temporality: temporality,
        is_monotonic: monotonic,
    })
}

fn request(resource: Vec<KeyValue>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "my.lib".into(),
                    version: "1.2".into(),
                    ..Default::default()
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn svc() -> Vec<KeyValue> {
    vec![
        s("service.name", "api"),
        s("service.namespace", "shop"),
        s("service.instance.id", "i-1"),
        s("host.name", "box"),
    ]
}

fn rows(s: &Store) -> Rows {
    s.rows.lock().unwrap().clone()
}

const CUMULATIVE: i32 = 2;
const DELTA: i32 = 1;

#[test]
fn gauges_and_sums_with_resource_labels_and_target_info() {
    let store = Store::default();
    let r = Receiver::new(OtlpConfig::default(), DEFAULT_LOOKBACK);
    let req = request(
        svc(),
        vec![
            metric(
                "queue.depth",
                "{items}",
                Data::Gauge(Gauge {
                    data_points: vec![num(10, 0, 3.0, vec![s("queue", "a")])],
                }),
            ),
            metric(
                "http.requests",
                "1",
                sum(
                    vec![num(10, 5, 7.0, vec![s("http.method", "GET")])],
                    true,
                    CUMULATIVE,
                ),
            ),
            metric(
                "active",
                "",
                sum(vec![num(10, 5, -2.0, vec![])], false, CUMULATIVE),
            ),
        ],
    );
    let out = r.write(&req, &store);
    assert_eq!(out.http_status(), 200);
    assert_eq!(
        (out.points, out.rejected_points),
        (3, 0),
        "{:?}",
        out.messages
    );
    let base = "instance=\"i-1\", job=\"shop/api\"";
    let mut want = Rows::new();
    want.insert(
        format!("queue_depth{{{base}, queue=\"a\"}}"),
        vec![(10_000, 3.0)],
    );
    want.insert(
        format!("http_requests_total{{http_method=\"GET\", {base}}}"),
        vec![(10_000, 7.0)],
    );
    want.insert(format!("active{{{base}}}"), vec![(10_000, -2.0)]);
    want.insert(
        format!("target_info{{host_name=\"box\", {base}}}"),
        vec![(10_000, 1.0)],
    );
    assert_eq!(rows(&store), want);
}

#[test]
fn target_info_repeats_every_half_lookback_and_keeps_identifying_when_asked() {
    let store = Store::default();
    let cfg = OtlpConfig {
        keep_identifying_resource_attributes: true,
        promote_resource_attributes: vec!["host.name".into()],
        promote_scope_metadata: true,
        ..OtlpConfig::default()
    };
    let r = Receiver::new(cfg, DEFAULT_LOOKBACK);
    let g = metric(
        "g",
        "",
        Data::Gauge(Gauge {
            data_points: vec![num(0, 0, 1.0, vec![]), num(400, 0, 2.0, vec![])],
        }),
    );
    r.write(&request(svc(), vec![g]), &store);
    let rows = rows(&store);
    let info = "target_info{host_name=\"box\", instance=\"i-1\", job=\"shop/api\", service_instance_id=\"i-1\", service_name=\"api\", service_namespace=\"shop\"}";
    // 0 s to 400 s every 150 s, then the last point's time.
    assert_eq!(
        rows[info],
        vec![(0, 1.0), (150_000, 1.0), (300_000, 1.0), (400_000, 1.0)]
    );
    let g = "g{host_name=\"box\", instance=\"i-1\", job=\"shop/api\", otel_scope_name=\"my.lib\", otel_scope_version=\"1.2\"}";
    assert_eq!(rows[g], vec![(0, 1.0), (400_000, 2.0)]);
}

/// issue 12: delta sums become cumulative counters across requests.
#[test]
fn delta_sums_become_running_totals() {
    let store = Store::default();
    let r = Receiver::new(OtlpConfig::default(), DEFAULT_LOOKBACK);
    let req = |points| {
        request(
            vec![s("service.name", "api")],
            vec![metric("jobs", "", sum(points, true, DELTA))],
        )
    };
    let out = r.write(
        &req(vec![num(10, 0, 5.0, vec![]), num(20, 10, 3.0, vec![])]),
        &store,
    );
    assert_eq!(out.rejected_points, 0);
    // A duplicate of the second point is refused, the next one adds.
    let out = r.write(
        &req(vec![num(20, 10, 3.0, vec![]), num(30, 20, 4.0, vec![])]),
        &store,
    );
    assert_eq!(out.http_status(), 200);
    assert_eq!((out.points, out.rejected_points), (2, 1));
    assert!(
        out.error_message()
            .contains("delta point not after the previous point"),
        "{}",
        out.error_message()
    );
    assert_eq!(
        rows(&store)["jobs_total{job=\"api\"}"],
        vec![(10_000, 5.0), (20_000, 8.0), (30_000, 12.0)]
    );
    assert_eq!(r.delta_streams(), 1);
}

#[test]
fn histograms_become_classic_series_with_exemplars_on_buckets() {
    let store = Store::default();
    let r = Receiver::new(OtlpConfig::default(), DEFAULT_LOOKBACK);
    let p = HistogramDataPoint {
        attributes: vec![s("route", "/")],
        time_unix_nano: 10 * SEC,
        count: 6,
        sum: Some(4.5),
        bucket_counts: vec![1, 2, 3],
        explicit_bounds: vec![0.25, 1.0],
        exemplars: vec![Exemplar {
            value: Some(exemplar::Value::AsDouble(0.5)),
            time_unix_nano: 9 * SEC,
            trace_id: vec![0xab; 16],
            span_id: vec![0x01; 8],
            filtered_attributes: vec![s("user", "u1")],
        }],
        ..Default::default()
    };
    let h = metric(
        "http.server.duration",
        "s",
        Data::Histogram(Histogram {
            data_points: vec![p.clone()],
            aggregation_temporality: CUMULATIVE,
        }),
    );
    let delta = metric(
        "rpc.duration",
        "ms",
        Data::Histogram(Histogram {
            data_points: vec![
                HistogramDataPoint {
                    exemplars: vec![],
                    ..p.clone()
                },
                HistogramDataPoint {
                    time_unix_nano: 20 * SEC,
                    start_time_unix_nano: 10 * SEC,
                    count: 1,
                    sum: Some(0.1),
                    bucket_counts: vec![1, 0, 0],
                    exemplars: vec![],
                    ..p
                },
            ],
            aggregation_temporality: DELTA,
        }),
    );
    let out = r.write(&request(vec![], vec![h, delta]), &store);
    assert_eq!(
        (out.points, out.rejected_points),
        (3, 0),
        "{:?}",
        out.messages
    );
    let rows = rows(&store);
    let n = "http_server_duration_seconds";
    assert_eq!(
        rows[&format!("{n}_bucket{{le=\"0.25\", route=\"/\"}}")],
        vec![(10_000, 1.0)]
    );
    assert_eq!(
        rows[&format!("{n}_bucket{{le=\"1\", route=\"/\"}}")],
        vec![(10_000, 3.0)]
    );
    assert_eq!(
        rows[&format!("{n}_bucket{{le=\"+Inf\", route=\"/\"}}")],
        vec![(10_000, 6.0)]
    );
    assert_eq!(
        rows[&format!("{n}_sum{{route=\"/\"}}")],
        vec![(10_000, 4.5)]
    );
    assert_eq!(
        rows[&format!("{n}_count{{route=\"/\"}}")],
        vec![(10_000, 6.0)]
    );
    // Delta: 6 then 6+1 observations; bucket 0.25 holds 1 then 2.
    let d = "rpc_duration_milliseconds";
    assert_eq!(
        rows[&format!("{d}_count{{route=\"/\"}}")],
        vec![(10_000, 6.0), (20_000, 7.0)]
    );
    assert_eq!(
        rows[&format!("{d}_bucket{{le=\"0.25\", route=\"/\"}}")],
        vec![(10_000, 1.0), (20_000, 2.0)]
    );
    assert_eq!(
        rows[&format!("{d}_sum{{route=\"/\"}}")],
        vec![(10_000, 4.5), (20_000, 4.6)]
    );
    // No resource attributes, no job: no target_info.
    assert!(!rows.keys().any(|k| k.starts_with("target_info")));
    // The exemplar (0.5) goes to the first bucket >= 0.5: le="1".
    let ex = store.exemplars.lock().unwrap().clone();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].0, format!("{n}_bucket{{le=\"1\", route=\"/\"}}"));
    assert_eq!(
        ex[0].1.labels.get("trace_id"),
        Some("abababababababababababababababab")
    );
    assert_eq!(ex[0].1.labels.get("span_id"), Some("0101010101010101"));
    assert_eq!(ex[0].1.labels.get("user"), Some("u1"));
    assert_eq!((ex[0].1.value, ex[0].1.timestamp), (0.5, Some(9_000)));
}

#[test]
fn summaries_and_stale_points() {
    let store = Store::default();
    let r = Receiver::new(OtlpConfig::default(), DEFAULT_LOOKBACK);
    let p = SummaryDataPoint {
        time_unix_nano: 10 * SEC,
        count: 4,
        sum: 2.0,
        quantile_values: vec![
            ValueAtQuantile {
                quantile: 0.5,
                value: 0.4,
            },
            ValueAtQuantile {
                quantile: 0.99,
                value: 0.9,
            },
        ],
        ..Default::default()
    };
    let stale = SummaryDataPoint {
        time_unix_nano: 20 * SEC,
        flags: 1,
        ..p.clone()
    };
    let m = metric(
        "rpc.latency",
        "s",
        Data::Summary(Summary {
            data_points: vec![p, stale],
        }),
    );
    let g = metric(
        "temp",
        "Cel",
        Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                flags: 1,
                ..num(20, 0, 5.0, vec![])
            }],
        }),
    );
    r.write(&request(vec![], vec![m, g]), &store);
    let rows = rows(&store);
    assert_eq!(
        rows["rpc_latency_seconds{quantile=\"0.5\"}"][0],
        (10_000, 0.4)
    );
    assert_eq!(
        rows["rpc_latency_seconds{quantile=\"0.99\"}"][0],
        (10_000, 0.9)
    );
    assert_eq!(rows["rpc_latency_seconds_sum"][0], (10_000, 2.0));
    assert_eq!(rows["rpc_latency_seconds_count"][0], (10_000, 4.0));
    assert!(sightline_core::is_stale_nan(
        rows["rpc_latency_seconds_count"][1].1
    ));
    assert!(sightline_core::is_stale_nan(rows["temp_celsius"][0].1));
}

#[test]
fn bad_metrics_are_partial_failures() {
    let store = Store::default();
    let r = Receiver::new(OtlpConfig::default(), DEFAULT_LOOKBACK);
    let req = request(
        vec![],
        vec![
            metric(
                "no.temporality",
                "",
                sum(vec![num(10, 0, 1.0, vec![])], true, 0),
            ),
            metric(
                "...",
                "",
                Data::Gauge(Gauge {
                    data_points: vec![num(10, 0, 1.0, vec![])],
                }),
            ),
            metric(
                "ok",
                "",
                Data::Gauge(Gauge {
                    data_points: vec![num(10, 0, 1.0, vec![]), num(5, 0, 1.0, vec![])],
                }),
            ),
        ],
    );
    let out = r.write(&req, &store);
    assert_eq!(out.http_status(), 200);
    assert_eq!((out.points, out.rejected_points), (4, 3));
    let msg = out.error_message();
    assert!(
        msg.contains("invalid temporality and type combination for metric \"no.temporality\""),
        "{msg}"
    );
    assert!(
        msg.contains("metric name \"...\" translates to an empty or invalid name"),
        "{msg}"
    );
    assert!(
        msg.contains("out of order sample for series ok at 5000"),
        "{msg}"
    );
    assert_eq!(rows(&store).len(), 1, "only ok{{}} at 10 s is stored");
}

#[test]
fn store_failures_roll_back_the_request() {
    for (t, status) in [(BROKEN_T, 500), (BROKEN_T + 1, 503)] {
        let store = Store::default();
        let r = Receiver::new(OtlpConfig::default(), DEFAULT_LOOKBACK);
        let mut p = num(0, 0, 1.0, vec![]);
        p.time_unix_nano = t as u64 * 1_000_000;
        let req = request(
            vec![],
            vec![metric(
                "g",
                "",
                Data::Gauge(Gauge {
                    data_points: vec![num(1, 0, 1.0, vec![]), p],
                }),
            )],
        );
        let out = r.write(&req, &store);
        assert_eq!(out.http_status(), status);
        assert_eq!(out.samples_appended, 0);
        assert!(rows(&store).is_empty());
    }
}

#[test]
fn exponential_histograms_are_stored_as_native_histograms() {
    use super::proto::metrics::v1::exponential_histogram_data_point::Buckets;
    use sightline_core::histogram::Span as CoreSpan;
    use sightline_core::MetricQuerier;
    let store = sightline_core::MemStore::new();
    let r = Receiver::new(OtlpConfig::default(), DEFAULT_LOOKBACK);
    // Scale 0 (base 2). OTLP bucket i covers (2^i, 2^(i+1)], Prometheus
    // bucket i covers (2^(i-1), 2^i]: OTLP offset 0 with counts [1, 2] is
    // Prometheus buckets 1 and 2, (1,2] and (2,4] (worked out by hand).
    let m = metric(
        "lat",
        "s",
        Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                time_unix_nano: SEC,
                count: 3,
                sum: Some(7.0),
                scale: 0,
                positive: Some(Buckets {
                    offset: 0,
                    bucket_counts: vec![1, 2],
                }),
                ..Default::default()
            }],
            aggregation_temporality: CUMULATIVE,
        }),
    );
    let out = r.write(&request(vec![], vec![m]), &store);
    assert_eq!(
        (out.points, out.rejected_points),
        (1, 0),
        "{}",
        out.error_message()
    );
    let series = store
        .select(
            &sightline_core::QueryContext::new(),
            i64::MIN,
            i64::MAX,
            &[],
        )
        .expect("select")
        .into_vec()
        .expect("select");
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].labels.metric_name(), Some("lat_seconds"));
    let hs: Vec<_> = series
        .into_iter()
        .next()
        .unwrap()
        .histograms
        .expect("histograms")
        .collect();
    assert_eq!(hs.len(), 1);
    let h = &hs[0].h;
    assert_eq!(hs[0].t, 1000);
    assert_eq!((h.schema, h.count, h.sum), (0, 3.0, 7.0));
    assert_eq!(
        h.positive_spans,
        vec![CoreSpan {
            offset: 1,
            length: 2
        }]
    );
    assert_eq!(h.positive_buckets, vec![1.0, 2.0]);
}

const DEFAULT_LOOKBACK: i64 = receiver::DEFAULT_LOOKBACK_MS;

mod wire_cache;
