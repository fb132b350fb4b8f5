//! Pushover's message API, as Alertmanager 0.25 calls it: every parameter
//! in the query string of a `POST` with an empty body.

use std::sync::Arc;

use async_trait::async_trait;

use super::slack::truncate_runes;
use super::{render, secret_or_file, Base, Integration, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{GlobalConfig, PushoverConfig};
use crate::template::Templates;

const API_URL: &str = "https://api.pushover.net/1/messages.json";
/// Pushover's limits, in characters.
const MAX_TITLE_RUNES: usize = 250;
const MAX_MESSAGE_RUNES: usize = 1024;
const MAX_URL_RUNES: usize = 512;

/// One `pushover_configs` entry.
#[derive(Debug)]
pub struct Pushover {
    base: Base<PushoverConfig>,
    /// Pushover's endpoint; tests point it at a local server.
    api_url: String,
}

impl Pushover {
    pub fn new(
        index: usize,
        config: &PushoverConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<Pushover, String> {
        Ok(Pushover {
            api_url: API_URL.into(),
            base: Base::new(index, config, global, templates)?,
        })
    }

    fn secret(
        inline: &Option<crate::config::receiver::Secret>,
        file: &Option<String>,
    ) -> Result<String, NotifyError> {
        secret_or_file(inline, file)?
            .ok_or_else(|| NotifyError::permanent("pushover: missing user_key or token"))
    }

    /// The query parameters, sorted by name as Go's `url.Values.Encode` sorts them.
    pub fn parameters(
        &self,
        data: &crate::template::Data,
    ) -> Result<Vec<(String, String)>, NotifyError> {
        let c = &self.base.config;
        let value = data.to_value();
        let t = |field: &str, text: &str| render(&self.base.templates, field, text, &value);
        let message = if c.html {
            self.base
                .templates
                .execute_html(&c.message, data)
                .map_err(|e| NotifyError::permanent(format!("rendering message: {e}")))?
        } else {
            t("message", &c.message)?
        };
        let message = truncate_runes(&message, MAX_MESSAGE_RUNES)
            .trim()
            .to_owned();
        let mut p = vec![
            ("token".to_owned(), Self::secret(&c.token, &c.token_file)?),
            (
                "user".to_owned(),
                Self::secret(&c.user_key, &c.user_key_file)?,
            ),
            (
                "title".to_owned(),
                truncate_runes(&t("title", &c.title)?, MAX_TITLE_RUNES),
            ),
            // Pushover refuses an empty message.
            (
                "message".to_owned(),
                if message.is_empty() {
                    "(no details)".to_owned()
                } else {
                    message
                },
            ),
            (
                "url".to_owned(),
                truncate_runes(&t("url", &c.url)?, MAX_URL_RUNES),
            ),
            ("url_title".to_owned(), t("url_title", &c.url_title)?),
            ("priority".to_owned(), t("priority", &c.priority)?),
            ("retry".to_owned(), c.retry.as_secs().to_string()),
            ("expire".to_owned(), c.expire.as_secs().to_string()),
            ("device".to_owned(), t("device", &c.device)?),
            ("sound".to_owned(), t("sound", &c.sound)?),
        ];
        if let Some(ttl) = c.ttl {
            p.push(("ttl".to_owned(), ttl.as_secs().to_string()));
        }
        if c.html {
            p.push(("html".to_owned(), "1".to_owned()));
        }
        p.sort();
        Ok(p)
    }
}

#[async_trait]
impl Integration for Pushover {
    type Config = PushoverConfig;
    fn base(&self) -> &Base<PushoverConfig> {
        &self.base
    }

    async fn send(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let params = self.parameters(&ctx.data(alerts))?;
        let url = reqwest::Url::parse_with_params(&self.api_url, &params)
            .map_err(|e| NotifyError::permanent(format!("pushover url: {e}")))?;
        self.base.client.post_text(url.as_str(), "").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{build, ctx, sample_alerts};
    use crate::notify::testserver::TestServer;
    use crate::notify::Notifier;

    #[tokio::test]
    async fn parameters_in_the_query_string() {
        let mut srv = TestServer::start().await;
        let cfg: PushoverConfig = serde_saphyr::from_str(
            "user_key: u1\ntoken: t1\nmessage: '  {{ .CommonLabels.job }} & more  '\nretry: 30s\nsound: siren",
        )
        .unwrap();
        let mut n = build(&cfg, Pushover::new);
        n.api_url = format!("{}/1/messages.json", srv.url);
        n.notify(&ctx(), &sample_alerts()).await.unwrap();
        let req = srv.next().await;
        assert_eq!(req.method, "POST");
        assert!(req.body.is_empty());
        let (path, query) = req.path.split_once('?').unwrap();
        assert_eq!(path, "/1/messages.json");
        let got: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x/?{query}"))
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let want: Vec<(String, String)> = [
            ("device", ""),
            ("expire", "3600"),
            ("message", "api & more"),
            ("priority", "2"),
            ("retry", "30"),
            ("sound", "siren"),
            ("title", "[FIRING:1] Disk (api)"),
            ("token", "t1"),
            ("url", "http://sightline:9093/#/alerts?receiver=team"),
            ("url_title", ""),
            ("user", "u1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
        // An empty message is replaced, as Pushover requires one.
        let cfg: PushoverConfig =
            serde_saphyr::from_str("user_key: u\ntoken: t\nmessage: ' '").unwrap();
        let n = build(&cfg, Pushover::new);
        let p = n.parameters(&ctx().data(&sample_alerts())).unwrap();
        assert!(p.contains(&("message".to_owned(), "(no details)".to_owned())));
    }
}
