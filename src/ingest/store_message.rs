//! Storing a customer message: a new ticket with its requester, Cc participants, the message and its attachments.

use super::prepare::PreparedMail;
use super::store::StoreContext;
use crate::db::{self, DbError, messages::NewMessage};
use crate::domain::EmailAddress;
use sqlx::AnyConnection;

pub(super) async fn new_ticket(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    m: &PreparedMail,
    customer_id: i64,
    parent: Option<i64>,
    now: i64,
) -> Result<(i64, i64), DbError> {
    let subject = if m.mail.subject.is_empty() { "(no subject)" } else { m.mail.subject.as_str() };
    let new = db::tickets::NewTicket {
        mailbox_id: cx.mailbox.id,
        subject,
        requester_id: customer_id,
        parent_ticket_id: parent,
        now,
    };
    let (id, number) = db::tickets::insert(conn, &new).await?;
    db::customers::add_participant(&mut *conn, id, customer_id, "requester").await?;
    let actor = m.mail.from.as_ref().map(|p| p.email.as_str()).unwrap_or("system");
    db::messages::insert_event(&mut *conn, id, actor, "created", &format!("by e-mail to {}", cx.mailbox.address), now)
        .await?;
    Ok((id, number))
}

pub(super) async fn add_cc_participants(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    m: &PreparedMail,
    ticket_id: i64,
    requester: i64,
    now: i64,
) -> Result<(), DbError> {
    for person in m.mail.to.iter().chain(&m.mail.cc).take(50) {
        if is_ours(&person.email, cx.our_addresses) || cx.staff.contains(person.email.as_str()) {
            continue;
        }
        let id = db::customers::upsert(conn, person.email.as_str(), &person.name, now).await?;
        if id != requester {
            db::customers::add_participant(&mut *conn, ticket_id, id, "cc").await?;
        }
    }
    Ok(())
}

pub(super) async fn insert_message(
    conn: &mut AnyConnection,
    cx: &StoreContext<'_>,
    m: &PreparedMail,
    ticket_id: i64,
    customer_id: i64,
    raw_id: i64,
    now: i64,
) -> Result<(), DbError> {
    let mail = &m.mail;
    let from = mail.from.as_ref().expect("checked");
    let emails = |people: &[crate::domain::NamedAddress]| {
        serde_json::to_string(&people.iter().map(|p| p.email.as_str()).collect::<Vec<_>>()).unwrap_or_default()
    };
    let mut flags = Vec::new();
    let c = &mail.classification;
    for (on, name) in [(c.auto_reply, "auto_reply"), (c.mailing_list, "list"), (m.spam, "spam")] {
        if on {
            flags.push(name);
        }
    }
    let new = NewMessage {
        ticket_id,
        kind: "customer",
        mailbox_id: Some(cx.mailbox.id),
        raw_id: Some(raw_id),
        customer_id: Some(customer_id),
        from_addr: from.email.to_string(),
        from_name: from.name.to_string(),
        to_json: emails(&mail.to),
        cc_json: emails(&mail.cc),
        reply_to: mail.reply_to.first().map(|p| p.email.to_string()).unwrap_or_default(),
        subject: mail.subject.clone(),
        message_id: mail.message_id.clone(),
        in_reply_to: mail.in_reply_to.first().cloned(),
        refs: mail.references.join(" "),
        visible_text: m.visible_text.clone(),
        body_text: mail.body_text.clone(),
        body_html: m.body_html.clone(),
        auto: c.is_automatic(),
        flags: flags.join(" "),
        content_digest: Some(m.digest.clone()),
        sent_at: mail.date,
        created_at: now,
        ..Default::default()
    };
    let message_id = db::messages::insert(conn, &new).await?;
    for (att, sha) in mail.attachments.iter().zip(&m.attachment_sha256) {
        let a = db::messages::NewAttachment {
            filename: &att.filename,
            content_type: &att.content_type,
            size: att.data.len() as i64,
            sha256: sha,
            content_id: att.content_id.as_deref(),
            inline: att.inline,
        };
        db::messages::insert_attachment(conn, message_id, &a, now).await?;
    }
    Ok(())
}

/// Whether an address is one of our mailboxes, or a plus-address of one.
pub fn is_ours(addr: &EmailAddress, ours: &[EmailAddress]) -> bool {
    let base = match addr.local_part().split_once('+') {
        Some((local, _)) => format!("{local}@{}", addr.domain()),
        None => addr.to_string(),
    };
    ours.iter().any(|o| o.as_str() == base)
}
