use super::*;
use crate::config::receiver::EmailConfig;
use crate::notify::tests::{build, ctx, sample_alerts};
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
    build(&cfg, Email::new)
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

/// The text of a MIME part (or single-part message) `raw`: headers and
/// body, the body decoded from 7bit or quoted-printable.
fn mime_parts(raw: &str) -> Vec<(String, String)> {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    // Unfold continuation lines before reading headers.
    let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let ctype = header("content-type");
    if let Some(b) = ctype.split("boundary=").nth(1) {
        let b = b
            .trim_matches('"')
            .split(';')
            .next()
            .unwrap()
            .trim_matches('"')
            .to_owned();
        return body
            .split(&format!("--{b}"))
            .skip(1)
            .filter(|p| !p.starts_with("--"))
            .flat_map(|p| mime_parts(p.trim_start_matches("\r\n")))
            .collect();
    }
    let cte = header("content-transfer-encoding").to_ascii_lowercase();
    assert!(cte != "base64", "base64 parts are not decoded here");
    let body = if cte == "quoted-printable" {
        unqp(body)
    } else {
        body.to_owned()
    };
    let mime = ctype.split(';').next().unwrap_or("").trim().to_owned();
    vec![(mime, body.trim_end_matches("\r\n").replace("\r\n", "\n"))]
}

fn header_value(data: &str, name: &str) -> Option<String> {
    let head = data.split("\r\n\r\n").next()?.replace("\r\n ", " ");
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

/// The same alert mailed by a real Alertmanager 0.25 and by us, both to the
/// fake SMTP server: same envelope, same headers that do not vary per
/// message, same decoded text and HTML parts in the same order.
#[tokio::test]
async fn mail_matches_real_alertmanager() {
    compare_with_peer(
        "email",
        "text: 'text {{ .Status }} {{ .CommonLabels.job }}'",
    )
    .await;
}

/// Alertmanager's default leaves `text` empty: still multipart/alternative,
/// with the HTML part alone.
#[tokio::test]
async fn html_only_mail_matches_real_alertmanager() {
    compare_with_peer("email-html", "text: ''").await;
}

async fn compare_with_peer(peer_name: &str, text_line: &str) {
    let (their_port, their_session) = smtp_server(false).await;
    let email_cfg = |port: u16| {
        format!(
            "- to: 'ops@example.org'\n    from: 'am@example.org'\n    smarthost: '127.0.0.1:{port}'\n\
             \x20   hello: sightline.test\n    require_tls: false\n    auth_username: am\n    auth_password: secret\n\
             \x20   {text_line}\n\
             \x20   html: '<p>{{{{ .CommonAnnotations.summary }}}} &amp; {{{{ .CommonLabels.instance }}}}</p>'\n\
             \x20   headers: {{X-Team: '{{{{ .CommonLabels.job }}}}'}}\n"
        )
    };
    let cfg = format!(
        "route:\n  receiver: 'team'\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 1m\n\
         receivers:\n- name: 'team'\n  email_configs:\n  {}",
        email_cfg(their_port)
    );
    let Some(peer) = crate::notify::peer::start(peer_name, &cfg).await else {
        return;
    };
    peer.post(&serde_json::json!([crate::notify::peer::posted(
        "a<1>", None
    )]))
    .await;
    let theirs = tokio::time::timeout(std::time::Duration::from_secs(60), their_session)
        .await
        .expect("alertmanager mailed within 60s")
        .unwrap();

    let (our_port, our_session) = smtp_server(false).await;
    let cfgs: Vec<EmailConfig> =
        serde_saphyr::from_str(&format!("  {}", email_cfg(our_port))).unwrap();
    let e = Email::new(
        0,
        &cfgs[0],
        &GlobalConfig::default(),
        Arc::new(Templates::default()),
    )
    .unwrap();
    let mut ctx = ctx();
    ctx.group_key = r#"{}:{alertname="PeerTest"}"#.into();
    ctx.group_labels = crate::notify::tests::ls(&[("alertname", "PeerTest")]);
    let mut alert = sample_alerts().remove(0);
    alert.labels = crate::notify::tests::ls(&[
        ("alertname", "PeerTest"),
        ("job", "api"),
        ("instance", "a<1>"),
    ]);
    alert.annotations =
        crate::notify::tests::ls(&[("summary", "peer test"), ("instance_note", "a<1>")]);
    e.notify(&ctx, &[alert]).await.unwrap();
    let ours = our_session.await.unwrap();

    let envelope = |s: &Session| -> Vec<String> {
        s.commands
            .iter()
            .filter(|c| c.starts_with("EHLO") || c.starts_with("RCPT") || c.starts_with("AUTH"))
            .cloned()
            .chain(
                s.commands
                    .iter()
                    .filter(|c| c.starts_with("MAIL FROM"))
                    .map(|c| {
                        // Alertmanager asks for 8BITMIME (`BODY=8BITMIME`); the address must agree.
                        c.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
                    }),
            )
            .collect()
    };
    assert_eq!(envelope(&theirs), envelope(&ours));
    for h in ["Subject", "To", "From", "X-Team", "MIME-Version"] {
        assert_eq!(
            header_value(&theirs.data, h),
            header_value(&ours.data, h),
            "header {h}\ntheirs {}\nours {}",
            theirs.data,
            ours.data
        );
    }
    for h in ["Date", "Message-Id"] {
        assert!(
            header_value(&ours.data, h).is_some(),
            "{h} missing: {}",
            ours.data
        );
    }
    let top = |d: &str| {
        header_value(d, "Content-Type")
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(top(&theirs.data), top(&ours.data));
    assert_eq!(
        mime_parts(&theirs.data),
        mime_parts(&ours.data),
        "theirs {}\nours {}",
        theirs.data,
        ours.data
    );
}
