//! The `data` of Prometheus's `GET /api/v1/targets`, field for field.

use serde::Serialize;
use sightline_core::{time, Labels};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// `{"activeTargets": [...], "droppedTargets": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TargetsSnapshot {
    /// Targets being scraped.
    #[serde(rename = "activeTargets")]
    pub active_targets: Vec<ActiveTarget>,
    /// Targets relabeling dropped.
    #[serde(rename = "droppedTargets")]
    pub dropped_targets: Vec<DroppedTarget>,
}

/// One entry of `activeTargets`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveTarget {
    /// Labels before relabeling.
    #[serde(rename = "discoveredLabels")]
    pub discovered_labels: BTreeMap<String, String>,
    /// Labels after relabeling (no `__` labels).
    pub labels: BTreeMap<String, String>,
    /// The job.
    #[serde(rename = "scrapePool")]
    pub scrape_pool: String,
    /// The URL scraped.
    #[serde(rename = "scrapeUrl")]
    pub scrape_url: String,
    /// The URL with a loopback host replaced by this machine's name.
    #[serde(rename = "globalUrl")]
    pub global_url: String,
    /// Why the last scrape failed, or "".
    #[serde(rename = "lastError")]
    pub last_error: String,
    /// Start of the last scrape, RFC 3339 with nanoseconds.
    #[serde(rename = "lastScrape")]
    pub last_scrape: String,
    /// Seconds the last scrape took.
    #[serde(rename = "lastScrapeDuration")]
    pub last_scrape_duration: f64,
    /// "up", "down" or "unknown".
    pub health: String,
    /// The target's interval, e.g. "15s".
    #[serde(rename = "scrapeInterval")]
    pub scrape_interval: String,
    /// The target's timeout, e.g. "10s".
    #[serde(rename = "scrapeTimeout")]
    pub scrape_timeout: String,
}

/// One entry of `droppedTargets`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DroppedTarget {
    /// Labels before relabeling.
    #[serde(rename = "discoveredLabels")]
    pub discovered_labels: BTreeMap<String, String>,
}

/// One entry of `/api/v1/targets/metadata`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetMetadata {
    /// The target's labels.
    pub target: BTreeMap<String, String>,
    /// The metric family; left out when the request named one (`metric=`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub metric: String,
    /// The family's type.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The help text.
    pub help: String,
    /// The unit, or "".
    pub unit: String,
}

/// Which targets the API asked for (`state=active|dropped|any`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetState {
    /// Both lists.
    #[default]
    Any,
    /// Only `activeTargets` (droppedTargets empty).
    Active,
    /// Only `droppedTargets` (activeTargets empty).
    Dropped,
}

impl TargetState {
    /// Parses the `state` query parameter; unknown values mean "any", as in Prometheus.
    pub fn parse(s: &str) -> TargetState {
        match s.to_ascii_lowercase().as_str() {
            "active" => TargetState::Active,
            "dropped" => TargetState::Dropped,
            _ => TargetState::Any,
        }
    }
}

pub(crate) fn label_map(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

/// Go's `time.RFC3339Nano` in UTC (`2017-01-17T14:07:44.723715405Z`), with
/// Go's zero time for a target never scraped.
pub fn rfc3339_nanos(t: Option<SystemTime>) -> String {
    let t = t.map_or_else(time::zero_time, time::from_system_time);
    time::rfc3339_nano(&t)
}

/// The machine's host name, for `globalUrl`.
pub(crate) fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
}

/// `url` with a loopback host (`localhost`, `127.0.0.1`, `[::1]`) replaced
/// by `host`, as Prometheus builds `globalUrl`.
pub(crate) fn global_url(url: &str, host: Option<&str>) -> String {
    let Some(host) = host else {
        return url.to_owned();
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    for lo in ["localhost", "127.0.0.1", "[::1]"] {
        if let Some(after) = rest.strip_prefix(lo) {
            if after.is_empty() || after.starts_with(':') || after.starts_with('/') {
                return format!("{scheme}://{host}{after}");
            }
        }
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_matches_go() {
        assert_eq!(rfc3339_nanos(None), "0001-01-01T00:00:00Z");
        let t = SystemTime::UNIX_EPOCH + Duration::new(1_484_662_064, 723_715_405);
        assert_eq!(rfc3339_nanos(Some(t)), "2017-01-17T14:07:44.723715405Z");
        let t = SystemTime::UNIX_EPOCH + Duration::new(951_782_400, 500_000_000);
        assert_eq!(rfc3339_nanos(Some(t)), "2000-02-29T00:00:00.5Z");
        assert_eq!(
            rfc3339_nanos(Some(SystemTime::UNIX_EPOCH)),
            "1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn global_url_replaces_loopback_hosts() {
        assert_eq!(
            global_url("http://localhost:9090/metrics", Some("box")),
            "http://box:9090/metrics"
        );
        assert_eq!(
            global_url("http://127.0.0.1:9/m", Some("box")),
            "http://box:9/m"
        );
        assert_eq!(
            global_url("http://localhostx:9/m", Some("box")),
            "http://localhostx:9/m"
        );
        assert_eq!(global_url("http://a:9/m", Some("box")), "http://a:9/m");
    }

    #[test]
    fn json_field_names_are_prometheus_names() {
        let snap = TargetsSnapshot {
            active_targets: vec![ActiveTarget {
                discovered_labels: BTreeMap::from([("__address__".into(), "a:1".into())]),
                labels: BTreeMap::from([("job".into(), "j".into())]),
                scrape_pool: "j".into(),
                scrape_url: "http://a:1/metrics".into(),
                global_url: "http://a:1/metrics".into(),
                last_error: String::new(),
                last_scrape: rfc3339_nanos(None),
                last_scrape_duration: 0.0,
                health: "unknown".into(),
                scrape_interval: "1m".into(),
                scrape_timeout: "10s".into(),
            }],
            dropped_targets: vec![DroppedTarget {
                discovered_labels: BTreeMap::new(),
            }],
        };
        let v = serde_json::to_value(&snap).unwrap();
        let t = &v["activeTargets"][0];
        for key in [
            "discoveredLabels",
            "labels",
            "scrapePool",
            "scrapeUrl",
            "globalUrl",
            "lastError",
            "lastScrape",
            "lastScrapeDuration",
            "health",
            "scrapeInterval",
            "scrapeTimeout",
        ] {
            assert!(t.get(key).is_some(), "missing {key}");
        }
        assert_eq!(t.as_object().unwrap().len(), 11);
        assert!(v["droppedTargets"][0].get("discoveredLabels").is_some());
    }
}
