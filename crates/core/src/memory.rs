//! The process's memory limit, and what subsystems do as it comes near.
//!
//! A server in a container with a 512 MB limit is killed by the kernel the
//! moment it passes it: no flush, no error to the client, a WAL replay on
//! restart. Sightline watches its own memory instead and backs off first,
//! in two steps:
//!
//! - at [`SOFT_FRACTION`] of the limit (**pressure**), every subsystem's
//!   registered relief runs: the log and trace stores cut their heads into
//!   blocks, the allocator returns free pages to the kernel;
//! - at [`HARD_FRACTION`] (**critical**), ingestion is refused
//!   ([`MemoryGovernor::admit`]): pushes get a retryable error (HTTP 503,
//!   gRPC UNAVAILABLE), so senders keep their data and send it again, and
//!   scrapes may not create new series. Ingestion resumes below
//!   [`RESUME_FRACTION`], so the level does not flap around the threshold.
//!
//! "Memory" is the process's anonymous resident memory (`RssAnon`): the
//! stores' files are memory-mapped, and those pages are the kernel's to drop
//! (they count against a cgroup only until it reclaims them), while
//! anonymous pages are what the OOM killer weighs.
//!
//! The limit is `--memory.limit`, or else the cgroup's (v2 `memory.max`, v1
//! `memory.limit_in_bytes`), so a container limit works with no flag.

use crate::telemetry::{MetricKind, Report, Telemetry};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Fraction of the limit at which relief starts.
pub const SOFT_FRACTION: f64 = 0.80;
/// Fraction of the limit at which ingestion is refused.
pub const HARD_FRACTION: f64 = 0.95;
/// Fraction of the limit under which refused ingestion resumes.
pub const RESUME_FRACTION: f64 = 0.90;
/// Least time between two runs of the relief (a flush costs I/O; running
/// it on every sample of a process that stays above the soft mark would
/// cut tiny blocks).
pub const RELIEF_INTERVAL: Duration = Duration::from_secs(10);

/// How close the process is to its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pressure {
    /// Below the soft mark, or no limit.
    Normal = 0,
    /// Above the soft mark: relief runs.
    High = 1,
    /// Above the hard mark: ingestion is refused.
    Critical = 2,
}

/// Why ingestion was refused; its text is what clients read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryRefusal {
    /// Anonymous resident bytes when last measured.
    pub used: u64,
    /// The limit in force.
    pub limit: u64,
}

impl std::fmt::Display for MemoryRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "memory limit reached: {} MiB in use of a {} MiB limit (--memory.limit); \
             ingestion resumes below {:.0}%, retry later",
            self.used >> 20,
            self.limit >> 20,
            RESUME_FRACTION * 100.0
        )
    }
}

/// What one [`MemoryGovernor::observe`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// The level before.
    pub from: Pressure,
    /// The level now.
    pub to: Pressure,
    /// Whether the reliefs ran.
    pub relieved: bool,
}

type Relief = Arc<dyn Fn() + Send + Sync>;

/// The memory limit and the process's place under it, shared by every
/// subsystem (through `StartContext`).
pub struct MemoryGovernor {
    limit: AtomicU64,
    used: AtomicU64,
    level: AtomicU8,
    reliefs: Mutex<Vec<(&'static str, Relief)>>,
    last_relief: Mutex<Option<Instant>>,
    relief_runs: AtomicU64,
    refusals: AtomicU64,
}

impl std::fmt::Debug for MemoryGovernor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryGovernor")
            .field("limit", &self.limit())
            .field("used", &self.used())
            .field("pressure", &self.pressure())
            .finish()
    }
}

impl MemoryGovernor {
    /// A governor with `limit` bytes (0: no limit, never refuses).
    pub fn new(limit: u64) -> Arc<Self> {
        Arc::new(MemoryGovernor {
            limit: AtomicU64::new(limit),
            used: AtomicU64::new(0),
            level: AtomicU8::new(Pressure::Normal as u8),
            reliefs: Mutex::new(Vec::new()),
            last_relief: Mutex::new(None),
            relief_runs: AtomicU64::new(0),
            refusals: AtomicU64::new(0),
        })
    }

    /// No limit: for tests and tools that start subsystems.
    pub fn unlimited() -> Arc<Self> {
        Self::new(0)
    }

    /// The limit in bytes (0: none).
    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Anonymous resident bytes at the last [`MemoryGovernor::observe`].
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// The level at the last observation.
    pub fn pressure(&self) -> Pressure {
        match self.level.load(Ordering::Relaxed) {
            2 => Pressure::Critical,
            1 => Pressure::High,
            _ => Pressure::Normal,
        }
    }

    /// Registers what subsystem `name` gives back under pressure (a flush,
    /// a cache cleared). Runs on the watcher's thread: it may block.
    pub fn on_pressure(&self, name: &'static str, relief: impl Fn() + Send + Sync + 'static) {
        self.reliefs
            .lock()
            .expect("reliefs lock")
            .push((name, Arc::new(relief)));
    }

    /// May ingestion go on? `Err` (counted) while the level is critical.
    pub fn admit(&self) -> Result<(), MemoryRefusal> {
        if self.pressure() == Pressure::Critical {
            self.refusals.fetch_add(1, Ordering::Relaxed);
            return Err(MemoryRefusal {
                used: self.used(),
                limit: self.limit(),
            });
        }
        Ok(())
    }

    /// Records a measurement and moves the level: up as soon as a mark is
    /// passed, down from critical only below the resume mark. Runs the
    /// reliefs when the level is high or critical and the last run is older
    /// than [`RELIEF_INTERVAL`]. The caller logs what changed (core has no
    /// logger).
    pub fn observe(&self, used: u64) -> Observed {
        let (from, level) = self.set_used(used);
        let mut seen = Observed {
            from,
            to: level,
            relieved: false,
        };
        if level == Pressure::Normal {
            return seen;
        }
        {
            let mut last = self.last_relief.lock().expect("relief clock lock");
            if last.is_some_and(|t| t.elapsed() < RELIEF_INTERVAL) {
                return seen;
            }
            *last = Some(Instant::now());
        }
        self.run_reliefs();
        seen.relieved = true;
        seen
    }

    /// [`MemoryGovernor::admit`] on a fresh measurement: an intake calls it
    /// with the memory read just now, so a burst of pushes between two of
    /// the watcher's ticks (or a watcher starved on a busy machine) cannot
    /// run past the limit. Moves the level, never runs the reliefs.
    pub fn admit_at(&self, used: u64) -> Result<(), MemoryRefusal> {
        if self.limit() > 0 {
            self.set_used(used);
        }
        self.admit()
    }

    /// Records `used` and moves the level; returns (before, after).
    fn set_used(&self, used: u64) -> (Pressure, Pressure) {
        self.used.store(used, Ordering::Relaxed);
        let limit = self.limit();
        let level = if limit == 0 {
            Pressure::Normal
        } else {
            let frac = used as f64 / limit as f64;
            let was = self.pressure();
            if frac >= HARD_FRACTION || (was == Pressure::Critical && frac >= RESUME_FRACTION) {
                Pressure::Critical
            } else if frac >= SOFT_FRACTION {
                Pressure::High
            } else {
                Pressure::Normal
            }
        };
        let from = self.pressure();
        self.level.store(level as u8, Ordering::Relaxed);
        (from, level)
    }

    /// Runs every registered relief now.
    pub fn run_reliefs(&self) {
        let reliefs: Vec<(&'static str, Relief)> =
            self.reliefs.lock().expect("reliefs lock").clone();
        for (_, relief) in reliefs {
            relief();
        }
        self.relief_runs.fetch_add(1, Ordering::Relaxed);
    }
}

impl Telemetry for MemoryGovernor {
    fn report(&self, out: &mut Report) {
        out.gauge(
            "sightline_memory_limit_bytes",
            "The memory limit in force (--memory.limit or the cgroup's); 0 when none.",
            self.limit() as f64,
        );
        out.gauge(
            "sightline_memory_used_bytes",
            "Anonymous resident memory at the last check, the figure compared to the limit.",
            self.used() as f64,
        );
        out.gauge(
            "sightline_memory_pressure",
            "0 normal, 1 high (relief runs), 2 critical (ingestion refused).",
            self.pressure() as u8 as f64,
        );
        out.family(
            "sightline_memory_relief_runs_total",
            "Times the subsystems were asked to give memory back.",
            MetricKind::Counter,
        )
        .point(&[], self.relief_runs.load(Ordering::Relaxed) as f64);
        out.family(
            "sightline_memory_refusals_total",
            "Ingestion requests and new series refused at the memory limit.",
            MetricKind::Counter,
        )
        .point(&[], self.refusals.load(Ordering::Relaxed) as f64);
    }
}

/// This process's anonymous resident memory in bytes (`RssAnon` of
/// `/proc/self/status`); `None` off Linux.
pub fn anon_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_kb(&status, "RssAnon:").map(|kb| kb * 1024)
}

/// The `kB` figure of line `key` (`"VmRSS:"`) of a `/proc/PID/status` text.
pub fn status_kb(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The memory limit of the cgroup this process runs in, if it has one.
pub fn cgroup_limit() -> Option<u64> {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    cgroup_limit_in(&cgroups, std::path::Path::new("/sys/fs/cgroup"))
}

/// [`cgroup_limit`] over a `/proc/self/cgroup` text and a cgroup mount.
/// A limit is the smallest set on the way from the process's group up to
/// the root (a parent's limit binds its children too); `max`, and v1's
/// "unlimited" (a huge page-rounded number), are none.
pub fn cgroup_limit_in(proc_cgroup: &str, root: &std::path::Path) -> Option<u64> {
    let mut best: Option<u64> = None;
    for line in proc_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (base, file) = if id == "0" && controllers.is_empty() {
            (root.to_path_buf(), "memory.max")
        } else if controllers.split(',').any(|c| c == "memory") {
            (root.join("memory"), "memory.limit_in_bytes")
        } else {
            continue;
        };
        let mut dir = base.join(path.trim_start_matches('/'));
        loop {
            if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
                if let Ok(v) = text.trim().parse::<u64>() {
                    // v1 writes "no limit" as the largest page-aligned i64.
                    if v < (1 << 60) {
                        best = Some(best.map_or(v, |b| b.min(v)));
                    }
                }
            }
            if dir == base || !dir.pop() || !dir.starts_with(&base) {
                break;
            }
        }
    }
    best
}

/// The limit `--memory.limit` sets: a byte size (`512MB`, `1GiB`), `0` for
/// none, or empty for the cgroup's (none outside a limited cgroup).
pub fn resolve_limit(flag: &str) -> crate::Result<u64> {
    let flag = flag.trim();
    if flag.is_empty() || flag == "auto" {
        return Ok(cgroup_limit().unwrap_or(0));
    }
    let v = crate::bytesize::parse_base2(flag)
        .map_err(|e| crate::Error::bad_data(format!("--memory.limit {flag:?}: {e}")))?;
    Ok(v.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn issue_18_levels_rise_at_the_marks_and_critical_holds_until_resume() {
        let g = MemoryGovernor::new(1000);
        g.observe(500);
        assert_eq!(g.pressure(), Pressure::Normal);
        assert!(g.admit().is_ok());
        g.observe(800);
        assert_eq!(g.pressure(), Pressure::High);
        assert!(g.admit().is_ok());
        g.observe(950);
        assert_eq!(g.pressure(), Pressure::Critical);
        let refusal = g.admit().unwrap_err();
        assert_eq!((refusal.used, refusal.limit), (950, 1000));
        assert!(refusal.to_string().contains("memory limit reached"));
        // Between resume (900) and hard (950): still refused.
        g.observe(920);
        assert_eq!(g.pressure(), Pressure::Critical);
        g.observe(899);
        assert_eq!(g.pressure(), Pressure::High);
        assert!(g.admit().is_ok());
        g.observe(10);
        assert_eq!(g.pressure(), Pressure::Normal);
        // An intake's own measurement moves the level at once.
        assert!(g.admit_at(990).is_err());
        assert_eq!(g.pressure(), Pressure::Critical);
        assert!(g.admit_at(100).is_ok());
    }

    #[test]
    fn issue_18_no_limit_never_refuses() {
        let g = MemoryGovernor::unlimited();
        g.observe(u64::MAX / 2);
        assert_eq!(g.pressure(), Pressure::Normal);
        assert!(g.admit().is_ok());
    }

    #[test]
    fn issue_18_reliefs_run_under_pressure_at_most_once_per_interval() {
        let g = MemoryGovernor::new(1000);
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        g.on_pressure("test", move || {
            r.fetch_add(1, Ordering::Relaxed);
        });
        assert!(!g.observe(100).relieved);
        let seen = g.observe(850);
        assert_eq!(
            (seen.from, seen.to, seen.relieved),
            (Pressure::Normal, Pressure::High, true)
        );
        assert!(!g.observe(960).relieved, "second run inside the interval");
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        g.run_reliefs();
        assert_eq!(runs.load(Ordering::Relaxed), 2);
        let mut out = Report::default();
        g.report(&mut out);
        assert_eq!(out.value("sightline_memory_pressure"), Some(2.0));
    }

    #[test]
    fn issue_18_cgroup_limits_v2_v1_and_unlimited() {
        let root = std::env::temp_dir().join(format!("sl-cgroup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        // v2: the group's own limit is "max", its parent's binds.
        std::fs::create_dir_all(root.join("kubepods/pod1")).unwrap();
        std::fs::write(root.join("kubepods/pod1/memory.max"), "max\n").unwrap();
        std::fs::write(root.join("kubepods/memory.max"), "536870912\n").unwrap();
        assert_eq!(
            cgroup_limit_in("0::/kubepods/pod1\n", &root),
            Some(536870912)
        );
        assert_eq!(cgroup_limit_in("0::/\n", &root), None);
        // v1: the memory controller's folder; the "unlimited" value is none.
        std::fs::create_dir_all(root.join("memory/docker/abc")).unwrap();
        std::fs::write(
            root.join("memory/docker/abc/memory.limit_in_bytes"),
            "268435456\n",
        )
        .unwrap();
        std::fs::write(
            root.join("memory/memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        let v1 = "12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n";
        assert_eq!(cgroup_limit_in(v1, &root), Some(268435456));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn issue_18_flag_values() {
        assert_eq!(resolve_limit("512MB").unwrap(), 512 << 20);
        assert_eq!(resolve_limit("0").unwrap(), 0);
        let e = resolve_limit("lots").unwrap_err().to_string();
        assert!(e.contains("--memory.limit"), "{e}");
    }

    #[test]
    fn issue_18_anon_rss_reads_the_status_line() {
        let s = "VmRSS:\t  2048 kB\nRssAnon:\t  1024 kB\nRssFile:\t 1024 kB\n";
        assert_eq!(status_kb(s, "RssAnon:"), Some(1024));
        if cfg!(target_os = "linux") {
            assert!(anon_rss().unwrap() > 0);
        }
    }
}
