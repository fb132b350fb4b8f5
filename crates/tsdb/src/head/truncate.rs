//! Shrinking the head: dropping data older than a boundary (once it is in
//! a block) and series left empty, and framing what remains as the records
//! of a WAL checkpoint.

use super::chunk_file::ChunkData;
use super::{Head, STRIPES};
use sightline_core::{FloatHistogram, Labels};
use std::sync::atomic::Ordering::Relaxed;

impl Head {
    /// Drops data before `boundary` and series left empty. Returns the
    /// number of series removed.
    pub(crate) fn truncate(&self, boundary: i64) -> usize {
        self.set_truncated_upto(boundary);
        let mut dead = Vec::new();
        for stripe in self.series.iter() {
            let mut st = stripe.lock();
            if !st.hist.is_empty() {
                let mut emptied = Vec::new();
                for (id, h) in st.hist.iter_mut() {
                    let n = h.truncate(boundary);
                    self.num_chunks.fetch_sub(n as u64, Relaxed);
                    if h.is_empty() {
                        emptied.push(*id);
                    }
                }
                for id in emptied {
                    st.hist.remove(&id);
                    if let Some(s) = st.get_mut(&id) {
                        s.hist = false;
                    }
                }
            }
            for (id, s) in st.iter_mut() {
                let n = s.truncate(boundary, &self.chunk_files);
                self.num_chunks.fetch_sub(n as u64, Relaxed);
                if s.is_empty() && !s.hist {
                    dead.push((id, s.labels.clone()));
                }
            }
        }
        let mut removed = foldhash::HashSet::default();
        for (id, syms) in dead {
            let labels = self.labels_from_syms(&syms);
            let h = labels.stable_hash();
            let mut hs = self.hashes[(h as usize) % STRIPES].lock();
            let mut st = self.stripe(id).lock();
            // An appender may have written to it since we looked.
            if st.get(&id).is_some_and(|s| s.is_empty() && !s.hist) {
                st.remove(&id);
                drop(st);
                if hs.get(&h) == Some(&id) {
                    hs.remove(&h);
                }
                self.collisions.lock().retain(|c| c.1 != id);
                removed.insert(id);
            }
        }
        if !removed.is_empty() {
            self.index.write().remove_where(|id| removed.contains(&id));
            self.num_series.fetch_sub(removed.len() as u64, Relaxed);
        }
        self.chunk_files.truncate(boundary);
        let mut lo = i64::MAX;
        for stripe in self.series.iter() {
            let st = stripe.lock();
            for s in st.values() {
                if let Some(t) = s.min_time() {
                    lo = lo.min(t);
                }
            }
            for h in st.hist.values() {
                if let Some(t) = h.min_time() {
                    lo = lo.min(t);
                }
            }
        }
        self.min_time.store(lo, Relaxed);
        removed.len()
    }

    /// Frames every series and its samples as WAL records: the body of a
    /// checkpoint.
    pub(crate) fn checkpoint_records(&self) -> Vec<u8> {
        struct Batch {
            series: Vec<(u64, Labels)>,
            chunks: Vec<(u64, ChunkData)>,
            ooo: Vec<(u64, i64, f64)>,
            hists: Vec<(u64, i64, FloatHistogram)>,
        }
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        let mut b = Batch {
            series: Vec::new(),
            chunks: Vec::new(),
            ooo: Vec::new(),
            hists: Vec::new(),
        };
        let flush = |out: &mut Vec<u8>, scratch: &mut Vec<u8>, b: &mut Batch| {
            crate::wal::encode_series(out, scratch, b.series.iter().map(|(r, l)| (*r, l)));
            crate::wal::encode_chunks(out, scratch, &b.chunks);
            crate::wal::encode_samples(out, scratch, &b.ooo);
            crate::wal_histograms::encode(out, scratch, &b.hists);
            b.series.clear();
            b.chunks.clear();
            b.ooo.clear();
            b.hists.clear();
        };
        let mut hbuf = Vec::new();
        for (id, syms) in self.sorted_ids() {
            let labels = self.labels_from_syms(&syms);
            let r = u64::from(id);
            {
                let Some(s) = self.get(id) else { continue };
                let chunks = s.chunks_in(i64::MIN, i64::MAX, &self.chunk_files.reader());
                b.chunks.extend(chunks.into_iter().map(|c| (r, c)));
                if let Some(o) = &s.ooo {
                    b.ooo.extend(o.iter().map(|x| (r, x.t, x.v)));
                }
            }
            self.block_histograms(id, i64::MAX, &mut hbuf);
            b.hists.extend(hbuf.drain(..).map(|x| (r, x.t, x.h)));
            b.series.push((r, labels));
            if b.chunks.len() > 4000
                || b.series.len() > 1000
                || b.ooo.len() > 10_000
                || b.hists.len() > 2000
            {
                flush(&mut out, &mut scratch, &mut b);
            }
        }
        flush(&mut out, &mut scratch, &mut b);
        out
    }
}
