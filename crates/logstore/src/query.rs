//! [`LogQuerier`] for [`LogStore`]: the head and the blocks read together,
//! label queries answered from label sets and postings without touching
//! chunks.
//!
//! Two things a caller sees that an exact scan would not give:
//!
//! - `stats` counts whole chunks that overlap the range (their lines and
//!   bytes), as Loki's index stats do, so it can over-count at the edges;
//! - `select` returns every stream with a chunk in range that its hints do
//!   not rule out, before decompressing anything, so a stream's iterator
//!   may yield no line (its chunk's lines fall outside the range, or none
//!   holds the required strings).

use crate::block::Block;
use crate::filter::{self, LineFilter, RequiredKeys};
use crate::read::{Merge, Pending, Source};
use crate::store::{Inner, LogStore};
use sightline_core::logs::{LogEntry, LogHints, LogQuerier, LogSeries, LogStats};
use sightline_core::{matches_all, Labels, Matcher, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// What one stream offers a query in range.
#[derive(Default)]
struct Found {
    pending: Vec<Pending>,
    /// Chunks overlapping the range (filter skips included), for stats.
    chunks: u64,
    entries: u64,
    bytes: u64,
}

/// The head's plain lines a select needs, copied while the head is locked:
/// only those passing the line filter, and with a limit only the first
/// `limit` in the asked order (the caller reads no more than `limit` lines
/// of the stream, so no more of these can reach it). A query for the
/// newest 100 lines of 10,000 streams copies 100 lines per stream, not the
/// head.
fn copy_lines(lines: &[LogEntry], h: &LogHints, keep: Option<&LineFilter>) -> Vec<LogEntry> {
    let want = h.limit.unwrap_or(usize::MAX);
    let pass = |e: &&LogEntry| keep.is_none_or(|k| k.matches(e.line.as_bytes()));
    if h.backward {
        let mut v: Vec<LogEntry> = lines
            .iter()
            .rev()
            .filter(pass)
            .take(want)
            .cloned()
            .collect();
        v.reverse();
        v
    } else {
        lines.iter().filter(pass).take(want).cloned().collect()
    }
}

impl Inner {
    /// Streams matching `matchers` with data overlapping `[start, end]`,
    /// with their sources when `sources` gives the select's hints (and its
    /// line filter); chunks the filter rules out are counted and left out.
    /// `sources` None: only the counts and labels.
    fn gather(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        req: &RequiredKeys,
        sources: Option<(&LogHints, Option<&LineFilter>)>,
    ) -> BTreeMap<Labels, Found> {
        let want_sources = sources.is_some();
        let mut out: BTreeMap<Labels, Found> = BTreeMap::new();
        let mut skipped = 0u64;
        // Head lock first, then the block list: a flush moves chunks from
        // one to the other under the head's write lock.
        let head = self.head.read();
        let blocks: Vec<Arc<Block>> = self.blocks.read().clone();
        if let Some(t) = head.tenants.get(tenant) {
            for s in t.streams.values() {
                if !matches_all(matchers, &s.labels) {
                    continue;
                }
                let mut f = Found::default();
                let open = std::iter::once(&s.open[..]).chain(s.frozen.iter().map(|v| &v[..]));
                for lines in open {
                    let from = lines.partition_point(|e| e.ts_ns < start);
                    let to = lines.partition_point(|e| e.ts_ns <= end);
                    if from >= to {
                        continue;
                    }
                    let lines = &lines[from..to];
                    f.chunks += 1;
                    f.entries += lines.len() as u64;
                    f.bytes += lines.iter().map(|e| e.line.len() as u64).sum::<u64>();
                    if let Some((h, keep)) = sources {
                        let copy = copy_lines(lines, h, keep);
                        if let (Some(a), Some(z)) = (copy.first(), copy.last()) {
                            f.pending.push(Pending {
                                lo: a.ts_ns,
                                hi: z.ts_ns,
                                src: Source::Lines(copy),
                            });
                        }
                    }
                }
                for c in &s.closed {
                    if !c.meta.overlaps(start, end) {
                        continue;
                    }
                    f.chunks += 1;
                    f.entries += u64::from(c.meta.entries);
                    f.bytes += c.meta.raw_bytes;
                    if !want_sources {
                        continue;
                    }
                    if filter::rules_out(|k| c.filter.may_contain(k), req) {
                        skipped += 1;
                        continue;
                    }
                    f.pending.push(Pending {
                        lo: c.meta.min_ts,
                        hi: c.meta.max_ts,
                        src: Source::Mem(c.clone()),
                    });
                }
                if f.chunks > 0 {
                    out.insert(s.labels.clone(), f);
                }
            }
        }
        drop(head);
        for b in &blocks {
            if b.meta.max_ts_ns < start || b.meta.min_ts_ns > end {
                continue;
            }
            for s in b.matching(tenant, matchers) {
                if s.max_ts < start || s.min_ts > end {
                    continue;
                }
                let mut f = Found::default();
                for c in &s.chunks {
                    if !c.meta.overlaps(start, end) {
                        continue;
                    }
                    f.chunks += 1;
                    f.entries += u64::from(c.meta.entries);
                    f.bytes += c.meta.raw_bytes;
                    if !want_sources {
                        continue;
                    }
                    if b.skips(c, req) {
                        skipped += 1;
                        continue;
                    }
                    f.pending.push(Pending {
                        lo: c.meta.min_ts,
                        hi: c.meta.max_ts,
                        src: Source::Block(b.clone(), *c),
                    });
                }
                if f.chunks == 0 {
                    continue;
                }
                let e = out.entry(s.labels.clone()).or_default();
                e.pending.append(&mut f.pending);
                e.chunks += f.chunks;
                e.entries += f.entries;
                e.bytes += f.bytes;
            }
        }
        self.counters.chunks_skipped.fetch_add(skipped, Relaxed);
        out
    }
}

impl LogQuerier for LogStore {
    fn select(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
        hints: &LogHints,
    ) -> Result<Vec<LogSeries>> {
        let req = if self.inner.opts.token_filters {
            filter::required_keys(&hints.required)
        } else {
            Vec::new()
        };
        let keep = filter::LineFilter::new(&hints.required).map(Arc::new);
        let found = self.inner.gather(
            tenant,
            matchers,
            start_ns,
            end_ns,
            &req,
            Some((hints, keep.as_deref())),
        );
        Ok(found
            .into_iter()
            .filter(|(_, f)| !f.pending.is_empty())
            .map(|(labels, f)| LogSeries {
                labels,
                entries: Box::new(Merge::new(
                    f.pending,
                    hints.backward,
                    start_ns,
                    end_ns,
                    keep.clone(),
                    self.inner.counters.clone(),
                )),
            })
            .collect())
    }

    fn label_names(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<String>> {
        let names: BTreeSet<String> = self
            .streams(tenant, matchers, start_ns, end_ns)?
            .iter()
            .flat_map(|l| l.iter().map(|x| x.name.clone()))
            .collect();
        Ok(names.into_iter().collect())
    }

    fn label_values(
        &self,
        tenant: &str,
        name: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<String>> {
        let values: BTreeSet<String> = self
            .streams(tenant, matchers, start_ns, end_ns)?
            .iter()
            .filter_map(|l| l.get(name).map(str::to_owned))
            .collect();
        Ok(values.into_iter().collect())
    }

    fn streams(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Labels>> {
        Ok(self
            .inner
            .gather(tenant, matchers, start_ns, end_ns, &Vec::new(), None)
            .into_keys()
            .collect())
    }

    fn stats(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<LogStats> {
        let mut st = LogStats::default();
        for f in self
            .inner
            .gather(tenant, matchers, start_ns, end_ns, &Vec::new(), None)
            .values()
        {
            st.streams += 1;
            st.chunks += f.chunks;
            st.entries += f.entries;
            st.bytes += f.bytes;
        }
        Ok(st)
    }
}
