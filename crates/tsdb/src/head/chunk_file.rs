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
//! When the directory cannot be used (a read-only disk, an in-memory test
//! head), chunks stay on the heap: [`ChunkData::Heap`].

use parking_lot::Mutex;
use std::fs::File;
use std::os::unix::fs::FileExt;
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

impl ChunkData {
    /// Heap bytes this chunk holds (mapped ones hold none).
    pub(crate) fn heap_len(&self) -> usize {
        match self {
            ChunkData::Heap(b) => b.len() + 16,
            ChunkData::Mapped { .. } => 0,
        }
    }
}

/// One chunk file and its read-only mapping.
pub(crate) struct MappedFile {
    map: memmap2::Mmap,
    /// Newest sample time of any chunk written to it.
    max_time: AtomicI64,
}

/// The file being appended to.
struct Current {
    mapped: Arc<MappedFile>,
    file: File,
    written: u64,
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

/// Writes closed chunks to files and hands out mapped references to them.
pub(crate) struct ChunkFiles {
    dir: Option<PathBuf>,
    files: Mutex<Files>,
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
    pub(crate) fn store(&self, bytes: &[u8], maxt: i64) -> ChunkData {
        let Some(dir) = &self.dir else {
            return ChunkData::Heap(Arc::from(bytes));
        };
        let mut files = self.files.lock();
        if files.failed || bytes.len() as u64 > FILE_SIZE {
            return ChunkData::Heap(Arc::from(bytes));
        }
        match files.append(dir, bytes, maxt) {
            Ok(data) => data,
            Err(e) => {
                log::warn!(
                    "head chunks stay in memory from now on: writing {}: {e}",
                    dir.display()
                );
                files.failed = true;
                ChunkData::Heap(Arc::from(bytes))
            }
        }
    }

    /// Deletes files whose chunks all end before `boundary` (head truncation
    /// dropped them). Mappings still used by a running query stay valid
    /// until it drops them: an unlinked file lives while mapped.
    pub(crate) fn truncate(&self, boundary: i64) {
        let mut files = self.files.lock();
        let current = files.current.as_ref().map(|c| Arc::as_ptr(&c.mapped));
        files.all.retain(|(path, f)| {
            let keep = Some(Arc::as_ptr(f)) == current || f.max_time.load(Relaxed) >= boundary;
            if !keep {
                if let Err(e) = std::fs::remove_file(path) {
                    log::warn!("removing head chunk file {}: {e}", path.display());
                }
            }
            keep
        });
    }

    /// Number of chunk files in use, for tests.
    #[cfg(test)]
    pub(crate) fn num_files(&self) -> usize {
        self.files.lock().all.len()
    }
}

impl Files {
    fn append(&mut self, dir: &Path, bytes: &[u8], maxt: i64) -> std::io::Result<ChunkData> {
        let len = bytes.len() as u64;
        if self
            .current
            .as_ref()
            .is_none_or(|c| c.written + len > FILE_SIZE)
        {
            self.rotate(dir)?;
        }
        let cur = self.current.as_mut().expect("rotate sets it");
        cur.file.write_all_at(bytes, cur.written)?;
        let off = cur.written as u32;
        cur.written += len;
        cur.mapped.max_time.fetch_max(maxt, Relaxed);
        Ok(ChunkData::Mapped {
            file: cur.mapped.clone(),
            off,
            len: len as u32,
        })
    }

    fn rotate(&mut self, dir: &Path) -> std::io::Result<()> {
        let path = dir.join(format!("{:06}", self.next_seq));
        self.next_seq += 1;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.set_len(FILE_SIZE)?;
        let map = map_read_only(&file)?;
        let mapped = Arc::new(MappedFile {
            map,
            max_time: AtomicI64::new(i64::MIN),
        });
        self.all.push((path, mapped.clone()));
        self.current = Some(Current {
            mapped,
            file,
            written: 0,
        });
        Ok(())
    }
}

#[allow(unsafe_code)]
fn map_read_only(file: &File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the file is ours (created here with `create_new` in our data
    // directory), its length is fixed before mapping and never shrunk, and
    // each range is written once, before any reference to it is handed out;
    // later writes touch only ranges nobody reads yet. Deleting it leaves
    // the mapping valid.
    unsafe { memmap2::Mmap::map(file) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_round_trip_through_files_and_truncation_deletes_old_files() {
        let dir = crate::testutil::TempDir::new("chunk-file");
        let files = ChunkFiles::open(&dir.path().join("chunks_head"));
        let a = files.store(b"first chunk", 100);
        let b = files.store(b"second", 200);
        assert!(matches!(a, ChunkData::Mapped { .. }));
        assert_eq!(&a[..], b"first chunk");
        assert_eq!(&b[..], b"second");
        assert_eq!(a.heap_len(), 0);
        // The current file is never deleted, even when all it holds is old.
        files.truncate(1_000);
        assert_eq!(files.num_files(), 1);
        assert_eq!(&b[..], b"second");
    }

    #[test]
    fn a_full_file_rotates_and_old_files_go_once_truncated() {
        let dir = crate::testutil::TempDir::new("chunk-file");
        let path = dir.path().join("chunks_head");
        let files = ChunkFiles::open(&path);
        let big = vec![7u8; (FILE_SIZE / 2 + 1) as usize];
        let first = files.store(&big, 10);
        let second = files.store(&big, 20);
        assert_eq!(files.num_files(), 2);
        files.truncate(15);
        assert_eq!(files.num_files(), 1);
        assert_eq!(std::fs::read_dir(&path).unwrap().count(), 1);
        // A reader holding the deleted file's chunk still reads it.
        assert!(first.iter().all(|&b| b == 7));
        assert_eq!(second.len(), big.len());
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
        assert!(matches!(c, ChunkData::Heap(_)));
        assert_eq!(&c[..], b"abc");
    }
}
