//! The block index: symbols, series with their chunk references, and the
//! inverted index (postings), all sorted. The whole file is covered by one
//! CRC32 in its table of contents and is read into memory when the block is
//! opened. `docs/format/index.md` describes the bytes.

use crate::encoding::{put_bytes, put_uvarint, put_varint, Reader};
use crate::postings::{self, IndexLookup};
use crate::{Error, Result};
use foldhash::{HashMap, HashMapExt};
use sightline_core::{Label, Labels};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

pub(crate) const MAGIC: &[u8; 4] = b"SLIX";
const TOC_LEN: usize = 4 * 8 + 4;

/// One chunk of a series as the index records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkMeta {
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
    pub(crate) r: u64,
}

/// A series as the writer collects it: labels as writer-local symbol ids.
pub(crate) struct SeriesEntry {
    pub(crate) labels: Box<[u32]>,
    pub(crate) chunks: Vec<ChunkMeta>,
    /// Native histogram chunks (encodings 4 and 5), in time order.
    pub(crate) hist_chunks: Vec<ChunkMeta>,
}

/// One series as the index reads it back.
pub(crate) struct SeriesRead {
    pub(crate) labels: Labels,
    pub(crate) chunks: Vec<ChunkMeta>,
    pub(crate) hist_chunks: Vec<ChunkMeta>,
}

/// Index version written: 2 adds each series' histogram chunk list.
const VERSION: u8 = 2;

fn put_chunks(out: &mut Vec<u8>, chunks: &[ChunkMeta]) {
    put_uvarint(out, chunks.len() as u64);
    let (mut prev_maxt, mut prev_ref) = (0i64, 0u64);
    for (i, c) in chunks.iter().enumerate() {
        if i == 0 {
            put_varint(out, c.mint);
            put_uvarint(out, c.r);
        } else {
            put_varint(out, c.mint.wrapping_sub(prev_maxt));
            put_uvarint(out, c.r.wrapping_sub(prev_ref));
        }
        put_uvarint(out, c.maxt.wrapping_sub(c.mint) as u64);
        prev_maxt = c.maxt;
        prev_ref = c.r;
    }
}

/// Builds the index bytes. `strs` are the writer's symbols by local id;
/// `series` must already be sorted by labels.
pub(crate) fn build(strs: &[String], series: &[SeriesEntry]) -> Vec<u8> {
    // Final symbol ids follow string order so that sorting postings keys by
    // id sorts them by name and value too.
    let mut order: Vec<u32> = (0..strs.len() as u32).collect();
    order.sort_by(|a, b| strs[*a as usize].cmp(&strs[*b as usize]));
    let mut remap = vec![0u32; strs.len()];
    for (fin, local) in order.iter().enumerate() {
        remap[*local as usize] = fin as u32;
    }
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[VERSION, 0, 0, 0]);

    let symbols_off = out.len() as u64;
    put_uvarint(&mut out, order.len() as u64);
    for local in &order {
        put_bytes(&mut out, strs[*local as usize].as_bytes());
    }

    let series_off = out.len() as u64;
    put_uvarint(&mut out, series.len() as u64);
    let mut post: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
    for (id, s) in series.iter().enumerate() {
        put_uvarint(&mut out, (s.labels.len() / 2) as u64);
        for p in s.labels.chunks_exact(2) {
            let (n, v) = (remap[p[0] as usize], remap[p[1] as usize]);
            put_uvarint(&mut out, u64::from(n));
            put_uvarint(&mut out, u64::from(v));
            post.entry((n, v)).or_default().push(id as u32);
        }
        put_chunks(&mut out, &s.chunks);
        put_chunks(&mut out, &s.hist_chunks);
    }

    let mut keys: Vec<(u32, u32)> = post.keys().copied().collect();
    keys.sort_unstable();
    let postings_off = out.len() as u64;
    let mut table = Vec::with_capacity(keys.len());
    for k in &keys {
        table.push((*k, out.len() as u64 - postings_off));
        let ids = &post[k];
        put_uvarint(&mut out, ids.len() as u64);
        let mut prev = 0u32;
        for &id in ids {
            put_uvarint(&mut out, u64::from(id - prev));
            prev = id;
        }
    }

    let table_off = out.len() as u64;
    put_uvarint(&mut out, table.len() as u64);
    for ((n, v), off) in table {
        put_uvarint(&mut out, u64::from(n));
        put_uvarint(&mut out, u64::from(v));
        put_uvarint(&mut out, off);
    }

    for off in [symbols_off, series_off, postings_off, table_off] {
        out.extend_from_slice(&off.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// An index held in memory.
pub(crate) struct IndexReader {
    path: PathBuf,
    buf: Vec<u8>,
    /// 1 (float chunks only) or 2 (plus histogram chunks).
    version: u8,
    /// `(offset, len)` of each symbol's bytes.
    symbols: Vec<(u32, u32)>,
    /// Offset of each series entry.
    series: Vec<u32>,
    /// name symbol -> sorted `(value symbol, postings offset, slot in
    /// `decoded` or [`NO_SLOT`])`.
    postings: HashMap<u32, Vec<(u32, u32, u32)>>,
    postings_off: usize,
    /// Long postings lists, decoded the first time a query asks for them.
    /// A selector names a metric whose list covers most of the block
    /// (`__name__` of a 50k-series histogram has 50k entries); decoding its
    /// varints again on every query cost ~10% of a 100-series query. Kept
    /// for the block's life: at most 4 bytes per series and label, and only
    /// for lists that were asked for. Slots exist only for long lists, so a
    /// block of many rare label values does not pay one per value.
    decoded: Vec<std::sync::OnceLock<Box<[u32]>>>,
}

/// Lists shorter than this are decoded on every use: cheap, and caching
/// every rare label value would only hold memory.
const CACHE_MIN_LEN: usize = 1024;
/// The slot of a list too short to cache.
const NO_SLOT: u32 = u32::MAX;

impl IndexReader {
    pub(crate) fn open(path: &Path) -> Result<IndexReader> {
        let buf = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
        let bad = |off: usize, why: &str| Error::corrupt(path, off as u64, why.to_string());
        if buf.len() < 8 + TOC_LEN || &buf[..4] != MAGIC || !(1..=VERSION).contains(&buf[4]) {
            return Err(bad(0, "bad index magic, version or size"));
        }
        let toc = buf.len() - TOC_LEN;
        let crc = u32::from_le_bytes(buf[buf.len() - 4..].try_into().expect("4 bytes"));
        if crc32fast::hash(&buf[..buf.len() - 4]) != crc {
            return Err(bad(toc, "index checksum mismatch"));
        }
        let mut t = Reader::at(&buf, toc);
        let mut offs = [0usize; 4];
        for o in &mut offs {
            *o = t
                .u64_le()
                .and_then(|x| usize::try_from(x).ok())
                .filter(|x| *x <= toc)
                .ok_or_else(|| bad(toc, "bad table of contents"))?;
        }
        let [sym_off, ser_off, post_off, table_off] = offs;

        let mut r = Reader::at(&buf, sym_off);
        let n = r
            .uvarint()
            .ok_or_else(|| bad(sym_off, "bad symbol count"))? as usize;
        let mut symbols = Vec::with_capacity(n.min(buf.len()));
        for _ in 0..n {
            let p = r.pos();
            let s = r.str().ok_or_else(|| bad(p, "bad symbol"))?;
            symbols.push(((r.pos() - s.len()) as u32, s.len() as u32));
        }

        let mut r = Reader::at(&buf, ser_off);
        let n = r
            .uvarint()
            .ok_or_else(|| bad(ser_off, "bad series count"))? as usize;
        let mut series = Vec::with_capacity(n.min(buf.len()));
        for _ in 0..n {
            let p = r.pos();
            series.push(p as u32);
            skip_series(&mut r, buf[4]).ok_or_else(|| bad(p, "bad series entry"))?;
        }

        let mut r = Reader::at(&buf, table_off);
        let n = r
            .uvarint()
            .ok_or_else(|| bad(table_off, "bad postings table"))? as usize;
        let mut postings: HashMap<u32, Vec<(u32, u32, u32)>> = HashMap::new();
        let mut slots = 0u32;
        for _ in 0..n {
            let p = r.pos();
            let (Some(name), Some(value), Some(off)) = (r.uvarint(), r.uvarint(), r.uvarint())
            else {
                return Err(bad(p, "bad postings table entry"));
            };
            if name as usize >= symbols.len() || value as usize >= symbols.len() {
                return Err(bad(p, "postings table names a missing symbol"));
            }
            let len = usize::try_from(off)
                .ok()
                .and_then(|o| Reader::at(&buf, post_off.checked_add(o)?).uvarint())
                .unwrap_or(0);
            let slot = if len >= CACHE_MIN_LEN as u64 && slots < NO_SLOT {
                slots += 1;
                slots - 1
            } else {
                NO_SLOT
            };
            postings
                .entry(name as u32)
                .or_default()
                .push((value as u32, off as u32, slot));
        }
        let decoded = (0..slots).map(|_| std::sync::OnceLock::new()).collect();
        if buf.len() > u32::MAX as usize {
            return Err(bad(0, "index larger than 4 GiB"));
        }
        Ok(IndexReader {
            path: path.to_path_buf(),
            version: buf[4],
            buf,
            symbols,
            series,
            postings,
            postings_off: post_off,
            decoded,
        })
    }

    pub(crate) fn num_series(&self) -> usize {
        self.series.len()
    }

    fn sym(&self, id: u64) -> Option<&str> {
        let (off, len) = *self.symbols.get(usize::try_from(id).ok()?)?;
        std::str::from_utf8(&self.buf[off as usize..(off + len) as usize]).ok()
    }

    fn sym_id(&self, s: &str) -> Option<u32> {
        self.symbols
            .binary_search_by(|(off, len)| {
                self.buf[*off as usize..(*off + *len) as usize].cmp(s.as_bytes())
            })
            .ok()
            .map(|i| i as u32)
    }

    /// Labels and chunk metas of series `id`.
    pub(crate) fn series(&self, id: u32) -> Result<SeriesRead> {
        let off = *self
            .series
            .get(id as usize)
            .ok_or_else(|| Error::corrupt(&self.path, 0, format!("no series {id}")))?;
        let bad = || Error::corrupt(&self.path, u64::from(off), "bad series entry");
        let mut r = Reader::at(&self.buf, off as usize);
        let n = r.uvarint().ok_or_else(bad)?;
        let mut ls = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let name = r.uvarint().and_then(|x| self.sym(x)).ok_or_else(bad)?;
            let value = r.uvarint().and_then(|x| self.sym(x)).ok_or_else(bad)?;
            ls.push(Label::new(name, value));
        }
        let chunks = read_chunks(&mut r).ok_or_else(bad)?;
        let hist_chunks = if self.version >= 2 {
            read_chunks(&mut r).ok_or_else(bad)?
        } else {
            Vec::new()
        };
        Ok(SeriesRead {
            labels: Labels::from_sorted(ls),
            chunks,
            hist_chunks,
        })
    }

    /// The list at `off` (slot `slot` of the cache), borrowed from the
    /// cache when it is long.
    fn postings_cached(&self, off: u32, slot: u32) -> Cow<'_, [u32]> {
        if let Some(c) = self.decoded.get(slot as usize) {
            return Cow::Borrowed(c.get_or_init(|| self.postings_list(off).into()));
        }
        Cow::Owned(self.postings_list(off))
    }

    fn postings_list(&self, off: u32) -> Vec<u32> {
        let mut r = Reader::at(&self.buf, self.postings_off + off as usize);
        let n = r.uvarint().unwrap_or(0) as usize;
        let mut out = Vec::with_capacity(n.min(self.series.len()));
        let mut prev = 0u64;
        for _ in 0..n {
            let Some(d) = r.uvarint() else { break };
            prev += d;
            out.push(prev as u32);
        }
        out
    }

    /// Every label name, sorted.
    pub(crate) fn label_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .postings
            .keys()
            .filter_map(|n| self.sym(u64::from(*n)))
            .map(String::from)
            .collect();
        v.sort();
        v
    }
}

impl IndexLookup for IndexReader {
    fn all_postings(&self) -> Vec<u32> {
        (0..self.series.len() as u32).collect()
    }

    fn label_values(&self, name: &str) -> Vec<String> {
        let Some(vals) = self.sym_id(name).and_then(|n| self.postings.get(&n)) else {
            return Vec::new();
        };
        vals.iter()
            .filter_map(|(v, _, _)| self.sym(u64::from(*v)))
            .map(String::from)
            .collect()
    }

    fn postings(&self, name: &str, values: &[&str]) -> Cow<'_, [u32]> {
        let Some(vals) = self.sym_id(name).and_then(|n| self.postings.get(&n)) else {
            return Cow::Borrowed(&[]);
        };
        let mut lists: Vec<Cow<'_, [u32]>> = values
            .iter()
            .filter_map(|v| self.sym_id(v))
            .filter_map(|v| vals.binary_search_by_key(&v, |x| x.0).ok())
            .map(|i| self.postings_cached(vals[i].1, vals[i].2))
            .collect();
        if lists.len() <= 1 {
            return lists.pop().unwrap_or(Cow::Borrowed(&[]));
        }
        Cow::Owned(postings::union_all(
            lists.into_iter().map(Cow::into_owned).collect(),
        ))
    }
}

fn skip_series(r: &mut Reader<'_>, version: u8) -> Option<()> {
    let n = r.uvarint()?;
    for _ in 0..n * 2 {
        r.uvarint()?;
    }
    read_chunks(r)?;
    if version >= 2 {
        read_chunks(r)?;
    }
    Some(())
}

fn read_chunks(r: &mut Reader<'_>) -> Option<Vec<ChunkMeta>> {
    let n = r.uvarint()? as usize;
    if n > r.remaining() {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    let (mut prev_maxt, mut prev_ref) = (0i64, 0u64);
    for i in 0..n {
        let (mint, rf) = if i == 0 {
            (r.varint()?, r.uvarint()?)
        } else {
            (
                prev_maxt.wrapping_add(r.varint()?),
                prev_ref.wrapping_add(r.uvarint()?),
            )
        };
        let maxt = mint.wrapping_add(r.uvarint()? as i64);
        out.push(ChunkMeta { mint, maxt, r: rf });
        prev_maxt = maxt;
        prev_ref = rf;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Long lists come from the cache after the first ask, short ones are
    /// decoded each time; both must equal the series that carry the label.
    #[test]
    fn cached_and_decoded_postings_agree_with_the_series() {
        let strs: Vec<String> = ["__name__", "m", "k", "a", "b", "c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // Every series has __name__="m"; k is "a" for 2/3 of them (a long
        // list), "b" or "c" for the rest, "c" only 5 times (short).
        let val = |i: u32| match i % 3 {
            0 | 1 => 3,
            _ if i % 100 == 2 => 5,
            _ => 4,
        };
        let series: Vec<SeriesEntry> = (0..3000u32)
            .map(|i| SeriesEntry {
                labels: vec![0, 1, 2, val(i)].into_boxed_slice(),
                chunks: vec![ChunkMeta {
                    mint: i64::from(i),
                    maxt: i64::from(i),
                    r: u64::from(i),
                }],
                hist_chunks: if i % 7 == 0 {
                    vec![ChunkMeta {
                        mint: i64::from(i) + 1,
                        maxt: i64::from(i) + 5,
                        r: u64::from(i) + 9,
                    }]
                } else {
                    Vec::new()
                },
            })
            .collect();
        // Series must be sorted by labels for `build`; sorting by k's value
        // string is enough here as the rest is equal, and ids follow it.
        let mut series = series;
        series.sort_by_key(|s| strs[s.labels[3] as usize].clone());
        let bytes = build(&strs, &series);
        let path = std::env::temp_dir().join(format!("slix-test-{}", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let ix = IndexReader::open(&path).unwrap();
        std::fs::remove_file(&path).ok();
        let want = |v: &[&str]| -> Vec<u32> {
            (0..series.len() as u32)
                .filter(|&i| v.contains(&strs[series[i as usize].labels[3] as usize].as_str()))
                .collect()
        };
        for _ in 0..2 {
            assert_eq!(ix.postings("__name__", &["m"]).len(), 3000);
            for v in [
                &["a"][..],
                &["b"],
                &["c"],
                &["a", "c"],
                &["b", "nope"],
                &["nope"],
            ] {
                assert_eq!(ix.postings("k", v).into_owned(), want(v), "{v:?}");
            }
        }
        assert!(ix.decoded.iter().filter(|c| c.get().is_some()).count() == 2);
        assert_eq!(ix.decoded.len(), 2, "slots only for lists of 1024 or more");
        // Issue 12: histogram chunk lists come back beside the float ones.
        for (id, s) in series.iter().enumerate() {
            let got = ix.series(id as u32).unwrap();
            assert_eq!(got.chunks, s.chunks);
            assert_eq!(got.hist_chunks, s.hist_chunks);
        }
    }
}
