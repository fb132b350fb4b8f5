use super::*;
use crate::relabel::Action;

fn load(text: &str) -> PrometheusConfig {
    load_str(text, "prometheus.yml").unwrap_or_else(|e| panic!("{e}"))
}

fn load_err(text: &str) -> String {
    match load_str(text, "prometheus.yml") {
        Ok(c) => panic!("should be refused: {c:?}"),
        Err(e) => e.to_string(),
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn empty_file_gets_prometheus_defaults() {
    let c = load("");
    assert_eq!(c.global.scrape_interval, secs(60));
    assert_eq!(c.global.scrape_timeout, secs(10));
    assert_eq!(c.global.evaluation_interval, secs(60));
    assert!(c.scrape_configs.is_empty());
}

#[test]
fn job_defaults_follow_prometheus() {
    let c = load("scrape_configs:\n  - job_name: a\n");
    let j = &c.scrape_configs[0];
    assert_eq!(j.scrape_interval, secs(60));
    assert_eq!(j.scrape_timeout, secs(10));
    assert_eq!(j.metrics_path, "/metrics");
    assert_eq!(j.scheme, "http");
    assert!(j.honor_timestamps);
    assert!(!j.honor_labels);
    assert!(j.http.follow_redirects);
    assert!(j.http.enable_http2);
    assert_eq!(j.sample_limit, 0);
    assert_eq!(j.body_size_limit, ByteSize(0));
}

#[test]
fn timeout_is_capped_by_a_short_interval() {
    // Global 5s interval: the default 10s timeout becomes 5s.
    let c = load("global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_interval: 2s\n  - job_name: c\n    scrape_interval: 1m\n");
    assert_eq!(c.global.scrape_timeout, secs(5));
    assert_eq!(c.scrape_configs[0].scrape_interval, secs(5));
    assert_eq!(c.scrape_configs[0].scrape_timeout, secs(5));
    assert_eq!(c.scrape_configs[1].scrape_timeout, secs(2));
    assert_eq!(c.scrape_configs[2].scrape_timeout, secs(5));
}

#[test]
fn global_limits_flow_into_jobs_unless_set() {
    let c = load(
        "global:\n  sample_limit: 100\n  body_size_limit: 1MB\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    sample_limit: 0\n",
    );
    assert_eq!(c.scrape_configs[0].sample_limit, 100);
    assert_eq!(c.scrape_configs[0].body_size_limit, ByteSize(1 << 20));
    assert_eq!(c.scrape_configs[1].sample_limit, 0);
}

#[test]
fn debian_default_prometheus_yml_loads() {
    // Its `rule_files:` has only comments under it: YAML null.
    let c = load(include_str!("testdata/debian_default.yml"));
    assert!(c.rule_files.is_empty());
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.global.scrape_interval, secs(15));
    assert_eq!(c.global.external_labels["monitor"], "example");
    let p = c.scrape_config("prometheus").unwrap();
    assert_eq!((p.scrape_interval, p.scrape_timeout), (secs(5), secs(5)));
    let node = c.scrape_config("node").unwrap();
    assert_eq!(
        (node.scrape_interval, node.scrape_timeout),
        (secs(15), secs(10))
    );
    assert_eq!(node.static_configs[0].targets, ["localhost:9100"]);
}

#[test]
fn empty_keys_mean_defaults() {
    let c = load(
        "global:
rule_files:
remote_write:
scrape_configs:
  - job_name: a
    static_configs:
      - targets:
        labels:
    relabel_configs:
",
    );
    assert_eq!(c.global.scrape_interval, secs(60));
    assert!(c.scrape_configs[0].static_configs[0].targets.is_empty());
    let e = load_err(
        "scrape_configs:
  - job_name: a
    file_sd_configs:
      - files:
",
    );
    assert!(e.contains("must contain at least one path name"), "{e}");
}

#[test]
fn seed002_compose_file_loads() {
    let c = load(include_str!("testdata/seed002_compose.yml"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.global.scrape_interval, secs(15));
    assert_eq!(c.global.scrape_timeout, secs(10));
    let jobs: Vec<&str> = c
        .scrape_configs
        .iter()
        .map(|s| s.job_name.as_str())
        .collect();
    assert_eq!(
        jobs,
        [
            "prometheus",
            "loki",
            "app_python",
            "app_rust",
            "grafana",
            "promtail"
        ]
    );
    assert_eq!(c.scrape_configs[1].static_configs[0].targets, ["loki:3100"]);
    assert_eq!(c.scrape_configs[2].scrape_interval, secs(15));
}

#[test]
fn seed004_kubernetes_sd_loads() {
    let c = load(include_str!("testdata/seed004_k8s_annotations.yml"));
    assert_eq!(c.rule_files, ["alerts.yml"]);
    assert_eq!(
        c.global.external_labels.get("cluster").map(String::as_str),
        Some("exam07")
    );
    assert_eq!(c.alerting.alertmanagers.len(), 1);
    let pods = c.scrape_config("kubernetes-pods").unwrap();
    // Issue 17: kubernetes_sd_configs is implemented, so no warning.
    assert!(pods.unsupported_sd.is_empty());
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(pods.kubernetes_sd_configs.len(), 1);
    assert_eq!(
        pods.kubernetes_sd_configs[0].role,
        crate::discovery::kubernetes::Role::Pod
    );
    assert_eq!(pods.relabel_configs.len(), 6);
    assert_eq!(pods.relabel_configs[0].action, Action::Keep);
    // `regex: true` is YAML's boolean; Prometheus reads it as the text "true".
    assert_eq!(pods.relabel_configs[0].regex.as_str(), "true");
    assert_eq!(pods.relabel_configs[3].action, Action::LabelMap);
    assert_eq!(pods.relabel_configs[2].replacement, "$1:$2");
}

#[test]
fn seed003_kube_prometheus_loads() {
    let c = load(include_str!("testdata/seed003_kube_prometheus.yml"));
    let sm = &c.scrape_configs[0];
    assert_eq!(sm.job_name, "serviceMonitor/finance-tracker/finance-app/0");
    assert_eq!(sm.relabel_configs[4].action, Action::HashMod);
    assert_eq!(sm.relabel_configs[4].modulus, 1);
    let node = c.scrape_config("node-exporter").unwrap();
    let auth = node.http.effective_authorization().unwrap();
    assert_eq!(auth.kind, "Bearer");
    assert_eq!(
        auth.credentials_file.as_deref(),
        Some("/var/run/secrets/kubernetes.io/serviceaccount/token")
    );
    assert_eq!(
        node.static_configs[0]
            .labels
            .get("team")
            .map(String::as_str),
        Some("finance")
    );
    assert_eq!(node.metric_relabel_configs[0].action, Action::Drop);
    // Both kubernetes_sd_configs (the job's, the Alertmanagers') are
    // implemented (issue 17): no warning.
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(
        c.alerting.alertmanagers[0].kubernetes_sd_configs[0]
            .namespaces
            .names,
        ["monitoring"]
    );
    let k = &sm.kubernetes_sd_configs[0];
    assert_eq!(k.namespaces.names, ["finance-tracker"]);
    assert_eq!(k.kubeconfig_file, None);
    let am = &c.alerting.alertmanagers[0];
    assert_eq!(am.timeout, secs(10));
    assert_eq!(am.relabel_configs[0].action, Action::Keep);
    assert_eq!(
        c.alerting.alert_relabel_configs[0].action,
        Action::LabelDrop
    );
}

#[test]
fn alerting_defaults_and_refusals() {
    let c = load("alerting:\n  alertmanagers:\n    - static_configs: [{targets: ['a:9093']}]\n");
    let am = &c.alerting.alertmanagers[0];
    // Prometheus's defaults: http, path prefix "/", 10s, API v2.
    assert_eq!(
        (
            am.scheme.as_str(),
            am.path_prefix.as_str(),
            am.timeout,
            am.api_version.as_str()
        ),
        ("http", "/", secs(10), "v2")
    );
    let err = load_str(
        "alerting:\n  alertmanagers:\n    - api_version: v3\n",
        "p.yml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("p.yml:3") && err.contains("must be v1 or v2"),
        "{err}"
    );
    let err = load_str("alerting:\n  alertmanagers:\n    - timout: 1s\n", "p.yml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("timout"), "{err}");
}

#[test]
fn every_section_prometheus_has_is_accepted() {
    let c = load(
        r#"
global:
  scrape_interval: 30s
  query_log_file: /tmp/q.log
rule_files: ["a/*.yml"]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["am:9093"]}]
remote_write:
  - url: http://remote/api/v1/write
    queue_config: {max_samples_per_send: 500}
remote_read:
  - url: http://remote/api/v1/read
storage:
  tsdb:
    out_of_order_time_window: 10m
  exemplars:
    max_exemplars: 5000
tracing:
  endpoint: localhost:4317
scrape_configs:
  - job_name: full
    scrape_interval: 1m30s
    scrape_timeout: 500ms
    metrics_path: /custom
    scheme: https
    params: {module: [http_2xx]}
    honor_labels: true
    honor_timestamps: false
    file_sd_configs:
      - files: ["targets/*.json", "more.yml"]
        refresh_interval: 1m
    sample_limit: 1000
    target_limit: 10
    label_limit: 30
    label_name_length_limit: 100
    label_value_length_limit: 200
    body_size_limit: 10MB
    basic_auth: {username: u, password_file: /secret}
    tls_config:
      ca_file: ca.pem
      cert_file: c.pem
      key_file: k.pem
      server_name: example
      insecure_skip_verify: true
      min_version: TLS12
    proxy_url: http://proxy:3128
    follow_redirects: false
    enable_http2: false
    consul_sd_configs: [{server: "consul:8500"}]
    dns_sd_configs: [{names: ["_x._tcp.example"]}]
    ec2_sd_configs: [{region: eu-west-1}]
"#,
    );
    assert_eq!(c.remote_write.len(), 1);
    assert_eq!(c.remote_read.len(), 1);
    assert!(c.storage.is_some() && c.tracing.is_some());
    assert_eq!(c.max_exemplars(), 5000);
    assert_eq!(c.global.query_log_file.as_deref(), Some("/tmp/q.log"));
    let j = &c.scrape_configs[0];
    assert_eq!(j.scrape_interval, Duration::from_millis(90_000));
    assert_eq!(j.scrape_timeout, Duration::from_millis(500));
    assert_eq!(j.params["module"], ["http_2xx"]);
    assert!(j.honor_labels && !j.honor_timestamps);
    assert_eq!(j.file_sd_configs[0].refresh_interval, secs(60));
    assert_eq!(j.body_size_limit, ByteSize(10 << 20));
    assert_eq!(j.label_value_length_limit, 200);
    assert_eq!(
        j.http.basic_auth.as_ref().unwrap().password_file.as_deref(),
        Some("/secret")
    );
    assert_eq!(j.http.tls_config.min_version.as_deref(), Some("TLS12"));
    assert!(!j.http.follow_redirects && !j.http.enable_http2);
    assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
}

#[test]
fn what_prometheus_accepts_loads() {
    // Prometheus 2.42 (promtool check config) accepts an unknown scheme; the
    // target then fails to scrape.
    load("scrape_configs:\n  - job_name: a\n    scheme: ftp\n");
    // Action names are case-insensitive.
    let c = load("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {regex: x, target_label: y, action: Replace}\n");
    assert_eq!(
        c.scrape_configs[0].relabel_configs[0].action,
        Action::Replace
    );
}

#[test]
fn relative_paths_resolve_against_the_config_directory() {
    let c = load_str(
        "rule_files: [r.yml]\nscrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: [t/*.json]}]\n    bearer_token_file: tok\n",
        "/etc/sightline/prometheus.yml",
    )
    .unwrap();
    assert_eq!(c.rule_files, ["/etc/sightline/r.yml"]);
    let j = &c.scrape_configs[0];
    assert_eq!(j.file_sd_configs[0].files, ["/etc/sightline/t/*.json"]);
    assert_eq!(
        j.http.bearer_token_file.as_deref(),
        Some("/etc/sightline/tok")
    );
}

#[test]
fn bad_duration_names_file_line_column_and_field() {
    let text = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n    scrape_interval: 5x\n";
    let e = load_err(text);
    assert!(e.starts_with("prometheus.yml:5:"), "{e}");
    assert!(e.contains("scrape_configs[0].scrape_interval: "), "{e}");
    assert!(e.contains("not a valid duration string: \"5x\""), "{e}");
}

#[test]
fn unknown_fields_are_refused_with_their_location() {
    let e = load_err("scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n");
    assert!(
        e.starts_with("prometheus.yml:3:5: scrape_configs[0].scrape_intervall: unknown field \"scrape_intervall\""),
        "{e}"
    );
    assert!(e.contains("scrape_intervall"), "{e}");
    let e = load_err("globl:\n  scrape_interval: 5s\n");
    assert!(e.starts_with("prometheus.yml:1:"), "{e}");
    assert!(e.contains("globl"), "{e}");
    let e = load_err("global:\n  scrape_interval: 5s\n  foo: 1\n");
    assert!(e.starts_with("prometheus.yml:3:"), "{e}");
    assert!(e.contains("global.foo") || e.contains("foo"), "{e}");
    let e = load_err("scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [x:1]\n        lables: {a: b}\n");
    assert!(e.starts_with("prometheus.yml:5:"), "{e}");
    assert!(e.contains("lables"), "{e}");
}

#[test]
fn validation_errors_point_at_the_field() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n",
            "prometheus.yml:4:5: scrape_configs[0].scrape_timeout: ",
            "scrape timeout greater than scrape interval for scrape config with job name \"a\"",
        ),
        (
            "global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n",
            "prometheus.yml:3:3: global.scrape_timeout: ",
            "global scrape timeout greater than scrape interval",
        ),
        (
            "scrape_configs:\n  - job_name: a\n  - job_name: a\n",
            "prometheus.yml:3:5: scrape_configs[1].job_name: ",
            "found multiple scrape configs with job name \"a\"",
        ),
        (
            "scrape_configs:\n  - job_name: ''\n",
            "prometheus.yml:2:5: scrape_configs[0].job_name: ",
            "job_name is empty",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://x:80/metrics']\n",
            "prometheus.yml:4:19: scrape_configs[0].static_configs[0].targets[0]: ",
            "\"http://x:80/metrics\" is not a valid hostname",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [targets.txt]\n",
            "prometheus.yml:4:17: scrape_configs[0].file_sd_configs[0].files[0]: ",
            "path name \"targets.txt\" is not valid for file discovery",
        ),
        (
            "global:\n  external_labels:\n    'bad-name': x\n",
            "prometheus.yml:3:5: global.external_labels.bad-name: ",
            "\"bad-name\" is not a valid label name",
        ),
    ];
    for (text, prefix, msg) in cases {
        let e = load_err(text);
        assert!(e.starts_with(prefix), "{e:?} should start with {prefix:?}");
        assert!(e.contains(msg), "{e:?} should contain {msg:?}");
    }
}

#[test]
fn relabel_errors_name_the_rule() {
    let e = load_err(
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        target_label: x\n",
    );
    assert!(e.starts_with("prometheus.yml:"), "{e}");
    assert!(e.contains("scrape_configs[0].relabel_configs[0]"), "{e}");
    assert!(e.contains("requires non-zero modulus"), "{e}");
}

#[test]
fn http_client_conflicts_are_refused() {
    let e = load_err(
        "scrape_configs:\n  - job_name: a\n    bearer_token: x\n    basic_auth: {username: u}\n",
    );
    assert!(
        e.contains("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"),
        "{e}"
    );
    let e = load_err(
        "scrape_configs:\n  - job_name: a\n    bearer_token: x\n    authorization: {credentials: y}\n",
    );
    assert!(
        e.contains("authorization is not compatible with bearer_token"),
        "{e}"
    );
    let e = load_err(
        "scrape_configs:\n  - job_name: a\n    authorization: {type: Basic, credentials: x}\n",
    );
    assert!(e.contains("use \"basic_auth\" instead"), "{e}");
    let e = load_err("scrape_configs:\n  - job_name: a\n    tls_config: {min_version: TLS9}\n");
    assert!(e.contains("unknown TLS version: TLS9"), "{e}");
}

#[test]
fn type_errors_name_the_field() {
    let e = load_err("scrape_configs:\n  - job_name: a\n    sample_limit: lots\n");
    assert!(e.starts_with("prometheus.yml:3:"), "{e}");
    assert!(e.contains("scrape_configs[0].sample_limit"), "{e}");
    let e = load_err("scrape_configs:\n  - scrape_interval: 5s\n");
    assert!(e.contains("job_name"), "{e}");
}

#[test]
fn load_file_names_the_path() {
    let dir = std::env::temp_dir().join(format!("sightline-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("prometheus.yml");
    std::fs::write(
        &path,
        "scrape_configs:\n  - job_name: a\n    scrape_timeout: 1q\n",
    )
    .unwrap();
    let e = load_file(&path).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}:3:", path.display())), "{e}");
    let e = load_file(dir.join("missing.yml")).unwrap_err().to_string();
    assert!(e.contains("missing.yml: cannot read"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn storage_exemplars_follow_prometheus() {
    // issue 12: the exemplar buffer's size comes from the config file.
    assert_eq!(load("").max_exemplars(), 100_000);
    assert_eq!(load("storage: {tsdb: {}}\n").max_exemplars(), 100_000);
    assert_eq!(
        load("storage: {exemplars: {max_exemplars: -1}}\n").max_exemplars(),
        0
    );
    let e = load_err("storage: {exemplars: {max: 1}}\n");
    assert!(e.contains("max"), "{e}");
}
