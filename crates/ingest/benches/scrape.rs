//! CPU cost of scraping one 50,000-series target every second, end to end:
//! HTTP (keep-alive, optionally gzip), parsing, the scrape cache, the
//! appender calls and the report, into an appender that counts and drops.
//!
//! `cargo bench -p sightline-ingest --bench scrape` prints the process's CPU
//! cores used while scraping (the budget is well under 0.065 cores). The
//! test server runs in the same process, so the figure is an upper bound;
//! its share is small (it writes a prepared body).

use sightline_core::{AppendStats, Appender, Labels, MetricAppender, SeriesRef};
use sightline_ingest::config::load_str;
use sightline_ingest::scrape::ScrapeManager;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SERIES: usize = 50_000;

fn body() -> Vec<u8> {
    let mut s = String::with_capacity(SERIES * 120);
    for f in 0..SERIES / 100 {
        let fam = format!("app_http_requests_{f}");
        s.push_str(&format!(
            "# HELP {fam} Requests handled.\n# TYPE {fam} counter\n"
        ));
        for i in 0..100 {
            s.push_str(&format!(
                "{fam}{{handler=\"/api/v1/item/{i}\",method=\"GET\",code=\"200\",instance_zone=\"z{}\"}} {}\n",
                i % 3,
                (f * 100 + i) as f64 * 1.5
            ));
        }
    }
    s.into_bytes()
}

/// Counts appends; hands out refs so the scrape cache behaves as with a store.
#[derive(Default)]
struct CountingStore {
    samples: AtomicU64,
}

struct CountingAppender {
    store: Arc<CountingStore>,
    n: u64,
}

struct Shared(Arc<CountingStore>);

impl MetricAppender for Shared {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(CountingAppender {
            store: self.0.clone(),
            n: 0,
        })
    }
}

impl Appender for CountingAppender {
    fn append(
        &mut self,
        r: SeriesRef,
        l: &Labels,
        _t: i64,
        _v: f64,
    ) -> sightline_core::Result<SeriesRef> {
        self.n += 1;
        Ok(if r != 0 { r } else { l.stable_hash() | 1 })
    }
    fn commit(self: Box<Self>) -> sightline_core::Result<AppendStats> {
        self.store.samples.fetch_add(self.n, Ordering::Relaxed);
        Ok(AppendStats {
            samples: self.n,
            series_created: 0,
        })
    }
    fn rollback(self: Box<Self>) {}
}

/// Serves `body` on keep-alive HTTP/1.1 connections.
async fn serve(body: Arc<Vec<u8>>, gzip: bool) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                loop {
                    let mut head = Vec::new();
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let enc = if gzip {
                        "Content-Encoding: gzip\r\n"
                    } else {
                        ""
                    };
                    let h = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n{enc}Content-Length: {}\r\n\r\n",
                        body.len()
                    );
                    if sock.write_all(h.as_bytes()).await.is_err()
                        || sock.write_all(&body).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// This process's user+system CPU seconds (Linux `/proc/self/stat`).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

async fn run(gzip: bool, seconds: u64) {
    let raw = body();
    let served = if gzip {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&raw).unwrap();
        e.finish().unwrap()
    } else {
        raw.clone()
    };
    let addr = serve(Arc::new(served), gzip).await;
    let store = Arc::new(CountingStore::default());
    let cfg = load_str(
        &format!("scrape_configs:\n  - job_name: bench\n    scrape_interval: 1s\n    static_configs: [{{targets: ['{addr}']}}]\n"),
        "bench.yml",
    )
    .unwrap();
    let manager = ScrapeManager::new(Arc::new(Shared(store.clone())), cfg);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (m, s) = (manager.clone(), shutdown.clone());
    let task = tokio::spawn(async move { m.run(s).await });
    // Warm up: the first scrapes fill the cache.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (c0, w0, s0) = (
        cpu_seconds(),
        Instant::now(),
        store.samples.load(Ordering::Relaxed),
    );
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (c1, w1, s1) = (
        cpu_seconds(),
        Instant::now(),
        store.samples.load(Ordering::Relaxed),
    );
    shutdown.cancel();
    task.await.unwrap().unwrap();
    let wall = (w1 - w0).as_secs_f64();
    println!(
        "scrape 50k series/s ({}, {} KB body): {:.4} CPU cores, {:.0} samples/s stored",
        if gzip { "gzip" } else { "plain" },
        raw.len() / 1024,
        (c1 - c0) / wall,
        (s1 - s0) as f64 / wall
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let seconds = std::env::var("SCRAPE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    rt.block_on(run(false, seconds));
    rt.block_on(run(true, seconds));
}
