use super::*;
use crate::MetricFamily;
use sightline_core::FamilySample as Sample;

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
    let dir = sightline_testkit::TempDir::new("probes");
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
