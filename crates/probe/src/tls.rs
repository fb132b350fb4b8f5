//! TLS for the probers: a rustls client built from a module's
//! `tls_config`, and blackbox's certificate gauges read from the handshake.

use crate::cert;
use crate::config::TlsConfig;
use crate::result::Recorder;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use sightline_config::tls::{self, BuildError, ClientSettings, ServerVerify, TlsVersion};
use std::sync::Arc;

const HELP_EARLIEST: &str = "Returns last SSL chain expiry in unixtime";
const HELP_LAST_CHAIN: &str = "Returns last SSL chain expiry in timestamp";
const HELP_VERSION: &str = "Returns the TLS version used or NaN when unknown";
const HELP_INFO: &str = "Contains SSL leaf certificate information";

/// A client configuration and the roots it trusts (kept as DER so the root
/// that ends a chain can be found for `probe_ssl_last_chain_expiry_...`).
#[derive(Clone)]
pub(crate) struct TlsSetup {
    pub config: Arc<ClientConfig>,
    roots: Arc<Vec<CertificateDer<'static>>>,
    verifies: bool,
    server_name: String,
}

fn read_pem_certs(inline: &str, file: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let text = if !inline.is_empty() {
        inline.as_bytes().to_vec()
    } else {
        std::fs::read(file).map_err(|e| format!("unable to load specified CA cert {file}: {e}"))?
    };
    let certs = tls::pem_certs(&text)
        .map_err(|e| format!("unable to use specified CA cert {file}: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "unable to use specified CA cert {file}: no certificates"
        ));
    }
    Ok(certs)
}

/// A `tls_config` string: blackbox reads an empty one as unset.
fn text(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

/// Builds the client for `cfg`; `alpn` lists protocols to offer.
pub(crate) fn setup(cfg: &TlsConfig, host: &str, alpn: &[&[u8]]) -> Result<TlsSetup, String> {
    let (ca, ca_file) = (text(&cfg.ca), text(&cfg.ca_file));
    let has_ca = !ca.is_empty() || !ca_file.is_empty();
    let roots = if has_ca {
        Arc::new(read_pem_certs(ca, ca_file)?)
    } else {
        tls::system_roots()
    };
    // rustls speaks no TLS 1.0 or 1.1, and a max_version below TLS12 has
    // always meant TLS 1.2 here (ingest refuses such a config instead). An
    // unknown or empty version is no bound.
    let versions = tls::protocol_versions(
        TlsVersion::parse(text(&cfg.min_version)),
        TlsVersion::parse(text(&cfg.max_version)).map(|v| v.max(TlsVersion::Tls12)),
    );
    if versions.is_empty() {
        return Err("tls_config: min_version is above max_version".into());
    }
    let verify = if cfg.insecure_skip_verify {
        ServerVerify::AcceptAny
    } else {
        let mut store = RootCertStore::empty();
        let (added, _) = store.add_parsable_certificates(roots.iter().cloned());
        if added == 0 && has_ca {
            return Err("unable to use specified CA cert: no usable certificates".into());
        }
        ServerVerify::Roots(store)
    };
    let (cert, cert_file) = (text(&cfg.cert), text(&cfg.cert_file));
    let key = cfg.key.as_ref().map_or("", |k| k.expose());
    let key_file = text(&cfg.key_file);
    let identity = if !cert_file.is_empty() || !cert.is_empty() {
        let certs = read_pem_certs(cert, cert_file)?;
        let key = if !key.is_empty() {
            PrivateKeyDer::from_pem_slice(key.as_bytes())
        } else {
            PrivateKeyDer::from_pem_file(key_file)
        }
        .map_err(|e| format!("unable to load client key {key_file}: {e}"))?;
        Some((certs, key))
    } else {
        None
    };
    let config = ClientSettings {
        versions,
        verify,
        identity,
        alpn: alpn.iter().map(|p| p.to_vec()).collect(),
    }
    .build()
    .map_err(|e| match e {
        BuildError::Versions(e) => format!("tls config: {e}"),
        BuildError::Identity(e) => format!("unable to use client certificate: {e}"),
        BuildError::Verifier(e) => format!("tls config: {e}"),
    })?;
    let server_name = match text(&cfg.server_name) {
        "" => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        name => name.to_owned(),
    };
    Ok(TlsSetup {
        config: Arc::new(config),
        roots,
        verifies: !cfg.insecure_skip_verify,
        server_name,
    })
}

impl TlsSetup {
    /// The name sent as SNI and verified.
    pub(crate) fn server_name(&self) -> Result<ServerName<'static>, String> {
        ServerName::try_from(self.server_name.clone())
            .map_err(|e| format!("invalid server name {:?}: {e}", self.server_name))
    }

    /// Performs the handshake over `stream`.
    pub(crate) async fn connect<S>(
        &self,
        stream: S,
    ) -> Result<tokio_rustls::client::TlsStream<S>, String>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        connector
            .connect(self.server_name()?, stream)
            .await
            .map_err(|e| format!("tls: {e}"))
    }

    /// Records blackbox's TLS gauges for a finished handshake; returns the
    /// earliest expiry.
    pub(crate) fn record(
        &self,
        rec: &mut Recorder,
        conn: &rustls::ClientConnection,
    ) -> Option<f64> {
        let certs = conn.peer_certificates().unwrap_or(&[]);
        let infos: Vec<cert::CertInfo> = certs.iter().filter_map(|c| cert::parse(c)).collect();
        let earliest = infos.iter().map(|c| c.not_after).min();
        if let Some(e) = earliest {
            rec.set("probe_ssl_earliest_cert_expiry", HELP_EARLIEST, e as f64);
        }
        let version = match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2",
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3",
            _ => "unknown",
        };
        rec.set_with(
            "probe_tls_version_info",
            HELP_VERSION,
            &[("version", version)],
            1.0,
        );
        rec.set(
            "probe_ssl_last_chain_expiry_timestamp_seconds",
            HELP_LAST_CHAIN,
            self.last_chain_expiry(&infos),
        );
        if let (Some(der), Some(leaf)) = (certs.first(), infos.first()) {
            let digest = ring::digest::digest(&ring::digest::SHA256, der);
            let fingerprint: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
            let sans = leaf.dns_names.join(",");
            rec.set_with(
                "probe_ssl_last_chain_info",
                HELP_INFO,
                &[
                    ("fingerprint_sha256", &fingerprint),
                    ("issuer", &leaf.issuer_text),
                    ("subject", &leaf.subject_text),
                    ("subjectalternative", &sans),
                ],
                1.0,
            );
        }
        earliest.map(|e| e as f64)
    }

    /// Go's verified chain runs from the leaf to a trusted root, root
    /// included, and blackbox reports the chain's earliest expiry. Without
    /// verification Go has no chain and reports the zero time.
    fn last_chain_expiry(&self, presented: &[cert::CertInfo]) -> f64 {
        // Go's time.Time{}.Unix(): 0001-01-01T00:00:00Z.
        const GO_ZERO_TIME: f64 = -62135596800.0;
        if !self.verifies || presented.is_empty() {
            return GO_ZERO_TIME;
        }
        // Walk issuer links from the leaf through the presented certificates.
        let mut chain = vec![presented[0].clone()];
        while chain.len() <= presented.len() {
            let last = chain.last().expect("non-empty");
            if last.issuer == last.subject {
                break;
            }
            match presented
                .iter()
                .find(|c| c.subject == last.issuer && !chain.contains(c))
            {
                Some(next) => chain.push(next.clone()),
                None => break,
            }
        }
        let last = chain.last().expect("non-empty").clone();
        if last.issuer != last.subject {
            if let Some(root) = self
                .roots
                .iter()
                .filter_map(|r| cert::parse(r))
                .find(|r| r.subject == last.issuer)
            {
                chain.push(root);
            }
        }
        chain.iter().map(|c| c.not_after).min().unwrap_or(0) as f64
    }
}
