//! Metric metadata (`# TYPE`, `# HELP`, `# UNIT`) per target, kept as
//! Prometheus 2.42's scrape cache keeps it (`scrape/scrape.go`, `setType`,
//! `setHelp`, `setUnit`, `iterDone`):
//!
//! - Each line sets one field of its family's entry; an entry a line
//!   creates starts as `unknown` with empty help and unit, so a family with
//!   only `# HELP` is reported as `unknown`. A field no line mentions keeps
//!   what an earlier scrape said.
//! - Lines take effect as they are parsed, even when the scrape later fails
//!   (a malformed line, a limit), as in Prometheus.
//! - A family no scrape mentions any more is kept for ten more successful,
//!   non-empty scrapes, then forgotten; a failed scrape ages nothing.
//! - The metadata lives with the target: a target that goes away takes its
//!   metadata with it, at once.
//!
//! Text format 0.0.4 `untyped` is reported as `unknown`, as Prometheus's text
//! parser maps it; the other types are the names OpenMetrics uses.

use std::collections::BTreeMap;

/// The `# TYPE` / `# HELP` / `# UNIT` of one metric family, for
/// `/api/v1/metadata` and `/api/v1/targets/metadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct MetricMetadata {
    /// `counter`, `gauge`, `histogram`, `gaugehistogram`, `summary`,
    /// `info`, `stateset` or `unknown`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The help text.
    pub help: String,
    /// The unit (OpenMetrics), or "".
    pub unit: String,
}

/// What one scrape's lines said about a family; `None` for a field no line
/// mentioned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Said {
    pub kind: Option<&'static str>,
    pub help: Option<String>,
    pub unit: Option<String>,
}

/// Collects a scrape's metadata lines in body order, reusing its allocation.
#[derive(Debug, Default)]
pub(crate) struct MetadataBuilder {
    families: Vec<(String, Said)>,
}

impl MetadataBuilder {
    pub(crate) fn clear(&mut self) {
        self.families.clear();
    }

    /// The entry of family `name`. The comments of a family are adjacent
    /// in valid bodies, so only the last entry is checked: no search per
    /// family (a repeated family gets a second entry, applied in turn).
    pub(crate) fn entry(&mut self, name: &str) -> &mut Said {
        if self.families.last().is_none_or(|(n, _)| n != name) {
            self.families.push((name.to_owned(), Said::default()));
        }
        let last = self.families.len() - 1;
        &mut self.families[last].1
    }
}

#[derive(Debug, Clone)]
struct Entry {
    meta: MetricMetadata,
    /// The scrape iteration that last mentioned the family.
    last_iter: u64,
}

/// One target's metadata across its scrapes.
#[derive(Debug, Default)]
pub(crate) struct MetadataCache {
    entries: BTreeMap<String, Entry>,
    /// Counts successful non-empty scrapes, as Prometheus's `iter`.
    iter: u64,
}

/// Scrapes a family may go unmentioned before it is forgotten.
const KEEP_SCRAPES: u64 = 10;

impl MetadataCache {
    /// Applies what one scrape said. `flush` is true for a successful
    /// scrape of a non-empty body: only those age the entries. Allocates
    /// only for new families and changed texts.
    pub(crate) fn update(&mut self, b: &MetadataBuilder, flush: bool) {
        for (name, said) in &b.families {
            let e = match self.entries.get_mut(name) {
                Some(e) => e,
                None => self.entries.entry(name.clone()).or_insert(Entry {
                    meta: MetricMetadata {
                        kind: "unknown",
                        ..MetricMetadata::default()
                    },
                    last_iter: self.iter,
                }),
            };
            e.last_iter = self.iter;
            if let Some(k) = said.kind {
                e.meta.kind = k;
            }
            if let Some(h) = &said.help {
                if e.meta.help != *h {
                    e.meta.help.clone_from(h);
                }
            }
            if let Some(u) = &said.unit {
                if e.meta.unit != *u {
                    e.meta.unit.clone_from(u);
                }
            }
        }
        if flush {
            let iter = self.iter;
            self.entries
                .retain(|_, e| iter.saturating_sub(e.last_iter) <= KEEP_SCRAPES);
            self.iter += 1;
        }
    }

    /// The metadata of family `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&MetricMetadata> {
        self.entries.get(name).map(|e| &e.meta)
    }

    /// Every family, by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &MetricMetadata)> {
        self.entries.iter().map(|(n, e)| (n, &e.meta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(b: &mut MetadataBuilder, name: &str, kind: Option<&'static str>, help: Option<&str>) {
        let e = b.entry(name);
        if kind.is_some() {
            e.kind = kind;
        }
        if let Some(h) = help {
            e.help = Some(h.into());
        }
    }

    #[test]
    fn fields_merge_across_scrapes_and_gone_families_age_out() {
        let mut c = MetadataCache::default();
        let mut b = MetadataBuilder::default();
        said(&mut b, "a", Some("counter"), Some("A."));
        said(&mut b, "h", None, Some("Only help."));
        c.update(&b, true);
        assert_eq!(c.get("h").unwrap().kind, "unknown");
        assert_eq!(c.get("a").unwrap().help, "A.");

        // `a` loses its HELP line: the help stays, as in Prometheus.
        b.clear();
        said(&mut b, "a", Some("gauge"), None);
        c.update(&b, true);
        let a = c.get("a").unwrap();
        assert_eq!((a.kind, a.help.as_str()), ("gauge", "A."));

        // `h` was last mentioned in iteration 0; it survives until ten
        // more flushing scrapes have passed without it.
        for _ in 0..9 {
            c.update(&b, true);
        }
        assert!(c.get("h").is_some());
        // Failed scrapes do not age.
        for _ in 0..5 {
            c.update(&b, false);
        }
        assert!(c.get("h").is_some());
        c.update(&b, true);
        assert!(c.get("h").is_none(), "issue 12: forgotten after 10 scrapes");
        assert!(c.get("a").is_some());
        assert_eq!(c.iter().count(), 1);
    }
}
