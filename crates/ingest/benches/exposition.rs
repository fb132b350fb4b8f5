//! Exposition parser throughput on a 50,000-series body, in both formats.
//!
//! `cargo bench -p sightline-ingest --bench exposition` prints MB/s and
//! samples/s per format, plus the CPU cost of parsing one such scrape per
//! second, in two modes: `texts` takes only each sample's series text and
//! value, as a scrape whose series are all in the scrape cache does (label
//! sets are then only delimited, not lexed), and `labels` also builds every
//! sample's labels, as a first scrape or `parse_all` does. (The scrape
//! loop's budget for 50k samples/s is well under 0.065 cores in total,
//! parsing included.) A plain harness, no criterion: the number that
//! matters is a rate. Machines here are shared and loaded, so the rate is
//! computed from this thread's CPU time (Linux `/proc/thread-self/schedstat`),
//! not wall time, when available.

use sightline_ingest::exposition::{Entry, Format, Parser};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SERIES: usize = 50_000;

/// A body shaped like a busy exporter: 500 counter families of 100 series
/// each, four labels per series, HELP and TYPE per family.
fn body(format: Format) -> Vec<u8> {
    let mut s = String::with_capacity(SERIES * 120);
    let om = format == Format::OpenMetrics;
    for f in 0..SERIES / 100 {
        let fam = format!("app_http_requests_{f}");
        s.push_str(&format!(
            "# HELP {fam} Requests handled, by handler and code.\n"
        ));
        s.push_str(&format!("# TYPE {fam} counter\n"));
        for i in 0..100 {
            let v = (f * 100 + i) as f64 * 1.5;
            s.push_str(&format!(
                "{fam}_total{{instance=\"10.0.{}.{}:9100\",job=\"node\",handler=\"/api/v1/h{i}\",code=\"{}\"}} {v}",
                f % 256,
                i,
                200 + i % 5
            ));
            if om {
                s.push_str(" 1700000000.123\n");
            } else {
                s.push_str(" 1700000000123\n");
            }
        }
    }
    if om {
        s.push_str("# EOF\n");
    }
    s.into_bytes()
}

fn parse(b: &[u8], format: Format, labels: bool) -> usize {
    let mut p = Parser::new(b, format);
    let mut n = 0;
    while let Some(e) = p.next_entry().expect("bench body parses") {
        if let Entry::Sample { series, value, .. } = e {
            black_box((series, value));
            if labels {
                black_box(p.labels().expect("bench labels parse"));
            }
            n += 1;
        }
    }
    n
}

/// CPU time of this thread in nanoseconds (first field of schedstat).
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn main() {
    let modes = [
        (Format::PrometheusText, false),
        (Format::PrometheusText, true),
        (Format::OpenMetrics, false),
        (Format::OpenMetrics, true),
    ];
    for (format, labels) in modes {
        let b = body(format);
        let n = parse(&b, format, labels);
        assert_eq!(n, SERIES);
        let wall = Instant::now();
        let cpu0 = thread_cpu_ns();
        let mut rounds = 0u32;
        while wall.elapsed() < Duration::from_secs(3) {
            black_box(parse(black_box(&b), format, labels));
            rounds += 1;
        }
        let (secs, clock) = match (cpu0, thread_cpu_ns()) {
            (Some(a), Some(z)) => ((z - a) as f64 / 1e9 / f64::from(rounds), "cpu"),
            _ => (wall.elapsed().as_secs_f64() / f64::from(rounds), "wall"),
        };
        println!(
            "{:?} {}: {:.2} MB body, {} samples: {:.2} ms {clock} per body, {:.0} MB/s, {:.2} M samples/s, {:.4} cores for one such scrape per second",
            format,
            if labels { "labels" } else { "texts" },
            b.len() as f64 / 1e6,
            n,
            secs * 1e3,
            b.len() as f64 / 1e6 / secs,
            n as f64 / 1e6 / secs,
            secs
        );
    }
}
