//! Time: the one definition every crate uses.
//!
//! Two precisions exist because the peers keep two:
//!
//! - Prometheus keeps time as milliseconds since the Unix epoch in an `i64`
//!   (samples, rule evaluation, the HTTP API). That is Sightline's timestamp
//!   everywhere metrics flow; [`now_ms`] reads the clock in it.
//! - Alertmanager keeps nanoseconds (`startsAt`/`endsAt`, silences, the
//!   notification log), and does calendar arithmetic on them. There the
//!   type is chrono's [`DateTime<Utc>`] (re-exported here as [`UtcTime`]);
//!   [`from_ms`] and [`to_ms`] convert between the two.
//!
//! Text forms, each as a peer writes or reads it:
//!
//! | function | Go equivalent | example |
//! |---|---|---|
//! | [`rfc3339_nano`] | `time.Time.MarshalJSON` (`RFC3339Nano`) | `2023-01-02T03:04:05.5Z` |
//! | [`rfc3339_millis`] | go-openapi `strfmt.DateTime` | `2023-01-02T03:04:05.500Z` |
//! | [`go_string`] | `time.Time.String()` | `2023-01-02 03:04:05.5 +0000 UTC` |
//! | [`parse_rfc3339`] | `time.Parse(time.RFC3339Nano, s)` (Prometheus's `parseTime`) | |
//! | [`parse_openapi`] | `strfmt.ParseDateTime` (Alertmanager's API v2) | |
//!
//! The parsers follow Go 1.19's general `time.Parse` (the Go the peers here
//! are built with), not chrono's RFC 3339 reader: Go wants an upper-case `T`
//! and `Z`, allows a one-digit hour and any two-digit zone offset, and
//! refuses a leap second; chrono differs on each.

use crate::{Error, Result};
use std::time::SystemTime;

pub use chrono::{DateTime, Utc};

/// A time with nanoseconds, in UTC: what Alertmanager's times are.
pub type UtcTime = DateTime<Utc>;

/// Go's month names (`January` ...), as its time layouts print and parse them.
pub const GO_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Go's weekday names, Sunday first.
pub const GO_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    system_time_ms(SystemTime::now())
}

/// Now, with nanoseconds.
pub fn now() -> UtcTime {
    Utc::now()
}

/// A [`SystemTime`] in milliseconds since the Unix epoch (negative before it).
pub fn system_time_ms(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// A [`SystemTime`] as a [`UtcTime`], nanoseconds kept.
pub fn from_system_time(t: SystemTime) -> UtcTime {
    DateTime::<Utc>::from(t)
}

/// Milliseconds since the epoch as a [`UtcTime`]; `None` outside chrono's range.
pub fn from_ms(ms: i64) -> Option<UtcTime> {
    DateTime::from_timestamp_millis(ms)
}

/// A [`UtcTime`] in milliseconds since the epoch (nanoseconds truncated).
pub fn to_ms(t: &UtcTime) -> i64 {
    t.timestamp_millis()
}

/// Go's zero `time.Time` (`0001-01-01T00:00:00Z`), which Alertmanager
/// prints for unset times (`endsAt` of a firing alert).
pub fn zero_time() -> UtcTime {
    // Go's zero time is 62135596800 seconds before the Unix epoch.
    DateTime::from_timestamp(-62_135_596_800, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The fields of a time in UTC, for the formatters.
struct Parts {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
}

fn parts(t: &UtcTime) -> Parts {
    use chrono::{Datelike, Timelike};
    Parts {
        year: t.year(),
        month: t.month(),
        day: t.day(),
        hour: t.hour(),
        minute: t.minute(),
        second: t.second(),
        // chrono folds a leap second into nanoseconds >= 1e9; Go has none.
        nanos: t.nanosecond() % 1_000_000_000,
    }
}

/// Nanoseconds as Go's `.999999999`: the dot and the digits without trailing
/// zeros, or nothing when zero.
fn trimmed_fraction(nanos: u32) -> String {
    if nanos == 0 {
        return String::new();
    }
    let s = format!(".{nanos:09}");
    s.trim_end_matches('0').to_owned()
}

/// RFC 3339 as Go's `time.Time.MarshalJSON` writes a UTC time: up to nine
/// fraction digits, trailing zeros dropped (`2023-01-02T03:04:05.5Z`).
pub fn rfc3339_nano(t: &UtcTime) -> String {
    let p = parts(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}Z",
        p.year,
        p.month,
        p.day,
        p.hour,
        p.minute,
        p.second,
        trimmed_fraction(p.nanos)
    )
}

/// RFC 3339 with exactly three fraction digits, as go-openapi's
/// `strfmt.DateTime` writes it (Alertmanager API v2, and the alerts
/// Prometheus posts): `2023-01-02T03:04:05.500Z`.
pub fn rfc3339_millis(t: &UtcTime) -> String {
    rfc3339_digits(t, 3)
}

/// RFC 3339 with exactly `digits` (0 to 9) fraction digits, truncated, as a
/// Go layout of `.000…` writes it.
pub fn rfc3339_digits(t: &UtcTime, digits: u32) -> String {
    let p = parts(t);
    let digits = digits.min(9);
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        p.year, p.month, p.day, p.hour, p.minute, p.second,
    );
    if digits > 0 {
        let frac = p.nanos / 10u32.pow(9 - digits);
        s.push_str(&format!(".{frac:0width$}", width = digits as usize));
    }
    s.push('Z');
    s
}

/// Go's `time.Time.String()` of a UTC time:
/// `2006-01-02 15:04:05.999999999 +0000 UTC`.
pub fn go_string(t: &UtcTime) -> String {
    let p = parts(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{} +0000 UTC",
        p.year,
        p.month,
        p.day,
        p.hour,
        p.minute,
        p.second,
        trimmed_fraction(p.nanos)
    )
}

/// Parses what [`go_string`] writes.
pub fn parse_go_string(s: &str) -> Option<UtcTime> {
    let body = s.strip_suffix(" +0000 UTC")?;
    let mut c = Cursor::new(body);
    let t = c.date_time(b' ', true)?;
    c.at_end().then(|| t.build(0)).flatten()
}

/// Parses RFC 3339 as Go's `time.Parse(time.RFC3339Nano, s)` does, which is
/// how Prometheus's API reads `time`, `start` and `end`:
/// `2006-01-02T15:04:05.999999999Z07:00`, upper-case `T` and `Z`, a fraction
/// of one to nine digits after `.` or `,`, a zone offset `±hh:mm`.
pub fn parse_rfc3339(s: &str) -> Result<UtcTime> {
    // Go 1.19 reads at most nine fraction digits for `.999999999`; a tenth
    // is left over and fails the zone.
    parse_zoned(s, true)
        .filter(|(_, digits)| *digits <= 9)
        .map(|(t, _)| t)
        .ok_or_else(|| Error::bad_data(format!("cannot parse {s:?} as an RFC 3339 time")))
}

/// Parses a time as go-openapi's `strfmt.ParseDateTime` does (Alertmanager's
/// API v2 `startsAt`, `endsAt`, silences): everything [`parse_rfc3339`]
/// takes, and the forms strfmt tries after it: a zone without the colon
/// (`+0100`, with exactly three or six fraction digits), no zone (UTC),
/// minutes without seconds (`2006-01-02T15:04Z`, `2006-01-02T15:04`), and a
/// space for the `T` when there is no zone (`2006-01-02 15:04:05`).
pub fn parse_openapi(s: &str) -> Result<UtcTime> {
    parse_rfc3339(s)
        .ok()
        .or_else(|| parse_openapi_other(s))
        .ok_or_else(|| Error::bad_data(format!("cannot parse {s:?} as a date-time")))
}

/// `2006-01-02T15:04:05[.fraction]` and a zone, with or without its colon;
/// also how many fraction digits there were.
fn parse_zoned(s: &str, colon: bool) -> Option<(UtcTime, usize)> {
    let mut c = Cursor::new(s);
    let t = c.date_time(b'T', true)?;
    let off = c.zone(colon)?;
    c.at_end().then_some(())?;
    Some((t.build(off)?, t.frac_digits))
}

fn parse_openapi_other(s: &str) -> Option<UtcTime> {
    // `time.RFC3339`: Go's seconds field takes any number of fraction
    // digits (the first nine count), unlike RFC3339Nano's.
    if let Some((t, _)) = parse_zoned(s, true) {
        return Some(t);
    }
    // RFC3339Millis/MicroNoColon: `.000Z0700`, `.000000Z0700`, exactly.
    if let Some((t, 3 | 6)) = parse_zoned(s, false) {
        return Some(t);
    }
    // ISO8601LocalTime `2006-01-02T15:04:05` and the sortable
    // `2006-01-02 15:04:05`: no zone, so UTC (Go's Parse without a zone).
    for sep in [b'T', b' '] {
        let mut c = Cursor::new(s);
        if let Some(t) = c.date_time(sep, true) {
            if c.at_end() {
                return t.build(0);
            }
        }
    }
    // Reduced precision: `2006-01-02T15:04Z` (a literal Z) and `2006-01-02T15:04`.
    let mut c = Cursor::new(s);
    let t = c.date_time(b'T', false)?;
    c.eat(b'Z');
    c.at_end().then_some(())?;
    t.build(0)
}

/// Fields read by [`Cursor::date_time`], before the zone is applied.
struct Fields {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    frac_digits: usize,
}

impl Fields {
    /// The time, with `offset` seconds east of UTC taken off.
    fn build(&self, offset: i64) -> Option<UtcTime> {
        let date = chrono::NaiveDate::from_ymd_opt(self.year, self.month, self.day)?;
        let time =
            chrono::NaiveTime::from_hms_nano_opt(self.hour, self.minute, self.second, self.nanos)?;
        let local = date.and_time(time).and_utc();
        local.checked_sub_signed(chrono::TimeDelta::seconds(offset))
    }
}

/// A reader over the bytes of a time, with Go's `getnum` rules.
struct Cursor<'a> {
    s: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s: s.as_bytes() }
    }

    fn at_end(&self) -> bool {
        self.s.is_empty()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.s.first() == Some(&b) {
            self.s = &self.s[1..];
            true
        } else {
            false
        }
    }

    fn digit(&self, i: usize) -> Option<u32> {
        self.s
            .get(i)
            .filter(|b| b.is_ascii_digit())
            .map(|b| u32::from(b - b'0'))
    }

    /// Go's `getnum`: two digits, or one when `fixed` is false and the
    /// second byte is not a digit.
    fn num2(&mut self, fixed: bool) -> Option<u32> {
        let a = self.digit(0)?;
        match self.digit(1) {
            Some(b) => {
                self.s = &self.s[2..];
                Some(a * 10 + b)
            }
            None if !fixed => {
                self.s = &self.s[1..];
                Some(a)
            }
            None => None,
        }
    }

    /// `2006-01-02<sep>15:04[:05[.999999999]]`, the seconds required when
    /// `seconds` is true and absent otherwise. Day-of-month is checked
    /// when the time is built.
    fn date_time(&mut self, sep: u8, seconds: bool) -> Option<Fields> {
        let mut year = 0;
        for i in 0..4 {
            year = year * 10 + self.digit(i)? as i32;
        }
        self.s = &self.s[4..];
        self.eat(b'-').then_some(())?;
        let month = self.num2(true).filter(|m| (1..=12).contains(m))?;
        self.eat(b'-').then_some(())?;
        let day = self.num2(true)?;
        self.eat(sep).then_some(())?;
        let hour = self.num2(false).filter(|h| *h < 24)?;
        self.eat(b':').then_some(())?;
        let minute = self.num2(true).filter(|m| *m < 60)?;
        let mut f = Fields {
            year,
            month,
            day,
            hour,
            minute,
            second: 0,
            nanos: 0,
            frac_digits: 0,
        };
        if !seconds {
            return Some(f);
        }
        self.eat(b':').then_some(())?;
        f.second = self.num2(true).filter(|s| *s < 60)?;
        // A fraction needs a digit after the separator; digits past the
        // ninth are read and ignored, as Go's seconds field does.
        if matches!(self.s.first(), Some(b'.' | b',')) && self.digit(1).is_some() {
            let n = self.s[1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let mut nanos = 0;
            for i in 0..9 {
                nanos = nanos * 10 + if i < n { self.digit(1 + i)? } else { 0 };
            }
            f.nanos = nanos;
            f.frac_digits = n;
            self.s = &self.s[1 + n..];
        }
        Some(f)
    }

    /// `Z` or `±hh:mm` (`±hhmm` when `colon` is false), as seconds east of
    /// UTC. Go checks only that the fields are two digits each.
    fn zone(&mut self, colon: bool) -> Option<i64> {
        if self.eat(b'Z') {
            return Some(0);
        }
        let sign = match self.s.first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.s = &self.s[1..];
        let h = self.num2(true)?;
        if colon {
            self.eat(b':').then_some(())?;
        }
        let m = self.num2(true)?;
        Some(sign * i64::from(h * 60 + m) * 60)
    }
}

#[cfg(test)]
#[path = "time_tests.rs"]
mod tests;
