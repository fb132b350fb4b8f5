//! `| json` when only some labels are needed (a metric query grouping `by`
//! a few labels): the line is read by serde's streaming deserializer,
//! values of fields that cannot become a needed label are skipped without
//! being built, and only the needed ones are decoded. The line is still
//! read to its end, so a malformed line sets `__error__` as the full parser
//! does, and the needed labels get exactly the values the full parser
//! would give them (the same flattening: nested keys joined with `_`,
//! arrays not extracted, numbers as the line writes them).

use super::parse::sanitize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Calls `put(name, value)` for each flattened field of the JSON object in
/// `line` whose label name (sanitized, or with Loki's `_extracted` suffix)
/// is in `keep`. An error for a line that is not a JSON object.
pub fn extract(
    line: &str,
    keep: &HashSet<String>,
    put: &mut dyn FnMut(&str, String),
) -> Result<(), String> {
    // The first byte each needed name has, as a field's name would be
    // written as a label: most fields of a line share none with the
    // needed names and are ruled out on it.
    let mut first = [false; 256];
    for k in keep {
        if let Some(&b) = k.as_bytes().first() {
            first[usize::from(b)] = true;
        }
    }
    let wanted = |name: &str| match name.as_bytes().first() {
        Some(&b) if !first[usize::from(label_byte(b, true))] => (false, false),
        _ => wanted(keep, name),
    };
    if let Some(found) = super::json_scan::simple(line, &wanted) {
        for (name, value) in found.iter() {
            put(name, (*value).to_owned());
        }
        return Ok(());
    }
    extract_general(line, keep, put)
}

/// [`extract`] by serde's streaming deserializer, for every line.
pub(super) fn extract_general(
    line: &str,
    keep: &HashSet<String>,
    put: &mut dyn FnMut(&str, String),
) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_str(line);
    Object {
        prefix: String::new(),
        keep,
        put,
    }
    .deserialize(&mut de)
    .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())
}

/// Whether a field named `name` (flattened) may lead to a needed label:
/// it is one (or its `_extracted` form), or nested fields under it may be.
/// Called for every field of every line: `keep` holds a handful of names,
/// so a scan without hashing or allocation beats a set lookup.
fn wanted(keep: &HashSet<String>, name: &str) -> (bool, bool) {
    if name.is_ascii() {
        return wanted_ascii(keep, name);
    }
    wanted_sanitized(keep, name)
}

/// [`wanted`] by sanitizing the name first.
fn wanted_sanitized(keep: &HashSet<String>, name: &str) -> (bool, bool) {
    let valid = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    let s: std::borrow::Cow<str> = if valid {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(sanitize(name))
    };
    let (mut here, mut below) = (false, false);
    for k in keep {
        if let Some(rest) = k.strip_prefix(&*s) {
            if rest.is_empty() || rest == "_extracted" {
                here = true;
            } else if rest.len() > 1 && rest.starts_with('_') {
                below = true;
            }
        }
    }
    (here, below)
}

/// [`wanted`] for an ASCII name, compared with each needed name as
/// [`sanitize`] would write it, without writing it: a leading digit gets a
/// `_` before it, every byte but letters, digits and `_` becomes `_`.
fn wanted_ascii(keep: &HashSet<String>, name: &str) -> (bool, bool) {
    let lead = name.as_bytes().first().is_some_and(u8::is_ascii_digit);
    let (mut here, mut below) = (false, false);
    for k in keep {
        let k = k.as_bytes();
        let k = match (lead, k) {
            (true, [b'_', rest @ ..]) => rest,
            (true, _) => continue,
            (false, k) => k,
        };
        if k.len() < name.len() {
            continue;
        }
        let same = name.bytes().zip(k).all(|(a, &b)| label_byte(a, false) == b);
        if !same {
            continue;
        }
        let rest = &k[name.len()..];
        if rest.is_empty() || rest == b"_extracted" {
            here = true;
        } else if rest.len() > 1 && rest[0] == b'_' {
            below = true;
        }
    }
    (here, below)
}

/// A name's byte as [`sanitize`] writes it (`_` for every byte of a
/// character that is not a letter, digit or `_`, where sanitize writes one
/// `_` per character: only the first byte is compared so, or ASCII names);
/// `first`: a leading digit is written after a `_`.
fn label_byte(b: u8, first: bool) -> u8 {
    if b.is_ascii_digit() && first {
        b'_'
    } else if b.is_ascii_alphanumeric() || b == b'_' {
        b
    } else {
        b'_'
    }
}

struct Object<'a> {
    prefix: String,
    keep: &'a HashSet<String>,
    put: &'a mut dyn FnMut(&str, String),
}

impl<'de> DeserializeSeed<'de> for Object<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Object<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
            let name = if self.prefix.is_empty() {
                k.into_owned()
            } else {
                format!("{}_{k}", self.prefix)
            };
            match wanted(self.keep, &name) {
                (false, false) => {
                    m.next_value::<IgnoredAny>()?;
                }
                (here, below) => {
                    // Decoded only here: needed itself, or an object
                    // holding needed fields. Values as the full parser
                    // writes them (numbers as the line has them).
                    let raw: &serde_json::value::RawValue = m.next_value()?;
                    let text = raw.get();
                    match text.as_bytes()[0] {
                        b'{' if below => {
                            let (keep, put) = (self.keep, &mut *self.put);
                            let mut only = |k: &str, v: String| {
                                if wanted(keep, k).0 {
                                    put(k, v)
                                }
                            };
                            super::parse::flatten_raw(&mut only, &name, text)
                                .map_err(serde::de::Error::custom)?;
                        }
                        b'{' | b'[' => {}
                        _ if !here => {}
                        b'"' => (self.put)(
                            &name,
                            serde_json::from_str::<String>(text)
                                .map_err(serde::de::Error::custom)?,
                        ),
                        b'n' => (self.put)(&name, String::new()),
                        _ => (self.put)(&name, text.to_owned()),
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str, keep: &[&str]) -> Result<Vec<(String, String)>, String> {
        let keep: HashSet<String> = keep.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        extract(line, &keep, &mut |k, v| out.push((k.to_owned(), v)))?;
        Ok(out)
    }

    #[test]
    fn wanted_without_sanitizing_agrees_with_sanitizing() {
        // Issue 15: the allocation-free comparison of ASCII names.
        let keep: HashSet<String> = ["status", "_1st", "req_status", "a_b_extracted", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for name in [
            "status",
            "stat",
            "1st",
            "_1st",
            "1",
            "req",
            "req.status",
            "a-b",
            "a_b",
            "a",
            "",
            "x",
            "x_",
            "xy",
            "status_extracted",
            "statusx",
            "s t",
        ] {
            assert_eq!(
                wanted_ascii(&keep, name),
                wanted_sanitized(&keep, name),
                "{name:?}"
            );
        }
    }

    #[test]
    fn only_needed_fields_with_the_full_parser_s_values() {
        // Issue 15: values as `| json` gives them (checked by hand against
        // the flattening rules: nested keys joined with `_`, numbers as
        // written, null as empty).
        let line = r#"{"status":503,"req":{"path":"/a","ms":1.50,"h":{"x-id":"7"}},"user":null,"tags":[1],"ok":true,"price":2.50}"#;
        assert_eq!(
            run(
                line,
                &["status", "req_path", "req_h_x_id", "user", "ok", "price"]
            )
            .unwrap(),
            vec![
                ("status".into(), "503".into()),
                ("req_path".into(), "/a".into()),
                ("req_h_x-id".into(), "7".into()),
                ("user".into(), "".into()),
                ("ok".into(), "true".into()),
                ("price".into(), "2.50".into()),
            ]
        );
        assert_eq!(run(line, &["nothing"]).unwrap(), vec![]);
        // A malformed line is an error even when its bad part is skipped.
        assert!(run(r#"{"status":200,"junk":[1,2"#, &["status"]).is_err());
        assert!(run(r#"[1,2]"#, &["status"]).is_err());
        assert!(run(r#"{"status":200} trailing"#, &["status"]).is_err());
    }
}
