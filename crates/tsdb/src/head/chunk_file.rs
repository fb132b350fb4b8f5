//! Closed head chunks kept in files under `<data>/chunks_head/` and mapped
//! back read-only, so that they cost page cache rather than process memory.
//!
//! Why: at a 1 s scrape interval a series closes a 120-sample chunk every two
//! minutes and the head keeps up to three hours of them. Held on the heap,
//! 50,000 series grow by ~9 MB every two minutes until the head is cut into
//! a block (hundreds of MB at 3 h), which is what Prometheus avoids with its
//! memory-mapped head chunks. Written with `pwrite` and read through a
//! shared read-only mapping, a closed chunk is counted in our RSS only while
//! a query touches it, and the kernel may drop it again under pressure: it
//! is clean page cache backed by the file.
//!
//! The files are a cache of what the WAL already holds, not a durable
//! format: they are deleted at startup (WAL replay rebuilds the head and
//! writes its chunks again) and whenever head truncation leaves a whole file
//! unreferenced. Layout in `docs/format/chunks_head.md`.
//!
//! The files and their mappings are `sightline_storage::mmap`'s
//! [`AppendOnlyFile`]s: created sparse at a fixed length, mapped once,
//! filled front to back.
//!
//! When the directory cannot be used (a read-only disk, an in-memory test
//! head), chunks stay on the heap: [`ChunkData::Heap`].
//!
//! Series keep a [`ChunkLoc`] per closed chunk, 8 bytes, rather than a
//! [`ChunkData`] (24 bytes, with a reference count to bump): at 1 s scrapes
//! a series closes 90 chunks in the three hours the head spans, so at 50,000
//! series each byte of it is 4.5 MB. Queries turn locations into
//! [`ChunkData`] through a [`ChunkReader`], one lock for many chunks.

use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use sightline_storage::mmap::{AppendOnlyFile, ReadOnlyMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::Arc;

/// Size of one chunk file. Files are created sparse at this length so the
/// whole range can be mapped once; disk use is only what was written.
const FILE_SIZE: u64 = 128 << 20;

/// The bytes of one closed head chunk.
#[derive(Clone)]
pub(crate) enum ChunkData {
    /// On the heap (no chunk directory, or the write failed).
    Heap(Arc<[u8]>),
    /// `len` bytes at `off` in a mapped chunk file.
    Mapped {
        file: Arc<MappedFile>,
        off: u32,
        len: u32,
    },
}

impl std::ops::Deref for ChunkData {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            ChunkData::Heap(b) => b,
            ChunkData::Mapped { file, off, len } => {
                &file.map[*off as usize..*off as usize + *len as usize]
            }
        }
    }
}

/// Where a closed chunk's bytes are, in 8 bytes. Bit 63 set: on the heap,
/// the low 32 bits index the heap table. Clear: in chunk file number
/// `seq` (20 bits, bits 43-62; unique among live files, which are few),
/// at offset `off` (27 bits, bits 16-42: files are 128 MiB), `len` bytes
/// (16 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChunkLoc(u64);

const HEAP_BIT: u64 = 1 << 63;
const SEQ_BITS: u32 = 20;
const OFF_BITS: u32 = 27;
const LEN_BITS: u32 = 16;
const _: () = assert!(FILE_SIZE == 1 << OFF_BITS);
const _: () = assert!(SEQ_BITS + OFF_BITS + LEN_BITS == 63);

impl ChunkLoc {
    fn mapped(seq: u64, off: u64, len: u64) -> Self {
        let seq = seq & ((1 << SEQ_BITS) - 1);
        ChunkLoc(seq << (OFF_BITS + LEN_BITS) | off << LEN_BITS | len)
    }

    fn heap(idx: u32) -> Self {
        ChunkLoc(HEAP_BIT | u64::from(idx))
    }

    fn heap_index(self) -> Option<usize> {
        (self.0 & HEAP_BIT != 0).then_some((self.0 as u32) as usize)
    }

    fn seq_off_len(self) -> (u64, usize, usize) {
        let len = self.0 & ((1 << LEN_BITS) - 1);
        let off = (self.0 >> LEN_BITS) & ((1 << OFF_BITS) - 1);
        (self.0 >> (OFF_BITS + LEN_BITS), off as usize, len as usize)
    }
}

/// What queries and checkpoints read locations through.
struct Table {
    /// Live files by sequence number (low `SEQ_BITS` bits), oldest first.
    files: Vec<(u64, Arc<MappedFile>)>,
    /// Heap chunks; `None` marks a free entry.
    heap: Vec<Option<Arc<[u8]>>>,
    heap_free: Vec<u32>,
}

/// A read lock on the location table: resolves many locations cheaply.
pub(crate) struct ChunkReader<'a>(RwLockReadGuard<'a, Table>);

impl ChunkReader<'_> {
    /// The bytes at `loc`; `None` only if the head let go of them (a bug).
    pub(crate) fn get(&self, loc: ChunkLoc) -> Option<ChunkData> {
        if let Some(i) = loc.heap_index() {
            return self.0.heap.get(i)?.clone().map(ChunkData::Heap);
        }
        let (seq, off, len) = loc.seq_off_len();
        let file = &self.0.files.iter().rev().find(|(s, _)| *s == seq)?.1;
        Some(ChunkData::Mapped {
            file: file.clone(),
            off: off as u32,
            len: len as u32,
        })
    }
}

/// One chunk file and its read-only mapping.
pub(crate) struct MappedFile {
    map: ReadOnlyMap,
    /// Newest sample time of any chunk written to it.
    max_time: AtomicI64,
}

/// The file being appended to.
struct Current {
    mapped: Arc<MappedFile>,
    file: AppendOnlyFile,
    seq: u64,
}

struct Files {
    current: Option<Current>,
    /// Every file still referenced by the mapper, with its path, oldest first.
    all: Vec<(PathBuf, Arc<MappedFile>)>,
    next_seq: u64,
    /// Set after an I/O error: later chunks stay on the heap rather than
    /// retrying (and logging) on every cut.
    failed: bool,
}

/// Writes closed chunks to files and hands out locations of them.
pub(crate) struct ChunkFiles {
    dir: Option<PathBuf>,
    files: Mutex<Files>,
    table: RwLock<Table>,
}

impl ChunkFiles {
    /// Chunks stay on the heap.
    pub(crate) fn in_memory() -> Self {
        ChunkFiles {
            dir: None,
            files: Mutex::new(Files {
                current: None,
                all: Vec::new(),
                next_seq: 1,
                failed: false,
            }),
            table: RwLock::new(Table {
                files: Vec::new(),
                heap: Vec::new(),
                heap_free: Vec::new(),
            }),
        }
    }

    /// Chunk files in `dir`, which is emptied first: its files belong to an
    /// earlier run and the WAL replay that follows rewrites what is needed.
    pub(crate) fn open(dir: &Path) -> Self {
        let usable = std::fs::remove_dir_all(dir)
            .or_else(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .and_then(|_| std::fs::create_dir_all(dir));
        if let Err(e) = usable {
            log::warn!(
                "head chunks stay in memory: cannot use {}: {e}",
                dir.display()
            );
            return ChunkFiles::in_memory();
        }
        let me = ChunkFiles::in_memory();
        ChunkFiles {
            dir: Some(dir.to_path_buf()),
            ..me
        }
    }

    /// Stores a closed chunk whose newest sample is at `maxt`: in a file
    /// when possible, else on the heap.
    pub(crate) fn store(&self, bytes: &[u8], maxt: i64) -> ChunkLoc {
        let Some(dir) = &self.dir else {
            return self.store_heap(bytes);
        };
        let mut files = self.files.lock();
        if files.failed || bytes.len() >= 1 << LEN_BITS {
            drop(files);
            return self.store_heap(bytes);
        }
        match files.append(dir, bytes, maxt, &self.table) {
            Ok(loc) => loc,
            Err(e) => {
                log::warn!(
                    "head chunks stay in memory from now on: writing {}: {e}",
                    dir.display()
                );
                files.failed = true;
                drop(files);
                self.store_heap(bytes)
            }
        }
    }

    fn store_heap(&self, bytes: &[u8]) -> ChunkLoc {
        let mut t = self.table.write();
        let data = Some(Arc::from(bytes));
        match t.heap_free.pop() {
            Some(i) => {
                t.heap[i as usize] = data;
                ChunkLoc::heap(i)
            }
            None => {
                t.heap.push(data);
                ChunkLoc::heap((t.heap.len() - 1) as u32)
            }
        }
    }

    /// Lets go of chunks the head dropped. Only heap chunks need it: a
    /// file goes as a whole once every chunk in it is older than the
    /// truncation point (see [`ChunkFiles::truncate`]).
    pub(crate) fn release(&self, locs: impl IntoIterator<Item = ChunkLoc>) {
        let mut locs = locs.into_iter().filter_map(ChunkLoc::heap_index).peekable();
        if locs.peek().is_none() {
            return;
        }
        let mut t = self.table.write();
        for i in locs {
            if let Some(slot) = t.heap.get_mut(i) {
                if slot.take().is_some() {
                    t.heap_free.push(i as u32);
                }
            }
        }
    }

    /// Heap bytes held by heap chunks (mapped ones hold none).
    pub(crate) fn heap_bytes(&self) -> usize {
        let t = self.table.read();
        t.heap.iter().flatten().map(|b| b.len() + 16).sum::<usize>()
            + t.heap.capacity() * std::mem::size_of::<Option<Arc<[u8]>>>()
    }

    /// A reader for resolving locations.
    pub(crate) fn reader(&self) -> ChunkReader<'_> {
        ChunkReader(self.table.read())
    }

    /// Deletes files whose chunks all end before `boundary` (head truncation
    /// dropped them). Mappings still used by a running query stay valid
    /// until it drops them: an unlinked file lives while mapped.
    pub(crate) fn truncate(&self, boundary: i64) {
        let mut files = self.files.lock();
        let current = files.current.as_ref().map(|c| Arc::as_ptr(&c.mapped));
        let mut gone = Vec::new();
        files.all.retain(|(path, f)| {
            let keep = Some(Arc::as_ptr(f)) == current || f.max_time.load(Relaxed) >= boundary;
            if !keep {
                if let Err(e) = std::fs::remove_file(path) {
                    log::warn!("removing head chunk file {}: {e}", path.display());
                }
                gone.push(Arc::as_ptr(f));
            }
            keep
        });
        if !gone.is_empty() {
            self.table
                .write()
                .files
                .retain(|(_, f)| !gone.contains(&Arc::as_ptr(f)));
        }
    }

    /// Number of chunk files in use, for tests.
    #[cfg(test)]
    pub(crate) fn num_files(&self) -> usize {
        self.files.lock().all.len()
    }
}

impl Files {
    fn append(
        &mut self,
        dir: &Path,
        bytes: &[u8],
        maxt: i64,
        table: &RwLock<Table>,
    ) -> std::io::Result<ChunkLoc> {
        let len = bytes.len() as u64;
        if self.current.as_ref().is_none_or(|c| !c.file.fits(len)) {
            self.rotate(dir, table)?;
        }
        let cur = self.current.as_mut().expect("rotate sets it");
        let off = cur.file.append(bytes)?;
        let loc = ChunkLoc::mapped(cur.seq, off, len);
        cur.mapped.max_time.fetch_max(maxt, Relaxed);
        Ok(loc)
    }

    fn rotate(&mut self, dir: &Path, table: &RwLock<Table>) -> std::io::Result<()> {
        let seq = self.next_seq;
        let path = dir.join(format!("{seq:06}"));
        self.next_seq += 1;
        let (file, map) = AppendOnlyFile::create(&path, FILE_SIZE)?;
        let mapped = Arc::new(MappedFile {
            map,
            max_time: AtomicI64::new(i64::MIN),
        });
        self.all.push((path, mapped.clone()));
        let short = seq & ((1 << SEQ_BITS) - 1);
        table.write().files.push((short, mapped.clone()));
        self.current = Some(Current { mapped, file, seq });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(files: &ChunkFiles, loc: ChunkLoc) -> Vec<u8> {
        files.reader().get(loc).expect("live chunk").to_vec()
    }

    #[test]
    fn chunks_round_trip_through_files_and_truncation_deletes_old_files() {
        let dir = crate::testutil::TempDir::new("chunk-file");
        let files = ChunkFiles::open(&dir.path().join("chunks_head"));
        let a = files.store(b"first chunk", 100);
        let b = files.store(b"second", 200);
        assert!(matches!(
            files.reader().get(a),
            Some(ChunkData::Mapped { .. })
        ));
        assert_eq!(read(&files, a), b"first chunk");
        assert_eq!(read(&files, b), b"second");
        assert_eq!(files.heap_bytes(), 0);
        // The current file is never deleted, even when all it holds is old.
        files.truncate(1_000);
        assert_eq!(files.num_files(), 1);
        assert_eq!(read(&files, b), b"second");
    }

    #[test]
    fn a_full_file_rotates_and_old_files_go_once_truncated() {
        let dir = crate::testutil::TempDir::new("chunk-file");
        let path = dir.path().join("chunks_head");
        let files = ChunkFiles::open(&path);
        let big = vec![7u8; (1 << LEN_BITS) - 1];
        // Fill the first file up to the last chunk that fits.
        let per_file = FILE_SIZE as usize / big.len();
        let mut locs = Vec::new();
        for i in 0..per_file + 1 {
            locs.push(files.store(&big, if i < per_file { 10 } else { 20 }));
        }
        assert_eq!(files.num_files(), 2);
        let (_, last_off, len) = locs[per_file - 1].seq_off_len();
        assert_eq!(last_off + len, per_file * big.len());
        // A reader resolved before the truncation keeps reading.
        let held = files.reader().get(locs[0]).unwrap();
        files.truncate(15);
        assert_eq!(files.num_files(), 1);
        assert_eq!(std::fs::read_dir(&path).unwrap().count(), 1);
        assert!(held.iter().all(|&b| b == 7));
        assert!(files.reader().get(locs[0]).is_none());
        assert_eq!(read(&files, locs[per_file]).len(), big.len());
    }

    #[test]
    fn open_empties_the_directory_and_in_memory_keeps_heap_chunks() {
        let dir = crate::testutil::TempDir::new("chunk-file");
        let path = dir.path().join("chunks_head");
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("000001"), b"stale").unwrap();
        let files = ChunkFiles::open(&path);
        assert_eq!(std::fs::read_dir(&path).unwrap().count(), 0);
        drop(files);
        let mem = ChunkFiles::in_memory();
        let c = mem.store(b"abc", 1);
        assert!(matches!(mem.reader().get(c), Some(ChunkData::Heap(_))));
        assert_eq!(read(&mem, c), b"abc");
        assert!(mem.heap_bytes() > 0);
        // Released heap entries are reused.
        mem.release([c]);
        assert!(mem.reader().get(c).is_none());
        assert_eq!(mem.store(b"def", 2), c);
        assert_eq!(read(&mem, c), b"def");
    }

    #[test]
    fn locations_pack_and_unpack() {
        let max_seq = (1 << SEQ_BITS) - 1;
        for (seq, off, len) in [
            (1, 0, 1),
            (max_seq, FILE_SIZE - 1, (1 << LEN_BITS) - 1),
            (7, 12345, 678),
        ] {
            let l = ChunkLoc::mapped(seq, off, len);
            assert_eq!(l.heap_index(), None);
            assert_eq!(l.seq_off_len(), (seq, off as usize, len as usize));
        }
        // Sequence numbers wrap: files that far apart are never both live.
        assert_eq!(ChunkLoc::mapped(max_seq + 2, 5, 6).seq_off_len(), (1, 5, 6));
        assert_eq!(
            ChunkLoc::heap(u32::MAX).heap_index(),
            Some(u32::MAX as usize)
        );
    }
}
