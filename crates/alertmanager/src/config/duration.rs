//! Durations as Alertmanager's routes write them (Prometheus's
//! `model.Duration`): `30s`, `5m`, `1h30m`, `1d`, `2w`, `1y`, `0`.

use serde::{Deserialize, Deserializer};
use std::fmt;

/// A duration in Prometheus syntax. Units go from largest to smallest, each at
/// most once, with whole amounts: `1.5h` is refused as Alertmanager refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub std::time::Duration);

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

impl Duration {
    /// `secs` seconds.
    pub const fn from_secs(secs: u64) -> Duration {
        Duration(std::time::Duration::from_secs(secs))
    }

    /// The std duration.
    pub fn std(self) -> std::time::Duration {
        self.0
    }

    /// Parses Prometheus duration syntax.
    pub fn parse(s: &str) -> Result<Duration, String> {
        if s.is_empty() {
            return Err("empty duration string".to_owned());
        }
        if s == "0" {
            return Ok(Duration::default());
        }
        let invalid = || format!("not a valid duration string: {s:?}");
        let mut rest = s;
        let mut next_unit = 0;
        let mut total: u64 = 0;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(invalid());
            }
            let amount: u64 = rest[..digits].parse().map_err(|_| invalid())?;
            rest = &rest[digits..];
            let letters = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            let unit = &rest[..letters];
            rest = &rest[letters..];
            let idx = UNITS[next_unit..]
                .iter()
                .position(|(u, _)| *u == unit)
                .ok_or_else(invalid)?;
            total = amount
                .checked_mul(UNITS[next_unit + idx].1)
                .and_then(|ms| total.checked_add(ms))
                .ok_or_else(invalid)?;
            next_unit += idx + 1;
        }
        Ok(Duration(std::time::Duration::from_millis(total)))
    }
}

/// Printed as Prometheus prints durations (`1h30m`, `0s`).
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0.as_millis() as u64;
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in UNITS {
            if ms >= size {
                write!(f, "{}{unit}", ms / size)?;
                ms %= size;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Duration::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_syntax() {
        let ms = |s: &str| Duration::parse(s).map(|d| d.0.as_millis() as u64);
        assert_eq!(ms("0"), Ok(0));
        assert_eq!(ms("30s"), Ok(30_000));
        assert_eq!(ms("1h30m"), Ok(5_400_000));
        assert_eq!(ms("1d2h"), Ok(93_600_000));
        assert_eq!(ms("1w"), Ok(604_800_000));
        assert_eq!(ms("250ms"), Ok(250));
        for bad in ["", "1.5h", "30m1h", "5", "1hh", "1m1m", "-1s", "s"] {
            assert!(ms(bad).is_err(), "{bad}");
        }
        assert_eq!(Duration::from_secs(5400).to_string(), "1h30m");
        assert_eq!(Duration::default().to_string(), "0s");
    }
}
