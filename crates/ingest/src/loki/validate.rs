//! What Loki's distributor checks before a line reaches an ingester, with
//! its limits' names and defaults (`limits_config`) and its message texts
//! (`pkg/validation`). Line length, stream rates and stream counts are
//! the store's limits: they come back as
//! [`sightline_core::logs::LogRefusal`]s (see [`super::push`]).

use super::decode::StreamLabels;
use super::selector;
use serde::Deserialize;
use sightline_core::duration::Duration;
use sightline_core::logs::LogEntry;
use sightline_core::Labels;

/// The distributor's limits, named as in Loki's `limits_config`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushLimits {
    /// Most label names in one stream (Loki: 15).
    #[serde(default = "default_max_label_names_per_series")]
    pub max_label_names_per_series: usize,
    /// Longest label name in bytes (Loki: 1024).
    #[serde(default = "default_max_label_name_length")]
    pub max_label_name_length: usize,
    /// Longest label value in bytes (Loki: 2048).
    #[serde(default = "default_max_label_value_length")]
    pub max_label_value_length: usize,
    /// Refuse lines older than `reject_old_samples_max_age` (Loki: true).
    #[serde(default = "default_reject_old_samples")]
    pub reject_old_samples: bool,
    /// How old a line may be (Loki: 1w).
    #[serde(default = "default_reject_old_samples_max_age")]
    pub reject_old_samples_max_age: Duration,
    /// How far in the future a line may be (Loki: 10m).
    #[serde(default = "default_creation_grace_period")]
    pub creation_grace_period: Duration,
}

fn default_max_label_names_per_series() -> usize {
    15
}
fn default_max_label_name_length() -> usize {
    1024
}
fn default_max_label_value_length() -> usize {
    2048
}
fn default_reject_old_samples() -> bool {
    true
}
fn default_reject_old_samples_max_age() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}
fn default_creation_grace_period() -> Duration {
    Duration::from_secs(600)
}

impl Default for PushLimits {
    fn default() -> Self {
        PushLimits {
            max_label_names_per_series: default_max_label_names_per_series(),
            max_label_name_length: default_max_label_name_length(),
            max_label_value_length: default_max_label_value_length(),
            reject_old_samples: default_reject_old_samples(),
            reject_old_samples_max_age: default_reject_old_samples_max_age(),
            creation_grace_period: default_creation_grace_period(),
        }
    }
}

/// Loki's text for a time in a message: Go's `time.Time.String()`.
pub fn go_time(ts_ns: i64) -> String {
    sightline_core::time::go_string(&sightline_core::time::DateTime::from_timestamp_nanos(ts_ns))
}

impl PushLimits {
    /// The stream's labels, parsed and checked as Loki's distributor checks
    /// them; the error is Loki's message. Empty values are dropped, as
    /// Loki drops them (an empty value is an absent label).
    pub fn stream_labels(&self, raw: &StreamLabels) -> Result<Labels, String> {
        let pairs = match raw {
            StreamLabels::Text(t) => selector::parse(t)
                .map_err(|e| format!("Error parsing labels '{t}' with error: {e}"))?,
            StreamLabels::Pairs(p) => {
                if let Some((n, _)) = p.iter().find(|(n, _)| !selector::valid_name(n)) {
                    return Err(format!(
                        "Error parsing labels '{}' with error: invalid label name {n:?}",
                        pairs_text(p)
                    ));
                }
                p.clone()
            }
        };
        let mut pairs: Vec<(String, String)> =
            pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        if pairs.is_empty() {
            return Err("error at least one label pair is required per stream".to_owned());
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let shown = pairs_text(&pairs);
        if pairs.len() > self.max_label_names_per_series {
            return Err(format!(
                "entry for stream '{shown}' has {} label names; limit {}",
                pairs.len(),
                self.max_label_names_per_series
            ));
        }
        for (i, (n, v)) in pairs.iter().enumerate() {
            if n.len() > self.max_label_name_length {
                return Err(format!("stream '{shown}' has label name too long: '{n}'"));
            }
            if v.len() > self.max_label_value_length {
                return Err(format!("stream '{shown}' has label value too long: '{v}'"));
            }
            if i > 0 && pairs[i - 1].0 == *n {
                return Err(format!("stream '{shown}' has duplicate label name: '{n}'"));
            }
        }
        Ok(Labels::from_pairs(pairs))
    }

    /// The entry's timestamp checked against now (nanoseconds); the error
    /// is Loki's message.
    pub fn entry(&self, labels: &Labels, e: &LogEntry, now_ns: i64) -> Result<(), String> {
        let max_age = self.reject_old_samples_max_age.std().as_nanos() as i64;
        if self.reject_old_samples && e.ts_ns < now_ns.saturating_sub(max_age) {
            return Err(format!(
                "entry for stream '{labels}' has timestamp too old: {}, oldest acceptable timestamp is: {}",
                go_time(e.ts_ns),
                go_time(now_ns.saturating_sub(max_age))
            ));
        }
        let grace = self.creation_grace_period.std().as_nanos() as i64;
        if e.ts_ns > now_ns.saturating_add(grace) {
            return Err(format!(
                "entry for stream '{labels}' has timestamp too new: {}",
                go_time(e.ts_ns)
            ));
        }
        Ok(())
    }
}

/// `{a="b", c="d"}`, as Go's `labels.Labels.String()` prints them.
fn pairs_text(p: &[(String, String)]) -> String {
    let mut s = String::from("{");
    for (i, (n, v)) in p.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(n);
        s.push('=');
        s.push_str(&format!("{v:?}"));
    }
    s.push('}');
    s
}
