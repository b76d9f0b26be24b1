//! The ticket sidebar's forms: the type, tags, links to orders and products, and retrying a failed delivery.

use super::auth::CurrentUser;
use super::pages::flash;
use super::ticket_forms::{back, capitalise};
use super::ticket_page::{FormState, render};
use crate::tickets::{Changes, TicketError};
use crate::web::{AppState, Error};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets/{number}/type", post(set_type))
        .route("/tickets/{number}/tags", post(tags))
        .route("/tickets/{number}/links", post(add_link))
        .route("/tickets/{number}/links/{id}/delete", post(remove_link))
        .route("/tickets/{number}/deliveries/{id}/retry", post(retry_delivery))
}

#[derive(Debug, Deserialize)]
struct TypeForm {
    #[serde(default)]
    value: String,
}

/// Sets the ticket's type (`none` clears it); an unknown type is shown beside the select.
async fn set_type(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    Form(f): Form<TypeForm>,
) -> Result<Response, Error> {
    let name = Some(f.value.trim().to_lowercase()).filter(|v| !v.is_empty() && v != "none");
    let what = match &name {
        Some(n) => format!("Type set to {n}."),
        None => "Type cleared.".to_string(),
    };
    match state.tickets.update(number, &user, Changes { type_name: Some(name), ..Default::default() }).await {
        Ok(()) => flash(&session, "ok", what).await,
        Err(TicketError::Invalid(msg)) => {
            let error = capitalise(msg.trim_start_matches("type: ")) + ".";
            let form = FormState { form: "type".into(), field: "value".into(), error, ..Default::default() };
            return render(&state, &user, &session, number, false, form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(back(number).into_response())
}

#[derive(Debug, Deserialize)]
struct TagForm {
    tag: String,
    action: String,
}

async fn tags(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    Form(f): Form<TagForm>,
) -> Result<Redirect, Error> {
    let on = f.action != "remove";
    let actor = user.actor();
    match state.tickets.tag(number, &f.tag, on, &actor).await {
        Ok((tag, true)) => {
            let text = if on { format!("Tag {tag} added.") } else { format!("Tag {tag} removed.") };
            flash(&session, "ok", text).await;
        }
        Ok((_, false)) => {}
        Err(crate::tickets::TicketError::Invalid(_)) => {
            flash(&session, "error", "A tag needs letters or digits.").await
        }
        Err(e) => return Err(e.into()),
    }
    Ok(back(number))
}

async fn retry_delivery(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    session: Session,
    Path((number, id)): Path<(i64, i64)>,
) -> Result<Redirect, Error> {
    let t = state.db.ticket(number).await?.ok_or(Error::NotFound)?;
    // The delivery must belong to this ticket: ids from other tickets are refused.
    if !state.db.ticket_deliveries(t.id).await?.iter().any(|d| d.id == id) {
        return Err(Error::NotFound);
    }
    state.db.retry_delivery(id, crate::domain::now()).await?;
    state.tickets.composer.wake();
    flash(&session, "ok", "Delivery queued again.").await;
    Ok(back(number))
}

#[derive(Debug, Deserialize)]
struct LinkForm {
    kind: String,
    r#ref: String,
}

async fn add_link(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(number): Path<i64>,
    Form(f): Form<LinkForm>,
) -> Result<Redirect, Error> {
    match state.tickets.link(number, &f.kind, &f.r#ref, &user.actor()).await {
        Ok(l) => flash(&session, "ok", format!("Linked {} {}.", l.kind.replace('_', " "), l.r#ref)).await,
        Err(TicketError::Invalid(msg)) => {
            flash(&session, "error", capitalise(msg.trim_start_matches("ref: ").trim_start_matches("kind: "))).await
        }
        Err(e) => return Err(e.into()),
    }
    Ok(back(number))
}

async fn remove_link(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path((number, id)): Path<(i64, i64)>,
) -> Result<Redirect, Error> {
    state.tickets.unlink(number, id, &user.actor()).await?;
    flash(&session, "ok", "Link removed.").await;
    Ok(back(number))
}
