//! Incidents over HTTP (`docs/incidents.md`):
//!
//! - `GET /api/v1/incidents` (`status`, `severity`, `since`, `until`),
//!   `POST /api/v1/incidents` (declare)
//! - `GET|PATCH /api/v1/incidents/{id}`, `GET /api/v1/incidents/{id}/ticket.md`
//! - `POST /api/v1/incidents/{id}/acknowledge`, `.../resolve`, `.../comments`
//! - `GET|POST /api/v1/incidents/ack/{token}`: the signed link sent in
//!   notifications. GET answers a page with a button and POST
//!   acknowledges, because chat tools fetch every link they are shown
//!   (link previews), which would acknowledge on a GET.
//!
//! Answers use the Prometheus envelope like Sightline's other `/api/v1`
//! endpoints; errors name the field, with 400, 404 or 409.

// Helpers return the finished error response, as the tempo and jaeger
// modules do: it is built once, on the rare failing path.
#![allow(clippy::result_large_err)]

mod ack_page;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use sightline_alertmanager::incident::{
    Declaration, Incident, IncidentFilter, Incidents, Patch, Status,
};
use sightline_alertmanager::manager::Alertmanager;
use sightline_alertmanager::Error;
use sightline_core::time;

use crate::prometheus::{api_error, api_success};
use sightline_core::ErrorKind;

/// The incident routes over `am` (which must run with incidents on).
pub fn routes(am: Arc<Alertmanager>) -> Router {
    Router::new()
        .route("/api/v1/incidents", get(list).post(declare))
        .route("/api/v1/incidents/{id}", get(show).patch(patch))
        .route("/api/v1/incidents/{id}/ticket.md", get(ticket))
        .route("/api/v1/incidents/{id}/acknowledge", post(acknowledge))
        .route("/api/v1/incidents/{id}/resolve", post(resolve))
        .route("/api/v1/incidents/{id}/comments", post(comment))
        .route(
            "/api/v1/incidents/ack/{token}",
            get(ack_page::confirm).post(ack_page::acknowledge),
        )
        .route_layer(axum::middleware::from_fn(
            crate::tenant::default_tenant_only,
        ))
        .with_state(am)
}

/// The error envelope for the crate error `e`.
fn am_error(e: Error) -> Response {
    let (status, kind) = match &e {
        Error::BadInput(_) | Error::Config(_) | Error::Template(_) => {
            return api_error(ErrorKind::BadData, &e.to_string())
        }
        Error::NotFound(_) => return api_error(ErrorKind::NotFound, &e.to_string()),
        Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        _ => return api_error(ErrorKind::Internal, &e.to_string()),
    };
    let body = serde_json::json!({"status": "error", "errorType": kind, "error": e.to_string()});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn bad(msg: &str) -> Response {
    api_error(ErrorKind::BadData, msg)
}

fn success<T: serde::Serialize>(v: &T) -> Response {
    match serde_json::to_value(v) {
        Ok(v) => api_success(v),
        Err(e) => api_error(ErrorKind::Internal, &e.to_string()),
    }
}

fn parse_id(id: &str) -> Result<u64, Response> {
    id.parse()
        .map_err(|_| bad(&format!("invalid incident id {id:?}: expected a number")))
}

/// A JSON body, or `T::default()` for an empty one.
fn body<T: for<'de> Deserialize<'de> + Default>(b: &Bytes) -> Result<T, Response> {
    if b.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(b).map_err(|e| bad(&format!("parsing body: {e}")))
}

fn parse_time(key: &str, v: &str) -> Result<time::UtcTime, Response> {
    if let Ok(t) = time::parse_rfc3339(v) {
        return Ok(t);
    }
    v.parse::<f64>()
        .ok()
        .and_then(|s| time::from_ms((s * 1000.0) as i64))
        .ok_or_else(|| {
            bad(&format!(
                "invalid parameter {key:?}: cannot parse {v:?} to a valid timestamp"
            ))
        })
}

fn incidents(
    am: &Alertmanager,
) -> Result<&Arc<sightline_alertmanager::incident::Incidents>, Response> {
    am.incidents()
        .ok_or_else(|| api_error(ErrorKind::NotFound, "incidents are not enabled"))
}

async fn list(State(am): State<Arc<Alertmanager>>, RawQuery(q): RawQuery) -> Response {
    let inc = match incidents(&am) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let mut f = IncidentFilter::default();
    for (k, v) in form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned() {
        let r = match k.as_str() {
            "status" => match Status::parse(&v) {
                Some(s) => {
                    f.status = Some(s);
                    Ok(())
                }
                None => Err(bad(&format!(
                    "invalid parameter \"status\": {v:?} is not one of open, acknowledged, resolved"
                ))),
            },
            "severity" => {
                f.severity = Some(v);
                Ok(())
            }
            "since" => parse_time(&k, &v).map(|t| f.since = Some(t)),
            "until" => parse_time(&k, &v).map(|t| f.until = Some(t)),
            _ => Ok(()),
        };
        if let Err(r) = r {
            return r;
        }
    }
    success(&inc.list(&f))
}

async fn declare(State(am): State<Arc<Alertmanager>>, b: Bytes) -> Response {
    let inc = match incidents(&am) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let d: Declaration = match serde_json::from_slice(&b) {
        Ok(d) => d,
        Err(e) => return bad(&format!("parsing body: {e}")),
    };
    match inc.declare(d, am.now()) {
        Ok(i) => {
            let mut r = success(&i);
            *r.status_mut() = StatusCode::CREATED;
            r
        }
        Err(e) => am_error(e),
    }
}

async fn show(State(am): State<Arc<Alertmanager>>, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match am.incident_view(id) {
        Ok(v) => success(&v),
        Err(e) => am_error(e),
    }
}

async fn ticket(State(am): State<Arc<Alertmanager>>, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match am.incident_view(id) {
        Ok(v) => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            sightline_alertmanager::incident::ticket::markdown(&v, am.external_url()),
        )
            .into_response(),
        Err(e) => am_error(e),
    }
}

async fn patch(State(am): State<Arc<Alertmanager>>, Path(id): Path<String>, b: Bytes) -> Response {
    let (inc, id) = match incidents(&am).and_then(|i| Ok((i, parse_id(&id)?))) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let p: Patch = match body(&b) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match inc.patch(id, p, am.now()) {
        Ok(i) => success(&i),
        Err(e) => am_error(e),
    }
}

/// `{"by": "who"}`, optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Actor {
    by: Option<String>,
}

async fn acknowledge(
    State(am): State<Arc<Alertmanager>>,
    Path(id): Path<String>,
    b: Bytes,
) -> Response {
    change_status(&am, &id, &b, |i, id, by| i.acknowledge(id, by, am.now()))
}

async fn resolve(
    State(am): State<Arc<Alertmanager>>,
    Path(id): Path<String>,
    b: Bytes,
) -> Response {
    change_status(&am, &id, &b, |i, id, by| i.resolve(id, by, am.now()))
}

/// Acknowledge and resolve: the same request (`{"by": "who"}`, optional),
/// a different step of the incident.
fn change_status(
    am: &Alertmanager,
    id: &str,
    b: &Bytes,
    step: impl FnOnce(&Incidents, u64, Option<&str>) -> sightline_alertmanager::Result<Incident>,
) -> Response {
    let (inc, id) = match incidents(am).and_then(|i| Ok((i, parse_id(id)?))) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let a: Actor = match body(b) {
        Ok(a) => a,
        Err(r) => return r,
    };
    match step(inc, id, a.by.as_deref()) {
        Ok(i) => success(&i),
        Err(e) => am_error(e),
    }
}

/// `{"text": "...", "by": "who"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Comment {
    #[serde(default)]
    text: String,
    by: Option<String>,
}

async fn comment(
    State(am): State<Arc<Alertmanager>>,
    Path(id): Path<String>,
    b: Bytes,
) -> Response {
    let (inc, id) = match incidents(&am).and_then(|i| Ok((i, parse_id(&id)?))) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let c: Comment = match body(&b) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match inc.comment(id, c.by.as_deref(), &c.text, am.now()) {
        Ok(i) => {
            let mut r = success(&i);
            *r.status_mut() = StatusCode::CREATED;
            r
        }
        Err(e) => am_error(e),
    }
}
