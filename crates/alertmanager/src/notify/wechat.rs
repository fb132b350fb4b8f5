//! WeChat Work application messages, as Alertmanager 0.25 sends them: an
//! access token fetched with the corp id and secret (kept for two hours),
//! then `message/send` with it. WeChat answers 200 with an error code in
//! the body, so the body decides success.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Value};

use super::integration::api_url;
use super::{render, Base, Integration, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{GlobalConfig, WechatConfig};
use crate::template::Templates;

/// How long a token is reused; WeChat's last two hours.
const TOKEN_LIFETIME: Duration = Duration::from_secs(2 * 3600);
/// WeChat's code for an expired token: fetch a new one and retry.
const TOKEN_EXPIRED: i64 = 42001;

/// One `wechat_configs` entry.
#[derive(Debug)]
pub struct Wechat {
    base: Base<WechatConfig>,
    /// The API base, ending in `/`.
    api_url: String,
    corp_id: String,
    secret: String,
    token: Mutex<Option<(String, Instant)>>,
}

impl Wechat {
    pub fn new(
        index: usize,
        config: &WechatConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<Wechat, String> {
        let api_url = api_url(&config.api_url, &global.wechat_api_url, true);
        let secret = config
            .api_secret
            .as_ref()
            .or(global.wechat_api_secret.as_ref())
            .ok_or("no global Wechat ApiSecret set")?;
        let corp_id = config
            .corp_id
            .as_ref()
            .or(global.wechat_api_corp_id.as_ref())
            .ok_or("no global Wechat CorpID set")?;
        Ok(Wechat {
            api_url,
            corp_id: corp_id.clone(),
            secret: secret.expose().to_owned(),
            token: Mutex::new(None),
            base: Base::new(index, config, global, templates)?,
        })
    }

    /// The `message/send` body.
    pub fn message(&self, data: &gotmpl::Value) -> Result<Value, NotifyError> {
        let c = &self.base.config;
        let t = |field: &str, text: &str| render(&self.base.templates, field, text, data);
        let content = t("message", &c.message)?;
        // Go's encoder keeps both content objects (omitempty does not drop
        // structs); only the one named by msgtype carries the text.
        let (text, markdown) = if c.message_type == "markdown" {
            (String::new(), content)
        } else {
            (content, String::new())
        };
        let mut m = serde_json::Map::new();
        m.insert("text".into(), json!({ "content": text }));
        for (k, v) in [
            ("touser", t("to_user", &c.to_user)?),
            ("toparty", t("to_party", &c.to_party)?),
            ("totag", t("to_tag", &c.to_tag)?),
            ("agentid", t("agent_id", &c.agent_id)?),
            ("safe", "0".to_owned()),
            ("msgtype", c.message_type.clone()),
        ] {
            if !v.is_empty() {
                m.insert(k.into(), json!(v));
            }
        }
        m.insert("markdown".into(), json!({ "content": markdown }));
        Ok(Value::Object(m))
    }

    async fn access_token(&self, data: &gotmpl::Value) -> Result<String, NotifyError> {
        if let Ok(guard) = self.token.lock() {
            if let Some((tok, at)) = guard.as_ref() {
                if at.elapsed() < TOKEN_LIFETIME {
                    return Ok(tok.clone());
                }
            }
        }
        let secret = render(&self.base.templates, "api_secret", &self.secret, data)?;
        let corp_id = render(&self.base.templates, "corp_id", &self.corp_id, data)?;
        let url = reqwest::Url::parse_with_params(
            &format!("{}gettoken", self.api_url),
            [
                ("corpid", corp_id.as_str()),
                ("corpsecret", secret.as_str()),
            ],
        )
        .map_err(|e| NotifyError::permanent(format!("wechat url: {e}")))?;
        let body = self.base.client.get_json(url.as_str()).await?;
        let tok = body["access_token"].as_str().unwrap_or_default().to_owned();
        if tok.is_empty() {
            return Err(NotifyError::retryable(format!(
                "invalid APISecret for CorpID: {corp_id}"
            )));
        }
        if let Ok(mut guard) = self.token.lock() {
            *guard = Some((tok.clone(), Instant::now()));
        }
        Ok(tok)
    }
}

#[async_trait]
impl Integration for Wechat {
    type Config = WechatConfig;
    fn base(&self) -> &Base<WechatConfig> {
        &self.base
    }

    async fn send(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let data = ctx.data(alerts).to_value();
        let token = self.access_token(&data).await?;
        let body = self.message(&data)?;
        let url = reqwest::Url::parse_with_params(
            &format!("{}message/send", self.api_url),
            [("access_token", token.as_str())],
        )
        .map_err(|e| NotifyError::permanent(format!("wechat url: {e}")))?;
        let resp = self
            .base
            .client
            .post_json_response(url.as_str(), &body)
            .await?;
        match resp["errcode"].as_i64().unwrap_or(0) {
            0 => Ok(()),
            TOKEN_EXPIRED => {
                if let Ok(mut guard) = self.token.lock() {
                    *guard = None;
                }
                Err(NotifyError::retryable(
                    resp["errmsg"].as_str().unwrap_or("access token expired"),
                ))
            }
            code => Err(NotifyError::permanent(format!(
                "wechat error {code}: {}",
                resp["errmsg"].as_str().unwrap_or("")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{build, ctx, sample_alerts};
    use crate::notify::testserver::TestServer;
    use crate::notify::Notifier;

    #[tokio::test]
    async fn token_then_message() {
        let mut srv = TestServer::start().await;
        *srv.body.lock().unwrap() = r#"{"errcode":0,"access_token":"tok1"}"#.into();
        let cfg: WechatConfig = serde_saphyr::from_str(&format!(
            "api_url: '{}/cgi-bin/'\ncorp_id: corp\napi_secret: sec\nto_party: '2'\nagent_id: '1000002'",
            srv.url
        ))
        .unwrap();
        let n = build(&cfg, Wechat::new);
        n.notify(&ctx(), &sample_alerts()).await.unwrap();
        let get = srv.next().await;
        assert_eq!(get.method, "GET");
        assert_eq!(get.path, "/cgi-bin/gettoken?corpid=corp&corpsecret=sec");
        let post = srv.next().await;
        assert_eq!(post.path, "/cgi-bin/message/send?access_token=tok1");
        let body = post.json();
        // Empty recipients are left out, as Go's omitempty does.
        assert!(body.get("touser").is_none());
        assert_eq!(body["toparty"], "2");
        assert_eq!(body["agentid"], "1000002");
        assert_eq!(body["msgtype"], "text");
        assert_eq!(body["safe"], "0");
        assert_eq!(body["markdown"], json!({"content": ""}));
        assert!(body["text"]["content"]
            .as_str()
            .unwrap()
            .starts_with("[FIRING:1] Disk (api)"));
        // The token is reused; an error code in the body fails the send.
        *srv.body.lock().unwrap() = r#"{"errcode":40014,"errmsg":"invalid access_token"}"#.into();
        let e = n.notify(&ctx(), &sample_alerts()).await.unwrap_err();
        assert!(!e.retryable && e.message.contains("40014"), "{e}");
        assert_eq!(
            srv.next().await.path,
            "/cgi-bin/message/send?access_token=tok1"
        );
    }
}
