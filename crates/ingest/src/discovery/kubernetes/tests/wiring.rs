//! Config checks (against promtool), the three ways to connect, and the
//! discovery wired into a scrape job end to end.

use super::*;
use crate::config::load_str;
use serde_json::json;
use sightline_testkit::TempDir;

/// Scrape configs whose acceptance Prometheus 2.42 decides: each is run
/// through `promtool check config` and through our loader, and both must
/// agree (the reason is compared by its key words).
const CASES: &[(&str, Option<&str>)] = &[
    ("- role: pod\n", None),
    ("- role: endpoints\n  namespaces: {own_namespace: true, names: [a, b]}\n", None),
    ("- role: endpointslice\n  selectors: [{role: pod, label: 'a=b'}, {role: service, field: 'metadata.name=x'}]\n", None),
    ("- role: node\n  api_server: https://k8s.example:6443\n  bearer_token: t\n  tls_config: {insecure_skip_verify: true}\n", None),
    ("- role: pod\n  attach_metadata: {node: true}\n", None),
    ("- role: ingress\n  kubeconfig_file: /etc/kube.conf\n", None),
    ("- {}\n", Some("role missing")),
    ("- role: deployment\n", Some("unknown Kubernetes SD role")),
    ("- role: pod\n  namespace: [a]\n", Some("namespace")),
    ("- role: pod\n  api_server: https://x:1\n  kubeconfig_file: /k\n", Some("simultaneously")),
    ("- role: pod\n  bearer_token: t\n", Some("api_server")),
    ("- role: pod\n  kubeconfig_file: /k\n  basic_auth: {username: u}\n", Some("kubeconfig_file")),
    ("- role: pod\n  api_server: https://x:1\n  namespaces: {own_namespace: true}\n", Some("own_namespace")),
    ("- role: pod\n  selectors: [{role: service}]\n", Some("pod role supports only pod selectors")),
    ("- role: endpoints\n  selectors: [{role: pod}, {role: pod}]\n", Some("duplicated selector role: pod")),
    ("- role: pod\n  selectors: [{role: pod, label: 'a in (b'}]\n", Some("selector")),
];

fn job(sd: &str) -> String {
    let sd = sd
        .lines()
        .map(|l| format!("      {l}\n"))
        .collect::<String>();
    format!("scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n{sd}")
}

#[test]
fn config_checks_match_promtool() {
    for (sd, refused) in CASES {
        let text = job(sd);
        match (load_str(&text, "p.yml"), refused) {
            (Ok(_), None) => {}
            (Err(e), Some(word)) => assert!(e.to_string().contains(word), "{sd}: {e}"),
            (r, _) => panic!("{sd}: expected refused={refused:?}, got {r:?}"),
        }
    }
    let Some(promtool) = sightline_testkit::peer("promtool", "apt-get install prometheus") else {
        return;
    };
    let dir = TempDir::new("k8s-promtool");
    // Debian builds Prometheus without the Kubernetes discovery (its Go
    // dependencies are not packaged), so its promtool refuses the key
    // itself; then only our side is checked, and the note says why.
    let probe = dir.path().join("probe.yml");
    std::fs::write(&probe, job(CASES[0].0)).unwrap();
    let out = std::process::Command::new(&promtool)
        .args(["check", "config", "--syntax-only"])
        .arg(&probe)
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if said.contains("field kubernetes_sd_configs not found") {
        eprintln!("note: this promtool is built without kubernetes_sd_configs (Debian's build); compared against the expectations written from Prometheus's code only");
        return;
    }
    for (i, (sd, refused)) in CASES.iter().enumerate() {
        let path = dir.path().join(format!("p{i}.yml"));
        std::fs::write(&path, job(sd)).unwrap();
        let out = std::process::Command::new(&promtool)
            .args(["check", "config", "--syntax-only"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        match refused {
            None => assert!(out.status.success(), "promtool refuses {sd}: {text}"),
            Some(word) => {
                assert!(!out.status.success(), "promtool accepts {sd}");
                assert!(
                    text.contains(word),
                    "promtool's reason for {sd} lacks {word:?}: {text}"
                );
            }
        }
    }
}

#[test]
fn refusals_say_where() {
    let text = job("- role: pod\n  selectors: [{role: pod, labels: 'a=b'}]\n");
    let e = load_str(&text, "p.yml").unwrap_err().to_string();
    assert!(e.starts_with("p.yml:5:"), "{e}");
    assert!(e.contains("labels"), "{e}");
}

#[tokio::test]
async fn bearer_token_is_sent_and_refusals_are_reported() {
    let api = FakeApi::start(None).await;
    api.require_token("s3cret");
    api.put("/api/v1/nodes", json!({"metadata": {"name": "n1"}}));
    let base = api.url("http");
    let mut bad = run(
        &sd(&format!(
            "role: node\napi_server: {base}\nbearer_token: wrong\n"
        )),
        &InCluster::default(),
    );
    let st = bad.until("an error", |s| !s.errors.is_empty()).await;
    assert!(
        st.errors[0].contains("401") && st.errors[0].contains("Unauthorized"),
        "{:?}",
        st.errors
    );
    assert!(st.groups.is_empty());
    let mut good = run(
        &sd(&format!(
            "role: node\napi_server: {base}\nbearer_token: s3cret\n"
        )),
        &InCluster::default(),
    );
    assert_eq!(good.groups(1).await[0].source, "node/n1");
}

#[tokio::test]
async fn kubeconfig_current_context_with_tls_and_token() {
    let ca = fake::TestCa::new();
    let api = FakeApi::start(Some(&ca)).await;
    api.require_token("kc-token");
    api.put(
        "/api/v1/services",
        json!({"metadata": {"name": "web", "namespace": "a"}, "spec": {"ports": [{"port": 80}]}}),
    );
    let dir = TempDir::new("k8s-kubeconfig");
    // The CA inline (base64 PEM), the token from a file relative to the kubeconfig.
    std::fs::write(dir.path().join("token"), "kc-token\n").unwrap();
    let ca_b64 = b64(ca.ca_pem.as_bytes());
    let kc = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: test\npreferences: {{}}\nclusters:\n- name: other\n  cluster: {{server: 'https://192.0.2.1:1'}}\n- name: fake\n  cluster:\n    server: {}\n    certificate-authority-data: {ca_b64}\ncontexts:\n- name: prod\n  context: {{cluster: other, user: admin}}\n- name: test\n  context: {{cluster: fake, user: dev, namespace: a}}\nusers:\n- name: admin\n  user: {{token: nope}}\n- name: dev\n  user: {{tokenFile: token}}\n",
        api.url("https")
    );
    std::fs::write(dir.path().join("config"), kc).unwrap();
    let c = load_str(
        &job("- role: service\n  kubeconfig_file: config\n"),
        &dir.path().join("prometheus.yml").display().to_string(),
    )
    .unwrap();
    let mut sd = run(
        &c.scrape_configs[0].kubernetes_sd_configs[0],
        &InCluster::default(),
    );
    assert_eq!(sd.groups(1).await[0].source, "svc/a/web");
}

#[tokio::test]
async fn in_cluster_service_account() {
    let ca = fake::TestCa::new();
    let api = FakeApi::start(Some(&ca)).await;
    api.require_token("sa-token");
    let pods = "/api/v1/namespaces/monitoring/pods";
    api.put(pods, json!({"metadata": {"name": "p", "namespace": "monitoring"}, "status": {"podIP": "10.1.1.1"}, "spec": {"containers": [{"name": "c"}]}}));
    let dir = TempDir::new("k8s-incluster");
    std::fs::write(dir.path().join("token"), "sa-token").unwrap();
    std::fs::write(dir.path().join("ca.crt"), &ca.ca_pem).unwrap();
    std::fs::write(dir.path().join("namespace"), "monitoring\n").unwrap();
    let env = InCluster {
        host: Some("127.0.0.1".into()),
        port: Some(api.addr.port().to_string()),
        account_dir: dir.path().to_path_buf(),
    };
    let mut d = run(&sd("role: pod\nnamespaces: {own_namespace: true}\n"), &env);
    assert_eq!(d.groups(1).await[0].source, "pod/monitoring/p");
    assert!(
        api.requests().iter().all(|r| r.starts_with(pods)),
        "{:?}",
        api.requests()
    );

    // Outside a cluster, starting fails with client-go's words.
    let e = start(
        &sd("role: pod\n"),
        &InCluster::default(),
        "job \"t\"",
        CancellationToken::new(),
        Arc::new(tokio::sync::Notify::new()),
    )
    .unwrap_err();
    assert!(
        e.contains("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"),
        "{e}"
    );
}

fn b64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                T[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    out
}

/// A fake metrics endpoint recording the paths it is asked for.
async fn metrics_target() -> (std::net::SocketAddr, Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let paths = Arc::new(std::sync::Mutex::new(Vec::new()));
    let p = paths.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let p = p.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_string();
                p.lock()
                    .unwrap()
                    .push(head.split_whitespace().nth(1).unwrap_or("").to_owned());
                let body = "# TYPE shop_orders_total counter\nshop_orders_total 42\n";
                let resp = format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (addr, paths)
}

/// Prometheus's example `kubernetes-pods` job (seed 004's rules).
const ANNOTATION_RULES: &str = r#"    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        action: keep
        regex: true
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
        action: replace
        target_label: __metrics_path__
        regex: (.+)
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        action: replace
        regex: ([^:]+)(?::\d+)?;(\d+)
        replacement: $1:$2
        target_label: __address__
      - action: labelmap
        regex: __meta_kubernetes_pod_label_(.+)
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
"#;

fn annotated_pod(name: &str, scrape: &str, port: u16, path: &str) -> serde_json::Value {
    json!({
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": "checkout"},
            "annotations": {"prometheus.io/scrape": scrape, "prometheus.io/port": port.to_string(), "prometheus.io/path": path}},
        "spec": {"containers": [{"name": "app", "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}]}]},
        "status": {"phase": "Running", "podIP": "127.0.0.1"}
    })
}

#[tokio::test]
async fn annotated_pods_are_discovered_and_scraped() {
    use crate::scrape::{ScrapeManager, TargetState};
    use sightline_core::{MatchOp, Matcher, MemStore, MetricQuerier};
    let api = FakeApi::start(None).await;
    let (target, paths) = metrics_target().await;
    api.put(
        "/api/v1/pods",
        annotated_pod("checkout-1", "true", target.port(), "/custom/metrics"),
    );
    api.put(
        "/api/v1/pods",
        annotated_pod("quiet-1", "false", target.port(), "/metrics"),
    );
    let text = format!(
        "scrape_configs:\n  - job_name: kubernetes-pods\n    scrape_interval: 100ms\n    scrape_timeout: 80ms\n    kubernetes_sd_configs:\n      - role: pod\n        api_server: {}\n{ANNOTATION_RULES}",
        api.url("http")
    );
    let store = MemStore::new();
    let manager = ScrapeManager::with_file_poll(
        Arc::new(store.clone()),
        load_str(&text, "p.yml").unwrap(),
        Duration::from_millis(50),
    );
    let shutdown = CancellationToken::new();
    let (m, s) = (manager.clone(), shutdown.clone());
    let task = tokio::spawn(async move { m.run(s).await });
    let m = [
        Matcher::new(MatchOp::Equal, "__name__", "shop_orders_total").unwrap(),
        Matcher::new(MatchOp::Equal, "pod", "checkout-1").unwrap(),
        Matcher::new(MatchOp::Equal, "namespace", "shop").unwrap(),
        Matcher::new(MatchOp::Equal, "app", "checkout").unwrap(),
        Matcher::new(
            MatchOp::Equal,
            "instance",
            format!("127.0.0.1:{}", target.port()),
        )
        .unwrap(),
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = store
            .select(&sightline_core::QueryContext::new(), i64::MIN, i64::MAX, &m)
            .unwrap()
            .into_vec()
            .unwrap();
        if let Some(series) = got.into_iter().next() {
            assert_eq!(series.samples.last().map(|s| s.v), Some(42.0));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no scrape of the annotated pod; targets: {:?}",
            manager.targets(TargetState::Any, None)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Exactly the annotated pod: one active target, the other dropped.
    let snap = manager.targets(TargetState::Any, None);
    assert_eq!(snap.active_targets.len(), 1);
    assert_eq!(snap.dropped_targets.len(), 1);
    assert!(
        paths.lock().unwrap().iter().all(|p| p == "/custom/metrics"),
        "{:?}",
        paths.lock().unwrap()
    );
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
