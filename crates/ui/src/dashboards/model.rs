//! Small facts about Grafana's dashboard model that the store, the API and
//! the provisioner share: slugs, uids, titles, parsing with positions.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::hash::{BuildHasher, Hasher};

/// The uid of the one data source Sightline serves (its own Prometheus
/// API): `${DS_PROMETHEUS}` inputs and data sources named by a string
/// resolve to it.
pub const DATASOURCE_UID: &str = "sightline";

/// The uid of Sightline's Loki API as a data source: `loki` inputs and
/// data sources named like Loki resolve to it.
pub const LOGS_DATASOURCE_UID: &str = "sightline-logs";

/// Grafana's longest uid.
const MAX_UID: usize = 40;

/// Grafana's slug of a title: lowercase letters and digits, other runs
/// of characters as one `-`, none at either end.
pub fn slugify(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut dash = false;
    for c in title.chars() {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        } else {
            dash = true;
        }
    }
    out
}

/// A new uid: 14 characters of `[0-9a-zA-Z]`, random per call (the std
/// hasher's per-process random keys over a clock and a counter, so no
/// dependency on a random number crate).
pub fn new_uid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(N.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let mut x = h.finish() as u128 | ((h.finish().rotate_left(17) as u128) << 64);
    let mut s = String::with_capacity(14);
    // The first character is a letter, so a uid never looks like a number
    // (Grafana's old numeric ids) nor starts with `-`.
    s.push(DIGITS[10 + (x % 52) as usize] as char);
    x /= 52;
    for _ in 1..14 {
        s.push(DIGITS[(x % 62) as usize] as char);
        x /= 62;
    }
    s
}

/// Checks a uid given by a user as Grafana does (`[a-zA-Z0-9_-]`, at most
/// 40 characters); it also names a file, so nothing else may pass.
pub fn check_uid(uid: &str, what: &str) -> Result<()> {
    if uid.is_empty() {
        return Err(Error::BadRequest(format!("{what}: uid is empty")));
    }
    if uid.len() > MAX_UID {
        return Err(Error::BadRequest(format!(
            "{what}: uid too long, max {MAX_UID} characters: {uid:?}"
        )));
    }
    if !uid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::BadRequest(format!(
            "{what}: uid contains illegal characters (allowed: a-z A-Z 0-9 - _): {uid:?}"
        )));
    }
    Ok(())
}

/// Parses a JSON request or file; errors say where (`dashboard.panels[2]:
/// invalid type ... at line 1 column 80`).
pub fn parse<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            Error::BadRequest(format!("{what}: invalid JSON: {inner}"))
        } else {
            Error::BadRequest(format!("{what}: invalid JSON at {path}: {inner}"))
        }
    })
}

/// The dashboard object of a request or file, with a title: Grafana
/// refuses a dashboard without one.
pub fn check_dashboard(v: Value, what: &str) -> Result<Map<String, Value>> {
    let Value::Object(map) = v else {
        return Err(Error::BadRequest(format!(
            "{what}: the dashboard must be a JSON object"
        )));
    };
    match map.get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() => Ok(map),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(Error::BadRequest(format!(
            "{what}: dashboard.title: Dashboard title cannot be empty"
        ))),
        Some(other) => Err(Error::BadRequest(format!(
            "{what}: dashboard.title: must be a string, not {other}"
        ))),
    }
}

/// The top-level fields a dashboard is listed by.
#[derive(Debug, Clone, Default)]
pub struct Head {
    /// `title`, checked non-empty.
    pub title: String,
    /// `uid`, if a non-empty string.
    pub uid: Option<String>,
    /// `version`, if a number.
    pub version: Option<i64>,
    /// `tags` (strings only).
    pub tags: Vec<String>,
}

/// Reads only a dashboard file's [`Head`], skipping the rest without
/// building it (panels are most of a file): listing a folder of big
/// dashboards then costs no more memory than their titles. The whole
/// text is still checked to be JSON.
pub fn parse_head(bytes: &[u8], what: &str) -> Result<Head> {
    #[derive(serde::Deserialize)]
    struct Raw {
        #[serde(default)]
        title: Option<Value>,
        #[serde(default)]
        uid: Option<Value>,
        #[serde(default)]
        version: Option<Value>,
        #[serde(default)]
        tags: Option<Value>,
    }
    // serde reads a struct from an array too; a dashboard is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::BadRequest(format!(
            "{what}: the dashboard must be a JSON object"
        )));
    }
    let raw: Raw = parse(bytes, what)?;
    let mut m = Map::new();
    for (k, v) in [
        ("title", raw.title),
        ("uid", raw.uid),
        ("version", raw.version),
        ("tags", raw.tags),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), v);
        }
    }
    let m = check_dashboard(Value::Object(m), what)?;
    Ok(Head {
        title: title(&m).to_owned(),
        uid: uid(&m).map(str::to_owned),
        version: m.get("version").and_then(Value::as_i64),
        tags: tags(&m),
    })
}

/// The dashboard's title (checked present by [`check_dashboard`]).
pub fn title(d: &Map<String, Value>) -> &str {
    d.get("title").and_then(Value::as_str).unwrap_or("")
}

/// The dashboard's `version`, 0 when absent.
pub fn version(d: &Map<String, Value>) -> i64 {
    d.get("version").and_then(Value::as_i64).unwrap_or(0)
}

/// The dashboard's non-empty string `uid`, if any.
pub fn uid(d: &Map<String, Value>) -> Option<&str> {
    d.get("uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
}

/// The dashboard's tags (strings only).
pub fn tags(d: &Map<String, Value>) -> Vec<String> {
    d.get("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_as_grafana() {
        assert_eq!(slugify("Node Exporter Full"), "node-exporter-full");
        assert_eq!(slugify("  HAProxy / 2.x  "), "haproxy-2-x");
        assert_eq!(slugify("Über--Stats"), "über-stats");
        assert_eq!(slugify("***"), "");
    }

    #[test]
    fn new_uids_are_valid_and_differ() {
        let a = new_uid();
        let b = new_uid();
        assert_ne!(a, b);
        assert_eq!(a.len(), 14);
        check_uid(&a, "t").unwrap();
        assert!(a.as_bytes()[0].is_ascii_alphabetic());
    }

    #[test]
    fn uids_that_could_escape_a_folder_are_refused() {
        for bad in ["../x", "a/b", "", ".hidden", &"x".repeat(41)] {
            assert!(check_uid(bad, "t").is_err(), "{bad:?}");
        }
        check_uid("Abc-_09", "t").unwrap();
    }

    #[test]
    fn parse_errors_name_the_field_and_line() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct R {
            overwrite: bool,
        }
        let e = parse::<R>(b"{\n \"overwrite\": 3}", "request").unwrap_err();
        let m = e.to_string();
        assert!(m.contains("overwrite") && m.contains("line 2"), "{m}");
        let m = parse::<R>(b"{", "request").unwrap_err().to_string();
        assert!(m.contains("line 1 column 1"), "{m}");
    }

    #[test]
    fn heads_read_the_top_and_check_the_rest() {
        let h = parse_head(
            br#"{"panels": [{"title": "inner"}], "title": "T", "uid": "u", "version": 3, "tags": ["a", 1]}"#,
            "f",
        )
        .unwrap();
        assert_eq!(
            (h.title.as_str(), h.uid.as_deref(), h.version, h.tags),
            ("T", Some("u"), Some(3), vec!["a".to_owned()])
        );
        assert!(parse_head(br#"{"title": "T", "panels": [}"#, "f").is_err());
        assert!(parse_head(br#"["T"]"#, "f").is_err());
        assert!(parse_head(br#"{"panels": []}"#, "f").is_err());
    }

    #[test]
    fn a_dashboard_needs_a_title() {
        let e = check_dashboard(serde_json::json!({"panels": []}), "body").unwrap_err();
        assert!(e.to_string().contains("title"), "{e}");
        assert!(check_dashboard(serde_json::json!({"title": " "}), "body").is_err());
        assert!(check_dashboard(serde_json::json!([]), "body").is_err());
        check_dashboard(serde_json::json!({"title": "a"}), "body").unwrap();
    }
}
