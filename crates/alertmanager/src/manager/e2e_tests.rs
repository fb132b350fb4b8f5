//! The facade with real integrations: a webhook receiver on a local socket
//! that fails once, then accepts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::*;
use crate::history::Outcome;
use crate::notify::peer::PeerAm;

/// Answers the first `failures` requests with 503, later ones with 200, and
/// passes each request body on.
async fn webhook_server(failures: usize) -> (String, mpsc::UnboundedReceiver<serde_json::Value>) {
    webhook_server_with(failures, None).await
}

/// Like [`webhook_server`]; with `down_until`, requests before that instant
/// also fail (503) and are not passed on.
async fn webhook_server_with(
    failures: usize,
    down_until: Option<std::time::Instant>,
) -> (String, mpsc::UnboundedReceiver<serde_json::Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then as many body bytes as Content-Length says.
                let body = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break buf[end + 4..end + 4 + len].to_vec();
                    }
                };
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let down = down_until.is_some_and(|t| std::time::Instant::now() < t);
                let status = if n < failures || down {
                    "503 Service Unavailable"
                } else {
                    "200 OK"
                };
                if !down {
                    let _ = tx.send(serde_json::from_slice(&body).unwrap_or_default());
                }
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    (url, rx)
}

async fn next_request(rx: &mut mpsc::UnboundedReceiver<serde_json::Value>) -> serde_json::Value {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("webhook called")
        .unwrap()
}

#[tokio::test]
async fn webhook_is_retried_and_history_records_each_attempt() {
    let (url, mut requests) = webhook_server(1).await;
    let yaml = format!(
        r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1m
receivers:
- name: hook
  webhook_configs:
  - url: {url}
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let config = Config::load_str(&yaml, "alertmanager.yml").unwrap();
    let am = Alertmanager::start(config, AlertmanagerOptions::new(dir.path())).unwrap();
    am.put_alerts(vec![PostableAlert {
        labels: [("alertname".to_string(), "E2E".to_string())].into(),
        ..Default::default()
    }])
    .unwrap();
    let first = next_request(&mut requests).await;
    let second = next_request(&mut requests).await;
    assert_eq!(first, second, "the retry sends the same notification");
    assert_eq!(second["receiver"], "hook");
    assert_eq!(second["status"], "firing");
    assert_eq!(second["groupKey"], r#"{}:{alertname="E2E"}"#);
    assert_eq!(second["alerts"][0]["labels"]["alertname"], "E2E");
    // The success is recorded after the response; give it a moment.
    let mut hist = Vec::new();
    for _ in 0..100 {
        hist = am.history(&HistoryFilter::default());
        if hist.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let outcomes: Vec<(Outcome, u32)> = hist.iter().map(|a| (a.outcome, a.attempt)).collect();
    assert_eq!(
        outcomes,
        vec![(Outcome::Success, 2), (Outcome::Retrying, 1)]
    );
    assert!(
        hist[1].error.as_deref().unwrap_or("").contains("503"),
        "{:?}",
        hist[1].error
    );
    assert_eq!(hist[0].integration, "webhook");
    let st = am.stats();
    // One notification, sent in two requests of which one failed.
    assert_eq!(
        st.notifications["webhook"],
        NotifyCounts {
            notifications: 1,
            notifications_failed: 0,
            requests: 2,
            requests_failed: 1,
        }
    );
    assert_eq!(
        (st.alerts_active, st.aggregation_groups, st.nflog_entries),
        (1, 1, 1)
    );
    am.shutdown().unwrap();
}

/// Routes every alert to one webhook, flushing fast enough for a test.
fn hook_config(url: &str) -> String {
    format!(
        r#"
route:
  receiver: hook
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
- name: hook
  webhook_configs:
  - url: {url}
"#
    )
}

/// A real Alertmanager and ours, each sending to its own webhook server.
struct Both {
    peer: PeerAm,
    ours: Arc<Alertmanager>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Both {
    /// `None` when the peer is skipped (see [`crate::notify::peer::start`]).
    async fn start(name: &str, peer_url: &str, our_url: &str) -> Option<Both> {
        let peer = crate::notify::peer::start(name, &hook_config(peer_url)).await?;
        let dir = tempfile::tempdir().unwrap();
        let ours = Alertmanager::start(
            Config::load_str(&hook_config(our_url), "alertmanager.yml").unwrap(),
            AlertmanagerOptions::new(dir.path()),
        )
        .unwrap();
        Some(Both {
            peer,
            ours,
            http: reqwest::Client::new(),
            _dir: dir,
        })
    }

    /// Posts alert `name`, started at `t0` and ending at `ends_at`, to ours
    /// and then to the peer.
    async fn post(
        &self,
        name: &str,
        t0: chrono::DateTime<chrono::Utc>,
        ends_at: chrono::DateTime<chrono::Utc>,
    ) {
        let body = serde_json::json!([{
            "labels": {"alertname": name},
            "startsAt": api_time::format(&t0),
            "endsAt": api_time::format(&ends_at),
        }]);
        let parsed: Vec<PostableAlert> = serde_json::from_value(body.clone()).unwrap();
        self.ours.put_alerts(parsed).unwrap();
        let r = self
            .http
            .post(format!("{}/api/v2/alerts", self.peer.base))
            .json(&body)
            .send()
            .await;
        assert!(r.unwrap().status().is_success());
    }
}

/// The webhook payloads received so far, without `externalURL`.
fn drain_payloads(rx: &mut mpsc::UnboundedReceiver<serde_json::Value>) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    while let Ok(mut v) = rx.try_recv() {
        if let Some(o) = v.as_object_mut() {
            o.remove("externalURL");
        }
        out.push(v);
    }
    out
}

/// Each notification as its alerts' `name:status`, in payload order.
fn summarize(payloads: &[serde_json::Value]) -> Vec<Vec<String>> {
    payloads
        .iter()
        .map(|v| {
            v["alerts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|a| {
                    format!(
                        "{}:{}",
                        a["labels"]["alertname"].as_str().unwrap_or(""),
                        a["status"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .collect()
}

/// The same alerts, posted at the same moments, to a real Alertmanager and
/// to ours, each with a webhook receiver: the notifications must agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_match_real_alertmanager() {
    let (peer_url, mut peer_rx) = webhook_server(0).await;
    let (our_url, mut our_rx) = webhook_server(0).await;
    let Some(both) = Both::start("e2e-notify", &peer_url, &our_url).await else {
        return;
    };
    let t0 = chrono::Utc::now();
    let post = |name: &'static str, ends_at| both.post(name, t0, ends_at);
    let later = t0 + chrono::Duration::hours(1);
    // A at 0 (group flushes at 1), B at 1.5 (joins; flush at 3), A resolved
    // at 4 (flush at 5 reports it), nothing new by 7.
    post("A", later).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    post("B", later).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    post("A", chrono::Utc::now()).await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let (theirs_full, mine_full) = (drain_payloads(&mut peer_rx), drain_payloads(&mut our_rx));
    let theirs = summarize(&theirs_full);
    let mine = summarize(&mine_full);
    assert_eq!(
        theirs,
        vec![
            vec!["A:firing".to_string()],
            vec!["A:firing".to_string(), "B:firing".to_string()],
            vec!["A:resolved".to_string(), "B:firing".to_string()],
        ],
        "the peer did not behave as computed by hand"
    );
    assert_eq!(mine, theirs);
    // Whole payloads agree too (firing alerts with Go's zero endsAt, group
    // key, common labels, ...), but for the external URL, which names the
    // peer's own host and port.
    assert_eq!(mine_full, theirs_full);
    both.ours.shutdown().unwrap();
}

/// A receiver that is down when an alert fires and resolves, then comes
/// back: a real Alertmanager and ours deliver the same notifications.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_outage_matches_real_alertmanager() {
    let back = std::time::Instant::now() + Duration::from_secs(4);
    let (peer_url, mut peer_rx) = webhook_server_with(0, Some(back)).await;
    let (our_url, mut our_rx) = webhook_server_with(0, Some(back)).await;
    let Some(both) = Both::start("e2e-outage", &peer_url, &our_url).await else {
        return;
    };
    let t0 = chrono::Utc::now();
    let post = |ends_at| both.post("A", t0, ends_at);
    // Fires at 0 (first flush at 1 fails and is retried), resolves at 2;
    // the receiver is back at 4.
    post(t0 + chrono::Duration::hours(1)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    post(chrono::Utc::now()).await;
    tokio::time::sleep(Duration::from_secs(9)).await;
    let theirs = summarize(&drain_payloads(&mut peer_rx));
    let mine = summarize(&drain_payloads(&mut our_rx));
    // Hand computation: the retried flush still carries A firing (a flush's
    // alerts are fixed when it starts); the next flush, due meanwhile, runs
    // right after it and reports the resolution.
    assert_eq!(
        theirs,
        vec![vec!["A:firing".to_string()], vec!["A:resolved".to_string()]],
        "the peer did not behave as computed by hand"
    );
    assert_eq!(mine, theirs);
    both.ours.shutdown().unwrap();
}
