//! Incidents in the server: the `incidents:` section of `sightline.yml`
//! turns on incident records in the built-in Alertmanager, and their API
//! joins the router next to the Alertmanager's (docs/incidents.md). The
//! records, the rules that open and close them and the API live in
//! `sightline_alertmanager::incident` and `sightline_api::incidents`.

use std::sync::Arc;

use sightline_alertmanager::incident::IncidentsConfig;
use sightline_alertmanager::manager::{Alertmanager, AlertmanagerOptions};

/// Puts the section in the Alertmanager's options. Incidents are always
/// kept (so a person can declare one); `enabled: false` only stops alert
/// groups from opening them.
pub fn enable(opts: &mut AlertmanagerOptions, section: &IncidentsConfig) {
    opts.incidents = Some(section.clone());
}

/// The incident routes over the built-in Alertmanager.
pub fn routes(am: &Arc<Alertmanager>) -> axum::Router {
    sightline_api::incidents::routes(am.clone())
}
