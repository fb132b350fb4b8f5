//! Slack incoming webhooks: one message with one attachment, fields as
//! Alertmanager 0.25 fills them.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::{read_secret_file, render, Base, Integration, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{GlobalConfig, SlackConfig};
use crate::template::Templates;

/// Slack cuts longer titles; Alertmanager truncates first, ending with "…".
const MAX_TITLE_RUNES: usize = 1024;

/// One `slack_configs` entry.
#[derive(Debug)]
pub struct Slack {
    base: Base<SlackConfig>,
    /// `api_url` or `api_url_file`, falling back to the global ones.
    url: UrlSource,
}

#[derive(Debug)]
enum UrlSource {
    Inline(String),
    File(String),
}

/// Cuts `s` to `n` characters, the last one "…", as Alertmanager's `TruncateInRunes`.
pub fn truncate_runes(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl Slack {
    pub fn new(
        index: usize,
        config: &SlackConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<Slack, String> {
        let url = match (
            &config.api_url,
            &config.api_url_file,
            &global.slack_api_url,
            &global.slack_api_url_file,
        ) {
            (Some(u), _, _, _) => UrlSource::Inline(u.expose().to_owned()),
            (None, Some(f), _, _) => UrlSource::File(f.clone()),
            (None, None, Some(u), _) => UrlSource::Inline(u.expose().to_owned()),
            (None, None, None, Some(f)) => UrlSource::File(f.clone()),
            _ => return Err("no global Slack API URL set either inline or in a file".into()),
        };
        Ok(Slack {
            url,
            base: Base::new(index, config, global, templates)?,
        })
    }

    /// The request body for `data` (already a template value).
    pub fn message(&self, data: &gotmpl::Value) -> Result<Value, NotifyError> {
        let c = &self.base.config;
        let t = |field: &str, text: &str| render(&self.base.templates, field, text, data);
        let mut att = Map::new();
        let opt = |m: &mut Map<String, Value>, k: &str, v: String| {
            if !v.is_empty() {
                m.insert(k.into(), Value::String(v));
            }
        };
        opt(
            &mut att,
            "title",
            truncate_runes(&t("title", &c.title)?, MAX_TITLE_RUNES),
        );
        opt(&mut att, "title_link", t("title_link", &c.title_link)?);
        opt(&mut att, "pretext", t("pretext", &c.pretext)?);
        att.insert("text".into(), Value::String(t("text", &c.text)?));
        att.insert(
            "fallback".into(),
            Value::String(t("fallback", &c.fallback)?),
        );
        att.insert(
            "callback_id".into(),
            Value::String(t("callback_id", &c.callback_id)?),
        );
        if !c.fields.is_empty() {
            let mut fields = Vec::new();
            for f in &c.fields {
                fields.push(json!({
                    "title": t("fields.title", &f.title)?,
                    "value": t("fields.value", &f.value)?,
                    "short": f.short.unwrap_or(c.short_fields),
                }));
            }
            att.insert("fields".into(), Value::Array(fields));
        }
        if !c.actions.is_empty() {
            let mut actions = Vec::new();
            for a in &c.actions {
                let mut m = Map::new();
                opt(&mut m, "type", t("actions.type", &a.kind)?);
                opt(&mut m, "text", t("actions.text", &a.text)?);
                opt(&mut m, "url", t("actions.url", &a.url)?);
                opt(&mut m, "style", t("actions.style", &a.style)?);
                opt(&mut m, "name", t("actions.name", &a.name)?);
                opt(&mut m, "value", t("actions.value", &a.value)?);
                if let Some(cf) = &a.confirm {
                    let mut cm = Map::new();
                    opt(&mut cm, "text", t("confirm.text", &cf.text)?);
                    opt(&mut cm, "title", t("confirm.title", &cf.title)?);
                    opt(&mut cm, "ok_text", t("confirm.ok_text", &cf.ok_text)?);
                    opt(
                        &mut cm,
                        "dismiss_text",
                        t("confirm.dismiss_text", &cf.dismiss_text)?,
                    );
                    m.insert("confirm".into(), Value::Object(cm));
                }
                actions.push(Value::Object(m));
            }
            att.insert("actions".into(), Value::Array(actions));
        }
        opt(&mut att, "image_url", t("image_url", &c.image_url)?);
        opt(&mut att, "thumb_url", t("thumb_url", &c.thumb_url)?);
        att.insert("footer".into(), Value::String(t("footer", &c.footer)?));
        opt(&mut att, "color", t("color", &c.color)?);
        let mrkdwn: Vec<String> = if c.mrkdwn_in.is_empty() {
            vec!["fallback".into(), "pretext".into(), "text".into()]
        } else {
            c.mrkdwn_in.clone()
        };
        att.insert("mrkdwn_in".into(), json!(mrkdwn));

        let mut req = Map::new();
        opt(&mut req, "channel", t("channel", &c.channel)?);
        opt(&mut req, "username", t("username", &c.username)?);
        // Alertmanager sends the emoji only when no icon URL is configured.
        if c.icon_url.is_empty() {
            opt(&mut req, "icon_emoji", t("icon_emoji", &c.icon_emoji)?);
        } else {
            opt(&mut req, "icon_url", t("icon_url", &c.icon_url)?);
        }
        if c.link_names {
            req.insert("link_names".into(), Value::Bool(true));
        }
        req.insert("attachments".into(), Value::Array(vec![Value::Object(att)]));
        Ok(Value::Object(req))
    }
}

#[async_trait]
impl Integration for Slack {
    type Config = SlackConfig;
    fn base(&self) -> &Base<SlackConfig> {
        &self.base
    }

    async fn send(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let body = self.message(&ctx.data(alerts).to_value())?;
        let url = match &self.url {
            UrlSource::Inline(u) => u.clone(),
            UrlSource::File(f) => read_secret_file(f)?,
        };
        self.base.client.post_json(&url, &body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{build, ctx, sample_alerts};
    use crate::notify::testserver::TestServer;
    use crate::notify::Notifier;

    #[tokio::test]
    async fn default_message_shape() {
        let mut srv = TestServer::start().await;
        let cfg: SlackConfig = serde_saphyr::from_str(&format!(
            "api_url: '{}/services/T/B/x'\nchannel: '#ops'\nfields: [{{title: Job, value: '{{{{ .CommonLabels.job }}}}'}}]",
            srv.url
        ))
        .unwrap();
        let s = build(&cfg, Slack::new);
        s.notify(&ctx(), &sample_alerts()).await.unwrap();
        let req = srv.next().await;
        assert_eq!(req.path, "/services/T/B/x");
        let expected = json!({
            "channel": "#ops",
            "username": "Sightline",
            "attachments": [{
                "title": "[FIRING:1] Disk (api)",
                "title_link": "http://sightline:9093/#/alerts?receiver=team",
                "text": req.json()["attachments"][0]["text"].clone(),
                "fallback": "[FIRING:1] Disk (api) | http://sightline:9093/#/alerts?receiver=team",
                "callback_id": "",
                "fields": [{"title": "Job", "value": "api", "short": false}],
                "footer": "",
                "color": "danger",
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }]
        });
        assert_eq!(req.json(), expected);
        let text = req.json()["attachments"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            text.starts_with("Firing (1):\nLabels:\n  - alertname = Disk\n"),
            "{text}"
        );
        assert!(text.contains("Resolved (1):"), "{text}");
    }

    #[test]
    fn titles_are_cut_in_runes() {
        assert_eq!(truncate_runes("héllo", 5), "héllo");
        assert_eq!(truncate_runes("héllo", 4), "hél…");
    }
}
