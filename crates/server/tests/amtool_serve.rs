//! Issue 4: Debian's `amtool` pointed at Sightline's built-in Alertmanager
//! adds and lists alerts, adds, queries and expires silences; silences
//! survive a restart.

mod common;

use common::{eventually, peer, Server};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn amtool(bin: &Path, url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(bin)
        .arg(format!("--alertmanager.url={url}"))
        .args(args)
        .output()
        .expect("run amtool");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Sightline reports the Alertmanager version whose API it speaks, so
    // amtool has nothing to warn about.
    assert!(!stderr.contains("are different"), "{stderr}");
    let text = if out.status.success() {
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        format!("{}{stderr}", String::from_utf8_lossy(&out.stdout))
    };
    (out.status.success(), text)
}

fn json(bin: &Path, url: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["-o", "json"];
    all.extend_from_slice(args);
    let (ok, text) = amtool(bin, url, &all);
    assert!(ok, "amtool {args:?}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("amtool {args:?} printed {text}: {e}"))
}

#[test]
fn amtool_manages_alerts_and_silences() {
    let Some(bin) = peer("amtool") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let am_cfg = dir.path().join("alertmanager.yml");
    std::fs::write(
        &am_cfg,
        "route:\n  receiver: team\n  group_by: [alertname]\n  routes:\n    - matchers: ['severity=\"page\"']\n      receiver: pager\nreceivers:\n  - name: team\n  - name: pager\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let args = ["--alertmanager.config.file", am_cfg.to_str().unwrap()];
    let server = Server::start(&data, &args);
    let url = server.url();

    let (ok, text) = amtool(
        &bin,
        &url,
        &[
            "alert",
            "add",
            "alertname=DiskFull",
            "severity=page",
            "instance=db1",
            "--annotation=summary=disk is full",
        ],
    );
    assert!(ok, "{text}");
    let alerts = eventually(Duration::from_secs(10), || {
        let a = json(&bin, &url, &["alert", "query"]);
        (a.as_array()?.len() == 1).then_some(a)
    })
    .expect("amtool lists the alert");
    assert_eq!(alerts[0]["labels"]["instance"], "db1");
    assert_eq!(alerts[0]["annotations"]["summary"], "disk is full");
    assert_eq!(alerts[0]["receivers"][0]["name"], "pager");

    // Silence it; the alert turns suppressed and `alert query` (active only) hides it.
    let (ok, id) = amtool(
        &bin,
        &url,
        &[
            "silence",
            "add",
            "alertname=DiskFull",
            "-c",
            "replacing the disk",
            "-a",
            "ops",
            "-d",
            "2h",
        ],
    );
    assert!(ok, "{id}");
    let id = id.trim().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let silences = json(&bin, &url, &["silence", "query"]);
    assert_eq!(silences[0]["id"], id.as_str());
    assert_eq!(silences[0]["createdBy"], "ops");
    assert_eq!(silences[0]["matchers"][0]["name"], "alertname");
    let hidden = eventually(Duration::from_secs(10), || {
        let a = json(&bin, &url, &["alert", "query"]);
        a.as_array()?.is_empty().then_some(())
    });
    assert!(hidden.is_some(), "silenced alert still listed as active");
    let all = json(&bin, &url, &["alert", "query", "--silenced"]);
    assert_eq!(all[0]["status"]["state"], "suppressed");

    // A second silence, then a restart: both come back.
    let (ok, id2) = amtool(
        &bin,
        &url,
        &["silence", "add", "instance=~db.*", "-c", "c", "-d", "1h"],
    );
    assert!(ok, "{id2}");
    let id2 = id2.trim().to_owned();
    server.stop();
    let server = Server::start(&data, &args);
    let url = server.url();
    let q = json(&bin, &url, &["silence", "query"]);
    let mut ids: Vec<&str> = q
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    ids.sort();
    let mut want = vec![id.as_str(), id2.as_str()];
    want.sort();
    assert_eq!(ids, want, "silences survive a restart");

    // Expire one: it leaves the active list, and shows under --expired.
    let (ok, text) = amtool(&bin, &url, &["silence", "expire", &id]);
    assert!(ok, "{text}");
    let q = json(&bin, &url, &["silence", "query"]);
    assert_eq!(q.as_array().unwrap().len(), 1);
    assert_eq!(q[0]["id"], id2.as_str());
    let expired = json(&bin, &url, &["silence", "query", "--expired"]);
    assert!(expired
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == id.as_str()));
    // A silence that would match everything is refused by the server with
    // Alertmanager's reason (checked against Alertmanager 0.25 by hand).
    let (ok, text) = amtool(&bin, &url, &["silence", "add", "foo=~\"\"", "-c", "c"]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("400") && text.contains("must not match the empty string"),
        "{text}"
    );
}
