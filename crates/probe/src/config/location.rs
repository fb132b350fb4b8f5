//! Turning YAML errors into `file:line:col: field.path: reason`.
//!
//! serde-saphyr knows where a syntax or type error is; serde_path_to_error
//! knows which field. Checks done after deserializing (blackbox's
//! `UnmarshalYAML` validations) know only a path, so [`located`] finds that
//! path's line by walking the text's indentation, which is enough for the
//! block-style YAML these files are written in.

use crate::{Error, Result};
use serde::de::DeserializeOwned;

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
        let saphyr = e
            .location()
            .map(|l| (l.line(), l.column()))
            .filter(|(l, _)| *l > 0);
        let pos = saphyr.or_else(|| path.as_deref().and_then(|p| find_path(text, p)));
        Error::Config(format_error(file, pos, path.as_deref(), &plain_message(&e)))
    })
}

/// An error for a field found invalid after deserializing.
pub(crate) fn located(text: &str, file: &str, path: &str, message: &str) -> Error {
    Error::Config(format_error(
        file,
        find_path(text, path),
        Some(path),
        message,
    ))
}

/// The error's own words without the location and snippet serde-saphyr adds.
fn plain_message(e: &serde_saphyr::Error) -> String {
    let full = e.without_snippet().to_string();
    let first = full.lines().next().unwrap_or("").trim();
    let msg = match first.rfind(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    msg.trim_start_matches("error: ").trim().replace('`', "\"")
}

fn format_error(file: &str, pos: Option<(u64, u64)>, path: Option<&str>, message: &str) -> String {
    let mut out = String::from(file);
    if let Some((line, col)) = pos {
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

/// The 1-based line and column of the key a dotted path names (`a.b[2].c`),
/// or of the deepest key of it that was found.
fn find_path(text: &str, path: &str) -> Option<(u64, u64)> {
    let segs: Vec<&str> = path
        .split('.')
        .map(|s| s.split('[').next().unwrap_or(s))
        .filter(|s| !s.is_empty())
        .collect();
    let mut best = None;
    let mut min_indent: Option<usize> = None;
    let mut seg = 0;
    for (i, line) in text.lines().enumerate() {
        if seg >= segs.len() {
            break;
        }
        let body = line.trim_start_matches([' ', '-']);
        let indent = line.len() - body.len();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if let Some(min) = min_indent {
            // Left the mapping the previous segment opened: not found below it.
            if indent < min {
                break;
            }
        }
        let key = body
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(['"', '\'']);
        if key == segs[seg] && body.contains(':') {
            best = Some((i as u64 + 1, indent as u64 + 1));
            seg += 1;
            min_indent = Some(indent + 1);
        }
    }
    best
}
