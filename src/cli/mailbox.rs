//! `deskmail mailbox test NAME`: log in to the mailbox's servers and report.

use super::exit;
use crate::platform::config::{MailboxSettings, Settings};
use crate::startup::Services;
use clap::Subcommand;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum MailboxCommand {
    /// Log in to IMAP (and SMTP) and report capabilities, counts and what the next sync would import.
    Test {
        name: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn mailbox(settings: Settings, cmd: MailboxCommand) -> anyhow::Result<i32> {
    let MailboxCommand::Test { name, json } = cmd;
    let timeout = Duration::from_secs(settings.imap.command_timeout_secs.min(30));
    let services = Services::start(settings).await?;
    let Some(row) = services.db.mailbox_by_name(&name).await? else {
        eprintln!("deskmail: unknown mailbox {name:?}");
        return Ok(exit::USAGE);
    };
    let config = crate::platform::secretbox::load_mailbox_settings(&row.settings_json, &services.secrets)?;
    let tokens = services.oauth.source(row.id, &row.name, &config).map_err(anyhow::Error::msg)?;
    let smtp_code = check_smtp(&config, tokens.clone(), json).await;
    let Some(imap) = &config.imap else {
        println!("mailbox {name}: no IMAP settings (fed by `deskmail ingest` only)");
        return Ok(smtp_code);
    };
    let state = services.db.sync_state(row.id, &imap.folder).await?;
    match crate::ingest::imap::probe::probe(imap, tokens.as_deref(), &state, timeout).await {
        Ok(report) if json => println!("{}", serde_json::json!({ "mailbox": name, "imap": report })),
        Ok(r) => {
            println!("IMAP {}:{} ({:?}) as {}: login ok", imap.host, imap.port, imap.tls, imap.username);
            println!("  capabilities: {}", r.capabilities.join(" "));
            println!(
                "  folder {}: {} messages, {} unseen, UIDVALIDITY {:?}, UIDNEXT {:?}",
                r.folder, r.exists, r.unseen, r.uid_validity, r.uid_next
            );
            println!("  next sync would import {} message(s): {}", r.would_import, r.explanation);
        }
        Err(e) => {
            eprintln!("IMAP {}:{}: {}", imap.host, imap.port, crate::platform::telemetry::chain(&e));
            return Ok(exit::TEMPFAIL);
        }
    }
    Ok(smtp_code)
}

/// Connects to the mailbox's SMTP server (TLS and AUTH as configured) and reports.
async fn check_smtp(
    config: &MailboxSettings,
    tokens: Option<std::sync::Arc<crate::net::oauth::TokenSource>>,
    json: bool,
) -> i32 {
    let Some(smtp) = &config.smtp else {
        if !json {
            println!("SMTP: not configured (this mailbox sends nothing)");
        }
        return exit::OK;
    };
    match crate::net::smtp::SmtpClient::check_settings(smtp, tokens).await {
        Ok(()) if json => {
            println!("{}", serde_json::json!({ "smtp": { "host": smtp.host, "port": smtp.port, "ok": true } }))
        }
        Ok(()) => println!("SMTP {}:{} ({:?}): connection and login ok", smtp.host, smtp.port, smtp.tls),
        Err(error) => {
            eprintln!("SMTP {}:{}: {error}", smtp.host, smtp.port);
            return exit::TEMPFAIL;
        }
    }
    exit::OK
}
