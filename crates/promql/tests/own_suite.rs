//! Our own PromQL `.test` files (tests/testdata/), in the repository, so
//! every clone exercises the engine's semantics end to end (issue 13).
//!
//! [`own_test_files_pass`] runs every file through the `.test` harness and
//! requires every eval to pass: there is no known-failures list and no
//! skipping. [`promtool_agrees`] (in `own_suite/promtool.rs`) hands the
//! same data and the float instant evals to Prometheus's `promtool test
//! rules`, so the peer confirms the expected values that were worked out
//! by hand.

#[path = "own_suite/promtool.rs"]
mod promtool;

use std::path::PathBuf;

/// The `.test` files of tests/testdata/, sorted.
pub fn own_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/testdata");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    files
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn own_test_files_pass() {
    let files = own_files();
    assert!(
        files.len() >= 10,
        "expected our .test files in tests/testdata, found {}",
        files.len()
    );
    let mut problems = Vec::new();
    let (mut passed, mut total) = (0, 0);
    for f in &files {
        let name = file_name(f);
        let rep = sightline_promql::promqltest::run_file(f).expect("read test file");
        println!(
            "{name}: {} passed, {} failed, {} skipped",
            rep.passed, rep.failed, rep.skipped
        );
        assert!(rep.passed > 0, "{name}: no eval ran");
        for s in rep.failures.iter().chain(&rep.skips) {
            problems.push(format!("{name}: {s}"));
        }
        passed += rep.passed;
        total += rep.passed + rep.failed + rep.skipped;
    }
    println!("total: {passed} of {total} evals passed");
    // Skips count as failures here: a command the harness cannot run
    // checks nothing, so our files must not use one.
    assert!(
        problems.is_empty(),
        "{} evals failed or were skipped:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The peer confirms our expected values: each file's float data and float
/// evals go to `promtool test rules` (Prometheus 2.42).
#[test]
fn promtool_agrees() {
    let Some(promtool) = sightline_testkit::peer("promtool", "apt-get install prometheus") else {
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("own_suite_promtool");
    std::fs::create_dir_all(&dir).expect("create temporary folder");
    let mut problems = Vec::new();
    let (mut checked, mut queries, mut excluded) = (0, 0, 0);
    for f in own_files() {
        let name = file_name(&f);
        let text = std::fs::read_to_string(&f).expect("read test file");
        let conv = promtool::convert(&text);
        println!(
            "{name}: {} evals checked by promtool ({} instant queries), {} excluded",
            conv.checked,
            conv.queries,
            conv.excluded.len()
        );
        for e in &conv.excluded {
            println!("  excluded {e}");
        }
        checked += conv.checked;
        queries += conv.queries;
        excluded += conv.excluded.len();
        if conv.checked == 0 {
            continue;
        }
        let yml = dir.join(name.replace(".test", ".yml"));
        std::fs::write(&yml, &conv.yaml).expect("write promtool file");
        let run = std::process::Command::new(&promtool)
            .arg("test")
            .arg("rules")
            .arg(&yml)
            .output()
            .expect("run promtool");
        if run.status.success() {
            assert!(
                conv.expect_errors.is_empty(),
                "{name}: promtool passed, but evals {:?} expect errors",
                conv.expect_errors
            );
            continue;
        }
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        match promtool::read_report(&report, &conv.expect_errors) {
            Ok(v) if report.contains("expr: ") => {
                if v.within_tolerance > 0 {
                    println!(
                        "  {} queries match promtool within 1e-6, not bit for bit (NaN never equals NaN there)",
                        v.within_tolerance
                    );
                }
                for r in v.real {
                    problems.push(format!("{name} ({}): {r}", yml.display()));
                }
            }
            _ => problems.push(format!("{name}: promtool failed:\n{report}")),
        }
    }
    println!("total: {checked} evals checked by promtool ({queries} instant queries), {excluded} excluded");
    assert!(checked > 0, "promtool checked no eval");
    assert!(
        problems.is_empty(),
        "promtool disagrees with {} expected values:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The peer check can fail: a wrong expected value and a query that does
/// not fail are both reported.
#[test]
fn promtool_catches_wrong_expectations() {
    let Some(promtool) = sightline_testkit::peer("promtool", "apt-get install prometheus") else {
        return;
    };
    let text = "load 1m\n  a 0+1x10\n\neval instant at 5m a * 2\n  {} 11\n\neval_fail instant at 5m a + 1\n";
    let conv = promtool::convert(text);
    assert_eq!(conv.checked, 2);
    let yml = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("own_suite_wrong.yml");
    std::fs::write(&yml, &conv.yaml).expect("write promtool file");
    let run = std::process::Command::new(&promtool)
        .args(["test", "rules"])
        .arg(&yml)
        .output()
        .expect("run promtool");
    assert!(!run.status.success());
    let report =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    let v = promtool::read_report(&report, &conv.expect_errors).expect("read report");
    for line in ["# line 4\"", "# line 7 (fails)"] {
        assert!(
            v.real.iter().any(|r| r.contains(line)),
            "{line} not reported: {report}\n{:?}",
            v.real
        );
    }
}
