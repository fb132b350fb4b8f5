//! The head's symbol table and inverted index.
//!
//! Label strings are interned once ([`Symbols`]) so a series costs a few
//! `u32`s per label instead of two heap strings; the inverted index maps
//! `(name, value)` symbol pairs to sorted series ids.

use foldhash::{HashMap, HashMapExt};
use sightline_core::{Label, Labels};
use std::sync::Arc;

/// Interned label strings. Symbols are never reused for another string while
/// the process lives; a restart (WAL replay) rebuilds the table from scratch,
/// which is what drops strings of series that are gone.
#[derive(Default)]
pub(crate) struct Symbols {
    map: HashMap<Arc<str>, u32>,
    strs: Vec<Arc<str>>,
}

impl Symbols {
    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }

    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.map.get(s) {
            return id;
        }
        let id = self.strs.len() as u32;
        let a: Arc<str> = Arc::from(s);
        self.strs.push(a.clone());
        self.map.insert(a, id);
        id
    }

    pub(crate) fn str(&self, id: u32) -> &str {
        &self.strs[id as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.strs.len()
    }

    /// Rebuilds a label set from `[name, value, name, value, ...]` symbols.
    pub(crate) fn labels(&self, syms: &[u32]) -> Labels {
        let v = syms
            .chunks_exact(2)
            .map(|p| Label::new(self.str(p[0]), self.str(p[1])))
            .collect();
        Labels::from_sorted(v)
    }

    /// Compares two interned label sets as `Labels` would compare.
    pub(crate) fn cmp_labels(&self, a: &[u32], b: &[u32]) -> std::cmp::Ordering {
        // A symbol id stands for one string, so equal ids compare equal
        // without reading the strings: series selected together mostly
        // share their names and many values.
        let cmp = |x: u32, y: u32| {
            if x == y {
                std::cmp::Ordering::Equal
            } else {
                self.str(x).cmp(self.str(y))
            }
        };
        for (x, y) in a.chunks_exact(2).zip(b.chunks_exact(2)) {
            let o = cmp(x[0], y[0]).then_with(|| cmp(x[1], y[1]));
            if o.is_ne() {
                return o;
            }
        }
        a.len().cmp(&b.len())
    }

    /// True when the interned set spells exactly `labels`.
    pub(crate) fn equal(&self, syms: &[u32], labels: &Labels) -> bool {
        syms.len() == labels.len() * 2
            && syms
                .chunks_exact(2)
                .zip(labels.iter())
                .all(|(p, l)| self.str(p[0]) == l.name && self.str(p[1]) == l.value)
    }
}

/// A postings list that does not allocate while it holds one id, which is
/// the common case for labels like `instance` or `id`.
pub(crate) enum Postings {
    One(u32),
    Many(Vec<u32>),
}

impl Postings {
    fn insert(&mut self, id: u32) {
        match self {
            Postings::One(x) if *x == id => {}
            Postings::One(x) => {
                let mut v = vec![*x, id];
                v.sort_unstable();
                *self = Postings::Many(v);
            }
            Postings::Many(v) => {
                // Ids mostly arrive in increasing order: search from the end.
                let mut i = v.len();
                while i > 0 && v[i - 1] > id {
                    i -= 1;
                }
                if i == 0 || v[i - 1] != id {
                    v.insert(i, id);
                }
            }
        }
    }

    /// Removes ids for which `gone` is true; returns true when empty after.
    fn remove_where(&mut self, gone: &impl Fn(u32) -> bool) -> bool {
        match self {
            Postings::One(x) => gone(*x),
            Postings::Many(v) => {
                v.retain(|x| !gone(*x));
                if v.len() == 1 {
                    *self = Postings::One(v[0]);
                }
                matches!(self, Postings::Many(v) if v.is_empty())
            }
        }
    }

    pub(crate) fn as_slice(&self) -> &[u32] {
        match self {
            Postings::One(x) => std::slice::from_ref(x),
            Postings::Many(v) => v,
        }
    }
}

/// `name -> value -> series ids`, plus the list of every id.
#[derive(Default)]
pub(crate) struct HeadIndex {
    pub(crate) postings: HashMap<u32, HashMap<u32, Postings>>,
    pub(crate) all: Vec<u32>,
}

impl HeadIndex {
    pub(crate) fn add(&mut self, id: u32, syms: &[u32]) {
        for p in syms.chunks_exact(2) {
            let values = self
                .postings
                .entry(p[0])
                .or_insert_with(|| HashMap::with_capacity(1));
            match values.get_mut(&p[1]) {
                Some(list) => list.insert(id),
                None => {
                    values.insert(p[1], Postings::One(id));
                }
            }
        }
        let mut i = self.all.len();
        while i > 0 && self.all[i - 1] > id {
            i -= 1;
        }
        self.all.insert(i, id);
    }

    /// Drops every id for which `gone` holds.
    pub(crate) fn remove_where(&mut self, gone: impl Fn(u32) -> bool) {
        self.all.retain(|x| !gone(*x));
        self.postings.retain(|_, values| {
            values.retain(|_, list| !list.remove_where(&gone));
            !values.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postings_stay_sorted_and_shrink() {
        let mut ix = HeadIndex::default();
        ix.add(5, &[0, 1]);
        ix.add(3, &[0, 1]);
        ix.add(9, &[0, 2]);
        assert_eq!(ix.postings[&0][&1].as_slice(), &[3, 5]);
        assert_eq!(ix.all, vec![3, 5, 9]);
        ix.remove_where(|id| id == 3 || id == 9);
        assert_eq!(ix.postings[&0][&1].as_slice(), &[5]);
        assert!(!ix.postings[&0].contains_key(&2));
        assert_eq!(ix.all, vec![5]);
    }

    #[test]
    fn symbols_compare_like_labels() {
        let mut s = Symbols::default();
        let a = Labels::from_pairs([("a", "1"), ("b", "2")]);
        let b = Labels::from_pairs([("a", "1"), ("b", "10")]);
        let sa: Vec<u32> = a
            .iter()
            .flat_map(|l| [s.intern(&l.name), s.intern(&l.value)])
            .collect();
        let sb: Vec<u32> = b
            .iter()
            .flat_map(|l| [s.intern(&l.name), s.intern(&l.value)])
            .collect();
        assert_eq!(s.cmp_labels(&sa, &sb), a.cmp(&b));
        assert!(s.equal(&sa, &a));
        assert!(!s.equal(&sa, &b));
        assert_eq!(s.labels(&sb), b);
    }
}
