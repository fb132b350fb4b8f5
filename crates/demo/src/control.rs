//! The control server: faults by hand (`GET /faults`, `PUT /faults/{service}`),
//! Alertmanager's webhook (`POST /webhook`, the last ones at `GET /webhook`)
//! and a small status page (`GET /`).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::{Fault, FaultController, ServiceInfo};

/// How many webhook notifications `GET /webhook` keeps.
const KEEP_NOTIFICATIONS: usize = 100;

pub(crate) struct Control {
    faults: FaultController,
    services: Vec<ServiceInfo>,
    alerts_log: PathBuf,
    /// Newest first.
    notifications: Mutex<VecDeque<Value>>,
}

impl Control {
    pub(crate) fn new(
        faults: FaultController,
        services: Vec<ServiceInfo>,
        alerts_log: PathBuf,
    ) -> Arc<Self> {
        Arc::new(Control {
            faults,
            services,
            alerts_log,
            notifications: Mutex::new(VecDeque::new()),
        })
    }

    fn faults_json(&self) -> Value {
        let mut m = Map::new();
        for (name, f) in self.faults.get() {
            m.insert(name, serde_json::to_value(f).unwrap_or(Value::Null));
        }
        Value::Object(m)
    }
}

type Ctl = State<Arc<Control>>;

pub(crate) fn router(c: Arc<Control>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/faults", get(get_faults))
        .route("/faults/{service}", put(put_fault))
        .route("/webhook", get(get_webhook).post(post_webhook))
        .with_state(c)
}

fn bad_request(msg: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        msg + "\n",
    )
        .into_response()
}

async fn get_faults(State(c): Ctl) -> Json<Value> {
    Json(c.faults_json())
}

/// `PUT /faults/{service}` with `errors 30%`, `slow 800ms`, `down` or `none`.
async fn put_fault(State(c): Ctl, Path(service): Path<String>, body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return bad_request("the body must be UTF-8 text such as `errors 30%`".into());
    };
    let fault: Fault = match text.parse() {
        Ok(f) => f,
        Err(e) => return bad_request(e.to_string()),
    };
    match c.faults.set(&service, fault) {
        Ok(()) => Json(c.faults_json()).into_response(),
        Err(e) => bad_request(e.to_string()),
    }
}

async fn get_webhook(State(c): Ctl) -> Json<Value> {
    let n = c.notifications.lock().unwrap_or_else(|e| e.into_inner());
    Json(Value::Array(n.iter().cloned().collect()))
}

/// Alertmanager's webhook payload (version 4): kept, and one log line per alert.
async fn post_webhook(State(c): Ctl, body: Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(format!("the body is not JSON: {e}")),
    };
    let Some(alerts) = v.get("alerts").and_then(Value::as_array) else {
        return bad_request("not an Alertmanager webhook payload: no \"alerts\" array".into());
    };
    if let Some(version) = v.get("version").and_then(Value::as_str) {
        if version != "4" {
            return bad_request(format!(
                "webhook payload version {version:?}, expected \"4\""
            ));
        }
    }
    let now = sightline_core::time::rfc3339_millis(&sightline_core::time::now());
    let mut lines = Vec::new();
    for a in alerts {
        let status = a.get("status").and_then(Value::as_str).unwrap_or("firing");
        let labels = a.get("labels").cloned().unwrap_or(Value::Null);
        let name = labels
            .get("alertname")
            .and_then(Value::as_str)
            .unwrap_or("");
        let summary = a
            .pointer("/annotations/summary")
            .and_then(Value::as_str)
            .unwrap_or("");
        let line = json!({
            "ts": now,
            "level": if status == "resolved" { "info" } else { "warn" },
            "service": "alertmanager",
            "msg": format!("[{}] {name}: {summary}", status.to_ascii_uppercase()),
            "alertname": name,
            "status": status,
            "receiver": v.get("receiver"),
            "labels": labels,
            "annotations": a.get("annotations"),
            "starts_at": a.get("startsAt"),
            "ends_at": a.get("endsAt"),
        });
        lines.extend(serde_json::to_vec(&line).unwrap_or_default());
        lines.push(b'\n');
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&c.alerts_log)
        .and_then(|mut f| f.write_all(&lines));
    {
        let mut n = c.notifications.lock().unwrap_or_else(|e| e.into_inner());
        n.push_front(v);
        n.truncate(KEEP_NOTIFICATIONS);
    }
    match written {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "kept the notification but cannot write {}: {e}\n",
                c.alerts_log.display()
            ),
        )
            .into_response(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn index(State(c): Ctl) -> Response {
    let mut h = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sightline demo shop</title></head><body>\
         <h1>Sightline demo shop</h1><h2>Services</h2><table border=\"1\" cellpadding=\"4\">\
         <tr><th>service</th><th>address</th><th>fault</th></tr>",
    );
    let faults = c.faults.get();
    for (s, (_, f)) in c.services.iter().zip(&faults) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td><a href=\"http://{1}/metrics\">{1}</a></td><td>{2}</td></tr>",
            s.name,
            s.addr,
            escape(&f.to_string())
        );
    }
    h.push_str(
        "</table><p>Set a fault: <code>curl -X PUT --data 'errors 30%' http://HOST/faults/checkout</code> \
         (or <code>slow 800ms</code>, <code>down</code>, <code>none</code>).</p><h2>Last notifications</h2><ul>",
    );
    let n = c.notifications.lock().unwrap_or_else(|e| e.into_inner());
    for v in n.iter().take(20) {
        for a in v
            .get("alerts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let _ = write!(
                h,
                "<li>{} <b>{}</b> {} {}</li>",
                escape(a.get("startsAt").and_then(Value::as_str).unwrap_or("")),
                escape(
                    a.pointer("/labels/alertname")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                ),
                escape(a.get("status").and_then(Value::as_str).unwrap_or("")),
                escape(
                    a.pointer("/annotations/summary")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                ),
            );
        }
    }
    if n.is_empty() {
        h.push_str("<li>none yet</li>");
    }
    h.push_str("</ul></body></html>\n");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], h).into_response()
}
