//! Agent replies (mail to the customer) and internal notes.

use super::files::{claim_key, finish_key, insert_files, store_files};
use super::{NewFile, TicketError, Tickets, record, with_signature};
use crate::db::{self, TicketRow, UserRow, messages::NewMessage};
use crate::domain::{Actor, MessageKind, Status, TemplateKind, TicketEvent};
use crate::outbound::{FromName, MailFile, MailIntent, MessageText};
use sqlx::AnyConnection;

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

/// What an agent writes on a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    Reply,
    Note,
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

    /// Files first, then the message with its idempotency key, events and mail in one transaction.
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
        let ticket = self.writable(number).await?;
        store_files(&self.blobs, &input.attachments).await?;
        let now = crate::domain::now();
        let mut tx = self.db.begin().await?;
        claim_key(&mut tx, &input.idempotency, now).await?;
        let (message_id, mail) = match what {
            Written::Reply => self.write_reply(&mut tx, &ticket, author, &input, now).await?,
            Written::Note => (self.write_note(&mut tx, &ticket, author, &input, now).await?, Vec::new()),
        };
        finish_key(&mut tx, &input.idempotency, message_id).await?;
        self.queue(&mut tx, mail, now).await?;
        tx.commit().await?;
        self.composer.wake();
        Ok(message_id)
    }

    /// The reply inside the caller's transaction (files already in the blob store): message, attachments,
    /// history and status; returns the message id and the mail to queue (the reply; replying and resolving at
    /// once sends only the reply). Used by the API, the dashboard and agents replying by mail.
    pub(crate) async fn write_reply(
        &self,
        conn: &mut AnyConnection,
        ticket: &TicketRow,
        author: &UserRow,
        input: &ReplyInput,
        now: i64,
    ) -> Result<(i64, Vec<MailIntent>), TicketError> {
        let body = input.body.trim();
        if body.is_empty() && input.attachments.is_empty() {
            return Err(TicketError::Invalid("body: a reply needs text or an attachment".into()));
        }
        let mailbox = db::mailboxes::by_id(&mut *conn, ticket.mailbox_id).await?;
        let last = db::messages::last_customer_mail(conn, ticket.id).await?;
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
        let header_id = self.composer.new_message_id(ticket.number, &mailbox);
        let new = NewMessage {
            ticket_id: ticket.id,
            kind: MessageKind::Agent,
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
        let actor = Actor::User(author.email.clone());
        let sent = TicketEvent::ReplySent { message: message_id, to: to.clone(), cc: cc.clone() };
        record(conn, ticket.id, &actor, &sent, now).await?;
        let mut intent = MailIntent::new(TemplateKind::AgentReply, ticket, &mailbox, (String::new(), String::new()));
        intent.to = to.iter().map(|a| (name_for(a, ticket), a.clone())).collect();
        intent.cc = cc.iter().map(|a| (String::new(), a.clone())).collect();
        intent.reply_to = self.composer.customer_reply_to(&mailbox, ticket.number);
        intent.agent = Some(author.clone());
        intent.from = FromName::Agent(author.name.clone());
        intent.message = MessageText {
            body: body.to_string(),
            from_name: author.name.clone(),
            from_email: author.email.clone(),
            created_at: now,
            first: false,
        };
        intent.threading = last.as_ref().and_then(super::notices::threading);
        intent.message_row = Some(message_id);
        intent.attachments = mail_files(&input.attachments);
        intent.message_id = Some(header_id);
        let status = input.status.unwrap_or(Status::Pending);
        super::update::record_status_event(conn, ticket, status, &actor, now).await?;
        db::tickets::touch(&mut *conn, ticket.id, Some(status), now).await?;
        Ok((message_id, vec![intent]))
    }

    /// The internal note inside the caller's transaction; a `new` ticket becomes `open`.
    pub(crate) async fn write_note(
        &self,
        conn: &mut AnyConnection,
        ticket: &TicketRow,
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
            kind: MessageKind::Note,
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
        let actor = Actor::User(author.email.clone());
        record(conn, ticket.id, &actor, &TicketEvent::NoteAdded { message: message_id, verified: input.verified }, now)
            .await?;
        let opened = (ticket.status == Status::New).then_some(Status::Open);
        if let Some(s) = opened {
            super::update::record_status_event(conn, ticket, s, &actor, now).await?;
        }
        db::tickets::touch(&mut *conn, ticket.id, opened, now).await?;
        Ok(message_id)
    }
}

/// The files as the mail carries them.
pub(crate) fn mail_files(files: &[NewFile]) -> Vec<MailFile> {
    files
        .iter()
        .map(|f| MailFile {
            filename: f.filename().to_string(),
            content_type: f.content_type().to_string(),
            data: f.data().to_vec(),
        })
        .collect()
}

fn name_for(address: &str, ticket: &TicketRow) -> String {
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
