//! The write-ahead log: numbered segment files of checksummed records, plus
//! checkpoints that let old segments be deleted once the head has been cut
//! into a block.
//!
//! Every commit is one `write(2)` of whole records, so an acknowledged commit
//! survives the death of the process; a timer thread and `close` fsync it so
//! it also survives the machine. On replay a record that fails its length or
//! checksum check is where the log ends: the segment is truncated there and
//! later segments are removed, because anything after a hole could reference
//! series we no longer know. `docs/format/wal.md` describes the bytes.

use crate::encoding::{put_bytes, put_uvarint, put_varint, Reader};
use crate::stats::Counters;
use crate::{Error, Result};
use parking_lot::Mutex;
use sightline_core::{Label, Labels};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

pub(crate) const REC_SERIES: u8 = 1;
pub(crate) const REC_SAMPLES: u8 = 2;
pub(crate) const REC_TRUNCATED: u8 = 3;
/// Chunks in the XOR encoding: what checkpoints held before the head
/// moved to encoding 3. Still read, no longer written.
pub(crate) const REC_CHUNKS_XOR: u8 = 4;
pub(crate) const REC_CHUNKS: u8 = 5;
/// Native histogram samples (`wal_histograms.rs`). Numbered well apart from
/// the float records so that other record types can take the next numbers.
pub(crate) const REC_HISTOGRAMS: u8 = 10;
/// Exemplars. 8, leaving 6 and 7 for histogram records.
pub(crate) const REC_EXEMPLARS: u8 = 8;
const HEADER_LEN: usize = 9;
/// Records larger than this are treated as garbage at replay.
const MAX_RECORD: usize = 1 << 30;

/// One decoded record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    Series(Vec<(u64, Labels)>),
    Samples(Vec<(u64, i64, f64)>),
    /// Written first in a checkpoint: data before this time is in blocks.
    Truncated(i64),
    /// Head chunks of series with their encoding (`crate::chunk::ENC_*`),
    /// in checkpoints: many times smaller than the same samples as a
    /// samples record.
    Chunks(u8, Vec<(u64, Vec<u8>)>),
    /// Native histogram samples: series ref, timestamp, histogram.
    Histograms(Vec<(u64, i64, sightline_core::FloatHistogram)>),
    /// Exemplars: series ref, timestamp, value, exemplar labels.
    Exemplars(Vec<(u64, i64, f64, Labels)>),
}

/// Frames `body` as a record of type `typ` onto `out`.
pub(crate) fn frame(out: &mut Vec<u8>, typ: u8, body: &[u8]) {
    out.push(typ);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(body);
}

/// Appends a series record to `out`. `scratch` is reused between calls.
pub(crate) fn encode_series<'a>(
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    series: impl IntoIterator<Item = (u64, &'a Labels)>,
) {
    scratch.clear();
    for (r, labels) in series {
        put_uvarint(scratch, r);
        put_uvarint(scratch, labels.len() as u64);
        for l in labels {
            put_bytes(scratch, l.name.as_bytes());
            put_bytes(scratch, l.value.as_bytes());
        }
    }
    if !scratch.is_empty() {
        frame(out, REC_SERIES, scratch);
    }
}

/// Appends a samples record: the first sample absolute, the rest as deltas
/// of ref and timestamp against it, values as raw 8 bytes.
pub(crate) fn encode_samples(
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    samples: &[(u64, i64, f64)],
) {
    scratch.clear();
    let Some(&(r0, t0, _)) = samples.first() else {
        return;
    };
    put_uvarint(scratch, r0);
    put_varint(scratch, t0);
    for &(r, t, v) in samples {
        put_varint(scratch, (r as i64).wrapping_sub(r0 as i64));
        put_varint(scratch, t.wrapping_sub(t0));
        scratch.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    frame(out, REC_SAMPLES, scratch);
}

/// Appends an exemplars record: the first ref and timestamp absolute, then
/// per exemplar the deltas of ref and timestamp against them, the value as
/// raw 8 bytes and the labels as a count and name/value byte strings.
pub(crate) fn encode_exemplars<'a>(
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    items: impl IntoIterator<Item = (u64, i64, f64, &'a Labels)>,
) {
    scratch.clear();
    let mut base: Option<(u64, i64)> = None;
    for (r, t, v, labels) in items {
        let (r0, t0) = *base.get_or_insert_with(|| {
            put_uvarint(scratch, r);
            put_varint(scratch, t);
            (r, t)
        });
        put_varint(scratch, (r as i64).wrapping_sub(r0 as i64));
        put_varint(scratch, t.wrapping_sub(t0));
        scratch.extend_from_slice(&v.to_bits().to_le_bytes());
        put_uvarint(scratch, labels.len() as u64);
        for l in labels {
            put_bytes(scratch, l.name.as_bytes());
            put_bytes(scratch, l.value.as_bytes());
        }
    }
    if base.is_some() {
        frame(out, REC_EXEMPLARS, scratch);
    }
}

/// Appends a chunks record (series ref, chunk bytes in the head's encoding,
/// `crate::head::series::HEAD_ENCODING`).
pub(crate) fn encode_chunks<C: std::ops::Deref<Target = [u8]>>(
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    chunks: &[(u64, C)],
) {
    scratch.clear();
    for (r, c) in chunks {
        put_uvarint(scratch, *r);
        put_bytes(scratch, c);
    }
    if !scratch.is_empty() {
        frame(out, REC_CHUNKS, scratch);
    }
}

/// A type-4 record of XOR chunks, as checkpoints held before encoding 3.
#[cfg(test)]
pub(crate) fn encode_xor_chunks_for_test(out: &mut Vec<u8>, chunks: &[(u64, &Vec<u8>)]) {
    let mut body = Vec::new();
    for (r, c) in chunks {
        put_uvarint(&mut body, *r);
        put_bytes(&mut body, c);
    }
    frame(out, REC_CHUNKS_XOR, &body);
}

/// Appends a record saying the head was truncated at `t`.
pub(crate) fn encode_truncated(out: &mut Vec<u8>, t: i64) {
    frame(out, REC_TRUNCATED, &t.to_le_bytes());
}

fn decode_body(typ: u8, body: &[u8]) -> Option<Record> {
    let mut r = Reader::new(body);
    match typ {
        REC_TRUNCATED => Some(Record::Truncated(r.u64_le()? as i64)),
        REC_HISTOGRAMS => crate::wal_histograms::decode(body).map(Record::Histograms),
        REC_CHUNKS | REC_CHUNKS_XOR => {
            let mut out = Vec::new();
            while r.remaining() > 0 {
                let id = r.uvarint()?;
                out.push((id, r.bytes()?.to_vec()));
            }
            let encoding = if typ == REC_CHUNKS {
                crate::head::series::HEAD_ENCODING
            } else {
                crate::chunk::ENC_XOR
            };
            Some(Record::Chunks(encoding, out))
        }
        REC_SERIES => {
            let mut out = Vec::new();
            while r.remaining() > 0 {
                let id = r.uvarint()?;
                let n = r.uvarint()? as usize;
                if n > body.len() {
                    return None;
                }
                let mut ls = Vec::with_capacity(n);
                for _ in 0..n {
                    let name = r.str()?;
                    let value = r.str()?;
                    ls.push(Label::new(name, value));
                }
                ls.sort();
                out.push((id, Labels::from_sorted(ls)));
            }
            Some(Record::Series(out))
        }
        REC_SAMPLES => {
            let mut out = Vec::new();
            let r0 = r.uvarint()?;
            let t0 = r.varint()?;
            while r.remaining() > 0 {
                let dr = r.varint()?;
                let dt = r.varint()?;
                let v = f64::from_bits(r.u64_le()?);
                out.push(((r0 as i64).wrapping_add(dr) as u64, t0.wrapping_add(dt), v));
            }
            Some(Record::Samples(out))
        }
        REC_EXEMPLARS => {
            let mut out = Vec::new();
            let r0 = r.uvarint()?;
            let t0 = r.varint()?;
            while r.remaining() > 0 {
                let dr = r.varint()?;
                let dt = r.varint()?;
                let v = f64::from_bits(r.u64_le()?);
                let n = r.uvarint()? as usize;
                if n > body.len() {
                    return None;
                }
                let mut ls = Vec::with_capacity(n);
                for _ in 0..n {
                    let name = r.str()?;
                    let value = r.str()?;
                    ls.push(Label::new(name, value));
                }
                ls.sort();
                out.push((
                    (r0 as i64).wrapping_add(dr) as u64,
                    t0.wrapping_add(dt),
                    v,
                    Labels::from_sorted(ls),
                ));
            }
            Some(Record::Exemplars(out))
        }
        _ => None,
    }
}

/// Parses the records of one file. Returns the records and, when the file
/// ends in damage, the offset of the first bad byte and why.
fn parse_file(buf: &[u8]) -> (Vec<Record>, Option<(usize, String)>) {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        if buf.len() - pos < HEADER_LEN {
            return (out, Some((pos, "torn record header".into())));
        }
        let typ = buf[pos];
        let len =
            u32::from_le_bytes([buf[pos + 1], buf[pos + 2], buf[pos + 3], buf[pos + 4]]) as usize;
        let crc = u32::from_le_bytes([buf[pos + 5], buf[pos + 6], buf[pos + 7], buf[pos + 8]]);
        let start = pos + HEADER_LEN;
        if len > MAX_RECORD || buf.len() - start < len {
            return (
                out,
                Some((pos, format!("record length {len} runs past the end"))),
            );
        }
        let body = &buf[start..start + len];
        if crc32fast::hash(body) != crc {
            return (out, Some((pos, "checksum mismatch".into())));
        }
        match decode_body(typ, body) {
            Some(rec) => out.push(rec),
            None => {
                return (
                    out,
                    Some((pos, format!("undecodable record of type {typ}"))),
                )
            }
        }
        pos = start + len;
    }
    (out, None)
}

fn segment_name(seq: u32) -> String {
    format!("{seq:08}")
}

/// Segment numbers in `dir`, sorted.
fn list_segments(dir: &Path) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))? {
        let e = e.map_err(|e| Error::io("read dir", dir, e))?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.len() == 8 {
            if let Ok(n) = name.parse::<u32>() {
                out.push(n);
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The newest complete checkpoint: `(dir, last segment it covers)`.
fn last_checkpoint(dir: &Path) -> Result<Option<(PathBuf, u32)>> {
    let mut best: Option<(PathBuf, u32)> = None;
    for e in fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))? {
        let e = e.map_err(|e| Error::io("read dir", dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(n) = name.strip_prefix("checkpoint.") {
            if let Ok(n) = n.parse::<u32>() {
                if best.as_ref().is_none_or(|b| n > b.1) {
                    best = Some((e.path(), n));
                }
            } else if n.ends_with(".tmp") {
                // A checkpoint interrupted by a crash: the segments it would
                // replace are still there.
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(best)
}

/// What the appender side of the log holds behind its lock.
struct Writer {
    file: File,
    seq: u32,
    size: u64,
    dirty: bool,
    buf: Vec<u8>,
    scratch: Vec<u8>,
}

/// An open write-ahead log.
pub(crate) struct Wal {
    dir: PathBuf,
    segment_size: u64,
    w: Mutex<Writer>,
    counters: Arc<Counters>,
}

impl Wal {
    /// Replays `dir` (creating it if needed), calling `f` for each record in
    /// order, repairs a damaged tail, and opens a fresh segment for appends.
    pub(crate) fn open(
        dir: &Path,
        segment_size: u64,
        counters: Arc<Counters>,
        mut f: impl FnMut(Record),
    ) -> Result<Wal> {
        fs::create_dir_all(dir).map_err(|e| Error::io("create dir", dir, e))?;
        let checkpoint = last_checkpoint(dir)?;
        let mut after = 0u32;
        if let Some((cp, n)) = &checkpoint {
            after = *n;
            for seq in list_segments(cp)? {
                let path = cp.join(segment_name(seq));
                let buf = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
                let (recs, bad) = parse_file(&buf);
                Counters::inc(&counters.wal_replayed_records, recs.len() as u64);
                recs.into_iter().for_each(&mut f);
                if let Some((off, why)) = bad {
                    // A checkpoint is written to a temporary name and fsynced
                    // before it is renamed, so damage here is the disk's doing;
                    // keep what we could read.
                    Counters::inc(&counters.wal_corruptions, 1);
                    log::error!(
                        "wal checkpoint {} damaged at offset {off}: {why}",
                        path.display()
                    );
                }
            }
        }
        let segs: Vec<u32> = list_segments(dir)?
            .into_iter()
            .filter(|s| *s > after)
            .collect();
        let mut last = after;
        for (i, &seq) in segs.iter().enumerate() {
            let path = dir.join(segment_name(seq));
            let buf = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
            let (recs, bad) = parse_file(&buf);
            Counters::inc(&counters.wal_replayed_records, recs.len() as u64);
            recs.into_iter().for_each(&mut f);
            last = seq;
            if let Some((off, why)) = bad {
                Counters::inc(&counters.wal_corruptions, 1);
                log::warn!(
                    "wal segment {} damaged at offset {off} ({why}); truncating there and dropping {} later segments",
                    path.display(),
                    segs.len() - i - 1
                );
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| Error::io("open", &path, e))?;
                file.set_len(off as u64)
                    .map_err(|e| Error::io("truncate", &path, e))?;
                file.sync_all().map_err(|e| Error::io("fsync", &path, e))?;
                for &later in &segs[i + 1..] {
                    let p = dir.join(segment_name(later));
                    fs::remove_file(&p).map_err(|e| Error::io("remove", &p, e))?;
                }
                break;
            }
        }
        let seq = last + 1;
        let file = create_segment(dir, seq)?;
        Ok(Wal {
            dir: dir.to_path_buf(),
            segment_size,
            w: Mutex::new(Writer {
                file,
                seq,
                size: 0,
                dirty: false,
                buf: Vec::new(),
                scratch: Vec::new(),
            }),
            counters,
        })
    }

    /// Writes framed records with one `write(2)`, starting a new segment
    /// first when this one would grow past the segment size.
    #[cfg(test)]
    pub(crate) fn log(&self, buf: &[u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let mut w = self.w.lock();
        self.write_locked(&mut w, buf)
    }

    /// Lets `fill` frame records into a reused buffer while the log is
    /// locked, then writes them: records from concurrent callers never
    /// interleave and appear in the order `fill` ran.
    pub(crate) fn log_with(&self, fill: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>)) -> Result<()> {
        let mut w = self.w.lock();
        let mut buf = std::mem::take(&mut w.buf);
        let mut scratch = std::mem::take(&mut w.scratch);
        buf.clear();
        fill(&mut buf, &mut scratch);
        let res = self.write_locked(&mut w, &buf);
        if buf.capacity() > 16 << 20 {
            buf = Vec::new();
        }
        w.buf = buf;
        w.scratch = scratch;
        res
    }

    fn write_locked(&self, w: &mut Writer, buf: &[u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        if w.size > 0 && w.size + buf.len() as u64 > self.segment_size {
            self.rotate(w)?;
        }
        let seq = w.seq;
        w.file
            .write_all(buf)
            .map_err(|e| Error::io("write", self.dir.join(segment_name(seq)), e))?;
        w.size += buf.len() as u64;
        w.dirty = true;
        Ok(())
    }

    fn rotate(&self, w: &mut Writer) -> Result<()> {
        let old = self.dir.join(segment_name(w.seq));
        let t0 = Instant::now();
        w.file
            .sync_data()
            .map_err(|e| Error::io("fsync", &old, e))?;
        self.count_fsync(t0);
        w.seq += 1;
        w.file = create_segment(&self.dir, w.seq)?;
        w.size = 0;
        w.dirty = false;
        Ok(())
    }

    fn count_fsync(&self, t0: Instant) {
        Counters::inc(&self.counters.wal_fsyncs, 1);
        Counters::inc(
            &self.counters.wal_fsync_nanos,
            t0.elapsed().as_nanos() as u64,
        );
    }

    /// fsyncs the current segment if anything was written since the last one.
    pub(crate) fn sync(&self) -> Result<()> {
        let mut w = self.w.lock();
        if !w.dirty {
            return Ok(());
        }
        let t0 = Instant::now();
        let seq = w.seq;
        w.file
            .sync_data()
            .map_err(|e| Error::io("fsync", self.dir.join(segment_name(seq)), e))?;
        w.dirty = false;
        self.count_fsync(t0);
        Ok(())
    }

    /// Closes the current segment and starts the next; returns the number of
    /// the closed one, which a checkpoint can then cover.
    pub(crate) fn cut(&self) -> Result<u32> {
        let mut w = self.w.lock();
        let closed = w.seq;
        self.rotate(&mut w)?;
        Ok(closed)
    }

    /// Writes `records` (already framed) as `checkpoint.<upto>`, then deletes
    /// segments up to `upto` and older checkpoints. The checkpoint is built
    /// under a temporary name and renamed, so a crash leaves either the old
    /// state or the new one.
    pub(crate) fn checkpoint(&self, upto: u32, records: &[u8]) -> Result<()> {
        let name = format!("checkpoint.{}", segment_name(upto));
        let tmp = self.dir.join(format!("{name}.tmp"));
        let fin = self.dir.join(&name);
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).map_err(|e| Error::io("create dir", &tmp, e))?;
        let seg = tmp.join(segment_name(0));
        let mut f = File::create(&seg).map_err(|e| Error::io("create", &seg, e))?;
        f.write_all(records)
            .map_err(|e| Error::io("write", &seg, e))?;
        f.sync_all().map_err(|e| Error::io("fsync", &seg, e))?;
        drop(f);
        sync_dir(&tmp)?;
        let _ = fs::remove_dir_all(&fin);
        fs::rename(&tmp, &fin).map_err(|e| Error::io("rename", &tmp, e))?;
        sync_dir(&self.dir)?;
        for seq in list_segments(&self.dir)? {
            if seq <= upto {
                let p = self.dir.join(segment_name(seq));
                fs::remove_file(&p).map_err(|e| Error::io("remove", &p, e))?;
            }
        }
        for e in fs::read_dir(&self.dir).map_err(|e| Error::io("read dir", &self.dir, e))? {
            let e = e.map_err(|e| Error::io("read dir", &self.dir, e))?;
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with("checkpoint.") && n != name {
                let _ = fs::remove_dir_all(e.path());
            }
        }
        Ok(())
    }

    /// Bytes of segments and checkpoints on disk.
    pub(crate) fn size_bytes(&self) -> u64 {
        dir_size(&self.dir)
    }
}

fn create_segment(dir: &Path, seq: u32) -> Result<File> {
    let path = dir.join(segment_name(seq));
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::io("create", &path, e))?;
    sync_dir(dir)?;
    Ok(f)
}

/// fsyncs a directory so a create or rename in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("fsync dir", dir, e))
}

/// Bytes of all files under `p`, recursively; errors count as 0.
pub(crate) fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    fn labels(v: &str) -> Labels {
        Labels::from_pairs([("__name__", "m"), ("i", v)])
    }

    fn write_some(wal: &Wal, n: u64) {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        for i in 0..n {
            out.clear();
            let l = labels(&i.to_string());
            encode_series(&mut out, &mut scratch, [(i + 1, &l)]);
            encode_samples(
                &mut out,
                &mut scratch,
                &[
                    (i + 1, i as i64 * 10, i as f64),
                    (i + 1, i as i64 * 10 + 5, -1.0),
                ],
            );
            wal.log(&out).unwrap();
        }
    }

    fn replay(dir: &Path) -> (Vec<Record>, Arc<Counters>) {
        let c = Arc::new(Counters::default());
        let mut recs = Vec::new();
        let _w = Wal::open(dir, 1 << 20, c.clone(), |r| recs.push(r)).unwrap();
        (recs, c)
    }

    #[test]
    fn records_survive_reopen_in_order() {
        let d = TempDir::new("wal-replay");
        {
            let wal = Wal::open(d.path(), 1 << 20, Arc::default(), |_| {}).unwrap();
            write_some(&wal, 10);
        }
        let (recs, c) = replay(d.path());
        assert_eq!(recs.len(), 20);
        assert_eq!(recs[0], Record::Series(vec![(1, labels("0"))]));
        assert_eq!(
            recs[19],
            Record::Samples(vec![(10, 90, 9.0), (10, 95, -1.0)])
        );
        assert_eq!(Counters::get(&c.wal_corruptions), 0);
    }

    #[test]
    fn exemplar_records_round_trip() {
        // issue 12: exemplars survive a restart through their own record.
        let d = TempDir::new("wal-exemplars");
        let (a, b) = (labels("t1"), Labels::empty());
        {
            let wal = Wal::open(d.path(), 1 << 20, Arc::default(), |_| {}).unwrap();
            let (mut out, mut scratch) = (Vec::new(), Vec::new());
            encode_exemplars(
                &mut out,
                &mut scratch,
                [(7, 1000, 0.5, &a), (3, 990, -1.0, &b)],
            );
            encode_exemplars(&mut out, &mut scratch, std::iter::empty());
            wal.log(&out).unwrap();
        }
        let (recs, _) = replay(d.path());
        assert_eq!(
            recs,
            vec![Record::Exemplars(vec![
                (7, 1000, 0.5, a),
                (3, 990, -1.0, b)
            ])]
        );
    }

    #[test]
    fn segments_rotate_at_size() {
        let d = TempDir::new("wal-rotate");
        let wal = Wal::open(d.path(), 64 << 10, Arc::default(), |_| {}).unwrap();
        write_some(&wal, 3000);
        drop(wal);
        assert!(list_segments(d.path()).unwrap().len() > 2);
        let (recs, _) = replay(d.path());
        assert_eq!(recs.len(), 6000);
    }

    #[test]
    fn torn_tail_is_truncated_and_counted() {
        for damage in ["truncate", "garbage", "flip"] {
            let d = TempDir::new("wal-torn");
            {
                let wal = Wal::open(d.path(), 1 << 20, Arc::default(), |_| {}).unwrap();
                write_some(&wal, 5);
            }
            let seg = d.path().join(segment_name(1));
            let mut bytes = fs::read(&seg).unwrap();
            match damage {
                "truncate" => bytes.truncate(bytes.len() - 4),
                "garbage" => {
                    bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7])
                }
                _ => {
                    let n = bytes.len();
                    bytes[n - 2] ^= 0xff;
                }
            }
            fs::write(&seg, &bytes).unwrap();
            let (recs, c) = replay(d.path());
            let want = if damage == "garbage" { 10 } else { 9 };
            assert_eq!(recs.len(), want, "{damage}");
            assert_eq!(Counters::get(&c.wal_corruptions), 1, "{damage}");
            // The repair is persistent: a second open sees a clean log.
            let (recs, c) = replay(d.path());
            assert_eq!(recs.len(), want);
            assert_eq!(Counters::get(&c.wal_corruptions), 0);
        }
    }

    #[test]
    fn damage_in_a_middle_segment_drops_the_segments_after_it() {
        let d = TempDir::new("wal-middle");
        {
            let wal = Wal::open(d.path(), 64 << 10, Arc::default(), |_| {}).unwrap();
            write_some(&wal, 3000);
        }
        let segs = list_segments(d.path()).unwrap();
        assert!(segs.len() >= 3, "{segs:?}");
        let victim = d.path().join(segment_name(segs[1]));
        let mut b = fs::read(&victim).unwrap();
        b[100] ^= 0x01;
        fs::write(&victim, &b).unwrap();
        let (recs, c) = replay(d.path());
        assert_eq!(Counters::get(&c.wal_corruptions), 1);
        assert!(!recs.is_empty() && recs.len() < 6000);
        // Segments after the damaged one are gone; the damaged one was cut
        // before its bad record; a new segment follows.
        let left = list_segments(d.path()).unwrap();
        assert_eq!(left, vec![segs[0], segs[1], segs[1] + 1]);
        assert!(fs::metadata(&victim).unwrap().len() <= 100);
    }

    #[test]
    fn checkpoint_replaces_old_segments() {
        let d = TempDir::new("wal-cp");
        {
            let wal = Wal::open(d.path(), 1 << 20, Arc::default(), |_| {}).unwrap();
            write_some(&wal, 4);
            let upto = wal.cut().unwrap();
            let mut cp = Vec::new();
            let mut scratch = Vec::new();
            let l = labels("kept");
            encode_series(&mut cp, &mut scratch, [(99, &l)]);
            wal.checkpoint(upto, &cp).unwrap();
            let mut out = Vec::new();
            encode_samples(&mut out, &mut scratch, &[(99, 1000, 1.5)]);
            wal.log(&out).unwrap();
        }
        assert_eq!(list_segments(d.path()).unwrap(), vec![2]);
        let (recs, _) = replay(d.path());
        assert_eq!(
            recs,
            vec![
                Record::Series(vec![(99, labels("kept"))]),
                Record::Samples(vec![(99, 1000, 1.5)])
            ]
        );
    }
}
