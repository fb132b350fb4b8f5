//! Silences: matchers plus a time window during which matching alerts are not
//! notified, with Alertmanager 0.25's rules for creating, updating and
//! expiring them.
//!
//! The whole set lives in memory and is written to `silences.json` in the
//! data directory after every change (see `docs/format/alertmanager-state.md`);
//! silences are few and change rarely, so a full atomic rewrite costs little
//! and means no half-applied change survives a crash.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::LabelSet;
use crate::matcher::{ApiMatcher, MatchOp, Matcher, Matchers};
use crate::statefile::{read_snapshot, rfc3339, write_atomic};
use crate::{Error, Result};

/// File name of the silences snapshot inside the data directory.
pub const SILENCES_FILE: &str = "silences.json";

/// How long expired silences are kept by default (Alertmanager's `--data.retention`).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(120 * 3600);

/// A silence as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    /// UUID v4, assigned when the silence is created.
    pub id: String,
    pub matchers: Matchers,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// When the silence was last changed (creation, update or expiry).
    pub updated_at: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
}

/// Where a silence is in its life, decided by the clock alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    /// Expired (ended) silences sort last in the API's list.
    Expired,
    Active,
    Pending,
}

impl SilenceState {
    /// The state name the API prints.
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Expired => "expired",
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
        }
    }
}

impl Silence {
    /// Pending before `starts_at`, active until `ends_at`, expired after.
    pub fn state(&self, now: DateTime<Utc>) -> SilenceState {
        if now < self.starts_at {
            SilenceState::Pending
        } else if now < self.ends_at {
            SilenceState::Active
        } else {
            SilenceState::Expired
        }
    }
}

/// What to list: all given criteria must hold; empty means "any".
#[derive(Debug, Clone, Default)]
pub struct SilenceQuery {
    pub ids: Vec<String>,
    pub states: Vec<SilenceState>,
    /// The API's `filter` parameter: compared against each silence's own
    /// matchers as if they were labels (see [`filter_labels_match`]).
    pub filter: Vec<Matcher>,
}

/// The API's filter rule (Alertmanager's `matchFilterLabels`), used for both
/// alerts (on their labels) and silences (on their matchers' names and
/// values): a filter matcher whose value is empty also accepts a label that
/// is absent (for `=`, `=~`) or present (for `!=`, `!~`).
pub fn filter_labels_match<'a>(filter: &[Matcher], get: impl Fn(&str) -> Option<&'a str>) -> bool {
    filter.iter().all(|m| {
        let v = get(&m.name);
        let negative = matches!(m.op, MatchOp::NotEqual | MatchOp::NotRegexp);
        if m.value.is_empty() && v.is_some() == negative {
            return true;
        }
        m.matches(v.unwrap_or(""))
    })
}

/// The silences of one Alertmanager.
#[derive(Debug)]
pub struct Silences {
    /// `None` keeps silences in memory only (tests, `check` commands).
    path: Option<PathBuf>,
    retention: Duration,
    by_id: RwLock<HashMap<String, Silence>>,
}

/// The snapshot file's top level.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    silences: Vec<Record>,
}

/// One silence in the snapshot file.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Record {
    id: String,
    matchers: Vec<ApiMatcher>,
    #[serde(with = "rfc3339")]
    starts_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    ends_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    updated_at: DateTime<Utc>,
    created_by: String,
    comment: String,
}

const SNAPSHOT_VERSION: u32 = 1;

impl Silences {
    /// Opens the silences of `data_dir` (creating the directory), loading
    /// the snapshot when there is one.
    pub fn open(data_dir: &Path, retention: Duration) -> Result<Silences> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::State {
            op: "create dir",
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(SILENCES_FILE);
        let mut by_id = HashMap::new();
        if let Some(snap) = read_snapshot::<Snapshot>(&path)? {
            if snap.version != SNAPSHOT_VERSION {
                return Err(Error::Config(format!(
                    "{}: unknown version {}",
                    path.display(),
                    snap.version
                )));
            }
            for r in snap.silences {
                let matchers = r
                    .matchers
                    .iter()
                    .map(Matcher::try_from)
                    .collect::<Result<Vec<_>>>()
                    .map_err(|e| {
                        Error::Config(format!("{}: silence {}: {e}", path.display(), r.id))
                    })?;
                by_id.insert(
                    r.id.clone(),
                    Silence {
                        id: r.id,
                        matchers: Matchers(matchers),
                        starts_at: r.starts_at,
                        ends_at: r.ends_at,
                        updated_at: r.updated_at,
                        created_by: r.created_by,
                        comment: r.comment,
                    },
                );
            }
        }
        Ok(Silences {
            path: Some(path),
            retention,
            by_id: RwLock::new(by_id),
        })
    }

    /// Silences that are never written to disk.
    pub fn in_memory(retention: Duration) -> Silences {
        Silences {
            path: None,
            retention,
            by_id: RwLock::new(HashMap::new()),
        }
    }

    /// Creates a silence (empty `id`) or updates one, as Alertmanager's API
    /// does, and returns the id the silence has afterwards.
    ///
    /// An update keeps the id only when it changes what may change in the
    /// silence's state: nothing for an expired one; for an active one neither
    /// matchers nor start (and its end must not lie in the past); for a
    /// pending one not the matchers, and not a start in the past. Otherwise
    /// the old silence is expired (unless it already is) and a new one with a
    /// new id is created, so that the history of what was silenced when
    /// stays true.
    pub fn set(&self, mut s: Silence, now: DateTime<Utc>) -> Result<String> {
        if s.starts_at >= s.ends_at {
            return Err(Error::BadInput(
                "failed to create silence: start time must be before end time".into(),
            ));
        }
        if s.ends_at < now {
            return Err(Error::BadInput(
                "failed to create silence: end time can't be in the past".into(),
            ));
        }
        validate_matchers(&s.matchers)?;
        let mut by_id = self.by_id.write().expect("silences lock");
        let mut expired_prev = None;
        if !s.id.is_empty() {
            let Some(prev) = by_id.get(&s.id) else {
                return Err(Error::NotFound(format!("silence {} not found", s.id)));
            };
            if can_update(prev, &s, now) {
                s.updated_at = now;
                let id = s.id.clone();
                let old = by_id.insert(id.clone(), s);
                return self.persist_or_undo(&mut by_id, &id, old).map(|()| id);
            }
            if prev.state(now) != SilenceState::Expired {
                let mut old = prev.clone();
                expire_in_place(&mut old, now);
                expired_prev = by_id.insert(old.id.clone(), old);
            }
        }
        s.id = uuid::Uuid::new_v4().to_string();
        if s.starts_at < now {
            s.starts_at = now;
        }
        s.updated_at = now;
        let id = s.id.clone();
        by_id.insert(id.clone(), s);
        if let Err(e) = self.persist(&by_id) {
            by_id.remove(&id);
            if let Some(prev) = expired_prev {
                by_id.insert(prev.id.clone(), prev);
            }
            return Err(e);
        }
        Ok(id)
    }

    /// Ends a silence now (a pending one gets its start moved to now too).
    pub fn expire(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        let mut by_id = self.by_id.write().expect("silences lock");
        let Some(sil) = by_id.get(id) else {
            return Err(Error::NotFound(format!("silence {id} not found")));
        };
        if sil.state(now) == SilenceState::Expired {
            return Err(Error::BadInput(format!("silence {id} already expired")));
        }
        let mut new = sil.clone();
        expire_in_place(&mut new, now);
        let old = by_id.insert(id.to_string(), new);
        self.persist_or_undo(&mut by_id, id, old)
    }

    /// One silence by id.
    pub fn get(&self, id: &str) -> Option<Silence> {
        self.by_id.read().expect("silences lock").get(id).cloned()
    }

    /// The silences that pass `q`, in no particular order.
    pub fn query(&self, q: &SilenceQuery, now: DateTime<Utc>) -> Vec<Silence> {
        let by_id = self.by_id.read().expect("silences lock");
        by_id
            .values()
            .filter(|s| q.ids.is_empty() || q.ids.contains(&s.id))
            .filter(|s| q.states.is_empty() || q.states.contains(&s.state(now)))
            .filter(|s| {
                let labels: BTreeMap<&str, &str> = s
                    .matchers
                    .iter()
                    .map(|m| (m.name.as_str(), m.value.as_str()))
                    .collect();
                filter_labels_match(&q.filter, |n| labels.get(n).copied())
            })
            .cloned()
            .collect()
    }

    /// The ids of the active silences whose matchers all match `labels`, sorted.
    pub fn mutes(&self, labels: &LabelSet, now: DateTime<Utc>) -> Vec<String> {
        let by_id = self.by_id.read().expect("silences lock");
        let mut ids: Vec<String> = by_id
            .values()
            .filter(|s| s.state(now) == SilenceState::Active && s.matchers.matches(labels))
            .map(|s| s.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// The ids of the pending silences that will mute `labels` once they start.
    pub fn pending_for(&self, labels: &LabelSet, now: DateTime<Utc>) -> Vec<String> {
        let by_id = self.by_id.read().expect("silences lock");
        let mut ids: Vec<String> = by_id
            .values()
            .filter(|s| s.state(now) == SilenceState::Pending && s.matchers.matches(labels))
            .map(|s| s.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Drops silences that ended more than the retention ago; returns how many.
    pub fn gc(&self, now: DateTime<Utc>) -> Result<usize> {
        let retention = chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::MAX);
        let mut by_id = self.by_id.write().expect("silences lock");
        let dead: Vec<String> = by_id
            .values()
            .filter(|s| {
                s.ends_at
                    .checked_add_signed(retention)
                    .is_some_and(|t| t < now)
            })
            .map(|s| s.id.clone())
            .collect();
        if dead.is_empty() {
            return Ok(0);
        }
        let removed: Vec<Silence> = dead.iter().filter_map(|id| by_id.remove(id)).collect();
        if let Err(e) = self.persist(&by_id) {
            for s in removed {
                by_id.insert(s.id.clone(), s);
            }
            return Err(e);
        }
        Ok(dead.len())
    }

    /// Number of silences held, expired ones included.
    pub fn len(&self) -> usize {
        self.by_id.read().expect("silences lock").len()
    }

    /// Whether no silence is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rewrites the snapshot; the write happens under the lock so two
    /// changes cannot reach the disk in the opposite order.
    fn persist(&self, by_id: &HashMap<String, Silence>) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut silences: Vec<Record> = by_id
            .values()
            .map(|s| Record {
                id: s.id.clone(),
                matchers: s.matchers.iter().map(ApiMatcher::from).collect(),
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                updated_at: s.updated_at,
                created_by: s.created_by.clone(),
                comment: s.comment.clone(),
            })
            .collect();
        silences.sort_by(|a, b| a.id.cmp(&b.id));
        let snap = Snapshot {
            version: SNAPSHOT_VERSION,
            silences,
        };
        let data = serde_json::to_vec_pretty(&snap).map_err(|e| Error::Config(e.to_string()))?;
        write_atomic(path, &data)
    }

    /// Persists after replacing `id`; on failure puts `old` back so memory
    /// and disk agree.
    fn persist_or_undo(
        &self,
        by_id: &mut HashMap<String, Silence>,
        id: &str,
        old: Option<Silence>,
    ) -> Result<()> {
        match self.persist(by_id) {
            Ok(()) => Ok(()),
            Err(e) => {
                match old {
                    Some(o) => by_id.insert(id.to_string(), o),
                    None => by_id.remove(id),
                };
                Err(e)
            }
        }
    }
}

fn validate_matchers(ms: &Matchers) -> Result<()> {
    if ms.is_empty() {
        return Err(Error::BadInput(
            "silence invalid: at least one matcher required".into(),
        ));
    }
    for m in ms.iter() {
        if m.name.is_empty() {
            return Err(Error::BadInput(
                "silence invalid: matcher with empty label name".into(),
            ));
        }
    }
    // A silence whose matchers all accept "" would also mute alerts that
    // lack every one of its labels, i.e. nearly everything.
    if ms.iter().all(|m| m.matches("")) {
        return Err(Error::BadInput(
            "silence invalid: at least one matcher must not match the empty string".into(),
        ));
    }
    Ok(())
}

fn can_update(prev: &Silence, new: &Silence, now: DateTime<Utc>) -> bool {
    if prev.matchers != new.matchers {
        return false;
    }
    match prev.state(now) {
        SilenceState::Active => new.starts_at == prev.starts_at && new.ends_at >= now,
        SilenceState::Pending => new.starts_at >= now,
        SilenceState::Expired => false,
    }
}

fn expire_in_place(s: &mut Silence, now: DateTime<Utc>) {
    if s.state(now) == SilenceState::Pending {
        s.starts_at = now;
    }
    s.ends_at = now;
    s.updated_at = now;
}

#[cfg(test)]
mod tests;
