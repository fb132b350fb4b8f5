//! Daily, weekly and monthly active users, and stickiness.
//!
//! WAU and MAU are rolling: the people active in the 7 (30) UTC days
//! ending with each day, that day included. Each batch lies within one
//! day, so its people are marked in a bitset over the batch's own person
//! codes (no hashing per event); only each batch's distinct people are
//! mapped to a dense number and set in that day's bitset. A sweep over the
//! days then keeps each person's last active day and a count of people per
//! last day: the people active in the window ending on day `d` are those
//! whose last day (as of `d`) lies in it.

use super::people::{Bitset, PersonSlots};
use super::time::{day_start, DAY_MS};
use super::{check_range, scan_all};
use crate::model::{EventScan, PropFilter, ScanRequest};
use crate::Result;
use serde::{Deserialize, Serialize};

/// An active users question: which events count as being active.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveUsersQuery {
    /// First day (the day holding it), milliseconds since the epoch.
    #[serde(default)]
    pub start_ms: i64,
    /// End (exclusive): the last day is the one holding `end_ms - 1`.
    #[serde(default)]
    pub end_ms: i64,
    /// Events that make a person active (empty: any event).
    #[serde(default)]
    pub events: Vec<String>,
    /// Only events passing every filter.
    #[serde(default)]
    pub filters: Vec<PropFilter>,
}

/// One day's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveDay {
    /// The day's start, milliseconds since the epoch.
    pub day_ms: i64,
    /// People active that day.
    pub dau: u64,
    /// People active in the 7 days ending that day.
    pub wau: u64,
    /// People active in the 30 days ending that day.
    pub mau: u64,
    /// DAU / MAU (0 when MAU is 0).
    pub stickiness: f64,
}

/// An active users answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveUsers {
    /// One entry per day of the range.
    pub days: Vec<ActiveDay>,
    /// Mean DAU over the days.
    pub mean_dau: f64,
    /// Mean stickiness over the days.
    pub mean_stickiness: f64,
}

/// Answers `q` over `scan`. The scan starts 29 days before the first day,
/// so the first days' WAU and MAU count their whole window.
pub fn active_users(scan: &dyn EventScan, q: &ActiveUsersQuery) -> Result<ActiveUsers> {
    check_range(q.start_ms, q.end_ms)?;
    for (i, f) in q.filters.iter().enumerate() {
        super::filter::check_key(&f.key, &format!("filters[{i}].key"))?;
    }
    let first_day = day_start(q.start_ms) / DAY_MS;
    let last_day = day_start(q.end_ms - 1) / DAY_MS;
    let scan_from = first_day - 29;
    let ndays = (last_day - scan_from + 1) as usize;
    let req = ScanRequest {
        start_ms: scan_from * DAY_MS,
        end_ms: (last_day + 1) * DAY_MS,
        names: q.events.clone(),
        distinct_id: None,
        filters: q.filters.clone(),
        columns: Vec::new(),
    };
    let mut slots = PersonSlots::default();
    let mut days: Vec<Bitset> = vec![Bitset::default(); ndays];
    let mut local = Bitset::default();
    let mut keys: Vec<u64> = Vec::new();
    scan_all(scan, &req, |batch| {
        if batch.is_empty() {
            return;
        }
        let same_day =
            day_start(batch.timestamp_ms[0]) == day_start(batch.timestamp_ms[batch.len() - 1]);
        if same_day {
            local = Bitset::with_len(batch.persons.len());
            for &p in &batch.person {
                local.set(p as usize);
            }
            let d = (batch.timestamp_ms[0].div_euclid(DAY_MS) - scan_from) as usize;
            keys.clear();
            local.for_each(|code| {
                let key = batch.persons[code];
                if key != 0 {
                    keys.push(key);
                }
            });
            if let Some(remap) = slots.reserve(keys.len()) {
                move_people(&mut days, &remap);
            }
            let day = &mut days[d];
            slots.insert_reserved(&keys, |slot| day.set(slot));
        } else {
            // A batch over two days breaks the scan's promise; count it
            // right anyway, one event at a time.
            for i in 0..batch.len() {
                let key = batch.person_of(i);
                if key != 0 {
                    let d = (batch.timestamp_ms[i].div_euclid(DAY_MS) - scan_from) as usize;
                    let (slot, remap) = slots.insert(key);
                    if let Some(remap) = remap {
                        move_people(&mut days, &remap);
                    }
                    days[d].set(slot);
                }
            }
        }
    })?;
    let mut last_seen: Vec<u32> = vec![u32::MAX; slots.capacity()];
    // people_by_last[d]: people whose last active day so far is d.
    let mut people_by_last: Vec<u64> = vec![0; ndays];
    let mut out = Vec::new();
    for (d, day) in days.iter().enumerate() {
        day.for_each(|p| {
            let prev = last_seen[p];
            if prev != u32::MAX {
                people_by_last[prev as usize] -= 1;
            }
            last_seen[p] = d as u32;
        });
        let dau = day.count();
        people_by_last[d] += dau;
        if (d as i64) + scan_from < first_day {
            continue;
        }
        let window = |n: usize| people_by_last[d + 1 - n..=d].iter().sum::<u64>();
        let (wau, mau) = (window(7), window(30));
        out.push(ActiveDay {
            day_ms: (d as i64 + scan_from) * DAY_MS,
            dau,
            wau,
            mau,
            stickiness: if mau == 0 {
                0.0
            } else {
                dau as f64 / mau as f64
            },
        });
    }
    let n = out.len().max(1) as f64;
    Ok(ActiveUsers {
        mean_dau: out.iter().map(|d| d.dau as f64).sum::<f64>() / n,
        mean_stickiness: out.iter().map(|d| d.stickiness).sum::<f64>() / n,
        days: out,
    })
}

/// Renumbers the people of every day after the slot table grew.
fn move_people(days: &mut [Bitset], remap: &[u32]) {
    for day in days.iter_mut() {
        let mut moved = Bitset::default();
        day.for_each(|old| moved.set(remap[old] as usize));
        *day = moved;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::testing::{track, VecScan};
    use serde_json::json;

    #[test]
    fn rolling_windows_by_hand() {
        const D: i64 = DAY_MS;
        let day = |n: i64| 100 * D + n * D + 5;
        // Range: days 100..=110. u1 active days 100 and 106; u2 day 70
        // (31 days before 101: outside every window of the range), u3 day
        // 75 (in the MAU of days 100..=104), u4 days 100, 100, 103.
        let events = vec![
            track(day(0), "x", "u1", json!({})),
            track(day(6), "x", "u1", json!({})),
            track(day(-30), "x", "u2", json!({})),
            track(day(-25), "x", "u3", json!({})),
            track(day(0), "x", "u4", json!({})),
            track(day(0) + 1, "x", "u4", json!({})),
            track(day(3), "x", "u4", json!({})),
            track(day(3), "other", "u5", json!({})),
        ];
        let scan = VecScan::with_max_batch(events, 1);
        let q = ActiveUsersQuery {
            start_ms: 100 * D,
            end_ms: 111 * D,
            events: vec!["x".into()],
            filters: vec![],
        };
        let a = active_users(&scan, &q).unwrap();
        assert_eq!(a.days.len(), 11);
        let got: Vec<(u64, u64, u64)> = a.days.iter().map(|d| (d.dau, d.wau, d.mau)).collect();
        // By hand: day 100: DAU u1,u4; WAU u1,u4; MAU u1,u3,u4 (u2 on day
        // 70 is 30 days back: the window is days 71..=100).
        // 103: DAU u4. 104: MAU drops... u3 (day 75) leaves after day 104
        // (window 75..=104), so day 105 MAU is u1,u4.
        // 106: DAU u1. WAU on 107 (101..=107): u1,u4.
        // 110: WAU (104..=110): u1 only.
        let want = vec![
            (2, 2, 3),
            (0, 2, 3),
            (0, 2, 3),
            (1, 2, 3),
            (0, 2, 3),
            (0, 2, 2),
            (1, 2, 2),
            (0, 2, 2),
            (0, 2, 2),
            (0, 2, 2),
            (0, 1, 2),
        ];
        assert_eq!(got, want);
        assert_eq!(a.days[0].day_ms, 100 * D);
        assert!((a.days[0].stickiness - 2.0 / 3.0).abs() < 1e-12);
        assert!((a.mean_dau - 4.0 / 11.0).abs() < 1e-12);
    }

    #[test]
    fn any_event_counts_when_none_named() {
        let events = vec![
            track(5, "x", "u1", json!({})),
            track(6, "y", "u2", json!({})),
        ];
        let q = ActiveUsersQuery {
            start_ms: 0,
            end_ms: 1,
            ..ActiveUsersQuery::default()
        };
        let a = active_users(&VecScan::new(events), &q).unwrap();
        assert_eq!(a.days.len(), 1);
        assert_eq!(a.days[0].dau, 2);
    }
}

/// How long DAU/WAU/MAU take over 90 days of 10M events held as batches
/// in memory (the engine's part of the 200 ms target; the store's scan is
/// measured by its own bench). Run with
/// `cargo test --release -p sightline-eventstore dau_speed -- --ignored --nocapture`.
#[cfg(test)]
mod speed {
    use super::*;
    use crate::model::EventBatch;
    use std::ops::ControlFlow;

    struct Batches(Vec<EventBatch>);

    impl EventScan for Batches {
        fn scan(
            &self,
            _req: &ScanRequest,
            f: &mut dyn FnMut(&EventBatch) -> ControlFlow<()>,
        ) -> crate::Result<()> {
            for b in &self.0 {
                if f(b).is_break() {
                    break;
                }
            }
            Ok(())
        }
    }

    #[test]
    #[ignore = "a measurement, not a test: prints the time taken"]
    fn dau_speed() {
        const EVENTS: usize = 10_000_000;
        const DAYS: usize = 90;
        const PEOPLE: u64 = 200_000;
        const BATCH: usize = 65_536;
        let per_day = EVENTS / DAYS;
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut batches = Vec::new();
        for day in 0..DAYS {
            let mut left = per_day;
            while left > 0 {
                let n = left.min(BATCH);
                left -= n;
                let mut b = EventBatch::default();
                let mut codes: std::collections::HashMap<u64, u32> = Default::default();
                for i in 0..n {
                    b.timestamp_ms
                        .push(day as i64 * DAY_MS + (i as i64 * 1000) % DAY_MS);
                    // Skewed: a third of events from the 10% most active people.
                    let r = next();
                    let person = if r % 3 == 0 {
                        r % (PEOPLE / 10)
                    } else {
                        r % PEOPLE
                    };
                    let key = crate::model::person_key(&format!("user-{person}"));
                    let c = codes.len() as u32;
                    let c = *codes.entry(key).or_insert_with(|| {
                        b.persons.push(key);
                        c
                    });
                    b.person.push(c);
                    b.name.push(0);
                }
                b.names.push("x".into());
                batches.push(b);
            }
        }
        let scan = Batches(batches);
        let q = ActiveUsersQuery {
            start_ms: 29 * DAY_MS,
            end_ms: DAYS as i64 * DAY_MS,
            ..ActiveUsersQuery::default()
        };
        // The machine is shared: the thread's CPU time says what the
        // work costs, the wall time what a user waited.
        let cpu_ns = || {
            std::fs::read_to_string("/proc/thread-self/schedstat")
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let (mut wall, mut cpu) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            let (t, c) = (std::time::Instant::now(), cpu_ns());
            let a = active_users(&scan, &q).unwrap();
            wall.push(t.elapsed().as_millis());
            cpu.push((cpu_ns() - c) / 1_000_000);
            assert_eq!(a.days.len(), DAYS - 29);
        }
        wall.sort();
        cpu.sort();
        println!(
            "DAU/WAU/MAU over {EVENTS} events, {DAYS} days: median wall {} ms, CPU {} ms (wall {wall:?}, CPU {cpu:?})",
            wall[2], cpu[2]
        );
    }
}
