//! `/customers/{email}`: one customer for agents — name, first seen, an internal note, every ticket, their orders
//! and satisfaction answers — with block and unblock (the address or the whole domain); for admins, the export
//! download and erasing the customer (confirmed by typing the address).

use super::auth::{AdminUser, CurrentUser, safe_next};
use super::pages::{flash, layout, sv, take_flashes};
use crate::web::customers::{self, Scope};
use crate::web::{AppState, Error};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use serde::Deserialize;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/customers/{email}", get(show))
        .route("/customers/{email}/note", post(save_note))
        .route("/customers/{email}/block", post(block))
        .route("/customers/{email}/unblock", post(unblock))
        .route("/customers/{email}/export", get(export))
        .route("/customers/{email}/erase", post(erase))
}

/// The longest note about a customer, in characters.
const MAX_NOTE_CHARS: usize = 5000;

async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(email): Path<String>,
) -> Result<Response, Error> {
    let p = customers::profile(&state, &user, &email).await?;
    let tickets: Vec<_> = p
        .tickets
        .iter()
        .map(|t| context! { number => t.number, subject => t.subject.clone(), status => t.status.as_str(), updated_at => t.updated_at, mailbox => t.mailbox.clone() })
        .collect();
    let page = context! {
        email => p.email.clone(), name => p.name.clone(), note => p.note.clone(), first_seen => p.first_seen,
        tickets => tickets, orders => sv(&p.orders), ratings => sv(&p.ratings), blocked_by => sv(&p.blocked_by),
        domain => p.email.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default(),
    };
    let html =
        state.pages.render("customer.html", layout(Some(&user), take_flashes(&session).await, "tickets", page))?;
    Ok(html.into_response())
}

fn page_of(email: &str) -> Redirect {
    Redirect::to(&format!("/customers/{}", super::auth::urlencode(email)))
}

#[derive(Debug, Deserialize)]
struct NoteForm {
    #[serde(default)]
    note: String,
}

async fn save_note(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    session: Session,
    Path(email): Path<String>,
    Form(f): Form<NoteForm>,
) -> Result<Redirect, Error> {
    let email = email.trim().to_lowercase();
    let note: String = f.note.trim().chars().filter(|c| !c.is_control() || *c == '\n').take(MAX_NOTE_CHARS).collect();
    if !state.db.set_customer_note(&email, &note).await? {
        return Err(Error::NotFound);
    }
    flash(&session, "ok", "Note saved.").await;
    Ok(page_of(&email))
}

#[derive(Debug, Deserialize)]
struct BlockForm {
    /// `domain` blocks the whole domain; anything else the address.
    #[serde(default)]
    scope: String,
    /// Where to go afterwards (the ticket page the button was on), a local path.
    #[serde(default)]
    back: Option<String>,
}

async fn block(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(email): Path<String>,
    Form(f): Form<BlockForm>,
) -> Result<Redirect, Error> {
    let scope = if f.scope == "domain" { Scope::Domain } else { Scope::Address };
    match customers::block(&state, &email, scope, &user.email).await {
        Ok(entry) => {
            let text = format!("Blocked {entry}: later mail is held in the quarantine, with no ticket and no reply.");
            flash(&session, "ok", text).await
        }
        Err(Error::Unprocessable(m)) => flash(&session, "error", m.trim_start_matches("email: ").to_string()).await,
        Err(e) => return Err(e),
    }
    Ok(f.back
        .filter(|b| b.starts_with("/tickets/"))
        .map(|b| Redirect::to(&safe_next(Some(&b))))
        .unwrap_or(page_of(&email)))
}

async fn unblock(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(email): Path<String>,
) -> Result<Redirect, Error> {
    let released = customers::unblock(&state, &email, &user.email).await?;
    flash(&session, "ok", format!("Unblocked. {released} held message(s) went through again.")).await;
    Ok(page_of(&email))
}

async fn export(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    Path(email): Path<String>,
) -> Result<Response, Error> {
    customers::export_download(&state, &email, &user).await
}

#[derive(Debug, Deserialize)]
struct EraseForm {
    /// The customer's address typed again: the confirmation.
    #[serde(default)]
    confirm: String,
}

/// Erases the customer when the typed address matches; back to the page with the reason otherwise.
async fn erase(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    session: Session,
    Path(email): Path<String>,
    Form(f): Form<EraseForm>,
) -> Result<Redirect, Error> {
    let email = email.trim().to_lowercase();
    if !f.confirm.trim().eq_ignore_ascii_case(&email) {
        flash(&session, "error", "Not erased: type the customer's address to confirm.").await;
        return Ok(page_of(&email));
    }
    let done = customers::erase(&state, &email, &user).await?;
    let text = format!(
        "Customer erased: {} ticket(s) kept as anonymous shells, {} message(s) blanked, {} attachment(s) and {} \
         stored file(s) deleted.",
        done.tickets, done.messages, done.attachments, done.blobs_deleted
    );
    flash(&session, "ok", text).await;
    Ok(Redirect::to("/tickets"))
}
