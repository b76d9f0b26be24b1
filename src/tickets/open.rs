//! An agent opens a ticket to a customer: the ticket, its participants and the first (outbound) message, in one transaction.

use super::files::{claim_key, finish_key, insert_files, store_files};
use super::{NewFile, TicketError, Tickets, record, with_signature};
use crate::db::{self, MailboxRow, UserRow, messages::NewMessage, tickets::NewTicket};
use crate::domain::{Channel, DisplayName, EmailAddress, MessageKind, Status, TemplateKind, TicketEvent, is_ours};
use crate::outbound::{FromName, MailIntent, MessageText};
use sqlx::AnyConnection;

/// A new ticket as the agent wrote it.
#[derive(Debug, Clone, Default)]
pub struct OpenInput {
    pub customer_email: String,
    pub customer_name: String,
    /// The mailbox the message is sent from (it must be able to send).
    pub mailbox_id: i64,
    pub subject: String,
    pub body: String,
    pub cc: Vec<String>,
    /// The status after sending (default: pending).
    pub status: Option<Status>,
    pub attachments: Vec<NewFile>,
    /// `(user id, key)`: a repeated submission answers [`TicketError::Duplicate`] with the ticket number.
    pub idempotency: Option<(i64, String)>,
}

/// What [`Tickets::open_ticket`] checked: the parsed addresses and the sending mailbox.
struct Checked {
    customer: String,
    cc: Vec<String>,
    mailbox: MailboxRow,
}

impl Tickets {
    /// Creates a ticket with `author`'s message as its first, queued to the customer; returns the ticket number.
    /// Invalid input is `TicketError::Invalid("field: why")` (fields `email`, `mailbox`, `subject`, `body`, `cc`).
    pub async fn open_ticket(&self, author: &UserRow, mut input: OpenInput) -> Result<i64, TicketError> {
        // A subject is one line; neither it nor the body may hold NUL (PostgreSQL text cannot).
        input.subject = input.subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        input.body = input.body.replace('\0', "");
        let checked = self.check_open(author, &input).await?;
        store_files(&self.blobs, &input.attachments).await?;
        let now = crate::domain::now();
        let mut tx = self.db.begin().await?;
        // Prefixed, so a key reused for a reply on the new ticket does not collide.
        let key = input.idempotency.as_ref().map(|(user, key)| (*user, format!("open:{key}")));
        claim_key(&mut tx, &key, now).await?;
        let (number, mail) = self.write_open(&mut tx, author, &input, &checked, now).await?;
        finish_key(&mut tx, &key, number).await?;
        self.queue(&mut tx, mail, now).await?;
        tx.commit().await?;
        self.composer.wake();
        Ok(number)
    }

    async fn check_open(&self, author: &UserRow, input: &OpenInput) -> Result<Checked, TicketError> {
        let invalid = |m: &str| TicketError::Invalid(m.to_string());
        let customer = EmailAddress::parse(input.customer_email.trim())
            .map_err(|_| invalid("email: enter the customer's e-mail address"))?;
        let ours: Vec<EmailAddress> = db::mailboxes::addresses(self.db.pool())
            .await?
            .iter()
            .filter_map(|a| EmailAddress::parse(a).ok())
            .collect();
        if is_ours(&customer, &ours) {
            return Err(invalid("email: that is one of our own mailboxes"));
        }
        let mut cc = Vec::new();
        for a in &input.cc {
            let e = EmailAddress::parse(a)
                .map_err(|_| TicketError::Invalid(format!("cc: {a:?} is not an e-mail address")))?;
            if e != customer && !cc.contains(&e.as_str().to_string()) {
                cc.push(e.as_str().to_string());
            }
        }
        let mailbox = self.db.mailboxes().await?.into_iter().find(|m| m.id == input.mailbox_id);
        let mailbox =
            mailbox.filter(MailboxRow::can_send).ok_or_else(|| invalid("mailbox: choose a mailbox that can send"))?;
        if !self.db.can_see(author, mailbox.id).await? {
            return Err(invalid("mailbox: choose a mailbox of your teams"));
        }
        if input.subject.trim().is_empty() {
            return Err(invalid("subject: a new ticket needs a subject"));
        }
        if input.body.trim().is_empty() {
            return Err(invalid("body: write the message to the customer"));
        }
        Ok(Checked { customer: customer.as_str().to_string(), cc, mailbox })
    }

    /// Ticket, participants, creation event, the agent message with its files, and the status; returns the ticket
    /// number and the mail to queue (the message to the customer).
    async fn write_open(
        &self,
        tx: &mut AnyConnection,
        author: &UserRow,
        input: &OpenInput,
        c: &Checked,
        now: i64,
    ) -> Result<(i64, Vec<MailIntent>), TicketError> {
        let requester = db::customers::upsert(tx, &c.customer, &DisplayName::new(&input.customer_name), now).await?;
        let subject = input.subject.trim();
        let new = NewTicket { mailbox_id: c.mailbox.id, subject, requester_id: requester, parent_ticket_id: None, now };
        let (ticket_id, number) = db::tickets::insert(tx, &new).await?;
        db::customers::add_participant(&mut *tx, ticket_id, requester, "requester").await?;
        for a in &c.cc {
            let id = db::customers::upsert(tx, a, &DisplayName::default(), now).await?;
            db::customers::add_participant(&mut *tx, ticket_id, id, "cc").await?;
        }
        let actor = author.actor();
        let created = TicketEvent::TicketCreated {
            channel: Channel::Agent,
            mailbox: c.mailbox.address.clone(),
            requester: c.customer.clone(),
        };
        record(tx, ticket_id, &actor, &created, now).await?;
        let ticket = db::tickets::by_id(&mut *tx, ticket_id).await?.ok_or(TicketError::NotFound)?;
        let header_id = self.composer.new_message_id(number, &c.mailbox);
        let body = input.body.trim();
        let message = NewMessage {
            ticket_id,
            kind: MessageKind::Agent,
            mailbox_id: Some(c.mailbox.id),
            author_id: Some(author.id),
            from_addr: author.email.clone(),
            from_name: author.name.clone(),
            to_json: serde_json::to_string(&[&c.customer]).unwrap_or_default(),
            cc_json: serde_json::to_string(&c.cc).unwrap_or_default(),
            subject: format!("[#{number}] {}", crate::outbound::clean_subject(subject)),
            message_id: Some(header_id.clone()),
            visible_text: body.to_string(),
            body_text: with_signature(body, &author.signature),
            created_at: now,
            ..Default::default()
        };
        let message_id = db::messages::insert(tx, &message).await?;
        insert_files(tx, message_id, &input.attachments, now).await?;
        let sent = TicketEvent::ReplySent { message: message_id, to: vec![c.customer.clone()], cc: c.cc.clone() };
        record(tx, ticket_id, &actor, &sent, now).await?;
        let to = (input.customer_name.trim().to_string(), c.customer.clone());
        let mut intent = MailIntent::new(TemplateKind::AgentReply, &ticket, &c.mailbox, to);
        intent.cc = c.cc.iter().map(|a| (String::new(), a.clone())).collect();
        intent.reply_to = self.composer.customer_reply_to(&c.mailbox, number);
        intent.agent = Some(author.clone());
        intent.from = FromName::Agent(author.name.clone());
        intent.message = MessageText {
            body: body.to_string(),
            from_name: author.name.clone(),
            from_email: author.email.clone(),
            created_at: now,
            first: true,
        };
        intent.message_row = Some(message_id);
        intent.attachments = super::reply::mail_files(&input.attachments);
        intent.message_id = Some(header_id);
        super::update::record_status(tx, &ticket, input.status.unwrap_or(Status::Pending), &actor, now).await?;
        Ok((number, vec![intent]))
    }
}
