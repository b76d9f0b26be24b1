//! "Test connection" on the mailboxes page: the IMAP probe and the SMTP check of `deskmail mailbox test`, shown on the page.

use super::mailboxes::list_page;
use crate::db::MailboxRow;
use crate::platform::config::MailboxSettings;
use crate::web::dashboard::AdminUser;
use crate::web::dashboard::pages::sv;
use crate::web::{AppState, Error};
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use std::time::Duration;
use tower_sessions::Session;

/// The outcome of one server's check.
#[derive(Debug, Serialize)]
struct Check {
    ok: bool,
    summary: String,
    details: Vec<String>,
}

/// What the page shows after a test.
#[derive(Debug, Serialize)]
struct TestReport {
    mailbox: String,
    imap: Option<Check>,
    smtp: Option<Check>,
    /// Set when the stored settings could not be read (e.g. a password sealed with another secret).
    error: Option<String>,
}

pub async fn test(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    let row = state.db.mailbox_by_id(id).await?;
    let report = match crate::platform::secretbox::load_mailbox_settings(&row.settings_json, &state.secrets) {
        Ok(settings) => run(&state, &row, &settings).await?,
        Err(e) => TestReport { mailbox: row.name.clone(), imap: None, smtp: None, error: Some(e.to_string()) },
    };
    list_page(&state, &user, &session, sv(report)).await
}

async fn run(state: &AppState, row: &MailboxRow, settings: &MailboxSettings) -> Result<TestReport, Error> {
    let timeout = Duration::from_secs(state.settings.imap.command_timeout_secs.clamp(1, 15));
    let tokens = match state.oauth.source(row.id, &row.name, settings) {
        Ok(tokens) => tokens,
        Err(e) => return Ok(TestReport { mailbox: row.name.clone(), imap: None, smtp: None, error: Some(e) }),
    };
    let imap = match &settings.imap {
        Some(imap) => {
            let sync = state.db.sync_state(row.id, &imap.folder).await?;
            let target = format!("IMAP {}:{} as {}", imap.host, imap.port, imap.username);
            Some(match crate::ingest::imap::probe::probe(imap, tokens.as_deref(), &sync, timeout).await {
                Ok(r) => Check {
                    ok: true,
                    summary: format!("{target}: login ok"),
                    details: vec![
                        format!(
                            "Folder {}: {} messages, {} unseen, UIDVALIDITY {}",
                            r.folder,
                            r.exists,
                            r.unseen,
                            r.uid_validity.map(|v| v.to_string()).unwrap_or_else(|| "none".into())
                        ),
                        format!("The next sync would import {} message(s): {}.", r.would_import, r.explanation),
                        format!("Capabilities: {}", r.capabilities.join(" ")),
                    ],
                },
                Err(e) => Check {
                    ok: false,
                    summary: format!("{target}: {}", crate::platform::telemetry::chain(&e)),
                    details: Vec::new(),
                },
            })
        }
        None => None,
    };
    let smtp = match &settings.smtp {
        Some(smtp) => {
            let target = format!("SMTP {}:{}", smtp.host, smtp.port);
            let check = crate::net::smtp::SmtpClient::check_settings(smtp, tokens.clone());
            let check = tokio::time::timeout(timeout * 2, check).await;
            Some(match check {
                Ok(Ok(())) => {
                    Check { ok: true, summary: format!("{target}: connection and login ok"), details: Vec::new() }
                }
                Ok(Err(e)) => Check { ok: false, summary: format!("{target}: {e}"), details: Vec::new() },
                Err(_) => Check { ok: false, summary: format!("{target}: timed out"), details: Vec::new() },
            })
        }
        None => None,
    };
    Ok(TestReport { mailbox: row.name.clone(), imap, smtp, error: None })
}
