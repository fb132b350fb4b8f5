//! Counts and unique people by event over time, optionally broken down by
//! one property (its top values by count, the rest summed as "other").

use super::filter::check_key;
use super::people::PersonSet;
use super::time::{BucketIndex, Step};
use super::{check_range, scan_all};
use crate::model::{EventScan, PropFilter, ScanRequest};
use crate::Result;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A trends question.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendsQuery {
    /// From (inclusive), milliseconds since the epoch.
    #[serde(default)]
    pub start_ms: i64,
    /// To (exclusive).
    #[serde(default)]
    pub end_ms: i64,
    /// Bucket width.
    #[serde(default = "default_step")]
    pub step: Step,
    /// The events to count (empty: every event name, each a series).
    #[serde(default)]
    pub events: Vec<String>,
    /// Only events passing every filter.
    #[serde(default)]
    pub filters: Vec<PropFilter>,
    /// Break each event's series down by this property's values.
    #[serde(default)]
    pub breakdown: Option<String>,
    /// With a breakdown: this many values per event by count, the rest as
    /// one "other" series.
    #[serde(default = "default_limit")]
    pub limit: usize,
}

fn default_step() -> Step {
    Step::Day
}

fn default_limit() -> usize {
    10
}

/// One line of a trends answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendSeries {
    /// The event name.
    pub event: String,
    /// The breakdown value (`None`: events without the property, or no
    /// breakdown asked).
    pub breakdown: Option<String>,
    /// This series sums the values past the top `limit`.
    pub other: bool,
    /// Events per bucket.
    pub counts: Vec<u64>,
    /// Distinct people per bucket.
    pub people: Vec<u64>,
    /// Events over the range.
    pub total: u64,
    /// Distinct people over the range.
    pub total_people: u64,
}

/// A trends answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trends {
    /// Bucket starts, milliseconds since the epoch.
    pub buckets: Vec<i64>,
    /// One series per event (and breakdown value).
    pub series: Vec<TrendSeries>,
}

/// An event's series before the top values are picked: (value, acc).
type Rows = Vec<(Option<String>, Acc)>;

/// Per (event, value): counts and people per bucket.
struct Acc {
    counts: Vec<u64>,
    people: Vec<PersonSet>,
}

/// Answers `q` over `scan`.
pub fn trends(scan: &dyn EventScan, q: &TrendsQuery) -> Result<Trends> {
    check_range(q.start_ms, q.end_ms)?;
    if let Some(b) = &q.breakdown {
        check_key(b, "breakdown")?;
    }
    for (i, f) in q.filters.iter().enumerate() {
        check_key(&f.key, &format!("filters[{i}].key"))?;
    }
    let buckets = q.step.buckets(q.start_ms, q.end_ms, "step")?;
    let index = BucketIndex::new(q.step, &buckets);
    let req = ScanRequest {
        start_ms: q.start_ms,
        end_ms: q.end_ms,
        names: q.events.clone(),
        distinct_id: None,
        filters: q.filters.clone(),
        columns: q.breakdown.iter().cloned().collect(),
    };
    // Global codes for names and values, so the per-event key is two ints.
    let mut names: HashMap<String, u32> = HashMap::new();
    let mut values: HashMap<String, u32> = HashMap::new();
    let mut accs: HashMap<(u32, u32), Acc> = HashMap::new();
    let nb = buckets.len();
    scan_all(scan, &req, |batch| {
        let name_codes: Vec<u32> = batch.names.iter().map(|n| intern(&mut names, n)).collect();
        // Value code 0 is "no value"; dictionary entries are 1-based.
        let value_codes: Vec<u32> = match batch.props.first() {
            Some(col) => std::iter::once(0)
                .chain(col.dict.iter().map(|v| intern(&mut values, v) + 1))
                .collect(),
            None => vec![0],
        };
        for i in 0..batch.len() {
            let Some(b) = index.of(batch.timestamp_ms[i]) else {
                continue;
            };
            let v = match batch.props.first() {
                Some(col) => value_codes[col.codes[i] as usize],
                None => 0,
            };
            let acc = accs
                .entry((name_codes[batch.name[i] as usize], v))
                .or_insert_with(|| Acc {
                    counts: vec![0; nb],
                    people: vec![PersonSet::default(); nb],
                });
            acc.counts[b] += 1;
            let p = batch.person_of(i);
            if p != 0 {
                acc.people[b].insert(p);
            }
        }
    })?;
    let value_of = invert(&values);
    // Group by event, in the order asked (or by name when all were).
    let mut by_event: Vec<(String, Rows)> = Vec::new();
    let mut order: Vec<String> = if q.events.is_empty() {
        let mut all: Vec<String> = names.keys().cloned().collect();
        all.sort();
        all
    } else {
        q.events.clone()
    };
    order.dedup();
    for ev in order {
        let Some(&code) = names.get(&ev) else {
            by_event.push((ev, Vec::new()));
            continue;
        };
        let mut rows: Vec<(Option<String>, Acc)> = Vec::new();
        let keys: Vec<(u32, u32)> = accs.keys().filter(|k| k.0 == code).copied().collect();
        for k in keys {
            let acc = accs.remove(&k).expect("key just listed");
            let value = (k.1 > 0).then(|| value_of[k.1 as usize - 1].clone());
            rows.push((value, acc));
        }
        by_event.push((ev, rows));
    }
    let mut series = Vec::new();
    for (event, mut rows) in by_event {
        if rows.is_empty() && q.breakdown.is_none() {
            series.push(finish(
                &event,
                None,
                false,
                Acc {
                    counts: vec![0; nb],
                    people: vec![PersonSet::default(); nb],
                },
            ));
            continue;
        }
        rows.sort_by(|a, b| {
            let (ta, tb) = (
                a.1.counts.iter().sum::<u64>(),
                b.1.counts.iter().sum::<u64>(),
            );
            tb.cmp(&ta).then_with(|| a.0.cmp(&b.0))
        });
        let keep = if q.breakdown.is_some() {
            q.limit.max(1)
        } else {
            rows.len()
        };
        let rest: Vec<(Option<String>, Acc)> = rows.split_off(keep.min(rows.len()));
        for (value, acc) in rows {
            series.push(finish(&event, value, false, acc));
        }
        if !rest.is_empty() {
            let mut other = Acc {
                counts: vec![0; nb],
                people: vec![PersonSet::default(); nb],
            };
            for (_, acc) in rest {
                for b in 0..nb {
                    other.counts[b] += acc.counts[b];
                    other.people[b].extend(acc.people[b].iter().copied());
                }
            }
            series.push(finish(&event, Some("other".into()), true, other));
        }
    }
    Ok(Trends { buckets, series })
}

fn intern(map: &mut HashMap<String, u32>, s: &str) -> u32 {
    if let Some(&c) = map.get(s) {
        return c;
    }
    let c = map.len() as u32;
    map.insert(s.to_string(), c);
    c
}

fn invert(map: &HashMap<String, u32>) -> Vec<String> {
    let mut out = vec![String::new(); map.len()];
    for (s, &c) in map {
        out[c as usize] = s.clone();
    }
    out
}

fn finish(event: &str, breakdown: Option<String>, other: bool, acc: Acc) -> TrendSeries {
    let mut all = PersonSet::default();
    for s in &acc.people {
        all.extend(s.iter().copied());
    }
    TrendSeries {
        event: event.to_string(),
        breakdown,
        other,
        total: acc.counts.iter().sum(),
        total_people: all.len() as u64,
        people: acc.people.iter().map(|s| s.len() as u64).collect(),
        counts: acc.counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::testing::{track, VecScan};
    use crate::analytics::time::{DAY_MS, HOUR_MS};
    use crate::model::PropOp;
    use serde_json::json;

    fn q(events: &[&str]) -> TrendsQuery {
        TrendsQuery {
            start_ms: 0,
            end_ms: 3 * DAY_MS,
            step: Step::Day,
            events: events.iter().map(|s| s.to_string()).collect(),
            filters: vec![],
            breakdown: None,
            limit: 10,
        }
    }

    fn corpus() -> VecScan {
        // Day 0: u1 buys twice (pro), u2 once (free); day 2: u1 (pro), u3
        // (team), u4 (no plan). u2 views on day 1.
        VecScan::with_max_batch(
            vec![
                track(HOUR_MS, "buy", "u1", json!({"plan": "pro"})),
                track(2 * HOUR_MS, "buy", "u1", json!({"plan": "pro"})),
                track(3 * HOUR_MS, "buy", "u2", json!({"plan": "free"})),
                track(DAY_MS + 1, "view", "u2", json!({})),
                track(2 * DAY_MS + 1, "buy", "u1", json!({"plan": "pro"})),
                track(2 * DAY_MS + 2, "buy", "u3", json!({"plan": "team"})),
                track(2 * DAY_MS + 3, "buy", "u4", json!({})),
            ],
            2,
        )
    }

    #[test]
    fn counts_and_people_per_day() {
        let t = trends(&corpus(), &q(&["buy", "view", "nothing"])).unwrap();
        assert_eq!(t.buckets, vec![0, DAY_MS, 2 * DAY_MS]);
        assert_eq!(t.series.len(), 3);
        let buy = &t.series[0];
        assert_eq!(
            (buy.event.as_str(), buy.breakdown.as_deref()),
            ("buy", None)
        );
        assert_eq!(buy.counts, vec![3, 0, 3]);
        assert_eq!(buy.people, vec![2, 0, 3]);
        assert_eq!((buy.total, buy.total_people), (6, 4));
        assert_eq!(t.series[1].counts, vec![0, 1, 0]);
        assert_eq!(t.series[2].counts, vec![0, 0, 0]);
    }

    #[test]
    fn breakdown_keeps_top_values_and_sums_the_rest() {
        let mut query = q(&["buy"]);
        query.breakdown = Some("properties.plan".into());
        query.limit = 1;
        let t = trends(&corpus(), &query).unwrap();
        // pro: 3 events by u1; then free, team, none (1 each) go to other.
        assert_eq!(t.series.len(), 2);
        assert_eq!(t.series[0].breakdown.as_deref(), Some("pro"));
        assert_eq!(t.series[0].counts, vec![2, 0, 1]);
        assert_eq!(t.series[0].total_people, 1);
        assert!(t.series[1].other);
        assert_eq!(t.series[1].counts, vec![1, 0, 2]);
        assert_eq!(t.series[1].total_people, 3);
        query.limit = 10;
        let t = trends(&corpus(), &query).unwrap();
        let names: Vec<Option<&str>> = t.series.iter().map(|s| s.breakdown.as_deref()).collect();
        assert_eq!(names, vec![Some("pro"), None, Some("free"), Some("team")]);
    }

    #[test]
    fn filters_and_all_events() {
        let mut query = q(&[]);
        query.filters = vec![PropFilter {
            key: "properties.plan".into(),
            op: PropOp::Ne("pro".into()),
        }];
        query.step = Step::Week;
        let t = trends(&corpus(), &query).unwrap();
        // 1970-01-01 is a Thursday: one week bucket from Monday 1969-12-29.
        assert_eq!(t.buckets, vec![-3 * DAY_MS]);
        let got: Vec<(&str, u64)> = t
            .series
            .iter()
            .map(|s| (s.event.as_str(), s.total))
            .collect();
        assert_eq!(got, vec![("buy", 3), ("view", 1)]);
    }

    #[test]
    fn bad_input_names_the_field() {
        let mut query = q(&["buy"]);
        query.breakdown = Some("plan".into());
        assert!(trends(&corpus(), &query)
            .unwrap_err()
            .to_string()
            .starts_with("breakdown:"));
        let mut query = q(&["buy"]);
        query.end_ms = -1;
        assert!(trends(&corpus(), &query)
            .unwrap_err()
            .to_string()
            .starts_with("end:"));
    }
}
