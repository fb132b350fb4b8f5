//! Issue 12, item 1: every path in a config file resolves against the
//! file's folder, exactly once. `serve --config newcomer/prometheus.yml`
//! looked for `newcomer/newcomer/rules.yml` and `check config` found 0 rule
//! files where promtool finds 1. The same folder layout goes to promtool and
//! to Sightline, run from the folder above, from a sibling folder (`../`)
//! and with an absolute path.

mod common;

use common::{eventually, peer, Server};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// `newcomer/` with a prometheus.yml naming a rule glob, a file_sd file, a
/// bearer token file and a pattern that matches nothing, all relative.
fn layout(root: &Path) {
    let dir = root.join("newcomer");
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    std::fs::create_dir_all(root.join("elsewhere")).unwrap();
    std::fs::write(
        dir.join("rules/app.yml"),
        "groups:\n  - name: app\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("rules/alerts.yml"),
        "groups:\n  - name: alerts\n    rules:\n      - alert: Down\n        expr: up == 0\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("targets.json"),
        r#"[{"targets": ["127.0.0.1:1"], "labels": {"from": "file_sd"}}]"#,
    )
    .unwrap();
    std::fs::write(dir.join("token"), "s3cret\n").unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
         rule_files: ['rules/*.yml', 'missing/*.yml']\n\
         scrape_configs:\n  - job_name: app\n    bearer_token_file: token\n\
         \x20   file_sd_configs: [{files: [targets.json]}]\n",
    )
    .unwrap();
}

/// Exit code and the `SUCCESS: N rule files found` / `Checking` lines.
fn check(bin: &Path, cwd: &Path, config: &str) -> (i32, Vec<String>) {
    let out = Command::new(bin)
        .args(["check", "config", config])
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines = stdout
        .lines()
        .filter(|l| l.contains("rule files found") || l.starts_with("Checking"))
        .map(str::to_owned)
        .collect();
    (out.status.code().unwrap_or(-1), lines)
}

#[test]
fn issue_12_check_config_finds_the_rule_files_promtool_finds() {
    let Some(promtool) = peer("promtool") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    layout(tmp.path());
    let abs = tmp.path().join("newcomer/prometheus.yml");
    let ours = Path::new(env!("CARGO_BIN_EXE_sightline"));
    for (cwd, config) in [
        (tmp.path().to_owned(), "newcomer/prometheus.yml".to_owned()),
        (
            tmp.path().join("elsewhere"),
            "../newcomer/prometheus.yml".to_owned(),
        ),
        (tmp.path().join("elsewhere"), abs.display().to_string()),
    ] {
        let want = check(&promtool, &cwd, &config);
        assert!(
            want.1
                .iter()
                .any(|l| l.contains("SUCCESS: 2 rule files found")),
            "promtool's own count: {want:?}"
        );
        assert_eq!(check(ours, &cwd, &config), want, "check config {config}");
    }
}

#[test]
fn issue_12_serve_loads_paths_relative_to_the_config_folder() {
    let tmp = tempfile::tempdir().unwrap();
    layout(tmp.path());
    let server = Server::start_in(
        Some(&tmp.path().join("elsewhere")),
        &tmp.path().join("data"),
        &["--config", "../newcomer/prometheus.yml"],
    );
    let json = |path: &str| common::json_or_null(&format!("{}{path}", server.url()));
    let rules = json("/api/v1/rules");
    let mut files: Vec<String> = rules["data"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| g["file"].as_str().unwrap_or("").to_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["../newcomer/rules/alerts.yml", "../newcomer/rules/app.yml"],
        "log:\n{}",
        server.log()
    );
    // The file_sd file is found, and the token file is read (a missing one
    // would fail the scrape with "unable to read" instead of the dial).
    let target = eventually(Duration::from_secs(20), || {
        let t = json("/api/v1/targets");
        let t = t["data"]["activeTargets"].get(0)?.clone();
        (t["health"] == "down").then_some(t)
    })
    .unwrap_or_else(|| panic!("no file_sd target; log:\n{}", server.log()));
    assert_eq!(target["labels"]["from"], "file_sd");
    let err = target["lastError"].as_str().unwrap_or("");
    assert!(!err.contains("unable to read"), "{err}");
    // The pattern that matches nothing is named in the log.
    let log = server.log();
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("missing/*.yml")),
        "log:\n{log}"
    );
}
