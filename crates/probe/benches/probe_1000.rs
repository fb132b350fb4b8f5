//! 1,000 http monitors every 10 s against a target that delays each
//! response by a known amount; reports the prober's CPU and how far each
//! probe's `processing` phase is from the injected delay.
//!
//! Two processes so each can be pinned to its own core
//! (`bench/probe_1000.py` does that):
//!
//! ```text
//! probe_1000 serve PORT [LOG]           # the target, on core 1
//! probe_1000 probe PORT SECONDS [N]     # the prober, on core 0
//! ```
//!
//! The target answers `/delay/<µs>` after sleeping that long on a thread of
//! its own (Linux's high-resolution sleep overshoots by tens of µs). With LOG it appends, per
//! request, how long after accepting the connection it finished writing the
//! response, minus the injected delay (µs): the target's own share of the
//! error, which the machine's load can make large.

use sightline_probe::{BlackboxConfig, Monitor, ProbeCallback, ProbeScheduler};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
        let accepted = Instant::now();
        let Ok(mut s) = s else { continue };
        let log = log.clone();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 2048];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let start = Instant::now();
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
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            if let Some(log) = log {
                let over = accepted.elapsed().as_micros() as i64 - us as i64;
                let _ = writeln!(log.lock().unwrap(), "{over}");
            }
        });
    }
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

fn probe(port: u16, seconds: u64, n: usize) {
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
    let errors: Arc<Mutex<Vec<f64>>> = Arc::default();
    let by_time: Arc<Mutex<Vec<(i64, f64)>>> = Arc::default();
    let bt = by_time.clone();
    let failures = Arc::new(Mutex::new(0usize));
    let (e2, f2) = (errors.clone(), failures.clone());
    let cb: ProbeCallback = Arc::new(move |m, r, _ts| {
        if !r.success {
            *f2.lock().unwrap() += 1;
            return;
        }
        let us: f64 = m.targets[0].rsplit('/').next().unwrap().parse().unwrap();
        let processing = r
            .labelled_value("probe_http_duration_seconds", "phase", "processing")
            .unwrap_or(f64::NAN);
        e2.lock().unwrap().push((processing - us / 1e6) * 1e3);
        bt.lock()
            .unwrap()
            .push((_ts, (processing - us / 1e6) * 1e3));
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
    // Median error per 10 s round, to tell start-up effects from the rest.
    let mut rounds: std::collections::BTreeMap<i64, Vec<f64>> = Default::default();
    for (ts, e) in by_time.lock().unwrap().iter() {
        rounds.entry(ts / 10_000).or_default().push(*e);
    }
    let per_round: Vec<String> = rounds
        .values_mut()
        .map(|v| {
            v.sort_by(f64::total_cmp);
            format!("{:.2}", percentile(v, 0.5))
        })
        .collect();
    println!("median error per 10 s round (ms): {}", per_round.join(" "));
    let mut errs = errors.lock().unwrap().clone();
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
        ),
        _ => eprintln!(
            "usage: probe_1000 serve PORT | probe PORT SECONDS [N] (see bench/probe_1000.py)"
        ),
    }
}
