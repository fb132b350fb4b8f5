//! Receivers and the `global:` defaults they inherit (SMTP, Slack, PagerDuty,
//! HTTP client settings, resolve_timeout), read as Alertmanager 0.25 reads them.
//!
//! Sightline sends to webhook, email, Slack, PagerDuty, Microsoft Teams,
//! OpsGenie, VictorOps, Pushover, WeChat, Amazon SNS, Discord, Telegram and
//! Webex integrations: every kind Alertmanager 0.25 knows.

/// Declares a config block whose fields may all be left out: the struct
/// (serde, unknown fields denied) and its `Default`, built from the
/// `= value` written after a field (the type's default where none is), which
/// serde also takes for absent fields. Each default is written once, beside
/// its field, instead of in a named function and again in `Default`.
macro_rules! config_block {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident: $ty:ty $(= $default:expr)?,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, serde::Deserialize, PartialEq)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    $($field: config_block!(@value $($default)?),)*
                }
            }
        }
    };
    (@value $default:expr) => { $default };
    (@value) => { Default::default() };
}

/// The text of a field that renders one of Alertmanager's default templates.
fn tmpl(name: &str) -> String {
    format!("{{{{ template \"{name}\" . }}}}")
}

mod chat;
mod http;
mod integrations;
mod opsgenie;

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use sightline_core::duration;

pub use chat::{DiscordConfig, PushoverConfig, TelegramConfig, WebexConfig, WechatConfig};
pub use http::{validate_http_config, Authorization, BasicAuth, HttpConfig, TlsConfig};
pub use integrations::{
    EmailConfig, MsTeamsConfig, PagerdutyConfig, PagerdutyImage, PagerdutyLink, SlackAction,
    SlackConfig, SlackConfirm, SlackField, WebhookConfig,
};
pub use opsgenie::{OpsGenieConfig, OpsGenieResponder, SigV4Config, SnsConfig, VictorOpsConfig};

/// A secret string (password, key, URL with a token): shown as `<secret>`.
pub use sightline_config::Secret;

/// Reads a duration as Prometheus (`5m`, `1d`, `1w`, `1y`) or Go (`1.5s`,
/// `100ms`, `1h30m`) write them: most receiver fields are Prometheus
/// durations, Pushover's `retry` and `expire` are Go's.
pub(crate) fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    duration::parse_either(&s, duration::Syntax::Prometheus).map_err(serde::de::Error::custom)
}

pub(crate) fn de_opt_duration<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    s.map(|s| {
        duration::parse_either(&s, duration::Syntax::Prometheus).map_err(serde::de::Error::custom)
    })
    .transpose()
}

fn de_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    reqwest::Url::parse(&s)
        .map_err(|e| serde::de::Error::custom(format!("invalid url {s:?}: {e}")))?;
    Ok(s)
}

config_block! {
    /// The `global:` section.
    pub struct GlobalConfig {
        /// How long an alert posted without `endsAt` stays firing.
        #[serde(deserialize_with = "de_duration")]
        pub resolve_timeout: Duration = Duration::from_secs(300),
        /// The HTTP client settings of receivers that have no `http_config`.
        pub http_config: HttpConfig,
        pub smtp_from: Option<String>,
        pub smtp_hello: String = "localhost".into(),
        /// `host:port` of the SMTP server.
        pub smtp_smarthost: Option<String>,
        pub smtp_auth_username: Option<String>,
        pub smtp_auth_password: Option<Secret>,
        pub smtp_auth_password_file: Option<String>,
        pub smtp_auth_secret: Option<Secret>,
        pub smtp_auth_identity: Option<String>,
        pub smtp_require_tls: bool = true,
        pub slack_api_url: Option<Secret>,
        pub slack_api_url_file: Option<String>,
        #[serde(deserialize_with = "de_url")]
        pub pagerduty_url: String = "https://events.pagerduty.com/v2/enqueue".into(),
        #[serde(deserialize_with = "de_url")]
        pub opsgenie_api_url: String = "https://api.opsgenie.com/".into(),
        pub opsgenie_api_key: Option<Secret>,
        pub opsgenie_api_key_file: Option<String>,
        #[serde(deserialize_with = "de_url")]
        pub wechat_api_url: String = "https://qyapi.weixin.qq.com/cgi-bin/".into(),
        pub wechat_api_secret: Option<Secret>,
        pub wechat_api_corp_id: Option<String>,
        #[serde(deserialize_with = "de_url")]
        pub victorops_api_url: String = "https://alert.victorops.com/integrations/generic/20131114/alert/".into(),
        pub victorops_api_key: Option<Secret>,
        pub victorops_api_key_file: Option<String>,
        #[serde(deserialize_with = "de_url")]
        pub telegram_api_url: String = "https://api.telegram.org".into(),
        #[serde(deserialize_with = "de_url")]
        pub webex_api_url: String = "https://webexapis.com/v1/messages".into(),
    }
}

impl GlobalConfig {
    /// How long an alert posted without `endsAt` stays firing (`resolve_timeout`, default 5m).
    pub fn resolve_timeout(&self) -> std::time::Duration {
        self.resolve_timeout
    }

    /// Checks the section as Alertmanager does when it loads the file.
    pub fn validate(&self) -> Result<(), String> {
        validate_http_config(&self.http_config).map_err(|e| format!("global.http_config: {e}"))?;
        for (name, inline, file) in [
            (
                "smtp_auth_password",
                self.smtp_auth_password.is_some(),
                self.smtp_auth_password_file.is_some(),
            ),
            (
                "slack_api_url",
                self.slack_api_url.is_some(),
                self.slack_api_url_file.is_some(),
            ),
            (
                "opsgenie_api_key",
                self.opsgenie_api_key.is_some(),
                self.opsgenie_api_key_file.is_some(),
            ),
            (
                "victorops_api_key",
                self.victorops_api_key.is_some(),
                self.victorops_api_key_file.is_some(),
            ),
        ] {
            check_secret_source(name, inline, file, false)?;
        }
        if let Some(h) = &self.smtp_smarthost {
            split_host_port(h).map_err(|e| format!("global.smtp_smarthost: {e}"))?;
        }
        Ok(())
    }
}

/// Splits `host:port` (or `[v6]:port`) as Go's `net.SplitHostPort` does.
pub fn split_host_port(hp: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = hp.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("address {hp}: missing ']' in address"))?;
        let p = after
            .strip_prefix(':')
            .ok_or_else(|| format!("address {hp}: missing port in address"))?;
        (h, p)
    } else {
        let (h, p) = hp
            .rsplit_once(':')
            .ok_or_else(|| format!("address {hp}: missing port in address"))?;
        if h.contains(':') {
            return Err(format!("address {hp}: too many colons in address"));
        }
        (h, p)
    };
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("address {hp}: invalid port"))?;
    Ok((host.to_owned(), port))
}

/// What every integration block has: Alertmanager's name for it,
/// `send_resolved`, its own `http_config`, and its load-time checks.
pub trait IntegrationConfig: Clone + Send + Sync + 'static {
    /// Integration name as Alertmanager names it (`webhook`, `slack`, ...).
    const KIND: &'static str;
    /// Whether resolved alerts are sent (`send_resolved`).
    fn send_resolved(&self) -> bool;
    /// The integration's own `http_config`, if it has one and sets it.
    fn http_config(&self) -> Option<&HttpConfig>;
    /// What Alertmanager checks when it loads the block: its `http_config`,
    /// then its own fields and the `global:` settings it falls back to.
    fn check(&self, global: &GlobalConfig) -> Result<(), String>;
}

/// One table for the integrations' names: `Config => "kind"`, marked
/// `(http)` where the config has an `http_config` field. Each config's own
/// checks are its inherent `validate(&self, global)`.
macro_rules! integration_configs {
    ($($config:ty => $kind:literal $(($http:ident))?;)*) => {$(
        impl IntegrationConfig for $config {
            const KIND: &'static str = $kind;
            fn send_resolved(&self) -> bool {
                self.send_resolved
            }
            fn http_config(&self) -> Option<&HttpConfig> {
                integration_configs!(@http self $($http)?)
            }
            fn check(&self, global: &GlobalConfig) -> Result<(), String> {
                if let Some(h) = self.http_config() {
                    validate_http_config(h)?;
                }
                self.validate(global)
            }
        }
    )*};
    (@http $self:ident http) => { $self.http_config.as_ref() };
    (@http $self:ident) => { None };
}

integration_configs! {
    WebhookConfig => "webhook" (http);
    EmailConfig => "email";
    PagerdutyConfig => "pagerduty" (http);
    OpsGenieConfig => "opsgenie" (http);
    WechatConfig => "wechat" (http);
    SlackConfig => "slack" (http);
    VictorOpsConfig => "victorops" (http);
    PushoverConfig => "pushover" (http);
    SnsConfig => "sns" (http);
    TelegramConfig => "telegram" (http);
    DiscordConfig => "discord" (http);
    WebexConfig => "webex" (http);
    MsTeamsConfig => "msteams" (http);
}

/// One entry of `receivers:`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    pub name: String,
    #[serde(default)]
    pub webhook_configs: Vec<WebhookConfig>,
    #[serde(default)]
    pub email_configs: Vec<EmailConfig>,
    #[serde(default)]
    pub slack_configs: Vec<SlackConfig>,
    #[serde(default)]
    pub pagerduty_configs: Vec<PagerdutyConfig>,
    #[serde(default)]
    pub msteams_configs: Vec<MsTeamsConfig>,
    #[serde(default)]
    pub opsgenie_configs: Vec<OpsGenieConfig>,
    #[serde(default)]
    pub victorops_configs: Vec<VictorOpsConfig>,
    #[serde(default)]
    pub pushover_configs: Vec<PushoverConfig>,
    #[serde(default)]
    pub wechat_configs: Vec<WechatConfig>,
    #[serde(default)]
    pub sns_configs: Vec<SnsConfig>,
    #[serde(default)]
    pub telegram_configs: Vec<TelegramConfig>,
    #[serde(default)]
    pub webex_configs: Vec<WebexConfig>,
    #[serde(default)]
    pub discord_configs: Vec<DiscordConfig>,
}

impl Receiver {
    /// Checks what Alertmanager checks when it loads the file, including the
    /// settings a receiver must find in `global:` when it leaves them out.
    /// Messages name the receiver and the integration.
    pub fn validate(&self, global: &GlobalConfig) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("missing name in receiver".into());
        }
        // Alertmanager's order of checks, which decides the error reported first.
        self.check_all(&self.webhook_configs, global)?;
        self.check_all(&self.email_configs, global)?;
        self.check_all(&self.slack_configs, global)?;
        self.check_all(&self.pagerduty_configs, global)?;
        self.check_all(&self.opsgenie_configs, global)?;
        self.check_all(&self.victorops_configs, global)?;
        self.check_all(&self.pushover_configs, global)?;
        self.check_all(&self.wechat_configs, global)?;
        self.check_all(&self.sns_configs, global)?;
        self.check_all(&self.discord_configs, global)?;
        self.check_all(&self.telegram_configs, global)?;
        self.check_all(&self.webex_configs, global)?;
        self.check_all(&self.msteams_configs, global)
    }

    /// Checks each block of one kind, naming the receiver and the block
    /// (`receiver "x": slack_configs[1]: ...`) in the error.
    fn check_all<C: IntegrationConfig>(
        &self,
        configs: &[C],
        global: &GlobalConfig,
    ) -> Result<(), String> {
        for (i, c) in configs.iter().enumerate() {
            c.check(global)
                .map_err(|e| format!("receiver {:?}: {}_configs[{i}]: {e}", self.name, C::KIND))?;
        }
        Ok(())
    }
}

/// Alertmanager's rule for a secret given inline as `name` or in
/// `<name>_file`: never both, and when `required`, one of them.
pub(crate) fn check_secret_source(
    name: &str,
    inline: bool,
    file: bool,
    required: bool,
) -> Result<(), String> {
    match (inline, file) {
        (true, true) => Err(format!(
            "at most one of {name} & {name}_file must be configured"
        )),
        (false, false) if required => {
            Err(format!("one of {name} or {name}_file must be configured"))
        }
        _ => Ok(()),
    }
}

fn check_url(u: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(u).map_err(|e| format!("invalid url: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("unsupported scheme {:?} for URL", url.scheme()));
    }
    Ok(())
}

/// Go's `textproto.CanonicalMIMEHeaderKey` for ASCII names: each word's first
/// letter upper-case, the rest lower-case.
pub fn canonical_header(h: &str) -> String {
    let mut out = String::with_capacity(h.len());
    let mut upper = true;
    for c in h.chars() {
        if upper {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
        upper = c == '-';
    }
    out
}

#[cfg(test)]
mod tests;
