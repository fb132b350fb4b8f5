//! Helpers of the event tests (`tests/events_*.rs`, `fault_events.rs`):
//! a sightline.yml with an `events:` section, and the stored events read
//! back from a stopped server's data directory through the store's own
//! NDJSON export (docs/format/eventstore.md).
#![allow(dead_code)]

use sightline_eventstore::model::ScanRequest;
use sightline_eventstore::{EventStore, EventStoreOptions, ExportFormat};
use std::path::{Path, PathBuf};

/// Writes `dir/sightline.yml` holding `events_yaml` (the section's body,
/// indented by the caller) and returns the `serve` flags for it.
pub fn config(dir: &Path, events_yaml: &str) -> Vec<String> {
    let path: PathBuf = dir.join("sightline.yml");
    std::fs::write(&path, format!("events:\n{events_yaml}")).unwrap();
    vec![
        "--config".into(),
        path.display().to_string(),
        "--otlp.grpc.listen".into(),
        "0".into(),
    ]
}

/// Every stored event, as exported NDJSON lines parsed, of the (stopped)
/// server whose data directory is `data_dir`.
pub fn stored(data_dir: &Path) -> Vec<serde_json::Value> {
    let store = EventStore::open_without_maintenance(
        &data_dir.join("events"),
        EventStoreOptions::default(),
    )
    .expect("open the event store");
    let mut out = Vec::new();
    let req = ScanRequest {
        start_ms: i64::MIN,
        end_ms: i64::MAX,
        ..Default::default()
    };
    store
        .export(&req, ExportFormat::Ndjson, &mut out)
        .expect("export");
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("an NDJSON line"))
        .collect()
}

/// Runs `python3 -c script` with `args`, failing the test with its stderr.
pub fn python(script: &str, args: &[&str]) {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python client failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether the Python module `m` imports; a missing one is a recorded
/// skip (a failure under `CI=true`: sightline_testkit's rule).
#[track_caller]
pub fn have_python_module(m: &str, pip: &str) -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", &format!("import {m}")])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        sightline_testkit::skip(&format!(
            "python module {m} is missing (python3 -m pip install {pip}; .ci/run installs it)"
        ));
    }
    ok
}
