//! Issue 15, file tailing: `serve` with `logs.scrape_configs` over a
//! folder of Docker json-file logs answers Loki queries with the lines and
//! their labels; `sightline agent` with a Promtail config ships a file to
//! a running `serve`, is killed with `kill -9` mid-stream and restarted,
//! and every line arrives exactly once.

mod common;

use common::{eventually, free_port, http, Server};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The streams of `q` over the last hour: (labels, lines oldest first).
fn streams(server: &Server, q: &str) -> Vec<(serde_json::Value, Vec<String>)> {
    let now = now_ns();
    let url = format!(
        "{}/loki/api/v1/query_range?query={}&start={}&end={}&limit=5000&direction=forward",
        server.url(),
        urlencode(q),
        now - 3_600_000_000_000,
        now + 60_000_000_000
    );
    let v: serde_json::Value = http().get(url).send().unwrap().json().unwrap();
    // The answer may hold one stream in several parts (one per internal
    // time split): merge them by labels.
    let mut out: Vec<(serde_json::Value, Vec<String>)> = Vec::new();
    for s in v["data"]["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
    {
        let lines = s["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x[1].as_str().unwrap().to_owned());
        match out.iter_mut().find(|o| o.0 == s["stream"]) {
            Some(o) => o.1.extend(lines),
            None => out.push((s["stream"].clone(), lines.collect())),
        }
    }
    out
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn issue_15_serve_tails_docker_json_logs_with_container_labels() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("containers");
    let ids = ["aaaa1111", "bbbb2222"];
    let time = sightline_core_time_now();
    for id in ids {
        let d = root.join(id);
        std::fs::create_dir_all(&d).unwrap();
        append(
            &d.join(format!("{id}-json.log")),
            &format!(
                "{{\"log\":\"GET /{id} 200\\n\",\"stream\":\"stdout\",\"time\":\"{time}\"}}\n{{\"log\":\"boom in {id}\\n\",\"stream\":\"stderr\",\"time\":\"{time}\"}}\n"
            ),
        );
    }
    let config = dir.path().join("sightline.yml");
    std::fs::write(
        &config,
        format!(
            r#"logs:
  scrape_configs:
  - job_name: docker
    static_configs:
    - targets: [localhost]
      labels:
        job: docker
        __path__: {root}/*/*-json.log
    pipeline_stages:
    - docker: {{}}
    - regex:
        source: filename
        expression: '{root}/(?P<container_id>[0-9a-f]+)/'
    - labels:
        container_id:
"#,
            root = root.display()
        ),
    )
    .unwrap();
    let server = Server::start(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let got = eventually(Duration::from_secs(20), || {
        let s = streams(&server, r#"{job="docker"}"#);
        (s.len() == 4).then_some(s)
    })
    .unwrap_or_else(|| panic!("lines not tailed; log:\n{}", server.log()));
    let mut seen: Vec<(String, String, String)> = got
        .iter()
        .map(|(l, lines)| {
            assert_eq!(lines.len(), 1, "{l}");
            assert_eq!(
                l["filename"].as_str().unwrap(),
                root.join(l["container_id"].as_str().unwrap())
                    .join(format!("{}-json.log", l["container_id"].as_str().unwrap()))
                    .display()
                    .to_string()
            );
            (
                l["container_id"].as_str().unwrap().to_owned(),
                l["stream"].as_str().unwrap().to_owned(),
                lines[0].clone(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (
                "aaaa1111".into(),
                "stderr".into(),
                "boom in aaaa1111\n".into()
            ),
            (
                "aaaa1111".into(),
                "stdout".into(),
                "GET /aaaa1111 200\n".into()
            ),
            (
                "bbbb2222".into(),
                "stderr".into(),
                "boom in bbbb2222\n".into()
            ),
            (
                "bbbb2222".into(),
                "stdout".into(),
                "GET /bbbb2222 200\n".into()
            ),
        ]
    );
    // The positions file sits beside the store, in Promtail's format.
    server.stop();
    let pos = std::fs::read_to_string(dir.path().join("data/logs/positions.yaml")).unwrap();
    assert!(
        pos.starts_with("positions:\n") && pos.contains("aaaa1111-json.log"),
        "{pos}"
    );
}

/// RFC 3339 now, as Docker writes it.
fn sightline_core_time_now() -> String {
    let out = Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%S.%NZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn start_agent(config: &Path, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("agent")
        .arg(format!("-config.file={}", config.display()))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

#[test]
fn issue_15_agent_survives_kill_9_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    // Its own folder: the agent's and the server's logs end in .log too.
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let log = logs.join("app.log");
    let agent_port = free_port();
    let config = dir.path().join("promtail.yml");
    std::fs::write(
        &config,
        format!(
            r#"server:
  http_listen_port: {agent_port}
  http_listen_address: 127.0.0.1
  grpc_listen_port: 0
positions:
  filename: {pos}
  sync_period: 10s
clients:
  - url: {url}/loki/api/v1/push
    batchwait: 100ms
    batchsize: 4096
scrape_configs:
- job_name: app
  static_configs:
  - targets: [localhost]
    labels:
      job: app
      __path__: {dir}/*.log
"#,
            pos = dir.path().join("positions.yaml").display(),
            url = server.url(),
            dir = logs.display()
        ),
    )
    .unwrap();
    let total = 3000;
    let writer = {
        let log = log.clone();
        std::thread::spawn(move || {
            for chunk in 0..60 {
                let mut text = String::new();
                for i in 0..50 {
                    text.push_str(&format!("line {:05} some payload\n", chunk * 50 + i));
                }
                append(&log, &text);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let agent_log = dir.path().join("agent.log");
    let mut agent = start_agent(&config, &agent_log);
    let count = |server: &Server| -> usize {
        streams(server, r#"{job="app"}"#)
            .iter()
            .map(|s| s.1.len())
            .sum()
    };
    // Mid-stream: some lines in, the writer still going.
    eventually(Duration::from_secs(20), || {
        (count(&server) > 300).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "agent shipped nothing; log:\n{}",
            std::fs::read_to_string(&agent_log).unwrap_or_default()
        )
    });
    let ready = http()
        .get(format!("http://127.0.0.1:{agent_port}/ready"))
        .send()
        .unwrap();
    assert!(ready.status().is_success());
    let metrics = http()
        .get(format!("http://127.0.0.1:{agent_port}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(metrics.contains("promtail_sent_entries_total"), "{metrics}");
    agent.kill().unwrap();
    agent.wait().unwrap();
    let at_kill = count(&server);
    assert!(at_kill < total, "the kill came after the last line");
    writer.join().unwrap();
    let mut agent = start_agent(&config, &agent_log.with_extension("2.log"));
    let got = eventually(Duration::from_secs(30), || {
        let s = streams(&server, r#"{job="app"}"#);
        let n: usize = s.iter().map(|s| s.1.len()).sum();
        (n >= total).then_some(s)
    });
    // Let a duplicate, if any, arrive before judging.
    std::thread::sleep(Duration::from_millis(500));
    let _ = agent.kill();
    let _ = agent.wait();
    assert!(got.is_some(), "not every line arrived");
    let s = streams(&server, r#"{job="app"}"#);
    assert_eq!(
        s.len(),
        1,
        "{:?}",
        s.iter().map(|x| &x.0).collect::<Vec<_>>()
    );
    let want: Vec<String> = (0..total)
        .map(|i| format!("line {i:05} some payload"))
        .collect();
    assert_eq!(s[0].1.len(), total, "lost or repeated lines");
    let mut lines = s[0].1.clone();
    lines.sort();
    assert_eq!(lines, want);
    assert_eq!(
        s[0].0,
        serde_json::json!({"job": "app", "filename": log.display().to_string()})
    );
}

/// Issue 17: Promtail's stock Kubernetes job (role pod, `__path__` built
/// by relabeling) passes `sightline agent -check-syntax`, which checks the
/// file before any runtime runs.
#[test]
fn issue_17_agent_accepts_promtail_kubernetes_config() {
    let dir = sightline_testkit::TempDir::new("agent-k8s");
    let config = dir.path().join("promtail.yml");
    std::fs::write(
        &config,
        r#"server: {http_listen_port: 9080}
positions: {filename: /tmp/positions.yaml}
clients: [{url: "http://loki:3100/loki/api/v1/push"}]
scrape_configs:
  - job_name: kubernetes-pods
    pipeline_stages: [{cri: {}}]
    kubernetes_sd_configs: [{role: pod}]
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_node_name]
        target_label: __host__
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - source_labels: [__meta_kubernetes_pod_container_name]
        target_label: container
      - replacement: /var/log/pods/*$1/*.log
        separator: /
        source_labels: [__meta_kubernetes_pod_uid, __meta_kubernetes_pod_container_name]
        target_label: __path__
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("agent")
        .arg(format!("-config.file={}", config.display()))
        .arg("-check-syntax")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Valid config file!"), "{text}");
}
