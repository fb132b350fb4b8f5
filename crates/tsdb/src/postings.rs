//! Turning label matchers into sorted series ids, for the head and blocks
//! alike.
//!
//! As in Prometheus, a matcher that matches the empty string also selects
//! series without the label, so it cannot be answered by a union of
//! postings lists; it is answered by subtracting the series whose value
//! does *not* match from the rest instead.

use sightline_core::{MatchOp, Matcher};
use std::borrow::Cow;

/// What an index offers to the matcher planner.
pub(crate) trait IndexLookup {
    /// Every series id, sorted.
    fn all_postings(&self) -> Vec<u32>;
    /// Every value stored for `name`.
    fn label_values(&self, name: &str) -> Vec<String>;
    /// The sorted union of the postings of `name=v` for each `v` in `values`;
    /// borrowed where the index holds that list as it is.
    fn postings(&self, name: &str, values: &[&str]) -> Cow<'_, [u32]>;
}

/// Ids of the series matching every matcher, sorted.
pub(crate) fn postings_for_matchers(ix: &impl IndexLookup, ms: &[Matcher]) -> Vec<u32> {
    let mut lists: Vec<Cow<'_, [u32]>> = Vec::with_capacity(ms.len());
    let mut minus: Vec<u32> = Vec::new();
    for m in ms {
        if m.matches_empty() {
            let bad: Vec<String> = ix
                .label_values(&m.name)
                .into_iter()
                .filter(|v| !m.matches(v))
                .collect();
            if !bad.is_empty() {
                let refs: Vec<&str> = bad.iter().map(String::as_str).collect();
                minus = union(&minus, &ix.postings(&m.name, &refs));
            }
            continue;
        }
        let values: Vec<String> = match (m.op, m.set_matches()) {
            (MatchOp::Equal, _) => vec![m.value.clone()],
            (MatchOp::Regex, Some(set)) => set,
            _ => ix
                .label_values(&m.name)
                .into_iter()
                .filter(|v| m.matches(v))
                .collect(),
        };
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let p = ix.postings(&m.name, &refs);
        if p.is_empty() {
            return Vec::new();
        }
        lists.push(p);
    }
    // Shortest list first: `route="..."` narrows `__name__="..."` at the
    // cost of the short list, and nothing long is copied.
    lists.sort_by_key(|l| l.len());
    let mut lists = lists.into_iter();
    let base = match lists.next() {
        None => ix.all_postings(),
        Some(first) => {
            let mut r = first.into_owned();
            for l in lists {
                r = intersect(&r, &l);
                if r.is_empty() {
                    return r;
                }
            }
            r
        }
    };
    if minus.is_empty() {
        base
    } else {
        subtract(&base, &minus)
    }
}

pub(crate) fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

pub(crate) fn union(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Unions many sorted lists.
pub(crate) fn union_all(mut lists: Vec<Vec<u32>>) -> Vec<u32> {
    if lists.len() <= 1 {
        return lists.pop().unwrap_or_default();
    }
    let mut all: Vec<u32> = lists.into_iter().flatten().collect();
    all.sort_unstable();
    all.dedup();
    all
}

pub(crate) fn subtract(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j < b.len() && b[j] == x {
            continue;
        }
        out.push(x);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::Labels;

    struct Fake(Vec<Labels>);

    impl IndexLookup for Fake {
        fn all_postings(&self) -> Vec<u32> {
            (0..self.0.len() as u32).collect()
        }
        fn label_values(&self, name: &str) -> Vec<String> {
            let mut v: Vec<String> = self
                .0
                .iter()
                .filter_map(|l| l.get(name).map(String::from))
                .collect();
            v.sort();
            v.dedup();
            v
        }
        fn postings(&self, name: &str, values: &[&str]) -> Cow<'_, [u32]> {
            Cow::Owned(
                (0..self.0.len() as u32)
                    .filter(|i| {
                        self.0[*i as usize]
                            .get(name)
                            .is_some_and(|v| values.contains(&v))
                    })
                    .collect(),
            )
        }
    }

    #[test]
    fn matchers_agree_with_brute_force() {
        let mut series = Vec::new();
        for i in 0..30 {
            let mut pairs = vec![("__name__", if i % 2 == 0 { "a" } else { "b" }.to_string())];
            if i % 3 != 0 {
                pairs.push(("job", format!("j{}", i % 4)));
            }
            series.push(Labels::from_pairs(pairs));
        }
        let ix = Fake(series.clone());
        let cases = vec![
            vec![Matcher::equal("__name__", "a")],
            vec![Matcher::equal("job", "")],
            vec![Matcher::new(MatchOp::NotEqual, "job", "j1").unwrap()],
            vec![Matcher::new(MatchOp::Regex, "job", "j1|j2").unwrap()],
            vec![
                Matcher::new(MatchOp::Regex, "job", "j[13]?").unwrap(),
                Matcher::equal("__name__", "b"),
            ],
            vec![Matcher::new(MatchOp::NotRegex, "job", ".+").unwrap()],
            vec![Matcher::new(MatchOp::NotEqual, "job", "").unwrap()],
            vec![Matcher::equal("nope", "x")],
            vec![],
        ];
        for ms in cases {
            let want: Vec<u32> = (0..series.len() as u32)
                .filter(|i| sightline_core::matches_all(&ms, &series[*i as usize]))
                .collect();
            assert_eq!(postings_for_matchers(&ix, &ms), want, "{ms:?}");
        }
    }

    #[test]
    fn set_ops() {
        assert_eq!(intersect(&[1, 3, 5], &[3, 4, 5]), vec![3, 5]);
        assert_eq!(union(&[1, 3], &[2, 3]), vec![1, 2, 3]);
        assert_eq!(subtract(&[1, 2, 3], &[2]), vec![1, 3]);
        assert_eq!(union_all(vec![vec![3], vec![1, 3]]), vec![1, 3]);
    }
}
