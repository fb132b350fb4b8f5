//! Writing a block: traces arrive in trace id order (from the sorted head
//! or from a merge of sorted blocks), fill column groups that are
//! compressed and written as they fill, and the dictionary, tag table,
//! index and meta follow at the end. Memory is one group plus the
//! dictionary, whatever the block's size.

use crate::block::{
    encode_dict, encode_tags, scope_slot, BlockMeta, Bloom, GroupEntry, TagValues, Tags,
    DATA_MAGIC, INDEX_MAGIC, MAX_TAG_VALUES,
};
use crate::codec;
use crate::group::{GroupBuilder, Numbering};
use crate::{Error, Result};
use sightline_core::traces::{AnyValue, Attributes, Resource, Scope, Span, TagScope, TraceId};
use sightline_storage::dir::PendingDir;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Default)]
struct Numbers {
    strings: HashMap<String, u32>,
    string_list: Vec<String>,
    res_ptr: HashMap<*const Resource, u32>,
    res: HashMap<Vec<u8>, u32>,
    res_list: Vec<Vec<u8>>,
    new_res: Vec<Arc<Resource>>,
    scope_ptr: HashMap<*const Scope, u32>,
    scopes: HashMap<Vec<u8>, u32>,
    scope_list: Vec<Vec<u8>>,
    new_scopes: Vec<Arc<Scope>>,
    /// The `Arc`s numbered, so their pointers stay unique while numbered.
    keep_res: Vec<Arc<Resource>>,
    keep_scopes: Vec<Arc<Scope>>,
}

impl Numbering for Numbers {
    fn string(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.strings.get(s) {
            return i;
        }
        let i = self.string_list.len() as u32;
        self.string_list.push(s.to_owned());
        self.strings.insert(s.to_owned(), i);
        i
    }

    fn resource(&mut self, r: &Arc<Resource>) -> u32 {
        if let Some(&i) = self.res_ptr.get(&Arc::as_ptr(r)) {
            return i;
        }
        let mut b = Vec::new();
        codec::put_resource(&mut b, r);
        let i = match self.res.get(&b) {
            Some(&i) => i,
            None => {
                let i = self.res_list.len() as u32;
                self.res.insert(b.clone(), i);
                self.res_list.push(b);
                self.new_res.push(r.clone());
                i
            }
        };
        self.res_ptr.insert(Arc::as_ptr(r), i);
        self.keep_res.push(r.clone());
        i
    }

    fn scope(&mut self, s: &Arc<Scope>) -> u32 {
        if let Some(&i) = self.scope_ptr.get(&Arc::as_ptr(s)) {
            return i;
        }
        let mut b = Vec::new();
        codec::put_scope(&mut b, s);
        let i = match self.scopes.get(&b) {
            Some(&i) => i,
            None => {
                let i = self.scope_list.len() as u32;
                self.scopes.insert(b.clone(), i);
                self.scope_list.push(b);
                self.new_scopes.push(s.clone());
                i
            }
        };
        self.scope_ptr.insert(Arc::as_ptr(s), i);
        self.keep_scopes.push(s.clone());
        i
    }
}

/// Distinct values per key, for the tag table.
#[derive(Default)]
struct TagSet {
    seen: HashSet<Vec<u8>>,
    vals: TagValues,
}

/// Writes one block.
pub(crate) struct BlockWriter {
    dir: PendingDir,
    data: std::io::BufWriter<std::fs::File>,
    data_path: PathBuf,
    offset: u64,
    level: i32,
    group_spans: usize,
    n: Numbers,
    cur: GroupBuilder,
    cur_first: u32,
    ids: Vec<[u8; 16]>,
    groups: Vec<GroupEntry>,
    tags: [HashMap<String, TagSet>; 5],
    services: BTreeSet<String>,
    operations: BTreeSet<(String, String, u8)>,
    statuses: BTreeSet<u8>,
    meta: BlockMeta,
    last_id: Option<TraceId>,
    scratch: Vec<u8>,
}

impl BlockWriter {
    pub fn create(root: &Path, tenant: &str, level: i32, group_spans: usize) -> Result<Self> {
        let dir = PendingDir::create(root, &sightline_storage::layout::new_dir_id(), &[])?;
        let data_path = dir.path().join("data");
        let f =
            std::fs::File::create(&data_path).map_err(|e| Error::io("create", &data_path, e))?;
        let mut data = std::io::BufWriter::with_capacity(1 << 20, f);
        data.write_all(DATA_MAGIC)
            .map_err(|e| Error::io("write", &data_path, e))?;
        Ok(BlockWriter {
            dir,
            data,
            data_path,
            offset: DATA_MAGIC.len() as u64,
            level,
            group_spans,
            n: Numbers::default(),
            cur: GroupBuilder::new(),
            cur_first: 0,
            ids: Vec::new(),
            groups: Vec::new(),
            tags: Default::default(),
            services: BTreeSet::new(),
            operations: BTreeSet::new(),
            statuses: BTreeSet::new(),
            meta: BlockMeta {
                version: 1,
                tenant: tenant.to_owned(),
                min_ns: i64::MAX,
                max_ns: i64::MIN,
                min_duration_ns: i64::MAX,
                max_duration_ns: i64::MIN,
                ..Default::default()
            },
            last_id: None,
            scratch: Vec::new(),
        })
    }

    fn note_tags(&mut self, slot: usize, attrs: &Attributes) {
        for (k, v) in attrs {
            let e = match self.tags[slot].get_mut(k.as_str()) {
                Some(e) => e,
                None => self.tags[slot].entry(k.clone()).or_default(),
            };
            // TraceQL's `=` holds for an array holding the value (so does
            // `SpanPredicate::AttrEquals`): a key with an array value must
            // never let its block be skipped on a value, and the table
            // lists scalars only, so it is marked incomplete.
            if matches!(v, AnyValue::Array(_)) {
                e.vals.truncated = true;
            }
            if e.vals.truncated || matches!(v, AnyValue::Map(_)) {
                continue;
            }
            self.scratch.clear();
            codec::put_value(&mut self.scratch, v);
            if e.seen.contains(&self.scratch) {
                continue;
            }
            if e.vals.values.len() >= MAX_TAG_VALUES {
                e.vals.truncated = true;
                e.seen = HashSet::new();
                continue;
            }
            e.seen.insert(self.scratch.clone());
            e.vals.values.push(v.clone());
        }
    }

    /// Adds one trace; ids must come in increasing order, each once.
    pub fn add_trace(&mut self, id: TraceId, mut spans: Vec<Span>) -> Result<()> {
        if spans.is_empty() {
            return Ok(());
        }
        if self.last_id.is_some_and(|l| l >= id) {
            return Err(Error::corrupt("block writer", 0, "trace ids out of order"));
        }
        self.last_id = Some(id);
        spans.sort_by(|a, b| a.start_ns.cmp(&b.start_ns).then(a.span_id.cmp(&b.span_id)));
        self.cur.add_trace(&spans, &mut self.n);
        for r in std::mem::take(&mut self.n.new_res) {
            self.note_tags(scope_slot(TagScope::Resource).expect("slot"), &r.attributes);
        }
        for s in std::mem::take(&mut self.n.new_scopes) {
            self.note_tags(
                scope_slot(TagScope::Instrumentation).expect("slot"),
                &s.attributes,
            );
        }
        for s in &spans {
            let d = s.duration_ns();
            self.meta.min_duration_ns = self.meta.min_duration_ns.min(d);
            self.meta.max_duration_ns = self.meta.max_duration_ns.max(d);
            let svc = s.service_name();
            if !self.services.contains(svc) {
                self.services.insert(svc.to_owned());
            }
            let op = (svc.to_owned(), s.name.clone(), s.kind as u8);
            if !self.operations.contains(&op) {
                self.operations.insert(op);
            }
            self.statuses.insert(s.status_code as u8);
            self.note_tags(0, &s.attributes);
            for e in &s.events {
                self.note_tags(2, &e.attributes);
            }
            for l in &s.links {
                self.note_tags(3, &l.attributes);
            }
            self.meta.spans += 1;
        }
        self.ids.push(id.0);
        if self.cur.spans as usize >= self.group_spans {
            self.cut_group()?;
        }
        Ok(())
    }

    fn write(&mut self, b: &[u8]) -> Result<(u64, u32, u32)> {
        let off = self.offset;
        self.data
            .write_all(b)
            .map_err(|e| Error::io("write", &self.data_path, e))?;
        self.offset += b.len() as u64;
        Ok((off, b.len() as u32, crc32fast::hash(b)))
    }

    fn cut_group(&mut self) -> Result<()> {
        if self.cur.traces == 0 {
            return Ok(());
        }
        let g = std::mem::replace(&mut self.cur, GroupBuilder::new());
        let bytes = g.finish(self.level)?;
        let (offset, len, crc) = self.write(&bytes)?;
        self.meta.min_ns = self.meta.min_ns.min(g.min_ns);
        self.meta.max_ns = self.meta.max_ns.max(g.max_ns);
        self.groups.push(GroupEntry {
            first_trace: self.cur_first,
            traces: g.traces,
            spans: g.spans,
            offset,
            len,
            crc,
            min_ns: g.min_ns,
            max_ns: g.max_ns,
        });
        self.cur_first += g.traces;
        Ok(())
    }

    /// Writes the rest and commits the directory; `None` when no trace was
    /// added (nothing is left on disk).
    pub fn finish(
        mut self,
        wal_upto: u32,
        compacted_from: Vec<String>,
        merge_level: u32,
    ) -> Result<Option<PathBuf>> {
        self.cut_group()?;
        if self.ids.is_empty() {
            return Ok(None);
        }
        let z = |b: Vec<u8>, level| {
            zstd::bulk::compress(&b, level).map_err(|e| Error::corrupt("zstd", 0, e.to_string()))
        };
        let dict = z(
            encode_dict(&self.n.string_list, &self.n.res_list, &self.n.scope_list),
            self.level,
        )?;
        let (doff, dlen, dcrc) = self.write(&dict)?;
        let mut tags: Tags = Default::default();
        for (i, m) in std::mem::take(&mut self.tags).into_iter().enumerate() {
            tags[i] = m.into_iter().map(|(k, v)| (k, v.vals)).collect();
        }
        let tb = z(encode_tags(&tags), self.level)?;
        let (toff, tlen, tcrc) = self.write(&tb)?;
        let f = self
            .data
            .into_inner()
            .map_err(|e| Error::io("write", &self.data_path, e.into_error()))?;
        f.sync_all()
            .map_err(|e| Error::io("fsync", &self.data_path, e))?;

        let mut ix = Vec::with_capacity(12 + self.ids.len() * 20 + self.groups.len() * 44);
        ix.extend_from_slice(INDEX_MAGIC);
        ix.extend_from_slice(&(self.ids.len() as u32).to_le_bytes());
        ix.extend_from_slice(&(self.groups.len() as u32).to_le_bytes());
        let mut bloom = Bloom::new(self.ids.len());
        for id in &self.ids {
            ix.extend_from_slice(id);
            bloom.insert(id);
        }
        for g in &self.groups {
            ix.extend_from_slice(&g.first_trace.to_le_bytes());
            ix.extend_from_slice(&g.traces.to_le_bytes());
            ix.extend_from_slice(&g.spans.to_le_bytes());
            ix.extend_from_slice(&g.offset.to_le_bytes());
            ix.extend_from_slice(&g.len.to_le_bytes());
            ix.extend_from_slice(&g.crc.to_le_bytes());
            ix.extend_from_slice(&g.min_ns.to_le_bytes());
            ix.extend_from_slice(&g.max_ns.to_le_bytes());
        }
        for (o, l, c) in [(doff, dlen, dcrc), (toff, tlen, tcrc)] {
            ix.extend_from_slice(&o.to_le_bytes());
            ix.extend_from_slice(&l.to_le_bytes());
            ix.extend_from_slice(&c.to_le_bytes());
        }
        ix.extend_from_slice(&bloom.k.to_le_bytes());
        ix.extend_from_slice(&(bloom.words.len() as u32).to_le_bytes());
        for w in &bloom.words {
            ix.extend_from_slice(&w.to_le_bytes());
        }
        let crc = crc32fast::hash(&ix);
        ix.extend_from_slice(&crc.to_le_bytes());
        self.dir.write_file("index", &ix)?;

        let mut meta = self.meta;
        meta.traces = self.ids.len() as u64;
        meta.groups = self.groups.len() as u64;
        meta.services = self.services.into_iter().collect();
        meta.operations = self.operations.into_iter().collect();
        meta.statuses = self.statuses.into_iter().collect();
        meta.wal_upto = wal_upto;
        meta.compacted_from = compacted_from;
        meta.level = merge_level;
        let mj = serde_json::to_vec_pretty(&meta)
            .map_err(|e| Error::corrupt("meta", 0, e.to_string()))?;
        Ok(Some(self.dir.commit(Some(("meta.json", &mj)))?))
    }
}
