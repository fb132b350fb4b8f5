use super::*;
use serde_json::json;
use sightline_testkit::TempDir;

fn dash(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

#[test]
fn save_assigns_uid_and_versions_and_reopens() {
    let tmp = TempDir::new("dash-store");
    let s = DashboardStore::open(tmp.path()).unwrap();
    let a = s.save(dash(json!({"title": "Web"})), "", false).unwrap();
    assert!((9..=14).contains(&a.uid.len()), "{}", a.uid);
    assert_eq!(a.version, 1);
    assert_eq!(a.slug, "web");
    let file = tmp
        .path()
        .join("dashboards/general")
        .join(format!("{}.json", a.uid));
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(on_disk["title"], "Web");
    assert_eq!(on_disk["version"], 1);
    assert_eq!(on_disk["uid"], a.uid.as_str());
    // The stored version is the base of the next save.
    let b = s
        .save(
            dash(json!({"title": "Web 2", "uid": a.uid, "version": 1})),
            "",
            false,
        )
        .unwrap();
    assert_eq!((b.uid.as_str(), b.version), (a.uid.as_str(), 2));
    drop(s);
    let s = DashboardStore::open(tmp.path()).unwrap();
    let v = s.get(&a.uid).unwrap();
    assert_eq!(v.entry.title(), "Web 2");
    assert_eq!(v.entry.version(), 2);
}

#[test]
fn stale_versions_and_duplicate_titles_are_refused() {
    let tmp = TempDir::new("dash-store");
    let s = DashboardStore::open(tmp.path()).unwrap();
    s.save(dash(json!({"title": "A", "uid": "a"})), "", false)
        .unwrap();
    s.save(
        dash(json!({"title": "A", "uid": "a", "version": 1})),
        "",
        false,
    )
    .unwrap();
    let e = s
        .save(
            dash(json!({"title": "A", "uid": "a", "version": 1})),
            "",
            false,
        )
        .unwrap_err();
    assert!(matches!(e, Error::VersionMismatch), "{e}");
    assert_eq!(e.status(), 412);
    let e = s
        .save(dash(json!({"title": "a", "uid": "b"})), "", false)
        .unwrap_err();
    assert!(matches!(e, Error::NameExists), "{e}");
    // overwrite: the stale version wins, and the same-titled one goes.
    let o = s
        .save(
            dash(json!({"title": "A", "uid": "a", "version": 1})),
            "",
            true,
        )
        .unwrap();
    assert_eq!(o.version, 3);
    s.save(dash(json!({"title": "A", "uid": "b"})), "", true)
        .unwrap();
    assert!(s.get("a").is_err());
    assert_eq!(s.list().len(), 1);
}

#[test]
fn folders_are_directories() {
    let tmp = TempDir::new("dash-store");
    let s = DashboardStore::open(tmp.path()).unwrap();
    let e = s
        .save(dash(json!({"title": "x"})), "nope", false)
        .unwrap_err();
    assert_eq!(e.status(), 400);
    let (_, f) = s.create_folder(Some("team-a"), "Team A").unwrap();
    assert_eq!(f.uid, "team-a");
    assert_eq!(
        s.create_folder(Some("team-a"), "Other")
            .unwrap_err()
            .status(),
        409
    );
    assert_eq!(s.create_folder(None, "team a").unwrap_err().status(), 409);
    assert_eq!(
        s.create_folder(Some("general"), "G").unwrap_err().status(),
        400
    );
    // The same title may live in two folders.
    s.save(dash(json!({"title": "x", "uid": "x1"})), "", false)
        .unwrap();
    s.save(dash(json!({"title": "x", "uid": "x2"})), "team-a", false)
        .unwrap();
    assert!(tmp.path().join("dashboards/team-a/x2.json").is_file());
    // Moving a dashboard moves its file.
    s.save(
        dash(json!({"title": "y", "uid": "x2", "version": 1})),
        "",
        false,
    )
    .unwrap();
    assert!(!tmp.path().join("dashboards/team-a/x2.json").exists());
    assert!(tmp.path().join("dashboards/general/x2.json").is_file());
    drop(s);
    let s = DashboardStore::open(tmp.path()).unwrap();
    let folders = s.folders();
    assert_eq!(folders.len(), 1);
    assert_eq!(folders[0].1.title, "Team A");
}

#[test]
fn delete_removes_the_file() {
    let tmp = TempDir::new("dash-store");
    let s = DashboardStore::open(tmp.path()).unwrap();
    s.save(dash(json!({"title": "d", "uid": "d"})), "", false)
        .unwrap();
    assert_eq!(s.delete("d").unwrap().1.title(), "d");
    assert!(matches!(s.delete("d"), Err(Error::DashboardNotFound)));
    assert!(!tmp.path().join("dashboards/general/d.json").exists());
}

#[test]
fn corrupt_files_are_set_aside_and_kept() {
    let tmp = TempDir::new("dash-store");
    let dir = tmp.path().join("dashboards/general");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.json"), "{\"title\": ").unwrap();
    std::fs::write(dir.join("notitle.json"), "{}").unwrap();
    std::fs::write(dir.join("good.json"), r#"{"title": "Good", "version": 4}"#).unwrap();
    std::fs::write(dir.join("half.json.tmp"), "{\"ti").unwrap();
    let s = DashboardStore::open(tmp.path()).unwrap();
    let all = s.list();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].uid, "good");
    assert_eq!(s.get("good").unwrap().entry.version(), 4);
    // Issue 18: set aside under the one scheme of every store.
    assert!(
        dir.join("bad.json.corrupted").is_file() && !dir.join("bad.json").exists(),
        "a corrupt file is set aside, never removed"
    );
    assert!(dir.join("notitle.json.corrupted").is_file());
    assert_eq!(DashboardStore::open(tmp.path()).unwrap().list().len(), 1);
    assert!(
        !dir.join("half.json.tmp").exists(),
        "an unfinished write is"
    );
}

#[test]
fn bad_uids_are_refused() {
    let tmp = TempDir::new("dash-store");
    let s = DashboardStore::open(tmp.path()).unwrap();
    let e = s
        .save(dash(json!({"title": "x", "uid": "../../etc"})), "", false)
        .unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("dashboard.uid"), "{e}");
}

fn provisioned(dir: &Path, uid: &str, title: &str, allow: bool, age_secs: u64) -> Entry {
    let file = dir.join(format!("{uid}.json"));
    std::fs::write(&file, json!({"title": title, "version": 1}).to_string()).unwrap();
    let t = SystemTime::now() - std::time::Duration::from_secs(age_secs);
    let mut e = Entry::from_model(
        &dash(json!({"title": title, "uid": uid, "version": 1})),
        file.clone(),
        true,
    );
    e.created = t;
    e.updated = t;
    e.provisioned = Some(Provenance {
        provider: "p".into(),
        file,
        allow_ui_updates: allow,
    });
    e
}

#[test]
fn provisioned_dashboards_follow_their_provider() {
    let tmp = TempDir::new("dash-store");
    let s = DashboardStore::open(tmp.path()).unwrap();
    s.set_provisioned(ProvisionedSet {
        dashboards: vec![
            provisioned(tmp.path(), "ro", "RO", false, 60),
            provisioned(tmp.path(), "rw", "RW", true, 60),
        ],
        folders: vec![],
        errors: vec![],
    });
    assert_eq!(s.list().len(), 2);
    let e = s
        .save(
            dash(json!({"title": "RO", "uid": "ro", "version": 1})),
            "",
            false,
        )
        .unwrap_err();
    assert!(matches!(e, Error::Provisioned), "{e}");
    assert_eq!(e.status(), 400);
    assert!(matches!(s.delete("ro"), Err(Error::ProvisionedDelete)));
    let saved = s
        .save(
            dash(json!({"title": "RW edited", "uid": "rw", "version": 1})),
            "",
            false,
        )
        .unwrap();
    assert_eq!(saved.version, 2);
    let v = s.get("rw").unwrap();
    assert_eq!(v.entry.title(), "RW edited");
    assert!(v.entry.provisioned.is_some());
    // The provider's file changes later: it wins again.
    s.set_provisioned(ProvisionedSet {
        dashboards: vec![provisioned(tmp.path(), "rw", "RW v2", true, 0)],
        ..Default::default()
    });
    assert_eq!(s.get("rw").unwrap().entry.title(), "RW v2");
    assert!(s.get("ro").is_err(), "gone with its provider");
}

#[test]
fn deleting_a_folder_deletes_its_dashboards() {
    let tmp = TempDir::new("dash-store");
    let s = DashboardStore::open(tmp.path()).unwrap();
    s.create_folder(Some("f"), "F").unwrap();
    s.save(dash(json!({"title": "in", "uid": "in"})), "f", false)
        .unwrap();
    s.save(dash(json!({"title": "out", "uid": "out"})), "", false)
        .unwrap();
    let (_, f, n) = s.delete_folder("f").unwrap();
    assert_eq!((f.title.as_str(), n), ("F", 1));
    assert!(s.get("in").is_err());
    assert!(s.get("out").is_ok());
    assert!(!tmp.path().join("dashboards/f").exists());
    assert_eq!(s.delete_folder("f").unwrap_err().status(), 404);
    drop(s);
    let s = DashboardStore::open(tmp.path()).unwrap();
    assert!(s.folders().is_empty());
    assert_eq!(s.list().len(), 1);
}

#[test]
fn folders_rename_and_tags_count() {
    let tmp = TempDir::new("dash-store");
    let s = DashboardStore::open(tmp.path()).unwrap();
    s.create_folder(Some("f"), "F").unwrap();
    s.create_folder(Some("g"), "G").unwrap();
    assert_eq!(s.rename_folder("f", "g").unwrap_err().status(), 409);
    assert_eq!(s.rename_folder("nope", "x").unwrap_err().status(), 404);
    s.rename_folder("f", "Renamed").unwrap();
    s.save(dash(json!({"title": "a", "tags": ["x", "y"]})), "", false)
        .unwrap();
    s.save(dash(json!({"title": "b", "tags": ["x"]})), "", false)
        .unwrap();
    assert_eq!(s.tags(), vec![("x".to_owned(), 2), ("y".to_owned(), 1)]);
    drop(s);
    let s = DashboardStore::open(tmp.path()).unwrap();
    assert_eq!(s.folder("f").unwrap().1.title, "Renamed");
}
