//! The config root: reads the file `--config` names once and hands each
//! subsystem its section.
//!
//! Two kinds of file are accepted, told apart by their top-level keys
//! (described for users in `docs/configuration.md`):
//!
//! - a **Sightline file** (`sightline.yml`): Sightline's own sections
//!   (`slos:`, `probes:`, `dashboards:`) and `prometheus:`, the path of a `prometheus.yml`
//!   relative to the Sightline file. The Prometheus file stays one that
//!   Prometheus and `promtool check config` accept. A file is a Sightline
//!   file when it has a `prometheus:` key, or when every key it has is one
//!   of Sightline's own (Prometheus refuses both).
//! - a **Prometheus file** (`prometheus.yml`), which may still carry
//!   `slos:` and `probes:` as before (so no setup breaks); [`Loaded::hints`]
//!   then suggests moving them, since promtool refuses such a file.
//!
//! Every relative path resolves against the folder of the file it is
//! written in, once: the Prometheus loader anchors its own paths (rule
//! files, file_sd, `*_file` secrets, TLS files), and this module anchors
//! the Sightline file's (`prometheus:`, `slos:`, `probes.modules_file`).

use anyhow::Context;
use serde::de::IgnoredAny;
use serde::Deserialize;
use sightline_ingest::config::{self, PrometheusConfig};
use sightline_probe::ProbesConfig;
use sightline_ui::dashboards::DashboardsConfig;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The keys of a Sightline file.
const SIGHTLINE_KEYS: &[&str] = &[
    "prometheus",
    "slos",
    "probes",
    "dashboards",
    "logs",
    "traces",
    "auth",
    "tenants",
    "events",
    "incidents",
];

/// A Sightline file (`sightline.yml`) as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SightlineFile {
    /// The Prometheus configuration file, relative to this file's folder.
    #[serde(default)]
    prometheus: Option<String>,
    /// SLO spec globs (Sloth, OpenSLO or sightline/v1), relative to this
    /// file's folder.
    #[serde(default)]
    slos: Option<Vec<String>>,
    /// Uptime probes (owned by `sightline_probe`).
    #[serde(default)]
    probes: Option<ProbesConfig>,
    /// Dashboard providers, Grafana's provisioning file shape (owned by
    /// `sightline_ui`).
    #[serde(default)]
    dashboards: Option<DashboardsConfig>,
    /// The log store, push limits and syslog listeners (read at start).
    #[serde(default)]
    logs: Option<crate::logs::LogsConfig>,
    /// The span receivers' limits (read at start).
    #[serde(default)]
    traces: Option<crate::traces::TracesConfig>,
    /// Bearer tokens and their scopes (owned by `sightline_auth`).
    #[serde(default)]
    auth: Option<sightline_auth::AuthSection>,
    /// Per-tenant limits and overrides (docs/tenants.md).
    #[serde(default)]
    tenants: Option<sightline_api::tenant::limits::LimitsConfig>,
    /// User events: store, sources, write keys, scrubbing (read at start).
    #[serde(default)]
    events: Option<crate::events::EventsConfig>,
    /// Incident records (docs/incidents.md; owned by `sightline_alertmanager`).
    #[serde(default)]
    incidents: Option<sightline_alertmanager::incident::IncidentsConfig>,
}

/// The `probes:` section of a prometheus.yml, read from the same document
/// (every other key is the Prometheus loader's business).
#[derive(Debug, Default, Deserialize)]
struct LegacyProbes {
    #[serde(default)]
    probes: Option<ProbesConfig>,
}

/// A `probes:` section with what locating its errors needs.
#[derive(Debug, Clone)]
pub struct ProbesSection {
    /// The section.
    pub config: ProbesConfig,
    /// The text of the file it is written in, for error positions.
    pub text: String,
    /// That file's name, as errors print it.
    pub file: String,
    /// That file's folder, which `modules_file` is relative to.
    pub base: PathBuf,
}

/// A `dashboards:` section with what locating its errors needs.
#[derive(Debug, Clone)]
pub struct DashboardsSection {
    /// The section.
    pub config: DashboardsConfig,
    /// The text of the file it is written in, for error positions.
    pub text: String,
    /// That file's name, as errors print it.
    pub file: String,
    /// That file's folder, which providers' paths are relative to.
    pub base: PathBuf,
}

/// The configuration the server runs with, every section read.
#[derive(Debug)]
pub struct Loaded {
    /// The Prometheus configuration, paths anchored at its file's folder.
    pub prometheus: PrometheusConfig,
    /// The text `/api/v1/status/config` shows: the Prometheus file's.
    pub prometheus_text: String,
    /// The Prometheus file, when there is one.
    pub prometheus_path: Option<PathBuf>,
    /// SLO spec globs, anchored at the folder of the file naming them.
    pub slos: Vec<String>,
    /// The `probes:` section, if any.
    pub probes: Option<ProbesSection>,
    /// The `dashboards:` section, if any (sightline.yml only).
    pub dashboards: Option<DashboardsSection>,
    /// The `logs:` section (defaults without one).
    pub logs: crate::logs::LogsConfig,
    /// The `traces:` section (defaults without one).
    pub traces: crate::traces::TracesConfig,
    /// The bearer tokens of `auth:` (none without one).
    pub tokens: sightline_auth::tokens::Tokens,
    /// The `tenants:` section: per-tenant limits (no limits without one).
    pub tenants: sightline_api::tenant::limits::LimitsConfig,
    /// The `events:` section (defaults without one), paths anchored.
    pub events: crate::events::EventsConfig,
    /// The `incidents:` section, `runbooks_dir` anchored (defaults without one).
    pub incidents: sightline_alertmanager::incident::IncidentsConfig,
    /// Advice for the log (a prometheus.yml holding Sightline's sections).
    pub hints: Vec<String>,
}

/// Name of the built-in configuration in messages.
pub const BUILT_IN: &str = "<built-in default configuration>";

/// Without a config file Sightline scrapes itself, so a fresh install has
/// data to look at and proves the scrape path works.
pub fn default_yaml(listen: &str) -> String {
    format!(
        "global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n\
         scrape_configs:\n  - job_name: sightline\n    static_configs:\n      - targets: ['{listen}']\n"
    )
}

/// Loads `path` (either kind), or the built-in self-scrape without one.
pub fn load(path: Option<&Path>, listen: &str) -> anyhow::Result<Loaded> {
    let Some(path) = path else {
        let text = default_yaml(listen);
        return Ok(Loaded {
            prometheus: config::load_str(&text, BUILT_IN)?,
            prometheus_text: text,
            prometheus_path: None,
            slos: Vec::new(),
            probes: None,
            dashboards: None,
            logs: Default::default(),
            traces: Default::default(),
            tokens: Default::default(),
            tenants: Default::default(),
            events: Default::default(),
            incidents: Default::default(),
            hints: Vec::new(),
        });
    };
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("{name}: cannot read"))?;
    if is_sightline_file(&text, &name) {
        load_sightline(path, &name, &text)
    } else {
        load_prometheus(path, &name, text)
    }
}

/// Whether `text` is a Sightline file: a mapping with a `prometheus:` key,
/// or whose keys are all Sightline's (Prometheus refuses both). Anything
/// else goes to the Prometheus loader, which words its errors.
fn is_sightline_file(text: &str, name: &str) -> bool {
    let Ok(keys) = sightline_config::yaml::from_str::<BTreeMap<String, IgnoredAny>>(text, name)
    else {
        return false;
    };
    keys.contains_key("prometheus")
        || (!keys.is_empty() && keys.keys().all(|k| SIGHTLINE_KEYS.contains(&k.as_str())))
}

/// The folder relative paths in the file `path` start from.
pub fn folder(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// `p` joined to `dir` unless it is absolute (or empty).
fn anchor(dir: &Path, p: &str) -> String {
    if p.is_empty() || Path::new(p).is_absolute() {
        p.to_owned()
    } else {
        dir.join(p).display().to_string()
    }
}

fn load_sightline(path: &Path, name: &str, text: &str) -> anyhow::Result<Loaded> {
    let file: SightlineFile =
        sightline_config::yaml::from_str(text, name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = folder(path);
    for (i, g) in file.slos.iter().flatten().enumerate() {
        if let Err(e) = glob::Pattern::new(g) {
            anyhow::bail!(sightline_config::yaml::locate(
                text,
                name,
                &format!("slos[{i}]"),
                &format!("invalid SLO file path {g:?}: {e}")
            ));
        }
    }
    let (prometheus, prometheus_text, prometheus_path) = match &file.prometheus {
        Some(p) => {
            let p = PathBuf::from(anchor(&dir, p));
            let ptext = std::fs::read_to_string(&p).map_err(|e| {
                anyhow::anyhow!(sightline_config::yaml::locate(
                    text,
                    name,
                    "prometheus",
                    &format!("cannot read {}: {e}", p.display())
                ))
            })?;
            let cfg = config::load_str(&ptext, &p.display().to_string())?;
            // One place for each section: two would leave the reader
            // guessing which one runs.
            if !cfg.slos.is_empty() || cfg.probes.is_some() {
                anyhow::bail!(
                    "{}: slos and probes belong in {name}, which includes this file",
                    p.display()
                );
            }
            (cfg, ptext, Some(p))
        }
        // SLOs and probes alone: nothing to scrape.
        None => (PrometheusConfig::default(), String::new(), None),
    };
    Ok(Loaded {
        prometheus,
        prometheus_text,
        prometheus_path,
        slos: file
            .slos
            .unwrap_or_default()
            .iter()
            .map(|g| anchor(&dir, g))
            .collect(),
        probes: file.probes.map(|config| ProbesSection {
            config,
            text: text.to_owned(),
            file: name.to_owned(),
            base: dir.clone(),
        }),
        dashboards: file.dashboards.map(|config| DashboardsSection {
            config,
            text: text.to_owned(),
            file: name.to_owned(),
            base: dir.clone(),
        }),
        logs: {
            let mut logs = file.logs.unwrap_or_default();
            for g in &mut logs.rule_files {
                *g = anchor(&dir, g);
            }
            logs
        },
        traces: file.traces.unwrap_or_default(),
        tokens: match &file.auth {
            Some(a) => a
                .tokens(&dir, &|path, msg| {
                    sightline_config::yaml::locate(text, name, path, &msg)
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            None => Default::default(),
        },
        tenants: file.tenants.unwrap_or_default(),
        events: file
            .events
            .map(|mut e| {
                e.anchor(&dir);
                e
            })
            .unwrap_or_default(),
        incidents: {
            let mut inc = file.incidents.unwrap_or_default();
            if let Some(d) = &inc.runbooks_dir {
                inc.runbooks_dir = Some(dir.join(d));
            }
            inc
        },
        hints: Vec::new(),
    })
}

/// The `probes:` section of a prometheus.yml's `text`, read from the whole
/// document so its errors carry the file's own lines.
pub fn legacy_probes(text: &str, name: &str, base: &Path) -> anyhow::Result<Option<ProbesSection>> {
    let legacy: LegacyProbes =
        sightline_config::yaml::from_str(text, name).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(legacy.probes.map(|config| ProbesSection {
        config,
        text: text.to_owned(),
        file: name.to_owned(),
        base: base.to_owned(),
    }))
}

fn load_prometheus(path: &Path, name: &str, text: String) -> anyhow::Result<Loaded> {
    let prometheus = config::load_str(&text, name)?;
    let probes = match prometheus.probes {
        Some(_) => legacy_probes(&text, name, &folder(path))?,
        None => None,
    };
    let mut hints = Vec::new();
    if !prometheus.slos.is_empty() || prometheus.probes.is_some() {
        hints.push(format!(
            "{name} holds Sightline's own sections (slos, probes), which Prometheus and promtool \
             refuse; move them to a sightline.yml that names this file with `prometheus: {}` \
             (see docs/configuration.md)",
            path.file_name()
                .map_or_else(|| name.to_owned(), |f| f.to_string_lossy().into_owned())
        ));
    }
    Ok(Loaded {
        // The Prometheus loader anchored `slos:` with the other paths.
        slos: prometheus.slos.clone(),
        prometheus,
        prometheus_text: text,
        prometheus_path: Some(path.to_owned()),
        probes,
        dashboards: None,
        logs: Default::default(),
        traces: Default::default(),
        tokens: Default::default(),
        tenants: Default::default(),
        events: Default::default(),
        incidents: Default::default(),
        hints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn kinds_are_told_apart_by_their_keys() {
        assert!(is_sightline_file("prometheus: p.yml\n", "f"));
        assert!(is_sightline_file("slos: [a.yml]\n", "f"));
        assert!(is_sightline_file("probes: {monitors: []}\nslos: []\n", "f"));
        assert!(!is_sightline_file("global: {}\nslos: [a.yml]\n", "f"));
        assert!(!is_sightline_file("", "f"));
        assert!(!is_sightline_file("- a\n", "f"));
    }

    #[test]
    fn issue_12_sightline_file_anchors_paths_at_its_folder() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "prom/prometheus.yml",
            "rule_files: [rules.yml]\nscrape_configs: []\n",
        );
        let s = write(
            tmp.path(),
            "conf/sightline.yml",
            "prometheus: ../prom/prometheus.yml\nslos: ['slos/*.yml']\n\
             probes:\n  monitors:\n    - {name: a, module: {prober: tcp}, targets: ['x:1']}\n",
        );
        let loaded = load(Some(&s), "").unwrap();
        let dir = tmp.path().join("conf");
        assert_eq!(
            loaded.prometheus.rule_files,
            [tmp.path()
                .join("conf/../prom/rules.yml")
                .display()
                .to_string()]
        );
        assert_eq!(loaded.slos, [dir.join("slos/*.yml").display().to_string()]);
        let probes = loaded.probes.unwrap();
        assert_eq!(probes.base, dir);
        assert_eq!(probes.config.monitors.len(), 1);
        assert!(loaded.hints.is_empty());
    }

    #[test]
    fn issue_12_legacy_sections_load_with_a_hint() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(
            tmp.path(),
            "prometheus.yml",
            "global: {}\nslos: [s.yml]\nprobes:\n  monitors: []\n",
        );
        let loaded = load(Some(&p), "").unwrap();
        assert_eq!(loaded.slos.len(), 1);
        assert!(loaded.probes.is_some());
        assert!(
            loaded.hints[0].contains("prometheus: prometheus.yml"),
            "{:?}",
            loaded.hints
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let tmp = tempfile::tempdir().unwrap();
        let s = write(
            tmp.path(),
            "sightline.yml",
            "prometheus: missing.yml\nslos: []\n",
        );
        let e = load(Some(&s), "").unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}:1:", s.display())) && e.contains("missing.yml"),
            "{e}"
        );
        let s = write(tmp.path(), "sightline.yml", "slos: []\nalerts: x\n");
        // Not all keys are Sightline's and no `prometheus:`: a Prometheus
        // file, refused by its loader for the unknown keys.
        assert!(load(Some(&s), "").is_err());
        let s = write(
            tmp.path(),
            "sightline.yml",
            "prometheus: p.yml\nprobes:\n  monitors:\n    - {name: a, modul: x}\n",
        );
        let e = load(Some(&s), "").unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}:4:", s.display())), "{e}");
    }
}
