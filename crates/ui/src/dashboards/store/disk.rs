//! The store's files: reading a folder directory at start, and durable
//! writes and removals.

use super::{model, Entry, Inner, FOLDER_META, TMP_SUFFIX};
use crate::error::{Error, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub(super) fn read_folder_title(dir: &Path) -> Option<String> {
    let p = dir.join(FOLDER_META);
    let bytes = std::fs::read(&p).ok()?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => v.get("title").and_then(Value::as_str).map(str::to_owned),
        Err(e) => {
            tracing::error!(file = %p.display(), error = %e, "unreadable folder title; using the directory's name");
            None
        }
    }
}

/// Loads the dashboards of one folder directory into `inner`.
pub(super) fn load_folder(dir: &Path, folder_uid: &str, inner: &mut Inner) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))?;
    let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.ends_with(TMP_SUFFIX) {
            // A save cut short before its rename: the previous file (if
            // any) is still whole, the temporary one may not be.
            let _ = std::fs::remove_file(&path);
            continue;
        }
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        match load_file(&path, stem) {
            Ok(mut entry) => {
                entry.folder_uid = folder_uid.to_owned();
                let uid = stem.to_owned();
                // The same uid in two folders: a move cut short by a crash
                // (new file written, old not yet removed). The newer wins.
                if let Some(prev) = inner.stored.get(&uid) {
                    tracing::warn!(uid, file = %path.display(), "dashboard uid stored twice; keeping the higher version");
                    if prev.version() >= entry.version() {
                        continue;
                    }
                }
                inner.stored.insert(uid, entry);
            }
            Err(e) if model::check_uid(stem, &name).is_ok() => {
                // A damaged file (docs/format/corrupted.md): set aside as
                // `<uid>.json.corrupted`, which no later open reads, and
                // the other dashboards load.
                sightline_storage::dir::quarantine(&path, &e);
            }
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "skipping a dashboard file whose name is not a uid (left in place)");
            }
        }
    }
    Ok(())
}

/// Reads one dashboard file's head (only the summary is kept); its uid is
/// the file's name.
pub(super) fn load_file(path: &Path, uid: &str) -> Result<Entry> {
    let name = path.display().to_string();
    model::check_uid(uid, &name)?;
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let head = model::parse_head(&bytes, &name)?;
    Ok(Entry::from_head(
        head,
        uid.to_owned(),
        path.to_owned(),
        false,
    ))
}

/// Writes `bytes` to `path` durably: a temporary file beside it, fsynced,
/// renamed over `path`, then the directory fsynced.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(TMP_SUFFIX);
    let tmp = PathBuf::from(tmp);
    sightline_storage::dir::write_synced(&tmp, bytes)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io("rename", &tmp, e))?;
    if let Some(dir) = path.parent() {
        sightline_storage::dir::sync_dir(dir)?;
    }
    Ok(())
}

pub(super) fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("remove", path, e)),
    }
    if let Some(dir) = path.parent() {
        sightline_storage::dir::sync_dir(dir)?;
    }
    Ok(())
}
