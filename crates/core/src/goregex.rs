//! Go (RE2) regular expressions, compiled by the `regex` crate so that they
//! match what Prometheus and Alertmanager match.
//!
//! The two engines share RE2's syntax but differ in a few places that users
//! meet: Go's `\d`, `\w`, `\s` and `\b` are ASCII-only where the regex
//! crate's are Unicode-aware (so `\d` would also match Thai digits), and Go
//! reads a `{` that does not start a repetition and `\Q...\E` literally where
//! the regex crate refuses them. [`translate`] rewrites those; [`compile`]
//! also anchors the expression the way each caller's peer does ([`Anchor`]).
//!
//! ```
//! use sightline_core::goregex::{compile, Anchor};
//! let re = compile(r"\d+", Anchor::Whole).unwrap();
//! assert!(re.is_match("42") && !re.is_match("x42") && !re.is_match("\u{e52}"));
//! ```

use regex::Regex;

/// How a pattern is anchored, as each peer anchors it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// Not at all: Go's `regexp.MatchString` (template functions).
    None,
    /// `^(?:...)$`: Alertmanager's matchers and receiver filters, and
    /// Prometheus 2.42's relabeling.
    Whole,
    /// `^(?s:...)$`: Prometheus's label matchers, where `.` matches a newline.
    WholeDotAll,
}

/// Compiles the Go regexp `src` with Go's meaning, anchored as `anchor` says.
pub fn compile(src: &str, anchor: Anchor) -> Result<Regex, regex::Error> {
    let body = translate(src);
    match anchor {
        Anchor::None => Regex::new(&body),
        Anchor::Whole => Regex::new(&format!("^(?:{body})$")),
        Anchor::WholeDotAll => Regex::new(&format!("^(?s:{body})$")),
    }
}

/// Rewrites a Go (RE2) regexp into one the regex crate reads the same way:
///
/// - `\d \D \w \W \s \S` become ASCII classes (nested classes inside
///   brackets, which the regex crate accepts), `\b \B` ASCII word boundaries;
/// - a `{` that does not start a repetition (`a{`, `a{,3}`, `{x}`) is
///   escaped, and `\Q...\E` becomes escaped text;
/// - a `[` inside a class (literal in RE2, a nested class here) is escaped.
///
/// Everything else is copied as is, so errors still point at the user's text.
pub fn translate(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => {
                let Some(&e) = chars.get(i) else {
                    out.push('\\');
                    break;
                };
                i += 1;
                match e {
                    'd' => out.push_str("[0-9]"),
                    'D' => out.push_str("[^0-9]"),
                    'w' => out.push_str("[0-9A-Za-z_]"),
                    'W' => out.push_str("[^0-9A-Za-z_]"),
                    's' => out.push_str("[\\t\\n\\f\\r ]"),
                    'S' => out.push_str("[^\\t\\n\\f\\r ]"),
                    'b' if !in_class => out.push_str("(?-u:\\b)"),
                    'B' if !in_class => out.push_str("(?-u:\\B)"),
                    'Q' if !in_class => {
                        // Quoted up to `\E` or the end, as RE2 reads it.
                        let mut quoted = String::new();
                        while i < chars.len()
                            && !(chars[i] == '\\' && chars.get(i + 1) == Some(&'E'))
                        {
                            quoted.push(chars[i]);
                            i += 1;
                        }
                        out.push_str(&regex::escape(&quoted));
                        i += 2;
                    }
                    e => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '{' if !in_class && !starts_repetition(&chars[i..]) => out.push_str("\\{"),
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                // RE2 reads a `]` first in a class as a literal; the regex
                // crate does too, but escaping it keeps `in_class` right.
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '[' if chars.get(i) == Some(&':') => {
                // A POSIX class like [:alpha:] (ASCII in both engines).
                out.push('[');
                while i < chars.len() {
                    out.push(chars[i]);
                    i += 1;
                    if chars[i - 1] == ']' {
                        break;
                    }
                }
            }
            '[' => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether the text after a `{` completes a repetition Go accepts:
/// `n}`, `n,}` or `n,m}`.
fn starts_repetition(rest: &[char]) -> bool {
    let Some(end) = rest.iter().position(|&c| c == '}') else {
        return false;
    };
    let body: String = rest[..end].iter().collect();
    let (min, max) = body.split_once(',').unwrap_or((&body, "0"));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !min.is_empty() && digits(min) && digits(max)
}

#[cfg(test)]
mod tests;
