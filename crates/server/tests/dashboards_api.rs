//! Issue 14: dashboards through Grafana's HTTP API on a real server: save,
//! get, search, conflicts, delete, import with `__inputs`, folders,
//! provisioned folders (the real dashboards of
//! `../shared/peer-tests/grafana-dashboards/`), restarts and `kill -9`,
//! and the route prefix. Expected values are written by hand from
//! Grafana's documented shapes.

mod common;

use common::Server;
use serde_json::{json, Value};
use sightline_testkit::TempDir;
use std::path::{Path, PathBuf};

/// A client that does not follow redirects, so they can be checked.
fn client() -> reqwest::blocking::Client {
    let _ = common::http();
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

fn post(url: &str, body: &Value) -> (u16, Value) {
    let r = client().post(url).json(body).send().unwrap();
    let s = r.status().as_u16();
    (s, r.json().unwrap_or(Value::Null))
}

fn post_raw(url: &str, body: &str) -> (u16, Value) {
    let r = client()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().unwrap_or(Value::Null))
}

fn get(url: &str) -> (u16, Value) {
    let r = client().get(url).send().unwrap();
    let s = r.status().as_u16();
    (s, r.json().unwrap_or(Value::Null))
}

fn peer_dir() -> Option<PathBuf> {
    let dir = std::env::var("GRAFANA_DASHBOARDS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/peer-tests/grafana-dashboards")
        });
    sightline_testkit::external_dir(
        &dir,
        "Grafana dashboards (../shared/peer-tests/grafana-dashboards, or set GRAFANA_DASHBOARDS)",
    )
}

#[test]
fn issue_14_save_get_search_conflict_delete() {
    let tmp = TempDir::new("dash-api");
    let srv = Server::start(&tmp.path().join("data"), &[]);
    let u = srv.url();
    let (s, saved) = post(
        &format!("{u}/api/dashboards/db"),
        &json!({"dashboard": {"id": null, "uid": null, "title": "Web Front", "tags": ["prod"],
                              "schemaVersion": 39, "panels": []},
                "folderUid": "", "overwrite": false, "message": "first"}),
    );
    assert_eq!(s, 200, "{saved}");
    let uid = saved["uid"].as_str().unwrap().to_owned();
    assert!((9..=14).contains(&uid.len()), "{uid}");
    assert_eq!(saved["status"], "success");
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["slug"], "web-front");
    assert_eq!(saved["url"], format!("/d/{uid}/web-front"));

    let (s, got) = get(&format!("{u}/api/dashboards/uid/{uid}"));
    assert_eq!(s, 200);
    assert_eq!(got["dashboard"]["title"], "Web Front");
    assert_eq!(got["dashboard"]["uid"], uid.as_str());
    assert_eq!(got["dashboard"]["version"], 1);
    let m = &got["meta"];
    assert_eq!(m["slug"], "web-front");
    assert_eq!(m["url"], format!("/d/{uid}/web-front"));
    assert_eq!(m["version"], 1);
    assert_eq!(m["folderUid"], "");
    assert_eq!(m["provisioned"], false);
    assert_eq!(m["provisionedExternalId"], "");
    assert_eq!(m["canSave"], true);
    assert_eq!(m["canEdit"], true);
    assert!(m["created"].as_str().unwrap().ends_with('Z'));

    // Search by words, type and tag.
    let (_, found) = get(&format!("{u}/api/search?query=front&type=dash-db"));
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    let row = &found[0];
    assert_eq!(row["uid"], uid.as_str());
    assert_eq!(row["title"], "Web Front");
    assert_eq!(row["type"], "dash-db");
    assert_eq!(row["uri"], "db/web-front");
    assert_eq!(row["url"], format!("/d/{uid}/web-front"));
    assert_eq!(row["tags"], json!(["prod"]));
    assert_eq!(row["isStarred"], false);
    assert_eq!(
        get(&format!("{u}/api/search?tag=prod"))
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get(&format!("{u}/api/search?tag=dev"))
            .1
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        get(&format!("{u}/api/search?query=nothing-like-it"))
            .1
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // A save from an older version is refused, and so is a second
    // dashboard of the same title in the folder.
    let (s, e) = post(
        &format!("{u}/api/dashboards/db"),
        &json!({"dashboard": {"uid": uid, "title": "Web Front", "version": 0}}),
    );
    assert_eq!(s, 412, "{e}");
    assert_eq!(e["status"], "version-mismatch");
    let (s, e) = post(
        &format!("{u}/api/dashboards/db"),
        &json!({"dashboard": {"title": "web front"}}),
    );
    assert_eq!(s, 412, "{e}");
    assert_eq!(e["status"], "name-exists");
    // The current version saves and increments.
    let (s, v2) = post(
        &format!("{u}/api/dashboards/db"),
        &json!({"dashboard": {"uid": uid, "title": "Web Front", "version": 1}, "message": "m"}),
    );
    assert_eq!((s, v2["version"].clone()), (200, json!(2)), "{v2}");

    // Bad input says what and where.
    let (s, e) = post_raw(
        &format!("{u}/api/dashboards/db"),
        "{\"dashboard\": {\"title\": ",
    );
    assert_eq!(s, 400);
    assert!(e["message"].as_str().unwrap().contains("line 1"), "{e}");
    let (s, e) = post_raw(
        &format!("{u}/api/dashboards/db"),
        "{\"dashboard\": {\"panels\": []},\n \"overwrite\": false}",
    );
    assert_eq!(s, 400);
    assert!(
        e["message"].as_str().unwrap().contains("dashboard.title"),
        "{e}"
    );
    let (s, e) = post_raw(
        &format!("{u}/api/dashboards/db"),
        "{\"dashboard\": {\"title\": \"x\"},\n \"overwrite\": \"yes\"}",
    );
    assert_eq!(s, 400);
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains("overwrite") && msg.contains("line 2"), "{e}");

    // Past axum's default 2 MB body limit (big dashboards are).
    let (s, big) = post(
        &format!("{u}/api/dashboards/db"),
        &json!({"dashboard": {"title": "Big", "description": "x".repeat(3 << 20)}}),
    );
    assert_eq!(s, 200, "{big}");

    // Grafana's links open the UI's page.
    let r = client()
        .get(format!("{u}/d/{uid}/web-front"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(
        r.headers()["location"],
        format!("/#/dashboards/{uid}").as_str()
    );
    let r = client().get(format!("{u}/d/{uid}")).send().unwrap();
    assert_eq!(r.status().as_u16(), 302);

    // Delete, then it is gone.
    let r = client()
        .delete(format!("{u}/api/dashboards/uid/{uid}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().unwrap();
    assert_eq!(body["title"], "Web Front");
    let (s, e) = get(&format!("{u}/api/dashboards/uid/{uid}"));
    assert_eq!((s, e), (404, json!({"message": "Dashboard not found"})));
    let r = client()
        .delete(format!("{u}/api/dashboards/uid/{uid}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[test]
fn issue_14_folders_and_import_with_inputs() {
    let tmp = TempDir::new("dash-api");
    let srv = Server::start(&tmp.path().join("data"), &[]);
    let u = srv.url();
    let (s, f) = post(
        &format!("{u}/api/folders"),
        &json!({"uid": "team-a", "title": "Team A"}),
    );
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["uid"], "team-a");
    assert_eq!(f["title"], "Team A");
    let (s, _) = post(
        &format!("{u}/api/folders"),
        &json!({"uid": "team-a", "title": "Again"}),
    );
    assert_eq!(s, 409);
    let (_, list) = get(&format!("{u}/api/folders"));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["uid"], "team-a");

    let exported = json!({
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "prometheus", "type": "datasource",
                      "pluginId": "prometheus", "pluginName": "Prometheus"}],
        "title": "Imported", "uid": "imp1", "schemaVersion": 41,
        "panels": [{"id": 1, "type": "timeseries", "title": "up",
                    "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
                    "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
                    "targets": [{"refId": "A", "expr": "up",
                                 "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}}]}]
    });
    let (s, imp) = post(
        &format!("{u}/api/dashboards/import"),
        &json!({"dashboard": exported, "overwrite": true, "folderUid": "team-a",
                "inputs": [{"name": "DS_PROMETHEUS", "type": "datasource",
                            "pluginId": "prometheus", "value": "sightline"}]}),
    );
    assert_eq!(s, 200, "{imp}");
    assert_eq!(imp["uid"], "imp1");
    assert_eq!(imp["imported"], true);
    assert_eq!(imp["importedUrl"], "/d/imp1/imported");
    assert_eq!(imp["folderUid"], "team-a");
    let (_, got) = get(&format!("{u}/api/dashboards/uid/imp1"));
    let p = &got["dashboard"]["panels"][0];
    assert_eq!(
        p["datasource"],
        json!({"type": "prometheus", "uid": "sightline"})
    );
    assert_eq!(p["targets"][0]["datasource"]["uid"], "sightline");
    assert!(got["dashboard"].get("__inputs").is_none());
    assert_eq!(got["meta"]["folderUid"], "team-a");
    assert_eq!(got["meta"]["folderTitle"], "Team A");
    // The file is in the folder's directory, holding the dashboard model.
    let file = srv.data_dir.join("dashboards/team-a/imp1.json");
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(on_disk["title"], "Imported");
    // Search within the folder.
    let (_, found) = get(&format!("{u}/api/search?folderUIDs=team-a"));
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["folderUid"], "team-a");
    assert_eq!(found[0]["folderTitle"], "Team A");
    // An exported id names nothing here: the import is a new dashboard.
    let (s, other) = post(
        &format!("{u}/api/dashboards/import"),
        &json!({"dashboard": {"title": "From elsewhere", "id": 1}}),
    );
    assert_eq!(s, 200, "{other}");
    assert_ne!(other["uid"], "imp1");
    assert_eq!(other["version"], 1);
    // Importing again with overwrite replaces it (version goes up).
    let (s, again) = post(
        &format!("{u}/api/dashboards/import"),
        &json!({"dashboard": {"title": "Imported", "uid": "imp1"}, "overwrite": true,
                "folderUid": "team-a"}),
    );
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["version"], 2);

    // Deleting the folder deletes what is in it.
    let r = client()
        .delete(format!("{u}/api/folders/team-a"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(get(&format!("{u}/api/dashboards/uid/imp1")).0, 404);
    assert_eq!(get(&format!("{u}/api/folders/team-a")).0, 404);
    assert!(!file.exists());

    // A real shared export, `${DS_PROMETHEUS}` answered by default.
    if let Some(dir) = peer_dir() {
        let haproxy: Value =
            serde_json::from_slice(&std::fs::read(dir.join("haproxy.json")).unwrap()).unwrap();
        let n = haproxy["panels"].as_array().unwrap().len();
        let (s, imp) = post(
            &format!("{u}/api/dashboards/import"),
            &json!({"dashboard": haproxy, "overwrite": true}),
        );
        assert_eq!(s, 200, "{imp}");
        let uid = imp["uid"].as_str().unwrap();
        let (_, got) = get(&format!("{u}/api/dashboards/uid/{uid}"));
        assert_eq!(got["dashboard"]["panels"].as_array().unwrap().len(), n);
        assert!(!got["dashboard"].to_string().contains("${DS_PROMETHEUS}"));
    }
}

#[test]
fn issue_14_saves_survive_restart_and_kill_9() {
    let tmp = TempDir::new("dash-api");
    let data = tmp.path().join("data");
    let srv = Server::start(&data, &[]);
    let (s, saved) = post(
        &format!("{}/api/dashboards/db", srv.url()),
        &json!({"dashboard": {"title": "Durable", "uid": "durable", "panels": [
            {"id": 1, "type": "stat", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4}}]}}),
    );
    assert_eq!(s, 200, "{saved}");
    // Acknowledged, then the process dies without a chance to flush.
    srv.kill9();
    let srv = Server::start(&data, &[]);
    let (s, got) = get(&format!("{}/api/dashboards/uid/durable", srv.url()));
    assert_eq!(s, 200, "lost after kill -9: {}", srv.log());
    assert_eq!(got["dashboard"]["title"], "Durable");
    assert_eq!(got["dashboard"]["panels"][0]["type"], "stat");
    assert_eq!(got["meta"]["version"], 1);
    let (s, _) = post(
        &format!("{}/api/dashboards/db", srv.url()),
        &json!({"dashboard": {"title": "Durable 2", "uid": "durable", "version": 1}}),
    );
    assert_eq!(s, 200);
    srv.stop();
    let srv = Server::start(&data, &[]);
    let (_, got) = get(&format!("{}/api/dashboards/uid/durable", srv.url()));
    assert_eq!(got["dashboard"]["title"], "Durable 2");
    assert_eq!(got["meta"]["version"], 2);
    // A corrupt file is skipped with its name in the log, and kept: set
    // aside as `<uid>.json.corrupted` (issue 18, docs/format/corrupted.md).
    let bad = data.join("dashboards/general/broken.json");
    std::fs::write(&bad, "{\"title\": ").unwrap();
    srv.stop();
    let srv = Server::start(&data, &[]);
    assert_eq!(
        get(&format!("{}/api/dashboards/uid/durable", srv.url())).0,
        200
    );
    assert_eq!(
        get(&format!("{}/api/dashboards/uid/broken", srv.url())).0,
        404
    );
    assert!(srv.log().contains("broken.json"), "{}", srv.log());
    assert!(data
        .join("dashboards/general/broken.json.corrupted")
        .is_file());
    assert!(!bad.exists());
}

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn issue_14_provisioned_real_dashboards_and_reload() {
    let Some(peer) = peer_dir() else {
        return;
    };
    let tmp = TempDir::new("dash-api");
    let prov = tmp.path().join("provisioned");
    std::fs::create_dir_all(&prov).unwrap();
    // Copied at run time: the files belong to their authors and stay in
    // ../shared (see its SOURCE.md).
    for f in ["node-exporter-full.json", "haproxy.json"] {
        std::fs::copy(peer.join(f), prov.join(f)).unwrap();
    }
    write(&prov.join("broken.json"), "{\"title\": \"Broken\", ");
    let cfg = tmp.path().join("sightline.yml");
    write(
        &cfg,
        "dashboards:\n  apiVersion: 1\n  providers:\n    - name: peers\n      folder: Peers\n      \
         type: file\n      options:\n        path: provisioned\n",
    );
    let srv = Server::start(
        &tmp.path().join("data"),
        &["--config", cfg.to_str().unwrap()],
    );
    let u = srv.url();
    let (_, found) = get(&format!("{u}/api/search?type=dash-db"));
    let titles: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["HAProxy", "Node Exporter Full"], "{found}");
    assert!(srv.log().contains("broken.json"), "{}", srv.log());
    let (_, report) = get(&format!("{u}/api/dashboards/provisioning"));
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report}");
    assert!(
        errors[0].as_str().unwrap().contains("broken.json"),
        "{report}"
    );
    let uid = found[1]["uid"].as_str().unwrap();
    assert_eq!(found[1]["folderTitle"], "Peers");
    let (_, got) = get(&format!("{u}/api/dashboards/uid/{uid}"));
    assert_eq!(got["meta"]["provisioned"], true);
    assert_eq!(got["meta"]["canSave"], false);
    assert!(got["meta"]["provisionedExternalId"]
        .as_str()
        .unwrap()
        .ends_with("node-exporter-full.json"));
    // Every panel has a grid position and a type.
    let mut n = 0;
    let mut stack = vec![got["dashboard"]["panels"].clone()];
    while let Some(Value::Array(ps)) = stack.pop() {
        for p in ps {
            n += 1;
            assert!(p["gridPos"]["w"].is_i64() && p["type"].is_string(), "{p}");
            stack.push(p.get("panels").cloned().unwrap_or(Value::Array(vec![])));
        }
    }
    assert_eq!(
        n,
        16 + 5 + 5 + 4 + 111,
        "rows + gauge + stat + bargauge + timeseries"
    );
    // Provisioned without allowUiUpdates: saving is refused.
    let mut d = got["dashboard"].clone();
    d["title"] = json!("Changed");
    let (s, e) = post(
        &format!("{u}/api/dashboards/db"),
        &json!({"dashboard": d, "overwrite": true}),
    );
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["message"], "Cannot save provisioned dashboard");
    // A new file appears on reload.
    write(
        &prov.join("extra.json"),
        r#"{"title": "Extra", "uid": "extra"}"#,
    );
    let r = client().post(format!("{u}/-/reload")).send().unwrap();
    assert!(r.status().is_success());
    assert_eq!(get(&format!("{u}/api/dashboards/uid/extra")).0, 200);
    // A section that does not load refuses the reload; the old set stays.
    write(
        &cfg,
        "dashboards:\n  providers:\n    - name: peers\n      type: git\n      options: {path: provisioned}\n",
    );
    let r = client().post(format!("{u}/-/reload")).send().unwrap();
    assert!(!r.status().is_success());
    assert_eq!(get(&format!("{u}/api/dashboards/uid/extra")).0, 200);
}

#[test]
fn issue_14_dashboards_dir_flag() {
    let tmp = TempDir::new("dash-api");
    let dir = tmp.path().join("dash");
    write(&dir.join("ops/a.json"), r#"{"title": "A", "uid": "a"}"#);
    let srv = Server::start(
        &tmp.path().join("data"),
        &["--dashboards.dir", dir.to_str().unwrap()],
    );
    let (_, got) = get(&format!("{}/api/dashboards/uid/a", srv.url()));
    assert_eq!(got["meta"]["provisioned"], true);
    assert_eq!(got["meta"]["canSave"], true);
    // A file added later is found within updateIntervalSeconds (10 s for
    // the flag), without a reload.
    write(&dir.join("b.json"), r#"{"title": "B", "uid": "b"}"#);
    let found = common::eventually(std::time::Duration::from_secs(25), || {
        (get(&format!("{}/api/dashboards/uid/b", srv.url())).0 == 200).then_some(())
    });
    assert!(found.is_some(), "b.json not picked up; log:\n{}", srv.log());
    assert_eq!(got["meta"]["folderTitle"], "ops");
    // Editable from the UI: the save is kept in the data dir.
    let (s, saved) = post(
        &format!("{}/api/dashboards/db", srv.url()),
        &json!({"dashboard": {"title": "A edited", "uid": "a", "version": 1}, "folderUid": "ops"}),
    );
    assert_eq!(s, 200, "{saved}");
    assert_eq!(
        get(&format!("{}/api/dashboards/uid/a", srv.url())).1["dashboard"]["title"],
        "A edited"
    );
}

#[test]
fn issue_14_route_prefix() {
    let tmp = TempDir::new("dash-api");
    let srv = Server::start_prefixed(
        None,
        &tmp.path().join("data"),
        &[
            "--web.external-url",
            "http://x/sl/",
            "--web.route-prefix",
            "/sl",
        ],
        "/sl",
    );
    let u = srv.url();
    let c = client();
    let index = c.get(format!("{u}/sl/")).send().unwrap();
    assert_eq!(index.status().as_u16(), 200);
    let html = index.text().unwrap();
    assert!(html.contains("<html"), "{html}");
    // The page's assets, by the relative names it gives.
    let asset = html
        .split('"')
        .find(|s| s.starts_with("./assets/") || s.starts_with("assets/"))
        .expect("an asset link in index.html")
        .trim_start_matches("./");
    assert_eq!(
        c.get(format!("{u}/sl/{asset}"))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    for path in [
        "/sl/status",
        "/sl/-/healthy",
        "/sl/metrics",
        "/sl/api/v1/query?query=1",
    ] {
        let r = c.get(format!("{u}{path}")).send().unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
    }
    let (_, q) = get(&format!("{u}/sl/api/v1/query?query=1%2B1"));
    assert_eq!(q["data"]["result"][1], "2");
    // Outside the prefix: `/` redirects, the rest is not there.
    let r = c.get(format!("{u}/")).send().unwrap();
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(r.headers()["location"], "/sl/");
    assert_eq!(
        c.get(format!("{u}/api/v1/query?query=1"))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    // Dashboard URLs carry the prefix.
    let (s, saved) = post(
        &format!("{u}/sl/api/dashboards/db"),
        &json!({"dashboard": {"title": "P", "uid": "p"}}),
    );
    assert_eq!(s, 200);
    assert_eq!(saved["url"], "/sl/d/p/p");
    let r = c.get(format!("{u}/sl/d/p/p")).send().unwrap();
    assert_eq!(r.headers()["location"], "/sl/#/dashboards/p");
}
