//! Issue 13: every subsystem registers its own `/metrics` report when it
//! starts. The families below are the ones docs/operations.md lists; each
//! must appear once, with its kind, when the subsystem runs.

mod common;

use common::{get_text, Server};

#[test]
fn every_subsystem_reports_its_metrics_once() {
    let dir = tempfile::tempdir().unwrap();
    common::write_files(
        dir.path(),
        &[
            (
                "prometheus.yml",
                "global:\n  scrape_interval: 1s\nrule_files: [rules.yml]\nscrape_configs: []\n",
            ),
            (
                "rules.yml",
                "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: vector(1)\n",
            ),
            (
                "alertmanager.yml",
                "route:\n  receiver: hook\nreceivers:\n  - name: hook\n",
            ),
        ],
    );
    let server = Server::start(
        &dir.path().join("data"),
        &[
            "--config",
            dir.path().join("prometheus.yml").to_str().unwrap(),
            "--alertmanager.config",
            dir.path().join("alertmanager.yml").to_str().unwrap(),
        ],
    );
    let text = get_text(&format!("{}/metrics", server.url()));
    let expected: &[(&str, &str)] = &[
        ("process_resident_memory_bytes", "gauge"),
        ("process_cpu_seconds", "counter"),
        ("process_start_time_seconds", "gauge"),
        ("sightline_tsdb_head_series", "gauge"),
        ("sightline_tsdb_head_samples_appended", "counter"),
        ("sightline_tsdb_wal_fsyncs", "counter"),
        ("sightline_tsdb_exemplar_max_exemplars", "gauge"),
        ("sightline_scrape_pools", "gauge"),
        ("sightline_scrapes", "counter"),
        ("sightline_remote_write_requests", "counter"),
        ("sightline_otlp_requests", "counter"),
        ("sightline_config_last_reload_successful", "gauge"),
        ("sightline_rule_group_rules", "gauge"),
        ("sightline_rule_evaluations", "counter"),
        ("sightline_notifications_queue_capacity", "gauge"),
        ("sightline_alertmanager_alerts", "gauge"),
        ("sightline_alertmanager_notifications", "counter"),
        ("sightline_probe_runs", "counter"),
    ];
    for (name, kind) in expected {
        let line = format!("# TYPE {name} {kind}\n");
        assert_eq!(text.matches(&line).count(), 1, "{line:?} once in:\n{text}");
    }
    // Labeled families carry their labels; Prometheus's queue capacity.
    assert!(
        text.contains("sightline_rule_group_rules{rule_group=\""),
        "{text}"
    );
    assert!(
        text.contains("sightline_alertmanager_alerts{state=\"active\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("sightline_notifications_queue_capacity 10000"),
        "{text}"
    );
    // No family is written twice.
    let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE ")).collect();
    let mut unique = types.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), types.len(), "{text}");
    server.stop();
}
