use super::*;
use sightline_core::FamilySample as Sample;
use sightline_probe::MetricFamily;

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

fn monitor(labels: &[(&str, &str)]) -> Monitor {
    Monitor {
        name: "web".into(),
        module_name: "http_2xx".into(),
        module: Arc::new(Module::default()),
        targets: vec!["http://a/".into()],
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(5),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn result() -> ProbeResult {
    let family = |name, samples| MetricFamily {
        name,
        help: "h",
        kind: "gauge",
        samples,
    };
    let sample = |labels: &[(&str, &str)], value| Sample {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        value,
    };
    ProbeResult {
        prober: "http".into(),
        target: "http://a/".into(),
        success: true,
        duration_seconds: 0.1,
        failure: None,
        families: vec![
            family("probe_success", vec![sample(&[], 1.0)]),
            family(
                "probe_http_duration_seconds",
                vec![sample(&[("phase", "connect")], 0.01)],
            ),
        ],
        logs: Vec::new(),
        cert_expiry: None,
    }
}

fn stored(store: &sightline_core::MemStore) -> Vec<(String, i64, f64)> {
    use sightline_core::MetricQuerier;
    let mut out = Vec::new();
    for s in store
        .select(
            &sightline_core::QueryContext::new(),
            i64::MIN,
            i64::MAX,
            &[],
        )
        .unwrap()
        .into_vec()
        .unwrap()
    {
        let labels: Vec<String> = s
            .labels
            .iter()
            .map(|l| format!("{}={}", l.name, l.value))
            .collect();
        for x in s.samples {
            out.push((labels.join(","), x.t, x.v));
        }
    }
    out
}

#[test]
fn results_stored_as_a_scrape_of_blackbox_would_be() {
    let store = sightline_core::MemStore::new();
    store_result(
        &store,
        &monitor(&[("team", "ops")]),
        &result(),
        1000,
        &mut None,
    );
    assert_eq!(
        stored(&store),
        [
            (
                "__name__=probe_http_duration_seconds,instance=http://a/,job=web,phase=connect,team=ops".to_string(),
                1000,
                0.01
            ),
            (
                "__name__=probe_success,instance=http://a/,job=web,team=ops".to_string(),
                1000,
                1.0
            ),
        ]
    );
    // Target labels win over a sample's own; the sample's value is kept
    // as exported_<name>, and a monitor label may replace job.
    let store = sightline_core::MemStore::new();
    store_result(
        &store,
        &monitor(&[("phase", "x"), ("job", "site")]),
        &result(),
        1000,
        &mut None,
    );
    let first = &stored(&store)[0].0;
    assert_eq!(
        first,
        "__name__=probe_http_duration_seconds,exported_phase=connect,instance=http://a/,job=site,phase=x"
    );
}

#[test]
fn series_a_result_no_longer_writes_go_stale() {
    let store = sightline_core::MemStore::new();
    let m = monitor(&[]);
    let mut last = None;
    store_result(&store, &m, &result(), 1000, &mut last);
    // A failed probe without the phase series: that series ends.
    let mut failed = result();
    failed.families.truncate(1);
    failed.families[0].samples[0].value = 0.0;
    store_result(&store, &m, &failed, 2000, &mut last);
    let got = stored(&store);
    let phase = "__name__=probe_http_duration_seconds,instance=http://a/,job=web,phase=connect";
    let samples: Vec<(i64, f64)> = got
        .iter()
        .filter(|(l, _, _)| l == phase)
        .map(|(_, t, v)| (*t, *v))
        .collect();
    assert_eq!(samples.len(), 2, "{got:?}");
    assert_eq!(samples[0], (1000, 0.01));
    assert_eq!(samples[1].0, 2000);
    assert!(sightline_core::is_stale_nan(samples[1].1));
    // probe_success carries on with its new value, not a marker.
    let success: Vec<f64> = got
        .iter()
        .filter(|(l, _, _)| l.starts_with("__name__=probe_success"))
        .map(|(_, _, v)| *v)
        .collect();
    assert_eq!(success, [1.0, 0.0]);
}

#[test]
fn series_of_a_removed_monitor_go_stale_on_reload() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(sightline_core::MemStore::new());
    let probes = rt
        .block_on(async { Probes::open(ProbeSetup::default(), store.clone(), dir.path()) })
        .unwrap();
    // As if monitor "web" had stored a result for http://a/ before.
    let mut last = None;
    store_result(store.as_ref(), &monitor(&[]), &result(), 1000, &mut last);
    probes
        .last_series
        .lock()
        .unwrap()
        .insert(("web".into(), "http://a/".into()), last.unwrap());
    // The reload drops it: both of its series end.
    probes.apply(ProbeSetup::default());
    let got = stored(&store);
    assert_eq!(got.len(), 4, "{got:?}");
    for (labels, _, v) in got.iter().filter(|(_, t, _)| *t > 1000) {
        assert!(sightline_core::is_stale_nan(*v), "{labels}");
    }
    assert!(probes.last_series.lock().unwrap().is_empty());
}
