//! Issue 19, item 5, end to end: a rule fires at the built-in
//! Alertmanager with a webhook receiver; the incident opens with the
//! fields the rule's labels and annotations give (written here by hand),
//! the webhook payload carries the incident and acknowledge links, the
//! link acknowledges, `kill -9` right after loses nothing, a comment and
//! a silence join the timeline, the alert resolves and the incident with
//! it, the Markdown ticket is the expected text, and `/metrics` counts one
//! time to acknowledge and one time to resolve.

mod common;

use common::{eventually, http, serve_metrics, write_files, Server};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// A webhook receiver keeping every payload.
fn webhook() -> (u16, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            let body = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break None;
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
                    break Some(buf[end + 4..end + 4 + len].to_vec());
                }
            };
            if let Some(b) = body {
                if let Ok(v) = serde_json::from_slice(&b) {
                    keep.lock().unwrap().push(v);
                }
            }
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (port, got)
}

fn get_json(url: &str) -> Value {
    let r = http().get(url).send().unwrap();
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.json().unwrap()
}

fn incident(base: &str) -> Value {
    get_json(&format!("{base}/api/v1/incidents/1"))["data"].clone()
}

/// `2026-12-08T00:12:03.123Z` as the ticket prints it: `2026-12-08 00:12:03 UTC`.
fn ticket_time(rfc3339: &str) -> String {
    format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..19])
}

fn start(dir: &std::path::Path, data: &std::path::Path) -> Server {
    let cfg = dir.join("sightline.yml").display().to_string();
    let am = dir.join("alertmanager.yml").display().to_string();
    Server::start(
        data,
        &[
            "--config",
            &cfg,
            "--alertmanager.config.file",
            &am,
            "--web.external-url",
            "http://sightline.example",
            "--otlp.grpc.listen",
            "0",
        ],
    )
}

#[test]
fn issue_19_alert_opens_incident_acknowledged_by_link_resolved_with_alert() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let failing = Arc::new(AtomicBool::new(false));
    let f = failing.clone();
    let target = serve_metrics(move || {
        let v = if f.load(Ordering::Relaxed) { 7 } else { 0 };
        format!("# TYPE checkout_errors gauge\ncheckout_errors{{service=\"checkout\"}} {v}\n")
    });
    let (hook, payloads) = webhook();
    std::fs::create_dir(dir.join("runbooks")).unwrap();
    write_files(
        dir,
        &[
            (
                "sightline.yml",
                "prometheus: prometheus.yml\nincidents:\n  runbooks_dir: runbooks\n",
            ),
            (
                "prometheus.yml",
                &format!(
                    "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                     rule_files: [rules.yml]\n\
                     scrape_configs:\n  - job_name: shop\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
                ),
            ),
            (
                "rules.yml",
                "groups:\n  - name: shop\n    rules:\n      - alert: CheckoutErrors\n\
                 \x20       expr: checkout_errors > 0\n\
                 \x20       labels:\n          severity: critical\n\
                 \x20       annotations:\n\
                 \x20         summary: Checkout answers errors\n\
                 \x20         description: More than zero checkout errors\n\
                 \x20         runbook_url: https://runbooks.example/CheckoutErrors\n",
            ),
            (
                "alertmanager.yml",
                &format!(
                    "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
                     receivers:\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:{hook}/hook\n        send_resolved: true\n"
                ),
            ),
            ("runbooks/CheckoutErrors.md", "1. **Check dashboard**\n2. **Rollback**\n"),
        ],
    );
    let data = dir.join("data");
    let server = start(dir, &data);
    let base = server.url();
    failing.store(true, Ordering::Relaxed);

    // The firing notification carries the links.
    let payload = eventually(WAIT, || {
        payloads
            .lock()
            .unwrap()
            .iter()
            .find(|p| p["status"] == "firing")
            .cloned()
    })
    .unwrap_or_else(|| panic!("no firing notification; log:\n{}", server.log()));
    let ann = &payload["commonAnnotations"];
    assert_eq!(
        ann["incident_url"],
        "http://sightline.example/#/incidents/1"
    );
    let ack = ann["acknowledge_url"].as_str().unwrap().to_string();
    let ack_path = ack
        .strip_prefix("http://sightline.example")
        .unwrap()
        .to_string();
    assert!(ack_path.starts_with("/api/v1/incidents/ack/1."), "{ack}");
    assert_eq!(
        payload["alerts"][0]["annotations"]["acknowledge_url"],
        ack.as_str()
    );

    // The record, with the fields expected from the rule and the target.
    let i = incident(&base);
    assert_eq!(i["status"], "open");
    assert_eq!(i["name"], "CheckoutErrors");
    assert_eq!(i["subject"], "Checkout answers errors");
    assert_eq!(
        i["affectedArea"],
        format!("service=checkout, job=shop, instance=127.0.0.1:{target}")
    );
    assert_eq!(i["severity"], "critical");
    assert_eq!(i["description"], "More than zero checkout errors");
    assert_eq!(i["date"], i["alerts"][0]["startsAt"]);

    // The link: GET shows a page with a button, POST acknowledges.
    let page = http().get(format!("{base}{ack_path}")).send().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(html.contains("<form method=\"post\">"), "{html}");
    assert_eq!(incident(&base)["status"], "open");
    let done = http()
        .post(format!("{base}{ack_path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("by=oncall")
        .send()
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().unwrap().contains("acknowledged by oncall"));

    // kill -9 right after the acknowledgement: nothing lost.
    let before = incident(&base);
    server.kill9();
    let server = start(dir, &data);
    let base = server.url();
    let after = incident(&base);
    assert_eq!(after["status"], "acknowledged");
    assert_eq!(after["acknowledgedBy"], "oncall");
    assert_eq!(after["acknowledgedAt"], before["acknowledgedAt"]);
    assert_eq!(after["events"], before["events"]);

    // The restarted rules fire again and the group is back.
    eventually(WAIT, || {
        let g = common::get_text(&format!("{base}/api/v2/alerts/groups"));
        g.contains("CheckoutErrors").then_some(())
    })
    .unwrap_or_else(|| panic!("alert not back after restart; log:\n{}", server.log()));

    // A comment and a silence.
    let r = http()
        .post(format!("{base}/api/v1/incidents/1/comments"))
        .json(&serde_json::json!({"text": "rolling back 1.4.2", "by": "oncall"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let now = get_json(&format!("{base}/api/v1/incidents/1"))["data"]["updatedAt"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http()
        .post(format!("{base}/api/v2/silences"))
        .json(&serde_json::json!({
            "matchers": [{"name": "alertname", "value": "CheckoutErrors", "isRegex": false}],
            "startsAt": now, "endsAt": "2099-01-01T00:00:00Z",
            "createdBy": "bob", "comment": "deploying the fix"
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    // The errors stop: the alert resolves, and the incident with it even
    // though the silence mutes the resolved notification.
    failing.store(false, Ordering::Relaxed);
    let i = eventually(WAIT, || {
        let i = incident(&base);
        (i["status"] == "resolved").then_some(i)
    })
    .unwrap_or_else(|| {
        panic!(
            "incident not resolved: {}\ngroups: {}\nlog:\n{}",
            incident(&base),
            common::get_text(&format!("{base}/api/v2/alerts/groups?silenced=true")),
            server.log()
        )
    });
    assert_eq!(i["resolvedBy"], "alertmanager");

    // The ticket, written from the values above.
    let tl = i["timeline"].as_array().unwrap();
    let kinds: Vec<&str> = tl.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    let notifications = kinds.iter().filter(|k| **k == "notification").count();
    assert!(notifications >= 1, "{kinds:?}");
    let mut want_kinds = vec!["alert_fired"];
    want_kinds.extend(std::iter::repeat_n("notification", notifications));
    want_kinds.extend([
        "acknowledged",
        "comment",
        "silence",
        "alert_resolved",
        "resolved",
    ]);
    assert_eq!(kinds, want_kinds);
    let at = |k: usize| ticket_time(tl[k]["time"].as_str().unwrap());
    let alert = format!(
        "CheckoutErrors{{instance=\"127.0.0.1:{target}\", job=\"shop\", service=\"checkout\", severity=\"critical\"}}"
    );
    let mut lines = vec![format!("- {} alert fired (alertmanager): {alert}", at(0))];
    for k in 1..=notifications {
        lines.push(format!(
            "- {} notification (alertmanager): hook via webhook[0], 1 alert(s): sent",
            at(k)
        ));
    }
    let n = notifications;
    lines.push(format!("- {} acknowledged (oncall)", at(n + 1)));
    lines.push(format!(
        "- {} comment (oncall): rolling back 1.4.2",
        at(n + 2)
    ));
    lines.push(format!(
        "- {} silence (bob): {{alertname=\"CheckoutErrors\"}} until 2099-01-01T00:00:00Z: deploying the fix",
        at(n + 3)
    ));
    lines.push(format!(
        "- {} alert resolved (alertmanager): {alert}",
        at(n + 4)
    ));
    lines.push(format!(
        "- {} resolved (alertmanager): every alert of the group resolved",
        at(n + 5)
    ));
    let links = &i["links"];
    let expected = format!(
        "### TROUBLE TICKET\n\n\
         Name: CheckoutErrors\n\n\
         Date: {date}\n\n\
         Subject: Checkout answers errors\n\n\
         Affected Area: service=checkout, job=shop, instance=127.0.0.1:{target}\n\n\
         Severity: critical\n\n\
         Description: More than zero checkout errors\n\n\
         Status: resolved\n\n\
         Acknowledged: {acked} by oncall\n\n\
         Resolved: {resolved} by alertmanager\n\n\
         Incident: http://sightline.example/#/incidents/1\n\n\
         ## Runbook\n\n\
         Link: https://runbooks.example/CheckoutErrors\n\n\
         1. **Check dashboard**\n2. **Rollback**\n\n\
         ## Timeline\n\n{timeline}\n\n\
         ## Links\n\n\
         - Explore: http://sightline.example/{explore}\n\
         - Logs: http://sightline.example/{logs}\n\
         - Traces: http://sightline.example/{traces}\n",
        date = ticket_time(i["date"].as_str().unwrap()),
        acked = ticket_time(i["acknowledgedAt"].as_str().unwrap()),
        resolved = ticket_time(i["resolvedAt"].as_str().unwrap()),
        timeline = lines.join("\n"),
        explore = links["explore"].as_str().unwrap(),
        logs = links["logs"].as_str().unwrap(),
        traces = links["traces"].as_str().unwrap(),
    );
    assert!(links["explore"]
        .as_str()
        .unwrap()
        .starts_with("#/explore?expr=checkout_errors%20%3E%200&from="));
    assert!(links["logs"]
        .as_str()
        .unwrap()
        .starts_with("#/logs?query=%7Bservice%3D%22checkout%22%7D&from="));
    let ticket = http()
        .get(format!("{base}/api/v1/incidents/1/ticket.md"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(ticket, expected);
    assert_eq!(
        i["runbook"]["markdown"],
        "1. **Check dashboard**\n2. **Rollback**\n"
    );

    // The histograms count from this process's start (the restart came
    // after the first acknowledgement): a declared incident acknowledged
    // now is the one time to acknowledge.
    let r = http()
        .post(format!("{base}/api/v1/incidents"))
        .json(&serde_json::json!({"name": "Payments slow", "severity": "high"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http()
        .post(format!("{base}/api/v1/incidents/2/acknowledge"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let metrics = http()
        .get(format!("{base}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for line in [
        "sightline_incidents{status=\"resolved\"} 1.0",
        "sightline_incidents{status=\"open\"} 0.0",
        "sightline_incidents{status=\"acknowledged\"} 1.0",
        "sightline_incident_time_to_acknowledge_seconds_count 1",
        "sightline_incident_time_to_acknowledge_seconds_bucket{le=\"+Inf\"} 1",
        "sightline_incident_time_to_resolve_seconds_count 1",
        "sightline_incident_time_to_resolve_seconds_bucket{le=\"+Inf\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in:\n{metrics}"
        );
    }
    server.stop();
}
