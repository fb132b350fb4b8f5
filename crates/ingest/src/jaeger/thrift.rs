//! A reader of Thrift's binary protocol (`TBinaryProtocol`, strict or not
//! needed: Jaeger's HTTP body is a bare struct), just what Jaeger's
//! `Batch` needs: struct fields by id and type, skipping the fields it does
//! not know. Every error names the byte offset and the field being read.

/// Thrift wire types.
pub const T_STOP: u8 = 0;
pub const T_BOOL: u8 = 2;
pub const T_BYTE: u8 = 3;
pub const T_DOUBLE: u8 = 4;
pub const T_I16: u8 = 6;
pub const T_I32: u8 = 8;
pub const T_I64: u8 = 10;
pub const T_STRING: u8 = 11;
pub const T_STRUCT: u8 = 12;
pub const T_MAP: u8 = 13;
pub const T_SET: u8 = 14;
pub const T_LIST: u8 = 15;

/// How deep structs and containers may nest before the body is refused
/// (a hostile body must not exhaust the stack).
const MAX_DEPTH: usize = 64;

/// A cursor over a body.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

pub type R<T> = Result<T, String>;

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn offset(&self) -> usize {
        self.pos
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn take(&mut self, n: usize, what: &str) -> R<&'a [u8]> {
        if self.buf.len() - self.pos < n {
            return Err(format!(
                "offset {}: {what}: body ends after {} bytes, {n} needed",
                self.pos,
                self.buf.len() - self.pos
            ));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn byte(&mut self, what: &str) -> R<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub fn bool(&mut self, what: &str) -> R<bool> {
        Ok(self.byte(what)? != 0)
    }

    pub fn i16(&mut self, what: &str) -> R<i16> {
        Ok(i16::from_be_bytes(
            self.take(2, what)?.try_into().expect("2"),
        ))
    }

    pub fn i32(&mut self, what: &str) -> R<i32> {
        Ok(i32::from_be_bytes(
            self.take(4, what)?.try_into().expect("4"),
        ))
    }

    pub fn i64(&mut self, what: &str) -> R<i64> {
        Ok(i64::from_be_bytes(
            self.take(8, what)?.try_into().expect("8"),
        ))
    }

    pub fn double(&mut self, what: &str) -> R<f64> {
        Ok(f64::from_bits(self.i64(what)? as u64))
    }

    pub fn binary(&mut self, what: &str) -> R<&'a [u8]> {
        let at = self.pos;
        let n = self.i32(what)?;
        let n =
            usize::try_from(n).map_err(|_| format!("offset {at}: {what}: negative length {n}"))?;
        self.take(n, what)
    }

    pub fn string(&mut self, what: &str) -> R<String> {
        let at = self.pos;
        let b = self.binary(what)?;
        String::from_utf8(b.to_vec()).map_err(|_| format!("offset {at}: {what}: not UTF-8 text"))
    }

    /// A field header: `None` at the struct's end, else (type, id).
    pub fn field(&mut self, what: &str) -> R<Option<(u8, i16)>> {
        let t = self.byte(what)?;
        if t == T_STOP {
            return Ok(None);
        }
        Ok(Some((t, self.i16(what)?)))
    }

    /// A list header: (element type, count), the count checked against
    /// what the body could hold so a bogus count allocates nothing.
    pub fn list(&mut self, what: &str) -> R<(u8, usize)> {
        let at = self.pos;
        let t = self.byte(what)?;
        let n = self.i32(what)?;
        let n = usize::try_from(n)
            .map_err(|_| format!("offset {at}: {what}: negative list size {n}"))?;
        if n > self.buf.len() - self.pos {
            return Err(format!(
                "offset {at}: {what}: list of {n} elements in {} bytes",
                self.buf.len() - self.pos
            ));
        }
        Ok((t, n))
    }

    /// Skips a value of type `t`.
    pub fn skip(&mut self, t: u8, what: &str) -> R<()> {
        self.skip_depth(t, what, 0)
    }

    fn skip_depth(&mut self, t: u8, what: &str, depth: usize) -> R<()> {
        if depth > MAX_DEPTH {
            return Err(format!("offset {}: {what}: nested too deep", self.pos));
        }
        match t {
            T_BOOL | T_BYTE => {
                self.take(1, what)?;
            }
            T_I16 => {
                self.take(2, what)?;
            }
            T_I32 => {
                self.take(4, what)?;
            }
            T_DOUBLE | T_I64 => {
                self.take(8, what)?;
            }
            T_STRING => {
                self.binary(what)?;
            }
            T_STRUCT => {
                while let Some((ft, _)) = self.field(what)? {
                    self.skip_depth(ft, what, depth + 1)?;
                }
            }
            T_MAP => {
                let kt = self.byte(what)?;
                let vt = self.byte(what)?;
                let n = self.i32(what)?.max(0);
                for _ in 0..n {
                    self.skip_depth(kt, what, depth + 1)?;
                    self.skip_depth(vt, what, depth + 1)?;
                }
            }
            T_SET | T_LIST => {
                let (et, n) = self.list(what)?;
                for _ in 0..n {
                    self.skip_depth(et, what, depth + 1)?;
                }
            }
            t => {
                return Err(format!(
                    "offset {}: {what}: unknown Thrift type {t}",
                    self.pos.saturating_sub(1)
                ))
            }
        }
        Ok(())
    }

    /// Checks that a field has the type the IDL gives it.
    pub fn expect(&self, got: u8, want: u8, what: &str) -> R<()> {
        if got == want {
            Ok(())
        } else {
            Err(format!(
                "offset {}: {what}: Thrift type {got}, want {want}",
                self.pos
            ))
        }
    }
}
