//! The positions file, in Promtail's format:
//!
//! ```yaml
//! positions:
//!   /var/log/app.log: "1234"
//! ```
//!
//! An offset is the byte just past the last line the receiver
//! acknowledged. The file is written whole to a temporary name and renamed
//! over the old one, so a crash leaves the old or the new file, never half
//! of one.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    positions: Option<BTreeMap<String, String>>,
}

/// Offsets by path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Positions {
    path: Option<PathBuf>,
    offsets: BTreeMap<PathBuf, u64>,
    dirty: bool,
}

impl Positions {
    /// Reads `path` (a missing file is empty). A file that cannot be read
    /// is an error unless `ignore_invalid` (then it starts empty, as
    /// Promtail's `ignore_invalid_yaml`).
    pub fn load(path: &Path, ignore_invalid: bool) -> crate::Result<Positions> {
        let mut p = Positions {
            path: Some(path.to_owned()),
            ..Positions::default()
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(p),
            Err(e) => {
                return Err(crate::Error::Config(format!(
                    "reading positions file {}: {e}",
                    path.display()
                )))
            }
        };
        if text.trim().is_empty() {
            return Ok(p);
        }
        let parsed: Result<File, _> =
            sightline_config::yaml::from_str(&text, &path.display().to_string());
        match parsed {
            Ok(f) => {
                for (k, v) in f.positions.unwrap_or_default() {
                    match v.trim().parse::<u64>() {
                        Ok(n) => {
                            p.offsets.insert(PathBuf::from(k), n);
                        }
                        Err(_) if ignore_invalid => {}
                        Err(_) => {
                            return Err(crate::Error::Config(format!(
                                "positions file {}: offset {v:?} of {k:?} is not a number",
                                path.display()
                            )))
                        }
                    }
                }
            }
            Err(_) if ignore_invalid => {}
            Err(e) => {
                return Err(crate::Error::Config(format!(
                    "positions file: {e} (set positions.ignore_invalid_yaml to start afresh)"
                )))
            }
        }
        Ok(p)
    }

    /// Positions kept in memory only (tests).
    pub fn in_memory() -> Positions {
        Positions::default()
    }

    pub fn get(&self, path: &Path) -> Option<u64> {
        self.offsets.get(path).copied()
    }

    pub fn set(&mut self, path: &Path, offset: u64) {
        if self.offsets.get(path) != Some(&offset) {
            self.offsets.insert(path.to_owned(), offset);
            self.dirty = true;
        }
    }

    pub fn remove(&mut self, path: &Path) {
        if self.offsets.remove(path).is_some() {
            self.dirty = true;
        }
    }

    pub fn all(&self) -> &BTreeMap<PathBuf, u64> {
        &self.offsets
    }

    /// Writes the file if anything changed since the last write.
    pub fn save(&mut self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if !self.dirty {
            return Ok(());
        }
        let mut text = String::from("positions:\n");
        for (k, v) in &self.offsets {
            // JSON string quoting is valid YAML double-quoted text.
            let key = serde_json::to_string(&k.to_string_lossy()).unwrap_or_default();
            text.push_str(&format!("  {key}: \"{v}\"\n"));
        }
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let tmp = path.with_extension("yaml.tmp");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        self.dirty = false;
        Ok(())
    }
}
