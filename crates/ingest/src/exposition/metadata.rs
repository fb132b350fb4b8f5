//! Gathering HELP, TYPE and UNIT per metric family while a body is parsed,
//! for the targets metadata API and for remote write metadata.

use super::{Entry, MetricType};
use std::collections::HashMap;

/// What a body said about one metric family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FamilyMetadata {
    /// From `# TYPE`.
    pub kind: Option<MetricType>,
    /// From `# HELP`, unescaped.
    pub help: Option<String>,
    /// From `# UNIT` (OpenMetrics).
    pub unit: Option<String>,
}

/// Sample-name suffixes that point back to a family, tried in order when a
/// sample's own name has no metadata (as Prometheus's scrape cache does).
const SUFFIXES: [&str; 8] = [
    "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
];

/// Collects metadata entries: feed it every [`Entry`] the parser returns.
/// Only metadata lines allocate; samples are ignored.
#[derive(Debug, Clone, Default)]
pub struct MetadataCollector {
    families: HashMap<String, FamilyMetadata>,
}

impl MetadataCollector {
    /// An empty collector.
    pub fn new() -> Self {
        MetadataCollector::default()
    }

    /// Records `entry` if it is metadata. A later line for the same family
    /// and field wins.
    pub fn observe(&mut self, entry: &Entry<'_>) {
        let (name, f): (&str, &dyn Fn(&mut FamilyMetadata)) = match entry {
            Entry::Type { name, kind } => (name, &|m| m.kind = Some(*kind)),
            Entry::Help { name, text } => (name, &|m| m.help = Some(text.clone())),
            Entry::Unit { name, unit } => (name, &|m| m.unit = Some((*unit).to_owned())),
            Entry::Sample { .. } | Entry::Comment => return,
        };
        match self.families.get_mut(name) {
            Some(m) => f(m),
            None => {
                let mut m = FamilyMetadata::default();
                f(&mut m);
                self.families.insert(name.to_owned(), m);
            }
        }
    }

    /// The metadata of a family by its exact name.
    pub fn get(&self, family: &str) -> Option<&FamilyMetadata> {
        self.families.get(family)
    }

    /// The family a sample's metric name belongs to, with its metadata: the
    /// name itself if it has metadata, else the name without a known suffix
    /// (`foo_total` -> `foo`, `foo_bucket` -> `foo`).
    pub fn for_metric<'n>(&self, metric: &'n str) -> Option<(&'n str, &FamilyMetadata)> {
        if let Some(m) = self.families.get(metric) {
            return Some((metric, m));
        }
        SUFFIXES.iter().find_map(|s| {
            let base = metric.strip_suffix(s)?;
            self.families.get(base).map(|m| (base, m))
        })
    }

    /// Number of families seen.
    pub fn len(&self) -> usize {
        self.families.len()
    }

    /// True when no metadata was seen.
    pub fn is_empty(&self) -> bool {
        self.families.is_empty()
    }

    /// All families and their metadata.
    pub fn into_families(self) -> HashMap<String, FamilyMetadata> {
        self.families
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Format, Parser};
    use super::*;

    #[test]
    fn collects_and_resolves_families() {
        let body = b"# TYPE foo_seconds histogram\n# UNIT foo_seconds seconds\n# HELP foo_seconds Time.\nfoo_seconds_bucket{le=\"+Inf\"} 1\nfoo_seconds_count 1\n# EOF\n";
        let mut p = Parser::new(body, Format::OpenMetrics);
        let mut c = MetadataCollector::new();
        while let Some(e) = p.next_entry().unwrap() {
            c.observe(&e);
        }
        let want = FamilyMetadata {
            kind: Some(MetricType::Histogram),
            help: Some("Time.".into()),
            unit: Some("seconds".into()),
        };
        assert_eq!(c.get("foo_seconds"), Some(&want));
        assert_eq!(
            c.for_metric("foo_seconds_count"),
            Some(("foo_seconds", &want))
        );

        let body = b"# TYPE foo histogram\n# HELP foo The \\\"foo\\\".\nfoo_bucket{le=\"+Inf\"} 1\nfoo_count 1\n# TYPE bar gauge\nbar 1\nbaz_total 3\n";
        let mut p = Parser::new(body, Format::PrometheusText);
        let mut c = MetadataCollector::new();
        while let Some(e) = p.next_entry().unwrap() {
            c.observe(&e);
        }
        assert_eq!(c.len(), 2);
        let (fam, m) = c.for_metric("foo_bucket").unwrap();
        assert_eq!(fam, "foo");
        assert_eq!(m.help.as_deref(), Some("The \\\"foo\\\"."));
        assert_eq!(c.for_metric("bar").unwrap().1.kind, Some(MetricType::Gauge));
        assert_eq!(c.for_metric("baz_total"), None);
        assert!(!c.is_empty());
    }
}
