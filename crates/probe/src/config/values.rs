//! Small value types of the modules file: Go durations, regexps, IP
//! protocol preference, byte sizes.

use serde::{de, Deserialize, Deserializer};
use sightline_core::{bytesize, duration};
use std::time::Duration;

/// Deserializes an optional module duration (`timeout: 5s`): Go's syntax,
/// plus Prometheus's `d`, `w` and `y` units; negative durations are
/// refused, and the error is Go's, as blackbox prints it.
pub(crate) fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s = String::deserialize(d)?;
    duration::parse_either(&s, duration::Syntax::Go)
        .map(Some)
        .map_err(de::Error::custom)
}

/// A Go-syntax regular expression, unanchored as blackbox matches bodies and
/// headers. Keeps its source text for the debug output.
#[derive(Debug, Clone)]
pub struct Regexp {
    /// The expression as written.
    pub source: String,
    /// The compiled expression.
    pub re: regex::Regex,
}

impl Regexp {
    /// Compiles `source`.
    pub fn new(source: &str) -> Result<Self, regex::Error> {
        Ok(Regexp {
            source: source.to_string(),
            re: regex::Regex::new(source)?,
        })
    }
}

impl<'de> Deserialize<'de> for Regexp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Regexp::new(&s).map_err(|e| de::Error::custom(format!("invalid regexp {s:?}: {e}")))
    }
}

/// `preferred_ip_protocol`: which address family to try first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IpProtocol {
    /// `ip4`.
    Ip4,
    /// `ip6`, blackbox's default.
    #[default]
    Ip6,
}

impl<'de> Deserialize<'de> for IpProtocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // blackbox treats anything but "ip4" as ip6 (with a warning for
        // unknown words), so we accept what it accepts.
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "ip4" | "ipv4" => IpProtocol::Ip4,
            _ => IpProtocol::Ip6,
        })
    }
}

/// Reads `body_size_limit` as Go's `units.Base2Bytes` (`1KB` = 1024,
/// `10MiB`, `0` for no limit); blackbox reads a negative size as no limit too.
pub(crate) fn de_base2_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s = String::deserialize(d)?;
    let bytes = bytesize::parse_base2(&s).map_err(de::Error::custom)?;
    Ok(bytes.max(0) as u64)
}
