//! The event, as Segment's HTTP tracking API defines it, and the columnar
//! batches the analytics read.
//!
//! An [`Event`] is what the intake hands the store once it has checked the
//! payload and scrubbed it (`crate::scrub`): nothing personal reaches this
//! type unless the source's rules let it through. Field names follow
//! Segment's spec (`userId`, `anonymousId`, `messageId`, `properties`,
//! `traits`, `context`) so an exported event reads like the one sent.
//!
//! The analytics never see whole events: they ask the store for an
//! [`EventBatch`] of the few columns a question needs (time, event name,
//! who, and the properties it groups or filters by) through [`EventScan`].
//! Who an event belongs to is one 64-bit key per event ([`person_key`]): the
//! `userId` when there is one, else the `anonymousId`, so counting unique
//! users is counting distinct integers, whichever block they came from.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::ops::ControlFlow;

/// Segment's call types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// `track`: the user did something (`event` names it).
    Track,
    /// `identify`: who the user is (`traits`).
    Identify,
    /// `page`: a web page view (`name` is the page).
    Page,
    /// `screen`: a mobile screen view.
    Screen,
    /// `group`: the user belongs to a group (`groupId`, `traits`).
    Group,
    /// `alias`: `previousId` and `userId` are the same person.
    Alias,
}

impl EventKind {
    /// The name Segment gives the call (`track`, `identify`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Track => "track",
            EventKind::Identify => "identify",
            EventKind::Page => "page",
            EventKind::Screen => "screen",
            EventKind::Group => "group",
            EventKind::Alias => "alias",
        }
    }

    /// The kind named `s`, as in a payload's `type` field.
    pub fn parse(s: &str) -> Option<EventKind> {
        Some(match s {
            "track" => EventKind::Track,
            "identify" => EventKind::Identify,
            "page" => EventKind::Page,
            "screen" => EventKind::Screen,
            "group" => EventKind::Group,
            "alias" => EventKind::Alias,
            _ => return None,
        })
    }
}

/// One stored event, after validation and scrubbing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// When it happened (`timestamp`, else `receivedAt` corrected by
    /// `sentAt` as Segment does), in milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// When Sightline received it, in milliseconds since the epoch.
    pub received_at_ms: i64,
    /// The call type.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// What the analytics call the event: `event` for a track, the page or
    /// screen `name` for a page or screen (empty when unnamed), and the
    /// call type for the others (`identify`, `group`, `alias`).
    pub name: String,
    /// The known user, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The device or browser, before the user is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<String>,
    /// The client's id of this message: the key of de-duplication.
    pub message_id: String,
    /// The source (write key's name) the event came in through.
    pub source: String,
    /// `groupId` of a group call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// `previousId` of an alias call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_id: Option<String>,
    /// `properties` (track, page, screen).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub properties: Map<String, Value>,
    /// `traits` (identify, group).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub traits: Map<String, Value>,
    /// `context` (library, page, user agent, campaign, ...), after scrubbing.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub context: Map<String, Value>,
}

impl Event {
    /// Who the event belongs to, as analytics count people: the `userId`,
    /// else the `anonymousId`, else nobody (empty).
    pub fn distinct_id(&self) -> &str {
        self.user_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .or(self.anonymous_id.as_deref())
            .unwrap_or("")
    }
}

/// The 64-bit key of a distinct id ([`Event::distinct_id`]): the same person
/// has the same key in every block, so unique counts are distinct keys.
/// 0 is nobody.
pub fn person_key(distinct_id: &str) -> u64 {
    if distinct_id.is_empty() {
        0
    } else {
        // A collision (two people counted once) needs ~4 billion people
        // for a 50% chance: well past any cohort counted here.
        xxhash_rust::xxh3::xxh3_64(distinct_id.as_bytes()).max(1)
    }
}

/// The text a property column holds for a JSON value: strings as they are,
/// numbers and booleans as JSON writes them, `null`, arrays and objects as
/// no value (analytics group and filter by scalars).
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// One property's values in a batch, dictionary-encoded: `codes[i]` is
/// event `i`'s value as an index into `dict` plus one, 0 when the event has
/// no such property (or a non-scalar one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PropColumn {
    /// The property's key: `properties.<key>`, `traits.<key>` or
    /// `context.<dotted.path>` as the question named it.
    pub key: String,
    /// Distinct values of this batch, as [`scalar_text`] renders them.
    pub dict: Vec<String>,
    /// Per event: index into `dict` plus one; 0 is no value.
    pub codes: Vec<u32>,
}

impl PropColumn {
    /// Event `i`'s value.
    pub fn get(&self, i: usize) -> Option<&str> {
        match self.codes.get(i) {
            Some(&c) if c > 0 => self.dict.get(c as usize - 1).map(String::as_str),
            _ => None,
        }
    }
}

/// A run of events in time order within one block or the head, with the
/// columns a question asked for. The per-event vectors (`timestamp_ms`,
/// `name`, `person`, each prop's `codes`) have one entry per event; the
/// dictionaries (`names`, `persons`, each prop's `dict`) are the batch's own.
/// A batch never spans two UTC days, so per-day questions (DAU) count each
/// batch's people with a bitset and merge batches of the same day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventBatch {
    /// `timestamp_ms` of each event.
    pub timestamp_ms: Vec<i64>,
    /// Each event's name as an index into `names`.
    pub name: Vec<u32>,
    /// Distinct event names of this batch.
    pub names: Vec<String>,
    /// Each event's person as an index into `persons`. Codes are dense
    /// (0..persons.len()), so distinct people within a batch are counted
    /// with a bitset, without hashing.
    pub person: Vec<u32>,
    /// Distinct [`person_key`]s of this batch (0 is nobody).
    pub persons: Vec<u64>,
    /// The property columns asked for, in the order of
    /// [`ScanRequest::columns`].
    pub props: Vec<PropColumn>,
}

impl EventBatch {
    /// Number of events.
    pub fn len(&self) -> usize {
        self.timestamp_ms.len()
    }

    /// No events.
    pub fn is_empty(&self) -> bool {
        self.timestamp_ms.is_empty()
    }

    /// Event `i`'s name.
    pub fn name_of(&self, i: usize) -> &str {
        &self.names[self.name[i] as usize]
    }

    /// Event `i`'s [`person_key`].
    pub fn person_of(&self, i: usize) -> u64 {
        self.persons[self.person[i] as usize]
    }
}

/// How a property filter compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropOp {
    /// Equal to the text.
    Eq(String),
    /// Not equal (events without the property match).
    Ne(String),
    /// One of the texts.
    In(Vec<String>),
    /// Has the property at all.
    Exists,
    /// A number greater than (values that are not numbers do not match).
    Gt(f64),
    /// A number less than.
    Lt(f64),
    /// Contains the text.
    Contains(String),
}

/// `key op value` on one property (key as in [`PropColumn::key`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropFilter {
    /// The property's key.
    pub key: String,
    /// The comparison.
    pub op: PropOp,
}

/// Which events, and which columns of them, a scan reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanRequest {
    /// From (inclusive), milliseconds since the epoch.
    pub start_ms: i64,
    /// To (exclusive).
    pub end_ms: i64,
    /// Only these event names (empty: all).
    pub names: Vec<String>,
    /// Only events of this distinct id.
    pub distinct_id: Option<String>,
    /// Only events matching every filter.
    pub filters: Vec<PropFilter>,
    /// The property columns to return in each batch.
    pub columns: Vec<String>,
}

/// How many events an append took, and how many it dropped as already
/// stored (same source and `messageId`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendReport {
    /// Events written.
    pub accepted: usize,
    /// Events dropped as duplicates.
    pub duplicates: usize,
}

/// Where the intake writes events: the store implements it. The events are
/// durable (in the WAL, synced) when `append` returns Ok.
pub trait EventAppender: Send + Sync {
    /// Stores `events`, dropping any whose (`source`, `messageId`) is
    /// already stored within the de-duplication window.
    fn append(&self, events: Vec<Event>) -> crate::Result<AppendReport>;
}

/// What the analytics read events through: the store implements it, and
/// tests implement it over a vector.
pub trait EventScan: Send + Sync {
    /// Calls `f` with batches of matching events, each in time order,
    /// batches from different blocks in any order; `f` stops the scan by
    /// returning `Break`.
    fn scan(
        &self,
        req: &ScanRequest,
        f: &mut dyn FnMut(&EventBatch) -> ControlFlow<()>,
    ) -> crate::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_id_prefers_user_then_anonymous() {
        let mut e: Event = serde_json::from_value(serde_json::json!({
            "timestampMs": 1, "receivedAtMs": 2, "type": "track", "name": "Signed Up",
            "anonymousId": "anon-1", "messageId": "m1", "source": "web"
        }))
        .unwrap();
        assert_eq!(e.distinct_id(), "anon-1");
        e.user_id = Some(String::new());
        assert_eq!(e.distinct_id(), "anon-1");
        e.user_id = Some("u-7".into());
        assert_eq!(e.distinct_id(), "u-7");
        assert_ne!(person_key("u-7"), person_key("anon-1"));
        assert_eq!(person_key(""), 0);
        assert_ne!(person_key("u-7"), 0);
    }

    #[test]
    fn prop_column_codes_are_dict_index_plus_one() {
        let c = PropColumn {
            key: "properties.plan".into(),
            dict: vec!["free".into(), "pro".into()],
            codes: vec![2, 0, 1],
        };
        assert_eq!(c.get(0), Some("pro"));
        assert_eq!(c.get(1), None);
        assert_eq!(c.get(2), Some("free"));
        assert_eq!(c.get(3), None);
        assert_eq!(scalar_text(&serde_json::json!(1.5)).as_deref(), Some("1.5"));
        assert_eq!(scalar_text(&serde_json::json!([1])), None);
    }
}
