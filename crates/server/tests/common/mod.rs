//! Shared helpers for the end-to-end tests: start the real `sightline`
//! binary on a free port, wait until it is ready, find peers.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A blocking HTTP client. reqwest is built without a default TLS crypto
/// provider (we pin rustls to `ring`), so install it once first.
pub fn http() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("build HTTP client")
}

/// GET `url` and return the body, panicking with the status otherwise.
pub fn get_text(url: &str) -> String {
    let r = http()
        .get(url)
        .send()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status();
    let body = r.text().unwrap_or_default();
    assert!(status.is_success(), "GET {url}: {status}: {body}");
    body
}

/// `promtool tsdb create-blocks-from openmetrics FILE DIR`, panicking with
/// promtool's stderr when it fails.
pub fn promtool_create_blocks(promtool: &Path, file: &Path, dir: &Path) {
    let out = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(file)
        .arg(dir)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool create-blocks-from: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `sightline import openmetrics FILE --data-dir DIR`, panicking with its
/// stderr when it fails.
pub fn sightline_import(file: &Path, dir: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["import", "openmetrics"])
        .arg(file)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("run sightline import");
    assert!(
        out.status.success(),
        "sightline import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind an ephemeral port")
        .local_addr()
        .expect("local addr")
        .port()
}

/// Path of a peer binary (e.g. `prometheus`), or None (a recorded skip)
/// when it is missing on a developer's machine; under `CI=true` a missing
/// peer fails the test. The rule lives in `sightline-testkit`.
#[track_caller]
pub fn peer(name: &str) -> Option<PathBuf> {
    let package = match name {
        "prometheus-alertmanager" | "amtool" => "apt-get install prometheus-alertmanager",
        "prometheus-blackbox-exporter" => "apt-get install prometheus-blackbox-exporter",
        _ => "apt-get install prometheus",
    };
    sightline_testkit::peer(name, package)
}

/// A running `sightline serve`, killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub data_dir: PathBuf,
    log: PathBuf,
    /// `--web.route-prefix` (empty for none): where `/-/ready` is.
    prefix: String,
}

impl Server {
    /// Starts `sightline serve` with `extra` arguments on a free port.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_in(None, data_dir, extra)
    }

    /// As [`Server::start`], run from the working directory `cwd` (so
    /// relative paths in `extra` are read from there).
    pub fn start_in(cwd: Option<&Path>, data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_prefixed(cwd, data_dir, extra, "")
    }

    /// As [`Server::start_in`], for a server whose routes live under
    /// `prefix` (`/sl`), as `extra` sets with `--web.route-prefix`.
    pub fn start_prefixed(
        cwd: Option<&Path>,
        data_dir: &Path,
        extra: &[&str],
        prefix: &str,
    ) -> Server {
        let port = free_port();
        let log = data_dir.with_extension("log");
        let log_file = std::fs::File::create(&log).expect("create server log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sightline"));
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let child = cmd
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            // Tests reload through `POST /-/reload`, which is off by
            // default as in Prometheus (issue 18).
            .arg("--web.enable-lifecycle")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("start sightline");
        let mut s = Server {
            child,
            port,
            data_dir: data_dir.to_owned(),
            log,
            prefix: prefix.to_owned(),
        };
        s.wait_ready(Duration::from_secs(60));
        s
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let client = http();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("sightline exited early with {status}; log:\n{}", self.log());
            }
            if let Ok(r) = client
                .get(format!("{}{}/-/ready", self.url(), self.prefix))
                .send()
            {
                if r.status().is_success() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "sightline not ready after {timeout:?}; log:\n{}",
            self.log()
        );
    }

    /// The server's stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, as a crash: no flush, no goodbye.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
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

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` until it returns Some or `timeout` passes.
pub fn eventually<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A peer process (Prometheus, Alertmanager, ...), killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Debian's Prometheus (`bin`) on `config` with its data under
/// `dir`, and waits until it is ready. Returns the process and its port.
pub fn start_prometheus(bin: &Path, config: &Path, dir: &Path) -> (Proc, u16) {
    let port = free_port();
    (launch_prometheus(bin, config, dir, port, &[]), port)
}

/// Starts Debian's Prometheus (`bin`) in `dir` on a free port, with
/// `config(port)` written as its prometheus.yml (so it can name its own
/// address) and the extra `flags`; waits until it is ready. Returns the
/// process and its base URL.
pub fn start_prometheus_with(
    bin: &Path,
    dir: &Path,
    config: impl FnOnce(u16) -> String,
    flags: &[&str],
) -> (Proc, String) {
    let port = free_port();
    let file = dir.join("prometheus.yml");
    std::fs::write(&file, config(port)).expect("write prometheus.yml");
    let proc = launch_prometheus(bin, &file, dir, port, flags);
    (proc, format!("http://127.0.0.1:{port}"))
}

fn launch_prometheus(bin: &Path, config: &Path, dir: &Path, port: u16, flags: &[&str]) -> Proc {
    let log = std::fs::File::create(dir.join("prometheus.log")).expect("create prometheus log");
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("prom-data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(flags)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start prometheus");
    let proc = Proc(child);
    let url = format!("http://127.0.0.1:{port}/-/ready");
    eventually(Duration::from_secs(60), || {
        http()
            .get(&url)
            .send()
            .ok()
            .filter(|r| r.status().is_success())
    })
    .unwrap_or_else(|| {
        panic!(
            "prometheus not ready; log:\n{}",
            std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
        )
    });
    proc
}

/// A scrape target on a free port answering every request with the text
/// format body `body()` returns at that moment (a test changes what it
/// serves through the closure's shared state).
pub fn serve_metrics(body: impl Fn() -> String + Send + 'static) -> u16 {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let b = body();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                b.len()
            );
        }
    });
    port
}

/// GET `url` as JSON, `null` when the request or the parse fails (for
/// polling a server that may not have the answer yet).
pub fn json_or_null(url: &str) -> serde_json::Value {
    let text = http()
        .get(url)
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    serde_json::from_str(&text).unwrap_or_default()
}

/// Writes each `(relative path, text)` under `dir`.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("write {name}: {e}"));
    }
}
