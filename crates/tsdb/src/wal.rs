//! The TSDB's WAL records: series, float samples, histograms (in
//! `wal_histograms.rs`), exemplars, head chunks and truncation marks, and
//! [`open`], which opens the log with them.
//!
//! The log itself (segments, framing, fsync, checkpoints, torn-tail repair)
//! is `sightline_storage::wal`, shared with the other stores; this module
//! owns what the record bodies mean. A body that does not decode ends the
//! log at that record, as a torn one does. `docs/format/wal.md` describes
//! the bytes.

use crate::encoding::{put_bytes, put_uvarint, put_varint, Reader};
use crate::Result;
use sightline_core::{Label, Labels};
pub(crate) use sightline_storage::record::frame;
use sightline_storage::wal::{SyncPolicy, Wal, WalOptions, WalStats};
use std::path::Path;
use std::sync::Arc;

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

/// A label set as series and exemplar records hold it: a count, then name
/// and value strings. A count larger than the record (`limit` bytes) is
/// damage, not a reason to allocate.
fn read_labels(r: &mut Reader<'_>, limit: usize) -> Option<Labels> {
    let n = r.uvarint()? as usize;
    if n > limit {
        return None;
    }
    let mut ls = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.str()?;
        let value = r.str()?;
        ls.push(Label::new(name, value));
    }
    ls.sort();
    Some(Labels::from_sorted(ls))
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
                out.push((id, read_labels(&mut r, body.len())?));
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
                let labels = read_labels(&mut r, body.len())?;
                out.push((
                    (r0 as i64).wrapping_add(dr) as u64,
                    t0.wrapping_add(dt),
                    v,
                    labels,
                ));
            }
            Some(Record::Exemplars(out))
        }
        _ => None,
    }
}

/// Opens the WAL in `dir`, handing every replayed record to `f` in order.
/// The TSDB fsyncs from its own timer thread ([`SyncPolicy::Periodic`]).
pub(crate) fn open(
    dir: &Path,
    segment_size: u64,
    stats: Arc<WalStats>,
    mut f: impl FnMut(Record),
) -> Result<Wal> {
    let opts = WalOptions {
        segment_size,
        sync: SyncPolicy::Periodic,
    };
    let wal = Wal::open(dir, opts, stats, |typ, body| match decode_body(typ, body) {
        Some(rec) => {
            f(rec);
            true
        }
        None => false,
    })?;
    Ok(wal)
}

#[cfg(test)]
mod tests {
    //! The records' bytes and meaning; segments, checkpoints and repair are
    //! tested in `sightline_storage::wal`.
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

    fn replay(dir: &Path) -> (Vec<Record>, Arc<WalStats>) {
        let stats = Arc::new(WalStats::default());
        let mut recs = Vec::new();
        let _w = open(dir, 1 << 20, stats.clone(), |r| recs.push(r)).unwrap();
        (recs, stats)
    }

    #[test]
    fn records_survive_reopen_in_order() {
        let d = TempDir::new("wal-replay");
        {
            let wal = open(d.path(), 1 << 20, Arc::default(), |_| {}).unwrap();
            write_some(&wal, 10);
            let mut out = Vec::new();
            encode_truncated(&mut out, -5);
            wal.log(&out).unwrap();
        }
        let (recs, stats) = replay(d.path());
        assert_eq!(recs.len(), 21);
        assert_eq!(recs[0], Record::Series(vec![(1, labels("0"))]));
        assert_eq!(
            recs[19],
            Record::Samples(vec![(10, 90, 9.0), (10, 95, -1.0)])
        );
        assert_eq!(recs[20], Record::Truncated(-5));
        assert_eq!(stats.corruptions(), 0);
        assert_eq!(stats.replayed_records(), 21);
    }

    #[test]
    fn samples_record_bytes_are_as_documented() {
        // docs/format/wal.md, record type 2, worked by hand: base ref 3,
        // base time 1000 (zig-zag 2000 = d0 0f), then per sample the ref
        // delta, the time delta and the value's bits.
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        encode_samples(&mut out, &mut scratch, &[(3, 1000, 1.0), (4, 990, -0.5)]);
        let body = [
            3, 0xd0, 0x0f, // base
            0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // +0, +0, 1.0
            2, 19, 0, 0, 0, 0, 0, 0, 0xe0, 0xbf, // +1, -10, -0.5
        ];
        let mut want = vec![REC_SAMPLES];
        want.extend_from_slice(&(body.len() as u32).to_le_bytes());
        want.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        want.extend_from_slice(&body);
        assert_eq!(out, want);
    }

    #[test]
    fn exemplar_records_round_trip() {
        // issue 12: exemplars survive a restart through their own record.
        let d = TempDir::new("wal-exemplars");
        let (a, b) = (labels("t1"), Labels::empty());
        {
            let wal = open(d.path(), 1 << 20, Arc::default(), |_| {}).unwrap();
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
    fn an_unknown_record_type_ends_the_log() {
        let d = TempDir::new("wal-unknown");
        {
            let wal = open(d.path(), 1 << 20, Arc::default(), |_| {}).unwrap();
            write_some(&wal, 2);
            let mut out = Vec::new();
            frame(&mut out, 6, b"not ours");
            wal.log(&out).unwrap();
            write_some(&wal, 1);
        }
        let (recs, stats) = replay(d.path());
        assert_eq!(recs.len(), 4, "the records before the unknown one");
        assert_eq!(stats.corruptions(), 1);
        let (recs, stats) = replay(d.path());
        assert_eq!((recs.len(), stats.corruptions()), (4, 0), "repaired");
    }
}
