//! Alertmanager's API v2 over Sightline's built-in Alertmanager, so that
//! `amtool`, Grafana's Alertmanager data source and Prometheus itself talk
//! to it unchanged:
//!
//! - `GET|POST /api/v2/alerts`, `GET /api/v2/alerts/groups`
//! - `GET|POST /api/v2/silences`, `GET|DELETE /api/v2/silence/{id}`
//! - `GET /api/v2/status`, `GET /api/v2/receivers`
//!
//! plus the notification history, which Alertmanager does not keep:
//! `GET /api/v1/notifications`, and the configured inhibit rules as JSON
//! for the web UI: `GET /api/v1/inhibit_rules` (Alertmanager's UI shows
//! them only inside the YAML of `/api/v2/status`).
//!
//! Errors answer as Alertmanager's do: a JSON string with the reason, 400
//! for bad input, 404 for an unknown silence.

mod history;
#[cfg(test)]
mod tests;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sightline_alertmanager::config::Config;
use sightline_alertmanager::manager::Alertmanager;
use sightline_alertmanager::manager::{AlertFilter, PostableAlert, SilenceInput};
use sightline_alertmanager::matcher::{parse_matcher, Matcher};
use sightline_alertmanager::Error;
use std::sync::Arc;

/// The API v2 routes (and the history) over `am`.
pub fn routes(am: Arc<Alertmanager>) -> Router {
    Router::new()
        .route("/api/v2/alerts", get(get_alerts).post(post_alerts))
        .route("/api/v2/alerts/groups", get(get_groups))
        .route("/api/v2/silences", get(get_silences).post(post_silence))
        .route(
            "/api/v2/silence/{id}",
            get(get_silence).delete(delete_silence),
        )
        .route("/api/v2/status", get(get_status))
        .route("/api/v2/receivers", get(get_receivers))
        .route("/api/v1/notifications", get(history::notifications))
        .route("/api/v1/inhibit_rules", get(get_inhibit_rules))
        .route_layer(axum::middleware::from_fn(
            crate::tenant::default_tenant_only,
        ))
        .with_state(am)
}

fn json<T: serde::Serialize>(status: StatusCode, v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// Alertmanager's error body: the message as a JSON string.
fn error(status: StatusCode, message: &str) -> Response {
    json_string(status, message)
}

fn json_string(status: StatusCode, message: &str) -> Response {
    let body = serde_json::to_vec(message).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn am_error(e: Error) -> Response {
    let status = match e {
        Error::BadInput(_) | Error::Config(_) | Error::Template(_) => StatusCode::BAD_REQUEST,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, &e.to_string())
}

/// The query string's pairs, keys repeated as given.
fn pairs(raw: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn parse_bool(key: &str, v: &str) -> Result<bool, String> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(format!("{key} in query must be of type boolean: {v:?}")),
    }
}

/// `filter=` matchers (each one matcher in Alertmanager's syntax).
fn filter_matchers(pairs: &[(String, String)]) -> Result<Vec<Matcher>, String> {
    pairs
        .iter()
        .filter(|(k, _)| k == "filter")
        .map(|(_, v)| parse_matcher(v).map_err(|e| e.to_string()))
        .collect()
}

/// The alert filter of a query string; `Err` is the 400's message.
fn alert_filter(raw: Option<String>) -> Result<AlertFilter, String> {
    let pairs = pairs(raw);
    let mut f = AlertFilter {
        matchers: filter_matchers(&pairs)?,
        ..AlertFilter::default()
    };
    for (k, v) in &pairs {
        match k.as_str() {
            "active" => f.active = parse_bool(k, v)?,
            "silenced" => f.silenced = parse_bool(k, v)?,
            "inhibited" => f.inhibited = parse_bool(k, v)?,
            "unprocessed" => f.unprocessed = parse_bool(k, v)?,
            "receiver" => f.receiver = Some(v.clone()),
            _ => {}
        }
    }
    Ok(f)
}

async fn get_alerts(State(am): State<Arc<Alertmanager>>, RawQuery(q): RawQuery) -> Response {
    let f = match alert_filter(q) {
        Ok(f) => f,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    match am.alerts(&f) {
        Ok(v) => json(StatusCode::OK, &v),
        Err(e) => am_error(e),
    }
}

async fn post_alerts(State(am): State<Arc<Alertmanager>>, body: Bytes) -> Response {
    let alerts: Vec<PostableAlert> = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("parsing alerts: {e}")),
    };
    match am.put_alerts(alerts) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => am_error(e),
    }
}

async fn get_groups(State(am): State<Arc<Alertmanager>>, RawQuery(q): RawQuery) -> Response {
    let f = match alert_filter(q) {
        Ok(f) => f,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    match am.alert_groups(&f) {
        Ok(v) => json(StatusCode::OK, &v),
        Err(e) => am_error(e),
    }
}

async fn get_silences(State(am): State<Arc<Alertmanager>>, RawQuery(q): RawQuery) -> Response {
    match filter_matchers(&pairs(q)) {
        Ok(m) => json(StatusCode::OK, &am.silences(&m)),
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn post_silence(State(am): State<Arc<Alertmanager>>, body: Bytes) -> Response {
    let input: SilenceInput = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("parsing silence: {e}")),
    };
    match am.put_silence(input) {
        Ok(id) => json(StatusCode::OK, &serde_json::json!({ "silenceID": id })),
        Err(e) => am_error(e),
    }
}

async fn get_silence(State(am): State<Arc<Alertmanager>>, Path(id): Path<String>) -> Response {
    match am.get_silence(&id) {
        Ok(s) => json(StatusCode::OK, &s),
        Err(Error::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => am_error(e),
    }
}

async fn delete_silence(State(am): State<Arc<Alertmanager>>, Path(id): Path<String>) -> Response {
    match am.expire_silence(&id) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(Error::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => am_error(e),
    }
}

async fn get_status(State(am): State<Arc<Alertmanager>>) -> Response {
    json(StatusCode::OK, &am.status())
}

async fn get_receivers(State(am): State<Arc<Alertmanager>>) -> Response {
    let v: Vec<serde_json::Value> = am
        .receivers()
        .into_iter()
        .map(|name| serde_json::json!({ "name": name }))
        .collect();
    json(StatusCode::OK, &v)
}

/// The running config's inhibit rules, matchers in Alertmanager's syntax
/// (legacy `source_match`/`_re` converted), in file order.
async fn get_inhibit_rules(State(am): State<Arc<Alertmanager>>) -> Response {
    // The running config is kept as text; it loaded once, so it parses.
    let text = am.status().config.original;
    let cfg = match Config::load_str(&text, "alertmanager config") {
        Ok(c) => c,
        Err(e) => return am_error(e),
    };
    let strings = |ms: &[Matcher]| ms.iter().map(|m| m.to_string()).collect::<Vec<_>>();
    let rules: Vec<serde_json::Value> = cfg
        .inhibit_rules
        .iter()
        .map(|r| {
            serde_json::json!({
                "sourceMatchers": strings(&r.all_source_matchers()),
                "targetMatchers": strings(&r.all_target_matchers()),
                "equal": r.equal,
            })
        })
        .collect();
    crate::prometheus::api_success(serde_json::Value::Array(rules))
}
