//! The generic webhook: a JSON POST of Alertmanager's version 4 message.
//!
//! ```json
//! {"receiver": "...", "status": "firing", "alerts": [{"status": "firing",
//!   "labels": {...}, "annotations": {...}, "startsAt": "2024-05-06T11:30:00Z",
//!   "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "...",
//!   "fingerprint": "0123456789abcdef"}], "groupLabels": {...},
//!   "commonLabels": {...}, "commonAnnotations": {...}, "externalURL": "...",
//!   "version": "4", "groupKey": "...", "truncatedAlerts": 0}
//! ```
//!
//! Keys appear in this order and label maps are sorted by name, as Go's
//! encoder writes them; the test against a real Alertmanager checks both.

use async_trait::async_trait;
use serde::Serialize;

use super::http::HttpClient;
use super::{secret_or_file, Notifier, NotifyContext, NotifyError};
use crate::alert::{Alert, LabelSet};
use crate::config::receiver::{GlobalConfig, WebhookConfig};
use crate::template::{gotime, Data};

/// One `webhook_configs` entry.
#[derive(Debug)]
pub struct Webhook {
    index: usize,
    config: WebhookConfig,
    client: HttpClient,
}

impl Webhook {
    pub fn new(
        index: usize,
        config: &WebhookConfig,
        global: &GlobalConfig,
    ) -> Result<Webhook, String> {
        let http = config.http_config.as_ref().unwrap_or(&global.http_config);
        let timeout = config.timeout.filter(|t| !t.is_zero());
        Ok(Webhook {
            index,
            config: config.clone(),
            client: HttpClient::new(http, timeout)?,
        })
    }
}

/// The version 4 message. Fields are declared in the order Go's encoder
/// writes them; label maps are `BTreeMap`s, so sorted by name as Go sorts.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message<'a> {
    pub receiver: &'a str,
    pub status: &'a str,
    pub alerts: Vec<MessageAlert<'a>>,
    pub group_labels: &'a LabelSet,
    pub common_labels: &'a LabelSet,
    pub common_annotations: &'a LabelSet,
    #[serde(rename = "externalURL")]
    pub external_url: &'a str,
    pub version: &'static str,
    pub group_key: &'a str,
    pub truncated_alerts: u64,
}

/// One alert of a [`Message`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageAlert<'a> {
    pub status: &'a str,
    pub labels: &'a LabelSet,
    pub annotations: &'a LabelSet,
    pub starts_at: String,
    pub ends_at: String,
    #[serde(rename = "generatorURL")]
    pub generator_url: &'a str,
    pub fingerprint: &'a str,
}

/// The version 4 message for `data`.
pub fn message<'a>(data: &'a Data, group_key: &'a str, truncated: u64) -> Message<'a> {
    Message {
        receiver: &data.receiver,
        status: &data.status,
        alerts: data
            .alerts
            .iter()
            .map(|a| MessageAlert {
                status: &a.status,
                labels: &a.labels,
                annotations: &a.annotations,
                starts_at: gotime::rfc3339_nano(&a.starts_at),
                ends_at: gotime::rfc3339_nano(&a.ends_at),
                generator_url: &a.generator_url,
                fingerprint: &a.fingerprint,
            })
            .collect(),
        group_labels: &data.group_labels,
        common_labels: &data.common_labels,
        common_annotations: &data.common_annotations,
        external_url: &data.external_url,
        version: "4",
        group_key,
        truncated_alerts: truncated,
    }
}

/// Keeps the first `max` alerts (0 keeps all) and says how many were dropped.
pub fn truncate(alerts: &[Alert], max: u64) -> (&[Alert], u64) {
    if max != 0 && alerts.len() as u64 > max {
        (&alerts[..max as usize], alerts.len() as u64 - max)
    } else {
        (alerts, 0)
    }
}

#[async_trait]
impl Notifier for Webhook {
    fn kind(&self) -> &'static str {
        "webhook"
    }
    fn index(&self) -> usize {
        self.index
    }
    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    async fn notify(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        // Alertmanager truncates before it computes common labels.
        let (alerts, truncated) = truncate(alerts, self.config.max_alerts);
        let data = ctx.data(alerts);
        let msg = message(&data, &ctx.group_key, truncated);
        let url = secret_or_file(&self.config.url, &self.config.url_file)?
            .ok_or_else(|| NotifyError::permanent("webhook has no url"))?;
        self.client.post_json(&url, &msg).await
    }
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
