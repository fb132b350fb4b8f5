//! OpsGenie's Alert API v2, as Alertmanager 0.25 uses it: a firing group
//! creates (or, OpsGenie-side, de-duplicates) an alert whose alias is the
//! group key's SHA-256; a resolved group closes it by alias.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::integration::{api_url, own_or_global_key};
use super::pagerduty::group_key_hash;
use super::slack::truncate_runes;
use super::{render, secret_or_file, Base, Integration, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{GlobalConfig, OpsGenieConfig, Secret};
use crate::template::Templates;

/// OpsGenie's limit on an alert's message, in characters.
const MAX_MESSAGE_RUNES: usize = 130;

/// One `opsgenie_configs` entry.
#[derive(Debug)]
pub struct OpsGenie {
    base: Base<OpsGenieConfig>,
    /// The API base, ending in `/`.
    api_url: String,
    key: (Option<Secret>, Option<String>),
}

/// One request of a notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: reqwest::Method,
    pub url: String,
    pub body: Value,
}

/// Alertmanager 0.25's `safeSplit`: trim the whole string, split on `sep`
/// and drop empty items; the items keep their spaces (`"a, b"` gives `"a"`
/// and `" b"`), as the peer test shows.
fn split_list(s: &str, sep: char) -> Vec<String> {
    s.trim()
        .split(sep)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

impl OpsGenie {
    pub fn new(
        index: usize,
        config: &OpsGenieConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<OpsGenie, String> {
        let api_url = api_url(&config.api_url, &global.opsgenie_api_url, true);
        let key = own_or_global_key(
            (&config.api_key, &config.api_key_file),
            (&global.opsgenie_api_key, &global.opsgenie_api_key_file),
        );
        Ok(OpsGenie {
            api_url,
            key,
            base: Base::new(index, config, global, templates)?,
        })
    }

    /// The requests for one notification: create (plus message and
    /// description updates with `update_alerts`) or close.
    pub fn requests(
        &self,
        ctx: &NotifyContext,
        data: &gotmpl::Value,
        status: &str,
        common_labels: &crate::alert::LabelSet,
    ) -> Result<Vec<Request>, NotifyError> {
        let c = &self.base.config;
        let t = |field: &str, text: &str| render(&self.base.templates, field, text, data);
        let alias = group_key_hash(&ctx.group_key);
        let alerts_url = format!("{}v2/alerts", self.api_url);
        if status == "resolved" {
            return Ok(vec![Request {
                method: reqwest::Method::POST,
                url: format!("{alerts_url}/{alias}/close?identifierType=alias"),
                body: json!({"source": t("source", &c.source)?}),
            }]);
        }
        let message = truncate_runes(&t("message", &c.message)?, MAX_MESSAGE_RUNES);
        let description = t("description", &c.description)?;
        let mut details: Map<String, Value> = common_labels
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        for (k, v) in &c.details {
            details.insert(k.clone(), json!(t(&format!("details.{k}"), v)?));
        }
        let mut responders = Vec::new();
        for r in &c.responders {
            let (id, name, username) = (
                t("responders.id", &r.id)?,
                t("responders.name", &r.name)?,
                t("responders.username", &r.username)?,
            );
            // Sent as written: Alertmanager 0.25 lower-cases the type only
            // while checking the config, on a copy.
            let kind = t("responders.type", &r.kind)?;
            if kind == "teams" {
                // `teams` names several teams at once.
                for team in split_list(&name, ',') {
                    responders.push(json!({"name": team, "type": "team"}));
                }
                continue;
            }
            let mut m = Map::new();
            for (k, v) in [("id", id), ("name", name), ("username", username)] {
                if !v.is_empty() {
                    m.insert(k.into(), json!(v));
                }
            }
            if m.is_empty() && kind.is_empty() {
                continue;
            }
            m.insert("type".into(), json!(kind));
            responders.push(Value::Object(m));
        }
        let mut msg = Map::new();
        msg.insert("alias".into(), json!(alias));
        msg.insert("message".into(), json!(message));
        if !description.is_empty() {
            msg.insert("description".into(), json!(description));
        }
        msg.insert("details".into(), Value::Object(details));
        msg.insert("source".into(), json!(t("source", &c.source)?));
        if !responders.is_empty() {
            msg.insert("responders".into(), Value::Array(responders));
        }
        let tags = split_list(&t("tags", &c.tags)?, ',');
        if !tags.is_empty() {
            msg.insert("tags".into(), json!(tags));
        }
        for (k, text) in [
            ("note", &c.note),
            ("priority", &c.priority),
            ("entity", &c.entity),
        ] {
            let v = t(k, text)?;
            if !v.is_empty() {
                msg.insert(k.into(), json!(v));
            }
        }
        let actions = split_list(&t("actions", &c.actions)?, ',');
        if !actions.is_empty() {
            msg.insert("actions".into(), json!(actions));
        }
        let mut out = vec![Request {
            method: reqwest::Method::POST,
            url: alerts_url.clone(),
            body: Value::Object(msg),
        }];
        if c.update_alerts {
            out.push(Request {
                method: reqwest::Method::PUT,
                url: format!("{alerts_url}/{alias}/message?identifierType=alias"),
                body: json!({"message": message}),
            });
            out.push(Request {
                method: reqwest::Method::PUT,
                url: format!("{alerts_url}/{alias}/description?identifierType=alias"),
                body: json!({"description": description}),
            });
        }
        Ok(out)
    }
}

#[async_trait]
impl Integration for OpsGenie {
    type Config = OpsGenieConfig;
    fn base(&self) -> &Base<OpsGenieConfig> {
        &self.base
    }

    async fn send(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let data = ctx.data(alerts);
        let requests = self.requests(ctx, &data.to_value(), &data.status, &data.common_labels)?;
        let key = secret_or_file(&self.key.0, &self.key.1)?
            .ok_or_else(|| NotifyError::permanent("no OpsGenie API key set"))?;
        let auth = [("Authorization", format!("GenieKey {key}"))];
        for r in requests {
            self.base
                .client
                .send_json(r.method, &r.url, &r.body, &auth)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{build, ctx, sample_alerts};
    use crate::notify::testserver::TestServer;
    use crate::notify::Notifier;

    #[test]
    fn lists_split_as_alertmanager_does() {
        assert_eq!(split_list(" a, b ,,c ", ','), vec!["a", " b ", "c"]);
        assert!(split_list("", ',').is_empty());
    }

    #[tokio::test]
    async fn create_update_and_close() {
        let mut srv = TestServer::start().await;
        let cfg: OpsGenieConfig = serde_saphyr::from_str(&format!(
            "api_key: k1\napi_url: '{}/'\ntags: 'a, {{{{ .CommonLabels.job }}}}'\npriority: P2\nupdate_alerts: true\n\
             details: {{team: ops}}\nresponders: [{{name: 'x,y', type: teams}}, {{username: u@example.org, type: User}}]",
            srv.url
        ))
        .unwrap();
        let n = build(&cfg, OpsGenie::new);
        let alerts = sample_alerts();
        n.notify(&ctx(), &alerts).await.unwrap();
        let alias = group_key_hash(r#"{}:{alertname="Disk"}"#);
        let create = srv.next().await;
        assert_eq!(
            (create.method.as_str(), create.path.as_str()),
            ("POST", "/v2/alerts")
        );
        assert_eq!(create.headers["authorization"], "GenieKey k1");
        let body = create.json();
        assert_eq!(body["alias"], alias);
        assert_eq!(body["message"], "[FIRING:1] Disk (api)");
        assert_eq!(
            body["details"],
            json!({"alertname": "Disk", "job": "api", "team": "ops"})
        );
        assert_eq!(
            body["source"],
            "http://sightline:9093/#/alerts?receiver=team"
        );
        assert_eq!(body["tags"], json!(["a", " api"]));
        assert_eq!(body["priority"], "P2");
        assert_eq!(
            body["responders"],
            json!([{"name": "x", "type": "team"}, {"name": "y", "type": "team"}, {"username": "u@example.org", "type": "User"}])
        );
        let upd = srv.next().await;
        assert_eq!(upd.method, "PUT");
        assert_eq!(
            upd.path,
            format!("/v2/alerts/{alias}/message?identifierType=alias")
        );
        assert_eq!(upd.json(), json!({"message": "[FIRING:1] Disk (api)"}));
        let upd = srv.next().await;
        assert_eq!(
            upd.path,
            format!("/v2/alerts/{alias}/description?identifierType=alias")
        );

        n.notify(&ctx(), &alerts[1..]).await.unwrap();
        let close = srv.next().await;
        assert_eq!(
            close.path,
            format!("/v2/alerts/{alias}/close?identifierType=alias")
        );
        assert_eq!(
            close.json(),
            json!({"source": "http://sightline:9093/#/alerts?receiver=team"})
        );
    }
}
