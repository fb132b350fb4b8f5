//! [`TraceAppender`] for [`TraceStore`]: limits, the WAL record, then the
//! head, under the state's write lock so that the WAL holds appends in the
//! order the head applied them (appends from many connections thus share
//! the WAL's single `write(2)` stream, as the log store's do).

use crate::head;
use crate::store::TraceStore;
use sightline_core::traces::{Span, SpanRefusal, TraceAppendReport, TraceAppender, TraceId};
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;

impl TraceAppender for TraceStore {
    fn append(&self, tenant: &str, spans: Vec<Span>) -> sightline_core::Result<TraceAppendReport> {
        let inner = &*self.inner;
        let o = &inner.opts;
        let c = &inner.counters;
        let mut report = TraceAppendReport::default();
        if spans.is_empty() {
            return Ok(report);
        }
        let retention_ns = o.retention_time.std().as_nanos() as i64;
        let too_old_before = if retention_ns > 0 {
            sightline_core::time::now_ms()
                .saturating_mul(1_000_000)
                .saturating_sub(retention_ns)
        } else {
            i64::MIN
        };
        let sizes: Vec<usize> = spans.iter().map(Span::size_bytes).collect();
        let total: u64 = sizes.iter().map(|&s| s as u64).sum();
        let mut st = inner.state.write();
        let st = &mut *st;
        let lim = st.limits.entry(tenant.to_owned()).or_default();
        // The tenant's byte rate first, on the whole batch, as Tempo's
        // distributor checks it: nothing of a refused batch is kept.
        if !lim
            .bytes
            .allow(total, o.ingestion_rate_bytes, o.ingestion_burst_bytes)
        {
            c.refused_rate_limited
                .fetch_add(spans.len() as u64, Relaxed);
            report.refused.push(SpanRefusal::RateLimited {
                spans: spans.len(),
                limit_bytes_per_s: o.ingestion_rate_bytes,
            });
            return Ok(report);
        }
        let th = st.head.tenants.get(tenant);
        if o.max_traces_per_second > 0 {
            let mut new: Vec<TraceId> = spans
                .iter()
                .map(|s| s.trace_id)
                .filter(|id| th.is_none_or(|t| !t.traces.contains_key(id)))
                .collect();
            new.sort_unstable();
            new.dedup();
            if !lim.traces.allow(
                new.len() as u64,
                o.max_traces_per_second,
                o.max_traces_per_second,
            ) {
                c.refused_trace_rate_limited
                    .fetch_add(spans.len() as u64, Relaxed);
                report.refused.push(SpanRefusal::TraceRateLimited {
                    spans: spans.len(),
                    limit_traces_per_s: o.max_traces_per_second,
                });
                return Ok(report);
            }
        }
        let mut keep: Vec<Span> = Vec::with_capacity(spans.len());
        let mut trace_bytes: HashMap<TraceId, u64> = HashMap::new();
        let mut too_large: HashMap<TraceId, usize> = HashMap::new();
        let mut too_old = 0usize;
        let mut kept_bytes = 0u64;
        for (s, size) in spans.into_iter().zip(sizes) {
            if o.max_span_bytes > 0 && size as u64 > o.max_span_bytes {
                c.refused_span_too_large.fetch_add(1, Relaxed);
                report.refused.push(SpanRefusal::SpanTooLarge {
                    trace_id: s.trace_id,
                    span_id: s.span_id,
                    bytes: size,
                    limit: o.max_span_bytes as usize,
                });
                continue;
            }
            if s.end_ns < too_old_before {
                too_old += 1;
                continue;
            }
            if o.max_bytes_per_trace > 0 {
                let held = trace_bytes.entry(s.trace_id).or_insert_with(|| {
                    th.and_then(|t| t.traces.get(&s.trace_id))
                        .map_or(0, |t| t.rows.len() as u64)
                });
                if *held + size as u64 > o.max_bytes_per_trace {
                    *too_large.entry(s.trace_id).or_default() += 1;
                    continue;
                }
                *held += size as u64;
            }
            kept_bytes += size as u64;
            keep.push(s);
        }
        if too_old > 0 {
            c.refused_too_old.fetch_add(too_old as u64, Relaxed);
            report.refused.push(SpanRefusal::TooOld { spans: too_old });
        }
        let mut tl: Vec<_> = too_large.into_iter().collect();
        tl.sort_unstable();
        for (trace_id, n) in tl {
            c.refused_trace_too_large.fetch_add(n as u64, Relaxed);
            report.refused.push(SpanRefusal::TraceTooLarge {
                trace_id,
                spans: n,
                limit: o.max_bytes_per_trace as usize,
            });
        }
        if keep.is_empty() {
            return Ok(report);
        }
        let mut body = Vec::with_capacity(keep.len() * 256);
        head::encode_record(&mut body, tenant, &keep);
        inner
            .wal
            .log_with(|buf, _| sightline_storage::record::frame(buf, head::REC_SPANS, &body))
            .map_err(crate::Error::from)?;
        let rec = head::decode_record(&body)?;
        st.head.insert(&rec)?;
        report.accepted = keep.len();
        c.spans_appended.fetch_add(keep.len() as u64, Relaxed);
        c.bytes_appended.fetch_add(kept_bytes, Relaxed);
        Ok(report)
    }
}
