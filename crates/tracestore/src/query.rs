//! [`TraceQuerier`] for [`TraceStore`]: a trace's parts gathered from the
//! head, heads being cut and the blocks whose bloom filter admits its id;
//! scans newest source first, skipping blocks by their meta and tag table;
//! tag names and values, services and operations from the blocks' tables
//! (the head's spans are decoded).

use crate::block::{slots, Block};
use crate::head::TenantHead;
use crate::store::{dedup, Frozen, Inner, TraceStore};
use crate::Result;
use sightline_core::traces::{
    AnyValue, Span, SpanKind, TagScope, TraceHints, TraceId, TraceQuerier,
};
use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// What a read sees: the frozen heads and blocks of one tenant, taken
/// together (the head is read under its lock).
struct View {
    frozen: Vec<Frozen>,
    blocks: Vec<Arc<Block>>,
}

fn overlaps(min: i64, max: i64, range: Option<(i64, i64)>) -> bool {
    range.is_none_or(|(s, e)| min <= e && max >= s)
}

impl Inner {
    fn view(&self, tenant: &str) -> View {
        let frozen = self.frozen.read().clone();
        let mut blocks: Vec<Arc<Block>> = self
            .blocks
            .read()
            .iter()
            .filter(|b| b.meta.tenant == tenant)
            .cloned()
            .collect();
        // Newest first.
        blocks.sort_by_key(|b| std::cmp::Reverse(b.meta.max_ns));
        View { frozen, blocks }
    }

    fn head_part(
        th: Option<&TenantHead>,
        id: &TraceId,
        range: Option<(i64, i64)>,
    ) -> Result<Vec<Span>> {
        match th.and_then(|t| t.traces.get(id).map(|x| (t, x))) {
            Some((t, x)) if overlaps(x.min_ns, x.max_ns, range) => t.decode(x),
            _ => Ok(Vec::new()),
        }
    }

    /// The parts of trace `id` outside the head and outside block `skip`.
    fn other_parts(
        &self,
        v: &View,
        tenant: &str,
        id: &TraceId,
        range: Option<(i64, i64)>,
        skip: Option<&Arc<Block>>,
        out: &mut Vec<Span>,
    ) -> Result<()> {
        for f in &v.frozen {
            out.extend(Self::head_part(f.get(tenant), id, range)?);
        }
        for b in &v.blocks {
            if skip.is_some_and(|s| Arc::ptr_eq(s, b))
                || !overlaps(b.meta.min_ns, b.meta.max_ns, range)
            {
                continue;
            }
            if !b.may_contain(id) {
                self.counters.bloom_skips.fetch_add(1, Relaxed);
                continue;
            }
            self.counters.trace_lookups_read.fetch_add(1, Relaxed);
            match b.find(id) {
                Ok(s) => out.extend(s),
                Err(e) => self.set_aside(b, &e),
            }
        }
        Ok(())
    }

    /// Spans of the head and frozen heads of `tenant` overlapping the
    /// range, for the tag calls.
    fn each_head_span(
        &self,
        tenant: &str,
        start: i64,
        end: i64,
        f: &mut dyn FnMut(&Span),
    ) -> Result<()> {
        let visit = |th: &TenantHead, f: &mut dyn FnMut(&Span)| -> Result<()> {
            for t in th.traces.values() {
                if t.min_ns > end || t.max_ns < start {
                    continue;
                }
                for s in th.decode(t)? {
                    if s.start_ns <= end && s.end_ns >= start {
                        f(&s);
                    }
                }
            }
            Ok(())
        };
        {
            let st = self.state.read();
            if let Some(th) = st.head.tenants.get(tenant) {
                visit(th, f)?;
            }
        }
        for fz in self.frozen.read().clone() {
            if let Some(th) = fz.get(tenant) {
                visit(th, f)?;
            }
        }
        Ok(())
    }

    fn blocks_in(&self, tenant: &str, start: i64, end: i64) -> Vec<Arc<Block>> {
        self.view(tenant)
            .blocks
            .into_iter()
            .filter(|b| b.overlaps(start, end))
            .collect()
    }
}

impl TraceQuerier for TraceStore {
    fn trace(
        &self,
        tenant: &str,
        id: TraceId,
        range: Option<(i64, i64)>,
    ) -> sightline_core::Result<Vec<Span>> {
        let inner = &*self.inner;
        let (mut spans, v) = {
            let st = inner.state.read();
            let head = Inner::head_part(st.head.tenants.get(tenant), &id, range)?;
            (head, inner.view(tenant))
        };
        inner.other_parts(&v, tenant, &id, range, None, &mut spans)?;
        let spans = dedup(spans);
        Ok(match range {
            Some((s, e)) if !spans.iter().any(|x| x.start_ns <= e && x.end_ns >= s) => Vec::new(),
            _ => spans,
        })
    }

    fn scan(
        &self,
        tenant: &str,
        hints: &TraceHints,
        visit: &mut dyn FnMut(Vec<Span>) -> bool,
    ) -> sightline_core::Result<()> {
        let inner = &*self.inner;
        let range = Some((hints.start_ns, hints.end_ns));
        let mut done: HashSet<TraceId> = HashSet::new();
        // The head: its traces newest first, decoded under the lock, then
        // completed from the other sources without it.
        // Every trace id the heads hold (in range or not): a block's part
        // of one of them is built even when the part alone fails the
        // hints, since the whole trace may pass.
        let mut in_heads: HashSet<TraceId> = HashSet::new();
        let (head_traces, v) = {
            let st = inner.state.read();
            let mut ts: Vec<(i64, Vec<Span>)> = Vec::new();
            if let Some(th) = st.head.tenants.get(tenant) {
                in_heads.extend(th.traces.keys().copied());
                for t in th.traces.values() {
                    if t.min_ns <= hints.end_ns && t.max_ns >= hints.start_ns {
                        ts.push((t.max_start, th.decode(t)?));
                    }
                }
            }
            ts.sort_by_key(|b| std::cmp::Reverse(b.0));
            (ts, inner.view(tenant))
        };
        let mut emit =
            |mut spans: Vec<Span>, skip: Option<&Arc<Block>>, in_head: bool| -> Result<bool> {
                let id = spans[0].trace_id;
                if !done.insert(id) {
                    return Ok(true);
                }
                if in_head {
                    inner.other_parts(&v, tenant, &id, range, None, &mut spans)?;
                } else {
                    let st = inner.state.read();
                    spans.extend(Inner::head_part(st.head.tenants.get(tenant), &id, range)?);
                    drop(st);
                    inner.other_parts(&v, tenant, &id, range, skip, &mut spans)?;
                }
                let spans = dedup(spans);
                Ok(!hints.admits(&spans) || visit(spans))
            };
        for (_, spans) in head_traces {
            if !emit(spans, None, true)? {
                return Ok(());
            }
        }
        for f in &v.frozen {
            if let Some(th) = f.get(tenant) {
                in_heads.extend(th.traces.keys().copied());
            }
        }
        for f in &v.frozen {
            if let Some(th) = f.get(tenant) {
                let mut ts: Vec<_> = th
                    .traces
                    .values()
                    .filter(|t| t.min_ns <= hints.end_ns && t.max_ns >= hints.start_ns)
                    .collect();
                ts.sort_by_key(|b| std::cmp::Reverse(b.max_start));
                for t in ts {
                    if !emit(th.decode(t)?, None, false)? {
                        return Ok(());
                    }
                }
            }
        }
        for b in &v.blocks {
            if !b.may_match(hints) {
                inner.counters.blocks_skipped.fetch_add(1, Relaxed);
                continue;
            }
            inner.counters.blocks_scanned.fetch_add(1, Relaxed);
            let mut err = None;
            let others: Vec<&Arc<Block>> = v
                .blocks
                .iter()
                .filter(|o| !Arc::ptr_eq(o, b) && overlaps(o.meta.min_ns, o.meta.max_ns, range))
                .collect();
            let elsewhere =
                |id: &TraceId| in_heads.contains(id) || others.iter().any(|o| o.may_contain(id));
            let res = b.for_each_trace(hints, &elsewhere, &mut |spans| match emit(
                spans,
                Some(b),
                false,
            ) {
                Ok(go) => go,
                Err(e) => {
                    err = Some(e);
                    false
                }
            });
            if let Some(e) = err {
                return Err(e.into());
            }
            match res {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => inner.set_aside(b, &e),
            }
        }
        Ok(())
    }

    fn tag_names(
        &self,
        tenant: &str,
        scope: TagScope,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
    ) -> sightline_core::Result<Vec<String>> {
        let inner = &*self.inner;
        let mut names = BTreeSet::new();
        for b in inner.blocks_in(tenant, start_ns, end_ns) {
            for i in slots(scope) {
                names.extend(b.tags[i].keys().cloned());
            }
        }
        inner.each_head_span(tenant, start_ns, end_ns, &mut |s| {
            for (k, _) in s.attributes_in(scope) {
                if !names.contains(k) {
                    names.insert(k.clone());
                }
            }
        })?;
        Ok(names.into_iter().take(limit).collect())
    }

    fn tag_values(
        &self,
        tenant: &str,
        scope: TagScope,
        key: &str,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
    ) -> sightline_core::Result<Vec<AnyValue>> {
        let inner = &*self.inner;
        let mut out: Vec<AnyValue> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut add = |v: &AnyValue, out: &mut Vec<AnyValue>| {
            if matches!(v, AnyValue::Array(_) | AnyValue::Map(_)) {
                return;
            }
            // Typed: the string "1" and the integer 1 are two values.
            let k = format!("{:?}", v);
            if seen.insert(k) {
                out.push(v.clone());
            }
        };
        inner.each_head_span(tenant, start_ns, end_ns, &mut |s| {
            for (k, v) in s.attributes_in(scope) {
                if k == key {
                    add(v, &mut out);
                }
            }
        })?;
        for b in inner.blocks_in(tenant, start_ns, end_ns) {
            for i in slots(scope) {
                if let Some(tv) = b.tags[i].get(key) {
                    for v in &tv.values {
                        add(v, &mut out);
                    }
                }
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    fn services(
        &self,
        tenant: &str,
        start_ns: i64,
        end_ns: i64,
    ) -> sightline_core::Result<Vec<String>> {
        let inner = &*self.inner;
        let mut out = BTreeSet::new();
        for b in inner.blocks_in(tenant, start_ns, end_ns) {
            out.extend(b.meta.services.iter().filter(|s| !s.is_empty()).cloned());
        }
        inner.each_head_span(tenant, start_ns, end_ns, &mut |s| {
            if let Some(n) = s.resource.service_name() {
                if !out.contains(n) {
                    out.insert(n.to_owned());
                }
            }
        })?;
        Ok(out.into_iter().collect())
    }

    fn operations(
        &self,
        tenant: &str,
        service: Option<&str>,
        start_ns: i64,
        end_ns: i64,
    ) -> sightline_core::Result<Vec<(String, SpanKind)>> {
        let inner = &*self.inner;
        let mut out = BTreeSet::new();
        for b in inner.blocks_in(tenant, start_ns, end_ns) {
            for (svc, name, kind) in &b.meta.operations {
                if service.is_none_or(|w| w == svc) {
                    out.insert((name.clone(), SpanKind::from_i32(*kind as i32)));
                }
            }
        }
        inner.each_head_span(tenant, start_ns, end_ns, &mut |s| {
            if service.is_none_or(|w| s.service_name() == w) {
                out.insert((s.name.clone(), s.kind));
            }
        })?;
        Ok(out.into_iter().collect())
    }
}
