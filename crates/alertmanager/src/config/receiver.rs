//! Receivers and the `global:` defaults they inherit (SMTP, Slack, PagerDuty,
//! HTTP client settings, resolve_timeout).

use serde::Deserialize;

/// The `global:` section.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GlobalConfig {}

/// One entry of `receivers:`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Receiver {
    pub name: String,
}

impl GlobalConfig {
    /// How long an alert posted without `endsAt` stays firing (`resolve_timeout`, default 5m).
    pub fn resolve_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(300)
    }
}
