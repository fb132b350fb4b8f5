//! Product analytics over the event store, reading only through
//! [`EventScan`](crate::model::EventScan) batches:
//!
//! - [`trends()`]: counts and unique people by event over time, with an
//!   optional breakdown by one property;
//! - [`active_users`]: DAU, WAU, MAU (rolling 7 and 30 day windows ending
//!   each day) and stickiness;
//! - [`funnel()`]: ordered steps within a conversion window;
//! - [`retention()`]: cohorts by first occurrence of an event, returning by
//!   period;
//! - [`abtest()`]: conversion per variant with Wilson intervals and a
//!   two-proportion z-test against the control.
//!
//! Every question is a plain struct (deserializable, so the API takes it
//! as JSON) with times in milliseconds since the epoch, and every answer
//! a serializable struct. [`testing::VecScan`] scans a vector of events
//! the way the store scans its blocks, for tests here and in the API.

mod abtest;
mod active;
pub mod filter;
mod funnel;
mod people;
mod retention;
mod stats;
pub mod testing;
pub mod time;
mod trends;

pub use abtest::{abtest, AbTest, AbTestQuery, VariantResult};
pub use active::{active_users, ActiveDay, ActiveUsers, ActiveUsersQuery};
pub use funnel::{funnel, Funnel, FunnelBreakdown, FunnelQuery, FunnelStep, FunnelStepResult};
pub use people::{PersonHash, PersonMap, PersonSet};
pub use retention::{retention, Cohort, Retention, RetentionQuery};
pub use stats::{normal_cdf, two_proportion_p_value, wilson_interval};
pub use time::Step;
pub use trends::{trends, TrendSeries, Trends, TrendsQuery};

use crate::model::{EventBatch, EventScan, ScanRequest};
use crate::{Error, Result};
use std::ops::ControlFlow;

/// The longest range a question may cover: ten years.
const MAX_RANGE_MS: i64 = 3653 * time::DAY_MS;

/// Checks `[start_ms, end_ms)` is a range worth scanning.
fn check_range(start_ms: i64, end_ms: i64) -> Result<()> {
    if end_ms <= start_ms {
        return Err(Error::BadInput {
            field: "end".into(),
            reason: format!("end ({end_ms} ms) must be after start ({start_ms} ms)"),
        });
    }
    if end_ms - start_ms > MAX_RANGE_MS {
        return Err(Error::BadInput {
            field: "start".into(),
            reason: "the range is longer than ten years".into(),
        });
    }
    Ok(())
}

/// Scans every batch of `req` into `f`.
fn scan_all(scan: &dyn EventScan, req: &ScanRequest, mut f: impl FnMut(&EventBatch)) -> Result<()> {
    scan.scan(req, &mut |b| {
        f(b);
        ControlFlow::Continue(())
    })
}

/// An error naming `field`.
fn bad(field: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::BadInput {
        field: field.into(),
        reason: reason.into(),
    }
}
