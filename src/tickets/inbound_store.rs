//! Storing a customer's mail: a new ticket with its requester and creation event, Cc participants, and the
//! message with its attachments and `message_received` event.

use super::inbound::{InboundContext, InboundMail};
use super::inbound_batch::InboundBatch;
use crate::db::{self, DbError, messages::NewMessage};
use crate::domain::{Actor, Channel, MessageKind, NamedAddress, TicketEvent, is_ours};
use sqlx::AnyConnection;

/// At most this many To/Cc addresses become participants of a ticket.
const MAX_PARTICIPANTS: usize = 50;

pub(super) async fn new_ticket(
    conn: &mut AnyConnection,
    cx: &InboundContext<'_>,
    batch: &mut InboundBatch,
    m: &InboundMail<'_>,
    customer_id: i64,
    parent: Option<i64>,
    now: i64,
) -> Result<(i64, i64), DbError> {
    let subject = if m.subject.is_empty() { "(no subject)" } else { m.subject };
    let new = db::tickets::NewTicket {
        mailbox_id: cx.mailbox.id,
        subject,
        requester_id: customer_id,
        parent_ticket_id: parent,
        now,
    };
    let (id, number) = batch.ticket(conn, &new).await?;
    batch.participant(id, customer_id, "requester");
    Ok((id, number))
}

/// The event of a ticket created by `m` (recorded with its message, see [`insert_message`]).
pub(super) fn created(cx: &InboundContext<'_>, m: &InboundMail<'_>) -> TicketEvent {
    TicketEvent::TicketCreated {
        channel: Channel::Mail,
        mailbox: cx.mailbox.address.clone(),
        requester: m.from.email.to_string(),
    }
}

/// The To and Cc addresses of a mail that become participants (not ours, not staff), at most 50.
pub fn participants<'m>(cx: &InboundContext<'_>, m: &'m InboundMail<'_>) -> impl Iterator<Item = &'m NamedAddress> {
    let (ours, staff) = (cx.our_addresses.to_vec(), cx.staff.clone());
    m.to.iter()
        .chain(m.cc)
        .take(MAX_PARTICIPANTS)
        .filter(move |p| !is_ours(&p.email, &ours) && !staff.contains(p.email.as_str()))
}

pub(super) async fn add_cc_participants(
    conn: &mut AnyConnection,
    cx: &InboundContext<'_>,
    batch: &mut InboundBatch,
    m: &InboundMail<'_>,
    ticket_id: i64,
    requester: i64,
) -> Result<(), DbError> {
    for person in participants(cx, m) {
        let id = batch.customer(conn, person).await?;
        if id != requester {
            batch.participant(ticket_id, id, "cc");
        }
    }
    Ok(())
}

/// The message with its attachments and its `message_received` event, after `created` when it opened the ticket.
#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_message(
    conn: &mut AnyConnection,
    cx: &InboundContext<'_>,
    batch: &mut InboundBatch,
    m: &InboundMail<'_>,
    ticket_id: i64,
    customer_id: i64,
    created: Option<TicketEvent>,
    now: i64,
) -> Result<i64, DbError> {
    let emails = |people: &[NamedAddress]| {
        serde_json::to_string(&people.iter().map(|p| p.email.as_str()).collect::<Vec<_>>()).unwrap_or_default()
    };
    let flags: Vec<&str> = [(m.auto_reply, "auto_reply"), (m.mailing_list, "list"), (m.spam, "spam")]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
    let new = NewMessage {
        ticket_id,
        kind: MessageKind::Customer,
        mailbox_id: Some(cx.mailbox.id),
        raw_id: Some(m.raw_id),
        customer_id: Some(customer_id),
        from_addr: m.from.email.to_string(),
        from_name: m.from.name.to_string(),
        to_json: emails(m.to),
        cc_json: emails(m.cc),
        reply_to: m.reply_to.map(|a| a.to_string()).unwrap_or_default(),
        subject: m.subject.to_string(),
        message_id: m.message_id.map(str::to_string),
        in_reply_to: m.in_reply_to.map(str::to_string),
        refs: m.references.join(" "),
        visible_text: m.visible_text.to_string(),
        body_text: m.body_text.to_string(),
        body_html: m.body_html.map(str::to_string),
        auto: m.automatic(),
        flags: flags.join(" "),
        content_digest: Some(m.digest.to_string()),
        sent_at: m.date,
        created_at: now,
        ..Default::default()
    };
    let message_id = batch.message(conn, new).await?;
    for f in &m.files {
        let a = db::messages::NewAttachment {
            filename: f.filename,
            content_type: f.content_type,
            size: f.data.len() as i64,
            sha256: f.sha256,
            content_id: f.content_id,
            inline: f.inline,
        };
        batch.file(message_id, &a);
    }
    let received =
        TicketEvent::MessageReceived { message: message_id, from: m.from.email.to_string(), auto: m.auto_reply };
    for e in created.into_iter().chain([received]) {
        batch.event(ticket_id, Actor::Customer, e);
    }
    Ok(message_id)
}
