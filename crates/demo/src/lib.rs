//! The sample shop behind `sightline demo`: four small services written the way
//! users write theirs, a load generator, a fault injector and a history
//! generator for backfill.
//!
//! - [`start`] runs the shop on the caller's tokio runtime under one
//!   cancellation token and returns a [`ShopHandle`]. The services are
//!   `frontend`, `checkout`, `payments` and a fake `db` ([`SERVICES`]), each an
//!   axum server on its own port with `/metrics` (the `prometheus-client`
//!   crate), `/healthz`, traces and logs sent over OTLP/HTTP with the
//!   `opentelemetry` crates (W3C trace context between services), and JSON log
//!   lines written to `<log_dir>/<service>.log`.
//! - A load generator drives the frontend at [`ShopConfig::requests_per_second`].
//! - [`Fault`]s (errors, slowness, an outage) come from the built-in 10-minute
//!   schedule ([`fault::scheduled`]) or by hand through the [`FaultController`]
//!   and the control server (`GET /faults`, `PUT /faults/{service}`,
//!   `POST /webhook` for Alertmanager, `GET /`).
//! - [`history::generate`] simulates the same traffic model over a past time
//!   range: OpenMetrics text for `sightline import openmetrics`, log lines and
//!   spans.
//!
//! `docs/demo.md` ("The sample shop") describes all of it for users.

mod control;
pub mod fault;
pub mod history;
mod load;
mod logbatch;
mod metrics;
mod model;
mod service;
mod telemetry;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use fault::{Fault, FaultController};

/// The shop's services, in the order of [`ShopConfig::service_ports`].
pub const SERVICES: [&str; 4] = ["frontend", "checkout", "payments", "db"];

/// The default port of each service, in [`SERVICES`] order (what the
/// provisioned scrape config and the history's `instance` label use).
pub const DEFAULT_SERVICE_PORTS: [u16; 4] = [9181, 9182, 9183, 9184];

/// Where and how the shop runs.
#[derive(Clone, Debug)]
pub struct ShopConfig {
    /// The address every server listens on (127.0.0.1).
    pub listen_host: IpAddr,
    /// The control server's port (9180; 0 picks a free port).
    pub control_port: u16,
    /// frontend, checkout, payments, db (9181..9184; 0 picks a free port).
    pub service_ports: [u16; 4],
    /// OTLP/HTTP base URL: spans go to `<base>/v1/traces`, logs to `<base>/v1/logs`.
    pub otlp_endpoint: String,
    /// JSON log files, one per service: `<log_dir>/<service>.log`, plus
    /// `alerts.log` for the webhook's notifications.
    pub log_dir: PathBuf,
    /// The load generator's rate at the frontend (20); 0 turns it off.
    pub requests_per_second: f64,
    /// Run the built-in fault schedule (true in the demo).
    pub fault_schedule: bool,
    /// Seeds the load generator's and the services' random choices.
    pub seed: u64,
}

impl Default for ShopConfig {
    fn default() -> Self {
        ShopConfig {
            listen_host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            control_port: 9180,
            service_ports: DEFAULT_SERVICE_PORTS,
            otlp_endpoint: "http://127.0.0.1:9090".into(),
            log_dir: PathBuf::from("."),
            requests_per_second: 20.0,
            fault_schedule: true,
            seed: 1,
        }
    }
}

/// One running service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceInfo {
    pub name: &'static str,
    pub addr: SocketAddr,
}

/// Errors of the demo crate.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("unknown service {0:?} (expected one of frontend, checkout, payments, db)")]
    UnknownService(String),
    #[error("bad fault {input:?}: {reason}")]
    BadFault { input: String, reason: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("telemetry setup: {0}")]
    Telemetry(String),
}

/// The index of a service in [`SERVICES`].
pub(crate) fn service_index(name: &str) -> Result<usize, DemoError> {
    SERVICES
        .iter()
        .position(|s| *s == name)
        .ok_or_else(|| DemoError::UnknownService(name.to_owned()))
}

/// The running shop.
pub struct ShopHandle {
    control_addr: SocketAddr,
    services: Vec<ServiceInfo>,
    faults: FaultController,
    tasks: JoinSet<()>,
    telemetry: Vec<telemetry::Telemetry>,
}

impl ShopHandle {
    /// The control server's address.
    pub fn control_addr(&self) -> SocketAddr {
        self.control_addr
    }

    /// The services and their addresses, in [`SERVICES`] order.
    pub fn services(&self) -> Vec<ServiceInfo> {
        self.services.clone()
    }

    /// The fault controller (shared with the running services).
    pub fn faults(&self) -> FaultController {
        self.faults.clone()
    }

    /// Waits for every task after the cancellation token fired, then flushes
    /// the OTLP exporters.
    pub async fn stopped(mut self) {
        while self.tasks.join_next().await.is_some() {}
        let telemetry = std::mem::take(&mut self.telemetry);
        // The SDK's shutdown blocks on its export task (which runs on this
        // runtime), so it must not block a runtime thread.
        let _ = tokio::task::spawn_blocking(move || {
            for t in telemetry {
                t.shutdown();
            }
        })
        .await;
    }
}

/// Starts the shop: binds every port (so a port in use fails here), then
/// spawns the servers, the load generator and the exporters on the current
/// tokio runtime. Everything stops when `cancel` fires.
pub async fn start(cfg: ShopConfig, cancel: CancellationToken) -> Result<ShopHandle, DemoError> {
    // Built beside crates that turn on reqwest's rustls, the shop's HTTP
    // clients need a crypto provider in the process.
    sightline_config::tls::install_default_provider();
    let faults = FaultController::new(cfg.fault_schedule);
    std::fs::create_dir_all(&cfg.log_dir).map_err(|source| DemoError::Io {
        path: cfg.log_dir.clone(),
        source,
    })?;
    let mut listeners = Vec::with_capacity(4);
    for port in cfg.service_ports {
        listeners.push(bind(SocketAddr::new(cfg.listen_host, port)).await?);
    }
    let control = bind(SocketAddr::new(cfg.listen_host, cfg.control_port)).await?;
    let addrs: Vec<SocketAddr> = listeners
        .iter()
        .map(|l| l.local_addr().expect("bound listener has an address"))
        .collect();
    let services: Vec<ServiceInfo> = SERVICES
        .iter()
        .zip(&addrs)
        .map(|(name, addr)| ServiceInfo { name, addr: *addr })
        .collect();
    let control_addr = control.local_addr().expect("bound listener has an address");

    let mut tasks = JoinSet::new();
    let mut telemetry = Vec::with_capacity(4);
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| DemoError::Telemetry(e.to_string()))?;
    let downstream: [SocketAddr; 4] = [addrs[0], addrs[1], addrs[2], addrs[3]];
    for (i, listener) in listeners.into_iter().enumerate() {
        let t = telemetry::Telemetry::new(
            SERVICES[i],
            &cfg.otlp_endpoint,
            &cfg.log_dir,
            client.clone(),
        )?;
        let router = service::router(service::Service::new(
            i,
            t.clone(),
            faults.clone(),
            client.clone(),
            downstream,
            cfg.seed.wrapping_add(i as u64),
        ));
        telemetry.push(t);
        tasks.spawn(serve(listener, router, cancel.clone()));
    }
    let control_router = control::router(control::Control::new(
        faults.clone(),
        services.clone(),
        cfg.log_dir.join("alerts.log"),
    ));
    tasks.spawn(serve(control, control_router, cancel.clone()));
    if cfg.requests_per_second > 0.0 {
        tasks.spawn(load::run(
            client,
            addrs[0],
            cfg.requests_per_second,
            cfg.seed,
            cancel.clone(),
        ));
    }
    Ok(ShopHandle {
        control_addr,
        services,
        faults,
        tasks,
        telemetry,
    })
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, DemoError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| DemoError::Bind { addr, source })
}

async fn serve(listener: tokio::net::TcpListener, router: axum::Router, cancel: CancellationToken) {
    let _ = axum::serve(listener, router)
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await;
}

#[cfg(test)]
mod tests;
