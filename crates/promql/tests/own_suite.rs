//! Our own PromQL `.test` files (tests/testdata/), in the repository, so
//! every clone exercises the engine's semantics end to end (issue 13).
//!
//! [`own_test_files_pass`] runs every file through the `.test` harness and
//! requires every eval to pass: there is no known-failures list and no
//! skipping.

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
        files.len() >= 1,
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
