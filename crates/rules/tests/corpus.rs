//! Differential test: every `*.test.yml` under `tests/corpus/` goes through
//! Debian's `promtool test rules` and through ours; verdicts and failure
//! blocks must match (whitespace normalised). Files named `*.ours.test.yml`
//! use features promtool 2.42 lacks (keep_firing_for, query_offset, group
//! labels); they run through ours only and must pass, their expectations
//! worked out by hand. Files whose name contains `fail` must fail.

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.yml"))
        .collect();
    v.sort();
    v
}

/// Whitespace-normalised text. PromQL syntax errors are also reduced to
/// `<parse error>`: their wording and column come from the parser (Go's
/// versus the `promql-parser` crate), not from the rules code under test.
fn norm(s: &str) -> String {
    let re = regex::Regex::new(r"\d+:\d+: parse error: [^\n]*").unwrap();
    let s = re.replace_all(s, "<parse error>");
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[track_caller]
fn promtool() -> Option<PathBuf> {
    sightline_testkit::peer("promtool", "apt-get install prometheus")
}

#[test]
fn corpus_matches_promtool() {
    let files = corpus();
    assert!(files.len() >= 25, "corpus has only {} files", files.len());
    let pt = promtool();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut problems = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let ours = sightline_rules::run_test_files(&[dir.join(&name)]);
        let want_fail = name.contains("fail");
        if (ours.exit_code() != 0) != want_fail {
            problems.push(format!(
                "{name}: ours exited {} (expected {}):\n{}",
                ours.exit_code(),
                if want_fail { "failure" } else { "success" },
                ours.stderr()
            ));
        }
        if name.ends_with(".ours.test.yml") {
            continue;
        }
        let Some(pt) = &pt else { continue };
        let out = Command::new(pt)
            .current_dir(&dir)
            .args(["test", "rules", &name])
            .output()
            .expect("running promtool");
        let p_code = out.status.code().unwrap_or(-1);
        let p_err = String::from_utf8_lossy(&out.stderr).to_string();
        let p_out = String::from_utf8_lossy(&out.stdout).to_string();
        let o_err = ours.stderr().replace(&format!("{}/", dir.display()), "");
        let o_out = ours.stdout().replace(&format!("{}/", dir.display()), "");
        if p_code != ours.exit_code()
            || norm(&p_err) != norm(&o_err)
            || norm(&p_out) != norm(&o_out)
        {
            problems.push(format!(
                "{name}: promtool exit {p_code}, ours {}\n--- promtool stderr\n{p_err}\n--- ours stderr\n{o_err}\n--- promtool stdout\n{p_out}\n--- ours stdout\n{o_out}",
                ours.exit_code()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\n{} of {} files differ",
        problems.join("\n\n"),
        problems.len(),
        files.len()
    );
}
