//! Blocks: immutable directories of one tenant's spans, grouped by trace
//! and sorted by trace id ([`crate::write`] makes them):
//!
//! - `data`: column groups ([`crate::group`]) one after another, then the
//!   dictionary (strings, resources, scopes) and the tag table (attribute
//!   keys per scope with their distinct values), each zstd-compressed;
//! - `index`: the sorted trace ids, the group table (first trace, offset,
//!   length, CRC, time bounds), where the dictionary and tag table are, and
//!   a bloom filter over the trace ids, with a CRC over all of it;
//! - `meta.json`, written last: time bounds, counts, services and
//!   operations, duration bounds, the WAL segment it covers.
//!
//! `docs/format/tracestore.md` describes the bytes.

use crate::codec::{self, Dec};
use crate::group::{self, Dict};
use crate::prefilter::Prefilter;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sightline_core::traces::{AnyValue, Span, SpanPredicate, TagScope, TraceHints, TraceId};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_64;

pub(crate) const INDEX_MAGIC: &[u8; 4] = b"TSI1";
pub(crate) const DATA_MAGIC: &[u8; 4] = b"TSD1";
pub(crate) const GROUP_ENTRY: usize = 44;
/// Distinct values kept per attribute key in a block's tag table; a key
/// with more is marked truncated (and never lets a block be skipped).
pub(crate) const MAX_TAG_VALUES: usize = 1000;

/// The tag table's scopes, in their stored order.
pub(crate) const SCOPES: [TagScope; 5] = [
    TagScope::Span,
    TagScope::Resource,
    TagScope::Event,
    TagScope::Link,
    TagScope::Instrumentation,
];

pub(crate) fn scope_slot(s: TagScope) -> Option<usize> {
    SCOPES.iter().position(|x| *x == s)
}

/// The tag-table slots a scope reads: its own, or span and resource for
/// [`TagScope::Any`].
pub(crate) fn slots(scope: TagScope) -> Vec<usize> {
    match scope {
        TagScope::Any => vec![0, 1],
        s => scope_slot(s).into_iter().collect(),
    }
}

/// `meta.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BlockMeta {
    pub version: u32,
    pub tenant: String,
    pub min_ns: i64,
    pub max_ns: i64,
    pub traces: u64,
    pub spans: u64,
    pub groups: u64,
    pub min_duration_ns: i64,
    pub max_duration_ns: i64,
    pub services: Vec<String>,
    /// `(service, span name, kind number)`, sorted.
    pub operations: Vec<(String, String, u8)>,
    /// Status code numbers of the spans, sorted.
    #[serde(default)]
    pub statuses: Vec<u8>,
    /// WAL segments up to this one are in blocks (0: none).
    pub wal_upto: u32,
    /// Blocks merged into this one.
    #[serde(default)]
    pub compacted_from: Vec<String>,
    /// 0 for a block cut from the head, 1 + the highest source's for a merge.
    pub level: u32,
}

/// A bloom filter over trace ids: `k` bit positions from two hashes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bloom {
    pub k: u32,
    pub words: Vec<u64>,
}

impl Bloom {
    /// About 1% false positives: 10 bits and 7 probes per id.
    pub fn new(n: usize) -> Bloom {
        Bloom {
            k: 7,
            words: vec![0; (n * 10).div_ceil(64).max(1)],
        }
    }

    fn probes(&self, id: &[u8; 16]) -> impl Iterator<Item = usize> + '_ {
        let h = xxh3_64(id);
        let (h1, h2) = (h as u32 as u64, (h >> 32) | 1);
        let bits = self.words.len() as u64 * 64;
        (0..self.k as u64).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2)) % bits) as usize)
    }

    pub fn insert(&mut self, id: &[u8; 16]) {
        let p: Vec<usize> = self.probes(id).collect();
        for b in p {
            self.words[b / 64] |= 1 << (b % 64);
        }
    }

    pub fn may_contain(&self, id: &[u8; 16]) -> bool {
        self.probes(id)
            .all(|b| self.words[b / 64] & (1 << (b % 64)) != 0)
    }
}

/// One entry of the group table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GroupEntry {
    pub first_trace: u32,
    pub traces: u32,
    pub spans: u32,
    pub offset: u64,
    pub len: u32,
    pub crc: u32,
    pub min_ns: i64,
    pub max_ns: i64,
}

/// Values of one attribute key in a block.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TagValues {
    pub values: Vec<AnyValue>,
    pub truncated: bool,
}

/// Keys and values per scope ([`SCOPES`] order).
pub(crate) type Tags = [BTreeMap<String, TagValues>; 5];

pub(crate) fn encode_tags(tags: &Tags) -> Vec<u8> {
    let mut out = Vec::new();
    for m in tags {
        codec::put_uvarint(&mut out, m.len() as u64);
        for (k, v) in m {
            codec::put_bytes(&mut out, k.as_bytes());
            out.push(v.truncated as u8);
            codec::put_uvarint(&mut out, v.values.len() as u64);
            for x in &v.values {
                codec::put_value(&mut out, x);
            }
        }
    }
    out
}

fn decode_tags(raw: &[u8]) -> Result<Tags> {
    let mut d = Dec::new(raw, "tag table");
    let mut tags: Tags = Default::default();
    for m in tags.iter_mut() {
        for _ in 0..d.usize()? {
            let k = d.string()?;
            let truncated = d.u8()? != 0;
            let n = d.usize()?;
            let mut values = Vec::with_capacity(n.min(MAX_TAG_VALUES));
            for _ in 0..n {
                values.push(codec::value(&mut d)?);
            }
            m.insert(k, TagValues { values, truncated });
        }
    }
    Ok(tags)
}

pub(crate) fn encode_dict(
    strings: &[String],
    resources: &[Vec<u8>],
    scopes: &[Vec<u8>],
) -> Vec<u8> {
    let mut out = Vec::new();
    codec::put_uvarint(&mut out, strings.len() as u64);
    for s in strings {
        codec::put_bytes(&mut out, s.as_bytes());
    }
    for t in [resources, scopes] {
        codec::put_uvarint(&mut out, t.len() as u64);
        for r in t {
            codec::put_bytes(&mut out, r);
        }
    }
    out
}

fn decode_dict(raw: &[u8]) -> Result<Dict> {
    let mut d = Dec::new(raw, "dictionary");
    let n = d.usize()?;
    let mut strings = Vec::with_capacity(n.min(codec::CAP));
    for _ in 0..n {
        strings.push(d.string()?);
    }
    let n = d.usize()?;
    let mut resources = Vec::with_capacity(n.min(codec::CAP));
    for _ in 0..n {
        let b = d.bytes()?;
        resources.push(std::sync::Arc::new(codec::resource(&mut Dec::new(
            b, "resource",
        ))?));
    }
    let n = d.usize()?;
    let mut scopes = Vec::with_capacity(n.min(codec::CAP));
    for _ in 0..n {
        let b = d.bytes()?;
        scopes.push(std::sync::Arc::new(codec::scope(&mut Dec::new(
            b, "scope",
        ))?));
    }
    Ok(Dict {
        strings,
        resources,
        scopes,
    })
}

/// An open block: meta, index, bloom filter, dictionary and tag table in
/// memory; column groups read from `data` when wanted.
pub struct Block {
    pub dir: PathBuf,
    pub meta: BlockMeta,
    pub size_bytes: u64,
    pub(crate) ids: Vec<[u8; 16]>,
    pub(crate) groups: Vec<GroupEntry>,
    pub(crate) bloom: Bloom,
    pub(crate) dict: Dict,
    pub(crate) tags: Tags,
    data: File,
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Block")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn read_at(f: &File, path: &Path, off: u64, len: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    f.read_exact_at(&mut buf, off)
        .map_err(|e| Error::io("read", path, e))?;
    Ok(buf)
}

fn section(f: &File, path: &Path, off: u64, len: u32, crc: u32, what: &str) -> Result<Vec<u8>> {
    let raw = read_at(f, path, off, len as usize)?;
    if crc32fast::hash(&raw) != crc {
        return Err(Error::corrupt(
            format!("{what} in {}", path.display()),
            off,
            "checksum mismatch",
        ));
    }
    zstd::stream::decode_all(&raw[..])
        .map_err(|e| Error::corrupt(format!("{what} in {}", path.display()), off, e.to_string()))
}

impl Block {
    /// Opens the block in `dir`, checking the index's and the dictionary's
    /// checksums (a group's is checked when it is read).
    pub fn open(dir: &Path) -> Result<Block> {
        let mp = dir.join("meta.json");
        let mb = std::fs::read(&mp).map_err(|e| Error::io("read", &mp, e))?;
        let meta: BlockMeta = serde_json::from_slice(&mb).map_err(|e| {
            Error::corrupt(mp.display().to_string(), e.column() as u64, e.to_string())
        })?;
        let ip = dir.join("index");
        let ib = std::fs::read(&ip).map_err(|e| Error::io("read", &ip, e))?;
        let bad = |off: usize, why: &str| Error::corrupt(ip.display().to_string(), off as u64, why);
        if ib.len() < 12 || &ib[..4] != INDEX_MAGIC {
            return Err(bad(0, "not a trace index"));
        }
        let (body, tail) = ib.split_at(ib.len() - 4);
        if crc32fast::hash(body) != u32::from_le_bytes(tail.try_into().expect("4")) {
            return Err(bad(body.len(), "checksum mismatch"));
        }
        let u32_at = |o: usize| u32::from_le_bytes(body[o..o + 4].try_into().expect("4"));
        let u64_at = |o: usize| u64::from_le_bytes(body[o..o + 8].try_into().expect("8"));
        let nt = u32_at(4) as usize;
        let ng = u32_at(8) as usize;
        let mut pos = 12;
        let fixed = nt * 16 + ng * GROUP_ENTRY + 32 + 8;
        if body.len() < pos + fixed {
            return Err(bad(pos, "shorter than its counts say"));
        }
        let ids: Vec<[u8; 16]> = body[pos..pos + nt * 16]
            .chunks_exact(16)
            .map(|c| c.try_into().expect("16"))
            .collect();
        pos += nt * 16;
        let mut groups = Vec::with_capacity(ng);
        for _ in 0..ng {
            groups.push(GroupEntry {
                first_trace: u32_at(pos),
                traces: u32_at(pos + 4),
                spans: u32_at(pos + 8),
                offset: u64_at(pos + 12),
                len: u32_at(pos + 20),
                crc: u32_at(pos + 24),
                min_ns: u64_at(pos + 28) as i64,
                max_ns: u64_at(pos + 36) as i64,
            });
            pos += GROUP_ENTRY;
        }
        let (dict_off, dict_len, dict_crc) = (u64_at(pos), u32_at(pos + 8), u32_at(pos + 12));
        let (tags_off, tags_len, tags_crc) = (u64_at(pos + 16), u32_at(pos + 24), u32_at(pos + 28));
        pos += 32;
        let k = u32_at(pos);
        let nw = u32_at(pos + 4) as usize;
        pos += 8;
        if body.len() != pos + nw * 8 || k == 0 || nw == 0 {
            return Err(bad(pos, "bloom filter size does not match"));
        }
        let words = body[pos..]
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8")))
            .collect();
        let mut expect = 0u32;
        for g in &groups {
            if g.first_trace != expect {
                return Err(bad(
                    12 + nt * 16,
                    "group table does not cover the traces in order",
                ));
            }
            expect += g.traces;
        }
        if expect as usize != nt || nt as u64 != meta.traces {
            return Err(bad(4, "trace counts of index, groups and meta differ"));
        }
        let dp = dir.join("data");
        let data = File::open(&dp).map_err(|e| Error::io("open", &dp, e))?;
        let dict = decode_dict(&section(
            &data,
            &dp,
            dict_off,
            dict_len,
            dict_crc,
            "dictionary",
        )?)?;
        let tags = decode_tags(&section(
            &data,
            &dp,
            tags_off,
            tags_len,
            tags_crc,
            "tag table",
        )?)?;
        Ok(Block {
            dir: dir.to_path_buf(),
            size_bytes: sightline_storage::dir::dir_size(dir),
            meta,
            ids,
            groups,
            bloom: Bloom { k, words },
            dict,
            tags,
            data,
        })
    }

    /// The block's directory name.
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn overlaps(&self, start: i64, end: i64) -> bool {
        self.meta.min_ns <= end && self.meta.max_ns >= start
    }

    /// Whether the block may hold a trace with `id` (bloom filter only).
    pub(crate) fn may_contain(&self, id: &TraceId) -> bool {
        self.bloom.may_contain(&id.0)
    }

    /// The decompressed bytes of group `g`, checked.
    pub(crate) fn group_bytes(&self, g: usize) -> Result<Vec<u8>> {
        let e = &self.groups[g];
        section(
            &self.data,
            &self.dir.join("data"),
            e.offset,
            e.len,
            e.crc,
            "column group",
        )
    }

    /// The spans of trace `id` in this block (empty when absent).
    pub(crate) fn find(&self, id: &TraceId) -> Result<Vec<Span>> {
        let Ok(i) = self.ids.binary_search(&id.0) else {
            return Ok(Vec::new());
        };
        let g = self.groups.partition_point(|e| e.first_trace as usize <= i) - 1;
        let e = self.groups[g];
        let raw = self.group_bytes(g)?;
        let ids = &self.ids[e.first_trace as usize..(e.first_trace + e.traces) as usize];
        let want = i - e.first_trace as usize;
        let mut out = group::decode(&raw, ids, &self.dict, &mut |k| k == want)?;
        Ok(out.pop().unwrap_or_default())
    }

    /// Calls `f` with each trace of the groups overlapping the hints'
    /// range that the hints may admit, judged on the columns before the
    /// trace is built ([`Prefilter`]); a trace for which `elsewhere(id)`
    /// holds (it may have parts in other blocks) is built regardless.
    ///
    /// Past the first group, groups are decoded on two threads, a few at a
    /// time (one, then two, then four): a search stopping early pays for
    /// little it does not use, and one reading the whole block uses both
    /// cores. Traces still reach `f` in group order.
    pub(crate) fn for_each_trace(
        &self,
        hints: &TraceHints,
        elsewhere: &(dyn Fn(&TraceId) -> bool + Sync),
        f: &mut dyn FnMut(Vec<Span>) -> bool,
    ) -> Result<bool> {
        let (start, end) = (hints.start_ns, hints.end_ns);
        let prefilter = Prefilter::new(hints, &self.dict);
        let wanted: Vec<usize> = (0..self.groups.len())
            .filter(|&g| self.groups[g].min_ns <= end && self.groups[g].max_ns >= start)
            .collect();
        let decode = |g: usize| -> Result<Vec<Vec<Span>>> {
            let e = self.groups[g];
            let raw = self.group_bytes(g)?;
            let ids = &self.ids[e.first_trace as usize..(e.first_trace + e.traces) as usize];
            let mut other = |i: usize| elsewhere(&TraceId(ids[i]));
            let filter = prefilter
                .as_ref()
                .map(|p| (p, &mut other as &mut dyn FnMut(usize) -> bool));
            group::decode_filtered(&raw, ids, &self.dict, &mut |_| true, filter)
        };
        let (mut i, mut batch) = (0, 1);
        while i < wanted.len() {
            let n = batch.min(wanted.len() - i);
            let part = &wanted[i..i + n];
            let decoded: Vec<Result<Vec<Vec<Span>>>> = if n == 1 {
                vec![decode(part[0])]
            } else {
                let (mine, theirs) = part.split_at(n / 2);
                std::thread::scope(|s| {
                    let other = s.spawn(|| theirs.iter().map(|&g| decode(g)).collect::<Vec<_>>());
                    let mut out: Vec<_> = mine.iter().map(|&g| decode(g)).collect();
                    match other.join() {
                        Ok(rest) => out.extend(rest),
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                    out
                })
            };
            for traces in decoded {
                for t in traces? {
                    if !f(t) {
                        return Ok(false);
                    }
                }
            }
            i += n;
            batch = (batch * 2).min(4);
        }
        Ok(true)
    }

    /// Whether some trace of this block may satisfy `p`, judged from the
    /// meta and the tag table alone.
    pub(crate) fn may_satisfy(&self, p: &SpanPredicate) -> bool {
        let tag = |scope: TagScope, key: &str, value: Option<&str>| {
            slots(scope)
                .into_iter()
                .any(|i| match self.tags[i].get(key) {
                    None => false,
                    Some(v) => match value {
                        None => true,
                        Some(want) => {
                            v.truncated || v.values.iter().any(|x| x.as_str() == Some(want))
                        }
                    },
                })
        };
        match p {
            SpanPredicate::ServiceName(s) => self.meta.services.iter().any(|x| x == s),
            SpanPredicate::SpanName(n) => self.meta.operations.iter().any(|o| &o.1 == n),
            SpanPredicate::AttrEquals { scope, key, value } => tag(*scope, key, Some(value)),
            SpanPredicate::AttrExists { scope, key } => tag(*scope, key, None),
            SpanPredicate::MinDuration(ns) => self.meta.max_duration_ns >= *ns,
            SpanPredicate::MaxDuration(ns) => self.meta.min_duration_ns <= *ns,
            SpanPredicate::Kind(k) => self.meta.operations.iter().any(|o| o.2 == *k as u8),
            SpanPredicate::Status(c) => self.meta.statuses.contains(&(*c as u8)),
        }
    }

    /// Whether the block may hold a trace the hints admit.
    pub(crate) fn may_match(&self, hints: &TraceHints) -> bool {
        self.overlaps(hints.start_ns, hints.end_ns)
            && hints.required.iter().all(|p| self.may_satisfy(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bloom_filter_finds_every_id_and_few_others() {
        let ids: Vec<[u8; 16]> = (0..10_000u64)
            .map(|i| TraceId::from_halves(i * 7919, i).0)
            .collect();
        let mut b = Bloom::new(ids.len());
        for id in &ids {
            b.insert(id);
        }
        assert!(ids.iter().all(|id| b.may_contain(id)));
        let false_hits = (0..10_000u64)
            .filter(|i| b.may_contain(&TraceId::from_halves(1, i + 1_000_000).0))
            .count();
        // 10 bits and 7 probes an id: about 1%.
        assert!(false_hits < 200, "{false_hits} false positives in 10000");
    }
}
