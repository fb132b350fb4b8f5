//! `alertmanager.yml`: global settings, the route tree, inhibit rules, time
//! intervals, receivers and template paths, read as Alertmanager 0.25 reads them.

pub mod receiver;

pub use receiver::{GlobalConfig, Receiver};
