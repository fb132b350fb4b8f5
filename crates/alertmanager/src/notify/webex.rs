//! Webex: a Markdown message to a room, authorised by the bot token in
//! `http_config.authorization`, as Alertmanager 0.25 sends it.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::integration::api_url;
use super::{render, Base, Integration, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{GlobalConfig, WebexConfig};
use crate::template::Templates;

/// Webex refuses longer messages; Alertmanager cuts them to this many bytes.
const MAX_MESSAGE_BYTES: usize = 7439;

/// One `webex_configs` entry.
#[derive(Debug)]
pub struct Webex {
    base: Base<WebexConfig>,
    url: String,
}

/// Cuts `s` to at most `n` bytes on a character boundary, the end marked
/// with "…" (Alertmanager's `TruncateInBytes`).
pub fn truncate_bytes(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_owned();
    }
    let ell = "…";
    let mut end = n.saturating_sub(ell.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ell}", &s[..end])
}

impl Webex {
    pub fn new(
        index: usize,
        config: &WebexConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<Webex, String> {
        Ok(Webex {
            url: api_url(&config.api_url, &global.webex_api_url, false),
            base: Base::new(index, config, global, templates)?,
        })
    }

    pub fn message(&self, data: &gotmpl::Value) -> Result<Value, NotifyError> {
        let text = render(
            &self.base.templates,
            "message",
            &self.base.config.message,
            data,
        )?;
        Ok(json!({
            "markdown": truncate_bytes(&text, MAX_MESSAGE_BYTES),
            "roomId": self.base.config.room_id,
        }))
    }
}

#[async_trait]
impl Integration for Webex {
    type Config = WebexConfig;
    fn base(&self) -> &Base<WebexConfig> {
        &self.base
    }

    async fn send(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let body = self.message(&ctx.data(alerts).to_value())?;
        self.base.client.post_json(&self.url, &body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{build, ctx, sample_alerts};
    use crate::notify::testserver::TestServer;
    use crate::notify::Notifier;

    #[tokio::test]
    async fn markdown_to_room_with_bearer_token() {
        let mut srv = TestServer::start().await;
        let cfg: WebexConfig = serde_saphyr::from_str(&format!(
            "api_url: '{}/v1/messages'\nroom_id: room1\nhttp_config: {{authorization: {{credentials: tok}}}}",
            srv.url
        ))
        .unwrap();
        let n = build(&cfg, Webex::new);
        n.notify(&ctx(), &sample_alerts()).await.unwrap();
        let req = srv.next().await;
        assert_eq!(req.path, "/v1/messages");
        assert_eq!(req.headers["authorization"], "Bearer tok");
        let body = req.json();
        assert_eq!(body["roomId"], "room1");
        let md = body["markdown"].as_str().unwrap();
        assert!(
            md.starts_with("[FIRING:1] Disk (api)\n\nFiring (1):\n"),
            "{md}"
        );
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        assert_eq!(truncate_bytes("abc", 3), "abc");
        // "…" is 3 bytes: 2 + 3 = 5 fits, "é" (2 bytes) at 2..4 would not.
        assert_eq!(truncate_bytes("abécd", 5), "ab…");
        assert_eq!(truncate_bytes("abcdefg", 6), "abc…");
    }
}
