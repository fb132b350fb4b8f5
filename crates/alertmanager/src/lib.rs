//! Sightline's Alertmanager: reads `alertmanager.yml` unchanged and does what
//! Prometheus's Alertmanager 0.25 does with it.
//!
//! - [`alert::Alert`] is one alert as the router sees it (labels, annotations,
//!   start and end); [`alert::LabelSet`] and its fingerprint match Prometheus's
//!   `model.LabelSet` so group keys and webhook payloads are the same.
//! - [`config`] holds the file's structs: global, route tree, inhibit rules,
//!   time intervals, receivers, templates.
//! - [`notify`] turns a receiver's config into [`notify::Notifier`]s (webhook,
//!   email, Slack, PagerDuty, Microsoft Teams) that send one group's alerts.
//! - [`template`] renders notification text with Go's text/template and
//!   Alertmanager's data and functions.
//!
//! - [`manager::Alertmanager`] is the facade the API v2 handlers call: it takes
//!   alerts and silences, lists alerts, groups and silences in API v2 shapes,
//!   applies a new config and answers the notification history.
//! - [`dispatch`] groups alerts per route and times their notifications
//!   (group_wait, group_interval, repeat_interval), muting, deduplicating
//!   against [`nflog`] and retrying; [`store`] holds the alerts and [`marker`]
//!   their status.
//! - [`silence`], [`nflog`] and [`history`] keep their state in the data
//!   directory, as `docs/format/alertmanager-state.md` describes byte by byte.
//!
//! - [`incident`] opens incident records for firing groups, with their
//!   runbook, timeline and Markdown trouble ticket.
//!
//! Routing, grouping, inhibition, silences, the notification log and the
//! notification history sit in their own modules, listed below.

pub mod alert;
pub mod config;
pub mod dispatch;
pub mod error;
pub mod history;
pub mod incident;
pub mod inhibit;
pub mod manager;
pub mod marker;
pub mod matcher;
pub mod nflog;
pub mod notify;
pub mod route;
pub mod silence;
mod statefile;
pub mod store;
pub mod template;
pub mod timeinterval;

pub use alert::{Alert, LabelSet};
pub use error::{Error, Result};
