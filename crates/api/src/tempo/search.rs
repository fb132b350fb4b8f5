//! Tempo's search and metrics endpoints over TraceQL: `/api/search` (a
//! TraceQL `q`, or the older `tags` form with `minDuration`/`maxDuration`,
//! which becomes TraceQL), `/api/metrics/query_range` and
//! `/api/metrics/query` (TraceQL metrics). Answers are Tempo's JSON
//! (`sightline_traceql::json`).

use super::{bad, error, Params};
use crate::tenant::tenant;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sightline_core::duration::parse_go;

/// Traces a search returns when the request names no `limit`.
pub(super) const DEFAULT_LIMIT: usize = 20;
/// Spans listed per spanset when the request names no `spss`.
pub(super) const DEFAULT_SPSS: usize = 3;

/// Whether a `/api/search` request is Tempo's (and not Grafana's dashboard
/// search on the same path): Tempo's clients always send a query or a
/// range; Grafana's dashboard search sends neither.
pub fn is_trace_search(raw: Option<&str>) -> bool {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes()).any(|(k, _)| {
        matches!(
            k.as_ref(),
            "q" | "tags" | "start" | "end" | "minDuration" | "maxDuration" | "spss"
        )
    })
}

fn traceql_error(e: sightline_traceql::Error) -> Response {
    error(
        StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
        e,
    )
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The `tags` form (`service.name=api http.status_code=500`, logfmt) with
/// the duration bounds, as TraceQL: each tag an unscoped attribute equal
/// to the text (or to the number it spells), `name` the span name.
fn tags_to_traceql(tags: &str, min: Option<&str>, max: Option<&str>) -> Result<String, String> {
    pairs_to_traceql(logfmt_pairs(tags)?, min, max)
}

/// Tag pairs and duration bounds (Go durations) as TraceQL, as
/// [`tags_to_traceql`]; gRPC's search sends the pairs as a map.
pub(super) fn pairs_to_traceql(
    pairs: Vec<(String, String)>,
    min: Option<&str>,
    max: Option<&str>,
) -> Result<String, String> {
    let mut conds = Vec::new();
    for (k, v) in pairs {
        let cond = if k == "name" {
            format!("name = {}", quote(&v))
        } else {
            let field = if k.chars().all(|c| c.is_alphanumeric() || "._-".contains(c)) {
                format!(".{k}")
            } else {
                format!(".{}", quote(&k))
            };
            match v.parse::<f64>() {
                Ok(_) if v.parse::<i64>().is_ok() || v.contains('.') => {
                    format!("({field} = {} || {field} = {v})", quote(&v))
                }
                _ if v == "true" || v == "false" => {
                    format!("({field} = {} || {field} = {v})", quote(&v))
                }
                _ => format!("{field} = {}", quote(&v)),
            }
        };
        conds.push(cond);
    }
    for (v, op, what) in [(min, ">=", "minDuration"), (max, "<=", "maxDuration")] {
        if let Some(v) = v {
            let ns = parse_go(v).map_err(|e| format!("invalid {what}: {e}"))?;
            conds.push(format!("duration {op} {ns}ns"));
        }
    }
    Ok(if conds.is_empty() {
        "{}".to_owned()
    } else {
        format!("{{ {} }}", conds.join(" && "))
    })
}

/// `k=v k2="a b"` pairs.
fn logfmt_pairs(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("invalid tags: {rest:?} is not key=value"))?;
        let key = rest[..eq].trim().to_owned();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!("invalid tags: bad key {key:?}"));
        }
        rest = &rest[eq + 1..];
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let end = q
                .find('"')
                .ok_or_else(|| format!("invalid tags: unterminated quote after {key}="))?;
            value = q[..end].to_owned();
            rest = q[end + 1..].trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            value = rest[..end].to_owned();
            rest = rest[end..].trim_start();
        }
        out.push((key, value));
    }
    Ok(out)
}

/// A time as Tempo's endpoints take one: Unix seconds, or nanoseconds
/// when longer than 10 digits.
fn time_param(p: &Params, k: &str) -> Result<Option<i64>, String> {
    p.get(k)
        .map(|v| {
            let n: i64 = v
                .parse::<f64>()
                .map_err(|_| format!("invalid {k}: {v:?} is not Unix seconds or nanoseconds"))?
                as i64;
            Ok(
                if v.trim_start_matches('-').len() > 10 && !v.contains('.') {
                    n
                } else {
                    (v.parse::<f64>().unwrap_or(0.0) * 1e9) as i64
                },
            )
        })
        .transpose()
}

fn count_param(p: &Params, k: &str, default: usize) -> Result<usize, String> {
    p.get(k).map_or(Ok(default), |v| {
        v.parse::<usize>()
            .map_err(|_| format!("invalid {k}: {v:?} is not a count"))
    })
}

/// `/api/search`.
pub async fn search(
    State(st): State<super::TempoState>,
    h: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q);
    let built = (|| -> Result<_, String> {
        let query = match p.get("q") {
            Some(q) => q.to_owned(),
            None => tags_to_traceql(
                p.get("tags").unwrap_or(""),
                p.get("minDuration"),
                p.get("maxDuration"),
            )?,
        };
        let now = crate::loki::now_ns();
        let end = time_param(&p, "end")?.unwrap_or(now);
        let start = time_param(&p, "start")?.unwrap_or(end - 3600 * 1_000_000_000);
        if start > end {
            return Err("invalid start: start must not be after end".into());
        }
        Ok((
            query,
            start,
            end,
            count_param(&p, "limit", DEFAULT_LIMIT)?,
            count_param(&p, "spss", DEFAULT_SPSS)?,
        ))
    })();
    let (query, start, end, limit, spss) = match built {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    let t = tenant(&h);
    let res = tokio::task::spawn_blocking(move || {
        sightline_traceql::search(st.querier.as_ref(), &t, &query, start, end, limit, spss)
    })
    .await;
    match res {
        Ok(Ok(r)) => Json(sightline_traceql::json::search_response(&r)).into_response(),
        Ok(Err(e)) => traceql_error(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// The step of a metrics query: a Go duration (`30s`) or seconds; by
/// default the range over 100 points, at least a second.
fn step_param(p: &Params, start: i64, end: i64) -> Result<i64, String> {
    match p.get("step") {
        None => Ok(((end - start) / 100).max(1_000_000_000)),
        Some(v) => match v.parse::<f64>() {
            Ok(s) => Ok((s * 1e9) as i64),
            Err(_) => parse_go(v).map_err(|e| format!("invalid step: {e}")),
        },
    }
}

async fn metrics(
    st: super::TempoState,
    h: HeaderMap,
    q: Option<String>,
    instant: bool,
) -> Response {
    let p = Params::new(q);
    let built = (|| -> Result<_, String> {
        let query = p
            .get("q")
            .or_else(|| p.get("query"))
            .ok_or("missing q: a TraceQL metrics query, e.g. { } | rate()")?
            .to_owned();
        let now = crate::loki::now_ns();
        let end = time_param(&p, "end")?.unwrap_or(now);
        let start = time_param(&p, "start")?.unwrap_or(end - 3600 * 1_000_000_000);
        let step = if instant {
            end - start
        } else {
            step_param(&p, start, end)?
        };
        Ok((query, start, end, step))
    })();
    let (query, start, end, step) = match built {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    let t = tenant(&h);
    let res = tokio::task::spawn_blocking(move || {
        sightline_traceql::query_range(st.querier.as_ref(), &t, &query, start, end, step)
    })
    .await;
    match res {
        Ok(Ok(r)) => Json(sightline_traceql::json::query_range_response(&r)).into_response(),
        Ok(Err(e)) => traceql_error(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// `/api/metrics/query_range`.
pub async fn query_range(
    State(st): State<super::TempoState>,
    h: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    metrics(st, h, q, false).await
}

/// `/api/metrics/query`: one point over the whole range.
pub async fn query_instant(
    State(st): State<super::TempoState>,
    h: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    metrics(st, h, q, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_become_traceql() {
        assert_eq!(tags_to_traceql("", None, None).unwrap(), "{}");
        assert_eq!(
            tags_to_traceql(r#"service.name=api name="GET /x""#, Some("100ms"), None).unwrap(),
            r#"{ .service.name = "api" && name = "GET /x" && duration >= 100000000ns }"#
        );
        assert_eq!(
            tags_to_traceql("http.status_code=500", None, Some("1s")).unwrap(),
            r#"{ (.http.status_code = "500" || .http.status_code = 500) && duration <= 1000000000ns }"#
        );
        assert!(tags_to_traceql("novalue", None, None)
            .unwrap_err()
            .contains("key=value"));
        assert!(tags_to_traceql("a=\"open", None, None)
            .unwrap_err()
            .contains("unterminated"));
        assert!(tags_to_traceql("", Some("fast"), None)
            .unwrap_err()
            .contains("minDuration"));
        assert!(is_trace_search(Some("q=%7B%7D&start=1")));
        assert!(!is_trace_search(Some("query=shop&type=dash-db")));
        assert!(!is_trace_search(None));
    }
}
