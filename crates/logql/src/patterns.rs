//! Log patterns for `/loki/api/v1/patterns` (Grafana's Logs Drilldown):
//! lines reduced to templates whose variable words are `<_>`, in the
//! spirit of the Drain algorithm Loki uses: words with digits (numbers,
//! ids, times, addresses) are variable outright; then templates of the same
//! length that differ in few positions merge, the differing words becoming
//! `<_>`. The result is a LogQL pattern (`|> "..."` matches its lines).

use std::collections::BTreeMap;

/// One pattern and its line counts per step.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub pattern: String,
    /// (step start, nanoseconds; lines)
    pub samples: Vec<(i64, u64)>,
    pub total: u64,
}

const VAR: &str = "<_>";

fn variable(word: &str) -> bool {
    word.bytes().any(|b| b.is_ascii_digit()) || word.len() > 40
}

fn template(line: &str) -> Vec<String> {
    line.split_whitespace()
        .map(|w| {
            if variable(w) {
                VAR.to_owned()
            } else {
                w.to_owned()
            }
        })
        .collect()
}

/// Whether two templates of equal length are close enough to merge: at
/// most a third of their words differ, and never the first word.
fn close(a: &[String], b: &[String]) -> bool {
    if a.len() != b.len() || a.is_empty() || a[0] != b[0] {
        return false;
    }
    let diff = a.iter().zip(b).filter(|(x, y)| x != y).count();
    diff * 3 <= a.len()
}

/// Groups `lines` (time in nanoseconds, text) into at most `limit`
/// patterns, most frequent first, with counts per `step_ns` bucket from
/// `start_ns`.
pub fn detect(lines: &[(i64, &str)], start_ns: i64, step_ns: i64, limit: usize) -> Vec<Pattern> {
    let step = step_ns.max(1);
    let mut clusters: Vec<(Vec<String>, BTreeMap<i64, u64>, u64)> = Vec::new();
    // Index by (length, first word) so a line is compared with few clusters.
    let mut index: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
    for &(ts, line) in lines {
        let t = template(line);
        if t.is_empty() {
            continue;
        }
        let key = (t.len(), t[0].clone());
        let bucket = start_ns + (ts - start_ns).div_euclid(step) * step;
        let found = index
            .get(&key)
            .and_then(|ids| ids.iter().copied().find(|&i| close(&clusters[i].0, &t)));
        match found {
            Some(i) => {
                let c = &mut clusters[i];
                for (w, x) in c.0.iter_mut().zip(&t) {
                    if w != x {
                        *w = VAR.to_owned();
                    }
                }
                *c.1.entry(bucket).or_default() += 1;
                c.2 += 1;
            }
            None => {
                index.entry(key).or_default().push(clusters.len());
                clusters.push((t, BTreeMap::from([(bucket, 1)]), 1));
            }
        }
    }
    clusters.sort_by_key(|c| std::cmp::Reverse(c.2));
    clusters
        .into_iter()
        .take(limit)
        .map(|(words, samples, total)| Pattern {
            pattern: collapse(&words),
            samples: samples.into_iter().collect(),
            total,
        })
        .collect()
}

/// Joins words, runs of `<_>` becoming one (a pattern's `<_>` spans
/// spaces too).
fn collapse(words: &[String]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for w in words {
        if w == VAR && out.last() == Some(&VAR) {
            continue;
        }
        out.push(w);
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_lines_share_a_pattern() {
        let lines = [
            (0, "GET /api/users 200 12ms"),
            (1, "GET /api/users 500 340ms"),
            (2, "GET /api/orders 200 8ms"),
            (3, "connection reset by peer"),
            (10, "GET /api/items 404 3ms"),
        ];
        let p = detect(&lines, 0, 10, 10);
        assert_eq!(p[0].pattern, "GET <_>");
        assert_eq!(p[0].total, 4);
        assert_eq!(p[0].samples, vec![(0, 3), (10, 1)]);
        assert_eq!(p[1].pattern, "connection reset by peer");
        // Every line of a pattern matches it as a `|>` filter would.
        let m = crate::exec::LineMatcher::new(&crate::ast::LineFilter {
            op: crate::ast::LineOp::Pattern,
            values: vec![crate::ast::FilterValue::Text(p[0].pattern.clone())],
            at: 0,
        })
        .unwrap();
        assert!(lines
            .iter()
            .filter(|l| l.1.starts_with("GET"))
            .all(|l| m.matches(l.1)));
    }
}
