//! Chat and push integrations beyond Slack and Teams: Discord, Telegram and
//! Webex (all three new in Alertmanager 0.25) and Pushover.

use serde::Deserialize;

use super::{check_secret_source, HttpConfig, Secret};

fn yes() -> bool {
    true
}

fn tmpl(name: &str) -> String {
    format!("{{{{ template \"{name}\" . }}}}")
}

/// `discord_configs[]`: one embed per notification.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    #[serde(default)]
    pub webhook_url: Option<Secret>,
    #[serde(default)]
    pub webhook_url_file: Option<String>,
    #[serde(default = "discord_title")]
    pub title: String,
    #[serde(default = "discord_message")]
    pub message: String,
}

fn discord_title() -> String {
    tmpl("discord.default.title")
}
fn discord_message() -> String {
    tmpl("discord.default.message")
}

/// `telegram_configs[]`: a bot's `sendMessage`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    /// Defaults to `global.telegram_api_url`.
    #[serde(default)]
    pub api_url: Option<String>,
    #[serde(default)]
    pub bot_token: Option<Secret>,
    #[serde(default)]
    pub bot_token_file: Option<String>,
    #[serde(default)]
    pub chat_id: i64,
    #[serde(default = "telegram_message")]
    pub message: String,
    #[serde(default)]
    pub disable_notifications: bool,
    /// `HTML` (default, and the message is rendered with HTML escaping),
    /// `Markdown` or `MarkdownV2`.
    #[serde(default = "telegram_parse_mode")]
    pub parse_mode: String,
}

fn telegram_message() -> String {
    tmpl("telegram.default.message")
}
fn telegram_parse_mode() -> String {
    "HTML".into()
}

/// `webex_configs[]`: a message to a room, authorised by `http_config.authorization`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebexConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    /// Defaults to `global.webex_api_url`.
    #[serde(default)]
    pub api_url: Option<String>,
    #[serde(default)]
    pub room_id: String,
    #[serde(default = "webex_message")]
    pub message: String,
}

fn webex_message() -> String {
    tmpl("webex.default.message")
}

impl DiscordConfig {
    pub fn validate(&self) -> Result<(), String> {
        check_secret_source(
            "webhook_url",
            self.webhook_url.is_some(),
            self.webhook_url_file.is_some(),
            true,
        )
    }
}

impl TelegramConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.bot_token.is_none() && self.bot_token_file.is_none() {
            return Err("missing bot_token or bot_token_file on telegram_config".into());
        }
        check_secret_source(
            "bot_token",
            self.bot_token.is_some(),
            self.bot_token_file.is_some(),
            false,
        )?;
        if self.chat_id == 0 {
            return Err("missing chat_id on telegram_config".into());
        }
        if !matches!(
            self.parse_mode.as_str(),
            "" | "HTML" | "Markdown" | "MarkdownV2"
        ) {
            return Err(format!(
                "unknown parse_mode {:?} on telegram_config",
                self.parse_mode
            ));
        }
        Ok(())
    }
}

impl WebexConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.room_id.is_empty() {
            return Err("missing room_id on webex_config".into());
        }
        if self
            .http_config
            .as_ref()
            .and_then(|h| h.authorization.as_ref())
            .is_none()
        {
            return Err("missing webex_configs.http_config.authorization".into());
        }
        Ok(())
    }
}

/// `pushover_configs[]`: Pushover's message API.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PushoverConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    #[serde(default)]
    pub user_key: Option<Secret>,
    #[serde(default)]
    pub user_key_file: Option<String>,
    #[serde(default)]
    pub token: Option<Secret>,
    #[serde(default)]
    pub token_file: Option<String>,
    #[serde(default = "pushover_title")]
    pub title: String,
    #[serde(default = "pushover_message")]
    pub message: String,
    /// A supplementary URL shown with the message.
    #[serde(default = "pushover_url")]
    pub url: String,
    #[serde(default)]
    pub url_title: String,
    #[serde(default)]
    pub device: String,
    #[serde(default)]
    pub sound: String,
    /// Emergency (2) while firing, normal (0) when resolved, by default.
    #[serde(default = "pushover_priority")]
    pub priority: String,
    /// How often an emergency notification repeats until acknowledged.
    #[serde(default = "pushover_retry", deserialize_with = "super::de_duration")]
    pub retry: std::time::Duration,
    /// How long an emergency notification keeps repeating.
    #[serde(default = "pushover_expire", deserialize_with = "super::de_duration")]
    pub expire: std::time::Duration,
    #[serde(default, deserialize_with = "super::de_opt_duration")]
    pub ttl: Option<std::time::Duration>,
    #[serde(default)]
    pub html: bool,
}

fn pushover_title() -> String {
    tmpl("pushover.default.title")
}
fn pushover_message() -> String {
    tmpl("pushover.default.message")
}
fn pushover_url() -> String {
    tmpl("pushover.default.url")
}
fn pushover_priority() -> String {
    r#"{{ if eq .Status "firing" }}2{{ else }}0{{ end }}"#.into()
}
fn pushover_retry() -> std::time::Duration {
    std::time::Duration::from_secs(60)
}
fn pushover_expire() -> std::time::Duration {
    std::time::Duration::from_secs(3600)
}

impl PushoverConfig {
    pub fn validate(&self) -> Result<(), String> {
        check_secret_source(
            "user_key",
            self.user_key.is_some(),
            self.user_key_file.is_some(),
            true,
        )?;
        check_secret_source(
            "token",
            self.token.is_some(),
            self.token_file.is_some(),
            true,
        )
    }
}

/// `wechat_configs[]`: WeChat Work's application messages.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WechatConfig {
    #[serde(default)]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    /// Defaults to `global.wechat_api_secret`.
    #[serde(default)]
    pub api_secret: Option<Secret>,
    /// Defaults to `global.wechat_api_corp_id`.
    #[serde(default)]
    pub corp_id: Option<String>,
    /// Defaults to `global.wechat_api_url`.
    #[serde(default)]
    pub api_url: Option<String>,
    #[serde(default = "wechat_message")]
    pub message: String,
    #[serde(default = "wechat_to_user")]
    pub to_user: String,
    #[serde(default = "wechat_to_party")]
    pub to_party: String,
    #[serde(default = "wechat_to_tag")]
    pub to_tag: String,
    #[serde(default = "wechat_agent_id")]
    pub agent_id: String,
    /// `text` (default) or `markdown`.
    #[serde(default = "wechat_message_type")]
    pub message_type: String,
}

fn wechat_message() -> String {
    tmpl("wechat.default.message")
}
fn wechat_to_user() -> String {
    tmpl("wechat.default.to_user")
}
fn wechat_to_party() -> String {
    tmpl("wechat.default.to_party")
}
fn wechat_to_tag() -> String {
    tmpl("wechat.default.to_tag")
}
fn wechat_agent_id() -> String {
    tmpl("wechat.default.agent_id")
}
fn wechat_message_type() -> String {
    "text".into()
}

impl WechatConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !matches!(self.message_type.as_str(), "text" | "markdown") {
            return Err(format!(
                "weChat message type {:?} does not match valid options ^(text|markdown)$",
                self.message_type
            ));
        }
        Ok(())
    }
}
