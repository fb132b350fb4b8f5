//! What there is to ask about: event names, property keys and values, the
//! newest events, and the export.

use super::params::{bad, bad_request, Form};
use super::{EventsSource, ExportFormat};
use crate::prometheus::{api_error, api_success};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use sightline_core::ErrorKind;
use sightline_eventstore::analytics::filter::check_key;
use sightline_eventstore::model::{scalar_text, Event, ScanRequest};
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

/// Events whose keys `properties` lists: the newest this many.
const PROPERTY_SAMPLE: usize = 1000;

type Src = State<Arc<dyn EventsSource>>;

/// The scan of the common parameters: `start`, `end`, `event` (repeatable).
fn scan_request(form: &Form) -> Result<ScanRequest, String> {
    let (start_ms, end_ms) = form.range()?;
    Ok(ScanRequest {
        start_ms,
        end_ms,
        names: form.all("event"),
        ..ScanRequest::default()
    })
}

/// Runs `f` on the blocking pool; its error (the store's) in the envelope.
async fn blocking(
    f: impl FnOnce() -> sightline_eventstore::Result<Value> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => api_success(v),
        Ok(Err(e)) => api_error(e.kind(), &e.to_string()),
        Err(e) => api_error(ErrorKind::Internal, &format!("events task failed: {e}")),
    }
}

/// Sorted by count, most first, then by name.
fn ranked(counts: HashMap<String, u64>, field: &str, limit: usize) -> Value {
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(limit);
    Value::Array(
        v.into_iter()
            .map(|(k, n)| json!({field: k, "count": n}))
            .collect(),
    )
}

/// `GET /api/v1/events/names?start&end`: event names with their counts.
pub(super) async fn names(State(s): Src, RawQuery(q): RawQuery) -> Response {
    let form = Form::parse(q.as_deref());
    let req = match scan_request(&form) {
        Ok(r) => r,
        Err(e) => return bad_request(&e),
    };
    blocking(move || {
        let mut counts: HashMap<String, u64> = HashMap::new();
        s.scan(&req, &mut |b| {
            let mut per = vec![0u64; b.names.len()];
            for &n in &b.name {
                per[n as usize] += 1;
            }
            for (name, n) in b.names.iter().zip(per) {
                if n > 0 {
                    *counts.entry(name.clone()).or_default() += n;
                }
            }
            ControlFlow::Continue(())
        })?;
        Ok(ranked(counts, "name", usize::MAX))
    })
    .await
}

/// `GET /api/v1/events/properties?event&start&end`: the property keys of
/// the newest events, with how many of them have each.
pub(super) async fn properties(State(s): Src, RawQuery(q): RawQuery) -> Response {
    let form = Form::parse(q.as_deref());
    let req = match scan_request(&form) {
        Ok(r) => r,
        Err(e) => return bad_request(&e),
    };
    blocking(move || {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for e in s.recent(&req, PROPERTY_SAMPLE)? {
            let mut keys = Vec::new();
            scalar_keys("properties", &e.properties, 1, &mut keys);
            scalar_keys("traits", &e.traits, 1, &mut keys);
            scalar_keys("context", &e.context, 3, &mut keys);
            for k in keys {
                *counts.entry(k).or_default() += 1;
            }
        }
        Ok(ranked(counts, "key", usize::MAX))
    })
    .await
}

/// The keys of scalar values in `map` as `prefix.key`, nested objects
/// followed `depth` levels deep (dotted).
fn scalar_keys(prefix: &str, map: &Map<String, Value>, depth: usize, out: &mut Vec<String>) {
    for (k, v) in map {
        let key = format!("{prefix}.{k}");
        match v {
            Value::Object(inner) if depth > 1 => scalar_keys(&key, inner, depth - 1, out),
            v if scalar_text(v).is_some() => out.push(key),
            _ => {}
        }
    }
}

/// `GET /api/v1/events/values?key&event&start&end&limit`: a property's
/// values with their counts, most first.
pub(super) async fn values(State(s): Src, RawQuery(q): RawQuery) -> Response {
    let form = Form::parse(q.as_deref());
    let mut req = match scan_request(&form) {
        Ok(r) => r,
        Err(e) => return bad_request(&e),
    };
    let Some(key) = form.get("key") else {
        return bad_request(&bad("key", "required: the property, e.g. properties.plan"));
    };
    if let Err(e) = check_key(key, "key") {
        return api_error(e.kind(), &e.to_string());
    }
    let limit = match form.count("limit", 50, 10_000) {
        Ok(n) => n,
        Err(e) => return bad_request(&e),
    };
    req.columns = vec![key.to_string()];
    blocking(move || {
        let mut counts: HashMap<String, u64> = HashMap::new();
        s.scan(&req, &mut |b| {
            let col = &b.props[0];
            let mut per = vec![0u64; col.dict.len() + 1];
            for &c in &col.codes {
                per[c as usize] += 1;
            }
            for (v, n) in col.dict.iter().zip(&per[1..]) {
                if *n > 0 {
                    *counts.entry(v.clone()).or_default() += n;
                }
            }
            ControlFlow::Continue(())
        })?;
        Ok(ranked(counts, "value", limit))
    })
    .await
}

/// `GET /api/v1/events/list?start&end&event&person&limit`: the newest
/// events, newest first, and `next_end`: the `end` of the next page (older
/// events) when there are more. `end` is exclusive, so a page never ends
/// inside a millisecond: when the next older event shares the oldest
/// shown millisecond, that millisecond's events move to the next page
/// (unless one millisecond alone holds more than a page).
pub(super) async fn list(State(s): Src, RawQuery(q): RawQuery) -> Response {
    let form = Form::parse(q.as_deref());
    let mut req = match scan_request(&form) {
        Ok(r) => r,
        Err(e) => return bad_request(&e),
    };
    req.distinct_id = form.get("person").map(str::to_string);
    let limit = match form.count("limit", 100, 1000) {
        Ok(n) => n,
        Err(e) => return bad_request(&e),
    };
    blocking(move || {
        // One more than a page says whether there is a next one.
        let mut events: Vec<Event> = s.recent(&req, limit + 1)?;
        let mut next_end = None;
        if events.len() > limit {
            let extra = events.pop().map_or(i64::MIN, |e| e.timestamp_ms);
            let oldest = events[events.len() - 1].timestamp_ms;
            if extra == oldest && events[0].timestamp_ms != oldest {
                while events.last().is_some_and(|e| e.timestamp_ms == oldest) {
                    events.pop();
                }
            }
            next_end = Some(oldest);
        }
        Ok(json!({
            "events": serde_json::to_value(&events).unwrap_or(Value::Null),
            "next_end": next_end,
        }))
    })
    .await
}

/// `GET /api/v1/events/export?format=ndjson|parquet&start&end&event`:
/// the events as a file, streamed as the store writes it.
pub(super) async fn export(State(s): Src, RawQuery(q): RawQuery) -> Response {
    let form = Form::parse(q.as_deref());
    let req = match scan_request(&form) {
        Ok(r) => r,
        Err(e) => return bad_request(&e),
    };
    let (format, mime, file) = match form.get("format").unwrap_or("ndjson") {
        "ndjson" => (
            ExportFormat::Ndjson,
            "application/x-ndjson",
            "events.ndjson",
        ),
        "parquet" => (
            ExportFormat::Parquet,
            "application/vnd.apache.parquet",
            "events.parquet",
        ),
        other => {
            return bad_request(&bad(
                "format",
                format!("{other:?} is not ndjson or parquet"),
            ))
        }
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        let result = s.export(&req, format, &mut out);
        match result {
            Ok(()) => {
                let _ = std::io::Write::flush(&mut out);
            }
            Err(e) => {
                // Headers are gone by now: end the body with an error so the
                // client sees a broken transfer, not a short file.
                tracing::warn!(error = %e, "events export failed");
                let _ = out
                    .tx
                    .blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// Bytes per chunk sent to the client.
const CHUNK: usize = 64 * 1024;

/// A writer sending what it is given as body chunks.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}
