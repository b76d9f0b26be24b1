//! A batch of inbound mail written behind: the batch's customers upserted together, its new tickets and messages
//! (with ids drawn up front), attachments, participants and events kept in memory and written with a few multi-row
//! inserts, and the mail the batch causes decided once everything is written. Whoever reads what the batch may have pending
//! (a Message-ID, participants, a raw message's disposition, the latest customer mail) flushes it first or asks
//! the batch's own index — one transaction either way, so nothing is seen half-written outside it.

use super::inbound::{Filed, TicketRef};
use super::inbound_numbers::BatchNumbers;
use super::notices::{AckLimiter, CreatedTicket, NewTicketAudience};
use super::{TicketError, Tickets, not_sent_event};
use crate::db::{
    self, DbError, DrawnIds, MailboxRow, TicketRow, messages::LastCustomerMail, messages::NewAttachment,
    messages::NewMessage, tickets::NewTicket,
};
use crate::domain::{Actor, NamedAddress, Status, TemplateKind, TicketEvent};
use crate::outbound::compose::{Composed, Composition, QueueShared};
use sqlx::AnyConnection;
use std::collections::{HashMap, VecDeque};

/// How many message or ticket ids are drawn at a time.
const ID_BLOCK: usize = 64;

/// Ids drawn for rows written behind: used in order, drawn again when none are left.
#[derive(Debug, Default)]
struct Drawn {
    ids: VecDeque<i64>,
    /// The last id drawn, used or not (new ids come after it).
    last: i64,
}

impl Drawn {
    async fn next(&mut self, conn: &mut AnyConnection, table: DrawnIds) -> Result<i64, DbError> {
        if self.ids.is_empty() {
            self.ids.extend(db::draw_ids(conn, table, ID_BLOCK, self.last).await?);
            self.last = self.ids.back().copied().unwrap_or(self.last);
        }
        Ok(self.ids.pop_front().expect("ids were drawn"))
    }
}

/// A new ticket waiting to be written (status `new`, priority `normal`, its first message queued with it).
#[derive(Debug, Clone)]
struct PendingTicket {
    id: i64,
    number: i64,
    mailbox_id: i64,
    subject: String,
    requester_id: i64,
    parent_ticket_id: Option<i64>,
    now: i64,
}

/// An attachment row waiting for its message.
#[derive(Debug, Clone)]
struct PendingFile {
    message: i64,
    filename: String,
    content_type: String,
    size: i64,
    sha256: String,
    content_id: Option<String>,
    inline: bool,
}

/// The mail a filed message may cause, decided after the batch is written.
#[derive(Debug, Clone, Copy)]
struct Notice {
    ticket_id: i64,
    filed: Filed,
    suppress_ack: bool,
}

/// What one batch of inbound mail has filed but not yet written.
#[derive(Debug, Default)]
pub struct InboundBatch {
    message_ids_drawn: Drawn,
    ticket_ids_drawn: Drawn,
    customers: HashMap<String, i64>,
    tickets: Vec<PendingTicket>,
    messages: Vec<(i64, NewMessage)>,
    files: Vec<PendingFile>,
    participants: Vec<(i64, i64, &'static str)>,
    events: Vec<(i64, Actor, TicketEvent)>,
    /// New messages per ticket whose count and last activity wait to be written.
    touched: HashMap<i64, i64>,
    /// Message-ID → ticket id of this batch's messages, pending or written (the newest of each Message-ID).
    message_ids: HashMap<String, i64>,
    notices: Vec<Notice>,
    /// New tickets' numbers: provisional until the tickets are written.
    numbers: BatchNumbers,
    now: i64,
}

impl InboundBatch {
    /// A batch whose mail comes from and is copied to `people`: they become (or are) customers in one statement.
    pub async fn begin<'p>(
        conn: &mut AnyConnection,
        people: impl IntoIterator<Item = &'p NamedAddress>,
        now: i64,
    ) -> Result<Self, DbError> {
        let mut unique: Vec<(&str, &str)> = Vec::new();
        for p in people {
            match unique.iter_mut().find(|(e, _)| *e == p.email.as_str()) {
                Some((_, name)) if name.is_empty() => *name = p.name.as_str(),
                Some(_) => {}
                None => unique.push((p.email.as_str(), p.name.as_str())),
            }
        }
        let customers = db::customers::upsert_all(conn, &unique, now).await?;
        Ok(Self { customers, now, ..Self::default() })
    }

    /// A batch that knows no customer yet (they are upserted as they come).
    pub fn empty(now: i64) -> Self {
        Self { now, ..Self::default() }
    }

    /// The customer id of `person` (upserted now when the batch did not know them).
    pub(crate) async fn customer(&mut self, conn: &mut AnyConnection, person: &NamedAddress) -> Result<i64, DbError> {
        if let Some(id) = self.customers.get(person.email.as_str()) {
            return Ok(*id);
        }
        let id = db::customers::upsert(conn, person.email.as_str(), &person.name, self.now).await?;
        self.customers.insert(person.email.to_string(), id);
        Ok(id)
    }

    /// Queues a message; returns its id.
    pub(crate) async fn message(&mut self, conn: &mut AnyConnection, m: NewMessage) -> Result<i64, DbError> {
        let id = self.message_ids_drawn.next(conn, DrawnIds::Messages).await?;
        if let Some(mid) = &m.message_id {
            self.message_ids.insert(mid.clone(), m.ticket_id);
        }
        self.messages.push((id, m));
        Ok(id)
    }

    /// Queues a new ticket; returns its `(id, number)`, the number provisional (see [`BatchNumbers`]). Until the
    /// batch is flushed only the batch knows the ticket: see [`InboundBatch::pending_ticket`].
    pub(crate) async fn ticket(&mut self, conn: &mut AnyConnection, t: &NewTicket<'_>) -> Result<(i64, i64), DbError> {
        let number = self.numbers.provisional();
        let id = self.ticket_ids_drawn.next(conn, DrawnIds::Tickets).await?;
        self.tickets.push(PendingTicket {
            id,
            number,
            mailbox_id: t.mailbox_id,
            subject: t.subject.to_string(),
            requester_id: t.requester_id,
            parent_ticket_id: t.parent_ticket_id,
            now: t.now,
        });
        Ok((id, number))
    }

    /// A ticket this batch created and has not written yet (it is `new`, with no other change).
    pub fn pending_ticket(&self, id: i64) -> Option<TicketRef> {
        self.pending_where(|t| t.id == id)
    }

    fn pending_where(&self, found: impl Fn(&PendingTicket) -> bool) -> Option<TicketRef> {
        let t = self.tickets.iter().find(|t| found(t))?;
        Some(TicketRef { id: t.id, number: t.number, status: Status::New })
    }

    /// The real numbers of the provisional ones this batch handed out (filed outcomes carry provisional ones).
    pub fn into_numbers(self) -> BatchNumbers {
        self.numbers
    }

    /// Queues one more message on a ticket (its count and last activity).
    pub(crate) fn touch(&mut self, ticket: i64) {
        *self.touched.entry(ticket).or_default() += 1;
    }

    /// Queues an attachment row of a queued message.
    pub(crate) fn file(&mut self, message: i64, a: &NewAttachment<'_>) {
        self.files.push(PendingFile {
            message,
            filename: a.filename.to_string(),
            content_type: a.content_type.to_string(),
            size: a.size,
            sha256: a.sha256.to_string(),
            content_id: a.content_id.map(str::to_string),
            inline: a.inline,
        });
    }

    /// Queues a participant of a ticket.
    pub(crate) fn participant(&mut self, ticket: i64, customer: i64, role: &'static str) {
        self.participants.push((ticket, customer, role));
    }

    /// Queues an event (events keep the order they were queued in).
    pub(crate) fn event(&mut self, ticket: i64, actor: Actor, e: TicketEvent) {
        self.events.push((ticket, actor, e));
    }

    pub(crate) fn notice(&mut self, ticket_id: i64, filed: Filed, suppress_ack: bool) {
        self.notices.push(Notice { ticket_id, filed, suppress_ack });
    }

    /// The ticket id of this batch's (newest) message with this Message-ID, pending or written.
    pub fn pending_ticket_of(&self, id: &str) -> Option<i64> {
        self.message_ids.get(id).copied()
    }

    /// Whether anything waits to be written.
    pub fn is_pending(&self) -> bool {
        !self.messages.is_empty()
            || !self.tickets.is_empty()
            || !self.events.is_empty()
            || !self.participants.is_empty()
            || !self.touched.is_empty()
    }

    /// Writes everything pending. On SQLite, ids drawn but unused are let go: rows inserted in between take
    /// the next ids themselves.
    pub async fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), DbError> {
        if !self.is_pending() {
            return Ok(());
        }
        self.draw_numbers(conn).await?;
        self.flush_tickets(conn).await?;
        db::messages::insert_all(conn, &self.messages).await?;
        let files: Vec<(i64, NewAttachment<'_>)> = self
            .files
            .iter()
            .map(|f| {
                let a = NewAttachment {
                    filename: &f.filename,
                    content_type: &f.content_type,
                    size: f.size,
                    sha256: &f.sha256,
                    content_id: f.content_id.as_deref(),
                    inline: f.inline,
                };
                (f.message, a)
            })
            .collect();
        db::messages::insert_attachments(conn, &files, self.now).await?;
        db::customers::add_participants(conn, &self.participants).await?;
        db::events::insert_many(conn, &self.events, self.now).await?;
        let mut touched: Vec<(i64, i64)> = self.touched.drain().collect();
        touched.sort_unstable();
        db::tickets::touch_all(conn, &touched, self.now).await?;
        self.messages.clear();
        self.files.clear();
        self.participants.clear();
        self.events.clear();
        if conn.backend_name() != "PostgreSQL" {
            self.message_ids_drawn = Drawn::default();
            self.ticket_ids_drawn = Drawn::default();
        }
        Ok(())
    }

    /// Gives the pending tickets their real numbers, and the events that name them.
    async fn draw_numbers(&mut self, conn: &mut AnyConnection) -> Result<(), DbError> {
        let provisional: Vec<i64> = self.tickets.iter().map(|t| t.number).filter(|n| *n < 0).collect();
        if provisional.is_empty() {
            return Ok(());
        }
        self.numbers.draw(conn, &provisional).await?;
        for t in &mut self.tickets {
            t.number = self.numbers.real(t.number);
        }
        for (_, _, e) in &mut self.events {
            if let TicketEvent::FollowUp { ticket } = e {
                *ticket = self.numbers.real(*ticket);
            }
        }
        Ok(())
    }

    /// Writes the new tickets, before anything that refers to them.
    async fn flush_tickets(&mut self, conn: &mut AnyConnection) -> Result<(), DbError> {
        let rows: Vec<(i64, i64, NewTicket<'_>)> = self
            .tickets
            .iter()
            .map(|t| {
                let new = NewTicket {
                    mailbox_id: t.mailbox_id,
                    subject: &t.subject,
                    requester_id: t.requester_id,
                    parent_ticket_id: t.parent_ticket_id,
                    now: t.now,
                };
                (t.id, t.number, new)
            })
            .collect();
        db::tickets::insert_all(conn, &rows).await?;
        self.tickets.clear();
        Ok(())
    }
}

impl Tickets {
    /// Writes what the batch has pending and queues the mail its messages cause (acknowledgements, notices).
    pub async fn finish_inbound(
        &self,
        conn: &mut AnyConnection,
        batch: &mut InboundBatch,
        mailbox: &MailboxRow,
    ) -> Result<(), TicketError> {
        batch.flush(conn).await?;
        let notices = std::mem::take(&mut batch.notices);
        if notices.is_empty() || !mailbox.can_send() {
            return Ok(());
        }
        // Read once for the batch, not per mail: a batch of 500 new tickets queues 500 acknowledgements. Queueing
        // changes none of it (no ticket row, no customer message).
        let mut shared = QueueShared::read(conn).await?;
        let mut audience = NewTicketAudience::default();
        let ids: Vec<i64> = notices.iter().map(|n| n.ticket_id).collect();
        let tickets = db::tickets::by_ids(conn, &ids).await?;
        // Nothing below links a ticket to the shop, so every mail's links can be read now.
        shared.read_links(conn, &ids).await?;
        let created: Vec<i64> =
            notices.iter().filter(|n| matches!(n.filed, Filed::Created(_))).map(|n| n.ticket_id).collect();
        let last_mails = db::messages::last_customer_mails(conn, &created).await?;
        let no_mail = LastCustomerMail::default();
        let created_rows: Vec<&TicketRow> = created.iter().filter_map(|id| tickets.get(id)).collect();
        let mut acks = AckLimiter::read(conn, &created_rows, batch.now).await?;
        let mut outbox: Vec<Composed> = Vec::new();
        // Suppressed acknowledgements and mail that could not be made: written together after the loop.
        let mut events = Vec::new();
        for n in notices {
            let t = tickets.get(&n.ticket_id).ok_or(TicketError::NotFound)?;
            let mail = match n.filed {
                Filed::Created(_) => {
                    let last = last_mails.get(&t.id).unwrap_or(&no_mail);
                    let created = CreatedTicket { ticket: t, last, suppress_ack: n.suppress_ack };
                    self.on_created(conn, created, mailbox, &mut audience, &acks, &mut events).await?
                }
                Filed::Threaded(_) => self.on_customer_replied(conn, t, mailbox).await?,
            };
            // One by one: the acknowledgement limit per recipient counts the ones made before in this batch.
            for intent in mail {
                let template = intent.template;
                match self.composer.compose(conn, intent, &shared).await? {
                    Composition::Mail(m) => {
                        if template == TemplateKind::Ack {
                            acks.queued(t.id, &m.recipients);
                        }
                        outbox.push(m);
                    }
                    Composition::NoRecipient => {}
                    Composition::NotSent(error) => {
                        events.push((t.id, Actor::System, not_sent_event(t, template, &error)))
                    }
                }
            }
        }
        db::events::insert_many(conn, &events, batch.now).await?;
        let mails: Vec<_> = outbox.iter().map(|m| (m.outbound(), m.recipients.as_slice())).collect();
        db::outbox::enqueue_all(conn, &mails, batch.now).await?;
        Ok(())
    }
}
