//! rustls client configurations for Go-style `tls_config` blocks.
//!
//! Prometheus's scrape configs (read by `sightline-ingest`),
//! blackbox_exporter's probe modules (read by `sightline-probe`) and
//! Alertmanager's receivers turn a `tls_config` into a rustls
//! [`ClientConfig`]. The pieces they share:
//!
//! - the `ring` crypto provider ([`provider`], [`install_default_provider`]);
//!   we do not build aws-lc (see ARCHITECTURE.md);
//! - the system's trust store ([`load_system_roots`], [`system_roots`]) and
//!   PEM certificate bundles ([`pem_certs`]);
//! - `min_version` / `max_version` as the versions rustls speaks
//!   ([`TlsVersion`], [`protocol_versions`]);
//! - the assembly of the client ([`ClientSettings`]), with the verifier that
//!   accepts any certificate for `insecure_skip_verify`.
//!
//! What differs stays with each caller: where files are read from, the
//! wording of errors (each mirrors its peer), and probe's SNI, ALPN and
//! handshake metrics. Whether the server is checked against the name the
//! connection is made to or a fixed `server_name` is a [`ServerVerify`] choice.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{VerifierBuilderError, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme, SupportedProtocolVersion,
};
use std::sync::{Arc, Once, OnceLock};

/// Installs the `ring` provider as the process default once, for clients
/// that take the default (reqwest built with `rustls-tls-no-provider`).
pub fn install_default_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already: fine,
        // the configurations built here name their provider anyway.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The `ring` provider (and [`install_default_provider`] done).
pub fn provider() -> Arc<CryptoProvider> {
    install_default_provider();
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The system's trust store, read now; certificates that cannot be read are
/// left out, as Go leaves them out of its system pool.
pub fn load_system_roots() -> Vec<CertificateDer<'static>> {
    rustls_native_certs::load_native_certs().certs
}

/// [`load_system_roots`] read once per process, for callers that build a
/// client per connection (Go's `x509.SystemCertPool` is read once as well).
pub fn system_roots() -> Arc<Vec<CertificateDer<'static>>> {
    static ROOTS: OnceLock<Arc<Vec<CertificateDer<'static>>>> = OnceLock::new();
    ROOTS.get_or_init(|| Arc::new(load_system_roots())).clone()
}

/// The certificates of a PEM bundle, in order; other sections (keys) are
/// skipped. An empty result is the caller's to judge.
pub fn pem_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, pem::Error> {
    CertificateDer::pem_slice_iter(pem).collect()
}

/// A TLS protocol version as Go's configs spell it (`TLS10` .. `TLS13`),
/// ordered oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// `TLS10`.
    Tls10,
    /// `TLS11`.
    Tls11,
    /// `TLS12`.
    Tls12,
    /// `TLS13`.
    Tls13,
}

impl TlsVersion {
    /// Reads `TLS10` .. `TLS13`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TLS10" => Some(TlsVersion::Tls10),
            "TLS11" => Some(TlsVersion::Tls11),
            "TLS12" => Some(TlsVersion::Tls12),
            "TLS13" => Some(TlsVersion::Tls13),
            _ => None,
        }
    }
}

/// The versions rustls speaks (TLS 1.2 and 1.3) that lie within
/// `min ..= max`, where `None` is no bound. Empty when none does: the caller
/// words that error as its peer would.
pub fn protocol_versions(
    min: Option<TlsVersion>,
    max: Option<TlsVersion>,
) -> Vec<&'static SupportedProtocolVersion> {
    [
        (&rustls::version::TLS12, TlsVersion::Tls12),
        (&rustls::version::TLS13, TlsVersion::Tls13),
    ]
    .into_iter()
    .filter(|&(_, v)| min.is_none_or(|m| m <= v) && max.is_none_or(|m| v <= m))
    .map(|(p, _)| p)
    .collect()
}

/// How the server's certificate is checked.
pub enum ServerVerify {
    /// `insecure_skip_verify`: any certificate is accepted.
    AcceptAny,
    /// webpki, against these roots and the name the connection is made to.
    Roots(RootCertStore),
    /// webpki against these roots, always for this name whatever the
    /// connection is made to: `tls_config.server_name` of a target scraped
    /// by address, whose certificate names a host.
    RootsFor(RootCertStore, ServerName<'static>),
}

/// Everything [`ClientSettings::build`] needs; the caller has read and
/// checked the pieces, so that its errors keep its peer's wording and order.
pub struct ClientSettings {
    /// From [`protocol_versions`]; not empty.
    pub versions: Vec<&'static SupportedProtocolVersion>,
    /// How the server is checked.
    pub verify: ServerVerify,
    /// A client certificate chain and its key.
    pub identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    /// ALPN protocols to offer, most preferred first.
    pub alpn: Vec<Vec<u8>>,
}

/// The step of [`ClientSettings::build`] that rustls refused; each caller
/// words it its own way.
#[derive(Debug)]
pub enum BuildError {
    /// The provider cannot speak the versions (never with `ring`, which
    /// speaks both).
    Versions(rustls::Error),
    /// The client certificate and key are unusable together.
    Identity(rustls::Error),
    /// No verifier can be built from the roots (none is usable).
    Verifier(VerifierBuilderError),
}

impl ClientSettings {
    /// Builds the client configuration with the `ring` [`provider`].
    pub fn build(self) -> Result<ClientConfig, BuildError> {
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.versions)
            .map_err(BuildError::Versions)?;
        let builder = match self.verify {
            ServerVerify::AcceptAny => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny(provider))),
            ServerVerify::Roots(roots) => builder.with_root_certificates(roots),
            ServerVerify::RootsFor(roots, name) => {
                let inner =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(BuildError::Verifier)?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(FixedName { inner, name }))
            }
        };
        let mut config = match self.identity {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain, key)
                .map_err(BuildError::Identity)?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = self.alpn;
        Ok(config)
    }
}

/// `insecure_skip_verify`: accepts any certificate, still checking that
/// handshake signatures are well-formed for the negotiated scheme, so the
/// connection is at least self-consistent.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use TlsVersion::*;

    fn names(v: &[&'static SupportedProtocolVersion]) -> Vec<rustls::ProtocolVersion> {
        v.iter().map(|p| p.version).collect()
    }

    #[test]
    fn versions_within_bounds() {
        use rustls::ProtocolVersion::{TLSv1_2 as V12, TLSv1_3 as V13};
        assert_eq!(names(&protocol_versions(None, None)), [V12, V13]);
        assert_eq!(names(&protocol_versions(Some(Tls10), None)), [V12, V13]);
        assert_eq!(names(&protocol_versions(Some(Tls13), None)), [V13]);
        assert_eq!(names(&protocol_versions(None, Some(Tls12))), [V12]);
        assert_eq!(
            names(&protocol_versions(Some(Tls12), Some(Tls13))),
            [V12, V13]
        );
        assert!(protocol_versions(None, Some(Tls11)).is_empty());
        assert!(protocol_versions(Some(Tls13), Some(Tls12)).is_empty());
    }

    #[test]
    fn parse_versions() {
        assert_eq!(TlsVersion::parse("TLS10"), Some(Tls10));
        assert_eq!(TlsVersion::parse("TLS13"), Some(Tls13));
        assert_eq!(TlsVersion::parse("tls13"), None);
        assert_eq!(TlsVersion::parse(""), None);
        assert!(Tls11 < Tls12);
    }

    #[test]
    fn pem_bundle() {
        assert!(pem_certs(b"").unwrap().is_empty());
        assert!(
            pem_certs(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n").is_err()
        );
    }

    #[test]
    fn builds_without_verification() {
        let config = ClientSettings {
            versions: protocol_versions(None, None),
            verify: ServerVerify::AcceptAny,
            identity: None,
            alpn: vec![b"h2".to_vec()],
        }
        .build()
        .unwrap();
        assert_eq!(config.alpn_protocols, [b"h2".to_vec()]);
    }
}
