//! Amazon SNS `Publish` over the AWS query protocol, signed with AWS
//! Signature Version 4, with the parameters Alertmanager 0.25 sends
//! (topic, target or phone number, subject, message, message attributes;
//! FIFO topics get the group key's SHA-256 as deduplication and group id).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ring::{digest, hmac};

use super::pagerduty::group_key_hash;
use super::{render, Base, Integration, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{GlobalConfig, SnsConfig};
use crate::template::Templates;

/// SNS's limits: 256 KiB per message, 1600 for SMS.
const MAX_MESSAGE_BYTES: usize = 256 * 1024;
const MAX_SMS_BYTES: usize = 1600;

/// One `sns_configs` entry.
#[derive(Debug)]
pub struct Sns {
    base: Base<SnsConfig>,
    region: String,
    endpoint: String,
}

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `url.Values.Encode` of single-valued parameters: sorted by name.
pub fn encode_form(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac_sha256(key: &[u8], data: &str) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
        .as_ref()
        .to_vec()
}

/// Who signs, and for which region and service.
#[derive(Debug, Clone, Copy)]
pub struct SigningKey<'a> {
    pub region: &'a str,
    pub service: &'a str,
    pub access_key: &'a str,
    pub secret_key: &'a str,
}

/// An AWS Signature Version 4 for a request with an empty query string and
/// path `/`: returns the `Authorization` header value. `headers` are the
/// signed headers (lower-case names), `amz_date` is `YYYYMMDDTHHMMSSZ`.
pub fn sign_v4(
    method: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    amz_date: &str,
    key: &SigningKey,
) -> String {
    let SigningKey {
        region,
        service,
        access_key,
        secret_key,
    } = *key;
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}:{}\n",
                v.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .collect();
    let signed: Vec<&str> = headers.keys().map(String::as_str).collect();
    let signed = signed.join(";");
    let canonical = format!(
        "{method}\n/\n\n{canonical_headers}\n{signed}\n{}",
        hex(digest::digest(&digest::SHA256, body).as_ref())
    );
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let mut key = hmac_sha256(format!("AWS4{secret_key}").as_bytes(), date);
    for part in [region, service, "aws4_request"] {
        key = hmac_sha256(&key, part);
    }
    let signature = hex(&hmac_sha256(&key, &to_sign));
    format!("AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={signature}")
}

/// Cuts `s` to at most `n` bytes on a character boundary.
fn cut_bytes(s: &str, n: usize) -> (String, bool) {
    if s.len() <= n {
        return (s.to_owned(), false);
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (s[..end].to_owned(), true)
}

impl Sns {
    pub fn new(
        index: usize,
        config: &SnsConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<Sns, String> {
        if config.sigv4.profile.is_some() || config.sigv4.role_arn.is_some() {
            return Err("sigv4 profile and role_arn are not supported by sightline; give access_key and secret_key".into());
        }
        let region = config
            .sigv4
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .ok_or("sigv4.region is required (or AWS_REGION)")?;
        let endpoint = config
            .api_url
            .clone()
            .unwrap_or_else(|| format!("https://sns.{region}.amazonaws.com/"));
        Ok(Sns {
            region,
            endpoint,
            base: Base::new(index, config, global, templates)?,
        })
    }

    /// The `Publish` parameters.
    pub fn parameters(
        &self,
        ctx: &NotifyContext,
        data: &gotmpl::Value,
    ) -> Result<BTreeMap<String, String>, NotifyError> {
        let c = &self.base.config;
        let t = |field: &str, text: &str| render(&self.base.templates, field, text, data);
        let mut p = BTreeMap::new();
        p.insert("Action".to_owned(), "Publish".to_owned());
        p.insert("Version".to_owned(), "2010-03-31".to_owned());
        let mut limit = MAX_MESSAGE_BYTES;
        if !c.topic_arn.is_empty() {
            let arn = t("topic_arn", &c.topic_arn)?;
            // FIFO topics need a deduplication id and a message group.
            if arn.ends_with(".fifo") {
                let key = group_key_hash(&ctx.group_key);
                p.insert("MessageDeduplicationId".to_owned(), key.clone());
                p.insert("MessageGroupId".to_owned(), key);
            }
            p.insert("TopicArn".to_owned(), arn);
        }
        if !c.phone_number.is_empty() {
            p.insert(
                "PhoneNumber".to_owned(),
                t("phone_number", &c.phone_number)?,
            );
            limit = MAX_SMS_BYTES;
        }
        if !c.target_arn.is_empty() {
            p.insert("TargetArn".to_owned(), t("target_arn", &c.target_arn)?);
        }
        let mut attributes = BTreeMap::new();
        for (k, v) in &c.attributes {
            attributes.insert(t("attributes", k)?, t(&format!("attributes.{k}"), v)?);
        }
        let (message, truncated) = cut_bytes(&t("message", &c.message)?, limit);
        if truncated {
            attributes.insert("truncated".to_owned(), "true".to_owned());
        }
        p.insert("Message".to_owned(), message);
        for (i, (k, v)) in attributes.iter().enumerate() {
            let e = format!("MessageAttributes.entry.{}", i + 1);
            p.insert(format!("{e}.Name"), k.clone());
            p.insert(format!("{e}.Value.DataType"), "String".to_owned());
            p.insert(format!("{e}.Value.StringValue"), v.clone());
        }
        if !c.subject.is_empty() {
            p.insert("Subject".to_owned(), t("subject", &c.subject)?);
        }
        Ok(p)
    }

    fn credentials(&self) -> Result<(String, String), NotifyError> {
        let s = &self.base.config.sigv4;
        if let (Some(a), Some(k)) = (&s.access_key, &s.secret_key) {
            return Ok((a.clone(), k.expose().to_owned()));
        }
        match (
            std::env::var("AWS_ACCESS_KEY_ID"),
            std::env::var("AWS_SECRET_ACCESS_KEY"),
        ) {
            (Ok(a), Ok(k)) => Ok((a, k)),
            _ => Err(NotifyError::permanent(
                "no AWS credentials: set sigv4.access_key and sigv4.secret_key",
            )),
        }
    }

    /// The signed request's headers for `body` at `now`.
    pub fn signed_headers(
        &self,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, String)>, NotifyError> {
        let (access, secret) = self.credentials()?;
        let url = reqwest::Url::parse(&self.endpoint)
            .map_err(|e| NotifyError::permanent(format!("sns api_url: {e}")))?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => return Err(NotifyError::permanent("sns api_url has no host")),
        };
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let mut h = BTreeMap::new();
        h.insert("content-length".to_owned(), body.len().to_string());
        h.insert(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        );
        h.insert("host".to_owned(), host);
        h.insert("x-amz-date".to_owned(), amz_date.clone());
        let key = SigningKey {
            region: &self.region,
            service: "sns",
            access_key: &access,
            secret_key: &secret,
        };
        let auth = sign_v4("POST", &h, body.as_bytes(), &amz_date, &key);
        Ok(vec![
            ("Content-Type".to_owned(), h["content-type"].clone()),
            ("X-Amz-Date".to_owned(), amz_date),
            ("Authorization".to_owned(), auth),
        ])
    }
}

#[async_trait]
impl Integration for Sns {
    type Config = SnsConfig;
    fn base(&self) -> &Base<SnsConfig> {
        &self.base
    }

    async fn send(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let params = self.parameters(ctx, &ctx.data(alerts).to_value())?;
        let body = encode_form(&params);
        let headers = self.signed_headers(&body, Utc::now())?;
        self.base
            .client
            .post_form(&self.endpoint, body, &headers)
            .await
    }
}

#[cfg(test)]
#[path = "sns_tests.rs"]
mod tests;
