//! Reading a range aggregation's lines into samples per output series, on
//! every core: the time span is cut into consecutive parts, each part is
//! selected and run through the pipeline on its own thread, and the parts'
//! samples are joined in time order (issue 15: `sum by (status) (rate({..}
//! | json [5m]))` over an hour ran on one of the machine's cores).
//!
//! Samples are grouped while they are read: a line's group is looked up by
//! a hash of its grouping labels and compared in place, so the common case
//! (a group seen before) builds no label set.

use super::{to_set, EvalError, Stats};
use crate::ast::{Grouping, LogExpr};
use crate::exec::{LabelSet, Pipeline, ERROR, ERROR_DETAILS};
use sightline_core::logs::{LogHints, LogQuerier};
use sightline_core::Labels;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// Below this many nanoseconds of lines a query is read on one thread: a
/// thread costs more than it saves on a few minutes of lines.
const MIN_PARALLEL_SPAN_NS: i64 = 10 * 60 * 1_000_000_000;

/// Samples per output series, each series' samples in time order within
/// each source stream.
#[derive(Default)]
pub(super) struct Groups {
    index: HashMap<u64, Vec<usize>>,
    pub series: Vec<(LabelSet, Vec<(i64, f64)>)>,
}

impl Groups {
    /// The samples of the series `labels` falls in once `grouping` keeps
    /// only some of them (all with no grouping).
    fn slot(&mut self, labels: &LabelSet, grouping: Option<&Grouping>) -> &mut Vec<(i64, f64)> {
        let kept = || {
            labels.iter().filter(move |(k, _)| {
                grouping.is_none_or(|g| g.labels.iter().any(|x| x == *k) != g.without)
            })
        };
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        for (k, v) in kept() {
            k.hash(&mut h);
            v.hash(&mut h);
        }
        let key = h.finish();
        let candidates = self.index.entry(key).or_default();
        let found = candidates
            .iter()
            .copied()
            .find(|&i| self.series[i].0.iter().eq(kept()));
        let i = match found {
            Some(i) => i,
            None => {
                let set: LabelSet = kept().map(|(k, v)| (k.clone(), v.clone())).collect();
                candidates.push(self.series.len());
                self.series.push((set, Vec::new()));
                self.series.len() - 1
            }
        };
        &mut self.series[i].1
    }

    /// Appends `later`'s samples (all after this one's, or from other
    /// streams) to the same series here.
    fn join(&mut self, later: Groups) {
        for (labels, mut samples) in later.series {
            self.slot(&labels, None).append(&mut samples);
        }
    }
}

/// FNV-1a: label values are short, and SipHash's setup showed in the
/// profile of a line's group lookup (the groups are compared anyway).
struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// What a range aggregation reads.
pub(super) struct Read<'a> {
    pub querier: &'a dyn LogQuerier,
    pub tenant: &'a str,
    pub log: &'a LogExpr,
    pub pipe: &'a Pipeline,
    pub hints: &'a LogHints,
    pub grouping: Option<&'a Grouping>,
    /// `bytes_rate`/`bytes_over_time`: a line's sample is its length.
    pub bytes: bool,
}

/// One part's result.
#[derive(Default)]
struct Part {
    groups: Groups,
    any_stream: bool,
    lines: u64,
    bytes: u64,
    /// The first line with `__error__` (its stream, the message).
    error: Option<(Labels, EvalError)>,
}

impl Read<'_> {
    /// The samples of the lines in `[from, to]`, grouped, with whether
    /// any line passed the pipeline.
    pub fn samples(
        &self,
        from: i64,
        to: i64,
        stats: &mut Stats,
    ) -> Result<(Groups, bool), EvalError> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4);
        self.samples_on(from, to, threads, stats)
    }

    /// [`Read::samples`] on at most `threads` threads.
    fn samples_on(
        &self,
        from: i64,
        to: i64,
        threads: usize,
        stats: &mut Stats,
    ) -> Result<(Groups, bool), EvalError> {
        let span = to.saturating_sub(from);
        let parts: Vec<Result<Part, EvalError>> = if threads < 2 || span < MIN_PARALLEL_SPAN_NS {
            vec![self.part(from, to)]
        } else {
            let len = span / threads as i64;
            let bounds: Vec<(i64, i64)> = (0..threads as i64)
                .map(|i| {
                    let a = from + i * len;
                    let z = if i + 1 == threads as i64 {
                        to
                    } else {
                        a + len - 1
                    };
                    (a, z)
                })
                .collect();
            std::thread::scope(|s| {
                let handles: Vec<_> = bounds
                    .iter()
                    .map(|&(a, z)| s.spawn(move || self.part(a, z)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            })
        };
        let mut out = Groups::default();
        let mut any = false;
        // The error one thread would have met first: streams are read one
        // after the other, each in time order, so the earliest stream's,
        // and within it the earliest part's.
        let mut error: Option<(Labels, EvalError)> = None;
        for p in parts {
            let p = p?;
            stats.lines_scanned += p.lines;
            stats.bytes_scanned += p.bytes;
            any |= p.any_stream;
            if let Some((l, e)) = p.error {
                if error.as_ref().is_none_or(|(m, _)| l < *m) {
                    error = Some((l, e));
                }
            }
            out.join(p.groups);
        }
        if let Some((_, e)) = error {
            return Err(e);
        }
        Ok((out, any))
    }

    fn part(&self, from: i64, to: i64) -> Result<Part, EvalError> {
        let streams = self
            .querier
            .select(self.tenant, &self.log.matchers, from, to, self.hints)?;
        let mut part = Part::default();
        for s in streams {
            let base = to_set(&s.labels);
            let narrow = self.pipe.narrow(&base);
            for e in s.entries {
                let e = e?;
                part.lines += 1;
                part.bytes += e.line.len() as u64;
                // The line's labels: its stream's, and its structured
                // metadata when it has some (copied only then).
                let with_meta;
                let labels = if e.metadata.is_empty() {
                    &base
                } else {
                    let mut l = base.clone();
                    for (k, v) in &e.metadata {
                        l.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    with_meta = l;
                    &with_meta
                };
                let start = match &narrow {
                    None => labels.clone(),
                    Some(n) if e.metadata.is_empty() => n.clone(),
                    Some(_) => self.pipe.narrow(labels).unwrap_or_default(),
                };
                let Some((value, mut out)) = self.run(e.ts_ns, &e.line, labels, start) else {
                    continue;
                };
                part.any_stream = true;
                if out.contains_key(ERROR) {
                    // The message names the line's whole label set: run
                    // again from all of it.
                    if narrow.is_some() {
                        out = self
                            .run(e.ts_ns, &e.line, labels, labels.clone())
                            .map_or(out, |x| x.1);
                    }
                    let err = &out[ERROR];
                    let e = EvalError::Query(format!(
                        "pipeline error: '{err}' for series: '{}'.\nUse a label filter to intentionally skip this error. (e.g | __error__!=\"{err}\").\nTo skip all potential errors you can match empty errors.(e.g __error__=\"\")\nThe label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )",
                        render(&out)
                    ));
                    part.error = Some((s.labels, e));
                    return Ok(part);
                }
                out.remove(ERROR_DETAILS);
                let Some(v) = value else { continue };
                part.groups.slot(&out, self.grouping).push((e.ts_ns, v));
            }
        }
        Ok(part)
    }

    /// A line through the pipeline from the labels `start`: its sample
    /// and labels, `None` when filtered out.
    fn run(
        &self,
        ts: i64,
        line: &str,
        stream: &LabelSet,
        start: LabelSet,
    ) -> Option<(Option<f64>, LabelSet)> {
        if self.pipe.unwrapper().is_some() {
            self.pipe.sample_from(ts, line, stream, start)
        } else {
            let (line, labels) = self.pipe.run_from(ts, line, stream, start)?;
            let v = if self.bytes { line.len() as f64 } else { 1.0 };
            Some((Some(v), labels))
        }
    }
}

fn render(l: &LabelSet) -> String {
    let inner: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Expr, MetricExpr};
    use sightline_core::logs::{LogAppender, LogEntry, LogStream, MemLogStore};

    const S: i64 = 1_000_000_000;

    /// Three streams over two hours, a line every 7 s; every 50th line of
    /// `b` and the last of `a` are not JSON, `c` has structured metadata.
    fn store() -> MemLogStore {
        let s = MemLogStore::new();
        let streams = ["a", "b", "c"]
            .iter()
            .map(|name| LogStream {
                labels: Labels::from_pairs([("job", "x"), ("service", *name)]),
                entries: (0..1000)
                    .map(|i| LogEntry {
                        ts_ns: i * 7 * S + 3,
                        line: if (*name == "b" && i % 50 == 49) || (*name == "a" && i == 999) {
                            format!("plain line {i}")
                        } else {
                            format!(r#"{{"status":{},"ms":{}}}"#, 200 + 100 * (i % 4), i % 13)
                        },
                        metadata: if *name == "c" {
                            vec![("trace".into(), format!("t{}", i % 3))]
                        } else {
                            vec![]
                        },
                    })
                    .collect(),
            })
            .collect();
        s.append("t", streams).unwrap();
        s
    }

    type Series = Vec<(LabelSet, Vec<(i64, f64)>)>;

    /// The samples of a range aggregation (under at most one vector
    /// aggregation) over all of the store, read on `threads` threads.
    fn read(s: &MemLogStore, q: &str, threads: usize) -> Result<(Series, bool, Stats), String> {
        let Expr::Metric(m) = crate::parse(q).unwrap() else {
            panic!("{q} is not a metric query")
        };
        let (log, grouping) = match &m {
            MetricExpr::Vector { grouping, expr, .. } => match expr.as_ref() {
                MetricExpr::Range { log, .. } => (log, grouping.as_ref()),
                _ => unreachable!(),
            },
            MetricExpr::Range { log, grouping, .. } => (log, grouping.as_ref()),
            _ => unreachable!(),
        };
        let pipe = match grouping {
            Some(g) if !g.without => Pipeline::with_needed_labels(&log.stages, &g.labels).unwrap(),
            _ => Pipeline::new(&log.stages).unwrap(),
        };
        let hints = LogHints::default();
        let r = Read {
            querier: s,
            tenant: "t",
            log,
            pipe: &pipe,
            hints: &hints,
            grouping,
            bytes: false,
        };
        let mut stats = Stats::default();
        let (g, any) = r
            .samples_on(-100 * S, 7000 * S, threads, &mut stats)
            .map_err(|e| e.to_string())?;
        let mut series = g.series;
        for x in &mut series {
            x.1.sort_by_key(|p| p.0);
        }
        series.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((series, any, stats))
    }

    #[test]
    fn parts_on_threads_give_what_one_thread_gives() {
        // Issue 15: the span cut across threads, the samples joined: the
        // same series, samples and counts as one thread, and the error one
        // thread meets first.
        let s = store();
        for q in [
            r#"sum by (status) (count_over_time({job="x"} | json | __error__="" [5m]))"#,
            r#"count_over_time({job="x", service="c"} | json [5m])"#,
            r#"sum without (ms) (count_over_time({job="x", service=~"c"} | json [5m]))"#,
            r#"sum_over_time({job="x"} | json | __error__="" | unwrap ms [5m])"#,
            r#"sum by (trace) (count_over_time({job="x"} |= "status" [5m]))"#,
        ] {
            let one = read(&s, q, 1).unwrap_or_else(|e| panic!("{q}: {e}"));
            assert!(one.0.len() > 1 && one.2.lines_scanned >= 1000, "{q}");
            for threads in [2, 3, 4] {
                assert_eq!(
                    read(&s, q, threads),
                    Ok(one.clone()),
                    "{q} on {threads} threads"
                );
            }
        }
        // Streams a and b fail (a only on its last line); a single thread
        // meets a's error first.
        let q =
            r#"sum by (status) (count_over_time({job="x", service=~"a|b"} | json | ms!="5" [5m]))"#;
        let one = read(&s, q, 1).map(|_| ());
        assert!(
            one.as_ref().is_err_and(|e| e.contains(r#"service="a""#)),
            "{one:?}"
        );
        for threads in [2, 3, 4] {
            assert_eq!(read(&s, q, threads).map(|_| ()), one, "{threads} threads");
        }
    }
}
