//! Issue 14, item 9: the web UI in a real browser. A `sightline serve`
//! runs crates/ui/tests/fixture/ (it scrapes itself, has rules, alerts at
//! its built-in Alertmanager, an SLO and probes);
//! crates/ui/tests/browser.mjs (playwright-core driving Debian's chromium)
//! runs each page's checks from crates/ui/tests/pages/. `UI_PAGES=explore,alerts`
//! runs only those. Screenshots land in `target/ui-screenshots/`.
//!
//! Needs `/usr/bin/chromium` (`apt-get install chromium`) and
//! `crates/ui/node_modules` (`npm ci` in crates/ui); .ci/run installs both.

mod common;

use common::{eventually, http, Server};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A metric the server has once it scraped itself (as two jobs).
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

    // The fixture's files name the server's own address (ADDR), known
    // once it listens: start on a dead address, then point it home and
    // reload.
    let dir = tempfile::tempdir().unwrap();
    let fixture = ui.join("tests/fixture");
    let write_fixture = |addr: &str| {
        for e in std::fs::read_dir(&fixture).unwrap() {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(
                dir.path().join(path.file_name().unwrap()),
                text.replace("ADDR", addr),
            )
            .unwrap();
        }
    };
    write_fixture("127.0.0.1:1");
    let config = dir.path().join("sightline.yml");
    let am = dir.path().join("alertmanager.yml");
    let data = dir.path().join("data");
    let server = Server::start(
        &data,
        &[
            "--config",
            config.to_str().unwrap(),
            "--alertmanager.config.file",
            am.to_str().unwrap(),
        ],
    );
    write_fixture(&format!("127.0.0.1:{}", server.port));
    let r = http()
        .post(format!("{}/-/reload", server.url()))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "reload: {}", r.status());
    // Data to look at: both self-scrape jobs, and an alert at the
    // Alertmanager.
    let query_url = format!("{}/api/v1/query?query={QUERY}", server.url());
    eventually(Duration::from_secs(30), || {
        let v: serde_json::Value = http().get(&query_url).send().ok()?.json().ok()?;
        (v["data"]["result"].as_array()?.len() >= 2).then_some(())
    })
    .unwrap_or_else(|| panic!("no self-scraped {QUERY} series: {}", server.log()));
    let alerts_url = format!("{}/api/v2/alerts", server.url());
    eventually(Duration::from_secs(30), || {
        let v: serde_json::Value = http().get(&alerts_url).send().ok()?.json().ok()?;
        (!v.as_array()?.is_empty()).then_some(())
    })
    .unwrap_or_else(|| panic!("no alert reached the Alertmanager: {}", server.log()));

    let shots = workspace().join("target/ui-screenshots");
    let out = Command::new(node)
        .current_dir(&ui)
        .arg("tests/browser.mjs")
        .arg(server.url())
        .arg(&shots)
        .args(std::env::var("UI_PAGES").iter().flat_map(|p| p.split(',')))
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
