//! The tailer without its clock: targets from `scrape_configs` (relabeled
//! static labels with `__path__` globs), the open files, and one poll of
//! them through each file's pipeline. [`super::run`] drives it.

use super::config::ScrapeConfig;
use super::file::{FileTail, PathState};
use super::positions::Positions;
use super::stages::{Entry, Pipeline, StageConfig, TailMetrics};
use crate::discovery::kubernetes::{self, KubernetesState};
use crate::relabel::process;
use sightline_core::LabelsBuilder;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Most bytes read from one file in one poll.
pub const MAX_READ: usize = 1 << 20;

/// One static target: its labels after relabeling (without `__` labels),
/// its glob and exclusion.
#[derive(Debug, Clone)]
pub struct Target {
    pub labels: BTreeMap<String, String>,
    pub glob: String,
    pub exclude: Option<glob::Pattern>,
}

struct Job {
    name: String,
    stages: Vec<StageConfig>,
    /// The static targets, then (after each sync) the discovered ones.
    targets: Vec<Target>,
    static_targets: Vec<Target>,
    relabel: Vec<crate::relabel::RelabelConfig>,
    /// One per `kubernetes_sd_configs` entry.
    discovered: Vec<watch::Receiver<KubernetesState>>,
}

struct Tailed {
    file: FileTail,
    labels: BTreeMap<String, String>,
    pipeline: Pipeline,
    /// The path no longer matches: read to the end, then close.
    gone: bool,
    /// The time given to the last line read: each line gets a later one,
    /// so two equal lines read together are not taken for a duplicate
    /// (stores drop lines equal in stream, time and text).
    last_ts: i64,
}

/// What one poll produced: lines for the receiver, and the offsets that
/// become the files' positions once those lines (and every earlier one)
/// are acknowledged (`None`: forget the file).
#[derive(Default)]
pub struct Polled {
    pub entries: Vec<Entry>,
    pub marks: Vec<(PathBuf, Option<u64>)>,
    /// Some file has more to read right away.
    pub more: bool,
}

/// Every file of every job.
pub struct Tailer {
    jobs: Vec<Job>,
    /// Stops the jobs' discovery when the tailer is dropped.
    discovery: CancellationToken,
    files: BTreeMap<PathBuf, Tailed>,
    pub positions: Positions,
    metrics: Arc<TailMetrics>,
}

/// The targets of a scrape config: each static config's labels run
/// through `relabel_configs`; a target without `__path__` is skipped.
pub fn targets(sc: &ScrapeConfig) -> Result<Vec<Target>, String> {
    let mut out = Vec::new();
    for (i, st) in sc.static_configs.iter().enumerate() {
        let mut lb = LabelsBuilder::new();
        for (k, v) in &st.labels {
            lb.set(k.as_str(), v.as_str());
        }
        if let Some(t) = st.targets.first() {
            lb.set("__address__", t.as_str());
        }
        match relabel_target(&sc.relabel_configs, lb)? {
            Relabeled::Target(t) => out.push(t),
            Relabeled::Dropped => {}
            Relabeled::NoPath => {
                tracing::warn!(job = %sc.job_name, "static_configs[{i}] has no __path__ label: skipped")
            }
        }
    }
    Ok(out)
}

enum Relabeled {
    Target(Target),
    Dropped,
    NoPath,
}

/// The host name Promtail compares `__host__` with: a discovered target
/// whose `__host__` names another node is not tailed here (each node's
/// agent tails its own pods' files).
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// One label set through `relabel_configs` into a target.
fn relabel_target(
    rules: &[crate::relabel::RelabelConfig],
    mut lb: LabelsBuilder,
) -> Result<Relabeled, String> {
    if !process(rules, &mut lb) {
        return Ok(Relabeled::Dropped);
    }
    let Some(glob) = lb.get("__path__").map(str::to_owned) else {
        return Ok(Relabeled::NoPath);
    };
    let exclude = match lb.get("__path_exclude__") {
        Some(p) if !p.is_empty() => {
            Some(glob::Pattern::new(p).map_err(|e| format!("__path_exclude__ {p:?}: {e}"))?)
        }
        _ => None,
    };
    glob::Pattern::new(&glob).map_err(|e| format!("__path__ {glob:?}: {e}"))?;
    lb.retain(|l| !l.name.starts_with("__"));
    let labels = lb
        .iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect();
    Ok(Relabeled::Target(Target {
        labels,
        glob,
        exclude,
    }))
}

/// The targets of a job's discovered groups (group labels under each
/// target's own), relabeled; bad globs are logged and skipped.
fn discovered_targets(job: &Job, host: &str) -> Vec<Target> {
    let mut out = Vec::new();
    for rx in &job.discovered {
        let st = rx.borrow();
        for g in &st.groups {
            for t in &g.targets {
                let mut lb = g.labels.to_builder();
                for l in t.iter() {
                    lb.set(l.name.as_str(), l.value.as_str());
                }
                if lb.get("__host__").is_some_and(|h| h != host) {
                    continue;
                }
                match relabel_target(&job.relabel, lb) {
                    Ok(Relabeled::Target(t)) => out.push(t),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(job = %job.name, source = %g.source, "discovered target skipped: {e}")
                    }
                }
            }
        }
    }
    out
}

/// The regular files `t` names now, sorted.
pub fn expand(t: &Target) -> Vec<PathBuf> {
    let Ok(paths) = glob::glob(&t.glob) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .filter(|p| t.exclude.as_ref().is_none_or(|x| !x.matches_path(p)))
        .collect();
    out.sort();
    out
}

impl Tailer {
    /// Checks every job (targets and pipelines) and starts with no file
    /// open; an error names the job.
    pub fn new(
        scrape_configs: &[ScrapeConfig],
        positions: Positions,
        metrics: Arc<TailMetrics>,
    ) -> Result<Tailer, String> {
        let mut jobs = Vec::new();
        let discovery = CancellationToken::new();
        for sc in scrape_configs {
            let at = |e: String| format!("scrape_configs job {:?}: {e}", sc.job_name);
            Pipeline::new(&sc.pipeline_stages, &sc.job_name, &metrics).map_err(at)?;
            let static_targets = targets(sc).map_err(at)?;
            let mut discovered = Vec::new();
            // Discovery runs as tasks of the caller's runtime. Without one
            // (`sightline agent` checks the file before starting its
            // runtime) the config is only checked; an entry that cannot
            // start is logged and finds nothing, as in Prometheus, rather
            // than stopping the agent.
            let rt = tokio::runtime::Handle::try_current().ok();
            for (i, k) in sc.kubernetes_sd_configs.iter().enumerate() {
                let Some(rt) = &rt else { break };
                let _guard = rt.enter();
                let owner = format!("job {:?} kubernetes_sd_configs[{i}]", sc.job_name);
                match kubernetes::start(
                    k,
                    &kubernetes::InCluster::from_env(),
                    &owner,
                    discovery.clone(),
                    std::sync::Arc::new(tokio::sync::Notify::new()),
                ) {
                    Ok(rx) => discovered.push(rx),
                    Err(e) => tracing::error!("kubernetes discovery cannot start: {e}"),
                }
            }
            jobs.push(Job {
                name: sc.job_name.clone(),
                stages: sc.pipeline_stages.clone(),
                targets: static_targets.clone(),
                static_targets,
                relabel: sc.relabel_configs.clone(),
                discovered,
            });
        }
        Ok(Tailer {
            jobs,
            discovery,
            files: BTreeMap::new(),
            positions,
            metrics,
        })
    }

    /// The paths being tailed.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.files.keys().cloned().collect()
    }

    /// Expands every glob again: opens new files (at their saved position,
    /// or at 0: Promtail reads a file it has no position for from its
    /// start) and marks files no longer matched to be closed once read.
    pub fn sync_targets(&mut self) {
        let host = hostname();
        for job in &mut self.jobs {
            if !job.discovered.is_empty() {
                let mut ts = job.static_targets.clone();
                ts.extend(discovered_targets(job, &host));
                job.targets = ts;
            }
        }
        let mut seen: BTreeMap<PathBuf, (usize, BTreeMap<String, String>)> = BTreeMap::new();
        for (j, job) in self.jobs.iter().enumerate() {
            for t in &job.targets {
                for p in expand(t) {
                    // A file two targets match is tailed once, by the first.
                    seen.entry(p).or_insert_with(|| (j, t.labels.clone()));
                }
            }
        }
        for (path, t) in self.files.iter_mut() {
            t.gone = !seen.contains_key(path);
        }
        for (path, (j, mut labels)) in seen {
            if self.files.contains_key(&path) {
                continue;
            }
            let start = self.positions.get(&path).unwrap_or(0);
            let file = match FileTail::open(&path, start) {
                Ok(f) => f,
                Err(e) => {
                    tracing::warn!(path = %path.display(), "cannot open: {e}");
                    continue;
                }
            };
            let pipeline =
                match Pipeline::new(&self.jobs[j].stages, &self.jobs[j].name, &self.metrics) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!("{e}");
                        continue;
                    }
                };
            labels.insert("filename".into(), path.to_string_lossy().into_owned());
            tracing::info!(path = %path.display(), offset = file.offset, "tailing");
            self.files.insert(
                path,
                Tailed {
                    file,
                    labels,
                    pipeline,
                    gone: false,
                    last_ts: 0,
                },
            );
        }
        self.metrics
            .set("promtail_files_active", &[], Some(self.files.len() as f64));
    }

    /// Reads what every file gained. `flush_all` releases lines stages
    /// hold (shutdown).
    pub fn poll(&mut self, now: Instant, flush_all: bool) -> Polled {
        let mut out = Polled::default();
        let ts_ns = now_ns();
        let mut closed = Vec::new();
        for (path, t) in self.files.iter_mut() {
            let mut dropped = Vec::new();
            let state = t.file.path_state();
            if t.file.check_truncated() {
                tracing::info!(path = %path.display(), "file truncated: reading from the start");
            }
            let ended = state != PathState::Same || t.gone;
            // Read what is there (all of it when the file has ended).
            loop {
                let (lines, more) = match t.file.read_lines(MAX_READ, ended) {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(path = %path.display(), "read: {e}");
                        (Vec::new(), false)
                    }
                };
                let bytes: u64 = lines.iter().map(|l| l.end - l.start).sum();
                if !lines.is_empty() {
                    let p = path.to_string_lossy();
                    self.metrics
                        .add("promtail_read_bytes", &[("path", &p)], bytes as f64);
                    self.metrics
                        .add("promtail_read_lines", &[("path", &p)], lines.len() as f64);
                }
                for l in lines {
                    t.last_ts = ts_ns.max(t.last_ts + 1);
                    let mut e = Entry::new(l.text, t.last_ts, t.labels.clone());
                    e.start = l.start;
                    e.end = l.end;
                    t.pipeline.process(e, &mut out.entries, &mut dropped);
                }
                if !more {
                    break;
                }
                if !ended {
                    out.more = true;
                    break;
                }
            }
            if ended {
                // Nothing of the old file may stay held: its offsets mean
                // nothing for the next file at the path.
                t.pipeline.flush(now, true, &mut out.entries, &mut dropped);
            } else {
                t.pipeline
                    .flush(now, flush_all, &mut out.entries, &mut dropped);
            }
            for r in dropped {
                self.metrics
                    .add("promtail_dropped_entries", &[("reason", &r)], 1.0);
            }
            match (state, t.gone) {
                (PathState::Replaced, false) => match FileTail::open(path, 0) {
                    Ok(f) => {
                        tracing::info!(path = %path.display(), "file rotated: reading the new file");
                        t.file = f;
                        out.marks.push((path.clone(), Some(0)));
                    }
                    Err(_) => closed.push(path.clone()),
                },
                (PathState::Missing, _) | (_, true) => closed.push(path.clone()),
                _ => {
                    let resolved = t.pipeline.held_from().unwrap_or(t.file.offset);
                    out.marks.push((path.clone(), Some(resolved)));
                    self.metrics.set(
                        "promtail_file_bytes",
                        &[("path", &path.to_string_lossy())],
                        Some(t.file.size() as f64),
                    );
                }
            }
        }
        for p in closed {
            tracing::info!(path = %p.display(), "stopped tailing");
            self.files.remove(&p);
            // Forget the offset now, not at the acknowledgement: a new
            // file at the path, opened before that, starts at 0.
            self.positions.remove(&p);
            self.metrics.set(
                "promtail_file_bytes",
                &[("path", &p.to_string_lossy())],
                None,
            );
            out.marks.push((p, None));
        }
        self.metrics
            .set("promtail_files_active", &[], Some(self.files.len() as f64));
        out
    }

    /// Records acknowledged offsets.
    pub fn acknowledge(&mut self, marks: &[(PathBuf, Option<u64>)]) {
        for (p, m) in marks {
            match m {
                Some(o) => self.positions.set(p, *o),
                None => self.positions.remove(p),
            }
        }
    }

    /// The saved position of `path` (tests).
    pub fn position(&self, path: &Path) -> Option<u64> {
        self.positions.get(path)
    }
}

/// Now, in nanoseconds since the epoch.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl Drop for Tailer {
    fn drop(&mut self) {
        self.discovery.cancel();
    }
}
