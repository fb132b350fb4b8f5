//! `/api/v1/status/{buildinfo,runtimeinfo,flags,config,tsdb}`.
//!
//! The server fills these through [`crate::StatusSource`]; the shapes are
//! Prometheus's so that Grafana's version detection and `promtool`-style
//! tooling read them unchanged.

use super::params::{limit_param, Form};
use super::{api_error, api_success};
use crate::{ApiState, HeadStats};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;
use sightline_core::{ErrorKind, Labels, MatchOp, Matcher};
use std::collections::HashMap;

/// The Prometheus release whose HTTP API Sightline answers like. Grafana
/// reads `version` to decide which endpoints and parameters it may use
/// (`/api/v1/labels?match[]=` needs 2.24 or later, for instance), so we
/// report a Prometheus version and name ourselves in the other fields.
pub const PROMETHEUS_API_VERSION: &str = "2.53.0";

pub(super) async fn buildinfo() -> Response {
    api_success(json!({
        "version": PROMETHEUS_API_VERSION,
        "revision": format!("sightline-{}", env!("CARGO_PKG_VERSION")),
        "branch": "sightline",
        "buildUser": "sightline",
        "buildDate": "",
        "goVersion": "none (Rust)",
    }))
}

pub(super) async fn runtimeinfo(State(state): State<ApiState>) -> Response {
    api_success(state.status.runtime_info())
}

pub(super) async fn flags(State(state): State<ApiState>) -> Response {
    api_success(json!(state.status.flags()))
}

pub(super) async fn config(State(state): State<ApiState>) -> Response {
    api_success(json!({ "yaml": state.status.config_yaml() }))
}

/// Name/value rows, largest first, then by name, at most `limit`.
fn top(counts: HashMap<String, u64>, limit: usize) -> serde_json::Value {
    let mut rows: Vec<(String, u64)> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows.truncate(limit);
    serde_json::Value::Array(
        rows.into_iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect(),
    )
}

/// Cardinality statistics of the head block, computed from its series.
fn tsdb_stats(head: HeadStats, series: &[Labels], limit: usize) -> serde_json::Value {
    let mut by_metric: HashMap<String, u64> = HashMap::new();
    let mut by_pair: HashMap<String, u64> = HashMap::new();
    let mut values_by_name: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
    for l in series {
        if let Some(n) = l.metric_name() {
            *by_metric.entry(n.to_owned()).or_default() += 1;
        }
        for lbl in l {
            *by_pair
                .entry(format!("{}={}", lbl.name, lbl.value))
                .or_default() += 1;
            values_by_name
                .entry(lbl.name.clone())
                .or_default()
                .insert(lbl.value.clone());
        }
    }
    let label_values: HashMap<String, u64> = values_by_name
        .iter()
        .map(|(k, v)| (k.clone(), v.len() as u64))
        .collect();
    let memory: HashMap<String, u64> = values_by_name
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(|s| s.len() as u64).sum()))
        .collect();
    let (min, max) = if head.num_series == 0 {
        (0, 0)
    } else {
        (head.min_time, head.max_time)
    };
    json!({
        "headStats": {
            "numSeries": head.num_series,
            "numLabelPairs": by_pair.len(),
            "chunkCount": head.chunk_count,
            "minTime": min,
            "maxTime": max,
        },
        "seriesCountByMetricName": top(by_metric, limit),
        "labelValueCountByLabelName": top(label_values, limit),
        "memoryInBytesByLabelName": top(memory, limit),
        "seriesCountByLabelValuePair": top(by_pair, limit),
    })
}

/// `GET /api/v1/status/tsdb?limit=N` (default 10, as Prometheus).
pub(super) async fn tsdb(
    crate::tenant::Scoped(state): crate::tenant::Scoped,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::new(raw.as_deref(), &headers, &body);
    let limit = match limit_param(&form) {
        Ok(0) => 10,
        Ok(n) => n,
        Err(m) => return api_error(ErrorKind::BadData, &m),
    };
    let head = state.status.head_stats();
    let querier = state.querier.clone();
    let task = tokio::task::spawn_blocking(move || {
        let all = Matcher::new(MatchOp::Regex, "__name__", ".+")?;
        let series = if head.num_series == 0 {
            Vec::new()
        } else {
            querier
                .series(
                    &sightline_core::QueryContext::new(),
                    head.min_time,
                    head.max_time,
                    &[all],
                )?
                .collect::<sightline_core::Result<Vec<_>>>()?
        };
        Ok::<_, sightline_core::Error>(tsdb_stats(head, &series, limit))
    });
    match task.await {
        Ok(Ok(v)) => api_success(v),
        Ok(Err(e)) => api_error(e.kind(), e.message()),
        Err(e) => api_error(
            ErrorKind::Internal,
            &format!("tsdb status task failed: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsdb_stats_count_cardinality() {
        let series = vec![
            Labels::from_pairs([("__name__", "a"), ("job", "x")]),
            Labels::from_pairs([("__name__", "a"), ("job", "y")]),
            Labels::from_pairs([("__name__", "b"), ("job", "x")]),
        ];
        let head = HeadStats {
            num_series: 3,
            chunk_count: 3,
            min_time: 1,
            max_time: 2,
        };
        let v = tsdb_stats(head, &series, 1);
        assert_eq!(v["headStats"]["numLabelPairs"], 4);
        assert_eq!(
            v["seriesCountByMetricName"],
            json!([{"name": "a", "value": 2}])
        );
        assert_eq!(
            v["labelValueCountByLabelName"],
            json!([{"name": "__name__", "value": 2}])
        );
    }
}
