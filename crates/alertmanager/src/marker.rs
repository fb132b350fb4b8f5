//! Per-alert status as the API shows it: unprocessed until the dispatcher or
//! the API first checks the alert against silences and inhibitions, then
//! active, or suppressed with the ids of the silences and the fingerprints
//! of the inhibiting alerts.

use std::collections::HashMap;
use std::sync::RwLock;

use serde::Serialize;

/// An alert's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Unprocessed,
    Active,
    Suppressed,
}

/// An alert's state and what suppresses it: API v2's `status` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertStatus {
    pub inhibited_by: Vec<String>,
    pub silenced_by: Vec<String>,
    pub state: AlertState,
}

impl Default for AlertStatus {
    fn default() -> Self {
        AlertStatus {
            inhibited_by: Vec::new(),
            silenced_by: Vec::new(),
            state: AlertState::Unprocessed,
        }
    }
}

impl AlertStatus {
    fn settle(&mut self) {
        self.state = if self.silenced_by.is_empty() && self.inhibited_by.is_empty() {
            AlertState::Active
        } else {
            AlertState::Suppressed
        };
    }
}

/// The status of every alert, by fingerprint.
#[derive(Debug, Default)]
pub struct Marker {
    by_fp: RwLock<HashMap<u64, AlertStatus>>,
}

impl Marker {
    /// An empty marker (every alert unprocessed).
    pub fn new() -> Marker {
        Marker::default()
    }

    /// Records the active silences muting the alert (empty: none).
    pub fn set_silenced(&self, fp: u64, silence_ids: Vec<String>) {
        let mut m = self.by_fp.write().expect("marker lock");
        let s = m.entry(fp).or_default();
        s.silenced_by = silence_ids;
        s.settle();
    }

    /// Records the alerts inhibiting this one, as fingerprints (empty: none).
    pub fn set_inhibited(&self, fp: u64, by: Vec<String>) {
        let mut m = self.by_fp.write().expect("marker lock");
        let s = m.entry(fp).or_default();
        s.inhibited_by = by;
        s.settle();
    }

    /// The alert's status; unprocessed when it was never marked.
    pub fn status(&self, fp: u64) -> AlertStatus {
        self.by_fp
            .read()
            .expect("marker lock")
            .get(&fp)
            .cloned()
            .unwrap_or_default()
    }

    /// Forgets an alert (when the store drops it).
    pub fn delete(&self, fp: u64) {
        self.by_fp.write().expect("marker lock").remove(&fp);
    }

    /// How many alerts are in each state, for self-metrics.
    pub fn count(&self, state: AlertState) -> usize {
        self.by_fp
            .read()
            .expect("marker lock")
            .values()
            .filter(|s| s.state == state)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_follows_silences_and_inhibitions() {
        let m = Marker::new();
        assert_eq!(m.status(1).state, AlertState::Unprocessed);
        m.set_silenced(1, vec![]);
        assert_eq!(m.status(1).state, AlertState::Active);
        m.set_silenced(1, vec!["s1".into()]);
        m.set_inhibited(1, vec!["00000000000000ff".into()]);
        let st = m.status(1);
        assert_eq!(st.state, AlertState::Suppressed);
        assert_eq!(
            serde_json::to_string(&st).unwrap(),
            r#"{"inhibitedBy":["00000000000000ff"],"silencedBy":["s1"],"state":"suppressed"}"#
        );
        m.set_silenced(1, vec![]);
        assert_eq!(m.status(1).state, AlertState::Suppressed);
        m.set_inhibited(1, vec![]);
        assert_eq!(m.status(1).state, AlertState::Active);
        assert_eq!(m.count(AlertState::Active), 1);
        m.delete(1);
        assert_eq!(m.status(1).state, AlertState::Unprocessed);
    }
}
