//! Promtail's configuration file, read as Promtail reads it: `server`,
//! `positions`, `clients`, `scrape_configs`, `limits_config` and
//! `target_config`. Keys Promtail has but the tailer does not implement
//! (`docker_sd_configs`, `journal`, `windows_events`, ...) are refused
//! by name with "not supported"; keys Promtail does not have are refused
//! as unknown, both with file, line and column
//! ([`sightline_config::yaml::from_str`]).

use super::stages::StageConfig;
use crate::relabel::RelabelConfig;
use serde::{de, Deserialize, Deserializer};
use sightline_core::duration::{parse_either, Syntax};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A whole Promtail configuration file (what `sightline agent` reads).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromtailConfig {
    /// Promtail's own HTTP server: the agent serves `/metrics` and `/ready`
    /// on `http_listen_port`; the other keys are accepted and unused.
    #[serde(default)]
    pub server: ServerConfig,
    /// Where read offsets are kept.
    #[serde(default)]
    pub positions: PositionsConfig,
    /// Where the agent ships lines.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// Promtail's deprecated single `client`: one more entry of `clients`.
    #[serde(default)]
    pub client: Option<ClientConfig>,
    /// What to tail.
    #[serde(default)]
    pub scrape_configs: Vec<ScrapeConfig>,
    /// Promtail's push rate limits: accepted, not enforced (the receiving
    /// server enforces its own).
    #[serde(default)]
    pub limits_config: Option<de::IgnoredAny>,
    /// How often `__path__` globs are expanded again.
    #[serde(default)]
    pub target_config: TargetConfig,
    /// Promtail's `options` (stream lag labels): accepted, unused.
    #[serde(default)]
    pub options: Option<de::IgnoredAny>,
    /// Promtail's tracing setup: accepted, unused.
    #[serde(default)]
    pub tracing: Option<de::IgnoredAny>,
    /// Promtail's global settings (file watch intervals): accepted, unused
    /// (the tailer polls every 250 ms).
    #[serde(default)]
    pub global: Option<de::IgnoredAny>,
}

impl PromtailConfig {
    /// Reads a Promtail file; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> crate::Result<PromtailConfig> {
        let mut cfg: PromtailConfig = sightline_config::yaml::from_str(text, file)
            .map_err(|e| crate::Error::Config(e.to_string()))?;
        if let Some(c) = cfg.client.take() {
            cfg.clients.insert(0, c);
        }
        Ok(cfg)
    }
}

/// Promtail's `server` block. Only the listen address and port are used.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerConfig {
    /// The agent's HTTP port (Promtail: 9080; 0 picks a free port).
    #[serde(default = "default_http_port")]
    pub http_listen_port: u16,
    /// The agent's HTTP address (default: every interface, as Promtail).
    #[serde(default)]
    pub http_listen_address: Option<String>,
    /// Promtail's other server keys (gRPC, log level, TLS...): accepted so
    /// Promtail files load unchanged, unused.
    #[serde(flatten)]
    pub other: BTreeMap<String, de::IgnoredAny>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            http_listen_port: default_http_port(),
            http_listen_address: None,
            other: BTreeMap::new(),
        }
    }
}

fn default_http_port() -> u16 {
    9080
}

/// `positions:`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionsConfig {
    /// The positions file (Promtail: /var/log/positions.yaml; `serve`:
    /// `<data-dir>/logs/positions.yaml`).
    #[serde(default)]
    pub filename: Option<PathBuf>,
    /// How often acknowledged offsets are written (Promtail: 10s).
    #[serde(default = "default_sync_period", deserialize_with = "go_duration")]
    pub sync_period: Duration,
    /// Promtail: do not update the file. Accepted and honoured.
    #[serde(default)]
    pub ignore_invalid_yaml: bool,
}

impl Default for PositionsConfig {
    fn default() -> Self {
        PositionsConfig {
            filename: None,
            sync_period: default_sync_period(),
            ignore_invalid_yaml: false,
        }
    }
}

fn default_sync_period() -> Duration {
    Duration::from_secs(10)
}

/// `target_config:`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// How often globs are expanded again (Promtail: 10s).
    #[serde(default = "default_sync_period", deserialize_with = "go_duration")]
    pub sync_period: Duration,
    /// Promtail's stdin mode: not supported.
    #[serde(default)]
    pub stdin: Option<Unsupported>,
}

impl Default for TargetConfig {
    fn default() -> Self {
        TargetConfig {
            sync_period: default_sync_period(),
            stdin: None,
        }
    }
}

/// One `clients[]` entry: a Loki (or Sightline) push endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// `http://host:3100/loki/api/v1/push`.
    pub url: String,
    /// `X-Scope-OrgID` of every push (unless a `tenant` stage sets one).
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    #[serde(default)]
    pub bearer_token: Option<String>,
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    /// Labels added to every stream sent to this client.
    #[serde(default)]
    pub external_labels: BTreeMap<String, String>,
    /// Longest a line waits before its batch is sent (Promtail: 1s).
    #[serde(default = "default_batchwait", deserialize_with = "go_duration")]
    pub batchwait: Duration,
    /// Bytes of lines that make a batch full (Promtail: 1 MiB).
    #[serde(default = "default_batchsize")]
    pub batchsize: usize,
    /// One push's timeout (Promtail: 10s).
    #[serde(default = "default_timeout", deserialize_with = "go_duration")]
    pub timeout: Duration,
    #[serde(default)]
    pub backoff_config: BackoffConfig,
    /// Accepted, unused: the store's own limits apply.
    #[serde(default)]
    pub drop_rate_limited_batches: bool,
    /// TLS, proxy and the other HTTP client keys of Promtail are not
    /// supported yet.
    #[serde(default)]
    pub tls_config: Option<Unsupported>,
    #[serde(default)]
    pub proxy_url: Option<Unsupported>,
    #[serde(default)]
    pub oauth2: Option<Unsupported>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn default_batchwait() -> Duration {
    Duration::from_secs(1)
}
fn default_batchsize() -> usize {
    1 << 20
}
fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

/// `basic_auth:` of a client.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

/// `backoff_config:` of a client.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackoffConfig {
    /// First wait (Promtail: 500ms).
    #[serde(default = "default_min_period", deserialize_with = "go_duration")]
    pub min_period: Duration,
    /// Longest wait (Promtail: 5m).
    #[serde(default = "default_max_period", deserialize_with = "go_duration")]
    pub max_period: Duration,
    /// Retries before a warning is logged (Promtail: 10, after which it
    /// drops the batch; we keep retrying at `max_period`, see
    /// docs/logs-tail.md).
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            min_period: default_min_period(),
            max_period: default_max_period(),
            max_retries: default_max_retries(),
        }
    }
}

fn default_min_period() -> Duration {
    Duration::from_millis(500)
}
fn default_max_period() -> Duration {
    Duration::from_secs(300)
}
fn default_max_retries() -> u32 {
    10
}

/// One `scrape_configs[]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeConfig {
    pub job_name: String,
    #[serde(default)]
    pub static_configs: Vec<StaticConfig>,
    #[serde(default)]
    pub relabel_configs: Vec<RelabelConfig>,
    #[serde(default)]
    pub pipeline_stages: Vec<StageConfig>,
    // Promtail's other target kinds: refused by name.
    #[serde(default)]
    pub file_sd_configs: Option<Unsupported>,
    /// Pods (or other objects) from the Kubernetes API; `__path__` comes
    /// from relabeling their `__meta_kubernetes_*` labels, as in
    /// Promtail's stock Kubernetes config.
    #[serde(default, deserialize_with = "crate::config::null_default")]
    pub kubernetes_sd_configs: Vec<crate::discovery::kubernetes::KubernetesSdConfig>,
    #[serde(default)]
    pub consul_sd_configs: Option<Unsupported>,
    #[serde(default)]
    pub consulagent_sd_configs: Option<Unsupported>,
    #[serde(default)]
    pub docker_sd_configs: Option<Unsupported>,
    #[serde(default)]
    pub journal: Option<Unsupported>,
    /// Syslog is `logs.syslog` in `serve` (docs/logs-ingest.md).
    #[serde(default)]
    pub syslog: Option<Unsupported>,
    #[serde(default)]
    pub loki_push_api: Option<Unsupported>,
    #[serde(default)]
    pub windows_events: Option<Unsupported>,
    #[serde(default)]
    pub gcplog: Option<Unsupported>,
    #[serde(default)]
    pub gelf: Option<Unsupported>,
    #[serde(default)]
    pub cloudflare: Option<Unsupported>,
    #[serde(default)]
    pub heroku_drain: Option<Unsupported>,
    #[serde(default)]
    pub kafka: Option<Unsupported>,
    #[serde(default)]
    pub azure_event_hubs: Option<Unsupported>,
    #[serde(default)]
    pub encoding: Option<Unsupported>,
    #[serde(default)]
    pub decompression: Option<Unsupported>,
}

/// One `static_configs[]` entry: Promtail reads `targets` and ignores
/// them (files come from `labels.__path__`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// A key Promtail has and the tailer does not implement: reading it fails
/// with "not supported" at the key's line.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsupported;

impl<'de> Deserialize<'de> for Unsupported {
    fn deserialize<D: Deserializer<'de>>(_d: D) -> Result<Self, D::Error> {
        Err(de::Error::custom(
            "is a Promtail key that Sightline's tailer does not support",
        ))
    }
}

/// A Go `time.Duration` field (`500ms`, `1m30s`); Prometheus's `1d` is
/// accepted too.
pub fn go_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = Duration;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as 10s or 500ms")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            parse_either(v, Syntax::Go).map_err(|e| E::custom(e.message()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
            // A bare number is nanoseconds, as Go's yaml decoder reads it.
            Ok(Duration::from_nanos(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
            u64::try_from(v)
                .map(Duration::from_nanos)
                .map_err(|_| E::custom("a duration cannot be negative"))
        }
    }
    d.deserialize_any(V)
}

/// An optional Go duration.
pub fn opt_go_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    go_duration(d).map(Some)
}
