//! The Prometheus configuration file, read in Prometheus's own format so that
//! a `prometheus.yml` written for Prometheus 2.42 loads unchanged.
//!
//! - [`load_file`] / [`load_str`] parse, fill defaults the way Prometheus does
//!   (`global` values flow into each job) and validate.
//! - [`PrometheusConfig`] is the whole file; [`ScrapeConfig`] one job.
//! - [`Duration`] and [`ByteSize`] read Prometheus's `1h30m` / `10MB` syntax.
//!
//! A bad file is refused with `file:line:column: field.path: reason`; unknown
//! keys are refused as Prometheus refuses them. Service-discovery kinds that
//! Sightline does not implement load with a warning in
//! [`PrometheusConfig::warnings`] instead of failing.

mod alerting;
mod scrape_config;
#[cfg(test)]
mod tests;
mod units;

pub use crate::discovery::kubernetes::KubernetesSdConfig;
pub use alerting::{AlertingConfig, AlertmanagerConfig};
pub use scrape_config::{
    Authorization, BasicAuth, FileSdConfig, HttpClientConfig, ScrapeConfig, StaticConfig, TlsConfig,
};
pub use units::{ByteSize, Duration};

use crate::relabel::is_valid_label_name;
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// A whole `prometheus.yml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    /// Defaults for every job and the rule evaluator.
    #[serde(default, deserialize_with = "null_default")]
    pub global: GlobalConfig,
    /// Rule file globs, for the rules engine.
    #[serde(default, deserialize_with = "null_default")]
    pub rule_files: Vec<String>,
    /// Files holding more scrape configs (newer Prometheus); accepted, warned.
    #[serde(default, deserialize_with = "null_default")]
    pub scrape_config_files: Vec<String>,
    /// The jobs to scrape.
    #[serde(default, deserialize_with = "null_default")]
    pub scrape_configs: Vec<ScrapeConfig>,
    /// Where alerts from rules are sent.
    #[serde(default, deserialize_with = "null_default")]
    pub alerting: AlertingConfig,
    /// Remote write endpoints, kept as written.
    #[serde(default, deserialize_with = "null_default")]
    pub remote_write: Vec<serde_json::Value>,
    /// Remote read endpoints, kept as written.
    #[serde(default, deserialize_with = "null_default")]
    pub remote_read: Vec<serde_json::Value>,
    /// TSDB and exemplar storage settings.
    #[serde(default)]
    pub storage: Option<StorageConfig>,
    /// Tracing exporter settings, kept as written.
    #[serde(default)]
    pub tracing: Option<serde_json::Value>,
    /// The OTLP receiver's settings, Prometheus 3's `otlp:` section.
    #[serde(default, deserialize_with = "null_default")]
    pub otlp: crate::otlp::OtlpConfig,
    /// Sightline: SLO spec files (Sloth, OpenSLO or Sightline's short
    /// forms), globs like `rule_files`; their generated rules run with the others.
    #[serde(default, deserialize_with = "null_default")]
    pub slos: Vec<String>,
    /// Sightline: uptime probes. Read by the probe subsystem from the
    /// file's text (so its errors carry line numbers); skipped here.
    #[serde(default)]
    pub probes: Option<serde::de::IgnoredAny>,
    /// Things that loaded but will not act as they would in Prometheus
    /// (unsupported discovery kinds, OAuth 2.0, ...), one message each.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// The `global` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalConfig {
    /// Default scrape interval (1m).
    #[serde(default = "default_scrape_interval")]
    pub scrape_interval: Duration,
    /// Default scrape timeout (10s, capped at the interval).
    #[serde(default)]
    pub scrape_timeout: Duration,
    /// How often rules are evaluated (1m).
    #[serde(default = "default_evaluation_interval")]
    pub evaluation_interval: Duration,
    /// Offset for rule evaluation (newer Prometheus).
    #[serde(default)]
    pub rule_query_offset: Duration,
    /// Labels added to series and alerts leaving this server.
    #[serde(default, deserialize_with = "null_default")]
    pub external_labels: BTreeMap<String, String>,
    /// File to log PromQL queries to.
    #[serde(default)]
    pub query_log_file: Option<String>,
    /// File to log failed scrapes to (newer Prometheus).
    #[serde(default)]
    pub scrape_failure_log_file: Option<String>,
    /// Default `body_size_limit` for jobs.
    #[serde(default)]
    pub body_size_limit: ByteSize,
    /// Default `sample_limit` for jobs.
    #[serde(default)]
    pub sample_limit: u64,
    /// Default `target_limit` for jobs.
    #[serde(default)]
    pub target_limit: u64,
    /// Default `label_limit` for jobs.
    #[serde(default)]
    pub label_limit: u64,
    /// Default `label_name_length_limit` for jobs.
    #[serde(default)]
    pub label_name_length_limit: u64,
    /// Default `label_value_length_limit` for jobs.
    #[serde(default)]
    pub label_value_length_limit: u64,
    /// Accepted for newer files.
    #[serde(default)]
    pub keep_dropped_targets: u64,
    /// Accepted for newer files.
    #[serde(default)]
    pub scrape_protocols: Option<Vec<String>>,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: default_scrape_interval(),
            scrape_timeout: default_scrape_timeout(),
            evaluation_interval: default_evaluation_interval(),
            rule_query_offset: Duration::default(),
            external_labels: BTreeMap::new(),
            query_log_file: None,
            scrape_failure_log_file: None,
            body_size_limit: ByteSize(0),
            sample_limit: 0,
            target_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            keep_dropped_targets: 0,
            scrape_protocols: None,
        }
    }
}

fn default_scrape_interval() -> Duration {
    Duration::from_secs(60)
}

fn default_scrape_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_evaluation_interval() -> Duration {
    Duration::from_secs(60)
}

/// Deserializes a field where YAML's `null` (an empty key, e.g. a
/// `rule_files:` whose entries are all commented out, as in the stock
/// prometheus.yml) means the same as leaving the key out.
pub(crate) fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The `storage:` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// `storage.tsdb`, kept as written (Sightline takes these settings as
    /// command-line flags).
    #[serde(default)]
    pub tsdb: Option<serde_json::Value>,
    /// `storage.exemplars`.
    #[serde(default, deserialize_with = "null_default")]
    pub exemplars: ExemplarsConfig,
}

/// `storage.exemplars`: the exemplar buffer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemplarsConfig {
    /// How many exemplars the in-memory ring holds, across all series;
    /// 0 or less turns exemplar storage off (Prometheus's rule).
    #[serde(default = "default_max_exemplars")]
    pub max_exemplars: i64,
}

/// 100,000, Prometheus's default.
pub fn default_max_exemplars() -> i64 {
    100_000
}

impl Default for ExemplarsConfig {
    fn default() -> Self {
        ExemplarsConfig {
            max_exemplars: default_max_exemplars(),
        }
    }
}

impl PrometheusConfig {
    /// `storage.exemplars.max_exemplars`, 100,000 when unset, never negative.
    pub fn max_exemplars(&self) -> usize {
        let n = self
            .storage
            .as_ref()
            .map_or_else(default_max_exemplars, |s| s.exemplars.max_exemplars);
        usize::try_from(n).unwrap_or(0)
    }
}

/// Reads and validates a configuration file. Relative paths inside it
/// (file_sd files, rule files, credential and TLS files) are resolved against
/// the file's directory, as Prometheus does.
pub fn load_file(path: impl AsRef<Path>) -> Result<PrometheusConfig> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("{}: cannot read: {e}", path.display())))?;
    load_str(&text, &path.display().to_string())
}

/// Parses and validates configuration text. `file_name` names the file in
/// error messages, and its directory (if any) anchors relative paths.
pub fn load_str(text: &str, file_name: &str) -> Result<PrometheusConfig> {
    let mut cfg: PrometheusConfig = deserialize_yaml(text, file_name)?;
    if let Err(e) = cfg.validate() {
        let msg = sightline_config::yaml::locate(text, file_name, &e.path, &e.message);
        return Err(Error::Config(msg));
    }
    if let Some(dir) = Path::new(file_name).parent() {
        if !dir.as_os_str().is_empty() {
            cfg.resolve_paths(dir);
        }
    }
    Ok(cfg)
}

/// Deserializes YAML (a config, a file_sd file), refusing it with
/// `file:line:column: field.path: reason`.
pub(crate) fn deserialize_yaml<T: DeserializeOwned>(text: &str, file: &str) -> Result<T> {
    sightline_config::yaml::from_str(text, file).map_err(|e| Error::Config(e.message().to_owned()))
}

/// A validation failure before its location is looked up: where (as a
/// dotted path like `scrape_configs[1].scrape_timeout`) and why.
#[derive(Debug)]
struct Invalid {
    path: String,
    message: String,
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> Invalid {
    Invalid {
        path: path.into(),
        message: message.into(),
    }
}

impl PrometheusConfig {
    /// Fills the defaults that depend on other sections and enforces
    /// Prometheus's cross-field rules.
    fn validate(&mut self) -> std::result::Result<(), Invalid> {
        let g = &mut self.global;
        if g.scrape_interval.is_zero() {
            g.scrape_interval = default_scrape_interval();
        }
        if g.scrape_timeout > g.scrape_interval {
            return Err(invalid(
                "global.scrape_timeout",
                "global scrape timeout greater than scrape interval",
            ));
        }
        if g.scrape_timeout.is_zero() {
            g.scrape_timeout = default_scrape_timeout().min(g.scrape_interval);
        }
        if g.evaluation_interval.is_zero() {
            g.evaluation_interval = default_evaluation_interval();
        }
        for name in g.external_labels.keys() {
            if !is_valid_label_name(name) {
                return Err(invalid(
                    format!("global.external_labels.{name}"),
                    format!("{name:?} is not a valid label name"),
                ));
            }
        }
        self.otlp.validate().map_err(|m| invalid("otlp", m))?;
        for (i, f) in self.slos.iter().enumerate() {
            if let Err(e) = glob::Pattern::new(f) {
                return Err(invalid(
                    format!("slos[{i}]"),
                    format!("invalid SLO file path {f:?}: {e}"),
                ));
            }
        }
        for (i, f) in self.rule_files.iter().enumerate() {
            if let Err(e) = glob::Pattern::new(f) {
                return Err(invalid(
                    format!("rule_files[{i}]"),
                    format!("invalid rule file path {f:?}: {e}"),
                ));
            }
        }
        if !self.scrape_config_files.is_empty() {
            self.warnings.push(
                "scrape_config_files is not supported yet; the jobs in those files are not scraped"
                    .to_owned(),
            );
        }

        let global = self.global.clone();
        let mut jobs = HashSet::new();
        for (i, sc) in self.scrape_configs.iter_mut().enumerate() {
            let at = |field: &str| format!("scrape_configs[{i}].{field}");
            if sc.job_name.is_empty() {
                return Err(invalid(at("job_name"), "job_name is empty"));
            }
            if !jobs.insert(sc.job_name.clone()) {
                return Err(invalid(
                    at("job_name"),
                    format!(
                        "found multiple scrape configs with job name {:?}",
                        sc.job_name
                    ),
                ));
            }
            if sc.scrape_interval.is_zero() {
                sc.scrape_interval = global.scrape_interval;
            }
            if sc.scrape_timeout > sc.scrape_interval {
                return Err(invalid(
                    at("scrape_timeout"),
                    format!(
                        "scrape timeout greater than scrape interval for scrape config with job name {:?}",
                        sc.job_name
                    ),
                ));
            }
            if sc.scrape_timeout.is_zero() {
                sc.scrape_timeout = global.scrape_timeout.min(sc.scrape_interval);
            }
            if !sc.limits_set.sample {
                sc.sample_limit = global.sample_limit;
            }
            if !sc.limits_set.target {
                sc.target_limit = global.target_limit;
            }
            if !sc.limits_set.label {
                sc.label_limit = global.label_limit;
            }
            if !sc.limits_set.name_len {
                sc.label_name_length_limit = global.label_name_length_limit;
            }
            if !sc.limits_set.value_len {
                sc.label_value_length_limit = global.label_value_length_limit;
            }
            if !sc.limits_set.body {
                sc.body_size_limit = global.body_size_limit;
            }
            for (j, group) in sc.static_configs.iter().enumerate() {
                for name in group.labels.keys() {
                    if !is_valid_label_name(name) {
                        return Err(invalid(
                            at(&format!("static_configs[{j}].labels.{name}")),
                            format!("{name:?} is not a valid label name"),
                        ));
                    }
                }
                // Prometheus catches URLs pasted as targets, unless relabeling
                // might turn them into addresses.
                if sc.relabel_configs.is_empty() {
                    for (k, t) in group.targets.iter().enumerate() {
                        if t.contains('/') {
                            return Err(invalid(
                                at(&format!("static_configs[{j}].targets[{k}]")),
                                format!("{t:?} is not a valid hostname"),
                            ));
                        }
                    }
                }
            }
            for (j, fsd) in sc.file_sd_configs.iter().enumerate() {
                if fsd.files.is_empty() {
                    return Err(invalid(
                        at(&format!("file_sd_configs[{j}].files")),
                        "file service discovery config must contain at least one path name",
                    ));
                }
                for (k, f) in fsd.files.iter().enumerate() {
                    if !crate::discovery::is_valid_file_sd_pattern(f) {
                        return Err(invalid(
                            at(&format!("file_sd_configs[{j}].files[{k}]")),
                            format!("path name {f:?} is not valid for file discovery"),
                        ));
                    }
                }
            }
            for key in sc.unsupported_sd.keys() {
                self.warnings.push(format!(
                    "scrape_configs[{i}] (job {:?}): {key} is not supported; it discovers no targets",
                    sc.job_name
                ));
            }
            if sc.http.oauth2.is_some() {
                self.warnings.push(format!(
                    "scrape_configs[{i}] (job {:?}): oauth2 is not supported; requests are sent without it",
                    sc.job_name
                ));
            }
        }
        for (i, am) in self.alerting.alertmanagers.iter().enumerate() {
            if am.api_version == "v1" {
                self.warnings.push(format!(
                    "alerting.alertmanagers[{i}]: api_version v1 is not supported; alerts are sent with API v2"
                ));
            }
            for key in am.unsupported_sd.keys() {
                self.warnings.push(format!(
                    "alerting.alertmanagers[{i}]: {key} is not supported; it finds no Alertmanagers"
                ));
            }
            if am.http.oauth2.is_some() {
                self.warnings.push(format!(
                    "alerting.alertmanagers[{i}]: oauth2 is not supported; requests are sent without it"
                ));
            }
        }
        Ok(())
    }

    /// Makes relative paths absolute against the config file's directory.
    fn resolve_paths(&mut self, dir: &Path) {
        let join = |p: &mut String| {
            if !p.is_empty() && Path::new(p.as_str()).is_relative() {
                *p = dir.join(&*p).display().to_string();
            }
        };
        self.rule_files.iter_mut().for_each(join);
        self.slos.iter_mut().for_each(join);
        self.scrape_config_files.iter_mut().for_each(join);
        for sc in &mut self.scrape_configs {
            for f in &mut sc.file_sd_configs {
                f.files.iter_mut().for_each(join);
            }
            for k in &mut sc.kubernetes_sd_configs {
                k.set_directory(dir);
            }
            sc.http.set_directory(dir);
        }
        for am in &mut self.alerting.alertmanagers {
            for f in &mut am.file_sd_configs {
                f.files.iter_mut().for_each(join);
            }
            for k in &mut am.kubernetes_sd_configs {
                k.set_directory(dir);
            }
            am.http.set_directory(dir);
        }
    }

    /// The scrape config of `job`.
    pub fn scrape_config(&self, job: &str) -> Option<&ScrapeConfig> {
        self.scrape_configs.iter().find(|s| s.job_name == job)
    }
}
