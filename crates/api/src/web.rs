//! Small server-rendered pages, so that every link Sightline emits leads
//! somewhere real until the web UI (crates/ui, served at `/`) has its own
//! pages for them:
//!
//! - `/graph?g0.expr=...`: the link of a rule alert's `generatorURL`; the
//!   expression evaluated at now, shown as a table (errors shown as such).
//! - `/alerts`: firing and pending alerts of the alerting rules.
//!
//! Plain HTML, no JavaScript framework, and relative links only, so the
//! pages also work behind a proxy that serves Sightline under a path.

use crate::prometheus::{evaluate_instant, push_float};
use crate::ApiState;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sightline_promql::Value;
use std::fmt::Write;

/// The pages, over the same state as the API.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/graph", get(graph))
        .route("/alerts", get(alerts))
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;max-width:70em}\
nav a{margin-right:1em}table{border-collapse:collapse;margin-top:1em}\
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
.error{color:#a00;white-space:pre-wrap}.firing{color:#a00}.pending{color:#a60}\
code,pre{background:#f4f4f4}input[type=text]{width:40em}";

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{t} - Sightline</title><style>{STYLE}</style></head><body>\n\
         <nav><a href=\"./\">Sightline</a><a href=\"graph\">Query</a><a href=\"alerts\">Alerts</a>\
         <a href=\"api/v1/targets\">Targets</a><a href=\"api/v1/rules\">Rules</a>\
         <a href=\"metrics\">Metrics</a></nav>\n<h1>{t}</h1>\n{body}\n</body></html>\n",
        t = esc(title)
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

/// The decoded value of query parameter `name` (`+` is a space, as in
/// Prometheus's links).
fn param(raw: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(raw?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

use sightline_core::time::now_ms;

fn float(v: f64) -> String {
    let mut s = String::new();
    push_float(&mut s, v);
    s
}

async fn graph(State(state): State<ApiState>, RawQuery(raw): RawQuery) -> Response {
    let expr = param(raw.as_deref(), "g0.expr")
        .or_else(|| param(raw.as_deref(), "expr"))
        .unwrap_or_default();
    let mut body = format!(
        "<form method=\"get\" action=\"graph\"><input type=\"text\" name=\"g0.expr\" value=\"{}\" \
         placeholder=\"expression, e.g. up\"> <input type=\"hidden\" name=\"g0.tab\" value=\"1\">\
         <button type=\"submit\">Evaluate</button></form>\n",
        esc(&expr)
    );
    if expr.trim().is_empty() {
        return page(StatusCode::OK, "Query", &body);
    }
    let at = now_ms();
    match evaluate_instant(&state, expr.clone(), at).await {
        Err(e) => {
            let _ = write!(body, "<p class=\"error\">Error: {}</p>", esc(&e));
            page(StatusCode::BAD_REQUEST, "Query", &body)
        }
        Ok(r) => {
            let _ = writeln!(
                body,
                "<p>Evaluated at {} (Unix seconds) as an instant query; \
                 <a href=\"api/v1/query?query={}\">as JSON</a>; \
                 <a href=\"./#/explore?expr={}&amp;from=now-1h&amp;to=now\">as a graph in the web UI</a>.</p>",
                float(at as f64 / 1000.0),
                query_escape(&expr),
                query_escape(&expr)
            );
            for w in r.warnings.iter().chain(&r.infos) {
                let _ = writeln!(body, "<p class=\"error\">{}</p>", esc(w));
            }
            body.push_str(&result_table(&r.value));
            page(StatusCode::OK, "Query", &body)
        }
    }
}

/// Encodes a query parameter value.
fn query_escape(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn result_table(v: &Value) -> String {
    let mut out = String::from("<table>\n<tr><th>Element</th><th>Value</th></tr>\n");
    match v {
        Value::Scalar(_, x) => {
            let _ = writeln!(out, "<tr><td>scalar</td><td>{}</td></tr>", float(*x));
        }
        Value::String(_, s) => {
            let _ = writeln!(out, "<tr><td>string</td><td>{}</td></tr>", esc(s));
        }
        Value::Vector(samples) => {
            if samples.is_empty() {
                out.push_str("<tr><td colspan=\"2\">Empty query result</td></tr>\n");
            }
            for s in samples {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    esc(&s.labels.to_string()),
                    float(s.v)
                );
            }
        }
        Value::Matrix(series) => {
            if series.is_empty() {
                out.push_str("<tr><td colspan=\"2\">Empty query result</td></tr>\n");
            }
            for s in series {
                let points: Vec<String> = s
                    .points
                    .iter()
                    .map(|p| format!("{} @{}", float(p.v), float(p.t as f64 / 1000.0)))
                    .collect();
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    esc(&s.labels.to_string()),
                    points.join("<br>")
                );
            }
        }
    }
    out.push_str("</table>");
    out
}

async fn alerts(State(state): State<ApiState>, RawQuery(raw): RawQuery) -> Response {
    let data = state.rules.alerts();
    let mut list: Vec<serde_json::Value> = data["alerts"].as_array().cloned().unwrap_or_default();
    // Firing first, then pending; by name within each.
    list.sort_by_key(|a| {
        (
            a["state"] != "firing",
            a["labels"]["alertname"].as_str().unwrap_or("").to_owned(),
        )
    });
    let mut body = String::new();
    if raw.as_deref().is_some_and(|q| !q.is_empty()) {
        // Alertmanager's links carry its own filters (receiver, silenced);
        // this page lists the rules' alerts without them.
        body.push_str(
            "<p>This page lists the alerts of Sightline's alerting rules; the filters of \
             Alertmanager's link are not applied. Alertmanager's own view of alerts is \
             <a href=\"api/v2/alerts\">api/v2/alerts</a> (JSON).</p>\n",
        );
    }
    let count = |s: &str| list.iter().filter(|a| a["state"] == s).count();
    let _ = writeln!(
        body,
        "<p>{} firing, {} pending.</p>",
        count("firing"),
        count("pending")
    );
    if list.is_empty() {
        body.push_str("<p>No alerts are firing or pending.</p>");
        return page(StatusCode::OK, "Alerts", &body);
    }
    body.push_str(
        "<table>\n<tr><th>Alert</th><th>State</th><th>Labels</th><th>Annotations</th>\
         <th>Active since</th><th>Value</th></tr>\n",
    );
    let pairs = |v: &serde_json::Value| -> String {
        v.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{}={}", esc(k), esc(v.as_str().unwrap_or(""))))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    for a in &list {
        let name = a["labels"]["alertname"].as_str().unwrap_or("");
        let state = a["state"].as_str().unwrap_or("");
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            esc(state),
            esc(state),
            pairs(&a["labels"]),
            pairs(&a["annotations"]),
            esc(a["activeAt"].as_str().unwrap_or("")),
            esc(a["value"].as_str().unwrap_or(""))
        );
    }
    body.push_str("</table>");
    page(StatusCode::OK, "Alerts", &body)
}
