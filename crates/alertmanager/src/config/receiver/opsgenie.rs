//! `opsgenie_configs[]`: OpsGenie's Alert API v2.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{HttpConfig, Secret};

fn yes() -> bool {
    true
}

fn tmpl(name: &str) -> String {
    format!("{{{{ template \"{name}\" . }}}}")
}

/// One `opsgenie_configs` entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OpsGenieConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    /// Defaults to `global.opsgenie_api_key(_file)`.
    #[serde(default)]
    pub api_key: Option<Secret>,
    #[serde(default)]
    pub api_key_file: Option<String>,
    /// Defaults to `global.opsgenie_api_url`.
    #[serde(default)]
    pub api_url: Option<String>,
    #[serde(default = "og_message")]
    pub message: String,
    #[serde(default = "og_description")]
    pub description: String,
    #[serde(default = "og_source")]
    pub source: String,
    /// Added to the alert's common labels in `details`.
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    #[serde(default)]
    pub entity: String,
    #[serde(default)]
    pub responders: Vec<OpsGenieResponder>,
    /// Comma-separated.
    #[serde(default)]
    pub actions: String,
    /// Comma-separated.
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub priority: String,
    /// Also update the message and description of an alert that exists.
    #[serde(default)]
    pub update_alerts: bool,
}

fn og_message() -> String {
    tmpl("opsgenie.default.message")
}
fn og_description() -> String {
    tmpl("opsgenie.default.description")
}
fn og_source() -> String {
    tmpl("opsgenie.default.source")
}

/// Who is notified: one of `id`, `name` or `username`, and a `type`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OpsGenieResponder {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub username: String,
    /// `team`, `teams` (a comma-separated list of team names), `user`,
    /// `escalation` or `schedule`; may be a template.
    #[serde(rename = "type")]
    pub kind: String,
}

impl OpsGenieConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.api_key.is_some() && self.api_key_file.is_some() {
            return Err("at most one of api_key & api_key_file must be configured".into());
        }
        for r in &self.responders {
            if r.id.is_empty() && r.username.is_empty() && r.name.is_empty() {
                return Err(format!(
                    "opsGenieConfig responder {r:?} has to have at least one of id, username or name specified"
                ));
            }
            if !r.kind.contains("{{")
                && !matches!(
                    r.kind.to_ascii_lowercase().as_str(),
                    "team" | "teams" | "user" | "escalation" | "schedule"
                )
            {
                return Err(format!(
                    "opsGenieConfig responder {r:?} type does not match valid options ^(team|teams|user|escalation|schedule)$"
                ));
            }
        }
        Ok(())
    }
}
