//! A rustls client configuration for `tls_config.server_name`: certificates
//! are verified against the configured name instead of the URL's host (for
//! targets scraped by IP address whose certificates name a host).

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::RootCertStore;
use sightline_config::tls::{self, BuildError, ClientSettings, ServerVerify, TlsVersion};

/// What a job's `tls_config` asks for.
pub(crate) struct TlsSettings<'a> {
    /// PEM CA bundle; the system's roots when absent.
    pub ca: Option<&'a [u8]>,
    /// PEM client certificate chain and key.
    pub identity: Option<(&'a [u8], &'a [u8])>,
    pub server_name: &'a str,
    pub insecure_skip_verify: bool,
    pub min_version: Option<&'a str>,
    pub max_version: Option<&'a str>,
    pub http2: bool,
}

/// Builds the configuration; errors say which part is unusable.
pub(crate) fn client_config(s: &TlsSettings<'_>) -> Result<rustls::ClientConfig, String> {
    let name = ServerName::try_from(s.server_name.to_owned())
        .map_err(|e| format!("invalid tls_config server_name {:?}: {e}", s.server_name))?;
    let mut roots = RootCertStore::empty();
    match s.ca {
        Some(pem) => {
            // Every certificate must be usable, not just the parsable ones.
            for c in CertificateDer::pem_slice_iter(pem) {
                let c = c.map_err(|e| format!("invalid CA certificate: {e}"))?;
                roots
                    .add(c)
                    .map_err(|e| format!("invalid CA certificate: {e}"))?;
            }
        }
        None => {
            roots.add_parsable_certificates(tls::load_system_roots());
        }
    }
    // The config check admits TLS10..TLS13 only; anything else would count
    // as the newest.
    let version = |v: &str| TlsVersion::parse(v).unwrap_or(TlsVersion::Tls13);
    let versions = tls::protocol_versions(s.min_version.map(version), s.max_version.map(version));
    if versions.is_empty() {
        return Err("tls_config allows no TLS version that is supported (TLS 1.2, 1.3)".into());
    }
    let verify = if s.insecure_skip_verify {
        ServerVerify::AcceptAny
    } else {
        ServerVerify::RootsFor(roots, name)
    };
    let identity = match s.identity {
        Some((cert, key)) => Some((
            tls::pem_certs(cert).map_err(|e| format!("invalid client certificate: {e}"))?,
            PrivateKeyDer::from_pem_slice(key).map_err(|e| format!("invalid client key: {e}"))?,
        )),
        None => None,
    };
    let alpn = if s.http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    ClientSettings {
        versions,
        verify,
        identity,
        alpn,
    }
    .build()
    .map_err(|e| match e {
        BuildError::Versions(e) => format!("tls config: {e}"),
        BuildError::Identity(e) => format!("invalid client certificate or key: {e}"),
        BuildError::Verifier(e) => format!("cannot verify certificates: {e}"),
    })
}
