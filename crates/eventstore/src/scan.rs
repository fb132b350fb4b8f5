//! [`EventScan`] for [`EventStore`]: batches from the head's events and
//! from the blocks' row groups, the request's filters applied here, one
//! definition ([`Plan::finish`]) for both.
//!
//! A block's row group is skipped without decompressing anything when its
//! time bounds miss the range, when none of the names asked for is in it,
//! or when the person asked for is not in the block; otherwise only the
//! columns the request needs are decompressed: `ts`, `name`, `person`, and
//! one dictionary column per property named in `columns` or `filters`.

use crate::block::{Block, PROP_PREFIX};
use crate::codec;
use crate::head::sorted;
use crate::model::{person_key, Event, EventBatch, EventScan, PropColumn, ScanRequest};
use crate::props::{check_key, lookup, op_matches};
use crate::store::EventStore;
use crate::{Error, Result};
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::atomic::Ordering::Relaxed;

/// A request checked and resolved once per scan.
pub(crate) struct Plan<'a> {
    pub req: &'a ScanRequest,
    /// The property keys to read: `columns`, then each filter's key.
    pub keys: Vec<&'a str>,
    /// The person key asked for.
    pub person: Option<u64>,
}

impl<'a> Plan<'a> {
    pub(crate) fn new(req: &'a ScanRequest) -> Result<Plan<'a>> {
        if req.end_ms < req.start_ms {
            return Err(Error::bad("end", "end is before start"));
        }
        for (i, c) in req.columns.iter().enumerate() {
            check_key(&format!("columns[{i}]"), c)?;
        }
        for (i, f) in req.filters.iter().enumerate() {
            check_key(&format!("filters[{i}].key"), &f.key)?;
        }
        let keys = req
            .columns
            .iter()
            .chain(req.filters.iter().map(|f| &f.key))
            .map(String::as_str)
            .collect();
        Ok(Plan {
            req,
            keys,
            person: req.distinct_id.as_deref().map(person_key),
        })
    }

    /// Whether a whole event passes (the export's and compaction's view).
    pub(crate) fn matches(&self, e: &Event) -> bool {
        let r = self.req;
        e.timestamp_ms >= r.start_ms
            && e.timestamp_ms < r.end_ms
            && (r.names.is_empty() || r.names.contains(&e.name))
            && self.person.is_none_or(|p| person_key(e.distinct_id()) == p)
            && r.filters
                .iter()
                .all(|f| op_matches(&f.op, lookup(e, &f.key).as_deref()))
    }

    /// Applies the request to a batch whose `props` are [`Plan::keys`]:
    /// drops the rows that fail, and the filter-only columns.
    pub(crate) fn finish(&self, b: &mut EventBatch) {
        let r = self.req;
        let n = b.len();
        // Sorted times: the bounds of the batch tell whether the range
        // drops anything.
        if r.names.is_empty()
            && self.person.is_none()
            && r.filters.is_empty()
            && b.timestamp_ms.first().is_none_or(|&t| t >= r.start_ms)
            && b.timestamp_ms.last().is_none_or(|&t| t < r.end_ms)
        {
            b.props.truncate(r.columns.len());
            return;
        }
        let name_ok: Option<Vec<bool>> =
            (!r.names.is_empty()).then(|| b.names.iter().map(|x| r.names.contains(x)).collect());
        let person_code: Option<Option<u32>> = self
            .person
            .map(|p| b.persons.iter().position(|&k| k == p).map(|i| i as u32));
        // Each filter judged once per dictionary entry, not per row.
        let filt: Vec<(usize, Vec<bool>)> = r
            .filters
            .iter()
            .enumerate()
            .map(|(j, f)| {
                let col = &b.props[r.columns.len() + j];
                let mut ok = vec![op_matches(&f.op, None)];
                ok.extend(col.dict.iter().map(|v| op_matches(&f.op, Some(v))));
                (r.columns.len() + j, ok)
            })
            .collect();
        let keep = |i: usize| -> bool {
            let t = b.timestamp_ms[i];
            t >= r.start_ms
                && t < r.end_ms
                && name_ok.as_ref().is_none_or(|ok| ok[b.name[i] as usize])
                && person_code.is_none_or(|c| c == Some(b.person[i]))
                && filt.iter().all(|(c, ok)| ok[b.props[*c].codes[i] as usize])
        };
        let mask: Vec<bool> = (0..n).map(keep).collect();
        b.props.truncate(r.columns.len());
        if mask.iter().all(|&k| k) {
            return;
        }
        let compact = |v: &mut Vec<u32>| {
            let mut keep = mask.iter();
            v.retain(|_| *keep.next().expect("one per row"));
        };
        compact(&mut b.name);
        compact(&mut b.person);
        for p in &mut b.props {
            compact(&mut p.codes);
        }
        let mut keep = mask.iter();
        b.timestamp_ms
            .retain(|_| *keep.next().expect("one per row"));
    }
}

/// A batch of `events` (in time order) with the plan's columns, before
/// [`Plan::finish`].
pub(crate) fn batch_of(events: &[&Event], plan: &Plan) -> EventBatch {
    let mut b = EventBatch::default();
    let mut names: HashMap<&str, u32> = HashMap::new();
    let mut persons: HashMap<u64, u32> = HashMap::new();
    let mut props: Vec<codec::DictBuilder> = plan
        .keys
        .iter()
        .map(|_| codec::DictBuilder::default())
        .collect();
    for e in events {
        b.timestamp_ms.push(e.timestamp_ms);
        let n = names.len() as u32;
        let code = *names.entry(e.name.as_str()).or_insert_with(|| {
            b.names.push(e.name.clone());
            n
        });
        b.name.push(code);
        let k = person_key(e.distinct_id());
        let n = persons.len() as u32;
        let code = *persons.entry(k).or_insert_with(|| {
            b.persons.push(k);
            n
        });
        b.person.push(code);
        for (d, key) in props.iter_mut().zip(&plan.keys) {
            d.push(lookup(e, key).as_deref());
        }
    }
    b.props = plan
        .keys
        .iter()
        .zip(props)
        .map(|(k, d)| PropColumn {
            key: (*k).to_owned(),
            dict: d.dict,
            codes: d.codes,
        })
        .collect();
    b
}

impl EventStore {
    /// Scans one block into `f`; false when `f` asked to stop.
    fn scan_block(
        &self,
        blk: &Block,
        plan: &Plan,
        b: &mut EventBatch,
        buf: &mut Vec<u8>,
        f: &mut dyn FnMut(&EventBatch) -> ControlFlow<()>,
    ) -> Result<bool> {
        let r = plan.req;
        let m = &blk.meta;
        let c = &self.inner.counters;
        let skip = || {
            c.row_groups_skipped
                .fetch_add(blk.groups.len() as u64, Relaxed);
            Ok(true)
        };
        if m.max_ts_ms < r.start_ms || m.min_ts_ms >= r.end_ms {
            return skip();
        }
        let wanted: Option<Vec<u32>> = (!r.names.is_empty()).then(|| {
            (0..m.names.len() as u32)
                .filter(|&c| r.names.contains(&m.names[c as usize]))
                .collect()
        });
        if wanted.as_ref().is_some_and(|w| w.is_empty()) {
            return skip();
        }
        if let Some(p) = plan.person {
            if blk.person_code(p).is_none() {
                return skip();
            }
        }
        // The batch's vectors are reused from block to block: fresh
        // allocations of this size cost a page fault per 4 KiB.
        b.names.clone_from(&m.names);
        let mut persons_loaded = false;
        for (g, rg) in blk.groups.iter().enumerate() {
            if rg.max_ts < r.start_ms
                || rg.min_ts >= r.end_ms
                || wanted
                    .as_ref()
                    .is_some_and(|w| !w.iter().any(|x| rg.names.binary_search(x).is_ok()))
            {
                c.row_groups_skipped.fetch_add(1, Relaxed);
                continue;
            }
            c.row_groups_read.fetch_add(1, Relaxed);
            if !persons_loaded {
                blk.persons_into(&mut b.persons);
                persons_loaded = true;
            }
            b.timestamp_ms.clear();
            b.name.clear();
            b.person.clear();
            b.props.clear();
            blk.need(g, "ts", buf)?;
            codec::get_times(buf, rg.rows, &mut b.timestamp_ms, "ts column")?;
            blk.need(g, "name", buf)?;
            codec::get_codes(buf, rg.rows, &mut b.name, "name column")?;
            blk.need(g, "person", buf)?;
            codec::get_codes(buf, rg.rows, &mut b.person, "person column")?;
            if b.name.iter().any(|&x| x as usize >= b.names.len())
                || b.person.iter().any(|&x| x as usize >= b.persons.len())
            {
                return Err(Error::corrupt(
                    blk.dir.display().to_string(),
                    0,
                    "code past its dictionary",
                ));
            }
            let mut docs: Option<Vec<Event>> = None;
            for key in &plan.keys {
                let col = format!("{PROP_PREFIX}{key}");
                let pc = match blk.prop(g, &col, buf)? {
                    Some((dict, codes, _)) => PropColumn {
                        key: (*key).to_owned(),
                        dict,
                        codes,
                    },
                    None if rg.keys_complete => PropColumn {
                        key: (*key).to_owned(),
                        dict: Vec::new(),
                        codes: vec![0; rg.rows],
                    },
                    None => {
                        // More keys than the block keeps as columns: read
                        // this one from the documents.
                        if docs.is_none() {
                            docs = Some(blk.read_events(g)?);
                        }
                        let evs: Vec<&Event> = docs.iter().flatten().collect();
                        let one = Plan {
                            req: plan.req,
                            keys: vec![key],
                            person: None,
                        };
                        batch_of(&evs, &one).props.remove(0)
                    }
                };
                b.props.push(pc);
            }
            plan.finish(b);
            if b.is_empty() {
                continue;
            }
            c.events_scanned.fetch_add(b.len() as u64, Relaxed);
            if f(b).is_break() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl EventScan for EventStore {
    fn scan(
        &self,
        req: &ScanRequest,
        f: &mut dyn FnMut(&EventBatch) -> ControlFlow<()>,
    ) -> Result<()> {
        let plan = Plan::new(req)?;
        let (head, blocks) = self.snapshot();
        let mut batch = EventBatch::default();
        let mut buf = Vec::new();
        for blk in &blocks {
            if !self.scan_block(blk, &plan, &mut batch, &mut buf, f)? {
                return Ok(());
            }
        }
        for (_, runs) in head {
            let evs = sorted(&runs);
            if evs.is_empty() {
                continue;
            }
            let (lo, hi) = (evs[0].timestamp_ms, evs[evs.len() - 1].timestamp_ms);
            if hi < req.start_ms || lo >= req.end_ms {
                continue;
            }
            let mut b = batch_of(&evs, &plan);
            plan.finish(&mut b);
            if b.is_empty() {
                continue;
            }
            self.inner
                .counters
                .events_scanned
                .fetch_add(b.len() as u64, Relaxed);
            if f(&b).is_break() {
                return Ok(());
            }
        }
        Ok(())
    }
}
