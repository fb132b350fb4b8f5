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

use common::{eventually, free_port, http, sightline_import, Proc, Server};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A metric the server has once it scraped itself (as two jobs).
const QUERY: &str = "sightline_tsdb_head_series";

/// `UI_PAGES`, or every page module but `events`: this server has no user
/// events, and events_analytics_ui.rs runs that page over its corpus.
fn pages_to_run(ui: &Path) -> Vec<String> {
    if let Ok(p) = std::env::var("UI_PAGES") {
        return p.split(',').map(str::to_owned).collect();
    }
    let mut all: Vec<String> = std::fs::read_dir(ui.join("tests/pages"))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".mjs").map(str::to_owned)
        })
        .filter(|m| m != "events")
        .collect();
    all.sort();
    all
}

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
    let Some(shared) = sightline_testkit::external_dir(
        &workspace().join("../shared/peer-tests/grafana-dashboards"),
        "Grafana's dashboards (../shared/peer-tests/grafana-dashboards)",
    ) else {
        return;
    };
    // Debian's node exporter feeds Grafana's Node Exporter Full.
    let Some(node_exporter) = sightline_testkit::peer(
        "prometheus-node-exporter",
        "apt-get install prometheus-node-exporter",
    ) else {
        return;
    };
    let node_port = free_port();
    let _node = Proc(
        Command::new(node_exporter)
            .arg(format!("--web.listen-address=127.0.0.1:{node_port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start prometheus-node-exporter"),
    );

    let dir = tempfile::tempdir().unwrap();
    let fixture = ui.join("tests/fixture");
    let write_fixture = |addr: &str| {
        for e in std::fs::read_dir(&fixture).unwrap() {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(
                dir.path().join(path.file_name().unwrap()),
                text.replace("NODE_ADDR", &format!("127.0.0.1:{node_port}"))
                    .replace("ADDR", addr),
            )
            .unwrap();
        }
    };
    write_fixture("127.0.0.1:1");
    let config = dir.path().join("sightline.yml");
    let am = dir.path().join("alertmanager.yml");
    let data = dir.path().join("data");
    // A service with the seeds' metrics over the last hour, through the
    // import path: the golden-signals dashboard has something to show.
    let shop = dir.path().join("shop.om");
    std::fs::write(&shop, shop_history()).unwrap();
    sightline_import(&shop, &data);
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
        .args(pages_to_run(&ui))
        .env("SHARED_DASHBOARDS", &shared)
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

    // The dashboard saved in the browser survives a restart.
    let pages = std::env::var("UI_PAGES").unwrap_or_default();
    if pages.is_empty() || pages.split(',').any(|p| p == "dashboards") {
        let server = Server::start(&data, &["--config", config.to_str().unwrap()]);
        let hits: serde_json::Value = http()
            .get(format!("{}/api/search?query=Browser%20test", server.url()))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let uid = hits[0]["uid"]
            .as_str()
            .unwrap_or_else(|| panic!("no saved dashboard after a restart: {hits}"));
        let got: serde_json::Value = http()
            .get(format!("{}/api/dashboards/uid/{uid}", server.url()))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let panels = got["dashboard"]["panels"].as_array().unwrap();
        assert!(
            panels
                .iter()
                .any(|p| p["targets"][0]["expr"] == "sightline_tsdb_head_series"),
            "{got}"
        );
        server.stop();
    }
}

/// OpenMetrics text of a service `shop` around the last hour at 1 s (the fixture's scrape interval, which `$__rate_interval` builds on): request
/// counters by code (200 at 10/s, 404 at 1/s, 500 at 0.5/s) and a latency
/// histogram, as the seeds' services expose them.
fn shop_history() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let start = now - 3600;
    // Ten minutes past now as well: windows ending while the test runs
    // hold whole intervals, so rates are exactly the ones below.
    let now = now + 600;
    let mut out = String::from("# TYPE http_requests counter\n");
    for (code, rate) in [("200", 10.0), ("404", 1.0), ("500", 0.5)] {
        for t in (start..now).step_by(1) {
            let v = (t - start) as f64 * rate;
            out += &format!(
                "http_requests_total{{job=\"shop\",instance=\"shop:8080\",code=\"{code}\"}} {v} {t}\n"
            );
        }
    }
    out += "# TYPE http_request_duration_seconds histogram\n";
    for (le, share) in [
        ("0.1", 0.5),
        ("0.25", 0.8),
        ("0.5", 0.95),
        ("1.0", 0.99),
        ("+Inf", 1.0),
    ] {
        for t in (start..now).step_by(1) {
            let v = (t - start) as f64 * 11.5 * share;
            out += &format!(
                "http_request_duration_seconds_bucket{{job=\"shop\",instance=\"shop:8080\",le=\"{le}\"}} {v} {t}\n"
            );
        }
    }
    out + "# EOF\n"
}
