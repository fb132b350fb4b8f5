//! Log queries: the selected streams' lines through the pipeline, merged
//! by time across streams (newest first for `backward`), cut at `limit`
//! lines in all, grouped by their labels after the pipeline.

use super::{hints_for, pipeline, to_set, EvalError, Params, Stats, StreamResult};
use crate::ast::LogExpr;
use crate::exec::{LabelSet, Output};
use sightline_core::logs::{LogEntry, LogQuerier};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

struct Head {
    key: i64,
    stream: usize,
    entry: LogEntry,
    out: Output,
}

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key && self.stream == o.stream
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    // A max-heap on `key`; ties by stream order, first stream first.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key
            .cmp(&o.key)
            .then_with(|| Reverse(self.stream).cmp(&Reverse(o.stream)))
    }
}

pub(super) fn select_lines(
    querier: &dyn LogQuerier,
    tenant: &str,
    log: &LogExpr,
    p: &Params,
    stats: &mut Stats,
) -> Result<Vec<StreamResult>, EvalError> {
    let pipe = pipeline(log)?;
    let hints = hints_for(log, p.backward, Some(p.limit));
    // `[start, end)`: the store's range is inclusive.
    let mut series = querier.select(tenant, &log.matchers, p.start_ns, p.end_ns - 1, &hints)?;
    let labels: Vec<LabelSet> = series.iter().map(|s| to_set(&s.labels)).collect();

    // The next line of stream `i` that passes the pipeline.
    let next = |i: usize,
                series: &mut Vec<sightline_core::logs::LogSeries>,
                stats: &mut Stats|
     -> Result<Option<Head>, EvalError> {
        for e in series[i].entries.by_ref() {
            let e = e?;
            if e.ts_ns < p.start_ns || e.ts_ns >= p.end_ns {
                continue;
            }
            stats.lines_scanned += 1;
            stats.bytes_scanned += e.line.len() as u64;
            let mut stream = labels[i].clone();
            // Structured metadata is queryable as labels, as in Loki 3.
            for (k, v) in &e.metadata {
                stream.entry(k.clone()).or_insert_with(|| v.clone());
            }
            if let Some(out) = pipe.process(e.ts_ns, &e.line, &stream) {
                let key = if p.backward { e.ts_ns } else { -e.ts_ns };
                return Ok(Some(Head {
                    key,
                    stream: i,
                    entry: e,
                    out,
                }));
            }
        }
        Ok(None)
    };

    let mut heap = BinaryHeap::new();
    for i in 0..series.len() {
        if let Some(h) = next(i, &mut series, stats)? {
            heap.push(h);
        }
    }
    let mut grouped: BTreeMap<LabelSet, Vec<super::Line>> = BTreeMap::new();
    let mut taken = 0;
    while taken < p.limit {
        let Some(h) = heap.pop() else { break };
        taken += 1;
        let i = h.stream;
        grouped.entry(h.out.labels).or_default().push((
            h.entry.ts_ns,
            h.out.line,
            h.entry.metadata,
        ));
        if let Some(n) = next(i, &mut series, stats)? {
            heap.push(n);
        }
    }
    stats.lines_returned = taken as u64;
    Ok(grouped
        .into_iter()
        .map(|(labels, entries)| StreamResult { labels, entries })
        .collect())
}
