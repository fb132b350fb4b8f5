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
//! - the whole word (`W` keys);
//! - every 3-byte window inside the word (`G` keys), for words of 3 bytes
//!   or more.
//!
//! **Which searches can skip.** A line filter string `s` is split into its
//! own word runs. A run `r` of `s` that is at least 3 bytes long lies inside
//! one word of any line that contains `s` (its bytes are word bytes, so the
//! line's word around it extends at least over it): every 3-gram of `r` is
//! a `G` key of that line. A run bounded by non-word bytes *inside `s`* on
//! both sides is a whole word of the line: it is a `W` key. A chunk lacking
//! any of these keys holds no line containing `s`. Runs shorter than 3
//! bytes that touch an end of `s` give no key; a string with no key at all
//! (`"a="`, `" "`, `"ab"`) never skips. The filter answers "maybe" for
//! keys it holds and for ~1% of keys it does not (false positives only
//! cost a decompression), never "no" for a key it holds: a skip never drops
//! a matching line.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Bits per key: about 0.8% false positives with [`PROBES`] probes.
const BITS_PER_KEY: usize = 10;
/// Probes per key.
const PROBES: u32 = 6;

/// Seeds keep the two key kinds apart: the word `abc` and the 3-gram `abc`
/// are different keys.
const WORD_SEED: u64 = 0x5717_0001;
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

/// Adds the keys of one line to `keys` (hashes, unsorted, repeated).
pub(crate) fn line_keys(line: &[u8], keys: &mut Vec<u64>) {
    words(line, |w, _, _| {
        keys.push(xxh3_64_with_seed(w, WORD_SEED));
        for g in w.windows(3) {
            keys.push(xxh3_64_with_seed(g, GRAM_SEED));
        }
    });
}

/// The keys a chunk must hold to contain a line with `s` (module docs);
/// empty when `s` gives no key.
pub fn query_keys(s: &str) -> Vec<u64> {
    let mut keys = Vec::new();
    words(s.as_bytes(), |w, left, right| {
        if left && right {
            keys.push(xxh3_64_with_seed(w, WORD_SEED));
        }
        for g in w.windows(3) {
            keys.push(xxh3_64_with_seed(g, GRAM_SEED));
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
    /// A filter holding `keys` (repeats allowed; `keys` is sorted in place).
    pub(crate) fn build(keys: &mut Vec<u64>) -> Bloom {
        keys.sort_unstable();
        keys.dedup();
        let words = (keys.len() * BITS_PER_KEY).div_ceil(64).max(1);
        let mut b = Bloom {
            bits: vec![0; words],
        };
        for &k in keys.iter() {
            b.probe(k, |bits, i| bits[i / 64] |= 1 << (i % 64));
        }
        b
    }

    /// The filter's 64-bit words.
    pub(crate) fn words(&self) -> &[u64] {
        &self.bits
    }

    fn probe(&mut self, key: u64, mut f: impl FnMut(&mut Vec<u64>, usize)) {
        let m = (self.bits.len() * 64) as u64;
        let (h1, h2) = (key as u32, (key >> 32) as u32 | 1);
        for i in 0..PROBES {
            let h = h1.wrapping_add(i.wrapping_mul(h2));
            // Lemire's range reduction: no division on the hot path.
            let bit = ((u64::from(h) * m) >> 32) as usize;
            f(&mut self.bits, bit);
        }
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

/// The keys of a query's `required` hints: per element, one key list per
/// alternative string.
pub(crate) type RequiredKeys = Vec<Vec<Vec<u64>>>;

/// Hashes [`sightline_core::LogHints::required`] once per select.
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
        let mut keys = Vec::new();
        for l in lines {
            line_keys(l.as_bytes(), &mut keys);
        }
        Bloom::build(&mut keys)
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
        // No key at all: cannot skip.
        assert!(!skips(&b, "zq"));
        assert!(!skips(&b, " = "));
        // Any alternative held keeps the chunk.
        let alts = required_keys(&[vec!["zebra".into(), "disk".into()]]);
        assert!(!rules_out(|k| b.may_contain(k), &alts));
    }

    #[test]
    fn query_keys_follow_the_documented_rule() {
        // "a-token-b": "token" is bounded inside the string (a W key and 3
        // G keys); "a" and "b" touch the ends and are short: no key.
        let k = query_keys("a-token-b");
        assert_eq!(k.len(), 4);
        assert!(k.contains(&xxh3_64_with_seed(b"token", WORD_SEED)));
        // "token" alone touches both ends: only its 3 grams.
        assert_eq!(query_keys("token").len(), 3);
    }
}
