//! Label matchers, as PromQL and the Prometheus API use them.

use crate::{Error, Labels, Result};
use regex::Regex;
use std::fmt;

/// The four matching operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~` (fully anchored)
    Regex,
    /// `!~` (fully anchored)
    NotRegex,
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        })
    }
}

/// One label matcher. A missing label matches as the empty string, so
/// `foo=""` selects series without `foo`, as in Prometheus.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The label name.
    pub name: String,
    /// The operator.
    pub op: MatchOp,
    /// The value or the regular expression's source.
    pub value: String,
    re: Option<Regex>,
}

/// Most compiled regexes [`compile_anchored`] keeps; past that it starts over.
const REGEX_CACHE_MAX: usize = 1024;

/// Compiles `^(?s:src)$` with Go's meaning ([`crate::goregex`]), reusing an earlier compilation of the same
/// source. Rules and dashboards evaluate the same selectors over and over,
/// and compiling a regex costs far more than matching the few label values
/// a selector reads (Prometheus compiles once per parse, which for rules is
/// once per load). A `Regex` is immutable, so sharing one changes nothing
/// but the cost; the cache is bounded, and failures are not kept.
fn compile_anchored(src: &str) -> std::result::Result<Regex, regex::Error> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(re) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(src) {
        return Ok(re.clone());
    }
    let re = crate::goregex::compile(src, crate::goregex::Anchor::WholeDotAll)?;
    let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
    if c.len() >= REGEX_CACHE_MAX {
        c.clear();
    }
    c.insert(src.to_owned(), re.clone());
    Ok(re)
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    /// Builds a matcher; regexes are anchored on both ends, as Prometheus does.
    pub fn new(op: MatchOp, name: impl Into<String>, value: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let value = value.into();
        let re = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(compile_anchored(&value).map_err(|e| {
                Error::bad_data(format!(
                    "invalid regular expression {value:?} in matcher for {name:?}: {e}"
                ))
            })?),
            _ => None,
        };
        Ok(Matcher {
            name,
            op,
            value,
            re,
        })
    }

    /// `name="value"`, which cannot fail.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            re: None,
        }
    }

    /// Whether a single label value (empty when absent) matches.
    pub fn matches(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Equal => v == self.value,
            MatchOp::NotEqual => v != self.value,
            MatchOp::Regex => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRegex => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    /// Whether the empty string matches, i.e. whether series lacking the
    /// label are selected. Stores use this to decide between postings
    /// intersection and subtraction.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// Whether a whole series matches this matcher.
    pub fn matches_labels(&self, labels: &Labels) -> bool {
        self.matches(labels.get(&self.name).unwrap_or(""))
    }

    /// The compiled, anchored regex of a `=~`/`!~` matcher.
    pub fn regex(&self) -> Option<&Regex> {
        self.re.as_ref()
    }

    /// For a regex that is a plain alternation of literals (`a|b|c`), the
    /// literals; lets stores look values up instead of scanning.
    pub fn set_matches(&self) -> Option<Vec<String>> {
        if !matches!(self.op, MatchOp::Regex) {
            return None;
        }
        let special = |c: char| "\\.+*?()[]{}^$".contains(c);
        if self.value.chars().any(special) {
            return None;
        }
        Some(self.value.split('|').map(str::to_owned).collect())
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op, self.value)
    }
}

/// True when every matcher matches `labels`.
pub fn matches_all(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers.iter().all(|m| m.matches_labels(labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_anchored_and_dot_matches_newline() {
        let m = Matcher::new(MatchOp::Regex, "a", "fo.").unwrap();
        assert!(m.matches("foo"));
        assert!(!m.matches("xfoo"));
        assert!(!m.matches("food"));
        assert!(m.matches("fo\n"));
    }

    #[test]
    fn regex_reads_go_syntax() {
        // Go's \d is ASCII: U+0663 is an Arabic-Indic digit Prometheus does not match.
        let d = Matcher::new(MatchOp::Regex, "a", r"\d+").unwrap();
        assert!(d.matches("42") && !d.matches("\u{663}"));
        // Go reads a brace that starts no repetition literally.
        assert!(Matcher::new(MatchOp::Regex, "a", "x{")
            .unwrap()
            .matches("x{"));
    }

    #[test]
    fn missing_label_matches_as_empty() {
        let l = Labels::from_pairs([("x", "1")]);
        assert!(Matcher::equal("y", "").matches_labels(&l));
        assert!(!Matcher::new(MatchOp::NotEqual, "y", "")
            .unwrap()
            .matches_labels(&l));
    }

    #[test]
    fn set_matches_only_for_literal_alternations() {
        let m = Matcher::new(MatchOp::Regex, "a", "x|y").unwrap();
        assert_eq!(m.set_matches(), Some(vec!["x".into(), "y".into()]));
        assert_eq!(
            Matcher::new(MatchOp::Regex, "a", "x.*")
                .unwrap()
                .set_matches(),
            None
        );
    }

    #[test]
    fn bad_regex_is_bad_data() {
        let e = Matcher::new(MatchOp::Regex, "a", "(").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::BadData);
    }
}
