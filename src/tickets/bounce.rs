//! A bounce of our mail: the failed deliveries marked, an event on the ticket it concerns, and the bounce log.

use super::{TicketError, Tickets, record};
use crate::db::{self, MailboxRow, TicketRow};
use crate::domain::{Actor, TicketEvent};
use sqlx::AnyConnection;

/// A delivery-status report as ingest read it.
#[derive(Debug, Clone, Copy)]
pub struct Bounce<'a> {
    pub raw_id: i64,
    /// The Message-ID (without `<>`) of the mail that bounced.
    pub original_message_id: Option<&'a str>,
    pub status: Option<&'a str>,
    pub diagnostic: Option<&'a str>,
    pub recipients: &'a [String],
}

impl Tickets {
    /// Records a bounce at `mailbox` inside the caller's transaction; returns the ticket it concerns, if any.
    pub async fn record_bounce(
        &self,
        conn: &mut AnyConnection,
        mailbox: &MailboxRow,
        b: &Bounce<'_>,
        now: i64,
    ) -> Result<Option<TicketRow>, TicketError> {
        let error = format!("bounced: {} {}", b.status.unwrap_or(""), b.diagnostic.unwrap_or("")).trim().to_string();
        let from_outbox = match b.original_message_id {
            Some(id) => db::outbox::bounce_failed(conn, id, b.recipients, &error, now).await?,
            None => None,
        };
        let ticket = match (from_outbox, b.original_message_id) {
            (Some(tid), _) => db::tickets::by_id(&mut *conn, tid).await?,
            (None, Some(id)) => self.ticket_of_message_id(conn, id).await?,
            (None, None) => None,
        };
        let recipients = b.recipients.join(", ");
        let row = db::raw::NewBounce {
            raw_id: b.raw_id,
            mailbox_id: mailbox.id,
            ticket_id: ticket.as_ref().map(|t| t.id),
            original_message_id: b.original_message_id,
            status: b.status,
            diagnostic: b.diagnostic,
            recipients: &recipients,
        };
        db::raw::insert_bounce(conn, &row, now).await?;
        if let Some(t) = &ticket {
            let e = TicketEvent::Bounce {
                recipients: b.recipients.to_vec(),
                status: b.status.map(str::to_string),
                diagnostic: b.diagnostic.map(str::to_string),
            };
            record(conn, t.id, &Actor::System, &e, now).await?;
        }
        Ok(ticket)
    }

    /// The ticket a Message-ID belongs to: one we signed, or a stored message's.
    async fn ticket_of_message_id(&self, conn: &mut AnyConnection, id: &str) -> Result<Option<TicketRow>, TicketError> {
        if let Some(number) = self.composer.signer.check_message_id(id) {
            return Ok(db::tickets::by_number(&mut *conn, number).await?);
        }
        Ok(match db::messages::ticket_of_message_id(conn, &[id.to_string()]).await? {
            Some(tid) => db::tickets::by_id(&mut *conn, tid).await?,
            None => None,
        })
    }
}
