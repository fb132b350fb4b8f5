//! VictorOps (Splunk On-Call) REST endpoint, as Alertmanager 0.25 uses it:
//! one flat JSON object per notification, `entity_id` the group key's
//! SHA-256 so that the trigger and the recovery meet at one incident.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::integration::{api_url, own_or_global_key};
use super::pagerduty::group_key_hash;
use super::slack::truncate_runes;
use super::{render, secret_or_file, Base, Integration, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{GlobalConfig, Secret, VictorOpsConfig};
use crate::template::Templates;

/// VictorOps' limit on `state_message`, in characters.
const MAX_STATE_MESSAGE_RUNES: usize = 20480;

/// One `victorops_configs` entry.
#[derive(Debug)]
pub struct VictorOps {
    base: Base<VictorOpsConfig>,
    api_url: String,
    key: (Option<Secret>, Option<String>),
}

impl VictorOps {
    pub fn new(
        index: usize,
        config: &VictorOpsConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<VictorOps, String> {
        let key = own_or_global_key(
            (&config.api_key, &config.api_key_file),
            (&global.victorops_api_key, &global.victorops_api_key_file),
        );
        Ok(VictorOps {
            api_url: api_url(&config.api_url, &global.victorops_api_url, false),
            key,
            base: Base::new(index, config, global, templates)?,
        })
    }

    /// The request body for a group whose status is `status`.
    pub fn message(
        &self,
        ctx: &NotifyContext,
        data: &gotmpl::Value,
        status: &str,
    ) -> Result<BTreeMap<String, String>, NotifyError> {
        let c = &self.base.config;
        let t = |field: &str, text: &str| render(&self.base.templates, field, text, data);
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
impl Integration for VictorOps {
    type Config = VictorOpsConfig;
    fn base(&self) -> &Base<VictorOpsConfig> {
        &self.base
    }

    async fn send(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let data = ctx.data(alerts);
        let value = data.to_value();
        let body = self.message(ctx, &value, &data.status)?;
        let key = secret_or_file(&self.key.0, &self.key.1)?
            .ok_or_else(|| NotifyError::permanent("no VictorOps API key set"))?;
        let routing_key = render(
            &self.base.templates,
            "routing_key",
            &self.base.config.routing_key,
            &value,
        )?;
        let url = format!("{}{key}/{routing_key}", self.api_url);
        self.base
            .post_json_redacted(&url, &body, &key, "<api_key>")
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{build, ctx, sample_alerts};
    use crate::notify::testserver::TestServer;
    use crate::notify::Notifier;
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
