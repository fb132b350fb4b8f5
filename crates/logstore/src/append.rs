//! [`LogAppender`] for [`LogStore`]: limits, duplicates, the WAL record,
//! then the head, all under the head's write lock so that the WAL holds
//! pushes in the order the head applied them.

use crate::store::LogStore;
use crate::walrec;
use sightline_core::logs::{LogAppendReport, LogAppender, LogEntry, LogRefusal, LogStream};
use std::collections::HashSet;
use std::sync::atomic::Ordering::Relaxed;
use xxhash_rust::xxh3::xxh3_64;

impl LogAppender for LogStore {
    fn append(
        &self,
        tenant: &str,
        streams: Vec<LogStream>,
    ) -> sightline_core::Result<LogAppendReport> {
        let inner = &*self.inner;
        let o = &inner.opts;
        let c = &inner.counters;
        let now_ns = sightline_core::time::now_ms().saturating_mul(1_000_000);
        let max_age_ns = o.reject_old_samples_max_age.std().as_nanos() as i64;
        let reject_before = if max_age_ns > 0 {
            now_ns.saturating_sub(max_age_ns)
        } else {
            i64::MIN
        };
        let window_ns = o.out_of_order_window.std().as_nanos() as i64;
        let mut report = LogAppendReport::default();
        let mut head = inner.head.write();
        let th = head.tenants.entry(tenant.to_owned()).or_default();
        // The tenant's limit first, on the whole push, as Loki's distributor
        // checks it: nothing of a refused push is kept.
        let push_bytes: u64 = streams
            .iter()
            .flat_map(|s| s.entries.iter())
            .map(|e| e.line.len() as u64)
            .sum();
        if !th
            .rate
            .allow(push_bytes, o.ingestion_rate_limit, o.ingestion_burst_size)
        {
            let lines: usize = streams.iter().map(|s| s.entries.len()).sum();
            c.refused_tenant_rate_limited
                .fetch_add(lines as u64, Relaxed);
            report.refused.push(LogRefusal::RateLimited {
                limit_bytes_per_s: o.ingestion_rate_limit,
            });
            return Ok(report);
        }
        let mut accepted: Vec<(u64, LogStream)> = Vec::with_capacity(streams.len());
        for s in streams {
            if s.entries.is_empty() {
                continue;
            }
            let id = match th.find(&s.labels) {
                Some(id) => id,
                None if o.max_streams_per_tenant > 0
                    && th.streams.len() >= o.max_streams_per_tenant =>
                {
                    c.refused_stream_limit
                        .fetch_add(s.entries.len() as u64, Relaxed);
                    report.refused.push(LogRefusal::StreamLimit {
                        labels: s.labels,
                        limit: o.max_streams_per_tenant,
                    });
                    continue;
                }
                None => th.get_or_create(&s.labels),
            };
            let st = th.streams.get_mut(&id).expect("found or made");
            let total: u64 = s.entries.iter().map(|e| e.line.len() as u64).sum();
            if !st.rate.allow(
                total,
                o.per_stream_rate_limit,
                o.per_stream_rate_limit_burst,
            ) {
                c.refused_rate_limited
                    .fetch_add(s.entries.len() as u64, Relaxed);
                report
                    .refused
                    .push(LogRefusal::StreamRateLimited { labels: s.labels });
                continue;
            }
            let mut keep: Vec<LogEntry> = Vec::with_capacity(s.entries.len());
            let mut max_ts = st.max_ts;
            // (time, hash of line) of the lines kept from this push, made
            // only once a line arrives at or before the newest one.
            let mut seen: Option<HashSet<(i64, u64)>> = None;
            for e in s.entries {
                if o.max_line_size > 0 && e.line.len() as u64 > o.max_line_size {
                    c.refused_line_too_long.fetch_add(1, Relaxed);
                    report.refused.push(LogRefusal::LineTooLong {
                        labels: s.labels.clone(),
                        bytes: e.line.len(),
                        limit: o.max_line_size as usize,
                    });
                    continue;
                }
                if e.ts_ns < reject_before {
                    c.refused_too_old.fetch_add(1, Relaxed);
                    report.refused.push(LogRefusal::TooOld {
                        labels: s.labels.clone(),
                        ts_ns: e.ts_ns,
                    });
                    continue;
                }
                if max_ts != i64::MIN && e.ts_ns < max_ts.saturating_sub(window_ns) {
                    c.refused_too_far_behind.fetch_add(1, Relaxed);
                    report.refused.push(LogRefusal::TooFarBehind {
                        labels: s.labels.clone(),
                        ts_ns: e.ts_ns,
                    });
                    continue;
                }
                if e.ts_ns <= max_ts {
                    let set = seen.get_or_insert_with(|| {
                        keep.iter()
                            .map(|k| (k.ts_ns, xxh3_64(k.line.as_bytes())))
                            .collect()
                    });
                    let key = (e.ts_ns, xxh3_64(e.line.as_bytes()));
                    let in_push = set.contains(&key)
                        && keep.iter().any(|k| k.ts_ns == e.ts_ns && k.line == e.line);
                    if in_push || st.is_duplicate(&e) {
                        report.duplicates += 1;
                        continue;
                    }
                    set.insert(key);
                } else if let Some(set) = seen.as_mut() {
                    set.insert((e.ts_ns, xxh3_64(e.line.as_bytes())));
                }
                max_ts = max_ts.max(e.ts_ns);
                keep.push(e);
            }
            if !keep.is_empty() {
                accepted.push((
                    id,
                    LogStream {
                        labels: s.labels,
                        entries: keep,
                    },
                ));
            }
        }
        c.duplicates.fetch_add(report.duplicates as u64, Relaxed);
        if accepted.is_empty() {
            return Ok(report);
        }
        inner
            .wal
            .log_with(|buf, scratch| {
                scratch.clear();
                walrec::encode_push(
                    scratch,
                    tenant,
                    accepted.iter().map(|(_, s)| (&s.labels, &s.entries[..])),
                );
                sightline_storage::record::frame(buf, walrec::PUSH, scratch);
            })
            .map_err(crate::Error::from)?;
        let level = o.compression_level;
        let mut first = inner.head_since.lock();
        if first.is_none() {
            *first = Some(std::time::Instant::now());
        }
        drop(first);
        for (id, s) in accepted {
            let st = th.streams.get_mut(&id).expect("found or made");
            for e in s.entries {
                report.accepted += 1;
                report.accepted_bytes += e.line.len();
                st.insert(e);
                if st.open_bytes >= o.chunk_target_size {
                    st.cut(level)?;
                    c.chunks_cut.fetch_add(1, Relaxed);
                }
            }
        }
        c.lines_appended.fetch_add(report.accepted as u64, Relaxed);
        c.bytes_appended
            .fetch_add(report.accepted_bytes as u64, Relaxed);
        Ok(report)
    }
}
