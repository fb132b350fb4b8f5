//! [`Incidents`]: the records, what opens and closes them, and their file.
//!
//! Every change appends the whole changed incident as one JSON line to
//! `incidents.jsonl` and fsyncs before the call returns (the notification
//! history's habit, `statefile::JsonLines`); on start the last line of each
//! id wins. The file is rewritten with the live records once it holds more
//! than twice as many lines, so it stays within about twice its content.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::config::{IncidentsConfig, OpenPolicy};
use super::metrics::Durations;
use super::model::{Event, EventKind, Incident, IncidentAlert, Status, Ticket};
use super::token::LinkKey;
use crate::alert::Alert;
use crate::statefile::JsonLines;
use crate::{Error, Result};

/// File name of the incidents inside the data directory.
pub const INCIDENTS_FILE: &str = "incidents.jsonl";

/// The actor of what the alerts themselves did.
pub const ALERTMANAGER_ACTOR: &str = "alertmanager";

/// Annotation added to each alert of a notification whose group has an
/// incident: the incident page.
pub const INCIDENT_URL_ANNOTATION: &str = "incident_url";
/// Annotation with the signed acknowledge link (while not acknowledged).
pub const ACKNOWLEDGE_URL_ANNOTATION: &str = "acknowledge_url";

/// A manual declaration.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Declaration {
    pub name: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub affected_area: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub description: String,
    /// Who declares it.
    #[serde(default)]
    pub by: Option<String>,
}

/// A change of ticket fields; absent fields stay as they are.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Patch {
    pub name: Option<String>,
    pub subject: Option<String>,
    pub affected_area: Option<String>,
    pub severity: Option<String>,
    pub description: Option<String>,
    pub by: Option<String>,
}

/// What [`Incidents::list`] returns; every given criterion must hold.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<Status>,
    /// Severity, compared without case.
    pub severity: Option<String>,
    /// Opened at or after.
    pub since: Option<DateTime<Utc>>,
    /// Opened at or before.
    pub until: Option<DateTime<Utc>>,
}

/// The incidents of one Alertmanager.
#[derive(Debug)]
pub struct Incidents {
    pub(crate) config: IncidentsConfig,
    policy: OpenPolicy,
    runbooks_dir: PathBuf,
    key: LinkKey,
    external_url: String,
    inner: Mutex<Inner>,
    pub(crate) durations: Durations,
}

#[derive(Debug)]
struct Inner {
    incidents: BTreeMap<u64, Incident>,
    file: JsonLines,
}

impl Incidents {
    /// Opens (creating) the incidents of `data_dir`. `config_dir` is the
    /// folder relative runbook paths resolve against; `external_url` the
    /// base of links in notifications.
    pub fn open(
        data_dir: &Path,
        config: IncidentsConfig,
        config_dir: &Path,
        external_url: &str,
        now: DateTime<Utc>,
    ) -> Result<Incidents> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::State {
            op: "create dir",
            path: data_dir.to_path_buf(),
            source,
        })?;
        let policy = OpenPolicy::new(&config.open_on)?;
        let runbooks_dir = config_dir.join(
            config
                .runbooks_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("runbooks")),
        );
        let key = LinkKey::load_or_create(data_dir)?;
        let (file, records) = JsonLines::open::<Incident>(&data_dir.join(INCIDENTS_FILE))?;
        let mut incidents = BTreeMap::new();
        for r in records {
            incidents.insert(r.id, r);
        }
        let inc = Incidents {
            config,
            policy,
            runbooks_dir,
            key,
            external_url: external_url.trim_end_matches('/').to_string(),
            inner: Mutex::new(Inner { incidents, file }),
            durations: Durations::default(),
        };
        inc.gc(now)?;
        Ok(inc)
    }

    /// Drops incidents resolved longer than the retention ago; compacts
    /// the file when it holds more dead lines than live ones.
    pub fn gc(&self, now: DateTime<Utc>) -> Result<usize> {
        let retention =
            chrono::Duration::from_std(self.config.retention.0).unwrap_or(chrono::Duration::MAX);
        let cutoff = now.checked_sub_signed(retention);
        let mut inner = self.lock();
        let before = inner.incidents.len();
        if let Some(cutoff) = cutoff {
            inner
                .incidents
                .retain(|_, i| i.resolved_at.is_none_or(|r| r >= cutoff));
        }
        let removed = before - inner.incidents.len();
        let Inner { incidents, file } = &mut *inner;
        if file.lines > 2 * incidents.len() {
            let live: Vec<&Incident> = incidents.values().collect();
            file.rewrite(&live)?;
        }
        Ok(removed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether alert groups open incidents.
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    /// The folder runbook files are read from.
    pub fn runbooks_dir(&self) -> &Path {
        &self.runbooks_dir
    }

    /// The incident `id`.
    pub fn get(&self, id: u64) -> Result<Incident> {
        self.lock()
            .incidents
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    /// Incidents passing `filter`: unresolved first, then newest first.
    pub fn list(&self, filter: &IncidentFilter) -> Vec<Incident> {
        let inner = self.lock();
        let mut out: Vec<Incident> = inner
            .incidents
            .values()
            .filter(|i| {
                filter.status.is_none_or(|s| i.status == s)
                    && filter
                        .severity
                        .as_ref()
                        .is_none_or(|s| i.ticket.severity.eq_ignore_ascii_case(s))
                    && filter.since.is_none_or(|t| i.opened_at >= t)
                    && filter.until.is_none_or(|t| i.opened_at <= t)
            })
            .cloned()
            .collect();
        out.sort_by(|a, b| {
            (a.status == Status::Resolved)
                .cmp(&(b.status == Status::Resolved))
                .then(b.opened_at.cmp(&a.opened_at))
                .then(b.id.cmp(&a.id))
        });
        out
    }

    /// Counts by status, for the `sightline_incidents{status}` gauge.
    pub fn counts(&self) -> [(Status, usize); 3] {
        let inner = self.lock();
        let mut c = [
            (Status::Open, 0),
            (Status::Acknowledged, 0),
            (Status::Resolved, 0),
        ];
        for i in inner.incidents.values() {
            c[i.status as usize].1 += 1;
        }
        c
    }

    /// Applies `f` to incident `id` and writes the result; returns it.
    fn change(
        &self,
        id: u64,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut Incident) -> Result<()>,
    ) -> Result<Incident> {
        let mut inner = self.lock();
        let mut inc = inner
            .incidents
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(id))?;
        let before = inc.clone();
        f(&mut inc)?;
        if inc == before {
            // Most flushes change nothing: no write, no fsync.
            return Ok(inc);
        }
        inc.updated_at = now;
        inner.file.append(std::slice::from_ref(&inc))?;
        inner.incidents.insert(id, inc.clone());
        Ok(inc)
    }

    /// Stores a new incident under the next id.
    fn insert(&self, build: impl FnOnce(u64) -> Incident) -> Result<Incident> {
        let mut inner = self.lock();
        let id = inner.incidents.keys().next_back().map_or(1, |m| m + 1);
        let inc = build(id);
        inner.file.append(std::slice::from_ref(&inc))?;
        inner.incidents.insert(id, inc.clone());
        Ok(inc)
    }

    /// Opens an incident by hand.
    pub fn declare(&self, d: Declaration, now: DateTime<Utc>) -> Result<Incident> {
        if d.name.trim().is_empty() {
            return Err(Error::BadInput("name: must not be empty".into()));
        }
        let actor = actor(d.by.as_deref(), "api");
        self.insert(|id| Incident {
            id,
            status: Status::Open,
            ticket: Ticket {
                name: d.name.trim().to_string(),
                date: now,
                subject: d.subject,
                affected_area: d.affected_area,
                severity: d.severity,
                description: d.description,
            },
            edited: Default::default(),
            group_key: None,
            receiver: None,
            group_labels: Default::default(),
            alerts: Vec::new(),
            opened_at: now,
            acknowledged_at: None,
            acknowledged_by: None,
            resolved_at: None,
            resolved_by: None,
            events: vec![Event {
                time: now,
                kind: EventKind::Declared,
                actor,
                text: String::new(),
            }],
            updated_at: now,
        })
    }

    /// Changes ticket fields; they are then no longer filled from alerts.
    pub fn patch(&self, id: u64, p: Patch, now: DateTime<Utc>) -> Result<Incident> {
        if p.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(Error::BadInput("name: must not be empty".into()));
        }
        let who = actor(p.by.as_deref(), "api");
        self.change(id, now, |inc| {
            let mut changed = Vec::new();
            let t = &mut inc.ticket;
            for (field, new, slot) in [
                ("name", p.name, &mut t.name),
                ("subject", p.subject, &mut t.subject),
                ("affectedArea", p.affected_area, &mut t.affected_area),
                ("severity", p.severity, &mut t.severity),
                ("description", p.description, &mut t.description),
            ] {
                if let Some(v) = new {
                    if *slot != v {
                        *slot = v;
                        changed.push(field);
                    }
                }
            }
            if changed.is_empty() {
                return Ok(());
            }
            inc.edited.extend(changed.iter().map(|f| f.to_string()));
            inc.events.push(Event {
                time: now,
                kind: EventKind::Edited,
                actor: who,
                text: changed.join(", "),
            });
            Ok(())
        })
    }

    /// Acknowledges an open incident; acknowledging twice changes nothing.
    pub fn acknowledge(&self, id: u64, by: Option<&str>, now: DateTime<Utc>) -> Result<Incident> {
        let who = actor(by, "api");
        let mut tta = None;
        let inc = self.change(id, now, |inc| match inc.status {
            Status::Resolved => Err(Error::Conflict(format!(
                "incident {id} is resolved; it cannot be acknowledged"
            ))),
            Status::Acknowledged => Ok(()),
            Status::Open => {
                inc.status = Status::Acknowledged;
                inc.acknowledged_at = Some(now);
                inc.acknowledged_by = Some(who.clone());
                inc.events.push(Event {
                    time: now,
                    kind: EventKind::Acknowledged,
                    actor: who,
                    text: String::new(),
                });
                tta = Some(seconds(now - inc.opened_at));
                Ok(())
            }
        })?;
        if let Some(s) = tta {
            self.durations.acknowledge.observe(s);
        }
        Ok(inc)
    }

    /// Resolves an incident by hand; resolving twice changes nothing.
    pub fn resolve(&self, id: u64, by: Option<&str>, now: DateTime<Utc>) -> Result<Incident> {
        let who = actor(by, "api");
        self.resolve_as(id, who, String::new(), now)
    }

    fn resolve_as(
        &self,
        id: u64,
        who: String,
        text: String,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        let mut ttr = None;
        let inc = self.change(id, now, |inc| {
            if inc.status == Status::Resolved {
                return Ok(());
            }
            inc.status = Status::Resolved;
            inc.resolved_at = Some(now);
            inc.resolved_by = Some(who.clone());
            inc.events.push(Event {
                time: now,
                kind: EventKind::Resolved,
                actor: who,
                text,
            });
            ttr = Some(seconds(now - inc.opened_at));
            Ok(())
        })?;
        if let Some(s) = ttr {
            self.durations.resolve.observe(s);
        }
        Ok(inc)
    }

    /// Adds a comment.
    pub fn comment(
        &self,
        id: u64,
        by: Option<&str>,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        if text.trim().is_empty() {
            return Err(Error::BadInput("text: must not be empty".into()));
        }
        let who = actor(by, "api");
        self.change(id, now, |inc| {
            inc.events.push(Event {
                time: now,
                kind: EventKind::Comment,
                actor: who,
                text: text.to_string(),
            });
            Ok(())
        })
    }

    /// The incident tracking `group_key` now: unresolved, or resolved by
    /// its alerts within the reopen grace (then `true`).
    fn for_group(&self, group_key: &str, now: DateTime<Utc>) -> Option<(u64, bool)> {
        let grace =
            chrono::Duration::from_std(self.config.reopen_grace.0).unwrap_or(chrono::Duration::MAX);
        let inner = self.lock();
        let latest = inner
            .incidents
            .values()
            .rev()
            .find(|i| i.group_key.as_deref() == Some(group_key))?;
        match latest.status {
            Status::Open | Status::Acknowledged => Some((latest.id, false)),
            Status::Resolved => {
                let by_alerts = latest.resolved_by.as_deref() == Some(ALERTMANAGER_ACTOR);
                let recent = latest.resolved_at.is_some_and(|r| now - r <= grace);
                (by_alerts && recent).then_some((latest.id, true))
            }
        }
    }

    /// Called at the start of each flush of a group with all its alerts:
    /// records alerts that joined or resolved, and resolves the incident
    /// once every alert has resolved.
    pub(crate) fn observe_group(&self, group_key: &str, alerts: &[Alert], now: DateTime<Utc>) {
        let Some((id, reopen)) = self.for_group(group_key, now) else {
            return;
        };
        if reopen {
            // Only a firing alert reopens (in `on_notify`).
            return;
        }
        let res = self.change(id, now, |inc| {
            track_alerts(inc, alerts, now);
            Ok(())
        });
        match res {
            Ok(inc) => {
                let all_resolved = !alerts.is_empty() && alerts.iter().all(|a| a.resolved_at(now));
                if all_resolved {
                    if let Err(e) = self.resolve_as(
                        inc.id,
                        ALERTMANAGER_ACTOR.into(),
                        "every alert of the group resolved".into(),
                        now,
                    ) {
                        tracing::error!(incident = id, "resolving incident: {e}");
                    }
                }
            }
            Err(e) => tracing::error!(incident = id, "recording incident alerts: {e}"),
        }
    }

    /// Called with the alerts a flush is about to send (after silences
    /// and inhibition): opens (or reopens) the group's incident when a
    /// firing alert qualifies, and returns the alerts with the incident's
    /// links added as annotations.
    pub(crate) fn on_notify(
        &self,
        group_key: &str,
        receiver: &str,
        group_labels: &crate::alert::LabelSet,
        mut alerts: Vec<Alert>,
        now: DateTime<Utc>,
    ) -> Vec<Alert> {
        let firing_qualifies = self.config.enabled
            && alerts
                .iter()
                .any(|a| !a.resolved_at(now) && self.policy.opens(&a.labels));
        let id = match self.for_group(group_key, now) {
            Some((id, false)) => Some(id),
            Some((id, true)) if firing_qualifies => {
                let r = self.change(id, now, |inc| {
                    inc.status = if inc.acknowledged_at.is_some() {
                        Status::Acknowledged
                    } else {
                        Status::Open
                    };
                    inc.resolved_at = None;
                    inc.resolved_by = None;
                    inc.events.push(Event {
                        time: now,
                        kind: EventKind::Reopened,
                        actor: ALERTMANAGER_ACTOR.into(),
                        text: "the group fired again".into(),
                    });
                    track_alerts(inc, &alerts, now);
                    Ok(())
                });
                r.map_err(|e| tracing::error!(incident = id, "reopening incident: {e}"))
                    .ok()
                    .map(|i| i.id)
            }
            _ if firing_qualifies => self
                .open_for_group(group_key, receiver, group_labels, &alerts, now)
                .map_err(|e| tracing::error!(group = group_key, "opening incident: {e}"))
                .ok()
                .map(|i| i.id),
            _ => None,
        };
        let Some(id) = id else {
            return alerts;
        };
        let acknowledged = self
            .get(id)
            .map(|i| i.status != Status::Open)
            .unwrap_or(true);
        let page = self.incident_url(id);
        let ack = (!acknowledged).then(|| self.acknowledge_url(id, now));
        for a in &mut alerts {
            a.annotations
                .insert(INCIDENT_URL_ANNOTATION.into(), page.clone());
            if let Some(ack) = &ack {
                a.annotations
                    .insert(ACKNOWLEDGE_URL_ANNOTATION.into(), ack.clone());
            }
        }
        alerts
    }

    fn open_for_group(
        &self,
        group_key: &str,
        receiver: &str,
        group_labels: &crate::alert::LabelSet,
        alerts: &[Alert],
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        let mut firing: Vec<&Alert> = alerts.iter().filter(|a| !a.resolved_at(now)).collect();
        // Oldest first, so the fields do not depend on the group's order.
        firing.sort_by_key(|a| (a.starts_at, a.fingerprint()));
        let first = firing
            .iter()
            .filter(|a| self.policy.opens(&a.labels))
            .min_by_key(|a| (a.starts_at, a.fingerprint()))
            .or(firing.first())
            .copied()
            .ok_or_else(|| Error::BadInput("no firing alert".into()))?;
        let ticket = ticket_from_alerts(first, &firing, now);
        self.insert(|id| {
            let mut inc = Incident {
                id,
                status: Status::Open,
                ticket,
                edited: Default::default(),
                group_key: Some(group_key.to_string()),
                receiver: Some(receiver.to_string()),
                group_labels: group_labels.clone(),
                alerts: Vec::new(),
                opened_at: now,
                acknowledged_at: None,
                acknowledged_by: None,
                resolved_at: None,
                resolved_by: None,
                events: Vec::new(),
                updated_at: now,
            };
            track_alerts(&mut inc, alerts, now);
            inc
        })
    }

    /// The incident's page in the web UI.
    pub fn incident_url(&self, id: u64) -> String {
        format!("{}/#/incidents/{id}", self.external_url)
    }

    /// A signed link acknowledging incident `id`, valid for `ack_link_ttl`.
    pub fn acknowledge_url(&self, id: u64, now: DateTime<Utc>) -> String {
        let ttl = chrono::Duration::from_std(self.config.ack_link_ttl.0)
            .unwrap_or(chrono::Duration::days(1));
        format!(
            "{}/api/v1/incidents/ack/{}",
            self.external_url,
            self.key.sign(id, now + ttl)
        )
    }

    /// The incident an acknowledge token names, if the token is valid.
    pub fn verify_token(&self, token: &str, now: DateTime<Utc>) -> Result<u64> {
        self.key.verify(token, now).map_err(Error::Forbidden)
    }
}

/// Adds alerts the incident does not know yet (an `alert fired` event
/// each) and records those that resolved since (an `alert resolved` event).
fn track_alerts(inc: &mut Incident, alerts: &[Alert], now: DateTime<Utc>) {
    let mut sorted: Vec<&Alert> = alerts.iter().collect();
    sorted.sort_by_key(|a| (a.starts_at, a.fingerprint()));
    for a in sorted {
        let seen = IncidentAlert::from_alert(a, now);
        let name = alert_title(a);
        match inc.alert_mut(&seen.fingerprint) {
            None => {
                if seen.ends_at.is_some() {
                    // Resolved before we saw it fire: nothing to add.
                    continue;
                }
                inc.events.push(Event {
                    time: a.starts_at,
                    kind: EventKind::AlertFired,
                    actor: ALERTMANAGER_ACTOR.into(),
                    text: name,
                });
                inc.alerts.push(seen);
            }
            Some(known) => {
                let newly_resolved = known.ends_at.is_none() && seen.ends_at.is_some();
                let fired_again = known.ends_at.is_some() && seen.ends_at.is_none();
                *known = seen;
                if newly_resolved {
                    inc.events.push(Event {
                        time: a.ends_at,
                        kind: EventKind::AlertResolved,
                        actor: ALERTMANAGER_ACTOR.into(),
                        text: name,
                    });
                } else if fired_again {
                    inc.events.push(Event {
                        time: a.starts_at,
                        kind: EventKind::AlertFired,
                        actor: ALERTMANAGER_ACTOR.into(),
                        text: name,
                    });
                }
            }
        }
    }
}

/// `alertname{label="value", ...}` without the alertname label repeated.
fn alert_title(a: &Alert) -> String {
    let rest: Vec<String> = a
        .labels
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
        .map(|(k, v)| format!("{k}=\"{v}\""))
        .collect();
    format!("{}{{{}}}", a.name(), rest.join(", "))
}

/// Labels naming where it hurts, in this order, for the affected area.
const AREA_LABELS: &[&str] = &["service", "job", "namespace", "instance"];

/// The ticket fields filled from the group's alerts: `first` (the earliest
/// qualifying one) names it.
fn ticket_from_alerts(first: &Alert, firing: &[&Alert], now: DateTime<Utc>) -> Ticket {
    let name = first.name().to_string();
    let date = firing.iter().map(|a| a.starts_at).min().unwrap_or(now);
    let subject = first
        .annotations
        .get("summary")
        .cloned()
        .unwrap_or_else(|| name.clone());
    let mut area: Vec<String> = Vec::new();
    for l in AREA_LABELS {
        for a in firing {
            if let Some(v) = a.labels.get(*l) {
                let s = format!("{l}={v}");
                if !area.contains(&s) {
                    area.push(s);
                }
            }
        }
    }
    let severity = first.labels.get("severity").cloned().unwrap_or_default();
    let description = first
        .annotations
        .get("description")
        .cloned()
        .unwrap_or_default();
    Ticket {
        name,
        date,
        subject,
        affected_area: area.join(", "),
        severity,
        description,
    }
}

fn actor(by: Option<&str>, default: &str) -> String {
    match by.map(str::trim) {
        Some(b) if !b.is_empty() => b.to_string(),
        _ => default.to_string(),
    }
}

fn not_found(id: u64) -> Error {
    Error::NotFound(format!("incident {id} not found"))
}

fn seconds(d: chrono::Duration) -> f64 {
    d.num_milliseconds().max(0) as f64 / 1000.0
}
