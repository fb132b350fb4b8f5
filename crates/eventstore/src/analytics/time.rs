//! UTC calendar buckets: the hour, day, ISO week (Monday first) and month
//! an instant falls in, as milliseconds since the epoch.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// One hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// The most buckets one answer holds: a year of hours, with room.
pub const MAX_BUCKETS: usize = 10_000;

/// The width of a time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// A UTC hour.
    Hour,
    /// A UTC day.
    Day,
    /// An ISO week: Monday 00:00 UTC to the next Monday.
    Week,
    /// A calendar month in UTC.
    Month,
}

impl Step {
    /// The step named `s` (`hour`, `day`, `week`, `month`).
    pub fn parse(s: &str) -> Option<Step> {
        Some(match s {
            "hour" => Step::Hour,
            "day" => Step::Day,
            "week" => Step::Week,
            "month" => Step::Month,
            _ => return None,
        })
    }

    /// The fixed width, for every step but the month.
    fn width_ms(self) -> Option<i64> {
        match self {
            Step::Hour => Some(HOUR_MS),
            Step::Day => Some(DAY_MS),
            Step::Week => Some(7 * DAY_MS),
            Step::Month => None,
        }
    }

    /// The start of the bucket holding `ms`.
    pub fn floor(self, ms: i64) -> i64 {
        match self {
            Step::Hour => ms - ms.rem_euclid(HOUR_MS),
            Step::Day => day_start(ms),
            Step::Week => {
                let day = ms.div_euclid(DAY_MS);
                // 1970-01-01 was a Thursday: Monday is 3 days before it.
                (day - (day + 3).rem_euclid(7)) * DAY_MS
            }
            Step::Month => {
                let (y, m, _) = civil_from_days(ms.div_euclid(DAY_MS));
                days_from_civil(y, m, 1) * DAY_MS
            }
        }
    }

    /// The start of the bucket after the one starting at `start`.
    pub fn next(self, start: i64) -> i64 {
        match self.width_ms() {
            Some(w) => start + w,
            None => {
                let (y, m, _) = civil_from_days(start.div_euclid(DAY_MS));
                let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                days_from_civil(y, m, 1) * DAY_MS
            }
        }
    }

    /// The starts of the buckets covering `[start_ms, end_ms)`; an error
    /// naming `field` when there would be more than [`MAX_BUCKETS`].
    pub fn buckets(self, start_ms: i64, end_ms: i64, field: &str) -> Result<Vec<i64>> {
        let mut out = Vec::new();
        let mut t = self.floor(start_ms);
        while t < end_ms {
            if out.len() == MAX_BUCKETS {
                return Err(Error::BadInput {
                    field: field.into(),
                    reason: format!(
                        "more than {MAX_BUCKETS} buckets in the range: choose a wider step or a shorter range"
                    ),
                });
            }
            out.push(t);
            t = self.next(t);
        }
        Ok(out)
    }
}

/// Finds the bucket of an instant among bucket starts, quickly for fixed
/// widths.
pub(crate) struct BucketIndex<'a> {
    starts: &'a [i64],
    width: Option<i64>,
}

impl<'a> BucketIndex<'a> {
    /// Over `starts` made by [`Step::buckets`] with `step`.
    pub(crate) fn new(step: Step, starts: &'a [i64]) -> Self {
        BucketIndex {
            starts,
            width: step.width_ms(),
        }
    }

    /// The index of the bucket holding `ms`, if any.
    pub(crate) fn of(&self, ms: i64) -> Option<usize> {
        let first = *self.starts.first()?;
        if ms < first {
            return None;
        }
        let i = match self.width {
            Some(w) => ((ms - first) / w) as usize,
            None => self.starts.partition_point(|&s| s <= ms) - 1,
        };
        (i < self.starts.len()).then_some(i)
    }
}

/// The start of the UTC day holding `ms`.
pub fn day_start(ms: i64) -> i64 {
    ms - ms.rem_euclid(DAY_MS)
}

/// Days since the epoch to (year, month 1-12, day 1-31), proleptic
/// Gregorian (the era arithmetic of Howard Hinnant's date algorithms).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (year, month, day) to days since the epoch.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-02-29T13:45:00Z, worked out by hand: 19782 days after the epoch
    // (2024-01-01 is day 19723, plus 31 + 28).
    const LEAP_DAY_1345: i64 = 19_782 * DAY_MS + 13 * HOUR_MS + 45 * 60_000;

    #[test]
    fn floors() {
        assert_eq!(
            Step::Hour.floor(LEAP_DAY_1345),
            19_782 * DAY_MS + 13 * HOUR_MS
        );
        assert_eq!(Step::Day.floor(LEAP_DAY_1345), 19_782 * DAY_MS);
        // 2024-02-29 was a Thursday: its week began Monday 2024-02-26.
        assert_eq!(Step::Week.floor(LEAP_DAY_1345), 19_779 * DAY_MS);
        // 2024-02-01 is day 19754.
        assert_eq!(Step::Month.floor(LEAP_DAY_1345), 19_754 * DAY_MS);
        // Before the epoch: 1969-12-31T23:00 is in the week of Monday 1969-12-29.
        assert_eq!(Step::Week.floor(-HOUR_MS), -3 * DAY_MS);
        assert_eq!(Step::Month.floor(-HOUR_MS), -31 * DAY_MS);
    }

    #[test]
    fn months_step_over_year_and_leap_ends() {
        let feb = 19_754 * DAY_MS;
        assert_eq!(Step::Month.next(feb), (19_754 + 29) * DAY_MS);
        // 2023-12-01 is day 19692; 2024-01-01 is day 19723.
        assert_eq!(Step::Month.next(19_692 * DAY_MS), 19_723 * DAY_MS);
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }

    #[test]
    fn buckets_cover_the_range_and_are_bounded() {
        let b = Step::Day
            .buckets(DAY_MS + 5, 3 * DAY_MS + 1, "step")
            .unwrap();
        assert_eq!(b, vec![DAY_MS, 2 * DAY_MS, 3 * DAY_MS]);
        let idx = BucketIndex::new(Step::Day, &b);
        assert_eq!(idx.of(DAY_MS - 1), None);
        assert_eq!(idx.of(2 * DAY_MS + 7), Some(1));
        assert_eq!(idx.of(4 * DAY_MS), None);
        let m = Step::Month
            .buckets(19_692 * DAY_MS, 19_783 * DAY_MS, "step")
            .unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(
            BucketIndex::new(Step::Month, &m).of(19_782 * DAY_MS),
            Some(2)
        );
        let err = Step::Hour.buckets(0, 2000 * DAY_MS, "step").unwrap_err();
        assert!(err.to_string().starts_with("step: more than"), "{err}");
    }
}
