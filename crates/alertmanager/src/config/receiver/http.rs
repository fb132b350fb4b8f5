//! `http_config`: Prometheus common's HTTP client settings
//! ([`sightline_config::HttpClientConfig`]), with what Sightline's receivers
//! do not implement refused at load time.

pub use sightline_config::http::{Authorization, BasicAuth, HttpClientConfig, TlsConfig};

/// An `http_config` block, as in Prometheus's `common/config.HTTPClientConfig`.
pub type HttpConfig = HttpClientConfig;

/// Keys the receivers' client does not implement: refused as unknown, as
/// they were before the settings were shared (issue 13). amtool accepts
/// `proxy_connect_header` and `tls_config.max_version`; the others it
/// refuses as well.
const NOT_IMPLEMENTED: &[&str] = &[
    "no_proxy",
    "proxy_from_environment",
    "proxy_connect_header",
    "basic_auth.username_file",
    "tls_config.ca",
    "tls_config.cert",
    "tls_config.key",
    "tls_config.max_version",
];

/// Checks what Alertmanager checks when it loads the block (one way to
/// authenticate, one source per secret, a parsable `proxy_url`), after
/// refusing the keys the receivers do not implement.
pub fn validate_http_config(h: &HttpConfig) -> Result<(), String> {
    h.refuse_keys(NOT_IMPLEMENTED)
        .and_then(|()| h.validate())
        .map_err(|e| e.to_string())?;
    if let Some(p) = &h.proxy_url {
        reqwest::Url::parse(p).map_err(|e| format!("invalid proxy_url {p:?}: {e}"))?;
    }
    Ok(())
}
