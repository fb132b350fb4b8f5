//! The facade's input and output types, shaped as Alertmanager's API v2
//! JSON (field names, order and time format), so the HTTP layer only
//! (de)serializes them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::LabelSet;
use crate::marker::AlertStatus;
use crate::matcher::{ApiMatcher, Matcher};
use crate::silence::{Silence, SilenceState};

/// API v2 times: RFC 3339 in UTC with milliseconds, as Go's `strfmt.DateTime`
/// prints them (`2024-05-01T10:00:00.000Z`); parsing takes what
/// `strfmt.ParseDateTime` takes ([`sightline_core::time::parse_openapi`]).
pub mod api_time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};
    use sightline_core::time;

    /// Formats `t` as the API prints times.
    pub fn format(t: &DateTime<Utc>) -> String {
        time::rfc3339_millis(t)
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        time::parse_openapi(&s).map_err(serde::de::Error::custom)
    }

    /// The same for optional fields (absent or null is `None`).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer};
        use sightline_core::time;

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            let s: Option<String> = Option::deserialize(d)?;
            match s {
                None => Ok(None),
                // Go's zero time, which some clients send for "unset".
                Some(s) if s.starts_with("0001-01-01T00:00:00") => Ok(None),
                Some(s) => time::parse_openapi(&s)
                    .map(Some)
                    .map_err(serde::de::Error::custom),
            }
        }
    }
}

/// `{"name": "..."}`: a receiver in API v2 alerts and groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiverName {
    pub name: String,
}

/// API v2 `PostableAlert`: what `POST /api/v2/alerts` carries.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert {
    pub labels: LabelSet,
    #[serde(default)]
    pub annotations: LabelSet,
    #[serde(default, with = "api_time::option")]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default, with = "api_time::option")]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: String,
}

/// API v2 `GettableAlert`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertView {
    pub annotations: LabelSet,
    #[serde(with = "api_time")]
    pub ends_at: DateTime<Utc>,
    /// 16 lower-case hex digits.
    pub fingerprint: String,
    pub receivers: Vec<ReceiverName>,
    #[serde(with = "api_time")]
    pub starts_at: DateTime<Utc>,
    pub status: AlertStatus,
    #[serde(with = "api_time")]
    pub updated_at: DateTime<Utc>,
    #[serde(rename = "generatorURL", skip_serializing_if = "String::is_empty")]
    pub generator_url: String,
    pub labels: LabelSet,
}

/// API v2 `AlertGroup`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupView {
    pub alerts: Vec<AlertView>,
    pub labels: LabelSet,
    pub receiver: ReceiverName,
}

/// API v2 `PostableSilence`: a new silence (no `id`) or an update.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SilenceInput {
    #[serde(default)]
    pub id: Option<String>,
    pub matchers: Vec<ApiMatcher>,
    #[serde(with = "api_time")]
    pub starts_at: DateTime<Utc>,
    #[serde(with = "api_time")]
    pub ends_at: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
}

/// `{"state": "active"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SilenceStatusView {
    pub state: SilenceState,
}

/// API v2 `GettableSilence`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SilenceView {
    pub id: String,
    pub status: SilenceStatusView,
    #[serde(with = "api_time")]
    pub updated_at: DateTime<Utc>,
    pub comment: String,
    pub created_by: String,
    #[serde(with = "api_time")]
    pub ends_at: DateTime<Utc>,
    pub matchers: Vec<ApiMatcher>,
    #[serde(with = "api_time")]
    pub starts_at: DateTime<Utc>,
}

impl SilenceView {
    pub(crate) fn new(s: &Silence, now: DateTime<Utc>) -> SilenceView {
        SilenceView {
            id: s.id.clone(),
            status: SilenceStatusView {
                state: s.state(now),
            },
            updated_at: s.updated_at,
            comment: s.comment.clone(),
            created_by: s.created_by.clone(),
            ends_at: s.ends_at,
            matchers: s.matchers.iter().map(ApiMatcher::from).collect(),
            starts_at: s.starts_at,
        }
    }
}

/// API v2 `AlertmanagerStatus`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    pub cluster: ClusterStatus,
    pub config: ConfigView,
    /// When this Alertmanager started (API v2 calls it `uptime`).
    #[serde(with = "api_time")]
    pub uptime: DateTime<Utc>,
    pub version_info: VersionInfo,
}

/// A single node answers as Alertmanager does with clustering disabled:
/// `{"peers": [], "status": "disabled"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterStatus {
    pub peers: Vec<serde_json::Value>,
    pub status: String,
}

/// `{"original": "<the config's YAML>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigView {
    pub original: String,
}

/// Build information, with API v2's field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    pub branch: String,
    pub build_date: String,
    pub build_user: String,
    pub go_version: String,
    pub revision: String,
    pub version: String,
}

/// Which alerts `GET /api/v2/alerts` lists; every flag defaults to true.
#[derive(Debug, Clone)]
pub struct AlertFilter {
    pub active: bool,
    pub silenced: bool,
    pub inhibited: bool,
    /// Ignored by [`crate::manager::Alertmanager::alert_groups`], as in Alertmanager.
    pub unprocessed: bool,
    /// Only alerts routed to a receiver whose name matches this regex
    /// (anchored on both ends).
    pub receiver: Option<String>,
    /// The API's `filter` matchers (see [`crate::silence::filter_labels_match`]).
    pub matchers: Vec<Matcher>,
}

impl Default for AlertFilter {
    fn default() -> Self {
        AlertFilter {
            active: true,
            silenced: true,
            inhibited: true,
            unprocessed: true,
            receiver: None,
            matchers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_print_with_milliseconds() {
        let t = Utc.timestamp_opt(1_893_456_000, 5_000_000).unwrap();
        assert_eq!(api_time::format(&t), "2030-01-01T00:00:00.005Z");
    }

    #[test]
    fn postable_alert_accepts_missing_and_zero_times() {
        let a: PostableAlert = serde_json::from_str(
            r#"{"labels":{"alertname":"A"},"startsAt":"0001-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00+01:00","generatorURL":"http://x"}"#,
        )
        .unwrap();
        assert_eq!(a.starts_at, None);
        assert_eq!(
            a.ends_at,
            Some(Utc.with_ymd_and_hms(2029, 12, 31, 23, 0, 0).unwrap())
        );
        assert_eq!(a.generator_url, "http://x");
    }
}
