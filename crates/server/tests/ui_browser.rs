//! Issue 14, item 9: the web UI in a real browser. A `sightline serve`
//! scrapes itself; crates/ui/tests/browser.mjs (playwright-core driving
//! Debian's chromium) opens every page, types a query in the editor and
//! checks the graph draws as many series as the API returns, completion
//! and error display. Screenshots land in `target/ui-screenshots/`.
//!
//! Needs `/usr/bin/chromium` (`apt-get install chromium`) and
//! `crates/ui/node_modules` (`npm ci` in crates/ui); .ci/run installs both.

mod common;

use common::{eventually, http, Server};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The metric the test queries: the server scrapes itself as two jobs, so
/// two series.
const QUERY: &str = "sightline_tsdb_head_series";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn issue_14_ui_in_chromium() {
    let ui = workspace().join("crates/ui");
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.exists() {
        sightline_testkit::skip("no chromium (apt-get install chromium)");
        return;
    }
    if !ui.join("node_modules/playwright-core").exists() {
        sightline_testkit::skip("no crates/ui/node_modules (npm ci in crates/ui)");
        return;
    }
    let Some(node) = sightline_testkit::find_on_path("node") else {
        sightline_testkit::skip("no node (apt-get install nodejs)");
        return;
    };

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    let write_config = |target: &str| {
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: sightline\n    static_configs:\n      \
                 - targets: ['{target}']\n  - job_name: sightline-again\n    static_configs:\n      \
                 - targets: ['{target}']\n"
            ),
        )
        .unwrap()
    };
    // The port is chosen when the server starts: point the scrape at it
    // and reload.
    write_config("127.0.0.1:1");
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--config.file", config.to_str().unwrap()]);
    write_config(&format!("127.0.0.1:{}", server.port));
    let r = http()
        .post(format!("{}/-/reload", server.url()))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "reload: {}", r.status());
    let query_url = format!("{}/api/v1/query?query={QUERY}", server.url());
    eventually(Duration::from_secs(30), || {
        let v: serde_json::Value = http().get(&query_url).send().ok()?.json().ok()?;
        (v["data"]["result"].as_array()?.len() >= 2).then_some(())
    })
    .unwrap_or_else(|| panic!("no self-scraped {QUERY} series: {}", server.log()));

    let shots = workspace().join("target/ui-screenshots");
    let out = Command::new(node)
        .current_dir(&ui)
        .arg("tests/browser.mjs")
        .arg(server.url())
        .arg(&shots)
        .arg(QUERY)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "browser test failed:\n{text}");
    eprintln!("{text}");
    server.stop();
}
