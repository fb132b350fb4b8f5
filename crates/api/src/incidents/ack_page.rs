//! The page behind the acknowledge link of a notification: GET shows
//! what will be acknowledged and a button, POST acknowledges and
//! confirms. Both answer small HTML pages with every value escaped.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sightline_alertmanager::manager::Alertmanager;

fn escape(s: &str) -> String {
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
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <style>body{{font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em}}\
         button{{font-size:1.1em;padding:.4em 1.2em}}</style></head>\
         <body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The page runs no script and embeds nothing.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// The incident id of a valid token, or the page saying why not.
fn check(am: &Alertmanager, token: &str) -> Result<u64, Response> {
    let Some(inc) = am.incidents() else {
        return Err(page(StatusCode::NOT_FOUND, "Incidents are not enabled", ""));
    };
    inc.verify_token(token, am.now()).map_err(|e| {
        page(
            StatusCode::FORBIDDEN,
            "This acknowledge link does not work",
            &format!(
                "<p>{}.</p><p>Open the incident in Sightline to acknowledge it.</p>",
                escape(&e.to_string())
            ),
        )
    })
}

pub(super) async fn confirm(
    State(am): State<Arc<Alertmanager>>,
    Path(token): Path<String>,
) -> Response {
    let id = match check(&am, &token) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let Some(inc) = am.incidents() else {
        return page(StatusCode::NOT_FOUND, "Incidents are not enabled", "");
    };
    let i = match inc.get(id) {
        Ok(i) => i,
        Err(e) => {
            return page(
                StatusCode::NOT_FOUND,
                "Incident not found",
                &escape(&e.to_string()),
            )
        }
    };
    let title = format!("Incident {id}: {}", i.ticket.name);
    let link = inc.incident_url(id);
    let body = format!(
        "<p>{subject}</p><p>Status: <b>{status}</b></p>\
         <form method=\"post\"><label>Your name <input name=\"by\" autocomplete=\"name\"></label> \
         <button type=\"submit\">Acknowledge</button></form>\
         <p><a href=\"{link}\">Open the incident</a></p>",
        subject = escape(&i.ticket.subject),
        status = i.status.as_str(),
        link = escape(&link),
    );
    page(StatusCode::OK, &title, &body)
}

pub(super) async fn acknowledge(
    State(am): State<Arc<Alertmanager>>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let id = match check(&am, &token) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let Some(inc) = am.incidents() else {
        return page(StatusCode::NOT_FOUND, "Incidents are not enabled", "");
    };
    let by = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "by")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "acknowledge link".to_string());
    match inc.acknowledge(id, Some(&by), am.now()) {
        Ok(i) => page(
            StatusCode::OK,
            &format!("Incident {id} acknowledged"),
            &format!(
                "<p>{} acknowledged by {}.</p><p><a href=\"{}\">Open the incident</a></p>",
                escape(&i.ticket.name),
                escape(i.acknowledged_by.as_deref().unwrap_or("")),
                escape(&inc.incident_url(id)),
            ),
        ),
        Err(e) => page(
            StatusCode::CONFLICT,
            &format!("Incident {id} was not acknowledged"),
            &format!("<p>{}.</p>", escape(&e.to_string())),
        ),
    }
}
