//! The rule evaluator's self-telemetry: `sightline_rule_*` per rule group,
//! labeled `rule_group="file;name"` as Prometheus labels its
//! `prometheus_rule_*`.

use crate::RuleManager;
use sightline_core::telemetry::{MetricKind, Report, Telemetry};

/// One group's figures, read under its lock once per collection.
struct Row {
    group: String,
    interval: f64,
    rules: f64,
    last_duration: f64,
    last_eval: f64,
    iterations: f64,
    missed: f64,
    evaluations: f64,
    failures: f64,
}

type Pick = fn(&Row) -> f64;

const GAUGES: [(&str, &str, Pick); 4] = [
    (
        "sightline_rule_group_interval_seconds",
        "The interval of a rule group.",
        |r| r.interval,
    ),
    (
        "sightline_rule_group_rules",
        "The number of rules in a group.",
        |r| r.rules,
    ),
    (
        "sightline_rule_group_last_duration_seconds",
        "How long the last evaluation of a group took.",
        |r| r.last_duration,
    ),
    (
        "sightline_rule_group_last_evaluation_timestamp_seconds",
        "When a group was last evaluated.",
        |r| r.last_eval,
    ),
];

const COUNTERS: [(&str, &str, Pick); 4] = [
    (
        "sightline_rule_group_iterations",
        "Scheduled evaluations of a group.",
        |r| r.iterations + r.missed,
    ),
    (
        "sightline_rule_group_iterations_missed",
        "Evaluations skipped because the previous one ran late.",
        |r| r.missed,
    ),
    ("sightline_rule_evaluations", "Rule evaluations.", |r| {
        r.evaluations
    }),
    (
        "sightline_rule_evaluation_failures",
        "Rule evaluations that failed.",
        |r| r.failures,
    ),
];

impl Telemetry for RuleManager {
    fn report(&self, out: &mut Report) {
        let rows: Vec<Row> = self
            .groups()
            .iter()
            .map(|g| {
                let g = g.lock().unwrap_or_else(|e| e.into_inner());
                Row {
                    group: format!("{};{}", g.file, g.name),
                    interval: g.interval_ms as f64 / 1000.0,
                    rules: g.rules.len() as f64,
                    last_duration: g.eval_duration.as_secs_f64(),
                    last_eval: g.last_eval.map_or(0.0, |t| t as f64 / 1000.0),
                    iterations: g.evaluations as f64,
                    missed: g.iterations_missed as f64,
                    evaluations: g.rule_evaluations as f64,
                    failures: g.rule_failures as f64,
                }
            })
            .collect();
        let kinds = GAUGES
            .iter()
            .map(|g| (g, MetricKind::Gauge))
            .chain(COUNTERS.iter().map(|c| (c, MetricKind::Counter)));
        for ((name, help, pick), kind) in kinds {
            let fam = out.family(name, help, kind);
            for r in &rows {
                fam.point(&[("rule_group", r.group.as_str())], pick(r));
            }
        }
    }
}
