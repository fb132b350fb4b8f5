use super::*;
use crate::config::{load_str, Duration, FileSdConfig};
use std::path::PathBuf;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "sightline-sd-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self, f: &str) -> String {
        self.0.join(f).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn addrs(groups: &[TargetGroup]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| g.targets.iter())
        .map(|t| t.get(ADDRESS_LABEL).unwrap().to_owned())
        .collect()
}

#[test]
fn file_sd_patterns_follow_prometheus() {
    for ok in ["a.json", "dir/*.yml", "/x/y/tg_*.yaml", "A.JSON", "*.json"] {
        assert!(is_valid_file_sd_pattern(ok), "{ok}");
    }
    for bad in ["a.txt", "a", "*/x.json", "a**.json", "dir*/x.yml"] {
        assert!(!is_valid_file_sd_pattern(bad), "{bad}");
    }
}

#[test]
fn json_and_yaml_target_files_parse() {
    let json = r#"[{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}}, {"targets": ["c:3"]}]"#;
    let g = parse_target_file("/sd/x.json", json).unwrap();
    assert_eq!(g.len(), 2);
    assert_eq!(g[0].source, "/sd/x.json:0");
    assert_eq!(g[1].source, "/sd/x.json:1");
    assert_eq!(addrs(&g), ["a:1", "b:2", "c:3"]);
    assert_eq!(g[0].labels.get("env"), Some("prod"));
    assert_eq!(g[0].labels.get(FILEPATH_LABEL), Some("/sd/x.json"));
    assert_eq!(g[1].labels.get(FILEPATH_LABEL), Some("/sd/x.json"));

    let yaml = "- targets: ['a:1']\n  labels:\n    team: db\n";
    let g = parse_target_file("/sd/y.yml", yaml).unwrap();
    assert_eq!(addrs(&g), ["a:1"]);
    assert_eq!(g[0].labels.get("team"), Some("db"));
    assert!(parse_target_file("/sd/e.yaml", "").unwrap().is_empty());
}

#[test]
fn bad_target_files_are_refused_with_a_reason() {
    assert!(parse_target_file("x.json", "{not json").is_err());
    let e =
        parse_target_file("x.json", r#"[{"targets": [], "labels": {"a-b": "1"}}]"#).unwrap_err();
    assert!(e.contains("\"a-b\" is not a valid label name"), "{e}");
    let e = parse_target_file("x.yml", "- targets: [a:1]\n  lables: {}\n").unwrap_err();
    assert!(e.contains("x.yml:2:") && e.contains("lables"), "{e}");
}

#[test]
fn static_groups_carry_labels() {
    let c = load_str(
        "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['x:1', 'y:2']\n        labels: {env: prod}\n      - targets: ['z:3']\n",
        "p.yml",
    )
    .unwrap();
    let g = static_groups(&c.scrape_configs[0]);
    assert_eq!(g.len(), 2);
    assert_eq!(g[0].source, "static/0");
    assert_eq!(addrs(&g), ["x:1", "y:2", "z:3"]);
    assert_eq!(g[0].labels.get("env"), Some("prod"));
}

#[test]
fn file_discovery_follows_changes_and_keeps_last_good() {
    let dir = TempDir::new("follow");
    std::fs::write(dir.path("a.json"), r#"[{"targets": ["a:1"]}]"#).unwrap();
    let mut fd = FileDiscovery::new(&FileSdConfig {
        files: vec![dir.path("*.json")],
        refresh_interval: Duration::from_secs(300),
    });
    assert!(fd.due());
    fd.refresh();
    assert!(!fd.due());
    assert_eq!(addrs(&fd.groups()), ["a:1"]);
    assert!(!fd.changed());

    // A new file matching the glob.
    std::fs::write(dir.path("b.json"), r#"[{"targets": ["b:1"]}]"#).unwrap();
    assert!(fd.changed());
    fd.refresh();
    assert_eq!(addrs(&fd.groups()), ["a:1", "b:1"]);

    // A broken edit keeps the last good targets and reports the error.
    std::fs::write(dir.path("a.json"), "[{broken").unwrap();
    assert!(fd.changed());
    fd.refresh();
    assert_eq!(addrs(&fd.groups()), ["a:1", "b:1"]);
    let errs = fd.errors();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].contains("a.json"), "{errs:?}");

    // Fixed again; then a file removed takes its targets with it.
    std::fs::write(dir.path("a.json"), r#"[{"targets": ["a:2", "a:3"]}]"#).unwrap();
    fd.refresh();
    assert!(fd.errors().is_empty());
    assert_eq!(addrs(&fd.groups()), ["a:2", "a:3", "b:1"]);
    std::fs::remove_file(dir.path("b.json")).unwrap();
    assert!(fd.changed());
    fd.refresh();
    assert_eq!(addrs(&fd.groups()), ["a:2", "a:3"]);
}

#[tokio::test]
async fn job_discovery_publishes_updates() {
    let dir = TempDir::new("publish");
    std::fs::write(dir.path("t.yml"), "- targets: ['a:1']\n").unwrap();
    let c = load_str(
        &format!(
            "scrape_configs:\n  - job_name: a\n    static_configs: [{{targets: ['s:1']}}]\n    file_sd_configs:\n      - files: ['{}']\n",
            dir.path("*.yml")
        ),
        "p.yml",
    )
    .unwrap();
    let cancel = CancellationToken::new();
    let errors = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let e2 = errors.clone();
    let mut rx = run_job_discovery(
        &c.scrape_configs[0],
        std::time::Duration::from_millis(20),
        cancel.clone(),
        Arc::new(move |e: &str| e2.lock().unwrap().push(e.to_owned())),
    );
    assert_eq!(addrs(&rx.borrow_and_update().groups), ["s:1", "a:1"]);
    std::fs::write(
        dir.path("t.yml"),
        "- targets: ['a:1', 'a:2']\n  labels: {x: y}\n",
    )
    .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), rx.changed())
        .await
        .expect("update within 5s")
        .unwrap();
    assert_eq!(addrs(&rx.borrow_and_update().groups), ["s:1", "a:1", "a:2"]);
    std::fs::write(dir.path("t.yml"), "- targets: [\n").unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), rx.changed())
        .await
        .expect("error published within 5s")
        .unwrap();
    let st = rx.borrow_and_update().clone();
    assert_eq!(addrs(&st.groups), ["s:1", "a:1", "a:2"]);
    assert_eq!(st.errors.len(), 1);
    assert!(!errors.lock().unwrap().is_empty());
    cancel.cancel();
}
