//! Where things live under a store's root, as relative `/`-separated paths.
//!
//! Every name a store puts on disk is made here, so that an `object_store`
//! backend can later use the same [`RelPath`]s as object keys: a key is the
//! relative path as it is, with `/` between parts, whatever the local OS
//! separator. Local code turns a [`RelPath`] into a file path with
//! [`RelPath::under`].
//!
//! The names (all kept from the metrics TSDB's layout, so existing data
//! directories open unchanged):
//!
//! | path | what |
//! |---|---|
//! | `wal/00000001` | WAL segment 1 (8 decimal digits) |
//! | `wal/checkpoint.00000007/00000000` | a checkpoint covering segments up to 7 |
//! | `<ULID>/` | an immutable directory (a block), 26 Crockford base32 characters |
//! | `<ULID>.tmp/` | one being written; removed at open |
//! | `<ULID>.deleted/` | one being removed; removed at open |
//! | `<ULID>.corrupted/` | one set aside as damaged; kept for the operator |

use std::path::{Path, PathBuf};

/// The WAL directory of a store.
pub const WAL_DIR: &str = "wal";
/// Suffix of a directory still being written.
pub const TMP_SUFFIX: &str = ".tmp";
/// Suffix of a directory being removed.
pub const DELETED_SUFFIX: &str = ".deleted";
/// Suffix of a directory set aside as damaged.
pub const CORRUPTED_SUFFIX: &str = ".corrupted";
/// Prefix of checkpoint directory names.
pub const CHECKPOINT_PREFIX: &str = "checkpoint.";

/// A relative path inside a store: parts joined by `/`, never absolute,
/// never `..`. The same string is the object key of a remote backend.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(String);

impl RelPath {
    /// A path of one part. Panics (a bug in the caller) on an empty part or
    /// one holding `/`, `\` or `..`: parts come from the names below, never
    /// from users.
    pub fn new(part: &str) -> RelPath {
        assert!(valid_part(part), "invalid path part {part:?}");
        RelPath(part.to_owned())
    }

    /// This path with `part` appended.
    pub fn join(&self, part: &str) -> RelPath {
        assert!(valid_part(part), "invalid path part {part:?}");
        RelPath(format!("{}/{part}", self.0))
    }

    /// The path as a `/`-separated string (the object key).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The local file path of this path under `root`.
    pub fn under(&self, root: &Path) -> PathBuf {
        let mut p = root.to_path_buf();
        p.extend(self.0.split('/'));
        p
    }
}

impl std::fmt::Display for RelPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn valid_part(p: &str) -> bool {
    !p.is_empty() && p != "." && p != ".." && !p.contains(['/', '\\'])
}

/// The file name of WAL segment `seq`: 8 decimal digits.
pub fn segment_name(seq: u32) -> String {
    format!("{seq:08}")
}

/// The segment number of a file name, if it is one.
pub fn parse_segment_name(name: &str) -> Option<u32> {
    if name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

/// The directory name of a checkpoint covering segments up to `upto`.
pub fn checkpoint_name(upto: u32) -> String {
    format!("{CHECKPOINT_PREFIX}{}", segment_name(upto))
}

/// The last segment a checkpoint directory name covers, if it is one
/// (temporaries, `checkpoint.N.tmp`, are not).
pub fn parse_checkpoint_name(name: &str) -> Option<u32> {
    name.strip_prefix(CHECKPOINT_PREFIX)?.parse().ok()
}

/// WAL segment `seq` of the WAL at `wal`.
pub fn wal_segment(wal: &RelPath, seq: u32) -> RelPath {
    wal.join(&segment_name(seq))
}

/// True for names that look like immutable directory ids ([`new_dir_id`]).
pub fn is_dir_id(name: &str) -> bool {
    name.len() == 26
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// A new sortable id for an immutable directory: 48 bits of milliseconds
/// and 80 bits of randomness in Crockford base32, 26 characters, like a ULID.
pub fn new_dir_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let ms = sightline_core::time::now_ms() as u64;
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    let r1 = h.finish();
    h.write_u64(r1);
    let r2 = h.finish();
    let v: u128 = (u128::from(ms & 0xffff_ffff_ffff) << 80)
        | (u128::from(r1) << 16)
        | u128::from(r2 & 0xffff);
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    (0..26)
        .rev()
        .map(|i| ALPHABET[((v >> (i * 5)) & 31) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_tsdb_names() {
        assert_eq!(segment_name(7), "00000007");
        assert_eq!(parse_segment_name("00000007"), Some(7));
        assert_eq!(parse_segment_name("0000007"), None);
        assert_eq!(parse_segment_name("+0000007"), None);
        assert_eq!(checkpoint_name(12), "checkpoint.00000012");
        assert_eq!(parse_checkpoint_name("checkpoint.00000012"), Some(12));
        assert_eq!(parse_checkpoint_name("checkpoint.00000012.tmp"), None);
        let seg = wal_segment(&RelPath::new(WAL_DIR), 3);
        assert_eq!(seg.as_str(), "wal/00000003");
        assert_eq!(
            seg.under(Path::new("/data")),
            Path::new("/data").join("wal").join("00000003")
        );
    }

    #[test]
    fn ids_are_unique_and_sortable_by_time() {
        let a = new_dir_id();
        let b = new_dir_id();
        assert!(is_dir_id(&a) && is_dir_id(&b));
        assert_ne!(a, b);
        assert_eq!(a[..8], b[..8]);
    }

    #[test]
    #[should_panic(expected = "invalid path part")]
    fn parent_parts_are_refused() {
        let _ = RelPath::new("wal").join("..");
    }
}
