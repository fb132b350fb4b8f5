//! Byte sizes written as Prometheus and blackbox_exporter write them.
//!
//! `--storage.tsdb.retention.size` and the `body_size_limit` of Prometheus's
//! scrape configs and of blackbox_exporter's modules are Go
//! `units.Base2Bytes`, read by `units.ParseBase2Bytes`
//! (github.com/alecthomas/units). Its grammar, which [`parse_base2`] follows:
//!
//! - a sequence of `<number><unit>` terms, summed (`1GB512MB`), after an
//!   optional sign; the number may have a fraction (`1.5GB`, `.5KB`), and
//!   the sum is truncated to whole bytes;
//! - units are powers of 1024 and case-sensitive: `B`, then either all
//!   `KiB MiB GiB TiB PiB EiB` or all `KB MB GB TB PB EB` (one spelling per
//!   text), never `K`, `kB` or `mb`;
//! - a number needs a unit, except a lone `0`; no spaces anywhere.
//!
//! Error texts are Go's (`units: unknown unit K in 1K`), since users
//! compare them with what Prometheus and blackbox_exporter print.

use crate::duration::split_go_sign;
use crate::{Error, Result};

/// `units.bytesUnitMap`: the IEC spellings, as powers of two.
const IEC_UNITS: [(&str, u32); 7] = [
    ("B", 0),
    ("KiB", 10),
    ("MiB", 20),
    ("GiB", 30),
    ("TiB", 40),
    ("PiB", 50),
    ("EiB", 60),
];

/// `units.oldBytesUnitMap`: the same multiples spelled without the `i`.
const OLD_UNITS: [(&str, u32); 7] = [
    ("B", 0),
    ("KB", 10),
    ("MB", 20),
    ("GB", 30),
    ("TB", 40),
    ("PB", 50),
    ("EB", 60),
];

/// Parses a size as Go's `units.ParseBase2Bytes` does and returns bytes,
/// which may be negative (`-1KB`): Prometheus and blackbox_exporter treat a
/// negative size as they treat `0`, "no limit", which is for the caller to
/// decide.
///
/// One deliberate difference: a sum of exactly 2^63 bytes (`8EB`) passes
/// Go's range check and wraps to a negative number there; here it is out of
/// range.
pub fn parse_base2(s: &str) -> Result<i64> {
    // As Go does: the IEC spellings first, then the old ones, whose error
    // is the one reported.
    parse_unit(s, &IEC_UNITS).or_else(|_| parse_unit(s, &OLD_UNITS))
}

/// Go's `units.ParseUnit` over one unit table.
fn parse_unit(s: &str, units: &[(&str, u32)]) -> Result<i64> {
    let invalid = || Error::bad_data(format!("units: invalid {s}"));
    let (neg, mut rest) = split_go_sign(s);
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let is_num = |c: u8| c == b'.' || c.is_ascii_digit();
    let mut total = 0f64;
    while !rest.is_empty() {
        if !is_num(rest.as_bytes()[0]) {
            return Err(invalid());
        }
        let (whole, n) = leading_int(rest).ok_or_else(invalid)?;
        let mut term = whole as f64;
        let pre = n > 0;
        rest = &rest[n..];
        let mut post = false;
        if let Some(r) = rest.strip_prefix('.') {
            let (frac, n) = leading_int(r).ok_or_else(invalid)?;
            // Go builds the scale by multiplying, not with a power function.
            let mut scale = 1f64;
            for _ in 0..n {
                scale *= 10.0;
            }
            term += frac as f64 / scale;
            post = n > 0;
            rest = &r[n..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = rest.bytes().take_while(|c| !is_num(*c)).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let shift = units
            .iter()
            .find(|(u, _)| *u == unit)
            .ok_or_else(|| Error::bad_data(format!("units: unknown unit {unit} in {s}")))?
            .1;
        total += term * (1u64 << shift) as f64;
    }
    if neg {
        total = -total;
    }
    // 2^63 is exact in an f64; i64 holds [-2^63, 2^63).
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&total) {
        return Err(Error::bad_data("units: overflow parsing unit"));
    }
    Ok(total as i64)
}

/// Go's `units.leadingInt`: the leading digits of `s` and how many there
/// were, or None once the value nears 2^63.
fn leading_int(s: &str) -> Option<(i64, usize)> {
    let mut x: i64 = 0;
    let mut n = 0;
    for c in s.bytes().take_while(u8::is_ascii_digit) {
        if x >= (i64::MAX - 9) / 10 {
            return None;
        }
        x = x * 10 + i64::from(c - b'0');
        n += 1;
    }
    Some((x, n))
}

#[cfg(test)]
mod tests;

/// A config byte size for `#[serde(deserialize_with = ...)]`: a string
/// as [`parse_base2`] reads it (`256KB`, `1GiB`) or a plain number of
/// bytes; negative numbers are 0. Shared by the stores' options.
pub fn deserialize_u64<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<u64, D::Error> {
    use serde::de;
    struct V;
    impl de::Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a byte size such as 256KB")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<u64, E> {
            Ok(v.max(0) as u64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<u64, E> {
            parse_base2(v)
                .map(|n| n.max(0) as u64)
                .map_err(|e| E::custom(e.message()))
        }
    }
    d.deserialize_any(V)
}
