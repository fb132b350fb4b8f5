//! Service level objectives for Sightline: specs in, Prometheus rules and
//! error budget reports out.
//!
//! - [`load_specs`] reads a spec file: Sloth's `prometheus/v1`, OpenSLO v1
//!   `kind: SLO`, or Sightline's short forms (`sightline/v1`: availability
//!   from a request counter, latency from histogram buckets, uptime from
//!   probes), into [`Slo`]s.
//! - [`generate_rule_file`] turns them into a Prometheus rule file: SLI
//!   recordings over 5m..3d and the SLO window, objective, budget and burn
//!   rate recordings under Sloth's names, and the SRE workbook's
//!   multi-window, multi-burn-rate page and ticket alerts with a traffic
//!   guard; [`rule_file`] gives the same as a [`sightline_rules::RuleFile`]
//!   for the rule manager.
//! - [`report`] computes each SLO's standing from instant queries through
//!   a [`SloQuerier`] ([`SloStatus`], the `/api/v1/slos` body) and
//!   [`render_table`] prints it.
//!
//! ```
//! use sightline_slo::{generate_rule_file, parse_specs, rule_file, LoadOptions};
//!
//! let spec = r#"
//! version: sightline/v1
//! service: web
//! slos:
//!   - name: availability
//!     objective: 99.9
//!     availability: {metric: http_requests_total, errors: 'code=~"5.."'}
//! "#;
//! let slos = parse_specs("slo.yml", spec, &LoadOptions::default()).unwrap();
//! assert_eq!(slos[0].id, "web-availability");
//! let yaml = generate_rule_file(&slos);
//! assert!(yaml.contains("slo:sli_error:ratio_rate5m"));
//! let file = rule_file(&slos, "slo.yml").unwrap(); // for RuleManager::set_files
//! assert_eq!(file.groups.len(), 3);
//! ```
//!
//! `docs/slo.md` describes the formats, the generated series and why they
//! differ from Sloth's where they do. Times are milliseconds since the
//! epoch throughout.

mod error;
pub mod generate;
mod model;
mod report;
mod spec;
mod yaml;

pub use error::{Error, Result};
pub use generate::{generate_rule_file, rule_file, rule_groups, ABSENT_ALERT};
pub use model::{burn_windows, AlertSpec, Alerting, BurnWindow, Severity, Sli, Slo, Window};
pub use report::{
    human_duration, month_bounds, render_table, report, AlertStatus, SloQuerier, SloStatus,
    WindowBurn,
};
pub use spec::{load_spec_globs, load_specs, load_specs_with, parse_specs, LoadOptions};

#[cfg(test)]
mod promtool_tests;
