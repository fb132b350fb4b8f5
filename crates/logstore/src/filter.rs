//! Token filters: a bloom filter per chunk over the words of its lines and
//! the 3-grams inside those words, so that a search for a string the chunk
//! cannot contain skips the chunk without decompressing it (VictoriaLogs
//! keeps bloom filters of words per block the same way).
//!
//! **Words** are maximal runs of word bytes: ASCII letters, digits, `_`,
//! and every byte of a non-ASCII character (>= 0x80), compared exactly
//! (LogQL's `|=` is case-sensitive). For each word of a line the filter
//! holds two kinds of keys:
//!
//! - its prefix of [`PREFIX`] (8) bytes, or the whole word when shorter
//!   (`P` keys): these make identifier lookups selective
//!   (`|= "trace_id=4bf92f35..."`), which 3-grams of random hex are not;
//! - every 3-byte window inside the word (`G` keys), for words of 3 bytes
//!   or more.
//!
//! **Which searches can skip.** A line filter string `s` is split into its
//! own word runs. A run `r` of `s` that is at least 3 bytes long lies inside
//! one word `w` of any line that contains `s` (its bytes are word bytes, so
//! the line's word around it extends at least over it): every 3-gram of `r`
//! is a `G` key of that line. A run preceded by a non-word byte *inside
//! `s`* starts where `w` starts: if it is 8 bytes or longer, its first 8
//! bytes are `w`'s `P` key; if it is shorter and also followed by a
//! non-word byte inside `s`, it is all of `w`, its own `P` key. A chunk
//! lacking any of these keys holds no line containing `s`. Runs that give
//! no key: shorter than 3 bytes and touching an end of `s`; a string with
//! no key at all (`"a="`, `" "`, `"ab"`) never skips. A search for a bare
//! identifier (`|= "4bf92f35..."`, one run touching both ends) has only
//! `G` keys, which chunks full of other identifiers of the same alphabet
//! all hold: write the delimiter before it to make it skip. The filter
//! answers "maybe" for keys it holds and for ~1% of keys it does not
//! (false positives only cost a decompression), never "no" for a key it
//! holds: a skip never drops a matching line.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Bits per key: about 0.8% false positives with [`PROBES`] probes.
const BITS_PER_KEY: usize = 10;
/// Probes per key.
const PROBES: u32 = 6;

/// Bytes of a word's `P` key.
pub const PREFIX: usize = 8;

/// Seeds keep the two key kinds apart: the word `abc` and the 3-gram `abc`
/// are different keys.
const PREFIX_SEED: u64 = 0x5717_0001;
const GRAM_SEED: u64 = 0x5717_0003;

#[inline]
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Calls `f` with each maximal word run of `s` and whether it is bounded
/// by a non-word byte on its left and on its right (inside `s`).
fn words(s: &[u8], mut f: impl FnMut(&[u8], bool, bool)) {
    let mut i = 0;
    while i < s.len() {
        if !is_word_byte(s[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < s.len() && is_word_byte(s[i]) {
            i += 1;
        }
        f(&s[start..i], start > 0, i < s.len());
    }
}

/// The key of a 3-gram: the three bytes as a number, mixed (splitmix64's
/// finaliser) so both halves of the key are well spread for the probes.
#[inline]
fn gram_key(g: u32) -> u64 {
    let mut z = u64::from(g) ^ GRAM_SEED;
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[inline]
fn gram_of(w: &[u8]) -> u32 {
    u32::from(w[0]) << 16 | u32::from(w[1]) << 8 | u32::from(w[2])
}

/// Word keys are xxh3 hashes already: the set needs no hashing of its own.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type IdSet = std::collections::HashSet<u64, std::hash::BuildHasherDefault<IdHasher>>;

/// Grams listed before the builder switches to a bitmap.
const SMALL_GRAMS: usize = 1 << 16;

/// Collects the distinct keys of a chunk's lines. Building the filter is on
/// the append path when a chunk is cut, so 3-grams (24-bit values) are
/// deduplicated without hashing: listed and sorted for a small chunk, set
/// in a bitmap of 2^24 bits (2 MiB, touched only where grams occur, read
/// back only between the lowest and highest word set) for a large one.
pub(crate) struct FilterBuilder {
    small: Vec<u32>,
    bitmap: Vec<u64>,
    /// Words of `bitmap` set so far: `lo..hi`.
    lo: usize,
    hi: usize,
    words: IdSet,
}

impl FilterBuilder {
    pub(crate) fn new() -> Self {
        FilterBuilder {
            small: Vec::new(),
            bitmap: Vec::new(),
            lo: usize::MAX,
            hi: 0,
            words: IdSet::default(),
        }
    }

    fn set(&mut self, g: u32) {
        let g = g as usize;
        let w = g / 64;
        self.bitmap[w] |= 1 << (g % 64);
        self.lo = self.lo.min(w);
        self.hi = self.hi.max(w + 1);
    }

    /// Adds the keys of one line.
    pub(crate) fn add_line(&mut self, line: &[u8]) {
        words(line, |w, _, _| {
            self.words
                .insert(xxh3_64_with_seed(&w[..w.len().min(PREFIX)], PREFIX_SEED));
            for g in w.windows(3) {
                let g = gram_of(g);
                if self.bitmap.is_empty() {
                    self.small.push(g);
                } else {
                    self.set(g);
                }
            }
        });
        if self.bitmap.is_empty() && self.small.len() > SMALL_GRAMS {
            self.bitmap = vec![0; (1 << 24) / 64];
            for g in std::mem::take(&mut self.small) {
                self.set(g);
            }
        }
    }

    /// The filter of every line added.
    pub(crate) fn finish(mut self) -> Bloom {
        self.small.sort_unstable();
        self.small.dedup();
        let set = self.bitmap.get(self.lo..self.hi).unwrap_or(&[]);
        let n_grams: usize =
            self.small.len() + set.iter().map(|w| w.count_ones() as usize).sum::<usize>();
        let mut b = Bloom::with_keys(n_grams + self.words.len());
        for &g in &self.small {
            b.insert(gram_key(g));
        }
        for (i, &word) in set.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let j = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                b.insert(gram_key(((self.lo + i) * 64 + j) as u32));
            }
        }
        for &k in &self.words {
            b.insert(k);
        }
        b
    }
}

/// The keys a chunk must hold to contain a line with `s` (module docs);
/// empty when `s` gives no key.
pub fn query_keys(s: &str) -> Vec<u64> {
    let mut keys = Vec::new();
    words(s.as_bytes(), |w, left, right| {
        if left && w.len() >= PREFIX {
            keys.push(xxh3_64_with_seed(&w[..PREFIX], PREFIX_SEED));
        } else if left && right {
            keys.push(xxh3_64_with_seed(w, PREFIX_SEED));
        }
        for g in w.windows(3) {
            keys.push(gram_key(gram_of(g)));
        }
    });
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// A bloom filter of 64-bit words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bloom {
    bits: Vec<u64>,
}

impl Bloom {
    /// An empty filter sized for `n` distinct keys.
    fn with_keys(n: usize) -> Bloom {
        Bloom {
            bits: vec![0; (n * BITS_PER_KEY).div_ceil(64).max(1)],
        }
    }

    fn insert(&mut self, key: u64) {
        let m = (self.bits.len() * 64) as u64;
        let (h1, h2) = (key as u32, (key >> 32) as u32 | 1);
        for i in 0..PROBES {
            let h = h1.wrapping_add(i.wrapping_mul(h2));
            // Lemire's range reduction: no division on the hot path.
            let bit = ((u64::from(h) * m) >> 32) as usize;
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// The filter's 64-bit words.
    pub(crate) fn words(&self) -> &[u64] {
        &self.bits
    }

    /// Whether the filter may hold `key` (false: it certainly does not).
    pub fn may_contain(&self, key: u64) -> bool {
        may_contain_words(&self.bits, key)
    }
}

/// [`Bloom::may_contain`] over a filter's words read in place (a mapped
/// block file), so that checking a chunk copies nothing.
pub(crate) fn may_contain_words(bits: &[u64], key: u64) -> bool {
    if bits.is_empty() {
        return true;
    }
    let m = (bits.len() * 64) as u64;
    let (h1, h2) = (key as u32, (key >> 32) as u32 | 1);
    (0..PROBES).all(|i| {
        let h = h1.wrapping_add(i.wrapping_mul(h2));
        let bit = ((u64::from(h) * m) >> 32) as usize;
        bits[bit / 64] & (1 << (bit % 64)) != 0
    })
}

/// [`Bloom::may_contain`] over a filter stored as little-endian 64-bit
/// words in a mapped block file, read in place.
pub(crate) fn may_contain_bytes(bytes: &[u8], key: u64) -> bool {
    let words = bytes.len() / 8;
    if words == 0 {
        return true;
    }
    let m = (words * 64) as u64;
    let (h1, h2) = (key as u32, (key >> 32) as u32 | 1);
    (0..PROBES).all(|i| {
        let h = h1.wrapping_add(i.wrapping_mul(h2));
        let bit = ((u64::from(h) * m) >> 32) as usize;
        let w = bit / 64;
        let word = u64::from_le_bytes(bytes[w * 8..w * 8 + 8].try_into().expect("8 bytes"));
        word & (1 << (bit % 64)) != 0
    })
}

/// The required strings as substring searchers: the store drops the lines
/// of a decompressed chunk that cannot match before it copies them out
/// (the hints allow it: a line missing every string of an element is not
/// a match), which is what makes a scan with `|=` run at memory speed.
pub(crate) struct LineFilter {
    elems: Vec<Vec<memchr::memmem::Finder<'static>>>,
}

impl LineFilter {
    /// None when nothing is required.
    pub(crate) fn new(required: &[Vec<String>]) -> Option<LineFilter> {
        let elems: Vec<Vec<_>> = required
            .iter()
            // An element with no strings constrains nothing (as in rules_out).
            .filter(|alts| !alts.is_empty())
            .map(|alts| {
                alts.iter()
                    .map(|s| memchr::memmem::Finder::new(s.as_bytes()).into_owned())
                    .collect()
            })
            .collect();
        (!elems.is_empty()).then_some(LineFilter { elems })
    }

    /// Whether `line` holds one string of every element.
    #[inline]
    pub(crate) fn matches(&self, line: &[u8]) -> bool {
        self.elems
            .iter()
            .all(|alts| alts.iter().any(|f| f.find(line).is_some()))
    }
}

impl LineFilter {
    /// The lines of `block` (lines back to back, line `i` ending at
    /// `ends[i]`) that hold a string of the first element, in order: the
    /// strings are searched over the whole block, and a hit is mapped to
    /// its line (a hit across two lines is no hit). The others may still
    /// fail [`LineFilter::matches`].
    pub(crate) fn candidates(&self, block: &[u8], ends: &[usize], out: &mut Vec<usize>) {
        let alts = &self.elems[0];
        if alts.iter().any(|f| f.needle().is_empty()) {
            out.extend(0..ends.len());
            return;
        }
        for f in alts {
            let len = f.needle().len();
            let (mut pos, mut line) = (0usize, 0usize);
            while let Some(h) = f.find(&block[pos..]) {
                let at = pos + h;
                // The line holding the hit's first byte.
                line += ends[line..].partition_point(|&e| e <= at);
                if line == ends.len() {
                    break;
                }
                if at + len <= ends[line] {
                    out.push(line);
                    pos = ends[line];
                    line += 1;
                } else {
                    pos = at + 1;
                }
                if pos >= block.len() {
                    break;
                }
            }
        }
        if alts.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }
}

/// The keys of a query's `required` hints: per element, one key list per
/// alternative string.
pub(crate) type RequiredKeys = Vec<Vec<Vec<u64>>>;

/// Hashes [`sightline_core::logs::LogHints::required`] once per select.
pub(crate) fn required_keys(required: &[Vec<String>]) -> RequiredKeys {
    required
        .iter()
        .map(|alts| alts.iter().map(|s| query_keys(s)).collect())
        .collect()
}

/// True when a chunk with this filter cannot hold a line the query wants:
/// some element has every alternative ruled out.
pub(crate) fn rules_out(contains: impl Fn(u64) -> bool, req: &RequiredKeys) -> bool {
    req.iter()
        .any(|alts| !alts.is_empty() && alts.iter().all(|keys| keys.iter().any(|&k| !contains(k))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bloom_of(lines: &[&str]) -> Bloom {
        let mut b = FilterBuilder::new();
        for l in lines {
            b.add_line(l.as_bytes());
        }
        b.finish()
    }

    fn skips(b: &Bloom, s: &str) -> bool {
        rules_out(|k| b.may_contain(k), &required_keys(&[vec![s.to_owned()]]))
    }

    #[test]
    fn substrings_of_held_lines_never_skip() {
        let b = bloom_of(&["level=error msg=\"disk full\" id=4f2a9c", "GET /api/v1 200"]);
        for s in [
            "disk full",
            "isk fu",
            "error",
            "rror msg",
            "4f2a9c",
            "f2a",
            "=",
            "",
            "/api/",
            "pi/v1 2",
        ] {
            assert!(!skips(&b, s), "{s:?} skipped");
        }
    }

    #[test]
    fn absent_words_and_grams_skip() {
        let b = bloom_of(&["level=error msg=\"disk full\""]);
        assert!(skips(&b, "zebra"));
        // "full" is held, but not as a whole word before a space.
        assert!(skips(&b, " fullness "));
        // An identifier after its delimiter skips on its prefix, even
        // though all its 3-grams are held.
        let ids = bloom_of(&["id=4bf92f3577b3 id=3577b34bf92f"]);
        assert!(!skips(&ids, "id=4bf92f3577b3"));
        assert!(!skips(&ids, "4bf92f3577b3"));
        assert!(skips(&ids, "id=f3577b34bf92"));
        assert!(!skips(&ids, "f3577b34bf92"));
        // No key at all: cannot skip.
        assert!(!skips(&b, "zq"));
        assert!(!skips(&b, " = "));
        // Any alternative held keeps the chunk.
        let alts = required_keys(&[vec!["zebra".into(), "disk".into()]]);
        assert!(!rules_out(|k| b.may_contain(k), &alts));
    }

    #[test]
    fn small_and_bitmap_builders_make_the_same_filter() {
        let lines: Vec<String> = (0..20_000)
            .map(|i| format!("req={i:x} path=/api/{} status={}", i % 97, 200 + i % 5))
            .collect();
        let mut big = FilterBuilder::new();
        for l in &lines {
            big.add_line(l.as_bytes());
        }
        assert!(!big.bitmap.is_empty(), "the bitmap path is taken");
        let big = big.finish();
        // The same keys through the sorted list only.
        let mut small = FilterBuilder::new();
        for l in &lines {
            words(l.as_bytes(), |w, _, _| {
                small
                    .words
                    .insert(xxh3_64_with_seed(&w[..w.len().min(PREFIX)], PREFIX_SEED));
                small.small.extend(w.windows(3).map(gram_of));
            });
        }
        assert_eq!(small.finish(), big);
    }

    #[test]
    fn query_keys_follow_the_documented_rule() {
        // "a-token-b": "token" is bounded inside the string (a W key and 3
        // G keys); "a" and "b" touch the ends and are short: no key.
        let k = query_keys("a-token-b");
        assert_eq!(k.len(), 4);
        assert!(k.contains(&xxh3_64_with_seed(b"token", PREFIX_SEED)));
        // "token" alone touches both ends: only its 3 grams.
        assert_eq!(query_keys("token").len(), 3);
        // Bounded on the left only and 8 bytes or longer: its first 8
        // bytes, plus the grams.
        let k = query_keys("id=4bf92f3577b3");
        assert!(k.contains(&xxh3_64_with_seed(b"4bf92f35", PREFIX_SEED)));
        assert_eq!(k.len(), 1 + 10);
    }
}
