//! The Events pages in chromium (issue 19, item 4) over the analytics
//! corpus: the web UI and the analytics routes served in-process, and
//! crates/ui/tests/pages/events.mjs clicking through every tab and
//! comparing what the pages show with the API's answers. Screenshots land
//! in `target/ui-screenshots/`.
//! ui_browser.rs, whose server has no events, leaves events.mjs to this
//! test.

#[path = "events_analytics/corpus.rs"]
mod corpus;

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn events_pages_in_chromium() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ui = workspace.join("crates/ui");
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
    let (_rt, base) = corpus::serve(corpus::source(corpus::corpus()), true);
    let out = Command::new(node)
        .current_dir(&ui)
        .arg("tests/browser.mjs")
        .arg(&base)
        .arg(workspace.join("target/ui-screenshots"))
        .arg("events")
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
}
