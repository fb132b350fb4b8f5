//! The alerts the Alertmanager knows, by fingerprint. A re-posted alert is
//! merged into the one already held the way Alertmanager 0.25 merges them,
//! and every stored alert is broadcast to subscribers (the dispatcher and
//! the inhibitor) so they see each change once.
//!
//! Resolved alerts are removed by [`AlertStore::gc`]; aggregation groups keep
//! their own copies, so a resolved alert is still notified after the store
//! forgets it.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use crate::alert::Alert;

/// How many stored alerts a slow subscriber may lag behind before it is told
/// to resynchronise from [`AlertStore::subscribe`]'s snapshot.
const CHANNEL_CAPACITY: usize = 16 * 1024;

/// Alerts by fingerprint.
#[derive(Debug)]
pub struct AlertStore {
    alerts: RwLock<HashMap<u64, Alert>>,
    tx: broadcast::Sender<Alert>,
}

impl Default for AlertStore {
    fn default() -> Self {
        AlertStore::new()
    }
}

/// Alertmanager's `Alert.Merge`: `new` is the younger of the two (by
/// `updated_at`; swapped when it is not). The result keeps the earlier
/// start; its end is the younger alert's unless the older one has a later
/// end that still counts: a later explicit resolution when both are
/// resolved, or a later end not set by `resolve_timeout` while firing.
pub fn merge(old: &Alert, new: &Alert, now: DateTime<Utc>) -> Alert {
    let (a, o) = if new.updated_at < old.updated_at {
        (new, old)
    } else {
        (old, new)
    };
    let mut res = o.clone();
    if a.starts_at < o.starts_at {
        res.starts_at = a.starts_at;
    }
    if o.resolved_at(now) {
        if a.resolved_at(now) && a.ends_at > o.ends_at {
            res.ends_at = a.ends_at;
        }
    } else if a.ends_at > o.ends_at && !a.timeout {
        res.ends_at = a.ends_at;
    }
    res
}

impl AlertStore {
    /// An empty store.
    pub fn new() -> AlertStore {
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        AlertStore {
            alerts: RwLock::new(HashMap::new()),
            tx,
        }
    }

    /// Stores `alerts`, each merged with the alert of the same fingerprint
    /// when their activity overlaps (the new one ends or starts inside the
    /// old one's span); a new alert that does not overlap (it fires again
    /// after the old one resolved) replaces it.
    pub fn put(&self, alerts: Vec<Alert>, now: DateTime<Utc>) {
        let mut map = self.alerts.write().expect("alert store lock");
        for mut alert in alerts {
            let fp = alert.fingerprint();
            if let Some(old) = map.get(&fp) {
                let overlaps = (alert.ends_at > old.starts_at && alert.ends_at < old.ends_at)
                    || (alert.starts_at > old.starts_at && alert.starts_at < old.ends_at);
                if overlaps {
                    alert = merge(old, &alert, now);
                }
            }
            map.insert(fp, alert.clone());
            // Sent under the lock so subscribers see changes in store order;
            // an error only means nobody listens.
            let _ = self.tx.send(alert);
        }
    }

    /// The alert with this fingerprint.
    pub fn get(&self, fp: u64) -> Option<Alert> {
        self.alerts
            .read()
            .expect("alert store lock")
            .get(&fp)
            .cloned()
    }

    /// Every alert held, resolved ones included, in no particular order.
    pub fn list(&self) -> Vec<Alert> {
        self.alerts
            .read()
            .expect("alert store lock")
            .values()
            .cloned()
            .collect()
    }

    /// Every alert held now plus a receiver of every alert stored after
    /// that, taken together so nothing falls between the two. A receiver
    /// that reports `Lagged` missed alerts and should subscribe again.
    pub fn subscribe(&self) -> (Vec<Alert>, broadcast::Receiver<Alert>) {
        let map = self.alerts.read().expect("alert store lock");
        let rx = self.tx.subscribe();
        (map.values().cloned().collect(), rx)
    }

    /// Removes the alerts resolved at `now` and returns their fingerprints.
    pub fn gc(&self, now: DateTime<Utc>) -> Vec<u64> {
        let mut map = self.alerts.write().expect("alert store lock");
        let dead: Vec<u64> = map
            .iter()
            .filter(|(_, a)| a.resolved_at(now))
            .map(|(fp, _)| *fp)
            .collect();
        for fp in &dead {
            map.remove(fp);
        }
        dead
    }

    /// Number of alerts held.
    pub fn len(&self) -> usize {
        self.alerts.read().expect("alert store lock").len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn alert(start: i64, end: i64, updated: i64, timeout: bool) -> Alert {
        Alert {
            labels: [("alertname".to_string(), "X".to_string())].into(),
            annotations: Default::default(),
            starts_at: t(start),
            ends_at: t(end),
            generator_url: String::new(),
            updated_at: t(updated),
            timeout,
        }
    }

    #[test]
    fn repost_keeps_earliest_start_and_takes_new_end() {
        let s = AlertStore::new();
        let now = t(100);
        s.put(vec![alert(0, 300, 0, true)], now);
        // Prometheus re-sends with a start it re-computed later and a new end.
        s.put(vec![alert(60, 400, 100, false)], now);
        let got = s.get(alert(0, 0, 0, false).fingerprint()).unwrap();
        assert_eq!(
            (got.starts_at, got.ends_at, got.updated_at),
            (t(0), t(400), t(100))
        );
        assert!(!got.timeout);
        // An earlier end from the younger alert wins over a timeout end...
        s.put(vec![alert(0, 350, 120, false)], now);
        let got = s.get(got.fingerprint()).unwrap();
        assert_eq!(
            got.ends_at,
            t(400),
            "explicit later end of the older alert stays"
        );
        // ...and resolving explicitly (end in the past) takes effect.
        s.put(vec![alert(0, 90, 130, false)], now);
        let got = s.get(got.fingerprint()).unwrap();
        assert_eq!(got.ends_at, t(90));
        assert!(got.resolved_at(now));
    }

    #[test]
    fn timeout_end_of_older_alert_does_not_win() {
        let older = alert(0, 500, 10, true);
        let younger = alert(0, 400, 20, false);
        assert_eq!(merge(&older, &younger, t(30)).ends_at, t(400));
        let older = alert(0, 500, 10, false);
        assert_eq!(merge(&older, &younger, t(30)).ends_at, t(500));
        // Argument order does not matter: the younger is found by updated_at.
        assert_eq!(merge(&younger, &older, t(30)).ends_at, t(500));
    }

    #[test]
    fn refiring_after_resolution_is_a_new_alert() {
        let s = AlertStore::new();
        s.put(vec![alert(0, 100, 0, false)], t(0));
        // Starts after the old one ended: no overlap, replaced as is.
        s.put(vec![alert(200, 500, 200, true)], t(200));
        let got = s.get(alert(0, 0, 0, false).fingerprint()).unwrap();
        assert_eq!((got.starts_at, got.ends_at), (t(200), t(500)));
    }

    #[tokio::test]
    async fn subscribers_see_each_put_and_gc_drops_resolved() {
        let s = AlertStore::new();
        s.put(vec![alert(0, 100, 0, false)], t(0));
        let (snap, mut rx) = s.subscribe();
        assert_eq!(snap.len(), 1);
        let mut other = alert(0, 300, 0, false);
        other.labels.insert("x".into(), "y".into());
        s.put(vec![other.clone()], t(0));
        assert_eq!(rx.recv().await.unwrap(), other);
        assert_eq!(s.gc(t(100)), vec![alert(0, 0, 0, false).fingerprint()]);
        assert_eq!(s.len(), 1);
    }
}
