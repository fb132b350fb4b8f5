//! Time intervals (`time_intervals:` and the older `mute_time_intervals:`):
//! named sets of periods that routes use to mute or to activate
//! notifications, read and evaluated as Alertmanager 0.25 does.
//!
//! A [`TimeInterval`] holds optional lists of times of day, weekdays, days of
//! the month (negative counts from the month's end), months and years, plus a
//! time zone; a moment is inside when every list that is present has an
//! entry containing it. A [`NamedTimeInterval`] contains a moment when any of
//! its intervals does.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

// Times are chrono's `DateTime<Utc>` as everywhere in Alertmanager
// (`sightline_core::time`); jiff is used here only for its IANA time zone
// database (`location: Europe/Berlin`), which chrono lacks.

/// One entry of `time_intervals:` / `mute_time_intervals:`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedTimeInterval {
    /// The name routes refer to (required; checked with the whole file so the
    /// message is Alertmanager's).
    #[serde(default)]
    pub name: String,
    /// The periods; the named interval contains a moment any of them contains.
    #[serde(default)]
    pub time_intervals: Vec<TimeInterval>,
}

impl NamedTimeInterval {
    /// Whether any of the intervals contains `t`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.time_intervals.iter().any(|ti| ti.contains(t))
    }
}

/// One period. Each list left out (`None`) places no constraint; a list
/// given empty (`times: []`) contains nothing, as in Alertmanager.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeInterval {
    #[serde(default)]
    pub times: Option<Vec<TimeRange>>,
    #[serde(default)]
    pub weekdays: Option<Vec<WeekdayRange>>,
    #[serde(default)]
    pub days_of_month: Option<Vec<DayOfMonthRange>>,
    #[serde(default)]
    pub months: Option<Vec<MonthRange>>,
    #[serde(default)]
    pub years: Option<Vec<YearRange>>,
    /// The zone the lists are read in; UTC when left out.
    #[serde(default)]
    pub location: Option<Location>,
}

/// `start_time` / `end_time` as minutes since midnight; the end is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start_minute: u32,
    pub end_minute: u32,
}

/// An inclusive range of weekdays, Sunday = 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekdayRange(pub InclusiveRange);

/// An inclusive range of days of the month; negative days count back from
/// the month's last day (-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayOfMonthRange(pub InclusiveRange);

/// An inclusive range of months, January = 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange(pub InclusiveRange);

/// An inclusive range of years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearRange(pub InclusiveRange);

/// `begin..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InclusiveRange {
    pub begin: i32,
    pub end: i32,
}

impl InclusiveRange {
    fn contains(&self, v: i32) -> bool {
        self.begin <= v && v <= self.end
    }
}

/// A time zone by IANA name (`Europe/Berlin`), `UTC` or `Local`.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// The name as written.
    pub name: String,
    pub tz: jiff::tz::TimeZone,
}

impl TimeInterval {
    /// Whether `t` lies inside the period.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        let tz = self
            .location
            .as_ref()
            .map_or(jiff::tz::TimeZone::UTC, |l| l.tz.clone());
        let Ok(ts) = jiff::Timestamp::new(t.timestamp(), t.timestamp_subsec_nanos() as i32) else {
            return false;
        };
        let z = ts.to_zoned(tz);
        if let Some(times) = &self.times {
            let minute = z.hour() as u32 * 60 + z.minute() as u32;
            if !times
                .iter()
                .any(|r| r.start_minute <= minute && minute < r.end_minute)
            {
                return false;
            }
        }
        if let Some(days) = &self.days_of_month {
            let in_month = z.days_in_month() as i32;
            let day = z.day() as i32;
            let hit = days.iter().any(|DayOfMonthRange(r)| {
                let begin = if r.begin < 0 {
                    in_month + r.begin + 1
                } else {
                    r.begin
                };
                let end = if r.end < 0 {
                    in_month + r.end + 1
                } else {
                    r.end
                };
                // A range starting past this month's end (the 31st in
                // April) does not spill into the next month.
                if begin > in_month {
                    return false;
                }
                let begin = begin.clamp(-in_month, in_month);
                let end = end.clamp(-in_month, in_month);
                begin <= day && day <= end
            });
            if !hit {
                return false;
            }
        }
        if let Some(months) = &self.months {
            if !months.iter().any(|m| m.0.contains(z.month() as i32)) {
                return false;
            }
        }
        if let Some(days) = &self.weekdays {
            let wd = z.weekday().to_sunday_zero_offset() as i32;
            if !days.iter().any(|d| d.0.contains(wd)) {
                return false;
            }
        }
        if let Some(years) = &self.years {
            if !years.iter().any(|y| y.0.contains(z.year() as i32)) {
                return false;
            }
        }
        true
    }
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Splits `a:b` (or `a`, meaning `a:a`).
fn split_range(s: &str) -> Result<(&str, &str), String> {
    let parts: Vec<&str> = s.split(':').collect();
    match parts[..] {
        [one] => Ok((one, one)),
        [a, b] => Ok((a, b)),
        _ => Err(format!("couldn't parse range {s}, invalid format")),
    }
}

fn parse_time(s: &str) -> Result<u32, String> {
    let bad = || format!("couldn't parse timestamp {s}, invalid format");
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' {
        return Err(bad());
    }
    let h: u32 = s[..2].parse().map_err(|_| bad())?;
    let m: u32 = s[3..].parse().map_err(|_| bad())?;
    let digits = s[..2]
        .bytes()
        .chain(s[3..].bytes())
        .all(|c| c.is_ascii_digit());
    // 24:00 is the only time past 23:59, to end a range at midnight.
    if !digits || m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            start_time: String,
            end_time: String,
        }
        let raw = Raw::deserialize(d)?;
        let start = parse_time(&raw.start_time).map_err(serde::de::Error::custom)?;
        let end = parse_time(&raw.end_time).map_err(serde::de::Error::custom)?;
        if start >= end {
            return Err(serde::de::Error::custom(
                "start time cannot be equal or greater than end time",
            ));
        }
        Ok(TimeRange {
            start_minute: start,
            end_minute: end,
        })
    }
}

fn parse_weekdays(s: &str) -> Result<WeekdayRange, String> {
    let lower = s.to_lowercase();
    let (a, b) = split_range(&lower)?;
    let day = |n: &str| {
        WEEKDAYS
            .iter()
            .position(|d| *d == n)
            .map(|i| i as i32)
            .ok_or_else(|| format!("{n} is not a valid weekday"))
    };
    let (begin, end) = (day(a)?, day(b)?);
    if begin > end {
        return Err("start day cannot be before end day".to_owned());
    }
    Ok(WeekdayRange(InclusiveRange { begin, end }))
}

fn parse_months(s: &str) -> Result<MonthRange, String> {
    let lower = s.to_lowercase();
    let (a, b) = split_range(&lower)?;
    // Names or numbers; Alertmanager 0.25 does not range-check numbers.
    let month = |n: &str| match MONTHS.iter().position(|m| *m == n) {
        Some(i) => Ok(i as i32 + 1),
        None => n
            .parse::<i32>()
            .map_err(|_| format!("{n} is not a valid month")),
    };
    let (begin, end) = (month(a)?, month(b)?);
    if begin > end {
        return Err(format!("end month {b} is before start month {a}"));
    }
    Ok(MonthRange(InclusiveRange { begin, end }))
}

fn parse_numbers(s: &str) -> Result<(i32, i32), String> {
    let (a, b) = split_range(s)?;
    let num = |n: &str| {
        n.parse::<i32>()
            .map_err(|_| format!("couldn't parse range {s}, invalid format"))
    };
    Ok((num(a)?, num(b)?))
}

fn parse_days_of_month(s: &str) -> Result<DayOfMonthRange, String> {
    let (begin, end) = parse_numbers(s)?;
    for d in [begin, end] {
        if d == 0 || !(-31..=31).contains(&d) {
            return Err(format!("{d} is not a valid day of the month: out of range"));
        }
    }
    if begin < 0 && end > 0 {
        return Err("end day must be negative if start day is negative".to_owned());
    }
    // Negative days are only known per month; with the shortest month (28
    // days) a range that ends before it starts is always empty.
    let at28 = |d: i32| if d < 0 { 28 + d } else { d };
    if at28(begin) > at28(end) {
        return Err(format!("end day {end} is always before start day {begin}"));
    }
    Ok(DayOfMonthRange(InclusiveRange { begin, end }))
}

fn parse_years(s: &str) -> Result<YearRange, String> {
    let (begin, end) = parse_numbers(s)?;
    if begin > end {
        return Err(format!("end year {end} is before start year {begin}"));
    }
    Ok(YearRange(InclusiveRange { begin, end }))
}

macro_rules! deserialize_from_str {
    ($ty:ty, $parse:ident) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = crate::config::Text::deserialize(d)?.0;
                $parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

deserialize_from_str!(WeekdayRange, parse_weekdays);
deserialize_from_str!(MonthRange, parse_months);
deserialize_from_str!(DayOfMonthRange, parse_days_of_month);
deserialize_from_str!(YearRange, parse_years);

impl Location {
    /// Looks a zone up by IANA name; `Local` is the system zone, `UTC` or
    /// an empty name UTC, as Go's `time.LoadLocation` reads them.
    pub fn parse(name: &str) -> Result<Location, String> {
        let tz = match name {
            "" | "UTC" => jiff::tz::TimeZone::UTC,
            "Local" => jiff::tz::TimeZone::system(),
            _ => jiff::tz::TimeZone::get(name).map_err(|_| format!("unknown time zone {name}"))?,
        };
        Ok(Location {
            name: name.to_owned(),
            tz,
        })
    }
}

impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Location::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
