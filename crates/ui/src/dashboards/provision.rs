//! The `dashboards:` section of `sightline.yml`: Grafana's dashboard
//! provisioning file, as it is (`apiVersion`, `providers: [{name, folder,
//! folderUid, type: file, disableDeletion, allowUiUpdates,
//! updateIntervalSeconds, options: {path, foldersFromFilesStructure}}]`),
//! so a Grafana provisioning file pastes in unchanged.
//!
//! [`load`] reads every provider's folder into a [`ProvisionedSet`]
//! without touching the store, so the server can prepare it with the other
//! sections and put it in force only when every section is good. A file
//! that does not load is logged and reported, and the others still load; a
//! provider whose folder cannot be read refuses the section.

use super::model::{self, slugify};
use super::store::{Entry, Folder, Provenance, ProvisionedSet};
use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The `dashboards:` section.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DashboardsConfig {
    /// Grafana's file version (1); accepted and ignored.
    #[serde(default)]
    pub api_version: Option<u32>,
    /// Where dashboards come from.
    #[serde(default)]
    pub providers: Vec<Provider>,
}

/// One provider: a folder of dashboard JSON files.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Provider {
    /// Its name, unique among providers.
    pub name: String,
    /// Grafana's organisation; Sightline has one, so only 1 is accepted.
    #[serde(default = "default_org_id")]
    pub org_id: i64,
    /// Title of the folder its dashboards go into (empty: General).
    #[serde(default)]
    pub folder: String,
    /// That folder's uid (default: made from the title).
    #[serde(default)]
    pub folder_uid: String,
    /// Only `file`.
    #[serde(default = "default_type", rename = "type")]
    pub kind: String,
    /// Grafana: keep dashboards whose file is removed. Sightline holds
    /// provisioned dashboards only while their file exists, so this is
    /// accepted and has no effect.
    #[serde(default)]
    pub disable_deletion: bool,
    /// Whether the UI may save changes to these dashboards (kept in the
    /// data dir until the file changes).
    #[serde(default)]
    pub allow_ui_updates: bool,
    /// How often the files are checked for changes (seconds, at least 1);
    /// they are also read at start and on reload (`/-/reload`, SIGHUP).
    #[serde(default = "default_interval")]
    pub update_interval_seconds: u64,
    /// The folder to read.
    pub options: ProviderOptions,
}

/// A file provider's options.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderOptions {
    /// The folder of `*.json` dashboards (searched recursively), relative
    /// to the folder of the config file.
    pub path: String,
    /// Each sub-folder becomes a dashboard folder of its name (files at
    /// the top go to General).
    #[serde(default)]
    pub folders_from_files_structure: bool,
}

fn default_org_id() -> i64 {
    1
}
fn default_type() -> String {
    "file".into()
}
fn default_interval() -> u64 {
    10
}

impl Provider {
    /// The provider `--dashboards.dir DIR` stands for: every file of the
    /// folder, sub-folders as folders, editable from the UI.
    pub fn from_dir(dir: &Path) -> Provider {
        Provider {
            name: "dashboards.dir".into(),
            org_id: 1,
            folder: String::new(),
            folder_uid: String::new(),
            kind: default_type(),
            disable_deletion: false,
            allow_ui_updates: true,
            update_interval_seconds: default_interval(),
            options: ProviderOptions {
                path: dir.display().to_string(),
                folders_from_files_structure: true,
            },
        }
    }
}

impl DashboardsConfig {
    /// Checks what parsing cannot; errors start with the field's path
    /// (`dashboards.providers[1].type: ...`) for the config root to locate.
    pub fn check(&self) -> Result<()> {
        let mut names = BTreeSet::new();
        for (i, p) in self.providers.iter().enumerate() {
            let at =
                |f: &str, m: String| Error::Config(format!("dashboards.providers[{i}].{f}: {m}"));
            if p.name.trim().is_empty() {
                return Err(at("name", "a provider needs a name".into()));
            }
            if !names.insert(p.name.as_str()) {
                return Err(at(
                    "name",
                    format!("provider name {:?} is used twice", p.name),
                ));
            }
            if p.kind != "file" {
                return Err(at(
                    "type",
                    format!("unsupported provider type {:?} (only \"file\")", p.kind),
                ));
            }
            if p.org_id != 1 {
                return Err(at("orgId", "Sightline has one organisation, 1".into()));
            }
            if p.options.path.trim().is_empty() {
                return Err(at("options.path", "a file provider needs a path".into()));
            }
            if !p.folder_uid.is_empty() {
                model::check_uid(&p.folder_uid, "folder uid")
                    .map_err(|e| at("folderUid", e.to_string()))?;
            }
            if p.options.folders_from_files_structure
                && (!p.folder.is_empty() || !p.folder_uid.is_empty())
            {
                return Err(at(
                    "options.foldersFromFilesStructure",
                    "cannot be used with folder or folderUid".into(),
                ));
            }
        }
        Ok(())
    }
}

/// A folder uid made from a title when none is given: stable, so a
/// restart finds the same folder.
fn folder_uid_for(title: &str) -> String {
    let s: String = slugify(title)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect();
    if s.is_empty() || s == super::store::GENERAL {
        format!("f{}", stable_id(title))
    } else {
        s
    }
}

/// 13 base-62 characters of a stable hash (FNV-1a, 64 bits), for names
/// that must not change between runs.
fn stable_id(s: &str) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::new();
    for _ in 0..11 {
        out.push(DIGITS[(h % 62) as usize] as char);
        h /= 62;
    }
    out
}

/// Reads every provider of `config` (paths relative to `base`).
pub fn load(config: &DashboardsConfig, base: &Path) -> Result<ProvisionedSet> {
    config.check()?;
    let mut set = ProvisionedSet::default();
    let mut uids = BTreeSet::new();
    let mut folders = BTreeSet::new();
    for (i, p) in config.providers.iter().enumerate() {
        let root = if Path::new(&p.options.path).is_absolute() {
            PathBuf::from(&p.options.path)
        } else {
            base.join(&p.options.path)
        };
        let mut files = Vec::new();
        walk(&root, &mut files).map_err(|e| {
            Error::Config(format!(
                "dashboards.providers[{i}].options.path: cannot read the folder {}: {e}",
                root.display()
            ))
        })?;
        files.sort();
        let fixed_folder = if p.folder.is_empty() && p.folder_uid.is_empty() {
            None
        } else {
            let uid = if p.folder_uid.is_empty() {
                folder_uid_for(&p.folder)
            } else {
                p.folder_uid.clone()
            };
            let title = if p.folder.is_empty() {
                uid.clone()
            } else {
                p.folder.clone()
            };
            Some(Folder { uid, title })
        };
        for file in files {
            let folder = match &fixed_folder {
                Some(f) => Some(f.clone()),
                None if p.options.folders_from_files_structure => file
                    .parent()
                    .filter(|d| *d != root)
                    .and_then(|d| d.file_name())
                    .map(|n| {
                        let title = n.to_string_lossy().into_owned();
                        Folder {
                            uid: folder_uid_for(&title),
                            title,
                        }
                    }),
                None => None,
            };
            let rel = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string();
            match load_one(&file, &format!("{}/{rel}", p.name)) {
                Ok(mut entry) => {
                    let uid = entry.uid().to_owned();
                    if !uids.insert(uid.clone()) {
                        let msg = format!(
                            "{}: the dashboard uid {uid:?} is used by another provisioned file; skipped",
                            file.display()
                        );
                        tracing::error!("{msg}");
                        set.errors.push(msg);
                        continue;
                    }
                    entry.folder_uid = folder.as_ref().map(|f| f.uid.clone()).unwrap_or_default();
                    entry.provisioned = Some(Provenance {
                        provider: p.name.clone(),
                        file: file.clone(),
                        allow_ui_updates: p.allow_ui_updates,
                    });
                    if let Some(f) = folder {
                        if folders.insert(f.uid.clone()) {
                            set.folders.push(f);
                        }
                    }
                    set.dashboards.push(entry);
                }
                Err(e) => {
                    let msg = e.to_string();
                    tracing::error!(provider = %p.name, error = %msg, "provisioned dashboard skipped");
                    set.errors.push(msg);
                }
            }
        }
    }
    Ok(set)
}

/// A summary of the providers' files (paths, sizes, modification times):
/// when it changes, the files need reading again. Only directory walks and
/// `stat`s, no file is opened, so it can run every few seconds.
pub fn fingerprint(config: &DashboardsConfig, base: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in &config.providers {
        let root = base.join(&p.options.path);
        root.hash(&mut h);
        let mut files = Vec::new();
        if walk(&root, &mut files).is_err() {
            "unreadable".hash(&mut h);
        }
        files.sort();
        for f in files {
            f.hash(&mut h);
            if let Ok(m) = std::fs::metadata(&f) {
                m.len().hash(&mut h);
                m.modified().ok().hash(&mut h);
            }
        }
    }
    h.finish()
}

/// How often to look for changed files: the smallest
/// `updateIntervalSeconds` (at least 1 s), or None without providers.
pub fn interval(config: &DashboardsConfig) -> Option<std::time::Duration> {
    config
        .providers
        .iter()
        .map(|p| p.update_interval_seconds.max(1))
        .min()
        .map(std::time::Duration::from_secs)
}

/// One provisioned file's head (only the summary is kept). Its uid is
/// the dashboard's, or made from the provider and the file's path (stable
/// across restarts).
fn load_one(path: &Path, key: &str) -> Result<Entry> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let head = model::parse_head(&bytes, &name)?;
    let uid = match &head.uid {
        Some(u) => {
            model::check_uid(u, &format!("{name}: uid"))?;
            u.clone()
        }
        None => format!("p{}", stable_id(key)),
    };
    Ok(Entry::from_head(head, uid, path.to_owned(), true))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        let hidden = e.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if e.file_type()?.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
