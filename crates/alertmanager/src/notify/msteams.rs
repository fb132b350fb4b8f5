//! Microsoft Teams incoming webhooks (an Office 365 connector MessageCard),
//! as Alertmanager 0.26 sends them.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::http::HttpClient;
use super::{render, secret_or_file, Notifier, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{GlobalConfig, MsTeamsConfig};
use crate::template::Templates;

const COLOR_FIRING: &str = "8C1A1A";
const COLOR_RESOLVED: &str = "2DC72D";
const COLOR_OTHER: &str = "808080";

/// One `msteams_configs` entry.
#[derive(Debug)]
pub struct MsTeams {
    index: usize,
    config: MsTeamsConfig,
    client: HttpClient,
    templates: Arc<Templates>,
}

impl MsTeams {
    pub fn new(
        index: usize,
        config: &MsTeamsConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<MsTeams, String> {
        let http = config.http_config.as_ref().unwrap_or(&global.http_config);
        Ok(MsTeams {
            index,
            config: config.clone(),
            client: HttpClient::new(http, None)?,
            templates,
        })
    }

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
impl Notifier for MsTeams {
    fn kind(&self) -> &'static str {
        "msteams"
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
            .ok_or_else(|| NotifyError::permanent("msteams has no webhook_url"))?;
        self.client.post_json(&url, &body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{build, ctx, sample_alerts};
    use crate::notify::testserver::TestServer;

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
