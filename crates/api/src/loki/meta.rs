//! Loki's metadata endpoints: label names and values, series, index
//! stats and volume, and what Grafana's Logs Drilldown asks for (detected
//! labels and fields, patterns).

use super::{bad, error, parse_duration, range, tenant, LokiState, Params};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use sightline_core::logs::{LogHints, LogQuerier};
use sightline_core::{Labels, Matcher};
use sightline_logql::ast::Expr;
use std::collections::{BTreeMap, BTreeSet};

/// Why a request failed: bad input (400) or our own failure (500).
enum Fail {
    Bad(String),
    Internal(String),
}

impl Fail {
    fn respond(self) -> Response {
        match self {
            Fail::Bad(m) => bad(m),
            Fail::Internal(m) => error(StatusCode::INTERNAL_SERVER_ERROR, m),
        }
    }
}

/// The stream selector of a `query` parameter (its matchers), or none.
fn selector(p: &Params, key: &str) -> Result<Vec<Matcher>, Fail> {
    let Some(q) = p.get(key) else {
        return Ok(Vec::new());
    };
    match sightline_logql::parse(q) {
        Ok(Expr::Log(l)) => Ok(l.matchers),
        Ok(Expr::Metric(m)) => match first_log(&m) {
            Some(l) => Ok(l.matchers.clone()),
            None => Err(Fail::Bad("the query holds no stream selector".into())),
        },
        Err(e) => Err(Fail::Bad(e.to_string())),
    }
}

fn first_log(m: &sightline_logql::ast::MetricExpr) -> Option<&sightline_logql::ast::LogExpr> {
    use sightline_logql::ast::MetricExpr as M;
    match m {
        M::Range { log, .. } => Some(log),
        M::Vector { expr, .. } | M::LabelReplace { expr, .. } => first_log(expr),
        M::Binary { lhs, rhs, .. } => first_log(lhs).or_else(|| first_log(rhs)),
        _ => None,
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> sightline_core::Result<T> + Send + 'static,
) -> Result<T, Fail> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) if e.kind() == sightline_core::ErrorKind::BadData => {
            Err(Fail::Bad(e.to_string()))
        }
        Ok(Err(e)) => Err(Fail::Internal(e.to_string())),
        Err(e) => Err(Fail::Internal(format!("task failed: {e}"))),
    }
}

fn success(data: Value) -> Response {
    axum::Json(json!({"status": "success", "data": data})).into_response()
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(f) => return Fail::respond(f),
        }
    };
}

fn span(p: &Params) -> Result<(i64, i64), Fail> {
    range(p).map_err(Fail::Bad)
}

/// `GET|POST /loki/api/v1/labels`.
pub(super) async fn labels(
    State(s): State<LokiState>,
    RawQuery(raw): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::new(raw.as_deref(), &body);
    let (start, end) = tri!(span(&p));
    let m = tri!(selector(&p, "query"));
    let t = tenant(&h);
    let names = tri!(blocking(move || s.querier.label_names(&t, &m, start, end)).await);
    success(json!(names))
}

/// `GET /loki/api/v1/label/{name}/values`.
pub(super) async fn label_values(
    State(s): State<LokiState>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    h: HeaderMap,
) -> Response {
    let p = Params::new(raw.as_deref(), b"");
    let (start, end) = tri!(span(&p));
    let m = tri!(selector(&p, "query"));
    let t = tenant(&h);
    let values = tri!(blocking(move || s.querier.label_values(&t, &name, &m, start, end)).await);
    success(json!(values))
}

fn labels_json(l: &Labels) -> Value {
    Value::Object(
        l.iter()
            .map(|x| (x.name.to_string(), Value::String(x.value.to_string())))
            .collect::<Map<_, _>>(),
    )
}

/// `GET|POST /loki/api/v1/series?match[]=...`: the label sets of the
/// streams matching any selector.
pub(super) async fn series(
    State(s): State<LokiState>,
    RawQuery(raw): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::new(raw.as_deref(), &body);
    let (start, end) = tri!(span(&p));
    let mut sels = Vec::new();
    for q in p.all("match[]").into_iter().chain(p.all("match")) {
        match sightline_logql::parse(q) {
            Ok(Expr::Log(l)) if l.stages.is_empty() => sels.push(l.matchers),
            Ok(_) => {
                return bad(format!(
                    "{q}: a series selector is a stream selector only, e.g. {{app=\"x\"}}"
                ))
            }
            Err(e) => return bad(e),
        }
    }
    if sels.is_empty() {
        sels.push(Vec::new());
    }
    let t = tenant(&h);
    let all = tri!(
        blocking(move || {
            let mut seen = BTreeSet::new();
            for m in sels {
                for l in s.querier.streams(&t, &m, start, end)? {
                    seen.insert(l);
                }
            }
            Ok(seen)
        })
        .await
    );
    success(Value::Array(all.iter().map(labels_json).collect()))
}

/// `GET|POST /loki/api/v1/index/stats?query=`: counts, unwrapped (no
/// `status`/`data`), as Loki answers.
pub(super) async fn stats(
    State(s): State<LokiState>,
    RawQuery(raw): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::new(raw.as_deref(), &body);
    let (start, end) = tri!(span(&p));
    let m = tri!(selector(&p, "query"));
    if m.is_empty() {
        return bad("query parameter is required");
    }
    let t = tenant(&h);
    let st = tri!(blocking(move || s.querier.stats(&t, &m, start, end)).await);
    axum::Json(json!({"streams": st.streams, "chunks": st.chunks, "entries": st.entries, "bytes": st.bytes})).into_response()
}

/// Bytes per group of streams: grouped by `targetLabels` when given, else
/// by the labels the selector names (`aggregateBy=series`), or each label
/// separately (`aggregateBy=labels`).
struct VolumeAsk {
    start: i64,
    end: i64,
    step: Option<i64>,
    target: Vec<String>,
    by_labels: bool,
}

fn volumes(
    q: &dyn LogQuerier,
    tenant: &str,
    m: &[Matcher],
    ask: &VolumeAsk,
) -> sightline_core::Result<BTreeMap<BTreeMap<String, String>, BTreeMap<i64, u64>>> {
    let VolumeAsk {
        start,
        end,
        step,
        ref target,
        by_labels,
    } = *ask;
    let mut out: BTreeMap<BTreeMap<String, String>, BTreeMap<i64, u64>> = BTreeMap::new();
    let keys: Vec<String> = if target.is_empty() {
        m.iter().map(|x| x.name.clone()).collect()
    } else {
        target.to_vec()
    };
    for s in q.select(tenant, m, start, end, &LogHints::default())? {
        let groups: Vec<BTreeMap<String, String>> = if by_labels {
            s.labels
                .iter()
                .filter(|l| keys.contains(&l.name))
                .map(|l| BTreeMap::from([(l.name.to_string(), l.value.to_string())]))
                .collect()
        } else {
            vec![s
                .labels
                .iter()
                .filter(|l| keys.contains(&l.name))
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect()]
        };
        for e in s.entries {
            let e = e?;
            let bucket = match step {
                Some(st) => start + (e.ts_ns - start).div_euclid(st) * st,
                None => end,
            };
            for g in &groups {
                *out.entry(g.clone()).or_default().entry(bucket).or_default() +=
                    e.line.len() as u64;
            }
        }
    }
    Ok(out)
}

async fn volume_common(
    s: LokiState,
    raw: Option<String>,
    h: HeaderMap,
    body: Bytes,
    ranged: bool,
) -> Response {
    let p = Params::new(raw.as_deref(), &body);
    let (start, end) = tri!(span(&p));
    let m = tri!(selector(&p, "query"));
    if m.is_empty() {
        return bad("query parameter is required");
    }
    let limit: usize = p.get("limit").and_then(|v| v.parse().ok()).unwrap_or(100);
    let target: Vec<String> = p
        .get("targetLabels")
        .map(|v| {
            v.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let by_labels = p.get("aggregateBy") == Some("labels");
    let step = if ranged {
        Some(match p.get("step").map(parse_duration).transpose() {
            Ok(Some(st)) if st > 0 => st,
            Ok(_) => ((end - start) / 250).max(1_000_000_000),
            Err(e) => return bad(e),
        })
    } else {
        None
    };
    let t = tenant(&h);
    let ask = VolumeAsk {
        start,
        end,
        step,
        target,
        by_labels,
    };
    let v = tri!(blocking(move || volumes(s.querier.as_ref(), &t, &m, &ask)).await);
    let mut rows: Vec<(BTreeMap<String, String>, BTreeMap<i64, u64>)> = v.into_iter().collect();
    rows.sort_by_key(|(_, b)| std::cmp::Reverse(b.values().sum::<u64>()));
    rows.truncate(limit);
    let secs = |ns: i64| json!(ns / 1_000_000_000);
    let result: Vec<Value> = rows
        .into_iter()
        .map(|(l, b)| {
            if ranged {
                json!({"metric": l, "values": b.iter().map(|(t, n)| json!([secs(*t), n.to_string()])).collect::<Vec<_>>()})
            } else {
                json!({"metric": l, "value": [secs(end), b.values().sum::<u64>().to_string()]})
            }
        })
        .collect();
    success(json!({"resultType": if ranged { "matrix" } else { "vector" }, "result": result}))
}

/// `/loki/api/v1/index/volume`.
pub(super) async fn volume(
    State(s): State<LokiState>,
    RawQuery(raw): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    volume_common(s, raw, h, body, false).await
}

/// `/loki/api/v1/index/volume_range`.
pub(super) async fn volume_range(
    State(s): State<LokiState>,
    RawQuery(raw): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    volume_common(s, raw, h, body, true).await
}

/// `/loki/api/v1/detected_labels?query=`: the streams' labels with their
/// number of values.
pub(super) async fn detected_labels(
    State(s): State<LokiState>,
    RawQuery(raw): RawQuery,
    h: HeaderMap,
) -> Response {
    let p = Params::new(raw.as_deref(), b"");
    let (start, end) = tri!(span(&p));
    let m = tri!(selector(&p, "query"));
    let t = tenant(&h);
    let streams = tri!(blocking(move || s.querier.streams(&t, &m, start, end)).await);
    let mut card: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for l in &streams {
        for x in l.iter() {
            card.entry(x.name.to_string())
                .or_default()
                .insert(x.value.to_string());
        }
    }
    let out: Vec<Value> = card
        .into_iter()
        .map(|(k, v)| json!({"label": k, "cardinality": v.len()}))
        .collect();
    axum::Json(json!({"detectedLabels": out})).into_response()
}

/// The type Loki's Drilldown gives a field by its values.
fn field_type(values: &BTreeSet<String>) -> &'static str {
    let all = |f: &dyn Fn(&str) -> bool| values.iter().all(|v| f(v));
    if all(&|v| v.parse::<i64>().is_ok()) {
        "int"
    } else if all(&|v| v.parse::<f64>().is_ok()) {
        "float"
    } else if all(&|v| v == "true" || v == "false") {
        "boolean"
    } else if all(&|v| sightline_logql::lexer::parse_duration(v).is_some()) {
        "duration"
    } else if all(&|v| sightline_logql::lexer::parse_bytes(v).is_some()) {
        "bytes"
    } else {
        "string"
    }
}

/// `/loki/api/v1/detected_fields?query=&line_limit=`: the fields a `json`
/// or `logfmt` parser finds in the newest lines, with type and cardinality.
pub(super) async fn detected_fields(
    State(s): State<LokiState>,
    RawQuery(raw): RawQuery,
    h: HeaderMap,
) -> Response {
    let p = Params::new(raw.as_deref(), b"");
    let (start, end) = tri!(span(&p));
    let Some(q) = p.get("query").map(str::to_owned) else {
        return bad("query parameter is required");
    };
    let line_limit: usize = p
        .get("line_limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let field_limit: usize = p
        .get("field_limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let expr = match sightline_logql::parse(&q) {
        Ok(Expr::Log(l)) => l,
        Ok(_) => return bad("detected_fields takes a log query"),
        Err(e) => return bad(e),
    };
    let t = tenant(&h);
    let lines = tri!(
        blocking(move || {
            let params = sightline_logql::eval::Params {
                start_ns: start,
                end_ns: end + 1,
                step_ns: 1,
                backward: true,
                limit: line_limit,
            };
            match sightline_logql::eval::evaluate(
                s.querier.as_ref(),
                &t,
                &Expr::Log(expr),
                &params,
                false,
            ) {
                Ok((sightline_logql::eval::QueryResult::Streams(st), _)) => Ok(st),
                Ok(_) => Ok(Vec::new()),
                Err(e) => Err(sightline_core::Error::bad_data(e.to_string())),
            }
        })
        .await
    );
    let json_p = sightline_logql::exec::Pipeline::new(&[sightline_logql::ast::Stage::Parser(
        sightline_logql::ast::Parser::Json(vec![]),
        0,
    )])
    .ok();
    let logfmt_p = sightline_logql::exec::Pipeline::new(&[sightline_logql::ast::Stage::Parser(
        sightline_logql::ast::Parser::Logfmt {
            strict: true,
            keep_empty: false,
            params: vec![],
        },
        0,
    )])
    .ok();
    let mut fields: BTreeMap<String, (BTreeSet<String>, BTreeSet<&str>)> = BTreeMap::new();
    let empty = Default::default();
    for st in &lines {
        for e in &st.entries {
            let line = e.1.trim_start();
            let (pipe, name) = if line.starts_with('{') {
                (&json_p, "json")
            } else {
                (&logfmt_p, "logfmt")
            };
            let Some(out) = pipe.as_ref().and_then(|p| p.process(e.0, &e.1, &empty)) else {
                continue;
            };
            if out.labels.contains_key("__error__") {
                continue;
            }
            for (k, v) in out.labels {
                let f = fields.entry(k).or_default();
                f.0.insert(v);
                f.1.insert(name);
            }
        }
    }
    let out: Vec<Value> = fields
        .iter()
        .take(field_limit)
        .map(|(k, (vals, parsers))| json!({"label": k, "type": field_type(vals), "cardinality": vals.len(), "parsers": parsers.iter().collect::<Vec<_>>()}))
        .collect();
    axum::Json(json!({"fields": out, "limit": field_limit})).into_response()
}

/// `/loki/api/v1/patterns?query=&step=`: the lines' patterns with their
/// counts per step.
pub(super) async fn patterns(
    State(s): State<LokiState>,
    RawQuery(raw): RawQuery,
    h: HeaderMap,
) -> Response {
    let p = Params::new(raw.as_deref(), b"");
    let (start, end) = tri!(span(&p));
    let m = tri!(selector(&p, "query"));
    if m.is_empty() {
        return bad("query parameter is required");
    }
    let step = match p.get("step").map(parse_duration).transpose() {
        Ok(Some(st)) if st > 0 => st,
        Ok(_) => ((end - start) / 100).max(10_000_000_000),
        Err(e) => return bad(e),
    };
    let t = tenant(&h);
    let found = tri!(
        blocking(move || {
            let mut lines: Vec<(i64, String)> = Vec::new();
            for st in s.querier.select(
                &t,
                &m,
                start,
                end,
                &LogHints {
                    backward: true,
                    limit: Some(10_000),
                    ..LogHints::default()
                },
            )? {
                for e in st.entries.take(10_000) {
                    let e = e?;
                    lines.push((e.ts_ns, e.line));
                }
            }
            let refs: Vec<(i64, &str)> = lines.iter().map(|(t, l)| (*t, l.as_str())).collect();
            Ok(sightline_logql::patterns::detect(&refs, start, step, 50))
        })
        .await
    );
    let data: Vec<Value> = found
        .into_iter()
        .map(|p| json!({"pattern": p.pattern, "samples": p.samples.iter().map(|(t, n)| json!([t / 1_000_000_000, n])).collect::<Vec<_>>()}))
        .collect();
    success(Value::Array(data))
}
