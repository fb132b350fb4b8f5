//! Little-endian varints and length-prefixed strings: the encoding of WAL
//! records, chunk payloads and the block index (`docs/format/logstore.md`).

use crate::{Error, Result};

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded, so small negative numbers stay short.
pub(crate) fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends a varint length, then the bytes.
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A cursor over encoded bytes; every read names the offset where it
/// failed.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'a str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'a str) -> Self {
        Reader { buf, pos: 0, what }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(crate) fn err(&self, reason: &str) -> Error {
        Error::corrupt(self.what, self.pos as u64, reason)
    }

    pub(crate) fn uvarint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err("varint runs past the end"));
            };
            self.pos += 1;
            if shift >= 64 {
                return Err(self.err("varint too long"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    pub(crate) fn varint(&mut self) -> Result<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A count that must fit what is left (each counted item takes at
    /// least one byte), so a damaged count cannot ask for a huge allocation.
    pub(crate) fn count(&mut self) -> Result<usize> {
        let n = self.uvarint()?;
        if n > (self.buf.len() - self.pos) as u64 {
            return Err(self.err("count larger than the bytes left"));
        }
        Ok(n as usize)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.buf.len() - self.pos {
            return Err(self.err("length runs past the end"));
        }
        let b = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }

    pub(crate) fn str(&mut self) -> Result<&'a str> {
        let n = self.uvarint()?;
        let n = usize::try_from(n).map_err(|_| self.err("length too large"))?;
        let at = self.pos;
        let b = self.bytes(n)?;
        std::str::from_utf8(b).map_err(|_| Error::corrupt(self.what, at as u64, "invalid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_are_the_documented_bytes() {
        let mut b = Vec::new();
        put_uvarint(&mut b, 300);
        assert_eq!(b, [0xac, 0x02]);
        b.clear();
        put_varint(&mut b, -1);
        assert_eq!(b, [0x01]);
        for v in [
            0i64,
            1,
            -1,
            63,
            -64,
            i64::MAX,
            i64::MIN,
            1_700_000_000_000_000_000,
        ] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            put_str(&mut b, "héllo");
            let mut r = Reader::new(&b, "test");
            assert_eq!(r.varint().unwrap(), v);
            assert_eq!(r.str().unwrap(), "héllo");
            assert!(r.is_empty());
        }
        let mut r = Reader::new(&[0x80], "x");
        assert!(r.uvarint().unwrap_err().to_string().contains("offset 1"));
    }
}
