//! Read-only file mappings, so that data read by queries costs page cache
//! rather than process memory: the kernel counts a mapped page in our RSS
//! only while it is touched, and may drop it again under pressure, since it
//! is clean and backed by the file.
//!
//! Two shapes, both sound only under rules this module keeps:
//!
//! - [`AppendOnlyFile::create`]: a new file of fixed length, mapped whole
//!   once, then filled front to back. Each range is written once, before
//!   any reference to it is handed out (the caller hands out ranges below
//!   [`AppendOnlyFile::len`] only), and the file is never shrunk. The
//!   metrics head keeps its closed chunks this way.
//! - [`ReadOnlyMap::open`]: an existing file inside a committed immutable
//!   directory ([`crate::dir`]), which nothing writes or truncates again.
//!
//! Deleting a mapped file leaves the mapping valid until it is dropped.

#![allow(unsafe_code)]

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// A read-only mapping of a whole file; derefs to its bytes.
pub struct ReadOnlyMap {
    map: memmap2::Mmap,
}

impl std::fmt::Debug for ReadOnlyMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOnlyMap")
            .field("len", &self.map.len())
            .finish()
    }
}

impl std::ops::Deref for ReadOnlyMap {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl ReadOnlyMap {
    /// Maps the immutable file at `path`. An empty file maps to no bytes.
    pub fn open(path: &Path) -> std::io::Result<ReadOnlyMap> {
        let file = File::open(path)?;
        // SAFETY: callers map only files of committed immutable directories
        // (module docs): nothing writes or truncates them while we live.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(ReadOnlyMap { map })
    }
}

/// A new file of fixed length, written front to back, whose bytes are read
/// through a [`ReadOnlyMap`] of the whole length made at creation.
#[derive(Debug)]
pub struct AppendOnlyFile {
    file: File,
    written: u64,
    cap: u64,
}

impl AppendOnlyFile {
    /// Creates `path` (which must not exist) sparse at `cap` bytes and maps
    /// it whole: disk use is only what is written.
    pub fn create(path: &Path, cap: u64) -> std::io::Result<(AppendOnlyFile, ReadOnlyMap)> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        file.set_len(cap)?;
        // SAFETY: the file is ours (created here with `create_new`), its
        // length is fixed before mapping and never shrunk, and `append`
        // writes each range once, past everything written before, so
        // before any reference to it can have been handed out.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok((
            AppendOnlyFile {
                file,
                written: 0,
                cap,
            },
            ReadOnlyMap { map },
        ))
    }

    /// Bytes written so far: the mapping is readable below this.
    pub fn len(&self) -> u64 {
        self.written
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    /// Whether `n` more bytes fit.
    pub fn fits(&self, n: u64) -> bool {
        self.written + n <= self.cap
    }

    /// Writes `bytes` after what was written and returns their offset.
    /// Fails with `InvalidInput` when they do not fit.
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<u64> {
        let n = bytes.len() as u64;
        if !self.fits(n) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "{n} bytes do not fit: {} of {} written",
                    self.written, self.cap
                ),
            ));
        }
        let off = self.written;
        self.file.write_all_at(bytes, off)?;
        self.written += n;
        Ok(off)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_testkit::TempDir;

    #[test]
    fn appended_bytes_read_back_through_the_map() {
        let d = TempDir::new("mmap");
        let p = d.path().join("000001");
        let (mut f, map) = AppendOnlyFile::create(&p, 64).unwrap();
        assert_eq!(map.len(), 64);
        assert_eq!(f.append(b"hello").unwrap(), 0);
        assert_eq!(f.append(b"world").unwrap(), 5);
        assert_eq!(&map[..10], b"helloworld");
        assert!(f.append(&[0; 60]).is_err());
        assert_eq!(f.len(), 10);
        // An existing file cannot be created again.
        assert!(AppendOnlyFile::create(&p, 64).is_err());
        // Deleting the file leaves the mapping readable.
        std::fs::remove_file(&p).unwrap();
        assert_eq!(&map[5..10], b"world");

        let q = d.path().join("immutable");
        std::fs::write(&q, b"block bytes").unwrap();
        assert_eq!(&*ReadOnlyMap::open(&q).unwrap(), b"block bytes");
    }
}
