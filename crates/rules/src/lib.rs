//! Recording and alerting rules for Sightline: Prometheus's (PromQL over
//! the TSDB) and Loki's ruler files (LogQL metric queries over the log
//! store), evaluated the same way, writing recordings and `ALERTS` into
//! the TSDB.
//!
//! - [`file`]: rule files in Prometheus's format, validated as
//!   `promtool check rules` does ([`load_rule_files`], [`check_rules`]).
//! - [`RuleGroup`] evaluates its rules at a timestamp over a
//!   [`RuleContext`] (querier, appender, engine): recording rules write
//!   their results back, alerting rules keep Prometheus's state machine
//!   ([`AlertingRule`], [`Alert`]) and write `ALERTS` / `ALERTS_FOR_STATE`.
//! - [`RuleManager`] loads `rule_files:`, runs the groups on their
//!   intervals, hands due alerts ([`OutgoingAlert`]) to a callback and
//!   serves `/api/v1/rules` and `/api/v1/alerts` snapshots.
//!   Groups carry their [`QueryLang`]; `logs.rule_files` load as LogQL
//!   ([`RuleManager::load_log_rules`]) beside `rule_files:`.
//! - [`ruler`]: Loki's ruler view of the log groups (by namespace).
//! - [`template`]: Go text/template expansion with Prometheus's data and functions.
//! - [`unittest`]: `promtool test rules` files ([`run_test_files`]).
//!
//! Times are milliseconds since the epoch throughout.

mod alerting;
mod error;
pub mod file;
pub mod gofmt;
mod group;
mod manager;
pub mod ruler;
mod telemetry;
pub mod template;
pub mod unittest;

pub use alerting::{Alert, AlertState, AlertingRule, OutgoingAlert, RESOLVED_RETENTION_MS};
pub use error::{Error, Result};
pub use file::{
    check_rules, load_rule_files, load_rule_files_as, CheckReport, GroupSpec, QueryLang, RuleFile,
    RuleKind, RuleSpec,
};
pub use group::{Health, Rule, RuleBody, RuleContext, RuleGroup};
pub use manager::{
    group_snapshot, AlertJson, AlertsData, GroupJson, ManagerOptions, NotifyFn, RuleJson,
    RuleManager, RulesData,
};
pub use unittest::{run_test_files, TestReport};

#[cfg(test)]
mod group_tests;
#[cfg(test)]
mod log_rule_tests;
