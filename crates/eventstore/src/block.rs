//! Day blocks: the events of one UTC day, columnar, in an immutable
//! directory written with [`sightline_storage::dir::PendingDir`] (meta file
//! last).
//!
//! ```text
//! <ULID>/data       zstd frames, one per column per row group
//! <ULID>/index      per row group: rows, time bounds, names present, and
//!                   where each column's frame is (offset, length, CRC)
//! <ULID>/persons    the day's distinct person keys, u64 LE, ascending
//! <ULID>/meta.json  day, bounds, counts, event names; written last
//! ```
//!
//! Events are in time order; a row group is [`crate::EventStoreOptions::row_group_rows`]
//! of them. Per row group the columns are `ts`, `received`, `kind`,
//! `name` and `person` (codes into the block's names and persons),
//! `message_id`, `source`, `user_id`, `anonymous_id`, `group_id`,
//! `previous_id`, the three JSON documents (`doc.properties`, ...), and one
//! dictionary column per scalar property key (`p:properties.plan`), so a
//! question reads only the columns it names. `docs/format/eventstore.md`
//! has the bytes.

use crate::codec::{
    self, put_codes, put_dict, put_str, put_times, put_uvarint, put_varint, Reader,
};
use crate::docs;
use crate::model::{person_key, Event};
use crate::props::day_of;
use crate::walrec::{doc_text, kind_code, kind_of, parse_doc};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sightline_storage::dir::PendingDir;
use sightline_storage::mmap::ReadOnlyMap;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// First bytes of an index file.
const INDEX_MAGIC: &[u8; 8] = b"SLEVIX01";
/// Name of the meta file.
pub(crate) const META_FILE: &str = "meta.json";
const DATA_FILE: &str = "data";
const INDEX_FILE: &str = "index";
const PERSONS_FILE: &str = "persons";
/// Prefix of a property column's name.
pub(crate) const PROP_PREFIX: &str = "p:";

/// `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockMeta {
    /// Format version (1).
    pub version: u32,
    /// The UTC day, in days since the epoch.
    pub day: i64,
    /// Oldest and newest event time, ms.
    pub min_ts_ms: i64,
    pub max_ts_ms: i64,
    /// Oldest and newest receipt time, ms (de-duplication reads the blocks
    /// received within its window at open).
    pub min_received_ms: i64,
    pub max_received_ms: i64,
    pub rows: u64,
    pub row_groups: u64,
    /// The day's distinct event names; a row's `name` code indexes this.
    pub names: Vec<String>,
    /// Distinct person keys (8 bytes each in `persons`).
    pub persons: u64,
    /// Exact lengths of the three data files, checked at open.
    pub data_bytes: u64,
    pub index_bytes: u64,
    pub persons_bytes: u64,
    /// CRC-32 of `persons`.
    pub persons_crc: u32,
    /// The last WAL segment whose events this block holds.
    #[serde(default)]
    pub wal_upto: u32,
    /// The head cut that wrote this block (empty for compaction's blocks)
    /// and how many day blocks it wrote: at open, a cut whose WAL segments
    /// were not yet checkpointed counts only if all its blocks are there;
    /// otherwise its blocks are removed and the WAL replays the events.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cut_id: String,
    #[serde(default)]
    pub cut_parts: u32,
    /// Blocks a compaction merged into this one (removed at open if a
    /// crash left them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compacted_from: Vec<String>,
}

/// Where a column's frame is in `data`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColRef {
    pub offset: u64,
    pub len: u64,
    pub raw_len: u64,
    /// 0: stored as is; 1: zstd.
    pub codec: u8,
    pub crc: u32,
}

/// A row group's index entry.
#[derive(Debug)]
pub(crate) struct RowGroup {
    pub rows: usize,
    pub min_ts: i64,
    pub max_ts: i64,
    /// Every scalar property key has a `p:` column (else some are only in
    /// the documents).
    pub keys_complete: bool,
    /// Codes of the names present, ascending.
    pub names: Vec<u32>,
    pub cols: HashMap<String, ColRef>,
}

/// A property column: dictionary, codes (index + 1, 0 none), JSON type.
pub(crate) type PropCol = (Vec<String>, Vec<u32>, u8);

/// An open block.
pub(crate) struct Block {
    pub dir: PathBuf,
    pub meta: BlockMeta,
    pub size_bytes: u64,
    data: ReadOnlyMap,
    persons: ReadOnlyMap,
    pub groups: Vec<RowGroup>,
}

/// How [`write`] lays a block out.
pub(crate) struct WriteOpts {
    pub level: i32,
    pub row_group_rows: usize,
    pub max_prop_columns: usize,
}

/// Where a block's events came from (its meta's `wal_upto`, `cut_id`,
/// `cut_parts` and `compacted_from`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Provenance {
    pub wal_upto: u32,
    pub cut_id: String,
    pub cut_parts: u32,
    pub compacted_from: Vec<String>,
}

/// Writes `events` (all of day `day`) as a new block under `parent`;
/// returns its directory.
pub(crate) fn write(
    parent: &Path,
    day: i64,
    mut events: Vec<Event>,
    o: &WriteOpts,
    from: Provenance,
) -> Result<PathBuf> {
    debug_assert!(events.iter().all(|e| day_of(e.timestamp_ms) == day));
    events.sort_by_key(|e| e.timestamp_ms);
    let name = sightline_storage::layout::new_dir_id();
    let pending = PendingDir::create(parent, &name, &[])?;
    let mut names: Vec<String> = events.iter().map(|e| e.name.clone()).collect();
    names.sort_unstable();
    names.dedup();
    let name_code: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    let keys: Vec<u64> = events.iter().map(|e| person_key(e.distinct_id())).collect();
    let mut persons = keys.clone();
    persons.sort_unstable();
    persons.dedup();

    let data_path = pending.path().join(DATA_FILE);
    let file = std::fs::File::create(&data_path).map_err(|e| Error::io("create", &data_path, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    let mut index = INDEX_MAGIC.to_vec();
    let groups = events.len().div_ceil(o.row_group_rows);
    put_uvarint(&mut index, groups as u64);
    let mut raw = Vec::new();
    for (g, rows) in events.chunks(o.row_group_rows).enumerate() {
        let keys = &keys[g * o.row_group_rows..][..rows.len()];
        let mut cols: Vec<(String, Vec<u8>)> = Vec::new();
        let mut col = |name: &str, raw: &[u8]| -> Result<()> {
            cols.push((name.to_owned(), raw.to_vec()));
            Ok(())
        };
        raw.clear();
        put_times(
            &mut raw,
            &rows.iter().map(|e| e.timestamp_ms).collect::<Vec<_>>(),
        );
        col("ts", &raw)?;
        raw.clear();
        for e in rows {
            put_varint(&mut raw, e.received_at_ms.wrapping_sub(e.timestamp_ms));
        }
        col("received", &raw)?;
        raw.clear();
        raw.extend(rows.iter().map(|e| kind_code(e.kind)));
        col("kind", &raw)?;
        raw.clear();
        let codes: Vec<u32> = rows.iter().map(|e| name_code[e.name.as_str()]).collect();
        put_codes(&mut raw, &codes);
        col("name", &raw)?;
        let mut present = codes.clone();
        present.sort_unstable();
        present.dedup();
        raw.clear();
        let codes: Vec<u32> = keys
            .iter()
            .map(|k| persons.binary_search(k).expect("collected above") as u32)
            .collect();
        put_codes(&mut raw, &codes);
        col("person", &raw)?;
        raw.clear();
        for e in rows {
            codec::put_id(&mut raw, &e.message_id);
        }
        col("message_id", &raw)?;
        type Get = fn(&Event) -> Option<&str>;
        let dict_cols: [(&str, Get); 5] = [
            ("source", |e| Some(&e.source)),
            ("user_id", |e| e.user_id.as_deref()),
            ("anonymous_id", |e| e.anonymous_id.as_deref()),
            ("group_id", |e| e.group_id.as_deref()),
            ("previous_id", |e| e.previous_id.as_deref()),
        ];
        for (name, get) in dict_cols {
            let mut d = codec::DictBuilder::default();
            rows.iter().for_each(|e| d.push(get(e)));
            raw.clear();
            put_dict(&mut raw, &d.dict, &d.codes, name != "source");
            col(name, &raw)?;
        }
        // Property columns, in order of first appearance, up to the cap,
        // each with the JSON type of its values (crate::docs).
        let mut props: Vec<(String, codec::DictBuilder, u8)> = Vec::new();
        let mut slot: HashMap<String, usize> = HashMap::new();
        let mut complete = true;
        for (i, e) in rows.iter().enumerate() {
            docs::leaves(e, &mut |k, v, ty| {
                let at = match slot.get(k) {
                    Some(&s) => s,
                    None if props.len() >= o.max_prop_columns => {
                        complete = false;
                        return;
                    }
                    None => {
                        slot.insert(k.to_owned(), props.len());
                        props.push((k.to_owned(), codec::DictBuilder::default(), ty));
                        props.len() - 1
                    }
                };
                let (_, d, t) = &mut props[at];
                if *t != ty {
                    *t = docs::T_MIXED;
                }
                // Rows before the key first appeared have no value; a key
                // twice in one event (a literal `a.b` and a nested a.b,
                // typed T_MIXED) keeps the first.
                while d.codes.len() < i {
                    d.push(None);
                }
                if d.codes.len() == i {
                    d.push(Some(&v));
                }
            });
        }
        let covered = |k: &str| slot.get(k).is_some_and(|&s| props[s].2 != docs::T_MIXED);
        type Doc = fn(&Event) -> &serde_json::Map<String, serde_json::Value>;
        let doc_cols: [(&str, &str, Doc); 3] = [
            ("doc.properties", "properties", |e| &e.properties),
            ("doc.traits", "traits", |e| &e.traits),
            ("doc.context", "context", |e| &e.context),
        ];
        let mut doc = Vec::new();
        for (name, root, get) in doc_cols {
            raw.clear();
            for e in rows {
                doc.clear();
                doc_text(&docs::residual(get(e), root, &covered), &mut doc);
                put_uvarint(&mut raw, doc.len() as u64);
                raw.extend_from_slice(&doc);
            }
            col(name, &raw)?;
        }
        for (k, mut d, ty) in props {
            while d.codes.len() < rows.len() {
                d.push(None);
            }
            raw.clear();
            put_dict(&mut raw, &d.dict, &d.codes, false);
            raw.push(ty);
            col(&format!("{PROP_PREFIX}{k}"), &raw)?;
        }
        put_uvarint(&mut index, rows.len() as u64);
        put_varint(&mut index, rows[0].timestamp_ms);
        put_varint(&mut index, rows[rows.len() - 1].timestamp_ms);
        index.push(u8::from(complete));
        put_uvarint(&mut index, present.len() as u64);
        present
            .iter()
            .for_each(|&c| put_uvarint(&mut index, u64::from(c)));
        put_uvarint(&mut index, cols.len() as u64);
        for (name, raw) in cols {
            let raw_len = raw.len();
            // Columns zstd cannot shrink by a tenth (person codes, time
            // deltas: near-random small integers) are stored as they are,
            // so the scan's hot columns cost a copy, not a decompression.
            let z = codec::compress(&raw, o.level)?;
            let (frame, method) = if z.len() * 10 < raw.len() * 9 {
                (z, 1u8)
            } else {
                (raw, 0u8)
            };
            out.write_all(&frame)
                .map_err(|e| Error::io("write", &data_path, e))?;
            put_str(&mut index, &name);
            put_uvarint(&mut index, written);
            put_uvarint(&mut index, frame.len() as u64);
            put_uvarint(&mut index, raw_len as u64);
            index.push(method);
            index.extend_from_slice(&crc32fast::hash(&frame).to_le_bytes());
            written += frame.len() as u64;
        }
    }
    let file = out
        .into_inner()
        .map_err(|e| Error::io("write", &data_path, e.into_error()))?;
    file.sync_all()
        .map_err(|e| Error::io("fsync", &data_path, e))?;
    let crc = crc32fast::hash(&index);
    index.extend_from_slice(&crc.to_le_bytes());
    pending.write_file(INDEX_FILE, &index)?;
    let pbytes: Vec<u8> = persons.iter().flat_map(|k| k.to_le_bytes()).collect();
    pending.write_file(PERSONS_FILE, &pbytes)?;
    let meta = BlockMeta {
        version: 1,
        day,
        min_ts_ms: events.first().map_or(0, |e| e.timestamp_ms),
        max_ts_ms: events.last().map_or(0, |e| e.timestamp_ms),
        min_received_ms: events.iter().map(|e| e.received_at_ms).min().unwrap_or(0),
        max_received_ms: events.iter().map(|e| e.received_at_ms).max().unwrap_or(0),
        rows: events.len() as u64,
        row_groups: groups as u64,
        names,
        persons: persons.len() as u64,
        data_bytes: written,
        index_bytes: index.len() as u64,
        persons_bytes: pbytes.len() as u64,
        persons_crc: crc32fast::hash(&pbytes),
        wal_upto: from.wal_upto,
        cut_id: from.cut_id,
        cut_parts: from.cut_parts,
        compacted_from: from.compacted_from,
    };
    let json = serde_json::to_vec_pretty(&meta).expect("meta serializes");
    Ok(pending.commit(Some((META_FILE, &json)))?)
}

impl Block {
    /// Opens the block in `dir`, checking its files' lengths and checksums
    /// (but not every column frame's: those are checked when read).
    pub(crate) fn open(dir: &Path) -> Result<Block> {
        let mp = dir.join(META_FILE);
        let raw = std::fs::read(&mp).map_err(|e| Error::io("read", &mp, e))?;
        let meta: BlockMeta = serde_json::from_slice(&raw)
            .map_err(|e| Error::corrupt(mp.display().to_string(), 0, e.to_string()))?;
        if meta.version != 1 {
            return Err(Error::corrupt(
                mp.display().to_string(),
                0,
                format!("unknown block version {}", meta.version),
            ));
        }
        let map = |name: &str, want: u64| -> Result<ReadOnlyMap> {
            let p = dir.join(name);
            let m = ReadOnlyMap::open(&p).map_err(|e| Error::io("map", &p, e))?;
            if m.len() as u64 != want {
                return Err(Error::corrupt(
                    p.display().to_string(),
                    m.len() as u64,
                    format!("file is {} bytes, meta says {want}", m.len()),
                ));
            }
            Ok(m)
        };
        let data = map(DATA_FILE, meta.data_bytes)?;
        let persons = map(PERSONS_FILE, meta.persons_bytes)?;
        let ip = dir.join(INDEX_FILE);
        let index = std::fs::read(&ip).map_err(|e| Error::io("read", &ip, e))?;
        let what = ip.display().to_string();
        if index.len() as u64 != meta.index_bytes || index.len() < INDEX_MAGIC.len() + 4 {
            return Err(Error::corrupt(what, 0, "index length differs from meta"));
        }
        if crc32fast::hash(&persons) != meta.persons_crc || persons.len() as u64 != meta.persons * 8
        {
            return Err(Error::corrupt(
                dir.join(PERSONS_FILE).display().to_string(),
                0,
                "checksum mismatch",
            ));
        }
        let (body, crc) = index.split_at(index.len() - 4);
        if crc32fast::hash(body).to_le_bytes() != crc {
            return Err(Error::corrupt(what, body.len() as u64, "checksum mismatch"));
        }
        if &body[..8] != INDEX_MAGIC {
            return Err(Error::corrupt(what, 0, "not an event block index"));
        }
        let mut r = Reader::new(&body[8..], &what);
        let n = r.count()?;
        let mut groups = Vec::with_capacity(n);
        for _ in 0..n {
            let rows = r.uvarint()? as usize;
            let min_ts = r.varint()?;
            let max_ts = r.varint()?;
            let keys_complete = r.u8()? != 0;
            let nn = r.count()?;
            let mut names = Vec::with_capacity(nn);
            for _ in 0..nn {
                let c = r.uvarint()?;
                if c >= meta.names.len() as u64 {
                    return Err(r.err("name code past the block's names"));
                }
                names.push(c as u32);
            }
            let nc = r.count()?;
            let mut cols = HashMap::with_capacity(nc);
            for _ in 0..nc {
                let name = r.str()?.to_owned();
                let c = ColRef {
                    offset: r.uvarint()?,
                    len: r.uvarint()?,
                    raw_len: r.uvarint()?,
                    codec: r.u8()?,
                    crc: u32::from_le_bytes(r.bytes(4)?.try_into().expect("4 bytes")),
                };
                if c.offset
                    .checked_add(c.len)
                    .is_none_or(|end| end > meta.data_bytes)
                {
                    return Err(r.err("column frame past the end of data"));
                }
                cols.insert(name, c);
            }
            groups.push(RowGroup {
                rows,
                min_ts,
                max_ts,
                keys_complete,
                names,
                cols,
            });
        }
        if !r.is_empty() || groups.iter().map(|g| g.rows as u64).sum::<u64>() != meta.rows {
            return Err(Error::corrupt(
                what,
                0,
                "row groups do not add up to the meta's rows",
            ));
        }
        let size_bytes = meta.data_bytes + meta.index_bytes + meta.persons_bytes + raw.len() as u64;
        Ok(Block {
            dir: dir.to_path_buf(),
            meta,
            size_bytes,
            data,
            persons,
            groups,
        })
    }

    /// The block's directory name.
    pub(crate) fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The day's person keys, ascending, into a reused vector.
    pub(crate) fn persons_into(&self, out: &mut Vec<u64>) {
        out.clear();
        out.extend(
            self.persons
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))),
        );
    }

    /// The index of person `key` in [`Block::persons`].
    pub(crate) fn person_code(&self, key: u64) -> Option<u32> {
        let n = self.persons.len() / 8;
        let at =
            |i: usize| u64::from_le_bytes(self.persons[i * 8..i * 8 + 8].try_into().expect("8"));
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match at(mid).cmp(&key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid as u32),
            }
        }
        None
    }

    fn what(&self, g: usize, col: &str) -> String {
        format!(
            "{} row group {g} column {col}",
            self.dir.join(DATA_FILE).display()
        )
    }

    /// Decompresses column `col` of row group `g` into `buf`; false when
    /// the row group has no such column.
    pub(crate) fn column(&self, g: usize, col: &str, buf: &mut Vec<u8>) -> Result<bool> {
        let Some(c) = self.groups[g].cols.get(col) else {
            return Ok(false);
        };
        let frame = &self.data[c.offset as usize..(c.offset + c.len) as usize];
        if crc32fast::hash(frame) != c.crc {
            return Err(Error::corrupt(
                self.what(g, col),
                c.offset,
                "checksum mismatch",
            ));
        }
        match c.codec {
            0 if c.len == c.raw_len => {
                buf.clear();
                buf.extend_from_slice(frame);
            }
            1 => codec::decompress(frame, c.raw_len as usize, buf, &self.what(g, col))?,
            _ => {
                return Err(Error::corrupt(
                    self.what(g, col),
                    c.offset,
                    "unknown column codec",
                ))
            }
        }
        Ok(true)
    }

    /// Column `col` of row group `g`, which every row group has.
    pub(crate) fn need(&self, g: usize, col: &str, buf: &mut Vec<u8>) -> Result<()> {
        if self.column(g, col, buf)? {
            Ok(())
        } else {
            Err(Error::corrupt(self.what(g, col), 0, "column missing"))
        }
    }

    /// Strings of a string-list column of row group `g`, applied to `f`.
    pub(crate) fn strings(
        &self,
        g: usize,
        col: &str,
        buf: &mut Vec<u8>,
        mut f: impl FnMut(&str) -> Result<()>,
    ) -> Result<()> {
        self.need(g, col, buf)?;
        let what = self.what(g, col);
        let mut r = Reader::new(buf, &what);
        for _ in 0..self.groups[g].rows {
            f(r.str()?)?;
        }
        Ok(())
    }

    /// Ids ([`codec::put_id`]) of column `col` of row group `g`, applied
    /// to `f`.
    pub(crate) fn ids(
        &self,
        g: usize,
        col: &str,
        buf: &mut Vec<u8>,
        mut f: impl FnMut(&str) -> Result<()>,
    ) -> Result<()> {
        self.need(g, col, buf)?;
        let what = self.what(g, col);
        let mut r = Reader::new(buf, &what);
        let mut s = String::new();
        for _ in 0..self.groups[g].rows {
            r.id(&mut s)?;
            f(&s)?;
        }
        Ok(())
    }

    /// Dictionary column `col` of row group `g` (`source` holds names,
    /// the other dictionary columns ids).
    pub(crate) fn dict(
        &self,
        g: usize,
        col: &str,
        buf: &mut Vec<u8>,
    ) -> Result<Option<(Vec<String>, Vec<u32>)>> {
        if !self.column(g, col, buf)? {
            return Ok(None);
        }
        let (mut d, mut c) = (Vec::new(), Vec::new());
        let ids = col != "source";
        codec::get_dict(
            buf,
            self.groups[g].rows,
            &mut d,
            &mut c,
            ids,
            &self.what(g, col),
        )?;
        Ok(Some((d, c)))
    }

    /// Property column `col` of row group `g`: dictionary, codes and the
    /// values' JSON type ([`crate::docs`]).
    pub(crate) fn prop(&self, g: usize, col: &str, buf: &mut Vec<u8>) -> Result<Option<PropCol>> {
        if !self.column(g, col, buf)? {
            return Ok(None);
        }
        let (mut d, mut c) = (Vec::new(), Vec::new());
        let what = self.what(g, col);
        let used = codec::get_dict(buf, self.groups[g].rows, &mut d, &mut c, false, &what)?;
        let ty = *buf
            .get(used)
            .ok_or_else(|| Error::corrupt(what, used as u64, "no type byte"))?;
        Ok(Some((d, c, ty)))
    }

    /// Every event of row group `g`, whole.
    pub(crate) fn read_events(&self, g: usize) -> Result<Vec<Event>> {
        let rows = self.groups[g].rows;
        let mut buf = Vec::new();
        let mut ts = Vec::with_capacity(rows);
        self.need(g, "ts", &mut buf)?;
        codec::get_times(&buf, rows, &mut ts, &self.what(g, "ts"))?;
        self.need(g, "received", &mut buf)?;
        let what = self.what(g, "received");
        let mut r = Reader::new(&buf, &what);
        let mut received = Vec::with_capacity(rows);
        for t in &ts {
            received.push(t.wrapping_add(r.varint()?));
        }
        self.need(g, "kind", &mut buf)?;
        let kinds: Vec<u8> = buf.clone();
        if kinds.len() != rows {
            return Err(Error::corrupt(self.what(g, "kind"), 0, "wrong length"));
        }
        self.need(g, "name", &mut buf)?;
        let mut names = Vec::with_capacity(rows);
        codec::get_codes(&buf, rows, &mut names, &self.what(g, "name"))?;
        let mut ids = Vec::with_capacity(rows);
        self.ids(g, "message_id", &mut buf, |s| {
            ids.push(s.to_owned());
            Ok(())
        })?;
        let mut dicts = Vec::new();
        for col in [
            "source",
            "user_id",
            "anonymous_id",
            "group_id",
            "previous_id",
        ] {
            dicts.push(
                self.dict(g, col, &mut buf)?
                    .ok_or_else(|| Error::corrupt(self.what(g, col), 0, "column missing"))?,
            );
        }
        let mut docs: Vec<Vec<serde_json::Map<String, serde_json::Value>>> = Vec::new();
        for col in ["doc.properties", "doc.traits", "doc.context"] {
            let what = self.what(g, col);
            let mut v = Vec::with_capacity(rows);
            self.strings(g, col, &mut buf, |s| {
                v.push(parse_doc(s, &what)?);
                Ok(())
            })?;
            docs.push(v);
        }
        // The documents' scalar leaves kept only in their columns.
        let mut rebuilt: Vec<[serde_json::Map<String, serde_json::Value>; 3]> =
            (0..rows).map(|_| Default::default()).collect();
        let prop_cols: Vec<&String> = self.groups[g]
            .cols
            .keys()
            .filter(|k| k.starts_with(PROP_PREFIX))
            .collect();
        for col in prop_cols {
            let key = &col[PROP_PREFIX.len()..];
            let Some((d, c, ty)) = self.prop(g, col, &mut buf)? else {
                continue;
            };
            if ty == docs::T_MIXED {
                continue;
            }
            let (slot, path) = match key.split_once('.') {
                Some(("properties", p)) => (0, p),
                Some(("traits", p)) => (1, p),
                Some(("context", p)) => (2, p),
                _ => continue,
            };
            let vals: Vec<Option<serde_json::Value>> =
                d.iter().map(|t| docs::typed(t, ty)).collect();
            for (i, &code) in c.iter().enumerate() {
                if code == 0 {
                    continue;
                }
                let v = vals[code as usize - 1].clone().ok_or_else(|| {
                    Error::corrupt(self.what(g, col), 0, "value not of its column's type")
                })?;
                docs::insert_path(&mut rebuilt[i][slot], path, v);
            }
        }
        let get = |d: &(Vec<String>, Vec<u32>), i: usize| -> Option<String> {
            match d.1[i] {
                0 => None,
                c => Some(d.0[c as usize - 1].clone()),
            }
        };
        let mut out = Vec::with_capacity(rows);
        let [dp, dt, dc] = <[_; 3]>::try_from(docs).expect("three documents");
        for (i, ((rp, rt), rc)) in dp.into_iter().zip(dt).zip(dc).enumerate() {
            let [mut p, mut t, mut c] = std::mem::take(&mut rebuilt[i]);
            docs::merge(&mut p, rp);
            docs::merge(&mut t, rt);
            docs::merge(&mut c, rc);
            let kind = kind_of(kinds[i])
                .ok_or_else(|| Error::corrupt(self.what(g, "kind"), i as u64, "unknown kind"))?;
            let name = self
                .meta
                .names
                .get(names[i] as usize)
                .ok_or_else(|| Error::corrupt(self.what(g, "name"), i as u64, "bad code"))?;
            out.push(Event {
                timestamp_ms: ts[i],
                received_at_ms: received[i],
                kind,
                name: name.clone(),
                user_id: get(&dicts[1], i),
                anonymous_id: get(&dicts[2], i),
                message_id: std::mem::take(&mut ids[i]),
                source: get(&dicts[0], i).unwrap_or_default(),
                group_id: get(&dicts[3], i),
                previous_id: get(&dicts[4], i),
                properties: p,
                traits: t,
                context: c,
            });
        }
        Ok(out)
    }
}
