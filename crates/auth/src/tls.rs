//! The rustls server configuration of a `tls_server_config`.
//!
//! Go's five client auth types map onto rustls's client verifiers:
//! `RequestClientCert` and `RequireAnyClientCert` accept any certificate
//! (only the handshake signature is checked, as Go does), the two
//! `Verify` kinds use webpki against `client_ca_file` (or the system's roots
//! without one, as Go falls back to them), optional for
//! `VerifyClientCertIfGiven`. `client_allowed_sans` then requires one of the
//! names on the client's certificate (DNS names and IP addresses; rustls's
//! webpki does not expose e-mail or URI names, so those never match).

use crate::web_config::{ClientAuth, TlsSettings, CIPHERS, CURVES};
use crate::{Error, Result};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};
use sightline_config::tls as ctls;
use std::sync::Arc;

fn read(path: &std::path::Path, field: &str) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| Error::Invalid(format!("failed to read {field} ({}): {e}", path.display())))
}

/// Builds the server configuration, reading the certificate, key and client
/// CA files now. `http2` offers h2 by ALPN besides http/1.1.
pub fn server_config(t: &TlsSettings, http2: bool) -> Result<ServerConfig> {
    let cert_pem = read(&t.cert_file, "cert_file")?;
    let key_pem = read(&t.key_file, "key_file")?;
    let chain = ctls::pem_certs(&cert_pem)
        .map_err(|e| Error::Invalid(format!("failed to load X509KeyPair: {e}")))?;
    if chain.is_empty() {
        return Err(Error::Invalid(format!(
            "failed to load X509KeyPair: no certificate in {}",
            t.cert_file.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        Error::Invalid(format!(
            "failed to load X509KeyPair: no private key in {}: {e}",
            t.key_file.display()
        ))
    })?;
    let provider = Arc::new(provider_for(t));
    let versions = ctls::protocol_versions(Some(t.min_version), Some(t.max_version));
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| Error::Invalid(format!("tls_server_config: {e}")))?;
    let verifier = client_verifier(t, &provider)?;
    let builder = match verifier {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| Error::Invalid(format!("failed to load X509KeyPair: {e}")))?;
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(config)
}

/// The ring provider narrowed to the configured TLS 1.2 suites (TLS 1.3
/// suites always stay, as in Go) and curves, in the file's order.
fn provider_for(t: &TlsSettings) -> CryptoProvider {
    let mut p = rustls::crypto::ring::default_provider();
    if !t.cipher_suites.is_empty() {
        let wanted: Vec<String> = t
            .cipher_suites
            .iter()
            .filter(|c| CIPHERS.contains(&c.as_str()))
            .map(|c| c.trim_end_matches("_SHA256").to_owned())
            .collect();
        let all = p.cipher_suites.clone();
        let mut picked = Vec::new();
        // TLS 1.3 suites first: Go does not let them be configured.
        picked.extend(all.iter().filter(|s| s.tls13().is_some()).cloned());
        for w in &wanted {
            for s in &all {
                let name = format!("{:?}", s.suite());
                if s.tls13().is_none()
                    && name.trim_end_matches("_SHA256") == w
                    && !picked.iter().any(|p| p.suite() == s.suite())
                {
                    picked.push(*s);
                }
            }
        }
        p.cipher_suites = picked;
    }
    if !t.curve_preferences.is_empty() {
        let all = p.kx_groups.clone();
        let mut picked = Vec::new();
        for c in &t.curve_preferences {
            let want = match c.as_str() {
                "CurveP256" => rustls::NamedGroup::secp256r1,
                "CurveP384" => rustls::NamedGroup::secp384r1,
                "X25519" => rustls::NamedGroup::X25519,
                _ => continue,
            };
            debug_assert!(CURVES.contains(&c.as_str()));
            picked.extend(all.iter().filter(|g| g.name() == want).copied());
        }
        p.kx_groups = picked;
    }
    p
}

fn client_verifier(
    t: &TlsSettings,
    provider: &Arc<CryptoProvider>,
) -> Result<Option<Arc<dyn ClientCertVerifier>>> {
    let roots = || -> Result<RootCertStore> {
        let certs = match &t.client_ca_file {
            Some(p) => ctls::pem_certs(&read(p, "client_ca_file")?)
                .map_err(|e| Error::Invalid(format!("client_ca_file: {e}")))?,
            None => ctls::load_system_roots(),
        };
        let mut store = RootCertStore::empty();
        // Go's AppendCertsFromPEM skips certificates it cannot parse.
        let _ = store.add_parsable_certificates(certs);
        Ok(store)
    };
    let hints = || -> Result<Vec<DistinguishedName>> {
        Ok(match &t.client_ca_file {
            Some(_) => roots()?.subjects(),
            None => Vec::new(),
        })
    };
    let webpki = |optional: bool| -> Result<Arc<dyn ClientCertVerifier>> {
        let b = WebPkiClientVerifier::builder_with_provider(Arc::new(roots()?), provider.clone());
        let b = if optional {
            b.allow_unauthenticated()
        } else {
            b
        };
        b.build()
            .map_err(|e| Error::Invalid(format!("client_ca_file: {e}")))
    };
    let inner: Arc<dyn ClientCertVerifier> = match t.client_auth {
        ClientAuth::None => return Ok(None),
        ClientAuth::Request => Arc::new(AnyCert {
            provider: provider.clone(),
            mandatory: false,
            hints: hints()?,
        }),
        ClientAuth::RequireAny => Arc::new(AnyCert {
            provider: provider.clone(),
            mandatory: true,
            hints: hints()?,
        }),
        ClientAuth::VerifyIfGiven => webpki(true)?,
        ClientAuth::RequireAndVerify => webpki(false)?,
    };
    Ok(Some(match &t.client_allowed_sans {
        Some(sans) => Arc::new(AllowedSans {
            inner,
            sans: sans.clone(),
        }),
        None => inner,
    }))
}

/// Accepts any client certificate (Go's `RequestClientCert` and
/// `RequireAnyClientCert`), checking only the handshake signature.
#[derive(Debug)]
struct AnyCert {
    provider: Arc<CryptoProvider>,
    mandatory: bool,
    hints: Vec<DistinguishedName>,
}

impl ClientCertVerifier for AnyCert {
    fn offer_client_auth(&self) -> bool {
        true
    }
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }
    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `client_allowed_sans`: the inner verifier, then one of the names.
#[derive(Debug)]
struct AllowedSans {
    inner: Arc<dyn ClientCertVerifier>,
    sans: Vec<String>,
}

impl ClientCertVerifier for AllowedSans {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }
    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let ok = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        let cert = webpki::EndEntityCert::try_from(end_entity).map_err(|e| {
            rustls::Error::General(format!("error parsing client certificate: {e}"))
        })?;
        let named = self.sans.iter().any(|s| {
            ServerName::try_from(s.as_str())
                .is_ok_and(|n| cert.verify_is_valid_for_subject_name(&n).is_ok())
        });
        if named {
            Ok(ok)
        } else {
            Err(rustls::Error::General(format!(
                "could not find allowed SANs in client cert, found: {:?}",
                self.sans
            )))
        }
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
