//! Chunk codecs: how a run of samples of one series is packed into bytes.
//!
//! - [`xor`]: Gorilla-style bit packing (delta-of-delta timestamps, XOR'd
//!   floats). The head's encoding until encoding 3; still read from WAL
//!   checkpoints written before.
//! - [`scaled`]: byte-aligned varints with decimal values as integers. The
//!   head's encoding: several times smaller than Gorilla on printed decimals.
//! - [`packed`]: a byte-aligned variant for blocks. It spends a few more raw
//!   bytes than Gorilla but its output is made of whole bytes with a small
//!   alphabet (jitter, small integer deltas), so the zstd pass that block
//!   chunk files apply shrinks it far below what Gorilla bits allow.
//!
//! - [`histogram`]: native histogram chunks (encodings 4 and 5), one
//!   bucket layout per chunk.
//!
//! All round-trip every float bit pattern, NaNs and the staleness marker
//! included. `docs/format/chunks.md` describes the bytes.

#[cfg(test)]
pub(crate) mod fixtures;
pub(crate) mod histogram;
pub(crate) mod packed;
pub(crate) mod scaled;
pub(crate) mod xor;

use sightline_core::Sample;

/// Encoding byte stored beside each chunk in block chunk files.
pub(crate) const ENC_XOR: u8 = 1;
/// See [`packed`].
pub(crate) const ENC_PACKED: u8 = 2;
/// See [`scaled`].
pub(crate) const ENC_SCALED: u8 = 3;

/// Decodes a chunk of any encoding, appending its samples to `out`.
/// `None` means the bytes are damaged (what decoded before the damage is
/// still appended).
pub(crate) fn decode_into(encoding: u8, data: &[u8], out: &mut Vec<Sample>) -> Option<()> {
    match encoding {
        ENC_XOR => {
            let mut it = xor::XorIter::new(data)?;
            drain(it.len_hint(), &mut it, out);
            (!it.failed()).then_some(())
        }
        ENC_PACKED => packed::decode_into(data, out),
        ENC_SCALED => {
            let mut it = scaled::ScaledIter::new(data)?;
            drain(it.len_hint(), &mut it, out);
            (!it.failed()).then_some(())
        }
        _ => None,
    }
}

fn drain(hint: usize, it: &mut impl Iterator<Item = Sample>, out: &mut Vec<Sample>) {
    out.reserve(hint);
    out.extend(it);
}
