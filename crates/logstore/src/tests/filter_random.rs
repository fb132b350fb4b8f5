//! The token filter never drops a matching line: random lines, random
//! substrings, a select with hints against the same select without.

use super::{entry, open, opts, push, read};
use crate::LogStoreOptions;
use sightline_core::logs::{LogHints, LogQuerier};
use sightline_core::{Labels, Matcher};
use sightline_testkit::TempDir;
use std::sync::atomic::Ordering::Relaxed;

/// xorshift64*: deterministic, so a failure repeats.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "GET",
    "POST",
    "/api/v1/users",
    "status=200",
    "status=500",
    "level=info",
    "level=error",
    "msg=\"timeout\"",
    "user_id=42",
    "{\"k\":\"v\"}",
    "héllo",
    "a",
    "ab",
    "x-y_z",
    "12:30:01",
    "disk",
    "full",
    "connection",
    "reset",
    "by",
    "peer",
    "café",
    "ß",
];

fn random_line(r: &mut Rng) -> String {
    let n = 1 + r.below(8);
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push([' ', ' ', '=', ',', '-', '/'][r.below(6)]);
        }
        if r.below(4) == 0 {
            // A random word of few letters: many distinct tokens.
            for _ in 0..1 + r.below(6) {
                s.push((b'a' + r.below(6) as u8) as char);
            }
        } else {
            s.push_str(WORDS[r.below(WORDS.len())]);
        }
    }
    s
}

/// A random substring of `s` on character boundaries.
fn substring(r: &mut Rng, s: &str) -> String {
    let idx: Vec<usize> = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .collect();
    let a = r.below(idx.len());
    let b = a + r.below(idx.len() - a);
    s[idx[a]..idx[b]].to_owned()
}

#[test]
fn hints_never_drop_a_matching_line() {
    let d = TempDir::new("logstore-filter-random");
    let s = open(d.path(), opts());
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let streams = [
        Labels::from_pairs([("job", "x"), ("pod", "1")]),
        Labels::from_pairs([("job", "x"), ("pod", "2")]),
    ];
    let mut lines = Vec::new();
    for i in 0..3000i64 {
        let line = random_line(&mut r);
        let st = &streams[(i % 2) as usize];
        push(&s, "t", st, vec![entry(i, line.clone())]);
        lines.push(line);
        if i == 1500 {
            // Half in a block, half in the head's closed and open chunks.
            s.flush().unwrap();
        }
    }
    let m = [Matcher::equal("job", "x")];
    let all = read(&s, "t", &m, 0, i64::MAX, &LogHints::default());
    let mut checked = 0;
    for q in 0..400 {
        let needle = if q % 4 == 0 {
            random_line(&mut r)
        } else {
            let l = &lines[r.below(lines.len())];
            substring(&mut r, l)
        };
        let alts = if q % 5 == 0 {
            vec![needle.clone(), random_line(&mut r)]
        } else {
            vec![needle.clone()]
        };
        for backward in [false, true] {
            let hints = LogHints {
                required: vec![alts.clone()],
                backward,
                limit: None,
            };
            let with = read(&s, "t", &m, 0, i64::MAX, &hints);
            let keep = |e: &sightline_core::logs::LogEntry| {
                alts.iter().any(|a| e.line.contains(a.as_str()))
            };
            let want: Vec<_> = all
                .iter()
                .map(|(l, es)| {
                    let mut v: Vec<_> = es.iter().filter(|e| keep(e)).cloned().collect();
                    if backward {
                        v.reverse();
                    }
                    (l.clone(), v)
                })
                .filter(|(_, v)| !v.is_empty())
                .collect();
            let got: Vec<_> = with
                .into_iter()
                .map(|(l, es)| (l, es.into_iter().filter(|e| keep(e)).collect::<Vec<_>>()))
                .filter(|(_, v): &(Labels, Vec<_>)| !v.is_empty())
                .collect();
            assert_eq!(got, want, "needle {alts:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 800);
    // Many searches skipped something.
    assert!(s.counters().chunks_skipped.load(Relaxed) > 0);
}

#[test]
fn a_rare_token_search_skips_most_chunks() {
    let d = TempDir::new("logstore-filter-rare");
    let s = open(
        d.path(),
        LogStoreOptions {
            chunk_target_size: 4096,
            ..opts()
        },
    );
    let mut r = Rng(7);
    let job = Labels::from_pairs([("job", "x")]);
    for i in 0..20_000i64 {
        let mut line = format!(
            "level=info ts={i} caller=handler.go:{} msg=\"served\" path=/api/v1/items/{} took={}ms",
            r.below(500),
            r.below(100_000),
            r.below(900)
        );
        if i == 12_345 {
            line.push_str(" token=zqxjkvw-7731");
        }
        push(&s, "t", &job, vec![entry(i, line)]);
        if i == 10_000 {
            s.flush().unwrap();
        }
    }
    // Close the open chunk so that every line is behind a filter.
    s.flush().unwrap();
    let stats = s.stats("t", &[], 0, i64::MAX).unwrap();
    let before = s.counters().chunks_skipped.load(Relaxed);
    let hints = LogHints {
        required: vec![vec!["zqxjkvw".into()]],
        ..LogHints::default()
    };
    let got = read(&s, "t", &[Matcher::equal("job", "x")], 0, i64::MAX, &hints);
    let hits: Vec<_> = got[0]
        .1
        .iter()
        .filter(|e| e.line.contains("zqxjkvw"))
        .collect();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].ts_ns, 12_345);
    let skipped = s.counters().chunks_skipped.load(Relaxed) - before;
    assert!(stats.chunks > 100, "{} chunks", stats.chunks);
    assert!(
        skipped * 100 >= stats.chunks * 95,
        "skipped {skipped} of {} chunks",
        stats.chunks
    );
}
