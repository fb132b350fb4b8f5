//! `sightline demo` end to end (issue 17): the demo runs as a child process
//! on free ports, and every signal is checked through the HTTP APIs the UI
//! calls: metrics with six hours of history and live scrapes, logs
//! (backfilled and live), traces across the four services, the rules and
//! an alert forced with `demo fault`, SLOs with budgets, probes. Then
//! `--print-config`'s files against our checks and the peers' (promtool,
//! amtool).

mod common;

use common::{get_text, http, peer};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn sightline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sightline"))
}

/// The running demo, stopped (SIGTERM) on drop.
struct Demo {
    child: Child,
    url: String,
    control: String,
    log: std::path::PathBuf,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    fn start(data_dir: &Path) -> Demo {
        let log = data_dir.with_extension("log");
        let mut child = sightline()
            .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start sightline demo");
        // The banner names the addresses; read it off stdout on a thread,
        // so a demo that never prints cannot hang the test.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let (mut url, mut control) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(120);
        while url.is_none() || control.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| {
                let _ = child.kill();
                panic!(
                    "no banner from sightline demo; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
            let addr = |l: &str| {
                l.split_whitespace()
                    .find(|w| w.starts_with("http://"))
                    .map(|w| w.trim_end_matches('/').to_owned())
            };
            if line.trim_start().starts_with("UI ") {
                url = addr(&line);
            } else if line.trim_start().starts_with("Shop control ") {
                control = addr(&line).map(|u| u.trim_start_matches("http://").to_owned());
            }
        }
        Demo {
            child,
            url: url.unwrap(),
            control: control.unwrap(),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// GET `path` (with `query` pairs) and its JSON.
    fn get(&self, path: &str, query: &[(&str, String)]) -> Value {
        let r = http()
            .get(format!("{}{path}", self.url))
            .query(query)
            .send()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = r.status();
        let body = r.text().unwrap_or_default();
        assert!(
            status.is_success(),
            "GET {path} {query:?}: {status}: {body}"
        );
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// Polls `check` until it returns Some, or panics with `what` and the
    /// last value it saw.
    fn wait_for<T>(
        &self,
        what: &str,
        limit: Duration,
        mut check: impl FnMut() -> Result<T, String>,
    ) -> T {
        let deadline = Instant::now() + limit;
        loop {
            match check() {
                Ok(v) => return v,
                Err(last) if Instant::now() >= deadline => panic!(
                    "{what}: not seen within {limit:?}; last: {last}\ndemo log:\n{}",
                    self.log()
                ),
                Err(_) => std::thread::sleep(Duration::from_millis(250)),
            }
        }
    }
}

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Asserts that a finished command succeeded, printing its output when it
/// did not; returns its standard output.
fn assert_ok(what: &str, out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{what}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `cmd` and asserts it succeeded; returns its standard output.
fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert_ok(&format!("{cmd:?}"), &out)
}

fn demo_fault(control: &str, args: &[&str]) -> std::process::Output {
    sightline()
        .args(["demo", "fault", "--control", control])
        .args(args)
        .output()
        .expect("run sightline demo fault")
}

#[test]
fn issue_17_demo_shows_every_signal() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = Demo::start(&tmp.path().join("data"));
    let limit = Duration::from_secs(60);
    let now = now_s();

    // Metrics: six hours of history, so a range query over them has points
    // in the first hour.
    demo.wait_for("backfilled metrics in the first hour of six", limit, || {
        let v = demo.get(
            "/api/v1/query_range",
            &[
                ("query", "sum by (job) (http_requests_total)".into()),
                ("start", (now - 6 * 3600).to_string()),
                ("end", now.to_string()),
                ("step", "60".into()),
            ],
        );
        let series = v["data"]["result"].as_array().cloned().unwrap_or_default();
        let early = series
            .iter()
            .filter(|s| {
                s["values"].as_array().is_some_and(|vs| {
                    vs.iter()
                        .any(|p| p[0].as_f64().unwrap_or(f64::MAX) < (now - 5 * 3600) as f64)
                })
            })
            .count();
        if early == 4 {
            Ok(())
        } else {
            Err(format!("{early} of 4 jobs have early points: {v}"))
        }
    });

    // Live scrapes of the four services: the targets page's API (`up`
    // alone would not tell, the history holds `up` samples up to now).
    demo.wait_for("live scrapes of all four services", limit, || {
        let v = demo.get("/api/v1/targets", &[]);
        let up = v["data"]["activeTargets"].as_array().map_or(0, |ts| {
            ts.iter()
                .filter(|t| {
                    ["frontend", "checkout", "payments", "db"]
                        .contains(&t["labels"]["job"].as_str().unwrap_or_default())
                        && t["health"] == "up"
                })
                .count()
        });
        if up == 4 {
            Ok(())
        } else {
            Err(v.to_string())
        }
    });

    // Probes of every /healthz.
    demo.wait_for("probes up", limit, || {
        let v = demo.get(
            "/api/v1/query",
            &[("query", r#"probe_success{job="shop-health"} == 1"#.into())],
        );
        let n = v["data"]["result"].as_array().map_or(0, Vec::len);
        if n == 4 {
            Ok(())
        } else {
            Err(v.to_string())
        }
    });

    // Logs: backfilled lines from the first hour, and live lines tailed
    // from the shop's files.
    let lines = |start: i64, end: i64| {
        let v = demo.get(
            "/loki/api/v1/query_range",
            &[
                ("query", r#"{job="shop"}"#.into()),
                ("start", (start * 1_000_000_000).to_string()),
                ("end", (end * 1_000_000_000).to_string()),
                ("limit", "10".into()),
            ],
        );
        v["data"]["result"].as_array().map_or(0, |s| {
            s.iter()
                .map(|s| s["values"].as_array().map_or(0, Vec::len))
                .sum::<usize>()
        })
    };
    demo.wait_for("backfilled log lines", limit, || {
        let n = lines(now - 6 * 3600, now - 5 * 3600);
        if n > 0 {
            Ok(())
        } else {
            Err("none".into())
        }
    });
    demo.wait_for("live log lines", limit, || {
        let n = lines(now - 5, now_s() + 1);
        if n > 0 {
            Ok(())
        } else {
            Err("none".into())
        }
    });

    // Traces: a TraceQL search finds a checkout trace, and that trace
    // spans the four services.
    demo.wait_for("a checkout trace across four services", limit, || {
        let v = demo.get(
            "/api/search",
            &[
                ("q", r#"{ resource.service.name = "payments" }"#.into()),
                ("start", (now - 600).to_string()),
                ("end", (now_s() + 1).to_string()),
                ("limit", "20".into()),
            ],
        );
        let traces = v["traces"].as_array().cloned().unwrap_or_default();
        for t in &traces {
            let id = t["traceID"].as_str().unwrap_or_default();
            let j = demo.get(&format!("/jaeger/api/traces/{id}"), &[]);
            let mut services: Vec<String> = j["data"][0]["processes"]
                .as_object()
                .map(|p| {
                    p.values()
                        .filter_map(|p| p["serviceName"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            services.sort();
            services.dedup();
            if services == ["checkout", "db", "frontend", "payments"] {
                return Ok(());
            }
        }
        Err(format!(
            "{} traces, none across the four services: {v}",
            traces.len()
        ))
    });

    // The provisioned rules are loaded.
    let rules = demo.get("/api/v1/rules", &[]).to_string();
    for a in ["HighErrorRate", "HighLatency", "ServiceDown"] {
        assert!(
            rules.contains(&format!("\"{a}\"")),
            "{a} not loaded: {rules}"
        );
    }

    // SLOs listed with their budgets.
    demo.wait_for("three SLOs with budgets", limit, || {
        let v = demo.get("/api/v1/slos", &[]);
        let slos = v["data"].as_array().cloned().unwrap_or_default();
        let names: Vec<&str> = slos.iter().filter_map(|s| s["name"].as_str()).collect();
        let budgets = slos
            .iter()
            .filter(|s| s["error_budget"].as_f64().is_some_and(|b| b > 0.0))
            .count();
        if names.len() == 3 && budgets == 3 {
            Ok(())
        } else {
            Err(v.to_string())
        }
    });

    // The dashboard is provisioned.
    get_text(&format!(
        "{}/api/dashboards/uid/sightline-demo-shop",
        demo.url
    ));

    // `demo fault`: bad input is named, and nothing reaches the shop.
    let out = demo_fault(&demo.control, &["nosuch", "down"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown service") && err.contains("nosuch"),
        "{err}"
    );
    let out = demo_fault(&demo.control, &["db", "explode"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("explode"), "{err}");
    let nobody = format!("127.0.0.1:{}", common::free_port());
    let out = demo_fault(&nobody, &["db", "down"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no demo answers"), "{err}");

    // A good one: the db goes down, its probe fails, ServiceDown goes
    // pending (its `for:` is 30s).
    assert_ok(
        "demo fault db down",
        &demo_fault(&demo.control, &["db", "down"]),
    );
    let faults: Value =
        serde_json::from_str(&get_text(&format!("http://{}/faults", demo.control))).unwrap();
    assert_eq!(faults["db"], "down", "{faults}");
    demo.wait_for(
        "ServiceDown pending or firing",
        Duration::from_secs(90),
        || {
            let v = demo.get("/api/v1/alerts", &[]);
            let hit = v["data"]["alerts"].as_array().is_some_and(|a| {
                a.iter().any(|a| {
                    a["labels"]["alertname"] == "ServiceDown"
                        && matches!(a["state"].as_str(), Some("pending" | "firing"))
                })
            });
            if hit {
                Ok(())
            } else {
                Err(v.to_string())
            }
        },
    );
    assert_ok(
        "demo fault db none",
        &demo_fault(&demo.control, &["db", "none"]),
    );
}

#[test]
fn issue_17_print_config_passes_the_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cfg");
    run_ok(sightline().args(["demo", "--print-config"]).arg(&dir));
    for f in [
        "sightline.yml",
        "prometheus.yml",
        "alertmanager.yml",
        "rules/shop.yml",
        "slos/shop.yml",
        "dashboards/shop.json",
    ] {
        assert!(dir.join(f).is_file(), "{f} not written");
    }

    // A folder in use is refused, and left as it was, unless --force.
    std::fs::write(dir.join("prometheus.yml"), "mine\n").unwrap();
    let out = sightline()
        .args(["demo", "--print-config"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
    assert_eq!(
        std::fs::read_to_string(dir.join("prometheus.yml")).unwrap(),
        "mine\n"
    );
    run_ok(
        sightline()
            .args(["demo", "--force", "--print-config"])
            .arg(&dir),
    );

    // Our checks: the whole config (rule files, SLO specs, probes,
    // dashboards), and the rule file on its own.
    let checked = run_ok(
        sightline()
            .args(["check", "config"])
            .arg(dir.join("sightline.yml")),
    );
    assert!(checked.contains("3 SLOs found"), "{checked}");
    assert!(checked.contains("1 monitors"), "{checked}");
    run_ok(
        sightline()
            .args(["check", "rules"])
            .arg(dir.join("rules/shop.yml")),
    );
    let generated = run_ok(
        sightline()
            .args(["slo", "generate"])
            .arg(dir.join("slos/shop.yml")),
    );
    std::fs::write(tmp.path().join("slo-rules.yml"), &generated).unwrap();

    // The peers read the files they share with us.
    if let Some(promtool) = peer("promtool") {
        run_ok(
            Command::new(&promtool)
                .args(["check", "config"])
                .arg(dir.join("prometheus.yml")),
        );
        run_ok(
            Command::new(&promtool)
                .args(["check", "rules"])
                .arg(tmp.path().join("slo-rules.yml")),
        );
    }
    if let Some(amtool) = peer("amtool") {
        run_ok(
            Command::new(&amtool)
                .arg("check-config")
                .arg(dir.join("alertmanager.yml")),
        );
    }
}

/// The demo's alert rules fire as worked out by hand in
/// tests/demo_rules/shop.test.yml, in our rule tests and in promtool's.
#[test]
fn issue_17_demo_alert_rules_fire_as_written() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/demo_rules/shop.test.yml");
    run_ok(sightline().args(["test", "rules"]).arg(&file));
    if let Some(promtool) = peer("promtool") {
        run_ok(Command::new(promtool).args(["test", "rules"]).arg(&file));
    }
}
