//! Test-only helpers shared by every crate's tests (a dev-dependency, never
//! linked into the binary).
//!
//! The one rule they carry: a test that cannot run here says so. Under
//! `CI=true` a missing peer or missing test data is a failure, because CI
//! installs everything and a silent skip would hide a broken install. On
//! a developer's machine the test returns early, and the reason is
//! appended to the file named by `SIGHTLINE_SKIP_LOG` (which
//! `scripts/test` sets and prints after the run), so "passed" never means
//! "checked nothing" without a line saying so.

pub mod protobuf;

use std::io::Write;
use std::path::{Path, PathBuf};

/// Whether the tests run under CI (`CI=true`), where nothing may be skipped.
pub fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Records that the calling test skips part or all of its work, and why.
///
/// Panics under `CI=true`. Elsewhere prints the reason and appends
/// `file: test: reason` to `$SIGHTLINE_SKIP_LOG` when it is set.
#[track_caller]
pub fn skip(reason: &str) {
    let at = std::panic::Location::caller().file();
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    if under_ci() {
        panic!("{at}: {test}: cannot skip under CI=true: {reason}");
    }
    eprintln!("skipping: {reason}");
    if let Some(log) = std::env::var_os("SIGHTLINE_SKIP_LOG") {
        // One write per line: tests run on many threads and in several
        // processes at once, and O_APPEND keeps whole lines apart.
        let line = format!("{at}: {test}: {reason}\n");
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// Finds a peer program (e.g. `prometheus`, `promtool`) on `PATH`, or
/// records a skip (a failure under CI) and returns None. `install` says
/// how to get it (`apt-get install prometheus`).
#[track_caller]
pub fn peer(name: &str, install: &str) -> Option<PathBuf> {
    let found = find_on_path(name);
    if found.is_none() {
        skip(&format!(
            "peer {name:?} is not installed ({install}; .ci/run installs every peer)"
        ));
    }
    found
}

/// The first `name` among the folders of `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A folder of data kept outside the repository (e.g. Prometheus's own
/// `.test` files under `../shared/peer-tests/`), or a recorded skip when
/// it is missing. `what` names it in the skip line.
#[track_caller]
pub fn external_dir(dir: &Path, what: &str) -> Option<PathBuf> {
    if dir.is_dir() {
        return Some(dir.to_path_buf());
    }
    skip(&format!("{what} not found at {}", dir.display()));
    None
}

/// A fresh directory under the system temp dir, removed with its contents
/// on drop: one definition for every crate's tests.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `sightline-<tag>-<pid>-<n>` (emptied if a crashed run left it).
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "sightline-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("creating temp dir");
        TempDir(p)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_program_every_machine_has() {
        // `sh` is on PATH wherever the tests run; a made-up name is not.
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("sightline-no-such-program-here").is_none());
    }

    #[test]
    fn temp_dirs_are_distinct_and_removed_on_drop() {
        let (a, b) = (TempDir::new("testkit"), TempDir::new("testkit"));
        assert_ne!(a.path(), b.path());
        std::fs::write(a.path().join("f"), b"x").unwrap();
        let p = a.path().to_path_buf();
        drop(a);
        assert!(!p.exists());
    }
}
