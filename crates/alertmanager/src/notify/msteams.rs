//! Microsoft Teams incoming webhooks (an Office 365 connector MessageCard),
//! as Alertmanager 0.26 sends them.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{render, Base, Integration, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::MsTeamsConfig;

const COLOR_FIRING: &str = "8C1A1A";
const COLOR_RESOLVED: &str = "2DC72D";
const COLOR_OTHER: &str = "808080";

/// One `msteams_configs` entry.
pub type MsTeams = Base<MsTeamsConfig>;

impl MsTeams {
    /// The MessageCard for a group whose status is `status`.
    pub fn message(&self, data: &gotmpl::Value, status: &str) -> Result<Value, NotifyError> {
        let t = |field: &str, text: &str| render(&self.templates, field, text, data);
        let color = match status {
            "firing" => COLOR_FIRING,
            "resolved" => COLOR_RESOLVED,
            _ => COLOR_OTHER,
        };
        Ok(json!({
            "@context": "http://schema.org/extensions",
            "type": "MessageCard",
            "title": t("title", &self.config.title)?,
            "summary": t("summary", &self.config.summary)?,
            "text": t("text", &self.config.text)?,
            "themeColor": color,
        }))
    }
}

#[async_trait]
impl Integration for MsTeams {
    type Config = MsTeamsConfig;
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
    async fn message_card() {
        let mut srv = TestServer::start().await;
        let cfg: MsTeamsConfig = serde_saphyr::from_str(&format!(
            "webhook_url: '{}/webhookb2/x'\ntext: '{{{{ len .Alerts }}}} alerts'",
            srv.url
        ))
        .unwrap();
        let n = build(&cfg, MsTeams::new);
        let alerts = sample_alerts();
        n.notify(&ctx(), &alerts).await.unwrap();
        let req = srv.next().await;
        assert_eq!(req.path, "/webhookb2/x");
        assert_eq!(
            req.json(),
            json!({
                "@context": "http://schema.org/extensions",
                "type": "MessageCard",
                "title": "[FIRING:1] Disk (api)",
                "summary": "[FIRING:1] Disk (api)",
                "text": "2 alerts",
                "themeColor": "8C1A1A",
            })
        );
        n.notify(&ctx(), &alerts[1..]).await.unwrap();
        assert_eq!(srv.next().await.json()["themeColor"], "2DC72D");
        // A 4xx from Teams is not retried; a 5xx is.
        srv.status.store(400, std::sync::atomic::Ordering::SeqCst);
        assert!(!n.notify(&ctx(), &alerts).await.unwrap_err().retryable);
        srv.next().await;
        srv.status.store(502, std::sync::atomic::Ordering::SeqCst);
        assert!(n.notify(&ctx(), &alerts).await.unwrap_err().retryable);
    }
}
