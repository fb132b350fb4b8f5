//! The head's read side: series matching label matchers, label names and
//! values, and the label-sorted order blocks store series in, through the
//! head's postings index.

use super::index::{HeadIndex, Symbols};
use super::{Head, HeadSeriesData};
use crate::postings::{self, IndexLookup};
use sightline_core::{Labels, Matcher, Sample};
use std::borrow::Cow;

impl Head {
    /// Ids of the series matching `ms`.
    fn matching(&self, ms: &[Matcher]) -> Vec<u32> {
        let syms = self.symbols.read();
        let ix = self.index.read();
        postings::postings_for_matchers(
            &Lookup {
                syms: &syms,
                ix: &ix,
            },
            ms,
        )
    }

    /// Series matching `ms` with data in `[mint, maxt]`, sorted by labels.
    pub(crate) fn select(&self, mint: i64, maxt: i64, ms: &[Matcher]) -> Vec<HeadSeriesData> {
        let ids = self.matching(ms);
        let mut picked = Vec::new();
        for id in ids {
            let st = self.stripe(id).lock();
            let Some(s) = st.get(&id) else { continue };
            let (Some(lo), Some(hi)) = st.time_range(id, s) else {
                continue;
            };
            if hi < mint || lo > maxt {
                continue;
            }
            let mut hists = Vec::new();
            if s.hist {
                if let Some(h) = st.hist.get(&id) {
                    h.samples_in(mint, maxt, &mut hists);
                }
            }
            // Locks in the order appends take them: series, then chunk table.
            let chunks = s.chunks_in(mint, maxt, &self.chunk_files.reader());
            let ooo: Vec<Sample> = s
                .ooo
                .as_ref()
                .map(|o| {
                    o.iter()
                        .filter(|x| x.t >= mint && x.t <= maxt)
                        .copied()
                        .collect()
                })
                .unwrap_or_default();
            if chunks.is_empty() && ooo.is_empty() && hists.is_empty() {
                continue;
            }
            picked.push((s.labels.clone(), chunks, ooo, hists));
        }
        let syms = self.symbols.read();
        // Sorting interned label sets is cheaper than sorting the strings
        // afterwards: shared names and values compare by id.
        picked.sort_unstable_by(|a, b| syms.cmp_labels(&a.0, &b.0));
        picked
            .into_iter()
            .map(|(l, chunks, ooo, hists)| HeadSeriesData {
                labels: syms.labels(&l),
                chunks,
                ooo,
                hists,
            })
            .collect()
    }

    /// Label sets of matching series with data in range (no samples read).
    pub(crate) fn series_labels(&self, mint: i64, maxt: i64, ms: &[Matcher]) -> Vec<Labels> {
        let ids = self.matching(ms);
        let mut picked = Vec::new();
        for id in ids {
            let st = self.stripe(id).lock();
            let Some(s) = st.get(&id) else { continue };
            if let (Some(lo), Some(hi)) = st.time_range(id, s) {
                if hi >= mint && lo <= maxt {
                    picked.push(s.labels.clone());
                }
            }
        }
        let syms = self.symbols.read();
        picked.iter().map(|l| syms.labels(l)).collect()
    }

    /// Every series id, sorted by labels: the order blocks store series in.
    pub(crate) fn sorted_ids(&self) -> Vec<(u32, Box<[u32]>)> {
        let mut all = Vec::with_capacity(self.num_series() as usize);
        for stripe in self.series.iter() {
            for (id, s) in stripe.lock().iter() {
                all.push((id, s.labels.clone()));
            }
        }
        let syms = self.symbols.read();
        all.sort_by(|a, b| syms.cmp_labels(&a.1, &b.1));
        all
    }

    pub(crate) fn labels_from_syms(&self, syms: &[u32]) -> Labels {
        self.symbols.read().labels(syms)
    }

    /// Sorted label names of matching series.
    pub(crate) fn label_names(&self, ms: &[Matcher]) -> Vec<String> {
        if ms.is_empty() {
            let syms = self.symbols.read();
            let ix = self.index.read();
            let mut v: Vec<String> = ix
                .postings
                .keys()
                .map(|n| syms.str(*n).to_owned())
                .collect();
            v.sort();
            return v;
        }
        let mut names = std::collections::BTreeSet::new();
        for l in self.series_labels(i64::MIN, i64::MAX, ms) {
            names.extend(l.iter().map(|l| l.name.clone()));
        }
        names.into_iter().collect()
    }

    /// Sorted values of `name` among matching series.
    pub(crate) fn label_values(&self, name: &str, ms: &[Matcher]) -> Vec<String> {
        if ms.is_empty() {
            let syms = self.symbols.read();
            let ix = self.index.read();
            let mut v = Lookup {
                syms: &syms,
                ix: &ix,
            }
            .label_values(name);
            v.sort();
            return v;
        }
        let mut values = std::collections::BTreeSet::new();
        for l in self.series_labels(i64::MIN, i64::MAX, ms) {
            if let Some(v) = l.get(name) {
                values.insert(v.to_owned());
            }
        }
        values.into_iter().collect()
    }
}

struct Lookup<'a> {
    syms: &'a Symbols,
    ix: &'a HeadIndex,
}

impl IndexLookup for Lookup<'_> {
    fn all_postings(&self) -> Vec<u32> {
        self.ix.all.clone()
    }

    fn label_values(&self, name: &str) -> Vec<String> {
        let Some(n) = self.syms.get(name) else {
            return Vec::new();
        };
        self.ix
            .postings
            .get(&n)
            .map(|vals| vals.keys().map(|v| self.syms.str(*v).to_owned()).collect())
            .unwrap_or_default()
    }

    fn postings(&self, name: &str, values: &[&str]) -> Cow<'_, [u32]> {
        let Some(vals) = self.syms.get(name).and_then(|n| self.ix.postings.get(&n)) else {
            return Cow::Borrowed(&[]);
        };
        if let [v] = values {
            // One value (an `=` matcher): the list as the index holds it.
            return match self.syms.get(v).and_then(|v| vals.get(&v)) {
                Some(p) => Cow::Borrowed(p.as_slice()),
                None => Cow::Borrowed(&[]),
            };
        }
        let lists: Vec<Vec<u32>> = values
            .iter()
            .filter_map(|v| self.syms.get(v))
            .filter_map(|v| vals.get(&v))
            .map(|p| p.as_slice().to_vec())
            .collect();
        Cow::Owned(postings::union_all(lists))
    }
}
