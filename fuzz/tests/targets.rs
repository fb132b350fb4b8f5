//! One bolero test per fuzz target (see the crate docs). Under
//! `cargo test` each replays the committed corpus and crash files of its
//! target, then a bounded number of generated inputs; under
//! `cargo bolero test --engine afl` AFL++ drives the same closure.
//!
//! A counting allocator turns a single allocation above [`MAX_ALLOC`] into
//! a panic (then a crash under AFL), so "no huge allocation" is checked,
//! not hoped for.

// The allocator below is the one place this crate needs `unsafe`: a
// `GlobalAlloc` impl cannot be written without it.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::time::{Duration, Instant};

/// The largest single allocation a target may make from any input: above
/// the TSDB's 128 MiB head chunk file buffer (made whatever the input), below
/// the decompression limits (256 MB) a length field trusted from the input
/// would reach.
const MAX_ALLOC: usize = 200 << 20;

struct Capped;

// SAFETY: forwards to the system allocator unchanged; only refuses sizes.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOC {
            huge(layout.size());
        }
        // SAFETY: same layout as given.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr came from System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOC {
            huge(layout.size());
        }
        // SAFETY: same layout as given.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > MAX_ALLOC {
            huge(new_size);
        }
        // SAFETY: forwarded as received.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Aborts (a panic could allocate while the allocator is in use): AFL
/// records the abort as a crash; the replay shows the message.
fn huge(size: usize) -> ! {
    eprintln!("fuzz: a single allocation of {size} bytes (limit {MAX_ALLOC})");
    std::process::abort();
}

#[global_allocator]
static ALLOC: Capped = Capped;

/// Generated inputs per target under plain `cargo test` (the store targets
/// open a store per input, so this stays small to keep the replay in
/// seconds).
const GENERATED: usize = 50;

/// An input slower than this is reported as a hang under `cargo test`.
const SLOW: Duration = Duration::from_secs(10);

/// Replays the committed corpus and crash files of `name`.
fn replay(name: &str) {
    let target = sightline_fuzz::target(name).expect("target is registered");
    for path in sightline_fuzz::committed_inputs(name) {
        let data = std::fs::read(&path).expect("read corpus file");
        let began = Instant::now();
        target(&data);
        let took = began.elapsed();
        assert!(took < SLOW, "{}: took {took:?}", path.display());
    }
}

macro_rules! targets {
    ($($name:ident),* $(,)?) => {
        /// Every committed input of each target, as a regression test.
        mod replay {
            $(
                #[test]
                fn $name() {
                    super::replay(stringify!($name));
                }
            )*
        }

        /// The bolero harness of each target: generated inputs under
        /// `cargo test`, AFL++'s under `cargo bolero test --engine afl
        /// fuzz::<name>` (`bench/fuzz.sh`). `check!` must be expanded in the
        /// test itself: bolero names the target after the enclosing function.
        mod fuzz {
            $(
                #[test]
                fn $name() {
                    let target = sightline_fuzz::target(stringify!($name)).expect("target is registered");
                    bolero::check!()
                        .with_iterations(super::GENERATED)
                        .for_each(|data: &[u8]| target(data));
                }
            )*
        }

        /// Every registered target has a test here.
        #[test]
        fn all_targets_have_a_test() {
            let tested = [$(stringify!($name)),*];
            for (name, _) in sightline_fuzz::TARGETS {
                assert!(tested.contains(name), "no test for target {name}");
            }
        }
    };
}

targets!(
    exposition_text,
    exposition_openmetrics,
    exposition_protobuf,
    promql,
    logql,
    traceql,
    am_matchers,
    remote_write,
    loki_push,
    otlp_metrics,
    otlp_logs,
    otlp_traces,
    zipkin,
    jaeger,
    config_prometheus,
    config_alertmanager,
    config_rules,
    config_slo,
    config_promtail,
    config_blackbox,
    config_probes,
    tsdb_wal,
    tsdb_head_chunks,
    tsdb_block_index,
    tsdb_block_chunks,
    logstore_wal,
    logstore_block,
    logstore_block_index,
    tracestore_wal,
    tracestore_block,
    tracestore_block_index,
    am_silences,
    am_nflog,
);

/// Writes the generated seeds (wire formats and stores) (`SIGHTLINE_FUZZ_WRITE_SEEDS=1 cargo test
/// -p sightline-fuzz --test targets write_store_seeds -- --ignored`).
#[test]
#[ignore]
fn write_store_seeds() {
    if std::env::var_os("SIGHTLINE_FUZZ_WRITE_SEEDS").is_none() {
        return;
    }
    let stores = sightline_fuzz::stores::seeds()
        .into_iter()
        .map(|(name, bytes)| (name, "store", bytes));
    for (name, file, bytes) in sightline_fuzz::seeds::wire().into_iter().chain(stores) {
        let dir = sightline_fuzz::root().join("corpus").join(name);
        std::fs::create_dir_all(&dir).expect("create corpus dir");
        std::fs::write(dir.join(format!("seed-{file}")), bytes).expect("write seed");
        println!("{name}/seed-{file}");
    }
}

/// Lists the store templates (`-- --ignored --nocapture`), to see which
/// file each store target replaces.
#[test]
#[ignore]
fn list_store_templates() {
    for dir in sightline_fuzz::stores::template_dirs() {
        let out = std::process::Command::new("find")
            .arg(&dir)
            .args(["-type", "f", "-printf", "%s %P\n"])
            .output()
            .expect("find");
        println!(
            "{}:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
