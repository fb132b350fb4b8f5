//! Reading Sightline's config files, and the settings every HTTP client shares.
//!
//! The metrics, probe and alerting subsystems read YAML written for their
//! peers (Prometheus, blackbox_exporter, Alertmanager). What those files have
//! in common lives here, once:
//!
//! - [`yaml`]: deserializing YAML so that a refusal says
//!   `file:line:column: field.path: reason`.
//! - [`http`]: Prometheus common's HTTP client settings ([`HttpClientConfig`]:
//!   `basic_auth`, `authorization`, `tls_config`, proxies, ...), the
//!   [`Secret`] type that hides credentials when a config is shown, and the
//!   checks each peer makes when it loads them.
//! - [`tls`]: rustls clients built from a `tls_config` (scrape targets, probe
//!   modules, alert receivers), with the `ring` provider and the system roots.
//!
//! `sightline-core` stays free of YAML and rustls: storage and query crates
//! (tsdb, promql) do not read config files and do not make TLS connections.

mod error;
pub mod http;
pub mod tls;
pub mod yaml;

pub use error::{Error, Result};
pub use http::{Authorization, BasicAuth, HttpClientConfig, Secret, TlsConfig};
