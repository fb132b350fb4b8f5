//! The tailer: Promtail config files, glob expansion, rotation by rename
//! and by copytruncate, and restarts from the positions file, asserting
//! every line arrives exactly once and in order (issue 15).

use super::config::PromtailConfig;
use super::run::{LogSink, TailStream};
use super::*;
use sightline_core::logs::{LogQuerier, MemLogStore};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A typical Promtail file (the Docker setup of Promtail's docs, with a
/// system job), as the seeds' stack would run it: read unchanged.
const PROMTAIL_YML: &str = r#"
server:
  http_listen_port: 9080
  grpc_listen_port: 0
  log_level: info
positions:
  filename: /tmp/positions.yaml
  sync_period: 5s
clients:
  - url: http://loki:3100/loki/api/v1/push
    tenant_id: team-a
    batchwait: 1s
    batchsize: 1048576
    timeout: 10s
    backoff_config:
      min_period: 500ms
      max_period: 5m
      max_retries: 10
    external_labels:
      host: web1
scrape_configs:
- job_name: system
  static_configs:
  - targets: [localhost]
    labels:
      job: varlogs
      __path__: /var/log/*log
- job_name: containers
  static_configs:
  - targets: [localhost]
    labels:
      job: containerlogs
      __path__: /var/lib/docker/containers/*/*-json.log
  relabel_configs:
  - source_labels: [job]
    target_label: service
  pipeline_stages:
  - docker: {}
  - regex:
      source: filename
      expression: '/var/lib/docker/containers/(?P<container_id>[0-9a-f]+)/'
  - labels:
      container_id:
limits_config:
  readline_rate_enabled: false
target_config:
  sync_period: 5s
"#;

#[test]
fn a_promtail_config_is_read_unchanged() {
    let cfg = PromtailConfig::parse(PROMTAIL_YML, "promtail.yml").unwrap();
    assert_eq!(cfg.server.http_listen_port, 9080);
    assert_eq!(
        cfg.positions.filename,
        Some(PathBuf::from("/tmp/positions.yaml"))
    );
    assert_eq!(cfg.positions.sync_period, Duration::from_secs(5));
    let c = &cfg.clients[0];
    assert_eq!(c.tenant_id.as_deref(), Some("team-a"));
    assert_eq!(c.backoff_config.max_period, Duration::from_secs(300));
    assert_eq!(c.external_labels["host"], "web1");
    assert_eq!(cfg.target_config.sync_period, Duration::from_secs(5));
    assert_eq!(cfg.scrape_configs.len(), 2);
    let t = tailer::targets(&cfg.scrape_configs[1]).unwrap();
    assert_eq!(t[0].glob, "/var/lib/docker/containers/*/*-json.log");
    let want: std::collections::BTreeMap<String, String> = [
        ("job".to_string(), "containerlogs".to_string()),
        ("service".to_string(), "containerlogs".to_string()),
    ]
    .into();
    assert_eq!(t[0].labels, want);
    Tailer::new(
        &cfg.scrape_configs,
        Positions::in_memory(),
        TailMetrics::new(),
    )
    .unwrap();
}

#[test]
fn promtail_keys_we_lack_and_unknown_keys_are_refused_by_name_and_line() {
    let text = "scrape_configs:\n- job_name: d\n  docker_sd_configs:\n  - host: unix:///var/run/docker.sock\n";
    let err = PromtailConfig::parse(text, "p.yml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("p.yml:3"), "{err}");
    assert!(
        err.contains("docker_sd_configs") && err.contains("not support"),
        "{err}"
    );
    let text = "scrape_configs:\n- job_name: j\n  journal:\n    max_age: 12h\n";
    let err = PromtailConfig::parse(text, "p.yml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("journal") && err.contains("not support"),
        "{err}"
    );
    let text = "positions:\n  filename: /x\nscrape_config:\n- job_name: j\n";
    let err = PromtailConfig::parse(text, "p.yml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("p.yml:3") && err.contains("scrape_config"),
        "{err}"
    );
    let text =
        "scrape_configs:\n- job_name: j\n  pipeline_stages:\n  - replace:\n      expression: x\n";
    let err = PromtailConfig::parse(text, "p.yml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("replace") && err.contains("not support"),
        "{err}"
    );
}

fn write(path: &std::path::Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn scrape(dir: &std::path::Path, glob: &str, stages: &str) -> Vec<ScrapeConfig> {
    let text = format!(
        "- job_name: t\n  static_configs:\n  - labels:\n      job: t\n      __path__: {}/{glob}\n  pipeline_stages: {stages}\n",
        dir.display()
    );
    sightline_config::yaml::from_str(&text, "s.yml").unwrap()
}

/// Polls and acknowledges everything, returning the lines in order.
fn drain(t: &mut Tailer) -> Vec<(String, String)> {
    let p = t.poll(Instant::now(), false);
    t.acknowledge(&p.marks);
    p.entries
        .into_iter()
        .map(|e| (e.labels["filename"].clone(), e.line))
        .collect()
}

#[test]
fn globs_with_double_star_and_exclusions_are_expanded_again_on_sync() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    write(&dir.path().join("top.log"), "1\n");
    write(&dir.path().join("a/b/deep.log"), "2\n");
    write(&dir.path().join("a/skip.log"), "3\n");
    write(&dir.path().join("a/b/other.txt"), "4\n");
    let mut sc = scrape(dir.path(), "**/*.log", "[]");
    sc[0].static_configs[0].labels.insert(
        "__path_exclude__".into(),
        format!("{}/a/skip.log", dir.path().display()),
    );
    let mut t = Tailer::new(&sc, Positions::in_memory(), TailMetrics::new()).unwrap();
    t.sync_targets();
    let names: Vec<String> = t
        .paths()
        .iter()
        .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
        .collect();
    assert_eq!(names, vec!["a/b/deep.log", "top.log"]);
    write(&dir.path().join("a/new.log"), "5\n");
    t.sync_targets();
    assert_eq!(t.paths().len(), 3);
}

#[test]
fn rename_and_copytruncate_rotation_lose_and_repeat_nothing_issue_15() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    write(&log, "a1\na2\n");
    let sc = scrape(dir.path(), "*.log", "[]");
    let mut t = Tailer::new(&sc, Positions::in_memory(), TailMetrics::new()).unwrap();
    t.sync_targets();
    let mut got: Vec<String> = drain(&mut t).into_iter().map(|x| x.1).collect();
    // A partial line waits for its newline.
    write(&log, "a3\na4");
    got.extend(drain(&mut t).into_iter().map(|x| x.1));
    assert_eq!(got, vec!["a1", "a2", "a3"]);
    // Rename rotation: the rest of the old file, then the new one from 0.
    write(&log, "\na5\n");
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    write(&log, "b1\n");
    got.extend(drain(&mut t).into_iter().map(|x| x.1));
    got.extend(drain(&mut t).into_iter().map(|x| x.1));
    assert_eq!(t.position(&log), Some(3));
    // Copytruncate: copied away, truncated in place, written again.
    write(&log, "b2\n");
    got.extend(drain(&mut t).into_iter().map(|x| x.1));
    std::fs::copy(&log, dir.path().join("app.log.2")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    write(&log, "c1\n");
    got.extend(drain(&mut t).into_iter().map(|x| x.1));
    assert_eq!(got, vec!["a1", "a2", "a3", "a4", "a5", "b1", "b2", "c1"]);
    // Rotated files do not match `*.log`, so were never tailed.
    assert_eq!(t.paths(), vec![log.clone()]);
}

#[test]
fn a_restart_from_the_positions_file_neither_loses_nor_repeats_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let pos = dir.path().join("positions.yaml");
    let sc = scrape(dir.path(), "*.log", "[]");
    write(&log, "1\n2\n");
    let mut t = Tailer::new(
        &sc,
        Positions::load(&pos, false).unwrap(),
        TailMetrics::new(),
    )
    .unwrap();
    t.sync_targets();
    let mut got: Vec<String> = drain(&mut t).into_iter().map(|x| x.1).collect();
    write(&log, "3\n");
    // Read but never acknowledged: must come again after the restart.
    let p = t.poll(Instant::now(), false);
    assert_eq!(p.entries.len(), 1);
    t.positions.save().unwrap();
    drop(t);
    let text = std::fs::read_to_string(&pos).unwrap();
    assert_eq!(
        text,
        format!("positions:\n  \"{}\": \"4\"\n", log.display())
    );
    write(&log, "4\n");
    let mut t = Tailer::new(
        &sc,
        Positions::load(&pos, false).unwrap(),
        TailMetrics::new(),
    )
    .unwrap();
    t.sync_targets();
    got.extend(drain(&mut t).into_iter().map(|x| x.1));
    assert_eq!(got, vec!["1", "2", "3", "4"]);
}

#[test]
fn equal_lines_read_together_get_distinct_times_and_batches_respect_batchsize() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    write(&log, "ok\nok\nok\n");
    let sc = scrape(dir.path(), "*.log", "[]");
    let mut t = Tailer::new(&sc, Positions::in_memory(), TailMetrics::new()).unwrap();
    t.sync_targets();
    let p = t.poll(Instant::now(), false);
    let ts: Vec<i64> = p.entries.iter().map(|e| e.ts_ns).collect();
    assert_eq!(ts.len(), 3);
    assert!(ts[0] < ts[1] && ts[1] < ts[2], "{ts:?}");
    // Three 2-byte lines in batches of at most 4 bytes: 2 + 1.
    let sizes: Vec<usize> = run::split(p.entries, 4).iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![2, 1]);
}

/// Records every line of every batch, duplicates included.
#[derive(Default)]
struct Recorder(Mutex<Vec<Recorded>>);

type Recorded = (Vec<(String, String)>, String);

impl LogSink for Recorder {
    fn send<'a>(
        &'a self,
        batch: &'a [TailStream],
        _cancel: &'a tokio_util::sync::CancellationToken,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + 'a>> {
        Box::pin(async move {
            let mut v = self.0.lock().unwrap();
            for s in batch {
                for e in &s.entries {
                    v.push((s.labels.clone(), e.line.clone()));
                }
            }
            true
        })
    }
}

fn fast() -> TailOptions {
    TailOptions {
        poll_interval: Duration::from_millis(20),
        target_sync: Duration::from_millis(50),
        positions_sync: Duration::from_millis(50),
        batch_wait: Duration::from_millis(20),
        batch_bytes: 1 << 20,
    }
}

async fn wait_for(what: impl Fn() -> bool) {
    for _ in 0..250 {
        if what() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_tailer_follows_rotations_and_restarts_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let pos = PositionsConfig {
        filename: Some(dir.path().join("positions.yaml")),
        sync_period: Duration::from_millis(50),
        ignore_invalid_yaml: false,
    };
    let sc = scrape(dir.path(), "*.log", "[]");
    let rec = Arc::new(Recorder::default());
    let start = |rec: Arc<Recorder>| {
        let cancel = tokio_util::sync::CancellationToken::new();
        let task = start(
            &sc,
            &pos,
            dir.path(),
            fast(),
            rec,
            TailMetrics::new(),
            cancel.clone(),
        )
        .unwrap();
        (tokio::spawn(task), cancel)
    };
    let (task, cancel) = start(rec.clone());
    let mut want = Vec::new();
    let mut n = 0;
    let mut more = |count: usize, want: &mut Vec<String>| {
        for _ in 0..count {
            n += 1;
            write(&log, &format!("line {n}\n"));
            want.push(format!("line {n}"));
        }
    };
    more(100, &mut want);
    let count = |r: &Recorder| r.0.lock().unwrap().len();
    wait_for(|| count(&rec) == 100).await;
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    more(50, &mut want);
    wait_for(|| count(&rec) == 150).await;
    std::fs::copy(&log, dir.path().join("app.log.2")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    // Fewer bytes than before the truncation: a file that grew back past
    // the old offset before the next look cannot be told from one that
    // only grew (Promtail has the same limit; docs/logs-tail.md).
    more(20, &mut want);
    wait_for(|| count(&rec) == 170).await;
    cancel.cancel();
    task.await.unwrap();
    // Written while stopped, read after the restart.
    more(30, &mut want);
    let (task, cancel) = start(rec.clone());
    wait_for(|| count(&rec) == 200).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    cancel.cancel();
    task.await.unwrap();
    let got: Vec<String> = rec.0.lock().unwrap().iter().map(|x| x.1.clone()).collect();
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_json_logs_land_in_the_store_with_container_labels() {
    let dir = tempfile::tempdir().unwrap();
    let cdir = dir.path().join("containers/0123abcd");
    std::fs::create_dir_all(&cdir).unwrap();
    let log = cdir.join("0123abcd-json.log");
    let now = sightline_core::time::rfc3339_nano(&sightline_core::time::now());
    write(
        &log,
        &format!("{{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"{now}\"}}\n{{\"log\":\"oops\\n\",\"stream\":\"stderr\",\"time\":\"{now}\"}}\n"),
    );
    let stages = format!(
        "[{{docker: {{}}}}, {{regex: {{source: filename, expression: '{}/containers/(?P<container_id>[0-9a-f]+)/'}}}}, {{labels: {{container_id: }}}}]",
        dir.path().display()
    );
    let sc = scrape(dir.path(), "containers/*/*-json.log", &stages);
    let store = Arc::new(MemLogStore::new());
    let metrics = TailMetrics::new();
    let sink = Arc::new(AppenderSink {
        appender: store.clone(),
        limits: crate::loki::PushLimits::default(),
        metrics: metrics.clone(),
    });
    let cancel = tokio_util::sync::CancellationToken::new();
    let task = start(
        &sc,
        &PositionsConfig::default(),
        &dir.path().join("pos.yaml"),
        fast(),
        sink,
        metrics.clone(),
        cancel.clone(),
    )
    .unwrap();
    let task = tokio::spawn(task);
    let streams = || {
        store
            .streams(sightline_core::logs::DEFAULT_TENANT, &[], 0, i64::MAX)
            .unwrap()
    };
    wait_for(|| streams().len() == 2).await;
    cancel.cancel();
    task.await.unwrap();
    let mut got: Vec<String> = streams().iter().map(|l| l.to_string()).collect();
    got.sort();
    let f = log.display();
    assert_eq!(
        got,
        vec![
            format!(
                "{{container_id=\"0123abcd\", filename=\"{f}\", job=\"t\", stream=\"stderr\"}}"
            ),
            format!(
                "{{container_id=\"0123abcd\", filename=\"{f}\", job=\"t\", stream=\"stdout\"}}"
            ),
        ]
    );
    assert_eq!(metrics.counter("promtail_sent_entries", &[]), 2.0);
}

/// Promtail's stock Kubernetes job (the Loki Helm chart's
/// `kubernetes-pods`), with the log folder moved under a temp dir.
const PROMTAIL_K8S: &str = r#"
server:
  http_listen_port: 9080
positions:
  filename: /tmp/positions.yaml
clients:
  - url: http://loki:3100/loki/api/v1/push
scrape_configs:
  - job_name: kubernetes-pods
    pipeline_stages:
      - cri: {}
    kubernetes_sd_configs:
      - role: pod
        api_server: API
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_controller_name]
        regex: ([0-9a-z-.]+?)(-[0-9a-f]{8,10})?
        action: replace
        target_label: __tmp_controller_name
      - source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_name, __meta_kubernetes_pod_label_app, __tmp_controller_name, __meta_kubernetes_pod_name]
        regex: ^;*([^;]+)(;.*)?$
        action: replace
        target_label: app
      - source_labels: [__meta_kubernetes_pod_node_name]
        action: replace
        target_label: node_name
      - source_labels: [__meta_kubernetes_namespace]
        action: replace
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        action: replace
        target_label: pod
      - source_labels: [__meta_kubernetes_pod_container_name]
        action: replace
        target_label: container
      - replacement: LOGS/*$1/*.log
        separator: /
        source_labels: [__meta_kubernetes_pod_uid, __meta_kubernetes_pod_container_name]
        target_label: __path__
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtail_kubernetes_pods_config_discovers_and_tails_issue_17() {
    use crate::discovery::kubernetes::tests::fake::FakeApi;
    let api = FakeApi::start(None).await;
    api.put(
        "/api/v1/pods",
        serde_json::json!({
            "metadata": {"name": "web-7d9f8b6c5d-x2x4z", "namespace": "shop", "uid": "u-123",
                "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7d9f8b6c5d", "controller": true}]},
            "spec": {"nodeName": "node-a", "containers": [{"name": "app", "ports": [{"containerPort": 80}]}]},
            "status": {"phase": "Running", "podIP": "10.0.0.9"}
        }),
    );
    let dir = tempfile::tempdir().unwrap();
    let pod_dir = dir.path().join("shop_web-7d9f8b6c5d-x2x4z_u-123/app");
    std::fs::create_dir_all(&pod_dir).unwrap();
    write(
        &pod_dir.join("0.log"),
        "2024-05-01T10:00:00.000000000Z stdout F hello from web\n",
    );
    let text = PROMTAIL_K8S
        .replace("API", &api.url("http"))
        .replace("LOGS", &dir.path().display().to_string());
    let cfg = PromtailConfig::parse(&text, "promtail.yml").unwrap();
    let mut t = Tailer::new(
        &cfg.scrape_configs,
        Positions::in_memory(),
        TailMetrics::new(),
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while t.paths().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the pod's log was not found"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        t.sync_targets();
    }
    assert_eq!(t.paths(), [pod_dir.join("0.log")]);
    let p = t.poll(Instant::now(), false);
    let got: Vec<_> = p.entries.into_iter().map(|e| (e.labels, e.line)).collect();
    assert_eq!(got.len(), 1, "{got:?}");
    let labels = &got[0].0;
    let want = [
        ("app", "web"),
        ("container", "app"),
        ("namespace", "shop"),
        ("node_name", "node-a"),
        ("pod", "web-7d9f8b6c5d-x2x4z"),
    ];
    for (k, v) in want {
        assert_eq!(
            labels.get(k).map(String::as_str),
            Some(v),
            "{k} in {labels:?}"
        );
    }
    assert_eq!(got[0].1, "hello from web");
}

/// `sightline agent` checks the file (building a tailer) before its
/// runtime starts: a Kubernetes job must pass that check (issue 17).
#[test]
fn kubernetes_jobs_are_checked_without_a_runtime() {
    let text = PROMTAIL_K8S
        .replace("API", "https://192.0.2.1:6443")
        .replace("LOGS", "/var/log/pods");
    let cfg = PromtailConfig::parse(&text, "promtail.yml").unwrap();
    let mut t = Tailer::new(
        &cfg.scrape_configs,
        Positions::in_memory(),
        TailMetrics::new(),
    )
    .unwrap();
    t.sync_targets();
    assert!(t.paths().is_empty());
}
