//! The `alerting` section: where rule alerts are sent (Alertmanagers found
//! by static, file or Kubernetes discovery) and how they are relabeled on the way.

use super::null_default;
use super::scrape_config::{
    check_http, default_scheme, FileSdConfig, HttpClientConfig, StaticConfig,
};
use super::units::Duration;
use crate::discovery::kubernetes::KubernetesSdConfig;
use crate::relabel::RelabelConfig;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `alerting:` of a prometheus.yml.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingConfig {
    /// Applied to every alert before it is sent; an alert they drop is not sent.
    #[serde(default, deserialize_with = "null_default")]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    /// The Alertmanagers alerts go to; each alert goes to all of them.
    #[serde(default, deserialize_with = "null_default")]
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

/// One entry of `alerting.alertmanagers`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawAlertmanagerConfig")]
pub struct AlertmanagerConfig {
    /// `http` or `https`.
    pub scheme: String,
    /// Prefix of the API path (`/` by default), for Alertmanagers behind a proxy.
    pub path_prefix: String,
    /// Per-request timeout (default 10s).
    pub timeout: Duration,
    /// `v2`; `v1` (deprecated by Prometheus 2.42, gone from Alertmanager
    /// 0.27) loads with a warning and alerts go out through v2 anyway.
    pub api_version: String,
    /// Fixed Alertmanager addresses.
    pub static_configs: Vec<StaticConfig>,
    /// Alertmanager addresses read from files.
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Alertmanagers found through the Kubernetes API (kube-prometheus
    /// finds them with role `endpoints`).
    pub kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    /// Applied to discovered Alertmanagers (`__address__`, `__scheme__`,
    /// `__alerts_path__`); one they drop is not used.
    pub relabel_configs: Vec<RelabelConfig>,
    /// How to reach them.
    pub http: HttpClientConfig,
    /// Discovery kinds we accept without implementing, by key (warned).
    pub unsupported_sd: BTreeMap<String, serde_json::Value>,
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_path_prefix() -> String {
    "/".to_owned()
}

fn default_api_version() -> String {
    "v2".to_owned()
}

sightline_config::inline_http_client_config! {
/// The file's flat shape (HTTP settings and SD kinds inline, as in Prometheus).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlertmanagerConfig {
    #[serde(default = "default_scheme")]
    scheme: String,
    #[serde(default = "default_path_prefix")]
    path_prefix: String,
    #[serde(default = "default_timeout")]
    timeout: Duration,
    #[serde(default = "default_api_version")]
    api_version: String,
    #[serde(default, deserialize_with = "null_default")]
    static_configs: Vec<StaticConfig>,
    #[serde(default, deserialize_with = "null_default")]
    file_sd_configs: Vec<FileSdConfig>,
    #[serde(default, deserialize_with = "null_default")]
    kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    #[serde(default, deserialize_with = "null_default")]
    relabel_configs: Vec<RelabelConfig>,
    sigv4: Option<serde_json::Value>,
    consul_sd_configs: Option<serde_json::Value>,
    dns_sd_configs: Option<serde_json::Value>,
    ec2_sd_configs: Option<serde_json::Value>,
    http_sd_configs: Option<serde_json::Value>,
}
}

impl TryFrom<RawAlertmanagerConfig> for AlertmanagerConfig {
    type Error = String;

    fn try_from(r: RawAlertmanagerConfig) -> Result<Self, String> {
        let http = r.http_client_config();
        check_http(&http)?;
        if r.api_version != "v2" && r.api_version != "v1" {
            return Err(format!(
                "unsupported Alertmanager API version {:?}: must be v1 or v2",
                r.api_version
            ));
        }
        if r.scheme != "http" && r.scheme != "https" {
            return Err(format!(
                "invalid scheme {:?}: must be http or https",
                r.scheme
            ));
        }
        let mut unsupported_sd = BTreeMap::new();
        for (key, value) in [
            ("sigv4", r.sigv4),
            ("consul_sd_configs", r.consul_sd_configs),
            ("dns_sd_configs", r.dns_sd_configs),
            ("ec2_sd_configs", r.ec2_sd_configs),
            ("http_sd_configs", r.http_sd_configs),
        ] {
            if let Some(v) = value {
                unsupported_sd.insert(key.to_owned(), v);
            }
        }
        Ok(AlertmanagerConfig {
            scheme: r.scheme,
            path_prefix: r.path_prefix,
            timeout: r.timeout,
            api_version: r.api_version,
            static_configs: r.static_configs,
            file_sd_configs: r.file_sd_configs,
            kubernetes_sd_configs: r.kubernetes_sd_configs,
            relabel_configs: r.relabel_configs,
            http,
            unsupported_sd,
        })
    }
}
