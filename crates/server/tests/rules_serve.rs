//! Issue 4: `rule_files` from prometheus.yml are evaluated by `serve`:
//! recording rules write back, alerting rules fire with templated
//! annotations, `ALERTS` is queryable, `/api/v1/rules` and `/api/v1/alerts`
//! answer, and a reload with a broken rule file is refused.

mod common;

use common::{eventually, get_text, http, Server};
use std::time::Duration;

fn serve_target(body: &'static str) -> u16 {
    common::serve_metrics(move || body.to_owned())
}

fn json(url: &str) -> serde_json::Value {
    serde_json::from_str(&get_text(url)).unwrap()
}

#[test]
fn rule_files_are_evaluated_and_served() {
    let port = serve_target("queue_depth{queue=\"q1\"} 42\nqueue_depth{queue=\"q2\"} 3\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files: ['rules/*.yml']\n\
             scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    let rules = dir.path().join("rules/app.yml");
    std::fs::write(
        &rules,
        "groups:\n  - name: app\n    rules:\n\
         \x20     - record: job:queue_depth:sum\n        expr: sum by (job) (queue_depth)\n\
         \x20     - alert: QueueBacklog\n        expr: queue_depth > 10\n        labels: {severity: page}\n\
         \x20       annotations:\n          summary: 'queue {{ $labels.queue }} holds {{ $value }} items'\n",
    )
    .unwrap();
    let cfg = dir.path().join("prometheus.yml");
    let server = Server::start(
        &dir.path().join("data"),
        &["--config", cfg.to_str().unwrap()],
    );
    let url = server.url();

    // The alert fires (no `for`) once a scrape and an evaluation happened.
    let alert = eventually(Duration::from_secs(20), || {
        json(&format!("{url}/api/v1/alerts"))["data"]["alerts"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["state"] == "firing").cloned())
    })
    .unwrap_or_else(|| panic!("no firing alert; log:\n{}", server.log()));
    assert_eq!(alert["labels"]["alertname"], "QueueBacklog");
    assert_eq!(alert["labels"]["queue"], "q1");
    assert_eq!(alert["labels"]["severity"], "page");
    assert_eq!(alert["annotations"]["summary"], "queue q1 holds 42 items");

    // The recording rule wrote back: 42 + 3.
    let recorded = eventually(Duration::from_secs(10), || {
        let v = json(&format!("{url}/api/v1/query?query=job:queue_depth:sum"));
        v["data"]["result"][0]["value"][1]
            .as_str()
            .map(str::to_owned)
    });
    assert_eq!(recorded.as_deref(), Some("45"));

    // ALERTS is a series like any other.
    // (The API shows an alert as soon as it is evaluated; its sample is
    // committed right after, so poll.)
    let alerts = eventually(Duration::from_secs(10), || {
        let v = json(&format!(
            "{url}/api/v1/query?query=ALERTS%7Balertstate%3D%22firing%22%7D"
        ));
        v["data"]["result"][0]["metric"]["alertname"]
            .as_str()
            .map(str::to_owned)
    });
    assert_eq!(alerts.as_deref(), Some("QueueBacklog"));

    // /api/v1/rules lists both rules; type=record keeps one.
    let all = json(&format!("{url}/api/v1/rules"));
    assert_eq!(
        all["data"]["groups"][0]["rules"].as_array().unwrap().len(),
        2,
        "{all}"
    );
    let rec = json(&format!("{url}/api/v1/rules?type=record"));
    assert_eq!(
        rec["data"]["groups"][0]["rules"].as_array().unwrap().len(),
        1,
        "{rec}"
    );

    // A broken rule file refuses the reload; the rules keep running.
    std::fs::write(
        &rules,
        "groups:\n  - name: app\n    rules:\n      - record: job:x\n        expr: sum(\n",
    )
    .unwrap();
    let r = http().post(format!("{url}/-/reload")).send().unwrap();
    assert_eq!(r.status().as_u16(), 500);
    let msg = r.text().unwrap();
    assert!(
        msg.contains("app.yml"),
        "the error should name the rule file: {msg}"
    );
    let still = json(&format!("{url}/api/v1/rules"));
    assert_eq!(
        still["data"]["groups"][0]["rules"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    server.stop();
}
