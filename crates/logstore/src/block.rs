//! Blocks: immutable directories holding flushed chunks, the streams' label
//! sets and a label postings index, written with
//! [`sightline_storage::dir::PendingDir`] (meta file last).
//!
//! ```text
//! <ULID>/chunks      chunk records back to back
//! <ULID>/index       streams per tenant with their chunk refs, then postings
//! <ULID>/meta.json   bounds and counts; written last
//! ```
//!
//! `docs/format/logstore.md` describes the bytes. A block is read with its
//! index parsed into memory (it is small: labels and chunk refs) and its
//! chunks file mapped, so a select touches only the pages of the chunks it
//! decompresses and of the filters it checks.

use crate::chunk::{Chunk, ChunkMeta};
use crate::codec::{put_str, put_uvarint, put_varint, Reader};
use crate::filter;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sightline_core::{matches_all, Labels, MatchOp, Matcher};
use sightline_storage::dir::PendingDir;
use sightline_storage::mmap::ReadOnlyMap;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// First bytes of an index file.
const INDEX_MAGIC: &[u8; 8] = b"SLLOGIX1";
/// Name of the meta file.
pub(crate) const META_FILE: &str = "meta.json";

/// `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockMeta {
    /// Format version (1).
    pub version: u32,
    /// Oldest and newest line, ns.
    pub min_ts_ns: i64,
    pub max_ts_ns: i64,
    pub streams: u64,
    pub chunks: u64,
    pub entries: u64,
    /// Bytes of line text.
    pub raw_bytes: u64,
    /// Exact lengths of the two data files, checked at open.
    pub chunks_file_bytes: u64,
    pub index_file_bytes: u64,
    /// The last WAL segment whose lines this block holds: at open, segments
    /// up to it are known to be durable here (a crash between writing the
    /// block and checkpointing the WAL must not replay them twice).
    #[serde(default)]
    pub wal_upto: u32,
    /// The blocks a compaction merged into this one: if any is still on
    /// disk at open (a crash before their removal), it is removed then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compacted_from: Vec<String>,
}

/// Where a chunk sits in the chunks file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkRef {
    pub offset: u64,
    pub len: u64,
    pub meta: ChunkMeta,
}

pub(crate) struct BlockStream {
    pub labels: Labels,
    pub chunks: Vec<ChunkRef>,
    pub min_ts: i64,
    pub max_ts: i64,
}

#[derive(Default)]
pub(crate) struct BlockTenant {
    pub streams: Vec<BlockStream>,
    /// name -> value -> stream ordinals, ascending.
    pub postings: HashMap<String, HashMap<String, Vec<u32>>>,
}

/// An open block.
pub(crate) struct Block {
    pub dir: PathBuf,
    pub meta: BlockMeta,
    pub size_bytes: u64,
    chunks: ReadOnlyMap,
    pub tenants: HashMap<String, BlockTenant>,
}

/// What a flush hands to [`write`]: per tenant and stream, its chunks.
pub(crate) type FlushSet = BTreeMap<String, Vec<(Labels, Vec<Arc<Chunk>>)>>;

/// Writes `set` as a new block under `parent`; returns its directory.
pub(crate) fn write(
    parent: &Path,
    set: &FlushSet,
    wal_upto: u32,
    compacted_from: Vec<String>,
) -> Result<PathBuf> {
    let name = sightline_storage::layout::new_dir_id();
    let pending = PendingDir::create(parent, &name, &[])?;
    // Chunks go to the file as they are laid out, not into one buffer the
    // size of the block first: a flush or a compaction held every chunk
    // twice (issue 15: RSS peaks while merging).
    let chunks_path = pending.path().join("chunks");
    let file =
        std::fs::File::create(&chunks_path).map_err(|e| Error::io("create", &chunks_path, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    let mut rec: Vec<u8> = Vec::new();
    let mut index = INDEX_MAGIC.to_vec();
    let mut meta = BlockMeta {
        version: 1,
        min_ts_ns: i64::MAX,
        max_ts_ns: i64::MIN,
        streams: 0,
        chunks: 0,
        entries: 0,
        raw_bytes: 0,
        chunks_file_bytes: 0,
        index_file_bytes: 0,
        wal_upto,
        compacted_from,
    };
    put_uvarint(&mut index, set.len() as u64);
    for (tenant, streams) in set {
        let mut streams: Vec<&(Labels, Vec<Arc<Chunk>>)> = streams.iter().collect();
        streams.sort_by(|a, b| a.0.cmp(&b.0));
        put_str(&mut index, tenant);
        put_uvarint(&mut index, streams.len() as u64);
        let mut postings: BTreeMap<(&str, &str), Vec<u32>> = BTreeMap::new();
        for (ord, (labels, cs)) in streams.iter().enumerate() {
            meta.streams += 1;
            put_uvarint(&mut index, labels.len() as u64);
            for l in labels.iter() {
                put_str(&mut index, &l.name);
                put_str(&mut index, &l.value);
                postings
                    .entry((&l.name, &l.value))
                    .or_default()
                    .push(ord as u32);
            }
            put_uvarint(&mut index, cs.len() as u64);
            for c in cs {
                let offset = written;
                rec.clear();
                let words = c.filter.words();
                rec.extend_from_slice(&((words.len() * 8) as u32).to_le_bytes());
                for w in words {
                    rec.extend_from_slice(&w.to_le_bytes());
                }
                rec.extend_from_slice(&(c.data.len() as u32).to_le_bytes());
                rec.extend_from_slice(&c.data);
                let crc = crc32fast::hash(&rec);
                rec.extend_from_slice(&crc.to_le_bytes());
                std::io::Write::write_all(&mut out, &rec)
                    .map_err(|e| Error::io("write", &chunks_path, e))?;
                written += rec.len() as u64;
                put_uvarint(&mut index, offset);
                put_uvarint(&mut index, written - offset);
                put_varint(&mut index, c.meta.min_ts);
                put_varint(&mut index, c.meta.max_ts);
                put_uvarint(&mut index, u64::from(c.meta.entries));
                put_uvarint(&mut index, c.meta.raw_bytes);
                meta.chunks += 1;
                meta.entries += u64::from(c.meta.entries);
                meta.raw_bytes += c.meta.raw_bytes;
                meta.min_ts_ns = meta.min_ts_ns.min(c.meta.min_ts);
                meta.max_ts_ns = meta.max_ts_ns.max(c.meta.max_ts);
            }
        }
        put_uvarint(&mut index, postings.len() as u64);
        for ((n, v), ords) in postings {
            put_str(&mut index, n);
            put_str(&mut index, v);
            put_uvarint(&mut index, ords.len() as u64);
            let mut prev = 0u32;
            for o in ords {
                put_uvarint(&mut index, u64::from(o - prev));
                prev = o;
            }
        }
    }
    let crc = crc32fast::hash(&index);
    index.extend_from_slice(&crc.to_le_bytes());
    meta.chunks_file_bytes = written;
    meta.index_file_bytes = index.len() as u64;
    let file = out
        .into_inner()
        .map_err(|e| Error::io("write", &chunks_path, e.into_error()))?;
    file.sync_all()
        .map_err(|e| Error::io("fsync", &chunks_path, e))?;
    drop(file);
    pending.write_file("index", &index)?;
    let meta_json = serde_json::to_vec_pretty(&meta).expect("meta serialises");
    Ok(pending.commit(Some((META_FILE, &meta_json)))?)
}

impl Block {
    /// The directory's name (its id).
    pub(crate) fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Opens the block in `dir`, checking its files against its meta.
    pub(crate) fn open(dir: &Path) -> Result<Block> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read(&p).map_err(|e| Error::io("read", p, e))
        };
        let meta_bytes = read(META_FILE)?;
        let meta: BlockMeta = serde_json::from_slice(&meta_bytes).map_err(|e| {
            Error::corrupt(dir.join(META_FILE).display().to_string(), 0, e.to_string())
        })?;
        if meta.version != 1 {
            return Err(Error::corrupt(
                dir.join(META_FILE).display().to_string(),
                0,
                format!("unknown block version {}", meta.version),
            ));
        }
        let index = read("index")?;
        let index_name = dir.join("index").display().to_string();
        if index.len() as u64 != meta.index_file_bytes || index.len() < 12 {
            return Err(Error::corrupt(
                &index_name,
                index.len() as u64,
                format!(
                    "file is {} bytes, meta.json says {}",
                    index.len(),
                    meta.index_file_bytes
                ),
            ));
        }
        let (body, crc) = index.split_at(index.len() - 4);
        if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            return Err(Error::corrupt(&index_name, 0, "checksum mismatch"));
        }
        let cpath = dir.join("chunks");
        let chunks = ReadOnlyMap::open(&cpath).map_err(|e| Error::io("map", &cpath, e))?;
        if chunks.len() as u64 != meta.chunks_file_bytes {
            return Err(Error::corrupt(
                cpath.display().to_string(),
                chunks.len() as u64,
                format!(
                    "file is {} bytes, meta.json says {}",
                    chunks.len(),
                    meta.chunks_file_bytes
                ),
            ));
        }
        let tenants = parse_index(&body[8..], &index_name, chunks.len() as u64)?;
        Ok(Block {
            dir: dir.to_path_buf(),
            size_bytes: meta.chunks_file_bytes + meta.index_file_bytes + meta_bytes.len() as u64,
            meta,
            chunks,
            tenants,
        })
    }

    /// The tenant's streams matching `matchers`, found through the
    /// postings of the equality matchers, then checked in full.
    pub(crate) fn matching<'a>(
        &'a self,
        tenant: &str,
        matchers: &[Matcher],
    ) -> Vec<&'a BlockStream> {
        let Some(t) = self.tenants.get(tenant) else {
            return Vec::new();
        };
        let mut best: Option<&Vec<u32>> = None;
        for m in matchers {
            if m.op == MatchOp::Equal && !m.value.is_empty() {
                match t.postings.get(&m.name).and_then(|v| v.get(&m.value)) {
                    None => return Vec::new(),
                    Some(p) if best.is_none_or(|b| p.len() < b.len()) => best = Some(p),
                    Some(_) => {}
                }
            }
        }
        let check = |s: &'a BlockStream| matches_all(matchers, &s.labels).then_some(s);
        match best {
            Some(p) => p
                .iter()
                .filter_map(|&o| t.streams.get(o as usize).and_then(check))
                .collect(),
            None => t.streams.iter().filter_map(check).collect(),
        }
    }

    /// The filter and compressed bytes of a chunk, checked against its
    /// checksum when `verify` is set.
    pub(crate) fn chunk_parts(&self, c: &ChunkRef, verify: bool) -> Result<(&[u8], &[u8])> {
        let what = || self.dir.join("chunks").display().to_string();
        let rec = self
            .chunks
            .get(c.offset as usize..(c.offset + c.len) as usize)
            .ok_or_else(|| Error::corrupt(what(), c.offset, "chunk runs past the end"))?;
        let bad = || Error::corrupt(what(), c.offset, "chunk record lengths do not add up");
        if rec.len() < 12 {
            return Err(bad());
        }
        let flen = u32::from_le_bytes(rec[..4].try_into().expect("4")) as usize;
        if rec.len() < 12 + flen {
            return Err(bad());
        }
        let filter = &rec[4..4 + flen];
        let dlen = u32::from_le_bytes(rec[4 + flen..8 + flen].try_into().expect("4")) as usize;
        if rec.len() != 12 + flen + dlen {
            return Err(bad());
        }
        let data = &rec[8 + flen..8 + flen + dlen];
        if verify {
            let crc = u32::from_le_bytes(rec[rec.len() - 4..].try_into().expect("4"));
            if crc32fast::hash(&rec[..rec.len() - 4]) != crc {
                return Err(Error::corrupt(what(), c.offset, "chunk checksum mismatch"));
            }
        }
        Ok((filter, data))
    }

    /// True when the chunk's filter rules out the query's required strings.
    pub(crate) fn skips(&self, c: &ChunkRef, req: &filter::RequiredKeys) -> bool {
        match self.chunk_parts(c, false) {
            Ok((f, _)) => filter::rules_out(|k| filter::may_contain_bytes(f, k), req),
            // Damage shows when the chunk is read.
            Err(_) => false,
        }
    }
}

fn parse_index(buf: &[u8], what: &str, chunks_len: u64) -> Result<HashMap<String, BlockTenant>> {
    let mut r = Reader::new(buf, what);
    let nt = r.count()?;
    let mut out = HashMap::with_capacity(nt);
    for _ in 0..nt {
        let tenant = r.str()?.to_owned();
        let ns = r.count()?;
        let mut t = BlockTenant::default();
        for _ in 0..ns {
            let nl = r.count()?;
            let mut pairs = Vec::with_capacity(nl);
            for _ in 0..nl {
                pairs.push((r.str()?.to_owned(), r.str()?.to_owned()));
            }
            let nc = r.count()?;
            let mut chunks = Vec::with_capacity(nc);
            let (mut lo, mut hi) = (i64::MAX, i64::MIN);
            for _ in 0..nc {
                let offset = r.uvarint()?;
                let len = r.uvarint()?;
                if offset.saturating_add(len) > chunks_len {
                    return Err(r.err("chunk ref past the end of the chunks file"));
                }
                let meta = ChunkMeta {
                    min_ts: r.varint()?,
                    max_ts: r.varint()?,
                    entries: r.uvarint()? as u32,
                    raw_bytes: r.uvarint()?,
                };
                lo = lo.min(meta.min_ts);
                hi = hi.max(meta.max_ts);
                chunks.push(ChunkRef { offset, len, meta });
            }
            t.streams.push(BlockStream {
                labels: Labels::from_pairs(pairs),
                chunks,
                min_ts: lo,
                max_ts: hi,
            });
        }
        let np = r.count()?;
        for _ in 0..np {
            let name = r.str()?.to_owned();
            let value = r.str()?.to_owned();
            let n = r.count()?;
            let mut ords = Vec::with_capacity(n);
            let mut prev = 0u64;
            for _ in 0..n {
                prev += r.uvarint()?;
                ords.push(prev as u32);
            }
            t.postings.entry(name).or_default().insert(value, ords);
        }
        out.insert(tenant, t);
    }
    if !r.is_empty() {
        return Err(r.err("bytes after the last tenant"));
    }
    Ok(out)
}
