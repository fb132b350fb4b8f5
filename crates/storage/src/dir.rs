//! Immutable directories: written under a temporary name, the meta file
//! last, fsynced, then renamed into place, so that a reader or a restarted
//! process sees either no directory or a whole one.
//!
//! The order matters: a directory's meta file is what makes it a directory
//! to a store (the metrics TSDB's `meta.json`), so it is written after every
//! other file is durable, and the rename that publishes the directory comes
//! after the meta file and the directories themselves are fsynced.
//! [`cleanup_leftovers`] removes what a crash left half done.

use crate::layout::{CORRUPTED_SUFFIX, DELETED_SUFFIX, TMP_SUFFIX};
use crate::{Error, Result};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A directory being written as `<parent>/<name>.tmp`. [`PendingDir::commit`]
/// publishes it as `<parent>/<name>`; dropping it uncommitted removes it.
#[derive(Debug)]
pub struct PendingDir {
    parent: PathBuf,
    name: String,
    tmp: PathBuf,
    done: bool,
}

impl PendingDir {
    /// Creates `<parent>/<name>.tmp` (removing a stale one first) and the
    /// subdirectories `subdirs` inside it.
    pub fn create(parent: &Path, name: &str, subdirs: &[&str]) -> Result<PendingDir> {
        let tmp = parent.join(format!("{name}{TMP_SUFFIX}"));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).map_err(|e| Error::io("create dir", &tmp, e))?;
        for s in subdirs {
            let p = tmp.join(s);
            fs::create_dir_all(&p).map_err(|e| Error::io("create dir", &p, e))?;
        }
        Ok(PendingDir {
            parent: parent.to_path_buf(),
            name: name.to_owned(),
            tmp,
            done: false,
        })
    }

    /// The temporary directory, to write files into.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The name the directory will have.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes `bytes` as the file `rel` inside the directory and fsyncs it.
    pub fn write_file(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        write_synced(&self.tmp.join(rel), bytes)
    }

    /// Writes the meta file `meta` (if any) last, fsyncs every directory
    /// inside, then renames the directory into place (replacing one of the
    /// same name) and fsyncs the parent. Files written through other handles
    /// must have been fsynced by their writers. Returns the final path.
    pub fn commit(mut self, meta: Option<(&str, &[u8])>) -> Result<PathBuf> {
        if let Some((name, bytes)) = meta {
            self.write_file(name, bytes)?;
        }
        sync_tree(&self.tmp)?;
        let fin = self.parent.join(&self.name);
        let _ = fs::remove_dir_all(&fin);
        fs::rename(&self.tmp, &fin).map_err(|e| Error::io("rename", &self.tmp, e))?;
        self.done = true;
        sync_dir(&self.parent)?;
        Ok(fin)
    }
}

impl Drop for PendingDir {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// fsyncs the directories under `dir`, deepest first, then `dir`.
fn sync_tree(dir: &Path) -> Result<()> {
    let rd = fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))?;
    for e in rd {
        let e = e.map_err(|e| Error::io("read dir", dir, e))?;
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            sync_tree(&e.path())?;
        }
    }
    sync_dir(dir)
}

/// Creates (or replaces) the file `path` with `bytes` and fsyncs it.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io("create", path, e))?;
    f.write_all(bytes)
        .map_err(|e| Error::io("write", path, e))?;
    f.sync_all().map_err(|e| Error::io("fsync", path, e))
}

/// fsyncs a directory so a create or rename in it is durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("fsync dir", dir, e))
}

/// Bytes of all files under `p`, recursively; errors count as 0 (a file
/// removed while we look is no longer stored).
pub fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Removes what interrupted writes and removals left in `parent`:
/// `*.tmp` and `*.deleted` directories. Returns their names.
pub fn cleanup_leftovers(parent: &Path) -> Result<Vec<String>> {
    let mut gone = Vec::new();
    let rd = fs::read_dir(parent).map_err(|e| Error::io("read dir", parent, e))?;
    for e in rd {
        let e = e.map_err(|e| Error::io("read dir", parent, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(TMP_SUFFIX) || name.ends_with(DELETED_SUFFIX) {
            let _ = fs::remove_dir_all(e.path());
            gone.push(name);
        }
    }
    Ok(gone)
}

/// Removes the directory `dir`: renamed to `<name>.deleted` first, which
/// hides it from a later open at once, then deleted. Readers holding its
/// files open keep them until they finish.
pub fn remove(dir: &Path) -> Result<()> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let to = dir.with_file_name(format!("{name}{DELETED_SUFFIX}"));
    fs::rename(dir, &to).map_err(|e| Error::io("rename", dir, e))?;
    fs::remove_dir_all(&to).map_err(|e| Error::io("remove", &to, e))
}

/// Renames a damaged directory to `<name>.corrupted`, logging why, so the
/// store keeps serving the rest and the operator can look at it. Returns
/// the new name.
pub fn quarantine(dir: &Path, why: &dyn std::fmt::Display) -> String {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let to = dir.with_file_name(format!("{name}{CORRUPTED_SUFFIX}"));
    log::error!(
        "{} is corrupt and is set aside as {}: {why}",
        dir.display(),
        to.display()
    );
    if let Err(e) = fs::rename(dir, &to) {
        log::error!("cannot move corrupt {} aside: {e}", dir.display());
    }
    format!("{name}{CORRUPTED_SUFFIX}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_testkit::TempDir;

    #[test]
    fn a_directory_appears_whole_with_its_meta_file() {
        let d = TempDir::new("dir-commit");
        let p = PendingDir::create(d.path(), "B1", &["chunks"]).unwrap();
        p.write_file("chunks/000001", b"data").unwrap();
        assert!(d.path().join("B1.tmp/chunks/000001").exists());
        assert!(!d.path().join("B1").exists());
        let fin = p.commit(Some(("meta.json", b"{}"))).unwrap();
        assert_eq!(fin, d.path().join("B1"));
        assert_eq!(fs::read(fin.join("meta.json")).unwrap(), b"{}");
        assert_eq!(fs::read(fin.join("chunks/000001")).unwrap(), b"data");
        assert!(!d.path().join("B1.tmp").exists());
        assert_eq!(dir_size(&fin), 6);
    }

    #[test]
    fn uncommitted_and_leftover_directories_go_away() {
        let d = TempDir::new("dir-leftovers");
        {
            let p = PendingDir::create(d.path(), "B2", &[]).unwrap();
            p.write_file("x", b"1").unwrap();
        }
        assert!(!d.path().join("B2.tmp").exists());
        for n in ["B3.tmp", "B4.deleted", "B5.corrupted", "B6"] {
            fs::create_dir_all(d.path().join(n)).unwrap();
        }
        let mut gone = cleanup_leftovers(d.path()).unwrap();
        gone.sort();
        assert_eq!(gone, ["B3.tmp", "B4.deleted"]);
        assert!(d.path().join("B5.corrupted").exists());
        remove(&d.path().join("B6")).unwrap();
        assert!(!d.path().join("B6").exists());
        assert_eq!(
            quarantine(&d.path().join("B5.corrupted"), &"test"),
            "B5.corrupted.corrupted"
        );
    }
}
