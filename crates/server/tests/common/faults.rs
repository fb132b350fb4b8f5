//! The fault-test harness (issue 18, part 5), shared by
//! `tests/fault_<store>.rs`: `kill -9` during heavy ingest, repeated on the
//! same data directory, checking after every restart that each write the
//! server acknowledged is still there.
//!
//! A store under test implements [`Store`]: the server's flags (small
//! block, flush and compaction thresholds so that runs die in the middle
//! of those too), one write from one client, and a check of acknowledged
//! writes through the HTTP API. [`kill9_runs`] does the rest:
//!
//! 1. start `sightline serve` on the directory (the restart, after the
//!    first run) and check every write acknowledged so far;
//! 2. drive [`CLIENTS`] threads of writes, recording each answered 2xx;
//! 3. `kill -9` after a random 0.3-1.3 s (seeded: `FAULT_SEED` replays a
//!    run; the seed is printed), then go to 1.
//!
//! Each start checks the writes of the run before it; the last one checks
//! every write of every run again (or, for stores checked one request per
//! write, the last run's and a seeded sample of the rest:
//! [`Store::final_sample`]), since a later crash must not lose older writes.
//!
//! `FAULT_RUNS` overrides the number of runs (bench/crash_runs.sh). The
//! result line `store: X/N runs with nothing lost` is printed either way;
//! the test fails when X < N.
#![allow(dead_code)]

use crate::common::Server;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Writer threads per run.
pub const CLIENTS: usize = 3;

/// What became of one write.
pub enum Ack<R> {
    /// Answered 2xx: `R` must be found after any later crash.
    Yes(R),
    /// Answered, but not 2xx (a limit, a sample out of bounds): nothing to
    /// check, and the client goes on.
    Refused(String),
    /// No answer: the server is gone.
    Gone,
}

/// One store's side of the test.
pub trait Store: Sync {
    /// What a check needs to find an acknowledged write again.
    type Rec: Clone + Send + std::fmt::Debug;
    /// The name printed in the result line.
    fn name(&self) -> &'static str;
    /// Extra `sightline serve` flags; files they name go under `dir`.
    fn args(&self, dir: &Path) -> Vec<String>;
    /// Called once per server start, before the writers (a store may need
    /// to re-send state that is not persisted, as alerts).
    fn started(&self, _url: &str) {}
    /// One write by `client`; `state` is the client's own counter, kept
    /// across runs, which the write advances before sending (so a write in
    /// flight at the kill is never re-sent with other content).
    fn write(
        &self,
        http: &reqwest::blocking::Client,
        url: &str,
        client: usize,
        state: &mut u64,
    ) -> Ack<Self::Rec>;
    /// Checks that every record of `acked` is in the server at `url`;
    /// `Err` lists what is missing or wrong.
    fn verify(&self, url: &str, acked: &[Self::Rec]) -> Result<(), String>;
    /// Called after the kill with the run's kill time (nflog: which
    /// notifications count as acknowledged).
    fn killed(&self, _at: Instant) {}
    /// The last start checks the last run's writes and this many of the
    /// earlier ones, picked at random (None: all of them). For stores
    /// checked one request per write, where checking all costs minutes.
    fn final_sample(&self) -> Option<usize> {
        None
    }
}

/// A small seeded generator (splitmix64): enough to pick kill times, and
/// no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// The seed: `FAULT_SEED`, else the clock.
pub fn seed() -> u64 {
    std::env::var("FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

/// Runs: `FAULT_RUNS`, else `default`.
pub fn runs(default: usize) -> usize {
    std::env::var("FAULT_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// What [`kill9_runs`] saw.
#[derive(Debug)]
pub struct Outcome {
    pub runs: usize,
    /// Runs after whose crash every acknowledged write was found.
    pub clean: usize,
    pub acked: usize,
    pub refused: usize,
    /// The first failures, for the panic message.
    pub failures: Vec<String>,
}

/// `runs` kill -9 runs of `store` on one data directory, then a last start
/// that checks everything acknowledged over all runs. Panics (after the
/// result line) when anything acknowledged was lost.
pub fn kill9_runs<S: Store>(store: &S, runs: usize) -> Outcome {
    let seed = seed();
    eprintln!(
        "{}: seed {seed} (FAULT_SEED={seed} replays it), {runs} runs",
        store.name()
    );
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = store.args(dir.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut states = [0u64; CLIENTS];
    let mut all: Vec<S::Rec> = Vec::new();
    let mut unchecked: Vec<S::Rec> = Vec::new();
    let mut out = Outcome {
        runs,
        clean: 0,
        acked: 0,
        refused: 0,
        failures: Vec::new(),
    };
    let started = Instant::now();
    for run in 0..=runs {
        let server = Server::start(&data, &args);
        let url = server.url();
        if run > 0 {
            // What the previous run acknowledged, and on the last start
            // everything: a later crash must not lose older writes either.
            let check = match store.final_sample() {
                _ if run < runs => unchecked.clone(),
                None => all.clone(),
                Some(n) => {
                    let mut pick = unchecked.clone();
                    let older = all.len() - unchecked.len();
                    for _ in 0..n.min(older) {
                        pick.push(all[rng.range(0, older as u64) as usize].clone());
                    }
                    pick
                }
            };
            match store.verify(&url, &check) {
                Ok(()) => out.clean += 1,
                Err(e) => {
                    eprintln!("{}: run {run}: LOST: {e}", store.name());
                    if out.failures.len() < 3 {
                        out.failures.push(format!("run {run}: {e}"));
                    }
                }
            }
            unchecked.clear();
        }
        if run == runs {
            server.stop();
            break;
        }
        store.started(&url);
        let stop = Arc::new(AtomicBool::new(false));
        let acked: Mutex<Vec<S::Rec>> = Mutex::new(Vec::new());
        let refused = Mutex::new((0usize, None::<String>));
        let kill_after = Duration::from_millis(rng.range(300, 1300));
        let mut killed_at = Instant::now();
        std::thread::scope(|s| {
            for (c, state) in states.iter_mut().enumerate() {
                let (stop, acked, refused, url) = (&stop, &acked, &refused, &url);
                s.spawn(move || {
                    let http = crate::common::http();
                    while !stop.load(Ordering::Relaxed) {
                        match store.write(&http, url, c, state) {
                            Ack::Yes(r) => acked.lock().unwrap().push(r),
                            Ack::Refused(why) => {
                                let mut r = refused.lock().unwrap();
                                r.0 += 1;
                                r.1.get_or_insert(why);
                            }
                            Ack::Gone => break,
                        }
                    }
                });
            }
            std::thread::sleep(kill_after);
            killed_at = Instant::now();
            server.kill9();
            stop.store(true, Ordering::Relaxed);
        });
        store.killed(killed_at);
        let acked = acked.into_inner().unwrap();
        let (n_refused, why) = refused.into_inner().unwrap();
        eprintln!(
            "{}: run {run}: killed after {kill_after:?}, {} writes acknowledged, {n_refused} refused{}",
            store.name(),
            acked.len(),
            why.map(|w| format!(" (first: {w})")).unwrap_or_default()
        );
        out.acked += acked.len();
        out.refused += n_refused;
        all.extend(acked.iter().cloned());
        unchecked.extend(acked);
    }
    // Evidence that runs died among blocks, not only in a fresh head.
    let blocks = |d: &Path| {
        std::fs::read_dir(d).map_or(0, |rd| {
            rd.flatten()
                .filter(|e| e.file_name().len() == 26 && e.path().is_dir())
                .count()
        })
    };
    eprintln!(
        "{}: blocks at the end: metrics {}, logs {}, traces {}",
        store.name(),
        blocks(&data),
        blocks(&data.join("logs")),
        blocks(&data.join("traces"))
    );
    eprintln!(
        "{}: {}/{} runs with nothing lost ({} writes acknowledged, {} refused, {:.1}s)",
        store.name(),
        out.clean,
        out.runs,
        out.acked,
        out.refused,
        started.elapsed().as_secs_f64()
    );
    assert!(
        out.acked > runs,
        "{}: too few writes acknowledged ({}) to test anything",
        store.name(),
        out.acked
    );
    assert!(
        out.failures.is_empty(),
        "{}: acknowledged writes lost after kill -9 (seed {seed}): {:#?}",
        store.name(),
        out.failures
    );
    out
}

/// Nanoseconds since the epoch.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// POSTs `body` with `content_type` and classifies the answer.
pub fn post<R>(
    http: &reqwest::blocking::Client,
    url: &str,
    content_type: &str,
    body: Vec<u8>,
    rec: impl FnOnce() -> R,
) -> Ack<R> {
    match http
        .post(url)
        .header("Content-Type", content_type)
        .body(body)
        .send()
    {
        Ok(r) if r.status().is_success() => Ack::Yes(rec()),
        Ok(r) => {
            let st = r.status();
            Ack::Refused(format!("{st}: {}", r.text().unwrap_or_default()))
        }
        Err(_) => Ack::Gone,
    }
}

/// Percent-encodes a query parameter.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Summarises a list of problems: the count and the first few.
pub fn problems(what: &str, v: &[String]) -> Result<(), String> {
    if v.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} {what}, first: {}",
        v.len(),
        v.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
    ))
}

/// A size-limited tmpfs mounted on a directory, unmounted on drop.
pub struct Tmpfs {
    pub dir: std::path::PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `mb` MiB on `dir` (created). `None` when mount is
    /// refused (not root, no CAP_SYS_ADMIN): a recorded skip, or a failure
    /// under `CI=true`, where the tests run as root.
    pub fn mount(dir: &Path, mb: u64) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}M"), "tmpfs"])
            .arg(dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs {
                dir: dir.to_owned(),
            }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "cannot mount a tmpfs for the full-disk test under CI=true: {why}"
                );
                eprintln!("SKIP: cannot mount a tmpfs ({why}); the full-disk test needs root");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .status();
    }
}

/// Fills the file system of `dir` with `dir/filler` until a write fails,
/// then gives back `free` bytes. Returns the filler's path.
pub fn fill(dir: &Path, free: u64) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0x5au8; 64 << 10];
    let mut len = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n as u64,
        }
    }
    f.set_len(len.saturating_sub(free)).unwrap();
    f.sync_all().unwrap();
    path
}

/// The full-disk test of one store: its data directory on a 24 MiB tmpfs,
/// filled but for `free` bytes; writes go on until they are refused, and
/// must then be refused with a 5xx naming the full disk, with no panic,
/// reads still answering and nothing acknowledged lost. Then the filler
/// goes, writes must succeed again without a restart, and after a
/// `kill -9` and restart everything acknowledged is still there.
pub fn full_disk<S: Store>(store: &S, free: u64) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let Some(_fs) = Tmpfs::mount(&data, 24) else {
        return;
    };
    let args = store.args(dir.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&data, &args);
    let url = server.url();
    store.started(&url);
    let http = crate::common::http();
    let mut state = 0u64;
    let mut acked = Vec::new();
    // Acknowledged before the disk fills.
    for _ in 0..20 {
        if let Ack::Yes(r) = store.write(&http, &url, 0, &mut state) {
            acked.push(r);
        }
    }
    assert!(
        !acked.is_empty(),
        "{}: no write before the disk filled",
        store.name()
    );
    let filler = fill(&data, free);
    let deadline = Instant::now() + Duration::from_secs(30);
    let refusal = loop {
        assert!(
            Instant::now() < deadline,
            "{}: writes still acknowledged 30 s after the disk filled ({} acknowledged)",
            store.name(),
            acked.len()
        );
        match store.write(&http, &url, 0, &mut state) {
            Ack::Yes(r) => acked.push(r),
            Ack::Refused(why) => break why,
            Ack::Gone => panic!(
                "{}: the server died on a full disk; log:\n{}",
                store.name(),
                server.log()
            ),
        }
    };
    eprintln!("{}: full disk refused with: {refusal}", store.name());
    assert!(
        refusal.starts_with('5')
            && refusal
                .to_ascii_lowercase()
                .contains("no space left on device"),
        "{}: a full disk must be refused with a 5xx naming it, got: {refusal}",
        store.name()
    );
    // Further writes are refused too, and nothing panics.
    for _ in 0..20 {
        match store.write(&http, &url, 0, &mut state) {
            Ack::Yes(r) => acked.push(r),
            Ack::Refused(_) => {}
            Ack::Gone => panic!("{}: the server died; log:\n{}", store.name(), server.log()),
        }
    }
    // Reads go on.
    if let Err(e) = store.verify(&url, &acked) {
        panic!(
            "{}: on a full disk: {e}; log:\n{}",
            store.name(),
            server.log()
        );
    }
    // Space comes back: writes succeed again, without a restart.
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut again = 0;
    while again < 20 {
        assert!(
            Instant::now() < deadline,
            "{}: writes still refused 30 s after space came back; log:\n{}",
            store.name(),
            server.log()
        );
        match store.write(&http, &url, 0, &mut state) {
            Ack::Yes(r) => {
                acked.push(r);
                again += 1;
            }
            Ack::Refused(_) => std::thread::sleep(Duration::from_millis(100)),
            Ack::Gone => panic!("{}: the server died; log:\n{}", store.name(), server.log()),
        }
    }
    if let Err(e) = store.verify(&url, &acked) {
        panic!(
            "{}: after space came back: {e}; log:\n{}",
            store.name(),
            server.log()
        );
    }
    let log = server.log();
    assert!(
        !log.contains("panicked"),
        "{}: a panic:\n{log}",
        store.name()
    );
    server.kill9();
    let server = Server::start(&data, &args);
    if let Err(e) = store.verify(&server.url(), &acked) {
        panic!(
            "{}: after a restart: {e}; log:\n{}",
            store.name(),
            server.log()
        );
    }
    eprintln!(
        "{}: full disk: {} writes acknowledged, none lost",
        store.name(),
        acked.len()
    );
    server.stop();
}
