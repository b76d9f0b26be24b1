//! `deskmail import FILE.ndjson`: the shop catalog from the command line, with a progress bar and a summary.

use super::exit;
use crate::platform::config::Settings;
use crate::startup::Services;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// NDJSON file: one {"type": "product"|"order", …} per line.
    pub file: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn import(settings: Settings, args: ImportArgs) -> anyhow::Result<i32> {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("deskmail: cannot read {}: {e}", args.file.display());
            return Ok(exit::NO_INPUT);
        }
    };
    let services = Services::start(settings).await?;
    let total = text.lines().count() as u64;
    let bar = indicatif::ProgressBar::new(total).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} lines ({per_sec}, {eta} left)")
            .expect("valid template"),
    );
    let report =
        crate::tickets::catalog::import_ndjson(&services.db, &text, |done| bar.set_position(done as u64)).await?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "imported {} products and {} orders: {} created, {} updated, {} rejected",
            report.products,
            report.orders,
            report.created,
            report.updated,
            report.rejected.len()
        );
        for r in &report.rejected {
            println!("  line {}: {}", r.line, r.error);
        }
    }
    Ok(if report.rejected.is_empty() { exit::OK } else { exit::DATA_ERR })
}
