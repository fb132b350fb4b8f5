//! The three JSON documents of an event (`properties`, `traits`,
//! `context`) split between a block's property columns and a residual
//! document, and put back together when whole events are read.
//!
//! A scalar leaf (string, number, boolean) is kept only in its `p:` column
//! when the column can give it back exactly: the key's values in the row
//! group all have one JSON type, no part of its path holds a dot (so the
//! path splits back into the same nesting), and a number's text parses to
//! the same number. Everything else (arrays, nulls, empty objects, mixed
//! types, keys past `max_prop_columns`) stays in the residual document,
//! which is stored as JSON (empty when nothing is left). Storing each
//! value once is what keeps a block at about a third of the gzipped NDJSON
//! of the same events (bench/events_store.py).

use crate::model::{scalar_text, Event};
use serde_json::{Map, Value};

/// Type codes of a property column (the byte after its codes).
pub(crate) const T_STR: u8 = 0;
pub(crate) const T_NUM: u8 = 1;
pub(crate) const T_BOOL: u8 = 2;
/// Values of several types, or not rebuildable: the residual documents
/// hold them all.
pub(crate) const T_MIXED: u8 = 3;

/// The type code of a scalar leaf that its text gives back exactly; None
/// for others.
fn exact_type(v: &Value) -> Option<u8> {
    match v {
        Value::String(_) => Some(T_STR),
        Value::Bool(_) => Some(T_BOOL),
        Value::Number(n) => {
            let back: Option<Value> = serde_json::from_str(&n.to_string()).ok();
            (back.as_ref() == Some(v)).then_some(T_NUM)
        }
        _ => None,
    }
}

/// Calls `f(key, text, type)` for every scalar leaf of the event's
/// documents (`context.page.path`), `type` being [`T_MIXED`] when the leaf
/// cannot be rebuilt from its column (a dotted key part, an inexact number).
pub(crate) fn leaves(e: &Event, f: &mut dyn FnMut(&str, String, u8)) {
    let mut key = String::new();
    for (name, doc) in [
        ("properties", &e.properties),
        ("traits", &e.traits),
        ("context", &e.context),
    ] {
        key.clear();
        key.push_str(name);
        walk(doc, &mut key, true, f);
    }
}

fn walk(
    doc: &Map<String, Value>,
    key: &mut String,
    clean: bool,
    f: &mut dyn FnMut(&str, String, u8),
) {
    let base = key.len();
    for (k, v) in doc {
        key.truncate(base);
        key.push('.');
        key.push_str(k);
        let clean = clean && !k.contains('.');
        match v {
            Value::Object(inner) => walk(inner, key, clean, f),
            v => {
                if let Some(t) = scalar_text(v) {
                    let ty = exact_type(v).filter(|_| clean).unwrap_or(T_MIXED);
                    f(key, t, ty);
                }
            }
        }
    }
    key.truncate(base);
}

/// What of `doc` (named `root`) the columns do not give back: leaves for
/// which `covered(key)` is false, non-scalar values, empty objects;
/// objects emptied by taking covered leaves out are dropped.
pub(crate) fn residual(
    doc: &Map<String, Value>,
    root: &str,
    covered: &dyn Fn(&str) -> bool,
) -> Map<String, Value> {
    let mut key = root.to_owned();
    residual_at(doc, &mut key, true, covered)
}

fn residual_at(
    doc: &Map<String, Value>,
    key: &mut String,
    clean: bool,
    covered: &dyn Fn(&str) -> bool,
) -> Map<String, Value> {
    let base = key.len();
    let mut out = Map::new();
    for (k, v) in doc {
        key.truncate(base);
        key.push('.');
        key.push_str(k);
        let clean = clean && !k.contains('.');
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                let r = residual_at(inner, key, clean, covered);
                if !r.is_empty() {
                    out.insert(k.clone(), Value::Object(r));
                }
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_)
                if clean && exact_type(v).is_some() && covered(key) => {}
            v => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    key.truncate(base);
    out
}

/// The value a column's text stands for, given the column's type.
pub(crate) fn typed(text: &str, ty: u8) -> Option<Value> {
    match ty {
        T_STR => Some(Value::String(text.to_owned())),
        T_NUM => serde_json::from_str::<serde_json::Number>(text)
            .ok()
            .map(Value::Number),
        T_BOOL => Some(Value::Bool(text == "true")),
        _ => None,
    }
}

/// Sets the value at a dotted path (parts without dots, as [`residual`]
/// guarantees for covered leaves), making the objects on the way.
pub(crate) fn insert_path(doc: &mut Map<String, Value>, path: &str, v: Value) {
    match path.split_once('.') {
        None => {
            doc.insert(path.to_owned(), v);
        }
        Some((head, rest)) => {
            let inner = doc
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = inner {
                insert_path(m, rest, v);
            }
        }
    }
}

/// Merges `from` into `into`, object by object.
pub(crate) fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_split_and_rebuild_exactly() {
        let e: Event = serde_json::from_value(json!({
            "timestampMs": 1, "receivedAtMs": 1, "type": "track", "name": "x",
            "messageId": "m", "source": "web",
            "properties": {"plan": "pro", "n": 2, "f": 1.5, "ok": true, "nil": null,
                           "tags": ["a"], "a.b": "dotted", "empty": {}, "big": 1e300},
            "context": {"page": {"path": "/", "extra": {}}}
        }))
        .unwrap();
        let mut got = Vec::new();
        leaves(&e, &mut |k, t, ty| got.push((k.to_owned(), t, ty)));
        got.sort();
        let ty = |k: &str| got.iter().find(|g| g.0 == k).unwrap().2;
        assert_eq!(ty("properties.plan"), T_STR);
        assert_eq!(ty("properties.n"), T_NUM);
        assert_eq!(ty("properties.f"), T_NUM);
        assert_eq!(ty("properties.ok"), T_BOOL);
        assert_eq!(ty("properties.a.b"), T_MIXED);
        assert_eq!(ty("context.page.path"), T_STR);
        assert!(!got
            .iter()
            .any(|g| g.0 == "properties.nil" || g.0 == "properties.tags"));
        // Everything clean is covered: the residual keeps the rest.
        let covered = |_: &str| true;
        let rp = residual(&e.properties, "properties", &covered);
        assert_eq!(
            Value::Object(rp.clone()),
            json!({"nil": null, "tags": ["a"], "a.b": "dotted", "empty": {}})
        );
        let rc = residual(&e.context, "context", &covered);
        assert_eq!(Value::Object(rc.clone()), json!({"page": {"extra": {}}}));
        // Rebuild from the typed column values plus the residual.
        let mut p = Map::new();
        let mut c = Map::new();
        for (k, t, ty) in &got {
            if *ty == T_MIXED {
                continue;
            }
            let v = typed(t, *ty).unwrap();
            if let Some(rest) = k.strip_prefix("properties.") {
                insert_path(&mut p, rest, v);
            } else if let Some(rest) = k.strip_prefix("context.") {
                insert_path(&mut c, rest, v);
            }
        }
        merge(&mut p, rp);
        merge(&mut c, rc);
        assert_eq!(p, e.properties);
        assert_eq!(c, e.context);
        // A key not covered stays whole in the residual.
        let none = |_: &str| false;
        assert_eq!(residual(&e.properties, "properties", &none), e.properties);
    }
}
