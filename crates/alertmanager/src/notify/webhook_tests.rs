use super::*;
use crate::notify::peer;
use crate::notify::tests::ls;
use crate::notify::testserver::TestServer;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

fn alert(inst: &str, starts: DateTime<Utc>, ends: DateTime<Utc>) -> Alert {
    Alert {
        labels: ls(&[
            ("alertname", "PeerTest"),
            ("job", "api"),
            ("instance", inst),
        ]),
        annotations: ls(&[("summary", "peer test"), ("instance_note", inst)]),
        starts_at: starts,
        ends_at: ends,
        generator_url: "http://prom:9090/graph?g0.expr=up".into(),
        updated_at: starts,
        timeout: false,
    }
}

fn ctx(receiver: &str) -> NotifyContext {
    NotifyContext {
        receiver: receiver.into(),
        group_key: r#"{}:{alertname="PeerTest"}"#.into(),
        group_labels: ls(&[("alertname", "PeerTest")]),
        repeat_interval: std::time::Duration::from_secs(3600),
        external_url: "http://sightline:9093".into(),
    }
}

fn webhook(url: &str, max_alerts: u64) -> Webhook {
    let cfg: WebhookConfig =
        serde_saphyr::from_str(&format!("url: '{url}'\nmax_alerts: {max_alerts}")).unwrap();
    Webhook::new(0, &cfg, &GlobalConfig::default()).unwrap()
}

#[tokio::test]
async fn payload_as_documented() {
    let mut srv = TestServer::start().await;
    let start =
        Utc.with_ymd_and_hms(2024, 5, 6, 11, 30, 0).unwrap() + chrono::Duration::milliseconds(500);
    let resolved_end = Utc.with_ymd_and_hms(2024, 5, 6, 11, 45, 0).unwrap();
    let far = Utc::now() + chrono::Duration::hours(1);
    let alerts = vec![
        alert("a:1", start, far),
        alert("b:2", start, resolved_end),
        alert("c:3", start, far),
    ];
    let w = webhook(&format!("{}/hook", srv.url), 2);
    w.notify(&ctx("web.hook"), &alerts).await.unwrap();
    let req = srv.next().await;
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hook");
    assert_eq!(req.headers["content-type"], "application/json");
    // Fingerprint computed by hand with FNV-1a over the sorted labels.
    let fp = format!("{:016x}", crate::alert::fingerprint(&alerts[0].labels));
    let fp2 = format!("{:016x}", crate::alert::fingerprint(&alerts[1].labels));
    let expected: Value = serde_json::from_str(&format!(
        r#"{{"receiver":"web\\.hook","status":"firing","alerts":[
        {{"status":"firing","labels":{{"alertname":"PeerTest","instance":"a:1","job":"api"}},
          "annotations":{{"instance_note":"a:1","summary":"peer test"}},
          "startsAt":"2024-05-06T11:30:00.5Z","endsAt":"0001-01-01T00:00:00Z",
          "generatorURL":"http://prom:9090/graph?g0.expr=up","fingerprint":"{fp}"}},
        {{"status":"resolved","labels":{{"alertname":"PeerTest","instance":"b:2","job":"api"}},
          "annotations":{{"instance_note":"b:2","summary":"peer test"}},
          "startsAt":"2024-05-06T11:30:00.5Z","endsAt":"2024-05-06T11:45:00Z",
          "generatorURL":"http://prom:9090/graph?g0.expr=up","fingerprint":"{fp2}"}}],
        "groupLabels":{{"alertname":"PeerTest"}},
        "commonLabels":{{"alertname":"PeerTest","job":"api"}},
        "commonAnnotations":{{"summary":"peer test"}},
        "externalURL":"http://sightline:9093","version":"4",
        "groupKey":"{{}}:{{alertname=\"PeerTest\"}}","truncatedAlerts":1}}"#
    ))
    .unwrap();
    assert_eq!(req.json(), expected);
    // Key order as Go's encoder writes the struct fields.
    let body = String::from_utf8(req.body).unwrap();
    let order = [
        "\"receiver\"",
        "\"status\"",
        "\"alerts\"",
        "\"groupLabels\"",
        "\"commonLabels\"",
        "\"commonAnnotations\"",
        "\"externalURL\"",
        "\"version\"",
        "\"groupKey\"",
        "\"truncatedAlerts\"",
    ];
    let pos: Vec<usize> = order.iter().map(|k| body.find(k).unwrap()).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{body}");
}

#[tokio::test]
async fn status_codes_are_classified() {
    let mut srv = TestServer::start().await;
    let w = webhook(&srv.url, 0);
    let now = Utc::now();
    let a = vec![alert("a:1", now, now + chrono::Duration::hours(1))];
    for (code, retry) in [
        (500u16, true),
        (503, true),
        (429, true),
        (400, false),
        (404, false),
    ] {
        srv.status.store(code, std::sync::atomic::Ordering::SeqCst);
        let e = w.notify(&ctx("r"), &a).await.unwrap_err();
        assert_eq!(e.retryable, retry, "{code}: {e}");
        assert!(e.message.contains(&code.to_string()), "{e}");
        srv.next().await;
    }
    // Nobody listening: worth retrying.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let e = webhook(&format!("http://{dead}/"), 0)
        .notify(&ctx("r"), &a)
        .await
        .unwrap_err();
    assert!(e.retryable, "{e}");
}

/// The proof that the payload is right: the same alerts go through a real
/// Alertmanager 0.25 and through our notifier, and the two messages must
/// agree field by field (externalURL differs by construction).
#[tokio::test]
async fn payload_matches_real_alertmanager() {
    let mut peer_hook = TestServer::start().await;
    let cfg = format!(
        "route:\n  receiver: 'web.hook'\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 1m\n\
         receivers:\n- name: 'web.hook'\n  webhook_configs:\n  - url: '{}/peer'\n    max_alerts: 0\n",
        peer_hook.url
    );
    let Some(peer) = peer::start("webhook", &cfg).await else {
        return;
    };
    let start = peer::start_time();
    let resolved_end = Utc::now() - chrono::Duration::seconds(30);
    peer.post(&serde_json::json!([
        peer::posted("a:1", None),
        peer::posted("b:2", Some(resolved_end))
    ]))
    .await;
    let theirs = peer_hook.next().await;
    assert_eq!(theirs.method, "POST");
    assert_eq!(theirs.path, "/peer");
    let theirs = theirs.json();

    let mut ours_srv = TestServer::start().await;
    let alerts = vec![
        alert("a:1", start, Utc::now() + chrono::Duration::minutes(5)),
        alert("b:2", start, resolved_end),
    ];
    webhook(&format!("{}/ours", ours_srv.url), 0)
        .notify(&ctx("web.hook"), &alerts)
        .await
        .unwrap();
    let ours = ours_srv.next().await.json();

    let (t, o) = (theirs.as_object().unwrap(), ours.as_object().unwrap());
    assert_eq!(peer::keys(&theirs), peer::keys(&ours));
    for (k, v) in t {
        if k == "externalURL" {
            continue;
        }
        assert_eq!(&o[k], v, "field {k}: theirs {theirs:#}\nours {ours:#}");
    }
}

/// Sends one notification through a webhook configured by `yaml`.
async fn send_once(yaml: String) {
    let now = Utc::now();
    let a = vec![alert("a:1", now, now + chrono::Duration::hours(1))];
    let cfg: WebhookConfig = serde_saphyr::from_str(&yaml).unwrap();
    Webhook::new(0, &cfg, &GlobalConfig::default())
        .unwrap()
        .notify(&ctx("r"), &a)
        .await
        .unwrap();
}

#[tokio::test]
async fn http_config_credentials_are_sent() {
    let mut srv = TestServer::start().await;
    // base64("user:pa ss") written out by hand: dXNlcjpwYSBzcw==
    send_once(format!(
        "url: '{}/'\nhttp_config: {{basic_auth: {{username: user, password: 'pa ss'}}}}",
        srv.url
    ))
    .await;
    assert_eq!(
        srv.next().await.headers["authorization"],
        "Basic dXNlcjpwYSBzcw=="
    );

    let file = std::env::temp_dir().join(format!("sightline-am-cred-{}", std::process::id()));
    std::fs::write(&file, "tok-from-file\n").unwrap();
    send_once(format!(
        "url: '{}/'\nhttp_config: {{authorization: {{type: Token, credentials_file: '{}'}}}}",
        srv.url,
        file.display()
    ))
    .await;
    assert_eq!(
        srv.next().await.headers["authorization"],
        "Token tok-from-file"
    );
    send_once(format!(
        "url: '{}/'\nhttp_config: {{bearer_token: b1}}",
        srv.url
    ))
    .await;
    assert_eq!(srv.next().await.headers["authorization"], "Bearer b1");
    let _ = std::fs::remove_file(&file);
}
