//! The native histogram notation of `.test` files:
//! `{{schema:0 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 offset:1 buckets:[1 2 1]
//! n_offset:0 n_buckets:[1] custom_values:[1 5] counter_reset_hint:gauge}}`,
//! expanded as `{{a}}+{{b}}x3` (a, a+b, a+2b, a+3b), `{{a}}-{{b}}x3` and
//! `{{a}}x3`; mixed freely with float values, `_` and `stale` on a line.

use super::parse::{expand_values, parse_float};
use sightline_core::histogram::{CounterResetHint, Span};
use sightline_core::FloatHistogram;

/// One expanded value of a line that may hold histograms.
#[derive(Debug, Clone, PartialEq)]
pub enum HPoint {
    /// No sample (`_`).
    Gap,
    /// A float (or a staleness marker).
    F(f64),
    /// A native histogram.
    H(FloatHistogram),
}

fn list(v: &str) -> Option<Vec<f64>> {
    let inner = v.trim().strip_prefix('[')?.strip_suffix(']')?;
    inner.split_whitespace().map(parse_float).collect()
}

/// Parses the inside of `{{...}}`.
pub fn parse_histogram(body: &str) -> Option<FloatHistogram> {
    let mut h = FloatHistogram::default();
    let (mut offset, mut n_offset) = (0i32, 0i32);
    // Split into `key:value` items; values in brackets hold spaces.
    let mut rest = body.trim();
    while !rest.is_empty() {
        let colon = rest.find(':')?;
        let key = rest[..colon].trim();
        rest = rest[colon + 1..].trim_start();
        let (val, next) = if rest.starts_with('[') {
            let end = rest.find(']')?;
            (&rest[..=end], &rest[end + 1..])
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        rest = next.trim_start();
        match key {
            "schema" => h.schema = val.parse().ok()?,
            "sum" => h.sum = parse_float(val)?,
            "count" => h.count = parse_float(val)?,
            "z_bucket" => h.zero_count = parse_float(val)?,
            "z_bucket_w" => h.zero_threshold = parse_float(val)?,
            "offset" => offset = val.parse().ok()?,
            "n_offset" => n_offset = val.parse().ok()?,
            "buckets" => h.positive_buckets = list(val)?,
            "n_buckets" => h.negative_buckets = list(val)?,
            "custom_values" => h.custom_values = list(val)?,
            "counter_reset_hint" => {
                h.counter_reset_hint = match val {
                    "unknown" => CounterResetHint::Unknown,
                    "reset" => CounterResetHint::CounterReset,
                    "not_reset" => CounterResetHint::NotCounterReset,
                    "gauge" => CounterResetHint::Gauge,
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
    let span = |offset: i32, n: usize| {
        if n == 0 {
            Vec::new()
        } else {
            vec![Span {
                offset,
                length: n as u32,
            }]
        }
    };
    h.positive_spans = span(offset, h.positive_buckets.len());
    h.negative_spans = span(n_offset, h.negative_buckets.len());
    Some(h)
}

/// Reads `{{...}}` at the start of `s`; returns it and the rest.
fn take_histogram(s: &str) -> Option<(FloatHistogram, &str)> {
    let inner = s.strip_prefix("{{")?;
    let end = inner.find("}}")?;
    Some((parse_histogram(&inner[..end])?, &inner[end + 2..]))
}

/// Expands a line's values, histograms included.
pub fn expand_with_histograms(s: &str) -> Option<Vec<HPoint>> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        if rest.starts_with("{{") {
            let (h, after) = take_histogram(rest)?;
            rest = after;
            let (sign, inc, after) = if let Some(a) = rest.strip_prefix('+') {
                let (inc, a) = take_histogram(a)?;
                (1.0, Some(inc), a)
            } else if let Some(a) = rest.strip_prefix('-') {
                let (inc, a) = take_histogram(a)?;
                (-1.0, Some(inc), a)
            } else {
                (1.0, None, rest)
            };
            rest = after;
            let times = if let Some(a) = rest.strip_prefix('x') {
                let end = a.find(char::is_whitespace).unwrap_or(a.len());
                let n: usize = a[..end].parse().ok()?;
                rest = &a[end..];
                Some(n)
            } else {
                None
            };
            match (inc, times) {
                (None, None) => out.push(HPoint::H(h)),
                (None, Some(n)) => out.extend(std::iter::repeat_n(HPoint::H(h), n + 1)),
                (Some(inc), Some(n)) => {
                    let mut cur = h;
                    for _ in 0..=n {
                        out.push(HPoint::H(cur.clone()));
                        let r = if sign > 0.0 {
                            cur.add(&inc)
                        } else {
                            cur.sub(&inc)
                        };
                        r.ok()?;
                    }
                }
                (Some(_), None) => return None,
            }
            rest = rest.trim_start();
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let tok = &rest[..end];
        rest = rest[end..].trim_start();
        for p in expand_values(tok)? {
            out.push(match p {
                Some(v) => HPoint::F(v),
                None => HPoint::Gap,
            });
        }
    }
    Some(out)
}

fn almost(a: f64, b: f64) -> bool {
    super::almost_equal(a, b)
}

/// Compares histograms as upstream's runner does: after compaction, with
/// the float tolerance on every count, exact layout. The counter-reset
/// hint is compared only where the expectation states one.
pub fn histograms_match(want: &FloatHistogram, got: &FloatHistogram) -> bool {
    let (mut w, mut g) = (want.clone(), got.clone());
    w.compact(0);
    g.compact(0);
    if w.counter_reset_hint != CounterResetHint::Unknown
        && w.counter_reset_hint != g.counter_reset_hint
    {
        return false;
    }
    let all =
        |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| almost(*x, *y));
    w.schema == g.schema
        && almost(w.zero_threshold, g.zero_threshold)
        && almost(w.zero_count, g.zero_count)
        && almost(w.count, g.count)
        && almost(w.sum, g.sum)
        && w.positive_spans == g.positive_spans
        && w.negative_spans == g.negative_spans
        && all(&w.positive_buckets, &g.positive_buckets)
        && all(&w.negative_buckets, &g.negative_buckets)
        && w.custom_values == g.custom_values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_expands_the_notation() {
        let h = parse_histogram("schema:1 sum:5 count:4 offset:1 buckets:[1 2 1] z_bucket:1 z_bucket_w:0.5 counter_reset_hint:gauge").unwrap();
        assert_eq!((h.schema, h.sum, h.count, h.zero_count), (1, 5.0, 4.0, 1.0));
        assert_eq!(
            h.positive_spans,
            vec![Span {
                offset: 1,
                length: 3
            }]
        );
        assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
        let v = expand_with_histograms(
            "{{sum:1 count:1 buckets:[1]}}+{{sum:2 count:1 buckets:[1]}}x2 _ 3 stale {{}}x1",
        )
        .unwrap();
        assert_eq!(v.len(), 8);
        let HPoint::H(third) = &v[2] else { panic!() };
        assert_eq!(
            (third.sum, third.count, third.positive_buckets[0]),
            (5.0, 3.0, 3.0)
        );
        assert_eq!(v[3], HPoint::Gap);
        assert_eq!(v[4], HPoint::F(3.0));
        assert!(matches!(v[7], HPoint::H(_)));
        assert!(expand_with_histograms("{{bogus:1}}").is_none());
    }
}
