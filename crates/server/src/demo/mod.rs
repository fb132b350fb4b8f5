//! `sightline demo`: every signal live in seconds (issue 17).
//!
//! - [`run`]: binds the server's port, starts the sample shop
//!   (`sightline-demo`), writes the provisioned files ([`files`]) with the
//!   ports in force, backfills six hours of history into the data folder
//!   ([`backfill`]), then runs `serve` in this process over those files.
//! - [`fault`]: `sightline demo fault SERVICE FAULT...`, a client of the
//!   running demo's control server.
//! - `--print-config DIR` writes [`files::FILES`] and exits.
//!
//! The files live as real files under `crates/server/demo/`, so the ones a
//! user copies are the ones the demo runs and the tests check.

pub mod backfill;
pub mod fault;
pub mod files;
pub mod run;

use crate::cli::{DemoArgs, DemoCommand};
use std::net::SocketAddr;

/// Runs `sightline demo ...`.
pub fn main(args: DemoArgs) -> anyhow::Result<()> {
    if let Some(DemoCommand::Fault {
        control,
        service,
        fault,
    }) = &args.command
    {
        return fault::run(*control, service, fault);
    }
    if let Some(dir) = &args.print_config {
        let files = files::render(
            &files::Ports::default(),
            std::path::Path::new(files::DEFAULT_LOG_DIR),
        );
        let written = files::write(dir, &files, args.force)?;
        for p in written {
            println!("wrote {}", p.display());
        }
        println!(
            "\nRun them:  sightline serve --config {0}/sightline.yml --alertmanager.config.file {0}/alertmanager.yml\n\
             Check them: sightline check config {0}/sightline.yml",
            dir.display()
        );
        return Ok(());
    }
    run::run(run::RunOptions {
        data_dir: args.data_dir,
        listen: args.listen,
        control: args.control,
        no_backfill: args.no_backfill,
        requests_per_second: args.requests_per_second,
    })
}

/// The control server's default address, where `demo fault` looks.
pub const DEFAULT_CONTROL: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9180);
