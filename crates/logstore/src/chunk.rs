//! Closed chunks: one stream's lines over a span of time, encoded in
//! columns and compressed with zstd, with their bounds, counts and token
//! filter ([`crate::filter`]).
//!
//! The payload before compression (`docs/format/logstore.md`):
//! entry count, then the timestamps as zigzag varint deltas, the line
//! lengths as varints, the structured metadata per entry (pair count, then
//! name and value strings), then every line's bytes back to back. Columns
//! compress better than interleaved entries: the deltas are small and
//! alike, and the line text is one stream for zstd's matcher.

use crate::codec::{put_str, put_uvarint, put_varint, Reader};
use crate::filter::{self, Bloom, LineFilter};
use crate::{Error, Result};
use sightline_core::logs::LogEntry;

/// What a chunk holds, known without decompressing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkMeta {
    /// Oldest and newest line, ns.
    pub min_ts: i64,
    pub max_ts: i64,
    pub entries: u32,
    /// Bytes of line text.
    pub raw_bytes: u64,
}

impl ChunkMeta {
    pub(crate) fn overlaps(&self, start: i64, end: i64) -> bool {
        self.max_ts >= start && self.min_ts <= end
    }
}

/// A compressed chunk kept in memory (the head's closed chunks, before they
/// are flushed into a block).
#[derive(Debug)]
pub struct Chunk {
    pub meta: ChunkMeta,
    pub filter: Bloom,
    /// zstd frame of the payload.
    pub data: Vec<u8>,
}

/// Encodes and compresses `entries` (sorted by time, non-empty).
pub(crate) fn build(entries: &[LogEntry], level: i32) -> Result<Chunk> {
    let mut payload = Vec::with_capacity(entries.iter().map(|e| e.line.len() + 4).sum());
    put_uvarint(&mut payload, entries.len() as u64);
    let mut prev = 0i64;
    for e in entries {
        put_varint(&mut payload, e.ts_ns.wrapping_sub(prev));
        prev = e.ts_ns;
    }
    for e in entries {
        put_uvarint(&mut payload, e.line.len() as u64);
    }
    for e in entries {
        put_uvarint(&mut payload, e.metadata.len() as u64);
        for (k, v) in &e.metadata {
            put_str(&mut payload, k);
            put_str(&mut payload, v);
        }
    }
    let mut keys = filter::FilterBuilder::new();
    let mut raw_bytes = 0u64;
    for e in entries {
        payload.extend_from_slice(e.line.as_bytes());
        keys.add_line(e.line.as_bytes());
        raw_bytes += e.line.len() as u64;
    }
    let data = zstd::bulk::compress(&payload, level)
        .map_err(|e| Error::corrupt("chunk", 0, format!("zstd compression failed: {e}")))?;
    Ok(Chunk {
        meta: ChunkMeta {
            min_ts: entries.first().map_or(0, |e| e.ts_ns),
            max_ts: entries.last().map_or(0, |e| e.ts_ns),
            entries: entries.len() as u32,
            raw_bytes,
        },
        filter: keys.finish(),
        data,
    })
}

/// Decompresses a chunk's payload and decodes the lines in `[start, end]`
/// that pass `keep` (all when None). The meta's sizes bound the allocation
/// a damaged frame could ask for.
pub(crate) fn decode(
    data: &[u8],
    meta: &ChunkMeta,
    start: i64,
    end: i64,
    keep: Option<&LineFilter>,
    what: &str,
) -> Result<Vec<LogEntry>> {
    // Lines, plus generous room for the columns before them.
    let cap = meta.raw_bytes as usize + 64 * meta.entries as usize + 1024;
    // A buffer per thread, kept between chunks: a fresh 4 MiB allocation
    // per chunk costs page faults that show in a scan's profile.
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        if buf.len() < cap {
            buf.resize(cap, 0);
        }
        let n = zstd::bulk::decompress_to_buffer(data, &mut buf[..cap])
            .map_err(|e| Error::corrupt(what, 0, format!("zstd: {e}")))?;
        decode_payload(&buf[..n], start, end, keep, what)
    })
}

fn decode_payload(
    payload: &[u8],
    start: i64,
    end: i64,
    keep: Option<&LineFilter>,
    what: &str,
) -> Result<Vec<LogEntry>> {
    let mut r = Reader::new(payload, what);
    let n = r.count()?;
    let mut ts = Vec::with_capacity(n);
    let mut prev = 0i64;
    for _ in 0..n {
        prev = prev.wrapping_add(r.varint()?);
        ts.push(prev);
    }
    let mut lens = Vec::with_capacity(n);
    for _ in 0..n {
        lens.push(r.uvarint()? as usize);
    }
    let mut metas = Vec::with_capacity(n);
    for _ in 0..n {
        let m = r.count()?;
        let mut md = Vec::with_capacity(m);
        for _ in 0..m {
            md.push((r.str()?.to_owned(), r.str()?.to_owned()));
        }
        metas.push(md);
    }
    // The lines back to back; `ends[i]` is where line i ends.
    let mut ends = Vec::with_capacity(n);
    let mut total = 0usize;
    for &len in &lens {
        total = total
            .checked_add(len)
            .ok_or_else(|| r.err("length runs past the end"))?;
        ends.push(total);
    }
    let block = r.bytes(total)?;
    if !r.is_empty() {
        return Err(r.err("bytes after the last line"));
    }
    let mut out = Vec::new();
    let mut take = |i: usize, metas: &mut Vec<Vec<(String, String)>>| -> Result<()> {
        let t = ts[i];
        if t < start || t > end {
            return Ok(());
        }
        let from = if i == 0 { 0 } else { ends[i - 1] };
        let b = &block[from..ends[i]];
        if keep.is_some_and(|k| !k.matches(b)) {
            return Ok(());
        }
        let line = std::str::from_utf8(b)
            .map_err(|_| r.err("line is not UTF-8"))?
            .to_owned();
        out.push(LogEntry {
            ts_ns: t,
            line,
            metadata: std::mem::take(&mut metas[i]),
        });
        Ok(())
    };
    match keep {
        // Searched over the whole block, then only the lines with a hit
        // are looked at (issue 15: testing line by line cost as much as
        // decompressing).
        Some(k) => {
            let mut lines = Vec::new();
            k.candidates(block, &ends, &mut lines);
            for i in lines {
                take(i, &mut metas)?;
            }
        }
        None => {
            for i in 0..n {
                take(i, &mut metas)?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_round_trip_with_metadata_and_ranges() {
        let entries: Vec<LogEntry> = (0..100)
            .map(|i| LogEntry {
                ts_ns: 1_000 + i * 7 - (i % 3),
                line: format!("line {i} level=info"),
                metadata: if i % 10 == 0 {
                    vec![("trace_id".into(), format!("t{i}"))]
                } else {
                    vec![]
                },
            })
            .collect();
        let c = build(&entries, 3).unwrap();
        assert_eq!(c.meta.entries, 100);
        assert_eq!(c.meta.min_ts, 1_000);
        let all = decode(&c.data, &c.meta, i64::MIN, i64::MAX, None, "t").unwrap();
        assert_eq!(all, entries);
        let some = decode(&c.data, &c.meta, 1_006, 1_020, None, "t").unwrap();
        assert_eq!(some, entries[1..3].to_vec());
        let f = LineFilter::new(&[vec!["line 1".into(), "line 99".into()], vec!["info".into()]]);
        let got: Vec<i64> = decode(&c.data, &c.meta, i64::MIN, i64::MAX, f.as_ref(), "t")
            .unwrap()
            .iter()
            .map(|e| e.ts_ns)
            .collect();
        let want: Vec<i64> = entries
            .iter()
            .filter(|e| e.line.starts_with("line 1") || e.line.starts_with("line 99"))
            .map(|e| e.ts_ns)
            .collect();
        assert_eq!(got, want);
        assert!(decode(&c.data[..c.data.len() / 2], &c.meta, 0, 9, None, "t").is_err());
    }

    #[test]
    fn block_search_keeps_what_testing_each_line_keeps() {
        // Issue 15: the strings are searched over the lines back to back;
        // a hit across two lines must not count, every line with a hit
        // must, whatever the alternatives and elements.
        let texts = [
            "ab", "cd", "", "abcd", "xab", "b", "a", "bc", "abab", "é-ab", "", "ba", "a",
        ];
        let entries: Vec<LogEntry> = (0..200)
            .map(|i| LogEntry {
                ts_ns: i,
                line: texts[i as usize % texts.len()].repeat(1 + i as usize % 3),
                metadata: if i % 7 == 0 {
                    vec![("k".into(), format!("v{i}"))]
                } else {
                    vec![]
                },
            })
            .collect();
        let c = build(&entries, 3).unwrap();
        let filters: [&[&[&str]]; 7] = [
            &[&["ab"]],
            &[&["bc"]],
            &[&["ba", "cd"]],
            &[&["ab", "abab"], &["c"]],
            &[&[""]],
            &[&["é-a"]],
            &[&["zz"]],
        ];
        for f in filters {
            let req: Vec<Vec<String>> = f
                .iter()
                .map(|alts| alts.iter().map(|s| s.to_string()).collect())
                .collect();
            let lf = LineFilter::new(&req).unwrap();
            let got = decode(&c.data, &c.meta, 5, 190, Some(&lf), "t").unwrap();
            let want: Vec<LogEntry> = entries
                .iter()
                .filter(|e| (5..=190).contains(&e.ts_ns))
                .filter(|e| {
                    req.iter()
                        .all(|alts| alts.iter().any(|s| e.line.contains(s)))
                })
                .cloned()
                .collect();
            assert_eq!(got, want, "{f:?}");
        }
    }
}
