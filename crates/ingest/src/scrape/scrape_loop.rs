//! One target's scrape loop: wait for its slot, scrape every interval,
//! append everything of a scrape in one transaction, report, and write
//! staleness markers when series or the target go away.

use super::append::{append_body, AppendCounts, AppendError, AppendSettings, Report, ReportSeries};
use super::cache::ScrapeCache;
use super::http::HttpClient;
use super::metadata::MetadataBuilder;
use super::metrics::ScrapeMetrics;
use super::target::{Health, LastScrape, Target};
use crate::exposition::Format;
use sightline_core::{MetricAppender, STALE_NAN};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime};
use tokio_util::sync::CancellationToken;

/// Everything a loop needs; built by its pool.
pub(crate) struct LoopParams {
    pub target: Arc<Target>,
    pub client: HttpClient,
    pub settings: AppendSettings,
    pub body_size_limit: u64,
    pub appender: Arc<dyn MetricAppender>,
    pub metrics: Arc<ScrapeMetrics>,
    /// Set by the pool when `target_limit` is exceeded: every scrape fails with it.
    pub forced_error: Arc<RwLock<Option<String>>>,
    pub offset_seed: u64,
    /// Where the loop this one replaces leaves its cache (config reload of
    /// a target whose labeling did not change), so that series it wrote
    /// still get staleness markers when they disappear.
    pub handover_in: Option<Handover>,
}

/// A cache passed from a replaced loop to its successor.
pub(crate) type Handover = Arc<std::sync::Mutex<Option<ScrapeCache>>>;

/// The pool's handle on a running loop.
pub(crate) struct LoopHandle {
    pub target: Arc<Target>,
    /// How the loop labels samples; a successor with equal settings can
    /// take over its cache.
    pub settings: AppendSettings,
    stop: CancellationToken,
    stale_on_stop: Arc<AtomicBool>,
    handover_out: Handover,
}

impl LoopHandle {
    /// Stops the loop. With `stale`, it writes staleness markers for all its
    /// series about two intervals later (unless the server shuts down
    /// first), as Prometheus does for targets that go away; without, the
    /// loop is being replaced and its successor carries on the series.
    pub fn stop(&self, stale: bool) {
        self.stale_on_stop.store(stale, Ordering::Relaxed);
        self.stop.cancel();
    }

    /// Stops the loop for a successor, which gets the returned cell where
    /// this loop leaves its cache on the way out.
    pub fn stop_for_handover(&self) -> Handover {
        self.stop(false);
        self.handover_out.clone()
    }
}

/// Starts a loop on `tracker`. `shutdown` ends it at once, without markers.
pub(crate) fn spawn_loop(
    p: LoopParams,
    shutdown: &CancellationToken,
    tracker: &tokio_util::task::TaskTracker,
) -> LoopHandle {
    let stop = shutdown.child_token();
    let stale_on_stop = Arc::new(AtomicBool::new(true));
    let handover_out: Handover = Arc::default();
    let handle = LoopHandle {
        target: p.target.clone(),
        settings: p.settings.clone(),
        stop: stop.clone(),
        stale_on_stop: stale_on_stop.clone(),
        handover_out: handover_out.clone(),
    };
    tracker.spawn(run(p, stop, shutdown.clone(), stale_on_stop, handover_out));
    handle
}

use sightline_core::time::system_time_ms as millis;

async fn run(
    p: LoopParams,
    stop: CancellationToken,
    shutdown: CancellationToken,
    stale_on_stop: Arc<AtomicBool>,
    handover_out: Handover,
) {
    let interval = p
        .target
        .interval
        .std()
        .max(std::time::Duration::from_millis(1));
    let first = p.target.offset(p.offset_seed, SystemTime::now());
    tokio::select! {
        biased;
        _ = stop.cancelled() => return,
        _ = tokio::time::sleep(first) => {}
    }
    let mut ticker = tokio::time::interval(interval);
    // A scrape that overruns its interval skips the missed slots rather
    // than scraping back to back.
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let inherited = p
        .handover_in
        .as_ref()
        .and_then(|h| h.lock().unwrap_or_else(|e| e.into_inner()).take());
    let mut state = LoopState {
        cache: inherited.unwrap_or_default(),
        report: ReportSeries::new(&p.target.labels),
        scraped: false,
        meta: MetadataBuilder::default(),
    };
    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            _ = ticker.tick() => {}
        }
        tokio::select! {
            biased;
            // Abandon a scrape in flight when stopped; nothing of it is stored.
            _ = stop.cancelled() => break,
            _ = scrape_once(&p, &mut state) => {}
        }
    }
    if shutdown.is_cancelled() {
        return;
    }
    if !stale_on_stop.load(Ordering::Relaxed) {
        *handover_out.lock().unwrap_or_else(|e| e.into_inner()) = Some(state.cache);
        return;
    }
    if !state.scraped {
        return;
    }
    // The target went away. Wait until its next scrape would have been and
    // use that as the markers' time, then one more interval and 10% so that
    // a recreated target has scraped first (its newer samples then win).
    ticker.reset();
    tokio::select! {
        _ = shutdown.cancelled() => return,
        _ = ticker.tick() => {}
    }
    let stale_ts = millis(SystemTime::now());
    tokio::select! {
        _ = shutdown.cancelled() => return,
        _ = ticker.tick() => {}
    }
    tokio::select! {
        _ = shutdown.cancelled() => return,
        _ = tokio::time::sleep(interval / 10) => {}
    }
    let mut app = p.appender.appender();
    let mut markers = 0u64;
    state.cache.mark_all_stale(|labels, r| {
        if app.append(r, labels, stale_ts, STALE_NAN).is_ok() {
            markers += 1;
        }
    });
    if state.report.append(app.as_mut(), stale_ts, None).is_ok() {
        markers += 5;
    }
    if app.commit().is_ok() {
        ScrapeMetrics::add(&p.metrics.stale_markers, markers);
    }
}

struct LoopState {
    cache: ScrapeCache,
    report: ReportSeries,
    /// True once a scrape was attempted (end-of-run markers need one).
    scraped: bool,
    meta: MetadataBuilder,
}

/// One scrape: fetch, append in one transaction (rolled back entirely on
/// any failure), report, update health and self-metrics.
async fn scrape_once(p: &LoopParams, st: &mut LoopState) {
    st.scraped = true;
    let start = SystemTime::now();
    let t0 = Instant::now();
    let ts = millis(start);
    let forced = p
        .forced_error
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let mut counts = AppendCounts::default();
    let result: Result<(), String> = match forced {
        Some(e) => Err(e),
        None => {
            match p
                .client
                .fetch(&p.target.url, p.target.timeout.std(), p.body_size_limit)
                .await
            {
                Err(e) => {
                    if e.starts_with("body size limit exceeded") {
                        ScrapeMetrics::add(&p.metrics.body_size_limit_exceeded, 1);
                    }
                    Err(e)
                }
                Ok(f) => {
                    // A protobuf body (issue 12) becomes text for its float
                    // samples plus a list of native histograms.
                    let proto = if crate::exposition::protobuf::is_protobuf(&f.content_type) {
                        Some(crate::exposition::protobuf::decode(&f.body))
                    } else {
                        None
                    };
                    let (body, natives, format) = match &proto {
                        Some(Ok(d)) => (&d.text[..], &d.histograms[..], Format::PrometheusText),
                        _ => (
                            &f.body[..],
                            &[][..],
                            Format::from_content_type(&f.content_type),
                        ),
                    };
                    let mut app = p.appender.appender();
                    let (c, res) = match &proto {
                        Some(Err(e)) => (
                            AppendCounts::default(),
                            Err(AppendError::Parse(e.to_string())),
                        ),
                        _ => append_body(
                            app.as_mut(),
                            &mut st.cache,
                            &p.settings,
                            body,
                            natives,
                            format,
                            ts,
                            &mut st.meta,
                        ),
                    };
                    counts = c;
                    // Metadata lines count even when the scrape fails
                    // later, as in Prometheus; only good scrapes age it.
                    p.target
                        .update_metadata(&st.meta, res.is_ok() && !f.body.is_empty());
                    match res {
                        Ok(()) => {
                            let report = Report {
                                up: true,
                                duration_secs: t0.elapsed().as_secs_f64(),
                                counts,
                            };
                            match st.report.append(app.as_mut(), ts, Some(&report)) {
                                Ok(()) => app.commit().map(|_| ()).map_err(|e| e.to_string()),
                                Err(e) => {
                                    app.rollback();
                                    Err(e.to_string())
                                }
                            }
                        }
                        Err(e) => {
                            app.rollback();
                            match &e {
                                AppendError::Limit(m) if m.starts_with("sample limit") => {
                                    ScrapeMetrics::add(&p.metrics.sample_limit_exceeded, 1)
                                }
                                AppendError::Limit(_) => {
                                    ScrapeMetrics::add(&p.metrics.label_limit_exceeded, 1)
                                }
                                _ => {}
                            }
                            Err(e.to_string())
                        }
                    }
                }
            }
        }
    };
    let duration = t0.elapsed().as_secs_f64();
    let m = &p.metrics;
    ScrapeMetrics::add(&m.scrapes, 1);
    ScrapeMetrics::add(&m.scrape_duration_micros, (duration * 1e6) as u64);
    ScrapeMetrics::add(&m.samples_rejected, counts.rejected);
    if let Err(e) = &result {
        ScrapeMetrics::add(&m.scrape_failures, 1);
        // Nothing of this scrape is stored. As in Prometheus, everything
        // the last good scrape wrote goes stale now, and the report (up=0)
        // is still written.
        st.cache.reset_refs();
        st.report.reset_refs();
        let mut app = p.appender.appender();
        let mut markers = 0u64;
        st.cache.finish_failure(|labels, r| {
            if app.append(r, labels, ts, STALE_NAN).is_ok() {
                markers += 1;
            }
        });
        let report = Report {
            up: false,
            duration_secs: duration,
            counts,
        };
        let ok = st.report.append(app.as_mut(), ts, Some(&report)).is_ok();
        if ok && app.commit().is_ok() {
            ScrapeMetrics::add(&m.stale_markers, markers);
        }
        tracing::debug!(url = %p.target.url, error = %e, "scrape failed");
    } else {
        ScrapeMetrics::add(
            &m.samples_appended,
            counts.added.saturating_sub(counts.rejected),
        );
    }
    p.target.set_last(LastScrape {
        health: if result.is_ok() {
            Health::Up
        } else {
            Health::Down
        },
        error: result.err().unwrap_or_default(),
        at: Some(start),
        duration_secs: duration,
    });
}
