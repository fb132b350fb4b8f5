//! `topk` and `bottomk` over all steps at once.
//!
//! Sorting every group at every step costs `n log n` per step and reads the
//! rows column by column, one cache miss per series and step. Instead the
//! rows are read once, in order, each value offered to a bounded heap per
//! group and step that holds the `k` best so far. Most values lose against
//! the worst kept one, so the common case is one comparison.
//!
//! The result is exactly what a stable sort then "take `k`" would keep:
//! ties go to the earlier row. Rows are offered in row order, so a newcomer
//! that only ties the worst kept value never displaces it.

use crate::error::{Error, Result};
use crate::eval::{present, Row, ABSENT};
use std::cmp::Ordering;

/// Sort order for topk (descending) and bottomk (ascending), NaN last either way.
pub(crate) fn order(a: f64, b: f64, top: bool) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => {
            if top {
                b.partial_cmp(&a).unwrap_or(Ordering::Equal)
            } else {
                a.partial_cmp(&b).unwrap_or(Ordering::Equal)
            }
        }
    }
}

/// `k` per step from the parameter values, with Prometheus's errors for a
/// NaN or out-of-range parameter; steps with `k < 1` keep nothing.
fn ks(p: &[f64], n: usize) -> Result<Vec<usize>> {
    let mut out = vec![0usize; n];
    for (k, &param) in out.iter_mut().zip(p) {
        if param.is_nan() {
            return Err(Error::exec("Parameter value is NaN"));
        }
        if !(-9.223372036854776e18..9.223372036854776e18).contains(&param) {
            return Err(Error::exec(format!(
                "Scalar value {} overflows int64",
                crate::aggregations::go_g(param)
            )));
        }
        let v = param as i64;
        *k = if v < 1 { 0 } else { v as usize };
    }
    Ok(out)
}

/// Keeps, at every step, the `k` best present values of each group of
/// `rows` (`gids[row]` is the row's group); returns the rows that were kept
/// at least once, in their order and with their index in `rows`, with the
/// other steps absent.
pub(crate) fn select_top(
    rows: Vec<Row>,
    gids: &[usize],
    ng: usize,
    p: &[f64],
    n: usize,
    top: bool,
) -> Result<Vec<(usize, Row)>> {
    let ks = ks(p, n)?;
    let kmax = ks.iter().copied().max().unwrap_or(0);
    if kmax == 0 || rows.is_empty() {
        return Ok(Vec::new());
    }
    // One heap of row indexes per group and step, laid out in one arena;
    // a group never needs more room than it has members.
    let mut size = vec![0usize; ng];
    for &g in gids {
        size[g] += 1;
    }
    let cap: Vec<usize> = size.iter().map(|&s| s.min(kmax)).collect();
    let mut base = Vec::with_capacity(ng);
    let mut total = 0usize;
    for &c in &cap {
        base.push(total);
        total += c * n;
    }
    let mut arena = vec![0u32; total];
    let mut len = vec![0u32; ng * n];
    // The worst kept value per group and step, once its heap is full: the
    // quick test that turns most candidates away.
    let mut worst = vec![f64::NAN; ng * n];
    let val = |ri: u32, i: usize| rows[ri as usize].vals[i];
    // `a` ranks below `b`: worse value, or equal value and a later row.
    let worse = |a: u32, b: u32, i: usize| match order(val(a, i), val(b, i), top) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => a > b,
    };
    for (ri, (r, &g)) in rows.iter().zip(gids).enumerate() {
        let ri = ri as u32;
        for (i, &v) in r.vals.iter().enumerate().take(n) {
            if !present(v) {
                continue;
            }
            let k = ks[i].min(cap[g]);
            if k == 0 {
                continue;
            }
            let slot = g * n + i;
            let l = len[slot] as usize;
            if l == k && order(v, worst[slot], top) != Ordering::Less {
                continue;
            }
            let heap = &mut arena[base[g] + i * cap[g]..][..k];
            if l < k {
                // Sift up: the root is the worst kept row.
                let mut j = l;
                heap[j] = ri;
                while j > 0 {
                    let parent = (j - 1) / 2;
                    if worse(heap[j], heap[parent], i) {
                        heap.swap(j, parent);
                        j = parent;
                    } else {
                        break;
                    }
                }
                len[slot] += 1;
            } else {
                // Replace the root and sift down.
                heap[0] = ri;
                let mut j = 0;
                loop {
                    let (a, b) = (2 * j + 1, 2 * j + 2);
                    let mut w = j;
                    if a < k && worse(heap[a], heap[w], i) {
                        w = a;
                    }
                    if b < k && worse(heap[b], heap[w], i) {
                        w = b;
                    }
                    if w == j {
                        break;
                    }
                    heap.swap(j, w);
                    j = w;
                }
            }
            if len[slot] as usize == k {
                worst[slot] = val(arena[base[g] + i * cap[g]], i);
            }
        }
    }
    // (row, step) of every kept value, in row order.
    let mut kept: Vec<(u32, u32)> = Vec::new();
    for g in 0..ng {
        for i in 0..n {
            let l = len[g * n + i] as usize;
            let heap = &arena[base[g] + i * cap[g]..][..l];
            kept.extend(heap.iter().map(|&ri| (ri, i as u32)));
        }
    }
    drop(arena);
    kept.sort_unstable();
    let mut out = Vec::new();
    let mut next = kept.iter().peekable();
    for (ri, r) in rows.into_iter().enumerate() {
        let mut vals: Option<Vec<f64>> = None;
        while let Some(&&(kr, i)) = next.peek() {
            if kr as usize != ri {
                break;
            }
            next.next();
            vals.get_or_insert_with(|| vec![ABSENT; r.vals.len()])[i as usize] = r.vals[i as usize];
        }
        if let Some(vals) = vals {
            out.push((ri, Row { vals, ..r }));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::Labels;

    /// The selection a stable sort then "take k" makes, step by step: the
    /// behaviour the heaps must reproduce, ties included.
    #[allow(clippy::needless_range_loop)]
    fn by_sorting(rows: &[Row], gids: &[usize], ng: usize, k: usize, top: bool) -> Vec<Vec<f64>> {
        let n = rows[0].vals.len();
        let mut keep = vec![vec![ABSENT; n]; rows.len()];
        for i in 0..n {
            for g in 0..ng {
                let mut m: Vec<usize> = (0..rows.len())
                    .filter(|&r| gids[r] == g && present(rows[r].vals[i]))
                    .collect();
                m.sort_by(|&x, &y| order(rows[x].vals[i], rows[y].vals[i], top));
                for &r in m.iter().take(k) {
                    keep[r][i] = rows[r].vals[i];
                }
            }
        }
        keep.into_iter()
            .filter(|v| v.iter().any(|x| present(*x)))
            .collect()
    }

    #[test]
    fn heaps_keep_what_a_stable_sort_keeps() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..300 {
            let nrows = 1 + (next() % 40) as usize;
            let n = 1 + (next() % 6) as usize;
            let ng = 1 + (next() % 3) as usize;
            let k = (next() % 8) as usize;
            let top = round % 2 == 0;
            let rows: Vec<Row> = (0..nrows)
                .map(|_| Row {
                    labels: Labels::empty(),
                    drop_name: false,
                    // Few distinct values, so ties are common.
                    vals: (0..n)
                        .map(|_| match next() % 7 {
                            0 => ABSENT,
                            1 => f64::NAN,
                            v => (v % 4) as f64,
                        })
                        .collect(),
                    hists: None,
                })
                .collect();
            let gids: Vec<usize> = (0..nrows).map(|_| (next() % ng as u64) as usize).collect();
            let want = by_sorting(&rows, &gids, ng, k, top);
            let got: Vec<Vec<f64>> = select_top(rows, &gids, ng, &vec![k as f64; n], n, top)
                .unwrap()
                .into_iter()
                .map(|(_, r)| r.vals)
                .collect();
            let bits = |v: &Vec<Vec<f64>>| -> Vec<Vec<u64>> {
                v.iter()
                    .map(|r| r.iter().map(|x| x.to_bits()).collect())
                    .collect()
            };
            assert_eq!(bits(&got), bits(&want), "round {round}");
        }
    }
}
