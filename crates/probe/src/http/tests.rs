//! The http prober against canned servers on loopback. Expected values are
//! hand-computed from the canned bytes.

use crate::config::BlackboxConfig;
use crate::{run_probe, Module};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `reply(path, request)` to each connection; returns the port and
/// the requests seen.
async fn serve(
    reply: impl Fn(&str, &str) -> Vec<u8> + Send + Sync + 'static,
) -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        loop {
            let (mut s, _) = l.accept().await.unwrap();
            let (reply, seen) = (reply.clone(), seen2.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let req = String::from_utf8_lossy(&buf).into_owned();
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                seen.lock().unwrap().push(req.clone());
                let out = reply(&path, &req);
                let _ = s.write_all(&out).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (port, seen)
}

fn module(yaml: &str) -> Module {
    let text = format!(
        "modules:\n  m:\n{}",
        yaml.lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    );
    BlackboxConfig::parse(&text, "t.yml")
        .unwrap()
        .modules
        .remove("m")
        .unwrap()
}

const T: Duration = Duration::from_secs(5);

#[tokio::test]
async fn status_length_version_and_phases() {
    let (port, _) = serve(|_, _| {
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\nhello".to_vec()
    })
    .await;
    let r = run_probe(
        &module("prober: http"),
        &format!("http://127.0.0.1:{port}/"),
        T,
    )
    .await;
    assert!(r.success, "{:?}", r.failure);
    assert_eq!(r.value("probe_http_status_code"), Some(200.0));
    assert_eq!(r.value("probe_http_content_length"), Some(5.0));
    assert_eq!(r.value("probe_http_uncompressed_body_length"), Some(5.0));
    assert_eq!(r.value("probe_http_version"), Some(1.1));
    assert_eq!(r.value("probe_http_ssl"), Some(0.0));
    assert_eq!(r.value("probe_ip_protocol"), Some(4.0));
    // date -u -d 'Sun, 06 Nov 1994 08:49:37 GMT' +%s
    assert_eq!(
        r.value("probe_http_last_modified_timestamp_seconds"),
        Some(784111777.0)
    );
    for phase in ["resolve", "connect", "tls", "processing", "transfer"] {
        assert!(
            r.labelled_value("probe_http_duration_seconds", "phase", phase)
                .is_some(),
            "{phase}"
        );
    }
    assert!(
        r.labelled_value("probe_http_duration_seconds", "phase", "connect")
            .unwrap()
            > 0.0
    );
}

#[tokio::test]
async fn chunked_gzip_body_and_regexps() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"all systems nominal").unwrap();
    let body = gz.finish().unwrap();
    let body2 = body.clone();
    let (port, seen) = serve(move |_, _| {
        let mut out =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
                .to_vec();
        let (a, b) = body2.split_at(7);
        for part in [a, b] {
            out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            out.extend_from_slice(part);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/");
    let m = module("prober: http\nhttp:\n  compression: gzip\n  fail_if_body_not_matches_regexp: ['systems \\w+']");
    let r = run_probe(&m, &url, T).await;
    assert!(r.success, "{:?}", r.failure);
    assert_eq!(r.value("probe_http_content_length"), Some(-1.0));
    assert_eq!(r.value("probe_http_uncompressed_body_length"), Some(19.0));
    assert!(seen.lock().unwrap()[0].contains("Accept-Encoding: gzip"));
    let m = module("prober: http\nhttp:\n  fail_if_body_matches_regexp: ['nominal']");
    let r = run_probe(&m, &url, T).await;
    assert!(!r.success);
    assert_eq!(r.value("probe_failed_due_to_regex"), Some(1.0));
    assert!(r
        .failure
        .unwrap()
        .contains("Body matched regular expression"));
}

#[tokio::test]
async fn redirects_followed_or_not() {
    let (port, _) = serve(|path, _| match path {
        "/a" => b"HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n".to_vec(),
        "/b" => b"HTTP/1.1 301 Moved\r\nLocation: /c\r\nContent-Length: 0\r\n\r\n".to_vec(),
        _ => b"HTTP/1.0 200 OK\r\n\r\nfinal".to_vec(),
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/a");
    let r = run_probe(&module("prober: http"), &url, T).await;
    assert!(r.success, "{:?}", r.failure);
    assert_eq!(r.value("probe_http_redirects"), Some(2.0));
    assert_eq!(r.value("probe_http_version"), Some(1.0));
    assert_eq!(r.value("probe_http_uncompressed_body_length"), Some(5.0));
    let r = run_probe(
        &module("prober: http\nhttp:\n  follow_redirects: false"),
        &url,
        T,
    )
    .await;
    assert!(!r.success);
    assert_eq!(r.value("probe_http_status_code"), Some(302.0));
    assert_eq!(r.value("probe_http_redirects"), Some(1.0));
    let m = module("prober: http\nhttp:\n  no_follow_redirects: true\n  valid_status_codes: [302]");
    assert!(run_probe(&m, &url, T).await.success);
}

#[tokio::test]
async fn headers_auth_and_matchers() {
    let (port, seen) = serve(|_, _| {
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Mode: maintenance\r\n\r\n".to_vec()
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/p?q=1");
    let m = module(
        "prober: http\nhttp:\n  method: POST\n  body: 'abc'\n  headers: { X-Test: yes }\n  basic_auth: { username: u, password: p }",
    );
    assert!(run_probe(&m, &url, T).await.success);
    let req = seen.lock().unwrap()[0].clone();
    assert!(req.starts_with("POST /p?q=1 HTTP/1.1\r\n"), "{req}");
    // base64("u:p") = dTpw
    assert!(req.contains("Authorization: Basic dTpw\r\n"), "{req}");
    assert!(req.contains("X-Test: yes\r\n"));
    assert!(req.contains("Content-Length: 3\r\n"));
    let m = module(
        "prober: http\nhttp:\n  fail_if_header_matches: [{ header: x-mode, regexp: maint }]",
    );
    assert!(!run_probe(&m, &url, T).await.success);
    let m = module(
        "prober: http\nhttp:\n  fail_if_header_not_matches: [{ header: X-Mode, regexp: '^live$' }]",
    );
    assert!(!run_probe(&m, &url, T).await.success);
    let m = module("prober: http\nhttp:\n  fail_if_header_not_matches: [{ header: X-Other, regexp: x, allow_missing: true }]");
    assert!(run_probe(&m, &url, T).await.success);
    let m = module("prober: http\nhttp:\n  fail_if_not_ssl: true");
    assert!(!run_probe(&m, &url, T).await.success);
    let m = module("prober: http\nhttp:\n  valid_http_versions: ['HTTP/2.0']");
    assert!(!run_probe(&m, &url, T).await.success);
}

#[tokio::test]
async fn timeout_keeps_finished_phases() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    // Accepts and never answers.
    tokio::spawn(async move {
        let mut keep = Vec::new();
        loop {
            let (s, _) = l.accept().await.unwrap();
            keep.push(s);
        }
    });
    let r = run_probe(
        &module("prober: http"),
        &format!("http://127.0.0.1:{port}/"),
        Duration::from_millis(300),
    )
    .await;
    assert!(!r.success);
    assert!(
        r.failure.as_deref().unwrap().contains("timed out"),
        "{:?}",
        r.failure
    );
    assert!(
        r.labelled_value("probe_http_duration_seconds", "phase", "connect")
            .unwrap()
            > 0.0
    );
    assert_eq!(
        r.labelled_value("probe_http_duration_seconds", "phase", "processing"),
        Some(0.0)
    );
    assert_eq!(r.value("probe_http_status_code"), Some(0.0));
    assert!(r.duration_seconds >= 0.3);
}

#[test]
fn http_dates_and_base64() {
    assert_eq!(
        super::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784111777)
    );
    assert_eq!(super::parse_http_date("garbage"), None);
}

/// Issue 5: `processing` is the target's time, not the prober's. The
/// response arrives 20 ms after the request while the runtime's only
/// thread is blocked for 150 ms: the phase must end at the arrival.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn processing_ends_at_arrival_not_at_wakeup() {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (read_tx, read_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0);
            buf.extend_from_slice(&chunk[..n]);
        }
        let _ = read_tx.send(());
        std::thread::sleep(Duration::from_millis(20));
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            .unwrap();
    });
    // Blocks the runtime's thread from the moment the request is in.
    let blocker = tokio::spawn(async move {
        let _ = read_rx.await;
        std::thread::sleep(Duration::from_millis(150));
    });
    let m = module("prober: http\ntimeout: 5s");
    let r = run_probe(
        &m,
        &format!("http://127.0.0.1:{port}/"),
        Duration::from_secs(5),
    )
    .await;
    blocker.await.unwrap();
    server.join().unwrap();
    assert!(r.success);
    let processing = r
        .labelled_value("probe_http_duration_seconds", "phase", "processing")
        .unwrap();
    assert!(
        (0.019..0.1).contains(&processing),
        "processing {processing} s: the 150 ms the prober could not run was counted"
    );
}
