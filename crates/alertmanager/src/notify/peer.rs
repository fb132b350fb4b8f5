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

/// Starts the peer with `config` (alertmanager.yml text); `None` when the
/// binary is missing outside CI.
pub async fn start(name: &str, config: &str) -> Option<PeerAm> {
    let bin = sightline_testkit::peer(
        "prometheus-alertmanager",
        "apt-get install prometheus-alertmanager",
    )?;
    let dir = std::env::temp_dir().join(format!("sightline-am-peer-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("am.yml"), config).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin)
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
    //! Each test states its receivers (YAML written for a capture server's
    //! URL), the alerts, and what must agree; [`peer_run`] and [`our_run`]
    //! send the same alerts through the peer and through us.

    use super::*;
    use crate::alert::Alert;
    use crate::config::receiver::{GlobalConfig, Receiver};
    use crate::notify::tests::ls;
    use crate::notify::{build_integrations, NotifyContext};
    use crate::template::Templates;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    /// Receivers YAML (a list of one receiver) for a capture server's URL.
    type Receivers<'a> = &'a dyn Fn(&str) -> String;

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

    /// Our side of `posted(inst, None)`: firing for a while yet.
    fn firing(inst: &str) -> Alert {
        our_alert(inst, Utc::now() + chrono::Duration::minutes(5))
    }

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

    /// A capture server answering `reply` (or `ok`) to every request.
    async fn capture_server(reply: Option<&str>) -> TestServer {
        let srv = TestServer::start().await;
        if let Some(r) = reply {
            *srv.body.lock().unwrap() = r.into();
        }
        srv
    }

    /// Starts a capture server and the peer routing everything to
    /// `receiver`, and posts `alerts` to the peer. The peer must live until
    /// its requests are captured, so it is returned too; `None` when the
    /// peer is skipped (see [`start`]).
    async fn peer_run(
        name: &str,
        receiver: &str,
        receivers: Receivers<'_>,
        reply: Option<&str>,
        alerts: Value,
    ) -> Option<(PeerAm, TestServer)> {
        let srv = capture_server(reply).await;
        let peer = start(name, &am_config(receiver, &receivers(&srv.url))).await?;
        peer.post(&alerts).await;
        Some((peer, srv))
    }

    /// Our integrations for the same receivers, each notified of `alerts`
    /// in the peer's context; returns the requests sent, `per_notify` for
    /// each integration, in integration order.
    async fn our_run(
        receiver: &str,
        receivers: Receivers<'_>,
        reply: Option<&str>,
        alerts: &[Alert],
        per_notify: usize,
    ) -> Vec<Captured> {
        let mut srv = capture_server(reply).await;
        let recv: Vec<Receiver> = serde_saphyr::from_str(&receivers(&srv.url)).unwrap();
        let ns = build_integrations(
            &recv[0],
            &GlobalConfig::default(),
            Arc::new(Templates::default()),
        )
        .unwrap();
        let ctx = peer_ctx(receiver);
        let mut out = Vec::new();
        for n in &ns {
            n.notify(&ctx, alerts).await.unwrap();
            for _ in 0..per_notify {
                out.push(capture(&mut srv).await);
            }
        }
        out
    }

    /// Requests captured until `n` distinct keys were seen; the first
    /// request of each key is kept.
    async fn collect(
        srv: &mut TestServer,
        n: usize,
        key: fn(&Captured) -> String,
    ) -> BTreeMap<String, Captured> {
        let mut out = BTreeMap::new();
        while out.len() < n {
            let r = capture(srv).await;
            out.entry(key(&r)).or_insert(r);
        }
        out
    }

    /// Our requests by key.
    fn by_key(reqs: Vec<Captured>, key: fn(&Captured) -> String) -> BTreeMap<String, Captured> {
        reqs.into_iter().map(|r| (key(&r), r)).collect()
    }

    fn path(r: &Captured) -> String {
        r.path.clone()
    }

    /// `/tg/bot123:abc/sendMessage` -> `tg`.
    fn first_segment(r: &Captured) -> String {
        r.path.split('/').nth(1).unwrap_or("").to_owned()
    }

    /// The whole JSON bodies agree.
    fn assert_same_body(theirs: &Captured, ours: &Captured) {
        assert_eq!(
            theirs.json(),
            ours.json(),
            "theirs {:#}\nours {:#}",
            theirs.json(),
            ours.json()
        );
    }

    /// Slack and PagerDuty through the peer and through us: the same keys,
    /// and the same values wherever the value does not come from a default
    /// template (our default texts are our own).
    #[tokio::test]
    async fn slack_and_pagerduty_match_real_alertmanager() {
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
        let resolved_end = Utc::now() - chrono::Duration::seconds(30);
        let posted_alerts =
            serde_json::json!([posted("a:1", None), posted("b:2", Some(resolved_end))]);
        let Some((_peer, mut srv)) =
            peer_run("slackpd", "team", &receivers, None, posted_alerts).await
        else {
            return;
        };
        let theirs = collect(&mut srv, 2, path).await;
        let alerts = [firing("a:1"), our_alert("b:2", resolved_end)];
        let ours = by_key(our_run("team", &receivers, None, &alerts, 1).await, path);

        let (ts, os) = (&theirs["/slack"].json(), &ours["/slack"].json());
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

        let (tp, op) = (&theirs["/pd"].json(), &ours["/pd"].json());
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
        let receivers = |url: &str| {
            format!(
                "- name: 'team'\n  discord_configs:\n  - webhook_url: '{url}/discord'\n\
                 \x20 telegram_configs:\n  - api_url: '{url}/tg'\n    bot_token: '123:abc'\n    chat_id: -100\n\
                 \x20   message: '<b>{{{{ .CommonLabels.job }}}}</b>'\n\
                 \x20 webex_configs:\n  - api_url: '{url}/webex'\n    room_id: room1\n    message: '{{{{ .Status }}}}'\n\
                 \x20   http_config: {{authorization: {{credentials: tok}}}}\n"
            )
        };
        let posted_alerts = serde_json::json!([posted("a:1", None)]);
        let Some((_peer, mut srv)) =
            peer_run("chat", "team", &receivers, None, posted_alerts).await
        else {
            return;
        };
        let theirs = collect(&mut srv, 3, first_segment).await;
        let ours = by_key(
            our_run("team", &receivers, None, &[firing("a:1")], 1).await,
            first_segment,
        );

        let (t, o) = (&theirs["discord"], &ours["discord"]);
        let (td, od) = (&t.json(), &o.json());
        assert_eq!(t.path, o.path);
        assert_eq!(keys(td), keys(od), "theirs {td:#}\nours {od:#}");
        assert_eq!(
            keys(&td["embeds"][0]),
            keys(&od["embeds"][0]),
            "theirs {td:#}\nours {od:#}"
        );
        assert_eq!(td["embeds"][0]["color"], od["embeds"][0]["color"]);
        assert_eq!(td["embeds"][0]["title"], od["embeds"][0]["title"]);

        let (t, o) = (&theirs["tg"], &ours["tg"]);
        assert_eq!(t.path, o.path);
        assert_same_body(t, o);

        let (t, o) = (&theirs["webex"], &ours["webex"]);
        assert_eq!(t.path, o.path);
        assert_eq!(t.headers["authorization"], o.headers["authorization"]);
        assert_same_body(t, o);
    }

    /// OpsGenie's create request through the peer and through us, with
    /// every text set in the config so that the whole body must agree.
    #[tokio::test]
    async fn opsgenie_matches_real_alertmanager() {
        let receivers = |url: &str| {
            format!(
                "- name: 'team'\n  opsgenie_configs:\n  - api_key: k1\n    api_url: '{url}/'\n\
                 \x20   message: '{{{{ .CommonLabels.alertname }}}} on {{{{ .CommonLabels.job }}}}'\n\
                 \x20   description: 'd {{{{ len .Alerts }}}}'\n    source: src\n    tags: 'a, b ,'\n    note: n\n\
                 \x20   priority: P3\n    entity: e\n    actions: 'x,y'\n    details: {{extra: '{{{{ .Status }}}}'}}\n\
                 \x20   responders: [{{name: 't1,t2', type: teams}}, {{id: abc, type: Schedule}}]\n"
            )
        };
        let posted_alerts = serde_json::json!([posted("a:1", None)]);
        let Some((_peer, mut srv)) =
            peer_run("opsgenie", "team", &receivers, None, posted_alerts).await
        else {
            return;
        };
        let theirs = capture(&mut srv).await;
        let ours = &our_run("team", &receivers, None, &[firing("a:1")], 1).await[0];
        assert_eq!(
            (theirs.method.as_str(), theirs.path.as_str()),
            (ours.method.as_str(), ours.path.as_str())
        );
        assert_eq!(
            theirs.headers["authorization"],
            ours.headers["authorization"]
        );
        assert_same_body(&theirs, ours);
    }

    /// Long texts are cut where and how the peer cuts them (Slack titles,
    /// OpsGenie messages, PagerDuty summaries).
    #[tokio::test]
    async fn truncation_matches_real_alertmanager() {
        let long: String = "é".repeat(700) + &"x".repeat(700);
        let receivers = |url: &str| {
            format!(
                "- name: 'team'\n  slack_configs:\n  - api_url: '{url}/slack'\n    title: '{{{{ .CommonAnnotations.long }}}}'\n\
                 \x20 pagerduty_configs:\n  - routing_key: rk\n    url: '{url}/pd'\n    description: '{{{{ .CommonAnnotations.long }}}}'\n\
                 \x20 opsgenie_configs:\n  - api_key: k\n    api_url: '{url}/'\n    message: '{{{{ .CommonAnnotations.long }}}}'\n"
            )
        };
        let mut a = posted("a:1", None);
        a["annotations"]["long"] = Value::String(long.clone());
        let Some((_peer, mut srv)) =
            peer_run("truncate", "team", &receivers, None, Value::Array(vec![a])).await
        else {
            return;
        };
        let theirs = collect(&mut srv, 3, path).await;
        let mut alert = firing("a:1");
        alert.annotations.insert("long".into(), long);
        let ours = by_key(our_run("team", &receivers, None, &[alert], 1).await, path);
        let at = |m: &BTreeMap<String, Captured>, p: &str, ptr: &str| {
            m[p].json().pointer(ptr).cloned().unwrap_or(Value::Null)
        };
        for (p, ptr) in [
            ("/slack", "/attachments/0/title"),
            ("/pd", "/payload/summary"),
            ("/v2/alerts", "/message"),
        ] {
            assert_eq!(at(&theirs, p, ptr), at(&ours, p, ptr), "{p} {ptr}");
        }
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
        let posted_alerts = serde_json::json!([posted("a:1", None)]);
        let Some((_peer, mut srv)) =
            peer_run("templates", "team.a", &receivers, None, posted_alerts).await
        else {
            return;
        };
        let mut theirs = BTreeMap::new();
        while theirs.len() < cases.len() {
            // A case Go cannot run sends nothing; stop waiting after a while.
            let wait = std::time::Duration::from_secs(10);
            let Ok(Some(r)) = tokio::time::timeout(wait, srv.requests.recv()).await else {
                break;
            };
            theirs.insert(r.path.clone(), r.json()["attachments"][0]["text"].clone());
        }

        let ours = our_run("team.a", &receivers, None, &[firing("a:1")], 1).await;
        let mut failures = Vec::new();
        for (case, r) in cases.iter().zip(&ours) {
            let ours = r.json()["attachments"][0]["text"].clone();
            let Some(t) = theirs.get(&r.path) else {
                failures.push(format!("{case}\n  theirs: nothing sent\n  ours   {ours}"));
                continue;
            };
            if *t != ours {
                failures.push(format!("{case}\n  theirs {t}\n  ours   {ours}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// VictorOps' request through the peer and through us, texts set in
    /// the config so that the whole body must agree.
    #[tokio::test]
    async fn victorops_matches_real_alertmanager() {
        let receivers = |url: &str| {
            format!(
                "- name: 'team'\n  victorops_configs:\n  - api_key: k1\n    api_url: '{url}/alert/'\n\
                 \x20   routing_key: '{{{{ .CommonLabels.job }}}}'\n    message_type: WARNING\n\
                 \x20   state_message: 's {{{{ len .Alerts }}}}'\n    entity_display_name: '{{{{ .CommonLabels.alertname }}}}'\n\
                 \x20   monitoring_tool: mt\n    custom_fields: {{team: '{{{{ .Status }}}}'}}\n"
            )
        };
        let posted_alerts = serde_json::json!([posted("a:1", None)]);
        let Some((_peer, mut srv)) =
            peer_run("victorops", "team", &receivers, None, posted_alerts).await
        else {
            return;
        };
        let theirs = capture(&mut srv).await;
        let ours = &our_run("team", &receivers, None, &[firing("a:1")], 1).await[0];
        assert_eq!(theirs.path, ours.path);
        assert_same_body(&theirs, ours);
    }

    /// WeChat's token request and message through the peer and through us.
    #[tokio::test]
    async fn wechat_matches_real_alertmanager() {
        let token = Some(r#"{"errcode":0,"errmsg":"ok","access_token":"tok1"}"#);
        let receivers = |url: &str| {
            format!(
                "- name: 'team'\n  wechat_configs:\n  - api_url: '{url}/cgi-bin/'\n    corp_id: corp\n    api_secret: 's e'\n\
                 \x20   to_party: '2'\n    agent_id: '1000002'\n    message: '{{{{ .CommonLabels.job }}}} {{{{ .Status }}}}'\n"
            )
        };
        let posted_alerts = serde_json::json!([posted("a:1", None)]);
        let Some((_peer, mut srv)) =
            peer_run("wechat", "team", &receivers, token, posted_alerts).await
        else {
            return;
        };
        let theirs = [capture(&mut srv).await, capture(&mut srv).await];
        let ours = our_run("team", &receivers, token, &[firing("a:1")], 2).await;
        assert_eq!(ours.len(), 2);
        for (t, o) in theirs.iter().zip(&ours) {
            assert_eq!(
                (t.method.as_str(), t.path.as_str()),
                (o.method.as_str(), o.path.as_str())
            );
        }
        assert_same_body(&theirs[1], &ours[1]);
    }
}
