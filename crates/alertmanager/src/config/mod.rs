//! `alertmanager.yml`: global settings, the route tree, inhibit rules, time
//! intervals, receivers and template paths, read as Alertmanager 0.25 reads them.
//!
//! - [`Config::load_file`] / [`Config::load_str`] parse and validate a file;
//!   [`Config::original`] keeps its text for `/api/v2/status`.
//! - [`RouteConfig`] is one node of the route tree as written (the routing
//!   tree built from it is [`crate::route::Route`]); [`InhibitRuleConfig`]
//!   one inhibit rule; [`NamedTimeInterval`] one named time interval.
//! - [`Duration`] reads Prometheus's `1h30m` syntax.
//!
//! Unknown keys are refused everywhere, as Alertmanager's strict YAML loading
//! refuses them. A refused file names `file:line:col`, the field path and the
//! reason; the reasons use Alertmanager's words so answers found for
//! Alertmanager still apply.

pub mod receiver;
mod routing;
#[cfg(test)]
mod tests;

pub use receiver::{GlobalConfig, Receiver};
pub use routing::{InhibitRuleConfig, RouteConfig};
/// Prometheus's `model.Duration`, as routes and inhibit rules write it.
pub use sightline_core::duration::Duration;

pub use crate::timeinterval::NamedTimeInterval;

use serde::{Deserialize, Deserializer};
use std::collections::HashSet;
use std::path::Path;

use crate::{Error, Result};

/// A whole, valid `alertmanager.yml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// `global:` (defaults when left out).
    pub global: GlobalConfig,
    /// The root of the route tree.
    pub route: RouteConfig,
    /// `inhibit_rules:` in file order.
    pub inhibit_rules: Vec<InhibitRuleConfig>,
    /// `receivers:` in file order; names are unique.
    pub receivers: Vec<Receiver>,
    /// Template file globs, relative ones resolved against the file's directory.
    pub templates: Vec<String>,
    /// `time_intervals:`.
    pub time_intervals: Vec<NamedTimeInterval>,
    /// `mute_time_intervals:` (deprecated in Alertmanager, same meaning).
    pub mute_time_intervals: Vec<NamedTimeInterval>,
    original: String,
    origin: String,
}

/// The file as serde reads it, before the checks that span sections.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default, deserialize_with = "null_default")]
    global: Option<GlobalConfig>,
    #[serde(default)]
    route: Option<RouteConfig>,
    #[serde(default, deserialize_with = "null_default")]
    inhibit_rules: Vec<InhibitRuleConfig>,
    #[serde(default, deserialize_with = "null_default")]
    receivers: Vec<Receiver>,
    #[serde(default, deserialize_with = "null_default")]
    templates: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    time_intervals: Vec<NamedTimeInterval>,
    #[serde(default, deserialize_with = "null_default")]
    mute_time_intervals: Vec<NamedTimeInterval>,
}

impl Config {
    /// Reads and validates a file; relative template paths are resolved
    /// against its directory.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("{}: cannot read: {e}", path.display())))?;
        Config::load_str(&text, &path.display().to_string())
    }

    /// Parses and validates `text`; `origin` names it in errors, and its
    /// directory (if any) anchors relative template paths.
    pub fn load_str(text: &str, origin: &str) -> Result<Config> {
        // A file with no YAML content never reaches Alertmanager's
        // section checks; it has its own message for that case.
        let blank = text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
        });
        if blank {
            return Err(Error::Config(format!(
                "{origin}: no route provided in config"
            )));
        }
        let raw: RawConfig = sightline_config::yaml::from_str(text, origin)
            .map_err(|e| Error::Config(e.message().to_owned()))?;
        let fail = |path: &str, msg: String| {
            Error::Config(sightline_config::yaml::locate(text, origin, path, &msg))
        };
        let Some(route) = raw.route else {
            return Err(fail("", "no routes provided".to_owned()));
        };
        let mut cfg = Config {
            global: raw.global.unwrap_or_default(),
            route,
            inhibit_rules: raw.inhibit_rules,
            receivers: raw.receivers,
            templates: raw.templates,
            time_intervals: raw.time_intervals,
            mute_time_intervals: raw.mute_time_intervals,
            original: text.to_owned(),
            origin: origin.to_owned(),
        };
        cfg.validate().map_err(|(path, msg)| fail(&path, msg))?;
        if let Some(dir) = Path::new(origin)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            for t in &mut cfg.templates {
                if Path::new(t.as_str()).is_relative() {
                    *t = dir.join(&*t).display().to_string();
                }
            }
        }
        Ok(cfg)
    }

    /// The file's text as loaded, for `/api/v2/status`.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// The path (or name) the config was loaded from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The receiver called `name`.
    pub fn receiver(&self, name: &str) -> Option<&Receiver> {
        self.receivers.iter().find(|r| r.name == name)
    }

    /// The time interval called `name`, from either list.
    pub fn time_interval(&self, name: &str) -> Option<&NamedTimeInterval> {
        self.time_intervals
            .iter()
            .chain(&self.mute_time_intervals)
            .find(|t| t.name == name)
    }

    /// Alertmanager's cross-section checks, in its order; the error carries
    /// the field path it concerns.
    fn validate(&self) -> std::result::Result<(), (String, String)> {
        self.global
            .validate()
            .map_err(|e| ("global".to_owned(), e))?;
        let mut names = HashSet::new();
        for (i, r) in self.receivers.iter().enumerate() {
            let at = format!("receivers[{i}].name");
            if r.name.is_empty() {
                return Err((at, "missing name in receiver".to_owned()));
            }
            if !names.insert(r.name.as_str()) {
                return Err((
                    at,
                    format!("notification config name {:?} is not unique", r.name),
                ));
            }
            // The integrations' own checks (URLs, SMTP settings they need
            // from `global:`) live with the receiver structs.
            r.validate(&self.global)
                .map_err(|e| (format!("receivers[{i}]"), e))?;
        }
        let root = &self.route;
        if root.receiver.is_empty() {
            return Err((
                "route".into(),
                "root route must specify a default receiver".into(),
            ));
        }
        if root.has_matchers() {
            return Err((
                "route".into(),
                "root route must not have any matchers".into(),
            ));
        }
        if !root.mute_time_intervals.is_empty() {
            return Err((
                "route.mute_time_intervals".into(),
                "root route must not have any mute time intervals".into(),
            ));
        }
        if !root.active_time_intervals.is_empty() {
            return Err((
                "route.active_time_intervals".into(),
                "root route must not have any active time intervals".into(),
            ));
        }
        check_routes(root, "route", &mut |r, at| {
            if !r.receiver.is_empty() && !names.contains(r.receiver.as_str()) {
                return Err((
                    format!("{at}.receiver"),
                    format!("undefined receiver {:?} used in route", r.receiver),
                ));
            }
            check_route_fields(r, at)
        })?;
        let mut intervals = HashSet::new();
        for (i, t) in self.mute_time_intervals.iter().enumerate() {
            if t.name.is_empty() {
                return Err((
                    format!("mute_time_intervals[{i}]"),
                    "missing name in mute time interval".to_owned(),
                ));
            }
            if !intervals.insert(t.name.as_str()) {
                return Err((
                    format!("mute_time_intervals[{i}].name"),
                    format!("mute time interval {:?} is not unique", t.name),
                ));
            }
        }
        for (i, t) in self.time_intervals.iter().enumerate() {
            if t.name.is_empty() {
                return Err((
                    format!("time_intervals[{i}]"),
                    "missing name in time interval".to_owned(),
                ));
            }
            if !intervals.insert(t.name.as_str()) {
                return Err((
                    format!("time_intervals[{i}].name"),
                    format!("time interval {:?} is not unique", t.name),
                ));
            }
        }
        check_routes(root, "route", &mut |r, at| {
            for (field, list) in [
                ("active_time_intervals", &r.active_time_intervals),
                ("mute_time_intervals", &r.mute_time_intervals),
            ] {
                if let Some(name) = list.iter().find(|n| !intervals.contains(n.as_str())) {
                    return Err((
                        format!("{at}.{field}"),
                        format!("undefined time interval {name:?} used in route"),
                    ));
                }
            }
            Ok(())
        })?;
        for (i, rule) in self.inhibit_rules.iter().enumerate() {
            if let Some(l) = rule.equal.iter().find(|l| !routing::is_label_name(l)) {
                return Err((
                    format!("inhibit_rules[{i}].equal"),
                    format!("{l:?} is not a valid label name"),
                ));
            }
        }
        Ok(())
    }
}

type Check<'a> = dyn FnMut(&RouteConfig, &str) -> std::result::Result<(), (String, String)> + 'a;

/// Runs `check` on every route, children before their parent as
/// Alertmanager does (so the deepest error is the one reported).
fn check_routes(
    r: &RouteConfig,
    at: &str,
    check: &mut Check<'_>,
) -> std::result::Result<(), (String, String)> {
    for (i, child) in r.routes.iter().enumerate() {
        check_routes(child, &format!("{at}.routes[{i}]"), check)?;
    }
    check(r, at)
}

/// What Alertmanager checks inside one route when it reads it.
fn check_route_fields(r: &RouteConfig, at: &str) -> std::result::Result<(), (String, String)> {
    let group_by = format!("{at}.group_by");
    let mut seen = HashSet::new();
    for l in &r.group_by {
        if l == "..." {
            continue;
        }
        if !routing::is_label_name(l) {
            return Err((
                group_by,
                format!("invalid label name {l:?} in group_by list"),
            ));
        }
        if !seen.insert(l.as_str()) {
            return Err((group_by, format!("duplicated label {l:?} in group_by")));
        }
    }
    if r.group_by_all() && !seen.is_empty() {
        return Err((
            group_by,
            "cannot have wildcard group_by (`...`) and other other labels at the same time"
                .to_owned(),
        ));
    }
    if r.group_interval.is_some_and(|d| d.0.is_zero()) {
        return Err((
            format!("{at}.group_interval"),
            "group_interval cannot be zero".to_owned(),
        ));
    }
    if r.repeat_interval.is_some_and(|d| d.0.is_zero()) {
        return Err((
            format!("{at}.repeat_interval"),
            "repeat_interval cannot be zero".to_owned(),
        ));
    }
    Ok(())
}

/// YAML `null` (a key with nothing after it) means the same as leaving the
/// key out, as in Go's YAML decoder.
pub(crate) fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Any YAML scalar as written: Go's YAML decoder gives a string field the
/// scalar's text, so `1.0`, `0x1F` and `yes` stay "1.0", "0x1F" and "yes"
/// (serde-saphyr hands plain scalars to a string as written, too), and
/// `~` is the empty string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(Text(Option::<String>::deserialize(d)?.unwrap_or_default()))
    }
}
