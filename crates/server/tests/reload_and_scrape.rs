//! Issue 2: reloading on `POST /-/reload` and SIGHUP; a bad file is refused
//! with its file, line and field named and the running configuration stays
//! in force; a malformed exposition sets the target down with an error that
//! names the line.

mod common;

use common::{eventually, get_text, http, Server};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A scrape target whose body the test can change.
fn serve_target(body: Arc<Mutex<String>>) -> u16 {
    common::serve_metrics(move || body.lock().unwrap().clone())
}

fn config(job: &str, port: u16, interval: &str) -> String {
    format!(
        "global:\n  scrape_interval: {interval}\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    )
}

fn targets(url: &str) -> serde_json::Value {
    serde_json::from_str(&get_text(&format!("{url}/api/v1/targets"))).unwrap()
}

fn target_where(url: &str, pred: impl Fn(&serde_json::Value) -> bool) -> Option<serde_json::Value> {
    eventually(Duration::from_secs(15), || {
        targets(url)["data"]["activeTargets"]
            .as_array()
            .and_then(|a| a.iter().find(|t| pred(t)).cloned())
    })
}

#[test]
fn reload_refuses_bad_files_and_malformed_scrapes_name_the_line() {
    let body = Arc::new(Mutex::new(
        "# TYPE app_up gauge\napp_up 1\nrequests_total{code=\"200\"} 5\n".to_owned(),
    ));
    let port = serve_target(body.clone());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(&cfg, config("app", port, "1s")).unwrap();
    let server = Server::start(
        &dir.path().join("data"),
        &["--config", cfg.to_str().unwrap()],
    );
    let url = server.url();

    let up = target_where(&url, |t| t["labels"]["job"] == "app" && t["health"] == "up");
    assert!(
        up.is_some(),
        "target never became healthy: {}",
        targets(&url)
    );

    // A malformed exposition: the target goes down and says where.
    *body.lock().unwrap() = "app_up 1\nrequests_total{code=\"200\" 5\n".to_owned();
    let down = target_where(&url, |t| t["health"] == "down").expect("target should go down");
    let err = down["lastError"].as_str().unwrap();
    assert!(
        err.contains("line 2"),
        "lastError should name line 2: {err}"
    );

    // A bad file is refused, naming file, line and field...
    std::fs::write(&cfg, "global:\n  scrape_interval: 5x\n").unwrap();
    let r = http().post(format!("{url}/-/reload")).send().unwrap();
    assert_eq!(r.status().as_u16(), 500);
    let msg = r.text().unwrap();
    assert!(msg.contains("prometheus.yml"), "{msg}");
    assert!(msg.contains(":2"), "should name line 2: {msg}");
    assert!(
        msg.contains("scrape_interval"),
        "should name the field: {msg}"
    );
    // ...and the running configuration stays in force.
    assert!(
        get_text(&format!("{url}/metrics")).contains("sightline_config_last_reload_successful 0")
    );
    let still = targets(&url);
    assert_eq!(
        still["data"]["activeTargets"][0]["labels"]["job"], "app",
        "{still}"
    );

    // A good file applies on POST /-/reload...
    *body.lock().unwrap() = "app_up 1\n".to_owned();
    std::fs::write(&cfg, config("app2", port, "1s")).unwrap();
    let r = http().post(format!("{url}/-/reload")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap_or_default());
    assert!(target_where(&url, |t| t["labels"]["job"] == "app2").is_some());

    // ...and on SIGHUP.
    std::fs::write(&cfg, config("app3", port, "1s")).unwrap();
    let ok = std::process::Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    assert!(
        target_where(&url, |t| t["labels"]["job"] == "app3"
            && t["health"] == "up")
        .is_some(),
        "SIGHUP did not apply the new config: {}",
        targets(&url)
    );
    server.stop();
}

fn rule_groups(url: &str) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&get_text(&format!("{url}/api/v1/rules"))).unwrap();
    v["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Issue 13: a reload is all or nothing. Before, the rule files of a
/// reloaded file took effect even when a later section (a scrape job whose
/// TLS files cannot be read, an Alertmanager config whose receiver is
/// wrong) refused the reload, leaving a half-applied configuration.
#[test]
fn a_reload_with_one_bad_section_changes_nothing() {
    let port = common::serve_metrics(|| "app_up 1\n".to_owned());
    let dir = tempfile::tempdir().unwrap();
    let rules = |group: &str| {
        format!("groups:\n  - name: {group}\n    rules:\n      - record: job:app_up:sum\n        expr: sum(app_up)\n")
    };
    let prom = |job: &str, tls: &str| {
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nrule_files: [rules.yml]\n\
             scrape_configs:\n  - job_name: {job}\n{tls}    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        )
    };
    let am_good = "route:\n  receiver: hook\nreceivers:\n  - name: hook\n";
    common::write_files(
        dir.path(),
        &[
            ("rules.yml", &rules("before")),
            ("prometheus.yml", &prom("app", "")),
            ("alertmanager.yml", am_good),
        ],
    );
    let server = Server::start(
        &dir.path().join("data"),
        &[
            "--config",
            dir.path().join("prometheus.yml").to_str().unwrap(),
            "--alertmanager.config",
            dir.path().join("alertmanager.yml").to_str().unwrap(),
        ],
    );
    let url = server.url();
    assert_eq!(rule_groups(&url), ["before"]);
    assert!(target_where(&url, |t| t["labels"]["job"] == "app").is_some());
    let reload = || {
        let r = http().post(format!("{url}/-/reload")).send().unwrap();
        (r.status().as_u16(), r.text().unwrap_or_default())
    };

    // New rules and a new job, but the job's CA file does not exist: the
    // scrape section fails when its HTTP client is built, after the rules
    // were read.
    let missing_ca = "    tls_config:\n      ca_file: no-such-ca.pem\n";
    common::write_files(
        dir.path(),
        &[
            ("rules.yml", &rules("after")),
            ("prometheus.yml", &prom("app2", missing_ca)),
        ],
    );
    let (status, msg) = reload();
    assert_eq!(status, 500, "{msg}");
    assert!(msg.contains("no-such-ca.pem"), "{msg}");
    assert_eq!(
        rule_groups(&url),
        ["before"],
        "rules changed by a refused reload"
    );
    let jobs: Vec<String> = targets(&url)["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["labels"]["job"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(jobs, ["app"]);

    // Good Prometheus sections, but the Alertmanager config names a
    // receiver that does not exist.
    common::write_files(
        dir.path(),
        &[
            ("prometheus.yml", &prom("app2", "")),
            (
                "alertmanager.yml",
                "route:\n  receiver: nobody\nreceivers:\n  - name: hook\n",
            ),
        ],
    );
    let (status, msg) = reload();
    assert_eq!(status, 500, "{msg}");
    assert!(msg.contains("nobody"), "{msg}");
    assert_eq!(
        rule_groups(&url),
        ["before"],
        "rules changed by a refused reload"
    );

    // With every section good, everything applies together.
    common::write_files(dir.path(), &[("alertmanager.yml", am_good)]);
    let (status, msg) = reload();
    assert_eq!(status, 200, "{msg}");
    assert_eq!(rule_groups(&url), ["after"]);
    assert!(target_where(&url, |t| t["labels"]["job"] == "app2").is_some());
    server.stop();
}
