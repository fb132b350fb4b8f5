//! Issue 12, item 6, end to end: every link a notification carries leads to
//! a page. A rule alert fires, the built-in Alertmanager sends it to a
//! webhook; the notification's `generatorURL`
//! (`<external>/graph?g0.expr=...&g0.tab=1`) and `externalURL` (the base of
//! Alertmanager's `#/alerts?receiver=...` and `#/silences/...` links) are
//! fetched from the running server and answer 200 with what they promise.

mod common;

use common::{eventually, http, Server};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A webhook receiver keeping the bodies it is sent.
fn webhook() -> (u16, Arc<Mutex<Vec<serde_json::Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; len];
            let _ = r.read_exact(&mut body);
            if let Ok(v) = serde_json::from_slice(&body) {
                keep.lock().unwrap().push(v);
            }
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (port, got)
}

fn get(url: &str) -> (u16, String) {
    let r = http()
        .get(url)
        .send()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    (r.status().as_u16(), r.text().unwrap_or_default())
}

#[test]
fn issue_12_notification_links_lead_to_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (hook, got) = webhook();
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: web\n    interval: 1s\n    rules:\n\
         \x20     - alert: Always\n        expr: vector(42) > 1\n        labels: {severity: page}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("alertmanager.yml"),
        format!(
            "route:\n  receiver: hook\n  group_wait: 1s\n  group_interval: 1s\n\
             receivers:\n  - name: hook\n    webhook_configs: [{{url: 'http://127.0.0.1:{hook}/'}}]\n"
        ),
    )
    .unwrap();
    let server = Server::start(
        &dir.join("data"),
        &[
            "--config",
            dir.join("prometheus.yml").to_str().unwrap(),
            "--alertmanager.config.file",
            dir.join("alertmanager.yml").to_str().unwrap(),
        ],
    );
    let note = eventually(Duration::from_secs(30), || {
        got.lock().unwrap().first().cloned()
    })
    .unwrap_or_else(|| panic!("no notification; log:\n{}", server.log()));
    let external = note["externalURL"].as_str().unwrap().to_owned();
    assert_eq!(external, server.url());
    let generator = note["alerts"][0]["generatorURL"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        generator,
        format!(
            "{}/graph?g0.expr=vector%2842%29+%3E+1&g0.tab=1",
            server.url()
        )
    );

    // generatorURL: the expression, evaluated now, as a table.
    let (status, body) = get(&generator);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("value=\"vector(42) &gt; 1\""), "{body}");
    assert!(body.contains("<td>{}</td><td>42</td>"), "{body}");

    // Alertmanager's links: `<externalURL>/#/alerts?receiver=hook` and
    // `#/silences/new?filter=...` fetch `/` (the fragment stays in the
    // browser), the UI, whose Alerts page takes both routes (the browser
    // test follows them).
    for link in [
        format!("{external}/#/alerts?receiver=hook"),
        format!("{external}/#/silences/new?filter=%7Balertname%3D%22Always%22%7D"),
    ] {
        let (status, body) = get(&link);
        assert_eq!(status, 200, "{link}");
        assert!(body.contains("<div id=\"app\">"), "{body}");
    }
    let (status, body) = get(&format!("{external}/alerts?receiver=hook"));
    assert_eq!(status, 200);
    assert!(body.contains("Always") && body.contains("firing"), "{body}");
    let (status, body) = get(&format!("{external}/api/v2/silences"));
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with('['), "{body}");
    // And the landing page's own links.
    for href in [
        "graph",
        "alerts",
        "api/v1/targets",
        "api/v1/rules",
        "api/v1/alerts",
        "metrics",
    ] {
        let (status, _) = get(&format!("{external}/{href}"));
        assert_eq!(status, 200, "{href}");
    }
}
