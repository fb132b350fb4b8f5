//! The simulated request-latency histograms the native histogram benches
//! share (`nhist_bytes_per_sample`, `nhist_quantile`): each series has its
//! own request rate (1-40/s) and log-normal latency distribution (median
//! 5-200 ms) that drifts slowly; every observation lands in its schema 3
//! bucket, so buckets appear as the tail fills in and counts grow by
//! Poisson-like increments; about 2% of series restart (counter reset) once.

use sightline_proto::prometheus::{histogram, BucketSpan, Histogram};
use std::collections::BTreeMap;

/// xorshift64*: deterministic.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.f().max(1e-300), self.f());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    fn poisson(&mut self, l: f64) -> u64 {
        if l > 30.0 {
            return (l + l.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        let (lim, mut k, mut p) = ((-l).exp(), 0u64, 1.0);
        loop {
            p *= self.f();
            if p <= lim {
                return k;
            }
            k += 1;
        }
    }
}

/// One simulated series: cumulative state of its histogram.
pub struct Sim {
    rate: f64,
    log_median: f64,
    sigma: f64,
    restart_at: Option<usize>,
    buckets: BTreeMap<i32, u64>,
    zero: u64,
    count: u64,
    sum: f64,
}

impl Sim {
    pub fn new(r: &mut Rng, steps: usize) -> Sim {
        Sim {
            rate: 1.0 + r.f() * 39.0,
            log_median: (0.005f64).ln() + r.f() * (40f64).ln(),
            sigma: 0.3 + r.f() * 0.7,
            restart_at: (r.f() < 0.02).then(|| (r.f() * steps as f64) as usize),
            buckets: BTreeMap::new(),
            zero: 0,
            count: 0,
            sum: 0.0,
        }
    }

    /// Observations of one interval, then the wire histogram at `t`.
    pub fn step(&mut self, r: &mut Rng, i: usize, t: i64, interval_s: f64) -> Histogram {
        if self.restart_at == Some(i) {
            self.buckets.clear();
            self.zero = 0;
            self.count = 0;
            self.sum = 0.0;
        }
        // Slow drift of the latency, as load changes.
        self.log_median += 0.01 * r.normal();
        let n = r.poisson(self.rate * interval_s);
        for _ in 0..n {
            let v = (self.log_median + self.sigma * r.normal()).exp();
            self.count += 1;
            self.sum += v;
            if v <= 1e-128 {
                self.zero += 1;
                continue;
            }
            // Schema 3: bucket i covers (2^((i-1)/8), 2^(i/8)].
            let idx = (v.log2() * 8.0).ceil() as i32;
            *self.buckets.entry(idx).or_default() += 1;
        }
        let mut spans: Vec<BucketSpan> = Vec::new();
        let mut deltas = Vec::new();
        let (mut next, mut prev) = (0i32, 0i64);
        for (&idx, &c) in &self.buckets {
            match spans.last_mut() {
                Some(s) if idx == next => s.length += 1,
                Some(_) => spans.push(BucketSpan {
                    offset: idx - next,
                    length: 1,
                }),
                None => spans.push(BucketSpan {
                    offset: idx,
                    length: 1,
                }),
            }
            next = idx + 1;
            deltas.push(c as i64 - prev);
            prev = c as i64;
        }
        Histogram {
            count: Some(histogram::Count::CountInt(self.count)),
            zero_count: Some(histogram::ZeroCount::ZeroCountInt(self.zero)),
            zero_threshold: 1e-128,
            sum: self.sum,
            schema: 3,
            positive_spans: spans,
            positive_deltas: deltas,
            timestamp: t,
            ..Default::default()
        }
    }
}
