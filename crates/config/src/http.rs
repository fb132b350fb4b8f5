//! Prometheus common's HTTP client settings (`HTTPClientConfig`), read once
//! for every peer that embeds them.
//!
//! Prometheus's scrape and alerting configs, blackbox_exporter's http
//! modules and Alertmanager's `http_config` all carry the same block:
//! `basic_auth`, `authorization`, `bearer_token(_file)`, `tls_config`,
//! proxies, `follow_redirects`, `enable_http2`, `oauth2`. Their peers (the
//! Debian builds run in our tests) share one version of that code, so they
//! accept the same keys and refuse a file with the same words:
//! [`HttpClientConfig::validate`] checks in their order with their texts.
//!
//! Where Sightline's readers differ, the difference is an argument, not a
//! copy: which keys a reader refuses ([`HttpClientConfig::refuse_keys`]),
//! how it words a file it cannot read (the closure given to
//! [`HttpClientConfig::authorization_header`]), and how it turns
//! `tls_config` into rustls ([`crate::tls::TlsOptions`]).
//!
//! Alertmanager nests the block under `http_config:`, so
//! [`HttpClientConfig`] deserializes on its own; Prometheus and blackbox
//! write it inline among their own keys, which [`inline_http_client_config!`]
//! adds to their structs.

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::Error;

/// A credential (password, token, URL with a key): `Debug` and
/// serialization show `<secret>`, never the value, so configs can be
/// logged and shown.
#[derive(Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    /// The secret's value.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty (Prometheus treats an empty secret as unset).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Prometheus shows `<secret>` in /api/v1/status/config as well.
        s.serialize_str("<secret>")
    }
}

/// `basic_auth`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// File holding the user name (newer Prometheus).
    pub username_file: Option<String>,
    /// Password, inline.
    pub password: Option<Secret>,
    /// File holding the password, re-read for every request.
    pub password_file: Option<String>,
}

/// `authorization`: an `Authorization: <type> <credentials>` header.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Authorization {
    /// The scheme, `Bearer` by default.
    #[serde(rename = "type")]
    pub kind: String,
    /// Credentials, inline.
    pub credentials: Option<Secret>,
    /// File holding the credentials, re-read for every request.
    pub credentials_file: Option<String>,
}

impl Default for Authorization {
    fn default() -> Self {
        Authorization {
            kind: "Bearer".into(),
            credentials: None,
            credentials_file: None,
        }
    }
}

impl Authorization {
    /// The scheme sent: the `type` trimmed, `Bearer` when that leaves nothing
    /// (as Prometheus's `Validate` rewrites it).
    pub fn scheme(&self) -> &str {
        match self.kind.trim() {
            "" => "Bearer",
            k => k,
        }
    }
}

/// `tls_config`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// CA certificates (PEM file) to verify the server with, instead of the
    /// system roots.
    pub ca_file: Option<String>,
    /// CA certificates inline (newer Prometheus).
    pub ca: Option<String>,
    /// Client certificate (PEM file).
    pub cert_file: Option<String>,
    /// Client certificate inline.
    pub cert: Option<String>,
    /// Client key (PEM file).
    pub key_file: Option<String>,
    /// Client key inline.
    pub key: Option<Secret>,
    /// Name to verify the server certificate against (and send as SNI).
    pub server_name: Option<String>,
    /// Accept any server certificate.
    pub insecure_skip_verify: bool,
    /// `TLS10`..`TLS13`.
    pub min_version: Option<String>,
    /// `TLS10`..`TLS13` (newer Prometheus).
    pub max_version: Option<String>,
}

/// Prometheus common's `HTTPClientConfig`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpClientConfig {
    /// `Authorization: Basic`.
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization: <type> <credentials>`.
    pub authorization: Option<Authorization>,
    /// Accepted so that files load; OAuth 2.0 is not implemented (each
    /// reader warns or refuses, see its page).
    pub oauth2: Option<serde_json::Value>,
    /// Legacy form of `authorization: {credentials: ...}`.
    pub bearer_token: Option<Secret>,
    /// Legacy form of `authorization: {credentials_file: ...}`.
    pub bearer_token_file: Option<String>,
    /// TLS settings for https.
    #[serde(deserialize_with = "null_default")]
    pub tls_config: TlsConfig,
    /// HTTP proxy for every request.
    pub proxy_url: Option<String>,
    /// Hosts that bypass the proxy (comma separated; newer Prometheus).
    pub no_proxy: Option<String>,
    /// Use the `HTTP(S)_PROXY` environment variables (newer Prometheus).
    pub proxy_from_environment: bool,
    /// Headers for the proxy's CONNECT; accepted, not sent.
    pub proxy_connect_header: Option<serde_json::Value>,
    /// Follow 3xx responses.
    pub follow_redirects: bool,
    /// Allow HTTP/2 over TLS.
    pub enable_http2: bool,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            basic_auth: None,
            authorization: None,
            oauth2: None,
            bearer_token: None,
            bearer_token_file: None,
            tls_config: TlsConfig::default(),
            proxy_url: None,
            no_proxy: None,
            proxy_from_environment: false,
            proxy_connect_header: None,
            follow_redirects: true,
            enable_http2: true,
        }
    }
}

/// `key: ~` reads as the key left out.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn set(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.is_empty())
}

fn set_secret(s: &Option<Secret>) -> bool {
    s.as_ref().is_some_and(|s| !s.is_empty())
}

/// An error of [`HttpClientConfig::validate`]: the whole block is named.
fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid {
        field: String::new(),
        message: message.into(),
    }
}

impl HttpClientConfig {
    /// Prometheus common's checks when it loads the block, in its order and
    /// with its words (promtool, amtool and blackbox_exporter print the
    /// same). An empty string counts as unset, as in Go.
    pub fn validate(&self) -> Result<(), Error> {
        let token = set_secret(&self.bearer_token);
        let token_file = set(&self.bearer_token_file);
        let bearer = token || token_file;
        if token && token_file {
            return Err(invalid(
                "at most one of bearer_token & bearer_token_file must be configured",
            ));
        }
        if (self.basic_auth.is_some() || self.oauth2.is_some()) && bearer {
            return Err(invalid(
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
            ));
        }
        if let Some(b) = &self.basic_auth {
            if set_secret(&b.password) && set(&b.password_file) {
                return Err(invalid(
                    "at most one of basic_auth password & password_file must be configured",
                ));
            }
            if !b.username.is_empty() && set(&b.username_file) {
                return Err(invalid(
                    "at most one of basic_auth username & username_file must be configured",
                ));
            }
        }
        if let Some(a) = &self.authorization {
            if bearer {
                return Err(invalid(
                    "authorization is not compatible with bearer_token & bearer_token_file",
                ));
            }
            if set_secret(&a.credentials) && set(&a.credentials_file) {
                return Err(invalid(
                    "at most one of authorization credentials & credentials_file must be configured",
                ));
            }
            if a.scheme().eq_ignore_ascii_case("basic") {
                return Err(invalid(
                    "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
                ));
            }
        }
        let schemes = [
            self.basic_auth.is_some(),
            self.oauth2.is_some(),
            self.authorization.is_some(),
        ];
        if schemes.iter().filter(|s| **s).count() > 1 {
            return Err(invalid(
                "at most one of basic_auth, oauth2 & authorization must be configured",
            ));
        }
        if self.proxy_connect_header.is_some() && !set(&self.proxy_url) {
            return Err(invalid(
                "if proxy_connect_header is configured proxy_url must also be configured",
            ));
        }
        for v in [&self.tls_config.min_version, &self.tls_config.max_version]
            .into_iter()
            .flatten()
        {
            if !matches!(v.as_str(), "TLS10" | "TLS11" | "TLS12" | "TLS13") {
                return Err(invalid(format!("unknown TLS version: {v}")));
            }
        }
        Ok(())
    }

    /// Refuses the block when it sets one of `keys` (paths below the block:
    /// `no_proxy`, `tls_config.ca`, `basic_auth.username_file`), for a
    /// reader that does not implement them; worded as serde words an
    /// unknown key, with the key's path in [`Error::Invalid`]'s `field`.
    pub fn refuse_keys(&self, keys: &[&str]) -> Result<(), Error> {
        let tls = &self.tls_config;
        let basic = self.basic_auth.as_ref();
        for key in keys {
            let present = match *key {
                "oauth2" => self.oauth2.is_some(),
                "no_proxy" => self.no_proxy.is_some(),
                "proxy_url" => set(&self.proxy_url),
                "proxy_from_environment" => self.proxy_from_environment,
                "proxy_connect_header" => self.proxy_connect_header.is_some(),
                "basic_auth.username_file" => basic.is_some_and(|b| b.username_file.is_some()),
                "tls_config.ca" => tls.ca.is_some(),
                "tls_config.cert" => tls.cert.is_some(),
                "tls_config.key" => tls.key.is_some(),
                "tls_config.max_version" => tls.max_version.is_some(),
                other => unreachable!("refuse_keys: {other} is not a key of the block"),
            };
            if present {
                let name = key.rsplit('.').next().unwrap_or(key);
                return Err(Error::Invalid {
                    field: (*key).to_owned(),
                    message: format!("unknown field \"{name}\""),
                });
            }
        }
        Ok(())
    }

    /// The `authorization` to send, folding the legacy `bearer_token(_file)`
    /// keys into it as Prometheus does.
    pub fn effective_authorization(&self) -> Option<Authorization> {
        if let Some(a) = &self.authorization {
            return Some(a.clone());
        }
        if self.bearer_token.is_some() || self.bearer_token_file.is_some() {
            return Some(Authorization {
                kind: "Bearer".into(),
                credentials: self.bearer_token.clone(),
                credentials_file: self.bearer_token_file.clone(),
            });
        }
        None
    }

    /// The `Authorization` header value, if any: `Basic <base64>` for
    /// `basic_auth`, else `<type> <credentials>`. Files are read through
    /// `read` (the whole file, trimmed: each reader words its own errors),
    /// at every call so that rotated credentials are picked up. A non-empty
    /// inline value wins over its file (the two cannot both be set); an
    /// `authorization` with neither sends no header, as Prometheus.
    pub fn authorization_header<E>(
        &self,
        read: impl Fn(&str) -> Result<String, E>,
    ) -> Result<Option<String>, E> {
        let value = |inline: &Option<Secret>, file: &Option<String>| -> Result<Option<String>, E> {
            match (inline, file) {
                (Some(s), _) if !s.is_empty() => Ok(Some(s.expose().to_owned())),
                (_, Some(f)) if !f.is_empty() => read(f).map(Some),
                _ => Ok(None),
            }
        };
        if let Some(b) = &self.basic_auth {
            let user = match &b.username_file {
                Some(f) if !f.is_empty() => read(f)?,
                _ => b.username.clone(),
            };
            let pass = value(&b.password, &b.password_file)?.unwrap_or_default();
            return Ok(Some(format!(
                "Basic {}",
                base64(format!("{user}:{pass}").as_bytes())
            )));
        }
        let Some(a) = self.effective_authorization() else {
            return Ok(None);
        };
        Ok(
            value(&a.credentials, &a.credentials_file)?
                .map(|cred| format!("{} {cred}", a.scheme())),
        )
    }

    /// Resolves every relative `*_file` against `base`, the folder of the
    /// config file (Prometheus's `SetDirectory`). Empty and absolute paths
    /// are kept.
    pub fn set_directory(&mut self, base: &Path) {
        let join = |p: &mut Option<String>| {
            if let Some(p) = p {
                if !p.is_empty() && Path::new(p.as_str()).is_relative() {
                    *p = base.join(&*p).display().to_string();
                }
            }
        };
        join(&mut self.bearer_token_file);
        if let Some(b) = &mut self.basic_auth {
            join(&mut b.username_file);
            join(&mut b.password_file);
        }
        if let Some(a) = &mut self.authorization {
            join(&mut a.credentials_file);
        }
        join(&mut self.tls_config.ca_file);
        join(&mut self.tls_config.cert_file);
        join(&mut self.tls_config.key_file);
    }
}

/// Standard base64 with padding, for `Authorization: Basic`.
fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Adds Prometheus common's HTTP client keys to a struct that writes them
/// inline among its own (a scrape config, blackbox's http module), and a
/// method `http_client_config(&self)` that gathers them into an
/// [`HttpClientConfig`]. serde's `flatten` would do the same, but it loses
/// the field paths and positions that config errors print.
///
/// The struct must derive `Deserialize`, and its own fields end in a comma.
/// The added fields are all optional so that the struct's `Default` (if it
/// has one) sets them to `Default::default()`.
///
/// ```
/// sightline_config::inline_http_client_config! {
///     #[derive(serde::Deserialize, Default)]
///     #[serde(deny_unknown_fields)]
///     struct Job {
///         job_name: String,
///     }
/// }
/// let job: Job = sightline_config::yaml::from_str(
///     "job_name: a\nfollow_redirects: false\nbasic_auth: {username: u}\n",
///     "job.yml",
/// )
/// .unwrap();
/// let http = job.http_client_config();
/// assert!(!http.follow_redirects && http.enable_http2);
/// assert_eq!(http.basic_auth.unwrap().username, "u");
/// ```
#[macro_export]
macro_rules! inline_http_client_config {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($body:tt)*
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($body)*
            #[serde(default)]
            basic_auth: ::std::option::Option<$crate::http::BasicAuth>,
            #[serde(default)]
            authorization: ::std::option::Option<$crate::http::Authorization>,
            #[serde(default)]
            oauth2: ::std::option::Option<$crate::http::JsonValue>,
            #[serde(default)]
            bearer_token: ::std::option::Option<$crate::http::Secret>,
            #[serde(default)]
            bearer_token_file: ::std::option::Option<::std::string::String>,
            #[serde(default)]
            tls_config: ::std::option::Option<$crate::http::TlsConfig>,
            #[serde(default)]
            proxy_url: ::std::option::Option<::std::string::String>,
            #[serde(default)]
            no_proxy: ::std::option::Option<::std::string::String>,
            #[serde(default)]
            proxy_from_environment: ::std::option::Option<bool>,
            #[serde(default)]
            proxy_connect_header: ::std::option::Option<$crate::http::JsonValue>,
            #[serde(default)]
            follow_redirects: ::std::option::Option<bool>,
            #[serde(default)]
            enable_http2: ::std::option::Option<bool>,
        }

        impl $name {
            /// The inline HTTP client settings, defaults filled in.
            #[allow(dead_code)]
            $vis fn http_client_config(&self) -> $crate::http::HttpClientConfig {
                $crate::http::HttpClientConfig {
                    basic_auth: self.basic_auth.clone(),
                    authorization: self.authorization.clone(),
                    oauth2: self.oauth2.clone(),
                    bearer_token: self.bearer_token.clone(),
                    bearer_token_file: self.bearer_token_file.clone(),
                    tls_config: self.tls_config.clone().unwrap_or_default(),
                    proxy_url: self.proxy_url.clone(),
                    no_proxy: self.no_proxy.clone(),
                    proxy_from_environment: self.proxy_from_environment.unwrap_or(false),
                    proxy_connect_header: self.proxy_connect_header.clone(),
                    follow_redirects: self.follow_redirects.unwrap_or(true),
                    enable_http2: self.enable_http2.unwrap_or(true),
                }
            }
        }
    };
}

/// The opaque values of blocks that are accepted but not implemented
/// (`oauth2`, `proxy_connect_header`), named for [`inline_http_client_config!`].
pub type JsonValue = serde_json::Value;

#[cfg(test)]
mod tests;
