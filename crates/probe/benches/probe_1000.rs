//! 1,000 http monitors every 10 s against a target that delays each
//! response by a known amount; reports the prober's CPU and how far each
//! probe's `processing` phase is from the injected delay.
//!
//! Two processes so each can be pinned to its own core
//! (`bench/probe_1000.py` does that):
//!
//! ```text
//! probe_1000 serve PORT [LOG]           # the target, on core 1
//! probe_1000 probe PORT SECONDS [N [LOG]]  # the prober, on core 0
//! ```
//!
//! The target answers `/delay/<µs>` that long after the request reached its
//! socket (the kernel's receive stamp), sleeping on a thread of its own
//! (Linux's high-resolution sleep overshoots by tens of µs). With LOG it
//! appends, per request, `µs arrival before after` (unix ns): the request's
//! arrival and the clock just before and after writing the response, which
//! on loopback reaches the prober's socket within that write. So the log
//! holds each probe's true delay, which a busy machine (or a hypervisor
//! pausing the core) can stretch past the injected one; the script runs the
//! target at real-time priority to keep that rare. The prober's LOG holds
//! `µs start_ms processing_s` per successful probe, for the script to pair
//! them.

use sightline_probe::{BlackboxConfig, Monitor, ProbeCallback, ProbeScheduler};
use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// The prober's own kernel-stamp reader: the target stamps request arrivals
// with it, so its delays start when the request arrived, and its log gives
// each response's true delay to hold the prober's figure against.
// (Its unit tests are compiled here without a harness to run them.)
#[allow(dead_code, unused_imports)]
#[path = "../src/http/stamped.rs"]
mod stamped;

fn serve(port: u16, log: Option<String>) {
    // A deep accept queue: with std's 128 a stalled accept loop on a busy
    // core drops handshakes, and the client's retransmission after 1 s
    // would be charged to the prober.
    let sock =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    sock.set_reuse_address(true).expect("reuseaddr");
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    sock.bind(&addr.into()).expect("bind");
    sock.listen(4096).expect("listen");
    let l: TcpListener = sock.into();
    let log = log.map(|p| Arc::new(Mutex::new(std::fs::File::create(p).expect("log file"))));
    for s in l.incoming() {
        let Ok(mut s) = s else { continue };
        let log = log.clone();
        std::thread::spawn(move || {
            stamped::sys::enable(&s);
            let mut buf = Vec::new();
            let mut chunk = [0u8; 2048];
            let mut arrived = None;
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match stamped::sys::recv(&s, &mut chunk) {
                    Ok((0, _)) | Err(_) => return,
                    Ok((n, at)) => {
                        buf.extend_from_slice(&chunk[..n]);
                        arrived = at.or(arrived);
                    }
                }
            }
            // The delay runs from the request's arrival in the kernel, so
            // a late wake-up of this thread is not added to it.
            let arrived = arrived.unwrap_or_else(SystemTime::now);
            let start = Instant::now()
                .checked_sub(
                    SystemTime::now()
                        .duration_since(arrived)
                        .unwrap_or_default(),
                )
                .unwrap_or_else(Instant::now);
            let req = String::from_utf8_lossy(&buf);
            let path = req.split_whitespace().nth(1).unwrap_or("/");
            let us: u64 = path
                .strip_prefix("/delay/")
                .and_then(|p| p.split('?').next())
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            // A plain sleep: spinning out the last microseconds would be
            // more exact alone, but several spinning threads starve the
            // accept loop on the target's single core when probes coincide.
            let deadline = start + Duration::from_micros(us);
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
            let before = unix_ns(SystemTime::now());
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            // On loopback the write hands the bytes to the prober's socket
            // before it returns: they arrived between `before` and `after`.
            let after = unix_ns(SystemTime::now());
            if let Some(log) = log {
                let line = format!("{us} {} {before} {after}\n", unix_ns(arrived));
                let _ = log.lock().unwrap().write_all(line.as_bytes());
            }
        });
    }
}

fn unix_ns(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// CPU seconds (user + system) of this process, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, a)| a);
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after ')'.
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn probe(port: u16, seconds: u64, n: usize, log: Option<&str>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cfg = BlackboxConfig::parse(
        "modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n",
        "bench",
    )
    .expect("config");
    let module = Arc::new(cfg.modules["http_2xx"].clone());
    // Delays from 1 ms to 100 ms in 0.1 ms steps, spread over the targets.
    let monitors: Vec<Monitor> = (0..n)
        .map(|i| {
            let us = 1000 + (i as u64 * 997 % 1000) * 99;
            Monitor {
                name: format!("m{i}"),
                module_name: "http_2xx".into(),
                module: module.clone(),
                targets: vec![format!("http://127.0.0.1:{port}/delay/{us}")],
                interval: Duration::from_secs(10),
                timeout: Duration::from_secs(5),
                labels: Default::default(),
            }
        })
        .collect();
    // (start unix ms, injected µs, processing s) per successful probe.
    let records: Arc<Mutex<Vec<(i64, u64, f64)>>> = Arc::default();
    let failures = Arc::new(Mutex::new(0usize));
    let (r2, f2) = (records.clone(), failures.clone());
    let cb: ProbeCallback = Arc::new(move |m, r, ts| {
        if !r.success {
            *f2.lock().unwrap() += 1;
            return;
        }
        let us: u64 = m.targets[0].rsplit('/').next().unwrap().parse().unwrap();
        let processing = r
            .labelled_value("probe_http_duration_seconds", "phase", "processing")
            .unwrap_or(f64::NAN);
        r2.lock().unwrap().push((ts, us, processing));
    });
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    rt.block_on(async {
        let sched = ProbeScheduler::start(monitors, cb);
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        sched.stop().await;
    });
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let records = records.lock().unwrap().clone();
    if let Some(path) = log {
        // For bench/probe_1000.py to pair with the target's log.
        let text: String = records
            .iter()
            .map(|(ts, us, p)| format!("{us} {ts} {p}\n"))
            .collect();
        std::fs::write(path, text).expect("probe log");
    }
    let error = |us: u64, p: f64| (p - us as f64 / 1e6) * 1e3;
    // Median error per 10 s round, to tell start-up effects from the rest.
    let mut rounds: std::collections::BTreeMap<i64, Vec<f64>> = Default::default();
    for (ts, us, p) in &records {
        rounds.entry(ts / 10_000).or_default().push(error(*us, *p));
    }
    let per_round: Vec<String> = rounds
        .values_mut()
        .map(|v| {
            v.sort_by(f64::total_cmp);
            format!("{:.2}", percentile(v, 0.5))
        })
        .collect();
    println!("median error per 10 s round (ms): {}", per_round.join(" "));
    let mut errs: Vec<f64> = records.iter().map(|(_, us, p)| error(*us, *p)).collect();
    errs.sort_by(f64::total_cmp);
    let abs: Vec<f64> = {
        let mut a: Vec<f64> = errs.iter().map(|e| e.abs()).collect();
        a.sort_by(f64::total_cmp);
        a
    };
    let within = abs.iter().filter(|e| **e <= 1.0).count();
    println!(
        "probes={} failed={} wall_s={wall:.1} cpu_s={cpu:.2} cpu_cores={:.4}",
        errs.len(),
        failures.lock().unwrap(),
        cpu / wall
    );
    println!(
        "processing-phase error vs injected delay (ms): min={:.3} median={:.3} p99={:.3} max={:.3}; |error| median={:.3} p99={:.3}; within 1 ms: {:.1}%",
        errs.first().copied().unwrap_or(f64::NAN),
        percentile(&errs, 0.5),
        percentile(&errs, 0.99),
        errs.last().copied().unwrap_or(f64::NAN),
        percentile(&abs, 0.5),
        percentile(&abs, 0.99),
        100.0 * within as f64 / abs.len().max(1) as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(args[1].parse().expect("port"), args.get(2).cloned()),
        Some("probe") => probe(
            args[1].parse().expect("port"),
            args[2].parse().expect("seconds"),
            args.get(3).map_or(1000, |n| n.parse().expect("count")),
            args.get(4).map(String::as_str),
        ),
        _ => eprintln!(
            "usage: probe_1000 serve PORT [LOG] | probe PORT SECONDS [N [LOG]] (see bench/probe_1000.py)"
        ),
    }
}
