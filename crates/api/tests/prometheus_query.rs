//! The query endpoints through `Router::oneshot`, no socket: JSON shapes,
//! GET and form-encoded POST, the query limits (`--query.max-samples`,
//! `--query.max-concurrency`, `timeout`), and the requests Grafana's
//! Prometheus data source sends, with the parameter shapes it uses.
//!
//! Expected JSON is written from Prometheus's documented format (and what
//! Prometheus 2.42 answered for the same data by hand); the comparison
//! against a live Prometheus is `crates/server/tests/promql_*.rs`.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::NoRules;
use http_body_util::BodyExt;
use sightline_api::prometheus::QueryEngine;
use sightline_api::{ApiState, HeadStats, StatusSource};
use sightline_core::{Labels, MemStore};
use sightline_promql::EngineOptions;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

struct FixedStatus;
impl StatusSource for FixedStatus {
    fn config_yaml(&self) -> String {
        "global:\n  scrape_interval: 15s\n".into()
    }
    fn flags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([("query.max-concurrency".into(), "20".into())])
    }
    fn runtime_info(&self) -> serde_json::Value {
        serde_json::json!({"storageRetention": "15d"})
    }
    fn head_stats(&self) -> HeadStats {
        HeadStats {
            num_series: 3,
            chunk_count: 3,
            min_time: 0,
            max_time: 600_000,
        }
    }
}

/// Three series of `up` and one counter, sampled every 15 s for 10 minutes.
fn store() -> Arc<MemStore> {
    let s = MemStore::new();
    for (job, inst) in [("api", "a"), ("api", "b"), ("db", "c")] {
        for i in 0..=40 {
            s.add(
                Labels::from_pairs([("__name__", "up"), ("job", job), ("instance", inst)]),
                i * 15_000,
                1.0,
            );
        }
    }
    for i in 0..=40 {
        s.add(
            Labels::from_pairs([("__name__", "req_total"), ("job", "api")]),
            i * 15_000,
            (i * 10) as f64,
        );
    }
    Arc::new(s)
}

fn state(engine: QueryEngine) -> ApiState {
    common::api_state(store(), Arc::new(NoRules), Arc::new(FixedStatus), engine)
}

async fn call(app: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post_form(uri: &str, form: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap()
}

fn app() -> axum::Router {
    sightline_api::router(state(QueryEngine::default()))
}

#[tokio::test]
async fn instant_query_answers_prometheus_json() {
    let (status, body) = call(
        &app(),
        get("/api/v1/query?query=up%7Bjob%3D%22db%22%7D&time=300.5"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"c","job":"db"},"value":[300.500,"1"]}]}}"#
    );
    // Grafana's "Save & test": POST query=1+1 with a time.
    let (status, body) = call(&app(), post_form("/api/v1/query", "query=1%2B1&time=600")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"scalar","result":[600,"2"]}}"#
    );
}

#[tokio::test]
async fn range_query_by_form_post_as_grafana_sends_it() {
    // Grafana: POST, whole seconds, step in seconds.
    let (status, body) = call(
        &app(),
        post_form(
            "/api/v1/query_range",
            "query=sum+by+(job)+(rate(req_total%5B1m%5D))&start=120&end=240&step=60",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // 10 per 15 s is 2/3 per second, whatever the extrapolation.
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["resultType"], "matrix");
    let series = v["data"]["result"].as_array().unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0]["metric"], serde_json::json!({"job": "api"}));
    let values = series[0]["values"].as_array().unwrap();
    assert_eq!(values.len(), 3);
    for (i, p) in values.iter().enumerate() {
        assert_eq!(p[0], serde_json::json!(120 + 60 * i as i64));
        let x: f64 = p[1].as_str().unwrap().parse().unwrap();
        assert!((x - 2.0 / 3.0).abs() < 1e-9, "{body}");
    }
}

#[tokio::test]
async fn bad_parameters_are_bad_data_with_prometheus_messages() {
    let cases = [
        (
            "/api/v1/query_range?query=up&start=10&end=5&step=1",
            r#"invalid parameter \"end\": end timestamp must not be before start time"#,
        ),
        (
            "/api/v1/query_range?query=up&start=0&end=100000&step=1",
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ),
        (
            "/api/v1/query_range?query=up&start=0&end=10&step=0",
            r#"invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer"#,
        ),
        (
            "/api/v1/query?query=up&time=soon",
            r#"invalid parameter \"time\": Invalid time value for 'time': cannot parse \"soon\" to a valid timestamp"#,
        ),
        ("/api/v1/series", "no match[] parameter provided"),
    ];
    for (uri, msg) in cases {
        let (status, body) = call(&app(), get(uri)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(
            body,
            format!(r#"{{"status":"error","errorType":"bad_data","error":"{msg}"}}"#),
            "{uri}"
        );
    }
    let (status, body) = call(&app(), get("/api/v1/query?query=sum(up")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains(r#""error":"invalid parameter \"query\": 1:"#),
        "{body}"
    );
}

#[tokio::test]
async fn execution_errors_are_422() {
    let (status, body) = call(&app(), get("/api/v1/query?query=up+*+on(job)+up&time=300")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains(r#""errorType":"execution""#), "{body}");
}

#[tokio::test]
async fn max_samples_refuses_with_prometheus_text() {
    let app = sightline_api::router(state(QueryEngine::new(
        EngineOptions {
            max_samples: 10,
            ..EngineOptions::default()
        },
        20,
    )));
    let (status, body) = call(&app, get("/api/v1/query?query=up%5B10m%5D&time=600")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body,
        r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}"#
    );
    // The same query under the default limit succeeds.
    let (status, _) = call(
        &self::app(),
        get("/api/v1/query?query=up%5B10m%5D&time=600"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// A store whose `select` blocks until the test opens the gate, so a query
/// can be made to hold its concurrency slot for as long as the test needs,
/// without depending on how fast the machine is.
struct GatedStore {
    inner: MemStore,
    entered: std::sync::atomic::AtomicBool,
    open: std::sync::Mutex<bool>,
    cv: std::sync::Condvar,
}

impl sightline_core::MetricQuerier for GatedStore {
    fn select(
        &self,
        ctx: &sightline_core::QueryContext,
        mint: i64,
        maxt: i64,
        m: &[sightline_core::Matcher],
    ) -> sightline_core::Result<sightline_core::SeriesSet> {
        self.entered
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cv.wait(open).unwrap();
        }
        drop(open);
        self.inner.select(ctx, mint, maxt, m)
    }
    fn label_names(
        &self,
        ctx: &sightline_core::QueryContext,
        a: i64,
        b: i64,
        m: &[sightline_core::Matcher],
    ) -> sightline_core::Result<Vec<String>> {
        self.inner.label_names(ctx, a, b, m)
    }
    fn label_values(
        &self,
        ctx: &sightline_core::QueryContext,
        n: &str,
        a: i64,
        b: i64,
        m: &[sightline_core::Matcher],
    ) -> sightline_core::Result<Vec<String>> {
        self.inner.label_values(ctx, n, a, b, m)
    }
}

#[tokio::test]
async fn queries_wait_for_a_slot_and_time_out_in_the_queue() {
    // One slot, held by a query blocked inside the store: a second query
    // with a short timeout must give up in the queue.
    let store = Arc::new(GatedStore {
        inner: MemStore::new(),
        entered: AtomicBool::new(false),
        open: std::sync::Mutex::new(false),
        cv: std::sync::Condvar::new(),
    });
    store
        .inner
        .add(Labels::from_pairs([("__name__", "x")]), 0, 1.0);
    let mut st = state(QueryEngine::new(EngineOptions::default(), 1));
    st.querier = store.clone();
    let app = sightline_api::router(st);
    let slow = {
        let app = app.clone();
        tokio::spawn(async move { call(&app, get("/api/v1/query?query=x&time=10")).await })
    };
    // The first query holds the slot once it is inside the store.
    while !store.entered.load(std::sync::atomic::Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (status, body) = call(&app, get("/api/v1/query?query=1&timeout=0.2")).await;
    *store.open.lock().unwrap() = true;
    store.cv.notify_all();
    let (slow_status, _) = slow.await.unwrap();
    assert_eq!(slow_status, StatusCode::OK);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body,
        r#"{"status":"error","errorType":"timeout","error":"query timed out in query queue"}"#
    );
}

#[tokio::test]
async fn grafana_metadata_requests() {
    let app = app();
    let ok = |body: &str| -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["status"], "success", "{body}");
        v["data"].clone()
    };
    // Metric browser: names, then labels and values for one metric.
    let (_, b) = call(&app, get("/api/v1/label/__name__/values?start=0&end=600")).await;
    assert_eq!(ok(&b), serde_json::json!(["req_total", "up"]));
    let (_, b) = call(
        &app,
        post_form("/api/v1/labels", "match%5B%5D=up&start=0&end=600"),
    )
    .await;
    assert_eq!(ok(&b), serde_json::json!(["__name__", "instance", "job"]));
    let (_, b) = call(
        &app,
        get("/api/v1/label/instance/values?match%5B%5D=up%7Bjob%3D%22api%22%7D&start=0&end=600"),
    )
    .await;
    assert_eq!(ok(&b), serde_json::json!(["a", "b"]));
    let (_, b) = call(&app, get("/api/v1/label/job/values?limit=1")).await;
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["data"], serde_json::json!(["api"]));
    assert_eq!(
        v["warnings"],
        serde_json::json!(["results truncated due to limit"])
    );
    let (_, b) = call(
        &app,
        post_form(
            "/api/v1/series",
            "match%5B%5D=up%7Binstance%3D%22c%22%7D&start=0&end=600",
        ),
    )
    .await;
    assert_eq!(
        ok(&b),
        serde_json::json!([{"__name__": "up", "instance": "c", "job": "db"}])
    );
    let (_, b) = call(&app, get("/api/v1/metadata")).await;
    assert_eq!(ok(&b), serde_json::json!({}));
    let (_, b) = call(
        &app,
        post_form(
            "/api/v1/query_exemplars",
            "query=rate(req_total%5B5m%5D)&start=0&end=600",
        ),
    )
    .await;
    assert_eq!(ok(&b), serde_json::json!([]));
    let (_, b) = call(&app, get("/api/v1/status/buildinfo")).await;
    assert!(ok(&b)["version"].as_str().unwrap().starts_with("2."));
    let (_, b) = call(
        &app,
        get("/api/v1/format_query?query=sum(rate(x%5B5m%5D))by(a)"),
    )
    .await;
    assert_eq!(ok(&b), serde_json::json!("sum by (a) (rate(x[5m]))"));
    let (_, b) = call(&app, get("/api/v1/status/tsdb")).await;
    assert_eq!(
        ok(&b)["seriesCountByMetricName"][0],
        serde_json::json!({"name": "up", "value": 3})
    );
    let (_, b) = call(&app, get("/api/v1/status/config")).await;
    assert_eq!(ok(&b)["yaml"], "global:\n  scrape_interval: 15s\n");
}

#[tokio::test]
async fn remote_write_2_answers_how_many_histograms_it_wrote() {
    // issue 12: the 2.0 answer's X-Prometheus-Remote-Write-Histograms-Written
    // said 0 although the histograms were stored.
    use sightline_proto::prometheus::{histogram::Count, BucketSpan, Histogram};
    use sightline_proto::write_v2;
    use sightline_proto::Message;
    let hist = |t: i64| Histogram {
        count: Some(Count::CountInt(3)),
        sum: 1.5,
        schema: 0,
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: 2,
        }],
        // Deltas: bucket counts 1 and 2.
        positive_deltas: vec![1, 1],
        timestamp: t,
        ..Default::default()
    };
    let req = write_v2::Request {
        symbols: vec!["".into(), "__name__".into(), "h".into(), "up".into()],
        timeseries: vec![
            write_v2::TimeSeries {
                labels_refs: vec![1, 2],
                histograms: vec![hist(700_000), hist(715_000)],
                ..Default::default()
            },
            write_v2::TimeSeries {
                labels_refs: vec![1, 3],
                samples: vec![write_v2::Sample {
                    value: 1.0,
                    timestamp: 700_000,
                }],
                ..Default::default()
            },
        ],
    };
    let body = snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap();
    let resp = app()
        .oneshot(
            Request::post("/api/v1/write")
                .header(
                    header::CONTENT_TYPE,
                    "application/x-protobuf;proto=io.prometheus.write.v2.Request",
                )
                .header(header::CONTENT_ENCODING, "snappy")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let h = |name: &str| resp.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(h("X-Prometheus-Remote-Write-Samples-Written"), "1");
    assert_eq!(h("X-Prometheus-Remote-Write-Histograms-Written"), "2");
    assert_eq!(h("X-Prometheus-Remote-Write-Exemplars-Written"), "0");
}
