//! Issue 12, item 7: small shapes a Prometheus user reads in the API. The
//! same rule file and the same failing targets go to Debian's Prometheus
//! and to Sightline; `/api/v1/rules` must write group intervals as
//! Prometheus does (`5`, not `5.0`), and `/api/v1/targets` must give a
//! failed scrape the same `lastError` (refused connection, timeout, HTTP
//! 500).

mod common;

use common::{eventually, free_port, http, peer, start_prometheus, Server};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// A target answering every scrape with HTTP 500.
fn serve_500() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\nboom"
            );
        }
    });
    port
}

/// A target that accepts connections and never answers.
fn serve_silent() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

fn json(url: &str) -> serde_json::Value {
    let text = http()
        .get(url)
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    serde_json::from_str(&text).unwrap_or_default()
}

/// `lastError` by `instance` once every target has been scraped once.
fn last_errors(base: &str, n: usize) -> BTreeMap<String, String> {
    eventually(Duration::from_secs(30), || {
        let v = json(&format!("{base}/api/v1/targets"));
        let targets = v["data"]["activeTargets"].as_array()?.clone();
        let errs: BTreeMap<String, String> = targets
            .iter()
            .filter(|t| t["health"] == "down")
            .map(|t| {
                (
                    t["labels"]["instance"].as_str().unwrap_or("").to_owned(),
                    t["lastError"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        (errs.len() == n).then_some(errs)
    })
    .unwrap_or_else(|| panic!("targets of {base} not all scraped"))
}

/// Each group's name and its `interval` as written in the JSON text.
fn intervals(base: &str) -> BTreeMap<String, String> {
    eventually(Duration::from_secs(30), || {
        let v = json(&format!("{base}/api/v1/rules"));
        let groups = v["data"]["groups"].as_array()?.clone();
        (groups.len() == 3).then(|| {
            groups
                .iter()
                .map(|g| {
                    (
                        g["name"].as_str().unwrap_or("").to_owned(),
                        g["interval"].to_string(),
                    )
                })
                .collect()
        })
    })
    .unwrap_or_else(|| panic!("rule groups of {base} not loaded"))
}

#[test]
fn issue_12_rule_intervals_and_scrape_errors_read_as_prometheus() {
    let Some(prom_bin) = peer("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (dead, failing, silent) = (free_port(), serve_500(), serve_silent());
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n\
         \x20 - name: five\n    interval: 5s\n    rules: [{record: a, expr: vector(1)}]\n\
         \x20 - name: half\n    interval: 500ms\n    rules: [{record: b, expr: vector(1)}]\n\
         \x20 - name: default\n    rules: [{alert: A, expr: vector(1), for: 5m}]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 2s\n  scrape_timeout: 1s\n  evaluation_interval: 15s\n\
             rule_files: [rules.yml]\n\
             scrape_configs:\n  - job_name: dead\n    static_configs:\n\
             \x20     - targets: ['127.0.0.1:{dead}', '127.0.0.1:{failing}', '127.0.0.1:{silent}']\n"
        ),
    )
    .unwrap();
    let config = dir.path().join("prometheus.yml");
    let (_prom, prom_port) = start_prometheus(&prom_bin, &config, dir.path());
    let server = Server::start(
        &dir.path().join("sl-data"),
        &["--config.file", config.to_str().unwrap()],
    );
    let prom = format!("http://127.0.0.1:{prom_port}");

    let theirs = intervals(&prom);
    assert_eq!(theirs["five"], "5", "Prometheus's own shape");
    assert_eq!(intervals(&server.url()), theirs, "log:\n{}", server.log());
    // The alerting rule's `for` is a number of seconds in both.
    let rule_for = |base: &str| {
        let v = json(&format!("{base}/api/v1/rules?type=alert"));
        v["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .map(|r| r["duration"].to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(rule_for(&server.url()), rule_for(&prom));

    let theirs = last_errors(&prom, 3);
    let ours = last_errors(&server.url(), 3);
    assert_eq!(
        theirs[&format!("127.0.0.1:{dead}")],
        format!(
            "Get \"http://127.0.0.1:{dead}/metrics\": dial tcp 127.0.0.1:{dead}: connect: connection refused"
        ),
        "Prometheus's own wording"
    );
    assert_eq!(ours, theirs, "log:\n{}", server.log());
}
