//! Checksummed, length-prefixed records: the framing of every WAL segment
//! and checkpoint.
//!
//! A record is a 9-byte header, then the body:
//!
//! ```text
//! ┌──────────┬──────────────────┬───────────────────┬───────────┐
//! │ type: u8 │ len: u32 LE      │ crc32(body): u32 LE│ body: len │
//! └──────────┴──────────────────┴───────────────────┴───────────┘
//! ```
//!
//! The CRC is CRC-32 (IEEE), as `crc32fast` computes it. The type byte is the
//! owner's: the framing neither knows nor checks it, so the log store and
//! the trace store number their records as they like. `docs/format/wal.md`
//! describes the bytes.

/// Bytes before a record's body.
pub const HEADER_LEN: usize = 9;

/// Records larger than this are treated as garbage when read back: a torn
/// or overwritten length field would otherwise ask for gigabytes.
pub const MAX_RECORD: usize = 1 << 30;

/// Frames `body` as a record of type `typ` onto `out`.
pub fn frame(out: &mut Vec<u8>, typ: u8, body: &[u8]) {
    out.push(typ);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(body);
}

/// Where and why a file's records stop before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Offset of the first byte of the bad record: the file is sound before it.
    pub offset: usize,
    /// What was wrong with it.
    pub reason: String,
}

/// Walks the records of `buf`, calling `f(type, body)` for each in order.
/// `f` returns false when it cannot decode a body, which ends the walk as
/// damage does (an undecodable record is as untrustworthy as a torn one).
/// Returns the damage, if the walk stopped before the end.
pub fn for_each(buf: &[u8], mut f: impl FnMut(u8, &[u8]) -> bool) -> Option<Damage> {
    let mut pos = 0;
    let damage = |offset: usize, reason: String| Some(Damage { offset, reason });
    while pos < buf.len() {
        if buf.len() - pos < HEADER_LEN {
            return damage(pos, "torn record header".into());
        }
        let typ = buf[pos];
        let len =
            u32::from_le_bytes([buf[pos + 1], buf[pos + 2], buf[pos + 3], buf[pos + 4]]) as usize;
        let crc = u32::from_le_bytes([buf[pos + 5], buf[pos + 6], buf[pos + 7], buf[pos + 8]]);
        let start = pos + HEADER_LEN;
        if len > MAX_RECORD || buf.len() - start < len {
            return damage(pos, format!("record length {len} runs past the end"));
        }
        let body = &buf[start..start + len];
        if crc32fast::hash(body) != crc {
            return damage(pos, "checksum mismatch".into());
        }
        if !f(typ, body) {
            return damage(pos, format!("undecodable record of type {typ}"));
        }
        pos = start + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(buf: &[u8]) -> (Vec<(u8, Vec<u8>)>, Option<Damage>) {
        let mut out = Vec::new();
        let d = for_each(buf, |t, b| {
            out.push((t, b.to_vec()));
            true
        });
        (out, d)
    }

    #[test]
    fn frames_are_byte_exact() {
        // The bytes docs/format/wal.md promises, worked by hand: type 2,
        // length 3, CRC-32 of "abc" = 0x352441c2.
        let mut out = Vec::new();
        frame(&mut out, 2, b"abc");
        assert_eq!(
            out,
            [2, 3, 0, 0, 0, 0xc2, 0x41, 0x24, 0x35, b'a', b'b', b'c']
        );
    }

    #[test]
    fn damage_is_found_where_it_starts() {
        let mut buf = Vec::new();
        frame(&mut buf, 1, b"first");
        let second = buf.len();
        frame(&mut buf, 7, b"second");
        let (recs, d) = records(&buf);
        assert_eq!(recs.len(), 2);
        assert_eq!(d, None);

        let (recs, d) = records(&buf[..buf.len() - 1]);
        assert_eq!(recs, vec![(1, b"first".to_vec())]);
        let d = d.unwrap();
        assert_eq!(d.offset, second);
        assert!(d.reason.contains("runs past the end"), "{}", d.reason);

        let (_, d) = records(&buf[..second + 4]);
        assert_eq!(d.unwrap().reason, "torn record header");

        let mut flipped = buf.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let (recs, d) = records(&flipped);
        assert_eq!(recs.len(), 1);
        assert_eq!(d.unwrap().reason, "checksum mismatch");

        let d = for_each(&buf, |t, _| t != 7).unwrap();
        assert_eq!(d.offset, second);
        assert_eq!(d.reason, "undecodable record of type 7");
    }
}
