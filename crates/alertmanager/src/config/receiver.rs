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
