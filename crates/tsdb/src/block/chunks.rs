//! Block chunk files: chunks packed into zstd-compressed pages.
//!
//! Compressing pages of many chunks, not chunks one by one, is what brings
//! bytes per sample below one: a page holds neighbouring series (sorted by
//! labels, so similar ones), and zstd's entropy coder finds the repetition
//! across them. A chunk is addressed by `(page offset << 20) | offset in the
//! uncompressed page`. `docs/format/chunks.md` describes the bytes.

use crate::chunk::ENC_PACKED;
use crate::encoding::{put_uvarint, Reader};
use crate::querier::ChunkSlice;
use crate::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) const MAGIC: &[u8; 4] = b"SLCK";
pub(crate) const FILE_HEADER_LEN: u64 = 8;
pub(crate) const PAGE_HEADER_LEN: usize = 13;
/// Uncompressed bytes after which a page is closed, for blocks cut from the
/// head or backfilled.
pub(crate) const PAGE_TARGET_LEVEL1: usize = 256 << 10;
/// The same for compacted blocks. Big pages are what let zstd find the
/// repetition between series of one scrape target, which share every
/// timestamp: in a compacted block a series has many chunks, so those series
/// sit hundreds of kilobytes apart. The price is decompressing up to 1 MiB to
/// read one chunk. Must stay below `1 << IN_PAGE_BITS` minus one chunk.
pub(crate) const PAGE_TARGET_COMPACTED: usize = 960 << 10;
const IN_PAGE_BITS: u32 = 20;
const COMP_NONE: u8 = 0;
const COMP_ZSTD: u8 = 1;
const ZSTD_LEVEL: i32 = 3;

/// Writes one block's chunk file.
pub(crate) struct ChunkWriter {
    path: PathBuf,
    out: BufWriter<File>,
    /// File offset where the page being filled will be written.
    page_off: u64,
    page: Vec<u8>,
    page_target: usize,
    pub(crate) bytes_written: u64,
}

impl ChunkWriter {
    pub(crate) fn create(path: &Path, page_target: usize) -> Result<ChunkWriter> {
        let f = File::create(path).map_err(|e| Error::io("create", path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, f);
        let mut hdr = [0u8; FILE_HEADER_LEN as usize];
        hdr[..4].copy_from_slice(MAGIC);
        hdr[4] = 1;
        out.write_all(&hdr)
            .map_err(|e| Error::io("write", path, e))?;
        Ok(ChunkWriter {
            path: path.to_path_buf(),
            out,
            page_off: FILE_HEADER_LEN,
            page: Vec::with_capacity(page_target + (64 << 10)),
            page_target,
            bytes_written: FILE_HEADER_LEN,
        })
    }

    /// Adds an encoded chunk, returning its reference.
    pub(crate) fn add(&mut self, encoding: u8, data: &[u8]) -> Result<u64> {
        if self.page.len() >= self.page_target {
            self.flush_page()?;
        }
        let r = (self.page_off << IN_PAGE_BITS) | self.page.len() as u64;
        put_uvarint(&mut self.page, data.len() as u64);
        self.page.push(encoding);
        self.page.extend_from_slice(data);
        Ok(r)
    }

    fn flush_page(&mut self) -> Result<()> {
        if self.page.is_empty() {
            return Ok(());
        }
        let z = zstd::bulk::compress(&self.page, ZSTD_LEVEL)
            .map_err(|e| Error::io("compress page for", &self.path, e))?;
        let (comp, stored): (u8, &[u8]) = if z.len() < self.page.len() {
            (COMP_ZSTD, &z)
        } else {
            (COMP_NONE, &self.page)
        };
        let mut hdr = [0u8; PAGE_HEADER_LEN];
        hdr[0..4].copy_from_slice(&(stored.len() as u32).to_le_bytes());
        hdr[4..8].copy_from_slice(&(self.page.len() as u32).to_le_bytes());
        hdr[8] = comp;
        hdr[9..13].copy_from_slice(&crc32fast::hash(stored).to_le_bytes());
        self.out
            .write_all(&hdr)
            .map_err(|e| Error::io("write", &self.path, e))?;
        self.out
            .write_all(stored)
            .map_err(|e| Error::io("write", &self.path, e))?;
        let n = (PAGE_HEADER_LEN + stored.len()) as u64;
        self.page_off += n;
        self.bytes_written += n;
        self.page.clear();
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<u64> {
        self.flush_page()?;
        let f = self
            .out
            .into_inner()
            .map_err(|e| Error::io("write", &self.path, e.into_error()))?;
        f.sync_all()
            .map_err(|e| Error::io("fsync", &self.path, e))?;
        Ok(self.bytes_written)
    }
}

/// Reads pages of a block's chunk file with positioned reads.
pub(crate) struct ChunkReader {
    path: PathBuf,
    file: File,
    len: u64,
}

impl ChunkReader {
    pub(crate) fn open(path: &Path) -> Result<ChunkReader> {
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io("stat", path, e))?
            .len();
        let mut hdr = [0u8; FILE_HEADER_LEN as usize];
        file.read_exact_at(&mut hdr, 0)
            .map_err(|_| Error::corrupt(path, 0, "chunk file shorter than its header"))?;
        if &hdr[..4] != MAGIC || hdr[4] != 1 {
            return Err(Error::corrupt(path, 0, "bad chunk file magic or version"));
        }
        Ok(ChunkReader {
            path: path.to_path_buf(),
            file,
            len,
        })
    }

    /// The uncompressed page at file offset `off`, checksum verified.
    pub(crate) fn page(&self, off: u64) -> Result<Arc<[u8]>> {
        let mut hdr = [0u8; PAGE_HEADER_LEN];
        if off + PAGE_HEADER_LEN as u64 > self.len {
            return Err(Error::corrupt(
                &self.path,
                off,
                "page header past end of file",
            ));
        }
        self.file
            .read_exact_at(&mut hdr, off)
            .map_err(|e| Error::io("read", &self.path, e))?;
        let stored = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) as usize;
        let raw = u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]) as usize;
        let crc = u32::from_le_bytes([hdr[9], hdr[10], hdr[11], hdr[12]]);
        let start = off + PAGE_HEADER_LEN as u64;
        if start + stored as u64 > self.len || raw > 1 << IN_PAGE_BITS {
            return Err(Error::corrupt(
                &self.path,
                off,
                "page runs past end of file",
            ));
        }
        let mut buf = vec![0u8; stored];
        self.file
            .read_exact_at(&mut buf, start)
            .map_err(|e| Error::io("read", &self.path, e))?;
        if crc32fast::hash(&buf) != crc {
            return Err(Error::corrupt(&self.path, off, "page checksum mismatch"));
        }
        match hdr[8] {
            COMP_NONE => Ok(Arc::from(buf)),
            COMP_ZSTD => {
                let out = zstd::bulk::decompress(&buf, raw).map_err(|e| {
                    Error::corrupt(&self.path, off, format!("page does not decompress: {e}"))
                })?;
                Ok(Arc::from(out))
            }
            c => Err(Error::corrupt(
                &self.path,
                off,
                format!("unknown page compression {c}"),
            )),
        }
    }
}

/// Splits a chunk reference into page offset and offset within the page.
pub(crate) fn split_ref(r: u64) -> (u64, usize) {
    (r >> IN_PAGE_BITS, (r & ((1 << IN_PAGE_BITS) - 1)) as usize)
}

/// Locates the chunk at `in_page` inside an uncompressed page.
pub(crate) fn slice_in_page(page: &Arc<[u8]>, in_page: usize) -> Option<ChunkSlice> {
    let mut r = Reader::at(page, in_page);
    let len = usize::try_from(r.uvarint()?).ok()?;
    let enc = r.u8()?;
    let start = r.pos();
    r.take(len)?;
    Some(ChunkSlice {
        encoding: enc,
        data: crate::head::chunk_file::ChunkData::Heap(page.clone()),
        start: start as u32,
        end: (start + len) as u32,
    })
}

/// Chunk encoding used by blocks.
pub(crate) const BLOCK_ENCODING: u8 = ENC_PACKED;
