//! Reads for a customer's data export: the customer row, every ticket that holds something of theirs, and
//! messages with all the stored headers and their raw mail's digest.

use super::{Db, Result, TicketRow};
use sqlx::AssertSqlSafe;

/// The customer row as stored.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct CustomerRecord {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub note: String,
    pub blocked: i64,
    pub created_at: i64,
}

/// A message with every stored field (the API's message JSON leaves some out).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportMessage {
    pub id: i64,
    pub ticket_id: i64,
    pub kind: String,
    pub customer_id: Option<i64>,
    pub from_addr: String,
    pub from_name: String,
    pub to_json: String,
    pub cc_json: String,
    pub reply_to: String,
    pub subject: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub refs: String,
    pub visible_text: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub auto: i64,
    pub flags: String,
    pub sent_at: Option<i64>,
    pub created_at: i64,
    /// The digest of the raw mail it came in, when it is kept.
    pub raw_sha256: Option<String>,
}

impl Db {
    /// The customer with this (lower-cased) address.
    pub async fn customer_record(&self, email: &str) -> Result<Option<CustomerRecord>> {
        Ok(sqlx::query_as("select id, email, name, note, blocked, created_at from customers where email = $1")
            .bind(email)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Every ticket the customer requested, takes part in or wrote a message to, oldest first.
    pub async fn customer_tickets(&self, customer_id: i64) -> Result<Vec<TicketRow>> {
        let sql = format!(
            "{} where t.requester_id = $1 or t.id in (select ticket_id from ticket_participants where customer_id = $1 \
             union select ticket_id from messages where customer_id = $1) order by t.id",
            super::tickets::SELECT
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql)).bind(customer_id).fetch_all(self.pool()).await?)
    }

    /// The messages of a ticket with every stored field, oldest first.
    pub async fn export_messages(&self, ticket_id: i64) -> Result<Vec<ExportMessage>> {
        Ok(sqlx::query_as(
            "select m.id, m.ticket_id, m.kind, m.customer_id, m.from_addr, m.from_name, m.to_json, m.cc_json, \
             m.reply_to, m.subject, m.message_id, m.in_reply_to, m.refs, m.visible_text, m.body_text, m.body_html, \
             m.auto, m.flags, m.sent_at, m.created_at, r.sha256 as raw_sha256 \
             from messages m left join raw_messages r on r.id = m.raw_id where m.ticket_id = $1 order by m.id",
        )
        .bind(ticket_id)
        .fetch_all(self.pool())
        .await?)
    }
}
