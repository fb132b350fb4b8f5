//! Chat and push integrations beyond Slack and Teams: Discord, Telegram and
//! Webex (all three new in Alertmanager 0.25) and Pushover.

use super::{check_secret_source, tmpl, GlobalConfig, HttpConfig, Secret};

config_block! {
    /// `discord_configs[]`: one embed per notification.
    pub struct DiscordConfig {
        pub send_resolved: bool = true,
        pub http_config: Option<HttpConfig>,
        pub webhook_url: Option<Secret>,
        pub webhook_url_file: Option<String>,
        pub title: String = tmpl("discord.default.title"),
        pub message: String = tmpl("discord.default.message"),
    }
}

config_block! {
    /// `telegram_configs[]`: a bot's `sendMessage`.
    pub struct TelegramConfig {
        pub send_resolved: bool = true,
        pub http_config: Option<HttpConfig>,
        /// Defaults to `global.telegram_api_url`.
        pub api_url: Option<String>,
        pub bot_token: Option<Secret>,
        pub bot_token_file: Option<String>,
        pub chat_id: i64,
        pub message: String = tmpl("telegram.default.message"),
        pub disable_notifications: bool,
        /// `HTML` (default, and the message is rendered with HTML escaping),
        /// `Markdown` or `MarkdownV2`.
        pub parse_mode: String = "HTML".into(),
    }
}

config_block! {
    /// `webex_configs[]`: a message to a room, authorised by `http_config.authorization`.
    pub struct WebexConfig {
        pub send_resolved: bool = true,
        pub http_config: Option<HttpConfig>,
        /// Defaults to `global.webex_api_url`.
        pub api_url: Option<String>,
        pub room_id: String,
        pub message: String = tmpl("webex.default.message"),
    }
}

impl DiscordConfig {
    pub fn validate(&self, _global: &GlobalConfig) -> Result<(), String> {
        check_secret_source(
            "webhook_url",
            self.webhook_url.is_some(),
            self.webhook_url_file.is_some(),
            true,
        )
    }
}

impl TelegramConfig {
    pub fn validate(&self, _global: &GlobalConfig) -> Result<(), String> {
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
    pub fn validate(&self, _global: &GlobalConfig) -> Result<(), String> {
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

config_block! {
    /// `pushover_configs[]`: Pushover's message API.
    pub struct PushoverConfig {
        pub send_resolved: bool = true,
        pub http_config: Option<HttpConfig>,
        pub user_key: Option<Secret>,
        pub user_key_file: Option<String>,
        pub token: Option<Secret>,
        pub token_file: Option<String>,
        pub title: String = tmpl("pushover.default.title"),
        pub message: String = tmpl("pushover.default.message"),
        /// A supplementary URL shown with the message.
        pub url: String = tmpl("pushover.default.url"),
        pub url_title: String,
        pub device: String,
        pub sound: String,
        /// Emergency (2) while firing, normal (0) when resolved, by default.
        pub priority: String = r#"{{ if eq .Status "firing" }}2{{ else }}0{{ end }}"#.into(),
        /// How often an emergency notification repeats until acknowledged.
        #[serde(deserialize_with = "super::de_duration")]
        pub retry: std::time::Duration = std::time::Duration::from_secs(60),
        /// How long an emergency notification keeps repeating.
        #[serde(deserialize_with = "super::de_duration")]
        pub expire: std::time::Duration = std::time::Duration::from_secs(3600),
        #[serde(deserialize_with = "super::de_opt_duration")]
        pub ttl: Option<std::time::Duration>,
        pub html: bool,
    }
}

impl PushoverConfig {
    pub fn validate(&self, _global: &GlobalConfig) -> Result<(), String> {
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

config_block! {
    /// `wechat_configs[]`: WeChat Work's application messages.
    pub struct WechatConfig {
        pub send_resolved: bool,
        pub http_config: Option<HttpConfig>,
        /// Defaults to `global.wechat_api_secret`.
        pub api_secret: Option<Secret>,
        /// Defaults to `global.wechat_api_corp_id`.
        pub corp_id: Option<String>,
        /// Defaults to `global.wechat_api_url`.
        pub api_url: Option<String>,
        pub message: String = tmpl("wechat.default.message"),
        pub to_user: String = tmpl("wechat.default.to_user"),
        pub to_party: String = tmpl("wechat.default.to_party"),
        pub to_tag: String = tmpl("wechat.default.to_tag"),
        pub agent_id: String = tmpl("wechat.default.agent_id"),
        /// `text` (default) or `markdown`.
        pub message_type: String = "text".into(),
    }
}

impl WechatConfig {
    pub fn validate(&self, global: &GlobalConfig) -> Result<(), String> {
        if !matches!(self.message_type.as_str(), "text" | "markdown") {
            return Err(format!(
                "weChat message type {:?} does not match valid options ^(text|markdown)$",
                self.message_type
            ));
        }
        if self.api_secret.is_none() && global.wechat_api_secret.is_none() {
            return Err("no global Wechat ApiSecret set".into());
        }
        if self.corp_id.is_none() && global.wechat_api_corp_id.is_none() {
            return Err("no global Wechat CorpID set".into());
        }
        Ok(())
    }
}
