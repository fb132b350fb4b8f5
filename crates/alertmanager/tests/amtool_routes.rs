//! Differential tests against Debian's `amtool` 0.25: routing decisions
//! (`amtool config routes test`) and config verdicts (`amtool check-config`)
//! must equal ours.
//!
//! Without `amtool` the tests print a skip note and pass, except under
//! `CI=true`, where a missing peer fails them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use sightline_alertmanager::config::Config;
use sightline_alertmanager::inhibit::Inhibitor;
use sightline_alertmanager::route::Route;
use sightline_alertmanager::Alert;
use sightline_alertmanager::LabelSet;

const INSTALL: &str = "apt-get install prometheus-alertmanager";

#[track_caller]
fn amtool() -> Option<PathBuf> {
    sightline_testkit::peer("amtool", INSTALL)
}

fn testdata(sub: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata/routes")
        .join(sub);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    files.sort();
    files
}

/// Label vocabularies; an empty value leaves the label out.
const VOCAB: &[(&str, &[&str])] = &[
    (
        "alertname",
        &["HighCPU", "HighMem", "DiskFull", "highLatency", "Watchdog"],
    ),
    ("team", &["db", "web", "infra", ""]),
    ("env", &["prod", "stage", "dev", ""]),
    ("severity", &["critical", "warning", "info", ""]),
    (
        "service",
        &[
            "api",
            "api-v2",
            "frontend",
            "db-1",
            "a b",
            "x,y",
            "é",
            "x\"y",
            "a\\b",
            "line\nbreak",
            "",
        ],
    ),
    ("region", &["eu-west-1", "us-east-1", "ap", "", ""]),
    ("code", &["200", "404", "500", "503", "5x0", "٥٠٠", ""]),
];

/// Knuth's MMIX LCG: deterministic label sets without a rand dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn label_sets(count: usize, seed: u64) -> Vec<LabelSet> {
    let mut rng = Lcg(seed);
    (0..count)
        .map(|_| {
            VOCAB
                .iter()
                .filter_map(|(name, values)| {
                    let v = values[rng.next(values.len())];
                    (!v.is_empty()).then(|| (name.to_string(), v.to_string()))
                })
                .collect()
        })
        .collect()
}

/// What amtool prints for one label set: receivers joined by commas.
fn amtool_receivers(config: &Path, labels: &LabelSet) -> String {
    let mut cmd = Command::new("amtool");
    cmd.arg("config")
        .arg("routes")
        .arg("test")
        .arg(format!("--config.file={}", config.display()));
    for (k, v) in labels {
        // Quoted, so commas and spaces stay in the value; the parser
        // unescapes `\"` and `\\`.
        cmd.arg(format!(
            "{k}=\"{}\"",
            v.replace('\\', "\\\\").replace('"', "\\\"")
        ));
    }
    let out = cmd.output().expect("run amtool");
    assert!(
        out.status.success(),
        "amtool failed on {} {labels:?}: {}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

#[test]
fn routing_matches_amtool() {
    if amtool().is_none() {
        return;
    }
    const PER_CONFIG: usize = 150;
    let configs = testdata("");
    assert!(configs.len() >= 10, "expected at least 10 configs");
    let compared = AtomicUsize::new(0);
    let mut failures: Vec<String> = Vec::new();
    for (ci, path) in configs.iter().enumerate() {
        let cfg = Config::load_file(path).unwrap_or_else(|e| panic!("{e}"));
        let tree = Route::new(&cfg.route);
        let sets = label_sets(PER_CONFIG, 0x5eed + ci as u64);
        // amtool takes ~10 ms a run; four threads keep the test short on
        // two shared cores without flooding them.
        let chunks: Vec<&[LabelSet]> = sets.chunks(sets.len().div_ceil(4)).collect();
        let results: Vec<Vec<(LabelSet, String)>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .iter()
                .map(|chunk| {
                    s.spawn(|| {
                        chunk
                            .iter()
                            .map(|ls| (ls.clone(), amtool_receivers(path, ls)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (labels, want) in results.into_iter().flatten() {
            compared.fetch_add(1, Ordering::Relaxed);
            let got: Vec<&str> = tree
                .match_labels(&labels)
                .iter()
                .map(|r| r.receiver.as_str())
                .collect();
            let got = got.join(",");
            if got != want {
                failures.push(format!(
                    "{}: {labels:?}: amtool {want:?}, sightline {got:?}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    let n = compared.load(Ordering::Relaxed);
    eprintln!(
        "compared {n} label sets over {} configs; {} differ",
        configs.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Our tree in `amtool config routes show`'s words: one `(depth, line)` per
/// route, parents first.
fn show_tree(route: &Route, depth: usize, out: &mut Vec<(usize, String)>) {
    // amtool calls any route without matchers "default-route".
    let mut line = if route.matchers.is_empty() {
        "default-route".to_owned()
    } else {
        route.matchers.to_string()
    };
    if route.continue_matching {
        line.push_str("  continue: true");
    }
    line.push_str(&format!("  receiver: {}", route.receiver));
    out.push((depth, line));
    for c in &route.routes {
        show_tree(c, depth + 1, out);
    }
}

/// amtool's tree with the drawing stripped: four columns of prefix per level
/// (some of them no-break spaces).
fn amtool_show(path: &Path) -> Vec<(usize, String)> {
    let out = Command::new("amtool")
        .args(["config", "routes", "show"])
        .arg(format!("--config.file={}", path.display()))
        .output()
        .expect("run amtool");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip_while(|l| *l != ".")
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let prefix = l
                .chars()
                .take_while(|c| matches!(c, ' ' | '\u{a0}' | '│' | '├' | '└' | '─'))
                .count();
            let rest: String = l.chars().skip(prefix).collect();
            (prefix / 4 - 1, rest)
        })
        .collect()
}

/// Matchers as parsed, sorted and printed, and inherited receivers, equal
/// amtool's view of the same files.
#[test]
fn route_trees_print_as_amtool_shows_them() {
    if amtool().is_none() {
        return;
    }
    for path in testdata("") {
        let cfg = Config::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut ours = Vec::new();
        show_tree(&Route::new(&cfg.route), 0, &mut ours);
        assert_eq!(ours, amtool_show(&path), "{}", path.display());
    }
}

/// amtool's one-line reason for refusing a file.
fn amtool_verdict(path: &Path) -> Option<String> {
    let out = Command::new("amtool")
        .arg("check-config")
        .arg(path)
        .output()
        .expect("run amtool");
    if out.status.success() {
        return None;
    }
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let reason = text
        .lines()
        .find_map(|l| l.split_once("FAILED: ").map(|(_, r)| r.trim().to_owned()))
        .unwrap_or_default();
    Some(reason)
}

#[test]
fn config_verdicts_match_amtool() {
    if amtool().is_none() {
        return;
    }
    // Reasons we word differently on purpose: serde names the unknown key
    // (amtool says only "unmarshal errors"), the regex crate's parse errors
    // are its own, and the receiver module names both URL keys.
    let own_words: BTreeMap<&str, &str> = [
        ("unknown_field.yml", "unknown field \"recevier\""),
        ("bad_match_re.yml", "invalid regular expression"),
        (
            "webhook_no_url.yml",
            "one of url or url_file must be configured",
        ),
    ]
    .into_iter()
    .collect();
    let good = testdata("");
    for path in &good {
        assert_eq!(
            amtool_verdict(path),
            None,
            "amtool refuses {}",
            path.display()
        );
        Config::load_file(path).unwrap_or_else(|e| panic!("amtool accepts, we refuse: {e}"));
    }
    let bad = testdata("bad");
    assert!(bad.len() >= 10);
    for path in &bad {
        let name = path.file_name().unwrap().to_str().unwrap();
        let reason = amtool_verdict(path)
            .unwrap_or_else(|| panic!("amtool accepts {name}, which is meant to be bad"));
        let ours = match Config::load_file(path) {
            Ok(_) => panic!("{name}: amtool refuses ({reason}), we accept"),
            Err(e) => e.to_string(),
        };
        let want = own_words.get(name).copied().unwrap_or(&reason);
        assert!(
            ours.contains(want),
            "{name}: amtool says {reason:?}, we say {ours:?}"
        );
        // Every refusal names the file and, where the YAML gives one, a line.
        assert!(ours.starts_with(&path.display().to_string()), "{ours}");
    }
}

/// One HTTP/1.0 exchange (no chunked answers), returning the body.
fn http(port: u16, method: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    assert!(head.contains(" 200 "), "{method} {path}: {head}\n{body}");
    body.to_owned()
}

/// Stops the peer when the test ends, however it ends.
struct Peer(std::process::Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Posts generated alerts (some already resolved) to a real Alertmanager
/// with the rules of `inhibit/alertmanager.yml` and compares which firing
/// alerts it reports as inhibited with what [`Inhibitor`] says.
#[test]
fn inhibition_matches_alertmanager() {
    let Some(alertmanager) = sightline_testkit::peer("prometheus-alertmanager", INSTALL) else {
        return;
    };
    let config = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata/routes/inhibit/alertmanager.yml");
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _peer = Peer(
        Command::new(&alertmanager)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", data.path().display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start alertmanager"),
    );
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(ready, "alertmanager did not start on port {port}");

    // Wide enough that most targets have few candidate sources, so a
    // wrongly counted (say, resolved) source changes the verdict.
    const VOCAB: &[(&str, &[&str])] = &[
        (
            "alertname",
            &[
                "HighLatency",
                "NodeDown",
                "DiskFull",
                "ClusterDown",
                "Watchdog",
            ],
        ),
        ("severity", &["critical", "warning", "warning", "info", ""]),
        ("cluster", &["c1", "c2", "c3", "c4", "c5", ""]),
        ("service", &["api", "web", "db", "queue", ""]),
        ("team", &["db", "web", "ops", ""]),
    ];
    let now = chrono::Utc::now();
    let mut rng = Lcg(0x1b1b);
    let mut seen = std::collections::BTreeSet::new();
    let mut alerts: Vec<Alert> = Vec::new();
    while alerts.len() < 120 {
        let labels: LabelSet = VOCAB
            .iter()
            .filter_map(|(n, vs)| {
                let v = vs[rng.next(vs.len())];
                (!v.is_empty()).then(|| (n.to_string(), v.to_string()))
            })
            .collect();
        if !seen.insert(labels.clone()) {
            continue;
        }
        // One alert in three has already ended: it must not inhibit.
        let resolved = rng.next(3) == 0;
        alerts.push(Alert {
            labels,
            annotations: LabelSet::new(),
            starts_at: now - chrono::Duration::minutes(10),
            ends_at: if resolved {
                now - chrono::Duration::minutes(1)
            } else {
                now + chrono::Duration::hours(1)
            },
            generator_url: String::new(),
            updated_at: now,
            timeout: false,
        });
    }
    let body: Vec<serde_json::Value> = alerts
        .iter()
        .map(|a| {
            serde_json::json!({
                "labels": a.labels,
                "startsAt": a.starts_at.to_rfc3339(),
                "endsAt": a.ends_at.to_rfc3339(),
            })
        })
        .collect();
    http(
        port,
        "POST",
        "/api/v2/alerts",
        &serde_json::to_string(&body).unwrap(),
    );
    let cfg = Config::load_file(&config).unwrap();
    let inhibitor = Inhibitor::from_config(&cfg);
    let refs: Vec<&Alert> = alerts.iter().collect();
    // The peer's inhibitor learns of alerts through a subscription, so a
    // busy machine may answer before it has seen them all: ask again a few
    // times before calling a difference a difference.
    let (mut listed, mut inhibited, mut failures, mut firing) = (0, 0, Vec::new(), 0);
    for attempt in 0..5 {
        std::thread::sleep(std::time::Duration::from_millis(1000 + 1000 * attempt));
        let items: Vec<serde_json::Value> =
            serde_json::from_str(&http(port, "GET", "/api/v2/alerts", "")).unwrap();
        let check_time = chrono::Utc::now();
        firing = alerts.iter().filter(|a| !a.resolved_at(check_time)).count();
        assert_eq!(items.len(), firing, "the peer lists the firing alerts");
        (listed, inhibited, failures) = (items.len(), 0, Vec::new());
        let snapshot = inhibitor.snapshot(&refs, check_time);
        for item in &items {
            let labels: LabelSet = serde_json::from_value(item["labels"].clone()).unwrap();
            let by_peer: Vec<String> =
                serde_json::from_value(item["status"]["inhibitedBy"].clone()).unwrap_or_default();
            let ours = inhibitor.inhibited_by(&labels, &refs, check_time);
            if snapshot.inhibited_by(&labels) != ours {
                failures.push(format!("{labels:?}: snapshot and scan disagree"));
            }
            if ours.is_some() {
                inhibited += 1;
            }
            if ours.is_some() == by_peer.is_empty() {
                failures.push(format!("{labels:?}: peer {by_peer:?}, sightline {ours:?}"));
            }
            // The peer picks any one source; it must be one we accept too.
            for fp in &by_peer {
                let source = alerts
                    .iter()
                    .find(|a| format!("{:016x}", a.fingerprint()) == *fp);
                let accepted = source
                    .is_some_and(|a| inhibitor.inhibited_by(&labels, &[a], check_time).is_some());
                if !accepted {
                    failures.push(format!("{labels:?}: peer's source {fp} is not one of ours"));
                }
            }
        }
        if failures.is_empty() {
            break;
        }
    }
    eprintln!(
        "compared {listed} firing alerts ({} resolved posted too); {inhibited} inhibited; {} differ",
        alerts.len() - firing,
        failures.len()
    );
    // A test that inhibits nothing would prove nothing.
    assert!(inhibited >= 10, "only {inhibited} alerts inhibited");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
