//! The notification log: for each aggregation group and integration, which
//! alerts the last successful notification reported as firing and resolved.
//! The dispatcher consults it before sending ([`needs_update`], Alertmanager's
//! `DedupStage`) so that a flush whose alerts the receiver already knows
//! about sends nothing until `repeat_interval` has passed.
//!
//! Entries are appended to `nflog.jsonl` as they are logged and fsynced
//! before [`Nflog::log`] returns, so that after a restart (or a config reload)
//! nothing already delivered is delivered again. The file is compacted (only
//! the newest unexpired entry per key kept) when it holds twice as many lines
//! as live entries, and when it is opened.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::statefile::{rfc3339, JsonLines};
use crate::{Error, Result};

/// File name of the notification log inside the data directory.
pub const NFLOG_FILE: &str = "nflog.jsonl";

/// Whom a log entry is about: one integration of one receiver for one group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NflogKey {
    /// The aggregation group's key (`{}/{env="prod"}:{alertname="X"}`).
    pub group_key: String,
    pub receiver: String,
    /// Integration kind (`webhook`, `email`, ...).
    pub integration: String,
    /// Position among the receiver's integrations of that kind.
    pub index: usize,
}

/// What the last successful notification for a key reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NflogEntry {
    /// Fingerprints of the alerts sent as firing.
    pub firing: HashSet<u64>,
    /// Fingerprints of the alerts sent (or, without `send_resolved`, known) as resolved.
    pub resolved: HashSet<u64>,
    /// When the notification was sent.
    pub timestamp: DateTime<Utc>,
    /// When the entry may be forgotten.
    pub expires_at: DateTime<Utc>,
}

/// Whether a flush with these `firing` and `resolved` alerts must notify,
/// given the key's last log entry: Alertmanager 0.25's `DedupStage`.
///
/// - never notified: only when something fires (a lone resolved alert means
///   nothing to a receiver that never heard of it);
/// - something fires that the last notification did not report: yes;
/// - nothing fires any more: yes if the last notification had firing alerts
///   (whatever `send_resolved` says, so the log forgets them), else no;
/// - with `send_resolved`, a resolved alert the last notification did not
///   report as resolved: yes;
/// - otherwise only once `repeat` has passed since the last notification.
pub fn needs_update(
    entry: Option<&NflogEntry>,
    firing: &HashSet<u64>,
    resolved: &HashSet<u64>,
    send_resolved: bool,
    repeat: Duration,
    now: DateTime<Utc>,
) -> bool {
    let Some(e) = entry else {
        return !firing.is_empty();
    };
    if !firing.is_subset(&e.firing) {
        return true;
    }
    if firing.is_empty() {
        return !e.firing.is_empty();
    }
    if send_resolved && !resolved.is_subset(&e.resolved) {
        return true;
    }
    let repeat = chrono::Duration::from_std(repeat).unwrap_or(chrono::Duration::MAX);
    match now.checked_sub_signed(repeat) {
        Some(due) => e.timestamp < due,
        None => false,
    }
}

/// One line of the file. (`deny_unknown_fields` does not combine with `flatten`.)
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    #[serde(flatten)]
    key: NflogKey,
    firing_alerts: Vec<String>,
    resolved_alerts: Vec<String>,
    #[serde(with = "rfc3339")]
    timestamp: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    expires_at: DateTime<Utc>,
}

impl Record {
    fn new(key: &NflogKey, e: &NflogEntry) -> Record {
        let hex = |s: &HashSet<u64>| {
            let mut v: Vec<u64> = s.iter().copied().collect();
            v.sort_unstable();
            v.into_iter().map(|f| format!("{f:016x}")).collect()
        };
        Record {
            key: key.clone(),
            firing_alerts: hex(&e.firing),
            resolved_alerts: hex(&e.resolved),
            timestamp: e.timestamp,
            expires_at: e.expires_at,
        }
    }

    fn into_entry(self) -> std::result::Result<(NflogKey, NflogEntry), String> {
        let parse = |v: Vec<String>| -> std::result::Result<HashSet<u64>, String> {
            v.iter()
                .map(|h| u64::from_str_radix(h, 16).map_err(|e| format!("fingerprint {h:?}: {e}")))
                .collect()
        };
        Ok((
            self.key,
            NflogEntry {
                firing: parse(self.firing_alerts)?,
                resolved: parse(self.resolved_alerts)?,
                timestamp: self.timestamp,
                expires_at: self.expires_at,
            },
        ))
    }
}

/// The notification log of one Alertmanager.
#[derive(Debug)]
pub struct Nflog {
    retention: Duration,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    entries: HashMap<NflogKey, NflogEntry>,
    file: Option<JsonLines>,
}

impl Nflog {
    /// Opens (creating) the log in `data_dir`, dropping entries that expired
    /// before `now` and compacting the file.
    pub fn open(data_dir: &Path, retention: Duration, now: DateTime<Utc>) -> Result<Nflog> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::State {
            op: "create dir",
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(NFLOG_FILE);
        let (mut file, records) = JsonLines::open::<Record>(&path)?;
        let mut entries = HashMap::new();
        for r in records {
            match r.into_entry() {
                // Later lines supersede earlier ones for the same key.
                Ok((k, e)) if e.expires_at > now => {
                    entries.insert(k, e);
                }
                Ok((k, _)) => {
                    entries.remove(&k);
                }
                Err(why) => tracing::warn!("{}: skipping entry: {why}", path.display()),
            }
        }
        file.rewrite(&snapshot(&entries))?;
        Ok(Nflog {
            retention,
            inner: Mutex::new(Inner {
                entries,
                file: Some(file),
            }),
        })
    }

    /// A log kept in memory only.
    pub fn in_memory(retention: Duration) -> Nflog {
        Nflog {
            retention,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                file: None,
            }),
        }
    }

    /// The last entry for `key`.
    pub fn get(&self, key: &NflogKey) -> Option<NflogEntry> {
        self.inner
            .lock()
            .expect("nflog lock")
            .entries
            .get(key)
            .cloned()
    }

    /// Records a successful notification; durable when this returns.
    pub fn log(
        &self,
        key: &NflogKey,
        firing: &HashSet<u64>,
        resolved: &HashSet<u64>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let retention = chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::MAX);
        let entry = NflogEntry {
            firing: firing.clone(),
            resolved: resolved.clone(),
            timestamp: now,
            expires_at: now
                .checked_add_signed(retention)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        };
        let mut inner = self.inner.lock().expect("nflog lock");
        let Inner { entries, file } = &mut *inner;
        if let Some(f) = file {
            f.append(&[Record::new(key, &entry)])?;
        }
        entries.insert(key.clone(), entry);
        if let Some(f) = file {
            if f.lines > 2 * entries.len() + 64 {
                f.rewrite(&snapshot(entries))?;
            }
        }
        Ok(())
    }

    /// Forgets entries whose expiry lies before `now`; returns how many.
    pub fn gc(&self, now: DateTime<Utc>) -> Result<usize> {
        let mut inner = self.inner.lock().expect("nflog lock");
        let Inner { entries, file } = &mut *inner;
        let before = entries.len();
        entries.retain(|_, e| e.expires_at > now);
        let removed = before - entries.len();
        if removed > 0 {
            if let Some(f) = file {
                f.rewrite(&snapshot(entries))?;
            }
        }
        Ok(removed)
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.inner.lock().expect("nflog lock").entries.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn snapshot(entries: &HashMap<NflogKey, NflogEntry>) -> Vec<Record> {
    let mut v: Vec<Record> = entries.iter().map(|(k, e)| Record::new(k, e)).collect();
    v.sort_by_key(|r| r.timestamp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn set(v: &[u64]) -> HashSet<u64> {
        v.iter().copied().collect()
    }

    fn entry(firing: &[u64], resolved: &[u64], ts: i64) -> NflogEntry {
        NflogEntry {
            firing: set(firing),
            resolved: set(resolved),
            timestamp: t(ts),
            expires_at: t(ts + 1000),
        }
    }

    #[test]
    fn dedup_decisions() {
        let hour = Duration::from_secs(3600);
        let now = t(1000);
        // needs_update with the alert sets written as fingerprint lists.
        let due = |logged, firing: &[u64], resolved: &[u64], send_resolved, repeat, now| {
            needs_update(
                logged,
                &set(firing),
                &set(resolved),
                send_resolved,
                repeat,
                now,
            )
        };
        // Nothing logged yet: only firing alerts are worth a notification.
        assert!(due(None, &[1], &[], true, hour, now));
        assert!(!due(None, &[], &[2], true, hour, now));
        let e = entry(&[1, 2], &[], 900);
        // Same or fewer firing alerts, nothing resolved: wait for repeat_interval.
        assert!(!due(Some(&e), &[1, 2], &[], true, hour, now));
        assert!(!due(Some(&e), &[1], &[], false, hour, now));
        // A new firing alert.
        assert!(due(Some(&e), &[1, 3], &[], false, hour, now));
        // One resolved: only with send_resolved.
        assert!(due(Some(&e), &[1], &[2], true, hour, now));
        assert!(!due(Some(&e), &[1], &[2], false, hour, now));
        // All resolved: always, so the log forgets the firing ones.
        assert!(due(Some(&e), &[], &[1, 2], false, hour, now));
        // Nothing firing before or now: nothing to say.
        let empty = entry(&[], &[1, 2], 900);
        assert!(!due(Some(&empty), &[], &[3], true, hour, now));
        // repeat_interval: logged at 900, repeat 100 s: due strictly after 1000.
        let short = Duration::from_secs(100);
        assert!(!due(Some(&e), &[1, 2], &[], true, short, t(1000)));
        assert!(due(Some(&e), &[1, 2], &[], true, short, t(1001)));
        // Already-reported resolved alerts do not count again.
        let r = entry(&[1], &[2], 900);
        assert!(!due(Some(&r), &[1], &[2], true, hour, now));
    }

    fn key(g: &str) -> NflogKey {
        NflogKey {
            group_key: g.into(),
            receiver: "team".into(),
            integration: "webhook".into(),
            index: 0,
        }
    }

    #[test]
    fn survives_restart_and_compacts() {
        let dir = tempfile::tempdir().unwrap();
        let ret = Duration::from_secs(1000);
        {
            let log = Nflog::open(dir.path(), ret, t(0)).unwrap();
            log.log(&key("g1"), &set(&[1, 0xdead_beef]), &set(&[]), t(10))
                .unwrap();
            log.log(&key("g2"), &set(&[3]), &set(&[]), t(20)).unwrap();
            // Superseding entry for g1.
            log.log(&key("g1"), &set(&[1]), &set(&[0xdead_beef]), t(30))
                .unwrap();
            // Dropped without shutdown: every log call is already on disk.
        }
        let text = std::fs::read_to_string(dir.path().join(NFLOG_FILE)).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(
            text.contains(r#""resolvedAlerts":["00000000deadbeef"]"#),
            "{text}"
        );
        let log = Nflog::open(dir.path(), ret, t(40)).unwrap();
        assert_eq!(log.len(), 2);
        let e = log.get(&key("g1")).unwrap();
        assert_eq!(e, entry(&[1], &[0xdead_beef], 30));
        // The reopened log says the same notification needs no resend.
        assert!(!needs_update(
            Some(&e),
            &set(&[1]),
            &set(&[]),
            true,
            Duration::from_secs(3600),
            t(41)
        ));
        let text = std::fs::read_to_string(dir.path().join(NFLOG_FILE)).unwrap();
        assert_eq!(text.lines().count(), 2, "compacted on open: {text}");
        // g2 expires at 1020, g1 at 1030.
        assert_eq!(log.gc(t(1025)).unwrap(), 1);
        assert!(log.get(&key("g2")).is_none());
        drop(log);
        let log = Nflog::open(dir.path(), ret, t(1031)).unwrap();
        assert!(log.is_empty());
    }

    #[test]
    fn many_logs_keep_the_file_small() {
        let dir = tempfile::tempdir().unwrap();
        let log = Nflog::open(dir.path(), Duration::from_secs(1000), t(0)).unwrap();
        for i in 0..500 {
            log.log(&key("g"), &set(&[i]), &set(&[]), t(i as i64))
                .unwrap();
        }
        let text = std::fs::read_to_string(dir.path().join(NFLOG_FILE)).unwrap();
        assert!(
            text.lines().count() <= 2 + 64 + 1,
            "{}",
            text.lines().count()
        );
        assert_eq!(log.get(&key("g")).unwrap().firing, set(&[499]));
    }
}
