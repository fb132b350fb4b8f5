//! A/B tests: people exposed to each variant (their first exposure event,
//! with the variant property), how many of them did the conversion event
//! after exposure within a window, the conversion rate with a 95% Wilson
//! interval, and a two-sided two-proportion z-test of each variant against
//! the control.
//!
//! People exposed to more than one variant are left out of every variant
//! (their conversions cannot be credited to one) and counted apart.

use super::filter::{check_key, column, BoundFilters};
use super::people::PersonMap;
use super::stats::{two_proportion_p_value, wilson_interval};
use super::time::DAY_MS;
use super::{bad, check_range, scan_all};
use crate::model::{EventScan, PropFilter, ScanRequest};
use crate::Result;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The p-value under which a difference is called significant.
pub const ALPHA: f64 = 0.05;

/// An A/B test question.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbTestQuery {
    /// Exposures from (inclusive), milliseconds since the epoch.
    #[serde(default)]
    pub start_ms: i64,
    /// Exposures to (exclusive); conversions are looked for up to a window
    /// later.
    #[serde(default)]
    pub end_ms: i64,
    /// The event that exposes a person to a variant.
    pub exposure_event: String,
    /// The exposure event's property holding the variant.
    pub variant_property: String,
    /// The event that counts as converting.
    pub conversion_event: String,
    /// Filters on the conversion event.
    #[serde(default)]
    pub conversion_filters: Vec<PropFilter>,
    /// Conversion within this long after the first exposure, milliseconds
    /// (default 14 days).
    #[serde(default = "default_window")]
    pub window_ms: i64,
    /// The control variant (default: `control` if there is one, else the
    /// first variant by name).
    #[serde(default)]
    pub control: Option<String>,
}

fn default_window() -> i64 {
    14 * DAY_MS
}

/// One variant's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantResult {
    /// The variant.
    pub variant: String,
    /// People exposed (to this variant only).
    pub exposed: u64,
    /// Of them, people who converted within the window.
    pub converted: u64,
    /// converted / exposed.
    pub rate: f64,
    /// The 95% Wilson interval of the rate.
    pub ci_low: f64,
    /// Its upper end.
    pub ci_high: f64,
    /// rate / control rate - 1 (none for the control, or a control at 0).
    pub uplift: Option<f64>,
    /// The z statistic against the control (none for the control).
    pub z: Option<f64>,
    /// The two-sided p-value against the control.
    pub p_value: Option<f64>,
    /// p_value < [`ALPHA`].
    pub significant: Option<bool>,
}

/// An A/B test answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbTest {
    /// The control variant.
    pub control: String,
    /// Every variant, the control first, then by name.
    pub variants: Vec<VariantResult>,
    /// People exposed to more than one variant, left out.
    pub mixed_exposures: u64,
    /// The significance level the `significant` flags use.
    pub alpha: f64,
}

/// First exposure of a person.
struct Exposure {
    ts: i64,
    variant: u32,
    mixed: bool,
}

/// Answers `q` over `scan`.
pub fn abtest(scan: &dyn EventScan, q: &AbTestQuery) -> Result<AbTest> {
    check_range(q.start_ms, q.end_ms)?;
    for (field, v) in [
        ("exposure_event", &q.exposure_event),
        ("conversion_event", &q.conversion_event),
    ] {
        if v.is_empty() {
            return Err(bad(field, "an event name is required"));
        }
    }
    check_key(&q.variant_property, "variant_property")?;
    if q.window_ms <= 0 {
        return Err(bad("window", "the conversion window must be positive"));
    }
    let mut columns = vec![q.variant_property.clone()];
    for (i, f) in q.conversion_filters.iter().enumerate() {
        check_key(&f.key, &format!("conversion_filters[{i}].key"))?;
        column(&mut columns, &f.key);
    }
    let conv_f = BoundFilters::bind(&q.conversion_filters, &columns);
    let mut names = vec![q.exposure_event.clone(), q.conversion_event.clone()];
    names.dedup();
    let req = ScanRequest {
        start_ms: q.start_ms,
        end_ms: q.end_ms.saturating_add(q.window_ms),
        names,
        distinct_id: None,
        filters: Vec::new(),
        columns: columns.clone(),
    };
    let mut variants: HashMap<String, u32> = HashMap::new();
    let mut exposures: PersonMap<Exposure> = PersonMap::default();
    let mut conversions: PersonMap<Vec<i64>> = PersonMap::default();
    scan_all(scan, &req, |batch| {
        let kinds: Vec<(bool, bool)> = batch
            .names
            .iter()
            .map(|n| (*n == q.exposure_event, *n == q.conversion_event))
            .collect();
        let vcol = &batch.props[0];
        let vcodes: Vec<u32> = std::iter::once(u32::MAX)
            .chain(vcol.dict.iter().map(|v| {
                let next = variants.len() as u32;
                *variants.entry(v.clone()).or_insert(next)
            }))
            .collect();
        for i in 0..batch.len() {
            let (is_exp, is_conv) = kinds[batch.name[i] as usize];
            let person = batch.person_of(i);
            let ts = batch.timestamp_ms[i];
            if person == 0 {
                continue;
            }
            let variant = vcodes[vcol.codes[i] as usize];
            if is_exp && ts < q.end_ms && variant != u32::MAX {
                let e = exposures.entry(person).or_insert(Exposure {
                    ts,
                    variant,
                    mixed: false,
                });
                if e.variant != variant {
                    e.mixed = true;
                }
                e.ts = e.ts.min(ts);
            }
            if is_conv && conv_f.pass(batch, i) {
                conversions.entry(person).or_default().push(ts);
            }
        }
    })?;
    let mut names_of = vec![String::new(); variants.len()];
    for (v, &c) in &variants {
        names_of[c as usize] = v.clone();
    }
    let mut exposed = vec![0u64; names_of.len()];
    let mut converted = vec![0u64; names_of.len()];
    let mut mixed = 0;
    for (person, e) in &exposures {
        if e.mixed {
            mixed += 1;
            continue;
        }
        exposed[e.variant as usize] += 1;
        let hit = conversions
            .get(person)
            .is_some_and(|ts| ts.iter().any(|&t| t >= e.ts && t - e.ts <= q.window_ms));
        if hit {
            converted[e.variant as usize] += 1;
        }
    }
    // Variants seen only on mixed people still get a (zero) row.
    let mut order: Vec<usize> = (0..names_of.len()).collect();
    order.sort_by(|&a, &b| names_of[a].cmp(&names_of[b]));
    let control = match &q.control {
        Some(c) => match variants.get(c) {
            Some(&i) => i as usize,
            None => {
                return Err(bad(
                    "control",
                    format!(
                        "no exposure has variant {c:?} (variants: {:?})",
                        sorted(&names_of)
                    ),
                ))
            }
        },
        None => match variants.get("control") {
            Some(&i) => i as usize,
            None => match order.first() {
                Some(&i) => i,
                None => {
                    return Ok(AbTest {
                        control: q.control.clone().unwrap_or_default(),
                        variants: Vec::new(),
                        mixed_exposures: mixed,
                        alpha: ALPHA,
                    })
                }
            },
        },
    };
    order.retain(|&i| i != control);
    order.insert(0, control);
    let (cx, cn) = (converted[control], exposed[control]);
    let control_rate = rate(cx, cn);
    let results = order
        .into_iter()
        .map(|i| {
            let (x, n) = (converted[i], exposed[i]);
            let (ci_low, ci_high) = wilson_interval(x, n);
            let vs = (i != control).then(|| two_proportion_p_value(cx, cn, x, n));
            VariantResult {
                variant: names_of[i].clone(),
                exposed: n,
                converted: x,
                rate: rate(x, n),
                ci_low,
                ci_high,
                uplift: (i != control && control_rate > 0.0)
                    .then(|| rate(x, n) / control_rate - 1.0),
                z: vs.map(|v| v.0),
                p_value: vs.map(|v| v.1),
                significant: vs.map(|v| v.1 < ALPHA),
            }
        })
        .collect();
    Ok(AbTest {
        control: names_of[control].clone(),
        variants: results,
        mixed_exposures: mixed,
        alpha: ALPHA,
    })
}

fn rate(x: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        x as f64 / n as f64
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::testing::{track, VecScan};
    use serde_json::json;

    const H: i64 = 3_600_000;

    fn q() -> AbTestQuery {
        AbTestQuery {
            start_ms: 0,
            end_ms: 10 * H,
            exposure_event: "exposed".into(),
            variant_property: "properties.variant".into(),
            conversion_event: "buy".into(),
            conversion_filters: vec![],
            window_ms: 5 * H,
            control: None,
        }
    }

    fn corpus() -> VecScan {
        let mut ev = vec![];
        // control: c0..c9 exposed at hour 1; c0, c1 buy at hour 2.
        // test: t0..t9 exposed at hour 1; t0..t4 buy at hour 3; t5 buys
        // before exposure (hour 0: not counted), t6 buys 6h after (past
        // the window), t7 is exposed again at hour 9 and buys at hour 12
        // (after the range end: within the window of the second exposure,
        // not of the first, which is the one that counts).
        for i in 0..10 {
            ev.push(track(
                H,
                "exposed",
                &format!("c{i}"),
                json!({"variant": "control"}),
            ));
            ev.push(track(
                H,
                "exposed",
                &format!("t{i}"),
                json!({"variant": "test"}),
            ));
        }
        for i in 0..2 {
            ev.push(track(2 * H, "buy", &format!("c{i}"), json!({})));
        }
        for i in 0..5 {
            ev.push(track(3 * H, "buy", &format!("t{i}"), json!({})));
        }
        ev.push(track(0, "buy", "t5", json!({})));
        ev.push(track(7 * H + 1, "buy", "t6", json!({})));
        ev.push(track(9 * H, "exposed", "t7", json!({"variant": "test"})));
        ev.push(track(12 * H, "buy", "t7", json!({})));
        // m sees both variants; x has no variant.
        ev.push(track(H, "exposed", "m", json!({"variant": "control"})));
        ev.push(track(2 * H, "exposed", "m", json!({"variant": "test"})));
        ev.push(track(H, "exposed", "x", json!({})));
        VecScan::with_max_batch(ev, 7)
    }

    #[test]
    fn variants_by_hand() {
        let r = abtest(&corpus(), &q()).unwrap();
        assert_eq!(r.control, "control");
        assert_eq!(r.mixed_exposures, 1);
        let c = &r.variants[0];
        let t = &r.variants[1];
        assert_eq!(
            (c.variant.as_str(), c.exposed, c.converted),
            ("control", 10, 2)
        );
        // t7's first exposure is hour 1 (both at hour 1 and 9): the buy at
        // hour 12 is 11h later, past the 5h window. So t0..t4: 5 of 10.
        assert_eq!(
            (t.variant.as_str(), t.exposed, t.converted),
            ("test", 10, 5)
        );
        assert_eq!(c.z, None);
        // 2/10 vs 5/10: pooled .35, se sqrt(.35*.65*.2) = .21331, z = 1.4064,
        // p = 0.1596 (Python: math.erfc(1.4064/math.sqrt(2))).
        assert!((t.z.unwrap() - 1.406_4).abs() < 1e-3);
        assert!((t.p_value.unwrap() - 0.159_6).abs() < 1e-3);
        assert_eq!(t.significant, Some(false));
        assert!((t.uplift.unwrap() - 1.5).abs() < 1e-12);
        let (lo, hi) = wilson_interval(5, 10);
        assert_eq!((t.ci_low, t.ci_high), (lo, hi));
    }

    #[test]
    fn window_counts_after_the_range_and_control_choice() {
        let mut query = q();
        query.window_ms = 12 * H;
        query.control = Some("test".into());
        let r = abtest(&corpus(), &query).unwrap();
        assert_eq!(r.variants[0].variant, "test");
        // Now t6 (6h after) and t7 (11h after) convert too.
        assert_eq!(r.variants[0].converted, 7);
        query.control = Some("nope".into());
        let e = abtest(&corpus(), &query).unwrap_err().to_string();
        assert!(
            e.starts_with("control: no exposure has variant \"nope\""),
            "{e}"
        );
        query.control = None;
        query.variant_property = "variant".into();
        let e = abtest(&corpus(), &query).unwrap_err().to_string();
        assert!(e.starts_with("variant_property:"), "{e}");
    }
}
