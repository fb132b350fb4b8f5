//! Runs the shop alone, with an OTLP sink that drops what it gets, for
//! measuring it: `cargo run --release -p sightline-demo --example shop --
//! [SECONDS] [REQUESTS_PER_SECOND] [OTLP_BASE_URL]` prints the process's RSS and CPU use over
//! the run (after a 10 s warm-up). Ports: 0, so it runs beside a demo.

use std::time::{Duration, Instant};

fn proc_cpu_rss() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    let rest = &stat[stat.rfind(')').expect("stat has a command") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f[i].parse::<f64>().expect("numeric stat field");
    ((n(11) + n(12)) / 100.0, n(21) * 4096.0)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args
        .next()
        .map(|s| s.parse().expect("SECONDS"))
        .unwrap_or(60);
    let rps: f64 = args
        .next()
        .map(|s| s.parse().expect("REQUESTS_PER_SECOND"))
        .unwrap_or(20.0);
    let otlp = match args.next() {
        Some(url) => url,
        None => {
            let sink = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind the sink");
            let sink_addr = sink.local_addr().expect("sink address");
            let app = axum::Router::new().fallback(|_: axum::body::Bytes| async { "" });
            tokio::spawn(async move { axum::serve(sink, app).await.expect("the sink serves") });
            format!("http://{sink_addr}")
        }
    };
    let dir = tempfile::tempdir().expect("a temporary log dir");
    let cancel = tokio_util::sync::CancellationToken::new();
    let cfg = sightline_demo::ShopConfig {
        control_port: 0,
        service_ports: [0; 4],
        otlp_endpoint: otlp,
        log_dir: dir.path().to_owned(),
        requests_per_second: rps,
        ..Default::default()
    };
    let shop = sightline_demo::start(cfg, cancel.clone())
        .await
        .expect("the shop starts");
    for s in shop.services() {
        println!("{} on {}", s.name, s.addr);
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (cpu0, _) = proc_cpu_rss();
    let t0 = Instant::now();
    let mut max_rss: f64 = 0.0;
    while t0.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        max_rss = max_rss.max(proc_cpu_rss().1);
    }
    let (cpu1, rss) = proc_cpu_rss();
    let logs: u64 = std::fs::read_dir(dir.path())
        .expect("the log dir")
        .map(|e| e.expect("an entry").metadata().expect("metadata").len())
        .sum();
    println!(
        "{rps} req/s for {secs} s: {:.3} cores, RSS {:.1} MB (max {:.1} MB), log files {} KB",
        (cpu1 - cpu0) / t0.elapsed().as_secs_f64(),
        rss / 1e6,
        max_rss / 1e6,
        logs / 1024
    );
    cancel.cancel();
    shop.stopped().await;
}
