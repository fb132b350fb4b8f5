//! How fast TraceQL evaluates traces already in memory: the per-trace
//! cost a search over a trace store adds to reading. Builds `TRACES`
//! synthetic traces of 10 spans (3 services, 10 attributes each, nested
//! depth 4, one error in 20 traces) and runs each query over all of them,
//! printing spans per second of CPU time (`QUERY=` runs one of them only).

use sightline_core::traces::{AnyValue, Resource, Span, SpanId, SpanKind, StatusCode, TraceId};
use sightline_traceql::{SearchQuery, TraceView};
use std::sync::Arc;
use std::time::Instant;

fn build(traces: usize) -> Vec<Vec<Span>> {
    let services: Vec<Arc<Resource>> = ["frontend", "checkout", "payment"]
        .iter()
        .map(|s| {
            Arc::new(Resource {
                attributes: vec![
                    ("service.name".into(), AnyValue::Str(s.to_string())),
                    (
                        "deployment.environment".into(),
                        AnyValue::Str("prod".into()),
                    ),
                ],
                dropped_attributes_count: 0,
            })
        })
        .collect();
    let routes = ["/", "/cart", "/checkout", "/pay", "/items/{id}"];
    (0..traces)
        .map(|t| {
            let tid = TraceId::from_halves(7, t as u64);
            (0..10u64)
                .map(|i| {
                    // Parents: 0 <- 1 <- 2 <- 3, and 4..9 under 1 or 2.
                    let parent = match i {
                        0 => None,
                        1..=3 => Some(i - 1),
                        _ => Some(1 + i % 2),
                    };
                    let start = (t as i64) * 1_000_000 + i as i64 * 10_000;
                    Span {
                        trace_id: tid,
                        span_id: SpanId::from_u64(t as u64 * 16 + i + 1),
                        parent_span_id: parent.map(|p| SpanId::from_u64(t as u64 * 16 + p + 1)),
                        name: format!("op-{}", i % 4),
                        kind: if i % 2 == 0 {
                            SpanKind::Server
                        } else {
                            SpanKind::Client
                        },
                        start_ns: start,
                        end_ns: start + 1_000 * (1 + ((t as i64 * 7 + i as i64 * 13) % 500)),
                        attributes: vec![
                            (
                                "http.method".into(),
                                AnyValue::Str(if i % 3 == 0 { "POST" } else { "GET" }.into()),
                            ),
                            (
                                "http.route".into(),
                                AnyValue::Str(routes[(t + i as usize) % 5].into()),
                            ),
                            (
                                "http.status_code".into(),
                                AnyValue::Int(if t % 20 == 0 && i == 3 { 500 } else { 200 }),
                            ),
                            ("net.peer.port".into(), AnyValue::Int(8000 + i as i64)),
                            ("user.id".into(), AnyValue::Str(format!("u{}", t % 1000))),
                            ("thread.id".into(), AnyValue::Int(i as i64)),
                            ("retry".into(), AnyValue::Bool(false)),
                            ("db.system".into(), AnyValue::Str("postgres".into())),
                            ("size".into(), AnyValue::Float(1.5)),
                            ("region".into(), AnyValue::Str("eu-west-1".into())),
                        ],
                        status_code: if t % 20 == 0 && i == 3 {
                            StatusCode::Error
                        } else {
                            StatusCode::Unset
                        },
                        resource: services[(i % 3) as usize].clone(),
                        ..Default::default()
                    }
                })
                .collect()
        })
        .collect()
}

/// This thread's time on a CPU (Linux's schedstat), so that other work on
/// a shared machine does not count; `None` elsewhere (wall time is used).
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn main() {
    let traces: usize = std::env::var("TRACES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let data = build(traces);
    let spans = traces * 10;
    println!("{traces} traces, {spans} spans in memory");
    let only = std::env::var("QUERY").ok();
    for q in [
        "{}",
        r#"{ resource.service.name = "payment" && span.http.status_code >= 500 }"#,
        r#"{ span.http.route =~ "/items/.*" && duration > 200us }"#,
        "{ status = error }",
        r#"{ resource.service.name = "frontend" } >> { status = error }"#,
        "{ kind = server } > { kind = client } | count() > 3",
        "{ } | by(resource.service.name) | avg(duration) > 100us",
    ] {
        if only.as_deref().is_some_and(|o| o != q) {
            continue;
        }
        let sq = SearchQuery::parse(q).unwrap();
        // Five rounds, CPU time averaged: the machine is shared, and the
        // CPU clock is read at scheduler ticks (a few ms apart).
        let rounds: u32 = std::env::var("ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5);
        let (t0, c0) = (Instant::now(), cpu_ns());
        let mut matched = 0usize;
        for _ in 0..rounds {
            matched = 0;
            for spans in &data {
                let view = TraceView::new(spans);
                if !sq.eval(&view).is_empty() {
                    matched += 1;
                }
            }
        }
        let secs = match (c0, cpu_ns()) {
            (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
            _ => t0.elapsed().as_secs_f64(),
        } / f64::from(rounds);
        println!(
            "{:>12.0} spans/s  {:>8.1} ms  {matched:>7} traces matched  {q}",
            spans as f64 / secs,
            secs * 1e3
        );
    }
}
