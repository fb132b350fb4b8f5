//! Tests of native histogram arithmetic, resets, reconciliation and
//! formatting.

use super::*;
use crate::histogram::{CounterResetHint, CUSTOM_BUCKETS_SCHEMA};

fn h(schema: i32, pos: &[(i32, f64)]) -> FloatHistogram {
    let (positive_spans, positive_buckets) = build(pos, 0);
    FloatHistogram {
        schema,
        count: pos.iter().map(|x| x.1).sum(),
        sum: 10.0,
        positive_spans,
        positive_buckets,
        ..Default::default()
    }
}

#[test]
fn build_and_compact_make_canonical_spans() {
    let (s, c) = build(&[(0, 1.0), (1, 0.0), (2, 3.0), (5, 1.0)], 0);
    assert_eq!(
        s,
        vec![
            Span {
                offset: 0,
                length: 1
            },
            Span {
                offset: 1,
                length: 1
            },
            Span {
                offset: 2,
                length: 1
            }
        ]
    );
    assert_eq!(c, vec![1.0, 3.0, 1.0]);
    let (s, c) = build(&[(0, 1.0), (2, 3.0)], 1);
    assert_eq!(
        s,
        vec![Span {
            offset: 0,
            length: 3
        }]
    );
    assert_eq!(c, vec![1.0, 0.0, 3.0]);
}

/// The in-place paths for histograms of one layout (issue 12: fast
/// `rate` and `sum` of native histograms) give what the general merge
/// gives: a layout that differs by one empty bucket takes the merge.
#[test]
fn same_layout_paths_agree_with_the_general_merge() {
    let a = h(3, &[(-5, 4.0), (-4, 2.0), (0, 7.0), (2, 1.0)]);
    let b = h(3, &[(-5, 1.0), (-4, 2.0), (0, 3.0), (2, 1.0)]);
    let mut padded = b.clone();
    (padded.positive_spans, padded.positive_buckets) =
        build(&[(-5, 1.0), (-4, 2.0), (-3, 0.0), (0, 3.0), (2, 1.0)], 3);
    assert_ne!(padded.positive_spans, a.positive_spans);
    for other in [&b, &padded] {
        let mut d = a.clone();
        d.sub(other).unwrap();
        // The emptied bucket (-4) and the one at 2 are dropped.
        assert_eq!(d.positive_buckets, vec![3.0, 4.0]);
        assert_eq!(
            d.positive_spans,
            vec![
                Span {
                    offset: -5,
                    length: 1
                },
                Span {
                    offset: 4,
                    length: 1
                }
            ]
        );
        let mut s = a.clone();
        s.add(other).unwrap();
        assert_eq!(s.positive_buckets, vec![5.0, 4.0, 10.0, 2.0]);
        assert_eq!(s.count, 21.0);
        assert!(!a.detect_reset(other));
        assert!(other.detect_reset(&a));
    }
    // Spans with adjacent runs are rebuilt, as compaction would.
    let mut split = a.clone();
    split.positive_spans = vec![
        Span {
            offset: -5,
            length: 1,
        },
        Span {
            offset: 0,
            length: 1,
        },
        Span {
            offset: 3,
            length: 1,
        },
        Span {
            offset: 1,
            length: 1,
        },
    ];
    let mut s = split.clone();
    s.add(&split).unwrap();
    assert_eq!(s.positive_spans[0].length, 2);
    assert_eq!(s.positive_buckets, vec![8.0, 4.0, 14.0, 2.0]);
}

#[test]
fn adding_reduces_to_the_lower_schema() {
    // schema 1 buckets 1..=4 are (1,√2],(√2,2],(2,2√2],(2√2,4]; in
    // schema 0 they fall into buckets 1 (1,2] and 2 (2,4].
    let mut a = h(0, &[(1, 1.0)]);
    let b = h(1, &[(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)]);
    a.add(&b).unwrap();
    assert_eq!(a.schema, 0);
    assert_eq!(a.pos(), vec![(1, 4.0), (2, 12.0)]);
    assert_eq!(a.count, 16.0);
    assert_eq!(a.sum, 20.0);
    a.sub(&b).unwrap();
    assert_eq!(a.pos(), vec![(1, 1.0)]);
    assert_eq!(target_index(-1, 2, 0), 0);
    assert_eq!(target_index(0, 1, 0), 0);
    assert_eq!(target_index(-2, 1, 0), -1);
}

#[test]
fn zero_bucket_widens_to_a_bucket_boundary() {
    // Buckets (0.5,1] and (1,2]; widening to 0.7 swallows (0.5,1] and
    // lands on its upper bound 1.
    let mut a = h(0, &[(0, 3.0), (1, 5.0)]);
    a.zero_threshold = 0.001;
    a.zero_count = 1.0;
    assert_eq!(a.zero_count_for_threshold(0.7), (4.0, 1.0));
    a.widen_zero_bucket(0.7);
    assert_eq!((a.zero_count, a.zero_threshold), (4.0, 1.0));
    assert_eq!(a.pos(), vec![(1, 5.0)]);
    let mut b = h(0, &[(1, 1.0)]);
    b.zero_threshold = 0.001;
    b.add(&a).unwrap();
    assert_eq!((b.zero_count, b.zero_threshold), (4.0, 1.0));
    assert_eq!(b.pos(), vec![(1, 6.0)]);
}

#[test]
fn custom_buckets_add_and_reconcile() {
    let c = |cv: Vec<f64>, pos: &[(i32, f64)]| FloatHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        custom_values: cv,
        ..h(0, pos)
    };
    let mut a = c(vec![1.0, 2.0], &[(0, 1.0), (1, 1.0), (2, 1.0)]);
    let b = c(vec![1.0, 2.0], &[(1, 2.0)]);
    assert_eq!(a.add(&b).unwrap(), Combined::default());
    assert_eq!(a.pos(), vec![(0, 1.0), (1, 3.0), (2, 1.0)]);
    let d = c(vec![2.0, 5.0], &[(0, 1.0), (1, 1.0)]);
    assert!(a.add(&d).unwrap().reconciled);
    assert_eq!(a.custom_values, vec![2.0]);
    // a's (−∞,1] and (1,2] go to (−∞,2]; its +Inf and d's (2,5] to +Inf.
    assert_eq!(a.pos(), vec![(0, 5.0), (1, 2.0)]);
    assert_eq!(a.add(&h(0, &[])), Err(Incompatible::MixedSchemas));
}

#[test]
fn resets_are_detected_where_counts_fall() {
    let prev = h(0, &[(0, 2.0), (1, 2.0)]);
    let mut cur = h(0, &[(0, 3.0), (1, 2.0)]);
    assert!(!cur.detect_reset(&prev));
    cur.positive_buckets[1] = 1.0;
    cur.count = 5.0;
    assert!(cur.detect_reset(&prev));
    // A bucket that disappears is a reset, a lower schema is not.
    let lower = h(-1, &[(0, 2.0), (1, 3.0)]);
    assert!(!lower.detect_reset(&prev));
    let higher = h(1, &[(0, 2.0), (2, 3.0)]);
    assert!(higher.detect_reset(&prev));
    let mut hinted = h(0, &[(0, 3.0), (1, 2.0)]);
    hinted.counter_reset_hint = CounterResetHint::CounterReset;
    assert!(hinted.detect_reset(&prev));
}

#[test]
fn formats_as_prometheus_string() {
    let mut a = h(0, &[(0, 1.0), (1, 2.0)]);
    a.zero_threshold = 0.001;
    a.zero_count = 1.0;
    a.negative_spans = vec![Span {
        offset: 1,
        length: 1,
    }];
    a.negative_buckets = vec![3.0];
    assert_eq!(
        a.to_string(),
        "{count:3, sum:10, [-2,-1):3, [-0.001,0.001]:1, (0.5,1]:1, (1,2]:2}"
    );
    assert_eq!(shortest_g(1e21), "1e+21");
    assert_eq!(shortest_g(1234567.0), "1.234567e+06");
    assert_eq!(shortest_g(0.00001), "1e-05");
    assert_eq!(shortest_g(123456.5), "123456.5");
}

#[test]
fn scaling_scales_every_count() {
    let mut a = h(0, &[(0, 1.0), (1, 2.0)]);
    a.scale(0.5);
    assert_eq!((a.count, a.sum), (1.5, 5.0));
    assert_eq!(a.positive_buckets, vec![0.5, 1.0]);
}

#[test]
fn kahan_add_keeps_what_plain_addition_loses() {
    // issue 12: sums of histograms are compensated like float sums.
    let parts = [
        h(1, &[(0, 1.0), (3, 1e100)]),
        h(0, &[(2, 1.0)]),
        h(1, &[(3, -1e100), (5, 2.0)]),
    ];
    let mut acc = parts[0].clone();
    let mut comp = acc.empty_like();
    let mut plain = parts[0].clone();
    for p in &parts[1..] {
        acc.kahan_add(&mut comp, p).unwrap();
        plain.add(p).unwrap();
    }
    acc.add(&comp).unwrap();
    acc.compact(0);
    // Schema 0: bucket 2 holds schema-1 bucket 3, bucket 3 bucket 5.
    assert_eq!(acc.schema, 0);
    assert_eq!(acc.positive_buckets, vec![1.0, 1.0, 2.0]);
    assert_eq!(plain.positive_buckets, vec![1.0, 2.0]);
    assert_eq!(acc.sum, 30.0);
}

#[test]
fn division_divides_every_count() {
    let mut a = h(0, &[(0, 1.0), (1, 2.0)]);
    a.div(4.0);
    assert_eq!((a.count, a.sum), (0.75, 2.5));
    assert_eq!(a.positive_buckets, vec![0.25, 0.5]);
    a.div(0.0);
    assert_eq!((a.count, a.sum), (f64::INFINITY, f64::INFINITY));
    assert!(a.positive_buckets.is_empty() && a.positive_spans.is_empty());
}
