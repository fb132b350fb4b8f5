//! Byte encodings shared by the WAL record and the block columns
//! (`docs/format/eventstore.md`): LEB128 varints, zigzag, length-prefixed
//! strings, and the column payloads (delta-coded times, width-adapted
//! codes, string lists, dictionaries).

use crate::{Error, Result};

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded.
pub(crate) fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends a varint length, then the bytes.
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Appends an optional string: 0 for none, else length + 1 and the bytes.
pub(crate) fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            put_uvarint(out, s.len() as u64 + 1);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// A cursor over encoded bytes; every failed read names the offset.
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

    pub(crate) fn u8(&mut self) -> Result<u8> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.err("byte runs past the end"))?;
        self.pos += 1;
        Ok(b)
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

    /// A count that must fit what is left (each item takes a byte at
    /// least), so a damaged count cannot ask for a huge allocation.
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
        self.utf8(n)
    }

    pub(crate) fn opt_str(&mut self) -> Result<Option<&'a str>> {
        let n = self.uvarint()?;
        if n == 0 {
            return Ok(None);
        }
        let n = usize::try_from(n - 1).map_err(|_| self.err("length too large"))?;
        self.utf8(n).map(Some)
    }

    fn utf8(&mut self, n: usize) -> Result<&'a str> {
        let at = self.pos;
        let b = self.bytes(n)?;
        std::str::from_utf8(b).map_err(|_| Error::corrupt(self.what, at as u64, "invalid UTF-8"))
    }
}

/// Encodes times in ascending order: the first zigzag, then the
/// (non-negative) differences as uvarints.
pub(crate) fn put_times(out: &mut Vec<u8>, ts: &[i64]) {
    let mut prev = 0i64;
    for (i, &t) in ts.iter().enumerate() {
        if i == 0 {
            put_varint(out, t);
        } else {
            put_uvarint(out, (t - prev) as u64);
        }
        prev = t;
    }
}

/// Decodes `n` times written by [`put_times`] onto `out`. The loop is
/// the scan's hot path: it reads varints without the [`Reader`]'s checks
/// per byte, and fails only at the end of input.
pub(crate) fn get_times(buf: &[u8], n: usize, out: &mut Vec<i64>, what: &str) -> Result<()> {
    out.reserve(n);
    let mut r = Reader::new(buf, what);
    if n == 0 {
        return Ok(());
    }
    let mut t = r.varint()?;
    out.push(t);
    let mut pos = r.pos;
    for _ in 1..n {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let Some(&b) = buf.get(pos) else {
                return Err(Error::corrupt(what, pos as u64, "times run past the end"));
            };
            pos += 1;
            v |= u64::from(b & 0x7f) << (shift & 63);
            if b < 0x80 {
                break;
            }
            shift += 7;
        }
        t = t.wrapping_add(v as i64);
        out.push(t);
    }
    Ok(())
}

/// Encodes codes in the narrowest of 1, 2 or 4 bytes each that holds the
/// largest: a width byte, then the codes little-endian.
pub(crate) fn put_codes(out: &mut Vec<u8>, codes: &[u32]) {
    let max = codes.iter().copied().max().unwrap_or(0);
    let w: u8 = if max <= 0xff {
        1
    } else if max <= 0xffff {
        2
    } else {
        4
    };
    out.push(w);
    out.reserve(codes.len() * w as usize);
    match w {
        1 => out.extend(codes.iter().map(|&c| c as u8)),
        2 => codes
            .iter()
            .for_each(|&c| out.extend_from_slice(&(c as u16).to_le_bytes())),
        _ => codes
            .iter()
            .for_each(|&c| out.extend_from_slice(&c.to_le_bytes())),
    }
}

/// Decodes `n` codes written by [`put_codes`] onto `out`; returns the
/// bytes read.
pub(crate) fn get_codes(buf: &[u8], n: usize, out: &mut Vec<u32>, what: &str) -> Result<usize> {
    let Some((&w, rest)) = buf.split_first() else {
        return Err(Error::corrupt(what, 0, "codes without a width"));
    };
    let need = n * w as usize;
    if !matches!(w, 1 | 2 | 4) || rest.len() < need {
        return Err(Error::corrupt(what, 0, "bad code width or length"));
    }
    let rest = &rest[..need];
    match w {
        1 => out.extend(rest.iter().map(|&b| u32::from(b))),
        2 => out.extend(
            rest.chunks_exact(2)
                .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]]))),
        ),
        _ => out.extend(
            rest.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        ),
    }
    Ok(1 + need)
}

/// A dictionary column: the distinct strings (count, then each), then the
/// codes ([`put_codes`]): index into the strings plus one, 0 for none.
pub(crate) fn put_dict(out: &mut Vec<u8>, dict: &[String], codes: &[u32]) {
    put_uvarint(out, dict.len() as u64);
    for s in dict {
        put_str(out, s);
    }
    put_codes(out, codes);
}

/// Decodes a [`put_dict`] column of `n` rows.
pub(crate) fn get_dict(
    buf: &[u8],
    n: usize,
    dict: &mut Vec<String>,
    codes: &mut Vec<u32>,
    what: &str,
) -> Result<()> {
    let mut r = Reader::new(buf, what);
    let k = r.count()?;
    dict.reserve(k);
    for _ in 0..k {
        dict.push(r.str()?.to_owned());
    }
    let start = codes.len();
    get_codes(&buf[r.pos..], n, codes, what)?;
    if codes[start..].iter().any(|&c| c as usize > k) {
        return Err(Error::corrupt(
            what,
            r.pos as u64,
            "code past the dictionary",
        ));
    }
    Ok(())
}

/// Builds a dictionary column from values in row order.
#[derive(Default)]
pub(crate) struct DictBuilder {
    pub dict: Vec<String>,
    pub codes: Vec<u32>,
    index: std::collections::HashMap<String, u32>,
}

impl DictBuilder {
    pub(crate) fn push(&mut self, v: Option<&str>) {
        let code = match v {
            None => 0,
            Some(s) => match self.index.get(s) {
                Some(&c) => c,
                None => {
                    self.dict.push(s.to_owned());
                    let c = self.dict.len() as u32;
                    self.index.insert(s.to_owned(), c);
                    c
                }
            },
        };
        self.codes.push(code);
    }
}

/// zstd-compresses `raw` at `level`.
pub(crate) fn compress(raw: &[u8], level: i32) -> Result<Vec<u8>> {
    zstd::bulk::compress(raw, level).map_err(|e| Error::io("zstd compress", "a column", e))
}

/// Decompresses a frame of `raw_len` bytes into `out` (cleared first).
pub(crate) fn decompress(
    frame: &[u8],
    raw_len: usize,
    out: &mut Vec<u8>,
    what: &str,
) -> Result<()> {
    out.clear();
    out.reserve(raw_len);
    let n = zstd::bulk::Decompressor::new()
        .and_then(|mut d| d.decompress_to_buffer(frame, out))
        .map_err(|e| Error::corrupt(what, 0, format!("zstd: {e}")))?;
    if n != raw_len {
        return Err(Error::corrupt(
            what,
            0,
            format!("decompressed to {n} bytes, expected {raw_len}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_round_trip_and_are_the_documented_bytes() {
        let mut b = Vec::new();
        put_uvarint(&mut b, 300);
        assert_eq!(b, [0xac, 0x02]);
        b.clear();
        put_times(&mut b, &[-1, 5, 5, 300]);
        // zigzag(-1) = 1; then 6, 0, 295 = [0xa7, 0x02].
        assert_eq!(b, [0x01, 0x06, 0x00, 0xa7, 0x02]);
        let mut ts = Vec::new();
        get_times(&b, 4, &mut ts, "t").unwrap();
        assert_eq!(ts, [-1, 5, 5, 300]);
        assert!(get_times(&b[..4], 4, &mut Vec::new(), "t").is_err());

        for codes in [vec![0u32, 3, 255], vec![256, 1], vec![70000, 0]] {
            let mut b = Vec::new();
            put_codes(&mut b, &codes);
            let w = b[0] as usize;
            assert_eq!(b.len(), 1 + w * codes.len());
            let mut out = Vec::new();
            assert_eq!(get_codes(&b, codes.len(), &mut out, "c").unwrap(), b.len());
            assert_eq!(out, codes);
        }
        let mut b = Vec::new();
        put_dict(&mut b, &["a".into(), "bc".into()], &[2, 0, 1]);
        assert_eq!(b, [2, 1, b'a', 2, b'b', b'c', 1, 2, 0, 1]);
        let (mut d, mut c) = (Vec::new(), Vec::new());
        get_dict(&b, 3, &mut d, &mut c, "d").unwrap();
        assert_eq!((d, c), (vec!["a".to_string(), "bc".into()], vec![2, 0, 1]));
        b[8] = 3;
        assert!(get_dict(&b, 3, &mut Vec::new(), &mut Vec::new(), "d").is_err());

        let mut b = Vec::new();
        put_opt_str(&mut b, None);
        put_opt_str(&mut b, Some(""));
        put_opt_str(&mut b, Some("x"));
        assert_eq!(b, [0, 1, 2, b'x']);
        let mut r = Reader::new(&b, "o");
        assert_eq!(r.opt_str().unwrap(), None);
        assert_eq!(r.opt_str().unwrap(), Some(""));
        assert_eq!(r.opt_str().unwrap(), Some("x"));
        assert!(r.is_empty());

        let raw = b"hello hello hello hello".to_vec();
        let z = compress(&raw, 3).unwrap();
        let mut out = Vec::new();
        decompress(&z, raw.len(), &mut out, "z").unwrap();
        assert_eq!(out, raw);
        assert!(decompress(&z, raw.len() + 1, &mut out, "z").is_err());
    }
}
