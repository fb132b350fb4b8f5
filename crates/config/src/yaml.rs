//! Reading YAML configs so that a refusal says `file:line:column: field.path: reason`.
//!
//! serde-saphyr knows where a syntax or type error is; `serde_path_to_error`
//! knows which field. Checks that run after deserializing (undefined
//! receivers, blackbox's `UnmarshalYAML` rules, Prometheus's validations)
//! know only a field path, so [`locate`] re-reads the document as a tree of
//! positioned nodes to find that field's line. It only runs when a file is
//! being refused, so parsing twice costs nothing in the common case.
//!
//! ```
//! #[derive(serde::Deserialize, Debug)]
//! #[serde(deny_unknown_fields)]
//! struct Job { job_name: String, limit: u32 }
//!
//! let text = "job_name: a\nlimit: many\n";
//! let err = sightline_config::yaml::from_str::<Job>(text, "jobs.yml").unwrap_err();
//! assert!(err.message().starts_with("jobs.yml:2:1: limit: "), "{err}");
//! assert_eq!(
//!     sightline_config::yaml::locate(text, "jobs.yml", "limit", "must be small"),
//!     "jobs.yml:2:1: limit: must be small"
//! );
//! ```

mod node;

use crate::{Error, Result};
use serde::de::DeserializeOwned;

/// Deserializes `text`, refusing it with file, line, column, field path and
/// reason (an [`Error::Yaml`]).
pub fn from_str<T: DeserializeOwned>(text: &str, file: &str) -> Result<T> {
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
        // Prefer the position of the field the path names: serde-saphyr
        // places some errors, like unknown keys or custom value errors, at
        // the enclosing mapping or nowhere. Fall back to serde-saphyr's.
        let by_path = path.as_deref().and_then(|p| node::find_path(text, p));
        let saphyr = e
            .location()
            .map(|l| (l.line(), l.column()))
            .filter(|(l, _)| *l > 0);
        let pos = match (by_path, saphyr) {
            (Some((pos, true)), _) => Some(pos),
            (_, Some(pos)) => Some(pos),
            (Some((pos, false)), None) => Some(pos),
            (None, None) => None,
        };
        Error::Yaml(format_error(file, pos, path.as_deref(), &plain_message(&e)))
    })
}

/// Formats an error found after deserializing, at the line of the field
/// `path` names (`scrape_configs[1].scrape_timeout`), or of its deepest
/// ancestor present when the field itself was left out. An empty path names
/// the whole file.
pub fn locate(text: &str, file: &str, path: &str, message: &str) -> String {
    let pos = node::find_path(text, path).map(|(pos, _)| pos);
    let path = (!path.is_empty()).then_some(path);
    format_error(file, pos, path, message)
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

fn format_error(file: &str, pos: Option<(u64, u64)>, path: Option<&str>, message: &str) -> String {
    let mut out = String::from(file);
    if let Some((line, col)) = pos.filter(|(line, _)| *line > 0) {
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

#[cfg(test)]
mod tests;
