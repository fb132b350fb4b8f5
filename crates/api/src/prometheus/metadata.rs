//! `/api/v1/metadata` and `/api/v1/targets/metadata`, as Prometheus 2.42
//! answers them (`web/api/v1/api.go`, `metricMetadata`, `targetMetadata`):
//!
//! - `limit` must be an integer (`limit must be a number`, 400); negative
//!   means no limit and `0` an empty answer. On `/metadata` it caps the
//!   families; on `/targets/metadata` it is checked before each target, so
//!   a target's entries come whole.
//! - `metric` is a family name, matched exactly. `/targets/metadata` then
//!   leaves `metric` out of each entry.
//! - `match_target` is a series selector matched against target labels.
//! - Prometheus iterates Go maps here, so its families past a limit and its
//!   order are random; ours are sorted by family name, then by target.
//! - `limit_per_metric` (Prometheus 2.44 and later; 2.42 ignores it) caps the
//!   entries of each family and must be an integer.
//!
//! The metadata comes from the scrape targets' caches and from remote write
//! senders ([`crate::MetadataSource`]).

use super::api_error;
use super::format::{push_json_str, success_body};
use super::params::{invalid_param, parse_selector, Form};
use super::response::success_response;
use crate::ApiState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use sightline_core::{ErrorKind, Matcher};

/// A Prometheus `limit`-like parameter: `None` when absent or negative.
fn limit(form: &Form, name: &str) -> Result<Option<usize>, String> {
    match form.value(name) {
        "" => Ok(None),
        v => match v.parse::<i64>() {
            Ok(n) => Ok(usize::try_from(n).ok()),
            Err(_) => Err(format!("{name} must be a number")),
        },
    }
}

/// `GET /api/v1/metadata?metric=&limit=&limit_per_metric=`.
pub(super) async fn metadata(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::new(raw.as_deref(), &headers, &body);
    let (lim, per_metric) = match (limit(&form, "limit"), limit(&form, "limit_per_metric")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return api_error(ErrorKind::BadData, &e),
    };
    let metric = Some(form.value("metric")).filter(|m| !m.is_empty());
    let found = state.metadata.metadata(metric, lim, per_metric);
    let mut out = String::from("{");
    for (i, (name, list)) in found.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(&mut out, name);
        out.push_str(":[");
        for (j, m) in list.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            push_entry(&mut out, m.kind, &m.help, &m.unit);
        }
        out.push(']');
    }
    out.push('}');
    raw_success(&out)
}

/// `GET /api/v1/targets/metadata?match_target=&metric=&limit=`.
pub(super) async fn targets_metadata(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::new(raw.as_deref(), &headers, &body);
    let lim = match limit(&form, "limit") {
        Ok(l) => l,
        Err(e) => return api_error(ErrorKind::BadData, &e),
    };
    let matchers = match form.value("match_target") {
        "" => Vec::new(),
        s => match target_selector(s) {
            Ok(m) => m,
            Err(e) => return api_error(ErrorKind::BadData, &invalid_param("match_target", e)),
        },
    };
    let metric = Some(form.value("metric")).filter(|m| !m.is_empty());
    let found = state.metadata.targets_metadata(&matchers, metric, lim);
    let mut out = String::from("[");
    for (i, t) in found.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"target\":{");
        for (j, (k, v)) in t.target.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            push_json_str(&mut out, k);
            out.push(':');
            push_json_str(&mut out, v);
        }
        out.push_str("},");
        if !t.metric.is_empty() {
            out.push_str("\"metric\":");
            push_json_str(&mut out, &t.metric);
            out.push(',');
        }
        // `push_entry` writes an object; splice its fields in.
        let mut e = String::new();
        push_entry(&mut e, t.kind, &t.help, &t.unit);
        out.push_str(&e[1..]);
    }
    out.push(']');
    raw_success(&out)
}

/// `{"type":..,"help":..,"unit":..}`, strings escaped as Prometheus's JSON
/// encoder escapes them (HTML characters included).
fn push_entry(out: &mut String, kind: &str, help: &str, unit: &str) {
    out.push_str("{\"type\":");
    push_json_str(out, kind);
    out.push_str(",\"help\":");
    push_json_str(out, help);
    out.push_str(",\"unit\":");
    push_json_str(out, unit);
    out.push('}');
}

fn raw_success(data: &str) -> Response {
    success_response(success_body(data, &[], &[]))
}

/// `match_target` as Prometheus's `ParseMetricSelector` reads it. Unlike
/// `match[]`, a selector whose matchers all match the empty string (`{}`,
/// `{job=~".*"}`) is fine here: it selects every target. Our PromQL parser
/// refuses those, so such a selector is parsed with one more matcher that
/// is then taken away again.
fn target_selector(s: &str) -> Result<Vec<Matcher>, String> {
    match parse_selector(s) {
        Ok(m) => Ok(m),
        Err(e) if e.contains("non-empty matcher") => {
            let body = s.trim_end();
            let Some(open) = body.strip_suffix('}') else {
                return Err(e);
            };
            let sep = if open.trim_end().ends_with('{') || open.trim_end().ends_with(',') {
                ""
            } else {
                ","
            };
            const EXTRA: &str = "__sightline_any_target__";
            let mut m = parse_selector(&format!("{open}{sep}{EXTRA}=\"1\"}}"))?;
            m.retain(|m| m.name != EXTRA);
            Ok(m)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_target_takes_selectors_that_match_everything() {
        assert!(target_selector("{}").unwrap().is_empty());
        let m = target_selector("{job=~\".*\"}").unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].name, "job");
        assert_eq!(target_selector("{job=\"a\"}").unwrap().len(), 1);
        assert!(target_selector("{job=a}").is_err());
    }

    #[test]
    fn limits_read_as_prometheus_2_42() {
        let h = HeaderMap::new();
        let f = |q: &str| Form::new(Some(q), &h, &Bytes::new());
        assert_eq!(limit(&f("limit=-3"), "limit"), Ok(None));
        assert_eq!(limit(&f("limit=0"), "limit"), Ok(Some(0)));
        assert_eq!(limit(&f("limit=%2B2"), "limit"), Ok(Some(2)));
        assert_eq!(
            limit(&f("limit=1.5"), "limit"),
            Err("limit must be a number".into())
        );
        assert_eq!(limit(&f("x=1"), "limit"), Ok(None));
    }
}
