use super::*;
use sightline_core::histogram::CUSTOM_BUCKETS_SCHEMA;

/// A request-latency histogram (schema 3) observed `scrapes` times 15 s
/// apart: each scrape adds a few dozen log-normal-ish observations, so
/// buckets appear over time as in a real service.
pub(crate) fn latency_series(seed: u64, scrapes: usize) -> Vec<HistogramSample> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut counts: std::collections::BTreeMap<i32, f64> = Default::default();
    let (mut count, mut sum) = (0.0, 0.0);
    let mut out = Vec::new();
    for i in 0..scrapes {
        let n = 20 + (rnd() * 40.0) as usize;
        for _ in 0..n {
            // Sum of uniforms: roughly normal in log space around 50 ms.
            let z = (rnd() + rnd() + rnd() - 1.5) * 2.0;
            let v = 0.05 * z.exp();
            let idx = (v.log2() * 8.0).ceil() as i32;
            *counts.entry(idx).or_default() += 1.0;
            count += 1.0;
            sum += v;
        }
        let idx: Vec<i32> = counts.keys().copied().collect();
        out.push(HistogramSample {
            t: 1_700_000_000_000 + i as i64 * 15_000 + (rnd() * 5.0) as i64,
            h: FloatHistogram {
                schema: 3,
                zero_threshold: 2.938735877055719e-39,
                count,
                sum,
                positive_spans: spans_of(&idx),
                positive_buckets: counts.values().copied().collect(),
                ..Default::default()
            },
        });
    }
    out
}

/// What a sample reads back as: its buckets on the chunk's union layout.
fn on_layout(s: &HistogramSample, like: &FloatHistogram) -> HistogramSample {
    let idx: Vec<i32> = present_indexes(&like.positive_spans).collect();
    let mut b = Vec::new();
    spread(&idx, &s.h.positive_spans, &s.h.positive_buckets, &mut b);
    HistogramSample {
        t: s.t,
        h: FloatHistogram {
            positive_spans: like.positive_spans.clone(),
            positive_buckets: b,
            ..s.h.clone()
        },
    }
}

fn normalise(samples: &mut [HistogramSample]) {
    for i in 0..samples.len() {
        let h = match continues(&samples[..i], &samples[i].h) {
            Ok(h) | Err(h) => h,
        };
        samples[i].h.counter_reset_hint = h;
    }
}

#[test]
fn integer_histograms_round_trip_on_the_union_layout() {
    let mut s = latency_series(1, 120);
    normalise(&mut s);
    let (enc, bytes) = encode_vec(&s);
    assert_eq!(enc, ENC_HISTOGRAM);
    let mut got = Vec::new();
    decode_into(enc, &bytes, &mut got).unwrap();
    assert_eq!(got.len(), s.len());
    let last = &got[got.len() - 1].h;
    for (g, w) in got.iter().zip(&s) {
        assert_eq!(g, &on_layout(w, last));
    }
    // The last sample has every bucket the chunk holds: exact.
    assert_eq!(&got[119], &s[119]);
    assert_eq!(got[0].h.counter_reset_hint, CounterResetHint::Unknown);
    assert_eq!(
        got[5].h.counter_reset_hint,
        CounterResetHint::NotCounterReset
    );
    // Issue 12: a compact encoding: about a byte per bucket before the
    // block's zstd pass.
    let buckets = last.positive_buckets.len();
    assert!(
        bytes.len() < 120 * (buckets + 12),
        "{} bytes for 120 samples of {buckets} buckets",
        bytes.len()
    );
}

#[test]
fn float_histograms_round_trip_bit_exactly() {
    let mut s = latency_series(2, 50);
    for x in &mut s {
        for b in &mut x.h.positive_buckets {
            *b *= 0.25;
        }
        x.h.count *= 0.25;
    }
    s[3].h.sum = f64::NAN;
    normalise(&mut s);
    let (enc, bytes) = encode_vec(&s);
    assert_eq!(enc, ENC_FLOAT_HISTOGRAM);
    let mut got = Vec::new();
    decode_into(enc, &bytes, &mut got).unwrap();
    let last = &got[49].h;
    for (g, w) in got.iter().zip(&s) {
        let w = on_layout(w, last);
        assert_eq!(g.t, w.t);
        assert_eq!(g.h.sum.to_bits(), w.h.sum.to_bits());
        assert_eq!(g.h.positive_buckets, w.h.positive_buckets);
        assert_eq!(g.h.count, w.h.count);
    }
}

#[test]
fn staleness_markers_fit_in_any_chunk() {
    let mut s = latency_series(3, 10);
    s.insert(
        5,
        HistogramSample {
            t: s[4].t + 1,
            h: FloatHistogram::stale_marker(),
        },
    );
    normalise(&mut s);
    let mut runs = 0;
    split_runs(&s, 120, |_| runs += 1);
    assert_eq!(runs, 1);
    let (enc, bytes) = encode_vec(&s);
    let mut got = Vec::new();
    decode_into(enc, &bytes, &mut got).unwrap();
    assert!(got[5].h.is_stale());
    assert!(!got[6].h.is_stale());
    assert_eq!(got[10].h.count, s[10].h.count);
}

#[test]
fn resets_layout_changes_and_gauges_start_chunks() {
    let mut s = latency_series(4, 30);
    // A restart: counts begin again.
    let restart = latency_series(5, 10);
    let t0 = s[29].t;
    for (i, mut x) in restart.into_iter().enumerate() {
        x.t = t0 + 15_000 * (i as i64 + 1);
        s.push(x);
    }
    // A schema change.
    let mut coarse = s[39].clone();
    coarse.t += 15_000;
    coarse.h.schema = 2;
    s.push(coarse);
    normalise(&mut s);
    let mut lens = Vec::new();
    split_runs(&s, 120, |r| lens.push(r.len()));
    assert_eq!(lens, vec![30, 10, 1]);
    assert_eq!(s[30].h.counter_reset_hint, CounterResetHint::CounterReset);
    assert_eq!(s[40].h.counter_reset_hint, CounterResetHint::Unknown);
    let mut got = Vec::new();
    split_runs(&s, 120, |r| {
        let (enc, b) = encode_vec(r);
        decode_into(enc, &b, &mut got).unwrap();
    });
    assert_eq!(got[30].h.counter_reset_hint, CounterResetHint::CounterReset);
    assert_eq!(
        got[31].h.counter_reset_hint,
        CounterResetHint::NotCounterReset
    );
    assert_eq!(got[40].h.schema, 2);
    // Size cuts.
    let mut lens = Vec::new();
    split_runs(&s[..30], 12, |r| lens.push(r.len()));
    assert_eq!(lens, vec![12, 12, 6]);
    // Gauges: no reset detection, hint kept on every sample.
    let mut g = latency_series(6, 5);
    g.reverse();
    for (i, x) in g.iter_mut().enumerate() {
        x.t = i as i64;
        x.h.counter_reset_hint = CounterResetHint::Gauge;
    }
    normalise(&mut g);
    let mut lens = Vec::new();
    split_runs(&g, 120, |r| lens.push(r.len()));
    assert_eq!(lens, vec![5]);
    let (enc, b) = encode_vec(&g);
    let mut got = Vec::new();
    decode_into(enc, &b, &mut got).unwrap();
    assert!(got
        .iter()
        .all(|x| x.h.counter_reset_hint == CounterResetHint::Gauge));
}

#[test]
fn custom_buckets_and_negative_buckets_round_trip() {
    let nhcb = FloatHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 6.0,
        sum: 3.0,
        custom_values: vec![0.1, 0.5, 1.0],
        positive_spans: vec![Span {
            offset: 0,
            length: 4,
        }],
        positive_buckets: vec![1.0, 2.0, 2.0, 1.0],
        ..Default::default()
    };
    let neg = FloatHistogram {
        schema: 0,
        count: 9.0,
        zero_count: 2.0,
        zero_threshold: 0.001,
        sum: -4.0,
        negative_spans: vec![
            Span {
                offset: -2,
                length: 2,
            },
            Span {
                offset: 3,
                length: 1,
            },
        ],
        negative_buckets: vec![3.0, 1.0, 3.0],
        ..Default::default()
    };
    for h in [nhcb, neg] {
        let s = vec![
            HistogramSample {
                t: 10,
                h: h.clone(),
            },
            HistogramSample {
                t: 20,
                h: h.clone(),
            },
        ];
        let (enc, b) = encode_vec(&s);
        let mut got = Vec::new();
        decode_into(enc, &b, &mut got).unwrap();
        assert_eq!(got[0].h, h);
        let later = FloatHistogram {
            counter_reset_hint: CounterResetHint::NotCounterReset,
            ..h
        };
        assert_eq!(got[1].h, later);
    }
}

#[test]
fn damaged_chunks_are_refused_not_misread() {
    let s = latency_series(7, 20);
    let (enc, b) = encode_vec(&s);
    for cut in [0, 1, 5, b.len() / 2, b.len() - 1] {
        let mut got = Vec::new();
        assert!(decode_into(enc, &b[..cut], &mut got).is_none(), "cut {cut}");
    }
    assert!(decode_into(1, &b, &mut Vec::new()).is_none());
}
