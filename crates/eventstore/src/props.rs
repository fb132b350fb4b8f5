//! Property keys and filters, one definition for the head, the blocks and
//! the export: what `properties.plan` or `context.page.path` means for an
//! event, the flattened scalar keys a block keeps as columns, and how a
//! [`PropOp`] judges a value.

use crate::model::{scalar_text, Event, PropOp};
use serde_json::{Map, Value};

/// Milliseconds in a UTC day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// The UTC day (days since the epoch) of a time in ms.
pub(crate) fn day_of(ts_ms: i64) -> i64 {
    ts_ms.div_euclid(DAY_MS)
}

/// The event's document a key's first part names, and the rest of the key.
fn root<'a, 'e>(e: &'e Event, key: &'a str) -> Option<(&'e Map<String, Value>, &'a str)> {
    let (head, rest) = key.split_once('.')?;
    let doc = match head {
        "properties" => &e.properties,
        "traits" => &e.traits,
        "context" => &e.context,
        _ => return None,
    };
    Some((doc, rest))
}

/// The value at a dotted `path` inside `doc`: the whole rest as a key
/// first (a property may be named `a.b`), else the part before each dot
/// as a nested object, left to right.
fn walk<'d>(doc: &'d Map<String, Value>, path: &str) -> Option<&'d Value> {
    if let Some(v) = doc.get(path) {
        return Some(v);
    }
    let mut from = 0;
    while let Some(i) = path[from..].find('.') {
        let at = from + i;
        if let Some(Value::Object(inner)) = doc.get(&path[..at]) {
            if let Some(v) = walk(inner, &path[at + 1..]) {
                return Some(v);
            }
        }
        from = at + 1;
    }
    None
}

/// The scalar text of `key` (`properties.<k>`, `traits.<k>`,
/// `context.<dotted.path>`) for `e`, as [`scalar_text`] renders it.
pub fn lookup(e: &Event, key: &str) -> Option<String> {
    let (doc, path) = root(e, key)?;
    walk(doc, path).and_then(scalar_text)
}

/// Whether a property's value (None: the event has none) passes `op`.
pub fn op_matches(op: &PropOp, v: Option<&str>) -> bool {
    match op {
        PropOp::Eq(s) => v == Some(s.as_str()),
        PropOp::Ne(s) => v != Some(s.as_str()),
        PropOp::In(list) => v.is_some_and(|v| list.iter().any(|s| s == v)),
        PropOp::Exists => v.is_some(),
        PropOp::Gt(x) => number(v).is_some_and(|n| n > *x),
        PropOp::Lt(x) => number(v).is_some_and(|n| n < *x),
        PropOp::Contains(s) => v.is_some_and(|v| v.contains(s.as_str())),
    }
}

fn number(v: Option<&str>) -> Option<f64> {
    v?.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Checks a key names a document (`properties.`, `traits.`, `context.`).
pub(crate) fn check_key(field: &str, key: &str) -> crate::Result<()> {
    match key.split_once('.') {
        Some(("properties" | "traits" | "context", rest)) if !rest.is_empty() => Ok(()),
        _ => Err(crate::Error::bad(
            field,
            format!("{key:?} is not properties.<key>, traits.<key> or context.<path>"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_walk_nested_documents_and_filters_judge_text() {
        let e: Event = serde_json::from_value(json!({
            "timestampMs": 1, "receivedAtMs": 1, "type": "track", "name": "Order Completed",
            "messageId": "m", "source": "web",
            "properties": {"plan": "pro", "price": 29.5, "a.b": "dotted", "tags": ["x"]},
            "context": {"page": {"path": "/pricing", "nested": {"deep": true}}}
        }))
        .unwrap();
        assert_eq!(lookup(&e, "properties.plan").as_deref(), Some("pro"));
        assert_eq!(lookup(&e, "properties.price").as_deref(), Some("29.5"));
        assert_eq!(lookup(&e, "properties.a.b").as_deref(), Some("dotted"));
        assert_eq!(lookup(&e, "properties.tags"), None);
        assert_eq!(lookup(&e, "context.page.path").as_deref(), Some("/pricing"));
        assert_eq!(
            lookup(&e, "context.page.nested.deep").as_deref(),
            Some("true")
        );
        assert_eq!(lookup(&e, "traits.plan"), None);
        assert_eq!(lookup(&e, "name"), None);
        assert!(op_matches(&PropOp::Gt(29.0), Some("29.5")));
        assert!(!op_matches(&PropOp::Gt(29.0), Some("abc")));
        assert!(!op_matches(&PropOp::Lt(29.0), None));
        assert!(op_matches(&PropOp::Ne("pro".into()), None));
        assert!(!op_matches(&PropOp::Ne("pro".into()), Some("pro")));
        assert!(op_matches(
            &PropOp::In(vec!["a".into(), "pro".into()]),
            Some("pro")
        ));
        assert!(op_matches(
            &PropOp::Contains("ric".into()),
            Some("/pricing")
        ));
        assert!(!op_matches(&PropOp::Exists, None));
        assert!(check_key("columns[0]", "properties.plan").is_ok());
        let err = check_key("columns[1]", "plan").unwrap_err().to_string();
        assert!(err.starts_with("columns[1]: "), "{err}");
    }
}
