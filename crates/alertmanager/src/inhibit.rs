//! Inhibition: a firing alert that matches a rule's source side mutes the
//! alerts that match its target side and agree with it on the `equal` labels.
//!
//! Semantics follow Alertmanager 0.25's `inhibit` package:
//! - only unresolved sources inhibit (an alert whose `ends_at` has passed
//!   does not, even if it is still stored);
//! - labels named in `equal` that both alerts lack count as equal (a missing
//!   label is the empty string);
//! - when the target also matches the rule's source side, sources that also
//!   match the target side are skipped, so an alert never inhibits itself
//!   and two alerts matching both sides of one rule do not inhibit each other.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::alert::{Alert, LabelSet};
use crate::config::{Config, InhibitRuleConfig};
use crate::matcher::Matchers;

/// One inhibit rule with its legacy matchers converted.
#[derive(Debug, Clone, PartialEq)]
pub struct InhibitRule {
    /// What an inhibiting alert must match.
    pub source: Matchers,
    /// What an inhibited alert must match.
    pub target: Matchers,
    /// Labels whose values must be equal on both alerts.
    pub equal: BTreeSet<String>,
}

impl InhibitRule {
    /// Converts a rule from the file.
    pub fn new(cfg: &InhibitRuleConfig) -> InhibitRule {
        InhibitRule {
            source: cfg.all_source_matchers(),
            target: cfg.all_target_matchers(),
            equal: cfg.equal.iter().cloned().collect(),
        }
    }

    /// Whether `source` (assumed to match the source side and be firing)
    /// inhibits `target` under this rule.
    fn inhibits(&self, source: &LabelSet, target: &LabelSet, target_is_source: bool) -> bool {
        fn get<'a>(ls: &'a LabelSet, n: &str) -> &'a str {
            ls.get(n).map(String::as_str).unwrap_or("")
        }
        if !self.equal.iter().all(|n| get(source, n) == get(target, n)) {
            return false;
        }
        !(target_is_source && self.target.matches(source))
    }
}

/// All inhibit rules of a config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inhibitor {
    rules: Vec<InhibitRule>,
}

impl Inhibitor {
    /// The rules of `inhibit_rules:` in file order.
    pub fn new(rules: &[InhibitRuleConfig]) -> Inhibitor {
        Inhibitor {
            rules: rules.iter().map(InhibitRule::new).collect(),
        }
    }

    /// The rules of a loaded config.
    pub fn from_config(cfg: &Config) -> Inhibitor {
        Inhibitor::new(&cfg.inhibit_rules)
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[InhibitRule] {
        &self.rules
    }

    /// Whether an alert with labels `target` is inhibited at `now` by one of
    /// `alerts` (the alerts the Alertmanager holds; resolved ones are
    /// skipped). Returns the fingerprint of the first inhibiting alert, rules
    /// tried in file order and alerts in the order given.
    pub fn inhibited_by(
        &self,
        target: &LabelSet,
        alerts: &[&Alert],
        now: DateTime<Utc>,
    ) -> Option<u64> {
        for rule in &self.rules {
            if !rule.target.matches(target) {
                continue;
            }
            let target_is_source = rule.source.matches(target);
            let source = alerts.iter().find(|a| {
                !a.resolved_at(now)
                    && rule.source.matches(&a.labels)
                    && rule.inhibits(&a.labels, target, target_is_source)
            });
            if let Some(a) = source {
                return Some(a.fingerprint());
            }
        }
        None
    }
}

/// The firing sources of every rule at one moment, indexed by their `equal`
/// label values: built once per pass over the alerts, it answers each
/// target in time proportional to the sources that share its values rather
/// than to all alerts, which matters with thousands of alerts.
#[derive(Debug)]
pub struct InhibitSnapshot<'a> {
    rules: Vec<(&'a InhibitRule, SourcesByEqual<'a>)>,
}

/// A rule's firing sources keyed by their `equal` label values.
type SourcesByEqual<'a> = HashMap<Vec<&'a str>, Vec<&'a Alert>>;

impl Inhibitor {
    /// Indexes the unresolved alerts of `alerts` that match each rule's
    /// source side, keeping their order.
    pub fn snapshot<'a>(&'a self, alerts: &[&'a Alert], now: DateTime<Utc>) -> InhibitSnapshot<'a> {
        let rules = self
            .rules
            .iter()
            .map(|rule| {
                let mut by_equal = SourcesByEqual::new();
                for a in alerts {
                    if !a.resolved_at(now) && rule.source.matches(&a.labels) {
                        by_equal
                            .entry(equal_values(rule, &a.labels))
                            .or_default()
                            .push(a);
                    }
                }
                (rule, by_equal)
            })
            .collect();
        InhibitSnapshot { rules }
    }
}

impl InhibitSnapshot<'_> {
    /// Same answer as [`Inhibitor::inhibited_by`] with the alerts and time
    /// the snapshot was taken with.
    pub fn inhibited_by(&self, target: &LabelSet) -> Option<u64> {
        for (rule, by_equal) in &self.rules {
            if !rule.target.matches(target) {
                continue;
            }
            let Some(sources) = by_equal.get(&equal_values(rule, target)) else {
                continue;
            };
            let target_is_source = rule.source.matches(target);
            if let Some(a) = sources
                .iter()
                .find(|a| !(target_is_source && rule.target.matches(&a.labels)))
            {
                return Some(a.fingerprint());
            }
        }
        None
    }
}

/// The values of the rule's `equal` labels, "" for missing ones.
fn equal_values<'a>(rule: &InhibitRule, labels: &'a LabelSet) -> Vec<&'a str> {
    rule.equal
        .iter()
        .map(|n| labels.get(n).map(String::as_str).unwrap_or(""))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn alert(pairs: &[(&str, &str)], ends_in_secs: i64) -> Alert {
        let now = now();
        Alert {
            labels: ls(pairs),
            annotations: LabelSet::new(),
            starts_at: now - chrono::Duration::seconds(60),
            ends_at: now + chrono::Duration::seconds(ends_in_secs),
            generator_url: String::new(),
            updated_at: now,
            timeout: false,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 4, 12, 0, 0).unwrap()
    }

    fn inhibitor(yaml_rules: &str) -> Inhibitor {
        let text = format!(
            "route: {{receiver: a}}\nreceivers: [{{name: a}}]\ninhibit_rules:\n{yaml_rules}"
        );
        Inhibitor::from_config(&Config::load_str(&text, "t.yml").unwrap())
    }

    const RULE: &str = "  - source_matchers: ['severity=\"critical\"']\n    target_matchers: ['severity=\"warning\"']\n    equal: [cluster, service]\n";

    #[test]
    fn firing_source_with_equal_labels_inhibits() {
        let ih = inhibitor(RULE);
        let crit = alert(
            &[
                ("severity", "critical"),
                ("cluster", "c1"),
                ("service", "api"),
            ],
            300,
        );
        let warn = ls(&[
            ("severity", "warning"),
            ("cluster", "c1"),
            ("service", "api"),
        ]);
        assert_eq!(
            ih.inhibited_by(&warn, &[&crit], now()),
            Some(crit.fingerprint())
        );
        // A different cluster does not inhibit.
        let other = ls(&[
            ("severity", "warning"),
            ("cluster", "c2"),
            ("service", "api"),
        ]);
        assert_eq!(ih.inhibited_by(&other, &[&crit], now()), None);
        // Neither does a target of another severity.
        let info = ls(&[("severity", "info"), ("cluster", "c1"), ("service", "api")]);
        assert_eq!(ih.inhibited_by(&info, &[&crit], now()), None);
    }

    #[test]
    fn resolved_sources_do_not_inhibit() {
        let ih = inhibitor(RULE);
        let warn = ls(&[("severity", "warning"), ("cluster", "c1")]);
        let ended = alert(&[("severity", "critical"), ("cluster", "c1")], -1);
        let ending_now = alert(&[("severity", "critical"), ("cluster", "c1")], 0);
        assert_eq!(ih.inhibited_by(&warn, &[&ended, &ending_now], now()), None);
        let firing = alert(&[("severity", "critical"), ("cluster", "c1")], 1);
        assert_eq!(
            ih.inhibited_by(&warn, &[&ended, &firing], now()),
            Some(firing.fingerprint())
        );
    }

    #[test]
    fn labels_missing_on_both_sides_are_equal() {
        let ih = inhibitor(RULE);
        // Neither has `service`; both have cluster c1.
        let crit = alert(&[("severity", "critical"), ("cluster", "c1")], 60);
        let warn = ls(&[("severity", "warning"), ("cluster", "c1")]);
        assert!(ih.inhibited_by(&warn, &[&crit], now()).is_some());
        // Present on one side only: "" versus "api".
        let warn_api = ls(&[
            ("severity", "warning"),
            ("cluster", "c1"),
            ("service", "api"),
        ]);
        assert!(ih.inhibited_by(&warn_api, &[&crit], now()).is_none());
    }

    #[test]
    fn alerts_matching_both_sides_do_not_inhibit_each_other() {
        // Any alert of team db inhibits others of team db with the same name.
        let ih = inhibitor(
            "  - source_match: {team: db}\n    target_match_re: {team: 'db|web'}\n    equal: [alertname]\n",
        );
        let a = alert(&[("team", "db"), ("alertname", "X"), ("i", "1")], 60);
        let b = alert(&[("team", "db"), ("alertname", "X"), ("i", "2")], 60);
        // b matches both sides, so a (matching both too) is skipped; and an
        // alert is never inhibited by itself.
        assert_eq!(ih.inhibited_by(&b.labels, &[&a, &b], now()), None);
        assert_eq!(ih.inhibited_by(&a.labels, &[&a], now()), None);
        // A team web alert matches only the target side: inhibited by a.
        let web = ls(&[("team", "web"), ("alertname", "X")]);
        assert_eq!(
            ih.inhibited_by(&web, &[&a, &b], now()),
            Some(a.fingerprint())
        );
    }

    #[test]
    fn legacy_and_new_matchers_combine() {
        let ih = inhibitor(
            "  - source_match: {alertname: NodeDown}\n    source_matchers: ['env=~\"prod|stage\"']\n    target_matchers: ['alertname!=\"NodeDown\"']\n    equal: [node]\n",
        );
        let down = alert(
            &[("alertname", "NodeDown"), ("env", "prod"), ("node", "n1")],
            60,
        );
        let dev_down = alert(
            &[("alertname", "NodeDown"), ("env", "dev"), ("node", "n1")],
            60,
        );
        let disk = ls(&[("alertname", "DiskFull"), ("node", "n1")]);
        assert_eq!(ih.inhibited_by(&disk, &[&dev_down], now()), None);
        assert_eq!(
            ih.inhibited_by(&disk, &[&dev_down, &down], now()),
            Some(down.fingerprint())
        );
        assert_eq!(ih.rules().len(), 1);
        assert_eq!(
            ih.rules()[0].source.to_string(),
            r#"{alertname="NodeDown",env=~"prod|stage"}"#
        );
    }

    #[test]
    fn snapshot_answers_as_the_plain_scan() {
        let ih = inhibitor(&format!(
            "{RULE}  - source_match: {{team: db}}\n    target_match_re: {{team: 'db|web'}}\n    equal: [alertname]\n"
        ));
        // Every combination of a small vocabulary, some resolved.
        let mut alerts = Vec::new();
        let mut n = 0;
        for sev in ["critical", "warning", ""] {
            for cluster in ["c1", "c2", ""] {
                for team in ["db", "web", ""] {
                    for name in ["X", "Y"] {
                        n += 1;
                        let mut pairs = vec![("alertname", name)];
                        for (k, v) in [("severity", sev), ("cluster", cluster), ("team", team)] {
                            if !v.is_empty() {
                                pairs.push((k, v));
                            }
                        }
                        alerts.push(alert(&pairs, if n % 4 == 0 { -5 } else { 60 }));
                    }
                }
            }
        }
        let refs: Vec<&Alert> = alerts.iter().collect();
        let snap = ih.snapshot(&refs, now());
        let mut inhibited = 0;
        for a in &alerts {
            let want = ih.inhibited_by(&a.labels, &refs, now());
            assert_eq!(snap.inhibited_by(&a.labels), want, "{:?}", a.labels);
            inhibited += want.is_some() as usize;
        }
        assert!(inhibited > 5 && inhibited < alerts.len(), "{inhibited}");
    }
}
