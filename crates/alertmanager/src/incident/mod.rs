//! Incidents: a firing alert group (or a person) opens a record with the
//! trouble-ticket fields the seeds write by hand, the alert's runbook and
//! a timeline, acknowledged and resolved from the API, the UI or a signed
//! link in the notification.
//!
//! - [`store::Incidents`] keeps the records (`incidents.jsonl`, fsynced on
//!   every change) and decides what opens, reopens and resolves them; the
//!   dispatcher calls it at each flush of a group.
//! - [`model`] is the record: [`model::Incident`], its [`model::Ticket`]
//!   fields and [`model::Event`]s.
//! - [`view`] adds what other stores know when an incident is shown:
//!   notifications (the history), silences, the runbook, links.
//! - [`ticket`] exports the Markdown trouble ticket.
//! - [`token`] signs and checks acknowledge links.
//! - [`config`] is the `incidents:` section; [`metrics`] the self-telemetry
//!   (time to acknowledge and to resolve, incidents by status).

pub mod config;
pub mod metrics;
pub mod model;
pub mod store;
pub mod ticket;
pub mod token;
pub mod view;

#[cfg(test)]
mod tests;

pub use config::IncidentsConfig;
pub use model::{Event, EventKind, Incident, Status, Ticket};
pub use store::{Declaration, IncidentFilter, Incidents, Patch};
pub use view::IncidentView;
