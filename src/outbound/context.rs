//! Template contexts: the variables every e-mail template sees, built from stored rows.

use crate::db::{MailboxRow, TicketRow, UserRow};
use serde_json::{Value, json};

/// Who a template speaks to and about.
pub struct ContextParts<'a> {
    pub ticket: &'a TicketRow,
    pub mailbox: &'a MailboxRow,
    pub public_url: &'a str,
    pub agent: Option<&'a UserRow>,
    pub recipient: (&'a str, &'a str),
    pub message: Value,
    pub links: Value,
    /// `agent_command_result`: what the agent's mail did.
    pub command: Option<&'a super::intent::CommandReport>,
}

/// The `ticket` variable.
pub fn ticket_json(t: &TicketRow, public_url: &str) -> Value {
    json!({
        "number": t.number,
        "subject": super::subject::clean_subject(&t.subject),
        "status": t.status,
        "priority": t.priority,
        "url": format!("{}/tickets/{}", public_url.trim_end_matches('/'), t.number),
        "created_at": crate::domain::rfc3339(t.created_at),
    })
}

/// The whole context of one mail.
pub fn build(p: &ContextParts<'_>) -> Value {
    let mut ctx = json!({
        "ticket": ticket_json(p.ticket, p.public_url),
        "customer": { "name": p.ticket.requester_name, "email": p.ticket.requester_email },
        "recipient": { "name": p.recipient.0, "email": p.recipient.1 },
        "message": p.message,
        "mailbox": { "name": p.mailbox.name, "address": p.mailbox.address, "display_name": p.mailbox.display_name },
        "links": p.links,
    });
    if let Some(a) = p.agent {
        ctx["agent"] = json!({ "name": a.name, "email": a.email, "signature": a.signature });
    }
    if let Some(c) = p.command {
        ctx["command"] = json!({ "results": c.results, "errors": c.errors, "note": c.note });
    }
    ctx
}

/// `links` grouped as templates see it: `orders`, `order_lines`, `products`.
pub fn links_json(links: &[crate::db::catalog::LinkRow]) -> Value {
    let of = |kind: &'static str| links.iter().filter(move |l| l.kind == kind);
    json!({
        "orders": of("order").map(|l| json!({ "number": l.r#ref, "status": l.status, "total": l.total, "currency": l.currency, "url": l.url })).collect::<Vec<_>>(),
        "order_lines": of("order_line").map(|l| json!({ "ref": l.r#ref, "title": l.title, "quantity": l.quantity, "status": l.status, "order": l.order_number })).collect::<Vec<_>>(),
        "products": of("product").map(|l| json!({ "ref": l.r#ref, "title": l.title, "url": l.url })).collect::<Vec<_>>(),
    })
}
