//! Issue 5: SLO specs in the config (`slos:`) become rule groups that
//! `serve` evaluates; `/api/v1/slos` and `sightline slo report` give the
//! budget; `sightline slo generate` prints rules Debian's promtool accepts.

mod common;

use common::{eventually, get_text, peer, Server};
use std::process::Command;
use std::time::Duration;

const SPEC: &str = "version: sightline/v1\nservice: checkout\nslos:\n  - name: availability\n    objective: 99.9\n    availability: {metric: http_requests_total, selector: 'job=\"app\"', errors: 'code=~\"5..\"'}\n";

fn serve_target() -> u16 {
    let start = std::time::Instant::now();
    common::serve_metrics(move || {
        // 100 requests a second, none failing.
        let ok = (start.elapsed().as_secs_f64() * 100.0).round();
        format!("http_requests_total{{code=\"200\"}} {ok}\nhttp_requests_total{{code=\"500\"}} 0\n")
    })
}

#[test]
fn generate_prints_rules_promtool_accepts() {
    let Some(promtool) = peer("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("slo.yml");
    std::fs::write(&spec, SPEC).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["slo", "generate"])
        .arg(&spec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, &out.stdout).unwrap();
    let check = Command::new(promtool)
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "promtool refused the generated rules:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("slo:sli_error:ratio_rate5m"), "{text}");
    // A bad spec names the file and field.
    std::fs::write(&spec, "version: sightline/v1\nservice: x\nslos:\n  - name: a\n    objective: 120\n    availability: {metric: m, errors: 'code=\"5\"'}\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["slo", "generate"])
        .arg(&spec)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("slo.yml:") && err.contains("objective"),
        "{err}"
    );
}

#[test]
fn config_slos_are_evaluated_and_reported() {
    let port = serve_target();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slo.yml"), SPEC).unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             slos: ['slo.yml']\n\
             scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .unwrap();
    let cfg = dir.path().join("prometheus.yml");
    let server = Server::start(
        &dir.path().join("data"),
        &["--config.file", cfg.to_str().unwrap()],
    );
    let rules: serde_json::Value =
        serde_json::from_str(&get_text(&format!("{}/api/v1/rules", server.url()))).unwrap();
    let groups = rules["data"]["groups"].as_array().unwrap();
    assert!(
        groups.iter().any(|g| g["file"] == "<slos>"),
        "generated groups are served: {rules}"
    );
    // The objective is the spec's; the SLI appears once rates exist.
    let slo = eventually(Duration::from_secs(60), || {
        let v: serde_json::Value =
            serde_json::from_str(&get_text(&format!("{}/api/v1/slos", server.url()))).ok()?;
        let s = v["data"][0].clone();
        s["sli_now"].as_f64().map(|_| s)
    })
    .unwrap_or_else(|| panic!("no SLI reported; log:\n{}", server.log()));
    assert_eq!(slo["objective"], 0.999);
    assert_eq!(slo["service"], "checkout");
    // No errors at all: every request is good (SLI 1) and no budget is spent.
    assert_eq!(slo["sli_now"].as_f64(), Some(1.0), "{slo}");
    assert_eq!(slo["budget_remaining"].as_f64(), Some(1.0), "{slo}");
    // 30 days at 99.9%: 43.2 minutes of budget.
    assert!(
        (slo["budget_total_seconds"].as_f64().unwrap() - 2592.0).abs() < 1e-6,
        "{slo}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["slo", "report", "--url", &server.url()])
        .arg(dir.path().join("slo.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("availability") && table.contains("99.9"),
        "{table}"
    );
}
