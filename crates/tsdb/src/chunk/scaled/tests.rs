use super::*;
use crate::chunk::fixtures::{
    assert_bit_exact, awkward_timestamp_series, special_value_series, SPECIAL_VALUES,
};
use crate::chunk::xor::XorAppender;
use crate::testutil::Rng;

fn encode(samples: &[Sample]) -> Vec<u8> {
    let mut a = ScaledAppender::new();
    for s in samples {
        a.append(s.t, s.v);
    }
    assert_eq!(a.len(), samples.len());
    let snap = a.snapshot();
    assert_eq!(a.finish(), &snap[..]);
    snap
}

fn round_trip(samples: &[Sample]) -> usize {
    let bytes = encode(samples);
    let mut it = ScaledIter::new(&bytes[..]).unwrap();
    assert_eq!(it.len_hint(), samples.len());
    let got: Vec<Sample> = it.by_ref().collect();
    assert!(!it.failed());
    assert_bit_exact(&got, samples);
    bytes.len()
}

/// A uniform float in `[0, 1)` from the crate's test generator.
fn unit(r: &mut Rng) -> f64 {
    (r.next() >> 11) as f64 / (1u64 << 53) as f64
}

#[test]
fn special_values_round_trip_bit_exact() {
    round_trip(&special_value_series());
    // Every value first, where the reference value is 0.
    for v in SPECIAL_VALUES {
        round_trip(&[Sample::new(7, v), Sample::new(8, v), Sample::new(9, 1.5)]);
    }
}

#[test]
fn timestamp_jumps_and_negative_deltas() {
    for s in awkward_timestamp_series() {
        round_trip(&s);
    }
}

#[test]
fn any_increasing_timestamps_round_trip() {
    // Deltas and delta-of-deltas that overflow i64 wrap on both sides.
    let ts = [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX];
    let s: Vec<Sample> = ts.iter().map(|t| Sample::new(*t, 1.0)).collect();
    round_trip(&s);
    // Delta-of-deltas at the edges of the 6-bit field.
    let mut t = 0;
    let mut s = Vec::new();
    for d in [1000i64, 1031, 1000, 969, 968, 1000, 1032, 1, 1, 33, 1] {
        t += d;
        s.push(Sample::new(t, 2.0));
    }
    let len = round_trip(&s);
    // By hand: count 2, first timestamp (zig-zag 2000) 2, head byte and
    // value 2 (scale 0, up 2) 1, ten head bytes of unchanged values; the
    // delta-of-deltas are 1031 -31 -31 -1 32 32 -1031 0 32 -32, and those
    // outside -31..=31 add their zig-zag varint: 2 + 1 + 1 + 2 + 1 + 1.
    assert_eq!(len, 2 + 2 + 1 + 1 + 10 + 8);
}

#[test]
fn random_mixes_of_decimals_and_floats_round_trip() {
    let mut r = Rng::new(42);
    for round in 0..200 {
        let mut t = r.below(1_000_000_000_000) as i64;
        let mut v = 0.0f64;
        let n = 1 + (r.next() % 200) as usize;
        let mut s = Vec::with_capacity(n);
        for _ in 0..n {
            t += 1 + (r.next() % 30_000) as i64;
            v = match r.next() % 8 {
                0 => v,
                1 => unit(&mut r) * 1e6,
                2 => (unit(&mut r) * 1e6).round() / 1e3,
                3 => ((unit(&mut r) - 0.5) * 1e4).round() / 1e6,
                4 => v + (r.next() % 100) as f64,
                5 => f64::from_bits(r.next()),
                6 => -((unit(&mut r) * 1e9).round()),
                _ => (unit(&mut r) * 1e2).round() / 10f64.powi((r.next() % 8) as i32),
            };
            s.push(Sample::new(t, v));
        }
        let len = round_trip(&s);
        assert!(len <= 2 + n * MAX_SAMPLE_LEN, "round {round}");
    }
}

/// Scrape-shaped data: jittered 1 s timestamps, counters printed with three
/// decimals, gauges with four, histogram buckets as integers. The XOR
/// encoding is measured on the same samples as the reference.
#[test]
fn decimal_scrape_values_are_several_times_smaller_than_xor() {
    let mut r = Rng::new(7);
    let mut total_scaled = 0;
    let mut total_xor = 0;
    for kind in 0..3 {
        let mut s = Vec::new();
        let mut v = 500.0f64;
        for i in 0..120i64 {
            let t = 1_700_000_000_000 + i * 1000 + (r.next() % 7) as i64;
            v = match kind {
                0 => ((v + unit(&mut r) * 10.0) * 1e3).round() / 1e3,
                1 => ((v + (unit(&mut r) - 0.5) * 6.0) * 1e4).round() / 1e4,
                _ => (v + (r.next() % 30) as f64).round(),
            };
            s.push(Sample::new(t, v));
        }
        total_scaled += round_trip(&s);
        let mut x = XorAppender::new();
        for p in &s {
            x.append(p.t, p.v);
        }
        total_xor += x.bytes().len();
    }
    let per_sample = total_scaled as f64 / 360.0;
    eprintln!(
        "{per_sample} bytes per sample; xor {}",
        total_xor as f64 / 360.0
    );
    assert!(per_sample < 3.2, "{per_sample} bytes per sample");
    assert!(
        total_scaled * 2 < total_xor,
        "scaled {total_scaled} vs xor {total_xor}"
    );
}

#[test]
fn constant_values_cost_one_byte_per_jittered_sample() {
    let s: Vec<Sample> = (0..120)
        .map(|i| Sample::new(i * 15_000 + (i % 3), 1.0))
        .collect();
    let len = round_trip(&s);
    // Header, first timestamp and value, then one byte per sample.
    assert!(len <= 2 + 8 + 2 + 119, "{len} bytes");
}

#[test]
fn scale_only_grows_within_a_chunk() {
    // 12.3 then 12.34: the second needs scale 2; the third (13) stays at 2.
    let s = [
        Sample::new(1, 12.3),
        Sample::new(2, 12.34),
        Sample::new(3, 13.0),
        Sample::new(4, 0.000001),
        Sample::new(5, 14.0),
    ];
    round_trip(&s);
    let mut a = ScaledAppender::new();
    for p in &s[..3] {
        a.append(p.t, p.v);
    }
    assert_eq!(a.scale, 2);
    for p in &s[3..] {
        a.append(p.t, p.v);
    }
    assert_eq!(a.scale, 6);
}

#[test]
fn damaged_chunks_report_failure_instead_of_panicking() {
    let s: Vec<Sample> = (0..50)
        .map(|i| Sample::new(i * 1000, if i % 3 == 0 { i as f64 / 7.0 } else { i as f64 }))
        .collect();
    let bytes = encode(&s);
    for cut in 2..bytes.len() {
        let mut it = ScaledIter::new(&bytes[..cut]).unwrap();
        let n = it.by_ref().count();
        assert!(n < 50);
        assert!(it.failed(), "cut at {cut}");
    }
    let mut r = Rng::new(3);
    for _ in 0..2000 {
        let mut b = bytes.clone();
        let at = 2 + (r.next() as usize) % (b.len() - 2);
        b[at] ^= 1 << (r.next() % 8);
        // Any outcome but a panic is fine; the count bounds the work.
        assert!(ScaledIter::new(&b[..]).unwrap().count() <= 50);
    }
    assert!(ScaledIter::new(&[0u8][..]).is_none());
}

#[test]
fn integer_rounding_matches_f64_round() {
    let edges = [
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.5,
        -1.5,
        2.5,
        -2.5,
        0.49999999999999994,
        -0.49999999999999994,
        4_503_599_627_370_495.5,
        -4_503_599_627_370_495.5,
        MAX_INT - 1.0,
        -(MAX_INT - 1.0),
    ];
    for x in edges {
        assert_eq!(round_exact(x), Some(x.round() as i64), "{x}");
    }
    let mut r = Rng::new(7);
    for _ in 0..100_000 {
        let x = (unit(&mut r) - 0.5) * 10f64.powi((r.next() % 17) as i32);
        assert_eq!(round_exact(x), Some(x.round() as i64), "{x}");
    }
    for x in [MAX_INT, -MAX_INT, 1e300, f64::INFINITY, f64::NAN] {
        assert_eq!(round_exact(x), None, "{x}");
    }
    // The filter keeps every large finite value (they are integers) and
    // drops what cannot be a decimal.
    assert!(may_be_decimal(1e300));
    assert!(may_be_decimal(0.000123));
    assert!(!may_be_decimal(f64::NAN));
    assert!(!may_be_decimal(f64::INFINITY));
    assert!(!may_be_decimal(1.0 / 3.0));
}

#[test]
fn first_timestamp_and_last_value_read_back() {
    let mut a = ScaledAppender::new();
    assert_eq!(a.first_t(), None);
    for (t, v) in [(-1_234_567_890_123, 0.5), (-1_234_567_860_000, 1.0 / 3.0)] {
        a.append(t, v);
    }
    assert_eq!(a.first_t(), Some(-1_234_567_890_123));
    assert_eq!(a.last_t(), -1_234_567_860_000);
    assert_eq!(a.last_bits(), (1.0f64 / 3.0).to_bits());
    // The count is in the bytes only once they are taken.
    assert_eq!(&a.snapshot()[..2], &[0, 2]);
}
