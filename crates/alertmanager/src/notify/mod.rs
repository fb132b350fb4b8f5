//! Receivers' integrations: each turns one aggregation group's alerts into a
//! request to a webhook, an SMTP server, Slack, PagerDuty or Microsoft Teams.
//!
//! The dispatcher decides *when* to send (group_wait, group_interval,
//! repeat_interval, the notification log) and retries failed sends with
//! backoff; a [`Notifier`] only sends once and says whether a failure is
//! worth retrying.
//!
//! - [`build_integrations`] turns a [`crate::config::Receiver`] into notifiers.
//! - [`Base`] and [`Integration`] hold what every HTTP integration shares.
//! - [`http`] builds HTTP clients from `http_config` and classifies responses.
//! - [`webhook`], [`email`], [`slack`], [`pagerduty`], [`msteams`],
//!   [`opsgenie`], [`victorops`], [`pushover`], [`wechat`], [`sns`], [`discord`], [`telegram`], [`webex`]: one module per integration, each
//!   with the payload Alertmanager sends.

pub mod discord;
pub mod email;
pub mod http;
pub(crate) mod integration;
pub mod msteams;
pub mod opsgenie;
pub mod pagerduty;
pub mod pushover;
pub mod slack;
pub mod sns;
pub mod telegram;
pub mod victorops;
pub mod webex;
pub mod webhook;
pub mod wechat;

#[cfg(test)]
pub(crate) mod peer;
#[cfg(test)]
mod testserver;

#[cfg(test)]
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::alert::{Alert, LabelSet};
#[cfg(test)]
use crate::config::receiver::{GlobalConfig, Receiver};
use crate::template::{Data, Templates};

pub use integration::{build_integrations, Base, Integration};

/// What a notifier knows about the notification it sends.
#[derive(Debug, Clone)]
pub struct NotifyContext {
    /// The receiver's name from the config.
    pub receiver: String,
    /// The aggregation group's key, as Alertmanager prints it
    /// (`{}/{env="prod"}:{alertname="X"}`).
    pub group_key: String,
    /// The group's labels (the `group_by` labels of its alerts).
    pub group_labels: LabelSet,
    /// The route's repeat interval.
    pub repeat_interval: Duration,
    /// `--web.external-url`, used for links back to Sightline.
    pub external_url: String,
}

impl NotifyContext {
    /// The template data for `alerts` as of now.
    pub fn data(&self, alerts: &[Alert]) -> Data {
        Data::new(
            &self.receiver,
            &self.group_labels,
            alerts,
            &self.external_url,
            chrono::Utc::now(),
        )
    }
}

/// Why a send failed.
#[derive(Debug, Clone)]
pub struct NotifyError {
    /// Whether sending again may succeed (connection refused, 5xx, 429),
    /// as opposed to a 4xx the receiver will always give.
    pub retryable: bool,
    pub message: String,
}

impl NotifyError {
    /// A failure that may go away (network, server overloaded).
    pub fn retryable(message: impl Into<String>) -> NotifyError {
        NotifyError {
            retryable: true,
            message: message.into(),
        }
    }

    /// A failure that sending again will not fix (bad template, 4xx).
    pub fn permanent(message: impl Into<String>) -> NotifyError {
        NotifyError {
            retryable: false,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for NotifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NotifyError {}

/// One configured integration of a receiver (`webhook_configs[0]`, ...).
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Integration name as Alertmanager names it: `webhook`, `email`, `slack`, `pagerduty`, `msteams`.
    fn kind(&self) -> &'static str;
    /// Position among the receiver's integrations of the same kind.
    fn index(&self) -> usize;
    /// Whether resolved alerts are sent (`send_resolved`).
    fn send_resolved(&self) -> bool;
    /// Sends one notification for `alerts` (firing and resolved ones together).
    async fn notify(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError>;
}

/// Renders one config field, turning a template error into a permanent
/// failure that names the field (re-sending would fail the same way).
pub(crate) fn render(
    templates: &Templates,
    field: &str,
    text: &str,
    data: &gotmpl::Value,
) -> Result<String, NotifyError> {
    templates
        .execute_text_value(text, data)
        .map_err(|e| NotifyError::permanent(format!("rendering {field}: {e}")))
}

/// A secret given inline or as a `*_file` (the inline value wins, as in
/// Alertmanager); `None` when neither is set.
pub(crate) fn secret_or_file(
    inline: &Option<crate::config::receiver::Secret>,
    file: &Option<String>,
) -> Result<Option<String>, NotifyError> {
    match (inline, file) {
        (Some(s), _) => Ok(Some(s.expose().to_owned())),
        (None, Some(f)) => read_secret_file(f).map(Some),
        (None, None) => Ok(None),
    }
}

/// Reads a `*_file` secret as Prometheus does: whole file, surrounding
/// whitespace trimmed. Read at send time so a rotated secret is picked up.
pub(crate) fn read_secret_file(path: &str) -> Result<String, NotifyError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| NotifyError::permanent(format!("reading {path}: {e}")))
}

#[cfg(test)]
mod tests;
