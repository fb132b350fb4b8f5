//! The history's sampled requests as OTLP spans and JSON log lines.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, SpanKind};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::{Hop, LogLine, Why};
use crate::telemetry::LogFields;
use crate::SERVICES;

/// Spans go out in batches of this much time per service.
const BATCH_MS: i64 = 5 * 60_000;

#[derive(Default)]
pub(crate) struct Collector {
    /// (batch start, service) → spans.
    batches: BTreeMap<(i64, usize), Vec<Span>>,
}

fn kv(key: &str, v: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(v) }),
    }
}

fn s(v: &str) -> Value {
    Value::StringValue(v.to_owned())
}

fn nanos(ms: f64) -> u64 {
    (ms * 1e6) as u64
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Collector {
    /// Adds one request's spans (a server span per service reached, a client
    /// span per call) and a log line per service reached.
    pub(crate) fn add(&mut self, hops: &[Hop], rng: &mut fastrand::Rng, logs: &mut Vec<LogLine>) {
        let trace_id = rng.u128(1..).to_be_bytes().to_vec();
        let mut server_ids: Vec<Vec<u8>> = Vec::with_capacity(hops.len());
        let mut client_ids: Vec<Vec<u8>> = Vec::with_capacity(hops.len());
        for _ in hops {
            server_ids.push(rng.u64(1..).to_be_bytes().to_vec());
            client_ids.push(rng.u64(1..).to_be_bytes().to_vec());
        }
        for (i, h) in hops.iter().enumerate() {
            let route = h.route;
            let name = format!("{} {}", route.method(), route.path());
            let error = |msg: String| Status {
                code: StatusCode::Error as i32,
                message: msg,
            };
            let failed = h.status >= 500;
            if let Some(p) = h.parent {
                // The caller's client span.
                let caller = hops[p].route.service();
                let mut attrs = vec![
                    kv("http.request.method", s(route.method())),
                    kv(
                        "url.full",
                        s(&format!(
                            "http://127.0.0.1:{}{}",
                            crate::DEFAULT_SERVICE_PORTS[route.service()],
                            route.path()
                        )),
                    ),
                    kv("peer.service", s(SERVICES[route.service()])),
                ];
                attrs.push(kv(
                    "http.response.status_code",
                    Value::IntValue(i64::from(h.status)),
                ));
                self.push(
                    caller,
                    h.call_start_ms,
                    Span {
                        trace_id: trace_id.clone(),
                        span_id: client_ids[i].clone(),
                        parent_span_id: server_ids[p].clone(),
                        name: name.clone(),
                        kind: SpanKind::Client as i32,
                        start_time_unix_nano: nanos(h.call_start_ms),
                        end_time_unix_nano: nanos(h.call_start_ms + h.call_ms),
                        attributes: attrs,
                        status: failed.then(|| {
                            error(format!(
                                "{} answered {}",
                                SERVICES[route.service()],
                                h.status
                            ))
                        }),
                        ..Span::default()
                    },
                );
            }
            if h.down {
                continue;
            }
            let start = h.call_start_ms + if h.parent.is_some() { 0.1 } else { 0.0 };
            let mut attrs = vec![
                kv("http.request.method", s(route.method())),
                kv("http.route", s(route.path())),
                kv(
                    "http.response.status_code",
                    Value::IntValue(i64::from(h.status)),
                ),
            ];
            if let Some(stmt) = route.db_statement() {
                attrs.push(kv("db.system.name", s("fakedb")));
                attrs.push(kv(
                    "db.operation.name",
                    s(route.db_op().unwrap_or_default()),
                ));
                attrs.push(kv("db.query.text", s(stmt)));
            }
            let mut events = Vec::new();
            if h.slow_query {
                attrs.push(kv("db.slow", Value::BoolValue(true)));
                events.push(Event {
                    time_unix_nano: nanos(start),
                    name: "slow query".into(),
                    attributes: vec![kv(
                        "db.query.text",
                        s(route.db_statement().unwrap_or_default()),
                    )],
                    dropped_attributes_count: 0,
                });
            }
            self.push(
                route.service(),
                start,
                Span {
                    trace_id: trace_id.clone(),
                    span_id: server_ids[i].clone(),
                    parent_span_id: h.parent.map(|_| client_ids[i].clone()).unwrap_or_default(),
                    name,
                    kind: SpanKind::Server as i32,
                    start_time_unix_nano: nanos(start),
                    end_time_unix_nano: nanos(start + h.server_ms),
                    attributes: attrs,
                    events,
                    status: failed.then(|| error(h.why.to_string())),
                    ..Span::default()
                },
            );
            let level = if failed {
                "error"
            } else if h.slow_query || h.server_ms > 500.0 || h.status >= 400 {
                "warn"
            } else {
                "info"
            };
            let msg = match (h.slow_query, h.why) {
                (true, _) => format!(
                    "{} {} {} slow query",
                    route.method(),
                    route.path(),
                    h.status
                ),
                (false, Why::Ok) => format!("{} {} {}", route.method(), route.path(), h.status),
                (false, why) => format!("{} {} {}: {why}", route.method(), route.path(), h.status),
            };
            let end_ms = (start + h.server_ms) as i64;
            let fields = LogFields {
                ts: sightline_core::time::from_ms(end_ms)
                    .map(|t| sightline_core::time::rfc3339_millis(&t))
                    .unwrap_or_default(),
                level,
                service: SERVICES[route.service()],
                msg: &msg,
                route: route.path(),
                status: h.status,
                duration_ms: (h.server_ms * 10.0).round() / 10.0,
                trace_id: hex(&trace_id),
                span_id: hex(&server_ids[i]),
            };
            logs.push(LogLine {
                service: SERVICES[route.service()],
                ts_ms: end_ms,
                line: serde_json::to_string(&fields).unwrap_or_default(),
            });
        }
    }

    fn push(&mut self, service: usize, start_ms: f64, span: Span) {
        let batch = (start_ms as i64).div_euclid(BATCH_MS) * BATCH_MS;
        self.batches.entry((batch, service)).or_default().push(span);
    }

    pub(crate) fn finish(self) -> Vec<ResourceSpans> {
        self.batches
            .into_iter()
            .map(|((_, svc), spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        kv("service.name", s(SERVICES[svc])),
                        kv("service.namespace", s("sightline-demo")),
                    ],
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "sightline-demo".into(),
                        ..InstrumentationScope::default()
                    }),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect()
    }
}
