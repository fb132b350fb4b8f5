//! Durations and byte sizes written the way Prometheus writes them.

use serde::{de, Deserialize, Deserializer};
use std::fmt;

/// A duration in Prometheus syntax: `1h30m`, `15s`, `500ms`, `2w`, `1y`, `0`.
///
/// Units must appear from largest to smallest, each at most once, with
/// integer amounts, exactly as Prometheus's `model.ParseDuration` accepts.
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

    /// Parses Prometheus duration syntax.
    pub fn parse(s: &str) -> Result<Duration, String> {
        let invalid = || format!("not a valid duration string: {s:?}");
        if s == "0" {
            return Ok(Duration::default());
        }
        if s.is_empty() {
            return Err("empty duration string".to_owned());
        }
        let bytes = s.as_bytes();
        let mut pos = 0;
        let mut total: u64 = 0;
        // Index into UNITS of the next unit allowed; enforces largest-first order.
        let mut next_unit = 0;
        while pos < bytes.len() {
            let start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            if start == pos {
                return Err(invalid());
            }
            let amount: u64 = s[start..pos].parse().map_err(|_| invalid())?;
            let ustart = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_alphabetic() {
                pos += 1;
            }
            let unit = &s[ustart..pos];
            let idx = UNITS[next_unit..]
                .iter()
                .position(|(u, _)| *u == unit)
                .ok_or_else(invalid)?
                + next_unit;
            next_unit = idx + 1;
            total = amount
                .checked_mul(UNITS[idx].1)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| format!("duration out of range: {s:?}"))?;
        }
        Ok(Duration::from_millis(total))
    }
}

/// Prints like Prometheus: `1h30m`, `15s`, `500ms`, `0s`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in UNITS {
            // Prometheus only prints weeks and years when they divide evenly,
            // so 8d stays 8d rather than 1w1d.
            if (unit == "y" || unit == "w") && !ms.is_multiple_of(size) {
                continue;
            }
            if ms >= size {
                write!(f, "{}{}", ms / size, unit)?;
                ms %= size;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // YAML may give `0` as an integer.
        let text = StringOrInt::deserialize(d)?.0;
        Duration::parse(&text).map_err(de::Error::custom)
    }
}

impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A byte count as Prometheus's `body_size_limit` takes it: `10MB`, `512KiB`,
/// `0` (no limit). Units are powers of 1024 whether or not they have an `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `<int><unit>` with units B, KB/KiB, MB/MiB, GB/GiB, TB/TiB, PB/PiB, EB/EiB.
    pub fn parse(s: &str) -> Result<ByteSize, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("invalid byte size {s:?}"))?;
        let shift = match unit.to_ascii_uppercase().as_str() {
            "" | "B" => 0,
            "K" | "KB" | "KIB" => 10,
            "M" | "MB" | "MIB" => 20,
            "G" | "GB" | "GIB" => 30,
            "T" | "TB" | "TIB" => 40,
            "P" | "PB" | "PIB" => 50,
            "E" | "EB" | "EIB" => 60,
            _ => return Err(format!("invalid byte size {s:?}: unknown unit {unit:?}")),
        };
        n.checked_mul(1u64 << shift)
            .map(ByteSize)
            .ok_or_else(|| format!("byte size out of range: {s:?}"))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = StringOrInt::deserialize(d)?.0;
        ByteSize::parse(&text).map_err(de::Error::custom)
    }
}

/// A scalar read as text, whether YAML typed it as a string or a number.
struct StringOrInt(String);

impl<'de> Deserialize<'de> for StringOrInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = StringOrInt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StringOrInt, E> {
                Ok(StringOrInt(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StringOrInt, E> {
                Ok(StringOrInt(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StringOrInt, E> {
                Ok(StringOrInt(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_prometheus() {
        let ms = |s: &str| Duration::parse(s).map(|d| d.as_millis());
        assert_eq!(ms("15s"), Ok(15_000));
        assert_eq!(ms("1h30m"), Ok(5_400_000));
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("1m500ms"), Ok(60_500));
        assert_eq!(ms("0"), Ok(0));
        assert_eq!(ms("2w"), Ok(14 * 86_400_000));
        assert_eq!(ms("1y"), Ok(365 * 86_400_000));
        for bad in ["", "5x", "1.5s", "s", "30m1h", "1s1s", "-1s", "1 s", "10"] {
            assert!(ms(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn durations_print_like_prometheus() {
        for s in ["1m", "1h30m", "500ms", "15s", "2w", "8d", "1y", "1m500ms"] {
            assert_eq!(Duration::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Duration::default().to_string(), "0s");
        assert_eq!(Duration::from_secs(7200).to_string(), "2h");
    }

    #[test]
    fn byte_sizes_are_base_two() {
        assert_eq!(ByteSize::parse("10MB"), Ok(ByteSize(10 << 20)));
        assert_eq!(ByteSize::parse("512KiB"), Ok(ByteSize(512 << 10)));
        assert_eq!(ByteSize::parse("0"), Ok(ByteSize(0)));
        assert_eq!(ByteSize::parse("100B"), Ok(ByteSize(100)));
        assert!(ByteSize::parse("1XB").is_err());
        assert!(ByteSize::parse("MB").is_err());
    }
}
