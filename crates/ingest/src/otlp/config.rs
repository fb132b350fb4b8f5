//! The `otlp:` section of the configuration file, read as Prometheus 3
//! reads it (`config.OTLPConfig`): the same keys, defaults and checks.

use serde::Deserialize;
use std::collections::BTreeSet;

/// How OTLP metric and attribute names become Prometheus names
/// (`translation_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum TranslationStrategy {
    /// Invalid characters become `_`; unit, `_total` and `_ratio` suffixes
    /// are added. The default, and the only choice for Prometheus 2 names.
    #[default]
    UnderscoreEscapingWithSuffixes,
    /// Invalid characters become `_`; no suffixes.
    UnderscoreEscapingWithoutSuffixes,
    /// UTF-8 names kept as sent; suffixes added.
    #[serde(rename = "NoUTF8EscapingWithSuffixes")]
    NoUTF8EscapingWithSuffixes,
    /// Names kept exactly as sent.
    NoTranslation,
}

impl TranslationStrategy {
    /// Whether names are escaped to the legacy character set.
    pub fn escapes(self) -> bool {
        matches!(
            self,
            Self::UnderscoreEscapingWithSuffixes | Self::UnderscoreEscapingWithoutSuffixes
        )
    }

    /// Whether unit and type suffixes are added.
    pub fn adds_suffixes(self) -> bool {
        matches!(
            self,
            Self::UnderscoreEscapingWithSuffixes | Self::NoUTF8EscapingWithSuffixes
        )
    }
}

/// The `otlp:` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// Promote every resource attribute to a label (except
    /// `ignore_resource_attributes`).
    #[serde(default)]
    pub promote_all_resource_attributes: bool,
    /// Resource attributes to add as labels on every series of the resource.
    #[serde(default)]
    pub promote_resource_attributes: Vec<String>,
    /// With `promote_all_resource_attributes`: attributes not to promote.
    #[serde(default)]
    pub ignore_resource_attributes: Vec<String>,
    /// How names are translated.
    #[serde(default)]
    pub translation_strategy: TranslationStrategy,
    /// Keep `service.name`, `service.namespace` and `service.instance.id`
    /// on `target_info` as well as in `job` and `instance`.
    #[serde(default)]
    pub keep_identifying_resource_attributes: bool,
    /// Store explicit-bucket histograms as native histograms with custom
    /// buckets. Accepted; see docs/otlp.md for what we do with it.
    #[serde(default)]
    pub convert_histograms_to_nhcb: bool,
    /// Add `otel_scope_name`, `otel_scope_version`, `otel_scope_schema_url`
    /// and `otel_scope_<attribute>` labels.
    #[serde(default)]
    pub promote_scope_metadata: bool,
    /// Prefix `key` to label names that start with a single `_`
    /// (Prometheus's default: true).
    #[serde(default = "default_true")]
    pub label_name_underscore_sanitization: bool,
    /// Keep runs of `_` in escaped label names (Prometheus's default: true).
    #[serde(default = "default_true")]
    pub label_name_preserve_multiple_underscores: bool,
}

fn default_true() -> bool {
    true
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            promote_all_resource_attributes: false,
            promote_resource_attributes: Vec::new(),
            ignore_resource_attributes: Vec::new(),
            translation_strategy: TranslationStrategy::default(),
            keep_identifying_resource_attributes: false,
            convert_histograms_to_nhcb: false,
            promote_scope_metadata: false,
            label_name_underscore_sanitization: true,
            label_name_preserve_multiple_underscores: true,
        }
    }
}

impl OtlpConfig {
    /// Prometheus's checks after reading: the two promotion modes exclude
    /// each other, and attribute lists hold no empty or repeated names
    /// (names are trimmed). Errors read as Prometheus's.
    pub fn validate(&mut self) -> Result<(), String> {
        if self.promote_all_resource_attributes {
            if !self.promote_resource_attributes.is_empty() {
                return Err("'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously".into());
            }
            check_attributes(&mut self.ignore_resource_attributes, "ignored")
                .map_err(|e| format!("invalid 'ignore_resource_attributes': {e}"))
        } else {
            if !self.ignore_resource_attributes.is_empty() {
                return Err("'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true".into());
            }
            check_attributes(&mut self.promote_resource_attributes, "promoted")
                .map_err(|e| format!("invalid 'promote_resource_attributes': {e}"))
        }
    }

    /// Whether the resource attribute `name` becomes a label.
    pub fn promotes(&self, name: &str) -> bool {
        if self.promote_all_resource_attributes {
            !self.ignore_resource_attributes.iter().any(|a| a == name)
        } else {
            self.promote_resource_attributes.iter().any(|a| a == name)
        }
    }
}

fn check_attributes(attrs: &mut [String], adjective: &str) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    let mut errs = Vec::new();
    for a in attrs.iter_mut() {
        let t = a.trim().to_owned();
        if t.is_empty() {
            errs.push(format!("empty {adjective} OTel resource attribute"));
            continue;
        }
        if !seen.insert(t.clone()) {
            errs.push(format!(
                "duplicated {adjective} OTel resource attribute {t:?}"
            ));
            continue;
        }
        *a = t;
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(yaml: &str) -> Result<OtlpConfig, String> {
        let text = format!(
            "otlp:\n{}",
            yaml.lines().map(|l| format!("  {l}\n")).collect::<String>()
        );
        crate::config::load_str(&text, "p.yml")
            .map(|c| c.otlp)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_prometheus_defaults() {
        let c = crate::config::load_str("otlp:\n", "p.yml").unwrap().otlp;
        assert_eq!(c, OtlpConfig::default());
        assert_eq!(
            c.translation_strategy,
            TranslationStrategy::UnderscoreEscapingWithSuffixes
        );
        assert!(c.label_name_underscore_sanitization);
    }

    #[test]
    fn reads_every_key() {
        let c = read(
            "promote_resource_attributes: [' service.version ', k8s.pod.name]\n\
             translation_strategy: NoUTF8EscapingWithSuffixes\n\
             keep_identifying_resource_attributes: true\n\
             convert_histograms_to_nhcb: true\n\
             promote_scope_metadata: true\n",
        )
        .unwrap();
        assert_eq!(
            c.promote_resource_attributes,
            ["service.version", "k8s.pod.name"]
        );
        assert!(c.promotes("k8s.pod.name") && !c.promotes("host.name"));
        assert_eq!(
            c.translation_strategy,
            TranslationStrategy::NoUTF8EscapingWithSuffixes
        );
        assert!(c.keep_identifying_resource_attributes && c.promote_scope_metadata);
        let c =
            read("promote_all_resource_attributes: true\nignore_resource_attributes: [a]").unwrap();
        assert!(c.promotes("b") && !c.promotes("a"));
    }

    #[test]
    fn refuses_what_prometheus_refuses() {
        for (yaml, want) in [
            (
                "promote_resource_attributes: [a, ' a']",
                "duplicated promoted OTel resource attribute \"a\"",
            ),
            (
                "promote_resource_attributes: ['']",
                "empty promoted OTel resource attribute",
            ),
            (
                "promote_all_resource_attributes: true\npromote_resource_attributes: [a]",
                "cannot be configured simultaneously",
            ),
            (
                "ignore_resource_attributes: [a]",
                "cannot be configured unless",
            ),
            (
                "translation_strategy: Foo",
                "otlp.translation_strategy: unknown variant \"Foo\"",
            ),
            (
                "promote_everything: true",
                "unknown field \"promote_everything\"",
            ),
        ] {
            let e = read(yaml).unwrap_err();
            assert!(e.contains(want), "{yaml}: {e}");
        }
    }
}
