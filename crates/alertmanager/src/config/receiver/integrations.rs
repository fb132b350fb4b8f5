//! The integration blocks of a receiver that Sightline sends to: webhook,
//! email, Slack, PagerDuty and Microsoft Teams. Defaults are Alertmanager's:
//! every text field that is left out renders one of the default templates.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::{de_opt_duration, HttpConfig, Secret};

fn yes() -> bool {
    true
}

fn tmpl(name: &str) -> String {
    format!("{{{{ template \"{name}\" . }}}}")
}

/// `webhook_configs[]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    #[serde(default)]
    pub url: Option<Secret>,
    #[serde(default)]
    pub url_file: Option<String>,
    /// At most this many alerts per message; 0 sends them all.
    #[serde(default)]
    pub max_alerts: u64,
    /// Time limit of one request; none when absent or 0.
    #[serde(default, deserialize_with = "de_opt_duration")]
    pub timeout: Option<Duration>,
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

/// `slack_configs[]`: an incoming-webhook message with one attachment.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    #[serde(default)]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    #[serde(default)]
    pub api_url: Option<Secret>,
    #[serde(default)]
    pub api_url_file: Option<String>,
    #[serde(default)]
    pub channel: String,
    #[serde(default = "slack_username")]
    pub username: String,
    #[serde(default = "slack_color")]
    pub color: String,
    #[serde(default = "slack_title")]
    pub title: String,
    #[serde(default = "slack_titlelink")]
    pub title_link: String,
    #[serde(default = "slack_pretext")]
    pub pretext: String,
    #[serde(default = "slack_text")]
    pub text: String,
    #[serde(default)]
    pub fields: Vec<SlackField>,
    #[serde(default)]
    pub short_fields: bool,
    #[serde(default = "slack_footer")]
    pub footer: String,
    #[serde(default = "slack_fallback")]
    pub fallback: String,
    #[serde(default = "slack_callbackid")]
    pub callback_id: String,
    #[serde(default = "slack_iconemoji")]
    pub icon_emoji: String,
    #[serde(default = "slack_iconurl")]
    pub icon_url: String,
    #[serde(default)]
    pub image_url: String,
    #[serde(default)]
    pub thumb_url: String,
    #[serde(default)]
    pub link_names: bool,
    #[serde(default)]
    pub mrkdwn_in: Vec<String>,
    #[serde(default)]
    pub actions: Vec<SlackAction>,
}

fn slack_username() -> String {
    tmpl("slack.default.username")
}
fn slack_color() -> String {
    r#"{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}"#.into()
}
fn slack_title() -> String {
    tmpl("slack.default.title")
}
fn slack_titlelink() -> String {
    tmpl("slack.default.titlelink")
}
fn slack_pretext() -> String {
    tmpl("slack.default.pretext")
}
fn slack_text() -> String {
    tmpl("slack.default.text")
}
fn slack_footer() -> String {
    tmpl("slack.default.footer")
}
fn slack_fallback() -> String {
    tmpl("slack.default.fallback")
}
fn slack_callbackid() -> String {
    tmpl("slack.default.callbackid")
}
fn slack_iconemoji() -> String {
    tmpl("slack.default.iconemoji")
}
fn slack_iconurl() -> String {
    tmpl("slack.default.iconurl")
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

/// `pagerduty_configs[]`: Events API v2 with `routing_key`, v1 with `service_key`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    #[serde(default)]
    pub service_key: Option<Secret>,
    #[serde(default)]
    pub service_key_file: Option<String>,
    #[serde(default)]
    pub routing_key: Option<Secret>,
    #[serde(default)]
    pub routing_key_file: Option<String>,
    /// Defaults to `global.pagerduty_url`.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default = "pd_client")]
    pub client: String,
    #[serde(default = "pd_client_url")]
    pub client_url: String,
    #[serde(default = "pd_description")]
    pub description: String,
    /// Alertmanager adds `firing`, `resolved`, `num_firing` and `num_resolved`
    /// unless given (see [`PagerdutyConfig::details_with_defaults`]).
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    #[serde(default)]
    pub images: Vec<PagerdutyImage>,
    #[serde(default)]
    pub links: Vec<PagerdutyLink>,
    /// Defaults to `client`.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub class: String,
    #[serde(default)]
    pub component: String,
    #[serde(default)]
    pub group: String,
}

fn pd_client() -> String {
    tmpl("pagerduty.default.client")
}
fn pd_client_url() -> String {
    tmpl("pagerduty.default.clientURL")
}
fn pd_description() -> String {
    tmpl("pagerduty.default.description")
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

/// One `images[]` entry of a PagerDuty event.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyImage {
    #[serde(default)]
    pub src: String,
    #[serde(default)]
    pub alt: String,
    #[serde(default)]
    pub href: String,
}

/// One `links[]` entry of a PagerDuty event.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyLink {
    #[serde(default)]
    pub href: String,
    #[serde(default)]
    pub text: String,
}

/// `msteams_configs[]`: an Office 365 connector MessageCard (Alertmanager 0.26).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MsTeamsConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    #[serde(default)]
    pub webhook_url: Option<Secret>,
    #[serde(default)]
    pub webhook_url_file: Option<String>,
    #[serde(default = "teams_title")]
    pub title: String,
    #[serde(default = "teams_summary")]
    pub summary: String,
    #[serde(default = "teams_text")]
    pub text: String,
}

fn teams_title() -> String {
    tmpl("msteams.default.title")
}
fn teams_summary() -> String {
    tmpl("msteams.default.summary")
}
fn teams_text() -> String {
    tmpl("msteams.default.text")
}
