//! Writing in the portal: open a ticket, answer one, mark it solved, answer "How did we do?". Each form answers
//! 303 to the ticket, or its page again with the error beside the field and the text kept.

use super::access::{Access, Visit};
use super::pages;
use super::session::Customer;
use super::submit::{Written, submit};
use super::upload::PortalForm;
use super::view::{Compose, NewTicketForm, new_ticket_page, public_mailboxes, ticket_page};
use crate::domain::Actor;
use crate::tickets::TicketError;
use crate::tickets::customer::Rating;
use crate::web::{AppState, Error};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

/// The longest subject, in characters.
const MAX_SUBJECT_CHARS: usize = 200;
/// The longest text, in characters.
const MAX_BODY_CHARS: usize = 100_000;

/// `POST /portal/tickets`: opens a ticket as the signed-in customer.
pub async fn open(State(state): State<AppState>, customer: Customer, form: PortalForm) -> Result<Response, Error> {
    let mut f = NewTicketForm {
        subject: form.field("subject"),
        body: form.field("body"),
        order: form.field("order").trim().to_string(),
        mailbox: form.field("mailbox"),
        kind: form.field("type").trim().to_string(),
        ..NewTicketForm::default()
    };
    let mailboxes = public_mailboxes(&state).await?;
    let mailbox = if f.mailbox.is_empty() { mailboxes.first() } else { mailboxes.iter().find(|m| m.name == f.mailbox) };
    let own_orders = state.db.recent_orders(&customer.email, 50).await?;
    let types = state.db.ticket_types().await?;
    let problem = if f.subject.trim().is_empty() {
        Some(("subject", "Say in a few words what it is about.".to_string()))
    } else if f.subject.chars().count() > MAX_SUBJECT_CHARS {
        Some(("subject", format!("At most {MAX_SUBJECT_CHARS} characters.")))
    } else if f.body.trim().is_empty() {
        Some(("body", "Write your message.".to_string()))
    } else if f.body.chars().count() > MAX_BODY_CHARS {
        Some(("body", format!("At most {MAX_BODY_CHARS} characters.")))
    } else if let Some(e) = &form.file_error {
        Some(("attachments", format!("{e} Your text is kept; attach the files again.")))
    } else if mailbox.is_none() {
        Some(("mailbox", "Choose where to send your request.".to_string()))
    } else if !f.order.is_empty() && !own_orders.iter().any(|o| o.r#ref == f.order) {
        Some(("order", "Choose one of your orders, or none.".to_string()))
    } else if !f.kind.is_empty() && !types.iter().any(|t| t.name == f.kind) {
        Some(("type", "Choose one of the kinds of request, or none.".to_string()))
    } else {
        None
    };
    if let Some((field, error)) = problem {
        (f.field, f.error) = (field.to_string(), error);
        let page = new_ticket_page(&state, &customer, &f).await?;
        return pages::render(&state, StatusCode::UNPROCESSABLE_ENTITY, "portal_new.html", Some(&customer), page).await;
    }
    let mailbox = mailbox.expect("checked above");
    let name = state.db.customer_name(&customer.email).await?.unwrap_or_default();
    let subject = plain_subject(&f.subject);
    let written = Written {
        email: &customer.email,
        name: &name,
        mailbox,
        subject: &subject,
        body: &f.body,
        files: form.files,
        ticket: None,
    };
    let number = submit(&state, written).await?;
    if !f.order.is_empty() {
        match state.tickets.link(number, "order", &f.order, &Actor::Customer).await {
            Ok(_) | Err(TicketError::Invalid(_)) => {}
            Err(e) => tracing::warn!(ticket = number, error = %e, "the order chosen in the portal was not linked"),
        }
    }
    if !f.kind.is_empty()
        && let Err(e) = state.tickets.set_type(number, Some(&f.kind), &Actor::Customer).await
    {
        tracing::warn!(ticket = number, error = %e, "the type chosen in the portal was not set");
    }
    Ok(Redirect::to(&format!("/portal/tickets/{number}?done=opened")).into_response())
}

/// The subject as typed, on one line, without ticket tags (`[#1042]` would thread it onto another ticket).
fn plain_subject(s: &str) -> String {
    let one_line: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut out = String::new();
    let mut rest = one_line.as_str();
    while let Some(start) = rest.find("[#") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(']') {
            rest = &after[digits + 1..];
        } else {
            out.push_str("[#");
            rest = after;
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `POST /portal/tickets/{n}/replies` and `/portal/t/{n}/{token}/replies`.
pub async fn reply(State(state): State<AppState>, visit: Visit, form: PortalForm) -> Result<Response, Error> {
    answer(&state, &visit.access, visit.customer.as_ref(), form).await
}

/// Adds the customer's answer as their mail would be; a closed ticket gets a follow-up, whose page opens then.
async fn answer(
    state: &AppState,
    a: &Access,
    customer: Option<&Customer>,
    form: PortalForm,
) -> Result<Response, Error> {
    let body = form.field("body");
    let error = if body.trim().is_empty() && form.files.is_empty() {
        Some(("body", "Write your answer or attach a file.".to_string()))
    } else if body.chars().count() > MAX_BODY_CHARS {
        Some(("body", format!("At most {MAX_BODY_CHARS} characters.")))
    } else {
        form.file_error.as_ref().map(|e| ("attachments", format!("{e} Your text is kept; attach the files again.")))
    };
    if let Some((field, message)) = error {
        let mut c = Compose { body, ..Compose::default() };
        if field == "body" {
            c.error = message
        } else {
            c.file_error = message
        }
        let page = ticket_page(state, a, "", "", &c).await?;
        return pages::render(state, StatusCode::UNPROCESSABLE_ENTITY, "portal_ticket.html", customer, page).await;
    }
    let mailbox = crate::db::mailboxes::by_id(state.db.pool(), a.ticket.mailbox_id).await?;
    let name = state.db.customer_name(&a.email).await?.unwrap_or_default();
    let subject = format!("Re: [#{}] {}", a.ticket.number, crate::outbound::clean_subject(&a.ticket.subject));
    let written = Written {
        email: &a.email,
        name: &name,
        mailbox: &mailbox,
        subject: &subject,
        body: &body,
        files: form.files,
        ticket: Some(a.ticket.number),
    };
    let landed = submit(state, written).await?;
    Ok(Redirect::to(&format!("{}?done=sent", page_of(state, a, landed))).into_response())
}

/// The page of ticket `number` reached the way `a` was (a follow-up through a link gets its own link).
fn page_of(state: &AppState, a: &Access, number: i64) -> String {
    if number == a.ticket.number {
        a.base.clone()
    } else if a.signed_in {
        format!("/portal/tickets/{number}")
    } else {
        let url = state.tickets.composer.portal_ticket_url(number);
        url.find("/portal/").map(|i| url[i..].to_string()).unwrap_or(url)
    }
}

/// `POST /portal/tickets/{n}/solved` and `/portal/t/{n}/{token}/solved`.
pub async fn solved(State(state): State<AppState>, visit: Visit) -> Result<Response, Error> {
    mark_solved(&state, &visit.access).await
}

async fn mark_solved(state: &AppState, a: &Access) -> Result<Response, Error> {
    state.tickets.customer_solved(a.ticket.number).await?;
    Ok(Redirect::to(&format!("{}?done=solved#rate", a.base)).into_response())
}

/// `POST /portal/tickets/{n}/rating` and `/portal/t/{n}/{token}/rating`.
pub async fn rate(State(state): State<AppState>, visit: Visit, form: PortalForm) -> Result<Response, Error> {
    record_rating(&state, &visit.access, visit.customer.as_ref(), form).await
}

async fn record_rating(
    state: &AppState,
    a: &Access,
    customer: Option<&Customer>,
    form: PortalForm,
) -> Result<Response, Error> {
    let comment = form.field("comment");
    let Some(rating) = Rating::parse(&form.field("rating")) else {
        let c = Compose { comment, rating_error: "Choose good or bad.".into(), ..Compose::default() };
        let page = ticket_page(state, a, "", "", &c).await?;
        return pages::render(state, StatusCode::UNPROCESSABLE_ENTITY, "portal_ticket.html", customer, page).await;
    };
    state.tickets.rate(a.ticket.number, rating, &comment).await?;
    Ok(Redirect::to(&format!("{}?done=rated#rate", a.base)).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn subjects_lose_ticket_tags_and_line_breaks() {
        assert_eq!(super::plain_subject("Broken lamp [#1042] again"), "Broken lamp again");
        assert_eq!(super::plain_subject("[#12][#13]x\r\nBcc: y"), "x Bcc: y");
        assert_eq!(super::plain_subject("Order [#A1] and [# 5]"), "Order [#A1] and [# 5]");
        assert_eq!(super::plain_subject("[#"), "[#");
    }
}
