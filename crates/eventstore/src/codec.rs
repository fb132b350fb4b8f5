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

/// Encodes times in ascending order whose span fits 32 bits (a block's
/// are one day): the first as i64 LE, then the differences as
/// [`put_codes`], which decode without a branch per byte.
pub(crate) fn put_times(out: &mut Vec<u8>, ts: &[i64]) {
    let first = ts.first().copied().unwrap_or(0);
    out.extend_from_slice(&first.to_le_bytes());
    let deltas: Vec<u32> = ts
        .windows(2)
        .map(|w| u32::try_from(w[1] - w[0]).expect("ascending times within 32 bits"))
        .collect();
    put_codes(out, &deltas);
}

/// Decodes `n` times written by [`put_times`] onto `out`.
pub(crate) fn get_times(buf: &[u8], n: usize, out: &mut Vec<i64>, what: &str) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let Some((first, rest)) = buf.split_first_chunk::<8>() else {
        return Err(Error::corrupt(what, 0, "times run past the end"));
    };
    let start = out.len();
    out.reserve(n);
    out.push(i64::from_le_bytes(*first));
    let mut deltas = Vec::with_capacity(n - 1);
    get_codes(rest, n - 1, &mut deltas, what)?;
    let mut t = out[start];
    out.extend(deltas.iter().map(|&d| {
        t = t.wrapping_add(i64::from(d));
        t
    }));
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

/// The 16 bytes of a UUID in its canonical lowercase text form
/// (`8-4-4-4-12` hex digits), as client libraries make message and
/// anonymous ids; None for any other string, which is stored as text.
fn uuid_bytes(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let mut out = [0u8; 16];
    let mut nib = 0;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            continue;
        }
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        out[nib / 2] |= v << (4 * (1 - nib % 2));
        nib += 1;
    }
    Some(out)
}

/// Appends an id: 1 and the 16 bytes of a canonical UUID, else 0 and the
/// text as [`put_str`] writes it. Ids are a block's largest columns, and
/// random hex compresses to about 19 bytes where the bytes take 16.
pub(crate) fn put_id(out: &mut Vec<u8>, s: &str) {
    match uuid_bytes(s) {
        Some(b) => {
            out.push(1);
            out.extend_from_slice(&b);
        }
        None => {
            out.push(0);
            put_str(out, s);
        }
    }
}

impl Reader<'_> {
    /// An id written by [`put_id`], into `out` (cleared first).
    pub(crate) fn id(&mut self, out: &mut String) -> Result<()> {
        out.clear();
        match self.u8()? {
            0 => out.push_str(self.str()?),
            1 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                for (i, &x) in self.bytes(16)?.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        out.push('-');
                    }
                    out.push(HEX[(x >> 4) as usize] as char);
                    out.push(HEX[(x & 15) as usize] as char);
                }
            }
            _ => return Err(self.err("unknown id tag")),
        }
        Ok(())
    }
}

/// A dictionary column: the distinct strings (count, then each, as ids
/// ([`put_id`]) when `ids`), then the codes ([`put_codes`]): index into
/// the strings plus one, 0 for none.
pub(crate) fn put_dict(out: &mut Vec<u8>, dict: &[String], codes: &[u32], ids: bool) {
    put_uvarint(out, dict.len() as u64);
    for s in dict {
        if ids {
            put_id(out, s);
        } else {
            put_str(out, s);
        }
    }
    put_codes(out, codes);
}

/// Decodes a [`put_dict`] column of `n` rows; returns the bytes read.
pub(crate) fn get_dict(
    buf: &[u8],
    n: usize,
    dict: &mut Vec<String>,
    codes: &mut Vec<u32>,
    ids: bool,
    what: &str,
) -> Result<usize> {
    let mut r = Reader::new(buf, what);
    let k = r.count()?;
    dict.reserve(k);
    let mut id = String::new();
    for _ in 0..k {
        if ids {
            r.id(&mut id)?;
            dict.push(id.clone());
        } else {
            dict.push(r.str()?.to_owned());
        }
    }
    let start = codes.len();
    let used = get_codes(&buf[r.pos..], n, codes, what)?;
    if codes[start..].iter().any(|&c| c as usize > k) {
        return Err(Error::corrupt(
            what,
            r.pos as u64,
            "code past the dictionary",
        ));
    }
    Ok(r.pos + used)
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
    thread_local! {
        // A decompression context is ~100 KB to set up: one per thread,
        // reused by every column a scan reads.
        static DCTX: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    out.clear();
    out.reserve(raw_len);
    let n = DCTX
        .with(|d| {
            let mut d = d.borrow_mut();
            if d.is_none() {
                *d = Some(zstd::bulk::Decompressor::new()?);
            }
            d.as_mut()
                .expect("set above")
                .decompress_to_buffer(frame, out)
        })
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
        // -1 as i64 LE, then deltas 6, 0, 295 two bytes wide.
        assert_eq!(
            b,
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 6, 0, 0, 0, 0x27, 0x01]
        );
        let mut ts = Vec::new();
        get_times(&b, 4, &mut ts, "t").unwrap();
        assert_eq!(ts, [-1, 5, 5, 300]);
        assert!(get_times(&b[..12], 4, &mut Vec::new(), "t").is_err());

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
        put_dict(&mut b, &["a".into(), "bc".into()], &[2, 0, 1], false);
        assert_eq!(b, [2, 1, b'a', 2, b'b', b'c', 1, 2, 0, 1]);
        let (mut d, mut c) = (Vec::new(), Vec::new());
        assert_eq!(
            get_dict(&b, 3, &mut d, &mut c, false, "d").unwrap(),
            b.len()
        );
        assert_eq!((d, c), (vec!["a".to_string(), "bc".into()], vec![2, 0, 1]));
        b[8] = 3;
        assert!(get_dict(&b, 3, &mut Vec::new(), &mut Vec::new(), false, "d").is_err());

        let uuid = "0f3e9a1c-12ab-4cde-8f00-a1b2c3d4e5f6";
        let ids = [uuid, "not-a-uuid", "0F3E9A1C-12AB-4CDE-8F00-A1B2C3D4E5F6"];
        let mut b = Vec::new();
        ids.iter().for_each(|s| put_id(&mut b, s));
        assert_eq!(&b[..3], [1, 0x0f, 0x3e]);
        assert_eq!(b.len(), 17 + 12 + 38, "upper case is kept as text");
        let mut r = Reader::new(&b, "ids");
        let mut s = String::new();
        for want in ids {
            r.id(&mut s).unwrap();
            assert_eq!(s, want);
        }
        assert!(r.is_empty());

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
