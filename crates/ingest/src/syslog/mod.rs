//! A syslog receiver, configured as Promtail's `syslog` scrape config:
//! RFC 5424 and RFC 3164 messages ([`parse`]) over TCP (octet-counted or
//! newline-framed, told apart per message as RFC 6587 allows) or UDP (one
//! message per datagram), appended through a [`LogAppender`] in batches
//! ([`listener`]).
//!
//! Labels as Promtail makes them: the config's `labels`, and
//! `__syslog_message_{severity,facility,hostname,app_name,proc_id,msg_id}`,
//! `__syslog_connection_ip_address` and, with `label_structured_data`,
//! `__syslog_message_sd_<id>_<name>`; then `relabel_configs`; then every
//! label starting with `__` is dropped. So, as with Promtail, a message
//! keeps its host or app as a label only when a relabel rule copies it
//! (docs/logs-ingest.md shows the usual rules).
//!
//! Start with [`run_syslog`], or [`SyslogListener::bind`] then
//! [`SyslogListener::run`] to learn the bound address first.

pub mod listener;
pub mod parse;

#[cfg(test)]
mod tests;

use crate::relabel::RelabelConfig;
use serde::Deserialize;
use sightline_core::duration::Duration;
use std::collections::BTreeMap;

pub use listener::{run_syslog, SyslogListener};

/// Transport of the listener.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP (Promtail's default).
    #[default]
    Tcp,
    /// UDP.
    Udp,
}

/// The message format Promtail is told to expect. We read both formats
/// whatever this says (RFC 5424 has a version number after `<PRI>`), so
/// the key is accepted for compatibility only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogFormat {
    #[default]
    Rfc5424,
    Rfc3164,
}

/// Promtail's `syslog` block, with its `relabel_configs` beside it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// `host:port` to listen on.
    pub listen_address: String,
    /// `tcp` (default) or `udp`.
    #[serde(default)]
    pub listen_protocol: Protocol,
    /// A TCP connection idle this long is closed (Promtail: 120s).
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: Duration,
    /// Make RFC 5424 structured data `__syslog_message_sd_*` labels.
    #[serde(default)]
    pub label_structured_data: bool,
    /// Labels added to every line.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Keep the message's own time (else the time of receipt).
    #[serde(default)]
    pub use_incoming_timestamp: bool,
    /// Keep the whole message as the line (else only its MSG part).
    #[serde(default)]
    pub use_rfc5424_message: bool,
    /// The longest message read (Promtail: 8192 bytes); longer ones are
    /// cut to this length.
    #[serde(default = "default_max_message_length")]
    pub max_message_length: usize,
    /// Accepted, not needed: both formats are read.
    #[serde(default)]
    pub syslog_format: SyslogFormat,
    /// Rules run over the labels above before `__` labels are dropped.
    #[serde(default)]
    pub relabel_configs: Vec<RelabelConfig>,
}

fn default_idle_timeout() -> Duration {
    Duration::from_secs(120)
}

fn default_max_message_length() -> usize {
    8192
}

impl SyslogConfig {
    /// A TCP listener on `addr` with every other field at its default.
    pub fn new(addr: &str) -> Self {
        SyslogConfig {
            listen_address: addr.to_owned(),
            listen_protocol: Protocol::Tcp,
            idle_timeout: default_idle_timeout(),
            label_structured_data: false,
            labels: BTreeMap::new(),
            use_incoming_timestamp: false,
            use_rfc5424_message: false,
            max_message_length: default_max_message_length(),
            syslog_format: SyslogFormat::Rfc5424,
            relabel_configs: Vec::new(),
        }
    }
}
