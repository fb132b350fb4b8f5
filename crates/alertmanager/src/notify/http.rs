//! HTTP clients built from `http_config`, and the retry rule every HTTP
//! integration shares: connection errors, 5xx and 429 are worth retrying,
//! other 4xx are not.

use std::time::Duration;

use super::{read_secret_file, NotifyError};
use crate::config::receiver::{validate_http_config, HttpConfig};

/// What Sightline sends as `User-Agent`.
pub const USER_AGENT: &str = concat!("Sightline/", env!("CARGO_PKG_VERSION"));

/// A client with its `http_config` credentials, applied to every request.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    config: HttpConfig,
    timeout: Option<Duration>,
}

impl HttpClient {
    /// Builds a client: TLS settings, proxy and redirect policy are fixed
    /// here; credentials files are read per request.
    pub fn new(config: &HttpConfig, timeout: Option<Duration>) -> Result<HttpClient, String> {
        // reqwest is built without a crypto provider; install ring's once per
        // process (a second install fails harmlessly).
        let _ = rustls::crypto::ring::default_provider().install_default();
        if config.oauth2.is_some() {
            return Err("http_config.oauth2 is not supported by sightline".into());
        }
        validate_http_config(config)?;
        let tls = &config.tls_config;
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(USER_AGENT)
            .danger_accept_invalid_certs(tls.insecure_skip_verify);
        b = b.redirect(if config.follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        });
        if let Some(ca) = &tls.ca_file {
            let pem = std::fs::read(ca).map_err(|e| format!("reading ca_file {ca}: {e}"))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("ca_file {ca}: {e}"))?
            {
                b = b.add_root_certificate(cert);
            }
        }
        match (&tls.cert_file, &tls.key_file) {
            (Some(c), Some(k)) => {
                let mut pem =
                    std::fs::read(c).map_err(|e| format!("reading cert_file {c}: {e}"))?;
                pem.push(b'\n');
                pem.extend(std::fs::read(k).map_err(|e| format!("reading key_file {k}: {e}"))?);
                let id = reqwest::Identity::from_pem(&pem)
                    .map_err(|e| format!("cert_file/key_file: {e}"))?;
                b = b.identity(id);
            }
            (None, None) => {}
            _ => return Err("exactly one of key_file and cert_file given: both are needed".into()),
        }
        if let Some(v) = &tls.min_version {
            let v = match v.as_str() {
                "TLS13" => reqwest::tls::Version::TLS_1_3,
                _ => reqwest::tls::Version::TLS_1_2,
            };
            b = b.min_tls_version(v);
        }
        if let Some(p) = &config.proxy_url {
            b = b.proxy(reqwest::Proxy::all(p).map_err(|e| format!("proxy_url: {e}"))?);
        }
        let client = b
            .build()
            .map_err(|e| format!("building http client: {e}"))?;
        Ok(HttpClient {
            client,
            config: config.clone(),
            timeout,
        })
    }

    /// POSTs `body` as JSON to `url` and classifies the outcome.
    pub async fn post_json<T: serde::Serialize + ?Sized>(
        &self,
        url: &str,
        body: &T,
    ) -> Result<(), NotifyError> {
        self.send_json(reqwest::Method::POST, url, body, &[]).await
    }

    /// GETs `url` and returns its JSON body (WeChat's token endpoint).
    pub async fn get_json(&self, url: &str) -> Result<serde_json::Value, NotifyError> {
        let mut req = self.client.get(url);
        if let Some(t) = self.timeout {
            req = req.timeout(t);
        }
        req = self.authorize(req)?;
        let resp = req.send().await.map_err(|e| send_error(url, e))?;
        json_body(resp).await
    }

    /// POSTs `body` as JSON and returns the JSON answer, for services that
    /// report errors inside a 200 response (WeChat).
    pub async fn post_json_response<T: serde::Serialize + ?Sized>(
        &self,
        url: &str,
        body: &T,
    ) -> Result<serde_json::Value, NotifyError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| NotifyError::permanent(format!("encoding request: {e}")))?;
        let mut req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes);
        if let Some(t) = self.timeout {
            req = req.timeout(t);
        }
        req = self.authorize(req)?;
        let resp = req.send().await.map_err(|e| send_error(url, e))?;
        json_body(resp).await
    }

    /// POSTs an already encoded form `body` with the given headers (the
    /// SigV4-signed SNS request: the headers must be sent as signed).
    pub async fn post_form(
        &self,
        url: &str,
        body: String,
        headers: &[(String, String)],
    ) -> Result<(), NotifyError> {
        let mut req = self.client.post(url).body(body);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(t) = self.timeout {
            req = req.timeout(t);
        }
        let resp = req.send().await.map_err(|e| send_error(url, e))?;
        check_status(resp).await
    }

    /// POSTs a plain-text `body` (Pushover takes its parameters in the URL).
    pub async fn post_text(&self, url: &str, body: &str) -> Result<(), NotifyError> {
        let mut req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "text/plain")
            .body(body.to_owned());
        if let Some(t) = self.timeout {
            req = req.timeout(t);
        }
        req = self.authorize(req)?;
        let resp = req.send().await.map_err(|e| send_error(url, e))?;
        check_status(resp).await
    }

    /// Sends `body` as JSON with `method` and extra `headers`, and
    /// classifies the outcome.
    pub async fn send_json<T: serde::Serialize + ?Sized>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: &T,
        headers: &[(&str, String)],
    ) -> Result<(), NotifyError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| NotifyError::permanent(format!("encoding request: {e}")))?;
        let mut req = self
            .client
            .request(method, url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes);
        if let Some(t) = self.timeout {
            req = req.timeout(t);
        }
        req = self.authorize(req)?;
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.map_err(|e| send_error(url, e))?;
        check_status(resp).await
    }

    fn authorize(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, NotifyError> {
        // Files are read per request so that a rotated secret is picked up.
        let Some(value) = self.config.authorization_header(read_secret_file)? else {
            return Ok(req);
        };
        Ok(req.header(reqwest::header::AUTHORIZATION, value))
    }
}

/// A 2xx response's JSON body; other statuses as [`check_status`] says.
async fn json_body(resp: reqwest::Response) -> Result<serde_json::Value, NotifyError> {
    if !resp.status().is_success() {
        check_status(resp).await?;
        return Ok(serde_json::Value::Null);
    }
    let text = resp
        .text()
        .await
        .map_err(|e| NotifyError::retryable(format!("reading response: {e}")))?;
    serde_json::from_str(&text).map_err(|e| {
        NotifyError::retryable(format!(
            "response is not JSON ({e}): {}",
            text.chars().take(200).collect::<String>()
        ))
    })
}

/// Connection problems and time-outs may pass; a malformed URL will not.
fn send_error(url: &str, e: reqwest::Error) -> NotifyError {
    let msg = format!("sending to {}: {e}", redact(url));
    if e.is_builder() {
        NotifyError::permanent(msg)
    } else {
        NotifyError::retryable(msg)
    }
}

/// Hides a URL's path and query in messages: Slack and Teams URLs carry
/// their token there.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!("{}://{}/<redacted>", u.scheme(), u.host_str().unwrap_or("")),
        Err(_) => "<redacted url>".into(),
    }
}

/// Success for 2xx; 5xx and 429 retryable; every other status permanent.
/// The message carries the start of the response body, which is where
/// Slack and PagerDuty say what was wrong.
pub async fn check_status(resp: reqwest::Response) -> Result<(), NotifyError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let body = resp.text().await.unwrap_or_default();
    let snippet: String = body.chars().take(1024).collect();
    let msg = format!(
        "unexpected status code {}: {}",
        status.as_u16(),
        snippet.trim()
    );
    if status.is_server_error() || status.as_u16() == 429 {
        Err(NotifyError::retryable(msg))
    } else {
        Err(NotifyError::permanent(msg))
    }
}
