//! Small value types of the modules file: Go durations, regexps, IP
//! protocol preference, credentials.

use serde::{de, Deserialize, Deserializer};
use sightline_core::duration;
use std::time::Duration;

/// Parses a duration as Go's `time.ParseDuration` does (`1.5s`, `500ms`,
/// `1m30s`, `2h`, `10us`), plus Prometheus's `d`, `w` and `y` units that
/// `probes:` intervals are commonly written with. Negative durations are
/// refused, and the error is Go's, as blackbox prints it.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    duration::parse_either(s.trim(), duration::Syntax::Go).map_err(|e| e.message().to_owned())
}

/// Deserializes an optional Go duration (`timeout: 5s`).
pub(crate) fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s = String::deserialize(d)?;
    parse_go_duration(&s).map(Some).map_err(de::Error::custom)
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

/// `basic_auth` of Prometheus's HTTP client config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    #[serde(default)]
    pub username: String,
    /// Password.
    #[serde(default)]
    pub password: Option<String>,
    /// A file holding the password, read at each probe.
    #[serde(default)]
    pub password_file: Option<String>,
}

/// `authorization` of Prometheus's HTTP client config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// The scheme, `Bearer` when empty.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The credentials.
    #[serde(default)]
    pub credentials: Option<String>,
    /// A file holding the credentials, read at each probe.
    #[serde(default)]
    pub credentials_file: Option<String>,
}

/// Parses `body_size_limit` as Go's `units.Base2Bytes` (`1KB` = 1024,
/// `10MiB`, `0` for no limit).
pub(crate) fn de_base2_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s = String::deserialize(d)?;
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 = t[..split]
        .parse()
        .map_err(|_| de::Error::custom(format!("invalid size {s:?}")))?;
    let mul: u64 = match t[split..].trim() {
        "" | "B" => 1,
        "KB" | "KiB" | "K" => 1 << 10,
        "MB" | "MiB" | "M" => 1 << 20,
        "GB" | "GiB" | "G" => 1 << 30,
        "TB" | "TiB" | "T" => 1 << 40,
        u => {
            return Err(de::Error::custom(format!(
                "unknown unit {u:?} in size {s:?}"
            )))
        }
    };
    Ok(n * mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_go_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(
            parse_go_duration("1.5s").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            parse_go_duration("250ms").unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(parse_go_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_go_duration("5").is_err());
        assert!(parse_go_duration("5x").is_err());
        assert!(parse_go_duration("-1s").is_err());
    }
}
