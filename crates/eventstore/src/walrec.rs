//! The event store's WAL record: one per append, written before the append
//! is acknowledged ([`sightline_storage::wal`] frames and checksums it).
//!
//! Type 1, `events`: a count, then per event its fields in a fixed order,
//! the three documents as JSON text (`docs/format/eventstore.md`).

use crate::codec::{put_opt_str, put_str, put_uvarint, put_varint, Reader};
use crate::model::{Event, EventKind};
use crate::Result;
use serde_json::{Map, Value};

/// The record type of an append.
pub(crate) const EVENTS: u8 = 1;

/// The one-byte code of a kind, in blocks and WAL records.
pub(crate) fn kind_code(k: EventKind) -> u8 {
    match k {
        EventKind::Track => 0,
        EventKind::Identify => 1,
        EventKind::Page => 2,
        EventKind::Screen => 3,
        EventKind::Group => 4,
        EventKind::Alias => 5,
    }
}

/// The kind of a code.
pub(crate) fn kind_of(c: u8) -> Option<EventKind> {
    Some(match c {
        0 => EventKind::Track,
        1 => EventKind::Identify,
        2 => EventKind::Page,
        3 => EventKind::Screen,
        4 => EventKind::Group,
        5 => EventKind::Alias,
        _ => return None,
    })
}

/// A document as stored: empty for an empty map (the common case of
/// `traits` on a track), else its JSON.
pub(crate) fn doc_text(m: &Map<String, Value>, out: &mut Vec<u8>) {
    if !m.is_empty() {
        // Writing a map of JSON values into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, m);
    }
}

/// Parses a stored document.
pub(crate) fn parse_doc(s: &str, what: &str) -> Result<Map<String, Value>> {
    if s.is_empty() {
        return Ok(Map::new());
    }
    serde_json::from_str(s).map_err(|e| crate::Error::corrupt(what, 0, format!("document: {e}")))
}

/// Encodes an append's body onto `out`.
pub(crate) fn encode(out: &mut Vec<u8>, events: &[Event]) {
    put_uvarint(out, events.len() as u64);
    let mut doc = Vec::new();
    for e in events {
        put_varint(out, e.timestamp_ms);
        put_varint(out, e.received_at_ms.wrapping_sub(e.timestamp_ms));
        out.push(kind_code(e.kind));
        put_str(out, &e.name);
        put_opt_str(out, e.user_id.as_deref());
        put_opt_str(out, e.anonymous_id.as_deref());
        put_str(out, &e.message_id);
        put_str(out, &e.source);
        put_opt_str(out, e.group_id.as_deref());
        put_opt_str(out, e.previous_id.as_deref());
        for m in [&e.properties, &e.traits, &e.context] {
            doc.clear();
            doc_text(m, &mut doc);
            put_uvarint(out, doc.len() as u64);
            out.extend_from_slice(&doc);
        }
    }
}

/// Decodes an append's body.
pub(crate) fn decode(body: &[u8]) -> Result<Vec<Event>> {
    const WHAT: &str = "wal events record";
    let mut r = Reader::new(body, WHAT);
    let n = r.count()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let timestamp_ms = r.varint()?;
        let received_at_ms = timestamp_ms.wrapping_add(r.varint()?);
        let kind = kind_of(r.u8()?).ok_or_else(|| r.err("unknown event kind"))?;
        let name = r.str()?.to_owned();
        let user_id = r.opt_str()?.map(str::to_owned);
        let anonymous_id = r.opt_str()?.map(str::to_owned);
        let message_id = r.str()?.to_owned();
        let source = r.str()?.to_owned();
        let group_id = r.opt_str()?.map(str::to_owned);
        let previous_id = r.opt_str()?.map(str::to_owned);
        let properties = parse_doc(r.str()?, WHAT)?;
        let traits = parse_doc(r.str()?, WHAT)?;
        let context = parse_doc(r.str()?, WHAT)?;
        out.push(Event {
            timestamp_ms,
            received_at_ms,
            kind,
            name,
            user_id,
            anonymous_id,
            message_id,
            source,
            group_id,
            previous_id,
            properties,
            traits,
            context,
        });
    }
    if !r.is_empty() {
        return Err(r.err("bytes after the last event"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_records_round_trip() {
        let a: Event = serde_json::from_value(json!({
            "timestampMs": 1_700_000_000_000i64, "receivedAtMs": 1_700_000_000_250i64,
            "type": "identify", "name": "identify", "userId": "u1", "messageId": "m1",
            "source": "web", "traits": {"plan": "pro", "n": [1, 2]},
            "context": {"page": {"path": "/"}}
        }))
        .unwrap();
        let b: Event = serde_json::from_value(json!({
            "timestampMs": -5, "receivedAtMs": 10, "type": "alias", "name": "alias",
            "userId": "u2", "previousId": "anon", "anonymousId": "", "messageId": "m2",
            "source": "ios"
        }))
        .unwrap();
        let mut buf = Vec::new();
        encode(&mut buf, &[a.clone(), b.clone()]);
        assert_eq!(decode(&buf).unwrap(), vec![a, b]);
        assert!(decode(&buf[..buf.len() - 1]).is_err());
        for c in 0..6 {
            assert_eq!(kind_code(kind_of(c).unwrap()), c);
        }
        assert_eq!(kind_of(6), None);
    }
}
