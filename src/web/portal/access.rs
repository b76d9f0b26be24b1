//! Who may see a ticket in the portal: a signed-in customer who is its requester or a participant, or anyone with
//! the ticket's signed link while the ticket is open or closed for less than 30 days. Anything else is 404.

use super::session::{Customer, NoSession};
use crate::db::TicketRow;
use crate::domain::Status;
use crate::web::{AppState, Error};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

/// A ticket link keeps working this long after the ticket was closed.
pub const LINK_DAYS_AFTER_CLOSE: i64 = 30;

/// A ticket the visitor may read and answer, and as whom.
#[derive(Debug, Clone)]
pub struct Access {
    pub ticket: TicketRow,
    /// Whose messages are "yours", and who writes an answer: the signed-in customer, or through a link the
    /// requester of the ticket the link was made for.
    pub email: String,
    /// Where this ticket's page and forms live (`/portal/tickets/{n}` or `/portal/t/{n}/{token}`).
    pub base: String,
    /// Signed in (may see their other tickets), or only through this ticket's link.
    pub signed_in: bool,
}

/// A portal request about one ticket, resolved from its path: `/portal/tickets/{n}/…` needs the customer's
/// session, `/portal/t/{n}/{token}/…` the ticket's signed link. One handler serves both.
#[derive(Debug, Clone)]
pub struct Visit {
    pub access: Access,
    /// The signed-in customer (none through a link).
    pub customer: Option<Customer>,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_string();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let number = |i: usize| segments.get(i).and_then(|n| n.parse::<i64>().ok()).ok_or(Error::NotFound);
        match segments.get(1) {
            Some(&"t") => {
                let n = number(2).map_err(IntoResponse::into_response)?;
                let token = segments.get(3).copied().unwrap_or_default();
                let access = by_link(state, n, token).await.map_err(IntoResponse::into_response)?;
                Ok(Visit { access, customer: None })
            }
            _ => {
                let customer = Customer::from_request_parts(parts, state).await.map_err(NoSession::into_response)?;
                let n = number(2).map_err(IntoResponse::into_response)?;
                let access = by_session(state, &customer, n).await.map_err(IntoResponse::into_response)?;
                Ok(Visit { access, customer: Some(customer) })
            }
        }
    }
}

/// The ticket `number` for a signed-in customer; 404 unless they take part in it.
pub async fn by_session(state: &AppState, customer: &Customer, number: i64) -> Result<Access, Error> {
    let ticket = state.db.portal_ticket(&customer.email, number).await?.ok_or(Error::NotFound)?;
    Ok(Access { email: customer.email.clone(), base: format!("/portal/tickets/{number}"), signed_in: true, ticket })
}

/// The ticket `number` through its signed link; 404 for a wrong token or a ticket closed too long ago.
pub async fn by_link(state: &AppState, number: i64, token: &str) -> Result<Access, Error> {
    if !state.tickets.composer.signer.check_portal_ticket_token(number, token) {
        return Err(Error::NotFound);
    }
    let mut ticket = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    let base = format!("/portal/t/{number}/{token}");
    // Whoever the link was mailed to stays the writer (after a merge across customers, a participant of the target).
    let email = ticket.requester_email.clone();
    // A merged ticket's link opens the ticket it was merged into, under its own address.
    for _ in 0..16 {
        let Some(into) = ticket.merged_into else { break };
        ticket = state.db.ticket(into).await?.ok_or(Error::NotFound)?;
    }
    if ticket.status == Status::Closed {
        let closed_at = state.db.ticket_closed_at(ticket.id).await?.unwrap_or(ticket.updated_at);
        if link_expired(closed_at, crate::domain::now()) {
            return Err(Error::NotFound);
        }
    }
    Ok(Access { email, base, signed_in: false, ticket })
}

/// Whether a link of a ticket closed at `closed_at` has stopped working at `now`.
pub fn link_expired(closed_at: i64, now: i64) -> bool {
    now - closed_at > LINK_DAYS_AFTER_CLOSE * 86_400
}

/// The status as a customer reads it.
pub fn status_words(status: Status) -> &'static str {
    match status {
        Status::New | Status::Open => "open",
        Status::Pending => "waiting for you",
        Status::Resolved | Status::Closed => "solved",
        Status::Merged => "merged",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_expire_thirty_days_after_closing() {
        let closed = 1_700_000_000;
        assert!(!link_expired(closed, closed + 30 * 86_400));
        assert!(link_expired(closed, closed + 30 * 86_400 + 1));
    }

    #[test]
    fn statuses_read_in_customer_words() {
        assert_eq!(status_words(Status::New), "open");
        assert_eq!(status_words(Status::Pending), "waiting for you");
        assert_eq!(status_words(Status::Closed), "solved");
    }
}
