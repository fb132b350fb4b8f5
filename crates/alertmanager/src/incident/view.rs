//! An incident as the API and the UI show it: the record, plus what other
//! stores know about it, read when asked so nothing is kept twice: the
//! notifications sent for its group (the notification history), the
//! silences matching its alerts, its runbook and the links to the signals
//! of its time window.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::model::{Event, EventKind, Incident};
use super::store::{Incidents, ALERTMANAGER_ACTOR};
use crate::history::{HistoryFilter, Outcome};
use crate::manager::Alertmanager;
use crate::silence::SilenceQuery;
use crate::{Error, Result};

/// Runbook files larger than this are not shown (a runbook is a page, not
/// a log dump; the limit keeps a stray file from bloating every answer).
pub const MAX_RUNBOOK_BYTES: u64 = 256 * 1024;

/// How far links reach before the first alert and after the end, so the
/// lead-up and the recovery are on screen.
const LINK_PADDING_MINUTES: i64 = 15;

/// The alert's runbook: a link, a file's Markdown, or both.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Runbook {
    /// The `runbook_url` annotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `<runbooks_dir>/<alertname>.md`, when it exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// That file's Markdown (the UI renders it without raw HTML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
}

/// Links to the signals of the incident's window (UI routes, relative to
/// the external URL).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Links {
    pub incident: String,
    /// The `dashboard` annotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<String>,
    /// Explore with the alert's expression (from its generator URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explore: Option<String>,
    /// Logs of the alert's service or job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<String>,
    /// Traces of the alert's service (or job).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traces: Option<String>,
}

/// One incident with its timeline, runbook and links.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentView {
    #[serde(flatten)]
    pub incident: Incident,
    /// Every event, oldest first: the record's own, notifications, silences.
    pub timeline: Vec<Event>,
    pub runbook: Runbook,
    pub links: Links,
}

impl Alertmanager {
    /// The incidents, when they are on.
    pub fn incidents(&self) -> Option<&Arc<Incidents>> {
        self.deps.incidents.as_ref()
    }

    fn incidents_or_err(&self) -> Result<&Arc<Incidents>> {
        self.incidents()
            .ok_or_else(|| Error::NotFound("incidents are not enabled".into()))
    }

    /// `--web.external-url`, the base of links.
    pub fn external_url(&self) -> &str {
        &self.deps.external_url
    }

    /// The current time of the Alertmanager's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.deps.clock.now()
    }

    /// Incident `id` with its timeline, runbook and links.
    pub fn incident_view(&self, id: u64) -> Result<IncidentView> {
        let inc = self.incidents_or_err()?;
        let incident = inc.get(id)?;
        let now = self.now();
        let mut timeline = incident.events.clone();
        timeline.extend(self.notification_events(&incident));
        timeline.extend(self.silence_events(&incident, now));
        // Stable: events recorded at the same instant keep their order.
        timeline.sort_by_key(|e| e.time);
        Ok(IncidentView {
            runbook: runbook(inc, &incident),
            links: links(inc, &incident, now),
            timeline,
            incident,
        })
    }

    fn notification_events(&self, i: &Incident) -> Vec<Event> {
        let Some(gk) = &i.group_key else {
            return Vec::new();
        };
        // The resolved notification goes out after the incident resolved:
        // attempts up to the reopen grace later still belong to it.
        let grace = self
            .incidents()
            .map(|inc| inc.config.reopen_grace.0)
            .unwrap_or_default();
        let grace = chrono::Duration::from_std(grace).unwrap_or_default();
        let f = HistoryFilter {
            group_key: Some(gk.clone()),
            since: Some(i.opened_at),
            until: i.resolved_at.map(|r| r + grace),
            ..Default::default()
        };
        let mut out: Vec<Event> = self
            .history(&f)
            .into_iter()
            .filter(|a| &a.group_key == gk)
            .map(|a| {
                let outcome = match a.outcome {
                    Outcome::Success => "sent".to_string(),
                    Outcome::Failed => format!("failed: {}", a.error.unwrap_or_default()),
                    Outcome::Retrying => {
                        format!("failed, retrying: {}", a.error.unwrap_or_default())
                    }
                };
                Event {
                    time: a.time,
                    kind: EventKind::Notification,
                    actor: ALERTMANAGER_ACTOR.into(),
                    text: format!(
                        "{} via {}[{}], {} alert(s): {outcome}",
                        a.receiver,
                        a.integration,
                        a.integration_index,
                        a.alerts.len()
                    ),
                }
            })
            .collect();
        out.reverse();
        out
    }

    fn silence_events(&self, i: &Incident, now: DateTime<Utc>) -> Vec<Event> {
        if i.alerts.is_empty() {
            return Vec::new();
        }
        let (start, _) = i.window(now);
        self.deps
            .silences
            .query(&SilenceQuery::default(), now)
            .into_iter()
            .filter(|s| s.ends_at > start && s.updated_at >= start)
            .filter(|s| i.alerts.iter().any(|a| s.matchers.matches(&a.labels)))
            .map(|s| Event {
                time: s.updated_at,
                kind: EventKind::Silence,
                actor: s.created_by.clone(),
                text: format!(
                    "{} until {}{}",
                    s.matchers,
                    sightline_core::time::rfc3339_nano(&s.ends_at),
                    if s.comment.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", s.comment)
                    }
                ),
            })
            .collect()
    }
}

/// The runbook of the incident's name (its alertname).
pub fn runbook(inc: &Incidents, i: &Incident) -> Runbook {
    let mut rb = Runbook {
        url: i.annotation("runbook_url").map(str::to_string),
        ..Default::default()
    };
    let name = i.alerts.first().and_then(|a| a.labels.get("alertname"));
    let Some(name) = name.filter(|n| safe_file_name(n)) else {
        return rb;
    };
    let path = inc.runbooks_dir().join(format!("{name}.md"));
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() && m.len() <= MAX_RUNBOOK_BYTES => {
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    rb.file = Some(path.display().to_string());
                    rb.markdown = Some(text);
                }
                Err(e) => tracing::warn!("runbook {}: {e}", path.display()),
            }
        }
        Ok(m) if m.is_file() => tracing::warn!(
            "runbook {} is {} bytes, over the {MAX_RUNBOOK_BYTES} shown",
            path.display(),
            m.len()
        ),
        _ => {}
    }
    rb
}

/// An alertname usable as a file name: no separators, no `..`.
fn safe_file_name(n: &str) -> bool {
    !n.is_empty()
        && n != "."
        && n != ".."
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.'))
        && !n.contains("..")
}

/// The links of the incident's window.
pub fn links(inc: &Incidents, i: &Incident, now: DateTime<Utc>) -> Links {
    let (start, end) = i.window(now);
    let pad = chrono::Duration::minutes(LINK_PADDING_MINUTES);
    let from = (start - pad).timestamp_millis();
    let to = (end + pad).timestamp_millis();
    let label = |n: &str| {
        i.alerts
            .iter()
            .find_map(|a| a.labels.get(n))
            .map(String::as_str)
    };
    let explore = i
        .alerts
        .iter()
        .find_map(|a| generator_expr(&a.generator_url))
        .map(|e| format!("#/explore?expr={}&from={from}&to={to}", enc(&e)));
    let logs = label("service")
        .map(|v| ("service", v))
        .or(label("job").map(|v| ("job", v)))
        .map(|(k, v)| {
            let q = format!(
                "{{{k}=\"{}\"}}",
                v.replace('\\', "\\\\").replace('"', "\\\"")
            );
            format!("#/logs?query={}&from={from}&to={to}", enc(&q))
        });
    let traces = label("service")
        .or(label("job"))
        .map(|s| format!("#/traces?service={}&from={from}&to={to}", enc(s)));
    Links {
        incident: inc.incident_url(i.id),
        dashboard: i.annotation("dashboard").map(str::to_string),
        explore,
        logs,
        traces,
    }
}

/// The `g0.expr` of a Prometheus generator URL.
fn generator_expr(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    u.query_pairs()
        .find(|(k, _)| k == "g0.expr")
        .map(|(_, v)| v.into_owned())
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expr_comes_from_the_generator_url() {
        assert_eq!(
            generator_expr("http://h:9090/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1&g0.tab=1"),
            Some("rate(x[5m]) > 1".to_string())
        );
        assert_eq!(generator_expr("not a url"), None);
        assert_eq!(enc("{job=\"a b\"}"), "%7Bjob%3D%22a%20b%22%7D");
    }

    #[test]
    fn runbook_names_cannot_leave_the_folder() {
        assert!(safe_file_name("HighErrorRate"));
        assert!(safe_file_name("job:errors:rate5m"));
        assert!(!safe_file_name("../etc/passwd"));
        assert!(!safe_file_name(".."));
        assert!(!safe_file_name("a/b"));
        assert!(!safe_file_name(""));
    }
}
