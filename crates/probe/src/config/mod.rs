//! blackbox_exporter's `modules:` file, read as blackbox 0.23 reads it, and
//! Sightline's own `probes:` section ([`ProbesConfig`]).
//!
//! Field names, defaults and the checks done at load time follow
//! blackbox_exporter's `config.go` so a user's `blackbox.yml` loads unchanged
//! and is refused for the same reasons. Unknown fields are refused (blackbox
//! loads strictly), with `file:line:col: field.path: reason`.

mod module;
mod probes;
mod values;

pub use module::{
    DnsProbe, DnsRrValidator, GrpcProbe, HeaderMatch, HttpProbe, IcmpProbe, Module, QueryResponse,
    TcpProbe, TlsConfig,
};
pub use probes::{Monitor, MonitorModule, ProbesConfig};
pub use sightline_config::http::{Authorization, BasicAuth};
pub use values::{IpProtocol, Regexp};

use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A blackbox_exporter configuration file: `modules:` by name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlackboxConfig {
    /// The modules, by name.
    #[serde(default)]
    pub modules: BTreeMap<String, Module>,
}

impl BlackboxConfig {
    /// Parses a blackbox_exporter configuration file's text. `file` names it
    /// in error messages.
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let cfg: BlackboxConfig = deserialize_yaml(text, file)?;
        for (name, m) in &cfg.modules {
            m.validate().map_err(|(path, msg)| {
                let path = format!("modules.{name}{path}");
                Error::Config(sightline_config::yaml::locate(text, file, &path, &msg))
            })?;
        }
        Ok(cfg)
    }

    /// Reads and parses a blackbox_exporter configuration file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        Self::parse(&text, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests;

/// Deserializes YAML, refusing it with `file:line:col: field.path: reason`.
fn deserialize_yaml<T: DeserializeOwned>(text: &str, file: &str) -> Result<T> {
    sightline_config::yaml::from_str(text, file).map_err(|e| Error::Config(e.message().to_owned()))
}
