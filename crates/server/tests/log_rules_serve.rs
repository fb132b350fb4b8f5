//! Issue 15, item 6: Loki ruler rule files (`logs.rule_files`) run in
//! `serve`. Error lines pushed through Loki's push API make a LogQL alert
//! fire: it shows in `/api/v1/alerts`, in Loki's
//! `/prometheus/api/v1/alerts` and in the built-in Alertmanager's
//! `/api/v2/alerts`; a LogQL recording rule's samples are in the TSDB for
//! PromQL; the ruler API lists the groups as YAML and refuses writes; a
//! reload picks up a changed file and refuses a log query in a rule,
//! naming file, group, rule and position.

mod common;

use common::{eventually, http, Server};
use serde_json::Value;
use std::time::Duration;

const RULES: &str = r#"groups:
  - name: app-errors
    interval: 1s
    rules:
      - alert: AppErrors
        expr: count_over_time({job="app"} |= "error" [1m]) > 5
        for: 2s
        labels:
          severity: page
        annotations:
          summary: '{{ $value }} errors in {{ $labels.job }}'
      - record: job:app_errors:count1m
        expr: sum by (job) (count_over_time({job="app"} |= "error" [1m]))
"#;

fn json(url: &str) -> Value {
    http().get(url).send().unwrap().json().unwrap()
}

fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128
}

#[test]
fn issue_15_log_rules_alert_record_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("log-rules.yml");
    std::fs::write(&rules, RULES).unwrap();
    let cfg = dir.path().join("sightline.yml");
    std::fs::write(&cfg, "logs:\n  rule_files: ['log-rules.yml']\n").unwrap();
    let am = dir.path().join("alertmanager.yml");
    std::fs::write(
        &am,
        "route:\n  receiver: none\n  group_wait: 1s\nreceivers:\n  - name: none\n",
    )
    .unwrap();
    let server = Server::start(
        &dir.path().join("data"),
        &[
            "--config.file",
            cfg.to_str().unwrap(),
            "--alertmanager.config.file",
            am.to_str().unwrap(),
        ],
    );
    let url = server.url();

    // 7 error lines and 3 others for job="app", 4 error lines for another
    // job: the rule counts 7 (> 5) for a minute from now.
    let now = now_ns();
    let mut values: Vec<Value> = (0..7)
        .map(|i| {
            serde_json::json!([
                (now - 5_000_000_000 + i * 1_000_000).to_string(),
                format!("level=error msg=\"db down\" n={i}")
            ])
        })
        .collect();
    values.extend(
        (0..3).map(|i| {
            serde_json::json!([(now - 4_000_000_000 + i).to_string(), "level=info msg=ok"])
        }),
    );
    let other: Vec<Value> = (0..4)
        .map(|i| serde_json::json!([(now - 3_000_000_000 + i).to_string(), "level=error"]))
        .collect();
    let body = serde_json::json!({"streams": [
        {"stream": {"job": "app"}, "values": values},
        {"stream": {"job": "other"}, "values": other},
    ]});
    let r = http()
        .post(format!("{url}/loki/api/v1/push"))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204, "{}", r.text().unwrap_or_default());

    // The alert fires (pending for 2 s first) and is listed by Prometheus's
    // alerts API.
    let alert = eventually(Duration::from_secs(30), || {
        let v = json(&format!("{url}/api/v1/alerts"));
        v["data"]["alerts"]
            .as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == "AppErrors" && a["state"] == "firing")
            .cloned()
    })
    .unwrap_or_else(|| panic!("AppErrors never fired; log:\n{}", server.log()));
    assert_eq!(
        alert["labels"],
        serde_json::json!({"alertname": "AppErrors", "job": "app", "severity": "page"})
    );
    assert_eq!(alert["annotations"]["summary"], "7 errors in app");
    assert_eq!(alert["value"], "7e+00");

    // Loki's ruler API lists the same alert.
    let loki_alerts = json(&format!("{url}/prometheus/api/v1/alerts"));
    assert_eq!(loki_alerts["status"], "success");
    assert_eq!(
        loki_alerts["data"]["alerts"][0]["labels"]["alertname"],
        "AppErrors"
    );

    // The built-in Alertmanager received it from the same notifier as
    // metric alerts.
    let in_am = eventually(Duration::from_secs(20), || {
        let v = json(&format!("{url}/api/v2/alerts"));
        v.as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == "AppErrors")
            .cloned()
    })
    .unwrap_or_else(|| {
        panic!(
            "the Alertmanager never got AppErrors; log:\n{}",
            server.log()
        )
    });
    assert_eq!(in_am["labels"]["job"], "app");
    assert_eq!(in_am["labels"]["severity"], "page");
    assert_eq!(in_am["annotations"]["summary"], "7 errors in app");
    assert_eq!(in_am["status"]["state"], "active");

    // The recording is in the TSDB, where PromQL reads it.
    let rec = eventually(Duration::from_secs(10), || {
        let v = json(&format!("{url}/api/v1/query?query=job:app_errors:count1m"));
        let r = v["data"]["result"].as_array()?.first()?.clone();
        Some(r)
    })
    .expect("the recording rule's series");
    assert_eq!(
        rec["metric"],
        serde_json::json!({"__name__": "job:app_errors:count1m", "job": "app"})
    );
    assert_eq!(rec["value"][1], "7");
    // ALERTS is written for log alerts as for metric ones.
    let alerts_series = json(&format!(
        "{url}/api/v1/query?query=ALERTS{{alertname=\"AppErrors\",alertstate=\"firing\"}}"
    ));
    assert_eq!(alerts_series["data"]["result"][0]["value"][1], "1");

    // /api/v1/rules (the UI's Alerts and Rules pages) and Loki's
    // /prometheus/api/v1/rules show the group.
    let all = json(&format!("{url}/api/v1/rules"));
    let group = &all["data"]["groups"][0];
    assert_eq!(group["name"], "app-errors");
    assert!(group["file"].as_str().unwrap().ends_with("log-rules.yml"));
    assert_eq!(group["rules"][0]["type"], "alerting");
    assert_eq!(group["rules"][0]["state"], "firing");
    assert_eq!(group["rules"][1]["type"], "recording");
    let loki = json(&format!("{url}/prometheus/api/v1/rules?type=record"));
    let recs = loki["data"]["groups"][0]["rules"].as_array().unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["name"], "job:app_errors:count1m");

    // Loki's ruler API: the rule file as YAML, by namespace.
    let r = http()
        .get(format!("{url}/loki/api/v1/rules"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/yaml"
    );
    let yaml = r.text().unwrap();
    assert!(
        yaml.starts_with("log-rules.yml:\n  - name: \"app-errors\"\n    interval: \"1s\"\n    rules:\n      - alert: \"AppErrors\"\n        expr: \"count_over_time({job=\\\"app\\\"} |= \\\"error\\\" [1m]) > 5\"\n        for: \"2s\"\n"),
        "{yaml}"
    );
    let one = http()
        .get(format!("{url}/loki/api/v1/rules/log-rules.yml/app-errors"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(one.starts_with("name: \"app-errors\"\n"), "{one}");
    let missing = http()
        .get(format!("{url}/loki/api/v1/rules/nope.yml"))
        .send()
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(missing.text().unwrap(), "no rule groups found\n");
    // Writes are refused, pointing at the files.
    let post = http()
        .post(format!("{url}/loki/api/v1/rules/log-rules.yml"))
        .header("Content-Type", "application/yaml")
        .body("name: g\nrules: []\n")
        .send()
        .unwrap();
    assert_eq!(post.status().as_u16(), 405);
    assert!(post.text().unwrap().contains("logs.rule_files"));

    // A reload picks up a new group...
    std::fs::write(
        &rules,
        format!(
            "{RULES}  - name: second\n    interval: 1s\n    rules:\n      - record: job:lines:count1m\n        expr: sum by (job) (count_over_time({{job=~\".+\"}}[1m]))\n"
        ),
    )
    .unwrap();
    let r = http().post(format!("{url}/-/reload")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap_or_default());
    let names: Vec<String> = json(&format!("{url}/prometheus/api/v1/rules"))["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["app-errors", "second"]);
    // 10 app lines and 4 other lines.
    let counted = eventually(Duration::from_secs(10), || {
        let v = json(&format!("{url}/api/v1/query?query=sort(job:lines:count1m)"));
        let r = v["data"]["result"].as_array()?.clone();
        (r.len() == 2).then_some(r)
    })
    .expect("the new group's recordings");
    assert_eq!(counted[0]["metric"]["job"], "other");
    assert_eq!(counted[0]["value"][1], "4");
    assert_eq!(counted[1]["metric"]["job"], "app");
    assert_eq!(counted[1]["value"][1], "10");

    // ...and refuses a log query in a rule, naming file, group, rule and
    // position; the running rules stay.
    std::fs::write(
        &rules,
        "groups:\n  - name: bad\n    rules:\n      - alert: Lines\n        expr: '{job=\"app\"} |= \"error\"'\n",
    )
    .unwrap();
    let r = http().post(format!("{url}/-/reload")).send().unwrap();
    assert_eq!(r.status().as_u16(), 500);
    let msg = r.text().unwrap();
    assert!(
        msg.contains("log-rules.yml: 5:15: group \"bad\", rule 1, \"Lines\": could not parse expression: only sample expression supported"),
        "{msg}"
    );
    let still = json(&format!("{url}/prometheus/api/v1/rules"));
    assert_eq!(still["data"]["groups"].as_array().unwrap().len(), 2);
    server.stop();
}

/// `check config` checks `logs.rule_files` as `serve` loads them, and
/// `serve` refuses to start on a file that does not load; both name file,
/// group, rule and position.
#[test]
fn issue_15_check_config_and_serve_refuse_a_bad_log_rule_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("sightline.yml"),
        "logs:\n  rule_files: ['rules/*.yml']\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("rules")).unwrap();
    std::fs::write(d.join("rules/good.yml"), RULES).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sightline"))
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = run(&["check", "config", "sightline.yml"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "Checking logs.rule_files rules/*.yml\n  SUCCESS: 1 log rule files found\n\nChecking rules/good.yml\n  SUCCESS: 2 rules found\n"
        ),
        "{stdout}"
    );

    // `rate({job="app"}[1m]) >` is 23 characters: the query ends at
    // column 24.
    std::fs::write(
        d.join("rules/bad.yml"),
        "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: rate({job=\"app\"}[1m]) >\n",
    )
    .unwrap();
    // Paths are written as the config names them (relative to the working
    // directory here, the config being `sightline.yml`).
    let bad = "rules/bad.yml";
    let (code, _, stderr) = run(&["check", "config", "sightline.yml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "{bad}: 5:15: group \"g\", rule 1, \"r\": could not parse expression: parse error at line 1, col 24"
        )),
        "{stderr}"
    );
    let data = d.join("data");
    let port = common::free_port().to_string();
    let (code, _, stderr) = run(&[
        "serve",
        "--config",
        "sightline.yml",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("loading logs.rule_files"), "{stderr}");
    assert!(stderr.contains(&format!("{bad}: 5:15:")), "{stderr}");
}
