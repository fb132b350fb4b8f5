//! Native histogram samples of one head series.
//!
//! They live beside the series, not in it: a series slot is one aligned
//! pair of cache lines that float appends are tuned around (see
//! `series.rs`), so histogram state sits in a side table of the series'
//! stripe keyed by id, and the slot only carries a flag saying that an
//! entry exists. Float-only series never look at the table.
//!
//! The open chunk is kept decoded (at most [`CHUNK_SAMPLES`] samples) and
//! encoded when it closes, so the chunk's bucket layout can be the union of
//! its samples' (see `chunk/histogram.rs`). Out-of-order histogram samples
//! are refused, as in Prometheus 2.42.

use super::series::CHUNK_SAMPLES;
use crate::chunk::histogram::{self, continued_hint, continues};
use sightline_core::{FloatHistogram, HistogramSample};
use std::sync::Arc;

/// A closed histogram chunk.
#[derive(Clone)]
pub(crate) struct HistChunk {
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
    pub(crate) encoding: u8,
    pub(crate) data: Arc<[u8]>,
}

/// The histogram half of a head series.
#[derive(Default)]
pub(crate) struct HistSeries {
    pub(crate) chunks: Vec<HistChunk>,
    /// The open chunk, decoded; hints as [`continues`] set them.
    pub(crate) open: Vec<HistogramSample>,
    /// The open chunk is closed before a sample at or after this (the next
    /// block boundary).
    end: i64,
}

impl HistSeries {
    /// Newest timestamp held.
    pub(crate) fn max_time(&self) -> Option<i64> {
        self.open
            .last()
            .map(|s| s.t)
            .or(self.chunks.last().map(|c| c.maxt))
    }

    /// Oldest timestamp held.
    pub(crate) fn min_time(&self) -> Option<i64> {
        self.chunks
            .first()
            .map(|c| c.mint)
            .or(self.open.first().map(|s| s.t))
    }

    /// The newest sample when it is still decoded (the open chunk's last).
    pub(crate) fn newest(&self) -> Option<&HistogramSample> {
        self.open.last()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.is_empty() && self.open.is_empty()
    }

    /// Appends a sample newer than [`HistSeries::max_time`]; returns true
    /// when a chunk was started.
    pub(crate) fn append(&mut self, t: i64, mut h: FloatHistogram, block_range: i64) -> bool {
        let full = self.open.len() >= CHUNK_SAMPLES || t >= self.end;
        let hint = match continues(&self.open, &h) {
            Ok(hint) if !full => {
                h.counter_reset_hint = hint;
                self.open.push(HistogramSample { t, h });
                return false;
            }
            Ok(_) => continued_hint(&h),
            Err(hint) => hint,
        };
        self.close_open();
        h.counter_reset_hint = hint;
        self.end = (t.div_euclid(block_range) + 1).saturating_mul(block_range);
        self.open.push(HistogramSample { t, h });
        true
    }

    fn close_open(&mut self) {
        if self.open.is_empty() {
            return;
        }
        let (encoding, data) = histogram::encode_vec(&self.open);
        self.chunks.push(HistChunk {
            mint: self.open[0].t,
            maxt: self.open[self.open.len() - 1].t,
            encoding,
            data: Arc::from(data),
        });
        self.open.clear();
    }

    /// Every sample in `[mint, maxt]`, decoded, appended to `out`.
    pub(crate) fn samples_in(&self, mint: i64, maxt: i64, out: &mut Vec<HistogramSample>) {
        let mut buf = Vec::new();
        for c in self
            .chunks
            .iter()
            .filter(|c| c.maxt >= mint && c.mint <= maxt)
        {
            buf.clear();
            if histogram::decode_into(c.encoding, &c.data, &mut buf).is_none() {
                log::error!("undecodable head histogram chunk skipped");
            }
            out.extend(buf.drain(..).filter(|s| s.t >= mint && s.t <= maxt));
        }
        out.extend(
            self.open
                .iter()
                .filter(|s| s.t >= mint && s.t <= maxt)
                .cloned(),
        );
    }

    /// Drops chunks entirely before `boundary`; returns how many.
    pub(crate) fn truncate(&mut self, boundary: i64) -> usize {
        let n = self.chunks.partition_point(|c| c.maxt < boundary);
        self.chunks.drain(..n);
        let mut dropped = n;
        if self.open.last().is_some_and(|s| s.t < boundary) {
            self.open.clear();
            dropped += 1;
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::histogram::{CounterResetHint, Span};

    fn h(count: f64) -> FloatHistogram {
        FloatHistogram {
            count,
            sum: count * 2.0,
            positive_spans: vec![Span {
                offset: 0,
                length: 1,
            }],
            positive_buckets: vec![count],
            ..Default::default()
        }
    }

    #[test]
    fn chunks_close_at_size_reset_and_boundary() {
        let mut s = HistSeries::default();
        let range = 1_000_000;
        for i in 0..130 {
            s.append(i, h(i as f64), range);
        }
        assert_eq!(s.chunks.len(), 1);
        assert_eq!(s.open.len(), 10);
        // A reset.
        assert!(s.append(130, h(1.0), range));
        assert_eq!(
            s.open[0].h.counter_reset_hint,
            CounterResetHint::CounterReset
        );
        assert!(s.append(range, h(2.0), range));
        let mut out = Vec::new();
        s.samples_in(0, range, &mut out);
        assert_eq!(out.len(), 132);
        assert_eq!(out[0].h.counter_reset_hint, CounterResetHint::Unknown);
        assert_eq!(
            out[120].h.counter_reset_hint,
            CounterResetHint::NotCounterReset
        );
        assert_eq!(s.truncate(range), 3);
        assert_eq!(s.min_time(), Some(range));
    }
}
