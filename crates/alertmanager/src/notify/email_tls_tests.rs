//! Email over STARTTLS, the default (`smtp_require_tls: true`): a fake SMTP
//! server that offers STARTTLS with a certificate from a throw-away CA made
//! by the `openssl` command (the test is skipped without it).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::Email;
use crate::config::receiver::EmailConfig;
use crate::notify::tests::{build, ctx, sample_alerts};
use crate::notify::Notifier;

/// Makes `ca.pem`, `leaf.pem` and `leaf.key` (for 127.0.0.1) in `dir`.
fn make_certs(dir: &Path) -> bool {
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=sightline-test-ca",
    ]) && run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]) && run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ])
}

enum Step {
    StartTls,
    Done,
}

/// One SMTP conversation phase; returns when the client asks for STARTTLS
/// (plain phase) or quits.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    r: &mut BufReader<S>,
    offer_starttls: bool,
    log: &mut Vec<String>,
) -> Step {
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
            return Step::Done;
        }
        let cmd = line.trim_end().to_owned();
        log.push(cmd.clone());
        let upper = cmd.to_ascii_uppercase();
        let w = r.get_mut();
        if upper.starts_with("EHLO") {
            let ext = if offer_starttls {
                "250-STARTTLS\r\n"
            } else {
                ""
            };
            w.write_all(format!("250-test\r\n{ext}250 8BITMIME\r\n").as_bytes())
                .await
                .unwrap();
        } else if upper == "STARTTLS" {
            w.write_all(b"220 ready\r\n").await.unwrap();
            return Step::StartTls;
        } else if upper == "DATA" {
            w.write_all(b"354 go\r\n").await.unwrap();
            loop {
                line.clear();
                r.read_line(&mut line).await.unwrap();
                if line == ".\r\n" {
                    break;
                }
            }
            r.get_mut().write_all(b"250 queued\r\n").await.unwrap();
        } else if upper == "QUIT" {
            w.write_all(b"221 bye\r\n").await.unwrap();
            return Step::Done;
        } else {
            w.write_all(b"250 ok\r\n").await.unwrap();
        }
    }
}

#[tokio::test]
async fn starttls_is_used_and_the_ca_file_trusted() {
    let dir = std::env::temp_dir().join(format!("sightline-am-smtp-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    if !make_certs(&dir) {
        sightline_testkit::skip("openssl could not make certificates (apt-get install openssl)");
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("leaf.pem"))
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("leaf.key")).unwrap();
    let server_cfg = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_cfg));

    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (sock, _) = l.accept().await.unwrap();
        let mut r = BufReader::new(sock);
        r.get_mut().write_all(b"220 test ESMTP\r\n").await.unwrap();
        let mut plain = Vec::new();
        let mut secure = Vec::new();
        if let Step::StartTls = converse(&mut r, true, &mut plain).await {
            // The client waits for our 220 before its handshake, so nothing
            // is left in the buffer.
            let tls = acceptor.accept(r.into_inner()).await.unwrap();
            let mut r = BufReader::new(tls);
            converse(&mut r, false, &mut secure).await;
        }
        (plain, secure)
    });

    let cfg: EmailConfig = serde_saphyr::from_str(&format!(
        "to: ops@example.org\nfrom: am@example.org\nsmarthost: '127.0.0.1:{port}'\ntls_config: {{ca_file: '{}'}}",
        dir.join("ca.pem").display()
    ))
    .unwrap();
    let e = build(&cfg, Email::new);
    e.notify(&ctx(), &sample_alerts()).await.unwrap();
    let (plain, secure) = server.await.unwrap();
    assert_eq!(
        plain,
        vec!["EHLO localhost".to_owned(), "STARTTLS".to_owned()]
    );
    assert!(
        secure
            .iter()
            .any(|c| c.starts_with("MAIL FROM:<am@example.org>")),
        "{secure:?}"
    );
    assert!(secure.iter().any(|c| c == "DATA"), "{secure:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
