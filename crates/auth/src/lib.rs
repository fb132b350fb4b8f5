//! Sightline's front door: who may reach the server, over what, and for what.
//!
//! - [`web_config`]: Prometheus's web configuration file (`--web.config.file`,
//!   exporter-toolkit's format read unchanged): [`WebConfig`] with
//!   `tls_server_config`, `http_server_config` and `basic_auth_users`, refused
//!   with file, field and reason as Prometheus refuses it.
//! - [`tls`]: the rustls server configuration a [`WebConfig`] describes, with
//!   the five client auth types and `client_allowed_sans`.
//! - [`tokens`]: the `auth:` section of sightline.yml: bearer tokens (stored as
//!   SHA-256 hashes or read from files) with [`Scope`]s.
//! - [`scope`]: which scope each route needs.
//! - [`gate`]: [`Gate`], the per-request check (headers, basic auth with
//!   cached bcrypt checks, bearer tokens, lifecycle and admin flags), and
//!   [`WebAuth`], which re-reads the web config file when it or its
//!   certificates change, keeping the last good one when a new one is broken.
//! - [`listen`]: the accept loop serving a router over TLS (HTTP/1.1 and
//!   HTTP/2) or plain TCP (HTTP/1.1 and h2c), with graceful shutdown.
//!
//! Prometheus has no scopes: a basic-auth user may do everything. Tokens are
//! Sightline's addition for machine clients (see docs/security.md).

pub mod gate;
pub mod listen;
pub mod scope;
pub mod tls;
pub mod tokens;
pub mod web_config;

pub use gate::{Flags, Gate, WebAuth};
pub use scope::Scope;
pub use tokens::AuthSection;
pub use web_config::WebConfig;

/// What can go wrong reading the web config file or the `auth:` section.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file or a value in it was refused; the message names file, field
    /// and reason.
    #[error("{0}")]
    Invalid(String),
}

/// This crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
