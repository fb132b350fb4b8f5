//! Sample vectors that every chunk codec's tests run through, and the
//! bit-exact comparison they share (test-only). A codec must give back every
//! float bit pattern (both zeros, NaN payloads, the staleness marker,
//! subnormals, the integer limits of an f64) and any timestamp sequence.

use sightline_core::{Sample, STALE_NAN};

/// Values whose bits a codec must keep exactly, repeats included (a codec
/// may code "same as before" specially).
pub(crate) const SPECIAL_VALUES: [f64; 25] = [
    0.0,
    -0.0,
    f64::NAN,
    STALE_NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MIN_POSITIVE,
    f64::MAX,
    f64::MIN,
    1.0,
    1.0,
    STALE_NAN,
    42.5,
    -3.5,
    1e300,
    9_007_199_254_740_991.0,
    9_007_199_254_740_992.0,
    -9_007_199_254_740_991.0,
    0.1,
    0.000001,
    1e-7,
    f64::from_bits(1),
    f64::from_bits(u64::MAX),
    -0.0,
    0.0,
];

/// [`SPECIAL_VALUES`] at a 15 s interval.
pub(crate) fn special_value_series() -> Vec<Sample> {
    SPECIAL_VALUES
        .iter()
        .enumerate()
        .map(|(i, v)| Sample::new(1_000 + i as i64 * 15_000, *v))
        .collect()
}

/// Increasing timestamps that stress delta-of-delta coding: jumps across
/// zero and to a quarter of the i64 range, then shrinking deltas, which
/// give negative delta-of-deltas of every size.
pub(crate) fn awkward_timestamp_series() -> [Vec<Sample>; 2] {
    let jumps = [
        i64::MIN / 4,
        -5,
        0,
        1,
        3,
        2_000,
        2_001,
        1_000_000_000,
        1_000_000_005,
        1_000_000_006,
        i64::MAX / 4,
    ]
    .iter()
    .map(|t| Sample::new(*t, *t as f64))
    .collect();
    let mut t = 0;
    let mut shrinking = Vec::new();
    for d in [1_000_000i64, 500_000, 100, 90, 10, 9, 3000, 1, 70_000, 2] {
        t += d;
        shrinking.push(Sample::new(t, -(d as f64)));
    }
    [jumps, shrinking]
}

/// Asserts `got` holds exactly `want`'s timestamps and value bits.
pub(crate) fn assert_bit_exact(got: &[Sample], want: &[Sample]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.t, w.t);
        assert_eq!(
            g.v.to_bits(),
            w.v.to_bits(),
            "at t={}: {} vs {}",
            w.t,
            g.v,
            w.v
        );
    }
}
