//! The `route:` tree and `inhibit_rules:` as written in the file.
//!
//! Matchers are parsed while the file is read, so a bad matcher is refused
//! with its line; legacy `match` / `match_re` maps stay apart from
//! `matchers` here (the API prints them back as written) and are merged by
//! [`RouteConfig::all_matchers`].

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

use super::{null_default, Duration, Text};
use crate::matcher::{parse_matchers, MatchOp, Matcher, Matchers};

/// One node of the routing tree, as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The receiver; empty means the parent's.
    #[serde(default, deserialize_with = "null_default")]
    pub receiver: String,
    /// `group_by` as written; `...` means every label.
    #[serde(default, deserialize_with = "null_default")]
    pub group_by: Vec<String>,
    /// Legacy equality matchers.
    #[serde(default, rename = "match", deserialize_with = "de_match")]
    pub match_: BTreeMap<String, String>,
    /// Legacy regex matchers (anchored).
    #[serde(default, deserialize_with = "de_match_re")]
    pub match_re: BTreeMap<String, String>,
    /// `matchers:` strings, parsed and sorted as Alertmanager sorts them.
    #[serde(default, deserialize_with = "de_matchers")]
    pub matchers: Matchers,
    /// Names of time intervals during which this route does not notify.
    #[serde(default, deserialize_with = "null_default")]
    pub mute_time_intervals: Vec<String>,
    /// Names of time intervals outside which this route does not notify.
    #[serde(default, deserialize_with = "null_default")]
    pub active_time_intervals: Vec<String>,
    /// Whether matching goes on to the next sibling after this route matched.
    #[serde(default, rename = "continue", deserialize_with = "null_default")]
    pub continue_: bool,
    /// Child routes, tried in order.
    #[serde(default, deserialize_with = "null_default")]
    pub routes: Vec<RouteConfig>,
    /// Unset means inherited (default 30s at the root).
    #[serde(default)]
    pub group_wait: Option<Duration>,
    /// Unset means inherited (default 5m at the root).
    #[serde(default)]
    pub group_interval: Option<Duration>,
    /// Unset means inherited (default 4h at the root).
    #[serde(default)]
    pub repeat_interval: Option<Duration>,
}

impl RouteConfig {
    /// Whether `group_by` holds `...` (group by every label).
    pub fn group_by_all(&self) -> bool {
        self.group_by.iter().any(|l| l == "...")
    }

    /// The labels `group_by` names other than `...`; `None` when there are
    /// none, which makes the route inherit its parent's (an empty
    /// `group_by: []` does too, as in Alertmanager).
    pub fn group_by_labels(&self) -> Option<Vec<String>> {
        let v: Vec<String> = self
            .group_by
            .iter()
            .filter(|l| *l != "...")
            .cloned()
            .collect();
        (!v.is_empty()).then_some(v)
    }

    /// `match`, `match_re` and `matchers` together, sorted (name, value,
    /// operator) as Alertmanager sorts a route's matchers.
    pub fn all_matchers(&self) -> Matchers {
        legacy_and_new(&self.match_, &self.match_re, &self.matchers)
    }

    /// Whether the route has any matcher of any kind.
    pub fn has_matchers(&self) -> bool {
        !(self.match_.is_empty() && self.match_re.is_empty() && self.matchers.is_empty())
    }
}

/// One inhibit rule, as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InhibitRuleConfig {
    #[serde(default, deserialize_with = "de_match")]
    pub source_match: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "de_match_re")]
    pub source_match_re: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "de_matchers")]
    pub source_matchers: Matchers,
    #[serde(default, deserialize_with = "de_match")]
    pub target_match: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "de_match_re")]
    pub target_match_re: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "de_matchers")]
    pub target_matchers: Matchers,
    /// Labels whose values must be equal on source and target.
    #[serde(default, deserialize_with = "null_default")]
    pub equal: Vec<String>,
}

impl InhibitRuleConfig {
    /// All source-side matchers (legacy ones converted).
    pub fn all_source_matchers(&self) -> Matchers {
        legacy_and_new(
            &self.source_match,
            &self.source_match_re,
            &self.source_matchers,
        )
    }

    /// All target-side matchers (legacy ones converted).
    pub fn all_target_matchers(&self) -> Matchers {
        legacy_and_new(
            &self.target_match,
            &self.target_match_re,
            &self.target_matchers,
        )
    }
}

fn legacy_and_new(
    eq: &BTreeMap<String, String>,
    re: &BTreeMap<String, String>,
    new: &Matchers,
) -> Matchers {
    let mut out = Matchers::default();
    for (k, v) in eq {
        out.push(Matcher::new(k.clone(), MatchOp::Equal, v.clone()).expect("no regex"));
    }
    for (k, v) in re {
        // Alertmanager builds these from the compiled regex's source, which
        // already carries the anchors, so route keys print
        // `service=~"^(?:api|web)$"` (anchoring twice matches the same).
        // Checked when the file was read.
        if let Ok(m) = Matcher::new(k.clone(), MatchOp::Regexp, format!("^(?:{v})$")) {
            out.push(m);
        }
    }
    out.extend(new.iter().cloned());
    out.sort();
    out
}

/// Alertmanager's label name syntax for config keys.
pub(super) fn is_label_name(s: &str) -> bool {
    let mut it = s.chars();
    matches!(it.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && it.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A `match` / `match_re` map: keys must be label names; values may be any
/// scalar (YAML `500` is the string "500" to Alertmanager).
fn de_match<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let raw: Option<BTreeMap<String, Text>> = Option::deserialize(d)?;
    let mut out = BTreeMap::new();
    for (k, v) in raw.unwrap_or_default() {
        if !is_label_name(&k) {
            return Err(serde::de::Error::custom(format!(
                "invalid label name {k:?}"
            )));
        }
        out.insert(k, v.0);
    }
    Ok(out)
}

/// A `match_re` map: [`de_match`] whose values must compile as regexes.
fn de_match_re<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let map = de_match(d)?;
    for v in map.values() {
        crate::matcher::compile_anchored(v).map_err(serde::de::Error::custom)?;
    }
    Ok(map)
}

/// A `matchers:` list; each string may hold several comma-separated matchers.
fn de_matchers<'de, D: Deserializer<'de>>(d: D) -> Result<Matchers, D::Error> {
    let lines: Option<Vec<String>> = Option::deserialize(d)?;
    let mut out = Matchers::default();
    for line in lines.unwrap_or_default() {
        out.extend(parse_matchers(&line).map_err(serde::de::Error::custom)?);
    }
    out.sort();
    Ok(out)
}
