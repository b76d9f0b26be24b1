//! Agent replies (mail to the customer) and internal notes.

use super::{TicketError, Tickets, with_signature};
use crate::db::{self, UserRow, messages::NewAttachment, messages::NewMessage};
use crate::domain::Status;
use crate::outbound::compose::{Draft, last_customer_mail, mailbox_of};
use crate::outbound::context::message_json;
use crate::platform::storage::sha256_hex;
use sqlx::AnyConnection;

/// An uploaded file, its name and type cleaned like an inbound attachment's (see [`NewFile::new`]).
#[derive(Debug, Clone)]
pub struct NewFile {
    filename: String,
    content_type: String,
    data: Vec<u8>,
}

impl NewFile {
    /// A file as the `index`-th upload: the name loses paths and control characters (a fallback name when nothing
    /// is left); `Err` when the content type is not a MIME type.
    pub fn new(filename: &str, content_type: &str, index: usize, data: Vec<u8>) -> Result<Self, String> {
        let content_type = crate::domain::file_name::content_type(content_type)?;
        let filename = crate::domain::file_name::file_name(filename, &content_type, index);
        Ok(Self { filename, content_type, data })
    }

    /// Like [`NewFile::new`], but a content type that is not a MIME type becomes `application/octet-stream`
    /// (browsers and mail clients send what the file's extension suggests; the file is worth keeping).
    pub fn lenient(filename: &str, content_type: &str, index: usize, data: Vec<u8>) -> Self {
        let content_type = crate::domain::file_name::content_type(content_type)
            .unwrap_or_else(|_| mime::APPLICATION_OCTET_STREAM.to_string());
        let filename = crate::domain::file_name::file_name(filename, &content_type, index);
        Self { filename, content_type, data }
    }

    pub fn filename(&self) -> &str {
        &self.filename
    }

    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// A reply or note as an agent wrote it.
#[derive(Debug, Clone, Default)]
pub struct ReplyInput {
    pub body: String,
    pub attachments: Vec<NewFile>,
    /// The status after the reply (default: pending).
    pub status: Option<Status>,
    /// Recipients instead of the requester / the Cc participants.
    pub to: Option<Vec<String>>,
    pub cc: Option<Vec<String>>,
    /// `(user id, key)` of an `Idempotency-Key`.
    pub idempotency: Option<(i64, String)>,
    /// For mail-borne agent actions: whether the sender was verified.
    pub verified: Option<bool>,
    /// For mail-borne agent actions: the raw message it came in.
    pub raw_id: Option<i64>,
    /// For mail-borne agent actions: the content digest, so a second delivery (another mailbox) is a duplicate.
    pub content_digest: Option<String>,
    /// For notes from mail: the sender address as written (may differ from the author's), and the full text.
    pub from_addr: Option<String>,
    pub full_text: Option<String>,
}

impl Tickets {
    /// Stores the agent's reply on the ticket and queues it to the customer; returns the message id.
    pub async fn reply(&self, number: i64, author: &UserRow, input: ReplyInput) -> Result<i64, TicketError> {
        self.write(number, author, input, Written::Reply).await
    }

    /// Stores an internal note (never mailed); returns the message id.
    pub async fn note(&self, number: i64, author: &UserRow, input: ReplyInput) -> Result<i64, TicketError> {
        self.write(number, author, input, Written::Note).await
    }

    /// Files first, then the message with its idempotency key in one transaction.
    async fn write(
        &self,
        number: i64,
        author: &UserRow,
        mut input: ReplyInput,
        what: Written,
    ) -> Result<i64, TicketError> {
        // PostgreSQL text cannot hold NUL, and no reader wants it (API, forms and mail alike).
        if input.body.contains('\0') {
            input.body = input.body.replace('\0', "");
        }
        let ticket = self.ticket(number).await?;
        store_files(&self.blobs, &input.attachments).await?;
        let now = crate::domain::now();
        let mut tx = self.db.begin().await?;
        claim_key(&mut tx, &input.idempotency, now).await?;
        let message_id = match what {
            Written::Reply => write_reply(&mut tx, &self.composer, &ticket, author, &input, now).await?,
            Written::Note => write_note(&mut tx, &ticket, author, &input, now).await?,
        };
        finish_key(&mut tx, &input.idempotency, message_id).await?;
        tx.commit().await.map_err(DbErrorExt::db)?;
        if what == Written::Reply {
            // Replying and resolving at once sends only the reply (no separate "resolved" notice).
            self.composer.wake();
        }
        Ok(message_id)
    }
}

/// What an agent writes on a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    Reply,
    Note,
}

/// The reply inside the caller's transaction (files already in the blob store): message, attachments,
/// the outgoing mail, history and status. Used by the API, the dashboard and agents replying by mail.
pub async fn write_reply(
    conn: &mut AnyConnection,
    composer: &crate::outbound::Composer,
    ticket: &db::TicketRow,
    author: &UserRow,
    input: &ReplyInput,
    now: i64,
) -> Result<i64, TicketError> {
    let body = input.body.trim();
    if body.is_empty() && input.attachments.is_empty() {
        return Err(TicketError::Invalid("body: a reply needs text or an attachment".into()));
    }
    let mailbox = mailbox_of(conn, ticket).await?;
    let last = last_customer_mail(conn, ticket.id).await?;
    let default_to = last
        .as_ref()
        .filter(|l| !l.reply_to.is_empty())
        .map(|l| l.reply_to.clone())
        .unwrap_or(ticket.requester_email.clone());
    let to: Vec<String> = input.to.clone().unwrap_or_else(|| vec![default_to]);
    let cc: Vec<String> = match &input.cc {
        Some(cc) => cc.clone(),
        None => db::customers::participants(&mut *conn, ticket.id)
            .await?
            .into_iter()
            .filter(|(_, r)| r == "cc")
            .map(|(c, _)| c.email)
            .collect(),
    };
    validate_addresses(&to, &cc)?;
    let header_id = composer.new_message_id(ticket.number, &mailbox);
    let new = NewMessage {
        ticket_id: ticket.id,
        kind: "agent",
        mailbox_id: Some(mailbox.id),
        raw_id: input.raw_id,
        author_id: Some(author.id),
        from_addr: author.email.clone(),
        from_name: author.name.clone(),
        to_json: serde_json::to_string(&to).unwrap_or_default(),
        cc_json: serde_json::to_string(&cc).unwrap_or_default(),
        subject: format!("Re: [#{}] {}", ticket.number, crate::outbound::clean_subject(&ticket.subject)),
        message_id: Some(header_id.clone()),
        in_reply_to: last.as_ref().and_then(|l| l.message_id.clone()),
        visible_text: body.to_string(),
        body_text: with_signature(body, &author.signature),
        verified: input.verified,
        content_digest: input.content_digest.clone(),
        created_at: now,
        ..Default::default()
    };
    let message_id = db::messages::insert(conn, &new).await?;
    insert_files(conn, message_id, &input.attachments, now).await?;
    let draft = Draft {
        kind: "agent_reply",
        ticket,
        mailbox: &mailbox,
        to: to.iter().map(|a| (name_for(a, ticket), a.clone())).collect(),
        cc: cc.iter().map(|a| (String::new(), a.clone())).collect(),
        reply_to: composer.customer_reply_to(&mailbox, ticket.number),
        agent: Some(author),
        from_name: format!("{} ({})", author.name, crate::outbound::Composer::team_name(&mailbox)),
        message: message_json(body, &author.name, &author.email, now),
        auto_submitted: None,
        threading: last.as_ref(),
        message_row: Some(message_id),
        attachments: input
            .attachments
            .iter()
            .map(|f| (f.filename.clone(), f.content_type.clone(), f.data.clone()))
            .collect(),
        message_id: Some(header_id),
    };
    composer.enqueue(conn, draft, now).await?;
    let status = input.status.unwrap_or(Status::Pending);
    db::messages::insert_event(
        &mut *conn,
        ticket.id,
        &author.email,
        "reply",
        &format!("replied to {}", to.join(", ")),
        now,
    )
    .await?;
    super::update::record_status(conn, ticket, status, &author.email, now).await?;
    db::tickets::touch(&mut *conn, ticket.id, Some(status), now).await?;
    Ok(message_id)
}

/// The internal note inside the caller's transaction; a `new` ticket becomes `open`.
pub async fn write_note(
    conn: &mut AnyConnection,
    ticket: &db::TicketRow,
    author: &UserRow,
    input: &ReplyInput,
    now: i64,
) -> Result<i64, TicketError> {
    let body = input.body.trim();
    if body.is_empty() && input.attachments.is_empty() {
        return Err(TicketError::Invalid("body: a note needs text or an attachment".into()));
    }
    let new = NewMessage {
        ticket_id: ticket.id,
        kind: "note",
        raw_id: input.raw_id,
        author_id: Some(author.id),
        from_addr: input.from_addr.clone().unwrap_or_else(|| author.email.clone()),
        from_name: author.name.clone(),
        subject: ticket.subject.clone(),
        visible_text: body.to_string(),
        body_text: input.full_text.clone().unwrap_or_else(|| body.to_string()),
        verified: input.verified,
        content_digest: input.content_digest.clone(),
        created_at: now,
        ..Default::default()
    };
    let message_id = db::messages::insert(conn, &new).await?;
    insert_files(conn, message_id, &input.attachments, now).await?;
    let opened = (ticket.status == Status::New.as_str()).then_some(Status::Open);
    if let Some(s) = opened {
        super::update::record_status(conn, ticket, s, &author.email, now).await?;
    }
    db::tickets::touch(&mut *conn, ticket.id, opened, now).await?;
    Ok(message_id)
}

/// Writes uploaded files to the blob store and syncs them before the transaction that names them.
pub(super) async fn store_files(blobs: &crate::platform::storage::BlobStore, files: &[NewFile]) -> Result<(), TicketError> {
    if files.is_empty() {
        return Ok(());
    }
    let blobs = blobs.clone();
    let files: Vec<(String, Vec<u8>)> = files.iter().map(|f| (sha256_hex(&f.data), f.data.clone())).collect();
    tokio::task::spawn_blocking(move || {
        for (sha, data) in &files {
            blobs.put(sha, data)?;
        }
        blobs.sync()
    })
    .await
    .map_err(|e| TicketError::Storage(std::io::Error::other(e)))??;
    Ok(())
}

fn name_for(address: &str, ticket: &db::TicketRow) -> String {
    if address.eq_ignore_ascii_case(&ticket.requester_email) { ticket.requester_name.clone() } else { String::new() }
}

fn validate_addresses(to: &[String], cc: &[String]) -> Result<(), TicketError> {
    if to.is_empty() {
        return Err(TicketError::Invalid("to: at least one recipient is needed".into()));
    }
    for a in to.iter().chain(cc) {
        if crate::domain::EmailAddress::parse(a).is_err() {
            return Err(TicketError::Invalid(format!("{a:?} is not a valid e-mail address")));
        }
    }
    Ok(())
}

pub(super) async fn insert_files(
    conn: &mut AnyConnection,
    message_id: i64,
    files: &[NewFile],
    now: i64,
) -> Result<(), TicketError> {
    for f in files {
        let sha = sha256_hex(&f.data);
        let a = NewAttachment {
            filename: &f.filename,
            content_type: &f.content_type,
            size: f.data.len() as i64,
            sha256: &sha,
            content_id: None,
            inline: false,
        };
        db::messages::insert_attachment(conn, message_id, &a, now).await?;
    }
    Ok(())
}

pub(super) async fn claim_key(
    conn: &mut AnyConnection,
    key: &Option<(i64, String)>,
    now: i64,
) -> Result<(), TicketError> {
    if let Some((user, key)) = key
        && !db::idempotency::claim_idempotency_key(conn, *user, key, now).await?
    {
        let prior = db::idempotency::idempotent_response(conn, *user, key).await?;
        return Err(TicketError::Duplicate(prior.parse().unwrap_or(0)));
    }
    Ok(())
}

pub(super) async fn finish_key(
    conn: &mut AnyConnection,
    key: &Option<(i64, String)>,
    message_id: i64,
) -> Result<(), TicketError> {
    if let Some((user, key)) = key {
        db::idempotency::store_idempotent_response(conn, *user, key, &message_id.to_string()).await?;
    }
    Ok(())
}

/// `sqlx::Error` into the action error, through the store's mapping.
trait DbErrorExt {
    fn db(self) -> TicketError;
}

impl DbErrorExt for sqlx::Error {
    fn db(self) -> TicketError {
        TicketError::Db(self.into())
    }
}
