use super::*;

const CONFIG: &str = "\
global:
  scrape_interval: 15s
probes:   # uptime checks
  modules:
    http_2xx: { prober: http }
  monitors:
    - name: web
      module: http_2xx
      targets: [http://127.0.0.1:1/]
    - name: db
      module: nope
      targets: [\"127.0.0.1:5432\"]
scrape_configs: []
";

/// The `probes:` section of `text` as the config root reads it.
fn section(text: &str, base: &Path) -> Option<ProbesSection> {
    crate::config::legacy_probes(text, "s.yml", base).unwrap()
}

#[test]
fn located_errors_name_line_and_column() {
    let err = load_setup(section(CONFIG, Path::new(".")).as_ref(), None)
        .unwrap_err()
        .to_string();
    // The second monitor's `module:` key: line 11, column 7.
    assert_eq!(
        err,
        "s.yml:11:7: probes.monitors[1].module: unknown module \"nope\""
    );
    // Unindented sequences are items of their key too.
    let flat = "probes:\n  monitors:\n  - name: a\n    module: {prober: tcp}\n    targets: [a]\n  \
                - name: b\n    module: {prober: tcp}\n    targets: [b]\n    interval: x\n";
    let err = load_setup(section(flat, Path::new(".")).as_ref(), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("s.yml:9:5: probes.monitors[1].interval: "),
        "{err}"
    );
    // Errors found while parsing come located from the YAML reader; the
    // field path is given from the top of the file.
    let bad = "global: {}\nprobes:\n  monitors:\n    - name: a\n      modul: x\n";
    let err = crate::config::legacy_probes(bad, "s.yml", Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("s.yml:5:7: probes.monitors"), "{err}");
    assert!(err.contains("unknown field"), "{err}");
}

#[test]
fn modules_from_flag_file_serve_probe_and_monitors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blackbox.yml");
    std::fs::write(&file, "modules:\n  tcp_connect:\n    prober: tcp\n").unwrap();
    let cfg = "probes:\n  modules:\n    h: { prober: http }\n  monitors:\n    - name: m\n      module: tcp_connect\n      targets: [\"127.0.0.1:1\"]\n";
    let sec = section(cfg, Path::new("/nonexistent"));
    let setup = load_setup(sec.as_ref(), Some(&file)).unwrap();
    assert_eq!(setup.monitors.len(), 1);
    assert_eq!(setup.monitors[0].module.prober, "tcp");
    let names: Vec<&str> = setup.endpoint_modules.keys().map(String::as_str).collect();
    assert_eq!(names, ["h", "tcp_connect"]);
    // No section: the flag's modules still answer /probe.
    let setup = load_setup(None, Some(&file)).unwrap();
    assert!(setup.monitors.is_empty());
    assert_eq!(setup.endpoint_modules.len(), 1);
}
