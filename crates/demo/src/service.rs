//! The four services: one axum router each, every route going through
//! [`handle`], which applies the fault in force, traces, logs, calls
//! downstream with W3C trace context and records the HTTP metrics.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;

use crate::model::{self, Route, DB_OPS};
use crate::telemetry::{LogFields, Telemetry};
use crate::{Fault, FaultController, SERVICES};

/// One running service's shared state.
pub(crate) struct Service {
    index: usize,
    tel: Telemetry,
    faults: FaultController,
    client: reqwest::Client,
    downstream: [SocketAddr; 4],
    rng: Mutex<fastrand::Rng>,
    propagator: TraceContextPropagator,
}

impl Service {
    pub(crate) fn new(
        index: usize,
        tel: Telemetry,
        faults: FaultController,
        client: reqwest::Client,
        downstream: [SocketAddr; 4],
        seed: u64,
    ) -> Arc<Self> {
        Arc::new(Service {
            index,
            tel,
            faults,
            client,
            downstream,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            propagator: TraceContextPropagator::new(),
        })
    }

    fn fault(&self) -> Fault {
        self.faults
            .current(self.index, sightline_core::time::now_ms())
    }

    fn rng<T>(&self, f: impl FnOnce(&mut fastrand::Rng) -> T) -> T {
        f(&mut self.rng.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

type Svc = State<Arc<Service>>;

/// The router of service `svc.index`: its routes plus `/metrics` and `/healthz`.
pub(crate) fn router(svc: Arc<Service>) -> Router {
    let r = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz));
    let r = match svc.index {
        0 => r
            .route(
                "/",
                get(|s: Svc, h: HeaderMap| handle(s.0, Route::Index, h)),
            )
            .route(
                "/products",
                get(|s: Svc, h: HeaderMap| handle(s.0, Route::Products, h)),
            )
            .route(
                "/checkout",
                post(|s: Svc, h: HeaderMap| handle(s.0, Route::Checkout, h)),
            ),
        1 => r.route(
            "/orders",
            post(|s: Svc, h: HeaderMap| handle(s.0, Route::Orders, h)),
        ),
        2 => r.route(
            "/charge",
            post(|s: Svc, h: HeaderMap| handle(s.0, Route::Charge, h)),
        ),
        _ => r.route("/query", post(query)),
    };
    r.with_state(svc)
}

async fn metrics(State(svc): Svc) -> Response {
    if svc.fault() == Fault::Down {
        return (StatusCode::SERVICE_UNAVAILABLE, "down\n").into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        svc.tel.metrics().encode(),
    )
        .into_response()
}

async fn healthz(State(svc): Svc) -> Response {
    if svc.fault() == Fault::Down {
        (StatusCode::SERVICE_UNAVAILABLE, "down\n").into_response()
    } else {
        (StatusCode::OK, "ok\n").into_response()
    }
}

/// db `POST /query`: the body names the statement: `{"op":"select_stock"}`.
async fn query(State(svc): Svc, headers: HeaderMap, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct Query {
        op: String,
    }
    let op = serde_json::from_slice::<Query>(&body).ok().map(|q| q.op);
    match DB_OPS
        .iter()
        .find(|(_, name, _)| Some(*name) == op.as_deref())
    {
        Some((route, _, _)) => handle(svc, *route, headers).await,
        None => (
            StatusCode::BAD_REQUEST,
            "body must be {\"op\": \"select_products\" | \"select_stock\" | \"insert_order\"}\n",
        )
            .into_response(),
    }
}

/// Serves one request of `route`: the fault in force decides first (down:
/// 503 with no telemetry, as a dead process leaves none), then the hop's own
/// work and its downstream calls, in a server span that continues the
/// caller's trace.
async fn handle(svc: Arc<Service>, route: Route, headers: HeaderMap) -> Response {
    let start = Instant::now();
    let fault = svc.fault();
    if fault == Fault::Down {
        return (StatusCode::SERVICE_UNAVAILABLE, "service down\n").into_response();
    }
    let parent = svc.propagator.extract(&HeaderExtractor(&headers));
    let tracer = svc.tel.tracer();
    let mut attrs = vec![
        KeyValue::new("http.request.method", route.method()),
        KeyValue::new("http.route", route.path()),
    ];
    if let Some(stmt) = route.db_statement() {
        attrs.push(KeyValue::new("db.system.name", "fakedb"));
        attrs.push(KeyValue::new(
            "db.operation.name",
            route.db_op().unwrap_or_default(),
        ));
        attrs.push(KeyValue::new("db.query.text", stmt));
    }
    let span = tracer
        .span_builder(format!("{} {}", route.method(), route.path()))
        .with_kind(SpanKind::Server)
        .with_attributes(attrs)
        .start_with_context(tracer, &parent);
    let cx = parent.with_span(span);

    let own = svc.rng(|r| model::own(route, &fault, r));
    tokio::time::sleep(Duration::from_micros((own.ms * 1000.0) as u64)).await;
    if own.slow_query {
        cx.span().add_event(
            "slow query",
            vec![KeyValue::new(
                "db.query.text",
                route.db_statement().unwrap_or_default(),
            )],
        );
        cx.span().set_attribute(KeyValue::new("db.slow", true));
    }
    let (status, why) = match own.fail {
        Some(500) if matches!(fault, Fault::Errors { .. }) => (500, "injected error".to_owned()),
        Some(402) => (402, "card declined".to_owned()),
        Some(s) => (s, "payment provider failed".to_owned()),
        None => {
            let mut out = (200, String::new());
            for &call in route.calls() {
                let got = svc.call(&cx, call).await;
                if got != 200 {
                    out = (
                        model::upstream_status(got),
                        format!("{} answered {got}", SERVICES[call.service()]),
                    );
                    break;
                }
            }
            out
        }
    };
    let elapsed = start.elapsed().as_secs_f64();
    svc.tel
        .metrics()
        .observe(route.method(), route.path(), status, elapsed);
    let span_ref = cx.span();
    span_ref.set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(status),
    ));
    if status >= 500 {
        span_ref.set_status(Status::error(why.clone()));
    }
    let duration_ms = (elapsed * 1e4).round() / 10.0;
    let level = if status >= 500 {
        "error"
    } else if own.slow_query || elapsed > 0.5 || status >= 400 {
        "warn"
    } else {
        "info"
    };
    // Every error and warning, one success in five: enough to read, not a flood.
    if level != "info" || svc.rng(|r| r.u32(0..5)) == 0 {
        let msg = match (own.slow_query, why.is_empty()) {
            (true, _) => format!("{} {} {status} slow query", route.method(), route.path()),
            (false, true) => format!("{} {} {status}", route.method(), route.path()),
            (false, false) => format!("{} {} {status}: {why}", route.method(), route.path()),
        };
        let sc = span_ref.span_context().clone();
        svc.tel.log(
            &LogFields {
                ts: sightline_core::time::rfc3339_millis(&sightline_core::time::now()),
                level,
                service: svc.tel.service(),
                msg: &msg,
                route: route.path(),
                status,
                duration_ms,
                trace_id: sc.trace_id().to_string(),
                span_id: sc.span_id().to_string(),
            },
            &sc,
        );
    }
    span_ref.end();
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body_for(route, status),
    )
        .into_response()
}

fn body_for(route: Route, status: u16) -> &'static str {
    match (route, status) {
        (Route::Products, 200) => {
            r#"[{"id":1,"name":"kettle","price":29.9},{"id":2,"name":"teapot","price":19.5}]"#
        }
        (Route::Checkout | Route::Orders, 200) => r#"{"order":"accepted"}"#,
        (Route::Charge, 200) => r#"{"charge":"captured"}"#,
        (_, 200) => r#"{"ok":true}"#,
        (_, 402) => r#"{"error":"card declined"}"#,
        _ => r#"{"error":"internal"}"#,
    }
}

impl Service {
    /// Calls `route` on its service in a client span, passing the trace
    /// context; a connection failure counts as 503.
    async fn call(&self, cx: &Context, route: Route) -> u16 {
        let addr = self.downstream[route.service()];
        let url = format!("http://{addr}{}", route.path());
        let tracer = self.tel.tracer();
        let span = tracer
            .span_builder(format!("{} {}", route.method(), route.path()))
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("http.request.method", route.method()),
                KeyValue::new("url.full", url.clone()),
                KeyValue::new("peer.service", SERVICES[route.service()]),
            ])
            .start_with_context(tracer, cx);
        let ccx = cx.with_span(span);
        let mut headers = HeaderMap::new();
        self.propagator
            .inject_context(&ccx, &mut HeaderInjector(&mut headers));
        let body = match route.db_op() {
            Some(op) => format!(r#"{{"op":"{op}"}}"#),
            None => r#"{"product_id":1,"amount":29.9}"#.to_owned(),
        };
        let sent = self
            .client
            .post(&url)
            .headers(headers)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let status = match sent {
            Ok(r) => r.status().as_u16(),
            Err(_) => 503,
        };
        let s = ccx.span();
        s.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
        if status >= 500 {
            s.set_status(Status::error(format!(
                "{} answered {status}",
                SERVICES[route.service()]
            )));
        }
        s.end();
        status
    }
}
