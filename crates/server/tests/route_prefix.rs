//! Issue 14: `--web.route-prefix`, compared with Prometheus started with
//! the same flags: the same paths answer (or do not) with the same status,
//! and the API under the prefix gives the same answer.

mod common;

use common::{eventually, free_port, http, peer, Proc, Server};
use std::process::{Command, Stdio};
use std::time::Duration;

const FLAGS: [&str; 4] = [
    "--web.external-url",
    "http://x/sl/",
    "--web.route-prefix",
    "/sl",
];

/// Status of `GET base+path` without following redirects (0: no answer).
fn status(base: &str, path: &str) -> u16 {
    let _ = http();
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{base}{path}"))
        .send()
        .map_or(0, |r| r.status().as_u16())
}

#[test]
fn issue_14_route_prefix_answers_as_prometheus() {
    let Some(bin) = peer("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global: {}\n").unwrap();
    let port = free_port();
    let _prom = Proc(
        Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("p").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args(FLAGS)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let prom = format!("http://127.0.0.1:{port}");
    eventually(Duration::from_secs(60), || {
        (status(&prom, "/sl/-/ready") == 200).then_some(())
    })
    .expect("prometheus ready under /sl");
    let ours = Server::start_prefixed(None, &dir.path().join("s"), &FLAGS, "/sl");
    let ours = ours.url();

    // Redirects are compared by kind: Prometheus sends `/` to `/sl` and
    // then `/sl` to `/sl/`; Sightline sends `/` straight to `/sl/`.
    let class = |s: u16| if (300..400).contains(&s) { 300 } else { s };
    for path in [
        "/",
        "/sl",
        "/sl/-/healthy",
        "/sl/-/ready",
        "/sl/metrics",
        "/sl/api/v1/query?query=1",
        "/sl/api/v1/labels",
        "/sl/api/v1/status/buildinfo",
        "/api/v1/query?query=1",
        "/-/healthy",
        "/metrics",
        "/slx/api/v1/query?query=1",
    ] {
        assert_eq!(
            class(status(&ours, path)),
            class(status(&prom, path)),
            "GET {path}"
        );
    }
    let q = "/sl/api/v1/query?query=1%2B1&time=100";
    assert_eq!(
        common::get_text(&format!("{ours}{q}")),
        common::get_text(&format!("{prom}{q}"))
    );
    // Both end up on a page under the prefix when `/` is followed.
    for base in [&ours, &prom] {
        let r = http().get(format!("{base}/")).send().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.url().path().starts_with("/sl/"), "{}", r.url());
    }
}
