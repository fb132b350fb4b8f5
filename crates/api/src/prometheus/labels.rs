//! `GET|POST /api/v1/labels` and `GET /api/v1/label/<name>/values`:
//! label names and values, optionally restricted to series matching
//! `match[]` selectors and a time range, cut at `limit`.

use super::api_error;
use super::format::{push_str_array, success_body};
use super::params::{invalid_param, limit_param, parse_match_sets, time_param, Form};
use super::params::{MAX_TIME_MS, MIN_TIME_MS};
use super::response::blocking_json;
use super::series::TRUNCATED;
use crate::tenant::Scoped;
use crate::ApiState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::HeaderMap;
use axum::response::Response;
use sightline_core::{ErrorKind, Matcher, MetricQuerier, QueryContext};
use std::collections::BTreeSet;
use std::sync::Arc;

struct Common {
    start: i64,
    end: i64,
    limit: usize,
    sets: Vec<Vec<Matcher>>,
}

fn common(form: &Form) -> Result<Common, String> {
    let start = time_param(form, "start", MIN_TIME_MS)?;
    let end = time_param(form, "end", MAX_TIME_MS)?;
    let limit = limit_param(form)?;
    let sets =
        parse_match_sets(&form.values("match[]")).map_err(|e| invalid_param("match[]", e))?;
    Ok(Common {
        start,
        end,
        limit,
        sets,
    })
}

/// Runs `list` on the blocking pool for each matcher set (or once with
/// none) and answers with the sorted union.
async fn union_response<F>(state: ApiState, c: Common, list: F) -> Response
where
    F: Fn(
            &dyn MetricQuerier,
            &QueryContext,
            i64,
            i64,
            &[Matcher],
        ) -> sightline_core::Result<Vec<String>>
        + Send
        + 'static,
{
    let querier: Arc<dyn MetricQuerier> = state.querier.clone();
    blocking_json("label", move || {
        let ctx = QueryContext::new();
        let mut all: BTreeSet<String> = BTreeSet::new();
        if c.sets.is_empty() {
            all.extend(list(querier.as_ref(), &ctx, c.start, c.end, &[])?);
        }
        for set in &c.sets {
            all.extend(list(querier.as_ref(), &ctx, c.start, c.end, set)?);
        }
        let mut names: Vec<String> = all.into_iter().collect();
        let mut warnings = Vec::new();
        if c.limit > 0 && names.len() > c.limit {
            names.truncate(c.limit);
            warnings.push(TRUNCATED.to_owned());
        }
        let mut data = String::new();
        push_str_array(&mut data, &names);
        Ok(success_body(&data, &warnings, &[]))
    })
    .await
}

pub(super) async fn names(
    Scoped(state): Scoped,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::new(raw.as_deref(), &headers, &body);
    let c = match common(&form) {
        Ok(c) => c,
        Err(m) => return api_error(ErrorKind::BadData, &m),
    };
    union_response(state, c, |q, ctx, mint, maxt, m| {
        q.label_names(ctx, mint, maxt, m)
    })
    .await
}

/// Whether `name` is a legal label name (`model.LabelNameRE`).
fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) async fn values(
    Scoped(state): Scoped,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !valid_label_name(&name) {
        return api_error(ErrorKind::BadData, &format!("invalid label name: {name:?}"));
    }
    let form = Form::new(raw.as_deref(), &headers, &body);
    let c = match common(&form) {
        Ok(c) => c,
        Err(m) => return api_error(ErrorKind::BadData, &m),
    };
    union_response(state, c, move |q, ctx, mint, maxt, m| {
        q.label_values(ctx, &name, mint, maxt, m)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_follow_prometheus_rules() {
        assert!(valid_label_name("__name__"));
        assert!(valid_label_name("job_2"));
        assert!(!valid_label_name("2job"));
        assert!(!valid_label_name("a-b"));
        assert!(!valid_label_name(""));
    }
}
