//! Go's time printing for notification templates: `time.Time.String()`
//! (how `{{ .StartsAt }}` prints), RFC 3339 with nanoseconds (how webhook
//! JSON carries times) and `Time.Format` with Go's reference-time layouts
//! (`{{ .StartsAt.Format "2006-01-02 15:04" }}`). Sightline keeps every
//! alert time in UTC, so zones print as UTC. The fixed forms are
//! `sightline_core::time`'s, re-exported here for the templates.

use chrono::{DateTime, Datelike, Timelike, Utc};

pub use sightline_core::time::{go_string, parse_go_string, rfc3339_nano, zero_time};
use sightline_core::time::{GO_DAYS as DAYS, GO_MONTHS as MONTHS};

/// `Time.Format(layout)` for a UTC time, with Go's layout elements.
pub fn format(t: &DateTime<Utc>, layout: &str) -> String {
    let mut out = String::with_capacity(layout.len() + 8);
    let b = layout.as_bytes();
    let mut i = 0;
    let month = t.month0() as usize;
    let weekday = t.weekday().num_days_from_sunday() as usize;
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    while i < b.len() {
        let rest = &layout[i..];
        // Longest elements first, as Go's nextStdChunk distinguishes them.
        let (len, text) = if rest.starts_with("January") {
            (7, MONTHS[month].to_owned())
        } else if rest.starts_with("Jan") {
            (3, MONTHS[month][..3].to_owned())
        } else if rest.starts_with("Monday") {
            (6, DAYS[weekday].to_owned())
        } else if rest.starts_with("Mon") {
            (3, DAYS[weekday][..3].to_owned())
        } else if rest.starts_with("MST") {
            (3, "UTC".to_owned())
        } else if rest.starts_with("2006") {
            (4, format!("{:04}", t.year()))
        } else if rest.starts_with("2") {
            (1, t.day().to_string())
        } else if rest.starts_with("_2") {
            (2, format!("{:>2}", t.day()))
        } else if rest.starts_with("002") {
            (3, format!("{:03}", t.ordinal()))
        } else if rest.starts_with("01") {
            (2, format!("{:02}", t.month()))
        } else if rest.starts_with("02") {
            (2, format!("{:02}", t.day()))
        } else if rest.starts_with("03") {
            (2, format!("{hour12:02}"))
        } else if rest.starts_with("04") {
            (2, format!("{:02}", t.minute()))
        } else if rest.starts_with("05") {
            (2, format!("{:02}", t.second()))
        } else if rest.starts_with("06") {
            (2, format!("{:02}", t.year().rem_euclid(100)))
        } else if rest.starts_with("15") {
            (2, format!("{:02}", t.hour()))
        } else if rest.starts_with('1') {
            (1, t.month().to_string())
        } else if rest.starts_with('3') {
            (1, hour12.to_string())
        } else if rest.starts_with('4') {
            (1, t.minute().to_string())
        } else if rest.starts_with('5') {
            (1, t.second().to_string())
        } else if rest.starts_with("PM") {
            (2, if t.hour() >= 12 { "PM" } else { "AM" }.to_owned())
        } else if rest.starts_with("pm") {
            (2, if t.hour() >= 12 { "pm" } else { "am" }.to_owned())
        } else if let Some(n) = zone(rest) {
            n
        } else if let Some(n) = fraction(rest, t.nanosecond()) {
            n
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            (c.len_utf8(), c.to_string())
        };
        out.push_str(&text);
        i += len;
    }
    out
}

/// Zone elements; UTC prints `Z` for the `Z` forms and zeros otherwise.
fn zone(rest: &str) -> Option<(usize, String)> {
    for (pat, text) in [
        ("Z07:00:00", "Z"),
        ("-07:00:00", "+00:00:00"),
        ("Z070000", "Z"),
        ("-070000", "+000000"),
        ("Z07:00", "Z"),
        ("-07:00", "+00:00"),
        ("Z0700", "Z"),
        ("-0700", "+0000"),
        ("Z07", "Z"),
        ("-07", "+00"),
    ] {
        if rest.starts_with(pat) {
            return Some((pat.len(), text.to_owned()));
        }
    }
    None
}

/// `.000` (fixed digits) and `.999` (trailing zeros dropped) after a seconds
/// element; Go only treats them as a fraction when no digit follows.
fn fraction(rest: &str, nanos: u32) -> Option<(usize, String)> {
    let b = rest.as_bytes();
    if !(b.first() == Some(&b'.') || b.first() == Some(&b',')) {
        return None;
    }
    let digit = *b.get(1)?;
    if digit != b'0' && digit != b'9' {
        return None;
    }
    let n = b[1..].iter().take_while(|c| **c == digit).count();
    if b.get(1 + n).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    let all = format!("{nanos:09}");
    let digits = &all[..n.min(9)];
    let sep = b[0] as char;
    let text = if digit == b'0' {
        format!("{sep}{digits}")
    } else {
        let t = digits.trim_end_matches('0');
        if t.is_empty() {
            String::new()
        } else {
            format!("{sep}{t}")
        }
    };
    Some((1 + n, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 3, 5, 14, 7, 9).unwrap() + chrono::Duration::milliseconds(120)
    }

    #[test]
    fn go_string_and_json_forms() {
        assert_eq!(go_string(&t()), "2023-03-05 14:07:09.12 +0000 UTC");
        assert_eq!(go_string(&zero_time()), "0001-01-01 00:00:00 +0000 UTC");
        assert_eq!(rfc3339_nano(&t()), "2023-03-05T14:07:09.12Z");
        assert_eq!(rfc3339_nano(&zero_time()), "0001-01-01T00:00:00Z");
        assert_eq!(parse_go_string(&go_string(&t())), Some(t()));
        assert_eq!(parse_go_string(&go_string(&zero_time())), Some(zero_time()));
    }

    #[test]
    fn layouts_as_go_prints_them() {
        // 2023-03-05 was a Sunday; expected strings written from Go's layout rules.
        assert_eq!(format(&t(), "2006-01-02 15:04:05"), "2023-03-05 14:07:09");
        assert_eq!(
            format(&t(), "Mon Jan _2 03:04:05PM MST 2006"),
            "Sun Mar  5 02:07:09PM UTC 2023"
        );
        assert_eq!(
            format(&t(), "Monday, January 2 06 3:4:5 pm"),
            "Sunday, March 5 23 2:7:9 pm"
        );
        assert_eq!(
            format(&t(), "2006-01-02T15:04:05.000Z07:00"),
            "2023-03-05T14:07:09.120Z"
        );
        assert_eq!(format(&t(), "15:04:05.999999 -0700"), "14:07:09.12 +0000");
        assert_eq!(format(&t(), "002"), "064");
    }
}
