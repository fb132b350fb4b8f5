//! Sets of people. Person keys are already xxh3 hashes ([`crate::model::person_key`]),
//! so the maps here use them as their own hash instead of hashing again:
//! that lookup is most of the cost of counting unique people.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for keys that are already well-mixed 64-bit hashes.
#[derive(Default, Clone, Copy)]
pub struct PersonKeyHasher(u64);

impl Hasher for PersonKeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for keys other than u64 (tuples hash their parts
        // through write_u64/write_u32); fold them in, FNV-style.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = self.0.rotate_left(5) ^ n;
    }

    fn write_u32(&mut self, n: u32) {
        // Small integers (series, bucket indices) beside a person key:
        // spread them so they do not only touch the low bits.
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u32(n as u32);
        self.write_u32((n as u64 >> 32) as u32);
    }
}

/// The hasher builder of [`PersonSet`] and [`PersonMap`].
pub type PersonHash = BuildHasherDefault<PersonKeyHasher>;
/// A set of person keys.
pub type PersonSet = HashSet<u64, PersonHash>;
/// A map keyed by person key.
pub type PersonMap<V> = HashMap<u64, V, PersonHash>;

/// Gives each person key a slot in an open-addressing table of keys
/// alone, and the slot is the person's number in bitsets and arrays. Half
/// the memory of a map from key to number, so one cache miss per lookup
/// instead of two: this lookup, once per person per batch, is most of the
/// time DAU takes. Growing moves people to new slots; the caller remaps
/// what it keeps by slot.
pub(crate) struct PersonSlots {
    /// 0 is an empty slot (0 is nobody, never stored).
    keys: Vec<u64>,
    len: usize,
}

impl Default for PersonSlots {
    fn default() -> Self {
        PersonSlots {
            keys: vec![0; 1 << 16],
            len: 0,
        }
    }
}

impl PersonSlots {
    /// The slot of `key` (not 0), inserting it; when the table had to grow
    /// first, also the old slot -> new slot map.
    pub(crate) fn insert(&mut self, key: u64) -> (usize, Option<Vec<u32>>) {
        debug_assert_ne!(key, 0);
        let mut remap = None;
        if (self.len + 1) * 2 > self.keys.len() {
            remap = Some(self.grow());
        }
        let mask = self.keys.len() - 1;
        // Keys are xxh3 hashes: their low bits are as good as any hash.
        let mut i = key as usize & mask;
        loop {
            let k = self.keys[i];
            if k == key {
                return (i, remap);
            }
            if k == 0 {
                self.keys[i] = key;
                self.len += 1;
                return (i, remap);
            }
            i = (i + 1) & mask;
        }
    }

    /// Makes room for `more` new people, so that inserting them does not
    /// grow the table; the old slot -> new slot map when it grew.
    pub(crate) fn reserve(&mut self, more: usize) -> Option<Vec<u32>> {
        let mut remap: Option<Vec<u32>> = None;
        while (self.len + more) * 2 > self.keys.len() {
            let step = self.grow();
            remap = Some(match remap {
                None => step,
                Some(prev) => prev
                    .iter()
                    .map(|&s| if s == u32::MAX { s } else { step[s as usize] })
                    .collect(),
            });
        }
        remap
    }

    /// Inserts `keys` (none 0; room [`Self::reserve`]d), calling `f` with
    /// each one's slot. Each group's home slots are read ahead of the
    /// inserts: those reads do not depend on each other, so their cache
    /// misses overlap instead of coming one after another.
    pub(crate) fn insert_reserved(&mut self, keys: &[u64], mut f: impl FnMut(usize)) {
        let mask = self.keys.len() - 1;
        for group in keys.chunks(32) {
            let mut touched = 0u64;
            for &k in group {
                touched ^= self.keys[k as usize & mask];
            }
            std::hint::black_box(touched);
            for &k in group {
                let (slot, grew) = self.insert(k);
                debug_assert!(grew.is_none(), "room was reserved");
                f(slot);
            }
        }
    }

    fn grow(&mut self) -> Vec<u32> {
        let doubled = vec![0; self.keys.len() * 2];
        let old = std::mem::replace(&mut self.keys, doubled);
        let mask = self.keys.len() - 1;
        let mut remap = vec![u32::MAX; old.len()];
        for (slot, &key) in old.iter().enumerate() {
            if key == 0 {
                continue;
            }
            let mut i = key as usize & mask;
            while self.keys[i] != 0 {
                i = (i + 1) & mask;
            }
            self.keys[i] = key;
            remap[slot] = i as u32;
        }
        remap
    }

    /// The number of slots: every slot number is below it.
    pub(crate) fn capacity(&self) -> usize {
        self.keys.len()
    }
}

/// A growable bitset.
#[derive(Default, Clone)]
pub(crate) struct Bitset {
    words: Vec<u64>,
}

impl Bitset {
    /// Room for `n` bits, all clear.
    pub(crate) fn with_len(n: usize) -> Self {
        Bitset {
            words: vec![0; n.div_ceil(64)],
        }
    }

    /// Sets bit `i`, growing as needed.
    pub(crate) fn set(&mut self, i: usize) {
        let w = i / 64;
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (i % 64);
    }

    /// Number of set bits.
    pub(crate) fn count(&self) -> u64 {
        self.words.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// Calls `f` with each set bit, ascending.
    pub(crate) fn for_each(&self, mut f: impl FnMut(usize)) {
        for (wi, &w) in self.words.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                let b = w.trailing_zeros() as usize;
                f(wi * 64 + b);
                w &= w - 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_survive_growth_and_bitsets() {
        let mut slots = PersonSlots::default();
        let mut where_is: Vec<(u64, usize)> = Vec::new();
        // Person keys (hashes), a few colliding in the low bits, and
        // enough to grow twice.
        for k in 1..=100_000u64 {
            let key = if k % 1000 == 0 {
                k << 32
            } else {
                crate::model::person_key(&k.to_string())
            };
            let (s, remap) = slots.insert(key);
            if let Some(remap) = remap {
                for w in &mut where_is {
                    w.1 = remap[w.1] as usize;
                }
            }
            where_is.push((key, s));
        }
        assert!(slots.capacity() >= 200_000);
        // Reserving and inserting a group keeps the same slots.
        if let Some(remap) = slots.reserve(300_000) {
            for w in &mut where_is {
                w.1 = remap[w.1] as usize;
            }
        }
        assert!(slots.capacity() >= 800_000);
        let keys: Vec<u64> = where_is.iter().map(|w| w.0).take(1000).collect();
        let mut got = Vec::new();
        slots.insert_reserved(&keys, |s| got.push(s));
        let want: Vec<usize> = where_is.iter().map(|w| w.1).take(1000).collect();
        assert_eq!(got, want);
        for &(key, s) in &where_is {
            assert_eq!(slots.insert(key), (s, None));
        }
        let mut b = Bitset::with_len(10);
        for i in [3, 64, 200, 3] {
            b.set(i);
        }
        assert_eq!(b.count(), 3);
        let mut seen = vec![];
        b.for_each(|i| seen.push(i));
        assert_eq!(seen, vec![3, 64, 200]);
        let s: PersonSet = [1u64, 2, 2, u64::MAX].into_iter().collect();
        assert_eq!(s.len(), 3);
    }
}
