use super::*;
use crate::notify::tests::{ctx, sample_alerts};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the fake SMTP server saw: the commands and the DATA payload.
#[derive(Debug, Default)]
struct Session {
    commands: Vec<String>,
    data: String,
}

/// A minimal SMTP responder (no TLS): it accepts everything, offers AUTH
/// PLAIN and LOGIN, and reports one session. `reject_rcpt` answers RCPT
/// with a permanent 550.
async fn smtp_server(reject_rcpt: bool) -> (u16, tokio::sync::oneshot::Receiver<Session>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (sock, _) = l.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        let mut s = Session::default();
        w.write_all(b"220 test ESMTP\r\n").await.unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            let cmd = line.trim_end().to_owned();
            s.commands.push(cmd.clone());
            let upper = cmd.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("AUTH") {
                b"235 2.7.0 ok\r\n"
            } else if upper.starts_with("RCPT") && reject_rcpt {
                b"550 5.1.1 no such user\r\n"
            } else if upper == "DATA" {
                w.write_all(b"354 go ahead\r\n").await.unwrap();
                loop {
                    line.clear();
                    r.read_line(&mut line).await.unwrap();
                    if line == ".\r\n" {
                        break;
                    }
                    s.data.push_str(&line);
                }
                b"250 2.0.0 queued\r\n"
            } else if upper == "QUIT" {
                w.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            w.write_all(reply).await.unwrap();
        }
        let _ = tx.send(s);
    });
    (port, rx)
}

fn email(yaml: &str) -> Email {
    let cfg: EmailConfig = serde_saphyr::from_str(yaml).unwrap();
    Email::new(
        0,
        &cfg,
        &GlobalConfig::default(),
        Arc::new(Templates::default()),
    )
    .unwrap()
}

/// Undoes quoted-printable soft breaks and `=3D`-style escapes, enough to
/// read the bodies back.
fn unqp(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn sends_html_and_text_with_auth_and_headers() {
    let (port, session) = smtp_server(false).await;
    let e = email(&format!(
        "to: 'ops@example.org, oncall@example.org'\nfrom: am@example.org\nsmarthost: '127.0.0.1:{port}'\n\
         hello: sightline.test\nrequire_tls: false\nauth_username: am\nauth_password: secret\n\
         text: 'text {{{{ .Status }}}}'\nheaders: {{x-team: '{{{{ .CommonLabels.job }}}}'}}"
    ));
    e.notify(&ctx(), &sample_alerts()).await.unwrap();
    let s = session.await.unwrap();
    assert_eq!(s.commands[0], "EHLO sightline.test");
    // AUTH PLAIN with base64("\0am\0secret").
    assert!(
        s.commands
            .iter()
            .any(|c| c == "AUTH PLAIN AGFtAHNlY3JldA=="),
        "{:?}",
        s.commands
    );
    assert!(
        s.commands
            .iter()
            .any(|c| c.starts_with("MAIL FROM:<am@example.org>")),
        "{:?}",
        s.commands
    );
    assert!(
        s.commands.iter().any(|c| c == "RCPT TO:<ops@example.org>"),
        "{:?}",
        s.commands
    );
    assert!(
        s.commands
            .iter()
            .any(|c| c == "RCPT TO:<oncall@example.org>"),
        "{:?}",
        s.commands
    );
    let data = s.data;
    assert!(
        data.contains("Subject: [FIRING:1] Disk (api)\r\n"),
        "{data}"
    );
    assert!(data.contains("From: am@example.org\r\n"), "{data}");
    assert!(
        data.contains("To: ops@example.org, oncall@example.org\r\n"),
        "{data}"
    );
    assert!(data.contains("X-Team: api\r\n"), "{data}");
    assert!(data.contains("Message-ID: <"), "{data}");
    assert!(data.contains("Date: "), "{data}");
    assert!(
        data.contains("Content-Type: multipart/alternative;"),
        "{data}"
    );
    let body = unqp(&data);
    let text_at = body.find("text firing").expect("text part");
    let html_at = body.find("<!DOCTYPE html>").expect("html part");
    assert!(text_at < html_at, "text part comes first");
    assert!(
        body.contains("<title>[FIRING:1] Disk (api)</title>"),
        "{body}"
    );
}

#[tokio::test]
async fn permanent_smtp_errors_are_not_retried() {
    let (port, _session) = smtp_server(true).await;
    let e = email(&format!(
        "to: nobody@example.org\nfrom: am@example.org\nsmarthost: '127.0.0.1:{port}'\nrequire_tls: false"
    ));
    let err = e.notify(&ctx(), &sample_alerts()).await.unwrap_err();
    assert!(!err.retryable, "{err}");
    // Nobody listening: retry later.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = email(&format!(
        "to: a@example.org\nfrom: am@example.org\nsmarthost: '127.0.0.1:{dead}'\nrequire_tls: false"
    ));
    let err = e.notify(&ctx(), &sample_alerts()).await.unwrap_err();
    assert!(err.retryable, "{err}");
}

#[tokio::test]
async fn require_tls_refuses_a_server_without_starttls() {
    let (port, _session) = smtp_server(false).await;
    let e = email(&format!(
        "to: a@example.org\nfrom: am@example.org\nsmarthost: '127.0.0.1:{port}'"
    ));
    assert!(e.require_tls);
    assert!(e.notify(&ctx(), &sample_alerts()).await.is_err());
}
