//! Erasing the content of tickets and messages (a customer's erasure, retention): blanking messages, dropping
//! attachment rows, raw mail nothing refers to any more, bounce reports, and what the outbox and webhook queue
//! still hold; plus the blob references checked before a file is deleted.

use super::{Backend, Result};
use sqlx::{AnyConnection, AssertSqlSafe};

/// Which messages a statement erases: every message of a ticket, or those a customer wrote on a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Messages {
    OfTicket(i64),
    ByCustomerOn { customer: i64, ticket: i64 },
}

impl Messages {
    /// The condition on `messages`: the ticket is `$1`, the customer `$2`.
    fn cond(self) -> &'static str {
        match self {
            Messages::OfTicket(_) => "ticket_id = $1",
            Messages::ByCustomerOn { .. } => "ticket_id = $1 and customer_id = $2",
        }
    }

    fn ticket(self) -> i64 {
        match self {
            Messages::OfTicket(ticket) | Messages::ByCustomerOn { ticket, .. } => ticket,
        }
    }

    fn customer(self) -> Option<i64> {
        match self {
            Messages::OfTicket(_) => None,
            Messages::ByCustomerOn { customer, .. } => Some(customer),
        }
    }
}

/// Binds the values of [`Messages::cond`] to any kind of query.
macro_rules! bound {
    ($query:expr, $m:expr) => {{
        let q = $query.bind($m.ticket());
        match $m.customer() {
            Some(c) => q.bind(c),
            None => q,
        }
    }};
}

/// Deletes the attachment rows of the messages; returns their digests (the files go after commit, when unused).
pub async fn drop_attachments(conn: &mut AnyConnection, m: Messages) -> Result<Vec<String>> {
    let of = format!("message_id in (select id from messages where {})", m.cond());
    let shas: Vec<String> =
        bound!(sqlx::query_scalar(AssertSqlSafe(format!("select sha256 from attachments where {of}"))), m)
            .fetch_all(&mut *conn)
            .await?;
    bound!(sqlx::query(AssertSqlSafe(format!("delete from attachments where {of}"))), m).execute(&mut *conn).await?;
    Ok(shas)
}

/// Blanks the messages — text, HTML, subject, addresses, Message-IDs, digest and the link to their raw mail — and
/// takes them out of the search index; the rows stay (kind, author, times) so reports still count them. Returns
/// how many were blanked and the raw messages they referred to.
pub async fn blank_messages(conn: &mut AnyConnection, backend: Backend, m: Messages) -> Result<(u64, Vec<i64>)> {
    let cond = m.cond();
    let raws: Vec<i64> = bound!(
        sqlx::query_scalar(AssertSqlSafe(format!(
            "select distinct raw_id from messages where {cond} and raw_id is not null"
        ))),
        m
    )
    .fetch_all(&mut *conn)
    .await?;
    if backend == Backend::Sqlite {
        // The index is contentless with no update trigger: its rows go here (PostgreSQL's column is blanked below).
        let sql = format!("delete from messages_fts where rowid in (select id from messages where {cond})");
        bound!(sqlx::query(AssertSqlSafe(sql)), m).execute(&mut *conn).await?;
    }
    let search = if backend == Backend::Postgres { ", search = ''::tsvector" } else { "" };
    let sql = format!(
        "update messages set from_addr = '', from_name = '', to_json = '[]', cc_json = '[]', reply_to = '', \
         subject = '', message_id = null, in_reply_to = null, refs = '', visible_text = '', body_text = '', \
         body_html = null, raw_id = null, content_digest = null{search} where {cond}"
    );
    let done = bound!(sqlx::query(AssertSqlSafe(sql)), m).execute(&mut *conn).await?;
    Ok((done.rows_affected(), raws))
}

/// Deletes a raw message (and its receipts) that no message, quarantine entry or bounce refers to any more;
/// returns its digest, or `None` when it is still used (or gone already).
pub async fn drop_raw_if_unused(conn: &mut AnyConnection, raw_id: i64) -> Result<Option<String>> {
    let used: i64 = sqlx::query_scalar(
        "select (select count(*) from messages where raw_id = $1) + (select count(*) from quarantine where raw_id = $1) \
         + (select count(*) from bounces where raw_id = $1)",
    )
    .bind(raw_id)
    .fetch_one(&mut *conn)
    .await?;
    if used > 0 {
        return Ok(None);
    }
    sqlx::query("delete from receipts where raw_id = $1").bind(raw_id).execute(&mut *conn).await?;
    Ok(sqlx::query_scalar("delete from raw_messages where id = $1 returning sha256")
        .bind(raw_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Makes the ticket a shell: subject `[erased]`, `erased_at` set (the first time). `true` when it had not been
/// erased before.
pub async fn shell_ticket(conn: &mut AnyConnection, ticket_id: i64, now: i64) -> Result<bool> {
    let before: Option<Option<i64>> = sqlx::query_scalar("select erased_at from tickets where id = $1")
        .bind(ticket_id)
        .fetch_optional(&mut *conn)
        .await?;
    sqlx::query("update tickets set subject = '[erased]', erased_at = coalesce(erased_at, $2) where id = $1")
        .bind(ticket_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(matches!(before, Some(None)))
}

/// Blanks the comments of the ticket's satisfaction answers (the ratings stay counted).
pub async fn blank_satisfaction(conn: &mut AnyConnection, ticket_id: i64) -> Result<()> {
    sqlx::query("update satisfaction set comment = '' where ticket_id = $1").bind(ticket_id).execute(conn).await?;
    Ok(())
}

/// Why a delivery stopped when its content was erased.
pub const CANCELLED: &str = "cancelled: the content was erased";

/// Empties the ticket's outbound mails (they carry its text and addresses) and cancels deliveries not sent yet.
pub async fn silence_outbox(conn: &mut AnyConnection, ticket_id: i64, now: i64) -> Result<()> {
    sqlx::query("update outbound_mails set raw = $2 where ticket_id = $1")
        .bind(ticket_id)
        .bind(Vec::<u8>::new())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "update deliveries set status = 'failed', last_error = $2, updated_at = $3, lease_owner = null, \
         lease_until = null where status in ('queued', 'sending') \
         and outbound_id in (select id from outbound_mails where ticket_id = $1)",
    )
    .bind(ticket_id)
    .bind(CANCELLED)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Empties the ticket's webhook deliveries (event and ticket JSON) and cancels those not sent yet.
pub async fn silence_webhooks(conn: &mut AnyConnection, ticket_id: i64) -> Result<()> {
    sqlx::query(
        "update webhook_deliveries set body = '{}', \
         last_error = case when status in ('queued', 'sending') then $2 else last_error end, \
         status = case when status in ('queued', 'sending') then 'failed' else status end, \
         lease_owner = null, lease_until = null where ticket_id = $1",
    )
    .bind(ticket_id)
    .bind(CANCELLED)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the bounce reports about the ticket's mail (they quote it); returns their raw messages.
pub async fn drop_bounces(conn: &mut AnyConnection, ticket_id: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar("delete from bounces where ticket_id = $1 returning raw_id")
        .bind(ticket_id)
        .fetch_all(conn)
        .await?)
}

/// The rules' run records of a ticket: `(id, actions)` (their texts name recipients).
pub async fn rule_runs_of(conn: &mut AnyConnection, ticket_id: i64) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as("select id, actions from rule_runs where ticket_id = $1").bind(ticket_id).fetch_all(conn).await?)
}

/// Replaces a rule run's action texts.
pub async fn set_rule_run_actions(conn: &mut AnyConnection, id: i64, actions: &str) -> Result<()> {
    sqlx::query("update rule_runs set actions = $2 where id = $1").bind(id).bind(actions).execute(conn).await?;
    Ok(())
}

/// Rewrites an event of the history (its actor, text and data) with what was erased taken out.
pub async fn rewrite_event(conn: &mut AnyConnection, id: i64, actor: &str, detail: &str, data: &str) -> Result<()> {
    sqlx::query("update ticket_events set actor = $2, detail = $3, data = $4 where id = $1")
        .bind(id)
        .bind(actor)
        .bind(detail)
        .bind(data)
        .execute(conn)
        .await?;
    Ok(())
}

/// The setting that names the portal logo's blob (`{content type} {sha256}`; the portal's `LOGO_KEY`).
const LOGO_SETTING: &str = "portal.logo";

/// Whether any row still refers to the blob `sha256`: raw mail, an attachment, the portal logo.
pub async fn blob_in_use(conn: &mut AnyConnection, sha256: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "select (select count(*) from raw_messages where sha256 = $1) + (select count(*) from attachments where sha256 = $1) \
         + (select count(*) from settings where key = $2 and value like $3)",
    )
    .bind(sha256)
    .bind(LOGO_SETTING)
    .bind(format!("% {sha256}"))
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}
