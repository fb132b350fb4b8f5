//! One tailed file: an open handle, the offset just past the last whole
//! line read, and how the file at the path changed since the last look.
//!
//! Rotation is seen by comparing the open handle's device and inode with
//! the path's: a new inode at the path (rename rotation) or no file at all
//! means the old handle is read to its end first. A handle whose size fell
//! below the offset was truncated in place (copytruncate): reading starts
//! again at 0.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A line with its place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct RawLine {
    pub start: u64,
    pub end: u64,
    pub text: String,
}

/// What the path holds compared with the open handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathState {
    /// The same file.
    Same,
    /// Another file (rename rotation).
    Replaced,
    /// Nothing (deleted, or renamed without a new file yet).
    Missing,
}

pub struct FileTail {
    pub path: PathBuf,
    file: File,
    id: (u64, u64),
    /// Just past the last whole line read.
    pub offset: u64,
}

impl FileTail {
    /// Opens `path` at `start` (a saved position), or at 0 when the file
    /// is now shorter than that (it was replaced or truncated meanwhile).
    pub fn open(path: &Path, start: u64) -> std::io::Result<FileTail> {
        let file = File::open(path)?;
        let m = file.metadata()?;
        let offset = if start > m.len() { 0 } else { start };
        Ok(FileTail {
            path: path.to_owned(),
            file,
            id: (m.dev(), m.ino()),
            offset,
        })
    }

    /// The open file's size.
    pub fn size(&self) -> u64 {
        self.file.metadata().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether the path still names the open file.
    pub fn path_state(&self) -> PathState {
        match std::fs::metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) == self.id => PathState::Same,
            Ok(_) => PathState::Replaced,
            Err(_) => PathState::Missing,
        }
    }

    /// True when the file shrank below the offset (truncated in place);
    /// the offset is then reset to 0.
    pub fn check_truncated(&mut self) -> bool {
        if self.size() < self.offset {
            self.offset = 0;
            return true;
        }
        false
    }

    /// Reads whole lines after the offset, at most about `max` bytes.
    /// With `to_end`, a last line without a newline is taken too (the
    /// file will not grow any more). Returns the lines and whether more
    /// bytes are left to read.
    pub fn read_lines(
        &mut self,
        max: usize,
        to_end: bool,
    ) -> std::io::Result<(Vec<RawLine>, bool)> {
        let size = self.size();
        if size <= self.offset {
            return Ok((Vec::new(), false));
        }
        let want = usize::try_from(size - self.offset)
            .unwrap_or(usize::MAX)
            .min(max);
        let mut buf = vec![0u8; want];
        self.file.seek(SeekFrom::Start(self.offset))?;
        let mut got = 0;
        while got < want {
            match self.file.read(&mut buf[got..])? {
                0 => break,
                n => got += n,
            }
        }
        buf.truncate(got);
        let more = self.offset + (got as u64) < size;
        let mut lines = Vec::new();
        let mut pos = 0usize;
        while let Some(i) = memchr::memchr(b'\n', &buf[pos..]) {
            let end = pos + i;
            lines.push(self.line(&buf[pos..end], pos, end + 1));
            pos = end + 1;
        }
        // A line longer than `max` is cut there rather than never read;
        // at the end of a rotated file the last unterminated line is
        // whole.
        let rest = &buf[pos..];
        if !rest.is_empty() && ((pos == 0 && got == max) || (to_end && !more)) {
            lines.push(self.line(rest, pos, buf.len()));
            pos = buf.len();
        }
        self.offset += pos as u64;
        Ok((lines, more))
    }

    fn line(&self, bytes: &[u8], from: usize, to: usize) -> RawLine {
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        RawLine {
            start: self.offset + from as u64,
            end: self.offset + to as u64,
            text: String::from_utf8_lossy(bytes).into_owned(),
        }
    }
}
