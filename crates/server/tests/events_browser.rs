//! Issue 19, item 1: the browser snippet in a real browser. A static page
//! on another port (so another origin) carries the snippet of
//! docs/events-intake.md, which loads Sightline's `/v1/analytics.js`;
//! headless chromium (playwright-core from crates/ui/node_modules, Debian's
//! chromium, as ui_browser.rs) opens it, calls track, identify, group and
//! alias (the snippet itself sends a page view), and flushes. The stored
//! events are then read from the store and checked by hand.

mod common;
#[path = "common/events.rs"]
mod events_common;

use common::Server;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Serves `html` for every request on a free port.
fn serve_page(html: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
                html.len()
            );
        }
    });
    port
}

#[test]
fn issue_19_snippet_in_chromium() {
    let ui = workspace().join("crates/ui");
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.exists() {
        sightline_testkit::skip("no chromium (apt-get install chromium)");
        return;
    }
    let playwright = ui.join("node_modules/playwright-core");
    if !playwright.exists() {
        sightline_testkit::skip("no crates/ui/node_modules (npm ci in crates/ui)");
        return;
    }
    let Some(node) = sightline_testkit::find_on_path("node") else {
        sightline_testkit::skip("no node (apt-get install nodejs)");
        return;
    };
    let tmp = sightline_testkit::TempDir::new("events-browser");
    let args = events_common::config(
        tmp.path(),
        "  sources:\n    - {name: web, write_keys: [wk-browser]}\n",
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let data = tmp.path().join("data");
    let server = Server::start(&data, &args);
    let host = server.url();
    let html = format!(
        r#"<!doctype html><html><head><title>Shop</title>
<script>
  window.analytics = window.analytics || [];
  ["load", "track", "page", "identify", "group", "alias", "reset"].forEach(function (m) {{
    analytics[m] = analytics[m] || function () {{ analytics.push([m].concat([].slice.call(arguments))); }};
  }});
  analytics.load("wk-browser", {{ host: "{host}" }});
  analytics.page();
</script>
<script async src="{host}/v1/analytics.js"></script>
</head><body>shop</body></html>"#
    );
    let page_port = serve_page(html);
    let out = Command::new(node)
        .arg(workspace().join("crates/server/tests/events_browser.cjs"))
        .env("PLAYWRIGHT", &playwright)
        .env("CHROMIUM", &chromium)
        .env("PAGE_URL", format!("http://127.0.0.1:{page_port}/shop"))
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "browser script failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let said: Value = serde_json::from_slice(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or("")
            .as_bytes(),
    )
    .expect("the script's answer");
    let anon = said["anonymousId"].as_str().unwrap().to_owned();
    server.stop();

    let stored = events_common::stored(&data);
    let mut got: Vec<(String, String, Value, Value)> = stored
        .iter()
        .map(|e| {
            assert_eq!(e["source"], "web");
            assert_eq!(e["anonymousId"], json!(anon), "{e}");
            assert_eq!(e["context"]["library"]["name"], "sightline.js", "{e}");
            assert_eq!(e["context"]["page"]["path"], "/shop", "{e}");
            let name = e["event"]
                .as_str()
                .or(e["name"].as_str())
                .unwrap_or("")
                .to_owned();
            (
                e["type"].as_str().unwrap().to_owned(),
                name,
                e.get("userId").cloned().unwrap_or(Value::Null),
                e.get("properties")
                    .or(e.get("traits"))
                    .cloned()
                    .unwrap_or(Value::Null),
            )
        })
        .collect();
    got.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let page_props = &got.iter().find(|g| g.0 == "page").expect("the page view").3;
    assert_eq!(page_props["path"], "/shop");
    assert_eq!(page_props["title"], "Shop");
    let got: Vec<(String, String, Value)> = got
        .into_iter()
        .filter(|g| g.0 != "page")
        .map(|g| (g.0, g.1, g.2))
        .collect();
    assert_eq!(
        got,
        [
            ("alias".into(), "".into(), json!("user-42b")),
            ("group".into(), "".into(), json!("user-42")),
            ("identify".into(), "".into(), json!("user-42")),
            ("track".into(), "Checked Out".into(), json!("user-42")),
            ("track".into(), "Clicked Buy".into(), Value::Null),
        ]
    );
    let by = |t: &str| stored.iter().find(|e| e["type"] == t).unwrap();
    assert_eq!(by("identify")["traits"], json!({"plan": "pro"}));
    assert_eq!(by("group")["groupId"], "acme");
    assert_eq!(by("group")["traits"], json!({"seats": 5}));
    assert_eq!(by("alias")["previousId"], "user-42");
    let clicked = stored.iter().find(|e| e["event"] == "Clicked Buy").unwrap();
    assert_eq!(clicked["properties"], json!({"sku": "A-1", "price": 9.5}));
}
