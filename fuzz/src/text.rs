//! Text inputs: the exposition formats and the three query languages.

use crate::{selector, utf8};
use sightline_core::logs::{LogAppender, LogEntry, LogStream, MemLogStore};
use sightline_core::traces::{MemTraceStore, TraceAppender};
use sightline_core::{Labels, MemStore, MetricAppender};
use sightline_ingest::exposition::{parse_all, Entry, Format, ParsedSample, Parser};
use std::sync::OnceLock;
use std::time::Duration;

/// Prometheus text 0.0.4.
pub fn exposition_text(data: &[u8]) {
    exposition(data, Format::PrometheusText);
}

/// OpenMetrics 1.0 text.
pub fn exposition_openmetrics(data: &[u8]) {
    exposition(data, Format::OpenMetrics);
}

/// Walks a body as the scrape loop does (labels, exemplars, created
/// timestamps), then checks that the samples written back as text 0.0.4
/// parse to the same samples.
fn exposition(data: &[u8], format: Format) {
    let mut p = Parser::new(data, format);
    p.validate_all_labels(true);
    loop {
        match p.next_entry() {
            Ok(Some(Entry::Sample { .. })) => {
                let _ = p.labels();
                let _ = p.exemplar();
                let _ = p.created_timestamp();
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let Ok(samples) = parse_all(data, format) else {
        return;
    };
    let Some(text) = write_text(&samples) else {
        return;
    };
    let again = parse_all(text.as_bytes(), Format::PrometheusText).unwrap_or_else(|e| {
        panic!("samples written back do not parse: {e}\n{text}");
    });
    assert_eq!(samples.len(), again.len(), "sample count changed:\n{text}");
    for (a, b) in samples.iter().zip(&again) {
        assert_eq!(a.0, b.0, "labels changed:\n{text}");
        assert_eq!(a.1, b.1, "timestamp changed:\n{text}");
        assert!(
            a.2.to_bits() == b.2.to_bits() || (a.2.is_nan() && b.2.is_nan()),
            "value changed: {} -> {}\n{text}",
            a.2,
            b.2
        );
    }
}

fn legacy_name(s: &str, colons: bool) -> bool {
    let mut chars = s.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (colons && c == ':');
    matches!(chars.next(), Some(c) if ok_first(c))
        && chars.all(|c| ok_first(c) || c.is_ascii_digit())
}

/// Samples as text 0.0.4, or `None` when a name needs the quoted UTF-8
/// syntax (the round trip covers the classic syntax only).
fn write_text(samples: &[ParsedSample]) -> Option<String> {
    use std::fmt::Write;
    let mut out = String::new();
    for (labels, ts, v) in samples {
        let name = labels.metric_name()?;
        if !legacy_name(name, true) {
            return None;
        }
        out.push_str(name);
        out.push('{');
        for l in labels.iter().filter(|l| l.name != "__name__") {
            if !legacy_name(&l.name, false) {
                return None;
            }
            let _ = write!(out, "{}=\"", l.name);
            for c in l.value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
            out.push_str("\",");
        }
        out.push_str("} ");
        if v.is_nan() {
            out.push_str("NaN");
        } else if v.is_infinite() {
            out.push_str(if *v > 0.0 { "+Inf" } else { "-Inf" });
        } else {
            let _ = write!(out, "{v:?}");
        }
        if let Some(t) = ts {
            let _ = write!(out, " {t}");
        }
        out.push('\n');
    }
    Some(out)
}

/// The protobuf scrape format: what it decodes to is text 0.0.4, which
/// must then parse.
pub fn exposition_protobuf(data: &[u8]) {
    let Ok(scrape) = sightline_ingest::exposition::protobuf::decode(data) else {
        return;
    };
    if let Err(e) = parse_all(&scrape.text, Format::PrometheusText) {
        panic!(
            "protobuf decoded to text that does not parse: {e}\n{}",
            String::from_utf8_lossy(&scrape.text)
        );
    }
}

const T0_MS: i64 = 1_700_000_000_000;

fn metric_store() -> &'static MemStore {
    static STORE: OnceLock<MemStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = MemStore::new();
        let mut app = store.appender();
        for (job, code) in [("api", "200"), ("api", "500"), ("db", "200")] {
            let l = Labels::from_pairs([
                ("__name__", "http_requests_total"),
                ("job", job),
                ("code", code),
            ]);
            for i in 0..20 {
                let _ = app.append(0, &l, T0_MS + i * 15_000, (i * 3) as f64);
            }
        }
        let _ = app.commit();
        store
    })
}

/// PromQL: our parser entry, the formatter round trip (`/format_query`
/// prints `Display`), then the engine's checks and evaluation on a small
/// store under a deadline (a hang shows as a slow input).
pub fn promql(data: &[u8]) {
    let Some(q) = utf8(data) else {
        return;
    };
    let Ok(expr) = sightline_promql::parse(q) else {
        return;
    };
    let printed = expr.to_string();
    match sightline_promql::parse(&printed) {
        Ok(again) => assert_eq!(printed, again.to_string(), "format is not stable for {q:?}"),
        Err(e) => panic!("{q:?} formats as {printed:?}, which does not parse: {e}"),
    }
    let engine = sightline_promql::Engine::new(sightline_promql::EngineOptions {
        timeout: Some(Duration::from_millis(200)),
        max_samples: 100_000,
        ..Default::default()
    });
    let store = metric_store();
    let _ = engine.instant_query(store, q, T0_MS + 300_000);
    let _ = engine.range_query(store, q, T0_MS, T0_MS + 300_000, 60_000);
}

const T0_NS: i64 = 1_700_000_000_000_000_000;

fn log_store() -> &'static MemLogStore {
    static STORE: OnceLock<MemLogStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = MemLogStore::new();
        let lines = [
            r#"{"level":"error","msg":"boom","latency":0.25,"user":{"id":7}}"#,
            "level=info msg=\"ok fine\" duration=15ms bytes=1.5KB",
            r#"127.0.0.1 - - [10/Oct/2023:13:55:36 +0000] "GET /x HTTP/1.1" 200 512"#,
            "plain text line with trace_id=abc",
        ];
        let entries = lines
            .iter()
            .enumerate()
            .map(|(i, l)| LogEntry {
                ts_ns: T0_NS + i as i64 * 1_000_000_000,
                line: (*l).to_string(),
                metadata: vec![("trace_id".into(), "abc".into())],
            })
            .collect();
        let _ = store.append(
            "fuzz",
            vec![LogStream {
                labels: Labels::from_pairs([("app", "api"), ("env", "prod")]),
                entries,
            }],
        );
        store
    })
}

/// LogQL: parse → format → parse gives the same tree, then the query runs
/// (as a range and, for metric queries, an instant query) on a few lines.
pub fn logql(data: &[u8]) {
    let Some(q) = utf8(data) else {
        return;
    };
    let Ok(expr) = sightline_logql::parse(q) else {
        return;
    };
    let printed = expr.to_string();
    match sightline_logql::parse(&printed) {
        // Trees hold byte offsets, which the formatter's spacing moves:
        // the printed form of the re-parsed query must be the same text.
        Ok(again) => assert_eq!(
            printed,
            again.to_string(),
            "{q:?} formats as {printed:?}, which reads as another query"
        ),
        Err(e) => panic!("{q:?} formats as {printed:?}, which does not parse: {e}"),
    }
    let params = sightline_logql::eval::Params {
        start_ns: T0_NS - 60_000_000_000,
        end_ns: T0_NS + 60_000_000_000,
        step_ns: 15_000_000_000,
        backward: true,
        limit: 100,
    };
    let store = log_store();
    let _ = sightline_logql::eval::evaluate(store, "fuzz", &expr, &params, false);
    let _ = sightline_logql::eval::evaluate(store, "fuzz", &expr, &params, true);
}

fn trace_store() -> &'static MemTraceStore {
    static STORE: OnceLock<MemTraceStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = MemTraceStore::new();
        let body = br#"[{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","name":"get /api","timestamp":1700000000000000,"duration":20000,"kind":"SERVER","localEndpoint":{"serviceName":"frontend"},"tags":{"http.method":"GET","http.status_code":"500","error":"true"}},
{"traceId":"5af7183fb1d4cf5f","parentId":"6b221d5bc9e6496c","id":"352bff9a74ca9ad2","name":"select","timestamp":1700000000005000,"duration":5000,"kind":"CLIENT","localEndpoint":{"serviceName":"db"},"tags":{"db.system":"postgres"}}]"#;
        if let Ok(spans) = sightline_ingest::zipkin::decode(
            body,
            sightline_ingest::zipkin::ZipkinFormat::Json,
            None,
        ) {
            let _ = store.append("fuzz", spans);
        }
        store
    })
}

/// TraceQL: the parser, then a search and a metrics query over two spans.
pub fn traceql(data: &[u8]) {
    let Some(q) = utf8(data) else {
        return;
    };
    if sightline_traceql::parse(q).is_err() {
        return;
    }
    let store = trace_store();
    let (start, end) = (T0_NS - 3_600_000_000_000, T0_NS + 3_600_000_000_000);
    let _ = sightline_traceql::search(store, "fuzz", q, start, end, 20, 3);
}

/// Alertmanager matchers (`amtool`, silences, `inhibit_rules`), both
/// syntaxes.
pub fn am_matchers(data: &[u8]) {
    let (sel, rest) = selector(data);
    let Some(s) = utf8(rest) else {
        return;
    };
    if sel & 1 == 0 {
        let _ = sightline_alertmanager::matcher::parse_matchers(s);
    } else {
        let _ = sightline_alertmanager::matcher::parse_matcher(s);
    }
}
