//! One flush of an aggregation group: Alertmanager's notification pipeline.
//!
//! inhibition → active time intervals → mute time intervals → silences →
//! for every integration of the receiver, in parallel: dedup against the
//! notification log → send, retrying with backoff → log. Every send attempt
//! goes to the history.
//!
//! A flush succeeds when every integration succeeded (or had nothing to
//! send); only then does the group drop the resolved alerts it reported, so
//! a receiver that is down keeps getting them offered at every flush until
//! it takes them.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::group::AggrGroup;
use super::{Deps, Pipeline};
use crate::alert::Alert;
use crate::history::{Attempt, AttemptAlert, Outcome};
use crate::nflog::{needs_update, NflogKey};
use crate::notify::{Notifier, NotifyContext};

/// First wait between two attempts; each wait is 1.5 times the previous.
const BACKOFF_START: Duration = Duration::from_secs(1);
/// Longest wait between two attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// A flush may retry for its group_interval, but never less than this
/// (Alertmanager's `notify.MinTimeout`).
const MIN_FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one flush of `g`.
pub(crate) async fn flush(g: &AggrGroup, deps: &Arc<Deps>, pipeline: &Arc<Pipeline>) {
    let alerts = g.alerts();
    if alerts.is_empty() {
        return;
    }
    let deadline = Instant::now() + g.opts.group_interval.max(MIN_FLUSH_TIMEOUT);
    let now = deps.clock.now();
    if let Some(inc) = &deps.incidents {
        // Before silences: an incident resolves with its alerts even when
        // their resolution is muted.
        inc.observe_group(&g.key, &alerts, now);
    }
    let resolved: Vec<Alert> = alerts
        .iter()
        .filter(|a| a.resolved_at(now))
        .cloned()
        .collect();
    if notify_group(g, deps, pipeline, alerts, now, deadline).await {
        g.delete_if_not_modified(&resolved);
    }
}

/// The pipeline; true when the notification is done (sent, or nothing to send).
async fn notify_group(
    g: &AggrGroup,
    deps: &Arc<Deps>,
    pipeline: &Arc<Pipeline>,
    alerts: Vec<Alert>,
    now: DateTime<Utc>,
    deadline: Instant,
) -> bool {
    let sources = pipeline.inhibition_sources(&deps.store);
    let sources: Vec<&Alert> = sources.iter().collect();
    let alerts: Vec<Alert> = alerts
        .into_iter()
        .filter(|a| {
            let by = pipeline.inhibited_by(&sources, &a.labels, now);
            let muted = !by.is_empty();
            deps.marker.set_inhibited(a.fingerprint(), by);
            !muted
        })
        .collect();
    if alerts.is_empty() {
        return true;
    }
    if !pipeline.time_active(&g.opts.active_time_intervals, now)
        || pipeline.time_muted(&g.opts.mute_time_intervals, now)
    {
        tracing::debug!(group = %g.key, "notifications muted by time interval");
        return true;
    }
    let alerts: Vec<Alert> = alerts
        .into_iter()
        .filter(|a| {
            let ids = deps.silences.mutes(&a.labels, now);
            let muted = !ids.is_empty();
            deps.marker.set_silenced(a.fingerprint(), ids);
            !muted
        })
        .collect();
    if alerts.is_empty() {
        return true;
    }
    let alerts = match &deps.incidents {
        // Opens the group's incident and adds its links as annotations.
        Some(inc) => inc.on_notify(&g.key, &g.opts.receiver, &g.labels, alerts, now),
        None => alerts,
    };
    let Some(integrations) = pipeline.receivers.get(&g.opts.receiver) else {
        // Config validation makes every route's receiver exist.
        tracing::error!(receiver = %g.opts.receiver, "receiver of route not found");
        return false;
    };
    let alerts = Arc::new(alerts);
    let ctx = Arc::new(NotifyContext {
        receiver: g.opts.receiver.clone(),
        group_key: g.key.clone(),
        group_labels: g.labels.clone(),
        repeat_interval: g.opts.repeat_interval,
        external_url: deps.external_url.clone(),
    });
    let mut set = JoinSet::new();
    for integ in integrations {
        set.spawn(notify_integration(
            Arc::clone(integ),
            Arc::clone(&ctx),
            Arc::clone(&alerts),
            Arc::clone(deps),
            now,
            deadline,
        ));
    }
    let mut ok = true;
    while let Some(res) = set.join_next().await {
        ok &= res.unwrap_or(false);
    }
    ok
}

/// Dedup, send with retries, log; true when done.
async fn notify_integration(
    integ: Arc<dyn Notifier>,
    ctx: Arc<NotifyContext>,
    alerts: Arc<Vec<Alert>>,
    deps: Arc<Deps>,
    now: DateTime<Utc>,
    deadline: Instant,
) -> bool {
    let mut firing = HashSet::new();
    let mut resolved = HashSet::new();
    for a in alerts.iter() {
        if a.resolved_at(now) {
            resolved.insert(a.fingerprint());
        } else {
            firing.insert(a.fingerprint());
        }
    }
    let key = NflogKey {
        group_key: ctx.group_key.clone(),
        receiver: ctx.receiver.clone(),
        integration: integ.kind().to_string(),
        index: integ.index(),
    };
    let entry = deps.nflog.get(&key);
    if !needs_update(
        entry.as_ref(),
        &firing,
        &resolved,
        integ.send_resolved(),
        ctx.repeat_interval,
        now,
    ) {
        return true;
    }
    let to_send: Vec<Alert> = if integ.send_resolved() {
        alerts.to_vec()
    } else {
        alerts
            .iter()
            .filter(|a| !a.resolved_at(now))
            .cloned()
            .collect()
    };
    // Without send_resolved and with only resolved alerts there is nothing
    // to send, but the log must still learn that nothing fires any more.
    if !to_send.is_empty() && !send_with_retry(&*integ, &ctx, &to_send, &deps, now, deadline).await
    {
        return false;
    }
    if let Err(e) = deps.nflog.log(&key, &firing, &resolved, deps.clock.now()) {
        // The notification went out; failing the flush would send it again.
        tracing::error!(group = %ctx.group_key, "notification log: {e}");
    }
    true
}

async fn send_with_retry(
    integ: &dyn Notifier,
    ctx: &NotifyContext,
    alerts: &[Alert],
    deps: &Deps,
    now: DateTime<Utc>,
    deadline: Instant,
) -> bool {
    let sent: Vec<AttemptAlert> = alerts
        .iter()
        .map(|a| AttemptAlert {
            fingerprint: format!("{:016x}", a.fingerprint()),
            labels: a.labels.clone(),
            status: if a.resolved_at(now) {
                "resolved"
            } else {
                "firing"
            }
            .into(),
        })
        .collect();
    deps.counters.add(integ.kind(), |c| c.notifications += 1);
    let mut backoff = BACKOFF_START;
    for attempt in 1u32.. {
        let started = Instant::now();
        let time = deps.clock.now();
        let res = tokio::time::timeout_at(deadline, integ.notify(ctx, alerts)).await;
        let took = started.elapsed();
        let (outcome, error) = match res {
            Ok(Ok(())) => (Outcome::Success, None),
            Ok(Err(e)) if e.retryable && Instant::now() + backoff < deadline => {
                (Outcome::Retrying, Some(e.message))
            }
            Ok(Err(e)) => (Outcome::Failed, Some(e.message)),
            Err(_) => (
                Outcome::Failed,
                Some("gave up: the group's next flush is due".to_string()),
            ),
        };
        if let Some(e) = &error {
            tracing::warn!(
                receiver = %ctx.receiver,
                integration = %format!("{}[{}]", integ.kind(), integ.index()),
                group = %ctx.group_key,
                attempt,
                "notify failed: {e}"
            );
        }
        let record = Attempt {
            time,
            receiver: ctx.receiver.clone(),
            integration: integ.kind().to_string(),
            integration_index: integ.index(),
            group_key: ctx.group_key.clone(),
            alerts: sent.clone(),
            outcome,
            error,
            attempt,
            duration_seconds: took.as_secs_f64(),
        };
        if let Err(e) = deps.history.record(record) {
            tracing::error!("notification history: {e}");
        }
        deps.counters.add(integ.kind(), |c| {
            c.requests += 1;
            if outcome != Outcome::Success {
                c.requests_failed += 1;
            }
            if outcome == Outcome::Failed {
                c.notifications_failed += 1;
            }
        });
        match outcome {
            Outcome::Success => return true,
            Outcome::Failed => return false,
            Outcome::Retrying => {}
        }
        tokio::time::sleep(backoff).await;
        backoff = backoff.mul_f64(1.5).min(BACKOFF_MAX);
    }
    false
}
