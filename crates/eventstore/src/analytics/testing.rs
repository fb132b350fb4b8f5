//! An [`EventScan`] over a vector of events, for tests of the analytics
//! and of the API above them: it cuts batches per UTC day (and smaller, so
//! merging batches of one day is exercised) and hands them out newest day
//! first, as a store reading blocks in any order may.

use super::filter::matches;
use super::time::day_start;
use crate::model::{
    person_key, scalar_text, Event, EventBatch, EventScan, PropColumn, ScanRequest,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::ops::ControlFlow;

/// The scalar text of `key` (`properties.<key>`, `traits.<key>`,
/// `context.<dotted.path>`) in `e`, as [`PropColumn`] holds it.
pub fn event_prop(e: &Event, key: &str) -> Option<String> {
    let (map, rest) = if let Some(rest) = key.strip_prefix("properties.") {
        (&e.properties, rest)
    } else if let Some(rest) = key.strip_prefix("traits.") {
        (&e.traits, rest)
    } else if let Some(rest) = key.strip_prefix("context.") {
        (&e.context, rest)
    } else {
        return None;
    };
    lookup(map, rest).and_then(scalar_text)
}

/// A key as it is, else as a dotted path into nested objects.
fn lookup<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = map.get(path) {
        return Some(v);
    }
    let (head, tail) = path.split_once('.')?;
    match map.get(head)? {
        Value::Object(inner) => lookup(inner, tail),
        _ => None,
    }
}

/// Whether `e` is one `req` asks for (range, names, person, filters).
pub fn wanted(req: &ScanRequest, e: &Event) -> bool {
    e.timestamp_ms >= req.start_ms
        && e.timestamp_ms < req.end_ms
        && (req.names.is_empty() || req.names.contains(&e.name))
        && req
            .distinct_id
            .as_deref()
            .is_none_or(|d| e.distinct_id() == d)
        && req
            .filters
            .iter()
            .all(|f| matches(&f.op, event_prop(e, &f.key).as_deref()))
}

/// Events held in memory, scanned as a store would be.
pub struct VecScan {
    events: Vec<Event>,
    max_batch: usize,
}

impl VecScan {
    /// Over `events` (any order), batches of at most 1000 events.
    pub fn new(events: Vec<Event>) -> Self {
        Self::with_max_batch(events, 1000)
    }

    /// Over `events`, batches of at most `max_batch` events.
    pub fn with_max_batch(mut events: Vec<Event>, max_batch: usize) -> Self {
        events.sort_by_key(|e| e.timestamp_ms);
        VecScan {
            events,
            max_batch: max_batch.max(1),
        }
    }

    /// The events, in time order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
}

impl EventScan for VecScan {
    fn scan(
        &self,
        req: &ScanRequest,
        f: &mut dyn FnMut(&EventBatch) -> ControlFlow<()>,
    ) -> crate::Result<()> {
        let picked: Vec<&Event> = self.events.iter().filter(|e| wanted(req, e)).collect();
        let mut runs: Vec<&[&Event]> = Vec::new();
        for day in picked.chunk_by(|a, b| day_start(a.timestamp_ms) == day_start(b.timestamp_ms)) {
            runs.extend(day.chunks(self.max_batch));
        }
        for run in runs.into_iter().rev() {
            if f(&batch(run, &req.columns)).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// Dictionary-codes a run of events into a batch.
fn batch(run: &[&Event], columns: &[String]) -> EventBatch {
    let mut b = EventBatch::default();
    let mut names: HashMap<&str, u32> = HashMap::new();
    let mut persons: HashMap<u64, u32> = HashMap::new();
    for e in run {
        b.timestamp_ms.push(e.timestamp_ms);
        let n = names.len() as u32;
        let code = *names.entry(e.name.as_str()).or_insert_with(|| {
            b.names.push(e.name.clone());
            n
        });
        b.name.push(code);
        let key = person_key(e.distinct_id());
        let p = persons.len() as u32;
        let code = *persons.entry(key).or_insert_with(|| {
            b.persons.push(key);
            p
        });
        b.person.push(code);
    }
    for key in columns {
        let mut col = PropColumn {
            key: key.clone(),
            ..PropColumn::default()
        };
        let mut dict: HashMap<String, u32> = HashMap::new();
        for e in run {
            let code = match event_prop(e, key) {
                None => 0,
                Some(v) => {
                    let next = dict.len() as u32 + 1;
                    *dict.entry(v.clone()).or_insert_with(|| {
                        col.dict.push(v);
                        next
                    })
                }
            };
            col.codes.push(code);
        }
        b.props.push(col);
    }
    b
}

/// A track event for tests: `name` by `who` at `ms`, with `props`.
pub fn track(ms: i64, name: &str, who: &str, props: Value) -> Event {
    let properties = match props {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Event {
        timestamp_ms: ms,
        received_at_ms: ms,
        kind: crate::model::EventKind::Track,
        name: name.into(),
        user_id: Some(who.into()),
        anonymous_id: None,
        message_id: format!("{who}-{name}-{ms}"),
        source: "test".into(),
        group_id: None,
        previous_id: None,
        properties,
        traits: Map::new(),
        context: Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PropFilter, PropOp};
    use serde_json::json;

    #[test]
    fn batches_are_per_day_and_filtered() {
        let day = super::super::time::DAY_MS;
        let events = vec![
            track(10, "a", "u1", json!({"plan": "pro", "n": 3})),
            track(20, "b", "u2", json!({"plan": "free"})),
            track(day + 5, "a", "u1", json!({})),
            track(day + 6, "a", "u3", json!({"plan": "pro"})),
        ];
        let scan = VecScan::new(events);
        let req = ScanRequest {
            start_ms: 0,
            end_ms: 2 * day,
            names: vec!["a".into()],
            columns: vec!["properties.plan".into()],
            ..ScanRequest::default()
        };
        let mut got = vec![];
        scan.scan(&req, &mut |b| {
            got.push(b.clone());
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(got.len(), 2);
        // Newest day first.
        assert_eq!(got[0].timestamp_ms, vec![day + 5, day + 6]);
        assert_eq!(got[0].props[0].get(0), None);
        assert_eq!(got[0].props[0].get(1), Some("pro"));
        assert_eq!(got[1].person_of(0), person_key("u1"));
        let req = ScanRequest {
            filters: vec![PropFilter {
                key: "properties.n".into(),
                op: PropOp::Gt(2.0),
            }],
            ..req
        };
        let mut n = 0;
        scan.scan(&req, &mut |b| {
            n += b.len();
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn nested_keys() {
        let mut e = track(0, "a", "u", json!({}));
        e.context = json!({"page": {"path": "/x"}, "a.b": 1})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(event_prop(&e, "context.page.path").as_deref(), Some("/x"));
        assert_eq!(event_prop(&e, "context.a.b").as_deref(), Some("1"));
        assert_eq!(event_prop(&e, "context.page"), None);
    }
}
