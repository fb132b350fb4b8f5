//! Bytes per sample on disk after compaction, on scrape-like data.
//!
//! `--series=N` (1000) series scraped every `--interval=MS` (15000) for
//! `--hours=H` (24), timestamps jittered by up to `--jitter=MS` (±3 ms). Two mixes, per 20
//! series (`--mix=realistic|noisy`). In the realistic mix one target's
//! series share each scrape's (jittered) timestamp, as in Prometheus, where a
//! scrape stamps every sample it returns with one time; the noisy mix jitters
//! each series on its own.
//!
//! - `realistic` (default), modelled on a node/service exporter: 4 busy
//!   counters (+0..199 per scrape), 3 quiet counters (unchanged 80% of
//!   scrapes), 2 byte gauges (unchanged 70%, else ±pages of 4 KiB), 2 small
//!   integer gauges (fds, goroutines; unchanged 60%), 2 one-decimal gauges
//!   (temperatures; unchanged 70%), 4 constants (`up`, info metrics), 1
//!   full-precision float (a summary quantile, new value half the time), 2
//!   histogram buckets (unchanged 90%).
//! - `noisy`, a stress case where every series moves every scrape: 7
//!   counters (+0..999), 4 integer random walks (±2048), 4 two-decimal
//!   random walks, 3 constants, 1 full-precision noise, 1 rare counter.
//!
//! Samples go through the head, head cuts and compaction (2h -> 6h -> 18h); the figure is block
//! bytes over block samples. `--openmetrics=PATH` also writes the same
//! samples as OpenMetrics text for `promtool tsdb create-blocks-from`, so the
//! script `bench/tsdb_bytes_per_sample.sh` can compare with Prometheus.
//! Never asserts.

use sightline_core::{Labels, MetricAppender};
use sightline_tsdb::{Db, Options};
use std::io::Write;
use std::path::PathBuf;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One series' generator; the same seed always yields the same samples.
struct Gen {
    realistic: bool,
    jitter: u64,
    /// The scrape target: in the realistic mix all series of one target
    /// share each scrape's timestamp, as they do in Prometheus.
    target: u64,
    scrape: u64,
    kind: usize,
    rng: Rng,
    v: f64,
}

impl Gen {
    fn new(i: usize, realistic: bool) -> Gen {
        let mut rng = Rng((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let kind = i % 20;
        if realistic {
            let v = match kind {
                0..=6 | 18..=19 => rng.below(1_000_000) as f64,
                7..=8 => (rng.below(1 << 18) * 4096) as f64,
                9..=10 => rng.below(500) as f64,
                11..=12 => (rng.below(900) as f64) / 10.0,
                13..=16 => 1.0,
                _ => 0.0,
            };
            return Gen {
                realistic,
                jitter: 3,
                target: (i / 20) as u64,
                scrape: 0,
                kind,
                rng,
                v,
            };
        }
        let v = match kind {
            0..=6 => rng.below(1_000_000) as f64,
            7..=10 => (rng.below(1 << 30) + (1 << 20)) as f64,
            11..=14 => (rng.below(10_000) as f64) / 100.0,
            15..=17 => 1.0,
            18 => 0.0,
            _ => rng.below(100) as f64,
        };
        Gen {
            realistic,
            jitter: 3,
            target: (i / 20) as u64,
            scrape: 0,
            kind,
            rng,
            v,
        }
    }

    fn next_realistic(&mut self) -> f64 {
        let r = &mut self.rng;
        match self.kind {
            0..=3 => self.v + r.below(200) as f64,
            4..=6 if r.below(5) == 0 => self.v + r.below(5) as f64,
            7..=8 if r.below(10) < 3 => (self.v + (r.below(129) as f64 - 64.0) * 4096.0).max(0.0),
            9..=10 if r.below(10) < 4 => (self.v + r.below(11) as f64 - 5.0).max(0.0),
            11..=12 if r.below(10) < 3 => {
                let tenths = (self.v * 10.0).round() as i64 + r.below(11) as i64 - 5;
                tenths as f64 / 10.0
            }
            17 if r.below(2) == 0 => (r.next() >> 11) as f64 / (1u64 << 53) as f64 * 0.05,
            18..=19 if r.below(10) == 0 => self.v + r.below(3) as f64,
            _ => self.v,
        }
    }

    /// The next `(jitter, value)`.
    fn next(&mut self) -> (i64, f64) {
        let span = 2 * self.jitter + 1;
        let jitter = if self.realistic {
            // One draw per (target, scrape), independent of the series.
            let mut h =
                Rng((self.target << 32 ^ self.scrape).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            h.next();
            self.scrape += 1;
            h.below(span) as i64 - self.jitter as i64
        } else {
            self.rng.below(span) as i64 - self.jitter as i64
        };
        if self.realistic {
            self.v = self.next_realistic();
            return (jitter, self.v);
        }
        self.v = match self.kind {
            0..=6 => self.v + self.rng.below(1000) as f64,
            7..=10 => (self.v + self.rng.below(4096) as f64 - 2048.0).max(0.0),
            11..=14 => {
                let cents = (self.v * 100.0).round() as i64 + self.rng.below(41) as i64 - 20;
                cents.max(0) as f64 / 100.0
            }
            15..=17 => self.v,
            18 => (self.rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 0.05,
            _ => self.v + if self.rng.below(50) == 0 { 1.0 } else { 0.0 },
        };
        (jitter, self.v)
    }
}

fn labels(i: usize) -> Labels {
    let names = [
        "http_requests_total",
        "node_network_receive_bytes_total",
        "node_cpu_seconds_total",
        "process_cpu_seconds_total",
        "grpc_server_handled_total",
        "node_disk_io_time_seconds_total",
        "node_context_switches_total",
        "node_memory_MemAvailable_bytes",
        "process_resident_memory_bytes",
        "go_memstats_heap_inuse_bytes",
        "node_filesystem_avail_bytes",
        "node_hwmon_temp_celsius",
        "node_load1",
        "node_cpu_scaling_frequency_ghz",
        "container_cpu_usage_percent",
        "up",
        "node_uname_info",
        "go_info",
        "go_gc_duration_seconds",
        "http_request_duration_seconds_bucket",
    ];
    Labels::from_pairs([
        ("__name__", names[i % 20].to_string()),
        (
            "instance",
            format!("10.0.{}.{}:9100", (i / 20) / 250, (i / 20) % 250),
        ),
        ("job", "node".to_string()),
    ])
}

fn main() {
    let (mut n, mut interval, mut hours) = (1000usize, 15_000i64, 24i64);
    let mut om: Option<PathBuf> = None;
    let mut realistic = true;
    let mut jitter = 3u64;
    let mut out = std::env::temp_dir().join("sightline-bench-bytes");
    for a in std::env::args().skip(1) {
        if let Some(v) = a.strip_prefix("--series=") {
            n = v.parse().expect("--series=N");
        } else if let Some(v) = a.strip_prefix("--interval=") {
            interval = v.parse().expect("--interval=MS");
        } else if let Some(v) = a.strip_prefix("--hours=") {
            hours = v.parse().expect("--hours=H");
        } else if let Some(v) = a.strip_prefix("--openmetrics=") {
            om = Some(PathBuf::from(v));
        } else if let Some(v) = a.strip_prefix("--jitter=") {
            jitter = v.parse().expect("--jitter=MS");
        } else if let Some(v) = a.strip_prefix("--mix=") {
            realistic = v != "noisy";
        } else if let Some(v) = a.strip_prefix("--out=") {
            out = PathBuf::from(v);
        }
    }
    let start = 1_700_000_000_000i64 / 7_200_000 * 7_200_000;
    let scrapes = (hours * 3_600_000 / interval) as usize;
    let _ = std::fs::remove_dir_all(&out);
    let opts = Options {
        maintenance_interval_ms: 0,
        ..Options::default()
    };
    let db = Db::open(&out, opts).expect("open");
    let all: Vec<Labels> = (0..n).map(labels).collect();
    let mut gens: Vec<Gen> = (0..n)
        .map(|i| Gen {
            jitter,
            ..Gen::new(i, realistic)
        })
        .collect();
    let mut refs = vec![0u64; n];
    let mut total = 0u64;
    for s in 0..scrapes {
        let base = start + s as i64 * interval;
        let mut app = db.appender();
        for i in 0..n {
            let (j, v) = gens[i].next();
            refs[i] = app.append(refs[i], &all[i], base + j, v).expect("append");
            total += 1;
        }
        app.commit().expect("commit");
        if s % (1_800_000 / interval as usize).max(1) == 0 {
            db.run_maintenance_once().expect("maintenance");
        }
    }
    db.run_maintenance_once().expect("maintenance");
    let st = db.stats();
    let blocks = db.blocks();
    let in_blocks: u64 = blocks.iter().map(|b| b.stats.num_samples).sum();
    println!(
        "mix: {}, series: {n}, interval: {interval} ms, hours: {hours}, samples appended: {total}",
        if realistic { "realistic" } else { "noisy" }
    );
    for b in &blocks {
        println!(
            "  block {} level {} [{}, {}) {} samples",
            b.ulid, b.compaction.level, b.min_time, b.max_time, b.stats.num_samples
        );
    }
    println!(
        "samples in blocks: {in_blocks}, block bytes: {}",
        st.blocks_size_bytes
    );
    println!(
        "bytes/sample: {:.3}",
        st.blocks_size_bytes as f64 / in_blocks.max(1) as f64
    );
    db.close().expect("close");

    if let Some(path) = om {
        // Same samples, series after series, for promtool. Only what our
        // blocks hold (the head's tail is not in blocks) is compared: the
        // script divides by the sample count printed here.
        let last_block_end = blocks.iter().map(|b| b.max_time).max().unwrap_or(start);
        let f = std::fs::File::create(&path).expect("create openmetrics file");
        let mut w = std::io::BufWriter::new(f);
        let mut written = 0u64;
        // OpenMetrics wants a metric family's samples together: name order.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|a, b| all[*a].cmp(&all[*b]));
        for i in order {
            let l = &all[i];
            let mut g = Gen {
                jitter,
                ..Gen::new(i, realistic)
            };
            let name = l.metric_name().unwrap_or("x");
            let rest: Vec<String> = l
                .iter()
                .filter(|x| x.name != "__name__")
                .map(|x| format!("{}=\"{}\"", x.name, x.value))
                .collect();
            let head = format!("{name}{{{}}}", rest.join(","));
            for s in 0..scrapes {
                let (j, v) = g.next();
                let t = start + s as i64 * interval + j;
                if t >= last_block_end {
                    break;
                }
                writeln!(w, "{head} {v} {}.{:03}", t / 1000, t % 1000).expect("write");
                written += 1;
            }
        }
        writeln!(w, "# EOF").expect("write");
        println!("openmetrics samples written: {written}");
    }
}
