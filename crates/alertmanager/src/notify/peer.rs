//! Tests against a real Alertmanager 0.25 (`/usr/bin/prometheus-alertmanager`):
//! the same alerts go through the peer and through our notifiers, each
//! pointed at a local capture server, and the requests are compared.
//! Without the binary the tests are skipped, except under `CI=true`.

use std::process::{Child, Command, Stdio};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::testserver::{Captured, TestServer};
use crate::template::gotime;

/// A running peer; killed when dropped, however the test ends.
pub struct PeerAm {
    child: Child,
    dir: std::path::PathBuf,
    pub base: String,
}

impl Drop for PeerAm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const AM: &str = "/usr/bin/prometheus-alertmanager";

/// Starts the peer with `config` (alertmanager.yml text); `None` when the
/// binary is missing outside CI.
pub async fn start(name: &str, config: &str) -> Option<PeerAm> {
    if !std::path::Path::new(AM).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{AM} is required in CI"
        );
        eprintln!("skipping: {AM} not installed");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("sightline-am-peer-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("am.yml"), config).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(AM)
        .arg(format!("--config.file={}", dir.join("am.yml").display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let peer = PeerAm {
        child,
        dir,
        base: format!("http://127.0.0.1:{port}"),
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{}/-/ready", peer.base)).send().await {
            if r.status().is_success() {
                return Some(peer);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("alertmanager did not become ready");
}

impl PeerAm {
    /// Posts alerts to `/api/v2/alerts`.
    pub async fn post(&self, alerts: &Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v2/alerts", self.base))
            .json(alerts)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
}

/// The start time every peer test uses; old enough that the peer flushes
/// a new group at once instead of waiting for `group_wait`.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 6, 11, 30, 0).unwrap() + chrono::Duration::milliseconds(250)
}

/// Alert `PeerTest` for `instance`, as posted to the peer.
pub fn posted(instance: &str, ends: Option<DateTime<Utc>>) -> Value {
    let mut a = serde_json::json!({
        "labels": {"alertname": "PeerTest", "job": "api", "instance": instance},
        "annotations": {"summary": "peer test", "instance_note": instance},
        "startsAt": gotime::rfc3339_nano(&start_time()),
        "generatorURL": "http://prom:9090/graph?g0.expr=up",
    });
    if let Some(e) = ends {
        a["endsAt"] = Value::String(gotime::rfc3339_nano(&e));
    }
    a
}

/// The keys of a JSON object, sorted.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

pub async fn capture(srv: &mut TestServer) -> Captured {
    srv.next().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Alert, LabelSet};
    use crate::config::receiver::{GlobalConfig, Receiver};
    use crate::notify::{build_integrations, NotifyContext};
    use crate::template::Templates;
    use std::sync::Arc;

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn our_alert(inst: &str, ends: DateTime<Utc>) -> Alert {
        Alert {
            labels: ls(&[
                ("alertname", "PeerTest"),
                ("job", "api"),
                ("instance", inst),
            ]),
            annotations: ls(&[("summary", "peer test"), ("instance_note", inst)]),
            starts_at: start_time(),
            ends_at: ends,
            generator_url: "http://prom:9090/graph?g0.expr=up".into(),
            updated_at: start_time(),
            timeout: false,
        }
    }

    /// Slack and PagerDuty through the peer and through us: the same keys,
    /// and the same values wherever the value does not come from a default
    /// template (our default texts are our own).
    /// The context the peer gives a group of `PeerTest` alerts under its root route.
    fn peer_ctx(receiver: &str) -> NotifyContext {
        NotifyContext {
            receiver: receiver.into(),
            group_key: r#"{}:{alertname="PeerTest"}"#.into(),
            group_labels: ls(&[("alertname", "PeerTest")]),
            repeat_interval: std::time::Duration::from_secs(3600),
            external_url: "http://sightline:9093".into(),
        }
    }

    /// An alertmanager.yml routing everything to `receiver`, grouped by alertname.
    fn am_config(receiver: &str, receivers: &str) -> String {
        format!(
            "route:\n  receiver: '{receiver}'\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 1m\nreceivers:\n{receivers}"
        )
    }

    #[tokio::test]
    async fn slack_and_pagerduty_match_real_alertmanager() {
        let mut theirs_srv = TestServer::start().await;
        let receivers = |url: &str| {
            format!(
                "- name: 'team'\n  slack_configs:\n  - api_url: '{url}/slack'\n    channel: '#ops'\n    send_resolved: true\n\
                 \x20   fields: [{{title: Job, value: '{{{{ .CommonLabels.job }}}}', short: true}}, {{title: S, value: '{{{{ .Status }}}}'}}]\n\
                 \x20   short_fields: true\n    icon_url: ''\n    icon_emoji: ':fire:'\n    link_names: true\n\
                 \x20   image_url: 'http://img/{{{{ .Status }}}}'\n    thumb_url: 'http://thumb'\n\
                 \x20   actions: [{{type: button, text: 'Run {{{{ .Status }}}}', url: 'http://rb', style: danger}},\
                  {{type: button, text: t, name: n, value: v, confirm: {{text: sure, title: T}}}}]\n\
                 \x20 pagerduty_configs:\n  - routing_key: rk\n    url: '{url}/pd'\n    severity: warning\n    class: '{{{{ .Status }}}}'\n"
            )
        };
        let cfg = am_config("team", &receivers(&theirs_srv.url));
        let Some(peer) = start("slackpd", &cfg).await else {
            return;
        };
        let resolved_end = Utc::now() - chrono::Duration::seconds(30);
        peer.post(&serde_json::json!([
            posted("a:1", None),
            posted("b:2", Some(resolved_end))
        ]))
        .await;
        let mut theirs = std::collections::BTreeMap::new();
        for _ in 0..2 {
            let r = capture(&mut theirs_srv).await;
            theirs.insert(r.path.clone(), r.json());
        }

        let mut ours_srv = TestServer::start().await;
        let recv: Vec<Receiver> = serde_saphyr::from_str(&receivers(&ours_srv.url)).unwrap();
        let ns = build_integrations(
            &recv[0],
            &GlobalConfig::default(),
            Arc::new(Templates::default()),
        )
        .unwrap();
        let ctx = peer_ctx("team");
        let alerts = vec![
            our_alert("a:1", Utc::now() + chrono::Duration::minutes(5)),
            our_alert("b:2", resolved_end),
        ];
        let mut ours = std::collections::BTreeMap::new();
        for n in &ns {
            n.notify(&ctx, &alerts).await.unwrap();
            let r = capture(&mut ours_srv).await;
            ours.insert(r.path.clone(), r.json());
        }

        let (ts, os) = (&theirs["/slack"], &ours["/slack"]);
        assert_eq!(keys(ts), keys(os), "theirs {ts:#}\nours {os:#}");
        for k in ["channel", "icon_emoji", "link_names"] {
            assert_eq!(ts[k], os[k], "slack {k}: theirs {ts:#}\nours {os:#}");
        }
        let (ta, oa) = (&ts["attachments"][0], &os["attachments"][0]);
        assert_eq!(keys(ta), keys(oa), "theirs {ta:#}\nours {oa:#}");
        // Our subject line is written to read as Alertmanager's.
        for k in [
            "title",
            "color",
            "fields",
            "mrkdwn_in",
            "callback_id",
            "footer",
            "actions",
            "image_url",
            "thumb_url",
        ] {
            assert_eq!(
                ta[k], oa[k],
                "slack attachment {k}: theirs {ta:#}\nours {oa:#}"
            );
        }

        let (tp, op) = (&theirs["/pd"], &ours["/pd"]);
        assert_eq!(keys(tp), keys(op), "theirs {tp:#}\nours {op:#}");
        for k in ["routing_key", "dedup_key", "event_action"] {
            assert_eq!(tp[k], op[k], "pagerduty {k}");
        }
        assert_eq!(
            keys(&tp["payload"]),
            keys(&op["payload"]),
            "theirs {tp:#}\nours {op:#}"
        );
        for k in ["summary", "severity", "class"] {
            assert_eq!(tp["payload"][k], op["payload"][k], "pagerduty payload {k}");
        }
        let (td, od) = (
            &tp["payload"]["custom_details"],
            &op["payload"]["custom_details"],
        );
        assert_eq!(keys(td), keys(od));
        for k in ["num_firing", "num_resolved"] {
            assert_eq!(td[k], od[k], "custom_details {k}");
        }
    }

    /// Discord, Telegram and Webex through the peer and through us: same
    /// keys, and the same values where they do not come from a default
    /// template.
    #[tokio::test]
    async fn chat_receivers_match_real_alertmanager() {
        let mut theirs_srv = TestServer::start().await;
        let receivers = |url: &str| {
            format!(
                "- name: 'team'\n  discord_configs:\n  - webhook_url: '{url}/discord'\n\
                 \x20 telegram_configs:\n  - api_url: '{url}/tg'\n    bot_token: '123:abc'\n    chat_id: -100\n\
                 \x20   message: '<b>{{{{ .CommonLabels.job }}}}</b>'\n\
                 \x20 webex_configs:\n  - api_url: '{url}/webex'\n    room_id: room1\n    message: '{{{{ .Status }}}}'\n\
                 \x20   http_config: {{authorization: {{credentials: tok}}}}\n"
            )
        };
        let cfg = am_config("team", &receivers(&theirs_srv.url));
        let Some(peer) = start("chat", &cfg).await else {
            return;
        };
        peer.post(&serde_json::json!([posted("a:1", None)])).await;
        let mut theirs = std::collections::BTreeMap::new();
        while theirs.len() < 3 {
            let r = capture(&mut theirs_srv).await;
            let key = r.path.split('/').nth(1).unwrap_or("").to_owned();
            theirs
                .entry(key)
                .or_insert((r.path.clone(), r.headers.clone(), r.json()));
        }

        let mut ours_srv = TestServer::start().await;
        let recv: Vec<Receiver> = serde_saphyr::from_str(&receivers(&ours_srv.url)).unwrap();
        let ns = build_integrations(
            &recv[0],
            &GlobalConfig::default(),
            Arc::new(Templates::default()),
        )
        .unwrap();
        let ctx = peer_ctx("team");
        let alerts = vec![our_alert("a:1", Utc::now() + chrono::Duration::minutes(5))];
        let mut ours = std::collections::BTreeMap::new();
        for n in &ns {
            n.notify(&ctx, &alerts).await.unwrap();
            let r = capture(&mut ours_srv).await;
            let key = r.path.split('/').nth(1).unwrap_or("").to_owned();
            ours.insert(key, (r.path.clone(), r.headers.clone(), r.json()));
        }

        let (tp, _, td) = &theirs["discord"];
        let (op, _, od) = &ours["discord"];
        assert_eq!(tp, op);
        assert_eq!(keys(td), keys(od), "theirs {td:#}\nours {od:#}");
        assert_eq!(
            keys(&td["embeds"][0]),
            keys(&od["embeds"][0]),
            "theirs {td:#}\nours {od:#}"
        );
        assert_eq!(td["embeds"][0]["color"], od["embeds"][0]["color"]);
        assert_eq!(td["embeds"][0]["title"], od["embeds"][0]["title"]);

        let (tp, _, tt) = &theirs["tg"];
        let (op, _, ot) = &ours["tg"];
        assert_eq!(tp, op);
        assert_eq!(tt, ot, "theirs {tt:#}\nours {ot:#}");

        let (tp, th, tw) = &theirs["webex"];
        let (op, oh, ow) = &ours["webex"];
        assert_eq!(tp, op);
        assert_eq!(th["authorization"], oh["authorization"]);
        assert_eq!(tw, ow, "theirs {tw:#}\nours {ow:#}");
    }

    /// OpsGenie's create request through the peer and through us, with
    /// every text set in the config so that the whole body must agree.
    #[tokio::test]
    async fn opsgenie_matches_real_alertmanager() {
        let mut theirs_srv = TestServer::start().await;
        let receivers = |url: &str| {
            format!(
                "- name: 'team'\n  opsgenie_configs:\n  - api_key: k1\n    api_url: '{url}/'\n\
                 \x20   message: '{{{{ .CommonLabels.alertname }}}} on {{{{ .CommonLabels.job }}}}'\n\
                 \x20   description: 'd {{{{ len .Alerts }}}}'\n    source: src\n    tags: 'a, b ,'\n    note: n\n\
                 \x20   priority: P3\n    entity: e\n    actions: 'x,y'\n    details: {{extra: '{{{{ .Status }}}}'}}\n\
                 \x20   responders: [{{name: 't1,t2', type: teams}}, {{id: abc, type: Schedule}}]\n"
            )
        };
        let cfg = am_config("team", &receivers(&theirs_srv.url));
        let Some(peer) = start("opsgenie", &cfg).await else {
            return;
        };
        peer.post(&serde_json::json!([posted("a:1", None)])).await;
        let theirs = capture(&mut theirs_srv).await;

        let mut ours_srv = TestServer::start().await;
        let recv: Vec<Receiver> = serde_saphyr::from_str(&receivers(&ours_srv.url)).unwrap();
        let ns = build_integrations(
            &recv[0],
            &GlobalConfig::default(),
            Arc::new(Templates::default()),
        )
        .unwrap();
        let ctx = peer_ctx("team");
        ns[0]
            .notify(
                &ctx,
                &[our_alert("a:1", Utc::now() + chrono::Duration::minutes(5))],
            )
            .await
            .unwrap();
        let ours = capture(&mut ours_srv).await;
        assert_eq!(
            (theirs.method.as_str(), theirs.path.as_str()),
            (ours.method.as_str(), ours.path.as_str())
        );
        assert_eq!(
            theirs.headers["authorization"],
            ours.headers["authorization"]
        );
        assert_eq!(
            theirs.json(),
            ours.json(),
            "theirs {:#}\nours {:#}",
            theirs.json(),
            ours.json()
        );
    }

    /// Long texts are cut where and how the peer cuts them (Slack titles,
    /// OpsGenie messages, PagerDuty summaries).
    #[tokio::test]
    async fn truncation_matches_real_alertmanager() {
        let long: String = "é".repeat(700) + &"x".repeat(700);
        let mut theirs_srv = TestServer::start().await;
        let receivers = |url: &str| {
            format!(
                "- name: 'team'\n  slack_configs:\n  - api_url: '{url}/slack'\n    title: '{{{{ .CommonAnnotations.long }}}}'\n\
                 \x20 pagerduty_configs:\n  - routing_key: rk\n    url: '{url}/pd'\n    description: '{{{{ .CommonAnnotations.long }}}}'\n\
                 \x20 opsgenie_configs:\n  - api_key: k\n    api_url: '{url}/'\n    message: '{{{{ .CommonAnnotations.long }}}}'\n"
            )
        };
        let cfg = am_config("team", &receivers(&theirs_srv.url));
        let Some(peer) = start("truncate", &cfg).await else {
            return;
        };
        let mut a = posted("a:1", None);
        a["annotations"]["long"] = Value::String(long.clone());
        peer.post(&Value::Array(vec![a])).await;
        let mut theirs = std::collections::BTreeMap::new();
        while theirs.len() < 3 {
            let r = capture(&mut theirs_srv).await;
            theirs.insert(r.path.clone(), r.json());
        }

        let mut ours_srv = TestServer::start().await;
        let recv: Vec<Receiver> = serde_saphyr::from_str(&receivers(&ours_srv.url)).unwrap();
        let ns = build_integrations(
            &recv[0],
            &GlobalConfig::default(),
            Arc::new(Templates::default()),
        )
        .unwrap();
        let ctx = peer_ctx("team");
        let mut alert = our_alert("a:1", Utc::now() + chrono::Duration::minutes(5));
        alert.annotations.insert("long".into(), long);
        let mut ours = std::collections::BTreeMap::new();
        for n in &ns {
            n.notify(&ctx, std::slice::from_ref(&alert)).await.unwrap();
            let r = capture(&mut ours_srv).await;
            ours.insert(r.path.clone(), r.json());
        }
        assert_eq!(
            theirs["/slack"]["attachments"][0]["title"],
            ours["/slack"]["attachments"][0]["title"]
        );
        assert_eq!(
            theirs["/pd"]["payload"]["summary"],
            ours["/pd"]["payload"]["summary"]
        );
        assert_eq!(
            theirs["/v2/alerts"]["message"],
            ours["/v2/alerts"]["message"]
        );
    }

    /// Template semantics checked against the peer: each case is the
    /// `text` of a Slack config, so the peer renders it with Go's
    /// text/template and its own data and functions.
    #[tokio::test]
    async fn templates_render_as_real_alertmanager() {
        let cases = [
            "{{ .CommonLabels }}",
            "{{ .CommonLabels.SortedPairs }}",
            "{{ .CommonLabels.Names }} {{ .CommonLabels.Values }}",
            "{{ .CommonLabels.SortedPairs.Names }}",
            "{{ (index .Alerts 0).StartsAt }}|{{ (index .Alerts 0).EndsAt }}",
            "{{ (index .Alerts 0).StartsAt.Format \"Mon Jan _2 15:04:05.000 MST 2006\" }}",
            "{{ (index .Alerts 0).StartsAt.Unix }}",
            "[{{ .CommonLabels.missing }}]{{ if eq .CommonLabels.missing \"\" }}empty{{ end }}",
            "{{ title \"hELLO wORLD-foo bar_baz\" }}",
            "{{ reReplaceAll \"(a+)b\" \"<$1>\" \"xaab-ab\" }} {{ match \"^Peer\" .CommonLabels.alertname }}",
            "{{ .CommonLabels.Remove (stringSlice \"job\") }}",
            "{{ join \", \" .GroupLabels.Values }} {{ toUpper .Status }} {{ toLower \"AbC\" }}",
            "{{ index .CommonLabels.SortedPairs 0 }} {{ index .CommonLabels \"job\" }}",
            "{{ printf \"%v|%s|%q\" .CommonLabels .Status .Status }}",
            "{{ .CommonLabels.SortedPairs.Values | join \",\" }} {{ range $i, $a := .Alerts }}{{ $i }}{{ end }}",
            "{{ if .Alerts.Resolved }}r{{ else }}none{{ end }} {{ if .Alerts.Firing }}f{{ end }}",
            "{{ .Alerts.Firing }}",
            "{{ html \"<a&b>\" }} {{ urlquery \"a b&c\" }} {{ js \"x'y\" }}",
            "{{ title \"élan vital's o'neil 3rd-party x.y\" }}",
            "{{ (index .Alerts 0).StartsAt.Format \"2006-01-02T15:04:05Z07:00 Jan 02, 3:04pm (MST) .999999999 002\" }}",
            "{{ reReplaceAll \"[0-9]+\" \"N\" \"a1b22\" }} {{ match \"a\" \"\" }} {{ stringSlice \"a\" \"b\" }}",
            "{{ .CommonLabels.alertname | reReplaceAll \"Peer\" \"X\" }} {{ $l := .CommonLabels }}{{ $l.job }}",
            "{{ define \"x\" }}X{{ .Status }}{{ end }}{{ template \"x\" . }}",
            "{{ len .CommonLabels.SortedPairs }} {{ .Alerts.Firing | len | printf \"%d firing\" }} {{ .Alerts.Resolved }}",
            "{{ (index .Alerts 0).Labels.SortedPairs.Values | join \",\" }} {{- /* trimmed */ -}} !",
            "{{ index .Alerts.Firing 0 }}",
            "{{ urlquery .Receiver }} {{ html .Receiver }} {{ eq .Status \"resolved\" \"firing\" }}",
            "{{ if gt (len .Alerts.Firing) 0 }}some{{ end }} {{ printf \"%.2f|%5s|%-3d|\" 3.14159 .Status 7 }}",
            "{{ range $i, $p := .CommonLabels.SortedPairs }}{{ if $i }}, {{ end }}{{ $p.Name }}{{ end }}",
            "{{ .Alerts.Firing | len }}/{{ len .Alerts.Resolved }}",
            "{{ range .Alerts }}{{ .Fingerprint }} {{ .Status }} {{ .GeneratorURL }}{{ end }}",
            "{{ .Receiver }}",
            "{{ range $k, $v := .CommonLabels }}{{ $k }}={{ $v }};{{ end }}",
            "{{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join \" \" }}{{ end }}",
            "{{ range .Alerts }}{{ range .Labels.SortedPairs }}{{ .Name }}:{{ .Value }} {{ end }}{{ end }}",
            "{{ .Status | title }} {{ len .CommonAnnotations }} {{ .CommonAnnotations.summary | toUpper }}",
        ];
        let mut theirs_srv = TestServer::start().await;
        let receivers = |url: &str| {
            let mut y = String::from("- name: 'team.a'\n  slack_configs:\n");
            for (i, c) in cases.iter().enumerate() {
                y.push_str(&format!(
                    "  - api_url: '{url}/slack/{i}'\n    text: {}\n",
                    serde_json::to_string(c).unwrap()
                ));
            }
            y
        };
        let cfg = format!(
            "route:\n  receiver: 'team.a'\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 1m\nreceivers:\n{}",
            receivers(&theirs_srv.url)
        );
        let Some(peer) = start("templates", &cfg).await else {
            return;
        };
        peer.post(&serde_json::json!([posted("a:1", None)])).await;
        let mut theirs = std::collections::BTreeMap::new();
        while theirs.len() < cases.len() {
            // A case Go cannot run sends nothing; stop waiting after a while.
            let wait = std::time::Duration::from_secs(10);
            let Ok(Some(r)) = tokio::time::timeout(wait, theirs_srv.requests.recv()).await else {
                break;
            };
            theirs.insert(r.path.clone(), r.json()["attachments"][0]["text"].clone());
        }

        let mut ours_srv = TestServer::start().await;
        let recv: Vec<Receiver> = serde_saphyr::from_str(&receivers(&ours_srv.url)).unwrap();
        let ns = build_integrations(
            &recv[0],
            &GlobalConfig::default(),
            Arc::new(Templates::default()),
        )
        .unwrap();
        let ctx = peer_ctx("team.a");
        let alert = our_alert("a:1", Utc::now() + chrono::Duration::minutes(5));
        let mut failures = Vec::new();
        for (i, n) in ns.iter().enumerate() {
            n.notify(&ctx, std::slice::from_ref(&alert)).await.unwrap();
            let r = capture(&mut ours_srv).await;
            let ours = r.json()["attachments"][0]["text"].clone();
            let Some(t) = theirs.get(&r.path) else {
                failures.push(format!(
                    "{}\n  theirs: nothing sent\n  ours   {ours}",
                    cases[i]
                ));
                continue;
            };
            if *t != ours {
                failures.push(format!("{}\n  theirs {t}\n  ours   {ours}", cases[i]));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// VictorOps' request through the peer and through us, texts set in
    /// the config so that the whole body must agree.
    #[tokio::test]
    async fn victorops_matches_real_alertmanager() {
        let mut theirs_srv = TestServer::start().await;
        let receivers = |url: &str| {
            format!(
                "- name: 'team'\n  victorops_configs:\n  - api_key: k1\n    api_url: '{url}/alert/'\n\
                 \x20   routing_key: '{{{{ .CommonLabels.job }}}}'\n    message_type: WARNING\n\
                 \x20   state_message: 's {{{{ len .Alerts }}}}'\n    entity_display_name: '{{{{ .CommonLabels.alertname }}}}'\n\
                 \x20   monitoring_tool: mt\n    custom_fields: {{team: '{{{{ .Status }}}}'}}\n"
            )
        };
        let Some(peer) = start("victorops", &am_config("team", &receivers(&theirs_srv.url))).await
        else {
            return;
        };
        peer.post(&serde_json::json!([posted("a:1", None)])).await;
        let theirs = capture(&mut theirs_srv).await;

        let mut ours_srv = TestServer::start().await;
        let recv: Vec<Receiver> = serde_saphyr::from_str(&receivers(&ours_srv.url)).unwrap();
        let ns = build_integrations(
            &recv[0],
            &GlobalConfig::default(),
            Arc::new(Templates::default()),
        )
        .unwrap();
        ns[0]
            .notify(
                &peer_ctx("team"),
                &[our_alert("a:1", Utc::now() + chrono::Duration::minutes(5))],
            )
            .await
            .unwrap();
        let ours = capture(&mut ours_srv).await;
        assert_eq!(theirs.path, ours.path);
        assert_eq!(
            theirs.json(),
            ours.json(),
            "theirs {:#}\nours {:#}",
            theirs.json(),
            ours.json()
        );
    }

    /// WeChat's token request and message through the peer and through us.
    #[tokio::test]
    async fn wechat_matches_real_alertmanager() {
        let token = r#"{"errcode":0,"errmsg":"ok","access_token":"tok1"}"#;
        let mut theirs_srv = TestServer::start().await;
        *theirs_srv.body.lock().unwrap() = token.into();
        let receivers = |url: &str| {
            format!(
                "- name: 'team'\n  wechat_configs:\n  - api_url: '{url}/cgi-bin/'\n    corp_id: corp\n    api_secret: 's e'\n\
                 \x20   to_party: '2'\n    agent_id: '1000002'\n    message: '{{{{ .CommonLabels.job }}}} {{{{ .Status }}}}'\n"
            )
        };
        let Some(peer) = start("wechat", &am_config("team", &receivers(&theirs_srv.url))).await
        else {
            return;
        };
        peer.post(&serde_json::json!([posted("a:1", None)])).await;
        let theirs = [
            capture(&mut theirs_srv).await,
            capture(&mut theirs_srv).await,
        ];

        let mut ours_srv = TestServer::start().await;
        *ours_srv.body.lock().unwrap() = token.into();
        let recv: Vec<Receiver> = serde_saphyr::from_str(&receivers(&ours_srv.url)).unwrap();
        let ns = build_integrations(
            &recv[0],
            &GlobalConfig::default(),
            Arc::new(Templates::default()),
        )
        .unwrap();
        ns[0]
            .notify(
                &peer_ctx("team"),
                &[our_alert("a:1", Utc::now() + chrono::Duration::minutes(5))],
            )
            .await
            .unwrap();
        let ours = [capture(&mut ours_srv).await, capture(&mut ours_srv).await];
        for (t, o) in theirs.iter().zip(&ours) {
            assert_eq!(
                (t.method.as_str(), t.path.as_str()),
                (o.method.as_str(), o.path.as_str())
            );
        }
        assert_eq!(
            theirs[1].json(),
            ours[1].json(),
            "theirs {:#}\nours {:#}",
            theirs[1].json(),
            ours[1].json()
        );
    }
}
