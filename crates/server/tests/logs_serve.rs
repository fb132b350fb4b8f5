//! Issue 15: logs in `sightline serve`. Lines pushed through Loki's push
//! API (JSON and protobuf+snappy), OTLP/HTTP JSON and a syslog listener
//! configured in sightline.yml come back through Loki's query API; an
//! acknowledged push survives `kill -9`; a bad `logs:` section is refused
//! with its place.

mod common;

use common::{eventually, free_port, http, Server};
use std::time::Duration;

fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128
}

fn query_range(server: &Server, q: &str) -> serde_json::Value {
    let now = now_ns();
    let url = format!(
        "{}/loki/api/v1/query_range?query={}&start={}&end={}&limit=1000",
        server.url(),
        urlencode(q),
        now - 3_600_000_000_000,
        now + 60_000_000_000
    );
    http().get(url).send().unwrap().json().unwrap()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn lines(v: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = v["data"]["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .flat_map(|s| {
            s["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x[1].as_str().unwrap().to_owned())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn issue_15_pushed_lines_are_queryable_and_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let syslog_port = free_port();
    let config = dir.path().join("sightline.yml");
    std::fs::write(
        &config,
        format!(
            "logs:\n  syslog:\n    - listen_address: 127.0.0.1:{syslog_port}\n      listen_protocol: tcp\n      labels: {{job: syslog}}\n"
        ),
    )
    .unwrap();
    let server = Server::start(&data, &["--config", config.to_str().unwrap()]);

    // Loki push, JSON: three lines, answered 204 once durable.
    let now = now_ns();
    let body = serde_json::json!({"streams": [{"stream": {"job": "app", "env": "test"}, "values": [
        [(now - 3_000_000_000).to_string(), "level=info msg=one"],
        [(now - 2_000_000_000).to_string(), "level=error msg=two"],
        [(now - 1_000_000_000).to_string(), "level=info msg=three"],
    ]}]});
    let r = http()
        .post(format!("{}/loki/api/v1/push", server.url()))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204, "{}", r.text().unwrap_or_default());

    // OTLP/HTTP JSON logs: service.name becomes the service_name label.
    let otlp = serde_json::json!({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
        "scopeLogs": [{"logRecords": [{"timeUnixNano": now.to_string(), "severityText": "WARN", "body": {"stringValue": "low stock"},
            "traceId": "5b8efff798038103d269b633813fc60c"}]}]}]});
    let r = http()
        .post(format!("{}/v1/logs", server.url()))
        .json(&otlp)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().unwrap_or_default());

    // Syslog over TCP, newline framed, RFC 5424.
    {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", syslog_port)).unwrap();
        writeln!(
            s,
            "<14>1 2026-12-07T06:00:00Z host1 billing 42 - - invoice sent"
        )
        .unwrap();
    }

    assert_eq!(
        lines(&query_range(&server, r#"{job="app"}"#)),
        [
            "level=error msg=two",
            "level=info msg=one",
            "level=info msg=three"
        ]
    );
    assert_eq!(
        lines(&query_range(
            &server,
            r#"{job="app"} | logfmt | level="error""#
        )),
        ["level=error msg=two"]
    );
    assert_eq!(
        lines(&query_range(&server, r#"{service_name="shop"}"#)),
        ["low stock"]
    );
    let syslog = eventually(Duration::from_secs(10), || {
        let l = lines(&query_range(&server, r#"{job="syslog"}"#));
        (!l.is_empty()).then_some(l)
    })
    .unwrap_or_else(|| panic!("no syslog line: {}", server.log()));
    assert_eq!(syslog.len(), 1);
    assert!(syslog[0].contains("invoice sent"), "{syslog:?}");
    // A metric query over the pushed lines.
    let v: serde_json::Value = http()
        .get(format!(
            "{}/loki/api/v1/query?query={}",
            server.url(),
            urlencode(r#"sum(count_over_time({job="app"}[5m]))"#)
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["data"]["result"][0]["value"][1], "3", "{v}");

    // kill -9 right after the acknowledged pushes: all there after restart.
    server.kill9();
    let server = Server::start(&data, &["--config", config.to_str().unwrap()]);
    assert_eq!(
        lines(&query_range(&server, r#"{job="app"}"#)).len(),
        3,
        "{}",
        server.log()
    );
    assert_eq!(
        lines(&query_range(&server, r#"{service_name="shop"}"#)),
        ["low stock"]
    );
    // The store reports itself on /metrics.
    let m = http()
        .get(format!("{}/metrics", server.url()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(m.contains("sightline_logstore_"), "no log store metrics");
    server.stop();
}

#[test]
fn issue_15_a_bad_logs_section_is_refused_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sightline.yml");
    std::fs::write(&config, "logs:\n  store:\n    max_line_size: lots\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["check", "config"])
        .arg(&config)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("sightline.yml:3:"), "{text}");
    assert!(text.contains("max_line_size"), "{text}");
}
