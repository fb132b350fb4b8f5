//! Sending rule alerts to Alertmanagers: the push half of Prometheus's
//! notifier. Alerts wait in a bounded queue (the oldest are dropped when it
//! is full, as in Prometheus), go out in batches of at most 64 to every
//! Alertmanager of `alerting.alertmanagers` through API v2, and are not
//! retried: the rule manager sends firing alerts again every resend delay,
//! which is how Prometheus recovers from a failed send too.

use crate::config::{AlertingConfig, AlertmanagerConfig};
use crate::discovery::{kubernetes, FileDiscovery, TargetGroup, ADDRESS_LABEL};
use crate::relabel::{self, RelabelConfig};
use crate::scrape::HttpClient;
use sightline_core::{time, Labels};
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Prometheus's `--alertmanager.notification-queue-capacity` default.
pub const DEFAULT_QUEUE_CAPACITY: usize = 10_000;
/// Prometheus's batch size per request.
const MAX_BATCH: usize = 64;

const SCHEME_LABEL: &str = "__scheme__";
const ALERTS_PATH_LABEL: &str = "__alerts_path__";

/// An alert on its way out (API v2 `postableAlert`). Times are ms since the epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct PostableAlert {
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub generator_url: String,
}

/// Counters for `/metrics`, named after Prometheus's `prometheus_notifications_*`.
#[derive(Debug, Default)]
pub struct SenderMetrics {
    /// Alerts sent, summed over Alertmanagers.
    pub sent: AtomicU64,
    /// Alerts whose send to one Alertmanager failed, summed over Alertmanagers.
    pub errors: AtomicU64,
    /// Alerts dropped: queue full, or no Alertmanager took them.
    pub dropped: AtomicU64,
}

/// An `alerting` section [`AlertSender::prepare`] checked: its clients
/// are built, so putting it in force cannot fail.
pub struct PreparedAlerting {
    sets: Vec<AlertmanagerSet>,
    relabel: Arc<Vec<RelabelConfig>>,
}

/// One Alertmanager set (an `alertmanagers` entry): its client and discovery.
struct AlertmanagerSet {
    cfg: AlertmanagerConfig,
    client: HttpClient,
    files: Vec<FileDiscovery>,
    /// One per `kubernetes_sd_configs` entry.
    k8s: Vec<tokio::sync::watch::Receiver<kubernetes::KubernetesState>>,
    /// Stops the Kubernetes discovery when a reload replaces the set.
    _k8s_stop: tokio_util::sync::DropGuard,
}

impl AlertmanagerSet {
    /// The alerts URLs of the set's Alertmanagers after relabeling.
    fn urls(&mut self) -> Vec<String> {
        let mut groups: Vec<TargetGroup> = self
            .cfg
            .static_configs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                TargetGroup::from_addresses(
                    format!("static/{i}"),
                    s.targets.iter().map(String::as_str),
                    Labels::from_pairs(s.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                )
            })
            .collect();
        for f in &mut self.files {
            if f.due() || f.changed() {
                f.refresh();
            }
            groups.extend(f.groups());
        }
        for rx in &self.k8s {
            groups.extend(rx.borrow().groups.iter().cloned());
        }
        let path = alerts_path(&self.cfg.path_prefix);
        let mut urls = Vec::new();
        for g in groups {
            for t in &g.targets {
                let mut lb = g.labels.to_builder();
                for l in t {
                    lb.set(l.name.clone(), l.value.clone());
                }
                lb.set(SCHEME_LABEL, self.cfg.scheme.clone());
                lb.set(ALERTS_PATH_LABEL, path.clone());
                if !relabel::process(&self.cfg.relabel_configs, &mut lb) {
                    continue;
                }
                let ls = lb.into_labels();
                let (Some(addr), Some(scheme), Some(p)) = (
                    ls.get(ADDRESS_LABEL),
                    ls.get(SCHEME_LABEL),
                    ls.get(ALERTS_PATH_LABEL),
                ) else {
                    continue;
                };
                urls.push(format!("{scheme}://{addr}{p}"));
            }
        }
        urls
    }
}

/// `path_prefix` joined with the v2 alerts path, without doubled slashes.
fn alerts_path(prefix: &str) -> String {
    format!("{}/api/v2/alerts", prefix.trim_end_matches('/'))
}

/// The queue and the Alertmanagers it drains into. Cheap to share.
pub struct AlertSender {
    queue: Mutex<VecDeque<PostableAlert>>,
    capacity: usize,
    wake: tokio::sync::Notify,
    relabel: Mutex<Arc<Vec<RelabelConfig>>>,
    sets: Mutex<Vec<AlertmanagerSet>>,
    last_urls: Mutex<Vec<String>>,
    /// Counters for self-telemetry.
    pub metrics: SenderMetrics,
}

impl AlertSender {
    /// A sender with a queue of `capacity` alerts and no Alertmanagers yet.
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(AlertSender {
            queue: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            wake: tokio::sync::Notify::new(),
            relabel: Mutex::new(Arc::new(Vec::new())),
            sets: Mutex::new(Vec::new()),
            last_urls: Mutex::new(Vec::new()),
            metrics: SenderMetrics::default(),
        })
    }

    /// Starts sending under `ctx.cancel` and registers the
    /// `sightline_notifications_*` report.
    pub fn start(
        self: &Arc<Self>,
        ctx: &sightline_core::lifecycle::StartContext,
    ) -> Box<dyn sightline_core::lifecycle::Running> {
        ctx.telemetry.register(self.clone());
        Box::new(sightline_core::lifecycle::Task::spawn(
            "alert sender",
            self.clone().run(ctx.cancel.clone()),
        ))
    }

    /// Takes the `alerting` section (at start and on every reload). Fails,
    /// keeping the old settings, when an Alertmanager's client cannot be
    /// built (unreadable TLS files, say).
    pub fn apply_config(&self, cfg: &AlertingConfig) -> Result<(), String> {
        self.apply_prepared(Self::prepare(cfg)?);
        Ok(())
    }

    /// Checks the `alerting` section without applying it: builds every
    /// Alertmanager's client, so that [`AlertSender::apply_prepared`]
    /// cannot fail.
    pub fn prepare(cfg: &AlertingConfig) -> Result<PreparedAlerting, String> {
        let mut sets = Vec::new();
        for (i, am) in cfg.alertmanagers.iter().enumerate() {
            let client = HttpClient::with_settings(
                &am.http,
                &format!("alerting.alertmanagers[{i}]"),
                false,
            )?;
            let stop = tokio_util::sync::CancellationToken::new();
            let mut k8s = Vec::new();
            for (j, k) in am.kubernetes_sd_configs.iter().enumerate() {
                let owner = format!("alerting.alertmanagers[{i}].kubernetes_sd_configs[{j}]");
                // Discovery runs as tasks: serve prepares the section
                // inside its runtime.
                let rt = tokio::runtime::Handle::try_current()
                    .map_err(|_| format!("{owner}: needs a tokio runtime"))?;
                let _guard = rt.enter();
                k8s.push(kubernetes::start(
                    k,
                    &kubernetes::InCluster::from_env(),
                    &owner,
                    stop.clone(),
                    Arc::new(tokio::sync::Notify::new()),
                )?);
            }
            sets.push(AlertmanagerSet {
                files: am.file_sd_configs.iter().map(FileDiscovery::new).collect(),
                cfg: am.clone(),
                client,
                k8s,
                _k8s_stop: stop.drop_guard(),
            });
        }
        Ok(PreparedAlerting {
            sets,
            relabel: Arc::new(cfg.alert_relabel_configs.clone()),
        })
    }

    /// Puts a section [`AlertSender::prepare`] checked in force.
    pub fn apply_prepared(&self, prepared: PreparedAlerting) {
        *self.sets.lock().unwrap_or_else(|e| e.into_inner()) = prepared.sets;
        *self.relabel.lock().unwrap_or_else(|e| e.into_inner()) = prepared.relabel;
    }

    /// Queues alerts for sending after `alert_relabel_configs`; when the
    /// queue overflows the oldest alerts go (counted as dropped).
    pub fn send(&self, alerts: Vec<PostableAlert>) {
        let relabel = self
            .relabel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        for mut a in alerts {
            if !relabel.is_empty() {
                match relabel::process_labels(&relabel, &a.labels) {
                    Some(l) => a.labels = l,
                    None => continue,
                }
            }
            q.push_back(a);
        }
        while q.len() > self.capacity {
            q.pop_front();
            self.metrics.dropped.fetch_add(1, Ordering::Relaxed);
        }
        drop(q);
        self.wake.notify_one();
    }

    /// Alerts waiting to be sent.
    pub fn queue_length(&self) -> usize {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The alerts URLs used by the last send (for `/api/v1/alertmanagers`).
    pub fn active_alertmanagers(&self) -> Vec<String> {
        self.last_urls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Drains the queue until `cancel` fires.
    pub async fn run(self: Arc<Self>, cancel: tokio_util::sync::CancellationToken) {
        loop {
            let batch: Vec<PostableAlert> = {
                let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                let n = q.len().min(MAX_BATCH);
                q.drain(..n).collect()
            };
            if batch.is_empty() {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = self.wake.notified() => continue,
                    // Refresh the Alertmanager list now and then, so that
                    // `/api/v1/alertmanagers` is right before the first alert.
                    _ = tokio::time::sleep(Duration::from_secs(30)) => {
                        let urls = self
                            .sets
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .iter_mut()
                            .flat_map(|set| set.urls())
                            .collect();
                        *self.last_urls.lock().unwrap_or_else(|e| e.into_inner()) = urls;
                        continue;
                    }
                }
            }
            self.send_batch(&batch).await;
        }
    }

    /// Posts one batch to every Alertmanager at once.
    async fn send_batch(&self, batch: &[PostableAlert]) {
        let body = encode_alerts(batch);
        let targets: Vec<(String, HttpClient, Duration)> = {
            let mut sets = self.sets.lock().unwrap_or_else(|e| e.into_inner());
            let mut targets = Vec::new();
            for set in sets.iter_mut() {
                for url in set.urls() {
                    targets.push((url, set.client.clone(), set.cfg.timeout.std()));
                }
            }
            targets
        };
        *self.last_urls.lock().unwrap_or_else(|e| e.into_inner()) =
            targets.iter().map(|t| t.0.clone()).collect();
        if targets.is_empty() {
            self.metrics
                .dropped
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            return;
        }
        // Each Alertmanager gets its own task, so one that hangs until its
        // timeout does not hold up the others.
        let count = batch.len();
        let handles: Vec<_> = targets
            .into_iter()
            .map(|(url, client, timeout)| {
                let body = body.clone();
                tokio::spawn(async move {
                    let r = client.post_json(&url, body, timeout).await;
                    if let Err(e) = &r {
                        tracing::warn!(alertmanager = %url, count, "error sending alerts: {e}");
                    }
                    r.is_ok()
                })
            })
            .collect();
        let mut results = Vec::with_capacity(handles.len());
        for h in handles {
            results.push(h.await.unwrap_or(false));
        }
        let ok = results.iter().filter(|r| **r).count() as u64;
        let n = batch.len() as u64;
        self.metrics.sent.fetch_add(n * ok, Ordering::Relaxed);
        self.metrics
            .errors
            .fetch_add(n * (results.len() as u64 - ok), Ordering::Relaxed);
        if ok == 0 {
            self.metrics.dropped.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// The API v2 JSON body: a list of `postableAlert`s.
pub fn encode_alerts(alerts: &[PostableAlert]) -> Vec<u8> {
    let mut s = String::with_capacity(alerts.len() * 256);
    s.push('[');
    for (i, a) in alerts.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let labels: BTreeMap<&str, &str> = a
            .labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        let _ = write!(
            s,
            "{{\"labels\":{},\"annotations\":{},\"startsAt\":\"{}\",\"endsAt\":\"{}\",\"generatorURL\":{}}}",
            serde_json::to_string(&labels).unwrap_or_default(),
            serde_json::to_string(&a.annotations).unwrap_or_default(),
            rfc3339_ms(a.starts_at),
            rfc3339_ms(a.ends_at),
            serde_json::to_string(&a.generator_url).unwrap_or_default(),
        );
    }
    s.push(']');
    s.into_bytes()
}

/// Milliseconds since the epoch as RFC 3339 in UTC with milliseconds, as
/// Prometheus's notifier sends them (go-openapi's `strfmt.DateTime`).
fn rfc3339_ms(ms: i64) -> String {
    time::rfc3339_millis(&time::from_ms(ms).unwrap_or_default())
}

/// `sightline_notifications_*`, named after Prometheus's
/// `prometheus_notifications_*`.
impl sightline_core::telemetry::Telemetry for AlertSender {
    fn report(&self, out: &mut sightline_core::telemetry::Report) {
        let m = &self.metrics;
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64;
        out.counter(
            "sightline_notifications_sent",
            "Alerts sent to Alertmanagers (summed over Alertmanagers).",
            load(&m.sent),
        );
        out.counter(
            "sightline_notifications_errors",
            "Alerts whose sending to an Alertmanager failed.",
            load(&m.errors),
        );
        out.counter(
            "sightline_notifications_dropped",
            "Alerts dropped: queue full, or no Alertmanager accepted them.",
            load(&m.dropped),
        );
        out.gauge(
            "sightline_notifications_queue_length",
            "Alerts waiting to be sent.",
            self.queue_length() as f64,
        );
        out.gauge(
            "sightline_notifications_queue_capacity",
            "Capacity of the alert queue.",
            self.capacity as f64,
        );
        out.gauge(
            "sightline_notifications_alertmanagers_discovered",
            "Alertmanagers alerts are sent to.",
            self.active_alertmanagers().len() as f64,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn alert(name: &str) -> PostableAlert {
        PostableAlert {
            labels: Labels::from_pairs([("alertname", name), ("severity", "page")]),
            annotations: BTreeMap::from([("summary".to_owned(), "a \"quoted\" one".to_owned())]),
            starts_at: 1_700_000_000_123,
            ends_at: 1_700_000_240_000,
            generator_url: "http://x/graph?g0.expr=up".into(),
        }
    }

    #[test]
    fn body_is_api_v2_postable_alerts() {
        let body = String::from_utf8(encode_alerts(&[alert("A")])).unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        // 1_700_000_000_123 ms is 2023-11-14T22:13:20.123Z (by `date -u -d @1700000000`).
        assert_eq!(v[0]["startsAt"], "2023-11-14T22:13:20.123Z");
        assert_eq!(v[0]["endsAt"], "2023-11-14T22:17:20.000Z");
        assert_eq!(v[0]["labels"]["alertname"], "A");
        assert_eq!(v[0]["annotations"]["summary"], "a \"quoted\" one");
        assert_eq!(v[0]["generatorURL"], "http://x/graph?g0.expr=up");
    }

    #[test]
    fn alerts_path_joins_the_prefix() {
        assert_eq!(alerts_path("/"), "/api/v2/alerts");
        assert_eq!(alerts_path("/am/"), "/am/api/v2/alerts");
        assert_eq!(alerts_path(""), "/api/v2/alerts");
    }

    #[tokio::test]
    async fn overflow_drops_the_oldest_and_relabel_can_drop() {
        let s = AlertSender::new(2);
        let cfg = load_str(
            "alerting:\n  alert_relabel_configs:\n    - source_labels: [alertname]\n      regex: Dropped\n      action: drop\n",
            "p.yml",
        )
        .unwrap();
        s.apply_config(&cfg.alerting).unwrap();
        s.send(vec![alert("A"), alert("Dropped"), alert("B"), alert("C")]);
        assert_eq!(s.queue_length(), 2);
        assert_eq!(s.metrics.dropped.load(Ordering::Relaxed), 1);
        let q = s.queue.lock().unwrap();
        assert_eq!(q[0].labels.get("alertname"), Some("B"));
        assert_eq!(q[1].labels.get("alertname"), Some("C"));
    }

    /// A one-shot HTTP server that answers 200 and hands back the request.
    async fn capture_one() -> (String, tokio::task::JoinHandle<String>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let h = tokio::spawn(async move {
            let (mut c, _) = l.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut tmp = [0u8; 4096];
            loop {
                let n = c.read(&mut tmp).await.unwrap();
                buf.extend_from_slice(&tmp[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            c.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
            String::from_utf8(buf).unwrap()
        });
        (addr, h)
    }

    /// kube-prometheus-stack's Alertmanager discovery: role endpoints in
    /// one namespace, kept by service name and port name (issue 17).
    #[tokio::test]
    async fn alertmanagers_found_through_kubernetes_endpoints() {
        use crate::discovery::kubernetes::tests::fake::FakeApi;
        let api = FakeApi::start(None).await;
        api.put(
            "/api/v1/namespaces/monitoring/endpoints",
            serde_json::json!({
                "metadata": {"name": "alertmanager-operated", "namespace": "monitoring"},
                "subsets": [{"addresses": [{"ip": "10.0.0.20"}, {"ip": "10.0.0.21"}],
                    "ports": [{"name": "http-web", "port": 9093, "protocol": "TCP"},
                              {"name": "mesh", "port": 9094, "protocol": "TCP"}]}]
            }),
        );
        let cfg = load_str(
            &format!(
                "alerting:\n  alertmanagers:\n    - kubernetes_sd_configs:\n        - role: endpoints\n          api_server: {}\n          namespaces: {{names: [monitoring]}}\n      relabel_configs:\n        - source_labels: [__meta_kubernetes_endpoints_name]\n          regex: alertmanager-operated\n          action: keep\n        - source_labels: [__meta_kubernetes_endpoint_port_name]\n          regex: http-web\n          action: keep\n",
                api.url("http")
            ),
            "p.yml",
        )
        .unwrap();
        let mut prepared = AlertSender::prepare(&cfg.alerting).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let urls = prepared.sets[0].urls();
            if !urls.is_empty() {
                assert_eq!(
                    urls,
                    [
                        "http://10.0.0.20:9093/api/v2/alerts",
                        "http://10.0.0.21:9093/api/v2/alerts"
                    ]
                );
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no Alertmanager found"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn posts_to_the_relabeled_alertmanager_url() {
        let (addr, req) = capture_one().await;
        let cfg = load_str(
            &format!(
                "alerting:\n  alertmanagers:\n    - path_prefix: /am\n      static_configs: [{{targets: ['{addr}']}}]\n      basic_auth: {{username: u, password: p}}\n"
            ),
            "p.yml",
        )
        .unwrap();
        let s = AlertSender::new(100);
        s.apply_config(&cfg.alerting).unwrap();
        let cancel = tokio_util::sync::CancellationToken::new();
        let run = tokio::spawn(s.clone().run(cancel.clone()));
        s.send(vec![alert("A")]);
        let text = tokio::time::timeout(Duration::from_secs(10), req)
            .await
            .unwrap()
            .unwrap();
        assert!(
            text.starts_with("POST /am/api/v2/alerts HTTP/1.1"),
            "{text}"
        );
        // base64("u:p") is "dTpw".
        assert!(text.contains("authorization: Basic dTpw"), "{text}");
        assert!(text.contains("\"alertname\":\"A\""), "{text}");
        cancel.cancel();
        run.await.unwrap();
        assert_eq!(
            s.active_alertmanagers(),
            [format!("http://{addr}/am/api/v2/alerts")]
        );
    }
}
