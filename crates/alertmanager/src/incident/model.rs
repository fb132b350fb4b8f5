//! An incident record as it is kept on disk and answered by the API.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::{Alert, LabelSet};
use crate::statefile::rfc3339;

/// Where an incident stands; it only moves forward, except that a group
/// firing again within the grace reopens a resolved one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Acknowledged,
    Resolved,
}

impl Status {
    /// The name the API and the metrics use.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Acknowledged => "acknowledged",
            Status::Resolved => "resolved",
        }
    }

    /// Parses a `status` filter value.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "open" => Some(Status::Open),
            "acknowledged" => Some(Status::Acknowledged),
            "resolved" => Some(Status::Resolved),
            _ => None,
        }
    }
}

/// One alert of the incident's group, as last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentAlert {
    /// 16 lower-case hex digits.
    pub fingerprint: String,
    pub labels: LabelSet,
    pub annotations: LabelSet,
    #[serde(with = "rfc3339")]
    pub starts_at: DateTime<Utc>,
    /// When it resolved; absent while it fires.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub generator_url: String,
}

impl IncidentAlert {
    /// The alert as the incident keeps it at `now`.
    pub fn from_alert(a: &Alert, now: DateTime<Utc>) -> IncidentAlert {
        IncidentAlert {
            fingerprint: format!("{:016x}", a.fingerprint()),
            labels: a.labels.clone(),
            annotations: a.annotations.clone(),
            starts_at: a.starts_at,
            ends_at: a.resolved_at(now).then_some(a.ends_at),
            generator_url: a.generator_url.clone(),
        }
    }
}

/// What happened, as the timeline lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Declared by hand.
    Declared,
    /// One alert of the group started firing.
    AlertFired,
    /// One alert of the group resolved.
    AlertResolved,
    /// A notification attempt (read from the notification history).
    Notification,
    /// A silence matching one of the alerts (read from the silences).
    Silence,
    Acknowledged,
    Comment,
    /// Ticket fields changed by hand.
    Edited,
    Resolved,
    /// The group fired again within the grace after it resolved.
    Reopened,
}

impl EventKind {
    /// The words the Markdown ticket uses.
    pub fn title(self) -> &'static str {
        match self {
            EventKind::Declared => "declared",
            EventKind::AlertFired => "alert fired",
            EventKind::AlertResolved => "alert resolved",
            EventKind::Notification => "notification",
            EventKind::Silence => "silence",
            EventKind::Acknowledged => "acknowledged",
            EventKind::Comment => "comment",
            EventKind::Edited => "edited",
            EventKind::Resolved => "resolved",
            EventKind::Reopened => "reopened",
        }
    }
}

/// One timeline entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(with = "rfc3339")]
    pub time: DateTime<Utc>,
    pub kind: EventKind,
    /// Who did it (`alertmanager` for what the alerts did).
    pub actor: String,
    /// One line: the comment, the alert, the receiver and outcome, ...
    pub text: String,
}

/// The seeds' trouble-ticket fields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub name: String,
    #[serde(with = "rfc3339")]
    pub date: DateTime<Utc>,
    pub subject: String,
    pub affected_area: String,
    pub severity: String,
    pub description: String,
}

/// One incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Incident {
    /// 1, 2, 3, ... in opening order.
    pub id: u64,
    pub status: Status,
    #[serde(flatten)]
    pub ticket: Ticket,
    /// Ticket fields edited by hand, which alerts no longer overwrite.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub edited: BTreeSet<String>,
    /// The aggregation group that opened it; none when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// The group's labels.
    #[serde(default)]
    pub group_labels: LabelSet,
    #[serde(default)]
    pub alerts: Vec<IncidentAlert>,
    #[serde(with = "rfc3339")]
    pub opened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    /// What was recorded as it happened (notifications and silences are
    /// read from their own stores when the timeline is shown).
    #[serde(default)]
    pub events: Vec<Event>,
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl Incident {
    /// The alert with this fingerprint.
    pub fn alert_mut(&mut self, fingerprint: &str) -> Option<&mut IncidentAlert> {
        self.alerts
            .iter_mut()
            .find(|a| a.fingerprint == fingerprint)
    }

    /// The first alert's annotation `name`, if any alert has it.
    pub fn annotation(&self, name: &str) -> Option<&str> {
        self.alerts
            .iter()
            .find_map(|a| a.annotations.get(name))
            .map(String::as_str)
    }

    /// The window the incident's links cover: from the first alert's start
    /// (or the opening) to the resolution (or `now`).
    pub fn window(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = self
            .alerts
            .iter()
            .map(|a| a.starts_at)
            .min()
            .unwrap_or(self.opened_at)
            .min(self.opened_at);
        (start, self.resolved_at.unwrap_or(now))
    }
}

/// An optional RFC 3339 time (`rfc3339` for `Option`).
pub(crate) mod opt_time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};
    use sightline_core::time;

    pub(crate) fn serialize<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&time::rfc3339_nano(t)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| time::parse_rfc3339(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}
