//! Issue 14, item 8: Grafana still works, its Alertmanager data source.
//! The calls Grafana 11/12 makes ("Save & test" with implementation
//! Prometheus, the alert list, silences, contact points; listed in
//! docs/grafana.md) against a real `sightline serve` with the built-in
//! Alertmanager and against Debian's Alertmanager 0.25 holding the same
//! alerts; the answers are compared in shape and where the data is equal.

mod common;
mod grafana;

use common::{eventually, free_port, http, peer, Proc, Server};
use grafana::{call, now_s, post_json, shape, sorted, time_rfc3339, Both};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const AM_CONFIG: &str =
    "route:\n  receiver: team\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 5s\n\
receivers:\n  - name: team\n  - name: other\n";

fn start_alertmanager(bin: &Path, dir: &Path) -> (Proc, String) {
    let port = free_port();
    std::fs::create_dir_all(dir).unwrap();
    let cfg = dir.join("alertmanager.yml");
    std::fs::write(&cfg, AM_CONFIG).unwrap();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start alertmanager");
    let proc = Proc(child);
    let base = format!("http://127.0.0.1:{port}");
    eventually(Duration::from_secs(30), || {
        http()
            .get(format!("{base}/-/ready"))
            .send()
            .ok()
            .filter(|r| r.status().is_success())
    })
    .expect("alertmanager ready");
    (proc, base)
}

fn alertmanager_pair(dir: &Path) -> Both {
    let cfg = dir.join("alertmanager.yml");
    std::fs::write(&cfg, AM_CONFIG).unwrap();
    let ours = Server::start(
        &dir.join("data"),
        &["--alertmanager.config.file", cfg.to_str().unwrap()],
    );
    let peer = peer("prometheus-alertmanager").map(|bin| start_alertmanager(&bin, &dir.join("am")));
    let both = Both { ours, peer };
    // The same alerts to both, as a Prometheus would post them.
    let starts = time_rfc3339(now_s() - 60.0);
    let alerts = json!([
        {"labels": {"alertname": "HighLatency", "severity": "page", "job": "app"},
         "annotations": {"summary": "p95 over 1s"}, "startsAt": starts,
         "generatorURL": "http://prometheus/graph?g0.expr=x"},
        {"labels": {"alertname": "DiskFull", "severity": "ticket", "job": "db"},
         "annotations": {"summary": "disk at 95%"}, "startsAt": starts,
         "generatorURL": "http://prometheus/graph?g0.expr=y"}
    ]);
    for base in both.bases() {
        let (code, body) = post_json(&base, "/api/v2/alerts", &alerts);
        assert_eq!(code, 200, "{base}: {body}");
        eventually(Duration::from_secs(30), || {
            let (_, v) = call(&base, "GET", "/api/v2/alerts/groups", &[], None);
            (v.as_array()?.len() == 2).then_some(())
        })
        .unwrap_or_else(|| panic!("{base}: alerts never grouped"));
    }
    both
}

#[test]
fn issue_14_alertmanager_save_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let both = alertmanager_pair(dir.path());
    // Implementation "Prometheus": Grafana first asks the Mimir/Cortex
    // path and refuses the data source if it answers 200, then asks
    // /api/v2/status and wants a 200.
    let (ours, theirs) = both.call("GET", "/alertmanager/api/v2/status", &[], None);
    assert_ne!(
        ours.0, 200,
        "a 200 here makes Grafana say Mimir/Cortex: {}",
        ours.1
    );
    if let Some(t) = theirs {
        assert_ne!(t.0, 200);
    }
    let (ours, theirs) = both.call("GET", "/api/v2/status", &[], None);
    assert_eq!(ours.0, 200);
    // Read by the alerting pages: config.original (parsed as YAML for the
    // contact points and policies of an external Alertmanager), cluster
    // status, versionInfo, uptime.
    let original = ours.1["config"]["original"]
        .as_str()
        .expect("config.original");
    assert!(original.contains("receiver: team"), "{original}");
    // No gossip: "disabled", as Alertmanager says without a cluster.
    assert_eq!(ours.1["cluster"]["status"], "disabled");
    if let Some(t) = theirs {
        assert_eq!(shape(&ours.1), shape(&t.1), "status shape");
    }
    // Feature discovery asks buildinfo on the Alertmanager URL: only
    // `application: "Grafana Mimir"` changes anything. Alertmanager
    // answers 404 there; we answer Prometheus's buildinfo (same port),
    // which Grafana reads the same way.
    let (ours, _) = both.call("GET", "/api/v1/status/buildinfo", &[], None);
    assert_ne!(ours.1["data"]["application"], "Grafana Mimir");
}

#[test]
fn issue_14_alertmanager_alert_list_and_silences() {
    let dir = tempfile::tempdir().unwrap();
    let both = alertmanager_pair(dir.path());

    // The alert list groups by the Alertmanager's own groups, with the
    // filters Grafana sends.
    let q = [
        ("silenced", "false"),
        ("inhibited", "false"),
        ("active", "true"),
    ];
    let (ours, theirs) = both.call("GET", "/api/v2/alerts/groups", &q, None);
    assert_eq!(ours.0, 200);
    let groups = sorted(&ours.1);
    assert_eq!(groups.as_array().unwrap().len(), 2);
    assert_eq!(groups[0]["receiver"]["name"], "team");
    assert_eq!(groups[0]["labels"], json!({"alertname": "DiskFull"}));
    let alert = &groups[0]["alerts"][0];
    for f in [
        "fingerprint",
        "startsAt",
        "endsAt",
        "updatedAt",
        "generatorURL",
    ] {
        assert!(alert[f].is_string(), "{f} in {alert}");
    }
    assert_eq!(alert["status"]["state"], "active");
    if let Some(t) = &theirs {
        assert_eq!(shape(&ours.1), shape(&t.1), "groups shape");
        let labels = |v: &Value| {
            sorted(&Value::Array(
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|g| g["labels"].clone())
                    .collect(),
            ))
        };
        assert_eq!(labels(&ours.1), labels(&t.1));
    }
    let q = [
        ("filter", "severity=\"page\""),
        ("silenced", "false"),
        ("inhibited", "false"),
        ("active", "true"),
    ];
    let (ours, theirs) = both.call("GET", "/api/v2/alerts", &q, None);
    assert_eq!(ours.1.as_array().map(Vec::len), Some(1), "{}", ours.1);
    assert_eq!(ours.1[0]["labels"]["alertname"], "HighLatency");
    if let Some(t) = &theirs {
        assert_eq!(shape(&ours.1), shape(&t.1), "alerts shape");
        assert_eq!(
            ours.1[0]["fingerprint"], t.1[0]["fingerprint"],
            "fingerprints"
        );
    }

    // A silence as Grafana's silence editor posts it (JSON, matchers with
    // isEqual), then the list, one silence, and expiry.
    let (s, e) = (time_rfc3339(now_s()), time_rfc3339(now_s() + 7200.0));
    let silence = json!({
        "matchers": [{"name": "alertname", "value": "HighLatency", "isRegex": false, "isEqual": true}],
        "startsAt": s, "endsAt": e, "createdBy": "grafana-admin", "comment": "deploying"
    });
    let mut ids = Vec::new();
    for base in both.bases() {
        let (code, body) = post_json(&base, "/api/v2/silences", &silence);
        assert_eq!(code, 200, "{base}: {body}");
        ids.push(body["silenceID"].as_str().expect("silenceID").to_owned());
    }
    let (ours, theirs) = both.call("GET", "/api/v2/silences", &[], None);
    let ours_sil = &ours.1[0];
    assert_eq!(ours_sil["id"], json!(ids[0]));
    assert_eq!(ours_sil["status"]["state"], "active");
    assert_eq!(ours_sil["matchers"], silence["matchers"]);
    if let Some(t) = &theirs {
        assert_eq!(shape(&ours.1), shape(&t.1), "silences shape");
    }
    // The silenced alert, as the list shows it once silenced.
    let silenced = |base: &str| {
        eventually(Duration::from_secs(15), || {
            let (_, v) = call(
                base,
                "GET",
                "/api/v2/alerts",
                &[("filter", "alertname=\"HighLatency\"")],
                None,
            );
            (v[0]["status"]["state"] == "suppressed").then(|| v[0]["status"].clone())
        })
        .unwrap_or_else(|| panic!("{base}: alert never silenced"))
    };
    let st = silenced(&both.ours());
    assert_eq!(st["silencedBy"], json!([ids[0]]));
    for (base, id) in both.bases().iter().zip(&ids) {
        let (code, one) = call(base, "GET", &format!("/api/v2/silence/{id}"), &[], None);
        assert_eq!((code, &one["id"]), (200, &json!(id)));
        let (code, _) = call(base, "DELETE", &format!("/api/v2/silence/{id}"), &[], None);
        assert_eq!(code, 200, "{base}: expire");
        let (_, one) = call(base, "GET", &format!("/api/v2/silence/{id}"), &[], None);
        assert_eq!(one["status"]["state"], "expired", "{base}");
    }
    // An unknown silence: 404 from us; Alertmanager 0.25 answers 500
    // `"silence not found"` (later versions 404). Grafana shows either as
    // an error.
    let (ours, theirs) = both.call(
        "DELETE",
        "/api/v2/silence/00000000-0000-0000-0000-000000000000",
        &[],
        None,
    );
    assert_eq!(ours.0, 404);
    if let Some(t) = theirs {
        assert_eq!((t.0, t.1), (500, json!("silence not found")));
    }
    // Contact points of an external Alertmanager.
    let (ours, theirs) = both.call("GET", "/api/v2/receivers", &[], None);
    assert_eq!(
        sorted(&ours.1),
        json!([{"name": "other"}, {"name": "team"}])
    );
    if let Some(t) = theirs {
        assert_eq!(sorted(&ours.1), sorted(&t.1));
    }
}
