//! A rustls client configuration for `tls_config.server_name`: certificates
//! are verified against the configured name instead of the URL's host (for
//! targets scraped by IP address whose certificates name a host).

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use sightline_config::tls::{self, BuildError, ClientSettings, ServerVerify, TlsVersion};
use std::sync::Arc;

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
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), tls::provider())
            .build()
            .map_err(|e| format!("cannot verify certificates: {e}"))?;
        ServerVerify::Custom(Arc::new(FixedName { inner, name }))
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
    })
}

/// Verifies with webpki, always against the configured name.
#[derive(Debug)]
struct FixedName {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for FixedName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
