//! Delta temporality to cumulative, as Prometheus 3 does with
//! `--enable-feature=otlp-deltatocumulative` (the OpenTelemetry Collector's
//! `deltatocumulative` processor run inside the receiver).
//!
//! Each delta stream (a series: metric name plus all labels) keeps a
//! running total in memory. How points are treated:
//!
//! - The first point of a stream starts its total; the stream's start time
//!   is the point's start time (its own time when none is given).
//! - A point whose time is not after the stream's last point is refused
//!   (out of order or a duplicate), and so is one that starts before the
//!   stream started: adding either would count an interval twice.
//! - A gap (a point whose start is after the previous point's time, e.g.
//!   an export that never arrived) is added anyway: the lost interval's
//!   increments are missing from the total, but no counter reset appears.
//! - A histogram whose bucket bounds change starts its total again, as a
//!   counter reset would (PromQL's `rate` handles that).
//! - Streams without a point for [`MAX_IDLE_MS`] of wall-clock time are
//!   forgotten; a later point starts from zero again (a reset). At most
//!   [`MAX_STREAMS`] streams are tracked; points of new streams past that
//!   are refused until idle ones are forgotten.
//!
//! The state is memory only: after a restart every stream starts again
//! from zero, which PromQL reads as a counter reset.

use super::exphist::ExpPoint;
use foldhash::HashMap;

/// How long a stream is kept without points.
pub const MAX_IDLE_MS: i64 = 10 * 60 * 1000;
/// How many delta streams are tracked at most.
pub const MAX_STREAMS: usize = 1_000_000;

/// A running total.
#[derive(Debug, Clone, PartialEq)]
pub enum Total {
    /// A sum.
    Value(f64),
    /// An explicit-bucket histogram.
    Histogram {
        /// Observations.
        count: u64,
        /// Sum of observations, if any point had one.
        sum: Option<f64>,
        /// Bucket upper bounds (the `+Inf` bucket implied).
        bounds: Vec<f64>,
        /// Per-bucket (not cumulative) counts, one more than the bounds.
        counts: Vec<u64>,
    },
    /// An exponential histogram.
    Exponential(ExpPoint),
}

impl Total {
    /// Adds a delta of the same kind; false when the shapes differ (other
    /// bucket bounds), in which case the caller starts over.
    fn add(&mut self, d: &Total) -> bool {
        match (self, d) {
            (Total::Value(a), Total::Value(b)) => *a += b,
            (
                Total::Histogram {
                    count,
                    sum,
                    bounds,
                    counts,
                },
                Total::Histogram {
                    count: c2,
                    sum: s2,
                    bounds: b2,
                    counts: n2,
                },
            ) => {
                if bounds != b2 || counts.len() != n2.len() {
                    return false;
                }
                *count += c2;
                *sum = match (*sum, *s2) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
                for (a, b) in counts.iter_mut().zip(n2) {
                    *a += b;
                }
            }
            (Total::Exponential(a), Total::Exponential(b)) => a.add(b),
            _ => return false,
        }
        true
    }
}

struct Stream {
    start_ns: u64,
    last_ns: u64,
    seen_ms: i64,
    total: Total,
}

/// Why a delta point was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Its time is not after the stream's last point.
    OutOfOrder,
    /// It starts before the stream's start.
    OlderStart,
    /// Too many streams are tracked.
    TooManyStreams,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::OutOfOrder => {
                "delta point not after the previous point of its series (out of order or duplicate)"
            }
            Refused::OlderStart => "delta point starts before its series' first point",
            Refused::TooManyStreams => "too many delta series tracked for conversion to cumulative",
        })
    }
}

/// The running totals of every delta stream.
#[derive(Default)]
pub struct DeltaState {
    streams: HashMap<u64, Stream>,
    last_sweep_ms: i64,
}

impl DeltaState {
    /// Streams tracked.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Whether no stream is tracked.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// Adds a delta point of stream `key` (a hash of the series' labels)
    /// covering `(start_ns, time_ns]`; returns the cumulative total and the
    /// stream's start. `now_ms` is the wall clock, for forgetting idle
    /// streams.
    pub fn add(
        &mut self,
        key: u64,
        start_ns: u64,
        time_ns: u64,
        delta: Total,
        now_ms: i64,
    ) -> Result<(Total, u64), Refused> {
        self.sweep(now_ms);
        let start_ns = if start_ns == 0 { time_ns } else { start_ns };
        if let Some(s) = self.streams.get_mut(&key) {
            if time_ns <= s.last_ns {
                return Err(Refused::OutOfOrder);
            }
            if start_ns < s.start_ns {
                return Err(Refused::OlderStart);
            }
            if !s.total.add(&delta) {
                s.total = delta;
                s.start_ns = start_ns;
            }
            s.last_ns = time_ns;
            s.seen_ms = now_ms;
            return Ok((s.total.clone(), s.start_ns));
        }
        if self.streams.len() >= MAX_STREAMS {
            return Err(Refused::TooManyStreams);
        }
        self.streams.insert(
            key,
            Stream {
                start_ns,
                last_ns: time_ns,
                seen_ms: now_ms,
                total: delta.clone(),
            },
        );
        Ok((delta, start_ns))
    }

    fn sweep(&mut self, now_ms: i64) {
        if now_ms - self.last_sweep_ms < 60_000 {
            return;
        }
        self.last_sweep_ms = now_ms;
        self.streams
            .retain(|_, s| now_ms - s.seen_ms <= MAX_IDLE_MS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(t: &Total) -> f64 {
        match t {
            Total::Value(v) => *v,
            _ => unreachable!(),
        }
    }

    /// issue 12: delta sums become running totals; out-of-order,
    /// duplicate and older-start points are refused, gaps are added.
    #[test]
    fn sums_accumulate() {
        let mut d = DeltaState::default();
        let add = |d: &mut DeltaState, s, t, x| d.add(1, s, t, Total::Value(x), 0);
        assert_eq!(
            add(&mut d, 100, 200, 5.0).map(|(t, s)| (v(&t), s)),
            Ok((5.0, 100))
        );
        assert_eq!(add(&mut d, 200, 300, 2.0).map(|(t, _)| v(&t)), Ok(7.0));
        assert_eq!(add(&mut d, 200, 300, 2.0).unwrap_err(), Refused::OutOfOrder);
        assert_eq!(add(&mut d, 100, 250, 1.0).unwrap_err(), Refused::OutOfOrder);
        assert_eq!(add(&mut d, 50, 400, 1.0).unwrap_err(), Refused::OlderStart);
        // A gap: (300, 500] never arrived; the total goes on.
        assert_eq!(
            add(&mut d, 500, 600, 1.0).map(|(t, s)| (v(&t), s)),
            Ok((8.0, 100))
        );
        // Another stream is independent; no start time means "its time".
        assert_eq!(
            d.add(2, 0, 700, Total::Value(3.0), 0)
                .map(|(t, s)| (v(&t), s)),
            Ok((3.0, 700))
        );
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn histograms_accumulate_and_restart_on_new_bounds() {
        let h = |count, bounds: &[f64], counts: &[u64]| Total::Histogram {
            count,
            sum: Some(count as f64),
            bounds: bounds.to_vec(),
            counts: counts.to_vec(),
        };
        let mut d = DeltaState::default();
        d.add(1, 1, 2, h(3, &[1.0], &[1, 2]), 0).unwrap();
        let (t, _) = d.add(1, 2, 3, h(2, &[1.0], &[2, 0]), 0).unwrap();
        assert_eq!(t, h(5, &[1.0], &[3, 2]));
        let (t, s) = d.add(1, 3, 4, h(1, &[2.0], &[1, 0]), 0).unwrap();
        assert_eq!((t, s), (h(1, &[2.0], &[1, 0]), 3));
    }

    #[test]
    fn idle_streams_are_forgotten() {
        let mut d = DeltaState::default();
        d.add(1, 1, 2, Total::Value(1.0), 0).unwrap();
        d.add(2, 1, 2, Total::Value(1.0), MAX_IDLE_MS).unwrap();
        let (t, _) = d
            .add(1, 2, 3, Total::Value(1.0), MAX_IDLE_MS + 60_001)
            .unwrap();
        assert_eq!(v(&t), 1.0, "stream 1 was forgotten and starts again");
        assert_eq!(d.len(), 2);
    }
}
