//! Relabeling, with every action Prometheus 2.42 has.
//!
//! [`RelabelConfig`] is one rule as written in `relabel_configs` or
//! `metric_relabel_configs`; [`process`] runs a list of rules over a
//! [`LabelsBuilder`] and says whether the target or series is kept.
//!
//! Replacement templates expand as Go's `regexp.Expand` does (which is what
//! Prometheus uses): `$name` takes the longest run of letters, digits and `_`
//! (so `$1x` means the group named `1x`, which does not exist, and expands to
//! nothing), `${1}x` is group 1 then `x`, a number with a leading zero is a
//! name rather than an index, `$$` is a `$`, and a `$` that starts no valid
//! reference is kept as text.

use md5::{Digest, Md5};
use regex::Regex;
use serde::{de, Deserialize, Deserializer};
use sightline_core::{goregex, Labels, LabelsBuilder};
use std::fmt;
use std::sync::OnceLock;

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Set `target_label` to the expanded `replacement` when `regex` matches.
    Replace,
    /// Drop unless `regex` matches the joined source values.
    Keep,
    /// Drop when `regex` matches the joined source values.
    Drop,
    /// Drop unless the joined source values equal `target_label`'s value.
    KeepEqual,
    /// Drop when the joined source values equal `target_label`'s value.
    DropEqual,
    /// Set `target_label` to md5(joined source values) mod `modulus`.
    HashMod,
    /// Copy labels whose names match `regex` to names from `replacement`.
    LabelMap,
    /// Remove labels whose names match `regex`.
    LabelDrop,
    /// Remove labels whose names do not match `regex`.
    LabelKeep,
    /// Set `target_label` to the lowercased joined source values.
    Lowercase,
    /// Set `target_label` to the uppercased joined source values.
    Uppercase,
}

impl Action {
    /// The name as written in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    /// Parses an action name; Prometheus ignores case.
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s.to_ascii_lowercase().as_str() {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "keepequal" => Action::KeepEqual,
            "dropequal" => Action::DropEqual,
            "hashmod" => Action::HashMod,
            "labelmap" => Action::LabelMap,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            _ => return None,
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A relabeling regex: anchored at both ends as Prometheus anchors it, and
/// compared by its source text.
#[derive(Debug, Clone)]
pub struct RelabelRegex {
    source: String,
    re: Regex,
}

impl RelabelRegex {
    /// Compiles `source` as `^(?:source)$`, with Go's meaning of `\d`, `{`...
    /// (Prometheus 2.42 anchors relabeling regexes without `(?s)`).
    pub fn new(source: &str) -> Result<Self, String> {
        let re = goregex::compile(source, goregex::Anchor::Whole)
            .map_err(|e| format!("invalid regular expression {source:?}: {e}"))?;
        Ok(RelabelRegex {
            source: source.to_owned(),
            re,
        })
    }

    /// The regex as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The compiled, anchored regex.
    pub fn regex(&self) -> &Regex {
        &self.re
    }

    /// True when the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s)
    }
}

impl PartialEq for RelabelRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// One relabeling rule, validated as Prometheus validates it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawRelabelConfig")]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator` as the input.
    pub source_labels: Vec<String>,
    /// Joins source values (`;`).
    pub separator: String,
    /// Matched against the joined values, or label names for the label* actions.
    pub regex: RelabelRegex,
    /// For hashmod.
    pub modulus: u64,
    /// The label written by replace, hashmod, lowercase, uppercase; compared by keepequal/dropequal.
    pub target_label: String,
    /// Template for replace and labelmap (`$1`).
    pub replacement: String,
    /// What to do.
    pub action: Action,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelabelConfig {
    #[serde(default)]
    source_labels: Option<Vec<String>>,
    #[serde(default = "default_separator")]
    separator: String,
    #[serde(default)]
    regex: Option<RegexText>,
    #[serde(default)]
    modulus: u64,
    #[serde(default)]
    target_label: String,
    #[serde(default = "default_replacement")]
    replacement: String,
    #[serde(default)]
    action: Option<String>,
}

/// A regex field, which YAML may type as a number (`regex: 200`).
struct RegexText(String);

impl<'de> Deserialize<'de> for RegexText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = RegexText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a regular expression")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RegexText, E> {
                Ok(RegexText(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RegexText, E> {
                Ok(RegexText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RegexText, E> {
                Ok(RegexText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RegexText, E> {
                Ok(RegexText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RegexText, E> {
                Ok(RegexText(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

fn default_separator() -> String {
    ";".to_owned()
}

fn default_replacement() -> String {
    "$1".to_owned()
}

const DEFAULT_REGEX: &str = "(.*)";

impl TryFrom<RawRelabelConfig> for RelabelConfig {
    type Error = String;

    fn try_from(r: RawRelabelConfig) -> Result<Self, String> {
        let action = match r.action.as_deref() {
            None => Action::Replace,
            Some("") => return Err("relabel action cannot be empty".to_owned()),
            Some(a) => Action::parse(a).ok_or_else(|| format!("unknown relabel action {a:?}"))?,
        };
        let regex_given = r.regex.is_some();
        let regex_src = r.regex.map(|t| t.0).unwrap_or_else(|| DEFAULT_REGEX.into());
        let source_labels_given = r.source_labels.is_some();
        let cfg = RelabelConfig {
            source_labels: r.source_labels.unwrap_or_default(),
            separator: r.separator,
            regex: RelabelRegex::new(&regex_src)?,
            modulus: r.modulus,
            target_label: r.target_label,
            replacement: r.replacement,
            action,
        };
        for name in &cfg.source_labels {
            if !is_valid_label_name(name) {
                return Err(format!("{name:?} is not a valid label name"));
            }
        }
        cfg.validate(source_labels_given, regex_given)?;
        Ok(cfg)
    }
}

impl RelabelConfig {
    /// A rule with Prometheus's defaults for `action`: source labels none,
    /// separator `;`, regex `(.*)`, replacement `$1`. Handy for tests and
    /// for rules built in code.
    pub fn new(action: Action) -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: default_separator(),
            regex: RelabelRegex::new(DEFAULT_REGEX).expect("default regex compiles"),
            modulus: 0,
            target_label: String::new(),
            replacement: default_replacement(),
            action,
        }
    }

    /// Prometheus's rules on which fields each action needs or refuses.
    fn validate(&self, source_labels_given: bool, regex_given: bool) -> Result<(), String> {
        use Action::*;
        let a = self.action;
        if a == HashMod && self.modulus == 0 {
            return Err("relabel configuration for hashmod requires non-zero modulus".into());
        }
        if matches!(
            a,
            Replace | HashMod | Lowercase | Uppercase | KeepEqual | DropEqual
        ) && self.target_label.is_empty()
        {
            return Err(format!(
                "relabel configuration for {a} action requires 'target_label' value"
            ));
        }
        if matches!(a, Replace | Lowercase | Uppercase)
            && !is_valid_relabel_target(&self.target_label)
        {
            return Err(format!(
                "{:?} is invalid 'target_label' for {a} action",
                self.target_label
            ));
        }
        let default_replacement = self.replacement == default_replacement();
        if matches!(a, Lowercase | Uppercase | KeepEqual | DropEqual) && !default_replacement {
            return Err(format!("'replacement' can not be set for {a} action"));
        }
        if a == LabelMap && !is_valid_relabel_target(&self.replacement) {
            return Err(format!(
                "{:?} is invalid 'replacement' for {a} action",
                self.replacement
            ));
        }
        if a == HashMod && !is_valid_label_name(&self.target_label) {
            return Err(format!(
                "{:?} is invalid 'target_label' for {a} action",
                self.target_label
            ));
        }
        if matches!(a, KeepEqual | DropEqual)
            && ((regex_given && self.regex.as_str() != DEFAULT_REGEX)
                || self.modulus != 0
                || self.separator != default_separator()
                || !default_replacement)
        {
            return Err(format!(
                "{a} action requires only 'source_labels' and `target_label`, and no other fields"
            ));
        }
        if matches!(a, LabelDrop | LabelKeep)
            && (source_labels_given
                || !self.target_label.is_empty()
                || self.modulus != 0
                || self.separator != default_separator()
                || !default_replacement)
        {
            return Err(format!(
                "{a} action requires only 'regex', and no other fields"
            ));
        }
        Ok(())
    }
}

/// True for a valid Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// A target label that may still hold `$1`-style references (checked again
/// after expansion).
fn is_valid_relabel_target(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?:(?:[a-zA-Z_]|\$(?:\{[a-zA-Z0-9_]+\}|[a-zA-Z0-9_]+))+[a-zA-Z0-9_]*)+$")
            .expect("static regex compiles")
    })
    .is_match(s)
}

/// Runs `rules` over `lb` in order. Returns false as soon as a rule drops
/// the target or series (then `lb` is left part-way).
pub fn process(rules: &[RelabelConfig], lb: &mut LabelsBuilder) -> bool {
    rules.iter().all(|r| apply(r, lb))
}

/// Runs `rules` over `labels`; `None` when dropped or when nothing is left.
pub fn process_labels(rules: &[RelabelConfig], labels: &Labels) -> Option<Labels> {
    let mut lb = labels.to_builder();
    if !process(rules, &mut lb) {
        return None;
    }
    let out = lb.into_labels();
    (!out.is_empty()).then_some(out)
}

fn apply(cfg: &RelabelConfig, lb: &mut LabelsBuilder) -> bool {
    let val = join_sources(cfg, lb);
    match cfg.action {
        Action::Drop => return !cfg.regex.is_match(&val),
        Action::Keep => return cfg.regex.is_match(&val),
        Action::DropEqual => return lb.get(&cfg.target_label).unwrap_or("") != val,
        Action::KeepEqual => return lb.get(&cfg.target_label).unwrap_or("") == val,
        Action::Replace => {
            let Some(caps) = cfg.regex.regex().captures(&val) else {
                return true;
            };
            let target = expand(cfg.regex.regex(), &caps, &cfg.target_label);
            // An expansion that yields no valid name leaves the labels alone.
            if !is_valid_label_name(&target) {
                return true;
            }
            let value = expand(cfg.regex.regex(), &caps, &cfg.replacement);
            // An empty value removes the label (the builder does that).
            lb.set(target, value);
        }
        Action::Lowercase => {
            lb.set(cfg.target_label.clone(), val.to_lowercase());
        }
        Action::Uppercase => {
            lb.set(cfg.target_label.clone(), val.to_uppercase());
        }
        Action::HashMod => {
            let m = hashmod(&val, cfg.modulus);
            lb.set(cfg.target_label.clone(), m.to_string());
        }
        Action::LabelMap => {
            // Prometheus iterates a snapshot, so labels added here are not
            // matched again in the same rule.
            let snapshot: Vec<(String, String)> = lb
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect();
            for (name, value) in snapshot {
                if let Some(caps) = cfg.regex.regex().captures(&name) {
                    let new_name = expand(cfg.regex.regex(), &caps, &cfg.replacement);
                    lb.set(new_name, value);
                }
            }
        }
        Action::LabelDrop => {
            lb.retain(|l| !cfg.regex.is_match(&l.name));
        }
        Action::LabelKeep => {
            lb.retain(|l| cfg.regex.is_match(&l.name));
        }
    }
    true
}

fn join_sources(cfg: &RelabelConfig, lb: &LabelsBuilder) -> String {
    let mut out = String::new();
    for (i, name) in cfg.source_labels.iter().enumerate() {
        if i > 0 {
            out.push_str(&cfg.separator);
        }
        out.push_str(lb.get(name).unwrap_or(""));
    }
    out
}

/// Prometheus's hashmod: the last 8 bytes of the MD5 of `value`, read as a
/// big-endian u64, modulo `modulus` (which is non-zero after validation).
pub fn hashmod(value: &str, modulus: u64) -> u64 {
    let sum = Md5::digest(value.as_bytes());
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&sum[8..16]);
    u64::from_be_bytes(tail) % modulus.max(1)
}

/// Expands `template` with the captures of `re`, exactly as Go's
/// `regexp.Expand` does (see the module docs).
pub fn expand(re: &Regex, caps: &regex::Captures<'_>, template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest[1..].starts_with('$') {
            out.push('$');
            rest = &rest[2..];
            continue;
        }
        match extract_reference(&rest[1..]) {
            None => {
                out.push('$');
                rest = &rest[1..];
            }
            Some((name, index, after)) => {
                rest = after;
                let group = match index {
                    Some(i) => caps.get(i),
                    None => re
                        .capture_names()
                        .position(|n| n == Some(name))
                        .and_then(|i| caps.get(i)),
                };
                if let Some(m) = group {
                    out.push_str(m.as_str());
                }
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses `name` or `{name}` after a `$`: the name, its group index when it
/// is a number without a leading zero (below 10^8, as Go), and the rest.
fn extract_reference(s: &str) -> Option<(&str, Option<usize>, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    // Go accepts Unicode letters and digits in names.
    let end = body
        .char_indices()
        .find(|(_, c)| !(c.is_alphabetic() || c.is_numeric() || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(body.len());
    if end == 0 {
        return None;
    }
    let name = &body[..end];
    let after = if braced {
        body[end..].strip_prefix('}')?
    } else {
        &body[end..]
    };
    let mut num: Option<usize> = Some(0);
    for b in name.bytes() {
        num = match num {
            Some(n) if b.is_ascii_digit() && n < 100_000_000 => Some(n * 10 + (b - b'0') as usize),
            _ => None,
        };
        if num.is_none() {
            break;
        }
    }
    if name.len() > 1 && name.starts_with('0') {
        num = None;
    }
    Some((name, num, after))
}

#[cfg(test)]
mod tests;
