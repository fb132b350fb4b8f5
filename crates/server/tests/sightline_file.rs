//! Issue 12, item 3: Sightline's own sections (`slos:`, `probes:`) live in
//! a sightline.yml that names the prometheus.yml, so the prometheus.yml
//! stays one that `promtool check config` accepts (checked with the real
//! promtool), while `serve --config sightline.yml` runs the SLOs and probes
//! and `check config sightline.yml` checks both files.

mod common;

use common::{eventually, peer, Server};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// conf/prometheus.yml (pure Prometheus), conf/sightline.yml naming it,
/// with an SLO spec and a probe of `probe_port`, all paths relative.
fn layout(root: &Path, probe_port: u16) {
    let conf = root.join("conf");
    std::fs::create_dir_all(conf.join("slos")).unwrap();
    std::fs::create_dir_all(root.join("elsewhere")).unwrap();
    std::fs::write(
        conf.join("rules.yml"),
        "groups:\n  - name: app\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n",
    )
    .unwrap();
    std::fs::write(
        conf.join("prometheus.yml"),
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
         rule_files: [rules.yml]\n\
         scrape_configs:\n  - job_name: app\n    static_configs: [{targets: ['127.0.0.1:1']}]\n",
    )
    .unwrap();
    std::fs::write(
        conf.join("slos/checkout.yml"),
        "version: sightline/v1\nservice: checkout\nslos:\n  - name: availability\n    objective: 99.9\n\
         \x20   availability: {metric: http_requests_total, selector: 'job=\"checkout\"', errors: 'code=~\"5..\"'}\n",
    )
    .unwrap();
    std::fs::write(
        conf.join("sightline.yml"),
        format!(
            "prometheus: prometheus.yml\nslos: ['slos/*.yml']\n\
             probes:\n  monitors:\n    - name: db\n      module: {{prober: tcp}}\n\
             \x20     targets: ['127.0.0.1:{probe_port}']\n      interval: 1s\n"
        ),
    )
    .unwrap();
}

fn run(bin: &Path, cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn issue_12_promtool_accepts_the_prometheus_file_of_a_sightline_file() {
    let Some(promtool) = peer("promtool") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    layout(tmp.path(), 1);
    let elsewhere = tmp.path().join("elsewhere");
    let theirs = run(
        &promtool,
        &elsewhere,
        &["check", "config", "../conf/prometheus.yml"],
    );
    assert_eq!(theirs.0, 0, "promtool refused prometheus.yml: {theirs:?}");
    // Ours says the same of that file, and checks the sightline.yml too.
    let ours_bin = Path::new(env!("CARGO_BIN_EXE_sightline"));
    let ours = run(
        ours_bin,
        &elsewhere,
        &["check", "config", "../conf/prometheus.yml"],
    );
    assert_eq!((ours.0, &ours.1), (theirs.0, &theirs.1));
    let (code, stdout, stderr) = run(
        ours_bin,
        &elsewhere,
        &["check", "config", "../conf/sightline.yml"],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.starts_with(
            "Checking ../conf/sightline.yml\n SUCCESS: ../conf/sightline.yml is valid sightline config file syntax\n\n\
             Checking ../conf/prometheus.yml\n  SUCCESS: 1 rule files found\n"
        ),
        "{stdout}"
    );
    // The old form, SLOs in prometheus.yml, is what promtool refuses.
    std::fs::write(
        tmp.path().join("conf/legacy.yml"),
        "rule_files: [rules.yml]\nslos: ['slos/*.yml']\n",
    )
    .unwrap();
    let theirs = run(
        &promtool,
        &elsewhere,
        &["check", "config", "../conf/legacy.yml"],
    );
    assert_eq!(theirs.0, 1, "{theirs:?}");
    let (code, _, stderr) = run(
        ours_bin,
        &elsewhere,
        &["check", "config", "../conf/legacy.yml"],
    );
    assert_eq!(code, 0, "still accepted: {stderr}");
    assert!(stderr.contains("move them to a sightline.yml"), "{stderr}");
}

#[test]
fn issue_12_serve_runs_slos_and_probes_from_a_sightline_file() {
    let probed = TcpListener::bind("127.0.0.1:0").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    layout(tmp.path(), probed.local_addr().unwrap().port());
    let server = Server::start_in(
        Some(&tmp.path().join("elsewhere")),
        &tmp.path().join("data"),
        &["--config", "../conf/sightline.yml"],
    );
    let json = |path: &str| common::json_or_null(&format!("{}{path}", server.url()));
    // The rule file of prometheus.yml and the SLO's generated groups.
    let rules = json("/api/v1/rules");
    let files: Vec<&str> = rules["data"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g["file"].as_str())
        .collect();
    assert!(files.contains(&"../conf/rules.yml"), "{files:?}");
    assert!(files.contains(&"<slos>"), "{files:?}");
    let slos = json("/api/v1/slos");
    assert_eq!(
        slos["data"][0]["service"],
        "checkout",
        "{slos}\nlog:\n{}",
        server.log()
    );
    // The probe runs and succeeds against the listener.
    let up = eventually(Duration::from_secs(20), || {
        let u = json("/api/v1/uptime");
        let first = u["data"].get(0)?.clone();
        (first["monitor"] == "db").then_some(first)
    })
    .unwrap_or_else(|| panic!("no probe results; log:\n{}", server.log()));
    assert_eq!(
        up["target"],
        format!("127.0.0.1:{}", probed.local_addr().unwrap().port())
    );
    // The prometheus.yml's scrape job runs too, and no hint is logged.
    let targets = json("/api/v1/targets");
    assert_eq!(targets["data"]["activeTargets"][0]["labels"]["job"], "app");
    assert!(!server.log().contains("move them"), "{}", server.log());
}
