//! `http_config`: the common subset of Prometheus's HTTP client settings that
//! receivers use (basic auth, bearer authorization, TLS, proxy, redirects).

use serde::Deserialize;

use super::{check_secret_source, Secret};

/// An `http_config` block, as in Prometheus's `common/config.HTTPClientConfig`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    #[serde(default)]
    pub authorization: Option<Authorization>,
    /// Legacy form of `authorization: {credentials: ...}`.
    #[serde(default)]
    pub bearer_token: Option<Secret>,
    #[serde(default)]
    pub bearer_token_file: Option<String>,
    #[serde(default)]
    pub tls_config: TlsConfig,
    #[serde(default)]
    pub proxy_url: Option<String>,
    #[serde(default = "default_true")]
    pub follow_redirects: bool,
    /// Accepted for compatibility; the client negotiates HTTP/2 by ALPN anyway.
    #[serde(default = "default_true")]
    pub enable_http2: bool,
    /// Parsed so files load; building a notifier with OAuth 2 fails with a clear error.
    #[serde(default)]
    pub oauth2: Option<serde_json::Value>,
}

fn default_true() -> bool {
    true
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            basic_auth: None,
            authorization: None,
            bearer_token: None,
            bearer_token_file: None,
            tls_config: TlsConfig::default(),
            proxy_url: None,
            follow_redirects: true,
            enable_http2: true,
            oauth2: None,
        }
    }
}

/// `basic_auth`: a username with a password given inline or in a file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    #[serde(default)]
    pub password: Option<Secret>,
    #[serde(default)]
    pub password_file: Option<String>,
}

/// `authorization`: an `Authorization: <type> <credentials>` header.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    #[serde(default = "default_auth_type", rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub credentials: Option<Secret>,
    #[serde(default)]
    pub credentials_file: Option<String>,
}

fn default_auth_type() -> String {
    "Bearer".into()
}

/// `tls_config`: how the client checks the server and identifies itself.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default)]
    pub cert_file: Option<String>,
    #[serde(default)]
    pub key_file: Option<String>,
    #[serde(default)]
    pub server_name: Option<String>,
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// `TLS12` or `TLS13`.
    #[serde(default)]
    pub min_version: Option<String>,
}

impl HttpConfig {
    /// Checks what Prometheus checks when it loads the block: one way to
    /// authenticate, one source per secret.
    pub fn validate(&self) -> Result<(), String> {
        let bearer = self.bearer_token.is_some() || self.bearer_token_file.is_some();
        check_secret_source(
            "bearer_token",
            self.bearer_token.is_some(),
            self.bearer_token_file.is_some(),
            false,
        )?;
        let auth_count = [
            self.basic_auth.is_some(),
            self.authorization.is_some() || bearer,
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if auth_count > 1 {
            return Err("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured".into());
        }
        if self.authorization.is_some() && bearer {
            return Err(
                "authorization is not compatible with bearer_token & bearer_token_file".into(),
            );
        }
        if let Some(b) = &self.basic_auth {
            if b.password.is_some() && b.password_file.is_some() {
                return Err(
                    "at most one of basic_auth password & password_file must be configured".into(),
                );
            }
        }
        if let Some(a) = &self.authorization {
            if a.credentials.is_some() && a.credentials_file.is_some() {
                return Err("at most one of authorization credentials & credentials_file must be configured".into());
            }
            if a.kind.eq_ignore_ascii_case("basic") {
                return Err(
                    "authorization type cannot be set to \"basic\", use \"basic_auth\" instead"
                        .into(),
                );
            }
        }
        if let Some(v) = &self.tls_config.min_version {
            if !matches!(v.as_str(), "TLS10" | "TLS11" | "TLS12" | "TLS13") {
                return Err(format!("unknown TLS version: {v}"));
            }
        }
        if let Some(p) = &self.proxy_url {
            reqwest::Url::parse(p).map_err(|e| format!("invalid proxy_url {p:?}: {e}"))?;
        }
        Ok(())
    }
}
