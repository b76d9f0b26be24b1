//! `deskmail ingest`: raw messages from files or stdin through the pipeline, in batches; JSON lines and sysexits codes.

use super::exit;
use crate::db::MailboxRow;
use crate::ingest::{Input, Outcome, Prepared, Source};
use crate::platform::config::Settings;
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
    /// The sha256 of the bytes read, once known (also reported when storing them failed).
    sha256: Option<String>,
    /// Read, and waiting for its outcome; `Err` when it could not be read.
    result: Result<Option<Outcome>, String>,
}

/// A batch read and prepared, waiting to be stored.
struct Batch {
    lines: Vec<Line>,
    prepared: Vec<(Prepared, Source)>,
}

pub async fn ingest(settings: Settings, args: IngestArgs) -> i32 {
    let batch_size = settings.ingest.batch_size;
    let services = match Services::start(settings).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("deskmail: {}", crate::platform::telemetry::chain(e.as_ref()));
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
            eprintln!("deskmail: {}", crate::platform::telemetry::chain(&e));
            return exit::TEMPFAIL;
        }
    };
    let names: Vec<String> = if args.files.is_empty() {
        vec!["-".into()]
    } else {
        args.files.iter().map(|p| p.display().to_string()).collect()
    };
    // Reading, parsing and writing blobs runs ahead of storing by up to two batches, so neither half waits for the
    // other's slowest batch.
    let (ready, mut to_store) = tokio::sync::mpsc::channel::<Batch>(1);
    let services = &services;
    let produce = async move {
        for chunk in names.chunks(batch_size) {
            if ready.send(read_and_prepare(services, chunk).await).await.is_err() {
                break;
            }
        }
    };
    let consume = async {
        let mut code = exit::OK;
        while let Some(batch) = to_store.recv().await {
            code = report_all(store(services, &mailbox, Some(batch)).await, args.json, code);
        }
        code
    };
    tokio::join!(produce, consume).1
}

async fn read_and_prepare(services: &Services, names: &[String]) -> Batch {
    let mut lines = Vec::new();
    let mut inputs = Vec::new();
    for name in names {
        match read_input(name) {
            Ok(raw) => {
                lines.push(Line { file: name.clone(), sha256: None, result: Ok(None) });
                inputs.push(Input { raw, source: None });
            }
            Err(e) => lines.push(Line { file: name.clone(), sha256: None, result: Err(format!("cannot read: {e}")) }),
        }
    }
    let prepared = services.pipeline.prepare_all(inputs).await;
    let read = lines.iter_mut().filter(|l| l.result.is_ok());
    for (line, (p, _)) in read.zip(&prepared) {
        line.sha256 = Some(p.sha256.clone());
    }
    match services.pipeline.write_blobs(prepared).await {
        Ok(prepared) => Batch { lines, prepared },
        Err(e) => {
            let reason = format!("temporary failure, retry later: cannot write to the storage directory: {e}");
            tracing::error!(error = %reason, "batch not stored");
            let lines = lines
                .into_iter()
                .map(|l| if l.result.is_ok() { Line { result: Err(reason.clone()), ..l } } else { l })
                .collect();
            Batch { lines, prepared: Vec::new() }
        }
    }
}

async fn store(services: &Services, mailbox: &MailboxRow, batch: Option<Batch>) -> Vec<Line> {
    let Some(Batch { mut lines, prepared }) = batch else { return Vec::new() };
    if prepared.is_empty() {
        return lines;
    }
    let slots: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| l.result.is_ok()).map(|(i, _)| i).collect();
    match services.pipeline.store_prepared(mailbox, prepared, None).await {
        Ok(outcomes) => {
            for (slot, outcome) in slots.into_iter().zip(outcomes) {
                lines[slot].result = Ok(Some(outcome));
            }
        }
        Err(e) => {
            let reason = format!("temporary failure, retry later: {}", crate::platform::telemetry::chain(&e));
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

fn report_all(lines: Vec<Line>, as_json: bool, mut code: i32) -> i32 {
    let mut out = std::io::stdout().lock();
    for line in &lines {
        code = worse(code, line_code(line));
        let _ = writeln!(out, "{}", render(line, as_json));
    }
    code
}

fn line_code(line: &Line) -> i32 {
    match &line.result {
        Ok(_) => exit::OK,
        Err(reason) if reason.starts_with("cannot read") => exit::NO_INPUT,
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

fn render(line: &Line, as_json: bool) -> String {
    let (outcome, sha256, ticket, reason) = match &line.result {
        Ok(Some(o)) => {
            (serde_json::to_value(o.kind).unwrap_or_default(), Some(o.sha256.clone()), o.ticket, o.reason.clone())
        }
        Ok(None) => (json!("error"), line.sha256.clone(), None, Some("not stored".to_string())),
        Err(reason) => (json!("error"), line.sha256.clone(), None, Some(reason.clone())),
    };
    if as_json {
        return json!({ "file": line.file, "sha256": sha256, "outcome": outcome, "ticket": ticket, "reason": reason })
            .to_string();
    }
    let ticket = ticket.map(|t| format!(" ticket #{t}")).unwrap_or_default();
    let reason = reason.map(|r| format!(" ({r})")).unwrap_or_default();
    format!("{}: {}{ticket}{reason}", line.file, outcome.as_str().unwrap_or("error"))
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
