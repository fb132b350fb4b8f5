use super::*;
use sightline_testkit::TempDir;

fn provider(path: &str) -> Provider {
    let mut p = Provider::from_dir(Path::new(path));
    p.name = "p".into();
    p.allow_ui_updates = false;
    p.options.folders_from_files_structure = false;
    p
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn a_folder_of_files_loads_and_a_bad_file_is_reported() {
    let tmp = TempDir::new("dash-prov");
    write(tmp.path(), "dash/a.json", r#"{"title": "A", "uid": "a"}"#);
    write(tmp.path(), "dash/sub/b.json", r#"{"title": "B"}"#);
    write(tmp.path(), "dash/bad.json", r#"{"title": "#);
    write(tmp.path(), "dash/notes.txt", "not a dashboard");
    let mut p = provider("dash");
    p.folder = "Team Dashboards".into();
    let cfg = DashboardsConfig {
        api_version: Some(1),
        providers: vec![p],
    };
    let set = load(&cfg, tmp.path()).unwrap();
    assert_eq!(set.dashboards.len(), 2);
    assert_eq!(set.errors.len(), 1);
    assert!(set.errors[0].contains("bad.json"), "{:?}", set.errors);
    assert_eq!(set.folders.len(), 1);
    assert_eq!(set.folders[0].uid, "team-dashboards");
    assert_eq!(set.folders[0].title, "Team Dashboards");
    let b = set.dashboards.iter().find(|e| e.title() == "B").unwrap();
    assert_eq!(b.folder_uid, "team-dashboards");
    // No uid in the file: one made from the provider and path, the same
    // at every load.
    let again = load(&cfg, tmp.path()).unwrap();
    let b2 = again.dashboards.iter().find(|e| e.title() == "B").unwrap();
    assert_eq!(b.uid(), b2.uid());
    assert!(b.provisioned.is_some());
}

#[test]
fn folders_from_files_structure() {
    let tmp = TempDir::new("dash-prov");
    write(tmp.path(), "d/top.json", r#"{"title": "Top"}"#);
    write(tmp.path(), "d/Web Team/w.json", r#"{"title": "W"}"#);
    let mut p = provider(&tmp.path().join("d").display().to_string());
    p.options.folders_from_files_structure = true;
    let set = load(
        &DashboardsConfig {
            api_version: None,
            providers: vec![p],
        },
        Path::new("/elsewhere"),
    )
    .unwrap();
    let top = set.dashboards.iter().find(|e| e.title() == "Top").unwrap();
    assert_eq!(top.folder_uid, "");
    let w = set.dashboards.iter().find(|e| e.title() == "W").unwrap();
    assert_eq!(w.folder_uid, "web-team");
    assert_eq!(set.folders[0].title, "Web Team");
}

#[test]
fn inputs_of_shared_exports_resolve_to_our_data_source() {
    let tmp = TempDir::new("dash-prov");
    write(
        tmp.path(),
        "d/e.json",
        r#"{"title": "E", "__inputs": [{"name": "DS_PROMETHEUS", "type": "datasource", "pluginId": "prometheus"}],
            "panels": [{"id": 1, "type": "timeseries", "gridPos": {"x":0,"y":0,"w":1,"h":1},
                        "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}}]}"#,
    );
    let set = load(
        &DashboardsConfig {
            api_version: None,
            providers: vec![provider("d")],
        },
        tmp.path(),
    )
    .unwrap();
    assert_eq!(
        set.dashboards[0].read().unwrap()["panels"][0]["datasource"]["uid"],
        "sightline"
    );
}

#[test]
fn section_errors_name_the_field() {
    let tmp = TempDir::new("dash-prov");
    let mut p = provider("missing");
    let cfg = |p: Provider| DashboardsConfig {
        api_version: None,
        providers: vec![p],
    };
    let e = load(&cfg(p.clone()), tmp.path()).unwrap_err().to_string();
    assert!(
        e.starts_with("dashboards.providers[0].options.path: cannot read the folder"),
        "{e}"
    );
    p.kind = "git".into();
    let e = load(&cfg(p.clone()), tmp.path()).unwrap_err().to_string();
    assert!(e.starts_with("dashboards.providers[0].type: "), "{e}");
    p.kind = "file".into();
    p.options.folders_from_files_structure = true;
    p.folder = "x".into();
    let e = cfg(p).check().unwrap_err().to_string();
    assert!(e.contains("foldersFromFilesStructure"), "{e}");
}

#[test]
fn grafana_provisioning_yaml_reads_as_it_is() {
    let text = "apiVersion: 1\nproviders:\n  - name: default\n    orgId: 1\n    folder: ''\n    \
                type: file\n    disableDeletion: false\n    allowUiUpdates: true\n    \
                updateIntervalSeconds: 10\n    options:\n      path: /var/lib/grafana/dashboards\n      \
                foldersFromFilesStructure: true\n";
    let c: DashboardsConfig = sightline_config::yaml::from_str(text, "f.yml").unwrap();
    assert_eq!(c.providers[0].name, "default");
    assert!(c.providers[0].allow_ui_updates);
    assert!(c.providers[0].options.folders_from_files_structure);
    let e = sightline_config::yaml::from_str::<DashboardsConfig>(
        "providers:\n  - name: a\n    optons: {}\n",
        "f.yml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("f.yml:3:"), "{e}");
}

#[test]
fn the_fingerprint_follows_the_files() {
    let tmp = TempDir::new("dash-prov");
    write(tmp.path(), "d/a.json", r#"{"title": "A"}"#);
    let cfg = DashboardsConfig {
        api_version: None,
        providers: vec![provider("d")],
    };
    let a = fingerprint(&cfg, tmp.path());
    assert_eq!(a, fingerprint(&cfg, tmp.path()));
    write(tmp.path(), "d/b.json", r#"{"title": "B"}"#);
    let b = fingerprint(&cfg, tmp.path());
    assert_ne!(a, b);
    write(tmp.path(), "d/b.json", r#"{"title": "B, longer"}"#);
    assert_ne!(b, fingerprint(&cfg, tmp.path()));
    assert_eq!(interval(&cfg), Some(std::time::Duration::from_secs(10)));
}
