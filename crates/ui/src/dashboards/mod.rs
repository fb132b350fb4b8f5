//! Dashboards: Grafana's dashboard model, stored as files and served with
//! Grafana's HTTP API.
//!
//! - [`store`]: [`DashboardStore`], one JSON file per dashboard under
//!   `<data-dir>/dashboards/<folder>/<uid>.json`, written atomically, plus
//!   the provisioned dashboards held in memory;
//! - [`api`]: `/api/search`, `/api/dashboards/...`, `/api/folders` and the
//!   `/d/<uid>` links, in Grafana's shapes;
//! - [`migrate`]: older schema versions upgraded on load, save and import,
//!   so the UI only deals with the current model;
//! - [`provision`]: the `dashboards:` config section (Grafana's
//!   provisioning file shape) and reading its providers' folders;
//! - [`model`]: slugs, uids, titles and parsing errors with positions.

pub mod api;
pub mod migrate;
pub mod model;
pub mod provision;
pub mod store;

pub use api::{routes, routes_except_search, search_route};
pub use provision::{DashboardsConfig, Provider};
pub use store::DashboardStore;
