//! Regexp matching for `=~` and `!~`, with the common shapes answered
//! without the regex engine: Grafana writes `.*foo.*`, `foo.*` and `a|b|c`
//! far more often than anything else, and a byte comparison is several
//! times faster than a regex match.

use regex::Regex;
use sightline_core::goregex::{compile, Anchor};

/// A compiled, fully anchored TraceQL regexp.
#[derive(Debug, Clone)]
pub struct Matcher {
    re: Regex,
    fast: Option<Fast>,
}

/// The pattern's meaning when it is one of the simple shapes.
#[derive(Debug, Clone, PartialEq)]
enum Fast {
    /// `foo` or `a|b|c`: equal to one of these.
    AnyOf(Vec<String>),
    /// `foo.*`
    Prefix(String),
    /// `.*foo`
    Suffix(String),
    /// `.*foo.*`
    Contains(String),
}

/// Characters that make a pattern more than a literal.
fn is_literal(s: &str) -> bool {
    !s.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

fn fast_form(pat: &str) -> Option<Fast> {
    // `.*` matches anything here, newlines included (`(?s)`), so these
    // shapes mean exactly what the string operations do.
    if let Some(mid) = pat.strip_prefix(".*").and_then(|p| p.strip_suffix(".*")) {
        return is_literal(mid).then(|| Fast::Contains(mid.to_string()));
    }
    if let Some(rest) = pat.strip_suffix(".*") {
        return is_literal(rest).then(|| Fast::Prefix(rest.to_string()));
    }
    if let Some(rest) = pat.strip_prefix(".*") {
        return is_literal(rest).then(|| Fast::Suffix(rest.to_string()));
    }
    let alts: Vec<&str> = pat.split('|').collect();
    alts.iter()
        .all(|a| is_literal(a))
        .then(|| Fast::AnyOf(alts.iter().map(|a| a.to_string()).collect()))
}

impl Matcher {
    /// Compiles a Go (RE2) pattern, anchored at both ends as Tempo anchors it.
    pub fn new(pat: &str) -> Result<Matcher, regex::Error> {
        Ok(Matcher {
            re: compile(pat, Anchor::WholeDotAll)?,
            fast: fast_form(pat),
        })
    }

    pub fn is_match(&self, s: &str) -> bool {
        match &self.fast {
            Some(Fast::AnyOf(v)) => v.iter().any(|x| x == s),
            Some(Fast::Prefix(p)) => s.starts_with(p.as_str()),
            Some(Fast::Suffix(p)) => s.ends_with(p.as_str()),
            Some(Fast::Contains(p)) => s.contains(p.as_str()),
            None => self.re.is_match(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_shapes_match_as_the_regex_does() {
        let pats = [
            "foo",
            "a|b|cc",
            ".*foo.*",
            "foo.*",
            ".*foo",
            ".*",
            "",
            "f.o",
            "fo+",
            "(foo)",
            "a|b.*",
            ".*x|y.*",
            "GET /items/.*",
            ".*.*",
        ];
        let inputs = [
            "",
            "foo",
            "xfoo",
            "foox",
            "xfooy",
            "a",
            "b",
            "cc",
            "c",
            "fao",
            "fooo",
            "x\nfoo\ny",
            "GET /items/1",
            "GET /items",
            "y",
            "ab",
        ];
        for p in pats {
            let m = Matcher::new(p).unwrap();
            let re = compile(p, Anchor::WholeDotAll).unwrap();
            for s in inputs {
                assert_eq!(m.is_match(s), re.is_match(s), "{p:?} on {s:?}");
            }
        }
        assert_eq!(fast_form(".*foo.*"), Some(Fast::Contains("foo".into())));
        assert_eq!(
            fast_form("a|b"),
            Some(Fast::AnyOf(vec!["a".into(), "b".into()]))
        );
        assert_eq!(fast_form("a.b"), None);
    }
}
