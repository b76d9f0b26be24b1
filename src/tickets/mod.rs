//! The one write layer: every change to a ticket (created from mail or by an agent, customer messages, replies,
//! notes, status/priority/assignee/tags, links, bounces, auto-close, agent commands by mail, erasure, retention)
//! in one transaction with its typed event, and the mail it causes decided here and queued by `outbound` inside
//! that transaction.

pub mod agent_mail;
pub mod auto_close;
pub mod automated;
mod automated_mail;
pub mod bounce;
pub mod catalog;
pub mod commands;
pub mod customer;
pub mod erase;
mod erase_scrub;
mod files;
pub mod inbound;
pub mod inbound_batch;
pub mod inbound_numbers;
mod inbound_store;
pub mod links;
pub mod merge;
mod notices;
pub mod open;
pub mod reply;
pub mod retention;
pub mod sla;
pub mod split;
pub mod tags;
pub mod types;
pub mod update;

pub use files::NewFile;
pub use reply::ReplyInput;
pub use update::Changes;

use crate::db::{self, Db, DbError, TicketRow};
use crate::domain::{Actor, TemplateKind, TicketEvent};
use crate::outbound::compose::QueueShared;
use crate::outbound::{Composer, MailIntent, Queued};
use crate::platform::storage::BlobStore;
use sqlx::AnyConnection;

/// Why a ticket operation was refused or failed; nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("no such ticket")]
    NotFound,
    /// The request is invalid; the message says which field and why.
    #[error("{0}")]
    Invalid(String),
    /// The idempotency key was used before; carries the message id created then.
    #[error("this request was already processed")]
    Duplicate(i64),
    #[error("cannot store the attachment")]
    Storage(#[from] std::io::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for TicketError {
    fn from(e: sqlx::Error) -> Self {
        TicketError::Db(e.into())
    }
}

/// The ticket service: the store, the composer that queues mail, the blob store for files.
#[derive(Debug, Clone)]
pub struct Tickets {
    pub db: Db,
    pub composer: Composer,
    pub blobs: BlobStore,
    /// Acknowledgements per recipient and hour (the circuit breaker against mail loops).
    pub ack_limit_per_hour: u32,
    /// Wakes the webhook sender after rules queued deliveries.
    pub webhooks_wake: std::sync::Arc<tokio::sync::Notify>,
}

impl Tickets {
    /// Tells the webhook sender that deliveries were queued (call after commit).
    pub fn wake_webhooks(&self) {
        self.webhooks_wake.notify_one();
    }

    async fn ticket(&self, number: i64) -> Result<TicketRow, TicketError> {
        self.db.ticket(number).await?.ok_or(TicketError::NotFound)
    }

    /// A ticket that may change: a merged one is refused with where it went.
    async fn writable(&self, number: i64) -> Result<TicketRow, TicketError> {
        let t = self.ticket(number).await?;
        match t.merged_into {
            Some(target) if t.status == crate::domain::Status::Merged => {
                Err(TicketError::Invalid(format!("ticket #{number} was merged into #{target}; work on #{target}")))
            }
            _ => Ok(t),
        }
    }

    /// Queues the mail an operation decided on, in its transaction. A mail that cannot be rendered or built is
    /// not queued; its ticket's history says so.
    pub(crate) async fn queue(&self, conn: &mut AnyConnection, mail: Vec<MailIntent>, now: i64) -> Result<(), DbError> {
        if mail.is_empty() {
            return Ok(());
        }
        let shared = QueueShared::read(conn).await?;
        for intent in mail {
            let (ticket, template) = (intent.ticket.clone(), intent.template);
            if let Queued::NotSent(error) = self.composer.queue(conn, intent, &shared, now).await? {
                not_sent(conn, &ticket, template, &error, now).await?;
            }
        }
        Ok(())
    }
}

/// Logs and records on the ticket that a mail could not be made (nothing was queued).
pub(crate) async fn not_sent(
    conn: &mut AnyConnection,
    ticket: &TicketRow,
    template: TemplateKind,
    error: &str,
    now: i64,
) -> Result<(), DbError> {
    record(conn, ticket.id, &Actor::System, &not_sent_event(ticket, template, error), now).await?;
    Ok(())
}

/// Logs that a mail could not be made; the event that records it.
pub(crate) fn not_sent_event(ticket: &TicketRow, template: TemplateKind, error: &str) -> TicketEvent {
    tracing::error!(ticket = ticket.number, %template, error, "mail not sent");
    TicketEvent::MailNotSent { template, error: error.to_string() }
}

/// Appends `event` by `actor` to a ticket's history, in the caller's transaction.
pub(crate) async fn record(
    conn: &mut AnyConnection,
    ticket_id: i64,
    actor: &Actor,
    event: &TicketEvent,
    now: i64,
) -> Result<i64, DbError> {
    db::events::insert(conn, ticket_id, actor, event, now).await
}

/// The signature block appended to an agent's text (`-- ` delimiter, so quote strippers drop it).
pub fn with_signature(body: &str, signature: &str) -> String {
    let body = body.trim_end();
    if signature.trim().is_empty() { body.to_string() } else { format!("{body}\n\n-- \n{}", signature.trim()) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_use_the_standard_delimiter() {
        assert_eq!(super::with_signature("Hi\n", ""), "Hi");
        assert_eq!(super::with_signature("Hi", "Ana\nSupport"), "Hi\n\n-- \nAna\nSupport");
    }
}
