//! Probes in the server's configuration: the config file's `probes:`
//! section and the `--probe.modules-file` flag become a
//! [`ProbeSetup`] for the probe subsystem (`sightline_probe::service`).

pub mod limits;

use crate::config::ProbesSection;
use anyhow::Context;
use sightline_probe::service::ProbeSetup;
use sightline_probe::BlackboxConfig;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `--probe.*` flags of `sightline serve`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ProbeArgs {
    /// A blackbox_exporter configuration file (`modules:`): its modules
    /// answer `/probe?module=...`, and `probes:` monitors may name them
    /// (unless the section sets its own `modules_file`).
    #[arg(long = "probe.modules-file")]
    pub modules_file: Option<PathBuf>,
    /// A module `/probe` may use (repeatable); without one, any.
    #[arg(long = "probe.allowed-module", value_name = "NAME")]
    pub allowed_modules: Vec<String>,
    /// A regular expression a `/probe` target must match in full
    /// (repeatable); without one, any target.
    #[arg(long = "probe.allowed-target", value_name = "REGEX")]
    pub allowed_targets: Vec<String>,
}

impl ProbeArgs {
    /// The `/probe` limits of these flags.
    pub fn limits(&self) -> anyhow::Result<std::sync::Arc<limits::ProbeLimits>> {
        Ok(std::sync::Arc::new(limits::ProbeLimits::new(
            &self.allowed_modules,
            &self.allowed_targets,
        )?))
    }
}

/// Reads the modules file of `--probe.modules-file` and the config's
/// `probes:` section (read by the config root, [`crate::config`]); paths in
/// the section are relative to the folder of the file it is written in.
/// Errors carry file:line:col.
pub fn load_setup(
    section: Option<&ProbesSection>,
    modules_flag: Option<&Path>,
) -> anyhow::Result<ProbeSetup> {
    let mut endpoint_modules = match modules_flag {
        Some(p) => {
            BlackboxConfig::load(p)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .modules
        }
        None => BTreeMap::new(),
    };
    let Some(section) = section else {
        return Ok(ProbeSetup {
            monitors: Vec::new(),
            endpoint_modules,
        });
    };
    let mut cfg = section.config.clone();
    if let Some(f) = &cfg.modules_file {
        endpoint_modules.extend(
            BlackboxConfig::load(&section.base.join(f))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .modules,
        );
    } else if let Some(p) = modules_flag {
        // Monitors may name the flag's modules: hand the file to the section
        // as its own (absolute, so joining it to `base` leaves it alone).
        let abs = std::path::absolute(p).with_context(|| format!("{}", p.display()))?;
        cfg.modules_file = Some(abs.display().to_string());
    }
    endpoint_modules.extend(cfg.modules.clone());
    let monitors = cfg
        .monitors(&section.base)
        .map_err(|e| anyhow::anyhow!("{}", locate_error(section, &e.to_string())))?;
    Ok(ProbeSetup {
        monitors,
        endpoint_modules,
    })
}

/// Adds `file:line:col` to an error of the checks done after parsing, which
/// name only a field path (`probes.monitors[1].module: unknown module ...`).
fn locate_error(section: &ProbesSection, msg: &str) -> String {
    match msg.split_once(": ") {
        Some((path, rest)) if path.starts_with("probes.") => {
            sightline_config::yaml::locate(&section.text, &section.file, path, rest)
        }
        // Already located (a modules file's error names that file).
        _ => msg.to_string(),
    }
}

#[cfg(test)]
mod tests;
