//! Issue 12, item 2: `check config` checks everything `serve` would load
//! from the file, not only the rule files: the SLO specs it names (one with
//! `objective: 199` passed the check, then `slo generate` and `serve`
//! refused it) and the probe monitors and modules, with the loaders' own
//! messages.

mod common;

use common::free_port;
use std::path::Path;
use std::process::Command;

fn sightline(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run sightline");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `serve` on `config`, which must refuse to start; its stderr.
fn serve_refuses(cwd: &Path, config: &str) -> String {
    let data = cwd.join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let (code, _, stderr) = sightline(
        cwd,
        &[
            "serve",
            "--config",
            config,
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            &listen,
        ],
    );
    assert_ne!(code, 0, "serve started on {config}");
    stderr
}

const BAD_SLO: &str =
    "version: sightline/v1\nservice: checkout\nslos:\n  - name: availability\n    objective: 199\n\
    \x20   availability: {metric: http_requests_total, errors: 'code=~\"5..\"'}\n";

#[test]
fn issue_12_check_config_refuses_the_slo_spec_slo_generate_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("slo.yml"), BAD_SLO).unwrap();
    let (code, _, stderr) = sightline(dir, &["slo", "generate", "slo.yml"]);
    assert_eq!(code, 1);
    // The loader's own words, as `slo generate` prints them.
    let msg = stderr.trim().strip_prefix("error: ").unwrap().to_owned();
    assert!(msg.contains("objective 199 must be above 0"), "{msg}");

    // Named by a sightline.yml, and by a prometheus.yml in the older form.
    std::fs::write(dir.join("sightline.yml"), "slos: [slo.yml]\n").unwrap();
    std::fs::write(dir.join("prometheus.yml"), "global: {}\nslos: [slo.yml]\n").unwrap();
    for config in ["sightline.yml", "prometheus.yml"] {
        let (code, stdout, stderr) = sightline(dir, &["check", "config", config]);
        assert_eq!(code, 1, "{config}: {stdout}{stderr}");
        assert!(
            stdout.contains("Checking SLO specs slo.yml\n"),
            "{config}: {stdout}"
        );
        assert!(stderr.contains(&msg), "{config}: {stderr}");
        // serve refuses it with the same words.
        let served = serve_refuses(dir, config);
        assert!(
            served.contains(&format!("loading SLO specs: {msg}")),
            "{served}"
        );
        assert!(
            stderr.contains(&format!("loading SLO specs: {msg}")),
            "{stderr}"
        );
    }

    // A good spec passes, counted.
    std::fs::write(dir.join("slo.yml"), BAD_SLO.replace("199", "99.9")).unwrap();
    let (code, stdout, stderr) = sightline(dir, &["check", "config", "sightline.yml"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("Checking SLO specs slo.yml\n  SUCCESS: 1 SLOs found in 1 files\n"),
        "{stdout}"
    );
}

#[test]
fn issue_12_check_config_checks_probe_monitors_and_modules() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("conf")).unwrap();
    std::fs::write(
        dir.join("conf/blackbox.yml"),
        "modules:\n  tcp_connect:\n    prober: tcp\n",
    )
    .unwrap();
    let good = "probes:\n  modules_file: blackbox.yml\n  monitors:\n    - name: db\n      module: tcp_connect\n      targets: ['127.0.0.1:1']\n";
    std::fs::write(dir.join("conf/sightline.yml"), good).unwrap();
    let (code, stdout, stderr) = sightline(dir, &["check", "config", "conf/sightline.yml"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "Checking probes in conf/sightline.yml\n  SUCCESS: 1 monitors, 1 modules found\n"
        ),
        "{stdout}"
    );

    // A monitor naming a module nobody defines: the same located message
    // as serve's.
    std::fs::write(
        dir.join("conf/sightline.yml"),
        good.replace("module: tcp_connect", "module: tcp_connected"),
    )
    .unwrap();
    let (code, _, stderr) = sightline(dir, &["check", "config", "conf/sightline.yml"]);
    assert_eq!(code, 1);
    let want =
        "conf/sightline.yml:5:7: probes.monitors[0].module: unknown module \"tcp_connected\"";
    assert!(stderr.contains(want), "{stderr}");
    assert!(serve_refuses(dir, "conf/sightline.yml").contains(want));

    // A bad module in the modules file (blackbox's own checks).
    std::fs::write(dir.join("conf/sightline.yml"), good).unwrap();
    std::fs::write(
        dir.join("conf/blackbox.yml"),
        "modules:\n  tcp_connect:\n    prober: tcp\n    timeout: soon\n",
    )
    .unwrap();
    let (code, _, stderr) = sightline(dir, &["check", "config", "conf/sightline.yml"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("conf/blackbox.yml:4:"), "{stderr}");
    let served = serve_refuses(dir, "conf/sightline.yml");
    let line = |s: &str| {
        s.lines()
            .find(|l| l.contains("blackbox.yml:4:"))
            .map(|l| l[l.find("conf/blackbox.yml").unwrap()..].to_owned())
    };
    assert_eq!(line(&stderr), line(&served), "{stderr}\n{served}");
}
