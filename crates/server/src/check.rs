//! `sightline check rules|config` and `sightline test rules`: promtool's
//! commands with promtool's output and exit codes, so CI jobs that run
//! promtool can run Sightline instead.

use crate::cli::{CheckCommand, TestCommand};
use sightline_rules::file::resolve_globs;
use sightline_rules::{check_rules, run_test_files};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn emit(stdout: &str, stderr: &str, code: i32) -> ExitCode {
    print!("{stdout}");
    eprint!("{stderr}");
    let _ = std::io::stdout().flush();
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Runs a `check` subcommand.
pub fn run_check(cmd: CheckCommand) -> ExitCode {
    match cmd {
        CheckCommand::Rules { files } => {
            let r = check_rules(&files);
            emit(&r.stdout, &r.stderr, r.exit_code)
        }
        CheckCommand::Config {
            files,
            probe_modules_file,
        } => {
            let mut out = String::new();
            let mut err = String::new();
            let mut code = 0;
            for f in &files {
                if !check_config(f, probe_modules_file.as_deref(), &mut out, &mut err) {
                    code = 1;
                }
            }
            emit(&out, &err, code)
        }
        CheckCommand::WebConfig { files } => crate::web::check(&files),
    }
}

/// Runs a `test` subcommand.
pub fn run_test(cmd: TestCommand) -> ExitCode {
    match cmd {
        TestCommand::Rules { files } => {
            let r = run_test_files(&files);
            emit(&r.stdout(), &r.stderr(), r.exit_code())
        }
    }
}

/// Checks one config file (a prometheus.yml, or a sightline.yml and the
/// prometheus.yml it names) and everything `serve` would load from it:
/// the rule files, printed as promtool prints them, then the SLO specs and
/// the probe monitors and modules, with `serve`'s error messages. Returns
/// whether everything is valid.
fn check_config(
    file: &Path,
    modules_flag: Option<&Path>,
    out: &mut String,
    err: &mut String,
) -> bool {
    out.push_str(&format!("Checking {}\n", file.display()));
    let loaded = match crate::config::load(Some(file), "") {
        Ok(c) => c,
        Err(e) => {
            out.push('\n');
            err.push_str(&format!("  FAILED: {e:#}\n"));
            return false;
        }
    };
    for h in &loaded.hints {
        err.push_str(&format!("  WARNING: {h}\n"));
    }
    // A sightline.yml: its own line, then the Prometheus file it names is
    // checked as promtool checks it.
    let prom_file = loaded.prometheus_path.clone();
    if prom_file.as_deref() != Some(file) {
        out.push_str(&format!(
            " SUCCESS: {} is valid sightline config file syntax\n\n",
            file.display()
        ));
    }
    let rules_ok = match &prom_file {
        Some(p) => {
            if p != file {
                out.push_str(&format!("Checking {}\n", p.display()));
            }
            check_prometheus(&loaded, p, out, err)
        }
        None => true,
    };
    let slos_ok = check_slos(&loaded, out, err);
    let probes_ok = check_probes(&loaded, modules_flag, out, err);
    let dashboards_ok = check_dashboards(&loaded, out, err);
    let log_rules_ok = check_log_rules(&loaded, out, err);
    rules_ok && slos_ok && probes_ok && dashboards_ok && log_rules_ok
}

/// `logs.rule_files`, Loki ruler files (LogQL), checked as `serve` loads
/// them, in promtool's layout.
fn check_log_rules(loaded: &crate::config::Loaded, out: &mut String, err: &mut String) -> bool {
    let globs = &loaded.logs.rule_files;
    if globs.is_empty() {
        return true;
    }
    out.push_str(&format!("Checking logs.rule_files {}\n", globs.join(", ")));
    let files = match resolve_globs(globs, Path::new("")) {
        Ok(f) => f,
        Err(e) => {
            out.push('\n');
            err.push_str(&format!("  FAILED: {e}\n"));
            return false;
        }
    };
    out.push_str(&format!(
        "  SUCCESS: {} log rule files found\n\n",
        files.len()
    ));
    let r = sightline_rules::file::check_rules_as(&files, sightline_rules::QueryLang::LogQL);
    out.push_str(&r.stdout);
    err.push_str(&r.stderr);
    r.exit_code == 0
}

/// The `dashboards:` providers, read as `serve` reads them. A dashboard
/// file that does not load fails the check (`serve` skips it with an
/// error in its log).
fn check_dashboards(loaded: &crate::config::Loaded, out: &mut String, err: &mut String) -> bool {
    let Some(section) = &loaded.dashboards else {
        return true;
    };
    out.push_str(&format!("Checking dashboards in {}\n", section.file));
    match crate::dashboards::load(Some(section), None) {
        Ok(set) if set.errors.is_empty() => {
            out.push_str(&format!(
                "  SUCCESS: {} dashboards found\n\n",
                set.dashboards.len()
            ));
            true
        }
        Ok(set) => {
            out.push('\n');
            for e in &set.errors {
                err.push_str(&format!("  FAILED: {e}\n"));
            }
            false
        }
        Err(e) => {
            out.push('\n');
            err.push_str(&format!("  FAILED:\n{e:#}\n"));
            false
        }
    }
}

/// The Prometheus part, as `promtool check config` prints it.
fn check_prometheus(
    loaded: &crate::config::Loaded,
    prom_file: &Path,
    out: &mut String,
    err: &mut String,
) -> bool {
    // The loader anchored the paths at the file's folder, as promtool's
    // does; joining the folder again looked in `newcomer/newcomer/`.
    let rule_files: Vec<PathBuf> = match resolve_globs(&loaded.prometheus.rule_files, Path::new(""))
    {
        Ok(files) => files,
        Err(e) => {
            out.push('\n');
            err.push_str(&format!("  FAILED: {e}\n"));
            return false;
        }
    };
    out.push_str(&format!(
        "  SUCCESS: {} rule files found\n",
        rule_files.len()
    ));
    out.push_str(&format!(
        " SUCCESS: {} is valid prometheus config file syntax\n\n",
        prom_file.display()
    ));
    if rule_files.is_empty() {
        return true;
    }
    let r = check_rules(&rule_files);
    out.push_str(&r.stdout);
    err.push_str(&r.stderr);
    r.exit_code == 0
}

/// The SLO spec files, loaded and turned into rules as `serve` does (the
/// same loader, so the same messages), in promtool's layout.
fn check_slos(loaded: &crate::config::Loaded, out: &mut String, err: &mut String) -> bool {
    if loaded.slos.is_empty() {
        return true;
    }
    out.push_str(&format!("Checking SLO specs {}\n", loaded.slos.join(", ")));
    match crate::slo::load_config_slos(&loaded.slos, Path::new("")) {
        Ok((slos, _)) => {
            let files = resolve_globs(&loaded.slos, Path::new("")).map_or(0, |f| f.len());
            out.push_str(&format!(
                "  SUCCESS: {} SLOs found in {files} files\n\n",
                slos.len()
            ));
            true
        }
        Err(e) => {
            out.push('\n');
            err.push_str(&format!("  FAILED:\n{e:#}\n"));
            false
        }
    }
}

/// The probe monitors and modules (with `--probe.modules-file`'s), read as
/// `serve` reads them.
fn check_probes(
    loaded: &crate::config::Loaded,
    modules_flag: Option<&Path>,
    out: &mut String,
    err: &mut String,
) -> bool {
    let where_ = match (&loaded.probes, modules_flag) {
        (Some(p), _) => format!("probes in {}", p.file),
        (None, Some(f)) => format!("probe modules in {}", f.display()),
        (None, None) => return true,
    };
    out.push_str(&format!("Checking {where_}\n"));
    match crate::probes::load_setup(loaded.probes.as_ref(), modules_flag) {
        Ok(setup) => {
            out.push_str(&format!(
                "  SUCCESS: {} monitors, {} modules found\n\n",
                setup.monitors.len(),
                setup.endpoint_modules.len()
            ));
            true
        }
        Err(e) => {
            out.push('\n');
            err.push_str(&format!("  FAILED:\n{e:#}\n"));
            false
        }
    }
}
