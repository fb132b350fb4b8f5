//! Notification history: one record per attempt to send a notification
//! (successful, failed, or failed and about to be retried), so that "did the
//! on-call get paged, and if not, why" has an answer. Alertmanager itself
//! only logs failures; this is Sightline's own addition.
//!
//! Records are appended to `history.jsonl` (see
//! `docs/format/alertmanager-state.md`) and kept in memory for queries.
//! Records older than the retention (30 days by default) are dropped by
//! [`History::gc`], which rewrites the file once it holds more dead lines
//! than live ones, so the file stays within about twice the retained data.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::LabelSet;
use crate::statefile::{rfc3339, JsonLines};
use crate::{Error, Result};

/// File name of the history inside the data directory.
pub const HISTORY_FILE: &str = "history.jsonl";

/// How long attempts are kept by default.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The receiver accepted the notification.
    Success,
    /// The send failed and will not be retried by this flush (a permanent
    /// error, or no time left before the group's next flush).
    Failed,
    /// The send failed with a retryable error; another attempt follows.
    Retrying,
}

/// One alert as it was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttemptAlert {
    /// 16 lower-case hex digits, as the API prints fingerprints.
    pub fingerprint: String,
    pub labels: LabelSet,
    /// `firing` or `resolved`.
    pub status: String,
}

/// One attempt to notify one integration of a receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Attempt {
    /// When the attempt started.
    #[serde(with = "rfc3339")]
    pub time: DateTime<Utc>,
    pub receiver: String,
    /// Integration kind (`webhook`, `email`, ...).
    pub integration: String,
    /// Position among the receiver's integrations of that kind.
    pub integration_index: usize,
    pub group_key: String,
    pub alerts: Vec<AttemptAlert>,
    pub outcome: Outcome,
    /// The error the integration reported, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// 1 for the first attempt of a flush, 2 for its first retry, ...
    pub attempt: u32,
    /// How long the send took.
    pub duration_seconds: f64,
}

/// What [`History::query`] returns; every given criterion must hold.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// Exact receiver name.
    pub receiver: Option<String>,
    /// A substring of the group key.
    pub group_key: Option<String>,
    /// Some alert of the attempt has this `alertname`.
    pub alertname: Option<String>,
    /// Attempts at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Attempts at or before this time.
    pub until: Option<DateTime<Utc>>,
    /// At most this many (the newest).
    pub limit: Option<usize>,
}

impl HistoryFilter {
    fn accepts(&self, a: &Attempt) -> bool {
        self.receiver.as_ref().is_none_or(|r| &a.receiver == r)
            && self
                .group_key
                .as_ref()
                .is_none_or(|g| a.group_key.contains(g.as_str()))
            && self.alertname.as_ref().is_none_or(|n| {
                a.alerts
                    .iter()
                    .any(|al| al.labels.get("alertname") == Some(n))
            })
            && self.since.is_none_or(|t| a.time >= t)
            && self.until.is_none_or(|t| a.time <= t)
    }
}

/// The notification history of one Alertmanager.
#[derive(Debug)]
pub struct History {
    retention: Duration,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Oldest first (in the order they were recorded).
    attempts: VecDeque<Attempt>,
    file: Option<JsonLines>,
}

impl History {
    /// Opens (creating) the history in `data_dir`, dropping what is older
    /// than the retention at `now`.
    pub fn open(data_dir: &Path, retention: Duration, now: DateTime<Utc>) -> Result<History> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::State {
            op: "create dir",
            path: data_dir.to_path_buf(),
            source,
        })?;
        let (file, records) = JsonLines::open::<Attempt>(&data_dir.join(HISTORY_FILE))?;
        let h = History {
            retention,
            inner: Mutex::new(Inner {
                attempts: records.into(),
                file: Some(file),
            }),
        };
        h.gc(now)?;
        Ok(h)
    }

    /// A history kept in memory only.
    pub fn in_memory(retention: Duration) -> History {
        History {
            retention,
            inner: Mutex::new(Inner {
                attempts: VecDeque::new(),
                file: None,
            }),
        }
    }

    /// Records an attempt; on disk when this returns.
    pub fn record(&self, a: Attempt) -> Result<()> {
        let mut inner = self.inner.lock().expect("history lock");
        if let Some(f) = &mut inner.file {
            f.append(std::slice::from_ref(&a))?;
        }
        inner.attempts.push_back(a);
        Ok(())
    }

    /// The attempts that pass `filter`, newest first.
    pub fn query(&self, filter: &HistoryFilter) -> Vec<Attempt> {
        let inner = self.inner.lock().expect("history lock");
        let mut out: Vec<Attempt> = inner
            .attempts
            .iter()
            .rev()
            .filter(|a| filter.accepts(a))
            .take(filter.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect();
        // Records are appended in the order attempts end, which can differ
        // from the order they started when integrations run in parallel.
        out.sort_by_key(|a| std::cmp::Reverse(a.time));
        out
    }

    /// Drops attempts older than the retention; returns how many.
    pub fn gc(&self, now: DateTime<Utc>) -> Result<usize> {
        let retention = chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::MAX);
        let Some(cutoff) = now.checked_sub_signed(retention) else {
            return Ok(0);
        };
        let mut inner = self.inner.lock().expect("history lock");
        let before = inner.attempts.len();
        inner.attempts.retain(|a| a.time >= cutoff);
        let removed = before - inner.attempts.len();
        let Inner { attempts, file } = &mut *inner;
        if let Some(f) = file {
            if f.lines > 2 * attempts.len() {
                let live: Vec<&Attempt> = attempts.iter().collect();
                f.rewrite(&live)?;
            }
        }
        Ok(removed)
    }

    /// Number of attempts held.
    pub fn len(&self) -> usize {
        self.inner.lock().expect("history lock").attempts.len()
    }

    /// Whether no attempt is held.
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

    fn attempt(ts: i64, receiver: &str, group: &str, alertname: &str, outcome: Outcome) -> Attempt {
        Attempt {
            time: t(ts),
            receiver: receiver.into(),
            integration: "webhook".into(),
            integration_index: 0,
            group_key: group.into(),
            alerts: vec![AttemptAlert {
                fingerprint: "00000000000000aa".into(),
                labels: [("alertname".to_string(), alertname.to_string())].into(),
                status: "firing".into(),
            }],
            outcome,
            error: (outcome != Outcome::Success).then(|| "connection refused".into()),
            attempt: 1,
            duration_seconds: 0.25,
        }
    }

    #[test]
    fn query_filters_newest_first() {
        let h = History::in_memory(DEFAULT_RETENTION);
        h.record(attempt(
            10,
            "ops",
            "{}:{alertname=\"A\"}",
            "A",
            Outcome::Retrying,
        ))
        .unwrap();
        h.record(attempt(
            20,
            "ops",
            "{}:{alertname=\"A\"}",
            "A",
            Outcome::Success,
        ))
        .unwrap();
        h.record(attempt(
            30,
            "dev",
            "{}:{alertname=\"B\"}",
            "B",
            Outcome::Failed,
        ))
        .unwrap();
        let times = |f: HistoryFilter| -> Vec<DateTime<Utc>> {
            h.query(&f).into_iter().map(|a| a.time).collect()
        };
        assert_eq!(times(HistoryFilter::default()), vec![t(30), t(20), t(10)]);
        let f = HistoryFilter {
            receiver: Some("ops".into()),
            ..Default::default()
        };
        assert_eq!(times(f), vec![t(20), t(10)]);
        let f = HistoryFilter {
            group_key: Some("\"B\"".into()),
            ..Default::default()
        };
        assert_eq!(times(f), vec![t(30)]);
        let f = HistoryFilter {
            alertname: Some("A".into()),
            limit: Some(1),
            ..Default::default()
        };
        assert_eq!(times(f), vec![t(20)]);
        let f = HistoryFilter {
            since: Some(t(15)),
            until: Some(t(25)),
            ..Default::default()
        };
        assert_eq!(times(f), vec![t(20)]);
    }

    #[test]
    fn persisted_and_trimmed_to_retention() {
        let dir = tempfile::tempdir().unwrap();
        let ret = Duration::from_secs(100);
        {
            let h = History::open(dir.path(), ret, t(0)).unwrap();
            for i in 0..10 {
                h.record(attempt(i * 10, "ops", "g", "A", Outcome::Success))
                    .unwrap();
            }
        }
        let path = dir.path().join(HISTORY_FILE);
        let first = std::fs::read_to_string(&path).unwrap();
        assert_eq!(first.lines().count(), 10);
        assert!(
            first.starts_with(r#"{"time":"2023-11-14T22:13:20Z","receiver":"ops","#),
            "{first}"
        );
        // At t=150 the cutoff is 50: attempts at 50..=90 stay.
        let h = History::open(dir.path(), ret, t(150)).unwrap();
        assert_eq!(h.len(), 5);
        assert_eq!(
            h.query(&HistoryFilter::default()).last().unwrap().time,
            t(50)
        );
        // Ten lines on disk, five live: not yet more dead than live.
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 10);
        assert_eq!(h.gc(t(175)).unwrap(), 3);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
        drop(h);
        let h = History::open(dir.path(), ret, t(175)).unwrap();
        let got = h.query(&HistoryFilter::default());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], attempt(90, "ops", "g", "A", Outcome::Success));
    }
}
