//! `deskmail ingest`: raw messages from files or stdin through the pipeline, in batches; JSON lines and sysexits codes.

use super::exit;
use crate::config::Settings;
use crate::ingest::{Input, Outcome};
use crate::startup::Services;
use clap::Args;
use serde_json::json;
use std::io::{Read, Write};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Name of the mailbox the messages arrived at.
    #[arg(long)]
    pub mailbox: String,
    /// Print one JSON line per input.
    #[arg(long)]
    pub json: bool,
    /// Raw message files; stdin when none.
    pub files: Vec<PathBuf>,
}

/// One input's result line.
struct Line {
    file: String,
    sha256: Option<String>,
    result: Result<Outcome, String>,
}

pub async fn ingest(settings: Settings, args: IngestArgs) -> i32 {
    let batch_size = settings.ingest.batch_size;
    let services = match Services::start(settings).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("deskmail: {}", crate::telemetry::chain(e.as_ref()));
            return exit::TEMPFAIL;
        }
    };
    let mailbox = match services.db.mailbox_by_name(&args.mailbox).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            eprintln!("deskmail: unknown mailbox {:?}", args.mailbox);
            return exit::USAGE;
        }
        Err(e) => {
            eprintln!("deskmail: {}", crate::telemetry::chain(&e));
            return exit::TEMPFAIL;
        }
    };
    let names: Vec<String> = if args.files.is_empty() {
        vec!["-".into()]
    } else {
        args.files.iter().map(|p| p.display().to_string()).collect()
    };
    let mut code = exit::OK;
    for chunk in names.chunks(batch_size) {
        for line in ingest_chunk(&services, &mailbox, chunk).await {
            code = worse(code, line_code(&line));
            report(&line, args.json);
        }
    }
    code
}

async fn ingest_chunk(services: &Services, mailbox: &crate::db::MailboxRow, names: &[String]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut inputs = Vec::new();
    let mut slots = Vec::new();
    for name in names {
        match read_input(name) {
            Ok(raw) => {
                slots.push(lines.len());
                lines.push(Line {
                    file: name.clone(),
                    sha256: Some(crate::storage::sha256_hex(&raw)),
                    result: Err(String::new()),
                });
                inputs.push(Input { raw, source: None });
            }
            Err(e) => lines.push(Line { file: name.clone(), sha256: None, result: Err(format!("cannot read: {e}")) }),
        }
    }
    if inputs.is_empty() {
        return lines;
    }
    match services.pipeline.ingest(mailbox, inputs, None).await {
        Ok(outcomes) => {
            for (slot, outcome) in slots.into_iter().zip(outcomes) {
                lines[slot].result = Ok(outcome);
            }
        }
        Err(e) => {
            let reason = format!("temporary failure, retry later: {}", crate::telemetry::chain(&e));
            tracing::error!(error = %reason, "batch not stored");
            for slot in slots {
                lines[slot].result = Err(reason.clone());
            }
        }
    }
    lines
}

fn read_input(name: &str) -> std::io::Result<Vec<u8>> {
    if name == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(name)
    }
}

fn line_code(line: &Line) -> i32 {
    match &line.result {
        Ok(_) => exit::OK,
        Err(_) if line.sha256.is_none() => exit::NO_INPUT,
        Err(_) => exit::TEMPFAIL,
    }
}

/// The contract's order: 75 > 66 > 64 > 0.
fn worse(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        exit::TEMPFAIL => 3,
        exit::NO_INPUT => 2,
        exit::USAGE => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn report(line: &Line, as_json: bool) {
    let (outcome, ticket, reason) = match &line.result {
        Ok(o) => (serde_json::to_value(o.kind).unwrap_or_default(), o.ticket, o.reason.clone()),
        Err(reason) => (json!("error"), None, Some(reason.clone())),
    };
    let mut out = std::io::stdout().lock();
    let _ = if as_json {
        writeln!(
            out,
            "{}",
            json!({ "file": line.file, "sha256": line.sha256, "outcome": outcome, "ticket": ticket, "reason": reason })
        )
    } else {
        let ticket = ticket.map(|t| format!(" ticket #{t}")).unwrap_or_default();
        let reason = reason.map(|r| format!(" ({r})")).unwrap_or_default();
        writeln!(out, "{}: {}{ticket}{reason}", line.file, outcome.as_str().unwrap_or("error"))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_exit_code_wins() {
        assert_eq!(worse(exit::OK, exit::NO_INPUT), exit::NO_INPUT);
        assert_eq!(worse(exit::TEMPFAIL, exit::NO_INPUT), exit::TEMPFAIL);
        assert_eq!(worse(exit::USAGE, exit::NO_INPUT), exit::NO_INPUT);
        assert_eq!(worse(exit::OK, exit::OK), exit::OK);
    }
}
