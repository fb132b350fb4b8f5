//! File-based discovery (`file_sd_configs`).

use super::{TargetGroup, ADDRESS_LABEL, FILEPATH_LABEL};
use crate::config::{null_default, FileSdConfig};
use crate::relabel::is_valid_label_name;
use serde::Deserialize;
use sightline_core::Labels;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

/// True when `pattern` is a path Prometheus accepts for file discovery: a
/// `.json`, `.yml` or `.yaml` file whose last path segment may hold a `*`.
pub fn is_valid_file_sd_pattern(pattern: &str) -> bool {
    let Some((stem, ext)) = pattern.rsplit_once('.') else {
        return false;
    };
    if !matches!(ext, "json" | "yml" | "yaml" | "JSON" | "YML" | "YAML") {
        return false;
    }
    match stem.find('*') {
        None => true,
        // One `*`, and only in the last segment.
        Some(i) => !stem[i + 1..].contains('*') && !stem[i..].contains('/'),
    }
}

/// One target group as written in a JSON file (unknown keys ignored, as Go's
/// `encoding/json` ignores them).
#[derive(Deserialize)]
struct JsonGroup {
    #[serde(default, deserialize_with = "null_default")]
    targets: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    labels: BTreeMap<String, String>,
}

/// One target group as written in a YAML file (strict, as Prometheus's
/// `yaml.UnmarshalStrict`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlGroup {
    #[serde(default, deserialize_with = "null_default")]
    targets: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    labels: BTreeMap<String, String>,
}

/// Parses a target file's content. `path` picks the format by extension and
/// goes into `__meta_filepath` and each group's source.
pub fn parse_target_file(path: &str, content: &str) -> Result<Vec<TargetGroup>, String> {
    let lower = path.to_ascii_lowercase();
    let raw: Vec<(Vec<String>, BTreeMap<String, String>)> = if lower.ends_with(".json") {
        let groups: Vec<JsonGroup> = serde_json::from_str(content).map_err(|e| e.to_string())?;
        groups.into_iter().map(|g| (g.targets, g.labels)).collect()
    } else if content.trim().is_empty() {
        Vec::new()
    } else {
        let groups: Option<Vec<YamlGroup>> =
            crate::config::deserialize_yaml(content, path).map_err(|e| e.to_string())?;
        groups
            .unwrap_or_default()
            .into_iter()
            .map(|g| (g.targets, g.labels))
            .collect()
    };
    let mut out = Vec::with_capacity(raw.len());
    for (i, (targets, labels)) in raw.into_iter().enumerate() {
        for name in labels.keys() {
            if !is_valid_label_name(name) {
                return Err(format!("group {i}: {name:?} is not a valid label name"));
            }
        }
        let mut common = Labels::from_pairs(labels).to_builder();
        common.set(FILEPATH_LABEL, path);
        out.push(TargetGroup {
            source: format!("{path}:{i}"),
            targets: targets
                .iter()
                .map(|t| Labels::from_pairs([(ADDRESS_LABEL, t.as_str())]))
                .collect(),
            labels: common.into_labels(),
        });
    }
    Ok(out)
}

#[derive(Debug, Default)]
struct FileState {
    stamp: Option<(SystemTime, u64)>,
    groups: Vec<TargetGroup>,
    error: Option<String>,
}

/// The files of one `file_sd_configs` entry and what was last read from them.
#[derive(Debug)]
pub struct FileDiscovery {
    patterns: Vec<String>,
    refresh_interval: std::time::Duration,
    last_refresh: Option<Instant>,
    files: BTreeMap<PathBuf, FileState>,
    glob_errors: Vec<String>,
}

impl FileDiscovery {
    /// Discovery over `cfg.files` (not read until [`FileDiscovery::refresh`]).
    pub fn new(cfg: &FileSdConfig) -> Self {
        FileDiscovery {
            patterns: cfg.files.clone(),
            refresh_interval: cfg.refresh_interval.std(),
            last_refresh: None,
            files: BTreeMap::new(),
            glob_errors: Vec::new(),
        }
    }

    fn list(&mut self) -> BTreeSet<PathBuf> {
        let mut out = BTreeSet::new();
        self.glob_errors.clear();
        for p in &self.patterns {
            match glob::glob(p) {
                Ok(paths) => out.extend(paths.flatten()),
                Err(e) => self
                    .glob_errors
                    .push(format!("file_sd: invalid pattern {p:?}: {e}")),
            }
        }
        out
    }

    /// True when the refresh interval has passed since the last read.
    pub fn due(&self) -> bool {
        self.last_refresh
            .is_none_or(|t| t.elapsed() >= self.refresh_interval)
    }

    /// True when files appeared, disappeared, or changed size or
    /// modification time since the last read.
    pub fn changed(&mut self) -> bool {
        let now = self.list();
        if now.len() != self.files.len() || !now.iter().all(|p| self.files.contains_key(p)) {
            return true;
        }
        now.iter()
            .any(|p| stamp(p) != self.files.get(p).and_then(|s| s.stamp))
    }

    /// Re-reads every matching file. A file that fails keeps the groups of
    /// its last good read; files that no longer match are forgotten.
    pub fn refresh(&mut self) {
        self.last_refresh = Some(Instant::now());
        let paths = self.list();
        self.files.retain(|p, _| paths.contains(p));
        for path in paths {
            let st = self.files.entry(path.clone()).or_default();
            st.stamp = stamp(&path);
            let name = path.display().to_string();
            let result = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|text| parse_target_file(&name, &text));
            match result {
                Ok(groups) => {
                    st.groups = groups;
                    st.error = None;
                }
                Err(e) => st.error = Some(format!("file_sd: reading {name}: {e}")),
            }
        }
    }

    /// The groups of all files, in path order.
    pub fn groups(&self) -> Vec<TargetGroup> {
        self.files.values().flat_map(|s| s.groups.clone()).collect()
    }

    /// The errors of the last read, one per failing file or pattern.
    pub fn errors(&self) -> Vec<String> {
        self.glob_errors
            .iter()
            .cloned()
            .chain(self.files.values().filter_map(|s| s.error.clone()))
            .collect()
    }
}

fn stamp(p: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len()))
}
