//! Line filters: substring (a precompiled finder), regular expression
//! (Go's syntax, unanchored), pattern (`<_>` for anything) and `ip()`.

use super::ip::IpMatcher;
use crate::ast::{FilterValue, LineFilter, LineOp};
use memchr::memmem::Finder;
use regex::Regex;

enum Alt {
    Contains(Box<Finder<'static>>),
    Regex(Regex),
    Pattern(Vec<String>, bool, bool),
    Ip(IpMatcher),
}

impl Alt {
    fn matches(&self, line: &str) -> bool {
        match self {
            Alt::Contains(f) => f.find(line.as_bytes()).is_some(),
            Alt::Regex(r) => r.is_match(line),
            Alt::Pattern(parts, open_start, open_end) => {
                pattern_matches(parts, *open_start, *open_end, line)
            }
            Alt::Ip(m) => m.in_line(line),
        }
    }
}

/// One compiled line filter.
pub struct LineMatcher {
    alts: Vec<Alt>,
    negated: bool,
    /// The substrings of a positive `|=` filter: a store may skip chunks
    /// whose token filter says none of them can occur.
    pub required_any: Option<Vec<String>>,
}

impl LineMatcher {
    pub fn new(f: &LineFilter) -> Result<LineMatcher, String> {
        let mut alts = Vec::new();
        for v in &f.values {
            alts.push(match (f.op, v) {
                (_, FilterValue::Ip(p)) => Alt::Ip(IpMatcher::new(p)?),
                (LineOp::Contains | LineOp::NotContains, FilterValue::Text(s)) => {
                    Alt::Contains(Box::new(Finder::new(s.as_bytes()).into_owned()))
                }
                (LineOp::Match | LineOp::NotMatch, FilterValue::Text(s)) => Alt::Regex(
                    sightline_core::goregex::compile(s, sightline_core::goregex::Anchor::None)
                        .map_err(|e| format!("invalid regular expression {s:?}: {e}"))?,
                ),
                (LineOp::Pattern | LineOp::NotPattern, FilterValue::Text(s)) => {
                    let (parts, a, b) = split_pattern(s);
                    Alt::Pattern(parts, a, b)
                }
            });
        }
        let required_any = (f.op == LineOp::Contains
            && f.values.iter().all(|v| matches!(v, FilterValue::Text(_))))
        .then(|| {
            f.values
                .iter()
                .filter_map(|v| match v {
                    FilterValue::Text(s) => Some(s.clone()),
                    FilterValue::Ip(_) => None,
                })
                .collect()
        });
        Ok(LineMatcher {
            alts,
            negated: f.op.negated(),
            required_any,
        })
    }

    /// A positive filter passes lines matching any alternative; a negative
    /// one, lines matching none.
    pub fn matches(&self, line: &str) -> bool {
        let any = self.alts.iter().any(|a| a.matches(line));
        any != self.negated
    }
}

/// A line-filter pattern: its literal parts between `<_>` captures, and
/// whether it starts and ends with a capture (unanchored there).
fn split_pattern(p: &str) -> (Vec<String>, bool, bool) {
    let mut parts = Vec::new();
    let mut rest = p;
    let open_start = p.starts_with('<') && p.find('>').is_some();
    let mut open_end = false;
    while !rest.is_empty() {
        match (
            rest.find('<'),
            rest.find('<')
                .and_then(|i| rest[i..].find('>').map(|j| i + j)),
        ) {
            (Some(i), Some(j)) => {
                if i > 0 {
                    parts.push(rest[..i].to_owned());
                }
                rest = &rest[j + 1..];
                open_end = rest.is_empty();
            }
            _ => {
                parts.push(rest.to_owned());
                rest = "";
                open_end = false;
            }
        }
    }
    (parts, open_start, open_end)
}

fn pattern_matches(parts: &[String], open_start: bool, open_end: bool, line: &str) -> bool {
    let mut pos = 0;
    for (k, part) in parts.iter().enumerate() {
        if k == 0 && !open_start {
            if !line.starts_with(part.as_str()) {
                return false;
            }
            pos = part.len();
            continue;
        }
        match line[pos..].find(part.as_str()) {
            Some(i) => pos += i + part.len(),
            None => return false,
        }
    }
    open_end || pos == line.len() || parts.is_empty()
}

/// Removes ANSI colour and control sequences (`ESC [ ... letter`).
pub fn decolorize(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}
