//! What every HTTP integration shares, written once: the shell holding its
//! position, config, HTTP client and templates ([`Base`]), the [`Notifier`]
//! impl built on a small per-integration [`Integration`] trait, and the loop
//! that turns a receiver's `*_configs` lists into notifiers
//! ([`build_integrations`]). Names and config checks live with the configs
//! ([`IntegrationConfig`]).

use std::sync::Arc;

use async_trait::async_trait;

use super::http::HttpClient;
use super::{discord, email, msteams, opsgenie, pagerduty, pushover, slack, sns, telegram};
use super::{secret_or_file, Notifier, NotifyContext, NotifyError};
use super::{victorops, webex, webhook, wechat};
use crate::alert::Alert;
use crate::config::receiver::*;
use crate::template::Templates;

/// The shell of an HTTP integration: its position among the receiver's
/// integrations of its kind, its config, a client built from its
/// `http_config` (or the global one) and the templates it renders with.
#[derive(Debug)]
pub struct Base<C> {
    pub(crate) index: usize,
    pub(crate) config: C,
    pub(crate) client: HttpClient,
    pub(crate) templates: Arc<Templates>,
}

impl<C: IntegrationConfig> Base<C> {
    pub fn new(
        index: usize,
        config: &C,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<Base<C>, String> {
        let http = config.http_config().unwrap_or(&global.http_config);
        Ok(Base {
            index,
            config: config.clone(),
            client: HttpClient::new(http, None)?,
            templates,
        })
    }
}

impl<C: IntegrationConfig> Base<C> {
    /// Posts `body` to the webhook URL given inline or as a `*_file`
    /// (Discord, Teams); a missing URL is a permanent failure.
    pub(crate) async fn post_to_webhook_url(
        &self,
        inline: &Option<Secret>,
        file: &Option<String>,
        body: &serde_json::Value,
    ) -> Result<(), NotifyError> {
        let url = secret_or_file(inline, file)?
            .ok_or_else(|| NotifyError::permanent(format!("{} has no webhook_url", C::KIND)))?;
        self.client.post_json(&url, body).await
    }

    /// Posts `body` to a `url` that carries `secret`, keeping the secret
    /// out of error messages (it is shown as `placeholder`).
    pub(crate) async fn post_json_redacted<T: serde::Serialize + Sync + ?Sized>(
        &self,
        url: &str,
        body: &T,
        secret: &str,
        placeholder: &str,
    ) -> Result<(), NotifyError> {
        self.client
            .post_json(url, body)
            .await
            .map_err(|e| NotifyError {
                message: e.message.replace(secret, placeholder),
                ..e
            })
    }
}

/// The integration's own `api_url`, else the global default; with
/// `trailing_slash`, ending in `/` so paths can be appended.
pub(crate) fn api_url(own: &Option<String>, global: &str, trailing_slash: bool) -> String {
    let mut url = own.clone().unwrap_or_else(|| global.to_owned());
    if trailing_slash && !url.ends_with('/') {
        url.push('/');
    }
    url
}

/// An API key given on the integration (inline or as a file), else the
/// global one: Alertmanager falls back only when the integration sets neither.
pub(crate) fn own_or_global_key(
    own: (&Option<Secret>, &Option<String>),
    global: (&Option<Secret>, &Option<String>),
) -> (Option<Secret>, Option<String>) {
    let (key, file) = if own.0.is_some() || own.1.is_some() {
        own
    } else {
        global
    };
    (key.clone(), file.clone())
}

/// What differs between HTTP integrations: how one notification is sent.
/// [`Notifier`] comes with it.
#[async_trait]
pub trait Integration: Send + Sync {
    type Config: IntegrationConfig;
    fn base(&self) -> &Base<Self::Config>;
    /// Sends one notification for `alerts` (firing and resolved ones together).
    async fn send(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError>;
}

#[async_trait]
impl<T: Integration> Notifier for T {
    fn kind(&self) -> &'static str {
        T::Config::KIND
    }
    fn index(&self) -> usize {
        self.base().index
    }
    fn send_resolved(&self) -> bool {
        self.base().config.send_resolved()
    }
    async fn notify(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        self.send(ctx, alerts).await
    }
}

/// Builds a receiver's integrations in Alertmanager's order (webhook, email,
/// PagerDuty, OpsGenie, WeChat, Slack, VictorOps, Pushover, SNS, Telegram,
/// Discord, Webex, then Teams, which came later), each kind in config order.
///
/// Fails when the receiver is invalid, naming the receiver, the integration
/// and what is wrong.
pub fn build_integrations(
    receiver: &Receiver,
    global: &GlobalConfig,
    templates: Arc<Templates>,
) -> crate::Result<Vec<Arc<dyn Notifier>>> {
    receiver.validate(global).map_err(crate::Error::Config)?;
    let r = receiver;
    let mut b = Builder {
        receiver: &r.name,
        global,
        templates,
        out: Vec::new(),
    };
    b.add(&r.webhook_configs, |i, c, g, _| {
        webhook::Webhook::new(i, c, g)
    })?;
    b.add(&r.email_configs, email::Email::new)?;
    b.add(&r.pagerduty_configs, pagerduty::Pagerduty::new)?;
    b.add(&r.opsgenie_configs, opsgenie::OpsGenie::new)?;
    b.add(&r.wechat_configs, wechat::Wechat::new)?;
    b.add(&r.slack_configs, slack::Slack::new)?;
    b.add(&r.victorops_configs, victorops::VictorOps::new)?;
    b.add(&r.pushover_configs, pushover::Pushover::new)?;
    b.add(&r.sns_configs, sns::Sns::new)?;
    b.add(&r.telegram_configs, telegram::Telegram::new)?;
    b.add(&r.discord_configs, discord::Discord::new)?;
    b.add(&r.webex_configs, webex::Webex::new)?;
    b.add(&r.msteams_configs, msteams::MsTeams::new)?;
    Ok(b.out)
}

/// Collects the notifiers of one receiver.
struct Builder<'a> {
    receiver: &'a str,
    global: &'a GlobalConfig,
    templates: Arc<Templates>,
    out: Vec<Arc<dyn Notifier>>,
}

impl Builder<'_> {
    /// Builds one notifier per entry of `configs`, naming the entry
    /// (`receiver "x": slack_configs[1]: ...`) when one is invalid.
    fn add<C: IntegrationConfig, N: Notifier + 'static>(
        &mut self,
        configs: &[C],
        new: impl Fn(usize, &C, &GlobalConfig, Arc<Templates>) -> Result<N, String>,
    ) -> crate::Result<()> {
        for (i, c) in configs.iter().enumerate() {
            let n = new(i, c, self.global, self.templates.clone()).map_err(|e| {
                crate::Error::Config(format!(
                    "receiver {:?}: {}_configs[{i}]: {e}",
                    self.receiver,
                    C::KIND
                ))
            })?;
            self.out.push(Arc::new(n));
        }
        Ok(())
    }
}
