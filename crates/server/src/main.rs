//! The `sightline` binary: parses the command line and hands over to one
//! module per subcommand.
//!
//! - `sightline serve`: runs the server ([`serve`]).
//! - `sightline import openmetrics FILE`: backfills blocks ([`import`]).
//! - `sightline check rules|config`, `sightline test rules`: promtool's
//!   checks and rule unit tests ([`check`]).
//! - `sightline slo generate|report`: SLO specs to rule files, budget
//!   reports ([`slo`]).
//! - `sightline agent`: Promtail's job, tailing files and shipping them
//!   to a Loki push endpoint ([`agent`]).
//! - `sightline demo`: `serve` with a sample shop and its history, in one
//!   process ([`demo`]).
//!
//! The config file (a prometheus.yml, or a sightline.yml naming one) is read
//! by [`config`], which hands each subsystem its section.
//!
//! Wiring lives in [`serve`]: it opens the store, starts one task per
//! subsystem under one cancellation token and flushes the WAL on shutdown.

mod agent;
mod alerting;
mod check;
mod cli;
mod config;
mod dashboards;
mod demo;
mod events;
mod import;
mod incidents;
mod logs;
mod memory;
mod otlp;
mod prefix;
mod probes;
mod serve;
mod slo;
mod telemetry;
mod tenants;
mod traces;
mod web;

use clap::Parser;

// mimalloc rather than glibc's malloc: the scrape loop, the store and the
// query engine make many small, short-lived allocations from several
// threads, and mimalloc serves them for less CPU (bench/scrape_compare.py:
// 0.064 -> 0.051 cores at 50k series). Two of its defaults cost memory we
// do not want to spend, see `tune_allocator`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `arena_eager_commit` index in `mi_option_t` (mimalloc.h); the
/// Rust binding names only some options.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// With mimalloc's defaults RSS at 50k series went from 82 MB (glibc) to
/// 139 MB: eagerly committed arenas with huge pages advised on them. The
/// `no_thp` feature removes the huge pages (93 MB in one run); committing
/// on demand as well measured 82 MB, set through the environment
/// (`MIMALLOC_ARENA_EAGER_COMMIT=0`) in single, noisy runs. Set here, the
/// option applies to arenas reserved after this point; whether mimalloc
/// reserved its first one earlier was not established, so this is the
/// intent, and the figures in bench/scrape_compare.py are what counts.
#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: plain option setters, called before any thread is started.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
}

/// Gives the pages mimalloc keeps for reuse back to the kernel: a relief
/// under memory pressure (`memory.rs`).
#[allow(unsafe_code)]
pub(crate) fn release_free_memory() {
    // SAFETY: mi_collect only walks mimalloc's own free lists; any thread
    // may call it at any time.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    tune_allocator();
    let cli = cli::Cli::parse_from(cli::promtail_flags(std::env::args_os().collect()));
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIGHTLINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(cli.log_level.as_str()));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let result = match cli.command {
        cli::Command::Serve(args) => serve::run(*args),
        cli::Command::Import(cli::ImportCommand::Openmetrics(args)) => import::run(args),
        cli::Command::Check(cmd) => return check::run_check(cmd),
        cli::Command::Test(cmd) => return check::run_test(cmd),
        cli::Command::Slo(cmd) => slo::run(cmd),
        cli::Command::Agent(args) => agent::run(args),
        cli::Command::Demo(args) => demo::main(*args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
