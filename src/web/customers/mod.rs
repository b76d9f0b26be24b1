//! Customers for staff: one customer's profile (name, note, tickets, orders, satisfaction answers, whether they
//! are blocked), blocking or unblocking a sender (an address or its whole domain), and erasing or exporting a
//! customer (admins), shared by the customer page and the API.

pub mod export;

use crate::db::{TicketRow, UserRow};
use crate::tickets::erase::Erased;
use crate::web::{AppState, Error};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Everything the customer page and `GET /api/v1/customers/{email}` show.
#[derive(Debug, Serialize)]
pub struct Profile {
    pub email: String,
    pub name: String,
    pub note: String,
    pub first_seen: i64,
    #[serde(skip)]
    pub tickets: Vec<TicketRow>,
    pub orders: Vec<crate::db::catalog::CatalogHit>,
    /// `(ticket number, rating, comment, at)`.
    pub ratings: Vec<(i64, String, String, i64)>,
    /// The block list entries that match this customer (their address, their `@domain`).
    pub blocked_by: Vec<String>,
}

/// The most tickets a profile lists.
const TICKETS: i64 = 500;

/// The customer with this address (any case) as `viewer` may see them (tickets of mailboxes outside the viewer's
/// rights are left out); 404 for an address deskmail has never seen.
pub async fn profile(state: &AppState, viewer: &crate::db::UserRow, email: &str) -> Result<Profile, Error> {
    let email = email.trim().to_lowercase();
    let (email, name, note, first_seen) = state.db.customer_profile(&email).await?.ok_or(Error::NotFound)?;
    let visible = state.db.visible_mailboxes(viewer).await?;
    let mut tickets = state.db.portal_tickets(&email, "", TICKETS).await?;
    tickets.retain(|t| visible.as_ref().is_none_or(|v| v.contains(&t.mailbox_id)));
    let orders = state.db.recent_orders(&email, 50).await?;
    let mut ratings = Vec::new();
    for t in &tickets {
        for s in state.db.satisfaction_of(t.id).await? {
            ratings.push((t.number, s.rating, s.comment, s.created_at));
        }
    }
    let blocks: Vec<String> = state.db.blocks().await?.into_iter().map(|b| b.entry).collect();
    let blocked_by = blocks
        .iter()
        .filter(|b| crate::db::blocks::matching(&email, std::slice::from_ref(b)).is_some())
        .cloned()
        .collect();
    Ok(Profile { email, name, note, first_seen, tickets, orders, ratings, blocked_by })
}

/// What to block: the address, or every address of its domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Address,
    Domain,
}

/// The block list entry for `email` in `scope`; refused for a malformed address.
pub fn entry(email: &str, scope: Scope) -> Result<String, Error> {
    let address =
        crate::domain::EmailAddress::parse(email.trim()).map_err(|e| Error::Unprocessable(format!("email: {e}")))?;
    Ok(match scope {
        Scope::Address => address.as_str().to_string(),
        Scope::Domain => format!("@{}", address.domain()),
    })
}

/// Blocks `email` (or its domain) by `by`; later mail from it is held in the quarantine. Returns the entry.
pub async fn block(state: &AppState, email: &str, scope: Scope, by: &str) -> Result<String, Error> {
    let entry = entry(email, scope)?;
    let ours: Vec<String> = crate::db::mailboxes::addresses(state.db.pool()).await?;
    if ours.iter().any(|a| crate::db::blocks::matching(a, std::slice::from_ref(&entry)).is_some()) {
        return Err(Error::Unprocessable("email: that would block one of our own mailboxes".into()));
    }
    state.db.block(&entry, by, crate::domain::now()).await?;
    tracing::info!(entry, by, "sender blocked");
    Ok(entry)
}

/// Removes every block list entry that matches `email` and releases the mail held because of them (now tickets,
/// unless another rule holds them). Returns how many messages were released.
pub async fn unblock(state: &AppState, email: &str, by: &str) -> Result<usize, Error> {
    let email = email.trim().to_lowercase();
    let mut released = 0;
    for b in state.db.blocks().await? {
        if crate::db::blocks::matching(&email, std::slice::from_ref(&b.entry)).is_none() {
            continue;
        }
        state.db.unblock(&b.entry).await?;
        let outcomes = state.pipeline.release_blocked(&b.entry).await.map_err(|e| Error::Internal(e.into()))?;
        released += outcomes.len();
        tracing::info!(entry = b.entry, by, released = outcomes.len(), "sender unblocked");
    }
    Ok(released)
}

/// Erases the customer with this address (see `Tickets::erase_customer`) by admin `by`: 403 for anyone else, 404 for
/// an address deskmail does not know.
pub async fn erase(state: &AppState, email: &str, by: &UserRow) -> Result<Erased, Error> {
    if !by.is_admin() {
        return Err(Error::Forbidden);
    }
    let done = state.tickets.erase_customer(email, &crate::domain::Actor::User(by.email.clone())).await?;
    tracing::info!(by = %by.email, tickets = done.tickets, "customer erased");
    Ok(done)
}

/// The export of the customer with this address as a zip download, for admin `by` (403 for anyone else, 404 for
/// an unknown address).
pub async fn export_download(state: &AppState, email: &str, by: &UserRow) -> Result<Response, Error> {
    if !by.is_admin() {
        return Err(Error::Forbidden);
    }
    let built = export::build(&state.db, email).await?.ok_or(Error::NotFound)?;
    let blobs = state.blobs.clone();
    let zip = tokio::task::spawn_blocking(move || export::to_zip(&built, &blobs))
        .await
        .map_err(|e| Error::Internal(e.into()))?
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("building a customer export")))?;
    tracing::info!(by = %by.email, bytes = zip.len(), "customer exported");
    let name = format!("deskmail-export-{}.zip", email.trim().to_lowercase().replace('@', "-at-"));
    Ok((crate::web::api::download_headers(&name, "application/zip"), zip).into_response())
}
