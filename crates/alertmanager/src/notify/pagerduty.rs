//! PagerDuty: Events API v2 (`routing_key`) and the older generic v1 API
//! (`service_key`), with the group key's SHA-256 as the dedup key so that a
//! group's trigger and resolve meet at one incident.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::slack::truncate_runes;
use super::{render, secret_or_file, Base, Integration, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{GlobalConfig, PagerdutyConfig};
use crate::template::Templates;

const V1_URL: &str = "https://events.pagerduty.com/generic/2010-04-15/create_event.json";
/// PagerDuty rejects longer summaries; Alertmanager cuts them to this many runes.
const MAX_SUMMARY_RUNES: usize = 1024;

/// One `pagerduty_configs` entry.
#[derive(Debug)]
pub struct Pagerduty {
    base: Base<PagerdutyConfig>,
    url: String,
}

/// Alertmanager's `Key.Hash()`: SHA-256 of the group key in lower-case hex.
pub fn group_key_hash(key: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl Pagerduty {
    pub fn new(
        index: usize,
        config: &PagerdutyConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<Pagerduty, String> {
        let v1 = config.routing_key.is_none() && config.routing_key_file.is_none();
        // Alertmanager sends v1 events to PagerDuty's fixed endpoint and
        // applies `url` (or `global.pagerduty_url`) to v2 only.
        let url = if v1 {
            V1_URL.to_owned()
        } else {
            config
                .url
                .clone()
                .unwrap_or_else(|| global.pagerduty_url.clone())
        };
        Ok(Pagerduty {
            url,
            base: Base::new(index, config, global, templates)?,
        })
    }

    fn v1(&self) -> bool {
        self.base.config.routing_key.is_none() && self.base.config.routing_key_file.is_none()
    }

    /// The request body for a group whose status is `status` (`firing` or `resolved`).
    pub fn message(
        &self,
        ctx: &NotifyContext,
        data: &gotmpl::Value,
        status: &str,
    ) -> Result<Value, NotifyError> {
        let c = &self.base.config;
        let t = |field: &str, text: &str| render(&self.base.templates, field, text, data);
        let mut details = Map::new();
        for (k, v) in c.details_with_defaults() {
            details.insert(k.clone(), Value::String(t(&format!("details.{k}"), &v)?));
        }
        let dedup = group_key_hash(&ctx.group_key);
        let firing = status == "firing";
        let description = truncate_runes(&t("description", &c.description)?, MAX_SUMMARY_RUNES);
        let client = t("client", &c.client)?;
        let client_url = t("client_url", &c.client_url)?;
        let mut msg = Map::new();
        if let Some(routing_key) = secret_or_file(&c.routing_key, &c.routing_key_file)? {
            msg.insert("routing_key".into(), json!(routing_key));
            msg.insert("dedup_key".into(), json!(dedup));
            msg.insert(
                "event_action".into(),
                json!(if firing { "trigger" } else { "resolve" }),
            );
            let mut payload = Map::new();
            payload.insert("summary".into(), json!(description));
            let source = t("source", c.source.as_deref().unwrap_or(&c.client))?;
            payload.insert("source".into(), json!(source));
            let sev = t("severity", &c.severity)?;
            payload.insert(
                "severity".into(),
                json!(if sev.is_empty() {
                    "error".to_owned()
                } else {
                    sev
                }),
            );
            for (k, text) in [
                ("class", &c.class),
                ("component", &c.component),
                ("group", &c.group),
            ] {
                let v = t(k, text)?;
                if !v.is_empty() {
                    payload.insert(k.into(), json!(v));
                }
            }
            if !details.is_empty() {
                payload.insert("custom_details".into(), Value::Object(details));
            }
            msg.insert("payload".into(), Value::Object(payload));
            let mut images = Vec::new();
            for i in &c.images {
                let src = t("images.src", &i.src)?;
                if src.is_empty() {
                    continue;
                }
                let mut m = Map::new();
                m.insert("src".into(), json!(src));
                for (k, text) in [("alt", &i.alt), ("href", &i.href)] {
                    let v = t(k, text)?;
                    if !v.is_empty() {
                        m.insert(k.into(), json!(v));
                    }
                }
                images.push(Value::Object(m));
            }
            let mut links = Vec::new();
            for l in &c.links {
                let href = t("links.href", &l.href)?;
                if href.is_empty() {
                    continue;
                }
                let text = t("links.text", &l.text)?;
                links.push(json!({"href": href, "text": text}));
            }
            if !client.is_empty() {
                msg.insert("client".into(), json!(client));
            }
            if !client_url.is_empty() {
                msg.insert("client_url".into(), json!(client_url));
            }
            if !images.is_empty() {
                msg.insert("images".into(), Value::Array(images));
            }
            if !links.is_empty() {
                msg.insert("links".into(), Value::Array(links));
            }
        } else {
            let service_key =
                secret_or_file(&c.service_key, &c.service_key_file)?.unwrap_or_default();
            msg.insert("service_key".into(), json!(service_key));
            msg.insert("incident_key".into(), json!(dedup));
            msg.insert(
                "event_type".into(),
                json!(if firing { "trigger" } else { "resolve" }),
            );
            // v1 resolves carry only the keys.
            if firing {
                msg.insert("description".into(), json!(description));
                if !client.is_empty() {
                    msg.insert("client".into(), json!(client));
                }
                if !client_url.is_empty() {
                    msg.insert("client_url".into(), json!(client_url));
                }
                msg.insert("details".into(), Value::Object(details));
            }
        }
        Ok(Value::Object(msg))
    }
}

#[async_trait]
impl Integration for Pagerduty {
    type Config = PagerdutyConfig;
    fn base(&self) -> &Base<PagerdutyConfig> {
        &self.base
    }

    async fn send(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let data = ctx.data(alerts);
        let body = self.message(ctx, &data.to_value(), &data.status)?;
        let sent = self.base.client.post_json(&self.url, &body).await;
        // The v1 API answers 403 when it rate-limits, so that is worth a retry.
        match sent {
            Err(e) if self.v1() && e.message.starts_with("unexpected status code 403") => {
                Err(NotifyError::retryable(e.message))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{build, ctx, sample_alerts};
    use crate::notify::testserver::TestServer;
    use crate::notify::Notifier;

    #[test]
    fn dedup_key_is_sha256_of_group_key() {
        // SHA-256 of the empty string and of "abc" (FIPS 180-2 test vectors).
        assert_eq!(
            group_key_hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            group_key_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn pd(yaml: &str) -> Pagerduty {
        let cfg: PagerdutyConfig = serde_saphyr::from_str(yaml).unwrap();
        build(&cfg, Pagerduty::new)
    }

    #[tokio::test]
    async fn events_v2_trigger_and_resolve() {
        let mut srv = TestServer::start().await;
        let p = pd(&format!(
            "routing_key: rk\nurl: '{}/v2/enqueue'\nseverity: '{{{{ .CommonLabels.job }}}}'\nclass: disk\n\
             images: [{{src: 'http://img/{{{{ .Status }}}}', alt: a}}]\nlinks: [{{href: 'http://runbook', text: rb}}]",
            srv.url
        ));
        let alerts = sample_alerts();
        p.notify(&ctx(), &alerts).await.unwrap();
        let req = srv.next().await;
        assert_eq!(req.path, "/v2/enqueue");
        let body = req.json();
        let expected_details = json!({
            "firing": "Labels:\n  - alertname = Disk\n  - instance = a:1\n  - job = api\nAnnotations:\n  - summary = disk full\nSource: http://prom/graph\n\n",
            "resolved": "Labels:\n  - alertname = Disk\n  - instance = b:2\n  - job = api\nAnnotations:\n  - summary = disk full\nSource: http://prom/graph\n\n",
            "num_firing": "1",
            "num_resolved": "1",
        });
        let expected = json!({
            "routing_key": "rk",
            "dedup_key": group_key_hash(r#"{}:{alertname="Disk"}"#),
            "event_action": "trigger",
            "payload": {
                "summary": "[FIRING:1] Disk (api)",
                "source": "Sightline",
                "severity": "api",
                "class": "disk",
                "custom_details": expected_details,
            },
            "client": "Sightline",
            "client_url": "http://sightline:9093/#/alerts?receiver=team",
            "images": [{"src": "http://img/firing", "alt": "a"}],
            "links": [{"href": "http://runbook", "text": "rb"}],
        });
        assert_eq!(body, expected);

        // All resolved: a resolve event with the same dedup key.
        let resolved = vec![alerts[1].clone()];
        p.notify(&ctx(), &resolved).await.unwrap();
        let body = srv.next().await.json();
        assert_eq!(body["event_action"], "resolve");
        assert_eq!(body["dedup_key"], expected["dedup_key"]);
        // Only b:2 is left, so its instance is a common label too.
        assert_eq!(body["payload"]["summary"], "[RESOLVED] Disk (b:2 api)");
        assert_eq!(body["payload"]["severity"], "api");
    }

    #[tokio::test]
    async fn events_v1_with_service_key() {
        let mut srv = TestServer::start().await;
        let mut p = pd("service_key: sk");
        assert_eq!(p.url, V1_URL);
        p.url = format!("{}/v1", srv.url);
        let alerts = sample_alerts();
        p.notify(&ctx(), &[alerts[1].clone()]).await.unwrap();
        assert_eq!(
            srv.next().await.json(),
            json!({"service_key": "sk", "incident_key": group_key_hash(r#"{}:{alertname="Disk"}"#), "event_type": "resolve"})
        );
        p.notify(&ctx(), &alerts).await.unwrap();
        let body = srv.next().await.json();
        assert_eq!(body["event_type"], "trigger");
        assert_eq!(body["description"], "[FIRING:1] Disk (api)");
        assert_eq!(body["details"]["num_firing"], "1");
        // v1 ignores `url`, as Alertmanager does; v2 uses it.
        assert_eq!(pd("service_key: sk\nurl: 'http://x/'").url, V1_URL);
        assert_eq!(pd("routing_key: rk\nurl: 'http://x/'").url, "http://x/");
        // v1 rate limiting (403) is retried; v2's 403 is not.
        srv.status.store(403, std::sync::atomic::Ordering::SeqCst);
        assert!(p.notify(&ctx(), &alerts).await.unwrap_err().retryable);
        srv.next().await;
        let mut p2 = pd("routing_key: rk");
        p2.url = format!("{}/v2", srv.url);
        assert!(!p2.notify(&ctx(), &alerts).await.unwrap_err().retryable);
        assert_eq!(
            pd("routing_key: rk").url,
            "https://events.pagerduty.com/v2/enqueue"
        );
    }
}
