//! `/loki/api/v1/query`, `/loki/api/v1/query_range` and
//! `/loki/api/v1/format_query`.

use super::{bad, error, now_ns, parse_duration, parse_time, tenant, LokiState, Params};
use crate::tenant::TenantOf;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use sightline_core::gofmt::shortest_f;
use sightline_logql::eval::{self, EvalError, QueryResult, Stats};

/// Loki's default `limit`.
const DEFAULT_LIMIT: usize = 100;
/// Loki's `max_entries_limit_per_query` default.
const MAX_LIMIT: usize = 5000;

fn secs(ns: i64) -> Value {
    // Seconds with millisecond precision, as Loki writes sample times.
    let ms = ns.div_euclid(1_000_000);
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

fn labels(l: &sightline_logql::exec::LabelSet) -> Value {
    Value::Object(
        l.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<_, _>>(),
    )
}

fn stats_json(s: &Stats) -> Value {
    let per_s = |x: u64| {
        if s.exec_seconds > 0.0 {
            (x as f64 / s.exec_seconds) as u64
        } else {
            0
        }
    };
    json!({
        "summary": {
            "bytesProcessedPerSecond": per_s(s.bytes_scanned),
            "linesProcessedPerSecond": per_s(s.lines_scanned),
            "totalBytesProcessed": s.bytes_scanned,
            "totalLinesProcessed": s.lines_scanned,
            "execTime": s.exec_seconds,
            "queueTime": 0,
            "subqueries": 0,
            "totalEntriesReturned": s.lines_returned,
            "splits": 0,
            "shards": 0,
            "totalPostFilterLines": s.lines_returned,
            "totalStructuredMetadataBytesProcessed": 0
        },
        "querier": {"store": {"totalChunksRef": 0, "totalChunksDownloaded": 0, "chunkRefsFetchTime": 0, "queryReferencedStructuredMetadata": false}},
        "ingester": {"totalReached": 0, "totalChunksMatched": 0, "totalBatches": 0, "totalLinesSent": 0}
    })
}

/// The answer's `data`, as Loki shapes each result type.
pub(super) fn result_json(r: &QueryResult, s: &Stats) -> Value {
    let (kind, result) = match r {
        QueryResult::Streams(streams) => (
            "streams",
            Value::Array(
                streams
                    .iter()
                    .map(|st| {
                        json!({
                            "stream": labels(&st.labels),
                            "values": st.entries.iter().map(|e| json!([e.0.to_string(), e.1])).collect::<Vec<_>>(),
                        })
                    })
                    .collect(),
            ),
        ),
        QueryResult::Matrix(m) => (
            "matrix",
            Value::Array(
                m.iter()
                    .map(|s| {
                        json!({
                            "metric": labels(&s.labels),
                            "values": s.points.iter().map(|p| json!([secs(p.0), shortest_f(p.1)])).collect::<Vec<_>>(),
                        })
                    })
                    .collect(),
            ),
        ),
        QueryResult::Vector(v) => (
            "vector",
            Value::Array(
                v.iter()
                    .map(|s| {
                        let p = s.points[0];
                        json!({"metric": labels(&s.labels), "value": [secs(p.0), shortest_f(p.1)]})
                    })
                    .collect(),
            ),
        ),
        QueryResult::Scalar(t, v) => ("scalar", json!([secs(*t), shortest_f(*v)])),
    };
    json!({"resultType": kind, "result": result, "stats": stats_json(s)})
}

fn direction(p: &Params) -> Result<bool, String> {
    match p.get("direction").map(str::to_ascii_lowercase).as_deref() {
        None | Some("backward") => Ok(true),
        Some("forward") => Ok(false),
        Some(d) => Err(format!("invalid direction {d:?}: forward or backward")),
    }
}

/// The `limit` parameter, at most the tenant's `max_entries_limit_per_query`
/// (Loki's 5000 when it sets none).
fn limit(p: &Params, tenant: &TenantOf) -> Result<usize, String> {
    let max = match &tenant.0 {
        Some((t, l)) if l.of(&t.0).max_entries_limit_per_query > 0 => {
            l.of(&t.0).max_entries_limit_per_query
        }
        _ => MAX_LIMIT,
    };
    match p.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => match v.parse::<usize>() {
            Ok(0) => Err("limit must be a positive value".into()),
            Ok(n) if n > max => Err(format!(
                "max entries limit per query exceeded, limit > max_entries_limit ({n} > {max})"
            )),
            Ok(n) => Ok(n),
            Err(_) => Err(format!("invalid limit {v:?}: a whole number")),
        },
    }
}

async fn run(
    state: LokiState,
    tenant: String,
    q: String,
    params: eval::Params,
    instant: bool,
) -> Response {
    let expr = match sightline_logql::parse(&q) {
        Ok(e) => e,
        Err(e) => return bad(e),
    };
    let res = tokio::task::spawn_blocking(move || {
        eval::evaluate(state.querier.as_ref(), &tenant, &expr, &params, instant)
    })
    .await;
    match res {
        Ok(Ok((r, s))) => {
            axum::Json(json!({"status": "success", "data": result_json(&r, &s)})).into_response()
        }
        Ok(Err(EvalError::Storage(e))) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        Ok(Err(e)) => bad(e),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("query task failed: {e}"),
        ),
    }
}

/// `GET|POST /loki/api/v1/query`: `query`, `time` (default now), `limit`,
/// `direction`.
pub(super) async fn instant(
    State(s): State<LokiState>,
    tenant_of: TenantOf,
    RawQuery(raw): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::new(raw.as_deref(), &body);
    let Some(q) = p.get("query").map(str::to_owned) else {
        return bad("query parameter is required");
    };
    let at = match p.get("time").map(parse_time).transpose() {
        Ok(t) => t.unwrap_or_else(now_ns),
        Err(e) => return bad(e),
    };
    let (backward, limit) = match (direction(&p), limit(&p, &tenant_of)) {
        (Ok(d), Ok(l)) => (d, l),
        (Err(e), _) | (_, Err(e)) => return bad(e),
    };
    let params = eval::Params {
        start_ns: at,
        end_ns: at,
        step_ns: 1,
        backward,
        limit,
    };
    run(s, tenant(&h), q, params, true).await
}

/// `GET|POST /loki/api/v1/query_range`: `query`, `start`, `end`, `since`,
/// `step`, `limit`, `direction`.
pub(super) async fn range(
    State(s): State<LokiState>,
    tenant_of: TenantOf,
    RawQuery(raw): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::new(raw.as_deref(), &body);
    let Some(q) = p.get("query").map(str::to_owned) else {
        return bad("query parameter is required");
    };
    let (start, end) = match super::range(&p) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    // Loki's default step: the range over 250 points, at least 1 s.
    let step = match p.get("step").map(parse_duration).transpose() {
        Ok(Some(s)) if s <= 0 => return bad("zero or negative query resolution step widths are not accepted. Try a positive integer"),
        Ok(Some(s)) => s,
        Ok(None) => ((end - start) / 250 / 1_000_000_000).max(1) * 1_000_000_000,
        Err(e) => return bad(e),
    };
    if (end - start) / step > 11_000 {
        return bad("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
    }
    let (backward, limit) = match (direction(&p), limit(&p, &tenant_of)) {
        (Ok(d), Ok(l)) => (d, l),
        (Err(e), _) | (_, Err(e)) => return bad(e),
    };
    let params = eval::Params {
        start_ns: start,
        end_ns: end,
        step_ns: step,
        backward,
        limit,
    };
    run(s, tenant(&h), q, params, false).await
}

/// `GET|POST /loki/api/v1/format_query?query=`: the query in canonical form.
pub(super) async fn format(RawQuery(raw): RawQuery, body: Bytes) -> Response {
    let p = Params::new(raw.as_deref(), &body);
    let Some(q) = p.get("query") else {
        return bad("query parameter is required");
    };
    match sightline_logql::parse(q) {
        Ok(e) => axum::Json(json!({"status": "success", "data": e.to_string()})).into_response(),
        Err(e) => bad(e),
    }
}
