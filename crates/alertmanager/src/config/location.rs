//! Where in `alertmanager.yml` an error is: `file:line:col: field.path: reason`.
//!
//! Serde errors get their field path from `serde_path_to_error` and their
//! position from serde-saphyr. Checks that run after deserializing (undefined
//! receivers, root route rules) only know the field path, so [`position_of`]
//! walks a positioned copy of the document to find that field's line; it only
//! runs when a file is being refused, so parsing twice costs nothing in the
//! common case.

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::fmt;

use crate::{Error, Result};

/// Deserializes `text`; a failure names `file:line:col`, the field path and the reason.
pub(super) fn deserialize<T: DeserializeOwned>(text: &str, file: &str) -> Result<T> {
    let mut path = String::new();
    let out = serde_saphyr::with_deserializer_from_str(text, |de| {
        let mut track = serde_path_to_error::Track::new();
        let r = T::deserialize(serde_path_to_error::Deserializer::new(de, &mut track));
        if r.is_err() {
            path = track.path().to_string();
        }
        r
    });
    out.map_err(|e| {
        let path = if path == "." { String::new() } else { path };
        // The named field's own position beats serde-saphyr's, which for
        // custom errors is often the enclosing mapping.
        let (line, col) = match position_of(text, &path) {
            Some((pos, true)) => pos,
            other => e
                .location()
                .map(|l| (l.line(), l.column()))
                .filter(|(l, _)| *l > 0)
                .or(other.map(|(p, _)| p))
                .unwrap_or((0, 0)),
        };
        Error::Config(format_error(file, line, col, &path, &reason(&e)))
    })
}

/// A validation error: the field path (`route.routes[0].receiver`) and why.
pub(super) fn located(text: &str, file: &str, path: &str, message: &str) -> Error {
    let (line, col) = position_of(text, path).map_or((0, 0), |(p, _)| p);
    Error::Config(format_error(file, line, col, path, message))
}

/// serde-saphyr's message without its position suffix and snippet.
fn reason(e: &serde_saphyr::Error) -> String {
    let full = e.without_snippet().to_string();
    let first = full.lines().next().unwrap_or("").trim();
    let first = first.rfind(" at line ").map_or(first, |i| &first[..i]);
    first.trim_start_matches("error: ").replace('`', "\"")
}

fn format_error(file: &str, line: u64, col: u64, path: &str, message: &str) -> String {
    let mut out = file.to_owned();
    if line > 0 {
        out.push_str(&format!(":{line}:{col}"));
    }
    out.push_str(": ");
    if !path.is_empty() {
        out.push_str(path);
        out.push_str(": ");
    }
    out.push_str(message);
    out
}

/// Line and column of the field at `path` (its key when the path ends in a
/// key). When the field is absent, the deepest ancestor present, flagged false.
fn position_of(text: &str, path: &str) -> Option<((u64, u64), bool)> {
    let root: Spanned<Node> = serde_saphyr::from_str(text).ok()?;
    let mut at = (root.referenced.line(), root.referenced.column());
    let mut node = &root;
    for seg in segments(path) {
        let next = match (&node.value, seg) {
            (Node::Map(entries), Seg::Key(k)) => entries
                .iter()
                .find(|(name, _)| name.value == k)
                .map(|(name, n)| ((name.referenced.line(), name.referenced.column()), n)),
            (Node::Seq(items), Seg::Index(i)) => items
                .get(i)
                .map(|n| ((n.referenced.line(), n.referenced.column()), n)),
            _ => None,
        };
        let Some((pos, n)) = next else {
            return Some((at, false));
        };
        at = pos;
        node = n;
    }
    Some((at, true))
}

#[derive(Debug, PartialEq)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// `route.routes[2].matchers[0]` as keys and indexes.
fn segments(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !key.is_empty() {
            out.push(Seg::Key(key));
        }
        while let Some(end) = rest.find(']') {
            if let Ok(i) = rest[1..end].parse() {
                out.push(Seg::Index(i));
            }
            rest = &rest[end + 1..];
        }
    }
    out
}

/// Any YAML node, with positions on its children.
enum Node {
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Scalar,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML node")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_none<E: de::Error>(self) -> std::result::Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Spanned<Node>>()? {
            items.push(n);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<super::Text>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((
                Spanned::new(key.value.0, key.referenced, key.defined),
                value,
            ));
        }
        Ok(Node::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fields_by_path() {
        let text = "route:\n  receiver: a\n  routes:\n    - receiver: b\n    - receiver: c\n      matchers: [x=y]\n";
        assert_eq!(
            position_of(text, "route.routes[1].matchers"),
            Some(((6, 7), true))
        );
        assert_eq!(
            position_of(text, "route.routes[0].receiver"),
            Some(((4, 7), true))
        );
        assert_eq!(
            position_of(text, "route.routes[0].group_by"),
            Some(((4, 7), false))
        );
    }
}
