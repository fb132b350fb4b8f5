//! The structural operators between two spansets of a trace, over the
//! trace's tree (spans whose parent is missing are roots).

use crate::ast::SpansetOp;
use crate::eval::{union, TraceView};

/// The spans `l op r` yields, ascending.
pub fn apply(op: SpansetOp, t: &TraceView<'_>, l: &[u32], r: &[u32]) -> Vec<u32> {
    use SpansetOp::*;
    match op {
        Child | Parent | Descendant | Ancestor | Sibling => related(op, t, l, r, true),
        NotChild => related(Child, t, l, r, false),
        NotParent => related(Parent, t, l, r, false),
        NotDescendant => related(Descendant, t, l, r, false),
        NotAncestor => related(Ancestor, t, l, r, false),
        NotSibling => related(Sibling, t, l, r, false),
        // Both sides of the relation: `a &> b` is the `a`s that are the
        // parent of some `b`, and the `b`s that are a child of some `a`.
        UnionChild => both(Parent, Child, t, l, r),
        UnionParent => both(Child, Parent, t, l, r),
        UnionDescendant => both(Ancestor, Descendant, t, l, r),
        UnionAncestor => both(Descendant, Ancestor, t, l, r),
        UnionSibling => both(Sibling, Sibling, t, l, r),
        And | Or => unreachable!("set operators are not structural"),
    }
}

fn both(back: SpansetOp, fwd: SpansetOp, t: &TraceView<'_>, l: &[u32], r: &[u32]) -> Vec<u32> {
    union(&related(back, t, r, l, true), &related(fwd, t, l, r, true))
}

/// The spans of `r` that stand in `op` to some span of `l` (`keep`), or
/// to none (`!keep`). `Child`: `r`'s parent is in `l`; `Parent`: `r` is
/// the parent of an `l`; `Descendant`/`Ancestor` likewise through any
/// number of levels; `Sibling`: `r` shares its parent with another span of
/// `l`.
fn related(op: SpansetOp, t: &TraceView<'_>, l: &[u32], r: &[u32], keep: bool) -> Vec<u32> {
    let parents = t.parents();
    let n = parents.len();
    let mut in_l = vec![false; n];
    for &i in l {
        in_l[i as usize] = true;
    }
    let test: Box<dyn Fn(usize) -> bool> = match op {
        SpansetOp::Child => Box::new(|b| parents[b].is_some_and(|p| in_l[p as usize])),
        SpansetOp::Parent => {
            let mut is_parent = vec![false; n];
            for &a in l {
                if let Some(p) = parents[a as usize] {
                    is_parent[p as usize] = true;
                }
            }
            Box::new(move |b| is_parent[b])
        }
        SpansetOp::Descendant => Box::new(|b| {
            let mut cur = parents[b];
            let mut steps = 0;
            while let Some(p) = cur {
                if in_l[p as usize] {
                    return true;
                }
                steps += 1;
                if steps > n {
                    break; // a cycle in bad data
                }
                cur = parents[p as usize];
            }
            false
        }),
        SpansetOp::Ancestor => {
            let mut is_anc = vec![false; n];
            for &a in l {
                let mut cur = parents[a as usize];
                let mut steps = 0;
                while let Some(p) = cur {
                    if is_anc[p as usize] || steps > n {
                        break;
                    }
                    is_anc[p as usize] = true;
                    steps += 1;
                    cur = parents[p as usize];
                }
            }
            Box::new(move |b| is_anc[b])
        }
        SpansetOp::Sibling => {
            // How many spans of `l` each span parents.
            let mut kids = vec![0u32; n];
            for &a in l {
                if let Some(p) = parents[a as usize] {
                    kids[p as usize] += 1;
                }
            }
            let in_l = in_l.clone();
            Box::new(move |b| parents[b].is_some_and(|p| kids[p as usize] > u32::from(in_l[b])))
        }
        _ => unreachable!("only the five relations"),
    };
    r.iter()
        .copied()
        .filter(|&b| test(b as usize) == keep)
        .collect()
}
