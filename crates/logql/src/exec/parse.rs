//! The parser stages: `json` (all fields flattened, or extraction
//! parameters), `logfmt`, `regexp`, `pattern` and `unpack`. Extracted
//! names are made valid label names; a name the stream already has gets
//! the suffix `_extracted`, as Loki does.

use super::{errors, LabelSet, ERROR, ERROR_DETAILS};
use crate::ast::Parser as Ast;
use regex::Regex;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashSet;

pub enum LineParser {
    Json(Vec<(String, Vec<PathStep>)>),
    Logfmt {
        strict: bool,
        keep_empty: bool,
        params: Vec<(String, String)>,
    },
    Regexp(Regex),
    Pattern(Vec<PatternPart>),
    Unpack,
}

pub enum PathStep {
    Key(String),
    Index(usize),
}

pub enum PatternPart {
    Literal(String),
    Capture(Option<String>),
}

impl LineParser {
    pub fn new(p: &Ast) -> Result<LineParser, String> {
        Ok(match p {
            Ast::Json(params) => LineParser::Json(
                params
                    .iter()
                    .map(|(l, e)| Ok((l.clone(), json_path(e)?)))
                    .collect::<Result<_, String>>()?,
            ),
            Ast::Logfmt {
                strict,
                keep_empty,
                params,
            } => LineParser::Logfmt {
                strict: *strict,
                keep_empty: *keep_empty,
                params: params.clone(),
            },
            Ast::Regexp(s) => LineParser::Regexp(
                sightline_core::goregex::compile(s, sightline_core::goregex::Anchor::None)
                    .map_err(|e| format!("invalid regexp parser {s:?}: {e}"))?,
            ),
            Ast::Pattern(s) => LineParser::Pattern(pattern_parts(s)?),
            Ast::Unpack => LineParser::Unpack,
        })
    }

    /// Parses `line` into `labels`. With `keep`, only labels named there
    /// are added (the others would be dropped by a grouping later), and
    /// `json` skips the other fields without decoding them.
    pub fn apply(
        &self,
        line: &mut Cow<'_, str>,
        labels: &mut LabelSet,
        stream: &LabelSet,
        keep: Option<&HashSet<String>>,
    ) {
        let put = |labels: &mut LabelSet, name: &str, value: String| {
            let mut name = sanitize(name);
            if name.is_empty() {
                return;
            }
            if stream.contains_key(&name) {
                name.push_str("_extracted");
            }
            if keep.is_none_or(|k| k.contains(&name)) {
                labels.insert(name, value);
            }
        };
        match self {
            LineParser::Json(params) if params.is_empty() => {
                let parsed = match keep {
                    Some(k) => super::json_select::extract(line, k, &mut |k, v| put(labels, k, v)),
                    None => flatten_raw(&mut |k, v| put(labels, k, v), "", line),
                };
                if let Err(e) = parsed {
                    fail(labels, errors::JSON, e);
                }
            }
            LineParser::Json(params) => match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(_)) => {
                    // The values as the line writes them: read again raw.
                    for (label, path) in params {
                        put(labels, label, raw_at(line, path).unwrap_or_default());
                    }
                }
                Ok(_) => fail(
                    labels,
                    errors::JSON,
                    "Value looks like object, but can't find closing '}' symbol".into(),
                ),
                Err(e) => fail(labels, errors::JSON, e.to_string()),
            },
            LineParser::Logfmt {
                strict,
                keep_empty,
                params,
            } => {
                let (pairs, err) = logfmt(line, *strict);
                if params.is_empty() {
                    for (k, v) in pairs {
                        if v.is_some() || *keep_empty {
                            put(labels, &k, v.unwrap_or_default());
                        }
                    }
                } else {
                    for (label, key) in params {
                        if let Some((_, v)) = pairs.iter().rev().find(|(k, _)| k == key) {
                            put(labels, label, v.clone().unwrap_or_default());
                        }
                    }
                }
                if let Some(e) = err {
                    fail(labels, errors::LOGFMT, e);
                }
            }
            LineParser::Regexp(re) => {
                if let Some(c) = re.captures(line) {
                    for name in re.capture_names().flatten() {
                        if let Some(m) = c.name(name) {
                            put(labels, name, m.as_str().to_owned());
                        }
                    }
                }
            }
            LineParser::Pattern(parts) => {
                if let Some(caps) = pattern_captures(parts, line) {
                    for (k, v) in caps {
                        put(labels, &k, v);
                    }
                }
            }
            LineParser::Unpack => match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(obj)) => {
                    let mut entry = None;
                    for (k, v) in obj {
                        match (k.as_str(), v) {
                            ("_entry", Value::String(s)) => entry = Some(s),
                            (_, Value::String(s)) => put(labels, &k, s),
                            _ => {}
                        }
                    }
                    if let Some(e) = entry {
                        *line = Cow::Owned(e);
                    }
                }
                Ok(_) => fail(labels, errors::JSON, "not a JSON object".into()),
                Err(e) => fail(labels, errors::JSON, e.to_string()),
            },
        }
    }
}

fn fail(labels: &mut LabelSet, kind: &str, details: String) {
    if !labels.contains_key(ERROR) {
        labels.insert(ERROR.into(), kind.into());
        labels.insert(ERROR_DETAILS.into(), details);
    }
}

/// A valid label name: letters, digits and `_`, not starting with a digit.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Every scalar field of the JSON object `text`, nested keys joined with
/// `_`; arrays are not extracted (as Loki's `json` without parameters).
/// Numbers keep the line's own text (`1.50` stays `1.50`, as Loki hands
/// them out; issue 15), strings are unquoted, `null` is empty.
pub(super) fn flatten_raw(
    put: &mut dyn FnMut(&str, String),
    prefix: &str,
    text: &str,
) -> Result<(), String> {
    use serde_json::value::RawValue;
    let fields: Vec<(Cow<'_, str>, &RawValue)> = match serde_json::from_str::<Members<'_>>(text) {
        Ok(m) => m.0,
        Err(e) => return Err(e.to_string()),
    };
    for (k, v) in fields {
        let name = if prefix.is_empty() {
            k.into_owned()
        } else {
            format!("{prefix}_{k}")
        };
        let raw = v.get();
        match raw.as_bytes()[0] {
            b'{' => flatten_raw(put, &name, raw)?,
            b'[' => {}
            b'"' => put(
                &name,
                serde_json::from_str::<String>(raw).map_err(|e| e.to_string())?,
            ),
            b'n' => put(&name, String::new()),
            _ => put(&name, raw.to_owned()),
        }
    }
    Ok(())
}

/// A JSON object's members in order, values unparsed; anything else is an
/// error.
struct Members<'a>(Vec<(Cow<'a, str>, &'a serde_json::value::RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Members<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    out.push((k, m.next_value()?));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// `a.b[0]["c d"]` as steps.
fn json_path(e: &str) -> Result<Vec<PathStep>, String> {
    let bad = || format!("invalid JSON expression {e:?}: write fields as a.b, a[0] or a[\"key\"]");
    let mut out = Vec::new();
    let mut rest = e.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(bad)?;
            let inner = r[..end].trim();
            if let Some(q) = inner.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
                out.push(PathStep::Key(q.to_owned()));
            } else {
                out.push(PathStep::Index(inner.parse().map_err(|_| bad())?));
            }
            rest = &r[end + 1..];
        } else {
            let r = rest.strip_prefix('.').unwrap_or(rest);
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return Err(bad());
            }
            out.push(PathStep::Key(r[..end].to_owned()));
            rest = &r[end..];
        }
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// The value at `path` in the JSON text `doc`: a string unquoted, `null`
/// empty, anything else (numbers, booleans, objects, arrays) as the very
/// text of the line, as Loki hands out json parameters (issue 15: an
/// object used to come back re-serialized with its keys sorted and its
/// escapes rewritten).
fn raw_at(doc: &str, path: &[PathStep]) -> Option<String> {
    use serde_json::value::RawValue;
    let mut cur: &RawValue = serde_json::from_str(doc).ok()?;
    for step in path {
        cur = match step {
            PathStep::Key(k) => {
                *serde_json::from_str::<std::collections::HashMap<String, &RawValue>>(cur.get())
                    .ok()?
                    .get(k.as_str())?
            }
            PathStep::Index(i) => *serde_json::from_str::<Vec<&RawValue>>(cur.get())
                .ok()?
                .get(*i)?,
        };
    }
    let text = cur.get();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(text).ok(),
        _ if text == "null" => Some(String::new()),
        _ => Some(text.to_owned()),
    }
}

/// go-logfmt's decoding: `key=value`, `key="quoted \"value\""`, a bare
/// `key` (no value). With `strict`, a malformed pair stops the decoding
/// with an error, the pairs before it kept (Loki's `--strict` "stops
/// parsing and returns early"); otherwise it is skipped, an unterminated
/// quoted value included (issue 15: it used to become a label).
fn logfmt(line: &str, strict: bool) -> (Vec<(String, Option<String>)>, Option<String>) {
    let b = line.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        while i < b.len() && b[i] <= b' ' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && b[i] > b' ' && b[i] != b'=' && b[i] != b'"' {
            i += 1;
        }
        let key = &line[start..i];
        if key.is_empty() {
            if strict {
                return (
                    out,
                    Some(format!(
                        "logfmt syntax error at pos {}: unexpected '{}'",
                        i + 1,
                        b[i] as char
                    )),
                );
            }
            // Skip the junk to the next space.
            while i < b.len() && b[i] > b' ' {
                i += 1;
            }
            continue;
        }
        if i >= b.len() || b[i] != b'=' {
            if i < b.len() && b[i] == b'"' {
                if strict {
                    return (
                        out,
                        Some(format!(
                            "logfmt syntax error at pos {}: unexpected '\"'",
                            i + 1
                        )),
                    );
                }
                while i < b.len() && b[i] > b' ' {
                    i += 1;
                }
                continue;
            }
            out.push((key.to_owned(), None));
            continue;
        }
        i += 1; // '='
        if i < b.len() && b[i] == b'"' {
            i += 1;
            let mut v = String::new();
            let mut closed = false;
            let mut chars = line[i..].char_indices();
            let base = i;
            while let Some((k, c)) = chars.next() {
                match c {
                    '"' => {
                        i = base + k + 1;
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, 'n')) => v.push('\n'),
                        Some((_, 't')) => v.push('\t'),
                        Some((_, 'r')) => v.push('\r'),
                        Some((_, e)) => v.push(e),
                        None => break,
                    },
                    c => v.push(c),
                }
            }
            if !closed {
                if strict {
                    return (
                        out,
                        Some(format!(
                            "logfmt syntax error at pos {}: unterminated quoted value",
                            line.len() + 1
                        )),
                    );
                }
                break;
            }
            out.push((key.to_owned(), Some(v)));
        } else {
            let vs = i;
            while i < b.len() && b[i] > b' ' {
                if strict && (b[i] == b'"' || b[i] == b'=') {
                    return (
                        out,
                        Some(format!(
                            "logfmt syntax error at pos {}: unexpected '{}'",
                            i + 1,
                            b[i] as char
                        )),
                    );
                }
                i += 1;
            }
            let v = &line[vs..i];
            out.push((
                key.to_owned(),
                if v.is_empty() {
                    None
                } else {
                    Some(v.to_owned())
                },
            ));
        }
    }
    (out, None)
}

fn pattern_parts(p: &str) -> Result<Vec<PatternPart>, String> {
    let mut out = Vec::new();
    let mut rest = p;
    while !rest.is_empty() {
        match rest.find('<') {
            Some(i) => {
                let close = rest[i..].find('>').map(|j| i + j);
                let name = close.map(|j| &rest[i + 1..j]);
                match (close, name) {
                    (Some(j), Some(n))
                        if n == "_"
                            || (!n.is_empty()
                                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) =>
                    {
                        if i > 0 {
                            out.push(PatternPart::Literal(rest[..i].to_owned()));
                        }
                        if matches!(out.last(), Some(PatternPart::Capture(_))) {
                            return Err(format!(
                                "invalid pattern {p:?}: two captures must be separated by text"
                            ));
                        }
                        out.push(PatternPart::Capture((n != "_").then(|| n.to_owned())));
                        rest = &rest[j + 1..];
                    }
                    _ => {
                        // A `<` that opens no capture is text.
                        out.push(PatternPart::Literal(rest[..=i].to_owned()));
                        rest = &rest[i + 1..];
                    }
                }
            }
            None => {
                out.push(PatternPart::Literal(rest.to_owned()));
                rest = "";
            }
        }
    }
    // Merge adjacent literals.
    let mut merged: Vec<PatternPart> = Vec::new();
    for p in out {
        match (merged.last_mut(), p) {
            (Some(PatternPart::Literal(a)), PatternPart::Literal(b)) => a.push_str(&b),
            (_, p) => merged.push(p),
        }
    }
    if !merged
        .iter()
        .any(|p| matches!(p, PatternPart::Capture(Some(_))))
    {
        return Err(format!(
            "invalid pattern {p:?}: at least one named capture <name> is needed"
        ));
    }
    Ok(merged)
}

/// The pattern's captures on `line`, or `None` when its text does not
/// match. A capture runs to the next literal (or the end of the line).
fn pattern_captures(parts: &[PatternPart], line: &str) -> Option<Vec<(String, String)>> {
    let mut pos = 0;
    let mut out = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        match &parts[i] {
            PatternPart::Literal(l) => {
                if !line[pos..].starts_with(l.as_str()) {
                    return None;
                }
                pos += l.len();
            }
            PatternPart::Capture(name) => {
                let end = match parts.get(i + 1) {
                    Some(PatternPart::Literal(l)) => pos + line[pos..].find(l.as_str())?,
                    _ => line.len(),
                };
                if let Some(n) = name {
                    out.push((n.clone(), line[pos..end].to_owned()));
                }
                pos = end;
            }
        }
        i += 1;
    }
    Some(out)
}
