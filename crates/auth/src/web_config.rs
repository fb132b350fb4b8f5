//! Prometheus's web configuration file, as exporter-toolkit reads it.
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt
//!   key_file: server.key
//!   client_auth_type: RequireAndVerifyClientCert
//!   client_ca_file: ca.crt
//!   min_version: TLS12
//! http_server_config:
//!   headers:
//!     X-Frame-Options: deny
//! basic_auth_users:
//!   alice: $2y$10$...   # bcrypt
//! ```
//!
//! Unknown keys are refused (exporter-toolkit reads the file strictly), and
//! so are the values it refuses: headers outside its list, enumerated header
//! values, unknown TLS versions, ciphers and curves, client auth types,
//! passwords that are not bcrypt hashes, a client CA without a client auth
//! type. Relative paths are relative to the file's folder.

use crate::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    tls_server_config: Option<RawTls>,
    #[serde(default)]
    http_server_config: Option<RawHttp>,
    #[serde(default)]
    basic_auth_users: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    #[serde(default)]
    cert_file: String,
    #[serde(default)]
    key_file: String,
    #[serde(default)]
    client_auth_type: String,
    #[serde(default)]
    client_ca_file: String,
    #[serde(default)]
    cipher_suites: Vec<String>,
    #[serde(default)]
    curve_preferences: Vec<String>,
    #[serde(default)]
    min_version: Option<String>,
    #[serde(default)]
    max_version: Option<String>,
    /// Go honours it only for TLS 1.2 and below; rustls always prefers its
    /// own order, which is the secure one. Read and otherwise ignored.
    #[serde(default)]
    #[allow(dead_code)]
    prefer_server_cipher_suites: Option<bool>,
    #[serde(default)]
    client_allowed_sans: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    #[serde(default)]
    http2: Option<bool>,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
}

/// The headers exporter-toolkit lets a web config set, with the values it
/// allows where it restricts them (an empty list: any value).
const HEADERS: &[(&str, &[&str])] = &[
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

/// How a client's certificate is asked for and checked (Go's
/// `tls.ClientAuthType`, under the names exporter-toolkit reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `NoClientCert` (or empty): none asked for.
    None,
    /// `RequestClientCert`: asked for, not required, not checked.
    Request,
    /// `RequireAnyClientCert` (or `RequireClientCert`): required, not checked
    /// against a CA.
    RequireAny,
    /// `VerifyClientCertIfGiven`: checked against the CA when given.
    VerifyIfGiven,
    /// `RequireAndVerifyClientCert`: required and checked against the CA.
    RequireAndVerify,
}

impl ClientAuth {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "" | "NoClientCert" => ClientAuth::None,
            "RequestClientCert" => ClientAuth::Request,
            "RequireAnyClientCert" | "RequireClientCert" => ClientAuth::RequireAny,
            "VerifyClientCertIfGiven" => ClientAuth::VerifyIfGiven,
            "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerify,
            _ => return None,
        })
    }
}

/// A TLS protocol version as the file names it.
pub use sightline_config::tls::TlsVersion;

/// `tls_server_config`, checked; paths anchored at the file's folder.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// The server's certificate chain (PEM).
    pub cert_file: PathBuf,
    /// Its private key (PEM).
    pub key_file: PathBuf,
    /// How clients' certificates are asked for.
    pub client_auth: ClientAuth,
    /// The CAs client certificates are checked against.
    pub client_ca_file: Option<PathBuf>,
    /// Oldest version spoken (default TLS 1.2).
    pub min_version: TlsVersion,
    /// Newest version spoken (default TLS 1.3).
    pub max_version: TlsVersion,
    /// Go's cipher suite names, TLS 1.2 only (Go ignores them for 1.3).
    pub cipher_suites: Vec<String>,
    /// Key exchange groups by Go's names.
    pub curve_preferences: Vec<String>,
    /// A client certificate must name one of these (DNS name or IP).
    pub client_allowed_sans: Option<Vec<String>>,
}

/// A web configuration file, read and checked (certificates not yet read:
/// see [`crate::tls::server_config`]).
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// `tls_server_config`, when it asks for TLS.
    pub tls: Option<TlsSettings>,
    /// `http_server_config.http2` (default true): offer h2 over TLS.
    pub http2: bool,
    /// `http_server_config.headers`, added to every response.
    pub headers: Vec<(String, String)>,
    /// `basic_auth_users`: user → bcrypt hash.
    pub users: BTreeMap<String, String>,
}

impl WebConfig {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<WebConfig> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.display().to_string(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        Self::parse(&text, &path.display().to_string(), base)
    }

    /// Checks `text`, the content of `file`, whose relative paths are
    /// relative to `base`.
    pub fn parse(text: &str, file: &str, base: &Path) -> Result<WebConfig> {
        let raw: RawFile = if text.trim().is_empty() {
            RawFile::default()
        } else {
            sightline_config::yaml::from_str(text, file)
                .map_err(|e| Error::Invalid(e.message().to_string()))?
        };
        let at = |path: &str, msg: String| {
            Error::Invalid(sightline_config::yaml::locate(text, file, path, &msg))
        };
        let http = raw.http_server_config.unwrap_or_default();
        let headers: Vec<(String, String)> = http.headers.unwrap_or_default().into_iter().collect();
        for (k, v) in &headers {
            let field = format!("http_server_config.headers.{k}");
            let Some((_, allowed)) = HEADERS.iter().find(|(h, _)| h == k) else {
                return Err(at(
                    &field,
                    format!("HTTP header {k:?} can not be configured"),
                ));
            };
            if !allowed.is_empty() && !allowed.contains(&v.as_str()) {
                return Err(at(
                    &field,
                    format!("invalid value for {k}. Expected one of: {allowed:?}, but got: {v:?}"),
                ));
            }
        }
        let users = raw.basic_auth_users.unwrap_or_default();
        for (user, hash) in &users {
            if let Err(e) = hash.parse::<bcrypt::HashParts>() {
                return Err(at(
                    &format!("basic_auth_users.{user}"),
                    format!("not a bcrypt hash: {e}"),
                ));
            }
        }
        let tls = match raw.tls_server_config {
            Some(t) => tls_settings(t, base, &at)?,
            None => None,
        };
        Ok(WebConfig {
            tls,
            http2: http.http2.unwrap_or(true),
            headers,
            users,
        })
    }

    /// The files whose change means the configuration must be read again
    /// (certificates, key, client CA).
    pub fn files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Some(t) = &self.tls {
            out.push(t.cert_file.clone());
            out.push(t.key_file.clone());
            out.extend(t.client_ca_file.clone());
        }
        out
    }
}

/// Go's cipher suites that rustls implements (TLS 1.2 ones; Go ignores the
/// setting for TLS 1.3).
pub(crate) const CIPHERS: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// Suites Go knows but rustls refuses to speak (CBC, RC4, 3DES, RSA key
/// exchange): named in a refusal of their own rather than "unknown".
const GO_ONLY_CIPHERS: &[&str] = &[
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
];

/// Go's curve names that the `ring` provider speaks.
pub(crate) const CURVES: &[&str] = &["CurveP256", "CurveP384", "X25519"];

fn tls_settings(
    t: RawTls,
    base: &Path,
    at: &dyn Fn(&str, String) -> Error,
) -> Result<Option<TlsSettings>> {
    let version = |field: &str, v: &Option<String>, default: TlsVersion| match v {
        None => Ok(default),
        Some(s) => TlsVersion::parse(s).ok_or_else(|| {
            at(
                &format!("tls_server_config.{field}"),
                format!("unknown TLS version: {s}"),
            )
        }),
    };
    let min_version = version("min_version", &t.min_version, TlsVersion::Tls12)?;
    let max_version = version("max_version", &t.max_version, TlsVersion::Tls13)?;
    for (i, c) in t.cipher_suites.iter().enumerate() {
        let field = format!("tls_server_config.cipher_suites[{i}]");
        if GO_ONLY_CIPHERS.contains(&c.as_str()) {
            return Err(at(
                &field,
                format!("cipher {c} is not supported by Sightline (rustls speaks only AEAD suites with forward secrecy)"),
            ));
        }
        if !CIPHERS.contains(&c.as_str()) {
            return Err(at(&field, format!("unknown cipher: {c}")));
        }
    }
    for (i, c) in t.curve_preferences.iter().enumerate() {
        let field = format!("tls_server_config.curve_preferences[{i}]");
        if c == "CurveP521" {
            return Err(at(
                &field,
                "curve CurveP521 is not supported by Sightline (ring has no P-521)".into(),
            ));
        }
        if !CURVES.contains(&c.as_str()) {
            return Err(at(&field, format!("unknown curve: {c}")));
        }
    }
    let enabled = !t.cert_file.is_empty()
        || !t.key_file.is_empty()
        || !t.client_ca_file.is_empty()
        || !t.client_auth_type.is_empty();
    if !enabled {
        return Ok(None);
    }
    if t.cert_file.is_empty() {
        return Err(at("tls_server_config", "missing cert_file".into()));
    }
    if t.key_file.is_empty() {
        return Err(at("tls_server_config", "missing key_file".into()));
    }
    let client_auth = ClientAuth::parse(&t.client_auth_type).ok_or_else(|| {
        at(
            "tls_server_config.client_auth_type",
            format!("invalid ClientAuth: {}", t.client_auth_type),
        )
    })?;
    if !t.client_ca_file.is_empty() && client_auth == ClientAuth::None {
        return Err(at(
            "tls_server_config.client_ca_file",
            "Client CA's have been configured without a Client Auth Policy".into(),
        ));
    }
    if t.client_allowed_sans.is_some()
        && !matches!(
            client_auth,
            ClientAuth::RequireAny | ClientAuth::RequireAndVerify
        )
    {
        return Err(at(
            "tls_server_config.client_allowed_sans",
            "client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert".into(),
        ));
    }
    if min_version > max_version {
        return Err(at(
            "tls_server_config.min_version",
            "min_version is newer than max_version".into(),
        ));
    }
    if max_version < TlsVersion::Tls12 {
        return Err(at(
            "tls_server_config.max_version",
            "TLS versions before 1.2 are not supported by Sightline (rustls)".into(),
        ));
    }
    Ok(Some(TlsSettings {
        cert_file: base.join(&t.cert_file),
        key_file: base.join(&t.key_file),
        client_auth,
        client_ca_file: (!t.client_ca_file.is_empty()).then(|| base.join(&t.client_ca_file)),
        min_version,
        max_version,
        cipher_suites: t.cipher_suites,
        curve_preferences: t.curve_preferences,
        client_allowed_sans: t.client_allowed_sans,
    }))
}

#[cfg(test)]
#[path = "web_config_tests.rs"]
mod tests;
