//! The agent's push client against a scripted HTTP server: the body is a
//! Loki push our own receiver decodes, headers carry the tenant and the
//! credentials, 429/5xx are retried, another 4xx is a refusal for good.

use super::*;
use crate::tail::config::{BackoffConfig, BasicAuth};
use sightline_core::logs::LogEntry;
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn base64_matches_rfc4648_examples() {
    // RFC 4648 section 10 test vectors.
    for (i, o) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(i.as_bytes()), o);
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    headers: String,
    body: Vec<u8>,
}

/// Answers each request with the next status of `script` (the last one
/// repeats), closing the connection after each answer.
async fn server(script: Vec<u16>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/loki/api/v1/push", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let Ok((mut c, _)) = l.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, len) = loop {
                let k = c.read(&mut chunk).await.unwrap_or(0);
                if k == 0 {
                    break (String::new(), 0);
                }
                buf.extend_from_slice(&chunk[..k]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    buf.drain(..i + 4);
                    break (head, len);
                }
            };
            while buf.len() < len {
                let k = c.read(&mut chunk).await.unwrap_or(0);
                if k == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..k]);
            }
            s2.lock().unwrap().push(Seen {
                headers: head,
                body: buf,
            });
            let status = script[n.min(script.len() - 1)];
            n += 1;
            let resp =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = c.write_all(resp.as_bytes()).await;
        }
    });
    (url, seen)
}

fn client(url: &str) -> ClientConfig {
    let text = format!("url: {url}\n");
    let mut c: ClientConfig = sightline_config::yaml::from_str(&text, "c.yml").unwrap();
    c.backoff_config = BackoffConfig {
        min_period: Duration::from_millis(10),
        max_period: Duration::from_millis(20),
        max_retries: 2,
    };
    c
}

fn batch() -> Vec<TailStream> {
    vec![TailStream {
        tenant: None,
        labels: vec![("job".into(), "app".into())],
        entries: vec![LogEntry {
            ts_ns: 1_700_000_000_123_456_789,
            line: "hello".into(),
            metadata: vec![("trace_id".into(), "abc".into())],
        }],
    }]
}

#[tokio::test]
async fn a_push_is_retried_on_503_and_429_and_carries_tenant_and_auth() {
    let (url, seen) = server(vec![503, 429, 204]).await;
    let mut c = client(&url);
    c.tenant_id = Some("team-a".into());
    c.basic_auth = Some(BasicAuth {
        username: "u".into(),
        password: Some("p".into()),
        password_file: None,
    });
    c.external_labels.insert("host".into(), "web1".into());
    let m = TailMetrics::new();
    let sink = ClientsSink::new(&[c], m.clone()).unwrap();
    let cancel = CancellationToken::new();
    assert!(sink.send(&batch(), &cancel).await);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert_eq!(m.counter("promtail_batch_retries", &[]), 2.0);
    let h = &seen[2].headers;
    assert!(h.contains("x-scope-orgid: team-a"), "{h}");
    // base64("u:p") = dTpw
    assert!(h.contains("authorization: basic dtpw"), "{h}");
    assert!(h.contains("content-type: application/x-protobuf"), "{h}");
    let streams =
        crate::loki::decode_body(&seen[2].body, Some("application/x-protobuf"), None).unwrap();
    assert_eq!(streams.len(), 1);
    assert_eq!(
        streams[0].labels,
        crate::loki::decode::StreamLabels::Text(r#"{host="web1", job="app"}"#.into())
    );
    assert_eq!(streams[0].entries, batch()[0].entries);
}

#[tokio::test]
async fn a_400_is_a_refusal_for_good_and_cancel_stops_retries() {
    let (url, seen) = server(vec![400]).await;
    let m = TailMetrics::new();
    let sink = ClientsSink::new(&[client(&url)], m.clone()).unwrap();
    let cancel = CancellationToken::new();
    assert!(sink.send(&batch(), &cancel).await);
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(
        m.counter("promtail_dropped_entries", &[("reason", "refused")]),
        1.0
    );

    // Down for good: the batch is not acknowledged when the agent stops.
    let (url, _) = server(vec![500]).await;
    let sink = ClientsSink::new(&[client(&url)], TailMetrics::new()).unwrap();
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        c2.cancel();
    });
    assert!(!sink.send(&batch(), &cancel).await);
}
