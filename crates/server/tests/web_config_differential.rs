//! Issue 18: `--web.config.file` against Debian's Prometheus. The same web
//! config file (basic auth with bcrypt hashes, TLS with each client auth
//! type, min_version, headers) goes to both servers, the same requests go to
//! both, and the outcomes (status or refused handshake, and the headers that
//! matter) must match. Also `promtool check web-config` against `sightline
//! check web-config`, certificate reload, and the lifecycle and admin
//! switches.

mod common;

use common::{free_port, peer, Proc};
use reqwest::blocking::Client;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// bcrypt of "hunter2", cost 10 (made with libxcrypt through Python's `crypt`; both servers
/// must accept it).
const HASH: &str = "$2b$10$abcdefghijklmnopqrstuu7gIUFBKrYXdzQy8HrouzMJyZ4cijAb2";

struct Pki {
    dir: PathBuf,
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A CA, a server certificate for localhost/127.0.0.1 signed by it, a
/// client certificate signed by it, a self-signed client certificate, and a
/// second CA with its own server certificate (for the reload test).
fn pki(dir: &Path) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
    let ca = |name: &str| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        let k = KeyPair::generate().unwrap();
        let c = p.self_signed(&k).unwrap();
        (c, k)
    };
    let leaf = |sans: Vec<SanType>| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.subject_alt_names = sans;
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "sightline test");
        p
    };
    let server_sans = || {
        vec![
            SanType::DnsName("localhost".try_into().unwrap()),
            SanType::IpAddress("127.0.0.1".parse().unwrap()),
        ]
    };
    let (ca1, ca1k) = ca("test ca one");
    let (ca2, ca2k) = ca("test ca two");
    write(dir, "ca.crt", &ca1.pem());
    write(dir, "ca2.crt", &ca2.pem());
    let emit =
        |name: &str, params: CertificateParams, signer: Option<(&rcgen::Certificate, &KeyPair)>| {
            let k = KeyPair::generate().unwrap();
            let c = match signer {
                Some((ca, cak)) => params.signed_by(&k, ca, cak).unwrap(),
                None => params.self_signed(&k).unwrap(),
            };
            write(dir, &format!("{name}.crt"), &c.pem());
            write(dir, &format!("{name}.key"), &k.serialize_pem());
        };
    emit("server", leaf(server_sans()), Some((&ca1, &ca1k)));
    emit("server2", leaf(server_sans()), Some((&ca2, &ca2k)));
    emit(
        "client",
        leaf(vec![SanType::DnsName("client.example".try_into().unwrap())]),
        Some((&ca1, &ca1k)),
    );
    emit(
        "stranger",
        leaf(vec![SanType::DnsName("client.example".try_into().unwrap())]),
        None,
    );
    Pki {
        dir: dir.to_owned(),
    }
}

/// How a client connects.
#[derive(Clone, Copy, Debug)]
enum ClientCert {
    None,
    Trusted,
    Untrusted,
}

fn client(pki: &Pki, ca: &str, cert: ClientCert, max_tls12: bool) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = Client::builder()
        .timeout(Duration::from_secs(10))
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(pki.dir.join(ca)).unwrap()).unwrap(),
        );
    let id = |name: &str| {
        let mut pem = std::fs::read(pki.dir.join(format!("{name}.crt"))).unwrap();
        pem.extend(std::fs::read(pki.dir.join(format!("{name}.key"))).unwrap());
        reqwest::Identity::from_pem(&pem).unwrap()
    };
    match cert {
        ClientCert::None => {}
        ClientCert::Trusted => b = b.identity(id("client")),
        ClientCert::Untrusted => b = b.identity(id("stranger")),
    }
    if max_tls12 {
        b = b.max_tls_version(reqwest::tls::Version::TLS_1_2);
    }
    b.build().unwrap()
}

/// Prometheus or Sightline on a free port with `web` as its web config.
struct Running {
    _proc: Proc,
    port: u16,
    name: &'static str,
}

fn start(which: &'static str, bin: &Path, dir: &Path, web: &Path, extra: &[&str]) -> Running {
    let port = free_port();
    let data = dir.join(format!("{which}-data-{port}"));
    let log = std::fs::File::create(dir.join(format!("{which}-{port}.log"))).unwrap();
    let mut cmd = Command::new(bin);
    if which == "prometheus" {
        let cfg = write(dir, "prometheus.yml", "global: {}\n");
        cmd.arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
    } else {
        cmd.arg("serve");
        if !extra.contains(&"--otlp.grpc.listen") {
            cmd.args(["--otlp.grpc.listen", "0"]);
        }
        cmd.arg("--data-dir")
            .arg(&data)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"));
    }
    cmd.arg(format!("--web.config.file={}", web.display()))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(log);
    let mut proc = Proc(cmd.spawn().unwrap());
    let log = dir.join(format!("{which}-{port}.log"));
    // Ready when the port takes connections (whatever TLS or auth then
    // says), and a moment for the HTTP handler to be in place.
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        let exited = proc.0.try_wait().ok().flatten().is_some();
        assert!(
            Instant::now() < deadline && !exited,
            "{which} did not listen; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(700));
    Running {
        _proc: proc,
        port,
        name: which,
    }
}

/// Status and the headers compared, or "handshake refused".
fn outcome(r: reqwest::Result<reqwest::blocking::Response>) -> String {
    match r {
        Ok(r) => {
            let mut s = format!("{}", r.status().as_u16());
            for h in [
                "www-authenticate",
                "x-frame-options",
                "x-content-type-options",
                "strict-transport-security",
                "content-security-policy",
            ] {
                if let Some(v) = r.headers().get(h) {
                    s.push_str(&format!(" {h}={}", v.to_str().unwrap_or("?")));
                }
            }
            s
        }
        Err(_) => "refused".to_owned(),
    }
}

type Case = (&'static str, Box<dyn Fn(&str) -> String>);

fn compare(peers: &[Running], scheme: &str, cases: &[Case]) {
    for (name, case) in cases {
        let results: Vec<(String, String)> = peers
            .iter()
            .map(|p| {
                (
                    p.name.to_owned(),
                    case(&format!("{scheme}://localhost:{}", p.port)),
                )
            })
            .collect();
        eprintln!("{name}: {results:?}");
        assert!(
            results.windows(2).all(|w| w[0].1 == w[1].1),
            "{name}: outcomes differ: {results:?}"
        );
    }
}

fn both(dir: &Path, web: &Path, extra: &[&str]) -> Option<Vec<Running>> {
    let prom = peer("prometheus")?;
    Some(vec![
        start("prometheus", &prom, dir, web, extra),
        start(
            "sightline",
            Path::new(env!("CARGO_BIN_EXE_sightline")),
            dir,
            web,
            extra,
        ),
    ])
}

#[test]
fn issue_18_basic_auth_and_headers_as_prometheus() {
    let tmp = tempfile::tempdir().unwrap();
    let web = write(
        tmp.path(),
        "web.yml",
        &format!(
            "basic_auth_users:\n  alice: {HASH}\nhttp_server_config:\n  headers:\n    \
             X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n    \
             Content-Security-Policy: default-src 'self'\n"
        ),
    );
    let Some(peers) = both(tmp.path(), &web, &[]) else {
        return;
    };
    let c = || {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    };
    let q = "/api/v1/query?query=1";
    let cases: Vec<Case> = vec![
        (
            "no credentials",
            Box::new(move |u| outcome(c().get(format!("{u}{q}")).send())),
        ),
        (
            "wrong password",
            Box::new(move |u| {
                outcome(
                    c().get(format!("{u}{q}"))
                        .basic_auth("alice", Some("nope"))
                        .send(),
                )
            }),
        ),
        (
            "unknown user",
            Box::new(move |u| {
                outcome(
                    c().get(format!("{u}{q}"))
                        .basic_auth("bob", Some("hunter2"))
                        .send(),
                )
            }),
        ),
        (
            "right password",
            Box::new(move |u| {
                outcome(
                    c().get(format!("{u}{q}"))
                        .basic_auth("alice", Some("hunter2"))
                        .send(),
                )
            }),
        ),
        (
            "right password again (cached)",
            Box::new(move |u| {
                outcome(
                    c().get(format!("{u}/-/healthy"))
                        .basic_auth("alice", Some("hunter2"))
                        .send(),
                )
            }),
        ),
        (
            "bearer instead of basic",
            Box::new(move |u| outcome(c().get(format!("{u}{q}")).bearer_auth("hunter2").send())),
        ),
        (
            "reload without --web.enable-lifecycle",
            Box::new(move |u| {
                let r = c()
                    .post(format!("{u}/-/reload"))
                    .basic_auth("alice", Some("hunter2"))
                    .send()
                    .unwrap();
                format!("{} {:?}", r.status().as_u16(), r.text().unwrap())
            }),
        ),
        (
            "reload without credentials",
            Box::new(move |u| outcome(c().post(format!("{u}/-/reload")).send())),
        ),
        (
            "admin API without --web.enable-admin-api",
            Box::new(move |u| {
                let r = c()
                    .post(format!("{u}/api/v1/admin/tsdb/snapshot"))
                    .basic_auth("alice", Some("hunter2"))
                    .send()
                    .unwrap();
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().unwrap();
                format!("{status} {} {}", body["errorType"], body["error"])
            }),
        ),
    ];
    compare(&peers, "http", &cases);
}

#[test]
fn issue_18_client_auth_types_as_prometheus() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let types = [
        "NoClientCert",
        "RequestClientCert",
        "RequireAnyClientCert",
        "VerifyClientCertIfGiven",
        "RequireAndVerifyClientCert",
    ];
    for t in types {
        let ca = if t == "NoClientCert" {
            ""
        } else {
            "  client_ca_file: ca.crt\n"
        };
        let web = write(
            tmp.path(),
            &format!("web-{t}.yml"),
            &format!(
                "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  \
                 client_auth_type: {t}\n{ca}http_server_config:\n  headers:\n    \
                 Strict-Transport-Security: max-age=31536000\n"
            ),
        );
        let Some(peers) = both(tmp.path(), &web, &[]) else {
            return;
        };
        let mut cases: Vec<Case> = Vec::new();
        for cert in [ClientCert::None, ClientCert::Trusted, ClientCert::Untrusted] {
            let p = Pki {
                dir: pki.dir.clone(),
            };
            cases.push((
                Box::leak(format!("{t} with client cert {cert:?}").into_boxed_str()),
                Box::new(move |u| {
                    outcome(
                        client(&p, "ca.crt", cert, false)
                            .get(format!("{u}/-/healthy"))
                            .send(),
                    )
                }),
            ));
        }
        compare(&peers, "https", &cases);
    }
}

#[test]
fn issue_18_min_version_as_prometheus() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let web = write(
        tmp.path(),
        "web.yml",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n",
    );
    let Some(peers) = both(tmp.path(), &web, &[]) else {
        return;
    };
    let p1 = Pki {
        dir: pki.dir.clone(),
    };
    let p2 = Pki {
        dir: pki.dir.clone(),
    };
    let cases: Vec<Case> = vec![
        (
            "TLS 1.2 client, min_version TLS13",
            Box::new(move |u| {
                outcome(
                    client(&p1, "ca.crt", ClientCert::None, true)
                        .get(format!("{u}/-/healthy"))
                        .send(),
                )
            }),
        ),
        (
            "TLS 1.3 client",
            Box::new(move |u| {
                outcome(
                    client(&p2, "ca.crt", ClientCert::None, false)
                        .get(format!("{u}/-/healthy"))
                        .send(),
                )
            }),
        ),
    ];
    compare(&peers, "https", &cases);
}

#[test]
fn issue_18_check_web_config_as_promtool() {
    let tmp = tempfile::tempdir().unwrap();
    pki(tmp.path());
    let files = [
        ("empty.yml", String::new()),
        ("users.yml", format!("basic_auth_users:\n  alice: {HASH}\n")),
        ("tls.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n".into()),
        ("unknown.yml", "foo: 1\n".into()),
        ("nothash.yml", "basic_auth_users:\n  alice: hunter2\n".into()),
        ("header.yml", "http_server_config:\n  headers:\n    X-Frame-Options: allow\n".into()),
        ("badheader.yml", "http_server_config:\n  headers:\n    Server: x\n".into()),
        ("nocert.yml", "tls_server_config:\n  key_file: server.key\n".into()),
        ("missingcert.yml", "tls_server_config:\n  cert_file: gone.crt\n  key_file: server.key\n".into()),
        ("badauth.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Sometimes\n".into()),
        ("capolicy.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n".into()),
        ("version.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS9\n".into()),
        ("mismatch.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server2.key\n".into()),
    ];
    let Some(promtool) = peer("promtool") else {
        return;
    };
    for (name, text) in &files {
        let f = write(tmp.path(), name, text);
        let theirs = Command::new(&promtool)
            .args(["check", "web-config"])
            .arg(&f)
            .output()
            .unwrap();
        let ours = Command::new(env!("CARGO_BIN_EXE_sightline"))
            .args(["check", "web-config"])
            .arg(&f)
            .output()
            .unwrap();
        let t = String::from_utf8_lossy(&theirs.stderr);
        let o = String::from_utf8_lossy(&ours.stderr);
        eprintln!("{name}:\n  promtool:  {t}  sightline: {o}");
        assert_eq!(
            theirs.status.code(),
            ours.status.code(),
            "{name}: {t} vs {o}"
        );
        let verdict = |s: &str| s.contains("SUCCESS");
        assert_eq!(verdict(&t), verdict(&o), "{name}");
    }
}

#[test]
fn issue_18_new_connections_see_replaced_certificates() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    std::fs::copy(tmp.path().join("server.crt"), tmp.path().join("live.crt")).unwrap();
    std::fs::copy(tmp.path().join("server.key"), tmp.path().join("live.key")).unwrap();
    let web = write(
        tmp.path(),
        "web.yml",
        "tls_server_config:\n  cert_file: live.crt\n  key_file: live.key\n",
    );
    let sl = start(
        "sightline",
        Path::new(env!("CARGO_BIN_EXE_sightline")),
        tmp.path(),
        &web,
        &[],
    );
    let url = format!("https://localhost:{}/-/healthy", sl.port);
    let get = |ca: &str| outcome(client(&pki, ca, ClientCert::None, false).get(&url).send());
    assert_eq!(get("ca.crt"), "200");
    assert_eq!(get("ca2.crt"), "refused");
    // Replace the pair (key first: a half-replaced pair must not break the
    // server, only be skipped until the other half arrives).
    std::fs::copy(tmp.path().join("server2.key"), tmp.path().join("live.key")).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        get("ca.crt"),
        "200",
        "a broken pair keeps the last good one"
    );
    std::fs::copy(tmp.path().join("server2.crt"), tmp.path().join("live.crt")).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(get("ca2.crt"), "200");
    assert_eq!(get("ca.crt"), "refused");
}

/// sightline.yml with three tokens (read; write from a file; everything),
/// and a TLS web config for the gRPC test.
fn token_setup(dir: &Path) -> PathBuf {
    let hex = |t: &str| {
        let d = ring_sha256(t.as_bytes());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    write(dir, "writer.token", "writer-secret\n");
    write(dir, "prometheus.yml", "global: {}\n");
    write(
        dir,
        "sightline.yml",
        &format!(
            "prometheus: prometheus.yml\nauth:\n  tokens:\n    \
             - {{name: reader, sha256: {}, scopes: [read]}}\n    \
             - {{name: writer, token_file: writer.token, scopes: [write]}}\n    \
             - {{name: ops, sha256: {}, scopes: [read, write, admin]}}\n",
            hex("reader-secret"),
            hex("ops-secret")
        ),
    )
}

fn ring_sha256(data: &[u8]) -> Vec<u8> {
    // The test's own SHA-256, through the command everyone has, so the
    // server's hashing is checked against something that is not itself.
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    let hex = String::from_utf8(out.stdout).unwrap();
    (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn issue_18_token_scopes() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = token_setup(tmp.path());
    let web = write(tmp.path(), "web.yml", "");
    let sl = start(
        "sightline",
        Path::new(env!("CARGO_BIN_EXE_sightline")),
        tmp.path(),
        &web,
        &["--config", cfg.to_str().unwrap(), "--web.enable-lifecycle"],
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let c = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{}", sl.port);
    let status = |method: &str, path: &str, token: Option<&str>| {
        let mut r = c.request(method.parse().unwrap(), format!("{base}{path}"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().unwrap().status().as_u16()
    };
    let q = "/api/v1/query?query=1";
    assert_eq!(status("GET", q, None), 401);
    assert_eq!(status("GET", q, Some("nobody")), 401);
    assert_eq!(status("GET", q, Some("reader-secret")), 200);
    assert_eq!(
        status("GET", q, Some("writer-secret")),
        403,
        "write can't query"
    );
    assert_eq!(status("GET", q, Some("ops-secret")), 200);
    let r = c.get(format!("{base}{q}")).send().unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    // An empty remote write body is refused by the handler (400), past
    // the gate; the gate's refusals are 401/403.
    assert_eq!(
        status("POST", "/api/v1/write", Some("reader-secret")),
        403,
        "read can't push"
    );
    let w = status("POST", "/api/v1/write", Some("writer-secret"));
    assert!(w != 401 && w != 403, "write pushes: {w}");
    assert_eq!(
        status("POST", "/loki/api/v1/push", Some("reader-secret")),
        403
    );
    assert_eq!(
        status("POST", "/-/reload", Some("reader-secret")),
        403,
        "read can't reload"
    );
    assert_eq!(
        status("POST", "/-/reload", Some("writer-secret")),
        403,
        "write can't reload"
    );
    assert_eq!(status("POST", "/-/reload", Some("ops-secret")), 200);
    let r = c
        .post(format!("{base}/-/reload"))
        .bearer_auth("reader-secret")
        .send()
        .unwrap();
    let body = r.text().unwrap();
    assert!(body.contains("admin scope"), "{body}");
    // The tokens are not echoed by the config endpoint.
    let r = c
        .get(format!("{base}/api/v1/status/config"))
        .bearer_auth("ops-secret")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(!r.contains("secret") && !r.contains("tokens"), "{r}");
}

#[test]
fn issue_18_lifecycle_and_probe_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let web = write(tmp.path(), "web.yml", "");
    let sl = start(
        "sightline",
        Path::new(env!("CARGO_BIN_EXE_sightline")),
        tmp.path(),
        &web,
        &[
            "--probe.allowed-module",
            "tcp_connect",
            "--probe.allowed-target",
            r"127\.0\.0\.1:\d+",
        ],
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let c = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{}", sl.port);
    let r = c.post(format!("{base}/-/reload")).send().unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(r.text().unwrap(), "Lifecycle API is not enabled.");
    let r = c.post(format!("{base}/-/quit")).send().unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let probe = |q: &str| {
        let r = c.get(format!("{base}/probe?{q}")).send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let (s, body) = probe("module=http_2xx&target=127.0.0.1:1");
    assert_eq!(s, 403, "{body}");
    assert!(
        body.contains("module \"http_2xx\" is not allowed"),
        "{body}"
    );
    let (s, body) = probe("module=tcp_connect&target=169.254.169.254:80");
    assert_eq!(s, 403, "{body}");
    assert!(
        body.contains("target \"169.254.169.254:80\" is not allowed"),
        "{body}"
    );
    let (s, body) = probe(&format!("module=tcp_connect&target=127.0.0.1:{}", sl.port));
    assert_ne!(s, 403, "{body}");
}

#[test]
fn issue_18_otlp_grpc_over_tls_with_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let sdk = Command::new("python3")
        .args(["-c", "import opentelemetry.sdk.metrics, opentelemetry.exporter.otlp.proto.grpc.metric_exporter"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !sdk {
        sightline_testkit::skip(
            "the OpenTelemetry Python SDK is not installed (.ci/run installs it)",
        );
        return;
    }
    pki(tmp.path());
    let cfg = token_setup(tmp.path());
    let web = write(
        tmp.path(),
        "web.yml",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n",
    );
    let grpc = free_port();
    let grpc_addr = format!("127.0.0.1:{grpc}");
    let sl = start(
        "sightline",
        Path::new(env!("CARGO_BIN_EXE_sightline")),
        tmp.path(),
        &web,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--otlp.grpc.listen",
            &grpc_addr,
        ],
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/otlp_sdk/export_grpc_tls.py"
    );
    let ca = tmp.path().join("ca.crt");
    let export = |token: &str| {
        let out = Command::new("python3")
            .arg(script)
            .arg(format!("localhost:{grpc}"))
            .arg(&ca)
            .arg(token)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let pki = Pki {
        dir: tmp.path().to_owned(),
    };
    let count = || {
        let r: serde_json::Value = client(&pki, "ca.crt", ClientCert::None, false)
            .get(format!(
                "https://localhost:{}/api/v1/query?query=count({{__name__=~\"tlsprobe.*\"}})",
                sl.port
            ))
            .bearer_auth("reader-secret")
            .send()
            .unwrap()
            .json()
            .unwrap();
        r["data"]["result"].as_array().map(|a| a.len()).unwrap_or(0)
    };
    let err = export("reader-secret");
    assert!(err.contains("PERMISSION_DENIED"), "{err}");
    let err = export("nobody");
    assert!(err.contains("UNAUTHENTICATED"), "{err}");
    assert_eq!(count(), 0);
    let err = export("writer-secret");
    let deadline = Instant::now() + Duration::from_secs(20);
    while count() == 0 {
        assert!(Instant::now() < deadline, "the export did not land: {err}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn issue_18_users_and_tokens_follow_their_files() {
    let tmp = tempfile::tempdir().unwrap();
    let web = write(
        tmp.path(),
        "web.yml",
        &format!("basic_auth_users:\n  alice: {HASH}\n"),
    );
    let cfg = token_setup(tmp.path());
    let sl = start(
        "sightline",
        Path::new(env!("CARGO_BIN_EXE_sightline")),
        tmp.path(),
        &web,
        &["--config", cfg.to_str().unwrap(), "--web.enable-lifecycle"],
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let c = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{}/api/v1/query?query=1", sl.port);
    let as_user = |u: &str| {
        c.get(&url)
            .basic_auth(u, Some("hunter2"))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    let as_token = |t: &str| c.get(&url).bearer_auth(t).send().unwrap().status().as_u16();
    assert_eq!(as_user("alice"), 200);
    assert_eq!(as_user("bob"), 401);
    // Users follow the web config file with no restart...
    write(
        tmp.path(),
        "web.yml",
        &format!("basic_auth_users:\n  bob: {HASH}\n"),
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(as_user("bob"), 200);
    assert_eq!(as_user("alice"), 401);
    // ...and a broken file keeps the last good one.
    write(tmp.path(), "web.yml", "basic_auth_users:\n  bob: [\n");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(as_user("bob"), 200);
    // Tokens follow sightline.yml on reload.
    assert_eq!(as_token("reader-secret"), 200);
    let text = std::fs::read_to_string(&cfg).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains("reader")).collect();
    std::fs::write(&cfg, kept.join("\n") + "\n").unwrap();
    let r = c
        .post(format!("http://127.0.0.1:{}/-/reload", sl.port))
        .bearer_auth("ops-secret")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(as_token("reader-secret"), 401);
    assert_eq!(as_token("ops-secret"), 200);
}

/// `client_allowed_sans` is newer than Prometheus 2.42 (its promtool
/// refuses the key), so this one is checked against exporter-toolkit's
/// documented behaviour by hand: the client certificate must name one of
/// the SANs.
#[test]
fn issue_18_client_allowed_sans() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    for (sans, want) in [("[client.example]", "200"), ("[other.example]", "refused")] {
        let web = write(
            tmp.path(),
            "web.yml",
            &format!(
                "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  \
                 client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  \
                 client_allowed_sans: {sans}\n"
            ),
        );
        let sl = start(
            "sightline",
            Path::new(env!("CARGO_BIN_EXE_sightline")),
            tmp.path(),
            &web,
            &[],
        );
        let got = outcome(
            client(&pki, "ca.crt", ClientCert::Trusted, false)
                .get(format!("https://localhost:{}/-/healthy", sl.port))
                .send(),
        );
        assert_eq!(got, want, "client_allowed_sans: {sans}");
    }
}
