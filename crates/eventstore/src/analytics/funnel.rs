//! Funnels: people who did the steps in order, each within the conversion
//! window of their first step.
//!
//! A person's events that match any step are put in time order; each of
//! their first-step events starts an attempt, which takes the next steps
//! greedily (the earliest matching event after the previous step, within
//! the window of the attempt's first step). The person counts at the
//! furthest step any attempt reached, the earliest such attempt giving the
//! times between steps and the breakdown value (that of its first-step
//! event). Events between steps do not matter; steps are only looked for
//! within the queried range.

use super::filter::{check_key, column, BoundFilters};
use super::time::DAY_MS;
use super::{bad, check_range, scan_all};
use crate::model::{EventScan, PropFilter, ScanRequest};
use crate::Result;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The most steps a funnel may have.
const MAX_STEPS: usize = 20;

/// One step: an event, and filters on its properties.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelStep {
    /// The event name.
    pub event: String,
    /// Only events of that name passing every filter count for this step.
    #[serde(default)]
    pub filters: Vec<PropFilter>,
}

/// A funnel question.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelQuery {
    /// From (inclusive), milliseconds since the epoch.
    #[serde(default)]
    pub start_ms: i64,
    /// To (exclusive).
    #[serde(default)]
    pub end_ms: i64,
    /// The steps, in order (at least one).
    pub steps: Vec<FunnelStep>,
    /// The conversion window: the last step no later than this after the
    /// first, milliseconds (default 14 days).
    #[serde(default = "default_window")]
    pub window_ms: i64,
    /// Filters every step's events must pass.
    #[serde(default)]
    pub filters: Vec<PropFilter>,
    /// Break the funnel down by this property of the first step's event.
    #[serde(default)]
    pub breakdown: Option<String>,
    /// With a breakdown: this many values by people entering, the rest as
    /// one "other" funnel.
    #[serde(default = "default_limit")]
    pub limit: usize,
}

fn default_window() -> i64 {
    14 * DAY_MS
}

fn default_limit() -> usize {
    10
}

/// One step's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelStepResult {
    /// The step's event name.
    pub event: String,
    /// People who reached this step.
    pub people: u64,
    /// people / people at the previous step (1 for the first step with
    /// anyone in it, 0 when the previous step is empty).
    pub conversion_from_previous: f64,
    /// people / people at the first step.
    pub conversion_from_first: f64,
    /// Median time from the previous step, seconds (none for the first
    /// step, or when nobody reached this one).
    pub median_seconds_from_previous: Option<f64>,
}

/// The funnel of one breakdown value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelBreakdown {
    /// The value (`None`: first-step events without the property).
    pub value: Option<String>,
    /// This funnel sums the values past the top `limit`.
    pub other: bool,
    /// Per step.
    pub steps: Vec<FunnelStepResult>,
}

/// A funnel answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Funnel {
    /// Per step, everyone.
    pub steps: Vec<FunnelStepResult>,
    /// Per breakdown value, when one was asked.
    pub breakdowns: Vec<FunnelBreakdown>,
}

/// People reached per step and the times between steps (ms).
#[derive(Clone)]
struct Acc {
    reached: Vec<u64>,
    gaps: Vec<Vec<i64>>,
}

impl Acc {
    fn new(n: usize) -> Self {
        Acc {
            reached: vec![0; n],
            gaps: vec![Vec::new(); n],
        }
    }

    fn add(&mut self, times: &[i64]) {
        for k in 0..times.len() {
            self.reached[k] += 1;
            if k > 0 {
                self.gaps[k].push(times[k] - times[k - 1]);
            }
        }
    }

    fn merge(&mut self, other: Acc) {
        for (k, (r, g)) in other.reached.into_iter().zip(other.gaps).enumerate() {
            self.reached[k] += r;
            self.gaps[k].extend(g);
        }
    }

    fn finish(mut self, steps: &[FunnelStep]) -> Vec<FunnelStepResult> {
        let first = self.reached.first().copied().unwrap_or(0);
        (0..steps.len())
            .map(|k| {
                let people = self.reached[k];
                let prev = if k == 0 { first } else { self.reached[k - 1] };
                FunnelStepResult {
                    event: steps[k].event.clone(),
                    people,
                    conversion_from_previous: ratio(people, prev),
                    conversion_from_first: ratio(people, first),
                    median_seconds_from_previous: if k == 0 {
                        None
                    } else {
                        median_ms(&mut self.gaps[k]).map(|ms| ms / 1000.0)
                    },
                }
            })
            .collect()
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The median (the mean of the middle two for an even count).
pub(crate) fn median_ms(v: &mut [i64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    })
}

/// One event matching some step.
struct Hit {
    person: u64,
    ts: i64,
    /// Bit k: matches step k.
    mask: u32,
    /// Global breakdown value code, 0 for none.
    value: u32,
}

/// Answers `q` over `scan`.
pub fn funnel(scan: &dyn EventScan, q: &FunnelQuery) -> Result<Funnel> {
    check_range(q.start_ms, q.end_ms)?;
    if q.steps.is_empty() || q.steps.len() > MAX_STEPS {
        return Err(bad("steps", format!("a funnel has 1 to {MAX_STEPS} steps")));
    }
    if q.window_ms <= 0 {
        return Err(bad("window", "the conversion window must be positive"));
    }
    let mut columns = Vec::new();
    for (i, s) in q.steps.iter().enumerate() {
        if s.event.is_empty() {
            return Err(bad(
                format!("steps[{i}].event"),
                "an event name is required",
            ));
        }
        for (j, f) in s.filters.iter().enumerate() {
            check_key(&f.key, &format!("steps[{i}].filters[{j}].key"))?;
            column(&mut columns, &f.key);
        }
    }
    for (i, f) in q.filters.iter().enumerate() {
        check_key(&f.key, &format!("filters[{i}].key"))?;
    }
    let breakdown_col = match &q.breakdown {
        Some(b) => {
            check_key(b, "breakdown")?;
            Some(column(&mut columns, b))
        }
        None => None,
    };
    let mut names: Vec<String> = q.steps.iter().map(|s| s.event.clone()).collect();
    names.sort();
    names.dedup();
    let req = ScanRequest {
        start_ms: q.start_ms,
        end_ms: q.end_ms,
        names,
        distinct_id: None,
        filters: q.filters.clone(),
        columns: columns.clone(),
    };
    let bound: Vec<BoundFilters> = q
        .steps
        .iter()
        .map(|s| BoundFilters::bind(&s.filters, &columns))
        .collect();
    let mut values: HashMap<String, u32> = HashMap::new();
    let mut value_names: Vec<String> = Vec::new();
    let mut hits: Vec<Hit> = Vec::new();
    scan_all(scan, &req, |batch| {
        // Per batch name code: the steps that event name can be.
        let name_steps: Vec<u32> = batch
            .names
            .iter()
            .map(|n| {
                q.steps
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.event == *n)
                    .fold(0, |m, (k, _)| m | 1 << k)
            })
            .collect();
        let value_codes: Vec<u32> = match breakdown_col {
            Some(c) => std::iter::once(0)
                .chain(batch.props[c].dict.iter().map(|v| {
                    let next = values.len() as u32 + 1;
                    *values.entry(v.clone()).or_insert_with(|| {
                        value_names.push(v.clone());
                        next
                    })
                }))
                .collect(),
            None => vec![0],
        };
        for i in 0..batch.len() {
            let mut mask = name_steps[batch.name[i] as usize];
            if mask == 0 {
                continue;
            }
            for (k, f) in bound.iter().enumerate() {
                if mask & (1 << k) != 0 && !f.pass(batch, i) {
                    mask &= !(1 << k);
                }
            }
            let person = batch.person_of(i);
            if mask == 0 || person == 0 {
                continue;
            }
            let value = breakdown_col.map_or(0, |c| value_codes[batch.props[c].codes[i] as usize]);
            hits.push(Hit {
                person,
                ts: batch.timestamp_ms[i],
                mask,
                value,
            });
        }
    })?;
    hits.sort_unstable_by_key(|h| (h.person, h.ts, h.mask));
    let n = q.steps.len();
    let mut total = Acc::new(n);
    let mut by_value: HashMap<u32, Acc> = HashMap::new();
    for person in hits.chunk_by(|a, b| a.person == b.person) {
        let Some((times, value)) = best_attempt(person, n, q.window_ms) else {
            continue;
        };
        total.add(&times);
        if breakdown_col.is_some() {
            by_value
                .entry(value)
                .or_insert_with(|| Acc::new(n))
                .add(&times);
        }
    }
    let mut breakdowns = Vec::new();
    if breakdown_col.is_some() {
        let mut rows: Vec<(Option<String>, Acc)> = by_value
            .into_iter()
            .map(|(v, acc)| ((v > 0).then(|| value_names[v as usize - 1].clone()), acc))
            .collect();
        rows.sort_by(|a, b| {
            b.1.reached[0]
                .cmp(&a.1.reached[0])
                .then_with(|| a.0.cmp(&b.0))
        });
        let rest = rows.split_off(q.limit.max(1).min(rows.len()));
        for (value, acc) in rows {
            breakdowns.push(FunnelBreakdown {
                value,
                other: false,
                steps: acc.finish(&q.steps),
            });
        }
        if !rest.is_empty() {
            let mut other = Acc::new(n);
            for (_, acc) in rest {
                other.merge(acc);
            }
            breakdowns.push(FunnelBreakdown {
                value: Some("other".into()),
                other: true,
                steps: other.finish(&q.steps),
            });
        }
    }
    Ok(Funnel {
        steps: total.finish(&q.steps),
        breakdowns,
    })
}

/// The step times of a person's furthest (then earliest) attempt, and its
/// first-step event's breakdown value; `None` if they never did step 0.
fn best_attempt(hits: &[Hit], n: usize, window_ms: i64) -> Option<(Vec<i64>, u32)> {
    let mut best: Option<(Vec<i64>, u32)> = None;
    for (i, start) in hits.iter().enumerate() {
        if start.mask & 1 == 0 {
            continue;
        }
        let mut times = vec![start.ts];
        for h in &hits[i + 1..] {
            if times.len() == n || h.ts - start.ts > window_ms {
                break;
            }
            if h.mask & (1 << times.len()) != 0 {
                times.push(h.ts);
            }
        }
        if best.as_ref().is_none_or(|(b, _)| times.len() > b.len()) {
            let done = times.len() == n;
            best = Some((times, start.value));
            if done {
                break;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::testing::{track, VecScan};
    use crate::model::PropOp;
    use serde_json::json;

    const M: i64 = 60_000;

    fn steps(names: &[&str]) -> Vec<FunnelStep> {
        names
            .iter()
            .map(|n| FunnelStep {
                event: n.to_string(),
                filters: vec![],
            })
            .collect()
    }

    fn query(s: Vec<FunnelStep>, window_ms: i64) -> FunnelQuery {
        FunnelQuery {
            start_ms: 0,
            end_ms: 10 * DAY_MS,
            steps: s,
            window_ms,
            filters: vec![],
            breakdown: None,
            limit: 10,
        }
    }

    fn corpus() -> VecScan {
        VecScan::with_max_batch(
            vec![
                // u1: view, cart 10 min later, buy 30 min after: converts fully.
                track(0, "view", "u1", json!({"src": "ads"})),
                track(10 * M, "cart", "u1", json!({})),
                track(40 * M, "buy", "u1", json!({"amount": 5})),
                // u2: cart before view does not count; view, cart at +20m, no buy.
                track(M, "cart", "u2", json!({})),
                track(2 * M, "view", "u2", json!({"src": "mail"})),
                track(22 * M, "cart", "u2", json!({})),
                // u3: view, then buy past a 1h window: the second view
                // starts an attempt that reaches cart and buy in time.
                track(0, "view", "u3", json!({"src": "ads"})),
                track(100 * M, "view", "u3", json!({"src": "mail"})),
                track(130 * M, "cart", "u3", json!({})),
                track(150 * M, "buy", "u3", json!({"amount": 50})),
                // u4: only views.
                track(5 * M, "view", "u4", json!({})),
            ],
            3,
        )
    }

    #[test]
    fn steps_in_order_within_the_window() {
        let f = funnel(&corpus(), &query(steps(&["view", "cart", "buy"]), 60 * M)).unwrap();
        let people: Vec<u64> = f.steps.iter().map(|s| s.people).collect();
        assert_eq!(people, vec![4, 3, 2]);
        assert_eq!(f.steps[0].conversion_from_previous, 1.0);
        assert_eq!(f.steps[1].conversion_from_previous, 0.75);
        assert!((f.steps[2].conversion_from_previous - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(f.steps[2].conversion_from_first, 0.5);
        // view->cart gaps: u1 10m, u2 20m, u3 30m -> median 20m.
        assert_eq!(f.steps[1].median_seconds_from_previous, Some(1200.0));
        // cart->buy: u1 30m, u3 20m -> 25m.
        assert_eq!(f.steps[2].median_seconds_from_previous, Some(1500.0));
        assert_eq!(f.steps[0].median_seconds_from_previous, None);
        // A 10 minute window: u1 reaches cart (exactly 10m), u2 not (20m),
        // u3 not (30m).
        let f = funnel(&corpus(), &query(steps(&["view", "cart", "buy"]), 10 * M)).unwrap();
        let people: Vec<u64> = f.steps.iter().map(|s| s.people).collect();
        assert_eq!(people, vec![4, 1, 0]);
    }

    #[test]
    fn step_filters_and_breakdown() {
        let mut s = steps(&["view", "buy"]);
        s[1].filters = vec![PropFilter {
            key: "properties.amount".into(),
            op: PropOp::Gt(10.0),
        }];
        let mut q = query(s, DAY_MS);
        q.breakdown = Some("properties.src".into());
        let f = funnel(&corpus(), &q).unwrap();
        assert_eq!(f.steps[0].people, 4);
        assert_eq!(f.steps[1].people, 1);
        // The attempt counted for u3 starts at their first view (ads):
        // both attempts reach buy, the earliest wins. u1 ads, u2 mail, u4 none.
        let got: Vec<(Option<&str>, u64, u64)> = f
            .breakdowns
            .iter()
            .map(|b| (b.value.as_deref(), b.steps[0].people, b.steps[1].people))
            .collect();
        assert_eq!(
            got,
            vec![(Some("ads"), 2, 1), (None, 1, 0), (Some("mail"), 1, 0)]
        );
        q.limit = 1;
        let f = funnel(&corpus(), &q).unwrap();
        assert_eq!(f.breakdowns.len(), 2);
        assert!(f.breakdowns[1].other);
        assert_eq!(f.breakdowns[1].steps[0].people, 2);
    }

    #[test]
    fn repeated_event_steps_and_bad_input() {
        // view, view: u3 has two views; nobody else.
        let f = funnel(&corpus(), &query(steps(&["view", "view"]), DAY_MS)).unwrap();
        assert_eq!(f.steps[1].people, 1);
        assert_eq!(f.steps[1].median_seconds_from_previous, Some(6000.0));
        let e = funnel(&corpus(), &query(vec![], DAY_MS)).unwrap_err();
        assert!(e.to_string().starts_with("steps:"), "{e}");
        let e = funnel(&corpus(), &query(steps(&["view"]), 0)).unwrap_err();
        assert!(e.to_string().starts_with("window:"), "{e}");
        let mut s = steps(&["view", "buy"]);
        s[1].filters = vec![PropFilter {
            key: "amount".into(),
            op: PropOp::Exists,
        }];
        let e = funnel(&corpus(), &query(s, DAY_MS)).unwrap_err();
        assert!(e.to_string().starts_with("steps[1].filters[0].key:"), "{e}");
    }
}
