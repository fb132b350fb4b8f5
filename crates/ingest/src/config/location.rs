//! Turning YAML errors into `file:line:column: field.path: reason`.
//!
//! Serde errors carry a location from serde-saphyr and a field path from
//! `serde_path_to_error`. Validation errors found after deserializing carry
//! only a path, so [`locate`] re-reads the document as a tree of positioned
//! nodes (cheap, and only on the error path) to find the line of that field.

use crate::{Error, Result};
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::fmt;

/// An error that knows its field path but not yet its line.
pub(super) trait Located {
    fn path(&self) -> &str;
    fn message(&self) -> &str;
}

/// Deserializes `text`, refusing it with file, line, column and field path.
pub(crate) fn deserialize_located<T: DeserializeOwned>(text: &str, file: &str) -> Result<T> {
    let mut failed_path: Option<String> = None;
    let res = serde_saphyr::with_deserializer_from_str(text, |de| {
        let mut track = serde_path_to_error::Track::new();
        let out = T::deserialize(serde_path_to_error::Deserializer::new(de, &mut track));
        if out.is_err() {
            failed_path = Some(track.path().to_string());
        }
        out
    });
    res.map_err(|e| {
        let path = failed_path.filter(|p| p != "." && !p.is_empty());
        // Prefer the position of the field the path names (serde-saphyr
        // places some errors, like unknown keys or custom value errors, at
        // the enclosing mapping or nowhere); fall back to serde-saphyr's.
        let by_path = path.as_deref().and_then(|p| find_path(text, p));
        let saphyr = e
            .location()
            .map(|l| (l.line(), l.column()))
            .filter(|(l, _)| *l > 0);
        let (line, col) = match (by_path, saphyr) {
            (Some((pos, true)), _) => pos,
            (_, Some(pos)) => pos,
            (Some((pos, false)), None) => pos,
            (None, None) => (0, 0),
        };
        let message = plain_message(&e);
        Error::Config(format_error(file, line, col, path.as_deref(), &message))
    })
}

/// The error's own words, without the location and source snippet that
/// serde-saphyr's `Display` adds (we print those our way).
fn plain_message(e: &serde_saphyr::Error) -> String {
    let full = e.without_snippet().to_string();
    let first = full.lines().next().unwrap_or("").trim();
    // serde-saphyr appends " at line N, column M"; drop it.
    let msg = match first.rfind(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    let msg = msg.trim_start_matches("error: ").trim();
    // serde's own messages quote with backticks; Prometheus users read plain quotes.
    msg.replace('`', "\"")
}

fn format_error(file: &str, line: u64, col: u64, path: Option<&str>, message: &str) -> String {
    let mut out = String::from(file);
    if line > 0 {
        out.push_str(&format!(":{line}:{col}"));
    }
    out.push_str(": ");
    if let Some(p) = path {
        out.push_str(p);
        out.push_str(": ");
    }
    out.push_str(message);
    out
}

/// Formats a validation error, looking up the line of its field path.
pub(super) fn locate(text: &str, file: &str, err: &impl Located) -> String {
    let (line, col) = find_path(text, err.path()).map_or((0, 0), |(pos, _)| pos);
    let path = (!err.path().is_empty()).then_some(err.path());
    format_error(file, line, col, path, err.message())
}

/// Line and column of the field at `path` (`a.b[2].c`): of its key when
/// the path ends in a key, else of the node. When the field itself is
/// absent (a default, or an unknown key the tree could not follow), the
/// deepest existing ancestor is used and the flag is false.
fn find_path(text: &str, path: &str) -> Option<((u64, u64), bool)> {
    let root: Spanned<Node> = serde_saphyr::from_str(text).ok()?;
    let pos = |l: &serde_saphyr::Location| (l.line(), l.column());
    let mut at = pos(&root.referenced);
    let mut node = &root;
    for seg in split_path(path) {
        let next = match (&node.value, seg) {
            (Node::Map(entries), Seg::Key(k)) => entries
                .iter()
                .find(|(name, _)| name.value == k)
                .map(|(name, n)| (pos(&name.referenced), n)),
            (Node::Seq(items), Seg::Index(i)) => items.get(i).map(|n| (pos(&n.referenced), n)),
            _ => None,
        };
        match next {
            Some((p, n)) => {
                at = p;
                node = n;
            }
            None => return Some((at, false)),
        }
    }
    Some((at, true))
}

#[derive(Debug, PartialEq)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `scrape_configs[0].relabel_configs[1].regex` into segments. Map
/// keys with dots (label names cannot have them) are not a concern here.
fn split_path(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
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

/// A YAML node with positions on every child, for [`find_path`].
enum Node {
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Scalar,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Spanned<Node>>()? {
            items.push(n);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            let name = Spanned::new(key.value.0, key.referenced, key.defined);
            entries.push((name, value));
        }
        Ok(Node::Map(entries))
    }
}

/// A map key as text, whatever scalar type YAML gave it.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_keys_and_indexes() {
        assert_eq!(
            split_path("scrape_configs[0].relabel_configs[12].regex"),
            vec![
                Seg::Key("scrape_configs"),
                Seg::Index(0),
                Seg::Key("relabel_configs"),
                Seg::Index(12),
                Seg::Key("regex"),
            ]
        );
    }

    #[test]
    fn find_path_points_at_the_key() {
        let text = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_timeout: 1m\n    static_configs: [{targets: [x, y]}]\n";
        assert_eq!(
            find_path(text, "scrape_configs[1].scrape_timeout"),
            Some(((6, 5), true))
        );
        assert_eq!(
            find_path(text, "scrape_configs[1].static_configs[0].targets[1]"),
            Some(((7, 36), true))
        );
        // A field left out points at its parent.
        assert_eq!(
            find_path(text, "scrape_configs[0].scrape_timeout"),
            Some(((4, 5), false))
        );
    }
}
