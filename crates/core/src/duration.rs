//! Durations written as Prometheus and Go write them.
//!
//! Prometheus's configs, rule files and flags use `model.ParseDuration`
//! ([`parse_prometheus`], the [`Duration`] config type): whole amounts of
//! `y w d h m s ms`, largest first, each at most once, or a bare `0`.
//! Alertmanager's Pushover fields and blackbox_exporter's module timeouts
//! are Go `time.Duration`s ([`parse_go`]: `1.5s`, `100us`, `1h1m`, a sign),
//! and Sightline's own fields that sit among them take either form
//! ([`parse_either`]). Error texts are Prometheus 2.42's and Go's, since
//! users compare them with what promtool and amtool print.

use crate::{Error, Result};
use serde::{de, Deserialize, Deserializer};
use std::fmt;

const MS_PER_DAY: i64 = 86_400_000;

/// Prometheus's units, largest first, in milliseconds. Years and weeks only
/// print when they divide evenly (`8d`, not `1w1d`), as Prometheus prints them.
const PROMETHEUS_UNITS: [(&str, i64, bool); 7] = [
    ("y", 365 * MS_PER_DAY, true),
    ("w", 7 * MS_PER_DAY, true),
    ("d", MS_PER_DAY, false),
    ("h", 3_600_000, false),
    ("m", 60_000, false),
    ("s", 1000, false),
    ("ms", 1, false),
];

const NS_PER_MS: u64 = 1_000_000;

/// Parses a duration as Prometheus's `model.ParseDuration` does and returns
/// whole milliseconds.
///
/// Like Prometheus, the sum must fit a Go `time.Duration` (about 292 years of
/// nanoseconds), so `300y` is out of range.
pub fn parse_prometheus(s: &str) -> Result<i64> {
    match s {
        "0" => return Ok(0),
        "" => return Err(Error::bad_data("empty duration string")),
        _ => {}
    }
    let invalid = || Error::bad_data(format!("not a valid duration string: {s:?}"));
    let out_of_range = || Error::bad_data("duration out of range");
    let b = s.as_bytes();
    let mut i = 0;
    // Index into PROMETHEUS_UNITS of the smallest unit still allowed.
    let mut next_unit = 0;
    // Summed in nanoseconds, as Prometheus does, so its overflow bound holds.
    let mut total_ns: u64 = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(invalid());
        }
        // Only too many digits can fail here; Prometheus 2.42 reads them as
        // the largest integer, which is then out of range.
        let amount: u64 = s[start..i].parse().map_err(|_| out_of_range())?;
        let unit_start = i;
        while i < b.len() && !b[i].is_ascii_digit() {
            i += 1;
        }
        let unit = &s[unit_start..i];
        // Prometheus 2.42 matches a regexp, so an unknown, repeated or
        // misordered unit all give the same message.
        let k = PROMETHEUS_UNITS[next_unit..]
            .iter()
            .position(|(u, _, _)| *u == unit)
            .ok_or_else(invalid)?
            + next_unit;
        next_unit = k + 1;
        let mult_ns = PROMETHEUS_UNITS[k].1 as u64 * NS_PER_MS;
        if amount > (1u64 << 63) / mult_ns {
            return Err(out_of_range());
        }
        // Cannot wrap: both terms are at most 2^63.
        total_ns += amount * mult_ns;
        if total_ns > i64::MAX as u64 {
            return Err(out_of_range());
        }
    }
    Ok((total_ns / NS_PER_MS) as i64)
}

/// Prints milliseconds as Prometheus's `model.Duration.String()` does:
/// `1h30m`, `90d`, `2w`, `500ms`, `0s`, `-5m`.
pub fn format_prometheus(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut ms = ms.unsigned_abs();
    for (unit, mult, exact) in PROMETHEUS_UNITS {
        let mult = mult as u64;
        if exact && !ms.is_multiple_of(mult) {
            continue;
        }
        if ms >= mult {
            out.push_str(&format!("{}{unit}", ms / mult));
            ms %= mult;
        }
    }
    out
}

/// Go's units, in nanoseconds.
fn go_unit(u: &str) -> Option<u64> {
    Some(match u {
        "ns" => 1,
        // U+00B5 (micro sign) and U+03BC (Greek mu), as Go accepts both.
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Go's leading `[-+]?`, as `time.ParseDuration` and `units.ParseUnit`
/// consume it: whether it was `-`, and the rest.
pub(crate) fn split_go_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// Parses a duration as Go's `time.ParseDuration` does and returns
/// nanoseconds, which may be negative (`-1.5h`).
pub fn parse_go(s: &str) -> Result<i64> {
    let invalid = || Error::bad_data(format!("time: invalid duration {s:?}"));
    let (neg, mut rest) = split_go_sign(s);
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let is_num = |c: u8| c == b'.' || c.is_ascii_digit();
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let b = rest.as_bytes();
        if !is_num(b[0]) {
            return Err(invalid());
        }
        // The whole part; Go refuses one that overflows.
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut whole: u64 = 0;
        for &c in &b[..int_len] {
            whole = whole
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(c - b'0')))
                .filter(|v| *v <= 1 << 63)
                .ok_or_else(invalid)?;
        }
        let mut i = int_len;
        // The fraction; Go keeps the digits that fit and drops the rest.
        let (mut frac, mut scale, mut frac_len) = (0u64, 1f64, 0);
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let mut overflowed = false;
            while i < b.len() && b[i].is_ascii_digit() {
                if !overflowed {
                    match frac
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(b[i] - b'0')))
                        .filter(|v| *v <= 1 << 63)
                    {
                        Some(v) => {
                            frac = v;
                            scale *= 10.0;
                        }
                        None => overflowed = true,
                    }
                }
                i += 1;
                frac_len += 1;
            }
        }
        if int_len == 0 && frac_len == 0 {
            return Err(invalid());
        }
        let unit_len = b[i..].iter().take_while(|c| !is_num(**c)).count();
        if unit_len == 0 {
            return Err(Error::bad_data(format!(
                "time: missing unit in duration {s:?}"
            )));
        }
        let unit = &rest[i..i + unit_len];
        let mult = go_unit(unit).ok_or_else(|| {
            Error::bad_data(format!("time: unknown unit {unit:?} in duration {s:?}"))
        })?;
        if whole > (1 << 63) / mult {
            return Err(invalid());
        }
        let mut v = whole * mult;
        if frac > 0 {
            v += (frac as f64 * (mult as f64 / scale)) as u64;
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        total += v;
        if total > 1 << 63 {
            return Err(invalid());
        }
        rest = &rest[i + unit_len..];
    }
    if neg {
        // -2^63 is the one value only a negative duration reaches.
        return Ok((total as i64).wrapping_neg());
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// Prints milliseconds as Go's `time.Duration.String()` does: `5m0s`,
/// `1h0m0s`, `1.5s`, `250ms`.
pub fn format_go(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let neg = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    if ms < 1000 {
        return format!("{neg}{ms}ms");
    }
    let secs = ms / 1000;
    let frac = ms % 1000;
    let mut out = if frac == 0 {
        format!("{}s", secs % 60)
    } else {
        let f = format!("{frac:03}");
        format!("{}.{}s", secs % 60, f.trim_end_matches('0'))
    };
    let mins = secs / 60;
    if mins > 0 {
        out = format!("{}m{out}", mins % 60);
        let hours = mins / 60;
        if hours > 0 {
            out = format!("{hours}h{out}");
        }
    }
    format!("{neg}{out}")
}

/// Whose error a caller of [`parse_either`] reports when neither grammar
/// accepts the text: the one its users' peer would print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `not a valid duration string: "..."` (Prometheus, Alertmanager).
    Prometheus,
    /// `time: unknown unit "x" in duration "..."` (blackbox_exporter).
    Go,
}

/// Parses a non-negative duration in Prometheus's syntax (`1d`, `2w`) or
/// Go's (`1.5s`, `100us`), for fields whose peer reads one and whose
/// users write the other.
pub fn parse_either(s: &str, report: Syntax) -> Result<std::time::Duration> {
    let prometheus = match parse_prometheus(s) {
        Ok(ms) => return Ok(std::time::Duration::from_millis(ms as u64)),
        Err(e) => e,
    };
    let go = match parse_go(s) {
        Ok(ns) if ns >= 0 => return Ok(std::time::Duration::from_nanos(ns as u64)),
        Ok(_) => Error::bad_data(format!("time: invalid duration {s:?}")),
        Err(e) => e,
    };
    Err(match report {
        Syntax::Prometheus => prometheus,
        Syntax::Go => go,
    })
}

/// A config field holding a Prometheus `model.Duration`: parsed with
/// [`parse_prometheus`], printed with [`format_prometheus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub std::time::Duration);

impl Duration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Duration(std::time::Duration::from_secs(secs))
    }

    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Duration(std::time::Duration::from_millis(ms))
    }

    /// The std duration.
    pub fn std(self) -> std::time::Duration {
        self.0
    }

    /// Whole milliseconds.
    pub fn as_millis(self) -> u64 {
        self.0.as_millis() as u64
    }

    /// True for the zero duration (Prometheus's "unset").
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Parses Prometheus duration syntax; the error is Prometheus's text.
    pub fn parse(s: &str) -> Result<Duration, String> {
        parse_prometheus(s)
            .map(|ms| Duration::from_millis(ms as u64))
            .map_err(|e| e.message().to_owned())
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_prometheus(self.as_millis() as i64))
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // YAML may type a bare `0` as an integer.
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests;
