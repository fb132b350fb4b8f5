//! De-duplication by (`source`, `messageId`) within a window of receipt
//! times, as Segment drops a retried message it has seen in the last 24h.
//!
//! The index is not persisted: at open it is rebuilt from the WAL (the
//! head's events) and from the message ids of the blocks that hold events
//! received within the window, so a retry after a restart is dropped too.
//! A key is 64 bits of xxh3 over source and message id: two different
//! messages collide (and the second is dropped) with probability about
//! n²/2⁶⁵, one in 370,000 for ten million messages in a window.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The key of a (source, message id).
pub(crate) fn key(source: &str, message_id: &str) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(source.as_bytes());
    h.update(&[0]);
    h.update(message_id.as_bytes());
    h.digest()
}

/// Keys are already uniform hashes: the map uses them as they are.
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Keys seen, each with its receipt time in seconds (12 bytes of payload
/// an entry, so ten million keys cost about 200 MB).
#[derive(Default)]
pub(crate) struct Dedupe {
    seen: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
}

fn secs(ms: i64) -> u32 {
    ms.div_euclid(1000).clamp(0, u32::MAX as i64) as u32
}

impl Dedupe {
    /// Whether `key` was received within `window_ms` before `now_ms`.
    pub(crate) fn contains(&self, key: u64, now_ms: i64, window_ms: i64) -> bool {
        self.seen
            .get(&key)
            .is_some_and(|&s| i64::from(s) * 1000 + 999 >= now_ms - window_ms)
    }

    /// Records `key` as received at `received_ms` (keeping the later time).
    pub(crate) fn insert(&mut self, key: u64, received_ms: i64) {
        let s = secs(received_ms);
        let e = self.seen.entry(key).or_insert(s);
        *e = (*e).max(s);
    }

    /// Drops keys received before `cutoff_ms`.
    pub(crate) fn expire(&mut self, cutoff_ms: i64) {
        let c = secs(cutoff_ms);
        self.seen.retain(|_, s| *s >= c);
    }

    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_per_source_and_expire_with_the_window() {
        assert_ne!(key("web", "m1"), key("ios", "m1"));
        assert_ne!(key("a", "bc"), key("ab", "c"));
        let mut d = Dedupe::default();
        let k = key("web", "m1");
        d.insert(k, 10_000);
        assert!(d.contains(k, 10_500, 1000));
        // Seconds are kept: a receipt anywhere in second 10 counts until
        // 10.999 s + the window.
        assert!(d.contains(k, 11_999, 1000));
        assert!(!d.contains(k, 12_000, 1000));
        assert!(!d.contains(key("web", "m2"), 10_500, 1000));
        d.expire(10_000);
        assert_eq!(d.len(), 1);
        d.expire(11_000);
        assert_eq!(d.len(), 0);
    }
}
