//! A rustls client configuration for `tls_config.server_name`: certificates
//! are verified against the configured name instead of the URL's host (for
//! targets scraped by IP address whose certificates name a host).

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
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
    super::http::install_crypto_provider();
    let name = ServerName::try_from(s.server_name.to_owned())
        .map_err(|e| format!("invalid tls_config server_name {:?}: {e}", s.server_name))?;
    let mut roots = RootCertStore::empty();
    match s.ca {
        Some(pem) => {
            for c in CertificateDer::pem_slice_iter(pem) {
                let c = c.map_err(|e| format!("invalid CA certificate: {e}"))?;
                roots
                    .add(c)
                    .map_err(|e| format!("invalid CA certificate: {e}"))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
        }
    }
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
        (&rustls::version::TLS12, "TLS12"),
        (&rustls::version::TLS13, "TLS13"),
    ]
    .into_iter()
    .filter(|(_, v)| rank(v) >= s.min_version.map_or(0, rank))
    .filter(|(_, v)| rank(v) <= s.max_version.map_or(u8::MAX, rank))
    .map(|(p, _)| p)
    .collect();
    if versions.is_empty() {
        return Err("tls_config allows no TLS version that is supported (TLS 1.2, 1.3)".into());
    }
    let verifier: Arc<dyn ServerCertVerifier> = if s.insecure_skip_verify {
        Arc::new(AcceptAny(provider()))
    } else {
        let inner = WebPkiServerVerifier::builder(Arc::new(roots))
            .build()
            .map_err(|e| format!("cannot verify certificates: {e}"))?;
        Arc::new(FixedName { inner, name })
    };
    let builder = rustls::ClientConfig::builder_with_protocol_versions(&versions)
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match s.identity {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("invalid client certificate: {e}"))?;
            let key = PrivateKeyDer::from_pem_slice(key)
                .map_err(|e| format!("invalid client key: {e}"))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("invalid client certificate or key: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = if s.http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(config)
}

fn rank(v: &str) -> u8 {
    match v {
        "TLS10" => 10,
        "TLS11" => 11,
        "TLS12" => 12,
        _ => 13,
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
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

/// `insecure_skip_verify`: accepts any certificate, still checking that
/// handshake signatures are well-formed for the negotiated scheme.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

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
