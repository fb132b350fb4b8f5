//! The intake's routes: Segment's tracking endpoints, `POST /v1/events`,
//! CORS for browsers, and the snippet `GET /v1/analytics.js`.
//!
//! Answers are Segment's: 200 `{"success": true}`; 400 with
//! `{"success": false, "code": "invalid_request", "message": ...}` naming
//! the message and field; 401 `code: "unauthorized"` for a write key no
//! source has. The write key is the HTTP Basic username (Segment's
//! libraries), else `writeKey` in the body (browsers' `sendBeacon`, which
//! sets no header), else `?writeKey=` in the URL.
//!
//! The work (decompressing, parsing, scrubbing, the WAL append) runs off
//! the async workers.

use super::parse::{self, Defaults, FieldError};
use super::Intake;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sightline_eventstore::model::{Event, EventKind};
use std::borrow::Cow;
use std::io::Read;
use std::sync::Arc;

/// The largest body read off the wire (compressed or not); the limits
/// proper ([`super::IntakeLimits`]) are checked on the decompressed JSON,
/// with Segment's message.
const MAX_WIRE_BYTES: usize = 16 << 20;

/// The browser snippet.
pub const ANALYTICS_JS: &str = include_str!("analytics.js");

/// Which shape an endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// One message of this type (`/v1/track`, ...).
    Single(EventKind),
    /// `{"batch": [...]}` (`/v1/batch`, `/v1/import`).
    Batch,
    /// One message, `{"batch": [...]}` or an array (`/v1/events`).
    Events,
}

/// The intake's routes over `intake`; merge into the main router.
pub fn routes(intake: Arc<Intake>) -> Router {
    let ep = |e: Endpoint| -> MethodRouter<Arc<Intake>> {
        post(
            move |State(s): State<Arc<Intake>>, headers: HeaderMap, uri: Uri, body: Bytes| {
                handle(s, headers, uri, body, e)
            },
        )
        .options(preflight)
    };
    Router::new()
        .route("/v1/track", ep(Endpoint::Single(EventKind::Track)))
        .route("/v1/identify", ep(Endpoint::Single(EventKind::Identify)))
        .route("/v1/page", ep(Endpoint::Single(EventKind::Page)))
        .route("/v1/screen", ep(Endpoint::Single(EventKind::Screen)))
        .route("/v1/group", ep(Endpoint::Single(EventKind::Group)))
        .route("/v1/alias", ep(Endpoint::Single(EventKind::Alias)))
        .route("/v1/batch", ep(Endpoint::Batch))
        .route("/v1/import", ep(Endpoint::Batch))
        .route("/v1/events", ep(Endpoint::Events))
        .route("/v1/analytics.js", get(snippet))
        .layer(DefaultBodyLimit::max(MAX_WIRE_BYTES))
        .layer(axum::middleware::map_response(allow_origin))
        .with_state(intake)
}

/// Any page may post events: they carry a write key, not a cookie, so
/// `*` is safe (no credentials are ever sent).
async fn allow_origin(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

async fn preflight(headers: HeaderMap) -> Response {
    let allow = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or(HeaderValue::from_static(
            "Content-Type, Content-Encoding, Authorization",
        ));
    (
        StatusCode::NO_CONTENT,
        [
            (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST, OPTIONS"),
            ),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, allow),
            (
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            ),
        ],
    )
        .into_response()
}

async fn snippet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        ANALYTICS_JS,
    )
        .into_response()
}

/// Why a request was refused.
#[derive(Debug)]
enum Refusal {
    /// 400, Segment's `invalid_request`.
    Bad(String),
    /// 401: no source has the write key.
    Unauthorized(String),
    /// The store failed (status from its error kind).
    Store(u16, String),
}

impl From<FieldError> for Refusal {
    fn from(e: FieldError) -> Self {
        Refusal::Bad(e.to_string())
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn handle(
    intake: Arc<Intake>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
    ep: Endpoint,
) -> Response {
    let now_ms = sightline_core::time::now_ms();
    let task = intake.clone();
    let out =
        tokio::task::spawn_blocking(move || take(&task, &headers, uri.query(), &body, ep, now_ms))
            .await;
    match out {
        Ok(Ok(())) => answer(StatusCode::OK, serde_json::json!({"success": true})),
        Ok(Err(Refusal::Bad(m))) => {
            intake.counts.refused();
            answer(
                StatusCode::BAD_REQUEST,
                serde_json::json!({"success": false, "code": "invalid_request", "message": m}),
            )
        }
        Ok(Err(Refusal::Unauthorized(m))) => {
            intake.counts.unauthorized();
            answer(
                StatusCode::UNAUTHORIZED,
                serde_json::json!({"success": false, "code": "unauthorized", "message": m}),
            )
        }
        Ok(Err(Refusal::Store(status, m))) => answer(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            serde_json::json!({"success": false, "code": "server_error", "message": m}),
        ),
        Err(e) => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"success": false, "code": "server_error", "message": format!("intake task failed: {e}")}),
        ),
    }
}

/// The body as JSON text: gunzipped when the client says so, refused past
/// `limit` bytes either way.
fn decode<'a>(headers: &HeaderMap, body: &'a [u8], limit: usize) -> Result<Cow<'a, [u8]>, Refusal> {
    let over = |n: usize| {
        Refusal::Bad(format!(
            "body: {n} bytes is over the limit of {limit} bytes (Segment's limits: 32 KB per message, 500 KB per batch)"
        ))
    };
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let text: Cow<[u8]> = match encoding.as_str() {
        "" | "identity" => Cow::Borrowed(body),
        "gzip" | "x-gzip" => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(body)
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| Refusal::Bad(format!("body: not valid gzip: {e}")))?;
            Cow::Owned(out)
        }
        other => {
            return Err(Refusal::Bad(format!(
                "Content-Encoding: {other:?} is not supported (gzip or none)"
            )))
        }
    };
    if text.len() > limit {
        return Err(over(text.len()));
    }
    Ok(text)
}

fn bad_json(e: serde_json::Error) -> Refusal {
    Refusal::Bad(format!("body: invalid JSON: {e}"))
}

/// `{"batch": [...], ...}` as Segment's libraries send it.
#[derive(Deserialize)]
struct BatchBody<'a> {
    #[serde(borrow, default)]
    batch: Option<Vec<&'a RawValue>>,
    #[serde(rename = "writeKey", default)]
    write_key: Option<String>,
    #[serde(rename = "sentAt", default)]
    sent_at: Option<Value>,
    #[serde(default)]
    context: Option<Map<String, Value>>,
}

/// The write key of a `Basic` authorization header: its user name.
fn basic_user(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let user = text.split_once(':').map_or(text.as_str(), |(u, _)| u);
    (!user.is_empty()).then(|| user.to_owned())
}

fn query_key(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "writeKey")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

fn as_object(v: Value, prefix: &str) -> Result<Map<String, Value>, Refusal> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(Refusal::Bad(format!(
            "{}: a message must be a JSON object",
            if prefix.is_empty() { "body" } else { prefix }
        ))),
    }
}

/// Parses, checks, scrubs and stores one request.
fn take(
    intake: &Intake,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
    ep: Endpoint,
    now_ms: i64,
) -> Result<(), Refusal> {
    let limits = &intake.limits;
    let limit = match ep {
        Endpoint::Single(_) => limits.max_message_bytes,
        _ => limits.max_batch_bytes,
    };
    let text = decode(headers, body, limit)?;
    let first = text.iter().find(|c| !c.is_ascii_whitespace()).copied();
    // (message, its place) pairs, and the batch's own fields.
    let mut singles: Vec<Map<String, Value>> = Vec::new();
    let mut raws: Vec<&RawValue> = Vec::new();
    let mut body_key = None;
    let mut sent_at = None;
    let mut context = None;
    match (ep, first) {
        (_, None) => return Err(Refusal::Bad("body: empty".into())),
        (Endpoint::Events, Some(b'[')) => {
            raws = serde_json::from_slice(&text).map_err(bad_json)?;
        }
        (Endpoint::Batch | Endpoint::Events, Some(b'{')) => {
            let b: BatchBody = serde_json::from_slice(&text).map_err(bad_json)?;
            match b.batch {
                Some(r) => {
                    raws = r;
                    body_key = b.write_key;
                    sent_at = parse::time_field(b.sent_at.as_ref(), "sentAt")?;
                    context = b.context;
                }
                None if ep == Endpoint::Batch => {
                    return Err(Refusal::Bad("batch: missing (the list of messages)".into()))
                }
                None => {
                    let v: Value = serde_json::from_slice(&text).map_err(bad_json)?;
                    singles.push(as_object(v, "")?);
                }
            }
        }
        (Endpoint::Single(_), Some(_)) => {
            let v: Value = serde_json::from_slice(&text).map_err(bad_json)?;
            singles.push(as_object(v, "")?);
        }
        (_, Some(_)) => {
            // Not an object or array: let the parser word the error.
            let v: Value = serde_json::from_slice(&text).map_err(bad_json)?;
            as_object(v, "")?;
        }
    }
    for (i, r) in raws.iter().enumerate() {
        let n = r.get().len();
        if n > limits.max_message_bytes {
            return Err(Refusal::Bad(format!(
                "batch[{i}]: the message is {n} bytes; the limit is {} bytes per message",
                limits.max_message_bytes
            )));
        }
    }
    let mut messages: Vec<(Map<String, Value>, String)> =
        singles.into_iter().map(|m| (m, String::new())).collect();
    for (i, r) in raws.iter().enumerate() {
        let prefix = format!("batch[{i}]");
        let v: Value = serde_json::from_str(r.get()).map_err(bad_json)?;
        messages.push((as_object(v, &prefix)?, prefix));
    }
    if body_key.is_none() && messages.len() == 1 && messages[0].1.is_empty() {
        body_key = match messages[0].0.remove("writeKey") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
    }
    let key = basic_user(headers)
        .or(body_key)
        .or_else(|| query_key(query));
    let Some(source) = intake.source(key.as_deref()) else {
        return Err(Refusal::Unauthorized(match key {
            Some(_) => "unknown write key".into(),
            None => "no write key: send it as the HTTP Basic user name, or as writeKey in the body"
                .into(),
        }));
    };
    let d = Defaults {
        received_at_ms: now_ms,
        sent_at_ms: sent_at,
        context: context.as_ref(),
        source: &source.name,
    };
    let forced = match ep {
        Endpoint::Single(k) => Some(k),
        _ => None,
    };
    let mut events: Vec<Event> = Vec::with_capacity(messages.len());
    for (m, prefix) in messages {
        events.push(parse::to_event(m, forced, &prefix, &d, &intake.ids)?);
    }
    if events.is_empty() {
        return Ok(());
    }
    source.scrubber.scrub_batch(&mut events);
    let names: Vec<(String, EventKind)> = events.iter().map(|e| (e.name.clone(), e.kind)).collect();
    let report = intake.appender.append(events).map_err(|e| match e.kind() {
        sightline_core::ErrorKind::BadData => Refusal::Bad(e.to_string()),
        k => Refusal::Store(k.http_status(), e.to_string()),
    })?;
    intake
        .counts
        .record(&source.name, &names, report.accepted, report.duplicates);
    Ok(())
}
