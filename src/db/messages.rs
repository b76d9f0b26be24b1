//! Messages of a ticket, their attachments, and the ticket's event history.

use super::search_text::search_document;
use super::{Db, Result};
use sqlx::any::AnyArguments;
use sqlx::{Any, AnyConnection};

pub use super::customer_mail::{LastCustomerMail, last_customer_mail, last_customer_mails};
pub use super::message_lookup::{ticket_of_digest, ticket_of_message_id, tickets_of_digests, tickets_of_message_ids};

/// A message as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub ticket_id: i64,
    #[sqlx(try_from = "String")]
    pub kind: crate::domain::MessageKind,
    pub from_addr: String,
    pub from_name: String,
    pub to_json: String,
    pub cc_json: String,
    pub subject: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub refs: String,
    pub visible_text: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub auto: i64,
    pub verified: Option<i64>,
    pub flags: String,
    pub author_id: Option<i64>,
    pub created_at: i64,
}

/// Fields of a new message.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub ticket_id: i64,
    pub kind: crate::domain::MessageKind,
    pub mailbox_id: Option<i64>,
    pub raw_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub author_id: Option<i64>,
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
    pub auto: bool,
    pub verified: Option<bool>,
    pub flags: String,
    pub content_digest: Option<String>,
    pub sent_at: Option<i64>,
    pub created_at: i64,
}

/// An attachment as stored (its bytes live in the blob store under `sha256`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: i64,
    pub message_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub content_id: Option<String>,
    pub inline: i64,
}

/// Fields of a new attachment.
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub content_id: Option<&'a str>,
    pub inline: bool,
}

const INSERT_COLUMNS: &str = "ticket_id, kind, mailbox_id, raw_id, customer_id, author_id, from_addr, from_name, \
     to_json, cc_json, reply_to, subject, message_id, in_reply_to, refs, visible_text, body_text, body_html, auto, \
     verified, flags, content_digest, sent_at, created_at";

/// Values per row of [`INSERT_COLUMNS`].
const MESSAGE_VALUES: usize = 24;

/// The columns of an insert: with the drawn `id` first, and PostgreSQL's search document last.
fn insert_columns(search: bool, with_id: bool) -> String {
    let id = if with_id { "id, " } else { "" };
    let search = if search { ", search" } else { "" };
    format!("{id}{INSERT_COLUMNS}{search}")
}

/// Values per row of [`insert_columns`].
fn row_width(search: bool, with_id: bool) -> usize {
    MESSAGE_VALUES + usize::from(search) + usize::from(with_id)
}

/// One row's placeholders from `$first` on.
fn row_values(first: usize, search: bool, with_id: bool) -> String {
    let plain = super::marks(first, row_width(false, with_id));
    match search {
        true => format!("{plain}, ${}::tsvector", first + row_width(false, with_id)),
        false => plain,
    }
}

/// The search documents of `messages` when the store keeps them in a column (PostgreSQL; SQLite's FTS5 index is
/// filled by its trigger).
fn search_documents_of<'m>(
    conn: &AnyConnection,
    messages: impl Iterator<Item = &'m NewMessage>,
) -> Option<Vec<String>> {
    (conn.backend_name() == "PostgreSQL")
        .then(|| messages.map(|m| search_document(&m.subject, &m.body_text, &m.from_addr, &m.from_name)).collect())
}

fn bind_row<'q>(
    q: sqlx::query::Query<'q, Any, AnyArguments>,
    id: Option<i64>,
    m: &'q NewMessage,
    search: Option<&'q String>,
) -> sqlx::query::Query<'q, Any, AnyArguments> {
    let q = match id {
        Some(id) => q.bind(id),
        None => q,
    };
    let q = q
        .bind(m.ticket_id)
        .bind(m.kind.as_str())
        .bind(m.mailbox_id)
        .bind(m.raw_id)
        .bind(m.customer_id)
        .bind(m.author_id)
        .bind(&m.from_addr)
        .bind(&m.from_name)
        .bind(&m.to_json)
        .bind(&m.cc_json)
        .bind(&m.reply_to)
        .bind(&m.subject)
        .bind(&m.message_id)
        .bind(&m.in_reply_to)
        .bind(&m.refs)
        .bind(&m.visible_text)
        .bind(&m.body_text)
        .bind(&m.body_html)
        .bind(i64::from(m.auto))
        .bind(m.verified.map(i64::from))
        .bind(&m.flags)
        .bind(&m.content_digest)
        .bind(m.sent_at)
        .bind(m.created_at);
    match search {
        Some(doc) => q.bind(doc),
        None => q,
    }
}

/// Inserts a message; returns its id.
pub async fn insert(conn: &mut AnyConnection, m: &NewMessage) -> Result<i64> {
    let search = search_documents_of(conn, std::iter::once(m));
    let sql = sqlx::AssertSqlSafe(format!(
        "insert into messages ({}) values ({}) returning id",
        insert_columns(search.is_some(), false),
        row_values(1, search.is_some(), false)
    ));
    let row = bind_row(sqlx::query(sql), None, m, search.as_ref().map(|s| &s[0])).fetch_one(&mut *conn).await?;
    Ok(sqlx::Row::try_get(&row, 0)?)
}

/// Inserts messages with ids drawn by [`super::draw_ids`]: one statement per 16 on PostgreSQL, per up to 256 on
/// SQLite (whose full-text index is written per statement, see [`super::halving_chunks`]).
pub async fn insert_all(conn: &mut AnyConnection, rows: &[(i64, NewMessage)]) -> Result<()> {
    let chunks: Vec<&[(i64, NewMessage)]> = match conn.backend_name() == "PostgreSQL" {
        true => super::insert_chunks(rows, 16).collect(),
        false => super::halving_chunks(rows, 256),
    };
    for chunk in chunks {
        let search = search_documents_of(conn, chunk.iter().map(|(_, m)| m));
        let pg = search.is_some();
        let sql = super::wide_sql(conn, "messages", chunk.len(), || {
            let width = row_width(pg, true);
            let values: Vec<String> =
                (0..chunk.len()).map(|i| format!("({})", row_values(i * width + 1, pg, true))).collect();
            format!("insert into messages ({}) values {}", insert_columns(pg, true), values.join(", "))
        });
        let mut q = sqlx::query(sql);
        for (i, (id, m)) in chunk.iter().enumerate() {
            q = bind_row(q, Some(*id), m, search.as_ref().map(|s| &s[i]));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts attachment rows `(message id, attachment)`; one statement per 32.
pub async fn insert_attachments(conn: &mut AnyConnection, rows: &[(i64, NewAttachment<'_>)], now: i64) -> Result<()> {
    for chunk in super::insert_chunks(rows, 32) {
        let sql = super::wide_sql(conn, "attachments", chunk.len(), || {
            let values: Vec<String> = (0..chunk.len()).map(|i| format!("({})", super::marks(8 * i + 1, 8))).collect();
            format!(
                "insert into attachments (message_id, filename, content_type, size, sha256, content_id, inline, \
                 created_at) values {}",
                values.join(", ")
            )
        });
        let mut q = sqlx::query(sql);
        for (message, a) in chunk {
            q = q
                .bind(*message)
                .bind(a.filename)
                .bind(a.content_type)
                .bind(a.size)
                .bind(a.sha256)
                .bind(a.content_id)
                .bind(i64::from(a.inline))
                .bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts an attachment row of a message.
pub async fn insert_attachment(
    conn: &mut AnyConnection,
    message_id: i64,
    a: &NewAttachment<'_>,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "insert into attachments (message_id, filename, content_type, size, sha256, content_id, inline, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
    )
    .bind(message_id)
    .bind(a.filename)
    .bind(a.content_type)
    .bind(a.size)
    .bind(a.sha256)
    .bind(a.content_id)
    .bind(i64::from(a.inline))
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

/// An [`AttachmentRow`] read from `attachments` alone.
const ATTACHMENT_SELECT: &str =
    "select id, message_id, filename, content_type, size, sha256, content_id, inline from attachments";

const SELECT: &str = "select id, ticket_id, kind, from_addr, from_name, to_json, cc_json, subject, message_id, in_reply_to, refs, \
     visible_text, body_text, body_html, auto, verified, flags, author_id, created_at from messages";

impl Db {
    /// The messages of a ticket, oldest first.
    pub async fn messages(&self, ticket_id: i64) -> Result<Vec<MessageRow>> {
        let sql = sqlx::AssertSqlSafe(format!("{SELECT} where ticket_id = $1 order by id"));
        Ok(sqlx::query_as(sql).bind(ticket_id).fetch_all(self.pool()).await?)
    }

    /// One message, by id.
    pub async fn message(&self, id: i64) -> Result<Option<MessageRow>> {
        let sql = sqlx::AssertSqlSafe(format!("{SELECT} where id = $1"));
        Ok(sqlx::query_as(sql).bind(id).fetch_optional(self.pool()).await?)
    }

    /// The attachments of one message.
    pub async fn message_attachments(&self, message_id: i64) -> Result<Vec<AttachmentRow>> {
        let sql = sqlx::AssertSqlSafe(format!("{ATTACHMENT_SELECT} where message_id = $1 order by id"));
        Ok(sqlx::query_as(sql).bind(message_id).fetch_all(self.pool()).await?)
    }

    /// The attachments of a ticket's messages.
    pub async fn ticket_attachments(&self, ticket_id: i64) -> Result<Vec<AttachmentRow>> {
        Ok(sqlx::query_as(
            "select a.id, a.message_id, a.filename, a.content_type, a.size, a.sha256, a.content_id, a.inline \
             from attachments a join messages m on m.id = a.message_id where m.ticket_id = $1 order by a.id",
        )
        .bind(ticket_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// The mailbox of the ticket an attachment belongs to.
    pub async fn attachment_mailbox(&self, id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "select t.mailbox_id from attachments a join messages m on m.id = a.message_id join tickets t on t.id = m.ticket_id \
             where a.id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// One attachment.
    pub async fn attachment(&self, id: i64) -> Result<Option<AttachmentRow>> {
        let sql = sqlx::AssertSqlSafe(format!("{ATTACHMENT_SELECT} where id = $1"));
        Ok(sqlx::query_as(sql).bind(id).fetch_optional(self.pool()).await?)
    }
}
