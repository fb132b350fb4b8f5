//! Runs Prometheus's own `.test` files (kept outside the repo, in
//! `../shared/peer-tests/promql/testdata`) against the engine.
//!
//! `promqltest_known_failures.txt` lists the evals (`file:line`) known to
//! fail, all of them native-histogram evals that were skipped before
//! issue 12; any other failure fails the test, so an eval that passed
//! once cannot regress. The list only shrinks: entries that pass are
//! reported so they can be removed.

use std::path::PathBuf;

fn testdata() -> PathBuf {
    if let Ok(d) = std::env::var("PROMQL_TESTDATA") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peer-tests/promql/testdata")
}

#[test]
fn prometheus_test_files() {
    // Prometheus's suite is theirs, not ours, so it is not in the
    // repository; our own files (tests/testdata/) run in every clone.
    let Some(dir) = sightline_testkit::external_dir(
        &testdata(),
        "Prometheus's upstream .test suite (../shared/peer-tests/, or set PROMQL_TESTDATA)",
    ) else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read testdata directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    let known_text = include_str!("promqltest_known_failures.txt");
    let known: std::collections::HashSet<&str> = known_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut unexpected: Vec<String> = Vec::new();
    let mut now_passing: Vec<String> = Vec::new();
    let mut seen_known: std::collections::HashSet<String> = Default::default();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for f in &files {
        let name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let rep = sightline_promql::promqltest::run_file(f).expect("read test file");
        println!(
            "{name}: {} passed, {} failed, {} skipped",
            rep.passed, rep.failed, rep.skipped
        );
        for s in &rep.skips {
            println!("  skip {s}");
        }
        for s in &rep.failures {
            let line = s
                .strip_prefix("line ")
                .and_then(|r| r.split(':').next())
                .unwrap_or("?");
            let key = format!("{name}:{line}");
            if known.contains(key.as_str()) {
                println!("  known FAIL {s}");
                seen_known.insert(key);
            } else {
                println!("  FAIL {s}");
                unexpected.push(key);
            }
        }
        passed += rep.passed;
        failed += rep.failed;
        skipped += rep.skipped;
    }
    for k in &known {
        if !seen_known.contains(*k) {
            now_passing.push((*k).to_owned());
        }
    }
    println!("total: {passed} passed, {failed} failed, {skipped} skipped");
    if !now_passing.is_empty() {
        now_passing.sort();
        println!(
            "{} known failures no longer fail (remove them from the list): {now_passing:?}",
            now_passing.len()
        );
    }
    assert!(
        unexpected.is_empty(),
        "{} evals failed that are not known failures (issue 12 keeps this list shrinking): {unexpected:?}",
        unexpected.len()
    );
}
