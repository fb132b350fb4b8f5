//! One `scrape_configs` entry. Its HTTP client settings are
//! `sightline_config`'s, written inline as Prometheus writes them.

use super::null_default;
use super::units::{ByteSize, Duration};
use crate::discovery::kubernetes::KubernetesSdConfig;
use crate::relabel::RelabelConfig;
use serde::Deserialize;
pub use sightline_config::http::{Authorization, BasicAuth, HttpClientConfig, TlsConfig};
use std::collections::BTreeMap;

/// One entry of `scrape_configs`. Fields left out of the file take the
/// `global` value (intervals, limits) or Prometheus's default; after loading,
/// `scrape_interval` and `scrape_timeout` always hold the effective values.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawScrapeConfig")]
pub struct ScrapeConfig {
    /// The `job` label of every target; unique across the file.
    pub job_name: String,
    /// How often to scrape; defaults to `global.scrape_interval`.
    pub scrape_interval: Duration,
    /// Per-scrape timeout; defaults to `global.scrape_timeout` capped at the interval.
    pub scrape_timeout: Duration,
    /// URL path of the metrics endpoint.
    pub metrics_path: String,
    /// `http` or `https`.
    pub scheme: String,
    /// URL query parameters, each possibly repeated.
    pub params: BTreeMap<String, Vec<String>>,
    /// Keep the scraped labels when they clash with target labels.
    pub honor_labels: bool,
    /// Keep the timestamps the target exposes.
    pub honor_timestamps: bool,
    /// Ask for gzip responses; true by default.
    pub enable_compression: bool,
    /// Fixed target groups.
    pub static_configs: Vec<StaticConfig>,
    /// Target groups read from JSON/YAML files.
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Targets discovered through the Kubernetes API.
    pub kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    /// Rules applied to targets before scraping.
    pub relabel_configs: Vec<RelabelConfig>,
    /// Rules applied to every scraped sample before storing.
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// More samples than this (after metric relabeling) fails the scrape; 0 = no limit.
    pub sample_limit: u64,
    /// More targets than this (after relabeling) fails them all; 0 = no limit.
    pub target_limit: u64,
    /// More labels per series than this fails the scrape; 0 = no limit.
    pub label_limit: u64,
    /// Longer label names than this fail the scrape; 0 = no limit.
    pub label_name_length_limit: u64,
    /// Longer label values than this fail the scrape; 0 = no limit.
    pub label_value_length_limit: u64,
    /// Larger uncompressed bodies than this fail the scrape; 0 = no limit.
    pub body_size_limit: ByteSize,
    /// How to reach the targets.
    pub http: HttpClientConfig,
    /// Discovery mechanisms Sightline does not implement, by key
    /// (`consul_sd_configs`, ...), kept so that the file loads; each is
    /// reported in [`super::PrometheusConfig::warnings`].
    pub unsupported_sd: BTreeMap<String, serde_json::Value>,
    /// Which limits the file set (the rest come from `global`).
    pub(super) limits_set: LimitsSet,
}

/// Which per-job limits were written in the file, so that `global` fills the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct LimitsSet {
    pub sample: bool,
    pub target: bool,
    pub label: bool,
    pub name_len: bool,
    pub value_len: bool,
    pub body: bool,
}

sightline_config::inline_http_client_config! {
/// The file's shape of a scrape config: Prometheus inlines the HTTP client
/// settings and lists every SD kind as its own key, so serde sees them flat.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScrapeConfig {
    job_name: String,
    #[serde(default)]
    scrape_interval: Duration,
    #[serde(default)]
    scrape_timeout: Duration,
    #[serde(default = "default_metrics_path")]
    metrics_path: String,
    #[serde(default = "default_scheme")]
    scheme: String,
    #[serde(default, deserialize_with = "null_default")]
    params: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    honor_labels: bool,
    #[serde(default = "default_true")]
    honor_timestamps: bool,
    // Newer Prometheus keys, accepted so that newer files load.
    #[serde(default)]
    track_timestamps_staleness: Option<bool>,
    #[serde(default = "default_true")]
    enable_compression: bool,
    #[serde(default)]
    scrape_classic_histograms: Option<bool>,
    #[serde(default)]
    native_histogram_bucket_limit: Option<u64>,
    #[serde(default)]
    native_histogram_min_bucket_factor: Option<f64>,
    #[serde(default)]
    scrape_protocols: Option<Vec<String>>,
    #[serde(default)]
    keep_dropped_targets: Option<u64>,
    #[serde(default, deserialize_with = "null_default")]
    static_configs: Vec<StaticConfig>,
    #[serde(default, deserialize_with = "null_default")]
    file_sd_configs: Vec<FileSdConfig>,
    #[serde(default, deserialize_with = "null_default")]
    kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    #[serde(default, deserialize_with = "null_default")]
    relabel_configs: Vec<RelabelConfig>,
    #[serde(default, deserialize_with = "null_default")]
    metric_relabel_configs: Vec<RelabelConfig>,
    sample_limit: Option<u64>,
    target_limit: Option<u64>,
    label_limit: Option<u64>,
    label_name_length_limit: Option<u64>,
    label_value_length_limit: Option<u64>,
    body_size_limit: Option<ByteSize>,
    // Discovery kinds we accept without implementing.
    azure_sd_configs: Option<serde_json::Value>,
    consul_sd_configs: Option<serde_json::Value>,
    digitalocean_sd_configs: Option<serde_json::Value>,
    docker_sd_configs: Option<serde_json::Value>,
    dockerswarm_sd_configs: Option<serde_json::Value>,
    dns_sd_configs: Option<serde_json::Value>,
    ec2_sd_configs: Option<serde_json::Value>,
    eureka_sd_configs: Option<serde_json::Value>,
    gce_sd_configs: Option<serde_json::Value>,
    hetzner_sd_configs: Option<serde_json::Value>,
    http_sd_configs: Option<serde_json::Value>,
    ionos_sd_configs: Option<serde_json::Value>,
    kuma_sd_configs: Option<serde_json::Value>,
    lightsail_sd_configs: Option<serde_json::Value>,
    linode_sd_configs: Option<serde_json::Value>,
    marathon_sd_configs: Option<serde_json::Value>,
    nerve_sd_configs: Option<serde_json::Value>,
    nomad_sd_configs: Option<serde_json::Value>,
    openstack_sd_configs: Option<serde_json::Value>,
    ovhcloud_sd_configs: Option<serde_json::Value>,
    puppetdb_sd_configs: Option<serde_json::Value>,
    scaleway_sd_configs: Option<serde_json::Value>,
    serverset_sd_configs: Option<serde_json::Value>,
    triton_sd_configs: Option<serde_json::Value>,
    uyuni_sd_configs: Option<serde_json::Value>,
    vultr_sd_configs: Option<serde_json::Value>,
}
}

impl TryFrom<RawScrapeConfig> for ScrapeConfig {
    type Error = String;

    fn try_from(r: RawScrapeConfig) -> Result<Self, String> {
        let http = r.http_client_config();
        check_http(&http)?;
        let mut unsupported_sd = BTreeMap::new();
        let sd = [
            ("azure_sd_configs", r.azure_sd_configs),
            ("consul_sd_configs", r.consul_sd_configs),
            ("digitalocean_sd_configs", r.digitalocean_sd_configs),
            ("docker_sd_configs", r.docker_sd_configs),
            ("dockerswarm_sd_configs", r.dockerswarm_sd_configs),
            ("dns_sd_configs", r.dns_sd_configs),
            ("ec2_sd_configs", r.ec2_sd_configs),
            ("eureka_sd_configs", r.eureka_sd_configs),
            ("gce_sd_configs", r.gce_sd_configs),
            ("hetzner_sd_configs", r.hetzner_sd_configs),
            ("http_sd_configs", r.http_sd_configs),
            ("ionos_sd_configs", r.ionos_sd_configs),
            ("kuma_sd_configs", r.kuma_sd_configs),
            ("lightsail_sd_configs", r.lightsail_sd_configs),
            ("linode_sd_configs", r.linode_sd_configs),
            ("marathon_sd_configs", r.marathon_sd_configs),
            ("nerve_sd_configs", r.nerve_sd_configs),
            ("nomad_sd_configs", r.nomad_sd_configs),
            ("openstack_sd_configs", r.openstack_sd_configs),
            ("ovhcloud_sd_configs", r.ovhcloud_sd_configs),
            ("puppetdb_sd_configs", r.puppetdb_sd_configs),
            ("scaleway_sd_configs", r.scaleway_sd_configs),
            ("serverset_sd_configs", r.serverset_sd_configs),
            ("triton_sd_configs", r.triton_sd_configs),
            ("uyuni_sd_configs", r.uyuni_sd_configs),
            ("vultr_sd_configs", r.vultr_sd_configs),
        ];
        for (key, value) in sd {
            if let Some(v) = value {
                unsupported_sd.insert(key.to_owned(), v);
            }
        }
        let _ = (
            r.track_timestamps_staleness,
            r.scrape_classic_histograms,
            r.native_histogram_bucket_limit,
            r.native_histogram_min_bucket_factor,
            r.scrape_protocols,
            r.keep_dropped_targets,
        );
        Ok(ScrapeConfig {
            limits_set: LimitsSet {
                sample: r.sample_limit.is_some(),
                target: r.target_limit.is_some(),
                label: r.label_limit.is_some(),
                name_len: r.label_name_length_limit.is_some(),
                value_len: r.label_value_length_limit.is_some(),
                body: r.body_size_limit.is_some(),
            },
            job_name: r.job_name,
            scrape_interval: r.scrape_interval,
            scrape_timeout: r.scrape_timeout,
            metrics_path: r.metrics_path,
            scheme: r.scheme,
            params: r.params,
            honor_labels: r.honor_labels,
            honor_timestamps: r.honor_timestamps,
            enable_compression: r.enable_compression,
            static_configs: r.static_configs,
            file_sd_configs: r.file_sd_configs,
            kubernetes_sd_configs: r.kubernetes_sd_configs,
            relabel_configs: r.relabel_configs,
            metric_relabel_configs: r.metric_relabel_configs,
            sample_limit: r.sample_limit.unwrap_or(0),
            target_limit: r.target_limit.unwrap_or(0),
            label_limit: r.label_limit.unwrap_or(0),
            label_name_length_limit: r.label_name_length_limit.unwrap_or(0),
            label_value_length_limit: r.label_value_length_limit.unwrap_or(0),
            body_size_limit: r.body_size_limit.unwrap_or_default(),
            http,
            unsupported_sd,
        })
    }
}

/// A fixed target group: `{targets: [...], labels: {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    /// `host:port` addresses.
    #[serde(default, deserialize_with = "null_default")]
    pub targets: Vec<String>,
    /// Labels added to every target of the group.
    #[serde(default, deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
}

/// `file_sd_configs` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSdConfig {
    /// Paths; the last path segment may contain `*` globs. Relative paths are
    /// resolved against the configuration file's directory.
    #[serde(default, deserialize_with = "null_default")]
    pub files: Vec<String>,
    /// Re-read every file this often, besides reacting to changes.
    #[serde(default = "default_file_sd_refresh")]
    pub refresh_interval: Duration,
}

/// Prometheus's checks of the HTTP client settings, then what Sightline's
/// client cannot do: reqwest proxies speak http(s) and socks5 only.
pub(super) fn check_http(http: &HttpClientConfig) -> Result<(), String> {
    http.validate().map_err(|e| e.to_string())?;
    if let Some(p) = &http.proxy_url {
        if !(p.starts_with("http://") || p.starts_with("https://") || p.starts_with("socks5://")) {
            return Err(format!(
                "invalid proxy_url {p:?}: must be an http(s) or socks5 URL"
            ));
        }
    }
    Ok(())
}

pub(super) fn default_metrics_path() -> String {
    "/metrics".to_owned()
}

pub(super) fn default_scheme() -> String {
    "http".to_owned()
}

pub(super) fn default_true() -> bool {
    true
}

fn default_file_sd_refresh() -> Duration {
    Duration::from_secs(300)
}
