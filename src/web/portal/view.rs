//! Reading in the portal: the customer's tickets with a search, the new-ticket form, a ticket's conversation as
//! the customer saw it by mail (no notes, no events, no staff addresses), and its attachments.

use super::access::{Access, Visit, status_words};
use super::pages;
use super::session::Customer;
use crate::db::{AttachmentRow, MailboxRow, MessageRow};
use crate::domain::MessageKind;
use crate::web::{AppState, Error};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};
use serde::Deserialize;
use serde_json::json;

/// The most tickets the list shows.
const LIST_LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
}

/// `GET /portal/tickets`: the customer's tickets, newest activity first.
pub async fn list(
    State(state): State<AppState>,
    customer: Customer,
    Query(q): Query<ListQuery>,
) -> Result<Response, Error> {
    let rows = state.db.portal_tickets(&customer.email, &q.q, LIST_LIMIT).await?;
    let tickets: Vec<_> = rows
        .iter()
        .map(|t| {
            json!({
                "number": t.number, "subject": crate::outbound::clean_subject(&t.subject),
                "status": status_words(t.status), "updated_at": t.updated_at, "created_at": t.created_at,
            })
        })
        .collect();
    let page = context! { tickets => pages_value(tickets), q => q.q };
    pages::ok(&state, "portal_tickets.html", Some(&customer), page).await
}

/// `GET /portal/tickets/new`: the form to open a ticket.
pub async fn new_form(State(state): State<AppState>, customer: Customer) -> Result<Response, Error> {
    let page = new_ticket_page(&state, &customer, &NewTicketForm::default()).await?;
    pages::ok(&state, "portal_new.html", Some(&customer), page).await
}

/// What the new-ticket form holds (again, after an error).
#[derive(Debug, Default)]
pub struct NewTicketForm {
    pub subject: String,
    pub body: String,
    pub order: String,
    pub mailbox: String,
    /// The ticket type chosen (a name of `ticket_types`), or empty.
    pub kind: String,
    pub field: String,
    pub error: String,
}

/// The new-ticket page's values: the form, the customer's orders, the mailboxes to choose from (when several).
pub async fn new_ticket_page(state: &AppState, customer: &Customer, f: &NewTicketForm) -> Result<Value, Error> {
    let orders = state.db.recent_orders(&customer.email, 50).await?;
    let orders: Vec<_> = orders.iter().map(|o| json!({ "number": o.r#ref, "status": o.status })).collect();
    let mailboxes: Vec<_> =
        public_mailboxes(state).await?.iter().map(|m| json!({ "name": m.name, "title": m.team_name() })).collect();
    let types: Vec<_> =
        state.db.ticket_types().await?.iter().map(|t| json!({ "name": t.name, "title": t.title })).collect();
    Ok(context! {
        subject => f.subject.clone(), body => f.body.clone(), order => f.order.clone(), mailbox => f.mailbox.clone(),
        kind => f.kind.clone(), types => pages_value(types),
        field => f.field.clone(), error => f.error.clone(), orders => pages_value(orders),
        mailboxes => pages_value(if mailboxes.len() > 1 { mailboxes } else { Vec::new() }),
        max_files => super::upload::MAX_FILES, max_file_mb => super::upload::MAX_FILE_BYTES / (1024 * 1024),
    })
}

/// The mailboxes a customer may write to: every enabled one, oldest first.
pub async fn public_mailboxes(state: &AppState) -> Result<Vec<MailboxRow>, Error> {
    let mut boxes: Vec<MailboxRow> = state.db.mailboxes().await?.into_iter().filter(|m| m.enabled == 1).collect();
    boxes.sort_by_key(|m| m.id);
    Ok(boxes)
}

#[derive(Debug, Default, Deserialize)]
pub struct TicketQuery {
    /// `good` / `bad`: preselects the satisfaction answer (links in the `resolved` mail).
    #[serde(default)]
    rating: String,
    /// What just happened: `sent`, `solved`, `rated`.
    #[serde(default)]
    done: String,
}

/// `GET /portal/tickets/{n}` (signed in) and `/portal/t/{n}/{token}` (the ticket's link, without signing in).
pub async fn ticket(
    State(state): State<AppState>,
    visit: Visit,
    Query(q): Query<TicketQuery>,
) -> Result<Response, Error> {
    let page = ticket_page(&state, &visit.access, &q.rating, &q.done, &Compose::default()).await?;
    pages::ok(&state, "portal_ticket.html", visit.customer.as_ref(), page).await
}

/// The answer form's text and its errors (shown again after a refused post).
#[derive(Debug, Default)]
pub struct Compose {
    pub body: String,
    pub error: String,
    pub file_error: String,
    pub comment: String,
    pub rating_error: String,
}

/// The ticket page's values.
pub async fn ticket_page(state: &AppState, a: &Access, rating: &str, done: &str, c: &Compose) -> Result<Value, Error> {
    let t = &a.ticket;
    let mailbox = crate::db::mailboxes::by_id(state.db.pool(), t.mailbox_id).await?;
    let messages = state.db.portal_messages(t.id).await?;
    let attachments = state.db.portal_attachments(t.id).await?;
    let shown: Vec<_> = messages.iter().map(|m| message_json(m, a, &mailbox, &attachments)).collect();
    let mut conn = state.db.pool().acquire().await.map_err(crate::db::DbError::from)?;
    let links = crate::db::catalog::links(&mut conn, t.id).await?;
    drop(conn);
    let orders: Vec<_> = links
        .into_iter()
        .filter(|l| l.kind == "order" && l.customer_email.eq_ignore_ascii_case(&a.email))
        .map(|l| json!({ "number": l.r#ref, "status": l.status, "total": l.total, "currency": l.currency }))
        .collect();
    let solved = matches!(t.status, crate::domain::Status::Resolved | crate::domain::Status::Closed);
    let resolution = if solved { state.db.ticket_last_resolution(t.id).await? } else { None };
    let answered = match resolution {
        Some((id, _)) => state.db.satisfaction_of(t.id).await?.into_iter().find(|s| s.resolution_id == id),
        None => None,
    };
    Ok(context! {
        number => t.number, subject => crate::outbound::clean_subject(&t.subject), status => status_words(t.status),
        created_at => t.created_at, mailbox => mailbox.team_name(), base => a.base.clone(), signed_in => a.signed_in,
        messages => pages_value(shown), orders => pages_value(orders), can_solve => !solved,
        ask_rating => resolution.is_some() && answered.is_none(),
        rated => answered.map(|s| json!({ "rating": s.rating, "comment": s.comment })).map(pages_value),
        rating => rating, done => done, body => c.body.clone(), error => c.error.clone(),
        file_error => c.file_error.clone(), comment => c.comment.clone(), rating_error => c.rating_error.clone(),
        max_files => super::upload::MAX_FILES, max_file_mb => super::upload::MAX_FILE_BYTES / (1024 * 1024),
    })
}

/// One message as the customer sees it: their own are "You", agents by name and team, other participants by name.
fn message_json(m: &MessageRow, a: &Access, mailbox: &MailboxRow, attachments: &[AttachmentRow]) -> serde_json::Value {
    let agent = m.kind == MessageKind::Agent;
    let who = if agent {
        let team = mailbox.team_name();
        if m.from_name.trim().is_empty() { team } else { format!("{} ({team})", m.from_name.trim()) }
    } else if m.from_addr.eq_ignore_ascii_case(&a.email) {
        "You".to_string()
    } else if m.from_name.trim().is_empty() {
        "Another participant".to_string()
    } else {
        m.from_name.trim().to_string()
    };
    let text = if agent || m.visible_text.trim().is_empty() { &m.body_text } else { &m.visible_text };
    let files: Vec<_> = attachments
        .iter()
        .filter(|f| f.message_id == m.id && f.inline == 0)
        .map(|f| json!({ "url": format!("{}/attachments/{}", a.base, f.id), "filename": f.filename, "size": f.size }))
        .collect();
    json!({ "id": m.id, "who": who, "agent": agent, "mine": who == "You", "text": text.trim(), "created_at": m.created_at, "files": files })
}

fn pages_value<T: serde::Serialize>(v: T) -> Value {
    crate::web::dashboard::pages::sv(v)
}

/// `GET /portal/tickets/{n}/attachments/{id}` and `/portal/t/{n}/{token}/attachments/{id}`.
pub async fn attachment(State(state): State<AppState>, visit: Visit, uri: axum::http::Uri) -> Result<Response, Error> {
    let id = uri.path().rsplit('/').next().and_then(|id| id.parse().ok()).ok_or(Error::NotFound)?;
    download(&state, &visit.access, id).await
}

/// An attachment of a message of this ticket the customer saw; any other id is 404. Always a download.
async fn download(state: &AppState, a: &Access, id: i64) -> Result<Response, Error> {
    if state.db.portal_attachment_ticket(id).await? != Some(a.ticket.number) {
        return Err(Error::NotFound);
    }
    let att = state.db.attachment(id).await?.ok_or(Error::NotFound)?;
    let bytes = crate::web::read_blob(&state.blobs, &att.sha256, "attachment blob missing").await?;
    Ok((crate::web::api::download_headers(&att.filename, &att.content_type), bytes).into_response())
}
