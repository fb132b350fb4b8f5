//! Discord webhooks: one embed with title, description and a status colour,
//! as Alertmanager 0.25 sends it.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::slack::truncate_runes;
use super::{render, Base, Integration, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::DiscordConfig;

/// Discord's limits on embed titles and descriptions, in characters.
const MAX_TITLE_RUNES: usize = 256;
const MAX_DESCRIPTION_RUNES: usize = 4096;
const COLOR_FIRING: u32 = 0x992D22;
const COLOR_RESOLVED: u32 = 0x2ECC71;
const COLOR_OTHER: u32 = 0x95A5A6;

/// One `discord_configs` entry.
pub type Discord = Base<DiscordConfig>;

impl Discord {
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
impl Integration for Discord {
    type Config = DiscordConfig;
    fn base(&self) -> &Self {
        self
    }

    async fn send(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let data = ctx.data(alerts);
        let body = self.message(&data.to_value(), &data.status)?;
        let c = &self.config;
        self.post_to_webhook_url(&c.webhook_url, &c.webhook_url_file, &body)
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
