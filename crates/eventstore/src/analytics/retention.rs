//! Retention cohorts: people grouped by the period (day, week, ...) in
//! which they first did the cohort event within the range, and how many of
//! each cohort did the return event in each later period.
//!
//! Periods are calendar buckets (UTC days, ISO weeks), as the cohort table
//! shows them: period 1 of the cohort of Monday's week is the next week,
//! whatever day of the week each person joined. Period 0 is the cohort
//! itself (everyone in it, 100%).

use super::filter::{check_key, column, BoundFilters};
use super::people::PersonMap;
use super::time::{BucketIndex, Step};
use super::{bad, check_range, scan_all};
use crate::model::{EventScan, PropFilter, ScanRequest};
use crate::Result;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// A retention question.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionQuery {
    /// From (inclusive), milliseconds since the epoch.
    #[serde(default)]
    pub start_ms: i64,
    /// To (exclusive).
    #[serde(default)]
    pub end_ms: i64,
    /// The event whose first occurrence puts a person in a cohort.
    pub cohort_event: String,
    /// Filters on the cohort event.
    #[serde(default)]
    pub cohort_filters: Vec<PropFilter>,
    /// The event that counts as coming back.
    pub return_event: String,
    /// Filters on the return event.
    #[serde(default)]
    pub return_filters: Vec<PropFilter>,
    /// The period: `day` or `week` (also `hour`, `month`).
    #[serde(default = "default_period")]
    pub period: Step,
}

fn default_period() -> Step {
    Step::Week
}

/// One cohort's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    /// The cohort's period start, milliseconds since the epoch.
    pub start_ms: i64,
    /// People in the cohort.
    pub size: u64,
    /// People who came back in period 0 (the size), 1, 2, ... up to the
    /// range's last period.
    pub retained: Vec<u64>,
    /// retained / size per period.
    pub share: Vec<f64>,
}

/// A retention answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retention {
    /// The period.
    pub period: Step,
    /// One row per period of the range, oldest first.
    pub cohorts: Vec<Cohort>,
}

/// Answers `q` over `scan`.
pub fn retention(scan: &dyn EventScan, q: &RetentionQuery) -> Result<Retention> {
    check_range(q.start_ms, q.end_ms)?;
    if q.cohort_event.is_empty() {
        return Err(bad("cohort_event", "an event name is required"));
    }
    if q.return_event.is_empty() {
        return Err(bad("return_event", "an event name is required"));
    }
    let periods = q.period.buckets(q.start_ms, q.end_ms, "period")?;
    if periods.len() > 400 {
        return Err(bad("period", "more than 400 periods in the range"));
    }
    let index = BucketIndex::new(q.period, &periods);
    let mut columns = Vec::new();
    for (i, f) in q.cohort_filters.iter().enumerate() {
        check_key(&f.key, &format!("cohort_filters[{i}].key"))?;
        column(&mut columns, &f.key);
    }
    for (i, f) in q.return_filters.iter().enumerate() {
        check_key(&f.key, &format!("return_filters[{i}].key"))?;
        column(&mut columns, &f.key);
    }
    let cohort_f = BoundFilters::bind(&q.cohort_filters, &columns);
    let return_f = BoundFilters::bind(&q.return_filters, &columns);
    let mut names = vec![q.cohort_event.clone(), q.return_event.clone()];
    names.dedup();
    let req = ScanRequest {
        start_ms: q.start_ms,
        end_ms: q.end_ms,
        names,
        distinct_id: None,
        filters: Vec::new(),
        columns: columns.clone(),
    };
    let mut first: PersonMap<i64> = PersonMap::default();
    let mut returned: HashSet<(u64, u32), super::PersonHash> = HashSet::default();
    scan_all(scan, &req, |batch| {
        let kinds: Vec<(bool, bool)> = batch
            .names
            .iter()
            .map(|n| (*n == q.cohort_event, *n == q.return_event))
            .collect();
        for i in 0..batch.len() {
            let (is_cohort, is_return) = kinds[batch.name[i] as usize];
            let person = batch.person_of(i);
            let ts = batch.timestamp_ms[i];
            if person == 0 {
                continue;
            }
            if is_cohort && cohort_f.pass(batch, i) {
                let t = first.entry(person).or_insert(ts);
                *t = (*t).min(ts);
            }
            if is_return && return_f.pass(batch, i) {
                if let Some(p) = index.of(ts) {
                    returned.insert((person, p as u32));
                }
            }
        }
    })?;
    let n = periods.len();
    let mut size = vec![0u64; n];
    let mut retained: Vec<Vec<u64>> = (0..n).map(|c| vec![0; n - c]).collect();
    for (&person, &ts) in &first {
        let Some(c) = index.of(ts) else { continue };
        size[c] += 1;
        for (k, r) in retained[c].iter_mut().enumerate().skip(1) {
            if returned.contains(&(person, (c + k) as u32)) {
                *r += 1;
            }
        }
    }
    let cohorts = (0..n)
        .map(|c| {
            let mut r = std::mem::take(&mut retained[c]);
            r[0] = size[c];
            let share = r
                .iter()
                .map(|&x| {
                    if size[c] == 0 {
                        0.0
                    } else {
                        x as f64 / size[c] as f64
                    }
                })
                .collect();
            Cohort {
                start_ms: periods[c],
                size: size[c],
                retained: r,
                share,
            }
        })
        .collect();
    Ok(Retention {
        period: q.period,
        cohorts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::testing::{track, VecScan};
    use crate::analytics::time::DAY_MS;
    use crate::model::PropOp;
    use serde_json::json;

    fn q(period: Step) -> RetentionQuery {
        RetentionQuery {
            start_ms: 0,
            end_ms: 4 * DAY_MS,
            cohort_event: "signup".into(),
            cohort_filters: vec![],
            return_event: "login".into(),
            return_filters: vec![],
            period,
        }
    }

    fn corpus() -> VecScan {
        let d = |n: i64, h: i64| n * DAY_MS + h * 3_600_000;
        VecScan::with_max_batch(
            vec![
                // Day 0 cohort: a, b. a logs in days 1 and 3, b on day 0
                // only (period 0 returns are not counted).
                track(d(0, 1), "signup", "a", json!({"plan": "pro"})),
                track(d(0, 2), "signup", "b", json!({"plan": "free"})),
                track(d(1, 1), "login", "a", json!({})),
                track(d(1, 2), "login", "a", json!({})),
                track(d(3, 1), "login", "a", json!({})),
                track(d(0, 5), "login", "b", json!({})),
                // c signs up day 1 and again day 2: cohort day 1; logs in day 2.
                track(d(1, 3), "signup", "c", json!({"plan": "pro"})),
                track(d(2, 3), "signup", "c", json!({})),
                track(d(2, 4), "login", "c", json!({})),
                // d logs in but never signs up.
                track(d(2, 4), "login", "d", json!({})),
            ],
            2,
        )
    }

    #[test]
    fn daily_cohorts_by_hand() {
        let r = retention(&corpus(), &q(Step::Day)).unwrap();
        let rows: Vec<(u64, Vec<u64>)> = r
            .cohorts
            .iter()
            .map(|c| (c.size, c.retained.clone()))
            .collect();
        assert_eq!(
            rows,
            vec![
                (2, vec![2, 1, 0, 1]),
                (1, vec![1, 1, 0]),
                (0, vec![0, 0]),
                (0, vec![0]),
            ]
        );
        assert_eq!(r.cohorts[0].share, vec![1.0, 0.5, 0.0, 0.5]);
        assert_eq!(r.cohorts[1].start_ms, DAY_MS);
    }

    #[test]
    fn filters_and_weeks() {
        let mut query = q(Step::Day);
        query.cohort_filters = vec![PropFilter {
            key: "properties.plan".into(),
            op: PropOp::Eq("pro".into()),
        }];
        let r = retention(&corpus(), &query).unwrap();
        assert_eq!(r.cohorts[0].retained, vec![1, 1, 0, 1]);
        assert_eq!(r.cohorts[1].retained, vec![1, 1, 0]);
        let r = retention(&corpus(), &q(Step::Week)).unwrap();
        // All four days lie in the week of Monday 1969-12-29.
        assert_eq!(r.cohorts.len(), 1);
        assert_eq!(r.cohorts[0].retained, vec![3]);
        let mut query = q(Step::Day);
        query.return_event = String::new();
        let e = retention(&corpus(), &query).unwrap_err();
        assert!(e.to_string().starts_with("return_event:"), "{e}");
    }
}
