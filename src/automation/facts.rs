//! The facts a rule sees of one ticket at one event, read from the store inside the rules' transaction.

use super::eval::{Facts, Value};
use crate::db::{self, DbError, TicketRow};
use crate::domain::{Status, TicketEvent};
use sqlx::AnyConnection;

/// What the rules need to know of the store beyond the ticket row.
pub struct Lookup<'a> {
    pub blocks: &'a [String],
    pub now: i64,
    /// Which facts cost a query: a schedule pass reads only what its rule looks at.
    pub needs: Needs,
}

/// The facts that cost a query each.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    pub tags: bool,
    pub message: bool,
    pub pending: bool,
}

impl Needs {
    /// What conditions over `fields` look at.
    pub fn of<'f>(fields: impl IntoIterator<Item = &'f str>) -> Needs {
        let mut n = Needs { tags: false, message: false, pending: false };
        for f in fields {
            n.tags |= f == "ticket.tags";
            n.message |= f.starts_with("message.");
            n.pending |= f == "ticket.pending_minutes";
        }
        n
    }
}

/// The facts of ticket `t`; `message` is the message the event is about (else the customer's latest).
pub async fn of_ticket(
    conn: &mut AnyConnection,
    t: &TicketRow,
    message: Option<i64>,
    lookup: &Lookup<'_>,
) -> Result<Facts, DbError> {
    let mut f = Facts::default();
    let tags = if lookup.needs.tags { db::tags::of_ticket(&mut *conn, t.id).await? } else { Vec::new() };
    let minutes = |since: i64| Value::Number((lookup.now - since).max(0) / 60);
    let pending = if t.status == Status::Pending && lookup.needs.pending {
        minutes(db::rules::status_since(conn, t.id).await?.unwrap_or(t.created_at))
    } else {
        Value::Number(0)
    };
    let domain = t.requester_email.rsplit_once('@').map(|(_, d)| d.to_lowercase()).unwrap_or_default();
    f.set("ticket.status", Value::Text(t.status.as_str().into()))
        .set("ticket.priority", Value::Text(t.priority.as_str().into()))
        .set("ticket.type", t.type_name.clone().map_or(Value::Null, Value::Text))
        .set("ticket.mailbox", Value::Text(t.mailbox.clone()))
        .set("ticket.assignee", t.assignee_email.clone().map_or(Value::Null, Value::Text))
        .set("ticket.tags", Value::Set(tags))
        .set("ticket.subject", Value::Text(t.subject.clone()))
        .set("ticket.age_minutes", minutes(t.created_at))
        .set("ticket.idle_minutes", minutes(t.updated_at))
        .set("ticket.pending_minutes", pending)
        .set("customer.email", Value::Text(t.requester_email.to_lowercase()))
        .set("customer.domain", Value::Text(domain))
        .set("customer.blocked", Value::Bool(db::blocks::matching(&t.requester_email, lookup.blocks).is_some()))
        .set("sla.state", t.sla_state.clone().map_or(Value::Null, Value::Text));
    let m = match message {
        _ if !lookup.needs.message => None,
        Some(id) => db::rules::message_facts(conn, id).await?,
        None => db::rules::last_customer_facts(conn, t.id).await?,
    };
    if let Some(m) = m {
        f.set("message.from", Value::Text(m.from_addr))
            .set("message.subject", Value::Text(m.subject))
            .set("message.body", Value::Text(m.visible_text))
            .set("message.kind", Value::Text(m.kind))
            .set("message.auto", Value::Bool(m.auto != 0));
    }
    Ok(f)
}

/// The message an event is about, if any.
pub fn message_of(e: &TicketEvent) -> Option<i64> {
    match e {
        TicketEvent::MessageReceived { message, .. }
        | TicketEvent::ReplySent { message, .. }
        | TicketEvent::NoteAdded { message, .. } => Some(*message),
        _ => None,
    }
}

/// Records in `f` what the event changed, for `changed_to` / `changed_from`.
pub fn add_changes(f: &mut Facts, e: &TicketEvent) {
    let text = |s: &str| Value::Text(s.to_string());
    let opt = |s: &Option<String>| s.clone().map_or(Value::Null, Value::Text);
    match e {
        TicketEvent::StatusChanged { from, to } => {
            f.changed("ticket.status", text(from.as_str()), text(to.as_str()));
        }
        TicketEvent::PriorityChanged { from, to } => {
            f.changed("ticket.priority", text(from.as_str()), text(to.as_str()));
        }
        TicketEvent::TypeChanged { from, to } => {
            f.changed("ticket.type", opt(from), opt(to));
        }
        TicketEvent::AssigneeChanged { from, to } => {
            f.changed("ticket.assignee", opt(from), opt(to));
        }
        TicketEvent::MailboxChanged { from, to } => {
            f.changed("ticket.mailbox", text(from), text(to));
        }
        TicketEvent::TagsChanged { added, removed } => {
            // "tags changed_to refund": the tag was added; "changed_from refund": it was removed.
            f.changed("ticket.tags", Value::Set(removed.clone()), Value::Set(added.clone()));
        }
        _ => {}
    }
}
