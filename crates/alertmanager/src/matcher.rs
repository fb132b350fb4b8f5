//! Alertmanager's label matchers: the `matchers:` strings of routes and
//! inhibit rules, silences' matchers, `amtool`'s and the API's filters.
//!
//! - [`Matcher`] is one `name op value` test; regexes are anchored as
//!   Alertmanager anchors them (`^(?:...)$`) and keep Go's ASCII meaning of
//!   `\d`, `\w`, `\s` and `\b`.
//! - [`parse_matchers`] / [`parse_matcher`] read Alertmanager 0.25's text
//!   syntax: `{a="b", c=~"x.*"}`, with or without braces, quoted or not.
//! - [`Matchers`] is a list that matches when all of its members do.
//! - [`ApiMatcher`] is the API v2 JSON shape (`name`, `value`, `isRegex`,
//!   `isEqual`).

use std::fmt;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::alert::LabelSet;
use crate::{Error, Result};

/// The four matching operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regexp,
    /// `!~`
    NotRegexp,
}

impl MatchOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regexp => "=~",
            MatchOp::NotRegexp => "!~",
        }
    }

    /// True for `=~` and `!~`.
    pub fn is_regex(self) -> bool {
        matches!(self, MatchOp::Regexp | MatchOp::NotRegexp)
    }

    /// True for `=` and `=~`.
    pub fn is_equal(self) -> bool {
        matches!(self, MatchOp::Equal | MatchOp::Regexp)
    }
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One label matcher. A label the alert lacks is matched as the empty string.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The label name.
    pub name: String,
    /// The operator.
    pub op: MatchOp,
    /// The value, or the regex as written (unanchored).
    pub value: String,
    /// The compiled, anchored regex for `=~` and `!~`.
    pub re: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Eq for Matcher {}

impl std::hash::Hash for Matcher {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.op.hash(state);
        self.value.hash(state);
    }
}

impl Matcher {
    /// Builds a matcher, compiling the regex of `=~` and `!~` anchored on both ends.
    pub fn new(name: impl Into<String>, op: MatchOp, value: impl Into<String>) -> Result<Matcher> {
        let name = name.into();
        let value = value.into();
        let re = if op.is_regex() {
            Some(compile_anchored(&value)?)
        } else {
            None
        };
        Ok(Matcher {
            name,
            op,
            value,
            re,
        })
    }

    /// Whether the label value `v` (empty for a missing label) passes.
    pub fn matches(&self, v: &str) -> bool {
        match (self.op, &self.re) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::Regexp, Some(re)) => re.is_match(v),
            (MatchOp::NotRegexp, Some(re)) => !re.is_match(v),
            // Unreachable through `new`; a hand-built regex matcher without
            // a compiled regex matches nothing rather than everything.
            (MatchOp::Regexp, None) => false,
            (MatchOp::NotRegexp, None) => true,
        }
    }

    /// Whether the label set passes (a missing label counts as "").
    pub fn matches_labels(&self, labels: &LabelSet) -> bool {
        self.matches(labels.get(&self.name).map(String::as_str).unwrap_or(""))
    }
}

/// Printed as Alertmanager 0.25 prints it: `name="value"`, with only `\\`,
/// newline and `"` escaped (OpenMetrics escaping, not Go's `%q`: a tab or
/// a non-printable character is printed as it is). Route keys are built from
/// this, so it must be exact.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}\"", self.name, self.op)?;
        for c in self.value.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '"' => f.write_str("\\\"")?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

/// Compiles `^(?:value)$` with Go's meaning (ASCII Perl classes, literal
/// `{` and `\Q...\E`; see `sightline_core::goregex`).
pub(crate) fn compile_anchored(value: &str) -> Result<Regex> {
    sightline_core::goregex::compile(value, sightline_core::goregex::Anchor::Whole)
        .map_err(|e| Error::BadInput(format!("invalid regular expression {value:?}: {e}")))
}

/// Quotes `s` as Go's `strconv.Quote` (`%q`) does, as label sets print in
/// group keys: printable characters stay,
/// `"` and `\` are escaped, control characters use `\n`-style or `\xNN`
/// escapes and other non-printable characters `\uXXXX` / `\UXXXXXXXX`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint`: not a control character, not
/// a space other than U+0020, not a format character, separator or
/// private-use / unassigned code point we know of.
fn go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    !matches!(u,
        0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f
        | 0x2028..=0x202e | 0x2060..=0x206f | 0xd800..=0xf8ff | 0xfeff
        | 0xfff9..=0xfffb | 0xfffe | 0xffff | 0xe0000..=0x10ffff)
}

/// A list of matchers that passes when every member passes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Matchers(pub Vec<Matcher>);

impl Matchers {
    /// Whether every matcher passes on `labels` (missing labels are "").
    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.0.iter().all(|m| m.matches_labels(labels))
    }

    /// Sorts as Alertmanager sorts a route's matchers before printing its
    /// key: by name, then value, then operator.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then_with(|| a.value.cmp(&b.value))
                .then_with(|| a.op.cmp(&b.op))
        });
    }
}

impl std::ops::Deref for Matchers {
    type Target = Vec<Matcher>;
    fn deref(&self) -> &Vec<Matcher> {
        &self.0
    }
}

impl std::ops::DerefMut for Matchers {
    fn deref_mut(&mut self) -> &mut Vec<Matcher> {
        &mut self.0
    }
}

impl From<Vec<Matcher>> for Matchers {
    fn from(v: Vec<Matcher>) -> Self {
        Matchers(v)
    }
}

/// Printed as Alertmanager prints a route's matchers: `{a="b",c=~"d"}`
/// (comma, no space).
impl fmt::Display for Matchers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{m}")?;
        }
        f.write_str("}")
    }
}

/// Parses a comma-separated list of matchers, with or without the
/// surrounding braces, as Alertmanager 0.25's `labels.ParseMatchers` does:
/// commas inside double quotes do not split, and `{}` or an empty string
/// give no matchers.
pub fn parse_matchers(s: &str) -> Result<Vec<Matcher>> {
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.strip_suffix('}').unwrap_or(s);
    let mut tokens = Vec::new();
    let mut token = String::new();
    let mut in_quotes = false;
    let mut escaped = false;
    for c in s.chars() {
        match c {
            ',' if !in_quotes => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            // Inside quotes a comma is kept and, as in Alertmanager, leaves
            // the escape state alone.
            ',' => {}
            '"' => {
                if escaped {
                    escaped = false;
                } else {
                    in_quotes = !in_quotes;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    // Only the last token is dropped when blank: `a=b,` fails on the empty
    // token before it only if it is not last, as in Alertmanager.
    let last = go_trim_space(&token);
    if !last.is_empty() {
        tokens.push(last.to_owned());
    }
    tokens.iter().map(|t| parse_matcher(t)).collect()
}

/// Go's `unicode.IsSpace` for ASCII plus the Unicode spaces; what
/// `strings.TrimSpace` trims.
fn go_trim_space(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace())
}

/// RE2's `\s`: what Alertmanager's matcher regex skips around the name,
/// the operator and the value.
fn is_re2_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

/// Parses one matcher: `name op value`, the value optionally in double
/// quotes with `\"`, `\\` and `\n` escapes, surrounding whitespace ignored.
pub fn parse_matcher(s: &str) -> Result<Matcher> {
    let bad = || Error::BadInput(format!("bad matcher format: {s}"));
    let rest = s.trim_start_matches(is_re2_space);
    let name_len = rest
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
        })
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return Err(bad());
    }
    let name = &rest[..name_len];
    let rest = rest[name_len..].trim_start_matches(is_re2_space);
    // `=~` before `=`, so the `~` is not taken as part of the value.
    let (op, rest) = if let Some(r) = rest.strip_prefix("=~") {
        (MatchOp::Regexp, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (MatchOp::Equal, r)
    } else if let Some(r) = rest.strip_prefix("!=") {
        (MatchOp::NotEqual, r)
    } else if let Some(r) = rest.strip_prefix("!~") {
        (MatchOp::NotRegexp, r)
    } else {
        return Err(bad());
    };
    let raw_all = rest
        .trim_start_matches(is_re2_space)
        .trim_end_matches(is_re2_space);
    let (raw, mut expect_quote) = match raw_all.strip_prefix('"') {
        Some(r) => (r, true),
        None => (raw_all, false),
    };
    let unquoted_err = || {
        Error::BadInput(format!(
            "matcher value contains unescaped double quote: {raw_all}"
        ))
    };
    let mut value = String::with_capacity(raw.len());
    let mut escaped = false;
    for (i, c) in raw.char_indices() {
        let last = i + c.len_utf8() == raw.len();
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                // A needless escape keeps its backslash.
                _ => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        match c {
            '\\' if !last => escaped = true,
            '"' => {
                if !expect_quote || !last {
                    return Err(unquoted_err());
                }
                expect_quote = false;
            }
            _ => value.push(c),
        }
    }
    if expect_quote {
        return Err(unquoted_err());
    }
    Matcher::new(name, op, value)
}

/// A matcher in the API v2 JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMatcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    /// Absent means `true`, as in Alertmanager's API.
    #[serde(default = "default_is_equal")]
    pub is_equal: bool,
}

fn default_is_equal() -> bool {
    true
}

impl From<&Matcher> for ApiMatcher {
    fn from(m: &Matcher) -> Self {
        ApiMatcher {
            name: m.name.clone(),
            value: m.value.clone(),
            is_regex: m.op.is_regex(),
            is_equal: m.op.is_equal(),
        }
    }
}

impl TryFrom<&ApiMatcher> for Matcher {
    type Error = Error;
    fn try_from(a: &ApiMatcher) -> Result<Matcher> {
        let op = match (a.is_regex, a.is_equal) {
            (false, true) => MatchOp::Equal,
            (false, false) => MatchOp::NotEqual,
            (true, true) => MatchOp::Regexp,
            (true, false) => MatchOp::NotRegexp,
        };
        Matcher::new(a.name.clone(), op, a.value.clone())
    }
}

impl TryFrom<ApiMatcher> for Matcher {
    type Error = Error;
    fn try_from(a: ApiMatcher) -> Result<Matcher> {
        Matcher::try_from(&a)
    }
}

#[cfg(test)]
mod tests;
