//! Parameters: times and windows as Prometheus takes them, query strings,
//! and JSON bodies turned into the engine's question structs.

use crate::prometheus::{api_error, parse_duration_ns, parse_time};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sightline_core::ErrorKind;
use std::time::{SystemTime, UNIX_EPOCH};

/// A week: the default range.
pub(super) const WEEK_MS: i64 = 7 * 86_400_000;

/// What was wrong with a parameter: `field: reason`.
pub(super) fn bad(field: &str, reason: impl std::fmt::Display) -> String {
    format!("{field}: {reason}")
}

/// The 400 of a bad parameter's message.
pub(super) fn bad_request(message: &str) -> Response {
    api_error(ErrorKind::BadData, message)
}

/// Now, milliseconds since the epoch.
pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A query string's pairs.
pub(super) struct Form(Vec<(String, String)>);

impl Form {
    /// Parses `raw` (`a=1&b=2`).
    pub(super) fn parse(raw: Option<&str>) -> Form {
        Form(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, if present and not empty.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Every non-empty value of `name`.
    pub(super) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// `start` and `end`, defaulting to the week before now.
    pub(super) fn range(&self) -> Result<(i64, i64), String> {
        let end = match self.get("end") {
            Some(v) => time(v, "end")?,
            None => now_ms(),
        };
        let start = match self.get("start") {
            Some(v) => time(v, "start")?,
            None => end - WEEK_MS,
        };
        if end <= start {
            return Err(bad("end", "must be after start"));
        }
        Ok((start, end))
    }

    /// A positive integer parameter, at most `max`, `default` when absent.
    pub(super) fn count(&self, name: &str, default: usize, max: usize) -> Result<usize, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n >= 1 && n <= max => Ok(n),
                _ => Err(bad(
                    name,
                    format!("{v:?} is not a whole number from 1 to {max}"),
                )),
            },
        }
    }
}

/// A time parameter, RFC 3339 or unix seconds.
pub(super) fn time(v: &str, field: &str) -> Result<i64, String> {
    parse_time(v).map_err(|e| bad(field, e))
}

/// A JSON body's object, with `start`/`end` turned into `start_ms`/`end_ms`
/// (default: the `default_range_ms` before now) and `window` into
/// `window_ms`, then read as the question `Q`.
pub(super) fn question<Q: DeserializeOwned>(
    body: &[u8],
    default_range_ms: i64,
) -> Result<Q, String> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).map_err(|e| bad("body", format!("invalid JSON: {e}")))?
    };
    let Value::Object(mut obj) = value else {
        return Err(bad("body", "must be a JSON object"));
    };
    let end = match obj.remove("end") {
        None | Some(Value::Null) => now_ms(),
        Some(v) => json_time(&v, "end")?,
    };
    let start = match obj.remove("start") {
        None | Some(Value::Null) => end - default_range_ms,
        Some(v) => json_time(&v, "start")?,
    };
    obj.insert("start_ms".into(), start.into());
    obj.insert("end_ms".into(), end.into());
    if let Some(w) = obj.remove("window") {
        obj.insert("window_ms".into(), json_duration_ms(&w, "window")?.into());
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| bad("body", e))
}

fn json_time(v: &Value, field: &str) -> Result<i64, String> {
    match v {
        Value::String(s) => time(s, field),
        Value::Number(n) => time(&n.to_string(), field),
        _ => Err(bad(field, "must be RFC 3339 or unix seconds")),
    }
}

fn json_duration_ms(v: &Value, field: &str) -> Result<i64, String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(bad(field, "must be a duration (\"7d\") or seconds")),
    };
    parse_duration_ns(&text)
        .map(|ns| ns / 1_000_000)
        .map_err(|e| bad(field, e))
}
