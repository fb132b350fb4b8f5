//! Alerts as the router sees them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// A label set ordered by name, as Prometheus's `model.LabelSet` is when it is
/// hashed or printed.
///
/// Not `sightline_core::Labels`: this is the API v2 JSON shape (a
/// `{"name": "value"}` object, serde maps it directly) and the state files'
/// shape, and Alertmanager keeps labels with empty values that a stored
/// series drops, which `Labels::from_pairs` would lose.
pub type LabelSet = BTreeMap<String, String>;

/// Fingerprint of a label set, equal to Prometheus's `model.LabelSet.Fingerprint()`:
/// FNV-1a 64 over each name and value in name order, each followed by the byte 0xff.
/// Webhook payloads print it as 16 lower-case hex digits.
pub fn fingerprint(labels: &LabelSet) -> u64 {
    const OFFSET: u64 = 0xcbf29ce484222325;
    const PRIME: u64 = 0x100000001b3;
    if labels.is_empty() {
        return OFFSET;
    }
    let mut h = OFFSET;
    for (name, value) in labels {
        for b in name
            .bytes()
            .chain([0xff])
            .chain(value.bytes())
            .chain([0xff])
        {
            h ^= b as u64;
            h = h.wrapping_mul(PRIME);
        }
    }
    h
}

/// One alert: what Prometheus posts to `/api/v2/alerts`, plus when it last changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub starts_at: DateTime<Utc>,
    /// When the alert resolves (or resolved). An alert posted without one gets
    /// `now + resolve_timeout` and `timeout = true`.
    pub ends_at: DateTime<Utc>,
    pub generator_url: String,
    pub updated_at: DateTime<Utc>,
    /// True when `ends_at` was set from `resolve_timeout`, not by the sender.
    pub timeout: bool,
}

impl Alert {
    /// The alert's fingerprint (see [`fingerprint`]).
    pub fn fingerprint(&self) -> u64 {
        fingerprint(&self.labels)
    }

    /// The alert's name (`alertname` label), empty when it has none.
    pub fn name(&self) -> &str {
        self.labels
            .get("alertname")
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Whether the alert is resolved at `now`: its end lies in the past.
    pub fn resolved_at(&self, now: DateTime<Utc>) -> bool {
        self.ends_at <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_matches_prometheus_model() {
        // Values checked by hand against FNV-1a 64 of "a\xffb\xff" and of the empty set
        // (Prometheus returns the FNV offset basis for an empty set).
        let empty = LabelSet::new();
        assert_eq!(fingerprint(&empty), 0xcbf29ce484222325);
        let mut ls = LabelSet::new();
        ls.insert("a".into(), "b".into());
        let mut h: u64 = 0xcbf29ce484222325;
        for b in [b'a', 0xff, b'b', 0xff] {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        assert_eq!(fingerprint(&ls), h);
    }
}
