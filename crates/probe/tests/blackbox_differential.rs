//! The same probes run by Debian's blackbox_exporter 0.23 and by us against
//! targets this test starts on loopback; the results must agree.
//!
//! Compared for every case: probe_success, probe_http_status_code,
//! probe_http_redirects, probe_failed_due_to_regex, probe_dns_answer_rrs,
//! probe_ssl_earliest_cert_expiry, probe_ssl_last_chain_expiry_timestamp_seconds
//! (whichever the peer reports), the HELP texts, and the set of series
//! (names with every label value, so probe_ssl_last_chain_info's
//! fingerprint, subject, issuer and SANs too) both return. Durations
//! differ by nature and are not compared.

use sightline_probe::{effective_timeout, render_exposition, BlackboxConfig};
use std::collections::BTreeMap;
use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PEER: &str = "prometheus-blackbox-exporter";

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP target: the path picks the behaviour.
async fn http_target() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (s, _) = l.accept().await.unwrap();
            tokio::spawn(serve_http(s));
        }
    });
    port
}

async fn serve_http<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut s: S) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let req = String::from_utf8_lossy(&buf).into_owned();
    let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (status, extra, body) = match path.as_str() {
        "/500" => ("500 Internal Server Error", "", "boom"),
        "/404" => ("404 Not Found", "", "nope"),
        "/redirect" => ("302 Found", "Location: /ok\r\n", ""),
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(2500)).await;
            ("200 OK", "", "late")
        }
        "/slowok" => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            ("200 OK", "", "a bit late")
        }
        _ => ("200 OK", "", "hello world"),
    };
    let out = format!(
        "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(out.as_bytes()).await;
    let _ = s.shutdown().await;
}

/// An HTTPS target with the given certificate chain and key.
async fn https_target(chain: Vec<Vec<u8>>, key: Vec<u8>) -> u16 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certs = chain
        .into_iter()
        .map(rustls::pki_types::CertificateDer::from)
        .collect();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.into());
    let cfg = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (s, _) = l.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(s).await {
                    serve_http(tls).await;
                }
            });
        }
    });
    port
}

/// A UDP DNS responder: two A records for any question.
async fn dns_target() -> u16 {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        loop {
            let (n, peer) = sock.recv_from(&mut buf).await.unwrap();
            let mut r = buf[..n].to_vec();
            r[2] = 0x81 | (r[2] & 0x01);
            r[3] = 0x80;
            r[7] = 2;
            for ip in [[10, 0, 0, 1], [10, 0, 0, 2]] {
                r.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04");
                r.extend_from_slice(&ip);
            }
            let _ = sock.send_to(&r, peer).await;
        }
    });
    port
}

struct Certs {
    ca_pem: String,
    /// Leaf signed by the CA, expiring in 3 days.
    soon: (Vec<Vec<u8>>, Vec<u8>),
    /// Self-signed leaf.
    selfsigned: (Vec<Vec<u8>>, Vec<u8>),
}

fn certs() -> Certs {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let at = |secs: i64| time::OffsetDateTime::from_unix_timestamp(secs).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "sightline test ca");
    ca.not_before = at(now - 86400);
    ca.not_after = at(now + 400 * 86400);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let leaf_params = |not_after: i64| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().unwrap()),
            SanType::IpAddress("127.0.0.1".parse().unwrap()),
        ];
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        p.not_before = at(now - 3600);
        p.not_after = at(not_after);
        p
    };
    let soon_key = KeyPair::generate().unwrap();
    let soon = leaf_params(now + 3 * 86400 + 1234)
        .signed_by(&soon_key, &ca_cert, &ca_key)
        .unwrap();
    let self_key = KeyPair::generate().unwrap();
    let selfsigned = leaf_params(now + 90 * 86400)
        .self_signed(&self_key)
        .unwrap();
    Certs {
        ca_pem: ca_cert.pem(),
        soon: (
            vec![soon.der().to_vec(), ca_cert.der().to_vec()],
            soon_key.serialize_der(),
        ),
        selfsigned: (vec![selfsigned.der().to_vec()], self_key.serialize_der()),
    }
}

/// blackbox_exporter as a child process, killed on drop.
struct Peer {
    child: Child,
    port: u16,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_peer(config: &std::path::Path) -> Option<Peer> {
    let bin = sightline_testkit::peer(PEER, "apt-get install prometheus-blackbox-exporter")?;
    let port = free_port();
    let log = config.with_extension("log");
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start blackbox_exporter");
    let peer = Peer { child, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(peer);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "blackbox_exporter did not listen on {port}: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
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

async fn peer_probe(port: u16, module: &str, target: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!(
        "GET /probe?module={module}&target={} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
        urlencode(target)
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    body.to_string()
}

/// Series key (name and labels as written) to value, plus HELP lines.
fn parse_exposition(text: &str) -> (BTreeMap<String, f64>, BTreeMap<String, String>) {
    let mut series = BTreeMap::new();
    let mut help = BTreeMap::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("# HELP ") {
            let (name, text) = h.split_once(' ').unwrap();
            help.insert(name.to_string(), text.to_string());
        } else if !line.starts_with('#') && !line.is_empty() {
            let (key, value) = line.rsplit_once(' ').unwrap();
            series.insert(key.to_string(), value.parse::<f64>().unwrap());
        }
    }
    (series, help)
}

const COMPARED: &[&str] = &[
    "probe_success",
    "probe_http_status_code",
    "probe_http_redirects",
    "probe_http_ssl",
    "probe_http_content_length",
    "probe_http_version",
    "probe_failed_due_to_regex",
    "probe_dns_answer_rrs",
    "probe_dns_query_succeeded",
    "probe_ssl_earliest_cert_expiry",
    "probe_ssl_last_chain_expiry_timestamp_seconds",
    "probe_ip_protocol",
    "probe_ip_addr_hash",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blackbox_differential() {
    let dir = std::env::temp_dir().join(format!("sightline-bb-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let certs = certs();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &certs.ca_pem).unwrap();
    let modules = format!(
        r#"modules:
  http_2xx:
    prober: http
    timeout: 1s
  http_404:
    prober: http
    timeout: 1s
    http:
      valid_status_codes: [404]
  http_no_redirect:
    prober: http
    timeout: 1s
    http:
      follow_redirects: false
  body_must_match:
    prober: http
    timeout: 1s
    http:
      fail_if_body_not_matches_regexp: ["hello w.rld"]
  body_must_not_match:
    prober: http
    timeout: 1s
    http:
      fail_if_body_matches_regexp: ["hello"]
  https_ca:
    prober: http
    timeout: 2s
    http:
      tls_config:
        ca_file: {ca}
  https_insecure:
    prober: http
    timeout: 2s
    http:
      tls_config:
        insecure_skip_verify: true
  https_require:
    prober: http
    timeout: 1s
    http:
      fail_if_not_ssl: true
  tcp_connect:
    prober: tcp
    timeout: 1s
  tcp_tls_ca:
    prober: tcp
    timeout: 2s
    tcp:
      tls: true
      tls_config:
        ca_file: {ca}
  dns_a:
    prober: dns
    timeout: 1s
    dns:
      query_name: example.org
      query_type: A
  dns_a_must_match:
    prober: dns
    timeout: 1s
    dns:
      query_name: example.org
      query_type: A
      validate_answer_rrs:
        fail_if_none_matches_regexp: ['IN\s+A\s+10\.0\.0\.9']
"#,
        ca = ca_file.display()
    );
    let config_path = dir.join("blackbox.yml");
    std::fs::write(&config_path, &modules).unwrap();
    let Some(peer) = start_peer(&config_path) else {
        return;
    };
    let ours = BlackboxConfig::parse(&modules, "blackbox.yml").unwrap();

    let http = http_target().await;
    let soon = https_target(certs.soon.0.clone(), certs.soon.1.clone()).await;
    let selfsigned = https_target(certs.selfsigned.0.clone(), certs.selfsigned.1.clone()).await;
    let dns = dns_target().await;
    let refused = free_port();

    let h = |p: &str| format!("http://127.0.0.1:{http}{p}");
    let cases: Vec<(&str, &str, String)> = vec![
        ("http up", "http_2xx", h("/")),
        (
            "http down (refused)",
            "http_2xx",
            format!("http://127.0.0.1:{refused}/"),
        ),
        ("http slow beyond timeout", "http_2xx", h("/slow")),
        ("http slow within timeout", "http_2xx", h("/slowok")),
        ("http 500", "http_2xx", h("/500")),
        ("http 404 not valid", "http_2xx", h("/404")),
        ("http 404 valid", "http_404", h("/404")),
        ("redirect followed", "http_2xx", h("/redirect")),
        ("redirect not followed", "http_no_redirect", h("/redirect")),
        ("body matches", "body_must_match", h("/")),
        ("body fails not-match", "body_must_match", h("/500")),
        ("body fails match", "body_must_not_match", h("/")),
        ("plain http fails fail_if_not_ssl", "https_require", h("/")),
        (
            "self-signed, verified",
            "http_2xx",
            format!("https://127.0.0.1:{selfsigned}/"),
        ),
        (
            "self-signed, insecure",
            "https_insecure",
            format!("https://127.0.0.1:{selfsigned}/"),
        ),
        (
            "expiring soon, ca_file",
            "https_ca",
            format!("https://127.0.0.1:{soon}/"),
        ),
        (
            "expiring soon, insecure",
            "https_insecure",
            format!("https://localhost:{soon}/"),
        ),
        (
            "https fail_if_not_ssl passes",
            "https_require",
            format!("https://127.0.0.1:{selfsigned}/"),
        ),
        ("tcp open", "tcp_connect", format!("127.0.0.1:{http}")),
        ("tcp refused", "tcp_connect", format!("127.0.0.1:{refused}")),
        (
            "tcp tls, ca_file",
            "tcp_tls_ca",
            format!("127.0.0.1:{soon}"),
        ),
        (
            "tcp tls, self-signed",
            "tcp_tls_ca",
            format!("127.0.0.1:{selfsigned}"),
        ),
        ("dns answers", "dns_a", format!("127.0.0.1:{dns}")),
        (
            "dns answer validation fails",
            "dns_a_must_match",
            format!("127.0.0.1:{dns}"),
        ),
        ("dns refused", "dns_a", format!("127.0.0.1:{refused}")),
    ];
    let mut equal = 0;
    let mut report = String::new();
    for (name, module, target) in &cases {
        let theirs = peer_probe(peer.port, module, target).await;
        let m = &ours.modules[*module];
        let result = sightline_probe::run_probe(m, target, effective_timeout(m, None, 0.5)).await;
        let mine = render_exposition(&result);
        let (ts, th) = parse_exposition(&theirs);
        let (ms, mh) = parse_exposition(&mine);
        let mut diffs = Vec::new();
        let tkeys: std::collections::BTreeSet<String> = ts.keys().cloned().collect();
        let mkeys: std::collections::BTreeSet<String> = ms.keys().cloned().collect();
        for k in tkeys.difference(&mkeys) {
            diffs.push(format!("missing series {k}"));
        }
        for k in mkeys.difference(&tkeys) {
            diffs.push(format!("extra series {k}"));
        }
        for (k, v) in &th {
            if let Some(mine) = mh.get(k) {
                if mine != v {
                    diffs.push(format!("HELP of {k}: ours {mine:?}, theirs {v:?}"));
                }
            }
        }
        for key in COMPARED {
            match (ts.get(*key), ms.get(*key)) {
                (Some(a), Some(b)) if a != b => diffs.push(format!("{key}: ours {b}, theirs {a}")),
                _ => {}
            }
        }
        if diffs.is_empty() {
            equal += 1;
        } else {
            report.push_str(&format!(
                "{name} ({module} {target}):\n  {}\n",
                diffs.join("\n  ")
            ));
            if std::env::var("PROBE_DIFF_VERBOSE").is_ok() {
                report.push_str(&format!("--- theirs\n{theirs}--- ours\n{mine}"));
            }
        }
    }
    eprintln!("blackbox differential: {equal}/{} cases equal", cases.len());
    drop(peer);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(report.is_empty(), "{report}");
}
