//! Probes wired into `sightline serve`: the config's `probes:` monitors run
//! and land in the TSDB as a Prometheus scrape of blackbox's `/probe` would
//! store them, `/api/v1/uptime` lists them with their outages, `/probe`
//! answers as Debian's blackbox_exporter does on the same targets and the
//! same modules file, and a bad section refuses the start with file:line.

mod common;

use common::{eventually, free_port, get_text, http, peer, Server};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The modules file given to both Sightline (`--probe.modules-file`) and
/// blackbox_exporter (`--config.file`).
const BLACKBOX_YML: &str =
    "modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n  tcp_connect:\n    prober: tcp\n";

/// A target answering `/ok` with 200 and anything else with 500.
fn serve_target() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let ok = req.starts_with(b"GET /ok ");
                let (status, body) = if ok {
                    ("200 OK", "fine\n")
                } else {
                    ("500 Internal Server Error", "broken\n")
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

fn config(ok: &str, fail: &str, with_fail: bool) -> String {
    let mut c = format!(
        "global:\n  scrape_interval: 15s\n\
         probes:\n  monitors:\n\
         \x20   - name: site-ok\n      module: http_2xx\n      targets: ['{ok}']\n      interval: 1s\n"
    );
    if with_fail {
        c.push_str(&format!(
            "    - name: site-fail\n      module: {{prober: http, timeout: 2s}}\n      targets: ['{fail}']\n      interval: 1s\n      labels: {{team: web}}\n"
        ));
    }
    c
}

/// One instant query's vector as (labels, value).
fn query(server: &Server, expr: &str) -> Vec<(serde_json::Value, f64)> {
    let body: serde_json::Value = http()
        .post(format!("{}/api/v1/query", server.url()))
        .form(&[("query", expr)])
        .send()
        .and_then(|r| r.json())
        .unwrap_or_else(|e| panic!("query {expr}: {e}"));
    assert_eq!(body["status"], "success", "{body}");
    body["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let v = s["value"][1].as_str().unwrap().parse().unwrap();
            (s["metric"].clone(), v)
        })
        .collect()
}

/// The one value of `expr`, once there is one.
fn value_of(server: &Server, expr: &str) -> (serde_json::Value, f64) {
    eventually(Duration::from_secs(20), || {
        let mut r = query(server, expr);
        (r.len() == 1).then(|| r.remove(0))
    })
    .unwrap_or_else(|| panic!("{expr}: no single series; log:\n{}", server.log()))
}

fn uptime(server: &Server) -> Vec<serde_json::Value> {
    let body: serde_json::Value =
        serde_json::from_str(&get_text(&format!("{}/api/v1/uptime", server.url()))).unwrap();
    assert_eq!(body["status"], "success", "{body}");
    body["data"].as_array().unwrap().clone()
}

/// `(status, content type, body)` of a `/probe` request.
fn probe(base: &str, query: &str, timeout_header: Option<&str>) -> (u16, String, String) {
    let mut req = http().get(format!("{base}/probe?{query}"));
    if let Some(t) = timeout_header {
        req = req.header("X-Prometheus-Scrape-Timeout-Seconds", t);
    }
    let r = req.send().unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.text().unwrap())
}

/// The value of an unlabelled series in an exposition body.
fn metric(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

struct Blackbox(Child);

impl Drop for Blackbox {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_blackbox(bin: &Path, config: &Path) -> (Blackbox, String) {
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start blackbox_exporter");
    let bb = Blackbox(child);
    let url = format!("http://127.0.0.1:{port}");
    eventually(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    })
    .expect("blackbox_exporter did not start");
    (bb, url)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn monitors_store_uptime_and_probe_endpoint() {
    let port = serve_target();
    let ok = format!("http://127.0.0.1:{port}/ok");
    let fail = format!("http://127.0.0.1:{port}/fail");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sightline.yml");
    std::fs::write(&cfg, config(&ok, &fail, true)).unwrap();
    let bb_yml = dir.path().join("blackbox.yml");
    std::fs::write(&bb_yml, BLACKBOX_YML).unwrap();
    let data = dir.path().join("data");
    let server = Server::start(
        &data,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--probe.modules-file",
            bb_yml.to_str().unwrap(),
        ],
    );

    // Stored with job = monitor, instance = target, plus the monitor's labels.
    let (labels, v) = value_of(&server, "probe_success{job=\"site-ok\"}");
    assert_eq!(v, 1.0);
    assert_eq!(labels["instance"], ok.as_str());
    let (labels, v) = value_of(&server, "probe_success{job=\"site-fail\"}");
    assert_eq!(v, 0.0);
    assert_eq!(labels["instance"], fail.as_str());
    assert_eq!(labels["team"], "web");
    let code = |job: &str| value_of(&server, &format!("probe_http_status_code{{job=\"{job}\"}}")).1;
    assert_eq!(code("site-ok"), 200.0);
    assert_eq!(code("site-fail"), 500.0);
    let phases = query(&server, "probe_http_duration_seconds{job=\"site-ok\"}");
    assert_eq!(phases.len(), 5, "{phases:?}");

    // Uptime: both targets, the failing one with an ongoing outage.
    // Ratios need two results: one result observes no time yet.
    let list = eventually(Duration::from_secs(10), || {
        let l = uptime(&server);
        let observed = l.iter().all(|e| !e["uptime"]["24h"].is_null());
        (l.len() == 2 && observed).then_some(l)
    })
    .expect("two uptime entries");
    let entry = |m: &str| list.iter().find(|e| e["monitor"] == m).unwrap().clone();
    let (good, bad) = (entry("site-ok"), entry("site-fail"));
    assert_eq!(
        (good["up"].as_bool(), bad["up"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(good["target"], ok.as_str());
    assert_eq!(good["outages"], serde_json::json!([]));
    assert_eq!(good["uptime"]["24h"], 1.0);
    assert_eq!(bad["uptime"]["24h"], 0.0);
    let outages = bad["outages"].as_array().unwrap();
    assert_eq!(outages.len(), 1, "{bad}");
    assert!(outages[0]["end"].is_null(), "{bad}");
    assert!(
        outages[0]["start"].as_str().unwrap().ends_with('Z'),
        "{bad}"
    );
    assert_eq!(
        outages[0]["cause"],
        "Invalid HTTP response status code, wanted 2xx: status_code=500"
    );
    assert!(good["certDaysLeft"].is_null());

    // Self-metrics count every run and every failure.
    let metrics = get_text(&format!("{}/metrics", server.url()));
    let runs = metric(&metrics, "sightline_probe_runs_total").unwrap();
    let failures = metric(&metrics, "sightline_probe_failures_total").unwrap();
    assert!(
        runs >= 2.0 && failures >= 1.0 && failures < runs,
        "{runs} {failures}"
    );
    assert_eq!(metric(&metrics, "sightline_probe_targets"), Some(2.0));

    // /probe with the --probe.modules-file modules, as blackbox answers.
    let base = server.url();
    let (status, ct, body) = probe(
        &base,
        &format!("module=http_2xx&target={}", urlencode(&ok)),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    assert_eq!(metric(&body, "probe_success"), Some(1.0), "{body}");
    assert_eq!(metric(&body, "probe_http_status_code"), Some(200.0));
    let (_, _, body) = probe(
        &base,
        &format!("module=http_2xx&target={}", urlencode(&fail)),
        Some("3"),
    );
    assert_eq!(metric(&body, "probe_success"), Some(0.0), "{body}");
    assert_eq!(metric(&body, "probe_http_status_code"), Some(500.0));
    let (_, _, body) = probe(
        &base,
        &format!("target={}&debug=true", urlencode(&ok)),
        None,
    );
    assert!(body.starts_with("Logs for the probe:\n"), "{body}");
    assert!(body.contains("module=http_2xx"), "{body}");

    // The same requests against Debian's blackbox_exporter on the same file.
    if let Some(bin) = peer("prometheus-blackbox-exporter") {
        let (_bb, peer_url) = start_blackbox(&bin, &bb_yml);
        for target in [&ok, &fail] {
            let q = format!("module=http_2xx&target={}", urlencode(target));
            let (ps, pct, pbody) = probe(&peer_url, &q, Some("4"));
            let (s, ct, body) = probe(&base, &q, Some("4"));
            assert_eq!((s, ct.as_str()), (ps, pct.as_str()), "{target}");
            for name in [
                "probe_success",
                "probe_http_status_code",
                "probe_http_redirects",
                "probe_http_ssl",
            ] {
                assert_eq!(
                    metric(&body, name),
                    metric(&pbody, name),
                    "{target} {name}\n{body}\n{pbody}"
                );
            }
        }
        let bad_requests = [
            ("module=nope&target=x", None),
            ("module=http_2xx", None),
            ("module=tcp_connect&target=127.0.0.1:1", Some("abc")),
        ];
        for (q, header) in bad_requests {
            assert_eq!(probe(&base, q, header), probe(&peer_url, q, header), "{q}");
        }
    }

    // Reload without the failing monitor: it leaves the uptime list, and
    // its series stop growing. A bad section is refused and changes nothing.
    std::fs::write(&cfg, config(&ok, &fail, false)).unwrap();
    let r = http().post(format!("{base}/-/reload")).send().unwrap();
    assert!(r.status().is_success(), "{}", r.text().unwrap());
    let names: Vec<String> = uptime(&server)
        .iter()
        .map(|e| e["monitor"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["site-ok"]);
    assert_eq!(
        metric(
            &get_text(&format!("{base}/metrics")),
            "sightline_probe_targets"
        ),
        Some(1.0)
    );
    std::fs::write(
        &cfg,
        "probes:\n  monitors:\n    - name: x\n      module: missing\n      targets: [a]\n",
    )
    .unwrap();
    let r = http().post(format!("{base}/-/reload")).send().unwrap();
    assert!(!r.status().is_success());
    let body = r.text().unwrap();
    assert!(
        body.contains("sightline.yml:4:7: probes.monitors[0].module: unknown module \"missing\""),
        "{body}"
    );
    assert_eq!(uptime(&server).len(), 1);

    // Shutdown writes the uptime state.
    server.stop();
    let state = std::fs::read_to_string(data.join("probes/uptime.jsonl")).unwrap();
    assert!(
        state.starts_with("{\"format\":\"sightline-uptime\",\"version\":1}\n"),
        "{state}"
    );
    assert!(state.contains("\"monitor\":\"site-ok\""), "{state}");
}

#[test]
fn bad_probes_section_refuses_start() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sightline.yml");
    let text = "global:\n  scrape_interval: 15s\nprobes:\n  monitors:\n    - name: a\n      module: {prober: http}\n      targets: [http://127.0.0.1:1/]\n      interval: soon\n";
    std::fs::write(&cfg, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // `interval:` of the first monitor is line 8, column 7.
    let want = format!("{}:8:7: probes.monitors[0].interval: ", cfg.display());
    assert!(stderr.contains(&want), "{stderr}");
}
