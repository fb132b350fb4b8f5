//! Series references by point identity, so that a series seen before is
//! appended by its store handle without building or hashing its labels
//! (the OTLP counterpart of the scrape loop's cache).
//!
//! The key is a 128-bit xxh3 hash of everything that decides a series'
//! labels: the resource's attributes, the scope labels, the metric's name,
//! unit and kind, the point's attributes in the order sent, and for
//! histogram and summary parts the suffix and the `le`/`quantile` value.
//! Two different identities sharing a key is a 2^-128 event. A handle the
//! store no longer knows (the series left the head) is answered NotFound
//! by the store, and the series is appended by labels again. The cache is
//! cleared when the configuration changes (it changes the mapping) and
//! when it grows past [`MAX_ENTRIES`].

use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use sightline_core::SeriesRef;
use xxhash_rust::xxh3::Xxh3;

/// Entries kept before the cache starts over.
pub const MAX_ENTRIES: usize = 4_000_000;

/// Point identity to store handle.
#[derive(Default)]
pub struct RefCache {
    map: foldhash::HashMap<u128, SeriesRef>,
}

impl RefCache {
    /// The handle of `key`.
    pub fn get(&self, key: u128) -> Option<SeriesRef> {
        self.map.get(&key).copied()
    }

    /// Remembers a handle.
    pub fn insert(&mut self, key: u128, r: SeriesRef) {
        if self.map.len() >= MAX_ENTRIES {
            self.map.clear();
        }
        self.map.insert(key, r);
    }

    /// Forgets a handle.
    pub fn remove(&mut self, key: u128) {
        self.map.remove(&key);
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Feeds attributes into a key; false when one cannot be keyed cheaply
/// (arrays, maps, bytes: those points take the slow path every time).
pub fn hash_attrs(h: &mut Xxh3, attrs: &[KeyValue]) -> bool {
    for kv in attrs {
        h.update(kv.key.as_bytes());
        match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
            None => h.update(&[0]),
            Some(any_value::Value::StringValue(s)) => {
                h.update(&[1]);
                h.update(s.as_bytes());
            }
            Some(any_value::Value::IntValue(i)) => {
                h.update(&[2]);
                h.update(&i.to_le_bytes());
            }
            Some(any_value::Value::BoolValue(b)) => h.update(&[3, *b as u8]),
            Some(any_value::Value::DoubleValue(d)) => {
                h.update(&[4]);
                h.update(&d.to_bits().to_le_bytes());
            }
            Some(_) => return false,
        }
        h.update(&[0xff]);
    }
    true
}

/// A key from a parent key and some bytes.
pub fn derive(parent: u128, parts: &[&[u8]]) -> u128 {
    let mut h = Xxh3::new();
    h.update(&parent.to_le_bytes());
    for p in parts {
        h.update(p);
        h.update(&[0xfe]);
    }
    h.digest128()
}

/// The key of a point: its metric's key and its attributes.
pub fn point_key(metric: u128, attrs: &[KeyValue]) -> Option<u128> {
    let mut h = Xxh3::new();
    h.update(&metric.to_le_bytes());
    hash_attrs(&mut h, attrs).then(|| h.digest128())
}

/// Folds a key to 64 bits (the delta state's stream key).
pub fn fold(k: u128) -> u64 {
    (k as u64) ^ ((k >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::AnyValue;

    fn s(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
        }
    }

    #[test]
    fn keys_tell_attributes_apart() {
        let a = point_key(1, &[s("a", "bc")]).unwrap();
        assert_eq!(a, point_key(1, &[s("a", "bc")]).unwrap());
        assert_ne!(a, point_key(1, &[s("ab", "c")]).unwrap());
        assert_ne!(a, point_key(2, &[s("a", "bc")]).unwrap());
        assert_ne!(derive(a, &[b"_sum"]), derive(a, &[b"_count"]));
        let bytes = KeyValue {
            key: "b".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::BytesValue(vec![1])),
            }),
        };
        assert_eq!(point_key(1, &[bytes]), None);
        let mut c = RefCache::default();
        c.insert(a, 7);
        assert_eq!(c.get(a), Some(7));
        c.remove(a);
        assert!(c.is_empty());
    }
}
