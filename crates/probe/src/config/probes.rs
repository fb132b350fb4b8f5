//! Sightline's `probes:` section: monitors that name a blackbox module (or
//! write one inline) and the targets to run it against.
//!
//! ```yaml
//! probes:
//!   modules_file: blackbox.yml      # optional, blackbox's own file
//!   modules:                        # optional, same syntax as its modules:
//!     http_2xx: { prober: http }
//!   monitors:
//!     - name: homepage
//!       module: http_2xx            # a name, or a module mapping inline
//!       targets: [https://example.com/]
//!       interval: 30s
//!       timeout: 5s
//!       labels: { team: web }
//! ```
//!
//! Described for users in `docs/probes.md`.

use super::module::Module;
use super::{deserialize_yaml, BlackboxConfig};
use crate::{Error, Result};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use sightline_core::duration;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The `probes:` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbesConfig {
    /// A blackbox_exporter configuration file whose modules monitors may
    /// name; relative to the config file's folder.
    pub modules_file: Option<String>,
    /// Modules written here, by name; they win over the file's on a clash.
    pub modules: BTreeMap<String, Module>,
    /// Interval of monitors that set none (default 30s).
    pub default_interval: Option<String>,
    /// The monitors.
    pub monitors: Vec<MonitorConfig>,
}

/// One monitor as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorConfig {
    /// Unique name; becomes the `job` label of stored series (the target is `instance`).
    pub name: String,
    /// The module: a name, or a module inline.
    pub module: MonitorModule,
    /// Targets, as blackbox's `target=` parameter takes them.
    pub targets: Vec<String>,
    /// How often (Go duration), default `default_interval` or 30s.
    #[serde(default)]
    pub interval: Option<String>,
    /// Probe timeout (default: the module's, else the smaller of interval
    /// and 10s).
    #[serde(default)]
    pub timeout: Option<String>,
    /// Extra labels for stored series.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// A monitor's module: by name or inline.
#[derive(Debug, Clone)]
pub enum MonitorModule {
    /// A module of `modules:` or of the modules file.
    Named(String),
    /// A module written in the monitor.
    Inline(Box<Module>),
}

impl<'de> Deserialize<'de> for MonitorModule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MonitorModule;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a module name or a module mapping")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MonitorModule::Named(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Module::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|m| MonitorModule::Inline(Box::new(m)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A monitor ready to run: its module resolved and durations parsed.
#[derive(Debug, Clone)]
pub struct Monitor {
    /// Unique name.
    pub name: String,
    /// The module's name (`inline` for an inline module).
    pub module_name: String,
    /// The module.
    pub module: Arc<Module>,
    /// Targets.
    pub targets: Vec<String>,
    /// How often each target is probed.
    pub interval: Duration,
    /// The probe timeout.
    pub timeout: Duration,
    /// Extra labels.
    pub labels: BTreeMap<String, String>,
}

impl ProbesConfig {
    /// Parses a `probes:` section on its own (the value under `probes:`).
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        deserialize_yaml(text, file)
    }

    /// Resolves module names, reads the modules file (relative to
    /// `base_dir`) and parses durations.
    pub fn monitors(&self, base_dir: &Path) -> Result<Vec<Monitor>> {
        let mut modules = BTreeMap::new();
        if let Some(f) = &self.modules_file {
            modules = BlackboxConfig::load(&base_dir.join(f))?.modules;
        }
        for (name, m) in &self.modules {
            m.validate()
                .map_err(|(p, msg)| Error::Config(format!("probes.modules.{name}{p}: {msg}")))?;
            modules.insert(name.clone(), m.clone());
        }
        let modules: BTreeMap<String, Arc<Module>> =
            modules.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        let dur = |field: &str, s: &str| {
            // `probes:` is Sightline's own section: either syntax, Go's errors.
            duration::parse_either(s.trim(), duration::Syntax::Go)
                .map_err(|e| Error::Config(format!("probes.{field}: {e}")))
        };
        let default_interval = match &self.default_interval {
            Some(s) => dur("default_interval", s)?,
            None => Duration::from_secs(30),
        };
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::with_capacity(self.monitors.len());
        for (i, mc) in self.monitors.iter().enumerate() {
            let at = format!("monitors[{i}]");
            if mc.name.is_empty() {
                return Err(Error::Config(format!(
                    "probes.{at}.name: must not be empty"
                )));
            }
            if !seen.insert(mc.name.clone()) {
                return Err(Error::Config(format!(
                    "probes.{at}.name: duplicate monitor name {:?}",
                    mc.name
                )));
            }
            let (module_name, module) = match &mc.module {
                MonitorModule::Named(n) => match modules.get(n) {
                    Some(m) => (n.clone(), m.clone()),
                    None => {
                        return Err(Error::Config(format!(
                            "probes.{at}.module: unknown module {n:?}"
                        )))
                    }
                },
                MonitorModule::Inline(m) => {
                    m.validate().map_err(|(p, msg)| {
                        Error::Config(format!("probes.{at}.module{p}: {msg}"))
                    })?;
                    ("inline".to_string(), Arc::new((**m).clone()))
                }
            };
            if !matches!(
                module.prober.as_str(),
                "http" | "tcp" | "dns" | "icmp" | "grpc"
            ) {
                return Err(Error::Config(format!(
                    "probes.{at}.module: unknown prober {:?}",
                    module.prober
                )));
            }
            let interval = match &mc.interval {
                Some(s) => dur(&format!("{at}.interval"), s)?,
                None => default_interval,
            };
            if interval.is_zero() {
                return Err(Error::Config(format!(
                    "probes.{at}.interval: must be positive"
                )));
            }
            // In-process there is no scrape overhead to leave room for, so
            // no offset: the monitor's timeout, else the module's, else the
            // smaller of interval and 10s (Prometheus's default scrape
            // timeout); never longer than the interval.
            let timeout = match &mc.timeout {
                Some(s) => Some(dur(&format!("{at}.timeout"), s)?),
                None => module.timeout.filter(|t| !t.is_zero()),
            }
            .unwrap_or(Duration::from_secs(10))
            .min(interval);
            out.push(Monitor {
                name: mc.name.clone(),
                module_name,
                module,
                targets: mc.targets.clone(),
                interval,
                timeout,
                labels: mc.labels.clone(),
            });
        }
        Ok(out)
    }
}
