//! Telegram: a bot's `sendMessage` to one chat, as Alertmanager 0.25 sends
//! it. In the default `HTML` parse mode the message is rendered with HTML
//! escaping, so label values cannot break Telegram's markup.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::integration::api_url;
use super::slack::truncate_runes;
use super::{render, secret_or_file, Base, Integration, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{GlobalConfig, TelegramConfig};
use crate::template::{Data, Templates};

/// Telegram's message limit, in characters.
const MAX_MESSAGE_RUNES: usize = 4096;

/// One `telegram_configs` entry.
#[derive(Debug)]
pub struct Telegram {
    base: Base<TelegramConfig>,
    api_url: String,
}

impl Telegram {
    pub fn new(
        index: usize,
        config: &TelegramConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<Telegram, String> {
        let api_url = api_url(&config.api_url, &global.telegram_api_url, false);
        Ok(Telegram {
            api_url: api_url.trim_end_matches('/').to_owned(),
            base: Base::new(index, config, global, templates)?,
        })
    }

    /// The `sendMessage` parameters. Alertmanager's Telegram client sends
    /// every parameter as a string, and so do we.
    pub fn message(&self, data: &Data) -> Result<Value, NotifyError> {
        let c = &self.base.config;
        let text = if c.parse_mode == "HTML" {
            self.base
                .templates
                .execute_html(&c.message, data)
                .map_err(|e| NotifyError::permanent(format!("rendering message: {e}")))?
        } else {
            render(
                &self.base.templates,
                "message",
                &c.message,
                &data.to_value(),
            )?
        };
        let mut m = Map::new();
        m.insert("chat_id".into(), json!(c.chat_id.to_string()));
        m.insert(
            "text".into(),
            json!(truncate_runes(&text, MAX_MESSAGE_RUNES)),
        );
        m.insert("disable_web_page_preview".into(), json!("true"));
        if c.disable_notifications {
            m.insert("disable_notification".into(), json!("true"));
        }
        if !c.parse_mode.is_empty() {
            m.insert("parse_mode".into(), json!(c.parse_mode));
        }
        Ok(Value::Object(m))
    }
}

#[async_trait]
impl Integration for Telegram {
    type Config = TelegramConfig;
    fn base(&self) -> &Base<TelegramConfig> {
        &self.base
    }

    async fn send(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let body = self.message(&ctx.data(alerts))?;
        let token = secret_or_file(
            &self.base.config.bot_token,
            &self.base.config.bot_token_file,
        )?
        .ok_or_else(|| NotifyError::permanent("telegram has no bot_token"))?;
        let url = format!("{}/bot{token}/sendMessage", self.api_url);
        // The URL carries the token: keep it out of error messages.
        self.base
            .post_json_redacted(&url, &body, &token, "<token>")
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{build, ctx, sample_alerts};
    use crate::notify::testserver::TestServer;
    use crate::notify::Notifier;

    #[tokio::test]
    async fn send_message_with_html_escaping() {
        let mut srv = TestServer::start().await;
        let cfg: TelegramConfig = serde_saphyr::from_str(&format!(
            "api_url: '{}'\nbot_token: '123:abc'\nchat_id: -100\ndisable_notifications: true\n\
             message: '<b>{{{{ .CommonAnnotations.summary }}}}</b> {{{{ .CommonLabels.job }}}}'",
            srv.url
        ))
        .unwrap();
        let n = build(&cfg, Telegram::new);
        let mut alerts = sample_alerts();
        for a in &mut alerts {
            a.labels.insert("job".into(), "a<b>".into());
        }
        n.notify(&ctx(), &alerts).await.unwrap();
        let req = srv.next().await;
        assert_eq!(req.path, "/bot123:abc/sendMessage");
        assert_eq!(
            req.json(),
            json!({
                "chat_id": "-100",
                "text": "<b>disk full</b> a&lt;b&gt;",
                "disable_web_page_preview": "true",
                "disable_notification": "true",
                "parse_mode": "HTML",
            })
        );
        srv.status.store(401, std::sync::atomic::Ordering::SeqCst);
        let e = n.notify(&ctx(), &alerts).await.unwrap_err();
        assert!(!e.retryable && !e.message.contains("abc"), "{e}");
    }

    #[test]
    fn default_message_renders() {
        let cfg: TelegramConfig = serde_saphyr::from_str("bot_token: t\nchat_id: 1").unwrap();
        let n = build(&cfg, Telegram::new);
        let body = n.message(&ctx().data(&sample_alerts())).unwrap();
        let text = body["text"].as_str().unwrap();
        assert!(text.starts_with("<b>[FIRING:1] Disk (api)</b>\n"), "{text}");
        assert_eq!(n.api_url, "https://api.telegram.org");
    }
}
