//! A search's hints checked on a block's columns before any span is built.
//!
//! Building a trace's spans (names, attribute keys and values cloned out of
//! the dictionary) is most of a scan's cost; a search that needs every
//! trace of an hour read but keeps few of them spent its time building
//! spans it threw away. [`Prefilter`] turns the hints into numbers of the
//! block's dictionary (string ids, resource and scope numbers), so that a
//! trace's columns are read once as numbers and the trace is built only
//! when each hint may hold for some span of it.
//!
//! Loose in one direction only: where the numbers cannot tell (events'
//! and links' attributes, array values) a hint counts as held, and the
//! caller's exact check ([`TraceHints::admits`]) decides on the built
//! trace. A trace that may have parts elsewhere is built regardless: the
//! hints hold for the whole trace, not for one part.

use crate::group::Dict;
use sightline_core::traces::{Span, SpanKind, SpanPredicate, StatusCode, TagScope, TraceHints};
use std::collections::HashMap;

/// One hint in the block's numbers.
pub(crate) enum Check {
    /// Held by the resources (or scopes) whose number is set; for span
    /// attributes also by `span` below.
    Attr {
        /// Resource numbers whose attributes hold it.
        resources: Vec<bool>,
        /// Scope numbers whose attributes hold it.
        scopes: Vec<bool>,
        /// Span attribute key's string id, when span attributes count and
        /// the key is in the dictionary.
        key: Option<u64>,
        /// The string value's id (`None`: any value, for "exists"; a
        /// wanted value missing from the dictionary is `Some(u64::MAX)`).
        value: Option<u64>,
    },
    /// The span name's string id (`u64::MAX` when absent: never held).
    Name(u64),
    MinDuration(i64),
    MaxDuration(i64),
    Status(StatusCode),
    Kind(SpanKind),
    /// Cannot be told from the numbers: counts as held.
    Held,
}

/// The hints of one scan, in one block's numbers.
pub(crate) struct Prefilter {
    pub start_ns: i64,
    pub end_ns: i64,
    pub checks: Vec<Check>,
}

impl Prefilter {
    /// `None` when there is nothing to check beyond the time range.
    pub fn new(hints: &TraceHints, dict: &Dict) -> Option<Prefilter> {
        if hints.required.is_empty() {
            return None;
        }
        let mut ids: HashMap<&str, u64> = HashMap::new();
        let wanted: Vec<&str> = hints
            .required
            .iter()
            .flat_map(|p| match p {
                SpanPredicate::SpanName(n) => vec![n.as_str()],
                SpanPredicate::AttrEquals { key, value, .. } => vec![key.as_str(), value.as_str()],
                SpanPredicate::AttrExists { key, .. } => vec![key.as_str()],
                _ => vec![],
            })
            .collect();
        for (i, s) in dict.strings.iter().enumerate() {
            if wanted.contains(&s.as_str()) {
                ids.entry(s.as_str()).or_insert(i as u64);
            }
        }
        let id = |s: &str| ids.get(s).copied();
        // A span of nothing but this resource (or scope): whether it
        // satisfies `p` says whether the resource's attributes do.
        let by_resource = |p: &SpanPredicate| -> Vec<bool> {
            dict.resources
                .iter()
                .map(|r| {
                    Span {
                        resource: r.clone(),
                        ..Default::default()
                    }
                    .satisfies(p)
                })
                .collect()
        };
        let by_scope = |p: &SpanPredicate| -> Vec<bool> {
            dict.scopes
                .iter()
                .map(|s| {
                    Span {
                        scope: s.clone(),
                        ..Default::default()
                    }
                    .satisfies(p)
                })
                .collect()
        };
        let checks = hints
            .required
            .iter()
            .map(|p| match p {
                SpanPredicate::ServiceName(_) => Check::Attr {
                    resources: by_resource(p),
                    scopes: Vec::new(),
                    key: None,
                    value: None,
                },
                SpanPredicate::SpanName(n) => Check::Name(id(n).unwrap_or(u64::MAX)),
                SpanPredicate::AttrEquals { scope, key, .. }
                | SpanPredicate::AttrExists { scope, key } => {
                    let value = match p {
                        SpanPredicate::AttrEquals { value, .. } => {
                            Some(id(value).unwrap_or(u64::MAX))
                        }
                        _ => None,
                    };
                    match scope {
                        TagScope::Event | TagScope::Link => Check::Held,
                        TagScope::Resource => Check::Attr {
                            resources: by_resource(p),
                            scopes: Vec::new(),
                            key: None,
                            value,
                        },
                        TagScope::Instrumentation => Check::Attr {
                            resources: Vec::new(),
                            scopes: by_scope(p),
                            key: None,
                            value,
                        },
                        TagScope::Span | TagScope::Any => Check::Attr {
                            resources: if *scope == TagScope::Any {
                                by_resource(p)
                            } else {
                                Vec::new()
                            },
                            scopes: Vec::new(),
                            // A key absent from the dictionary is on no span.
                            key: Some(id(key).unwrap_or(u64::MAX)),
                            value,
                        },
                    }
                }
                SpanPredicate::MinDuration(ns) => Check::MinDuration(*ns),
                SpanPredicate::MaxDuration(ns) => Check::MaxDuration(*ns),
                SpanPredicate::Status(c) => Check::Status(*c),
                SpanPredicate::Kind(k) => Check::Kind(*k),
            })
            .collect();
        Some(Prefilter {
            start_ns: hints.start_ns,
            end_ns: hints.end_ns,
            checks,
        })
    }
}

/// One span's columns as numbers, for [`Prefilter`]'s checks.
pub(crate) struct SpanNumbers<'a> {
    pub name: u64,
    pub resource: u64,
    pub scope: u64,
    pub duration_ns: i64,
    pub kind: SpanKind,
    pub status: StatusCode,
    /// (key id, value type tag, string value id when a string).
    pub attrs: &'a [(u64, u8, u64)],
}

impl Check {
    /// Whether the span may hold this hint.
    pub fn holds(&self, s: &SpanNumbers) -> bool {
        match self {
            Check::Attr {
                resources,
                scopes,
                key,
                value,
            } => {
                resources.get(s.resource as usize) == Some(&true)
                    || scopes.get(s.scope as usize) == Some(&true)
                    || key.is_some_and(|k| {
                        s.attrs.iter().any(|&(ak, t, av)| {
                            ak == k
                                && match value {
                                    None => true,
                                    // An array may hold the string: the
                                    // exact check decides.
                                    Some(v) => {
                                        (t == crate::codec::T_STR && av == *v)
                                            || t == crate::codec::T_ARRAY
                                    }
                                }
                        })
                    })
            }
            Check::Name(n) => s.name == *n,
            Check::MinDuration(ns) => s.duration_ns >= *ns,
            Check::MaxDuration(ns) => s.duration_ns <= *ns,
            Check::Status(c) => s.status == *c,
            Check::Kind(k) => s.kind == *k,
            Check::Held => true,
        }
    }
}
