//! `opsgenie_configs[]` (OpsGenie's Alert API v2) and `victorops_configs[]`
//! (VictorOps' REST endpoint): the two incident-management services.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{check_secret_source, tmpl, GlobalConfig, HttpConfig, Secret};

config_block! {
    /// One `opsgenie_configs` entry.
    pub struct OpsGenieConfig {
        pub send_resolved: bool = true,
        pub http_config: Option<HttpConfig>,
        /// Defaults to `global.opsgenie_api_key(_file)`.
        pub api_key: Option<Secret>,
        pub api_key_file: Option<String>,
        /// Defaults to `global.opsgenie_api_url`.
        pub api_url: Option<String>,
        pub message: String = tmpl("opsgenie.default.message"),
        pub description: String = tmpl("opsgenie.default.description"),
        pub source: String = tmpl("opsgenie.default.source"),
        /// Added to the alert's common labels in `details`.
        pub details: BTreeMap<String, String>,
        pub entity: String,
        pub responders: Vec<OpsGenieResponder>,
        /// Comma-separated.
        pub actions: String,
        /// Comma-separated.
        pub tags: String,
        pub note: String,
        pub priority: String,
        /// Also update the message and description of an alert that exists.
        pub update_alerts: bool,
    }
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
    pub fn validate(&self, global: &GlobalConfig) -> Result<(), String> {
        check_secret_source(
            "api_key",
            self.api_key.is_some(),
            self.api_key_file.is_some(),
            false,
        )?;
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
        if self.api_key.is_none()
            && self.api_key_file.is_none()
            && global.opsgenie_api_key.is_none()
            && global.opsgenie_api_key_file.is_none()
        {
            return Err("no global OpsGenie API Key set either inline or in a file".into());
        }
        Ok(())
    }
}

/// VictorOps' `send_resolved` default (its `routing_key` is required, so the
/// struct is written out rather than a `config_block!`).
fn yes() -> bool {
    true
}

/// `victorops_configs[]`: VictorOps' (Splunk On-Call) REST endpoint.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VictorOpsConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    /// Defaults to `global.victorops_api_key(_file)`.
    #[serde(default)]
    pub api_key: Option<Secret>,
    #[serde(default)]
    pub api_key_file: Option<String>,
    /// Defaults to `global.victorops_api_url`.
    #[serde(default)]
    pub api_url: Option<String>,
    pub routing_key: String,
    #[serde(default = "vo_message_type")]
    pub message_type: String,
    #[serde(default = "vo_state_message")]
    pub state_message: String,
    #[serde(default = "vo_entity_display_name")]
    pub entity_display_name: String,
    #[serde(default = "vo_monitoring_tool")]
    pub monitoring_tool: String,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
}

fn vo_message_type() -> String {
    "CRITICAL".into()
}
fn vo_state_message() -> String {
    tmpl("victorops.default.state_message")
}
fn vo_entity_display_name() -> String {
    tmpl("victorops.default.entity_display_name")
}
fn vo_monitoring_tool() -> String {
    tmpl("victorops.default.monitoring_tool")
}

impl VictorOpsConfig {
    pub fn validate(&self, global: &GlobalConfig) -> Result<(), String> {
        if self.routing_key.is_empty() {
            return Err("missing Routing key in VictorOps config".into());
        }
        check_secret_source(
            "api_key",
            self.api_key.is_some(),
            self.api_key_file.is_some(),
            false,
        )?;
        const RESERVED: [&str; 7] = [
            "routing_key",
            "message_type",
            "state_message",
            "entity_display_name",
            "monitoring_tool",
            "entity_id",
            "entity_state",
        ];
        for f in RESERVED {
            if self.custom_fields.contains_key(f) {
                return Err(format!(
                    "victorOps config contains custom field {f} which cannot be used as it conflicts with the fixed/static fields"
                ));
            }
        }
        if self.api_key.is_none()
            && self.api_key_file.is_none()
            && global.victorops_api_key.is_none()
            && global.victorops_api_key_file.is_none()
        {
            return Err("no global VictorOps API Key set".into());
        }
        Ok(())
    }
}

config_block! {
    /// `sns_configs[]`: Amazon SNS `Publish`, signed with AWS Signature V4.
    pub struct SnsConfig {
        pub send_resolved: bool = true,
        pub http_config: Option<HttpConfig>,
        /// Defaults to `https://sns.<region>.amazonaws.com/`.
        pub api_url: Option<String>,
        pub sigv4: SigV4Config,
        pub topic_arn: String,
        pub phone_number: String,
        pub target_arn: String,
        pub subject: String = tmpl("sns.default.subject"),
        pub message: String = tmpl("sns.default.message"),
        pub attributes: BTreeMap<String, String>,
    }
}

config_block! {
    /// `sigv4`: the AWS region and credentials. Without keys, the
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` environment is used.
    pub struct SigV4Config {
        /// Defaults to `AWS_REGION`.
        pub region: Option<String>,
        pub access_key: Option<String>,
        pub secret_key: Option<Secret>,
        /// Parsed; shared-credentials profiles are not read (see the docs).
        pub profile: Option<String>,
        /// Parsed; assuming a role is not supported (see the docs).
        pub role_arn: Option<String>,
    }
}

impl SnsConfig {
    pub fn validate(&self, _global: &GlobalConfig) -> Result<(), String> {
        if self.topic_arn.is_empty() && self.target_arn.is_empty() && self.phone_number.is_empty() {
            return Err(
                "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"
                    .into(),
            );
        }
        if self.sigv4.access_key.is_some() != self.sigv4.secret_key.is_some() {
            return Err(
                "must provide an AWS SigV4 Access key and Secret Key if either is provided".into(),
            );
        }
        Ok(())
    }
}
