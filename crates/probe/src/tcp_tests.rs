//! The tcp prober's conversation against a scripted line server.

use crate::config::BlackboxConfig;
use crate::run_probe;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Greets with a banner, then answers `HELLO <x>` with `OK <x>`.
async fn line_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (s, _) = l.accept().await.unwrap();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let _ = w.write_all(b"220 mail.test ESMTP ready\r\n").await;
                let mut lines = BufReader::new(r).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply = match line.strip_prefix("HELLO ") {
                        Some(x) => format!("OK {x}\r\n"),
                        None => "ERR\r\n".to_string(),
                    };
                    let _ = w.write_all(reply.as_bytes()).await;
                }
            });
        }
    });
    port
}

fn module(qr: &str) -> crate::Module {
    let text = format!("modules:\n  t:\n    prober: tcp\n    tcp:\n      query_response:\n{qr}");
    BlackboxConfig::parse(&text, "t.yml")
        .unwrap()
        .modules
        .remove("t")
        .unwrap()
}

#[tokio::test]
async fn expect_send_with_captures() {
    let port = line_server().await;
    let target = format!("127.0.0.1:{port}");
    let t = Duration::from_secs(5);
    // The banner's host name is captured and sent back; the reply must echo it.
    let ok = module(
        "        - expect: '^220 ([^ ]+) ESMTP'\n          send: 'HELLO ${1}'\n        - expect: '^OK mail\\.test$'\n",
    );
    let r = run_probe(&ok, &target, t).await;
    assert!(r.success, "{:?}", r.failure);
    assert_eq!(r.value("probe_failed_due_to_regex"), Some(0.0));
    let bad = module("        - expect: '^220'\n          send: 'NOPE'\n        - expect: '^OK'\n");
    let r = tokio::time::timeout(
        Duration::from_secs(3),
        run_probe(&bad, &target, Duration::from_millis(500)),
    )
    .await
    .unwrap();
    // The server keeps the connection open after ERR, so the probe runs
    // into its timeout without a match, as blackbox would.
    assert!(!r.success);
}

#[tokio::test]
async fn regexp_not_matched_before_close() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let _ = s.write_all(b"SSH-2.0-Test\r\n").await;
        let _ = s.shutdown().await;
    });
    let m = module("        - expect: '^220'\n");
    let r = run_probe(&m, &format!("127.0.0.1:{port}"), Duration::from_secs(5)).await;
    assert!(!r.success);
    assert_eq!(r.value("probe_failed_due_to_regex"), Some(1.0));
    assert!(r.failure.unwrap().contains("Regexp did not match"));
}
