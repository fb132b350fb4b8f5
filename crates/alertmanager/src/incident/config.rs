//! The `incidents:` section: which alerts open incidents, where runbooks
//! live, how long links and records last.

use std::path::PathBuf;

use serde::Deserialize;
use sightline_core::duration::Duration;

use crate::alert::LabelSet;
use crate::matcher::{parse_matchers, Matcher};
use crate::{Error, Result};

/// The alerts that open an incident by default: severity critical, page or
/// high (any case), or no severity at all. An absent label reads as the
/// empty string, which the last, empty alternative matches: an alert
/// nobody graded is treated as one worth a record rather than dropped.
pub const DEFAULT_OPEN_ON: &str = r#"severity=~"(?i)critical|page|high|""#;

/// `incidents:` in `sightline.yml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentsConfig {
    /// Whether firing alert groups open incidents (manual declarations
    /// work either way).
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Matcher lists in Alertmanager's syntax; an alert opens an incident
    /// when every matcher of one of the lists matches it.
    #[serde(default = "default_open_on")]
    pub open_on: Vec<String>,
    /// Folder of `<alertname>.md` runbooks; relative to the config file.
    /// Default: `runbooks/` next to the config file.
    #[serde(default)]
    pub runbooks_dir: Option<PathBuf>,
    /// A group firing again within this time after its incident resolved
    /// by itself reopens that incident instead of opening a new one.
    #[serde(default = "default_reopen_grace")]
    pub reopen_grace: Duration,
    /// How long an acknowledge link in a notification stays valid.
    #[serde(default = "default_ack_link_ttl")]
    pub ack_link_ttl: Duration,
    /// How long resolved incidents are kept.
    #[serde(default = "default_retention")]
    pub retention: Duration,
}

fn default_enabled() -> bool {
    true
}

fn default_open_on() -> Vec<String> {
    vec![DEFAULT_OPEN_ON.to_string()]
}

fn default_reopen_grace() -> Duration {
    Duration(std::time::Duration::from_secs(5 * 60))
}

fn default_ack_link_ttl() -> Duration {
    Duration(std::time::Duration::from_secs(24 * 3600))
}

fn default_retention() -> Duration {
    Duration(std::time::Duration::from_secs(90 * 24 * 3600))
}

impl Default for IncidentsConfig {
    fn default() -> IncidentsConfig {
        IncidentsConfig {
            enabled: default_enabled(),
            open_on: default_open_on(),
            runbooks_dir: None,
            reopen_grace: default_reopen_grace(),
            ack_link_ttl: default_ack_link_ttl(),
            retention: default_retention(),
        }
    }
}

/// The `open_on` lists, parsed.
#[derive(Debug, Clone)]
pub struct OpenPolicy(Vec<Vec<Matcher>>);

impl OpenPolicy {
    /// Parses every list; the error names the entry.
    pub fn new(lists: &[String]) -> Result<OpenPolicy> {
        lists
            .iter()
            .enumerate()
            .map(|(i, s)| {
                parse_matchers(s).map_err(|e| Error::Config(format!("incidents.open_on[{i}]: {e}")))
            })
            .collect::<Result<Vec<_>>>()
            .map(OpenPolicy)
    }

    /// Whether an alert with `labels` opens an incident.
    pub fn opens(&self, labels: &LabelSet) -> bool {
        self.0
            .iter()
            .any(|list| list.iter().all(|m| m.matches_labels(labels)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn default_policy_opens_for_serious_or_ungraded_alerts() {
        let p = OpenPolicy::new(&default_open_on()).unwrap();
        assert!(p.opens(&labels(&[("alertname", "A"), ("severity", "critical")])));
        assert!(p.opens(&labels(&[("alertname", "A"), ("severity", "Page")])));
        assert!(p.opens(&labels(&[("alertname", "A"), ("severity", "high")])));
        assert!(p.opens(&labels(&[("alertname", "A")])));
        assert!(!p.opens(&labels(&[("alertname", "A"), ("severity", "warning")])));
        assert!(!p.opens(&labels(&[("alertname", "A"), ("severity", "highish")])));
    }

    #[test]
    fn bad_matcher_names_the_entry() {
        let e = OpenPolicy::new(&["team=\"a\"".into(), "x=~\"(\"".into()]).unwrap_err();
        assert!(e.to_string().starts_with("incidents.open_on[1]: "), "{e}");
    }

    #[test]
    fn section_reads_with_defaults() {
        let c: IncidentsConfig = serde_json::from_str(r#"{"reopen_grace": "1m"}"#).unwrap();
        assert!(c.enabled);
        assert_eq!(c.reopen_grace.0, std::time::Duration::from_secs(60));
        assert_eq!(c.open_on, default_open_on());
        let e = serde_json::from_str::<IncidentsConfig>(r#"{"open": []}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `open`"), "{e}");
    }
}
