//! Arithmetic on native histograms, as Prometheus's `FloatHistogram` does
//! it: addition and subtraction across schemas and zero-bucket widths,
//! scaling, compaction, schema reduction, counter-reset detection, and the
//! `String()` form used in messages.
//!
//! Buckets are handled as `(index, count)` runs: each operation maps both
//! operands into a common layout (the lower schema, the wider zero bucket,
//! the common custom bounds) and rebuilds the spans, so results come out
//! compacted (no empty buckets), which is also how they are compared.

use super::{present_indexes, FloatHistogram, Span};
use crate::gofmt::shortest_g;
use std::fmt;

/// Why two histograms cannot be combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incompatible {
    /// One has exponential buckets, the other custom buckets.
    MixedSchemas,
}

/// What an operation that succeeded had to do to its operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Combined {
    /// Custom bounds differed and were reduced to the bounds both share
    /// (Prometheus's "mismatched custom buckets were reconciled").
    pub reconciled: bool,
    /// One operand said "counter reset" and the other "no counter reset"
    /// (Prometheus's "conflicting counter resets").
    pub hint_conflict: bool,
}

/// `(index, count)` pairs of one side, in index order.
type Side = Vec<(i32, f64)>;

fn side(spans: &[Span], counts: &[f64]) -> Side {
    present_indexes(spans).zip(counts.iter().copied()).collect()
}

/// Spans and counts for `(index, count)` pairs in index order; runs of at
/// most `max_empty` missing indexes are filled with zeros rather than
/// starting a new span, and zero counts are dropped otherwise.
fn build(items: &[(i32, f64)], max_empty: u32) -> (Vec<Span>, Vec<f64>) {
    let mut spans: Vec<Span> = Vec::new();
    let mut counts = Vec::new();
    let mut next: Option<i32> = None; // index after the last span's end
    for &(i, c) in items {
        if c == 0.0 {
            continue;
        }
        match next {
            Some(n) if i >= n && (i - n) as u32 <= max_empty => {
                let last = spans.last_mut().expect("a span exists once next is set");
                counts.extend(std::iter::repeat_n(0.0, (i - n) as usize));
                last.length += (i - n) as u32 + 1;
            }
            Some(n) => spans.push(Span {
                offset: i - n,
                length: 1,
            }),
            None => spans.push(Span {
                offset: i,
                length: 1,
            }),
        }
        counts.push(c);
        next = Some(i + 1);
    }
    (spans, counts)
}

/// True when `build(side(spans, counts), 0)` would give back `spans` and
/// `counts` unchanged: no empty span, no zero-offset span after the first,
/// no zero count. Lets the common cases skip rebuilding.
fn is_canonical(spans: &[Span], counts: &[f64]) -> bool {
    covers(spans, counts)
        && spans.iter().all(|s| s.length > 0)
        && spans.iter().skip(1).all(|s| s.offset > 0)
        && counts.iter().all(|&c| c != 0.0)
}

/// True when the spans cover exactly one index per count (what a valid
/// histogram has; the general paths zip the two and drop any excess).
fn covers(spans: &[Span], counts: &[f64]) -> bool {
    spans.iter().map(|s| s.length as usize).sum::<usize>() == counts.len()
}

/// Merges two index-sorted sides, combining counts of equal indexes with `f`.
fn merge(a: &[(i32, f64)], b: &[(i32, f64)], f: impl Fn(f64, f64) -> f64) -> Side {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if j == b.len() || (i < a.len() && a[i].0 < b[j].0) {
            out.push((a[i].0, f(a[i].1, 0.0)));
            i += 1;
        } else if i == a.len() || b[j].0 < a[i].0 {
            out.push((b[j].0, f(0.0, b[j].1)));
            j += 1;
        } else {
            out.push((a[i].0, f(a[i].1, b[j].1)));
            i += 1;
            j += 1;
        }
    }
    out
}

/// The index of the bucket of `target` schema that holds bucket `idx` of `origin`.
pub fn target_index(idx: i32, origin: i32, target: i32) -> i32 {
    ((idx - 1) >> (origin - target)) + 1
}

/// Maps a side to a lower schema, summing buckets that fall together.
fn reduce(items: Side, origin: i32, target: i32) -> Side {
    if origin <= target {
        return items;
    }
    let mut out: Side = Vec::with_capacity(items.len());
    for (i, c) in items {
        let t = target_index(i, origin, target);
        match out.last_mut() {
            Some(last) if last.0 == t => last.1 += c,
            _ => out.push((t, c)),
        }
    }
    out
}

impl FloatHistogram {
    fn pos(&self) -> Side {
        side(&self.positive_spans, &self.positive_buckets)
    }

    fn neg(&self) -> Side {
        side(&self.negative_spans, &self.negative_buckets)
    }

    fn set_sides(&mut self, pos: &[(i32, f64)], neg: &[(i32, f64)], max_empty: u32) {
        (self.positive_spans, self.positive_buckets) = build(pos, max_empty);
        (self.negative_spans, self.negative_buckets) = build(neg, max_empty);
    }

    /// Removes empty buckets, merging spans separated by at most
    /// `max_empty` empty buckets (Prometheus's `Compact`).
    pub fn compact(&mut self, max_empty: u32) {
        if max_empty == 0
            && is_canonical(&self.positive_spans, &self.positive_buckets)
            && is_canonical(&self.negative_spans, &self.negative_buckets)
        {
            return;
        }
        let (p, n) = (self.pos(), self.neg());
        self.set_sides(&p, &n, max_empty);
    }

    /// Lowers the resolution to `schema` (which must not be higher than the
    /// current one), merging buckets. Custom-bucket histograms are unchanged.
    pub fn reduce_resolution(&mut self, schema: i32) {
        if self.uses_custom_buckets() || schema >= self.schema {
            return;
        }
        let p = reduce(self.pos(), self.schema, schema);
        let n = reduce(self.neg(), self.schema, schema);
        self.schema = schema;
        self.set_sides(&p, &n, 0);
    }

    /// The zero count and threshold after widening the zero bucket to at
    /// least `larger`: every bucket that overlaps the wider zero bucket is
    /// folded into it, and the threshold grows to that bucket's upper
    /// bound, as Prometheus's `zeroCountForLargerThreshold`.
    pub fn zero_count_for_threshold(&self, larger: f64) -> (f64, f64) {
        let mut t = larger;
        if t <= self.zero_threshold {
            return (self.zero_count, self.zero_threshold);
        }
        'again: loop {
            let mut count = self.zero_count;
            for b in self.positive_buckets() {
                if b.lower >= t {
                    break;
                }
                count += b.count;
                if b.upper > t {
                    t = b.upper;
                    continue 'again;
                }
            }
            for b in self.negative_buckets() {
                if b.upper <= -t {
                    break;
                }
                count += b.count;
                if b.lower < -t {
                    t = -b.lower;
                    continue 'again;
                }
            }
            return (count, t);
        }
    }

    /// Widens the zero bucket to at least `threshold` (see
    /// [`FloatHistogram::zero_count_for_threshold`]) and drops the buckets
    /// it now covers.
    pub fn widen_zero_bucket(&mut self, threshold: f64) {
        if threshold <= self.zero_threshold || self.uses_custom_buckets() {
            return;
        }
        let (count, t) = self.zero_count_for_threshold(threshold);
        self.zero_count = count;
        self.zero_threshold = t;
        let keep = |h: &FloatHistogram, items: Side| -> Side {
            items
                .into_iter()
                .filter(|&(i, _)| h.bucket_bounds(i).0 >= t)
                .collect()
        };
        let p = keep(self, self.pos());
        let n = keep(self, self.neg());
        self.set_sides(&p, &n, 0);
    }

    /// Multiplies every count and the sum by `f` (negative factors give
    /// negative counts, as in Prometheus).
    pub fn scale(&mut self, f: f64) {
        self.count *= f;
        self.sum *= f;
        self.zero_count *= f;
        self.positive_buckets.iter_mut().for_each(|c| *c *= f);
        self.negative_buckets.iter_mut().for_each(|c| *c *= f);
    }

    /// Divides every count and the sum by `d` (not the same as scaling by
    /// `1/d` in the last bit, which compensated means depend on). Division
    /// by zero leaves no buckets, only the infinite (or NaN) count, sum and
    /// zero count, as Prometheus's `Div`.
    pub fn div(&mut self, d: f64) {
        self.count /= d;
        self.sum /= d;
        self.zero_count /= d;
        if d == 0.0 {
            self.positive_spans.clear();
            self.negative_spans.clear();
            self.positive_buckets.clear();
            self.negative_buckets.clear();
            return;
        }
        self.positive_buckets.iter_mut().for_each(|c| *c /= d);
        self.negative_buckets.iter_mut().for_each(|c| *c /= d);
    }

    /// `self += other`.
    pub fn add(&mut self, other: &FloatHistogram) -> Result<Combined, Incompatible> {
        self.combine(other, 1.0)
    }

    /// `self -= other`. The result is a gauge histogram, as in
    /// Prometheus: a difference has no counter semantics.
    pub fn sub(&mut self, other: &FloatHistogram) -> Result<Combined, Incompatible> {
        let r = self.combine(other, -1.0);
        self.counter_reset_hint = super::CounterResetHint::Gauge;
        r
    }

    fn combine(&mut self, other: &FloatHistogram, sign: f64) -> Result<Combined, Incompatible> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(Incompatible::MixedSchemas);
        }
        let mut done = Combined::default();
        self.merge_hint(other, &mut done);
        self.count += sign * other.count;
        self.sum += sign * other.sum;
        if self.combine_same_layout(other, sign) {
            return Ok(done);
        }
        if self.uses_custom_buckets() {
            let (mine, theirs);
            if self.custom_values == other.custom_values {
                mine = self.pos();
                theirs = other.pos();
            } else {
                done.reconciled = true;
                let common = common_bounds(&self.custom_values, &other.custom_values);
                mine = rebucket(&self.custom_values, &common, self.pos());
                theirs = rebucket(&other.custom_values, &common, other.pos());
                self.custom_values = common;
            }
            let p = merge(&mine, &theirs, |a, b| a + sign * b);
            self.set_sides(&p, &[], 0);
            return Ok(done);
        }
        // Common zero bucket: widen whichever is narrower until both agree.
        let mut other = std::borrow::Cow::Borrowed(other);
        while self.zero_threshold != other.zero_threshold {
            if self.zero_threshold > other.zero_threshold {
                other.to_mut().widen_zero_bucket(self.zero_threshold);
            }
            if other.zero_threshold > self.zero_threshold {
                self.widen_zero_bucket(other.zero_threshold);
            }
        }
        self.zero_count += sign * other.zero_count;
        let schema = self.schema.min(other.schema);
        let p = merge(
            &reduce(self.pos(), self.schema, schema),
            &reduce(other.pos(), other.schema, schema),
            |a, b| a + sign * b,
        );
        let n = merge(
            &reduce(self.neg(), self.schema, schema),
            &reduce(other.neg(), other.schema, schema),
            |a, b| a + sign * b,
        );
        self.schema = schema;
        self.set_sides(&p, &n, 0);
        Ok(done)
    }

    /// The buckets of `combine` when both histograms have the same bucket
    /// layout (the common case: consecutive samples of one series): counts
    /// are combined in place, with the same result as the general merge.
    /// False, touching nothing, when the layouts differ.
    fn combine_same_layout(&mut self, other: &FloatHistogram, sign: f64) -> bool {
        let custom = self.uses_custom_buckets();
        let same = if custom {
            // The general path drops negative buckets and ignores the zero
            // bucket of custom-bucket histograms: leave odd ones to it.
            self.custom_values == other.custom_values
                && self.negative_spans.is_empty()
                && other.negative_spans.is_empty()
                && self.negative_buckets.is_empty()
                && other.negative_buckets.is_empty()
        } else {
            self.schema == other.schema && self.zero_threshold == other.zero_threshold
        };
        if !same
            || self.positive_spans != other.positive_spans
            || self.negative_spans != other.negative_spans
            || !covers(&self.positive_spans, &self.positive_buckets)
            || !covers(&self.negative_spans, &self.negative_buckets)
            || !covers(&other.positive_spans, &other.positive_buckets)
            || !covers(&other.negative_spans, &other.negative_buckets)
        {
            return false;
        }
        if !custom {
            self.zero_count += sign * other.zero_count;
        }
        for (a, b) in self
            .positive_buckets
            .iter_mut()
            .zip(&other.positive_buckets)
        {
            *a += sign * b;
        }
        for (a, b) in self
            .negative_buckets
            .iter_mut()
            .zip(&other.negative_buckets)
        {
            *a += sign * b;
        }
        // The general path's result is compacted.
        self.compact(0);
        true
    }

    /// Merges `other`'s counter-reset hint into `self`'s as a sum does: a
    /// sum of gauges is a gauge; mixed knowledge about resets is none.
    fn merge_hint(&mut self, other: &FloatHistogram, done: &mut Combined) {
        use super::CounterResetHint::*;
        let (a, b) = (self.counter_reset_hint, other.counter_reset_hint);
        self.counter_reset_hint = match (a, b) {
            _ if a == b => a,
            (Gauge, _) | (_, Gauge) => Gauge,
            (CounterReset, NotCounterReset) | (NotCounterReset, CounterReset) => {
                done.hint_conflict = true;
                Unknown
            }
            _ => Unknown,
        };
    }

    /// A histogram with `self`'s layout parameters (schema, zero threshold,
    /// custom bounds, hint) and nothing counted: the starting compensation
    /// of [`FloatHistogram::kahan_add`].
    pub fn empty_like(&self) -> FloatHistogram {
        FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            custom_values: self.custom_values.clone(),
            ..FloatHistogram::default()
        }
    }

    /// `self += other` with Kahan-Neumaier compensation: every count, the
    /// sum and every bucket keep their lost low-order part in `comp`, which
    /// must have come from [`FloatHistogram::empty_like`] on the first
    /// addend and only been passed to this method with `self` since. The
    /// compensated total is `self + comp` ([`FloatHistogram::add`]). Layouts
    /// are reconciled as [`FloatHistogram::add`] does, for `comp` too.
    pub fn kahan_add(
        &mut self,
        comp: &mut FloatHistogram,
        other: &FloatHistogram,
    ) -> Result<Combined, Incompatible> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(Incompatible::MixedSchemas);
        }
        let mut done = Combined::default();
        self.merge_hint(other, &mut done);
        comp.counter_reset_hint = self.counter_reset_hint;
        (self.count, comp.count) = kahan_inc(other.count, self.count, comp.count);
        (self.sum, comp.sum) = kahan_inc(other.sum, self.sum, comp.sum);
        let (mine, cs, theirs);
        if self.uses_custom_buckets() {
            if self.custom_values == other.custom_values {
                (mine, cs, theirs) = (self.pos(), comp.pos(), other.pos());
            } else {
                done.reconciled = true;
                let common = common_bounds(&self.custom_values, &other.custom_values);
                mine = rebucket(&self.custom_values, &common, self.pos());
                cs = rebucket(&self.custom_values, &common, comp.pos());
                theirs = rebucket(&other.custom_values, &common, other.pos());
                self.custom_values = common.clone();
                comp.custom_values = common;
            }
            let (p, pc) = kahan_merge(&mine, &cs, &theirs);
            self.set_sides(&p, &[], 0);
            comp.set_sides(&pc, &[], 0);
            return Ok(done);
        }
        let mut other = std::borrow::Cow::Borrowed(other);
        while self.zero_threshold != other.zero_threshold {
            if self.zero_threshold > other.zero_threshold {
                other.to_mut().widen_zero_bucket(self.zero_threshold);
            }
            if other.zero_threshold > self.zero_threshold {
                self.widen_zero_bucket(other.zero_threshold);
                // The new threshold is a bucket boundary of the shared
                // schema, so the compensation folds the same buckets.
                comp.widen_zero_bucket(self.zero_threshold);
            }
        }
        (self.zero_count, comp.zero_count) =
            kahan_inc(other.zero_count, self.zero_count, comp.zero_count);
        let schema = self.schema.min(other.schema);
        let sides = |h: &FloatHistogram| {
            (
                reduce(h.pos(), h.schema, schema),
                reduce(h.neg(), h.schema, schema),
            )
        };
        let ((ap, an), (cp, cn), (op, on)) = (sides(self), sides(comp), sides(&other));
        let (p, pc) = kahan_merge(&ap, &cp, &op);
        let (n, nc) = kahan_merge(&an, &cn, &on);
        self.schema = schema;
        comp.schema = schema;
        self.set_sides(&p, &n, 0);
        comp.set_sides(&pc, &nc, 0);
        Ok(done)
    }

    /// True when some count, the sum or a bucket is infinite.
    pub fn has_infinity(&self) -> bool {
        [self.count, self.sum, self.zero_count]
            .iter()
            .chain(&self.positive_buckets)
            .chain(&self.negative_buckets)
            .any(|v| v.is_infinite())
    }

    /// True when going from `previous` to `self` the counter was reset:
    /// the hint says so, the layout cannot continue (custom bounds changed,
    /// schema rose, zero bucket shrank or cannot be aligned), or any count
    /// went down (Prometheus's `DetectReset`).
    pub fn detect_reset(&self, previous: &FloatHistogram) -> bool {
        use super::CounterResetHint::*;
        match self.counter_reset_hint {
            CounterReset => return true,
            NotCounterReset => return false,
            Unknown | Gauge => {}
        }
        if self.uses_custom_buckets() != previous.uses_custom_buckets() {
            return true;
        }
        if self.uses_custom_buckets() && self.custom_values != previous.custom_values {
            // Changed bounds alone are no reset: the counts are compared
            // in the buckets both layouts share, as subtraction
            // reconciles them.
            let common = common_bounds(&self.custom_values, &previous.custom_values);
            let cur = rebucket(&self.custom_values, &common, self.pos());
            let prev = rebucket(&previous.custom_values, &common, previous.pos());
            return self.count < previous.count
                || merge(&cur, &prev, |c, p| if c < p { -1.0 } else { 0.0 })
                    .iter()
                    .any(|x| x.1 < 0.0);
        }
        if self.count < previous.count
            || self.schema > previous.schema
            || self.zero_threshold < previous.zero_threshold
        {
            return true;
        }
        let (prev_zero, t) = previous.zero_count_for_threshold(self.zero_threshold);
        if t != self.zero_threshold || self.zero_count < prev_zero {
            return true;
        }
        if let Some(reset) = self.went_down_same_layout(previous) {
            return reset;
        }
        let outside = |h: &FloatHistogram, items: Side| -> Side {
            items
                .into_iter()
                .filter(|&(i, _)| h.bucket_bounds(i).1 > self.zero_threshold)
                .collect()
        };
        let went_down = |cur: Side, prev: Side| {
            let prev = reduce(prev, previous.schema, self.schema);
            merge(&cur, &prev, |c, p| if c < p { -1.0 } else { 0.0 })
                .iter()
                .any(|x| x.1 < 0.0)
        };
        went_down(self.pos(), outside(previous, previous.pos()))
            || went_down(self.neg(), outside(previous, previous.neg()))
    }

    /// The bucket comparison of `detect_reset` when both histograms have
    /// the same schema, zero bucket and spans, and no bucket of `previous`
    /// lies inside the zero bucket: any count that went down. `None` when
    /// the general path must decide.
    fn went_down_same_layout(&self, previous: &FloatHistogram) -> Option<bool> {
        if self.uses_custom_buckets()
            || self.schema != previous.schema
            || self.zero_threshold != previous.zero_threshold
            || self.positive_spans != previous.positive_spans
            || self.negative_spans != previous.negative_spans
            || !covers(&self.positive_spans, &self.positive_buckets)
            || !covers(&self.negative_spans, &self.negative_buckets)
            || !covers(&previous.positive_spans, &previous.positive_buckets)
            || !covers(&previous.negative_spans, &previous.negative_buckets)
        {
            return None;
        }
        // Bounds grow with the index: the first bucket decides for all.
        for spans in [&previous.positive_spans, &previous.negative_spans] {
            if let Some(first) = present_indexes(spans).next() {
                if previous.bucket_bounds(first).1 <= self.zero_threshold {
                    return None;
                }
            }
        }
        let down = |cur: &[f64], prev: &[f64]| cur.iter().zip(prev).any(|(c, p)| c < p);
        Some(
            down(&self.positive_buckets, &previous.positive_buckets)
                || down(&self.negative_buckets, &previous.negative_buckets),
        )
    }

    /// Data equality as Prometheus's `Equals`: the same layout after
    /// compaction and bit-identical counts, sum and thresholds; the
    /// counter-reset hint is not compared.
    pub fn equals(&self, other: &FloatHistogram) -> bool {
        let (mut a, mut b) = (self.clone(), other.clone());
        a.compact(0);
        b.compact(0);
        let same = |x: f64, y: f64| x.to_bits() == y.to_bits();
        let all =
            |x: &[f64], y: &[f64]| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(*p, *q));
        a.schema == b.schema
            && same(a.zero_threshold, b.zero_threshold)
            && same(a.zero_count, b.zero_count)
            && same(a.count, b.count)
            && same(a.sum, b.sum)
            && a.positive_spans == b.positive_spans
            && a.negative_spans == b.negative_spans
            && all(&a.positive_buckets, &b.positive_buckets)
            && all(&a.negative_buckets, &b.negative_buckets)
            && (!a.uses_custom_buckets() || a.custom_values == b.custom_values)
    }

    /// Every bucket in order from the most negative: negative buckets
    /// (outermost first), the zero bucket when it has a width or a count,
    /// then positive buckets. Empty buckets are included.
    pub fn all_buckets(&self) -> Vec<super::Bucket> {
        let mut out: Vec<super::Bucket> = self.negative_buckets().collect();
        out.reverse();
        if !self.uses_custom_buckets() && (self.zero_threshold != 0.0 || self.zero_count != 0.0) {
            out.push(super::Bucket {
                lower: -self.zero_threshold,
                upper: self.zero_threshold,
                lower_inclusive: true,
                upper_inclusive: true,
                count: self.zero_count,
                index: 0,
            });
        }
        out.extend(self.positive_buckets());
        out
    }
}

/// Neumaier's compensated summation step, as Prometheus uses for sums:
/// adds `inc` to `sum` and returns the new sum and compensation `c`.
#[inline]
pub fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// Adds the buckets of `o` to the sums `a` with compensations `c` (all
/// index-sorted); returns the new sums and compensations.
fn kahan_merge(a: &[(i32, f64)], c: &[(i32, f64)], o: &[(i32, f64)]) -> (Side, Side) {
    let (mut sums, mut comps) = (Vec::with_capacity(a.len().max(o.len())), Vec::new());
    let (mut i, mut j, mut k) = (0, 0, 0);
    loop {
        let next = [a.get(i), c.get(j), o.get(k)]
            .into_iter()
            .flatten()
            .map(|x| x.0)
            .min();
        let Some(idx) = next else { break };
        let take = |s: &[(i32, f64)], p: &mut usize| match s.get(*p) {
            Some(&(x, v)) if x == idx => {
                *p += 1;
                v
            }
            _ => 0.0,
        };
        let (av, cv, ov) = (take(a, &mut i), take(c, &mut j), take(o, &mut k));
        let (s, cc) = kahan_inc(ov, av, cv);
        sums.push((idx, s));
        comps.push((idx, cc));
    }
    (sums, comps)
}

/// The custom bounds `a` and `b` share, to which mismatched layouts are
/// reconciled.
fn common_bounds(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().copied().filter(|v| b.contains(v)).collect()
}

/// Moves custom buckets from `from` bounds to the coarser `to` bounds (a
/// subset of them): each bucket goes to the first bucket of `to` whose
/// upper bound is at least its own.
fn rebucket(from: &[f64], to: &[f64], items: Side) -> Side {
    let mut out: Side = Vec::new();
    for (i, c) in items {
        let upper = from.get(i as usize).copied().unwrap_or(f64::INFINITY);
        let t = to.partition_point(|&b| b < upper) as i32;
        match out.last_mut() {
            Some(last) if last.0 == t => last.1 += c,
            _ => out.push((t, c)),
        }
    }
    out
}

impl fmt::Display for FloatHistogram {
    /// Prometheus's `FloatHistogram.String()`:
    /// `{count:5, sum:12.5, [-2,-1):3, [-0.001,0.001]:1, (0.5,1]:1}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{count:{}, sum:{}",
            shortest_g(self.count),
            shortest_g(self.sum)
        )?;
        for b in self.all_buckets() {
            let open = if b.lower_inclusive { '[' } else { '(' };
            let close = if b.upper_inclusive { ']' } else { ')' };
            write!(
                f,
                ", {open}{},{}{close}:{}",
                shortest_g(b.lower),
                shortest_g(b.upper),
                shortest_g(b.count)
            )?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests;
