//! A customer's mail onto a ticket: a new ticket (or a follow-up of a closed one) or a message on the ticket it
//! answers, with participants, attachments, automatic order links, events and the mail it causes. Staff mail goes
//! to [`super::agent_mail`]. Ingest prepares the mail and decides the placement (threading rules, design §2).

use super::inbound_batch::InboundBatch;
use super::{TicketError, Tickets};
use crate::db::{self, MailboxRow, TicketRow};
use crate::domain::{Actor, EmailAddress, NamedAddress, Status, TicketEvent};
use sqlx::AnyConnection;
use std::collections::HashSet;

/// A ticket as threading sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketRef {
    pub id: i64,
    pub number: i64,
    pub status: Status,
}

impl From<&TicketRow> for TicketRef {
    fn from(t: &TicketRow) -> Self {
        Self { id: t.id, number: t.number, status: t.status }
    }
}

/// Where a mail goes, as the threading rules decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Onto this ticket; `reopen` when its status goes back to `open`.
    Thread {
        ticket: TicketRef,
        reopen: bool,
    },
    /// The ticket it answers is closed: a new ticket linked to it.
    FollowUp {
        parent: TicketRef,
    },
    New,
}

/// An attachment of an inbound mail (its bytes already in the blob store under `sha256`).
#[derive(Debug, Clone, Copy)]
pub struct InboundFile<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub content_id: Option<&'a str>,
    pub inline: bool,
    pub sha256: &'a str,
    pub data: &'a [u8],
}

/// A prepared inbound mail: parsed, classified and quote-stripped by ingest.
#[derive(Debug, Clone)]
pub struct InboundMail<'a> {
    pub raw_id: i64,
    pub from: &'a NamedAddress,
    pub to: &'a [NamedAddress],
    pub cc: &'a [NamedAddress],
    pub reply_to: Option<&'a EmailAddress>,
    pub subject: &'a str,
    pub message_id: Option<&'a str>,
    pub in_reply_to: Option<&'a str>,
    pub references: &'a [String],
    /// The new part of the mail (quoted history and signature removed).
    pub visible_text: &'a str,
    pub body_text: &'a str,
    /// Sanitised HTML.
    pub body_html: Option<&'a str>,
    /// The Date header.
    pub date: Option<i64>,
    /// Digest without trace headers: the same mail at two mailboxes is one message.
    pub digest: &'a str,
    /// Auto-reply (RFC 3834 and the like): threaded, but it changes nothing and sends nothing.
    pub auto_reply: bool,
    /// Through a mailing list: no acknowledgement.
    pub mailing_list: bool,
    /// Marked as spam or from a blocked sender: no acknowledgement.
    pub spam: bool,
    pub files: Vec<InboundFile<'a>>,
    /// A signed agent reply address among the recipients: `(ticket number, agent id)`.
    pub agent_token: Option<(i64, i64)>,
    /// A trusted `Authentication-Results` failure (DKIM/DMARC/SPF), for agent mail.
    pub auth_failure: Option<String>,
}

impl InboundMail<'_> {
    /// Automatic mail changes no status and sends nothing.
    pub fn automatic(&self) -> bool {
        self.auto_reply
    }
}

/// What ingest knows about the mailbox and the installation for one batch.
#[derive(Debug, Clone, Copy)]
pub struct InboundContext<'a> {
    pub mailbox: &'a MailboxRow,
    /// Every mailbox address of the installation (never a participant).
    pub our_addresses: &'a [EmailAddress],
    /// Active staff addresses (their mail is handled apart, and gets no acknowledgement).
    pub staff: &'a HashSet<String>,
    /// Whether the mailbox can send (else no acknowledgement or notice is composed at all).
    pub can_send: bool,
    /// The mailbox's `order_pattern`; `None` uses the default.
    pub order_pattern: Option<&'a str>,
    /// Whether the catalog holds any order (else no order is looked up for automatic links).
    pub orders_in_catalog: bool,
}

/// Where an inbound mail was filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filed {
    /// A new ticket (also a follow-up of a closed one), by number.
    Created(i64),
    /// Onto an existing ticket, by number.
    Threaded(i64),
}

impl Tickets {
    /// Files an inbound mail at `placement` inside the caller's (ingest batch) transaction and queues the mail it
    /// causes there too.
    pub async fn file_inbound(
        &self,
        conn: &mut AnyConnection,
        cx: &InboundContext<'_>,
        batch: &mut InboundBatch,
        m: &InboundMail<'_>,
        placement: Placement,
        now: i64,
    ) -> Result<Filed, TicketError> {
        let staff = cx.staff.contains(m.from.email.as_str());
        if (staff || m.agent_token.is_some()) && !m.automatic() {
            // Staff mail reads and writes the ticket directly: what the batch holds is written first.
            batch.flush(conn).await?;
            let target = self.agent_mail_target(conn, m, placement).await?;
            if let Some(filed) = self.file_agent_mail(conn, m, target, now).await? {
                return Ok(filed);
            }
        }
        let customer_id = batch.customer(conn, m.from).await?;
        let mut created = None;
        let (ticket_id, filed) = match placement {
            Placement::Thread { ticket, reopen } => {
                if reopen {
                    // Written now: later mail of the batch decides by the ticket's status.
                    db::tickets::touch(&mut *conn, ticket.id, Some(Status::Open), now).await?;
                } else {
                    batch.touch(ticket.id);
                }
                if reopen {
                    batch.event(
                        ticket.id,
                        Actor::Customer,
                        TicketEvent::StatusChanged { from: ticket.status, to: Status::Open },
                    );
                }
                (ticket.id, Filed::Threaded(ticket.number))
            }
            Placement::FollowUp { parent } => {
                let (id, number) =
                    super::inbound_store::new_ticket(conn, cx, batch, m, customer_id, Some(parent.id), now).await?;
                batch.event(id, Actor::Customer, super::inbound_store::created(cx, m));
                batch.event(parent.id, Actor::System, TicketEvent::FollowUp { ticket: number });
                batch.event(id, Actor::System, TicketEvent::FollowUpOf { ticket: parent.number });
                (id, Filed::Created(number))
            }
            Placement::New => {
                let (id, number) = super::inbound_store::new_ticket(conn, cx, batch, m, customer_id, None, now).await?;
                created = Some(super::inbound_store::created(cx, m));
                (id, Filed::Created(number))
            }
        };
        super::inbound_store::add_cc_participants(conn, cx, batch, m, ticket_id, customer_id).await?;
        super::inbound_store::insert_message(conn, cx, batch, m, ticket_id, customer_id, created, now).await?;
        if !m.automatic() && cx.orders_in_catalog {
            // Links refer to the ticket's row: a ticket the batch created is written first.
            if batch.pending_ticket(ticket_id).is_some() {
                batch.flush(conn).await?;
            }
            let text = format!("{}\n{}", m.subject, m.visible_text);
            for e in super::links::auto_link(conn, ticket_id, &text, cx.order_pattern, now).await? {
                batch.event(ticket_id, Actor::System, e);
            }
        }
        // Staff writing to support get no acknowledgement; neither do automatic mail, lists and spam (no
        // backscatter). Agents still hear of a new ticket; an automatic mail on a ticket tells nobody.
        if cx.can_send && !(m.automatic() && matches!(filed, Filed::Threaded(_))) {
            batch.notice(ticket_id, filed, m.automatic() || m.mailing_list || m.spam || staff);
        }
        Ok(filed)
    }

    /// The ticket a staff mail belongs to: the one its agent reply address names, else the threading rules' choice.
    async fn agent_mail_target(
        &self,
        conn: &mut AnyConnection,
        m: &InboundMail<'_>,
        placement: Placement,
    ) -> Result<Option<TicketRow>, TicketError> {
        if let Some((number, _)) = m.agent_token {
            return Ok(db::tickets::live_by_number(&mut *conn, number).await?);
        }
        Ok(match placement {
            Placement::Thread { ticket, .. } | Placement::FollowUp { parent: ticket } => {
                db::tickets::by_id(&mut *conn, ticket.id).await?
            }
            Placement::New => None,
        })
    }
}
