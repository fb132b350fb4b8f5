//! Issue 4, end to end: the seeds' alerts (`../shared/seeds/003_*` HighErrorRate
//! and HighResponseTime over `flask_http_request_*`, `004_*` HighLatency over
//! `http_request_duration_seconds_bucket`) run over a scraped test service
//! whose error rate and latency the test controls. The built-in
//! Alertmanager, with seed 003's alertmanager.yml (email, grouped by
//! alertname) plus a webhook, delivers grouped notifications to a webhook
//! receiver and to a local SMTP server started here, and the resolved ones
//! when the errors stop.
//!
//! The seeds' expressions and templates are kept; only their time scales
//! shrink so the test takes seconds: `[5m]` windows become `[10s]`, `for: 5m`
//! becomes `for: 2s`, and group_wait/group_interval are 1s/2s.

mod common;

use common::{eventually, Server};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The service: each scrape counts ten more requests; `failing` makes five
/// of them 500s, `slow` makes them take 3 s instead of 0.1 s.
#[derive(Default)]
struct Service {
    failing: AtomicBool,
    slow: AtomicBool,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    ok: u64,
    err: u64,
    dur_sum: f64,
    dur_count: u64,
    /// Cumulative bucket counts for le = 0.1, 0.5, 1, 2.5, 5, +Inf.
    buckets: [u64; 6],
}

impl Service {
    fn scrape(&self) -> String {
        let mut c = self.counts.lock().unwrap();
        let (errs, latency) = (
            if self.failing.load(Ordering::Relaxed) {
                5
            } else {
                0
            },
            if self.slow.load(Ordering::Relaxed) {
                3.0
            } else {
                0.1
            },
        );
        c.ok += 10 - errs;
        c.err += errs;
        c.dur_sum += 10.0 * latency;
        c.dur_count += 10;
        let les = [0.1, 0.5, 1.0, 2.5, 5.0, f64::INFINITY];
        for (i, le) in les.iter().enumerate() {
            if latency <= *le {
                c.buckets[i] += 10;
            }
        }
        let mut out = format!(
            "flask_http_request_total{{status=\"200\"}} {}\nflask_http_request_total{{status=\"500\"}} {}\n\
             flask_http_request_duration_seconds_sum {}\nflask_http_request_duration_seconds_count {}\n",
            c.ok, c.err, c.dur_sum, c.dur_count
        );
        for (i, le) in ["0.1", "0.5", "1", "2.5", "5", "+Inf"].iter().enumerate() {
            out.push_str(&format!(
                "http_request_duration_seconds_bucket{{le=\"{le}\"}} {}\n",
                c.buckets[i]
            ));
        }
        out
    }
}

fn serve_http(handler: impl Fn(&str, &str) -> String + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(s) = stream else { continue };
            let h = handler.clone();
            std::thread::spawn(move || {
                let _ = handle_http(s, &*h);
            });
        }
    });
    port
}

/// One HTTP/1.1 request per connection: reads the head and the body, answers 200.
fn handle_http(mut s: TcpStream, h: &dyn Fn(&str, &str) -> String) -> std::io::Result<()> {
    let mut r = BufReader::new(s.try_clone()?);
    let mut request_line = String::new();
    r.read_line(&mut request_line)?;
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        r.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    let reply = h(&request_line, &String::from_utf8_lossy(&body));
    write!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    )
}

/// A plain SMTP server that accepts every message and keeps its DATA.
fn serve_smtp(mails: Arc<Mutex<Vec<String>>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(s) = stream else { continue };
            let mails = mails.clone();
            std::thread::spawn(move || {
                let _ = smtp_session(s, &mails);
            });
        }
    });
    port
}

fn smtp_session(mut s: TcpStream, mails: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut r = BufReader::new(s.try_clone()?);
    s.write_all(b"220 localhost ESMTP test\r\n")?;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        if cmd.starts_with("EHLO") {
            s.write_all(b"250-localhost\r\n250 8BITMIME\r\n")?;
        } else if cmd.starts_with("HELO")
            || cmd.starts_with("MAIL")
            || cmd.starts_with("RCPT")
            || cmd.starts_with("RSET")
            || cmd.starts_with("NOOP")
        {
            s.write_all(b"250 OK\r\n")?;
        } else if cmd == "DATA" {
            s.write_all(b"354 go ahead\r\n")?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if r.read_line(&mut l)? == 0 {
                    return Ok(());
                }
                if l == ".\r\n" {
                    break;
                }
                data.push_str(&l);
            }
            mails.lock().unwrap().push(data);
            s.write_all(b"250 queued\r\n")?;
        } else if cmd == "QUIT" {
            s.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            s.write_all(b"502 not implemented\r\n")?;
        }
    }
}

/// Webhook payloads received so far: (status, alertname group label, alert count).
fn notifications(hooks: &Mutex<Vec<serde_json::Value>>) -> Vec<(String, String, usize)> {
    hooks
        .lock()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["status"].as_str().unwrap_or("").to_owned(),
                p["groupLabels"]["alertname"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                p["alerts"].as_array().map_or(0, Vec::len),
            )
        })
        .collect()
}

const ALERTS: [&str; 3] = ["HighErrorRate", "HighLatency", "HighResponseTime"];

#[test]
fn seed_alerts_reach_webhook_and_email_then_resolve() {
    let service = Arc::new(Service::default());
    let svc = service.clone();
    let target = serve_http(move |_, _| svc.scrape());
    let hooks = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let h = hooks.clone();
    let webhook = serve_http(move |_, body| {
        if let Ok(v) = serde_json::from_str(body) {
            h.lock().unwrap().push(v);
        }
        String::new()
    });
    let mails = Arc::new(Mutex::new(Vec::new()));
    let smtp = serve_smtp(mails.clone());

    let dir = tempfile::tempdir().unwrap();
    // Seed 003's rules and seed 004's latency rule, time scales shrunk.
    std::fs::write(
        dir.path().join("alerts.yml"),
        r#"groups:
  - name: finance-app
    rules:
    - alert: HighErrorRate
      expr: rate(flask_http_request_total{status=~"5.."}[10s]) > 0.1
      for: 2s
      labels:
        severity: critical
      annotations:
        summary: "High error rate in finance application"
        description: "Error rate is {{ $value }} errors per second"
    - alert: HighResponseTime
      expr: rate(flask_http_request_duration_seconds_sum[10s]) / rate(flask_http_request_duration_seconds_count[10s]) > 2
      for: 2s
      labels:
        severity: warning
      annotations:
        summary: "High response time in finance application"
  - name: seed004
    rules:
    - alert: HighLatency
      expr: histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[10s])) by (le)) > 1
      for: 2s
      labels:
        severity: warning
      annotations:
        summary: "P95 latency above 1s"
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files: ['alerts.yml']\n\
             scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
        ),
    )
    .unwrap();
    // Seed 003's alertmanager.yml: SMTP at the test's server (no TLS
    // there), a webhook added to the same receiver, resolved mail on. The
    // seed writes `subject:` and `body:` in email_configs, which Alertmanager
    // 0.25 refuses (`amtool check-config` fails on it, and so do we); its
    // intent is written as Alertmanager spells it: `headers: {Subject}`, `text`.
    std::fs::write(
        dir.path().join("alertmanager.yml"),
        format!(
            r#"global:
  smtp_smarthost: '127.0.0.1:{smtp}'
  smtp_from: 'alerts@myfinanceapp.com'
  smtp_require_tls: false
route:
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  receiver: 'web.hook'
receivers:
- name: 'web.hook'
  webhook_configs:
  - url: 'http://127.0.0.1:{webhook}/hook'
  email_configs:
  - to: 'prameshwar@example.com'
    send_resolved: true
    headers:
      Subject: 'Finance App Alert: {{{{ .GroupLabels.alertname }}}}'
    text: |
      {{{{ range .Alerts }}}}
      Alert: {{{{ .Annotations.summary }}}}
      Description: {{{{ .Annotations.description }}}}
      {{{{ end }}}}
"#
        ),
    )
    .unwrap();
    let cfg = dir.path().join("prometheus.yml");
    let am = dir.path().join("alertmanager.yml");
    let server = Server::start(
        &dir.path().join("data"),
        &[
            "--config.file",
            cfg.to_str().unwrap(),
            "--alertmanager.config.file",
            am.to_str().unwrap(),
        ],
    );

    // Errors and slowness start: one firing notification per alert name.
    service.failing.store(true, Ordering::Relaxed);
    service.slow.store(true, Ordering::Relaxed);
    let fired = eventually(Duration::from_secs(60), || {
        let n = notifications(&hooks);
        ALERTS
            .iter()
            .all(|a| n.iter().any(|(s, g, _)| s == "firing" && g == a))
            .then_some(n)
    })
    .unwrap_or_else(|| {
        panic!(
            "not every alert fired: {:?}\nlog:\n{}",
            notifications(&hooks),
            server.log()
        )
    });
    // Grouped by alertname: each payload holds one alert of its group.
    for (_, g, n) in &fired {
        assert!(ALERTS.contains(&g.as_str()), "unexpected group {g}");
        assert_eq!(*n, 1);
    }
    let payload = hooks.lock().unwrap()[0].clone();
    assert_eq!(payload["version"], "4");
    // Alertmanager 0.25 sends the receiver name regexp-escaped in webhook
    // payloads (checked against the real one in the alertmanager crate).
    assert_eq!(payload["receiver"], "web\\.hook");
    let mail = eventually(Duration::from_secs(30), || {
        mails
            .lock()
            .unwrap()
            .iter()
            .find(|m| m.contains("Subject: Finance App Alert: HighErrorRate"))
            .cloned()
    })
    .expect("an email for HighErrorRate");
    assert!(
        mail.contains("High error rate in finance application"),
        "{mail}"
    );
    assert!(mail.contains("Error rate is"), "{mail}");
    assert!(mail.contains("prameshwar@example.com"), "{mail}");

    // The errors stop: every alert resolves, by webhook and by mail.
    service.failing.store(false, Ordering::Relaxed);
    service.slow.store(false, Ordering::Relaxed);
    eventually(Duration::from_secs(90), || {
        let n = notifications(&hooks);
        ALERTS
            .iter()
            .all(|a| n.iter().any(|(s, g, _)| s == "resolved" && g == a))
            .then_some(())
    })
    .unwrap_or_else(|| panic!("not every alert resolved: {:?}", notifications(&hooks)));
    // A receiver's webhook and email integrations are sent side by side,
    // so the last resolved mail may land just after the last webhook.
    let mail_count = || {
        mails
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.contains("Subject: Finance App Alert:"))
            .count()
    };
    let resolved_mails = eventually(Duration::from_secs(30), || {
        (mail_count() >= 6).then_some(())
    });
    assert!(
        resolved_mails.is_some(),
        "3 firing and 3 resolved mails, got {}",
        mail_count()
    );
    // Every attempt is in the history.
    let hist: serde_json::Value = serde_json::from_str(&common::get_text(&format!(
        "{}/api/v1/notifications?receiver=web.hook",
        server.url()
    )))
    .unwrap();
    let attempts = hist["data"].as_array().unwrap();
    assert!(
        attempts.len() >= 12,
        "webhook and email, firing and resolved: {}",
        attempts.len()
    );
    assert!(attempts.iter().all(|a| a["outcome"] == "success"), "{hist}");
}
