//! The log storage seams, as [`crate::MetricAppender`] and
//! [`crate::MetricQuerier`] are for samples: what ingestion (Loki push,
//! OTLP logs, syslog, file tailing) writes through, and what LogQL and the
//! Loki API read through. The log store implements both; [`MemLogStore`]
//! does too, for tests of the query engine and the receivers.
//!
//! Times are nanoseconds since the Unix epoch, as Loki keeps them. Every
//! call names its tenant (`X-Scope-OrgID`; `fake` when multi-tenancy is
//! off, as Loki names it).

use crate::{matches_all, Labels, Matcher, Result};
use std::sync::Mutex;

/// The tenant of a single-tenant server, Loki's name for it.
pub const DEFAULT_TENANT: &str = "fake";

/// One log line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// Nanoseconds since the epoch.
    pub ts_ns: i64,
    pub line: String,
    /// Loki 3's structured metadata: labels of the line, not of the stream
    /// (OTLP attributes such as `trace_id` land here).
    pub metadata: Vec<(String, String)>,
}

/// Lines of one stream, as a push carries them.
#[derive(Debug, Clone, PartialEq)]
pub struct LogStream {
    pub labels: Labels,
    pub entries: Vec<LogEntry>,
}

/// Why a push's lines were not all kept, in Loki's terms: receivers turn
/// these into Loki's status codes and messages.
#[derive(Debug, Clone, PartialEq)]
pub enum LogRefusal {
    /// Older than the stream's newest line by more than the out-of-order
    /// window (Loki: "entry too far behind"; 400).
    TooFarBehind { labels: Labels, ts_ns: i64 },
    /// Older than the retention or the `reject_old_samples_max_age` limit
    /// (400).
    TooOld { labels: Labels, ts_ns: i64 },
    /// A line longer than the limit (400, "line too long").
    LineTooLong {
        labels: Labels,
        bytes: usize,
        limit: usize,
    },
    /// The stream's rate limit (429).
    StreamRateLimited { labels: Labels },
    /// The tenant's ingestion rate limit (429).
    RateLimited { limit_bytes_per_s: u64 },
    /// A new stream beyond the tenant's stream limit (429).
    StreamLimit { labels: Labels, limit: usize },
}

/// What an append kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogAppendReport {
    /// Lines written (durably, before the call returns).
    pub accepted: usize,
    /// Bytes of line text written.
    pub accepted_bytes: usize,
    /// Lines dropped as exact duplicates (same stream, time and text), as
    /// Loki drops them: not an error.
    pub duplicates: usize,
    pub refused: Vec<LogRefusal>,
}

/// Writes lines. An `Ok` return means every accepted line is durable
/// (in the WAL): it survives `kill -9`.
pub trait LogAppender: Send + Sync {
    fn append(&self, tenant: &str, streams: Vec<LogStream>) -> Result<LogAppendReport>;
}

/// What a reader may use to read less: the store may skip chunks that
/// cannot hold a match, but must never drop a line that matches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogHints {
    /// Each element is one line filter of the query's leading `|=`
    /// filters: a line matches only if it contains one of its strings.
    /// A chunk whose token filter rules out every string of any element
    /// can be skipped.
    pub required: Vec<Vec<String>>,
    /// Newest first (Loki's `direction=backward`, its default).
    pub backward: bool,
    /// The most lines the caller will use per stream (it may still stop
    /// earlier); `None`: all of them.
    pub limit: Option<usize>,
}

/// The lines of one stream in the selected range, in the asked order.
pub struct LogSeries {
    pub labels: Labels,
    pub entries: Box<dyn Iterator<Item = Result<LogEntry>> + Send>,
}

/// Counts for `/loki/api/v1/index/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStats {
    pub streams: u64,
    pub chunks: u64,
    pub entries: u64,
    pub bytes: u64,
}

/// Reads lines back.
pub trait LogQuerier: Send + Sync {
    /// The streams matching `matchers` with lines in `[start_ns, end_ns]`
    /// (both inclusive), each with its lines in that range.
    fn select(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
        hints: &LogHints,
    ) -> Result<Vec<LogSeries>>;

    /// Label names of the streams in range (all when `matchers` is empty).
    fn label_names(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<String>>;

    /// Values of label `name` in range.
    fn label_values(
        &self,
        tenant: &str,
        name: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<String>>;

    /// The label sets of the matching streams in range.
    fn streams(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Labels>>;

    fn stats(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<LogStats>;
}

/// An in-memory log store: every line kept, sorted per stream, nothing on
/// disk. For tests of the LogQL engine and the receivers.
#[derive(Default)]
pub struct MemLogStore {
    streams: Mutex<Vec<(String, LogStream)>>,
}

impl MemLogStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with_range<T>(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
        mut f: impl FnMut(&LogStream, Vec<LogEntry>) -> Option<T>,
    ) -> Vec<T> {
        let streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        for (t, s) in streams.iter() {
            if t != tenant || !matches_all(matchers, &s.labels) {
                continue;
            }
            let entries: Vec<LogEntry> = s
                .entries
                .iter()
                .filter(|e| e.ts_ns >= start_ns && e.ts_ns <= end_ns)
                .cloned()
                .collect();
            if entries.is_empty() {
                continue;
            }
            if let Some(x) = f(s, entries) {
                out.push(x);
            }
        }
        out
    }
}

impl LogAppender for MemLogStore {
    fn append(&self, tenant: &str, streams: Vec<LogStream>) -> Result<LogAppendReport> {
        let mut all = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        let mut report = LogAppendReport::default();
        for s in streams {
            let i = match all
                .iter()
                .position(|(t, x)| t == tenant && x.labels == s.labels)
            {
                Some(i) => i,
                None => {
                    all.push((
                        tenant.to_owned(),
                        LogStream {
                            labels: s.labels.clone(),
                            entries: Vec::new(),
                        },
                    ));
                    all.len() - 1
                }
            };
            let have = &mut all[i].1.entries;
            for e in s.entries {
                if have.iter().any(|h| h.ts_ns == e.ts_ns && h.line == e.line) {
                    report.duplicates += 1;
                    continue;
                }
                report.accepted += 1;
                report.accepted_bytes += e.line.len();
                let at = have.partition_point(|h| h.ts_ns <= e.ts_ns);
                have.insert(at, e);
            }
        }
        Ok(report)
    }
}

impl LogQuerier for MemLogStore {
    fn select(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
        hints: &LogHints,
    ) -> Result<Vec<LogSeries>> {
        Ok(
            self.with_range(tenant, matchers, start_ns, end_ns, |s, mut entries| {
                if hints.backward {
                    entries.reverse();
                }
                Some(LogSeries {
                    labels: s.labels.clone(),
                    entries: Box::new(entries.into_iter().map(Ok)),
                })
            }),
        )
    }

    fn label_names(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .with_range(tenant, matchers, start_ns, end_ns, |s, _| {
                Some(
                    s.labels
                        .iter()
                        .map(|l| l.name.to_string())
                        .collect::<Vec<_>>(),
                )
            })
            .into_iter()
            .flatten()
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn label_values(
        &self,
        tenant: &str,
        name: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<String>> {
        let mut values: Vec<String> =
            self.with_range(tenant, matchers, start_ns, end_ns, |s, _| {
                s.labels.get(name).map(str::to_owned)
            });
        values.sort();
        values.dedup();
        Ok(values)
    }

    fn streams(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Labels>> {
        Ok(self.with_range(tenant, matchers, start_ns, end_ns, |s, _| {
            Some(s.labels.clone())
        }))
    }

    fn stats(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<LogStats> {
        let mut st = LogStats::default();
        for (n, bytes) in self.with_range(tenant, matchers, start_ns, end_ns, |_, e| {
            Some((
                e.len() as u64,
                e.iter().map(|x| x.line.len() as u64).sum::<u64>(),
            ))
        }) {
            st.streams += 1;
            st.chunks += 1;
            st.entries += n;
            st.bytes += bytes;
        }
        Ok(st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ts: i64, line: &str) -> LogEntry {
        LogEntry {
            ts_ns: ts,
            line: line.into(),
            metadata: vec![],
        }
    }

    #[test]
    fn mem_store_keeps_order_drops_duplicates_and_selects() {
        let s = MemLogStore::new();
        let labels = Labels::from_pairs([("app", "a")]);
        let r = s
            .append(
                "t",
                vec![LogStream {
                    labels: labels.clone(),
                    entries: vec![entry(3, "c"), entry(1, "a"), entry(2, "b"), entry(1, "a")],
                }],
            )
            .unwrap();
        assert_eq!((r.accepted, r.duplicates, r.accepted_bytes), (3, 1, 3));
        let m = [Matcher::equal("app", "a")];
        let got: Vec<String> = s.select("t", &m, 2, 3, &LogHints::default()).unwrap()[0]
            .entries
            .by_ref()
            .map(|e| e.unwrap().line)
            .collect();
        assert_eq!(got, ["b", "c"]);
        let back = LogHints {
            backward: true,
            ..LogHints::default()
        };
        let got: Vec<i64> = s.select("t", &m, 0, 9, &back).unwrap()[0]
            .entries
            .by_ref()
            .map(|e| e.unwrap().ts_ns)
            .collect();
        assert_eq!(got, [3, 2, 1]);
        // Another tenant sees nothing.
        assert!(s
            .select("u", &m, 0, 9, &LogHints::default())
            .unwrap()
            .is_empty());
        assert_eq!(s.label_values("t", "app", &[], 0, 9).unwrap(), ["a"]);
        assert_eq!(s.stats("t", &m, 0, 9).unwrap().entries, 3);
    }
}
