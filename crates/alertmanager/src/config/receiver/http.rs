//! `http_config`: the common subset of Prometheus's HTTP client settings that
//! receivers use (basic auth, bearer authorization, TLS, proxy, redirects).

use serde::Deserialize;

use super::{check_secret_source, Secret};

config_block! {
    /// An `http_config` block, as in Prometheus's `common/config.HTTPClientConfig`.
    pub struct HttpConfig {
        pub basic_auth: Option<BasicAuth>,
        pub authorization: Option<Authorization>,
        /// Legacy form of `authorization: {credentials: ...}`.
        pub bearer_token: Option<Secret>,
        pub bearer_token_file: Option<String>,
        pub tls_config: TlsConfig,
        pub proxy_url: Option<String>,
        pub follow_redirects: bool = true,
        /// Accepted for compatibility; the client negotiates HTTP/2 by ALPN anyway.
        pub enable_http2: bool = true,
        /// Parsed so files load; building a notifier with OAuth 2 fails with a clear error.
        pub oauth2: Option<serde_json::Value>,
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

config_block! {
    /// `authorization`: an `Authorization: <type> <credentials>` header.
    pub struct Authorization {
        #[serde(rename = "type")]
        pub kind: String = "Bearer".into(),
        pub credentials: Option<Secret>,
        pub credentials_file: Option<String>,
    }
}

config_block! {
    /// `tls_config`: how the client checks the server and identifies itself.
    pub struct TlsConfig {
        pub ca_file: Option<String>,
        pub cert_file: Option<String>,
        pub key_file: Option<String>,
        pub server_name: Option<String>,
        pub insecure_skip_verify: bool,
        /// `TLS12` or `TLS13`.
        pub min_version: Option<String>,
    }
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
