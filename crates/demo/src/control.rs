//! The control server: faults by hand, Alertmanager's webhook, a status page.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;

use crate::{FaultController, ServiceInfo};

pub(crate) struct Control {
    faults: FaultController,
    services: Vec<ServiceInfo>,
    alerts_log: PathBuf,
}

impl Control {
    pub(crate) fn new(
        faults: FaultController,
        services: Vec<ServiceInfo>,
        alerts_log: PathBuf,
    ) -> Arc<Self> {
        Arc::new(Control {
            faults,
            services,
            alerts_log,
        })
    }
}

pub(crate) fn router(c: Arc<Control>) -> Router {
    let _ = (&c.faults, &c.services, &c.alerts_log);
    Router::new().with_state(c)
}
