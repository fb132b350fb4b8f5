//! The two ways the Alertmanager keeps state in its data directory (see
//! `docs/format/alertmanager-state.md`):
//!
//! - [`write_atomic`] replaces a whole snapshot file: the silences, which are
//!   few and change rarely, are rewritten on every change.
//! - [`JsonLines`] appends one JSON object per line and is rewritten in place
//!   (through [`write_atomic`]) when it holds too many dead lines: the
//!   notification log and the notification history change on every
//!   notification, where rewriting everything each time would cost O(n).
//!
//! A file damaged on disk never stops the start: a snapshot that does not
//! parse, or a log with lines that do not, is set aside as
//! `<name>.corrupted` ([`set_aside`], the scheme of every store:
//! `docs/format/corrupted.md`), counted in [`CORRUPTED`] and logged, and
//! the Alertmanager starts with what could be read.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Error, Result};

fn state_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::State {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// Replaces `path` with `data` so that a crash leaves either the old or the
/// new file, never a mix: write `<path>.tmp`, fsync it, rename it over `path`,
/// fsync the directory so the rename itself survives a power cut.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = tmp_path(path);
    let mut f = File::create(&tmp).map_err(state_err("create", &tmp))?;
    f.write_all(data).map_err(state_err("write", &tmp))?;
    f.sync_all().map_err(state_err("fsync", &tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(state_err("rename", path))?;
    sync_dir(path)
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

fn sync_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(state_err("fsync dir", dir))
}

/// State files set aside as damaged since the process started
/// (`sightline_alertmanager_state_files_corrupted_total`). One process runs
/// one Alertmanager, so a process-wide count is the Alertmanager's.
pub static CORRUPTED: AtomicU64 = AtomicU64::new(0);

/// Moves the damaged state file `path` aside as `<name>.corrupted`, logs
/// why and counts it.
fn set_aside(path: &Path, why: &dyn std::fmt::Display) {
    CORRUPTED.fetch_add(1, Relaxed);
    sightline_storage::dir::quarantine(path, why);
}

/// Reads a snapshot written by [`write_atomic`]; `None` when it does not
/// exist, or when it does not parse: then it is set aside (module docs),
/// since refusing to start would take every alert down with one file.
pub(crate) fn read_snapshot<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let data = match fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(state_err("read", path)(e)),
    };
    match serde_json::from_slice(&data) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            set_aside(path, &e);
            Ok(None)
        }
    }
}

/// An append-only file of JSON objects, one per line.
#[derive(Debug)]
pub(crate) struct JsonLines {
    path: PathBuf,
    file: File,
    /// Lines in the file now; the owner compares it with its live records to
    /// decide when to [`JsonLines::rewrite`].
    pub(crate) lines: usize,
}

impl JsonLines {
    /// Opens (creating) `path` and returns every record it holds, oldest first.
    /// A last line without its newline is what a crash in the middle of an
    /// append leaves: it is dropped and the file is cut back to the last whole
    /// line, so later appends start on a fresh line. Other lines that do not
    /// parse are skipped with a warning rather than losing the whole file.
    pub(crate) fn open<T: DeserializeOwned>(path: &Path) -> Result<(JsonLines, Vec<T>)> {
        let mut records = Vec::new();
        let mut lines = 0;
        let mut good_len: u64 = 0;
        let mut total_len: u64 = 0;
        let mut damaged = None;
        match File::open(path) {
            Ok(f) => {
                let mut r = BufReader::new(f);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    let n = r
                        .read_until(b'\n', &mut buf)
                        .map_err(state_err("read", path))?;
                    if n == 0 {
                        break;
                    }
                    total_len += n as u64;
                    if buf.last() != Some(&b'\n') {
                        tracing::warn!(
                            "{}: dropping a partly written last line ({n} bytes)",
                            path.display()
                        );
                        break;
                    }
                    good_len += n as u64;
                    lines += 1;
                    match serde_json::from_slice::<T>(&buf) {
                        Ok(rec) => records.push(rec),
                        Err(e) => {
                            tracing::warn!("{}: skipping line {lines}: {e}", path.display());
                            damaged.get_or_insert(format!("line {lines}: {e}"));
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(state_err("open", path)(e)),
        }
        if let Some(why) = damaged {
            // The readable lines stay in use; the file as found goes to
            // `<name>.corrupted` for the operator, before the owner's
            // rewrite drops the lines that did not parse.
            let aside = path.with_file_name(format!(
                "{}{}",
                path.file_name().unwrap_or_default().to_string_lossy(),
                sightline_storage::layout::CORRUPTED_SUFFIX
            ));
            CORRUPTED.fetch_add(1, Relaxed);
            tracing::error!(
                "{} is damaged ({why}); its readable lines are kept and the file as found is copied to {}",
                path.display(),
                aside.display()
            );
            if let Err(e) = fs::copy(path, &aside) {
                tracing::error!("cannot copy damaged {} aside: {e}", path.display());
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(state_err("open", path))?;
        if good_len < total_len {
            file.set_len(good_len)
                .map_err(state_err("truncate", path))?;
        }
        Ok((
            JsonLines {
                path: path.to_path_buf(),
                file,
                lines,
            },
            records,
        ))
    }

    /// Appends `records` and fsyncs, so they are on disk when this returns.
    pub(crate) fn append<T: Serialize>(&mut self, records: &[T]) -> Result<()> {
        let mut buf = Vec::new();
        for r in records {
            serde_json::to_writer(&mut buf, r).map_err(|e| Error::Config(e.to_string()))?;
            buf.push(b'\n');
        }
        self.file
            .write_all(&buf)
            .map_err(state_err("write", &self.path))?;
        self.file
            .sync_data()
            .map_err(state_err("fsync", &self.path))?;
        self.lines += records.len();
        Ok(())
    }

    /// Replaces the file's content with `records` (atomically) and keeps
    /// appending to the new file.
    pub(crate) fn rewrite<T: Serialize>(&mut self, records: &[T]) -> Result<()> {
        let mut buf = Vec::new();
        for r in records {
            serde_json::to_writer(&mut buf, r).map_err(|e| Error::Config(e.to_string()))?;
            buf.push(b'\n');
        }
        write_atomic(&self.path, &buf)?;
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(state_err("open", &self.path))?;
        self.lines = records.len();
        Ok(())
    }
}

/// RFC 3339 timestamps with as many fractional digits as needed, in UTC, for
/// the state files (`2024-05-01T10:00:00.123456789Z`). Files written before
/// this used chrono's 0/3/6/9-digit fractions, which read back the same.
pub(crate) mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};
    use sightline_core::time;

    pub(crate) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&time::rfc3339_nano(t))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        time::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_last_line_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.jsonl");
        fs::write(&p, b"1\n2\n{\"trunc").unwrap();
        let (mut jl, recs) = JsonLines::open::<u32>(&p).unwrap();
        assert_eq!(recs, vec![1, 2]);
        assert_eq!(jl.lines, 2);
        jl.append(&[3u32]).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "1\n2\n3\n");
        jl.rewrite(&[7u32]).unwrap();
        jl.append(&[8u32]).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "7\n8\n");
        assert!(!tmp_path(&p).exists());
    }

    #[test]
    fn issue_18_damaged_state_files_are_set_aside_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let before = CORRUPTED.load(Relaxed);
        let snap = dir.path().join("silences.json");
        fs::write(&snap, b"{\"version\": 1, \"silen\x00\xff").unwrap();
        assert!(read_snapshot::<serde_json::Value>(&snap).unwrap().is_none());
        assert!(!snap.exists());
        assert!(dir.path().join("silences.json.corrupted").exists());
        let log = dir.path().join("nflog.jsonl");
        fs::write(&log, b"1\n\x00garbage\n3\n").unwrap();
        let (_, recs) = JsonLines::open::<u32>(&log).unwrap();
        assert_eq!(recs, vec![1, 3]);
        assert_eq!(
            fs::read(dir.path().join("nflog.jsonl.corrupted")).unwrap(),
            b"1\n\x00garbage\n3\n"
        );
        assert!(CORRUPTED.load(Relaxed) >= before + 2);
    }
}
