//! VictorOps (Splunk On-Call) REST endpoint, as Alertmanager 0.25 uses it:
//! one flat JSON object per notification, `entity_id` the group key's
//! SHA-256 so that the trigger and the recovery meet at one incident.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::http::HttpClient;
use super::pagerduty::group_key_hash;
use super::slack::truncate_runes;
use super::{render, secret_or_file, Notifier, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{GlobalConfig, Secret, VictorOpsConfig};
use crate::template::Templates;

/// VictorOps' limit on `state_message`, in characters.
const MAX_STATE_MESSAGE_RUNES: usize = 20480;

/// One `victorops_configs` entry.
#[derive(Debug)]
pub struct VictorOps {
    index: usize,
    config: VictorOpsConfig,
    api_url: String,
    key: (Option<Secret>, Option<String>),
    client: HttpClient,
    templates: Arc<Templates>,
}

impl VictorOps {
    pub fn new(
        index: usize,
        config: &VictorOpsConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<VictorOps, String> {
        let http = config.http_config.as_ref().unwrap_or(&global.http_config);
        let key = if config.api_key.is_some() || config.api_key_file.is_some() {
            (config.api_key.clone(), config.api_key_file.clone())
        } else {
            (
                global.victorops_api_key.clone(),
                global.victorops_api_key_file.clone(),
            )
        };
        Ok(VictorOps {
            index,
            config: config.clone(),
            api_url: config
                .api_url
                .clone()
                .unwrap_or_else(|| global.victorops_api_url.clone()),
            key,
            client: HttpClient::new(http, None)?,
            templates,
        })
    }

    /// The request body for a group whose status is `status`.
    pub fn message(
        &self,
        ctx: &NotifyContext,
        data: &gotmpl::Value,
        status: &str,
    ) -> Result<BTreeMap<String, String>, NotifyError> {
        let c = &self.config;
        let t = |field: &str, text: &str| render(&self.templates, field, text, data);
        let mut message_type = t("message_type", &c.message_type)?;
        // VictorOps knows three firing kinds; anything else triggers.
        if status == "firing" && !matches!(message_type.as_str(), "INFO" | "WARNING" | "CRITICAL") {
            message_type = "CRITICAL".into();
        }
        if status == "resolved" {
            message_type = "RECOVERY".into();
        }
        let mut msg = BTreeMap::new();
        msg.insert("message_type".into(), message_type);
        msg.insert("entity_id".into(), group_key_hash(&ctx.group_key));
        msg.insert(
            "entity_display_name".into(),
            t("entity_display_name", &c.entity_display_name)?,
        );
        msg.insert(
            "state_message".into(),
            truncate_runes(
                &t("state_message", &c.state_message)?,
                MAX_STATE_MESSAGE_RUNES,
            ),
        );
        msg.insert(
            "monitoring_tool".into(),
            t("monitoring_tool", &c.monitoring_tool)?,
        );
        for (k, v) in &c.custom_fields {
            msg.insert(k.clone(), t(&format!("custom_fields.{k}"), v)?);
        }
        Ok(msg)
    }
}

#[async_trait]
impl Notifier for VictorOps {
    fn kind(&self) -> &'static str {
        "victorops"
    }
    fn index(&self) -> usize {
        self.index
    }
    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    async fn notify(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let data = ctx.data(alerts);
        let value = data.to_value();
        let body = self.message(ctx, &value, &data.status)?;
        let key = secret_or_file(&self.key.0, &self.key.1)?
            .ok_or_else(|| NotifyError::permanent("no VictorOps API key set"))?;
        let routing_key = render(
            &self.templates,
            "routing_key",
            &self.config.routing_key,
            &value,
        )?;
        let url = format!("{}{key}/{routing_key}", self.api_url);
        self.client
            .post_json(&url, &body)
            .await
            .map_err(|e| NotifyError {
                message: e.message.replace(&key, "<api_key>"),
                ..e
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{build, ctx, sample_alerts};
    use crate::notify::testserver::TestServer;
    use serde_json::json;

    #[tokio::test]
    async fn trigger_and_recovery() {
        let mut srv = TestServer::start().await;
        let cfg: VictorOpsConfig = serde_saphyr::from_str(&format!(
            "api_key: k1\napi_url: '{}/alert/'\nrouting_key: '{{{{ .CommonLabels.job }}}}'\nmessage_type: BOGUS\n\
             custom_fields: {{team: '{{{{ .Status }}}}'}}",
            srv.url
        ))
        .unwrap();
        let n = build(&cfg, VictorOps::new);
        let alerts = sample_alerts();
        n.notify(&ctx(), &alerts).await.unwrap();
        let req = srv.next().await;
        assert_eq!(req.path, "/alert/k1/api");
        let body = req.json();
        assert_eq!(body["message_type"], "CRITICAL");
        assert_eq!(
            body["entity_id"],
            group_key_hash(r#"{}:{alertname="Disk"}"#)
        );
        assert_eq!(body["entity_display_name"], "[FIRING:1] Disk (api)");
        assert_eq!(body["monitoring_tool"], "Sightline");
        assert_eq!(body["team"], "firing");
        n.notify(&ctx(), &alerts[1..]).await.unwrap();
        let body = srv.next().await.json();
        assert_eq!(body["message_type"], json!("RECOVERY"));
        assert_eq!(body["team"], "resolved");
    }
}
