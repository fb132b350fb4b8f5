//! `sightline import openmetrics FILE`: the same input as
//! `promtool tsdb create-blocks-from openmetrics`, written as blocks into the
//! data directory, so one data file can be loaded into both systems.
//!
//! As promtool does, every sample must carry a timestamp (OpenMetrics:
//! seconds, fractions allowed) and the file must end with `# EOF`. A
//! malformed line stops the import before any block is written, naming the
//! line; nothing half-imported is left behind.

use crate::cli::ImportArgs;
use anyhow::{bail, Context};
use sightline_ingest::exposition::{Entry, Format, Parser};
use sightline_tsdb::{default_block_range_ms, BlockWriter};

/// Runs the import; prints what was written.
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let body =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let file = args.file.display().to_string();
    let done = import_openmetrics(&body, &file, &args.data_dir)?;
    println!(
        "imported {} samples from {file} ({}..{} ms) into {} block(s) in {}",
        done.samples,
        done.min_time_ms,
        done.max_time_ms,
        done.blocks,
        args.data_dir.display()
    );
    Ok(())
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub samples: usize,
    pub blocks: usize,
    pub min_time_ms: i64,
    pub max_time_ms: i64,
}

/// Writes the samples of an OpenMetrics text (`file` names it in errors)
/// as blocks into `data_dir`, which no running server may hold open. Also
/// `sightline demo`'s backfill, so the demo's history takes the path a
/// user's import takes.
pub fn import_openmetrics(
    body: &[u8],
    file: &str,
    data_dir: &std::path::Path,
) -> anyhow::Result<Imported> {
    // Parse everything first: a bad line must not leave blocks behind.
    let mut samples = Vec::new();
    let mut parser = Parser::new(body, Format::OpenMetrics);
    while let Some(entry) = parser
        .next_entry()
        .with_context(|| format!("{file}: not valid OpenMetrics"))?
    {
        if let Entry::Sample {
            timestamp, value, ..
        } = entry
        {
            let labels = parser
                .labels()
                .with_context(|| format!("{file}: not valid OpenMetrics"))?;
            let Some(t) = timestamp else {
                bail!(
                    "{file}:{}: sample of {labels} has no timestamp; every sample of an import needs one",
                    parser.line(),
                );
            };
            samples.push((labels, t, value));
        }
    }
    if samples.is_empty() {
        bail!("{file}: no samples to import");
    }

    let mut writer = BlockWriter::new(data_dir, default_block_range_ms())
        .with_context(|| format!("preparing {}", data_dir.display()))?;
    for (labels, t, v) in &samples {
        writer.add(labels, *t, *v)?;
    }
    let blocks = writer.finish().context("writing blocks")?;
    let (mint, maxt) = samples
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), (_, t, _)| {
            (lo.min(*t), hi.max(*t))
        });
    Ok(Imported {
        samples: samples.len(),
        blocks: blocks.len(),
        min_time_ms: mint,
        max_time_ms: maxt,
    })
}
