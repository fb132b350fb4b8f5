//! The integration blocks of a receiver that Sightline sends to: webhook,
//! email, Slack, PagerDuty and Microsoft Teams. Defaults are Alertmanager's:
//! every text field that is left out renders one of the default templates.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::{
    canonical_header, check_secret_source, check_url, de_opt_duration, split_host_port, tmpl,
    GlobalConfig, HttpConfig, Secret,
};

config_block! {
    /// `webhook_configs[]`.
    pub struct WebhookConfig {
        pub send_resolved: bool = true,
        pub http_config: Option<HttpConfig>,
        pub url: Option<Secret>,
        pub url_file: Option<String>,
        /// At most this many alerts per message; 0 sends them all.
        pub max_alerts: u64,
        /// Time limit of one request; none when absent or 0.
        #[serde(deserialize_with = "de_opt_duration")]
        pub timeout: Option<Duration>,
    }
}

/// `email_configs[]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    #[serde(default)]
    pub send_resolved: bool,
    pub to: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub hello: Option<String>,
    #[serde(default)]
    pub smarthost: Option<String>,
    #[serde(default)]
    pub auth_username: Option<String>,
    #[serde(default)]
    pub auth_password: Option<Secret>,
    #[serde(default)]
    pub auth_password_file: Option<String>,
    #[serde(default)]
    pub auth_secret: Option<Secret>,
    #[serde(default)]
    pub auth_identity: Option<String>,
    /// Header name to template; names are case-insensitive and stored
    /// canonicalised (`content-type` becomes `Content-Type`) by `validate`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default = "default_email_html")]
    pub html: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub require_tls: Option<bool>,
    #[serde(default)]
    pub tls_config: super::TlsConfig,
}

fn default_email_html() -> String {
    tmpl("email.default.html")
}

config_block! {
    /// `slack_configs[]`: an incoming-webhook message with one attachment.
    pub struct SlackConfig {
        pub send_resolved: bool,
        pub http_config: Option<HttpConfig>,
        pub api_url: Option<Secret>,
        pub api_url_file: Option<String>,
        pub channel: String,
        pub username: String = tmpl("slack.default.username"),
        pub color: String = r#"{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}"#.into(),
        pub title: String = tmpl("slack.default.title"),
        pub title_link: String = tmpl("slack.default.titlelink"),
        pub pretext: String = tmpl("slack.default.pretext"),
        pub text: String = tmpl("slack.default.text"),
        pub fields: Vec<SlackField>,
        pub short_fields: bool,
        pub footer: String = tmpl("slack.default.footer"),
        pub fallback: String = tmpl("slack.default.fallback"),
        pub callback_id: String = tmpl("slack.default.callbackid"),
        pub icon_emoji: String = tmpl("slack.default.iconemoji"),
        pub icon_url: String = tmpl("slack.default.iconurl"),
        pub image_url: String,
        pub thumb_url: String,
        pub link_names: bool,
        pub mrkdwn_in: Vec<String>,
        pub actions: Vec<SlackAction>,
    }
}

/// One `fields[]` entry of a Slack attachment.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlackField {
    pub title: String,
    pub value: String,
    #[serde(default)]
    pub short: Option<bool>,
}

/// One `actions[]` entry (a button) of a Slack attachment.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlackAction {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub style: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub confirm: Option<SlackConfirm>,
}

/// A button's confirmation dialog.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlackConfirm {
    pub text: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub ok_text: String,
    #[serde(default)]
    pub dismiss_text: String,
}

config_block! {
    /// `pagerduty_configs[]`: Events API v2 with `routing_key`, v1 with `service_key`.
    pub struct PagerdutyConfig {
        pub send_resolved: bool = true,
        pub http_config: Option<HttpConfig>,
        pub service_key: Option<Secret>,
        pub service_key_file: Option<String>,
        pub routing_key: Option<Secret>,
        pub routing_key_file: Option<String>,
        /// Defaults to `global.pagerduty_url`.
        pub url: Option<String>,
        pub client: String = tmpl("pagerduty.default.client"),
        pub client_url: String = tmpl("pagerduty.default.clientURL"),
        pub description: String = tmpl("pagerduty.default.description"),
        /// Alertmanager adds `firing`, `resolved`, `num_firing` and `num_resolved`
        /// unless given (see [`PagerdutyConfig::details_with_defaults`]).
        pub details: BTreeMap<String, String>,
        pub images: Vec<PagerdutyImage>,
        pub links: Vec<PagerdutyLink>,
        /// Defaults to `client`.
        pub source: Option<String>,
        pub severity: String,
        pub class: String,
        pub component: String,
        pub group: String,
    }
}

impl PagerdutyConfig {
    /// `details` with Alertmanager's four default entries filled in where absent.
    pub fn details_with_defaults(&self) -> BTreeMap<String, String> {
        let mut d = self.details.clone();
        let defaults = [
            (
                "firing",
                r#"{{ template "pagerduty.default.instances" .Alerts.Firing }}"#,
            ),
            (
                "resolved",
                r#"{{ template "pagerduty.default.instances" .Alerts.Resolved }}"#,
            ),
            ("num_firing", "{{ .Alerts.Firing | len }}"),
            ("num_resolved", "{{ .Alerts.Resolved | len }}"),
        ];
        for (k, v) in defaults {
            d.entry(k.to_owned()).or_insert_with(|| v.to_owned());
        }
        d
    }
}

config_block! {
    /// One `images[]` entry of a PagerDuty event.
    pub struct PagerdutyImage {
        pub src: String,
        pub alt: String,
        pub href: String,
    }
}

config_block! {
    /// One `links[]` entry of a PagerDuty event.
    pub struct PagerdutyLink {
        pub href: String,
        pub text: String,
    }
}

config_block! {
    /// `msteams_configs[]`: an Office 365 connector MessageCard (Alertmanager 0.26).
    pub struct MsTeamsConfig {
        pub send_resolved: bool = true,
        pub http_config: Option<HttpConfig>,
        pub webhook_url: Option<Secret>,
        pub webhook_url_file: Option<String>,
        pub title: String = tmpl("msteams.default.title"),
        pub summary: String = tmpl("msteams.default.summary"),
        pub text: String = tmpl("msteams.default.text"),
    }
}

impl WebhookConfig {
    pub fn validate(&self, _global: &GlobalConfig) -> Result<(), String> {
        check_secret_source("url", self.url.is_some(), self.url_file.is_some(), true)?;
        if let Some(u) = &self.url {
            check_url(u.expose())?;
        }
        Ok(())
    }
}

impl EmailConfig {
    /// Header names are compared as Go canonicalises them, so `to` and
    /// `To` count as one header given twice.
    pub fn validate(&self, global: &GlobalConfig) -> Result<(), String> {
        if self.to.is_empty() {
            return Err("missing to address in email config".into());
        }
        match self.smarthost.as_ref().or(global.smtp_smarthost.as_ref()) {
            None => return Err("no global SMTP smarthost set".into()),
            Some(h) => {
                split_host_port(h)?;
            }
        }
        if self.from.is_none() && global.smtp_from.is_none() {
            return Err("no global SMTP from set".into());
        }
        check_secret_source(
            "auth_password",
            self.auth_password.is_some(),
            self.auth_password_file.is_some(),
            false,
        )?;
        let mut seen = std::collections::BTreeSet::new();
        for h in self.headers.keys() {
            let canon = canonical_header(h);
            if !seen.insert(canon.clone()) {
                return Err(format!("duplicate header {canon:?} in email config"));
            }
        }
        Ok(())
    }
}

impl SlackConfig {
    pub fn validate(&self, global: &GlobalConfig) -> Result<(), String> {
        check_secret_source(
            "api_url",
            self.api_url.is_some(),
            self.api_url_file.is_some(),
            false,
        )?;
        if self.api_url.is_none()
            && self.api_url_file.is_none()
            && global.slack_api_url.is_none()
            && global.slack_api_url_file.is_none()
        {
            return Err("no global Slack API URL set either inline or in a file".into());
        }
        for a in &self.actions {
            if a.url.is_empty() && a.name.is_empty() {
                return Err("missing name or url in Slack action configuration".into());
            }
        }
        Ok(())
    }
}

impl PagerdutyConfig {
    pub fn validate(&self, _global: &GlobalConfig) -> Result<(), String> {
        if self.routing_key.is_none()
            && self.service_key.is_none()
            && self.routing_key_file.is_none()
            && self.service_key_file.is_none()
        {
            return Err("missing service or routing key in PagerDuty config".into());
        }
        check_secret_source(
            "routing_key",
            self.routing_key.is_some(),
            self.routing_key_file.is_some(),
            false,
        )?;
        check_secret_source(
            "service_key",
            self.service_key.is_some(),
            self.service_key_file.is_some(),
            false,
        )?;
        if let Some(u) = &self.url {
            check_url(u)?;
        }
        Ok(())
    }
}

impl MsTeamsConfig {
    pub fn validate(&self, _global: &GlobalConfig) -> Result<(), String> {
        check_secret_source(
            "webhook_url",
            self.webhook_url.is_some(),
            self.webhook_url_file.is_some(),
            true,
        )?;
        if let Some(u) = &self.webhook_url {
            check_url(u.expose())?;
        }
        Ok(())
    }
}
