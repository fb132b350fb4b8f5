//! Runs Prometheus's own `.test` files (kept outside the repo, in
//! `../shared/peer-tests/promql/testdata`) against the engine.

use std::path::PathBuf;

fn testdata() -> PathBuf {
    if let Ok(d) = std::env::var("PROMQL_TESTDATA") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peer-tests/promql/testdata")
}

#[test]
fn prometheus_test_files() {
    let dir = testdata();
    if !dir.is_dir() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "promql testdata directory {} is missing (required under CI=true)",
            dir.display()
        );
        eprintln!(
            "skipping: promql testdata directory {} is missing",
            dir.display()
        );
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read testdata directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
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
            println!("  FAIL {s}");
        }
        passed += rep.passed;
        failed += rep.failed;
        skipped += rep.skipped;
    }
    println!("total: {passed} passed, {failed} failed, {skipped} skipped");
    assert_eq!(
        failed, 0,
        "{failed} in-scope evals failed; each is listed above as FAIL"
    );
}
