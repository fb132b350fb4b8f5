//! `GET|POST /api/v1/query_exemplars?query=&start=&end=`, as Prometheus
//! answers it (`web/api/v1/api.go`, `queryExemplars`): every vector
//! selector of the query picks series (any one selector suffices); the
//! answer groups their exemplars by series, sorted by series labels, each
//! `{labels, value, timestamp}` with the value a string and the timestamp
//! in seconds. A query without selectors is answered 204 without a body.

use super::api_error;
use super::format::{push_float, push_json_str, push_labels, push_timestamp, success_body};
use super::params::{invalid_param, parse_time, Form, MAX_TIME_MS, MIN_TIME_MS};
use super::response::blocking_json;
use crate::tenant::Scoped;
use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use promql_parser::parser::Expr;
use sightline_core::{ErrorKind, Matcher, SeriesExemplars};

pub(super) async fn query_exemplars(
    Scoped(state): Scoped,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::new(raw.as_deref(), &headers, &body);
    let time = |name: &str, default: i64| -> Result<i64, String> {
        match form.value(name) {
            "" => Ok(default),
            v => parse_time(v)
                .map_err(|e| invalid_param(name, format!("Invalid time value for '{name}': {e}"))),
        }
    };
    let (start, end) = match (time("start", MIN_TIME_MS), time("end", MAX_TIME_MS)) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(m), _) | (_, Err(m)) => return api_error(ErrorKind::BadData, &m),
    };
    if end < start {
        return api_error(
            ErrorKind::BadData,
            "end timestamp must not be before start timestamp",
        );
    }
    let expr = match sightline_promql::parse(form.value("query")) {
        Ok(e) => e,
        Err(e) => return api_error(ErrorKind::BadData, &e.to_string()),
    };
    let mut selectors = Vec::new();
    if let Err(e) = collect_selectors(&expr, &mut selectors) {
        return api_error(ErrorKind::BadData, &e.to_string());
    }
    if selectors.is_empty() {
        return axum::http::StatusCode::NO_CONTENT.into_response();
    }
    let querier = state.querier.clone();
    blocking_json("query_exemplars", move || {
        let ctx = sightline_core::QueryContext::new();
        let found = querier.select_exemplars(&ctx, start, end, &selectors)?;
        Ok(success_body(&render(&found), &[], &[]))
    })
    .await
}

/// The matcher sets of every vector selector in `e` (Prometheus's
/// `parser.ExtractSelectors`), one per `or` alternative.
fn collect_selectors(e: &Expr, out: &mut Vec<Vec<Matcher>>) -> sightline_promql::Result<()> {
    match e {
        Expr::VectorSelector(vs) => out.extend(sightline_promql::selector_matchers(vs)?),
        Expr::MatrixSelector(m) => out.extend(sightline_promql::selector_matchers(&m.vs)?),
        Expr::Aggregate(a) => {
            collect_selectors(&a.expr, out)?;
            if let Some(p) = &a.param {
                collect_selectors(p, out)?;
            }
        }
        Expr::Unary(u) => collect_selectors(&u.expr, out)?,
        Expr::Binary(b) => {
            collect_selectors(&b.lhs, out)?;
            collect_selectors(&b.rhs, out)?;
        }
        Expr::Paren(p) => collect_selectors(&p.expr, out)?,
        Expr::Subquery(s) => collect_selectors(&s.expr, out)?,
        Expr::Call(c) => {
            for a in &c.args.args {
                collect_selectors(a, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `[{"seriesLabels":{..},"exemplars":[{"labels":{..},"value":"1","timestamp":1.5}]}]`.
fn render(found: &[SeriesExemplars]) -> String {
    let mut out = String::from("[");
    for (i, s) in found.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"seriesLabels\":");
        push_labels(&mut out, &s.series_labels);
        out.push_str(",\"exemplars\":[");
        for (j, e) in s.exemplars.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str("{\"labels\":");
            push_labels(&mut out, &e.labels);
            out.push_str(",\"value\":");
            let mut v = String::new();
            push_float(&mut v, e.value);
            push_json_str(&mut out, &v);
            out.push_str(",\"timestamp\":");
            push_timestamp(&mut out, e.timestamp.unwrap_or(0));
            out.push('}');
        }
        out.push_str("]}");
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::{Exemplar, Labels};

    #[test]
    fn renders_as_prometheus_does() {
        let found = [SeriesExemplars {
            series_labels: Labels::from_pairs([("__name__", "a_bucket"), ("le", "+Inf")]),
            exemplars: vec![
                Exemplar {
                    labels: Labels::from_pairs([("trace_id", "t1")]),
                    value: 0.5,
                    timestamp: Some(1_700_000_000_500),
                },
                Exemplar {
                    labels: Labels::empty(),
                    value: 1.0,
                    timestamp: Some(1_700_000_001_000),
                },
            ],
        }];
        // Byte for byte what Prometheus 2.42 wrote for the same exemplars.
        assert_eq!(
            render(&found),
            r#"[{"seriesLabels":{"__name__":"a_bucket","le":"+Inf"},"exemplars":[{"labels":{"trace_id":"t1"},"value":"0.5","timestamp":1700000000.500},{"labels":{},"value":"1","timestamp":1700000001}]}]"#
        );
    }

    #[test]
    fn selectors_come_from_every_part_of_the_query() {
        let e = sightline_promql::parse("sum(rate(a[5m])) / on() b{x=\"1\"} + 1").unwrap();
        let mut out = Vec::new();
        collect_selectors(&e, &mut out).unwrap();
        assert_eq!(out.len(), 2);
        let e = sightline_promql::parse("1 + 2").unwrap();
        let mut out = Vec::new();
        collect_selectors(&e, &mut out).unwrap();
        assert!(out.is_empty());
    }
}
