//! The log store's WAL record: one per push, written before the push is
//! acknowledged ([`sightline_storage::wal`] frames and checksums it).
//!
//! Type 1, `push`: the tenant, then per stream its label pairs and its
//! accepted entries (time as a zigzag varint, line, metadata pairs).
//! `docs/format/logstore.md` has the bytes.

use crate::codec::{put_str, put_uvarint, put_varint, Reader};
use crate::Result;
use sightline_core::logs::LogEntry;
use sightline_core::Labels;

/// The record type of a push.
pub(crate) const PUSH: u8 = 1;

/// Encodes a push body onto `out`.
pub(crate) fn encode_push<'a>(
    out: &mut Vec<u8>,
    tenant: &str,
    streams: impl ExactSizeIterator<Item = (&'a Labels, &'a [LogEntry])>,
) {
    put_str(out, tenant);
    put_uvarint(out, streams.len() as u64);
    for (labels, entries) in streams {
        put_uvarint(out, labels.len() as u64);
        for l in labels.iter() {
            put_str(out, &l.name);
            put_str(out, &l.value);
        }
        put_uvarint(out, entries.len() as u64);
        for e in entries {
            put_varint(out, e.ts_ns);
            put_str(out, &e.line);
            put_uvarint(out, e.metadata.len() as u64);
            for (k, v) in &e.metadata {
                put_str(out, k);
                put_str(out, v);
            }
        }
    }
}

/// A decoded push.
pub(crate) struct Push {
    pub tenant: String,
    pub streams: Vec<(Labels, Vec<LogEntry>)>,
}

/// Decodes a push body.
pub(crate) fn decode_push(body: &[u8]) -> Result<Push> {
    let mut r = Reader::new(body, "wal push record");
    let tenant = r.str()?.to_owned();
    let n = r.count()?;
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let nl = r.count()?;
        let mut labels: Vec<(String, String)> = Vec::with_capacity(nl);
        for _ in 0..nl {
            labels.push((r.str()?.to_owned(), r.str()?.to_owned()));
        }
        let ne = r.count()?;
        let mut entries = Vec::with_capacity(ne);
        for _ in 0..ne {
            let ts_ns = r.varint()?;
            let line = r.str()?.to_owned();
            let nm = r.count()?;
            let mut metadata = Vec::with_capacity(nm);
            for _ in 0..nm {
                metadata.push((r.str()?.to_owned(), r.str()?.to_owned()));
            }
            entries.push(LogEntry {
                ts_ns,
                line,
                metadata,
            });
        }
        // from_pairs sorts: a damaged record must not break the label order.
        streams.push((Labels::from_pairs(labels), entries));
    }
    if !r.is_empty() {
        return Err(r.err("bytes after the last stream"));
    }
    Ok(Push { tenant, streams })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_records_round_trip() {
        let labels = Labels::from_pairs([("app", "a"), ("env", "prod")]);
        let entries = vec![LogEntry {
            ts_ns: -5,
            line: "x y".into(),
            metadata: vec![("k".into(), "v".into())],
        }];
        let mut buf = Vec::new();
        encode_push(&mut buf, "t1", std::iter::once((&labels, &entries[..])));
        let p = decode_push(&buf).unwrap();
        assert_eq!(p.tenant, "t1");
        assert_eq!(p.streams, vec![(labels, entries)]);
        assert!(decode_push(&buf[..buf.len() - 1]).is_err());
    }
}
