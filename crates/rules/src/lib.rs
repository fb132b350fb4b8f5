//! Prometheus recording and alerting rules for Sightline.
//!
//! - [`file`]: rule files in Prometheus's format, validated as
//!   `promtool check rules` does ([`load_rule_files`], [`check_rules`]).
//! - [`template`]: Go text/template expansion with Prometheus's data and functions.
mod error;
pub mod file;
pub mod gofmt;
pub mod template;

pub use error::{Error, Result};
pub use file::{check_rules, load_rule_files, CheckReport};
