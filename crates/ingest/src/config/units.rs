//! Durations and byte sizes written the way Prometheus writes them.

use serde::{de, Deserialize, Deserializer};
use sightline_core::bytesize;
use std::fmt;

/// Prometheus's `model.Duration`, shared with the other config readers.
pub use sightline_core::duration::Duration;

/// A byte count as Prometheus's `body_size_limit` takes it (`units.Base2Bytes`):
/// `10MB`, `512KiB`, `0` (no limit). Units are powers of 1024 whether or not
/// they have an `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses [`sightline_core::bytesize::parse_base2`]'s grammar; a
    /// negative size means no limit to Prometheus, as `0` does.
    pub fn parse(s: &str) -> Result<ByteSize, String> {
        match bytesize::parse_base2(s) {
            Ok(n) => Ok(ByteSize(n.max(0) as u64)),
            Err(e) => Err(e.message().to_owned()),
        }
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
    fn byte_sizes_are_base_two() {
        assert_eq!(ByteSize::parse("10MB"), Ok(ByteSize(10 << 20)));
        assert_eq!(ByteSize::parse("512KiB"), Ok(ByteSize(512 << 10)));
        assert_eq!(ByteSize::parse("0"), Ok(ByteSize(0)));
        assert_eq!(ByteSize::parse("100B"), Ok(ByteSize(100)));
        assert_eq!(ByteSize::parse("-1KB"), Ok(ByteSize(0)));
        assert!(ByteSize::parse("1XB").is_err());
        assert!(ByteSize::parse("MB").is_err());
    }
}
