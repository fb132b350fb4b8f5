//! Loki's ruler API over the log rule groups (`logs.rule_files`):
//!
//! - `GET /loki/api/v1/rules[/{namespace}[/{group}]]` (and the legacy
//!   `/api/prom/rules` prefix): the groups as YAML, by namespace (a rule
//!   file), as `lokitool`/`cortextool` and Grafana's ruler calls read them;
//! - `GET /prometheus/api/v1/rules` and `/prometheus/api/v1/alerts`: the
//!   log rules and their alerts in Prometheus's JSON shape, which is what
//!   Grafana's alert list asks a Loki data source for.
//!
//! Writes (`POST` of a group, `DELETE` of a group or namespace) answer 405:
//! the groups come from files, and a write through the API would be lost at
//! the next reload, or would have to rewrite a user's file. Loki's `local`
//! rule storage refuses them too.

use super::error;
use crate::prometheus::api_success;
use crate::prometheus::rules::rules_answer;
use crate::tenant::TenantOf;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// The log rule groups, as the ruler API shows them.
pub trait LogRulesSource: Send + Sync {
    /// `{"groups":[...]}`, shaped as Prometheus's `/api/v1/rules` data.
    fn rules(&self) -> Value;
    /// `{"alerts":[...]}`, shaped as Prometheus's `/api/v1/alerts` data.
    fn alerts(&self) -> Value;
    /// Namespace (rule file) to its groups, each as a rule file writes it
    /// (`name`, `interval`, `limit`, `rules` with `alert`/`record`, `expr`,
    /// `for`, `labels`, `annotations`).
    fn namespaces(&self) -> BTreeMap<String, Vec<Value>>;
}

const READ_ONLY: &str = "rule groups are read from the files of logs.rule_files and cannot be changed through the API: edit the files, then reload (POST /-/reload or SIGHUP)";

/// The ruler routes.
pub fn ruler_routes(source: Arc<dyn LogRulesSource>) -> Router {
    let mut r = Router::new();
    for prefix in ["/loki/api/v1/rules", "/api/prom/rules"] {
        r = r
            .route(prefix, get(list_all).post(read_only).delete(read_only))
            .route(
                &format!("{prefix}/{{namespace}}"),
                get(list_namespace).post(read_only).delete(read_only),
            )
            .route(
                &format!("{prefix}/{{namespace}}/{{group}}"),
                get(one_group).post(read_only).delete(read_only),
            );
    }
    r.route("/prometheus/api/v1/rules", get(prom_rules))
        .route("/prometheus/api/v1/alerts", get(prom_alerts))
        .with_state(source)
}

type Src = State<Arc<dyn LogRulesSource>>;

async fn read_only() -> Response {
    let mut r = error(StatusCode::METHOD_NOT_ALLOWED, READ_ONLY);
    r.headers_mut()
        .insert("Allow", axum::http::HeaderValue::from_static("GET"));
    r
}

fn yaml_response(v: &Value) -> Response {
    ([("Content-Type", "application/yaml")], to_yaml(v)).into_response()
}

/// Cortex's and Loki's answer when there is nothing to list.
fn no_groups() -> Response {
    error(StatusCode::NOT_FOUND, "no rule groups found")
}

async fn list_all(State(s): Src, tenant: TenantOf) -> Response {
    let ns = s.namespaces();
    if ns.is_empty() || !tenant.is_default() {
        return no_groups();
    }
    yaml_response(&Value::Object(
        ns.into_iter().map(|(k, v)| (k, Value::Array(v))).collect(),
    ))
}

async fn list_namespace(
    State(s): Src,
    tenant: TenantOf,
    Path(namespace): Path<String>,
) -> Response {
    if !tenant.is_default() {
        return no_groups();
    }
    match s.namespaces().remove(&namespace) {
        Some(groups) => yaml_response(&Value::Object(
            [(namespace, Value::Array(groups))].into_iter().collect(),
        )),
        None => no_groups(),
    }
}

async fn one_group(
    State(s): Src,
    tenant: TenantOf,
    Path((namespace, group)): Path<(String, String)>,
) -> Response {
    if !tenant.is_default() {
        return error(StatusCode::NOT_FOUND, "group does not exist");
    }
    let found = s.namespaces().remove(&namespace).and_then(|gs| {
        gs.into_iter()
            .find(|g| g.get("name").and_then(Value::as_str) == Some(group.as_str()))
    });
    match found {
        Some(g) => yaml_response(&g),
        None => error(StatusCode::NOT_FOUND, "group does not exist"),
    }
}

#[derive(Deserialize)]
struct RulesParams {
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn prom_rules(State(s): Src, tenant: TenantOf, Query(p): Query<RulesParams>) -> Response {
    if !tenant.is_default() {
        return api_success(serde_json::json!({"groups": []}));
    }
    rules_answer(s.rules(), p.kind.as_deref())
}

async fn prom_alerts(State(s): Src, tenant: TenantOf) -> Response {
    if !tenant.is_default() {
        return api_success(serde_json::json!({"alerts": []}));
    }
    api_success(s.alerts())
}

/// Block-style YAML for a JSON value. Strings are written as JSON strings,
/// which YAML reads back unchanged (YAML's double-quoted scalars are a
/// superset of JSON's), so no string needs YAML's quoting rules.
pub(crate) fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => entries(m, 0, &mut out),
        Value::Array(a) if !a.is_empty() => items(a, 0, &mut out),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn pad(n: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !k.starts_with(['-', '.']);
    if plain {
        k.to_owned()
    } else {
        Value::String(k.to_owned()).to_string()
    }
}

/// Where a rule file puts a key: serde_json's maps are sorted, and a
/// group reads best with its name first and a rule with its name, then
/// its expression.
fn rank(k: &str) -> usize {
    const ORDER: [&str; 11] = [
        "name",
        "interval",
        "limit",
        "rules",
        "record",
        "alert",
        "expr",
        "for",
        "keep_firing_for",
        "labels",
        "annotations",
    ];
    ORDER.iter().position(|o| *o == k).unwrap_or(ORDER.len())
}

/// `key: value` lines at `indent`; the first one goes right after a list
/// item's `- ` when the line holds one.
fn entries(m: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    let mut sorted: Vec<(&String, &Value)> = m.iter().collect();
    sorted.sort_by_key(|(k, _)| (rank(k), k.as_str()));
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 || !out.ends_with("- ") {
            pad(indent, out);
        }
        let _ = write!(out, "{}:", key(k));
        value(v, indent + 2, out);
    }
}

fn items(a: &[Value], indent: usize, out: &mut String) {
    for v in a {
        pad(indent, out);
        out.push_str("- ");
        match v {
            Value::Object(m) if !m.is_empty() => entries(m, indent + 2, out),
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                items(a, indent + 2, out);
            }
            other => {
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

/// The value after `key:`.
fn value(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            entries(m, indent, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            items(a, indent, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::to_yaml;
    use serde_json::json;

    #[test]
    fn yaml_is_block_style_with_json_strings() {
        let v = json!({"errors.yml": [{"name": "g", "interval": "1m", "rules": [
            {"alert": "A", "expr": "count_over_time({job=\"x\"} |= \"error\" [1m]) > 5",
             "labels": {"severity": "page"}, "annotations": {}}
        ]}]});
        assert_eq!(
            to_yaml(&v),
            "errors.yml:\n  - name: \"g\"\n    interval: \"1m\"\n    rules:\n      - alert: \"A\"\n        expr: \"count_over_time({job=\\\"x\\\"} |= \\\"error\\\" [1m]) > 5\"\n        labels:\n          severity: \"page\"\n        annotations: {}\n"
        );
    }
}
