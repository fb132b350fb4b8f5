//! Issue 4: rule alerts reach external Alertmanagers (`alerting.alertmanagers`)
//! through API v2. The same rule runs in Debian's Prometheus and in Sightline,
//! each sending to its own Debian Alertmanager; the alerts both
//! Alertmanagers hold must agree (labels, annotations, state), and when the
//! condition clears both resolve.

mod common;

use common::{eventually, free_port, http, peer, Server};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A scrape target whose body the test can change.
fn serve_target(body: Arc<Mutex<String>>) -> u16 {
    common::serve_metrics(move || body.lock().unwrap().clone())
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_alertmanager(bin: &Path, dir: &Path) -> (Proc, u16) {
    let port = free_port();
    std::fs::create_dir_all(dir).unwrap();
    let cfg = dir.join("alertmanager.yml");
    std::fs::write(
        &cfg,
        "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n",
    )
    .unwrap();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        // No gossip: a lone instance, and no clash on port 9094.
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start alertmanager");
    let url = format!("http://127.0.0.1:{port}/-/ready");
    eventually(Duration::from_secs(30), || {
        http()
            .get(&url)
            .send()
            .ok()
            .filter(|r| r.status().is_success())
    })
    .expect("alertmanager ready");
    (Proc(child), port)
}

/// The alerts an Alertmanager holds, as (labels, annotations, state) sorted.
fn am_alerts(port: u16) -> Vec<serde_json::Value> {
    let text = http()
        .get(format!("http://127.0.0.1:{port}/api/v2/alerts"))
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let mut out: Vec<serde_json::Value> = v
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|a| {
            serde_json::json!({
                "labels": a["labels"],
                "annotations": a["annotations"],
                "state": a["status"]["state"],
            })
        })
        .collect();
    out.sort_by_key(|a| a.to_string());
    out
}

#[test]
fn rule_alerts_reach_alertmanager_as_prometheus_sends_them() {
    let (Some(am_bin), Some(prom_bin)) = (peer("prometheus-alertmanager"), peer("prometheus"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let body = Arc::new(Mutex::new(
        "queue_depth{queue=\"q1\"} 42\nqueue_depth{queue=\"q2\"} 3\n".to_owned(),
    ));
    let target = serve_target(body.clone());
    let (_am1, am1) = start_alertmanager(&am_bin, &dir.path().join("am1"));
    let (_am2, am2) = start_alertmanager(&am_bin, &dir.path().join("am2"));
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n  - name: app\n    rules:\n\
         \x20     - alert: QueueBacklog\n        expr: queue_depth > 10\n        labels: {severity: page}\n\
         \x20       annotations:\n          summary: 'queue {{ $labels.queue }} holds {{ $value }} items'\n",
    )
    .unwrap();
    let config = |am: u16| {
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n  external_labels: {{cluster: c1}}\n\
             rule_files: ['rules.yml']\n\
             alerting:\n  alertmanagers:\n    - static_configs: [{{targets: ['127.0.0.1:{am}']}}]\n\
             scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
        )
    };
    std::fs::write(dir.path().join("sightline.yml"), config(am1)).unwrap();
    std::fs::write(dir.path().join("prometheus.yml"), config(am2)).unwrap();
    let sl_cfg = dir.path().join("sightline.yml");
    let server = Server::start(
        &dir.path().join("sl-data"),
        &["--config.file", sl_cfg.to_str().unwrap()],
    );
    let prom_port = free_port();
    let _prom = Proc(
        Command::new(&prom_bin)
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("prom-data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );

    // Both fire: one alert, for q1.
    let firing = |port: u16| {
        eventually(Duration::from_secs(60), || {
            let a = am_alerts(port);
            (!a.is_empty()).then_some(a)
        })
        .unwrap_or_else(|| panic!("no alert reached alertmanager on {port}"))
    };
    let ours = firing(am1);
    let theirs = firing(am2);
    assert_eq!(ours, theirs, "log:\n{}", server.log());
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0]["labels"]["queue"], "q1");
    assert_eq!(ours[0]["labels"]["cluster"], "c1");
    assert_eq!(ours[0]["annotations"]["summary"], "queue q1 holds 42 items");
    assert_eq!(ours[0]["state"], "active");

    // The condition clears: both send the resolved alert, and the
    // Alertmanagers stop listing it.
    *body.lock().unwrap() = "queue_depth{queue=\"q1\"} 1\nqueue_depth{queue=\"q2\"} 3\n".into();
    for port in [am1, am2] {
        eventually(Duration::from_secs(60), || {
            am_alerts(port).is_empty().then_some(())
        })
        .unwrap_or_else(|| panic!("alert on {port} did not resolve: {:?}", am_alerts(port)));
    }
    let metrics = common::get_text(&format!("{}/metrics", server.url()));
    let sent = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sightline_notifications_sent_total "))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(sent >= 2.0, "firing and resolved sends counted: {sent}");
    assert!(metrics.contains("sightline_rule_evaluations_total{rule_group="));
}
