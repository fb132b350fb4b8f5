//! One Segment message (a JSON object) to an [`Event`], with Segment's
//! field rules; every refusal names the field (`batch[3].event`).
//!
//! - `type` is the call (`track`, `identify`, `page`, `screen`, `group`,
//!   `alias`); the typed endpoints (`/v1/track`, ...) imply it.
//! - `userId` or `anonymousId` is required (strings; numbers are taken as
//!   their text, as Segment's libraries sometimes send them); `alias` needs
//!   `userId` and `previousId`, `group` needs `groupId`, `track` needs
//!   `event`.
//! - When it happened: the client's `timestamp` (or `originalTimestamp`),
//!   corrected for the client's clock when `sentAt` is given (the message's
//!   or the batch's): `receivedAt - (sentAt - timestamp)`, as Segment does;
//!   without a client timestamp, `receivedAt`.
//! - `messageId` is generated when absent; `integrations` is ignored;
//!   `context` keeps what the client sent, under the batch's `context`
//!   for keys the message lacks.

use serde_json::{Map, Value};
use sightline_eventstore::model::{Event, EventKind};
use std::sync::atomic::{AtomicU64, Ordering};

/// A refusal: the field (with its place in the batch) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// `batch[3].event`, or `event` for a single call.
    pub field: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// What a batch gives each of its messages.
#[derive(Debug, Default)]
pub struct Defaults<'a> {
    /// When the request arrived (milliseconds since the epoch).
    pub received_at_ms: i64,
    /// The batch's `sentAt`.
    pub sent_at_ms: Option<i64>,
    /// The batch's `context`.
    pub context: Option<&'a Map<String, Value>>,
    /// The source the write key named.
    pub source: &'a str,
}

/// Message ids for messages that came without one: unique within the
/// process (a counter) and across restarts (the start time).
#[derive(Debug)]
pub struct MessageIds {
    start: u64,
    next: AtomicU64,
}

impl Default for MessageIds {
    fn default() -> Self {
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        MessageIds {
            start,
            next: AtomicU64::new(0),
        }
    }
}

impl MessageIds {
    fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("sl-{:x}-{n:x}", self.start)
    }
}

/// `field` of the message at `prefix` (`batch[3]`, or empty).
fn path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

fn err(prefix: &str, field: &str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: if field.is_empty() {
            if prefix.is_empty() {
                "body".into()
            } else {
                prefix.to_owned()
            }
        } else {
            path(prefix, field)
        },
        reason: reason.into(),
    }
}

/// An id field: a non-empty string, or a number as its text.
fn id(m: &mut Map<String, Value>, key: &str, prefix: &str) -> Result<Option<String>, FieldError> {
    match m.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok((!s.is_empty()).then_some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(err(
            prefix,
            key,
            format!("must be a string, not {}", kind_of(&other)),
        )),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn object(
    m: &mut Map<String, Value>,
    key: &str,
    prefix: &str,
) -> Result<Map<String, Value>, FieldError> {
    match m.remove(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o),
        Some(other) => Err(err(
            prefix,
            key,
            format!("must be an object, not {}", kind_of(&other)),
        )),
    }
}

/// A date-time field in milliseconds, or None when absent.
pub fn time_field(v: Option<&Value>, field: &str) -> Result<Option<i64>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => sightline_core::time::parse_openapi(s)
            .map(|t| Some(sightline_core::time::to_ms(&t)))
            .map_err(|_| FieldError {
                field: field.to_owned(),
                reason: format!("cannot parse {s:?} as an ISO 8601 date-time"),
            }),
        Some(other) => Err(FieldError {
            field: field.to_owned(),
            reason: format!("must be an ISO 8601 string, not {}", kind_of(other)),
        }),
    }
}

/// The event of message `m` (at `prefix` in the request), of type
/// `forced` when the endpoint names one.
pub fn to_event(
    mut m: Map<String, Value>,
    forced: Option<EventKind>,
    prefix: &str,
    d: &Defaults,
    ids: &MessageIds,
) -> Result<Event, FieldError> {
    let kind = match forced {
        Some(k) => k,
        None => match m.get("type") {
            Some(Value::String(t)) => EventKind::parse(t).ok_or_else(|| {
                err(
                    prefix,
                    "type",
                    format!(
                        "unknown type {t:?} (one of track, identify, page, screen, group, alias)"
                    ),
                )
            })?,
            None | Some(Value::Null) => {
                return Err(err(
                    prefix,
                    "type",
                    "missing (track, identify, page, screen, group or alias)",
                ))
            }
            Some(other) => {
                return Err(err(
                    prefix,
                    "type",
                    format!("must be a string, not {}", kind_of(other)),
                ))
            }
        },
    };
    let user_id = id(&mut m, "userId", prefix)?;
    let anonymous_id = id(&mut m, "anonymousId", prefix)?;
    if user_id.is_none() && anonymous_id.is_none() {
        return Err(err(prefix, "", "userId or anonymousId is required"));
    }
    let group_id = id(&mut m, "groupId", prefix)?;
    let previous_id = id(&mut m, "previousId", prefix)?;
    let name = match kind {
        EventKind::Track => match m.remove("event") {
            Some(Value::String(s)) if !s.trim().is_empty() => s,
            None | Some(Value::Null) | Some(Value::String(_)) => {
                return Err(err(
                    prefix,
                    "event",
                    "missing (a track call needs an event name)",
                ))
            }
            Some(other) => {
                return Err(err(
                    prefix,
                    "event",
                    format!("must be a string, not {}", kind_of(&other)),
                ))
            }
        },
        EventKind::Page | EventKind::Screen => match m.remove("name") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(err(
                    prefix,
                    "name",
                    format!("must be a string, not {}", kind_of(&other)),
                ))
            }
        },
        other => other.as_str().to_owned(),
    };
    match kind {
        EventKind::Group if group_id.is_none() => {
            return Err(err(
                prefix,
                "groupId",
                "missing (a group call needs a groupId)",
            ))
        }
        EventKind::Alias if previous_id.is_none() => {
            return Err(err(
                prefix,
                "previousId",
                "missing (an alias call needs a previousId)",
            ))
        }
        EventKind::Alias if user_id.is_none() => {
            return Err(err(
                prefix,
                "userId",
                "missing (an alias call needs a userId)",
            ))
        }
        _ => {}
    }
    let message_id = match id(&mut m, "messageId", prefix)? {
        Some(s) => s,
        None => ids.next(),
    };
    let client_ts = match time_field(m.get("timestamp"), &path(prefix, "timestamp"))? {
        Some(t) => Some(t),
        None => time_field(
            m.get("originalTimestamp"),
            &path(prefix, "originalTimestamp"),
        )?,
    };
    let sent_at = time_field(m.get("sentAt"), &path(prefix, "sentAt"))?.or(d.sent_at_ms);
    let timestamp_ms = match (client_ts, sent_at) {
        // The client's clock may be off; the gap between its two readings
        // is not.
        (Some(t), Some(s)) => d.received_at_ms.saturating_sub(s.saturating_sub(t)),
        (Some(t), None) => t,
        (None, _) => d.received_at_ms,
    };
    let properties = object(&mut m, "properties", prefix)?;
    let mut traits = object(&mut m, "traits", prefix)?;
    let mut context = object(&mut m, "context", prefix)?;
    // RudderStack's libraries send an identify's traits as
    // `context.traits` (Segment's spec allows both).
    if traits.is_empty() && matches!(kind, EventKind::Identify | EventKind::Group) {
        if let Some(Value::Object(t)) = context.remove("traits") {
            traits = t;
        }
    }
    if let Some(batch) = d.context {
        for (k, v) in batch {
            context.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Ok(Event {
        timestamp_ms,
        received_at_ms: d.received_at_ms,
        kind,
        name,
        user_id,
        anonymous_id,
        message_id,
        source: d.source.to_owned(),
        group_id,
        previous_id,
        properties,
        traits,
        context,
    })
}
