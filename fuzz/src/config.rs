//! The YAML files users bring unchanged: prometheus.yml, alertmanager.yml,
//! rule files, SLO specs, promtail and blackbox_exporter configs, and the
//! `probes:` section of sightline.yml. Errors are expected; panics are not.

use crate::utf8;

/// prometheus.yml (also the `prometheus:` section of sightline.yml).
pub fn prometheus(data: &[u8]) {
    if let Some(text) = utf8(data) {
        let _ = sightline_ingest::config::load_str(text, "fuzz.yml");
    }
}

/// alertmanager.yml, with its templates and routing tree.
pub fn alertmanager(data: &[u8]) {
    if let Some(text) = utf8(data) {
        let _ = sightline_alertmanager::config::Config::load_str(text, "fuzz.yml");
    }
}

/// A Prometheus rule file (PromQL in every expression, templates in
/// annotations).
pub fn rules(data: &[u8]) {
    if let Some(text) = utf8(data) {
        let _ = sightline_rules::file::parse_rule_file("fuzz.yml", text);
    }
}

/// SLO specs (Sloth and Sightline's own): the rule file generated from
/// specs that load must itself load (`sightline slo generate` output goes
/// to Prometheus unchanged).
pub fn slo(data: &[u8]) {
    let Some(text) = utf8(data) else {
        return;
    };
    let opts = sightline_slo::LoadOptions::default();
    let Ok(slos) = sightline_slo::parse_specs("fuzz.yml", text, &opts) else {
        return;
    };
    if let Err(e) = sightline_slo::rule_file(&slos, "generated.yml") {
        panic!(
            "rules generated from a valid spec do not load: {e}\n{}",
            sightline_slo::generate_rule_file(&slos)
        );
    }
}

/// promtail's config file (pipeline stages compile here).
pub fn promtail(data: &[u8]) {
    if let Some(text) = utf8(data) {
        let _ = sightline_ingest::tail::PromtailConfig::parse(text, "fuzz.yml");
    }
}

/// blackbox_exporter's modules file.
pub fn blackbox(data: &[u8]) {
    if let Some(text) = utf8(data) {
        let _ = sightline_probe::BlackboxConfig::parse(text, "fuzz.yml");
    }
}

/// sightline.yml's `probes:` section.
pub fn probes(data: &[u8]) {
    if let Some(text) = utf8(data) {
        let _ = sightline_probe::ProbesConfig::parse(text, "fuzz.yml");
    }
}
