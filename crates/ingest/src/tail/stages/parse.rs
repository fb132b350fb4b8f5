//! Parsing stages: `json`, `logfmt`, `regex` and `cri` (`docker` is a
//! `json` stage with fixed expressions, see [`Json::docker`]).
//!
//! `json` expressions are a subset of JMESPath: dotted field names
//! (`a.b.c`), quoted names (`a."b.c"`, for keys with dots or dashes) and
//! array indexes (`items[0]`, negative from the end). Functions,
//! projections, filters and slices are refused when the config is read.

use super::{Entry, Flow};
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// `json: {expressions, source, drop_malformed}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonConfig {
    /// `name: expression` (empty expression: the field named `name`).
    #[serde(default)]
    pub expressions: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub source: Option<String>,
    /// Drop lines that are not JSON objects (Promtail: false).
    #[serde(default)]
    pub drop_malformed: bool,
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Field(String),
    Index(i64),
}

/// Parses our JMESPath subset.
pub fn parse_path(expr: &str) -> Result<Vec<Step>, String> {
    let bad =
        |what: &str| format!("json expression {expr:?}: {what} (supported: a.b, a.\"b-c\", a[0])");
    let b = expr.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let mut need_field = true;
    while i < b.len() {
        match b[i] {
            b'.' if !need_field => {
                need_field = true;
                i += 1;
            }
            b'"' if need_field => {
                let mut s = String::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(bad("unterminated quoted name")),
                        Some(b'"') => break,
                        Some(b'\\') if i + 1 < b.len() => {
                            s.push(b[i + 1] as char);
                            i += 2;
                        }
                        Some(_) => {
                            let ch = expr[i..].chars().next().unwrap_or('?');
                            s.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                i += 1;
                out.push(Step::Field(s));
                need_field = false;
            }
            b'[' if !need_field || out.is_empty() => {
                let end = expr[i..]
                    .find(']')
                    .map(|e| i + e)
                    .ok_or_else(|| bad("unterminated ["))?;
                let n: i64 = expr[i + 1..end]
                    .trim()
                    .parse()
                    .map_err(|_| bad("only numeric indexes are supported"))?;
                out.push(Step::Index(n));
                i = end + 1;
                need_field = false;
            }
            c if need_field && (c == b'_' || c.is_ascii_alphabetic()) => {
                let start = i;
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                out.push(Step::Field(expr[start..i].to_owned()));
                need_field = false;
            }
            _ => return Err(bad(&format!("unexpected {:?} at offset {i}", b[i] as char))),
        }
    }
    if need_field || out.is_empty() {
        return Err(bad("incomplete expression"));
    }
    Ok(out)
}

fn walk<'a>(v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Step::Field(f), Value::Object(m)) => m.get(f)?,
            (Step::Index(n), Value::Array(a)) => {
                let i = if *n < 0 { a.len() as i64 + n } else { *n };
                a.get(usize::try_from(i).ok()?)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

/// A JSON value as the extracted map holds it: strings as they are,
/// numbers and booleans as text, objects and arrays as compact JSON;
/// `null` is absent.
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

pub struct Json {
    exprs: Vec<(String, Vec<Step>)>,
    source: Option<String>,
    drop_malformed: bool,
}

impl Json {
    pub fn new(c: &JsonConfig) -> Result<Json, String> {
        if c.expressions.is_empty() {
            return Err("json stage needs expressions".into());
        }
        let exprs = c
            .expressions
            .iter()
            .map(|(k, v)| {
                let e = v.as_deref().filter(|s| !s.is_empty()).unwrap_or(k);
                parse_path(e).map(|p| (k.clone(), p))
            })
            .collect::<Result<_, _>>()?;
        Ok(Json {
            exprs,
            source: c.source.clone(),
            drop_malformed: c.drop_malformed,
        })
    }

    /// Docker's json-file line: `log`, `stream`, `time`.
    pub fn docker() -> Json {
        let f = |k: &str, p: &str| (k.to_owned(), vec![Step::Field(p.to_owned())]);
        Json {
            exprs: vec![
                f("output", "log"),
                f("stream", "stream"),
                f("timestamp", "time"),
            ],
            source: None,
            drop_malformed: false,
        }
    }

    pub fn apply(&self, e: &mut Entry) -> Flow {
        let Some(text) = e.source(&self.source) else {
            return Flow::Next(std::mem::take(e));
        };
        let v: Value = match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            _ if self.drop_malformed => return Flow::Dropped("malformed_json".into()),
            _ => return Flow::Next(std::mem::take(e)),
        };
        for (name, path) in &self.exprs {
            if let Some(t) = walk(&v, path).and_then(value_text) {
                e.extracted.insert(name.clone(), t);
            }
        }
        Flow::Next(std::mem::take(e))
    }
}

/// `logfmt: {mapping, source}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogfmtConfig {
    /// `name: key` (empty key: the key `name`).
    pub mapping: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub source: Option<String>,
}

pub struct Logfmt {
    /// key in the line -> names in the extracted map.
    mapping: Vec<(String, String)>,
    source: Option<String>,
}

impl Logfmt {
    pub fn new(c: &LogfmtConfig) -> Logfmt {
        Logfmt {
            mapping: c
                .mapping
                .iter()
                .map(|(k, v)| {
                    let key = v.as_deref().filter(|s| !s.is_empty()).unwrap_or(k);
                    (key.to_owned(), k.clone())
                })
                .collect(),
            source: c.source.clone(),
        }
    }

    pub fn apply(&self, e: &mut Entry) -> Flow {
        if let Some(text) = e.source(&self.source) {
            let pairs = logfmt_pairs(text);
            for (key, name) in &self.mapping {
                if let Some((_, v)) = pairs.iter().rev().find(|(k, _)| k == key) {
                    e.extracted.insert(name.clone(), v.clone());
                }
            }
        }
        Flow::Next(std::mem::take(e))
    }
}

/// `key=value key2="quoted \" value" flag` as go-logfmt reads it: a key
/// without `=` has an empty value; quoted values take Go escapes.
pub fn logfmt_pairs(s: &str) -> Vec<(String, String)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        while i < b.len() && b[i] <= b' ' {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] > b' ' && b[i] != b'=' && b[i] != b'"' {
            i += 1;
        }
        let key = &s[ks..i];
        if i < b.len() && b[i] == b'=' {
            i += 1;
            let val = if i < b.len() && b[i] == b'"' {
                i += 1;
                let mut v = String::new();
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                        v.push(match b[i] {
                            b'n' => '\n',
                            b't' => '\t',
                            b'r' => '\r',
                            c => c as char,
                        });
                        i += 1;
                    } else {
                        let ch = s[i..].chars().next().unwrap_or(' ');
                        v.push(ch);
                        i += ch.len_utf8();
                    }
                }
                i += 1;
                v
            } else {
                let vs = i;
                while i < b.len() && b[i] > b' ' {
                    i += 1;
                }
                s[vs..i].to_owned()
            };
            if !key.is_empty() {
                out.push((key.to_owned(), val));
            }
        } else {
            if !key.is_empty() {
                out.push((key.to_owned(), String::new()));
            }
            if i < b.len() && b[i] == b'"' {
                i += 1;
            }
        }
    }
    out
}

/// `regex: {expression, source}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegexConfig {
    pub expression: String,
    #[serde(default)]
    pub source: Option<String>,
}

pub struct RegexStage {
    re: Regex,
    source: Option<String>,
}

impl RegexStage {
    pub fn new(c: &RegexConfig) -> Result<RegexStage, String> {
        let re =
            sightline_core::goregex::compile(&c.expression, sightline_core::goregex::Anchor::None)
                .map_err(|e| format!("invalid regex {:?}: {e}", c.expression))?;
        if re.capture_names().flatten().next().is_none() {
            return Err(format!(
                "regex {:?} has no named capture group",
                c.expression
            ));
        }
        Ok(RegexStage {
            re,
            source: c.source.clone(),
        })
    }

    pub fn apply(&self, e: &mut Entry) -> Flow {
        let found: Vec<(String, String)> = match e.source(&self.source) {
            Some(text) => match self.re.captures(text) {
                Some(caps) => self
                    .re
                    .capture_names()
                    .flatten()
                    .filter_map(|n| caps.name(n).map(|m| (n.to_owned(), m.as_str().to_owned())))
                    .collect(),
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        e.extracted.extend(found);
        Flow::Next(std::mem::take(e))
    }
}

/// `cri: {max_partial_lines, max_partial_line_size, max_partial_line_size_truncate}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriConfig {
    /// Most partial (`P`) lines joined (Promtail: 100).
    #[serde(default)]
    pub max_partial_lines: Option<usize>,
    #[serde(default)]
    pub max_partial_line_size: Option<usize>,
    #[serde(default)]
    pub max_partial_line_size_truncate: bool,
}

/// CRI's `<time> <stream> <P|F> <content>`; `P` lines are joined with the
/// next until an `F` line.
pub struct Cri {
    max_lines: usize,
    max_size: Option<usize>,
    truncate: bool,
    partial: Option<(Entry, usize)>,
}

impl Cri {
    pub fn new(c: CriConfig) -> Cri {
        Cri {
            max_lines: c.max_partial_lines.unwrap_or(100).max(1),
            max_size: c.max_partial_line_size.filter(|n| *n > 0),
            truncate: c.max_partial_line_size_truncate,
            partial: None,
        }
    }

    pub fn apply(&mut self, mut e: Entry) -> Flow {
        let mut it = e.line.splitn(4, ' ');
        let (Some(time), Some(stream), Some(flags), content) =
            (it.next(), it.next(), it.next(), it.next())
        else {
            return Flow::Next(e);
        };
        let content = content.unwrap_or("").to_owned();
        let (time, stream) = (time.to_owned(), stream.to_owned());
        let partial = flags.split(':').next() == Some("P");
        let mut content = content;
        if let (true, Some(max)) = (self.truncate, self.max_size) {
            if content.len() > max {
                let mut cut = max;
                while !content.is_char_boundary(cut) {
                    cut -= 1;
                }
                content.truncate(cut);
            }
        }
        e.extracted.insert("time".into(), time.clone());
        e.extracted.insert("timestamp".into(), time);
        e.extracted.insert("stream".into(), stream);
        if let Some((mut held, n)) = self.partial.take() {
            let joined = held.extracted.get("content").cloned().unwrap_or_default() + &content;
            held.extracted.insert("content".into(), joined);
            held.end = e.end;
            if partial && n + 1 < self.max_lines {
                self.partial = Some((held, n + 1));
                return Flow::Held;
            }
            return Flow::Next(held);
        }
        e.extracted.insert("content".into(), content);
        if partial {
            self.partial = Some((e, 1));
            return Flow::Held;
        }
        Flow::Next(e)
    }

    pub fn flush(&mut self) -> Vec<Entry> {
        self.partial.take().map(|(e, _)| e).into_iter().collect()
    }

    pub fn held_from(&self) -> Option<u64> {
        self.partial.as_ref().map(|(e, _)| e.start)
    }
}
