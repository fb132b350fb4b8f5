//! What the packaging and migration tests share: the repository's root,
//! and `validate.py` (the schema checks done in Python).
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the repository, as text.
pub fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// Runs `validate.py` with `args` in the repository's root. None (a
/// recorded skip; a failure under CI) when python3 or a validator package
/// is missing.
pub fn validator(args: &[&str]) -> Option<Output> {
    let python = sightline_testkit::peer("python3", "apt-get install python3")?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/packaging/validate.py");
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run validate.py");
    if out.status.code() == Some(2) {
        sightline_testkit::skip(&format!(
            "{} (.ci/run installs it)",
            String::from_utf8_lossy(&out.stdout).trim()
        ));
        return None;
    }
    Some(out)
}

/// `validate.py json FILE`: the YAML documents of FILE (a path relative to
/// the repository's root, or absolute).
pub fn yaml_docs(file: &str) -> Option<Vec<Value>> {
    let out = validator(&["json", file])?;
    assert!(out.status.success(), "{file} is not YAML: {out:?}");
    Some(serde_json::from_slice(&out.stdout).expect("validate.py json prints JSON"))
}

/// `sightline ARGS` run to its end, in `cwd` when given.
pub fn sightline_in(cwd: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sightline"));
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    cmd.args(args).output().expect("run sightline")
}

/// Stdout and stderr of `out`, for messages.
pub fn both(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
