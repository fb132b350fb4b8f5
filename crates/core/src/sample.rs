//! Samples, exemplars and the staleness marker.

use crate::Labels;

/// One float sample: a timestamp in milliseconds and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The value; may be [`STALE_NAN`].
    pub v: f64,
}

impl Sample {
    /// A sample at `t` with value `v`.
    pub fn new(t: i64, v: f64) -> Self {
        Sample { t, v }
    }
}

/// One sample of a metric family as an exposition writes it, before it is
/// a series: label pairs in the order written, empty values kept (the text
/// format prints `subjectalternative=""`, while a stored series drops an
/// empty label, so [`crate::Labels`] cannot hold it), no metric name, no
/// timestamp. Probe results are made of these.
///
/// The other sample types outside core are wire types and stay apart:
/// `sightline_proto::prometheus::Sample` and `sightline_proto::write_v2::Sample`
/// are remote-write protobuf messages, shaped for prost.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySample {
    /// Label pairs of the sample (without the family name).
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

/// The bit pattern Prometheus writes to mark a series stale. It is a NaN that
/// no arithmetic produces, so it survives storage and can be told apart from
/// a real NaN value by comparing bits.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as an `f64`.
pub const STALE_NAN: f64 = f64::from_bits(STALE_NAN_BITS);

/// True when `v` is the staleness marker (and not just any NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// An exemplar attached to a sample of a series (OpenMetrics `# {..} v t`).
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    /// The exemplar's own labels, e.g. `trace_id`.
    pub labels: Labels,
    /// The exemplar's value.
    pub value: f64,
    /// Milliseconds since the epoch, when the exposition gave one.
    pub timestamp: Option<i64>,
}

/// The most characters (Unicode scalar values) the names and values of an
/// exemplar's labels may hold together, as OpenMetrics sets it and
/// Prometheus enforces it (quotes, `=` and commas do not count).
pub const EXEMPLAR_MAX_LABEL_RUNES: usize = 128;

impl Exemplar {
    /// True when the labels exceed [`EXEMPLAR_MAX_LABEL_RUNES`].
    pub fn labels_too_long(&self) -> bool {
        let mut n = 0;
        for l in &self.labels {
            n += l.name.chars().count() + l.value.chars().count();
            if n > EXEMPLAR_MAX_LABEL_RUNES {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_nan_is_distinguished_from_plain_nan() {
        assert!(is_stale_nan(STALE_NAN));
        assert!(!is_stale_nan(f64::NAN));
        assert!(STALE_NAN.is_nan());
    }
}
