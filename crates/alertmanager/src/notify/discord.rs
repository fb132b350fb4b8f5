//! Discord webhooks: one embed with title, description and a status colour,
//! as Alertmanager 0.25 sends it.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::http::HttpClient;
use super::slack::truncate_runes;
use super::{render, secret_or_file, Notifier, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{DiscordConfig, GlobalConfig};
use crate::template::Templates;

/// Discord's limits on embed titles and descriptions, in characters.
const MAX_TITLE_RUNES: usize = 256;
const MAX_DESCRIPTION_RUNES: usize = 4096;
const COLOR_FIRING: u32 = 0x992D22;
const COLOR_RESOLVED: u32 = 0x2ECC71;
const COLOR_OTHER: u32 = 0x95A5A6;

/// One `discord_configs` entry.
#[derive(Debug)]
pub struct Discord {
    index: usize,
    config: DiscordConfig,
    client: HttpClient,
    templates: Arc<Templates>,
}

impl Discord {
    pub fn new(
        index: usize,
        config: &DiscordConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<Discord, String> {
        let http = config.http_config.as_ref().unwrap_or(&global.http_config);
        Ok(Discord {
            index,
            config: config.clone(),
            client: HttpClient::new(http, None)?,
            templates,
        })
    }

    /// The request body for a group whose status is `status`.
    pub fn message(&self, data: &gotmpl::Value, status: &str) -> Result<Value, NotifyError> {
        let t = |field: &str, text: &str| render(&self.templates, field, text, data);
        let color = match status {
            "firing" => COLOR_FIRING,
            "resolved" => COLOR_RESOLVED,
            _ => COLOR_OTHER,
        };
        // Alertmanager 0.25 always sends an empty `content` beside the embed.
        Ok(json!({
            "content": "",
            "embeds": [{
                "title": truncate_runes(&t("title", &self.config.title)?, MAX_TITLE_RUNES),
                "description": truncate_runes(&t("message", &self.config.message)?, MAX_DESCRIPTION_RUNES),
                "color": color,
            }]
        }))
    }
}

#[async_trait]
impl Notifier for Discord {
    fn kind(&self) -> &'static str {
        "discord"
    }
    fn index(&self) -> usize {
        self.index
    }
    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    async fn notify(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let data = ctx.data(alerts);
        let body = self.message(&data.to_value(), &data.status)?;
        let url = secret_or_file(&self.config.webhook_url, &self.config.webhook_url_file)?
            .ok_or_else(|| NotifyError::permanent("discord has no webhook_url"))?;
        self.client.post_json(&url, &body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{build, ctx, sample_alerts};
    use crate::notify::testserver::TestServer;

    #[tokio::test]
    async fn embed_with_status_colour() {
        let mut srv = TestServer::start().await;
        let cfg: DiscordConfig =
            serde_saphyr::from_str(&format!("webhook_url: '{}/api/webhooks/1/t'", srv.url))
                .unwrap();
        let n = build(&cfg, Discord::new);
        let alerts = sample_alerts();
        n.notify(&ctx(), &alerts).await.unwrap();
        let req = srv.next().await;
        assert_eq!(req.path, "/api/webhooks/1/t");
        let body = req.json();
        assert_eq!(body["embeds"][0]["title"], "[FIRING:1] Disk (api)");
        assert_eq!(body["embeds"][0]["color"], 0x992D22);
        let d = body["embeds"][0]["description"].as_str().unwrap();
        assert!(
            d.starts_with("Firing (1):\nLabels:\n  - alertname = Disk\n"),
            "{d}"
        );
        n.notify(&ctx(), &alerts[1..]).await.unwrap();
        assert_eq!(srv.next().await.json()["embeds"][0]["color"], 0x2ECC71);
    }
}
